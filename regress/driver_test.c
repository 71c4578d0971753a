/*
 * Unit tests of the miner drivers (miner/): the config files and
 * arguments they build from profiles, their parsers of API answers and
 * output lines, their profile checks; and the test miner answering the
 * xmrig and tt-miner drivers over real sockets.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <jansson.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

#define TOKEN		"0123456789abcdef0123456789abcdef"
#define PORT		45678
#define ERR_LEN		1024
#define ANSWER_MAX	(64 * 1024)
#define WAIT_TRIES	100		/* of 50 ms: the test miner's start */

/* XMRig's doc/api/2/summary.json, shortened where nothing is read. */
static const char summary[] =
    "{\"id\":\"51aca77da137cb62\",\"worker_id\":\"tpad\",\"uptime\":106,"
    "\"restricted\":false,\"resources\":{\"memory\":{\"free\":4977348608,"
    "\"total\":16659546112,\"resident_set_memory\":16441344},"
    "\"load_average\":[3.4,2.7,2.44],\"hardware_concurrency\":8},"
    "\"features\":[\"api\",\"asm\",\"http\",\"hwloc\",\"tls\"],"
    "\"results\":{\"diff_current\":37638,\"shares_good\":3,"
    "\"shares_total\":3,\"avg_time\":35,\"avg_time_ms\":35603,"
    "\"hashes_total\":165638,\"best\":[358821,344438,73371,0,0,0,0,0,0,0]},"
    "\"algo\":\"rx/0\",\"connection\":{\"pool\":\"some.pool:20064\","
    "\"ip\":\"127.1.2.3\",\"uptime\":106,\"uptime_ms\":106811,\"ping\":405,"
    "\"failures\":0,\"tls\":\"TLSv1.3\",\"tls-fingerprint\":null,"
    "\"algo\":\"rx/0\",\"diff\":37638,\"accepted\":3,\"rejected\":0,"
    "\"avg_time\":35,\"avg_time_ms\":35603,\"hashes_total\":165638},"
    "\"version\":\"6.17.1-dev\",\"kind\":\"miner\","
    "\"ua\":\"XMRig/6.17.1-dev (Linux x86_64) libuv/1.43.0 gcc/9.4.0\","
    "\"donate_level\":0,\"paused\":false,\"algorithms\":[\"rx/0\"],"
    "\"hashrate\":{\"total\":[1207.19,1210.82,null],\"highest\":1316.85},"
    "\"hugepages\":[6,6]}";

static void
sample_xmrig(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	strlcpy(p->id, "cpu", sizeof(p->id));
	strlcpy(p->type, "xmrig", sizeof(p->type));
	strlcpy(p->binary, "xmrig-6.21/xmrig", sizeof(p->binary));
	strlcpy(p->pool, "stratum+ssl://pool.example.org:443",
	    sizeof(p->pool));
	strlcpy(p->user, "48wallet", sizeof(p->user));
	strlcpy(p->pass, "s3cret-pass", sizeof(p->pass));
	strlcpy(p->algo, "rx/0", sizeof(p->algo));
	strlcpy(p->extra[0], "--test-zero", sizeof(p->extra[0]));
	p->nextra = 1;
}

static void
sample_tt(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	strlcpy(p->id, "gpu", sizeof(p->id));
	strlcpy(p->type, "tt-miner", sizeof(p->type));
	strlcpy(p->pool, "stratum+tcp://rvn.example.org:3333",
	    sizeof(p->pool));
	strlcpy(p->user, "RWallet.rig1", sizeof(p->user));
	strlcpy(p->pass, "x", sizeof(p->pass));
	strlcpy(p->algo, "KAWPOW", sizeof(p->algo));
	strlcpy(p->devices, "0,1", sizeof(p->devices));
}

static void
sample_generic(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	strlcpy(p->id, "any", sizeof(p->id));
	strlcpy(p->type, "generic", sizeof(p->type));
	strlcpy(p->binary, "cpuminer/cpuminer", sizeof(p->binary));
	strlcpy(p->regex, "hashrate: ([0-9.]+) ([A-Za-z/]+)",
	    sizeof(p->regex));
	strlcpy(p->extra[0], "-o", sizeof(p->extra[0]));
	strlcpy(p->extra[1], "pool:1", sizeof(p->extra[1]));
	p->nextra = 2;
}

static void
sample_run(struct miner_run *run)
{
	memset(run, 0, sizeof(*run));
	strlcpy(run->name, "rig-cpu", sizeof(run->name));
	run->api_port = PORT;
	strlcpy(run->api_token, TOKEN, sizeof(run->api_token));
}

/* No argument holds needle. */
static void
argv_lacks(char argv[][MINER_ARG_LEN], uint32_t argc, const char *needle)
{
	uint32_t	 i;

	for (i = 0; i < argc; i++)
		ATF_CHECK_MSG(strstr(argv[i], needle) == NULL,
		    "argv[%u] \"%s\" holds \"%s\"", i, argv[i], needle);
}

