/*
 * Fan-outs: one operator call, a signed request to each of N workers
 * at once (net_request), one answer when all of them answered or ran
 * out of time.
 *
 * Cost, for the 10,000 workers of `remote status --all': one record
 * per worker in an array sorted by id (an answer finds its record by
 * binary search), one net_request each (net.c's table is a tree), one
 * timer for the whole call beside net.c's own per request, and the
 * reply built once, as one JSON tree, when the last answer is in.
 * Nothing walks the peers more than once per event, so nothing is
 * quadratic.  A worker not connected is reported at once, not waited
 * for.  If the HTTP client goes away first, the requests still out are
 * forgotten (net_request_cancel) and the fan-out freed.
 *
 * What a worker says is rebuilt from DESIGN's fields before it is kept
 * (remote_check.c): unknown keys dropped, types, lengths and numbers
 * checked, so that each answer kept is small whatever a worker sends
 * and the fleet's total hashrate stays finite.  A malformed answer is
 * that peer's error 1001.  lethctl still escapes every string it
 * prints.
 *
 * Capacity: net.c holds a bounded number of requests and bodies; a
 * fan-out that would not fit is refused whole, at once, with one log
 * line, rather than peer by peer.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "remote.h"
#include "remote_check.h"
#include "select.h"

/* The windows of a hashrate, as DESIGN's stats payload names them
 * (remote_check.c checked each is null or a number in range). */
static const char *const remote_windows[] = { "10s", "60s", "15m" };
#define REMOTE_NWINDOWS	(sizeof(remote_windows) / sizeof(remote_windows[0]))

/* Where one peer's call stands. */
enum remote_state {
	RC_PENDING = 0,
	RC_OK,			/* answered with the response type */
	RC_TIMEOUT,		/* no answer in time */
	RC_ERROR,		/* an `error' answer, or the session closed */
	RC_OFFLINE		/* not connected: never asked */
};

struct remote_call {
	char			 id[NODE_ID_LEN + 1];
	enum remote_state	 state;
	int			 code;		/* MSG_ERR_*; 0 when ok */
	char			*error;		/* malloc'd, or NULL */
	long long		 sent_us;	/* monotonic */
	double			 rtt_ms;	/* < 0: no answer */
	json_t			*payload;	/* the answer's, a reference */
	char			*dumped;	/* fleet: this call's JSON */
};

struct remote_fan {
	LIST_ENTRY(remote_fan)	 entry;
	struct evhttp_request	*req;
	struct event		*timer;
	struct event		*watch;		/* the client's socket */
	enum msg_type		 type;
	enum remote_reply	 reply;
	unsigned int		 timeout_s;
	struct remote_call	*calls;		/* sorted by id */
	double			 sum[REMOTE_NWINDOWS];	/* fleet total */
	size_t			 n;
	size_t			 pending;
	long long		 started_us;	/* monotonic */
};


static LIST_HEAD(, remote_fan)	 remote_fans =
    LIST_HEAD_INITIALIZER(remote_fans);
static unsigned int		 remote_nfan;

static int	remote_call_cmp(const void *, const void *);
static void	remote_answer(void *, struct peer *, const struct msg *, int,
		    const char *);
static void	remote_timeout(int, short, void *);
static void	remote_client_gone(struct evhttp_connection *, void *);
static void	remote_client_watch(struct remote_fan *);
static void	remote_client_readable(int, short, void *);
static void	remote_finish(struct remote_fan *);
static void	remote_free(struct remote_fan *);
static void	remote_set(struct remote_call *, enum remote_state, int,
		    const char *);
static void	remote_log_summary(const struct remote_fan *);
static json_t	*remote_call_json(const struct remote_call *);
static void	remote_reply_fleet(struct remote_fan *);
static void	remote_fleet_sum(struct remote_fan *, const json_t *);
static void	remote_fleet_add(struct remote_fan *, struct remote_call *);
static void	remote_reply_error(struct evhttp_request *,
		    const struct remote_call *);
static long long remote_mono_us(void);
static const char *remote_code_name(int);

unsigned int
remote_nfans(void)
{
	return (remote_nfan);
}

