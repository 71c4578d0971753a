/*
 * Peer selection.
 *
 * Each pinned worker is a point of four dimensions, pingMs (measured:
 * `peer ping', and a timer that pings every connected worker each
 * `select ping interval'), hops (1 over a direct session), geoKm (the
 * great-circle distance between our `location' and the one its pong
 * carries) and its score.  Each is normalised by its bound, clamped to
 * [0, 1] and weighted (lethd.conf(5), PEER SELECTION); an unknown value
 * counts as the worst.  The best peers are those nearest the origin,
 * found with a k-d tree (kdtree.c) built for each query: the values
 * change with every pong, and building is O(n log n).
 *
 * The timer's pings are spread over the interval, in id order, a batch
 * at a time (SELECT_PING_BATCH, at most every SELECT_PING_STEP_MIN_MS),
 * and at most SELECT_PINGS_INFLIGHT_MAX wait at once: pinging 10,000
 * workers at one instant would fill net.c's tables and keyd's queue
 * that an operator's `remote status --all' needs.
 *
 * Candidates are every pinned worker, connected or not: one that is not
 * connected has no known hops (the worst on that dimension), so it
 * ranks after an otherwise equal connected one, and its last pingMs and
 * geoKm still count.
 */

#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "kdtree.h"
#include "select.h"

/* The JSON names of the dimensions, in enum select_dim's order. */
static const char *const select_names[SELECT_DIMS] = {
	"pingMs", "hops", "geoKm", "score"
};

/* Timer pings of one batch, the shortest time between two batches and
 * the most waiting at once (well under net.c's PEERS_MAX room, so that
 * a fleet-wide operator call always fits beside them). */
#define SELECT_PING_BATCH		64
#define SELECT_PING_STEP_MIN_MS		10
#define SELECT_PINGS_INFLIGHT_MAX	1024

/* A timer ping in flight: its send time, for the round trip. */
struct select_ping {
	long long	 sent_us;	/* CLOCK_MONOTONIC */
};

/* Where the timer's round of pings stands. */
struct select_round {
	long long	 start_ms;	/* monotonic */
	int		 done;		/* every peer had its turn */
	char		 cursor[NODE_ID_LEN + 1];	/* last one; "" first */
	unsigned int	 quota;		/* peers a batch */
	unsigned int	 step_ms;	/* between batches */
};

static struct event		*select_ev;
static struct select_round	 select_rnd;
static unsigned int		 select_inflight;

static void	select_tick(int, short, void *);
static void	select_schedule(long long);
static void	select_round_start(long long);
static struct peer *select_after(const char *);
static void	select_ping_done(void *, struct peer *, const struct msg *,
		    int, const char *);

/* The parent checked every field; a bad one here is a broken parent. */
const char *
select_conf_check(const struct child_init *ci)
{
	int	 d;

	if (ci->has_location != 0 && ci->has_location != 1)
		return ("bad has_location");
	if (ci->lat_e6 < -90 * LOCATION_SCALE ||
	    ci->lat_e6 > 90 * LOCATION_SCALE ||
	    ci->lon_e6 < -180 * LOCATION_SCALE ||
	    ci->lon_e6 > 180 * LOCATION_SCALE)
		return ("location out of range");
	for (d = 0; d < SELECT_DIMS; d++)
		if (ci->select_bound[d] == 0)
			return ("a selection bound is 0");
	if (ci->select_ping_interval == 0)
		return ("select ping interval is 0");
	return (NULL);
}

json_t *
select_location_json(void)
{
	if (!env->conf.has_location)
		return (json_null());
	return (json_pack("{s:f,s:f}",
	    "lat", (double)env->conf.lat_e6 / LOCATION_SCALE,
	    "lon", (double)env->conf.lon_e6 / LOCATION_SCALE));
}

/* What a pong answering our ping tells about p. */
void
select_pong(struct peer *p, const struct msg *m, double rtt_ms)
{
	const char	*why = NULL;
	double		 lat, lon;
	int		 r;

	p->ping_ms = rtt_ms;
	p->hops = 1;
	r = select_location_parse(json_is_object(m->payload) ?
	    json_object_get(m->payload, "location") : NULL, &lat, &lon, &why);
	if (r == -1) {
		log_warnx("select: peer %s sent a bad location (%s): "
		    "ignored", p->id, why);
		return;
	}
	if (r == 0 || !env->conf.has_location) {
		p->geo_km = -1;
		return;
	}
	p->geo_km = select_haversine_km(
	    (double)env->conf.lat_e6 / LOCATION_SCALE,
	    (double)env->conf.lon_e6 / LOCATION_SCALE, lat, lon);
}

