/*
 * Stats polling: ask a running miner for its numbers through its
 * driver, on 127.0.0.1 only.
 *
 *	POLL_HTTP	GET driver->poll_request with the driver's
 *			Authorization header (evhttp's client)
 *	POLL_TCP_JSON	connect, write the request line, read one JSON
 *			answer (up to a newline or the end of the stream)
 *
 * Answers are bounded (MINER_POLL_BODY_MAX, MINER_POLL_HEADERS_MAX)
 * and time out (MINER_POLL_TIMEOUT of silence).  One poll per miner is
 * in flight at a time; a poll that ends after its miner's run did (the
 * run's generation changed) is dropped, never applied to the next run.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "supervise.h"

#define POLL_ERR_MAX	256

struct poll_ctx {
	uint32_t		 slot;
	uint64_t		 gen;
	struct bufferevent	*bev;		/* POLL_TCP_JSON */
};

static struct poll_ctx *poll_ctx_new(struct miner *);
static void	poll_done(struct poll_ctx *, const char *, size_t,
		    const char *);
static int	poll_http(struct miner *, struct poll_ctx *);
static void	poll_http_cb(struct evhttp_request *, void *);
static int	poll_tcp(struct miner *, struct poll_ctx *);
static void	poll_tcp_read(struct bufferevent *, void *);
static void	poll_tcp_event(struct bufferevent *, short, void *);
static void	poll_tcp_finish(struct poll_ctx *, int);

/* Start one poll of m unless one is in flight. */
void
poll_miner(struct miner *m)
{
	struct miner_priv	*p = m->priv;
	struct poll_ctx		*c;
	int			 r;

	if (p->polling || m->driver == NULL || m->run.api_port == 0)
		return;
	if ((c = poll_ctx_new(m)) == NULL) {
		log_warn("miner %s: poll", m->name);
		return;
	}
	switch (m->driver->poll) {
	case POLL_HTTP:
		r = poll_http(m, c);
		break;
	case POLL_TCP_JSON:
		r = poll_tcp(m, c);
		break;
	default:
		r = -1;
		break;
	}
	if (r == -1) {
		free(c);
		return;
	}
	p->polling = 1;
}

static struct poll_ctx *
poll_ctx_new(struct miner *m)
{
	struct miner_priv	*p = m->priv;
	struct poll_ctx		*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->slot = m->slot;
	c->gen = p->gen;
	return (c);
}

/*
 * The end of a poll: an answer (buf, len) or a reason it failed.  A
 * failure keeps the old stats, which age: read_at does not move.
 */
static void
poll_done(struct poll_ctx *c, const char *buf, size_t len, const char *why)
{
	struct miner		*m;
	struct miner_priv	*p;
	struct miner_stats	 st;
	char			 err[POLL_ERR_MAX], vis[POLL_ERR_MAX];

	m = miner_by_slot(c->slot);
	if (m == NULL || (p = m->priv) == NULL || p->gen != c->gen ||
	    m->driver == NULL) {
		free(c);
		return;
	}
	free(c);
	p->polling = 0;
	if (why == NULL) {
		memset(&st, 0, sizeof(st));
		st.hr10s = st.hr60s = st.hr15m = -1;
		err[0] = '\0';
		if (m->driver->parse_stats(buf, len, &st, err,
		    sizeof(err)) == 0) {
			miner_stats_read(m, &st);
			watchdog_api_ok(m);
			return;
		}
		str_vis(vis, sizeof(vis), err, strlen(err));
		(void)snprintf(m->last_error, sizeof(m->last_error),
		    "API answer: %.200s", vis);
	} else
		(void)snprintf(m->last_error, sizeof(m->last_error),
		    "API: %s", why);
	log_debug("miner %s: %s", m->name, m->last_error);
}

/*
 * POLL_HTTP.  The connection frees itself once the request is done,
 * whether it succeeded or not.
 */
