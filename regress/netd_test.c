/*
 * netd end to end: two real lethd-netd processes, each started with
 * pipes this test made itself (fd 3 as the parent would hand it, then
 * IMSG_PIPE ends for keyd and minerd and a listening socket), the test
 * playing both fake keyds (signing with fixed keys) and both fake
 * minerds.  One netd dials the other over loopback: WebSocket, the wire
 * handshake through "keyd", records both ways.
 *
 * Also keyd's side of signing: the real lethd-keyd signs handshake
 * labels for netd (rate-limited) and closes the pipe of a netd that asks
 * for an application-message signature.
 *
 * netd chroots and changes uid, so these run as root (else skipped).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"

#ifndef BUILDDIR
#error "BUILDDIR must be defined"
#endif
#define NETD_BIN	BUILDDIR "/lethd-netd"
#define KEYD_BIN	BUILDDIR "/lethd-keyd"

#define T_LOG_MAX	(64 * 1024)	/* log lines kept per node */
#define T_MSGS_MAX	256		/* minerd messages kept per node */
#define T_WAIT_MS	5000		/* for something that must come */
#define T_QUIET_MS	300		/* for something that must not */

struct rmsg {
	uint32_t	 type;
	size_t		 len;
	uint8_t		*data;
	int		 taken;
};

struct node {
	pid_t		 pid;
	int		 ready;
	int		 restarts;	/* IMSG_RESTART_PEER from it */
	struct imsgbuf	 parent;
	struct imsgbuf	 keyd;		/* our fake keyd's end */
	struct imsgbuf	 minerd;	/* our fake minerd's end */
	int		 keyd_open, minerd_open;
	uint16_t	 port;
	uint8_t		 pk[32];
	uint8_t		 sk[64];
	int		 bad_sig;	/* the fake keyd signs wrongly */
	char		 root[64];
	char		 log[T_LOG_MAX];
	size_t		 loglen;
	struct rmsg	 msgs[T_MSGS_MAX];	/* from netd to "minerd" */
	size_t		 nmsgs;
	/* for keyd tests: what keyd answers */
	struct rmsg	 kmsgs[T_MSGS_MAX];
	size_t		 nkmsgs;
};

static struct node	*nodes[4];
static int		 nnodes;

static void
need_root(void)
{
	if (geteuid() != 0)
		atf_tc_skip("netd chroots and drops to nobody: needs root");
	if (getpwnam("nobody") == NULL)
		atf_tc_skip("no user nobody");
	if (access(NETD_BIN, X_OK) == -1)
		atf_tc_fail("%s: %s", NETD_BIN, strerror(errno));
	ATF_REQUIRE(sodium_init() != -1);
}

static void
keypair(struct node *n, uint8_t seedbyte)
{
	uint8_t	 seed[32];

	memset(seed, seedbyte, sizeof(seed));
	ATF_REQUIRE(crypto_sign_seed_keypair(n->pk, n->sk, seed) == 0);
}

static void
base_conf(struct child_init *ci, uint32_t proc, const char *root)
{
	struct passwd	*pw;

	ATF_REQUIRE((pw = getpwnam("nobody")) != NULL);
	memset(ci, 0, sizeof(*ci));
	ci->version = CHILD_INIT_VERSION;
	ci->proc = proc;
	ci->uid = pw->pw_uid;
	ci->gid = pw->pw_gid;
	ci->debug = 1;
	ci->verbose = 1;
	(void)strlcpy(ci->root, root, sizeof(ci->root));
	(void)strlcpy(ci->node_name, "test node", sizeof(ci->node_name));
	ci->net_max_conn = 64;
	ci->net_max_handshakes = 16;
	ci->net_hs_per_addr = 8;
	ci->net_hs_per_subnet = 16;
	ci->net_hs_timeout = 5;
	ci->net_max_message = LETHD_MAX_MESSAGE;
	ci->net_msg_rate = 1000;
	ci->net_ping_interval = 30;
	ci->net_pong_timeout = 10;
	ci->net_max_header = 4096;
	ci->net_session_lifetime = 3600;
	ci->keyd_sign_rate = 100;
}

static void
compose(struct imsgbuf *ib, uint32_t type, int fd, const void *d,
    size_t len)
{
	ATF_REQUIRE(imsg_compose(ib, type, 0, 0, fd, d, len) == 0);
	ATF_REQUIRE(imsgbuf_flush(ib) == 0);
}

/* fork and exec bin with the parent pipe on fd 3 */
static pid_t
spawn(const char *bin, int fd)
{
	pid_t	 pid;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (fd != CHILD_PARENT_FD) {
			if (dup2(fd, CHILD_PARENT_FD) == -1)
				_exit(127);
		} else if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(127);
		closefrom(CHILD_PARENT_FD + 1);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	return (pid);
}

static struct node *
node_new(uint8_t seedbyte)
{
	struct node	*n;

	ATF_REQUIRE((n = calloc(1, sizeof(*n))) != NULL);
	keypair(n, seedbyte);
	(void)strlcpy(n->root, "/tmp/netd_test.XXXXXX", sizeof(n->root));
	ATF_REQUIRE(mkdtemp(n->root) != NULL);
	ATF_REQUIRE(chmod(n->root, 0755) == 0);
	ATF_REQUIRE(nnodes < (int)(sizeof(nodes) / sizeof(nodes[0])));
	nodes[nnodes++] = n;
	return (n);
}

