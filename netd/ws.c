/*
 * RFC 6455 WebSocket on libevent bufferevents, for netd.
 *
 * The opening handshake is ours: a bounded parser of the one HTTP/1.1
 * request or response, no general HTTP.  The framing (masking, control
 * frames, fragments, the close handshake state) is libwslay's event
 * API, reading from and writing to the bufferevent's buffers.  Binary
 * messages only: a text message is answered with close 1003.
 *
 * closed() is only ever called from our timer callback, never from
 * inside wslay or from ws_send/ws_close, so a caller may ws_free from
 * any callback, and ws_free inside wslay's own callbacks is deferred
 * until wslay has returned.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sha1.h>
#include <sodium.h>
#include <wslay/wslay.h>

#include "ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_RAW_LEN	16
#define WS_PEER_MAX	64	/* "[v6]:port" fits, as NET_ADDR_MAX */

enum ws_state {
	WS_CONNECTING,		/* client: connect() in progress */
	WS_UPGRADE,		/* reading the request or the 101 */
	WS_OPEN,
	WS_CLOSING,		/* a close frame went out or came in */
	WS_REFUSING,		/* server: an HTTP error is going out */
	WS_DONE			/* closed() called; waiting for ws_free */
};

struct ws {
	struct bufferevent	*bev;
	wslay_event_context_ptr	 wctx;
	struct event		*timer;	/* open, ping, pong, close wait */
	struct event		*connev;	/* client, while connecting */
	struct ws_limits	 lim;
	struct ws_callbacks	 cb;
	void			*arg;
	enum ws_state		 state;
	int			 busy;	/* depth of our callbacks */
	unsigned int		 server:1;
	unsigned int		 freed:1;	/* ws_free while busy */
	unsigned int		 finishing:1;	/* closed() is due */
	unsigned int		 awaiting_pong:1;
	unsigned int		 read_paused:1;
	uint16_t		 code;	/* for closed() */
	const char		*why;
	char			 expect[WS_ACCEPT_B64_LEN + 1];	/* client */
	char			 peer[WS_PEER_MAX];
};

static void	ws_readcb(struct bufferevent *, void *);
static void	ws_writecb(struct bufferevent *, void *);
static void	ws_eventcb(struct bufferevent *, short, void *);
static void	ws_timercb(int, short, void *);
static void	ws_connectcb(int, short, void *);
static void	ws_finish_soon(struct ws *, uint16_t, const char *);
static void	ws_leave(struct ws *);
static void	ws_destroy(struct ws *);

/* --- the upgrade parsers ------------------------------------------- */

struct ws_hdr {
	const char	*name;
	size_t		 namelen;
	const char	*val;
	size_t		 vallen;
};

/* The header block: 1 with its length in *blen, 0 more, -1 too large. */
static int
ws_block(const char *buf, size_t len, size_t max_header, size_t *blen)
{
	const char	*e;
	size_t		 n;

	n = len < max_header ? len : max_header;
	if ((e = memmem(buf, n, "\r\n\r\n", 4)) == NULL)
		return (len >= max_header ? -1 : 0);
	*blen = (size_t)(e - buf) + 4;
	return (1);
}

/*
 * The line at *pos, without its CRLF: 0, or -1 on a bare CR or LF or
 * a control byte other than HT.  The block ends in CRLF CRLF, so every
 * line has its end.
 */
static int
ws_line(const char *buf, size_t blen, size_t *pos, const char **line,
    size_t *linelen)
{
	size_t		 i;
	unsigned char	 c;

	for (i = *pos; i + 1 < blen; i++) {
		c = (unsigned char)buf[i];
		if (c == '\r') {
			if (buf[i + 1] != '\n')
				return (-1);
			*line = buf + *pos;
			*linelen = i - *pos;
			*pos = i + 2;
			return (0);
		}
		if (c == '\n' || c == 0x7f || (c < 0x20 && c != '\t'))
			return (-1);
	}
	return (-1);
}

