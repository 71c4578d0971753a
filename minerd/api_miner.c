/*
 * The profile and miner routes of the control API (api.c hands them
 * here):
 *
 *	GET    /api/v1/profiles[?secrets=1]
 *		{"profiles": [profile...]}
 *	POST   /api/v1/profiles
 *		profile: add (409 if the id exists)
 *	GET    /api/v1/profiles/{id}[?secrets=1]
 *		profile
 *	PUT    /api/v1/profiles/{id}
 *		profile: replace, or add
 *	DELETE /api/v1/profiles/{id}
 *		remove (409 while a miner of it runs)
 *	GET    /api/v1/miners
 *		{"miners": [miner...], "pollSeconds": N}
 *	POST   /api/v1/miners
 *		{"profile", "name"?}: start (miner.c answers)
 *	DELETE /api/v1/miners/{name}
 *		stop
 *	POST   /api/v1/miners/{name}/restart
 *		restart
 *	GET    /api/v1/miners/{name}/stats
 *		miner, with "pollSeconds"
 *	GET    /api/v1/miners/{name}/logs[?lines=N]
 *		the last N lines (default 50, at most the ring's)
 *
 * Secrets: a profile's pool password leaves minerd only with
 * ?secrets=1; without it a profile carries "passSet" (true or false)
 * instead.  A PUT body without "pass" keeps the stored password, so
 * that a GET, an edit and a PUT never lose it nor need it; "pass": ""
 * clears it.  The id of a PUT is the path's (a body "id" must match).
 *
 * Every change is written to profiles.json before it is acknowledged;
 * a write that fails (a full disk) undoes the change in memory and
 * answers 500 with the reason.  A change to a profile applies to its
 * miners at their next start.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "name.h"
#include "util.h"
#include "minerd.h"
#include "profile.h"
#include "miner.h"

#define API_PROFILES_PREFIX	"/api/v1/profiles"
#define API_MINERS_PREFIX	"/api/v1/miners"
/* Lines of a log answer when the client names no number. */
#define API_LOGS_DEFAULT	50
/* Bytes of a bad value we echo back in an error, before escaping. */
#define API_MINER_ECHO		64

enum api_secrets {
	SECRETS_NO = 0,
	SECRETS_YES,
	SECRETS_BAD
};

static int	api_miner_method(struct evhttp_request *, int, const char *,
		    const char *);
static const char *api_miner_echo(char *, size_t, const char *);
static const char *api_query(struct evhttp_request *, const char *,
		    struct evkeyvalq *, int *);
static enum api_secrets api_secrets(struct evhttp_request *);
static int	api_profiles_usable(struct evhttp_request *);
static int	api_name_check(const char *);
static unsigned int api_poll_seconds(void);
static void	api_profile_list(struct evhttp_request *);
static void	api_profile_get(struct evhttp_request *, const char *);
static void	api_profile_write(struct evhttp_request *, const char *);
static void	api_profile_delete(struct evhttp_request *, const char *);
static void	api_miner_list(struct evhttp_request *);
static void	api_miner_start(struct evhttp_request *);
static void	api_miner_stats(struct evhttp_request *, struct miner *);
static void	api_miner_logs(struct evhttp_request *, struct miner *);

