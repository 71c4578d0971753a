/*
 * Hashrate history in SQLite: one writer (minerd), WAL, synchronous=FULL
 * so that a sample history_add acknowledged survives a kill -9 or a
 * power cut, a schema version in user_version, a size cap in
 * max_page_count.
 *
 *	samples(miner, ts, hr10s, hr60s, hr15m, shares, rejected)
 *		one row a poll (10 s), kept conf.history_samples seconds
 *	minutes(miner, ts, hr60s_avg, n)
 *		one row a finished minute, kept conf.history_minutes seconds
 *
 * A timer rolls the finished minutes up and deletes what is past its
 * retention, in one transaction.  A rate the miner did not report is
 * NULL.  A full disk (or the cap) drops the new sample with a log line
 * at most once a minute and loses nothing committed before it.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "miner.h"

/* Bump with every change to the tables; a newer file is refused. */
#define HISTORY_SCHEMA_VERSION	1
/* Only minerd writes; an operator's sqlite3 shell reading the file can
 * hold a lock for a checkpoint.  The event loop must not wait long. */
#define HISTORY_BUSY_MS		100
/* Seconds between roll-ups and pruning: a few minutes of un-rolled
 * samples cost nothing, and each run is one short transaction. */
#define HISTORY_PRUNE_INTERVAL	300
/* At most one log line this often about dropped samples. */
#define HISTORY_WARN_MS		60000
/* Rows of one query: a day of 10 s samples is 8640, an hour 360; this
 * bounds the answer near 1 MB (lethctl reads up to 4 MB). */
#define HISTORY_ROWS_MAX	10000
#define HISTORY_MINUTE_MS	60000LL
/* WAL bytes kept after a checkpoint: without a limit the -wal file
 * stays at its largest size, which on a small disk is what fills it. */
#define HISTORY_WAL_LIMIT	(4 * 1024 * 1024)

static const char history_schema[] =
	"CREATE TABLE samples (miner TEXT NOT NULL, ts INTEGER NOT NULL, "
	"hr10s REAL, hr60s REAL, hr15m REAL, shares INTEGER, "
	"rejected INTEGER);"
	"CREATE INDEX samples_miner_ts ON samples (miner, ts);"
	/* roll-up and pruning go by time across miners */
	"CREATE INDEX samples_ts ON samples (ts);"
	"CREATE TABLE minutes (miner TEXT NOT NULL, ts INTEGER NOT NULL, "
	"hr60s_avg REAL, n INTEGER NOT NULL, PRIMARY KEY (miner, ts)) "
	"WITHOUT ROWID;"
	"CREATE INDEX minutes_ts ON minutes (ts);";

enum history_stmt {
	ST_INSERT = 0,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_ROLLUP,
	ST_DEL_SAMPLES,
	ST_DEL_MINUTES,
	ST_OLDEST,
	ST_Q_MINUTES,
	ST_Q_SAMPLES,
	ST_MAX
};