static int
ws_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "name: value" with the value's optional white space trimmed. */
static int
ws_header(const char *line, size_t n, struct ws_hdr *h)
{
	const char	*colon, *v, *e;
	size_t		 i;

	if ((colon = memchr(line, ':', n)) == NULL || colon == line)
		return (-1);
	for (i = 0; line + i < colon; i++)
		if (!ws_tchar((unsigned char)line[i]))
			return (-1);
	v = colon + 1;
	e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	h->name = line;
	h->namelen = (size_t)(colon - line);
	h->val = v;
	h->vallen = (size_t)(e - v);
	return (0);
}

static int
ws_is(const struct ws_hdr *h, const char *name)
{
	return (h->namelen == strlen(name) &&
	    strncasecmp(h->name, name, h->namelen) == 0);
}

/* Does the comma-separated list hold token (case-insensitive)? */
static int
ws_list_has(const char *v, size_t n, const char *token)
{
	const char	*e = v + n, *s, *t;
	size_t		 tlen = strlen(token);

	while (v < e) {
		s = v;
		while (v < e && *v != ',')
			v++;
		t = v;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - s) == tlen && strncasecmp(s, token, tlen) == 0)
			return (1);
		if (v < e)
			v++;
	}
	return (0);
}

static int
ws_eq(const char *s, size_t n, const char *lit)
{
	return (n == strlen(lit) && memcmp(s, lit, n) == 0);
}

static int
ws_key_valid(const char *v, size_t n)
{
	unsigned char	 raw[WS_KEY_RAW_LEN];
	size_t		 rawlen;
	const char	*end;
	size_t		 i;

	/*
	 * 16 bytes are 22 base64 characters and "==".  Check the alphabet
	 * here: libsodium's decoder takes a high-bit byte for a digit.
	 */
	if (n != WS_KEY_B64_LEN || v[22] != '=' || v[23] != '=')
		return (0);
	for (i = 0; i < 22; i++)
		if (!isascii((unsigned char)v[i]) ||
		    (!isalnum((unsigned char)v[i]) && v[i] != '+' &&
		    v[i] != '/'))
			return (0);
	if (sodium_base642bin(raw, sizeof(raw), v, n, NULL, &rawlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return (0);
	return (rawlen == WS_KEY_RAW_LEN && end == v + n);
}

#define WS_FAIL(w, st) do {					\
	*why = (w);						\
	*http_status = (st);					\
	return (-1);						\
} while (0)

int
ws_parse_request(const char *buf, size_t len, size_t max_header,
    struct ws_request *req, size_t *used, const char **why, int *http_status)
{
	struct ws_hdr	 h;
	const char	*line, *sp1, *sp2, *key = NULL;
	size_t		 blen, pos = 0, n, keylen = 0, nhdr = 0;
	int		 r, upgrade = 0, connection = 0;
	int		 nhost = 0, nkey = 0, nver = 0, ver13 = 0, hostlen = 0;

	if ((r = ws_block(buf, len, max_header, &blen)) != 1) {
		if (r == -1)
			WS_FAIL("header too large", 431);
		return (0);
	}

	/* GET /ws HTTP/1.1 */
	if (ws_line(buf, blen, &pos, &line, &n) == -1)
		WS_FAIL("malformed request", 400);
	if ((sp1 = memchr(line, ' ', n)) == NULL || sp1 == line ||
	    (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line))) ==
	    NULL)
		WS_FAIL("malformed request", 400);
	for (r = 0; line + r < sp1; r++)
		if (!ws_tchar((unsigned char)line[r]))
			WS_FAIL("malformed request", 400);
	if (!ws_eq(line, (size_t)(sp1 - line), "GET"))
		WS_FAIL("not GET", 405);
	if (!ws_eq(sp1 + 1, (size_t)(sp2 - sp1 - 1), WS_PATH))
		WS_FAIL("wrong path", 404);
	if (!ws_eq(sp2 + 1, n - (size_t)(sp2 + 1 - line), "HTTP/1.1"))
		WS_FAIL("bad HTTP version", 400);

	for (;;) {
		if (ws_line(buf, blen, &pos, &line, &n) == -1)
			WS_FAIL("malformed header", 400);
		if (n == 0)
			break;
		if (++nhdr > WS_HEADER_LINES_MAX)
			WS_FAIL("too many headers", 431);
		if (ws_header(line, n, &h) == -1)
			WS_FAIL("malformed header", 400);
		if (ws_is(&h, "Host")) {
			nhost++;
			hostlen = h.vallen > 0;
		} else if (ws_is(&h, "Upgrade")) {
			upgrade |= ws_list_has(h.val, h.vallen, "websocket");
		} else if (ws_is(&h, "Connection")) {
			connection |= ws_list_has(h.val, h.vallen, "upgrade");
		} else if (ws_is(&h, "Sec-WebSocket-Version")) {
			nver++;
			ver13 = ws_eq(h.val, h.vallen, "13");
		} else if (ws_is(&h, "Sec-WebSocket-Key")) {
			nkey++;
			key = h.val;
			keylen = h.vallen;
		}
		/* Extensions, Protocol, Origin and the rest: ignored. */
	}

	if (nhost > 1 || nkey > 1 || nver > 1)
		WS_FAIL("duplicate header", 400);
	if (!upgrade || !connection)
		WS_FAIL("no upgrade", 400);
	if (!ver13)
		WS_FAIL("wrong version", 426);
	if (nhost == 0 || !hostlen)
		WS_FAIL("no host", 400);
	if (key == NULL || !ws_key_valid(key, keylen))
		WS_FAIL("bad key", 400);

	memcpy(req->key, key, WS_KEY_B64_LEN);
	req->key[WS_KEY_B64_LEN] = '\0';
	*used = blen;
	return (1);
}

