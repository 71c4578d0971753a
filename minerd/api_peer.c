/*
 * The peer routes of the control API (api.c hands them here):
 *
 *	GET    /api/v1/peers			{"peers": [peer...]}
 *	POST   /api/v1/peers			{"address","publicKey","name"?,
 *						 "tags"?}: pin; or
 *						{"token","name"?}: pair
 *	POST   /api/v1/peers/import		{"peers": [{"address",
 *						 "publicKey","name"?,"tags"?}]}
 *	GET    /api/v1/peers/allowlist		{"controllers": [peer...]}
 *	POST   /api/v1/peers/allowlist		{"publicKey","role","name"?}
 *	DELETE /api/v1/peers/allowlist/{id}	deny
 *	GET    /api/v1/peers/{id}		peer
 *	DELETE /api/v1/peers/{id}		remove
 *	POST   /api/v1/peers/{id}/ping		{"id","rttMs"} (net.c)
 *	POST   /api/v1/peers/{id}/tags		{"tags": [tag...]}: add
 *						them; 200 peer
 *	DELETE /api/v1/peers/{id}/tags		{"tags": [tag...]} or
 *						?tag=T...: remove; 200 peer
 *	POST   /api/v1/node/pair		{"role"?,"address"?}: a token
 *
 * Fixed path segments win over {id}, and an id is exactly 32 lowercase
 * hex digits.  Every change is written to peers.json before it is
 * acknowledged; a write that fails undoes the change in memory (a
 * peer_txn), answers 500 with the reason, and loses nothing.  While
 * peers.json cannot be read, every route that would write it answers
 * 500 and the file is left for the operator to fix.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"

#define API_PEERS_PREFIX	"/api/v1/peers"
#define API_NODE_PAIR		"/api/v1/node/pair"
/* Room for a field name with an index: "peers[99999].publicKey". */
#define API_FIELD_MAX		64
/* Bytes of a bad value we echo back in an error, before escaping. */
#define API_ECHO_MAX		64

/* One import entry, checked before anything changes. */
struct api_import {
	uint8_t		 pk[32];
	const char	*address;
	const char	*name;
	const char	*tags[PEER_TAGS_MAX];
	unsigned int	 ntags;
	int		 has_tags;
};

static void	api_peer_list(struct evhttp_request *);
static void	api_peer_post(struct evhttp_request *);
static void	api_peer_import(struct evhttp_request *);
static void	api_peer_get(struct evhttp_request *, const char *);
static void	api_peer_delete(struct evhttp_request *, const char *);
static void	api_peer_ping(struct evhttp_request *, const char *);
static void	api_peer_tags(struct evhttp_request *, const char *);
static void	api_allow_list(struct evhttp_request *);
static void	api_allow_post(struct evhttp_request *);
static void	api_allow_delete(struct evhttp_request *, const char *);
static void	api_node_pair(struct evhttp_request *);
static int	api_peer_method(struct evhttp_request *, int, const char *,
		    const char *);
static int	api_peers_usable(struct evhttp_request *);
static void	api_peer_committed(struct evhttp_request *, int, json_t *);
static int	api_peer_not_self(struct evhttp_request *, const uint8_t *,
		    const char *);
static int	api_field_string(struct evhttp_request *, json_t *,
		    const char *, const char *, int, const char **);
static int	api_field_tags(struct evhttp_request *, json_t *,
		    const char *, struct api_import *);
static int	api_import_entry(struct evhttp_request *, json_t *, size_t,
		    struct api_import *);
static const char *api_echo(char *, size_t, const char *);

