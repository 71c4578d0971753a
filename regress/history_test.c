/*
 * minerd's hashrate history (minerd/history.c): the schema and its
 * version, queries by time, the minute roll-up, pruning, a newer schema
 * refused, a full database, kill -9 at random moments, and all of it
 * under minerd's seccomp filter.
 *
 * Each case works in the directory ATF gives it; the database is also
 * read with SQLite directly, as an operator's sqlite3 shell would.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <jansson.h>
#include <sqlite3.h>

#include "lethd.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "util.h"
#include "minerd.h"
#include "miner.h"

#define DB		"history.db"
#define T0		1699999980000LL	/* a whole minute, in Unix ms */
#define MIN_MS		60000LL
#define KILL_ROUNDS	8	/* kill -9 rounds */
#define KILL_MAX_US	300000	/* at most this long before the kill */
#define CHILD_FAILED	99

static struct minerd_env	 test_env;

static void
setup(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
}

static void
stats(struct miner_stats *ms, double r10, double r60, double r15,
    uint64_t shares)
{
	memset(ms, 0, sizeof(*ms));
	ms->hr10s = r10;
	ms->hr60s = r60;
	ms->hr15m = r15;
	ms->shares = shares;
	ms->rejected = shares / 10;
}

static void
open_db(const struct history_conf *hc)
{
	struct history_conf	 def;
	char			 err[512];

	if (hc == NULL) {
		memset(&def, 0, sizeof(def));
		hc = &def;
	}
	if (history_open_path(DB, hc, err, sizeof(err)) == -1)
		atf_tc_fail("history_open_path: %s", err);
}

