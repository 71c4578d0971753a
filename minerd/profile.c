/*
 * Profiles (minerd/profile.h): what to mine and with which miner, kept
 * in memory sorted by id and written atomically to profiles.json in the
 * state directory:
 *
 *	{
 *	  "version": 1,
 *	  "profiles": [
 *	    {
 *	      "id": "<1..64 of [A-Za-z0-9._-], a letter or digit first>",
 *	      "type": "xmrig" | "tt-miner" | "generic",
 *	      "binary": "<path under the miners directory>" | "",
 *	      "pool": "[stratum+tcp:// | stratum+ssl://]host:port" | "",
 *	      "user": "<wallet or user>", "pass": "<password>",
 *	      "algo": "rx/0", "threads": 0..1024, "devices": "0,1,2",
 *	      "extra": ["<argument>", ...], "autostart": true | false,
 *	      "floor": <H/s, >= 0>, "regex": "<POSIX ERE>" | ""
 *	    }, ...
 *	  ]
 *	}
 *
 * One parser (profile_from_json) serves the file and the REST bodies:
 * it checks every field and names every bad one in its message, then
 * asks the profile's driver about the fields only it understands.  The
 * file is loaded strictly (duplicate keys, unknown fields, a wrong
 * version and duplicate ids are refused); a file that does not load is
 * never overwritten.  The password is in the file (0600, minerd's) and
 * leaves minerd only when asked for (profile_to_json with_secrets).
 */

#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "profile.h"
#include "driver.h"

/* The drivers, for the message about an unknown type. */
#define PROFILE_TYPES		"xmrig, tt-miner or generic"
/* Bytes of a bad value echoed in a message (never a password). */
#define PROFILE_ECHO_MAX	32
/* Room for "profile 255 (id): " before a profile's messages. */
#define PROFILE_FILE_ERR_MAX	(PROFILE_ERR_MAX + PROFILE_ID_MAX + 64)

/* Messages about one profile, "field: what; field: what". */
struct profile_err {
	char	*buf;
	size_t	 len;
	int	 n;
};

static struct profile	**profile_v;	/* sorted by id */
static unsigned int	  profile_n;
static unsigned int	  profile_cap;
static char		  profile_bad[PROFILE_FILE_ERR_MAX +
			    sizeof(PROFILES_FILE) + 2];

static const char *const profile_fields[] = {
	"id", "type", "binary", "pool", "user", "pass", "passSet", "algo",
	"threads", "devices", "extra", "autostart", "floor", "regex"
};
#define PROFILE_NFIELDS	\
	(sizeof(profile_fields) / sizeof(profile_fields[0]))

