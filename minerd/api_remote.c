/*
 * The fleet routes of the control API (api.c hands them here): this
 * node as a controller, asking the workers it pinned.  remote.c sends
 * the signed requests and builds the answers.
 *
 *	GET  /api/v1/remote/stats[?peer=ID...][&tag=T...]
 *		every pinned worker (no query), or the peers named and
 *		the pinned workers carrying any of the tags:
 *		200 {"peers": [PEER...],
 *		     "totalHashrate": {"10s": n, "60s": n, "15m": n},
 *		     "asked": n, "answered": n, "timedOut": n}
 *		PEER = {"id", "name",
 *		        "ok": bool,
 *		        "status": "ok" | "timeout" | "error" | "offline",
 *		        "code": int | null (the worker's error code, 1004
 *		                offline, 1005 timeout; null when ok),
 *		        "error": string | null,
 *		        "rttMs": number | null,
 *		        "stats": the worker's stats payload | null}
 *		stats = {"nodeId", "nodeName", "uptime", "miners": [{"name",
 *		        "type", "state", "hashrate": {"10s", "60s", "15m"}
 *		        (each number or null), "shares", "rejected",
 *		        "uptime", "pool", "algorithm", "readAt"}]}
 *		totalHashrate sums the known values of the workers that
 *		answered; "answered" counts those (status ok), "timedOut"
 *		those that did not answer in `remote timeout' seconds.
 *	GET  /api/v1/remote/{peer}/stats
 *		200 PEER (status ok), or an error body (below)
 *	POST /api/v1/remote/{peer}/start	{"profileId", "name"?}
 *	POST /api/v1/remote/{peer}/stop		{"minerName"}
 *	POST /api/v1/remote/{peer}/restart	{"minerName"}
 *		200 {"peer": id, "minerName", "action", "ok", "state",
 *		     "message"}: the worker's miner_ack, sent once the
 *		outcome is known (ok may be false); waits up to `remote
 *		command timeout' seconds
 *	POST /api/v1/remote/{peer}/ping
 *		200 {"id", "rttMs"} (net.c's signed ping)
 *	GET  /api/v1/remote/{peer}/logs/{miner}[?n=N]
 *		200 {"peer": id, "minerName", "lines": [string...],
 *		     "hasMore": bool}; N 1..REMOTE_LOGS_MAX, default 50
 *	GET  /api/v1/remote/{peer}/profiles
 *		200 {"peer": id, "profiles": [profile...]} (no passwords:
 *		the worker never sends them)
 *
 * Errors are {"error": message, "code": code}: 400 1001 a bad path,
 * query or body (and a worker's 1001); 403 1002 the worker refused us
 * (unauthorised: not allowed, or an observer asking to start or stop);
 * 404 1003 an unknown peer (or the worker's not found: no such miner
 * or profile); 502 1004 the worker could not do it, or 1000; 503 1004
 * the peer is not connected (or too many remote calls in flight); 504
 * 1005 the worker did not answer in time.  A peer id is 32 lowercase
 * hex digits; a miner name 1 to MINER_NAME_MAX of [A-Za-z0-9._-], not
 * starting with '.'; a profile id as profile_id_check has it.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "name.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "profile.h"
#include "remote.h"

#define API_REMOTE_PREFIX	"/api/v1/remote"
/* A peer's logs route: this, then the miner's name. */
#define API_REMOTE_LOGS		"logs/"
#define API_REMOTE_LOGS_LEN	(sizeof(API_REMOTE_LOGS) - 1)
/* Log lines asked of a worker without ?n=, and at most (its ring holds
 * RING_LINES_DEFAULT; one message must stay under 1 MiB). */
#define REMOTE_LOGS_DEFAULT	50
#define REMOTE_LOGS_MAX		10000
/* tag= parameters of one fleet query: a peer holds PEER_TAGS_MAX. */
#define REMOTE_QUERY_TAGS_MAX	PEER_TAGS_MAX
/* Bytes of a bad value we echo back in an error, before escaping. */
#define REMOTE_ECHO_MAX		64

static int	api_remote_method(struct evhttp_request *, int, const char *,
		    const char *);