/* The request's path, if it is one of ours: api.c routes it here. */
int
api_peer_route(const char *path)
{
	size_t	 n = strlen(API_PEERS_PREFIX);

	if (strcmp(path, API_NODE_PAIR) == 0)
		return (1);
	return (strncmp(path, API_PEERS_PREFIX, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/'));
}

static const char *
api_echo(char *buf, size_t len, const char *s)
{
	return (str_vis(buf, len, s, strnlen(s, API_ECHO_MAX)));
}

/* 1 if the method is allowed; else a 405 was sent. */
static int
api_peer_method(struct evhttp_request *req, int allowed, const char *allow,
    const char *path)
{
	char	 vis[4 * API_ECHO_MAX + 1];

	if ((int)evhttp_request_get_command(req) & allowed)
		return (1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	api_error(req, 405, API_ERR_INVALID, "method not allowed on %s: use "
	    "%s", api_echo(vis, sizeof(vis), path), allow);
	return (0);
}

void
api_peer_dispatch(struct evhttp_request *req, const char *path)
{
	const char	*rest, *slash;
	char		 id[NODE_ID_LEN + 1];
	size_t		 n;

	if (strcmp(path, API_NODE_PAIR) == 0) {
		if (api_peer_method(req, EVHTTP_REQ_POST, "POST", path))
			api_node_pair(req);
		return;
	}
	n = strlen(API_PEERS_PREFIX);
	if (strncmp(path, API_PEERS_PREFIX, n) != 0)
		goto notfound;
	rest = path + n;
	if (*rest == '\0') {
		if (!api_peer_method(req, EVHTTP_REQ_GET | EVHTTP_REQ_POST,
		    "GET, POST", path))
			return;
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
			api_peer_list(req);
		else
			api_peer_post(req);
		return;
	}
	if (*rest++ != '/')
		goto notfound;

	/* fixed segments first */
	if (strcmp(rest, "import") == 0) {
		if (api_peer_method(req, EVHTTP_REQ_POST, "POST", path))
			api_peer_import(req);
		return;
	}
	if (strcmp(rest, "allowlist") == 0) {
		if (!api_peer_method(req, EVHTTP_REQ_GET | EVHTTP_REQ_POST,
		    "GET, POST", path))
			return;
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
			api_allow_list(req);
		else
			api_allow_post(req);
		return;
	}
	if (strncmp(rest, "allowlist/", 10) == 0) {
		if (strlen(rest + 10) != NODE_ID_LEN ||
		    peer_id_check(rest + 10) == -1)
			goto badid;
		if (api_peer_method(req, EVHTTP_REQ_DELETE, "DELETE", path))
			api_allow_delete(req, rest + 10);
		return;
	}

	/* then {id} and {id}/ping */
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n != NODE_ID_LEN)
		goto badid;
	memcpy(id, rest, NODE_ID_LEN);
	id[NODE_ID_LEN] = '\0';
	if (peer_id_check(id) == -1)
		goto badid;
	if (slash == NULL) {
		if (!api_peer_method(req, EVHTTP_REQ_GET | EVHTTP_REQ_DELETE,
		    "GET, DELETE", path))
			return;
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
			api_peer_get(req, id);
		else
			api_peer_delete(req, id);
		return;
	}
	if (strcmp(slash, "/ping") == 0) {
		if (api_peer_method(req, EVHTTP_REQ_POST, "POST", path))
			api_peer_ping(req, id);
		return;
	}
	if (strcmp(slash, "/tags") == 0) {
		if (api_peer_method(req, EVHTTP_REQ_POST | EVHTTP_REQ_DELETE,
		    "POST, DELETE", path))
			api_peer_tags(req, id);
		return;
	}
 notfound:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route");
	return;
 badid:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route: a peer id "
	    "is %d lowercase hex digits", NODE_ID_LEN);
}

/*
 * Helpers.
 */

/* Is the registry writable?  If not, a 500 was sent. */
static int
api_peers_usable(struct evhttp_request *req)
{
	char	 err[PEER_ERR_MAX];
	int	 was_bad = peer_load_error() != NULL;

	if (peer_reload_if_bad(env->statedir, err, sizeof(err)) == 0) {
		if (was_bad)
			net_registry_changed();
		return (1);
	}
	log_warnx("%s", err);
	api_error(req, 500, API_ERR_INTERNAL, "%s unreadable: fix or remove "
	    "it (%s)", PEERS_FILE, err);
	return (0);
}

/* Write the open transaction; answer status with obj, or 500. */
static void
api_peer_committed(struct evhttp_request *req, int status, json_t *obj)
{
	int	 saved;

	if (peer_txn_commit(env->statedir) == -1) {
		saved = errno;
		json_decref(obj);
		log_warn("write %s: change undone", PEERS_FILE);
		api_error(req, 500, API_ERR_INTERNAL, "cannot write %s: %s: "
		    "nothing changed", PEERS_FILE, strerror(saved));
		return;
	}
	net_registry_changed();
	api_reply(req, status, obj);
}

/* Refuse this node's own key; 1 if it is another's. */
static int
api_peer_not_self(struct evhttp_request *req, const uint8_t *pk,
    const char *field)
{
	if (env->key_state == KEY_HAVE &&
	    memcmp(pk, env->key_pk, NODE_PK_LEN) == 0) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s: that is "
		    "this node's own key", field);
		return (0);
	}
	return (1);
}

