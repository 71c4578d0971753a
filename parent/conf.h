/*
 * lethd.conf(5): the parsed configuration the parent holds.
 */

#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "lethd.h"

#define CONF_ERRMAX		16	/* error lines kept per parse */
#define CONF_ERRLEN		256	/* "file:line: message" */
#define CONF_MAXSIZE		(256 * 1024)	/* bytes of config read */
#define CONF_MAXDEPTH		8	/* unused for now: no include */

/*
 * Parser limits.  A word or quoted string may be twice PATH_MAX so that
 * an overlong path gets "path too long" rather than a lexer error; a
 * config needs a handful of macros, 128 is generous and bounds memory.
 */
#define CONF_TOKEN_MAX		(2 * PATH_MAX)	/* bytes in one token */
#define CONF_MACRO_MAX		128	/* macros per file */
#define CONF_MACRO_NAME_MAX	64	/* bytes in a macro name */
#define CONF_ERRWORD		64	/* input bytes quoted in an error */

/* Ranges of the numeric keywords (lethd.conf(5)); the minimum is 1. */
#define CONF_PORT_MAX		65535
#define CONF_CTL_MAX_CONN_MAX	1024	/* admins and dashboards, not peers */
#define CONF_CTL_TIMEOUT_MAX	3600	/* an hour: a stuck client goes */
#define CONF_NET_MAX_CONN_MAX	1000000	/* beyond any rig's file limit */
#define CONF_LOG_RATE_MAX	10000	/* lines/s: more floods syslog */

/*
 * Peer transport (lethd.conf(5), PEER TRANSPORT).  Where the minimum is
 * not 1 it is named: below it the daemon could not do its work.
 */
#define CONF_NET_MAX_HS_MAX	100000	/* half-open sessions at once */
#define CONF_NET_HS_ADDR_MAX	1000	/* more is no per-address limit */
#define CONF_NET_HS_SUBNET_MAX	100000	/* as many as handshakes at all */
#define CONF_NET_HS_TIMEOUT_MAX	300	/* s: longer is a slowloris */
#define CONF_NET_MSG_MIN	1024	/* bytes: a signed pong fits */
#define CONF_NET_MSG_MAX	LETHD_MAX_MESSAGE	/* an imsg's room */
#define CONF_NET_MSG_RATE_MAX	100000	/* messages/s from one peer */
#define CONF_NET_PING_MAX	3600	/* s: NAT tables forget sooner */
#define CONF_NET_PONG_MAX	3600	/* s */
#define CONF_NET_HEADER_MIN	512	/* bytes: an upgrade request fits */
#define CONF_NET_HEADER_MAX	65536	/* bytes: more only costs memory */
#define CONF_NET_LIFETIME_MIN	60	/* s: re-keying costs a keyd call */
#define CONF_NET_LIFETIME_MAX	604800	/* s: a week */
#define CONF_KEYD_SIGN_MAX	100000	/* signatures/s for netd */
#define CONF_TS_WINDOW_MAX	3600	/* s: clocks an hour apart */
#define CONF_REPLAY_MIN		16	/* ids: a few requests in flight */
#define CONF_REPLAY_MAX		1000000	/* ids per peer: memory bound */
#define CONF_SOCKET_MODE	0660	/* default mode of the socket */

/*
 * Miners (lethd.conf(5), MINERS).  Defaults are in lethd.h but for the
 * cap on miners, which only the parent reads.
 */
