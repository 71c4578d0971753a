/*
 * The benchmarks' rig: real keyd and netd processes on loopback, the
 * benchmark playing their parent and their minerd (see rig.h).
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "rig.h"

#ifndef BUILDDIR
#error "BUILDDIR must be defined"
#endif
/* Where lethd-netd and lethd-keyd are: the build tree, or another
 * build named by this environment variable (to compare two builds). */
#define RIG_BUILDDIR_ENV	"LETHD_BENCH_BUILDDIR"

/* Handshake signatures a second keyd grants netd: far above what one
 * machine can do, so that the rate limit never shapes a benchmark. */
#define RIG_SIGN_RATE	1000000
/* Warning lines printed before the rest are only counted. */
#define RIG_WARN_PRINT	10
/* Pipes of one node: netd's parent, keyd's parent, two minerd ends. */
#define RIG_PIPES	4

#if defined(__SANITIZE_ADDRESS__)
#define RIG_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define RIG_SANITIZED	1
#endif
#endif

static struct rig_node	*nodes[RIG_NODES_MAX];
static int		 nnodes;
static rig_handler	 handler;
static unsigned int	 nwarnings;
static struct passwd	 nobody;
static char		 netd_bin[PATH_MAX], keyd_bin[PATH_MAX];

static void
nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		err(1, "fcntl");
}

static void
rig_atexit(void)
{
	rig_stop();
}

void
rig_init(rig_handler h)
{
	struct passwd	*pw;
	const char	*dir;

#ifdef RIG_SANITIZED
	errx(1, "built with a sanitizer: figures would mean nothing; "
	    "configure without --enable-sanitizers");
#endif
	if (geteuid() != 0)
		errx(1, "keyd and netd chroot and drop to nobody: run as root");
	if ((pw = getpwnam("nobody")) == NULL)
		errx(1, "no user nobody");
	nobody = *pw;
	if ((dir = getenv(RIG_BUILDDIR_ENV)) == NULL || *dir == '\0')
		dir = BUILDDIR;
	(void)snprintf(netd_bin, sizeof(netd_bin), "%s/lethd-netd", dir);
	(void)snprintf(keyd_bin, sizeof(keyd_bin), "%s/lethd-keyd", dir);
	if (access(netd_bin, X_OK) == -1)
		err(1, "%s", netd_bin);
	if (access(keyd_bin, X_OK) == -1)
		err(1, "%s", keyd_bin);
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	signal(SIGPIPE, SIG_IGN);
	handler = h;
	if (atexit(rig_atexit) != 0)
		errx(1, "atexit");
}

static void
base_conf(struct child_init *ci, uint32_t proc, const char *root)
{
	memset(ci, 0, sizeof(*ci));
	ci->version = CHILD_INIT_VERSION;
	ci->proc = proc;
	ci->uid = nobody.pw_uid;
	ci->gid = nobody.pw_gid;
	ci->debug = 0;		/* log lines come to us as IMSG_LOG */
	ci->verbose = 0;
	(void)strlcpy(ci->root, root, sizeof(ci->root));
	(void)strlcpy(ci->node_name, "bench", sizeof(ci->node_name));
	ci->net_max_conn = NET_MAX_CONN_DEFAULT;
	ci->net_max_handshakes = NET_MAX_HANDSHAKES_DEFAULT;
	ci->net_hs_per_addr = NET_MAX_HANDSHAKES_DEFAULT;
	ci->net_hs_per_subnet = NET_MAX_HANDSHAKES_DEFAULT;
	ci->net_hs_timeout = NET_HS_TIMEOUT_DEFAULT;
	ci->net_max_message = LETHD_MAX_MESSAGE;
	ci->net_msg_rate = NET_MSG_RATE_DEFAULT;
	ci->net_ping_interval = NET_PING_INTERVAL_DEFAULT;
	ci->net_pong_timeout = NET_PONG_TIMEOUT_DEFAULT;
	ci->net_max_header = NET_MAX_HEADER_DEFAULT;
	ci->net_session_lifetime = NET_SESSION_LIFETIME_DEFAULT;
	ci->keyd_sign_rate = RIG_SIGN_RATE;
	ci->msg_ts_window = MSG_TS_WINDOW_DEFAULT;
	ci->replay_cache_max = REPLAY_CACHE_DEFAULT;
}

