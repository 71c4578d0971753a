/*
 * Unit tests of common/wire.c: the handshake, the records, the test
 * vectors of doc/protocol.md.  The test plays keyd: it signs with
 * crypto_sign_detached on fixed or fresh seeds.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>
#include <sodium.h>

#include "lethd.h"
#include "wire.h"
#include "wire_vectors.h"

#ifndef WIRE_DOC
#error "build with -DWIRE_DOC=the path of doc/protocol.md"
#endif

#define SEED_LEN		32
/* Bytes of the vectors' longest value. */
#define VEC_MAX			WIRE_HS2_MAX
/* The protocol document is small; anything past this is a mistake. */
#define DOC_MAX			(256 * 1024)
/* Records each side sends in the re-key test, and its lowered limit. */
#define REKEY_TEST_RECORDS	10
#define REKEY_TEST_COUNT	3
#define REC_TEST_DATA		"a signed message would be here"

#define I_NAME			"controller-1"
#define R_NAME			"rig-07"

struct party {
	uint8_t			seed[SEED_LEN];
	uint8_t			pk[WIRE_KEY_LEN];
	uint8_t			sk[crypto_sign_SECRETKEYBYTES];
	struct hs_identity	id;
};

/* A full handshake's messages, as sent. */
struct run {
	uint8_t		hs1[WIRE_HS1_LEN];
	uint8_t		hs2[WIRE_HS2_MAX];
	uint8_t		hs3[WIRE_HS3_MAX];
	size_t		l1, l2, l3;
};

static void
setup(void)
{
	ATF_REQUIRE(sodium_init() >= 0);
}

static size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t	len;

	len = strlen(hex) / 2;
	ATF_REQUIRE(len <= max);
	ATF_REQUIRE(sodium_hex2bin(out, max, hex, strlen(hex), NULL, NULL,
	    NULL) == 0);
	return (len);
}

static const char *
vec(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(wire_vectors) / sizeof(wire_vectors[0]); i++)
		if (strcmp(wire_vectors[i].name, name) == 0)
			return (wire_vectors[i].hex);
	atf_tc_fail("no vector %s", name);
	return (NULL);
}

static void
vec_in(const char *name, uint8_t *out, size_t len)
{
	ATF_REQUIRE_EQ(unhex(vec(name), out, len), len);
}

/* The vectors each test checked, so none goes unchecked. */
static unsigned int	vec_checked[sizeof(wire_vectors) /
			    sizeof(wire_vectors[0])];

static void
vec_check(const char *name, const uint8_t *got, size_t len)
{
	uint8_t	want[VEC_MAX];
	size_t	i, n;

	n = unhex(vec(name), want, sizeof(want));
	ATF_CHECK_EQ_MSG(n, len, "%s: %zu bytes, want %zu", name, len, n);
	ATF_CHECK_MSG(n == len && memcmp(want, got, len) == 0,
	    "%s differs from the vector", name);
	for (i = 0; i < sizeof(wire_vectors) / sizeof(wire_vectors[0]); i++)
		if (strcmp(wire_vectors[i].name, name) == 0)
			vec_checked[i] = 1;
}

static void
party_make(struct party *p, const uint8_t *seed, uint8_t role,
    const char *name)
{
	if (seed != NULL)
		memcpy(p->seed, seed, SEED_LEN);
	else
		randombytes_buf(p->seed, SEED_LEN);
	ATF_REQUIRE(crypto_sign_seed_keypair(p->pk, p->sk, p->seed) == 0);
	memset(&p->id, 0, sizeof(p->id));
	memcpy(p->id.pk, p->pk, WIRE_KEY_LEN);
	p->id.role = role;
	ATF_REQUIRE(strlcpy(p->id.name, name, sizeof(p->id.name)) <
	    sizeof(p->id.name));
}

static void
party_vec(struct party *p, const char *seedvec, uint8_t role,
    const char *name)
{
	uint8_t	seed[SEED_LEN];

	vec_in(seedvec, seed, sizeof(seed));
	party_make(p, seed, role, name);
}

/* keyd's part: sign label || hash. */
static void
sign_as(const struct party *p, uint32_t label, const uint8_t *hash,
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
	ATF_REQUIRE(crypto_sign_detached(sig, NULL, msg, llen + WIRE_HASH_LEN,
	    p->sk) == 0);
}

/* Sign what hs asks for, as p. */
static void
sign_req(const struct hs *hs, const struct party *p,
    uint8_t sig[WIRE_SIG_LEN])
{
	uint8_t		hash[WIRE_HASH_LEN];
	uint32_t	label;

	ATF_REQUIRE(hs_sign_request(hs, hash, &label) == 0);
	sign_as(p, label, hash, sig);
}

static void
fixed_init(struct hs *I, struct hs *R, const struct party *pi,
    const struct party *pr)
{
	uint8_t	esk_i[WIRE_KEY_LEN], esk_r[WIRE_KEY_LEN];
	uint8_t	rnd[WIRE_RANDOM_LEN];

	vec_in("e_sk_i", esk_i, sizeof(esk_i));
	vec_in("e_sk_r", esk_r, sizeof(esk_r));
	vec_in("random", rnd, sizeof(rnd));
	if (I != NULL)
		hs_init_fixed(I, 1, &pi->id, esk_i, rnd);
	if (R != NULL)
		hs_init_fixed(R, 0, &pr->id, esk_r, NULL);
}

static void
fixed_parties(struct party *pi, struct party *pr)
{
	party_vec(pi, "seed_i", ROLE_CONTROLLER, I_NAME);
	party_vec(pr, "seed_r", ROLE_WORKER, R_NAME);
}

/* Run a whole handshake between I and R, which hs_init'ed already. */
static void
handshake(struct hs *I, struct hs *R, const struct party *pi,
    const struct party *pr, struct run *run)
{
	uint8_t		 sig[WIRE_SIG_LEN];
	const char	*why = NULL;

	ATF_REQUIRE(hs_write1(I, run->hs1, &run->l1, &why) == 0);
	ATF_REQUIRE_MSG(hs_read1(R, run->hs1, run->l1, &why) == 0, "%s", why);
	sign_req(R, pr, sig);
	ATF_REQUIRE(hs_write2(R, sig, run->hs2, &run->l2, &why) == 0);
	ATF_REQUIRE_MSG(hs_read2(I, run->hs2, run->l2, &why) == 0, "%s", why);
	sign_req(I, pi, sig);
	ATF_REQUIRE(hs_write3(I, sig, run->hs3, &run->l3, &why) == 0);
	ATF_REQUIRE_MSG(hs_read3(R, run->hs3, run->l3, &why) == 0, "%s", why);
}

/* The fixed run of the vectors, for the tests that tamper with it. */
static void
fixed_run(struct run *run)
{
	struct party	pi, pr;
	struct hs	I, R;

	fixed_parties(&pi, &pr);
	fixed_init(&I, &R, &pi, &pr);
	handshake(&I, &R, &pi, &pr, run);
	hs_clear(&I);
	hs_clear(&R);
}

