/*
 * Wire protocol v1: the SIGMA-I handshake and the record layer
 * (doc/protocol.md has the bytes).  Pure code over libsodium: no I/O,
 * no keyd, no allocation; every input is bounded before it is read.
 */

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "lethd.h"
#include "wire.h"

/* Labels of the key derivations (doc/protocol.md, Keys). */
#define WIRE_KDF_HS2		"lethd hs2"
#define WIRE_KDF_HS3		"lethd hs3"
#define WIRE_KDF_I2R		"lethd i2r"
#define WIRE_KDF_R2I		"lethd r2i"
#define WIRE_KDF_REKEY		"lethd rekey"

/* The highest role byte a peer may declare (enum node_role). */
#define WIRE_ROLE_MAX		ROLE_WORKER
/* Identity fields before the name: pk, role, name length. */
#define WIRE_ID_FIXED		(WIRE_KEY_LEN + 1 + 1)
/* The smallest encrypted identity: no name, a signature, a tag. */
#define WIRE_ID_CT_MIN		(WIRE_ID_FIXED + WIRE_SIG_LEN + WIRE_TAG_LEN)
#define WIRE_HS2_MIN		(1 + WIRE_KEY_LEN + WIRE_ID_CT_MIN)
#define WIRE_HS3_MIN		(1 + WIRE_ID_CT_MIN)
/* The longest signing label, for the buffer that holds label || hash. */
#define WIRE_LABEL_MAX		64
#define WIRE_CTR_LEN		8
#define WIRE_REC_HDR		(1 + WIRE_CTR_LEN)

