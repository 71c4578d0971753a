/*
 * Starting, wiring, restarting and stopping the children.
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "lethd_proc.h"

#define CHILD_STOP_POLL_MS	50	/* waitpid polling during shutdown */

/* Which user each child runs as. */
static const int child_user[PROC_MAX] = {
	[PROC_KEYD] = USER_KEYD,
	[PROC_NETD] = USER_NETD,
	[PROC_MINERD] = USER_MINERD,
};

/* Shutdown order: the engine first, the key holder last. */
static const enum lethd_proc stop_order[] = {
	PROC_MINERD, PROC_NETD, PROC_KEYD
};

static struct child	*table[PROC_MAX];

static void	child_restart_cb(int, short, void *);
static void	child_wire(struct child *);
static void	child_init_msg(struct child *, struct child_init *);
static pid_t	child_exec(struct child *, int);

void
child_table_init(struct child *c, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		table[c[i].proc] = &c[i];
		c[i].iev.open = 0;
		c[i].restart_ev = evtimer_new(ev_base, child_restart_cb,
		    &c[i]);
		if (c[i].restart_ev == NULL)
			fatalx("evtimer_new");
		c[i].uid = env->uid[child_user[c[i].proc]];
		c[i].gid = env->gid[child_user[c[i].proc]];
	}
}

struct child *
child_get(enum lethd_proc p)
{
	if ((unsigned int)p >= PROC_MAX || table[p] == NULL)
		fatalx("no child %u", p);
	return (table[p]);
}

void
child_start_all(void)
{
	child_start(child_get(PROC_KEYD));
	child_start(child_get(PROC_NETD));
	child_start(child_get(PROC_MINERD));
}

static void
child_init_msg(struct child *c, struct child_init *ci)
{
	const struct lethd_conf	*conf = &env->conf;
	int			 n;

	memset(ci, 0, sizeof(*ci));
	ci->version = CHILD_INIT_VERSION;
	ci->proc = c->proc;
	ci->uid = c->uid;
	ci->gid = c->gid;
	ci->debug = env->debug;
	ci->verbose = env->verbose;
	ci->parent_start = env->started;
	switch (c->proc) {
	case PROC_KEYD:
		n = snprintf(ci->root, sizeof(ci->root), "%s/%s",
		    conf->directory, LETHD_KEYD_DIR);
		break;
	case PROC_NETD:
		n = snprintf(ci->root, sizeof(ci->root), "%s/%s",
		    conf->directory, LETHD_EMPTY_DIR);
		break;
	case PROC_MINERD:
		n = snprintf(ci->workdir, sizeof(ci->workdir), "%s/%s",
		    conf->directory, LETHD_STATE_DIR);
		break;
	default:
		fatalx("%s: bad proc", __func__);
	}
	if (n < 0 || (size_t)n >= sizeof(ci->root))
		fatalx("%s: path too long", conf->directory);
	ci->ctl_gid = env->ctl_gid;
	ci->ctl_max_conn = conf->ctl_max_conn;
	ci->ctl_timeout = conf->ctl_timeout;
	(void)strlcpy(ci->node_name, conf->name, sizeof(ci->node_name));
	ci->net_max_conn = conf->net_max_conn;
	ci->net_max_handshakes = conf->net_max_handshakes;
	ci->net_hs_per_addr = conf->net_hs_per_addr;
	ci->net_hs_per_subnet = conf->net_hs_per_subnet;
	ci->net_hs_timeout = conf->net_hs_timeout;
	ci->net_max_message = conf->net_max_message;
	ci->net_msg_rate = conf->net_msg_rate;
	ci->net_ping_interval = conf->net_ping_interval;
	ci->net_pong_timeout = conf->net_pong_timeout;
	ci->net_max_header = conf->net_max_header;
	ci->net_session_lifetime = conf->net_session_lifetime;
	ci->keyd_sign_rate = conf->keyd_sign_rate;
	ci->msg_ts_window = conf->msg_ts_window;
	ci->replay_cache_max = conf->replay_cache_max;
	(void)strlcpy(ci->advertise, conf->advertise, sizeof(ci->advertise));
	ci->miner_poll = conf->miner_poll;
	ci->watchdog_zero = conf->watchdog_zero;
	ci->watchdog_api = conf->watchdog_api;
	ci->ring_lines = conf->ring_lines;
	ci->ring_bytes = conf->ring_bytes;
	ci->history_samples = conf->history_samples;
	ci->history_minutes = conf->history_minutes;
	ci->history_max_mb = conf->history_max_mb;
	ci->miner_stop_grace = conf->miner_stop_grace;
	ci->has_location = conf->has_location;
	ci->lat_e6 = conf->lat_e6;
	ci->lon_e6 = conf->lon_e6;
	memcpy(ci->select_weight, conf->select_weight,
	    sizeof(ci->select_weight));
	memcpy(ci->select_bound, conf->select_bound,
	    sizeof(ci->select_bound));
	ci->select_ping_interval = conf->select_ping_interval;
	ci->remote_timeout = conf->remote_timeout;
	ci->remote_command_timeout = conf->remote_command_timeout;
}

