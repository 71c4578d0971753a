/*
 * Unit tests of minerd's node.json handling (minerd/node.c), its JSON
 * error bodies (minerd/jsonutil.c), and the control API served by
 * evhttp through the connection-counting filter (minerd/control.c,
 * minerd/api.c), with the test playing the client, keyd and the parent.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "../minerd/minerd.h"

/* How long a test waits for a reply or a message before failing. */
#define WAIT_MS			5000
/* Room for one reply of the control API in these tests. */
#define RESP_MAX		(64 * 1024)
/* A gid no test process has (for the refused-caller cases). */
#define OTHER_GID		54321
/* The supplementary group an unprivileged test child gets. */
#define CTL_TEST_GID		12345
#define NOBODY			65534

/* A valid key and the id and base64 that go with it. */
static const uint8_t test_pk[NODE_PK_LEN] = {
	0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d,
	0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f, 0x0d, 0x73,
	0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6,
	0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29,
};
#define TEST_ID		"3b6a27bcceb6a42d62a3a8d02a6f0d73"
#define TEST_PK_B64	"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="

struct resp {
	int	 status;
	char	 ctype[128];
	char	*body;			/* in buf */
	size_t	 bodylen;
	char	 buf[RESP_MAX + 1];
	size_t	 len;
	int	 closed;
};

static struct minerd_env	 test_env;
static struct sockaddr_un	 test_sun;
static socklen_t		 test_sunlen;

/*
 * node.json
 */

static char *
doc(const char *version, const char *id, const char *name, const char *pk,
    const char *created, const char *role)
{
	static char	 buf[1024];

	snprintf(buf, sizeof(buf), "{\"version\": %s, \"id\": %s, "
	    "\"name\": %s, \"publicKey\": %s, \"createdAt\": %s, "
	    "\"role\": %s}", version, id, name, pk, created, role);
	return (buf);
}

#define GOOD_DOC() doc("1", "\"" TEST_ID "\"", "\"rig-1\"", \
	"\"" TEST_PK_B64 "\"", "1700000000000", "\"worker\"")

/* node_parse must fail with a message that contains want. */
static void
parse_fails(const char *text, const char *want)
{
	struct node	 n;
	char		 err[256] = "";

	ATF_REQUIRE_EQ_MSG(node_parse(text, strlen(text), &n, err,
	    sizeof(err)), -1, "accepted: %s", text);
	ATF_CHECK_MATCH_MSG(want, err, "error \"%s\" lacks \"%s\"", err,
	    want);
}

ATF_TC_WITHOUT_HEAD(good_node_json_parses);
ATF_TC_BODY(good_node_json_parses, tc)
{
	struct node	 n;
	char		 err[256];
	const char	*d = GOOD_DOC();

	ATF_REQUIRE_EQ_MSG(node_parse(d, strlen(d), &n, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_EQ(n.version, 1);
	ATF_CHECK_STREQ(n.id, TEST_ID);
	ATF_CHECK_STREQ(n.name, "rig-1");
	ATF_CHECK(memcmp(n.pk, test_pk, NODE_PK_LEN) == 0);
	ATF_CHECK_EQ(n.created_at, 1700000000000LL);
	ATF_CHECK_EQ(n.role, ROLE_WORKER);
}

ATF_TC_WITHOUT_HEAD(node_id_is_hex_of_first_16_bytes);
ATF_TC_BODY(node_id_is_hex_of_first_16_bytes, tc)
{
	char	 id[NODE_ID_LEN + 1], b64[NODE_PK_B64_LEN + 1];

	node_id(test_pk, id);
	ATF_CHECK_STREQ(id, TEST_ID);
	node_pk_b64(test_pk, b64);
	ATF_CHECK_STREQ(b64, TEST_PK_B64);
}

ATF_TC_WITHOUT_HEAD(unknown_keys_are_ignored);
ATF_TC_BODY(unknown_keys_are_ignored, tc)
{
	struct node	 n;
	char		 err[256], d[4096];

	snprintf(d, sizeof(d), "{\"later\": [1, 2], %s", GOOD_DOC() + 1);
	ATF_CHECK_EQ_MSG(node_parse(d, strlen(d), &n, err, sizeof(err)), 0,
	    "%s", err);
}

ATF_TC_WITHOUT_HEAD(wrong_version_is_refused);
ATF_TC_BODY(wrong_version_is_refused, tc)
{
	parse_fails(doc("0", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "1", "\"dual\""), "unknown format version 0");
	parse_fails(doc("\"1\"", "\"" TEST_ID "\"", "\"a\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""),
	    "version is not an integer");
	parse_fails("{\"id\": \"" TEST_ID "\"}", "no version");
}

ATF_TC_WITHOUT_HEAD(newer_version_is_refused_clearly);
ATF_TC_BODY(newer_version_is_refused_clearly, tc)
{
	parse_fails(doc("2", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "1", "\"dual\""), "format version 2 is newer than this lethd "
	    "understands \\(1\\)");
}

ATF_TC_WITHOUT_HEAD(bad_id_is_refused);
ATF_TC_BODY(bad_id_is_refused, tc)
{
	parse_fails(doc("1", "\"3B6A27BCCEB6A42D62A3A8D02A6F0D73\"", "\"a\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""), "bad id");
	parse_fails(doc("1", "\"3b6a\"", "\"a\"", "\"" TEST_PK_B64 "\"", "1",
	    "\"dual\""), "bad id");
	parse_fails(doc("1", "7", "\"a\"", "\"" TEST_PK_B64 "\"", "1",
	    "\"dual\""), "no id, or not a string");
}

ATF_TC_WITHOUT_HEAD(id_not_matching_key_is_refused);
ATF_TC_BODY(id_not_matching_key_is_refused, tc)
{
	parse_fails(doc("1", "\"00000000000000000000000000000000\"", "\"a\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""),
	    "id 00000000000000000000000000000000 does not match publicKey");
}

ATF_TC_WITHOUT_HEAD(bad_base64_is_refused);
ATF_TC_BODY(bad_base64_is_refused, tc)
{
	/* not base64, too short, URL alphabet, no padding, 33 bytes */
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"",
	    "\"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2i!=\"", "1",
	    "\"dual\""), "bad publicKey");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"", "\"O2onvM62\"", "1",
	    "\"dual\""), "bad publicKey");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"",
	    "\"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik\"", "1",
	    "\"dual\""), "bad publicKey");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"",
	    "\"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ikA\"", "1",
	    "\"dual\""), "bad publicKey");
	/* non-canonical: the last character's unused bits are set */
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"",
	    "\"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2il=\"", "1",
	    "\"dual\""), "bad publicKey");
}

