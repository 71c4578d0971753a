/*
 * A worker's answer to one of our requests, rebuilt from DESIGN's
 * fields only (Wire protocol: stats, miner_ack, logs, profiles).  The
 * signature held and the body parsed (msg.c: 1 MiB, bounded nesting,
 * no duplicate keys); nothing in it is trusted beyond that.  A key
 * DESIGN does not name is dropped; a known key of the wrong type, a
 * string or array past its bound, a number not finite or out of its
 * range makes the whole answer malformed.  The copy shares nothing
 * with the message, so the message's tree is freed as soon as the
 * answer is checked.
 */

#include <sys/types.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "msg.h"
#include "remote_check.h"

/* Where the reason for a refusal goes. */
struct rc_ctx {
	char		*why;
	size_t		 whylen;
	const char	*where;		/* "miners[]", "profiles[]", "" */
};

/* The windows of a hashrate, as DESIGN's stats payload names them. */
static const char *const rc_windows[] = { "10s", "60s", "15m" };
#define RC_NWINDOWS	(sizeof(rc_windows) / sizeof(rc_windows[0]))

static int	rc_fail(struct rc_ctx *, const char *, const char *);
static int	rc_set(struct rc_ctx *, json_t *, const char *, json_t *);
static int	rc_string(struct rc_ctx *, const json_t *, json_t *,
		    const char *, size_t, int);
static int	rc_integer(struct rc_ctx *, const json_t *, json_t *,
		    const char *, long long, long long, int);
static int	rc_real(struct rc_ctx *, const json_t *, json_t *,
		    const char *, double, int);
static int	rc_bool(struct rc_ctx *, const json_t *, json_t *,
		    const char *);
static json_t	*rc_stats(struct rc_ctx *, const json_t *);
static json_t	*rc_miner(struct rc_ctx *, const json_t *);
static json_t	*rc_ack(struct rc_ctx *, const json_t *);
static json_t	*rc_logs(struct rc_ctx *, const json_t *);
static json_t	*rc_profiles(struct rc_ctx *, const json_t *);
static json_t	*rc_profile(struct rc_ctx *, const json_t *);

int
remote_check_code(const json_t *pl)
{
	const json_t	*v;
	json_int_t	 code;

	if (!json_is_object(pl) ||
	    (v = json_object_get(pl, "code")) == NULL || !json_is_integer(v))
		return (MSG_ERR_INTERNAL);
	code = json_integer_value(v);
	if (code < MSG_ERR_INTERNAL || code > MSG_ERR_TIMEOUT)
		return (MSG_ERR_INTERNAL);
	return ((int)code);
}

json_t *
remote_check_answer(enum msg_type req, const json_t *pl, char *why,
    size_t whylen)
{
	struct rc_ctx	 ctx;

	ctx.why = why;
	ctx.whylen = whylen;
	ctx.where = "";
	if (whylen > 0)
		why[0] = '\0';
	if (!json_is_object(pl)) {
		(void)rc_fail(&ctx, "payload", "not an object");
		return (NULL);
	}
	switch (req) {
	case MSG_PING:
		/* the pong's location is select.c's to read */
		return (json_object());
	case MSG_GET_STATS:
		return (rc_stats(&ctx, pl));
	case MSG_START_MINER:
	case MSG_STOP_MINER:
	case MSG_RESTART_MINER:
		return (rc_ack(&ctx, pl));
	case MSG_GET_LOGS:
		return (rc_logs(&ctx, pl));
	case MSG_GET_PROFILES:
		return (rc_profiles(&ctx, pl));
	default:
		(void)rc_fail(&ctx, "payload", "an answer we do not relay");
		return (NULL);
	}
}

static int
rc_fail(struct rc_ctx *ctx, const char *key, const char *what)
{
	if (ctx->whylen > 0 && ctx->why[0] == '\0')
		(void)snprintf(ctx->why, ctx->whylen, "%s%s%s: %s",
		    ctx->where, ctx->where[0] != '\0' ? "." : "", key, what);
	return (-1);
}

/* Set key to v (stolen) in out. */
static int
rc_set(struct rc_ctx *ctx, json_t *out, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(out, key, v) == -1)
		return (rc_fail(ctx, key, "out of memory"));
	return (0);
}

