/*
 * The control socket: HTTP/1.1 with libevent's evhttp on the listening
 * UNIX socket the parent bound (mode 0660, group _lethctl) and handed
 * over with IMSG_CTL_LISTEN.
 *
 * Limits: header and body sizes, a time limit per request, and a cap on
 * connections, which libevent 2.1 lacks: each connection's bufferevent
 * is a filter over the socket's, made in our bevcb, and the filter's
 * free_context callback says when evhttp has let the connection go.
 * At the cap the listener is disabled; new callers wait in the kernel's
 * backlog until a connection closes.
 *
 * The filter's output side.  In libevent 2.1 (checked on 2.1.12) a
 * filter moves its output to the socket only when data is added while
 * EV_WRITE is enabled or when the socket's bufferevent drains; evhttp
 * adds the reply first and enables EV_WRITE after, so the reply would
 * sit in the filter until the timeout.  And when the filter does move
 * it, it tells evhttp at once that the write is done, so a reply with
 * "Connection: close" is freed, unsent, with the connection.  Hence our
 * own output filter that moves nothing, and control_kick(), run from
 * the event loop whenever the filter's output grows: it moves the data
 * to the socket's bufferevent, writes what the socket takes, and tells
 * evhttp (bufferevent_trigger EV_WRITE) only once all of it is in the
 * kernel.  All public API; regress/node_test.c checks keep-alive,
 * "Connection: close", HTTP/1.0 and the connection cap.
 *
 * The same machinery serves the loopback TCP API (api listen, handed
 * over with IMSG_API_LISTEN), a second evhttp with the same limits and
 * its own connection cap: there apitcp.c checks the Host header and the
 * bearer token where the UNIX socket checks the caller's credentials.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* struct ucred */
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "minerd.h"

/* Supplementary groups asked for first; most callers have a few. */
#define CTL_PEERGROUPS_FIRST	32

/* One listener: the control socket, or the loopback TCP API. */
struct ctl_srv {
	const char			*name;	/* for the log */
	int				 tcp;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct evconnlistener		*listener;
	struct event			*pause_ev;
	unsigned int			 nconn;
	int				 enabled;
	int				 paused;
	int				 full_logged;
};

struct ctl_conn {
	struct ctl_srv		*srv;
	struct bufferevent	*bev;	/* the filter evhttp uses */
	struct bufferevent	*sock;	/* the socket's, under it */
	struct event		*kick;
	struct evbuffer_cb_entry *sockcb;
	int			 moved;	/* moved data evhttp waits on */
};

static struct ctl_srv	ctl_unix = { "control", 0 };
static struct ctl_srv	ctl_tcp = { "api", 1 };

static void	control_srv_init(struct ctl_srv *);
static void	control_srv_listen(struct ctl_srv *, int);
static struct bufferevent *control_bevcb(struct event_base *, void *);
static void	control_conn_free(void *);
static enum bufferevent_filter_result control_out_filter(struct evbuffer *,
		    struct evbuffer *, ev_ssize_t, enum bufferevent_flush_mode,
		    void *);
static void	control_outbuf_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static void	control_sockbuf_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);
static void	control_kick(int, short, void *);
static void	control_request(struct evhttp_request *, void *);
static void	control_accept_error(struct evconnlistener *, void *);
static void	control_unpause(int, short, void *);
static void	control_update(struct ctl_srv *);

void
control_init(void)
{
	control_srv_init(&ctl_unix);
	control_srv_init(&ctl_tcp);
	control_reconf();
}

