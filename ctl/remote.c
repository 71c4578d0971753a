/*
 * lethctl remote ...: drive the workers this node pinned, over
 * /api/v1/remote (minerd/api_remote.c); and lethctl peer tag/untag,
 * the groups remote commands select with --tag.
 *
 *	remote status [PEER... | --tag T | --all]
 *	remote start PEER | --tag T PROFILE [-n NAME]
 *	remote stop PEER | --tag T MINER
 *	remote restart PEER | --tag T MINER
 *	remote logs PEER MINER [-n N]
 *	remote profiles PEER
 *	remote ping PEER
 *	peer tag ID TAG...
 *	peer untag ID TAG...
 *
 * A PEER is a peer id (32 hex digits) or the name of exactly one peer
 * in the registry.  With --tag, start, stop and restart list the
 * pinned workers carrying the tag and call each in turn, one line per
 * worker, and exit 1 if any of them failed.  Everything the daemon or
 * a worker says is vis(3)-encoded before it is printed.
 */

#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethd.h"
#include "name.h"
#include "lethctl.h"
#include "lethctl_miner.h"

/* Raw bytes of a bad argument we echo in an error. */
#define REMOTE_ARG_ECHO		64
/* Peers named on one command line: each is ~40 bytes of the query,
 * and the whole request line must fit the daemon's header limit
 * (CTL_MAX_HEADERS); more is what --tag and --all are for. */
#define REMOTE_ARGS_MAX		64
/* "/api/v1/remote/<id>/logs/<miner>?n=N" and the like */
#define REMOTE_PATH_MAX		256
/* A status query: the prefix and REMOTE_ARGS_MAX peers, or a tag
 * percent-encoded (3 bytes a byte). */
#define REMOTE_QUERY_MAX	(64 + REMOTE_ARGS_MAX * (6 + NODE_ID_LEN) + \
				    3 * RESP_TAG_MAX)
/* Log lines remote logs prints without -n, and asks for at most (the
 * daemon's REMOTE_LOGS_MAX). */
#define REMOTE_LOGS_DEFAULT	50
#define REMOTE_LOGS_MAX		10000
/* The tag a --tag names, raw bytes: the daemon's PEER_TAG_MAX; and
 * tags in one peer tag or untag: the daemon's PEER_TAGS_MAX. */
#define REMOTE_TAG_MAX		32
#define REMOTE_TAGS_ARGS_MAX	16
/* The hashrate windows a status row shows: 10 s, 60 s, 15 min. */
#define REMOTE_WINDOWS		3
/* Bytes of a rate as output_rate writes it ("999.99 EH/s"), of a
 * count in decimal (a long long: 19 digits, a sign, the NUL), of an
 * uptime as output_uptime writes it ("2d03h"), and of an age as
 * output_age writes it (an uptime and " ago"): each with room. */
#define REMOTE_RATE_LEN		32
#define REMOTE_COUNT_LEN	24
#define REMOTE_UPTIME_LEN	32
#define REMOTE_AGE_LEN		64
/* The widest a column grows: a hostile worker's long string widens its
 * own cell, not every line of the table past a screen. */
#define REMOTE_WIDTH_MAX	4096

/* A remote call answers up to a second past its timeout; lethctl must
 * still be waiting then. */
#if REMOTE_TIMEOUT_MAX + 2 > CTL_TIMEOUT
#error "REMOTE_TIMEOUT_MAX (lethd.h) must stay below lethctl's CTL_TIMEOUT"
#endif

/* What remote status shows of one miner, every string vis-encoded. */
struct remote_row {
	char		 peer[RESP_VIS_MAX];
	char		 miner[RESP_VIS_MAX];
	char		 state[RESP_VIS_MAX];
	char		 hr[REMOTE_WINDOWS][REMOTE_RATE_LEN];
	char		 shares[REMOTE_COUNT_LEN];
	char		 rejected[REMOTE_COUNT_LEN];
	char		 uptime[REMOTE_UPTIME_LEN];
	char		 pool[RESP_VIS_MAX];
	char		 algo[RESP_VIS_MAX];
	char		 age[REMOTE_AGE_LEN];
};

/* Column widths of the status table. */
struct remote_widths {
	int		 peer, miner, state, hr[REMOTE_WINDOWS], shares;
	int		 rejected, uptime;
	int		 pool, algo;
};

static const char *const remote_windows[REMOTE_WINDOWS] = {
	"10s", "60s", "15m"
};