int
remote_http_status(int code)
{
	switch (code) {
	case MSG_ERR_INVALID:
		return (400);
	case MSG_ERR_UNAUTHORISED:
		return (403);
	case MSG_ERR_NOT_FOUND:
		return (404);
	case MSG_ERR_TIMEOUT:
		return (504);
	case MSG_ERR_FAILED:
	case MSG_ERR_INTERNAL:
	default:
		return (502);
	}
}

/* DESIGN's name of an error code, for messages. */
static const char *
remote_code_name(int code)
{
	switch (code) {
	case MSG_ERR_INTERNAL:
		return ("internal");
	case MSG_ERR_INVALID:
		return ("invalid");
	case MSG_ERR_UNAUTHORISED:
		return ("unauthorised");
	case MSG_ERR_NOT_FOUND:
		return ("not found");
	case MSG_ERR_FAILED:
		return ("failed");
	case MSG_ERR_TIMEOUT:
		return ("timeout");
	default:
		return ("error");
	}
}

static long long
remote_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
remote_call_cmp(const void *a, const void *b)
{
	const struct remote_call	*ca = a, *cb = b;

	return (strcmp(ca->id, cb->id));
}

static void
remote_set(struct remote_call *c, enum remote_state state, int code,
    const char *error)
{
	size_t	 len;

	c->state = state;
	c->code = code;
	free(c->error);
	c->error = NULL;
	if (error == NULL)
		return;
	len = strnlen(error, REMOTE_ERR_MAX);
	if ((c->error = malloc(len + 1)) == NULL) {
		log_warn("remote: malloc");
		return;
	}
	memcpy(c->error, error, len);
	c->error[len] = '\0';
}

void
remote_fanout(struct evhttp_request *req, struct peer **peers, size_t n,
    enum msg_type type, json_t *payload, unsigned int timeout_s,
    enum remote_reply reply)
{
	struct remote_fan		*fan;
	struct remote_call		*c;
	struct evhttp_connection	*evcon;
	struct peer			*p;
	struct timeval			 tv;
	const char			*why;
	size_t				 i, j;

	if (remote_nfan >= REMOTE_FANS_MAX) {
		json_decref(payload);
		api_error(req, 503, API_ERR_FAILED, "%d remote calls are in "
		    "flight: try again", REMOTE_FANS_MAX);
		return;
	}
	if ((fan = calloc(1, sizeof(*fan))) == NULL ||
	    (n > 0 && (fan->calls = calloc(n, sizeof(*fan->calls))) ==
	    NULL) ||
	    (fan->timer = evtimer_new(ev_base, remote_timeout, fan)) ==
	    NULL) {
		log_warn("remote: fan-out of %zu", n);
		if (fan != NULL)
			free(fan->calls);
		free(fan);
		json_decref(payload);
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	fan->req = req;
	fan->type = type;
	fan->reply = reply;
	fan->timeout_s = timeout_s;

	/* sorted by id, each peer once */
	for (i = 0; i < n; i++)
		(void)strlcpy(fan->calls[i].id, peers[i]->id,
		    sizeof(fan->calls[i].id));
	if (n > 0)	/* calls is NULL then: qsort wants an array */
		qsort(fan->calls, n, sizeof(*fan->calls), remote_call_cmp);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || strcmp(fan->calls[i].id,
		    fan->calls[j - 1].id) != 0)
			fan->calls[j++] = fan->calls[i];
	fan->n = j;
	fan->started_us = remote_mono_us();

	/* room for every request, or none is sent */
	for (i = 0, j = 0; i < fan->n; i++)
		if ((p = peer_by_id(fan->calls[i].id)) != NULL &&
		    p->connected)
			j++;
	if (j > net_request_room()) {
		log_warnx("remote: %s to %zu peers refused: %u requests "
		    "fit in flight now", msg_type_name(type), j,
		    net_request_room());
		free(fan->calls);
		event_free(fan->timer);
		free(fan);
		json_decref(payload);
		api_error(req, 503, API_ERR_FAILED, "too many requests in "
		    "flight for %zu peers: try again", j);
		return;
	}