/* A second connection, as an operator's sqlite3 shell. */
static sqlite3 *
peek_open(void)
{
	sqlite3	*db;

	ATF_REQUIRE_EQ(sqlite3_open_v2(DB, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	return (db);
}

static long long
peek_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		atf_tc_fail("%s: %s", sql, sqlite3_errmsg(db));
	ATF_REQUIRE_EQ(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

static void
peek_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt	*st;
	const char	*s;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		atf_tc_fail("%s: %s", sql, sqlite3_errmsg(db));
	ATF_REQUIRE_EQ(sqlite3_step(st), SQLITE_ROW);
	s = (const char *)sqlite3_column_text(st, 0);
	(void)strlcpy(buf, s != NULL ? s : "(null)", len);
	sqlite3_finalize(st);
}

static json_t *
query(const char *miner, long long since, long long until)
{
	json_t	*o;
	char	 err[256];

	if ((o = history_query(miner, since, until, err, sizeof(err))) ==
	    NULL)
		atf_tc_fail("history_query: %s", err);
	return (o);
}

static json_t *
rows_of(json_t *o)
{
	json_t	*a = json_object_get(o, "samples");

	ATF_REQUIRE(json_is_array(a));
	return (a);
}

ATF_TC_WITHOUT_HEAD(new_database_gets_schema_version_and_wal);
ATF_TC_BODY(new_database_gets_schema_version_and_wal, tc)
{
	sqlite3	*db;
	char	 cwd[PATH_MAX], buf[64], err[256];
	int	 dirfd;

	setup();
	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	ATF_REQUIRE((dirfd = open(".", O_RDONLY | O_DIRECTORY)) != -1);
	env = &test_env;
	(void)strlcpy(env->conf.workdir, cwd, sizeof(env->conf.workdir));
	if (history_open(dirfd, err, sizeof(err)) == -1)
		atf_tc_fail("history_open: %s", err);

	db = peek_open();
	ATF_CHECK_EQ(peek_int(db, "PRAGMA user_version"), 1);
	peek_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	ATF_CHECK_STREQ(buf, "wal");
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name IN ('samples', 'minutes')"), 2);
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name = 'samples_miner_ts'"), 1);
	sqlite3_close(db);
	history_close();

	/* a directory that is not the state directory is refused */
	ATF_REQUIRE(mkdir("other", 0700) == 0);
	close(dirfd);
	ATF_REQUIRE((dirfd = open("other", O_RDONLY | O_DIRECTORY)) != -1);
	ATF_CHECK(history_open(dirfd, err, sizeof(err)) == -1);
	ATF_CHECK(strstr(err, "not the state directory") != NULL);
	close(dirfd);
	env = NULL;
}

ATF_TC_WITHOUT_HEAD(samples_come_back_in_range_with_nulls);
ATF_TC_BODY(samples_come_back_in_range_with_nulls, tc)
{
	struct miner_stats	 ms;
	json_t			*o, *a, *r;
	int			 i;

	setup();
	open_db(NULL);
	for (i = 0; i < 10; i++) {
		stats(&ms, 1000.0 + i, i == 0 ? -1 : 900.0 + i, -1, i);
		ATF_REQUIRE_EQ(history_add("rig-1", T0 + i * 10000LL, &ms), 0);
		stats(&ms, 5, 5, 5, i);
		ATF_REQUIRE_EQ(history_add("other", T0 + i * 10000LL, &ms), 0);
	}
	/* [20 s, 50 s]: four samples, of rig-1 only */
	o = query("rig-1", T0 + 20000, T0 + 50000);
	a = rows_of(o);
	ATF_REQUIRE_EQ(json_array_size(a), 4);
	r = json_array_get(a, 0);
	ATF_CHECK_EQ(json_integer_value(json_object_get(r, "ts")),
	    T0 + 20000);
	ATF_CHECK_STREQ(json_string_value(json_object_get(r, "kind")),
	    "sample");
	ATF_CHECK(json_real_value(json_object_get(r, "hr10s")) == 1002.0);
	ATF_CHECK(json_real_value(json_object_get(r, "hr60s")) == 902.0);
	ATF_CHECK(json_is_null(json_object_get(r, "hr15m")));
	ATF_CHECK_EQ(json_integer_value(json_object_get(r, "shares")), 2);
	ATF_CHECK(json_is_false(json_object_get(o, "truncated")));
	json_decref(o);

	/* an unknown rate is null, not 0 or -1 */
	o = query("rig-1", T0, T0);
	a = rows_of(o);
	ATF_REQUIRE_EQ(json_array_size(a), 1);
	ATF_CHECK(json_is_null(json_object_get(json_array_get(a, 0),
	    "hr60s")));
	json_decref(o);

	o = query("nobody", T0, T0 + 100000);
	ATF_CHECK_EQ(json_array_size(rows_of(o)), 0);
	json_decref(o);

	/* bad names and ranges are refused */
	stats(&ms, 1, 1, 1, 1);
	ATF_CHECK_EQ(history_add("bad name", T0, &ms), -1);
	ATF_CHECK_EQ(history_add("", T0, &ms), -1);
	ATF_CHECK_EQ(history_add("x", -1, &ms), -1);
	{
		char	 err[128];

		ATF_CHECK(history_query("rig-1", T0 + 1, T0, err,
		    sizeof(err)) == NULL);
		ATF_CHECK(history_query("../x/", T0, T0 + 1, err,
		    sizeof(err)) == NULL);
	}
	history_close();
}

ATF_TC_WITHOUT_HEAD(finished_minutes_roll_up_into_averages);
ATF_TC_BODY(finished_minutes_roll_up_into_averages, tc)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	sqlite3			*db;
	json_t			*o, *a, *r;

	setup();
	memset(&hc, 0, sizeof(hc));
	hc.samples = 60;	/* a minute of 10 s samples */
	open_db(&hc);
	/* minute 0: 100, 200, 300 and one unknown; minute 1: 50 */
	stats(&ms, 1, 100, 1, 1);
	ATF_REQUIRE_EQ(history_add("m", T0 + 0, &ms), 0);
	ms.hr60s = 200;
	ATF_REQUIRE_EQ(history_add("m", T0 + 10000, &ms), 0);
	ms.hr60s = -1;
	ATF_REQUIRE_EQ(history_add("m", T0 + 20000, &ms), 0);
	ms.hr60s = 300;
	ATF_REQUIRE_EQ(history_add("m", T0 + 50000, &ms), 0);
	ms.hr60s = 50;
	ATF_REQUIRE_EQ(history_add("m", T0 + MIN_MS + 5000, &ms), 0);

	/* during minute 1: only minute 0 is finished */
	ATF_REQUIRE_EQ(history_prune(T0 + MIN_MS + 30000), 0);
	db = peek_open();
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM minutes"), 1);
	ATF_CHECK_EQ(peek_int(db, "SELECT n FROM minutes"), 3);
	ATF_CHECK_EQ(peek_int(db, "SELECT hr60s_avg FROM minutes"), 200);

	/* three minutes on: both rolled up, the samples of minute 0 gone */
	ATF_REQUIRE_EQ(history_prune(T0 + 3 * MIN_MS), 0);
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM minutes"), 2);
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM samples"), 0);
	sqlite3_close(db);

	o = query("m", T0, T0 + 3 * MIN_MS);
	a = rows_of(o);
	ATF_REQUIRE_EQ(json_array_size(a), 2);
	r = json_array_get(a, 0);
	ATF_CHECK_STREQ(json_string_value(json_object_get(r, "kind")),
	    "minute");
	ATF_CHECK_EQ(json_integer_value(json_object_get(r, "ts")), T0);
	ATF_CHECK(json_real_value(json_object_get(r, "hr60s")) == 200.0);
	ATF_CHECK_EQ(json_integer_value(json_object_get(r, "n")), 3);
	r = json_array_get(a, 1);
	ATF_CHECK(json_real_value(json_object_get(r, "hr60s")) == 50.0);
	json_decref(o);

	/* the roll-up survives a reopen and is not done twice */
	history_close();
	open_db(&hc);
	ATF_REQUIRE_EQ(history_prune(T0 + 4 * MIN_MS), 0);
	db = peek_open();
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM minutes"), 2);
	sqlite3_close(db);
	history_close();
}

ATF_TC_WITHOUT_HEAD(pruning_deletes_rows_past_their_retention);
ATF_TC_BODY(pruning_deletes_rows_past_their_retention, tc)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	sqlite3			*db;
	json_t			*o, *a;
	int			 i;

	setup();
	memset(&hc, 0, sizeof(hc));
	hc.samples = 600;		/* 10 minutes */
	hc.minutes = 3600;		/* an hour */
	open_db(&hc);
	stats(&ms, 1, 10, 1, 1);
	/* two hours of one sample a minute */
	for (i = 0; i < 120; i++)
		ATF_REQUIRE_EQ(history_add("p", T0 + i * MIN_MS + 1000, &ms),
		    0);
	ATF_REQUIRE_EQ(history_prune(T0 + 120 * MIN_MS), 0);
	db = peek_open();
	/* samples younger than 10 minutes: minutes 110..119 */
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM samples"), 10);
	ATF_CHECK_EQ(peek_int(db, "SELECT min(ts) FROM samples"),
	    T0 + 110 * MIN_MS + 1000);
	/* averages younger than an hour: minutes 60..119 */
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM minutes"), 60);
	ATF_CHECK_EQ(peek_int(db, "SELECT min(ts) FROM minutes"),
	    T0 + 60 * MIN_MS);
	sqlite3_close(db);

	/* a query over all of it: minutes where no samples are kept */
	o = query("p", T0, T0 + 120 * MIN_MS);
	a = rows_of(o);
	ATF_CHECK_EQ(json_array_size(a), 50 + 10);
	ATF_CHECK_STREQ(json_string_value(json_object_get(
	    json_array_get(a, 49), "kind")), "minute");
	ATF_CHECK_STREQ(json_string_value(json_object_get(
	    json_array_get(a, 50), "kind")), "sample");
	json_decref(o);
	history_close();
}

