/*
 * lethctl: the admin tool.  Talks HTTP/1.1 + JSON to minerd over the
 * control socket (client.c), checks and picks apart the answers
 * (resp.c) and prints them for people (output.c).
 *
 * resp.c and output.c never exit and never trust the daemon: they are
 * what fuzz/fuzz_ctlresp.c drives.
 */

#ifndef LETHCTL_H
#define LETHCTL_H

#include <sys/types.h>

#include <limits.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Limits on what lethctl accepts from the daemon.
 */

/* Bytes of one response body: the largest answer we expect (a remote
 * status of 10,000 workers with two miners each, ~8 MiB) is below
 * this; a daemon that sends more is broken, and we stop reading
 * instead of growing without end. */
#define CTL_RESP_MAX		(64 * 1024 * 1024)
/* Seconds to connect (a local socket answers at once unless minerd is
 * wedged) and for the whole request (room for minerd to ask keyd, or
 * later, remote peers). */
#define CTL_CONNECT_TIMEOUT	5
#define CTL_TIMEOUT		60
/* Nesting of a response: our bodies nest a few levels; this is far
 * beyond any of them and keeps every walk over the tree shallow. */
#define RESP_MAX_DEPTH		32
/* Raw bytes of one string field we show (a name, an address, an id). */
#define RESP_STR_MAX		256
/* A vis(3)-encoded field: up to 4 bytes per raw byte, and a NUL. */
#define RESP_VIS_MAX		(4 * RESP_STR_MAX + 1)
/* Raw bytes of the socket path in a status answer. */
#define RESP_PATH_MAX		PATH_MAX
/* Raw bytes of a daemon's error message we show; the rest is cut. */
#define RESP_ERRMSG_MAX		256
/* Room for one error line: an escaped message and some words around. */
#define RESP_ERR_MAX		(4 * RESP_ERRMSG_MAX + 128)
/* Rows of the status tables: the lethd family is four processes and a
 * handful of listeners; a few times that is a broken daemon. */
#define RESP_MAX_PROCS		32
#define RESP_MAX_LISTEN		32
/* The latest time we format: the end of year 9999, in Unix ms. */
#define RESP_MAX_TIME_MS	253402300799999LL
/* Rows of a peer list: above the daemon's PEERS_MAX (100,000), and
 * CTL_RESP_MAX bounds the bytes anyway. */
#define RESP_MAX_PEERS		200000
/* Tags on one peer and raw bytes of one tag: above the daemon's own
 * limits (16 and 32), so a newer daemon's answer still shows. */
#define RESP_MAX_TAGS		64
#define RESP_TAG_MAX		64
/* Room for a peer's tags joined with ", ", each vis-encoded. */
#define RESP_TAGS_VIS_MAX	(RESP_MAX_TAGS * (4 * RESP_TAG_MAX + 2) + 1)
/* A round trip we show, in ms: an hour is a broken answer. */
#define RESP_MAX_RTT_MS		3600000.0
/* Raw bytes of a pairing token (PAIR_TOKEN_MAX in the daemon). */
#define RESP_TOKEN_MAX		256
/* Bytes of a file lethctl peer import reads: what the daemon takes in
 * one request (CTL_MAX_BODY). */
#define CTL_IMPORT_MAX		(1024 * 1024)

/*
 * vis(3) flags for every string from the daemon.  Not VIS_SAFE: it lets
 * \r, \b and \a through, and a name holding "\r" could then overwrite
 * what lethctl printed before it on the line.  This encodes every
 * control character, tab and newline included (one field, one line),
 * and each byte that is not printable ASCII, as \ooo or a C escape.
 */
#define RESP_VIS_FLAGS		(VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL)

/* client.c */
struct client_reply {
	long		 status;	/* HTTP status */
	char		*body;		/* NUL-terminated, len bytes */
	size_t		 len;
};

void	client_init(void);
void	client_request(const char *, const char *, const char *,
	    const char *, struct client_reply *);
void	client_reply_free(struct client_reply *);

/* resp.c */
struct resp {
	long		 status;
	json_t		*root;		/* an object, for a 2xx answer */
};

int	resp_parse(const char *, size_t, long, struct resp *, char *,
	    size_t);
void	resp_free(struct resp *);

/* Every string below is vis(3)-encoded, safe to print as is. */
struct node_info {
	char		 id[RESP_VIS_MAX];
	char		 name[RESP_VIS_MAX];
	char		 public_key[RESP_VIS_MAX];
	char		 role[RESP_VIS_MAX];
	long long	 created_ms;	/* Unix ms, 0..RESP_MAX_TIME_MS */
};

struct proc_info {
	char		 name[RESP_VIS_MAX];
	long long	 pid;		/* 0: down */
	long long	 uid;
	long long	 uptime;	/* seconds */
	long long	 restarts;
};

