/*
 * lethctl miner ...: the miners over /api/v1/miners (minerd/api_miner.c).
 *
 *	miner start PROFILE [--name NAME]
 *	miner stop NAME
 *	miner restart NAME
 *	miner list
 *	miner stats NAME
 *	miner logs NAME [-n N] [-f]
 *
 * start, stop and restart print one line, "NAME: STATE, pid PID".
 * logs -f asks for the lines again every second and prints those it
 * has not printed, until SIGINT; the daemon's "total" (lines ever
 * stored) says which are new, and without it the overlap of the two
 * answers does.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

#define MINER_ARG_ECHO		64
/* "/api/v1/miners/<name>/logs?lines=N" */
#define MINER_PATH_MAX		128
/* Lines miner logs prints without -n, and asks for at most. */
#define MINER_LOGS_DEFAULT	50
#define MINER_LOGS_MAX		100000
/* Lines asked for on each poll of -f: more than a second of output of
 * any sane miner; a flood beyond it is shown from where it can be. */
#define MINER_FOLLOW_WINDOW	1000
#define MINER_FOLLOW_SECS	1

static volatile sig_atomic_t	miner_interrupted;

static const char *miner_vis(char *, size_t, const char *);
static void	miner_ack(struct ctl *, const struct resp *, const char *,
		    const char *);
static void	miner_logs_get(struct ctl *, const char *, long long,
		    struct resp *, const json_t **, long long *);
static size_t	miner_overlap(const json_t *, const json_t *);
static void	miner_sigint(int);

static const char *
miner_vis(char *buf, size_t len, const char *s)
{
	(void)strnvisx(buf, len, s, strnlen(s, MINER_ARG_ECHO),
	    RESP_VIS_FLAGS);
	return (buf);
}

/* A name or a profile id goes in a path or a body: as the daemon
 * allows them (lethctl.h: remote commands too). */