	LIST_INSERT_HEAD(&remote_fans, fan, entry);
	remote_nfan++;

	for (i = 0; i < fan->n; i++) {
		c = &fan->calls[i];
		c->rtt_ms = -1;
		c->state = RC_PENDING;
		if ((p = peer_by_id(c->id)) == NULL) {
			remote_set(c, RC_ERROR, MSG_ERR_NOT_FOUND,
			    "no such peer");
			continue;
		}
		if (!p->connected) {
			remote_set(c, RC_OFFLINE, MSG_ERR_FAILED,
			    "not connected");
			continue;
		}
		c->sent_us = remote_mono_us();
		json_incref(payload);
		if (net_request(p, type, payload, timeout_s * 1000,
		    remote_answer, fan, &why) == -1) {
			remote_set(c, why != NULL &&
			    strcmp(why, "not connected") == 0 ? RC_OFFLINE :
			    RC_ERROR, MSG_ERR_FAILED, why);
			continue;
		}
		fan->pending++;
	}
	json_decref(payload);

	if (fan->pending == 0) {
		remote_finish(fan);
		return;
	}
	/* the client may go away while we wait */
	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(evcon, remote_client_gone, fan);
	remote_client_watch(fan);
	tv.tv_sec = timeout_s + REMOTE_TIMEOUT_MARGIN_MS / 1000;
	tv.tv_usec = (REMOTE_TIMEOUT_MARGIN_MS % 1000) * 1000;
	if (evtimer_add(fan->timer, &tv) == -1)
		log_warn("remote: evtimer_add");
}

/* net.c's callback: the answer, an error, a timeout or a lost session. */
static void
remote_answer(void *arg, struct peer *p, const struct msg *m, int status,
    const char *why)
{
	struct remote_fan	*fan = arg;
	struct remote_call	 key, *c;
	char			 bad[REMOTE_WHY_MAX];
	char			 vis[4 * REMOTE_ERR_MAX + 1];

	if (p == NULL)
		return;		/* removed meanwhile: the timer settles it */
	(void)strlcpy(key.id, p->id, sizeof(key.id));
	if (fan->n == 0 || (c = bsearch(&key, fan->calls, fan->n,
	    sizeof(*fan->calls), remote_call_cmp)) == NULL ||
	    c->state != RC_PENDING)
		return;
	if (m != NULL)
		c->rtt_ms = (remote_mono_us() - c->sent_us) / 1000.0;
	if (m != NULL && status == 0 &&
	    m->type == msg_response_type(fan->type)) {
		/* the answer: rebuilt from DESIGN's fields, or refused */
		if ((c->payload = remote_check_answer(fan->type, m->payload,
		    bad, sizeof(bad))) == NULL) {
			log_warnx("remote: peer %s: malformed %s: %s", p->id,
			    msg_type_name(m->type), bad);
			remote_set(c, RC_ERROR, MSG_ERR_INVALID, bad);
		} else {
			remote_set(c, RC_OK, 0, NULL);
			if (fan->type == MSG_PING)
				select_pong(p, m, c->rtt_ms);
			if (fan->reply == REMOTE_REPLY_FLEET)
				remote_fleet_add(fan, c);
		}
	} else if (m != NULL && status == 0) {
		/* net.c matched the type; never take anything else as one */
		log_warnx("remote: peer %s answered %s with %s", p->id,
		    msg_type_name(fan->type), msg_type_name(m->type));
		remote_set(c, RC_ERROR, MSG_ERR_INVALID, "wrong answer type");
	} else if (m != NULL) {
		if (why == NULL)
			why = "";
		/* net.c gives 1000..1005; anything else is internal */
		if (status < MSG_ERR_INTERNAL || status > MSG_ERR_TIMEOUT)
			status = MSG_ERR_INTERNAL;
		log_debug("remote: peer %s refused %s: %d %s", p->id,
		    msg_type_name(fan->type), status, str_vis(vis,
		    sizeof(vis), why, strnlen(why, REMOTE_ERR_MAX)));
		remote_set(c, RC_ERROR, status, why[0] != '\0' ? why :
		    "refused");
	} else if (status == MSG_ERR_TIMEOUT)
		remote_set(c, RC_TIMEOUT, MSG_ERR_TIMEOUT, "no answer in time");
	else
		remote_set(c, RC_ERROR, MSG_ERR_FAILED, why != NULL ? why :
		    "the session closed");
	if (--fan->pending == 0)
		remote_finish(fan);
}