static int
poll_http(struct miner *m, struct poll_ctx *c)
{
	struct evhttp_connection	*conn;
	struct evhttp_request		*req;
	struct evkeyvalq		*h;
	char				 auth[MINER_TOKEN_LEN + 128];
	char				 host[32];
	char				*colon;

	if ((conn = evhttp_connection_base_new(ev_base, NULL, "127.0.0.1",
	    m->run.api_port)) == NULL)
		return (-1);
	evhttp_connection_set_timeout(conn, MINER_POLL_TIMEOUT);
	evhttp_connection_set_retries(conn, 0);
	evhttp_connection_set_max_body_size(conn, MINER_POLL_BODY_MAX);
	evhttp_connection_set_max_headers_size(conn, MINER_POLL_HEADERS_MAX);
	if ((req = evhttp_request_new(poll_http_cb, c)) == NULL) {
		evhttp_connection_free(conn);
		return (-1);
	}
	h = evhttp_request_get_output_headers(req);
	(void)snprintf(host, sizeof(host), "127.0.0.1:%u",
	    (unsigned int)m->run.api_port);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Accept", "application/json");
	evhttp_add_header(h, "Connection", "close");
	if (m->driver->auth_header != NULL && m->driver->auth_header(&m->run,
	    auth, sizeof(auth)) == 0 && auth[0] != '\0') {
		/* "Name: value" */
		if ((colon = strchr(auth, ':')) != NULL) {
			*colon++ = '\0';
			colon += strspn(colon, " ");
			evhttp_add_header(h, auth, colon);
		}
	}
	if (evhttp_make_request(conn, req, EVHTTP_REQ_GET,
	    m->driver->poll_request) == -1) {
		/* libevent has freed req */
		evhttp_connection_free(conn);
		return (-1);
	}
	evhttp_connection_free_on_completion(conn);
	return (0);
}

static void
poll_http_cb(struct evhttp_request *req, void *arg)
{
	struct poll_ctx	*c = arg;
	struct evbuffer	*in;
	unsigned char	*body;
	char		 why[64];
	size_t		 len;
	int		 code;

	if (req == NULL || (code = evhttp_request_get_response_code(req)) ==
	    0) {
		poll_done(c, NULL, 0, "no answer");
		return;
	}
	if (code != 200) {
		(void)snprintf(why, sizeof(why), "HTTP status %d%s", code,
		    code == 401 || code == 403 ? " (token refused)" : "");
		poll_done(c, NULL, 0, why);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > MINER_POLL_BODY_MAX) {
		poll_done(c, NULL, 0, "answer too large");
		return;
	}
	if ((body = evbuffer_pullup(in, -1)) == NULL && len > 0) {
		poll_done(c, NULL, 0, "out of memory");
		return;
	}
	poll_done(c, (const char *)body, len, NULL);
}

/* POLL_TCP_JSON */
static int
poll_tcp(struct miner *m, struct poll_ctx *c)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv;
	const char		*rq = m->driver->poll_request;
	size_t			 rl;

	if (rq == NULL)
		return (-1);
	if ((c->bev = bufferevent_socket_new(ev_base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (-1);
	bufferevent_setcb(c->bev, poll_tcp_read, NULL, poll_tcp_event, c);
	tv.tv_sec = MINER_POLL_TIMEOUT;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	rl = strlen(rq);
	if (bufferevent_write(c->bev, rq, rl) == -1 ||
	    ((rl == 0 || rq[rl - 1] != '\n') &&
	    bufferevent_write(c->bev, "\n", 1) == -1))
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(m->run.api_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1)
		goto fail;
	return (0);
 fail:
	bufferevent_free(c->bev);
	c->bev = NULL;
	return (-1);
}

static void
poll_tcp_read(struct bufferevent *bev, void *arg)
{
	struct poll_ctx		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 nl;

	nl = evbuffer_search(in, "\n", 1, NULL);
	if (nl.pos != -1) {
		poll_tcp_finish(c, 1);
		return;
	}
	if (evbuffer_get_length(in) > MINER_POLL_BODY_MAX)
		poll_tcp_finish(c, 0);
}

static void
poll_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct poll_ctx	*c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
		poll_tcp_finish(c, 1);
		return;
	}
	poll_tcp_finish(c, 0);
}

/* ok: the input holds one answer (up to a newline, or all of it). */
static void
poll_tcp_finish(struct poll_ctx *c, int ok)
{
	struct bufferevent	*bev = c->bev;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 nl;
	unsigned char		*body;
	size_t			 len;

	len = evbuffer_get_length(in);
	if (ok) {
		nl = evbuffer_search(in, "\n", 1, NULL);
		if (nl.pos != -1)
			len = nl.pos;
		if (len > MINER_POLL_BODY_MAX)
			ok = 0;
	}
	c->bev = NULL;
	if (!ok) {
		bufferevent_free(bev);
		poll_done(c, NULL, 0, len > MINER_POLL_BODY_MAX ?
		    "answer too large" : "no answer");
		return;
	}
	if ((body = evbuffer_pullup(in, len)) == NULL && len > 0) {
		bufferevent_free(bev);
		poll_done(c, NULL, 0, "out of memory");
		return;
	}
	poll_done(c, (const char *)body, len, NULL);
	bufferevent_free(bev);
}