static const char *api_remote_echo(char *, size_t, const char *);
static void	api_remote_fleet(struct evhttp_request *);
static void	api_remote_start(struct evhttp_request *, struct peer *);
static void	api_remote_miner(struct evhttp_request *, struct peer *,
		    enum msg_type);
static void	api_remote_logs(struct evhttp_request *, struct peer *,
		    const char *);
static void	api_remote_one(struct evhttp_request *, struct peer *,
		    enum msg_type, json_t *, unsigned int, enum remote_reply);

int
api_remote_route(const char *path)
{
	size_t	 n = strlen(API_REMOTE_PREFIX);

	return (strncmp(path, API_REMOTE_PREFIX, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/'));
}

static const char *
api_remote_echo(char *buf, size_t len, const char *s)
{
	return (str_vis(buf, len, s, strnlen(s, REMOTE_ECHO_MAX)));
}

/* 1 if the method is allowed; else a 405 was sent. */
static int
api_remote_method(struct evhttp_request *req, int allowed,
    const char *allow, const char *path)
{
	char	 vis[4 * REMOTE_ECHO_MAX + 1];

	if ((int)evhttp_request_get_command(req) & allowed)
		return (1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	api_error(req, 405, API_ERR_INVALID, "method not allowed on %s: use "
	    "%s", api_remote_echo(vis, sizeof(vis), path), allow);
	return (0);
}


void
api_remote_dispatch(struct evhttp_request *req, const char *path)
{
	struct peer	*p;
	const char	*rest, *action;
	char		 id[NODE_ID_LEN + 1];
	size_t		 n = strlen(API_REMOTE_PREFIX);

	rest = path + n;
	if (*rest++ != '/')
		goto notfound;
	if (strcmp(rest, "stats") == 0) {
		if (api_remote_method(req, EVHTTP_REQ_GET, "GET", path))
			api_remote_fleet(req);
		return;
	}
	if (strlen(rest) < NODE_ID_LEN + 1 || rest[NODE_ID_LEN] != '/')
		goto badid;
	memcpy(id, rest, NODE_ID_LEN);
	id[NODE_ID_LEN] = '\0';
	if (peer_id_check(id) == -1)
		goto badid;
	action = rest + NODE_ID_LEN + 1;

	/* the route and method first, then the peer */
	if (strcmp(action, "stats") == 0 || strcmp(action, "profiles") == 0 ||
	    strncmp(action, API_REMOTE_LOGS, API_REMOTE_LOGS_LEN) == 0) {
		if (!api_remote_method(req, EVHTTP_REQ_GET, "GET", path))
			return;
	} else if (strcmp(action, "start") == 0 ||
	    strcmp(action, "stop") == 0 || strcmp(action, "restart") == 0 ||
	    strcmp(action, "ping") == 0) {
		if (!api_remote_method(req, EVHTTP_REQ_POST, "POST", path))
			return;
	} else
		goto notfound;
	if (strncmp(action, API_REMOTE_LOGS, API_REMOTE_LOGS_LEN) == 0 &&
	    !miner_name_valid(action + API_REMOTE_LOGS_LEN)) {
		api_error(req, 400, API_ERR_INVALID, "invalid miner name: "
		    "want 1 to %d of [A-Za-z0-9._-], not starting with '.'",
		    MINER_NAME_MAX);
		return;
	}
	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		return;
	}

	if (strcmp(action, "stats") == 0)
		api_remote_one(req, p, MSG_GET_STATS, json_object(),
		    env->conf.remote_timeout, REMOTE_REPLY_PEER);
	else if (strcmp(action, "profiles") == 0)
		api_remote_one(req, p, MSG_GET_PROFILES, json_object(),
		    env->conf.remote_timeout, REMOTE_REPLY_MERGED);
	else if (strncmp(action, API_REMOTE_LOGS, API_REMOTE_LOGS_LEN) == 0)
		api_remote_logs(req, p, action + API_REMOTE_LOGS_LEN);
	else if (strcmp(action, "start") == 0)
		api_remote_start(req, p);
	else if (strcmp(action, "stop") == 0)
		api_remote_miner(req, p, MSG_STOP_MINER);
	else if (strcmp(action, "restart") == 0)
		api_remote_miner(req, p, MSG_RESTART_MINER);
	else
		net_ping(req, p);
	return;
 notfound:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route");
	return;
 badid:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route: a peer id "
	    "is %d lowercase hex digits", NODE_ID_LEN);
}

/* One peer, one message: remote.c answers. */
static void
api_remote_one(struct evhttp_request *req, struct peer *p,
    enum msg_type type, json_t *payload, unsigned int timeout_s,
    enum remote_reply reply)
{
	if (payload == NULL) {
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	remote_fanout(req, &p, 1, type, payload, timeout_s, reply);
}

/*
 * The peers of a fleet query: ?peer=ID (each must be in the registry)
 * and ?tag=T (the pinned workers with any of them); neither, every
 * pinned worker.
 */
static void
api_remote_fleet(struct evhttp_request *req)
{
	const struct evhttp_uri	*uri;
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	struct peer		**peers = NULL, *p;
	const char		*query = NULL, *tags[REMOTE_QUERY_TAGS_MAX];
	char			 err[PEER_ERR_MAX];
	char			 vis[4 * REMOTE_ECHO_MAX + 1];
	size_t			 n = 0, max, ntags = 0, nids = 0, i;
	unsigned int		 t;

	TAILQ_INIT(&q);
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		query = evhttp_uri_get_query(uri);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "peer") == 0) {
			if (strlen(kv->value) != NODE_ID_LEN ||
			    peer_id_check(kv->value) == -1) {
				api_error(req, 400, API_ERR_INVALID, "invalid "
				    "peer \"%s\": want %d lowercase hex "
				    "digits", api_remote_echo(vis,
				    sizeof(vis), kv->value), NODE_ID_LEN);
				goto done;
			}
			if (peer_by_id(kv->value) == NULL) {
				api_error(req, 404, API_ERR_NOT_FOUND, "no "
				    "peer %s", kv->value);
				goto done;
			}
			nids++;
		} else if (strcmp(kv->key, "tag") == 0) {
			if (peer_tag_check(kv->value, strlen(kv->value), err,
			    sizeof(err)) == -1) {
				api_error(req, 400, API_ERR_INVALID, "invalid "
				    "tag \"%s\": %s", api_remote_echo(vis,
				    sizeof(vis), kv->value), err);
				goto done;
			}
			if (ntags >= REMOTE_QUERY_TAGS_MAX) {
				api_error(req, 400, API_ERR_INVALID, "more "
				    "than %d tags", REMOTE_QUERY_TAGS_MAX);
				goto done;
			}
			tags[ntags++] = kv->value;
		} else {
			api_error(req, 400, API_ERR_INVALID, "unknown "
			    "parameter \"%s\": want peer or tag",
			    api_remote_echo(vis, sizeof(vis), kv->key));
			goto done;
		}
	}
	if (nids > PEERS_MAX) {
		api_error(req, 400, API_ERR_INVALID, "more than %d peers",
		    PEERS_MAX);
		goto done;
	}

	max = nids + (nids == 0 || ntags > 0 ? peer_count() : 0);
	if (max > 0 && (peers = reallocarray(NULL, max,
	    sizeof(*peers))) == NULL) {
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		goto done;
	}
	TAILQ_FOREACH(kv, &q, next)
		if (strcmp(kv->key, "peer") == 0 &&
		    (p = peer_by_id(kv->value)) != NULL)
			peers[n++] = p;
	if (nids == 0 || ntags > 0) {
		for (p = peer_first(); p != NULL && n < max;
		    p = peer_next(p)) {
			if (!p->pinned)
				continue;
			if (ntags == 0 && nids == 0) {
				peers[n++] = p;
				continue;
			}
			for (t = 0; t < p->ntags; t++) {
				for (i = 0; i < ntags; i++)
					if (strcmp(p->tags[t], tags[i]) == 0)
						break;
				if (i < ntags)
					break;
			}
			if (t < p->ntags)
				peers[n++] = p;
		}
	}
	/* remote.c drops the duplicates */
	remote_fanout(req, peers, n, MSG_GET_STATS, json_object(),
	    env->conf.remote_timeout, REMOTE_REPLY_FLEET);
 done:
	free(peers);
	evhttp_clear_headers(&q);
}

