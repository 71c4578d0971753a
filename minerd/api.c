/*
 * The routes of the control API, under /api/v1, and the requests that
 * wait on keyd or the parent.
 *
 *	GET  /api/v1/health	{"status":"ok","version":"0.1"}
 *	GET  /api/v1/node/info	node.json as it is on disk
 *	POST /api/v1/node/init	{"name"?, "role"?}: keyd makes the key
 *	GET  /api/v1/status	processes, listening ports, the socket
 *	/api/v1/peers*, /api/v1/node/pair: api_peer.c
 *	/api/v1/history/{miner}: api_history.c
 *	/api/v1/profiles*, /api/v1/miners*: api_miner.c
 *	/api/v1/remote*: api_remote.c
 *
 * A request that needs another process is parked in a small table
 * (API_PENDING_MAX) under a request id that the answer carries back,
 * with a timer: every parked request gets an answer, a 504 at worst.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"

struct minerd_env	*env;

enum api_pend_kind {
	PEND_FREE = 0,
	PEND_KEYGEN,
	PEND_STATUS
};

struct api_pending {
	enum api_pend_kind	 kind;
	uint32_t		 id;
	struct evhttp_request	*req;
	struct event		*timer;
	/* PEND_KEYGEN: what the caller asked for ("" is the default) */
	char			 name[NODE_NAME_MAX + 1];
	enum node_role		 role;
	/* PEND_STATUS: the processes so far */
	json_t			*procs;
	unsigned int		 nprocs;
};

struct api_route {
	const char	*path;
	int		 method;	/* EVHTTP_REQ_* */
	const char	*allow;		/* for the Allow header */
	void		(*handler)(struct evhttp_request *);
};

static void	api_health(struct evhttp_request *);
static void	api_node_info(struct evhttp_request *);
static void	api_node_init(struct evhttp_request *);
static void	api_status_get(struct evhttp_request *);

static const struct api_route api_routes[] = {
	{ "/api/v1/health", EVHTTP_REQ_GET, "GET", api_health },
	{ "/api/v1/node/info", EVHTTP_REQ_GET, "GET", api_node_info },
	{ "/api/v1/node/init", EVHTTP_REQ_POST, "POST", api_node_init },
	{ "/api/v1/status", EVHTTP_REQ_GET, "GET", api_status_get },
};
#define API_NROUTES	(sizeof(api_routes) / sizeof(api_routes[0]))

static struct api_pending	 api_pending[API_PENDING_MAX];
static uint32_t			 api_next_id;
static int			 api_stale_warned;

static struct api_pending *api_pend_new(enum api_pend_kind,
		    struct evhttp_request *, int);
static struct api_pending *api_pend_find(enum api_pend_kind, uint32_t);
static void	api_pend_done(struct api_pending *);
static void	api_pend_timeout(int, short, void *);
static int	api_node_current(struct node *, char *, size_t);
static int	api_node_sync(struct node *, char *, size_t);
static void	api_node_new(struct node *, const uint8_t *, const char *,
		    enum node_role);
static const char *api_method_name(enum evhttp_cmd_type);

const char *
api_default_name(void)
{
	if (env->conf.node_name[0] != '\0')
		return (env->conf.node_name);
	if (env->hostname[0] != '\0')
		return (env->hostname);
	return ("lethd");
}

unsigned int
api_npending(void)
{
	unsigned int	 i, n = 0;

	for (i = 0; i < API_PENDING_MAX; i++)
		if (api_pending[i].kind != PEND_FREE)
			n++;
	return (n);
}

static const char *
api_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_OPTIONS:
		return ("OPTIONS");
	case EVHTTP_REQ_TRACE:
		return ("TRACE");
	case EVHTTP_REQ_CONNECT:
		return ("CONNECT");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	}
	return ("unknown");
}