/* A netd with fake keyd and minerd, listening on 127.0.0.1:port. */
static struct node *
netd_start(uint8_t seedbyte, const struct child_init *tweak)
{
	struct node		*n;
	struct child_init	 ci;
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct key_public	 kp;
	struct net_self		 ns;
	uint32_t		 proc;
	int			 pp[2], kp2[2], mp[2], lfd, one = 1;

	n = node_new(seedbyte);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    pp) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    kp2) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    mp) == 0);
	ATF_REQUIRE((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) != -1);
	ATF_REQUIRE(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(listen(lfd, 64) == 0);
	ATF_REQUIRE(getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0);
	n->port = ntohs(sin.sin_port);

	n->pid = spawn(NETD_BIN, pp[1]);
	close(pp[1]);
	ATF_REQUIRE(imsgbuf_init(&n->parent, pp[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&n->keyd, kp2[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&n->minerd, mp[0]) == 0);
	n->keyd_open = n->minerd_open = 1;

	base_conf(&ci, PROC_NETD, n->root);
	if (tweak != NULL) {
		if (tweak->net_hs_per_addr != 0)
			ci.net_hs_per_addr = tweak->net_hs_per_addr;
		if (tweak->net_max_conn != 0)
			ci.net_max_conn = tweak->net_max_conn;
		if (tweak->net_msg_rate != 0)
			ci.net_msg_rate = tweak->net_msg_rate;
		if (tweak->net_session_lifetime != 0)
			ci.net_session_lifetime = tweak->net_session_lifetime;
		if (tweak->net_hs_timeout != 0)
			ci.net_hs_timeout = tweak->net_hs_timeout;
	}
	compose(&n->parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_KEYD;
	compose(&n->parent, IMSG_PIPE, kp2[1], &proc, sizeof(proc));
	proc = PROC_MINERD;
	compose(&n->parent, IMSG_PIPE, mp[1], &proc, sizeof(proc));
	compose(&n->parent, IMSG_NET_LISTEN, lfd, NULL, 0);

	memset(&kp, 0, sizeof(kp));
	kp.has_key = 1;
	memcpy(kp.pk, n->pk, sizeof(kp.pk));
	compose(&n->keyd, IMSG_KEY_PUBLIC, -1, &kp, sizeof(kp));
	memset(&ns, 0, sizeof(ns));
	memcpy(ns.pk, n->pk, sizeof(ns.pk));
	ns.role = ROLE_DUAL;
	(void)snprintf(ns.name, sizeof(ns.name), "node-%02x", seedbyte);
	compose(&n->minerd, IMSG_NET_SELF, -1, &ns, sizeof(ns));
	return (n);
}

/* The fake keyd signs label || hash, as keyd does. */
static void
fake_sign(struct node *n, const struct key_sign_req *req)
{
	struct key_sign_rep	 rep;
	uint8_t			 msg[128];
	const char		*label;
	size_t			 llen;

	memset(&rep, 0, sizeof(rep));
	rep.request = req->request;
	if (req->label == KEY_LABEL_HANDSHAKE_INITIATOR)
		label = KEY_LABEL_HS_INITIATOR_STR;
	else if (req->label == KEY_LABEL_HANDSHAKE_RESPONDER)
		label = KEY_LABEL_HS_RESPONDER_STR;
	else {
		/* netd must never ask for another label */
		fprintf(stderr, "netd asked for label %u\n", req->label);
		abort();
	}
	llen = strlen(label);
	memcpy(msg, label, llen);
	memcpy(msg + llen, req->hash, 64);
	crypto_sign_detached(rep.sig, NULL, msg, llen + 64, n->sk);
	if (n->bad_sig)
		rep.sig[7] ^= 0x10;
	compose(&n->keyd, IMSG_KEY_SIGNATURE, -1, &rep, sizeof(rep));
}

static void
store(struct rmsg *arr, size_t *narr, struct imsg *imsg)
{
	struct rmsg	*m;

	if (*narr >= T_MSGS_MAX)
		return;
	m = &arr[(*narr)++];
	m->type = imsg_get_type(imsg);
	m->len = imsg_get_len(imsg);
	m->data = malloc(m->len + 1);
	ATF_REQUIRE(m->data != NULL);
	if (m->len > 0)
		memcpy(m->data, imsg->data, m->len);
	m->taken = 0;
}

static void
log_add(struct node *n, const char *text)
{
	size_t	 l = strlen(text);

	if (n->loglen + l + 2 >= sizeof(n->log))
		return;
	memcpy(n->log + n->loglen, text, l);
	n->loglen += l;
	n->log[n->loglen++] = '\n';
	n->log[n->loglen] = '\0';
}

/* Read what a pipe has and handle it; 0 on EOF. */
static int
drain(struct node *n, struct imsgbuf *ib)
{
	struct imsg		 imsg;
	struct log_msg		 lm;
	struct key_sign_req	 req;
	ssize_t			 r;

	r = imsgbuf_read(ib);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
		return (0);
	while (imsg_get(ib, &imsg) == 1) {
		if (ib == &n->parent) {
			switch (imsg_get_type(&imsg)) {
			case IMSG_LOG:
				if (imsg_get_data(&imsg, &lm,
				    sizeof(lm)) == 0) {
					lm.text[sizeof(lm.text) - 1] = '\0';
					fprintf(stderr, "[%d] %s\n", n->pid,
					    lm.text);
					log_add(n, lm.text);
				}
				break;
			case IMSG_READY:
				n->ready = 1;
				break;
			case IMSG_RESTART_PEER:
				n->restarts++;
				break;
			}
		} else if (ib == &n->keyd) {
			if (imsg_get_type(&imsg) == IMSG_KEY_SIGN &&
			    imsg_get_data(&imsg, &req, sizeof(req)) == 0)
				fake_sign(n, &req);
			else
				store(n->kmsgs, &n->nkmsgs, &imsg);
		} else
			store(n->msgs, &n->nmsgs, &imsg);
		imsg_free(&imsg);
	}
	return (1);
}

static long long
ms_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Serve every node's pipes for up to ms milliseconds. */
static void
pump(int ms)
{
	struct pollfd	 pfd[4 * 3];
	struct imsgbuf	*ib[4 * 3];
	struct node	*own[4 * 3];
	int		 i, k, np;

	np = 0;
	for (i = 0; i < nnodes; i++) {
		struct node *n = nodes[i];

		if (n->parent.fd != -1) {
			ib[np] = &n->parent;
			own[np++] = n;
		}
		if (n->keyd_open) {
			ib[np] = &n->keyd;
			own[np++] = n;
		}
		if (n->minerd_open) {
			ib[np] = &n->minerd;
			own[np++] = n;
		}
	}
	for (k = 0; k < np; k++) {
		pfd[k].fd = ib[k]->fd;
		pfd[k].events = POLLIN;
	}
	if (poll(pfd, np, ms) <= 0)
		return;
	for (k = 0; k < np; k++) {
		if ((pfd[k].revents & (POLLIN | POLLHUP)) == 0)
			continue;
		if (drain(own[k], ib[k]) == 0) {
			if (ib[k] == &own[k]->keyd)
				own[k]->keyd_open = 0;
			else if (ib[k] == &own[k]->minerd)
				own[k]->minerd_open = 0;
			else
				own[k]->parent.fd = -1;
		}
	}
}

/* A message from netd to "minerd" of type (and key, when pk is set). */
static struct rmsg *
find_msg(struct node *n, uint32_t type, const uint8_t *pk)
{
	size_t	 i;

	for (i = 0; i < n->nmsgs; i++) {
		struct rmsg *m = &n->msgs[i];

		if (m->taken || m->type != type)
			continue;
		if (pk != NULL && (m->len < 32 || memcmp(m->data, pk,
		    32) != 0))
			continue;
		m->taken = 1;
		return (m);
	}
	return (NULL);
}

static struct rmsg *
wait_msg(struct node *n, uint32_t type, const uint8_t *pk, int ms)
{
	struct rmsg	*m;
	long long	 end = ms_now() + ms;

	while ((m = find_msg(n, type, pk)) == NULL && ms_now() < end)
		pump(50);
	return (m);
}

static int
wait_log(struct node *n, const char *s, int ms)
{
	long long	 end = ms_now() + ms;

	while (strstr(n->log, s) == NULL && ms_now() < end)
		pump(50);
	return (strstr(n->log, s) != NULL);
}

static void
quiet(int ms)
{
	long long	 end = ms_now() + ms;

	while (ms_now() < end)
		pump(20);
}

static void
wait_ready(struct node *n)
{
	long long	 end = ms_now() + T_WAIT_MS;

	while (!n->ready && ms_now() < end)
		pump(50);
	ATF_REQUIRE_MSG(n->ready, "child did not become ready");
	/* let it take the pipes and the key */
	quiet(50);
}

static void
key_add(struct node *n, const uint8_t *pk)
{
	struct net_key	 nk;

	memcpy(nk.pk, pk, sizeof(nk.pk));
	compose(&n->minerd, IMSG_NET_KEY_ADD, -1, &nk, sizeof(nk));
}

static void
dial(struct node *from, struct node *to, const uint8_t *pin)
{
	struct net_dial	 nd;

	memset(&nd, 0, sizeof(nd));
	memcpy(nd.pk, pin, sizeof(nd.pk));
	(void)strlcpy(nd.host, "127.0.0.1", sizeof(nd.host));
	nd.port = to->port;
	compose(&from->minerd, IMSG_NET_DIAL, -1, &nd, sizeof(nd));
}

static void
send_msg(struct node *from, const uint8_t *to_pk, const char *s)
{
	struct net_msg	 nm;
	uint8_t		 buf[sizeof(nm) + 256];
	size_t		 l = strlen(s);

	memset(&nm, 0, sizeof(nm));
	memcpy(nm.pk, to_pk, sizeof(nm.pk));
	nm.len = l;
	memcpy(buf, &nm, sizeof(nm));
	memcpy(buf + sizeof(nm), s, l);
	compose(&from->minerd, IMSG_NET_SEND, -1, buf, sizeof(nm) + l);
}

/* The bytes of an IMSG_NET_RECV equal s, with these flags. */
static void
check_recv(struct rmsg *m, const char *s, uint32_t flags)
{
	struct net_msg	 nm;

	ATF_REQUIRE(m != NULL);
	ATF_REQUIRE(m->len >= sizeof(nm));
	memcpy(&nm, m->data, sizeof(nm));
	ATF_CHECK_EQ(nm.len, m->len - sizeof(nm));
	ATF_CHECK_EQ(nm.flags, flags);
	ATF_CHECK_EQ(nm.len, strlen(s));
	ATF_CHECK(memcmp(m->data + sizeof(nm), s, strlen(s)) == 0);
}

static uint32_t
up_flags(struct rmsg *m)
{
	struct net_up	 up;

	ATF_REQUIRE(m != NULL);
	ATF_REQUIRE_EQ(m->len, sizeof(up));
	memcpy(&up, m->data, sizeof(up));
	return (up.flags);
}

/* Every child still alive (no crash, no seccomp kill), then stopped. */
static void
stop_all(void)
{
	int	 i, st;
	pid_t	 r;

	for (i = 0; i < nnodes; i++) {
		struct node *n = nodes[i];

		r = waitpid(n->pid, &st, WNOHANG);
		ATF_CHECK_MSG(r == 0, "child %d exited early (status %#x)",
		    n->pid, st);
		if (r == 0) {
			(void)kill(n->pid, SIGTERM);
			(void)waitpid(n->pid, &st, 0);
		}
		(void)rmdir(n->root);
	}
	nnodes = 0;
}

/* A and B, each with the other's key in its registry. */
static void
pair_of_nodes(struct node **a, struct node **b, int b_knows_a)
{
	*a = netd_start(0xa1, NULL);
	*b = netd_start(0xb2, NULL);
	wait_ready(*a);
	wait_ready(*b);
	key_add(*a, (*b)->pk);
	if (b_knows_a)
		key_add(*b, (*a)->pk);
}

ATF_TC_WITHOUT_HEAD(dialled_session_comes_up_and_carries_messages);
ATF_TC_BODY(dialled_session_comes_up_and_carries_messages, tc)
{
	struct node	*a, *b;
	struct rmsg	*m;

	need_root();
	pair_of_nodes(&a, &b, 1);
	dial(a, b, b->pk);
	m = wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS);
	ATF_REQUIRE_MSG(m != NULL, "no IMSG_NET_UP at the dialler");
	ATF_CHECK_EQ(up_flags(m), NET_UP_INITIATOR);
	m = wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS);
	ATF_REQUIRE_MSG(m != NULL, "no IMSG_NET_UP at the responder");
	ATF_CHECK_EQ(up_flags(m), 0);

	send_msg(a, b->pk, "hello from a");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS),
	    "hello from a", 0);
	send_msg(b, a->pk, "and back from b");
	check_recv(wait_msg(a, IMSG_NET_RECV, b->pk, T_WAIT_MS),
	    "and back from b", 0);

	/* no session: minerd hears so at once */
	send_msg(a, a->pk, "to nobody");
	m = wait_msg(a, IMSG_NET_DOWN, a->pk, T_WAIT_MS);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK(strstr((char *)m->data + 32, "not connected") != NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(unknown_key_is_refused);
ATF_TC_BODY(unknown_key_is_refused, tc)
{
	struct node	*a, *b;

	need_root();
	pair_of_nodes(&a, &b, 0);
	dial(a, b, b->pk);
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_log(b, "unknown key ", T_WAIT_MS));
	ATF_CHECK(strstr(b->log, " from 127.0.0.1:") != NULL);
	quiet(T_QUIET_MS);
	/* the initiator is done after HS3 and may have seen its session
	 * up for a moment; the responder never lets it in */
	ATF_CHECK(find_msg(b, IMSG_NET_UP, NULL) == NULL);
	ATF_CHECK(find_msg(b, IMSG_NET_RECV, NULL) == NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(pinned_key_mismatch_is_refused);
ATF_TC_BODY(pinned_key_mismatch_is_refused, tc)
{
	struct node	*a, *b;
	uint8_t		 other[32];

	need_root();
	pair_of_nodes(&a, &b, 1);
	memcpy(other, b->pk, sizeof(other));
	other[0] ^= 1;
	dial(a, b, other);
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, other, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_log(a, "presented key", T_WAIT_MS));
	ATF_CHECK(strstr(a->log, ": refusing") != NULL);
	quiet(T_QUIET_MS);
	ATF_CHECK(find_msg(a, IMSG_NET_UP, NULL) == NULL);
	ATF_CHECK(find_msg(b, IMSG_NET_UP, NULL) == NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(bad_signature_in_hs2_is_refused);
ATF_TC_BODY(bad_signature_in_hs2_is_refused, tc)
{
	struct node	*a, *b;

	need_root();
	pair_of_nodes(&a, &b, 1);
	b->bad_sig = 1;
	dial(a, b, b->pk);
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_log(a, "handshake: ", T_WAIT_MS));
	quiet(T_QUIET_MS);
	ATF_CHECK(find_msg(a, IMSG_NET_UP, NULL) == NULL);
	ATF_CHECK(find_msg(b, IMSG_NET_UP, NULL) == NULL);
	stop_all();
}

static void
open_pairing(struct node *n)
{
	struct net_pairing	 np;

	np.until_ms = (int64_t)time(NULL) * 1000 + 60 * 1000;
	compose(&n->minerd, IMSG_NET_PAIRING, -1, &np, sizeof(np));
}

ATF_TC_WITHOUT_HEAD(pairing_pending_session_passes_exactly_one_message);
ATF_TC_BODY(pairing_pending_session_passes_exactly_one_message, tc)
{
	struct node	*a, *b;
	struct rmsg	*m;

	need_root();
	pair_of_nodes(&a, &b, 0);
	open_pairing(b);
	quiet(50);
	dial(a, b, b->pk);
	ATF_REQUIRE(wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS) != NULL);
	m = wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(up_flags(m), NET_UP_PAIRING);

	send_msg(a, b->pk, "pair me");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS), "pair me",
	    NET_MSG_PAIRING);
	send_msg(a, b->pk, "one more");
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_msg(b, IMSG_NET_DOWN, a->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(strstr(b->log, "second message") != NULL);
	ATF_CHECK(find_msg(b, IMSG_NET_RECV, NULL) == NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(pairing_session_becomes_normal_when_key_is_added);
ATF_TC_BODY(pairing_session_becomes_normal_when_key_is_added, tc)
{
	struct node	*a, *b;
	struct rmsg	*m;

	need_root();
	pair_of_nodes(&a, &b, 0);
	open_pairing(b);
	quiet(50);
	dial(a, b, b->pk);
	ATF_REQUIRE(wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS) != NULL);
	ATF_REQUIRE(wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS) != NULL);
	send_msg(a, b->pk, "pair me");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS), "pair me",
	    NET_MSG_PAIRING);
	/* b's minerd accepts the key: the session is a normal one */
	key_add(b, a->pk);
	m = wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(up_flags(m), 0);
	send_msg(b, a->pk, "pair_ack");
	check_recv(wait_msg(a, IMSG_NET_RECV, b->pk, T_WAIT_MS), "pair_ack",
	    0);
	send_msg(a, b->pk, "second");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS), "second", 0);
	ATF_CHECK(find_msg(b, IMSG_NET_DOWN, NULL) == NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(simultaneous_dials_leave_one_session);
ATF_TC_BODY(simultaneous_dials_leave_one_session, tc)
{
	struct node	*a, *b;
	int		 i;

	need_root();
	pair_of_nodes(&a, &b, 1);
	dial(a, b, b->pk);
	dial(b, a, a->pk);
	ATF_REQUIRE(wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS) != NULL);
	ATF_REQUIRE(wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS) != NULL);
	quiet(500);
	/* at most a DOWN/UP pair if the loser was announced first; in the
	 * end one session, and it works both ways */
	for (i = 0; i < 2; i++) {
		(void)find_msg(a, IMSG_NET_DOWN, NULL);
		(void)find_msg(b, IMSG_NET_DOWN, NULL);
		(void)find_msg(a, IMSG_NET_UP, NULL);
		(void)find_msg(b, IMSG_NET_UP, NULL);
	}
	send_msg(a, b->pk, "after the race");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS),
	    "after the race", 0);
	send_msg(b, a->pk, "both ways");
	check_recv(wait_msg(a, IMSG_NET_RECV, b->pk, T_WAIT_MS), "both ways",
	    0);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(hangup_closes_the_session_on_both_sides);