void
ctl_name_arg(const char *what, const char *s)
{
	char	 vis[4 * MINER_ARG_ECHO + 1];
	size_t	 len = strlen(s), max;

	if (strcmp(what, "profile") != 0) {
		if (!miner_name_valid(s))
			errx(1, "bad %s %s: want 1 to %d letters, digits, "
			    "\".\", \"_\" or \"-\", not \".\" first", what,
			    miner_vis(vis, sizeof(vis), s), MINER_NAME_MAX);
		return;
	}
	max = PROFILE_ID_MAX;
	if (len == 0 || len > max || strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._-") != len || s[0] == '.' || s[0] == '_' || s[0] == '-')
		errx(1, "bad %s %s: want 1 to %zu letters, digits, \".\", "
		    "\"_\" or \"-\", a letter or digit first", what,
		    miner_vis(vis, sizeof(vis), s), max);
}

/* "NAME: STATE, pid PID" from a miner answer; fallback when it is not
 * one (an empty object). */
static void
miner_ack(struct ctl *ctl, const struct resp *r, const char *name,
    const char *fallback)
{
	struct miner_info	*mi;
	char			 errbuf[RESP_ERR_MAX];

	if (ctl->json) {
		ctl_print_json(r);
		return;
	}
	if ((mi = malloc(sizeof(*mi))) == NULL)
		err(1, NULL);
	if (json_object_get(r->root, "name") == NULL)
		printf("%s: %s\n", name, fallback);
	else if (resp_miner(r->root, mi, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	else if (mi->pid > 0)
		printf("%s: %s, pid %lld\n", mi->name, mi->state, mi->pid);
	else
		printf("%s: %s\n", mi->name, mi->state);
	free(mi);
}

int
cmd_miner_start(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	json_t		*req;
	const char	*profile = NULL, *name = NULL, *v;
	char		*body;
	int		 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--name", &i, argc, argv)) != NULL) {
			if (*v == '\0')
				return (-1);
			name = v;
		} else if (argv[i][0] != '-' && profile == NULL)
			profile = argv[i];
		else
			return (-1);
	}
	if (profile == NULL)
		return (-1);
	ctl_name_arg("profile", profile);
	if (name != NULL)
		ctl_name_arg("name", name);
	if ((req = json_pack("{s:s}", "profile", profile)) == NULL)
		errx(1, "json_pack failed");
	if (name != NULL && json_object_set_new(req, "name",
	    json_string(name)) == -1)
		errx(1, "json_object_set_new failed");
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps failed");
	json_decref(req);
	ctl_call(ctl, "POST", "/api/v1/miners", body, &r);
	free(body);
	miner_ack(ctl, &r, name != NULL ? name : profile, "started");
	resp_free(&r);
	return (0);
}

int
cmd_miner_stop(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 path[MINER_PATH_MAX];

	if (argc != 1)
		return (-1);
	ctl_name_arg("name", argv[0]);
	(void)snprintf(path, sizeof(path), "/api/v1/miners/%s", argv[0]);
	ctl_call(ctl, "DELETE", path, NULL, &r);
	miner_ack(ctl, &r, argv[0], "stopped");
	resp_free(&r);
	return (0);
}

int
cmd_miner_restart(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 path[MINER_PATH_MAX];

	if (argc != 1)
		return (-1);
	ctl_name_arg("name", argv[0]);
	(void)snprintf(path, sizeof(path), "/api/v1/miners/%s/restart",
	    argv[0]);
	ctl_call(ctl, "POST", path, NULL, &r);
	miner_ack(ctl, &r, argv[0], "restarted");
	resp_free(&r);
	return (0);
}

int
cmd_miner_list(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	long long	 poll;
	char		 errbuf[RESP_ERR_MAX];

	if (argc != 0)
		return (-1);
	ctl_call(ctl, "GET", "/api/v1/miners", NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_miner_list(r.root, &arr, &poll, errbuf,
		    sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_miner_list(stdout, arr, poll);
	}
	resp_free(&r);
	return (0);
}

int
cmd_miner_stats(struct ctl *ctl, int argc, char **argv)
{
	struct miner_info	*mi;
	struct resp		 r;
	char			 path[MINER_PATH_MAX], errbuf[RESP_ERR_MAX];

	if (argc != 1)
		return (-1);
	ctl_name_arg("name", argv[0]);
	(void)snprintf(path, sizeof(path), "/api/v1/miners/%s/stats",
	    argv[0]);
	ctl_call(ctl, "GET", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if ((mi = malloc(sizeof(*mi))) == NULL)
			err(1, NULL);
		if (resp_miner(r.root, mi, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_miner(stdout, mi);
		free(mi);
	}
	resp_free(&r);
	return (0);
}

static void
miner_logs_get(struct ctl *ctl, const char *name, long long n,
    struct resp *r, const json_t **arr, long long *total)
{
	char	 path[MINER_PATH_MAX], errbuf[RESP_ERR_MAX];
	int	 more;

	(void)snprintf(path, sizeof(path), "/api/v1/miners/%s/logs?lines=%lld",
	    name, n);
	ctl_call(ctl, "GET", path, NULL, r);
	if (resp_logs(r->root, arr, &more, total, errbuf, sizeof(errbuf)) ==
	    -1)
		errx(1, "%s", errbuf);
}

/*
 * Without the daemon's count: how many lines at the start of cur were
 * at the end of prev (the longest such run).  Identical lines repeated
 * can hide new ones; "total" does not have that fault.
 */
static size_t
miner_overlap(const json_t *prev, const json_t *cur)
{
	size_t	 np = json_array_size(prev), nc = json_array_size(cur);
	size_t	 k, j;

	for (k = np < nc ? np : nc; k > 0; k--) {
		for (j = 0; j < k; j++)
			if (!json_equal(json_array_get(prev, np - k + j),
			    json_array_get(cur, j)))
				break;
		if (j == k)
			return (k);
	}
	return (0);
}

static void
miner_sigint(int sig)
{
	miner_interrupted = 1;
}

int
cmd_miner_logs(struct ctl *ctl, int argc, char **argv)
{
	struct sigaction	 sa;
	struct resp		 r, prev;
	const json_t		*arr, *parr;
	const char		*name = NULL, *v, *errstr;
	long long		 n = MINER_LOGS_DEFAULT, total, ptotal, fresh;
	size_t			 first;
	int			 i, follow = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if ((v = ctl_opt_value("-n", &i, argc, argv)) != NULL) {
			n = strtonum(v, 1, MINER_LOGS_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "bad -n: want 1 to %d lines",
				    MINER_LOGS_MAX);
		} else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else
			return (-1);
	}
	if (name == NULL)
		return (-1);
	ctl_name_arg("name", name);
	miner_logs_get(ctl, name, n, &r, &arr, &total);
	if (ctl->json && !follow) {
		ctl_print_json(&r);
		resp_free(&r);
		return (0);
	}
	if (ctl->json)
		errx(1, "-j and -f: use one");
	output_logs(stdout, arr, 0);
	if (!follow) {
		resp_free(&r);
		return (0);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = miner_sigint;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1)
		err(1, "sigaction");
	for (;;) {
		if (fflush(stdout) == EOF || ferror(stdout))
			err(1, "stdout");
		(void)sleep(MINER_FOLLOW_SECS);
		if (miner_interrupted)
			break;
		prev = r;
		parr = arr;
		ptotal = total;
		miner_logs_get(ctl, name, MINER_FOLLOW_WINDOW, &r, &arr,
		    &total);
		if (total >= 0 && ptotal >= 0) {
			fresh = total - ptotal;
			if (fresh < 0)	/* the ring restarted */
				fresh = json_array_size(arr);
			if ((size_t)fresh > json_array_size(arr))
				fresh = json_array_size(arr);
			first = json_array_size(arr) - fresh;
		} else
			first = miner_overlap(parr, arr);
		output_logs(stdout, arr, first);
		resp_free(&prev);
	}
	resp_free(&r);
	return (0);
}
