/*
 * libFuzzer harness for pairing tokens (minerd/pair.c).
 *
 * The first input byte picks the mode:
 *   even: the rest is a token for pair_token_decode.  A refusal must
 *	give a reason and leave the key and secret zeroed; an accepted
 *	token must carry a valid address and encode back to the very
 *	same text (the encoding is canonical: base64url without padding,
 *	leftover bits zero, lengths exact).
 *   odd: the rest is an address for pair_token_encode.  It encodes
 *	exactly when pair_addr_valid says so, and then decodes back to
 *	the same address, key and secret, within PAIR_TOKEN_MAX.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lethd.h"
#include "../minerd/msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_decode(const char *tok)
{
	uint8_t		 pk[32], secret[PAIR_SECRET_LEN], zero[32] = { 0 };
	char		 addr[NET_ADDR_MAX], again[PAIR_TOKEN_MAX];
	const char	*why = NULL;

	memset(pk, 0xaa, sizeof(pk));
	memset(secret, 0xaa, sizeof(secret));
	if (pair_token_decode(tok, addr, sizeof(addr), pk, secret,
	    &why) == -1) {
		if (why == NULL || why[0] == '\0')
			abort();
		if (memcmp(pk, zero, 32) != 0 || memcmp(secret, zero, 32) != 0)
			abort();
		return;
	}
	if (!pair_addr_valid(addr))
		abort();
	if (pair_token_encode(addr, pk, secret, again, sizeof(again)) != 0)
		abort();
	if (strcmp(again, tok) != 0)
		abort();
}

static void
fuzz_encode(const char *addr)
{
	uint8_t		 pk[32], secret[PAIR_SECRET_LEN];
	uint8_t		 pk2[32], secret2[PAIR_SECRET_LEN];
	char		 tok[PAIR_TOKEN_MAX], got[NET_ADDR_MAX];
	const char	*why;
	int		 rv;

	memset(pk, 0x11, sizeof(pk));
	memset(secret, 0x22, sizeof(secret));
	rv = pair_token_encode(addr, pk, secret, tok, sizeof(tok));
	if ((rv == 0) != (pair_addr_valid(addr) != 0))
		abort();
	if (rv != 0)
		return;
	if (strnlen(tok, sizeof(tok)) >= sizeof(tok))
		abort();
	if (pair_token_decode(tok, got, sizeof(got), pk2, secret2, &why) != 0)
		abort();
	if (strcmp(got, addr) != 0 || memcmp(pk, pk2, 32) != 0 ||
	    memcmp(secret, secret2, 32) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size < 1)
		return (0);
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if ((data[0] & 1) == 0)
		fuzz_decode(s);
	else
		fuzz_encode(s);
	free(s);
	return (0);
}