ATF_TC_WITHOUT_HEAD(long_name_is_refused);
ATF_TC_BODY(long_name_is_refused, tc)
{
	char	 name[NODE_NAME_MAX + 4];

	memset(name, 'x', sizeof(name));
	name[0] = '"';
	name[NODE_NAME_MAX + 2] = '"';
	name[NODE_NAME_MAX + 3] = '\0';
	parse_fails(doc("1", "\"" TEST_ID "\"", name, "\"" TEST_PK_B64 "\"",
	    "1", "\"dual\""), "name is 65 bytes long: at most 64");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"\"", "\"" TEST_PK_B64 "\"",
	    "1", "\"dual\""), "empty name");
}

ATF_TC_WITHOUT_HEAD(control_char_in_name_is_refused);
ATF_TC_BODY(control_char_in_name_is_refused, tc)
{
	struct node	 n;
	char		 err[256];
	const char	*d;

	parse_fails(doc("1", "\"" TEST_ID "\"", "\"rig\\u001b[31m\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""),
	    "control character \\(0x1b\\) at byte 3");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\\nb\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""), "control character");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\\u0085b\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\""), "control character");
	/* UTF-8 that is not a control character is a name */
	d = doc("1", "\"" TEST_ID "\"", "\"rig Z\\u00fcrich\"",
	    "\"" TEST_PK_B64 "\"", "1", "\"dual\"");
	ATF_CHECK_EQ_MSG(node_parse(d, strlen(d), &n, err, sizeof(err)), 0,
	    "%s", err);
}

ATF_TC_WITHOUT_HEAD(bad_role_is_refused);
ATF_TC_BODY(bad_role_is_refused, tc)
{
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "1", "\"boss\""), "bad role \"boss\": want controller, worker or "
	    "dual");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "1", "null"), "no role");
}

ATF_TC_WITHOUT_HEAD(bad_created_at_is_refused);
ATF_TC_BODY(bad_created_at_is_refused, tc)
{
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "0", "\"dual\""), "bad createdAt");
	parse_fails(doc("1", "\"" TEST_ID "\"", "\"a\"", "\"" TEST_PK_B64 "\"",
	    "1.5", "\"dual\""), "bad createdAt");
}

ATF_TC_WITHOUT_HEAD(duplicate_keys_are_refused);
ATF_TC_BODY(duplicate_keys_are_refused, tc)
{
	char	 d[4096];

	snprintf(d, sizeof(d), "{\"role\": \"controller\", %s",
	    GOOD_DOC() + 1);
	parse_fails(d, "invalid JSON: duplicate object key");
}

ATF_TC_WITHOUT_HEAD(not_an_object_is_refused);
ATF_TC_BODY(not_an_object_is_refused, tc)
{
	parse_fails("[1, 2, 3]", "not a JSON object");
	parse_fails("\"node\"", "not a JSON object");
}

ATF_TC_WITHOUT_HEAD(truncated_json_is_refused);
ATF_TC_BODY(truncated_json_is_refused, tc)
{
	char	 d[4096];

	strlcpy(d, GOOD_DOC(), sizeof(d));
	d[strlen(d) / 2] = '\0';
	parse_fails(d, "invalid JSON: .*line 1");
	parse_fails("", "invalid JSON");
	snprintf(d, sizeof(d), "%s}", GOOD_DOC());
	parse_fails(d, "invalid JSON");
}

ATF_TC_WITHOUT_HEAD(format_then_parse_round_trips);
ATF_TC_BODY(format_then_parse_round_trips, tc)
{
	struct node	 n, m;
	char		*s, err[256];
	const char	*keys[] = { "\"version\"", "\"id\"", "\"name\"",
	    "\"publicKey\"", "\"createdAt\"", "\"role\"" };
	const char	*prev = NULL, *p;
	size_t		 i;

	memset(&n, 0, sizeof(n));
	n.version = NODE_FORMAT_VERSION;
	memcpy(n.pk, test_pk, NODE_PK_LEN);
	node_id(n.pk, n.id);
	strlcpy(n.name, "rig \"quoted\" \\ Z\xc3\xbcrich", sizeof(n.name));
	n.created_at = 1712345678901LL;
	n.role = ROLE_CONTROLLER;
	ATF_REQUIRE((s = node_format(&n)) != NULL);
	/* keys in the documented order, indented */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ATF_REQUIRE_MSG((p = strstr(s, keys[i])) != NULL, "%s",
		    keys[i]);
		ATF_CHECK_MSG(prev == NULL || p > prev, "%s out of order",
		    keys[i]);
		prev = p;
	}
	ATF_CHECK(strstr(s, "\n  \"version\": 1") != NULL);
	ATF_REQUIRE_EQ_MSG(node_parse(s, strlen(s), &m, err, sizeof(err)), 0,
	    "%s: %s", err, s);
	free(s);
	ATF_CHECK_EQ(m.version, n.version);
	ATF_CHECK_STREQ(m.id, n.id);
	ATF_CHECK_STREQ(m.name, n.name);
	ATF_CHECK(memcmp(m.pk, n.pk, NODE_PK_LEN) == 0);
	ATF_CHECK_EQ(m.created_at, n.created_at);
	ATF_CHECK_EQ(m.role, n.role);
}

static int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	ATF_REQUIRE((d = opendir(dir)) != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return (n);
}

