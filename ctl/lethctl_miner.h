/*
 * lethctl's profile and miner commands: the answers of
 * /api/v1/profiles* and /api/v1/miners* checked (resp_miner.c, never
 * exits: fuzzed with the rest of resp.c) and printed.
 */

#ifndef LETHCTL_MINER_H
#define LETHCTL_MINER_H

#include <stdio.h>

#include <jansson.h>

#include "lethctl.h"

/* Rows of a profile or miner list: above the daemon's PROFILES_MAX (256)
 * and MINER_SLOTS_MAX (32), so that a newer daemon's answer still
 * shows; CTL_RESP_MAX bounds the bytes anyway. */
#define RESP_MAX_PROFILES	4096
#define RESP_MAX_MINERS		1024
/* Extra arguments of a profile (the daemon allows 16). */
#define RESP_MAX_EXTRA		64
/* Room for the extra arguments joined with spaces, each vis-encoded. */
#define RESP_EXTRA_VIS_MAX	(RESP_MAX_EXTRA * (4 * RESP_STR_MAX + 1) + 1)
/* Lines of a log answer and raw bytes of one line (the daemon cuts a
 * line at 512 bytes and escapes it: up to 4 times that). */
#define RESP_MAX_LOG_LINES	100000
#define RESP_LOG_LINE_MAX	4096
/* The largest rate, share count and thread count we show. */
#define RESP_MAX_RATE		1e18
#define RESP_MAX_COUNT		(1LL << 53)
#define RESP_MAX_THREADS	65536
/* A report older than this many poll intervals is stale. */
#define RESP_STALE_POLLS	3
/* Seconds between polls when the daemon does not say. */
#define RESP_POLL_DEFAULT	10

/* A profile, as GET /api/v1/profiles/{id} has it. */
struct profile_info {
	char		 id[RESP_VIS_MAX];
	char		 type[RESP_VIS_MAX];
	char		 binary[RESP_VIS_MAX];
	char		 pool[RESP_VIS_MAX];
	char		 user[RESP_VIS_MAX];
	int		 has_pass;	/* the answer had the password */
	char		 pass[RESP_VIS_MAX];
	int		 pass_set;
	char		 algo[RESP_VIS_MAX];
	long long	 threads;
	char		 devices[RESP_VIS_MAX];
	char		 extra[RESP_EXTRA_VIS_MAX];	/* "a b" */
	int		 autostart;
	double		 floor;		/* H/s */
	char		 regex[RESP_VIS_MAX];
};

/* A miner, as GET /api/v1/miners/{name}/stats has it.  A rate, count
 * or time that is null or absent is < 0. */
struct miner_info {
	char		 name[RESP_VIS_MAX];
	char		 type[RESP_VIS_MAX];
	char		 profile[RESP_VIS_MAX];
	char		 state[RESP_VIS_MAX];
	long long	 pid;		/* 0: none */
	double		 hr10s, hr60s, hr15m;
	long long	 shares, rejected;
	long long	 uptime;	/* seconds */
	char		 pool[RESP_VIS_MAX];	/* "" unknown */
	char		 algo[RESP_VIS_MAX];
	long long	 restarts;
	long long	 read_at;	/* Unix ms; < 0 never */
	long long	 age;		/* s since read_at; < 0 never */
	long long	 poll;		/* seconds between polls */
	char		 last_error[RESP_VIS_MAX];	/* "" none */
};

/* resp_miner.c */
int	resp_profile(const json_t *, struct profile_info *, char *, size_t);
/* The "profiles" array of root, every element checked. */
int	resp_profile_list(const json_t *, const json_t **, char *, size_t);
int	resp_miner(const json_t *, struct miner_info *, char *, size_t);
/* The "miners" array of root, every element checked, and the poll
 * interval ("pollSeconds", default RESP_POLL_DEFAULT). */
int	resp_miner_list(const json_t *, const json_t **, long long *,
	    char *, size_t);
/* The "lines" array of a log answer (strings), "hasMore" and "total"
 * (lines ever stored; -1 when the daemon does not say). */
int	resp_logs(const json_t *, const json_t **, int *, long long *,
	    char *, size_t);
/* Line i of a checked "lines" array, vis-encoded into buf. */
void	resp_log_line(const json_t *, size_t, char *, size_t);

void	output_rate(char *, size_t, double);
void	output_profile(FILE *, const struct profile_info *);
void	output_profile_list(FILE *, const json_t *);
void	output_miner(FILE *, const struct miner_info *);
void	output_miner_list(FILE *, const json_t *, long long);
/* Lines from index first of a checked "lines" array, one a line. */
void	output_logs(FILE *, const json_t *, size_t);

/* profile.c: lethctl profile ... */
int	cmd_profile_list(struct ctl *, int, char **);
int	cmd_profile_show(struct ctl *, int, char **);
int	cmd_profile_add(struct ctl *, int, char **);
int	cmd_profile_edit(struct ctl *, int, char **);
int	cmd_profile_rm(struct ctl *, int, char **);

/* miner.c: lethctl miner ... */
/* miner.c: a miner name (what "profile": a profile id) given on the
 * command line, as the daemon allows it; exits with a message if not. */
void	ctl_name_arg(const char *what, const char *);
int	cmd_miner_start(struct ctl *, int, char **);
int	cmd_miner_stop(struct ctl *, int, char **);
int	cmd_miner_restart(struct ctl *, int, char **);
int	cmd_miner_list(struct ctl *, int, char **);
int	cmd_miner_stats(struct ctl *, int, char **);
int	cmd_miner_logs(struct ctl *, int, char **);

#endif /* LETHCTL_MINER_H */