/* fork and exec bin with the parent pipe on fd 3 */
static pid_t
spawn(const char *bin, int fd, unsigned int nofile)
{
	struct rlimit	 rl;
	pid_t		 pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid != 0)
		return (pid);
	if (nofile != 0) {
		rl.rlim_cur = rl.rlim_max = nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			_exit(126);
	}
	if (dup2(fd, CHILD_PARENT_FD) == -1)
		_exit(127);
	closefrom(CHILD_PARENT_FD + 1);
	execl(bin, bin, (char *)NULL);
	_exit(127);
}

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		err(1, "socketpair");
}

static void
ib_init(struct imsgbuf *ib, int fd)
{
	nonblock(fd);
	if (imsgbuf_init(ib, fd) == -1)
		err(1, "imsgbuf_init");
}

int
rig_queue(struct imsgbuf *ib, uint32_t type, const void *d, size_t len)
{
	return (imsg_compose(ib, type, 0, 0, -1, d, len));
}

void
rig_send(struct imsgbuf *ib, uint32_t type, const void *d, size_t len)
{
	if (imsg_compose(ib, type, 0, 0, -1, d, len) == -1)
		err(1, "imsg_compose");
	if (imsgbuf_flush(ib) == -1)
		err(1, "imsgbuf_flush");
}

static void
send_fd(struct imsgbuf *ib, uint32_t type, int fd, const void *d,
    size_t len)
{
	if (imsg_compose(ib, type, 0, 0, fd, d, len) == -1 ||
	    imsgbuf_flush(ib) == -1)
		err(1, "imsg_compose");
}

static int
listener(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "setsockopt");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, SOMAXCONN) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1)
		err(1, "listen");
	*port = ntohs(sin.sin_port);
	return (fd);
}

static void
wait_for(struct rig_node *n, int *flag, const char *what)
{
	double	 end = rig_now() + RIG_WAIT_MS / 1000.0;

	while (!*flag && rig_now() < end)
		rig_pump(50);
	if (!*flag)
		errx(1, "node %d: %s did not come", n->idx, what);
}

