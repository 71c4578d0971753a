/*
 * TT-Miner (https://github.com/TrailingStop/TT-Miner-release): all
 * settings on the command line (-a, -o, -u, -p, -d), its monitoring
 * API bound to 127.0.0.1 with -b, polled with a Claymore-style
 * JSON-RPC request, "miner_getstat1", over TCP.  TT-Miner reads no
 * config file for its pool, so a pool password would be on the command
 * line: profiles with a real password are refused (doc/drivers.md).
 */

#include <sys/types.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

#define TT_REQUEST \
	"{\"id\":0,\"jsonrpc\":\"2.0\",\"method\":\"miner_getstat1\"}\n"
#define TT_RESULT_MIN	3	/* version, uptime, "rate;shares;rejected" */
#define TT_RESULT_POOL	7	/* "pool[;pool2]" */
#define TT_FIELD_MAX	32	/* bytes of one ';' field we read */
#define TT_UPTIME_MAX	(100LL * 365 * 24 * 60)	/* minutes */

/* A password that is no secret: pools take "x" or nothing. */
static int
tt_pass_trivial(const char *pass)
{
	return (pass[0] == '\0' || strcmp(pass, "x") == 0);
}

static int
tt_word_valid(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return (0);
	return (1);
}

int
ttminer_check(const struct profile *p, char *err, size_t errlen)
{
	char	 why[128];
	int	 bad = 0;

	if (driver_pool_valid(p->pool, why, sizeof(why)) == -1) {
		driver_err_add(err, errlen, "pool", "%s", why);
		bad++;
	}
	if (driver_text_valid(p->user, 1) == -1 || p->user[0] == '-') {
		driver_err_add(err, errlen, "user",
		    "required, UTF-8 without control characters, "
		    "not starting with \"-\"");
		bad++;
	}
	if (!tt_pass_trivial(p->pass)) {
		driver_err_add(err, errlen, "pass", "tt-miner takes its pool "
		    "password only on the command line, where any local user "
		    "could read it: use an empty password or \"x\"");
		bad++;
	}
	if (p->algo[0] == '\0' || !tt_word_valid(p->algo, "_-")) {
		driver_err_add(err, errlen, "algo",
		    "required, letters, digits, _ and - only");
		bad++;
	}
	if (p->threads != 0) {
		driver_err_add(err, errlen, "threads",
		    "not used by tt-miner (GPU): use devices");
		bad++;
	}
	if (!tt_word_valid(p->devices, ",")) {
		driver_err_add(err, errlen, "devices",
		    "a list of GPU numbers (\"0,1,2\")");
		bad++;
	}
	return (bad);
}

static int
tt_config(const struct profile *p, const struct miner_run *run, char *name,
    size_t namelen, char **buf, size_t *len, char *err, size_t errlen)
{
	if (namelen > 0)
		name[0] = '\0';
	*buf = NULL;
	*len = 0;
	return (0);
}

