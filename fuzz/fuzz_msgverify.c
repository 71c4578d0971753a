/*
 * libFuzzer harness for the receiver's message pipeline (minerd/msg.c).
 *
 * The first input byte picks the mode:
 *   even: the rest is a raw message, signature || body, checked with a
 *	fixed key.  Almost nothing gets past the signature: this exercises
 *	the bounds and the rule that nothing is parsed before it.
 *   odd: the rest is a body, which the harness signs itself with the
 *	fixed seed (playing keyd), so that the JSON parsing and the field
 *	checks behind the signature run.  The seeds are bodies from the
 *	controller of regress/msg_vectors.h to its worker, with ts at the
 *	harness's clock.
 * Promises checked (a broken one aborts): a refusal has code 1001 or
 * 1002, a static reason and no payload; an accepted message has a
 * lowercase UUID id, a [a-z_] type that names its enum, from the key's
 * id, to this node, ts in the window and not before the floor, replyTo
 * for every response, an object payload; and building it again from its
 * fields (msg_build), signing and verifying gives the same fields.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "../minerd/msg.h"

/* The controller of regress/msg_vectors.h (seed 00 01 .. 1f), its
 * worker's id, and the clock the seeds were written for. */
#define FUZZ_SELF_ID	"29acbae141bccaf0b22e1a94d34d0bc7"
#define FUZZ_NOW	1700000000000LL
#define FUZZ_FLOOR	(FUZZ_NOW - 60 * 1000LL)
#define FUZZ_WINDOW	MSG_TS_WINDOW_DEFAULT
#define FUZZ_LABEL_LEN	(sizeof(KEY_LABEL_MESSAGE_STR) - 1)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	fuzz_pk[32], fuzz_sk[64];
static char	fuzz_id[NODE_ID_LEN + 1];

static void
fuzz_init(void)
{
	static int	 done;
	uint8_t		 seed[32];
	size_t		 i;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	if (crypto_sign_seed_keypair(fuzz_pk, fuzz_sk, seed) != 0)
		abort();
	(void)sodium_bin2hex(fuzz_id, sizeof(fuzz_id), fuzz_pk,
	    NODE_ID_LEN / 2);
	done = 1;
}

/* signature || body, signed as keyd would. */
static uint8_t *
fuzz_sign(const uint8_t *body, size_t len, size_t *rawlen)
{
	uint8_t	 m[FUZZ_LABEL_LEN + MSG_HASH_LEN], *raw;

	memcpy(m, KEY_LABEL_MESSAGE_STR, FUZZ_LABEL_LEN);
	msg_hash(body, len, m + FUZZ_LABEL_LEN);
	if ((raw = malloc(MSG_SIG_LEN + len + 1)) == NULL)
		abort();
	if (crypto_sign_detached(raw, NULL, m, sizeof(m), fuzz_sk) != 0)
		abort();
	if (len > 0)
		memcpy(raw + MSG_SIG_LEN, body, len);
	*rawlen = MSG_SIG_LEN + len;
	return (raw);
}

static int
fuzz_verify(const uint8_t *raw, size_t len, struct msg *m)
{
	struct msg_verdict	 v;
	int			 rv;

	rv = msg_verify(raw, len, fuzz_pk, FUZZ_SELF_ID, FUZZ_NOW, FUZZ_FLOOR,
	    FUZZ_WINDOW, m, &v);
	if (rv == -1) {
		if (v.code != MSG_ERR_INVALID && v.code != MSG_ERR_UNAUTHORISED)
			abort();
		if (v.why == NULL || v.why[0] == '\0')
			abort();
		if (m->payload != NULL)
			abort();
	} else if (rv != 0)
		abort();
	return (rv);
}

static void
fuzz_check_accepted(const struct msg *m)
{
	size_t	 i;

	if (strlen(m->id) != MSG_UUID_LEN)
		abort();
	for (i = 0; i < MSG_UUID_LEN; i++)
		if (strchr((i == 8 || i == 13 || i == 18 || i == 23) ?
		    "-" : "0123456789abcdef", m->id[i]) == NULL)
			abort();
	if (m->type_str[0] == '\0' || strlen(m->type_str) > MSG_TYPE_MAX)
		abort();
	if (strspn(m->type_str, "abcdefghijklmnopqrstuvwxyz_") !=
	    strlen(m->type_str))
		abort();
	if (m->type != MSG_UNKNOWN &&
	    strcmp(msg_type_name(m->type), m->type_str) != 0)
		abort();
	if (m->type == MSG_UNKNOWN &&
	    msg_type_parse(m->type_str) != MSG_UNKNOWN)
		abort();
	if (strcmp(m->from, fuzz_id) != 0 || strcmp(m->to, FUZZ_SELF_ID) != 0)
		abort();
	if (m->ts < FUZZ_FLOOR || m->ts < FUZZ_NOW - FUZZ_WINDOW * 1000LL ||
	    m->ts > FUZZ_NOW + FUZZ_WINDOW * 1000LL)
		abort();
	if (msg_is_response(m->type) && m->reply_to[0] == '\0')
		abort();
	if (!json_is_object(m->payload))
		abort();
}

/* Build the message again from its fields: it must verify the same. */
static void
fuzz_rebuild(const struct msg *m)
{
	struct msg	 m2;
	char		 id[MSG_UUID_LEN + 1];
	uint8_t		*body, *raw;
	size_t		 blen, rlen;
	const char	*reply;

	if (m->type == MSG_UNKNOWN)
		return;
	reply = m->reply_to[0] != '\0' ? m->reply_to : NULL;
	if (!msg_is_response(m->type) && reply != NULL)
		return;		/* a request may carry one; we never send it */
	body = msg_build(m->type, m->from, m->to, m->ts, reply,
	    json_deep_copy(m->payload), id, &blen);
	if (body == NULL)
		return;		/* re-encoded past the limit, or no memory */
	raw = fuzz_sign(body, blen, &rlen);
	if (fuzz_verify(raw, rlen, &m2) != 0)
		abort();
	if (m2.type != m->type || strcmp(m2.id, id) != 0 ||
	    m2.ts != m->ts || strcmp(m2.reply_to, m->reply_to) != 0 ||
	    !json_equal(m2.payload, m->payload))
		abort();
	msg_free(&m2);
	free(raw);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg	 m;
	uint8_t		*raw;
	size_t		 rlen;

	fuzz_init();
	if (size < 1)
		return (0);
	if ((data[0] & 1) == 0) {
		/* exact size, so ASan sees any read past the end */
		if ((raw = malloc(size - 1 + 1)) == NULL)
			abort();
		memcpy(raw, data + 1, size - 1);
		rlen = size - 1;
	} else
		raw = fuzz_sign(data + 1, size - 1, &rlen);
	if (fuzz_verify(raw, rlen, &m) == 0) {
		fuzz_check_accepted(&m);
		fuzz_rebuild(&m);
		msg_free(&m);
	}
	free(raw);
	return (0);
}
