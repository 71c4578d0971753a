/*
 * libFuzzer harness for the generic driver's line parser
 * (miner/generic.c) and the rate parser under it (driver_rate).
 *
 * The first input byte picks one of the profile expressions below
 * (byte % their count); the rest, cut at a NUL, is an output line.  The
 * expressions are fixed: a profile's is checked when it is saved, and
 * the miner's bytes are what is untrusted here.  Aborts when a line
 * gives a rate that is not finite within [0, DRIVER_RATE_MAX] or not
 * the same in the 10 s and 60 s slots, and when a line that gave no
 * rate changed the stats.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const regexes[] = {
	"hashrate: ([0-9.]+) ([A-Za-z/]+)",
	"speed 10s/60s/15m ([0-9.]+) [^ ]+ [^ ]+ ([A-Za-z/]+)",
	"([0-9]+(\\.[0-9]+)?)",			/* group 2 is no unit */
	"Total: ([^ ]*) ?([^ ]*)",
	"(.*)(.*)",
	"^GPU\\[[0-9]+\\] ([0-9.]+) (H|kH|MH|GH|TH)/s$",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile	 p;
	struct miner_stats	 st;
	char			*line;

	if (size < 1)
		return (0);
	memset(&p, 0, sizeof(p));
	(void)strlcpy(p.type, "generic", sizeof(p.type));
	(void)strlcpy(p.regex, regexes[data[0] % (sizeof(regexes) /
	    sizeof(regexes[0]))], sizeof(p.regex));
	if ((line = malloc(size)) == NULL)
		return (0);
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';

	driver_stats_init(&st);
	if (driver_generic.parse_line(&p, line, &st) == 1) {
		if (!isfinite(st.hr10s) || st.hr10s < 0 ||
		    st.hr10s > DRIVER_RATE_MAX || st.hr60s != st.hr10s)
			abort();
	} else if (st.hr10s != -1 || st.hr60s != -1 || st.hr15m != -1)
		abort();
	free(line);
	return (0);
}
