/*
 * A worker serving its controllers' requests (DESIGN, Wire protocol).
 * net.c hands us every verified request from a key of our registry
 * except ping, pair and disconnect, which it answers itself.
 *
 * Each request is authorised by the sender's entry in our own allow
 * list (p->access) and nothing else: an operator may read and start,
 * stop and restart miners; an observer may only read (stats, logs,
 * profiles); a peer we only pinned (a worker of ours) may do nothing.
 * A refusal is an `error' answer, 1002 unauthorised, 1001 invalid or
 * 1003 not found, and one log line naming the peer, the type and the
 * reason; it changes nothing.  deploy from an operator is refused with
 * 1004 until deploy bundles exist.
 *
 * Reads are answered at once.  start_miner, stop_miner and
 * restart_miner are answered with miner_ack once the parent reported
 * the outcome (miner.c calls serve_done exactly once): ok true when
 * the miner started, stopped or restarted; ok false, with the reason,
 * when it was refused (a name in use, a request in progress on that
 * miner, the parent refused the binary) or timed out.  By then the
 * controller may be gone: the answer then fails to send (logged by
 * net.c) and nothing else happens.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "profile.h"
#include "miner.h"
#include "ring.h"
#include "serve.h"

/* Bytes a JSON string of a ring line costs at most beyond its own:
 * quotes, comma.  Ring lines are vis(3)-escaped ASCII, so only a
 * backslash and a quote grow (to two bytes each) when encoded. */
#define SERVE_STRING_COST(len)	(2 * (len) + 3)
/* The miner fields a stats answer carries (DESIGN), from miner_json. */
static const char *const serve_stats_keys[] = {
	"name", "type", "state", "hashrate", "shares", "rejected",
	"uptime", "pool", "algorithm", "readAt"
};
#define SERVE_STATS_NKEYS	\
	(sizeof(serve_stats_keys) / sizeof(serve_stats_keys[0]))

/* A start, stop or restart waiting for its outcome. */
struct serve_wait {
	uint8_t		 pk[32];
	char		 peer_id[NODE_ID_LEN + 1];
	char		 reply_to[MSG_UUID_LEN + 1];
	enum msg_type	 type;
	char		 miner[MINER_NAME_MAX + 1];
};

static long long	 serve_started;	/* mono seconds */

static void	serve_refuse(struct peer *, const struct msg *, int,
		    const char *, ...) __attribute__((__format__ (printf, 4,
		    5)));
static void	serve_answer(struct peer *, const struct msg *,
		    enum msg_type, json_t *);
static void	serve_stats(struct peer *, const struct msg *);
static void	serve_logs(struct peer *, const struct msg *,
		    const struct serve_req *);
static void	serve_profiles(struct peer *, const struct msg *);
static void	serve_control(struct peer *, const struct msg *,
		    const struct serve_req *);
static void	serve_done(void *, int, int, const char *,
		    const struct miner *);
static const char *serve_action(enum msg_type);
static const char *serve_node_name(void);

void
serve_init(void)
{
	serve_started = mono_secs();
}

void
serve_request(struct peer *p, const struct msg *m)
{
	struct serve_req	 r;
	char			 why[SERVE_WHY_MAX];

	if (!serve_allowed(p->access, m->type)) {
		serve_refuse(p, m, MSG_ERR_UNAUTHORISED, "%s",
		    p->access == ACCESS_NONE ? "not a controller of this node" :
		    p->access == ACCESS_OBSERVER ? "an observer may only read "
		    "(get_stats, get_logs, get_profiles)" :
		    "not a request this node serves");
		return;
	}
	if (m->type == MSG_DEPLOY) {
		serve_refuse(p, m, MSG_ERR_FAILED, "deploy bundles are not "
		    "supported by this node yet");
		return;
	}
	if (serve_parse(m->type, m->payload, &r, why, sizeof(why)) == -1) {
		serve_refuse(p, m, MSG_ERR_INVALID, "%s", why);
		return;
	}
	switch (m->type) {
	case MSG_GET_STATS:
		serve_stats(p, m);
		break;
	case MSG_GET_LOGS:
		serve_logs(p, m, &r);
		break;
	case MSG_GET_PROFILES:
		serve_profiles(p, m);
		break;
	case MSG_START_MINER:
	case MSG_STOP_MINER:
	case MSG_RESTART_MINER:
		serve_control(p, m, &r);
		break;
	default:
		/* serve_allowed let through only the types above */
		serve_refuse(p, m, MSG_ERR_INVALID, "not a request this node "
		    "serves");
		break;
	}
}

/* An `error' answer and its one log line; nothing else happens. */
static void
serve_refuse(struct peer *p, const struct msg *m, int code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 why[SERVE_WHY_MAX];

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("serve: %s from %s: refused (%d): %s", m->type_str, p->id,
	    code, why);
	net_reply_error(p, m, code, why);
}