static void	perr_add(struct profile_err *, const char *, const char *,
		    ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	perr_has(const struct profile_err *, const char *, size_t);
static void	perr_driver(struct profile_err *, const char *);
static const char *profile_string(struct profile_err *, json_t *,
		    const char *, size_t);
static int	profile_ascii(struct profile_err *, const char *,
		    const char *, int, int);
static void	profile_check_binary(struct profile_err *, const char *);
static void	profile_check_pool(struct profile_err *, const char *);
static void	profile_check_devices(struct profile_err *, const char *);
static void	profile_check_regex(struct profile_err *, const char *);
static int	profile_index(const char *, int *);
static int	profile_insert(struct profile *);
static struct profile *profile_detach(const char *);
static char	*profile_format(void);
static int	profile_parse(const char *, size_t, struct profile ***,
		    unsigned int *, char *, size_t);
static void	profile_vec_free(struct profile **, unsigned int);
static json_t	*profile_json(const struct profile *, int, int);

/*
 * Messages.
 */

static void
perr_add(struct profile_err *pe, const char *field, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 used;
	int	 n;

	pe->n++;
	if (pe->buf == NULL || pe->len == 0)
		return;
	used = strlen(pe->buf);
	if (used + 1 >= pe->len)
		return;
	/* field NULL: the message names its field ("pool: missing") */
	n = snprintf(pe->buf + used, pe->len - used, "%s%s%s",
	    used > 0 ? "; " : "", field != NULL ? field : "",
	    field != NULL ? ": " : "");
	if (n < 0 || (size_t)n >= pe->len - used)
		return;
	used += n;
	va_start(ap, fmt);
	(void)vsnprintf(pe->buf + used, pe->len - used, fmt, ap);
	va_end(ap);
}

/* Has a message about field (len bytes) been given already? */
static int
perr_has(const struct profile_err *pe, const char *field, size_t len)
{
	const char	*p = pe->buf;

	if (p == NULL)
		return (0);
	while (*p != '\0') {
		if (strncmp(p, field, len) == 0 && p[len] == ':')
			return (1);
		if ((p = strstr(p, "; ")) == NULL)
			break;
		p += 2;
	}
	return (0);
}

/*
 * The driver's messages, "field: what; field: what", less those about
 * fields already named (a bad field is left empty, and the driver may
 * then call it missing).
 */
static void
perr_driver(struct profile_err *pe, const char *msg)
{
	const char	*p = msg, *end, *colon;
	size_t		 len;

	while (*p != '\0') {
		if ((end = strstr(p, "; ")) == NULL)
			end = p + strlen(p);
		len = end - p;
		colon = memchr(p, ':', len);
		if (colon == NULL)
			perr_add(pe, "type", "%.*s", (int)len, p);
		else if (!perr_has(pe, p, colon - p))
			perr_add(pe, NULL, "%.*s", (int)len, p);
		p = *end != '\0' ? end + 2 : end;
	}
}

/*
 * Checks.
 */

int
profile_id_check(const char *id)
{
	size_t	 i, len = strlen(id);

	if (len == 0 || len > PROFILE_ID_MAX)
		return (-1);
	if (!((id[0] >= 'a' && id[0] <= 'z') ||
	    (id[0] >= 'A' && id[0] <= 'Z') || (id[0] >= '0' && id[0] <= '9')))
		return (-1);
	for (i = 0; i < len; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '.' ||
		    id[i] == '_' || id[i] == '-'))
			return (-1);
	return (0);
}

/*
 * The string member key of o: NULL when absent (no message), or when
 * bad (a message).  At most max bytes, no NUL.
 */
static const char *
profile_string(struct profile_err *pe, json_t *o, const char *key,
    size_t max)
{
	json_t	*v;

	if ((v = json_object_get(o, key)) == NULL)
		return (NULL);
	if (!json_is_string(v)) {
		perr_add(pe, key, "not a string");
		return (NULL);
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		perr_add(pe, key, "a NUL byte");
		return (NULL);
	}
	if (json_string_length(v) > max) {
		perr_add(pe, key, "longer than %zu bytes", max);
		return (NULL);
	}
	return (json_string_value(v));
}

/* Printable ASCII (space only if spaces); 0 or -1 with a message. */
static int
profile_ascii(struct profile_err *pe, const char *field, const char *s,
    int spaces, int echo)
{
	char	 vis[4 * PROFILE_ECHO_MAX + 1];
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] == ' ' && !spaces) || s[i] < ' ' || s[i] > '~') {
			if (echo)
				perr_add(pe, field, "\"%s\": %s at byte %zu",
				    str_vis(vis, sizeof(vis), s,
				    strnlen(s, PROFILE_ECHO_MAX)),
				    s[i] == ' ' ? "a space" : "a byte that is "
				    "not printable ASCII", i);
			else
				perr_add(pe, field, "%s at byte %zu",
				    s[i] == ' ' ? "a space" : "a byte that is "
				    "not printable ASCII", i);
			return (-1);
		}
	}
	return (0);
}

/*
 * A path beneath the miners directory, by the rule the parent applies
 * too (driver_binary_valid).  Empty: the driver's usual name.
 */
static void
profile_check_binary(struct profile_err *pe, const char *s)
{
	char	 why[128];

	if (*s == '\0')
		return;
	if (driver_binary_valid(s, why, sizeof(why)) == -1)
		perr_add(pe, "binary", "%s", why);
}