#define CONF_MINER_MAX_DEFAULT	8	/* miners at once: a rig's GPUs */
#define CONF_BACKOFF_MIN	100	/* ms: a faster crash loop burns CPU */
#define CONF_BACKOFF_MAX	3600000	/* ms: an hour between restarts */
#define CONF_CRASHES_MAX	1000	/* crashes before failed */
#define CONF_CRASH_WINDOW_MAX	86400	/* s: a day */
#define CONF_STOP_GRACE_MAX	300	/* s: SIGKILL after five minutes */
#define CONF_MINER_NOFILE_MIN	64	/* files: stdio, sockets, a pool */
#define CONF_MINER_NOFILE_MAX	1048576	/* Linux's default nr_open */
#define CONF_MINER_PIDS_MAX	4194304	/* Linux's PID_MAX_LIMIT */
#define CONF_MINER_NPROC_MAX	4194304	/* the same, for the user */
#define CONF_HUGEPAGES_MAX	1048576	/* 2 MiB pages: 2 TiB */
#define CONF_MINER_POLL_MAX	3600	/* s between stats polls */
#define CONF_WATCHDOG_ZERO_MIN	30	/* s: RandomX needs time to start */
#define CONF_WATCHDOG_MAX	86400	/* s: a day */
#define CONF_RING_LINES_MIN	10	/* lines: a screen of context */
#define CONF_RING_LINES_MAX	100000	/* lines a miner */
#define CONF_RING_BYTES_MIN	4096	/* bytes: two whole escaped lines */
#define CONF_RING_BYTES_MAX	(64 * 1024 * 1024)	/* bytes a miner */
#define CONF_HISTORY_MIN	3600	/* s: an hour of history */
#define CONF_HISTORY_MAX	(366 * 24 * 3600)	/* s: a year */
#define CONF_HISTORY_MB_MAX	65536	/* MiB: 64 GiB of SQLite */

/* Peer selection (lethd.conf(5), PEER SELECTION). */
#define CONF_LAT_MAX		90	/* degrees either side */
#define CONF_LON_MAX		180	/* degrees either side */
#define CONF_LOCATION_DIGITS	6	/* decimals kept: 0.11 m */
#define CONF_WEIGHT_DIGITS	3	/* decimals kept of a weight */
#define CONF_DECIMAL_INT_MAX	9	/* digits before the point */
#define CONF_WEIGHT_MAX		1000	/* a weight 1000 times another */
#define CONF_BOUND_PING_MAX	3600000	/* ms: an hour */
#define CONF_BOUND_HOPS_MAX	255	/* hops */
#define CONF_BOUND_GEO_MAX	20016	/* km: half a great circle */
#define CONF_BOUND_SCORE_MAX	100	/* points: the score's scale */
#define CONF_SELECT_PING_MAX	86400	/* s: a day between pings */
#define CONF_REMOTE_TIMEOUT_MAX	REMOTE_TIMEOUT_MAX	/* s: lethctl waits */

struct conf_listen {
	struct sockaddr_storage	ss;	/* numeric address and port */
	socklen_t		sslen;
	uint16_t		port;	/* 0: pick a free port */
};

/* Which child reads which user. */
enum conf_user {
	USER_KEYD = 0,
	USER_NETD,
	USER_MINERD,
	USER_MINER,
	USER_MAX
};

