/*
 * The watchdog: a running miner that does not hash, or whose API does
 * not answer, is restarted as if it had crashed.
 *
 * - hashrate: the 60 s rate (the 10 s one while the miner has no 60 s
 *   figure yet) at zero, unknown, or under the profile's floor for
 *   conf.watchdog_zero seconds;
 * - API: no good poll for conf.watchdog_api seconds since the run
 *   started or the last good poll (drivers that poll only).
 *
 * A miner whose driver reads rates from output lines is judged on its
 * rates only once a line carried one.  After a restart request the
 * watchdog waits for the new run (or the stop grace and a margin, in
 * case the parent could not act) before it judges that miner again.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"
#include "profile.h"
#include "supervise.h"

static unsigned int	watchdog_zero_secs(void);
static unsigned int	watchdog_api_secs(void);

static unsigned int
watchdog_zero_secs(void)
{
	return (env->conf.watchdog_zero != 0 ? env->conf.watchdog_zero :
	    WATCHDOG_ZERO_DEFAULT);
}

static unsigned int
watchdog_api_secs(void)
{
	return (env->conf.watchdog_api != 0 ? env->conf.watchdog_api :
	    WATCHDOG_API_DEFAULT);
}

/* A new run: judge it from now. */
void
watchdog_reset(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	p->api_ok = mono_secs();
	p->zero_since = 0;
	p->wd_fired = 0;
}

void
watchdog_api_ok(struct miner *m)
{
	struct miner_priv	*p = m->priv;

	p->api_ok = mono_secs();
}

/* At every poll tick and every stats reading of a live miner. */
void
watchdog_check(struct miner *m)
{
	struct miner_priv	*p = m->priv;
	const struct profile	*pr;
	char			 why[128];
	long long		 now = mono_secs();
	double			 rate, floor = 0;
	int			 low;

	if (!miner_live(m) || m->driver == NULL)
		return;
	if (p->wd_fired != 0) {
		if (now - p->wd_fired < miner_grace() + MINER_REPLY_MARGIN)
			return;
		/* the parent did not act on it: judge afresh */
		watchdog_reset(m);
	}
	if (m->driver->poll != POLL_NONE &&
	    now - p->api_ok >= (long long)watchdog_api_secs()) {
		(void)snprintf(why, sizeof(why), "API not answering for "
		    "%u s", watchdog_api_secs());
		miner_watchdog_restart(m, why);
		return;
	}
	if (m->driver->poll == POLL_NONE && m->read_at == 0)
		return;
	if ((pr = profile_find(m->profile)) != NULL)
		floor = pr->floor;
	rate = m->stats.hr60s >= 0 ? m->stats.hr60s : m->stats.hr10s;
	low = rate <= 0 || (floor > 0 && rate < floor);
	if (!low) {
		p->zero_since = 0;
		return;
	}
	if (p->zero_since == 0) {
		p->zero_since = now;
		return;
	}
	if (now - p->zero_since < (long long)watchdog_zero_secs())
		return;
	if (rate > 0)
		(void)snprintf(why, sizeof(why), "hashrate under the floor "
		    "(%.1f H/s) for %u s", floor, watchdog_zero_secs());
	else
		(void)snprintf(why, sizeof(why), "hashrate 0 for %u s",
		    watchdog_zero_secs());
	miner_watchdog_restart(m, why);
}