ATF_TC_BODY(hangup_closes_the_session_on_both_sides, tc)
{
	struct node	*a, *b;
	struct net_key	 nk;

	need_root();
	pair_of_nodes(&a, &b, 1);
	dial(a, b, b->pk);
	ATF_REQUIRE(wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS) != NULL);
	ATF_REQUIRE(wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS) != NULL);
	memcpy(nk.pk, b->pk, sizeof(nk.pk));
	compose(&a->minerd, IMSG_NET_HANGUP, -1, &nk, sizeof(nk));
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_msg(b, IMSG_NET_DOWN, a->pk, T_WAIT_MS) != NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(handshakes_over_the_per_address_limit_are_refused);
ATF_TC_BODY(handshakes_over_the_per_address_limit_are_refused, tc)
{
	struct node		*a, *b;
	struct child_init	 tw;
	struct sockaddr_in	 sin;
	int			 s[3], i;
	char			 c;

	need_root();
	a = netd_start(0xa1, NULL);
	memset(&tw, 0, sizeof(tw));
	tw.net_hs_per_addr = 2;
	tw.net_max_conn = 64;
	b = netd_start(0xb2, &tw);
	wait_ready(a);
	wait_ready(b);
	key_add(a, b->pk);
	key_add(b, a->pk);

	/* two silent connections from 127.0.0.2 take its slots */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(b->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 3; i++) {
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000002);
		ATF_REQUIRE((s[i] = socket(AF_INET, SOCK_STREAM, 0)) != -1);
		ATF_REQUIRE(bind(s[i], (struct sockaddr *)&src,
		    sizeof(src)) == 0);
		ATF_REQUIRE(connect(s[i], (struct sockaddr *)&sin,
		    sizeof(sin)) == 0);
		quiet(50);
	}
	/* the third is closed at once */
	ATF_CHECK(wait_log(b, "handshakes from its address", T_WAIT_MS));
	ATF_CHECK_EQ(read(s[2], &c, 1), 0);
	/* and a known peer from elsewhere still gets through */
	dial(a, b, b->pk);
	ATF_CHECK(wait_msg(a, IMSG_NET_UP, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_msg(b, IMSG_NET_UP, a->pk, T_WAIT_MS) != NULL);
	for (i = 0; i < 3; i++)
		close(s[i]);
	stop_all();
}

