/*
 * lethd: constants, process ids, imsg types and the fixed-layout structs
 * that cross the pipes between lethd (the parent), keyd, netd and minerd.
 *
 * Every struct here is sent as is over a socketpair between processes of
 * the same build on the same host, so native layout is fine; every
 * receiver checks the payload size before it copies one out, and checks
 * every string field for a terminating NUL.
 */

#ifndef LETHD_H
#define LETHD_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#define LETHD_VERSION_STRING	"0.1"

/* Defaults; each may be changed in lethd.conf(5). */
#ifndef LETHD_SYSCONFDIR
#define LETHD_SYSCONFDIR	"/etc"
#endif
#define LETHD_CONF		LETHD_SYSCONFDIR "/lethd.conf"
#define LETHD_DIRECTORY		"/var/lib/lethd"
#define LETHD_SOCKET		"/run/lethd/lethd.sock"
#define LETHD_USER_KEYD		"_lethkey"
#define LETHD_USER_NETD		"_lethnet"
#define LETHD_USER_MINERD	"_lethd"
#define LETHD_USER_MINER	"_lethminer"
#define LETHD_CTL_GROUP		"_lethctl"
#define LETHD_PORT		9091

/* Names below the base directory (`directory` keyword). */
#define LETHD_KEYD_DIR		"keyd"		/* keyd's chroot, root 0711 */
#define LETHD_KEY_SUBDIR	"key"		/* in keyd's chroot, 0700 keyd */
#define LETHD_KEY_FILE		"key/node.key"	/* relative to keyd's chroot */
#define LETHD_EMPTY_DIR		"empty"		/* netd's chroot, root 0755 */
#define LETHD_STATE_DIR		"state"		/* minerd's, 0700 _lethd */
#define LETHD_PIDFILE		"lethd.pid"	/* flock'd: one instance */
#define LETHD_NODE_FILE		"node.json"	/* in the state directory */
/* The loopback TCP API's bearer token (minerd makes it, 0600). */
#define API_TOKEN_FILE		"api.token"	/* in the state directory */
#define API_TOKEN_BYTES		32	/* random bytes, 64 hex digits */
#define API_AUTH_LOG_INTERVAL	10	/* s between refusal log lines */

/* Where the parent finds its children; set by the build. */
#ifndef LETHD_LIBEXECDIR
#define LETHD_LIBEXECDIR	"/usr/local/libexec/lethd"
#endif

/*
 * Limits.  Each one says why it has that value.
 */

/* One application message is at most 1 MiB (DESIGN); an imsg carries one
 * whole message plus a signature and a small fixed header. */
#define LETHD_MAX_MESSAGE	(1024 * 1024)
#define IMSG_MAX_PAYLOAD	(LETHD_MAX_MESSAGE + 4096)
/* Bytes a pipe may have queued for writing before compose says ENOBUFS:
 * room for a few whole messages; a peer that does not read is cut off. */
#define IMSG_WQUEUE_MAX		(4 * IMSG_MAX_PAYLOAD)
/* File descriptors a pipe may hold received and not yet taken. */
#define IMSG_MAX_FDS		16

/* A child's log line: long enough for any message we write, fixed so the
 * parent can check it field by field. */
#define LOG_MAXLINE		512
/* Lines per second the parent logs for one child; the rest are counted
 * and summarised, so a chatty or hostile child cannot flood syslog. */
#define LOG_RATE_DEFAULT	50

/* Restart backoff for a dead child: 1 s doubling to 60 s; a child that
 * ran this long is considered healthy again. */
#define CHILD_BACKOFF_MIN	1
#define CHILD_BACKOFF_MAX	60
#define CHILD_STABLE_SECS	60
/* Seconds `lethd' waits for its daemon to serve the control socket. */
#define DAEMON_READY_TIMEOUT	30
/* Seconds the parent waits for a child to exit on shutdown. */
#define CHILD_STOP_TIMEOUT	5

/* Control API (HTTP over the UNIX socket). */
#define CTL_MAX_CONN_DEFAULT	32	/* lethctl and a dashboard */
#define CTL_TIMEOUT_DEFAULT	30	/* seconds per request */
#define CTL_MAX_HEADERS		8192	/* bytes of request headers */
#define CTL_MAX_BODY		(1024 * 1024)	/* an import of many peers */