/* POST .../start {"profileId", "name"?} */
static void
api_remote_start(struct evhttp_request *req, struct peer *p)
{
	json_t		*body, *v, *pl;
	const char	*key, *profile = NULL, *name = NULL;
	char		 err[PEER_ERR_MAX], vis[4 * REMOTE_ECHO_MAX + 1];

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "profileId") != 0 && strcmp(key, "name") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want profileId or name",
			    api_remote_echo(vis, sizeof(vis), key));
			goto done;
		}
	}
	if ((v = json_object_get(body, "profileId")) == NULL ||
	    !json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v) ||
	    profile_id_check(json_string_value(v)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "%s profileId: want 1 "
		    "to %d of [A-Za-z0-9._-], a letter or digit first",
		    v == NULL ? "missing" : "invalid", PROFILE_ID_MAX);
		goto done;
	}
	profile = json_string_value(v);
	if ((v = json_object_get(body, "name")) != NULL) {
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) ||
		    !miner_name_valid(json_string_value(v))) {
			api_error(req, 400, API_ERR_INVALID, "invalid name: "
			    "want 1 to %d of [A-Za-z0-9._-], not starting "
			    "with '.'", MINER_NAME_MAX);
			goto done;
		}
		name = json_string_value(v);
	}
	if (name != NULL)
		pl = json_pack("{s:s, s:s}", "profileId", profile, "name",
		    name);
	else
		pl = json_pack("{s:s}", "profileId", profile);
	api_remote_one(req, p, MSG_START_MINER, pl,
	    env->conf.remote_command_timeout, REMOTE_REPLY_MERGED);
 done:
	json_decref(body);
}

