/*
 * lethd: the root parent.  It reads the configuration, makes and checks
 * the directories, binds the sockets its children may not, forks and
 * execs keyd, netd and minerd, restarts them when they die, and does
 * nothing else.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "lethd_proc.h"

static void	parent_dispatch_keyd(int, short, void *);
static void	parent_dispatch_netd(int, short, void *);
static void	parent_dispatch_minerd(int, short, void *);

/* The process model, whole. */
static struct child children[] = {
	{ PROC_KEYD,	"keyd",		"lethd-keyd",	parent_dispatch_keyd },
	{ PROC_NETD,	"netd",		"lethd-netd",	parent_dispatch_netd },
	{ PROC_MINERD,	"minerd",	"lethd-minerd",
	    parent_dispatch_minerd },
};

static struct lethd_env	 lethd_env;
struct lethd_env	*env = &lethd_env;

static void	parent_sig(int, short, void *);
static void	parent_dispatch(struct child *, int, short, int);
static int	parent_load_conf(const char *, struct lethd_conf *, int);
static void	parent_resolve_users(void);
static void	parent_reload(void);
static __attribute__((__noreturn__)) void parent_rekey(void);
static void	parent_daemonize(void);

/* Write end of the pipe the starting lethd waits on, until minerd is up. */
static int	ready_fd = -1;

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr,
	    "usage: lethd [-dnv] [-f file] [-x libexecdir]\n"
	    "       lethd -K [-f file] [-x libexecdir]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct event	*ev_sigterm, *ev_sigint, *ev_sighup, *ev_sigchld;
	int		 ch, noaction = 0, rekey = 0;

	(void)strlcpy(env->conffile, LETHD_CONF, sizeof(env->conffile));
	(void)strlcpy(env->libexec, LETHD_LIBEXECDIR, sizeof(env->libexec));
	while ((ch = getopt(argc, argv, "df:Knvx:")) != -1) {
		switch (ch) {
		case 'd':
			env->debug = 1;
			break;
		case 'f':
			if (strlcpy(env->conffile, optarg,
			    sizeof(env->conffile)) >= sizeof(env->conffile))
				errx(1, "config file name too long");
			break;
		case 'K':
			rekey = 1;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'v':
			env->verbose++;
			break;
		case 'x':
			if (optarg[0] != '/' || strlcpy(env->libexec, optarg,
			    sizeof(env->libexec)) >= sizeof(env->libexec))
				errx(1, "-x needs an absolute path");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();

	if (parent_load_conf(env->conffile, &env->conf, 1) == -1)
		exit(1);
	if (noaction) {
		if (env->verbose)
			conf_print(stdout, &env->conf);
		printf("configuration OK\n");
		exit(0);
	}
	if (geteuid() != 0)
		errx(1, "need root privileges");
	parent_resolve_users();
	if (rekey)
		parent_rekey();

	/* until we are a daemon, problems go to the terminal */
	log_init(1, LOG_DAEMON);
	log_setverbose(env->verbose);
	umask(022);

	if ((env->pidfd = lethd_pidfile_lock(1)) == -1)
		exit(1);
	if (dirs_setup() == -1)
		exit(1);
	tune_miners();
	if (listen_control() == -1 || listen_net() == -1 || listen_api() == -1)
		exit(1);
	if (!env->debug)
		parent_daemonize();
	if ((env->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	log_init(env->debug, LOG_DAEMON);
	lethd_pidfile_write();
	env->started = time(NULL);

	if ((ev_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	ev_sigterm = evsignal_new(ev_base, SIGTERM, parent_sig, NULL);
	ev_sigint = evsignal_new(ev_base, SIGINT, parent_sig, NULL);
	ev_sighup = evsignal_new(ev_base, SIGHUP, parent_sig, NULL);
	ev_sigchld = evsignal_new(ev_base, SIGCHLD, parent_sig, NULL);
	if (ev_sigterm == NULL || ev_sigint == NULL || ev_sighup == NULL ||
	    ev_sigchld == NULL || evsignal_add(ev_sigterm, NULL) == -1 ||
	    evsignal_add(ev_sigint, NULL) == -1 ||
	    evsignal_add(ev_sighup, NULL) == -1 ||
	    evsignal_add(ev_sigchld, NULL) == -1)
		fatalx("signal events");
	signal(SIGPIPE, SIG_IGN);

	child_table_init(children, sizeof(children) / sizeof(children[0]));
	miner_init();
	child_start_all();
	log_info("started: socket %s, directory %s", env->conf.socket,
	    env->conf.directory);

	event_base_dispatch(ev_base);
	return (0);
}

/*
 * Become a daemon, but let the command that started us return only once
 * the control socket is served (or fail when the family cannot start),
 * so that `lethd && lethctl ...` works and rc/systemd see the truth.
 */
static void
parent_daemonize(void)
{
	struct pollfd	 pfd;
	char		 c;
	int		 p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(p[1]);
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, DAEMON_READY_TIMEOUT * 1000) == 1 &&
		    read(p[0], &c, 1) == 1 && c == 'R')
			_exit(0);
		fprintf(stderr, "lethd: the daemon did not come up: see the "
		    "system log\n");
		_exit(1);
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* minerd is up: the control socket answers.  Let the starter go. */
static void
parent_ready(void)
{
	if (ready_fd == -1)
		return;
	(void)write(ready_fd, "R", 1);
	close(ready_fd);
	ready_fd = -1;
}

/* Parse and check the config; print errors (to stderr before logging is
 * set up, to the log after). */
static int
parent_load_conf(const char *file, struct lethd_conf *conf, int tostderr)
{
	struct conf_errors	 errs;
	unsigned int		 i;

	memset(&errs, 0, sizeof(errs));
	if (conf_parse_file(file, conf, &errs) == 0 &&
	    conf_check_system(file, conf, &errs) == 0)
		return (0);
	for (i = 0; i < errs.n; i++) {
		if (tostderr)
			fprintf(stderr, "%s\n", errs.line[i]);
		else
			log_warnx("%s", errs.line[i]);
	}
	if (errs.dropped > 0) {
		if (tostderr)
			fprintf(stderr, "%s: %u more errors\n", file,
			    errs.dropped);
		else
			log_warnx("%s: %u more errors", file, errs.dropped);
	}
	return (-1);
}

static void
parent_resolve_users(void)
{
	struct passwd	*pw;
	struct group	*gr;
	int		 i;

	for (i = 0; i < USER_MAX; i++) {
		if ((pw = getpwnam(env->conf.users[i])) == NULL)
			errx(1, "unknown user %s", env->conf.users[i]);
		env->uid[i] = pw->pw_uid;
		env->gid[i] = pw->pw_gid;
	}
	if ((gr = getgrnam(env->conf.ctl_group)) == NULL)
		errx(1, "unknown group %s", env->conf.ctl_group);
	env->ctl_gid = gr->gr_gid;
}

/*
 * Replace the node key, offline: refuse while an instance runs, then
 * let keyd's own code move the old key aside and make a new one.
 */
static void
parent_rekey(void)
{
	char	 keydir[PATH_MAX], path[PATH_MAX], uid[16], gid[16];
	char	*argv[8];

	log_init(1, LOG_DAEMON);
	if (lethd_pidfile_lock(0) == -1)
		exit(1);
	if (dirs_setup() == -1)
		exit(1);
	if ((size_t)snprintf(keydir, sizeof(keydir), "%s/%s",
	    env->conf.directory, LETHD_KEYD_DIR) >= sizeof(keydir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", env->libexec,
	    "lethd-keyd") >= sizeof(path))
		errx(1, "path too long");
	(void)snprintf(uid, sizeof(uid), "%u", (unsigned)env->uid[USER_KEYD]);
	(void)snprintf(gid, sizeof(gid), "%u", (unsigned)env->gid[USER_KEYD]);
	argv[0] = "lethd: keyd rekey";
	argv[1] = "-R";
	argv[2] = "-u";
	argv[3] = uid;
	argv[4] = "-g";
	argv[5] = gid;
	argv[6] = keydir;
	argv[7] = NULL;
	execv(path, argv);
	err(1, "exec %s", path);
}

static void
parent_sig(int sig, short event, void *arg)
{
	pid_t	 pid;
	int	 status;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("received signal %d: shutting down", sig);
		env->shutting_down = 1;
		child_stop_all();
		if (env->ctl_fd != -1)
			(void)unlink(env->conf.socket);
		log_info("stopped");
		exit(0);
	case SIGHUP:
		parent_reload();
		break;
	case SIGCHLD:
		/* children, miners, and (as a subreaper) orphans: reaped */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (miner_reaped(pid, status) == 0)
				child_reaped(pid, status);
		break;
	}
}

#define CONF_CHANGED(f) \
	(memcmp(&old->f, &new.f, sizeof(old->f)) != 0)

static void
parent_reload(void)
{
	struct lethd_conf	 new, *old = &env->conf;

	log_info("reloading %s", env->conffile);
	if (parent_load_conf(env->conffile, &new, 0) == -1) {
		log_warnx("reload failed: keeping the running configuration");
		return;
	}
	if (CONF_CHANGED(directory))
		log_warnx("reload: directory changed: restart lethd to apply");
	if (CONF_CHANGED(socket) || CONF_CHANGED(socket_mode) ||
	    CONF_CHANGED(ctl_group))
		log_warnx("reload: control socket changed: restart lethd "
		    "to apply");
	if (CONF_CHANGED(users))
		log_warnx("reload: users changed: restart lethd to apply");
	if (CONF_CHANGED(listen) || CONF_CHANGED(nlisten) ||
	    CONF_CHANGED(net_max_conn))
		log_warnx("reload: listeners changed: restart lethd to apply");
	if (CONF_CHANGED(api_listen) || CONF_CHANGED(api_listen_set))
		log_warnx("reload: api listen changed: restart lethd to "
		    "apply");
	if (CONF_CHANGED(miner_nofile) || CONF_CHANGED(miner_pids) ||
	    CONF_CHANGED(miner_nproc) || CONF_CHANGED(miner_max))
		log_warnx("reload: miner limits changed: restart lethd to "
		    "apply");
	if (CONF_CHANGED(miner_hugepages) || CONF_CHANGED(miner_msr))
		log_warnx("reload: miner hugepages or msr changed: restart "
		    "lethd to apply");
	/* minerd sizes and prunes its database as it opens it */
	if (CONF_CHANGED(history_samples) || CONF_CHANGED(history_minutes) ||
	    CONF_CHANGED(history_max_mb))
		log_warnx("reload: history changed: restart lethd to apply");
	/* what applies now */
	old->log_rate = new.log_rate;
	old->ctl_max_conn = new.ctl_max_conn;
	old->ctl_timeout = new.ctl_timeout;
	memcpy(old->name, new.name, sizeof(old->name));
	memcpy(old->advertise, new.advertise, sizeof(old->advertise));
	old->net_max_handshakes = new.net_max_handshakes;
	old->net_hs_per_addr = new.net_hs_per_addr;
	old->net_hs_per_subnet = new.net_hs_per_subnet;
	old->net_hs_timeout = new.net_hs_timeout;
	old->net_max_message = new.net_max_message;
	old->net_msg_rate = new.net_msg_rate;
	old->net_ping_interval = new.net_ping_interval;
	old->net_pong_timeout = new.net_pong_timeout;
	old->net_max_header = new.net_max_header;
	old->net_session_lifetime = new.net_session_lifetime;
	old->keyd_sign_rate = new.keyd_sign_rate;
	old->msg_ts_window = new.msg_ts_window;
	old->replay_cache_max = new.replay_cache_max;
	/* miners: the next restart or stop uses them; minerd's at once */
	old->miner_backoff_min_ms = new.miner_backoff_min_ms;
	old->miner_backoff_max_ms = new.miner_backoff_max_ms;
	old->miner_crashes_max = new.miner_crashes_max;
	old->miner_crash_window = new.miner_crash_window;
	old->miner_stop_grace = new.miner_stop_grace;
	old->miner_poll = new.miner_poll;
	old->watchdog_zero = new.watchdog_zero;
	old->watchdog_api = new.watchdog_api;
	old->ring_lines = new.ring_lines;
	old->ring_bytes = new.ring_bytes;
	old->history_samples = new.history_samples;
	old->history_minutes = new.history_minutes;
	old->history_max_mb = new.history_max_mb;
	old->has_location = new.has_location;
	old->lat_e6 = new.lat_e6;
	old->lon_e6 = new.lon_e6;
	memcpy(old->select_weight, new.select_weight,
	    sizeof(old->select_weight));
	memcpy(old->select_bound, new.select_bound,
	    sizeof(old->select_bound));
	old->select_ping_interval = new.select_ping_interval;
	old->remote_timeout = new.remote_timeout;
	old->remote_command_timeout = new.remote_command_timeout;
	child_reconf();
	log_info("reloaded: log rate, control limits, name, peer "
	    "transport, miner backoff, polling, watchdog, logs, peer "
	    "selection and remote timeouts applied");
}

/*
 * One handler for every child: the parent accepts only a few
 * fixed-layout messages and checks each field.  A child that sends
 * anything else is broken or taken over: it is killed and restarted.
 */
static void
parent_dispatch(struct child *c, int fd, short event, int may_status)
{
	struct imsg	 imsg;
	struct log_msg	 lm;
	uint32_t	 u32;
	struct child	*peer;
	int		 r;
	size_t		 i;

	if ((r = imsgev_handle(&c->iev, event)) == -1) {
		imsgev_close(&c->iev);
		return;
	}
	while (r == 1 && (r = imsg_get(&c->iev.ibuf, &imsg)) != 0) {
		if (r == -1) {
			log_warnx("%s: bad imsg stream: killing it", c->name);
			goto kill;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_LOG:
			if (imsg_get_data(&imsg, &lm, sizeof(lm)) == -1 ||
			    lm.priority < LOG_EMERG || lm.priority > LOG_DEBUG)
				goto bad;
			for (i = 0; i < sizeof(lm.text) && lm.text[i] != '\0';
			    i++)
				if (lm.text[i] < 0x20 || lm.text[i] > 0x7e)
					goto bad;
			if (i == sizeof(lm.text))
				goto bad;
			child_log(c, lm.priority, lm.text);
			break;
		case IMSG_READY:
			if (imsg_get_len(&imsg) != 0)
				goto bad;
			c->ready = 1;
			log_debug("%s ready (pid %d)", c->name, (int)c->pid);
			if (c->proc == PROC_MINERD)
				parent_ready();
			break;
		case IMSG_RESTART_PEER:
			if (imsg_get_data(&imsg, &u32, sizeof(u32)) == -1 ||
			    u32 >= PROC_MAX || u32 == PROC_PARENT ||
			    u32 == c->proc)
				goto bad;
			peer = child_get(u32);
			if (c->proc == PROC_NETD) {
				/* the least trusted may not restart others */
				log_warnx("netd asked to restart %s: ignored",
				    peer->name);
				break;
			}
			if (peer->pid > 0) {
				log_warnx("%s reports %s misbehaving: "
				    "restarting it", c->name, peer->name);
				(void)kill(peer->pid, SIGKILL);
			}
			break;
		case IMSG_MINER_SPAWN:
			if (c->proc != PROC_MINERD ||
			    miner_spawn_imsg(imsg.data, imsg.datalen) == -1)
				goto bad;
			break;
		case IMSG_MINER_STOP:
		case IMSG_MINER_RESTART:
			if (c->proc != PROC_MINERD ||
			    miner_slot_imsg(imsg_get_type(&imsg), imsg.data,
			    imsg.datalen) == -1)
				goto bad;
			break;
		case IMSG_STATUS_REQ:
			if (!may_status ||
			    imsg_get_data(&imsg, &u32, sizeof(u32)) == -1)
				goto bad;
			child_send_status(c, u32);
			break;
		default:
			goto bad;
		}
		imsg_free(&imsg);
		if (!c->iev.open)
			return;		/* cut off while answering */
	}
	return;
 bad:
	log_warnx("%s: bad imsg type %u, length %zu: killing it", c->name,
	    imsg_get_type(&imsg), imsg_get_len(&imsg));
	imsg_free(&imsg);
 kill:
	imsgev_close(&c->iev);
	if (c->pid > 0)
		(void)kill(c->pid, SIGKILL);
}

static void
parent_dispatch_keyd(int fd, short event, void *arg)
{
	parent_dispatch(child_get(PROC_KEYD), fd, event, 0);
}

static void
parent_dispatch_netd(int fd, short event, void *arg)
{
	parent_dispatch(child_get(PROC_NETD), fd, event, 0);
}

static void
parent_dispatch_minerd(int fd, short event, void *arg)
{
	parent_dispatch(child_get(PROC_MINERD), fd, event, 1);
}
