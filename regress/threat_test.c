/*
 * Threat tests (DESIGN, Invariant 3): a compromised netd can drop or
 * delay traffic, never forge, alter or replay a command or a response.
 *
 * This program plays the parent and a compromised netd.  It starts the
 * real lethd-keyd and lethd-minerd with pipes it made itself (fd 3 the
 * parent pipe, the child_init, IMSG_PIPE ends to the siblings, as
 * parent/child.c does), reports one running miner to minerd as the
 * parent would, and records every IMSG_MINER_SPAWN, _STOP and _RESTART
 * minerd asks for.  It holds the worker's pipes to netd: what it
 * delivers with IMSG_NET_RECV is what a netd may deliver, and what
 * minerd answers with IMSG_NET_SEND is checked against the worker's
 * public key.
 *
 * The worker's key is made by keyd (this program never sees it).  The
 * controllers' keys (C1 operator, C2 observer) and a pinned worker's
 * (W3) are made here only to produce the genuine traffic an attacker
 * could capture on the wire: genuine() is the only function that uses
 * a secret key of theirs.  The attacks work on captured bytes, or sign
 * with keys of their own.
 *
 * Everything runs as root (chroot, the lethd users), else skipped.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "msg.h"
#include "peer.h"
#include "profile.h"

#ifndef BUILDDIR
#error "BUILDDIR must be defined"
#endif
#define KEYD_BIN	BUILDDIR "/lethd-keyd"
#define MINERD_BIN	BUILDDIR "/lethd-minerd"

#define T_WAIT_MS	8000		/* for something that must come */
#define T_QUIET_MS	300		/* for something that must not */
#define T_LOG_MAX	(512 * 1024)	/* both children's log lines */
#define T_SENT_MAX	512		/* minerd's IMSG_NET_SEND kept */
#define T_PREQ_MAX	64		/* minerd's miner requests kept */
#define T_WINDOW	120		/* msg_ts_window, seconds */
#define T_CACHE_BIG	4096		/* replay cache, most cases */
#define T_CACHE_SMALL	16		/* replay cache, the flood case */
#define T_FLOOD		(3 * T_CACHE_SMALL)	/* ids in the flood */
#define T_ROOT_FILE	"threat.root"	/* the temp dir, for cleanup */
#define T_RIG		"rig0"		/* the miner running all along */
#define T_PROFILE	"p1"		/* a profile on the worker */

/* A node's identity (the worker's has no secret key here). */
struct ident {
	uint8_t		 pk[32];
	uint8_t		 sk[64];
	char		 id[NODE_ID_LEN + 1];
	const char	*name;
};

/* Signed message bytes, as they travel: signature || body. */
struct wire {
	uint8_t		*raw;
	size_t		 len;
	char		 id[MSG_UUID_LEN + 1];
	size_t		 sent_from;	/* w.nsent at the last delivery */
};

/* What minerd sent netd, checked against the worker's key. */
struct sent {
	uint8_t		 to_pk[32];
	int		 verified;
	const char	*why;		/* when not */
	struct msg	 m;
};

/* What minerd asked the parent for. */
struct preq {
	uint32_t	 type;
	uint32_t	 slot;
	char		 name[MINER_NAME_MAX + 1];
	char		 profile[PROFILE_ID_MAX + 1];
};

struct child {
	const char	*name;
	pid_t		 pid;
	struct imsgbuf	 parent;
	int		 open;
	int		 ready;
	int		 restart_peer[PROC_MAX];	/* IMSG_RESTART_PEER */
};

static struct {
	char		 root[64];
	char		 keyroot[PATH_MAX];
	char		 statedir[PATH_MAX];
	uid_t		 kuid, muid;
	gid_t		 kgid, mgid;
	uint32_t	 replay_max;

	struct child	 keyd, minerd;
	struct imsgbuf	 nk;		/* our (netd's) end to keyd */
	int		 nk_open;
	struct imsgbuf	 nm;		/* our (netd's) end to minerd */
	int		 nm_open;
	struct imsgbuf	 gen;		/* a first "minerd" end to keyd */
	int		 gen_open;

	struct ident	 worker, c1, c2, w3;
	int		 have_worker;
	int		 self_seen;	/* IMSG_NET_SELF with the key */

	char		 log[T_LOG_MAX];
	size_t		 loglen;
	struct sent	 sent[T_SENT_MAX];
	size_t		 nsent;
	struct preq	 preq[T_PREQ_MAX];
	size_t		 npreq;
	int		 nk_signatures;	/* IMSG_KEY_SIGNATURE to "netd" */
	struct key_sign_rep nk_last;
	struct miner_record records[MINER_SLOTS_MAX];
	int		 nrecords;
} w;

/*
 * Plumbing.
 */

static long long
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static long long
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
compose(struct imsgbuf *ib, uint32_t type, int fd, const void *d,
    size_t len)
{
	ATF_REQUIRE(imsg_compose(ib, type, 0, 0, fd, d, len) == 0);
	ATF_REQUIRE(imsgbuf_flush(ib) == 0);
}

static void
log_add(const char *who, const char *text)
{
	int	 n;

	fprintf(stderr, "%s: %s\n", who, text);
	n = snprintf(w.log + w.loglen, sizeof(w.log) - w.loglen, "%s: %s\n",
	    who, text);
	if (n > 0 && (size_t)n < sizeof(w.log) - w.loglen)
		w.loglen += n;
}

static void
hexid(const uint8_t pk[32], char id[NODE_ID_LEN + 1])
{
	(void)sodium_bin2hex(id, NODE_ID_LEN + 1, pk, NODE_ID_LEN / 2);
}

/* A record of what the parent holds for a miner: all minerd adopts. */
static void
record_set(uint32_t slot, const char *name, const char *driver,
    const char *profile, uint16_t api_port, const char *token)
{
	struct miner_record	*r = &w.records[slot];

	memset(r, 0, sizeof(*r));
	r->slot = slot;
	r->pid = getpid();	/* minerd never signals a miner */
	r->pgid = getpid();
	r->started = wall_ms();
	r->state = MINER_RUNNING;
	(void)strlcpy(r->name, name, sizeof(r->name));
	(void)strlcpy(r->driver, driver, sizeof(r->driver));
	(void)strlcpy(r->profile, profile, sizeof(r->profile));
	r->api_port = api_port;
	(void)strlcpy(r->api_token, token, sizeof(r->api_token));
	if ((int)slot >= w.nrecords)
		w.nrecords = slot + 1;
}

/* As the parent does: a spawn that it would allow runs at once. */
static void
parent_spawn(const uint8_t *data, size_t len)
{
	struct miner_spawn	 sp;

	if (len < sizeof(sp))
		return;
	memcpy(&sp, data, sizeof(sp));
	if (sp.slot >= MINER_SLOTS_MAX ||
	    memchr(sp.name, '\0', sizeof(sp.name)) == NULL ||
	    memchr(sp.driver, '\0', sizeof(sp.driver)) == NULL ||
	    memchr(sp.profile, '\0', sizeof(sp.profile)) == NULL ||
	    memchr(sp.api_token, '\0', sizeof(sp.api_token)) == NULL)
		return;
	record_set(sp.slot, sp.name, sp.driver, sp.profile, sp.api_port,
	    sp.api_token);
	if (w.minerd.open)
		compose(&w.minerd.parent, IMSG_MINER_RECORD, -1,
		    &w.records[sp.slot], sizeof(w.records[sp.slot]));
}