/* A responder that has read the fixed HS1 and written the fixed HS2. */
static void
responder_at_hs3(struct hs *R, const struct run *run)
{
	struct party	 pi, pr;
	uint8_t		 sig[WIRE_SIG_LEN], hs2[WIRE_HS2_MAX];
	size_t		 l2;
	const char	*why;

	fixed_parties(&pi, &pr);
	fixed_init(NULL, R, &pi, &pr);
	ATF_REQUIRE(hs_read1(R, run->hs1, run->l1, &why) == 0);
	sign_req(R, &pr, sig);
	ATF_REQUIRE(hs_write2(R, sig, hs2, &l2, &why) == 0);
}

/* An initiator that has written the fixed HS1. */
static void
initiator_at_hs2(struct hs *I)
{
	struct party	 pi, pr;
	uint8_t		 hs1[WIRE_HS1_LEN];
	size_t		 l1;
	const char	*why;

	fixed_parties(&pi, &pr);
	fixed_init(I, NULL, &pi, &pr);
	ATF_REQUIRE(hs_write1(I, hs1, &l1, &why) == 0);
}

static int
all_zero(const uint8_t *p, size_t len)
{
	return (sodium_is_zero(p, len));
}

/* whyp is read after the call in rv's argument has run. */
static void
check_failed(const struct hs *hs, int rv, const char *const *whyp)
{
	ATF_CHECK_EQ(rv, -1);
	ATF_CHECK(*whyp != NULL);
	ATF_CHECK_EQ(hs->state, HS_FAILED);
	ATF_CHECK(all_zero(hs->e_sk, sizeof(hs->e_sk)));
	ATF_CHECK(all_zero(hs->dh, sizeof(hs->dh)));
}

/* Two sessions from a fresh handshake, a for I and b for R. */
static void
session_pair(struct session *a, struct session *b)
{
	struct party		pi, pr;
	struct hs		I, R;
	struct run		run;
	struct session_keys	ki, kr;

	party_make(&pi, NULL, ROLE_CONTROLLER, I_NAME);
	party_make(&pr, NULL, ROLE_WORKER, R_NAME);
	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	handshake(&I, &R, &pi, &pr, &run);
	ATF_REQUIRE(hs_session_keys(&I, &ki) == 0);
	ATF_REQUIRE(hs_session_keys(&R, &kr) == 0);
	session_init(a, &ki);
	session_init(b, &kr);
	hs_clear(&I);
	hs_clear(&R);
}

static void
seal(struct session *s, const char *data, uint8_t *out, size_t *outlen)
{
	uint8_t	rk[WIRE_REC_OVERHEAD];
	size_t	rl;

	ATF_REQUIRE(session_seal(s, (const uint8_t *)data, strlen(data), out,
	    outlen, rk, &rl) == 0);
	ATF_REQUIRE_EQ(rl, 0);
}

static void
open_ok(struct session *s, const uint8_t *rec, size_t len, const char *want)
{
	uint8_t		 out[WIRE_HS2_MAX];
	size_t		 outlen;
	const char	*why = NULL;

	ATF_REQUIRE(len <= sizeof(out));
	ATF_REQUIRE_MSG(session_open(s, rec, len, out, &outlen, &why) == 1,
	    "%s", why);
	ATF_CHECK_EQ(outlen, strlen(want));
	ATF_CHECK(memcmp(out, want, outlen) == 0);
}

static int
open_fails(struct session *s, const uint8_t *rec, size_t len,
    const char *reason)
{
	uint8_t		*out;
	size_t		 outlen;
	const char	*why = NULL;
	int		 rv;

	ATF_REQUIRE((out = malloc(len > 0 ? len : 1)) != NULL);
	rv = session_open(s, rec, len, out, &outlen, &why);
	free(out);
	ATF_CHECK_EQ_MSG(rv, -1, "record of %zu bytes opened", len);
	ATF_CHECK(rv != -1 || why != NULL);
	if (rv == -1 && reason != NULL)
		ATF_CHECK_STREQ(why, reason);
	return (rv == -1);
}

/* The test's own record encoder, to build what session_seal never does. */
static size_t
raw_record(const uint8_t key[WIRE_KEY_LEN], uint64_t ctr,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t			nonce[12];
	unsigned long long	clen;
	int			i;

	out[0] = WIRE_RECORD;
	memset(nonce, 0, sizeof(nonce));
	for (i = 0; i < 8; i++)
		out[1 + i] = nonce[4 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 9, &clen, pt, ptlen,
	    out, 9, NULL, nonce, key);
	return (9 + (size_t)clen);
}

ATF_TC_WITHOUT_HEAD(handshake_gives_both_sides_matching_keys);
ATF_TC_BODY(handshake_gives_both_sides_matching_keys, tc)
{
	struct party		pi, pr;
	struct hs		I, R;
	struct run		run;
	struct session_keys	ki, kr;

	setup();
	party_make(&pi, NULL, ROLE_CONTROLLER, I_NAME);
	party_make(&pr, NULL, ROLE_WORKER, "");
	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	handshake(&I, &R, &pi, &pr, &run);
	ATF_CHECK_EQ(I.state, HS_DONE);
	ATF_CHECK_EQ(R.state, HS_DONE);
	ATF_REQUIRE(hs_session_keys(&I, &ki) == 0);
	ATF_REQUIRE(hs_session_keys(&R, &kr) == 0);
	ATF_CHECK(memcmp(ki.tx, kr.rx, WIRE_KEY_LEN) == 0);
	ATF_CHECK(memcmp(ki.rx, kr.tx, WIRE_KEY_LEN) == 0);
	ATF_CHECK(memcmp(ki.tx, ki.rx, WIRE_KEY_LEN) != 0);
	/* each side now knows the other's verified identity */
	ATF_CHECK(memcmp(I.peer.pk, pr.pk, WIRE_KEY_LEN) == 0);
	ATF_CHECK_EQ(I.peer.role, ROLE_WORKER);
	ATF_CHECK_STREQ(I.peer.name, "");
	ATF_CHECK(memcmp(R.peer.pk, pi.pk, WIRE_KEY_LEN) == 0);
	ATF_CHECK_EQ(R.peer.role, ROLE_CONTROLLER);
	ATF_CHECK_STREQ(R.peer.name, I_NAME);
	ATF_CHECK_EQ(run.l1, WIRE_HS1_LEN);
	ATF_CHECK_EQ(run.l2, WIRE_HS2_MAX - WIRE_NAME_MAX);
	ATF_CHECK_EQ(run.l3, WIRE_HS3_MAX - WIRE_NAME_MAX + strlen(I_NAME));
	hs_clear(&I);
	hs_clear(&R);
	ATF_CHECK(hs_session_keys(&I, &ki) == -1);
}

