/*
 * Checking the daemon's answers.  Nothing here trusts the body: JSON is
 * parsed with duplicate keys and NUL bytes refused, nesting is bounded,
 * every field is type- and range-checked, and every string is copied
 * out vis(3)-encoded.  Errors are written to the caller's buffer, never
 * printed: resp_parse and the extractors are driven by a fuzzer.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethctl.h"

static void	resp_err(char *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static void	resp_vis_msg(char *, size_t, const char *, size_t);
static int	resp_depth_ok(const json_t *, int);
static int	resp_string(const json_t *, const char *, char *, size_t,
		    size_t, char *, size_t);
static int	resp_integer(const json_t *, const char *, long long,
		    long long, long long *, char *, size_t);
static int	resp_proc(const json_t *, size_t, struct proc_info *, char *,
		    size_t);
static int	resp_listen(const json_t *, size_t, struct listen_info *,
		    char *, size_t);
static int	resp_number(const json_t *, const char *, double, double,
		    int, double *, char *, size_t);
static int	resp_bool(const json_t *, const char *, int *, char *,
		    size_t);
static int	resp_tags(const json_t *, char *, size_t, char *, size_t);

static void
resp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Escape at most RESP_ERRMSG_MAX bytes of s (len bytes long) into dst,
 * marking a cut with "...".
 */
static void
resp_vis_msg(char *dst, size_t dstlen, const char *s, size_t len)
{
	char	 buf[4 * RESP_ERRMSG_MAX + 1];
	int	 cut = 0;

	if (len > RESP_ERRMSG_MAX) {
		len = RESP_ERRMSG_MAX;
		cut = 1;
	}
	(void)strvisx(buf, s, len, RESP_VIS_FLAGS);
	(void)snprintf(dst, dstlen, "%s%s", buf, cut ? "..." : "");
}

/*
 * Is v nested at most RESP_MAX_DEPTH deep?  The recursion stops at the
 * limit, so its own depth is bounded whatever the input.
 */
static int
resp_depth_ok(const json_t *v, int depth)
{
	const char	*key;
	json_t		*child;
	size_t		 i;

	if (!json_is_object(v) && !json_is_array(v))
		return (1);
	if (depth >= RESP_MAX_DEPTH)
		return (0);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) {
			if (!resp_depth_ok(child, depth + 1))
				return (0);
		}
	} else {
		json_array_foreach(v, i, child) {
			if (!resp_depth_ok(child, depth + 1))
				return (0);
		}
	}
	return (1);
}

/*
 * Parse a response body.  Returns 0 with r->root an object for a 2xx
 * answer; -1 with a printable, one-line message in err otherwise: the
 * daemon's own error message for an error answer.
 */
int
resp_parse(const char *body, size_t len, long status, struct resp *r,
    char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *msg;
	char		 text[sizeof(jerr.text) * 4 + 1];

	memset(r, 0, sizeof(*r));
	r->status = status;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root != NULL && !resp_depth_ok(root, 0)) {
		json_decref(root);
		if (status >= 200 && status < 300) {
			resp_err(err, errlen, "bad response from daemon: "
			    "nested deeper than %d", RESP_MAX_DEPTH);
			return (-1);
		}
		root = NULL;
	}

	if (status >= 400 && status <= 599) {
		msg = json_is_object(root) ?
		    json_object_get(root, "error") : NULL;
		if (json_is_string(msg) && json_string_length(msg) > 0)
			resp_vis_msg(err, errlen, json_string_value(msg),
			    json_string_length(msg));
		else
			resp_err(err, errlen, "daemon error: HTTP %ld",
			    status);
		json_decref(root);
		return (-1);
	}
	if (status < 200 || status > 299) {
		json_decref(root);
		resp_err(err, errlen, "unexpected HTTP status %ld from daemon",
		    status);
		return (-1);
	}
	if (root == NULL) {
		/* jansson quotes the offending input: escape it too. */
		(void)strvisx(text, jerr.text, strnlen(jerr.text,
		    sizeof(jerr.text)), RESP_VIS_FLAGS);
		resp_err(err, errlen, "bad response from daemon: %s", text);
		return (-1);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		resp_err(err, errlen, "bad response from daemon: "
		    "not a JSON object");
		return (-1);
	}
	r->root = root;
	return (0);
}

void
resp_free(struct resp *r)
{
	json_decref(r->root);
	r->root = NULL;
}

