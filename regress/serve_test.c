/*
 * Unit tests of a worker serving its controllers (minerd/serve.c and
 * serve_check.c): the authorisation table for every access and type,
 * the payload checks, the answers' fields, secrets that never leave,
 * answers kept under the message limit, and a miner_ack sent only once
 * the parent reported the outcome.
 *
 * serve_request runs as net.c would call it.  net_reply and
 * net_reply_error are wrapped at link time (-Wl,--wrap): the test sees
 * what would be signed and sent.  The parent is a socketpair the test
 * holds: it reads minerd's requests and answers with the records,
 * exits and refusals the real parent sends.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "profile.h"
#include "miner.h"
#include "name.h"
#include "ring.h"
#include "serve.h"

#define SELF_ID		"29acbae141bccaf0b22e1a94d34d0bc7"
#define PEER_ID		"0123456789abcdef0123456789abcdef"
#define SECRET		"s3cret pass"
#define PROFILE_JSON(id)						\
	"{\"id\": \"" id "\", \"type\": \"xmrig\", "			\
	"\"binary\": \"xmrig/xmrig\", "					\
	"\"pool\": \"stratum+tcp://pool.example.com:3333\", "		\
	"\"user\": \"4Awallet.rig01\", \"pass\": \"" SECRET "\", "	\
	"\"algo\": \"rx/0\"}"

int	__wrap_net_reply(const uint8_t [32], const char *, enum msg_type,
	    json_t *);
void	__wrap_net_reply_error(struct peer *, const struct msg *, int,
	    const char *);

/* What serve.c would have sent: the last answer, and how many. */
static struct {
	int		 n;
	enum msg_type	 type;		/* MSG_ERROR for an error */
	int		 code;
	char		 text[SERVE_WHY_MAX];
	char		 reply_to[MSG_UUID_LEN + 1];
	uint8_t		 pk[32];
	json_t		*payload;
} cap;

static struct minerd_env	 test_env;
static struct imsgbuf		 parent;	/* the test's end */

int
__wrap_net_reply(const uint8_t pk[32], const char *reply_to,
    enum msg_type type, json_t *payload)
{
	cap.n++;
	cap.type = type;
	cap.code = 0;
	cap.text[0] = '\0';
	memcpy(cap.pk, pk, sizeof(cap.pk));
	(void)strlcpy(cap.reply_to, reply_to, sizeof(cap.reply_to));
	json_decref(cap.payload);
	cap.payload = payload;
	return (0);
}

void
__wrap_net_reply_error(struct peer *p, const struct msg *m, int code,
    const char *text)
{
	cap.n++;
	cap.type = MSG_ERROR;
	cap.code = code;
	(void)strlcpy(cap.text, text, sizeof(cap.text));
	memcpy(cap.pk, p->pk, sizeof(cap.pk));
	(void)strlcpy(cap.reply_to, m->id, sizeof(cap.reply_to));
	json_decref(cap.payload);
	cap.payload = NULL;
}

static void
parent_handler(int fd, short event, void *arg)
{
}

static void
setup(void)
{
	log_init(1, LOG_DAEMON);
	if (sodium_init() == -1)
		atf_tc_fail("sodium_init");
	env = &test_env;
	memset(env, 0, sizeof(*env));
	env->statedir = -1;
	env->key_state = KEY_HAVE;
	(void)strlcpy(env->conf.node_name, "rig-07",
	    sizeof(env->conf.node_name));
	if (ev_base == NULL && (ev_base = event_base_new()) == NULL)
		atf_tc_fail("event_base_new");
	miner_init();
	profile_clear();
	serve_init();
	memset(&cap, 0, sizeof(cap));
}

/* The parent's pipe: minerd's end in env, the test's in `parent'. */
static void
parent_open(void)
{
	int	 sv[2];

	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	imsgev_init(&env->iev_parent, sv[0], PROC_PARENT, parent_handler,
	    NULL);
	ATF_REQUIRE(imsgbuf_init(&parent, sv[1]) == 0);
}

/* The next request minerd sent the parent: its type; *slot its slot. */
static uint32_t
parent_read(uint32_t *slot)
{
	struct imsg	 imsg;
	uint32_t	 type;

	ATF_REQUIRE_EQ(imsgbuf_flush(&env->iev_parent.ibuf), 0);
	ATF_REQUIRE_EQ(imsg_read_one(&parent, &imsg), 1);
	type = imsg_get_type(&imsg);
	ATF_REQUIRE(imsg.datalen >= sizeof(*slot));
	memcpy(slot, imsg.data, sizeof(*slot));	/* first in every one */
	imsg_free(&imsg);
	return (type);
}