static void
preq_add(uint32_t type, const uint8_t *data, size_t len)
{
	struct preq		*p;
	struct miner_spawn	 sp;
	struct miner_slot	 ms;

	if (w.npreq >= T_PREQ_MAX)
		return;
	p = &w.preq[w.npreq++];
	memset(p, 0, sizeof(*p));
	p->type = type;
	if (type == IMSG_MINER_SPAWN && len >= sizeof(sp)) {
		memcpy(&sp, data, sizeof(sp));
		p->slot = sp.slot;
		(void)strlcpy(p->name, sp.name, sizeof(p->name));
		(void)strlcpy(p->profile, sp.profile, sizeof(p->profile));
		fprintf(stderr, "parent: SPAWN slot %u %s (%s)\n", p->slot,
		    p->name, p->profile);
		parent_spawn(data, len);
	} else if (len == sizeof(ms)) {
		memcpy(&ms, data, sizeof(ms));
		p->slot = ms.slot;
		fprintf(stderr, "parent: %s slot %u\n",
		    type == IMSG_MINER_STOP ? "STOP" : "RESTART", p->slot);
	}
}

/* minerd's IMSG_NET_SEND: struct net_msg, signature, body. */
static void
sent_add(const uint8_t *data, size_t len)
{
	struct net_msg		 nm;
	struct msg_verdict	 v;
	struct sent		*s;
	char			 to[NODE_ID_LEN + 1];

	if (w.nsent >= T_SENT_MAX)
		return;
	s = &w.sent[w.nsent++];
	memset(s, 0, sizeof(*s));
	if (len < sizeof(nm)) {
		s->why = "short IMSG_NET_SEND";
		return;
	}
	memcpy(&nm, data, sizeof(nm));
	memcpy(s->to_pk, nm.pk, sizeof(s->to_pk));
	if (nm.len != len - sizeof(nm)) {
		s->why = "IMSG_NET_SEND length mismatch";
		return;
	}
	hexid(nm.pk, to);
	/* the worker's key, the destination, our clock; no floor */
	if (msg_verify(data + sizeof(nm), nm.len, w.worker.pk, to,
	    wall_ms(), 0, T_WINDOW, &s->m, &v) == -1) {
		s->why = v.why;
		fprintf(stderr, "netd: minerd sent a message that does not "
		    "verify: %s\n", v.why);
		return;
	}
	s->verified = 1;
	fprintf(stderr, "netd: minerd sent %s to %s (replyTo %s)\n",
	    s->m.type_str, to, s->m.reply_to);
}

static int
drain(struct imsgbuf *ib)
{
	struct imsg		 imsg;
	struct log_msg		 lm;
	struct key_public	 kp;
	struct key_generated	 kg;
	struct net_self		 ns;
	uint32_t		 type, proc;
	ssize_t			 r;
	size_t			 len;

	r = imsgbuf_read(ib);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
		return (0);
	while (imsg_get(ib, &imsg) == 1) {
		type = imsg_get_type(&imsg);
		len = imsg_get_len(&imsg);
		if (ib == &w.keyd.parent || ib == &w.minerd.parent) {
			struct child *c = ib == &w.keyd.parent ? &w.keyd :
			    &w.minerd;

			switch (type) {
			case IMSG_LOG:
				if (imsg_get_data(&imsg, &lm,
				    sizeof(lm)) == 0) {
					lm.text[sizeof(lm.text) - 1] = '\0';
					log_add(c->name, lm.text);
				}
				break;
			case IMSG_READY:
				c->ready = 1;
				break;
			case IMSG_RESTART_PEER:
				if (imsg_get_data(&imsg, &proc,
				    sizeof(proc)) == 0 && proc < PROC_MAX)
					c->restart_peer[proc]++;
				break;
			case IMSG_MINER_SPAWN:
			case IMSG_MINER_STOP:
			case IMSG_MINER_RESTART:
				preq_add(type, imsg.data, len);
				break;
			default:
				break;
			}
		} else if (ib == &w.nk || ib == &w.gen) {
			if (type == IMSG_KEY_PUBLIC &&
			    imsg_get_data(&imsg, &kp, sizeof(kp)) == 0 &&
			    kp.has_key == 1) {
				memcpy(w.worker.pk, kp.pk, 32);
				hexid(kp.pk, w.worker.id);
				w.have_worker = 1;
			} else if (type == IMSG_KEY_GENERATED &&
			    imsg_get_data(&imsg, &kg, sizeof(kg)) == 0 &&
			    (kg.status == KEYGEN_OK ||
			    kg.status == KEYGEN_EXISTS)) {
				memcpy(w.worker.pk, kg.pk, 32);
				hexid(kg.pk, w.worker.id);
				w.have_worker = 1;
			} else if (type == IMSG_KEY_SIGNATURE && ib == &w.nk) {
				w.nk_signatures++;
				(void)imsg_get_data(&imsg, &w.nk_last,
				    sizeof(w.nk_last));
			}
		} else if (ib == &w.nm) {
			if (type == IMSG_NET_SEND)
				sent_add(imsg.data, len);
			else if (type == IMSG_NET_SELF &&
			    imsg_get_data(&imsg, &ns, sizeof(ns)) == 0 &&
			    w.have_worker && memcmp(ns.pk, w.worker.pk,
			    32) == 0)
				w.self_seen = 1;
		}
		imsg_free(&imsg);
	}
	return (1);
}

/* Serve every pipe for up to ms milliseconds. */
static void
pump(int ms)
{
	struct pollfd	 pfd[5];
	struct imsgbuf	*ib[5];
	int		*open[5];
	int		 k, np = 0;

#define ADD(b, o) do { if (*(o)) { ib[np] = (b); open[np++] = (o); } } \
	while (0)
	ADD(&w.keyd.parent, &w.keyd.open);
	ADD(&w.minerd.parent, &w.minerd.open);
	ADD(&w.nk, &w.nk_open);
	ADD(&w.nm, &w.nm_open);
	ADD(&w.gen, &w.gen_open);
#undef ADD
	for (k = 0; k < np; k++) {
		pfd[k].fd = ib[k]->fd;
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
	}
	if (poll(pfd, np, ms) <= 0)
		return;
	for (k = 0; k < np; k++) {
		if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if (drain(ib[k]) == 0) {
			*open[k] = 0;
			close(ib[k]->fd);
			imsgbuf_clear(ib[k]);
		}
	}
}

static void
pump_for(int ms)
{
	long long	 end = mono_ms() + ms;

	while (mono_ms() < end)
		pump(50);
}

/* Occurrences of s in the log after offset from. */
static int
log_count(size_t from, const char *s)
{
	const char	*p = w.log + from;
	int		 n = 0;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p += strlen(s);
	}
	return (n);
}

/* A line after from holding all of a, b (may be NULL) and c (or NULL). */
static int
log_line(size_t from, const char *a, const char *b, const char *c)
{
	const char	*p = w.log + from, *e;
	char		 line[LOG_MAXLINE + 64];
	size_t		 l;

	while (*p != '\0') {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		l = (size_t)(e - p) < sizeof(line) - 1 ? (size_t)(e - p) :
		    sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		if (strstr(line, a) != NULL &&
		    (b == NULL || strstr(line, b) != NULL) &&
		    (c == NULL || strstr(line, c) != NULL))
			return (1);
		p = *e == '\0' ? e : e + 1;
	}
	return (0);
}

static int
wait_log(size_t from, const char *a, const char *b, const char *c)
{
	long long	 end = mono_ms() + T_WAIT_MS;

	while (!log_line(from, a, b, c) && mono_ms() < end)
		pump(50);
	return (log_line(from, a, b, c));
}

/*
 * The processes.
 */

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

static void
pair(int sp[2])
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sp) == 0);
}