struct listen_info {
	char		 address[RESP_VIS_MAX];
	int		 port;
};

struct status_info {
	int		 has_node;
	char		 node_id[RESP_VIS_MAX];
	char		 node_name[RESP_VIS_MAX];
	size_t		 nprocs;
	struct proc_info procs[RESP_MAX_PROCS];
	size_t		 nlisten;
	struct listen_info listen[RESP_MAX_LISTEN];
	char		 socket[4 * RESP_PATH_MAX + 1];
};

/* A peer, as GET /api/v1/peers/{id} has it. */
struct peer_info {
	char		 id[RESP_VIS_MAX];
	char		 name[RESP_VIS_MAX];
	char		 address[RESP_VIS_MAX];
	char		 public_key[RESP_VIS_MAX];
	char		 role[RESP_VIS_MAX];	/* worker, operator, observer */
	char		 access[RESP_VIS_MAX];	/* none, observer, operator */
	int		 pinned;
	int		 connected;
	double		 ping_ms;	/* < 0: unknown */
	long long	 score;		/* 0..100 */
	long long	 last_seen;	/* Unix ms; 0: never */
	long long	 added;		/* Unix ms */
	char		 tags[RESP_TAGS_VIS_MAX];	/* "a, b"; "" none */
};

/* POST /api/v1/node/pair */
struct pair_info {
	char		 token[4 * RESP_TOKEN_MAX + 1];
	long long	 expires_ms;
	char		 role[RESP_VIS_MAX];
	char		 address[RESP_VIS_MAX];
};

/* POST /api/v1/peers/{id}/ping */
struct ping_info {
	char		 id[RESP_VIS_MAX];
	double		 rtt_ms;
};

int	resp_node_info(const json_t *, struct node_info *, char *, size_t);
int	resp_status(const json_t *, struct status_info *, char *, size_t);
int	resp_peer(const json_t *, struct peer_info *, char *, size_t);
/* The array member key ("peers", "controllers") of root, every element
 * checked with resp_peer; output_peer_list walks it again. */
int	resp_peer_list(const json_t *, const char *, const json_t **, char *,
	    size_t);
int	resp_pair(const json_t *, struct pair_info *, char *, size_t);
int	resp_ping(const json_t *, struct ping_info *, char *, size_t);
int	resp_import(const json_t *, long long *, char *, size_t);

/* output.c */
void	output_node_info(FILE *, const struct node_info *);
void	output_status(FILE *, const struct status_info *);
int	output_json(FILE *, const json_t *);
void	output_time(char *, size_t, long long);
void	output_uptime(char *, size_t, long long);
/* now is the current Unix ms, for "12s ago" and "(10 minutes)" */
void	output_peer(FILE *, const struct peer_info *, long long);
void	output_peer_list(FILE *, const json_t *, long long);
void	output_pair(FILE *, const struct pair_info *, long long);
void	output_ping(FILE *, const struct ping_info *);
void	output_age(char *, size_t, long long, long long);

/* lethctl.c, for the commands in peer.c */
struct ctl {
	const char	*socket;
	int		 json;		/* -j: print the raw JSON */
};

void	ctl_call(struct ctl *, const char *, const char *, const char *,
	    struct resp *);
void	ctl_print_json(const struct resp *);
const char *ctl_opt_value(const char *, int *, int, char **);

/* peer.c: lethctl node pair, lethctl peer ... */
int	cmd_node_pair(struct ctl *, int, char **);
int	cmd_peer_add(struct ctl *, int, char **);
int	cmd_peer_list(struct ctl *, int, char **);
int	cmd_peer_show(struct ctl *, int, char **);
int	cmd_peer_remove(struct ctl *, int, char **);
int	cmd_peer_ping(struct ctl *, int, char **);
int	cmd_peer_allow(struct ctl *, int, char **);
int	cmd_peer_deny(struct ctl *, int, char **);
int	cmd_peer_import(struct ctl *, int, char **);

/* select.c: lethctl peer best */
int	cmd_peer_best(struct ctl *, int, char **);

/* miner_history.c: lethctl miner history */
int	cmd_miner_history(struct ctl *, int, char **);

/* remote.c: lethctl remote ..., peer tag, peer untag */
int	cmd_remote_status(struct ctl *, int, char **);
int	cmd_remote_start(struct ctl *, int, char **);
int	cmd_remote_stop(struct ctl *, int, char **);
int	cmd_remote_restart(struct ctl *, int, char **);
int	cmd_remote_logs(struct ctl *, int, char **);
int	cmd_remote_profiles(struct ctl *, int, char **);
int	cmd_remote_ping(struct ctl *, int, char **);
int	cmd_peer_tag(struct ctl *, int, char **);
int	cmd_peer_untag(struct ctl *, int, char **);

#endif /* LETHCTL_H */
