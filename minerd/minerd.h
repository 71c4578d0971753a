/*
 * minerd: the engine.  For now: the control API (HTTP/1.1 + JSON on the
 * UNIX socket the parent binds) and the node identity (node.json).
 */

#ifndef MINERD_H
#define MINERD_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lethd.h"
#include "proc.h"
#include "peer.h"
#include "msg.h"

struct evhttp_request;

/*
 * Limits of the control API.  CTL_MAX_* and the timeout per request are
 * in lethd.h and lethd.conf(5); these are minerd's own.
 */
/* Requests waiting on keyd or the parent at once.  lethctl sends one
 * at a time; a dashboard polls /status: a few dozen is plenty, and the
 * bound keeps a client that never reads from parking requests forever. */
#define API_PENDING_MAX		16
/* Seconds a request waits for the parent's status (it answers at
 * once unless it is wedged) and for keyd to make a key (one Ed25519
 * key and two fsyncs). */
#define API_STATUS_TIMEOUT	5
#define API_KEYGEN_TIMEOUT	10
/* Supplementary groups read with SO_PEERGROUPS: Linux allows 65536
 * (NGROUPS_MAX); the buffer starts small and grows to this. */
#define CTL_PEERGROUPS_MAX	65536
/* After accept fails for lack of fds, pause accepting this long rather
 * than spin on a listener that stays readable. */
#define CTL_ACCEPT_PAUSE	1

/* Error codes of the API bodies: the same as the wire protocol's. */
#define API_ERR_INTERNAL	1000
#define API_ERR_INVALID		1001
#define API_ERR_UNAUTHORISED	1002
#define API_ERR_NOT_FOUND	1003
#define API_ERR_FAILED		1004
#define API_ERR_TIMEOUT		1005

/* node.json */
#define NODE_PK_LEN		32	/* Ed25519 public key */
#define NODE_PK_B64_LEN		44	/* base64 (original, padded) of it */

struct node {
	int		 version;		/* NODE_FORMAT_VERSION */
	char		 id[NODE_ID_LEN + 1];	/* hex of pk[0..15] */
	char		 name[NODE_NAME_MAX + 1];
	uint8_t		 pk[NODE_PK_LEN];
	long long	 created_at;		/* Unix ms */
	enum node_role	 role;
};

/* What keyd last told us about the key: keyd is the authority. */
enum key_state {
	KEY_UNKNOWN = 0,	/* keyd has not spoken since minerd started */
	KEY_NONE,		/* keyd has no key: no identity yet */
	KEY_HAVE		/* keyd has the key in key_pk */
};

/* minerd's process-wide state; main.c fills it, a test its own. */
struct minerd_env {
	struct child_init	 conf;
	struct imsgev		 iev_parent;
	struct imsgev		 iev_keyd;
	struct imsgev		 iev_netd;
	int			 statedir;	/* dirfd of the state dir */
	char			 hostname[NODE_NAME_MAX + 1];
	enum key_state		 key_state;
	uint8_t			 key_pk[NODE_PK_LEN];
};

extern struct minerd_env	*env;

/* node.c */
int		 node_parse(const char *, size_t, struct node *, char *,
		    size_t);
char		*node_format(const struct node *);
int		 node_load(int, struct node *, char *, size_t);
int		 node_save(int, const struct node *);
void		 node_id(const uint8_t [NODE_PK_LEN], char [NODE_ID_LEN + 1]);
void		 node_pk_b64(const uint8_t [NODE_PK_LEN],
		    char [NODE_PK_B64_LEN + 1]);
int		 node_role_parse(const char *, enum node_role *);
const char	*node_role_name(enum node_role);
int		 node_name_check(const char *, size_t, char *, size_t);
json_t		*node_json(const struct node *);