/*
 * The string member key of o into *out (NULL if absent and optional).
 * 0, or -1 with a 400 sent naming field.
 */
static int
api_field_string(struct evhttp_request *req, json_t *o, const char *key,
    const char *field, int required, const char **out)
{
	json_t	*v;

	*out = NULL;
	if ((v = json_object_get(o, key)) == NULL) {
		if (!required)
			return (0);
		api_error(req, 400, API_ERR_INVALID, "missing %s", field);
		return (-1);
	}
	if (!json_is_string(v)) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s: not a "
		    "string", field);
		return (-1);
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s: a NUL byte",
		    field);
		return (-1);
	}
	*out = json_string_value(v);
	return (0);
}

/* "tags": an array of tags, into im. */
static int
api_field_tags(struct evhttp_request *req, json_t *o, const char *prefix,
    struct api_import *im)
{
	json_t		*v, *t;
	char		 err[PEER_ERR_MAX];
	size_t		 i, j;

	im->ntags = 0;
	im->has_tags = 0;
	if ((v = json_object_get(o, "tags")) == NULL)
		return (0);
	if (!json_is_array(v)) {
		api_error(req, 400, API_ERR_INVALID, "invalid %stags: not an "
		    "array", prefix);
		return (-1);
	}
	if (json_array_size(v) > PEER_TAGS_MAX) {
		api_error(req, 400, API_ERR_INVALID, "invalid %stags: more "
		    "than %d", prefix, PEER_TAGS_MAX);
		return (-1);
	}
	json_array_foreach(v, i, t) {
		if (!json_is_string(t) || strlen(json_string_value(t)) !=
		    json_string_length(t)) {
			api_error(req, 400, API_ERR_INVALID, "invalid "
			    "%stags[%zu]: not a string", prefix, i);
			return (-1);
		}
		if (peer_tag_check(json_string_value(t),
		    json_string_length(t), err, sizeof(err)) == -1) {
			api_error(req, 400, API_ERR_INVALID, "invalid "
			    "%stags[%zu]: %s", prefix, i, err);
			return (-1);
		}
		for (j = 0; j < i; j++)
			if (strcmp(im->tags[j], json_string_value(t)) == 0) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid %stags[%zu]: the same as "
				    "tags[%zu]", prefix, i, j);
				return (-1);
			}
		im->tags[i] = json_string_value(t);
	}
	im->ntags = json_array_size(v);
	im->has_tags = 1;
	return (0);
}

/*
 * One worker to pin, {address, publicKey, name?, tags?}: checked into
 * im, or -1 with a 400 sent.  prefix names it in messages ("" or
 * "peers[3].").
 */