#undef WS_FAIL
#define WS_FAIL(w) do {						\
	*why = (w);						\
	return (-1);						\
} while (0)

int
ws_parse_response(const char *buf, size_t len, size_t max_header,
    const char *expect_accept, size_t *used, const char **why)
{
	struct ws_hdr	 h;
	const char	*line;
	size_t		 blen, pos = 0, n, nhdr = 0;
	int		 r, upgrade = 0, connection = 0, naccept = 0, good = 0;

	if ((r = ws_block(buf, len, max_header, &blen)) != 1) {
		if (r == -1)
			WS_FAIL("header too large");
		return (0);
	}

	/* HTTP/1.1 101 [reason] */
	if (ws_line(buf, blen, &pos, &line, &n) == -1 || n < 12 ||
	    memcmp(line, "HTTP/1.1 ", 9) != 0)
		WS_FAIL("malformed response");
	if (memcmp(line + 9, "101", 3) != 0 || (n > 12 && line[12] != ' '))
		WS_FAIL("upgrade refused");

	for (;;) {
		if (ws_line(buf, blen, &pos, &line, &n) == -1)
			WS_FAIL("malformed header");
		if (n == 0)
			break;
		if (++nhdr > WS_HEADER_LINES_MAX)
			WS_FAIL("too many headers");
		if (ws_header(line, n, &h) == -1)
			WS_FAIL("malformed header");
		if (ws_is(&h, "Upgrade"))
			upgrade |= ws_list_has(h.val, h.vallen, "websocket");
		else if (ws_is(&h, "Connection"))
			connection |= ws_list_has(h.val, h.vallen, "upgrade");
		else if (ws_is(&h, "Sec-WebSocket-Accept")) {
			naccept++;
			good = expect_accept != NULL &&
			    ws_eq(h.val, h.vallen, expect_accept);
		} else if (ws_is(&h, "Sec-WebSocket-Extensions"))
			WS_FAIL("extension not offered");
		else if (ws_is(&h, "Sec-WebSocket-Protocol"))
			WS_FAIL("protocol not offered");
	}
	if (!upgrade || !connection)
		WS_FAIL("no upgrade");
	if (naccept != 1 || !good)
		WS_FAIL("bad accept");
	*used = blen;
	return (1);
}

