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

const char	*proc_name(enum lethd_proc);

#endif /* LETHD_H */
