/*
 * The profile and miner answers: checked as resp.c checks the others
 * (types, ranges, lengths; every string copied out vis(3)-encoded) and
 * printed.  Nothing here exits or trusts the daemon: the fuzzer drives
 * it (fuzz/fuzz_ctlresp.c).
 *
 * A miner's numbers may be null (not read yet): they come out < 0 and
 * print as "-".  Hashrates print in H/s, kH/s, MH/s, GH/s or TH/s, and
 * a report older than RESP_STALE_POLLS poll intervals is marked stale.
 */

#include <sys/types.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethctl.h"
#include "lethctl_miner.h"

/* Width of the key column of a key-value list ("hashrate 15m" + 2). */
#define MOUT_KEY_WIDTH		14

static void	mresp_err(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static int	mresp_string(const json_t *, const char *, int, char *,
		    size_t, size_t, char *, size_t);
static int	mresp_integer(const json_t *, const char *, int, long long,
		    long long, long long *, char *, size_t);
static int	mresp_number(const json_t *, const char *, int, double,
		    double *, char *, size_t);
static int	mresp_bool(const json_t *, const char *, int *, char *,
		    size_t);
static int	mresp_extra(const json_t *, char *, size_t, char *, size_t);
static void	mout_count(char *, size_t, long long);
static void	mout_age(char *, size_t, const struct miner_info *);
static int	mout_width(const char *, int);

static void
mresp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The string member key of obj, at most max raw bytes, vis-encoded
 * into dst (dstlen >= 4 * max + 1).  Optional: absent or null is "".
 */
static int
mresp_string(const json_t *obj, const char *key, int optional, char *dst,
    size_t dstlen, size_t max, char *err, size_t errlen)
{
	json_t	*v;
	size_t	 len;

	dst[0] = '\0';
	v = json_object_get(obj, key);
	if (optional && (v == NULL || json_is_null(v)))
		return (0);
	if (!json_is_string(v)) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" %s",
		    key, v == NULL ? "missing" : "is not a string");
		return (-1);
	}
	len = json_string_length(v);
	if (len > max || dstlen < 4 * len + 1) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" too "
		    "long", key);
		return (-1);
	}
	(void)strvisx(dst, json_string_value(v), len, RESP_VIS_FLAGS);
	return (0);
}

/* Optional: absent or null is -1. */
static int
mresp_integer(const json_t *obj, const char *key, int optional,
    long long min, long long max, long long *out, char *err, size_t errlen)
{
	json_t		*v;
	json_int_t	 n;

	*out = -1;
	v = json_object_get(obj, key);
	if (optional && (v == NULL || json_is_null(v)))
		return (0);
	if (!json_is_integer(v)) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" %s",
		    key, v == NULL ? "missing" : "is not an integer");
		return (-1);
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" out "
		    "of range", key);
		return (-1);
	}
	*out = n;
	return (0);
}

/* A number 0..max; optional: absent or null is -1. */
static int
mresp_number(const json_t *obj, const char *key, int optional, double max,
    double *out, char *err, size_t errlen)
{
	json_t	*v;
	double	 d;

	*out = -1;
	v = json_object_get(obj, key);
	if (optional && (v == NULL || json_is_null(v)))
		return (0);
	if (!json_is_number(v)) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" %s",
		    key, v == NULL ? "missing" : "is not a number");
		return (-1);
	}
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > max) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" out "
		    "of range", key);
		return (-1);
	}
	*out = d;
	return (0);
}

static int
mresp_bool(const json_t *obj, const char *key, int *out, char *err,
    size_t errlen)
{
	json_t	*v;

	v = json_object_get(obj, key);
	if (!json_is_boolean(v)) {
		mresp_err(err, errlen, "bad response from daemon: \"%s\" %s",
		    key, v == NULL ? "missing" : "is not true or false");
		return (-1);
	}
	*out = json_is_true(v);
	return (0);
}