/*
 * fork and exec one child with its end of the parent pipe on fd 3 and
 * nothing else open but 0, 1 and 2.  The child's title is its argv[0].
 */
static pid_t
child_exec(struct child *c, int fd)
{
	char		 path[PATH_MAX], title[32];
	char		*argv[2];
	char		*envp[4];
	struct rlimit	 rl;
	struct stat	 st;
	sigset_t	 set;
	pid_t		 pid;
	int		 nenv = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", env->libexec,
	    c->binary) >= sizeof(path)) {
		log_warnx("%s: path too long", c->binary);
		return (-1);
	}
	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_warnx("%s: not owned by root or writable by others: "
		    "refusing to run it", path);
		return (-1);
	}
	(void)snprintf(title, sizeof(title), "lethd: %s", c->name);
	argv[0] = title;
	argv[1] = NULL;
#ifdef SANITIZER_SANDBOX
	/* a sanitizer build passes its runtime options on, nothing else */
	{
		static char	 asan[512], ubsan[512];
		const char	*v;

		if ((v = getenv("ASAN_OPTIONS")) != NULL) {
			(void)snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s",
			    v);
			envp[nenv++] = asan;
		}
		if ((v = getenv("UBSAN_OPTIONS")) != NULL) {
			(void)snprintf(ubsan, sizeof(ubsan),
			    "UBSAN_OPTIONS=%s", v);
			envp[nenv++] = ubsan;
		}
	}
#endif
	envp[nenv] = NULL;

	switch (pid = fork()) {
	case -1:
		log_warn("fork %s", c->name);
		return (-1);
	case 0:
		break;
	default:
		return (pid);
	}

	/* child: no logging from here on, only _exit */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	/* stdin and stdout: nothing; stderr stays the parent's, for a
	 * sanitizer's report or a child's dying word before its log pipe */
	if (dup2(env->devnull, STDIN_FILENO) == -1 ||
	    dup2(env->devnull, STDOUT_FILENO) == -1)
		_exit(127);
	if (fd != CHILD_PARENT_FD) {
		if (dup2(fd, CHILD_PARENT_FD) == -1)
			_exit(127);
	} else if (fcntl(fd, F_SETFD, 0) == -1)
		_exit(127);
	/* close everything else: the child starts with 0-3 only */
	if (close_range(CHILD_PARENT_FD + 1, ~0U, 0) == -1) {
		int	 i;

		for (i = CHILD_PARENT_FD + 1; i < 65536; i++)
			(void)close(i);
	}
	if (c->proc == PROC_NETD) {
		rl.rlim_cur = rl.rlim_max = env->conf.net_max_conn +
		    NET_FD_RESERVE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			_exit(126);
	}
	execve(path, argv, envp);
	_exit(127);
}

/* Start c, send it its configuration and wire it to the living. */
void
child_start(struct child *c)
{
	struct child_init	 ci;
	int			 sp[2];

	if (env->shutting_down || c->pid > 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("socketpair");
		goto retry;
	}
	if ((c->pid = child_exec(c, sp[1])) == -1) {
		c->pid = 0;
		close(sp[0]);
		close(sp[1]);
		goto retry;
	}
	close(sp[1]);
	c->started = time(NULL);
	c->started_mono = mono_secs();
	c->ready = 0;
	imsgev_init(&c->iev, sp[0], c->proc, c->dispatch, c);
	child_init_msg(c, &ci);
	if (imsgev_compose(&c->iev, IMSG_INIT, 0, 0, -1, &ci,
	    sizeof(ci)) == -1)
		fatal("compose init");
	child_wire(c);
	if (c->proc == PROC_MINERD)
		miner_minerd_up();	/* records, with output pipe dups */
	log_debug("started %s (pid %d)", c->name, (int)c->pid);
	return;
 retry:
	c->backoff = c->backoff ? MIN(c->backoff * 2, CHILD_BACKOFF_MAX) :
	    CHILD_BACKOFF_MIN;
	{
		struct timeval	 tv = { c->backoff, 0 };

		evtimer_add(c->restart_ev, &tv);
	}
}