/* Route one request whose caller control.c has checked. */
void
api_dispatch(struct evhttp_request *req)
{
	const struct evhttp_uri	*uri;
	const char		*path = NULL;
	enum evhttp_cmd_type	 m;
	size_t			 i;

	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL)
		path = "";
	m = evhttp_request_get_command(req);
	if (api_select_route(path)) {
		api_select_dispatch(req, path);
		return;
	}
	if (api_peer_route(path)) {
		api_peer_dispatch(req, path);
		return;
	}
	if (api_history_route(path)) {
		api_history_dispatch(req, path);
		return;
	}
	if (api_miner_route(path)) {
		api_miner_dispatch(req, path);
		return;
	}
	if (api_remote_route(path)) {
		api_remote_dispatch(req, path);
		return;
	}
	for (i = 0; i < API_NROUTES; i++) {
		if (strcmp(path, api_routes[i].path) != 0)
			continue;
		if ((int)m != api_routes[i].method) {
			evhttp_add_header(
			    evhttp_request_get_output_headers(req), "Allow",
			    api_routes[i].allow);
			api_error(req, 405, API_ERR_INVALID,
			    "method %s not allowed on %s: use %s",
			    api_method_name(m), api_routes[i].path,
			    api_routes[i].allow);
			return;
		}
		api_routes[i].handler(req);
		return;
	}
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route");
}

/*
 * Parked requests.
 */

static struct api_pending *
api_pend_new(enum api_pend_kind kind, struct evhttp_request *req,
    int timeout)
{
	struct api_pending	*p = NULL;
	struct timeval		 tv;
	size_t			 i;

	for (i = 0; i < API_PENDING_MAX; i++)
		if (api_pending[i].kind == PEND_FREE) {
			p = &api_pending[i];
			break;
		}
	if (p == NULL)
		return (NULL);
	if (p->timer == NULL &&
	    (p->timer = evtimer_new(ev_base, api_pend_timeout, p)) == NULL) {
		log_warn("control: evtimer_new");
		return (NULL);
	}
	if (++api_next_id == 0)
		api_next_id = 1;
	p->kind = kind;
	p->id = api_next_id;
	p->req = req;
	p->name[0] = '\0';
	p->role = ROLE_DUAL;
	p->procs = NULL;
	p->nprocs = 0;
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	if (evtimer_add(p->timer, &tv) == -1) {
		log_warn("control: evtimer_add");
		p->kind = PEND_FREE;
		return (NULL);
	}
	return (p);
}

static struct api_pending *
api_pend_find(enum api_pend_kind kind, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < API_PENDING_MAX; i++)
		if (api_pending[i].kind == kind && api_pending[i].id == id)
			return (&api_pending[i]);
	return (NULL);
}

/* The request was answered (or is about to be): free the slot. */
static void
api_pend_done(struct api_pending *p)
{
	if (p->timer != NULL)
		evtimer_del(p->timer);
	json_decref(p->procs);
	p->procs = NULL;
	p->req = NULL;
	p->kind = PEND_FREE;
}

static void
api_pend_timeout(int fd, short event, void *arg)
{
	struct api_pending	*p = arg;
	struct evhttp_request	*req = p->req;
	enum api_pend_kind	 kind = p->kind;

	api_pend_done(p);
	if (kind == PEND_KEYGEN) {
		log_warnx("control: keyd did not answer a key request in "
		    "%d seconds", API_KEYGEN_TIMEOUT);
		api_error(req, 504, API_ERR_TIMEOUT, "keyd did not answer in "
		    "%d seconds", API_KEYGEN_TIMEOUT);
	} else if (kind == PEND_STATUS) {
		log_warnx("control: no status from the parent in %d seconds",
		    API_STATUS_TIMEOUT);
		api_error(req, 504, API_ERR_TIMEOUT, "no status from the "
		    "parent in %d seconds", API_STATUS_TIMEOUT);
	}
}

/*
 * The node identity.  keyd is the authority for the key; node.json
 * adds name, role and creation time.
 */

static void
api_node_new(struct node *n, const uint8_t *pk, const char *name,
    enum node_role role)
{
	memset(n, 0, sizeof(*n));
	n->version = NODE_FORMAT_VERSION;
	memcpy(n->pk, pk, NODE_PK_LEN);
	node_id(n->pk, n->id);
	(void)strlcpy(n->name, name[0] != '\0' ? name : api_default_name(),
	    sizeof(n->name));
	n->created_at = now_ms();
	n->role = role;
}

/*
 * Make node.json agree with keyd's key: create it when missing, put
 * keyd's key in it when it has another.  A file we cannot parse is
 * left alone (a newer lethd may have written it) and reported.
 */