/* "extra": strings, joined with spaces; a space inside one is \040. */
static int
mresp_extra(const json_t *obj, char *dst, size_t dstlen, char *err,
    size_t errlen)
{
	json_t	*a, *v;
	size_t	 i, len, used = 0;

	dst[0] = '\0';
	a = json_object_get(obj, "extra");
	if (!json_is_array(a)) {
		mresp_err(err, errlen, "bad response from daemon: \"extra\" "
		    "%s", a == NULL ? "missing" : "is not an array");
		return (-1);
	}
	if (json_array_size(a) > RESP_MAX_EXTRA) {
		mresp_err(err, errlen, "bad response from daemon: more than "
		    "%d extra arguments", RESP_MAX_EXTRA);
		return (-1);
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) ||
		    (len = json_string_length(v)) > RESP_STR_MAX) {
			mresp_err(err, errlen, "bad response from daemon: "
			    "extra argument %zu is not a short string", i);
			return (-1);
		}
		if (used + 4 * len + 2 > dstlen)
			return (-1);
		if (i > 0)
			dst[used++] = ' ';
		(void)strvisx(dst + used, json_string_value(v), len,
		    RESP_VIS_FLAGS | VIS_SP);
		used += strlen(dst + used);
	}
	return (0);
}

/*
 * {id, type, binary, pool, user, pass?, passSet, algo, threads, devices,
 * extra, autostart, floor, regex}
 */
