/*
 * netd's connections: WebSocket (ws.c) carrying the wire handshake and
 * records (wire.c), glued to keyd (which signs transcript hashes) and
 * to minerd (which sees only authenticated sessions and the opened
 * application bytes).
 *
 * A connection lives through: OPENING (TCP connect, HTTP upgrade),
 * HANDSHAKE (wire messages), SIGNING (waiting for keyd), UP (the
 * session), CLOSING (ws_close called; the ws calls back once it is
 * gone) and DEAD (freed from the timer, outside every ws callback).
 * Each connection has one timer: the handshake timeout, then the
 * pairing wait or the session lifetime, then the close wait.
 *
 * Bookkeeping: every connection is on `conns'; inbound ones still in
 * their handshake are on `half' (oldest first: the handshake limits);
 * the ones waiting for keyd on `signing'; the one established session
 * minerd knows for a key is in `by_key'.  Every connection minerd
 * knows of (it asked for the dial, or it got an IMSG_NET_UP) ends with
 * exactly one IMSG_NET_DOWN.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "wire.h"
#include "ws.h"
#include "netd.h"

/* Keys minerd may add: pinned peers and allowed controllers.  A bound,
 * so that even minerd cannot make netd grow without limit. */
#define NET_REGISTRY_MAX	100000
/* Seconds a closing connection waits for the WebSocket close handshake
 * before it is freed anyway. */
#define NET_CLOSE_WAIT		5
#define KEY_B64_LEN		sodium_base64_ENCODED_LEN(32, \
				    sodium_base64_VARIANT_ORIGINAL)

enum conn_state {
	CONN_OPENING = 0,
	CONN_HANDSHAKE,
	CONN_SIGNING,
	CONN_UP,
	CONN_CLOSING,
	CONN_DEAD
};

enum conn_pairing {
	PAIR_NONE = 0,
	PAIR_WAIT_MSG,		/* may pass one message */
	PAIR_WAIT_KEY		/* passed it; minerd decides */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 half_entry;
	TAILQ_ENTRY(conn)	 sign_entry;
	RB_ENTRY(conn)		 key_entry;
	RB_ENTRY(conn)		 dial_entry;
	struct ws		*ws;
	struct hs		*hs;		/* in the handshake only */
	struct event		*timer;
	struct session		 sess;
	struct tbucket		 rate;
	struct netd_addr	 src;
	uint32_t		 sign_req;
	uint8_t			 state;	/* enum conn_state */
	uint8_t			 pairing;	/* enum conn_pairing */
	uint8_t			 initiator;	/* we dialled */
	uint8_t			 in_half;
	uint8_t			 announced;	/* in by_key */
	uint8_t			 in_dial;	/* in dialling */
	uint8_t			 role;
	uint8_t			 pk[32];	/* pinned, verified */
	char			 name[NODE_NAME_MAX + 1];	/* vis'd */
	char			 addr[NET_ADDR_MAX];
};

struct regkey {
	RB_ENTRY(regkey)	 entry;
	uint8_t			 pk[32];
};

TAILQ_HEAD(connlist, conn);
RB_HEAD(conn_tree, conn);
RB_HEAD(dial_tree, conn);
RB_HEAD(reg_tree, regkey);

static int	conn_key_cmp(struct conn *, struct conn *);
static int	reg_cmp(struct regkey *, struct regkey *);
/* libbsd's RB_*_STATIC want a __unused that its cdefs.h leaves out */
#define CONN_RB_ATTR	__attribute__((__unused__)) static
RB_PROTOTYPE_INTERNAL(conn_tree, conn, key_entry, conn_key_cmp,
    CONN_RB_ATTR)
RB_PROTOTYPE_INTERNAL(reg_tree, regkey, entry, reg_cmp, CONN_RB_ATTR)
RB_PROTOTYPE_INTERNAL(dial_tree, conn, dial_entry, conn_key_cmp,
    CONN_RB_ATTR)

static struct connlist		 conns = TAILQ_HEAD_INITIALIZER(conns);
static struct connlist		 half = TAILQ_HEAD_INITIALIZER(half);
static struct connlist		 signing =
				    TAILQ_HEAD_INITIALIZER(signing);
static struct conn_tree		 by_key = RB_INITIALIZER(&by_key);
/* our dials not yet up, by key: a fleet's dial pass asks for
 * thousands at once, and each must find its own in O(log n) */