ATF_TC_WITHOUT_HEAD(save_then_load_is_atomic_and_private);
ATF_TC_BODY(save_then_load_is_atomic_and_private, tc)
{
	struct node	 n, m;
	struct stat	 st;
	char		 err[256];
	int		 dfd, fd;

	ATF_REQUIRE(mkdir("state", 0700) == 0);
	ATF_REQUIRE((dfd = open("state", O_RDONLY | O_DIRECTORY)) != -1);
	ATF_CHECK_EQ(node_load(dfd, &m, err, sizeof(err)), 1);

	memset(&n, 0, sizeof(n));
	n.version = NODE_FORMAT_VERSION;
	memcpy(n.pk, test_pk, NODE_PK_LEN);
	node_id(n.pk, n.id);
	strlcpy(n.name, "rig-1", sizeof(n.name));
	n.created_at = 1700000000000LL;
	n.role = ROLE_DUAL;
	umask(022);
	ATF_REQUIRE(node_save(dfd, &n) == 0);
	ATF_REQUIRE(fstatat(dfd, LETHD_NODE_FILE, &st, 0) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	ATF_CHECK_EQ(count_entries("state"), 1);
	ATF_REQUIRE_EQ_MSG(node_load(dfd, &m, err, sizeof(err)), 0, "%s", err);
	ATF_CHECK_STREQ(m.id, n.id);
	ATF_CHECK_STREQ(m.name, "rig-1");

	/* again over the old one: still one file, new content */
	strlcpy(n.name, "rig-2", sizeof(n.name));
	ATF_REQUIRE(node_save(dfd, &n) == 0);
	ATF_CHECK_EQ(count_entries("state"), 1);
	ATF_REQUIRE(node_load(dfd, &m, err, sizeof(err)) == 0);
	ATF_CHECK_STREQ(m.name, "rig-2");

	/* a broken file is reported with the file's name */
	ATF_REQUIRE((fd = openat(dfd, LETHD_NODE_FILE, O_WRONLY | O_TRUNC)) !=
	    -1);
	ATF_REQUIRE(write(fd, "{\"version\": 1", 13) == 13);
	close(fd);
	ATF_CHECK_EQ(node_load(dfd, &m, err, sizeof(err)), -1);
	ATF_CHECK_MATCH("^node.json: invalid JSON", err);

	/* a file over the bound is refused before parsing */
	ATF_REQUIRE((fd = openat(dfd, LETHD_NODE_FILE, O_WRONLY | O_TRUNC)) !=
	    -1);
	ATF_REQUIRE(ftruncate(fd, NODE_FILE_MAX + 1) == 0);
	close(fd);
	ATF_CHECK_EQ(node_load(dfd, &m, err, sizeof(err)), -1);
	ATF_CHECK_MATCH("larger than", err);
	close(dfd);
}

/*
 * JSON error bodies.
 */

/* The body must be {"error": msg, "code": code} and decode to msg. */
static void
check_error_body(int code, const char *msg, const char *want_msg)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*b;

	ATF_REQUIRE((b = api_error_body(code, msg)) != NULL);
	ATF_CHECK_MSG(b[strlen(b) - 1] == '\n', "no newline: %s", b);
	ATF_CHECK_MSG(strncmp(b, "{\"error\":", 9) == 0, "order: %s", b);
	ATF_REQUIRE_MSG((j = json_loads(b, JSON_REJECT_DUPLICATES, &jerr)) !=
	    NULL, "not JSON: %s: %s", b, jerr.text);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "error")),
	    want_msg);
	ATF_CHECK_EQ(json_integer_value(json_object_get(j, "code")), code);
	ATF_CHECK_EQ(json_object_size(j), 2);
	json_decref(j);
	free(b);
}

ATF_TC_WITHOUT_HEAD(error_bodies_escape_everything);
ATF_TC_BODY(error_bodies_escape_everything, tc)
{
	char	*b;

	check_error_body(1003, "no such route", "no such route");
	check_error_body(1001, "invalid role \"x\": want controller",
	    "invalid role \"x\": want controller");
	check_error_body(1000, "line one\nline two\r\ttab",
	    "line one\nline two\r\ttab");
	check_error_body(1000, "esc \x1b[31m bell \x07 back\\slash",
	    "esc \x1b[31m bell \x07 back\\slash");
	/* not UTF-8: vis-encoded, still valid JSON */
	check_error_body(1000, "bad \xff\xfe bytes", "bad \\377\\376 bytes");

	ATF_REQUIRE((b = api_error_body(1001, "a\"b\nc\x01")) != NULL);
	ATF_CHECK_STREQ(b,
	    "{\"error\":\"a\\\"b\\nc\\u0001\",\"code\":1001}\n");
	free(b);
}

ATF_TC_WITHOUT_HEAD(request_bodies_are_strict);
ATF_TC_BODY(request_bodies_are_strict, tc)
{
	json_t	*j;
	char	 err[256];

	ATF_REQUIRE((j = api_parse_body("", 0, 1, err, sizeof(err))) != NULL);
	ATF_CHECK(json_is_object(j) && json_object_size(j) == 0);
	json_decref(j);
	ATF_CHECK(api_parse_body("", 0, 0, err, sizeof(err)) == NULL);
	ATF_CHECK_MATCH("empty request body", err);
	ATF_CHECK(api_parse_body("{\"a\":1,\"a\":2}", 13, 1, err,
	    sizeof(err)) == NULL);
	ATF_CHECK_MATCH("duplicate object key", err);
	ATF_CHECK(api_parse_body("[]", 2, 1, err, sizeof(err)) == NULL);
	ATF_CHECK_MATCH("not a JSON object", err);
	ATF_CHECK(api_parse_body("{\"a\":", 5, 1, err, sizeof(err)) == NULL);
	ATF_CHECK_MATCH("invalid JSON in request body", err);
}

ATF_TC_WITHOUT_HEAD(status_structs_are_checked);
ATF_TC_BODY(status_structs_are_checked, tc)
{
	struct proc_status	 ps;
	struct status_end	 se;

	memset(&ps, 0, sizeof(ps));
	ps.proc = PROC_MINERD;
	ATF_CHECK(api_status_check(&ps) == NULL);
	ps.proc = PROC_MAX;
	ATF_CHECK(api_status_check(&ps) != NULL);
	ps.proc = PROC_KEYD;
	ps.pid = -1;
	ATF_CHECK(api_status_check(&ps) != NULL);

	memset(&se, 0, sizeof(se));
	se.nlisten = NET_MAX_LISTEN;
	ATF_CHECK(api_status_end_check(&se) == NULL);
	se.nlisten = NET_MAX_LISTEN + 1;
	ATF_CHECK(api_status_end_check(&se) != NULL);
	se.nlisten = 1;
	memset(se.addr[7], 'a', sizeof(se.addr[7]));
	ATF_CHECK(api_status_end_check(&se) != NULL);
	memset(&se, 0, sizeof(se));
	memset(se.socket, 'a', sizeof(se.socket));
	ATF_CHECK(api_status_end_check(&se) != NULL);
}

/*
 * The control API, in this process: minerd's side runs on the event
 * loop between the test's steps.
 */

static void
test_iev_handler(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;

	/* minerd's end only writes here: the test reads the other end */
	if (imsgev_handle(iev, event & EV_WRITE) == -1)
		imsgev_close(iev);
}