/*
 * The array member key of in, of at most max elements: its output array,
 * already set in out (a borrowed reference), for the caller to fill;
 * NULL when it is not an array, too long, or out of memory.
 */
static json_t *
rc_array(struct rc_ctx *ctx, const json_t *in, json_t *out,
    const char *key, size_t max, const json_t **elems)
{
	json_t	*arr;

	*elems = json_object_get(in, key);
	if (!json_is_array(*elems)) {
		(void)rc_fail(ctx, key, "not an array");
		return (NULL);
	}
	if (json_array_size(*elems) > max) {
		(void)rc_fail(ctx, key, "too many");
		return (NULL);
	}
	if ((arr = json_array()) == NULL || rc_set(ctx, out, key, arr) == -1)
		return (NULL);
	return (arr);
}

/* A string of at most max bytes, no NUL; absent or null if nullable. */
static int
rc_string(struct rc_ctx *ctx, const json_t *in, json_t *out,
    const char *key, size_t max, int nullable)
{
	const json_t	*v = json_object_get(in, key);
	size_t		 len;

	if (v == NULL || json_is_null(v)) {
		if (!nullable)
			return (rc_fail(ctx, key, "missing"));
		return (rc_set(ctx, out, key, json_null()));
	}
	if (!json_is_string(v))
		return (rc_fail(ctx, key, "not a string"));
	len = json_string_length(v);
	if (len > max)
		return (rc_fail(ctx, key, "too long"));
	if (strlen(json_string_value(v)) != len)
		return (rc_fail(ctx, key, "holds a NUL"));
	return (rc_set(ctx, out, key, json_stringn(json_string_value(v),
	    len)));
}

/* An integer in [min, max]; absent or null if nullable. */
static int
rc_integer(struct rc_ctx *ctx, const json_t *in, json_t *out,
    const char *key, long long min, long long max, int nullable)
{
	const json_t	*v = json_object_get(in, key);
	json_int_t	 i;

	if (v == NULL || json_is_null(v)) {
		if (!nullable)
			return (rc_fail(ctx, key, "missing"));
		return (rc_set(ctx, out, key, json_null()));
	}
	if (!json_is_integer(v))
		return (rc_fail(ctx, key, "not an integer"));
	i = json_integer_value(v);
	if (i < min || i > max)
		return (rc_fail(ctx, key, "out of range"));
	return (rc_set(ctx, out, key, json_integer(i)));
}

/* A finite number in [0, max]; absent or null if nullable. */
static int
rc_real(struct rc_ctx *ctx, const json_t *in, json_t *out,
    const char *key, double max, int nullable)
{
	const json_t	*v = json_object_get(in, key);
	double		 d;

	if (v == NULL || json_is_null(v)) {
		if (!nullable)
			return (rc_fail(ctx, key, "missing"));
		return (rc_set(ctx, out, key, json_null()));
	}
	if (!json_is_number(v))
		return (rc_fail(ctx, key, "not a number"));
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > max)
		return (rc_fail(ctx, key, "out of range"));
	return (rc_set(ctx, out, key, json_real(d)));
}

static int
rc_bool(struct rc_ctx *ctx, const json_t *in, json_t *out, const char *key)
{
	const json_t	*v = json_object_get(in, key);

	if (v == NULL)
		return (rc_fail(ctx, key, "missing"));
	if (!json_is_boolean(v))
		return (rc_fail(ctx, key, "not a boolean"));
	return (rc_set(ctx, out, key, json_boolean(json_is_true(v))));
}