static const char *history_sql[ST_MAX] = {
	[ST_INSERT] = "INSERT INTO samples (miner, ts, hr10s, hr60s, hr15m, "
	    "shares, rejected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_ROLLUP] = "INSERT OR REPLACE INTO minutes (miner, ts, hr60s_avg, "
	    "n) SELECT miner, ts - ts % 60000 AS m, avg(hr60s), count(hr60s) "
	    "FROM samples WHERE ts >= ?1 AND ts < ?2 GROUP BY miner, m",
	[ST_DEL_SAMPLES] = "DELETE FROM samples WHERE ts < ?1",
	[ST_DEL_MINUTES] = "DELETE FROM minutes WHERE ts < ?1",
	[ST_OLDEST] = "SELECT min(ts) FROM samples WHERE miner = ?1",
	[ST_Q_MINUTES] = "SELECT ts, hr60s_avg, n FROM minutes WHERE "
	    "miner = ?1 AND ts >= ?2 AND ts <= ?3 AND ts + 60000 <= ?4 "
	    "ORDER BY ts LIMIT ?5",
	[ST_Q_SAMPLES] = "SELECT ts, hr10s, hr60s, hr15m, shares, rejected "
	    "FROM samples WHERE miner = ?1 AND ts >= ?2 AND ts <= ?3 "
	    "ORDER BY ts LIMIT ?4",
};

static struct {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	struct event	*timer;
	long long	 samples_ms;	/* retention of samples */
	long long	 minutes_ms;	/* retention of minute averages */
	long long	 rolled_to;	/* minutes before this are rolled up */
	long long	 warned_at;	/* last "dropping samples" line */
	unsigned long	 dropped;	/* since that line */
	char		 why[128];	/* why there is no database */
} hist = { .why = "database not opened" };

static int	history_exec(const char *, char *, size_t);
static int	history_pragma_int(const char *, long long *, char *, size_t);
static int	history_wal(char *, size_t);
static int	history_schema_check(char *, size_t);
static int	history_step_done(enum history_stmt);
static int	history_prune_txn(long long, long long);
static void	history_drop(const char *, int);
static void	history_timer(int, short, void *);
static void	history_arm(void);
static int	history_bind_rate(sqlite3_stmt *, int, double);
static json_t	*history_rate(sqlite3_stmt *, int);
static int	history_name_ok(const char *);

static int
history_exec(const char *sql, char *err, size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_exec(hist.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		(void)snprintf(err, errlen, "%s (%.32s...)",
		    msg != NULL ? msg : sqlite3_errmsg(hist.db), sql);
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

/* Run a pragma that answers one integer (or set one and read it back). */
static int
history_pragma_int(const char *sql, long long *v, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(hist.db, sql, -1, &st, NULL) != SQLITE_OK) {
		(void)snprintf(err, errlen, "%s: %s", sql,
		    sqlite3_errmsg(hist.db));
		return (-1);
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		(void)snprintf(err, errlen, "%s: %s", sql,
		    rc == SQLITE_DONE ? "no answer" : sqlite3_errmsg(hist.db));
		sqlite3_finalize(st);
		return (-1);
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (0);
}

/* journal_mode answers the mode it got: WAL, or we say why not. */
static int
history_wal(char *err, size_t errlen)
{
	sqlite3_stmt		*st;
	const unsigned char	*mode;
	int			 ok;

	if (sqlite3_prepare_v2(hist.db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK) {
		(void)snprintf(err, errlen, "journal_mode: %s",
		    sqlite3_errmsg(hist.db));
		return (-1);
	}
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    (mode = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)mode, "wal") == 0;
	if (!ok)
		(void)snprintf(err, errlen, "journal_mode WAL refused: %s",
		    sqlite3_errmsg(hist.db));
	sqlite3_finalize(st);
	return (ok ? 0 : -1);
}

/*
 * A new file gets the schema and its version in one transaction; a file
 * of this version is used as it is; a newer one is refused untouched (a
 * downgrade must not guess at tables it does not know).
 */
static int
history_schema_check(char *err, size_t errlen)
{
	long long	 v;
	char		 sql[64];

	if (history_pragma_int("PRAGMA user_version", &v, err, errlen) == -1)
		return (-1);
	if (v == HISTORY_SCHEMA_VERSION)
		return (0);
	if (v > HISTORY_SCHEMA_VERSION) {
		(void)snprintf(err, errlen, "schema version %lld is newer "
		    "than this minerd's %d: leaving the file alone", v,
		    HISTORY_SCHEMA_VERSION);
		return (-1);
	}
	if (v != 0) {
		(void)snprintf(err, errlen, "unknown schema version %lld", v);
		return (-1);
	}
	(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    HISTORY_SCHEMA_VERSION);
	if (history_exec("BEGIN IMMEDIATE", err, errlen) == -1)
		return (-1);
	if (history_exec(history_schema, err, errlen) == -1 ||
	    history_exec(sql, err, errlen) == -1 ||
	    history_exec("COMMIT", err, errlen) == -1) {
		(void)sqlite3_exec(hist.db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	return (0);
}

int
history_open(int dirfd, char *err, size_t errlen)
{
	struct history_conf	 hc;
	struct stat		 dsb, psb;
	char			 path[PATH_MAX];
	int			 n;

	if (env == NULL || env->conf.workdir[0] == '\0') {
		(void)snprintf(err, errlen, "no state directory");
		return (-1);
	}
	/* SQLite opens by path: it must be the directory we were given */
	if (fstat(dirfd, &dsb) == -1 || stat(env->conf.workdir, &psb) == -1 ||
	    dsb.st_dev != psb.st_dev || dsb.st_ino != psb.st_ino) {
		(void)snprintf(err, errlen, "%s is not the state directory",
		    env->conf.workdir);
		return (-1);
	}
	n = snprintf(path, sizeof(path), "%s/%s", env->conf.workdir,
	    HISTORY_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		(void)snprintf(err, errlen, "state directory path too long");
		return (-1);
	}
	memset(&hc, 0, sizeof(hc));
	hc.samples = env->conf.history_samples;
	hc.minutes = env->conf.history_minutes;
	hc.max_bytes = (uint64_t)(env->conf.history_max_mb != 0 ?
	    env->conf.history_max_mb : HISTORY_MAX_MB_DEFAULT) * 1024 * 1024;
	if (history_open_path(path, &hc, err, errlen) == -1)
		return (-1);
	history_arm();
	return (0);
}

int
history_open_path(const char *path, const struct history_conf *hc,
    char *err, size_t errlen)
{
	long long	 v, page, pages;
	char		 sql[96];
	int		 i, rc;

	if (hist.db != NULL)
		history_close();
	hist.samples_ms = 1000LL * (hc->samples != 0 ? hc->samples :
	    HISTORY_SAMPLES_DEFAULT);
	hist.minutes_ms = 1000LL * (hc->minutes != 0 ? hc->minutes :
	    HISTORY_MINUTES_DEFAULT);
	hist.warned_at = 0;
	hist.dropped = 0;

	rc = sqlite3_open_v2(path, &hist.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		(void)snprintf(err, errlen, "%s: %s", path, hist.db != NULL ?
		    sqlite3_errmsg(hist.db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(hist.db, 0);
	(void)sqlite3_busy_timeout(hist.db, HISTORY_BUSY_MS);
	/* sorts in memory: no temporary files in /tmp or /var/tmp */
	if (history_exec("PRAGMA temp_store = MEMORY", err, errlen) == -1)
		goto fail;
	/* the version before anything else can touch a newer file */
	if (history_pragma_int("PRAGMA user_version", &v, err, errlen) == -1)
		goto fail;
	if (v > HISTORY_SCHEMA_VERSION) {
		(void)snprintf(err, errlen, "%s: schema version %lld is newer "
		    "than this minerd's %d: leaving the file alone", path, v,
		    HISTORY_SCHEMA_VERSION);
		goto fail;
	}
	if (history_wal(err, errlen) == -1 ||
	    history_exec(hc->sync_off ? "PRAGMA synchronous = OFF" :
	    "PRAGMA synchronous = FULL", err, errlen) == -1)
		goto fail;
	(void)snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d",
	    HISTORY_WAL_LIMIT);
	if (history_exec(sql, err, errlen) == -1)
		goto fail;
	if (history_pragma_int("PRAGMA page_size", &page, err, errlen) == -1)
		goto fail;
	pages = (long long)((hc->max_bytes != 0 ? hc->max_bytes :
	    (uint64_t)HISTORY_MAX_MB_DEFAULT * 1024 * 1024) / (uint64_t)page);
	if (pages < 1)
		pages = 1;
	(void)snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    pages);
	if (history_pragma_int(sql, &v, err, errlen) == -1)
		goto fail;
	if (history_schema_check(err, errlen) == -1) {
		/* the path first: the caller logs err as it is */
		char	 why[256];

		(void)strlcpy(why, err, sizeof(why));
		(void)snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(hist.db, history_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &hist.st[i], NULL) !=
		    SQLITE_OK) {
			(void)snprintf(err, errlen, "%s: prepare: %s", path,
			    sqlite3_errmsg(hist.db));
			goto fail;
		}
	}
	if (history_pragma_int("SELECT coalesce(max(ts), -60000) FROM "
	    "minutes", &v, err, errlen) == -1)
		goto fail;
	hist.rolled_to = v + HISTORY_MINUTE_MS;
	hist.why[0] = '\0';
	return (0);

 fail:
	history_close();
	(void)strlcpy(hist.why, err, sizeof(hist.why));
	return (-1);
}

void
history_close(void)
{
	int	 i;

	if (hist.timer != NULL) {
		event_free(hist.timer);
		hist.timer = NULL;
	}
	for (i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(hist.st[i]);
		hist.st[i] = NULL;
	}
	if (hist.db != NULL && sqlite3_close(hist.db) != SQLITE_OK)
		log_warnx("history: close: %s", sqlite3_errmsg(hist.db));
	hist.db = NULL;
	(void)strlcpy(hist.why, "database closed", sizeof(hist.why));
}

static void
history_arm(void)
{
	struct timeval	 tv = { HISTORY_PRUNE_INTERVAL, 0 };

	if (ev_base == NULL)
		return;
	if (hist.timer == NULL &&
	    (hist.timer = evtimer_new(ev_base, history_timer, NULL)) == NULL)
		fatal("evtimer_new");
	evtimer_add(hist.timer, &tv);
}

static void
history_timer(int fd, short event, void *arg)
{
	(void)history_prune(now_ms());
	history_arm();
}

/* A sample we could not store: log at most once a minute.  rc is an
 * SQLite code, or -1 when what says it all. */
static void
history_drop(const char *what, int rc)
{
	long long	 now = now_ms();

	hist.dropped++;
	if (hist.warned_at != 0 && now - hist.warned_at < HISTORY_WARN_MS &&
	    now >= hist.warned_at)
		return;
	log_warnx("history: %s%s%s: dropped %lu sample%s in the last minute "
	    "(earlier history is kept)", what, rc == -1 ? "" : ": ",
	    rc == -1 ? "" : rc == SQLITE_FULL ? "database or disk is full "
	    "(or the history size cap)" : sqlite3_errstr(rc), hist.dropped,
	    hist.dropped == 1 ? "" : "s");
	hist.warned_at = now;
	hist.dropped = 0;
}

/* Step a statement that returns no rows; reset it either way. */
static int
history_step_done(enum history_stmt s)
{
	sqlite3_stmt	*st = hist.st[s];
	int		 rc;

	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

static int
history_bind_rate(sqlite3_stmt *st, int i, double v)
{
	if (v < 0 || !isfinite(v))
		return (sqlite3_bind_null(st, i));
	return (sqlite3_bind_double(st, i, v));
}

static int
history_name_ok(const char *s)
{
	size_t	 i, len = strnlen(s, MINER_NAME_MAX + 1);

	if (len == 0 || len > MINER_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return (0);
	return (1);
}

int
history_add(const char *miner, long long ts, const struct miner_stats *ms)
{
	sqlite3_stmt	*st = hist.st[ST_INSERT];
	int		 rc;

	if (!history_name_ok(miner) || ts < 0 || ts > HISTORY_TIME_MAX)
		return (-1);
	if (hist.db == NULL) {
		history_drop(hist.why, -1);
		return (-1);
	}
	if (sqlite3_bind_text(st, 1, miner, -1, SQLITE_TRANSIENT) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, ts) != SQLITE_OK ||
	    history_bind_rate(st, 3, ms->hr10s) != SQLITE_OK ||
	    history_bind_rate(st, 4, ms->hr60s) != SQLITE_OK ||
	    history_bind_rate(st, 5, ms->hr15m) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, ms->shares > INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)ms->shares) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, ms->rejected > INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)ms->rejected) != SQLITE_OK) {
		(void)sqlite3_clear_bindings(st);
		history_drop("bind", sqlite3_errcode(hist.db));
		return (-1);
	}
	/* autocommit: one transaction, committed (fsync) when this returns */
	if ((rc = history_step_done(ST_INSERT)) != SQLITE_OK) {
		history_drop(miner, rc);
		return (-1);
	}
	return (0);
}

/*
 * One transaction: old averages out, finished minutes rolled up, old
 * samples out.  At the size cap the roll-up may find no room: then the
 * deletions alone, so that the database frees itself and new samples
 * fit again (the averages of the minutes that aged out meanwhile are
 * the price of a full cap).
 */
int
history_prune(long long now)
{
	long long	 upto;
	int		 rc;

	if (hist.db == NULL)
		return (-1);
	upto = now - now % HISTORY_MINUTE_MS;	/* the minute under way */
	rc = history_prune_txn(now, upto > hist.rolled_to ? upto : 0);
	if (rc == SQLITE_OK) {
		if (upto > hist.rolled_to)
			hist.rolled_to = upto;
		return (0);
	}
	if (rc != SQLITE_FULL) {
		log_warnx("history: pruning: %s", sqlite3_errstr(rc));
		return (-1);
	}
	log_warnx("history: pruning: no room to roll minutes up (history "
	    "max-size): deleting old rows only");
	if ((rc = history_prune_txn(now, 0)) != SQLITE_OK) {
		log_warnx("history: pruning: %s", sqlite3_errstr(rc));
		return (-1);
	}
	return (0);
}

/* upto: roll up the minutes before it (0: none).  An SQLite code. */
static int
history_prune_txn(long long now, long long upto)
{
	long long	 lo;
	int		 rc;

	if ((rc = history_step_done(ST_BEGIN)) != SQLITE_OK)
		return (rc);
	sqlite3_bind_int64(hist.st[ST_DEL_MINUTES], 1, now - hist.minutes_ms);
	if ((rc = history_step_done(ST_DEL_MINUTES)) != SQLITE_OK)
		goto rollback;
	if (upto != 0) {
		/* nothing older than the averages are kept */
		lo = now - hist.minutes_ms;
		lo += (HISTORY_MINUTE_MS - lo % HISTORY_MINUTE_MS) %
		    HISTORY_MINUTE_MS;
		if (lo < hist.rolled_to)
			lo = hist.rolled_to;
		sqlite3_bind_int64(hist.st[ST_ROLLUP], 1, lo);
		sqlite3_bind_int64(hist.st[ST_ROLLUP], 2, upto);
		if ((rc = history_step_done(ST_ROLLUP)) != SQLITE_OK)
			goto rollback;
	}
	sqlite3_bind_int64(hist.st[ST_DEL_SAMPLES], 1, now - hist.samples_ms);
	if ((rc = history_step_done(ST_DEL_SAMPLES)) != SQLITE_OK)
		goto rollback;
	if ((rc = history_step_done(ST_COMMIT)) != SQLITE_OK)
		goto rollback;
	return (SQLITE_OK);

 rollback:
	(void)history_step_done(ST_ROLLBACK);
	return (rc);
}

/* A rate column: a number, or null when the miner did not report it. */
static json_t *
history_rate(sqlite3_stmt *st, int col)
{
	double	 v;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	v = sqlite3_column_double(st, col);
	if (!isfinite(v) || v < 0)
		return (json_null());
	return (json_real(v));
}

json_t *
history_query(const char *miner, long long since, long long until,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	json_t		*o = NULL, *rows = NULL, *row;
	long long	 cut = HISTORY_TIME_MAX;
	size_t		 n = 0;
	int		 rc, bad = 0;

	if (!history_name_ok(miner)) {
		(void)snprintf(err, errlen, "bad miner name");
		return (NULL);
	}
	if (since < 0 || until < since || until > HISTORY_TIME_MAX) {
		(void)snprintf(err, errlen, "bad time range");
		return (NULL);
	}
	if (hist.db == NULL) {
		(void)snprintf(err, errlen, "no history: %s", hist.why);
		return (NULL);
	}
	if ((rows = json_array()) == NULL)
		goto nomem;

	/* minute averages only where no 10 s samples are kept */
	st = hist.st[ST_OLDEST];
	sqlite3_bind_text(st, 1, miner, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		cut = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW)
		goto dberr;

	st = hist.st[ST_Q_MINUTES];
	sqlite3_bind_text(st, 1, miner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	sqlite3_bind_int64(st, 4, cut);
	sqlite3_bind_int64(st, 5, HISTORY_ROWS_MAX + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n <= HISTORY_ROWS_MAX) {
		if ((row = json_object()) == NULL)
			bad = 1;
		else if (json_array_append_new(rows, row) == -1)
			bad = 1;
		else {
			bad |= json_object_set_new(row, "ts",
			    json_integer(sqlite3_column_int64(st, 0)));
			bad |= json_object_set_new(row, "kind",
			    json_string("minute"));
			bad |= json_object_set_new(row, "hr60s",
			    history_rate(st, 1));
			bad |= json_object_set_new(row, "n",
			    json_integer(sqlite3_column_int64(st, 2)));
		}
		n++;
		if (bad)
			break;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (bad)
		goto nomem;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto dberr;

	st = hist.st[ST_Q_SAMPLES];
	sqlite3_bind_text(st, 1, miner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	sqlite3_bind_int64(st, 4, HISTORY_ROWS_MAX + 1);
	rc = SQLITE_DONE;
	while (n <= HISTORY_ROWS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((row = json_object()) == NULL)
			bad = 1;
		else if (json_array_append_new(rows, row) == -1)
			bad = 1;
		else {
			bad |= json_object_set_new(row, "ts",
			    json_integer(sqlite3_column_int64(st, 0)));
			bad |= json_object_set_new(row, "kind",
			    json_string("sample"));
			bad |= json_object_set_new(row, "hr10s",
			    history_rate(st, 1));
			bad |= json_object_set_new(row, "hr60s",
			    history_rate(st, 2));
			bad |= json_object_set_new(row, "hr15m",
			    history_rate(st, 3));
			bad |= json_object_set_new(row, "shares",
			    json_integer(sqlite3_column_int64(st, 4)));
			bad |= json_object_set_new(row, "rejected",
			    json_integer(sqlite3_column_int64(st, 5)));
		}
		n++;
		if (bad)
			break;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (bad)
		goto nomem;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto dberr;

	/* one row past the limit says there is more */
	if (n > HISTORY_ROWS_MAX && json_array_remove(rows,
	    HISTORY_ROWS_MAX) == -1)
		goto nomem;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "miner", json_string(miner)) == -1 ||
	    json_object_set_new(o, "since", json_integer(since)) == -1 ||
	    json_object_set_new(o, "until", json_integer(until)) == -1 ||
	    json_object_set_new(o, "truncated",
	    json_boolean(n > HISTORY_ROWS_MAX)) == -1 ||
	    json_object_set(o, "samples", rows) == -1)
		goto nomem;
	json_decref(rows);
	return (o);

 dberr:
	(void)snprintf(err, errlen, "history: %s", sqlite3_errstr(rc));
	json_decref(rows);
	return (NULL);
 nomem:
	(void)snprintf(err, errlen, "out of memory");
	json_decref(o);
	json_decref(rows);
	return (NULL);
}
