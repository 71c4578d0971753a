/*
 * netd's WebSocket (netd/ws.c): the upgrade parsers on fixed inputs,
 * then a server ws and a client ws, or a server ws and a raw peer
 * written by hand, over real TCP sockets on 127.0.0.1 in one event
 * loop.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <event2/event.h>
#include <sodium.h>

#include "ws.h"

#ifndef __has_feature
#define __has_feature(x)	0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
/*
 * atf-c leaks its test case list when kyua asks for it with -l, and a
 * leak report there breaks the list: suppress that one, quietly.
 */
const char	*__lsan_default_suppressions(void);
const char	*__lsan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return ("leak:libatf-c.so\n");
}

const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}
#endif

#define T_MAX_HEADER	4096
#define T_MAX_MESSAGE	1024
#define T_LOOP_LIMIT	10	/* seconds any one wait may take */

static const char good_req[] =
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1:7777\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "\r\n";

static int
parse(const char *req, size_t max, size_t *used, const char **why,
    int *status)
{
	struct ws_request	 r;

	*why = NULL;
	*status = 0;
	return (ws_parse_request(req, strlen(req), max, &r, used, why,
	    status));
}

/* The request refused with that status and reason. */
static void
refused(const char *req, int want_status, const char *want_why)
{
	const char	*why;
	size_t		 used = 0;
	int		 status;

	ATF_CHECK_EQ_MSG(parse(req, T_MAX_HEADER, &used, &why, &status), -1,
	    "accepted: %s", req);
	ATF_CHECK_EQ(status, want_status);
	ATF_CHECK_MSG(why != NULL && strcmp(why, want_why) == 0,
	    "why %s, want %s", why ? why : "(null)", want_why);
}

/* good_req with one line replaced (or dropped, with "") */
static char *
edit(const char *line, const char *with)
{
	static char	 buf[2048];
	const char	*p;
	size_t		 off;

	p = strstr(good_req, line);
	ATF_REQUIRE(p != NULL);
	off = (size_t)(p - good_req);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)off, good_req, with,
	    p + strlen(line));
	return (buf);
}

