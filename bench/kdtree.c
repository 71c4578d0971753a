/*
 * bench/kdtree: the peer-selection k-d tree (minerd/kdtree.c) against
 * a brute-force scan, measured in the same run on the same points.
 *
 * For n = 1,000, 10,000 and 100,000 points (four dimensions, as
 * select_point makes them: uniform in [0, weight] with the default
 * weights, a fifth of each dimension unknown, i.e. at its weight),
 * prints the build time, the time of a k = 1 and a k = 10 query from
 * the ideal point (the origin, what minerd asks) and from random
 * points, the brute force's time for the same queries, and the
 * ratios.  Each answer is checked against the brute force's.  minerd
 * builds a tree for each request, so the last column compares build +
 * one query with one brute-force scan.
 *
 * usage: bench/kdtree [-q queries] [-r rounds]
 */

#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kdtree.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define BENCH_SANITIZED	1
#endif
#endif

#define BENCH_QUERIES	1000	/* queries a size, by default */
#define BENCH_ROUNDS	5	/* builds a size; the median counts */
#define BENCH_ROUNDS_MAX 101
#define BENCH_QUERIES_MAX 1000000
#define BENCH_K_MAX	10
#define BENCH_SEED	UINT64_C(20240605)
#define BENCH_UNKNOWN	5	/* one value in this many is unknown */

static const size_t	 sizes[] = { 1000, 10000, 100000 };
static const double	 weights[KD_DIMS] = { 1.0, 0.5, 0.5, 1.0 };

static uint64_t
xrand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static double
xunit(uint64_t *s)
{
	return ((xrand(s) >> 11) * (1.0 / 9007199254740992.0));
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/*
 * Seconds a query of k, over nq query points: by the tree (t) or by
 * brute force (t NULL).  A checksum of the answers keeps the compiler
 * from skipping any.
 */
static double
time_queries(const struct kdtree *t, const double (*pts)[KD_DIMS], size_t n,
    const double (*qs)[KD_DIMS], size_t nq, size_t k, double *sum)
{
	struct kd_result	 r[BENCH_K_MAX];
	double			 t0;
	size_t			 i, j, got;

	t0 = now_s();
	for (i = 0; i < nq; i++) {
		got = t != NULL ? kd_nearest(t, qs[i], k, r) :
		    kd_brute(pts, n, qs[i], k, r);
		for (j = 0; j < got; j++)
			*sum += r[j].dist2 + r[j].idx;
	}
	return (now_s() - t0);
}

static void
check_same(const struct kdtree *t, const double (*pts)[KD_DIMS], size_t n,
    const double (*qs)[KD_DIMS], size_t nq, size_t k)
{
	struct kd_result	 a[BENCH_K_MAX], b[BENCH_K_MAX];
	size_t			 i, na, nb;

	for (i = 0; i < nq; i++) {
		na = kd_nearest(t, qs[i], k, a);
		nb = kd_brute(pts, n, qs[i], k, b);
		if (na != nb || memcmp(a, b, na * sizeof(a[0])) != 0)
			errx(1, "n %zu k %zu query %zu: the tree and the "
			    "brute force differ", n, k, i);
	}
}

static void
bench_size(size_t n, size_t nq, int rounds)
{
	double		(*pts)[KD_DIMS], (*qs)[KD_DIMS];
	double		(*origin)[KD_DIMS];
	double		 build[BENCH_ROUNDS_MAX], sum = 0, tb, tk, tbf;
	struct kdtree	*t = NULL;
	uint64_t	 seed = BENCH_SEED + n;
	size_t		 i, k;
	int		 d, r, where;

	if ((pts = calloc(n, sizeof(*pts))) == NULL ||
	    (qs = calloc(nq, sizeof(*qs))) == NULL ||
	    (origin = calloc(nq, sizeof(*origin))) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++)
		for (d = 0; d < KD_DIMS; d++)
			pts[i][d] = xrand(&seed) % BENCH_UNKNOWN == 0 ?
			    weights[d] : xunit(&seed) * weights[d];
	for (i = 0; i < nq; i++)
		for (d = 0; d < KD_DIMS; d++)
			qs[i][d] = xunit(&seed) * weights[d];

	for (r = 0; r < rounds; r++) {
		kd_free(t);
		tb = now_s();
		if ((t = kd_build((const double (*)[KD_DIMS])pts, n)) == NULL)
			err(1, "kd_build");
		build[r] = now_s() - tb;
	}
	qsort(build, rounds, sizeof(build[0]), dbl_cmp);
	tb = build[rounds / 2];
	printf("n %zu: build %.3f ms (median of %d)\n", n, tb * 1e3,
	    rounds);
	for (where = 0; where < 2; where++) {
		const double	(*q)[KD_DIMS] = where == 0 ?
		    (const double (*)[KD_DIMS])origin :
		    (const double (*)[KD_DIMS])qs;

		for (k = 1; k <= BENCH_K_MAX; k += BENCH_K_MAX - 1) {
			check_same(t, (const double (*)[KD_DIMS])pts, n, q,
			    nq < 100 ? nq : 100, k);
			tk = time_queries(t, (const double (*)[KD_DIMS])pts,
			    n, q, nq, k, &sum) / nq;
			tbf = time_queries(NULL,
			    (const double (*)[KD_DIMS])pts, n, q, nq, k,
			    &sum) / nq;
			printf("  k %2zu from %-6s  tree %9.2f us  brute "
			    "%9.2f us  brute/tree %7.1fx  brute/(build+query) "
			    "%5.2fx\n", k, where == 0 ? "origin" : "random",
			    tk * 1e6, tbf * 1e6, tbf / tk, tbf / (tb + tk));
		}
	}
	printf("  (checksum %.3g)\n", sum);
	kd_free(t);
	free(pts);
	free(qs);
	free(origin);
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	size_t		 i, nq = BENCH_QUERIES;
	int		 ch, rounds = BENCH_ROUNDS;

#ifdef BENCH_SANITIZED
	errx(1, "built with a sanitizer: the figures would mean nothing");
#endif
	while ((ch = getopt(argc, argv, "q:r:")) != -1) {
		switch (ch) {
		case 'q':
			nq = strtonum(optarg, 1, BENCH_QUERIES_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "-q %s: %s", optarg, errstr);
			break;
		case 'r':
			rounds = strtonum(optarg, 1, BENCH_ROUNDS_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "-r %s: %s", optarg, errstr);
			break;
		default:
			fprintf(stderr, "usage: %s [-q queries] [-r rounds]\n",
			    getprogname());
			return (1);
		}
	}
	printf("kdtree: %d dimensions, %zu queries a size, times a query\n",
	    KD_DIMS, nq);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		bench_size(sizes[i], nq, rounds);
	return (0);
}
