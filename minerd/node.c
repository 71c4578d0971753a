/*
 * node.json: the node's public identity, written by minerd from the key
 * that keyd holds (DESIGN, Identity).
 *
 *	{
 *	  "version": 1,
 *	  "id": "<32 lowercase hex digits: the first 16 bytes of the key>",
 *	  "name": "<1..64 bytes of UTF-8, no control characters>",
 *	  "publicKey": "<base64 (original alphabet, padded) of the key>",
 *	  "createdAt": <Unix milliseconds>,
 *	  "role": "controller" | "worker" | "dual"
 *	}
 *
 * The parser is strict: a file it accepts is one node_format() could
 * have written.  Keys it does not know are ignored, so that a file a
 * later release wrote in the same format version still loads; a
 * duplicate key is refused, as everywhere in lethd.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "util.h"
#include "minerd.h"

static const char *const node_roles[] = {
	[ROLE_DUAL] = "dual",
	[ROLE_CONTROLLER] = "controller",
	[ROLE_WORKER] = "worker",
};
#define NODE_NROLES	(sizeof(node_roles) / sizeof(node_roles[0]))

static int	node_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	node_pk_parse(const char *, uint8_t [NODE_PK_LEN]);
static size_t	utf8_char(const unsigned char *, size_t, unsigned long *);

static int
node_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

void
node_id(const uint8_t pk[NODE_PK_LEN], char id[NODE_ID_LEN + 1])
{
	(void)sodium_bin2hex(id, NODE_ID_LEN + 1, pk, NODE_ID_LEN / 2);
}

void
node_pk_b64(const uint8_t pk[NODE_PK_LEN], char b64[NODE_PK_B64_LEN + 1])
{
	(void)sodium_bin2base64(b64, NODE_PK_B64_LEN + 1, pk, NODE_PK_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
node_role_parse(const char *s, enum node_role *role)
{
	size_t	 i;

	for (i = 0; i < NODE_NROLES; i++)
		if (strcmp(s, node_roles[i]) == 0) {
			*role = (enum node_role)i;
			return (0);
		}
	return (-1);
}

const char *
node_role_name(enum node_role role)
{
	if ((size_t)role >= NODE_NROLES)
		return ("unknown");
	return (node_roles[role]);
}

/*
 * Decode one UTF-8 character at s (n bytes left): its length, or 0 when
 * the bytes are not the shortest encoding of a scalar value.
 */
static size_t
utf8_char(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long	 c, min;
	size_t		 len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (len);
}

/*
 * A node name: 1 to NODE_NAME_MAX bytes of UTF-8 without control
 * characters (C0, DEL, C1), so that it is safe in a table and a log.
 */
int
node_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	const unsigned char	*s = (const unsigned char *)name;
	unsigned long		 cp;
	size_t			 i, n;

	if (len == 0)
		return (node_err(err, errlen, "empty name"));
	if (len > NODE_NAME_MAX)
		return (node_err(err, errlen,
		    "name is %zu bytes long: at most %d", len, NODE_NAME_MAX));
	for (i = 0; i < len; i += n) {
		if ((n = utf8_char(s + i, len - i, &cp)) == 0)
			return (node_err(err, errlen,
			    "name is not valid UTF-8"));
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return (node_err(err, errlen,
			    "name has a control character (0x%02lx) at "
			    "byte %zu", cp, i));
	}
	return (0);
}