/* minerd asked the parent nothing. */
static void
parent_nothing(void)
{
	char	 c;

	ATF_REQUIRE_EQ(imsgbuf_flush(&env->iev_parent.ibuf), 0);
	ATF_CHECK(recv(parent.fd, &c, 1, MSG_DONTWAIT) == -1 &&
	    errno == EAGAIN);
}

static void
parent_record(uint32_t slot, const char *name, int32_t pid,
    enum miner_state state, long long started)
{
	struct miner_record	 r;

	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.pid = pid;
	r.pgid = pid;
	r.started = started;
	r.state = state;
	(void)strlcpy(r.name, name, sizeof(r.name));
	(void)strlcpy(r.driver, "xmrig", sizeof(r.driver));
	(void)strlcpy(r.profile, "xmr", sizeof(r.profile));
	r.api_port = 0;
	ATF_REQUIRE_EQ(miner_record(&r, -1), 0);
}

static void
parent_exited(uint32_t slot, int32_t pid, enum miner_state state)
{
	struct miner_exit	 e;

	memset(&e, 0, sizeof(e));
	e.slot = slot;
	e.pid = pid;
	e.state = state;
	ATF_REQUIRE_EQ(miner_exited(&e), 0);
}

static void
parent_refused(uint32_t slot, const char *reason)
{
	struct miner_refusal	 rf;

	memset(&rf, 0, sizeof(rf));
	rf.slot = slot;
	(void)strlcpy(rf.reason, reason, sizeof(rf.reason));
	ATF_REQUIRE_EQ(miner_refused(&rf), 0);
}

/* A running miner, as the parent reports one when minerd starts. */
static struct miner *
miner_running(uint32_t slot, const char *name, int32_t pid)
{
	struct miner	*m;

	parent_record(slot, name, pid, MINER_RUNNING, now_ms() - 5000);
	ATF_REQUIRE((m = miner_find(name)) != NULL);
	return (m);
}

static void
profile_add(const char *text)
{
	struct profile	 pr;
	json_t		*o;
	char		 err[PROFILE_ERR_MAX];

	ATF_REQUIRE((o = json_loads(text, 0, NULL)) != NULL);
	if (profile_from_json(o, &pr, err, sizeof(err)) == -1)
		atf_tc_fail("profile: %s", err);
	json_decref(o);
	ATF_REQUIRE_EQ(profile_put(&pr, err, sizeof(err)), 0);
}

/* A registry entry: what we allow it (access) and, to show that it is
 * never looked at, what it declared (the opposite). */
static void
peer_make(struct peer *p, enum peer_access access)
{
	memset(p, 0, sizeof(*p));
	memset(p->pk, 0x42, sizeof(p->pk));
	(void)strlcpy(p->id, PEER_ID, sizeof(p->id));
	p->access = access;
	p->connected = 1;
	p->declared_role = access == ACCESS_OPERATOR ? ROLE_WORKER :
	    ROLE_CONTROLLER;
	(void)strlcpy(p->declared_name, "I am your operator",
	    sizeof(p->declared_name));
}