static int
api_node_sync(struct node *n, char *err, size_t errlen)
{
	int	 r;

	if ((r = node_load(env->statedir, n, err, errlen)) == -1) {
		log_warnx("%s", err);
		return (-1);
	}
	if (r == 1) {
		api_node_new(n, env->key_pk, "", ROLE_DUAL);
		if (node_save(env->statedir, n) == -1) {
			(void)snprintf(err, errlen, "cannot write %s: %s",
			    LETHD_NODE_FILE, strerror(errno));
			log_warn("write %s", LETHD_NODE_FILE);
			return (-1);
		}
		log_info("node identity %s: wrote %s from keyd's key", n->id,
		    LETHD_NODE_FILE);
		return (0);
	}
	if (memcmp(n->pk, env->key_pk, NODE_PK_LEN) != 0) {
		log_warnx("%s key differs from keyd's: updating id and "
		    "publicKey (was id %s)", LETHD_NODE_FILE, n->id);
		memcpy(n->pk, env->key_pk, NODE_PK_LEN);
		node_id(n->pk, n->id);
		if (node_save(env->statedir, n) == -1) {
			(void)snprintf(err, errlen, "cannot write %s: %s",
			    LETHD_NODE_FILE, strerror(errno));
			log_warn("write %s", LETHD_NODE_FILE);
			return (-1);
		}
	}
	return (0);
}

/* Returns 0 and fills n, 1 when there is no identity, -1 with err. */
static int
api_node_current(struct node *n, char *err, size_t errlen)
{
	int	 r;

	switch (env->key_state) {
	case KEY_HAVE:
		return (api_node_sync(n, err, errlen));
	case KEY_NONE:
		if (!api_stale_warned &&
		    node_load(env->statedir, n, err, errlen) != 1) {
			log_warnx("%s exists but keyd has no key: no node "
			    "identity until lethctl node init",
			    LETHD_NODE_FILE);
			api_stale_warned = 1;
		}
		return (1);
	case KEY_UNKNOWN:
	default:
		/* keyd has not spoken yet: the file is all we have */
		if ((r = node_load(env->statedir, n, err, errlen)) == -1)
			log_warnx("%s", err);
		return (r);
	}
}

int
api_key_public(const struct key_public *kp)
{
	struct node	 n;
	char		 err[256];

	if (kp->has_key != 0 && kp->has_key != 1)
		return (-1);
	if (!kp->has_key) {
		if (env->key_state != KEY_NONE)
			api_stale_warned = 0;
		env->key_state = KEY_NONE;
		log_debug("keyd has no node key yet");
		(void)api_node_current(&n, err, sizeof(err));
		return (0);
	}
	env->key_state = KEY_HAVE;
	memcpy(env->key_pk, kp->pk, NODE_PK_LEN);
	(void)api_node_sync(&n, err, sizeof(err));
	return (0);
}

int
api_key_generated(const struct key_generated *kg)
{
	struct api_pending	*p;
	struct evhttp_request	*req = NULL;
	struct node		 n;
	char			 id[NODE_ID_LEN + 1], err[256];
	static const uint8_t	 zero[NODE_PK_LEN];

	if (kg->status != KEYGEN_OK && kg->status != KEYGEN_EXISTS &&
	    kg->status != KEYGEN_FAILED)
		return (-1);
	if ((p = api_pend_find(PEND_KEYGEN, kg->request)) != NULL)
		req = p->req;
	else
		log_debug("key request %u: answer after its client left",
		    kg->request);

	switch (kg->status) {
	case KEYGEN_OK:
		env->key_state = KEY_HAVE;
		memcpy(env->key_pk, kg->pk, NODE_PK_LEN);
		api_node_new(&n, kg->pk, p != NULL ? p->name : "",
		    p != NULL ? p->role : ROLE_DUAL);
		if (p != NULL)
			api_pend_done(p);
		if (node_save(env->statedir, &n) == -1) {
			int	 saved = errno;

			log_warn("node identity %s made, but write %s", n.id,
			    LETHD_NODE_FILE);
			if (req != NULL)
				api_error(req, 500, API_ERR_INTERNAL,
				    "node key made (id %s), but cannot write "
				    "%s: %s", n.id, LETHD_NODE_FILE,
				    strerror(saved));
			return (0);
		}
		log_info("node identity %s created: name \"%s\", role %s",
		    n.id, n.name, node_role_name(n.role));
		if (req != NULL)
			api_reply(req, 201, node_json(&n));
		break;
	case KEYGEN_EXISTS:
		if (memcmp(kg->pk, zero, NODE_PK_LEN) != 0) {
			env->key_state = KEY_HAVE;
			memcpy(env->key_pk, kg->pk, NODE_PK_LEN);
			(void)api_node_sync(&n, err, sizeof(err));
		}
		if (env->key_state == KEY_HAVE)
			node_id(env->key_pk, id);
		else
			(void)strlcpy(id, "unknown", sizeof(id));
		if (p != NULL)
			api_pend_done(p);
		if (req != NULL)
			api_error(req, 409, API_ERR_FAILED,
			    "node identity exists (id %s): replacing a key is "
			    "an offline act: see lethd -K", id);
		break;
	case KEYGEN_FAILED:
		if (p != NULL)
			api_pend_done(p);
		if (req != NULL)
			api_error(req, 500, API_ERR_INTERNAL,
			    "keyd could not make a key: see the log");
		break;
	}
	return (0);
}