static struct dial_tree		 dialling = RB_INITIALIZER(&dialling);
static struct reg_tree		 registry = RB_INITIALIZER(&registry);
static unsigned int		 nconns, nhalf, nregistry;
static int64_t			 pairing_until;
static struct net_self		 self;
static int			 have_self;
static uint32_t			 sign_seq;
static uint8_t			*iobuf;	/* one opened message */
static uint8_t			*sealbuf;	/* one message, sealed */
static size_t			 iobuf_len;
static struct ws_limits		 limits;
static struct loglimit		 ll_maxconn, ll_nokey, ll_peraddr;
static struct loglimit		 ll_evict;

static void	conn_ws_open(struct ws *, void *);
static void	conn_ws_message(struct ws *, const uint8_t *, size_t,
		    void *);
static void	conn_ws_closed(struct ws *, uint16_t, const char *, void *);
static void	conn_timer(int, short, void *);

static const struct ws_callbacks conn_cb = {
	conn_ws_open,
	conn_ws_message,
	conn_ws_closed
};

static struct conn *conn_new(int initiator, const char *addr);
static void	conn_free(struct conn *);
static void	conn_fail(struct conn *, uint16_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	conn_close(struct conn *, uint16_t, const char *);
static void	conn_teardown(struct conn *, const char *);
static void	conn_undial(struct conn *);
static void	conn_timer_set(struct conn *, unsigned int);
static int	conn_self_id(struct hs_identity *);
static void	conn_hs_start(struct conn *);
static void	conn_sign(struct conn *);
static void	conn_established(struct conn *);
static void	conn_announce(struct conn *);
static void	conn_record(struct conn *, const uint8_t *, size_t);
static void	conn_down_msg(const uint8_t *, const char *);
static int	conn_send_raw(struct conn *, const uint8_t *, size_t);
static const uint8_t *conn_initiator_key(const struct conn *);
static int	reg_has(const uint8_t *);
static const char *key_str(const uint8_t *, char *, size_t);

RB_GENERATE_INTERNAL(conn_tree, conn, key_entry, conn_key_cmp,
    CONN_RB_ATTR)
RB_GENERATE_INTERNAL(reg_tree, regkey, entry, reg_cmp, CONN_RB_ATTR)
RB_GENERATE_INTERNAL(dial_tree, conn, dial_entry, conn_key_cmp,
    CONN_RB_ATTR)

static int
conn_key_cmp(struct conn *a, struct conn *b)
{
	return (memcmp(a->pk, b->pk, sizeof(a->pk)));
}

static int
reg_cmp(struct regkey *a, struct regkey *b)
{
	return (memcmp(a->pk, b->pk, sizeof(a->pk)));
}

void
conn_init(void)
{
	iobuf_len = (size_t)netd_conf.net_max_message + WIRE_REC_OVERHEAD +
	    NET_WS_SLACK;
	if ((iobuf = malloc(iobuf_len)) == NULL ||
	    (sealbuf = malloc(iobuf_len)) == NULL)
		fatal("malloc");
	limits.max_header = netd_conf.net_max_header;
	limits.max_message = iobuf_len;
	limits.ping_interval = netd_conf.net_ping_interval;
	limits.pong_timeout = netd_conf.net_pong_timeout;
	limits.open_timeout = netd_conf.net_hs_timeout;
}

static const char *
key_str(const uint8_t *pk, char *buf, size_t len)
{
	if (len < KEY_B64_LEN)
		return ("?");
	return (sodium_bin2base64(buf, len, pk, 32,
	    sodium_base64_VARIANT_ORIGINAL));
}

/*
 * Connections: life and death.
 */

static struct conn *
conn_new(int initiator, const char *addr)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("calloc");
		return (NULL);
	}
	if ((c->timer = evtimer_new(ev_base, conn_timer, c)) == NULL) {
		log_warn("evtimer_new");
		free(c);
		return (NULL);
	}
	c->initiator = initiator;
	c->state = CONN_OPENING;
	(void)strlcpy(c->addr, addr, sizeof(c->addr));
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	conn_timer_set(c, netd_conf.net_hs_timeout);
	return (c);
}

static void
conn_free(struct conn *c)
{
	conn_undial(c);
	if (c->ws != NULL)
		ws_free(c->ws);
	event_free(c->timer);
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	freezero(c, sizeof(*c));
}

static void
conn_timer_set(struct conn *c, unsigned int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (evtimer_add(c->timer, &tv) == -1)
		fatal("evtimer_add");
}

/* Off the dials in progress (it is up, or going). */
static void
conn_undial(struct conn *c)
{
	if (c->in_dial) {
		RB_REMOVE(dial_tree, &dialling, c);
		c->in_dial = 0;
	}
}

/*
 * Leave every list, fail what is in flight, tell minerd if it knows
 * of this connection.  Once per connection.
 */
