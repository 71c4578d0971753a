/*
 * The driver table, the profile checks every driver shares, and the
 * small bounded parsers the drivers build on.  Nothing here logs:
 * minerd calls these on bytes from miners and decides what to say.
 */

#include <sys/types.h>

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

#define DRIVER_NUM_MAX		32	/* digits of a rate, point included */
#define DRIVER_HOST_MAX		253	/* a DNS name */

static const struct driver *const drivers[] = {
	&driver_xmrig,
	&driver_ttminer,
	&driver_generic,
};

const struct driver *
driver_find(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return (drivers[i]);
	return (NULL);
}

const char *
driver_binary(const struct profile *p)
{
	if (p->binary[0] != '\0')
		return (p->binary);
	if (strcmp(p->type, "xmrig") == 0)
		return ("xmrig");
	if (strcmp(p->type, "tt-miner") == 0)
		return ("TT-Miner");
	return ("");
}

void
driver_err_add(char *err, size_t errlen, const char *field,
    const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n;

	if (errlen == 0)
		return;
	n = strnlen(err, errlen);
	if (n >= errlen - 1)
		return;
	if (n > 0) {
		(void)snprintf(err + n, errlen - n, "; ");
		n = strnlen(err, errlen);
	}
	if (n < errlen - 1) {
		(void)snprintf(err + n, errlen - n, "%s: ", field);
		n = strnlen(err, errlen);
	}
	if (n < errlen - 1) {
		va_start(ap, fmt);
		(void)vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
}

int
driver_binary_valid(const char *path, char *why, size_t whylen)
{
	const char	*p, *comp;
	size_t		 len, clen;

	len = strnlen(path, MINER_BINARY_MAX + 1);
	if (len == 0) {
		(void)snprintf(why, whylen, "empty");
		return (-1);
	}
	if (len > MINER_BINARY_MAX) {
		(void)snprintf(why, whylen, "longer than %d bytes",
		    MINER_BINARY_MAX);
		return (-1);
	}
	if (path[0] == '/') {
		(void)snprintf(why, whylen,
		    "must be relative to the miners directory");
		return (-1);
	}
	for (p = path; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("._+-/", *p) ==
		    NULL) {
			(void)snprintf(why, whylen,
			    "only letters, digits and ._+-/ allowed");
			return (-1);
		}
	}
	comp = path;
	for (;;) {
		clen = strcspn(comp, "/");
		if (clen == 0) {
			(void)snprintf(why, whylen, "empty path component");
			return (-1);
		}
		if ((clen == 1 && comp[0] == '.') ||
		    (clen == 2 && comp[0] == '.' && comp[1] == '.')) {
			(void)snprintf(why, whylen,
			    "no \".\" or \"..\" components");
			return (-1);
		}
		if (comp[clen] == '\0')
			break;
		comp += clen + 1;
	}
	return (0);
}

int
driver_text_valid(const char *s, int required)
{
	const unsigned char	*p;

	json_t			*j;

	if (required && s[0] == '\0')
		return (-1);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (-1);
	/* it goes into JSON configs: valid UTF-8 only */
	if ((j = json_string(s)) == NULL)
		return (-1);
	json_decref(j);
	return (0);
}

static int
host_valid(const char *h, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0)
		return (0);
	if (h[0] == '[') {
		/* [IPv6]: hex digits, colons and dots (v4-mapped) */
		if (len < 4 || h[len - 1] != ']')
			return (0);
		for (i = 1; i < len - 1; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return (0);
		return (1);
	}
	if (len > DRIVER_HOST_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '_')
			return (0);
		if (++label > 63)
			return (0);
	}
	return (label > 0);
}

int
driver_pool_valid(const char *pool, char *why, size_t whylen)
{
	static const char *const schemes[] = {
		"stratum+tcp://", "stratum+ssl://"
	};
	const char	*hp, *colon, *errstr;
	size_t		 i, n;
	char		 port[8];

	if (pool[0] == '\0') {
		(void)snprintf(why, whylen, "required");
		return (-1);
	}
	hp = pool;
	if (strstr(pool, "://") != NULL) {
		for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			n = strlen(schemes[i]);
			if (strncmp(pool, schemes[i], n) == 0) {
				hp = pool + n;
				break;
			}
		}
		if (hp == pool) {
			(void)snprintf(why, whylen, "not a stratum URL "
			    "(stratum+tcp://, stratum+ssl:// or host:port)");
			return (-1);
		}
	}
	colon = strrchr(hp, ':');
	if (colon == NULL || (hp[0] == '[' && colon < strchr(hp, ']'))) {
		(void)snprintf(why, whylen, "no port (host:port)");
		return (-1);
	}
	if (!host_valid(hp, colon - hp)) {
		(void)snprintf(why, whylen, "bad host");
		return (-1);
	}
	if (strlen(colon + 1) >= sizeof(port) || colon[1] == '\0') {
		(void)snprintf(why, whylen, "bad port");
		return (-1);
	}
	(void)strlcpy(port, colon + 1, sizeof(port));
	for (i = 0; port[i] != '\0'; i++)
		if (!isdigit((unsigned char)port[i])) {
			(void)snprintf(why, whylen, "bad port");
			return (-1);
		}
	(void)strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL) {
		(void)snprintf(why, whylen, "port %s", errstr);
		return (-1);
	}
	return (0);
}

