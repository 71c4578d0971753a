/*
 * minerd's side of the peer transport: what it tells netd (the keys it
 * accepts, whom to dial, pairing), what netd hands it (sessions up and
 * down, messages), and the signed message pipeline on top: every
 * outgoing body is signed by keyd, every incoming one verified here
 * with a key from our own registry before any parsing.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#ifndef __unused	/* libbsd's RB_*_STATIC use BSD's __unused */
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"
#include "remote.h"
#include "remote_check.h"

/*
 * Limits and timings.  Each is small and fixed: they bound memory and
 * how long an operator waits, and none needs tuning per rig.
 */
/* Bodies waiting for keyd and requests waiting for an answer: a
 * `remote status --all' asks every pinned worker at once, so both fit
 * the largest registry (PEERS_MAX) with room for a second call. */
#define NET_SIGN_MAX		(2 * PEERS_MAX)
#define NET_OUT_MAX		(2 * PEERS_MAX)
/* Bytes of the bodies waiting for keyd: a stats answer or a fan-out's
 * request is small, but a worker answering many controllers with
 * large answers must not grow without bound while keyd is slow. */
#define NET_SIGN_BYTES_MAX	(64 * 1024 * 1024)
/* Seconds a body may wait for keyd: past this keyd is wedged (a dead
 * keyd is noticed by its pipe) and the bodies are dropped; whoever
 * waits for an answer times out as usual. */
#define NET_SIGN_AGE_MAX	30
/* Seconds between two "too many messages" lines: a refusal can come
 * once per peer of a large fleet. */
#define NET_REFUSE_LOG_SECS	10
#define NET_REQUEST_TIMEOUT	10	/* seconds for a peer to answer */
#define NET_PAIR_TIMEOUT	30	/* seconds for a whole pairing */
#define NET_PAIR_TOKEN_TTL	600	/* seconds a pairing token lives */
#define NET_PAIR_TOKENS		8	/* tokens outstanding at once */
#define NET_DIAL_MIN		1	/* seconds: first redial */
#define NET_DIAL_MAX		60	/* seconds: longest redial backoff */
#define NET_DISCONNECT_PAUSE	300	/* seconds after a `disconnect' */
#define NET_TICK		1	/* seconds between dial passes */

/* What to do when a signed body is ready or an answer arrives. */
enum net_kind {
	NK_NONE = 0,
	NK_PAIR,		/* an operator's `peer add TOKEN' */
	NK_REPLY,		/* an answer of ours: nothing waits */
	NK_CALL			/* net_request: a callback waits */
};

/* A body waiting for keyd's signature; keyd answers in order, so the
 * queue is searched from its head. */
struct net_sign {
	TAILQ_ENTRY(net_sign)	 entry;
	uint32_t		 request;
	uint8_t			 pk[32];	/* to whom */
	uint8_t			*body;
	size_t			 len;
	long long		 queued;	/* mono seconds */
};
TAILQ_HEAD(net_sign_q, net_sign);

/* A request we sent, waiting for its answer (by message id). */
struct net_out {
	RB_ENTRY(net_out)	 entry;
	char			 id[MSG_UUID_LEN + 1];
	enum msg_type		 type;
	enum net_kind		 kind;
	uint8_t			 pk[32];
	long long		 sent_ms;
	long long		 sent_us;	/* monotonic, for the rtt */
	unsigned int		 timeout_ms;
	struct evhttp_request	*req;
	struct event		*timer;
	uint8_t			 secret[PAIR_SECRET_LEN];	/* NK_PAIR */
	net_answer_cb		 cb;		/* NK_CALL */
	void			*cb_arg;
};

struct net_token {
	uint8_t		 secret[PAIR_SECRET_LEN];
	enum peer_access role;
	long long	 expires_ms;
	int		 live;
};

/* A pairing that waits for its session to come up. */
struct net_pair_state {
	int			 live;
	uint8_t			 pk[32];
	uint8_t			 secret[PAIR_SECRET_LEN];
	struct evhttp_request	*req;
	struct event		*timer;
};

/* Per peer dialling state, beside the registry (which it outlives). */
struct net_dial_state {
	RB_ENTRY(net_dial_state) entry;
	uint8_t			 pk[32];
	int			 sent_key;	/* netd has it in its set */
	int			 dialling;	/* asked netd, no answer yet */
	long long		 next_dial;	/* mono seconds */
	unsigned int		 backoff;
	int			 seen;		/* mark for the sweep */
};

/*
 * netd's handshakes need keyd's signatures, keyd_sign_rate a second:
 * dialling more at once only gets them refused (and backed off for up
 * to NET_DIAL_MAX), so dials are paced to that rate.
 */
struct net_dial_pace {
	long long	 sec;		/* mono second of the count */
	unsigned int	 n;		/* dials in that second */
};

static int	net_out_cmp(struct net_out *, struct net_out *);
static int	net_ds_cmp(struct net_dial_state *, struct net_dial_state *);
RB_HEAD(net_out_tree, net_out);
RB_PROTOTYPE_STATIC(net_out_tree, net_out, entry, net_out_cmp);
RB_GENERATE_STATIC(net_out_tree, net_out, entry, net_out_cmp);
RB_HEAD(net_ds_tree, net_dial_state);
RB_PROTOTYPE_STATIC(net_ds_tree, net_dial_state, entry, net_ds_cmp);
RB_GENERATE_STATIC(net_ds_tree, net_dial_state, entry, net_ds_cmp);

static struct net_out_tree	 outs = RB_INITIALIZER(&outs);
static unsigned int		 nouts;
static struct net_ds_tree	 dials = RB_INITIALIZER(&dials);
static struct net_sign_q	 signs = TAILQ_HEAD_INITIALIZER(signs);
static unsigned int		 nsigns;
static size_t			 nsign_bytes;
/* Bodies dropped unsigned (NET_SIGN_AGE_MAX) whose answers keyd still
 * owes, and the last of them: a late answer is not keyd's fault. */
