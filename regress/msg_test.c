/*
 * Unit tests of application messages (minerd/msg.c), the replay cache
 * (minerd/replay.c) and pairing (minerd/pair.c).  The test plays keyd:
 * it signs "lethd message v1" || BLAKE2b-512(body) itself.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "../minerd/msg.h"
#include "msg_vectors.h"

/* The receiver's clock, start and window in these tests. */
#define T_NOW		1700000000000LL
#define T_FLOOR		(T_NOW - 60 * 1000LL)
#define T_WINDOW	MSG_TS_WINDOW_DEFAULT
#define T_WINDOW_MS	((long long)T_WINDOW * 1000)
/* Room for a body written by hand. */
#define T_BODY_MAX	4096
/* Ids in the flood, against a cache of the default size. */
#define T_FLOOD		100000
#define T_LABEL		KEY_LABEL_MESSAGE_STR
#define T_LABEL_LEN	(sizeof(T_LABEL) - 1)
#define T_ID		"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
#define T_ID2		"0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"

/* The controller (sender, A), the worker (receiver, B), and a third. */
static uint8_t	pk_a[32], sk_a[64], pk_b[32], sk_b[64], pk_c[32], sk_c[64];
static char	id_a[NODE_ID_LEN + 1], id_b[NODE_ID_LEN + 1];
static char	id_c[NODE_ID_LEN + 1];

static void
unhex(const char *hex, uint8_t *bin, size_t len)
{
	size_t	 got;

	ATF_REQUIRE(sodium_hex2bin(bin, len, hex, strlen(hex), NULL, &got,
	    NULL) == 0);
	ATF_REQUIRE_EQ(got, len);
}

static void
keys_init(void)
{
	uint8_t	 seed[32];

	ATF_REQUIRE(sodium_init() >= 0);
	unhex(VEC_CONTROLLER_SEED, seed, sizeof(seed));
	ATF_REQUIRE(crypto_sign_seed_keypair(pk_a, sk_a, seed) == 0);
	unhex(VEC_WORKER_SEED, seed, sizeof(seed));
	ATF_REQUIRE(crypto_sign_seed_keypair(pk_b, sk_b, seed) == 0);
	memset(seed, 0x77, sizeof(seed));
	ATF_REQUIRE(crypto_sign_seed_keypair(pk_c, sk_c, seed) == 0);
	(void)sodium_bin2hex(id_a, sizeof(id_a), pk_a, NODE_ID_LEN / 2);
	(void)sodium_bin2hex(id_b, sizeof(id_b), pk_b, NODE_ID_LEN / 2);
	(void)sodium_bin2hex(id_c, sizeof(id_c), pk_c, NODE_ID_LEN / 2);
}

/* What keyd does: a signature over label || hash(body), then body. */
static uint8_t *
sign_raw(const uint8_t *sk, const void *body, size_t len, size_t *rawlen)
{
	uint8_t	 m[T_LABEL_LEN + MSG_HASH_LEN], *raw;

	memcpy(m, T_LABEL, T_LABEL_LEN);
	msg_hash(body, len, m + T_LABEL_LEN);
	ATF_REQUIRE((raw = malloc(MSG_SIG_LEN + len + 1)) != NULL);
	ATF_REQUIRE(crypto_sign_detached(raw, NULL, m, sizeof(m), sk) == 0);
	if (len > 0)
		memcpy(raw + MSG_SIG_LEN, body, len);
	*rawlen = MSG_SIG_LEN + len;
	return (raw);
}

/* Verify as B, from A's session, with the test clock. */
static int
verify_raw(const uint8_t *raw, size_t len, struct msg *m,
    struct msg_verdict *v)
{
	return (msg_verify(raw, len, pk_a, id_b, T_NOW, T_FLOOR, T_WINDOW,
	    m, v));
}

/* A body written by hand, signed by A, verified by B. */
static int
verify_text(const char *body, struct msg *m, struct msg_verdict *v)
{
	uint8_t	*raw;
	size_t	 len;
	int	 rv;

	raw = sign_raw(sk_a, body, strlen(body), &len);
	rv = verify_raw(raw, len, m, v);
	free(raw);
	return (rv);
}

static const char *
body_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static const char *
body_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ATF_REQUIRE(n > 0 && (size_t)n < len);
	return (buf);
}

/* A well-formed body from A to B with one field's text replaced. */
struct fields {
	const char	*id, *type, *from, *to, *ts, *reply, *payload;
	const char	*extra;
};

static const char *
body_from(char *buf, size_t len, const struct fields *f)
{
	char	 reply[128] = "";

	if (f->reply != NULL)
		(void)snprintf(reply, sizeof(reply), "\"replyTo\":%s,",
		    f->reply);
	return (body_fmt(buf, len, "{\"id\":%s,\"type\":%s,\"from\":%s,"
	    "\"to\":%s,\"ts\":%s,%s\"payload\":%s%s}",
	    f->id, f->type, f->from, f->to, f->ts, reply, f->payload,
	    f->extra != NULL ? f->extra : ""));
}

static char	q_id_a[NODE_ID_LEN + 3], q_id_b[NODE_ID_LEN + 3];
static char	q_now[32];

static struct fields
fields_ok(void)
{
	struct fields	 f;

	(void)snprintf(q_id_a, sizeof(q_id_a), "\"%s\"", id_a);
	(void)snprintf(q_id_b, sizeof(q_id_b), "\"%s\"", id_b);
	(void)snprintf(q_now, sizeof(q_now), "%lld", T_NOW);
	f.id = "\"" T_ID "\"";
	f.type = "\"ping\"";
	f.from = q_id_a;
	f.to = q_id_b;
	f.ts = q_now;
	f.reply = NULL;
	f.payload = "{}";
	f.extra = NULL;
	return (f);
}

/* The verdict for f, required to be a refusal with code and why. */
static void
require_refused(const struct fields *f, int code, const char *why)
{
	char			 buf[T_BODY_MAX];
	struct msg		 m;
	struct msg_verdict	 v;

	body_from(buf, sizeof(buf), f);
	ATF_CHECK_MSG(verify_text(buf, &m, &v) == -1, "accepted: %s", buf);
	ATF_CHECK_EQ_MSG(v.code, code, "%s: code %d", buf, v.code);
	ATF_CHECK_MSG(v.why != NULL && strcmp(v.why, why) == 0,
	    "%s: why \"%s\", not \"%s\"", buf, v.why ? v.why : "(null)", why);
	ATF_CHECK(m.payload == NULL);
	msg_free(&m);
}

static void
require_accepted(const struct fields *f, struct msg *m)
{
	char			 buf[T_BODY_MAX];
	struct msg_verdict	 v;

	body_from(buf, sizeof(buf), f);
	ATF_REQUIRE_MSG(verify_text(buf, m, &v) == 0, "refused %s: %s", buf,
	    v.why);
}

static void
require_accepted_free(const struct fields *f)
{
	struct msg	 m;

	require_accepted(f, &m);
	msg_free(&m);
}

static int
is_uuid_v4(const char *s)
{
	size_t	 i;

	if (strlen(s) != MSG_UUID_LEN)
		return (0);
	for (i = 0; i < MSG_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (strchr("0123456789abcdef", s[i]) == NULL ||
		    s[i] == '\0')
			return (0);
	}
	return (s[14] == '4' && strchr("89ab", s[19]) != NULL);
}

/*
 * Building, hashing and the signature vector
 */

