/*
 * Peer selection's pure part: great-circle distances, the locations a
 * pong may carry, and a peer's point in the k-d tree.  No daemon state:
 * the tests and fuzz/fuzz_select.c call these alone.
 */

#include <sys/types.h>

#include <math.h>

#include <jansson.h>

#include "lethd.h"
#include "select.h"

static double
select_rad(double deg)
{
	return (deg * M_PI / 180.0);
}

double
select_haversine_km(double lat1, double lon1, double lat2, double lon2)
{
	double	 dlat, dlon, a, s1, s2;

	dlat = select_rad(lat2 - lat1);
	dlon = select_rad(lon2 - lon1);
	s1 = sin(dlat / 2);
	s2 = sin(dlon / 2);
	a = s1 * s1 + cos(select_rad(lat1)) * cos(select_rad(lat2)) * s2 * s2;
	if (a < 0)
		a = 0;
	if (a > 1)
		a = 1;
	return (2 * SELECT_EARTH_RADIUS_KM * atan2(sqrt(a), sqrt(1 - a)));
}

static int
select_coord(const json_t *o, const char *key, double max, double *v,
    const char **why)
{
	json_t	*n;

	if ((n = json_object_get(o, key)) == NULL) {
		*why = "lat or lon missing";
		return (-1);
	}
	if (!json_is_number(n)) {
		*why = "lat or lon is not a number";
		return (-1);
	}
	*v = json_number_value(n);
	if (!isfinite(*v) || *v < -max || *v > max) {
		*why = "lat or lon out of range";
		return (-1);
	}
	return (0);
}

int
select_location_parse(const json_t *loc, double *lat, double *lon,
    const char **why)
{
	if (loc == NULL || json_is_null(loc))
		return (0);
	if (!json_is_object(loc)) {
		*why = "location is not an object";
		return (-1);
	}
	if (select_coord(loc, "lat", 90, lat, why) == -1 ||
	    select_coord(loc, "lon", 180, lon, why) == -1)
		return (-1);
	return (1);
}

void
select_params_from(const struct child_init *ci, struct select_params *sp)
{
	int	 d;

	for (d = 0; d < SELECT_DIMS; d++) {
		sp->weight[d] = (double)ci->select_weight[d] /
		    SELECT_WEIGHT_SCALE;
		sp->bound[d] = ci->select_bound[d] > 0 ?
		    (double)ci->select_bound[d] : 1;
	}
}

/* clamp(v / bound, 0, 1) * weight; unknown (v < 0): the worst. */
static double
select_norm(const struct select_params *sp, int d, double v)
{
	double	 x;

	if (v < 0 || !isfinite(v))
		x = 1;
	else if ((x = v / sp->bound[d]) > 1)
		x = 1;
	return (x * sp->weight[d]);
}

void
select_point(const struct select_params *sp, const struct select_values *v,
    double out[SELECT_DIMS])
{
	int	 score = v->score;

	if (score < 0)
		score = 0;
	if (score > SELECT_SCORE_MAX)
		score = SELECT_SCORE_MAX;
	out[SELECT_PING] = select_norm(sp, SELECT_PING, v->ping_ms);
	out[SELECT_HOPS] = select_norm(sp, SELECT_HOPS,
	    v->hops > 0 ? (double)v->hops : -1);
	out[SELECT_GEO] = select_norm(sp, SELECT_GEO, v->geo_km);
	out[SELECT_SCORE] = select_norm(sp, SELECT_SCORE,
	    (double)(SELECT_SCORE_MAX - score));
}