ATF_TC_WITHOUT_HEAD(finished_handshake_forgets_its_ephemeral_secrets);
ATF_TC_BODY(finished_handshake_forgets_its_ephemeral_secrets, tc)
{
	struct party	pi, pr;
	struct hs	I, R;
	struct run	run;

	setup();
	party_make(&pi, NULL, ROLE_CONTROLLER, I_NAME);
	party_make(&pr, NULL, ROLE_WORKER, R_NAME);
	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	ATF_REQUIRE(!all_zero(I.e_sk, sizeof(I.e_sk)));
	handshake(&I, &R, &pi, &pr, &run);
	ATF_CHECK(all_zero(I.e_sk, sizeof(I.e_sk)));
	ATF_CHECK(all_zero(I.dh, sizeof(I.dh)));
	ATF_CHECK(all_zero(I.k, sizeof(I.k)));
	ATF_CHECK(all_zero(R.e_sk, sizeof(R.e_sk)));
	ATF_CHECK(all_zero(R.dh, sizeof(R.dh)));
	ATF_CHECK(all_zero(R.k, sizeof(R.k)));
	hs_clear(&I);
	ATF_CHECK(all_zero((const uint8_t *)&I.keys, sizeof(I.keys)));
	ATF_CHECK(all_zero(I.th, sizeof(I.th)));
}

ATF_TC_WITHOUT_HEAD(fixed_handshake_matches_the_vectors);
ATF_TC_BODY(fixed_handshake_matches_the_vectors, tc)
{
	struct party		 pi, pr;
	struct hs		 I, R;
	struct run		 run;
	struct session_keys	 ki, kr;
	struct session		 a, b;
	uint8_t			 h[WIRE_HASH_LEN], sig[WIRE_SIG_LEN];
	uint8_t			 rec[WIRE_HS2_MAX], rk[WIRE_REC_OVERHEAD];
	size_t			 i, rl, ol;
	uint32_t		 label;
	const char		*why;

	setup();
	fixed_parties(&pi, &pr);
	vec_check("pk_i", pi.pk, WIRE_KEY_LEN);
	vec_check("pk_r", pr.pk, WIRE_KEY_LEN);
	fixed_init(&I, &R, &pi, &pr);
	vec_check("e_pk_i", I.e_pk, WIRE_KEY_LEN);
	vec_check("e_pk_r", R.e_pk, WIRE_KEY_LEN);

	ATF_REQUIRE(hs_write1(&I, run.hs1, &run.l1, &why) == 0);
	vec_check("hs1", run.hs1, run.l1);
	ATF_REQUIRE(hs_read1(&R, run.hs1, run.l1, &why) == 0);
	vec_check("dh", R.dh, WIRE_KEY_LEN);
	vec_check("h2", R.ad, WIRE_HASH_LEN);
	vec_check("k2", R.k, WIRE_KEY_LEN);
	ATF_REQUIRE(hs_sign_request(&R, h, &label) == 0);
	ATF_CHECK_EQ(label, KEY_LABEL_HANDSHAKE_RESPONDER);
	vec_check("th_r", h, WIRE_HASH_LEN);
	sign_as(&pr, label, h, sig);
	vec_check("sig_r", sig, WIRE_SIG_LEN);
	ATF_REQUIRE(hs_write2(&R, sig, run.hs2, &run.l2, &why) == 0);
	vec_check("hs2", run.hs2, run.l2);
	vec_check("h3", R.ad, WIRE_HASH_LEN);
	vec_check("k3", R.k, WIRE_KEY_LEN);

	ATF_REQUIRE(hs_read2(&I, run.hs2, run.l2, &why) == 0);
	vec_check("dh", I.dh, WIRE_KEY_LEN);
	ATF_REQUIRE(hs_sign_request(&I, h, &label) == 0);
	ATF_CHECK_EQ(label, KEY_LABEL_HANDSHAKE_INITIATOR);
	vec_check("th_i", h, WIRE_HASH_LEN);
	sign_as(&pi, label, h, sig);
	vec_check("sig_i", sig, WIRE_SIG_LEN);
	ATF_REQUIRE(hs_write3(&I, sig, run.hs3, &run.l3, &why) == 0);
	vec_check("hs3", run.hs3, run.l3);
	ATF_REQUIRE(hs_read3(&R, run.hs3, run.l3, &why) == 0);
	crypto_generichash_blake2b(h, sizeof(h), R.th, R.thlen, NULL, 0);
	vec_check("th_final", h, WIRE_HASH_LEN);
	crypto_generichash_blake2b(h, sizeof(h), I.th, I.thlen, NULL, 0);
	vec_check("th_final", h, WIRE_HASH_LEN);

	ATF_REQUIRE(hs_session_keys(&I, &ki) == 0);
	ATF_REQUIRE(hs_session_keys(&R, &kr) == 0);
	vec_check("k_i2r", ki.tx, WIRE_KEY_LEN);
	vec_check("k_r2i", ki.rx, WIRE_KEY_LEN);
	vec_check("k_i2r", kr.rx, WIRE_KEY_LEN);
	vec_check("k_r2i", kr.tx, WIRE_KEY_LEN);

	session_init(&a, &ki);
	session_init(&b, &kr);
	ATF_REQUIRE(session_seal(&a, (const uint8_t *)"hello, responder", 16,
	    rec, &ol, rk, &rl) == 0);
	vec_check("rec_i2r_0", rec, ol);
	open_ok(&b, rec, ol, "hello, responder");
	ATF_REQUIRE(session_seal(&b, (const uint8_t *)"hello, initiator", 16,
	    rec, &ol, rk, &rl) == 0);
	vec_check("rec_r2i_0", rec, ol);
	open_ok(&a, rec, ol, "hello, initiator");
	ATF_REQUIRE(session_rekey(&a, rec, &ol) == 0);
	vec_check("rec_i2r_rekey", rec, ol);
	vec_check("k_i2r_next", a.tx_key, WIRE_KEY_LEN);
	ATF_REQUIRE(session_seal(&a, (const uint8_t *)"after rekey", 11,
	    rec, &ol, rk, &rl) == 0);
	vec_check("rec_i2r_next_0", rec, ol);

	/* the inputs are checked by being used */
	for (i = 0; i < sizeof(wire_vectors) / sizeof(wire_vectors[0]); i++)
		if (strncmp(wire_vectors[i].name, "seed_", 5) == 0 ||
		    strncmp(wire_vectors[i].name, "e_sk_", 5) == 0 ||
		    strcmp(wire_vectors[i].name, "random") == 0)
			vec_checked[i] = 1;
	for (i = 0; i < sizeof(wire_vectors) / sizeof(wire_vectors[0]); i++)
		ATF_CHECK_MSG(vec_checked[i], "vector %s not checked",
		    wire_vectors[i].name);
}

