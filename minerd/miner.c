/*
 * Miner supervision, minerd's side.
 *
 * The parent owns the miner processes; minerd keeps a view of them by
 * slot (MINER_SLOTS_MAX), built only from what the parent reports:
 *
 *	IMSG_MINER_RECORD	a slot's run (after a spawn, a restart, and
 *				once per live slot when minerd starts: that
 *				is how a new minerd adopts running miners),
 *				with a duplicate of the output pipe
 *	IMSG_MINER_EXITED	the run ended: backoff, stopped or failed
 *	IMSG_MINER_REFUSED	a spawn was refused, with the reason
 *
 * minerd asks with IMSG_MINER_SPAWN (the driver's arguments and config
 * file), IMSG_MINER_STOP and IMSG_MINER_RESTART, by slot.  A request
 * of the control API (or of a controller, serve.c) waits on one of
 * those answers, parked on its slot with a timer: every parked request
 * gets its outcome exactly once, a 504 at worst.  Output lines go
 * into the slot's ring (ring.c), stats come from polls (poll.c) or
 * output lines, and the watchdog (watchdog.c) restarts a miner that
 * does not hash or answer.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "name.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "profile.h"
#include "ring.h"
#include "supervise.h"

#define MINER_ERR_MAX		512
/* Output escaped for a log line or JSON: str_vis's worst case. */
#define MINER_VIS_MAX(n)	((n) * 4 + 1)

static struct miner		 miners[MINER_SLOTS_MAX];
static struct miner_priv	 privs[MINER_SLOTS_MAX];
static struct event		*ev_autostart;

static void	miner_http_done(void *, int, int, const char *,
		    const struct miner *);
static void	miner_start(const struct profile *, const char *,
		    miner_done_cb, void *);
static void	miner_fail(miner_done_cb, void *, int, int, const char *,
		    ...) __attribute__((__format__ (printf, 5, 6)));
static int	miner_pick_port(uint16_t *);
static int	miner_port_used(uint16_t);
static struct miner *miner_free_slot(void);
static void	miner_clear(struct miner *);
static void	miner_new_run(struct miner *);
static void	miner_set_output(struct miner *, int);
static void	miner_close_output(struct miner *);
static void	miner_output(int, short, void *);
static void	miner_line(const char *, size_t, void *);
static void	miner_note(struct miner *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	miner_tick_start(struct miner *);
static void	miner_tick_stop(struct miner *);
static void	miner_tick(int, short, void *);
static int	miner_park(struct miner *, miner_done_cb, void *,
		    enum miner_pend, int);
static void	miner_pend_clear(struct miner *);
static void	miner_pend_reply(struct miner *, int);
static void	miner_pend_error(struct miner *, int, int, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
static void	miner_pend_timeout(int, short, void *);
static int	miner_send_slot(struct miner *, uint32_t);
static void	miner_autostart_run(int, short, void *);
static json_t	*miner_rate_json(double);
static json_t	*miner_vis_json(const char *);
static const char *miner_record_check(const struct miner_record *);

void
miner_init(void)
{
	uint32_t	 i;

	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		memset(&miners[i], 0, sizeof(miners[i]));
		memset(&privs[i], 0, sizeof(privs[i]));
		miners[i].slot = i;
		miners[i].priv = &privs[i];
		privs[i].fd = -1;
	}
}

unsigned int
miner_conf_poll(void)
{
	return (env->conf.miner_poll != 0 ? env->conf.miner_poll :
	    MINER_POLL_DEFAULT);
}

struct miner *
miner_by_slot(uint32_t slot)
{
	if (slot >= MINER_SLOTS_MAX || !miners[slot].used)
		return (NULL);
	return (&miners[slot]);
}

struct miner *
miner_find(const char *name)
{
	uint32_t	 i;

	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (miners[i].used && strcmp(miners[i].name, name) == 0)
			return (&miners[i]);
	return (NULL);
}

struct miner *
miner_first(void)
{
	return (miner_next(NULL));
}

struct miner *
miner_next(struct miner *m)
{
	uint32_t	 i = m == NULL ? 0 : m->slot + 1;

	for (; i < MINER_SLOTS_MAX; i++)
		if (miners[i].used)
			return (&miners[i]);
	return (NULL);
}

/* A process the parent reports as up, whose stats mean something. */
int
miner_live(const struct miner *m)
{
	return (m->used && m->pid > 0 && (m->state == MINER_RUNNING ||
	    m->state == MINER_STARTING));
}

/* An error for the caller, or for the log when there is none. */
static void
miner_fail(miner_done_cb cb, void *arg, int status, int code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[MINER_ERR_MAX];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cb != NULL)
		cb(arg, status, code, msg, NULL);
	else
		log_warnx("autostart: %s", msg);
}

/*
 * The control API's waiter: the outcome as an HTTP answer, the miner's
 * record on success.
 */
