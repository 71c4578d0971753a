/*
 * libFuzzer harness for what peer selection reads from a peer: the
 * pong's payload, parsed as msg.c parses a body (duplicate keys
 * refused), then its "location" through select_location_parse
 * (minerd/select_point.c), as select_pong does, and a point made of
 * what it gave.
 *
 * Promises checked (a broken one aborts): a refusal has a reason; an
 * accepted location is finite and within -90..90 and -180..180; the
 * great-circle distance from any configured point is finite and from 0
 * to half the Earth's circumference; every coordinate of the point is
 * from 0 to its weight.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "../minerd/select.h"

/* Rounding room on half a great circle. */
#define FUZZ_KM_SLACK	1e-6

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct select_params	 sp = {
		{ 1.0, 0.5, 0.5, 1.0 }, { 1000, 8, 20000, 100 }
	};
	struct select_values	 sv;
	const char		*why = NULL;
	double			 lat = 0, lon = 0, km, x[SELECT_DIMS];
	json_t			*root;
	int			 r, d;

	if ((root = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return (0);
	r = select_location_parse(json_is_object(root) ?
	    json_object_get(root, "location") : root, &lat, &lon, &why);
	if (r == -1 && why == NULL)
		abort();
	if (r == 1) {
		if (!isfinite(lat) || !isfinite(lon) || lat < -90 ||
		    lat > 90 || lon < -180 || lon > 180)
			abort();
		km = select_haversine_km(48.8566, 2.3522, lat, lon);
		if (!isfinite(km) || km < 0 || km > M_PI *
		    SELECT_EARTH_RADIUS_KM + FUZZ_KM_SLACK)
			abort();
		sv.ping_ms = lat;	/* negative is unknown */
		sv.hops = (int)lon;
		sv.geo_km = km;
		sv.score = (int)lon;
		select_point(&sp, &sv, x);
		for (d = 0; d < SELECT_DIMS; d++)
			if (!(x[d] >= 0 && x[d] <= sp.weight[d]))
				abort();
	}
	json_decref(root);
	return (0);
}
