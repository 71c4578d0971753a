/*
 * bench/swarm: one real controller (lethd, its four processes, from
 * the build tree) against N simulated workers in one process of this
 * program.  Each worker has an Ed25519 key of its own, listens on a
 * loopback address of its own (127.a.b.c, one port for all, so the
 * controller's dials do not run out of source ports) and speaks the
 * project's own protocol code: netd/ws.c (WebSocket, server side),
 * common/wire.c (the responder's side of the handshake, records),
 * minerd/msg.c and replay.c (verify the controller's requests, build
 * the answers).  It admits only the controller's key, answers ping
 * with pong, get_stats with a rig of two miners, any other request
 * with error 1001, and signs with its own key (libsodium: it has no
 * keyd).
 *
 *   swarm [-n workers] [-r rounds] [-b builddir] [--smoke]
 *
 * Reported, each with its baseline or goal: handshakes a second while
 * the swarm connects; controller PSS (lethd + keyd + netd + minerd)
 * per connected worker; the time of `lethctl remote status --all' and
 * the controller's CPU seconds per worker for it.  --smoke: 20
 * workers, one round; exits 1 unless every worker connected and
 * answered.  Run as root (lethd runs as it does for real).
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "wire.h"
#include "ws.h"
#include "msg.h"
#include "rig.h"

#define SW_N_DEFAULT	1000
#define SW_N_SMOKE	20
#define SW_N_MAX	100000	/* 127.a.b.c addresses handed out */
#define SW_ROUNDS	3	/* remote status --all, timed */
#define SW_IMPORT_CHUNK	4000	/* peers per import (1 MiB body) */
#define SW_WINDOW	120	/* s: the timestamp window (default) */
#define SW_REPLAY	256	/* ids remembered per worker */
#define SW_SETTLE	2.0	/* s of quiet before a PSS reading */
#define SW_START_WAIT	30.0	/* s for lethd to answer */
#define SW_OUT_MAX	(64 * 1024 * 1024)	/* lethctl output kept */
#define SW_FRAME_MAX	(WIRE_REC_MAX + 16)
#define SW_MINERS	2	/* miners a simulated rig reports */
#define SW_PROCS	4	/* lethd, keyd, netd, minerd */
#define SW_ACCEPT_BATCH	64	/* accepts per wakeup */

struct worker {
	struct ws		*ws;
	struct hs		*hs;
	struct session		 sess;
	struct replay_cache	*rc;
	int			 up;
	uint8_t			 pk[32];
	uint8_t			 sk[64];
	char			 id[NODE_ID_LEN + 1];
	struct in_addr		 addr;
};

/* What the swarm process tells the driver (shared memory). */
struct shared {
	volatile unsigned int	 ups;		/* sessions up now */
	volatile unsigned int	 handshakes;	/* finished, ever */
	volatile unsigned int	 stats;		/* get_stats answered */
	volatile unsigned int	 pings;
	volatile unsigned int	 others;	/* other requests */
	volatile unsigned int	 refused;	/* failed verify/replay */
	volatile unsigned int	 round;		/* set by the driver */
	volatile unsigned int	 seen[];	/* round of the last stats */
};

static struct worker	*workers;
static struct shared	*sh;
static unsigned int	 nworkers = SW_N_DEFAULT;
static uint16_t		 port;
static int		 lfd = -1;	/* one listener for all */
static uint8_t		 ctl_pk[32];
static char		 ctl_id[NODE_ID_LEN + 1];
static long long	 start_ms;
static struct event_base *base;
static struct ws_limits	 limits = {
	4096, WIRE_REC_MAX + 64, 0, 10, 10
};

static char		 build[PATH_MAX], lethctl[PATH_MAX + 16];
static char		 tdir[PATH_MAX], sock[PATH_MAX + 16];
static pid_t		 swarm_pid = -1, lethd_pid = -1;
static pid_t		 procs[SW_PROCS];
static double		 ctl_last_cpu;	/* of the last lethctl run */
static const char	*proc_names[SW_PROCS] = {
	"lethd", "keyd", "netd", "minerd"
};

static long long
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
hex_id(const uint8_t pk[32], char id[NODE_ID_LEN + 1])
{
	(void)sodium_bin2hex(id, NODE_ID_LEN + 1, pk, NODE_ID_LEN / 2);
}

/*
 * The swarm: one event loop, N workers.
 */

static void	w_open(struct ws *, void *);
static void	w_message(struct ws *, const uint8_t *, size_t, void *);
static void	w_closed(struct ws *, uint16_t, const char *, void *);
static void	w_addr(unsigned int, struct in_addr *);

static const struct ws_callbacks w_cb = { w_open, w_message, w_closed };

