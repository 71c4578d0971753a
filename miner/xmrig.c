/*
 * XMRig (https://xmrig.com/docs/miner): a JSON config file with the
 * pool, the credentials and the HTTP API (127.0.0.1, our port, our
 * token), "--config=FILE --no-color" on the command line, and
 * GET /2/summary with a bearer token for stats.  doc/drivers.md has
 * the sources of each fact used here.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

#define XMRIG_CONFIG_NAME	"config.json"
#define XMRIG_SUMMARY_PATH	"/2/summary"
#define XMRIG_THREADS_MAX	1024	/* XMRig caps a profile there */
/* Stock builds refuse a donate level under 1 (kMinimumDonateLevel). */
#define XMRIG_DONATE_LEVEL	1
#define XMRIG_PRINT_TIME	10	/* seconds between speed lines */
#define XMRIG_HEALTH_TIME	60
#define XMRIG_RETRIES		5
#define XMRIG_RETRY_PAUSE	5
#define XMRIG_SPEED_MARK	"speed 10s/60s/15m "

static int
xmrig_auth(const struct miner_run *run, char *buf, size_t len)
{
	int	 n;

	if (run->api_token[0] == '\0')
		return (-1);
	n = snprintf(buf, len, "Authorization: Bearer %s", run->api_token);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (0);
}

static int
xmrig_algo_valid(const char *a)
{
	for (; *a != '\0'; a++)
		if (!isalnum((unsigned char)*a) && strchr("/_.-", *a) == NULL)
			return (0);
	return (1);
}

int
xmrig_check(const struct profile *p, char *err, size_t errlen)
{
	char	 why[128];
	int	 bad = 0;

	if (driver_pool_valid(p->pool, why, sizeof(why)) == -1) {
		driver_err_add(err, errlen, "pool", "%s", why);
		bad++;
	}
	if (driver_text_valid(p->user, 1) == -1) {
		driver_err_add(err, errlen, "user",
		    "required, without control characters");
		bad++;
	}
	if (driver_text_valid(p->pass, 0) == -1) {
		driver_err_add(err, errlen, "pass", "control characters");
		bad++;
	}
	if (!xmrig_algo_valid(p->algo)) {
		driver_err_add(err, errlen, "algo",
		    "only letters, digits and /_.- allowed");
		bad++;
	}
	if (p->threads < 0 || p->threads > XMRIG_THREADS_MAX) {
		driver_err_add(err, errlen, "threads",
		    "out of range (0-%d)", XMRIG_THREADS_MAX);
		bad++;
	}
	return (bad);
}

/* Build the config document; NULL only when out of memory. */
static json_t *
xmrig_doc(const struct profile *p, const struct miner_run *run)
{
	json_t	*doc, *pool, *cpu;
	int	 tls;

	tls = strncmp(p->pool, "stratum+ssl://", 14) == 0;
	pool = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:b}",
	    "url", p->pool,
	    "user", p->user,
	    "pass", p->pass[0] != '\0' ? p->pass : "x",
	    "algo", p->algo[0] != '\0' ? json_string(p->algo) : json_null(),
	    "keepalive", 1,
	    "tls", tls,
	    "enabled", 1);
	if (pool == NULL)
		return (NULL);
	/*
	 * Threads: with a "*" profile XMRig skips its auto-configuration
	 * and runs every algorithm on it; the short object format gives
	 * the count (doc/CPU.md).  0 leaves XMRig to decide.
	 */
	cpu = json_pack("{s:b, s:b, s:i}", "enabled", 1, "huge-pages", 1,
	    "max-threads-hint", 100);
	if (cpu == NULL) {
		json_decref(pool);
		return (NULL);
	}
	if (p->threads > 0 && json_object_set_new(cpu, "*",
	    json_pack("{s:i, s:i, s:i}", "intensity", 1, "threads",
	    p->threads, "affinity", -1)) == -1) {
		json_decref(pool);
		json_decref(cpu);
		return (NULL);
	}
	doc = json_pack("{s:{s:n, s:s}, s:{s:b, s:s, s:i, s:s, s:b},"
	    " s:b, s:b, s:b, s:b, s:b, s:o, s:i, s:i, s:n, s:[o],"
	    " s:i, s:i, s:i, s:i, s:b, s:n, s:b}",
	    "api", "id", "worker-id", run->name,
	    "http", "enabled", 1, "host", "127.0.0.1",
	    "port", (int)run->api_port, "access-token", run->api_token,
	    "restricted", 1,
	    "autosave", 0,
	    "background", 0,
	    "colors", 0,
	    "title", 0,
	    "watch", 0,
	    "cpu", cpu,
	    "donate-level", XMRIG_DONATE_LEVEL,
	    "donate-over-proxy", XMRIG_DONATE_LEVEL,
	    "log-file",
	    "pools", pool,
	    "print-time", XMRIG_PRINT_TIME,
	    "health-print-time", XMRIG_HEALTH_TIME,
	    "retries", XMRIG_RETRIES,
	    "retry-pause", XMRIG_RETRY_PAUSE,
	    "syslog", 0,
	    "user-agent",
	    "dmi", 0);
	return (doc);
}