/* Two nodes with a session from a to b; b started with tweak. */
static void
session_with(struct node **a, struct node **b, const struct child_init *tw)
{
	*a = netd_start(0xa1, NULL);
	*b = netd_start(0xb2, tw);
	wait_ready(*a);
	wait_ready(*b);
	key_add(*a, (*b)->pk);
	key_add(*b, (*a)->pk);
	dial(*a, *b, (*b)->pk);
	ATF_REQUIRE(wait_msg(*a, IMSG_NET_UP, (*b)->pk, T_WAIT_MS) != NULL);
	ATF_REQUIRE(wait_msg(*b, IMSG_NET_UP, (*a)->pk, T_WAIT_MS) != NULL);
}

ATF_TC_WITHOUT_HEAD(peer_over_the_message_rate_is_closed);
ATF_TC_BODY(peer_over_the_message_rate_is_closed, tc)
{
	struct node		*a, *b;
	struct child_init	 tw;
	int			 i;

	need_root();
	memset(&tw, 0, sizeof(tw));
	tw.net_msg_rate = 5;
	session_with(&a, &b, &tw);
	for (i = 0; i < 20; i++)
		send_msg(a, b->pk, "flood");
	ATF_CHECK(wait_msg(b, IMSG_NET_DOWN, a->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS) != NULL);
	ATF_CHECK(strstr(b->log, "over the message rate") != NULL);
	/* at most a second's worth reached minerd */
	for (i = 0; find_msg(b, IMSG_NET_RECV, NULL) != NULL; i++)
		;
	ATF_CHECK(i >= 1 && i <= 6);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(session_rekeys_when_its_lifetime_runs_out);
ATF_TC_BODY(session_rekeys_when_its_lifetime_runs_out, tc)
{
	struct node		*a, *b;
	struct child_init	 tw;

	need_root();
	memset(&tw, 0, sizeof(tw));
	tw.net_session_lifetime = 1;	/* under lethd.conf's minimum */
	session_with(&a, &b, &tw);
	send_msg(a, b->pk, "before");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS), "before", 0);
	ATF_CHECK(wait_log(b, "re-keyed", 3000));
	send_msg(b, a->pk, "after b re-keyed");
	check_recv(wait_msg(a, IMSG_NET_RECV, b->pk, T_WAIT_MS),
	    "after b re-keyed", 0);
	send_msg(a, b->pk, "and a still talks");
	check_recv(wait_msg(b, IMSG_NET_RECV, a->pk, T_WAIT_MS),
	    "and a still talks", 0);
	ATF_CHECK(find_msg(a, IMSG_NET_DOWN, NULL) == NULL);
	ATF_CHECK(find_msg(b, IMSG_NET_DOWN, NULL) == NULL);
	stop_all();
}

