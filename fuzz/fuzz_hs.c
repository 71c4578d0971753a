/*
 * libFuzzer harness for the handshake of common/wire.c.
 *
 * Input: a mode byte, then the mode's bytes.  mode % 4:
 *   0  a responder reads an arbitrary HS1 (its length in the next byte,
 *      then that many bytes) and, if it took it, an arbitrary HS3 (the
 *      rest);
 *   1  an initiator reads an arbitrary HS2 (the rest);
 *   2  an initiator reads an HS2 that the harness encrypts properly:
 *      the rest is its plaintext (identity fields, and with mode bit
 *      0x10 a valid responder signature appended by the harness);
 *   3  the same for a responder reading HS3.
 * Keys and ephemerals are fixed (the test vectors' inputs), so modes
 * 2 and 3 reach the identity checks and, with the right public key at
 * the start, a verified handshake.  A broken invariant aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lethd.h"
#include "wire.h"

#define FUZZ_MODES		4
#define FUZZ_SIGN		0x10	/* modes 2, 3: append a signature */
#define FUZZ_SEED_I		0xa0	/* seed bytes: the test vectors' */
#define FUZZ_SEED_R		0xc0
#define FUZZ_ESK_I		0x20
#define FUZZ_ESK_R		0x40
#define FUZZ_RANDOM		0x60
#define FUZZ_NONCE_LEN		12

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fparty {
	uint8_t			pk[WIRE_KEY_LEN];
	uint8_t			sk[crypto_sign_SECRETKEYBYTES];
	struct hs_identity	id;
};

static struct fparty	fi, fr;
static uint8_t		esk_i[WIRE_KEY_LEN], esk_r[WIRE_KEY_LEN];
static uint8_t		rnd[WIRE_RANDOM_LEN];
static int		ready;

static void
fill(uint8_t *p, size_t len, uint8_t first)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

static void
party(struct fparty *p, uint8_t first, uint8_t role, const char *name)
{
	uint8_t	seed[crypto_sign_SEEDBYTES];

	fill(seed, sizeof(seed), first);
	if (crypto_sign_seed_keypair(p->pk, p->sk, seed) != 0)
		abort();
	memset(&p->id, 0, sizeof(p->id));
	memcpy(p->id.pk, p->pk, WIRE_KEY_LEN);
	p->id.role = role;
	memcpy(p->id.name, name, strlen(name));
}

static void
setup(void)
{
	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	party(&fi, FUZZ_SEED_I, ROLE_CONTROLLER, "controller-1");
	party(&fr, FUZZ_SEED_R, ROLE_WORKER, "rig-07");
	fill(esk_i, sizeof(esk_i), FUZZ_ESK_I);
	fill(esk_r, sizeof(esk_r), FUZZ_ESK_R);
	fill(rnd, sizeof(rnd), FUZZ_RANDOM);
	ready = 1;
}

static void
sign_hash(const struct fparty *p, uint32_t label, const uint8_t *hash,
    uint8_t sig[WIRE_SIG_LEN])
{
	uint8_t		 msg[WIRE_HASH_LEN + 64];
	const char	*l;
	size_t		 llen;

	l = label == KEY_LABEL_HANDSHAKE_INITIATOR ?
	    KEY_LABEL_HS_INITIATOR_STR : KEY_LABEL_HS_RESPONDER_STR;
	llen = strlen(l);
	memcpy(msg, l, llen);
	memcpy(msg + llen, hash, WIRE_HASH_LEN);
	crypto_sign_detached(sig, NULL, msg, llen + WIRE_HASH_LEN, p->sk);
}

static void
sign_req(const struct hs *hs, const struct fparty *p,
    uint8_t sig[WIRE_SIG_LEN])
{
	uint8_t		hash[WIRE_HASH_LEN];
	uint32_t	label;

	if (hs_sign_request(hs, hash, &label) == -1)
		abort();
	sign_hash(p, label, hash, sig);
}