/* The whole call's deadline: whoever did not answer timed out. */
static void
remote_timeout(int fd, short event, void *arg)
{
	struct remote_fan	*fan = arg;
	size_t			 i;

	for (i = 0; i < fan->n; i++)
		if (fan->calls[i].state == RC_PENDING)
			remote_set(&fan->calls[i], RC_TIMEOUT,
			    MSG_ERR_TIMEOUT, "no answer in time");
	fan->pending = 0;
	net_request_cancel(fan);
	remote_finish(fan);
}

/*
 * evhttp reads nothing from a connection while its request waits for
 * an answer, so it would notice a client that left only when we
 * write.  Watch the socket ourselves: readable with nothing to read
 * (MSG_PEEK leaves any bytes to evhttp) means the client closed it.
 */
static void
remote_client_watch(struct remote_fan *fan)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev, *under;
	int				 fd = -1;

	if ((evcon = evhttp_request_get_connection(fan->req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL &&
	    (fd = bufferevent_getfd(bev)) == -1 &&
	    (under = bufferevent_get_underlying(bev)) != NULL)
		fd = bufferevent_getfd(under);
	if (fd == -1)
		return;
	if ((fan->watch = event_new(ev_base, fd, EV_READ,
	    remote_client_readable, fan)) == NULL ||
	    event_add(fan->watch, NULL) == -1)
		log_warn("remote: watching the client");
}

static void
remote_client_readable(int fd, short event, void *arg)
{
	struct remote_fan	*fan = arg;
	ssize_t			 n;
	char			 c;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		if (event_add(fan->watch, NULL) == -1)
			log_warn("remote: watching the client");
		return;
	}
	if (n > 0)
		return;		/* a request after ours: evhttp's business */
	log_info("remote: the client went away: %zu of %zu answers "
	    "dropped", fan->pending, fan->n);
	net_request_cancel(fan);
	fan->pending = 0;
	/* the write fails and evhttp frees the connection and request */
	remote_finish(fan);
}

/*
 * The HTTP client closed its connection: evhttp detached the request
 * (it is ours to free) and is freeing the connection.  Forget the
 * requests still out and the fan-out.
 */
static void
remote_client_gone(struct evhttp_connection *evcon, void *arg)
{
	struct remote_fan	*fan = arg;

	log_info("remote: the client went away: %zu of %zu answers "
	    "dropped", fan->pending, fan->n);
	net_request_cancel(fan);
	/* a request still on the connection goes with it; a detached one
	 * is ours */
	if (evhttp_request_get_connection(fan->req) == NULL)
		evhttp_request_free(fan->req);
	fan->req = NULL;
	remote_free(fan);
}

static void
remote_free(struct remote_fan *fan)
{
	size_t	 i;

	LIST_REMOVE(fan, entry);
	remote_nfan--;
	if (fan->timer != NULL)
		event_free(fan->timer);
	if (fan->watch != NULL)
		event_free(fan->watch);
	for (i = 0; i < fan->n; i++) {
		free(fan->calls[i].error);
		json_decref(fan->calls[i].payload);
		free(fan->calls[i].dumped);
	}
	free(fan->calls);
	free(fan);
}

static const char *
remote_state_name(enum remote_state s)
{
	switch (s) {
	case RC_OK:
		return ("ok");
	case RC_TIMEOUT:
		return ("timeout");
	case RC_OFFLINE:
		return ("offline");
	case RC_ERROR:
	case RC_PENDING:
	default:
		return ("error");
	}
}