static int
has_field(const char *err, const char *field)
{
	char	 want[64];

	snprintf(want, sizeof(want), "%s: ", field);
	return (strstr(err, want) != NULL);
}

ATF_TC_WITHOUT_HEAD(drivers_are_found_by_name);
ATF_TC_BODY(drivers_are_found_by_name, tc)
{
	ATF_CHECK(driver_find("xmrig") == &driver_xmrig);
	ATF_CHECK(driver_find("tt-miner") == &driver_ttminer);
	ATF_CHECK(driver_find("generic") == &driver_generic);
	ATF_CHECK(driver_find("XMRig") == NULL);
	ATF_CHECK(driver_find("") == NULL);
	ATF_CHECK(driver_find(NULL) == NULL);
	ATF_CHECK_EQ(driver_xmrig.poll, POLL_HTTP);
	ATF_CHECK_STREQ(driver_xmrig.poll_request, "/2/summary");
	ATF_CHECK_EQ(driver_ttminer.poll, POLL_TCP_JSON);
	ATF_CHECK(strstr(driver_ttminer.poll_request, "miner_getstat1") !=
	    NULL);
	ATF_CHECK_EQ(driver_generic.poll, POLL_NONE);
}

ATF_TC_WITHOUT_HEAD(xmrig_config_holds_the_secrets_and_argv_none);
ATF_TC_BODY(xmrig_config_holds_the_secrets_and_argv_none, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	char			 name[MINER_CONFIG_NAME_MAX + 1], err[ERR_LEN];
	char			 argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	char			*buf;
	size_t			 len;
	uint32_t		 argc;
	json_t			*j, *http, *pool;
	json_error_t		 jerr;

	sample_xmrig(&p);
	sample_run(&run);
	ATF_REQUIRE_EQ(driver_check_profile(&p, err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(driver_xmrig.config(&p, &run, name, sizeof(name),
	    &buf, &len, err, sizeof(err)), 0);
	ATF_CHECK_STREQ(name, "config.json");
	ATF_REQUIRE(len > 0 && len <= MINER_CONFIG_MAX);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	ATF_REQUIRE_MSG(j != NULL, "%s", jerr.text);
	ATF_CHECK(json_is_false(json_object_get(j, "autosave")));
	ATF_CHECK(json_is_false(json_object_get(j, "colors")));
	ATF_CHECK(json_is_false(json_object_get(j, "background")));
	ATF_CHECK(json_is_false(json_object_get(j, "syslog")));
	ATF_CHECK(json_is_null(json_object_get(j, "log-file")));
	ATF_CHECK_EQ(json_integer_value(json_object_get(j, "donate-level")),
	    1);
	http = json_object_get(j, "http");
	ATF_CHECK(json_is_true(json_object_get(http, "enabled")));
	ATF_CHECK(json_is_true(json_object_get(http, "restricted")));
	ATF_CHECK_STREQ(json_string_value(json_object_get(http, "host")),
	    "127.0.0.1");
	ATF_CHECK_EQ(json_integer_value(json_object_get(http, "port")), PORT);
	ATF_CHECK_STREQ(json_string_value(json_object_get(http,
	    "access-token")), TOKEN);
	pool = json_array_get(json_object_get(j, "pools"), 0);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pool, "url")),
	    p.pool);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pool, "user")),
	    p.user);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pool, "pass")),
	    p.pass);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pool, "algo")),
	    "rx/0");
	ATF_CHECK(json_is_true(json_object_get(pool, "tls")));
	ATF_CHECK(json_object_get(json_object_get(j, "cpu"), "*") == NULL);
	json_decref(j);
	free(buf);

	ATF_REQUIRE_EQ(driver_xmrig.args(&p, &run, argv, &argc, err,
	    sizeof(err)), 0);
	ATF_REQUIRE_EQ(argc, 3);
	ATF_CHECK_STREQ(argv[0], "--config=config.json");
	ATF_CHECK_STREQ(argv[1], "--no-color");
	ATF_CHECK_STREQ(argv[2], "--test-zero");
	argv_lacks(argv, argc, TOKEN);
	argv_lacks(argv, argc, p.pass);
	argv_lacks(argv, argc, p.user);
}