/* netd: connections; the parent raises netd's RLIMIT_NOFILE to fit. */
#define NET_MAX_CONN_DEFAULT	1024
#define NET_FD_RESERVE		32	/* pipes, listeners, slack */
#define NET_MAX_LISTEN		8	/* `listen on` lines */
#define NET_ADDR_MAX		64	/* "[v6]:port" or "a.b.c.d:port" */

/* Peer transport defaults (lethd.conf(5) keywords). */
#define NET_MAX_HANDSHAKES_DEFAULT	64	/* half-open sessions at once */
#define NET_HS_PER_ADDR_DEFAULT		4	/* from one source address */
#define NET_HS_PER_SUBNET_DEFAULT	16	/* from one /24 or /64 */
#define NET_HS_TIMEOUT_DEFAULT		10	/* seconds to finish one */
#define NET_MSG_RATE_DEFAULT		200	/* messages/s from one peer */
#define NET_PING_INTERVAL_DEFAULT	30	/* seconds (DESIGN) */
#define NET_PONG_TIMEOUT_DEFAULT	10	/* seconds */
#define NET_MAX_HEADER_DEFAULT		4096	/* an upgrade request is small */
#define NET_SESSION_LIFETIME_DEFAULT	3600	/* seconds before re-keying */
#define KEYD_SIGN_RATE_DEFAULT		100	/* handshake signatures/s */
#define MSG_TS_WINDOW_DEFAULT		120	/* seconds either side */
#define REPLAY_CACHE_DEFAULT		4096	/* message ids per peer */

/*
 * Miners.  The parent owns the miner processes; minerd asks for them by
 * slot.  Every limit here bounds a fixed-layout imsg the parent checks.
 */
#define LETHD_MINERS_DIR	"miners"	/* root 0755: binaries */
#define LETHD_WORK_DIR		"work"		/* root 0755: one dir a slot */
#define LETHD_SLOTS_FILE	"slots"		/* the parent's records */
#define MINER_SLOTS_MAX		32	/* miners on one rig */
#define MINER_NAME_MAX		32	/* [A-Za-z0-9._-] */
#define MINER_DRIVER_MAX	16	/* "xmrig", "tt-miner", "generic" */
#define MINER_BINARY_MAX	128	/* path under the miners directory */
#define MINER_ARGS_MAX		32	/* arguments after argv[0] */
#define MINER_ARG_LEN		256	/* bytes of one argument */
#define MINER_CONFIG_MAX	(64 * 1024)	/* the miner's config file */
#define MINER_CONFIG_NAME_MAX	64	/* its name in the work directory */
#define MINER_TOKEN_LEN		32	/* hex digits of the API token */
#define PROFILE_ID_MAX		64	/* [A-Za-z0-9._-] */

/* Supervision defaults (lethd.conf(5) keywords). */
#define MINER_BACKOFF_MIN_MS	500	/* first restart: under 1 s */
#define MINER_BACKOFF_MAX_MS	60000	/* capped at 60 s */
#define MINER_CRASHES_MAX	5	/* crashes ... */
#define MINER_CRASH_WINDOW	300	/* ... in this many seconds: failed */
#define MINER_STOP_GRACE	10	/* seconds from SIGTERM to SIGKILL */
#define MINER_STABLE_SECS	60	/* a run this long resets the backoff */
#define MINER_POLL_DEFAULT	10	/* seconds between stats polls */
#define WATCHDOG_ZERO_DEFAULT	300	/* seconds at zero before a restart */
#define WATCHDOG_API_DEFAULT	60	/* seconds of a dead API */
#define RING_LINES_DEFAULT	1000	/* output lines kept a miner */
#define RING_BYTES_DEFAULT	(256 * 1024)	/* ... and bytes */
#define HISTORY_SAMPLES_DEFAULT	(24 * 3600)	/* 10 s samples: a day */
#define HISTORY_MINUTES_DEFAULT	(30 * 24 * 3600)	/* averages: 30 days */
#define HISTORY_MAX_MB_DEFAULT	256	/* SQLite max_page_count */
#define MINER_NOFILE_DEFAULT	4096	/* RLIMIT_NOFILE of a miner */
#define MINER_PIDS_DEFAULT	256	/* pids.max of a miner's cgroup */
#define MINER_NPROC_DEFAULT	1024	/* RLIMIT_NPROC: all miners */

