/*
 * The output ring of one miner.
 *
 * Bytes arrive from the miner's output pipe in whatever pieces read(2)
 * returns.  A line is collected in a fixed buffer of MINER_LINE_MAX
 * bytes; what a longer line holds beyond that is dropped up to its
 * newline (a flood of one endless line costs nothing but the read).
 * Each whole line is handed to the caller raw (the generic driver
 * parses rates from it), then vis(3)-escaped and stored.  The oldest
 * lines go when the ring holds max_lines, or when the next one would
 * take the escaped bytes past max_bytes.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lethd.h"
#include "driver.h"
#include "util.h"
#include "ring.h"

/* str_vis turns one byte into at most four ("\ooo"). */
#define RING_VIS_MAX	(MINER_LINE_MAX * 4 + 1)

struct miner_ring {
	char		**line;		/* max_lines slots, a circle */
	size_t		  max_lines;
	size_t		  max_bytes;
	size_t		  head;		/* the oldest */
	size_t		  count;
	size_t		  bytes;	/* escaped bytes held, no NULs */
	uint64_t	  total;
	/* the line being read */
	char		  part[MINER_LINE_MAX + 1];
	size_t		  plen;
	int		  cut;		/* over MINER_LINE_MAX: drop the rest */
};

static void	ring_emit(struct miner_ring *, ring_line_cb, void *);
static void	ring_store(struct miner_ring *, const char *, size_t);
static void	ring_drop_oldest(struct miner_ring *);

struct miner_ring *
ring_new(size_t max_lines, size_t max_bytes)
{
	struct miner_ring	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->max_lines = max_lines != 0 ? max_lines : RING_LINES_DEFAULT;
	r->max_bytes = max_bytes != 0 ? max_bytes : RING_BYTES_DEFAULT;
	if ((r->line = calloc(r->max_lines, sizeof(*r->line))) == NULL) {
		free(r);
		return (NULL);
	}
	return (r);
}

void
ring_free(struct miner_ring *r)
{
	if (r == NULL)
		return;
	while (r->count > 0)
		ring_drop_oldest(r);
	free(r->line);
	free(r);
}

void
ring_feed(struct miner_ring *r, const char *buf, size_t len,
    ring_line_cb cb, void *arg)
{
	const char	*nl;
	size_t		 n, take;

	while (len > 0) {
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) : len;
		if (!r->cut) {
			take = MINER_LINE_MAX - r->plen;
			if (take > n)
				take = n;
			memcpy(r->part + r->plen, buf, take);
			r->plen += take;
			if (take < n)
				r->cut = 1;
		}
		if (nl == NULL)
			break;
		ring_emit(r, cb, arg);
		buf += n + 1;
		len -= n + 1;
	}
}

void
ring_flush(struct miner_ring *r, ring_line_cb cb, void *arg)
{
	if (r->plen > 0 || r->cut)
		ring_emit(r, cb, arg);
}

void
ring_add(struct miner_ring *r, const char *s, size_t len)
{
	char	 esc[RING_VIS_MAX];

	if (len > MINER_LINE_MAX)
		len = MINER_LINE_MAX;
	str_vis(esc, sizeof(esc), s, len);
	ring_store(r, esc, strlen(esc));
}

/* The line in part is whole: hand it out raw, store it escaped. */
static void
ring_emit(struct miner_ring *r, ring_line_cb cb, void *arg)
{
	char	 esc[RING_VIS_MAX];
	size_t	 len = r->plen, cap;

	if (len > 0 && r->part[len - 1] == '\r')
		len--;
	r->part[len] = '\0';
	if (cb != NULL)
		cb(r->part, len, arg);
	/* one line alone may not pass the byte bound */
	cap = sizeof(esc);
	if (cap > r->max_bytes + 1)
		cap = r->max_bytes + 1;
	str_vis(esc, cap, r->part, len);
	ring_store(r, esc, strlen(esc));
	r->plen = 0;
	r->cut = 0;
}

static void
ring_store(struct miner_ring *r, const char *s, size_t len)
{
	char	*copy;

	while (r->count > 0 && (r->count == r->max_lines ||
	    r->bytes + len > r->max_bytes))
		ring_drop_oldest(r);
	if (len > r->max_bytes)
		return;
	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, s, len);
	copy[len] = '\0';
	r->line[(r->head + r->count) % r->max_lines] = copy;
	r->count++;
	r->bytes += len;
	r->total++;
}

static void
ring_drop_oldest(struct miner_ring *r)
{
	char	*s = r->line[r->head];

	r->bytes -= strlen(s);
	free(s);
	r->line[r->head] = NULL;
	r->head = (r->head + 1) % r->max_lines;
	r->count--;
}

size_t
ring_count(const struct miner_ring *r)
{
	return (r->count);
}

size_t
ring_bytes(const struct miner_ring *r)
{
	return (r->bytes);
}

uint64_t
ring_total(const struct miner_ring *r)
{
	return (r->total);
}

const char *
ring_line(const struct miner_ring *r, size_t i)
{
	if (i >= r->count)
		return (NULL);
	return (r->line[(r->head + i) % r->max_lines]);
}