ATF_TC_WITHOUT_HEAD(dial_to_a_closed_port_reports_down);
ATF_TC_BODY(dial_to_a_closed_port_reports_down, tc)
{
	struct node	*a, *b;
	struct rmsg	*m;
	uint16_t	 port;

	need_root();
	pair_of_nodes(&a, &b, 1);
	/* b's port, once b is gone: nobody listens there */
	port = b->port;
	(void)kill(b->pid, SIGKILL);
	(void)waitpid(b->pid, NULL, 0);
	nnodes--;
	(void)rmdir(b->root);
	b->port = port;
	dial(a, b, b->pk);
	m = wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK(find_msg(a, IMSG_NET_UP, NULL) == NULL);
	/* netd resolves nothing */
	{
		struct net_dial	 nd;

		memset(&nd, 0, sizeof(nd));
		memcpy(nd.pk, b->pk, sizeof(nd.pk));
		(void)strlcpy(nd.host, "localhost", sizeof(nd.host));
		nd.port = port;
		compose(&a->minerd, IMSG_NET_DIAL, -1, &nd, sizeof(nd));
	}
	m = wait_msg(a, IMSG_NET_DOWN, b->pk, T_WAIT_MS);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK(strstr((char *)m->data + 32, "not a numeric address") !=
	    NULL);
	stop_all();
	free(b);
}