/*
 * A pool, by the drivers' rule (driver_pool_valid): stratum+tcp://,
 * stratum+ssl:// or no scheme, then host:port.  Empty: none (the
 * driver says whether its miner needs one).
 */
static void
profile_check_pool(struct profile_err *pe, const char *s)
{
	char	 why[128];

	if (profile_ascii(pe, "pool", s, 0, 1) == -1)
		return;
	if (driver_pool_valid(s, why, sizeof(why)) == -1)
		perr_add(pe, "pool", "%s", why);
}

/* "0,1,2": indices 0..PROFILE_DEVICE_MAX, each once. */
static void
profile_check_devices(struct profile_err *pe, const char *s)
{
	uint8_t		 seen[PROFILE_DEVICE_MAX + 1];
	const char	*p = s, *perr;
	char		 num[8];
	size_t		 len;
	long long	 n;

	memset(seen, 0, sizeof(seen));
	for (;;) {
		len = strspn(p, "0123456789");
		if (len == 0 || len >= sizeof(num) ||
		    (p[len] != ',' && p[len] != '\0')) {
			perr_add(pe, "devices", "want device numbers joined "
			    "by commas, such as 0,1,2");
			return;
		}
		memcpy(num, p, len);
		num[len] = '\0';
		n = strtonum(num, 0, PROFILE_DEVICE_MAX, &perr);
		if (perr != NULL) {
			perr_add(pe, "devices", "device %s out of range "
			    "(0-%d)", num, PROFILE_DEVICE_MAX);
			return;
		}
		if (seen[n]) {
			perr_add(pe, "devices", "device %lld twice", n);
			return;
		}
		seen[n] = 1;
		if (p[len] == '\0')
			return;
		p += len + 1;
	}
}

/* A POSIX ERE with a group for the value and one for the unit. */
static void
profile_check_regex(struct profile_err *pe, const char *s)
{
	regex_t	 re;
	char	 msg[128];
	int	 rc;

	if (profile_ascii(pe, "regex", s, 1, 0) == -1)
		return;
	if ((rc = regcomp(&re, s, REG_EXTENDED)) != 0) {
		(void)regerror(rc, &re, msg, sizeof(msg));
		perr_add(pe, "regex", "not a POSIX extended regular "
		    "expression: %s", msg);
		return;
	}
	if (re.re_nsub < PROFILE_REGEX_GROUPS)
		perr_add(pe, "regex", "%zu capture groups: want %d, the "
		    "value and then its unit", (size_t)re.re_nsub,
		    PROFILE_REGEX_GROUPS);
	regfree(&re);
}

/*
 * Parse one profile.  Absent optional fields take their defaults
 * (empty strings, no threads, no extra arguments, no autostart, floor
 * 0; an empty binary is the driver's usual name); id and type are
 * required, and the driver says what else its miner needs.
 */