/* keyd's pipe closed or was replaced: what it had in flight is lost. */
void
api_keyd_lost(void)
{
	struct evhttp_request	*req;
	size_t			 i;

	for (i = 0; i < API_PENDING_MAX; i++) {
		if (api_pending[i].kind != PEND_KEYGEN)
			continue;
		req = api_pending[i].req;
		api_pend_done(&api_pending[i]);
		api_error(req, 503, API_ERR_INTERNAL,
		    "keyd restarted: request lost, try again");
	}
}

/*
 * Status from the parent: one IMSG_STATUS per process, then
 * IMSG_STATUS_END.  The checks return why a struct is bad (the caller
 * treats that as a broken parent), or NULL.
 */

const char *
api_status_check(const struct proc_status *ps)
{
	if (ps->proc >= PROC_MAX)
		return ("process out of range");
	if (ps->pid < 0)
		return ("negative pid");
	if (ps->started < 0)
		return ("negative start time");
	return (NULL);
}

const char *
api_status_end_check(const struct status_end *se)
{
	size_t	 i;

	if (se->nlisten > NET_MAX_LISTEN)
		return ("too many listening sockets");
	for (i = 0; i < NET_MAX_LISTEN; i++)
		if (memchr(se->addr[i], '\0', sizeof(se->addr[i])) == NULL)
			return ("address not NUL-terminated");
	if (memchr(se->socket, '\0', sizeof(se->socket)) == NULL)
		return ("socket path not NUL-terminated");
	return (NULL);
}

/* -1: more processes than there are (a broken parent). */
int
api_status(const struct proc_status *ps)
{
	struct api_pending	*p;
	long long		 uptime = 0;
	json_t			*o;

	if ((p = api_pend_find(PEND_STATUS, ps->request)) == NULL) {
		log_debug("status %u: answer after its client left",
		    ps->request);
		return (0);
	}
	if (p->nprocs >= PROC_MAX)
		return (-1);
	p->nprocs++;
	if (ps->pid != 0) {
		uptime = (long long)time(NULL) - ps->started;
		if (uptime < 0)
			uptime = 0;
	}
	o = json_pack("{s:s, s:i, s:I, s:I, s:I}",
	    "name", proc_name(ps->proc),
	    "pid", (int)ps->pid,
	    "uid", (json_int_t)ps->uid,
	    "uptime", (json_int_t)uptime,
	    "restarts", (json_int_t)ps->restarts);
	if (o == NULL || json_array_append_new(p->procs, o) == -1)
		log_warnx("control: status: out of memory");
	return (0);
}

void
api_status_end(const struct status_end *se)
{
	struct api_pending	*p;
	struct evhttp_request	*req;
	struct node		 n;
	json_t			*o, *listen, *l, *node = NULL;
	char			 err[256];
	uint32_t		 i;

	if ((p = api_pend_find(PEND_STATUS, se->request)) == NULL) {
		log_debug("status %u: answer after its client left",
		    se->request);
		return;
	}
	req = p->req;
	if ((listen = json_array()) == NULL)
		goto oom;
	for (i = 0; i < se->nlisten; i++) {
		if ((l = json_object()) == NULL ||
		    json_array_append_new(listen, l) == -1 ||
		    json_object_set_new(l, "address",
		    json_string_safe(se->addr[i])) == -1 ||
		    json_object_set_new(l, "port",
		    json_integer(se->port[i])) == -1) {
			json_decref(listen);
			goto oom;
		}
	}
	if (api_node_current(&n, err, sizeof(err)) == 0)
		node = json_pack("{s:s, s:s}", "id", n.id, "name", n.name);
	if (node == NULL)
		node = json_null();
	o = json_pack("{s:o, s:O, s:o, s:o}",
	    "node", node,
	    "processes", p->procs,
	    "listen", listen,
	    "socket", json_string_safe(se->socket));
	api_pend_done(p);
	api_reply(req, 200, o);
	return;
 oom:
	api_pend_done(p);
	api_error(req, 500, API_ERR_INTERNAL, "out of memory");
}

