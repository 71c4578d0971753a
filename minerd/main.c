/*
 * minerd: the engine, under its own uid and a seccomp filter.
 *
 * In this first version it serves the control API on the socket the
 * parent binds and keeps node.json in step with keyd's key; peers,
 * profiles and miners come on top of this shape.
 */

#include <sys/types.h>

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "privsep.h"
#include "sandbox.h"
#include "minerd.h"
#include "profile.h"
#include "miner.h"
#include "select.h"
#include "serve.h"

static struct minerd_env	 minerd_env;

static void	minerd_dispatch_parent(int, short, void *);
static void	minerd_dispatch_keyd(int, short, void *);
static void	minerd_dispatch_netd(int, short, void *);
static void	minerd_sibling_bad(struct imsgev *, const char *, uint32_t);
static void	minerd_check_conf(const struct child_init *);
static void	minerd_hostname(void);
static void	minerd_libevent_log(int, const char *);
static void	minerd_resolver_warmup(void);

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: lethd-minerd (started by lethd)\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct imsg	 imsg;
	char		 perr[PEER_ERR_MAX];
	int		 r;

	if (argc != 1)
		usage();
	log_init(1, LOG_DAEMON);
	log_procinit("minerd");
	env = &minerd_env;
	env->statedir = -1;

	/* what needs files: before the sandbox */
	tzset();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	if ((ev_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	event_set_log_callback(minerd_libevent_log);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	minerd_hostname();
	minerd_resolver_warmup();

	/* the first message from the parent says who we are */
	imsgev_init(&env->iev_parent, CHILD_PARENT_FD, PROC_PARENT,
	    minerd_dispatch_parent, NULL);
	if ((r = imsg_read_one(&env->iev_parent.ibuf, &imsg)) != 1)
		fatalx("no configuration from the parent");
	if (imsg_get_type(&imsg) != IMSG_INIT ||
	    imsg_get_data(&imsg, &env->conf, sizeof(env->conf)) == -1)
		fatalx("bad configuration from the parent");
	minerd_check_conf(&env->conf);
	imsg_free(&imsg);

	/* the sink first: log_init would openlog(3) without one */
	proc_log_to_parent(&env->iev_parent);
	log_init(env->conf.debug, LOG_DAEMON);
	log_setverbose(env->conf.verbose);

	privsep_drop(env->conf.root, env->conf.workdir, env->conf.uid,
	    env->conf.gid, 0);
	/* the state directory, as minerd's uid can reach it */
	if ((env->statedir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		fatal("open state directory %s", env->conf.workdir);
	if (peer_load(env->statedir, perr, sizeof(perr)) == -1)
		log_warnx("%s: not overwriting it until it is fixed or "
		    "removed", perr);
	if (profile_load(env->statedir, perr, sizeof(perr)) == -1)
		log_warnx("%s: not overwriting it until it is fixed or "
		    "removed", perr);
	if (history_open(env->statedir, perr, sizeof(perr)) == -1)
		log_warnx("history: %s", perr);
	if (sandbox_init(PROC_MINERD) == -1)
		fatal("sandbox");

	control_init();
	net_init();
	select_init();
	miner_init();
	serve_init();
	env->iev_keyd.open = env->iev_netd.open = 0;
	imsgev_add(&env->iev_parent);
	if (imsgev_compose(&env->iev_parent, IMSG_READY, 0, 0, -1, NULL,
	    0) == -1)
		fatal("compose");
	/* after the parent's records of running miners */
	miner_autostart();
	log_debug("started");
	event_base_dispatch(ev_base);
	return (0);
}

/*
 * Resolve a name once before the sandbox: glibc reads its NSS
 * configuration and maps what it needs now, so that a later
 * getaddrinfo (netd has no resolver; minerd resolves peer names) needs
 * nothing the filter forbids.
 */
static void
minerd_resolver_warmup(void)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", NULL, &hints, &res) == 0)
		freeaddrinfo(res);
}

/* The parent is trusted to be right; a struct that is not is fatal. */
static void
minerd_check_conf(const struct child_init *ci)
{
	if (ci->version != CHILD_INIT_VERSION || ci->proc != PROC_MINERD ||
	    memchr(ci->root, '\0', sizeof(ci->root)) == NULL ||
	    memchr(ci->workdir, '\0', sizeof(ci->workdir)) == NULL ||
	    memchr(ci->node_name, '\0', sizeof(ci->node_name)) == NULL ||
	    ci->ctl_max_conn == 0 || ci->ctl_timeout == 0 ||
	    ci->remote_timeout == 0 ||
	    ci->remote_timeout > REMOTE_TIMEOUT_MAX ||
	    ci->remote_command_timeout == 0 ||
	    ci->remote_command_timeout > REMOTE_TIMEOUT_MAX ||
	    select_conf_check(ci) != NULL)
		fatalx("bad configuration from the parent");
	if (ci->node_name[0] != '\0' && node_name_check(ci->node_name,
	    strlen(ci->node_name), NULL, 0) == -1)
		fatalx("bad node name from the parent");
}

/* The default node name when the config has none; before the sandbox. */
static void
minerd_hostname(void)
{
	char	 h[HOST_NAME_MAX + 1];

	if (gethostname(h, sizeof(h)) == -1) {
		log_warn("gethostname");
		return;
	}
	h[sizeof(h) - 1] = '\0';
	if (node_name_check(h, strlen(h), NULL, 0) == -1) {
		log_warnx("host name is no node name: using \"lethd\"");
		return;
	}
	(void)strlcpy(env->hostname, h, sizeof(env->hostname));
}

/* libevent's own warnings (accept, evhttp) into our log. */
static void
minerd_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

static void
minerd_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct child_init	 ci;
	struct proc_status	 ps;
	struct status_end	 se;
	struct miner_record	 mrec;
	struct miner_exit	 mexit;
	struct miner_refusal	 mref;
	const char		*why;
	uint32_t		 proc;
	int			 r, pfd;

	if ((r = imsgev_handle(iev, event)) == -1)
		fatalx("parent pipe closed");
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1)
			fatalx("bad imsg stream from the parent");
		switch (imsg_get_type(&imsg)) {
		case IMSG_PIPE:
			if (imsg_get_data(&imsg, &proc, sizeof(proc)) == -1 ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_PIPE");
			if (proc == PROC_KEYD) {
				if (env->iev_keyd.open)
					log_debug("new pipe to keyd");
				imsgev_close(&env->iev_keyd);
				api_keyd_lost();
				net_keyd_lost();
				imsgev_init(&env->iev_keyd, pfd, PROC_KEYD,
				    minerd_dispatch_keyd, NULL);
			} else if (proc == PROC_NETD) {
				imsgev_close(&env->iev_netd);
				imsgev_init(&env->iev_netd, pfd, PROC_NETD,
				    minerd_dispatch_netd, NULL);
				net_netd_ready();
			} else
				fatalx("IMSG_PIPE for %s", proc_name(proc));
			break;
		case IMSG_CTL_LISTEN:
			if (imsg_get_len(&imsg) != 0 ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_CTL_LISTEN");
			control_listen(pfd);
			break;
		case IMSG_API_LISTEN:
			if (imsg_get_len(&imsg) != 0 ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_API_LISTEN");
			control_api_listen(pfd);
			break;
		case IMSG_RECONF:
			if (imsg_get_data(&imsg, &ci, sizeof(ci)) == -1)
				fatalx("bad IMSG_RECONF");
			minerd_check_conf(&ci);
			log_setverbose(ci.verbose);
			env->conf.verbose = ci.verbose;
			env->conf.ctl_gid = ci.ctl_gid;
			env->conf.ctl_max_conn = ci.ctl_max_conn;
			env->conf.ctl_timeout = ci.ctl_timeout;
			memcpy(env->conf.node_name, ci.node_name,
			    sizeof(env->conf.node_name));
			env->conf.msg_ts_window = ci.msg_ts_window;
			env->conf.replay_cache_max = ci.replay_cache_max;
			memcpy(env->conf.advertise, ci.advertise,
			    sizeof(env->conf.advertise));
			/* the watchdog reads these each time; the poll
			 * period and ring bounds apply to the next run */
			env->conf.miner_poll = ci.miner_poll;
			env->conf.watchdog_zero = ci.watchdog_zero;
			env->conf.watchdog_api = ci.watchdog_api;
			env->conf.ring_lines = ci.ring_lines;
			env->conf.ring_bytes = ci.ring_bytes;
			env->conf.miner_stop_grace = ci.miner_stop_grace;
			/* the next remote call waits this long */
			env->conf.remote_timeout = ci.remote_timeout;
			env->conf.remote_command_timeout =
			    ci.remote_command_timeout;
			/* location, weights, bounds, ping interval */
			select_reconf(&ci);
			/* the API token; api listen needs a restart */
			control_reconf();
			break;
		case IMSG_STATUS:
			if (imsg_get_data(&imsg, &ps, sizeof(ps)) == -1)
				fatalx("bad IMSG_STATUS size");
			if ((why = api_status_check(&ps)) != NULL)
				fatalx("bad IMSG_STATUS: %s", why);
			if (api_status(&ps) == -1)
				fatalx("bad IMSG_STATUS: more than %d "
				    "processes", PROC_MAX);
			break;
		case IMSG_STATUS_END:
			if (imsg_get_data(&imsg, &se, sizeof(se)) == -1)
				fatalx("bad IMSG_STATUS_END size");
			if ((why = api_status_end_check(&se)) != NULL)
				fatalx("bad IMSG_STATUS_END: %s", why);
			api_status_end(&se);
			break;
		case IMSG_MINER_RECORD:
			if (imsg_get_data(&imsg, &mrec, sizeof(mrec)) == -1)
				fatalx("bad IMSG_MINER_RECORD size");
			if (miner_record(&mrec, imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_MINER_RECORD");
			break;
		case IMSG_MINER_EXITED:
			if (imsg_get_data(&imsg, &mexit, sizeof(mexit)) == -1 ||
			    miner_exited(&mexit) == -1)
				fatalx("bad IMSG_MINER_EXITED");
			break;
		case IMSG_MINER_REFUSED:
			if (imsg_get_data(&imsg, &mref, sizeof(mref)) == -1 ||
			    miner_refused(&mref) == -1)
				fatalx("bad IMSG_MINER_REFUSED");
			break;
		default:
			fatalx("unexpected imsg %u from the parent",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
}

static void
minerd_dispatch_keyd(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct key_public	 kp;
	struct key_generated	 kg;
	struct key_sign_rep	 ksr;
	uint32_t		 type;
	int			 r;

	if ((r = imsgev_handle(iev, event)) == -1) {
		imsgev_close(iev);
		api_keyd_lost();
		net_keyd_lost();
		return;
	}
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1) {
			minerd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		type = imsg_get_type(&imsg);
		switch (type) {
		case IMSG_KEY_PUBLIC:
			if (imsg_get_data(&imsg, &kp, sizeof(kp)) == -1) {
				minerd_sibling_bad(iev, "bad size", type);
				imsg_free(&imsg);
				return;
			}
			if (api_key_public(&kp) == -1) {
				minerd_sibling_bad(iev, "bad IMSG_KEY_PUBLIC",
				    type);
				imsg_free(&imsg);
				return;
			}
			net_key_changed();
			break;
		case IMSG_KEY_SIGNATURE:
			if (imsg_get_data(&imsg, &ksr, sizeof(ksr)) == -1 ||
			    net_signature(&ksr) == -1) {
				minerd_sibling_bad(iev, "bad IMSG_KEY_SIGNATURE",
				    type);
				imsg_free(&imsg);
				return;
			}
			break;
		case IMSG_KEY_GENERATED:
			if (imsg_get_data(&imsg, &kg, sizeof(kg)) == -1) {
				minerd_sibling_bad(iev, "bad size", type);
				imsg_free(&imsg);
				return;
			}
			if (api_key_generated(&kg) == -1) {
				minerd_sibling_bad(iev,
				    "bad IMSG_KEY_GENERATED", type);
				imsg_free(&imsg);
				return;
			}
			break;
		default:
			minerd_sibling_bad(iev, "unexpected type", type);
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
	}
}

static void
minerd_dispatch_netd(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	int		 r;

	if ((r = imsgev_handle(iev, event)) == -1) {
		imsgev_close(iev);
		return;
	}
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1) {
			minerd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		if (net_imsg(&imsg) == -1) {
			minerd_sibling_bad(iev, "bad or unexpected message",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
	}
}

/*
 * A sibling sent something it may not: log, close the pipe (failing
 * what was in flight on it), and ask the parent to restart it.
 */
static void
minerd_sibling_bad(struct imsgev *iev, const char *why, uint32_t type)
{
	uint32_t	 proc = iev->proc;

	log_warnx("%s from %s (imsg %u): closing the pipe", why,
	    proc_name(proc), type);
	imsgev_close(iev);
	if (proc == PROC_KEYD) {
		api_keyd_lost();
		net_keyd_lost();
	}
	(void)imsgev_compose(&env->iev_parent, IMSG_RESTART_PEER, 0, 0, -1,
	    &proc, sizeof(proc));
}
