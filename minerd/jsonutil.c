/*
 * JSON replies and request bodies of the control API.
 *
 * Every reply is a JSON document with Content-Type application/json;
 * an error is {"error": message, "code": code} with the codes of the
 * wire protocol (DESIGN): 1000 internal, 1001 invalid, 1002
 * unauthorised, 1003 not found, 1004 operation failed, 1005 timeout.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "minerd.h"

/* An error message: strerror, a short echo of a bad value. */
#define API_ERRMSG_MAX		512

/* What a reply is when even building it failed (no memory). */
static const char api_oom[] =
    "{\"error\":\"out of memory\",\"code\":1000}\n";

static void	api_send(struct evhttp_request *, int, const char *, size_t);

/*
 * A JSON string for any C string: text that is not valid UTF-8 (a
 * strerror in some locale, bytes a client sent) is vis-encoded first,
 * so that the result is always valid JSON.
 */
json_t *
json_string_safe(const char *s)
{
	json_t	*j;
	char	*vis;
	size_t	 len;

	if ((j = json_string(s)) != NULL)
		return (j);
	len = strlen(s);
	if (len > API_ERRMSG_MAX)
		len = API_ERRMSG_MAX;
	if ((vis = malloc(len * 4 + 1)) == NULL)
		return (NULL);
	str_vis(vis, len * 4 + 1, s, len);
	j = json_string(vis);
	free(vis);
	return (j);
}

/* {"error": msg, "code": code}, newline-terminated; free(3) it. */
char *
api_error_body(int code, const char *msg)
{
	json_t	*o;
	char	*s, *body;
	size_t	 len;

	if ((o = json_object()) == NULL)
		return (NULL);
	if (json_object_set_new(o, "error", json_string_safe(msg)) == -1 ||
	    json_object_set_new(o, "code", json_integer(code)) == -1) {
		json_decref(o);
		return (NULL);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return (NULL);
	len = strlen(s);
	if ((body = realloc(s, len + 2)) == NULL) {
		free(s);
		return (NULL);
	}
	body[len] = '\n';
	body[len + 1] = '\0';
	return (body);
}

static void
api_send(struct evhttp_request *req, int status, const char *body,
    size_t len)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL) {
		log_warn("control: evbuffer_new");
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (evbuffer_add(buf, body, len) == -1)
		log_warnx("control: evbuffer_add failed");
	evhttp_remove_header(evhttp_request_get_output_headers(req),
	    "Content-Type");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

void
api_error(struct evhttp_request *req, int status, int code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[API_ERRMSG_MAX], *body;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((body = api_error_body(code, msg)) == NULL) {
		api_send(req, 500, api_oom, sizeof(api_oom) - 1);
		return;
	}
	api_send(req, status, body, strlen(body));
	free(body);
}

/* Send buf, a JSON body built by the caller, as the reply. */
void
api_reply_buffer(struct evhttp_request *req, int status,
    struct evbuffer *buf)
{
	evhttp_remove_header(evhttp_request_get_output_headers(req),
	    "Content-Type");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, NULL, buf);
}

static int
api_dump_cb(const char *data, size_t len, void *arg)
{
	return (evbuffer_add(arg, data, len));
}

/*
 * Send obj (whose reference this takes) as the reply, dumped straight
 * into the reply's buffer: a fleet's stats run to megabytes, and an
 * intermediate string would cost a copy and twice the memory.
 */
void
api_reply(struct evhttp_request *req, int status, json_t *obj)
{
	struct evbuffer	*buf;

	if (obj == NULL) {
		api_send(req, 500, api_oom, sizeof(api_oom) - 1);
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		log_warn("control: evbuffer_new");
		json_decref(obj);
		api_send(req, 500, api_oom, sizeof(api_oom) - 1);
		return;
	}
	if (json_dump_callback(obj, api_dump_cb, buf, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) == -1) {
		json_decref(obj);
		evbuffer_free(buf);
		api_send(req, 500, api_oom, sizeof(api_oom) - 1);
		return;
	}
	json_decref(obj);
	evhttp_remove_header(evhttp_request_get_output_headers(req),
	    "Content-Type");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

/*
 * Parse a request body: a JSON object, at most max bytes, no duplicate
 * keys.  An empty body is {} when allow_empty is set.  Returns the
 * object, or NULL with a message for the client in err.
 */
json_t *
api_parse_body(const char *buf, size_t len, int allow_empty, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*j;

	if (len == 0) {
		if (allow_empty)
			return (json_object());
		(void)snprintf(err, errlen, "empty request body: want a JSON "
		    "object");
		return (NULL);
	}
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr)) == NULL) {
		(void)snprintf(err, errlen, "invalid JSON in request body: "
		    "%s (line %d, column %d)", jerr.text, jerr.line,
		    jerr.column);
		return (NULL);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		(void)snprintf(err, errlen, "request body is not a JSON "
		    "object");
		return (NULL);
	}
	return (j);
}

json_t *
api_body(struct evhttp_request *req, size_t max, int allow_empty, char *err,
    size_t errlen)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	unsigned char	*p;

	if (len > max) {
		(void)snprintf(err, errlen, "request body is %zu bytes: at "
		    "most %zu", len, max);
		return (NULL);
	}
	if (len == 0)
		return (api_parse_body("", 0, allow_empty, err, errlen));
	if ((p = evbuffer_pullup(in, len)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	return (api_parse_body((const char *)p, len, allow_empty, err,
	    errlen));
}