int
driver_check_profile(const struct profile *p, char *err, size_t errlen)
{
	const struct driver	*d;
	char			 why[128];
	unsigned int		 i;
	int			 bad = 0;

	if (errlen > 0)
		err[0] = '\0';
	d = driver_find(p->type);
	if (d == NULL) {
		driver_err_add(err, errlen, "type",
		    "unknown miner type (xmrig, tt-miner, generic)");
		return (-1);
	}
	if (p->binary[0] != '\0' &&
	    driver_binary_valid(p->binary, why, sizeof(why)) == -1) {
		driver_err_add(err, errlen, "binary", "%s", why);
		bad++;
	}
	if (p->nextra > PROFILE_EXTRA_MAX) {
		driver_err_add(err, errlen, "extra",
		    "more than %d arguments", PROFILE_EXTRA_MAX);
		bad++;
	} else {
		for (i = 0; i < p->nextra; i++) {
			if (strnlen(p->extra[i], MINER_ARG_LEN) >=
			    MINER_ARG_LEN) {
				driver_err_add(err, errlen, "extra",
				    "argument %u longer than %d bytes", i,
				    MINER_ARG_LEN - 1);
				bad++;
				break;
			}
			if (driver_text_valid(p->extra[i], 1) == -1) {
				driver_err_add(err, errlen, "extra",
				    "argument %u empty or with control "
				    "characters", i);
				bad++;
				break;
			}
		}
	}
	if (d == &driver_xmrig)
		bad += xmrig_check(p, err, errlen);
	else if (d == &driver_ttminer)
		bad += ttminer_check(p, err, errlen);
	else
		bad += generic_check(p, err, errlen);
	return (bad > 0 ? -1 : 0);
}

void
driver_stats_init(struct miner_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->hr10s = st->hr60s = st->hr15m = -1;
}

double
driver_rate_check(double v)
{
	if (!isfinite(v) || v < 0 || v > DRIVER_RATE_MAX)
		return (-1);
	return (v);
}

double
driver_rate(const char *num, size_t nlen, const char *unit, size_t ulen)
{
	char	 buf[DRIVER_NUM_MAX + 1], *end;
	double	 v, mul;
	size_t	 i, digits = 0, points = 0;

	if (nlen == 0 || nlen > DRIVER_NUM_MAX)
		return (-1);
	for (i = 0; i < nlen; i++) {
		if (isdigit((unsigned char)num[i]))
			digits++;
		else if (num[i] == '.' && i > 0 && i < nlen - 1)
			points++;
		else
			return (-1);
	}
	if (digits == 0 || points > 1)
		return (-1);
	memcpy(buf, num, nlen);
	buf[nlen] = '\0';

	/* the unit: [kmgt]?h(/s)? */
	if (ulen >= 2 && unit[ulen - 2] == '/' &&
	    (unit[ulen - 1] == 's' || unit[ulen - 1] == 'S'))
		ulen -= 2;
	if (ulen == 0 || (unit[ulen - 1] != 'h' && unit[ulen - 1] != 'H'))
		return (-1);
	if (ulen == 1)
		mul = 1;
	else if (ulen == 2) {
		switch (tolower((unsigned char)unit[0])) {
		case 'k':
			mul = 1e3;
			break;
		case 'm':
			mul = 1e6;
			break;
		case 'g':
			mul = 1e9;
			break;
		case 't':
			mul = 1e12;
			break;
		default:
			return (-1);
		}
	} else
		return (-1);

	v = strtod(buf, &end);
	if (*end != '\0')
		return (-1);
	return (driver_rate_check(v * mul));
}

int
driver_arg_add(char argv[][MINER_ARG_LEN], uint32_t *argc, const char *fmt,
    ...)
{
	va_list	 ap;
	int	 n;

	if (*argc >= MINER_ARGS_MAX)
		return (-1);
	va_start(ap, fmt);
	n = vsnprintf(argv[*argc], MINER_ARG_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= MINER_ARG_LEN) {
		argv[*argc][0] = '\0';
		return (-1);
	}
	(*argc)++;
	return (0);
}

size_t
driver_line_copy(char *buf, const char *line)
{
	size_t	 n;

	n = strnlen(line, MINER_LINE_MAX);
	memcpy(buf, line, n);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return (n);
}

/*
 * jansson's own nesting limit is 2048; ours is far lower.  Count the
 * brackets outside strings first, so a deep input costs one pass.
 */
static int
json_depth_ok(const char *buf, size_t len)
{
	size_t	 i;
	int	 depth = 0, instr = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (esc)
				esc = 0;
			else if (buf[i] == '\\')
				esc = 1;
			else if (buf[i] == '"')
				instr = 0;
			continue;
		}
		switch (buf[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > DRIVER_JSON_DEPTH_MAX)
				return (0);
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
	}
	return (1);
}

/* jansson quotes the input in its messages: keep err printable. */
static void
err_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

json_t *
driver_json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*j;

	if (len > MINER_POLL_BODY_MAX) {
		(void)snprintf(err, errlen, "answer longer than %d bytes",
		    MINER_POLL_BODY_MAX);
		return (NULL);
	}
	if (!json_depth_ok(buf, len)) {
		(void)snprintf(err, errlen, "JSON nested deeper than %d",
		    DRIVER_JSON_DEPTH_MAX);
		return (NULL);
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		(void)snprintf(err, errlen, "bad JSON at %d: %.64s",
		    jerr.position, jerr.text);
		err_printable(err);
		return (NULL);
	}
	return (j);
}
