/*
 * lethctl node pair and lethctl peer ...: the peer registry over
 * /api/v1/peers (minerd/api_peer.c).
 *
 * Arguments are checked here only as far as needed to build the
 * request (an id is 32 hex digits, a role one of two words); the
 * daemon checks every field and says what is wrong.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethd.h"
#include "lethctl.h"

/* Raw bytes of a bad argument we echo in an error. */
#define PEER_ARG_ECHO		64
#define PEER_TOKEN_PREFIX	"lethd1-"
#define PEER_PATH_MAX		128	/* "/api/v1/peers/allowlist/<id>" */

static const char *peer_vis(char *, size_t, const char *);
static void	peer_id_arg(const char *, char [NODE_ID_LEN + 1]);
static void	peer_role_arg(const char *);
static char	*peer_body(json_t *);
static void	peer_set(json_t *, const char *, const char *);
static void	peer_print(struct ctl *, const struct resp *);
static long long peer_now_ms(void);
static char	*peer_read_file(const char *, size_t *);

static const char *
peer_vis(char *buf, size_t len, const char *s)
{
	(void)strnvisx(buf, len, s, strnlen(s, PEER_ARG_ECHO),
	    RESP_VIS_FLAGS);
	return (buf);
}

/* An id as the daemon wants it: 32 hex digits, lowercased here. */
static void
peer_id_arg(const char *s, char id[NODE_ID_LEN + 1])
{
	char	 vis[4 * PEER_ARG_ECHO + 1];
	size_t	 i;

	for (i = 0; i < NODE_ID_LEN; i++) {
		if (!isxdigit((unsigned char)s[i]))
			break;
		id[i] = tolower((unsigned char)s[i]);
	}
	if (i != NODE_ID_LEN || s[i] != '\0')
		errx(1, "bad peer id %s: want %d hex digits",
		    peer_vis(vis, sizeof(vis), s), NODE_ID_LEN);
	id[NODE_ID_LEN] = '\0';
}

static void
peer_role_arg(const char *role)
{
	char	 vis[4 * PEER_ARG_ECHO + 1];

	if (strcmp(role, "operator") != 0 && strcmp(role, "observer") != 0)
		errx(1, "unknown role %s: use operator or observer",
		    peer_vis(vis, sizeof(vis), role));
}

static void
peer_set(json_t *o, const char *key, const char *value)
{
	json_t	*s;

	if ((s = json_string(value)) == NULL)
		errx(1, "%s is not valid UTF-8", key);
	if (json_object_set_new(o, key, s) == -1)
		errx(1, "json_object_set_new failed");
}

