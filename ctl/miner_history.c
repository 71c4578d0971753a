/*
 * lethctl miner history NAME [--since T] [--until T]
 *
 * T is Unix ms (all digits), an ISO 8601 date-time (2024-05-01,
 * 2024-05-01T12:00, 2024-05-01T12:00:30Z, ...+02:00; local time when it
 * names no zone) or a time before now (-90s, -30m, -1h, -2d).  Without
 * them the daemon answers the last hour.  Prints TIME 10S 60S 15M, the
 * rates in H/s units for people; a 1-minute average (where the 10 s
 * samples have aged out) shows in the 60S column, marked "avg".
 */

#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vis.h>

#include <jansson.h>

#include "lethd.h"
#include "lethctl.h"

/* Rows we print: above the daemon's limit (10,000 a query). */
#define HISTORY_ROWS_SHOWN	100000
/* The largest rate we show, in H/s. */
#define HISTORY_RATE_MAX	1e18
/* Room for the request path: the prefix, a name, two times. */
#define HISTORY_PATH_MAX	(64 + MINER_NAME_MAX + 2 * 24)
/* Bytes of a bad argument we echo back. */
#define HISTORY_ECHO_MAX	64

static long long	history_now_ms(void);
static long long	history_time_arg(const char *, const char *,
			    long long);
static long long	history_iso(const char *);
static void		history_rate_str(char *, size_t, const json_t *);
static int		history_rate_ok(const json_t *, const char *);
static int		history_check(const json_t *, const json_t **,
			    char *, size_t);
static void		history_print(const json_t *);

static long long
history_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		err(1, "clock_gettime");
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * An ISO 8601 date-time in Unix ms, or -1: YYYY-MM-DD, then optionally
 * THH:MM or THH:MM:SS (a space instead of T too), then Z or +HH:MM or
 * -HH:MM; local time without a zone.
 */
static long long
history_iso(const char *s)
{
	struct tm	 tm;
	const char	*p;
	time_t		 t;
	int		 sign, oh, om, n = 0;
	long		 off = 0;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return (-1);
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (sscanf(p, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2 ||
		    n != 5)
			return (-1);
		p += n;
		if (*p == ':') {
			if (!isdigit((unsigned char)p[1]) ||
			    !isdigit((unsigned char)p[2]))
				return (-1);
			tm.tm_sec = (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
		}
		if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			return (-1);
	}
	if (*p == '\0') {
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			return (-1);
	} else {
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 ||
			    n != 5 || oh > 23 || om > 59)
				return (-1);
			off = sign * (oh * 3600L + om * 60L);
			p += 1 + n;
		} else
			return (-1);
		if (*p != '\0' || (t = timegm(&tm)) == (time_t)-1)
			return (-1);
		t -= off;
	}
	if (t < 0 || (long long)t > RESP_MAX_TIME_MS / 1000)
		return (-1);
	return ((long long)t * 1000);
}

/* T of --since or --until, in Unix ms; exits on a bad one. */
static long long
history_time_arg(const char *opt, const char *s, long long now)
{
	const char	*errstr;
	char		 num[24], vis[4 * HISTORY_ECHO_MAX + 1];
	long long	 v, unit;
	size_t		 len = strlen(s);

	if (len > 0 && strspn(s, "0123456789") == len) {
		v = strtonum(s, 0, RESP_MAX_TIME_MS, &errstr);
		if (errstr == NULL)
			return (v);
	} else if (s[0] == '-' && len >= 3 && len < sizeof(num) &&
	    strspn(s + 1, "0123456789") == len - 2) {
		switch (s[len - 1]) {
		case 's':
			unit = 1000;
			break;
		case 'm':
			unit = 60 * 1000;
			break;
		case 'h':
			unit = 3600 * 1000;
			break;
		case 'd':
			unit = 86400 * 1000LL;
			break;
		default:
			unit = 0;
		}
		memcpy(num, s + 1, len - 2);
		num[len - 2] = '\0';
		v = strtonum(num, 0, RESP_MAX_TIME_MS, &errstr);
		if (unit != 0 && errstr == NULL && v <= now / unit)
			return (now - v * unit);
	} else if ((v = history_iso(s)) != -1)
		return (v);
	(void)strnvisx(vis, sizeof(vis), s, strnlen(s, HISTORY_ECHO_MAX),
	    RESP_VIS_FLAGS);
	errx(1, "%s %s: use Unix ms, an ISO 8601 date-time "
	    "(2024-05-01T12:00:00Z) or a time before now (-30m, -1h, -2d)",
	    opt, vis);
}

/* A rate for people: "1.23 kH/s"; "-" when null. */
static void
history_rate_str(char *buf, size_t len, const json_t *v)
{
	static const char	*unit[] = { "H/s", "kH/s", "MH/s", "GH/s",
	    "TH/s", "PH/s", "EH/s" };
	double			 r;
	size_t			 i = 0;

	if (!json_is_number(v)) {
		(void)strlcpy(buf, "-", len);
		return;
	}
	r = json_number_value(v);
	while (r >= 1000 && i + 1 < sizeof(unit) / sizeof(unit[0])) {
		r /= 1000;
		i++;
	}
	(void)snprintf(buf, len, "%.2f %s", r, unit[i]);
}