/* POST .../stop and .../restart {"minerName"} */
static void
api_remote_miner(struct evhttp_request *req, struct peer *p,
    enum msg_type type)
{
	json_t		*body, *v;
	const char	*key;
	char		 err[PEER_ERR_MAX], vis[4 * REMOTE_ECHO_MAX + 1];

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "minerName") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want minerName",
			    api_remote_echo(vis, sizeof(vis), key));
			goto done;
		}
	}
	if ((v = json_object_get(body, "minerName")) == NULL ||
	    !json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v) ||
	    !miner_name_valid(json_string_value(v))) {
		api_error(req, 400, API_ERR_INVALID, "%s minerName: want 1 to "
		    "%d of [A-Za-z0-9._-], not starting with '.'",
		    v == NULL ? "missing" : "invalid", MINER_NAME_MAX);
		goto done;
	}
	api_remote_one(req, p, type, json_pack("{s:s}", "minerName",
	    json_string_value(v)), env->conf.remote_command_timeout,
	    REMOTE_REPLY_MERGED);
 done:
	json_decref(body);
}

/* GET .../logs/{miner}[?n=N] */
static void
api_remote_logs(struct evhttp_request *req, struct peer *p,
    const char *miner)
{
	const struct evhttp_uri	*uri;
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	const char		*query = NULL, *errstr;
	char			 vis[4 * REMOTE_ECHO_MAX + 1];
	long long		 n = REMOTE_LOGS_DEFAULT;

	TAILQ_INIT(&q);
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		query = evhttp_uri_get_query(uri);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "n") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown "
			    "parameter \"%s\": want n", api_remote_echo(vis,
			    sizeof(vis), kv->key));
			goto done;
		}
		n = strtonum(kv->value, 1, REMOTE_LOGS_MAX, &errstr);
		if (errstr != NULL) {
			api_error(req, 400, API_ERR_INVALID, "invalid n: want "
			    "1 to %d lines", REMOTE_LOGS_MAX);
			goto done;
		}
	}
	api_remote_one(req, p, MSG_GET_LOGS, json_pack("{s:s, s:I}",
	    "minerName", miner, "lines", (json_int_t)n),
	    env->conf.remote_timeout, REMOTE_REPLY_MERGED);
 done:
	evhttp_clear_headers(&q);
}