#undef WS_FAIL

void
ws_accept_value(const char *key, char out[WS_ACCEPT_B64_LEN + 1])
{
	SHA1_CTX	 ctx;
	uint8_t		 md[SHA1_DIGEST_LENGTH];

	SHA1Init(&ctx);
	SHA1Update(&ctx, (const uint8_t *)key, strlen(key));
	SHA1Update(&ctx, (const uint8_t *)WS_GUID, strlen(WS_GUID));
	SHA1Final(md, &ctx);
	sodium_bin2base64(out, WS_ACCEPT_B64_LEN + 1, md, sizeof(md),
	    sodium_base64_VARIANT_ORIGINAL);
}

/* --- wslay over the bufferevent ------------------------------------ */

static ssize_t
ws_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;
	int		 n;

	n = evbuffer_remove(bufferevent_get_input(ws->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return (-1);
	}
	return (n);
}

static ssize_t
ws_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;

	if (evbuffer_add(bufferevent_get_output(ws->bev), data, len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return (-1);
	}
	return ((ssize_t)len);
}

static int
ws_wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *arg)
{
	randombytes_buf(buf, len);
	return (0);
}

static void
ws_timer_set(struct ws *ws, unsigned int secs)
{
	struct timeval	 tv = { secs, 0 };

	evtimer_add(ws->timer, &tv);
}

static void
ws_wslay_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct ws	*ws = arg;

	switch (m->opcode) {
	case WSLAY_BINARY_FRAME:
		if (ws->state == WS_OPEN && !ws->freed && !ws->finishing &&
		    ws->cb.message != NULL)
			/* wslay gives NULL for an empty message */
			ws->cb.message(ws, m->msg != NULL ? m->msg :
			    (const uint8_t *)"", m->msg_length, ws->arg);
		break;
	case WSLAY_TEXT_FRAME:
		if (ws->state == WS_OPEN && ws->why == NULL) {
			ws->code = WS_CLOSE_UNSUPPORTED;
			ws->why = "text frame";
			wslay_event_queue_close(ctx, WS_CLOSE_UNSUPPORTED,
			    NULL, 0);
		}
		break;
	case WSLAY_PONG:
		if (ws->awaiting_pong && ws->state == WS_OPEN) {
			ws->awaiting_pong = 0;
			ws_timer_set(ws, ws->lim.ping_interval);
		}
		break;
	default:
		/* ping: wslay answers; close: see ws_after */
		break;
	}
}

static const struct wslay_event_callbacks ws_wslay_callbacks = {
	.recv_callback = ws_wslay_recv,
	.send_callback = ws_wslay_send,
	.genmask_callback = ws_wslay_genmask,
	.on_msg_recv_callback = ws_wslay_msg,
};

/* --- the connection ------------------------------------------------ */

static void
ws_peer_fill(struct ws *ws, int fd)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = sizeof(ss);
	char			 a[INET6_ADDRSTRLEN];

	strlcpy(ws->peer, "?", sizeof(ws->peer));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
		snprintf(ws->peer, sizeof(ws->peer), "%s:%u", a,
		    ntohs(sin->sin_port));
	else if (ss.ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)) != NULL)
		snprintf(ws->peer, sizeof(ws->peer), "[%s]:%u", a,
		    ntohs(sin6->sin6_port));
}