/* Fleet operations (lethd.conf(5) keywords): seconds a controller
 * waits for each worker's answer to a read (stats, logs, profiles),
 * and to a start, stop or restart, which a worker acknowledges only
 * once the miner is up or gone: up to its start timeout (15 s) or its
 * stop grace plus a margin (10 + 5 s by default). */
#define REMOTE_TIMEOUT_DEFAULT		5
#define REMOTE_COMMAND_TIMEOUT_DEFAULT	25
/* The most either may be: lethctl gives up on a request after its
 * CTL_TIMEOUT (60 s, ctl/lethctl.h), and a fan-out answers up to a
 * second past its timeout (REMOTE_TIMEOUT_MARGIN_MS), so the answer
 * must come well before.  The control timeout does not bound it:
 * evhttp times reading a request and writing its answer, not the
 * wait in between. */
#define REMOTE_TIMEOUT_MAX		50

/*
 * Peer selection (lethd.conf(5), PEER SELECTION): each peer is a point
 * of SELECT_DIMS dimensions, each clamp(value / bound, 0, 1) * weight;
 * the best peers are nearest the origin.  Weights travel as integer
 * thousandths and the location as integer microdegrees, so that the
 * parent prints back exactly what it parsed and no NaN can cross imsg.
 */
enum select_dim {
	SELECT_PING = 0,	/* pingMs, bound in ms */
	SELECT_HOPS,		/* hops, bound in hops */
	SELECT_GEO,		/* geoKm, bound in km */
	SELECT_SCORE,		/* 100 - score, bound in points */
	SELECT_DIMS
};
#define SELECT_WEIGHT_SCALE		1000	/* thousandths */
#define SELECT_WEIGHT_PING_DEFAULT	1000	/* 1.0: measured latency */
#define SELECT_WEIGHT_HOPS_DEFAULT	500	/* 0.5: all direct today */
#define SELECT_WEIGHT_GEO_DEFAULT	500	/* 0.5: a proxy for latency */
#define SELECT_WEIGHT_SCORE_DEFAULT	1000	/* 1.0: reliability */
#define SELECT_BOUND_PING_DEFAULT	1000	/* ms: slower is as bad */
#define SELECT_BOUND_HOPS_DEFAULT	8	/* hops */
#define SELECT_BOUND_GEO_DEFAULT	20000	/* km: the far side of Earth */
#define SELECT_BOUND_SCORE_DEFAULT	100	/* points: the whole scale */
#define SELECT_PING_INTERVAL_DEFAULT	60	/* s between pings of workers */
#define LOCATION_SCALE			1000000	/* microdegrees a degree */

/* Node identity. */
#define NODE_NAME_MAX		64	/* bytes, printable, no control chars */
#define NODE_ID_LEN		32	/* hex digits: 16 bytes of the key */
#define NODE_FILE_MAX		(64 * 1024)	/* node.json read bound */
#define NODE_FORMAT_VERSION	1

enum node_role {
	ROLE_DUAL = 0,
	ROLE_CONTROLLER,
	ROLE_WORKER
};

/*
 * Processes.  The parent's process table is in lethd/lethd.c.
 */
enum lethd_proc {
	PROC_PARENT = 0,
	PROC_KEYD,
	PROC_NETD,
	PROC_MINERD,
	PROC_MAX
};

/* Each child is exec'd with its parent pipe on this fd and nothing else
 * but stdin/stdout/stderr; sibling pipes arrive as IMSG_PIPE. */
#define CHILD_PARENT_FD		3

/*
 * imsg types.  Who may send what is checked by the receiver's dispatch
 * function for that pipe.
 */
enum imsg_type {
	IMSG_NONE = 0,