int
profile_from_json(json_t *o, struct profile *p, char *err, size_t errlen)
{
	struct profile_err	 pe;
	const char		*key, *s;
	char			 vis[4 * PROFILE_ECHO_MAX + 1];
	char			 derr[PROFILE_ERR_MAX];
	json_t			*v, *a;
	double			 d;
	size_t			 i, j;

	memset(p, 0, sizeof(*p));
	pe.buf = err;
	pe.len = errlen;
	pe.n = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!json_is_object(o)) {
		perr_add(&pe, "profile", "not a JSON object");
		return (-1);
	}
	json_object_foreach(o, key, v) {
		for (i = 0; i < PROFILE_NFIELDS; i++)
			if (strcmp(key, profile_fields[i]) == 0)
				break;
		if (i == PROFILE_NFIELDS)
			perr_add(&pe, str_vis(vis, sizeof(vis), key,
			    strnlen(key, PROFILE_ECHO_MAX)), "unknown field");
	}

	if ((s = profile_string(&pe, o, "id", PROFILE_ID_MAX)) != NULL) {
		if (profile_id_check(s) == -1)
			perr_add(&pe, "id", "want 1 to %d letters, digits, "
			    "\".\", \"_\" or \"-\", a letter or digit first",
			    PROFILE_ID_MAX);
		else
			(void)strlcpy(p->id, s, sizeof(p->id));
	} else if (json_object_get(o, "id") == NULL)
		perr_add(&pe, "id", "missing");

	if ((s = profile_string(&pe, o, "type", MINER_DRIVER_MAX)) != NULL) {
		if (driver_find(s) == NULL)
			perr_add(&pe, "type", "unknown miner type \"%s\": want "
			    PROFILE_TYPES, str_vis(vis, sizeof(vis), s,
			    strnlen(s, PROFILE_ECHO_MAX)));
		else
			(void)strlcpy(p->type, s, sizeof(p->type));
	} else if (json_object_get(o, "type") == NULL)
		perr_add(&pe, "type", "missing: want " PROFILE_TYPES);

	if ((s = profile_string(&pe, o, "binary", MINER_BINARY_MAX)) !=
	    NULL) {
		int	 n0 = pe.n;

		profile_check_binary(&pe, s);
		if (pe.n == n0)
			(void)strlcpy(p->binary, s, sizeof(p->binary));
	}

	if ((s = profile_string(&pe, o, "pool", PROFILE_URL_MAX)) != NULL &&
	    *s != '\0') {
		int	 n0 = pe.n;

		profile_check_pool(&pe, s);
		if (pe.n == n0)
			(void)strlcpy(p->pool, s, sizeof(p->pool));
	}
	if ((s = profile_string(&pe, o, "user", PROFILE_USER_MAX)) != NULL &&
	    profile_ascii(&pe, "user", s, 0, 1) == 0)
		(void)strlcpy(p->user, s, sizeof(p->user));
	/* never echoed */
	if ((s = profile_string(&pe, o, "pass", PROFILE_PASS_MAX)) != NULL &&
	    profile_ascii(&pe, "pass", s, 1, 0) == 0)
		(void)strlcpy(p->pass, s, sizeof(p->pass));
	if ((v = json_object_get(o, "passSet")) != NULL &&
	    !json_is_boolean(v))
		perr_add(&pe, "passSet", "not true or false");
	if ((s = profile_string(&pe, o, "algo", PROFILE_ALGO_MAX)) != NULL) {
		if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
		    "VWXYZ0123456789/_.-") != strlen(s))
			perr_add(&pe, "algo", "want letters, digits, \"/\", "
			    "\"_\", \".\" or \"-\", such as rx/0");
		else
			(void)strlcpy(p->algo, s, sizeof(p->algo));
	}

	if ((v = json_object_get(o, "threads")) != NULL) {
		if (!json_is_integer(v))
			perr_add(&pe, "threads", "not an integer");
		else if (json_integer_value(v) < 0 ||
		    json_integer_value(v) > PROFILE_THREADS_MAX)
			perr_add(&pe, "threads", "out of range (0-%d)",
			    PROFILE_THREADS_MAX);
		else
			p->threads = (int)json_integer_value(v);
	}
	if ((s = profile_string(&pe, o, "devices", PROFILE_DEVICES_MAX)) !=
	    NULL && *s != '\0') {
		int	 n0 = pe.n;

		profile_check_devices(&pe, s);
		if (pe.n == n0)
			(void)strlcpy(p->devices, s, sizeof(p->devices));
	}

	if ((a = json_object_get(o, "extra")) != NULL) {
		if (!json_is_array(a))
			perr_add(&pe, "extra", "not an array");
		else if (json_array_size(a) > PROFILE_EXTRA_MAX)
			perr_add(&pe, "extra", "%zu arguments: at most %d",
			    json_array_size(a), PROFILE_EXTRA_MAX);
		else {
			json_array_foreach(a, i, v) {
				char	 f[32];

				(void)snprintf(f, sizeof(f), "extra[%zu]", i);
				if (!json_is_string(v) ||
				    strlen(json_string_value(v)) !=
				    json_string_length(v)) {
					perr_add(&pe, f, "not a string");
					continue;
				}
				s = json_string_value(v);
				j = json_string_length(v);
				if (j == 0)
					perr_add(&pe, f, "empty");
				else if (j >= MINER_ARG_LEN)
					perr_add(&pe, f, "longer than %d "
					    "bytes", MINER_ARG_LEN - 1);
				else if (profile_ascii(&pe, f, s, 1, 0) == 0)
					(void)strlcpy(p->extra[p->nextra++],
					    s, MINER_ARG_LEN);
			}
		}
	}

	if ((v = json_object_get(o, "autostart")) != NULL) {
		if (!json_is_boolean(v))
			perr_add(&pe, "autostart", "not true or false");
		else
			p->autostart = json_is_true(v);
	}
	if ((v = json_object_get(o, "floor")) != NULL) {
		if (!json_is_number(v))
			perr_add(&pe, "floor", "not a number");
		else {
			d = json_number_value(v);
			if (!isfinite(d) || d < 0 || d > PROFILE_FLOOR_MAX)
				perr_add(&pe, "floor", "want H/s from 0 to "
				    "%g", PROFILE_FLOOR_MAX);
			else
				p->floor = d;
		}
	}
	if ((s = profile_string(&pe, o, "regex", PROFILE_REGEX_MAX)) !=
	    NULL && *s != '\0') {
		int	 n0 = pe.n;

		profile_check_regex(&pe, s);
		if (pe.n == n0)
			(void)strlcpy(p->regex, s, sizeof(p->regex));
	}

	/* what only the driver knows: required fields, its own limits */
	if (p->type[0] != '\0') {
		derr[0] = '\0';
		if (driver_check_profile(p, derr, sizeof(derr)) == -1) {
			if (derr[0] == '\0')
				perr_add(&pe, "type", "refused by the %s "
				    "driver", p->type);
			else
				perr_driver(&pe, derr);
		}
	}
	return (pe.n > 0 ? -1 : 0);
}

