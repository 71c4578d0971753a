/*
 * Inside miner supervision (miner.c, poll.c, watchdog.c): what one
 * slot holds beyond struct miner, and the calls between the files.
 */

#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <stdint.h>

#include "minerd.h"
#include "miner.h"

struct event;
struct evhttp_request;

/* Seconds the parent has to report a spawned miner (it opens, checks
 * and executes the binary at once; a slow disk is the worst case). */
#define MINER_START_TIMEOUT	15
/* Added to the stop grace before a stop or restart request gives up. */
#define MINER_REPLY_MARGIN	5
/* After minerd starts, the parent's records of running miners come at
 * once; autostart waits this long for them before it starts profiles. */
#define MINER_AUTOSTART_DELAY	2
/* Bytes read from a miner's output per event: a flood cannot hold
 * the loop for longer than this costs. */
#define MINER_READ_CHUNK	16384
/* Seconds one stats poll may take (connect, request, answer). */
#define MINER_POLL_TIMEOUT	5
/* Headers of a miner's API answer. */
#define MINER_POLL_HEADERS_MAX	8192
/* Tries at an API port before a start fails. */
#define MINER_PORT_TRIES	8

enum miner_pend {
	MPEND_NONE = 0,
	MPEND_START,
	MPEND_STOP,
	MPEND_RESTART
};

struct miner_priv {
	char			 driver_name[MINER_DRIVER_MAX + 1];
	int			 fd;		/* output pipe, -1 none */
	struct event		*ev_out;
	struct event		*ev_tick;	/* poll interval */
	uint64_t		 gen;		/* per run: older polls lose */
	int			 polling;	/* a poll is in flight */
	long long		 api_ok;	/* mono s: last good poll */
	long long		 zero_since;	/* mono s: rate low since */
	long long		 wd_fired;	/* mono s: watchdog acted */
	long long		 hist_at;	/* read_at put in history */
	/* one parked request per slot: its waiter is called once */
	enum miner_pend		 pend;
	miner_done_cb		 done;
	void			*done_arg;
	struct event		*ev_pend;
	long long		 pend_started;	/* restart: the old run */
};

/* miner.c */
struct miner	*miner_by_slot(uint32_t);
unsigned int	 miner_conf_poll(void);
void		 miner_stats_read(struct miner *, const struct miner_stats *);
void		 miner_watchdog_restart(struct miner *, const char *);
int		 miner_live(const struct miner *);

/* poll.c */
void		 poll_miner(struct miner *);

/* watchdog.c */
void		 watchdog_reset(struct miner *);
void		 watchdog_check(struct miner *);
void		 watchdog_api_ok(struct miner *);

/* The parent's stop grace (lethd.conf), or the default before it came. */
static inline unsigned int
miner_grace(void)
{
	return (env->conf.miner_stop_grace ? env->conf.miner_stop_grace :
	    MINER_STOP_GRACE);
}

#endif /* SUPERVISE_H */