ATF_TC_WITHOUT_HEAD(protocol_document_shows_the_vectors);
ATF_TC_BODY(protocol_document_shows_the_vectors, tc)
{
	FILE		*fp;
	char		*doc, *want;
	size_t		 i, j, n;
	int		 c;

	ATF_REQUIRE_MSG((fp = fopen(WIRE_DOC, "r")) != NULL, "%s", WIRE_DOC);
	ATF_REQUIRE((doc = malloc(DOC_MAX + 1)) != NULL);
	/* the whole document with all white space taken out */
	for (n = 0; (c = getc(fp)) != EOF; ) {
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		ATF_REQUIRE(n < DOC_MAX);
		doc[n++] = (char)c;
	}
	doc[n] = '\0';
	fclose(fp);
	for (i = 0; i < sizeof(wire_vectors) / sizeof(wire_vectors[0]); i++) {
		ATF_REQUIRE(asprintf(&want, "%s:%s", wire_vectors[i].name,
		    wire_vectors[i].hex) != -1);
		ATF_CHECK_MSG(strstr(doc, want) != NULL,
		    "doc/protocol.md does not show vector %s",
		    wire_vectors[i].name);
		free(want);
		for (j = 0; j < i; j++)
			ATF_CHECK(strcmp(wire_vectors[i].name,
			    wire_vectors[j].name) != 0);
	}
	free(doc);
}

ATF_TC_WITHOUT_HEAD(every_bit_flip_in_hs2_is_refused);
ATF_TC_BODY(every_bit_flip_in_hs2_is_refused, tc)
{
	struct run	 run;
	struct hs	 I;
	uint8_t		 m[WIRE_HS2_MAX];
	size_t		 bit;
	const char	*why;
	int		 rv;

	setup();
	fixed_run(&run);
	for (bit = 0; bit < run.l2 * 8; bit++) {
		initiator_at_hs2(&I);
		memcpy(m, run.hs2, run.l2);
		m[bit / 8] ^= 1 << (bit % 8);
		why = NULL;
		rv = hs_read2(&I, m, run.l2, &why);
		ATF_CHECK_MSG(rv == -1, "flipped bit %zu accepted", bit);
		check_failed(&I, rv, &why);
	}
	/* and the untouched one still works */
	initiator_at_hs2(&I);
	ATF_CHECK(hs_read2(&I, run.hs2, run.l2, &why) == 0);
}

ATF_TC_WITHOUT_HEAD(every_bit_flip_in_hs3_is_refused);
ATF_TC_BODY(every_bit_flip_in_hs3_is_refused, tc)
{
	struct run	 run;
	struct hs	 R;
	uint8_t		 m[WIRE_HS3_MAX];
	size_t		 bit;
	const char	*why;
	int		 rv;

	setup();
	fixed_run(&run);
	for (bit = 0; bit < run.l3 * 8; bit++) {
		responder_at_hs3(&R, &run);
		memcpy(m, run.hs3, run.l3);
		m[bit / 8] ^= 1 << (bit % 8);
		why = NULL;
		rv = hs_read3(&R, m, run.l3, &why);
		ATF_CHECK_MSG(rv == -1, "flipped bit %zu accepted", bit);
		check_failed(&R, rv, &why);
	}
	responder_at_hs3(&R, &run);
	ATF_CHECK(hs_read3(&R, run.hs3, run.l3, &why) == 0);
}

/* A man in the middle changes HS1: the initiator sees it in HS2. */
ATF_TC_WITHOUT_HEAD(tampered_hs1_is_caught_by_the_initiator);
ATF_TC_BODY(tampered_hs1_is_caught_by_the_initiator, tc)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 I, R;
	uint8_t		 m[WIRE_HS1_LEN], sig[WIRE_SIG_LEN];
	uint8_t		 hs2[WIRE_HS2_MAX];
	size_t		 bit, l2;
	const char	*why;

	setup();
	fixed_parties(&pi, &pr);
	fixed_run(&run);
	/* past the type and version bytes, which read1 refuses itself */
	for (bit = 16; bit < run.l1 * 8; bit++) {
		memcpy(m, run.hs1, run.l1);
		m[bit / 8] ^= 1 << (bit % 8);
		fixed_init(NULL, &R, &pi, &pr);
		if (hs_read1(&R, m, run.l1, &why) == -1)
			continue;	/* a low-order key: refused */
		sign_req(&R, &pr, sig);
		ATF_REQUIRE(hs_write2(&R, sig, hs2, &l2, &why) == 0);
		initiator_at_hs2(&I);
		ATF_CHECK_MSG(hs_read2(&I, hs2, l2, &why) == -1,
		    "HS2 after flipped HS1 bit %zu accepted", bit);
	}
}

ATF_TC_WITHOUT_HEAD(signature_by_another_key_is_refused);
ATF_TC_BODY(signature_by_another_key_is_refused, tc)
{
	struct party	 pi, pr, other;
	struct hs	 I, R;
	uint8_t		 hs1[WIRE_HS1_LEN], hs2[WIRE_HS2_MAX];
	uint8_t		 hs3[WIRE_HS3_MAX], sig[WIRE_SIG_LEN];
	size_t		 l1, l2, l3;
	const char	*why = NULL;

	setup();
	party_make(&pi, NULL, ROLE_CONTROLLER, I_NAME);
	party_make(&pr, NULL, ROLE_WORKER, R_NAME);
	party_make(&other, NULL, ROLE_WORKER, R_NAME);

	/* the responder claims pr's key but signs with other's */
	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	ATF_REQUIRE(hs_write1(&I, hs1, &l1, &why) == 0);
	ATF_REQUIRE(hs_read1(&R, hs1, l1, &why) == 0);
	sign_req(&R, &other, sig);
	ATF_REQUIRE(hs_write2(&R, sig, hs2, &l2, &why) == 0);
	check_failed(&I, hs_read2(&I, hs2, l2, &why), &why);
	ATF_CHECK_STREQ(why, "bad handshake signature");

	/* the initiator does the same */
	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	ATF_REQUIRE(hs_write1(&I, hs1, &l1, &why) == 0);
	ATF_REQUIRE(hs_read1(&R, hs1, l1, &why) == 0);
	sign_req(&R, &pr, sig);
	ATF_REQUIRE(hs_write2(&R, sig, hs2, &l2, &why) == 0);
	ATF_REQUIRE(hs_read2(&I, hs2, l2, &why) == 0);
	sign_req(&I, &other, sig);
	ATF_REQUIRE(hs_write3(&I, sig, hs3, &l3, &why) == 0);
	check_failed(&R, hs_read3(&R, hs3, l3, &why), &why);
	ATF_CHECK_STREQ(why, "bad handshake signature");
}