static void
conn_teardown(struct conn *c, const char *reason)
{
	struct conn	*o;
	int		 tell = 0;

	conn_undial(c);
	if (c->in_half) {
		TAILQ_REMOVE(&half, c, half_entry);
		c->in_half = 0;
		nhalf--;
	}
	if (c->state == CONN_SIGNING)
		TAILQ_REMOVE(&signing, c, sign_entry);
	c->sign_req = 0;	/* a late reply finds nobody */
	if (c->hs != NULL) {
		hs_clear(c->hs);
		freezero(c->hs, sizeof(*c->hs));
		c->hs = NULL;
	}
	session_clear(&c->sess);
	if (c->announced) {
		RB_REMOVE(conn_tree, &by_key, c);
		c->announced = 0;
		tell = 1;
	} else if (c->initiator) {
		/* minerd asked for this dial: it hears how it ended,
		 * unless another session with the peer stands for it */
		o = RB_FIND(conn_tree, &by_key, c);
		tell = (o == NULL);
	}
	if (tell)
		conn_down_msg(c->pk, reason);
	c->state = CONN_CLOSING;
}

/* Close without a log line (the caller wrote it, or it is not worth
 * one); reason goes to minerd. */
static void
conn_close(struct conn *c, uint16_t code, const char *reason)
{
	if (c->state >= CONN_CLOSING)
		return;
	conn_teardown(c, reason);
	conn_timer_set(c, NET_CLOSE_WAIT);
	if (c->ws != NULL)
		ws_close(c->ws, code, reason);
	else {
		c->state = CONN_DEAD;
		conn_timer_set(c, 0);
	}
}

/* Close with the connection's one log line. */
static void
conn_fail(struct conn *c, uint16_t code, const char *fmt, ...)
{
	char	 reason[sizeof(((struct net_down *)0)->reason)];
	va_list	 ap;

	if (c->state >= CONN_CLOSING)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", c->addr, reason);
	conn_close(c, code, reason);
}

static void
conn_timer(int fd, short event, void *arg)
{
	struct conn	*c = arg;
	uint8_t		 rec[WIRE_REC_OVERHEAD];
	size_t		 len;

	switch (c->state) {
	case CONN_OPENING:
	case CONN_HANDSHAKE:
	case CONN_SIGNING:
		conn_fail(c, WS_CLOSE_POLICY, "handshake timed out after "
		    "%u s", netd_conf.net_hs_timeout);
		break;
	case CONN_UP:
		if (c->pairing != PAIR_NONE) {
			conn_fail(c, WS_CLOSE_POLICY, "pairing-pending "
			    "session timed out");
			break;
		}
		/* the session lifetime ran out: our next key starts now */
		if (session_rekey(&c->sess, rec, &len) == -1 ||
		    conn_send_raw(c, rec, len) == -1) {
			if (c->state == CONN_UP)
				conn_fail(c, WS_CLOSE_INTERNAL,
				    "cannot re-key");
			break;
		}
		log_debug("%s: re-keyed", c->addr);
		conn_timer_set(c, netd_conf.net_session_lifetime);
		break;
	case CONN_CLOSING:
		/* the close handshake never finished: free it anyway */
	case CONN_DEAD:
		conn_free(c);
		break;
	}
}

/*
 * WebSocket callbacks.
 */

static void
conn_ws_closed(struct ws *ws, uint16_t code, const char *why, void *arg)
{
	struct conn	*c = arg;
	char		 ks[KEY_B64_LEN];

	if (c->state < CONN_CLOSING) {
		if (why == NULL)
			why = "connection closed";
		if (c->state == CONN_UP)
			log_info("%s: session with %s closed: %s (%u)",
			    c->addr, key_str(c->pk, ks, sizeof(ks)), why,
			    code);
		else
			log_warnx("%s: %s (%u)", c->addr, why, code);
		conn_teardown(c, why);
	}
	c->state = CONN_DEAD;
	conn_timer_set(c, 0);	/* free it outside the ws's callbacks */
}

static void
conn_ws_open(struct ws *ws, void *arg)
{
	struct conn	*c = arg;

	if (c->state != CONN_OPENING)
		return;
	c->state = CONN_HANDSHAKE;
	conn_hs_start(c);
}