/*
 * JSON.  The file's form has the password; the API's has it only with
 * secrets, and always says whether one is set (passSet), so that a
 * client can show "***" and a GET-edit-PUT never carries it.
 */
static json_t *
profile_json(const struct profile *p, int file, int secrets)
{
	json_t		*o, *extra;
	unsigned int	 i;

	if ((extra = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < p->nextra; i++)
		if (json_array_append_new(extra, json_string(p->extra[i])) ==
		    -1) {
			json_decref(extra);
			return (NULL);
		}
	if ((o = json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "id", p->id,
	    "type", p->type,
	    "binary", p->binary,
	    "pool", p->pool,
	    "user", p->user)) == NULL) {
		json_decref(extra);
		return (NULL);
	}
	if ((file || secrets) &&
	    json_object_set_new(o, "pass", json_string(p->pass)) == -1)
		goto bad;
	if (!file && json_object_set_new(o, "passSet",
	    json_boolean(p->pass[0] != '\0')) == -1)
		goto bad;
	if (json_object_set_new(o, "algo", json_string(p->algo)) == -1 ||
	    json_object_set_new(o, "threads", json_integer(p->threads)) ==
	    -1 ||
	    json_object_set_new(o, "devices", json_string(p->devices)) ==
	    -1 ||
	    json_object_set(o, "extra", extra) == -1 ||
	    json_object_set_new(o, "autostart",
	    json_boolean(p->autostart)) == -1 ||
	    json_object_set_new(o, "floor", json_real(p->floor)) == -1 ||
	    json_object_set_new(o, "regex", json_string(p->regex)) == -1)
		goto bad;
	json_decref(extra);
	return (o);
 bad:
	json_decref(extra);
	json_decref(o);
	return (NULL);
}

