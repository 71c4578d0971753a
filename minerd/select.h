/*
 * Peer selection: what a peer's pingMs, hops, geoKm and score make of
 * it as a point of the k-d tree (kdtree.h), and the pure helpers the
 * tests and the fuzzer drive (no daemon state).
 */

#ifndef SELECT_H
#define SELECT_H

#include <jansson.h>

#include "lethd.h"

#define SELECT_EARTH_RADIUS_KM	6371.0088	/* IUGG mean radius */
#define SELECT_K_DEFAULT	1	/* peers /peers/best answers ... */
#define SELECT_K_MAX		1000	/* ... and at most */
#define SELECT_PING_TIMEOUT_MS	10000	/* a timer ping waits */
#define SELECT_SCORE_MAX	100	/* the score's scale */

/* The weights and bounds of the dimensions, as doubles. */
struct select_params {
	double		 weight[SELECT_DIMS];
	double		 bound[SELECT_DIMS];
};

/* What a peer is on each dimension; unknown is < 0 (hops: <= 0). */
struct select_values {
	double		 ping_ms;
	int		 hops;
	double		 geo_km;
	int		 score;		/* 0..100 */
};

/* The great-circle distance in km between two points in degrees. */
double		 select_haversine_km(double, double, double, double);
/*
 * A pong's "location": 1 with *lat and *lon set ({lat, lon}, numbers
 * in range), 0 when it is absent or null, -1 with *why when it is
 * malformed (the caller logs and ignores it).
 */
int		 select_location_parse(const json_t *, double *, double *,
		    const char **);
void		 select_params_from(const struct child_init *,
		    struct select_params *);
/* Each dimension: clamp(value / bound, 0, 1) * weight, unknown 1 *
 * weight; score counts as SELECT_SCORE_MAX - score. */
void		 select_point(const struct select_params *,
		    const struct select_values *, double [SELECT_DIMS]);

/* The daemon side (select.c). */
const char	*select_conf_check(const struct child_init *);
void		 select_init(void);
void		 select_reconf(const struct child_init *);
/* {"peers": [...], "ideal", "weights", "bounds"} for the k best pinned
 * workers, or NULL (out of memory) with err. */
json_t		*select_best_json(unsigned int, char *, size_t);

#endif /* SELECT_H */