static int
history_rate_ok(const json_t *row, const char *key)
{
	const json_t	*v = json_object_get(row, key);
	double		 r;

	if (v == NULL || json_is_null(v))
		return (1);
	if (!json_is_number(v))
		return (0);
	r = json_number_value(v);
	return (isfinite(r) && r >= 0 && r <= HISTORY_RATE_MAX);
}

/* Every row checked before anything is printed: 0, or -1 with err. */
static int
history_check(const json_t *root, const json_t **rowsp, char *errbuf,
    size_t len)
{
	const json_t	*rows, *row, *ts, *kind;
	size_t		 i;

	rows = json_object_get(root, "samples");
	if (!json_is_array(rows) ||
	    json_array_size(rows) > HISTORY_ROWS_SHOWN) {
		(void)snprintf(errbuf, len, "bad answer: no \"samples\" "
		    "array of at most %d rows", HISTORY_ROWS_SHOWN);
		return (-1);
	}
	for (i = 0; i < json_array_size(rows); i++) {
		row = json_array_get(rows, i);
		ts = json_object_get(row, "ts");
		kind = json_object_get(row, "kind");
		if (!json_is_object(row) || !json_is_integer(ts) ||
		    json_integer_value(ts) < 0 ||
		    json_integer_value(ts) > RESP_MAX_TIME_MS ||
		    !json_is_string(kind) ||
		    (strcmp(json_string_value(kind), "sample") != 0 &&
		    strcmp(json_string_value(kind), "minute") != 0) ||
		    !history_rate_ok(row, "hr10s") ||
		    !history_rate_ok(row, "hr60s") ||
		    !history_rate_ok(row, "hr15m")) {
			(void)snprintf(errbuf, len, "bad answer: sample %zu",
			    i);
			return (-1);
		}
	}
	*rowsp = rows;
	return (0);
}

static void
history_print(const json_t *root)
{
	const json_t	*rows, *row;
	char		 errbuf[RESP_ERR_MAX], t[64];
	char		 r10[32], r60[32], r15[32];
	size_t		 i;
	int		 minute;

	if (history_check(root, &rows, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	printf("%-25s %14s %14s     %14s\n", "TIME", "10S", "60S", "15M");
	for (i = 0; i < json_array_size(rows); i++) {
		row = json_array_get(rows, i);
		minute = strcmp(json_string_value(json_object_get(row,
		    "kind")), "minute") == 0;
		output_time(t, sizeof(t),
		    json_integer_value(json_object_get(row, "ts")));
		history_rate_str(r10, sizeof(r10),
		    json_object_get(row, "hr10s"));
		history_rate_str(r60, sizeof(r60),
		    json_object_get(row, "hr60s"));
		history_rate_str(r15, sizeof(r15),
		    json_object_get(row, "hr15m"));
		printf("%-25s %14s %14s%s %14s\n", t, r10, r60,
		    minute ? " avg" : "    ", r15);
	}
	if (json_is_true(json_object_get(root, "truncated")))
		printf("(more: ask again with --since after the last time)\n");
}

int
cmd_miner_history(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const char	*name = NULL, *since = NULL, *until = NULL, *v;
	char		 path[HISTORY_PATH_MAX], vis[4 * HISTORY_ECHO_MAX + 1];
	long long	 now = history_now_ms(), s = -1, u = -1;
	size_t		 len;
	int		 i, n;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--since", &i, argc, argv)) != NULL)
			since = v;
		else if ((v = ctl_opt_value("--until", &i, argc, argv)) !=
		    NULL)
			until = v;
		else if (argv[i][0] != '-' && name == NULL) {
			name = argv[i];
			continue;
		} else
			return (-1);
		if (*v == '\0')
			return (-1);
	}
	if (name == NULL)
		return (-1);
	len = strlen(name);
	if (len == 0 || len > MINER_NAME_MAX || strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != len) {
		(void)strnvisx(vis, sizeof(vis), name,
		    strnlen(name, HISTORY_ECHO_MAX), RESP_VIS_FLAGS);
		errx(1, "bad miner name %s: 1 to %d of A-Z a-z 0-9 . _ -",
		    vis, MINER_NAME_MAX);
	}
	if (since != NULL)
		s = history_time_arg("--since", since, now);
	if (until != NULL)
		u = history_time_arg("--until", until, now);
	if (s >= 0 && u >= 0 && u < s)
		errx(1, "--until is before --since");
	/* the daemon's default since is an hour before until */
	if (s >= 0 && u >= 0)
		n = snprintf(path, sizeof(path),
		    "/api/v1/history/%s?since=%lld&until=%lld", name, s, u);
	else if (s >= 0)
		n = snprintf(path, sizeof(path),
		    "/api/v1/history/%s?since=%lld", name, s);
	else if (u >= 0)
		n = snprintf(path, sizeof(path),
		    "/api/v1/history/%s?until=%lld", name, u);
	else
		n = snprintf(path, sizeof(path), "/api/v1/history/%s", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		errx(1, "request path too long");

	ctl_call(ctl, "GET", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else
		history_print(r.root);
	resp_free(&r);
	return (0);
}
