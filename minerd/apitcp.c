/*
 * The loopback TCP API (lethd.conf: api listen on ADDRESS port PORT):
 * the control API of api.c on a TCP socket the parent bound, for tools
 * that cannot speak HTTP over a UNIX socket.  Anything on the host can
 * connect to it, so where the control socket checks the caller's
 * credentials this checks, in order:
 *
 *	OPTIONS				405, whoever asks (no CORS, ever:
 *					a browser's preflight fails)
 *	Host: ADDRESS:PORT or
 *	      localhost:PORT, or on	else 421 (a page that a browser
 *	      port 80 ADDRESS or	loaded from another name, DNS
 *	      localhost alone		rebinding, never gets an answer)
 *	Authorization: Bearer TOKEN	else 401 with WWW-Authenticate,
 *					and a log line, rate-limited
 *
 * The token is API_TOKEN_FILE in the state directory: API_TOKEN_BYTES
 * random bytes as lowercase hex, mode 0600, owned by minerd's uid;
 * minerd makes it when it is missing and reads it when the listener
 * arrives and on every reload.  A file with another owner, a group or
 * world bit, or other content is refused (every request then gets a
 * 503) rather than trusted or replaced.  The comparison is on the
 * decoded bytes, lengths first, in constant time (crypto_verify_32).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/http.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"

#define APITCP_HOST_MAX		64	/* "[::1]:65535" and then some */
#define APITCP_BEARER		"Bearer "
#define APITCP_ECHO_MAX		32	/* bytes of a bad Host we log */
/* http's default port: a Host without one means this (RFC 9110, 7.2),
 * and curl and browsers leave it out there. */
#define APITCP_HTTP_PORT	80

static int		apitcp_have;	/* a listener */
static int		apitcp_token_ok;	/* token holds a good token */
static uint8_t		apitcp_token[API_TOKEN_BYTES];
static char		apitcp_host[APITCP_HOST_MAX];	/* ADDRESS:PORT */
static char		apitcp_lhost[APITCP_HOST_MAX];	/* localhost:PORT */
static char		apitcp_bare[INET6_ADDRSTRLEN + 2];	/* ADDRESS */
static uint16_t		apitcp_port;
/* refusals logged at most once per API_AUTH_LOG_INTERVAL */
static long long	apitcp_log_at;
static unsigned int	apitcp_log_quiet;

static int	apitcp_token_load(void);
static int	apitcp_token_make(void);
static void	apitcp_refused(struct evhttp_request *, const char *,
		    const char *);
static int	apitcp_host_ok(const char *);

/* The parent's socket: note its address for the Host check. */
int
apitcp_listening(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 addr[INET6_ADDRSTRLEN];
	uint16_t		 port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("api: getsockname");
		return (-1);
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &sin->sin_addr, addr,
		    sizeof(addr)) == NULL)
			fatal("api: inet_ntop");
		port = ntohs(sin->sin_port);
		(void)snprintf(apitcp_bare, sizeof(apitcp_bare), "%s", addr);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

		if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr,
		    sizeof(addr)) == NULL)
			fatal("api: inet_ntop");
		port = ntohs(sin6->sin6_port);
		(void)snprintf(apitcp_bare, sizeof(apitcp_bare), "[%s]",
		    addr);
	} else
		fatalx("api: the parent's socket is not TCP");
	(void)snprintf(apitcp_host, sizeof(apitcp_host), "%s:%u",
	    apitcp_bare, port);
	(void)snprintf(apitcp_lhost, sizeof(apitcp_lhost), "localhost:%u",
	    port);
	apitcp_port = port;
	apitcp_have = 1;
	(void)apitcp_token_load();
	log_info("api: listening on %s (token in %s)", apitcp_host,
	    API_TOKEN_FILE);
	return (0);
}

void
apitcp_reconf(void)
{
	if (apitcp_have)
		(void)apitcp_token_load();
}