static void
w_reset(struct worker *w)
{
	if (w->hs != NULL) {
		hs_clear(w->hs);
		free(w->hs);
		w->hs = NULL;
	}
	if (w->up) {
		sh->ups--;
		w->up = 0;
	}
	session_clear(&w->sess);
}

static void
w_open(struct ws *ws, void *arg)
{
}

static void
w_closed(struct ws *ws, uint16_t code, const char *why, void *arg)
{
	struct worker	*w = arg;

	w_reset(w);
	ws_free(ws);
	if (w->ws == ws)
		w->ws = NULL;
}

static void
w_sign(const struct worker *w, const char *label, const uint8_t *hash,
    uint8_t sig[64])
{
	uint8_t	 m[64 + WIRE_HASH_LEN];
	size_t	 ll = strlen(label);

	memcpy(m, label, ll);
	memcpy(m + ll, hash, WIRE_HASH_LEN);
	crypto_sign_detached(sig, NULL, m, ll + WIRE_HASH_LEN, w->sk);
}

static void
w_handshake(struct worker *w, const uint8_t *buf, size_t len)
{
	struct hs_identity	 self;
	struct session_keys	 keys;
	uint8_t			 out[WIRE_HS2_MAX], hash[WIRE_HASH_LEN];
	uint8_t			 sig[64];
	const char		*why = NULL;
	size_t			 outlen = sizeof(out);
	uint32_t		 label;

	if (w->hs == NULL && buf[0] == WIRE_HS1) {
		if ((w->hs = calloc(1, sizeof(*w->hs))) == NULL)
			err(1, "calloc");
		memset(&self, 0, sizeof(self));
		memcpy(self.pk, w->pk, sizeof(self.pk));
		self.role = ROLE_WORKER;
		(void)snprintf(self.name, sizeof(self.name), "swarm-%u",
		    (unsigned int)(w - workers));
		hs_init(w->hs, 0, &self);
		if (hs_read1(w->hs, buf, len, &why) == -1 ||
		    hs_sign_request(w->hs, hash, &label) == -1 ||
		    label != KEY_LABEL_HANDSHAKE_RESPONDER)
			goto bad;
		w_sign(w, KEY_LABEL_HS_RESPONDER_STR, hash, sig);
		if (hs_write2(w->hs, sig, out, &outlen, &why) == -1)
			goto bad;
		(void)ws_send(w->ws, out, outlen);
		return;
	}
	if (w->hs != NULL && buf[0] == WIRE_HS3 &&
	    w->hs->state == HS_R_SENT2) {
		if (hs_read3(w->hs, buf, len, &why) == -1)
			goto bad;
		/* the allow list: the controller's key only */
		if (memcmp(w->hs->peer.pk, ctl_pk, sizeof(ctl_pk)) != 0) {
			why = "not the controller's key";
			goto bad;
		}
		if (hs_session_keys(w->hs, &keys) == -1)
			goto bad;
		session_init(&w->sess, &keys);
		sodium_memzero(&keys, sizeof(keys));
		hs_clear(w->hs);
		free(w->hs);
		w->hs = NULL;
		w->up = 1;
		sh->ups++;
		sh->handshakes++;
		return;
	}
	why = "unexpected handshake frame";
 bad:
	warnx("worker %u: handshake: %s", (unsigned int)(w - workers),
	    why != NULL ? why : "failed");
	w_reset(w);
	ws_close(w->ws, WS_CLOSE_POLICY, "handshake");
}

static json_t *
w_stats(const struct worker *w, long long now)
{
	json_t		*miners;
	unsigned int	 i, k = w - workers;
	char		 name[16];

	if ((miners = json_array()) == NULL)
		errx(1, "json");
	for (i = 0; i < SW_MINERS; i++) {
		(void)snprintf(name, sizeof(name), "m%u", i + 1);
		if (json_array_append_new(miners, json_pack("{s:s, s:s, "
		    "s:s, s:{s:f, s:f, s:f}, s:I, s:I, s:I, s:s, s:s, s:I}",
		    "name", name, "type", "xmrig", "state", "running",
		    "hashrate", "10s", 1000.0 + k + i, "60s", 1001.5 + k,
		    "15m", 999.25 + k, "shares", (json_int_t)(100 + k),
		    "rejected", (json_int_t)(k % 3), "uptime",
		    (json_int_t)3600, "pool", "stratum+tcp://pool.example:3333",
		    "algorithm", "rx/0", "readAt", (json_int_t)(now - 1500))) ==
		    -1)
			errx(1, "json");
	}
	return (json_pack("{s:s, s:s, s:I, s:o}", "nodeId", w->id,
	    "nodeName", "swarm", "uptime", (json_int_t)3600,
	    "miners", miners));
}