static int
xmrig_config(const struct profile *p, const struct miner_run *run,
    char *name, size_t namelen, char **buf, size_t *len, char *err,
    size_t errlen)
{
	json_t	*doc;
	char	*s;

	*buf = NULL;
	*len = 0;
	if (run->api_port == 0 || run->api_token[0] == '\0') {
		(void)snprintf(err, errlen, "no API port or token");
		return (-1);
	}
	if (strlcpy(name, XMRIG_CONFIG_NAME, namelen) >= namelen) {
		(void)snprintf(err, errlen, "config name too long");
		return (-1);
	}
	if ((doc = xmrig_doc(p, run)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	s = json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	*len = strlen(s);
	if (*len > MINER_CONFIG_MAX) {
		free(s);
		*len = 0;
		(void)snprintf(err, errlen, "config longer than %d bytes",
		    MINER_CONFIG_MAX);
		return (-1);
	}
	*buf = s;
	return (0);
}

static int
xmrig_args(const struct profile *p, const struct miner_run *run,
    char argv[][MINER_ARG_LEN], uint32_t *argc, char *err, size_t errlen)
{
	unsigned int	 i;

	*argc = 0;
	if (driver_arg_add(argv, argc, "--config=%s", XMRIG_CONFIG_NAME) ||
	    driver_arg_add(argv, argc, "--no-color")) {
		(void)snprintf(err, errlen, "arguments");
		return (-1);
	}
	for (i = 0; i < p->nextra && i < PROFILE_EXTRA_MAX; i++) {
		if (driver_arg_add(argv, argc, "%s", p->extra[i]) == -1) {
			(void)snprintf(err, errlen,
			    "extra: too many or too long arguments");
			return (-1);
		}
	}
	return (0);
}

/* A string of the miner's into dst, control bytes replaced. */
static void
copy_text(char *dst, size_t len, json_t *s)
{
	char	*p;

	if (!json_is_string(s))
		return;
	(void)strlcpy(dst, json_string_value(s), len);
	for (p = dst; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static double
json_rate(json_t *v)
{
	if (!json_is_number(v))
		return (-1);
	return (driver_rate_check(json_number_value(v)));
}

static int
xmrig_parse_stats(const char *body, size_t len, struct miner_stats *st,
    char *err, size_t errlen)
{
	json_t		*j, *total, *res, *v, *conn;
	json_int_t	 good, all;

	driver_stats_init(st);
	if ((j = driver_json_parse(body, len, err, errlen)) == NULL)
		return (-1);
	if (!json_is_object(j)) {
		(void)snprintf(err, errlen, "not a JSON object");
		goto fail;
	}
	total = json_object_get(json_object_get(j, "hashrate"), "total");
	if (!json_is_array(total) || json_array_size(total) < 3) {
		(void)snprintf(err, errlen,
		    "no hashrate.total [10s, 60s, 15m]");
		goto fail;
	}
	st->hr10s = json_rate(json_array_get(total, 0));
	st->hr60s = json_rate(json_array_get(total, 1));
	st->hr15m = json_rate(json_array_get(total, 2));

	res = json_object_get(j, "results");
	v = json_object_get(res, "shares_good");
	good = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(res, "shares_total");
	all = json_is_integer(v) ? json_integer_value(v) : good;
	if (good < 0 || all < good) {
		(void)snprintf(err, errlen, "bad results.shares_good/total");
		goto fail;
	}
	st->shares = (uint64_t)good;
	st->rejected = (uint64_t)(all - good);

	v = json_object_get(j, "uptime");
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		st->uptime = json_integer_value(v);
	conn = json_object_get(j, "connection");
	copy_text(st->pool, sizeof(st->pool), json_object_get(conn, "pool"));
	copy_text(st->algo, sizeof(st->algo), json_object_get(j, "algo"));
	json_decref(j);
	return (0);
 fail:
	json_decref(j);
	driver_stats_init(st);
	return (-1);
}

/* The next space-separated word of s: its start and length. */
static const char *
word(const char **s, size_t *len)
{
	const char	*w;

	while (**s == ' ')
		(*s)++;
	w = *s;
	while (**s != ' ' && **s != '\0')
		(*s)++;
	*len = *s - w;
	return (*len > 0 ? w : NULL);
}

/*
 * "[2026-11-27 17:00:00.123]  miner    speed 10s/60s/15m 1234.5 1230.1
 * n/a H/s max 1240.0 H/s": the three rates and their unit.
 */
static int
xmrig_parse_line(const struct profile *p, const char *line,
    struct miner_stats *st)
{
	char		 buf[MINER_LINE_MAX + 1];
	const char	*s, *w[4];
	size_t		 n[4];
	double		 r[3];
	int		 i;

	(void)driver_line_copy(buf, line);
	if ((s = strstr(buf, XMRIG_SPEED_MARK)) == NULL)
		return (0);
	s += strlen(XMRIG_SPEED_MARK);
	for (i = 0; i < 4; i++)
		if ((w[i] = word(&s, &n[i])) == NULL)
			return (0);
	for (i = 0; i < 3; i++) {
		if (n[i] == 3 && strncmp(w[i], "n/a", 3) == 0)
			r[i] = -1;
		else if ((r[i] = driver_rate(w[i], n[i], w[3], n[3])) < 0)
			return (0);
	}
	if (r[0] < 0 && r[1] < 0 && r[2] < 0)
		return (0);
	st->hr10s = r[0];
	st->hr60s = r[1];
	st->hr15m = r[2];
	return (1);
}

const struct driver driver_xmrig = {
	.name = "xmrig",
	.poll = POLL_HTTP,
	.poll_request = XMRIG_SUMMARY_PATH,
	.auth_header = xmrig_auth,
	.config = xmrig_config,
	.args = xmrig_args,
	.parse_stats = xmrig_parse_stats,
	.parse_line = xmrig_parse_line,
};
