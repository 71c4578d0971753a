/*
 * Wire protocol v1 between two netd (doc/protocol.md has the exact
 * bytes).  Every WebSocket binary message is one frame whose first byte
 * is its type.  The handshake (SIGMA-I) and the record layer are pure
 * code here: no I/O, no keyd.  The caller gets the hash that its keyd
 * must sign and feeds the signature back, so the same code serves
 * netd, the tests, the fuzzers and the benchmarks.
 */

#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "lethd.h"

#define WIRE_VERSION		1

/* Frame types: the first byte of each WebSocket message. */
#define WIRE_HS1		0x01	/* I -> R */
#define WIRE_HS2		0x02	/* R -> I */
#define WIRE_HS3		0x03	/* I -> R */
#define WIRE_RECORD		0x10	/* either way, after the handshake */

/* Inner types of a record's plaintext (its first byte). */
#define REC_MESSAGE		0x00	/* an application message */
#define REC_REKEY		0x01	/* the sender's next key starts now */

#define WIRE_KEY_LEN		32
#define WIRE_HASH_LEN		64	/* BLAKE2b-512 */
#define WIRE_SIG_LEN		64	/* Ed25519 */
#define WIRE_TAG_LEN		16	/* Poly1305 */
#define WIRE_RANDOM_LEN		32
#define WIRE_NAME_MAX		NODE_NAME_MAX

#define WIRE_HS1_LEN		(1 + 1 + WIRE_KEY_LEN + WIRE_RANDOM_LEN)
/* identity payload: pk, role, name length, name, signature */
#define WIRE_ID_MAX		(WIRE_KEY_LEN + 1 + 1 + WIRE_NAME_MAX + \
				    WIRE_SIG_LEN)
#define WIRE_HS2_MAX		(1 + WIRE_KEY_LEN + WIRE_ID_MAX + WIRE_TAG_LEN)
#define WIRE_HS3_MAX		(1 + WIRE_ID_MAX + WIRE_TAG_LEN)
/*
 * The transcript: the domain string, then every handshake byte in
 * order (the identity fields both in plaintext and as ciphertext).  It
 * is kept whole and hashed when needed, so struct hs needs no more
 * than malloc's alignment (a BLAKE2b state wants 64 bytes).
 */
#define WIRE_DOMAIN		"lethd handshake v1"
#define WIRE_TH_MAX		(sizeof(WIRE_DOMAIN) - 1 + WIRE_HS1_LEN + \
				    WIRE_HS2_MAX + WIRE_HS3_MAX + \
				    2 * (WIRE_ID_MAX - WIRE_SIG_LEN))
/* record: type, 64-bit counter, ciphertext of inner type + data, tag */
#define WIRE_REC_OVERHEAD	(1 + 8 + 1 + WIRE_TAG_LEN)
/* A record's data: one signed application message, sig(64) || body. */
#define WIRE_REC_MAX_DATA	(LETHD_MAX_MESSAGE + WIRE_SIG_LEN)
#define WIRE_REC_MAX		(WIRE_REC_MAX_DATA + WIRE_REC_OVERHEAD)

/* A sender re-keys before its counter passes this (2^48: far from the
 * 2^64 nonce space, and a test can lower it). */
#define WIRE_REKEY_COUNT	(1ULL << 48)

struct session_keys {
	uint8_t		tx[WIRE_KEY_LEN];
	uint8_t		rx[WIRE_KEY_LEN];
};

struct hs_identity {
	uint8_t		pk[WIRE_KEY_LEN];	/* Ed25519 public key */
	uint8_t		role;			/* enum node_role, declared */
	char		name[WIRE_NAME_MAX + 1];	/* declared, unchecked */
};

enum hs_state {
	HS_START = 0,
	HS_I_SENT1,		/* initiator: wrote HS1, waits for HS2 */
	HS_I_SIGN3,		/* initiator: read HS2, needs its signature */
	HS_R_SIGN2,		/* responder: read HS1, needs its signature */
	HS_R_SENT2,		/* responder: wrote HS2, waits for HS3 */
	HS_DONE,
	HS_FAILED
};