/* A response, or error 1000 when it could not be built. */
static void
serve_answer(struct peer *p, const struct msg *m, enum msg_type type,
    json_t *payload)
{
	if (payload == NULL) {
		serve_refuse(p, m, MSG_ERR_INTERNAL, "cannot build the answer");
		return;
	}
	log_debug("serve: %s from %s: answered", m->type_str, p->id);
	(void)net_reply(p->pk, m->id, type, payload);
}

/* What node.json says we are called, or the default name. */
static const char *
serve_node_name(void)
{
	static struct node	 n;
	char			 err[128];

	if (env->statedir != -1 && node_load(env->statedir, &n, err,
	    sizeof(err)) == 0)
		return (n.name);
	return (api_default_name());
}

/*
 * get_stats -> stats {nodeId, nodeName, uptime, miners: [{name, type,
 * state, hashrate: {"10s", "60s", "15m"}, shares, rejected, uptime,
 * pool, algorithm, readAt}]}.  At most MINER_SLOTS_MAX miners of a few
 * KiB each: always within SERVE_PAYLOAD_MAX.
 */
json_t *
serve_stats_json(const char *node_id)
{
	struct miner	*mi;
	json_t		*o, *arr, *row, *full, *v;
	size_t		 i;
	long long	 up = serve_started > 0 ? mono_secs() - serve_started :
			    0;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (mi = miner_first(); mi != NULL; mi = miner_next(mi)) {
		if ((full = miner_json(mi)) == NULL ||
		    (row = json_object()) == NULL) {
			json_decref(full);
			json_decref(arr);
			return (NULL);
		}
		for (i = 0; i < SERVE_STATS_NKEYS; i++) {
			if ((v = json_object_get(full, serve_stats_keys[i])) ==
			    NULL)
				v = json_null();
			else
				json_incref(v);
			if (json_object_set_new(row, serve_stats_keys[i],
			    v) == -1)
				break;
		}
		json_decref(full);
		if (i < SERVE_STATS_NKEYS ||
		    json_array_append_new(arr, row) == -1) {
			json_decref(row);
			json_decref(arr);
			return (NULL);
		}
	}
	o = json_pack("{s:s, s:s, s:I, s:o}", "nodeId", node_id,
	    "nodeName", serve_node_name(), "uptime",
	    (json_int_t)(up > 0 ? up : 0), "miners", arr);
	return (o);
}

static void
serve_stats(struct peer *p, const struct msg *m)
{
	/* m->to is our own id: msg_verify made sure */
	serve_answer(p, m, MSG_STATS, serve_stats_json(m->to));
}

/*
 * get_logs {minerName, lines} -> logs {minerName, lines: [...],
 * hasMore}: the last lines, oldest first, as many as asked and as fit
 * in SERVE_PAYLOAD_MAX; hasMore when older lines were left out.
 */
static void
serve_logs(struct peer *p, const struct msg *m, const struct serve_req *r)
{
	struct miner	*mi;
	json_t		*o, *arr;
	const char	*s;
	size_t		 count, first, i, cost;
	int		 e = 0;

	if ((mi = miner_find(r->miner)) == NULL) {
		serve_refuse(p, m, MSG_ERR_NOT_FOUND, "no miner %s", r->miner);
		return;
	}
	count = mi->ring != NULL ? ring_count(mi->ring) : 0;
	/* newest first, until the count or the budget is reached */
	cost = 0;
	for (first = count; first > 0 && count - first < r->lines;
	    first--) {
		if ((s = ring_line(mi->ring, first - 1)) == NULL)
			break;
		if (cost + SERVE_STRING_COST(strlen(s)) > SERVE_PAYLOAD_MAX)
			break;
		cost += SERVE_STRING_COST(strlen(s));
	}
	if ((arr = json_array()) == NULL) {
		serve_answer(p, m, MSG_LOGS, NULL);
		return;
	}
	for (i = first; i < count; i++)
		if ((s = ring_line(mi->ring, i)) != NULL)
			e |= json_array_append_new(arr, json_string(s));
	if (e != 0) {
		json_decref(arr);
		serve_answer(p, m, MSG_LOGS, NULL);
		return;
	}
	o = json_pack("{s:s, s:o, s:b}", "minerName", mi->name, "lines", arr,
	    "hasMore", first > 0);
	serve_answer(p, m, MSG_LOGS, o);
}

/*
 * get_profiles -> profiles {profiles: [...], hasMore}: every profile
 * without its secrets (a pool password never leaves the node: a
 * profile says "passSet" instead), in id order, as many as fit in
 * budget bytes; hasMore when some were left out.
 */