static void
setup(unsigned int max_conn)
{
	int	 fd;

	log_init(1, LOG_DAEMON);
	log_procinit("minerd");
	ATF_REQUIRE(sodium_init() != -1);
	ATF_REQUIRE((ev_base = event_base_new()) != NULL);
	signal(SIGPIPE, SIG_IGN);
	env = &test_env;
	memset(env, 0, sizeof(*env));
	env->conf.version = CHILD_INIT_VERSION;
	env->conf.proc = PROC_MINERD;
	env->conf.ctl_gid = getuid() == 0 ? CTL_TEST_GID : getgid();
	env->conf.ctl_max_conn = max_conn;
	env->conf.ctl_timeout = 5;
	strlcpy(env->hostname, "testhost", sizeof(env->hostname));
	ATF_REQUIRE((env->statedir = open(".", O_RDONLY | O_DIRECTORY)) !=
	    -1);
	control_init();

	/* an abstract socket: no path, so any uid may connect */
	memset(&test_sun, 0, sizeof(test_sun));
	test_sun.sun_family = AF_UNIX;
	snprintf(test_sun.sun_path + 1, sizeof(test_sun.sun_path) - 1,
	    "lethd-node-test-%d", (int)getpid());
	test_sunlen = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(test_sun.sun_path + 1);
	/* blocking, as the parent hands it over */
	ATF_REQUIRE((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
	    -1);
	ATF_REQUIRE(bind(fd, (struct sockaddr *)&test_sun, test_sunlen) == 0);
	ATF_REQUIRE(listen(fd, 16) == 0);
	control_listen(fd);
}

static void
loop_once(void)
{
	event_base_loop(ev_base, EVLOOP_NONBLOCK);
}

static void
loop_for(int ms)
{
	long long	 end = now_ms() + ms;

	while (now_ms() < end) {
		loop_once();
		usleep(1000);
	}
}

static int
cli_connect(void)
{
	int	 fd;

	ATF_REQUIRE((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) != -1);
	ATF_REQUIRE_MSG(connect(fd, (struct sockaddr *)&test_sun,
	    test_sunlen) == 0, "connect: %s", strerror(errno));
	return (fd);
}

static void
cli_send(int fd, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[8192];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ATF_REQUIRE(n > 0 && (size_t)n < sizeof(buf));
	ATF_REQUIRE(write(fd, buf, n) == n);
}

/* Is a whole response in r (headers, and Content-Length of body)? */
static int
resp_parse(struct resp *r)
{
	char	*eoh, *cl, *ct;
	size_t	 hl, want;

	r->buf[r->len] = '\0';
	if ((eoh = strstr(r->buf, "\r\n\r\n")) == NULL)
		return (0);
	hl = eoh + 4 - r->buf;
	if (sscanf(r->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return (-1);
	if ((cl = strcasestr(r->buf, "\r\nContent-Length:")) == NULL ||
	    cl > eoh) {
		/* no length: the body ends when the connection does */
		if (!r->closed)
			return (0);
		want = r->len - hl;
	} else
		want = strtoul(cl + 17, NULL, 10);
	if (r->len - hl < want)
		return (0);
	r->body = r->buf + hl;
	r->bodylen = want;
	r->ctype[0] = '\0';
	if ((ct = strcasestr(r->buf, "\r\nContent-Type:")) != NULL && ct < eoh)
		sscanf(ct + 15, " %127[^\r]", r->ctype);
	return (1);
}

/* Run the loop until a whole response arrives on fd (or fail). */
static void
cli_response(int fd, struct resp *r, int wait_close)
{
	long long	 end = now_ms() + WAIT_MS;
	ssize_t		 n;
	int		 done = 0;

	memset(r, 0, sizeof(*r));
	while (now_ms() < end) {
		loop_once();
		n = read(fd, r->buf + r->len, RESP_MAX - r->len);
		if (n > 0)
			r->len += n;
		else if (n == 0)
			r->closed = 1;
		else if (errno != EAGAIN)
			atf_tc_fail("read: %s", strerror(errno));
		if (!done)
			done = resp_parse(r);
		if (done == -1)
			atf_tc_fail("bad response: %s", r->buf);
		if (done && (!wait_close || r->closed))
			return;
		if (n <= 0)
			usleep(1000);
	}
	atf_tc_fail("no %s in %d ms (got %zu bytes: %.*s)",
	    done ? "close" : "response", WAIT_MS, r->len, (int)r->len, r->buf);
}

/* One request on a fresh connection; the body parsed as JSON. */
static json_t *
request(const char *method, const char *path, const char *body,
    struct resp *r)
{
	json_error_t	 jerr;
	json_t		*j;
	int		 fd;

	fd = cli_connect();
	if (body == NULL)
		cli_send(fd, "%s %s HTTP/1.1\r\nHost: lethd\r\n\r\n", method,
		    path);
	else
		cli_send(fd, "%s %s HTTP/1.1\r\nHost: lethd\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n%s",
		    method, path, strlen(body), body);
	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_STREQ(r->ctype, "application/json");
	j = json_loadb(r->body, r->bodylen, JSON_REJECT_DUPLICATES, &jerr);
	ATF_REQUIRE_MSG(j != NULL, "reply is not JSON: %.*s", (int)r->bodylen,
	    r->body);
	return (j);
}

static void
check_error(json_t *j, int code, const char *msg)
{
	ATF_CHECK_EQ(json_integer_value(json_object_get(j, "code")), code);
	ATF_CHECK_MATCH_MSG(msg, json_string_value(json_object_get(j,
	    "error")), "error: %s", json_string_value(json_object_get(j,
	    "error")));
	json_decref(j);
}

static void
check_health(struct resp *r)
{
	json_t	*j;

	ATF_CHECK_EQ(r->status, 200);
	ATF_CHECK_STREQ(r->ctype, "application/json");
	ATF_REQUIRE((j = json_loadb(r->body, r->bodylen, 0, NULL)) != NULL);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "status")), "ok");
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "version")),
	    LETHD_VERSION_STRING);
	json_decref(j);
}