/* {id, name, ok, status, code, error, rttMs, stats}, a new reference. */
static json_t *
remote_call_json(const struct remote_call *c)
{
	struct peer	*p = peer_by_id(c->id);
	int		 ok = c->state == RC_OK;

	return (json_pack("{s:s, s:o, s:b, s:s, s:o, s:o, s:o, s:O?}",
	    "id", c->id,
	    "name", json_string_safe(p != NULL ? p->name : c->id),
	    "ok", ok,
	    "status", remote_state_name(c->state),
	    "code", ok ? json_null() : json_integer(c->code),
	    "error", c->error != NULL ? json_string_safe(c->error) :
		json_null(),
	    "rttMs", c->rtt_ms >= 0 ? json_real(c->rtt_ms) : json_null(),
	    "stats", ok ? c->payload : NULL));
}

/* A call that did not succeed, as an error body with its status. */
static void
remote_reply_error(struct evhttp_request *req, const struct remote_call *c)
{
	const char	*error = c->error != NULL ? c->error : "failed";

	switch (c->state) {
	case RC_OFFLINE:
		api_error(req, 503, API_ERR_FAILED, "peer %s is not "
		    "connected", c->id);
		break;
	case RC_TIMEOUT:
		api_error(req, 504, API_ERR_TIMEOUT, "peer %s did not answer",
		    c->id);
		break;
	case RC_ERROR:
	default:
		api_error(req, remote_http_status(c->code), c->code,
		    "peer %s: %s (%d): %s", c->id, remote_code_name(c->code),
		    c->code, error);
		break;
	}
}

/* Add a stats answer's hashrates to the fleet's total. */
static void
remote_fleet_sum(struct remote_fan *fan, const json_t *payload)
{
	const json_t	*miner, *hr, *v;
	size_t		 j, w;

	json_array_foreach(json_object_get(payload, "miners"), j, miner) {
		hr = json_object_get(miner, "hashrate");
		for (w = 0; w < REMOTE_NWINDOWS; w++) {
			v = json_object_get(hr, remote_windows[w]);
			if (json_is_number(v))
				fan->sum[w] += json_number_value(v);
		}
	}
}

/*
 * A fleet call's answer as it arrives: summed, dumped to its final
 * JSON and the tree freed at once.  The work is done while the other
 * workers are still answering, not all at the end, and the fan-out
 * holds one compact string a worker instead of a tree.  If the dump
 * fails, the tree stays and the reply dumps it.
 */
static void
remote_fleet_add(struct remote_fan *fan, struct remote_call *c)
{
	json_t	*o;

	remote_fleet_sum(fan, c->payload);
	if ((o = remote_call_json(c)) == NULL)
		return;
	c->dumped = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (c->dumped != NULL) {
		json_decref(c->payload);
		c->payload = NULL;
	}
}

/*
 * {"peers": [..], "totalHashrate": {..}, "asked", "answered",
 * "timedOut"}, written into the reply's buffer piece by piece.
 */
