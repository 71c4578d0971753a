/*
 * RFC 6455 WebSocket on libevent bufferevents: the opening handshake
 * with our own bounded parser of the HTTP upgrade, framing with
 * libwslay, binary messages only, ping/pong, the close handshake.
 */

#ifndef WS_H
#define WS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ws;

#define WS_PATH			"/ws"
#define WS_KEY_B64_LEN		24	/* base64 of 16 random bytes */
#define WS_ACCEPT_B64_LEN	28	/* base64 of a SHA-1 */

/* Close status codes (RFC 6455, 7.4.1). */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_GOING_AWAY	1001
#define WS_CLOSE_PROTOCOL	1002
#define WS_CLOSE_UNSUPPORTED	1003	/* text frames */
#define WS_CLOSE_NO_STATUS	1005	/* the peer's close had no code */
#define WS_CLOSE_ABNORMAL	1006	/* no close frame: lost, refused */
#define WS_CLOSE_INVALID	1007	/* bad UTF-8 in a text frame */
#define WS_CLOSE_POLICY		1008	/* handshake, auth, rate */
#define WS_CLOSE_TOO_BIG	1009
#define WS_CLOSE_INTERNAL	1011

/*
 * Limits of the transport itself (the per-deployment ones come in
 * struct ws_limits).
 */
#define WS_CLOSE_WAIT		2	/* seconds to wait for the peer's close
					 * frame, or for an HTTP error to go
					 * out, before dropping the socket */
#define WS_HEADER_LINES_MAX	64	/* header lines of one upgrade; a real
					 * client sends about ten */
#define WS_HOST_MAX		255	/* a DNS name, RFC 1035 */
#define WS_OUTBUF_PAUSE		(256 * 1024)	/* stop reading while this
					 * much waits to go out: a peer that
					 * sends pings and never reads our
					 * pongs gets no more buffer */
#define WS_CLOSE_REASON_MAX	123	/* 125-byte control frame - code */

struct ws_limits {
	size_t		max_header;	/* bytes of the HTTP upgrade */
	size_t		max_message;	/* bytes of one binary message */
	unsigned int	ping_interval;	/* seconds; 0: none */
	unsigned int	pong_timeout;	/* seconds */
	unsigned int	open_timeout;	/* seconds to finish the upgrade */
};

struct ws_callbacks {
	/* the upgrade is done (both sides) */
	void	(*open)(struct ws *, void *);
	/* one whole binary message */
	void	(*message)(struct ws *, const uint8_t *, size_t, void *);
	/*
	 * The connection is gone, with why (a static string for the one
	 * log line) and the close code.  Called once; free the ws with
	 * ws_free from here or later, never use it otherwise.
	 */
	void	(*closed)(struct ws *, uint16_t code, const char *why, void *);
};

/* Server side: fd is an accepted, non-blocking TCP socket (owned now). */
struct ws	*ws_accept(struct event_base *, int fd, const struct ws_limits *,
		    const struct ws_callbacks *, void *arg);
/* Client side: fd is a non-blocking socket with connect() in progress
 * (owned now); host is put in the Host header. */
struct ws	*ws_connect(struct event_base *, int fd, const char *host,
		    const struct ws_limits *, const struct ws_callbacks *,
		    void *arg);
/* Queue one binary message: 0, or -1 when closing or over the limit. */
int		 ws_send(struct ws *, const uint8_t *, size_t);
/* Bytes queued for writing (for back-pressure). */
size_t		 ws_pending(const struct ws *);
/* Start the close handshake; closed() follows. */
void		 ws_close(struct ws *, uint16_t code, const char *reason);
void		 ws_free(struct ws *);
/* The peer's numeric address "a.b.c.d:port" or "[v6]:port". */
const char	*ws_peer(const struct ws *);

/*
 * The upgrade parsers, pure, for the fuzzers and tests.  Each returns
 * 1 complete (fills *used with the bytes of the header block), 0 needs
 * more bytes, -1 malformed or over max_header with *why set.
 */
struct ws_request {
	char	key[WS_KEY_B64_LEN + 1];	/* Sec-WebSocket-Key */
};
int	ws_parse_request(const char *, size_t, size_t max_header,
	    struct ws_request *, size_t *used, const char **why,
	    int *http_status);
int	ws_parse_response(const char *, size_t, size_t max_header,
	    const char *expect_accept, size_t *used, const char **why);
/* accept = base64(SHA-1(key || RFC 6455 GUID)) */
void	ws_accept_value(const char *key, char out[WS_ACCEPT_B64_LEN + 1]);

#endif /* WS_H */