static long long
select_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
select_init(void)
{
	if ((select_ev = evtimer_new(ev_base, select_tick, NULL)) == NULL)
		fatal("select: evtimer_new");
	/* the first round one interval from now */
	select_rnd.done = 1;
	select_rnd.start_ms = select_mono_us() / 1000;
	select_schedule(env->conf.select_ping_interval * 1000LL);
}

static void
select_schedule(long long ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(select_ev, &tv) == -1)
		fatal("select: evtimer_add");
}

/* A new round: batches of quota peers every step_ms, to fill the
 * interval. */
static void
select_round_start(long long now)
{
	struct peer	*p;
	long long	 interval = env->conf.select_ping_interval * 1000LL;
	long long	 n = 0, batches, steps;

	for (p = peer_first(); p != NULL; p = peer_next(p))
		if (p->pinned)
			n++;
	batches = (n + SELECT_PING_BATCH - 1) / SELECT_PING_BATCH;
	if (batches < 1)
		batches = 1;
	steps = interval / SELECT_PING_STEP_MIN_MS;
	if (steps < 1)
		steps = 1;
	if (batches > steps)
		batches = steps;
	select_rnd.start_ms = now;
	select_rnd.done = 0;
	select_rnd.cursor[0] = '\0';
	select_rnd.quota = (n + batches - 1) / batches;
	if (select_rnd.quota < 1)
		select_rnd.quota = 1;
	select_rnd.step_ms = interval / batches;
}

/* The first peer after id in id order (id may have been removed). */
static struct peer *
select_after(const char *id)
{
	struct peer	*p;

	if (id[0] == '\0')
		return (peer_first());
	if ((p = peer_by_id(id)) != NULL)
		return (peer_next(p));
	for (p = peer_first(); p != NULL; p = peer_next(p))
		if (strcmp(p->id, id) > 0)
			break;
	return (p);
}

void
select_reconf(const struct child_init *ci)
{
	const char	*why;

	if ((why = select_conf_check(ci)) != NULL)
		fatalx("bad configuration from the parent: %s", why);
	env->conf.has_location = ci->has_location;
	env->conf.lat_e6 = ci->lat_e6;
	env->conf.lon_e6 = ci->lon_e6;
	memcpy(env->conf.select_weight, ci->select_weight,
	    sizeof(env->conf.select_weight));
	memcpy(env->conf.select_bound, ci->select_bound,
	    sizeof(env->conf.select_bound));
	if (env->conf.select_ping_interval != ci->select_ping_interval) {
		env->conf.select_ping_interval = ci->select_ping_interval;
		if (select_ev != NULL) {
			/* a new round one new interval from now */
			select_rnd.done = 1;
			select_rnd.start_ms = select_mono_us() / 1000;
			select_schedule(env->conf.select_ping_interval *
			    1000LL);
		}
	}
}

/*
 * Ping the next batch of connected pinned workers, to keep pingMs
 * fresh; each one once an interval.
 */
static void
select_tick(int fd, short ev, void *arg)
{
	struct peer		*p;
	struct select_ping	*sp;
	const char		*why;
	unsigned int		 timeout, n = 0, visited = 0;
	long long		 now = select_mono_us() / 1000;
	long long		 interval;
	json_t			*pl;

	(void)fd;
	(void)ev;
	(void)arg;
	interval = env->conf.select_ping_interval * 1000LL;
	if (select_rnd.done) {
		if (now - select_rnd.start_ms < interval) {
			select_schedule(select_rnd.start_ms + interval - now);
			return;
		}
		select_round_start(now);
	}
	timeout = env->conf.select_ping_interval * 1000U;
	if (timeout > SELECT_PING_TIMEOUT_MS)
		timeout = SELECT_PING_TIMEOUT_MS;
	for (p = select_after(select_rnd.cursor); p != NULL &&
	    visited < select_rnd.quota; p = peer_next(p)) {
		if (!p->pinned)
			continue;
		if (p->connected &&
		    select_inflight >= SELECT_PINGS_INFLIGHT_MAX)
			break;		/* this one goes in the next batch */
		visited++;
		(void)strlcpy(select_rnd.cursor, p->id,
		    sizeof(select_rnd.cursor));
		if (!p->connected)
			continue;
		if ((sp = malloc(sizeof(*sp))) == NULL) {
			log_warn("select: ping");
			break;
		}
		sp->sent_us = select_mono_us();
		if ((pl = json_pack("{s:I}", "sentAt",
		    (json_int_t)now_ms())) == NULL) {
			free(sp);
			break;
		}
		if (net_request(p, MSG_PING, pl, timeout, select_ping_done,
		    sp, &why) == -1) {
			log_debug("select: cannot ping %s: %s", p->id, why);
			free(sp);
			continue;
		}
		select_inflight++;
		n++;
	}
	if (n > 0)
		log_debug("select: pinged %u workers", n);
	if (p == NULL) {
		select_rnd.done = 1;
		select_schedule(select_rnd.start_ms + interval - now);
	} else
		select_schedule(select_rnd.step_ms);
}