static unsigned int		 nsign_stale;
static uint32_t			 sign_stale_last;
static uint32_t			 sign_next;
static struct net_dial_pace	 dial_pace;
static long long		 refuse_logged;	/* mono seconds */
static unsigned int		 refused;
static struct net_token		 tokens[NET_PAIR_TOKENS];
static struct net_pair_state	 pairing;
static struct event		*net_tick_ev;
static long long		 net_started_ms;

static void	net_tick(int, short, void *);
static int	net_self_id(char [NODE_ID_LEN + 1]);
static int	net_send(const uint8_t [32], enum msg_type, const char *,
		    json_t *, enum net_kind, struct evhttp_request *,
		    const uint8_t *);
static struct net_out *net_send_out(const uint8_t [32], enum msg_type,
		    const char *, json_t *, enum net_kind,
		    struct evhttp_request *, const uint8_t *, unsigned int);
static void	net_answer_error(struct peer *, const struct msg *, int,
		    const char *);
static void	net_handle(struct peer *, const uint8_t *, size_t, int);
static void	net_handle_pairing(const uint8_t [32], const uint8_t *,
		    size_t);
static void	net_out_done(struct net_out *);
static void	net_out_timeout(int, short, void *);
static void	net_pairing_done(int, int, const char *);
static void	net_pairing_timeout(int, short, void *);
static void	net_tokens_push(void);
static int	net_tokens_live(void);
static struct net_dial_state *net_ds_get(const uint8_t [32], int);
static void	net_sign_expire(void);
static void	net_sign_free(struct net_sign *);
static void	net_refuse_log(void);

static long long
net_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
net_out_cmp(struct net_out *a, struct net_out *b)
{
	return (strcmp(a->id, b->id));
}

static int
net_ds_cmp(struct net_dial_state *a, struct net_dial_state *b)
{
	return (memcmp(a->pk, b->pk, sizeof(a->pk)));
}

void
net_init(void)
{
	struct timeval	 tv = { NET_TICK, 0 };

	net_started_ms = now_ms();
	net_tick_ev = event_new(ev_base, -1, EV_PERSIST, net_tick, NULL);
	if (net_tick_ev == NULL || event_add(net_tick_ev, &tv) == -1)
		fatal("net: event");
}

/* Our node id, or -1 while there is no key. */
static int
net_self_id(char id[NODE_ID_LEN + 1])
{
	if (env->key_state != KEY_HAVE)
		return (-1);
	node_id(env->key_pk, id);
	return (0);
}

static int
net_compose(uint32_t type, const void *data, size_t len)
{
	if (!env->iev_netd.open)
		return (-1);
	if (imsgev_compose(&env->iev_netd, type, 0, 0, -1, data, len) == -1) {
		log_warn("net: to netd");
		return (-1);
	}
	return (0);
}

/*
 * netd's pipe is new: tell it everything again (it has a fresh
 * state after a restart, and so do our dial marks).
 */
void
net_netd_ready(void)
{
	struct net_dial_state	*ds;
	struct net_self		 self;
	struct node		 n;
	struct peer		*p;
	char			 err[128];

	RB_FOREACH(ds, net_ds_tree, &dials) {
		ds->sent_key = 0;
		ds->dialling = 0;
		ds->next_dial = 0;
	}
	/* a new netd holds no session */
	for (p = peer_first(); p != NULL; p = peer_next(p))
		p->connected = 0;
	if (env->key_state == KEY_HAVE) {
		memset(&self, 0, sizeof(self));
		memcpy(self.pk, env->key_pk, sizeof(self.pk));
		if (node_load(env->statedir, &n, err, sizeof(err)) == 0) {
			self.role = n.role;
			(void)strlcpy(self.name, n.name, sizeof(self.name));
		} else
			(void)strlcpy(self.name, api_default_name(),
			    sizeof(self.name));
		(void)net_compose(IMSG_NET_SELF, &self, sizeof(self));
	}
	net_tokens_push();
	net_registry_changed();
}

/* keyd told us the key (again): netd declares it. */
void
net_key_changed(void)
{
	if (env->iev_netd.open)
		net_netd_ready();
}

static struct net_dial_state *
net_ds_get(const uint8_t pk[32], int create)
{
	struct net_dial_state	 key, *ds;

	memcpy(key.pk, pk, sizeof(key.pk));
	if ((ds = RB_FIND(net_ds_tree, &dials, &key)) != NULL || !create)
		return (ds);
	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		log_warn("net: calloc");
		return (NULL);
	}
	memcpy(ds->pk, pk, sizeof(ds->pk));
	RB_INSERT(net_ds_tree, &dials, ds);
	return (ds);
}

/*
 * The registry changed: add the keys netd lacks, drop those it should
 * not have any more, and dial what is pinned.
 */
void
net_registry_changed(void)
{
	struct net_dial_state	*ds, *tmp;
	struct peer		*p;
	struct net_key		 nk;

	RB_FOREACH(ds, net_ds_tree, &dials)
		ds->seen = 0;
	for (p = peer_first(); p != NULL; p = peer_next(p)) {
		if (!p->pinned && p->access == ACCESS_NONE)
			continue;
		if ((ds = net_ds_get(p->pk, 1)) == NULL)
			continue;
		ds->seen = 1;
		if (!ds->sent_key) {
			memcpy(nk.pk, p->pk, sizeof(nk.pk));
			if (net_compose(IMSG_NET_KEY_ADD, &nk, sizeof(nk)) == 0)
				ds->sent_key = 1;
		}
	}
	RB_FOREACH_SAFE(ds, net_ds_tree, &dials, tmp) {
		if (ds->seen)
			continue;
		if (ds->sent_key) {
			memcpy(nk.pk, ds->pk, sizeof(nk.pk));
			(void)net_compose(IMSG_NET_HANGUP, &nk, sizeof(nk));
			(void)net_compose(IMSG_NET_KEY_DEL, &nk, sizeof(nk));
		}
		RB_REMOVE(net_ds_tree, &dials, ds);
		free(ds);
	}
	net_tick(-1, 0, NULL);
}

