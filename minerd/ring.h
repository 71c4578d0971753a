/*
 * The output ring of one miner: its last lines, bounded in lines and
 * in bytes, each cut at MINER_LINE_MAX and vis(3)-escaped before it is
 * stored, so that what a miner prints never reaches a log, a terminal
 * or a JSON reply unescaped.
 */

#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>

struct miner_ring;

/* Called with each whole line as the miner wrote it (cut at
 * MINER_LINE_MAX, NUL-terminated, a final "\r" removed), before it is
 * escaped and stored: the generic driver reads rates from it. */
typedef void	(*ring_line_cb)(const char *, size_t, void *);

/* 0 for either bound is its default (RING_LINES_DEFAULT, _BYTES_). */
struct miner_ring	*ring_new(size_t max_lines, size_t max_bytes);
void			 ring_free(struct miner_ring *);
/* Bytes read from the miner's output: lines may span calls. */
void			 ring_feed(struct miner_ring *, const char *, size_t,
			    ring_line_cb, void *);
/* The output ended (or the pipe changed): store a partial line. */
void			 ring_flush(struct miner_ring *, ring_line_cb, void *);
/* Store one line as if the miner had printed it (minerd's own notes). */
void			 ring_add(struct miner_ring *, const char *, size_t);

size_t			 ring_count(const struct miner_ring *);
size_t			 ring_bytes(const struct miner_ring *);
/* Lines stored since the ring was made: a follower's cursor. */
uint64_t		 ring_total(const struct miner_ring *);
/* Line i, 0 the oldest kept; NULL past the end. */
const char		*ring_line(const struct miner_ring *, size_t);

#endif /* RING_H */