/*
 * Handlers.
 */

static void
api_health(struct evhttp_request *req)
{
	api_reply(req, 200, json_pack("{s:s, s:s}", "status", "ok",
	    "version", LETHD_VERSION_STRING));
}

static void
api_node_info(struct evhttp_request *req)
{
	struct node	 n;
	char		 err[256];

	switch (api_node_current(&n, err, sizeof(err))) {
	case 0:
		api_reply(req, 200, node_json(&n));
		break;
	case 1:
		api_error(req, 404, API_ERR_NOT_FOUND,
		    "no node identity: run lethctl node init");
		break;
	default:
		api_error(req, 500, API_ERR_INTERNAL, "%s", err);
		break;
	}
}

static void
api_node_init(struct evhttp_request *req)
{
	struct api_pending	*p;
	json_t			*body, *v;
	const char		*key;
	char			 err[256], vis[64];
	char			 name[NODE_NAME_MAX + 1] = "";
	enum node_role		 role = ROLE_DUAL;

	if ((body = api_body(req, CTL_MAX_BODY, 1, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "name") == 0) {
			if (!json_is_string(v)) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid name: not a string");
				goto done;
			}
			if (node_name_check(json_string_value(v),
			    json_string_length(v), err, sizeof(err)) == -1) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid name: %s", err);
				goto done;
			}
			(void)strlcpy(name, json_string_value(v),
			    sizeof(name));
		} else if (strcmp(key, "role") == 0) {
			if (!json_is_string(v)) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid role: not a string");
				goto done;
			}
			if (node_role_parse(json_string_value(v), &role) ==
			    -1) {
				api_error(req, 400, API_ERR_INVALID,
				    "invalid role \"%s\": want controller, "
				    "worker or dual", str_vis(vis, sizeof(vis),
				    json_string_value(v),
				    json_string_length(v)));
				goto done;
			}
		} else {
			api_error(req, 400, API_ERR_INVALID,
			    "unknown field \"%s\": want name or role",
			    str_vis(vis, sizeof(vis), key, strlen(key)));
			goto done;
		}
	}

	if (!env->iev_keyd.open) {
		api_error(req, 503, API_ERR_INTERNAL, "keyd is not running");
		goto done;
	}
	if ((p = api_pend_new(PEND_KEYGEN, req, API_KEYGEN_TIMEOUT)) ==
	    NULL) {
		api_error(req, 503, API_ERR_INTERNAL,
		    "too many requests in flight: try again");
		goto done;
	}
	(void)strlcpy(p->name, name, sizeof(p->name));
	p->role = role;
	if (imsgev_compose(&env->iev_keyd, IMSG_KEY_GENERATE, 0, 0, -1,
	    &p->id, sizeof(p->id)) == -1) {
		log_warn("control: send to keyd");
		api_pend_done(p);
		api_error(req, 503, API_ERR_INTERNAL,
		    "keyd is not answering: try again");
		goto done;
	}
 done:
	json_decref(body);
}

static void
api_status_get(struct evhttp_request *req)
{
	struct api_pending	*p;

	if ((p = api_pend_new(PEND_STATUS, req, API_STATUS_TIMEOUT)) ==
	    NULL) {
		api_error(req, 503, API_ERR_INTERNAL,
		    "too many requests in flight: try again");
		return;
	}
	if ((p->procs = json_array()) == NULL) {
		api_pend_done(p);
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	if (imsgev_compose(&env->iev_parent, IMSG_STATUS_REQ, 0, 0, -1,
	    &p->id, sizeof(p->id)) == -1) {
		log_warn("control: send to the parent");
		api_pend_done(p);
		api_error(req, 503, API_ERR_INTERNAL,
		    "cannot ask the parent for status: try again");
		return;
	}
}