/*
 * Copy the string member key of obj, at most max raw bytes, into dst
 * (dstlen >= 4 * max + 1), vis-encoded.
 */
static int
resp_string(const json_t *obj, const char *key, char *dst, size_t dstlen,
    size_t max, char *err, size_t errlen)
{
	json_t	*v;
	size_t	 len;

	v = json_object_get(obj, key);
	if (!json_is_string(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" %s", key, v == NULL ? "missing" :
		    "is not a string");
		return (-1);
	}
	len = json_string_length(v);
	if (len > max || dstlen < 4 * len + 1) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" too long", key);
		return (-1);
	}
	(void)strvisx(dst, json_string_value(v), len, RESP_VIS_FLAGS);
	return (0);
}

static int
resp_integer(const json_t *obj, const char *key, long long min,
    long long max, long long *out, char *err, size_t errlen)
{
	json_t		*v;
	json_int_t	 n;

	v = json_object_get(obj, key);
	if (!json_is_integer(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" %s", key, v == NULL ? "missing" :
		    "is not an integer");
		return (-1);
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" out of range", key);
		return (-1);
	}
	*out = n;
	return (0);
}

/* A node info object: {version, id, name, publicKey, createdAt, role}. */
int
resp_node_info(const json_t *root, struct node_info *ni, char *err,
    size_t errlen)
{
	memset(ni, 0, sizeof(*ni));
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "node info is not an object");
		return (-1);
	}
	if (resp_string(root, "id", ni->id, sizeof(ni->id), RESP_STR_MAX,
	    err, errlen) == -1 ||
	    resp_string(root, "name", ni->name, sizeof(ni->name),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "publicKey", ni->public_key,
	    sizeof(ni->public_key), RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "role", ni->role, sizeof(ni->role),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_integer(root, "createdAt", 0, RESP_MAX_TIME_MS,
	    &ni->created_ms, err, errlen) == -1)
		return (-1);
	return (0);
}

static int
resp_proc(const json_t *v, size_t i, struct proc_info *p, char *err,
    size_t errlen)
{
	char	 sub[RESP_ERR_MAX];

	if (!json_is_object(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "process %zu is not an object", i);
		return (-1);
	}
	if (resp_string(v, "name", p->name, sizeof(p->name), RESP_STR_MAX,
	    sub, sizeof(sub)) == -1 ||
	    resp_integer(v, "pid", 0, INT32_MAX, &p->pid, sub,
	    sizeof(sub)) == -1 ||
	    resp_integer(v, "uid", 0, UINT32_MAX, &p->uid, sub,
	    sizeof(sub)) == -1 ||
	    resp_integer(v, "uptime", 0, INT64_MAX, &p->uptime, sub,
	    sizeof(sub)) == -1 ||
	    resp_integer(v, "restarts", 0, UINT32_MAX, &p->restarts, sub,
	    sizeof(sub)) == -1) {
		resp_err(err, errlen, "%s (process %zu)", sub, i);
		return (-1);
	}
	return (0);
}

static int
resp_listen(const json_t *v, size_t i, struct listen_info *l, char *err,
    size_t errlen)
{
	char		 sub[RESP_ERR_MAX];
	long long	 port;

	if (!json_is_object(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "listener %zu is not an object", i);
		return (-1);
	}
	if (resp_string(v, "address", l->address, sizeof(l->address),
	    RESP_STR_MAX, sub, sizeof(sub)) == -1 ||
	    resp_integer(v, "port", 0, UINT16_MAX, &port, sub,
	    sizeof(sub)) == -1) {
		resp_err(err, errlen, "%s (listener %zu)", sub, i);
		return (-1);
	}
	l->port = (int)port;
	return (0);
}

/*
 * A status object: {node: {id, name} or null, processes: [..],
 * listen: [..], socket}.
 */