static struct ws *
ws_new(struct event_base *base, int fd, const struct ws_limits *lim,
    const struct ws_callbacks *cb, void *arg)
{
	struct ws	*ws;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return (NULL);
	ws->lim = *lim;
	if (ws->lim.open_timeout == 0)
		ws->lim.open_timeout = 1;
	if (ws->lim.pong_timeout == 0)
		ws->lim.pong_timeout = ws->lim.ping_interval;
	ws->cb = *cb;
	ws->arg = arg;
	ws->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ws->timer = evtimer_new(base, ws_timercb, ws);
	if (ws->bev == NULL || ws->timer == NULL) {
		if (ws->bev != NULL)
			bufferevent_free(ws->bev);
		else
			close(fd);
		if (ws->timer != NULL)
			event_free(ws->timer);
		free(ws);
		return (NULL);
	}
	bufferevent_setcb(ws->bev, ws_readcb, ws_writecb, ws_eventcb, ws);
	/* read no more than one header block while upgrading */
	bufferevent_setwatermark(ws->bev, EV_READ, 0, ws->lim.max_header);
	ws_timer_set(ws, ws->lim.open_timeout);
	return (ws);
}

struct ws *
ws_accept(struct event_base *base, int fd, const struct ws_limits *lim,
    const struct ws_callbacks *cb, void *arg)
{
	struct ws	*ws;

	if (lim->max_header == 0 || lim->max_message == 0) {
		close(fd);
		return (NULL);
	}
	if ((ws = ws_new(base, fd, lim, cb, arg)) == NULL)
		return (NULL);
	ws->server = 1;
	ws->state = WS_UPGRADE;
	ws_peer_fill(ws, fd);
	bufferevent_enable(ws->bev, EV_READ | EV_WRITE);
	return (ws);
}

static int
ws_host_valid(const char *host)
{
	size_t	 i;

	for (i = 0; host[i] != '\0'; i++)
		if (i >= WS_HOST_MAX + sizeof(":65535") ||
		    (unsigned char)host[i] <= ' ' ||
		    (unsigned char)host[i] >= 0x7f)
			return (0);
	return (i > 0);
}

struct ws *
ws_connect(struct event_base *base, int fd, const char *host,
    const struct ws_limits *lim, const struct ws_callbacks *cb, void *arg)
{
	struct ws	*ws;
	uint8_t		 raw[WS_KEY_RAW_LEN];
	char		 key[WS_KEY_B64_LEN + 1];

	if (lim->max_header == 0 || lim->max_message == 0 ||
	    !ws_host_valid(host)) {
		close(fd);
		return (NULL);
	}
	if ((ws = ws_new(base, fd, lim, cb, arg)) == NULL)
		return (NULL);
	ws->state = WS_CONNECTING;
	strlcpy(ws->peer, host, sizeof(ws->peer));

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(key, sizeof(key), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	ws_accept_value(key, ws->expect);

	/* queued now, written once connect() is done */
	bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
	ws->connev = event_new(base, fd, EV_WRITE, ws_connectcb, ws);
	if (ws->connev == NULL || event_add(ws->connev, NULL) == -1 ||
	    evbuffer_add_printf(bufferevent_get_output(ws->bev),
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n", WS_PATH, host, key) == -1) {
		ws_destroy(ws);
		return (NULL);
	}
	return (ws);
}

static void
ws_connectcb(int fd, short event, void *arg)
{
	struct ws	*ws = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	ws->busy++;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	event_free(ws->connev);
	ws->connev = NULL;
	if (err != 0)
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "connect failed");
	else {
		ws->state = WS_UPGRADE;
		ws_peer_fill(ws, fd);
		bufferevent_enable(ws->bev, EV_READ | EV_WRITE);
	}
	ws_leave(ws);
}

/* The bytes of one short HTTP error, then close. */
static void
ws_refuse(struct ws *ws, int status, const char *why)
{
	const char	*text, *extra = "";

	switch (status) {
	case 404:
		text = "Not Found";
		break;
	case 405:
		text = "Method Not Allowed";
		extra = "Allow: GET\r\n";
		break;
	case 426:
		text = "Upgrade Required";
		extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
		break;
	case 431:
		text = "Request Header Fields Too Large";
		break;
	default:
		status = 400;
		text = "Bad Request";
		break;
	}
	ws->state = WS_REFUSING;
	ws->code = WS_CLOSE_ABNORMAL;
	ws->why = why;
	bufferevent_disable(ws->bev, EV_READ);
	if (evbuffer_add_printf(bufferevent_get_output(ws->bev),
	    "HTTP/1.1 %d %s\r\n%s"
	    "Connection: close\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n", status, text, extra) == -1) {
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, why);
		return;
	}
	ws_timer_set(ws, WS_CLOSE_WAIT);
}

