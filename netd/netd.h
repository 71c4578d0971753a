/*
 * netd: what its files share.  netd.c is the process (pipes, listeners),
 * conn.c the connections and sessions, limit.c the rate limits and the
 * per-address accounting.
 */

#ifndef NETD_H
#define NETD_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "lethd.h"

/*
 * Limits of netd's own, beyond the lethd.conf(5) keywords.
 */
/* Bytes a session may have queued for its peer before it is dropped:
 * a few whole messages; a peer that does not read is cut off rather
 * than buffered without bound. */
#define NET_WS_PENDING_MAX	(4 * (LETHD_MAX_MESSAGE + 4096))
/* Seconds a pairing-pending session waits, after its one message, for
 * minerd to accept its key: minerd answers within one event loop turn,
 * so this only bounds a session nobody wants. */
#define NET_PAIRING_WAIT	10
/* Room above net_max_message in one WebSocket message: the record
 * overhead and the frame type byte, with slack. */
#define NET_WS_SLACK		64
/*
 * netd -> minerd queue: a fleet's answers to one fan-out (`remote
 * status --all') arrive at once, faster than minerd verifies them, and
 * what does not fit is dropped.  So the bound grows with the sessions
 * netd may hold: NET_MINERD_PER_CONN bytes each (a rig's stats answer
 * is about 1.3 KiB) over IMSG_WQUEUE_MAX, at most NET_MINERD_QUEUE_MAX.
 */
#define NET_MINERD_PER_CONN	4096
#define NET_MINERD_QUEUE_MAX	((size_t)256 * 1024 * 1024)
/* Log lines of one kind per second under a flood (the rest counted). */
#define NET_LOG_PER_SEC		1

/* A source address, for the per-address and per-subnet limits. */
struct netd_addr {
	sa_family_t	family;		/* AF_INET or AF_INET6 */
	uint8_t		a[16];		/* network byte order */
};

/* netd.c */
extern struct child_init	 netd_conf;
/* Send to minerd; a full queue drops the message (logged), never
 * blocks.  0 or -1. */
int	netd_to_minerd(uint32_t type, const void *, size_t);
int	netd_to_minerd2(uint32_t type, const void *, size_t, const void *,
	    size_t);
/* Send to keyd: 0, or -1 when the pipe is down or full. */
int	netd_to_keyd(uint32_t type, const void *, size_t);
/* Our public key, or NULL while keyd has none. */
const uint8_t	*netd_node_key(void);

/* conn.c */
void	conn_init(void);
void	conn_accept(int fd, const struct sockaddr *, socklen_t);
void	conn_self(const struct net_self *);
void	conn_key_add(const uint8_t pk[32]);
void	conn_key_del(const uint8_t pk[32]);
void	conn_pairing(int64_t until_ms);
void	conn_dial(const struct net_dial *);
void	conn_hangup(const uint8_t pk[32]);
void	conn_send(const struct net_msg *, const uint8_t *, size_t);
void	conn_signature(const struct key_sign_rep *);
/* keyd's pipe went away: requests in flight fail. */
void	conn_keyd_lost(void);
/* A new minerd: forget its registry, tell it the sessions we hold. */
void	conn_minerd_new(void);

/* limit.c */
struct tbucket {
	long long	last_ms;	/* monotonic */
	uint64_t	milli;		/* tokens, in thousandths */
};
/* Token bucket of rate per second, burst of one second: 1 take, 0 over. */
void	tb_init(struct tbucket *, unsigned int rate);
int	tb_take(struct tbucket *, unsigned int rate);

/* At most NET_LOG_PER_SEC lines a second of one kind. */
struct loglimit {
	long long	sec;
	unsigned int	lines;
	unsigned int	dropped;
};
/* 1: log this one (*dropped: how many were left out before it). */
int	loglimit_ok(struct loglimit *, unsigned int *dropped);

long long	mono_ms(void);
int	addr_from_sa(struct netd_addr *, const struct sockaddr *, socklen_t);
int	addr_same(const struct netd_addr *, const struct netd_addr *);
/* The same /24 (IPv4) or /64 (IPv6). */
int	addr_same_subnet(const struct netd_addr *, const struct netd_addr *);
/* "a.b.c.d:port" or "[v6]:port" */
void	addr_fmt(const struct sockaddr *, char *, size_t);

#endif /* NETD_H */