ATF_TC_WITHOUT_HEAD(xmrig_threads_become_a_star_profile);
ATF_TC_BODY(xmrig_threads_become_a_star_profile, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	char			 name[MINER_CONFIG_NAME_MAX + 1], err[ERR_LEN];
	char			*buf;
	size_t			 len;
	json_t			*j, *star;

	sample_xmrig(&p);
	sample_run(&run);
	p.threads = 6;
	p.algo[0] = '\0';
	strlcpy(p.pool, "pool.example.org:3333", sizeof(p.pool));
	ATF_REQUIRE_EQ(driver_xmrig.config(&p, &run, name, sizeof(name),
	    &buf, &len, err, sizeof(err)), 0);
	ATF_REQUIRE((j = json_loadb(buf, len, 0, NULL)) != NULL);
	star = json_object_get(json_object_get(j, "cpu"), "*");
	ATF_CHECK_EQ(json_integer_value(json_object_get(star, "threads")), 6);
	ATF_CHECK_EQ(json_integer_value(json_object_get(star, "affinity")),
	    -1);
	ATF_CHECK(json_is_null(json_object_get(json_array_get(
	    json_object_get(j, "pools"), 0), "algo")));
	ATF_CHECK(json_is_false(json_object_get(json_array_get(
	    json_object_get(j, "pools"), 0), "tls")));
	json_decref(j);
	free(buf);
}

ATF_TC_WITHOUT_HEAD(xmrig_auth_header_carries_the_token);
ATF_TC_BODY(xmrig_auth_header_carries_the_token, tc)
{
	struct miner_run	 run;
	char			 h[128];

	sample_run(&run);
	ATF_REQUIRE_EQ(driver_xmrig.auth_header(&run, h, sizeof(h)), 0);
	ATF_CHECK_STREQ(h, "Authorization: Bearer " TOKEN);
	ATF_CHECK_EQ(driver_xmrig.auth_header(&run, h, 10), -1);
	ATF_CHECK(driver_ttminer.auth_header == NULL);
}

ATF_TC_WITHOUT_HEAD(xmrig_reads_its_documented_summary);
ATF_TC_BODY(xmrig_reads_its_documented_summary, tc)
{
	struct miner_stats	 st;
	char			 err[ERR_LEN];

	ATF_REQUIRE_EQ(driver_xmrig.parse_stats(summary, strlen(summary),
	    &st, err, sizeof(err)), 0);
	ATF_CHECK(fabs(st.hr10s - 1207.19) < 1e-9);
	ATF_CHECK(fabs(st.hr60s - 1210.82) < 1e-9);
	ATF_CHECK(st.hr15m < 0);
	ATF_CHECK_EQ(st.shares, 3);
	ATF_CHECK_EQ(st.rejected, 0);
	ATF_CHECK_EQ(st.uptime, 106);
	ATF_CHECK_STREQ(st.pool, "some.pool:20064");
	ATF_CHECK_STREQ(st.algo, "rx/0");
}

ATF_TC_WITHOUT_HEAD(xmrig_nulls_early_on_are_unknown_rates);
ATF_TC_BODY(xmrig_nulls_early_on_are_unknown_rates, tc)
{
	static const char	 early[] = "{\"uptime\":0,\"algo\":null,"
	    "\"results\":{\"shares_good\":0,\"shares_total\":2},"
	    "\"hashrate\":{\"total\":[null,null,null],\"highest\":null}}";
	struct miner_stats	 st;
	char			 err[ERR_LEN];

	ATF_REQUIRE_EQ(driver_xmrig.parse_stats(early, strlen(early), &st,
	    err, sizeof(err)), 0);
	ATF_CHECK(st.hr10s < 0 && st.hr60s < 0 && st.hr15m < 0);
	ATF_CHECK_EQ(st.shares, 0);
	ATF_CHECK_EQ(st.rejected, 2);
	ATF_CHECK_STREQ(st.algo, "");
}

ATF_TC_WITHOUT_HEAD(xmrig_refuses_nonsense_answers);
ATF_TC_BODY(xmrig_refuses_nonsense_answers, tc)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[1,2,3]",
		"{\"hashrate\":{}}",
		"{\"hashrate\":{\"total\":[1,2]}}",
		"{\"hashrate\":{\"total\":[1,2,3]},\"uptime\":1,\"uptime\":2}",
		"{\"hashrate\":{\"total\":[1,2,3]},"
		    "\"results\":{\"shares_good\":5,\"shares_total\":4}}",
		"{\"hashrate\":{\"total\":[1,2,3]},"
		    "\"results\":{\"shares_good\":-1}}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],"
		    "\"hashrate\":{\"total\":[1,2,3]}}",
	};
	struct miner_stats	 st;
	char			 err[ERR_LEN], *big;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ATF_CHECK_EQ_MSG(driver_xmrig.parse_stats(bad[i],
		    strlen(bad[i]), &st, err, sizeof(err)), -1, "%s", bad[i]);
		ATF_CHECK_MSG(err[0] != '\0', "no reason for %s", bad[i]);
		ATF_CHECK(st.hr10s < 0 && st.hr60s < 0 && st.hr15m < 0);
	}

	/* over the body bound, even when well formed */
	big = malloc(MINER_POLL_BODY_MAX + 64);
	ATF_REQUIRE(big != NULL);
	memset(big, ' ', MINER_POLL_BODY_MAX + 64);
	memcpy(big, summary, strlen(summary));
	ATF_CHECK_EQ(driver_xmrig.parse_stats(big, MINER_POLL_BODY_MAX + 64,
	    &st, err, sizeof(err)), -1);
	free(big);
}