ATF_TC_WITHOUT_HEAD(evhttp_serves_through_the_filter_bufferevent);
ATF_TC_BODY(evhttp_serves_through_the_filter_bufferevent, tc)
{
	struct resp	*r;
	int		 fd, i;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);

	/* fresh connections, one after another (libevent 2.1's filter
	 * left the second reply unsent without control_kick) */
	for (i = 0; i < 5; i++) {
		fd = cli_connect();
		cli_send(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
		cli_response(fd, r, 0);
		check_health(r);
		close(fd);
	}

	/* two requests on one kept-alive connection */
	fd = cli_connect();
	for (i = 0; i < 2; i++) {
		cli_send(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
		cli_response(fd, r, 0);
		check_health(r);
	}
	close(fd);

	/* Connection: close and HTTP/1.0: the reply is all out before
	 * evhttp frees the connection */
	fd = cli_connect();
	cli_send(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	cli_response(fd, r, 1);
	check_health(r);
	close(fd);
	fd = cli_connect();
	cli_send(fd, "GET /api/v1/health HTTP/1.0\r\n\r\n");
	cli_response(fd, r, 1);
	check_health(r);
	close(fd);

	/* every connection was let go, and counted out */
	loop_for(100);
	ATF_CHECK_EQ(control_nconn(), 0);
	free(r);
}

ATF_TC_WITHOUT_HEAD(connection_cap_holds_callers_in_the_backlog);
ATF_TC_BODY(connection_cap_holds_callers_in_the_backlog, tc)
{
	struct resp	*r;
	int		 a, b, c;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(2);
	a = cli_connect();
	b = cli_connect();
	loop_for(100);
	ATF_CHECK_EQ(control_nconn(), 2);

	/* the third waits in the backlog, unserved */
	c = cli_connect();
	cli_send(c, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
	loop_for(200);
	ATF_CHECK_EQ(control_nconn(), 2);
	ATF_CHECK_EQ(read(c, r->buf, 1), -1);
	ATF_CHECK_EQ(errno, EAGAIN);

	/* one leaves: the third is served */
	close(a);
	cli_response(c, r, 0);
	check_health(r);
	close(b);
	close(c);
	loop_for(100);
	ATF_CHECK_EQ(control_nconn(), 0);
	free(r);
}

/* Run the loop until the server closes fd; returns the ms it took. */
static long long
wait_eof(int fd)
{
	long long	 start = now_ms();
	char		 c;
	ssize_t		 n;

	while (now_ms() < start + WAIT_MS) {
		loop_once();
		if ((n = read(fd, &c, 1)) == 0 || (n == -1 && errno !=
		    EAGAIN))
			return (now_ms() - start);
		usleep(1000);
	}
	atf_tc_fail("connection still open after %d ms", WAIT_MS);
}

ATF_TC_WITHOUT_HEAD(idle_and_slow_callers_are_timed_out);
ATF_TC_BODY(idle_and_slow_callers_are_timed_out, tc)
{
	int	 a, b;

	setup(8);
	env->conf.ctl_timeout = 1;
	control_reconf();
	a = cli_connect();
	b = cli_connect();
	cli_send(b, "GET /api/v1/health HTTP/1.1\r\nHost:");
	ATF_CHECK(wait_eof(a) < 3000);
	ATF_CHECK(wait_eof(b) < 3000);
	close(a);
	close(b);
	loop_for(50);
	ATF_CHECK_EQ(control_nconn(), 0);
}

ATF_TC_WITHOUT_HEAD(routes_answer_json_errors);
ATF_TC_BODY(routes_answer_json_errors, tc)
{
	struct resp	*r;
	json_t		*j;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);

	j = request("GET", "/api/v1/nothing", NULL, r);
	ATF_CHECK_EQ(r->status, 404);
	check_error(j, 1003, "^no such route$");
	j = request("GET", "/api/v1/health/", NULL, r);
	ATF_CHECK_EQ(r->status, 404);
	check_error(j, 1003, "^no such route$");

	j = request("POST", "/api/v1/health", "{}", r);
	ATF_CHECK_EQ(r->status, 405);
	check_error(j, 1001, "^method POST not allowed on /api/v1/health: "
	    "use GET$");
	j = request("DELETE", "/api/v1/node/init", NULL, r);
	ATF_CHECK_EQ(r->status, 405);
	check_error(j, 1001, "use POST");

	j = request("GET", "/api/v1/node/info", NULL, r);
	ATF_CHECK_EQ(r->status, 404);
	check_error(j, 1003, "^no node identity: run lethctl node init$");

	j = request("POST", "/api/v1/node/init", "{\"name\": ", r);
	ATF_CHECK_EQ(r->status, 400);
	check_error(j, 1001, "^invalid JSON in request body");
	j = request("POST", "/api/v1/node/init", "{\"role\": \"boss\"}", r);
	ATF_CHECK_EQ(r->status, 400);
	check_error(j, 1001, "^invalid role \"boss\": want controller, "
	    "worker or dual$");
	j = request("POST", "/api/v1/node/init", "{\"name\": \"a\\u0007\"}", r);
	ATF_CHECK_EQ(r->status, 400);
	check_error(j, 1001, "^invalid name: name has a control character");
	j = request("POST", "/api/v1/node/init", "{\"nmae\": \"x\"}", r);
	ATF_CHECK_EQ(r->status, 400);
	check_error(j, 1001, "^unknown field \"nmae\"");
	j = request("POST", "/api/v1/node/init", "{\"name\": \"x\", "
	    "\"name\": \"y\"}", r);
	ATF_CHECK_EQ(r->status, 400);
	check_error(j, 1001, "duplicate object key");

	/* valid, but no keyd */
	j = request("POST", "/api/v1/node/init", "{\"role\": \"worker\"}", r);
	ATF_CHECK_EQ(r->status, 503);
	check_error(j, 1000, "^keyd is not running$");
	free(r);
}

/* Wait for one message on the test's end of a pipe. */
static void
pipe_wait(struct imsgbuf *ib, struct imsg *imsg)
{
	long long	 end = now_ms() + WAIT_MS;
	int		 r;

	while (now_ms() < end) {
		loop_once();
		if ((r = imsg_get(ib, imsg)) == 1)
			return;
		ATF_REQUIRE(r == 0);
		if (imsgbuf_read(ib) == 0)
			atf_tc_fail("pipe closed");
		usleep(1000);
	}
	atf_tc_fail("no message in %d ms", WAIT_MS);
}

/* Send a request, run the loop until minerd parks it. */
static int
park(const char *method, const char *path, const char *body)
{
	int	 fd;

	fd = cli_connect();
	if (body == NULL)
		cli_send(fd, "%s %s HTTP/1.1\r\nHost: x\r\n\r\n", method, path);
	else
		cli_send(fd, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: "
		    "%zu\r\n\r\n%s", method, path, strlen(body), body);
	return (fd);
}

static void
fake_keyd(int sv[2], struct imsgbuf *ib)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0);
	imsgev_init(&env->iev_keyd, sv[0], PROC_KEYD, test_iev_handler, NULL);
	ATF_REQUIRE(imsgbuf_init(ib, sv[1]) == 0);
}