ATF_TC_WITHOUT_HEAD(signature_under_the_other_label_is_refused);
ATF_TC_BODY(signature_under_the_other_label_is_refused, tc)
{
	struct party	 pi, pr;
	struct hs	 I, R;
	uint8_t		 hs1[WIRE_HS1_LEN], hs2[WIRE_HS2_MAX];
	uint8_t		 hs3[WIRE_HS3_MAX], sig[WIRE_SIG_LEN];
	uint8_t		 h[WIRE_HASH_LEN];
	size_t		 l1, l2, l3;
	uint32_t	 label;
	const char	*why = NULL;

	setup();
	party_make(&pi, NULL, ROLE_CONTROLLER, I_NAME);
	party_make(&pr, NULL, ROLE_WORKER, R_NAME);

	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	ATF_REQUIRE(hs_write1(&I, hs1, &l1, &why) == 0);
	ATF_REQUIRE(hs_read1(&R, hs1, l1, &why) == 0);
	ATF_REQUIRE(hs_sign_request(&R, h, &label) == 0);
	sign_as(&pr, KEY_LABEL_HANDSHAKE_INITIATOR, h, sig);
	ATF_REQUIRE(hs_write2(&R, sig, hs2, &l2, &why) == 0);
	check_failed(&I, hs_read2(&I, hs2, l2, &why), &why);
	ATF_CHECK_STREQ(why, "bad handshake signature");

	hs_init(&I, 1, &pi.id);
	hs_init(&R, 0, &pr.id);
	ATF_REQUIRE(hs_write1(&I, hs1, &l1, &why) == 0);
	ATF_REQUIRE(hs_read1(&R, hs1, l1, &why) == 0);
	sign_req(&R, &pr, sig);
	ATF_REQUIRE(hs_write2(&R, sig, hs2, &l2, &why) == 0);
	ATF_REQUIRE(hs_read2(&I, hs2, l2, &why) == 0);
	ATF_REQUIRE(hs_sign_request(&I, h, &label) == 0);
	sign_as(&pi, KEY_LABEL_HANDSHAKE_RESPONDER, h, sig);
	ATF_REQUIRE(hs_write3(&I, sig, hs3, &l3, &why) == 0);
	check_failed(&R, hs_read3(&R, hs3, l3, &why), &why);
	ATF_CHECK_STREQ(why, "bad handshake signature");
}

ATF_TC_WITHOUT_HEAD(truncated_or_extended_handshake_is_refused);
ATF_TC_BODY(truncated_or_extended_handshake_is_refused, tc)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 I, R;
	uint8_t		 m[WIRE_HS2_MAX + 1];
	size_t		 len;
	const char	*why;

	setup();
	fixed_parties(&pi, &pr);
	fixed_run(&run);
	for (len = 0; len <= run.l1 + 1; len++) {
		if (len == run.l1)
			continue;
		memset(m, 0, sizeof(m));
		memcpy(m, run.hs1, len < run.l1 ? len : run.l1);
		fixed_init(NULL, &R, &pi, &pr);
		why = NULL;
		check_failed(&R, hs_read1(&R, m, len, &why), &why);
	}
	for (len = 0; len <= run.l2 + 1; len++) {
		if (len == run.l2)
			continue;
		memset(m, 0, sizeof(m));
		memcpy(m, run.hs2, len < run.l2 ? len : run.l2);
		initiator_at_hs2(&I);
		why = NULL;
		check_failed(&I, hs_read2(&I, m, len, &why), &why);
	}
	for (len = 0; len <= run.l3 + 1; len++) {
		if (len == run.l3)
			continue;
		memset(m, 0, sizeof(m));
		memcpy(m, run.hs3, len < run.l3 ? len : run.l3);
		responder_at_hs3(&R, &run);
		why = NULL;
		check_failed(&R, hs_read3(&R, m, len, &why), &why);
	}
}

ATF_TC_WITHOUT_HEAD(other_protocol_version_is_refused);
ATF_TC_BODY(other_protocol_version_is_refused, tc)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 R;
	uint8_t		 m[WIRE_HS1_LEN];
	const uint8_t	 versions[] = { 0, 2, 0x81, 0xff };
	size_t		 i;
	const char	*why;

	setup();
	fixed_parties(&pi, &pr);
	fixed_run(&run);
	for (i = 0; i < sizeof(versions); i++) {
		memcpy(m, run.hs1, run.l1);
		m[1] = versions[i];
		fixed_init(NULL, &R, &pi, &pr);
		check_failed(&R, hs_read1(&R, m, run.l1, &why), &why);
		ATF_CHECK_STREQ(why, "unsupported protocol version");
	}
	/* nor another message type in HS1's place */
	memcpy(m, run.hs1, run.l1);
	m[0] = WIRE_HS3;
	fixed_init(NULL, &R, &pi, &pr);
	check_failed(&R, hs_read1(&R, m, run.l1, &why), &why);
}

ATF_TC_WITHOUT_HEAD(low_order_ephemeral_key_is_refused);
ATF_TC_BODY(low_order_ephemeral_key_is_refused, tc)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 I, R;
	uint8_t		 m[WIRE_HS2_MAX];
	const char	*why;
	int		 u;

	setup();
	fixed_parties(&pi, &pr);
	fixed_run(&run);
	/* u = 0 and u = 1 are points of small order: DH gives zero */
	for (u = 0; u <= 1; u++) {
		memcpy(m, run.hs1, run.l1);
		memset(m + 2, 0, WIRE_KEY_LEN);
		m[2] = (uint8_t)u;
		fixed_init(NULL, &R, &pi, &pr);
		check_failed(&R, hs_read1(&R, m, run.l1, &why), &why);
		ATF_CHECK_STREQ(why, "bad ephemeral key");

		memcpy(m, run.hs2, run.l2);
		memset(m + 1, 0, WIRE_KEY_LEN);
		m[1] = (uint8_t)u;
		initiator_at_hs2(&I);
		check_failed(&I, hs_read2(&I, m, run.l2, &why), &why);
		ATF_CHECK_STREQ(why, "bad ephemeral key");
	}
}

/*
 * Build an HS2 that the fixed responder R (after hs_read1) would send
 * if it declared the identity fields idf (idlen bytes, any content),
 * signed properly: so only the layout checks can refuse it.
 */
static size_t
forge_hs2(struct hs *R, const struct party *pr, const uint8_t *idf,
    size_t idlen, uint8_t *out)
{
	uint8_t			t[WIRE_TH_MAX], h[WIRE_HASH_LEN];
	uint8_t			pt[WIRE_ID_MAX + 8], sig[WIRE_SIG_LEN];
	size_t			base, own;
	unsigned long long	clen;
	const uint8_t		nonce[12] = { 0 };

	own = WIRE_KEY_LEN + 2 + strlen(R->self.name);
	base = R->thlen - own;
	ATF_REQUIRE(base + idlen <= sizeof(t));
	ATF_REQUIRE(idlen + WIRE_SIG_LEN <= sizeof(pt));
	memcpy(t, R->th, base);
	memcpy(t + base, idf, idlen);
	crypto_generichash_blake2b(h, sizeof(h), t, base + idlen, NULL, 0);
	sign_as(pr, KEY_LABEL_HANDSHAKE_RESPONDER, h, sig);
	memcpy(pt, idf, idlen);
	memcpy(pt + idlen, sig, WIRE_SIG_LEN);
	out[0] = WIRE_HS2;
	memcpy(out + 1, R->e_pk, WIRE_KEY_LEN);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 1 + WIRE_KEY_LEN,
	    &clen, pt, idlen + WIRE_SIG_LEN, R->ad, WIRE_HASH_LEN, NULL, nonce,
	    R->k);
	return (1 + WIRE_KEY_LEN + (size_t)clen);
}