static void
conn_ws_message(struct ws *ws, const uint8_t *buf, size_t len, void *arg)
{
	struct conn	*c = arg;
	const char	*why = NULL;
	uint8_t		 type;

	if (c->state >= CONN_CLOSING)
		return;
	if (len == 0) {
		conn_fail(c, WS_CLOSE_PROTOCOL, "empty message");
		return;
	}
	type = buf[0];
	if (c->state == CONN_UP) {
		if (type != WIRE_RECORD) {
			conn_fail(c, WS_CLOSE_PROTOCOL, "frame type %u on an "
			    "established session", type);
			return;
		}
		conn_record(c, buf, len);
		return;
	}
	if (c->state != CONN_HANDSHAKE || c->hs == NULL) {
		conn_fail(c, WS_CLOSE_PROTOCOL, "frame type %u while waiting "
		    "for %s", type, c->state == CONN_SIGNING ? "keyd" :
		    "the upgrade");
		return;
	}
	if (!c->initiator && c->hs->state == HS_START && type == WIRE_HS1) {
		if (hs_read1(c->hs, buf, len, &why) == -1)
			goto bad;
		conn_sign(c);
	} else if (!c->initiator && c->hs->state == HS_R_SENT2 &&
	    type == WIRE_HS3) {
		if (hs_read3(c->hs, buf, len, &why) == -1)
			goto bad;
		conn_established(c);
	} else if (c->initiator && c->hs->state == HS_I_SENT1 &&
	    type == WIRE_HS2) {
		if (hs_read2(c->hs, buf, len, &why) == -1)
			goto bad;
		if (memcmp(c->hs->peer.pk, c->pk, sizeof(c->pk)) != 0) {
			char	 k1[KEY_B64_LEN], k2[KEY_B64_LEN];

			/* loud: a pinned peer changed its key, or someone
			 * else answers at its address */
			log_warnx("peer at %s presented key %s, pinned %s: "
			    "refusing", c->addr,
			    key_str(c->hs->peer.pk, k1, sizeof(k1)),
			    key_str(c->pk, k2, sizeof(k2)));
			conn_close(c, WS_CLOSE_POLICY, "peer presented "
			    "another key than the pinned one");
			return;
		}
		conn_sign(c);
	} else {
		conn_fail(c, WS_CLOSE_PROTOCOL, "handshake: unexpected frame "
		    "type %u", type);
	}
	return;
 bad:
	conn_fail(c, WS_CLOSE_POLICY, "handshake: %s",
	    why != NULL ? why : "failed");
}

/*
 * The handshake.
 */

static int
conn_self_id(struct hs_identity *id)
{
	const uint8_t	*pk;

	if ((pk = netd_node_key()) == NULL)
		return (-1);
	memset(id, 0, sizeof(*id));
	memcpy(id->pk, pk, sizeof(id->pk));
	if (have_self) {
		id->role = self.role;
		(void)strlcpy(id->name, self.name, sizeof(id->name));
	} else {
		id->role = ROLE_DUAL;
		(void)strlcpy(id->name, netd_conf.node_name,
		    sizeof(id->name));
	}
	return (0);
}

/* The upgrade is done: the initiator speaks first. */
static void
conn_hs_start(struct conn *c)
{
	struct hs_identity	 id;
	uint8_t			 out[WIRE_HS1_LEN];
	size_t			 outlen = sizeof(out);
	const char		*why = NULL;

	if (conn_self_id(&id) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "no node key yet");
		return;
	}
	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL) {
		log_warn("calloc");
		conn_close(c, WS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	hs_init(c->hs, c->initiator, &id);
	if (!c->initiator)
		return;
	if (hs_write1(c->hs, out, &outlen, &why) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "handshake: %s",
		    why != NULL ? why : "failed");
		return;
	}
	(void)conn_send_raw(c, out, outlen);
}

/* Ask keyd to sign the transcript hash; the reply finds us by id. */
static void
conn_sign(struct conn *c)
{
	struct key_sign_req	 req;

	memset(&req, 0, sizeof(req));
	if (hs_sign_request(c->hs, req.hash, &req.label) == -1 ||
	    (req.label != KEY_LABEL_HANDSHAKE_INITIATOR &&
	    req.label != KEY_LABEL_HANDSHAKE_RESPONDER)) {
		conn_fail(c, WS_CLOSE_INTERNAL, "handshake: nothing to sign");
		return;
	}
	if (++sign_seq == 0)
		sign_seq = 1;
	req.request = sign_seq;
	if (netd_to_keyd(IMSG_KEY_SIGN, &req, sizeof(req)) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "keyd is not available");
		return;
	}
	c->sign_req = req.request;
	c->state = CONN_SIGNING;
	TAILQ_INSERT_TAIL(&signing, c, sign_entry);
}

