/*
 * libFuzzer harness for the record layer of common/wire.c.
 *
 * Two sessions with fixed keys: a sends, b receives (b's receiving key
 * is a's sending key).  Input: one byte, a's rekey_count (0 to 255),
 * then operations, each an op byte, a 16-bit big-endian length and
 * that many bytes (cut short at the end of the input).  op % 4:
 *   0  b opens the bytes as a record, as they are;
 *   1  the harness seals the bytes as a record's plaintext (inner type
 *      first) under b's receiving key at b's expected counter plus
 *      (op >> 2) % 4 - 1, and b opens that;
 *   2  a seals the bytes with session_seal (re-keying on its own) and
 *      b opens what it sent: while the two are in step this must give
 *      the bytes back;
 *   3  as 2, with one bit flipped (bit (op >> 2) * 131 + length of
 *      the data, modulo the record's bits): while in step, b must
 *      refuse it.
 * The first refused record ends the run (a caller would close).  A
 * broken invariant aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lethd.h"
#include "wire.h"

#define FUZZ_KEY_A		0x11	/* a -> b */
#define FUZZ_KEY_B		0x22	/* b -> a */
#define FUZZ_OPS		4
#define FUZZ_OP_HDR		3
#define FUZZ_NONCE_LEN		12
#define FUZZ_CTR_LEN		8
/* Spreads op's 6 bits over a record's bits in mode 3. */
#define FUZZ_BIT_STRIDE		131
/* Bytes of plaintext an operation uses at most: records of any size
 * the layer accepts are tested by the unit test; here variety counts. */
#define FUZZ_DATA_MAX		65535

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	*rec, *rk;

/* b opens len bytes of r (copied to a buffer of exactly that size). */
static int
open_one(struct session *b, const uint8_t *r, size_t len, uint8_t **outp,
    size_t *outlen)
{
	uint8_t		*copy, *o;
	const char	*why = NULL;
	int		 rv;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL ||
	    (o = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(copy, r, len);
	rv = session_open(b, copy, len, o, outlen, &why);
	free(copy);
	switch (rv) {
	case 1:
		if (len < WIRE_REC_OVERHEAD ||
		    *outlen != len - WIRE_REC_OVERHEAD)
			abort();
		break;
	case 0:
		if (len != WIRE_REC_OVERHEAD || b->rx_ctr != 0)
			abort();
		break;
	case -1:
		if (why == NULL)
			abort();
		break;
	default:
		abort();
	}
	*outp = o;
	return (rv);
}

/* The harness's own sealing: any inner type, any counter. */
static size_t
raw_seal(const uint8_t key[WIRE_KEY_LEN], uint64_t ctr, const uint8_t *pt,
    size_t ptlen, uint8_t *r)
{
	uint8_t			nonce[FUZZ_NONCE_LEN];
	unsigned long long	clen;
	int			i;

	memset(nonce, 0, sizeof(nonce));
	r[0] = WIRE_RECORD;
	for (i = 0; i < FUZZ_CTR_LEN; i++)
		r[1 + i] = nonce[4 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt(r + 1 + FUZZ_CTR_LEN, &clen,
	    pt, ptlen, r, 1 + FUZZ_CTR_LEN, NULL, nonce, key);
	return (1 + FUZZ_CTR_LEN + (size_t)clen);
}

static int
in_step(const struct session *a, const struct session *b)
{
	return (a->tx_ctr == b->rx_ctr &&
	    memcmp(a->tx_key, b->rx_key, WIRE_KEY_LEN) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_keys	 ka, kb;
	struct session		 a, b;
	uint8_t			*o;
	size_t			 len, rlen, rklen, olen;
	uint64_t		 ctr, expect;
	size_t			 bit;
	unsigned int		 op;
	int			 rv, step;

	if (rec == NULL) {
		if (sodium_init() < 0)
			abort();
		if ((rec = malloc(FUZZ_DATA_MAX + WIRE_REC_OVERHEAD)) == NULL ||
		    (rk = malloc(WIRE_REC_OVERHEAD)) == NULL)
			abort();
	}
	if (size < 1)
		return (0);
	memset(ka.tx, FUZZ_KEY_A, WIRE_KEY_LEN);
	memset(ka.rx, FUZZ_KEY_B, WIRE_KEY_LEN);
	memset(kb.tx, FUZZ_KEY_B, WIRE_KEY_LEN);
	memset(kb.rx, FUZZ_KEY_A, WIRE_KEY_LEN);
	session_init(&a, &ka);
	session_init(&b, &kb);
	a.rekey_count = data[0];
	data++;
	size--;

	while (size >= FUZZ_OP_HDR) {
		op = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += FUZZ_OP_HDR;
		size -= FUZZ_OP_HDR;
		if (len > size)
			len = size;
		step = in_step(&a, &b);
		o = NULL;
		switch (op % FUZZ_OPS) {
		case 0:
			rv = open_one(&b, data, len, &o, &olen);
			break;
		case 1:
			expect = b.rx_ctr;
			ctr = expect + (uint64_t)((op >> 2) % 4) - 1;
			rlen = raw_seal(b.rx_key, ctr, data, len, rec);
			rv = open_one(&b, rec, rlen, &o, &olen);
			if (rv != -1 && ctr != expect)
				abort();
			break;
		default:
			if (session_seal(&a, data, len, rec, &rlen, rk,
			    &rklen) == -1)
				abort();
			if (rklen > 0) {
				rv = open_one(&b, rk, rklen, &o, &olen);
				free(o);
				o = NULL;
				if (step && rv != 0)
					abort();
				if (rv == -1)
					return (0);
			}
			if (op % FUZZ_OPS == 3) {
				bit = ((op >> 2) * FUZZ_BIT_STRIDE + len) %
				    (rlen * 8);
				rec[bit / 8] ^= 1 << (bit % 8);
			}
			rv = open_one(&b, rec, rlen, &o, &olen);
			if (step && op % FUZZ_OPS == 2 && (rv != 1 ||
			    olen != len || memcmp(o, data, len) != 0))
				abort();
			if (step && op % FUZZ_OPS == 3 && rv != -1)
				abort();
			break;
		}
		free(o);
		if (rv == -1)
			break;
		data += len;
		size -= len;
	}
	session_clear(&a);
	session_clear(&b);
	return (0);
}
