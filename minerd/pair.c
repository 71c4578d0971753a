/*
 * Pairing tokens and proofs (DESIGN, Pairing).
 *
 * A token is "lethd1-" followed by base64url without padding of
 *
 *	address length (1 byte, 1..NET_ADDR_MAX-1)
 *	address (that many bytes: "host:port" or "[v6]:port")
 *	the worker's Ed25519 public key (32 bytes)
 *	the secret (32 bytes)
 *
 * and the controller proves it holds the secret with a BLAKE2b-256
 * keyed with the secret over controller_pk || worker_pk.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lethd.h"
#include "msg.h"

#define PAIR_PK_LEN		32
#define PAIR_PREFIX_LEN		(sizeof(PAIR_TOKEN_PREFIX) - 1)
/* The decoded token: length byte, address, key, secret. */
#define PAIR_RAW_MAX		(1 + (NET_ADDR_MAX - 1) + PAIR_PK_LEN + \
				    PAIR_SECRET_LEN)
#define PAIR_RAW_LEN(alen)	(1 + (alen) + PAIR_PK_LEN + PAIR_SECRET_LEN)
/* The base64url alphabet. */
#define PAIR_B64_CHARS		"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789-_"
/* A port: 1..65535, at most five digits. */
#define PAIR_PORT_DIGITS	5
#define PAIR_PORT_MAX		65535

static int	pair_port_ok(const char *);
static int	pair_host_ok(const char *, size_t);
static int	pair_v6_ok(const char *, size_t);

/* 1..65535 in decimal, no sign, no leading zero. */
static int
pair_port_ok(const char *s)
{
	size_t	 i, len;
	long	 port = 0;

	len = strlen(s);
	if (len == 0 || len > PAIR_PORT_DIGITS || s[0] == '0')
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		port = port * 10 + (s[i] - '0');
	}
	return (port >= 1 && port <= PAIR_PORT_MAX);
}

/* A host name or an IPv4 address: letters, digits, '.', '-', '_'. */
static int
pair_host_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return (0);
	return (1);
}

/* Inside the brackets: hex digits, ':' and '.' (v4-mapped), one ':'
 * at least. */
static int
pair_v6_ok(const char *s, size_t len)
{
	size_t	 i;
	int	 colon = 0;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colon = 1;
		else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.'))
			return (0);
	}
	return (colon);
}

/*
 * An address a token may carry: 1..NET_ADDR_MAX-1 bytes, "host:port"
 * (a host name or IPv4 address) or "[v6]:port".  The form only: the
 * worker's netd resolves and connects.
 */
int
pair_addr_valid(const char *addr)
{
	const char	*colon, *close;
	size_t		 len;

	len = strnlen(addr, NET_ADDR_MAX);
	if (len == 0 || len >= NET_ADDR_MAX)
		return (0);
	if (addr[0] == '[') {
		if ((close = strchr(addr, ']')) == NULL || close[1] != ':')
			return (0);
		if (!pair_v6_ok(addr + 1, close - addr - 1))
			return (0);
		return (pair_port_ok(close + 2));
	}
	if ((colon = strchr(addr, ':')) == NULL)
		return (0);
	if (!pair_host_ok(addr, colon - addr))
		return (0);
	return (pair_port_ok(colon + 1));
}

