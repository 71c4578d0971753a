/*
 * A WebSocket echo server on netd/ws.c for ws_python_test: listens on
 * 127.0.0.1 at a port of the kernel's choosing, prints the port, then
 * serves ws_accept and sends each binary message back.  The message
 * "close-1008" is answered with a close 1008 instead.  It pings every
 * second.  One line per closed connection goes to stdout:
 * "closed CODE WHY".
 *
 *	ws_echo
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "ws.h"

#define ECHO_MAX_MESSAGE	65536

static struct ws_limits	 echo_limits = {
	.max_header = 4096,
	.max_message = ECHO_MAX_MESSAGE,
	.ping_interval = 1,
	.pong_timeout = 5,
	.open_timeout = 5,
};

static void
echo_message(struct ws *ws, const uint8_t *buf, size_t len, void *arg)
{
	if (len == 10 && memcmp(buf, "close-1008", 10) == 0)
		ws_close(ws, WS_CLOSE_POLICY, "asked to");
	else if (ws_send(ws, buf, len) == -1)
		ws_close(ws, WS_CLOSE_INTERNAL, "send");
}

static void
echo_closed(struct ws *ws, uint16_t code, const char *why, void *arg)
{
	printf("closed %u %s\n", code, why);
	fflush(stdout);
	ws_free(ws);
}

static const struct ws_callbacks echo_cb = {
	NULL, echo_message, echo_closed
};

static void
echo_accept(int fd, short ev, void *arg)
{
	struct event_base	*base = arg;
	int			 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if (ws_accept(base, s, &echo_limits, &echo_cb, NULL) == NULL)
		warnx("ws_accept failed");
}

int
main(int argc, char *argv[])
{
	struct event_base	*base;
	struct event		*ev;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 l;

	if (argc != 1) {
		fprintf(stderr, "usage: ws_echo\n");
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 16) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		err(1, "listen");
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	ev = event_new(base, l, EV_READ | EV_PERSIST, echo_accept, base);
	if (ev == NULL || event_add(ev, NULL) == -1)
		errx(1, "event_add");
	event_base_dispatch(base);
	return (0);
}