/*
 * Fresh pipes between c and every living sibling, and c's sockets.
 * netd never holds an end of minerd<->keyd: pipes are made per pair.
 */
static void
child_wire(struct child *c)
{
	struct child	*s;
	uint32_t	 proc;
	unsigned int	 i;
	int		 sp[2], fd, p;

	for (p = PROC_KEYD; p < PROC_MAX; p++) {
		s = child_get(p);
		if (s == c || s->pid <= 0 || !s->iev.open)
			continue;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sp) == -1)
			fatal("socketpair");
		proc = s->proc;
		if (imsgev_compose(&c->iev, IMSG_PIPE, 0, 0, sp[0], &proc,
		    sizeof(proc)) == -1) {
			close(sp[0]);
			close(sp[1]);
			child_cutoff(c, "pipe");
			return;
		}
		proc = c->proc;
		if (imsgev_compose(&s->iev, IMSG_PIPE, 0, 0, sp[1], &proc,
		    sizeof(proc)) == -1) {
			close(sp[1]);
			child_cutoff(s, "pipe");
		}
	}
	switch (c->proc) {
	case PROC_MINERD:
		if ((fd = dup(env->ctl_fd)) == -1)
			fatal("dup");
		if (imsgev_compose(&c->iev, IMSG_CTL_LISTEN, 0, 0, fd, NULL,
		    0) == -1) {
			close(fd);
			child_cutoff(c, "listen");
			break;
		}
		if (env->api_fd == -1)
			break;
		if ((fd = dup(env->api_fd)) == -1)
			fatal("dup");
		if (imsgev_compose(&c->iev, IMSG_API_LISTEN, 0, 0, fd, NULL,
		    0) == -1) {
			close(fd);
			child_cutoff(c, "listen");
		}
		break;
	case PROC_NETD:
		for (i = 0; i < env->nnet; i++) {
			if ((fd = dup(env->net_fd[i])) == -1)
				fatal("dup");
			if (imsgev_compose(&c->iev, IMSG_NET_LISTEN, 0, 0, fd,
			    NULL, 0) == -1) {
				close(fd);
				child_cutoff(c, "listen");
				break;
			}
		}
		break;
	default:
		break;
	}
}

static void
child_restart_cb(int fd, short event, void *arg)
{
	child_start(arg);
}

void
child_reaped(pid_t pid, int status)
{
	struct child	*c = NULL;
	struct timeval	 tv;
	long long	 ran;
	int		 p;

	for (p = PROC_KEYD; p < PROC_MAX; p++)
		if (child_get(p)->pid == pid)
			c = child_get(p);
	if (c == NULL)
		return;
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d%s", c->name,
		    (int)pid, WTERMSIG(status),
		    WTERMSIG(status) == SIGSYS ? " (seccomp)" : "");
	else
		log_warnx("%s (pid %d) exited with status %d", c->name,
		    (int)pid, WEXITSTATUS(status));
	c->pid = 0;
	imsgev_close(&c->iev);
	if (c->proc == PROC_MINERD)
		miner_minerd_down();	/* the parent drains the pipes */
	if (env->shutting_down)
		return;

	ran = mono_secs() - c->started_mono;
	if (ran >= CHILD_STABLE_SECS)
		c->backoff = 0;
	else
		c->backoff = c->backoff ? MIN(c->backoff * 2,
		    CHILD_BACKOFF_MAX) : CHILD_BACKOFF_MIN;
	c->restarts++;
	log_warnx("restarting %s in %u s (restart %u)", c->name, c->backoff,
	    c->restarts);
	tv.tv_sec = c->backoff;
	tv.tv_usec = 0;
	evtimer_add(c->restart_ev, &tv);
}