json_t *
serve_profiles_json(size_t budget)
{
	struct profile	*pr;
	json_t		*arr, *o;
	size_t		 cost = 0, n;
	int		 more = 0;

	if ((arr = json_array()) == NULL)
		return (NULL);
	for (pr = profile_first(); pr != NULL; pr = profile_next(pr)) {
		if ((o = profile_to_json(pr, 0)) == NULL) {
			json_decref(arr);
			return (NULL);
		}
		/* the encoded size, and a comma */
		n = json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;
		if (cost + n > budget) {
			json_decref(o);
			more = 1;
			break;
		}
		cost += n;
		if (json_array_append_new(arr, o) == -1) {
			json_decref(arr);
			return (NULL);
		}
	}
	return (json_pack("{s:o, s:b}", "profiles", arr, "hasMore", more));
}

static void
serve_profiles(struct peer *p, const struct msg *m)
{
	serve_answer(p, m, MSG_PROFILES, serve_profiles_json(
	    SERVE_PAYLOAD_MAX));
}

/*
 * start_miner {profileId, name?}, stop_miner and restart_miner
 * {minerName} -> miner_ack, once miner.c knows the outcome.
 */
static void
serve_control(struct peer *p, const struct msg *m, const struct serve_req *r)
{
	struct serve_wait	*w;
	struct profile		*pr = NULL;
	struct miner		*mi = NULL;

	if (m->type == MSG_START_MINER) {
		if ((pr = profile_find(r->profile)) == NULL) {
			serve_refuse(p, m, MSG_ERR_NOT_FOUND, "no profile %s",
			    r->profile);
			return;
		}
	} else if ((mi = miner_find(r->miner)) == NULL) {
		serve_refuse(p, m, MSG_ERR_NOT_FOUND, "no miner %s",
		    r->miner);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("serve: calloc");
		serve_refuse(p, m, MSG_ERR_INTERNAL, "out of memory");
		return;
	}
	memcpy(w->pk, p->pk, sizeof(w->pk));
	(void)strlcpy(w->peer_id, p->id, sizeof(w->peer_id));
	(void)strlcpy(w->reply_to, m->id, sizeof(w->reply_to));
	w->type = m->type;
	(void)strlcpy(w->miner, r->miner[0] != '\0' ? r->miner : r->profile,
	    sizeof(w->miner));
	log_info("serve: %s %s for %s", serve_action(m->type), w->miner,
	    p->id);
	/* serve_done runs once, maybe before these return; w is its */
	switch (m->type) {
	case MSG_START_MINER:
		miner_start_cb(pr, r->miner[0] != '\0' ? r->miner : NULL,
		    serve_done, w);
		break;
	case MSG_STOP_MINER:
		miner_stop_cb(mi, serve_done, w);
		break;
	default:
		miner_restart_cb(mi, serve_done, w);
		break;
	}
}

static const char *
serve_action(enum msg_type type)
{
	switch (type) {
	case MSG_START_MINER:
		return ("start");
	case MSG_STOP_MINER:
		return ("stop");
	default:
		return ("restart");
	}
}

/*
 * The outcome: miner_ack {minerName, action, ok, state, message}.
 * state is the miner's after the outcome, null when this node holds
 * no miner of that name.
 */
static void
serve_done(void *arg, int status, int code, const char *message,
    const struct miner *mi)
{
	struct serve_wait	*w = arg;
	const char		*action = serve_action(w->type);
	json_t			*pl;
	char			 ok_msg[SERVE_WHY_MAX];

	if (mi == NULL)
		mi = miner_find(w->miner);
	if (message == NULL) {
		if (w->type == MSG_STOP_MINER)
			(void)strlcpy(ok_msg, "stopped", sizeof(ok_msg));
		else
			(void)snprintf(ok_msg, sizeof(ok_msg), "%s, pid %d",
			    w->type == MSG_START_MINER ? "started" :
			    "restarted", mi != NULL ? (int)mi->pid : 0);
		log_info("serve: %s %s for %s: done", action, w->miner,
		    w->peer_id);
	} else
		log_warnx("serve: %s %s for %s: failed (%d): %s", action,
		    w->miner, w->peer_id, status, message);
	pl = json_pack("{s:s, s:s, s:b, s:o, s:o}", "minerName", w->miner,
	    "action", action, "ok", message == NULL, "state", mi != NULL ?
	    json_string(miner_state_name(mi->state)) : json_null(),
	    "message", json_string_safe(message != NULL ? message : ok_msg));
	if (pl == NULL)
		log_warnx("serve: %s %s for %s: cannot build the answer",
		    action, w->miner, w->peer_id);
	else
		(void)net_reply(w->pk, w->reply_to, MSG_MINER_ACK, pl);
	free(w);
}