static void
miner_http_done(void *arg, int status, int code, const char *message,
    const struct miner *m)
{
	struct evhttp_request	*req = arg;

	if (message == NULL)
		api_reply(req, status, miner_json(m));
	else
		api_error(req, status, code, "%s", message);
}

/*
 * Starting.
 */

void
miner_start_req(struct evhttp_request *req, const struct profile *pr,
    const char *name)
{
	miner_start(pr, name, miner_http_done, req);
}

void
miner_start_cb(const struct profile *pr, const char *name,
    miner_done_cb done, void *arg)
{
	miner_start(pr, name, done, arg);
}

static void
miner_start(const struct profile *pr, const char *name, miner_done_cb cb,
    void *arg)
{
	struct miner		*m;
	struct miner_priv	*p;
	const struct driver	*drv;
	struct miner_spawn	*sp = NULL;
	struct miner_run	 run;
	struct iovec		 iov[2];
	uint8_t			 raw[MINER_TOKEN_LEN / 2];
	char			 err[MINER_ERR_MAX];
	char			*cbuf = NULL;
	size_t			 clen = 0;
	int			 niov;

	if (name == NULL || name[0] == '\0')
		name = pr->id;
	if (!miner_name_valid(name)) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "name: want 1 to "
		    "%d of [A-Za-z0-9._-], not starting with '.'",
		    MINER_NAME_MAX);
		return;
	}
	if ((m = miner_find(name)) != NULL) {
		if (m->state != MINER_FAILED && m->state != MINER_STOPPED) {
			miner_fail(cb, arg, 409, API_ERR_FAILED, "a miner "
			    "named %s exists (%s)", name,
			    miner_state_name(m->state));
			return;
		}
		if (((struct miner_priv *)m->priv)->pend != MPEND_NONE) {
			miner_fail(cb, arg, 409, API_ERR_FAILED, "a request "
			    "on miner %s is in progress", name);
			return;
		}
		/* a failed run of that name gives its slot to this one */
		miner_clear(m);
	} else if ((m = miner_free_slot()) == NULL) {
		miner_fail(cb, arg, 503, API_ERR_FAILED, "all %d miner "
		    "slots are in use", MINER_SLOTS_MAX);
		return;
	}
	if ((drv = driver_find(pr->type)) == NULL) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "profile %s: "
		    "unknown miner type", pr->id);
		return;
	}

	memset(&run, 0, sizeof(run));
	(void)strlcpy(run.name, name, sizeof(run.name));
	if (drv->poll != POLL_NONE) {
		if (miner_pick_port(&run.api_port) == -1) {
			miner_fail(cb, arg, 503, API_ERR_FAILED, "no free "
			    "API port on 127.0.0.1 for miner %s", name);
			return;
		}
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(run.api_token, sizeof(run.api_token), raw,
		    sizeof(raw));
		sodium_memzero(raw, sizeof(raw));
	}

	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		miner_fail(cb, arg, 500, API_ERR_INTERNAL, "out of memory");
		return;
	}
	sp->slot = m->slot;
	(void)strlcpy(sp->name, name, sizeof(sp->name));
	(void)strlcpy(sp->driver, drv->name, sizeof(sp->driver));
	(void)strlcpy(sp->profile, pr->id, sizeof(sp->profile));
	if (strlcpy(sp->binary, driver_binary(pr), sizeof(sp->binary)) >=
	    sizeof(sp->binary)) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "profile %s: "
		    "binary: too long", pr->id);
		goto done;
	}
	sp->api_port = run.api_port;
	memcpy(sp->api_token, run.api_token, sizeof(sp->api_token));
	err[0] = '\0';
	if (drv->args(pr, &run, sp->argv, &sp->argc, err, sizeof(err)) ==
	    -1 || sp->argc > MINER_ARGS_MAX) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "profile %s: %s",
		    pr->id, err[0] != '\0' ? err : "too many arguments");
		goto done;
	}
	if (drv->config(pr, &run, sp->config_name, sizeof(sp->config_name),
	    &cbuf, &clen, err, sizeof(err)) == -1) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "profile %s: %s",
		    pr->id, err[0] != '\0' ? err :
		    "cannot build the config file");
		goto done;
	}
	if (sp->config_name[0] == '\0')
		clen = 0;
	if (clen > MINER_CONFIG_MAX) {
		miner_fail(cb, arg, 400, API_ERR_INVALID, "profile %s: the "
		    "miner's config file is %zu bytes: at most %d", pr->id,
		    clen, MINER_CONFIG_MAX);
		goto done;
	}
	sp->config_len = clen;
	iov[0].iov_base = sp;
	iov[0].iov_len = sizeof(*sp);
	niov = 1;
	if (clen > 0) {
		iov[1].iov_base = cbuf;
		iov[1].iov_len = clen;
		niov = 2;
	}
	if (!env->iev_parent.open || imsg_composev(&env->iev_parent.ibuf,
	    IMSG_MINER_SPAWN, 0, 0, -1, iov, niov) == -1) {
		log_warn("miner %s: spawn request", name);
		miner_fail(cb, arg, 503, API_ERR_FAILED, "cannot ask the "
		    "parent to start miner %s", name);
		goto done;
	}
	imsgev_add(&env->iev_parent);

	p = m->priv;
	m->used = 1;
	(void)strlcpy(m->name, name, sizeof(m->name));
	(void)strlcpy(m->profile, pr->id, sizeof(m->profile));
	(void)strlcpy(p->driver_name, drv->name, sizeof(p->driver_name));
	m->driver = drv;
	m->state = MINER_STARTING;
	m->pid = 0;
	m->restarts = 0;
	m->started = 0;
	m->run = run;
	miner_new_run(m);
	if (m->ring == NULL)
		m->ring = ring_new(env->conf.ring_lines, env->conf.ring_bytes);
	log_info("miner %s: starting from profile %s (%s)", name, pr->id,
	    drv->name);
	if (cb != NULL && miner_park(m, cb, arg, MPEND_START,
	    MINER_START_TIMEOUT) == -1)
		cb(arg, 500, API_ERR_INTERNAL, "cannot wait for the "
		    "parent: the miner is being started", m);
 done:
	if (cbuf != NULL) {
		sodium_memzero(cbuf, clen);
		free(cbuf);
	}
	sodium_memzero(sp, sizeof(*sp));
	free(sp);
}