static const char *remote_vis(char *, size_t, const char *);
static void	remote_str(const json_t *, const char *, char *, size_t);
static double	remote_rate(const json_t *);
static long long remote_count(const json_t *, const char *);
static long long remote_now_ms(void);
static void	remote_peer_arg(struct ctl *, const char *,
		    char [NODE_ID_LEN + 1]);
static void	remote_tag_arg(const char *);
static void	remote_query_add(char *, size_t, const char *,
		    const char *);
static size_t	remote_tagged(struct ctl *, const char *, char (**)[
		    NODE_ID_LEN + 1]);
static int	remote_ack_line(const char *, const struct resp *, int,
		    const char *);
static int	remote_command(struct ctl *, int, char **, const char *);
static void	remote_row_fill(struct remote_row *, const char *,
		    const json_t *, long long);
static void	remote_widen(struct remote_widths *, const struct remote_row *);
static void	remote_status_print(const json_t *);
static int	remote_width(const char *, int);

static const char *
remote_vis(char *buf, size_t len, const char *s)
{
	(void)strnvisx(buf, len, s, strnlen(s, REMOTE_ARG_ECHO),
	    RESP_VIS_FLAGS);
	return (buf);
}

static long long
remote_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		err(1, "clock_gettime");
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
remote_width(const char *s, int w)
{
	size_t	 len = strlen(s);

	if (len > (size_t)w)
		w = len > REMOTE_WIDTH_MAX ? REMOTE_WIDTH_MAX : (int)len;
	return (w);
}

/* The string member key of o, vis-encoded and cut; "-" if not one. */
static void
remote_str(const json_t *o, const char *key, char *buf, size_t len)
{
	const json_t	*v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0) {
		(void)strlcpy(buf, "-", len);
		return;
	}
	(void)strnvisx(buf, len, json_string_value(v),
	    json_string_length(v) > RESP_STR_MAX ? RESP_STR_MAX :
	    json_string_length(v), RESP_VIS_FLAGS);
}

/* A rate in H/s, or -1 when it is not a sane number. */
static double
remote_rate(const json_t *v)
{
	double	 d;

	if (!json_is_number(v))
		return (-1);
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > RESP_MAX_RATE)
		return (-1);
	return (d);
}

/* An integer member in 0..RESP_MAX_COUNT, or -1. */
static long long
remote_count(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > RESP_MAX_COUNT)
		return (-1);
	return (json_integer_value(v));
}

/*
 * A peer argument: an id (any case), or the name of exactly one peer
 * in the registry.
 */
