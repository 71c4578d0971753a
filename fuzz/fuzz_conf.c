/*
 * libFuzzer harness for lethd.conf(5): parent/parse.y and parent/config.c.
 *
 * Input: the bytes of a config file.  Whatever they are, the parser
 * must return, with at most CONF_ERRMAX error lines, each one a
 * NUL-terminated, printable line that starts with the file name.  A
 * config that parses must print (conf_print) as text that parses again
 * to the very same printed text, with every number in its range.  A
 * broken promise aborts.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define FUZZ_FILE	"fuzz.conf"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check_errors(const struct conf_errors *errs)
{
	const char	*p;
	unsigned int	 i;

	if (errs->n > CONF_ERRMAX)
		abort();
	if (errs->n == 0 && errs->dropped == 0)
		abort();
	for (i = 0; i < errs->n; i++) {
		if (memchr(errs->line[i], '\0', CONF_ERRLEN) == NULL)
			abort();
		if (strncmp(errs->line[i], FUZZ_FILE ":",
		    strlen(FUZZ_FILE ":")) != 0)
			abort();
		/* Input bytes are vis(3)-encoded in messages. */
		for (p = errs->line[i]; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 ||
			    (unsigned char)*p > 0x7e)
				abort();
	}
}

#define IN(v, lo, hi)	((v) >= (lo) && (v) <= (hi))

/* The MINERS keywords, and the checks between them. */
static void
fuzz_check_miners(const struct lethd_conf *c)
{
	if (!IN(c->miner_max, 1, MINER_SLOTS_MAX) ||
	    !IN(c->miner_backoff_min_ms, CONF_BACKOFF_MIN, CONF_BACKOFF_MAX) ||
	    !IN(c->miner_backoff_max_ms, c->miner_backoff_min_ms,
	    CONF_BACKOFF_MAX) ||
	    !IN(c->miner_crashes_max, 1, CONF_CRASHES_MAX) ||
	    !IN(c->miner_crash_window, 1, CONF_CRASH_WINDOW_MAX) ||
	    !IN(c->miner_stop_grace, 1, CONF_STOP_GRACE_MAX) ||
	    !IN(c->miner_nofile, CONF_MINER_NOFILE_MIN,
	    CONF_MINER_NOFILE_MAX) ||
	    !IN(c->miner_pids, 1, CONF_MINER_PIDS_MAX) ||
	    !IN(c->miner_nproc, 1, CONF_MINER_NPROC_MAX) ||
	    c->miner_hugepages > CONF_HUGEPAGES_MAX ||
	    c->miner_msr > 1 ||
	    !IN(c->miner_poll, 1, CONF_MINER_POLL_MAX) ||
	    !IN(c->watchdog_zero, CONF_WATCHDOG_ZERO_MIN,
	    CONF_WATCHDOG_MAX) ||
	    !IN(c->watchdog_api, 1, CONF_WATCHDOG_MAX) ||
	    c->watchdog_zero < c->miner_poll ||
	    c->watchdog_api < c->miner_poll ||
	    !IN(c->ring_lines, CONF_RING_LINES_MIN, CONF_RING_LINES_MAX) ||
	    !IN(c->ring_bytes, CONF_RING_BYTES_MIN, CONF_RING_BYTES_MAX) ||
	    !IN(c->history_samples, CONF_HISTORY_MIN, CONF_HISTORY_MAX) ||
	    !IN(c->history_minutes, CONF_HISTORY_MIN, CONF_HISTORY_MAX) ||
	    !IN(c->history_max_mb, 1, CONF_HISTORY_MB_MAX))
		abort();
}

/* What conf_parse_buffer accepts is within lethd.conf(5)'s ranges. */
static void
fuzz_check_ranges(const struct lethd_conf *c)
{
	if (memchr(c->advertise, '\0', sizeof(c->advertise)) == NULL)
		abort();
	if (!IN(c->net_max_conn, 1, CONF_NET_MAX_CONN_MAX) ||
	    !IN(c->net_max_handshakes, 1, CONF_NET_MAX_HS_MAX) ||
	    !IN(c->net_hs_per_addr, 1, CONF_NET_HS_ADDR_MAX) ||
	    !IN(c->net_hs_per_subnet, 1, CONF_NET_HS_SUBNET_MAX) ||
	    !IN(c->net_hs_timeout, 1, CONF_NET_HS_TIMEOUT_MAX) ||
	    !IN(c->net_max_message, CONF_NET_MSG_MIN, CONF_NET_MSG_MAX) ||
	    !IN(c->net_msg_rate, 1, CONF_NET_MSG_RATE_MAX) ||
	    !IN(c->net_ping_interval, 1, CONF_NET_PING_MAX) ||
	    !IN(c->net_pong_timeout, 1, CONF_NET_PONG_MAX) ||
	    !IN(c->net_max_header, CONF_NET_HEADER_MIN, CONF_NET_HEADER_MAX) ||
	    !IN(c->net_session_lifetime, CONF_NET_LIFETIME_MIN,
	    CONF_NET_LIFETIME_MAX) ||
	    !IN(c->keyd_sign_rate, 1, CONF_KEYD_SIGN_MAX) ||
	    !IN(c->msg_ts_window, 1, CONF_TS_WINDOW_MAX) ||
	    !IN(c->replay_cache_max, CONF_REPLAY_MIN, CONF_REPLAY_MAX))
		abort();
	fuzz_check_miners(c);
}

static char *
fuzz_print(const struct lethd_conf *conf, size_t *lenp)
{
	FILE	*fp;
	char	*out = NULL;

	if ((fp = open_memstream(&out, lenp)) == NULL)
		abort();
	conf_print(fp, conf);
	if (fclose(fp) != 0)
		abort();
	return (out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethd_conf	 conf, again;
	struct conf_errors	 errs;
	char			*out, *out2;
	size_t			 len, len2;

	if (conf_parse_buffer(FUZZ_FILE, (const char *)data, size, &conf,
	    &errs) == -1) {
		fuzz_check_errors(&errs);
		return (0);
	}
	if (errs.n != 0 || errs.dropped != 0)
		abort();
	if (conf.nlisten < 1 || conf.nlisten > NET_MAX_LISTEN)
		abort();
	fuzz_check_ranges(&conf);

	out = fuzz_print(&conf, &len);
	if (conf_parse_buffer("again", out, len, &again, &errs) != 0)
		abort();
	out2 = fuzz_print(&again, &len2);
	if (len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out2);
	free(out);
	return (0);
}
