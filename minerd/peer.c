/*
 * The peer registry (DESIGN, Pairing; minerd/peer.h): the workers we
 * pinned and the controllers we allow, kept in a red-black tree by id,
 * and peers.json, the file that holds them:
 *
 *	{
 *	  "version": 1,
 *	  "peers": [
 *	    {
 *	      "id": "<32 lowercase hex: the first 16 bytes of the key>",
 *	      "name": "<0..64 bytes of UTF-8, no control characters>",
 *	      "address": "HOST:PORT" | "[v6]:PORT" | "" (allowed only),
 *	      "publicKey": "<base64 of the 32-byte Ed25519 key>",
 *	      "pinned": true | false,
 *	      "access": "none" | "observer" | "operator",
 *	      "tags": ["<1..32 bytes of printable ASCII>", ...],
 *	      "added": <Unix ms>
 *	    }, ...
 *	  ]
 *	}
 *
 * An id is always derived from the key, never taken on trust: a file
 * whose id does not match its key is refused.  Parsing is strict as in
 * node.c (duplicate keys refused, each field checked, an error naming
 * the entry and the field); keys it does not know are ignored, so that
 * a later release writing the same format version still loads.  A file
 * that does not load is never overwritten: peer_save refuses until a
 * load succeeds.
 */

#include <sys/types.h>
#include <sys/tree.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"

/* Bytes of base64 we try to decode for a key: enough to tell "too
 * long" from "bad base64" in the message, bounded. */
#define PEER_PK_B64_MAX		128
/* Longest host name (RFC 1035) and label. */
#define PEER_HOST_MAX		253
#define PEER_LABEL_MAX		63

enum peer_undo_kind {
	UNDO_ADDED,		/* new in this transaction: drop it */
	UNDO_CHANGED,		/* restore the persistent fields */
	UNDO_REMOVED		/* detached: put it back */
};

/* The fields that live in peers.json, saved for an undo. */
struct peer_rec {
	char		 name[NODE_NAME_MAX + 1];
	char		 address[NET_ADDR_MAX];
	int		 pinned;
	enum peer_access access;
	char		 tags[PEER_TAGS_MAX][PEER_TAG_MAX + 1];
	unsigned int	 ntags;
	long long	 added;
};

struct peer_undo {
	struct peer_undo	*next;
	enum peer_undo_kind	 kind;
	struct peer		*p;
	struct peer_rec		 rec;	/* UNDO_CHANGED */
};

RB_HEAD(peer_tree, peer);

static int	peer_cmp(struct peer *, struct peer *);

static struct peer_tree	 peer_tree = RB_INITIALIZER(&peer_tree);
static unsigned int	 peer_n;
static char		 peer_bad[PEER_ERR_MAX + sizeof(PEERS_FILE) + 2];
				/* why the file did not load; "" */
static int		 peer_in_txn;
static struct peer_undo	*peer_undo_log;		/* newest first */

static const char *const peer_access_names[] = {
	[ACCESS_NONE] = "none",
	[ACCESS_OBSERVER] = "observer",
	[ACCESS_OPERATOR] = "operator",
};
#define PEER_NACCESS	(sizeof(peer_access_names) / \
			    sizeof(peer_access_names[0]))

static int	peer_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static struct peer *peer_new(const uint8_t [32]);
static void	peer_free(struct peer *);
static void	peer_rec_save(const struct peer *, struct peer_rec *);
static void	peer_rec_restore(struct peer *, const struct peer_rec *);
static int	peer_undo_add(enum peer_undo_kind, struct peer *);
static void	peer_undo_drop(int);
static int	peer_host_check(const char *, size_t);
static int	peer_parse_one(json_t *, size_t, struct peer_tree *,
		    unsigned int *, char *, size_t);
static int	peer_parse(const char *, size_t, struct peer_tree *,
		    unsigned int *, char *, size_t);
static void	peer_tree_free(struct peer_tree *);
static json_t	*peer_file_json(const struct peer *);
static char	*peer_format(void);

static int
peer_cmp(struct peer *a, struct peer *b)
{
	return (strcmp(a->id, b->id));
}

/* libbsd's RB_GENERATE_STATIC wants a __unused that its cdefs.h leaves
 * undefined: name the attribute ourselves (as replay.c does). */