ATF_TC_WITHOUT_HEAD(signature_matches_the_published_vector);
ATF_TC_BODY(signature_matches_the_published_vector, tc)
{
	uint8_t			 want[MSG_SIG_LEN], hash[MSG_HASH_LEN];
	uint8_t			 pk[32], *raw;
	size_t			 len;
	struct msg		 m;
	struct msg_verdict	 v;

	keys_init();
	unhex(VEC_CONTROLLER_PK, pk, sizeof(pk));
	ATF_CHECK(memcmp(pk, pk_a, sizeof(pk)) == 0);
	ATF_CHECK_STREQ(id_a, VEC_CONTROLLER_ID);
	unhex(VEC_WORKER_PK, pk, sizeof(pk));
	ATF_CHECK(memcmp(pk, pk_b, sizeof(pk)) == 0);
	ATF_CHECK_STREQ(id_b, VEC_WORKER_ID);
	ATF_REQUIRE_EQ(strlen(VEC_BODY), VEC_BODY_LEN);

	unhex(VEC_BODY_HASH, want, MSG_HASH_LEN);
	msg_hash((const uint8_t *)VEC_BODY, VEC_BODY_LEN, hash);
	ATF_CHECK(memcmp(hash, want, MSG_HASH_LEN) == 0);

	unhex(VEC_SIGNATURE, want, MSG_SIG_LEN);
	raw = sign_raw(sk_a, VEC_BODY, VEC_BODY_LEN, &len);
	ATF_CHECK(memcmp(raw, want, MSG_SIG_LEN) == 0);
	ATF_REQUIRE(msg_verify(raw, len, pk_a, VEC_WORKER_ID, VEC_TS,
	    VEC_TS, T_WINDOW, &m, &v) == 0);
	ATF_CHECK_EQ(m.type, MSG_PING);
	ATF_CHECK_STREQ(m.id, "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
	ATF_CHECK_EQ(json_integer_value(json_object_get(m.payload, "sentAt")),
	    VEC_TS);
	msg_free(&m);
	free(raw);
}

ATF_TC_WITHOUT_HEAD(built_message_signed_by_the_sender_verifies);
ATF_TC_BODY(built_message_signed_by_the_sender_verifies, tc)
{
	char			 id[MSG_UUID_LEN + 1];
	uint8_t			*body, *raw;
	size_t			 blen, len;
	struct msg		 m;
	struct msg_verdict	 v;

	keys_init();
	body = msg_build(MSG_PING, id_a, id_b, T_NOW, NULL,
	    json_pack("{s:I}", "sentAt", (json_int_t)T_NOW), id, &blen);
	ATF_REQUIRE(body != NULL);
	ATF_CHECK(is_uuid_v4(id));
	raw = sign_raw(sk_a, body, blen, &len);
	ATF_REQUIRE_MSG(verify_raw(raw, len, &m, &v) == 0, "%s", v.why);
	ATF_CHECK_STREQ(m.id, id);
	ATF_CHECK_EQ(m.type, MSG_PING);
	ATF_CHECK_STREQ(m.type_str, "ping");
	ATF_CHECK_STREQ(m.from, id_a);
	ATF_CHECK_STREQ(m.to, id_b);
	ATF_CHECK_EQ(m.ts, T_NOW);
	ATF_CHECK_STREQ(m.reply_to, "");
	ATF_REQUIRE(json_is_object(m.payload));
	ATF_CHECK_EQ(json_integer_value(json_object_get(m.payload, "sentAt")),
	    T_NOW);
	msg_free(&m);
	ATF_CHECK(m.payload == NULL);
	free(raw);
	free(body);
}

ATF_TC_WITHOUT_HEAD(body_is_compact_json_in_protocol_key_order);
ATF_TC_BODY(body_is_compact_json_in_protocol_key_order, tc)
{
	char			 id[MSG_UUID_LEN + 1], want[T_BODY_MAX];
	uint8_t			*body, *raw;
	size_t			 blen, len;
	struct msg		 m;
	struct msg_verdict	 v;

	keys_init();
	body = msg_build(MSG_PONG, id_a, id_b, T_NOW, T_ID,
	    json_pack("{s:I,s:n,s:s}", "sentAt", (json_int_t)1, "location",
	    "note", "caf\xc3\xa9"), id, &blen);
	ATF_REQUIRE(body != NULL);
	body_fmt(want, sizeof(want), "{\"id\":\"%s\",\"type\":\"pong\","
	    "\"from\":\"%s\",\"to\":\"%s\",\"ts\":%lld,\"replyTo\":\"%s\","
	    "\"payload\":{\"sentAt\":1,\"location\":null,"
	    "\"note\":\"caf\xc3\xa9\"}}", id, id_a, id_b, T_NOW, T_ID);
	ATF_CHECK_EQ(blen, strlen(want));
	ATF_CHECK_MSG(blen == strlen(want) && memcmp(body, want, blen) == 0,
	    "got %.*s", (int)blen, body);

	raw = sign_raw(sk_a, body, blen, &len);
	ATF_REQUIRE_MSG(verify_raw(raw, len, &m, &v) == 0, "%s", v.why);
	ATF_CHECK_EQ(m.type, MSG_PONG);
	ATF_CHECK_STREQ(m.reply_to, T_ID);
	msg_free(&m);
	free(raw);
	free(body);
}

ATF_TC_WITHOUT_HEAD(build_refuses_what_the_receiver_would_refuse);
ATF_TC_BODY(build_refuses_what_the_receiver_would_refuse, tc)
{
	char	 id[MSG_UUID_LEN + 1];
	size_t	 len;
	json_t	*big;
	char	*pad;

	keys_init();
	/* payload not an object (stolen all the same: no leak under ASan) */
	ATF_CHECK(msg_build(MSG_PING, id_a, id_b, T_NOW, NULL,
	    json_array(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_PING, id_a, id_b, T_NOW, NULL, NULL, id,
	    &len) == NULL);
	/* a response without replyTo, a request with one, a bad one */
	ATF_CHECK(msg_build(MSG_PONG, id_a, id_b, T_NOW, NULL,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_ERROR, id_a, id_b, T_NOW, NULL,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_PING, id_a, id_b, T_NOW, T_ID,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_DISCONNECT, id_a, id_b, T_NOW, T_ID,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_PONG, id_a, id_b, T_NOW, "not-a-uuid",
	    json_object(), id, &len) == NULL);
	/* not our type, not node ids */
	ATF_CHECK(msg_build(MSG_UNKNOWN, id_a, id_b, T_NOW, NULL,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_TYPE_COUNT, id_a, id_b, T_NOW, NULL,
	    json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_PING, "A3a107bff3ce10be1d70dd18e74bc099",
	    id_b, T_NOW, NULL, json_object(), id, &len) == NULL);
	ATF_CHECK(msg_build(MSG_PING, id_a, "29acbae1", T_NOW, NULL,
	    json_object(), id, &len) == NULL);
	/* over the message limit */
	ATF_REQUIRE((pad = malloc(LETHD_MAX_MESSAGE + 1)) != NULL);
	memset(pad, 'a', LETHD_MAX_MESSAGE);
	pad[LETHD_MAX_MESSAGE] = '\0';
	big = json_pack("{s:s}", "p", pad);
	ATF_REQUIRE(big != NULL);
	ATF_CHECK(msg_build(MSG_PING, id_a, id_b, T_NOW, NULL, big, id,
	    &len) == NULL);
	free(pad);
}

ATF_TC_WITHOUT_HEAD(fresh_uuids_are_version_4_and_differ);
ATF_TC_BODY(fresh_uuids_are_version_4_and_differ, tc)
{
	char	 a[MSG_UUID_LEN + 1], b[MSG_UUID_LEN + 1];
	int	 i;

	ATF_REQUIRE(sodium_init() >= 0);
	for (i = 0; i < 1000; i++) {
		msg_uuid(a);
		msg_uuid(b);
		ATF_REQUIRE_MSG(is_uuid_v4(a), "%s", a);
		ATF_REQUIRE_MSG(is_uuid_v4(b), "%s", b);
		ATF_REQUIRE(strcmp(a, b) != 0);
	}
}

ATF_TC_WITHOUT_HEAD(type_tables_agree_with_the_protocol);
ATF_TC_BODY(type_tables_agree_with_the_protocol, tc)
{
	static const struct {
		enum msg_type	 req, resp;
	} pairs[] = {
		{ MSG_PING, MSG_PONG },
		{ MSG_PAIR, MSG_PAIR_ACK },
		{ MSG_GET_STATS, MSG_STATS },
		{ MSG_START_MINER, MSG_MINER_ACK },
		{ MSG_STOP_MINER, MSG_MINER_ACK },
		{ MSG_RESTART_MINER, MSG_MINER_ACK },
		{ MSG_GET_LOGS, MSG_LOGS },
		{ MSG_GET_PROFILES, MSG_PROFILES },
		{ MSG_DEPLOY, MSG_DEPLOY_ACK },
	};
	size_t	 i;
	int	 t, nreq = 0, nresp = 0;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		ATF_CHECK(msg_is_request(pairs[i].req));
		ATF_CHECK(!msg_is_response(pairs[i].req));
		ATF_CHECK_EQ(msg_response_type(pairs[i].req), pairs[i].resp);
		ATF_CHECK(msg_is_response(pairs[i].resp));
		ATF_CHECK(!msg_is_request(pairs[i].resp));
	}
	for (t = MSG_UNKNOWN + 1; t < MSG_TYPE_COUNT; t++) {
		ATF_CHECK_EQ(msg_type_parse(msg_type_name(t)), t);
		nreq += msg_is_request(t);
		nresp += msg_is_response(t);
	}
	ATF_CHECK_EQ(nreq, 9);
	ATF_CHECK_EQ(nresp, 8);		/* seven answers and error */
	ATF_CHECK(msg_is_response(MSG_ERROR));
	ATF_CHECK(!msg_is_request(MSG_DISCONNECT));
	ATF_CHECK(!msg_is_response(MSG_DISCONNECT));
	ATF_CHECK(!msg_is_request(MSG_UNKNOWN));
	ATF_CHECK_EQ(msg_response_type(MSG_DISCONNECT), MSG_UNKNOWN);
	ATF_CHECK_EQ(msg_response_type(MSG_PONG), MSG_UNKNOWN);
	ATF_CHECK_EQ(msg_type_parse("frobnicate"), MSG_UNKNOWN);
	ATF_CHECK_EQ(msg_type_parse(""), MSG_UNKNOWN);
	ATF_CHECK_STREQ(msg_type_name(MSG_TYPE_COUNT), "unknown");
	ATF_CHECK_STREQ(msg_type_name(MSG_GET_STATS), "get_stats");
}

/*
 * Step 1: bounds and the signature
 */

static void
require_bad_signature(const uint8_t *raw, size_t len, const uint8_t *pk)
{
	struct msg		 m;
	struct msg_verdict	 v;

	ATF_CHECK(msg_verify(raw, len, pk, id_b, T_NOW, T_FLOOR, T_WINDOW,
	    &m, &v) == -1);
	ATF_CHECK_EQ(v.code, MSG_ERR_UNAUTHORISED);
	ATF_CHECK(v.why != NULL && strcmp(v.why, "bad signature") == 0);
	ATF_CHECK(m.payload == NULL);
}

ATF_TC_WITHOUT_HEAD(signature_by_another_key_is_unauthorised);
ATF_TC_BODY(signature_by_another_key_is_unauthorised, tc)
{
	struct fields	 f;
	char		 buf[T_BODY_MAX];
	uint8_t		*raw;
	size_t		 len;

	keys_init();
	f = fields_ok();
	body_from(buf, sizeof(buf), &f);
	/* C signed it, the session says A */
	raw = sign_raw(sk_c, buf, strlen(buf), &len);
	require_bad_signature(raw, len, pk_a);
	free(raw);
	/* A signed it, checked against B's key */
	raw = sign_raw(sk_a, buf, strlen(buf), &len);
	require_bad_signature(raw, len, pk_b);
	/* an all-zero signature */
	memset(raw, 0, MSG_SIG_LEN);
	require_bad_signature(raw, len, pk_a);
	free(raw);
}

ATF_TC_WITHOUT_HEAD(any_flipped_bit_in_body_or_signature_is_unauthorised);
ATF_TC_BODY(any_flipped_bit_in_body_or_signature_is_unauthorised, tc)
{
	struct fields		 f;
	struct msg		 m;
	struct msg_verdict	 v;
	char			 buf[T_BODY_MAX];
	uint8_t			*raw;
	size_t			 len, i;
	int			 bit;

	keys_init();
	f = fields_ok();
	body_from(buf, sizeof(buf), &f);
	raw = sign_raw(sk_a, buf, strlen(buf), &len);
	ATF_REQUIRE(verify_raw(raw, len, &m, &v) == 0);
	msg_free(&m);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			raw[i] ^= 1 << bit;
			require_bad_signature(raw, len, pk_a);
			raw[i] ^= 1 << bit;
		}
	}
	/* and unchanged, it still verifies */
	ATF_CHECK(verify_raw(raw, len, &m, &v) == 0);
	msg_free(&m);
	free(raw);
}