static void
base_conf(struct child_init *ci, uint32_t proc)
{
	memset(ci, 0, sizeof(*ci));
	ci->version = CHILD_INIT_VERSION;
	ci->proc = proc;
	ci->debug = 0;
	ci->verbose = 1;
	ci->parent_start = time(NULL);
	(void)strlcpy(ci->node_name, "worker", sizeof(ci->node_name));
	ci->ctl_max_conn = 4;
	ci->ctl_timeout = 30;
	ci->keyd_sign_rate = 100;
	ci->msg_ts_window = T_WINDOW;
	ci->replay_cache_max = w.replay_max;
	ci->miner_poll = 3600;		/* no polls during a test */
	ci->watchdog_zero = 3600;
	ci->watchdog_api = 3600;
	ci->ring_lines = RING_LINES_DEFAULT;
	ci->ring_bytes = RING_BYTES_DEFAULT;
	ci->history_samples = HISTORY_SAMPLES_DEFAULT;
	ci->history_minutes = HISTORY_MINUTES_DEFAULT;
	ci->history_max_mb = 16;
	ci->miner_stop_grace = MINER_STOP_GRACE;
	ci->select_weight[SELECT_PING] = SELECT_WEIGHT_PING_DEFAULT;
	ci->select_weight[SELECT_HOPS] = SELECT_WEIGHT_HOPS_DEFAULT;
	ci->select_weight[SELECT_GEO] = SELECT_WEIGHT_GEO_DEFAULT;
	ci->select_weight[SELECT_SCORE] = SELECT_WEIGHT_SCORE_DEFAULT;
	ci->select_bound[SELECT_PING] = SELECT_BOUND_PING_DEFAULT;
	ci->select_bound[SELECT_HOPS] = SELECT_BOUND_HOPS_DEFAULT;
	ci->select_bound[SELECT_GEO] = SELECT_BOUND_GEO_DEFAULT;
	ci->select_bound[SELECT_SCORE] = SELECT_BOUND_SCORE_DEFAULT;
	ci->select_ping_interval = 3600;	/* no pings of W3 of its own */
	ci->remote_timeout = REMOTE_TIMEOUT_DEFAULT;
	ci->remote_command_timeout = REMOTE_COMMAND_TIMEOUT_DEFAULT;
}

static void
wait_until(int *flag, const char *what)
{
	long long	 end = mono_ms() + T_WAIT_MS;

	while (!*flag && mono_ms() < end)
		pump(50);
	ATF_REQUIRE_MSG(*flag, "%s", what);
}

/*
 * keyd, as the parent starts it, with its netd end ours.  The node key
 * does not exist yet: keyd makes it when "minerd" asks, over a first
 * minerd pipe this program holds; the real minerd gets the next one.
 */
static void
keyd_start(void)
{
	struct child_init	 ci;
	uint32_t		 proc, req = 1;
	int			 pp[2], np[2], gp[2];

	pair(pp);
	pair(np);
	pair(gp);
	w.keyd.name = "keyd";
	w.keyd.pid = spawn(KEYD_BIN, pp[1]);
	close(pp[1]);
	ATF_REQUIRE(imsgbuf_init(&w.keyd.parent, pp[0]) == 0);
	w.keyd.open = 1;
	ATF_REQUIRE(imsgbuf_init(&w.nk, np[0]) == 0);
	w.nk_open = 1;
	ATF_REQUIRE(imsgbuf_init(&w.gen, gp[0]) == 0);
	w.gen_open = 1;

	base_conf(&ci, PROC_KEYD);
	ci.uid = w.kuid;
	ci.gid = w.kgid;
	(void)strlcpy(ci.root, w.keyroot, sizeof(ci.root));
	compose(&w.keyd.parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_NETD;
	compose(&w.keyd.parent, IMSG_PIPE, np[1], &proc, sizeof(proc));
	proc = PROC_MINERD;
	compose(&w.keyd.parent, IMSG_PIPE, gp[1], &proc, sizeof(proc));
	wait_until(&w.keyd.ready, "keyd is not ready");

	compose(&w.gen, IMSG_KEY_GENERATE, -1, &req, sizeof(req));
	wait_until(&w.have_worker, "keyd made no node key");
	fprintf(stderr, "worker %s\n", w.worker.id);
}

/* A fresh netd end for keyd, as the parent hands after a restart. */
static void
keyd_new_netd_pipe(void)
{
	uint32_t	 proc = PROC_NETD;
	int		 np[2];

	if (w.nk_open) {
		close(w.nk.fd);
		imsgbuf_clear(&w.nk);
	}
	pair(np);
	ATF_REQUIRE(imsgbuf_init(&w.nk, np[0]) == 0);
	w.nk_open = 1;
	compose(&w.keyd.parent, IMSG_PIPE, np[1], &proc, sizeof(proc));
	close(np[1]);
}

/* Sessions netd reports up: the controllers and the pinned worker. */
static void
sessions_up(void)
{
	const struct ident	*ids[] = { &w.c1, &w.c2, &w.w3 };
	struct net_up		 up;
	size_t			 i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(&up, 0, sizeof(up));
		memcpy(up.pk, ids[i]->pk, sizeof(up.pk));
		up.role = ROLE_CONTROLLER;	/* declared: never trusted */
		(void)strlcpy(up.name, ids[i]->name, sizeof(up.name));
		(void)snprintf(up.addr, sizeof(up.addr), "127.0.0.%zu:%u",
		    i + 2, 40000 + (unsigned int)i);
		compose(&w.nm, IMSG_NET_UP, -1, &up, sizeof(up));
	}
}

/*
 * minerd, as the parent starts it: its configuration, the pipes to
 * keyd (new, as child_wire makes them) and to netd (ours), then the
 * records of the running miners.
 */
static void
minerd_start(void)
{
	struct child_init	 ci;
	uint32_t		 proc;
	int			 pp[2], kp[2], np[2], i;

	pair(pp);
	pair(kp);
	pair(np);
	memset(&w.minerd, 0, sizeof(w.minerd));
	w.minerd.name = "minerd";
	w.self_seen = 0;
	w.minerd.pid = spawn(MINERD_BIN, pp[1]);
	close(pp[1]);
	ATF_REQUIRE(imsgbuf_init(&w.minerd.parent, pp[0]) == 0);
	w.minerd.open = 1;
	ATF_REQUIRE(imsgbuf_init(&w.nm, np[0]) == 0);
	w.nm_open = 1;

	/* keyd's new minerd end replaces the one we made the key on */
	proc = PROC_MINERD;
	compose(&w.keyd.parent, IMSG_PIPE, kp[1], &proc, sizeof(proc));
	close(kp[1]);

	base_conf(&ci, PROC_MINERD);
	ci.uid = w.muid;
	ci.gid = w.mgid;
	ci.ctl_gid = w.mgid;
	(void)strlcpy(ci.workdir, w.statedir, sizeof(ci.workdir));
	compose(&w.minerd.parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_KEYD;
	compose(&w.minerd.parent, IMSG_PIPE, kp[0], &proc, sizeof(proc));
	close(kp[0]);
	proc = PROC_NETD;
	compose(&w.minerd.parent, IMSG_PIPE, np[1], &proc, sizeof(proc));
	close(np[1]);
	for (i = 0; i < w.nrecords; i++)
		if (w.records[i].name[0] != '\0')
			compose(&w.minerd.parent, IMSG_MINER_RECORD, -1,
			    &w.records[i], sizeof(w.records[i]));
	wait_until(&w.minerd.ready, "minerd is not ready");
	wait_until(&w.self_seen, "minerd did not declare the node key");
	sessions_up();
	if (w.gen_open) {
		close(w.gen.fd);
		imsgbuf_clear(&w.gen);
		w.gen_open = 0;
	}
}

/* kill -9 minerd, as a crash would, and start a new one. */
static void
minerd_restart(void)
{
	int	 status;

	ATF_REQUIRE(kill(w.minerd.pid, SIGKILL) == 0);
	ATF_REQUIRE(waitpid(w.minerd.pid, &status, 0) == w.minerd.pid);
	if (w.minerd.open) {
		close(w.minerd.parent.fd);
		imsgbuf_clear(&w.minerd.parent);
	}
	if (w.nm_open) {
		close(w.nm.fd);
		imsgbuf_clear(&w.nm);
		w.nm_open = 0;
	}
	/* a ms later at least, so that the floor is after every ts */
	usleep(10 * 1000);
	minerd_start();
}

static void
ident_new(struct ident *id, const char *name)
{
	crypto_sign_keypair(id->pk, id->sk);
	hexid(id->pk, id->id);
	id->name = name;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)remove(path);
	return (0);
}