ATF_TC_WITHOUT_HEAD(xmrig_negative_rates_are_unknown);
ATF_TC_BODY(xmrig_negative_rates_are_unknown, tc)
{
	static const char	 neg[] = "{\"hashrate\":{\"total\":"
	    "[-5.0,\"fast\",1e300]}}";
	struct miner_stats	 st;
	char			 err[ERR_LEN];

	ATF_REQUIRE_EQ(driver_xmrig.parse_stats(neg, strlen(neg), &st, err,
	    sizeof(err)), 0);
	ATF_CHECK(st.hr10s < 0);
	ATF_CHECK(st.hr60s < 0);
	ATF_CHECK(st.hr15m < 0);
}

ATF_TC_WITHOUT_HEAD(xmrig_reads_its_speed_lines);
ATF_TC_BODY(xmrig_reads_its_speed_lines, tc)
{
	const struct profile	*none = NULL;
	struct miner_stats	 st;

	driver_stats_init(&st);
	ATF_REQUIRE_EQ(driver_xmrig.parse_line(none,
	    "[2026-11-27 17:00:00.123]  miner    speed 10s/60s/15m 1234.5 "
	    "1230.1 n/a H/s max 1240.0 H/s\n", &st), 1);
	ATF_CHECK(fabs(st.hr10s - 1234.5) < 1e-9);
	ATF_CHECK(fabs(st.hr60s - 1230.1) < 1e-9);
	ATF_CHECK(st.hr15m < 0);
	ATF_CHECK_EQ(driver_xmrig.parse_line(none,
	    "[2026-11-27 17:00:00.123]  cpu      accepted (1/0) diff 1000 "
	    "(12 ms)", &st), 0);
	ATF_CHECK_EQ(driver_xmrig.parse_line(none,
	    "miner speed 10s/60s/15m n/a n/a n/a H/s", &st), 0);
	ATF_CHECK_EQ(driver_xmrig.parse_line(none,
	    "miner speed 10s/60s/15m 1e3 nan inf H/s", &st), 0);
	ATF_CHECK_EQ(driver_xmrig.parse_line(none,
	    "miner speed 10s/60s/15m 1.5 1.5 1.5 kH/s", &st), 1);
	ATF_CHECK(fabs(st.hr15m - 1500) < 1e-9);
}