static struct miner *
miner_free_slot(void)
{
	uint32_t	 i;

	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (!miners[i].used)
			return (&miners[i]);
	return (NULL);
}

/*
 * A free port on 127.0.0.1 for a miner's API: the kernel picks one for
 * a socket bound to port 0; the socket is closed and the miner binds
 * it.  Another process may take it in between: the miner then fails to
 * start its API and the watchdog restarts it with another port.
 */
static int
miner_pick_port(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len;
	int			 s, i;

	for (i = 0; i < MINER_PORT_TRIES; i++) {
		if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1) {
			log_warn("API port: socket");
			return (-1);
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(sin);
		if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
			log_warn("API port: bind 127.0.0.1:0");
			close(s);
			return (-1);
		}
		close(s);
		if (ntohs(sin.sin_port) != 0 &&
		    !miner_port_used(ntohs(sin.sin_port))) {
			*port = ntohs(sin.sin_port);
			return (0);
		}
	}
	return (-1);
}

static int
miner_port_used(uint16_t port)
{
	uint32_t	 i;

	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (miners[i].used && miners[i].run.api_port == port)
			return (1);
	return (0);
}

/*
 * Stopping and restarting.
 */

void
miner_stop_req(struct evhttp_request *req, struct miner *m)
{
	miner_stop_cb(m, miner_http_done, req);
}

void
miner_stop_cb(struct miner *m, miner_done_cb done, void *arg)
{
	struct miner_priv	*p = m->priv;
	char			 msg[MINER_ERR_MAX];

	if (p->pend != MPEND_NONE) {
		(void)snprintf(msg, sizeof(msg), "a request on miner %s is "
		    "in progress", m->name);
		done(arg, 409, API_ERR_FAILED, msg, m);
		return;
	}
	if (miner_send_slot(m, IMSG_MINER_STOP) == -1) {
		(void)snprintf(msg, sizeof(msg), "cannot ask the parent to "
		    "stop miner %s", m->name);
		done(arg, 503, API_ERR_FAILED, msg, m);
		return;
	}
	log_info("miner %s: stopping", m->name);
	if (m->pid <= 0) {
		/* nothing runs (failed, or waiting to restart): done */
		m->state = MINER_STOPPED;
		done(arg, 200, 0, NULL, m);
		miner_clear(m);
		return;
	}
	m->state = MINER_STOPPING;
	if (miner_park(m, done, arg, MPEND_STOP, miner_grace() +
	    MINER_REPLY_MARGIN) == -1) {
		(void)snprintf(msg, sizeof(msg), "cannot wait for the "
		    "parent: miner %s is being stopped", m->name);
		done(arg, 500, API_ERR_INTERNAL, msg, m);
	}
}

void
miner_restart_req(struct evhttp_request *req, struct miner *m)
{
	miner_restart_cb(m, miner_http_done, req);
}

void
miner_restart_cb(struct miner *m, miner_done_cb done, void *arg)
{
	struct miner_priv	*p = m->priv;
	char			 msg[MINER_ERR_MAX];

	if (p->pend != MPEND_NONE) {
		(void)snprintf(msg, sizeof(msg), "a request on miner %s is "
		    "in progress", m->name);
		done(arg, 409, API_ERR_FAILED, msg, m);
		return;
	}
	if (miner_send_slot(m, IMSG_MINER_RESTART) == -1) {
		(void)snprintf(msg, sizeof(msg), "cannot ask the parent to "
		    "restart miner %s", m->name);
		done(arg, 503, API_ERR_FAILED, msg, m);
		return;
	}
	log_info("miner %s: restarting", m->name);
	miner_note(m, "lethd: restart requested");
	if (miner_park(m, done, arg, MPEND_RESTART, miner_grace() +
	    MINER_REPLY_MARGIN) == -1) {
		(void)snprintf(msg, sizeof(msg), "cannot wait for the "
		    "parent: miner %s is being restarted", m->name);
		done(arg, 500, API_ERR_INTERNAL, msg, m);
	}
}