static void
write_file(const char *dir, const char *name, const char *text,
    uid_t uid, gid_t gid)
{
	char	 path[PATH_MAX];
	int	 fd;

	ATF_REQUIRE((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    name) < sizeof(path));
	ATF_REQUIRE((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
	    -1);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	ATF_REQUIRE(fchown(fd, uid, gid) == 0);
	close(fd);
}

static json_t *
peer_entry(const struct ident *id, const char *address, int pinned,
    const char *access)
{
	char	 b64[sodium_base64_ENCODED_LEN(32,
		    sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), id->pk, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	return (json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:[],s:I}", "id", id->id,
	    "name", id->name, "address", address, "publicKey", b64,
	    "pinned", pinned, "access", access, "tags",
	    "added", (json_int_t)1700000000000LL));
}

/*
 * The worker: its state directory (peers.json: C1 operator, C2
 * observer, W3 pinned with no access; one profile), keyd, minerd, one
 * miner running.
 */
static void
world_start(uint32_t replay_max)
{
	struct passwd	*pw;
	json_t		*j;
	char		*text, kdir[PATH_MAX];
	int		 fd;

	if (geteuid() != 0)
		atf_tc_skip("the children chroot and change uid: needs root");
	if (access(KEYD_BIN, X_OK) == -1 || access(MINERD_BIN, X_OK) == -1)
		atf_tc_fail("%s or %s: %s", KEYD_BIN, MINERD_BIN,
		    strerror(errno));
	ATF_REQUIRE(sodium_init() != -1);
	signal(SIGPIPE, SIG_IGN);
	memset(&w, 0, sizeof(w));
	w.replay_max = replay_max;
	if ((pw = getpwnam(LETHD_USER_KEYD)) == NULL)
		atf_tc_skip("no user %s", LETHD_USER_KEYD);
	w.kuid = pw->pw_uid;
	w.kgid = pw->pw_gid;
	if ((pw = getpwnam(LETHD_USER_MINERD)) == NULL)
		atf_tc_skip("no user %s", LETHD_USER_MINERD);
	w.muid = pw->pw_uid;
	w.mgid = pw->pw_gid;

	(void)strlcpy(w.root, "/tmp/threat_test.XXXXXX", sizeof(w.root));
	ATF_REQUIRE(mkdtemp(w.root) != NULL);
	ATF_REQUIRE(chmod(w.root, 0755) == 0);
	ATF_REQUIRE((fd = open(T_ROOT_FILE, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) != -1);
	ATF_REQUIRE(write(fd, w.root, strlen(w.root)) ==
	    (ssize_t)strlen(w.root));
	close(fd);
	(void)snprintf(w.keyroot, sizeof(w.keyroot), "%s/%s", w.root,
	    LETHD_KEYD_DIR);
	ATF_REQUIRE(mkdir(w.keyroot, 0711) == 0);
	ATF_REQUIRE((size_t)snprintf(kdir, sizeof(kdir), "%s/%s", w.keyroot,
	    LETHD_KEY_SUBDIR) < sizeof(kdir));
	ATF_REQUIRE(mkdir(kdir, 0700) == 0);
	ATF_REQUIRE(chown(kdir, w.kuid, w.kgid) == 0);
	(void)snprintf(w.statedir, sizeof(w.statedir), "%s/%s", w.root,
	    LETHD_STATE_DIR);
	ATF_REQUIRE(mkdir(w.statedir, 0700) == 0);
	ATF_REQUIRE(chown(w.statedir, w.muid, w.mgid) == 0);

	ident_new(&w.c1, "c1-operator");
	ident_new(&w.c2, "c2-observer");
	ident_new(&w.w3, "w3-worker");
	j = json_pack("{s:i,s:[o,o,o]}", "version", PEERS_FORMAT_VERSION,
	    "peers", peer_entry(&w.c1, "", 0, "operator"),
	    peer_entry(&w.c2, "", 0, "observer"),
	    peer_entry(&w.w3, "127.0.0.1:9", 1, "none"));
	ATF_REQUIRE(j != NULL);
	ATF_REQUIRE((text = json_dumps(j, JSON_INDENT(2))) != NULL);
	write_file(w.statedir, "peers.json", text, w.muid, w.mgid);
	free(text);
	json_decref(j);
	j = json_pack("{s:i,s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}]}",
	    "version", PROFILES_FORMAT_VERSION, "profiles", "id", T_PROFILE,
	    "type", "xmrig", "binary", "xmrig", "pool",
	    "stratum+tcp://127.0.0.1:3333", "user", "wallet", "pass", "x",
	    "algo", "rx/0", "autostart", 0);
	ATF_REQUIRE(j != NULL);
	ATF_REQUIRE((text = json_dumps(j, JSON_INDENT(2))) != NULL);
	write_file(w.statedir, "profiles.json", text, w.muid, w.mgid);
	free(text);
	json_decref(j);

	/* the parent's record of the miner that runs all along */
	record_set(0, T_RIG, "xmrig", T_PROFILE, 1, "00112233445566778899"
	    "aabbccddeeff0011");

	keyd_start();
	minerd_start();
	ATF_REQUIRE(wait_log(0, "minerd: miner " T_RIG ": adopted", NULL,
	    NULL));
}

static void
world_stop(void)
{
	int	 status;

	if (w.minerd.pid > 0 && kill(w.minerd.pid, SIGTERM) == 0)
		(void)waitpid(w.minerd.pid, &status, 0);
	if (w.keyd.pid > 0 && kill(w.keyd.pid, SIGTERM) == 0)
		(void)waitpid(w.keyd.pid, &status, 0);
	(void)nftw(w.root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
world_cleanup(void)
{
	char	 root[64];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(T_ROOT_FILE, O_RDONLY)) == -1)
		return;
	n = read(fd, root, sizeof(root) - 1);
	close(fd);
	if (n <= 0)
		return;
	root[n] = '\0';
	if (strncmp(root, "/tmp/threat_test.", 17) == 0)
		(void)nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Traffic.
 */

/*
 * Genuine traffic: the bytes a real node's minerd builds and its keyd
 * signs, as an attacker would capture them on the wire.  The only use
 * of a secret key other than the attacker's own.
 */
static struct wire *
genuine(const struct ident *from, enum msg_type type, const char *to,
    long long ts, const char *reply_to, json_t *payload)
{
	struct wire	*x;
	uint8_t		 signed_msg[64 + MSG_HASH_LEN], *body;
	size_t		 l = strlen(KEY_LABEL_MESSAGE_STR), blen;

	ATF_REQUIRE((x = calloc(1, sizeof(*x))) != NULL);
	body = msg_build(type, from->id, to != NULL ? to : w.worker.id,
	    ts != 0 ? ts : wall_ms(), reply_to, payload, x->id, &blen);
	ATF_REQUIRE(body != NULL);
	memcpy(signed_msg, KEY_LABEL_MESSAGE_STR, l);
	msg_hash(body, blen, signed_msg + l);
	ATF_REQUIRE((x->raw = malloc(MSG_SIG_LEN + blen)) != NULL);
	crypto_sign_detached(x->raw, NULL, signed_msg, l + MSG_HASH_LEN,
	    from->sk);
	memcpy(x->raw + MSG_SIG_LEN, body, blen);
	x->len = MSG_SIG_LEN + blen;
	free(body);
	return (x);
}

/* The attacker's own signature over a body that claims to be from
 * claimed (a public identity). */
static struct wire *
forge(const struct ident *claimed, enum msg_type type, json_t *payload)
{
	struct ident	 mine;
	struct wire	*x;

	crypto_sign_keypair(mine.pk, mine.sk);
	(void)strlcpy(mine.id, claimed->id, sizeof(mine.id));
	x = genuine(&mine, type, NULL, 0, NULL, payload);
	sodium_memzero(&mine, sizeof(mine));
	return (x);
}

/* A copy of captured bytes with one byte changed. */
static struct wire *
alter(const struct wire *in, size_t pos, uint8_t xor)
{
	struct wire	*x;

	ATF_REQUIRE(pos < in->len);
	ATF_REQUIRE((x = calloc(1, sizeof(*x))) != NULL);
	*x = *in;
	ATF_REQUIRE((x->raw = malloc(in->len)) != NULL);
	memcpy(x->raw, in->raw, in->len);
	x->raw[pos] ^= xor;
	return (x);
}

/* netd hands minerd bytes from the session it says is pk's. */
static void
deliver(const uint8_t pk[32], struct wire *x)
{
	struct net_msg	 nm;
	struct iovec	 iov[2];

	ATF_REQUIRE(w.nm_open);
	pump(0);	/* what came before is not an answer to this */
	x->sent_from = w.nsent;
	memset(&nm, 0, sizeof(nm));
	memcpy(nm.pk, pk, sizeof(nm.pk));
	nm.len = x->len;
	iov[0].iov_base = &nm;
	iov[0].iov_len = sizeof(nm);
	iov[1].iov_base = x->raw;
	iov[1].iov_len = x->len;
	ATF_REQUIRE(imsg_composev(&w.nm, IMSG_NET_RECV, 0, 0, -1, iov,
	    2) == 0);
	ATF_REQUIRE(imsgbuf_flush(&w.nm) == 0);
}

static void
wire_free(struct wire *x)
{
	free(x->raw);
	free(x);
}

/* minerd's answers to a message id. */
static int
answers(const char *id)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < w.nsent; i++)
		if (w.sent[i].verified &&
		    strcmp(w.sent[i].m.reply_to, id) == 0)
			n++;
	return (n);
}