int
resp_status(const json_t *root, struct status_info *st, char *err,
    size_t errlen)
{
	json_t	*node, *procs, *listen, *v;
	size_t	 i;

	memset(st, 0, sizeof(*st));
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "status is not an object");
		return (-1);
	}

	node = json_object_get(root, "node");
	if (node == NULL || (!json_is_null(node) && !json_is_object(node))) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"node\" %s", node == NULL ? "missing" :
		    "is not an object");
		return (-1);
	}
	if (json_is_object(node)) {
		if (resp_string(node, "id", st->node_id, sizeof(st->node_id),
		    RESP_STR_MAX, err, errlen) == -1 ||
		    resp_string(node, "name", st->node_name,
		    sizeof(st->node_name), RESP_STR_MAX, err, errlen) == -1)
			return (-1);
		st->has_node = 1;
	}

	procs = json_object_get(root, "processes");
	if (!json_is_array(procs)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"processes\" %s", procs == NULL ? "missing" :
		    "is not an array");
		return (-1);
	}
	if (json_array_size(procs) > RESP_MAX_PROCS) {
		resp_err(err, errlen, "bad response from daemon: "
		    "more than %d processes", RESP_MAX_PROCS);
		return (-1);
	}
	json_array_foreach(procs, i, v) {
		if (resp_proc(v, i, &st->procs[i], err, errlen) == -1)
			return (-1);
	}
	st->nprocs = json_array_size(procs);

	listen = json_object_get(root, "listen");
	if (!json_is_array(listen)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"listen\" %s", listen == NULL ? "missing" :
		    "is not an array");
		return (-1);
	}
	if (json_array_size(listen) > RESP_MAX_LISTEN) {
		resp_err(err, errlen, "bad response from daemon: "
		    "more than %d listeners", RESP_MAX_LISTEN);
		return (-1);
	}
	json_array_foreach(listen, i, v) {
		if (resp_listen(v, i, &st->listen[i], err, errlen) == -1)
			return (-1);
	}
	st->nlisten = json_array_size(listen);

	return (resp_string(root, "socket", st->socket, sizeof(st->socket),
	    RESP_PATH_MAX, err, errlen));
}

/*
 * Peers.
 */

/* A JSON number (integer or real) member in [min, max]; null gives -1
 * when null_ok. */
static int
resp_number(const json_t *obj, const char *key, double min, double max,
    int null_ok, double *out, char *err, size_t errlen)
{
	json_t	*v;
	double	 d;

	v = json_object_get(obj, key);
	if (null_ok && json_is_null(v)) {
		*out = -1;
		return (0);
	}
	if (!json_is_number(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" %s", key, v == NULL ? "missing" :
		    "is not a number");
		return (-1);
	}
	d = json_number_value(v);
	if (!(d >= min && d <= max)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" out of range", key);
		return (-1);
	}
	*out = d;
	return (0);
}

static int
resp_bool(const json_t *obj, const char *key, int *out, char *err,
    size_t errlen)
{
	json_t	*v;

	v = json_object_get(obj, key);
	if (!json_is_boolean(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" %s", key, v == NULL ? "missing" :
		    "is not true or false");
		return (-1);
	}
	*out = json_is_true(v);
	return (0);
}

/* tags: an array of strings, joined with ", " and vis-encoded. */
static int
resp_tags(const json_t *obj, char *dst, size_t dstlen, char *err,
    size_t errlen)
{
	json_t	*v, *t;
	char	 one[4 * RESP_TAG_MAX + 1];
	size_t	 i;

	dst[0] = '\0';
	v = json_object_get(obj, "tags");
	if (!json_is_array(v)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"tags\" %s", v == NULL ? "missing" : "is not an array");
		return (-1);
	}
	if (json_array_size(v) > RESP_MAX_TAGS) {
		resp_err(err, errlen, "bad response from daemon: "
		    "more than %d tags", RESP_MAX_TAGS);
		return (-1);
	}
	json_array_foreach(v, i, t) {
		if (!json_is_string(t) ||
		    json_string_length(t) > RESP_TAG_MAX) {
			resp_err(err, errlen, "bad response from daemon: "
			    "tag %zu is not a short string", i);
			return (-1);
		}
		(void)strvisx(one, json_string_value(t),
		    json_string_length(t), RESP_VIS_FLAGS);
		if (i > 0)
			(void)strlcat(dst, ", ", dstlen);
		(void)strlcat(dst, one, dstlen);
	}
	return (0);
}

/*
 * A peer: {id, name, address, publicKey, role, access, pinned,
 * connected, pingMs (null: unknown), score, lastSeen (null: never),
 * added, tags}.
 */
