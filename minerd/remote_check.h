/*
 * The pure part of the controller's fan-outs (remote.c): what a
 * worker's answer may be.  Each answer is rebuilt from DESIGN's fields
 * only, every value's type checked and every string, array and number
 * bounded, so that what the controller keeps and relays is small and
 * what it sums stays finite, whatever a worker sends.
 */

#ifndef REMOTE_CHECK_H
#define REMOTE_CHECK_H

#include <stddef.h>

#include <jansson.h>

#include "msg.h"

/* Miners in one worker's stats (a rig has MINER_SLOTS_MAX; a newer
 * worker may allow more): beyond this, the answer is malformed. */
#define REMOTE_STATS_MINERS_MAX	1024
/* H/s of one hashrate window: a thousand times the largest rig there
 * is (an EH/s farm is many workers).  With REMOTE_STATS_MINERS_MAX
 * miners on each of PEERS_MAX workers the fleet's total stays below
 * 1e23, far from a double's overflow to inf (which jansson cannot
 * encode). */
#define REMOTE_HASHRATE_MAX	1e15
/* A worker's uptime or a miner's, seconds: a century. */
#define REMOTE_UPTIME_MAX	(100LL * 366 * 24 * 3600)
/* A share count: what a uint64 counter shows in JSON's exact range. */
#define REMOTE_COUNT_MAX	((1LL << 53) - 1)
/* Bytes of the short strings: a driver's name, a state, an action. */
#define REMOTE_WORD_MAX		32
/* Bytes of a node's name (the handshake's bound). */
#define REMOTE_NAME_MAX		NODE_NAME_MAX
/* Bytes of a relayed text: a pool, an algorithm, a profile's field,
 * vis(3)-escaped by the worker (4 bytes per byte of 255). */
#define REMOTE_TEXT_MAX		1024
/* Bytes of a miner_ack message (the worker's is SERVE_WHY_MAX). */
#define REMOTE_MESSAGE_MAX	1024
/* Lines of a logs answer (the most a controller asks for) and bytes of
 * one (MINER_LINE_MAX, vis(3)-escaped). */
#define REMOTE_LOG_LINES_MAX	10000
#define REMOTE_LOG_LINE_MAX	(4 * 512 + 1)
/* Profiles of one answer (PROFILES_MAX) and extra arguments of one
 * (PROFILE_EXTRA_MAX, with room for a newer worker). */
#define REMOTE_PROFILES_MAX	256
#define REMOTE_EXTRA_MAX	64
/* A profile's threads (PROFILE_THREADS_MAX) and floor (H/s). */
#define REMOTE_THREADS_MAX	1024
#define REMOTE_FLOOR_MAX	1e18
/* Bytes of the reason a malformed answer was refused. */
#define REMOTE_WHY_MAX		128

/*
 * The answer to a request of type req (its payload pl) rebuilt from
 * DESIGN's fields: a new object, or NULL with why (a malformed answer,
 * or out of memory).
 */
json_t	*remote_check_answer(enum msg_type req, const json_t *pl, char *why,
	    size_t whylen);
/* The code of an `error' answer's payload: 1000..1005, and 1000
 * (internal) for anything else, so that an error is never 0. */
int	 remote_check_code(const json_t *pl);

#endif /* REMOTE_CHECK_H */