#define PEER_RB_ATTR	__attribute__((__unused__)) static
RB_GENERATE_INTERNAL(peer_tree, peer, by_id, peer_cmp, PEER_RB_ATTR)

static int
peer_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * Names and checks.
 */

int
peer_access_parse(const char *s, enum peer_access *a)
{
	size_t	 i;

	for (i = 0; i < PEER_NACCESS; i++)
		if (strcmp(s, peer_access_names[i]) == 0) {
			*a = (enum peer_access)i;
			return (0);
		}
	return (-1);
}

const char *
peer_access_name(enum peer_access a)
{
	if ((size_t)a >= PEER_NACCESS)
		return ("unknown");
	return (peer_access_names[a]);
}

const char *
peer_role_name(const struct peer *p)
{
	if (p->pinned)
		return ("worker");
	return (peer_access_name(p->access));
}

/* 32 lowercase hex digits, NUL-terminated. */
int
peer_id_check(const char *id)
{
	size_t	 i;

	for (i = 0; i < NODE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return (-1);
	return (id[NODE_ID_LEN] == '\0' ? 0 : -1);
}

/*
 * A public key: the base64 (original alphabet; padding optional) of
 * exactly 32 bytes.
 */
int
peer_pk_parse(const char *b64, size_t len, uint8_t pk[32], char *err,
    size_t errlen)
{
	uint8_t		 buf[PEER_PK_B64_MAX];
	const char	*end;
	size_t		 n;

	if (len == 0)
		return (peer_err(err, errlen, "empty key"));
	if (strlen(b64) != len)
		return (peer_err(err, errlen, "bad base64: a NUL byte"));
	if (len > PEER_PK_B64_MAX)
		return (peer_err(err, errlen, "key is %zu characters: want "
		    "the base64 of a 32-byte Ed25519 key (%d characters)",
		    len, NODE_PK_B64_LEN));
	/* libsodium 1.0.18 takes bytes 0x80-0xff for '/': check first */
	if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/=") != len)
		return (peer_err(err, errlen, "bad base64"));
	if (sodium_base642bin(buf, sizeof(buf), b64, len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + len) {
		if (sodium_base642bin(buf, sizeof(buf), b64, len, NULL, &n,
		    &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
		    end != b64 + len)
			return (peer_err(err, errlen, "bad base64"));
	}
	if (n != 32)
		return (peer_err(err, errlen, "key is %zu bytes: want a "
		    "32-byte Ed25519 key", n));
	memcpy(pk, buf, 32);
	return (0);
}

/* A host name (letters, digits, '-' inside labels, dots between). */
static int
peer_host_check(const char *h, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > PEER_HOST_MAX)
		return (-1);
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return (-1);
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return (-1);
		if (label == 0 && h[i] == '-')
			return (-1);
		if (++label > PEER_LABEL_MAX)
			return (-1);
	}
	if (label == 0 || h[len - 1] == '-')
		return (-1);
	return (0);
}

/*
 * "HOST:PORT" (a host name or an IPv4 address) or "[v6]:PORT", port
 * 1..65535, shorter than NET_ADDR_MAX.
 */
int
peer_address_check(const char *a, size_t len, char *err, size_t errlen)
{
	const char	*colon, *perr;
	char		 host[NET_ADDR_MAX], port[8];
	struct in6_addr	 in6;
	size_t		 hlen, plen;

	if (len == 0)
		return (peer_err(err, errlen, "empty address: want "
		    "HOST:PORT or [v6]:PORT"));
	if (strlen(a) != len || len >= NET_ADDR_MAX)
		return (peer_err(err, errlen, "address longer than %d bytes",
		    NET_ADDR_MAX - 1));
	if ((colon = strrchr(a, ':')) == NULL)
		return (peer_err(err, errlen, "no port: want HOST:PORT or "
		    "[v6]:PORT"));
	plen = len - (colon + 1 - a);
	if (plen == 0 || plen >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != plen)
		return (peer_err(err, errlen, "bad port: want 1 to 65535"));
	memcpy(port, colon + 1, plen);
	port[plen] = '\0';
	(void)strtonum(port, 1, 65535, &perr);
	if (perr != NULL)
		return (peer_err(err, errlen, "bad port: want 1 to 65535"));
	hlen = colon - a;
	if (a[0] == '[') {
		if (hlen < 3 || a[hlen - 1] != ']')
			return (peer_err(err, errlen, "bad IPv6 address: "
			    "want [v6]:PORT"));
		memcpy(host, a + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			return (peer_err(err, errlen, "bad IPv6 address: "
			    "want [v6]:PORT"));
		return (0);
	}
	if (memchr(a, ':', hlen) != NULL)
		return (peer_err(err, errlen, "bad address: an IPv6 address "
		    "goes in brackets, [v6]:PORT"));
	if (peer_host_check(a, hlen) == -1)
		return (peer_err(err, errlen, "bad host: want a host name "
		    "or an IPv4 address"));
	return (0);
}

/* host gets the host without brackets; the address was checked. */
int
peer_address_split(const char *a, char *host, size_t hostlen,
    uint16_t *port)
{
	const char	*colon, *perr;
	size_t		 hlen;
	long long	 n;

	if ((colon = strrchr(a, ':')) == NULL)
		return (-1);
	n = strtonum(colon + 1, 1, 65535, &perr);
	if (perr != NULL)
		return (-1);
	hlen = colon - a;
	if (a[0] == '[') {
		if (hlen < 3 || a[hlen - 1] != ']')
			return (-1);
		a++;
		hlen -= 2;
	}
	if (hlen >= hostlen)
		return (-1);
	memcpy(host, a, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)n;
	return (0);
}

/* A name: as node names, 1..64 bytes of UTF-8, no control characters. */
int
peer_name_check(const char *s, size_t len, char *err, size_t errlen)
{
	if (strlen(s) != len)
		return (peer_err(err, errlen, "name has a NUL byte"));
	return (node_name_check(s, len, err, errlen));
}

/* A tag: 1..PEER_TAG_MAX bytes of printable ASCII, no space or comma. */
int
peer_tag_check(const char *s, size_t len, char *err, size_t errlen)
{
	size_t	 i;

	if (len == 0)
		return (peer_err(err, errlen, "empty tag"));
	if (len > PEER_TAG_MAX)
		return (peer_err(err, errlen, "tag is %zu bytes: at most %d",
		    len, PEER_TAG_MAX));
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ',')
			return (peer_err(err, errlen, "tag has a space, a "
			    "comma or a byte that is not printable ASCII at "
			    "byte %zu", i));
	return (0);
}

/*
 * The tree.
 */

struct peer *
peer_by_id(const char *id)
{
	struct peer	 key;

	if (strlen(id) != NODE_ID_LEN)
		return (NULL);
	memcpy(key.id, id, NODE_ID_LEN + 1);
	return (RB_FIND(peer_tree, &peer_tree, &key));
}

struct peer *
peer_by_pk(const uint8_t pk[32])
{
	struct peer	*p;
	char		 id[NODE_ID_LEN + 1];

	node_id(pk, id);
	if ((p = peer_by_id(id)) == NULL)
		return (NULL);
	/* a different key with the same first 16 bytes is not this peer */
	if (sodium_memcmp(p->pk, pk, 32) != 0)
		return (NULL);
	return (p);
}

struct peer *
peer_first(void)
{
	return (RB_MIN(peer_tree, &peer_tree));
}

struct peer *
peer_next(struct peer *p)
{
	return (RB_NEXT(peer_tree, &peer_tree, p));
}

unsigned int
peer_count(void)
{
	return (peer_n);
}

static struct peer *
peer_new(const uint8_t pk[32])
{
	struct peer	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	memcpy(p->pk, pk, 32);
	node_id(pk, p->id);
	p->access = ACCESS_NONE;
	p->ping_ms = -1;
	p->geo_km = -1;
	p->score = PEER_SCORE_START;
	return (p);
}

static void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	if (p->replay != NULL)
		replay_free(p->replay);
	free(p);
}