int
resp_peer(const json_t *root, struct peer_info *pi, char *err,
    size_t errlen)
{
	json_t		*v;
	long long	 n;

	memset(pi, 0, sizeof(*pi));
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "peer is not an object");
		return (-1);
	}
	if (resp_string(root, "id", pi->id, sizeof(pi->id), RESP_STR_MAX,
	    err, errlen) == -1 ||
	    resp_string(root, "name", pi->name, sizeof(pi->name),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "address", pi->address, sizeof(pi->address),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "publicKey", pi->public_key,
	    sizeof(pi->public_key), RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "role", pi->role, sizeof(pi->role),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "access", pi->access, sizeof(pi->access),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_bool(root, "pinned", &pi->pinned, err, errlen) == -1 ||
	    resp_bool(root, "connected", &pi->connected, err, errlen) == -1 ||
	    resp_number(root, "pingMs", 0, RESP_MAX_RTT_MS, 1, &pi->ping_ms,
	    err, errlen) == -1 ||
	    resp_integer(root, "score", 0, 100, &pi->score, err,
	    errlen) == -1 ||
	    resp_integer(root, "added", 0, RESP_MAX_TIME_MS, &pi->added, err,
	    errlen) == -1 ||
	    resp_tags(root, pi->tags, sizeof(pi->tags), err, errlen) == -1)
		return (-1);
	v = json_object_get(root, "lastSeen");
	if (json_is_null(v))
		pi->last_seen = 0;
	else {
		if (resp_integer(root, "lastSeen", 1, RESP_MAX_TIME_MS, &n,
		    err, errlen) == -1)
			return (-1);
		pi->last_seen = n;
	}
	return (0);
}

int
resp_peer_list(const json_t *root, const char *key, const json_t **arrp,
    char *err, size_t errlen)
{
	struct peer_info	*pi;
	json_t			*arr, *v;
	char			 sub[RESP_ERR_MAX];
	size_t			 i;

	*arrp = NULL;
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "not an object");
		return (-1);
	}
	arr = json_object_get(root, key);
	if (!json_is_array(arr)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "\"%s\" %s", key, arr == NULL ? "missing" :
		    "is not an array");
		return (-1);
	}
	if (json_array_size(arr) > RESP_MAX_PEERS) {
		resp_err(err, errlen, "bad response from daemon: "
		    "more than %d peers", RESP_MAX_PEERS);
		return (-1);
	}
	/* tens of kilobytes: not on the stack */
	if ((pi = malloc(sizeof(*pi))) == NULL) {
		resp_err(err, errlen, "out of memory");
		return (-1);
	}
	json_array_foreach(arr, i, v) {
		if (resp_peer(v, pi, sub, sizeof(sub)) == -1) {
			resp_err(err, errlen, "%s (peer %zu)", sub, i);
			free(pi);
			return (-1);
		}
	}
	free(pi);
	*arrp = arr;
	return (0);
}

/* {token, expiresAt, role, address} */
int
resp_pair(const json_t *root, struct pair_info *pa, char *err,
    size_t errlen)
{
	memset(pa, 0, sizeof(*pa));
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "not an object");
		return (-1);
	}
	if (resp_string(root, "token", pa->token, sizeof(pa->token),
	    RESP_TOKEN_MAX, err, errlen) == -1 ||
	    resp_integer(root, "expiresAt", 0, RESP_MAX_TIME_MS,
	    &pa->expires_ms, err, errlen) == -1 ||
	    resp_string(root, "role", pa->role, sizeof(pa->role),
	    RESP_STR_MAX, err, errlen) == -1 ||
	    resp_string(root, "address", pa->address, sizeof(pa->address),
	    RESP_STR_MAX, err, errlen) == -1)
		return (-1);
	return (0);
}

/* {id, rttMs} */
int
resp_ping(const json_t *root, struct ping_info *pg, char *err,
    size_t errlen)
{
	memset(pg, 0, sizeof(*pg));
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "not an object");
		return (-1);
	}
	if (resp_string(root, "id", pg->id, sizeof(pg->id), RESP_STR_MAX,
	    err, errlen) == -1 ||
	    resp_number(root, "rttMs", 0, RESP_MAX_RTT_MS, 0, &pg->rtt_ms,
	    err, errlen) == -1)
		return (-1);
	return (0);
}

/* {imported} */
int
resp_import(const json_t *root, long long *n, char *err, size_t errlen)
{
	*n = 0;
	if (!json_is_object(root)) {
		resp_err(err, errlen, "bad response from daemon: "
		    "not an object");
		return (-1);
	}
	return (resp_integer(root, "imported", 0, RESP_MAX_PEERS, n, err,
	    errlen));
}