/* The watchdog's restart: as a crash, with a log line. */
void
miner_watchdog_restart(struct miner *m, const char *why)
{
	struct miner_priv	*p = m->priv;

	log_warnx("watchdog: miner %s: %s: restarting", m->name, why);
	miner_note(m, "lethd: watchdog: %s: restarting", why);
	(void)snprintf(m->last_error, sizeof(m->last_error), "watchdog: %s",
	    why);
	p->wd_fired = mono_secs();
	if (miner_send_slot(m, IMSG_MINER_RESTART) == -1)
		log_warn("watchdog: miner %s: restart request", m->name);
}

static int
miner_send_slot(struct miner *m, uint32_t type)
{
	struct miner_slot	 ms;

	memset(&ms, 0, sizeof(ms));
	ms.slot = m->slot;
	return (imsgev_compose(&env->iev_parent, type, 0, 0, -1, &ms,
	    sizeof(ms)));
}

/*
 * Parked requests: at most one per slot.
 */

static int
miner_park(struct miner *m, miner_done_cb done, void *arg,
    enum miner_pend kind, int timeout)
{
	struct miner_priv	*p = m->priv;
	struct timeval		 tv;

	if (p->ev_pend == NULL && (p->ev_pend = evtimer_new(ev_base,
	    miner_pend_timeout, m)) == NULL) {
		log_warn("miner %s: evtimer_new", m->name);
		return (-1);
	}
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	if (evtimer_add(p->ev_pend, &tv) == -1) {
		log_warn("miner %s: evtimer_add", m->name);
		return (-1);
	}
	p->pend = kind;
	p->done = done;
	p->done_arg = arg;
	p->pend_started = m->started;
	return (0);
}

static void
miner_pend_clear(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	if (p->ev_pend != NULL)
		evtimer_del(p->ev_pend);
	p->pend = MPEND_NONE;
	p->done = NULL;
	p->done_arg = NULL;
}

/* The parked request's outcome: cleared first, so that the waiter may
 * ask again from its callback. */
static void
miner_pend_reply(struct miner *m, int status)
{
	struct miner_priv	*p = m->priv;
	miner_done_cb		 done = p->done;
	void			*arg = p->done_arg;

	miner_pend_clear(m);
	if (done != NULL)
		done(arg, status, 0, NULL, m);
}

static void
miner_pend_error(struct miner *m, int status, int code, const char *fmt,
    ...)
{
	struct miner_priv	*p = m->priv;
	miner_done_cb		 done = p->done;
	void			*arg = p->done_arg;
	va_list			 ap;
	char			 msg[MINER_ERR_MAX];

	miner_pend_clear(m);
	if (done == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	done(arg, status, code, msg, m);
}

static void
miner_pend_timeout(int fd, short event, void *arg)
{
	struct miner		*m = arg;
	struct miner_priv	*p = m->priv;
	enum miner_pend		 kind = p->pend;

	switch (kind) {
	case MPEND_START:
		log_warnx("miner %s: the parent did not report it in %d "
		    "seconds", m->name, MINER_START_TIMEOUT);
		miner_pend_error(m, 504, API_ERR_TIMEOUT, "the parent did "
		    "not report miner %s in %d seconds", m->name,
		    MINER_START_TIMEOUT);
		/* a record that comes later adopts it again */
		if (m->pid <= 0)
			miner_clear(m);
		break;
	case MPEND_STOP:
		log_warnx("miner %s: not stopped in %d seconds", m->name,
		    miner_grace() + MINER_REPLY_MARGIN);
		miner_pend_error(m, 504, API_ERR_TIMEOUT, "miner %s did not "
		    "stop in %d seconds", m->name,
		    miner_grace() + MINER_REPLY_MARGIN);
		break;
	case MPEND_RESTART:
		log_warnx("miner %s: not restarted in %d seconds", m->name,
		    miner_grace() + MINER_REPLY_MARGIN);
		miner_pend_error(m, 504, API_ERR_TIMEOUT, "miner %s did not "
		    "restart in %d seconds", m->name,
		    miner_grace() + MINER_REPLY_MARGIN);
		break;
	case MPEND_NONE:
		break;
	}
}

/*
 * A slot's life.
 */

/* Forget a slot: its output, timers and stats.  Nothing is parked. */
static void
miner_clear(struct miner *m)
{
	struct miner_priv	*p = m->priv;
	struct event		*ev_tick = p->ev_tick, *ev_pend = p->ev_pend;
	uint64_t		 gen = p->gen;

	if (p->pend != MPEND_NONE)
		miner_pend_error(m, 500, API_ERR_FAILED, "miner %s is gone",
		    m->name);
	miner_close_output(m);
	miner_tick_stop(m);
	ring_free(m->ring);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->ev_tick = ev_tick;
	p->ev_pend = ev_pend;
	p->gen = gen + 1;
	memset(m, 0, sizeof(*m));
	m->slot = (uint32_t)(p - privs);
	m->priv = p;
}

/* A new run of the slot's miner: what was known of the last is stale. */
static void
miner_new_run(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	p->gen++;
	p->polling = 0;
	p->hist_at = 0;
	memset(&m->stats, 0, sizeof(m->stats));
	m->stats.hr10s = m->stats.hr60s = m->stats.hr15m = -1;
	m->read_at = 0;
	watchdog_reset(m);
}

/* Stats just read from the miner: keep, record, judge. */
void
miner_stats_read(struct miner *m, const struct miner_stats *st)
{
	struct miner_priv	*p = m->priv;

	m->stats = *st;
	m->stats.pool[sizeof(m->stats.pool) - 1] = '\0';
	m->stats.algo[sizeof(m->stats.algo) - 1] = '\0';
	m->read_at = now_ms();
	m->last_error[0] = '\0';
	history_add(m->name, m->read_at, &m->stats);
	p->hist_at = m->read_at;
	watchdog_check(m);
}

/*
 * The output pipe: non-blocking, read in chunks, lines into the ring.
 */

static void
miner_set_output(struct miner *m, int fd)
{
	struct miner_priv	*p = m->priv;
	int			 fl;

	miner_close_output(m);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("miner %s: output pipe", m->name);
		close(fd);
		return;
	}
	if ((p->ev_out = event_new(ev_base, fd, EV_READ | EV_PERSIST,
	    miner_output, m)) == NULL || event_add(p->ev_out, NULL) == -1) {
		log_warn("miner %s: output event", m->name);
		if (p->ev_out != NULL)
			event_free(p->ev_out);
		p->ev_out = NULL;
		close(fd);
		return;
	}
	p->fd = fd;
}

