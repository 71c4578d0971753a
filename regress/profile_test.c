/*
 * Unit tests of the profiles (minerd/profile.c): every field checked
 * and every bad one named, the password kept out of the API's JSON
 * unless asked for, profiles.json written atomically (0600) and read
 * back strictly, bad files refused and never overwritten, and a write
 * that fails (a file size limit, a full tmpfs) undoing the change.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "../minerd/profile.h"

#define STATE		"state"
#define ERRLEN		PROFILE_ERR_MAX

/* A good xmrig profile, as a REST body would carry it. */
#define GOOD_XMRIG							\
	"{\"id\": \"xmr-main\", \"type\": \"xmrig\", "			\
	"\"binary\": \"xmrig/xmrig\", "					\
	"\"pool\": \"stratum+tcp://pool.example.com:3333\", "		\
	"\"user\": \"4Awallet.rig01\", \"pass\": \"s3cret pass\", "	\
	"\"algo\": \"rx/0\", \"threads\": 8, \"devices\": \"0,1,2\", "	\
	"\"extra\": [\"--huge-pages\", \"--cpu-priority=2\"], "		\
	"\"autostart\": true, \"floor\": 1500.5, \"regex\": \"\"}"

static void
test_init(void)
{
	log_init(1, LOG_DAEMON);
	profile_clear();
}

