/*
 * libFuzzer harness for what a controller keeps of a worker's answer
 * (minerd/remote_check.c): the payload parsed as msg.c parses a body
 * (duplicate keys refused), the first byte choosing the request it
 * answers, then remote_check_answer and remote_check_code.
 *
 * Promises checked (a broken one aborts): a refusal has a reason; an
 * accepted answer encodes and every hashrate of a stats answer is a
 * real, finite and from 0 to REMOTE_HASHRATE_MAX; an error code is
 * always from 1000 to 1005.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "../minerd/msg.h"
#include "../minerd/remote_check.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const enum msg_type fuzz_types[] = {
	MSG_PING, MSG_GET_STATS, MSG_START_MINER, MSG_STOP_MINER,
	MSG_RESTART_MINER, MSG_GET_LOGS, MSG_GET_PROFILES, MSG_DEPLOY
};
#define FUZZ_NTYPES	(sizeof(fuzz_types) / sizeof(fuzz_types[0]))

static void
fuzz_hashrates(const json_t *out)
{
	const json_t	*m, *v;
	const char	*key;
	size_t		 i;
	double		 d;

	json_array_foreach(json_object_get(out, "miners"), i, m)
		json_object_foreach((json_t *)json_object_get(m, "hashrate"),
		    key, v) {
			if (json_is_null(v))
				continue;
			if (!json_is_real(v))
				abort();
			d = json_real_value(v);
			if (!isfinite(d) || d < 0 || d > REMOTE_HASHRATE_MAX)
				abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum msg_type	 type;
	json_t		*root, *out;
	char		 why[REMOTE_WHY_MAX];
	int		 code;

	if (size < 1)
		return (0);
	type = fuzz_types[data[0] % FUZZ_NTYPES];
	if ((root = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL)) == NULL)
		return (0);
	code = remote_check_code(root);
	if (code < MSG_ERR_INTERNAL || code > MSG_ERR_TIMEOUT)
		abort();
	out = remote_check_answer(type, root, why, sizeof(why));
	if (out == NULL) {
		if (why[0] == '\0')
			abort();
	} else {
		if (json_dumpb(out, NULL, 0, JSON_COMPACT) == 0)
			abort();
		if (type == MSG_GET_STATS)
			fuzz_hashrates(out);
		json_decref(out);
	}
	json_decref(root);
	return (0);
}