/* The compact text of o (whose reference this takes); free(3) it. */
static char *
peer_body(json_t *o)
{
	char	*body;

	if ((body = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps failed");
	json_decref(o);
	return (body);
}

static long long
peer_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		err(1, "clock_gettime");
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* One peer in the answer: -j raw, else a key-value list. */
static void
peer_print(struct ctl *ctl, const struct resp *r)
{
	struct peer_info	*pi;
	char			 errbuf[RESP_ERR_MAX];

	if (ctl->json) {
		ctl_print_json(r);
		return;
	}
	if ((pi = malloc(sizeof(*pi))) == NULL)
		err(1, NULL);
	if (resp_peer(r->root, pi, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	output_peer(stdout, pi, peer_now_ms());
	free(pi);
}

int
cmd_node_pair(struct ctl *ctl, int argc, char **argv)
{
	struct pair_info	 pa;
	struct resp		 r;
	json_t			*req;
	const char		*role = NULL, *address = NULL, *v;
	char			*body, errbuf[RESP_ERR_MAX];
	int			 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--role", &i, argc, argv)) != NULL)
			role = v;
		else if ((v = ctl_opt_value("--address", &i, argc, argv)) !=
		    NULL)
			address = v;
		else
			return (-1);
		if (*v == '\0')
			return (-1);
	}
	if (role != NULL)
		peer_role_arg(role);
	if ((req = json_object()) == NULL)
		errx(1, "json_object failed");
	if (role != NULL)
		peer_set(req, "role", role);
	if (address != NULL)
		peer_set(req, "address", address);
	body = peer_body(req);
	ctl_call(ctl, "POST", "/api/v1/node/pair", body, &r);
	free(body);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_pair(r.root, &pa, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_pair(stdout, &pa, peer_now_ms());
	}
	resp_free(&r);
	return (0);
}

/*
 * peer add TOKEN [--name N] | peer add HOST:PORT --key PUBKEY [--name N]
 */
int
cmd_peer_add(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	json_t		*req;
	const char	*target = NULL, *name = NULL, *key = NULL, *v;
	char		*body;
	int		 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--name", &i, argc, argv)) != NULL)
			name = v;
		else if ((v = ctl_opt_value("--key", &i, argc, argv)) !=
		    NULL)
			key = v;
		else if (argv[i][0] != '-' && target == NULL) {
			target = argv[i];
			continue;
		} else
			return (-1);
		if (*v == '\0')
			return (-1);
	}
	if (target == NULL)
		return (-1);
	if ((req = json_object()) == NULL)
		errx(1, "json_object failed");
	if (strncmp(target, PEER_TOKEN_PREFIX,
	    strlen(PEER_TOKEN_PREFIX)) == 0) {
		if (key != NULL)
			errx(1, "a pairing token carries the key: no --key");
		peer_set(req, "token", target);
	} else {
		if (key == NULL)
			errx(1, "no --key: give the worker's public key, or "
			    "a token from lethctl node pair");
		peer_set(req, "address", target);
		peer_set(req, "publicKey", key);
	}
	if (name != NULL)
		peer_set(req, "name", name);
	body = peer_body(req);
	ctl_call(ctl, "POST", "/api/v1/peers", body, &r);
	free(body);
	peer_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_peer_list(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	char		 errbuf[RESP_ERR_MAX];

	if (argc != 0)
		return (-1);
	ctl_call(ctl, "GET", "/api/v1/peers", NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_peer_list(r.root, "peers", &arr, errbuf,
		    sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_peer_list(stdout, arr, peer_now_ms());
	}
	resp_free(&r);
	return (0);
}

int
cmd_peer_show(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 id[NODE_ID_LEN + 1], path[PEER_PATH_MAX];

	if (argc != 1)
		return (-1);
	peer_id_arg(argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/peers/%s", id);
	ctl_call(ctl, "GET", path, NULL, &r);
	peer_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_peer_remove(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 id[NODE_ID_LEN + 1], path[PEER_PATH_MAX];

	if (argc != 1)
		return (-1);
	peer_id_arg(argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/peers/%s", id);
	ctl_call(ctl, "DELETE", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	resp_free(&r);
	return (0);
}

int
cmd_peer_ping(struct ctl *ctl, int argc, char **argv)
{
	struct ping_info	 pg;
	struct resp		 r;
	char			 id[NODE_ID_LEN + 1], path[PEER_PATH_MAX];
	char			 errbuf[RESP_ERR_MAX];

	if (argc != 1)
		return (-1);
	peer_id_arg(argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/peers/%s/ping", id);
	ctl_call(ctl, "POST", path, "{}", &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_ping(r.root, &pg, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_ping(stdout, &pg);
	}
	resp_free(&r);
	return (0);
}

/* peer allow PUBKEY --role operator|observer [--name N] */
int
cmd_peer_allow(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	json_t		*req;
	const char	*key = NULL, *role = NULL, *name = NULL, *v;
	char		*body;
	int		 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--role", &i, argc, argv)) != NULL)
			role = v;
		else if ((v = ctl_opt_value("--name", &i, argc, argv)) !=
		    NULL)
			name = v;
		else if (argv[i][0] != '-' && key == NULL) {
			key = argv[i];
			continue;
		} else
			return (-1);
		if (*v == '\0')
			return (-1);
	}
	if (key == NULL || role == NULL)
		return (-1);
	peer_role_arg(role);
	if ((req = json_object()) == NULL)
		errx(1, "json_object failed");
	peer_set(req, "publicKey", key);
	peer_set(req, "role", role);
	if (name != NULL)
		peer_set(req, "name", name);
	body = peer_body(req);
	ctl_call(ctl, "POST", "/api/v1/peers/allowlist", body, &r);
	free(body);
	peer_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_peer_deny(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 id[NODE_ID_LEN + 1], path[PEER_PATH_MAX];

	if (argc != 1)
		return (-1);
	peer_id_arg(argv[0], id);
	(void)snprintf(path, sizeof(path), "/api/v1/peers/allowlist/%s", id);
	ctl_call(ctl, "DELETE", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	resp_free(&r);
	return (0);
}

/* At most CTL_IMPORT_MAX bytes of a regular file, NUL-terminated. */
static char *
peer_read_file(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		 vis[4 * PEER_ARG_ECHO + 1], *buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	peer_vis(vis, sizeof(vis), path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", vis);
	if (fstat(fd, &st) == -1)
		err(1, "%s", vis);
	if (!S_ISREG(st.st_mode))
		errx(1, "%s: not a regular file", vis);
	if (st.st_size > CTL_IMPORT_MAX)
		errx(1, "%s: larger than %d bytes", vis, CTL_IMPORT_MAX);
	if ((buf = malloc(CTL_IMPORT_MAX + 1)) == NULL)
		err(1, NULL);
	for (;;) {
		n = read(fd, buf + len, CTL_IMPORT_MAX + 1 - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", vis);
		}
		if (n == 0)
			break;
		len += n;
		if (len > CTL_IMPORT_MAX)
			errx(1, "%s: larger than %d bytes", vis,
			    CTL_IMPORT_MAX);
	}
	(void)close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

/* peer import FILE: {"peers": [...]}, sent as one request. */
int
cmd_peer_import(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	json_error_t	 jerr;
	json_t		*doc;
	long long	 n;
	size_t		 len;
	char		*buf, *body, vis[4 * PEER_ARG_ECHO + 1];
	char		 text[sizeof(jerr.text) * 4 + 1];
	char		 errbuf[RESP_ERR_MAX];

	if (argc != 1)
		return (-1);
	buf = peer_read_file(argv[0], &len);
	peer_vis(vis, sizeof(vis), argv[0]);
	if ((doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		(void)strvisx(text, jerr.text, strnlen(jerr.text,
		    sizeof(jerr.text)), RESP_VIS_FLAGS);
		errx(1, "%s:%d: %s", vis, jerr.line, text);
	}
	free(buf);
	if (!json_is_object(doc) ||
	    !json_is_array(json_object_get(doc, "peers")))
		errx(1, "%s: want {\"peers\": [{\"address\", \"publicKey\", "
		    "\"name\"?, \"tags\"?}, ...]}", vis);
	body = peer_body(doc);
	ctl_call(ctl, "POST", "/api/v1/peers/import", body, &r);
	free(body);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_import(r.root, &n, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		printf("imported %lld peer%s\n", n, n == 1 ? "" : "s");
	}
	resp_free(&r);
	return (0);
}