void
peer_score(struct peer *p, int delta)
{
	int	 s = p->score + delta;

	if (s < 0)
		s = 0;
	if (s > 100)
		s = 100;
	p->score = s;
}

/*
 * Undo records, while a transaction is open.
 */

static void
peer_rec_save(const struct peer *p, struct peer_rec *r)
{
	memcpy(r->name, p->name, sizeof(r->name));
	memcpy(r->address, p->address, sizeof(r->address));
	r->pinned = p->pinned;
	r->access = p->access;
	memcpy(r->tags, p->tags, sizeof(r->tags));
	r->ntags = p->ntags;
	r->added = p->added;
}

static void
peer_rec_restore(struct peer *p, const struct peer_rec *r)
{
	memcpy(p->name, r->name, sizeof(p->name));
	memcpy(p->address, r->address, sizeof(p->address));
	p->pinned = r->pinned;
	p->access = r->access;
	memcpy(p->tags, r->tags, sizeof(p->tags));
	p->ntags = r->ntags;
	p->added = r->added;
}

static int
peer_undo_add(enum peer_undo_kind kind, struct peer *p)
{
	struct peer_undo	*u;

	if (!peer_in_txn)
		return (0);
	if ((u = malloc(sizeof(*u))) == NULL)
		return (-1);
	u->kind = kind;
	u->p = p;
	if (kind == UNDO_CHANGED)
		peer_rec_save(p, &u->rec);
	u->next = peer_undo_log;
	peer_undo_log = u;
	return (0);
}

