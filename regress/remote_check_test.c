/*
 * Unit tests of a controller's checks of its workers' answers
 * (minerd/remote_check.c): each answer comes out rebuilt from DESIGN's
 * fields whatever a hostile worker sends (extra keys, huge strings,
 * deep nesting, numbers out of range or not numbers, wrong types), and
 * the code of an `error' answer is always one of 1000..1005, never 0.
 */

#include <sys/types.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>
#include <jansson.h>

#include "lethd.h"
#include "msg.h"
#include "peer.h"
#include "remote_check.h"

#define ID	"0123456789abcdef0123456789abcdef"

/* A worker's stats as serve.c sends it, with one miner. */
static json_t *
stats_good(void)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:i, s:[{s:s, s:s, s:s, "
	    "s:{s:f, s:n, s:f}, s:i, s:i, s:i, s:s, s:n, s:I}]}",
	    "nodeId", ID, "nodeName", "rig-1", "uptime", 42,
	    "miners",
	    "name", "gpu0", "type", "xmrig", "state", "running",
	    "hashrate", "10s", 1234.5, "60s", "15m", 1000.0,
	    "shares", 7, "rejected", 0, "uptime", 40,
	    "pool", "pool.example:3333", "algorithm",
	    "readAt", (json_int_t)1700000000000LL);
	ATF_REQUIRE(o != NULL);
	return (o);
}

static json_t *
miner0(json_t *stats)
{
	return (json_array_get(json_object_get(stats, "miners"), 0));
}

/* Check pl (stolen) for req: the answer, or NULL with why. */
static json_t *
check(enum msg_type req, json_t *pl, char *why, size_t whylen)
{
	json_t	*out;

	out = remote_check_answer(req, pl, why, whylen);
	json_decref(pl);
	return (out);
}

/* pl (stolen) must be refused for req, with a reason naming field. */
static void
refused(enum msg_type req, json_t *pl, const char *field)
{
	char	 why[REMOTE_WHY_MAX];
	json_t	*out;

	ATF_REQUIRE(pl != NULL);
	out = check(req, pl, why, sizeof(why));
	if (out != NULL) {
		char	*s = json_dumps(out, JSON_COMPACT);

		atf_tc_fail("accepted, want refused (%s): %s", field,
		    s != NULL ? s : "?");
	}
	ATF_CHECK_MSG(strstr(why, field) != NULL, "why \"%s\" does not "
	    "name %s", why, field);
}

