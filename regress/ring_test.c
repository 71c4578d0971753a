/*
 * The output ring of a miner (minerd/ring.c): what a hostile or broken
 * miner prints is cut, escaped and bounded before anyone sees it.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "lethd.h"
#include "driver.h"
#include "ring.h"

/* What the line callback saw. */
struct seen {
	unsigned int	 n;
	size_t		 maxlen;
	char		 last[MINER_LINE_MAX + 1];
};

static void
seen_cb(const char *line, size_t len, void *arg)
{
	struct seen	*s = arg;

	ATF_REQUIRE(len <= MINER_LINE_MAX);
	ATF_REQUIRE(line[len] == '\0');
	s->n++;
	if (len > s->maxlen)
		s->maxlen = len;
	memcpy(s->last, line, len + 1);
}

static void
feed_str(struct miner_ring *r, const char *s, struct seen *seen)
{
	ring_feed(r, s, strlen(s), seen != NULL ? seen_cb : NULL, seen);
}

/* Every stored line is printable ASCII with no control byte. */
static void
check_clean(const struct miner_ring *r)
{
	const char	*s;
	size_t		 i, bytes = 0;

	for (i = 0; (s = ring_line(r, i)) != NULL; i++) {
		for (; *s != '\0'; s++, bytes++)
			ATF_REQUIRE_MSG(*s >= 0x20 && *s < 0x7f,
			    "line %zu holds byte 0x%02x", i,
			    (unsigned char)*s);
	}
	ATF_REQUIRE_EQ(i, ring_count(r));
	ATF_REQUIRE_EQ(bytes, ring_bytes(r));
}

ATF_TC_WITHOUT_HEAD(lines_are_kept_in_order_oldest_first);
ATF_TC_BODY(lines_are_kept_in_order_oldest_first, tc)
{
	struct miner_ring	*r;

	ATF_REQUIRE((r = ring_new(10, 1000)) != NULL);
	feed_str(r, "one\ntwo\nthree\n", NULL);
	ATF_REQUIRE_EQ(ring_count(r), 3);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "one");
	ATF_REQUIRE_STREQ(ring_line(r, 2), "three");
	ATF_REQUIRE(ring_line(r, 3) == NULL);
	ATF_REQUIRE_EQ(ring_bytes(r), 11);
	ATF_REQUIRE_EQ(ring_total(r), 3);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(line_bound_drops_the_oldest);
ATF_TC_BODY(line_bound_drops_the_oldest, tc)
{
	struct miner_ring	*r;
	char			 buf[32];
	int			 i;

	ATF_REQUIRE((r = ring_new(5, 100000)) != NULL);
	for (i = 0; i < 12; i++) {
		(void)snprintf(buf, sizeof(buf), "line %d\n", i);
		feed_str(r, buf, NULL);
		ATF_REQUIRE(ring_count(r) <= 5);
	}
	ATF_REQUIRE_EQ(ring_count(r), 5);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "line 7");
	ATF_REQUIRE_STREQ(ring_line(r, 4), "line 11");
	ATF_REQUIRE_EQ(ring_total(r), 12);
	check_clean(r);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(byte_bound_drops_the_oldest);