/*
 * Resolve "host:port" or "[v6]:port" to a numeric address for netd,
 * which has no resolver.
 */
static int
net_resolve(const char *address, struct net_dial *nd)
{
	char		 host[NET_ADDR_MAX], *port;
	struct addrinfo	 hints, *res;
	const char	*errstr;
	int		 r;

	if (strlcpy(host, address, sizeof(host)) >= sizeof(host))
		return (-1);
	if (host[0] == '[') {
		if ((port = strstr(host, "]:")) == NULL)
			return (-1);
		*port = '\0';
		port += 2;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else {
		if ((port = strrchr(host, ':')) == NULL)
			return (-1);
		*port++ = '\0';
	}
	nd->port = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL)
		return (-1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		log_warnx("net: %s: %s", host, gai_strerror(r));
		return (-1);
	}
	r = getnameinfo(res->ai_addr, res->ai_addrlen, nd->host,
	    sizeof(nd->host), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	return (r == 0 ? 0 : -1);
}

/* Keep sessions to what we pinned, with backoff and jitter. */
static void
net_tick(int fd, short event, void *arg)
{
	struct net_dial_state	*ds;
	struct peer		*p;
	struct net_dial		 nd;
	long long		 now = mono_secs();
	long long		 wall = now_ms();
	unsigned int		 rate;
	size_t			 i;

	for (i = 0; i < NET_PAIR_TOKENS; i++)
		if (tokens[i].live && tokens[i].expires_ms <= wall) {
			sodium_memzero(&tokens[i], sizeof(tokens[i]));
			net_tokens_push();
		}
	if (fd != -1)
		net_sign_expire();
	if (env->key_state != KEY_HAVE || !env->iev_netd.open)
		return;
	/* at most keyd's handshake signing rate of new dials a second */
	rate = env->conf.keyd_sign_rate > 0 ? env->conf.keyd_sign_rate : 1;
	if (dial_pace.sec != now) {
		dial_pace.sec = now;
		dial_pace.n = 0;
	}
	RB_FOREACH(ds, net_ds_tree, &dials) {
		if (dial_pace.n >= rate)
			break;
		if (!ds->sent_key || ds->dialling || now < ds->next_dial)
			continue;
		if ((p = peer_by_pk(ds->pk)) == NULL || !p->pinned ||
		    p->connected || p->address[0] == '\0')
			continue;
		memset(&nd, 0, sizeof(nd));
		memcpy(nd.pk, p->pk, sizeof(nd.pk));
		if (net_resolve(p->address, &nd) == -1) {
			log_warnx("net: peer %s: cannot resolve %s", p->id,
			    p->address);
			ds->backoff = NET_DIAL_MAX;
			ds->next_dial = now + ds->backoff;
			continue;
		}
		if (net_compose(IMSG_NET_DIAL, &nd, sizeof(nd)) == 0) {
			ds->dialling = 1;
			dial_pace.n++;
		}
	}
}

/* Next dial after a failure: doubling, capped, with +-25% jitter. */
static void
net_backoff(struct net_dial_state *ds, unsigned int floor)
{
	unsigned int	 b, j;

	b = ds->backoff ? ds->backoff * 2 : NET_DIAL_MIN;
	if (b > NET_DIAL_MAX)
		b = NET_DIAL_MAX;
	if (b < floor)
		b = floor;
	ds->backoff = b;
	j = b / 4 ? randombytes_uniform(b / 2 + 1) : 0;
	ds->next_dial = mono_secs() + b - b / 4 + j;
}

/*
 * Outgoing messages: build the body, have keyd sign it, send it.
 */
static int
net_send(const uint8_t pk[32], enum msg_type type, const char *reply_to,
    json_t *payload, enum net_kind kind, struct evhttp_request *req,
    const uint8_t *secret)
{
	struct net_out	*o;

	o = net_send_out(pk, type, reply_to, payload, kind, req, secret,
	    NET_REQUEST_TIMEOUT * 1000);
	if (o == NULL)
		return (-1);
	return (0);
}

/*
 * The same, returning the request's record (or a non-NULL marker for
 * an answer, which has none); timeout_ms bounds the wait for a
 * request's answer.
 */
static struct net_out *
net_send_out(const uint8_t pk[32], enum msg_type type,
    const char *reply_to, json_t *payload, enum net_kind kind,
    struct evhttp_request *req, const uint8_t *secret,
    unsigned int timeout_ms)
{
	static struct net_out	 answer_marker;
	struct key_sign_req	 ksr;
	struct net_sign		*s;
	struct net_out		*o = NULL;
	struct timeval		 tv;
	char			 self[NODE_ID_LEN + 1], to[NODE_ID_LEN + 1];
	char			 id[MSG_UUID_LEN + 1];
	uint8_t			*body;
	size_t			 len;

	if (net_self_id(self) == -1 || !env->iev_keyd.open) {
		json_decref(payload);
		return (NULL);
	}
	if (nsigns >= NET_SIGN_MAX ||
	    (msg_is_request(type) && nouts >= NET_OUT_MAX)) {
		net_refuse_log();
		json_decref(payload);
		return (NULL);
	}
	node_id(pk, to);
	body = msg_build(type, self, to, now_ms(), reply_to, payload, id,
	    &len);
	if (body == NULL)
		return (NULL);
	if (len > NET_SIGN_BYTES_MAX - nsign_bytes) {
		net_refuse_log();
		free(body);
		return (NULL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("net: calloc");
		free(body);
		return (NULL);
	}
	if (msg_is_request(type)) {
		if ((o = calloc(1, sizeof(*o))) == NULL ||
		    (o->timer = evtimer_new(ev_base, net_out_timeout,
		    o)) == NULL) {
			free(o);
			free(s);
			free(body);
			return (NULL);
		}
		(void)strlcpy(o->id, id, sizeof(o->id));
		o->type = type;
		o->kind = kind;
		o->req = req;
		memcpy(o->pk, pk, sizeof(o->pk));
		if (secret != NULL)
			memcpy(o->secret, secret, sizeof(o->secret));
		o->sent_ms = now_ms();
		o->sent_us = net_mono_us();
		o->timeout_ms = timeout_ms;
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		evtimer_add(o->timer, &tv);
		RB_INSERT(net_out_tree, &outs, o);
		nouts++;
	}
	if (++sign_next == 0)
		sign_next = 1;
	s->request = sign_next;
	memcpy(s->pk, pk, sizeof(s->pk));
	s->body = body;
	s->len = len;
	s->queued = mono_secs();
	memset(&ksr, 0, sizeof(ksr));
	ksr.request = s->request;
	ksr.label = KEY_LABEL_MESSAGE;
	msg_hash(body, len, ksr.hash);
	if (imsgev_compose(&env->iev_keyd, IMSG_KEY_SIGN, 0, 0, -1, &ksr,
	    sizeof(ksr)) == -1) {
		log_warn("net: to keyd");
		free(s->body);
		free(s);
		if (o != NULL)
			net_out_done(o);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&signs, s, entry);
	nsigns++;
	nsign_bytes += len;
	return (o != NULL ? o : &answer_marker);
}

/* One line per NET_REFUSE_LOG_SECS however many are refused. */
static void
net_refuse_log(void)
{
	long long	 now = mono_secs();

	refused++;
	if (refuse_logged != 0 && now - refuse_logged < NET_REFUSE_LOG_SECS)
		return;
	log_warnx("net: too many messages in flight (%u requests, %u "
	    "bodies, %zu bytes waiting for keyd): %u refused", nouts, nsigns,
	    nsign_bytes, refused);
	refuse_logged = now;
	refused = 0;
}

/* Requests net_request can take now: the answer's room and keyd's. */
unsigned int
net_request_room(void)
{
	unsigned int	 o, s;

	if (env->key_state != KEY_HAVE || !env->iev_keyd.open)
		return (0);
	o = nouts < NET_OUT_MAX ? NET_OUT_MAX - nouts : 0;
	s = nsigns < NET_SIGN_MAX ? NET_SIGN_MAX - nsigns : 0;
	return (o < s ? o : s);
}

static void
net_sign_free(struct net_sign *s)
{
	TAILQ_REMOVE(&signs, s, entry);
	nsigns--;
	nsign_bytes -= s->len;
	free(s->body);
	free(s);
}

/*
 * keyd answers in order: bodies at the head that waited past
 * NET_SIGN_AGE_MAX mean a keyd that is wedged, not dead.  Drop them
 * (one line), remember that keyd still owes their answers.
 */
static void
net_sign_expire(void)
{
	struct net_sign	*s;
	long long	 now = mono_secs();
	unsigned int	 n = 0;
	size_t		 bytes = 0;

	while ((s = TAILQ_FIRST(&signs)) != NULL &&
	    now - s->queued >= NET_SIGN_AGE_MAX) {
		sign_stale_last = s->request;
		bytes += s->len;
		n++;
		net_sign_free(s);
	}
	if (n == 0)
		return;
	nsign_stale += n;
	log_warnx("net: keyd signed nothing in %d seconds: %u messages "
	    "(%zu bytes) dropped", NET_SIGN_AGE_MAX, n, bytes);
}

/* keyd signed a body: put signature || body on the wire. */
int
net_signature(const struct key_sign_rep *rep)
{
	struct net_sign	*s;
	struct net_msg	 nm;
	struct iovec	 iov[3];

	TAILQ_FOREACH(s, &signs, entry)
		if (s->request == rep->request)
			break;
	if (s == NULL) {
		/* a late answer for a body we dropped (at or before the
		 * last one dropped, in sequence order) */
		if (nsign_stale > 0 &&
		    (int32_t)(sign_stale_last - rep->request) >= 0) {
			nsign_stale--;
			log_debug("net: keyd signed a dropped message late");
			return (0);
		}
		return (-1);	/* keyd answered what we never asked */
	}
	if (rep->status != KEYSIGN_OK)
		log_warnx("net: keyd would not sign (status %d)", rep->status);
	else if (env->iev_netd.open) {
		memset(&nm, 0, sizeof(nm));
		memcpy(nm.pk, s->pk, sizeof(nm.pk));
		nm.len = MSG_SIG_LEN + s->len;
		iov[0].iov_base = &nm;
		iov[0].iov_len = sizeof(nm);
		iov[1].iov_base = (void *)rep->sig;
		iov[1].iov_len = MSG_SIG_LEN;
		iov[2].iov_base = s->body;
		iov[2].iov_len = s->len;
		if (imsg_composev(&env->iev_netd.ibuf, IMSG_NET_SEND, 0, 0,
		    -1, iov, 3) == -1)
			log_warn("net: to netd");
		else
			imsgev_add(&env->iev_netd);
	}
	/* answers before this one are not coming any more */
	nsign_stale = 0;
	net_sign_free(s);
	return (0);
}

/* keyd went away: what it was signing is lost. */
void
net_keyd_lost(void)
{
	struct net_sign	*s;

	while ((s = TAILQ_FIRST(&signs)) != NULL)
		net_sign_free(s);
	nsigns = 0;
	nsign_bytes = 0;
	nsign_stale = 0;
}

static void
net_out_done(struct net_out *o)
{
	RB_REMOVE(net_out_tree, &outs, o);
	nouts--;
	if (o->timer != NULL)
		event_free(o->timer);
	sodium_memzero(o->secret, sizeof(o->secret));
	free(o);
}

static void
net_out_timeout(int fd, short event, void *arg)
{
	struct net_out	*o = arg;
	struct peer	*p;

	if ((p = peer_by_pk(o->pk)) != NULL)
		peer_score(p, PEER_SCORE_TIMEOUT);
	/* a call's owner sums its timeouts up in one line (remote.c) */
	if (o->kind == NK_CALL)
		log_debug("net: peer %s did not answer %s in %u ms",
		    p != NULL ? p->id : "?", msg_type_name(o->type),
		    o->timeout_ms);
	else
		log_warnx("net: peer %s did not answer %s in %u ms",
		    p != NULL ? p->id : "?", msg_type_name(o->type),
		    o->timeout_ms);
	if (o->kind == NK_CALL)
		o->cb(o->cb_arg, p, NULL, MSG_ERR_TIMEOUT, "no answer in time");
	net_out_done(o);
}

/*
 * Requests for the rest of minerd (remote.c, select.c): the callback
 * runs exactly once, after net_request has returned 0.
 */
int
net_request(struct peer *p, enum msg_type type, json_t *payload,
    unsigned int timeout_ms, net_answer_cb cb, void *arg, const char **why)
{
	struct net_out	*o;

	if (!msg_is_request(type) || cb == NULL) {
		json_decref(payload);
		*why = "not a request";
		return (-1);
	}
	if (!p->connected) {
		json_decref(payload);
		*why = "not connected";
		return (-1);
	}
	if ((o = net_send_out(p->pk, type, NULL, payload, NK_CALL, NULL,
	    NULL, timeout_ms)) == NULL) {
		*why = "cannot send the request";
		return (-1);
	}
	o->cb = cb;
	o->cb_arg = arg;
	return (0);
}

/* Forget the requests made for arg: their callbacks never run. */
void
net_request_cancel(void *arg)
{
	struct net_out	*o, *tmp;

	RB_FOREACH_SAFE(o, net_out_tree, &outs, tmp)
		if (o->kind == NK_CALL && o->cb_arg == arg)
			net_out_done(o);
}

/* The requests to pk that wait for a callback: the session is gone. */
static void
net_calls_fail(const uint8_t pk[32], const char *why)
{
	struct net_out	*o, *tmp;
	struct peer	*p = peer_by_pk(pk);

	RB_FOREACH_SAFE(o, net_out_tree, &outs, tmp)
		if (o->kind == NK_CALL && memcmp(o->pk, pk, 32) == 0) {
			o->cb(o->cb_arg, p, NULL, MSG_ERR_FAILED, why);
			net_out_done(o);
		}
}

/* An answer of ours (payload stolen): 0, or -1 when it cannot go. */
int
net_reply(const uint8_t pk[32], const char *reply_to, enum msg_type type,
    json_t *payload)
{
	if (!msg_is_response(type) || reply_to == NULL ||
	    reply_to[0] == '\0') {
		json_decref(payload);
		return (-1);
	}
	return (net_send(pk, type, reply_to, payload, NK_REPLY, NULL, NULL));
}

/* An `error' answer to a request (never to an answer). */
void
net_reply_error(struct peer *p, const struct msg *m, int code,
    const char *text)
{
	net_answer_error(p, m, code, text);
}

/*
 * netd's messages.
 */
int
net_imsg(struct imsg *imsg)
{
	struct net_up	 up;
	struct net_down	 down;
	struct net_msg	 nm;
	struct net_dial_state *ds;
	struct peer	*p;
	const uint8_t	*data;
	size_t		 len;

	switch (imsg_get_type(imsg)) {
	case IMSG_NET_UP:
		if (imsg_get_data(imsg, &up, sizeof(up)) == -1 ||
		    memchr(up.name, '\0', sizeof(up.name)) == NULL ||
		    memchr(up.addr, '\0', sizeof(up.addr)) == NULL)
			return (-1);
		if (up.flags & NET_UP_PAIRING) {
			log_info("net: pairing session from %s", up.addr);
			break;
		}
		if ((p = peer_by_pk(up.pk)) == NULL) {
			log_warnx("net: session up with a key not in the "
			    "registry: closing it");
			(void)net_compose(IMSG_NET_HANGUP, up.pk,
			    sizeof(struct net_key));
			break;
		}
		p->connected = 1;
		p->last_seen = now_ms();
		(void)strlcpy(p->declared_name, up.name,
		    sizeof(p->declared_name));
		p->declared_role = up.role;
		if ((ds = net_ds_get(p->pk, 0)) != NULL) {
			ds->dialling = 0;
			ds->backoff = 0;
		}
		log_info("net: peer %s (%s) up at %s", p->id, p->name,
		    up.addr);
		if (pairing.live && memcmp(pairing.pk, up.pk, 32) == 0) {
			uint8_t	 proof[PAIR_PROOF_LEN];
			char	 hex[PAIR_PROOF_LEN * 2 + 1];
			json_t	*pl;

			pair_proof(pairing.secret, env->key_pk, up.pk, proof);
			sodium_bin2hex(hex, sizeof(hex), proof, sizeof(proof));
			pl = json_pack("{s:s}", "proof", hex);
			if (pl == NULL || net_send(up.pk, MSG_PAIR, NULL, pl,
			    NK_PAIR, NULL, pairing.secret) == -1)
				net_pairing_done(500, API_ERR_INTERNAL,
				    "cannot send the pair message");
		}
		break;
	case IMSG_NET_DOWN:
		if (imsg_get_data(imsg, &down, sizeof(down)) == -1 ||
		    memchr(down.reason, '\0', sizeof(down.reason)) == NULL)
			return (-1);
		if ((p = peer_by_pk(down.pk)) != NULL) {
			if (p->connected)
				log_info("net: peer %s down: %s", p->id,
				    down.reason);
			else
				log_debug("net: peer %s: %s", p->id,
				    down.reason);
			if (!p->connected)
				peer_score(p, PEER_SCORE_FAILURE);
			p->connected = 0;
		}
		if ((ds = net_ds_get(down.pk, 0)) != NULL) {
			ds->dialling = 0;
			net_backoff(ds, 0);
		}
		net_calls_fail(down.pk, "the session closed");
		break;
	case IMSG_NET_RECV:
		len = imsg_get_len(imsg);
		if (len < sizeof(nm))
			return (-1);
		data = imsg->data;
		memcpy(&nm, data, sizeof(nm));
		if (nm.len != len - sizeof(nm))
			return (-1);
		if (nm.flags & NET_MSG_PAIRING) {
			/*
			 * The signer chose this key: only an outstanding
			 * token makes its message worth reading at all, so
			 * check that before any signature or JSON work.
			 */
			if (!net_tokens_live() || peer_by_pk(nm.pk) != NULL ||
			    (env->key_state == KEY_HAVE &&
			    memcmp(nm.pk, env->key_pk, 32) == 0)) {
				log_warnx("net: pairing message with no token "
				    "outstanding, or from a known key: dropped");
				(void)net_compose(IMSG_NET_HANGUP, nm.pk,
				    sizeof(struct net_key));
				break;
			}
			net_handle_pairing(nm.pk, data + sizeof(nm), nm.len);
			break;
		}
		if ((p = peer_by_pk(nm.pk)) == NULL) {
			log_warnx("net: message on a session whose key is "
			    "not in the registry: dropped");
			break;
		}
		net_handle(p, data + sizeof(nm), nm.len, 0);
		break;
	default:
		return (-1);
	}
	return (0);
}

/* Verify and parse, or log why not; replay check included. */
static int
net_verify(struct peer *p, const uint8_t pk[32], const uint8_t *raw,
    size_t len, struct msg *m)
{
	struct msg_verdict	 v;
	char			 self[NODE_ID_LEN + 1];
	long long		 now = now_ms();
	int			 r;

	if (net_self_id(self) == -1)
		return (-1);
	if (msg_verify(raw, len, pk, self, now, net_started_ms,
	    env->conf.msg_ts_window, m, &v) == -1) {
		log_warnx("net: message from %s refused: %s",
		    p != NULL ? p->id : "a pairing session", v.why);
		return (-1);
	}
	if (p == NULL)
		return (0);
	if (p->replay == NULL &&
	    (p->replay = replay_new(env->conf.replay_cache_max)) == NULL) {
		msg_free(m);
		return (-1);
	}
	r = replay_check(p->replay, m->id, m->ts,
	    now - (long long)env->conf.msg_ts_window * 1000);
	if (r != 0) {
		log_warnx("net: message %s from %s refused: %s", m->id, p->id,
		    r == 1 ? "replayed id" : "replay cache full");
		msg_free(m);
		return (-1);
	}
	return (0);
}

static void
net_answer_error(struct peer *p, const struct msg *m, int code,
    const char *text)
{
	json_t	*pl;

	if (!msg_is_request(m->type) && m->type != MSG_UNKNOWN)
		return;		/* never answer an answer */
	pl = json_pack("{s:i,s:s,s:n}", "code", code, "message", text,
	    "details");
	if (pl != NULL)
		(void)net_send(p->pk, MSG_ERROR, m->id, pl, NK_REPLY, NULL,
		    NULL);
}

static void
net_handle_response(struct peer *p, struct msg *m)
{
	struct net_out	 key, *o;
	json_t		*v;

	(void)strlcpy(key.id, m->reply_to, sizeof(key.id));
	if ((o = RB_FIND(net_out_tree, &outs, &key)) == NULL ||
	    memcmp(o->pk, p->pk, 32) != 0) {
		log_warnx("net: %s from %s answers no request of ours: "
		    "dropped", m->type_str, p->id);
		return;
	}
	if (m->type == MSG_ERROR) {
		const char	*text = "";
		int		 code;

		peer_score(p, PEER_SCORE_FAILURE);
		if ((v = json_object_get(m->payload, "message")) != NULL &&
		    json_is_string(v))
			text = json_string_value(v);
		/* 1000..1005 only: never 0, which is an answer */
		code = remote_check_code(m->payload);
		if (o->kind == NK_CALL)
			log_debug("net: peer %s refused %s: %d", p->id,
			    msg_type_name(o->type), code);
		else
			log_warnx("net: peer %s refused %s: %d", p->id,
			    msg_type_name(o->type), code);
		if (o->kind == NK_CALL) {
			o->cb(o->cb_arg, p, m, code, text);
			net_out_done(o);
			return;
		}
		if (o->kind == NK_PAIR) {
			net_out_done(o);
			net_pairing_done(502, API_ERR_FAILED, text[0] ?
			    "the worker refused the pairing" :
			    "the worker refused the pairing");
			return;
		}
		if (o->req != NULL)
			api_error(o->req, 502, API_ERR_FAILED,
			    "peer refused: %d", code);
		net_out_done(o);
		return;
	}
	if (m->type != msg_response_type(o->type)) {
		log_warnx("net: peer %s answered %s with %s: dropped", p->id,
		    msg_type_name(o->type), m->type_str);
		return;
	}
	peer_score(p, PEER_SCORE_SUCCESS);
	switch (o->kind) {
	case NK_CALL:
		o->cb(o->cb_arg, p, m, 0, NULL);
		break;
	case NK_PAIR:
		v = json_object_get(m->payload, "role");
		log_info("net: paired with %s as %s", p->id,
		    v != NULL && json_is_string(v) ? json_string_value(v) :
		    "?");
		net_out_done(o);
		net_pairing_done(201, 0, NULL);
		return;
	default:
		break;
	}
	net_out_done(o);
}

/* A verified message from a registered peer. */
static void
net_handle(struct peer *p, const uint8_t *raw, size_t len, int pairing_)
{
	struct msg	 m;
	json_t		*pl;

	if (net_verify(p, p->pk, raw, len, &m) == -1)
		return;
	p->last_seen = now_ms();
	if (m.reply_to[0] != '\0' || m.type == MSG_ERROR ||
	    (!msg_is_request(m.type) && m.type != MSG_UNKNOWN &&
	    m.type != MSG_DISCONNECT)) {
		net_handle_response(p, &m);
		msg_free(&m);
		return;
	}
	switch (m.type) {
	case MSG_PING:
		pl = json_pack("{s:O,s:o}", "sentAt",
		    json_object_get(m.payload, "sentAt") != NULL ?
		    json_object_get(m.payload, "sentAt") : json_null(),
		    "location", select_location_json());
		if (pl != NULL)
			(void)net_send(p->pk, MSG_PONG, m.id, pl, NK_REPLY,
			    NULL, NULL);
		break;
	case MSG_DISCONNECT: {
		struct net_dial_state	*ds;

		log_info("net: peer %s is going away", p->id);
		if ((ds = net_ds_get(p->pk, 0)) != NULL)
			net_backoff(ds, NET_DISCONNECT_PAUSE);
		break;
	}
	case MSG_PAIR:
		log_warnx("net: pair from %s, already paired: refused", p->id);
		net_answer_error(p, &m, MSG_ERR_INVALID, "already paired");
		break;
	case MSG_UNKNOWN:
		log_warnx("net: unknown message type \"%s\" from %s",
		    m.type_str, p->id);
		net_answer_error(p, &m, MSG_ERR_INVALID, "unknown type");
		break;
	default:
		/* every other request: authorised and served by serve.c */
		serve_request(p, &m);
		break;
	}
	msg_free(&m);
}

/*
 * Worker side of pairing: one message from an unknown key, passed by
 * netd only while a token is outstanding.  It must be a valid `pair'
 * signed by that key, with a proof of an unexpired, unused token.
 */
static void
net_handle_pairing(const uint8_t pk[32], const uint8_t *raw, size_t len)
{
	struct net_token	*t = NULL;
	struct peer		*p;
	struct msg		 m;
	json_t			*v;
	const char		*why;
	uint8_t			 proof[PAIR_PROOF_LEN];
	size_t			 i, plen;
	long long		 now = now_ms();

	if (net_verify(NULL, pk, raw, len, &m) == -1)
		goto hangup;
	if (m.type != MSG_PAIR) {
		log_warnx("net: pairing session sent %s, not pair: refused",
		    m.type_str);
		goto out;
	}
	if ((v = json_object_get(m.payload, "proof")) == NULL ||
	    !json_is_string(v) ||
	    strlen(json_string_value(v)) != PAIR_PROOF_LEN * 2 ||
	    sodium_hex2bin(proof, sizeof(proof), json_string_value(v),
	    PAIR_PROOF_LEN * 2, NULL, &plen, NULL) != 0 ||
	    plen != PAIR_PROOF_LEN) {
		log_warnx("net: pair from %s: malformed proof", m.from);
		goto out;
	}
	for (i = 0; i < NET_PAIR_TOKENS; i++)
		if (tokens[i].live && tokens[i].expires_ms > now &&
		    pair_proof_check(tokens[i].secret, pk, env->key_pk,
		    proof)) {
			t = &tokens[i];
			break;
		}
	if (t == NULL) {
		log_warnx("net: pair from %s: wrong secret, or the token "
		    "expired or was used: refused", m.from);
		goto out;
	}
	peer_txn_begin();
	p = peer_add(pk, m.from, "", 0, t->role, &why);
	if (p == NULL) {
		peer_txn_abort();
		log_warnx("net: pair from %s refused: %s", m.from, why);
		goto out;
	}
	if (peer_txn_commit(env->statedir) == -1) {
		log_warn("net: pair from %s: cannot save peers.json", m.from);
		goto out;
	}
	log_info("net: controller %s paired as %s", p->id,
	    peer_access_name(t->role));
	sodium_memzero(t, sizeof(*t));
	net_tokens_push();
	net_registry_changed();		/* netd promotes the session */
	p->connected = 1;
	p->last_seen = now;
	v = json_pack("{s:s}", "role", peer_access_name(p->access));
	if (v != NULL)
		(void)net_send(pk, MSG_PAIR_ACK, m.id, v, NK_REPLY, NULL,
		    NULL);
	msg_free(&m);
	return;
 out:
	msg_free(&m);
 hangup:
	(void)net_compose(IMSG_NET_HANGUP, pk, sizeof(struct net_key));
}

/* Is an unexpired, unused pairing token outstanding? */
static int
net_tokens_live(void)
{
	long long	 now = now_ms();
	size_t		 i;

	for (i = 0; i < NET_PAIR_TOKENS; i++)
		if (tokens[i].live && tokens[i].expires_ms > now)
			return (1);
	return (0);
}

/* Tell netd until when unknown keys may pair. */
static void
net_tokens_push(void)
{
	struct net_pairing	 np;
	size_t			 i;

	np.until_ms = 0;
	for (i = 0; i < NET_PAIR_TOKENS; i++)
		if (tokens[i].live && tokens[i].expires_ms > np.until_ms)
			np.until_ms = tokens[i].expires_ms;
	(void)net_compose(IMSG_NET_PAIRING, &np, sizeof(np));
}

int
net_pair_open(enum peer_access role, const char *address, char *token,
    size_t len, long long *expires_ms)
{
	struct net_token	*t = NULL;
	long long		 now = now_ms();
	size_t			 i;

	if (env->key_state != KEY_HAVE)
		return (-1);
	for (i = 0; i < NET_PAIR_TOKENS; i++)
		if (!tokens[i].live || tokens[i].expires_ms <= now) {
			t = &tokens[i];
			break;
		}
	if (t == NULL) {	/* all live: the oldest goes */
		t = &tokens[0];
		for (i = 1; i < NET_PAIR_TOKENS; i++)
			if (tokens[i].expires_ms < t->expires_ms)
				t = &tokens[i];
	}
	randombytes_buf(t->secret, sizeof(t->secret));
	if (pair_token_encode(address, env->key_pk, t->secret, token,
	    len) == -1) {
		sodium_memzero(t, sizeof(*t));
		return (-1);
	}
	t->role = role;
	t->expires_ms = now + NET_PAIR_TOKEN_TTL * 1000LL;
	t->live = 1;
	*expires_ms = t->expires_ms;
	net_tokens_push();
	return (0);
}

/* Controller side: pin the worker, dial it, prove the secret. */
void
net_pair_with(struct evhttp_request *req, const char *token,
    const char *name)
{
	struct timeval	 tv = { NET_PAIR_TIMEOUT, 0 };
	struct peer	*p;
	const char	*why;
	char		 addr[NET_ADDR_MAX], id[NODE_ID_LEN + 1];
	uint8_t		 pk[32], secret[PAIR_SECRET_LEN];

	if (env->key_state != KEY_HAVE) {
		api_error(req, 404, API_ERR_NOT_FOUND,
		    "no node identity: run lethctl node init");
		return;
	}
	if (pairing.live) {
		api_error(req, 409, API_ERR_FAILED,
		    "another pairing is in progress");
		return;
	}
	if (pair_token_decode(token, addr, sizeof(addr), pk, secret,
	    &why) == -1) {
		api_error(req, 400, API_ERR_INVALID, "bad token: %s", why);
		return;
	}
	node_id(pk, id);
	if ((p = peer_by_id(id)) != NULL && p->pinned) {
		sodium_memzero(secret, sizeof(secret));
		api_error(req, 409, API_ERR_FAILED, "peer %s is already "
		    "paired", id);
		return;
	}
	peer_txn_begin();
	if ((p = peer_add(pk, name != NULL && name[0] ? name : id, addr, 1,
	    ACCESS_NONE, &why)) == NULL) {
		peer_txn_abort();
		sodium_memzero(secret, sizeof(secret));
		api_error(req, 409, API_ERR_FAILED, "%s", why);
		return;
	}
	if (peer_txn_commit(env->statedir) == -1) {
		int	 saved = errno;

		sodium_memzero(secret, sizeof(secret));
		api_error(req, 500, API_ERR_INTERNAL, "cannot save "
		    "peers.json: %s", strerror(saved));
		return;
	}
	memset(&pairing, 0, sizeof(pairing));
	pairing.live = 1;
	memcpy(pairing.pk, pk, sizeof(pk));
	memcpy(pairing.secret, secret, sizeof(secret));
	sodium_memzero(secret, sizeof(secret));
	pairing.req = req;
	if ((pairing.timer = evtimer_new(ev_base, net_pairing_timeout,
	    NULL)) == NULL) {
		net_pairing_done(500, API_ERR_INTERNAL, "evtimer");
		return;
	}
	evtimer_add(pairing.timer, &tv);
	log_info("net: pairing with %s at %s", id, addr);
	net_registry_changed();
}

static void
net_pairing_timeout(int fd, short event, void *arg)
{
	net_pairing_done(504, API_ERR_TIMEOUT, "the worker did not answer "
	    "in time");
}

/* End the pairing: 201 with the peer, or an error and the pin undone. */
static void
net_pairing_done(int status, int code, const char *text)
{
	struct evhttp_request	*req = pairing.req;
	struct peer		*p;
	struct net_out		*o, *otmp;

	if (!pairing.live)
		return;
	/* the pair request is over either way: a late ack is logged as
	 * answering nothing */
	RB_FOREACH_SAFE(o, net_out_tree, &outs, otmp)
		if (o->kind == NK_PAIR && memcmp(o->pk, pairing.pk, 32) == 0)
			net_out_done(o);
	p = peer_by_pk(pairing.pk);
	if (status != 201 && p != NULL) {
		/* undo the pin only: an allowed controller stays allowed */
		log_warnx("net: pairing with %s failed: %s", p->id, text);
		if (p->access != ACCESS_NONE) {
			p->pinned = 0;
			p->address[0] = '\0';
		} else
			peer_remove(p);
		if (peer_save(env->statedir) == -1)
			log_warn("net: peers.json");
		net_registry_changed();
		p = NULL;
	}
	if (pairing.timer != NULL)
		event_free(pairing.timer);
	sodium_memzero(&pairing, sizeof(pairing));
	if (req == NULL)
		return;
	if (status == 201 && p != NULL)
		api_reply(req, 201, peer_json(p));
	else
		api_error(req, status, code, "%s", text);
}

/*
 * An operator's `peer ping' or `remote ping': a fan-out of one
 * (remote.c), with the remote timeout, failed when the session drops
 * and forgotten when the client leaves.
 */
void
net_ping(struct evhttp_request *req, struct peer *p)
{
	remote_ping(req, p);
}
