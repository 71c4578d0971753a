/*
 * Application messages (DESIGN, Wire protocol): signature(64) || JSON
 * body {id, type, from, to, ts, replyTo?, payload}.  The signature is
 * keyd's over "lethd message v1" || BLAKE2b-512(body).  The receiver
 * verifies it with a key from its own registry before any JSON parsing,
 * then checks from, to, the ts window, the start-time floor and the
 * replay cache.
 */

#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lethd.h"

#define MSG_SIG_LEN		64
#define MSG_HASH_LEN		64
#define MSG_UUID_LEN		36	/* 8-4-4-4-12 lowercase hex */
#define MSG_TYPE_MAX		32
#define MSG_JSON_DEPTH		32	/* nesting refused past this */

/* Error codes of `error' messages (DESIGN). */
#define MSG_ERR_INTERNAL	1000
#define MSG_ERR_INVALID		1001
#define MSG_ERR_UNAUTHORISED	1002
#define MSG_ERR_NOT_FOUND	1003
#define MSG_ERR_FAILED		1004
#define MSG_ERR_TIMEOUT		1005

enum msg_type {
	MSG_UNKNOWN = 0,
	MSG_PING, MSG_PONG,
	MSG_PAIR, MSG_PAIR_ACK,
	MSG_GET_STATS, MSG_STATS,
	MSG_START_MINER, MSG_STOP_MINER, MSG_RESTART_MINER, MSG_MINER_ACK,
	MSG_GET_LOGS, MSG_LOGS,
	MSG_GET_PROFILES, MSG_PROFILES,
	MSG_DEPLOY, MSG_DEPLOY_ACK,
	MSG_DISCONNECT,
	MSG_ERROR,
	MSG_TYPE_COUNT
};

struct msg {
	char		 id[MSG_UUID_LEN + 1];
	enum msg_type	 type;		/* MSG_UNKNOWN: see type_str */
	char		 type_str[MSG_TYPE_MAX + 1];	/* as sent, vis'd */
	char		 from[NODE_ID_LEN + 1];
	char		 to[NODE_ID_LEN + 1];
	long long	 ts;		/* Unix ms */
	char		 reply_to[MSG_UUID_LEN + 1];	/* "" for requests */
	json_t		*payload;	/* a JSON object, owned */
};

/* Why a message was refused: the code for an `error' answer (when one
 * is due) and a static reason for the log line. */
struct msg_verdict {
	int		 code;		/* MSG_ERR_* */
	const char	*why;
};

const char	*msg_type_name(enum msg_type);
enum msg_type	 msg_type_parse(const char *);
/* requests get an answer; responses and errors never do */
int		 msg_is_request(enum msg_type);
/* responses and errors: replyTo required, never answered.  disconnect
 * is neither a request nor a response: a notice, never answered */
int		 msg_is_response(enum msg_type);
/* the response type of a request (MSG_PONG for MSG_PING ...) */
enum msg_type	 msg_response_type(enum msg_type);

/* A fresh random UUID (version 4) into id. */
void		 msg_uuid(char id[MSG_UUID_LEN + 1]);

/*
 * Build a body: compact JSON, keys in DESIGN's order; payload is
 * stolen.  reply_to may be NULL.  Returns malloc'd bytes (not
 * NUL-terminated in *lenp), id filled; NULL on failure.
 */
uint8_t		*msg_build(enum msg_type, const char *from, const char *to,
		    long long ts, const char *reply_to, json_t *payload,
		    char id[MSG_UUID_LEN + 1], size_t *lenp);
/* BLAKE2b-512 of a body, what keyd signs under KEY_LABEL_MESSAGE. */
void		 msg_hash(const uint8_t *body, size_t len,
		    uint8_t hash[MSG_HASH_LEN]);

/*
 * The receiver's pipeline, steps 1 to 3 of 4 (the replay cache is the
 * caller's, per peer):
 *   1. len in bounds, signature over "lethd message v1" || hash(body)
 *      valid for pk (a key from our own registry) -- before any parsing;
 *   2. the body parses (JSON object, no duplicate keys, depth bounded,
 *      fields typed and bounded);
 *   3. from == hex id of pk, to == self_id, |ts - now| <= window,
 *      ts >= floor (our own start).
 * Returns 0 and fills m (free with msg_free), or -1 and fills v.
 */
int		 msg_verify(const uint8_t *raw, size_t len,
		    const uint8_t pk[32], const char *self_id,
		    long long now_ms, long long floor_ms,
		    unsigned int window_s, struct msg *m,
		    struct msg_verdict *v);
void		 msg_free(struct msg *);

/*
 * Replay cache: the ids seen from one peer inside the ts window.  It
 * never evicts a live id: when full it refuses (the sender must wait
 * for ids to age out of the window).
 */
struct replay_cache;
struct replay_cache *replay_new(unsigned int max);
/* 0: new (now remembered); 1: seen before; -1: full. Entries older
 * than expire_before_ms are dropped first. */
int		 replay_check(struct replay_cache *, const char *id,
		    long long ts, long long expire_before_ms);
unsigned int	 replay_count(const struct replay_cache *);
void		 replay_free(struct replay_cache *);

/*
 * Pairing (DESIGN, Pairing).  A token is "lethd1-" followed by
 * base64url (no padding) of: address length (1 byte), address, the
 * worker's Ed25519 public key (32), the secret (32).
 */
#define PAIR_SECRET_LEN		32
#define PAIR_PROOF_LEN		32
#define PAIR_TOKEN_MAX		256
#define PAIR_TOKEN_PREFIX	"lethd1-"

/* "host:port" or "[v6]:port", 1..NET_ADDR_MAX-1 bytes: the form only */
int	pair_addr_valid(const char *addr);
int	pair_token_encode(const char *addr, const uint8_t pk[32],
	    const uint8_t secret[PAIR_SECRET_LEN], char *out, size_t outlen);
int	pair_token_decode(const char *token, char *addr, size_t addrlen,
	    uint8_t pk[32], uint8_t secret[PAIR_SECRET_LEN],
	    const char **why);
/* proof = BLAKE2b-256 keyed with secret over controller_pk || worker_pk */
void	pair_proof(const uint8_t secret[PAIR_SECRET_LEN],
	    const uint8_t controller_pk[32], const uint8_t worker_pk[32],
	    uint8_t proof[PAIR_PROOF_LEN]);
/* constant time */
int	pair_proof_check(const uint8_t secret[PAIR_SECRET_LEN],
	    const uint8_t controller_pk[32], const uint8_t worker_pk[32],
	    const uint8_t proof[PAIR_PROOF_LEN]);

#endif /* MSG_H */