ATF_TC_WITHOUT_HEAD(ttminer_args_bind_its_api_to_loopback);
ATF_TC_BODY(ttminer_args_bind_its_api_to_loopback, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	char			 name[MINER_CONFIG_NAME_MAX + 1], err[ERR_LEN];
	char			 argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	char			*buf = (char *)1;
	size_t			 len = 1;
	uint32_t		 argc, i;
	int			 seen_b = 0;

	sample_tt(&p);
	sample_run(&run);
	ATF_REQUIRE_EQ(driver_check_profile(&p, err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(driver_ttminer.config(&p, &run, name, sizeof(name),
	    &buf, &len, err, sizeof(err)), 0);
	ATF_CHECK_STREQ(name, "");
	ATF_CHECK(buf == NULL && len == 0);
	ATF_REQUIRE_EQ(driver_ttminer.args(&p, &run, argv, &argc, err,
	    sizeof(err)), 0);
	for (i = 0; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-b") == 0) {
			ATF_CHECK_STREQ(argv[i + 1], "127.0.0.1:45678");
			seen_b = 1;
		}
		if (strcmp(argv[i], "-a") == 0)
			ATF_CHECK_STREQ(argv[i + 1], "KAWPOW");
		if (strcmp(argv[i], "-d") == 0)
			ATF_CHECK_STREQ(argv[i + 1], "0,1");
	}
	ATF_CHECK(seen_b);
	argv_lacks(argv, argc, TOKEN);
	ATF_CHECK_STREQ(driver_binary(&p), "TT-Miner");
}

ATF_TC_WITHOUT_HEAD(ttminer_refuses_a_password_on_its_command_line);
ATF_TC_BODY(ttminer_refuses_a_password_on_its_command_line, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	char			 err[ERR_LEN];
	char			 argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	uint32_t		 argc;

	sample_tt(&p);
	sample_run(&run);
	strlcpy(p.pass, "hunter2", sizeof(p.pass));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK_MSG(has_field(err, "pass"), "%s", err);
	ATF_CHECK(strstr(err, "command line") != NULL);
	ATF_CHECK_EQ(driver_ttminer.args(&p, &run, argv, &argc, err,
	    sizeof(err)), -1);
	argv_lacks(argv, argc, "hunter2");
}

ATF_TC_WITHOUT_HEAD(ttminer_reads_getstat1_answers);
ATF_TC_BODY(ttminer_reads_getstat1_answers, tc)
{
	static const char	 ans[] = "{\"id\":0,\"result\":["
	    "\"TT-Miner/2024.1.6\",\"42\",\"31415926;120;3\","
	    "\"15000000;16415926\",\"0;0;0\",\"off\",\"60;50;61;55\","
	    "\"rvn.example.org:3333;backup:3333\",\"0;0;0;0\"],"
	    "\"error\":null}\n";
	struct miner_stats	 st;
	char			 err[ERR_LEN];

	ATF_REQUIRE_EQ_MSG(driver_ttminer.parse_stats(ans, strlen(ans), &st,
	    err, sizeof(err)), 0, "%s", err);
	ATF_CHECK(fabs(st.hr60s - 31415926) < 1e-6);
	ATF_CHECK(st.hr10s < 0 && st.hr15m < 0);
	ATF_CHECK_EQ(st.shares, 120);
	ATF_CHECK_EQ(st.rejected, 3);
	ATF_CHECK_EQ(st.uptime, 42 * 60);
	ATF_CHECK_STREQ(st.pool, "rvn.example.org:3333");
}

ATF_TC_WITHOUT_HEAD(ttminer_refuses_nonsense_answers);
ATF_TC_BODY(ttminer_refuses_nonsense_answers, tc)
{
	static const char *const bad[] = {
		"",
		"{\"id\":0,\"result\":null,\"error\":\"no\"}",
		"{\"id\":0,\"result\":[\"v\",\"1\"],\"error\":null}",
		"{\"result\":[\"v\",\"1\",\"100;1;0\"],\"error\":\"x\"}",
		"{\"result\":[\"v\",1,\"100;1;0\"]}",
		"{\"result\":[\"v\",\"-1\",\"100;1;0\"]}",
		"{\"result\":[\"v\",\"1\",\"-100;1;0\"]}",
		"{\"result\":[\"v\",\"1\",\"nan;1;0\"]}",
		"{\"result\":[\"v\",\"1\",\"inf;1;0\"]}",
		"{\"result\":[\"v\",\"1\",\"1e5;1;0\"]}",
		"{\"result\":[\"v\",\"1\",\"100;1\"]}",
		"{\"result\":[\"v\",\"1\",\"100;x;0\"]}",
		"{\"result\":[\"v\",\"1\",\"100;1;0\"],\"result\":[]}",
	};
	struct miner_stats	 st;
	char			 err[ERR_LEN];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ATF_CHECK_EQ_MSG(driver_ttminer.parse_stats(bad[i],
		    strlen(bad[i]), &st, err, sizeof(err)), -1, "%s", bad[i]);
		ATF_CHECK_MSG(err[0] != '\0', "no reason for %s", bad[i]);
	}
}

ATF_TC_WITHOUT_HEAD(generic_reads_rates_in_every_unit);
ATF_TC_BODY(generic_reads_rates_in_every_unit, tc)
{
	static const struct {
		const char	*line;
		double		 rate;	/* < 0: no rate */
	} cases[] = {
		{ "hashrate: 12.5 H/s", 12.5 },
		{ "hashrate: 12.5 h/s", 12.5 },
		{ "hashrate: 1.5 kH/s", 1500 },
		{ "hashrate: 1.5 KH/s", 1500 },
		{ "hashrate: 2 MH/s", 2e6 },
		{ "hashrate: 3 GH/s", 3e9 },
		{ "hashrate: 4 th/s", 4e12 },
		{ "hashrate: 4 kH", 4000 },
		{ "hashrate: 4 Sol/s", -1 },
		{ "hashrate: 4 PH/s", -1 },
		{ "hashrate: .5 H/s", -1 },
		{ "hashrate: 1..5 H/s", -1 },
		{ "nothing here", -1 },
	};
	struct profile		 p;
	struct miner_stats	 st;
	size_t			 i;
	int			 r;

	sample_generic(&p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		driver_stats_init(&st);
		r = driver_generic.parse_line(&p, cases[i].line, &st);
		if (cases[i].rate < 0) {
			ATF_CHECK_EQ_MSG(r, 0, "%s", cases[i].line);
			ATF_CHECK(st.hr10s < 0);
		} else {
			ATF_CHECK_EQ_MSG(r, 1, "%s", cases[i].line);
			ATF_CHECK_MSG(fabs(st.hr10s - cases[i].rate) < 1e-6,
			    "%s: %g", cases[i].line, st.hr10s);
			ATF_CHECK(st.hr60s == st.hr10s);
		}
	}
}

