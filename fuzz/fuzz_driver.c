/*
 * libFuzzer harness for a miner driver's parsers, built once per
 * driver with -DFUZZ_DRIVER=driver_NAME (fuzz/build.sh): xmrig
 * (miner/xmrig.c: an answer to GET /2/summary) and tt-miner
 * (miner/ttminer.c: an answer to miner_getstat1).  The input goes to
 * parse_stats and, cut at its first NUL, to parse_line as an output
 * line.
 *
 * Aborts when a refusal gives no reason or a reason with a byte outside
 * printable ASCII, or leaves a rate known; when an accepted answer has
 * a rate that is neither unknown (-1) nor finite within [0,
 * DRIVER_RATE_MAX], or a pool or algorithm with a control byte; and
 * when a line gives a rate that breaks the same rule.
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lethd.h"
#include "driver.h"

#ifndef FUZZ_DRIVER
#error "build with -DFUZZ_DRIVER=driver_NAME"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_rate(double r)
{
	if (r == -1)
		return;
	if (!isfinite(r) || r < 0 || r > DRIVER_RATE_MAX)
		abort();
}

static void
check_text(const char *s, size_t len)
{
	if (strnlen(s, len) == len)
		abort();
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
check_err(const char *err, size_t len)
{
	if (err[0] == '\0' || strnlen(err, len) == len)
		abort();
	for (; *err != '\0'; err++)
		if ((unsigned char)*err < 0x20 || (unsigned char)*err > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct miner_stats	 st;
	char			 err[256], *line;

	err[0] = '\0';
	if (FUZZ_DRIVER.parse_stats((const char *)data, size, &st, err,
	    sizeof(err)) == 0) {
		check_rate(st.hr10s);
		check_rate(st.hr60s);
		check_rate(st.hr15m);
		check_text(st.pool, sizeof(st.pool));
		check_text(st.algo, sizeof(st.algo));
	} else {
		check_err(err, sizeof(err));
		if (st.hr10s != -1 || st.hr60s != -1 || st.hr15m != -1)
			abort();
	}

	if ((line = malloc(size + 1)) == NULL)
		return (0);
	memcpy(line, data, size);
	line[size] = '\0';
	driver_stats_init(&st);
	if (FUZZ_DRIVER.parse_line(NULL, line, &st) == 1) {
		check_rate(st.hr10s);
		check_rate(st.hr60s);
		check_rate(st.hr15m);
		if (st.hr10s < 0 && st.hr60s < 0 && st.hr15m < 0)
			abort();
	}
	free(line);
	return (0);
}
