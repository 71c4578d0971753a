/*
 * netd: the unprivileged, chrooted process that faces the network.
 *
 * It holds no long-term key: keyd signs its handshake transcripts.  It
 * accepts on the sockets the parent bound for it, dials the peers
 * minerd names, and hands minerd only what arrived on an authenticated
 * session (conn.c).  This file is the process: its pipes and its
 * listeners.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

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
#include "netd.h"

struct netd_listener {
	int		 fd;
	struct event	*ev;
};

struct child_init		 netd_conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_keyd;
static struct imsgev		 iev_minerd;
static struct netd_listener	 listeners[NET_MAX_LISTEN];
static unsigned int		 nlisteners;
static struct key_public	 node_key;
static struct loglimit		 ll_minerd_full;

static void	netd_dispatch_parent(int, short, void *);
static void	netd_dispatch_keyd(int, short, void *);
static void	netd_dispatch_minerd(int, short, void *);
static int	netd_keyd_imsg(struct imsg *);
static int	netd_minerd_imsg(struct imsg *);
static void	netd_sibling_bad(struct imsgev *, const char *, uint32_t);
static void	netd_listen(int);
static size_t	netd_minerd_queue(void);
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

	/* what needs files: before chroot (libsodium's randomness too) */
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
	    imsg_get_data(&imsg, &netd_conf, sizeof(netd_conf)) == -1 ||
	    netd_conf.version != CHILD_INIT_VERSION ||
	    netd_conf.proc != PROC_NETD ||
	    memchr(netd_conf.root, '\0', sizeof(netd_conf.root)) == NULL ||
	    memchr(netd_conf.workdir, '\0',
	    sizeof(netd_conf.workdir)) == NULL ||
	    memchr(netd_conf.node_name, '\0',
	    sizeof(netd_conf.node_name)) == NULL ||
	    netd_conf.net_max_message > LETHD_MAX_MESSAGE)
		fatalx("bad configuration from the parent");
	imsg_free(&imsg);

	/* the sink first: log_init would openlog(3) without one */
	proc_log_to_parent(&iev_parent);
	log_init(netd_conf.debug, LOG_DAEMON);
	log_setverbose(netd_conf.verbose);

	privsep_drop(netd_conf.root, netd_conf.workdir, netd_conf.uid,
	    netd_conf.gid, 1);
	if (sandbox_init(PROC_NETD) == -1)
		fatal("sandbox");

	iev_keyd.open = iev_minerd.open = 0;
	conn_init();
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
	conn_accept(s, (struct sockaddr *)&ss, len);
}

const uint8_t *
netd_node_key(void)
{
	return (node_key.has_key ? node_key.pk : NULL);
}

int
netd_to_keyd(uint32_t type, const void *data, size_t len)
{
	if (!iev_keyd.open)
		return (-1);
	if (imsgev_compose(&iev_keyd, type, 0, 0, -1, data, len) == -1) {
		log_warn("compose to keyd");
		return (-1);
	}
	return (0);
}

int
netd_to_minerd(uint32_t type, const void *data, size_t len)
{
	return (netd_to_minerd2(type, data, len, NULL, 0));
}

/* The bound on minerd's queue for max connections sessions. */
static size_t
netd_minerd_queue(void)
{
	size_t	 q;

	q = IMSG_WQUEUE_MAX + (size_t)netd_conf.net_max_conn *
	    NET_MINERD_PER_CONN;
	return (q < NET_MINERD_QUEUE_MAX ? q : NET_MINERD_QUEUE_MAX);
}

/*
 * minerd's queue is bounded by imsg (netd_minerd_queue): when it is
 * full, this message is dropped (logged, rate-limited); netd never
 * blocks on minerd.
 */