ATF_TC_WITHOUT_HEAD(truncated_or_extended_message_is_unauthorised);
ATF_TC_BODY(truncated_or_extended_message_is_unauthorised, tc)
{
	struct fields	 f;
	char		 buf[T_BODY_MAX];
	uint8_t		*raw;
	size_t		 len;

	keys_init();
	f = fields_ok();
	body_from(buf, sizeof(buf), &f);
	raw = sign_raw(sk_a, buf, strlen(buf), &len);
	require_bad_signature(raw, len - 1, pk_a);
	require_bad_signature(raw, MSG_SIG_LEN + 2, pk_a);
	raw[len] = ' ';		/* sign_raw left a byte of room */
	require_bad_signature(raw, len + 1, pk_a);
	free(raw);
}

ATF_TC_WITHOUT_HEAD(too_short_message_is_refused_before_the_signature);
ATF_TC_BODY(too_short_message_is_refused_before_the_signature, tc)
{
	struct msg		 m;
	struct msg_verdict	 v;
	uint8_t			*raw;
	size_t			 len;

	keys_init();
	require_bad_signature((const uint8_t *)"", 0, pk_a);
	/* a valid signature over a one-byte body: too short all the same */
	raw = sign_raw(sk_a, "{", 1, &len);
	require_bad_signature(raw, len, pk_a);
	free(raw);
	/* a signature alone */
	raw = sign_raw(sk_a, "", 0, &len);
	require_bad_signature(raw, len, pk_a);
	free(raw);
	/* the shortest length that gets past step 1 reaches the parser */
	raw = sign_raw(sk_a, "{}", 2, &len);
	ATF_CHECK(verify_raw(raw, len, &m, &v) == -1);
	ATF_CHECK_EQ(v.code, MSG_ERR_INVALID);
	free(raw);
}