int
pair_token_encode(const char *addr, const uint8_t pk[32],
    const uint8_t secret[PAIR_SECRET_LEN], char *out, size_t outlen)
{
	uint8_t		 raw[PAIR_RAW_MAX];
	size_t		 alen, rlen;

	if (!pair_addr_valid(addr))
		return (-1);
	alen = strlen(addr);
	rlen = PAIR_RAW_LEN(alen);
	if (outlen < PAIR_PREFIX_LEN + sodium_base64_ENCODED_LEN(rlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return (-1);
	raw[0] = (uint8_t)alen;
	memcpy(raw + 1, addr, alen);
	memcpy(raw + 1 + alen, pk, PAIR_PK_LEN);
	memcpy(raw + 1 + alen + PAIR_PK_LEN, secret, PAIR_SECRET_LEN);
	memcpy(out, PAIR_TOKEN_PREFIX, PAIR_PREFIX_LEN);
	(void)sodium_bin2base64(out + PAIR_PREFIX_LEN, outlen - PAIR_PREFIX_LEN,
	    raw, rlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return (0);
}

/*
 * Decode and check a token; addr gets the address NUL-terminated.  On
 * failure, pk and secret are zeroed and *why says what was wrong.
 */
int
pair_token_decode(const char *token, char *addr, size_t addrlen,
    uint8_t pk[32], uint8_t secret[PAIR_SECRET_LEN], const char **why)
{
	uint8_t		 raw[PAIR_RAW_MAX];
	const char	*b64, *end;
	size_t		 tlen, rlen, alen;

	memset(pk, 0, PAIR_PK_LEN);
	memset(secret, 0, PAIR_SECRET_LEN);
	if (addrlen > 0)
		addr[0] = '\0';

	tlen = strnlen(token, PAIR_TOKEN_MAX + 1);
	if (tlen < PAIR_PREFIX_LEN ||
	    memcmp(token, PAIR_TOKEN_PREFIX, PAIR_PREFIX_LEN) != 0) {
		*why = "not a lethd pairing token";
		return (-1);
	}
	if (tlen > PAIR_TOKEN_MAX) {
		*why = "too long";
		return (-1);
	}
	b64 = token + PAIR_PREFIX_LEN;
	if (tlen - PAIR_PREFIX_LEN > sodium_base64_ENCODED_LEN(PAIR_RAW_MAX,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1) {
		*why = "too long";
		return (-1);
	}
	/* libsodium 1.0.18 takes any byte over 0x7f for '_': check first */
	if (strspn(b64, PAIR_B64_CHARS) != tlen - PAIR_PREFIX_LEN) {
		*why = "bad base64";
		return (-1);
	}
	if (sodium_base642bin(raw, sizeof(raw), b64, tlen - PAIR_PREFIX_LEN,
	    NULL, &rlen, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		*why = "bad base64";
		goto fail;
	}
	if (end != token + tlen) {
		*why = "bad base64";
		goto fail;
	}
	if (rlen < 1) {
		*why = "truncated";
		goto fail;
	}
	alen = raw[0];
	if (alen == 0 || alen >= NET_ADDR_MAX) {
		*why = "bad address";
		goto fail;
	}
	if (rlen < PAIR_RAW_LEN(alen)) {
		*why = "truncated";
		goto fail;
	}
	if (rlen > PAIR_RAW_LEN(alen)) {
		*why = "too long";
		goto fail;
	}
	if (alen >= addrlen || memchr(raw + 1, '\0', alen) != NULL) {
		*why = "bad address";
		goto fail;
	}
	memcpy(addr, raw + 1, alen);
	addr[alen] = '\0';
	if (!pair_addr_valid(addr)) {
		addr[0] = '\0';
		*why = "bad address";
		goto fail;
	}
	memcpy(pk, raw + 1 + alen, PAIR_PK_LEN);
	memcpy(secret, raw + 1 + alen + PAIR_PK_LEN, PAIR_SECRET_LEN);
	sodium_memzero(raw, sizeof(raw));
	*why = NULL;
	return (0);
 fail:
	sodium_memzero(raw, sizeof(raw));
	return (-1);
}

void
pair_proof(const uint8_t secret[PAIR_SECRET_LEN],
    const uint8_t controller_pk[32], const uint8_t worker_pk[32],
    uint8_t proof[PAIR_PROOF_LEN])
{
	uint8_t	 both[2 * PAIR_PK_LEN];

	memcpy(both, controller_pk, PAIR_PK_LEN);
	memcpy(both + PAIR_PK_LEN, worker_pk, PAIR_PK_LEN);
	(void)crypto_generichash(proof, PAIR_PROOF_LEN, both, sizeof(both),
	    secret, PAIR_SECRET_LEN);
}

int
pair_proof_check(const uint8_t secret[PAIR_SECRET_LEN],
    const uint8_t controller_pk[32], const uint8_t worker_pk[32],
    const uint8_t proof[PAIR_PROOF_LEN])
{
	uint8_t	 want[PAIR_PROOF_LEN];
	int	 ok;

	pair_proof(secret, controller_pk, worker_pk, want);
	ok = sodium_memcmp(want, proof, PAIR_PROOF_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return (ok);
}