json_t *
profile_to_json(const struct profile *p, int with_secrets)
{
	return (profile_json(p, 0, with_secrets));
}

/*
 * The set, sorted by id.
 */

/* The index of id, or where it would go (-1 returned then). */
static int
profile_index(const char *id, int *at)
{
	int	 lo = 0, hi = (int)profile_n - 1, mid, c;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, profile_v[mid]->id)) == 0) {
			*at = mid;
			return (0);
		}
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	*at = lo;
	return (-1);
}

struct profile *
profile_find(const char *id)
{
	int	 at;

	if (profile_index(id, &at) == -1)
		return (NULL);
	return (profile_v[at]);
}

struct profile *
profile_first(void)
{
	return (profile_n > 0 ? profile_v[0] : NULL);
}

struct profile *
profile_next(struct profile *p)
{
	int	 at;

	if (profile_index(p->id, &at) == -1 || (unsigned int)at + 1 >=
	    profile_n)
		return (NULL);
	return (profile_v[at + 1]);
}

unsigned int
profile_count(void)
{
	return (profile_n);
}

/* Insert a new p (its id absent): 0, or -1 when out of memory. */
static int
profile_insert(struct profile *p)
{
	struct profile	**v;
	int		  at;

	if (profile_index(p->id, &at) == 0)
		return (-1);
	if (profile_n == profile_cap) {
		if ((v = reallocarray(profile_v, profile_cap + 16,
		    sizeof(*v))) == NULL)
			return (-1);
		profile_v = v;
		profile_cap += 16;
	}
	memmove(&profile_v[at + 1], &profile_v[at],
	    (profile_n - at) * sizeof(*profile_v));
	profile_v[at] = p;
	profile_n++;
	return (0);
}

/* Take id out of the set (the array keeps its room for a re-insert). */
static struct profile *
profile_detach(const char *id)
{
	struct profile	*p;
	int		 at;

	if (profile_index(id, &at) == -1)
		return (NULL);
	p = profile_v[at];
	memmove(&profile_v[at], &profile_v[at + 1],
	    (profile_n - at - 1) * sizeof(*profile_v));
	profile_n--;
	return (p);
}