/* Serve one request of type with payload (JSON text) from p. */
static void
request(struct peer *p, enum msg_type type, const char *payload)
{
	struct msg	 m;
	json_error_t	 jerr;
	int		 n;

	memset(&m, 0, sizeof(m));
	msg_uuid(m.id);
	m.type = type;
	(void)strlcpy(m.type_str, msg_type_name(type), sizeof(m.type_str));
	(void)strlcpy(m.from, p->id, sizeof(m.from));
	(void)strlcpy(m.to, SELF_ID, sizeof(m.to));
	m.ts = now_ms();
	if ((m.payload = json_loads(payload, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		atf_tc_fail("payload %s: %s", payload, jerr.text);
	n = cap.n;
	serve_request(p, &m);
	/* an answer now names the request */
	if (cap.n > n)
		ATF_CHECK_STREQ(cap.reply_to, m.id);
	msg_free(&m);
}

/* The last answer was error code, and it was the only answer. */
static void
expect_error(int n, int code, const char *text)
{
	ATF_REQUIRE_EQ(cap.n, n);
	ATF_REQUIRE_EQ(cap.type, MSG_ERROR);
	ATF_CHECK_EQ(cap.code, code);
	if (text != NULL && strstr(cap.text, text) == NULL)
		atf_tc_fail("error \"%s\" lacks \"%s\"", cap.text, text);
}

static const json_t *
expect_answer(int n, enum msg_type type)
{
	ATF_REQUIRE_EQ(cap.n, n);
	if (cap.type != type)
		atf_tc_fail("answer %s (%d %s), want %s",
		    msg_type_name(cap.type), cap.code, cap.text,
		    msg_type_name(type));
	ATF_REQUIRE(json_is_object(cap.payload));
	return (cap.payload);
}

static void
expect_ack(int n, const char *name, const char *action, int ok,
    const char *state, const char *message)
{
	const json_t	*o = expect_answer(n, MSG_MINER_ACK);
	const json_t	*v;

	ATF_CHECK_EQ(json_object_size(o), 5);
	ATF_CHECK_STREQ(json_string_value(json_object_get(o, "minerName")),
	    name);
	ATF_CHECK_STREQ(json_string_value(json_object_get(o, "action")),
	    action);
	ATF_CHECK(json_is_boolean(json_object_get(o, "ok")));
	ATF_CHECK_EQ(json_is_true(json_object_get(o, "ok")), ok);
	v = json_object_get(o, "state");
	if (state == NULL)
		ATF_CHECK(json_is_null(v));
	else
		ATF_CHECK_STREQ(json_string_value(v), state);
	v = json_object_get(o, "message");
	ATF_REQUIRE(json_is_string(v));
	if (strstr(json_string_value(v), message) == NULL)
		atf_tc_fail("message \"%s\" lacks \"%s\"",
		    json_string_value(v), message);
}

/*
 * Authorisation.
 */

ATF_TC_WITHOUT_HEAD(allowed_table_is_exact_for_every_access_and_type);
ATF_TC_BODY(allowed_table_is_exact_for_every_access_and_type, tc)
{
	enum peer_access	 a;
	int			 t, want;

	for (a = ACCESS_NONE; a <= ACCESS_OPERATOR; a++)
		for (t = 0; t < MSG_TYPE_COUNT; t++) {
			switch (t) {
			case MSG_GET_STATS:
			case MSG_GET_LOGS:
			case MSG_GET_PROFILES:
				want = a != ACCESS_NONE;
				break;
			case MSG_START_MINER:
			case MSG_STOP_MINER:
			case MSG_RESTART_MINER:
			case MSG_DEPLOY:
				want = a == ACCESS_OPERATOR;
				break;
			default:
				want = 0;
				break;
			}
			if (serve_allowed(a, t) != want)
				atf_tc_fail("%s may %s: %d, want %d",
				    peer_access_name(a), msg_type_name(t),
				    serve_allowed(a, t), want);
		}
	/* out of range: nobody, nothing */
	ATF_CHECK_EQ(serve_allowed(ACCESS_OPERATOR + 1, MSG_GET_STATS), 0);
	ATF_CHECK_EQ(serve_allowed(ACCESS_OPERATOR, MSG_TYPE_COUNT), 0);
}

ATF_TC_WITHOUT_HEAD(observer_is_refused_every_command_and_nothing_changes);
ATF_TC_BODY(observer_is_refused_every_command_and_nothing_changes, tc)
{
	struct peer	 p;
	struct miner	*m;
	int		 n = 0;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	m = miner_running(0, "rig", 4242);
	peer_make(&p, ACCESS_OBSERVER);

	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, "observer");
	request(&p, MSG_STOP_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, "observer");
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, "observer");
	/* authorisation comes before the payload's checks */
	request(&p, MSG_STOP_MINER, "{\"minerName\": 7}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_DEPLOY, "{}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);

	/* the miner is as it was, and the parent was asked nothing */
	ATF_CHECK_EQ(m->state, MINER_RUNNING);
	ATF_CHECK_EQ(m->pid, 4242);
	ATF_CHECK(miner_find("xmr") == NULL);
	parent_nothing();
	/* a read is served */
	request(&p, MSG_GET_STATS, "{}");
	(void)expect_answer(++n, MSG_STATS);
}

ATF_TC_WITHOUT_HEAD(a_peer_that_is_not_a_controller_may_do_nothing);
ATF_TC_BODY(a_peer_that_is_not_a_controller_may_do_nothing, tc)
{
	struct peer	 p;
	int		 n = 0;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	(void)miner_running(0, "rig", 4242);
	/* a worker we pinned: it declares itself a controller */
	peer_make(&p, ACCESS_NONE);
	p.pinned = 1;

	request(&p, MSG_GET_STATS, "{}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, "not a controller");
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_GET_PROFILES, "{}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_STOP_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	request(&p, MSG_DEPLOY, "{}");
	expect_error(++n, MSG_ERR_UNAUTHORISED, NULL);
	ATF_CHECK_EQ(miner_find("rig")->state, MINER_RUNNING);
	ATF_CHECK(miner_find("xmr") == NULL);
	parent_nothing();
}

ATF_TC_WITHOUT_HEAD(deploy_from_an_operator_is_not_supported_yet);
ATF_TC_BODY(deploy_from_an_operator_is_not_supported_yet, tc)
{
	struct peer	 p;

	setup();
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_DEPLOY, "{\"chunk\": \"AAAA\"}");
	expect_error(1, MSG_ERR_FAILED,
	    "deploy bundles are not supported by this node yet");
}

ATF_TC_WITHOUT_HEAD(bad_payloads_are_invalid_and_named);
ATF_TC_BODY(bad_payloads_are_invalid_and_named, tc)
{
	static const struct {
		enum msg_type	 type;
		const char	*payload;
		const char	*why;
	} bad[] = {
		{ MSG_START_MINER, "{}", "profileId: missing" },
		{ MSG_START_MINER, "{\"profileId\": null}", "missing" },
		{ MSG_START_MINER, "{\"profileId\": 1}", "not a string" },
		{ MSG_START_MINER, "{\"profileId\": \"\"}", "profileId" },
		{ MSG_START_MINER, "{\"profileId\": \"../etc\"}",
		    "profileId" },
		{ MSG_START_MINER, "{\"profileId\": \".x\"}", "profileId" },
		{ MSG_START_MINER, "{\"profileId\": \"a b\"}", "profileId" },
		{ MSG_START_MINER, "{\"profileId\": \"xmr\", \"name\": 3}",
		    "name: not a string" },
		{ MSG_START_MINER, "{\"profileId\": \"xmr\", \"name\": "
		    "\".x\"}", "name" },
		{ MSG_START_MINER, "{\"profileId\": \"xmr\", \"name\": "
		    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "name" },
		{ MSG_START_MINER, "{\"profileId\": \"aaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		    "profileId" },
		{ MSG_START_MINER, "{\"profileId\": \"aaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaa\"}", "longer than a miner name" },
		{ MSG_STOP_MINER, "{}", "minerName: missing" },
		{ MSG_STOP_MINER, "{\"minerName\": [\"rig\"]}",
		    "not a string" },
		{ MSG_STOP_MINER, "{\"name\": \"rig\"}", "minerName" },
		{ MSG_RESTART_MINER, "{\"minerName\": \"\"}", "minerName" },
		{ MSG_RESTART_MINER, "{\"minerName\": \"r\\u00e9g\"}",
		    "minerName" },
		{ MSG_GET_LOGS, "{\"lines\": 5}", "minerName: missing" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": 0}",
		    "lines" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": -1}",
		    "lines" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": 10001}",
		    "lines: want an integer from 1 to 10000" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": 5.5}",
		    "lines" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": \"5\"}",
		    "lines" },
		{ MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": "
		    "4294967297}", "lines" },
	};
	struct peer	 p;
	struct miner	*m;
	size_t		 i;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	m = miner_running(0, "rig", 4242);
	peer_make(&p, ACCESS_OPERATOR);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cap, 0, sizeof(cap));
		request(&p, bad[i].type, bad[i].payload);
		if (cap.n != 1 || cap.type != MSG_ERROR ||
		    cap.code != MSG_ERR_INVALID ||
		    strstr(cap.text, bad[i].why) == NULL)
			atf_tc_fail("%s %s: %d answers, %s %d \"%s\"; want "
			    "1001 \"%s\"", msg_type_name(bad[i].type),
			    bad[i].payload, cap.n, msg_type_name(cap.type),
			    cap.code, cap.text, bad[i].why);
	}
	ATF_CHECK_EQ(m->state, MINER_RUNNING);
	ATF_CHECK_EQ(m->pid, 4242);
	parent_nothing();
	/* unknown extra fields are ignored */
	memset(&cap, 0, sizeof(cap));
	request(&p, MSG_GET_STATS, "{\"verbose\": true, \"x\": [1, 2]}");
	(void)expect_answer(1, MSG_STATS);
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": null, "
	    "\"follow\": 1}");
	(void)expect_answer(2, MSG_LOGS);
}

