/*
 * Application messages (DESIGN, Wire protocol): building a body, its
 * hash, and the receiver's verification pipeline.
 *
 * A message on the wire is signature(64) || body.  The body is compact
 * JSON with its keys in this order:
 *
 *	{"id":"<uuid>","type":"<type>","from":"<node id>","to":"<node id>",
 *	 "ts":<Unix ms>,"replyTo":"<uuid>","payload":{...}}
 *
 * replyTo is there in responses and errors only.  The signature is
 * keyd's, over "lethd message v1" || BLAKE2b-512(body): the exact bytes,
 * so a receiver never re-serialises what it checks.
 *
 * Everything here is pure: no globals, no I/O, the clock passed in.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "msg.h"

/* Shortest raw message: a signature and "{}". */
#define MSG_BODY_MIN		2
#define MSG_RAW_MIN		(MSG_SIG_LEN + MSG_BODY_MIN)
/* Longest body, and so longest raw message. */
#define MSG_BODY_MAX		LETHD_MAX_MESSAGE
#define MSG_RAW_MAX		(MSG_BODY_MAX + MSG_SIG_LEN)
/* What the signature covers: label (no NUL) || hash. */
#define MSG_LABEL_LEN		(sizeof(KEY_LABEL_MESSAGE_STR) - 1)
#define MSG_SIGNED_LEN		(MSG_LABEL_LEN + MSG_HASH_LEN)
/* Bytes of the public key that make a node id. */
#define MSG_ID_BYTES		(NODE_ID_LEN / 2)
/* Milliseconds in a second, for the ts window. */
#define MSG_MS			1000LL
/* The body's keys: six required, replyTo optional. */
#define MSG_KEYS_REQUIRED	6

static const char *const msg_types[MSG_TYPE_COUNT] = {
	[MSG_UNKNOWN] = "",
	[MSG_PING] = "ping",
	[MSG_PONG] = "pong",
	[MSG_PAIR] = "pair",
	[MSG_PAIR_ACK] = "pair_ack",
	[MSG_GET_STATS] = "get_stats",
	[MSG_STATS] = "stats",
	[MSG_START_MINER] = "start_miner",
	[MSG_STOP_MINER] = "stop_miner",
	[MSG_RESTART_MINER] = "restart_miner",
	[MSG_MINER_ACK] = "miner_ack",
	[MSG_GET_LOGS] = "get_logs",
	[MSG_LOGS] = "logs",
	[MSG_GET_PROFILES] = "get_profiles",
	[MSG_PROFILES] = "profiles",
	[MSG_DEPLOY] = "deploy",
	[MSG_DEPLOY_ACK] = "deploy_ack",
	[MSG_DISCONNECT] = "disconnect",
	[MSG_ERROR] = "error",
};

/* Each request and the response it gets (MSG_UNKNOWN: not a request). */
static const enum msg_type msg_responses[MSG_TYPE_COUNT] = {
	[MSG_PING] = MSG_PONG,
	[MSG_PAIR] = MSG_PAIR_ACK,
	[MSG_GET_STATS] = MSG_STATS,
	[MSG_START_MINER] = MSG_MINER_ACK,
	[MSG_STOP_MINER] = MSG_MINER_ACK,
	[MSG_RESTART_MINER] = MSG_MINER_ACK,
	[MSG_GET_LOGS] = MSG_LOGS,
	[MSG_GET_PROFILES] = MSG_PROFILES,
	[MSG_DEPLOY] = MSG_DEPLOY_ACK,
};

static int	msg_fail(struct msg_verdict *, int, const char *);
static int	msg_is_hex(const char *, size_t);
static int	msg_is_uuid(const char *);
static int	msg_is_node_id(const char *);
static int	msg_type_ok(const char *);
static int	msg_depth_ok(json_t *, unsigned int);
static int	msg_parse(const uint8_t *, size_t, struct msg *,
		    struct msg_verdict *);

const char *
msg_type_name(enum msg_type t)
{
	if ((unsigned int)t >= MSG_TYPE_COUNT || t == MSG_UNKNOWN)
		return ("unknown");
	return (msg_types[t]);
}