static int
tt_args(const struct profile *p, const struct miner_run *run,
    char argv[][MINER_ARG_LEN], uint32_t *argc, char *err, size_t errlen)
{
	unsigned int	 i;

	*argc = 0;
	if (!tt_pass_trivial(p->pass)) {
		(void)snprintf(err, errlen, "pass: no secret on a command "
		    "line");
		return (-1);
	}
	if (run->api_port == 0) {
		(void)snprintf(err, errlen, "no API port");
		return (-1);
	}
	if (driver_arg_add(argv, argc, "-a") ||
	    driver_arg_add(argv, argc, "%s", p->algo) ||
	    driver_arg_add(argv, argc, "-o") ||
	    driver_arg_add(argv, argc, "%s", p->pool) ||
	    driver_arg_add(argv, argc, "-u") ||
	    driver_arg_add(argv, argc, "%s", p->user) ||
	    (p->pass[0] != '\0' && (driver_arg_add(argv, argc, "-p") ||
	    driver_arg_add(argv, argc, "%s", p->pass))) ||
	    driver_arg_add(argv, argc, "-b") ||
	    driver_arg_add(argv, argc, "127.0.0.1:%u",
	    (unsigned int)run->api_port) ||
	    driver_arg_add(argv, argc, "-nocolor") ||
	    (p->devices[0] != '\0' && (driver_arg_add(argv, argc, "-d") ||
	    driver_arg_add(argv, argc, "%s", p->devices)))) {
		(void)snprintf(err, errlen, "arguments too long");
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

/* The i-th ';' field of s (at most TT_FIELD_MAX bytes) into buf. */
static int
tt_field(const char *s, int i, char *buf, size_t *len)
{
	const char	*e;

	for (; i > 0; i--) {
		if ((s = strchr(s, ';')) == NULL)
			return (-1);
		s++;
	}
	e = strchr(s, ';');
	*len = e != NULL ? (size_t)(e - s) : strlen(s);
	if (*len == 0 || *len > TT_FIELD_MAX)
		return (-1);
	memcpy(buf, s, *len);
	buf[*len] = '\0';
	return (0);
}

static int
tt_count(const char *s, int i, uint64_t *v)
{
	char		 buf[TT_FIELD_MAX + 1];
	size_t		 len;
	const char	*errstr;

	if (tt_field(s, i, buf, &len) == -1)
		return (-1);
	*v = strtonum(buf, 0, LLONG_MAX, &errstr);
	return (errstr == NULL ? 0 : -1);
}

static int
tt_parse_stats(const char *body, size_t len, struct miner_stats *st,
    char *err, size_t errlen)
{
	json_t		*j, *res, *v;
	const char	*s, *errstr;
	char		 buf[TT_FIELD_MAX + 1], *q;
	size_t		 i, n;
	long long	 mins;

	driver_stats_init(st);
	if ((j = driver_json_parse(body, len, err, errlen)) == NULL)
		return (-1);
	v = json_object_get(j, "error");
	if (v != NULL && !json_is_null(v)) {
		(void)snprintf(err, errlen, "the miner answered an error");
		goto fail;
	}
	res = json_object_get(j, "result");
	if (!json_is_array(res) || json_array_size(res) < TT_RESULT_MIN) {
		(void)snprintf(err, errlen, "no result array");
		goto fail;
	}
	for (i = 0; i < json_array_size(res); i++)
		if (!json_is_string(json_array_get(res, i))) {
			(void)snprintf(err, errlen, "result %zu not a string",
			    i);
			goto fail;
		}

	/* [1]: running time in minutes */
	s = json_string_value(json_array_get(res, 1));
	if (strlen(s) > TT_FIELD_MAX) {
		(void)snprintf(err, errlen, "bad uptime");
		goto fail;
	}
	mins = strtonum(s, 0, TT_UPTIME_MAX, &errstr);
	if (errstr != NULL) {
		(void)snprintf(err, errlen, "bad uptime");
		goto fail;
	}
	st->uptime = mins * 60;

	/*
	 * [2]: "rate;accepted;rejected".  TT-Miner gives the rate in H/s
	 * (Claymore gave kH/s), averaged over its report interval: it is
	 * our 60 s rate; TT-Miner has no 10 s or 15 min one.
	 */
	s = json_string_value(json_array_get(res, 2));
	if (tt_field(s, 0, buf, &n) == -1 ||
	    (st->hr60s = driver_rate(buf, n, "H/s", 3)) < 0) {
		(void)snprintf(err, errlen, "bad hashrate");
		goto fail;
	}
	if (tt_count(s, 1, &st->shares) == -1 ||
	    tt_count(s, 2, &st->rejected) == -1) {
		(void)snprintf(err, errlen, "bad share counts");
		goto fail;
	}

	/* [7]: the pools, the active one first */
	if (json_array_size(res) > TT_RESULT_POOL) {
		s = json_string_value(json_array_get(res, TT_RESULT_POOL));
		n = strcspn(s, ";");
		if (n >= sizeof(st->pool))
			n = sizeof(st->pool) - 1;
		memcpy(st->pool, s, n);
		st->pool[n] = '\0';
		for (q = st->pool; *q != '\0'; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
	}
	json_decref(j);
	return (0);
 fail:
	json_decref(j);
	driver_stats_init(st);
	return (-1);
}

/* TT-Miner's screen output has no stable rate line: the API has it. */
static int
tt_parse_line(const struct profile *p, const char *line,
    struct miner_stats *st)
{
	return (0);
}

const struct driver driver_ttminer = {
	.name = "tt-miner",
	.poll = POLL_TCP_JSON,
	.poll_request = TT_REQUEST,
	.auth_header = NULL,
	.config = tt_config,
	.args = tt_args,
	.parse_stats = tt_parse_stats,
	.parse_line = tt_parse_line,
};