ATF_TC_WITHOUT_HEAD(unknown_miners_and_profiles_are_not_found);
ATF_TC_BODY(unknown_miners_and_profiles_are_not_found, tc)
{
	struct peer	 p;
	int		 n = 0;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_START_MINER, "{\"profileId\": \"eth\"}");
	expect_error(++n, MSG_ERR_NOT_FOUND, "no profile eth");
	request(&p, MSG_STOP_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_NOT_FOUND, "no miner rig");
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_NOT_FOUND, "no miner rig");
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\"}");
	expect_error(++n, MSG_ERR_NOT_FOUND, "no miner rig");
	ATF_CHECK(miner_first() == NULL);
}

/*
 * Reads.
 */

ATF_TC_WITHOUT_HEAD(stats_carry_exactly_the_design_fields);
ATF_TC_BODY(stats_carry_exactly_the_design_fields, tc)
{
	static const char *const keys[] = {
		"name", "type", "state", "hashrate", "shares", "rejected",
		"uptime", "pool", "algorithm", "readAt"
	};
	struct peer	 p;
	const json_t	*o, *arr, *row, *hr;
	size_t		 i;

	setup();
	(void)miner_running(0, "rig", 4242);
	(void)miner_running(3, "gpu", 4343);
	peer_make(&p, ACCESS_OBSERVER);
	request(&p, MSG_GET_STATS, "{}");
	o = expect_answer(1, MSG_STATS);
	ATF_CHECK_EQ(json_object_size(o), 4);
	ATF_CHECK_STREQ(json_string_value(json_object_get(o, "nodeId")),
	    SELF_ID);
	ATF_CHECK_STREQ(json_string_value(json_object_get(o, "nodeName")),
	    "rig-07");
	ATF_CHECK(json_is_integer(json_object_get(o, "uptime")));
	ATF_CHECK(json_integer_value(json_object_get(o, "uptime")) >= 0);
	arr = json_object_get(o, "miners");
	ATF_REQUIRE(json_is_array(arr));
	ATF_REQUIRE_EQ(json_array_size(arr), 2);
	row = json_array_get(arr, 1);
	ATF_CHECK_EQ(json_object_size(row), sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(row, keys[i]) == NULL)
			atf_tc_fail("stats miner lacks %s", keys[i]);
	ATF_CHECK_STREQ(json_string_value(json_object_get(row, "name")),
	    "gpu");
	ATF_CHECK_STREQ(json_string_value(json_object_get(row, "type")),
	    "xmrig");
	ATF_CHECK_STREQ(json_string_value(json_object_get(row, "state")),
	    "running");
	hr = json_object_get(row, "hashrate");
	ATF_REQUIRE(json_is_object(hr));
	ATF_CHECK_EQ(json_object_size(hr), 3);
	/* never read yet: unknown, not zero */
	ATF_CHECK(json_is_null(json_object_get(hr, "10s")));
	ATF_CHECK(json_is_null(json_object_get(hr, "60s")));
	ATF_CHECK(json_is_null(json_object_get(hr, "15m")));
	ATF_CHECK(json_is_null(json_object_get(row, "readAt")));
	/* nothing beyond DESIGN: no pid, no api port */
	ATF_CHECK(json_object_get(row, "pid") == NULL);
	ATF_CHECK(json_object_get(row, "apiPort") == NULL);
}