ATF_TC_WITHOUT_HEAD(stalled_connection_hits_the_handshake_timeout);
ATF_TC_BODY(stalled_connection_hits_the_handshake_timeout, tc)
{
	struct node		*b;
	struct child_init	 tw;
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	long long		 start, end;
	char			 c;
	int			 s;

	need_root();
	memset(&tw, 0, sizeof(tw));
	tw.net_hs_timeout = 1;
	b = netd_start(0xb2, &tw);
	wait_ready(b);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(b->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	ATF_REQUIRE(connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	/* half an upgrade, then silence */
	ATF_REQUIRE(write(s, "GET /ws HTTP/1.1\r\n", 18) == 18);
	start = ms_now();
	end = start + T_WAIT_MS;
	pfd.fd = s;
	pfd.events = POLLIN;
	while (ms_now() < end) {
		pump(20);
		if (poll(&pfd, 1, 0) == 1)
			break;
	}
	ATF_REQUIRE(pfd.revents != 0);
	ATF_CHECK(read(s, &c, 1) <= 0);
	ATF_CHECK(ms_now() - start < 3000);
	ATF_CHECK(wait_log(b, "127.0.0.1:", T_WAIT_MS));
	close(s);
	stop_all();
}

/*
 * keyd's signing rules, against the real lethd-keyd.
 */

static struct node *
keyd_start(uint32_t sign_rate)
{
	struct node		*n;
	struct child_init	 ci;
	uint32_t		 proc;
	int			 pp[2], np[2], mp[2];
	char			 kdir[PATH_MAX];
	struct passwd		*pw;

	n = node_new(0x01);
	ATF_REQUIRE((pw = getpwnam("nobody")) != NULL);
	(void)snprintf(kdir, sizeof(kdir), "%s/%s", n->root,
	    LETHD_KEY_SUBDIR);
	ATF_REQUIRE(mkdir(kdir, 0700) == 0);
	ATF_REQUIRE(chown(kdir, pw->pw_uid, pw->pw_gid) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    pp) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    np) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    mp) == 0);
	n->pid = spawn(KEYD_BIN, pp[1]);
	close(pp[1]);
	ATF_REQUIRE(imsgbuf_init(&n->parent, pp[0]) == 0);
	/* our "keyd" end is keyd's netd pipe: we play netd */
	ATF_REQUIRE(imsgbuf_init(&n->keyd, np[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&n->minerd, mp[0]) == 0);
	n->keyd_open = n->minerd_open = 1;
	base_conf(&ci, PROC_KEYD, n->root);
	ci.keyd_sign_rate = sign_rate;
	compose(&n->parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_NETD;
	compose(&n->parent, IMSG_PIPE, np[1], &proc, sizeof(proc));
	proc = PROC_MINERD;
	compose(&n->parent, IMSG_PIPE, mp[1], &proc, sizeof(proc));
	wait_ready(n);
	return (n);
}

/* keyd's reply to a request on ib, collected by pump() */
static struct rmsg *
keyd_reply(struct node *n, int from_minerd, uint32_t type)
{
	long long	 end = ms_now() + T_WAIT_MS;
	size_t		 i;

	for (;;) {
		if (from_minerd) {
			for (i = 0; i < n->nmsgs; i++)
				if (!n->msgs[i].taken &&
				    n->msgs[i].type == type) {
					n->msgs[i].taken = 1;
					return (&n->msgs[i]);
				}
		} else {
			for (i = 0; i < n->nkmsgs; i++)
				if (!n->kmsgs[i].taken &&
				    n->kmsgs[i].type == type) {
					n->kmsgs[i].taken = 1;
					return (&n->kmsgs[i]);
				}
		}
		if (ms_now() >= end)
			return (NULL);
		pump(50);
	}
}

static void
keyd_generate(struct node *n, uint8_t pk[32])
{
	struct key_generated	 kg;
	struct rmsg		*m;
	uint32_t		 req = 7;

	compose(&n->minerd, IMSG_KEY_GENERATE, -1, &req, sizeof(req));
	ATF_REQUIRE((m = keyd_reply(n, 1, IMSG_KEY_GENERATED)) != NULL);
	ATF_REQUIRE_EQ(m->len, sizeof(kg));
	memcpy(&kg, m->data, sizeof(kg));
	ATF_REQUIRE_EQ(kg.status, KEYGEN_OK);
	memcpy(pk, kg.pk, 32);
}

static void
keyd_cleanup(struct node *n)
{
	char	 path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", n->root, LETHD_KEY_FILE);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/%s", n->root,
	    LETHD_KEY_SUBDIR);
	(void)rmdir(path);
	(void)rmdir(n->root);
}