static void
select_ping_done(void *arg, struct peer *p, const struct msg *m, int status,
    const char *why)
{
	struct select_ping	*sp = arg;

	select_inflight--;
	/* only a pong is a pong: never an error, whatever its status */
	if (status == 0 && m != NULL && m->type == MSG_PONG && p != NULL)
		select_pong(p, m, (select_mono_us() - sp->sent_us) / 1000.0);
	else if (p != NULL)
		log_debug("select: ping of %s: %d %s", p->id, status,
		    why != NULL ? why : "");
	free(sp);
}

static json_t *
select_dims_json(const double v[SELECT_DIMS])
{
	json_t	*o;
	int	 d;

	if ((o = json_object()) == NULL)
		return (NULL);
	for (d = 0; d < SELECT_DIMS; d++)
		if (json_object_set_new(o, select_names[d], json_real(v[d])) ==
		    -1) {
			json_decref(o);
			return (NULL);
		}
	return (o);
}

static json_t *
select_peer_json(const struct peer *p, double dist)
{
	int	 hops = PEER_HOPS(p);

	return (json_pack("{s:s,s:o,s:o,s:o,s:o,s:i,s:f}",
	    "id", p->id,
	    "name", json_string_safe(p->name),
	    "pingMs", p->ping_ms >= 0 ? json_real(p->ping_ms) : json_null(),
	    "hops", hops > 0 ? json_integer(hops) : json_null(),
	    "geoKm", p->geo_km >= 0 ? json_real(p->geo_km) : json_null(),
	    "score", p->score,
	    "distance", dist));
}

/*
 * The k best pinned workers: {"peers": [{id, name, pingMs, hops, geoKm,
 * score, distance}], "ideal": [0, 0, 0, 0], "weights", "bounds"}.
 */
json_t *
select_best_json(unsigned int k, char *err, size_t errlen)
{
	struct select_params	 sp;
	struct select_values	 sv;
	struct peer		*p, **cand = NULL;
	struct kdtree		*t = NULL;
	struct kd_result	*res = NULL;
	double			(*pts)[KD_DIMS] = NULL;
	double			 ideal[KD_DIMS] = { 0, 0, 0, 0 };
	json_t			*o = NULL, *arr, *v;
	size_t			 n = 0, nres, i;

	select_params_from(&env->conf, &sp);
	for (p = peer_first(); p != NULL; p = peer_next(p))
		if (p->pinned)
			n++;
	if (n > 0 && ((cand = reallocarray(NULL, n, sizeof(*cand))) ==
	    NULL || (pts = reallocarray(NULL, n, sizeof(*pts))) == NULL ||
	    (res = reallocarray(NULL, n < k ? n : k, sizeof(*res))) ==
	    NULL))
		goto fail;
	/* in id order, so that ties go to the smaller id */
	for (i = 0, p = peer_first(); p != NULL && i < n; p = peer_next(p)) {
		if (!p->pinned)
			continue;
		sv.ping_ms = p->ping_ms;
		sv.hops = PEER_HOPS(p);
		sv.geo_km = p->geo_km;
		sv.score = p->score;
		select_point(&sp, &sv, pts[i]);
		cand[i++] = p;
	}
	n = i;
	if ((t = kd_build((const double (*)[KD_DIMS])pts, n)) == NULL)
		goto fail;
	nres = kd_nearest(t, ideal, k, res);

	if ((arr = json_array()) == NULL)
		goto fail;
	o = json_pack("{s:o,s:[ffff],s:o,s:o}", "peers", arr,
	    "ideal", 0.0, 0.0, 0.0, 0.0,
	    "weights", select_dims_json(sp.weight),
	    "bounds", select_dims_json(sp.bound));
	if (o == NULL)
		goto fail;
	for (i = 0; i < nres; i++) {
		v = select_peer_json(cand[res[i].idx], sqrt(res[i].dist2));
		if (v == NULL || json_array_append_new(arr, v) == -1)
			goto fail;
	}
	kd_free(t);
	free(res);
	free(pts);
	free(cand);
	return (o);
 fail:
	(void)snprintf(err, errlen, "out of memory");
	json_decref(o);
	kd_free(t);
	free(res);
	free(pts);
	free(cand);
	return (NULL);
}