ATF_TC_WITHOUT_HEAD(profiles_never_carry_the_pool_password);
ATF_TC_BODY(profiles_never_carry_the_pool_password, tc)
{
	struct peer	 p;
	const json_t	*o, *arr, *pr;
	char		*text;

	setup();
	profile_add(PROFILE_JSON("xmr"));
	profile_add(PROFILE_JSON("xmr2"));
	peer_make(&p, ACCESS_OBSERVER);
	request(&p, MSG_GET_PROFILES, "{}");
	o = expect_answer(1, MSG_PROFILES);
	arr = json_object_get(o, "profiles");
	ATF_REQUIRE(json_is_array(arr));
	ATF_REQUIRE_EQ(json_array_size(arr), 2);
	ATF_CHECK(json_is_false(json_object_get(o, "hasMore")));
	pr = json_array_get(arr, 0);
	ATF_CHECK_STREQ(json_string_value(json_object_get(pr, "id")), "xmr");
	ATF_CHECK(json_object_get(pr, "pass") == NULL);
	ATF_CHECK(json_is_true(json_object_get(pr, "passSet")));
	ATF_REQUIRE((text = json_dumps(o, JSON_COMPACT)) != NULL);
	if (strstr(text, SECRET) != NULL)
		atf_tc_fail("the password left the node: %s", text);
	free(text);
}

ATF_TC_WITHOUT_HEAD(profiles_are_cut_to_the_budget_and_say_so);
ATF_TC_BODY(profiles_are_cut_to_the_budget_and_say_so, tc)
{
	json_t	*o;
	char	 id[16], text[1024];
	char	*dump;
	size_t	 one, i;

	setup();
	for (i = 0; i < 10; i++) {
		(void)snprintf(id, sizeof(id), "p%02zu", i);
		(void)snprintf(text, sizeof(text), PROFILE_JSON("%s"), id);
		profile_add(text);
	}
	ATF_REQUIRE((o = serve_profiles_json(SERVE_PAYLOAD_MAX)) != NULL);
	ATF_CHECK_EQ(json_array_size(json_object_get(o, "profiles")), 10);
	ATF_CHECK(json_is_false(json_object_get(o, "hasMore")));
	one = json_dumpb(json_array_get(json_object_get(o, "profiles"), 0),
	    NULL, 0, JSON_COMPACT);
	json_decref(o);
	/* room for three and a half */
	ATF_REQUIRE((o = serve_profiles_json(one * 7 / 2)) != NULL);
	ATF_CHECK_EQ(json_array_size(json_object_get(o, "profiles")), 3);
	ATF_CHECK(json_is_true(json_object_get(o, "hasMore")));
	ATF_REQUIRE((dump = json_dumps(o, JSON_COMPACT)) != NULL);
	ATF_CHECK(strlen(dump) < one * 7 / 2 + 64);
	free(dump);
	json_decref(o);
	/* the profile set at its maximum fits a message */
	ATF_CHECK(PROFILES_MAX * one < SERVE_PAYLOAD_MAX);
}