int
resp_profile(const json_t *root, struct profile_info *pi, char *err,
    size_t errlen)
{
	memset(pi, 0, sizeof(*pi));
	if (!json_is_object(root)) {
		mresp_err(err, errlen, "bad response from daemon: profile is "
		    "not an object");
		return (-1);
	}
	if (mresp_string(root, "id", 0, pi->id, sizeof(pi->id),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "type", 0, pi->type, sizeof(pi->type),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "binary", 0, pi->binary, sizeof(pi->binary),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "pool", 0, pi->pool, sizeof(pi->pool),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "user", 0, pi->user, sizeof(pi->user),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "algo", 0, pi->algo, sizeof(pi->algo),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_integer(root, "threads", 0, 0, RESP_MAX_THREADS,
	    &pi->threads, err, errlen) == -1 ||
	    mresp_string(root, "devices", 0, pi->devices,
	    sizeof(pi->devices), RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_extra(root, pi->extra, sizeof(pi->extra), err,
	    errlen) == -1 ||
	    mresp_bool(root, "autostart", &pi->autostart, err, errlen) ==
	    -1 ||
	    mresp_number(root, "floor", 0, RESP_MAX_RATE, &pi->floor, err,
	    errlen) == -1 ||
	    mresp_string(root, "regex", 0, pi->regex, sizeof(pi->regex),
	    RESP_STR_MAX, err, errlen) == -1)
		return (-1);
	if (json_object_get(root, "pass") != NULL) {
		if (mresp_string(root, "pass", 0, pi->pass, sizeof(pi->pass),
		    RESP_STR_MAX, err, errlen) == -1)
			return (-1);
		pi->has_pass = 1;
		pi->pass_set = pi->pass[0] != '\0';
	}
	if (json_object_get(root, "passSet") != NULL &&
	    mresp_bool(root, "passSet", &pi->pass_set, err, errlen) == -1)
		return (-1);
	return (0);
}

int
resp_profile_list(const json_t *root, const json_t **arrp, char *err,
    size_t errlen)
{
	struct profile_info	*pi;
	json_t			*arr, *v;
	char			 sub[RESP_ERR_MAX];
	size_t			 i;

	*arrp = NULL;
	if (!json_is_object(root) || !json_is_array(arr =
	    json_object_get(root, "profiles"))) {
		mresp_err(err, errlen, "bad response from daemon: no "
		    "\"profiles\" array");
		return (-1);
	}
	if (json_array_size(arr) > RESP_MAX_PROFILES) {
		mresp_err(err, errlen, "bad response from daemon: more than "
		    "%d profiles", RESP_MAX_PROFILES);
		return (-1);
	}
	/* tens of kilobytes: not on the stack */
	if ((pi = malloc(sizeof(*pi))) == NULL) {
		mresp_err(err, errlen, "out of memory");
		return (-1);
	}
	json_array_foreach(arr, i, v) {
		if (resp_profile(v, pi, sub, sizeof(sub)) == -1) {
			mresp_err(err, errlen, "%s (profile %zu)", sub, i);
			free(pi);
			return (-1);
		}
	}
	free(pi);
	*arrp = arr;
	return (0);
}

/*
 * {name, type, profile, state, pid, hashrate: {10s, 60s, 15m}, shares,
 * rejected, uptime, pool, algorithm, restarts, readAt, age,
 * pollSeconds?, lastError?}: name and state required, the rest may be
 * null or absent.
 */
int
resp_miner(const json_t *root, struct miner_info *mi, char *err,
    size_t errlen)
{
	json_t	*hr;

	memset(mi, 0, sizeof(*mi));
	if (!json_is_object(root)) {
		mresp_err(err, errlen, "bad response from daemon: miner is "
		    "not an object");
		return (-1);
	}
	hr = json_object_get(root, "hashrate");
	if (hr != NULL && !json_is_null(hr) && !json_is_object(hr)) {
		mresp_err(err, errlen, "bad response from daemon: "
		    "\"hashrate\" is not an object");
		return (-1);
	}
	if (!json_is_object(hr))
		hr = NULL;
	if (mresp_string(root, "name", 0, mi->name, sizeof(mi->name),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "state", 0, mi->state, sizeof(mi->state),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "type", 1, mi->type, sizeof(mi->type),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "profile", 1, mi->profile,
	    sizeof(mi->profile), RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_integer(root, "pid", 1, 0, INT32_MAX, &mi->pid, err,
	    errlen) == -1 ||
	    (hr != NULL && (mresp_number(hr, "10s", 1, RESP_MAX_RATE,
	    &mi->hr10s, err, errlen) == -1 ||
	    mresp_number(hr, "60s", 1, RESP_MAX_RATE, &mi->hr60s, err,
	    errlen) == -1 ||
	    mresp_number(hr, "15m", 1, RESP_MAX_RATE, &mi->hr15m, err,
	    errlen) == -1)) ||
	    mresp_integer(root, "shares", 1, 0, RESP_MAX_COUNT, &mi->shares,
	    err, errlen) == -1 ||
	    mresp_integer(root, "rejected", 1, 0, RESP_MAX_COUNT,
	    &mi->rejected, err, errlen) == -1 ||
	    mresp_integer(root, "uptime", 1, 0, INT64_MAX, &mi->uptime, err,
	    errlen) == -1 ||
	    mresp_string(root, "pool", 1, mi->pool, sizeof(mi->pool),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_string(root, "algorithm", 1, mi->algo, sizeof(mi->algo),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    mresp_integer(root, "restarts", 1, 0, UINT32_MAX, &mi->restarts,
	    err, errlen) == -1 ||
	    mresp_integer(root, "readAt", 1, 0, RESP_MAX_TIME_MS,
	    &mi->read_at, err, errlen) == -1 ||
	    mresp_integer(root, "age", 1, 0, INT64_MAX, &mi->age, err,
	    errlen) == -1 ||
	    mresp_integer(root, "pollSeconds", 1, 1, 86400, &mi->poll, err,
	    errlen) == -1 ||
	    mresp_string(root, "lastError", 1, mi->last_error,
	    sizeof(mi->last_error), RESP_STR_MAX, err, errlen) == -1)
		return (-1);
	if (!json_is_object(json_object_get(root, "hashrate")))
		mi->hr10s = mi->hr60s = mi->hr15m = -1;
	if (mi->read_at == 0)
		mi->read_at = -1;	/* never */
	if (mi->poll < 0)
		mi->poll = RESP_POLL_DEFAULT;
	return (0);
}

int
resp_miner_list(const json_t *root, const json_t **arrp, long long *poll,
    char *err, size_t errlen)
{
	struct miner_info	*mi;
	json_t			*arr, *v;
	char			 sub[RESP_ERR_MAX];
	size_t			 i;

	*arrp = NULL;
	*poll = RESP_POLL_DEFAULT;
	if (!json_is_object(root) || !json_is_array(arr =
	    json_object_get(root, "miners"))) {
		mresp_err(err, errlen, "bad response from daemon: no "
		    "\"miners\" array");
		return (-1);
	}
	if (json_array_size(arr) > RESP_MAX_MINERS) {
		mresp_err(err, errlen, "bad response from daemon: more than "
		    "%d miners", RESP_MAX_MINERS);
		return (-1);
	}
	if (mresp_integer(root, "pollSeconds", 1, 1, 86400, poll, err,
	    errlen) == -1)
		return (-1);
	if (*poll < 0)
		*poll = RESP_POLL_DEFAULT;
	if ((mi = malloc(sizeof(*mi))) == NULL) {
		mresp_err(err, errlen, "out of memory");
		return (-1);
	}
	json_array_foreach(arr, i, v) {
		if (resp_miner(v, mi, sub, sizeof(sub)) == -1) {
			mresp_err(err, errlen, "%s (miner %zu)", sub, i);
			free(mi);
			return (-1);
		}
	}
	free(mi);
	*arrp = arr;
	return (0);
}

/* {lines: [string...], hasMore?, total?} */
int
resp_logs(const json_t *root, const json_t **arrp, int *more,
    long long *total, char *err, size_t errlen)
{
	json_t	*arr, *v;
	size_t	 i;

	*arrp = NULL;
	*more = 0;
	*total = -1;
	if (!json_is_object(root) || !json_is_array(arr =
	    json_object_get(root, "lines"))) {
		mresp_err(err, errlen, "bad response from daemon: no "
		    "\"lines\" array");
		return (-1);
	}
	if (json_array_size(arr) > RESP_MAX_LOG_LINES) {
		mresp_err(err, errlen, "bad response from daemon: more than "
		    "%d lines", RESP_MAX_LOG_LINES);
		return (-1);
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > RESP_LOG_LINE_MAX) {
			mresp_err(err, errlen, "bad response from daemon: "
			    "line %zu is not a string of at most %d bytes", i,
			    RESP_LOG_LINE_MAX);
			return (-1);
		}
	}
	if ((v = json_object_get(root, "hasMore")) != NULL) {
		if (!json_is_boolean(v)) {
			mresp_err(err, errlen, "bad response from daemon: "
			    "\"hasMore\" is not true or false");
			return (-1);
		}
		*more = json_is_true(v);
	}
	if (mresp_integer(root, "total", 1, 0, INT64_MAX, total, err,
	    errlen) == -1)
		return (-1);
	*arrp = arr;
	return (0);
}

/*
 * The daemon escaped the line already: a backslash stays as it is (no
 * doubled escapes), and anything else not printable is encoded again.
 */
void
resp_log_line(const json_t *arr, size_t i, char *buf, size_t len)
{
	json_t	*v = json_array_get(arr, i);
	size_t	 n;

	buf[0] = '\0';
	if (!json_is_string(v) || len == 0)
		return;
	n = json_string_length(v);
	if (4 * n + 1 > len)
		n = (len - 1) / 4;
	(void)strvisx(buf, json_string_value(v), n,
	    RESP_VIS_FLAGS | VIS_NOSLASH);
}

/*
 * Printing.
 */

static int
mout_width(const char *s, int w)
{
	size_t	 len = strlen(s);

	if (len > (size_t)w)
		w = len > 4096 ? 4096 : (int)len;
	return (w);
}

/* 512.3 H/s, 1.23 kH/s, 45.67 MH/s ...; "-" unknown. */
void
output_rate(char *buf, size_t len, double hs)
{
	static const char *const units[] = {
		"H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"
	};
	size_t	 u = 0;

	if (!(hs >= 0) || !isfinite(hs)) {
		(void)snprintf(buf, len, "-");
		return;
	}
	if (hs < 1000) {
		(void)snprintf(buf, len, "%.1f H/s", hs);
		return;
	}
	while (hs >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		hs /= 1000;
		u++;
	}
	(void)snprintf(buf, len, "%.2f %s", hs, units[u]);
}

static void
mout_count(char *buf, size_t len, long long n)
{
	if (n < 0)
		(void)snprintf(buf, len, "-");
	else
		(void)snprintf(buf, len, "%lld", n);
}

/* "8s", "45s (stale)", "-" never read. */
static void
mout_age(char *buf, size_t len, const struct miner_info *mi)
{
	char	 up[32];

	if (mi->age < 0) {
		(void)snprintf(buf, len, "-");
		return;
	}
	output_uptime(up, sizeof(up), mi->age);
	(void)snprintf(buf, len, "%s%s", up, mi->age > RESP_STALE_POLLS *
	    mi->poll ? " (stale)" : "");
}

/* A profile as a key-value list; the password as "***" unless the
 * answer carried it. */
void
output_profile(FILE *fp, const struct profile_info *pi)
{
	char	 floor[32];

	output_rate(floor, sizeof(floor), pi->floor);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "id", pi->id);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "type", pi->type);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "binary",
	    pi->binary[0] != '\0' ? pi->binary : "- (the driver's)");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "pool",
	    pi->pool[0] != '\0' ? pi->pool : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "user",
	    pi->user[0] != '\0' ? pi->user : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "pass",
	    pi->has_pass && pi->pass[0] != '\0' ? pi->pass :
	    pi->pass_set ? "***" : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "algo",
	    pi->algo[0] != '\0' ? pi->algo : "-");
	if (pi->threads > 0)
		fprintf(fp, "%-*s%lld\n", MOUT_KEY_WIDTH, "threads",
		    pi->threads);
	else
		fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "threads",
		    "- (the miner's)");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "devices",
	    pi->devices[0] != '\0' ? pi->devices : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "args",
	    pi->extra[0] != '\0' ? pi->extra : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "autostart",
	    pi->autostart ? "yes" : "no");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "floor",
	    pi->floor > 0 ? floor : "- (any non-zero rate)");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "regex",
	    pi->regex[0] != '\0' ? pi->regex : "-");
}