static void
control_srv_init(struct ctl_srv *srv)
{
	int	 methods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE;

	/* OPTIONS reaches apitcp.c, which answers 405: evhttp's own
	 * answer to a method it does not allow is a 501 in HTML */
	if (srv->tcp)
		methods |= EVHTTP_REQ_OPTIONS;
	if ((srv->http = evhttp_new(ev_base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_max_headers_size(srv->http, CTL_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, CTL_MAX_BODY);
	evhttp_set_allowed_methods(srv->http, methods);
	evhttp_set_bevcb(srv->http, control_bevcb, srv);
	evhttp_set_gencb(srv->http, control_request, srv);
	if ((srv->pause_ev = evtimer_new(ev_base, control_unpause, srv)) ==
	    NULL)
		fatal("evtimer_new");
}

/* After IMSG_INIT or IMSG_RECONF: the limits from the configuration. */
void
control_reconf(void)
{
	struct ctl_srv	*srvs[] = { &ctl_unix, &ctl_tcp };
	size_t		 i;

	for (i = 0; i < sizeof(srvs) / sizeof(srvs[0]); i++) {
		if (srvs[i]->http == NULL)
			continue;
		evhttp_set_timeout(srvs[i]->http, (int)env->conf.ctl_timeout);
		srvs[i]->full_logged = 0;
		control_update(srvs[i]);
	}
	apitcp_reconf();
}

unsigned int
control_nconn(void)
{
	return (ctl_unix.nconn + ctl_tcp.nconn);
}

/* Serve fd, the control socket from the parent; it replaces any other. */
void
control_listen(int fd)
{
	control_srv_listen(&ctl_unix, fd);
}

/* Serve fd, the loopback TCP API socket from the parent. */
void
control_api_listen(int fd)
{
	if (apitcp_listening(fd) == -1) {
		close(fd);
		return;
	}
	control_srv_listen(&ctl_tcp, fd);
}

static void
control_srv_listen(struct ctl_srv *srv, int fd)
{
	int		 val;
	socklen_t	 len = sizeof(val);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == -1 ||
	    val == 0)
		fatalx("%s: the parent's fd is not a listening socket",
		    srv->name);
	/* evconnlistener_new leaves that to us: a blocking accept would
	 * hang the loop once the backlog is empty */
	if (evutil_make_socket_nonblocking(fd) == -1)
		fatal("%s: non-blocking listener", srv->name);
	if (srv->bound != NULL) {
		/* frees the listener, which closes the old socket */
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
		srv->listener = NULL;
		log_debug("%s: replacing the listening socket", srv->name);
	}
	/* backlog 0: it listens already (-1 would listen(2) again, with
	 * libevent's backlog, and the sandbox has no listen) */
	srv->listener = evconnlistener_new(ev_base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (srv->listener == NULL)
		fatal("%s: evconnlistener_new", srv->name);
	if ((srv->bound = evhttp_bind_listener(srv->http, srv->listener)) ==
	    NULL)
		fatal("%s: evhttp_bind_listener", srv->name);
	evconnlistener_set_error_cb(srv->listener, control_accept_error);
	srv->enabled = 1;
	srv->paused = 0;
	control_update(srv);
	log_debug("%s: listening", srv->name);
}

/* Accept while under the cap and not paused for want of fds. */
static void
control_update(struct ctl_srv *srv)
{
	int	 want;

	if (srv->listener == NULL)
		return;
	want = !srv->paused && srv->nconn < env->conf.ctl_max_conn;
	if (want && !srv->enabled) {
		if (evconnlistener_enable(srv->listener) == -1)
			log_warnx("%s: cannot enable the listener",
			    srv->name);
		else
			srv->enabled = 1;
	} else if (!want && srv->enabled) {
		if (evconnlistener_disable(srv->listener) == -1)
			log_warnx("%s: cannot disable the listener",
			    srv->name);
		else
			srv->enabled = 0;
		if (!srv->paused && !srv->full_logged) {
			log_warnx("%s: connection limit %u reached",
			    srv->name, env->conf.ctl_max_conn);
			srv->full_logged = 1;
		}
	}
}

static void
control_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval	 tv = { CTL_ACCEPT_PAUSE, 0 };
	struct ctl_srv	*srv = l == ctl_tcp.listener ? &ctl_tcp : &ctl_unix;
	int		 saved = errno;

	switch (saved) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_warn("%s: accept (pausing %d s)", srv->name,
		    CTL_ACCEPT_PAUSE);
		srv->paused = 1;
		control_update(srv);
		if (evtimer_add(srv->pause_ev, &tv) == -1)
			fatal("evtimer_add");
		break;
	default:
		log_warn("%s: accept", srv->name);
		break;
	}
}

static void
control_unpause(int fd, short event, void *arg)
{
	struct ctl_srv	*srv = arg;

	srv->paused = 0;
	control_update(srv);
}

/*
 * A new connection: a filter bufferevent over a socket one (evhttp
 * gives it the fd).  free_context runs when evhttp frees it.
 */
static struct bufferevent *
control_bevcb(struct event_base *base, void *arg)
{
	struct ctl_srv	*srv = arg;
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control: calloc");
		return (NULL);
	}
	c->srv = srv;
	if ((c->sock = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: bufferevent_socket_new failed");
		free(c);
		return (NULL);
	}
	if ((c->kick = event_new(base, -1, 0, control_kick, c)) == NULL) {
		log_warnx("control: event_new failed");
		bufferevent_free(c->sock);
		free(c);
		return (NULL);
	}
	if ((c->bev = bufferevent_filter_new(c->sock, NULL, control_out_filter,
	    BEV_OPT_CLOSE_ON_FREE, control_conn_free, c)) == NULL) {
		log_warnx("control: bufferevent_filter_new failed");
		event_free(c->kick);
		bufferevent_free(c->sock);
		free(c);
		return (NULL);
	}
	/* counted from here: control_conn_free uncounts */
	srv->nconn++;
	if (evbuffer_add_cb(bufferevent_get_output(c->bev), control_outbuf_cb,
	    c) == NULL ||
	    (c->sockcb = evbuffer_add_cb(bufferevent_get_output(c->sock),
	    control_sockbuf_cb, c)) == NULL) {
		log_warnx("control: evbuffer_add_cb failed");
		bufferevent_free(c->bev);
		return (NULL);
	}
	control_update(srv);
	return (c->bev);
}

static void
control_conn_free(void *arg)
{
	struct ctl_conn	*c = arg;
	struct ctl_srv	*srv = c->srv;

	if (c->sockcb != NULL)
		(void)evbuffer_remove_cb_entry(bufferevent_get_output(c->sock),
		    c->sockcb);
	event_free(c->kick);
	free(c);
	if (srv->nconn > 0)
		srv->nconn--;
	if (srv->nconn < env->conf.ctl_max_conn)
		srv->full_logged = 0;
	control_update(srv);
}

/* control_kick() moves the output, never the filter itself. */
static enum bufferevent_filter_result
control_out_filter(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t limit, enum bufferevent_flush_mode mode, void *arg)
{
	return (BEV_NEED_MORE);
}

static void
control_outbuf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct ctl_conn	*c = arg;

	if (info->n_added > 0)
		event_active(c->kick, EV_TIMEOUT, 0);
}