ATF_TC_WITHOUT_HEAD(generic_keeps_working_past_its_regex_cache);
ATF_TC_BODY(generic_keeps_working_past_its_regex_cache, tc)
{
	struct profile		 p;
	struct miner_stats	 st;
	char			 line[64];
	int			 i;

	sample_generic(&p);
	for (i = 0; i < 3 * MINER_SLOTS_MAX; i++) {
		snprintf(p.regex, sizeof(p.regex),
		    "r%d ([0-9]+) ([a-zA-Z/]+)", i);
		snprintf(line, sizeof(line), "r%d %d H/s", i, i + 1);
		ATF_CHECK_EQ(driver_generic.parse_line(&p, line, &st), 1);
		ATF_CHECK_EQ(st.hr10s, i + 1);
		/* the first one again, evicted or not */
		sample_generic(&p);
		ATF_CHECK_EQ(driver_generic.parse_line(&p,
		    "hashrate: 7 H/s", &st), 1);
	}
	/* a regex that never compiles gives no rate, every time */
	strlcpy(p.regex, "(", sizeof(p.regex));
	ATF_CHECK_EQ(driver_generic.parse_line(&p, "(", &st), 0);
	ATF_CHECK_EQ(driver_generic.parse_line(&p, "(", &st), 0);
}

ATF_TC_WITHOUT_HEAD(generic_lines_are_cut_at_the_line_limit);
ATF_TC_BODY(generic_lines_are_cut_at_the_line_limit, tc)
{
	struct profile		 p;
	struct miner_stats	 st;
	char			 line[MINER_LINE_MAX * 2];

	sample_generic(&p);
	memset(line, 'a', sizeof(line));
	strlcpy(line + MINER_LINE_MAX + 10, "hashrate: 5 H/s",
	    sizeof(line) - MINER_LINE_MAX - 10);
	ATF_CHECK_EQ(driver_generic.parse_line(&p, line, &st), 0);
	memcpy(line + MINER_LINE_MAX - 15, "hashrate: 5 H/s", 15);
	ATF_CHECK_EQ(driver_generic.parse_line(&p, line, &st), 1);
}

ATF_TC_WITHOUT_HEAD(generic_runs_its_extra_arguments_without_api);
ATF_TC_BODY(generic_runs_its_extra_arguments_without_api, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	struct miner_stats	 st;
	char			 name[MINER_CONFIG_NAME_MAX + 1], err[ERR_LEN];
	char			 argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	char			*buf;
	size_t			 len;
	uint32_t		 argc;

	sample_generic(&p);
	memset(&run, 0, sizeof(run));
	ATF_REQUIRE_EQ(driver_check_profile(&p, err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(driver_generic.args(&p, &run, argv, &argc, err,
	    sizeof(err)), 0);
	ATF_REQUIRE_EQ(argc, 2);
	ATF_CHECK_STREQ(argv[0], "-o");
	ATF_CHECK_STREQ(argv[1], "pool:1");
	ATF_REQUIRE_EQ(driver_generic.config(&p, &run, name, sizeof(name),
	    &buf, &len, err, sizeof(err)), 0);
	ATF_CHECK_STREQ(name, "");
	ATF_CHECK_EQ(driver_generic.parse_stats("{}", 2, &st, err,
	    sizeof(err)), -1);
}

ATF_TC_WITHOUT_HEAD(bad_profiles_name_each_bad_field);
ATF_TC_BODY(bad_profiles_name_each_bad_field, tc)
{
	struct profile	 p;
	char		 err[ERR_LEN];

	sample_xmrig(&p);
	strlcpy(p.pool, "http://pool.example.org:80", sizeof(p.pool));
	p.user[0] = '\0';
	p.threads = 1025;
	strlcpy(p.algo, "rx 0", sizeof(p.algo));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK_MSG(has_field(err, "pool"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "user"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "threads"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "algo"), "%s", err);
	ATF_CHECK_MSG(strstr(err, "; ") != NULL, "%s", err);

	sample_xmrig(&p);
	p.threads = -1;
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK(has_field(err, "threads"));
	p.threads = 1024;
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), 0);

	sample_tt(&p);
	p.algo[0] = '\0';
	p.pool[0] = '\0';
	p.threads = 2;
	strlcpy(p.devices, "0;1", sizeof(p.devices));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK_MSG(has_field(err, "algo"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "pool"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "threads"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "devices"), "%s", err);

	sample_generic(&p);
	p.binary[0] = '\0';
	strlcpy(p.regex, "([0-9]+) H/s", sizeof(p.regex));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK_MSG(has_field(err, "binary"), "%s", err);
	ATF_CHECK_MSG(has_field(err, "regex"), "%s", err);
	strlcpy(p.binary, "m", sizeof(p.binary));
	strlcpy(p.regex, "([0-9]+ (H/s)", sizeof(p.regex));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK(has_field(err, "regex"));
	strlcpy(p.regex, "(a)\\1 ([0-9]+) (H/s)", sizeof(p.regex));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK_MSG(strstr(err, "backreference") != NULL, "%s", err);
	p.regex[0] = '\0';
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK(has_field(err, "regex"));

	sample_generic(&p);
	strlcpy(p.extra[2], "bad\tone", sizeof(p.extra[2]));
	p.nextra = 3;
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK(has_field(err, "extra"));

	sample_generic(&p);
	strlcpy(p.type, "cgminer", sizeof(p.type));
	ATF_CHECK_EQ(driver_check_profile(&p, err, sizeof(err)), -1);
	ATF_CHECK(has_field(err, "type"));
}