	/* parent -> child */
	IMSG_INIT,		/* struct child_init; first message */
	IMSG_PIPE,		/* fd: new end to a sibling; uint32_t proc */
	IMSG_CTL_LISTEN,	/* -> minerd; fd: control socket */
	IMSG_NET_LISTEN,	/* -> netd; fd: listening socket */
	IMSG_API_LISTEN,	/* -> minerd; fd: loopback TCP API socket */
	IMSG_RECONF,		/* struct child_init; after SIGHUP */
	IMSG_STATUS,		/* -> minerd; struct proc_status, one per proc */
	IMSG_STATUS_END,	/* -> minerd; struct status_end */

	/* child -> parent */
	IMSG_LOG,		/* struct log_msg */
	IMSG_RESTART_PEER,	/* uint32_t proc: a sibling misbehaved */
	IMSG_STATUS_REQ,	/* minerd -> parent; uint32_t request id */
	IMSG_READY,		/* child finished its setup; no payload */

	/* keyd <-> minerd, keyd <-> netd */
	IMSG_KEY_PUBLIC,	/* keyd ->; struct key_public */
	IMSG_KEY_GENERATE,	/* minerd -> keyd; uint32_t request id */
	IMSG_KEY_GENERATED,	/* keyd -> minerd; struct key_generated */
	IMSG_KEY_SIGN,		/* netd|minerd -> keyd; struct key_sign_req */
	IMSG_KEY_SIGNATURE,	/* keyd -> netd|minerd; struct key_sign_rep */

	/* minerd -> netd */
	IMSG_NET_SELF,		/* struct net_self: what we declare */
	IMSG_NET_KEY_ADD,	/* struct net_key: a key we accept */
	IMSG_NET_KEY_DEL,	/* struct net_key: no longer */
	IMSG_NET_PAIRING,	/* struct net_pairing: unknown keys may pair */
	IMSG_NET_DIAL,		/* struct net_dial: keep a session to it */
	IMSG_NET_HANGUP,	/* struct net_key: close, stop dialling */
	IMSG_NET_SEND,		/* struct net_msg + signed message bytes */

	/* netd -> minerd */
	IMSG_NET_UP,		/* struct net_up: a session is established */
	IMSG_NET_DOWN,		/* struct net_down: a session ended */
	IMSG_NET_RECV,		/* struct net_msg + signed message bytes */

	/* minerd -> parent: miners (the parent validates every field) */
	IMSG_MINER_SPAWN,	/* struct miner_spawn + config file bytes */
	IMSG_MINER_STOP,	/* struct miner_slot: stop, do not restart */
	IMSG_MINER_RESTART,	/* struct miner_slot: kill, restart (watchdog) */

	/* parent -> minerd */
	IMSG_MINER_RECORD,	/* struct miner_record; fd: output pipe dup */
	IMSG_MINER_EXITED,	/* struct miner_exit */
	IMSG_MINER_REFUSED,	/* struct miner_refusal: spawn refused */

	IMSG_MAX
};