static int
api_import_entry(struct evhttp_request *req, json_t *o, size_t i,
    struct api_import *im)
{
	const char	*key, *pk;
	char		 prefix[API_FIELD_MAX], field[API_FIELD_MAX];
	char		 err[PEER_ERR_MAX], vis[4 * API_ECHO_MAX + 1];
	json_t		*v;

	memset(im, 0, sizeof(*im));
	if (i == (size_t)-1)
		prefix[0] = '\0';
	else
		(void)snprintf(prefix, sizeof(prefix), "peers[%zu].", i);
	if (!json_is_object(o)) {
		api_error(req, 400, API_ERR_INVALID, "invalid peers[%zu]: not "
		    "an object", i);
		return (-1);
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "address") != 0 &&
		    strcmp(key, "publicKey") != 0 &&
		    strcmp(key, "name") != 0 && strcmp(key, "tags") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "%s\"%s\": want address, publicKey, name or tags",
			    prefix, api_echo(vis, sizeof(vis), key));
			return (-1);
		}
	}

	(void)snprintf(field, sizeof(field), "%saddress", prefix);
	if (api_field_string(req, o, "address", field, 1, &im->address) ==
	    -1)
		return (-1);
	if (peer_address_check(im->address, strlen(im->address), err,
	    sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s \"%s\": %s",
		    field, api_echo(vis, sizeof(vis), im->address), err);
		return (-1);
	}

	(void)snprintf(field, sizeof(field), "%spublicKey", prefix);
	if (api_field_string(req, o, "publicKey", field, 1, &pk) == -1)
		return (-1);
	if (peer_pk_parse(pk, strlen(pk), im->pk, err, sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s: %s", field,
		    err);
		return (-1);
	}
	if (!api_peer_not_self(req, im->pk, field))
		return (-1);

	(void)snprintf(field, sizeof(field), "%sname", prefix);
	if (api_field_string(req, o, "name", field, 0, &im->name) == -1)
		return (-1);
	if (im->name != NULL && peer_name_check(im->name, strlen(im->name),
	    err, sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid %s: %s", field,
		    err);
		return (-1);
	}
	return (api_field_tags(req, o, prefix, im));
}

/*
 * Handlers.
 */

static void
api_peer_list(struct evhttp_request *req)
{
	struct peer	*p;
	json_t		*arr, *o;

	if ((arr = json_array()) == NULL) {
		api_reply(req, 200, NULL);
		return;
	}
	for (p = peer_first(); p != NULL; p = peer_next(p)) {
		if ((o = peer_json(p)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			api_reply(req, 200, NULL);
			return;
		}
	}
	api_reply(req, 200, json_pack("{s:o}", "peers", arr));
}

static void
api_peer_get(struct evhttp_request *req, const char *id)
{
	struct peer	*p;

	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		return;
	}
	api_reply(req, 200, peer_json(p));
}