static int
try_identity(const uint8_t *idf, size_t idlen, const char **why)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 I, R;
	uint8_t		 m[WIRE_HS2_MAX + 16];
	size_t		 len;
	int		 rv;

	fixed_parties(&pi, &pr);
	fixed_run(&run);
	fixed_init(NULL, &R, &pi, &pr);
	ATF_REQUIRE(hs_read1(&R, run.hs1, run.l1, why) == 0);
	len = forge_hs2(&R, &pr, idf, idlen, m);
	initiator_at_hs2(&I);
	*why = NULL;
	rv = hs_read2(&I, m, len, why);
	if (rv == -1)
		check_failed(&I, rv, why);
	return (rv);
}

ATF_TC_WITHOUT_HEAD(malformed_declared_identity_is_refused);
ATF_TC_BODY(malformed_declared_identity_is_refused, tc)
{
	struct party	 pr;
	uint8_t		 idf[WIRE_ID_MAX];
	const char	*why;
	size_t		 n;

	setup();
	party_vec(&pr, "seed_r", ROLE_WORKER, R_NAME);
	memset(idf, 'a', sizeof(idf));
	memcpy(idf, pr.pk, WIRE_KEY_LEN);

	/* the well-formed forgery passes: the harness is sound */
	n = 6;
	idf[WIRE_KEY_LEN] = ROLE_WORKER;
	idf[WIRE_KEY_LEN + 1] = (uint8_t)n;
	ATF_REQUIRE(try_identity(idf, WIRE_KEY_LEN + 2 + n, &why) == 0);

	idf[WIRE_KEY_LEN] = ROLE_WORKER + 1;
	ATF_CHECK(try_identity(idf, WIRE_KEY_LEN + 2 + n, &why) == -1);
	ATF_CHECK_STREQ(why, "bad peer role");
	idf[WIRE_KEY_LEN] = ROLE_WORKER;

	/* name length says one more or one less than there is */
	idf[WIRE_KEY_LEN + 1] = (uint8_t)(n + 1);
	ATF_CHECK(try_identity(idf, WIRE_KEY_LEN + 2 + n, &why) == -1);
	ATF_CHECK_STREQ(why, "bad identity length");
	idf[WIRE_KEY_LEN + 1] = (uint8_t)(n - 1);
	ATF_CHECK(try_identity(idf, WIRE_KEY_LEN + 2 + n, &why) == -1);
	ATF_CHECK_STREQ(why, "bad identity length");

	/* a name longer than WIRE_NAME_MAX */
	idf[WIRE_KEY_LEN + 1] = WIRE_NAME_MAX + 1;
	ATF_CHECK(try_identity(idf, WIRE_KEY_LEN + 2 + WIRE_NAME_MAX - 1,
	    &why) == -1);
	ATF_CHECK_STREQ(why, "peer name too long");

	/* a NUL inside the name */
	idf[WIRE_KEY_LEN + 1] = (uint8_t)n;
	idf[WIRE_KEY_LEN + 2 + 2] = '\0';
	ATF_CHECK(try_identity(idf, WIRE_KEY_LEN + 2 + n, &why) == -1);
	ATF_CHECK_STREQ(why, "NUL in peer name");
}

ATF_TC_WITHOUT_HEAD(bad_own_identity_is_refused);
ATF_TC_BODY(bad_own_identity_is_refused, tc)
{
	struct party	 pi, pr;
	struct hs	 hs;
	uint8_t		 m[WIRE_HS1_LEN];
	size_t		 l;
	const char	*why;

	setup();
	fixed_parties(&pi, &pr);
	pi.id.role = ROLE_WORKER + 1;
	hs_init(&hs, 1, &pi.id);
	check_failed(&hs, hs_write1(&hs, m, &l, &why), &why);
	ATF_CHECK_STREQ(why, "bad own identity");
}

ATF_TC_WITHOUT_HEAD(handshake_steps_out_of_order_fail_cleanly);
ATF_TC_BODY(handshake_steps_out_of_order_fail_cleanly, tc)
{
	struct party	 pi, pr;
	struct run	 run;
	struct hs	 I, R;
	uint8_t		 sig[WIRE_SIG_LEN], h[WIRE_HASH_LEN];
	uint8_t		 out[WIRE_HS2_MAX];
	struct session_keys k;
	size_t		 l;
	uint32_t	 label;
	const char	*why;

	setup();
	fixed_parties(&pi, &pr);
	fixed_run(&run);
	memset(sig, 0, sizeof(sig));

	/* initiator: write3 before read2, and nothing else after that */
	initiator_at_hs2(&I);
	ATF_CHECK(hs_sign_request(&I, h, &label) == -1);
	check_failed(&I, hs_write3(&I, sig, out, &l, &why), &why);
	ATF_CHECK_STREQ(why, "handshake out of order");
	check_failed(&I, hs_read2(&I, run.hs2, run.l2, &why), &why);
	ATF_CHECK(hs_session_keys(&I, &k) == -1);

	/* initiator: responder calls, write1 twice */
	fixed_init(&I, NULL, &pi, &pr);
	check_failed(&I, hs_read1(&I, run.hs1, run.l1, &why), &why);
	fixed_init(&I, NULL, &pi, &pr);
	check_failed(&I, hs_write2(&I, sig, out, &l, &why), &why);
	fixed_init(&I, NULL, &pi, &pr);
	check_failed(&I, hs_read3(&I, run.hs3, run.l3, &why), &why);
	initiator_at_hs2(&I);
	check_failed(&I, hs_write1(&I, out, &l, &why), &why);
	/* HS3 where HS2 belongs */
	initiator_at_hs2(&I);
	check_failed(&I, hs_read2(&I, run.hs3, run.l3, &why), &why);

	/* responder: write2 before read1, read3 before write2, twice */
	fixed_init(NULL, &R, &pi, &pr);
	check_failed(&R, hs_write2(&R, sig, out, &l, &why), &why);
	fixed_init(NULL, &R, &pi, &pr);
	check_failed(&R, hs_write1(&R, out, &l, &why), &why);
	fixed_init(NULL, &R, &pi, &pr);
	check_failed(&R, hs_read3(&R, run.hs3, run.l3, &why), &why);
	fixed_init(NULL, &R, &pi, &pr);
	ATF_REQUIRE(hs_read1(&R, run.hs1, run.l1, &why) == 0);
	check_failed(&R, hs_read3(&R, run.hs3, run.l3, &why), &why);
	fixed_init(NULL, &R, &pi, &pr);
	ATF_REQUIRE(hs_read1(&R, run.hs1, run.l1, &why) == 0);
	check_failed(&R, hs_read1(&R, run.hs1, run.l1, &why), &why);
	ATF_CHECK(hs_sign_request(&R, h, &label) == -1);
	/* a replayed HS1 after the handshake is done */
	responder_at_hs3(&R, &run);
	ATF_REQUIRE(hs_read3(&R, run.hs3, run.l3, &why) == 0);
	check_failed(&R, hs_read1(&R, run.hs1, run.l1, &why), &why);
	ATF_CHECK(hs_session_keys(&R, &k) == -1);
}