/* End the transaction: undo (newest first) or keep its changes. */
static void
peer_undo_drop(int undo)
{
	struct peer_undo	*u;

	while ((u = peer_undo_log) != NULL) {
		peer_undo_log = u->next;
		switch (u->kind) {
		case UNDO_ADDED:
			if (undo) {
				RB_REMOVE(peer_tree, &peer_tree, u->p);
				peer_n--;
				peer_free(u->p);
			}
			break;
		case UNDO_CHANGED:
			if (undo)
				peer_rec_restore(u->p, &u->rec);
			break;
		case UNDO_REMOVED:
			if (undo) {
				RB_INSERT(peer_tree, &peer_tree, u->p);
				peer_n++;
			} else
				peer_free(u->p);
			break;
		}
		free(u);
	}
	peer_in_txn = 0;
}

void
peer_txn_begin(void)
{
	if (peer_in_txn)
		fatalx("peer: nested transaction");
	peer_in_txn = 1;
}

int
peer_txn_commit(int dirfd)
{
	int	 saved;

	if (peer_save(dirfd) == -1) {
		saved = errno;
		peer_undo_drop(1);
		errno = saved;
		return (-1);
	}
	peer_undo_drop(0);
	return (0);
}

void
peer_txn_abort(void)
{
	peer_undo_drop(1);
}

/*
 * Changes.
 */

struct peer *
peer_add(const uint8_t pk[32], const char *name, const char *address,
    int pin, enum peer_access access, const char **why)
{
	struct peer	*p, *old;
	char		 id[NODE_ID_LEN + 1], vis[NET_ADDR_MAX * 4];
	size_t		 alen = address != NULL ? strlen(address) : 0;
	static char	 msg[PEER_ERR_MAX];

	*why = NULL;
	if ((size_t)access >= PEER_NACCESS) {
		*why = "unknown access";
		return (NULL);
	}
	if (name != NULL && name[0] != '\0' &&
	    peer_name_check(name, strlen(name), NULL, 0) == -1) {
		*why = "bad name";
		return (NULL);
	}
	if (alen > 0 && peer_address_check(address, alen, NULL, 0) == -1) {
		(void)snprintf(msg, sizeof(msg), "bad address \"%s\"",
		    str_vis(vis, sizeof(vis), address, alen));
		*why = msg;
		return (NULL);
	}
	node_id(pk, id);
	if ((old = peer_by_id(id)) != NULL) {
		if (sodium_memcmp(old->pk, pk, 32) != 0) {
			log_warnx("peer %s: key differs from the pinned key: "
			    "refusing; remove the peer first", id);
			(void)snprintf(msg, sizeof(msg), "peer %s: key "
			    "differs from the pinned key: refusing; remove "
			    "the peer first", id);
			*why = msg;
			return (NULL);
		}
		if (pin && alen == 0 && old->address[0] == '\0') {
			*why = "a pinned peer needs an address";
			return (NULL);
		}
		if (peer_undo_add(UNDO_CHANGED, old) == -1) {
			*why = "out of memory";
			return (NULL);
		}
		if (name != NULL && name[0] != '\0')
			(void)strlcpy(old->name, name, sizeof(old->name));
		if (alen > 0)
			(void)strlcpy(old->address, address,
			    sizeof(old->address));
		if (pin)
			old->pinned = 1;
		if (access != ACCESS_NONE)
			old->access = access;
		return (old);
	}

	if (!pin && access == ACCESS_NONE) {
		*why = "neither pinned nor allowed";
		return (NULL);
	}
	if (pin && alen == 0) {
		*why = "a pinned peer needs an address";
		return (NULL);
	}
	if (peer_n >= PEERS_MAX) {
		*why = "the registry is full";
		return (NULL);
	}
	if ((p = peer_new(pk)) == NULL) {
		*why = "out of memory";
		return (NULL);
	}
	if (peer_undo_add(UNDO_ADDED, p) == -1) {
		free(p);
		*why = "out of memory";
		return (NULL);
	}
	if (name != NULL)
		(void)strlcpy(p->name, name, sizeof(p->name));
	if (alen > 0)
		(void)strlcpy(p->address, address, sizeof(p->address));
	p->pinned = pin ? 1 : 0;
	p->access = access;
	p->added = now_ms();
	RB_INSERT(peer_tree, &peer_tree, p);
	peer_n++;
	return (p);
}

