/*
 * GET /api/v1/peers/best?k=N: the N pinned workers nearest the ideal
 * point (select.c, kdtree.c).  k is 1 to SELECT_K_MAX, SELECT_K_DEFAULT
 * (1) when absent; fewer come back when there are fewer workers.
 *
 * 200 {
 *   "peers": [			nearest first; ties in id order
 *     { "id": "32 hex", "name": "string",
 *       "pingMs": number | null,	last round trip; null unknown
 *       "hops": integer | null,	1 over a direct session; null
 *					when not connected
 *       "geoKm": number | null,	great-circle km between our
 *					location and its; null unknown
 *       "score": integer,		0-100
 *       "distance": number }	Euclidean, from the ideal point
 *   ],
 *   "ideal": [0, 0, 0, 0],	the point, in the order pingMs, hops,
 *				geoKm, score
 *   "weights": { "pingMs": n, "hops": n, "geoKm": n, "score": n },
 *   "bounds": { "pingMs": ms, "hops": n, "geoKm": km, "score": points }
 * }
 * 400 {error, code 1001}: a bad k, or a parameter other than k; 405:
 * not GET; 500: out of memory.
 *
 * api.c asks api_select_route before api_peer_route, so that "best" is
 * never taken for a peer id.
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
#include "util.h"
#include "minerd.h"
#include "select.h"

#define API_SELECT_PATH		"/api/v1/peers/best"
/* Bytes of a bad k or parameter name we echo back, before escaping. */
#define API_SELECT_ECHO_MAX	32

int
api_select_route(const char *path)
{
	return (strcmp(path, API_SELECT_PATH) == 0);
}

void
api_select_dispatch(struct evhttp_request *req, const char *path)
{
	const struct evhttp_uri	*uri;
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	const char		*query, *errstr;
	char			 vis[4 * API_SELECT_ECHO_MAX + 1];
	char			 err[128];
	unsigned int		 k = SELECT_K_DEFAULT;
	json_t			*o;

	(void)path;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		api_error(req, 405, API_ERR_INVALID, "method not allowed on "
		    "%s: use GET", API_SELECT_PATH);
		return;
	}
	TAILQ_INIT(&q);
	uri = evhttp_request_get_evhttp_uri(req);
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		api_error(req, 400, API_ERR_INVALID, "bad query string");
		return;
	}
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "k") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown "
			    "parameter \"%s\": want k", str_vis(vis,
			    sizeof(vis), kv->key, strnlen(kv->key,
			    API_SELECT_ECHO_MAX)));
			evhttp_clear_headers(&q);
			return;
		}
		k = strtonum(kv->value, 1, SELECT_K_MAX, &errstr);
		if (errstr != NULL) {
			api_error(req, 400, API_ERR_INVALID, "k \"%s\" is %s: "
			    "1 to %d", str_vis(vis, sizeof(vis), kv->value,
			    strnlen(kv->value, API_SELECT_ECHO_MAX)), errstr,
			    SELECT_K_MAX);
			evhttp_clear_headers(&q);
			return;
		}
	}
	evhttp_clear_headers(&q);
	if ((o = select_best_json(k, err, sizeof(err))) == NULL) {
		api_error(req, 500, API_ERR_INTERNAL, "%s", err);
		return;
	}
	api_reply(req, 200, o);
}