/*
 * ID TYPE POOL USER ALGO THREADS AUTOSTART, in two passes (widths,
 * then rows).  No password.
 */
void
output_profile_list(FILE *fp, const json_t *arr)
{
	struct profile_info	*pi;
	json_t			*v;
	char			 err[RESP_ERR_MAX], thr[24];
	int			 wid, wtype, wpool, wuser, walgo, pass;
	size_t			 i;

	if (!json_is_array(arr))
		return;
	if (json_array_size(arr) == 0) {
		fprintf(fp, "no profiles\n");
		return;
	}
	if ((pi = malloc(sizeof(*pi))) == NULL)
		return;
	wid = strlen("ID");
	wtype = strlen("TYPE");
	wpool = strlen("POOL");
	wuser = strlen("USER");
	walgo = strlen("ALGO");
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			fprintf(fp, "%-*s  %-*s  %-*s  %-*s  %-*s  %7s  %s\n",
			    wid, "ID", wtype, "TYPE", wpool, "POOL", wuser,
			    "USER", walgo, "ALGO", "THREADS", "AUTOSTART");
		json_array_foreach(arr, i, v) {
			if (resp_profile(v, pi, err, sizeof(err)) == -1)
				continue;
			if (pi->pool[0] == '\0')
				(void)strlcpy(pi->pool, "-",
				    sizeof(pi->pool));
			if (pi->user[0] == '\0')
				(void)strlcpy(pi->user, "-",
				    sizeof(pi->user));
			if (pi->algo[0] == '\0')
				(void)strlcpy(pi->algo, "-",
				    sizeof(pi->algo));
			if (pass == 0) {
				wid = mout_width(pi->id, wid);
				wtype = mout_width(pi->type, wtype);
				wpool = mout_width(pi->pool, wpool);
				wuser = mout_width(pi->user, wuser);
				walgo = mout_width(pi->algo, walgo);
				continue;
			}
			mout_count(thr, sizeof(thr), pi->threads > 0 ?
			    pi->threads : -1);
			fprintf(fp, "%-*s  %-*s  %-*s  %-*s  %-*s  %7s  %s\n",
			    wid, pi->id, wtype, pi->type, wpool, pi->pool,
			    wuser, pi->user, walgo, pi->algo, thr,
			    pi->autostart ? "yes" : "no");
		}
	}
	free(pi);
}