ATF_TC_WITHOUT_HEAD(newer_schema_is_refused_and_left_alone);
ATF_TC_BODY(newer_schema_is_refused_and_left_alone, tc)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	sqlite3			*db;
	char			 err[512], buf[32];

	setup();
	ATF_REQUIRE_EQ(sqlite3_open(DB, &db), SQLITE_OK);
	ATF_REQUIRE_EQ(sqlite3_exec(db, "CREATE TABLE future (x); "
	    "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	memset(&hc, 0, sizeof(hc));
	ATF_CHECK_EQ(history_open_path(DB, &hc, err, sizeof(err)), -1);
	ATF_CHECK_MSG(strstr(err, "newer") != NULL, "err: %s", err);
	stats(&ms, 1, 1, 1, 1);
	ATF_CHECK_EQ(history_add("m", T0, &ms), -1);
	ATF_CHECK(history_query("m", T0, T0, err, sizeof(err)) == NULL);

	db = peek_open();
	ATF_CHECK_EQ(peek_int(db, "PRAGMA user_version"), 2);
	peek_text(db, "PRAGMA journal_mode", buf, sizeof(buf));
	ATF_CHECK_STREQ(buf, "delete");
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'samples'"), 0);
	sqlite3_close(db);
}

ATF_TC_WITHOUT_HEAD(full_database_drops_new_samples_keeps_old);
ATF_TC_BODY(full_database_drops_new_samples_keeps_old, tc)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	sqlite3			*db;
	char			 buf[32];
	long long		 acked = 0, i;
	int			 fails = 0;

	setup();
	memset(&hc, 0, sizeof(hc));
	hc.max_bytes = 16 * 4096;	/* 16 pages */
	open_db(&hc);
	stats(&ms, 1234.5, 1234.5, 1234.5, 7);
	for (i = 0; i < 100000 && fails < 5; i++) {
		if (history_add("full-rig", T0 + i * 10000, &ms) == 0) {
			ATF_REQUIRE_EQ(fails, 0);	/* no gaps */
			acked++;
		} else
			fails++;
	}
	ATF_REQUIRE_MSG(fails == 5, "never full after %lld samples", i);
	ATF_REQUIRE(acked > 10);

	/* still usable: queries work, pruning frees room for new ones */
	{
		json_t	*o = query("full-rig", T0, T0 + i * 10000);

		ATF_CHECK_EQ((long long)json_array_size(rows_of(o)), acked);
		json_decref(o);
	}
	history_close();

	db = peek_open();
	peek_text(db, "PRAGMA integrity_check", buf, sizeof(buf));
	ATF_CHECK_STREQ(buf, "ok");
	ATF_CHECK_EQ(peek_int(db, "SELECT count(*) FROM samples"), acked);
	ATF_CHECK_EQ(peek_int(db, "SELECT max(ts) FROM samples"),
	    T0 + (acked - 1) * 10000);
	sqlite3_close(db);

	open_db(&hc);
	ATF_REQUIRE_EQ(history_prune(T0 + acked * 10000 + 86400 * 1000LL -
	    (acked / 2) * 10000), 0);
	ATF_CHECK_EQ(history_add("full-rig", T0 + (i + 1) * 10000, &ms), 0);
	history_close();
}

