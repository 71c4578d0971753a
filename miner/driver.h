/*
 * Miner drivers: one file each (xmrig.c, ttminer.c, generic.c) behind
 * one small interface.  A driver turns a profile into the miner's
 * config file and arguments, says how to ask the miner for its stats,
 * and parses the answer or an output line.  Parsers see bytes from a
 * miner: they are bounded, never crash, and are fuzzed.
 */

#ifndef DRIVER_H
#define DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "lethd.h"

struct profile;

#define MINER_LINE_MAX		512	/* an output line is cut here */
#define MINER_POLL_BODY_MAX	(256 * 1024)	/* an API answer */
#define MINER_POOL_MAX		255
#define MINER_ALGO_MAX		63

/* What the driver needs to know about this run. */
struct miner_run {
	char		 name[MINER_NAME_MAX + 1];
	uint16_t	 api_port;	/* on 127.0.0.1, chosen by minerd */
	char		 api_token[MINER_TOKEN_LEN + 1];
};

/* One reading.  A rate < 0 is unknown (null). */
struct miner_stats {
	double		 hr10s;		/* H/s */
	double		 hr60s;
	double		 hr15m;
	uint64_t	 shares;	/* accepted */
	uint64_t	 rejected;
	int64_t		 uptime;	/* seconds, as the miner says */
	char		 pool[MINER_POOL_MAX + 1];
	char		 algo[MINER_ALGO_MAX + 1];
};

enum driver_poll {
	POLL_NONE = 0,		/* no API: stats come from output lines */
	POLL_HTTP,		/* GET path on 127.0.0.1:port */
	POLL_TCP_JSON		/* send request, read one JSON answer */
};

struct driver {
	const char	*name;
	enum driver_poll poll;
	/* POLL_HTTP: the path; POLL_TCP_JSON: the request line */
	const char	*poll_request;
	/* "Authorization: Bearer TOKEN" or NULL */
	int		(*auth_header)(const struct miner_run *, char *,
			    size_t);
	/*
	 * The config file (name and bytes, malloc'd) or none (*name = "").
	 * No secret may appear on a command line: pool passwords and API
	 * tokens go in the file.
	 */
	int		(*config)(const struct profile *,
			    const struct miner_run *, char *name, size_t,
			    char **buf, size_t *len, char *err, size_t);
	/* The arguments after argv[0]. */
	int		(*args)(const struct profile *, const struct miner_run *,
			    char argv[][MINER_ARG_LEN], uint32_t *argc,
			    char *err, size_t);
	/* Parse an API answer: 0, or -1 with err. */
	int		(*parse_stats)(const char *, size_t, struct miner_stats *,
			    char *err, size_t);
	/* Parse one output line: 1 when it carried a rate (into st), else
	 * 0.  profile gives the generic driver its regex. */
	int		(*parse_line)(const struct profile *, const char *,
			    struct miner_stats *);
};

const struct driver	*driver_find(const char *name);
/* Validate the driver-specific fields of a profile (err names them). */
int			 driver_check_profile(const struct profile *, char *,
			    size_t);
/* The binary to run: the profile's, or the driver's usual name
 * ("xmrig", "TT-Miner") when the profile leaves it empty. */
const char		*driver_binary(const struct profile *);
/*
 * A binary path under the miners directory, as the parent checks it
 * too: relative, [A-Za-z0-9._+-] components split by single "/", no
 * "." or ".." component, at most MINER_BINARY_MAX bytes.  0, or -1
 * with why.
 */
int			 driver_binary_valid(const char *, char *why, size_t);

/*
 * For the drivers (driver.c).  Limits of what a miner may send.
 */
#define DRIVER_JSON_DEPTH_MAX	16	/* XMRig's summary nests 3 deep */
#define DRIVER_RATE_MAX		1e18	/* H/s; above is nonsense */

/* Rates unknown (-1), counters zero, strings empty. */
void	 driver_stats_init(struct miner_stats *);
/* Parse a miner's JSON answer: bounded by MINER_POLL_BODY_MAX and
 * DRIVER_JSON_DEPTH_MAX, duplicate keys refused.  NULL with err. */
struct json_t;
struct json_t	*driver_json_parse(const char *, size_t, char *err, size_t);
/* A rate from a number of nbytes and a unit ("H/s", "kH/s", "MH/s",
 * "GH/s", "TH/s", any case, "/s" optional): H/s, or -1 for nonsense
 * (not a plain decimal, negative, NaN, infinite, over DRIVER_RATE_MAX,
 * an unknown unit). */
double	 driver_rate(const char *num, size_t nlen, const char *unit,
	    size_t ulen);
/* A rate from a finite, non-negative number: itself, else -1. */
double	 driver_rate_check(double);
/* Append one argument: 0, or -1 when too long or too many. */
int	 driver_arg_add(char argv[][MINER_ARG_LEN], uint32_t *argc,
	    const char *fmt, ...) __attribute__((__format__(printf, 3, 4)));
/* Append "field: message" to err, "; " between entries. */
void	 driver_err_add(char *err, size_t errlen, const char *field,
	    const char *fmt, ...) __attribute__((__format__(printf, 4, 5)));
/* A pool: stratum+tcp://host:port, stratum+ssl://host:port or
 * host:port (host a name, an IPv4 address or [IPv6]).  0, or -1 with
 * why. */
int	 driver_pool_valid(const char *, char *why, size_t);
/* UTF-8 without control bytes (and not empty when required): 0 or
 * -1. */
int	 driver_text_valid(const char *, int required);
/* Copy a line of a miner, cut at MINER_LINE_MAX, into buf (of at
 * least MINER_LINE_MAX + 1 bytes), without a trailing CR or LF. */
size_t	 driver_line_copy(char *buf, const char *line);

extern const struct driver	driver_xmrig;
extern const struct driver	driver_ttminer;
extern const struct driver	driver_generic;

/* Per-driver profile checks (xmrig.c, ttminer.c, generic.c): append
 * to err, return the number of bad fields. */
int	 xmrig_check(const struct profile *, char *err, size_t);
int	 ttminer_check(const struct profile *, char *err, size_t);
int	 generic_check(const struct profile *, char *err, size_t);

#endif /* DRIVER_H */