/*
 * A child whose queue from us is full does not read what we send: it
 * stops being served.  It is killed and restarted like a crashed one;
 * the parent itself never dies of a child's behaviour.
 */
void
child_cutoff(struct child *c, const char *what)
{
	if (!c->iev.open)
		return;
	log_warnx("%s does not read its pipe (%s queue full): killing it",
	    c->name, what);
	imsgev_close(&c->iev);
	if (c->pid > 0)
		(void)kill(c->pid, SIGKILL);
}

/* SIGTERM in order, wait a little, then SIGKILL what is left. */
void
child_stop_all(void)
{
	struct child	*c;
	long long	 deadline;
	size_t		 i;
	pid_t		 r;
	int		 status;

	/* the miners first, cleanly: minerd's end of their pipes goes next */
	miner_stop_all();
	for (i = 0; i < sizeof(stop_order) / sizeof(stop_order[0]); i++) {
		c = child_get(stop_order[i]);
		evtimer_del(c->restart_ev);
		if (c->pid <= 0)
			continue;
		(void)kill(c->pid, SIGTERM);
		deadline = mono_secs() + CHILD_STOP_TIMEOUT;
		for (;;) {
			r = waitpid(c->pid, &status, WNOHANG);
			if (r == c->pid || (r == -1 && errno == ECHILD))
				break;
			if (mono_secs() >= deadline) {
				log_warnx("%s did not stop: killing it",
				    c->name);
				(void)kill(c->pid, SIGKILL);
				(void)waitpid(c->pid, &status, 0);
				break;
			}
			(void)usleep(CHILD_STOP_POLL_MS * 1000);
		}
		log_debug("%s stopped", c->name);
		c->pid = 0;
		imsgev_close(&c->iev);
	}
}

void
child_reconf(void)
{
	struct child_init	 ci;
	struct child		*c;
	int			 p;

	for (p = PROC_KEYD; p < PROC_MAX; p++) {
		c = child_get(p);
		if (c->pid <= 0 || !c->iev.open)
			continue;
		child_init_msg(c, &ci);
		if (imsgev_compose(&c->iev, IMSG_RECONF, 0, 0, -1, &ci,
		    sizeof(ci)) == -1)
			log_warn("reconf %s", c->name);
	}
}

/* Rate-limited: at most log_rate lines a second from one child. */
void
child_log(struct child *c, int pri, const char *text)
{
	long long	 sec = mono_secs();

	if (sec != c->log_sec) {
		if (c->log_dropped > 0)
			log_raw(LOG_WARNING, c->name, "log lines dropped "
			    "(rate limit)");
		c->log_sec = sec;
		c->log_lines = 0;
		c->log_dropped = 0;
	}
	if (c->log_lines >= env->conf.log_rate) {
		c->log_dropped++;
		return;
	}
	c->log_lines++;
	log_raw(pri, c->name, text);
}

void
child_send_status(struct child *c, uint32_t request)
{
	struct proc_status	 ps;
	struct status_end	 se;
	struct child		*s;
	unsigned int		 i;
	int			 p;

	for (p = PROC_PARENT; p < PROC_MAX; p++) {
		memset(&ps, 0, sizeof(ps));
		ps.request = request;
		ps.proc = p;
		if (p == PROC_PARENT) {
			ps.pid = getpid();
			ps.uid = geteuid();
			ps.started = env->started;
		} else {
			s = child_get(p);
			ps.pid = s->pid;
			ps.uid = s->uid;
			ps.started = s->pid > 0 ? s->started : 0;
			ps.restarts = s->restarts;
		}
		if (imsgev_compose(&c->iev, IMSG_STATUS, 0, 0, -1, &ps,
		    sizeof(ps)) == -1) {
			child_cutoff(c, "status");
			return;
		}
	}
	memset(&se, 0, sizeof(se));
	se.request = request;
	se.nlisten = env->nnet;
	for (i = 0; i < env->nnet; i++) {
		se.port[i] = env->net_port[i];
		(void)strlcpy(se.addr[i], env->net_addr[i],
		    sizeof(se.addr[i]));
	}
	(void)strlcpy(se.socket, env->conf.socket, sizeof(se.socket));
	if (imsgev_compose(&c->iev, IMSG_STATUS_END, 0, 0, -1, &se,
	    sizeof(se)) == -1)
		child_cutoff(c, "status");
}