static int
ws_open(struct ws *ws)
{
	int	 r;

	if (ws->server)
		r = wslay_event_context_server_init(&ws->wctx,
		    &ws_wslay_callbacks, ws);
	else
		r = wslay_event_context_client_init(&ws->wctx,
		    &ws_wslay_callbacks, ws);
	if (r != 0)
		return (-1);
	wslay_event_config_set_max_recv_msg_length(ws->wctx,
	    ws->lim.max_message);
	wslay_event_config_set_allowed_rsv_bits(ws->wctx, WSLAY_RSV_NONE);
	ws->state = WS_OPEN;
	bufferevent_setwatermark(ws->bev, EV_READ, 0, 0);
	if (ws->lim.ping_interval > 0)
		ws_timer_set(ws, ws->lim.ping_interval);
	else
		evtimer_del(ws->timer);
	return (0);
}

static void
ws_upgrade_input(struct ws *ws)
{
	struct evbuffer		*in = bufferevent_get_input(ws->bev);
	struct ws_request	 req;
	char			 accept[WS_ACCEPT_B64_LEN + 1];
	const char		*p, *why = NULL;
	size_t			 n, used = 0;
	int			 r, status = 400;

	n = evbuffer_get_length(in);
	if (n > ws->lim.max_header)
		n = ws->lim.max_header;
	if (n == 0 || (p = (const char *)evbuffer_pullup(in, n)) == NULL)
		return;
	if (ws->server)
		r = ws_parse_request(p, n, ws->lim.max_header, &req, &used,
		    &why, &status);
	else
		r = ws_parse_response(p, n, ws->lim.max_header, ws->expect,
		    &used, &why);
	if (r == 0)
		return;
	if (r == -1) {
		if (ws->server)
			ws_refuse(ws, status, why);
		else
			ws_finish_soon(ws, WS_CLOSE_ABNORMAL, why);
		return;
	}
	evbuffer_drain(in, used);
	if (ws->server) {
		ws_accept_value(req.key, accept);
		if (evbuffer_add_printf(bufferevent_get_output(ws->bev),
		    "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n"
		    "\r\n", accept) == -1) {
			ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "out of memory");
			return;
		}
	}
	if (ws_open(ws) == -1) {
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "out of memory");
		return;
	}
	if (ws->cb.open != NULL && !ws->freed)
		ws->cb.open(ws, ws->arg);
}

static const char *
ws_code_why(uint16_t code)
{
	switch (code) {
	case WS_CLOSE_PROTOCOL:
		return ("protocol error");
	case WS_CLOSE_TOO_BIG:
		return ("message too big");
	case WS_CLOSE_INVALID:
		return ("invalid text");
	default:
		return ("closed");
	}
}

/* After wslay ran: follow its close state, pace reading. */
static void
ws_after(struct ws *ws)
{
	struct evbuffer	*out = bufferevent_get_output(ws->bev);
	int		 sent, received;
	uint16_t	 code;

	sent = wslay_event_get_close_sent(ws->wctx);
	received = wslay_event_get_close_received(ws->wctx);
	if (ws->state == WS_OPEN && (sent || received)) {
		ws->state = WS_CLOSING;
		ws->awaiting_pong = 0;
		if (ws->why != NULL)
			;	/* ours: ws_close or a text frame */
		else if (received) {
			code = wslay_event_get_status_code_received(ws->wctx);
			ws->code = code != 0 ? code : WS_CLOSE_NO_STATUS;
			ws->why = "peer closed";
		} else {
			ws->code = wslay_event_get_status_code_sent(ws->wctx);
			ws->why = ws_code_why(ws->code);
		}
		ws_timer_set(ws, WS_CLOSE_WAIT);
	}
	/* done when ours is out and theirs came, or wslay stopped reading
	 * (a protocol error, a message too big: no close will be read) */
	if (ws->state == WS_CLOSING && sent &&
	    (received || !wslay_event_get_read_enabled(ws->wctx)) &&
	    evbuffer_get_length(out) == 0) {
		ws_finish_soon(ws, ws->code, ws->why);
		return;
	}
	if (!ws->read_paused && evbuffer_get_length(out) > WS_OUTBUF_PAUSE) {
		ws->read_paused = 1;
		bufferevent_disable(ws->bev, EV_READ);
	}
}