static struct key_sign_rep
keyd_ask(struct node *n, int as_minerd, uint32_t request, uint32_t label,
    const uint8_t hash[64])
{
	struct key_sign_req	 req;
	struct key_sign_rep	 rep;
	struct rmsg		*m;

	memset(&req, 0, sizeof(req));
	req.request = request;
	req.label = label;
	memcpy(req.hash, hash, 64);
	compose(as_minerd ? &n->minerd : &n->keyd, IMSG_KEY_SIGN, -1, &req,
	    sizeof(req));
	m = keyd_reply(n, as_minerd, IMSG_KEY_SIGNATURE);
	ATF_REQUIRE_MSG(m != NULL, "no IMSG_KEY_SIGNATURE");
	ATF_REQUIRE_EQ(m->len, sizeof(rep));
	memcpy(&rep, m->data, sizeof(rep));
	ATF_CHECK_EQ(rep.request, request);
	return (rep);
}

static int
verify(const uint8_t pk[32], const char *label, const uint8_t hash[64],
    const uint8_t sig[64])
{
	uint8_t	 msg[128];
	size_t	 l = strlen(label);

	memcpy(msg, label, l);
	memcpy(msg + l, hash, 64);
	return (crypto_sign_verify_detached(sig, msg, l + 64, pk));
}

ATF_TC_WITHOUT_HEAD(keyd_signs_handshakes_for_netd_and_messages_for_minerd);
ATF_TC_BODY(keyd_signs_handshakes_for_netd_and_messages_for_minerd, tc)
{
	struct node		*n;
	struct key_sign_rep	 rep;
	uint8_t			 pk[32], hash[64];

	need_root();
	n = keyd_start(100);
	memset(hash, 0x5a, sizeof(hash));
	/* no key yet */
	rep = keyd_ask(n, 0, 1, KEY_LABEL_HANDSHAKE_INITIATOR, hash);
	ATF_CHECK_EQ(rep.status, KEYSIGN_NOKEY);
	keyd_generate(n, pk);
	rep = keyd_ask(n, 0, 2, KEY_LABEL_HANDSHAKE_RESPONDER, hash);
	ATF_REQUIRE_EQ(rep.status, KEYSIGN_OK);
	ATF_CHECK(verify(pk, KEY_LABEL_HS_RESPONDER_STR, hash, rep.sig) == 0);
	ATF_CHECK(verify(pk, KEY_LABEL_HS_INITIATOR_STR, hash, rep.sig) != 0);
	rep = keyd_ask(n, 1, 3, KEY_LABEL_MESSAGE, hash);
	ATF_REQUIRE_EQ(rep.status, KEYSIGN_OK);
	ATF_CHECK(verify(pk, KEY_LABEL_MESSAGE_STR, hash, rep.sig) == 0);
	ATF_CHECK_EQ(n->restarts, 0);
	stop_all();
	keyd_cleanup(n);
}