struct rig_node *
rig_node_new(void (*tweak)(struct child_init *), unsigned int nofile)
{
	struct rig_node		*n;
	struct child_init	 ci;
	struct net_self		 ns;
	char			 kdir[PATH_MAX];
	uint32_t		 proc, req = 1;
	int			 kp[2], np[2], kn[2], km[2], nm[2], lfd;

	if (nnodes >= RIG_NODES_MAX)
		errx(1, "too many nodes");
	if ((n = calloc(1, sizeof(*n))) == NULL)
		err(1, "calloc");
	n->idx = nnodes;
	(void)strlcpy(n->root, "/tmp/lethd-bench.XXXXXX", sizeof(n->root));
	(void)strlcpy(n->kroot, "/tmp/lethd-bench.XXXXXX", sizeof(n->kroot));
	if (mkdtemp(n->root) == NULL || mkdtemp(n->kroot) == NULL)
		err(1, "mkdtemp");
	if (chmod(n->root, 0755) == -1 || chmod(n->kroot, 0755) == -1)
		err(1, "chmod");
	(void)snprintf(kdir, sizeof(kdir), "%s/%s", n->kroot,
	    LETHD_KEY_SUBDIR);
	if (mkdir(kdir, 0700) == -1 ||
	    chown(kdir, nobody.pw_uid, nobody.pw_gid) == -1)
		err(1, "%s", kdir);
	nodes[nnodes++] = n;

	pair(kp);
	pair(np);
	pair(kn);
	pair(km);
	pair(nm);
	lfd = listener(&n->port);

	/* keyd: its netd end goes straight to netd, never through us */
	n->keyd_pid = spawn(keyd_bin, kp[1], 0);
	close(kp[1]);
	ib_init(&n->keyd_parent, kp[0]);
	ib_init(&n->kminerd, km[0]);
	base_conf(&ci, PROC_KEYD, n->kroot);
	if (tweak != NULL)
		tweak(&ci);
	send_fd(&n->keyd_parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_NETD;
	send_fd(&n->keyd_parent, IMSG_PIPE, kn[0], &proc, sizeof(proc));
	proc = PROC_MINERD;
	send_fd(&n->keyd_parent, IMSG_PIPE, km[1], &proc, sizeof(proc));

	n->netd_pid = spawn(netd_bin, np[1], nofile);
	close(np[1]);
	ib_init(&n->netd_parent, np[0]);
	ib_init(&n->minerd, nm[0]);
	base_conf(&ci, PROC_NETD, n->root);
	if (tweak != NULL)
		tweak(&ci);
	send_fd(&n->netd_parent, IMSG_INIT, -1, &ci, sizeof(ci));
	proc = PROC_KEYD;
	send_fd(&n->netd_parent, IMSG_PIPE, kn[1], &proc, sizeof(proc));
	proc = PROC_MINERD;
	send_fd(&n->netd_parent, IMSG_PIPE, nm[1], &proc, sizeof(proc));
	send_fd(&n->netd_parent, IMSG_NET_LISTEN, lfd, NULL, 0);

	wait_for(n, &n->keyd_ready, "keyd's IMSG_READY");
	wait_for(n, &n->netd_ready, "netd's IMSG_READY");
	/* lethctl node init: keyd makes the key, tells netd and us */
	rig_send(&n->kminerd, IMSG_KEY_GENERATE, &req, sizeof(req));
	wait_for(n, &n->generated, "the node key");

	memset(&ns, 0, sizeof(ns));
	memcpy(ns.pk, n->pk, sizeof(ns.pk));
	ns.role = ROLE_DUAL;
	(void)snprintf(ns.name, sizeof(ns.name), "bench-%d", n->idx);
	rig_send(&n->minerd, IMSG_NET_SELF, &ns, sizeof(ns));
	/* let netd take the key from keyd's pipe */
	{
		double end = rig_now() + 0.1;

		while (rig_now() < end)
			rig_pump(10);
	}
	return (n);
}

static void
parent_msg(struct rig_node *n, struct imsg *imsg, int *ready)
{
	struct log_msg	 lm;

	switch (imsg_get_type(imsg)) {
	case IMSG_READY:
		*ready = 1;
		break;
	case IMSG_LOG:
		if (imsg_get_data(imsg, &lm, sizeof(lm)) == -1)
			break;
		lm.text[sizeof(lm.text) - 1] = '\0';
		if (LOG_PRI(lm.priority) > LOG_WARNING)
			break;
		if (nwarnings++ < RIG_WARN_PRINT)
			fprintf(stderr, "node %d %s: %s\n", n->idx,
			    ready == &n->netd_ready ? "netd" : "keyd",
			    lm.text);
		break;
	case IMSG_RESTART_PEER:
		fprintf(stderr, "node %d: a daemon asked to restart a "
		    "sibling\n", n->idx);
		nwarnings++;
		break;
	}
}

/* Read what one pipe has and hand it on; 0 on EOF. */
static int
drain(struct rig_node *n, struct imsgbuf *ib)
{
	struct imsg		 imsg;
	struct key_generated	 kg;
	ssize_t			 r;

	r = imsgbuf_read(ib);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
		return (0);
	while (imsg_get(ib, &imsg) == 1) {
		if (ib == &n->netd_parent)
			parent_msg(n, &imsg, &n->netd_ready);
		else if (ib == &n->keyd_parent)
			parent_msg(n, &imsg, &n->keyd_ready);
		else if (ib == &n->kminerd &&
		    imsg_get_type(&imsg) == IMSG_KEY_GENERATED) {
			if (imsg_get_data(&imsg, &kg, sizeof(kg)) == -1 ||
			    kg.status != KEYGEN_OK)
				errx(1, "node %d: keyd made no key", n->idx);
			memcpy(n->pk, kg.pk, sizeof(n->pk));
			n->generated = 1;
		} else if (ib == &n->kminerd &&
		    imsg_get_type(&imsg) == IMSG_KEY_PUBLIC)
			;	/* we know it from IMSG_KEY_GENERATED */
		else if (handler != NULL)
			handler(n, ib == &n->kminerd, &imsg);
		imsg_free(&imsg);
	}
	return (1);
}

void
rig_pump(int ms)
{
	struct pollfd	 pfd[RIG_NODES_MAX * RIG_PIPES];
	struct imsgbuf	*ib[RIG_NODES_MAX * RIG_PIPES];
	struct rig_node	*own[RIG_NODES_MAX * RIG_PIPES];
	int		 i, k, np = 0;

	for (i = 0; i < nnodes; i++) {
		struct rig_node *n = nodes[i];
		struct imsgbuf	*all[RIG_PIPES] = { &n->netd_parent,
		    &n->keyd_parent, &n->minerd, &n->kminerd };

		for (k = 0; k < RIG_PIPES; k++) {
			if (all[k]->fd == -1)
				continue;
			ib[np] = all[k];
			own[np] = n;
			pfd[np].fd = all[k]->fd;
			pfd[np].events = POLLIN;
			if (imsgbuf_queuelen(all[k]) > 0) {
				if (imsgbuf_write(all[k]) == -1)
					err(1, "node %d: write", n->idx);
				if (imsgbuf_queuelen(all[k]) > 0)
					pfd[np].events |= POLLOUT;
			}
			np++;
		}
	}
	if (poll(pfd, np, ms) <= 0)
		return;
	for (k = 0; k < np; k++) {
		if (pfd[k].revents & POLLOUT && imsgbuf_write(ib[k]) == -1)
			err(1, "node %d: write", own[k]->idx);
		if ((pfd[k].revents & (POLLIN | POLLHUP)) == 0)
			continue;
		if (drain(own[k], ib[k]) == 0)
			errx(1, "node %d: a daemon closed its pipe (crashed?)",
			    own[k]->idx);
	}
}

unsigned int
rig_warnings(void)
{
	return (nwarnings);
}

void
rig_stop(void)
{
	char	 path[PATH_MAX];
	int	 i, st;

	for (i = 0; i < nnodes; i++) {
		struct rig_node *n = nodes[i];

		(void)kill(n->netd_pid, SIGTERM);
		(void)kill(n->keyd_pid, SIGTERM);
		(void)waitpid(n->netd_pid, &st, 0);
		(void)waitpid(n->keyd_pid, &st, 0);
		(void)snprintf(path, sizeof(path), "%s/%s", n->kroot,
		    LETHD_KEY_FILE);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s/%s", n->kroot,
		    LETHD_KEY_SUBDIR);
		(void)rmdir(path);
		(void)rmdir(n->kroot);
		(void)rmdir(n->root);
	}
	nnodes = 0;
}