ATF_TC_WITHOUT_HEAD(node_init_asks_keyd_and_writes_node_json);
ATF_TC_BODY(node_init_asks_keyd_and_writes_node_json, tc)
{
	struct resp		*r;
	struct imsgbuf		 kib;
	struct imsg		 imsg;
	struct key_generated	 kg;
	struct key_public	 kp;
	struct node		 n;
	struct stat		 st;
	json_t			*j;
	char			 err[256];
	uint32_t		 id;
	int			 sv[2], fd;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	fake_keyd(sv, &kib);

	/* keyd says: no key yet */
	memset(&kp, 0, sizeof(kp));
	ATF_REQUIRE(api_key_public(&kp) == 0);
	j = request("GET", "/api/v1/node/info", NULL, r);
	ATF_CHECK_EQ(r->status, 404);
	check_error(j, 1003, "no node identity");

	fd = park("POST", "/api/v1/node/init",
	    "{\"name\": \"rig-7\", \"role\": \"worker\"}");
	pipe_wait(&kib, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_KEY_GENERATE);
	ATF_REQUIRE(imsg_get_data(&imsg, &id, sizeof(id)) == 0);
	imsg_free(&imsg);
	ATF_CHECK_EQ(api_npending(), 1);

	memset(&kg, 0, sizeof(kg));
	kg.request = id;
	kg.status = KEYGEN_OK;
	memcpy(kg.pk, test_pk, NODE_PK_LEN);
	ATF_REQUIRE(api_key_generated(&kg) == 0);
	ATF_CHECK_EQ(api_npending(), 0);
	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_EQ(r->status, 201);
	ATF_REQUIRE((j = json_loadb(r->body, r->bodylen, 0, NULL)) != NULL);
	ATF_CHECK_EQ(json_integer_value(json_object_get(j, "version")), 1);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "id")), TEST_ID);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "name")),
	    "rig-7");
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "publicKey")),
	    TEST_PK_B64);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "role")),
	    "worker");
	ATF_CHECK(json_integer_value(json_object_get(j, "createdAt")) >
	    1600000000000LL);
	json_decref(j);

	ATF_REQUIRE(stat(LETHD_NODE_FILE, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	ATF_REQUIRE_EQ_MSG(node_load(env->statedir, &n, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_STREQ(n.name, "rig-7");
	ATF_CHECK_EQ(n.role, ROLE_WORKER);

	/* node info now shows it */
	j = request("GET", "/api/v1/node/info", NULL, r);
	ATF_CHECK_EQ(r->status, 200);
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "id")), TEST_ID);
	json_decref(j);

	/* a second init: keyd says it exists */
	fd = park("POST", "/api/v1/node/init", NULL);
	pipe_wait(&kib, &imsg);
	ATF_REQUIRE(imsg_get_data(&imsg, &id, sizeof(id)) == 0);
	imsg_free(&imsg);
	kg.request = id;
	kg.status = KEYGEN_EXISTS;
	ATF_REQUIRE(api_key_generated(&kg) == 0);
	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_EQ(r->status, 409);
	j = json_loadb(r->body, r->bodylen, 0, NULL);
	check_error(j, 1004, "^node identity exists \\(id " TEST_ID "\\): "
	    "replacing a key is an offline act: see lethd -K$");

	/* keyd restarts with a request in flight: an explicit error */
	fd = park("POST", "/api/v1/node/init", NULL);
	pipe_wait(&kib, &imsg);
	imsg_free(&imsg);
	api_keyd_lost();
	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_EQ(r->status, 503);
	j = json_loadb(r->body, r->bodylen, 0, NULL);
	check_error(j, 1000, "^keyd restarted: request lost, try again$");

	/* keyd sent bad values: refused (the caller closes its pipe) */
	kg.status = 7;
	ATF_CHECK_EQ(api_key_generated(&kg), -1);
	kp.has_key = 2;
	ATF_CHECK_EQ(api_key_public(&kp), -1);
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyd_key_is_the_authority_for_node_json);
ATF_TC_BODY(keyd_key_is_the_authority_for_node_json, tc)
{
	struct key_public	 kp;
	struct node		 n;
	struct resp		*r;
	json_t			*j;
	char			 err[256];

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	strlcpy(env->conf.node_name, "conf-name", sizeof(env->conf.node_name));

	/* keyd has a key, no node.json: minerd makes it */
	memset(&kp, 0, sizeof(kp));
	kp.has_key = 1;
	memcpy(kp.pk, test_pk, NODE_PK_LEN);
	ATF_REQUIRE(api_key_public(&kp) == 0);
	ATF_REQUIRE_EQ_MSG(node_load(env->statedir, &n, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_STREQ(n.id, TEST_ID);
	ATF_CHECK_STREQ(n.name, "conf-name");
	ATF_CHECK_EQ(n.role, ROLE_DUAL);

	/* node.json has another key: keyd's wins, name and role stay */
	strlcpy(n.name, "kept", sizeof(n.name));
	n.role = ROLE_CONTROLLER;
	n.pk[0] ^= 0xff;
	node_id(n.pk, n.id);
	ATF_REQUIRE(node_save(env->statedir, &n) == 0);
	ATF_REQUIRE(api_key_public(&kp) == 0);
	ATF_REQUIRE(node_load(env->statedir, &n, err, sizeof(err)) == 0);
	ATF_CHECK_STREQ(n.id, TEST_ID);
	ATF_CHECK_STREQ(n.name, "kept");
	ATF_CHECK_EQ(n.role, ROLE_CONTROLLER);

	/* keyd has no key: a stale node.json is no identity */
	kp.has_key = 0;
	ATF_REQUIRE(api_key_public(&kp) == 0);
	j = request("GET", "/api/v1/node/info", NULL, r);
	ATF_CHECK_EQ(r->status, 404);
	check_error(j, 1003, "no node identity");
	free(r);
}

ATF_TC_WITHOUT_HEAD(node_json_write_failure_answers_500_keeps_the_key);
ATF_TC_BODY(node_json_write_failure_answers_500_keeps_the_key, tc)
{
	struct resp		*r;
	struct imsgbuf		 kib;
	struct imsg		 imsg;
	struct key_generated	 kg;
	struct key_public	 kp;
	struct node		 n;
	json_t			*j;
	char			 err[256];
	uint32_t		 id;
	int			 sv[2], fd, good;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	fake_keyd(sv, &kib);
	/* a state directory that is gone: no file can be made in it,
	 * whoever we are (root passes permission checks) */
	good = env->statedir;
	ATF_REQUIRE(mkdir("gone", 0700) == 0);
	ATF_REQUIRE((env->statedir = open("gone", O_RDONLY | O_DIRECTORY)) !=
	    -1);
	ATF_REQUIRE(rmdir("gone") == 0);

	fd = park("POST", "/api/v1/node/init", NULL);
	pipe_wait(&kib, &imsg);
	ATF_REQUIRE(imsg_get_data(&imsg, &id, sizeof(id)) == 0);
	imsg_free(&imsg);
	memset(&kg, 0, sizeof(kg));
	kg.request = id;
	kg.status = KEYGEN_OK;
	memcpy(kg.pk, test_pk, NODE_PK_LEN);
	ATF_REQUIRE(api_key_generated(&kg) == 0);
	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_EQ(r->status, 500);
	j = json_loadb(r->body, r->bodylen, 0, NULL);
	check_error(j, 1000, "^node key made \\(id " TEST_ID "\\), but cannot "
	    "write node.json: No such file or directory$");

	/* keyd's next word on its key makes node.json */
	close(env->statedir);
	env->statedir = good;
	memset(&kp, 0, sizeof(kp));
	kp.has_key = 1;
	memcpy(kp.pk, test_pk, NODE_PK_LEN);
	ATF_REQUIRE(api_key_public(&kp) == 0);
	ATF_REQUIRE_EQ_MSG(node_load(env->statedir, &n, err, sizeof(err)), 0,
	    "%s", err);
	ATF_CHECK_STREQ(n.id, TEST_ID);
	ATF_CHECK_STREQ(n.name, "testhost");
	free(r);
}

ATF_TC_WITHOUT_HEAD(status_reports_processes_and_listeners);
ATF_TC_BODY(status_reports_processes_and_listeners, tc)
{
	struct resp		*r;
	struct imsgbuf		 pib;
	struct imsg		 imsg;
	struct proc_status	 ps;
	struct status_end	 se;
	json_t			*j, *p;
	uint32_t		 id, i;
	int			 sv[2], fd;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0);
	imsgev_init(&env->iev_parent, sv[0], PROC_PARENT, test_iev_handler,
	    NULL);
	ATF_REQUIRE(imsgbuf_init(&pib, sv[1]) == 0);

	fd = park("GET", "/api/v1/status", NULL);
	pipe_wait(&pib, &imsg);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_STATUS_REQ);
	ATF_REQUIRE(imsg_get_data(&imsg, &id, sizeof(id)) == 0);
	imsg_free(&imsg);

	for (i = 0; i < PROC_MAX; i++) {
		memset(&ps, 0, sizeof(ps));
		ps.request = id;
		ps.proc = i;
		ps.pid = i == PROC_NETD ? 0 : 1000 + i;
		ps.uid = i == PROC_PARENT ? 0 : 100 + i;
		ps.started = time(NULL) - 10;
		ps.restarts = i == PROC_NETD ? 3 : 0;
		ATF_REQUIRE(api_status_check(&ps) == NULL);
		ATF_REQUIRE(api_status(&ps) == 0);
	}
	/* a fifth is more than there are processes */
	ATF_CHECK_EQ(api_status(&ps), -1);
	memset(&se, 0, sizeof(se));
	se.request = id;
	se.nlisten = 2;
	se.port[0] = 9091;
	strlcpy(se.addr[0], "0.0.0.0", sizeof(se.addr[0]));
	se.port[1] = 40000;
	strlcpy(se.addr[1], "::1", sizeof(se.addr[1]));
	strlcpy(se.socket, "/run/lethd/lethd.sock", sizeof(se.socket));
	ATF_REQUIRE(api_status_end_check(&se) == NULL);
	api_status_end(&se);

	cli_response(fd, r, 0);
	close(fd);
	ATF_CHECK_EQ(r->status, 200);
	ATF_REQUIRE((j = json_loadb(r->body, r->bodylen, 0, NULL)) != NULL);
	ATF_CHECK(json_is_null(json_object_get(j, "node")));
	ATF_CHECK_STREQ(json_string_value(json_object_get(j, "socket")),
	    "/run/lethd/lethd.sock");
	p = json_object_get(j, "processes");
	ATF_REQUIRE_EQ(json_array_size(p), PROC_MAX);
	ATF_CHECK_STREQ(json_string_value(json_object_get(json_array_get(p,
	    0), "name")), "lethd");
	ATF_CHECK_STREQ(json_string_value(json_object_get(json_array_get(p,
	    PROC_MINERD), "name")), "minerd");
	ATF_CHECK_EQ(json_integer_value(json_object_get(json_array_get(p,
	    PROC_KEYD), "pid")), 1000 + PROC_KEYD);
	ATF_CHECK_EQ(json_integer_value(json_object_get(json_array_get(p,
	    PROC_KEYD), "uid")), 100 + PROC_KEYD);
	ATF_CHECK(json_integer_value(json_object_get(json_array_get(p,
	    PROC_KEYD), "uptime")) >= 10);
	ATF_CHECK_EQ(json_integer_value(json_object_get(json_array_get(p,
	    PROC_NETD), "uptime")), 0);
	ATF_CHECK_EQ(json_integer_value(json_object_get(json_array_get(p,
	    PROC_NETD), "restarts")), 3);
	p = json_object_get(j, "listen");
	ATF_REQUIRE_EQ(json_array_size(p), 2);
	ATF_CHECK_STREQ(json_string_value(json_object_get(json_array_get(p,
	    1), "address")), "::1");
	ATF_CHECK_EQ(json_integer_value(json_object_get(json_array_get(p,
	    1), "port")), 40000);
	json_decref(j);

	/* late answers for a request that is gone are ignored */
	ATF_CHECK_EQ(api_status(&ps), 0);
	api_status_end(&se);
	free(r);
}