ATF_TC_WITHOUT_HEAD(keyd_closes_netd_asking_for_a_message_signature);
ATF_TC_BODY(keyd_closes_netd_asking_for_a_message_signature, tc)
{
	struct node		*n;
	struct key_sign_req	 req;
	uint8_t			 pk[32];
	long long		 end;
	size_t			 i;

	need_root();
	n = keyd_start(100);
	keyd_generate(n, pk);
	memset(&req, 0, sizeof(req));
	req.request = 9;
	req.label = KEY_LABEL_MESSAGE;
	compose(&n->keyd, IMSG_KEY_SIGN, -1, &req, sizeof(req));
	end = ms_now() + T_WAIT_MS;
	while ((n->keyd_open || n->restarts == 0) && ms_now() < end)
		pump(50);
	ATF_CHECK_MSG(!n->keyd_open, "keyd kept netd's pipe open");
	ATF_CHECK_EQ(n->restarts, 1);
	for (i = 0; i < n->nkmsgs; i++)
		ATF_CHECK(n->kmsgs[i].type != IMSG_KEY_SIGNATURE);
	ATF_CHECK(strstr(n->log, "forbidden request") != NULL);
	stop_all();
	keyd_cleanup(n);
}

ATF_TC_WITHOUT_HEAD(keyd_closes_minerd_asking_for_a_handshake_signature);
ATF_TC_BODY(keyd_closes_minerd_asking_for_a_handshake_signature, tc)
{
	struct node		*n;
	struct key_sign_req	 req;
	uint8_t			 pk[32];
	long long		 end;

	need_root();
	n = keyd_start(100);
	keyd_generate(n, pk);
	memset(&req, 0, sizeof(req));
	req.request = 9;
	req.label = KEY_LABEL_HANDSHAKE_INITIATOR;
	compose(&n->minerd, IMSG_KEY_SIGN, -1, &req, sizeof(req));
	end = ms_now() + T_WAIT_MS;
	while ((n->minerd_open || n->restarts == 0) && ms_now() < end)
		pump(50);
	ATF_CHECK(!n->minerd_open);
	ATF_CHECK_EQ(n->restarts, 1);
	stop_all();
	keyd_cleanup(n);
}

ATF_TC_WITHOUT_HEAD(keyd_rate_limits_netd_signatures);
ATF_TC_BODY(keyd_rate_limits_netd_signatures, tc)
{
	struct node		*n;
	struct key_sign_rep	 rep;
	uint8_t			 pk[32], hash[64];
	int			 i, ok = 0, rate = 0;

	need_root();
	n = keyd_start(3);
	keyd_generate(n, pk);
	memset(hash, 0x11, sizeof(hash));
	for (i = 0; i < 10; i++) {
		rep = keyd_ask(n, 0, 100 + i, KEY_LABEL_HANDSHAKE_INITIATOR,
		    hash);
		if (rep.status == KEYSIGN_OK)
			ok++;
		else if (rep.status == KEYSIGN_RATE)
			rate++;
	}
	ATF_CHECK(ok >= 3 && ok <= 5);
	ATF_CHECK_EQ(ok + rate, 10);
	ATF_CHECK(wait_log(n, "handshake signatures a second", T_WAIT_MS));
	/* minerd is not limited by netd's rate */
	rep = keyd_ask(n, 1, 200, KEY_LABEL_MESSAGE, hash);
	ATF_CHECK_EQ(rep.status, KEYSIGN_OK);
	ATF_CHECK(n->keyd_open);
	stop_all();
	keyd_cleanup(n);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, dialled_session_comes_up_and_carries_messages);
	ATF_TP_ADD_TC(tp, unknown_key_is_refused);
	ATF_TP_ADD_TC(tp, pinned_key_mismatch_is_refused);
	ATF_TP_ADD_TC(tp, bad_signature_in_hs2_is_refused);
	ATF_TP_ADD_TC(tp, pairing_pending_session_passes_exactly_one_message);
	ATF_TP_ADD_TC(tp, pairing_session_becomes_normal_when_key_is_added);
	ATF_TP_ADD_TC(tp, simultaneous_dials_leave_one_session);
	ATF_TP_ADD_TC(tp, hangup_closes_the_session_on_both_sides);
	ATF_TP_ADD_TC(tp, handshakes_over_the_per_address_limit_are_refused);
	ATF_TP_ADD_TC(tp, peer_over_the_message_rate_is_closed);
	ATF_TP_ADD_TC(tp, session_rekeys_when_its_lifetime_runs_out);
	ATF_TP_ADD_TC(tp, dial_to_a_closed_port_reports_down);
	ATF_TP_ADD_TC(tp, stalled_connection_hits_the_handshake_timeout);
	ATF_TP_ADD_TC(tp,
	    keyd_signs_handshakes_for_netd_and_messages_for_minerd);
	ATF_TP_ADD_TC(tp, keyd_closes_netd_asking_for_a_message_signature);
	ATF_TP_ADD_TC(tp,
	    keyd_closes_minerd_asking_for_a_handshake_signature);
	ATF_TP_ADD_TC(tp, keyd_rate_limits_netd_signatures);
	return (atf_no_error());
}