/* A signed body of exactly blen bytes: the good fields, padded. */
static uint8_t *
padded_raw(size_t blen, size_t *rawlen)
{
	char		 head[T_BODY_MAX];
	char		*body;
	uint8_t		*raw;
	size_t		 hlen, tail;
	struct fields	 f;

	f = fields_ok();
	f.payload = "{\"p\":\"";
	body_from(head, sizeof(head), &f);
	hlen = strlen(head) - 1;	/* without the closing brace */
	tail = 3;			/* "}} */
	ATF_REQUIRE(blen > hlen + tail);
	ATF_REQUIRE((body = malloc(blen)) != NULL);
	memcpy(body, head, hlen);
	memset(body + hlen, 'a', blen - hlen - tail);
	memcpy(body + blen - tail, "\"}}", tail);
	raw = sign_raw(sk_a, body, blen, rawlen);
	free(body);
	return (raw);
}

ATF_TC_WITHOUT_HEAD(oversize_message_is_refused_and_the_limit_is_not);
ATF_TC_BODY(oversize_message_is_refused_and_the_limit_is_not, tc)
{
	struct msg		 m;
	struct msg_verdict	 v;
	uint8_t			*raw;
	size_t			 len;

	keys_init();
	raw = padded_raw(LETHD_MAX_MESSAGE, &len);
	ATF_CHECK_EQ(len, MSG_SIG_LEN + LETHD_MAX_MESSAGE);
	ATF_CHECK_MSG(verify_raw(raw, len, &m, &v) == 0, "%s", v.why);
	ATF_CHECK(json_is_string(json_object_get(m.payload, "p")));
	msg_free(&m);
	free(raw);
	raw = padded_raw(LETHD_MAX_MESSAGE + 1, &len);
	require_bad_signature(raw, len, pk_a);
	free(raw);
}

/*
 * Step 2: the body
 */

ATF_TC_WITHOUT_HEAD(body_that_is_not_a_json_object_is_invalid);
ATF_TC_BODY(body_that_is_not_a_json_object_is_invalid, tc)
{
	static const char *const bad[] = {
		"hello world", "{\"id\":", "{}{}", "{} x", "\"a string\"",
	};
	struct msg		 m;
	struct msg_verdict	 v;
	size_t			 i;

	keys_init();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ATF_CHECK_MSG(verify_text(bad[i], &m, &v) == -1, "%s", bad[i]);
		ATF_CHECK_EQ(v.code, MSG_ERR_INVALID);
		ATF_CHECK_STREQ(v.why, "invalid JSON");
	}
	ATF_CHECK(verify_text("[1,2]", &m, &v) == -1);
	ATF_CHECK_EQ(v.code, MSG_ERR_INVALID);
	ATF_CHECK_STREQ(v.why, "invalid body: not an object");
}

ATF_TC_WITHOUT_HEAD(duplicate_keys_are_invalid_at_any_level);
ATF_TC_BODY(duplicate_keys_are_invalid_at_any_level, tc)
{
	struct fields	 f;
	char		 extra[128];

	keys_init();
	f = fields_ok();
	(void)snprintf(extra, sizeof(extra), ",\"ts\":%lld", T_NOW);
	f.extra = extra;
	require_refused(&f, MSG_ERR_INVALID, "invalid JSON: duplicate key");
	f = fields_ok();
	f.payload = "{\"a\":1,\"b\":{\"c\":1,\"c\":2}}";
	require_refused(&f, MSG_ERR_INVALID, "invalid JSON: duplicate key");
}

/* {"a":[[...]]} with depth arrays. */
static char *
nested(int depth)
{
	char	*s;
	int	 i;

	ATF_REQUIRE((s = malloc(2 * depth + 8)) != NULL);
	memcpy(s, "{\"a\":", 5);
	for (i = 0; i < depth; i++)
		s[5 + i] = '[';
	for (i = 0; i < depth; i++)
		s[5 + depth + i] = ']';
	memcpy(s + 5 + 2 * depth, "}", 2);
	return (s);
}

ATF_TC_WITHOUT_HEAD(nesting_past_the_depth_limit_is_invalid);
ATF_TC_BODY(nesting_past_the_depth_limit_is_invalid, tc)
{
	struct fields	 f;
	char		*p;
	char		*big;
	size_t		 len;

	keys_init();
	f = fields_ok();
	/* the body is depth 1, the payload 2, its arrays 3 and on */
	p = nested(MSG_JSON_DEPTH - 2);
	f.payload = p;
	require_accepted_free(&f);
	free(p);
	p = nested(MSG_JSON_DEPTH - 1);
	f.payload = p;
	require_refused(&f, MSG_ERR_INVALID, "invalid body: nested too deep");
	free(p);

	/* far past anything: jansson's own limit or ours, never a crash */
	{
		struct msg		 m;
		struct msg_verdict	 v;
		uint8_t			*raw;

		p = nested(100000);
		f.payload = p;
		len = strlen(p) + T_BODY_MAX;
		ATF_REQUIRE((big = malloc(len)) != NULL);
		body_from(big, len, &f);
		raw = sign_raw(sk_a, big, strlen(big), &len);
		ATF_CHECK(verify_raw(raw, len, &m, &v) == -1);
		ATF_CHECK_EQ(v.code, MSG_ERR_INVALID);
		free(raw);
		free(big);
		free(p);
	}
}

ATF_TC_WITHOUT_HEAD(unknown_or_missing_top_level_key_is_invalid);
ATF_TC_BODY(unknown_or_missing_top_level_key_is_invalid, tc)
{
	struct fields	 f;
	char		 buf[T_BODY_MAX];
	struct msg	 m;
	struct msg_verdict v;

	keys_init();
	f = fields_ok();
	f.extra = ",\"extra\":1";
	require_refused(&f, MSG_ERR_INVALID, "invalid body: unknown key");
	f.extra = ",\"Payload\":{}";
	require_refused(&f, MSG_ERR_INVALID, "invalid body: unknown key");
	/* no payload at all */
	body_fmt(buf, sizeof(buf), "{\"id\":\"%s\",\"type\":\"ping\","
	    "\"from\":\"%s\",\"to\":\"%s\",\"ts\":%lld}", T_ID, id_a, id_b,
	    T_NOW);
	ATF_CHECK(verify_text(buf, &m, &v) == -1);
	ATF_CHECK_STREQ(v.why, "invalid payload");
	/* no ts */
	body_fmt(buf, sizeof(buf), "{\"id\":\"%s\",\"type\":\"ping\","
	    "\"from\":\"%s\",\"to\":\"%s\",\"payload\":{}}", T_ID, id_a, id_b);
	ATF_CHECK(verify_text(buf, &m, &v) == -1);
	ATF_CHECK_STREQ(v.why, "invalid ts");
	/* keys in another order are fine: the signature covers the bytes */
	body_fmt(buf, sizeof(buf), "{\"payload\":{},\"ts\":%lld,\"to\":\"%s\","
	    "\"from\":\"%s\",\"type\":\"ping\",\"id\":\"%s\"}", T_NOW, id_b,
	    id_a, T_ID);
	ATF_CHECK_MSG(verify_text(buf, &m, &v) == 0, "%s", v.why);
	msg_free(&m);
}

ATF_TC_WITHOUT_HEAD(malformed_id_is_invalid);
ATF_TC_BODY(malformed_id_is_invalid, tc)
{
	static const char *const bad[] = {
		"\"6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F\"",
		"\"6f1c2d3e4a5b4c6d8e7f0a1b2c3d4e5f\"",
		"\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5\"",
		"\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f0\"",
		"\"6f1c2d3e-4a5b-4c6d-8e7f_0a1b2c3d4e5f\"",
		"\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5g\"",
		"\"\"", "42", "null", "[\"" T_ID "\"]",
		"\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d\\u0000e5f\"",
	};
	struct fields	 f;
	size_t		 i;

	keys_init();
	f = fields_ok();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.id = bad[i];
		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			/* jansson refuses \u0000 without JSON_ALLOW_NUL */
			require_refused(&f, MSG_ERR_INVALID, "invalid JSON");
		else
			require_refused(&f, MSG_ERR_INVALID, "invalid id");
	}
}