/* The fixed configuration each child gets from the parent. */
struct child_init {
	uint32_t	version;	/* CHILD_INIT_VERSION */
	uint32_t	proc;		/* enum lethd_proc of the receiver */
	uid_t		uid;
	gid_t		gid;
	int32_t		debug;		/* -d: log to stderr */
	int32_t		verbose;
	int64_t		parent_start;	/* Unix seconds */
	char		root[PATH_MAX];	/* chroot, or "" */
	char		workdir[PATH_MAX];	/* chdir after privdrop */
	/* minerd */
	gid_t		ctl_gid;	/* callers need this group (or uid 0) */
	uint32_t	ctl_max_conn;
	uint32_t	ctl_timeout;
	char		node_name[NODE_NAME_MAX + 1];	/* default name */
	/* netd */
	uint32_t	net_max_conn;
	uint32_t	net_max_handshakes;	/* in flight at once */
	uint32_t	net_hs_per_addr;	/* in flight per source address */
	uint32_t	net_hs_per_subnet;	/* per /24 (IPv4) or /64 (IPv6) */
	uint32_t	net_hs_timeout;		/* seconds */
	uint32_t	net_max_message;	/* bytes of one message */
	uint32_t	net_msg_rate;		/* messages/s per peer */
	uint32_t	net_ping_interval;	/* seconds: WebSocket ping */
	uint32_t	net_pong_timeout;	/* seconds */
	uint32_t	net_max_header;		/* bytes of HTTP upgrade headers */
	uint32_t	net_session_lifetime;	/* seconds before a re-key */
	/* keyd */
	uint32_t	keyd_sign_rate;		/* handshake signatures/s, netd */
	/* minerd */
	uint32_t	msg_ts_window;		/* seconds either side */
	uint32_t	replay_cache_max;	/* ids remembered per peer */
	char		advertise[NET_ADDR_MAX];	/* "host:port" or "" */
	/* minerd: miners */
	uint32_t	miner_poll;		/* seconds between stats polls */
	uint32_t	watchdog_zero;		/* seconds of no hashrate */
	uint32_t	watchdog_api;		/* seconds of a dead API */
	uint32_t	ring_lines;		/* output lines kept a miner */
	uint32_t	ring_bytes;		/* bytes of them */
	uint32_t	history_samples;	/* seconds 10 s samples are kept */
	uint32_t	history_minutes;	/* seconds 1-min averages are kept */
	uint32_t	history_max_mb;		/* database size cap */
	uint32_t	miner_stop_grace;	/* seconds, SIGTERM to SIGKILL */
	/* minerd: peer selection */
	int32_t		has_location;		/* 0: no location line */
	int32_t		lat_e6;			/* microdegrees, -90..90 */
	int32_t		lon_e6;			/* microdegrees, -180..180 */
	uint32_t	select_weight[SELECT_DIMS];	/* thousandths */
	uint32_t	select_bound[SELECT_DIMS];	/* ms, hops, km, points */
	uint32_t	select_ping_interval;	/* seconds */
	/* minerd: fleet operations */
	uint32_t	remote_timeout;		/* seconds: stats, logs ... */
	uint32_t	remote_command_timeout;	/* seconds: start, stop ... */
};
#define CHILD_INIT_VERSION	1

struct log_msg {
	int32_t		priority;	/* syslog(3) priority */
	char		text[LOG_MAXLINE];	/* vis-encoded, NUL-terminated */
};

struct proc_status {
	uint32_t	request;	/* from IMSG_STATUS_REQ */
	uint32_t	proc;
	int32_t		pid;		/* 0 while down */
	uid_t		uid;
	int64_t		started;	/* Unix seconds of the current run */
	uint32_t	restarts;
};

struct status_end {
	uint32_t	request;
	uint32_t	nlisten;
	uint16_t	port[NET_MAX_LISTEN];	/* netd's bound ports */
	char		addr[NET_MAX_LISTEN][48];	/* numeric address */
	char		socket[PATH_MAX];	/* the control socket's path */
};

struct key_public {
	int32_t		has_key;	/* 0: no key yet */
	uint8_t		pk[32];		/* Ed25519 public key */
};

struct key_generated {
	uint32_t	request;
	int32_t		status;		/* KEYGEN_* */
	uint8_t		pk[32];
};
#define KEYGEN_OK	0
#define KEYGEN_EXISTS	1
#define KEYGEN_FAILED	2

/*
 * Signing: keyd signs label || hash and nothing else.  netd may ask
 * only for the handshake labels, minerd only for the message and
 * bundle labels; any other request closes the pipe it came on.
 */
enum key_label {
	KEY_LABEL_HANDSHAKE_INITIATOR = 0,	/* netd */
	KEY_LABEL_HANDSHAKE_RESPONDER,		/* netd */
	KEY_LABEL_MESSAGE,			/* minerd */
	KEY_LABEL_BUNDLE,			/* minerd */
	KEY_LABEL_MAX
};
#define KEY_LABEL_HS_INITIATOR_STR	"lethd handshake v1 initiator"
#define KEY_LABEL_HS_RESPONDER_STR	"lethd handshake v1 responder"
#define KEY_LABEL_MESSAGE_STR		"lethd message v1"
#define KEY_LABEL_BUNDLE_STR		"lethd bundle v1"

struct key_sign_req {
	uint32_t	request;
	uint32_t	label;		/* enum key_label */
	uint8_t		hash[64];	/* BLAKE2b-512 */
};

struct key_sign_rep {
	uint32_t	request;
	int32_t		status;		/* 0, or KEYSIGN_* */
	uint8_t		sig[64];	/* Ed25519 */
};
#define KEYSIGN_OK		0
#define KEYSIGN_NOKEY		1	/* no node key yet */
#define KEYSIGN_RATE		2	/* over the signing rate: try later */