ATF_TC_WITHOUT_HEAD(parked_request_survives_its_client_leaving);
ATF_TC_BODY(parked_request_survives_its_client_leaving, tc)
{
	struct resp		*r;
	struct imsgbuf		 kib;
	struct imsg		 imsg;
	struct key_generated	 kg;
	uint32_t		 id;
	int			 sv[2], fd;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	fake_keyd(sv, &kib);
	fd = park("POST", "/api/v1/node/init", NULL);
	pipe_wait(&kib, &imsg);
	ATF_REQUIRE(imsg_get_data(&imsg, &id, sizeof(id)) == 0);
	imsg_free(&imsg);
	close(fd);
	loop_for(100);

	/* the answer comes after the client left: no crash, no leak of
	 * the connection slot */
	memset(&kg, 0, sizeof(kg));
	kg.request = id;
	kg.status = KEYGEN_FAILED;
	ATF_REQUIRE(api_key_generated(&kg) == 0);
	loop_for(100);
	ATF_CHECK_EQ(api_npending(), 0);
	ATF_CHECK_EQ(control_nconn(), 0);

	/* and the server still serves */
	json_decref(request("GET", "/api/v1/health", NULL, r));
	ATF_CHECK_EQ(r->status, 200);
	free(r);
}

ATF_TC_WITHOUT_HEAD(pending_requests_are_bounded);
ATF_TC_BODY(pending_requests_are_bounded, tc)
{
	struct resp	*r;
	json_t		*j;
	int		 sv[2], fds[API_PENDING_MAX], i;
	struct imsgbuf	 kib;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(API_PENDING_MAX + 4);
	fake_keyd(sv, &kib);
	for (i = 0; i < API_PENDING_MAX; i++)
		fds[i] = park("POST", "/api/v1/node/init", NULL);
	loop_for(200);
	ATF_CHECK_EQ(api_npending(), API_PENDING_MAX);
	j = request("POST", "/api/v1/node/init", NULL, r);
	ATF_CHECK_EQ(r->status, 503);
	check_error(j, 1000, "too many requests in flight");
	api_keyd_lost();
	for (i = 0; i < API_PENDING_MAX; i++) {
		cli_response(fds[i], r, 0);
		ATF_CHECK_EQ(r->status, 503);
		close(fds[i]);
	}
	free(r);
}

