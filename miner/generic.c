/*
 * Any command: the profile's binary with its extra arguments, no API;
 * the hashrate comes from output lines through the profile's POSIX
 * extended regular expression, group 1 the value and group 2 the unit
 * (H/s, kH/s, MH/s, GH/s, TH/s, any case).  Each expression is
 * compiled once and kept: never one regcomp per line.
 */

#include <sys/types.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lethd.h"
#include "driver.h"
#include "../minerd/profile.h"

#define GENERIC_CACHE_MAX	MINER_SLOTS_MAX	/* compiled expressions */
#define GENERIC_GROUPS		3	/* the whole match, value, unit */

struct regex_slot {
	int		 used;
	int		 ok;		/* compiled; else refused, kept */
	unsigned long	 stamp;		/* last use, for eviction */
	char		 pattern[PROFILE_REGEX_MAX + 1];
	regex_t		 re;
};

static struct regex_slot	 cache[GENERIC_CACHE_MAX];
static unsigned long		 clock_uses;

/* Backreferences (a GNU extension to EREs) can make matching slow. */
static int
has_backref(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != '\\')
			continue;
		if (s[1] >= '1' && s[1] <= '9')
			return (1);
		if (s[1] == '\0')
			break;
		s++;
	}
	return (0);
}

/* Compile pattern into re: 0, or -1 with why. */
static int
generic_compile(const char *pattern, regex_t *re, char *why, size_t len)
{
	int	 rc;

	if (pattern[0] == '\0') {
		(void)snprintf(why, len, "required (POSIX ERE: (value) "
		    "and (unit))");
		return (-1);
	}
	if (strnlen(pattern, PROFILE_REGEX_MAX + 1) > PROFILE_REGEX_MAX) {
		(void)snprintf(why, len, "longer than %d bytes",
		    PROFILE_REGEX_MAX);
		return (-1);
	}
	if (has_backref(pattern)) {
		(void)snprintf(why, len, "no backreferences");
		return (-1);
	}
	if ((rc = regcomp(re, pattern, REG_EXTENDED)) != 0) {
		(void)regerror(rc, re, why, len);
		return (-1);
	}
	if (re->re_nsub < 2) {
		regfree(re);
		(void)snprintf(why, len,
		    "needs 2 capture groups: (value) and (unit)");
		return (-1);
	}
	return (0);
}

static regex_t *
generic_regex(const char *pattern)
{
	struct regex_slot	*slot = NULL;
	char			 why[128];
	size_t			 i;

	for (i = 0; i < GENERIC_CACHE_MAX; i++) {
		if (cache[i].used && strcmp(cache[i].pattern, pattern) == 0) {
			cache[i].stamp = ++clock_uses;
			return (cache[i].ok ? &cache[i].re : NULL);
		}
	}
	for (i = 0; i < GENERIC_CACHE_MAX; i++) {
		if (!cache[i].used) {
			slot = &cache[i];
			break;
		}
		if (slot == NULL || cache[i].stamp < slot->stamp)
			slot = &cache[i];
	}
	if (slot->used && slot->ok)
		regfree(&slot->re);
	slot->ok = generic_compile(pattern, &slot->re, why, sizeof(why)) == 0;
	(void)strlcpy(slot->pattern, pattern, sizeof(slot->pattern));
	slot->used = 1;
	slot->stamp = ++clock_uses;
	return (slot->ok ? &slot->re : NULL);
}

int
generic_check(const struct profile *p, char *err, size_t errlen)
{
	regex_t	 re;
	char	 why[128];
	int	 bad = 0;

	if (p->binary[0] == '\0') {
		driver_err_add(err, errlen, "binary",
		    "required for a generic miner");
		bad++;
	}
	if (generic_compile(p->regex, &re, why, sizeof(why)) == -1) {
		driver_err_add(err, errlen, "regex", "%s", why);
		bad++;
	} else
		regfree(&re);
	return (bad);
}

static int
generic_config(const struct profile *p, const struct miner_run *run,
    char *name, size_t namelen, char **buf, size_t *len, char *err,
    size_t errlen)
{
	if (namelen > 0)
		name[0] = '\0';
	*buf = NULL;
	*len = 0;
	return (0);
}

static int
generic_args(const struct profile *p, const struct miner_run *run,
    char argv[][MINER_ARG_LEN], uint32_t *argc, char *err, size_t errlen)
{
	unsigned int	 i;

	*argc = 0;
	for (i = 0; i < p->nextra && i < PROFILE_EXTRA_MAX; i++) {
		if (driver_arg_add(argv, argc, "%s", p->extra[i]) == -1) {
			(void)snprintf(err, errlen,
			    "extra: too many or too long arguments");
			return (-1);
		}
	}
	return (0);
}

static int
generic_parse_stats(const char *body, size_t len, struct miner_stats *st,
    char *err, size_t errlen)
{
	driver_stats_init(st);
	(void)snprintf(err, errlen, "a generic miner has no API");
	return (-1);
}

/*
 * The rate goes to the 10 s and 60 s slots: a line is the miner's
 * current rate, whatever window it averages over.
 */
static int
generic_parse_line(const struct profile *p, const char *line,
    struct miner_stats *st)
{
	char		 buf[MINER_LINE_MAX + 1];
	regmatch_t	 m[GENERIC_GROUPS];
	regex_t		*re;
	double		 r;

	if (p == NULL || (re = generic_regex(p->regex)) == NULL)
		return (0);
	(void)driver_line_copy(buf, line);
	if (regexec(re, buf, GENERIC_GROUPS, m, 0) != 0)
		return (0);
	if (m[1].rm_so < 0 || m[2].rm_so < 0)
		return (0);
	r = driver_rate(buf + m[1].rm_so, m[1].rm_eo - m[1].rm_so,
	    buf + m[2].rm_so, m[2].rm_eo - m[2].rm_so);
	if (r < 0)
		return (0);
	st->hr10s = st->hr60s = r;
	return (1);
}

const struct driver driver_generic = {
	.name = "generic",
	.poll = POLL_NONE,
	.poll_request = NULL,
	.auth_header = NULL,
	.config = generic_config,
	.args = generic_args,
	.parse_stats = generic_parse_stats,
	.parse_line = generic_parse_line,
};