/* A miner as a key-value list. */
void
output_miner(FILE *fp, const struct miner_info *mi)
{
	char	 buf[64], at[64];

	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "name", mi->name);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "type",
	    mi->type[0] != '\0' ? mi->type : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "profile",
	    mi->profile[0] != '\0' ? mi->profile : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "state", mi->state);
	mout_count(buf, sizeof(buf), mi->pid > 0 ? mi->pid : -1);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "pid", buf);
	output_rate(buf, sizeof(buf), mi->hr10s);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "hashrate 10s", buf);
	output_rate(buf, sizeof(buf), mi->hr60s);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "hashrate 60s", buf);
	output_rate(buf, sizeof(buf), mi->hr15m);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "hashrate 15m", buf);
	mout_count(buf, sizeof(buf), mi->shares);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "shares", buf);
	mout_count(buf, sizeof(buf), mi->rejected);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "rejected", buf);
	output_uptime(buf, sizeof(buf), mi->uptime);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "uptime", buf);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "pool",
	    mi->pool[0] != '\0' ? mi->pool : "-");
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "algorithm",
	    mi->algo[0] != '\0' ? mi->algo : "-");
	mout_count(buf, sizeof(buf), mi->restarts);
	fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "restarts", buf);
	mout_age(buf, sizeof(buf), mi);
	if (mi->read_at > 0) {
		output_time(at, sizeof(at), mi->read_at);
		fprintf(fp, "%-*s%s (%s)\n", MOUT_KEY_WIDTH, "read", buf, at);
	} else
		fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "read", "never");
	if (mi->last_error[0] != '\0')
		fprintf(fp, "%-*s%s\n", MOUT_KEY_WIDTH, "last error",
		    mi->last_error);
}

