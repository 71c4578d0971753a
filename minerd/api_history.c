/*
 * The history route of the control API (api.c hands it here):
 *
 *	GET /api/v1/history/{miner}[?since=MS][&until=MS]
 *		{"miner","since","until","truncated","samples": [
 *		 {"ts","kind":"sample","hr10s","hr60s","hr15m","shares",
 *		  "rejected"} | {"ts","kind":"minute","hr60s","n"} ...]}
 *
 * Times are Unix ms; until defaults to now and since to an hour before
 * until.  A miner name is [A-Za-z0-9._-], 1 to MINER_NAME_MAX bytes; a
 * miner that is gone keeps its history until it ages out, so the name
 * need not be a running miner's.
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
#include "util.h"
#include "minerd.h"
#include "miner.h"

#define API_HISTORY_PREFIX	"/api/v1/history/"
/* Bytes of a bad value we echo back in an error, before escaping. */
#define API_HISTORY_ECHO_MAX	32

static int	api_history_name(const char *);
static int	api_history_time(struct evhttp_request *, struct evkeyvalq *,
		    const char *, long long *);

/* The request's path, if it is ours: api.c routes it here. */
int
api_history_route(const char *path)
{
	return (strncmp(path, API_HISTORY_PREFIX,
	    strlen(API_HISTORY_PREFIX)) == 0);
}

static int
api_history_name(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > MINER_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return (0);
	return (1);
}

/* 1 and *v set if the parameter is there, 0 if not, -1 after a 400. */
static int
api_history_time(struct evhttp_request *req, struct evkeyvalq *q,
    const char *key, long long *v)
{
	const char	*s, *errstr;
	char		 vis[4 * API_HISTORY_ECHO_MAX + 1];

	if ((s = evhttp_find_header(q, key)) == NULL)
		return (0);
	*v = strtonum(s, 0, HISTORY_TIME_MAX, &errstr);
	if (errstr != NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s %s: Unix ms from 0 "
		    "to %lld", key, str_vis(vis, sizeof(vis), s,
		    strnlen(s, API_HISTORY_ECHO_MAX)), HISTORY_TIME_MAX);
		return (-1);
	}
	return (1);
}

void
api_history_dispatch(struct evhttp_request *req, const char *path)
{
	const struct evhttp_uri	*uri;
	struct evkeyvalq	 q;
	const char		*name, *query;
	char			 err[256];
	long long		 since = 0, until = 0;
	int			 hs, hu;
	json_t			*o;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		api_error(req, 405, API_ERR_INVALID, "method not allowed on "
		    "/api/v1/history/{miner}: use GET");
		return;
	}
	name = path + strlen(API_HISTORY_PREFIX);
	if (!api_history_name(name)) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no such route: a "
		    "miner name is 1 to %d of A-Z a-z 0-9 . _ -",
		    MINER_NAME_MAX);
		return;
	}

	TAILQ_INIT(&q);
	uri = evhttp_request_get_evhttp_uri(req);
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		api_error(req, 400, API_ERR_INVALID, "bad query string");
		return;
	}
	if ((hs = api_history_time(req, &q, "since", &since)) == -1 ||
	    (hu = api_history_time(req, &q, "until", &until)) == -1) {
		evhttp_clear_headers(&q);
		return;
	}
	evhttp_clear_headers(&q);
	if (!hu)
		until = now_ms();
	if (!hs)
		since = until > HISTORY_RANGE_DEFAULT ?
		    until - HISTORY_RANGE_DEFAULT : 0;
	if (until < since) {
		api_error(req, 400, API_ERR_INVALID, "until %lld is before "
		    "since %lld", until, since);
		return;
	}
	if ((o = history_query(name, since, until, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 503, API_ERR_FAILED, "%s", err);
		return;
	}
	api_reply(req, 200, o);
}