void
rig_key_add(struct rig_node *n, const uint8_t pk[32])
{
	struct net_key	 nk;

	memcpy(nk.pk, pk, sizeof(nk.pk));
	rig_send(&n->minerd, IMSG_NET_KEY_ADD, &nk, sizeof(nk));
}

void
rig_dial(struct rig_node *from, const struct rig_node *to)
{
	struct net_dial	 nd;

	memset(&nd, 0, sizeof(nd));
	memcpy(nd.pk, to->pk, sizeof(nd.pk));
	(void)strlcpy(nd.host, "127.0.0.1", sizeof(nd.host));
	nd.port = to->port;
	rig_send(&from->minerd, IMSG_NET_DIAL, &nd, sizeof(nd));
}

void
rig_hangup(struct rig_node *n, const uint8_t pk[32])
{
	struct net_key	 nk;

	memcpy(nk.pk, pk, sizeof(nk.pk));
	rig_send(&n->minerd, IMSG_NET_HANGUP, &nk, sizeof(nk));
}

double
rig_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

double
rig_cpu_ticks(pid_t pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	FILE			*f;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (fgets(buf, sizeof(buf), f) == NULL)
		errx(1, "%s: empty", path);
	fclose(f);
	/* after the ")" of comm: state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		errx(1, "%s: cannot parse", path);
	return ((double)(ut + st) / sysconf(_SC_CLK_TCK));
}

double
rig_cpu(pid_t pid)
{
	char			 path[64];
	unsigned long long	 ns;
	FILE			*f;
	int			 ok;

	/* nanoseconds on a CPU; stat's ticks are 10 ms apart */
	(void)snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (rig_cpu_ticks(pid));
	ok = fscanf(f, "%llu", &ns) == 1;
	fclose(f);
	if (!ok)
		return (rig_cpu_ticks(pid));
	return (ns / 1e9);
}

long
rig_pss_kib(pid_t pid)
{
	char	 path[64], line[256];
	long	 kib = -1;
	FILE	*f;

	(void)snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Pss: %ld kB", &kib) == 1)
			break;
	fclose(f);
	if (kib == -1)
		errx(1, "%s: no Pss", path);
	return (kib);
}

double
rig_self_cpu(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		err(1, "getrusage");
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

double
rig_rate(void (*fn)(void *), void *arg, double secs)
{
	double		 start, el;
	unsigned long	 n = 0, batch = 1, i;

	fn(arg);	/* warm up */
	start = rig_now();
	for (;;) {
		for (i = 0; i < batch; i++)
			fn(arg);
		n += batch;
		el = rig_now() - start;
		if (el >= secs)
			break;
		if (el < secs / 10)
			batch *= 2;
	}
	return (n / el);
}
