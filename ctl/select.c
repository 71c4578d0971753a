/*
 * lethctl peer best [-k N]: the pinned workers nearest the ideal point,
 * from GET /api/v1/peers/best (minerd/api_select.c).  The answer is
 * checked as resp.c checks every other: types, ranges, and each string
 * vis(3)-encoded.
 */

#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethd.h"
#include "lethctl.h"

#define BEST_K_MAX		1000	/* the daemon's SELECT_K_MAX */
#define BEST_PATH_MAX		64	/* "/api/v1/peers/best?k=1000" */
#define BEST_HOPS_MAX		255	/* lethd.conf's bound on hops */
#define BEST_GEO_MAX		20100.0	/* km: past half a great circle */
#define BEST_DIST_MAX		1e7	/* four weights up to 1000 */
#define BEST_ARG_ECHO		32	/* bytes of a bad -k echoed */

/* One row, every string vis(3)-encoded. */
struct best_info {
	char		 id[RESP_VIS_MAX];
	char		 name[RESP_VIS_MAX];
	double		 ping_ms;	/* < 0: unknown */
	long long	 hops;		/* 0: unknown */
	double		 geo_km;	/* < 0: unknown */
	long long	 score;
	double		 distance;
};

static int	best_string(const json_t *, const char *, char *, size_t,
		    char *, size_t);
static int	best_number(const json_t *, const char *, double, double,
		    int, double *, char *, size_t);
static int	best_row(const json_t *, struct best_info *, char *, size_t);
static void	best_print(FILE *, const json_t *);

static int
best_string(const json_t *o, const char *key, char *dst, size_t dstlen,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) > RESP_STR_MAX) {
		(void)snprintf(err, errlen, "bad response from daemon: %s "
		    "is not a string of at most %d bytes", key, RESP_STR_MAX);
		return (-1);
	}
	(void)strnvisx(dst, dstlen, json_string_value(v),
	    json_string_length(v), RESP_VIS_FLAGS);
	return (0);
}

/* A number from min to max; null (if nullable) gives -1. */
static int
best_number(const json_t *o, const char *key, double min, double max,
    int nullable, double *out, char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);
	double	 d;

	if (nullable && json_is_null(v)) {
		*out = -1;
		return (0);
	}
	if (!json_is_number(v) || !isfinite(d = json_number_value(v)) ||
	    d < min || d > max) {
		(void)snprintf(err, errlen, "bad response from daemon: %s "
		    "is not a number from %g to %g", key, min, max);
		return (-1);
	}
	*out = d;
	return (0);
}

static int
best_row(const json_t *o, struct best_info *bi, char *err, size_t errlen)
{
	double	 hops, score;

	memset(bi, 0, sizeof(*bi));
	if (!json_is_object(o)) {
		(void)snprintf(err, errlen, "bad response from daemon: a peer "
		    "is not an object");
		return (-1);
	}
	if (best_string(o, "id", bi->id, sizeof(bi->id), err, errlen) == -1 ||
	    best_string(o, "name", bi->name, sizeof(bi->name), err,
	    errlen) == -1 ||
	    best_number(o, "pingMs", 0, RESP_MAX_RTT_MS, 1, &bi->ping_ms, err,
	    errlen) == -1 ||
	    best_number(o, "hops", 1, BEST_HOPS_MAX, 1, &hops, err,
	    errlen) == -1 ||
	    best_number(o, "geoKm", 0, BEST_GEO_MAX, 1, &bi->geo_km, err,
	    errlen) == -1 ||
	    best_number(o, "score", 0, 100, 0, &score, err, errlen) == -1 ||
	    best_number(o, "distance", 0, BEST_DIST_MAX, 0, &bi->distance,
	    err, errlen) == -1)
		return (-1);
	if (!json_is_null(json_object_get(o, "hops")) &&
	    !json_is_integer(json_object_get(o, "hops"))) {
		(void)snprintf(err, errlen, "bad response from daemon: hops "
		    "is not an integer");
		return (-1);
	}
	bi->hops = hops < 0 ? 0 : (long long)hops;
	bi->score = (long long)score;
	return (0);
}

static void
best_fmt(char *buf, size_t len, double v, const char *unit)
{
	if (v < 0)
		(void)snprintf(buf, len, "-");
	else
		(void)snprintf(buf, len, "%.1f%s", v, unit);
}

/* RANK ID NAME PING HOPS GEO SCORE DISTANCE, nearest first. */
static void
best_print(FILE *fp, const json_t *arr)
{
	struct best_info	 bi;
	const json_t		*v;
	char			 err[RESP_ERR_MAX], ping[32], geo[32];
	char			 hops[24];
	size_t			 i;
	int			 wname = strlen("NAME"), wid = strlen("ID");

	if (json_array_size(arr) == 0) {
		fprintf(fp, "no workers\n");
		return;
	}
	json_array_foreach(arr, i, v) {
		if (best_row(v, &bi, err, sizeof(err)) == -1)
			errx(1, "%s (peer %zu)", err, i);
		if ((int)strlen(bi.name) > wname)
			wname = strlen(bi.name) > 4096 ? 4096 :
			    (int)strlen(bi.name);
		if ((int)strlen(bi.id) > wid)
			wid = strlen(bi.id) > 4096 ? 4096 : (int)strlen(bi.id);
	}
	fprintf(fp, "%4s  %-*s  %-*s  %10s  %4s  %9s  %5s  %8s\n", "RANK",
	    wid, "ID", wname, "NAME", "PING", "HOPS", "GEO", "SCORE",
	    "DISTANCE");
	json_array_foreach(arr, i, v) {
		(void)best_row(v, &bi, err, sizeof(err));
		best_fmt(ping, sizeof(ping), bi.ping_ms, "ms");
		best_fmt(geo, sizeof(geo), bi.geo_km, "km");
		if (bi.hops > 0)
			(void)snprintf(hops, sizeof(hops), "%lld", bi.hops);
		else
			(void)strlcpy(hops, "-", sizeof(hops));
		fprintf(fp, "%4zu  %-*s  %-*s  %10s  %4s  %9s  %5lld  %8.4f\n",
		    i + 1, wid, bi.id, wname, bi.name[0] != '\0' ? bi.name :
		    "-", ping, hops, geo, bi.score, bi.distance);
	}
}

int
cmd_peer_best(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	const char	*v, *errstr;
	char		 path[BEST_PATH_MAX], vis[4 * BEST_ARG_ECHO + 1];
	long long	 k = 1;
	int		 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("-k", &i, argc, argv)) == NULL)
			return (-1);
		k = strtonum(v, 1, BEST_K_MAX, &errstr);
		if (errstr != NULL) {
			(void)strnvisx(vis, sizeof(vis), v,
			    strnlen(v, BEST_ARG_ECHO), RESP_VIS_FLAGS);
			errx(1, "-k %s is %s: 1 to %d", vis, errstr,
			    BEST_K_MAX);
		}
	}
	(void)snprintf(path, sizeof(path), "/api/v1/peers/best?k=%lld", k);
	ctl_call(ctl, "GET", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		arr = json_object_get(r.root, "peers");
		if (!json_is_array(arr) || json_array_size(arr) >
		    (size_t)BEST_K_MAX)
			errx(1, "bad response from daemon: peers is not an "
			    "array of at most %d", BEST_K_MAX);
		best_print(stdout, arr);
	}
	resp_free(&r);
	return (0);
}