struct hs {
	int				 initiator;
	enum hs_state			 state;
	struct hs_identity		 self;
	struct hs_identity		 peer;
	uint8_t				 e_sk[WIRE_KEY_LEN];
	uint8_t				 e_pk[WIRE_KEY_LEN];
	uint8_t				 peer_e_pk[WIRE_KEY_LEN];
	uint8_t				 dh[WIRE_KEY_LEN];
	uint8_t				 th[WIRE_TH_MAX];	/* transcript */
	size_t				 thlen;
	uint8_t				 sign_hash[WIRE_HASH_LEN];
	uint8_t				 random[WIRE_RANDOM_LEN]; /* HS1 */
	uint8_t				 k[WIRE_KEY_LEN];	/* k2, k3 */
	uint8_t				 ad[WIRE_HASH_LEN];	/* k's AD */
	struct session_keys		 keys;	/* once HS_DONE */
};

/*
 * Handshake.  Every function returns 0, or -1 with a static reason in
 * *why (for the one log line); after -1 the state is HS_FAILED.
 * Buffers: HS1 WIRE_HS1_LEN, HS2 WIRE_HS2_MAX, HS3 WIRE_HS3_MAX.
 */
void	hs_init(struct hs *, int initiator, const struct hs_identity *self);
/*
 * For the test vectors and the fuzzers only: hs_init with a given
 * ephemeral secret and (initiator) HS1 random.  Never in a daemon.
 */
void	hs_init_fixed(struct hs *, int initiator,
	    const struct hs_identity *self, const uint8_t e_sk[WIRE_KEY_LEN],
	    const uint8_t random[WIRE_RANDOM_LEN]);
/* initiator */
int	hs_write1(struct hs *, uint8_t *out, size_t *outlen,
	    const char **why);
int	hs_read2(struct hs *, const uint8_t *, size_t, const char **why);
/* responder */
int	hs_read1(struct hs *, const uint8_t *, size_t, const char **why);
int	hs_write2(struct hs *, const uint8_t sig[WIRE_SIG_LEN], uint8_t *out,
	    size_t *outlen, const char **why);
int	hs_read3(struct hs *, const uint8_t *, size_t, const char **why);
/* initiator, after hs_read2 */
int	hs_write3(struct hs *, const uint8_t sig[WIRE_SIG_LEN], uint8_t *out,
	    size_t *outlen, const char **why);
/*
 * What our keyd must sign next (valid in HS_R_SIGN2 and HS_I_SIGN3):
 * the 64-byte hash and the label (KEY_LABEL_HANDSHAKE_*).
 */
int	hs_sign_request(const struct hs *, uint8_t hash[WIRE_HASH_LEN],
	    uint32_t *label);
/* After HS_DONE: the directional keys; hs->peer is the verified peer. */
int	hs_session_keys(const struct hs *, struct session_keys *);
void	hs_clear(struct hs *);

/*
 * Records.  Counters start at 0 in each direction and must arrive in
 * order: a gap, a replay, a bad tag or an oversize record is an error
 * and the caller closes the connection.
 */
struct session {
	uint8_t		tx_key[WIRE_KEY_LEN];
	uint8_t		rx_key[WIRE_KEY_LEN];
	uint64_t	tx_ctr;
	uint64_t	rx_ctr;
	uint64_t	rekey_count;	/* WIRE_REKEY_COUNT; tests lower it */
};

void	session_init(struct session *, const struct session_keys *);
/* Seal data (inner type REC_MESSAGE) into out (len + WIRE_REC_OVERHEAD
 * bytes); when the counter reaches rekey_count, first seals a
 * REC_REKEY record into rekey_out (WIRE_REC_OVERHEAD bytes, *rekey_len
 * set, else 0) and moves to the next key. */
int	session_seal(struct session *, const uint8_t *data, size_t len,
	    uint8_t *out, size_t *outlen, uint8_t *rekey_out,
	    size_t *rekey_len);
/* Seal a REC_REKEY record now (lifetime ran out) and move on. */
int	session_rekey(struct session *, uint8_t *out, size_t *outlen);
/*
 * Open one record of len bytes.  Returns 1 with the message in
 * out/outlen (out must hold len bytes), 0 for a REC_REKEY (handled:
 * nothing to deliver), -1 with *why on any failure.
 */
int	session_open(struct session *, const uint8_t *rec, size_t len,
	    uint8_t *out, size_t *outlen, const char **why);
void	session_clear(struct session *);

#endif /* WIRE_H */