/* {nodeId, nodeName, uptime, miners: [...]} */
static json_t *
rc_stats(struct rc_ctx *ctx, const json_t *pl)
{
	const json_t	*miners, *m;
	json_t		*out, *arr, *row;
	size_t		 i;

	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "stats", "out of memory");
		return (NULL);
	}
	if (rc_string(ctx, pl, out, "nodeId", NODE_ID_LEN, 0) == -1 ||
	    rc_string(ctx, pl, out, "nodeName", REMOTE_NAME_MAX, 0) == -1 ||
	    rc_integer(ctx, pl, out, "uptime", 0, REMOTE_UPTIME_MAX, 0) == -1)
		goto bad;
	if ((arr = rc_array(ctx, pl, out, "miners", REMOTE_STATS_MINERS_MAX, &miners)) == NULL)
		goto bad;
	ctx->where = "miners[]";
	json_array_foreach(miners, i, m) {
		if ((row = rc_miner(ctx, m)) == NULL)
			goto bad;
		if (json_array_append_new(arr, row) == -1) {
			(void)rc_fail(ctx, "miner", "out of memory");
			goto bad;
		}
	}
	ctx->where = "";
	return (out);
 bad:
	json_decref(out);
	return (NULL);
}

/* {name, type, state, hashrate: {10s, 60s, 15m}, shares, rejected,
 * uptime, pool, algorithm, readAt} */
static json_t *
rc_miner(struct rc_ctx *ctx, const json_t *m)
{
	const json_t	*hr;
	json_t		*out, *hout;
	size_t		 w;

	if (!json_is_object(m)) {
		(void)rc_fail(ctx, "miner", "not an object");
		return (NULL);
	}
	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "miner", "out of memory");
		return (NULL);
	}
	if (rc_string(ctx, m, out, "name", MINER_NAME_MAX, 0) == -1 ||
	    rc_string(ctx, m, out, "type", REMOTE_WORD_MAX, 0) == -1 ||
	    rc_string(ctx, m, out, "state", REMOTE_WORD_MAX, 0) == -1)
		goto bad;
	hr = json_object_get(m, "hashrate");
	if ((hout = json_object()) == NULL ||
	    rc_set(ctx, out, "hashrate", hout) == -1)
		goto bad;
	if (hr != NULL && !json_is_null(hr) && !json_is_object(hr)) {
		(void)rc_fail(ctx, "hashrate", "not an object");
		goto bad;
	}
	/* a missing or null hashrate: every window unknown */
	for (w = 0; w < RC_NWINDOWS; w++)
		if (rc_real(ctx, json_is_object(hr) ? hr : NULL, hout,
		    rc_windows[w], REMOTE_HASHRATE_MAX, 1) == -1)
			goto bad;
	if (rc_integer(ctx, m, out, "shares", 0, REMOTE_COUNT_MAX, 1) == -1 ||
	    rc_integer(ctx, m, out, "rejected", 0, REMOTE_COUNT_MAX, 1) ==
	    -1 ||
	    rc_integer(ctx, m, out, "uptime", 0, REMOTE_UPTIME_MAX, 1) ==
	    -1 ||
	    rc_string(ctx, m, out, "pool", REMOTE_TEXT_MAX, 1) == -1 ||
	    rc_string(ctx, m, out, "algorithm", REMOTE_TEXT_MAX, 1) == -1 ||
	    rc_integer(ctx, m, out, "readAt", 0, REMOTE_COUNT_MAX, 1) == -1)
		goto bad;
	return (out);
 bad:
	json_decref(out);
	return (NULL);
}

/* miner_ack {minerName, action, ok, state, message} */
static json_t *
rc_ack(struct rc_ctx *ctx, const json_t *pl)
{
	json_t	*out;

	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "miner_ack", "out of memory");
		return (NULL);
	}
	if (rc_string(ctx, pl, out, "minerName", MINER_NAME_MAX, 0) == -1 ||
	    rc_string(ctx, pl, out, "action", REMOTE_WORD_MAX, 0) == -1 ||
	    rc_bool(ctx, pl, out, "ok") == -1 ||
	    rc_string(ctx, pl, out, "state", REMOTE_WORD_MAX, 1) == -1 ||
	    rc_string(ctx, pl, out, "message", REMOTE_MESSAGE_MAX, 0) == -1) {
		json_decref(out);
		return (NULL);
	}
	return (out);
}