/* What must hold after any call. */
static void
check(const struct hs *hs, int rv, const char *why)
{
	uint8_t		hash[WIRE_HASH_LEN];
	uint32_t	label;

	if (rv != 0 && rv != -1)
		abort();
	if (rv == -1) {
		if (why == NULL || hs->state != HS_FAILED)
			abort();
		if (!sodium_is_zero(hs->e_sk, sizeof(hs->e_sk)) ||
		    !sodium_is_zero(hs->dh, sizeof(hs->dh)))
			abort();
		if (hs_sign_request(hs, hash, &label) != -1)
			abort();
		return;
	}
	if (hs->peer.name[WIRE_NAME_MAX] != '\0' ||
	    hs->peer.role > ROLE_WORKER)
		abort();
	if (hs->state == HS_DONE &&
	    (!sodium_is_zero(hs->e_sk, sizeof(hs->e_sk)) ||
	    !sodium_is_zero(hs->dh, sizeof(hs->dh))))
		abort();
}

/* Mode 0: arbitrary HS1, then arbitrary HS3. */
static void
fuzz_responder(const uint8_t *p, size_t len)
{
	struct hs	 R;
	uint8_t		 sig[WIRE_SIG_LEN], hs2[WIRE_HS2_MAX];
	size_t		 l1, l2;
	const char	*why = NULL;
	int		 rv;

	if (len < 1)
		return;
	l1 = p[0] < len - 1 ? p[0] : len - 1;
	p++;
	len--;
	hs_init_fixed(&R, 0, &fr.id, esk_r, NULL);
	rv = hs_read1(&R, p, l1, &why);
	check(&R, rv, why);
	if (rv == -1)
		return;
	sign_req(&R, &fr, sig);
	rv = hs_write2(&R, sig, hs2, &l2, &why);
	check(&R, rv, why);
	if (rv == -1 || l2 > WIRE_HS2_MAX)
		abort();
	why = NULL;
	rv = hs_read3(&R, p + l1, len - l1, &why);
	check(&R, rv, why);
	hs_clear(&R);
}

/* Mode 1: arbitrary HS2. */
static void
fuzz_initiator(const uint8_t *p, size_t len)
{
	struct hs	 I;
	uint8_t		 sig[WIRE_SIG_LEN], hs1[WIRE_HS1_LEN];
	uint8_t		 hs3[WIRE_HS3_MAX];
	size_t		 l1, l3;
	const char	*why = NULL;
	int		 rv;

	hs_init_fixed(&I, 1, &fi.id, esk_i, rnd);
	if (hs_write1(&I, hs1, &l1, &why) == -1)
		abort();
	rv = hs_read2(&I, p, len, &why);
	check(&I, rv, why);
	if (rv == 0) {
		sign_req(&I, &fi, sig);
		rv = hs_write3(&I, sig, hs3, &l3, &why);
		check(&I, rv, why);
		if (rv == -1 || l3 > WIRE_HS3_MAX)
			abort();
	}
	hs_clear(&I);
}

/*
 * Seal pt (and a signature over label || H(base || pt) by signer if
 * sign) under k with AD ad into out; returns the ciphertext's length.
 */
static size_t
seal_id(const uint8_t *th, size_t base, const uint8_t *pt, size_t ptlen,
    const struct fparty *signer, uint32_t label, int sign,
    const uint8_t *k, const uint8_t *ad, uint8_t *out)
{
	static uint8_t		 t[WIRE_TH_MAX + 4096];
	static uint8_t		 buf[4096 + WIRE_SIG_LEN];
	uint8_t			 h[WIRE_HASH_LEN];
	const uint8_t		 nonce[FUZZ_NONCE_LEN] = { 0 };
	unsigned long long	 clen;

	if (ptlen > 4096)
		ptlen = 4096;
	memcpy(buf, pt, ptlen);
	if (sign) {
		memcpy(t, th, base);
		memcpy(t + base, pt, ptlen);
		crypto_generichash_blake2b(h, sizeof(h), t, base + ptlen,
		    NULL, 0);
		sign_hash(signer, label, h, buf + ptlen);
		ptlen += WIRE_SIG_LEN;
	}
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, buf, ptlen, ad,
	    WIRE_HASH_LEN, NULL, nonce, k);
	return ((size_t)clen);
}

/* Length of an identity's fields in the transcript. */
static size_t
own_len(const struct hs_identity *id)
{
	return (WIRE_KEY_LEN + 2 + strlen(id->name));
}

