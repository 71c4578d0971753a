/*
 * A k-d tree over KD_DIMS-dimensional points, for k-nearest queries.
 *
 * Pure and self-contained: no global state, no logging.  The tree is
 * balanced (each node splits its points at the median of the dimension
 * where they spread most), so both building, O(n log n), and each
 * query recurse at most ceil(log2(n + 1)) deep.  It takes n points and
 * n indices and split dimensions more: a copy of the points, 4 and 1
 * bytes a point.
 *
 * Answers are exact and deterministic: candidates are ordered by
 * squared distance (kd_dist2, the same arithmetic a brute force uses),
 * then by their index in the input, so two points at one distance come
 * out in input order; callers give points in the order ties should
 * take (minerd: peer id order).
 */

#ifndef KDTREE_H
#define KDTREE_H

#include <stddef.h>

#define KD_DIMS		4
#define KD_POINTS_MAX	(1U << 30)	/* indices fit an unsigned int */

struct kdtree;

struct kd_result {
	size_t		 idx;	/* the point's index in the input */
	double		 dist2;	/* squared distance to the query */
};

/* The squared Euclidean distance, summed in dimension order. */
double		 kd_dist2(const double [KD_DIMS], const double [KD_DIMS]);
/* A tree over a copy of n points (0 allowed); NULL with errno ENOMEM,
 * or EINVAL for more than KD_POINTS_MAX. */
struct kdtree	*kd_build(const double (*)[KD_DIMS], size_t);
void		 kd_free(struct kdtree *);
size_t		 kd_size(const struct kdtree *);
/* The min(k, n) points nearest q into out (room for min(k, n)),
 * nearest first: their number.  Allocates nothing. */
size_t		 kd_nearest(const struct kdtree *, const double [KD_DIMS],
		    size_t, struct kd_result *);
/* The same answer by a linear scan, for tests and benchmarks. */
size_t		 kd_brute(const double (*)[KD_DIMS], size_t,
		    const double [KD_DIMS], size_t, struct kd_result *);

#endif /* KDTREE_H */