ATF_TC_WITHOUT_HEAD(type_outside_lowercase_and_underscore_is_invalid);
ATF_TC_BODY(type_outside_lowercase_and_underscore_is_invalid, tc)
{
	static const char *const bad[] = {
		"\"Ping\"", "\"ping!\"", "\"get-stats\"", "\"\"", "\"ping \"",
		"\"p1ng\"", "1", "null",
		"\"abcdefghijklmnopqrstuvwxyz_abcdef\"",	/* 33 */
		"\"caf\xc3\xa9\"",
	};
	struct fields	 f;
	size_t		 i;

	keys_init();
	f = fields_ok();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.type = bad[i];
		require_refused(&f, MSG_ERR_INVALID, "invalid type");
	}
}

ATF_TC_WITHOUT_HEAD(unknown_type_verifies_for_the_caller_to_answer);
ATF_TC_BODY(unknown_type_verifies_for_the_caller_to_answer, tc)
{
	struct fields	 f;
	struct msg	 m;

	keys_init();
	f = fields_ok();
	f.type = "\"frobnicate\"";
	f.payload = "{\"x\":[1,2,{\"y\":null}]}";
	require_accepted(&f, &m);
	ATF_CHECK_EQ(m.type, MSG_UNKNOWN);
	ATF_CHECK_STREQ(m.type_str, "frobnicate");
	msg_free(&m);
	f.type = "\"abcdefghijklmnopqrstuvwxyz_abcde\"";	/* 32 */
	require_accepted(&f, &m);
	ATF_CHECK_EQ(m.type, MSG_UNKNOWN);
	ATF_CHECK_STREQ(m.type_str, "abcdefghijklmnopqrstuvwxyz_abcde");
	msg_free(&m);
}

ATF_TC_WITHOUT_HEAD(malformed_from_to_ts_or_payload_is_invalid);
ATF_TC_BODY(malformed_from_to_ts_or_payload_is_invalid, tc)
{
	static const char *const bad_ids[] = {
		"\"03A107BFF3CE10BE1D70DD18E74BC099\"",
		"\"03a107bff3ce10be1d70dd18e74bc09\"",
		"\"03a107bff3ce10be1d70dd18e74bc0990\"", "\"\"", "3", "null",
	};
	static const char *const bad_ts[] = {
		"1700000000000.0", "1.7e12", "\"1700000000000\"", "null",
		"true", "99999999999999999999999",
	};
	static const char *const bad_payloads[] = {
		"[]", "null", "\"{}\"", "1", "true",
	};
	struct fields	 f;
	size_t		 i;

	keys_init();
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		f = fields_ok();
		f.from = bad_ids[i];
		require_refused(&f, MSG_ERR_INVALID, "invalid from");
		f = fields_ok();
		f.to = bad_ids[i];
		require_refused(&f, MSG_ERR_INVALID, "invalid to");
	}
	f = fields_ok();
	for (i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
		f.ts = bad_ts[i];
		/* an integer jansson cannot hold fails in the parser */
		require_refused(&f, MSG_ERR_INVALID,
		    strcmp(bad_ts[i], "99999999999999999999999") == 0 ?
		    "invalid JSON" : "invalid ts");
	}
	f = fields_ok();
	for (i = 0; i < sizeof(bad_payloads) / sizeof(bad_payloads[0]); i++) {
		f.payload = bad_payloads[i];
		require_refused(&f, MSG_ERR_INVALID, "invalid payload");
	}
}

ATF_TC_WITHOUT_HEAD(invalid_utf8_is_invalid_json);
ATF_TC_BODY(invalid_utf8_is_invalid_json, tc)
{
	struct fields	 f;

	keys_init();
	f = fields_ok();
	f.payload = "{\"note\":\"caf\xc3\"}";
	require_refused(&f, MSG_ERR_INVALID, "invalid JSON");
	f.payload = "{\"note\":\"\xed\xa0\x80\"}";	/* a surrogate */
	require_refused(&f, MSG_ERR_INVALID, "invalid JSON");
	f.payload = "{\"note\":\"caf\xc3\xa9\"}";
	require_accepted_free(&f);
}

ATF_TC_WITHOUT_HEAD(response_without_reply_to_is_invalid);
ATF_TC_BODY(response_without_reply_to_is_invalid, tc)
{
	static const char *const responses[] = {
		"\"pong\"", "\"pair_ack\"", "\"stats\"", "\"miner_ack\"",
		"\"logs\"", "\"profiles\"", "\"deploy_ack\"", "\"error\"",
	};
	struct fields	 f;
	struct msg	 m;
	size_t		 i;

	keys_init();
	f = fields_ok();
	for (i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		f.type = responses[i];
		f.reply = NULL;
		require_refused(&f, MSG_ERR_INVALID, "invalid replyTo");
		f.reply = "\"" T_ID2 "\"";
		require_accepted(&f, &m);
		ATF_CHECK_STREQ(m.reply_to, T_ID2);
		msg_free(&m);
	}
	f.reply = "\"not-a-uuid\"";
	require_refused(&f, MSG_ERR_INVALID, "invalid replyTo");
	f.reply = "null";
	require_refused(&f, MSG_ERR_INVALID, "invalid replyTo");
	/* a request or a notice may carry one, and it is kept */
	f = fields_ok();
	f.type = "\"disconnect\"";
	require_accepted_free(&f);
	f.reply = "\"" T_ID2 "\"";
	require_accepted_free(&f);
}

/*
 * Step 3: against the session key, this node and the clock
 */

ATF_TC_WITHOUT_HEAD(from_other_than_the_session_key_is_unauthorised);
ATF_TC_BODY(from_other_than_the_session_key_is_unauthorised, tc)
{
	struct fields	 f;
	char		 q[NODE_ID_LEN + 3];

	keys_init();
	f = fields_ok();
	(void)snprintf(q, sizeof(q), "\"%s\"", id_c);
	f.from = q;
	require_refused(&f, MSG_ERR_UNAUTHORISED,
	    "from does not match the session key");
	f.from = q_id_b;
	require_refused(&f, MSG_ERR_UNAUTHORISED,
	    "from does not match the session key");
}

ATF_TC_WITHOUT_HEAD(message_to_another_node_is_invalid);
ATF_TC_BODY(message_to_another_node_is_invalid, tc)
{
	struct fields	 f;
	char		 q[NODE_ID_LEN + 3];

	keys_init();
	f = fields_ok();
	(void)snprintf(q, sizeof(q), "\"%s\"", id_c);
	f.to = q;
	require_refused(&f, MSG_ERR_INVALID, "addressed to another node");
	f.to = q_id_a;
	require_refused(&f, MSG_ERR_INVALID, "addressed to another node");
}