/* The key as node.json has it: exactly the canonical base64 of 32 bytes. */
static int
node_pk_parse(const char *b64, uint8_t pk[NODE_PK_LEN])
{
	char	 again[NODE_PK_B64_LEN + 1];
	size_t	 len;

	if (strlen(b64) != NODE_PK_B64_LEN)
		return (-1);
	if (sodium_base642bin(pk, NODE_PK_LEN, b64, NODE_PK_B64_LEN, NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != NODE_PK_LEN)
		return (-1);
	node_pk_b64(pk, again);
	if (strcmp(again, b64) != 0)
		return (-1);
	return (0);
}

int
node_parse(const char *buf, size_t len, struct node *node, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *v;
	struct node	 n;
	char		 id[NODE_ID_LEN + 1];
	const char	*s;
	json_int_t	 ver;
	size_t		 i, slen;
	int		 rv = -1;

	memset(&n, 0, sizeof(n));
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr)) == NULL)
		return (node_err(err, errlen, "invalid JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column));
	if (!json_is_object(root)) {
		node_err(err, errlen, "not a JSON object");
		goto done;
	}

	if ((v = json_object_get(root, "version")) == NULL) {
		node_err(err, errlen, "no version");
		goto done;
	}
	if (!json_is_integer(v)) {
		node_err(err, errlen, "version is not an integer");
		goto done;
	}
	ver = json_integer_value(v);
	if (ver > NODE_FORMAT_VERSION) {
		node_err(err, errlen, "format version %lld is newer than this "
		    "lethd understands (%d)", (long long)ver,
		    NODE_FORMAT_VERSION);
		goto done;
	}
	if (ver != NODE_FORMAT_VERSION) {
		node_err(err, errlen, "unknown format version %lld",
		    (long long)ver);
		goto done;
	}
	n.version = (int)ver;

	if ((v = json_object_get(root, "id")) == NULL ||
	    !json_is_string(v)) {
		node_err(err, errlen, "no id, or not a string");
		goto done;
	}
	s = json_string_value(v);
	slen = json_string_length(v);
	if (slen != NODE_ID_LEN) {
		node_err(err, errlen, "bad id: want %d lowercase hex digits",
		    NODE_ID_LEN);
		goto done;
	}
	for (i = 0; i < slen; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f'))) {
			node_err(err, errlen, "bad id: want %d lowercase hex "
			    "digits", NODE_ID_LEN);
			goto done;
		}
	memcpy(n.id, s, NODE_ID_LEN + 1);

	if ((v = json_object_get(root, "name")) == NULL ||
	    !json_is_string(v)) {
		node_err(err, errlen, "no name, or not a string");
		goto done;
	}
	if (node_name_check(json_string_value(v), json_string_length(v),
	    err, errlen) == -1)
		goto done;
	memcpy(n.name, json_string_value(v), json_string_length(v));

	if ((v = json_object_get(root, "publicKey")) == NULL ||
	    !json_is_string(v)) {
		node_err(err, errlen, "no publicKey, or not a string");
		goto done;
	}
	if (strlen(json_string_value(v)) != json_string_length(v) ||
	    node_pk_parse(json_string_value(v), n.pk) == -1) {
		node_err(err, errlen, "bad publicKey: want the base64 of a "
		    "%d-byte Ed25519 key", NODE_PK_LEN);
		goto done;
	}
	node_id(n.pk, id);
	if (strcmp(id, n.id) != 0) {
		node_err(err, errlen, "id %s does not match publicKey "
		    "(id %s)", n.id, id);
		goto done;
	}

	if ((v = json_object_get(root, "createdAt")) == NULL ||
	    !json_is_integer(v) || json_integer_value(v) <= 0) {
		node_err(err, errlen, "bad createdAt: want Unix milliseconds, "
		    "an integer > 0");
		goto done;
	}
	n.created_at = json_integer_value(v);

	if ((v = json_object_get(root, "role")) == NULL ||
	    !json_is_string(v)) {
		node_err(err, errlen, "no role, or not a string");
		goto done;
	}
	if (node_role_parse(json_string_value(v), &n.role) == -1) {
		char	 vis[64];

		node_err(err, errlen, "bad role \"%s\": want controller, "
		    "worker or dual", str_vis(vis, sizeof(vis),
		    json_string_value(v), json_string_length(v)));
		goto done;
	}

	*node = n;
	rv = 0;
 done:
	json_decref(root);
	return (rv);
}

json_t *
node_json(const struct node *node)
{
	char	 b64[NODE_PK_B64_LEN + 1];

	node_pk_b64(node->pk, b64);
	return (json_pack("{s:i, s:s, s:s, s:s, s:I, s:s}",
	    "version", node->version,
	    "id", node->id,
	    "name", node->name,
	    "publicKey", b64,
	    "createdAt", (json_int_t)node->created_at,
	    "role", node_role_name(node->role)));
}

/* The file's text, keys in the order above; free(3) it. */
char *
node_format(const struct node *node)
{
	json_t	*o;
	char	*s;

	if ((o = node_json(node)) == NULL)
		return (NULL);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return (s);
}

/*
 * Returns 0 and fills node, 1 when there is no node.json, -1 with a
 * message in err when it cannot be read or is not valid.
 */
int
node_load(int dirfd, struct node *node, char *err, size_t errlen)
{
	char	*buf, perr[256];
	size_t	 len;
	int	 rv;

	if (read_file_bounded(dirfd, LETHD_NODE_FILE, NODE_FILE_MAX, &buf,
	    &len) == -1) {
		if (errno == ENOENT)
			return (1);
		if (errno == EFBIG)
			return (node_err(err, errlen, "%s: larger than %d "
			    "bytes", LETHD_NODE_FILE, NODE_FILE_MAX));
		return (node_err(err, errlen, "%s: %s", LETHD_NODE_FILE,
		    strerror(errno)));
	}
	rv = node_parse(buf, len, node, perr, sizeof(perr));
	free(buf);
	if (rv == -1)
		return (node_err(err, errlen, "%s: %s", LETHD_NODE_FILE, perr));
	return (0);
}

/* Atomically, mode 0600.  Returns 0, or -1 with errno set. */
int
node_save(int dirfd, const struct node *node)
{
	char	*s, *buf;
	size_t	 len;
	int	 rv, saved;

	if ((s = node_format(node)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	len = strlen(s);
	if ((buf = malloc(len + 2)) == NULL) {
		saved = errno;
		free(s);
		errno = saved;
		return (-1);
	}
	memcpy(buf, s, len);
	buf[len++] = '\n';
	free(s);
	rv = write_file_atomic(dirfd, LETHD_NODE_FILE, buf, len, 0600);
	saved = errno;
	free(buf);
	errno = saved;
	return (rv);
}