static void
miner_close_output(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	if (p->fd == -1)
		return;
	if (m->ring != NULL)
		ring_flush(m->ring, miner_line, m);
	if (p->ev_out != NULL)
		event_free(p->ev_out);
	p->ev_out = NULL;
	close(p->fd);
	p->fd = -1;
}

static void
miner_output(int fd, short event, void *arg)
{
	struct miner	*m = arg;
	char		 buf[MINER_READ_CHUNK];
	ssize_t		 n;

	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("miner %s: read output", m->name);
		miner_close_output(m);
		return;
	}
	if (n == 0) {
		/* the miner's end closed: it exited, EXITED follows */
		miner_close_output(m);
		return;
	}
	if (m->ring != NULL)
		ring_feed(m->ring, buf, (size_t)n, miner_line, m);
}

/* A whole raw line: a driver without an API reads its rates here. */
static void
miner_line(const char *line, size_t len, void *arg)
{
	struct miner		*m = arg;
	const struct profile	*pr;
	struct miner_stats	 st;

	if (m->driver == NULL || m->driver->poll != POLL_NONE ||
	    m->driver->parse_line == NULL || !miner_live(m))
		return;
	if ((pr = profile_find(m->profile)) == NULL)
		return;
	st = m->stats;
	if (m->driver->parse_line(pr, line, &st) == 1) {
		m->stats = st;
		m->stats.pool[sizeof(m->stats.pool) - 1] = '\0';
		m->stats.algo[sizeof(m->stats.algo) - 1] = '\0';
		m->read_at = now_ms();
	}
}