ATF_TC_WITHOUT_HEAD(timestamp_outside_the_window_is_invalid_both_ways);
ATF_TC_BODY(timestamp_outside_the_window_is_invalid_both_ways, tc)
{
	struct fields	 f;
	char		 ts[64];

	keys_init();
	f = fields_ok();
	f.ts = ts;
	(void)snprintf(ts, sizeof(ts), "%lld", T_NOW + T_WINDOW_MS + 1);
	require_refused(&f, MSG_ERR_INVALID, "timestamp outside the window");
	(void)snprintf(ts, sizeof(ts), "%lld", T_NOW - T_WINDOW_MS - 1);
	require_refused(&f, MSG_ERR_INVALID, "timestamp outside the window");
	(void)snprintf(ts, sizeof(ts), "%lld", LLONG_MAX);
	require_refused(&f, MSG_ERR_INVALID, "timestamp outside the window");
	(void)snprintf(ts, sizeof(ts), "%lld", LLONG_MIN);
	require_refused(&f, MSG_ERR_INVALID, "timestamp outside the window");
	(void)snprintf(ts, sizeof(ts), "%lld", T_NOW + T_WINDOW_MS);
	require_accepted_free(&f);
	/* the window reaches before the floor here: see the next test */
	(void)snprintf(ts, sizeof(ts), "%lld", T_FLOOR);
	require_accepted_free(&f);
}

ATF_TC_WITHOUT_HEAD(timestamp_before_this_node_started_is_invalid);
ATF_TC_BODY(timestamp_before_this_node_started_is_invalid, tc)
{
	struct fields	 f;
	char		 ts[64];

	keys_init();
	f = fields_ok();
	f.ts = ts;
	(void)snprintf(ts, sizeof(ts), "%lld", T_FLOOR - 1);
	require_refused(&f, MSG_ERR_INVALID,
	    "timestamp before this node started");
	(void)snprintf(ts, sizeof(ts), "%lld", T_FLOOR);
	require_accepted_free(&f);
}

/*
 * The replay cache
 */

static void
uuid_n(char id[MSG_UUID_LEN + 1], unsigned int n)
{
	(void)snprintf(id, MSG_UUID_LEN + 1, "%08x-0000-4000-8000-%012x", n,
	    n);
}

ATF_TC_WITHOUT_HEAD(replay_cache_remembers_new_ids_and_refuses_seen);
ATF_TC_BODY(replay_cache_remembers_new_ids_and_refuses_seen, tc)
{
	struct replay_cache	*rc;

	ATF_REQUIRE((rc = replay_new(8)) != NULL);
	ATF_CHECK_EQ(replay_check(rc, T_ID, T_NOW, T_NOW - T_WINDOW_MS), 0);
	ATF_CHECK_EQ(replay_count(rc), 1);
	ATF_CHECK_EQ(replay_check(rc, T_ID, T_NOW, T_NOW - T_WINDOW_MS), 1);
	/* seen is seen, whatever ts the copy claims */
	ATF_CHECK_EQ(replay_check(rc, T_ID, T_NOW + 5, T_NOW - T_WINDOW_MS),
	    1);
	ATF_CHECK_EQ(replay_check(rc, T_ID2, T_NOW, T_NOW - T_WINDOW_MS), 0);
	ATF_CHECK_EQ(replay_count(rc), 2);
	/* an id longer than a UUID is never accepted */
	ATF_CHECK_EQ(replay_check(rc, T_ID "0", T_NOW, T_NOW - T_WINDOW_MS),
	    -1);
	replay_free(rc);
	replay_free(NULL);
	ATF_CHECK(replay_new(0) == NULL);
}

ATF_TC_WITHOUT_HEAD(full_replay_cache_refuses_and_never_evicts);
ATF_TC_BODY(full_replay_cache_refuses_and_never_evicts, tc)
{
	struct replay_cache	*rc;
	char			 id[MSG_UUID_LEN + 1];
	unsigned int		 i;

	ATF_REQUIRE((rc = replay_new(4)) != NULL);
	for (i = 0; i < 4; i++) {
		uuid_n(id, i);
		ATF_CHECK_EQ(replay_check(rc, id, T_NOW + i, T_NOW - 1), 0);
	}
	uuid_n(id, 4);
	ATF_CHECK_EQ(replay_check(rc, id, T_NOW + 4, T_NOW - 1), -1);
	ATF_CHECK_EQ(replay_count(rc), 4);
	/* every live id is still there */
	for (i = 0; i < 4; i++) {
		uuid_n(id, i);
		ATF_CHECK_EQ(replay_check(rc, id, T_NOW + i, T_NOW - 1), 1);
	}
	replay_free(rc);
}

ATF_TC_WITHOUT_HEAD(expired_ids_free_room_in_the_replay_cache);
ATF_TC_BODY(expired_ids_free_room_in_the_replay_cache, tc)
{
	struct replay_cache	*rc;
	char			 id[MSG_UUID_LEN + 1];
	unsigned int		 i;

	ATF_REQUIRE((rc = replay_new(4)) != NULL);
	/* ts 100, 101, 102, 103 */
	for (i = 0; i < 4; i++) {
		uuid_n(id, i);
		ATF_CHECK_EQ(replay_check(rc, id, 100 + i, 0), 0);
	}
	uuid_n(id, 4);
	ATF_CHECK_EQ(replay_check(rc, id, 104, 100), -1);
	/* entries with ts < 102 go: 100 and 101 */
	ATF_CHECK_EQ(replay_check(rc, id, 104, 102), 0);
	ATF_CHECK_EQ(replay_count(rc), 3);
	uuid_n(id, 0);
	ATF_CHECK_EQ(replay_check(rc, id, 105, 102), 0);
	uuid_n(id, 2);
	ATF_CHECK_EQ(replay_check(rc, id, 102, 102), 1);
	ATF_CHECK_EQ(replay_count(rc), 4);
	/* all of them out of the window */
	uuid_n(id, 9);
	ATF_CHECK_EQ(replay_check(rc, id, 1000, 1000), 0);
	ATF_CHECK_EQ(replay_count(rc), 1);
	replay_free(rc);
}

ATF_TC_WITHOUT_HEAD(flood_of_distinct_ids_is_refused_past_the_limit);
ATF_TC_BODY(flood_of_distinct_ids_is_refused_past_the_limit, tc)
{
	struct replay_cache	*rc;
	char			 id[MSG_UUID_LEN + 1];
	unsigned int		 i, accepted = 0, refused = 0;
	int			 rv;

	ATF_REQUIRE((rc = replay_new(REPLAY_CACHE_DEFAULT)) != NULL);
	for (i = 0; i < T_FLOOD; i++) {
		uuid_n(id, i);
		rv = replay_check(rc, id, T_NOW, T_NOW - T_WINDOW_MS);
		if (rv == 0)
			accepted++;
		else if (rv == -1)
			refused++;
		if (i < REPLAY_CACHE_DEFAULT)
			ATF_REQUIRE_EQ(rv, 0);
		else
			ATF_REQUIRE_EQ(rv, -1);
	}
	ATF_CHECK_EQ(accepted, REPLAY_CACHE_DEFAULT);
	ATF_CHECK_EQ(refused, T_FLOOD - REPLAY_CACHE_DEFAULT);
	ATF_CHECK_EQ(replay_count(rc), REPLAY_CACHE_DEFAULT);
	/* the window moves on: the whole flood ages out at once */
	uuid_n(id, T_FLOOD);
	ATF_CHECK_EQ(replay_check(rc, id, T_NOW + T_WINDOW_MS + 1, T_NOW + 1),
	    0);
	ATF_CHECK_EQ(replay_count(rc), 1);
	/* and a rolling flood, each id expiring the one before */
	for (i = 0; i < T_FLOOD; i++) {
		uuid_n(id, T_FLOOD + 1 + i);
		ATF_REQUIRE_EQ(replay_check(rc, id, T_NOW + 2 * T_WINDOW_MS + i,
		    T_NOW + 2 * T_WINDOW_MS + i), 0);
	}
	ATF_CHECK_EQ(replay_count(rc), 1);
	replay_free(rc);
}