ATF_TC_WITHOUT_HEAD(logs_are_the_last_lines_and_bounded);
ATF_TC_BODY(logs_are_the_last_lines_and_bounded, tc)
{
	struct peer	 p;
	struct miner	*m;
	const json_t	*o, *arr;
	char		 line[MINER_LINE_MAX + 1], *dump;
	size_t		 i, n;

	setup();
	env->conf.ring_lines = 20000;
	env->conf.ring_bytes = 4 * 1024 * 1024;
	m = miner_running(0, "rig", 4242);
	/* the record's note is line 0; then 9 lines of ours */
	for (i = 1; i < 10; i++) {
		(void)snprintf(line, sizeof(line), "line %zu", i);
		ring_add(m->ring, line, strlen(line));
	}
	peer_make(&p, ACCESS_OBSERVER);
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": 3}");
	o = expect_answer(1, MSG_LOGS);
	ATF_CHECK_EQ(json_object_size(o), 3);
	ATF_CHECK_STREQ(json_string_value(json_object_get(o, "minerName")),
	    "rig");
	ATF_CHECK(json_is_true(json_object_get(o, "hasMore")));
	arr = json_object_get(o, "lines");
	ATF_REQUIRE_EQ(json_array_size(arr), 3);
	ATF_CHECK_STREQ(json_string_value(json_array_get(arr, 0)), "line 7");
	ATF_CHECK_STREQ(json_string_value(json_array_get(arr, 2)), "line 9");
	/* more than there are: all, and nothing more */
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": 500}");
	o = expect_answer(2, MSG_LOGS);
	ATF_CHECK_EQ(json_array_size(json_object_get(o, "lines")), 10);
	ATF_CHECK(json_is_false(json_object_get(o, "hasMore")));
	/* no count: the default */
	for (i = 0; i < 100; i++)
		ring_add(m->ring, "x", 1);
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\"}");
	o = expect_answer(3, MSG_LOGS);
	ATF_CHECK_EQ(json_array_size(json_object_get(o, "lines")),
	    SERVE_LOGS_DEFAULT);

	/* long lines full of backslashes: cut at the budget */
	memset(line, '\\', MINER_LINE_MAX);
	line[MINER_LINE_MAX] = '\0';
	for (i = 0; i < 10000; i++)
		ring_add(m->ring, line, strlen(line));
	request(&p, MSG_GET_LOGS, "{\"minerName\": \"rig\", \"lines\": "
	    "10000}");
	o = expect_answer(4, MSG_LOGS);
	n = json_array_size(json_object_get(o, "lines"));
	ATF_CHECK(n > 0 && n < 10000);
	ATF_CHECK(json_is_true(json_object_get(o, "hasMore")));
	ATF_REQUIRE((dump = json_dumps(o, JSON_COMPACT)) != NULL);
	if (strlen(dump) > SERVE_PAYLOAD_MAX)
		atf_tc_fail("logs answer of %zu bytes", strlen(dump));
	free(dump);
}

/*
 * Commands: the ack carries the outcome the parent reported.
 */

ATF_TC_WITHOUT_HEAD(start_is_acknowledged_once_the_parent_reports_it);
ATF_TC_BODY(start_is_acknowledged_once_the_parent_reports_it, tc)
{
	struct peer	 p;
	uint32_t	 slot;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\", \"name\": "
	    "\"cpu0\", \"future\": 1}");
	/* asked, not answered */
	ATF_CHECK_EQ(cap.n, 0);
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_SPAWN);
	ATF_REQUIRE(miner_find("cpu0") != NULL);
	ATF_CHECK_EQ(miner_find("cpu0")->slot, slot);
	/* the parent's record of the new process: now the ack */
	parent_record(slot, "cpu0", 5555, MINER_STARTING, now_ms());
	expect_ack(1, "cpu0", "start", 1, "starting", "started, pid 5555");
	ATF_CHECK_EQ(memcmp(cap.pk, p.pk, sizeof(p.pk)), 0);
	/* one answer only: a later record sends nothing */
	parent_record(slot, "cpu0", 5555, MINER_RUNNING, now_ms());
	ATF_CHECK_EQ(cap.n, 1);

	/* a start without a name takes the profile's id */
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\", "
	    "\"name\": \"\"}");
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_SPAWN);
	parent_record(slot, "xmr", 5556, MINER_STARTING, now_ms());
	expect_ack(2, "xmr", "start", 1, "starting", "pid 5556");
}

