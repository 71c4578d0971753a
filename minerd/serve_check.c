/*
 * The pure parts of serving a controller: the authorisation table and
 * the checks of each request's payload (DESIGN, Wire protocol).  They
 * see a controller's bytes after the signature held and the body
 * parsed; they trust nothing in them.
 *
 * What a peer may do comes only from its entry in our own registry
 * (p->access); what it declared about itself in the handshake is never
 * looked at here, nor anywhere else in this file's callers.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "name.h"
#include "serve.h"

/* A profile id, as profile_id_check has it; a miner name is name.h's. */
#define SERVE_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"
#define SERVE_NAME_FIRST	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789"

static int	serve_string(const json_t *, const char *, int, size_t,
		    char *, size_t, char *, size_t);
static int	serve_miner(const json_t *, const char *, int, char *,
		    size_t, char *, size_t);

int
serve_allowed(enum peer_access access, enum msg_type type)
{
	switch (type) {
	case MSG_GET_STATS:
	case MSG_GET_LOGS:
	case MSG_GET_PROFILES:
		return (access == ACCESS_OBSERVER ||
		    access == ACCESS_OPERATOR);
	case MSG_START_MINER:
	case MSG_STOP_MINER:
	case MSG_RESTART_MINER:
	case MSG_DEPLOY:
		return (access == ACCESS_OPERATOR);
	default:
		/* not a request served here: nobody */
		return (0);
	}
}

int
serve_name_check(const char *s, size_t max)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > max || strchr(SERVE_NAME_FIRST, s[0]) == NULL ||
	    strspn(s, SERVE_NAME_CHARS) != len)
		return (-1);
	return (0);
}

/*
 * A profile id (max > 0) or a miner name (max 0) of the payload into
 * out: 1 when it is there and good, 0 when it is absent (null and ""
 * count as absent unless required), -1 with why.
 */
static int
serve_string(const json_t *payload, const char *key, int required,
    size_t max, char *out, size_t outlen, char *why, size_t whylen)
{
	const json_t	*v;
	const char	*s;

	out[0] = '\0';
	v = json_object_get(payload, key);
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return (0);
		(void)snprintf(why, whylen, "%s: missing", key);
		return (-1);
	}
	if (!json_is_string(v)) {
		(void)snprintf(why, whylen, "%s: not a string", key);
		return (-1);
	}
	s = json_string_value(v);
	if (s[0] == '\0' && !required)
		return (0);
	if (max == 0) {
		if (strlen(s) != json_string_length(v) ||
		    !miner_name_valid(s) || strlen(s) >= outlen) {
			(void)snprintf(why, whylen, "%s: want 1 to %d "
			    "letters, digits, \".\", \"_\" or \"-\", not "
			    "\".\" first", key, MINER_NAME_MAX);
			return (-1);
		}
	} else if (strlen(s) != json_string_length(v) ||
	    serve_name_check(s, max) == -1 || strlen(s) >= outlen) {
		(void)snprintf(why, whylen, "%s: want 1 to %zu letters, "
		    "digits, \".\", \"_\" or \"-\", a letter or a digit first",
		    key, max);
		return (-1);
	}
	(void)strlcpy(out, s, outlen);
	return (1);
}

/* A miner name field, as miner_name_valid has it. */
static int
serve_miner(const json_t *payload, const char *key, int required,
    char *out, size_t outlen, char *why, size_t whylen)
{
	return (serve_string(payload, key, required, 0, out, outlen, why,
	    whylen));
}

int
serve_parse(enum msg_type type, const json_t *payload, struct serve_req *r,
    char *why, size_t whylen)
{
	const json_t	*v;
	json_int_t	 n;

	memset(r, 0, sizeof(*r));
	r->type = type;
	if (!json_is_object(payload)) {
		(void)snprintf(why, whylen, "payload: not an object");
		return (-1);
	}
	switch (type) {
	case MSG_GET_STATS:
	case MSG_GET_PROFILES:
	case MSG_DEPLOY:
		return (0);
	case MSG_START_MINER:
		if (serve_string(payload, "profileId", 1, PROFILE_ID_MAX,
		    r->profile, sizeof(r->profile), why, whylen) == -1 ||
		    serve_miner(payload, "name", 0, r->miner,
		    sizeof(r->miner), why, whylen) == -1)
			return (-1);
		if (r->miner[0] == '\0' && strlen(r->profile) >
		    MINER_NAME_MAX) {
			(void)snprintf(why, whylen, "name: missing, and the "
			    "profileId is longer than a miner name (%d)",
			    MINER_NAME_MAX);
			return (-1);
		}
		return (0);
	case MSG_STOP_MINER:
	case MSG_RESTART_MINER:
		return (serve_miner(payload, "minerName", 1, r->miner,
		    sizeof(r->miner), why, whylen) == -1 ? -1 : 0);
	case MSG_GET_LOGS:
		if (serve_miner(payload, "minerName", 1, r->miner,
		    sizeof(r->miner), why, whylen) == -1)
			return (-1);
		r->lines = SERVE_LOGS_DEFAULT;
		v = json_object_get(payload, "lines");
		if (v == NULL || json_is_null(v))
			return (0);
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 1 ||
		    n > SERVE_LOGS_MAX) {
			(void)snprintf(why, whylen, "lines: want an integer "
			    "from 1 to %d", SERVE_LOGS_MAX);
			return (-1);
		}
		r->lines = (unsigned int)n;
		return (0);
	default:
		(void)snprintf(why, whylen, "not a request this node serves");
		return (-1);
	}
}
