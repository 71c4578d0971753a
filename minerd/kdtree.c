/*
 * A balanced k-d tree stored implicitly: the node of a range [lo, hi)
 * of perm is its middle element, split on dim[mid]; its children are
 * [lo, mid) and [mid + 1, hi).  Points compare on one coordinate, then
 * on their index, so that no two keys are equal and every answer is
 * the same as a brute force's.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kdtree.h"

/* The pivot generator's seed: any fixed value keeps builds repeatable. */
#define KD_SEED		UINT64_C(0x9e3779b97f4a7c15)

struct kdtree {
	size_t		  n;
	double		(*pt)[KD_DIMS];
	unsigned int	 *perm;		/* indices, in tree order */
	unsigned char	 *dim;		/* split dimension of a node */
};

struct kd_heap {
	struct kd_result *r;		/* a max-heap: the worst on top */
	size_t		  n;
	size_t		  k;
};

struct kd_query {
	const struct kdtree	*t;
	const double		*q;
	struct kd_heap		 h;
};

static void	kd_split(struct kdtree *, size_t, size_t, uint64_t *);
static void	kd_select(struct kdtree *, size_t, size_t, size_t, int,
		    uint64_t *);
static void	kd_search(struct kd_query *, size_t, size_t);
static void	kd_offer(struct kd_heap *, size_t, double);
static size_t	kd_sort(struct kd_heap *);

double
kd_dist2(const double a[KD_DIMS], const double b[KD_DIMS])
{
	double	 s = 0, d;
	int	 i;

	for (i = 0; i < KD_DIMS; i++) {
		d = a[i] - b[i];
		s += d * d;
	}
	return (s);
}

static uint64_t
kd_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * UINT64_C(2685821657736338717));
}

/* Whether point a comes before point b on dimension d. */
static inline int
kd_less(const struct kdtree *t, unsigned int a, unsigned int b, int d)
{
	return (t->pt[a][d] < t->pt[b][d] ||
	    (t->pt[a][d] == t->pt[b][d] && a < b));
}

/* Whether result a is nearer than b: distance, then index. */
static inline int
kd_before(const struct kd_result *a, const struct kd_result *b)
{
	return (a->dist2 < b->dist2 ||
	    (a->dist2 == b->dist2 && a->idx < b->idx));
}