static struct sent *
answer(const char *id)
{
	size_t	 i;

	for (i = 0; i < w.nsent; i++)
		if (w.sent[i].verified &&
		    strcmp(w.sent[i].m.reply_to, id) == 0)
			return (&w.sent[i]);
	return (NULL);
}

static struct sent *
wait_answer(const char *id)
{
	long long	 end = mono_ms() + T_WAIT_MS;

	while (answer(id) == NULL && mono_ms() < end)
		pump(50);
	return (answer(id));
}

/*
 * A barrier: a fresh ping from C2, answered only once minerd handled
 * all that came before on the same pipe (keyd signs in order).
 */
static void
barrier(void)
{
	struct wire	*x;
	struct sent	*s;

	x = genuine(&w.c2, MSG_PING, NULL, 0, NULL,
	    json_pack("{s:I}", "sentAt", (json_int_t)wall_ms()));
	deliver(w.c2.pk, x);
	s = wait_answer(x->id);
	ATF_REQUIRE_MSG(s != NULL, "minerd stopped answering pings");
	ATF_CHECK_EQ(s->m.type, MSG_PONG);
	wire_free(x);
	pump_for(100);
}

/* Every message minerd sent verified with the worker's key. */
static void
check_sent_verify(void)
{
	size_t	 i;

	for (i = 0; i < w.nsent; i++)
		ATF_CHECK_MSG(w.sent[i].verified, "minerd sent a message "
		    "that does not verify: %s", w.sent[i].why);
}

/*
 * A refusal at the pipeline (signature, from, to, ts, replay): logged
 * with reason, never obeyed, and since its last delivery answered with
 * nothing, or at most an error (never a response of another type).
 */
static void
check_refused(const struct wire *x, size_t mark, const char *reason)
{
	struct sent	*s;
	size_t		 i;

	ATF_CHECK_MSG(wait_log(mark, "minerd: ", reason, NULL),
	    "no log line \"%s\" for message %s", reason, x->id);
	for (i = x->sent_from; i < w.nsent; i++) {
		s = &w.sent[i];
		if (!s->verified || strcmp(s->m.reply_to, x->id) != 0)
			continue;
		ATF_CHECK_MSG(s->m.type == MSG_ERROR, "refused message %s "
		    "answered with %s", x->id, s->m.type_str);
	}
}

/* An error answer with that code must come. */
static void
check_error(const struct wire *x, int code)
{
	struct sent	*s;
	json_t		*v;

	s = wait_answer(x->id);
	ATF_CHECK_MSG(s != NULL, "no answer to %s", x->id);
	if (s == NULL)
		return;
	ATF_CHECK_MSG(s->m.type == MSG_ERROR, "%s answered with %s, want "
	    "error %d", x->id, s->m.type_str, code);
	v = json_object_get(s->m.payload, "code");
	ATF_CHECK_MSG(v != NULL && json_is_integer(v) &&
	    json_integer_value(v) == code, "error code %lld, want %d",
	    v != NULL && json_is_integer(v) ?
	    (long long)json_integer_value(v) : -1LL, code);
	ATF_CHECK_EQ(answers(x->id), 1);
}

/*
 * The miners are exactly as before: the parent was asked for nothing
 * (skip the first `allowed' requests, the positive controls'), minerd
 * still runs, and an observer's stats show rig0 running.
 */
static void
check_miners_unchanged(size_t allowed, const char *also)
{
	struct wire	*x;
	struct sent	*s;
	json_t		*arr, *e, *v;
	size_t		 i;
	int		 status, rig = 0, other = 0;

	pump_for(T_QUIET_MS);
	for (i = allowed; i < w.npreq; i++)
		ATF_CHECK_MSG(0, "minerd asked the parent for %s of slot %u "
		    "(%s)", w.preq[i].type == IMSG_MINER_SPAWN ? "a spawn" :
		    w.preq[i].type == IMSG_MINER_STOP ? "a stop" :
		    "a restart", w.preq[i].slot, w.preq[i].name);
	ATF_CHECK_MSG(waitpid(w.minerd.pid, &status, WNOHANG) == 0,
	    "minerd died");
	ATF_CHECK_MSG(w.minerd.open, "minerd closed the parent pipe");
	check_sent_verify();

	x = genuine(&w.c2, MSG_GET_STATS, NULL, 0, NULL, json_object());
	deliver(w.c2.pk, x);
	s = wait_answer(x->id);
	ATF_CHECK_MSG(s != NULL && s->m.type == MSG_STATS, "no stats for "
	    "the observer: %s", s != NULL ? s->m.type_str : "no answer");
	if (s != NULL && s->m.type == MSG_STATS) {
		arr = json_object_get(s->m.payload, "miners");
		ATF_CHECK(arr != NULL && json_is_array(arr));
		json_array_foreach(arr, i, e) {
			v = json_object_get(e, "name");
			if (v == NULL || !json_is_string(v))
				continue;
			if (strcmp(json_string_value(v), T_RIG) == 0) {
				rig++;
				v = json_object_get(e, "state");
				ATF_CHECK_MSG(v != NULL && json_is_string(v) &&
				    strcmp(json_string_value(v),
				    "running") == 0, "rig0 is not running");
			} else if (also == NULL ||
			    strcmp(json_string_value(v), also) != 0)
				other++;
		}
		ATF_CHECK_EQ_MSG(rig, 1, "rig0 is gone from the stats");
		ATF_CHECK_EQ_MSG(other, 0, "a miner appeared");
	}
	wire_free(x);
}

static json_t *
start_payload(const char *name)
{
	return (json_pack("{s:s,s:s}", "profileId", T_PROFILE, "name", name));
}

/*
 * The cases.
 */

