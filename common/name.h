/*
 * The one rule for a miner's name, shared by minerd (the local API, the
 * supervisor, the requests it serves a controller, the remote routes)
 * and lethctl, so that a name one side takes the other never refuses.
 * Inline: lethctl links none of libcommon.
 */

#ifndef NAME_H
#define NAME_H

#include <string.h>

#include "lethd.h"

#define MINER_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"

/*
 * 1 when s is 1 to MINER_NAME_MAX of [A-Za-z0-9._-] not starting with
 * '.' (no "." nor ".." nor hidden name wherever it is shown), else 0.
 */
static inline int
miner_name_valid(const char *s)
{
	size_t	 len = strnlen(s, MINER_NAME_MAX + 1);

	return (len > 0 && len <= MINER_NAME_MAX && s[0] != '.' &&
	    s[len] == '\0' && strspn(s, MINER_NAME_CHARS) == len);
}

#endif /* NAME_H */