ATF_TC_WITHOUT_HEAD(good_request_is_accepted);
ATF_TC_BODY(good_request_is_accepted, tc)
{
	struct ws_request	 r;
	const char		*why = NULL;
	size_t			 used = 0;
	int			 status = 0;

	ATF_REQUIRE_EQ(ws_parse_request(good_req, strlen(good_req),
	    T_MAX_HEADER, &r, &used, &why, &status), 1);
	ATF_CHECK_EQ(used, strlen(good_req));
	ATF_CHECK_STREQ(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
}

ATF_TC_WITHOUT_HEAD(bytes_after_the_header_block_are_not_used);
ATF_TC_BODY(bytes_after_the_header_block_are_not_used, tc)
{
	char		 buf[1024];
	const char	*why;
	size_t		 used = 0;
	int		 status;

	snprintf(buf, sizeof(buf), "%s\x82\x80xxxx", good_req);
	ATF_REQUIRE_EQ(parse(buf, T_MAX_HEADER, &used, &why, &status), 1);
	ATF_CHECK_EQ(used, strlen(good_req));
}

ATF_TC_WITHOUT_HEAD(rfc6455_sample_key_gives_the_sample_accept);
ATF_TC_BODY(rfc6455_sample_key_gives_the_sample_accept, tc)
{
	char	 out[WS_ACCEPT_B64_LEN + 1];

	ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", out);
	ATF_CHECK_STREQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

ATF_TC_WITHOUT_HEAD(token_lists_and_case_are_understood);
ATF_TC_BODY(token_lists_and_case_are_understood, tc)
{
	char		 buf[2048];
	const char	*why;
	size_t		 used;
	int		 status;

	strlcpy(buf, edit("Connection: Upgrade\r\n",
	    "connection:keep-alive,  upgrade \r\n"), sizeof(buf));
	ATF_CHECK_EQ(parse(buf, T_MAX_HEADER, &used, &why, &status), 1);
	ATF_CHECK_EQ(parse(edit("Upgrade: websocket\r\n",
	    "UPGRADE: h2c, WebSocket\r\n"), T_MAX_HEADER, &used, &why,
	    &status), 1);
	/* Upgrade and Connection may repeat, as lists may */
	ATF_CHECK_EQ(parse(edit("Connection: Upgrade\r\n",
	    "Connection: keep-alive\r\nConnection: Upgrade\r\n"),
	    T_MAX_HEADER, &used, &why, &status), 1);
}

ATF_TC_WITHOUT_HEAD(missing_headers_are_refused);
ATF_TC_BODY(missing_headers_are_refused, tc)
{
	refused(edit("Host: 127.0.0.1:7777\r\n", ""), 400, "no host");
	refused(edit("Host: 127.0.0.1:7777\r\n", "Host:\r\n"), 400, "no host");
	refused(edit("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
	    400, "bad key");
	refused(edit("Sec-WebSocket-Version: 13\r\n", ""), 426,
	    "wrong version");
	refused(edit("Connection: Upgrade\r\n", ""), 400, "no upgrade");
	refused(edit("Connection: Upgrade\r\n", "Connection: close\r\n"), 400,
	    "no upgrade");
}

ATF_TC_WITHOUT_HEAD(duplicated_headers_are_refused);
ATF_TC_BODY(duplicated_headers_are_refused, tc)
{
	refused(edit("Host: 127.0.0.1:7777\r\n",
	    "Host: a\r\nHost: b\r\n"), 400, "duplicate header");
	refused(edit("Sec-WebSocket-Version: 13\r\n",
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n"),
	    400, "duplicate header");
	refused(edit("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"),
	    400, "duplicate header");
}

ATF_TC_WITHOUT_HEAD(oversized_header_blocks_are_refused_with_431);
ATF_TC_BODY(oversized_header_blocks_are_refused_with_431, tc)
{
	char		 big[T_MAX_HEADER + 256];
	const char	*why;
	size_t		 used;
	int		 status;

	/* a good request, but a max_header one byte short of it */
	ATF_CHECK_EQ(parse(good_req, strlen(good_req) - 1, &used, &why,
	    &status), -1);
	ATF_CHECK_EQ(status, 431);
	ATF_CHECK_STREQ(why, "header too large");
	ATF_CHECK_EQ(parse(good_req, strlen(good_req), &used, &why, &status),
	    1);

	/* an endless header line */
	snprintf(big, sizeof(big), "GET /ws HTTP/1.1\r\nX: ");
	memset(big + strlen(big), 'a', T_MAX_HEADER);
	big[sizeof(big) - 1] = '\0';
	ATF_CHECK_EQ(parse(big, T_MAX_HEADER, &used, &why, &status), -1);
	ATF_CHECK_EQ(status, 431);

	/* too many short lines */
	big[0] = '\0';
	strlcat(big, "GET /ws HTTP/1.1\r\n", sizeof(big));
	while (strlen(big) < 3 * T_MAX_HEADER / 4)
		strlcat(big, "X: y\r\n", sizeof(big));
	strlcat(big, "\r\n", sizeof(big));
	ATF_CHECK_EQ(parse(big, T_MAX_HEADER, &used, &why, &status), -1);
	ATF_CHECK_EQ(status, 431);
	ATF_CHECK_STREQ(why, "too many headers");
}

ATF_TC_WITHOUT_HEAD(wrong_version_is_refused_with_426);
ATF_TC_BODY(wrong_version_is_refused_with_426, tc)
{
	refused(edit("Sec-WebSocket-Version: 13\r\n",
	    "Sec-WebSocket-Version: 8\r\n"), 426, "wrong version");
	refused(edit("Sec-WebSocket-Version: 13\r\n",
	    "Sec-WebSocket-Version: 13, 8\r\n"), 426, "wrong version");
}

ATF_TC_WITHOUT_HEAD(wrong_path_is_refused_with_404);
ATF_TC_BODY(wrong_path_is_refused_with_404, tc)
{
	refused(edit("GET /ws HTTP", "GET / HTTP"), 404, "wrong path");
	refused(edit("GET /ws HTTP", "GET /ws?x=1 HTTP"), 404, "wrong path");
	refused(edit("GET /ws HTTP", "GET /wss HTTP"), 404, "wrong path");
}

ATF_TC_WITHOUT_HEAD(other_methods_are_refused_with_405);
ATF_TC_BODY(other_methods_are_refused_with_405, tc)
{
	refused(edit("GET /ws", "POST /ws"), 405, "not GET");
	refused(edit("GET /ws", "get /ws"), 405, "not GET");
}

ATF_TC_WITHOUT_HEAD(plain_http_is_refused_with_400);
ATF_TC_BODY(plain_http_is_refused_with_400, tc)
{
	refused("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400, "no upgrade");
	refused(edit("HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost"), 400,
	    "bad HTTP version");
	refused("GET /ws\r\n\r\n", 400, "malformed request");
}

ATF_TC_WITHOUT_HEAD(malformed_header_lines_are_refused);
ATF_TC_BODY(malformed_header_lines_are_refused, tc)
{
	refused(edit("Host: 127.0.0.1:7777\r\n", "Host : x\r\n"), 400,
	    "malformed header");
	refused(edit("Host: 127.0.0.1:7777\r\n", "Host: x\r\n folded\r\n"),
	    400, "malformed header");
	refused(edit("Host: 127.0.0.1:7777\r\n", "Host: x\nY: z\r\n"), 400,
	    "malformed header");
	refused(edit("Host: 127.0.0.1:7777\r\n", "no colon\r\n"), 400,
	    "malformed header");
	refused(edit("Host: 127.0.0.1:7777\r\n", "Host: a\x01\r\n"), 400,
	    "malformed header");
}

ATF_TC_WITHOUT_HEAD(bad_keys_are_refused);
ATF_TC_BODY(bad_keys_are_refused, tc)
{
	static const char *keys[] = {
		"",
		"dGhlIHNhbXBsZSBub25jZQ=",	/* 23 */
		"dGhlIHNhbXBsZSBub25jZQ===",	/* 25 */
		"dGhlIHNhbXBsZSBub25jZ!==",	/* not base64 */
		"dGhlIHNhbXBsZSBub25jZQ",	/* no padding */
		"dGhlIHNhbXBsZSBub25jZQ==dGhl",	/* too long */
		"dGhlIHNhbXBsZSBub25jZXg=",	/* 17 bytes */
		"dGhlIHNhbXBsZSBub25\xecZQ==",	/* a high-bit byte */
		"dGhlIHNhbXBsZSBub25 ZQ==",	/* a space */
	};
	char	 line[128];
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(line, sizeof(line), "Sec-WebSocket-Key: %s\r\n",
		    keys[i]);
		refused(edit("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
		    line), 400, "bad key");
	}
}

ATF_TC_WITHOUT_HEAD(a_header_block_split_across_reads_needs_more_then_parses);
ATF_TC_BODY(a_header_block_split_across_reads_needs_more_then_parses, tc)
{
	struct ws_request	 r;
	const char		*why;
	size_t			 n, used;
	int			 status;

	for (n = 0; n < strlen(good_req); n++)
		ATF_CHECK_EQ_MSG(ws_parse_request(good_req, n, T_MAX_HEADER,
		    &r, &used, &why, &status), 0, "at %zu", n);
	ATF_CHECK_EQ(ws_parse_request(good_req, n, T_MAX_HEADER, &r, &used,
	    &why, &status), 1);
}

static const char good_resp[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "upgrade: WebSocket\r\n"
    "Connection: upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";
#define SAMPLE_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static int
parse_resp(const char *s, const char **why)
{
	size_t	 used;

	*why = NULL;
	return (ws_parse_response(s, strlen(s), T_MAX_HEADER, SAMPLE_ACCEPT,
	    &used, why));
}

ATF_TC_WITHOUT_HEAD(responses_need_101_the_tokens_and_the_exact_accept);
ATF_TC_BODY(responses_need_101_the_tokens_and_the_exact_accept, tc)
{
	char		 buf[1024];
	const char	*why;
	size_t		 n, used;

	for (n = 0; n < strlen(good_resp); n++)
		ATF_CHECK_EQ(ws_parse_response(good_resp, n, T_MAX_HEADER,
		    SAMPLE_ACCEPT, &used, &why), 0);
	ATF_CHECK_EQ(parse_resp(good_resp, &why), 1);

	ATF_CHECK_EQ(parse_resp("HTTP/1.1 200 OK\r\n\r\n", &why), -1);
	ATF_CHECK_STREQ(why, "upgrade refused");
	ATF_CHECK_EQ(parse_resp("HTTP/1.1 1010\r\n\r\n", &why), -1);

	strlcpy(buf, good_resp, sizeof(buf));
	memcpy(strstr(buf, "xOo="), "xOp=", 4);
	ATF_CHECK_EQ(parse_resp(buf, &why), -1);
	ATF_CHECK_STREQ(why, "bad accept");

	snprintf(buf, sizeof(buf), "%.*sSec-WebSocket-Extensions: "
	    "permessage-deflate\r\n\r\n", (int)strlen(good_resp) - 2,
	    good_resp);
	ATF_CHECK_EQ(parse_resp(buf, &why), -1);
	ATF_CHECK_STREQ(why, "extension not offered");

	snprintf(buf, sizeof(buf), "%.*sSec-WebSocket-Accept: "
	    SAMPLE_ACCEPT "\r\n\r\n", (int)strlen(good_resp) - 2, good_resp);
	ATF_CHECK_EQ(parse_resp(buf, &why), -1);
	ATF_CHECK_STREQ(why, "bad accept");

	ATF_CHECK_EQ(parse_resp("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n\r\n", &why), -1);
	ATF_CHECK_STREQ(why, "no upgrade");
}

/* --- loopback --------------------------------------------------------- */

struct side {
	struct ws	*ws;
	int		 opened;
	int		 closed;
	uint16_t	 code;
	char		 why[64];
	int		 nmsg;
	size_t		 lastlen;
	uint8_t		*last;
	int		 echo;
	int		 want;		/* got_msgs: this many */
	int		 free_in_msg;
};

static struct event_base	*base;

static void
t_open(struct ws *ws, void *arg)
{
	struct side	*s = arg;

	s->opened++;
}

static void
t_message(struct ws *ws, const uint8_t *buf, size_t len, void *arg)
{
	struct side	*s = arg;

	s->nmsg++;
	free(s->last);
	s->last = malloc(len + 1);
	ATF_REQUIRE(s->last != NULL);
	memcpy(s->last, buf, len);
	s->lastlen = len;
	if (s->echo)
		ATF_CHECK_EQ(ws_send(ws, buf, len), 0);
	if (s->free_in_msg) {
		ws_free(ws);
		s->ws = NULL;
	}
}

static void
t_closed(struct ws *ws, uint16_t code, const char *why, void *arg)
{
	struct side	*s = arg;

	s->closed++;
	s->code = code;
	strlcpy(s->why, why, sizeof(s->why));
	ws_free(ws);
	s->ws = NULL;
}

static const struct ws_callbacks t_cb = { t_open, t_message, t_closed };

static struct ws_limits
t_limits(size_t max_message, unsigned int ping, unsigned int pong)
{
	struct ws_limits	 l;

	memset(&l, 0, sizeof(l));
	l.max_header = T_MAX_HEADER;
	l.max_message = max_message;
	l.ping_interval = ping;
	l.pong_timeout = pong;
	l.open_timeout = 2;
	return (l);
}

typedef int (*pred_fn)(void *);

static int	 wait_done;

static void
t_tick(int fd, short ev, void *arg)
{
	void	**pa = arg;
	pred_fn	 pred = (pred_fn)pa[0];

	if (pred != NULL && pred(pa[1]))
		event_base_loopbreak(base);
}

static void
t_deadline(int fd, short ev, void *arg)
{
	wait_done = 1;
	event_base_loopbreak(base);
}

/* Run the loop until pred holds (1) or secs pass (0). */
static int
run_until(pred_fn pred, void *arg, double secs)
{
	struct event	*tick, *dl;
	struct timeval	 tv10 = { 0, 10000 }, tvd;
	void		*pa[2] = { (void *)pred, arg };
	int		 r;

	tvd.tv_sec = (time_t)secs;
	tvd.tv_usec = (suseconds_t)((secs - (double)tvd.tv_sec) * 1e6);
	tick = event_new(base, -1, EV_PERSIST, t_tick, pa);
	dl = evtimer_new(base, t_deadline, NULL);
	event_add(tick, &tv10);
	evtimer_add(dl, &tvd);
	wait_done = 0;
	if (pred != NULL && pred(arg))
		r = 1;
	else {
		event_base_dispatch(base);
		r = !wait_done || (pred != NULL && pred(arg));
	}
	event_free(tick);
	event_free(dl);
	return (r);
}

static int
both_open(void *arg)
{
	struct side	*s = arg;

	return (s[0].opened && s[1].opened);
}

static int
both_closed(void *arg)
{
	struct side	*s = arg;

	return (s[0].closed && s[1].closed);
}

static int
one_closed(void *arg)
{
	struct side	*s = arg;

	return (s->closed);
}

static int
one_open(void *arg)
{
	struct side	*s = arg;

	return (s->opened);
}

static int
got_msgs(void *arg)
{
	struct side	*s = arg;

	return (s->nmsg >= s->want);
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_REQUIRE(sodium_init() >= 0);
	ATF_REQUIRE((base = event_base_new()) != NULL);
}

/* A connected pair on 127.0.0.1: *srv accepted, *cli connecting. */
static void
tcp_pair(int *srv, int *cli, int cli_blocking)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 l;

	ATF_REQUIRE((l = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE(bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(listen(l, 4) == 0);
	ATF_REQUIRE(getsockname(l, (struct sockaddr *)&sin, &len) == 0);
	ATF_REQUIRE((*cli = socket(AF_INET, SOCK_STREAM |
	    (cli_blocking ? 0 : SOCK_NONBLOCK), 0)) != -1);
	ATF_REQUIRE(connect(*cli, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	ATF_REQUIRE((*srv = accept4(l, NULL, NULL, SOCK_NONBLOCK)) != -1);
	close(l);
}

/* s[0] server, s[1] client, both open. */
static void
ws_pair(struct side s[2], const struct ws_limits *ls,
    const struct ws_limits *lc)
{
	int	 srv, cli;

	memset(s, 0, 2 * sizeof(*s));
	tcp_pair(&srv, &cli, 0);
	ATF_REQUIRE((s[0].ws = ws_accept(base, srv, ls, &t_cb, &s[0])) !=
	    NULL);
	ATF_REQUIRE((s[1].ws = ws_connect(base, cli, "127.0.0.1", lc, &t_cb,
	    &s[1])) != NULL);
	ATF_REQUIRE_MSG(run_until(both_open, s, T_LOOP_LIMIT), "no open");
	ATF_CHECK_STREQ(ws_peer(s[0].ws), ws_peer(s[0].ws));
	ATF_CHECK(strncmp(ws_peer(s[0].ws), "127.0.0.1:", 10) == 0);
}

ATF_TC_WITHOUT_HEAD(binary_messages_round_trip_up_to_the_limit);
ATF_TC_BODY(binary_messages_round_trip_up_to_the_limit, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s[2];
	uint8_t			 big[T_MAX_MESSAGE + 1];

	setup();
	ws_pair(s, &l, &l);
	s[0].echo = 1;
	ATF_REQUIRE_EQ(ws_send(s[1].ws, (const uint8_t *)"hello", 5), 0);
	ATF_REQUIRE_EQ(ws_send(s[1].ws, (const uint8_t *)"", 0), 0);
	s[1].want = 2;
	ATF_REQUIRE(run_until(got_msgs, &s[1], T_LOOP_LIMIT));
	ATF_CHECK_EQ(s[0].nmsg, 2);
	ATF_CHECK_EQ(s[1].lastlen, 0);

	/* exactly max_message: delivered whole */
	randombytes_buf(big, sizeof(big));
	ATF_REQUIRE_EQ(ws_send(s[1].ws, big, T_MAX_MESSAGE), 0);
	ATF_CHECK(ws_pending(s[1].ws) >= T_MAX_MESSAGE);
	s[1].want = 3;
	ATF_REQUIRE(run_until(got_msgs, &s[1], T_LOOP_LIMIT));
	ATF_CHECK_EQ(s[1].lastlen, T_MAX_MESSAGE);
	ATF_CHECK(memcmp(s[1].last, big, T_MAX_MESSAGE) == 0);
	ATF_CHECK_EQ(s[0].nmsg, 3);
	ATF_CHECK_EQ(ws_pending(s[1].ws), 0);

	/* one over: refused by the sender */
	ATF_CHECK_EQ(ws_send(s[1].ws, big, T_MAX_MESSAGE + 1), -1);
	ATF_CHECK(!s[0].closed && !s[1].closed);
	ws_free(s[0].ws);
	ws_free(s[1].ws);
	free(s[0].last);
	free(s[1].last);
}

ATF_TC_WITHOUT_HEAD(a_message_over_the_limit_closes_with_1009);
ATF_TC_BODY(a_message_over_the_limit_closes_with_1009, tc)
{
	struct ws_limits	 ls = t_limits(T_MAX_MESSAGE, 0, 0);
	struct ws_limits	 lc = t_limits(2 * T_MAX_MESSAGE, 0, 0);
	struct side		 s[2];
	uint8_t			 big[T_MAX_MESSAGE + 1];

	setup();
	ws_pair(s, &ls, &lc);
	memset(big, 'x', sizeof(big));
	ATF_REQUIRE_EQ(ws_send(s[1].ws, big, sizeof(big)), 0);
	ATF_REQUIRE(run_until(both_closed, s, T_LOOP_LIMIT));
	ATF_CHECK_EQ(s[0].nmsg, 0);
	ATF_CHECK_EQ(s[0].code, WS_CLOSE_TOO_BIG);
	ATF_CHECK_STREQ(s[0].why, "message too big");
	ATF_CHECK_EQ(s[1].code, WS_CLOSE_TOO_BIG);
	ATF_CHECK_STREQ(s[1].why, "peer closed");
}

ATF_TC_WITHOUT_HEAD(client_close_code_reaches_the_server);
ATF_TC_BODY(client_close_code_reaches_the_server, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s[2];

	setup();
	ws_pair(s, &l, &l);
	ws_close(s[1].ws, WS_CLOSE_NORMAL, "bye");
	ATF_CHECK_EQ(ws_send(s[1].ws, (const uint8_t *)"x", 1), -1);
	ATF_REQUIRE(run_until(both_closed, s, 1.5));	/* < WS_CLOSE_WAIT */
	ATF_CHECK_EQ(s[0].code, WS_CLOSE_NORMAL);
	ATF_CHECK_STREQ(s[0].why, "peer closed");
	ATF_CHECK_EQ(s[1].code, WS_CLOSE_NORMAL);
	ATF_CHECK_STREQ(s[1].why, "local close");
}

ATF_TC_WITHOUT_HEAD(server_close_code_reaches_the_client);
ATF_TC_BODY(server_close_code_reaches_the_client, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s[2];

	setup();
	ws_pair(s, &l, &l);
	ws_close(s[0].ws, WS_CLOSE_POLICY, "not paired");
	ATF_REQUIRE(run_until(both_closed, s, 1.5));
	ATF_CHECK_EQ(s[0].code, WS_CLOSE_POLICY);
	ATF_CHECK_STREQ(s[0].why, "local close");
	ATF_CHECK_EQ(s[1].code, WS_CLOSE_POLICY);
	ATF_CHECK_STREQ(s[1].why, "peer closed");
}

ATF_TC_WITHOUT_HEAD(pings_keep_an_idle_connection_open);
ATF_TC_BODY(pings_keep_an_idle_connection_open, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 1, 1);
	struct side		 s[2];

	setup();
	ws_pair(s, &l, &l);
	/* three ping rounds each way; a lost pong closes at 2 s */
	ATF_CHECK_EQ(run_until(one_closed, &s[0], 3.5), 0);
	ATF_CHECK_EQ(s[0].closed + s[1].closed, 0);
	ATF_CHECK_EQ(ws_pending(s[0].ws), 0);
	ws_free(s[0].ws);
	ws_free(s[1].ws);
}

/* --- a raw peer ----------------------------------------------------- */

/* A server ws and a blocking raw client that has sent req. */
static int
raw_pair(struct side *s, const struct ws_limits *l, const char *req)
{
	struct timeval	 tv = { 2, 0 };
	int		 srv, cli;

	memset(s, 0, sizeof(*s));
	tcp_pair(&srv, &cli, 1);
	ATF_REQUIRE(setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
	ATF_REQUIRE((s->ws = ws_accept(base, srv, l, &t_cb, s)) != NULL);
	if (req != NULL)
		ATF_REQUIRE(write(cli, req, strlen(req)) ==
		    (ssize_t)strlen(req));
	return (cli);
}

/* Read the HTTP head the server sent into buf. */
static void
raw_head(int fd, char *buf, size_t size)
{
	size_t	 n = 0;
	ssize_t	 r;

	while (n + 1 < size) {
		if ((r = read(fd, buf + n, 1)) <= 0)
			break;
		n++;
		buf[n] = '\0';
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			return;
	}
	buf[n] = '\0';
}

static void
raw_frame(int fd, uint8_t op, const void *data, size_t len, int mask)
{
	uint8_t		 f[2 + 4 + 125];
	const uint8_t	*d = data;
	size_t		 i, n = 0;

	ATF_REQUIRE(len <= 125);
	f[n++] = 0x80 | op;
	f[n++] = (mask ? 0x80 : 0) | (uint8_t)len;
	if (mask) {
		memcpy(f + n, "\x11\x22\x33\x44", 4);
		n += 4;
	}
	for (i = 0; i < len; i++)
		f[n++] = d[i] ^ (mask ? f[2 + i % 4] : 0);
	ATF_REQUIRE(write(fd, f, n) == (ssize_t)n);
}

/* The close code of the next frame, which must be a close. */
static int
raw_close_code(int fd)
{
	uint8_t	 h[4];
	size_t	 n = 0;
	ssize_t	 r;

	while (n < sizeof(h)) {
		if ((r = read(fd, h + n, sizeof(h) - n)) <= 0)
			return (-1);
		n += (size_t)r;
	}
	if (h[0] != 0x88 || h[1] < 2 || h[1] > 125)
		return (-1);
	return (h[2] << 8 | h[3]);
}

static void
raw_refused(const char *req, const char *status, const char *why)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	char			 head[1024];
	int			 fd;

	fd = raw_pair(&s, &l, req);
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	raw_head(fd, head, sizeof(head));
	ATF_CHECK_MSG(strncmp(head, status, strlen(status)) == 0,
	    "got %s", head);
	ATF_CHECK_STREQ(s.why, why);
	ATF_CHECK_EQ(s.opened, 0);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(bad_requests_get_a_short_http_error);
ATF_TC_BODY(bad_requests_get_a_short_http_error, tc)
{
	setup();
	raw_refused(edit("GET /ws", "GET /x"), "HTTP/1.1 404 ", "wrong path");
	raw_refused(edit("GET /ws", "PUT /ws"), "HTTP/1.1 405 ", "not GET");
	raw_refused(edit("Version: 13", "Version: 7"), "HTTP/1.1 426 ",
	    "wrong version");
	raw_refused("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ",
	    "no upgrade");
}

ATF_TC_WITHOUT_HEAD(a_426_names_the_version_we_speak);
ATF_TC_BODY(a_426_names_the_version_we_speak, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	char			 head[1024];
	int			 fd;

	setup();
	fd = raw_pair(&s, &l, edit("Version: 13", "Version: 7"));
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	raw_head(fd, head, sizeof(head));
	ATF_CHECK(strstr(head, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(an_endless_header_gets_431);
ATF_TC_BODY(an_endless_header_gets_431, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	char			 head[1024], junk[T_MAX_HEADER * 2];
	int			 fd;

	setup();
	memset(junk, 'a', sizeof(junk));
	fd = raw_pair(&s, &l, "GET /ws HTTP/1.1\r\nX: ");
	ATF_REQUIRE(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	raw_head(fd, head, sizeof(head));
	ATF_CHECK_MSG(strncmp(head, "HTTP/1.1 431 ", 13) == 0, "got %s", head);
	ATF_CHECK_STREQ(s.why, "header too large");
	close(fd);
}

ATF_TC_WITHOUT_HEAD(a_silent_client_times_out_in_the_upgrade);
ATF_TC_BODY(a_silent_client_times_out_in_the_upgrade, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	int			 fd;

	setup();
	l.open_timeout = 1;
	fd = raw_pair(&s, &l, "GET /ws HTTP/1.1\r\n");
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	ATF_CHECK_STREQ(s.why, "timeout");
	close(fd);
}

/* A raw client through the upgrade, with the 101 read. */
static int
raw_open(struct side *s, const struct ws_limits *l)
{
	char	 head[1024];
	int	 fd;

	fd = raw_pair(s, l, good_req);
	ATF_REQUIRE(run_until(one_open, s, T_LOOP_LIMIT));
	raw_head(fd, head, sizeof(head));
	ATF_REQUIRE_MSG(strncmp(head, "HTTP/1.1 101 ", 13) == 0, "%s", head);
	ATF_CHECK(strstr(head, "\r\nSec-WebSocket-Accept: "
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
	/* extensions offered, none taken */
	ATF_CHECK(strcasestr(head, "Extensions") == NULL);
	return (fd);
}

ATF_TC_WITHOUT_HEAD(a_peer_that_never_answers_pings_is_dropped);
ATF_TC_BODY(a_peer_that_never_answers_pings_is_dropped, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 1, 1);
	struct side		 s;
	uint8_t			 h[2];
	int			 fd;

	setup();
	fd = raw_open(&s, &l);
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	ATF_CHECK_STREQ(s.why, "pong timeout");
	ATF_REQUIRE(read(fd, h, 2) == 2);
	ATF_CHECK_EQ(h[0], 0x89);	/* it did ping */
	close(fd);
}

ATF_TC_WITHOUT_HEAD(a_raw_peer_gets_its_pings_answered);
ATF_TC_BODY(a_raw_peer_gets_its_pings_answered, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	uint8_t			 h[6];
	int			 fd;

	setup();
	fd = raw_open(&s, &l);
	raw_frame(fd, 0x9, "abcd", 4, 1);
	run_until(NULL, NULL, 0.2);
	ATF_REQUIRE(read(fd, h, 6) == 6);
	ATF_CHECK_EQ(h[0], 0x8a);
	ATF_CHECK_EQ(h[1], 4);
	ATF_CHECK(memcmp(h + 2, "abcd", 4) == 0);
	ws_free(s.ws);
	close(fd);
}

/* The server's close code after one raw frame, and its closed() why. */
static void
raw_bad_frame(uint8_t op, const void *data, size_t len, int mask,
    int want_code, const char *want_why)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	int			 fd;

	fd = raw_open(&s, &l);
	raw_frame(fd, op, data, len, mask);
	run_until(NULL, NULL, 0.2);
	ATF_CHECK_EQ(raw_close_code(fd), want_code);
	/* after a text frame it waits for our close; after a protocol
	 * error wslay reads no more and it may be gone already */
	if (!s.closed)
		raw_frame(fd, 0x8, "\x03\xe8", 2, 1);
	ATF_REQUIRE(run_until(one_closed, &s, 1.5));
	ATF_CHECK_EQ(s.code, want_code);
	ATF_CHECK_STREQ(s.why, want_why);
	ATF_CHECK_EQ(s.nmsg, 0);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(a_text_frame_is_refused_with_1003);
ATF_TC_BODY(a_text_frame_is_refused_with_1003, tc)
{
	setup();
	raw_bad_frame(0x1, "hi", 2, 1, WS_CLOSE_UNSUPPORTED, "text frame");
}

ATF_TC_WITHOUT_HEAD(an_unmasked_client_frame_is_a_protocol_error);
ATF_TC_BODY(an_unmasked_client_frame_is_a_protocol_error, tc)
{
	setup();
	raw_bad_frame(0x2, "hi", 2, 0, WS_CLOSE_PROTOCOL, "protocol error");
}

ATF_TC_WITHOUT_HEAD(reserved_bits_and_opcodes_are_protocol_errors);
ATF_TC_BODY(reserved_bits_and_opcodes_are_protocol_errors, tc)
{
	setup();
	raw_bad_frame(0x40 | 0x2, "hi", 2, 1, WS_CLOSE_PROTOCOL,
	    "protocol error");
	raw_bad_frame(0x3, "hi", 2, 1, WS_CLOSE_PROTOCOL, "protocol error");
}

ATF_TC_WITHOUT_HEAD(fragmented_or_oversized_pings_are_protocol_errors);
ATF_TC_BODY(fragmented_or_oversized_pings_are_protocol_errors, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	/* ping without FIN, masked, 1 byte */
	const uint8_t		 f[] = { 0x09, 0x81, 0, 0, 0, 0, 'x' };
	/* ping, masked, 16-bit length 126, a zero mask */
	uint8_t			 big[4 + 4 + 126] = { 0x89, 0xfe, 0, 126 };
	uint8_t			 h[2];
	int			 fd;

	setup();
	fd = raw_open(&s, &l);
	ATF_REQUIRE(write(fd, f, sizeof(f)) == (ssize_t)sizeof(f));
	run_until(NULL, NULL, 0.2);
	/* wslay's frame layer sends its close without a code */
	ATF_REQUIRE(read(fd, h, 2) == 2);
	ATF_CHECK_EQ(h[0], 0x88);
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	ATF_CHECK_EQ(s.code, WS_CLOSE_PROTOCOL);
	ATF_CHECK_STREQ(s.why, "protocol error");
	close(fd);

	/* a 126-byte ping: over the control frame limit */
	fd = raw_open(&s, &l);
	ATF_REQUIRE(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	run_until(NULL, NULL, 0.2);
	ATF_REQUIRE(read(fd, h, 2) == 2);
	ATF_CHECK_EQ(h[0], 0x88);
	ATF_REQUIRE(run_until(one_closed, &s, T_LOOP_LIMIT));
	ATF_CHECK_STREQ(s.why, "protocol error");
	close(fd);
}

ATF_TC_WITHOUT_HEAD(ws_free_from_the_message_callback_is_safe);
ATF_TC_BODY(ws_free_from_the_message_callback_is_safe, tc)
{
	struct ws_limits	 l = t_limits(T_MAX_MESSAGE, 0, 0);
	struct side		 s;
	int			 fd;

	setup();
	fd = raw_open(&s, &l);
	s.free_in_msg = 1;
	raw_frame(fd, 0x2, "a", 1, 1);
	raw_frame(fd, 0x2, "b", 1, 1);	/* in the same read */
	run_until(NULL, NULL, 0.3);
	ATF_CHECK_EQ(s.nmsg, 1);
	ATF_CHECK_EQ(s.closed, 0);
	free(s.last);
	close(fd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, good_request_is_accepted);
	ATF_TP_ADD_TC(tp, bytes_after_the_header_block_are_not_used);
	ATF_TP_ADD_TC(tp, rfc6455_sample_key_gives_the_sample_accept);
	ATF_TP_ADD_TC(tp, token_lists_and_case_are_understood);
	ATF_TP_ADD_TC(tp, missing_headers_are_refused);
	ATF_TP_ADD_TC(tp, duplicated_headers_are_refused);
	ATF_TP_ADD_TC(tp, oversized_header_blocks_are_refused_with_431);
	ATF_TP_ADD_TC(tp, wrong_version_is_refused_with_426);
	ATF_TP_ADD_TC(tp, wrong_path_is_refused_with_404);
	ATF_TP_ADD_TC(tp, other_methods_are_refused_with_405);
	ATF_TP_ADD_TC(tp, plain_http_is_refused_with_400);
	ATF_TP_ADD_TC(tp, malformed_header_lines_are_refused);
	ATF_TP_ADD_TC(tp, bad_keys_are_refused);
	ATF_TP_ADD_TC(tp,
	    a_header_block_split_across_reads_needs_more_then_parses);
	ATF_TP_ADD_TC(tp, responses_need_101_the_tokens_and_the_exact_accept);
	ATF_TP_ADD_TC(tp, binary_messages_round_trip_up_to_the_limit);
	ATF_TP_ADD_TC(tp, a_message_over_the_limit_closes_with_1009);
	ATF_TP_ADD_TC(tp, client_close_code_reaches_the_server);
	ATF_TP_ADD_TC(tp, server_close_code_reaches_the_client);
	ATF_TP_ADD_TC(tp, pings_keep_an_idle_connection_open);
	ATF_TP_ADD_TC(tp, bad_requests_get_a_short_http_error);
	ATF_TP_ADD_TC(tp, a_426_names_the_version_we_speak);
	ATF_TP_ADD_TC(tp, an_endless_header_gets_431);
	ATF_TP_ADD_TC(tp, a_silent_client_times_out_in_the_upgrade);
	ATF_TP_ADD_TC(tp, a_peer_that_never_answers_pings_is_dropped);
	ATF_TP_ADD_TC(tp, a_raw_peer_gets_its_pings_answered);
	ATF_TP_ADD_TC(tp, a_text_frame_is_refused_with_1003);
	ATF_TP_ADD_TC(tp, an_unmasked_client_frame_is_a_protocol_error);
	ATF_TP_ADD_TC(tp, reserved_bits_and_opcodes_are_protocol_errors);
	ATF_TP_ADD_TC(tp, fragmented_or_oversized_pings_are_protocol_errors);
	ATF_TP_ADD_TC(tp, ws_free_from_the_message_callback_is_safe);
	return (atf_no_error());
}
