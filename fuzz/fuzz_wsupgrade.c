/*
 * libFuzzer harness for netd's WebSocket upgrade parsers (netd/ws.c):
 * ws_parse_request and ws_parse_response on the same arbitrary bytes,
 * with a roomy and a tight max_header.  Aborts when a result breaks the
 * contract: a used count past the input or the bound, a refusal with
 * no reason or with a status we never send, a key that is not 24
 * base64 bytes, or an answer that changes when the bytes after the
 * header block are cut off.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../netd/ws.h"

#define FUZZ_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_request(const char *buf, size_t len, size_t max)
{
	struct ws_request	 req;
	const char		*why = NULL;
	size_t			 used = 0, used2 = 0, i;
	int			 r, status = 0;

	r = ws_parse_request(buf, len, max, &req, &used, &why, &status);
	if (r == -1) {
		if (why == NULL)
			abort();
		if (status != 400 && status != 404 && status != 405 &&
		    status != 426 && status != 431)
			abort();
		return;
	}
	if (r == 0) {
		if (len >= max)
			abort();	/* should have been "too large" */
		return;
	}
	if (r != 1 || used > len || used > max || used < 4)
		abort();
	if (strlen(req.key) != WS_KEY_B64_LEN)
		abort();
	for (i = 0; i < WS_KEY_B64_LEN; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=",
		    req.key[i]) == NULL)
			abort();
	if (ws_parse_request(buf, used, max, &req, &used2, &why,
	    &status) != 1 || used2 != used)
		abort();
}

static void
fuzz_response(const char *buf, size_t len, size_t max)
{
	const char	*why = NULL;
	size_t		 used = 0, used2 = 0;
	int		 r;

	r = ws_parse_response(buf, len, max, FUZZ_ACCEPT, &used, &why);
	if (r == -1) {
		if (why == NULL)
			abort();
		return;
	}
	if (r == 0) {
		if (len >= max)
			abort();
		return;
	}
	if (r != 1 || used > len || used > max || used < 4)
		abort();
	if (ws_parse_response(buf, used, max, FUZZ_ACCEPT, &used2, &why) !=
	    1 || used2 != used)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	/* an exact copy, so a read past the end is ASan's to see */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	fuzz_request(buf, size, 4096);
	fuzz_request(buf, size, 128);
	fuzz_response(buf, size, 4096);
	fuzz_response(buf, size, 128);
	free(buf);
	return (0);
}