ATF_TC_WITHOUT_HEAD(start_refused_by_the_parent_is_acknowledged_not_ok);
ATF_TC_BODY(start_refused_by_the_parent_is_acknowledged_not_ok, tc)
{
	struct peer	 p;
	uint32_t	 slot;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\"}");
	ATF_CHECK_EQ(cap.n, 0);
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_SPAWN);
	parent_refused(slot, "miners/xmrig/xmrig: group or world writable");
	/* the spawn never ran: no miner of that name any more */
	expect_ack(1, "xmr", "start", 0, "stopped", "world writable");
	ATF_CHECK(miner_find("xmr") == NULL);
}

ATF_TC_WITHOUT_HEAD(start_over_a_running_miner_is_acknowledged_not_ok);
ATF_TC_BODY(start_over_a_running_miner_is_acknowledged_not_ok, tc)
{
	struct peer	 p;
	struct miner	*m;

	setup();
	parent_open();
	profile_add(PROFILE_JSON("xmr"));
	m = miner_running(0, "xmr", 4242);
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\"}");
	expect_ack(1, "xmr", "start", 0, "running", "exists");
	ATF_CHECK_EQ(m->pid, 4242);
	ATF_CHECK_EQ(m->state, MINER_RUNNING);
}

ATF_TC_WITHOUT_HEAD(start_without_a_parent_is_acknowledged_not_ok);
ATF_TC_BODY(start_without_a_parent_is_acknowledged_not_ok, tc)
{
	struct peer	 p;

	setup();
	profile_add(PROFILE_JSON("xmr"));
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_START_MINER, "{\"profileId\": \"xmr\"}");
	expect_ack(1, "xmr", "start", 0, NULL, "cannot ask the parent");
	ATF_CHECK(miner_find("xmr") == NULL);
}

ATF_TC_WITHOUT_HEAD(stop_is_acknowledged_once_the_miner_exited);
ATF_TC_BODY(stop_is_acknowledged_once_the_miner_exited, tc)
{
	struct peer	 p;
	struct miner	*m;
	uint32_t	 slot;

	setup();
	parent_open();
	m = miner_running(2, "rig", 4242);
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_STOP_MINER, "{\"minerName\": \"rig\"}");
	ATF_CHECK_EQ(cap.n, 0);
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_STOP);
	ATF_CHECK_EQ(slot, 2);
	ATF_CHECK_EQ(m->state, MINER_STOPPING);

	/* meanwhile a restart is refused at once: in progress */
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	expect_ack(1, "rig", "restart", 0, "stopping", "in progress");

	parent_exited(2, 4242, MINER_STOPPED);
	expect_ack(2, "rig", "stop", 1, "stopped", "stopped");
	ATF_CHECK(miner_find("rig") == NULL);
}

/*
 * One rule for a miner's name on every side (common/name.h): what the
 * local supervisor takes, a controller may name, and nothing else.
 */