void
conn_signature(const struct key_sign_rep *rep)
{
	struct conn	*c;
	uint8_t		 out[WIRE_HS2_MAX > WIRE_HS3_MAX ?
			    WIRE_HS2_MAX : WIRE_HS3_MAX];
	size_t		 outlen = sizeof(out);
	const char	*why = NULL;
	int		 r;

	TAILQ_FOREACH(c, &signing, sign_entry)
		if (c->sign_req == rep->request)
			break;
	if (c == NULL) {
		/* its connection died meanwhile */
		log_debug("signature %u for nobody: dropped", rep->request);
		return;
	}
	TAILQ_REMOVE(&signing, c, sign_entry);
	c->sign_req = 0;
	c->state = CONN_HANDSHAKE;
	if (rep->status != KEYSIGN_OK) {
		conn_fail(c, WS_CLOSE_INTERNAL, "keyd did not sign: %s",
		    rep->status == KEYSIGN_NOKEY ? "no node key yet" :
		    rep->status == KEYSIGN_RATE ? "over the signing rate" :
		    "error");
		return;
	}
	if (c->initiator)
		r = hs_write3(c->hs, rep->sig, out, &outlen, &why);
	else
		r = hs_write2(c->hs, rep->sig, out, &outlen, &why);
	if (r == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "handshake: %s",
		    why != NULL ? why : "failed");
		return;
	}
	if (conn_send_raw(c, out, outlen) == -1)
		return;
	if (c->initiator)
		conn_established(c);
}

/* keyd went away: what it was asked will not be answered. */
void
conn_keyd_lost(void)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&signing)) != NULL)
		conn_fail(c, WS_CLOSE_INTERNAL, "keyd went away during the "
		    "handshake");
}

static const uint8_t *
conn_initiator_key(const struct conn *c)
{
	const uint8_t	*pk;

	if (!c->initiator)
		return (c->pk);
	pk = netd_node_key();
	return (pk != NULL ? pk : c->pk);
}

/* hs is HS_DONE: keys, authorisation, one session per peer. */
static void
conn_established(struct conn *c)
{
	struct session_keys	 sk;
	struct conn		*o;
	char			 ks[KEY_B64_LEN];
	int			 cmp;

	if (!c->initiator) {
		memcpy(c->pk, c->hs->peer.pk, sizeof(c->pk));
		if (reg_has(c->pk))
			c->pairing = PAIR_NONE;
		else if (now_ms() < pairing_until)
			c->pairing = PAIR_WAIT_MSG;
		else {
			log_warnx("unknown key %s from %s: refused",
			    key_str(c->pk, ks, sizeof(ks)), c->addr);
			conn_close(c, WS_CLOSE_POLICY, "unknown key");
			return;
		}
	}
	if (hs_session_keys(c->hs, &sk) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "handshake: no session keys");
		return;
	}
	session_init(&c->sess, &sk);
	sodium_memzero(&sk, sizeof(sk));
	c->role = c->hs->peer.role;
	(void)str_vis(c->name, sizeof(c->name), c->hs->peer.name,
	    strnlen(c->hs->peer.name, sizeof(c->hs->peer.name)));
	hs_clear(c->hs);
	freezero(c->hs, sizeof(*c->hs));
	c->hs = NULL;
	if (c->in_half) {
		TAILQ_REMOVE(&half, c, half_entry);
		c->in_half = 0;
		nhalf--;
	}
	conn_undial(c);
	c->state = CONN_UP;
	tb_init(&c->rate, netd_conf.net_msg_rate);
	conn_timer_set(c, c->pairing != PAIR_NONE ? NET_PAIRING_WAIT :
	    netd_conf.net_session_lifetime);

	/* both dialled at once: the session whose initiator has the
	 * smaller key survives on both sides; from one initiator, the
	 * newer (the peer came back) */
	if ((o = RB_FIND(conn_tree, &by_key, c)) == NULL) {
		conn_announce(c);
		return;
	}
	cmp = memcmp(conn_initiator_key(c), conn_initiator_key(o), 32);
	if (cmp > 0 || (cmp == 0 && c->pairing != PAIR_NONE)) {
		log_debug("%s: second session with %s: keeping the one from "
		    "%s", c->addr, key_str(c->pk, ks, sizeof(ks)), o->addr);
		conn_close(c, WS_CLOSE_NORMAL, "duplicate session");
		return;
	}
	log_debug("%s: second session with %s: it replaces the one from %s",
	    c->addr, key_str(c->pk, ks, sizeof(ks)), o->addr);
	/* minerd's view moves to the survivor: no DOWN, no UP unless
	 * what it knows changes */
	RB_REMOVE(conn_tree, &by_key, o);
	o->announced = 0;
	RB_INSERT(conn_tree, &by_key, c);
	c->announced = 1;
	if (c->pairing != o->pairing)
		conn_announce(c);
	conn_close(o, WS_CLOSE_NORMAL, "duplicate session");
}