ATF_TC_WITHOUT_HEAD(a_good_stats_answer_comes_out_the_same);
ATF_TC_BODY(a_good_stats_answer_comes_out_the_same, tc)
{
	json_t	*in = stats_good(), *out;
	char	 why[REMOTE_WHY_MAX];

	out = remote_check_answer(MSG_GET_STATS, in, why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK(json_equal(in, out));
	/* a copy: nothing shared with the message, which is freed */
	ATF_CHECK(json_object_get(out, "miners") !=
	    json_object_get(in, "miners"));
	json_decref(in);
	ATF_CHECK_STREQ(json_string_value(json_object_get(miner0(out),
	    "pool")), "pool.example:3333");
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(extra_keys_are_dropped_at_every_level);
ATF_TC_BODY(extra_keys_are_dropped_at_every_level, tc)
{
	json_t	*in = stats_good(), *out, *big, *deep;
	char	 why[REMOTE_WHY_MAX];
	size_t	 i;

	/* a large extra string, deep nesting, at each level */
	big = json_stringn("x", 1);
	for (deep = json_array(), i = 0; i < MSG_JSON_DEPTH - 4; i++)
		deep = json_pack("[o]", deep);
	ATF_REQUIRE(big != NULL && deep != NULL);
	ATF_REQUIRE(json_object_set_new(in, "junk", big) == 0);
	ATF_REQUIRE(json_object_set(in, "deep", deep) == 0);
	ATF_REQUIRE(json_object_set(miner0(in), "deep", deep) == 0);
	ATF_REQUIRE(json_object_set_new(miner0(in), "pid", json_integer(9))
	    == 0);
	ATF_REQUIRE(json_object_set(json_object_get(miner0(in),
	    "hashrate"), "1h", deep) == 0);
	json_decref(deep);
	out = check(MSG_GET_STATS, in, why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK_EQ(json_object_size(out), 4);
	ATF_CHECK(json_object_get(out, "junk") == NULL);
	ATF_CHECK(json_object_get(out, "deep") == NULL);
	ATF_CHECK_EQ(json_object_size(miner0(out)), 10);
	ATF_CHECK(json_object_get(miner0(out), "pid") == NULL);
	ATF_CHECK_EQ(json_object_size(json_object_get(miner0(out),
	    "hashrate")), 3);
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(missing_nullable_fields_come_out_null);
ATF_TC_BODY(missing_nullable_fields_come_out_null, tc)
{
	json_t	*in = stats_good(), *out, *m;
	char	 why[REMOTE_WHY_MAX];

	m = miner0(in);
	ATF_REQUIRE(json_object_del(m, "hashrate") == 0);
	ATF_REQUIRE(json_object_del(m, "pool") == 0);
	ATF_REQUIRE(json_object_del(m, "shares") == 0);
	out = check(MSG_GET_STATS, in, why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	m = miner0(out);
	ATF_CHECK(json_is_null(json_object_get(m, "pool")));
	ATF_CHECK(json_is_null(json_object_get(m, "shares")));
	ATF_CHECK(json_is_null(json_object_get(json_object_get(m,
	    "hashrate"), "10s")));
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(huge_strings_are_refused);
ATF_TC_BODY(huge_strings_are_refused, tc)
{
	json_t	*in;
	char	*s;
	size_t	 len = 1024 * 1024;

	ATF_REQUIRE((s = malloc(len + 1)) != NULL);
	memset(s, 'a', len);
	s[len] = '\0';

	in = stats_good();
	json_object_set_new(in, "nodeName", json_string(s));
	refused(MSG_GET_STATS, in, "nodeName");

	in = stats_good();
	memset(s, 'a', len);
	s[REMOTE_TEXT_MAX + 1] = '\0';
	json_object_set_new(miner0(in), "pool", json_string(s));
	refused(MSG_GET_STATS, in, "pool");

	in = stats_good();
	memset(s, 'a', len);
	s[MINER_NAME_MAX + 1] = '\0';
	json_object_set_new(miner0(in), "name", json_string(s));
	refused(MSG_GET_STATS, in, "name");

	in = stats_good();
	json_object_set_new(miner0(in), "type", json_stringn("a\0b", 3));
	refused(MSG_GET_STATS, in, "NUL");

	memset(s, 'a', len);
	s[REMOTE_LOG_LINE_MAX + 1] = '\0';
	refused(MSG_GET_LOGS, json_pack("{s:s, s:[s], s:b}", "minerName",
	    "gpu0", "lines", s, "hasMore", 0), "lines");

	memset(s, 'a', len);
	s[REMOTE_MESSAGE_MAX + 1] = '\0';
	refused(MSG_STOP_MINER, json_pack("{s:s, s:s, s:b, s:n, s:s}",
	    "minerName", "gpu0", "action", "stop", "ok", 1, "state",
	    "message", s), "message");
	free(s);
}

ATF_TC_WITHOUT_HEAD(a_string_at_its_bound_is_taken);
ATF_TC_BODY(a_string_at_its_bound_is_taken, tc)
{
	json_t	*in = stats_good(), *out;
	char	 s[REMOTE_TEXT_MAX + 1], why[REMOTE_WHY_MAX];

	memset(s, 'p', REMOTE_TEXT_MAX);
	s[REMOTE_TEXT_MAX] = '\0';
	json_object_set_new(miner0(in), "pool", json_string(s));
	out = check(MSG_GET_STATS, in, why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK_EQ(json_string_length(json_object_get(miner0(out), "pool")),
	    REMOTE_TEXT_MAX);
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(hashrates_must_be_finite_and_in_range);
ATF_TC_BODY(hashrates_must_be_finite_and_in_range, tc)
{
	json_t	*in, *out;
	char	 why[REMOTE_WHY_MAX];
	double	 total;

	/* over the bound, huge, negative, a string, an object */
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "10s",
	    json_real(REMOTE_HASHRATE_MAX * 2));
	refused(MSG_GET_STATS, in, "10s");
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "60s",
	    json_real(1e308));
	refused(MSG_GET_STATS, in, "60s");
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "15m",
	    json_integer(-1));
	refused(MSG_GET_STATS, in, "15m");
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "10s",
	    json_string("1e3"));
	refused(MSG_GET_STATS, in, "10s");
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "10s",
	    json_pack("{s:i}", "v", 1));
	refused(MSG_GET_STATS, in, "10s");
	in = stats_good();
	json_object_set_new(miner0(in), "hashrate", json_string("fast"));
	refused(MSG_GET_STATS, in, "hashrate");
	/* a huge integer (2^63 - 1) is a huge number */
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "10s",
	    json_integer(INT64_MAX));
	refused(MSG_GET_STATS, in, "10s");

	/* at the bound: taken, as a real */
	in = stats_good();
	json_object_set_new(json_object_get(miner0(in), "hashrate"), "10s",
	    json_integer((json_int_t)REMOTE_HASHRATE_MAX));
	out = check(MSG_GET_STATS, in, why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK(json_is_real(json_object_get(json_object_get(miner0(out),
	    "hashrate"), "10s")));
	json_decref(out);

	/* the largest fleet's total stays finite */
	total = REMOTE_HASHRATE_MAX * REMOTE_STATS_MINERS_MAX *
	    (double)PEERS_MAX;
	ATF_CHECK(isfinite(total));
	ATF_CHECK((out = json_real(total)) != NULL);
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(wrong_types_and_ranges_are_refused);
ATF_TC_BODY(wrong_types_and_ranges_are_refused, tc)
{
	json_t	*in;

	refused(MSG_GET_STATS, json_array(), "payload");
	refused(MSG_GET_STATS, json_string("stats"), "payload");
	in = stats_good();
	json_object_set_new(in, "miners", json_object());
	refused(MSG_GET_STATS, in, "miners");
	in = stats_good();
	json_object_del(in, "miners");
	refused(MSG_GET_STATS, in, "miners");
	in = stats_good();
	json_array_append_new(json_object_get(in, "miners"),
	    json_string("gpu1"));
	refused(MSG_GET_STATS, in, "miner");
	in = stats_good();
	json_object_set_new(miner0(in), "shares", json_string("7"));
	refused(MSG_GET_STATS, in, "shares");
	in = stats_good();
	json_object_set_new(miner0(in), "shares", json_real(7.5));
	refused(MSG_GET_STATS, in, "shares");
	in = stats_good();
	json_object_set_new(miner0(in), "rejected", json_integer(-3));
	refused(MSG_GET_STATS, in, "rejected");
	in = stats_good();
	json_object_set_new(in, "uptime", json_integer(INT64_MAX));
	refused(MSG_GET_STATS, in, "uptime");
	in = stats_good();
	json_object_set_new(in, "nodeName", json_integer(1));
	refused(MSG_GET_STATS, in, "nodeName");
	in = stats_good();
	json_object_del(miner0(in), "state");
	refused(MSG_GET_STATS, in, "state");
	/* deep nesting where a string is wanted */
	in = stats_good();
	json_object_set_new(miner0(in), "pool", json_pack("[[[[[[s]]]]]]",
	    "x"));
	refused(MSG_GET_STATS, in, "pool");

	refused(MSG_STOP_MINER, json_pack("{s:s, s:s, s:s, s:n, s:s}",
	    "minerName", "gpu0", "action", "stop", "ok", "true", "state",
	    "message", "stopped"), "ok");
	refused(MSG_GET_LOGS, json_pack("{s:s, s:[i], s:b}", "minerName",
	    "gpu0", "lines", 1, "hasMore", 0), "lines");
	refused(MSG_GET_LOGS, json_pack("{s:s, s:[]}", "minerName", "gpu0",
	    "lines"), "hasMore");
	refused(MSG_GET_PROFILES, json_pack("{s:{}, s:b}", "profiles",
	    "hasMore", 0), "profiles");
	/* an answer we never relay */
	refused(MSG_DEPLOY, json_object(), "payload");
}

ATF_TC_WITHOUT_HEAD(too_many_miners_lines_or_profiles_are_refused);
ATF_TC_BODY(too_many_miners_lines_or_profiles_are_refused, tc)
{
	json_t	*in, *arr, *m;
	size_t	 i;

	in = stats_good();
	arr = json_object_get(in, "miners");
	m = miner0(in);
	for (i = 0; i < REMOTE_STATS_MINERS_MAX; i++)
		ATF_REQUIRE(json_array_append(arr, m) == 0);
	refused(MSG_GET_STATS, in, "miners");

	ATF_REQUIRE((arr = json_array()) != NULL);
	for (i = 0; i <= REMOTE_LOG_LINES_MAX; i++)
		ATF_REQUIRE(json_array_append_new(arr, json_string("l")) ==
		    0);
	refused(MSG_GET_LOGS, json_pack("{s:s, s:o, s:b}", "minerName",
	    "gpu0", "lines", arr, "hasMore", 0), "lines");

	ATF_REQUIRE((arr = json_array()) != NULL);
	for (i = 0; i <= REMOTE_PROFILES_MAX; i++)
		ATF_REQUIRE(json_array_append_new(arr, json_object()) == 0);
	refused(MSG_GET_PROFILES, json_pack("{s:o, s:b}", "profiles", arr,
	    "hasMore", 0), "profiles");
}

ATF_TC_WITHOUT_HEAD(acks_logs_and_profiles_keep_their_fields_only);
ATF_TC_BODY(acks_logs_and_profiles_keep_their_fields_only, tc)
{
	json_t	*out, *pr;
	char	 why[REMOTE_WHY_MAX];

	out = check(MSG_START_MINER, json_pack("{s:s, s:s, s:b, s:s, s:s, "
	    "s:s}", "minerName", "gpu0", "action", "start", "ok", 1, "state",
	    "running", "message", "started, pid 9", "peer", "spoofed"), why,
	    sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK_EQ(json_object_size(out), 5);
	ATF_CHECK(json_object_get(out, "peer") == NULL);
	ATF_CHECK(json_is_true(json_object_get(out, "ok")));
	json_decref(out);

	out = check(MSG_GET_LOGS, json_pack("{s:s, s:[ss], s:b, s:i}",
	    "minerName", "gpu0", "lines", "one", "two", "hasMore", 1,
	    "total", 99), why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	ATF_CHECK_EQ(json_object_size(out), 3);
	ATF_CHECK_EQ(json_array_size(json_object_get(out, "lines")), 2);
	json_decref(out);

	pr = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:s, "
	    "s:[s], s:b, s:f, s:s, s:s}", "id", "p1", "type", "xmrig",
	    "binary", "xmrig", "pool", "pool:1", "user", "w", "pass",
	    "secret", "passSet", 1, "algo", "rx/0", "threads", 4, "devices",
	    "", "extra", "--x", "autostart", 0, "floor", 0.0, "regex", "",
	    "junk", "j");
	ATF_REQUIRE(pr != NULL);
	out = check(MSG_GET_PROFILES, json_pack("{s:[o], s:b}", "profiles",
	    pr, "hasMore", 0), why, sizeof(why));
	ATF_REQUIRE_MSG(out != NULL, "refused: %s", why);
	pr = json_array_get(json_object_get(out, "profiles"), 0);
	ATF_CHECK_EQ(json_object_size(pr), 13);
	ATF_CHECK(json_object_get(pr, "pass") == NULL);
	ATF_CHECK(json_object_get(pr, "junk") == NULL);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pr, "algo")),
	    "rx/0");
	json_decref(out);

	/* a pong is not relayed: select.c reads its location */
	out = check(MSG_PING, json_pack("{s:i, s:n}", "sentAt", 1,
	    "location"), why, sizeof(why));
	ATF_REQUIRE(out != NULL);
	ATF_CHECK_EQ(json_object_size(out), 0);
	json_decref(out);
}

ATF_TC_WITHOUT_HEAD(an_error_code_is_never_0_nor_out_of_range);
ATF_TC_BODY(an_error_code_is_never_0_nor_out_of_range, tc)
{
	static const struct {
		const char	*json;
		int		 code;
	} t[] = {
		{ "{\"code\": 1003, \"message\": \"m\"}", MSG_ERR_NOT_FOUND },
		{ "{\"code\": 1000}", MSG_ERR_INTERNAL },
		{ "{\"code\": 1005}", MSG_ERR_TIMEOUT },
		{ "{\"message\": \"no code\"}", MSG_ERR_INTERNAL },
		{ "{\"code\": null}", MSG_ERR_INTERNAL },
		{ "{\"code\": \"1002\"}", MSG_ERR_INTERNAL },
		{ "{\"code\": 1002.0}", MSG_ERR_INTERNAL },
		{ "{\"code\": 0}", MSG_ERR_INTERNAL },
		{ "{\"code\": -1}", MSG_ERR_INTERNAL },
		{ "{\"code\": 999}", MSG_ERR_INTERNAL },
		{ "{\"code\": 1006}", MSG_ERR_INTERNAL },
		{ "{\"code\": 4294967296}", MSG_ERR_INTERNAL },
		{ "{\"code\": 4294968299}", MSG_ERR_INTERNAL },	/* +1003 */
		{ "{\"code\": -4294966293}", MSG_ERR_INTERNAL },
		{ "{\"code\": 9223372036854775807}", MSG_ERR_INTERNAL },
		{ "{\"code\": {\"code\": 1003}}", MSG_ERR_INTERNAL },
		{ "[1003]", MSG_ERR_INTERNAL },
		{ "null", MSG_ERR_INTERNAL },
	};
	json_t		*pl;
	json_error_t	 e;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pl = json_loads(t[i].json, JSON_DECODE_ANY, &e);
		ATF_REQUIRE_MSG(pl != NULL, "%s: %s", t[i].json, e.text);
		ATF_CHECK_EQ_MSG(remote_check_code(pl), t[i].code, "%s",
		    t[i].json);
		json_decref(pl);
	}
	ATF_CHECK_EQ(remote_check_code(NULL), MSG_ERR_INTERNAL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, a_good_stats_answer_comes_out_the_same);
	ATF_TP_ADD_TC(tp, extra_keys_are_dropped_at_every_level);
	ATF_TP_ADD_TC(tp, missing_nullable_fields_come_out_null);
	ATF_TP_ADD_TC(tp, huge_strings_are_refused);
	ATF_TP_ADD_TC(tp, a_string_at_its_bound_is_taken);
	ATF_TP_ADD_TC(tp, hashrates_must_be_finite_and_in_range);
	ATF_TP_ADD_TC(tp, wrong_types_and_ranges_are_refused);
	ATF_TP_ADD_TC(tp, too_many_miners_lines_or_profiles_are_refused);
	ATF_TP_ADD_TC(tp, acks_logs_and_profiles_keep_their_fields_only);
	ATF_TP_ADD_TC(tp, an_error_code_is_never_0_nor_out_of_range);
	return (atf_no_error());
}