static void
control_sockbuf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct ctl_conn	*c = arg;

	if (info->n_deleted > 0 && c->moved && evbuffer_get_length(buf) == 0)
		event_active(c->kick, EV_TIMEOUT, 0);
}

/*
 * From the event loop, never from inside evhttp: move what evhttp
 * wrote to the socket's bufferevent, write what the socket takes now
 * (the socket's bufferevent writes the rest when it can), and once it
 * is all out, run evhttp's write callback.  That may free the
 * connection, and c with it: nothing touches c after it.
 */
static void
control_kick(int fd, short event, void *arg)
{
	struct ctl_conn	*c = arg;
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct evbuffer	*sout = bufferevent_get_output(c->sock);
	int		 sfd;

	if (evbuffer_get_length(out) > 0) {
		if (evbuffer_add_buffer(sout, out) == -1) {
			log_warnx("control: evbuffer_add_buffer failed");
			return;
		}
		c->moved = 1;
	}
	if (evbuffer_get_length(sout) > 0 &&
	    (sfd = bufferevent_getfd(c->sock)) != -1)
		/* an error shows again on EV_WRITE and closes */
		(void)evbuffer_write(sout, sfd);
	if (c->moved && evbuffer_get_length(sout) == 0) {
		c->moved = 0;
		bufferevent_trigger(c->bev, EV_WRITE, 0);
	}
}

/*
 * Who is calling: uid 0, or a member of the control group (primary or
 * supplementary).  Returns 1 allowed, 0 refused, -1 when the kernel
 * would not say (refused too: fail closed).
 */
int
control_caller_ok(int fd, uid_t *uidp, pid_t *pidp)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
#ifdef SO_PEERGROUPS
	gid_t		*groups = NULL, *g;
	size_t		 n = CTL_PEERGROUPS_FIRST, i;
	int		 tries;
#endif
	int		 ok = 0;

	*uidp = (uid_t)-1;
	*pidp = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc)) {
		log_warn("control: SO_PEERCRED");
		return (-1);
	}
	*uidp = uc.uid;
	*pidp = uc.pid;
	if (uc.uid == 0 || uc.gid == env->conf.ctl_gid)
		return (1);
#ifdef SO_PEERGROUPS
	/* ERANGE says how much room it needs; the groups may change
	 * between two calls, so try a few times, bounded */
	for (tries = 0; tries < 3; tries++) {
		if ((g = reallocarray(groups, n, sizeof(gid_t))) == NULL) {
			log_warn("control: SO_PEERGROUPS");
			free(groups);
			return (-1);
		}
		groups = g;
		len = n * sizeof(gid_t);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    0) {
			for (i = 0; i < len / sizeof(gid_t); i++)
				if (groups[i] == env->conf.ctl_gid)
					ok = 1;
			free(groups);
			return (ok);
		}
		if (errno != ERANGE || len / sizeof(gid_t) <= n ||
		    len / sizeof(gid_t) > CTL_PEERGROUPS_MAX)
			break;
		n = len / sizeof(gid_t);
	}
	log_warn("control: SO_PEERGROUPS");
	free(groups);
	return (-1);
#else
	return (ok);
#endif
}

static void
control_request(struct evhttp_request *req, void *arg)
{
	struct ctl_srv			*srv = arg;
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev, *under;
	uid_t				 uid;
	pid_t				 pid;
	int				 fd = -1;

	if ((evcon = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL) {
		/* 2.1.12 forwards getfd to the socket; older ones do not */
		if ((fd = bufferevent_getfd(bev)) == -1 &&
		    (under = bufferevent_get_underlying(bev)) != NULL)
			fd = bufferevent_getfd(under);
	}
	if (fd == -1) {
		log_warnx("control: request without a socket");
		api_error(req, 500, API_ERR_INTERNAL,
		    "cannot tell who is calling");
		return;
	}
	if (srv->tcp) {
		/* the Host header and the bearer token, not credentials */
		if (apitcp_allowed(req))
			api_dispatch(req);
		return;
	}
	if (control_caller_ok(fd, &uid, &pid) != 1) {
		log_warnx("control: refused uid %u pid %d", (unsigned int)uid,
		    (int)pid);
		api_error(req, 403, API_ERR_UNAUTHORISED, "permission denied");
		return;
	}
	api_dispatch(req);
}