/*
 * The child inserts as fast as it can and reports each acknowledged
 * sample's ts on the pipe; the parent kills it at a random moment, then
 * checks the file and that every reported sample is in it.
 */
static __attribute__((__noreturn__)) void
kill_child(int wfd, long long base)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	char			 err[256];
	long long		 ts;

	memset(&hc, 0, sizeof(hc));
	if (history_open_path(DB, &hc, err, sizeof(err)) == -1) {
		fprintf(stderr, "child: %s\n", err);
		_exit(CHILD_FAILED);
	}
	stats(&ms, 1, 2, 3, 4);
	for (ts = base;; ts += 10) {
		if (history_add("k", ts, &ms) == -1)
			_exit(CHILD_FAILED);
		if (write(wfd, &ts, sizeof(ts)) != sizeof(ts))
			_exit(CHILD_FAILED);
		/* now and then a roll-up, as the timer would */
		if ((ts - base) % 2000 == 0)
			(void)history_prune(ts);
	}
}

ATF_TC_WITHOUT_HEAD(kill_9_at_random_loses_nothing_acknowledged);
ATF_TC_BODY(kill_9_at_random_loses_nothing_acknowledged, tc)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	*acked = NULL, ts, base = T0;
	size_t		 nacked = 0, cap = 0, k, missing;
	char		 buf[32];
	int		 p[2], round, status;
	pid_t		 pid;
	ssize_t		 n;

	setup();
	for (round = 0; round < KILL_ROUNDS; round++) {
		ATF_REQUIRE(pipe(p) == 0);
		fflush(stderr);
		ATF_REQUIRE((pid = fork()) != -1);
		if (pid == 0) {
			close(p[0]);
			kill_child(p[1], base);
		}
		close(p[1]);
		/* round 0 kills at once: maybe in the middle of creating */
		if (round > 0)
			usleep(arc4random_uniform(KILL_MAX_US));
		ATF_REQUIRE(kill(pid, SIGKILL) == 0);
		ATF_REQUIRE_EQ(waitpid(pid, &status, 0), pid);
		ATF_REQUIRE_MSG(WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL, "child ended on its own");
		while ((n = read(p[0], &ts, sizeof(ts))) == sizeof(ts)) {
			if (nacked == cap) {
				cap = cap ? cap * 2 : 4096;
				ATF_REQUIRE((acked = reallocarray(acked, cap,
				    sizeof(*acked))) != NULL);
			}
			acked[nacked++] = ts;
			base = ts + 10;
		}
		ATF_REQUIRE_EQ(n, 0);
		close(p[0]);

		if (access(DB, F_OK) == -1)
			continue;	/* killed before the file existed */
		db = peek_open();
		peek_text(db, "PRAGMA integrity_check", buf, sizeof(buf));
		ATF_REQUIRE_STREQ(buf, "ok");
		/* killed after the file was made, before its schema was
		 * committed: then nothing can have been acknowledged */
		peek_text(db, "SELECT count(*) FROM sqlite_master WHERE "
		    "name = 'samples'", buf, sizeof(buf));
		if (strcmp(buf, "0") == 0) {
			ATF_REQUIRE_EQ(nacked, 0);
			sqlite3_close(db);
			continue;
		}
		ATF_REQUIRE_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
		    "samples WHERE miner = 'k' AND ts = ?1", -1, &st, NULL),
		    SQLITE_OK);
		for (k = missing = 0; k < nacked; k++) {
			sqlite3_bind_int64(st, 1, acked[k]);
			ATF_REQUIRE_EQ(sqlite3_step(st), SQLITE_ROW);
			if (sqlite3_column_int64(st, 0) != 1)
				missing++;
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		ATF_REQUIRE_MSG(missing == 0, "round %d: %zu of %zu "
		    "acknowledged samples lost", round, missing, nacked);
		/* the next child starts where the others stopped */
		base += 1000;
	}
	ATF_REQUIRE_MSG(nacked > 0, "no child ever committed a sample");
	printf("%zu acknowledged samples over %d kills\n", nacked,
	    KILL_ROUNDS);
	free(acked);
}