static void
conn_announce(struct conn *c)
{
	struct net_up	 up;
	char		 ks[KEY_B64_LEN];

	if (!c->announced) {
		RB_INSERT(conn_tree, &by_key, c);
		c->announced = 1;
	}
	memset(&up, 0, sizeof(up));
	memcpy(up.pk, c->pk, sizeof(up.pk));
	if (c->initiator)
		up.flags |= NET_UP_INITIATOR;
	if (c->pairing != PAIR_NONE)
		up.flags |= NET_UP_PAIRING;
	up.role = c->role;
	(void)strlcpy(up.name, c->name, sizeof(up.name));
	(void)strlcpy(up.addr, c->addr, sizeof(up.addr));
	log_info("%s: session with %s (%s)%s", c->addr,
	    key_str(c->pk, ks, sizeof(ks)), c->name,
	    c->pairing != PAIR_NONE ? ", pairing pending" : "");
	(void)netd_to_minerd(IMSG_NET_UP, &up, sizeof(up));
}

/*
 * Records.
 */

static void
conn_record(struct conn *c, const uint8_t *buf, size_t len)
{
	struct net_msg	 nm;
	const char	*why = NULL;
	size_t		 outlen = 0;
	int		 r;

	if (!tb_take(&c->rate, netd_conf.net_msg_rate)) {
		conn_fail(c, WS_CLOSE_POLICY, "over the message rate (%u/s)",
		    netd_conf.net_msg_rate);
		return;
	}
	if (len > iobuf_len) {
		conn_fail(c, WS_CLOSE_TOO_BIG, "record too large");
		return;
	}
	if ((r = session_open(&c->sess, buf, len, iobuf, &outlen,
	    &why)) == -1) {
		conn_fail(c, WS_CLOSE_POLICY, "record: %s",
		    why != NULL ? why : "cannot open");
		return;
	}
	if (r == 0)
		return;		/* the peer re-keyed */
	if (outlen > netd_conf.net_max_message) {
		conn_fail(c, WS_CLOSE_TOO_BIG, "message over %u bytes",
		    netd_conf.net_max_message);
		return;
	}
	memset(&nm, 0, sizeof(nm));
	memcpy(nm.pk, c->pk, sizeof(nm.pk));
	nm.len = outlen;
	switch (c->pairing) {
	case PAIR_WAIT_MSG:
		nm.flags |= NET_MSG_PAIRING;
		c->pairing = PAIR_WAIT_KEY;
		conn_timer_set(c, NET_PAIRING_WAIT);
		break;
	case PAIR_WAIT_KEY:
		conn_fail(c, WS_CLOSE_POLICY, "pairing-pending session sent "
		    "a second message");
		return;
	}
	(void)netd_to_minerd2(IMSG_NET_RECV, &nm, sizeof(nm), iobuf, outlen);
}

/* Queue one wire message; on failure the connection is closed. */
static int
conn_send_raw(struct conn *c, const uint8_t *buf, size_t len)
{
	if (ws_send(c->ws, buf, len) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "cannot send");
		return (-1);
	}
	if (ws_pending(c->ws) > NET_WS_PENDING_MAX) {
		conn_fail(c, WS_CLOSE_POLICY, "peer does not read: %zu bytes "
		    "queued", ws_pending(c->ws));
		return (-1);
	}
	return (0);
}

void
conn_send(const struct net_msg *nm, const uint8_t *data, size_t len)
{
	struct conn	 key, *c;
	uint8_t		 rekey[WIRE_REC_OVERHEAD];
	size_t		 outlen = 0, rekey_len = 0;

	memcpy(key.pk, nm->pk, sizeof(key.pk));
	c = RB_FIND(conn_tree, &by_key, &key);
	if (c == NULL || c->state != CONN_UP) {
		conn_down_msg(nm->pk, "not connected");
		return;
	}
	if (len > netd_conf.net_max_message) {
		log_warnx("minerd: message of %zu bytes for %s: over the "
		    "limit, dropped", len, c->addr);
		return;
	}
	if (session_seal(&c->sess, data, len, sealbuf, &outlen, rekey,
	    &rekey_len) == -1) {
		conn_fail(c, WS_CLOSE_INTERNAL, "cannot seal a record");
		return;
	}
	if (rekey_len > 0 && conn_send_raw(c, rekey, rekey_len) == -1)
		return;
	(void)conn_send_raw(c, sealbuf, outlen);
}

