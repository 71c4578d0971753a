/*
 * libFuzzer harness for the checks of a controller's request payloads
 * (minerd/serve_check.c): what a worker's minerd reads from a peer's
 * bytes once the signature held and the body parsed.
 *
 * The first input byte picks the request type (byte % 7: get_stats,
 * start_miner, stop_miner, restart_miner, get_logs, get_profiles,
 * deploy) and the access (byte / 7 % 3: none, observer, operator); the
 * rest is the payload, parsed as msg.c parses a body (duplicate keys
 * refused).  Promises checked (a broken one aborts): a refusal has a
 * reason, NUL-terminated within its buffer; an accepted request names
 * a miner that passes miner_name_valid and a profile that passes
 * serve_name_check within its bound, required fields are there, lines
 * is 1 to SERVE_LOGS_MAX; the authorisation table gives observers
 * reads only and nobody anything with access none.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "name.h"
#include "../minerd/serve.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const enum msg_type fuzz_types[] = {
	MSG_GET_STATS, MSG_START_MINER, MSG_STOP_MINER, MSG_RESTART_MINER,
	MSG_GET_LOGS, MSG_GET_PROFILES, MSG_DEPLOY
};
#define FUZZ_NTYPES	(sizeof(fuzz_types) / sizeof(fuzz_types[0]))

static void
fuzz_check_name(const char *s, size_t max, int required)
{
	if (memchr(s, '\0', max + 1) == NULL)
		abort();
	if (s[0] == '\0') {
		if (required)
			abort();
		return;
	}
	if (max == MINER_NAME_MAX ? !miner_name_valid(s) :
	    serve_name_check(s, max) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_req	 r;
	enum msg_type		 type;
	enum peer_access	 access;
	json_t			*o;
	char			 why[SERVE_WHY_MAX];
	int			 allowed;

	if (size < 1)
		return (0);
	type = fuzz_types[data[0] % FUZZ_NTYPES];
	access = (enum peer_access)(data[0] / FUZZ_NTYPES % 3);
	allowed = serve_allowed(access, type);
	if (access == ACCESS_NONE && allowed)
		abort();
	if (access == ACCESS_OBSERVER && allowed != (type == MSG_GET_STATS ||
	    type == MSG_GET_LOGS || type == MSG_GET_PROFILES))
		abort();
	if (access == ACCESS_OPERATOR && !allowed)
		abort();

	if ((o = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return (0);
	memset(why, 'X', sizeof(why));
	if (serve_parse(type, o, &r, why, sizeof(why)) == -1) {
		if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0')
			abort();
		json_decref(o);
		return (0);
	}
	if (!json_is_object(o) || r.type != type)
		abort();
	switch (type) {
	case MSG_START_MINER:
		fuzz_check_name(r.profile, PROFILE_ID_MAX, 1);
		fuzz_check_name(r.miner, MINER_NAME_MAX, 0);
		if (r.miner[0] == '\0' && strlen(r.profile) > MINER_NAME_MAX)
			abort();
		break;
	case MSG_STOP_MINER:
	case MSG_RESTART_MINER:
		fuzz_check_name(r.miner, MINER_NAME_MAX, 1);
		break;
	case MSG_GET_LOGS:
		fuzz_check_name(r.miner, MINER_NAME_MAX, 1);
		if (r.lines < 1 || r.lines > SERVE_LOGS_MAX)
			abort();
		break;
	default:
		break;
	}
	json_decref(o);
	return (0);
}