static void
w_send(struct worker *w, enum msg_type type, const char *reply_to,
    json_t *payload)
{
	static uint8_t	 data[WIRE_REC_MAX_DATA], out[SW_FRAME_MAX];
	uint8_t		 hash[MSG_HASH_LEN], rekey[WIRE_REC_OVERHEAD];
	uint8_t		*body;
	char		 id[MSG_UUID_LEN + 1];
	size_t		 len, outlen, rekey_len = 0;

	if ((body = msg_build(type, w->id, ctl_id, wall_ms(), reply_to,
	    payload, id, &len)) == NULL)
		errx(1, "msg_build");
	if (len + MSG_SIG_LEN > sizeof(data))
		errx(1, "answer too long");
	msg_hash(body, len, hash);
	w_sign(w, KEY_LABEL_MESSAGE_STR, hash, data);
	memcpy(data + MSG_SIG_LEN, body, len);
	free(body);
	if (session_seal(&w->sess, data, MSG_SIG_LEN + len, out, &outlen,
	    rekey, &rekey_len) == -1)
		errx(1, "session_seal");
	if (rekey_len > 0)
		(void)ws_send(w->ws, rekey, rekey_len);
	(void)ws_send(w->ws, out, outlen);
}

static void
w_message(struct ws *ws, const uint8_t *buf, size_t len, void *arg)
{
	static uint8_t		 plain[SW_FRAME_MAX];
	struct worker		*w = arg;
	struct msg		 m;
	struct msg_verdict	 v;
	const char		*why = NULL;
	long long		 now;
	size_t			 plen;
	int			 r;

	if (len == 0 || len > sizeof(plain))
		return;
	if (!w->up) {
		w_handshake(w, buf, len);
		return;
	}
	if (buf[0] != WIRE_RECORD ||
	    (r = session_open(&w->sess, buf, len, plain, &plen, &why)) == -1) {
		warnx("worker %u: record: %s", (unsigned int)(w - workers),
		    why != NULL ? why : "not a record");
		w_reset(w);
		ws_close(w->ws, WS_CLOSE_POLICY, "record");
		return;
	}
	if (r == 0)
		return;
	now = wall_ms();
	if (msg_verify(plain, plen, ctl_pk, w->id, now, start_ms, SW_WINDOW,
	    &m, &v) == -1) {
		sh->refused++;
		return;
	}
	if (replay_check(w->rc, m.id, m.ts, now - SW_WINDOW * 1000) != 0) {
		sh->refused++;
		msg_free(&m);
		return;
	}
	switch (m.type) {
	case MSG_PING:
		w_send(w, MSG_PONG, m.id, json_pack("{s:O, s:n}", "sentAt",
		    json_object_get(m.payload, "sentAt") != NULL ?
		    json_object_get(m.payload, "sentAt") : json_null(),
		    "location"));
		sh->pings++;
		break;
	case MSG_GET_STATS:
		w_send(w, MSG_STATS, m.id, w_stats(w, now));
		sh->seen[w - workers] = sh->round;
		sh->stats++;
		break;
	default:
		if (msg_is_request(m.type)) {
			w_send(w, MSG_ERROR, m.id, json_pack("{s:i, s:s, "
			    "s:n}", "code", MSG_ERR_INVALID, "message",
			    "a simulated worker", "details"));
			sh->others++;
		}
		break;
	}
	msg_free(&m);
}

/* Which worker the controller dialled: the local address. */
static struct worker *
w_find(int fd)
{
	struct sockaddr_in	 sin;
	struct in_addr		 a;
	socklen_t		 sl = sizeof(sin);
	uint32_t		 ip;
	unsigned int		 i;

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) == -1 ||
	    sin.sin_family != AF_INET)
		return (NULL);
	ip = ntohl(sin.sin_addr.s_addr);
	if ((ip >> 24) != 127 || ((ip >> 16) & 255) < 10 ||
	    ((ip >> 8) & 255) < 1 || (ip & 255) < 1)
		return (NULL);
	i = (((ip >> 16) & 255) - 10) * 62500 + (((ip >> 8) & 255) - 1) *
	    250 + ((ip & 255) - 1);
	if (i >= nworkers)
		return (NULL);
	w_addr(i, &a);
	return (a.s_addr == sin.sin_addr.s_addr ? &workers[i] : NULL);
}

static void
w_accept(int fd0, short event, void *arg)
{
	struct worker	*w;
	unsigned int	 n;
	int		 fd, on = 1;

	for (n = 0; n < SW_ACCEPT_BATCH; n++) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1)
			return;
		if ((w = w_find(fd)) == NULL) {
			/* not one of ours (the listener takes every
			 * address) */
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
		if (w->ws != NULL) {
			/* the controller dialled again: the old one is
			 * gone */
			w_reset(w);
			ws_free(w->ws);
			w->ws = NULL;
		}
		if ((w->ws = ws_accept(base, fd, &limits, &w_cb, w)) == NULL)
			warnx("worker %u: ws_accept",
			    (unsigned int)(w - workers));
	}
}

