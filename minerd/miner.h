/*
 * Miner supervision, minerd's side: the miners of this rig by slot and
 * name, their state as the parent reports it, their output (a bounded
 * ring of escaped lines), their stats (polled through the driver) and
 * the watchdog.  The parent owns the processes; minerd asks.
 */

#ifndef MINER_H
#define MINER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lethd.h"
#include "driver.h"

struct evhttp_request;
struct profile;
struct miner_ring;

struct miner {
	uint32_t		 slot;
	int			 used;
	char			 name[MINER_NAME_MAX + 1];
	char			 profile[PROFILE_ID_MAX + 1];
	const struct driver	*driver;
	enum miner_state	 state;
	int32_t			 pid;
	uint32_t		 restarts;
	long long		 started;	/* Unix ms of this run */
	struct miner_run	 run;		/* api port and token */
	struct miner_stats	 stats;
	long long		 read_at;	/* Unix ms of stats; 0 never */
	char			 last_error[256];
	struct miner_ring	*ring;		/* output lines */
	/* the rest is the implementation's (fds, events, watchdog) */
	void			*priv;
};

void	 miner_init(void);
/* After a (re)start of minerd: profiles are loaded; records follow. */
void	 miner_autostart(void);

/*
 * Start a miner from a profile, named name (NULL: the profile's id).
 * Answers req itself: 201 with miner_json once the parent reports the
 * process, or an error (the parent's refusal reason, a bad profile, a
 * name in use, no free slot).
 */
void	 miner_start_req(struct evhttp_request *, const struct profile *,
	    const char *name);
/* Stop (SIGTERM, SIGKILL after the grace): answers 200 once it exited. */
void	 miner_stop_req(struct evhttp_request *, struct miner *);
/* Restart: answers 200 with the new record. */
void	 miner_restart_req(struct evhttp_request *, struct miner *);

/*
 * The same for any waiter (the *_req above are these with a waiter
 * that answers the HTTP request): done runs exactly once, at once
 * when the request is refused, else when the parent reported the
 * outcome or the wait timed out; possibly before the call returns.
 * On success code is 0, message NULL and status 200 (201 for a
 * start); on failure code is an API_ERR_*, message the reason and
 * status the HTTP status the control API gives it.  m is the miner
 * (always on success, when there is one on failure), valid only
 * during the call.  done must not be NULL for a stop or a restart;
 * a start with done NULL waits for nothing (autostart).
 */
typedef void	(*miner_done_cb)(void *arg, int status, int code,
		    const char *message, const struct miner *m);
void	 miner_start_cb(const struct profile *, const char *name,
	    miner_done_cb, void *);
void	 miner_stop_cb(struct miner *, miner_done_cb, void *);
void	 miner_restart_cb(struct miner *, miner_done_cb, void *);
/* "starting", "running", "backoff", "stopping", "stopped", "failed" */
const char *miner_state_name(enum miner_state);

struct miner	*miner_find(const char *name);
struct miner	*miner_first(void);
struct miner	*miner_next(struct miner *);

/* A listing row: name, type, profile, state, pid, hashrate {10s, 60s,
 * 15m} (null when unknown), shares, rejected, uptime, pool, algorithm,
 * restarts, readAt, age (seconds since readAt, null never read). */
json_t	*miner_json(const struct miner *);
/* The last n lines, oldest first; *more set when older ones exist. */
json_t	*miner_logs_json(const struct miner *, unsigned int n);

/* From the parent (main.c dispatch): 0, or -1 for a bad message. */
int	 miner_record(const struct miner_record *, int fd);
int	 miner_exited(const struct miner_exit *);
int	 miner_refused(const struct miner_refusal *);
/* minerd is going away: nothing to do (the parent keeps the miners). */
void	 miner_shutdown(void);

/* history.c */
#define HISTORY_DB_NAME		"history.db"	/* in the state directory */
/* The latest time stored or queried: the end of year 9999, in Unix ms. */
#define HISTORY_TIME_MAX	253402300799999LL
/* A query without ?since= covers this much before until: an hour. */
#define HISTORY_RANGE_DEFAULT	(3600 * 1000LL)
/* Opens env->conf.workdir/history.db (dirfd is the state directory and
 * must be that same directory) with env->conf's retention and cap, and
 * arms the pruning timer when there is an event base. */
int	 history_open(int dirfd, char *err, size_t);
/* One sample (10 s resolution), taken when stats are read: 0 once it is
 * committed (synchronous=FULL), -1 when it was dropped (logged at most
 * once a minute: full disk, no database). */
int	 history_add(const char *miner, long long ts_ms,
	    const struct miner_stats *);
/* Samples of miner between since and until (ms): 10 s ones where they
 * are kept, 1-minute averages beyond. */
json_t	*history_query(const char *miner, long long since,
	    long long until, char *err, size_t);
void	 history_close(void);

/* What history_open takes from env->conf, for tests and bench/history;
 * 0 in a field is its default. */
struct history_conf {
	uint32_t	 samples;	/* seconds 10 s samples are kept */
	uint32_t	 minutes;	/* seconds 1-min averages are kept */
	uint64_t	 max_bytes;	/* the database's size cap */
	int		 sync_off;	/* synchronous=OFF: a bench baseline */
};
int	 history_open_path(const char *path, const struct history_conf *,
	    char *err, size_t);
/* Roll the finished minutes up and delete what is past its retention,
 * in one transaction, as the timer does: 0, or -1 (logged). */
int	 history_prune(long long now_ms);

#endif /* MINER_H */