ATF_TC_WITHOUT_HEAD(records_go_both_ways);
ATF_TC_BODY(records_go_both_ways, tc)
{
	struct session	 a, b;
	uint8_t		*data, *rec, *out, rk[WIRE_REC_OVERHEAD];
	size_t		 sizes[] = { 0, 1, 255, 4096, WIRE_REC_MAX_DATA };
	size_t		 i, rl, ol, got;
	const char	*why;

	setup();
	session_pair(&a, &b);
	ATF_REQUIRE((data = malloc(WIRE_REC_MAX_DATA + 1)) != NULL);
	ATF_REQUIRE((rec = malloc(WIRE_REC_MAX + 1)) != NULL);
	ATF_REQUIRE((out = malloc(WIRE_REC_MAX + 1)) != NULL);
	randombytes_buf(data, WIRE_REC_MAX_DATA + 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ATF_REQUIRE(session_seal(&a, data, sizes[i], rec, &ol, rk,
		    &rl) == 0);
		ATF_CHECK_EQ(ol, sizes[i] + WIRE_REC_OVERHEAD);
		ATF_CHECK_EQ(rec[0], WIRE_RECORD);
		ATF_REQUIRE_MSG(session_open(&b, rec, ol, out, &got, &why) ==
		    1, "%s", why);
		ATF_CHECK_EQ(got, sizes[i]);
		ATF_CHECK(memcmp(out, data, got) == 0);

		ATF_REQUIRE(session_seal(&b, data, sizes[i], rec, &ol, rk,
		    &rl) == 0);
		ATF_REQUIRE_MSG(session_open(&a, rec, ol, out, &got, &why) ==
		    1, "%s", why);
		ATF_CHECK_EQ(got, sizes[i]);
		ATF_CHECK(memcmp(out, data, got) == 0);
	}
	ATF_CHECK_EQ(a.tx_ctr, i);
	ATF_CHECK_EQ(b.rx_ctr, i);
	/* one byte too many is refused on both ends */
	ATF_CHECK(session_seal(&a, data, WIRE_REC_MAX_DATA + 1, rec, &ol, rk,
	    &rl) == -1);
	ATF_CHECK_EQ(a.tx_ctr, i);
	ATF_REQUIRE(session_seal(&a, data, WIRE_REC_MAX_DATA, rec, &ol, rk,
	    &rl) == 0);
	rec[ol] = 0;
	open_fails(&b, rec, ol + 1, "record too large");
	free(data);
	free(rec);
	free(out);
}

ATF_TC_WITHOUT_HEAD(replayed_record_is_refused);
ATF_TC_BODY(replayed_record_is_refused, tc)
{
	struct session	a, b;
	uint8_t		r0[WIRE_HS2_MAX], r1[WIRE_HS2_MAX];
	size_t		l0, l1;

	setup();
	session_pair(&a, &b);
	seal(&a, REC_TEST_DATA, r0, &l0);
	seal(&a, REC_TEST_DATA, r1, &l1);
	open_ok(&b, r0, l0, REC_TEST_DATA);
	open_fails(&b, r0, l0, "record replayed or out of order");
	open_ok(&b, r1, l1, REC_TEST_DATA);
	open_fails(&b, r1, l1, "record replayed or out of order");
	open_fails(&b, r0, l0, "record replayed or out of order");
}

ATF_TC_WITHOUT_HEAD(out_of_order_record_is_refused);
ATF_TC_BODY(out_of_order_record_is_refused, tc)
{
	struct session	a, b;
	uint8_t		r0[WIRE_HS2_MAX], r1[WIRE_HS2_MAX];
	size_t		l0, l1;

	setup();
	session_pair(&a, &b);
	seal(&a, "first", r0, &l0);
	seal(&a, "second", r1, &l1);
	open_fails(&b, r1, l1, "record counter gap");
	open_ok(&b, r0, l0, "first");
	open_ok(&b, r1, l1, "second");
}

ATF_TC_WITHOUT_HEAD(counter_gap_is_refused);
ATF_TC_BODY(counter_gap_is_refused, tc)
{
	struct session	a, b;
	uint8_t		r[WIRE_HS2_MAX];
	size_t		l;

	setup();
	session_pair(&a, &b);
	seal(&a, "zero", r, &l);
	open_ok(&b, r, l, "zero");
	seal(&a, "lost", r, &l);
	seal(&a, "two", r, &l);
	open_fails(&b, r, l, "record counter gap");
	/* a counter rewritten to the expected one fails authentication */
	r[8] = 1;
	open_fails(&b, r, l, "record authentication failed");
	ATF_CHECK_EQ(b.rx_ctr, 1);
}

ATF_TC_WITHOUT_HEAD(every_bit_flip_in_a_record_is_refused);
ATF_TC_BODY(every_bit_flip_in_a_record_is_refused, tc)
{
	struct session	a, b;
	uint8_t		r[WIRE_HS2_MAX], m[WIRE_HS2_MAX];
	size_t		l, bit;

	setup();
	session_pair(&a, &b);
	seal(&a, REC_TEST_DATA, r, &l);
	for (bit = 0; bit < l * 8; bit++) {
		memcpy(m, r, l);
		m[bit / 8] ^= 1 << (bit % 8);
		ATF_CHECK_MSG(open_fails(&b, m, l, NULL),
		    "flipped bit %zu accepted", bit);
	}
	ATF_CHECK_EQ(b.rx_ctr, 0);
	open_ok(&b, r, l, REC_TEST_DATA);
}

ATF_TC_WITHOUT_HEAD(truncated_record_is_refused);
ATF_TC_BODY(truncated_record_is_refused, tc)
{
	struct session	a, b;
	uint8_t		r[WIRE_HS2_MAX];
	size_t		l, n;

	setup();
	session_pair(&a, &b);
	seal(&a, REC_TEST_DATA, r, &l);
	for (n = 0; n < l; n++)
		open_fails(&b, r, n, n < WIRE_REC_OVERHEAD ?
		    "record truncated" : NULL);
	open_fails(&b, r, 0, "record truncated");
	/* and one not of the record type at all */
	r[0] = WIRE_HS1;
	open_fails(&b, r, l, "not a record");
	r[0] = WIRE_RECORD;
	open_ok(&b, r, l, REC_TEST_DATA);
}