/* The request's path, if it is one of ours: api.c routes it here. */
int
api_miner_route(const char *path)
{
	size_t	 n;

	n = strlen(API_PROFILES_PREFIX);
	if (strncmp(path, API_PROFILES_PREFIX, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/'))
		return (1);
	n = strlen(API_MINERS_PREFIX);
	return (strncmp(path, API_MINERS_PREFIX, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/'));
}

static const char *
api_miner_echo(char *buf, size_t len, const char *s)
{
	return (str_vis(buf, len, s, strnlen(s, API_MINER_ECHO)));
}

/* 1 if the method is allowed; else a 405 was sent. */
static int
api_miner_method(struct evhttp_request *req, int allowed, const char *allow,
    const char *path)
{
	char	 vis[4 * API_MINER_ECHO + 1];

	if ((int)evhttp_request_get_command(req) & allowed)
		return (1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	api_error(req, 405, API_ERR_INVALID, "method not allowed on %s: use "
	    "%s", api_miner_echo(vis, sizeof(vis), path), allow);
	return (0);
}

/*
 * The value of the query parameter key, or NULL; *bad set when the
 * query does not parse.  q is the caller's, to clear.
 */
static const char *
api_query(struct evhttp_request *req, const char *key, struct evkeyvalq *q,
    int *bad)
{
	const struct evhttp_uri	*uri;
	const char		*query;

	TAILQ_INIT(q);
	*bad = 0;
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (query = evhttp_uri_get_query(uri)) == NULL)
		return (NULL);
	if (evhttp_parse_query_str(query, q) == -1) {
		*bad = 1;
		return (NULL);
	}
	return (evhttp_find_header(q, key));
}

static enum api_secrets
api_secrets(struct evhttp_request *req)
{
	struct evkeyvalq	 q;
	const char		*v;
	enum api_secrets	 rv = SECRETS_NO;
	int			 bad;

	v = api_query(req, "secrets", &q, &bad);
	if (bad || (v != NULL && strcmp(v, "0") != 0 &&
	    strcmp(v, "1") != 0))
		rv = SECRETS_BAD;
	else if (v != NULL && strcmp(v, "1") == 0)
		rv = SECRETS_YES;
	evhttp_clear_headers(&q);
	if (rv == SECRETS_BAD)
		api_error(req, 400, API_ERR_INVALID, "invalid secrets: want "
		    "?secrets=1 or ?secrets=0");
	return (rv);
}

/* Is the profile set writable?  If not, a 500 was sent. */
static int
api_profiles_usable(struct evhttp_request *req)
{
	char	 err[PROFILE_ERR_MAX + 64];

	if (profile_reload_if_bad(env->statedir, err, sizeof(err)) == 0)
		return (1);
	log_warnx("%s", err);
	api_error(req, 500, API_ERR_INTERNAL, "%s unreadable: fix or remove "
	    "it (%s)", PROFILES_FILE, err);
	return (0);
}

/* A miner name: as common/name.h has it, everywhere. */
static int
api_name_check(const char *s)
{
	return (miner_name_valid(s) ? 0 : -1);
}

static unsigned int
api_poll_seconds(void)
{
	return (env->conf.miner_poll > 0 ? env->conf.miner_poll :
	    MINER_POLL_DEFAULT);
}

void
api_miner_dispatch(struct evhttp_request *req, const char *path)
{
	struct miner	*m;
	const char	*rest, *slash;
	char		 seg[PROFILE_ID_MAX + 1];
	size_t		 n;
	int		 cmd = evhttp_request_get_command(req);

	n = strlen(API_PROFILES_PREFIX);
	if (strncmp(path, API_PROFILES_PREFIX, n) == 0) {
		rest = path + n;
		if (*rest == '\0') {
			if (!api_miner_method(req, EVHTTP_REQ_GET |
			    EVHTTP_REQ_POST, "GET, POST", path))
				return;
			if (cmd == EVHTTP_REQ_GET)
				api_profile_list(req);
			else
				api_profile_write(req, NULL);
			return;
		}
		rest++;
		if (profile_id_check(rest) == -1) {
			api_error(req, 404, API_ERR_NOT_FOUND, "no such "
			    "route: a profile id is 1 to %d letters, digits, "
			    "\".\", \"_\" or \"-\"", PROFILE_ID_MAX);
			return;
		}
		if (!api_miner_method(req, EVHTTP_REQ_GET | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE, "GET, PUT, DELETE", path))
			return;
		if (cmd == EVHTTP_REQ_GET)
			api_profile_get(req, rest);
		else if (cmd == EVHTTP_REQ_PUT)
			api_profile_write(req, rest);
		else
			api_profile_delete(req, rest);
		return;
	}

	n = strlen(API_MINERS_PREFIX);
	if (strncmp(path, API_MINERS_PREFIX, n) != 0)
		goto notfound;
	rest = path + n;
	if (*rest == '\0') {
		if (!api_miner_method(req, EVHTTP_REQ_GET | EVHTTP_REQ_POST,
		    "GET, POST", path))
			return;
		if (cmd == EVHTTP_REQ_GET)
			api_miner_list(req);
		else
			api_miner_start(req);
		return;
	}
	rest++;
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n > MINER_NAME_MAX)
		goto badname;
	memcpy(seg, rest, n);
	seg[n] = '\0';
	if (api_name_check(seg) == -1)
		goto badname;
	if (slash != NULL && strcmp(slash, "/restart") != 0 &&
	    strcmp(slash, "/stats") != 0 && strcmp(slash, "/logs") != 0)
		goto notfound;
	if (slash == NULL) {
		if (!api_miner_method(req, EVHTTP_REQ_DELETE, "DELETE", path))
			return;
	} else if (strcmp(slash, "/restart") == 0) {
		if (!api_miner_method(req, EVHTTP_REQ_POST, "POST", path))
			return;
	} else if (!api_miner_method(req, EVHTTP_REQ_GET, "GET", path))
		return;
	if ((m = miner_find(seg)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no miner %s", seg);
		return;
	}
	if (slash == NULL)
		miner_stop_req(req, m);
	else if (strcmp(slash, "/restart") == 0)
		miner_restart_req(req, m);
	else if (strcmp(slash, "/stats") == 0)
		api_miner_stats(req, m);
	else
		api_miner_logs(req, m);
	return;
 notfound:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route");
	return;
 badname:
	api_error(req, 404, API_ERR_NOT_FOUND, "no such route: a miner name "
	    "is 1 to %d letters, digits, \".\", \"_\" or \"-\", not \".\" "
	    "first", MINER_NAME_MAX);
}

/*
 * Profiles.
 */

static void
api_profile_list(struct evhttp_request *req)
{
	struct profile		*p;
	enum api_secrets	 sec;
	json_t			*arr, *o;

	if ((sec = api_secrets(req)) == SECRETS_BAD)
		return;
	if ((arr = json_array()) == NULL) {
		api_reply(req, 200, NULL);
		return;
	}
	for (p = profile_first(); p != NULL; p = profile_next(p)) {
		if ((o = profile_to_json(p, sec == SECRETS_YES)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			api_reply(req, 200, NULL);
			return;
		}
	}
	api_reply(req, 200, json_pack("{s:o}", "profiles", arr));
}

static void
api_profile_get(struct evhttp_request *req, const char *id)
{
	struct profile		*p;
	enum api_secrets	 sec;

	if ((sec = api_secrets(req)) == SECRETS_BAD)
		return;
	if ((p = profile_find(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no profile %s", id);
		return;
	}
	api_reply(req, 200, profile_to_json(p, sec == SECRETS_YES));
}

/* POST (id NULL: from the body, must be new) or PUT (id the path's). */
static void
api_profile_write(struct evhttp_request *req, const char *id)
{
	struct profile	*p, *old;
	json_t		*body, *v;
	char		 err[PROFILE_ERR_MAX + 128];
	int		 created;

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	/* tens of kilobytes: not on the stack */
	if ((p = malloc(sizeof(*p))) == NULL) {
		json_decref(body);
		api_error(req, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	if (id != NULL) {
		if ((v = json_object_get(body, "id")) == NULL) {
			if (json_object_set_new(body, "id",
			    json_string(id)) == -1) {
				api_error(req, 500, API_ERR_INTERNAL,
				    "out of memory");
				goto done;
			}
		} else if (!json_is_string(v) ||
		    strcmp(json_string_value(v), id) != 0) {
			api_error(req, 400, API_ERR_INVALID, "invalid id: "
			    "not the id in the path (%s)", id);
			goto done;
		}
	}
	if (profile_from_json(body, p, err, sizeof(err)) == -1) {
		api_error(req, 400, API_ERR_INVALID, "invalid profile: %s",
		    err);
		goto done;
	}
	if (!api_profiles_usable(req))
		goto done;
	old = profile_find(p->id);
	if (id == NULL && old != NULL) {
		api_error(req, 409, API_ERR_FAILED, "profile %s exists: "
		    "change it with PUT %s/%s", p->id, API_PROFILES_PREFIX,
		    p->id);
		goto done;
	}
	/* no "pass": keep the one there is */
	if (old != NULL && json_object_get(body, "pass") == NULL)
		(void)strlcpy(p->pass, old->pass, sizeof(p->pass));
	if (old == NULL && profile_count() >= PROFILES_MAX) {
		api_error(req, 409, API_ERR_FAILED, "there are %d profiles "
		    "already: remove one first", PROFILES_MAX);
		goto done;
	}
	if (profile_commit_put(env->statedir, p, &created, err,
	    sizeof(err)) == -1) {
		log_warnx("profile %s: %s", p->id, err);
		api_error(req, 500, API_ERR_INTERNAL, "%s", err);
		goto done;
	}
	log_info("profile %s: %s (%s)", p->id, created ? "added" : "changed",
	    p->type);
	api_reply(req, created ? 201 : 200, profile_to_json(p, 0));
 done:
	explicit_bzero(p, sizeof(*p));
	free(p);
	json_decref(body);
}

static void
api_profile_delete(struct evhttp_request *req, const char *id)
{
	struct miner	*m;
	char		 err[PROFILE_ERR_MAX + 128];

	if (!api_profiles_usable(req))
		return;
	if (profile_find(id) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no profile %s", id);
		return;
	}
	for (m = miner_first(); m != NULL; m = miner_next(m)) {
		if (strcmp(m->profile, id) != 0 ||
		    m->state == MINER_STOPPED || m->state == MINER_FAILED)
			continue;
		api_error(req, 409, API_ERR_FAILED, "profile %s is in use by "
		    "miner %s: stop it first", id, m->name);
		return;
	}
	switch (profile_commit_del(env->statedir, id, err, sizeof(err))) {
	case 0:
		log_info("profile %s: removed", id);
		api_reply(req, 200, json_object());
		break;
	case 1:
		api_error(req, 404, API_ERR_NOT_FOUND, "no profile %s", id);
		break;
	default:
		log_warnx("profile %s: %s", id, err);
		api_error(req, 500, API_ERR_INTERNAL, "%s", err);
		break;
	}
}

/*
 * Miners.
 */

static void
api_miner_list(struct evhttp_request *req)
{
	struct miner	*m;
	json_t		*arr, *o;

	if ((arr = json_array()) == NULL) {
		api_reply(req, 200, NULL);
		return;
	}
	for (m = miner_first(); m != NULL; m = miner_next(m)) {
		if ((o = miner_json(m)) == NULL ||
		    json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			api_reply(req, 200, NULL);
			return;
		}
	}
	api_reply(req, 200, json_pack("{s:o, s:I}", "miners", arr,
	    "pollSeconds", (json_int_t)api_poll_seconds()));
}

/* {"profile": id, "name"?: name} */
static void
api_miner_start(struct evhttp_request *req)
{
	struct profile	*p;
	json_t		*body, *v;
	const char	*key, *id = NULL, *name = NULL;
	char		 err[256], vis[4 * API_MINER_ECHO + 1];

	if ((body = api_body(req, CTL_MAX_BODY, 0, err, sizeof(err))) ==
	    NULL) {
		api_error(req, 400, API_ERR_INVALID, "%s", err);
		return;
	}
	json_object_foreach(body, key, v) {
		if (strcmp(key, "profile") != 0 && strcmp(key, "name") != 0) {
			api_error(req, 400, API_ERR_INVALID, "unknown field "
			    "\"%s\": want profile or name",
			    api_miner_echo(vis, sizeof(vis), key));
			goto done;
		}
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v)) {
			api_error(req, 400, API_ERR_INVALID, "invalid %s: not "
			    "a string", key);
			goto done;
		}
	}
	if ((v = json_object_get(body, "profile")) == NULL) {
		api_error(req, 400, API_ERR_INVALID, "missing profile");
		goto done;
	}
	id = json_string_value(v);
	if ((v = json_object_get(body, "name")) != NULL) {
		name = json_string_value(v);
		if (api_name_check(name) == -1) {
			api_error(req, 400, API_ERR_INVALID, "invalid name "
			    "\"%s\": want 1 to %d letters, digits, \".\", "
			    "\"_\" or \"-\", not \".\" first",
			    api_miner_echo(vis, sizeof(vis), name),
			    MINER_NAME_MAX);
			goto done;
		}
	}
	if (profile_id_check(id) == -1 || (p = profile_find(id)) == NULL) {
		api_error(req, 404, API_ERR_NOT_FOUND, "no profile %s",
		    api_miner_echo(vis, sizeof(vis), id));
		goto done;
	}
	if (name == NULL && strlen(p->id) > MINER_NAME_MAX) {
		api_error(req, 400, API_ERR_INVALID, "profile id %s is longer "
		    "than a miner name (%d bytes): give a name", p->id,
		    MINER_NAME_MAX);
		goto done;
	}
	/* miner.c answers once the parent has spoken */
	miner_start_req(req, p, name);
 done:
	json_decref(body);
}

/* A miner's row, with the poll interval its age is measured against. */
static void
api_miner_stats(struct evhttp_request *req, struct miner *m)
{
	json_t	*o;

	if ((o = miner_json(m)) == NULL) {
		api_reply(req, 200, NULL);
		return;
	}
	if (json_is_object(o) && json_object_set_new(o, "pollSeconds",
	    json_integer(api_poll_seconds())) == -1) {
		json_decref(o);
		o = NULL;
	}
	api_reply(req, 200, o);
}

static void
api_miner_logs(struct evhttp_request *req, struct miner *m)
{
	struct evkeyvalq	 q;
	const char		*v, *perr = NULL;
	json_t			*o;
	unsigned int		 max, n = API_LOGS_DEFAULT;
	int			 bad;

	max = env->conf.ring_lines > 0 ? env->conf.ring_lines :
	    RING_LINES_DEFAULT;
	v = api_query(req, "lines", &q, &bad);
	if (!bad && v != NULL)
		n = (unsigned int)strtonum(v, 1, max, &perr);
	evhttp_clear_headers(&q);
	if (bad || perr != NULL) {
		api_error(req, 400, API_ERR_INVALID, "invalid lines: want 1 "
		    "to %u", max);
		return;
	}
	if (n > max)
		n = max;
	if ((o = miner_logs_json(m, n)) != NULL && json_is_array(o))
		o = json_pack("{s:s, s:o}", "name", m->name, "lines", o);
	api_reply(req, 200, o);
}