/* minerd's own line in a miner's log, marked as ours. */
static void
miner_note(struct miner *m, const char *fmt, ...)
{
	va_list	 ap;
	char	 line[MINER_LINE_MAX + 1];

	if (m->ring == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ring_add(m->ring, line, strlen(line));
}

/*
 * The poll tick of a live miner: poll (or, without an API, record
 * what the output lines said) and let the watchdog judge.
 */

static void
miner_tick_start(struct miner *m)
{
	struct miner_priv	*p = m->priv;
	struct timeval		 tv;

	if (p->ev_tick == NULL && (p->ev_tick = event_new(ev_base, -1,
	    EV_PERSIST, miner_tick, m)) == NULL) {
		log_warn("miner %s: event_new", m->name);
		return;
	}
	if (evtimer_pending(p->ev_tick, NULL))
		return;
	tv.tv_sec = miner_conf_poll();
	tv.tv_usec = 0;
	if (evtimer_add(p->ev_tick, &tv) == -1)
		log_warn("miner %s: evtimer_add", m->name);
}

static void
miner_tick_stop(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	if (p->ev_tick != NULL)
		evtimer_del(p->ev_tick);
}

static void
miner_tick(int fd, short event, void *arg)
{
	struct miner		*m = arg;
	struct miner_priv	*p = m->priv;

	if (!miner_live(m) || m->driver == NULL) {
		miner_tick_stop(m);
		return;
	}
	if (m->driver->poll == POLL_NONE) {
		if (m->read_at > p->hist_at) {
			history_add(m->name, m->read_at, &m->stats);
			p->hist_at = m->read_at;
		}
		watchdog_check(m);
		return;
	}
	watchdog_check(m);
	if (miner_live(m) && p->wd_fired == 0)
		poll_miner(m);
}

/*
 * From the parent.
 */

static const char *
miner_record_check(const struct miner_record *r)
{
	if (r->slot >= MINER_SLOTS_MAX)
		return ("slot out of range");
	if (memchr(r->name, '\0', sizeof(r->name)) == NULL ||
	    !miner_name_valid(r->name))
		return ("bad name");
	if (memchr(r->driver, '\0', sizeof(r->driver)) == NULL)
		return ("bad driver");
	if (memchr(r->profile, '\0', sizeof(r->profile)) == NULL)
		return ("bad profile");
	if (memchr(r->api_token, '\0', sizeof(r->api_token)) == NULL ||
	    strspn(r->api_token, "0123456789abcdef") != strlen(r->api_token))
		return ("bad token");
	if (r->state > MINER_FAILED)
		return ("bad state");
	if (r->pid < 0 || r->pgid < 0 || r->started < 0)
		return ("bad pid or start time");
	return (NULL);
}

int
miner_record(const struct miner_record *r, int fd)
{
	struct miner		*m;
	struct miner_priv	*p;
	const char		*why;
	int			 fresh, newrun;

	if ((why = miner_record_check(r)) != NULL) {
		log_warnx("IMSG_MINER_RECORD: %s", why);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	m = &miners[r->slot];
	p = m->priv;
	if (m->used && strcmp(m->name, r->name) != 0) {
		log_warnx("miner %s: slot %u now holds %s", m->name,
		    m->slot, r->name);
		miner_clear(m);
	}
	fresh = !m->used;
	newrun = fresh || m->started != r->started || m->pid != r->pid;
	if (fresh) {
		m->used = 1;
		(void)strlcpy(m->name, r->name, sizeof(m->name));
		m->ring = ring_new(env->conf.ring_lines,
		    env->conf.ring_bytes);
	}
	(void)strlcpy(m->profile, r->profile, sizeof(m->profile));
	(void)strlcpy(p->driver_name, r->driver, sizeof(p->driver_name));
	if ((m->driver = driver_find(r->driver)) == NULL)
		log_warnx("miner %s: unknown driver: not polling it", m->name);
	m->state = r->state;
	m->pid = r->pid;
	m->restarts = r->restarts;
	m->started = r->started;
	(void)strlcpy(m->run.name, r->name, sizeof(m->run.name));
	m->run.api_port = r->api_port;
	(void)strlcpy(m->run.api_token, r->api_token,
	    sizeof(m->run.api_token));
	if (newrun)
		miner_new_run(m);
	if (fd != -1)
		miner_set_output(m, fd);
	if (fresh && p->pend == MPEND_NONE)
		log_info("miner %s: adopted (pid %d, %s)", m->name,
		    (int)m->pid, miner_state_name(m->state));
	if (newrun && m->pid > 0)
		miner_note(m, "lethd: running, pid %d", (int)m->pid);

	if (miner_live(m)) {
		miner_tick_start(m);
		/* an adopted miner: its stats now, not a poll period on */
		if (fresh && m->driver != NULL && m->driver->poll != POLL_NONE)
			poll_miner(m);
	} else
		miner_tick_stop(m);

	switch (p->pend) {
	case MPEND_START:
		if (m->pid > 0)
			miner_pend_reply(m, 201);
		break;
	case MPEND_RESTART:
		if (m->pid > 0 && m->started != p->pend_started)
			miner_pend_reply(m, 200);
		break;
	case MPEND_STOP:
		if (m->state == MINER_STOPPED)
			miner_pend_reply(m, 200);
		break;
	case MPEND_NONE:
		break;
	}
	if (m->state == MINER_STOPPED && p->pend == MPEND_NONE)
		miner_clear(m);
	return (0);
}

int
miner_exited(const struct miner_exit *e)
{
	struct miner		*m;
	struct miner_priv	*p;

	if (e->slot >= MINER_SLOTS_MAX || e->state > MINER_FAILED ||
	    e->restart_in_ms < 0) {
		log_warnx("IMSG_MINER_EXITED: bad slot or state");
		return (-1);
	}
	if ((m = miner_by_slot(e->slot)) == NULL) {
		log_debug("IMSG_MINER_EXITED for free slot %u", e->slot);
		return (0);
	}
	p = m->priv;
	/*
	 * BACKOFF, STOPPED or FAILED; a run the parent ends to start it
	 * again at once (a restart) comes as it was, STOPPING: the next
	 * record follows.
	 */
	if (e->state == MINER_BACKOFF || e->state == MINER_STOPPED ||
	    e->state == MINER_FAILED)
		m->state = e->state;
	else
		m->state = MINER_STARTING;
	m->pid = 0;
	m->restarts = e->restarts;
	/* no stats of a dead process are shown as live */
	p->gen++;
	p->polling = 0;
	m->stats.hr10s = m->stats.hr60s = m->stats.hr15m = -1;
	miner_tick_stop(m);
	if (e->pid <= 0)
		miner_note(m, "lethd: %s", e->state == MINER_STOPPED ?
		    "stopped" : "could not start");
	else if (WIFEXITED(e->status))
		miner_note(m, "lethd: exited with status %d",
		    WEXITSTATUS(e->status));
	else if (WIFSIGNALED(e->status))
		miner_note(m, "lethd: killed by signal %d",
		    WTERMSIG(e->status));
	switch (e->state) {
	case MINER_BACKOFF:
		miner_note(m, "lethd: restart in %lld ms",
		    (long long)e->restart_in_ms);
		break;
	case MINER_FAILED:
		(void)snprintf(m->last_error, sizeof(m->last_error),
		    "crashed %u times: not restarted", e->restarts);
		miner_note(m, "lethd: failed: not restarted");
		break;
	default:
		break;
	}

	switch (p->pend) {
	case MPEND_STOP:
		if (e->state != MINER_BACKOFF) {
			m->state = MINER_STOPPED;
			miner_pend_reply(m, 200);
		}
		break;
	case MPEND_RESTART:
		if (e->state == MINER_FAILED)
			miner_pend_error(m, 500, API_ERR_FAILED, "miner %s "
			    "failed", m->name);
		break;
	case MPEND_START:
		if (e->state == MINER_FAILED)
			miner_pend_error(m, 500, API_ERR_FAILED, "miner %s "
			    "failed at start", m->name);
		break;
	case MPEND_NONE:
		break;
	}
	if (m->state == MINER_STOPPED && p->pend == MPEND_NONE) {
		log_info("miner %s: stopped", m->name);
		miner_clear(m);
	}
	return (0);
}

int
miner_refused(const struct miner_refusal *rf)
{
	struct miner		*m;
	struct miner_priv	*p;
	char			 reason[MINER_VIS_MAX(sizeof(rf->reason))];
	int			 gone;

	if (rf->slot >= MINER_SLOTS_MAX ||
	    memchr(rf->reason, '\0', sizeof(rf->reason)) == NULL) {
		log_warnx("IMSG_MINER_REFUSED: bad slot or reason");
		return (-1);
	}
	str_vis(reason, sizeof(reason), rf->reason, strlen(rf->reason));
	if ((m = miner_by_slot(rf->slot)) == NULL) {
		log_debug("IMSG_MINER_REFUSED for free slot %u", rf->slot);
		return (0);
	}
	p = m->priv;
	log_warnx("miner %s: refused: %s", m->name, reason);
	(void)snprintf(m->last_error, sizeof(m->last_error), "refused: %.200s",
	    reason);
	/* a spawn that never ran is forgotten: nothing runs */
	gone = m->pid <= 0 && m->state == MINER_STARTING;
	if (gone)
		m->state = MINER_STOPPED;
	else if (m->pid <= 0)
		m->state = MINER_FAILED;
	/* the waiter sees the state that follows the refusal */
	if (p->pend == MPEND_START || p->pend == MPEND_RESTART)
		miner_pend_error(m, 400, API_ERR_FAILED, "%s", reason);
	if (gone)
		miner_clear(m);
	return (0);
}

void
miner_shutdown(void)
{
	/* the parent keeps the miners and drains their output */
}

/*
 * Autostart: once the parent's records of running miners have come
 * (they follow the pipe's setup at once; the parent sends no end
 * marker, so wait MINER_AUTOSTART_DELAY), start each autostart
 * profile that no slot holds.
 */
void
miner_autostart(void)
{
	struct timeval	 tv;

	if (ev_autostart == NULL && (ev_autostart = evtimer_new(ev_base,
	    miner_autostart_run, NULL)) == NULL) {
		log_warn("autostart: evtimer_new");
		return;
	}
	tv.tv_sec = MINER_AUTOSTART_DELAY;
	tv.tv_usec = 0;
	if (evtimer_add(ev_autostart, &tv) == -1)
		log_warn("autostart: evtimer_add");
}

static void
miner_autostart_run(int fd, short event, void *arg)
{
	struct profile	*pr;
	struct miner	*m;

	for (pr = profile_first(); pr != NULL; pr = profile_next(pr)) {
		if (!pr->autostart)
			continue;
		for (m = miner_first(); m != NULL; m = miner_next(m))
			if (strcmp(m->profile, pr->id) == 0)
				break;
		if (m != NULL)
			continue;
		log_info("autostart: profile %s", pr->id);
		miner_start(pr, NULL, NULL, NULL);
	}
}

/*
 * JSON.
 */

const char *
miner_state_name(enum miner_state s)
{
	switch (s) {
	case MINER_STARTING:
		return ("starting");
	case MINER_RUNNING:
		return ("running");
	case MINER_BACKOFF:
		return ("backoff");
	case MINER_STOPPING:
		return ("stopping");
	case MINER_STOPPED:
		return ("stopped");
	case MINER_FAILED:
		return ("failed");
	}
	return ("unknown");
}

static json_t *
miner_rate_json(double r)
{
	if (r < 0 || !isfinite(r))
		return (json_null());
	return (json_real(r));
}

/* A string a miner sent: escaped, as every byte from a miner is. */
static json_t *
miner_vis_json(const char *s)
{
	char	 buf[MINER_VIS_MAX(MINER_POOL_MAX)];
	size_t	 len = strnlen(s, MINER_POOL_MAX);

	str_vis(buf, sizeof(buf), s, len);
	return (json_string(buf));
}

json_t *
miner_json(const struct miner *m)
{
	const struct miner_priv	*p = m->priv;
	json_t			*o, *hr;
	long long		 now = now_ms();
	int			 known = m->read_at != 0, live = miner_live(m);
	int			 e = 0;

	if ((o = json_object()) == NULL || (hr = json_object()) == NULL) {
		json_decref(o);
		return (NULL);
	}
	e |= json_object_set_new(hr, "10s", miner_rate_json(m->stats.hr10s));
	e |= json_object_set_new(hr, "60s", miner_rate_json(m->stats.hr60s));
	e |= json_object_set_new(hr, "15m", miner_rate_json(m->stats.hr15m));
	e |= json_object_set_new(o, "name", json_string(m->name));
	e |= json_object_set_new(o, "type", json_string(m->driver != NULL ?
	    m->driver->name : p->driver_name));
	e |= json_object_set_new(o, "profile", json_string(m->profile));
	e |= json_object_set_new(o, "state",
	    json_string(miner_state_name(m->state)));
	e |= json_object_set_new(o, "pid", m->pid > 0 ?
	    json_integer(m->pid) : json_null());
	e |= json_object_set_new(o, "hashrate", hr);
	e |= json_object_set_new(o, "shares", known ?
	    json_integer((json_int_t)m->stats.shares) : json_null());
	e |= json_object_set_new(o, "rejected", known ?
	    json_integer((json_int_t)m->stats.rejected) : json_null());
	/* the miner's own figure when its API gives one, else ours */
	if (live && known && m->stats.uptime >= 0 && m->driver != NULL &&
	    m->driver->poll != POLL_NONE)
		e |= json_object_set_new(o, "uptime",
		    json_integer(m->stats.uptime));
	else if (live && m->started > 0 && now >= m->started)
		e |= json_object_set_new(o, "uptime",
		    json_integer((now - m->started) / 1000));
	else
		e |= json_object_set_new(o, "uptime", json_null());
	e |= json_object_set_new(o, "pool", known && m->stats.pool[0] !=
	    '\0' ? miner_vis_json(m->stats.pool) : json_null());
	e |= json_object_set_new(o, "algorithm", known && m->stats.algo[0] !=
	    '\0' ? miner_vis_json(m->stats.algo) : json_null());
	e |= json_object_set_new(o, "restarts", json_integer(m->restarts));
	e |= json_object_set_new(o, "startedAt", m->started > 0 ?
	    json_integer(m->started) : json_null());
	e |= json_object_set_new(o, "readAt", known ?
	    json_integer(m->read_at) : json_null());
	e |= json_object_set_new(o, "age", known ? json_integer(now >
	    m->read_at ? (now - m->read_at) / 1000 : 0) : json_null());
	e |= json_object_set_new(o, "apiPort", m->run.api_port != 0 ?
	    json_integer(m->run.api_port) : json_null());
	e |= json_object_set_new(o, "lastError", m->last_error[0] != '\0' ?
	    json_string_safe(m->last_error) : json_null());
	if (e != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

json_t *
miner_logs_json(const struct miner *m, unsigned int n)
{
	json_t		*o, *a;
	const char	*s;
	size_t		 count, i;
	int		 e = 0;

	count = m->ring != NULL ? ring_count(m->ring) : 0;
	if (n > count)
		n = count;
	if ((o = json_object()) == NULL || (a = json_array()) == NULL) {
		json_decref(o);
		return (NULL);
	}
	for (i = count - n; i < count; i++)
		if ((s = ring_line(m->ring, i)) != NULL)
			e |= json_array_append_new(a, json_string(s));
	e |= json_object_set_new(o, "minerName", json_string(m->name));
	e |= json_object_set_new(o, "lines", a);
	e |= json_object_set_new(o, "hasMore", json_boolean(count > n));
	e |= json_object_set_new(o, "total", json_integer(m->ring != NULL ?
	    (json_int_t)ring_total(m->ring) : 0));
	if (e != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}