static const uint8_t	wire_zero_nonce[
    crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

static const char *
hs_label_str(uint32_t label)
{
	if (label == KEY_LABEL_HANDSHAKE_INITIATOR)
		return (KEY_LABEL_HS_INITIATOR_STR);
	return (KEY_LABEL_HS_RESPONDER_STR);
}

/* Wipe every secret, mark the handshake failed, say why. */
static int
hs_fail(struct hs *hs, const char **why, const char *reason)
{
	sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
	sodium_memzero(hs->dh, sizeof(hs->dh));
	sodium_memzero(hs->k, sizeof(hs->k));
	sodium_memzero(&hs->keys, sizeof(hs->keys));
	hs->state = HS_FAILED;
	if (why != NULL)
		*why = reason;
	return (-1);
}

static int
th_add(struct hs *hs, const uint8_t *p, size_t len)
{
	if (len > sizeof(hs->th) - hs->thlen)
		return (-1);
	memcpy(hs->th + hs->thlen, p, len);
	hs->thlen += len;
	return (0);
}

static void
th_hash(const struct hs *hs, uint8_t out[WIRE_HASH_LEN])
{
	crypto_generichash_blake2b(out, WIRE_HASH_LEN, hs->th, hs->thlen,
	    NULL, 0);
}

/* out = BLAKE2b-256, keyed with key, over label || hash (if any). */
static void
wire_kdf(uint8_t out[WIRE_KEY_LEN], const uint8_t key[WIRE_KEY_LEN],
    const char *label, const uint8_t *hash)
{
	crypto_generichash_blake2b_state	st;

	crypto_generichash_blake2b_init(&st, key, WIRE_KEY_LEN,
	    WIRE_KEY_LEN);
	crypto_generichash_blake2b_update(&st, (const uint8_t *)label,
	    strlen(label));
	if (hash != NULL)
		crypto_generichash_blake2b_update(&st, hash, WIRE_HASH_LEN);
	crypto_generichash_blake2b_final(&st, out, WIRE_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* k = KDF(dh, label, transcript hash now), ad = that hash. */
static void
hs_next_key(struct hs *hs, const char *label)
{
	th_hash(hs, hs->ad);
	wire_kdf(hs->k, hs->dh, label, hs->ad);
}

/* Encode pk || role || name length || name; 0 if the identity is bad. */
static size_t
id_put(const struct hs_identity *id, uint8_t *p)
{
	size_t	nlen;

	nlen = strnlen(id->name, sizeof(id->name));
	if (nlen > WIRE_NAME_MAX || id->role > WIRE_ROLE_MAX)
		return (0);
	memcpy(p, id->pk, WIRE_KEY_LEN);
	p[WIRE_KEY_LEN] = id->role;
	p[WIRE_KEY_LEN + 1] = (uint8_t)nlen;
	memcpy(p + WIRE_ID_FIXED, id->name, nlen);
	return (WIRE_ID_FIXED + nlen);
}

/* Append our own identity fields to the transcript. */
static int
hs_add_self(struct hs *hs, const char **why)
{
	uint8_t	buf[WIRE_ID_MAX];
	size_t	len;

	if ((len = id_put(&hs->self, buf)) == 0)
		return (hs_fail(hs, why, "bad own identity"));
	if (th_add(hs, buf, len) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	return (0);
}

static int
hs_dh(struct hs *hs)
{
	return (crypto_scalarmult(hs->dh, hs->e_sk, hs->peer_e_pk));
}

/* Derive both session keys from the whole transcript; forget the rest. */
static void
hs_finish(struct hs *hs)
{
	uint8_t	h[WIRE_HASH_LEN];
	uint8_t	*i2r, *r2i;

	th_hash(hs, h);
	i2r = hs->initiator ? hs->keys.tx : hs->keys.rx;
	r2i = hs->initiator ? hs->keys.rx : hs->keys.tx;
	wire_kdf(i2r, hs->dh, WIRE_KDF_I2R, h);
	wire_kdf(r2i, hs->dh, WIRE_KDF_R2I, h);
	sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
	sodium_memzero(hs->dh, sizeof(hs->dh));
	sodium_memzero(hs->k, sizeof(hs->k));
	hs->state = HS_DONE;
}

/*
 * Seal id fields || sig under hs->k (AD hs->ad) into out; the
 * ciphertext joins the transcript.  Returns its length, 0 on error.
 */
static size_t
hs_seal_id(struct hs *hs, const uint8_t sig[WIRE_SIG_LEN], uint8_t *out)
{
	uint8_t			pt[WIRE_ID_MAX];
	size_t			len;
	unsigned long long	clen;

	if ((len = id_put(&hs->self, pt)) == 0)
		return (0);
	memcpy(pt + len, sig, WIRE_SIG_LEN);
	len += WIRE_SIG_LEN;
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, len,
	    hs->ad, WIRE_HASH_LEN, NULL, wire_zero_nonce, hs->k);
	sodium_memzero(pt, sizeof(pt));
	if (th_add(hs, out, (size_t)clen) == -1)
		return (0);
	return ((size_t)clen);
}

/*
 * Open a peer's encrypted identity (ct of ctlen bytes) under hs->k,
 * check its layout, add its fields to the transcript, verify its
 * signature over label || transcript hash, then add the ciphertext.
 */
static int
hs_open_id(struct hs *hs, const uint8_t *ct, size_t ctlen, uint32_t label,
    const char **why)
{
	uint8_t			 pt[WIRE_ID_MAX];
	uint8_t			 msg[WIRE_LABEL_MAX + WIRE_HASH_LEN];
	uint8_t			 h[WIRE_HASH_LEN];
	const char		*lstr;
	unsigned long long	 ptlen;
	size_t			 nlen, idlen, llen;

	if (ctlen < WIRE_ID_CT_MIN || ctlen > WIRE_ID_MAX + WIRE_TAG_LEN)
		return (hs_fail(hs, why, "bad handshake length"));
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, ct,
	    ctlen, hs->ad, WIRE_HASH_LEN, wire_zero_nonce, hs->k) != 0)
		return (hs_fail(hs, why, "handshake decryption failed"));
	nlen = pt[WIRE_KEY_LEN + 1];
	idlen = WIRE_ID_FIXED + nlen;
	if (pt[WIRE_KEY_LEN] > WIRE_ROLE_MAX)
		return (hs_fail(hs, why, "bad peer role"));
	if (nlen > WIRE_NAME_MAX)
		return (hs_fail(hs, why, "peer name too long"));
	if (ptlen != idlen + WIRE_SIG_LEN)
		return (hs_fail(hs, why, "bad identity length"));
	if (memchr(pt + WIRE_ID_FIXED, '\0', nlen) != NULL)
		return (hs_fail(hs, why, "NUL in peer name"));
	if (th_add(hs, pt, idlen) == -1)
		return (hs_fail(hs, why, "transcript overflow"));

	th_hash(hs, h);
	lstr = hs_label_str(label);
	llen = strlen(lstr);
	memcpy(msg, lstr, llen);
	memcpy(msg + llen, h, WIRE_HASH_LEN);
	if (crypto_sign_verify_detached(pt + idlen, msg, llen + WIRE_HASH_LEN,
	    pt) != 0)
		return (hs_fail(hs, why, "bad handshake signature"));

	memset(&hs->peer, 0, sizeof(hs->peer));
	memcpy(hs->peer.pk, pt, WIRE_KEY_LEN);
	hs->peer.role = pt[WIRE_KEY_LEN];
	memcpy(hs->peer.name, pt + WIRE_ID_FIXED, nlen);
	if (th_add(hs, ct, ctlen) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	return (0);
}

static void
hs_setup(struct hs *hs, int initiator, const struct hs_identity *self)
{
	memset(hs, 0, sizeof(*hs));
	hs->initiator = initiator != 0;
	hs->state = HS_START;
	hs->self = *self;
	hs->self.name[WIRE_NAME_MAX] = '\0';
	memcpy(hs->th, WIRE_DOMAIN, sizeof(WIRE_DOMAIN) - 1);
	hs->thlen = sizeof(WIRE_DOMAIN) - 1;
}

void
hs_init(struct hs *hs, int initiator, const struct hs_identity *self)
{
	hs_setup(hs, initiator, self);
	randombytes_buf(hs->e_sk, sizeof(hs->e_sk));
	crypto_scalarmult_base(hs->e_pk, hs->e_sk);
	if (hs->initiator)
		randombytes_buf(hs->random, sizeof(hs->random));
}

void
hs_init_fixed(struct hs *hs, int initiator, const struct hs_identity *self,
    const uint8_t e_sk[WIRE_KEY_LEN], const uint8_t random[WIRE_RANDOM_LEN])
{
	hs_setup(hs, initiator, self);
	memcpy(hs->e_sk, e_sk, WIRE_KEY_LEN);
	crypto_scalarmult_base(hs->e_pk, hs->e_sk);
	if (hs->initiator)
		memcpy(hs->random, random, WIRE_RANDOM_LEN);
}

int
hs_write1(struct hs *hs, uint8_t *out, size_t *outlen, const char **why)
{
	uint8_t	id[WIRE_ID_MAX];

	if (!hs->initiator || hs->state != HS_START)
		return (hs_fail(hs, why, "handshake out of order"));
	if (id_put(&hs->self, id) == 0)
		return (hs_fail(hs, why, "bad own identity"));
	out[0] = WIRE_HS1;
	out[1] = WIRE_VERSION;
	memcpy(out + 2, hs->e_pk, WIRE_KEY_LEN);
	memcpy(out + 2 + WIRE_KEY_LEN, hs->random, WIRE_RANDOM_LEN);
	if (th_add(hs, out, WIRE_HS1_LEN) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	*outlen = WIRE_HS1_LEN;
	hs->state = HS_I_SENT1;
	return (0);
}

int
hs_read1(struct hs *hs, const uint8_t *p, size_t len, const char **why)
{
	uint8_t	hdr[1 + WIRE_KEY_LEN];

	if (hs->initiator || hs->state != HS_START)
		return (hs_fail(hs, why, "handshake out of order"));
	if (len != WIRE_HS1_LEN)
		return (hs_fail(hs, why, "bad handshake length"));
	if (p[0] != WIRE_HS1)
		return (hs_fail(hs, why, "expected HS1"));
	if (p[1] != WIRE_VERSION)
		return (hs_fail(hs, why, "unsupported protocol version"));
	memcpy(hs->peer_e_pk, p + 2, WIRE_KEY_LEN);
	if (hs_dh(hs) != 0)
		return (hs_fail(hs, why, "bad ephemeral key"));
	if (th_add(hs, p, len) == -1)
		return (hs_fail(hs, why, "transcript overflow"));

	hdr[0] = WIRE_HS2;
	memcpy(hdr + 1, hs->e_pk, WIRE_KEY_LEN);
	if (th_add(hs, hdr, sizeof(hdr)) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	hs_next_key(hs, WIRE_KDF_HS2);
	if (hs_add_self(hs, why) == -1)
		return (-1);
	th_hash(hs, hs->sign_hash);
	hs->state = HS_R_SIGN2;
	return (0);
}

int
hs_sign_request(const struct hs *hs, uint8_t hash[WIRE_HASH_LEN],
    uint32_t *label)
{
	if (hs->state == HS_R_SIGN2)
		*label = KEY_LABEL_HANDSHAKE_RESPONDER;
	else if (hs->state == HS_I_SIGN3)
		*label = KEY_LABEL_HANDSHAKE_INITIATOR;
	else
		return (-1);
	memcpy(hash, hs->sign_hash, WIRE_HASH_LEN);
	return (0);
}

int
hs_write2(struct hs *hs, const uint8_t sig[WIRE_SIG_LEN], uint8_t *out,
    size_t *outlen, const char **why)
{
	size_t	clen;
	uint8_t	type = WIRE_HS3;

	if (hs->initiator || hs->state != HS_R_SIGN2)
		return (hs_fail(hs, why, "handshake out of order"));
	out[0] = WIRE_HS2;
	memcpy(out + 1, hs->e_pk, WIRE_KEY_LEN);
	if ((clen = hs_seal_id(hs, sig, out + 1 + WIRE_KEY_LEN)) == 0)
		return (hs_fail(hs, why, "bad own identity"));
	*outlen = 1 + WIRE_KEY_LEN + clen;

	if (th_add(hs, &type, 1) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	hs_next_key(hs, WIRE_KDF_HS3);
	hs->state = HS_R_SENT2;
	return (0);
}

int
hs_read2(struct hs *hs, const uint8_t *p, size_t len, const char **why)
{
	uint8_t	type = WIRE_HS3;

	if (!hs->initiator || hs->state != HS_I_SENT1)
		return (hs_fail(hs, why, "handshake out of order"));
	if (len < WIRE_HS2_MIN || len > WIRE_HS2_MAX)
		return (hs_fail(hs, why, "bad handshake length"));
	if (p[0] != WIRE_HS2)
		return (hs_fail(hs, why, "expected HS2"));
	memcpy(hs->peer_e_pk, p + 1, WIRE_KEY_LEN);
	if (hs_dh(hs) != 0)
		return (hs_fail(hs, why, "bad ephemeral key"));
	if (th_add(hs, p, 1 + WIRE_KEY_LEN) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	hs_next_key(hs, WIRE_KDF_HS2);
	if (hs_open_id(hs, p + 1 + WIRE_KEY_LEN, len - 1 - WIRE_KEY_LEN,
	    KEY_LABEL_HANDSHAKE_RESPONDER, why) == -1)
		return (-1);

	if (th_add(hs, &type, 1) == -1)
		return (hs_fail(hs, why, "transcript overflow"));
	hs_next_key(hs, WIRE_KDF_HS3);
	if (hs_add_self(hs, why) == -1)
		return (-1);
	th_hash(hs, hs->sign_hash);
	hs->state = HS_I_SIGN3;
	return (0);
}

int
hs_write3(struct hs *hs, const uint8_t sig[WIRE_SIG_LEN], uint8_t *out,
    size_t *outlen, const char **why)
{
	size_t	clen;

	if (!hs->initiator || hs->state != HS_I_SIGN3)
		return (hs_fail(hs, why, "handshake out of order"));
	out[0] = WIRE_HS3;
	if ((clen = hs_seal_id(hs, sig, out + 1)) == 0)
		return (hs_fail(hs, why, "bad own identity"));
	*outlen = 1 + clen;
	hs_finish(hs);
	return (0);
}

int
hs_read3(struct hs *hs, const uint8_t *p, size_t len, const char **why)
{
	if (hs->initiator || hs->state != HS_R_SENT2)
		return (hs_fail(hs, why, "handshake out of order"));
	if (len < WIRE_HS3_MIN || len > WIRE_HS3_MAX)
		return (hs_fail(hs, why, "bad handshake length"));
	if (p[0] != WIRE_HS3)
		return (hs_fail(hs, why, "expected HS3"));
	if (hs_open_id(hs, p + 1, len - 1, KEY_LABEL_HANDSHAKE_INITIATOR,
	    why) == -1)
		return (-1);
	hs_finish(hs);
	return (0);
}

int
hs_session_keys(const struct hs *hs, struct session_keys *keys)
{
	if (hs->state != HS_DONE)
		return (-1);
	*keys = hs->keys;
	return (0);
}

void
hs_clear(struct hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
	hs->state = HS_FAILED;
}

/*
 * Records.
 */

static void
ctr_put(uint8_t *p, uint64_t ctr)
{
	int	i;

	for (i = WIRE_CTR_LEN - 1; i >= 0; i--) {
		p[i] = (uint8_t)(ctr & 0xff);
		ctr >>= 8;
	}
}

static uint64_t
ctr_get(const uint8_t *p)
{
	uint64_t	ctr = 0;
	int		i;

	for (i = 0; i < WIRE_CTR_LEN; i++)
		ctr = (ctr << 8) | p[i];
	return (ctr);
}

/* nonce = 4 zero bytes || counter, big-endian */
static void
rec_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES],
    uint64_t ctr)
{
	memset(nonce, 0, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
	ctr_put(nonce + crypto_aead_chacha20poly1305_ietf_NPUBBYTES -
	    WIRE_CTR_LEN, ctr);
}

/* Seal inner type || data under key at counter ctr into out. */
static size_t
rec_seal(const uint8_t key[WIRE_KEY_LEN], uint64_t ctr, uint8_t inner,
    const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t	nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t	*pt = out + WIRE_REC_HDR;

	out[0] = WIRE_RECORD;
	ctr_put(out + 1, ctr);
	pt[0] = inner;
	if (len > 0)
		memmove(pt + 1, data, len);
	rec_nonce(nonce, ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(pt,
	    pt + 1 + len, NULL, pt, 1 + len, out, WIRE_REC_HDR, NULL, nonce,
	    key);
	return (len + WIRE_REC_OVERHEAD);
}

/* key = BLAKE2b-256 keyed with key over "lethd rekey" */
static void
rec_next_key(uint8_t key[WIRE_KEY_LEN])
{
	uint8_t	next[WIRE_KEY_LEN];

	wire_kdf(next, key, WIRE_KDF_REKEY, NULL);
	memcpy(key, next, WIRE_KEY_LEN);
	sodium_memzero(next, sizeof(next));
}

void
session_init(struct session *s, const struct session_keys *keys)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->tx_key, keys->tx, WIRE_KEY_LEN);
	memcpy(s->rx_key, keys->rx, WIRE_KEY_LEN);
	s->rekey_count = WIRE_REKEY_COUNT;
}

int
session_rekey(struct session *s, uint8_t *out, size_t *outlen)
{
	*outlen = rec_seal(s->tx_key, s->tx_ctr, REC_REKEY, NULL, 0, out);
	rec_next_key(s->tx_key);
	s->tx_ctr = 0;
	return (0);
}

int
session_seal(struct session *s, const uint8_t *data, size_t len,
    uint8_t *out, size_t *outlen, uint8_t *rekey_out, size_t *rekey_len)
{
	*rekey_len = 0;
	if (len > WIRE_REC_MAX_DATA)
		return (-1);
	/* A message never takes the last counter: a re-key always can. */
	if (s->tx_ctr >= s->rekey_count || s->tx_ctr == UINT64_MAX)
		session_rekey(s, rekey_out, rekey_len);
	*outlen = rec_seal(s->tx_key, s->tx_ctr, REC_MESSAGE, data, len, out);
	s->tx_ctr++;
	return (0);
}

int
session_open(struct session *s, const uint8_t *rec, size_t len,
    uint8_t *out, size_t *outlen, const char **why)
{
	uint8_t		nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint64_t	ctr;
	size_t		ptlen;

	*outlen = 0;
	if (len < WIRE_REC_OVERHEAD) {
		*why = "record truncated";
		return (-1);
	}
	if (rec[0] != WIRE_RECORD) {
		*why = "not a record";
		return (-1);
	}
	if (len - WIRE_REC_OVERHEAD > WIRE_REC_MAX_DATA) {
		*why = "record too large";
		return (-1);
	}
	ctr = ctr_get(rec + 1);
	if (ctr < s->rx_ctr) {
		*why = "record replayed or out of order";
		return (-1);
	}
	if (ctr > s->rx_ctr) {
		*why = "record counter gap";
		return (-1);
	}
	ptlen = len - WIRE_REC_HDR - WIRE_TAG_LEN;
	rec_nonce(nonce, ctr);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL,
	    rec + WIRE_REC_HDR, ptlen, rec + len - WIRE_TAG_LEN, rec,
	    WIRE_REC_HDR, nonce, s->rx_key) != 0) {
		*why = "record authentication failed";
		return (-1);
	}
	switch (out[0]) {
	case REC_MESSAGE:
		if (ctr == UINT64_MAX) {
			sodium_memzero(out, ptlen);
			*why = "record counter exhausted";
			return (-1);
		}
		memmove(out, out + 1, ptlen - 1);
		*outlen = ptlen - 1;
		s->rx_ctr++;
		return (1);
	case REC_REKEY:
		if (ptlen != 1) {
			sodium_memzero(out, ptlen);
			*why = "re-key record with data";
			return (-1);
		}
		rec_next_key(s->rx_key);
		s->rx_ctr = 0;
		return (0);
	default:
		sodium_memzero(out, ptlen);
		*why = "unknown record type";
		return (-1);
	}
}

void
session_clear(struct session *s)
{
	sodium_memzero(s, sizeof(*s));
}
