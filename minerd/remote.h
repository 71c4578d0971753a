/*
 * The controller's side of the fleet operations: one operator call
 * fanned out to N workers in parallel (net_request), answered once,
 * when every worker answered or its time ran out.  api_remote.c picks
 * the peers and the message; remote.c asks, waits and builds the one
 * reply.
 */

#ifndef REMOTE_H
#define REMOTE_H

#include <stddef.h>

#include <jansson.h>

#include "msg.h"

struct evhttp_request;
struct peer;

/*
 * Fan-outs waiting at once.  Each holds one HTTP request (the control
 * API's own connection cap bounds those too) and a record per peer
 * asked (under 100 bytes: 10,000 workers are a megabyte).  They are
 * not parked in api.c's table (API_PENDING_MAX): a `remote status
 * --all' must never be refused because a dashboard polls /status.
 */
#define REMOTE_FANS_MAX		64
/* Past the per-peer timeout, the fan-out answers with what came back
 * even if net.c never called back (a peer removed mid-call): net.c's
 * own timer fires first in every normal case. */
#define REMOTE_TIMEOUT_MARGIN_MS	1000
/* Bytes of a worker's error message we keep and show. */
#define REMOTE_ERR_MAX		256

/* What the one reply is. */
enum remote_reply {
	REMOTE_REPLY_FLEET,	/* {"peers": [..], "totalHashrate", ...} */
	REMOTE_REPLY_PEER,	/* one peer's object, or an error body */
	REMOTE_REPLY_MERGED,	/* {"peer": id, ...the worker's payload} */
	REMOTE_REPLY_PING	/* {"id", "rttMs"}, or an error body */
};

/*
 * Send type with payload (stolen; shared by every request) to the n
 * peers (any order, duplicates allowed) and answer req once, with
 * reply's shape.  Peers not connected are reported at once; timeout_s
 * bounds the wait for each of the others.  Each answer is rebuilt from
 * DESIGN's fields (remote_check.c) before it is kept.  When net.c has
 * no room for every request, the call is refused at once with 503.
 */
void		 remote_fanout(struct evhttp_request *, struct peer **,
		    size_t n, enum msg_type, json_t *payload,
		    unsigned int timeout_s, enum remote_reply);
/* An operator's ping of p: a fan-out of one, answered {id, rttMs}. */
void		 remote_ping(struct evhttp_request *, struct peer *);
unsigned int	 remote_nfans(void);
/* The HTTP status for an error code of a worker's `error' answer. */
int		 remote_http_status(int code);

#endif /* REMOTE_H */
