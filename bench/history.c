/*
 * bench/history [directory]: minerd's hashrate history (history.c).
 *
 *	fsyncs/s	a 64-byte write and fdatasync, the floor of a
 *			durable commit on this disk (the baseline)
 *	inserts/s	history_add, one committed sample each
 *			(synchronous=FULL, WAL), as minerd runs it
 *	inserts/s OFF	the same with synchronous=OFF: what the fsync costs
 *	bytes/miner-day	8640 10 s samples and 1440 minute averages of one
 *			miner, the file size after a checkpoint
 *
 * The directory (default .) should be on the disk the state directory
 * is on: the figures are the disk's.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "minerd.h"
#include "miner.h"

#define BENCH_SECS		3	/* each rate measured this long */
#define BENCH_DAY_SAMPLES	8640	/* a day of 10 s samples */
#define BENCH_T0		1699999980000LL	/* a whole minute */

static char	 bench_dir[PATH_MAX];

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
bench_path(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s/%s", bench_dir, name) >= (int)len)
		errx(1, "path too long");
}

static void
bench_rm(const char *name)
{
	char	 p[PATH_MAX], q[PATH_MAX + 8];

	bench_path(p, sizeof(p), name);
	(void)unlink(p);
	(void)snprintf(q, sizeof(q), "%s-wal", p);
	(void)unlink(q);
	(void)snprintf(q, sizeof(q), "%s-shm", p);
	(void)unlink(q);
}

/* The baseline: how many durable small writes the disk does a second. */
static double
bench_fsyncs(void)
{
	char	 p[PATH_MAX], buf[64];
	double	 t0, t;
	long	 n = 0;
	int	 fd;

	bench_path(p, sizeof(p), "fsync.tmp");
	if ((fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", p);
	memset(buf, 'x', sizeof(buf));
	t0 = bench_now();
	do {
		if (pwrite(fd, buf, sizeof(buf), (n % 64) * sizeof(buf)) !=
		    sizeof(buf) || fdatasync(fd) == -1)
			err(1, "%s", p);
		n++;
	} while ((t = bench_now() - t0) < BENCH_SECS);
	close(fd);
	(void)unlink(p);
	return (n / t);
}

static void
bench_open(const char *name, int sync_off)
{
	struct history_conf	 hc;
	char			 p[PATH_MAX], errbuf[256];

	bench_rm(name);
	bench_path(p, sizeof(p), name);
	memset(&hc, 0, sizeof(hc));
	hc.sync_off = sync_off;
	if (history_open_path(p, &hc, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
}

static void
bench_stats(struct miner_stats *ms, long i)
{
	memset(ms, 0, sizeof(*ms));
	ms->hr10s = 12345.67 + (i % 97);
	ms->hr60s = 12340.12 + (i % 89);
	ms->hr15m = 12338.5 + (i % 7);
	ms->shares = i / 3;
	ms->rejected = i / 300;
}

static double
bench_inserts(int sync_off, long *np)
{
	struct miner_stats	 ms;
	double			 t0, t;
	long			 n = 0;

	bench_open("rate.db", sync_off);
	t0 = bench_now();
	do {
		bench_stats(&ms, n);
		if (history_add("rig-0", BENCH_T0 + n * 10000, &ms) == -1)
			errx(1, "history_add failed");
		n++;
	} while ((t = bench_now() - t0) < BENCH_SECS);
	history_close();
	bench_rm("rate.db");
	*np = n;
	return (n / t);
}

/* One miner, one day: samples, then the roll-up of its minutes. */
static long long
bench_day(long *minutes)
{
	struct miner_stats	 ms;
	struct stat		 sb;
	char			 p[PATH_MAX];
	long			 i;
	json_t			*o;

	bench_open("day.db", 1);
	for (i = 0; i < BENCH_DAY_SAMPLES; i++) {
		bench_stats(&ms, i);
		if (history_add("rig-0", BENCH_T0 + i * 10000, &ms) == -1)
			errx(1, "history_add failed");
	}
	if (history_prune(BENCH_T0 + BENCH_DAY_SAMPLES * 10000LL) == -1)
		errx(1, "history_prune failed");
	if ((o = history_query("rig-0", 0, HISTORY_TIME_MAX, p,
	    sizeof(p))) == NULL)
		errx(1, "history_query: %s", p);
	json_decref(o);
	history_close();	/* checkpoints: all of it in the file */
	bench_path(p, sizeof(p), "day.db");
	if (stat(p, &sb) == -1)
		err(1, "%s", p);
	*minutes = 1440;
	bench_rm("day.db");
	return ((long long)sb.st_size);
}

int
main(int argc, char *argv[])
{
	double		 fsyncs, full, off;
	long long	 size;
	long		 nfull, noff, minutes;

	if (argc > 2) {
		fprintf(stderr, "usage: history [directory]\n");
		return (1);
	}
	log_init(1, LOG_DAEMON);
	(void)snprintf(bench_dir, sizeof(bench_dir), "%s/history-bench.XXXXXX",
	    argc == 2 ? argv[1] : ".");
	if (mkdtemp(bench_dir) == NULL)
		err(1, "mkdtemp %s", bench_dir);

	fsyncs = bench_fsyncs();
	full = bench_inserts(0, &nfull);
	off = bench_inserts(1, &noff);
	size = bench_day(&minutes);
	(void)rmdir(bench_dir);

	printf("baseline: fdatasync of 64 bytes   %10.0f /s\n", fsyncs);
	printf("history_add, synchronous=FULL    %10.0f /s (%ld in %d s, "
	    "%.2f fsyncs per insert)\n", full, nfull, BENCH_SECS,
	    fsyncs / full);
	printf("history_add, synchronous=OFF     %10.0f /s (%ld in %d s)\n",
	    off, noff, BENCH_SECS);
	printf("one miner-day: %d samples + %ld minutes = %lld bytes "
	    "(%.1f KiB, %.0f bytes a sample)\n", BENCH_DAY_SAMPLES, minutes,
	    size, size / 1024.0, (double)size / BENCH_DAY_SAMPLES);
	return (0);
}
