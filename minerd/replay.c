/*
 * The replay cache: the message ids seen from one peer inside the ts
 * window (DESIGN, Wire protocol).
 *
 * Each entry sits in two red-black trees: one by id, for the lookup,
 * and one by (ts, id), so that expiry takes the oldest entries off the
 * front instead of scanning.  A check costs O(log n) plus O(log n) for
 * each entry it expires, and each entry expires once.  The cache never
 * evicts a live id: when it holds max entries it refuses, and the
 * sender waits for its ids to age out of the window.
 */

#include <sys/types.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lethd.h"
#include "msg.h"

struct replay_entry {
	RB_ENTRY(replay_entry)	 by_id;
	RB_ENTRY(replay_entry)	 by_ts;
	long long		 ts;
	char			 id[MSG_UUID_LEN + 1];
};

RB_HEAD(replay_ids, replay_entry);
RB_HEAD(replay_times, replay_entry);

struct replay_cache {
	struct replay_ids	 ids;
	struct replay_times	 times;
	unsigned int		 count;
	unsigned int		 max;
};

static int	replay_id_cmp(struct replay_entry *, struct replay_entry *);
static int	replay_ts_cmp(struct replay_entry *, struct replay_entry *);

/* libbsd's RB_GENERATE_STATIC wants a __unused that its cdefs.h leaves
 * out: spell the attribute here instead. */
#define REPLAY_RB_ATTR	__attribute__((__unused__)) static
RB_GENERATE_INTERNAL(replay_ids, replay_entry, by_id, replay_id_cmp,
    REPLAY_RB_ATTR)
RB_GENERATE_INTERNAL(replay_times, replay_entry, by_ts, replay_ts_cmp,
    REPLAY_RB_ATTR)

static int
replay_id_cmp(struct replay_entry *a, struct replay_entry *b)
{
	return (strcmp(a->id, b->id));
}

/* By ts, then id: two ids may share a ts. */
static int
replay_ts_cmp(struct replay_entry *a, struct replay_entry *b)
{
	if (a->ts < b->ts)
		return (-1);
	if (a->ts > b->ts)
		return (1);
	return (strcmp(a->id, b->id));
}

/* A cache of at most max ids; NULL (errno set) on failure. */
struct replay_cache *
replay_new(unsigned int max)
{
	struct replay_cache	*rc;

	if (max == 0) {
		errno = EINVAL;
		return (NULL);
	}
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return (NULL);
	RB_INIT(&rc->ids);
	RB_INIT(&rc->times);
	rc->max = max;
	return (rc);
}

static void
replay_remove(struct replay_cache *rc, struct replay_entry *e)
{
	RB_REMOVE(replay_ids, &rc->ids, e);
	RB_REMOVE(replay_times, &rc->times, e);
	rc->count--;
	free(e);
}

/*
 * Entries with ts < expire_before_ms go first; then 1 for a seen id,
 * -1 when full (or on no memory, or an id longer than a UUID: never a
 * reason to accept), else the id is remembered and 0.
 */
int
replay_check(struct replay_cache *rc, const char *id, long long ts,
    long long expire_before_ms)
{
	struct replay_entry	*e, key;

	while ((e = RB_MIN(replay_times, &rc->times)) != NULL &&
	    e->ts < expire_before_ms)
		replay_remove(rc, e);

	if (strlcpy(key.id, id, sizeof(key.id)) >= sizeof(key.id))
		return (-1);
	if (RB_FIND(replay_ids, &rc->ids, &key) != NULL)
		return (1);
	if (rc->count >= rc->max)
		return (-1);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	memcpy(e->id, key.id, sizeof(e->id));
	e->ts = ts;
	RB_INSERT(replay_ids, &rc->ids, e);
	RB_INSERT(replay_times, &rc->times, e);
	rc->count++;
	return (0);
}

unsigned int
replay_count(const struct replay_cache *rc)
{
	return (rc->count);
}

void
replay_free(struct replay_cache *rc)
{
	struct replay_entry	*e;

	if (rc == NULL)
		return;
	while ((e = RB_MIN(replay_ids, &rc->ids)) != NULL)
		replay_remove(rc, e);
	free(rc);
}