/* jsonutil.c */
char		*api_error_body(int, const char *);
void		 api_error(struct evhttp_request *, int, int, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
void		 api_reply(struct evhttp_request *, int, json_t *);
struct evbuffer;
void		 api_reply_buffer(struct evhttp_request *, int,
		    struct evbuffer *);
json_t		*api_body(struct evhttp_request *, size_t, int, char *, size_t);
json_t		*api_parse_body(const char *, size_t, int, char *, size_t);
json_t		*json_string_safe(const char *);

/* control.c */
void		 control_init(void);
void		 control_listen(int);
void		 control_api_listen(int);
void		 control_reconf(void);
unsigned int	 control_nconn(void);
int		 control_caller_ok(int, uid_t *, pid_t *);

/* apitcp.c: the loopback TCP API's Host and bearer-token checks */
int		 apitcp_listening(int);
void		 apitcp_reconf(void);
int		 apitcp_allowed(struct evhttp_request *);

/* api.c */
void		 api_dispatch(struct evhttp_request *);
int		 api_key_public(const struct key_public *);
int		 api_key_generated(const struct key_generated *);
void		 api_keyd_lost(void);
const char	*api_status_check(const struct proc_status *);
const char	*api_status_end_check(const struct status_end *);
int		 api_status(const struct proc_status *);
void		 api_status_end(const struct status_end *);
const char	*api_default_name(void);
unsigned int	 api_npending(void);

/* api_peer.c: /api/v1/peers* and /api/v1/node/pair */
int		 api_peer_route(const char *);
void		 api_peer_dispatch(struct evhttp_request *, const char *);

/* api_select.c: /api/v1/peers/best (routed before api_peer.c) */
int		 api_select_route(const char *);
void		 api_select_dispatch(struct evhttp_request *, const char *);

/* api_history.c: /api/v1/history/{miner} */
int		 api_history_route(const char *);
void		 api_history_dispatch(struct evhttp_request *, const char *);

/* api_miner.c: /api/v1/profiles* and /api/v1/miners* */
int		 api_miner_route(const char *);
void		 api_miner_dispatch(struct evhttp_request *, const char *);

/* api_remote.c: /api/v1/remote* (the fleet, through remote.c) */
int		 api_remote_route(const char *);
void		 api_remote_dispatch(struct evhttp_request *, const char *);

/* net.c: the peer transport, minerd's side */
struct imsg;
struct key_sign_rep;
void		 net_init(void);
void		 net_netd_ready(void);
void		 net_key_changed(void);
void		 net_keyd_lost(void);
int		 net_imsg(struct imsg *);
int		 net_signature(const struct key_sign_rep *);
/* push the registry's keys and dial list to netd after any change */
void		 net_registry_changed(void);
/* a one-time pairing token for role: 0, or -1 (no identity) */
int		 net_pair_open(enum peer_access, const char *, char *, size_t,
		    long long *);
/* peer add TOKEN: pin, dial, send the signed pair; answers req later */
void		 net_pair_with(struct evhttp_request *, const char *,
		    const char *);
/* a signed ping (remote_ping: the remote timeout, cancelled with its
 * client); answers req with {"id","rttMs"} or an error */
void		 net_ping(struct evhttp_request *, struct peer *);

/*
 * Requests of ours to a peer, for the rest of minerd.  The callback
 * runs exactly once, after net_request returned 0: with m the verified
 * answer (a response of the request's type, status 0; or an `error'
 * message, status its code, always 1000..1005, why its message) or
 * with m NULL (status
 * MSG_ERR_TIMEOUT: no answer in timeout_ms; MSG_ERR_FAILED: the
 * session closed).  m and p are valid only during the call.
 * net_request returns -1 with *why (not connected, too many in
 * flight, no identity) and then never calls cb.  payload is stolen.
 */
typedef void	(*net_answer_cb)(void *arg, struct peer *p,
		    const struct msg *m, int status, const char *why);
int		 net_request(struct peer *, enum msg_type,
		    json_t *, unsigned int timeout_ms, net_answer_cb,
		    void *arg, const char **why);
/* Forget every pending request made with arg: no callback runs. */
void		 net_request_cancel(void *arg);
/* How many requests net_request can take now (0 without identity). */
unsigned int	 net_request_room(void);
/* An answer (a response type) to request reply_to from pk; payload
 * stolen: 0, or -1 when it could not be queued (logged). */
int		 net_reply(const uint8_t [32], const char *reply_to,
		    enum msg_type, json_t *);
/* An `error' answer {code, message, details: null} to a request. */
void		 net_reply_error(struct peer *, const struct msg *, int,
		    const char *);

/* serve.c: a worker serving a verified request from a registered peer
 * (every type but ping, pair and disconnect, which net.c handles):
 * authorises it by the peer's own allow-list entry and answers. */
void		 serve_request(struct peer *, const struct msg *);

/* select.c: peer selection.  The location of this node for a pong
 * ({lat, lon} or null, a new reference), and what a pong tells about
 * p (pingMs, geoKm). */
json_t		*select_location_json(void);
void		 select_pong(struct peer *, const struct msg *, double rtt_ms);

#endif /* MINERD_H */