static void
remote_reply_fleet(struct remote_fan *fan)
{
	const struct remote_call	*c;
	struct evbuffer			*buf;
	json_t				*o, *tot;
	char				*s;
	size_t				 i, w, answered = 0, timedout = 0;
	int				 r = 0;

	if ((buf = evbuffer_new()) == NULL) {
		api_reply(fan->req, 200, NULL);		/* out of memory */
		return;
	}
	r |= evbuffer_add_printf(buf, "{\"peers\":[") < 0;
	for (i = 0; i < fan->n && r == 0; i++) {
		c = &fan->calls[i];
		if (c->state == RC_TIMEOUT)
			timedout++;
		if (c->state == RC_OK)
			answered++;
		if (i > 0)
			r |= evbuffer_add(buf, ",", 1);
		if (c->dumped != NULL) {
			r |= evbuffer_add(buf, c->dumped, strlen(c->dumped));
			continue;
		}
		if (c->state == RC_OK)
			remote_fleet_sum(fan, c->payload);
		if ((o = remote_call_json(c)) == NULL ||
		    (s = json_dumps(o, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL) {
			json_decref(o);
			r = -1;
			break;
		}
		json_decref(o);
		r |= evbuffer_add(buf, s, strlen(s));
		free(s);
	}
	if (r == 0 && (tot = json_object()) != NULL) {
		for (w = 0; w < REMOTE_NWINDOWS; w++)
			r |= json_object_set_new(tot, remote_windows[w],
			    json_real(fan->sum[w]));
		if ((s = json_dumps(tot, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL)
			r = -1;
		else {
			r |= evbuffer_add_printf(buf, "],\"totalHashrate\":%s,"
			    "\"asked\":%zu,\"answered\":%zu,\"timedOut\":%zu}",
			    s, fan->n, answered, timedout) < 0;
			free(s);
		}
		json_decref(tot);
	} else
		r = -1;
	if (r != 0) {
		evbuffer_free(buf);
		api_reply(fan->req, 200, NULL);		/* out of memory */
		return;
	}
	api_reply_buffer(fan->req, 200, buf);
	evbuffer_free(buf);
}

/* Every call settled: answer the client once, free the fan-out. */
static void
remote_finish(struct remote_fan *fan)
{
	struct evhttp_connection	*evcon;
	struct remote_call		*c;
	json_t				*o;

	if ((evcon = evhttp_request_get_connection(fan->req)) != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	evtimer_del(fan->timer);
	if (fan->watch != NULL) {
		event_free(fan->watch);
		fan->watch = NULL;
	}
	remote_log_summary(fan);
	switch (fan->reply) {
	case REMOTE_REPLY_FLEET:
		remote_reply_fleet(fan);
		break;
	case REMOTE_REPLY_PEER:
		c = &fan->calls[0];
		if (fan->n == 0)
			api_error(fan->req, 404, API_ERR_NOT_FOUND, "no peer");
		else if (c->state == RC_OK)
			api_reply(fan->req, 200, remote_call_json(c));
		else
			remote_reply_error(fan->req, c);
		break;
	case REMOTE_REPLY_MERGED:
		c = &fan->calls[0];
		if (fan->n == 0)
			api_error(fan->req, 404, API_ERR_NOT_FOUND, "no peer");
		else if (c->state != RC_OK)
			remote_reply_error(fan->req, c);
		else if ((o = json_pack("{s:s}", "peer", c->id)) == NULL ||
		    json_object_update_missing(o, c->payload) == -1) {
			json_decref(o);
			api_reply(fan->req, 200, NULL);
		} else
			api_reply(fan->req, 200, o);
		break;
	case REMOTE_REPLY_PING:
		c = &fan->calls[0];
		if (fan->n == 0)
			api_error(fan->req, 404, API_ERR_NOT_FOUND, "no peer");
		else if (c->state != RC_OK)
			remote_reply_error(fan->req, c);
		else
			api_reply(fan->req, 200, json_pack("{s:s, s:f}",
			    "id", c->id, "rttMs", c->rtt_ms));
		break;
	}
	fan->req = NULL;
	remote_free(fan);
}

/* One line per fan-out, whatever the number of peers. */
static void
remote_log_summary(const struct remote_fan *fan)
{
	size_t	 i, n[RC_OFFLINE + 1];

	memset(n, 0, sizeof(n));
	for (i = 0; i < fan->n; i++)
		n[fan->calls[i].state]++;
	log_info("remote: %s to %zu peer%s in %lld ms: %zu answered, "
	    "%zu refused or failed, %zu timed out, %zu offline",
	    msg_type_name(fan->type), fan->n, fan->n == 1 ? "" : "s",
	    (remote_mono_us() - fan->started_us) / 1000, n[RC_OK],
	    n[RC_ERROR] + n[RC_PENDING], n[RC_TIMEOUT], n[RC_OFFLINE]);
}

/* An operator's `peer ping' or `remote ping': the sentAt we send is
 * the one the pong echoes. */
void
remote_ping(struct evhttp_request *req, struct peer *p)
{
	json_t	*pl;

	if ((pl = json_pack("{s:I}", "sentAt", (json_int_t)now_ms())) ==
	    NULL) {
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	remote_fanout(req, &p, 1, MSG_PING, pl, env->conf.remote_timeout,
	    REMOTE_REPLY_PING);
}