static int
state_dir(void)
{
	int	 fd;

	if (mkdir(STATE, 0700) == -1 && errno != EEXIST)
		atf_tc_fail("mkdir: %s", strerror(errno));
	if ((fd = open(STATE, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		atf_tc_fail("open: %s", strerror(errno));
	return (fd);
}

static json_t *
parse(const char *text)
{
	json_error_t	 jerr;
	json_t		*j;

	if ((j = json_loads(text, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr)) == NULL)
		atf_tc_fail("test JSON: %s", jerr.text);
	return (j);
}

/* The good profile with key set to the JSON value v ("null": removed). */
static json_t *
good_with(const char *key, const char *v)
{
	json_t	*o = parse(GOOD_XMRIG);

	if (strcmp(v, "null") == 0)
		(void)json_object_del(o, key);
	else
		ATF_REQUIRE_EQ(json_object_set_new(o, key, parse(v)), 0);
	return (o);
}

/* from_json refuses o, and the message names field with words. */
static void
refused(json_t *o, const char *field, const char *words)
{
	struct profile	 p;
	char		 err[ERRLEN], want[64];

	ATF_CHECK_EQ_MSG(profile_from_json(o, &p, err, sizeof(err)), -1,
	    "%s accepted", field);
	(void)snprintf(want, sizeof(want), "%s: ", field);
	ATF_CHECK_MSG(strstr(err, want) != NULL, "no \"%s\" in \"%s\"", want,
	    err);
	ATF_CHECK_MSG(strstr(err, words) != NULL, "no \"%s\" in \"%s\"",
	    words, err);
	json_decref(o);
}

static void
accepted(json_t *o)
{
	struct profile	 p;
	char		 err[ERRLEN];

	err[0] = '\0';
	ATF_CHECK_EQ_MSG(profile_from_json(o, &p, err, sizeof(err)), 0,
	    "refused: %s", err);
	json_decref(o);
}

static void
put_good(const char *id)
{
	struct profile	 p;
	json_t		*o = good_with("id", "\"x\"");
	char		 err[ERRLEN];

	ATF_REQUIRE_EQ(json_object_set_new(o, "id", json_string(id)), 0);
	ATF_REQUIRE_EQ_MSG(profile_from_json(o, &p, err, sizeof(err)), 0,
	    "%s", err);
	ATF_REQUIRE_EQ(profile_put(&p, err, sizeof(err)), 0);
	json_decref(o);
}

static char *
read_profiles(int dirfd)
{
	char	*buf;
	size_t	 len;

	if (read_file_bounded(dirfd, PROFILES_FILE, PROFILES_FILE_MAX, &buf,
	    &len) == -1)
		return (NULL);
	return (buf);
}

static void
write_profiles(int dirfd, const char *text)
{
	ATF_REQUIRE_EQ(write_file_atomic(dirfd, PROFILES_FILE, text,
	    strlen(text), 0600), 0);
}

ATF_TC_WITHOUT_HEAD(good_profile_gives_back_every_field);
ATF_TC_BODY(good_profile_gives_back_every_field, tc)
{
	struct profile	 p;
	json_t		*o = parse(GOOD_XMRIG);
	char		 err[ERRLEN];

	test_init();
	ATF_REQUIRE_EQ_MSG(profile_from_json(o, &p, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_STREQ(p.id, "xmr-main");
	ATF_CHECK_STREQ(p.type, "xmrig");
	ATF_CHECK_STREQ(p.binary, "xmrig/xmrig");
	ATF_CHECK_STREQ(p.pool, "stratum+tcp://pool.example.com:3333");
	ATF_CHECK_STREQ(p.user, "4Awallet.rig01");
	ATF_CHECK_STREQ(p.pass, "s3cret pass");
	ATF_CHECK_STREQ(p.algo, "rx/0");
	ATF_CHECK_EQ(p.threads, 8);
	ATF_CHECK_STREQ(p.devices, "0,1,2");
	ATF_CHECK_EQ(p.nextra, 2);
	ATF_CHECK_STREQ(p.extra[0], "--huge-pages");
	ATF_CHECK_STREQ(p.extra[1], "--cpu-priority=2");
	ATF_CHECK_EQ(p.autostart, 1);
	ATF_CHECK(p.floor == 1500.5);
	json_decref(o);
}

ATF_TC_WITHOUT_HEAD(absent_optional_fields_take_their_defaults);
ATF_TC_BODY(absent_optional_fields_take_their_defaults, tc)
{
	struct profile	 p;
	json_t		*o;
	char		 err[ERRLEN];

	test_init();
	o = parse("{\"id\": \"a\", \"type\": \"xmrig\", \"pool\": "
	    "\"pool.example.com:3333\", \"user\": \"w\"}");
	ATF_REQUIRE_EQ_MSG(profile_from_json(o, &p, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_STREQ(p.binary, "");
	ATF_CHECK_STREQ(p.pass, "");
	ATF_CHECK_EQ(p.threads, 0);
	ATF_CHECK_EQ(p.nextra, 0);
	ATF_CHECK_EQ(p.autostart, 0);
	ATF_CHECK(p.floor == 0);
	json_decref(o);
}

ATF_TC_WITHOUT_HEAD(ids_are_short_words_of_letters_digits_and_dots);
ATF_TC_BODY(ids_are_short_words_of_letters_digits_and_dots, tc)
{
	char	 longid[PROFILE_ID_MAX + 4];

	test_init();
	accepted(good_with("id", "\"A.b_c-9\""));
	refused(good_with("id", "null"), "id", "missing");
	refused(good_with("id", "\"\""), "id", "letters");
	refused(good_with("id", "\"-x\""), "id", "letter or digit first");
	refused(good_with("id", "\"a b\""), "id", "letters");
	refused(good_with("id", "\"a/b\""), "id", "letters");
	refused(good_with("id", "\"caf\\u00e9\""), "id", "letters");
	refused(good_with("id", "\"a\\u0000b\""), "id", "NUL");
	refused(good_with("id", "7"), "id", "not a string");
	memset(longid, 'a', sizeof(longid));
	longid[0] = '"';
	longid[PROFILE_ID_MAX + 2] = '"';
	longid[PROFILE_ID_MAX + 3] = '\0';
	refused(good_with("id", longid), "id", "longer than 64");
	longid[PROFILE_ID_MAX + 1] = '"';
	longid[PROFILE_ID_MAX + 2] = '\0';
	accepted(good_with("id", longid));
}

ATF_TC_WITHOUT_HEAD(type_is_one_of_the_drivers);
ATF_TC_BODY(type_is_one_of_the_drivers, tc)
{
	test_init();
	refused(good_with("type", "null"), "type", "missing");
	refused(good_with("type", "\"cgminer\""), "type",
	    "unknown miner type \"cgminer\"");
	refused(good_with("type", "\"XMRIG\""), "type", "unknown");
	refused(good_with("type", "true"), "type", "not a string");
	refused(good_with("type", "\"xmrigxmrigxmrigxmrig\""), "type",
	    "longer than");
}

ATF_TC_WITHOUT_HEAD(binary_is_a_plain_path_under_the_miners_directory);
ATF_TC_BODY(binary_is_a_plain_path_under_the_miners_directory, tc)
{
	test_init();
	accepted(good_with("binary", "\"xmrig\""));
	accepted(good_with("binary", "\"\""));
	accepted(good_with("binary", "\"v6.21/xmrig+cuda\""));
	refused(good_with("binary", "\"/usr/bin/xmrig\""), "binary",
	    "relative");
	refused(good_with("binary", "\"../bin/xmrig\""), "binary", "..");
	refused(good_with("binary", "\"xmrig/../../x\""), "binary", "..");
	refused(good_with("binary", "\"./xmrig\""), "binary", ".");
	refused(good_with("binary", "\"a//b\""), "binary", "empty");
	refused(good_with("binary", "\"a/\""), "binary", "empty");
	refused(good_with("binary", "\"x mrig\""), "binary", "allowed");
	refused(good_with("binary", "\"x;rm\""), "binary", "allowed");
	refused(good_with("binary", "[\"xmrig\"]"), "binary",
	    "not a string");
}

ATF_TC_WITHOUT_HEAD(pool_is_a_stratum_url_or_host_and_port);
ATF_TC_BODY(pool_is_a_stratum_url_or_host_and_port, tc)
{
	test_init();
	accepted(good_with("pool", "\"pool.example.com:3333\""));
	accepted(good_with("pool", "\"stratum+ssl://10.0.0.1:443\""));
	refused(good_with("pool", "\"http://pool.example.com:3333\""),
	    "pool", "not a stratum URL");
	refused(good_with("pool", "\"pool.example.com\""), "pool", "port");
	refused(good_with("pool", "\"pool.example.com:0\""), "pool",
	    "port");
	refused(good_with("pool", "\"pool.example.com:99999\""), "pool",
	    "port");
	refused(good_with("pool", "\"pool example.com:1\""), "pool",
	    "a space");
	refused(good_with("pool", "\"pool\\n.com:1\""), "pool",
	    "not printable");
	/* the xmrig driver needs one */
	refused(good_with("pool", "\"\""), "pool", "required");
}

ATF_TC_WITHOUT_HEAD(user_pass_and_algo_are_bounded_ascii);
ATF_TC_BODY(user_pass_and_algo_are_bounded_ascii, tc)
{
	struct profile	 p;
	json_t		*o;
	char		 big[PROFILE_PASS_MAX + 8], err[ERRLEN];

	test_init();
	memset(big, 'p', sizeof(big));
	big[0] = '"';
	big[PROFILE_PASS_MAX + 2] = '"';
	big[PROFILE_PASS_MAX + 3] = '\0';
	refused(good_with("user", big), "user", "longer than 255");
	refused(good_with("pass", big), "pass", "longer than 255");
	refused(good_with("user", "\"a b\""), "user", "a space");
	refused(good_with("user", "\"\""), "user", "required");
	refused(good_with("algo", "\"rx 0\""), "algo", "letters");
	refused(good_with("algo", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""), "algo", "longer than 63");
	refused(good_with("pass", "\"tab\\there\""), "pass",
	    "not printable");
	/* a bad password is named, never echoed */
	o = good_with("pass", "\"hunter2\\u0001\"");
	ATF_CHECK_EQ(profile_from_json(o, &p, err, sizeof(err)), -1);
	ATF_CHECK(strstr(err, "hunter2") == NULL);
	json_decref(o);
	accepted(good_with("pass", "\"x\""));
}

ATF_TC_WITHOUT_HEAD(threads_go_from_0_to_1024);
ATF_TC_BODY(threads_go_from_0_to_1024, tc)
{
	test_init();
	accepted(good_with("threads", "0"));
	accepted(good_with("threads", "1024"));
	refused(good_with("threads", "1025"), "threads", "0-1024");
	refused(good_with("threads", "-1"), "threads", "0-1024");
	refused(good_with("threads", "2.5"), "threads", "not an integer");
	refused(good_with("threads", "\"4\""), "threads", "not an integer");
}

ATF_TC_WITHOUT_HEAD(devices_are_numbers_joined_by_commas);
ATF_TC_BODY(devices_are_numbers_joined_by_commas, tc)
{
	test_init();
	accepted(good_with("devices", "\"0\""));
	accepted(good_with("devices", "\"3,1,255\""));
	accepted(good_with("devices", "\"\""));
	refused(good_with("devices", "\"0,,1\""), "devices", "commas");
	refused(good_with("devices", "\"0,1,\""), "devices", "commas");
	refused(good_with("devices", "\"0 1\""), "devices", "commas");
	refused(good_with("devices", "\"gpu0\""), "devices", "commas");
	refused(good_with("devices", "\"256\""), "devices", "out of range");
	refused(good_with("devices", "\"1,2,1\""), "devices", "twice");
}

ATF_TC_WITHOUT_HEAD(extra_arguments_are_few_and_short);
ATF_TC_BODY(extra_arguments_are_few_and_short, tc)
{
	json_t	*o, *a;
	char	 big[MINER_ARG_LEN + 1];
	int	 i;

	test_init();
	accepted(good_with("extra", "[]"));
	refused(good_with("extra", "\"--a --b\""), "extra", "not an array");
	refused(good_with("extra", "[\"\"]"), "extra[0]", "empty");
	refused(good_with("extra", "[\"--a\", 3]"), "extra[1]",
	    "not a string");
	refused(good_with("extra", "[\"--a\\nb\"]"), "extra[0]",
	    "not printable");
	o = parse(GOOD_XMRIG);
	a = json_array();
	for (i = 0; i < PROFILE_EXTRA_MAX + 1; i++)
		json_array_append_new(a, json_string("--x"));
	json_object_set_new(o, "extra", a);
	refused(o, "extra", "at most 16");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	o = parse(GOOD_XMRIG);
	a = json_array();
	json_array_append_new(a, json_string(big));
	json_object_set_new(o, "extra", a);
	refused(o, "extra[0]", "longer than 255");
}

ATF_TC_WITHOUT_HEAD(autostart_is_a_boolean_and_floor_a_finite_rate);
ATF_TC_BODY(autostart_is_a_boolean_and_floor_a_finite_rate, tc)
{
	test_init();
	accepted(good_with("autostart", "false"));
	refused(good_with("autostart", "1"), "autostart",
	    "not true or false");
	refused(good_with("autostart", "\"yes\""), "autostart",
	    "not true or false");
	accepted(good_with("floor", "0"));
	accepted(good_with("floor", "2500000"));
	refused(good_with("floor", "-1"), "floor", "from 0");
	refused(good_with("floor", "1e300"), "floor", "from 0");
	refused(good_with("floor", "\"1k\""), "floor", "not a number");
}

ATF_TC_WITHOUT_HEAD(regex_needs_a_value_group_and_a_unit_group);
ATF_TC_BODY(regex_needs_a_value_group_and_a_unit_group, tc)
{
	json_t	*o;

	test_init();
	accepted(good_with("regex", "\"speed ([0-9.]+) ([kMG]?H/s)\""));
	refused(good_with("regex", "\"speed ([0-9.]+)\""), "regex",
	    "1 capture groups");
	refused(good_with("regex", "\"speed ([0-9.]+ (H/s)\""), "regex",
	    "not a POSIX extended regular expression");
	/* generic miners read their rate with it: required there */
	o = parse("{\"id\": \"g\", \"type\": \"generic\", \"binary\": "
	    "\"cpuminer\"}");
	refused(o, "regex", "");
	accepted(parse("{\"id\": \"g\", \"type\": \"generic\", \"binary\": "
	    "\"cpuminer\", \"regex\": \"([0-9.]+) (H/s)\"}"));
}

ATF_TC_WITHOUT_HEAD(unknown_fields_are_refused_by_name);
ATF_TC_BODY(unknown_fields_are_refused_by_name, tc)
{
	test_init();
	refused(good_with("treads", "4"), "treads", "unknown field");
	accepted(good_with("passSet", "true"));
	refused(good_with("passSet", "1"), "passSet", "not true or false");
	refused(parse("[1]"), "profile", "not a JSON object");
}

/* One body with many bad fields: each is named in one message. */
ATF_TC_WITHOUT_HEAD(every_bad_field_is_named_at_once);
ATF_TC_BODY(every_bad_field_is_named_at_once, tc)
{
	struct profile	 p;
	json_t		*o;
	char		 err[ERRLEN];
	static const char *const fields[] = {
		"id: ", "binary: ", "pool: ", "user: ", "algo: ",
		"threads: ", "devices: ", "extra[0]: ", "autostart: ",
		"floor: ", "regex: "
	};
	size_t		 i;

	test_init();
	o = parse("{\"id\": \"-bad\", \"type\": \"xmrig\", \"binary\": "
	    "\"/abs\", \"pool\": \"nowhere\", \"user\": \"a b\", \"algo\": "
	    "\"r x\", \"threads\": 5000, \"devices\": \"a\", \"extra\": "
	    "[\"\"], \"autostart\": \"no\", \"floor\": -3, \"regex\": "
	    "\"(x)\"}");
	ATF_REQUIRE_EQ(profile_from_json(o, &p, err, sizeof(err)), -1);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ATF_CHECK_MSG(strstr(err, fields[i]) != NULL,
		    "no \"%s\" in \"%s\"", fields[i], err);
	/* the driver's own view of a field named already is left out */
	ATF_CHECK_MSG(strstr(strstr(err, "pool: ") + 1, "pool: ") == NULL,
	    "pool named twice in \"%s\"", err);
	json_decref(o);
}

ATF_TC_WITHOUT_HEAD(password_leaves_only_when_asked_for);
ATF_TC_BODY(password_leaves_only_when_asked_for, tc)
{
	struct profile	 p;
	json_t		*o, *j;
	char		 err[ERRLEN], *s;

	test_init();
	o = parse(GOOD_XMRIG);
	ATF_REQUIRE_EQ(profile_from_json(o, &p, err, sizeof(err)), 0);
	json_decref(o);
	ATF_REQUIRE((j = profile_to_json(&p, 0)) != NULL);
	ATF_CHECK(json_object_get(j, "pass") == NULL);
	ATF_CHECK(json_is_true(json_object_get(j, "passSet")));
	s = json_dumps(j, 0);
	ATF_CHECK(strstr(s, "s3cret") == NULL);
	free(s);
	json_decref(j);
	ATF_REQUIRE((j = profile_to_json(&p, 1)) != NULL);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "pass")),
	    "s3cret pass");
	/* what the API gives back parses again: GET, edit, PUT */
	ATF_CHECK_EQ_MSG(profile_from_json(j, &p, err, sizeof(err)), 0, "%s",
	    err);
	json_decref(j);
	p.pass[0] = '\0';
	ATF_REQUIRE((j = profile_to_json(&p, 0)) != NULL);
	ATF_CHECK(json_is_false(json_object_get(j, "passSet")));
	json_decref(j);
}

ATF_TC_WITHOUT_HEAD(put_replaces_and_keeps_ids_in_order);
ATF_TC_BODY(put_replaces_and_keeps_ids_in_order, tc)
{
	struct profile	*p, q;
	char		 err[ERRLEN];
	const char	*want[] = { "a", "b", "c" };
	int		 i;

	test_init();
	put_good("c");
	put_good("a");
	put_good("b");
	ATF_CHECK_EQ(profile_count(), 3);
	for (i = 0, p = profile_first(); p != NULL; p = profile_next(p), i++)
		ATF_CHECK_STREQ(p->id, want[i]);
	ATF_CHECK_EQ(i, 3);
	q = *profile_find("b");
	q.threads = 3;
	ATF_REQUIRE_EQ(profile_put(&q, err, sizeof(err)), 0);
	ATF_CHECK_EQ(profile_count(), 3);
	ATF_CHECK_EQ(profile_find("b")->threads, 3);
	ATF_CHECK_EQ(profile_del("b"), 0);
	ATF_CHECK_EQ(profile_del("b"), -1);
	ATF_CHECK(profile_find("b") == NULL);
	ATF_CHECK_EQ(profile_count(), 2);
}

ATF_TC_WITHOUT_HEAD(the_set_is_bounded);
ATF_TC_BODY(the_set_is_bounded, tc)
{
	char	 id[16], err[ERRLEN];
	struct profile	 q;
	int	 i;

	test_init();
	for (i = 0; i < PROFILES_MAX; i++) {
		(void)snprintf(id, sizeof(id), "p%03d", i);
		put_good(id);
	}
	q = *profile_find("p000");
	(void)strlcpy(q.id, "one-more", sizeof(q.id));
	ATF_CHECK_EQ(profile_put(&q, err, sizeof(err)), -1);
	ATF_CHECK(strstr(err, "remove one") != NULL);
	/* replacing one is still fine */
	(void)strlcpy(q.id, "p100", sizeof(q.id));
	ATF_CHECK_EQ(profile_put(&q, err, sizeof(err)), 0);
}

ATF_TC_WITHOUT_HEAD(save_and_load_give_back_every_profile);
ATF_TC_BODY(save_and_load_give_back_every_profile, tc)
{
	struct profile	 a, *b;
	struct stat	 st;
	json_t		*ja, *jb;
	char		 err[ERRLEN];
	int		 dirfd;

	test_init();
	dirfd = state_dir();
	put_good("one");
	put_good("two");
	a = *profile_find("two");
	a.floor = 0.1;
	a.nextra = 0;
	ATF_REQUIRE_EQ(profile_put(&a, err, sizeof(err)), 0);
	ATF_REQUIRE_EQ(profile_save(dirfd), 0);
	ATF_REQUIRE_EQ(fstatat(dirfd, PROFILES_FILE, &st, 0), 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	profile_clear();
	ATF_REQUIRE_EQ_MSG(profile_load(dirfd, err, sizeof(err)), 0, "%s",
	    err);
	ATF_CHECK_EQ(profile_count(), 2);
	ATF_REQUIRE((b = profile_find("two")) != NULL);
	ja = profile_to_json(&a, 1);
	jb = profile_to_json(b, 1);
	ATF_CHECK(ja != NULL && jb != NULL && json_equal(ja, jb));
	ATF_CHECK(b->floor == 0.1);
	ATF_CHECK_EQ(b->nextra, 0);
	json_decref(ja);
	json_decref(jb);
	ATF_REQUIRE((b = profile_find("one")) != NULL);
	ATF_CHECK_STREQ(b->pass, "s3cret pass");
	ATF_CHECK_EQ(b->nextra, 2);
	ATF_CHECK(b->floor == 1500.5);
	ATF_CHECK(profile_load_error() == NULL);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(missing_file_is_no_profiles);
ATF_TC_BODY(missing_file_is_no_profiles, tc)
{
	char	 err[ERRLEN];
	int	 dirfd;

	test_init();
	dirfd = state_dir();
	put_good("gone");
	ATF_CHECK_EQ(profile_load(dirfd, err, sizeof(err)), 0);
	ATF_CHECK_EQ(profile_count(), 0);
	close(dirfd);
}

/* Each bad file is refused with a reason and never overwritten. */
ATF_TC_WITHOUT_HEAD(bad_files_are_refused_and_kept);
ATF_TC_BODY(bad_files_are_refused_and_kept, tc)
{
	static const struct {
		const char	*text;
		const char	*words;
	} bad[] = {
		{ "{\"version\": 1, \"profiles\": [", "invalid JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"profiles\": []}", "no version" },
		{ "{\"version\": 2, \"profiles\": []}", "version 2" },
		{ "{\"version\": 1}", "no profiles" },
		{ "{\"version\": 1, \"profiles\": {}}", "no profiles" },
		{ "{\"version\": 1, \"version\": 1, \"profiles\": []}",
		    "duplicate" },
		{ "{\"version\": 1, \"profiles\": [], \"x\": 1}",
		    "unknown field \"x\"" },
		{ "{\"version\": 1, \"profiles\": [{\"id\": \"a\", "
		    "\"type\": \"xmrig\", \"pool\": \"p.example:1\", "
		    "\"user\": \"u\", \"threads\": -4}]}",
		    "profile 0 (a): threads: out of range" },
		{ "{\"version\": 1, \"profiles\": [{\"id\": \"a\", "
		    "\"type\": \"xmrig\", \"pool\": \"p.example:1\", "
		    "\"user\": \"u\"}, {\"id\": \"a\", \"type\": \"xmrig\", "
		    "\"pool\": \"p.example:1\", \"user\": \"u\"}]}",
		    "profile 1: id a twice" },
	};
	struct profile	 p;
	char		 err[ERRLEN + 64], *after;
	int		 dirfd, created;
	size_t		 i;

	test_init();
	dirfd = state_dir();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		profile_clear();
		write_profiles(dirfd, bad[i].text);
		err[0] = '\0';
		ATF_CHECK_EQ_MSG(profile_load(dirfd, err, sizeof(err)), -1,
		    "file %zu loaded", i);
		ATF_CHECK_MSG(strstr(err, bad[i].words) != NULL,
		    "file %zu: no \"%s\" in \"%s\"", i, bad[i].words, err);
		ATF_CHECK(profile_load_error() != NULL);
		ATF_CHECK_EQ(profile_count(), 0);
		/* nothing may overwrite it */
		ATF_CHECK_EQ(profile_save(dirfd), -1);
		ATF_CHECK_EQ(errno, EBADMSG);
		put_good("new");
		p = *profile_find("new");
		ATF_CHECK_EQ(profile_commit_put(dirfd, &p, &created, err,
		    sizeof(err)), -1);
		ATF_CHECK(strstr(err, "unreadable") != NULL);
		ATF_REQUIRE((after = read_profiles(dirfd)) != NULL);
		ATF_CHECK_STREQ(after, bad[i].text);
		free(after);
	}
	/* fixed by the operator: usable again */
	write_profiles(dirfd, "{\"version\": 1, \"profiles\": []}");
	ATF_CHECK_EQ(profile_reload_if_bad(dirfd, err, sizeof(err)), 0);
	ATF_CHECK(profile_load_error() == NULL);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(oversized_file_is_refused);
ATF_TC_BODY(oversized_file_is_refused, tc)
{
	char	*big, err[ERRLEN + 64];
	int	 dirfd;

	test_init();
	dirfd = state_dir();
	ATF_REQUIRE((big = malloc(PROFILES_FILE_MAX + 2)) != NULL);
	memset(big, ' ', PROFILES_FILE_MAX + 1);
	big[PROFILES_FILE_MAX + 1] = '\0';
	write_profiles(dirfd, big);
	free(big);
	ATF_CHECK_EQ(profile_load(dirfd, err, sizeof(err)), -1);
	ATF_CHECK(strstr(err, "larger than") != NULL);
	close(dirfd);
}

/*
 * In a child whose writes fail (lower = a file size limit under the
 * file's size, or a tmpfs already full), a put of a new profile, a
 * replace and a delete each fail with the reason and change nothing,
 * in memory or on disk.  Exit codes name the failed step.
 */
static int
rollback_child(int dirfd, int want_errno)
{
	struct profile	 p;
	char		 err[ERRLEN + 64];
	int		 created;

	put_good("fresh");
	p = *profile_find("fresh");
	(void)profile_del("fresh");
	if (profile_commit_put(dirfd, &p, &created, err, sizeof(err)) != -1)
		return (10);
	if (errno != want_errno || strstr(err, strerror(want_errno)) == NULL)
		return (11);
	if (profile_find("fresh") != NULL || profile_count() != 2)
		return (12);
	p = *profile_find("keep");
	p.threads = 99;
	(void)strlcpy(p.pass, "changed", sizeof(p.pass));
	if (profile_commit_put(dirfd, &p, &created, err, sizeof(err)) != -1)
		return (13);
	if (profile_find("keep")->threads != 8 ||
	    strcmp(profile_find("keep")->pass, "s3cret pass") != 0)
		return (14);
	if (profile_commit_del(dirfd, "keep", err, sizeof(err)) != -1)
		return (15);
	if (profile_find("keep") == NULL || profile_count() != 2)
		return (16);
	if (profile_commit_del(dirfd, "absent", err, sizeof(err)) != 1)
		return (17);
	return (0);
}

static void
rollback_setup(int dirfd, char **before)
{
	put_good("keep");
	put_good("other");
	ATF_REQUIRE_EQ(profile_save(dirfd), 0);
	ATF_REQUIRE((*before = read_profiles(dirfd)) != NULL);
}

static void
rollback_wait(pid_t pid, int dirfd, char *before)
{
	char	*after;
	int	 status;

	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_CHECK_EQ_MSG(WEXITSTATUS(status), 0, "child step %d failed",
	    WEXITSTATUS(status));
	ATF_REQUIRE((after = read_profiles(dirfd)) != NULL);
	ATF_CHECK_STREQ(before, after);
	free(before);
	free(after);
}

ATF_TC_WITHOUT_HEAD(failed_write_undoes_the_change);
ATF_TC_BODY(failed_write_undoes_the_change, tc)
{
	struct rlimit	 rl;
	char		*before;
	pid_t		 pid;
	int		 dirfd;

	test_init();
	dirfd = state_dir();
	rollback_setup(dirfd, &before);
	if ((pid = fork()) == -1)
		atf_tc_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		/* any write past a few bytes fails with EFBIG */
		(void)signal(SIGXFSZ, SIG_IGN);
		rl.rlim_cur = rl.rlim_max = 16;
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			_exit(2);
		_exit(rollback_child(dirfd, EFBIG));
	}
	rollback_wait(pid, dirfd, before);
	close(dirfd);
}

/*
 * The same on a real full disk: a small tmpfs as the state directory
 * (root only, in a mount namespace of the child's own), filled up.
 */
ATF_TC_WITHOUT_HEAD(full_disk_undoes_the_change);
ATF_TC_BODY(full_disk_undoes_the_change, tc)
{
	char		*before, fill[4096];
	pid_t		 pid;
	int		 dirfd, fd, status;

	test_init();
	if (geteuid() != 0)
		atf_tc_skip("mounting a tmpfs needs root");
	if (mkdir(STATE, 0700) == -1)
		atf_tc_fail("mkdir: %s", strerror(errno));
	if ((pid = fork()) == -1)
		atf_tc_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount("tmpfs", STATE, "tmpfs", 0, "size=64k,mode=0700") ==
		    -1)
			_exit(77);
		dirfd = state_dir();
		put_good("keep");
		put_good("other");
		if (profile_save(dirfd) == -1 ||
		    (before = read_profiles(dirfd)) == NULL)
			_exit(3);
		/* fill it */
		if ((fd = openat(dirfd, "fill", O_WRONLY | O_CREAT, 0600)) ==
		    -1)
			_exit(4);
		memset(fill, 'x', sizeof(fill));
		while (write(fd, fill, sizeof(fill)) > 0)
			;
		(void)close(fd);
		if ((status = rollback_child(dirfd, ENOSPC)) != 0)
			_exit(status);
		if (strcmp(before, read_profiles(dirfd)) != 0)
			_exit(5);
		_exit(0);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		atf_tc_skip("cannot mount a tmpfs here");
	ATF_CHECK_EQ_MSG(WEXITSTATUS(status), 0, "child step %d failed",
	    WEXITSTATUS(status));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, good_profile_gives_back_every_field);
	ATF_TP_ADD_TC(tp, absent_optional_fields_take_their_defaults);
	ATF_TP_ADD_TC(tp, ids_are_short_words_of_letters_digits_and_dots);
	ATF_TP_ADD_TC(tp, type_is_one_of_the_drivers);
	ATF_TP_ADD_TC(tp, binary_is_a_plain_path_under_the_miners_directory);
	ATF_TP_ADD_TC(tp, pool_is_a_stratum_url_or_host_and_port);
	ATF_TP_ADD_TC(tp, user_pass_and_algo_are_bounded_ascii);
	ATF_TP_ADD_TC(tp, threads_go_from_0_to_1024);
	ATF_TP_ADD_TC(tp, devices_are_numbers_joined_by_commas);
	ATF_TP_ADD_TC(tp, extra_arguments_are_few_and_short);
	ATF_TP_ADD_TC(tp, autostart_is_a_boolean_and_floor_a_finite_rate);
	ATF_TP_ADD_TC(tp, regex_needs_a_value_group_and_a_unit_group);
	ATF_TP_ADD_TC(tp, unknown_fields_are_refused_by_name);
	ATF_TP_ADD_TC(tp, every_bad_field_is_named_at_once);
	ATF_TP_ADD_TC(tp, password_leaves_only_when_asked_for);
	ATF_TP_ADD_TC(tp, put_replaces_and_keeps_ids_in_order);
	ATF_TP_ADD_TC(tp, the_set_is_bounded);
	ATF_TP_ADD_TC(tp, save_and_load_give_back_every_profile);
	ATF_TP_ADD_TC(tp, missing_file_is_no_profiles);
	ATF_TP_ADD_TC(tp, bad_files_are_refused_and_kept);
	ATF_TP_ADD_TC(tp, oversized_file_is_refused);
	ATF_TP_ADD_TC(tp, failed_write_undoes_the_change);
	ATF_TP_ADD_TC(tp, full_disk_undoes_the_change);
	return (atf_no_error());
}