/* Read the token file, making it first if it is missing. */
static int
apitcp_token_load(void)
{
	struct stat	 st;
	char		 hex[API_TOKEN_BYTES * 2 + 2];
	size_t		 binlen;
	ssize_t		 n;
	int		 fd;

	apitcp_token_ok = 0;
	sodium_memzero(apitcp_token, sizeof(apitcp_token));
	fd = openat(env->statedir, API_TOKEN_FILE,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (apitcp_token_make() == -1)
			return (-1);
		fd = openat(env->statedir, API_TOKEN_FILE,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd == -1) {
		log_warn("api: %s: the TCP API refuses every request",
		    API_TOKEN_FILE);
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		log_warn("api: %s", API_TOKEN_FILE);
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		log_warnx("api: %s: want a file of mode 0600 owned by uid %u "
		    "(mode %04o, uid %u): the TCP API refuses every request",
		    API_TOKEN_FILE, (unsigned int)geteuid(),
		    (unsigned int)(st.st_mode & 07777),
		    (unsigned int)st.st_uid);
		close(fd);
		return (-1);
	}
	do
		n = read(fd, hex, sizeof(hex) - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n == -1) {
		log_warn("api: read %s", API_TOKEN_FILE);
		return (-1);
	}
	if (n > 0 && hex[n - 1] == '\n')
		n--;
	if (n != API_TOKEN_BYTES * 2 ||
	    sodium_hex2bin(apitcp_token, sizeof(apitcp_token), hex, (size_t)n,
	    NULL, &binlen, NULL) != 0 || binlen != API_TOKEN_BYTES) {
		sodium_memzero(hex, sizeof(hex));
		sodium_memzero(apitcp_token, sizeof(apitcp_token));
		log_warnx("api: %s: want %d hex digits: the TCP API refuses "
		    "every request", API_TOKEN_FILE, API_TOKEN_BYTES * 2);
		return (-1);
	}
	sodium_memzero(hex, sizeof(hex));
	apitcp_token_ok = 1;
	return (0);
}

static int
apitcp_token_make(void)
{
	uint8_t	 raw[API_TOKEN_BYTES];
	char	 hex[API_TOKEN_BYTES * 2 + 2];
	size_t	 len;
	int	 rv;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	len = strlen(hex);
	hex[len++] = '\n';
	rv = write_file_atomic(env->statedir, API_TOKEN_FILE, hex, len,
	    0600);
	sodium_memzero(hex, sizeof(hex));
	if (rv == -1) {
		log_warn("api: write %s", API_TOKEN_FILE);
		return (-1);
	}
	log_info("api: made a new token in %s", API_TOKEN_FILE);
	return (0);
}

/* A refusal: the answer, and a log line unless one was logged lately. */
static void
apitcp_refused(struct evhttp_request *req, const char *what,
    const char *detail)
{
	const char	*peer = "?";
	ev_uint16_t	 port = 0;
	long long	 now = mono_secs();
	struct evhttp_connection *evcon;

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_get_peer(evcon, (char **)&peer, &port);
	if (apitcp_log_at != 0 && now - apitcp_log_at <
	    API_AUTH_LOG_INTERVAL) {
		apitcp_log_quiet++;
		return;
	}
	if (apitcp_log_quiet > 0)
		log_warnx("api: refused %s from %s port %u%s%s (and %u more "
		    "refusals in the last %d s)", what, peer,
		    (unsigned int)port, detail[0] ? ": " : "", detail,
		    apitcp_log_quiet, API_AUTH_LOG_INTERVAL);
	else
		log_warnx("api: refused %s from %s port %u%s%s", what, peer,
		    (unsigned int)port, detail[0] ? ": " : "", detail);
	apitcp_log_at = now;
	apitcp_log_quiet = 0;
}

/* Whether a Host header names this listener: 1 or 0. */
static int
apitcp_host_ok(const char *host)
{
	if (host == NULL)
		return (0);
	if (strcasecmp(host, apitcp_host) == 0 ||
	    strcasecmp(host, apitcp_lhost) == 0)
		return (1);
	return (apitcp_port == APITCP_HTTP_PORT &&
	    (strcasecmp(host, apitcp_bare) == 0 ||
	    strcasecmp(host, "localhost") == 0));
}

/* 1: serve the request.  0: it was answered (refused). */
int
apitcp_allowed(struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*host, *auth;
	char			 vis[4 * APITCP_ECHO_MAX + 1];
	uint8_t			 given[API_TOKEN_BYTES];
	size_t			 binlen, tlen;
	int			 ok;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS) {
		evhttp_add_header(out, "Allow", "GET, POST, PUT, DELETE");
		api_error(req, 405, API_ERR_INVALID, "method OPTIONS not "
		    "allowed: this API answers no cross-origin request");
		return (0);
	}
	host = evhttp_find_header(in, "Host");
	if (!apitcp_host_ok(host)) {
		if (host != NULL)
			(void)str_vis(vis, sizeof(vis), host,
			    strnlen(host, APITCP_ECHO_MAX));
		else
			(void)strlcpy(vis, "none", sizeof(vis));
		apitcp_refused(req, "a request for another host", vis);
		api_error(req, 421, API_ERR_UNAUTHORISED, "wrong Host: want "
		    "%s or %s", apitcp_host, apitcp_lhost);
		return (0);
	}
	if (!apitcp_token_ok) {
		api_error(req, 503, API_ERR_INTERNAL, "no usable %s: see the "
		    "log", API_TOKEN_FILE);
		return (0);
	}
	auth = evhttp_find_header(in, "Authorization");
	ok = 0;
	if (auth != NULL && strncasecmp(auth, APITCP_BEARER,
	    strlen(APITCP_BEARER)) == 0) {
		auth += strlen(APITCP_BEARER);
		tlen = strlen(auth);
		/* the length is no secret: every token has the same */
		if (tlen == API_TOKEN_BYTES * 2 &&
		    sodium_hex2bin(given, sizeof(given), auth, tlen, NULL,
		    &binlen, NULL) == 0 && binlen == API_TOKEN_BYTES &&
		    crypto_verify_32(given, apitcp_token) == 0)
			ok = 1;
		sodium_memzero(given, sizeof(given));
	}
	if (!ok) {
		apitcp_refused(req, auth == NULL ? "a request without a token" :
		    "a wrong token", "");
		evhttp_add_header(out, "WWW-Authenticate",
		    "Bearer realm=\"lethd\"");
		api_error(req, 401, API_ERR_UNAUTHORISED, "want "
		    "Authorization: Bearer and the token in %s",
		    API_TOKEN_FILE);
		return (0);
	}
	return (1);
}