static void
remote_peer_arg(struct ctl *ctl, const char *s, char id[NODE_ID_LEN + 1])
{
	struct resp	 r;
	const json_t	*arr, *p, *v;
	char		 vis[4 * REMOTE_ARG_ECHO + 1], errbuf[RESP_ERR_MAX];
	size_t		 i, n = 0;

	for (i = 0; i < NODE_ID_LEN && isxdigit((unsigned char)s[i]); i++)
		id[i] = tolower((unsigned char)s[i]);
	if (i == NODE_ID_LEN && s[i] == '\0') {
		id[NODE_ID_LEN] = '\0';
		return;
	}
	ctl_call(ctl, "GET", "/api/v1/peers", NULL, &r);
	if (resp_peer_list(r.root, "peers", &arr, errbuf,
	    sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	json_array_foreach(arr, i, p) {
		v = json_object_get(p, "name");
		if (!json_is_string(v) || strcmp(json_string_value(v), s) != 0)
			continue;
		v = json_object_get(p, "id");
		if (!json_is_string(v) ||
		    json_string_length(v) != NODE_ID_LEN)
			continue;
		(void)strlcpy(id, json_string_value(v), NODE_ID_LEN + 1);
		n++;
	}
	resp_free(&r);
	if (n == 0)
		errx(1, "no peer %s: give an id (%d hex digits) or a peer's "
		    "name", remote_vis(vis, sizeof(vis), s), NODE_ID_LEN);
	if (n > 1)
		errx(1, "%zu peers are named %s: give the id", n,
		    remote_vis(vis, sizeof(vis), s));
	for (i = 0; i < NODE_ID_LEN; i++)
		if (!isxdigit((unsigned char)id[i]))
			errx(1, "bad response from daemon: a peer id");
}

/* A tag as the daemon allows it: printable ASCII, no space or comma. */
static void
remote_tag_arg(const char *s)
{
	char	 vis[4 * REMOTE_ARG_ECHO + 1];
	size_t	 i, len = strlen(s);

	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ',')
			break;
	if (len == 0 || len > REMOTE_TAG_MAX || i < len)
		errx(1, "bad tag %s: want 1 to %d printable ASCII bytes, no "
		    "space or comma", remote_vis(vis, sizeof(vis), s),
		    REMOTE_TAG_MAX);
}

/* "&key=value" (or "?key=value" first), value percent-encoded. */
static void
remote_query_add(char *q, size_t len, const char *key, const char *value)
{
	size_t	 n = strlen(q);
	int	 w;

	w = snprintf(q + n, len - n, "%c%s=", strchr(q, '?') == NULL ?
	    '?' : '&', key);
	if (w < 0 || (size_t)w >= len - n)
		errx(1, "request too long");
	for (n += w; *value != '\0'; value++) {
		if (isalnum((unsigned char)*value) || *value == '-' ||
		    *value == '.' || *value == '_' || *value == '~')
			w = snprintf(q + n, len - n, "%c", *value);
		else
			w = snprintf(q + n, len - n, "%%%02X",
			    (unsigned char)*value);
		if (w < 0 || (size_t)w >= len - n)
			errx(1, "request too long");
		n += w;
	}
}

/* The ids of the pinned workers carrying tag, into *ids (free it). */
static size_t
remote_tagged(struct ctl *ctl, const char *tag, char (**ids)[NODE_ID_LEN + 1])
{
	struct resp	 r;
	const json_t	*arr, *p, *tags, *t, *v;
	char		 errbuf[RESP_ERR_MAX];
	size_t		 i, j, n = 0;

	ctl_call(ctl, "GET", "/api/v1/peers", NULL, &r);
	if (resp_peer_list(r.root, "peers", &arr, errbuf,
	    sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	if ((*ids = calloc(json_array_size(arr) + 1, sizeof(**ids))) == NULL)
		err(1, NULL);
	json_array_foreach(arr, i, p) {
		if (!json_is_true(json_object_get(p, "pinned")))
			continue;
		tags = json_object_get(p, "tags");
		json_array_foreach(tags, j, t)
			if (json_is_string(t) &&
			    strcmp(json_string_value(t), tag) == 0)
				break;
		if (j == json_array_size(tags))
			continue;
		v = json_object_get(p, "id");
		if (!json_is_string(v) ||
		    json_string_length(v) != NODE_ID_LEN ||
		    strspn(json_string_value(v), "0123456789abcdef") !=
		    NODE_ID_LEN)
			errx(1, "bad response from daemon: a peer id");
		(void)strlcpy((*ids)[n++], json_string_value(v),
		    NODE_ID_LEN + 1);
	}
	resp_free(&r);
	return (n);
}

/*
 * One line for a worker's miner_ack: "PEER: MINER: ACTION ok, STATE"
 * or "... failed, STATE: MESSAGE"; or the error.  Returns 0 when the
 * worker did it.
 */
static int
remote_ack_line(const char *peer, const struct resp *r, int ok_call,
    const char *error)
{
	char	 miner[RESP_VIS_MAX], action[RESP_VIS_MAX];
	char	 state[RESP_VIS_MAX], message[RESP_VIS_MAX];
	int	 ok;

	if (!ok_call) {
		printf("%s: failed: %s\n", peer, error);
		return (-1);
	}
	remote_str(r->root, "minerName", miner, sizeof(miner));
	remote_str(r->root, "action", action, sizeof(action));
	remote_str(r->root, "state", state, sizeof(state));
	remote_str(r->root, "message", message, sizeof(message));
	ok = json_is_true(json_object_get(r->root, "ok"));
	printf("%s: %s: %s %s, %s%s%s\n", peer, miner, action,
	    ok ? "ok" : "failed", state, strcmp(message, "-") != 0 ?
	    ": " : "", strcmp(message, "-") != 0 ? message : "");
	return (ok ? 0 : -1);
}

/*
 * remote start|stop|restart PEER|--tag T ARG: what is "start", "stop"
 * or "restart"; ARG a profile id (start, with -n NAME) or a miner.
 */
static int
remote_command(struct ctl *ctl, int argc, char **argv, const char *what)
{
	struct client_reply	 reply;
	struct resp		 r;
	json_t			*req;
	char			 (*ids)[NODE_ID_LEN + 1] = NULL;
	const char		*peer = NULL, *tag = NULL, *arg = NULL;
	const char		*name = NULL, *v, *pos[2];
	char			 id[NODE_ID_LEN + 1], path[REMOTE_PATH_MAX];
	char			 errbuf[RESP_ERR_MAX], *body;
	size_t			 i, n;
	int			 start = strcmp(what, "start") == 0, failed = 0;
	int			 a, npos = 0;

	for (a = 0; a < argc; a++) {
		if ((v = ctl_opt_value("--tag", &a, argc, argv)) != NULL) {
			if (*v == '\0' || tag != NULL)
				return (-1);
			tag = v;
		} else if (start && ((v = ctl_opt_value("-n", &a, argc,
		    argv)) != NULL || (v = ctl_opt_value("--name", &a, argc,
		    argv)) != NULL)) {
			if (*v == '\0')
				return (-1);
			name = v;
		} else if (argv[a][0] == '-' || npos >= 2)
			return (-1);
		else
			pos[npos++] = argv[a];
	}
	/* PEER ARG, or --tag T ARG */
	if (npos != (tag != NULL ? 1 : 2))
		return (-1);
	if (tag == NULL)
		peer = pos[0];
	arg = pos[npos - 1];
	ctl_name_arg(start ? "profile" : "miner", arg);
	if (name != NULL)
		ctl_name_arg("miner", name);
	if (tag != NULL)
		remote_tag_arg(tag);

	if (start) {
		if ((req = json_pack("{s:s}", "profileId", arg)) == NULL ||
		    (name != NULL && json_object_set_new(req, "name",
		    json_string(name)) == -1))
			errx(1, "json_pack failed");
	} else if ((req = json_pack("{s:s}", "minerName", arg)) == NULL)
		errx(1, "json_pack failed");
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps failed");
	json_decref(req);

	if (peer != NULL) {
		remote_peer_arg(ctl, peer, id);
		(void)snprintf(path, sizeof(path), "/api/v1/remote/%s/%s", id,
		    what);
		ctl_call(ctl, "POST", path, body, &r);
		free(body);
		if (ctl->json) {
			ctl_print_json(&r);
			failed = !json_is_true(json_object_get(r.root, "ok"));
		} else
			failed = remote_ack_line(id, &r, 1, NULL) == -1;
		resp_free(&r);
		if (failed) {
			if (fflush(stdout) == EOF)
				err(1, "stdout");
			exit(1);
		}
		return (0);
	}

	n = remote_tagged(ctl, tag, &ids);
	if (n == 0) {
		(void)strnvisx(errbuf, sizeof(errbuf), tag, strlen(tag),
		    RESP_VIS_FLAGS);
		errx(1, "no pinned worker carries tag %s", errbuf);
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "/api/v1/remote/%s/%s",
		    ids[i], what);
		client_request(ctl->socket, "POST", path, body, &reply);
		if (resp_parse(reply.body, reply.len, reply.status, &r,
		    errbuf, sizeof(errbuf)) == -1) {
			client_reply_free(&reply);
			if (ctl->json) {
				if ((req = json_pack("{s:s, s:s}", "peer",
				    ids[i], "error", errbuf)) == NULL ||
				    json_dumpf(req, stdout, JSON_COMPACT) ==
				    -1)
					errx(1, "json_dumpf failed");
				json_decref(req);
				putchar('\n');
			} else
				(void)remote_ack_line(ids[i], NULL, 0, errbuf);
			failed = 1;
			continue;
		}
		client_reply_free(&reply);
		if (ctl->json) {
			if (json_dumpf(r.root, stdout, JSON_COMPACT) == -1)
				err(1, "stdout");
			putchar('\n');
			if (!json_is_true(json_object_get(r.root, "ok")))
				failed = 1;
		} else if (remote_ack_line(ids[i], &r, 1, NULL) == -1)
			failed = 1;
		resp_free(&r);
		if (fflush(stdout) == EOF)
			err(1, "stdout");
	}
	free(ids);
	free(body);
	if (failed)
		exit(1);
	return (0);
}

int
cmd_remote_start(struct ctl *ctl, int argc, char **argv)
{
	return (remote_command(ctl, argc, argv, "start"));
}

int
cmd_remote_stop(struct ctl *ctl, int argc, char **argv)
{
	return (remote_command(ctl, argc, argv, "stop"));
}

int
cmd_remote_restart(struct ctl *ctl, int argc, char **argv)
{
	return (remote_command(ctl, argc, argv, "restart"));
}

/*
 * remote status.
 */

static void
remote_row_fill(struct remote_row *row, const char *peer, const json_t *m,
    long long now)
{
	const json_t	*hr = json_object_get(m, "hashrate");
	long long	 n, at;
	size_t		 w;

	memset(row, 0, sizeof(*row));
	(void)strlcpy(row->peer, peer, sizeof(row->peer));
	remote_str(m, "name", row->miner, sizeof(row->miner));
	remote_str(m, "state", row->state, sizeof(row->state));
	for (w = 0; w < REMOTE_WINDOWS; w++)
		output_rate(row->hr[w], sizeof(row->hr[w]),
		    remote_rate(json_object_get(hr, remote_windows[w])));
	if ((n = remote_count(m, "shares")) < 0)
		(void)strlcpy(row->shares, "-", sizeof(row->shares));
	else
		(void)snprintf(row->shares, sizeof(row->shares), "%lld", n);
	if ((n = remote_count(m, "rejected")) < 0)
		(void)strlcpy(row->rejected, "-", sizeof(row->rejected));
	else
		(void)snprintf(row->rejected, sizeof(row->rejected), "%lld",
		    n);
	output_uptime(row->uptime, sizeof(row->uptime),
	    remote_count(m, "uptime"));
	remote_str(m, "pool", row->pool, sizeof(row->pool));
	remote_str(m, "algorithm", row->algo, sizeof(row->algo));
	at = remote_count(m, "readAt");
	if (at > RESP_MAX_TIME_MS)
		at = -1;
	output_age(row->age, sizeof(row->age), at, now);
}

static void
remote_widen(struct remote_widths *w, const struct remote_row *row)
{
	size_t	 i;

	w->peer = remote_width(row->peer, w->peer);
	w->miner = remote_width(row->miner, w->miner);
	w->state = remote_width(row->state, w->state);
	for (i = 0; i < REMOTE_WINDOWS; i++)
		w->hr[i] = remote_width(row->hr[i], w->hr[i]);
	w->shares = remote_width(row->shares, w->shares);
	w->rejected = remote_width(row->rejected, w->rejected);
	w->uptime = remote_width(row->uptime, w->uptime);
	w->pool = remote_width(row->pool, w->pool);
	w->algo = remote_width(row->algo, w->algo);
}

/*
 * The fleet as a table, a row per miner, in two passes (widths, then
 * rows) so that memory does not grow with the fleet; a line per worker
 * that did not answer; the total last.
 */
static void
remote_status_print(const json_t *root)
{
	struct remote_row	*row;
	struct remote_widths	 w;
	const json_t		*peers, *p, *stats, *miners, *m, *tot;
	char			 peer[RESP_VIS_MAX], status[RESP_VIS_MAX];
	char			 error[RESP_VIS_MAX];
	char			 total[REMOTE_WINDOWS][REMOTE_RATE_LEN];
	long long		 now = remote_now_ms(), code;
	size_t			 i, j, k;
	int			 pass;

	peers = json_object_get(root, "peers");
	if (!json_is_array(peers) || json_array_size(peers) >
	    RESP_MAX_PEERS)
		errx(1, "bad response from daemon: no \"peers\" array");
	if ((row = malloc(sizeof(*row))) == NULL)
		err(1, NULL);
	memset(&w, 0, sizeof(w));
	w.peer = strlen("PEER");
	w.miner = strlen("MINER");
	w.state = strlen("STATE");
	for (k = 0; k < REMOTE_WINDOWS; k++)
		w.hr[k] = strlen("HASHRATE 10s");
	w.shares = strlen("SHARES");
	w.rejected = strlen("REJ");
	w.uptime = strlen("UPTIME");
	w.pool = strlen("POOL");
	w.algo = strlen("ALGO");
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			printf("%-*s  %-*s  %-*s  %*s  %*s  %*s  %*s  %*s  "
			    "%*s  %-*s  %-*s  %s\n", w.peer, "PEER", w.miner,
			    "MINER", w.state, "STATE", w.hr[0],
			    "HASHRATE 10s", w.hr[1], "60s", w.hr[2], "15m",
			    w.shares, "SHARES", w.rejected, "REJ", w.uptime,
			    "UPTIME", w.pool, "POOL", w.algo, "ALGO", "AGE");
		json_array_foreach(peers, i, p) {
			remote_str(p, "name", peer, sizeof(peer));
			if (strcmp(peer, "-") == 0)
				remote_str(p, "id", peer, sizeof(peer));
			stats = json_object_get(p, "stats");
			if (!json_is_true(json_object_get(p, "ok")) ||
			    !json_is_object(stats)) {
				if (pass == 0) {
					w.peer = remote_width(peer, w.peer);
					continue;
				}
				remote_str(p, "status", status,
				    sizeof(status));
				remote_str(p, "error", error, sizeof(error));
				code = remote_count(p, "code");
				if (strcmp(status, "timeout") == 0)
					printf("%-*s  timed out: %s\n",
					    w.peer, peer, error);
				else if (strcmp(status, "offline") == 0)
					printf("%-*s  offline: %s\n", w.peer,
					    peer, error);
				else if (code == 1002)
					printf("%-*s  refused: unauthorised: "
					    "%s\n", w.peer, peer, error);
				else
					printf("%-*s  error %lld: %s\n",
					    w.peer, peer, code, error);
				continue;
			}
			miners = json_object_get(stats, "miners");
			if (!json_is_array(miners) ||
			    json_array_size(miners) == 0) {
				if (pass == 0)
					w.peer = remote_width(peer, w.peer);
				else
					printf("%-*s  no miners\n", w.peer,
					    peer);
				continue;
			}
			json_array_foreach(miners, j, m) {
				if (j >= RESP_MAX_MINERS)
					break;
				remote_row_fill(row, peer, m, now);
				if (pass == 0) {
					remote_widen(&w, row);
					continue;
				}
				printf("%-*s  %-*s  %-*s  %*s  %*s  %*s  %*s  "
				    "%*s  %*s  %-*s  %-*s  %s\n", w.peer,
				    row->peer, w.miner, row->miner, w.state,
				    row->state, w.hr[0], row->hr[0], w.hr[1],
				    row->hr[1], w.hr[2], row->hr[2],
				    w.shares, row->shares, w.rejected,
				    row->rejected, w.uptime, row->uptime,
				    w.pool, row->pool, w.algo, row->algo,
				    row->age);
			}
		}
	}
	free(row);
	tot = json_object_get(root, "totalHashrate");
	for (k = 0; k < REMOTE_WINDOWS; k++)
		output_rate(total[k], sizeof(total[k]), remote_rate(
		    json_object_get(tot, remote_windows[k])));
	printf("total: %s (10s), %s (60s), %s (15m); %lld of %lld workers "
	    "answered, %lld timed out\n", total[0], total[1], total[2],
	    remote_count(root, "answered"), remote_count(root, "asked"),
	    remote_count(root, "timedOut"));
}

int
cmd_remote_status(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 query[REMOTE_QUERY_MAX], id[NODE_ID_LEN + 1];
	const char	*tag = NULL, *v;
	int		 i, all = 0, npeers = 0;

	(void)strlcpy(query, "/api/v1/remote/stats", sizeof(query));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if ((v = ctl_opt_value("--tag", &i, argc, argv)) !=
		    NULL) {
			if (*v == '\0' || tag != NULL)
				return (-1);
			tag = v;
		} else if (argv[i][0] == '-')
			return (-1);
		else
			npeers++;
	}
	if ((all && (tag != NULL || npeers > 0)) ||
	    (tag != NULL && npeers > 0))
		return (-1);
	if (npeers > REMOTE_ARGS_MAX)
		errx(1, "more than %d peers: use --tag or --all",
		    REMOTE_ARGS_MAX);
	if (tag != NULL) {
		remote_tag_arg(tag);
		remote_query_add(query, sizeof(query), "tag", tag);
	}
	for (i = 0; i < argc && npeers > 0; i++) {
		if (argv[i][0] == '-')
			continue;
		remote_peer_arg(ctl, argv[i], id);
		remote_query_add(query, sizeof(query), "peer", id);
	}
	ctl_call(ctl, "GET", query, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else
		remote_status_print(r.root);
	resp_free(&r);
	return (0);
}

int
cmd_remote_logs(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	const char	*peer = NULL, *miner = NULL, *v, *errstr;
	char		 id[NODE_ID_LEN + 1], path[REMOTE_PATH_MAX];
	char		 errbuf[RESP_ERR_MAX];
	long long	 n = REMOTE_LOGS_DEFAULT, total;
	int		 i, more;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("-n", &i, argc, argv)) != NULL) {
			n = strtonum(v, 1, REMOTE_LOGS_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "bad -n: want 1 to %d lines",
				    REMOTE_LOGS_MAX);
		} else if (argv[i][0] == '-')
			return (-1);
		else if (peer == NULL)
			peer = argv[i];
		else if (miner == NULL)
			miner = argv[i];
		else
			return (-1);
	}
	if (miner == NULL)
		return (-1);
	ctl_name_arg("miner", miner);
	remote_peer_arg(ctl, peer, id);
	(void)snprintf(path, sizeof(path), "/api/v1/remote/%s/logs/%s?n=%lld",
	    id, miner, n);
	ctl_call(ctl, "GET", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_logs(r.root, &arr, &more, &total, errbuf,
		    sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_logs(stdout, arr, 0);
	}
	resp_free(&r);
	return (0);
}