int
profile_put(const struct profile *p, char *err, size_t errlen)
{
	struct profile	*old, *np;

	if ((old = profile_find(p->id)) != NULL) {
		if (old != p)
			*old = *p;
		return (0);
	}
	if (profile_n >= PROFILES_MAX) {
		(void)snprintf(err, errlen, "there are %d profiles already: "
		    "remove one first", PROFILES_MAX);
		return (-1);
	}
	if ((np = malloc(sizeof(*np))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	*np = *p;
	if (profile_insert(np) == -1) {
		free(np);
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

int
profile_del(const char *id)
{
	struct profile	*p;

	if ((p = profile_detach(id)) == NULL)
		return (-1);
	explicit_bzero(p, sizeof(*p));
	free(p);
	return (0);
}

static void
profile_vec_free(struct profile **v, unsigned int n)
{
	unsigned int	 i;

	for (i = 0; i < n; i++) {
		explicit_bzero(v[i], sizeof(*v[i]));
		free(v[i]);
	}
	free(v);
}

void
profile_clear(void)
{
	profile_vec_free(profile_v, profile_n);
	profile_v = NULL;
	profile_n = profile_cap = 0;
}

/*
 * Change and save together.
 */

int
profile_commit_put(int dirfd, const struct profile *p, int *created,
    char *err, size_t errlen)
{
	struct profile	*cur, old;
	int		 saved;

	*created = 0;
	if (profile_bad[0] != '\0') {
		(void)snprintf(err, errlen, "%s unreadable: fix or remove it "
		    "(%s)", PROFILES_FILE, profile_bad);
		errno = EBADMSG;
		return (-1);
	}
	if ((cur = profile_find(p->id)) != NULL)
		old = *cur;
	else
		*created = 1;
	if (profile_put(p, err, errlen) == -1) {
		errno = ENOSPC;
		return (-1);
	}
	if (profile_save(dirfd) == 0) {
		explicit_bzero(&old, sizeof(old));
		return (0);
	}
	saved = errno;
	if (cur != NULL)
		*cur = old;
	else
		(void)profile_del(p->id);
	explicit_bzero(&old, sizeof(old));
	(void)snprintf(err, errlen, "cannot write %s: %s: nothing changed",
	    PROFILES_FILE, strerror(saved));
	errno = saved;
	return (-1);
}

int
profile_commit_del(int dirfd, const char *id, char *err, size_t errlen)
{
	struct profile	*p;
	int		 saved;

	if (profile_bad[0] != '\0') {
		(void)snprintf(err, errlen, "%s unreadable: fix or remove it "
		    "(%s)", PROFILES_FILE, profile_bad);
		errno = EBADMSG;
		return (-1);
	}
	if ((p = profile_detach(id)) == NULL)
		return (1);
	if (profile_save(dirfd) == 0) {
		explicit_bzero(p, sizeof(*p));
		free(p);
		return (0);
	}
	saved = errno;
	/* the array kept its room: this cannot fail */
	if (profile_insert(p) == -1)
		fatalx("profile %s: cannot put it back", id);
	(void)snprintf(err, errlen, "cannot write %s: %s: nothing changed",
	    PROFILES_FILE, strerror(saved));
	errno = saved;
	return (-1);
}

/*
 * The file.
 */

/* The whole file's text, newline-terminated; free(3) it. */
static char *
profile_format(void)
{
	json_t		*root, *arr, *o;
	char		*s, *buf;
	size_t		 len;
	unsigned int	 i;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < profile_n; i++) {
		if ((o = profile_json(profile_v[i], 1, 1)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}
	if ((root = json_pack("{s:i, s:o}", "version",
	    PROFILES_FORMAT_VERSION, "profiles", arr)) == NULL)
		return (NULL);
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(17));
	json_decref(root);
	if (s == NULL)
		return (NULL);
	len = strlen(s);
	if ((buf = realloc(s, len + 2)) == NULL) {
		explicit_bzero(s, len);
		free(s);
		return (NULL);
	}
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return (buf);
}

static int
profile_parse(const char *buf, size_t len, struct profile ***vp,
    unsigned int *np, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *v, *e;
	json_int_t	 ver;
	const char	*key;
	struct profile	**vec = NULL, *p;
	char		 perr[PROFILE_ERR_MAX];
	char		 vis[4 * PROFILE_ECHO_MAX + 1];
	size_t		 i, n = 0, k;
	int		 rv = -1;

	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr)) == NULL) {
		(void)snprintf(err, errlen, "invalid JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column);
		return (-1);
	}
	if (!json_is_object(root)) {
		(void)snprintf(err, errlen, "not a JSON object");
		goto done;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "version") != 0 &&
		    strcmp(key, "profiles") != 0) {
			(void)snprintf(err, errlen, "unknown field \"%s\"",
			    str_vis(vis, sizeof(vis), key,
			    strnlen(key, PROFILE_ECHO_MAX)));
			goto done;
		}
	}
	if ((v = json_object_get(root, "version")) == NULL ||
	    !json_is_integer(v)) {
		(void)snprintf(err, errlen, "no version, or not an integer");
		goto done;
	}
	ver = json_integer_value(v);
	if (ver != PROFILES_FORMAT_VERSION) {
		(void)snprintf(err, errlen, "unknown format version %lld "
		    "(this lethd reads version %d)", (long long)ver,
		    PROFILES_FORMAT_VERSION);
		goto done;
	}
	if ((v = json_object_get(root, "profiles")) == NULL ||
	    !json_is_array(v)) {
		(void)snprintf(err, errlen, "no profiles, or not an array");
		goto done;
	}
	if (json_array_size(v) > PROFILES_MAX) {
		(void)snprintf(err, errlen, "more than %d profiles",
		    PROFILES_MAX);
		goto done;
	}
	if (json_array_size(v) > 0 && (vec = calloc(json_array_size(v),
	    sizeof(*vec))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto done;
	}
	json_array_foreach(v, i, e) {
		if ((p = malloc(sizeof(*p))) == NULL) {
			(void)snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (profile_from_json(e, p, perr, sizeof(perr)) == -1) {
			if (p->id[0] != '\0')
				(void)snprintf(err, errlen, "profile %zu "
				    "(%s): %s", i, p->id, perr);
			else
				(void)snprintf(err, errlen, "profile %zu: %s",
				    i, perr);
			explicit_bzero(p, sizeof(*p));
			free(p);
			goto done;
		}
		/* sorted insert: a few hundred at most */
		for (k = n; k > 0 && strcmp(vec[k - 1]->id, p->id) > 0; k--)
			vec[k] = vec[k - 1];
		if (k > 0 && strcmp(vec[k - 1]->id, p->id) == 0) {
			(void)snprintf(err, errlen, "profile %zu: id %s "
			    "twice", i, p->id);
			memmove(&vec[k], &vec[k + 1], (n - k) * sizeof(*vec));
			explicit_bzero(p, sizeof(*p));
			free(p);
			goto done;
		}
		vec[k] = p;
		n++;
	}
	rv = 0;
 done:
	json_decref(root);
	if (rv == -1) {
		profile_vec_free(vec, n);
		return (-1);
	}
	*vp = vec;
	*np = n;
	return (0);
}

const char *
profile_load_error(void)
{
	return (profile_bad[0] != '\0' ? profile_bad : NULL);
}

/*
 * Replace the set with the file's.  A missing file is no profiles.  A
 * bad one leaves no profiles, is reported, and blocks every write
 * until a later load succeeds.
 */
int
profile_load(int dirfd, char *err, size_t errlen)
{
	struct profile	**vec = NULL;
	char		 *buf, perr[PROFILE_FILE_ERR_MAX];
	size_t		  len;
	unsigned int	  n = 0;
	int		  rv;

	if (read_file_bounded(dirfd, PROFILES_FILE, PROFILES_FILE_MAX, &buf,
	    &len) == -1) {
		if (errno == ENOENT) {
			profile_clear();
			profile_bad[0] = '\0';
			return (0);
		}
		if (errno == EFBIG)
			(void)snprintf(perr, sizeof(perr), "larger than %d "
			    "bytes", PROFILES_FILE_MAX);
		else
			(void)strlcpy(perr, strerror(errno), sizeof(perr));
		rv = -1;
	} else {
		rv = profile_parse(buf, len, &vec, &n, perr, sizeof(perr));
		explicit_bzero(buf, len);
		free(buf);
	}
	profile_clear();
	if (rv == -1) {
		(void)snprintf(profile_bad, sizeof(profile_bad), "%s: %s",
		    PROFILES_FILE, perr);
		(void)snprintf(err, errlen, "%s", profile_bad);
		return (-1);
	}
	profile_v = vec;
	profile_n = profile_cap = n;
	profile_bad[0] = '\0';
	return (0);
}

int
profile_reload_if_bad(int dirfd, char *err, size_t errlen)
{
	if (profile_bad[0] == '\0')
		return (0);
	if (profile_load(dirfd, err, errlen) == -1)
		return (-1);
	log_info("%s loads again: %u profiles", PROFILES_FILE, profile_n);
	return (0);
}

/* Atomically, mode 0600.  Returns 0, or -1 with errno set. */
int
profile_save(int dirfd)
{
	char	*s;
	size_t	 len;
	int	 rv, saved;

	if (profile_bad[0] != '\0') {
		errno = EBADMSG;
		return (-1);
	}
	if ((s = profile_format()) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	len = strlen(s);
	rv = write_file_atomic(dirfd, PROFILES_FILE, s, len, 0600);
	saved = errno;
	explicit_bzero(s, len);
	free(s);
	errno = saved;
	return (rv);
}