static void
api_peer_post(struct evhttp_request *req)
{
	struct api_import	 im;
	struct peer		*p;
	json_t			*body, *v;
	const char		*token, *name, *why;
	char			 err[PEER_ERR_MAX];
	int			 isnew;

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	if ((v = json_object_get(body, "token")) != NULL) {
		if (json_object_size(body) > 2 || (json_object_size(body) ==
		    2 && json_object_get(body, "name") == NULL)) {
			api_error(req, 400, API_ERR_INVALID, "give a token "
			    "(and a name), or an address and a publicKey, "
			    "not both");
			goto done;
		}
		if (api_field_string(req, body, "token", "token", 1,
		    &token) == -1 ||
		    api_field_string(req, body, "name", "name", 0,
		    &name) == -1)
			goto done;
		if (strlen(token) > PAIR_TOKEN_MAX ||
		    strncmp(token, PAIR_TOKEN_PREFIX,
		    strlen(PAIR_TOKEN_PREFIX)) != 0) {
			api_error(req, 400, API_ERR_INVALID, "invalid token: "
			    "want %s... as lethctl node pair prints it",
			    PAIR_TOKEN_PREFIX);
			goto done;
		}
		if (name != NULL && peer_name_check(name, strlen(name), err,
		    sizeof(err)) == -1) {
			api_error(req, 400, API_ERR_INVALID, "invalid name: "
			    "%s", err);
			goto done;
		}
		if (!api_peers_usable(req))
			goto done;
		/* net.c answers when the worker does */
		net_pair_with(req, token, name);
		goto done;
	}

	if (api_import_entry(req, body, (size_t)-1, &im) == -1)
		goto done;
	if (!api_peers_usable(req))
		goto done;
	peer_txn_begin();
	isnew = peer_by_pk(im.pk) == NULL;
	if ((p = peer_add(im.pk, im.name, im.address, 1, ACCESS_NONE,
	    &why)) == NULL) {
		peer_txn_abort();
		api_error(req, 409, API_ERR_FAILED, "%s", why);
		goto done;
	}
	if (im.has_tags && peer_set_tags(p, im.tags, im.ntags, &why) == -1) {
		peer_txn_abort();
		api_error(req, 500, API_ERR_INTERNAL, "%s", why);
		goto done;
	}
	log_info("peer %s: pinned at %s", p->id, p->address);
	api_peer_committed(req, isnew ? 201 : 200, peer_json(p));
 done:
	json_decref(body);
}

static void
api_peer_import(struct evhttp_request *req)
{
	struct api_import	*ims = NULL;
	struct peer		*p;
	json_t			*body, *arr, *e;
	const char		*key, *why;
	char			 err[PEER_ERR_MAX], id[NODE_ID_LEN + 1];
	char			 vis[4 * API_ECHO_MAX + 1];
	size_t			 i, j, n, nnew = 0;

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, e) {
		if (strcmp(key, "peers") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want peers", api_echo(vis, sizeof(vis),
			    key));
			goto done;
		}
	}
	if ((arr = json_object_get(body, "peers")) == NULL ||
	    !json_is_array(arr)) {
		api_error(req, 400, API_ERR_INVALID, "%s peers: want an "
		    "array of {address, publicKey, name?, tags?}",
		    arr == NULL ? "missing" : "invalid");
		goto done;
	}
	if ((n = json_array_size(arr)) == 0) {
		api_error(req, 400, API_ERR_INVALID, "invalid peers: empty");
		goto done;
	}
	if (n > PEERS_MAX) {
		api_error(req, 400, API_ERR_INVALID, "invalid peers: more "
		    "than %d", PEERS_MAX);
		goto done;
	}
	if ((ims = calloc(n, sizeof(*ims))) == NULL) {
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		goto done;
	}

	/* every entry checked before anything changes */
	json_array_foreach(arr, i, e) {
		if (api_import_entry(req, e, i, &ims[i]) == -1)
			goto done;
		for (j = 0; j < i; j++)
			if (memcmp(ims[i].pk, ims[j].pk, 32) == 0) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid peers[%zu].publicKey: the same "
				    "key as peers[%zu]", i, j);
				goto done;
			}
		node_id(ims[i].pk, id);
		if ((p = peer_by_id(id)) != NULL &&
		    memcmp(p->pk, ims[i].pk, 32) != 0) {
			log_warnx("peer %s: key differs from the pinned key: "
			    "refusing; remove the peer first", id);
			api_error(req, 409, API_ERR_FAILED, "invalid "
			    "peers[%zu].publicKey: peer %s: key differs from "
			    "the pinned key: refusing; remove the peer first",
			    i, id);
			goto done;
		}
		if (p == NULL)
			nnew++;
	}
	if (peer_count() + nnew > PEERS_MAX) {
		api_error(req, 409, API_ERR_FAILED, "the registry holds at "
		    "most %d peers", PEERS_MAX);
		goto done;
	}
	if (!api_peers_usable(req))
		goto done;

	peer_txn_begin();
	for (i = 0; i < n; i++) {
		if ((p = peer_add(ims[i].pk, ims[i].name, ims[i].address, 1,
		    ACCESS_NONE, &why)) == NULL ||
		    (ims[i].has_tags && peer_set_tags(p, ims[i].tags,
		    ims[i].ntags, &why) == -1)) {
			peer_txn_abort();
			api_error(req, 409, API_ERR_FAILED, "peers[%zu]: %s: "
			    "nothing imported", i, why);
			goto done;
		}
	}
	log_info("imported %zu peers (%zu new)", n, nnew);
	api_peer_committed(req, 201, json_pack("{s:I}", "imported",
	    (json_int_t)n));
 done:
	free(ims);
	json_decref(body);
}

