/*
 * The k-d tree against brute force, and peer selection's pure parts:
 * great-circle distances, normalisation, and the locations a pong may
 * carry.
 *
 * The k-d tree must give exactly what sorting every point by (squared
 * distance, index) gives: the same indices in the same order and the
 * same distances, bit for bit, on random sets (fixed seeds) of up to
 * 100,000 points, with duplicates, all points equal, unknown values
 * and k of 1, 10, n and more than n.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>
#include <jansson.h>

#include "lethd.h"
#include "../minerd/minerd.h"
#include "../minerd/peer.h"
#include "../minerd/kdtree.h"
#include "../minerd/select.h"

#define PARIS_LAT	48.8566
#define PARIS_LON	2.3522
#define LONDON_LAT	51.5074
#define LONDON_LON	(-0.1278)
#define QUERIES		3	/* random queries a set, and 0 */

static struct minerd_env	 test_env;

struct brute {
	size_t	 idx;
	double	 d2;
};

static uint64_t
xrand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Uniform in [0, 1). */
static double
xunit(uint64_t *s)
{
	return ((xrand(s) >> 11) * (1.0 / 9007199254740992.0));
}

static int
brute_cmp(const void *a, const void *b)
{
	const struct brute	*x = a, *y = b;

	if (x->d2 != y->d2)
		return (x->d2 < y->d2 ? -1 : 1);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* The whole order, the slow and obvious way. */
static struct brute *
brute_sorted(const double (*pts)[KD_DIMS], size_t n, const double q[KD_DIMS])
{
	struct brute	*b;
	size_t		 i;

	ATF_REQUIRE((b = calloc(n + 1, sizeof(*b))) != NULL);
	for (i = 0; i < n; i++) {
		b[i].idx = i;
		b[i].d2 = kd_dist2(pts[i], q);
	}
	qsort(b, n, sizeof(*b), brute_cmp);
	return (b);
}

/* kd_nearest(k) against the sorted order, for each k. */
static void
check_query(const struct kdtree *t, const double (*pts)[KD_DIMS], size_t n,
    const double q[KD_DIMS], const size_t *ks, size_t nks, const char *what)
{
	struct brute		*b = brute_sorted(pts, n, q);
	struct kd_result	*r, *r2;
	size_t			 i, j, k, got, want;

	for (j = 0; j < nks; j++) {
		k = ks[j];
		want = k < n ? k : n;
		ATF_REQUIRE((r = calloc(want + 1, sizeof(*r))) != NULL);
		ATF_REQUIRE((r2 = calloc(want + 1, sizeof(*r2))) != NULL);
		got = kd_nearest(t, q, k, r);
		ATF_REQUIRE_EQ_MSG(got, want, "%s: n %zu k %zu: %zu results",
		    what, n, k, got);
		for (i = 0; i < got; i++) {
			if (r[i].idx != b[i].idx || r[i].dist2 != b[i].d2)
				atf_tc_fail("%s: n %zu k %zu: result %zu is "
				    "%zu at %.17g, brute force %zu at %.17g",
				    what, n, k, i, r[i].idx, r[i].dist2,
				    b[i].idx, b[i].d2);
		}
		/* and kd_brute, which the benchmark uses, agrees */
		ATF_REQUIRE_EQ(kd_brute(pts, n, q, k, r2), want);
		ATF_REQUIRE(memcmp(r, r2, want * sizeof(*r)) == 0);
		free(r);
		free(r2);
	}
	free(b);
}

enum gen {
	GEN_UNIFORM,		/* every coordinate random */
	GEN_GRID,		/* a few values each: many duplicates */
	GEN_EQUAL,		/* one point n times */
	GEN_PEERS		/* select_point of peers, some unknown */
};

static void
generate(double (*pts)[KD_DIMS], size_t n, enum gen g, uint64_t *s)
{
	struct select_params	 sp = {
		{ 1.0, 0.5, 0.5, 1.0 }, { 1000, 8, 20000, 100 }
	};
	struct select_values	 sv;
	size_t			 i;
	int			 d;

	for (i = 0; i < n; i++) {
		switch (g) {
		case GEN_UNIFORM:
			for (d = 0; d < KD_DIMS; d++)
				pts[i][d] = xunit(s);
			break;
		case GEN_GRID:
			for (d = 0; d < KD_DIMS; d++)
				pts[i][d] = (double)(xrand(s) % 4) / 4;
			break;
		case GEN_EQUAL:
			for (d = 0; d < KD_DIMS; d++)
				pts[i][d] = 0.25 * (d + 1);
			break;
		case GEN_PEERS:
			sv.ping_ms = xrand(s) % 5 == 0 ? -1 :
			    xunit(s) * 1500;
			sv.hops = xrand(s) % 3 == 0 ? 0 : 1;
			sv.geo_km = xrand(s) % 4 == 0 ? -1 :
			    xunit(s) * 20015;
			sv.score = xrand(s) % 101;
			select_point(&sp, &sv, pts[i]);
			break;
		}
	}
}

static void
check_set(size_t n, enum gen g, uint64_t seed, int many_queries)
{
	static const size_t	 ks_small[] = { 1, 2, 10 };
	double			(*pts)[KD_DIMS];
	double			 q[KD_DIMS] = { 0, 0, 0, 0 };
	struct kdtree		*t;
	size_t			 ks[6], nks = 0, i;
	char			 what[64];
	int			 d;

	ATF_REQUIRE((pts = calloc(n + 1, sizeof(*pts))) != NULL);
	generate(pts, n, g, &seed);
	ATF_REQUIRE((t = kd_build((const double (*)[KD_DIMS])pts, n)) !=
	    NULL);
	ATF_REQUIRE_EQ(kd_size(t), n);
	for (i = 0; i < sizeof(ks_small) / sizeof(ks_small[0]); i++)
		ks[nks++] = ks_small[i];
	ks[nks++] = n;
	ks[nks++] = n + 7;
	(void)snprintf(what, sizeof(what), "gen %d seed origin", (int)g);
	check_query(t, (const double (*)[KD_DIMS])pts, n, q, ks, nks, what);
	for (i = 0; i < (many_queries ? QUERIES : 1); i++) {
		for (d = 0; d < KD_DIMS; d++)
			q[d] = xunit(&seed) * 1.2 - 0.1;
		(void)snprintf(what, sizeof(what), "gen %d query %zu",
		    (int)g, i);
		/* k = n over a big set costs a full sort: small k only */
		check_query(t, (const double (*)[KD_DIMS])pts, n, q, ks,
		    many_queries ? nks : 3, what);
	}
	kd_free(t);
	free(pts);
}

ATF_TC_WITHOUT_HEAD(kdtree_matches_brute_force_on_small_random_sets);
ATF_TC_BODY(kdtree_matches_brute_force_on_small_random_sets, tc)
{
	size_t		 n;
	uint64_t	 seed;

	for (seed = 1; seed <= 40; seed++)
		for (n = 0; n <= 70; n += 7)
			check_set(n, seed % 2 ? GEN_UNIFORM : GEN_PEERS,
			    seed * 7919 + n, 1);
}

ATF_TC_WITHOUT_HEAD(kdtree_matches_brute_force_up_to_100000_points);
ATF_TC_BODY(kdtree_matches_brute_force_up_to_100000_points, tc)
{
	check_set(1000, GEN_UNIFORM, 42, 1);
	check_set(10000, GEN_UNIFORM, 43, 1);
	check_set(10000, GEN_PEERS, 44, 1);
	check_set(100000, GEN_UNIFORM, 45, 0);
	check_set(100000, GEN_PEERS, 46, 0);
}

ATF_TC_WITHOUT_HEAD(kdtree_breaks_ties_by_index_with_duplicates);
ATF_TC_BODY(kdtree_breaks_ties_by_index_with_duplicates, tc)
{
	check_set(5000, GEN_GRID, 7, 1);
	check_set(100, GEN_GRID, 8, 1);
	check_set(2000, GEN_EQUAL, 9, 1);
	check_set(1, GEN_EQUAL, 10, 1);
}

ATF_TC_WITHOUT_HEAD(kdtree_gives_all_equal_points_in_input_order);
ATF_TC_BODY(kdtree_gives_all_equal_points_in_input_order, tc)
{
	double			 pts[50][KD_DIMS], q[KD_DIMS] = { 0 };
	struct kd_result	 r[60];
	struct kdtree		*t;
	size_t			 i, n;

	for (i = 0; i < 50; i++)
		pts[i][0] = pts[i][1] = pts[i][2] = pts[i][3] = 0.5;
	ATF_REQUIRE((t = kd_build((const double (*)[KD_DIMS])pts, 50)) !=
	    NULL);
	n = kd_nearest(t, q, 60, r);
	ATF_REQUIRE_EQ(n, 50);
	for (i = 0; i < n; i++) {
		ATF_CHECK_EQ(r[i].idx, i);
		ATF_CHECK(r[i].dist2 == 1.0);
	}
	ATF_REQUIRE_EQ(kd_nearest(t, q, 0, r), 0);
	kd_free(t);
	ATF_REQUIRE((t = kd_build(NULL, 0)) != NULL);
	ATF_REQUIRE_EQ(kd_nearest(t, q, 5, r), 0);
	kd_free(t);
}

ATF_TC_WITHOUT_HEAD(haversine_gives_known_distances);
ATF_TC_BODY(haversine_gives_known_distances, tc)
{
	double	 d;

	d = select_haversine_km(PARIS_LAT, PARIS_LON, LONDON_LAT,
	    LONDON_LON);
	ATF_CHECK_MSG(fabs(d - 343.5) < 0.5, "Paris-London %f", d);
	ATF_CHECK(fabs(select_haversine_km(LONDON_LAT, LONDON_LON,
	    PARIS_LAT, PARIS_LON) - d) < 1e-9);
	d = select_haversine_km(40.7128, -74.0060, 34.0522, -118.2437);
	ATF_CHECK_MSG(fabs(d - 3935.7) < 2, "New York-Los Angeles %f", d);
	ATF_CHECK_EQ(select_haversine_km(10, 20, 10, 20), 0);
	d = select_haversine_km(90, 0, -90, 0);
	ATF_CHECK_MSG(fabs(d - M_PI * SELECT_EARTH_RADIUS_KM) < 1e-6,
	    "pole to pole %f", d);
	d = select_haversine_km(0, 0, 0, 180);
	ATF_CHECK_MSG(fabs(d - M_PI * SELECT_EARTH_RADIUS_KM) < 1e-6,
	    "antipodes %f", d);
	/* across the date line: 2 degrees of the equator */
	d = select_haversine_km(0, 179, 0, -179);
	ATF_CHECK_MSG(fabs(d - 2 * M_PI * SELECT_EARTH_RADIUS_KM / 180) <
	    1e-6, "date line %f", d);
}

ATF_TC_WITHOUT_HEAD(selection_normalises_clamps_and_weights);
ATF_TC_BODY(selection_normalises_clamps_and_weights, tc)
{
	struct child_init	 ci;
	struct select_params	 sp;
	struct select_values	 sv;
	double			 x[SELECT_DIMS];

	memset(&ci, 0, sizeof(ci));
	ci.select_weight[SELECT_PING] = 1000;
	ci.select_weight[SELECT_HOPS] = 500;
	ci.select_weight[SELECT_GEO] = 250;
	ci.select_weight[SELECT_SCORE] = 2000;
	ci.select_bound[SELECT_PING] = 1000;
	ci.select_bound[SELECT_HOPS] = 8;
	ci.select_bound[SELECT_GEO] = 20000;
	ci.select_bound[SELECT_SCORE] = 100;
	select_params_from(&ci, &sp);
	ATF_CHECK(sp.weight[SELECT_GEO] == 0.25);

	sv.ping_ms = 500;
	sv.hops = 1;
	sv.geo_km = 10000;
	sv.score = 75;
	select_point(&sp, &sv, x);
	ATF_CHECK(x[SELECT_PING] == 0.5);
	ATF_CHECK(x[SELECT_HOPS] == 0.0625);
	ATF_CHECK(x[SELECT_GEO] == 0.125);
	ATF_CHECK(x[SELECT_SCORE] == 0.5);	/* (100 - 75) / 100 * 2 */

	/* past the bound: clamped to the weight */
	sv.ping_ms = 5000;
	sv.hops = 20;
	sv.geo_km = 30000;
	sv.score = 0;
	select_point(&sp, &sv, x);
	ATF_CHECK(x[SELECT_PING] == 1.0);
	ATF_CHECK(x[SELECT_HOPS] == 0.5);
	ATF_CHECK(x[SELECT_GEO] == 0.25);
	ATF_CHECK(x[SELECT_SCORE] == 2.0);

	/* unknown counts as the worst; a perfect peer is the origin */
	sv.ping_ms = -1;
	sv.hops = 0;
	sv.geo_km = -1;
	sv.score = 100;
	select_point(&sp, &sv, x);
	ATF_CHECK(x[SELECT_PING] == 1.0);
	ATF_CHECK(x[SELECT_HOPS] == 0.5);
	ATF_CHECK(x[SELECT_GEO] == 0.25);
	ATF_CHECK(x[SELECT_SCORE] == 0.0);
	sv.ping_ms = 0;
	sv.geo_km = 0;
	sv.hops = 0;
	ci.select_weight[SELECT_HOPS] = 0;	/* a weight 0 ignores it */
	select_params_from(&ci, &sp);
	select_point(&sp, &sv, x);
	ATF_CHECK(x[0] == 0 && x[1] == 0 && x[2] == 0 && x[3] == 0);
}

static int
parse_loc(const char *text, double *lat, double *lon)
{
	json_t		*v;
	const char	*why = NULL;
	int		 r;

	ATF_REQUIRE((v = json_loads(text, JSON_DECODE_ANY, NULL)) != NULL);
	r = select_location_parse(v, lat, lon, &why);
	if (r == -1)
		ATF_CHECK_MSG(why != NULL, "%s: no reason", text);
	json_decref(v);
	return (r);
}

ATF_TC_WITHOUT_HEAD(pong_locations_are_checked);
ATF_TC_BODY(pong_locations_are_checked, tc)
{
	static const char	*bad[] = {
		"{\"lat\": 91, \"lon\": 0}", "{\"lat\": 0, \"lon\": -180.01}",
		"{\"lat\": \"1\", \"lon\": 2}", "{\"lat\": 1}", "{\"lon\": 1}",
		"[1, 2]", "\"48.8,2.3\"", "true", "12", "{}",
		"{\"lat\": null, \"lon\": 1}", "{\"lat\": 1e308, \"lon\": 1}",
		"{\"lat\": -90.000001, \"lon\": 1}"
	};
	double			 lat = 0, lon = 0;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_EQ_MSG(parse_loc(bad[i], &lat, &lon), -1,
		    "%s accepted", bad[i]);
	ATF_CHECK_EQ(parse_loc("null", &lat, &lon), 0);
	ATF_CHECK_EQ(select_location_parse(NULL, &lat, &lon, NULL), 0);
	ATF_CHECK_EQ(parse_loc("{\"lat\": -90, \"lon\": 180}", &lat, &lon),
	    1);
	ATF_CHECK(lat == -90 && lon == 180);
	ATF_CHECK_EQ(parse_loc("{\"lat\": 48.8566, \"lon\": 2.3522, "
	    "\"alt\": 35}", &lat, &lon), 1);
	ATF_CHECK(lat == 48.8566 && lon == 2.3522);
}

ATF_TC_WITHOUT_HEAD(pong_sets_ping_hops_and_distance);
ATF_TC_BODY(pong_sets_ping_hops_and_distance, tc)
{
	struct peer	 p;
	struct msg	 m;
	json_t		*loc;

	memset(&test_env, 0, sizeof(test_env));
	env = &test_env;
	memset(&p, 0, sizeof(p));
	memset(&m, 0, sizeof(m));
	(void)strlcpy(p.id, "00112233445566778899aabbccddeeff", sizeof(p.id));
	p.geo_km = -1;

	/* we have no location: pingMs only */
	m.payload = json_pack("{s:i,s:{s:f,s:f}}", "sentAt", 1, "location",
	    "lat", LONDON_LAT, "lon", LONDON_LON);
	select_pong(&p, &m, 12.5);
	ATF_CHECK(p.ping_ms == 12.5);
	ATF_CHECK_EQ(p.hops, 1);
	ATF_CHECK(p.geo_km < 0);
	loc = select_location_json();
	ATF_CHECK(json_is_null(loc));
	json_decref(loc);

	/* Paris to London */
	test_env.conf.has_location = 1;
	test_env.conf.lat_e6 = 48856600;
	test_env.conf.lon_e6 = 2352200;
	select_pong(&p, &m, 7);
	ATF_CHECK_MSG(fabs(p.geo_km - 343.5) < 0.5, "geoKm %f", p.geo_km);
	loc = select_location_json();
	ATF_CHECK(json_real_value(json_object_get(loc, "lat")) == 48.8566);
	json_decref(loc);

	/* a bad location is ignored: geoKm stays, pingMs is new */
	json_decref(m.payload);
	m.payload = json_pack("{s:i,s:{s:s}}", "sentAt", 1, "location",
	    "lat", "north");
	select_pong(&p, &m, 9);
	ATF_CHECK(p.ping_ms == 9);
	ATF_CHECK_MSG(fabs(p.geo_km - 343.5) < 0.5, "geoKm %f", p.geo_km);

	/* null: the peer has no location now */
	json_decref(m.payload);
	m.payload = json_pack("{s:i,s:n}", "sentAt", 1, "location");
	select_pong(&p, &m, 9);
	ATF_CHECK(p.geo_km < 0);
	json_decref(m.payload);
	env = NULL;
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, kdtree_matches_brute_force_on_small_random_sets);
	ATF_TP_ADD_TC(tp, kdtree_matches_brute_force_up_to_100000_points);
	ATF_TP_ADD_TC(tp, kdtree_breaks_ties_by_index_with_duplicates);
	ATF_TP_ADD_TC(tp, kdtree_gives_all_equal_points_in_input_order);
	ATF_TP_ADD_TC(tp, haversine_gives_known_distances);
	ATF_TP_ADD_TC(tp, selection_normalises_clamps_and_weights);
	ATF_TP_ADD_TC(tp, pong_locations_are_checked);
	ATF_TP_ADD_TC(tp, pong_sets_ping_hops_and_distance);
	return (0);
}
