/*
 * The HTTP client: one request to minerd over the control socket with
 * libcurl (libevent 2.1's client cannot reach a UNIX socket).  HTTP
 * only, no proxy, no redirects, bounded time and body.  Failures to
 * reach the daemon are fatal, with err(3)-style messages.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <curl/curl.h>

#include "lethd.h"
#include "lethctl.h"

#define CLIENT_URL_BASE		"http://localhost"
#define CLIENT_USER_AGENT	"lethctl/" LETHD_VERSION_STRING
/* A request's URL: a remote status naming peers is a few kilobytes;
 * the daemon takes at most CTL_MAX_HEADERS of request line and
 * headers. */
#define CLIENT_URL_MAX		8192

struct client_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
	int	 toobig;
	int	 nomem;
};

static size_t	client_write(char *, size_t, size_t, void *);
static void	client_setopt_failed(CURLcode, const char *);

static size_t
client_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct client_buf	*b = arg;
	size_t			 n = nmemb, want;
	char			*p;

	/* libcurl passes size 1; be careful anyway. */
	if (size != 1)
		return (0);
	if (n > CTL_RESP_MAX - b->len) {
		b->toobig = 1;
		return (0);	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->size) {
		want = b->size == 0 ? 16384 : b->size;
		while (want < b->len + n + 1)
			want *= 2;
		if (want > CTL_RESP_MAX + 1)
			want = CTL_RESP_MAX + 1;
		if ((p = realloc(b->data, want)) == NULL) {
			b->nomem = 1;
			return (0);
		}
		b->data = p;
		b->size = want;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (n);
}

static void
client_setopt_failed(CURLcode rc, const char *what)
{
	errx(1, "curl_easy_setopt %s: %s", what, curl_easy_strerror(rc));
}

#define CLIENT_SETOPT(c, opt, val) do {					\
	CURLcode rc_;							\
	if ((rc_ = curl_easy_setopt((c), (opt), (val))) != CURLE_OK)	\
		client_setopt_failed(rc_, #opt);			\
} while (0)

void
client_init(void)
{
	CURLcode	 rc;

	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		errx(1, "curl_global_init: %s", curl_easy_strerror(rc));
}

/*
 * method path on the daemon at sock, with an optional JSON body.  On
 * return r holds the HTTP status and the body (NUL-terminated); any
 * failure to get an answer exits.
 */
void
client_request(const char *sock, const char *method, const char *path,
    const char *body, struct client_reply *r)
{
	struct sockaddr_un	 sun;
	struct client_buf	 b;
	struct curl_slist	*hdrs = NULL, *h;
	CURL			*c;
	CURLcode		 rc;
	long			 oserr = 0, status = 0;
	char			 url[CLIENT_URL_MAX], ebuf[CURL_ERROR_SIZE];
	char			 vbuf[4 * CURL_ERROR_SIZE + 1];

	memset(r, 0, sizeof(*r));
	memset(&b, 0, sizeof(b));
	ebuf[0] = '\0';

	if (strlen(sock) >= sizeof(sun.sun_path))
		errx(1, "connect %s: %s", sock, strerror(ENAMETOOLONG));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", CLIENT_URL_BASE,
	    path) >= sizeof(url))
		errx(1, "request path too long");

	if ((c = curl_easy_init()) == NULL)
		errx(1, "curl_easy_init failed");

	CLIENT_SETOPT(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	CLIENT_SETOPT(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85: the _STR forms */
	CLIENT_SETOPT(c, CURLOPT_PROTOCOLS_STR, "http");
	CLIENT_SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http");
#else
	CLIENT_SETOPT(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
	CLIENT_SETOPT(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	CLIENT_SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	CLIENT_SETOPT(c, CURLOPT_PROXY, "");
	CLIENT_SETOPT(c, CURLOPT_NOPROXY, "*");
	CLIENT_SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	CLIENT_SETOPT(c, CURLOPT_CONNECTTIMEOUT, (long)CTL_CONNECT_TIMEOUT);
	CLIENT_SETOPT(c, CURLOPT_TIMEOUT, (long)CTL_TIMEOUT);
	/* Refuse early when the daemon announces too big a body. */
	CLIENT_SETOPT(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)CTL_RESP_MAX);
	CLIENT_SETOPT(c, CURLOPT_USERAGENT, CLIENT_USER_AGENT);
	CLIENT_SETOPT(c, CURLOPT_ERRORBUFFER, ebuf);
	CLIENT_SETOPT(c, CURLOPT_WRITEFUNCTION, client_write);
	CLIENT_SETOPT(c, CURLOPT_WRITEDATA, &b);

	if ((h = curl_slist_append(hdrs, "Accept: application/json")) == NULL)
		errx(1, "curl_slist_append failed");
	hdrs = h;
	/* Our bodies are small: no 100-continue round trip. */
	if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
		errx(1, "curl_slist_append failed");
	hdrs = h;
	if (body != NULL) {
		if ((h = curl_slist_append(hdrs,
		    "Content-Type: application/json")) == NULL)
			errx(1, "curl_slist_append failed");
		hdrs = h;
	}
	if (strcmp(method, "GET") == 0)
		CLIENT_SETOPT(c, CURLOPT_HTTPGET, 1L);
	else {
		/* Any other method sends a body, if only an empty one. */
		if (body == NULL)
			body = "";
		CLIENT_SETOPT(c, CURLOPT_POSTFIELDS, body);
		CLIENT_SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
		if (strcmp(method, "POST") != 0)
			CLIENT_SETOPT(c, CURLOPT_CUSTOMREQUEST, method);
	}
	CLIENT_SETOPT(c, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (b.nomem)
			errx(1, "out of memory");
		if (b.toobig || rc == CURLE_FILESIZE_EXCEEDED)
			errx(1, "response from %s larger than %d bytes",
			    sock, CTL_RESP_MAX);
		(void)curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_COULDNT_CONNECT && oserr != 0)
			errx(1, "connect %s: %s", sock, strerror((int)oserr));
		if (rc == CURLE_OPERATION_TIMEDOUT)
			errx(1, "%s: no answer within %d seconds", sock,
			    CTL_TIMEOUT);
		/* curl's message may quote what the daemon sent. */
		if (ebuf[0] == '\0')
			(void)strlcpy(ebuf, curl_easy_strerror(rc),
			    sizeof(ebuf));
		(void)strvisx(vbuf, ebuf, strnlen(ebuf, sizeof(ebuf)),
		    RESP_VIS_FLAGS);
		errx(1, "%s: %s", sock, vbuf);
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		errx(1, "%s: no HTTP status", sock);

	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);

	r->status = status;
	if (b.data == NULL && (b.data = calloc(1, 1)) == NULL)
		err(1, NULL);
	r->body = b.data;
	r->len = b.len;
}

void
client_reply_free(struct client_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