ATF_TC_WITHOUT_HEAD(miner_names_follow_the_local_rule_remotely);
ATF_TC_BODY(miner_names_follow_the_local_rule_remotely, tc)
{
	static const struct {
		const char	*name;
		int		 ok;
	} names[] = {
		{ "rig", 1 }, { "_x", 1 }, { "-x", 1 }, { "0", 1 },
		{ "a.b_c-d", 1 }, { "x.", 1 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },	/* 32 */
		{ "", 0 }, { ".x", 0 }, { ".", 0 }, { "..", 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },	/* 33 */
		{ "a b", 0 }, { "a/b", 0 }, { "r\xc3\xa9g", 0 }, { "a:b", 0 },
	};
	struct serve_req	 r;
	struct peer		 p;
	struct miner		*m;
	json_t			*o;
	char			 why[SERVE_WHY_MAX];
	size_t			 i;
	uint32_t		 slot;
	int			 got;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ATF_CHECK_EQ_MSG(miner_name_valid(names[i].name), names[i].ok,
		    "miner_name_valid(\"%s\")", names[i].name);
		o = json_pack("{s:s}", "minerName", names[i].name);
		ATF_REQUIRE(o != NULL);
		got = serve_parse(MSG_STOP_MINER, o, &r, why, sizeof(why));
		ATF_CHECK_EQ_MSG(got == 0, names[i].ok, "stop \"%s\": %s",
		    names[i].name, got == 0 ? "taken" : why);
		json_decref(o);
		o = json_pack("{s:s, s:s}", "profileId", "xmr", "name",
		    names[i].name);
		ATF_REQUIRE(o != NULL);
		got = serve_parse(MSG_START_MINER, o, &r, why, sizeof(why));
		/* "" is no name: the profile's id is taken */
		ATF_CHECK_EQ_MSG(got == 0, names[i].ok ||
		    names[i].name[0] == '\0', "start \"%s\": %s",
		    names[i].name, got == 0 ? "taken" : why);
		json_decref(o);
	}

	/* a miner whose name starts with '_' is stopped from afar */
	setup();
	parent_open();
	m = miner_running(1, "_x", 4343);
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_STOP_MINER, "{\"minerName\": \"_x\"}");
	ATF_CHECK_EQ(cap.n, 0);
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_STOP);
	ATF_CHECK_EQ(slot, 1);
	ATF_CHECK_EQ(m->state, MINER_STOPPING);
	parent_exited(1, 4343, MINER_STOPPED);
	expect_ack(1, "_x", "stop", 1, "stopped", "stopped");
}

ATF_TC_WITHOUT_HEAD(restart_is_acknowledged_with_the_new_run);
ATF_TC_BODY(restart_is_acknowledged_with_the_new_run, tc)
{
	struct peer	 p;
	uint32_t	 slot;

	setup();
	parent_open();
	(void)miner_running(1, "rig", 4242);
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_RESTART);
	ATF_CHECK_EQ(slot, 1);
	/* the old run ends: still waiting */
	parent_exited(1, 4242, MINER_STOPPING);
	ATF_CHECK_EQ(cap.n, 0);
	parent_record(1, "rig", 4343, MINER_RUNNING, now_ms());
	expect_ack(1, "rig", "restart", 1, "running", "restarted, pid 4343");
}

ATF_TC_WITHOUT_HEAD(restart_refused_by_the_parent_carries_its_reason);
ATF_TC_BODY(restart_refused_by_the_parent_carries_its_reason, tc)
{
	struct peer	 p;
	uint32_t	 slot;

	setup();
	parent_open();
	(void)miner_running(1, "rig", 4242);
	peer_make(&p, ACCESS_OPERATOR);
	request(&p, MSG_RESTART_MINER, "{\"minerName\": \"rig\"}");
	ATF_CHECK_EQ(parent_read(&slot), IMSG_MINER_RESTART);
	parent_exited(1, 4242, MINER_STOPPING);
	parent_refused(1, "miners/xmrig/xmrig: not owned by root");
	expect_ack(1, "rig", "restart", 0, "stopped", "not owned by root");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, allowed_table_is_exact_for_every_access_and_type);
	ATF_TP_ADD_TC(tp,
	    observer_is_refused_every_command_and_nothing_changes);
	ATF_TP_ADD_TC(tp, a_peer_that_is_not_a_controller_may_do_nothing);
	ATF_TP_ADD_TC(tp, deploy_from_an_operator_is_not_supported_yet);
	ATF_TP_ADD_TC(tp, bad_payloads_are_invalid_and_named);
	ATF_TP_ADD_TC(tp, unknown_miners_and_profiles_are_not_found);
	ATF_TP_ADD_TC(tp, stats_carry_exactly_the_design_fields);
	ATF_TP_ADD_TC(tp, profiles_never_carry_the_pool_password);
	ATF_TP_ADD_TC(tp, profiles_are_cut_to_the_budget_and_say_so);
	ATF_TP_ADD_TC(tp, logs_are_the_last_lines_and_bounded);
	ATF_TP_ADD_TC(tp, start_is_acknowledged_once_the_parent_reports_it);
	ATF_TP_ADD_TC(tp,
	    start_refused_by_the_parent_is_acknowledged_not_ok);
	ATF_TP_ADD_TC(tp, start_over_a_running_miner_is_acknowledged_not_ok);
	ATF_TP_ADD_TC(tp, start_without_a_parent_is_acknowledged_not_ok);
	ATF_TP_ADD_TC(tp, stop_is_acknowledged_once_the_miner_exited);
	ATF_TP_ADD_TC(tp, miner_names_follow_the_local_rule_remotely);
	ATF_TP_ADD_TC(tp, restart_is_acknowledged_with_the_new_run);
	ATF_TP_ADD_TC(tp, restart_refused_by_the_parent_carries_its_reason);
	return (atf_no_error());
}