/*
 * minerd <-> netd.  Keys are raw 32-byte Ed25519 public keys; netd
 * knows peers by key only.  Addresses are numeric (netd resolves
 * nothing); minerd resolves names before it asks for a dial.
 */

struct net_self {
	uint8_t		pk[32];
	uint8_t		role;		/* enum node_role, as declared */
	char		name[NODE_NAME_MAX + 1];
};

struct net_key {
	uint8_t		pk[32];
};

struct net_pairing {
	int64_t		until_ms;	/* Unix ms; 0 closes pairing */
};

struct net_dial {
	uint8_t		pk[32];		/* the key pinned for this peer */
	char		host[NET_ADDR_MAX];	/* numeric address */
	uint16_t	port;
};

struct net_msg {
	uint8_t		pk[32];		/* the session's authenticated key */
	uint32_t	flags;		/* NET_MSG_* */
	uint32_t	len;		/* bytes that follow */
};
#define NET_MSG_PAIRING		0x01	/* from a pairing-pending session */

struct net_up {
	uint8_t		pk[32];
	uint32_t	flags;		/* NET_UP_* */
	uint8_t		role;		/* declared by the peer: shown only */
	char		name[NODE_NAME_MAX + 1];	/* declared, vis'd */
	char		addr[NET_ADDR_MAX];	/* numeric, with port */
};
#define NET_UP_INITIATOR	0x01	/* we dialled */
#define NET_UP_PAIRING		0x02	/* unknown key, pairing-pending */

struct net_down {
	uint8_t		pk[32];
	char		reason[128];
};

/*
 * Miners (minerd <-> parent).  Strings are NUL-terminated within their
 * arrays; the parent checks each one and each number.
 */
struct miner_slot {
	uint32_t	slot;		/* 0 .. MINER_SLOTS_MAX - 1 */
};

struct miner_spawn {
	uint32_t	slot;
	char		name[MINER_NAME_MAX + 1];
	char		driver[MINER_DRIVER_MAX + 1];
	char		profile[PROFILE_ID_MAX + 1];
	/* relative to the miners directory, no "..", no leading "/" */
	char		binary[MINER_BINARY_MAX + 1];
	uint32_t	argc;		/* arguments after argv[0] */
	char		argv[MINER_ARGS_MAX][MINER_ARG_LEN];
	/* the config file the parent writes in the slot's work dir */
	char		config_name[MINER_CONFIG_NAME_MAX + 1];	/* "" none */
	uint32_t	config_len;	/* bytes that follow this struct */
	uint16_t	api_port;	/* 0: none */
	char		api_token[MINER_TOKEN_LEN + 1];
};

enum miner_state {
	MINER_STARTING = 0,
	MINER_RUNNING,
	MINER_BACKOFF,		/* crashed; restart pending */
	MINER_STOPPING,
	MINER_STOPPED,
	MINER_FAILED		/* crashed too often: not restarted */
};

/* The parent's fixed-layout record of a slot: all a new minerd needs
 * to adopt and poll a running miner. */
struct miner_record {
	uint32_t	slot;
	int32_t		pid;		/* 0 when not running */
	int32_t		pgid;
	int64_t		started;	/* Unix ms of the current run */
	uint32_t	restarts;
	uint32_t	state;		/* enum miner_state */
	char		name[MINER_NAME_MAX + 1];
	char		driver[MINER_DRIVER_MAX + 1];
	char		profile[PROFILE_ID_MAX + 1];
	uint16_t	api_port;
	char		api_token[MINER_TOKEN_LEN + 1];
};

struct miner_exit {
	uint32_t	slot;
	int32_t		pid;
	int32_t		status;		/* as from waitpid */
	uint32_t	restarts;
	uint32_t	state;		/* MINER_BACKOFF, _STOPPED, _FAILED */
	int64_t		restart_in_ms;	/* MINER_BACKOFF: when */
};

struct miner_refusal {
	uint32_t	slot;
	char		reason[256];
};

const char	*proc_name(enum lethd_proc);

#endif /* LETHD_H */