/*
 * Pairing
 */

static void
token_round_trip(const char *addr)
{
	uint8_t		 pk[32], secret[PAIR_SECRET_LEN];
	uint8_t		 pk2[32], secret2[PAIR_SECRET_LEN];
	char		 tok[PAIR_TOKEN_MAX], got[NET_ADDR_MAX];
	const char	*why = "unset";

	randombytes_buf(pk, sizeof(pk));
	randombytes_buf(secret, sizeof(secret));
	ATF_REQUIRE_MSG(pair_token_encode(addr, pk, secret, tok,
	    sizeof(tok)) == 0, "%s", addr);
	ATF_CHECK(strncmp(tok, PAIR_TOKEN_PREFIX,
	    strlen(PAIR_TOKEN_PREFIX)) == 0);
	ATF_CHECK(strcspn(tok + strlen(PAIR_TOKEN_PREFIX), "+/=") ==
	    strlen(tok + strlen(PAIR_TOKEN_PREFIX)));
	ATF_REQUIRE_MSG(pair_token_decode(tok, got, sizeof(got), pk2, secret2,
	    &why) == 0, "%s: %s", tok, why);
	ATF_CHECK_STREQ(got, addr);
	ATF_CHECK(memcmp(pk, pk2, sizeof(pk)) == 0);
	ATF_CHECK(memcmp(secret, secret2, sizeof(secret)) == 0);
}

ATF_TC_WITHOUT_HEAD(pairing_token_round_trips_every_address_form);
ATF_TC_BODY(pairing_token_round_trips_every_address_form, tc)
{
	char	 longest[NET_ADDR_MAX];

	ATF_REQUIRE(sodium_init() >= 0);
	token_round_trip("192.0.2.10:7470");
	token_round_trip("[2001:db8::1]:7470");
	token_round_trip("[::ffff:192.0.2.1]:1");
	token_round_trip("rig-07.example.net:65535");
	token_round_trip("a:1");
	memset(longest, 'h', sizeof(longest));
	memcpy(longest + sizeof(longest) - 7, ":65535", 7);
	ATF_REQUIRE_EQ(strlen(longest), NET_ADDR_MAX - 1);
	token_round_trip(longest);
}

ATF_TC_WITHOUT_HEAD(pairing_token_matches_the_published_vector);
ATF_TC_BODY(pairing_token_matches_the_published_vector, tc)
{
	uint8_t		 secret[PAIR_SECRET_LEN], proof[PAIR_PROOF_LEN];
	uint8_t		 want[PAIR_PROOF_LEN], pk2[32], secret2[32];
	char		 tok[PAIR_TOKEN_MAX], addr[NET_ADDR_MAX];
	const char	*why;

	keys_init();
	unhex(VEC_PAIR_SECRET, secret, sizeof(secret));
	ATF_REQUIRE(pair_token_encode(VEC_PAIR_ADDR, pk_b, secret, tok,
	    sizeof(tok)) == 0);
	ATF_CHECK_STREQ(tok, VEC_PAIR_TOKEN);
	ATF_REQUIRE(pair_token_decode(VEC_PAIR_TOKEN, addr, sizeof(addr), pk2,
	    secret2, &why) == 0);
	ATF_CHECK_STREQ(addr, VEC_PAIR_ADDR);
	ATF_CHECK(memcmp(pk2, pk_b, 32) == 0);
	ATF_CHECK(memcmp(secret2, secret, 32) == 0);
	pair_proof(secret, pk_a, pk_b, proof);
	unhex(VEC_PAIR_PROOF, want, sizeof(want));
	ATF_CHECK(memcmp(proof, want, sizeof(want)) == 0);
	ATF_CHECK(pair_proof_check(secret, pk_a, pk_b, want));
}

/* base64url, no padding, of raw[0..len). */
static void
token_of(const uint8_t *raw, size_t len, char *tok, size_t toklen)
{
	size_t	 plen = strlen(PAIR_TOKEN_PREFIX);

	ATF_REQUIRE(toklen > plen);
	memcpy(tok, PAIR_TOKEN_PREFIX, plen);
	ATF_REQUIRE(sodium_bin2base64(tok + plen, toklen - plen, raw, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != NULL);
}

static void
require_decode_error(const char *tok, const char *why_want)
{
	uint8_t		 pk[32], secret[PAIR_SECRET_LEN], zero[32] = { 0 };
	char		 addr[NET_ADDR_MAX];
	const char	*why = NULL;

	memset(pk, 0xee, sizeof(pk));
	memset(secret, 0xee, sizeof(secret));
	ATF_CHECK_MSG(pair_token_decode(tok, addr, sizeof(addr), pk, secret,
	    &why) == -1, "accepted %s", tok);
	ATF_CHECK_MSG(why != NULL && strcmp(why, why_want) == 0,
	    "%s: \"%s\", not \"%s\"", tok, why ? why : "(null)", why_want);
	ATF_CHECK(memcmp(pk, zero, 32) == 0);
	ATF_CHECK(memcmp(secret, zero, 32) == 0);
}

/* A raw token body: length byte, address, 64 bytes of key and secret. */
static size_t
raw_token(uint8_t *raw, size_t alen_byte, const char *addr)
{
	size_t	 alen = strlen(addr);

	raw[0] = (uint8_t)alen_byte;
	memcpy(raw + 1, addr, alen);
	memset(raw + 1 + alen, 0x5a, 64);
	return (1 + alen + 64);
}

ATF_TC_WITHOUT_HEAD(pairing_token_decode_names_each_error);
ATF_TC_BODY(pairing_token_decode_names_each_error, tc)
{
	static const char *const bad_addrs[] = {
		"192.0.2.10", "192.0.2.10:", "192.0.2.10:0", "192.0.2.10:65536",
		"192.0.2.10:07470", "192.0.2.10:74a0", "[2001:db8::1]:",
		"[2001:db8::1]7470", "2001:db8::1:7470", "[2001:db8::1:7470",
		"[]:7470", "[zz::1]:7470", ":7470", "host name:7470",
		"h\tx:7470", "h\x7fx:7470", "h\xc3\xa9:1", "[::1]:1:2",
		"[1.2.3.4]:1",
	};
	uint8_t	 raw[512], pk[32], secret[32];
	char	 tok[1024], addr[NET_ADDR_MAX], longaddr[NET_ADDR_MAX + 1];
	size_t	 len, i;
	const char *why;

	ATF_REQUIRE(sodium_init() >= 0);
	require_decode_error("", "not a lethd pairing token");
	require_decode_error("lethd2-AAAA", "not a lethd pairing token");
	require_decode_error("LETHD1-AAAA", "not a lethd pairing token");
	require_decode_error("lethd1", "not a lethd pairing token");
	require_decode_error("lethd1-", "truncated");
	require_decode_error("lethd1-AA==", "bad base64");
	require_decode_error("lethd1-A+/A", "bad base64");
	require_decode_error("lethd1-AAA A", "bad base64");
	require_decode_error("lethd1-A", "bad base64");
	require_decode_error("lethd1-AB", "bad base64");  /* bits left over */
	/* libsodium 1.0.18 alone would read a byte over 0x7f as '_' */
	require_decode_error("lethd1-DzE5Mi4wLjIuMTA6NzQ3MCkqKyitwL8wMTIzNDT"
	    "\xebNzg5Ojs8PT4_QEFCQ0RFRkdIQEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla"
	    "W1xdXl8", "bad base64");

	len = raw_token(raw, 9, "a.b.c:123");
	/* a byte short, one byte only, the secret half there */
	token_of(raw, len - 1, tok, sizeof(tok));
	require_decode_error(tok, "truncated");
	token_of(raw, 1, tok, sizeof(tok));
	require_decode_error(tok, "truncated");
	token_of(raw, len - 32, tok, sizeof(tok));
	require_decode_error(tok, "truncated");
	/* a byte over */
	raw[len] = 0;
	token_of(raw, len + 1, tok, sizeof(tok));
	require_decode_error(tok, "too long");
	/* far over */
	memset(tok, 'A', sizeof(tok) - 1);
	memcpy(tok, PAIR_TOKEN_PREFIX, strlen(PAIR_TOKEN_PREFIX));
	tok[PAIR_TOKEN_MAX + 1] = '\0';
	require_decode_error(tok, "too long");

	/* the length byte: zero, NET_ADDR_MAX, larger than the rest */
	len = raw_token(raw, 0, "a.b.c:123");
	token_of(raw, len, tok, sizeof(tok));
	require_decode_error(tok, "bad address");
	len = raw_token(raw, NET_ADDR_MAX, "a.b.c:123");
	token_of(raw, len, tok, sizeof(tok));
	require_decode_error(tok, "bad address");
	len = raw_token(raw, 20, "a.b.c:123");
	token_of(raw, len, tok, sizeof(tok));
	require_decode_error(tok, "truncated");
	/* a NUL inside the address */
	len = raw_token(raw, 9, "a.b.c:123");
	raw[2] = '\0';
	token_of(raw, len, tok, sizeof(tok));
	require_decode_error(tok, "bad address");

	for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		len = raw_token(raw, strlen(bad_addrs[i]), bad_addrs[i]);
		token_of(raw, len, tok, sizeof(tok));
		require_decode_error(tok, "bad address");
		/* and encode refuses it too */
		memset(pk, 1, sizeof(pk));
		memset(secret, 2, sizeof(secret));
		ATF_CHECK_MSG(pair_token_encode(bad_addrs[i], pk, secret, tok,
		    sizeof(tok)) == -1, "encoded %s", bad_addrs[i]);
		ATF_CHECK(!pair_addr_valid(bad_addrs[i]));
	}
	/* an address of NET_ADDR_MAX bytes */
	memset(longaddr, 'h', NET_ADDR_MAX);
	memcpy(longaddr + NET_ADDR_MAX - 4, ":123", 5);
	ATF_REQUIRE_EQ(strlen(longaddr), NET_ADDR_MAX);
	ATF_CHECK(!pair_addr_valid(longaddr));
	ATF_CHECK(pair_token_encode(longaddr, pk, secret, tok,
	    sizeof(tok)) == -1);

	/* an address buffer too small for what the token holds */
	len = raw_token(raw, 9, "a.b.c:123");
	token_of(raw, len, tok, sizeof(tok));
	ATF_CHECK(pair_token_decode(tok, addr, 9, pk, secret, &why) == -1);
	ATF_CHECK(pair_token_decode(tok, addr, 10, pk, secret, &why) == 0);
	ATF_CHECK_STREQ(addr, "a.b.c:123");
	/* an output buffer too small for the token */
	ATF_CHECK(pair_token_encode("a.b.c:123", pk, secret, tok, 20) == -1);
}