/* Mode 2: a properly encrypted HS2 with an arbitrary plaintext. */
static void
fuzz_initiator_pt(const uint8_t *p, size_t len, int sign)
{
	struct hs	 I, R;
	static uint8_t	 hs2[1 + WIRE_KEY_LEN + 4096 + WIRE_SIG_LEN +
			     WIRE_TAG_LEN];
	uint8_t		 hs1[WIRE_HS1_LEN], hs3[WIRE_HS3_MAX];
	uint8_t		 sig[WIRE_SIG_LEN];
	size_t		 l1, l2, l3;
	const char	*why = NULL;
	int		 rv;

	hs_init_fixed(&I, 1, &fi.id, esk_i, rnd);
	hs_init_fixed(&R, 0, &fr.id, esk_r, NULL);
	if (hs_write1(&I, hs1, &l1, &why) == -1 ||
	    hs_read1(&R, hs1, l1, &why) == -1)
		abort();
	hs2[0] = WIRE_HS2;
	memcpy(hs2 + 1, R.e_pk, WIRE_KEY_LEN);
	l2 = 1 + WIRE_KEY_LEN + seal_id(R.th, R.thlen - own_len(&R.self), p,
	    len, &fr, KEY_LABEL_HANDSHAKE_RESPONDER, sign, R.k, R.ad,
	    hs2 + 1 + WIRE_KEY_LEN);
	rv = hs_read2(&I, hs2, l2, &why);
	check(&I, rv, why);
	if (rv == 0) {
		if (memcmp(I.peer.pk, p, WIRE_KEY_LEN) != 0)
			abort();
		sign_req(&I, &fi, sig);
		rv = hs_write3(&I, sig, hs3, &l3, &why);
		check(&I, rv, why);
	}
	hs_clear(&I);
	hs_clear(&R);
}

/* Mode 3: a properly encrypted HS3 with an arbitrary plaintext. */
static void
fuzz_responder_pt(const uint8_t *p, size_t len, int sign)
{
	struct hs		 I, R;
	static uint8_t		 hs3[1 + 4096 + WIRE_SIG_LEN + WIRE_TAG_LEN];
	uint8_t			 hs1[WIRE_HS1_LEN], hs2[WIRE_HS2_MAX];
	uint8_t			 sig[WIRE_SIG_LEN];
	struct session_keys	 kr;
	size_t			 l1, l2, l3;
	const char		*why = NULL;
	int			 rv;

	hs_init_fixed(&I, 1, &fi.id, esk_i, rnd);
	hs_init_fixed(&R, 0, &fr.id, esk_r, NULL);
	if (hs_write1(&I, hs1, &l1, &why) == -1 ||
	    hs_read1(&R, hs1, l1, &why) == -1)
		abort();
	sign_req(&R, &fr, sig);
	if (hs_write2(&R, sig, hs2, &l2, &why) == -1 ||
	    hs_read2(&I, hs2, l2, &why) == -1)
		abort();
	hs3[0] = WIRE_HS3;
	l3 = 1 + seal_id(I.th, I.thlen - own_len(&I.self), p, len, &fi,
	    KEY_LABEL_HANDSHAKE_INITIATOR, sign, I.k, I.ad, hs3 + 1);
	rv = hs_read3(&R, hs3, l3, &why);
	check(&R, rv, why);
	if (rv == 0) {
		if (memcmp(R.peer.pk, p, WIRE_KEY_LEN) != 0 ||
		    hs_session_keys(&R, &kr) != 0)
			abort();
	}
	hs_clear(&I);
	hs_clear(&R);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	mode;

	setup();
	if (size < 1)
		return (0);
	mode = data[0];
	data++;
	size--;
	switch (mode % FUZZ_MODES) {
	case 0:
		fuzz_responder(data, size);
		break;
	case 1:
		fuzz_initiator(data, size);
		break;
	case 2:
		fuzz_initiator_pt(data, size, (mode & FUZZ_SIGN) != 0);
		break;
	default:
		fuzz_responder_pt(data, size, (mode & FUZZ_SIGN) != 0);
		break;
	}
	return (0);
}