ATF_TC_BODY(byte_bound_drops_the_oldest, tc)
{
	struct miner_ring	*r;
	int			 i;

	/* ten-byte lines, 35 bytes: three fit */
	ATF_REQUIRE((r = ring_new(1000, 35)) != NULL);
	for (i = 0; i < 10; i++) {
		feed_str(r, "0123456789\n", NULL);
		ATF_REQUIRE(ring_bytes(r) <= 35);
	}
	ATF_REQUIRE_EQ(ring_count(r), 3);
	ATF_REQUIRE_EQ(ring_bytes(r), 30);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(a_line_larger_than_the_byte_bound_is_cut_to_it);
ATF_TC_BODY(a_line_larger_than_the_byte_bound_is_cut_to_it, tc)
{
	struct miner_ring	*r;

	ATF_REQUIRE((r = ring_new(10, 8)) != NULL);
	feed_str(r, "short\n", NULL);
	feed_str(r, "a line of many more than eight bytes\n", NULL);
	ATF_REQUIRE_EQ(ring_count(r), 1);
	ATF_REQUIRE(ring_bytes(r) <= 8);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "a line o");
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(zero_bounds_mean_the_defaults);
ATF_TC_BODY(zero_bounds_mean_the_defaults, tc)
{
	struct miner_ring	*r;
	int			 i;

	ATF_REQUIRE((r = ring_new(0, 0)) != NULL);
	for (i = 0; i < RING_LINES_DEFAULT + 50; i++)
		feed_str(r, "x\n", NULL);
	ATF_REQUIRE_EQ(ring_count(r), RING_LINES_DEFAULT);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(partial_lines_join_across_reads);
ATF_TC_BODY(partial_lines_join_across_reads, tc)
{
	struct miner_ring	*r;
	struct seen		 seen;
	const char		*msg =
	    "speed 10s/60s/15m 1234.5 1200.0 n/a H/s\n";
	size_t			 i;

	memset(&seen, 0, sizeof(seen));
	ATF_REQUIRE((r = ring_new(10, 10000)) != NULL);
	/* one byte per read, as a slow pipe may hand them over */
	for (i = 0; msg[i] != '\0'; i++)
		ring_feed(r, msg + i, 1, seen_cb, &seen);
	ATF_REQUIRE_EQ(ring_count(r), 1);
	ATF_REQUIRE_EQ(seen.n, 1);
	ATF_REQUIRE_STREQ(ring_line(r, 0),
	    "speed 10s/60s/15m 1234.5 1200.0 n/a H/s");
	ATF_REQUIRE_STREQ(seen.last, ring_line(r, 0));
	/* an unfinished line waits, and is kept when the output ends */
	feed_str(r, "no newline yet", &seen);
	ATF_REQUIRE_EQ(ring_count(r), 1);
	feed_str(r, " and more", &seen);
	ring_flush(r, seen_cb, &seen);
	ATF_REQUIRE_EQ(ring_count(r), 2);
	ATF_REQUIRE_STREQ(ring_line(r, 1), "no newline yet and more");
	ATF_REQUIRE_EQ(seen.n, 2);
	/* nothing pending: a flush adds nothing */
	ring_flush(r, seen_cb, &seen);
	ATF_REQUIRE_EQ(ring_count(r), 2);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(crlf_line_ends_lose_the_carriage_return);
ATF_TC_BODY(crlf_line_ends_lose_the_carriage_return, tc)
{
	struct miner_ring	*r;

	ATF_REQUIRE((r = ring_new(10, 10000)) != NULL);
	feed_str(r, "dos line\r\nmid\rline\n", NULL);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "dos line");
	ATF_REQUIRE_STREQ(ring_line(r, 1), "mid\\rline");
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(control_bytes_and_non_ascii_are_escaped);
ATF_TC_BODY(control_bytes_and_non_ascii_are_escaped, tc)
{
	struct miner_ring	*r;
	struct seen		 seen;
	/* ESC [ 3 1 m (a colour), NUL, 0xff, a backslash, a tab, DEL */
	static const char	 hostile[] =
	    "\033[31mred\033[0m a\0b \xff\xfe \\ \t \x7f end\n";

	memset(&seen, 0, sizeof(seen));
	ATF_REQUIRE((r = ring_new(10, 10000)) != NULL);
	ring_feed(r, hostile, sizeof(hostile) - 1, seen_cb, &seen);
	ATF_REQUIRE_EQ(ring_count(r), 1);
	check_clean(r);
	ATF_REQUIRE(strstr(ring_line(r, 0), "\033") == NULL);
	ATF_REQUIRE(strstr(ring_line(r, 0), "\\033[31mred") != NULL);
	ATF_REQUIRE(strstr(ring_line(r, 0), "\\377\\376") != NULL);
	ATF_REQUIRE(strstr(ring_line(r, 0), "\\\\") != NULL);
	ATF_REQUIRE(strstr(ring_line(r, 0), " end") != NULL);
	/* the NUL is kept (escaped: "\\0" in C style) and what follows too */
	ATF_REQUIRE(strstr(ring_line(r, 0), "a\\0b") != NULL);
	ATF_REQUIRE_EQ(seen.n, 1);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(a_long_line_is_cut_and_its_rest_dropped);
ATF_TC_BODY(a_long_line_is_cut_and_its_rest_dropped, tc)
{
	struct miner_ring	*r;
	struct seen		 seen;
	char			*big;
	size_t			 len = MINER_LINE_MAX * 10, i;

	memset(&seen, 0, sizeof(seen));
	ATF_REQUIRE((big = malloc(len)) != NULL);
	memset(big, 'A', len);
	ATF_REQUIRE((r = ring_new(100, 1000000)) != NULL);
	/* in pieces, and the newline only at the very end */
	for (i = 0; i < len; i += 700)
		ring_feed(r, big + i, len - i < 700 ? len - i : 700, seen_cb,
		    &seen);
	ATF_REQUIRE_EQ(ring_count(r), 0);
	feed_str(r, "\nnext\n", &seen);
	ATF_REQUIRE_EQ(ring_count(r), 2);
	ATF_REQUIRE_EQ(strlen(ring_line(r, 0)), MINER_LINE_MAX);
	ATF_REQUIRE_STREQ(ring_line(r, 1), "next");
	ATF_REQUIRE_EQ(seen.maxlen, MINER_LINE_MAX);
	/* exactly MINER_LINE_MAX bytes is not cut; one more is */
	memset(big, 'B', MINER_LINE_MAX + 1);
	big[MINER_LINE_MAX] = '\n';
	ring_feed(r, big, MINER_LINE_MAX + 1, NULL, NULL);
	ATF_REQUIRE_EQ(strlen(ring_line(r, 2)), MINER_LINE_MAX);
	free(big);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(escaping_a_cut_line_stays_within_four_times_the_cut);
ATF_TC_BODY(escaping_a_cut_line_stays_within_four_times_the_cut, tc)
{
	struct miner_ring	*r;
	char			 bin[MINER_LINE_MAX * 3];

	memset(bin, 0xff, sizeof(bin));
	bin[sizeof(bin) - 1] = '\n';
	ATF_REQUIRE((r = ring_new(10, 1000000)) != NULL);
	ring_feed(r, bin, sizeof(bin), NULL, NULL);
	ATF_REQUIRE_EQ(ring_count(r), 1);
	ATF_REQUIRE_EQ(strlen(ring_line(r, 0)), MINER_LINE_MAX * 4);
	check_clean(r);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(a_flood_stays_within_both_bounds);
ATF_TC_BODY(a_flood_stays_within_both_bounds, tc)
{
	struct miner_ring	*r;
	char			 chunk[4096];
	size_t			 i;
	uint32_t		 x = 12345;

	ATF_REQUIRE((r = ring_new(200, 20000)) != NULL);
	/* 16 MB of pseudo-random bytes: newlines, NULs, 0xff, anything */
	for (i = 0; i < 4096; i++) {
		size_t	 j;

		for (j = 0; j < sizeof(chunk); j++) {
			x = x * 1103515245 + 12345;
			chunk[j] = (char)(x >> 16);
		}
		ring_feed(r, chunk, sizeof(chunk), NULL, NULL);
		ATF_REQUIRE(ring_count(r) <= 200);
		ATF_REQUIRE(ring_bytes(r) <= 20000);
	}
	check_clean(r);
	ATF_REQUIRE(ring_total(r) > 200);
	ring_free(r);
}

ATF_TC_WITHOUT_HEAD(notes_are_escaped_and_counted_like_lines);
ATF_TC_BODY(notes_are_escaped_and_counted_like_lines, tc)
{
	struct miner_ring	*r;

	ATF_REQUIRE((r = ring_new(2, 1000)) != NULL);
	ring_add(r, "lethd: exited\n", 14);
	feed_str(r, "out\n", NULL);
	ring_add(r, "third", 5);
	ATF_REQUIRE_EQ(ring_count(r), 2);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "out");
	ATF_REQUIRE_STREQ(ring_line(r, 1), "third");
	ring_free(r);
	ATF_REQUIRE((r = ring_new(2, 1000)) != NULL);
	ring_add(r, "a\nb", 3);
	ATF_REQUIRE_STREQ(ring_line(r, 0), "a\\nb");
	ring_free(r);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, lines_are_kept_in_order_oldest_first);
	ATF_TP_ADD_TC(tp, line_bound_drops_the_oldest);
	ATF_TP_ADD_TC(tp, byte_bound_drops_the_oldest);
	ATF_TP_ADD_TC(tp, a_line_larger_than_the_byte_bound_is_cut_to_it);
	ATF_TP_ADD_TC(tp, zero_bounds_mean_the_defaults);
	ATF_TP_ADD_TC(tp, partial_lines_join_across_reads);
	ATF_TP_ADD_TC(tp, crlf_line_ends_lose_the_carriage_return);
	ATF_TP_ADD_TC(tp, control_bytes_and_non_ascii_are_escaped);
	ATF_TP_ADD_TC(tp, a_long_line_is_cut_and_its_rest_dropped);
	ATF_TP_ADD_TC(tp, escaping_a_cut_line_stays_within_four_times_the_cut);
	ATF_TP_ADD_TC(tp, a_flood_stays_within_both_bounds);
	ATF_TP_ADD_TC(tp, notes_are_escaped_and_counted_like_lines);
	return (atf_no_error());
}