enum msg_type
msg_type_parse(const char *s)
{
	unsigned int	 i;

	for (i = MSG_UNKNOWN + 1; i < MSG_TYPE_COUNT; i++)
		if (strcmp(s, msg_types[i]) == 0)
			return ((enum msg_type)i);
	return (MSG_UNKNOWN);
}

/*
 * A request gets an answer (its response or an error).  disconnect is
 * a notice: it gets no answer, yet is no response either (it carries
 * no replyTo).  MSG_UNKNOWN is not a request by this table: the caller
 * answers an unknown type with error 1001 unless it carries replyTo.
 */
int
msg_is_request(enum msg_type t)
{
	if ((unsigned int)t >= MSG_TYPE_COUNT)
		return (0);
	return (msg_responses[t] != MSG_UNKNOWN);
}

/* Responses and errors: they carry replyTo and are never answered. */
int
msg_is_response(enum msg_type t)
{
	switch (t) {
	case MSG_PONG:
	case MSG_PAIR_ACK:
	case MSG_STATS:
	case MSG_MINER_ACK:
	case MSG_LOGS:
	case MSG_PROFILES:
	case MSG_DEPLOY_ACK:
	case MSG_ERROR:
		return (1);
	default:
		return (0);
	}
}

enum msg_type
msg_response_type(enum msg_type t)
{
	if ((unsigned int)t >= MSG_TYPE_COUNT)
		return (MSG_UNKNOWN);
	return (msg_responses[t]);
}

void
msg_uuid(char id[MSG_UUID_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 b[16];
	size_t			 i, o;

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* variant 10 */
	for (i = 0, o = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			id[o++] = '-';
		id[o++] = hex[b[i] >> 4];
		id[o++] = hex[b[i] & 0x0f];
	}
	id[o] = '\0';
}

void
msg_hash(const uint8_t *body, size_t len, uint8_t hash[MSG_HASH_LEN])
{
	(void)crypto_generichash(hash, MSG_HASH_LEN, body, len, NULL, 0);
}

/*
 * The body of a message.  Refuses (NULL) a type that is not one of
 * ours, from/to that are not node ids, a payload that is not an
 * object, replyTo missing from a response or given to anything else,
 * and a body over the message limit.  payload is stolen in every case.
 */
uint8_t *
msg_build(enum msg_type type, const char *from, const char *to,
    long long ts, const char *reply_to, json_t *payload,
    char id[MSG_UUID_LEN + 1], size_t *lenp)
{
	json_t		*root = NULL;
	uint8_t		*body = NULL;
	size_t		 len;
	int		 ok;

	if (payload == NULL || !json_is_object(payload))
		goto out;
	if (type == MSG_UNKNOWN || (unsigned int)type >= MSG_TYPE_COUNT)
		goto out;
	if (!msg_is_node_id(from) || !msg_is_node_id(to))
		goto out;
	if (msg_is_response(type) != (reply_to != NULL))
		goto out;
	if (reply_to != NULL && !msg_is_uuid(reply_to))
		goto out;

	msg_uuid(id);
	if ((root = json_object()) == NULL)
		goto out;
	ok = json_object_set_new(root, "id", json_string(id)) == 0 &&
	    json_object_set_new(root, "type",
	    json_string(msg_types[type])) == 0 &&
	    json_object_set_new(root, "from", json_string(from)) == 0 &&
	    json_object_set_new(root, "to", json_string(to)) == 0 &&
	    json_object_set_new(root, "ts", json_integer(ts)) == 0 &&
	    (reply_to == NULL || json_object_set_new(root, "replyTo",
	    json_string(reply_to)) == 0);
	if (!ok)
		goto out;
	ok = json_object_set_new(root, "payload", payload) == 0;
	payload = NULL;
	if (!ok)
		goto out;

	len = json_dumpb(root, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (len < MSG_BODY_MIN || len > MSG_BODY_MAX)
		goto out;
	if ((body = malloc(len)) == NULL)
		goto out;
	if (json_dumpb(root, (char *)body, len,
	    JSON_COMPACT | JSON_PRESERVE_ORDER) != len) {
		free(body);
		body = NULL;
		goto out;
	}
	*lenp = len;
 out:
	json_decref(payload);
	json_decref(root);
	return (body);
}

static int
msg_fail(struct msg_verdict *v, int code, const char *why)
{
	v->code = code;
	v->why = why;
	return (-1);
}

/* len characters of lowercase hex. */
static int
msg_is_hex(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

/* 8-4-4-4-12 lowercase hex (any version: the format, not the source). */
static int
msg_is_uuid(const char *s)
{
	size_t	 i;

	if (strlen(s) != MSG_UUID_LEN)
		return (0);
	for (i = 0; i < MSG_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!msg_is_hex(s + i, 1))
			return (0);
	}
	return (1);
}

static int
msg_is_node_id(const char *s)
{
	return (s != NULL && strlen(s) == NODE_ID_LEN &&
	    msg_is_hex(s, NODE_ID_LEN));
}

/* 1..MSG_TYPE_MAX of [a-z_]. */
static int
msg_type_ok(const char *s)
{
	size_t	 i, len;

	len = strlen(s);
	if (len == 0 || len > MSG_TYPE_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return (0);
	return (1);
}

/*
 * Whether j nests no deeper than MSG_JSON_DEPTH containers, j itself
 * at depth.  The recursion stops one past the limit.
 */
static int
msg_depth_ok(json_t *j, unsigned int depth)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(j) && !json_is_array(j))
		return (1);
	if (depth > MSG_JSON_DEPTH)
		return (0);
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			if (!msg_depth_ok(v, depth + 1))
				return (0);
	} else {
		json_array_foreach(j, i, v)
			if (!msg_depth_ok(v, depth + 1))
				return (0);
	}
	return (1);
}