static void
conn_down_msg(const uint8_t *pk, const char *reason)
{
	struct net_down	 down;

	memset(&down, 0, sizeof(down));
	memcpy(down.pk, pk, sizeof(down.pk));
	(void)strlcpy(down.reason, reason, sizeof(down.reason));
	(void)netd_to_minerd(IMSG_NET_DOWN, &down, sizeof(down));
}

/*
 * New connections.
 */

/*
 * Handshake messages and records are small and answered at once:
 * without this, every round trip waits for the peer's delayed ACK
 * (about 40 ms; bench/handshake measured it).
 */
static void
conn_nodelay(int fd)
{
	int	 on = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_warn("TCP_NODELAY");
}

void
conn_accept(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct conn	*c, *oldest;
	struct netd_addr src;
	char		 addr[NET_ADDR_MAX];
	unsigned int	 same = 0, subnet = 0, dropped;

	addr_fmt(sa, addr, sizeof(addr));
	if (addr_from_sa(&src, sa, salen) == -1) {
		close(fd);
		return;
	}
	conn_nodelay(fd);
	if (nconns >= netd_conf.net_max_conn) {
		if (loglimit_ok(&ll_maxconn, &dropped))
			log_warnx("%s: over max connections (%u): closed "
			    "(%u more not logged)", addr,
			    netd_conf.net_max_conn, dropped);
		close(fd);
		return;
	}
	if (netd_node_key() == NULL) {
		if (loglimit_ok(&ll_nokey, &dropped))
			log_warnx("%s: no node key yet: closed", addr);
		close(fd);
		return;
	}
	TAILQ_FOREACH(c, &half, half_entry) {
		if (addr_same(&c->src, &src))
			same++;
		if (addr_same_subnet(&c->src, &src))
			subnet++;
	}
	if (same >= netd_conf.net_hs_per_addr ||
	    subnet >= netd_conf.net_hs_per_subnet) {
		if (loglimit_ok(&ll_peraddr, &dropped))
			log_warnx("%s: over %u handshakes from its %s: refused "
			    "(%u more not logged)", addr,
			    same >= netd_conf.net_hs_per_addr ?
			    netd_conf.net_hs_per_addr :
			    netd_conf.net_hs_per_subnet,
			    same >= netd_conf.net_hs_per_addr ? "address" :
			    "subnet", dropped);
		close(fd);
		return;
	}
	if (nhalf >= netd_conf.net_max_handshakes &&
	    (oldest = TAILQ_FIRST(&half)) != NULL) {
		if (loglimit_ok(&ll_evict, &dropped))
			log_warnx("%s: handshake slots full (%u): the oldest "
			    "half-open connection, %s, closed (%u more not "
			    "logged)", addr, netd_conf.net_max_handshakes,
			    oldest->addr, dropped);
		conn_close(oldest, WS_CLOSE_POLICY, "handshake slots full");
	}
	if ((c = conn_new(0, addr)) == NULL) {
		close(fd);
		return;
	}
	c->src = src;
	c->in_half = 1;
	TAILQ_INSERT_TAIL(&half, c, half_entry);
	nhalf++;
	if ((c->ws = ws_accept(ev_base, fd, &limits, &conn_cb, c)) == NULL) {
		log_warnx("%s: cannot set up the connection", addr);
		conn_close(c, WS_CLOSE_INTERNAL, "internal error");
		return;
	}
	log_debug("%s: connection", addr);
}