/*
 * NAME TYPE PROFILE STATE PID 10S 60S 15M SHARES REJ UPTIME POOL
 * RESTARTS AGE, in two passes (widths, then rows).
 */
#define MOUT_NCOLS	14
void
output_miner_list(FILE *fp, const json_t *arr, long long poll)
{
	static const char *const head[MOUT_NCOLS] = {
		"NAME", "TYPE", "PROFILE", "STATE", "PID", "10S", "60S", "15M",
		"SHARES", "REJ", "UPTIME", "POOL", "RESTARTS", "AGE"
	};
	/* left-aligned: words; right-aligned: numbers */
	static const int left[MOUT_NCOLS] = {
		1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1
	};
	struct miner_info	*mi;
	json_t			*v;
	char			 err[RESP_ERR_MAX];
	char			 num[10][64];
	const char		*col[MOUT_NCOLS];
	int			 w[MOUT_NCOLS], pass, c;
	size_t			 i;

	if (!json_is_array(arr))
		return;
	if (json_array_size(arr) == 0) {
		fprintf(fp, "no miners\n");
		return;
	}
	if ((mi = malloc(sizeof(*mi))) == NULL)
		return;
	for (c = 0; c < MOUT_NCOLS; c++)
		w[c] = strlen(head[c]);
	for (pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			for (c = 0; c < MOUT_NCOLS; c++)
				fprintf(fp, "%s%*s", c > 0 ? "  " : "",
				    c == MOUT_NCOLS - 1 ? 0 :
				    (left[c] ? -w[c] : w[c]), head[c]);
			fputc('\n', fp);
			continue;
		}
		json_array_foreach(arr, i, v) {
			if (resp_miner(v, mi, err, sizeof(err)) == -1)
				continue;
			if (mi->poll == RESP_POLL_DEFAULT && poll > 0 &&
			    json_object_get(v, "pollSeconds") == NULL)
				mi->poll = poll;
			mout_count(num[0], sizeof(num[0]), mi->pid > 0 ?
			    mi->pid : -1);
			output_rate(num[1], sizeof(num[1]), mi->hr10s);
			output_rate(num[2], sizeof(num[2]), mi->hr60s);
			output_rate(num[3], sizeof(num[3]), mi->hr15m);
			mout_count(num[4], sizeof(num[4]), mi->shares);
			mout_count(num[5], sizeof(num[5]), mi->rejected);
			output_uptime(num[6], sizeof(num[6]), mi->uptime);
			mout_count(num[7], sizeof(num[7]), mi->restarts);
			mout_age(num[8], sizeof(num[8]), mi);
			col[0] = mi->name;
			col[1] = mi->type[0] != '\0' ? mi->type : "-";
			col[2] = mi->profile[0] != '\0' ? mi->profile : "-";
			col[3] = mi->state;
			col[4] = num[0];
			col[5] = num[1];
			col[6] = num[2];
			col[7] = num[3];
			col[8] = num[4];
			col[9] = num[5];
			col[10] = num[6];
			col[11] = mi->pool[0] != '\0' ? mi->pool : "-";
			col[12] = num[7];
			col[13] = num[8];
			for (c = 0; c < MOUT_NCOLS; c++) {
				if (pass == 0) {
					w[c] = mout_width(col[c], w[c]);
					continue;
				}
				fprintf(fp, "%s%*s", c > 0 ? "  " : "",
				    c == MOUT_NCOLS - 1 ? 0 :
				    (left[c] ? -w[c] : w[c]), col[c]);
			}
			if (pass == 2)
				fputc('\n', fp);
		}
	}
	free(mi);
}

void
output_logs(FILE *fp, const json_t *arr, size_t first)
{
	char	 buf[4 * RESP_LOG_LINE_MAX + 1];
	size_t	 i;

	if (!json_is_array(arr))
		return;
	for (i = first; i < json_array_size(arr); i++) {
		resp_log_line(arr, i, buf, sizeof(buf));
		fprintf(fp, "%s\n", buf);
	}
}