ATF_TC_WITHOUT_HEAD(binary_paths_stay_beneath_the_miners_directory);
ATF_TC_BODY(binary_paths_stay_beneath_the_miners_directory, tc)
{
	static const char *const bad[] = {
		"", "/usr/bin/xmrig", "../xmrig", "a/../../b", "a//b", "a/",
		"./xmrig", "a/./b", "x mrig", "x;rm", "x\n",
	};
	static const char *const good[] = {
		"xmrig", "xmrig-6.21.0/xmrig", "tt/TT-Miner", "a.b_c+d",
		"..x", "x..",
	};
	char	 why[128];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ATF_CHECK_EQ_MSG(driver_binary_valid(bad[i], why, sizeof(why)),
		    -1, "%s", bad[i]);
		ATF_CHECK(why[0] != '\0');
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_EQ_MSG(driver_binary_valid(good[i], why,
		    sizeof(why)), 0, "%s: %s", good[i], why);
}

ATF_TC_WITHOUT_HEAD(pools_are_stratum_urls_or_host_port);
ATF_TC_BODY(pools_are_stratum_urls_or_host_port, tc)
{
	static const char *const good[] = {
		"pool.example.org:3333", "stratum+tcp://pool.example.org:1",
		"stratum+ssl://10.0.0.1:65535", "[2001:db8::1]:3333",
		"stratum+tcp://[::1]:4444",
	};
	static const char *const bad[] = {
		"", "pool.example.org", "pool.example.org:0",
		"pool.example.org:65536", "http://pool:80", "stratum://p:1",
		"pool..example:1", "pool example:1", ":3333", "p:33a3",
		"[2001:db8::1]", "[zz]:1",
	};
	char	 why[128];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_EQ_MSG(driver_pool_valid(good[i], why, sizeof(why)),
		    0, "%s: %s", good[i], why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_EQ_MSG(driver_pool_valid(bad[i], why, sizeof(why)),
		    -1, "%s", bad[i]);
}

/* --- the test miner, over real sockets ------------------------------ */

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	ATF_REQUIRE((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Send req to 127.0.0.1:port, read the whole answer (NUL ended). */
static ssize_t
ask(int port, const char *req, char *buf, size_t len)
{
	struct sockaddr_in	 sin;
	size_t			 have = 0;
	ssize_t			 n;
	int			 fd, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < WAIT_TRIES; i++) {
		ATF_REQUIRE((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		close(fd);
		fd = -1;
		usleep(50000);
	}
	ATF_REQUIRE_MSG(fd != -1, "the test miner never listened");
	ATF_REQUIRE(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	while (have < len - 1 && (n = read(fd, buf + have,
	    len - 1 - have)) > 0)
		have += n;
	buf[have] = '\0';
	close(fd);
	return (have);
}

static pid_t
run_testminer(char *const argv[])
{
	pid_t	 pid;
	int	 null;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		execv(TESTMINER, argv);
		_exit(127);
	}
	return (pid);
}

static void
stop_testminer(pid_t pid)
{
	int	 status;

	kill(pid, SIGTERM);
	ATF_CHECK(waitpid(pid, &status, 0) == pid);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

ATF_TC_WITHOUT_HEAD(testminer_serves_xmrig_summaries_to_its_token_only);
ATF_TC_BODY(testminer_serves_xmrig_summaries_to_its_token_only, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	struct miner_stats	 st;
	char			 name[MINER_CONFIG_NAME_MAX + 1], err[ERR_LEN];
	char			 req[512], auth[128], *ans, *buf, *body;
	char			 cfg[] = "config.json";
	char			*argv[] = { "testminer", "--config=config.json",
				    "--no-color", NULL };
	size_t			 len;
	pid_t			 pid;
	FILE			*f;

	sample_xmrig(&p);
	sample_run(&run);
	run.api_port = free_port();
	ATF_REQUIRE_EQ(driver_xmrig.config(&p, &run, name, sizeof(name),
	    &buf, &len, err, sizeof(err)), 0);
	ATF_REQUIRE((f = fopen(cfg, "w")) != NULL);
	ATF_REQUIRE(fwrite(buf, 1, len, f) == len);
	fclose(f);
	free(buf);
	pid = run_testminer(argv);
	ATF_REQUIRE((ans = malloc(ANSWER_MAX)) != NULL);

	ask(run.api_port, "GET /2/summary HTTP/1.1\r\nHost: x\r\n\r\n", ans,
	    ANSWER_MAX);
	ATF_CHECK_MSG(strncmp(ans, "HTTP/1.1 401 ", 13) == 0, "%s", ans);
	ask(run.api_port, "GET /2/summary HTTP/1.1\r\nAuthorization: Bearer "
	    "nope\r\n\r\n", ans, ANSWER_MAX);
	ATF_CHECK(strncmp(ans, "HTTP/1.1 401 ", 13) == 0);

	sleep(2);	/* past the first second, when rates are null */
	ATF_REQUIRE_EQ(driver_xmrig.auth_header(&run, auth, sizeof(auth)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "%s\r\nConnection: close\r\n\r\n", driver_xmrig.poll_request,
	    auth);
	ask(run.api_port, req, ans, ANSWER_MAX);
	ATF_REQUIRE_MSG(strncmp(ans, "HTTP/1.1 200 ", 13) == 0, "%s", ans);
	ATF_REQUIRE((body = strstr(ans, "\r\n\r\n")) != NULL);
	body += 4;
	ATF_REQUIRE_EQ_MSG(driver_xmrig.parse_stats(body, strlen(body), &st,
	    err, sizeof(err)), 0, "%s", err);
	ATF_CHECK(st.hr10s >= 1000 && st.hr10s <= 1001.5);
	ATF_CHECK_EQ(st.hr60s, 1000);
	ATF_CHECK(st.hr15m < 0);
	ATF_CHECK_STREQ(st.pool, "pool.example.org:443");
	ATF_CHECK_STREQ(st.algo, "rx/0");
	ATF_CHECK(st.uptime >= 2);
	free(ans);
	stop_testminer(pid);
}

ATF_TC_WITHOUT_HEAD(testminer_answers_getstat1_like_ttminer);
ATF_TC_BODY(testminer_answers_getstat1_like_ttminer, tc)
{
	struct profile		 p;
	struct miner_run	 run;
	struct miner_stats	 st;
	char			 err[ERR_LEN], ans[4096];
	char			 argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	char			*av[MINER_ARGS_MAX + 2];
	uint32_t		 argc, i;
	pid_t			 pid;

	sample_tt(&p);
	sample_run(&run);
	run.api_port = free_port();
	ATF_REQUIRE_EQ(driver_ttminer.args(&p, &run, argv, &argc, err,
	    sizeof(err)), 0);
	av[0] = "testminer";
	for (i = 0; i < argc; i++)
		av[i + 1] = argv[i];
	av[argc + 1] = NULL;
	pid = run_testminer(av);
	sleep(2);
	ask(run.api_port, driver_ttminer.poll_request, ans, sizeof(ans));
	ATF_REQUIRE_EQ_MSG(driver_ttminer.parse_stats(ans, strlen(ans), &st,
	    err, sizeof(err)), 0, "%s: %s", err, ans);
	ATF_CHECK_EQ(st.hr60s, 1000);
	ATF_CHECK_STREQ(st.pool, p.pool);
	stop_testminer(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, drivers_are_found_by_name);
	ATF_TP_ADD_TC(tp, xmrig_config_holds_the_secrets_and_argv_none);
	ATF_TP_ADD_TC(tp, xmrig_threads_become_a_star_profile);
	ATF_TP_ADD_TC(tp, xmrig_auth_header_carries_the_token);
	ATF_TP_ADD_TC(tp, xmrig_reads_its_documented_summary);
	ATF_TP_ADD_TC(tp, xmrig_nulls_early_on_are_unknown_rates);
	ATF_TP_ADD_TC(tp, xmrig_refuses_nonsense_answers);
	ATF_TP_ADD_TC(tp, xmrig_negative_rates_are_unknown);
	ATF_TP_ADD_TC(tp, xmrig_reads_its_speed_lines);
	ATF_TP_ADD_TC(tp, ttminer_args_bind_its_api_to_loopback);
	ATF_TP_ADD_TC(tp, ttminer_refuses_a_password_on_its_command_line);
	ATF_TP_ADD_TC(tp, ttminer_reads_getstat1_answers);
	ATF_TP_ADD_TC(tp, ttminer_refuses_nonsense_answers);
	ATF_TP_ADD_TC(tp, generic_reads_rates_in_every_unit);
	ATF_TP_ADD_TC(tp, generic_keeps_working_past_its_regex_cache);
	ATF_TP_ADD_TC(tp, generic_lines_are_cut_at_the_line_limit);
	ATF_TP_ADD_TC(tp, generic_runs_its_extra_arguments_without_api);
	ATF_TP_ADD_TC(tp, bad_profiles_name_each_bad_field);
	ATF_TP_ADD_TC(tp, binary_paths_stay_beneath_the_miners_directory);
	ATF_TP_ADD_TC(tp, pools_are_stratum_urls_or_host_port);
	ATF_TP_ADD_TC(tp, testminer_serves_xmrig_summaries_to_its_token_only);
	ATF_TP_ADD_TC(tp, testminer_answers_getstat1_like_ttminer);
	return (atf_no_error());
}