static void
api_peer_delete(struct evhttp_request *req, const char *id)
{
	struct peer	*p;

	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		return;
	}
	if (!api_peers_usable(req))
		return;
	/* the reload may have replaced the entry */
	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		return;
	}
	peer_txn_begin();
	peer_remove(p);
	if (peer_by_id(id) != NULL) {
		peer_txn_abort();
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	log_info("peer %s: removed", id);
	api_peer_committed(req, 200, json_object());
}

static void
api_peer_ping(struct evhttp_request *req, const char *id)
{
	struct peer	*p;

	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		return;
	}
	net_ping(req, p);
}

/*
 * Tags of a peer: POST adds those of {"tags": [..]} that it lacks,
 * DELETE removes those of the body or of ?tag=T (repeatable); a tag it
 * does not carry is no error.  The result is written at once, all or
 * nothing, and the peer answered.
 */
static void
api_peer_tags(struct evhttp_request *req, const char *id)
{
	struct api_import	 im;
	const struct evhttp_uri	*uri;
	struct evkeyvalq	 q;
	struct evkeyval		*kv;
	struct peer		*p;
	json_t			*body = NULL, *v;
	const char		*key, *query = NULL, *why;
	const char		*set[PEER_TAGS_MAX];
	char			 tags[PEER_TAGS_MAX][PEER_TAG_MAX + 1];
	char			 err[PEER_ERR_MAX], vis[4 * API_ECHO_MAX + 1];
	unsigned int		 i, j, n = 0;
	int			 add;

	add = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	TAILQ_INIT(&q);
	memset(&im, 0, sizeof(im));
	if (!add && (uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		query = evhttp_uri_get_query(uri);
	if (query != NULL) {
		if (evhttp_parse_query_str(query, &q) == -1) {
			api_error(req, 400, API_ERR_INVALID, "invalid query "
			    "string");
			goto done;
		}
		TAILQ_FOREACH(kv, &q, next) {
			if (strcmp(kv->key, "tag") != 0) {
				api_error(req, 400, API_ERR_INVALID, "unknown "
				    "parameter \"%s\": want tag",
				    api_echo(vis, sizeof(vis), kv->key));
				goto done;
			}
			if (peer_tag_check(kv->value, strlen(kv->value), err,
			    sizeof(err)) == -1) {
				api_error(req, 400, API_ERR_INVALID, "invalid "
				    "tag \"%s\": %s", api_echo(vis,
				    sizeof(vis), kv->value), err);
				goto done;
			}
			if (im.ntags >= PEER_TAGS_MAX) {
				api_error(req, 400, API_ERR_INVALID, "invalid "
				    "tags: more than %d", PEER_TAGS_MAX);
				goto done;
			}
			im.tags[im.ntags++] = kv->value;
		}
	}
	if (im.ntags == 0) {
		if ((body = api_body(req, CTL_MAX_BODY, 0, err,
		    sizeof(err))) == NULL) {
			api_error(req, 400, API_ERR_INVALID, "%s", err);
			goto done;
		}
		json_object_foreach(body, key, v) {
			if (strcmp(key, "tags") != 0) {
				api_error(req, 400, API_ERR_INVALID, "unknown "
				    "field \"%s\": want tags", api_echo(vis,
				    sizeof(vis), key));
				goto done;
			}
		}
		if (api_field_tags(req, body, "", &im) == -1)
			goto done;
		if (!im.has_tags || im.ntags == 0) {
			api_error(req, 400, API_ERR_INVALID, "%s tags: want "
			    "{\"tags\": [tag...]}%s", im.has_tags ? "empty" :
			    "missing", add ? "" : " or ?tag=T");
			goto done;
		}
	}

	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		goto done;
	}
	if (!api_peers_usable(req))
		goto done;
	/* the reload may have replaced the entry */
	if ((p = peer_by_id(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no peer %s", id);
		goto done;
	}
	/* the new set, in its own buffers: peer_set_tags writes p->tags */
	for (i = 0; i < p->ntags; i++) {
		for (j = 0; !add && j < im.ntags; j++)
			if (strcmp(p->tags[i], im.tags[j]) == 0)
				break;
		if (add || j == im.ntags)
			(void)strlcpy(tags[n++], p->tags[i], sizeof(tags[0]));
	}
	for (j = 0; add && j < im.ntags; j++) {
		for (i = 0; i < n; i++)
			if (strcmp(tags[i], im.tags[j]) == 0)
				break;
		if (i < n)
			continue;
		if (n >= PEER_TAGS_MAX) {
			api_error(req, 409, API_ERR_FAILED, "peer %s would "
			    "carry more than %d tags", id, PEER_TAGS_MAX);
			goto done;
		}
		(void)strlcpy(tags[n++], im.tags[j], sizeof(tags[0]));
	}
	for (i = 0; i < n; i++)
		set[i] = tags[i];
	peer_txn_begin();
	if (peer_set_tags(p, set, n, &why) == -1) {
		peer_txn_abort();
		api_error(req, 500, API_ERR_INTERNAL, "%s", why);
		goto done;
	}
	log_info("peer %s: tags %s: now %u", id, add ? "added" : "removed",
	    n);
	api_peer_committed(req, 200, peer_json(p));
 done:
	evhttp_clear_headers(&q);
	json_decref(body);
}

static void
api_allow_list(struct evhttp_request *req)
{
	struct peer	*p;
	json_t		*arr, *o;

	if ((arr = json_array()) == NULL) {
		api_reply(req, 200, NULL);
		return;
	}
	for (p = peer_first(); p != NULL; p = peer_next(p)) {
		if (p->access == ACCESS_NONE)
			continue;
		if ((o = peer_json(p)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			api_reply(req, 200, NULL);
			return;
		}
	}
	api_reply(req, 200, json_pack("{s:o}", "controllers", arr));
}

static void
api_allow_post(struct evhttp_request *req)
{
	struct peer	*p;
	json_t		*body, *v;
	const char	*key, *pks, *role, *name, *why;
	char		 err[PEER_ERR_MAX], vis[4 * API_ECHO_MAX + 1];
	uint8_t		 pk[32];
	enum peer_access access;
	int		 isnew;

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "publicKey") != 0 &&
		    strcmp(key, "role") != 0 && strcmp(key, "name") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want publicKey, role or name",
			    api_echo(vis, sizeof(vis), key));
			goto done;
		}
	}
	if (api_field_string(req, body, "publicKey", "publicKey", 1,
	    &pks) == -1)
		goto done;
	if (peer_pk_parse(pks, strlen(pks), pk, err, sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid publicKey: %s",
		    err);
		goto done;
	}
	if (!api_peer_not_self(req, pk, "publicKey"))
		goto done;
	if (api_field_string(req, body, "role", "role", 1, &role) == -1)
		goto done;
	if (peer_access_parse(role, &access) == -1 ||
	    access == ACCESS_NONE) {
		api_error(req, 400, API_ERR_INVALID, "invalid role \"%s\": "
		    "want operator or observer", api_echo(vis, sizeof(vis),
		    role));
		goto done;
	}
	if (api_field_string(req, body, "name", "name", 0, &name) == -1)
		goto done;
	if (name != NULL && peer_name_check(name, strlen(name), err,
	    sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid name: %s", err);
		goto done;
	}
	if (!api_peers_usable(req))
		goto done;

	peer_txn_begin();
	isnew = peer_by_pk(pk) == NULL;
	if ((p = peer_add(pk, name, NULL, 0, access, &why)) == NULL) {
		peer_txn_abort();
		api_error(req, 409, API_ERR_FAILED, "%s", why);
		goto done;
	}
	log_info("peer %s: allowed as %s", p->id, peer_access_name(access));
	api_peer_committed(req, isnew ? 201 : 200, peer_json(p));
 done:
	json_decref(body);
}

static void
api_allow_delete(struct evhttp_request *req, const char *id)
{
	struct peer	*p;
	const char	*why;

	if (!api_peers_usable(req))
		return;
	if ((p = peer_by_id(id)) == NULL || p->access == ACCESS_NONE) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no controller %s on "
		    "the allow list", id);
		return;
	}
	peer_txn_begin();
	if (p->pinned) {
		if (peer_set_access(p, ACCESS_NONE, &why) == -1) {
			peer_txn_abort();
			api_error(req, 500, API_ERR_INTERNAL, "%s", why);
			return;
		}
	} else {
		peer_remove(p);
		if (peer_by_id(id) != NULL) {
			peer_txn_abort();
			api_error(req, 500, API_ERR_INTERNAL, "out of memory");
			return;
		}
	}
	log_info("peer %s: denied", id);
	api_peer_committed(req, 200, json_object());
}

