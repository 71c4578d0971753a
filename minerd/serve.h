/*
 * A worker serving its controllers (serve.c), and the pure parts of it
 * (serve_check.c): who may send what, and the checks of each request's
 * payload.  The pure parts use no state of minerd, so that the unit
 * test and the fuzzer take them alone.
 */

#ifndef SERVE_H
#define SERVE_H

#include <stddef.h>

#include <jansson.h>

#include "lethd.h"
#include "peer.h"
#include "msg.h"

/* Lines of a get_logs answer when the request names no number: what
 * `lethctl miner logs' shows by default. */
#define SERVE_LOGS_DEFAULT	50
/* Lines one get_logs may ask for.  A ring holds RING_LINES_DEFAULT by
 * default and the config may raise it; an answer still stops at
 * SERVE_PAYLOAD_MAX bytes (hasMore then says there was more). */
#define SERVE_LOGS_MAX		10000
/* Bytes of a message body beside its payload: id, type, from, to, ts
 * and replyTo take under 300; the rest is margin. */
#define SERVE_ENVELOPE_MAX	4096
/* An answer's payload, encoded, stays under this so that the signed
 * message fits LETHD_MAX_MESSAGE.  stats (MINER_SLOTS_MAX miners of a
 * few KiB at worst) always fits; logs and profiles are cut here and
 * say so with hasMore. */
#define SERVE_PAYLOAD_MAX	(LETHD_MAX_MESSAGE - SERVE_ENVELOPE_MAX)
/* One refusal's reason, sent in the error and logged. */
#define SERVE_WHY_MAX		256

/* A request's fields, checked. */
struct serve_req {
	enum msg_type	 type;
	/* stop, restart, logs: minerName; start: name ("" none) */
	char		 miner[MINER_NAME_MAX + 1];
	char		 profile[PROFILE_ID_MAX + 1];	/* start */
	unsigned int	 lines;				/* logs */
};

/*
 * 1 when a peer allowed as access may send a request of type, else 0.
 * operator: every request (deploy is then refused as not supported);
 * observer: get_stats, get_logs, get_profiles; none: nothing.
 */
int	serve_allowed(enum peer_access, enum msg_type);

/*
 * Check the payload of a request of type (an object: msg_verify made
 * sure).  Fields the type does not use are ignored.  0 and r filled,
 * or -1 with the reason in why (the error's code is MSG_ERR_INVALID).
 */
int	serve_parse(enum msg_type, const json_t *payload, struct serve_req *r,
	    char *why, size_t whylen);

/* A profile id: 1 to max of [A-Za-z0-9._-], a letter or a digit first.
 * 0 or -1.  A miner name is miner_name_valid's (common/name.h). */
int	serve_name_check(const char *, size_t max);

/* serve.c (serve_request is in minerd.h, for net.c) */
/* minerd started: the zero of the uptime in stats. */
void	 serve_init(void);
/* The profiles payload without secrets, cut at budget bytes encoded
 * (SERVE_PAYLOAD_MAX on the wire); NULL when out of memory. */
json_t	*serve_profiles_json(size_t budget);
/* The stats payload of this node, whose id is node_id. */
json_t	*serve_stats_json(const char *node_id);

#endif /* SERVE_H */