void
peer_remove(struct peer *p)
{
	if (peer_in_txn && peer_undo_add(UNDO_REMOVED, p) == -1) {
		/* the caller sees it still there (peer_by_id) */
		log_warnx("peer %s: out of memory: not removed", p->id);
		return;
	}
	RB_REMOVE(peer_tree, &peer_tree, p);
	peer_n--;
	if (!peer_in_txn)
		peer_free(p);
}

int
peer_set_access(struct peer *p, enum peer_access a, const char **why)
{
	*why = NULL;
	if ((size_t)a >= PEER_NACCESS) {
		*why = "unknown access";
		return (-1);
	}
	if (peer_undo_add(UNDO_CHANGED, p) == -1) {
		*why = "out of memory";
		return (-1);
	}
	p->access = a;
	return (0);
}

int
peer_set_tags(struct peer *p, const char *const *tags, unsigned int n,
    const char **why)
{
	unsigned int	 i, j;

	*why = NULL;
	if (n > PEER_TAGS_MAX) {
		*why = "too many tags";
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (peer_tag_check(tags[i], strlen(tags[i]), NULL, 0) == -1) {
			*why = "bad tag";
			return (-1);
		}
		for (j = 0; j < i; j++)
			if (strcmp(tags[i], tags[j]) == 0) {
				*why = "the same tag twice";
				return (-1);
			}
	}
	if (peer_undo_add(UNDO_CHANGED, p) == -1) {
		*why = "out of memory";
		return (-1);
	}
	for (i = 0; i < n; i++)
		(void)strlcpy(p->tags[i], tags[i], sizeof(p->tags[i]));
	p->ntags = n;
	return (0);
}

/*
 * JSON: the API's view (peer_json) and the file's (peer_file_json).
 */

json_t *
peer_json(const struct peer *p)
{
	json_t		*o, *tags;
	char		 b64[NODE_PK_B64_LEN + 1];
	unsigned int	 i;

	if ((tags = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < p->ntags; i++)
		if (json_array_append_new(tags, json_string_safe(p->tags[i]))
		    == -1) {
			json_decref(tags);
			return (NULL);
		}
	node_pk_b64(p->pk, b64);
	o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:b, s:b, s:o, s:o, "
	    "s:o, s:i, s:o, s:I, s:o}",
	    "id", p->id,
	    "name", json_string_safe(p->name),
	    "address", json_string_safe(p->address),
	    "publicKey", b64,
	    "role", peer_role_name(p),
	    "access", peer_access_name(p->access),
	    "pinned", p->pinned,
	    "connected", p->connected,
	    "pingMs", p->ping_ms >= 0 ? json_real(p->ping_ms) : json_null(),
	    "hops", PEER_HOPS(p) > 0 ? json_integer(PEER_HOPS(p)) :
		json_null(),
	    "geoKm", p->geo_km >= 0 ? json_real(p->geo_km) : json_null(),
	    "score", p->score,
	    "lastSeen", p->last_seen > 0 ?
		json_integer(p->last_seen) : json_null(),
	    "added", (json_int_t)p->added,
	    "tags", tags);
	return (o);
}