void
conn_dial(const struct net_dial *d)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct conn		 key, *c;
	char			 host[NET_ADDR_MAX], addr[NET_ADDR_MAX];
	socklen_t		 slen;
	size_t			 hl;
	int			 fd;

	memcpy(key.pk, d->pk, sizeof(key.pk));
	if ((c = RB_FIND(conn_tree, &by_key, &key)) != NULL) {
		/* there is a session: minerd hears of it again */
		conn_announce(c);
		return;
	}
	if ((c = RB_FIND(dial_tree, &dialling, &key)) != NULL) {
		log_debug("%s: dial already in progress", c->addr);
		return;
	}
	(void)strlcpy(host, d->host, sizeof(host));
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(d->port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(d->port);
		slen = sizeof(*sin6);
	} else {
		log_warnx("dial %s: not a numeric address", d->host);
		conn_down_msg(d->pk, "not a numeric address");
		return;
	}
	addr_fmt((struct sockaddr *)&ss, addr, sizeof(addr));
	if (netd_node_key() == NULL) {
		log_warnx("dial %s: no node key yet", addr);
		conn_down_msg(d->pk, "no node key yet");
		return;
	}
	if (nconns >= netd_conf.net_max_conn) {
		log_warnx("dial %s: over max connections (%u)", addr,
		    netd_conf.net_max_conn);
		conn_down_msg(d->pk, "too many connections");
		return;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("dial %s: socket", addr);
		conn_down_msg(d->pk, strerror(errno));
		return;
	}
	conn_nodelay(fd);
	if (connect(fd, (struct sockaddr *)&ss, slen) == -1 &&
	    errno != EINPROGRESS) {
		log_warn("dial %s", addr);
		conn_down_msg(d->pk, strerror(errno));
		close(fd);
		return;
	}
	if ((c = conn_new(1, addr)) == NULL) {
		conn_down_msg(d->pk, "out of memory");
		close(fd);
		return;
	}
	memcpy(c->pk, d->pk, sizeof(c->pk));
	RB_INSERT(dial_tree, &dialling, c);
	c->in_dial = 1;
	if ((c->ws = ws_connect(ev_base, fd, addr, &limits, &conn_cb,
	    c)) == NULL) {
		log_warnx("dial %s: cannot set up the connection", addr);
		conn_close(c, WS_CLOSE_INTERNAL, "internal error");
		return;
	}
	log_debug("%s: dialling", addr);
}

void
conn_hangup(const uint8_t pk[32])
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		if (c->state < CONN_CLOSING &&
		    (c->state == CONN_UP || c->initiator) &&
		    memcmp(c->pk, pk, sizeof(c->pk)) == 0) {
			log_debug("%s: hangup", c->addr);
			conn_close(c, WS_CLOSE_GOING_AWAY, "hangup");
		}
}

/*
 * minerd's registry and pairing window.
 */

static int
reg_has(const uint8_t *pk)
{
	struct regkey	 key;

	memcpy(key.pk, pk, sizeof(key.pk));
	return (RB_FIND(reg_tree, &registry, &key) != NULL);
}

void
conn_key_add(const uint8_t pk[32])
{
	struct regkey	*r;
	struct conn	 key, *c;

	if (!reg_has(pk)) {
		if (nregistry >= NET_REGISTRY_MAX) {
			log_warnx("minerd: over %u keys in the registry: "
			    "ignored", NET_REGISTRY_MAX);
			return;
		}
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			log_warn("calloc");
			return;
		}
		memcpy(r->pk, pk, sizeof(r->pk));
		RB_INSERT(reg_tree, &registry, r);
		nregistry++;
	}
	/* a pairing-pending session whose key minerd now accepts */
	memcpy(key.pk, pk, sizeof(key.pk));
	if ((c = RB_FIND(conn_tree, &by_key, &key)) != NULL &&
	    c->pairing != PAIR_NONE) {
		c->pairing = PAIR_NONE;
		conn_timer_set(c, netd_conf.net_session_lifetime);
		conn_announce(c);
	}
}

void
conn_key_del(const uint8_t pk[32])
{
	struct regkey	 key, *r;
	struct conn	*c;

	memcpy(key.pk, pk, sizeof(key.pk));
	if ((r = RB_FIND(reg_tree, &registry, &key)) != NULL) {
		RB_REMOVE(reg_tree, &registry, r);
		nregistry--;
		free(r);
	}
	TAILQ_FOREACH(c, &conns, entry)
		if (c->state == CONN_UP && !c->initiator &&
		    memcmp(c->pk, pk, sizeof(c->pk)) == 0) {
			log_info("%s: key removed from the registry: closing",
			    c->addr);
			conn_close(c, WS_CLOSE_POLICY, "key removed");
		}
}

void
conn_pairing(int64_t until_ms)
{
	pairing_until = until_ms;
}

void
conn_self(const struct net_self *ns)
{
	const uint8_t	*pk;

	self = *ns;
	have_self = 1;
	/* keyd is the authority for our key; minerd's copy may lag */
	if ((pk = netd_node_key()) != NULL &&
	    memcmp(pk, ns->pk, sizeof(ns->pk)) != 0)
		log_debug("minerd declares another key than keyd's: "
		    "keyd's is used");
}

/* A new minerd: it sends its registry again and hears of each session
 * we hold. */
void
conn_minerd_new(void)
{
	struct regkey	*r;
	struct conn	*c;

	while ((r = RB_ROOT(&registry)) != NULL) {
		RB_REMOVE(reg_tree, &registry, r);
		free(r);
	}
	nregistry = 0;
	pairing_until = 0;
	RB_FOREACH(c, conn_tree, &by_key)
		conn_announce(c);
}