static void
api_node_pair(struct evhttp_request *req)
{
	json_t		*body, *v;
	const char	*key, *role = NULL, *address = NULL;
	char		 err[PEER_ERR_MAX], vis[4 * API_ECHO_MAX + 1];
	char		 token[PAIR_TOKEN_MAX + 1];
	enum peer_access access = ACCESS_OPERATOR;
	long long	 expires = 0;

	if ((body = api_body(req, CTL_MAX_BODY, 1, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "role") != 0 && strcmp(key, "address") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want role or address",
			    api_echo(vis, sizeof(vis), key));
			goto done;
		}
	}
	if (api_field_string(req, body, "role", "role", 0, &role) == -1 ||
	    api_field_string(req, body, "address", "address", 0,
	    &address) == -1)
		goto done;
	if (role != NULL && (peer_access_parse(role, &access) == -1 ||
	    access == ACCESS_NONE)) {
		api_error(req, 400, API_ERR_INVALID, "invalid role \"%s\": "
		    "want operator or observer", api_echo(vis, sizeof(vis),
		    role));
		goto done;
	}
	if (address == NULL && env->conf.advertise[0] != '\0')
		address = env->conf.advertise;
	if (address == NULL) {
		api_error(req, 400, API_ERR_INVALID, "no address: pass "
		    "--address or set advertise in lethd.conf");
		goto done;
	}
	if (peer_address_check(address, strlen(address), err,
	    sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid address \"%s\": "
		    "%s", api_echo(vis, sizeof(vis), address), err);
		goto done;
	}
	if (!api_peers_usable(req))
		goto done;
	if (net_pair_open(access, address, token, sizeof(token),
	    &expires) == -1) {
		api_error(req, 409, API_ERR_FAILED, "no node identity: run "
		    "lethctl node init");
		goto done;
	}
	log_info("pairing open until %lld for a %s at %s", expires,
	    peer_access_name(access), address);
	api_reply(req, 201, json_pack("{s:s, s:I, s:s, s:s}",
	    "token", token,
	    "expiresAt", (json_int_t)expires,
	    "role", peer_access_name(access),
	    "address", address));
	explicit_bzero(token, sizeof(token));
 done:
	json_decref(body);
}