int
cmd_remote_profiles(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	char		 id[NODE_ID_LEN + 1], path[REMOTE_PATH_MAX];
	char		 errbuf[RESP_ERR_MAX];

	if (argc != 1 || argv[0][0] == '-')
		return (-1);
	remote_peer_arg(ctl, argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/remote/%s/profiles", id);
	ctl_call(ctl, "GET", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_profile_list(r.root, &arr, errbuf,
		    sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_profile_list(stdout, arr);
	}
	resp_free(&r);
	return (0);
}

int
cmd_remote_ping(struct ctl *ctl, int argc, char **argv)
{
	struct ping_info	 pg;
	struct resp		 r;
	char			 id[NODE_ID_LEN + 1], path[REMOTE_PATH_MAX];
	char			 errbuf[RESP_ERR_MAX];

	if (argc != 1 || argv[0][0] == '-')
		return (-1);
	remote_peer_arg(ctl, argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/remote/%s/ping", id);
	ctl_call(ctl, "POST", path, "{}", &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_ping(r.root, &pg, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_ping(stdout, &pg);
	}
	resp_free(&r);
	return (0);
}

/*
 * peer tag ID TAG... / peer untag ID TAG...: POST or DELETE
 * /api/v1/peers/{id}/tags, all tags in one request (all or nothing).
 */
static int
remote_tags(struct ctl *ctl, int argc, char **argv, int add)
{
	struct peer_info	*pi;
	struct resp		 r;
	json_t			*req, *arr;
	char			 id[NODE_ID_LEN + 1], path[REMOTE_QUERY_MAX];
	char			 errbuf[RESP_ERR_MAX], *body = NULL;
	int			 i;

	if (argc < 2)
		return (-1);
	if (argc - 1 > REMOTE_TAGS_ARGS_MAX)
		errx(1, "more than %d tags", REMOTE_TAGS_ARGS_MAX);
	remote_peer_arg(ctl, argv[0], id);
	for (i = 1; i < argc; i++)
		remote_tag_arg(argv[i]);
	(void)snprintf(path, sizeof(path), "/api/v1/peers/%s/tags", id);
	if (add) {
		if ((arr = json_array()) == NULL)
			errx(1, "json_array failed");
		for (i = 1; i < argc; i++)
			if (json_array_append_new(arr,
			    json_string(argv[i])) == -1)
				errx(1, "json_array_append_new failed");
		if ((req = json_pack("{s:o}", "tags", arr)) == NULL ||
		    (body = json_dumps(req, JSON_COMPACT)) == NULL)
			errx(1, "json_dumps failed");
		json_decref(req);
		ctl_call(ctl, "POST", path, body, &r);
		free(body);
	} else {
		for (i = 1; i < argc; i++)
			remote_query_add(path, sizeof(path), "tag", argv[i]);
		ctl_call(ctl, "DELETE", path, NULL, &r);
	}
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if ((pi = malloc(sizeof(*pi))) == NULL)
			err(1, NULL);
		if (resp_peer(r.root, pi, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		printf("%s: tags %s\n", pi->id, pi->tags[0] != '\0' ?
		    pi->tags : "-");
		free(pi);
	}
	resp_free(&r);
	return (0);
}

int
cmd_peer_tag(struct ctl *ctl, int argc, char **argv)
{
	return (remote_tags(ctl, argc, argv, 1));
}

int
cmd_peer_untag(struct ctl *ctl, int argc, char **argv)
{
	return (remote_tags(ctl, argc, argv, 0));
}