struct lethd_conf {
	char			 directory[PATH_MAX];	/* base dir */
	char			 socket[PATH_MAX];	/* control socket */
	mode_t			 socket_mode;		/* default 0660 */
	char			 users[USER_MAX][LOGIN_NAME_MAX];
	char			 ctl_group[LOGIN_NAME_MAX];
	char			 name[NODE_NAME_MAX + 1];	/* "" = host */
	struct conf_listen	 listen[NET_MAX_LISTEN];
	unsigned int		 nlisten;
	struct conf_listen	 api_listen;		/* loopback TCP API */
	int			 api_listen_set;		/* 0: none */
	unsigned int		 ctl_max_conn;
	unsigned int		 ctl_timeout;		/* seconds */
	unsigned int		 net_max_conn;
	char			 advertise[NET_ADDR_MAX];	/* "" = none */
	/* peer transport */
	unsigned int		 net_max_handshakes;
	unsigned int		 net_hs_per_addr;
	unsigned int		 net_hs_per_subnet;	/* a /24 or a /64 */
	unsigned int		 net_hs_timeout;	/* seconds */
	unsigned int		 net_max_message;	/* bytes */
	unsigned int		 net_msg_rate;		/* messages/s/peer */
	unsigned int		 net_ping_interval;	/* seconds */
	unsigned int		 net_pong_timeout;	/* seconds */
	unsigned int		 net_max_header;	/* bytes */
	unsigned int		 net_session_lifetime;	/* seconds */
	unsigned int		 keyd_sign_rate;	/* signatures/s */
	unsigned int		 msg_ts_window;		/* seconds */
	unsigned int		 replay_cache_max;	/* ids per peer */
	unsigned int		 log_rate;		/* lines/s/child */
	/* miners: the parent's supervision */
	unsigned int		 miner_backoff_min_ms;	/* first restart */
	unsigned int		 miner_backoff_max_ms;	/* the cap */
	unsigned int		 miner_crashes_max;	/* crashes ... */
	unsigned int		 miner_crash_window;	/* ... in s: failed */
	unsigned int		 miner_stop_grace;	/* s to SIGKILL */
	unsigned int		 miner_nofile;		/* RLIMIT_NOFILE */
	unsigned int		 miner_pids;		/* cgroup pids.max */
	unsigned int		 miner_nproc;		/* RLIMIT_NPROC, user */
	unsigned int		 miner_max;		/* miners at once */
	unsigned int		 miner_hugepages;	/* 0: leave alone */
	unsigned int		 miner_msr;		/* 1: check msr */
	/* miners: minerd's polling, watchdog, output and history */
	unsigned int		 miner_poll;		/* s between polls */
	unsigned int		 watchdog_zero;		/* s of no hashrate */
	unsigned int		 watchdog_api;		/* s of a dead API */
	unsigned int		 ring_lines;		/* lines a miner */
	unsigned int		 ring_bytes;		/* bytes a miner */
	unsigned int		 history_samples;	/* s of 10 s samples */
	unsigned int		 history_minutes;	/* s of averages */
	unsigned int		 history_max_mb;	/* database cap */
	/* peer selection */
	int			 has_location;		/* location line */
	int			 lat_e6;		/* microdegrees */
	int			 lon_e6;
	unsigned int		 select_weight[SELECT_DIMS];	/* 1/1000 */
	unsigned int		 select_bound[SELECT_DIMS];
	unsigned int		 select_ping_interval;	/* seconds */
	/* fleet operations */
	unsigned int		 remote_timeout;	/* s: reads */
	unsigned int		 remote_command_timeout; /* s: start, stop */
	unsigned int		 opts;
};

struct conf_errors {
	unsigned int	n;
	char		line[CONF_ERRMAX][CONF_ERRLEN];
	unsigned int	dropped;		/* errors past CONF_ERRMAX */
};

/* Add one error line (printf format) to errs, or count it as dropped. */
void	conf_errorf(struct conf_errors *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));

/* Fill in every default. */
void	conf_defaults(struct lethd_conf *);

/*
 * Parse len bytes of buf (not NUL-terminated) named file in error
 * lines.  Returns 0 and fills conf, or -1 with errs filled and conf
 * untouched.  Never exits and never touches the file system or the
 * user database.  errs is cleared first.
 */
int	conf_parse_buffer(const char *file, const char *buf, size_t len,
	    struct lethd_conf *conf, struct conf_errors *errs);

/* Read path (at most CONF_MAXSIZE bytes) and parse it. */
int	conf_parse_file(const char *path, struct lethd_conf *,
	    struct conf_errors *);

/* Print conf in lethd.conf(5) syntax, every keyword (for `lethd -nv`). */
void	conf_print(FILE *, const struct lethd_conf *);

/*
 * Checks that need the system: users and group exist, none is root,
 * no two share a uid or gid, max connections fits the file limit.
 * Returns 0 or -1 with errs filled ("file: message"); errs is cleared
 * first.
 */
int	conf_check_system(const char *file, const struct lethd_conf *,
	    struct conf_errors *);

#endif /* CONF_H */