static json_t *
peer_file_json(const struct peer *p)
{
	json_t		*tags;
	char		 b64[NODE_PK_B64_LEN + 1];
	unsigned int	 i;

	if ((tags = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < p->ntags; i++)
		if (json_array_append_new(tags, json_string(p->tags[i])) ==
		    -1) {
			json_decref(tags);
			return (NULL);
		}
	node_pk_b64(p->pk, b64);
	return (json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:I}",
	    "id", p->id,
	    "name", p->name,
	    "address", p->address,
	    "publicKey", b64,
	    "pinned", p->pinned,
	    "access", peer_access_name(p->access),
	    "tags", tags,
	    "added", (json_int_t)p->added));
}

/* The whole file's text, newline-terminated; free(3) it. */
static char *
peer_format(void)
{
	struct peer	*p;
	json_t		*root, *arr, *o;
	char		*s, *buf;
	size_t		 len;

	if ((arr = json_array()) == NULL)
		return (NULL);
	RB_FOREACH(p, peer_tree, &peer_tree) {
		if ((o = peer_file_json(p)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}
	if ((root = json_pack("{s:i, s:o}", "version", PEERS_FORMAT_VERSION,
	    "peers", arr)) == NULL)
		return (NULL);
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		return (NULL);
	len = strlen(s);
	if ((buf = realloc(s, len + 2)) == NULL) {
		free(s);
		return (NULL);
	}
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return (buf);
}

/*
 * The file.
 */

/* One entry of the file into tree t (checked against what is there). */
static int
peer_parse_one(json_t *e, size_t i, struct peer_tree *t, unsigned int *n,
    char *err, size_t errlen)
{
	struct peer	*p;
	json_t		*v, *tag;
	uint8_t		 pk[32];
	char		 id[NODE_ID_LEN + 1], ferr[PEER_ERR_MAX];
	char		 vis[64];
	const char	*s;
	size_t		 j, k;

	if (!json_is_object(e))
		return (peer_err(err, errlen, "peer %zu: not an object", i));

	if ((v = json_object_get(e, "publicKey")) == NULL ||
	    !json_is_string(v))
		return (peer_err(err, errlen, "peer %zu: no publicKey, or "
		    "not a string", i));
	if (peer_pk_parse(json_string_value(v), json_string_length(v), pk,
	    ferr, sizeof(ferr)) == -1)
		return (peer_err(err, errlen, "peer %zu: bad publicKey: %s",
		    i, ferr));
	node_id(pk, id);

	if ((v = json_object_get(e, "id")) == NULL || !json_is_string(v))
		return (peer_err(err, errlen, "peer %zu: no id, or not a "
		    "string", i));
	if (json_string_length(v) != NODE_ID_LEN ||
	    peer_id_check(json_string_value(v)) == -1)
		return (peer_err(err, errlen, "peer %zu: bad id: want %d "
		    "lowercase hex digits", i, NODE_ID_LEN));
	if (strcmp(json_string_value(v), id) != 0)
		return (peer_err(err, errlen, "peer %zu: id %s does not match "
		    "publicKey (id %s)", i, json_string_value(v), id));
	{
		struct peer	 key;

		memcpy(key.id, id, sizeof(key.id));
		if (RB_FIND(peer_tree, t, &key) != NULL)
			return (peer_err(err, errlen, "peer %zu: id %s "
			    "twice", i, id));
	}
	if ((p = peer_new(pk)) == NULL)
		return (peer_err(err, errlen, "out of memory"));

	if ((v = json_object_get(e, "name")) == NULL || !json_is_string(v)) {
		peer_err(err, errlen, "peer %zu (%s): no name, or not a "
		    "string", i, id);
		goto bad;
	}
	if (json_string_length(v) > 0 && peer_name_check(json_string_value(v),
	    json_string_length(v), ferr, sizeof(ferr)) == -1) {
		peer_err(err, errlen, "peer %zu (%s): bad name: %s", i, id,
		    ferr);
		goto bad;
	}
	(void)strlcpy(p->name, json_string_value(v), sizeof(p->name));

	if ((v = json_object_get(e, "address")) == NULL ||
	    !json_is_string(v)) {
		peer_err(err, errlen, "peer %zu (%s): no address, or not a "
		    "string", i, id);
		goto bad;
	}
	if (json_string_length(v) > 0 && peer_address_check(
	    json_string_value(v), json_string_length(v), ferr,
	    sizeof(ferr)) == -1) {
		peer_err(err, errlen, "peer %zu (%s): bad address: %s", i, id,
		    ferr);
		goto bad;
	}
	(void)strlcpy(p->address, json_string_value(v), sizeof(p->address));

	if ((v = json_object_get(e, "pinned")) == NULL ||
	    !json_is_boolean(v)) {
		peer_err(err, errlen, "peer %zu (%s): no pinned, or not "
		    "true or false", i, id);
		goto bad;
	}
	p->pinned = json_is_true(v);
	if (p->pinned && p->address[0] == '\0') {
		peer_err(err, errlen, "peer %zu (%s): pinned, but no "
		    "address", i, id);
		goto bad;
	}

	if ((v = json_object_get(e, "access")) == NULL ||
	    !json_is_string(v)) {
		peer_err(err, errlen, "peer %zu (%s): no access, or not a "
		    "string", i, id);
		goto bad;
	}
	if (strlen(json_string_value(v)) != json_string_length(v) ||
	    peer_access_parse(json_string_value(v), &p->access) == -1) {
		peer_err(err, errlen, "peer %zu (%s): bad access \"%s\": "
		    "want none, observer or operator", i, id,
		    str_vis(vis, sizeof(vis), json_string_value(v),
		    json_string_length(v)));
		goto bad;
	}
	if (!p->pinned && p->access == ACCESS_NONE) {
		peer_err(err, errlen, "peer %zu (%s): neither pinned nor "
		    "allowed", i, id);
		goto bad;
	}

	if ((v = json_object_get(e, "tags")) == NULL || !json_is_array(v)) {
		peer_err(err, errlen, "peer %zu (%s): no tags, or not an "
		    "array", i, id);
		goto bad;
	}
	if (json_array_size(v) > PEER_TAGS_MAX) {
		peer_err(err, errlen, "peer %zu (%s): more than %d tags", i,
		    id, PEER_TAGS_MAX);
		goto bad;
	}
	json_array_foreach(v, j, tag) {
		if (!json_is_string(tag)) {
			peer_err(err, errlen, "peer %zu (%s): tag %zu is not "
			    "a string", i, id, j);
			goto bad;
		}
		s = json_string_value(tag);
		if (strlen(s) != json_string_length(tag) ||
		    peer_tag_check(s, json_string_length(tag), ferr,
		    sizeof(ferr)) == -1) {
			peer_err(err, errlen, "peer %zu (%s): tag %zu: %s", i,
			    id, j, strlen(s) != json_string_length(tag) ?
			    "a NUL byte" : ferr);
			goto bad;
		}
		for (k = 0; k < j; k++)
			if (strcmp(p->tags[k], s) == 0) {
				peer_err(err, errlen, "peer %zu (%s): tag "
				    "%zu twice", i, id, k);
				goto bad;
			}
		(void)strlcpy(p->tags[j], s, sizeof(p->tags[j]));
	}
	p->ntags = json_array_size(v);

	if ((v = json_object_get(e, "added")) == NULL ||
	    !json_is_integer(v) || json_integer_value(v) <= 0) {
		peer_err(err, errlen, "peer %zu (%s): bad added: want Unix "
		    "milliseconds, an integer > 0", i, id);
		goto bad;
	}
	p->added = json_integer_value(v);

	RB_INSERT(peer_tree, t, p);
	(*n)++;
	return (0);
 bad:
	peer_free(p);
	return (-1);
}

static int
peer_parse(const char *buf, size_t len, struct peer_tree *t,
    unsigned int *n, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *v, *e;
	json_int_t	 ver;
	size_t		 i;
	int		 rv = -1;

	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr)) == NULL)
		return (peer_err(err, errlen, "invalid JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column));
	if (!json_is_object(root)) {
		peer_err(err, errlen, "not a JSON object");
		goto done;
	}
	if ((v = json_object_get(root, "version")) == NULL ||
	    !json_is_integer(v)) {
		peer_err(err, errlen, "no version, or not an integer");
		goto done;
	}
	ver = json_integer_value(v);
	if (ver != PEERS_FORMAT_VERSION) {
		peer_err(err, errlen, "unknown format version %lld (this "
		    "lethd reads version %d)", (long long)ver,
		    PEERS_FORMAT_VERSION);
		goto done;
	}
	if ((v = json_object_get(root, "peers")) == NULL ||
	    !json_is_array(v)) {
		peer_err(err, errlen, "no peers, or not an array");
		goto done;
	}
	if (json_array_size(v) > PEERS_MAX) {
		peer_err(err, errlen, "more than %d peers", PEERS_MAX);
		goto done;
	}
	json_array_foreach(v, i, e) {
		if (peer_parse_one(e, i, t, n, err, errlen) == -1)
			goto done;
	}
	rv = 0;
 done:
	json_decref(root);
	return (rv);
}

static void
peer_tree_free(struct peer_tree *t)
{
	struct peer	*p, *next;

	RB_FOREACH_SAFE(p, peer_tree, t, next) {
		RB_REMOVE(peer_tree, t, p);
		peer_free(p);
	}
}

void
peer_clear(void)
{
	if (peer_in_txn)
		peer_undo_drop(1);
	peer_tree_free(&peer_tree);
	peer_n = 0;
}

const char *
peer_load_error(void)
{
	return (peer_bad[0] != '\0' ? peer_bad : NULL);
}

/*
 * Replace the registry with the file's.  A missing file is an empty
 * registry.  A bad one leaves the registry empty, is reported, and
 * blocks every write until a later load succeeds.
 */
int
peer_load(int dirfd, char *err, size_t errlen)
{
	struct peer_tree	 t = RB_INITIALIZER(&t);
	char			*buf, perr[PEER_ERR_MAX];
	size_t			 len;
	unsigned int		 n = 0;
	int			 rv;

	if (peer_in_txn)
		fatalx("peer_load inside a transaction");
	if (read_file_bounded(dirfd, PEERS_FILE, PEERS_FILE_MAX, &buf,
	    &len) == -1) {
		if (errno == ENOENT) {
			peer_clear();
			peer_bad[0] = '\0';
			return (0);
		}
		if (errno == EFBIG)
			(void)snprintf(perr, sizeof(perr), "larger than %d "
			    "bytes", PEERS_FILE_MAX);
		else
			(void)strlcpy(perr, strerror(errno), sizeof(perr));
		rv = -1;
	} else {
		rv = peer_parse(buf, len, &t, &n, perr, sizeof(perr));
		free(buf);
	}
	peer_clear();
	if (rv == -1) {
		peer_tree_free(&t);
		(void)snprintf(peer_bad, sizeof(peer_bad), "%s: %s",
		    PEERS_FILE, perr);
		return (peer_err(err, errlen, "%s", peer_bad));
	}
	peer_tree = t;
	peer_n = n;
	peer_bad[0] = '\0';
	return (0);
}

int
peer_reload_if_bad(int dirfd, char *err, size_t errlen)
{
	if (peer_bad[0] == '\0')
		return (0);
	if (peer_load(dirfd, err, errlen) == -1)
		return (-1);
	log_info("%s loads again: %u peers", PEERS_FILE, peer_n);
	return (0);
}

/* Atomically, mode 0600.  Returns 0, or -1 with errno set. */
int
peer_save(int dirfd)
{
	char	*s;
	int	 rv, saved;

	if (peer_bad[0] != '\0') {
		errno = EBADMSG;
		return (-1);
	}
	if ((s = peer_format()) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	rv = write_file_atomic(dirfd, PEERS_FILE, s, strlen(s), 0600);
	saved = errno;
	free(s);
	errno = saved;
	return (rv);
}