ATF_TC_WITHOUT_HEAD(rekey_after_rekey_count_works_both_ways);
ATF_TC_BODY(rekey_after_rekey_count_works_both_ways, tc)
{
	struct session	 s[2];
	uint8_t		 r[WIRE_HS2_MAX], rk[WIRE_REC_OVERHEAD];
	uint8_t		 old_key[WIRE_KEY_LEN];
	uint8_t		 out[WIRE_HS2_MAX];
	size_t		 l, rl, ol;
	int		 i, d, rekeys[2] = { 0, 0 };
	const char	*why;

	setup();
	session_pair(&s[0], &s[1]);
	s[0].rekey_count = REKEY_TEST_COUNT;
	s[1].rekey_count = REKEY_TEST_COUNT;
	for (i = 0; i < REKEY_TEST_RECORDS; i++) {
		for (d = 0; d < 2; d++) {
			ATF_REQUIRE(session_seal(&s[d],
			    (const uint8_t *)REC_TEST_DATA,
			    strlen(REC_TEST_DATA), r, &l, rk, &rl) == 0);
			if (i > 0 && i % REKEY_TEST_COUNT == 0) {
				ATF_CHECK_EQ(rl, WIRE_REC_OVERHEAD);
				rekeys[d]++;
			} else
				ATF_CHECK_EQ(rl, 0);
			if (rl > 0)
				ATF_REQUIRE_MSG(session_open(&s[1 - d], rk,
				    rl, out, &ol, &why) == 0, "%s", why);
			open_ok(&s[1 - d], r, l, REC_TEST_DATA);
		}
	}
	ATF_CHECK_EQ(rekeys[0], (REKEY_TEST_RECORDS - 1) / REKEY_TEST_COUNT);
	ATF_CHECK_EQ(rekeys[1], rekeys[0]);
	ATF_CHECK(memcmp(s[0].tx_key, s[1].rx_key, WIRE_KEY_LEN) == 0);
	ATF_CHECK(memcmp(s[0].rx_key, s[1].tx_key, WIRE_KEY_LEN) == 0);

	/* a record under the key before the last re-key is refused */
	memcpy(old_key, s[0].tx_key, WIRE_KEY_LEN);
	ATF_REQUIRE(session_rekey(&s[0], rk, &rl) == 0);
	ATF_REQUIRE(session_open(&s[1], rk, rl, out, &ol, &why) == 0);
	ATF_CHECK_EQ(s[1].rx_ctr, 0);
	out[0] = REC_MESSAGE;
	l = raw_record(old_key, 0, out, 1, r);
	open_fails(&s[1], r, l, "record authentication failed");
	/* while the new key goes on from counter 0 */
	seal(&s[0], "new key", r, &l);
	ATF_CHECK(r[8] == 0);
	open_ok(&s[1], r, l, "new key");
}

ATF_TC_WITHOUT_HEAD(odd_inner_records_are_refused);
ATF_TC_BODY(odd_inner_records_are_refused, tc)
{
	struct session	a, b;
	uint8_t		 pt[4] = { REC_REKEY, 'x', 'y', 'z' };
	uint8_t		 r[WIRE_HS2_MAX], out[WIRE_HS2_MAX];
	size_t		 l, ol;
	const char	*why;

	setup();
	session_pair(&a, &b);
	l = raw_record(b.rx_key, 0, pt, sizeof(pt), r);
	open_fails(&b, r, l, "re-key record with data");
	pt[0] = REC_REKEY + 1;
	l = raw_record(b.rx_key, 0, pt, sizeof(pt), r);
	open_fails(&b, r, l, "unknown record type");
	pt[0] = REC_MESSAGE;
	l = raw_record(b.rx_key, 0, pt, sizeof(pt), r);
	open_ok(&b, r, l, "xyz");
	/* the last counter is for a re-key only */
	b.rx_ctr = UINT64_MAX;
	l = raw_record(b.rx_key, UINT64_MAX, pt, sizeof(pt), r);
	open_fails(&b, r, l, "record counter exhausted");
	pt[0] = REC_REKEY;
	l = raw_record(b.rx_key, UINT64_MAX, pt, 1, r);
	ATF_CHECK(session_open(&b, r, l, out, &ol, &why) == 0);
	ATF_CHECK_EQ(b.rx_ctr, 0);
}

ATF_TC_WITHOUT_HEAD(sender_rekeys_before_the_last_counter);
ATF_TC_BODY(sender_rekeys_before_the_last_counter, tc)
{
	struct session	 a, b;
	uint8_t		 r[WIRE_HS2_MAX], rk[WIRE_REC_OVERHEAD];
	uint8_t		 out[WIRE_HS2_MAX];
	size_t		 l, rl, ol;
	const char	*why;

	setup();
	session_pair(&a, &b);
	a.rekey_count = UINT64_MAX;
	a.tx_ctr = UINT64_MAX;
	ATF_REQUIRE(session_seal(&a, (const uint8_t *)"m", 1, r, &l, rk,
	    &rl) == 0);
	ATF_CHECK_EQ(rl, WIRE_REC_OVERHEAD);
	ATF_CHECK_EQ(a.tx_ctr, 1);
	b.rx_ctr = UINT64_MAX;
	ATF_CHECK(session_open(&b, rk, rl, out, &ol, &why) == 0);
	open_ok(&b, r, l, "m");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, handshake_gives_both_sides_matching_keys);
	ATF_TP_ADD_TC(tp, finished_handshake_forgets_its_ephemeral_secrets);
	ATF_TP_ADD_TC(tp, fixed_handshake_matches_the_vectors);
	ATF_TP_ADD_TC(tp, protocol_document_shows_the_vectors);
	ATF_TP_ADD_TC(tp, every_bit_flip_in_hs2_is_refused);
	ATF_TP_ADD_TC(tp, every_bit_flip_in_hs3_is_refused);
	ATF_TP_ADD_TC(tp, tampered_hs1_is_caught_by_the_initiator);
	ATF_TP_ADD_TC(tp, signature_by_another_key_is_refused);
	ATF_TP_ADD_TC(tp, signature_under_the_other_label_is_refused);
	ATF_TP_ADD_TC(tp, truncated_or_extended_handshake_is_refused);
	ATF_TP_ADD_TC(tp, other_protocol_version_is_refused);
	ATF_TP_ADD_TC(tp, low_order_ephemeral_key_is_refused);
	ATF_TP_ADD_TC(tp, malformed_declared_identity_is_refused);
	ATF_TP_ADD_TC(tp, bad_own_identity_is_refused);
	ATF_TP_ADD_TC(tp, handshake_steps_out_of_order_fail_cleanly);
	ATF_TP_ADD_TC(tp, records_go_both_ways);
	ATF_TP_ADD_TC(tp, replayed_record_is_refused);
	ATF_TP_ADD_TC(tp, out_of_order_record_is_refused);
	ATF_TP_ADD_TC(tp, counter_gap_is_refused);
	ATF_TP_ADD_TC(tp, every_bit_flip_in_a_record_is_refused);
	ATF_TP_ADD_TC(tp, truncated_record_is_refused);
	ATF_TP_ADD_TC(tp, rekey_after_rekey_count_works_both_ways);
	ATF_TP_ADD_TC(tp, odd_inner_records_are_refused);
	ATF_TP_ADD_TC(tp, sender_rekeys_before_the_last_counter);
	return (atf_no_error());
}