/* logs {minerName, lines: [..], hasMore} */
static json_t *
rc_logs(struct rc_ctx *ctx, const json_t *pl)
{
	const json_t	*lines, *l;
	json_t		*out, *arr;
	size_t		 i, len;

	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "logs", "out of memory");
		return (NULL);
	}
	if (rc_string(ctx, pl, out, "minerName", MINER_NAME_MAX, 0) == -1 ||
	    rc_bool(ctx, pl, out, "hasMore") == -1)
		goto bad;
	if ((arr = rc_array(ctx, pl, out, "lines", REMOTE_LOG_LINES_MAX, &lines)) == NULL)
		goto bad;
	json_array_foreach(lines, i, l) {
		if (!json_is_string(l)) {
			(void)rc_fail(ctx, "lines", "a line is not a string");
			goto bad;
		}
		len = json_string_length(l);
		if (len > REMOTE_LOG_LINE_MAX ||
		    strlen(json_string_value(l)) != len) {
			(void)rc_fail(ctx, "lines", "a line is too long or "
			    "holds a NUL");
			goto bad;
		}
		if (json_array_append_new(arr, json_stringn(
		    json_string_value(l), len)) == -1) {
			(void)rc_fail(ctx, "lines", "out of memory");
			goto bad;
		}
	}
	return (out);
 bad:
	json_decref(out);
	return (NULL);
}

/* profiles {profiles: [..], hasMore} */
static json_t *
rc_profiles(struct rc_ctx *ctx, const json_t *pl)
{
	const json_t	*profiles, *pr;
	json_t		*out, *arr, *row;
	size_t		 i;

	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "profiles", "out of memory");
		return (NULL);
	}
	if (rc_bool(ctx, pl, out, "hasMore") == -1)
		goto bad;
	if ((arr = rc_array(ctx, pl, out, "profiles", REMOTE_PROFILES_MAX, &profiles)) == NULL)
		goto bad;
	ctx->where = "profiles[]";
	json_array_foreach(profiles, i, pr) {
		if ((row = rc_profile(ctx, pr)) == NULL)
			goto bad;
		if (json_array_append_new(arr, row) == -1) {
			(void)rc_fail(ctx, "profile", "out of memory");
			goto bad;
		}
	}
	ctx->where = "";
	return (out);
 bad:
	json_decref(out);
	return (NULL);
}

/* A profile as a worker shows it: never "pass" (a worker never sends
 * one; if it did, it is not relayed). */
static json_t *
rc_profile(struct rc_ctx *ctx, const json_t *pr)
{
	static const char *const texts[] = {
		"type", "binary", "pool", "user", "algo", "devices", "regex"
	};
	const json_t	*extra, *e;
	json_t		*out, *arr;
	size_t		 i, len;

	if (!json_is_object(pr)) {
		(void)rc_fail(ctx, "profile", "not an object");
		return (NULL);
	}
	if ((out = json_object()) == NULL) {
		(void)rc_fail(ctx, "profile", "out of memory");
		return (NULL);
	}
	if (rc_string(ctx, pr, out, "id", PROFILE_ID_MAX, 0) == -1)
		goto bad;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (rc_string(ctx, pr, out, texts[i], REMOTE_TEXT_MAX, 0) ==
		    -1)
			goto bad;
	if (rc_bool(ctx, pr, out, "passSet") == -1 ||
	    rc_bool(ctx, pr, out, "autostart") == -1 ||
	    rc_integer(ctx, pr, out, "threads", 0, REMOTE_THREADS_MAX, 0) ==
	    -1 ||
	    rc_real(ctx, pr, out, "floor", REMOTE_FLOOR_MAX, 0) == -1)
		goto bad;
	if ((arr = rc_array(ctx, pr, out, "extra", REMOTE_EXTRA_MAX, &extra)) == NULL)
		goto bad;
	json_array_foreach(extra, i, e) {
		if (!json_is_string(e) ||
		    (len = json_string_length(e)) > REMOTE_TEXT_MAX ||
		    strlen(json_string_value(e)) != len) {
			(void)rc_fail(ctx, "extra", "an argument is not a "
			    "string, too long or holds a NUL");
			goto bad;
		}
		if (json_array_append_new(arr, json_stringn(
		    json_string_value(e), len)) == -1) {
			(void)rc_fail(ctx, "extra", "out of memory");
			goto bad;
		}
	}
	return (out);
 bad:
	json_decref(out);
	return (NULL);
}