static void
ws_flush(struct ws *ws)
{
	if (wslay_event_send(ws->wctx) != 0) {
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "write failed");
		return;
	}
	ws_after(ws);
}

static void
ws_readcb(struct bufferevent *bev, void *arg)
{
	struct ws	*ws = arg;
	int		 r;

	ws->busy++;
	if (ws->state == WS_UPGRADE && !ws->finishing)
		ws_upgrade_input(ws);
	if ((ws->state == WS_OPEN || ws->state == WS_CLOSING) &&
	    !ws->finishing && !ws->freed) {
		r = wslay_event_recv(ws->wctx);
		if (r == WSLAY_ERR_CALLBACK_FAILURE) {
			/*
			 * Our recv callback never fails: this is wslay's
			 * frame layer refusing a frame (a fragmented or
			 * oversized control frame, a bad length).  It has
			 * queued a close without a code; send it and go.
			 */
			wslay_event_shutdown_read(ws->wctx);
			if (ws->why == NULL) {
				ws->code = WS_CLOSE_PROTOCOL;
				ws->why = "protocol error";
			}
		} else if (r != 0)
			ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "out of memory");
		else if (!wslay_event_get_read_enabled(ws->wctx))
			/* after the peer's close: nothing more is read */
			evbuffer_drain(bufferevent_get_input(bev),
			    evbuffer_get_length(bufferevent_get_input(bev)));
	}
	ws_leave(ws);
}

static void
ws_writecb(struct bufferevent *bev, void *arg)
{
	struct ws	*ws = arg;

	ws->busy++;
	if (ws->state == WS_REFUSING)
		ws_finish_soon(ws, ws->code, ws->why);
	else if (ws->read_paused &&
	    (ws->state == WS_OPEN || ws->state == WS_CLOSING)) {
		ws->read_paused = 0;
		bufferevent_enable(ws->bev, EV_READ);
	}
	ws_leave(ws);
}

static void
ws_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct ws	*ws = arg;

	ws->busy++;
	if (ws->state == WS_CLOSING || ws->state == WS_REFUSING)
		ws_finish_soon(ws, ws->code, ws->why);
	else if (what & BEV_EVENT_EOF)
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "connection lost");
	else
		ws_finish_soon(ws, WS_CLOSE_ABNORMAL, "socket error");
	ws_leave(ws);
}

/* Let go of the socket and wslay now, call closed() (once). */
static void
ws_finish(struct ws *ws, uint16_t code, const char *why)
{
	if (ws->state == WS_DONE)
		return;
	ws->state = WS_DONE;
	ws->finishing = 0;
	evtimer_del(ws->timer);
	if (ws->connev != NULL) {
		event_free(ws->connev);
		ws->connev = NULL;
	}
	if (ws->bev != NULL) {
		bufferevent_free(ws->bev);
		ws->bev = NULL;
	}
	if (ws->wctx != NULL) {
		wslay_event_context_free(ws->wctx);
		ws->wctx = NULL;
	}
	if (!ws->freed && ws->cb.closed != NULL)
		ws->cb.closed(ws, code, why, ws->arg);
}

/* closed() at the next turn of the loop, outside every other callback. */
static void
ws_finish_soon(struct ws *ws, uint16_t code, const char *why)
{
	if (ws->finishing || ws->state == WS_DONE)
		return;
	ws->finishing = 1;
	ws->code = code;
	ws->why = why;
	if (ws->bev != NULL)
		bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
	evtimer_del(ws->timer);
	event_active(ws->timer, EV_TIMEOUT, 1);
}