/*
 * Under minerd's filter: open (creating the file), add, roll up,
 * query, reopen, close.  A syscall SQLite needs and the filter lacks
 * kills the child with SIGSYS.
 */
ATF_TC_WITHOUT_HEAD(history_works_under_the_minerd_filter);
ATF_TC_BODY(history_works_under_the_minerd_filter, tc)
{
	struct history_conf	 hc;
	struct miner_stats	 ms;
	struct passwd		*pw = NULL;
	char			 err[256], dir[64], path[PATH_MAX];
	char			 rm[PATH_MAX + 8];
	json_t			*o;
	pid_t			 pid;
	int			 status, i;

	setup();
	/*
	 * minerd is never root, and SQLite does things as root that it
	 * does not otherwise (fchown of new files): as root, run as
	 * minerd's user in a directory of its own, as minerd does.
	 */
	(void)strlcpy(dir, "/tmp/history_test.XXXXXX", sizeof(dir));
	ATF_REQUIRE(mkdtemp(dir) != NULL);
	if (geteuid() == 0) {
		if ((pw = getpwnam(LETHD_USER_MINERD)) == NULL)
			atf_tc_skip("no user %s", LETHD_USER_MINERD);
		ATF_REQUIRE(chown(dir, pw->pw_uid, pw->pw_gid) == 0);
	}
	ATF_REQUIRE(snprintf(path, sizeof(path), "%s/%s", dir, DB) <
	    (int)sizeof(path));
	memset(&hc, 0, sizeof(hc));
	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (pw != NULL)
			privsep_drop(NULL, dir, pw->pw_uid, pw->pw_gid, 1);
		else
			privsep_nodump();
		if (sandbox_init(PROC_MINERD) == -1)
			_exit(CHILD_FAILED);
		if (history_open_path(path, &hc, err, sizeof(err)) == -1)
			_exit(CHILD_FAILED);
		stats(&ms, 10, 20, 30, 1);
		for (i = 0; i < 20; i++)
			if (history_add("sb", T0 + i * 10000LL, &ms) == -1)
				_exit(CHILD_FAILED);
		if (history_prune(T0 + 10 * MIN_MS) == -1)
			_exit(CHILD_FAILED);
		if ((o = history_query("sb", T0, T0 + 10 * MIN_MS, err,
		    sizeof(err))) == NULL)
			_exit(CHILD_FAILED);
		json_decref(o);
		history_close();
		if (history_open_path(path, &hc, err, sizeof(err)) == -1)
			_exit(CHILD_FAILED);
		history_close();
		_exit(0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	(void)snprintf(rm, sizeof(rm), "%s-wal", path);
	(void)unlink(rm);
	(void)snprintf(rm, sizeof(rm), "%s-shm", path);
	(void)unlink(rm);
	(void)unlink(path);
	(void)rmdir(dir);
	if (WIFSIGNALED(status))
		atf_tc_fail("killed by signal %d%s", WTERMSIG(status),
		    WTERMSIG(status) == SIGSYS ? " (SIGSYS: a syscall the "
		    "minerd filter forbids)" : "");
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child failed (see stderr)");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, new_database_gets_schema_version_and_wal);
	ATF_TP_ADD_TC(tp, samples_come_back_in_range_with_nulls);
	ATF_TP_ADD_TC(tp, finished_minutes_roll_up_into_averages);
	ATF_TP_ADD_TC(tp, pruning_deletes_rows_past_their_retention);
	ATF_TP_ADD_TC(tp, newer_schema_is_refused_and_left_alone);
	ATF_TP_ADD_TC(tp, full_database_drops_new_samples_keeps_old);
	ATF_TP_ADD_TC(tp, kill_9_at_random_loses_nothing_acknowledged);
	ATF_TP_ADD_TC(tp, history_works_under_the_minerd_filter);
	return (atf_no_error());
}