struct kdtree *
kd_build(const double (*pts)[KD_DIMS], size_t n)
{
	struct kdtree	*t;
	uint64_t	 seed = KD_SEED;
	size_t		 i;

	if (n > KD_POINTS_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->n = n;
	if (n > 0 && ((t->pt = reallocarray(NULL, n, sizeof(*t->pt))) ==
	    NULL || (t->perm = reallocarray(NULL, n, sizeof(*t->perm))) ==
	    NULL || (t->dim = malloc(n)) == NULL)) {
		kd_free(t);
		errno = ENOMEM;
		return (NULL);
	}
	if (n > 0)
		memcpy(t->pt, pts, n * sizeof(*t->pt));
	for (i = 0; i < n; i++)
		t->perm[i] = i;
	kd_split(t, 0, n, &seed);
	return (t);
}

void
kd_free(struct kdtree *t)
{
	if (t == NULL)
		return;
	free(t->pt);
	free(t->perm);
	free(t->dim);
	free(t);
}

size_t
kd_size(const struct kdtree *t)
{
	return (t->n);
}

/*
 * Build the node of [lo, hi): split on the dimension of widest spread,
 * at the median.  Halving the range each level bounds the recursion to
 * ceil(log2(n + 1)) deep.
 */
static void
kd_split(struct kdtree *t, size_t lo, size_t hi, uint64_t *seed)
{
	double	 min[KD_DIMS], max[KD_DIMS], v, best;
	size_t	 i, mid;
	int	 d, bd;

	if (hi <= lo)
		return;
	mid = lo + (hi - lo) / 2;
	for (d = 0; d < KD_DIMS; d++)
		min[d] = max[d] = t->pt[t->perm[lo]][d];
	for (i = lo + 1; i < hi; i++)
		for (d = 0; d < KD_DIMS; d++) {
			v = t->pt[t->perm[i]][d];
			if (v < min[d])
				min[d] = v;
			if (v > max[d])
				max[d] = v;
		}
	bd = 0;
	best = max[0] - min[0];
	for (d = 1; d < KD_DIMS; d++)
		if (max[d] - min[d] > best) {
			best = max[d] - min[d];
			bd = d;
		}
	kd_select(t, lo, hi, mid, bd, seed);
	t->dim[mid] = bd;
	kd_split(t, lo, mid, seed);
	kd_split(t, mid + 1, hi, seed);
}

/*
 * Quickselect: put into perm[nth] the point that belongs there in the
 * order of dimension d, smaller ones before it, larger after.  Keys are
 * distinct and the pivot random, so this is O(hi - lo) expected.
 */
static void
kd_select(struct kdtree *t, size_t lo, size_t hi, size_t nth, int d,
    uint64_t *seed)
{
	unsigned int	*p = t->perm, pv, tmp;
	size_t		 i, store, last;

	while (hi - lo > 1) {
		last = hi - 1;
		i = lo + kd_rand(seed) % (hi - lo);
		tmp = p[i], p[i] = p[last], p[last] = tmp;
		pv = p[last];
		for (store = lo, i = lo; i < last; i++)
			if (kd_less(t, p[i], pv, d)) {
				tmp = p[i], p[i] = p[store], p[store] = tmp;
				store++;
			}
		tmp = p[store], p[store] = p[last], p[last] = tmp;
		if (store == nth)
			return;
		if (nth < store)
			hi = store;
		else
			lo = store + 1;
	}
}

static void
kd_swap(struct kd_result *a, struct kd_result *b)
{
	struct kd_result	 t = *a;

	*a = *b;
	*b = t;
}

static void
kd_sift_down(struct kd_result *r, size_t n, size_t i)
{
	size_t	 c, w;

	for (;;) {
		w = i;
		c = 2 * i + 1;
		if (c < n && kd_before(&r[w], &r[c]))
			w = c;
		if (c + 1 < n && kd_before(&r[w], &r[c + 1]))
			w = c + 1;
		if (w == i)
			return;
		kd_swap(&r[i], &r[w]);
		i = w;
	}
}

/* Keep the k nearest seen so far. */
static void
kd_offer(struct kd_heap *h, size_t idx, double dist2)
{
	struct kd_result	 c = { idx, dist2 };
	size_t			 i, up;

	if (h->n < h->k) {
		i = h->n++;
		h->r[i] = c;
		while (i > 0) {
			up = (i - 1) / 2;
			if (!kd_before(&h->r[up], &h->r[i]))
				break;
			kd_swap(&h->r[up], &h->r[i]);
			i = up;
		}
		return;
	}
	if (h->k == 0 || !kd_before(&c, &h->r[0]))
		return;
	h->r[0] = c;
	kd_sift_down(h->r, h->n, 0);
}

/* Heap sort in place: nearest first. */
static size_t
kd_sort(struct kd_heap *h)
{
	size_t	 n;

	for (n = h->n; n > 1; n--) {
		kd_swap(&h->r[0], &h->r[n - 1]);
		kd_sift_down(h->r, n - 1, 0);
	}
	return (h->n);
}

static void
kd_search(struct kd_query *kq, size_t lo, size_t hi)
{
	const struct kdtree	*t = kq->t;
	size_t			 mid;
	unsigned int		 i;
	double			 diff;
	int			 d;

	if (hi <= lo)
		return;
	mid = lo + (hi - lo) / 2;
	i = t->perm[mid];
	d = t->dim[mid];
	kd_offer(&kq->h, i, kd_dist2(t->pt[i], kq->q));
	diff = kq->q[d] - t->pt[i][d];
	if (diff < 0)
		kd_search(kq, lo, mid);
	else
		kd_search(kq, mid + 1, hi);
	/*
	 * Every point across the plane is at least diff^2 away, in
	 * floating point too (rounding is monotonic): skip it unless it
	 * could be nearer or tie, a tie going to the smaller index.
	 */
	if (kq->h.n == kq->h.k && diff * diff > kq->h.r[0].dist2)
		return;
	if (diff < 0)
		kd_search(kq, mid + 1, hi);
	else
		kd_search(kq, lo, mid);
}

size_t
kd_nearest(const struct kdtree *t, const double q[KD_DIMS], size_t k,
    struct kd_result *out)
{
	struct kd_query	 kq;

	if (k > t->n)
		k = t->n;
	memset(&kq, 0, sizeof(kq));
	kq.t = t;
	kq.q = q;
	kq.h.r = out;
	kq.h.k = k;
	if (k > 0)
		kd_search(&kq, 0, t->n);
	return (kd_sort(&kq.h));
}

size_t
kd_brute(const double (*pts)[KD_DIMS], size_t n, const double q[KD_DIMS],
    size_t k, struct kd_result *out)
{
	struct kd_heap	 h;
	size_t		 i;

	h.r = out;
	h.n = 0;
	h.k = k > n ? n : k;
	for (i = 0; i < n; i++)
		kd_offer(&h, i, kd_dist2(pts[i], q));
	return (kd_sort(&h));
}
