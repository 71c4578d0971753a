/*
 * netd: the unprivileged, chrooted process that faces the network.
 *
 * It holds no long-term key.  In this first version it holds the
 * listening sockets the parent bound for it and accepts and closes
 * connections; the WebSocket transport comes on top of this shape.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
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

struct netd_listener {
	int		 fd;
	struct event	*ev;
};

static struct child_init	 conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_keyd;
static struct imsgev		 iev_minerd;
static struct netd_listener	 listeners[NET_MAX_LISTEN];
static unsigned int		 nlisteners;
static struct key_public	 node_key;

static void	netd_dispatch_parent(int, short, void *);
static void	netd_dispatch_keyd(int, short, void *);
static void	netd_dispatch_minerd(int, short, void *);
static void	netd_sibling_bad(struct imsgev *, const char *, uint32_t);
static void	netd_accept(int, short, void *);

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: lethd-netd (started by lethd)\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct imsg	 imsg;
	int		 r;

	if (argc != 1)
		usage();
	log_init(1, LOG_DAEMON);
	log_procinit("netd");
	privsep_nodump();

	/* what needs files: before chroot */
	tzset();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	if ((ev_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);

	/* the first message from the parent says who we are */
	imsgev_init(&iev_parent, CHILD_PARENT_FD, PROC_PARENT,
	    netd_dispatch_parent, NULL);
	if ((r = imsg_read_one(&iev_parent.ibuf, &imsg)) != 1)
		fatalx("no configuration from the parent");
	if (imsg_get_type(&imsg) != IMSG_INIT ||
	    imsg_get_data(&imsg, &conf, sizeof(conf)) == -1 ||
	    conf.version != CHILD_INIT_VERSION || conf.proc != PROC_NETD ||
	    memchr(conf.root, '\0', sizeof(conf.root)) == NULL ||
	    memchr(conf.workdir, '\0', sizeof(conf.workdir)) == NULL)
		fatalx("bad configuration from the parent");
	imsg_free(&imsg);

	/* the sink first: log_init would openlog(3) without one */
	proc_log_to_parent(&iev_parent);
	log_init(conf.debug, LOG_DAEMON);
	log_setverbose(conf.verbose);

	privsep_drop(conf.root, conf.workdir, conf.uid, conf.gid, 1);
	if (sandbox_init(PROC_NETD) == -1)
		fatal("sandbox");

	iev_keyd.open = iev_minerd.open = 0;
	imsgev_add(&iev_parent);
	if (imsgev_compose(&iev_parent, IMSG_READY, 0, 0, -1, NULL, 0) == -1)
		fatal("compose");
	log_debug("started");
	event_base_dispatch(ev_base);
	return (0);
}

static void
netd_listen(int fd)
{
	struct netd_listener	*l;

	if (nlisteners >= NET_MAX_LISTEN)
		fatalx("too many listening sockets from the parent");
	l = &listeners[nlisteners++];
	l->fd = fd;
	l->ev = event_new(ev_base, fd, EV_READ | EV_PERSIST, netd_accept, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1)
		fatal("event_add");
}

/* Until the WebSocket transport is here: accept, log, close. */
static void
netd_accept(int fd, short event, void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 s;

	s = accept4(fd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	log_debug("connection closed: no peer transport yet");
	close(s);
}

static void
netd_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct child_init	 ci;
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
				imsgev_close(&iev_keyd);
				imsgev_init(&iev_keyd, pfd, PROC_KEYD,
				    netd_dispatch_keyd, NULL);
			} else if (proc == PROC_MINERD) {
				imsgev_close(&iev_minerd);
				imsgev_init(&iev_minerd, pfd, PROC_MINERD,
				    netd_dispatch_minerd, NULL);
			} else
				fatalx("IMSG_PIPE for %s", proc_name(proc));
			break;
		case IMSG_NET_LISTEN:
			if (imsg_get_len(&imsg) != 0 ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_NET_LISTEN");
			netd_listen(pfd);
			break;
		case IMSG_RECONF:
			if (imsg_get_data(&imsg, &ci, sizeof(ci)) == -1)
				fatalx("bad IMSG_RECONF");
			log_setverbose(ci.verbose);
			break;
		default:
			fatalx("unexpected imsg %u from the parent",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
}

static void
netd_dispatch_keyd(int fd, short event, void *arg)
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
			netd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_KEY_PUBLIC:
			if (imsg_get_data(&imsg, &node_key,
			    sizeof(node_key)) == -1) {
				netd_sibling_bad(iev, "bad size",
				    imsg_get_type(&imsg));
				imsg_free(&imsg);
				return;
			}
			log_debug("node key %s", node_key.has_key ?
			    "known" : "not yet made");
			break;
		default:
			netd_sibling_bad(iev, "unexpected type",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
	}
}

static void
netd_dispatch_minerd(int fd, short event, void *arg)
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
			netd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		/* nothing from minerd is expected yet */
		netd_sibling_bad(iev, "unexpected type", imsg_get_type(&imsg));
		imsg_free(&imsg);
		return;
	}
}

/*
 * A sibling sent something it may not: log, close the pipe, and leave
 * the restart to the parent (which ignores such requests from netd
 * about others, but honours ours only for the record).
 */
static void
netd_sibling_bad(struct imsgev *iev, const char *why, uint32_t type)
{
	uint32_t	 proc = iev->proc;

	log_warnx("%s from %s (imsg %u): closing the pipe", why,
	    proc_name(proc), type);
	imsgev_close(iev);
	(void)imsgev_compose(&iev_parent, IMSG_RESTART_PEER, 0, 0, -1,
	    &proc, sizeof(proc));
}