/*
 * The caller check.  As root: a child with another uid connects, in
 * or out of the control group.  Otherwise: the test's own uid, with or
 * without its gid as the control group.
 */
static int
caller_status(uid_t uid, gid_t gid, gid_t group)
{
	struct resp	*r;
	pid_t		 pid;
	int		 st, fd, pfd[2];
	long long	 end;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	if (getuid() != 0) {
		json_decref(request("GET", "/api/v1/health", NULL, r));
		st = r->status;
		free(r);
		return (st);
	}
	ATF_REQUIRE(pipe(pfd) == 0);
	if ((pid = fork()) == 0) {
		char	 buf[512];
		ssize_t	 n;
		size_t	 len = 0;
		int	 status = 0;

		close(pfd[0]);
		if (setgroups(1, &group) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(2);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&test_sun,
		    test_sunlen) == -1)
			_exit(3);
		(void)write(fd, "GET /api/v1/health HTTP/1.0\r\n\r\n", 31);
		while (len < sizeof(buf) - 1 &&
		    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
		buf[len] = '\0';
		(void)sscanf(buf, "HTTP/1.%*d %d", &status);
		(void)write(pfd[1], &status, sizeof(status));
		_exit(0);
	}
	ATF_REQUIRE(pid != -1);
	close(pfd[1]);
	end = now_ms() + WAIT_MS;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			atf_tc_fail("caller child hangs");
		}
		loop_once();
		usleep(1000);
	}
	ATF_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child failed: %d", st);
	ATF_REQUIRE(read(pfd[0], &st, sizeof(st)) == sizeof(st));
	close(pfd[0]);
	free(r);
	return (st);
}

ATF_TC_WITHOUT_HEAD(caller_outside_the_group_is_refused);
ATF_TC_BODY(caller_outside_the_group_is_refused, tc)
{
	struct resp	*r;
	json_t		*j;

	ATF_REQUIRE((r = malloc(sizeof(*r))) != NULL);
	setup(8);
	/* in the group as a supplementary one (root: SO_PEERGROUPS), or
	 * as the primary group */
	ATF_CHECK_EQ(caller_status(NOBODY, NOBODY, CTL_TEST_GID), 200);
	if (getuid() == 0) {
		ATF_CHECK_EQ(caller_status(NOBODY, CTL_TEST_GID, NOBODY), 200);
		/* root is always let in */
		env->conf.ctl_gid = OTHER_GID;
		json_decref(request("GET", "/api/v1/health", NULL, r));
		ATF_CHECK_EQ(r->status, 200);
	}
	/* not in the group */
	env->conf.ctl_gid = OTHER_GID;
	ATF_CHECK_EQ(caller_status(NOBODY, NOBODY, NOBODY), 403);
	if (getuid() != 0) {
		j = request("GET", "/api/v1/node/info", NULL, r);
		ATF_CHECK_EQ(r->status, 403);
		check_error(j, 1002, "^permission denied$");
	}
	free(r);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, good_node_json_parses);
	ATF_TP_ADD_TC(tp, node_id_is_hex_of_first_16_bytes);
	ATF_TP_ADD_TC(tp, unknown_keys_are_ignored);
	ATF_TP_ADD_TC(tp, wrong_version_is_refused);
	ATF_TP_ADD_TC(tp, newer_version_is_refused_clearly);
	ATF_TP_ADD_TC(tp, bad_id_is_refused);
	ATF_TP_ADD_TC(tp, id_not_matching_key_is_refused);
	ATF_TP_ADD_TC(tp, bad_base64_is_refused);
	ATF_TP_ADD_TC(tp, long_name_is_refused);
	ATF_TP_ADD_TC(tp, control_char_in_name_is_refused);
	ATF_TP_ADD_TC(tp, bad_role_is_refused);
	ATF_TP_ADD_TC(tp, bad_created_at_is_refused);
	ATF_TP_ADD_TC(tp, duplicate_keys_are_refused);
	ATF_TP_ADD_TC(tp, not_an_object_is_refused);
	ATF_TP_ADD_TC(tp, truncated_json_is_refused);
	ATF_TP_ADD_TC(tp, format_then_parse_round_trips);
	ATF_TP_ADD_TC(tp, save_then_load_is_atomic_and_private);
	ATF_TP_ADD_TC(tp, error_bodies_escape_everything);
	ATF_TP_ADD_TC(tp, request_bodies_are_strict);
	ATF_TP_ADD_TC(tp, status_structs_are_checked);
	ATF_TP_ADD_TC(tp, evhttp_serves_through_the_filter_bufferevent);
	ATF_TP_ADD_TC(tp, connection_cap_holds_callers_in_the_backlog);
	ATF_TP_ADD_TC(tp, idle_and_slow_callers_are_timed_out);
	ATF_TP_ADD_TC(tp, routes_answer_json_errors);
	ATF_TP_ADD_TC(tp, node_init_asks_keyd_and_writes_node_json);
	ATF_TP_ADD_TC(tp, keyd_key_is_the_authority_for_node_json);
	ATF_TP_ADD_TC(tp, node_json_write_failure_answers_500_keeps_the_key);
	ATF_TP_ADD_TC(tp, status_reports_processes_and_listeners);
	ATF_TP_ADD_TC(tp, parked_request_survives_its_client_leaving);
	ATF_TP_ADD_TC(tp, pending_requests_are_bounded);
	ATF_TP_ADD_TC(tp, caller_outside_the_group_is_refused);
	return (atf_no_error());
}