ATF_TC_WITHOUT_HEAD(pairing_proof_holds_only_for_its_secret_and_keys);
ATF_TC_BODY(pairing_proof_holds_only_for_its_secret_and_keys, tc)
{
	uint8_t	 secret[PAIR_SECRET_LEN], other[PAIR_SECRET_LEN];
	uint8_t	 proof[PAIR_PROOF_LEN];

	keys_init();
	randombytes_buf(secret, sizeof(secret));
	memcpy(other, secret, sizeof(other));
	other[31] ^= 1;
	pair_proof(secret, pk_a, pk_b, proof);
	ATF_CHECK(pair_proof_check(secret, pk_a, pk_b, proof));
	ATF_CHECK(!pair_proof_check(other, pk_a, pk_b, proof));
	ATF_CHECK(!pair_proof_check(secret, pk_b, pk_a, proof));
	ATF_CHECK(!pair_proof_check(secret, pk_c, pk_b, proof));
	ATF_CHECK(!pair_proof_check(secret, pk_a, pk_c, proof));
	proof[0] ^= 0x80;
	ATF_CHECK(!pair_proof_check(secret, pk_a, pk_b, proof));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, signature_matches_the_published_vector);
	ATF_TP_ADD_TC(tp, built_message_signed_by_the_sender_verifies);
	ATF_TP_ADD_TC(tp, body_is_compact_json_in_protocol_key_order);
	ATF_TP_ADD_TC(tp, build_refuses_what_the_receiver_would_refuse);
	ATF_TP_ADD_TC(tp, fresh_uuids_are_version_4_and_differ);
	ATF_TP_ADD_TC(tp, type_tables_agree_with_the_protocol);
	ATF_TP_ADD_TC(tp, signature_by_another_key_is_unauthorised);
	ATF_TP_ADD_TC(tp, any_flipped_bit_in_body_or_signature_is_unauthorised);
	ATF_TP_ADD_TC(tp, truncated_or_extended_message_is_unauthorised);
	ATF_TP_ADD_TC(tp, too_short_message_is_refused_before_the_signature);
	ATF_TP_ADD_TC(tp, oversize_message_is_refused_and_the_limit_is_not);
	ATF_TP_ADD_TC(tp, body_that_is_not_a_json_object_is_invalid);
	ATF_TP_ADD_TC(tp, duplicate_keys_are_invalid_at_any_level);
	ATF_TP_ADD_TC(tp, nesting_past_the_depth_limit_is_invalid);
	ATF_TP_ADD_TC(tp, unknown_or_missing_top_level_key_is_invalid);
	ATF_TP_ADD_TC(tp, malformed_id_is_invalid);
	ATF_TP_ADD_TC(tp, type_outside_lowercase_and_underscore_is_invalid);
	ATF_TP_ADD_TC(tp, unknown_type_verifies_for_the_caller_to_answer);
	ATF_TP_ADD_TC(tp, malformed_from_to_ts_or_payload_is_invalid);
	ATF_TP_ADD_TC(tp, invalid_utf8_is_invalid_json);
	ATF_TP_ADD_TC(tp, response_without_reply_to_is_invalid);
	ATF_TP_ADD_TC(tp, from_other_than_the_session_key_is_unauthorised);
	ATF_TP_ADD_TC(tp, message_to_another_node_is_invalid);
	ATF_TP_ADD_TC(tp, timestamp_outside_the_window_is_invalid_both_ways);
	ATF_TP_ADD_TC(tp, timestamp_before_this_node_started_is_invalid);
	ATF_TP_ADD_TC(tp, replay_cache_remembers_new_ids_and_refuses_seen);
	ATF_TP_ADD_TC(tp, full_replay_cache_refuses_and_never_evicts);
	ATF_TP_ADD_TC(tp, expired_ids_free_room_in_the_replay_cache);
	ATF_TP_ADD_TC(tp, flood_of_distinct_ids_is_refused_past_the_limit);
	ATF_TP_ADD_TC(tp, pairing_token_round_trips_every_address_form);
	ATF_TP_ADD_TC(tp, pairing_token_matches_the_published_vector);
	ATF_TP_ADD_TC(tp, pairing_token_decode_names_each_error);
	ATF_TP_ADD_TC(tp, pairing_proof_holds_only_for_its_secret_and_keys);
	return (atf_no_error());
}