static void
w_addr(unsigned int i, struct in_addr *a)
{
	/* 127.a.b.c, a from 10, b and c from 1 to 250 */
	a->s_addr = htonl((127U << 24) | ((10 + i / 62500) << 16) |
	    ((1 + (i / 250) % 250) << 8) | (1 + i % 250));
}

/*
 * One listener on every address, port chosen by the kernel: a socket
 * for each of 10,000 loopback addresses would take as many descriptors
 * as the sessions, and the hard limit may not allow both.
 */
static void
w_listen(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind");
	if (listen(lfd, SOMAXCONN) == -1)
		err(1, "listen");
	if (getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		err(1, "getsockname");
	port = ntohs(sin.sin_port);
}

static void
swarm_stop(int sig, short event, void *arg)
{
	event_base_loopbreak(base);
}

/* The child: serve until SIGTERM (or the driver's death). */
static void
swarm_run(int ready)
{
	struct event	*sev, *lev;
	unsigned int	 i;

	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	start_ms = wall_ms() - 1000;
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	for (i = 0; i < nworkers; i++)
		if ((workers[i].rc = replay_new(SW_REPLAY)) == NULL)
			errx(1, "replay_new");
	if ((lev = event_new(base, lfd, EV_READ | EV_PERSIST, w_accept,
	    NULL)) == NULL || event_add(lev, NULL) == -1)
		errx(1, "event_new");
	if ((sev = evsignal_new(base, SIGTERM, swarm_stop, NULL)) == NULL ||
	    evsignal_add(sev, NULL) == -1)
		errx(1, "evsignal");
	if (write(ready, "r", 1) != 1)
		err(1, "write");
	close(ready);
	event_base_dispatch(base);
	_exit(0);
}

/*
 * The driver.
 */

static void
cleanup(void)
{
	char	*argv[] = { "rm", "-rf", tdir, NULL };
	pid_t	 pid;
	int	 i, st;

	if (swarm_pid > 0) {
		kill(swarm_pid, SIGTERM);
		(void)waitpid(swarm_pid, &st, 0);
		swarm_pid = -1;
	}
	if (lethd_pid > 0) {
		kill(lethd_pid, SIGTERM);
		for (i = 0; i < 100 && kill(lethd_pid, 0) == 0; i++)
			usleep(100000);
		if (kill(lethd_pid, 0) == 0)
			kill(lethd_pid, SIGKILL);
		lethd_pid = -1;
	}
	if (tdir[0] != '\0' && getenv("SWARM_KEEP") == NULL) {
		if ((pid = fork()) == 0) {
			execvp("rm", argv);
			_exit(127);
		}
		if (pid > 0)
			(void)waitpid(pid, &st, 0);
	}
}

static void
on_signal(int sig)
{
	cleanup();
	_exit(1);
}

/*
 * Run lethctl -s SOCK args...; its stdout in *out (NUL-terminated,
 * malloc'd) if out is not NULL; stderr to /dev/null if quiet.
 * Returns the exit status (-1 if it did not exit).
 */
static int
ctl(char **out, int quiet, const char *a0, ...)
{
	struct rusage	 ru;
	char		*argv[16], *buf = NULL;
	const char	*a;
	size_t		 n = 0, have = 0, cap = 0;
	ssize_t		 r;
	va_list		 ap;
	pid_t		 pid;
	int		 p[2], st, dn;

	argv[n++] = lethctl;
	argv[n++] = "-s";
	argv[n++] = sock;
	va_start(ap, a0);
	for (a = a0; a != NULL && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		(void)dup2(p[1], 1);
		if (quiet && (dn = open("/dev/null", O_WRONLY)) != -1)
			(void)dup2(dn, 2);
		execv(lethctl, argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		if (have + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 131072;
			if (cap > SW_OUT_MAX || (buf = realloc(buf, cap)) ==
			    NULL)
				errx(1, "lethctl output too large");
		}
		if ((r = read(p[0], buf + have, cap - have - 1)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		have += r;
	}
	close(p[0]);
	if (buf != NULL)
		buf[have] = '\0';
	while (wait4(pid, &st, 0, &ru) == -1)
		if (errno != EINTR)
			err(1, "wait4");
	ctl_last_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int
has_remote_status(void)
{
	char	 path[PATH_MAX + 32];
	int	 r;

	/* lethctl prints its commands on usage */
	(void)snprintf(path, sizeof(path), "%s/usage.txt", tdir);
	{
		char	*argv[] = { lethctl, NULL };
		pid_t	 pid;
		int	 fd, st;
		FILE	*f;
		char	 line[512];

		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1)
			err(1, "%s", path);
		if ((pid = fork()) == 0) {
			(void)dup2(fd, 2);
			(void)dup2(fd, 1);
			execv(lethctl, argv);
			_exit(127);
		}
		close(fd);
		(void)waitpid(pid, &st, 0);
		if ((f = fopen(path, "r")) == NULL)
			err(1, "%s", path);
		r = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "remote status") != NULL)
				r = 1;
		fclose(f);
	}
	return (r);
}

static void
find_procs(void)
{
	char		 path[PATH_MAX + 32], line[256], cmd[64];
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	size_t		 i, l;
	long		 ppid;
	int		 fd;
	ssize_t		 r;

	procs[0] = lethd_pid;
	for (i = 1; i < SW_PROCS; i++)
		procs[i] = -1;
	if ((d = opendir("/proc")) == NULL)
		err(1, "/proc");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/status",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		ppid = -1;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "PPid: %ld", &ppid) == 1)
				break;
		fclose(f);
		if (ppid != lethd_pid)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/cmdline",
		    de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (r <= 0)
			continue;
		cmd[r] = '\0';
		for (i = 1; i < SW_PROCS; i++) {
			l = strlen(proc_names[i]);
			if (strncmp(cmd, "lethd: ", 7) == 0 &&
			    strncmp(cmd + 7, proc_names[i], l) == 0 &&
			    (cmd[7 + l] == '\0' || cmd[7 + l] == ' '))
				procs[i] = (pid_t)strtol(de->d_name, NULL,
				    10);
		}
	}
	closedir(d);
	for (i = 0; i < SW_PROCS; i++)
		if (procs[i] <= 0)
			errx(1, "no lethd %s process", proc_names[i]);
}

static long
ctl_pss(long each[SW_PROCS])
{
	long	 sum = 0;
	size_t	 i;

	for (i = 0; i < SW_PROCS; i++) {
		each[i] = rig_pss_kib(procs[i]);
		sum += each[i];
	}
	return (sum);
}

static void
ctl_cpu(double each[SW_PROCS])
{
	size_t	 i;

	for (i = 0; i < SW_PROCS; i++)
		each[i] = rig_cpu(procs[i]);
}

static double
ctl_ticks(void)
{
	double	 t = 0;
	size_t	 i;

	for (i = 0; i < SW_PROCS; i++)
		t += rig_cpu_ticks(procs[i]);
	return (t);
}

static void
settle(double secs)
{
	double	 end = rig_now() + secs;

	while (rig_now() < end)
		usleep(50000);
}

static void
write_conf(void)
{
	char	 path[PATH_MAX + 32];
	FILE	*f;

	(void)snprintf(path, sizeof(path), "%s/lethd.conf", tdir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	/* raised for the fleet; every other limit at its default */
	fprintf(f, "directory \"%s/base\"\nsocket \"%s\"\n"
	    "listen on 127.0.0.1 port 0\n"
	    "name \"swarm-controller\"\n"
	    "max connections %u\n"
	    "keyd sign rate 100000\n"
	    "control timeout 300\n", tdir, sock, nworkers + 64);
	if (fclose(f) == EOF)
		err(1, "%s", path);
}

static void
start_lethd(void)
{
	char	 conf[PATH_MAX + 32], logp[PATH_MAX + 32], pidp[PATH_MAX + 32];
	char	 lethd[PATH_MAX + 16], buf[32];
	char	*argv[] = { lethd, "-d", "-f", conf, "-x", build, NULL };
	double	 end;
	pid_t	 pid;
	FILE	*f;
	int	 fd;

	(void)snprintf(conf, sizeof(conf), "%s/lethd.conf", tdir);
	(void)snprintf(logp, sizeof(logp), "%s/lethd.log", tdir);
	(void)snprintf(pidp, sizeof(pidp), "%s/base/lethd.pid", tdir);
	(void)snprintf(lethd, sizeof(lethd), "%s/lethd", build);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		(void)setsid();
		if ((fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1)
			_exit(127);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			(void)dup2(fd, 0);
		execv(lethd, argv);
		_exit(127);
	}
	lethd_pid = pid;
	end = rig_now() + SW_START_WAIT;
	while (ctl(NULL, 1, "status", NULL) != 0) {
		if (rig_now() > end)
			errx(1, "lethd did not answer (see %s)", logp);
		usleep(100000);
	}
	if ((f = fopen(pidp, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			lethd_pid = (pid_t)strtol(buf, NULL, 10);
		fclose(f);
	}
}

static void
controller_key(void)
{
	json_error_t	 je;
	json_t		*root, *v;
	char		*out;
	size_t		 len;

	if (ctl(NULL, 0, "node", "init", "--role", "controller", NULL) != 0)
		errx(1, "lethctl node init failed");
	if (ctl(&out, 0, "-j", "node", "info", NULL) != 0 || out == NULL)
		errx(1, "lethctl node info failed");
	if ((root = json_loads(out, 0, &je)) == NULL ||
	    (v = json_object_get(root, "publicKey")) == NULL ||
	    !json_is_string(v) ||
	    sodium_base642bin(ctl_pk, sizeof(ctl_pk), json_string_value(v),
	    json_string_length(v), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof(ctl_pk))
		errx(1, "no publicKey in node info: %s", out);
	hex_id(ctl_pk, ctl_id);
	json_decref(root);
	free(out);
}

/* Write the import files, SW_IMPORT_CHUNK peers each; returns how many. */
static unsigned int
write_imports(void)
{
	char		 path[PATH_MAX + 32], b64[64];
	unsigned int	 i, f = 0;
	FILE		*fp = NULL;

	for (i = 0; i < nworkers; i++) {
		if (i % SW_IMPORT_CHUNK == 0) {
			if (fp != NULL) {
				fprintf(fp, "\n]}\n");
				if (fclose(fp) == EOF)
					err(1, "import file");
			}
			(void)snprintf(path, sizeof(path), "%s/import%u.json",
			    tdir, f++);
			if ((fp = fopen(path, "w")) == NULL)
				err(1, "%s", path);
			fprintf(fp, "{\"peers\": [\n");
		} else
			fprintf(fp, ",\n");
		(void)sodium_bin2base64(b64, sizeof(b64), workers[i].pk, 32,
		    sodium_base64_VARIANT_ORIGINAL);
		fprintf(fp, "{\"address\": \"%s:%u\", \"publicKey\": \"%s\", "
		    "\"name\": \"swarm-%u\"}", inet_ntoa(workers[i].addr),
		    port, b64, i);
	}
	if (fp != NULL) {
		fprintf(fp, "\n]}\n");
		if (fclose(fp) == EOF)
			err(1, "import file");
	}
	return (f);
}

/* Connected peers in `lethctl -j peer list'. */
static unsigned int
listed_connected(void)
{
	json_error_t	 je;
	json_t		*root, *arr, *e;
	char		*out = NULL;
	size_t		 i;
	unsigned int	 n = 0;

	if (ctl(&out, 0, "-j", "peer", "list", NULL) != 0 || out == NULL)
		errx(1, "lethctl peer list failed");
	if ((root = json_loads(out, 0, &je)) == NULL)
		errx(1, "peer list: %s", je.text);
	arr = json_is_array(root) ? root : json_object_get(root, "peers");
	json_array_foreach(arr, i, e)
		if (json_is_true(json_object_get(e, "connected")))
			n++;
	json_decref(root);
	free(out);
	return (n);
}

static unsigned int
answered(unsigned int round)
{
	unsigned int	 i, n = 0;

	for (i = 0; i < nworkers; i++)
		if (sh->seen[i] == round)
			n++;
	return (n);
}

static int
dcmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: swarm [-n workers] [-r rounds] "
	    "[-b builddir] [--smoke]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "smoke", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct rlimit	 rl;
	const char	*errstr, *b;
	char		 path[PATH_MAX + 32], idbuf[NODE_ID_LEN + 1];
	char		*out;
	double		 t0, t1, end, c0[SW_PROCS], c1[SW_PROCS], tk0, tk1;
	double		 times[16], cpus[16], sw0, sw1, base_t[3], hs_cpu;
	long		 p0[SW_PROCS], p1[SW_PROCS], pss0, pss1;
	unsigned int	 i, r, rounds = SW_ROUNDS, nimp, got, missing = 0;
	int		 ch, smoke = 0, ready[2], remote, rc, fails = 0;
	char		 c;

	while ((ch = getopt_long(argc, argv, "b:n:r:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'b':
			if (strlcpy(build, optarg, sizeof(build)) >=
			    sizeof(build))
				errx(1, "build dir too long");
			break;
		case 'n':
			nworkers = strtonum(optarg, 1, SW_N_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "workers %s: %s", optarg, errstr);
			break;
		case 'r':
			rounds = strtonum(optarg, 1, 16, &errstr);
			if (errstr != NULL)
				errx(1, "rounds %s: %s", optarg, errstr);
			break;
		case 'S':
			smoke = 1;
			break;
		default:
			usage();
		}
	}
	if (smoke) {
		nworkers = SW_N_SMOKE;
		rounds = 1;
	}
	if (build[0] == '\0') {
		b = getenv("LETHD_BENCH_BUILDDIR");
		(void)strlcpy(build, b != NULL ? b : BUILDDIR, sizeof(build));
	}
	(void)snprintf(lethctl, sizeof(lethctl), "%s/lethctl", build);
	if (geteuid() != 0)
		errx(1, "run as root: lethd runs as it does for real");
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the sessions here, and in netd: lethd inherits the hard limit
	 * and raises netd's to fit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < nworkers + 256) {
		rl.rlim_cur = rl.rlim_max = nworkers + 256;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(1, "setrlimit RLIMIT_NOFILE %u", nworkers + 256);
	} else if (rl.rlim_cur < nworkers + 256) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(1, "setrlimit");
	}
	signal(SIGPIPE, SIG_IGN);

	if ((sh = mmap(NULL, sizeof(*sh) + nworkers * sizeof(sh->seen[0]),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) ==
	    MAP_FAILED)
		err(1, "mmap");
	if ((workers = calloc(nworkers, sizeof(*workers))) == NULL)
		err(1, "calloc");
	for (i = 0; i < nworkers; i++) {
		crypto_sign_keypair(workers[i].pk, workers[i].sk);
		hex_id(workers[i].pk, workers[i].id);
		w_addr(i, &workers[i].addr);
	}
	w_listen();

	(void)strlcpy(tdir, "/run/lethd-swarm.XXXXXX", sizeof(tdir));
	if (mkdtemp(tdir) == NULL)
		err(1, "mkdtemp");
	(void)chmod(tdir, 0755);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	(void)snprintf(sock, sizeof(sock), "%s/lethd.sock", tdir);
	write_conf();
	start_lethd();
	controller_key();
	find_procs();
	remote = has_remote_status();

	printf("swarm: %u workers on 127.10.1.1.. port %u (one listener on *:%u), build %s\n",
	    nworkers, port, port, build);
	settle(SW_SETTLE);
	pss0 = ctl_pss(p0);

	/* the swarm process */
	if (pipe(ready) == -1)
		err(1, "pipe");
	if ((swarm_pid = fork()) == -1)
		err(1, "fork");
	if (swarm_pid == 0) {
		close(ready[0]);
		swarm_run(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		errx(1, "the swarm did not start");
	close(ready[0]);
	close(lfd);

	/* connect: import every worker, pinned; minerd dials them all */
	nimp = write_imports();
	ctl_cpu(c0);
	sw0 = rig_cpu(swarm_pid);
	t0 = rig_now();
	for (i = 0; i < nimp; i++) {
		(void)snprintf(path, sizeof(path), "%s/import%u.json", tdir, i);
		if (ctl(NULL, 0, "peer", "import", path, NULL) != 0)
			errx(1, "lethctl peer import %s failed", path);
	}
	end = t0 + (smoke ? 30 : 60 + nworkers / 50.0);
	while (sh->ups < nworkers && rig_now() < end)
		usleep(5000);
	t1 = rig_now();
	ctl_cpu(c1);
	sw1 = rig_cpu(swarm_pid);
	if (sh->ups < nworkers) {
		printf("FAIL: %u of %u workers connected after %.1f s\n",
		    sh->ups, nworkers, t1 - t0);
		return (1);
	}
	hs_cpu = 0;
	for (i = 1; i < SW_PROCS; i++)
		hs_cpu += c1[i] - c0[i];
	printf("connect: %u sessions in %.3f s = %.0f handshakes/s "
	    "(import of %u file%s included)\n", nworkers, t1 - t0,
	    nworkers / (t1 - t0), nimp, nimp == 1 ? "" : "s");
	printf("  controller CPU per handshake %.0f us (keyd %.0f, netd %.0f, "
	    "minerd %.0f); the swarm's %.0f us\n", hs_cpu * 1e6 / nworkers,
	    (c1[1] - c0[1]) * 1e6 / nworkers, (c1[2] - c0[2]) * 1e6 / nworkers,
	    (c1[3] - c0[3]) * 1e6 / nworkers, (sw1 - sw0) * 1e6 / nworkers);
	printf("  handshakes the workers finished: %u (redials %u)\n",
	    sh->handshakes, sh->handshakes - nworkers);
	if ((got = listed_connected()) != nworkers) {
		printf("FAIL: lethctl peer list shows %u of %u connected\n",
		    got, nworkers);
		fails++;
	}

	settle(SW_SETTLE);
	pss1 = ctl_pss(p1);
	printf("controller PSS: %ld KiB with no peer, %ld KiB with %u "
	    "connected\n", pss0, pss1, nworkers);
	for (i = 0; i < SW_PROCS; i++)
		printf("  %-6s %6ld -> %7ld KiB (%+.2f KiB a worker)\n",
		    proc_names[i], p0[i], p1[i],
		    (double)(p1[i] - p0[i]) / nworkers);
	printf("  per connected worker: %.2f KiB = %.2f x the 32 KiB goal\n",
	    (double)(pss1 - pss0) / nworkers,
	    (double)(pss1 - pss0) / nworkers / 32);

	/* baseline: a lethctl round trip that asks no peer */
	for (i = 0; i < 3; i++) {
		t0 = rig_now();
		(void)ctl(NULL, 0, "-j", "status", NULL);
		base_t[i] = rig_now() - t0;
	}
	qsort(base_t, 3, sizeof(base_t[0]), dcmp);
	printf("baseline: lethctl -j status %.1f ms (median of 3)\n",
	    base_t[1] * 1000);

	if (!remote) {
		/* not built yet: every worker pinged instead */
		printf("lethctl has no `remote status': pinging every worker "
		    "instead\n");
		sh->round = 0;
		t0 = rig_now();
		for (i = 0; i < nworkers; i++) {
			hex_id(workers[i].pk, idbuf);
			if (ctl(NULL, 0, "peer", "ping", idbuf, NULL) != 0)
				missing++;
		}
		t1 = rig_now();
		printf("peer ping x %u: %.3f s, %u failed, %u pongs\n",
		    nworkers, t1 - t0, missing, sh->pings);
		if (missing > 0 || sh->pings < nworkers)
			fails++;
		goto done;
	}
	for (r = 0; r < rounds; r++) {
		sh->round = r + 1;
		ctl_cpu(c0);
		tk0 = ctl_ticks();
		sw0 = rig_cpu(swarm_pid);
		t0 = rig_now();
		rc = ctl(&out, 0, "-j", "remote", "status", "--all", NULL);
		t1 = rig_now();
		ctl_cpu(c1);
		tk1 = ctl_ticks();
		sw1 = rig_cpu(swarm_pid);
		times[r] = t1 - t0;
		cpus[r] = 0;
		for (i = 0; i < SW_PROCS; i++)
			cpus[r] += c1[i] - c0[i];
		got = answered(r + 1);
		printf("remote status --all #%u: %.3f s, exit %d, %u of %u "
		    "workers answered, %zu bytes of JSON; lethctl's own CPU "
		    "%.3f s\n", r + 1, times[r], rc, got, nworkers,
		    out != NULL ? strlen(out) : 0, ctl_last_cpu);
		printf("  controller CPU %.3f s = %.1f us a worker (lethd %.0f, "
		    "keyd %.0f, netd %.0f, minerd %.0f us; stat ticks %.0f "
		    "us); the swarm's %.1f us\n", cpus[r],
		    cpus[r] * 1e6 / nworkers, (c1[0] - c0[0]) * 1e6 / nworkers,
		    (c1[1] - c0[1]) * 1e6 / nworkers,
		    (c1[2] - c0[2]) * 1e6 / nworkers,
		    (c1[3] - c0[3]) * 1e6 / nworkers,
		    (tk1 - tk0) * 1e6 / nworkers, (sw1 - sw0) * 1e6 / nworkers);
		printf("  CPU of the whole call (controller + swarm + lethctl): "
		    "%.3f s; on 2 cores it cannot take less than %.3f s\n",
		    cpus[r] + (sw1 - sw0) + ctl_last_cpu,
		    (cpus[r] + (sw1 - sw0) + ctl_last_cpu) / 2);
		if (rc != 0 || got != nworkers)
			fails++;
		free(out);
		settle(smoke ? 0.2 : 1.0);
	}
	qsort(times, rounds, sizeof(times[0]), dcmp);
	qsort(cpus, rounds, sizeof(cpus[0]), dcmp);
	printf("remote status --all, %u workers: median %.3f s, min %.3f s "
	    "= %.1f x the lethctl baseline; %.1f us a worker\n", nworkers,
	    times[rounds / 2], times[0], times[rounds / 2] / base_t[1],
	    times[rounds / 2] * 1e6 / nworkers);
	if (nworkers == 1000 || nworkers == 10000)
		printf("  = %.2f x the goal (%s)\n", times[rounds / 2] /
		    (nworkers == 1000 ? 0.25 : 2.0), nworkers == 1000 ?
		    "250 ms for 1,000" : "2 s for 10,000");
	printf("  controller CPU per worker: median %.1f us\n",
	    cpus[rounds / 2] * 1e6 / nworkers);
 done:
	printf("requests refused by the workers: %u; other requests: %u\n",
	    sh->refused, sh->others);
	if (sh->refused > 0)
		fails++;
	if (fails > 0) {
		printf("FAIL: %d check%s failed\n", fails, fails == 1 ? "" :
		    "s");
		return (1);
	}
	printf("ok\n");
	if ((b = getenv("SWARM_HOLD")) != NULL) {
		printf("holding for %s s: socket %s, pids lethd %d keyd %d "
		    "netd %d minerd %d swarm %d\n", b, sock, (int)procs[0],
		    (int)procs[1], (int)procs[2], (int)procs[3],
		    (int)swarm_pid);
		settle(strtonum(b, 0, 86400, NULL));
	}
	return (0);
}