ATF_TC_WITH_CLEANUP(operator_start_spawns_a_miner);
ATF_TC_HEAD(operator_start_spawns_a_miner, tc)
{
	atf_tc_set_md_var(tc, "descr", "positive control: a genuine "
	    "start_miner from the operator C1 makes minerd ask the parent "
	    "for a spawn and answer miner_ack");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(operator_start_spawns_a_miner, tc)
{
	struct wire	*x;
	struct sent	*s;
	json_t		*v;
	long long	 end;

	world_start(T_CACHE_BIG);
	x = genuine(&w.c1, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("remote1"));
	deliver(w.c1.pk, x);
	end = mono_ms() + T_WAIT_MS;
	while (w.npreq == 0 && mono_ms() < end)
		pump(50);
	ATF_REQUIRE_MSG(w.npreq >= 1, "no spawn for the operator's start");
	ATF_CHECK_EQ(w.preq[0].type, IMSG_MINER_SPAWN);
	ATF_CHECK_STREQ(w.preq[0].name, "remote1");
	ATF_CHECK_STREQ(w.preq[0].profile, T_PROFILE);
	s = wait_answer(x->id);
	ATF_CHECK_MSG(s != NULL && s->m.type == MSG_MINER_ACK,
	    "no miner_ack: %s", s != NULL ? s->m.type_str : "no answer");
	if (s != NULL && s->m.type == MSG_MINER_ACK) {
		v = json_object_get(s->m.payload, "ok");
		ATF_CHECK_MSG(v != NULL && json_is_true(v), "miner_ack "
		    "not ok");
		v = json_object_get(s->m.payload, "minerName");
		ATF_CHECK(v != NULL && json_is_string(v) &&
		    strcmp(json_string_value(v), "remote1") == 0);
	}
	check_miners_unchanged(1, "remote1");
	wire_free(x);
	world_stop();
}
ATF_TC_CLEANUP(operator_start_spawns_a_miner, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(observer_gets_stats);
ATF_TC_HEAD(observer_gets_stats, tc)
{
	atf_tc_set_md_var(tc, "descr", "positive control: the observer C2 "
	    "reads stats (rig0 running) and C1's ping gets a pong");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(observer_gets_stats, tc)
{
	struct wire	*x;
	struct sent	*s;
	json_t		*v;

	world_start(T_CACHE_BIG);
	x = genuine(&w.c1, MSG_PING, NULL, 0, NULL,
	    json_pack("{s:I}", "sentAt", (json_int_t)12345));
	deliver(w.c1.pk, x);
	s = wait_answer(x->id);
	ATF_REQUIRE_MSG(s != NULL, "no pong");
	ATF_CHECK_EQ(s->m.type, MSG_PONG);
	ATF_CHECK(memcmp(s->to_pk, w.c1.pk, 32) == 0);
	v = json_object_get(s->m.payload, "sentAt");
	ATF_CHECK(v != NULL && json_is_integer(v) &&
	    json_integer_value(v) == 12345);
	wire_free(x);
	/* the stats and rig0 in them */
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(observer_gets_stats, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(forged_command_is_refused);
ATF_TC_HEAD(forged_command_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "start_miner signed by a key of the "
	    "attacker's that claims C1 (on C1's session), C1's genuine "
	    "command claiming to be from C2, and a command on a session "
	    "with a key minerd does not know: refused, logged, no spawn");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(forged_command_is_refused, tc)
{
	struct ident	 c2_claim;
	struct wire	*x;
	uint8_t		 stranger_pk[32], stranger_sk[64];
	size_t		 mark;

	world_start(T_CACHE_BIG);

	/* a random key's signature, C1's id and session */
	mark = w.loglen;
	x = forge(&w.c1, MSG_START_MINER, start_payload("forged"));
	deliver(w.c1.pk, x);
	barrier();
	check_refused(x, mark, "bad signature");
	ATF_CHECK_EQ(answers(x->id), 0);
	/* the same claiming C2's session: still not C2's signature */
	mark = w.loglen;
	deliver(w.c2.pk, x);
	barrier();
	check_refused(x, mark, "bad signature");
	wire_free(x);

	/* C1 cannot speak for C2: its genuine signature, C2's id */
	memcpy(&c2_claim, &w.c1, sizeof(c2_claim));
	(void)strlcpy(c2_claim.id, w.c2.id, sizeof(c2_claim.id));
	mark = w.loglen;
	x = genuine(&c2_claim, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("claimed"));
	deliver(w.c1.pk, x);
	barrier();
	check_refused(x, mark, "from does not match the session key");
	mark = w.loglen;
	deliver(w.c2.pk, x);
	barrier();
	check_refused(x, mark, "bad signature");
	wire_free(x);

	/* a session with a key that is in no registry */
	crypto_sign_keypair(stranger_pk, stranger_sk);
	mark = w.loglen;
	x = forge(&w.c1, MSG_START_MINER, start_payload("stranger"));
	deliver(stranger_pk, x);
	barrier();
	ATF_CHECK(wait_log(mark, "minerd: ", "not in the registry", NULL));
	ATF_CHECK_EQ(answers(x->id), 0);
	wire_free(x);

	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(forged_command_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(altered_command_is_refused);
ATF_TC_HEAD(altered_command_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "a genuine start_miner from C1 with "
	    "one byte changed (in the signature, the id, the type, the to, "
	    "the ts, the payload, the last byte) is refused and logged; "
	    "the unchanged bytes then do spawn");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(altered_command_is_refused, tc)
{
	struct wire	*x, *y;
	const char	*marks[] = { "\"id\":\"", "\"type\":\"start",
			    "\"to\":\"", "\"ts\":", "\"profileId\":\"",
			    "\"name\":\"" };
	size_t		 pos[16], npos = 0, i, mark, l;
	const char	*body, *p;
	long long	 end;

	world_start(T_CACHE_BIG);
	x = genuine(&w.c1, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("altered"));
	pos[npos++] = 0;			/* signature: R */
	pos[npos++] = 40;			/* signature: S */
	pos[npos++] = MSG_SIG_LEN - 1;
	body = (const char *)x->raw + MSG_SIG_LEN;
	l = x->len - MSG_SIG_LEN;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		p = memmem(body, l, marks[i], strlen(marks[i]));
		ATF_REQUIRE_MSG(p != NULL, "no %s in the body", marks[i]);
		pos[npos++] = MSG_SIG_LEN + (p - body) + strlen(marks[i]) + 1;
	}
	pos[npos++] = x->len - 1;		/* the closing brace */
	for (i = 0; i < npos; i++) {
		/* one bit, then a whole byte's worth */
		mark = w.loglen;
		y = alter(x, pos[i], 0x01);
		deliver(w.c1.pk, y);
		barrier();
		check_refused(y, mark, "bad signature");
		wire_free(y);
		mark = w.loglen;
		y = alter(x, pos[i], 0xff);
		deliver(w.c1.pk, y);
		barrier();
		check_refused(y, mark, "bad signature");
		wire_free(y);
	}
	ATF_CHECK_EQ(answers(x->id), 0);
	check_miners_unchanged(0, NULL);

	/* control: the bytes unchanged are obeyed */
	deliver(w.c1.pk, x);
	end = mono_ms() + T_WAIT_MS;
	while (w.npreq == 0 && mono_ms() < end)
		pump(50);
	ATF_CHECK_MSG(w.npreq == 1 && w.preq[0].type == IMSG_MINER_SPAWN,
	    "the genuine start made %zu requests", w.npreq);
	wire_free(x);
	world_stop();
}
ATF_TC_CLEANUP(altered_command_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(replayed_command_is_refused);
ATF_TC_HEAD(replayed_command_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "a genuine start_miner and ping "
	    "from C1, delivered twice: the second is refused (replayed id);"
	    " after minerd is killed and restarted, both are refused by the"
	    " start-time floor");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(replayed_command_is_refused, tc)
{
	struct wire	*start, *ping;
	size_t		 mark;
	long long	 end;

	world_start(T_CACHE_BIG);
	ping = genuine(&w.c1, MSG_PING, NULL, 0, NULL,
	    json_pack("{s:I}", "sentAt", (json_int_t)1));
	deliver(w.c1.pk, ping);
	ATF_REQUIRE_MSG(wait_answer(ping->id) != NULL, "no pong");
	start = genuine(&w.c1, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("once"));
	deliver(w.c1.pk, start);
	end = mono_ms() + T_WAIT_MS;
	while (w.npreq == 0 && mono_ms() < end)
		pump(50);
	ATF_CHECK_MSG(w.npreq == 1, "the genuine start made %zu requests",
	    w.npreq);
	(void)wait_answer(start->id);
	barrier();

	/* the same bytes again */
	mark = w.loglen;
	deliver(w.c1.pk, ping);
	barrier();
	check_refused(ping, mark, "replayed id");
	ATF_CHECK_EQ(answers(ping->id), 1);
	mark = w.loglen;
	deliver(w.c1.pk, start);
	barrier();
	check_refused(start, mark, "replayed id");
	ATF_CHECK(answers(start->id) <= 1);
	check_miners_unchanged(1, "once");

	/* a new minerd has an empty cache: the floor refuses them */
	mark = w.loglen;
	minerd_restart();
	ATF_REQUIRE(wait_log(mark, "minerd: miner once: adopted", NULL,
	    NULL));
	mark = w.loglen;
	deliver(w.c1.pk, ping);
	barrier();
	check_refused(ping, mark, "timestamp before this node started");
	ATF_CHECK_EQ(answers(ping->id), 1);
	mark = w.loglen;
	deliver(w.c1.pk, start);
	barrier();
	check_refused(start, mark, "timestamp before this node started");
	ATF_CHECK(answers(start->id) <= 1);
	check_miners_unchanged(1, "once");
	wire_free(ping);
	wire_free(start);
	world_stop();
}
ATF_TC_CLEANUP(replayed_command_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(command_outside_the_ts_window_is_refused);
ATF_TC_HEAD(command_outside_the_ts_window_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "start_miner genuinely signed by C1 "
	    "with a ts before or after the window is refused and logged");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(command_outside_the_ts_window_is_refused, tc)
{
	struct wire	*x;
	long long	 off[] = { -(T_WINDOW + 60) * 1000LL,
			    (T_WINDOW + 60) * 1000LL, -86400 * 1000LL * 365 };
	size_t		 i, mark;

	world_start(T_CACHE_BIG);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		mark = w.loglen;
		x = genuine(&w.c1, MSG_START_MINER, NULL, wall_ms() + off[i],
		    NULL, start_payload("late"));
		deliver(w.c1.pk, x);
		barrier();
		check_refused(x, mark, "timestamp outside the window");
		wire_free(x);
	}
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(command_outside_the_ts_window_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(command_to_another_node_is_refused);
ATF_TC_HEAD(command_to_another_node_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "start_miner genuinely signed by C1 "
	    "for another node (W3, a random id) is refused and logged");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(command_to_another_node_is_refused, tc)
{
	struct wire	*x;
	uint8_t		 rnd[32];
	char		 other[NODE_ID_LEN + 1];
	size_t		 mark;

	world_start(T_CACHE_BIG);
	mark = w.loglen;
	x = genuine(&w.c1, MSG_START_MINER, w.w3.id, 0, NULL,
	    start_payload("elsewhere"));
	deliver(w.c1.pk, x);
	barrier();
	check_refused(x, mark, "addressed to another node");
	wire_free(x);

	randombytes_buf(rnd, sizeof(rnd));
	hexid(rnd, other);
	mark = w.loglen;
	x = genuine(&w.c1, MSG_STOP_MINER, other, 0, NULL,
	    json_pack("{s:s}", "minerName", T_RIG));
	deliver(w.c1.pk, x);
	barrier();
	check_refused(x, mark, "addressed to another node");
	wire_free(x);
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(command_to_another_node_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(command_from_a_worker_is_refused);
ATF_TC_HEAD(command_from_a_worker_is_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "start_miner, stop_miner and "
	    "get_stats genuinely signed by W3 (pinned, a worker, no access"
	    " here; it declares itself a controller) get error 1002, "
	    "logged");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(command_from_a_worker_is_refused, tc)
{
	struct wire	*x[3];
	size_t		 i, mark;

	world_start(T_CACHE_BIG);
	x[0] = genuine(&w.w3, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("w3"));
	x[1] = genuine(&w.w3, MSG_STOP_MINER, NULL, 0, NULL,
	    json_pack("{s:s}", "minerName", T_RIG));
	x[2] = genuine(&w.w3, MSG_GET_STATS, NULL, 0, NULL, json_object());
	for (i = 0; i < 3; i++) {
		mark = w.loglen;
		deliver(w.w3.pk, x[i]);
		check_error(x[i], MSG_ERR_UNAUTHORISED);
		ATF_CHECK_MSG(wait_log(mark, "minerd: ", w.w3.id, NULL),
		    "no log line about W3's %s", i == 0 ? "start_miner" :
		    i == 1 ? "stop_miner" : "get_stats");
		wire_free(x[i]);
	}
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(command_from_a_worker_is_refused, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(observer_cannot_start_stop_or_restart);
ATF_TC_HEAD(observer_cannot_start_stop_or_restart, tc)
{
	atf_tc_set_md_var(tc, "descr", "start_miner, stop_miner and "
	    "restart_miner genuinely signed by the observer C2 get error "
	    "1002, logged, and the parent is asked for nothing");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(observer_cannot_start_stop_or_restart, tc)
{
	struct wire	*x[3];
	size_t		 i, mark;

	world_start(T_CACHE_BIG);
	x[0] = genuine(&w.c2, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("observer"));
	x[1] = genuine(&w.c2, MSG_STOP_MINER, NULL, 0, NULL,
	    json_pack("{s:s}", "minerName", T_RIG));
	x[2] = genuine(&w.c2, MSG_RESTART_MINER, NULL, 0, NULL,
	    json_pack("{s:s}", "minerName", T_RIG));
	for (i = 0; i < 3; i++) {
		mark = w.loglen;
		deliver(w.c2.pk, x[i]);
		check_error(x[i], MSG_ERR_UNAUTHORISED);
		ATF_CHECK_MSG(wait_log(mark, "minerd: ", w.c2.id, NULL),
		    "no log line about C2's %s", i == 0 ? "start_miner" :
		    i == 1 ? "stop_miner" : "restart_miner");
		wire_free(x[i]);
	}
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(observer_cannot_start_stop_or_restart, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(response_without_request_is_dropped);
ATF_TC_HEAD(response_without_request_is_dropped, tc)
{
	atf_tc_set_md_var(tc, "descr", "pong, stats, miner_ack and error "
	    "genuinely signed by C1 answering nothing minerd sent are "
	    "logged and dropped, never answered");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(response_without_request_is_dropped, tc)
{
	struct wire	*x;
	char		 fake[MSG_UUID_LEN + 1];
	struct {
		enum msg_type	 type;
		json_t		*pl;
	} r[4];
	size_t		 i, mark, before;

	world_start(T_CACHE_BIG);
	r[0].type = MSG_PONG;
	r[0].pl = json_pack("{s:I,s:n}", "sentAt", (json_int_t)1,
	    "location");
	r[1].type = MSG_STATS;
	r[1].pl = json_pack("{s:s,s:s,s:i,s:[]}", "nodeId", w.c1.id,
	    "nodeName", "c1", "uptime", 1, "miners");
	r[2].type = MSG_MINER_ACK;
	r[2].pl = json_pack("{s:s,s:s,s:b,s:s,s:s}", "minerName", T_RIG,
	    "action", "stop", "ok", 1, "state", "stopped", "message", "");
	r[3].type = MSG_ERROR;
	r[3].pl = json_pack("{s:i,s:s,s:n}", "code", 1000, "message", "x",
	    "details");
	for (i = 0; i < 4; i++) {
		msg_uuid(fake);
		before = w.nsent;
		mark = w.loglen;
		x = genuine(&w.c1, r[i].type, NULL, 0, fake, r[i].pl);
		deliver(w.c1.pk, x);
		barrier();
		ATF_CHECK_MSG(wait_log(mark, "minerd: ", "no request", NULL),
		    "no log line for an unrequested %s",
		    msg_type_name(r[i].type));
		ATF_CHECK_EQ(answers(x->id), 0);
		/* nothing but the barrier's pong */
		ATF_CHECK_EQ(w.nsent - before, 1);
		wire_free(x);
	}
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(response_without_request_is_dropped, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(replay_cache_flood_is_refused_not_evicted);
ATF_TC_HEAD(replay_cache_flood_is_refused_not_evicted, tc)
{
	atf_tc_set_md_var(tc, "descr", "C1's genuine pings with fresh ids, "
	    "three times the replay cache: the first cache-full are "
	    "answered, the rest refused and logged; no id is evicted (the "
	    "first is still a replay); C2's own cache is untouched");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(replay_cache_flood_is_refused_not_evicted, tc)
{
	struct wire	*x[T_FLOOD], *y;
	size_t		 i, mark;
	int		 answered = 0;

	world_start(T_CACHE_SMALL);
	for (i = 0; i < T_FLOOD; i++)
		x[i] = genuine(&w.c1, MSG_PING, NULL, 0, NULL,
		    json_pack("{s:I}", "sentAt", (json_int_t)i));
	mark = w.loglen;
	for (i = 0; i < T_FLOOD; i++)
		deliver(w.c1.pk, x[i]);
	barrier();
	for (i = 0; i < T_FLOOD; i++) {
		if (answers(x[i]->id) > 0) {
			answered++;
			ATF_CHECK_MSG(i < T_CACHE_SMALL, "flood ping %zu "
			    "answered past the cache size", i);
		}
	}
	ATF_CHECK_EQ(answered, T_CACHE_SMALL);
	ATF_CHECK_EQ(log_count(mark, "replay cache full"),
	    T_FLOOD - T_CACHE_SMALL);

	/* never evicted: the first id is still known */
	mark = w.loglen;
	deliver(w.c1.pk, x[0]);
	barrier();
	ATF_CHECK(log_line(mark, "minerd: ", x[0]->id, "refused"));
	ATF_CHECK_EQ(answers(x[0]->id), 1);
	/* and a fresh command from C1 waits for ids to age out */
	mark = w.loglen;
	y = genuine(&w.c1, MSG_START_MINER, NULL, 0, NULL,
	    start_payload("flooded"));
	deliver(w.c1.pk, y);
	barrier();
	check_refused(y, mark, "replay cache full");
	wire_free(y);
	for (i = 0; i < T_FLOOD; i++)
		wire_free(x[i]);
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(replay_cache_flood_is_refused_not_evicted, tc)
{
	world_cleanup();
}

ATF_TC_WITH_CLEANUP(keyd_refuses_netd_an_application_signature);
ATF_TC_HEAD(keyd_refuses_netd_an_application_signature, tc)
{
	atf_tc_set_md_var(tc, "descr", "on the pipe netd holds, keyd refuses"
	    " to sign a message (a forged start_miner's hash) or a bundle "
	    "header: it closes the pipe, logs, asks for a netd restart; "
	    "handshakes are still signed on a new pipe, minerd still "
	    "served");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(keyd_refuses_netd_an_application_signature, tc)
{
	struct key_sign_req	 req;
	uint8_t			 body[256], signed_msg[128];
	uint32_t		 labels[] = { KEY_LABEL_MESSAGE,
				    KEY_LABEL_BUNDLE };
	size_t			 i, mark, l;
	long long		 end;
	int			 n;

	world_start(T_CACHE_BIG);
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		/* the hash of a body a forger would want signed */
		n = snprintf((char *)body, sizeof(body), "{\"id\":\"%s\","
		    "\"type\":\"start_miner\",\"from\":\"%s\",\"to\":\"%s\","
		    "\"ts\":%lld,\"payload\":{\"profileId\":\"p1\"}}",
		    "00000000-0000-4000-8000-000000000000", w.worker.id,
		    w.worker.id, wall_ms());
		ATF_REQUIRE(n > 0 && (size_t)n < sizeof(body));
		memset(&req, 0, sizeof(req));
		req.request = 100 + i;
		req.label = labels[i];
		msg_hash(body, n, req.hash);
		mark = w.loglen;
		n = w.nk_signatures;
		compose(&w.nk, IMSG_KEY_SIGN, -1, &req, sizeof(req));
		end = mono_ms() + T_WAIT_MS;
		while ((w.nk_open || w.keyd.restart_peer[PROC_NETD] <
		    (int)i + 1) && mono_ms() < end)
			pump(50);
		ATF_CHECK_MSG(!w.nk_open, "keyd kept netd's pipe open");
		ATF_CHECK_EQ(w.keyd.restart_peer[PROC_NETD], (int)i + 1);
		ATF_CHECK_EQ_MSG(w.nk_signatures, n, "keyd signed label %u "
		    "for netd", labels[i]);
		ATF_CHECK(wait_log(mark, "keyd: ", "netd", "forbidden"));
		keyd_new_netd_pipe();
		pump_for(100);
	}

	/* control: a handshake transcript is still signed for netd */
	memset(&req, 0, sizeof(req));
	req.request = 200;
	req.label = KEY_LABEL_HANDSHAKE_RESPONDER;
	memset(req.hash, 0x42, sizeof(req.hash));
	n = w.nk_signatures;
	compose(&w.nk, IMSG_KEY_SIGN, -1, &req, sizeof(req));
	end = mono_ms() + T_WAIT_MS;
	while (w.nk_signatures == n && mono_ms() < end)
		pump(50);
	ATF_REQUIRE_EQ(w.nk_signatures, n + 1);
	ATF_CHECK_EQ(w.nk_last.request, 200);
	ATF_CHECK_EQ(w.nk_last.status, KEYSIGN_OK);
	l = strlen(KEY_LABEL_HS_RESPONDER_STR);
	memcpy(signed_msg, KEY_LABEL_HS_RESPONDER_STR, l);
	memcpy(signed_msg + l, req.hash, 64);
	ATF_CHECK(crypto_sign_verify_detached(w.nk_last.sig, signed_msg,
	    l + 64, w.worker.pk) == 0);
	ATF_CHECK(w.keyd.open);
	/* minerd's own pipe to keyd was never touched */
	barrier();
	check_miners_unchanged(0, NULL);
	world_stop();
}
ATF_TC_CLEANUP(keyd_refuses_netd_an_application_signature, tc)
{
	world_cleanup();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, operator_start_spawns_a_miner);
	ATF_TP_ADD_TC(tp, observer_gets_stats);
	ATF_TP_ADD_TC(tp, forged_command_is_refused);
	ATF_TP_ADD_TC(tp, altered_command_is_refused);
	ATF_TP_ADD_TC(tp, replayed_command_is_refused);
	ATF_TP_ADD_TC(tp, command_outside_the_ts_window_is_refused);
	ATF_TP_ADD_TC(tp, command_to_another_node_is_refused);
	ATF_TP_ADD_TC(tp, command_from_a_worker_is_refused);
	ATF_TP_ADD_TC(tp, observer_cannot_start_stop_or_restart);
	ATF_TP_ADD_TC(tp, response_without_request_is_dropped);
	ATF_TP_ADD_TC(tp, replay_cache_flood_is_refused_not_evicted);
	ATF_TP_ADD_TC(tp, keyd_refuses_netd_an_application_signature);
	return (atf_no_error());
}