/* A string field of the body copied out, or -1. */
static int
msg_field(json_t *root, const char *key, char *dst, size_t dstlen)
{
	json_t	*j;

	if ((j = json_object_get(root, key)) == NULL || !json_is_string(j))
		return (-1);
	if (json_string_length(j) >= dstlen ||
	    strlen(json_string_value(j)) != json_string_length(j))
		return (-1);
	memcpy(dst, json_string_value(j), json_string_length(j) + 1);
	return (0);
}

/* Step 2: the body's shape, fields typed and bounded. */
static int
msg_parse(const uint8_t *body, size_t len, struct msg *m,
    struct msg_verdict *v)
{
	json_error_t	 jerr;
	json_t		*root, *j;
	size_t		 nkeys = MSG_KEYS_REQUIRED;
	char		 tbuf[MSG_TYPE_MAX + 1];

	if ((root = json_loadb((const char *)body, len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			return (msg_fail(v, MSG_ERR_INVALID,
			    "invalid JSON: duplicate key"));
		return (msg_fail(v, MSG_ERR_INVALID, "invalid JSON"));
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return (msg_fail(v, MSG_ERR_INVALID,
		    "invalid body: not an object"));
	}
	if (!msg_depth_ok(root, 1)) {
		json_decref(root);
		return (msg_fail(v, MSG_ERR_INVALID,
		    "invalid body: nested too deep"));
	}

	if (msg_field(root, "id", m->id, sizeof(m->id)) == -1 ||
	    !msg_is_uuid(m->id))
		goto bad_id;
	if (msg_field(root, "type", tbuf, sizeof(tbuf)) == -1 ||
	    !msg_type_ok(tbuf))
		goto bad_type;
	if (msg_field(root, "from", m->from, sizeof(m->from)) == -1 ||
	    !msg_is_node_id(m->from))
		goto bad_from;
	if (msg_field(root, "to", m->to, sizeof(m->to)) == -1 ||
	    !msg_is_node_id(m->to))
		goto bad_to;
	if ((j = json_object_get(root, "ts")) == NULL || !json_is_integer(j))
		goto bad_ts;
	m->ts = json_integer_value(j);
	if (json_object_get(root, "replyTo") != NULL) {
		nkeys++;
		if (msg_field(root, "replyTo", m->reply_to,
		    sizeof(m->reply_to)) == -1 || !msg_is_uuid(m->reply_to))
			goto bad_reply;
	}
	if ((j = json_object_get(root, "payload")) == NULL ||
	    !json_is_object(j))
		goto bad_payload;
	if (json_object_size(root) != nkeys)
		goto bad_key;

	m->type = msg_type_parse(tbuf);
	(void)strlcpy(m->type_str, tbuf, sizeof(m->type_str));
	if (msg_is_response(m->type) && m->reply_to[0] == '\0')
		goto bad_reply;
	m->payload = json_incref(j);
	json_decref(root);
	return (0);

 bad_id:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid id"));
 bad_type:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid type"));
 bad_from:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid from"));
 bad_to:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid to"));
 bad_ts:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid ts"));
 bad_reply:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid replyTo"));
 bad_payload:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid payload"));
 bad_key:
	json_decref(root);
	return (msg_fail(v, MSG_ERR_INVALID, "invalid body: unknown key"));
}

/*
 * The receiver's pipeline, strictly in order: (1) bounds and the
 * signature, before a byte is parsed; (2) the body's shape; (3) the
 * fields against the session key, this node and the clock.  m is
 * zeroed first, so msg_free is safe on it whatever the outcome.
 */
int
msg_verify(const uint8_t *raw, size_t len, const uint8_t pk[32],
    const char *self_id, long long now, long long floor_ms,
    unsigned int window_s, struct msg *m, struct msg_verdict *v)
{
	uint8_t		 signed_msg[MSG_SIGNED_LEN];
	char		 pk_id[NODE_ID_LEN + 1];
	const uint8_t	*body;
	size_t		 blen;
	long long	 window_ms;

	memset(m, 0, sizeof(*m));
	v->code = 0;
	v->why = NULL;

	/* 1. Bounds, then the signature over label || hash(body). */
	if (len < MSG_RAW_MIN)
		return (msg_fail(v, MSG_ERR_UNAUTHORISED, "bad signature"));
	if (len > MSG_RAW_MAX)
		return (msg_fail(v, MSG_ERR_UNAUTHORISED, "bad signature"));
	body = raw + MSG_SIG_LEN;
	blen = len - MSG_SIG_LEN;
	memcpy(signed_msg, KEY_LABEL_MESSAGE_STR, MSG_LABEL_LEN);
	msg_hash(body, blen, signed_msg + MSG_LABEL_LEN);
	if (crypto_sign_verify_detached(raw, signed_msg, sizeof(signed_msg),
	    pk) != 0)
		return (msg_fail(v, MSG_ERR_UNAUTHORISED, "bad signature"));

	/* 2. The body. */
	if (msg_parse(body, blen, m, v) == -1)
		return (-1);

	/* 3. The fields against the key, this node and the clock. */
	(void)sodium_bin2hex(pk_id, sizeof(pk_id), pk, MSG_ID_BYTES);
	if (strcmp(m->from, pk_id) != 0) {
		msg_free(m);
		return (msg_fail(v, MSG_ERR_UNAUTHORISED,
		    "from does not match the session key"));
	}
	if (strcmp(m->to, self_id) != 0) {
		msg_free(m);
		return (msg_fail(v, MSG_ERR_INVALID,
		    "addressed to another node"));
	}
	/* Compared without subtracting from ts, which may be anything. */
	window_ms = (long long)window_s * MSG_MS;
	if (m->ts < now - window_ms || m->ts > now + window_ms) {
		msg_free(m);
		return (msg_fail(v, MSG_ERR_INVALID,
		    "timestamp outside the window"));
	}
	if (m->ts < floor_ms) {
		msg_free(m);
		return (msg_fail(v, MSG_ERR_INVALID,
		    "timestamp before this node started"));
	}
	return (0);
}

void
msg_free(struct msg *m)
{
	json_decref(m->payload);
	m->payload = NULL;
}