static void
ws_ping(struct ws *ws)
{
	struct wslay_event_msg	 m = { WSLAY_PING, NULL, 0 };

	if (ws->awaiting_pong) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "pong timeout");
		return;
	}
	if (wslay_event_queue_msg(ws->wctx, &m) != 0) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "out of memory");
		return;
	}
	ws->awaiting_pong = 1;
	ws_timer_set(ws, ws->lim.pong_timeout);
}

static void
ws_timercb(int fd, short event, void *arg)
{
	struct ws	*ws = arg;

	ws->busy++;
	if (ws->finishing)
		ws_finish(ws, ws->code, ws->why);
	else {
		switch (ws->state) {
		case WS_CONNECTING:
		case WS_UPGRADE:
			ws_finish(ws, WS_CLOSE_ABNORMAL, "timeout");
			break;
		case WS_OPEN:
			ws_ping(ws);
			break;
		case WS_CLOSING:
		case WS_REFUSING:
			ws_finish(ws, ws->code, ws->why);
			break;
		case WS_DONE:
			break;
		}
	}
	ws_leave(ws);
}

/* Leaving one of our callbacks: flush what wslay has, free if asked. */
static void
ws_leave(struct ws *ws)
{
	if (ws->busy == 1 && !ws->freed && !ws->finishing &&
	    ws->wctx != NULL &&
	    (ws->state == WS_OPEN || ws->state == WS_CLOSING))
		ws_flush(ws);
	if (--ws->busy == 0 && ws->freed)
		ws_destroy(ws);
}

int
ws_send(struct ws *ws, const uint8_t *buf, size_t len)
{
	struct wslay_event_msg	 m = { WSLAY_BINARY_FRAME, buf, len };

	if (ws->state != WS_OPEN || ws->finishing || ws->freed ||
	    len > ws->lim.max_message)
		return (-1);
	if (wslay_event_queue_msg(ws->wctx, &m) != 0)
		return (-1);
	ws->busy++;
	ws_leave(ws);
	return (0);
}

size_t
ws_pending(const struct ws *ws)
{
	if (ws->bev == NULL)
		return (0);
	return (evbuffer_get_length(bufferevent_get_output(ws->bev)) +
	    (ws->wctx != NULL ? wslay_event_get_queued_msg_length(ws->wctx) :
	    0));
}

void
ws_close(struct ws *ws, uint16_t code, const char *reason)
{
	size_t	 rlen;

	if (ws->finishing || ws->freed || ws->state == WS_DONE ||
	    ws->state == WS_CLOSING)
		return;
	if (ws->state != WS_OPEN) {
		ws_finish_soon(ws, code, "local close");
		return;
	}
	rlen = reason != NULL ? strnlen(reason, WS_CLOSE_REASON_MAX) : 0;
	if (wslay_event_queue_close(ws->wctx, code, (const uint8_t *)reason,
	    rlen) != 0) {
		ws_finish_soon(ws, code, "local close");
		return;
	}
	ws->code = code;
	ws->why = "local close";
	ws->busy++;
	ws_leave(ws);	/* sends it, moves to WS_CLOSING */
}

static void
ws_destroy(struct ws *ws)
{
	if (ws->connev != NULL)
		event_free(ws->connev);
	if (ws->bev != NULL)
		bufferevent_free(ws->bev);
	if (ws->wctx != NULL)
		wslay_event_context_free(ws->wctx);
	if (ws->timer != NULL)
		event_free(ws->timer);
	free(ws);
}

void
ws_free(struct ws *ws)
{
	if (ws == NULL)
		return;
	ws->freed = 1;
	if (ws->busy == 0)
		ws_destroy(ws);
}

const char *
ws_peer(const struct ws *ws)
{
	return (ws->peer);
}