int
netd_to_minerd2(uint32_t type, const void *d1, size_t l1, const void *d2,
    size_t l2)
{
	struct iovec	 iov[2];
	unsigned int	 dropped;
	int		 n = 0;

	if (!iev_minerd.open) {
		log_debug("imsg %u for minerd: no pipe, dropped", type);
		return (-1);
	}
	iov[n].iov_base = (void *)d1;
	iov[n++].iov_len = l1;
	if (l2 > 0) {
		iov[n].iov_base = (void *)d2;
		iov[n++].iov_len = l2;
	}
	if (imsg_composev(&iev_minerd.ibuf, type, 0, 0, -1, iov, n) == -1) {
		if (loglimit_ok(&ll_minerd_full, &dropped))
			log_warn("imsg %u for minerd dropped (%u more not "
			    "logged)", type, dropped);
		return (-1);
	}
	imsgev_add(&iev_minerd);
	return (0);
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
				/* what the old keyd was asked fails now */
				imsgev_close(&iev_keyd);
				conn_keyd_lost();
				memset(&node_key, 0, sizeof(node_key));
				imsgev_init(&iev_keyd, pfd, PROC_KEYD,
				    netd_dispatch_keyd, NULL);
			} else if (proc == PROC_MINERD) {
				imsgev_close(&iev_minerd);
				imsgev_init(&iev_minerd, pfd, PROC_MINERD,
				    netd_dispatch_minerd, NULL);
				imsgbuf_set_maxqueue(&iev_minerd.ibuf,
				    netd_minerd_queue());
				conn_minerd_new();
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
		conn_keyd_lost();
		return;
	}
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1) {
			netd_sibling_bad(iev, "bad imsg stream", 0);
			conn_keyd_lost();
			return;
		}
		if (netd_keyd_imsg(&imsg) == -1) {
			netd_sibling_bad(iev, "bad or unexpected imsg",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			conn_keyd_lost();
			return;
		}
		imsg_free(&imsg);
	}
}

/* One message from keyd: 0, or -1 when it may not send it. */
static int
netd_keyd_imsg(struct imsg *imsg)
{
	struct key_sign_rep	 rep;
	struct key_public	 kp;

	switch (imsg_get_type(imsg)) {
	case IMSG_KEY_PUBLIC:
		if (imsg_get_data(imsg, &kp, sizeof(kp)) == -1)
			return (-1);
		node_key = kp;
		node_key.has_key = (kp.has_key != 0);
		log_debug("node key %s", node_key.has_key ?
		    "known" : "not yet made");
		return (0);
	case IMSG_KEY_SIGNATURE:
		if (imsg_get_data(imsg, &rep, sizeof(rep)) == -1)
			return (-1);
		conn_signature(&rep);
		return (0);
	}
	return (-1);
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
		if (netd_minerd_imsg(&imsg) == -1) {
			netd_sibling_bad(iev, "bad or unexpected imsg",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
		if (!iev->open)
			return;
	}
}

/* One message from minerd: 0, or -1 when it is malformed. */
static int
netd_minerd_imsg(struct imsg *imsg)
{
	struct net_self		 ns;
	struct net_key		 nk;
	struct net_pairing	 np;
	struct net_dial		 nd;
	struct net_msg		 nm;
	size_t			 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_NET_SELF:
		if (imsg_get_data(imsg, &ns, sizeof(ns)) == -1 ||
		    memchr(ns.name, '\0', sizeof(ns.name)) == NULL ||
		    ns.role > ROLE_WORKER)
			return (-1);
		conn_self(&ns);
		return (0);
	case IMSG_NET_KEY_ADD:
		if (imsg_get_data(imsg, &nk, sizeof(nk)) == -1)
			return (-1);
		conn_key_add(nk.pk);
		return (0);
	case IMSG_NET_KEY_DEL:
		if (imsg_get_data(imsg, &nk, sizeof(nk)) == -1)
			return (-1);
		conn_key_del(nk.pk);
		return (0);
	case IMSG_NET_PAIRING:
		if (imsg_get_data(imsg, &np, sizeof(np)) == -1)
			return (-1);
		conn_pairing(np.until_ms);
		return (0);
	case IMSG_NET_DIAL:
		if (imsg_get_data(imsg, &nd, sizeof(nd)) == -1 ||
		    memchr(nd.host, '\0', sizeof(nd.host)) == NULL ||
		    nd.port == 0)
			return (-1);
		conn_dial(&nd);
		return (0);
	case IMSG_NET_HANGUP:
		if (imsg_get_data(imsg, &nk, sizeof(nk)) == -1)
			return (-1);
		conn_hangup(nk.pk);
		return (0);
	case IMSG_NET_SEND:
		len = imsg_get_len(imsg);
		if (len < sizeof(nm))
			return (-1);
		memcpy(&nm, imsg->data, sizeof(nm));
		if (nm.len != len - sizeof(nm))
			return (-1);
		conn_send(&nm, (const uint8_t *)imsg->data + sizeof(nm),
		    nm.len);
		return (0);
	}
	return (-1);
}

/*
 * A sibling sent something it may not: log, close the pipe, and leave
 * the restart to the parent.
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
