/*
 * lethctl profile ...: the profiles over /api/v1/profiles
 * (minerd/api_miner.c).
 *
 *	profile list
 *	profile show ID [--secrets]
 *	profile add ID [flags] | profile add [ID] --file FILE.json
 *	profile edit ID [flags] | profile edit ID --file FILE.json
 *	profile rm ID
 *
 * The flags name the fields: --type --binary --pool --user --pass
 * --algo --threads --devices --arg (repeatable; --clear-args) --autostart
 * yes|no --floor H/S (k, M, G suffixes) --regex RE.  "--pass -" reads
 * the password from the first line of standard input, so that it
 * appears on no command line.  The daemon checks every field and names
 * each bad one; lethctl checks only what it needs to build the body.
 *
 * edit reads the profile (without its password), changes the fields
 * given, and writes it back: the daemon keeps the password unless
 * --pass is given.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* We use no strnvis(3); pick one to quiet libbsd's warning. */
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS
#endif
#include <vis.h>

#include <jansson.h>

#include "lethd.h"
#include "lethctl.h"
#include "lethctl_miner.h"

/* Raw bytes of a bad argument we echo in an error. */
#define PROF_ARG_ECHO		64
/* "/api/v1/profiles/<id>?secrets=1" */
#define PROF_PATH_MAX		128
/* A password read from standard input: the daemon takes 255 bytes. */
#define PROF_PASS_MAX		1024
/* Extra arguments on one command line: above the daemon's 16, which
 * names the limit. */
#define PROF_ARGS_MAX		64
/* Bytes of a profile file: what the daemon takes in one request. */
#define PROF_FILE_MAX		CTL_IMPORT_MAX

struct prof_flags {
	json_t		*set;		/* fields to set */
	const char	*file;
	int		 clear_args;
};

static const char *prof_vis(char *, size_t, const char *);
static void	prof_id_arg(const char *);
static void	prof_set(json_t *, const char *, json_t *);
static int	prof_flags(int, char **, int, struct prof_flags *,
		    const char **);
static double	prof_rate(const char *);
static json_t	*prof_file(const char *);
static char	*prof_dumps(json_t *);
static void	prof_print(struct ctl *, const struct resp *);
static char	*prof_read_pass(void);

static const char *
prof_vis(char *buf, size_t len, const char *s)
{
	(void)strnvisx(buf, len, s, strnlen(s, PROF_ARG_ECHO),
	    RESP_VIS_FLAGS);
	return (buf);
}

/* An id goes in a path: only the characters the daemon allows. */
static void
prof_id_arg(const char *id)
{
	char	 vis[4 * PROF_ARG_ECHO + 1];
	size_t	 len = strlen(id);

	if (len == 0 || len > PROFILE_ID_MAX || strspn(id,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._-") != len || id[0] == '.' || id[0] == '_' || id[0] == '-')
		errx(1, "bad profile id %s: want 1 to %d letters, digits, "
		    "\".\", \"_\" or \"-\", a letter or digit first",
		    prof_vis(vis, sizeof(vis), id), PROFILE_ID_MAX);
}

static void
prof_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		errx(1, "%s is not valid UTF-8", key);
	if (json_object_set_new(o, key, v) == -1)
		errx(1, "json_object_set_new failed");
}

/* "1500", "2.5k", "1M", "3G": H/s. */
static double
prof_rate(const char *s)
{
	char	 vis[4 * PROF_ARG_ECHO + 1], *end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno != 0)
		goto bad;
	switch (*end) {
	case 'k':
	case 'K':
		d *= 1e3;
		end++;
		break;
	case 'M':
		d *= 1e6;
		end++;
		break;
	case 'G':
		d *= 1e9;
		end++;
		break;
	}
	if (*end != '\0' && strcmp(end, "H/s") != 0)
		goto bad;
	if (!isfinite(d) || d < 0)
		goto bad;
	return (d);
 bad:
	errx(1, "bad floor %s: want H/s, such as 1500, 2.5k or 1M",
	    prof_vis(vis, sizeof(vis), s));
}

/* One line of standard input, without its newline. */
static char *
prof_read_pass(void)
{
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	if ((n = getline(&line, &size, stdin)) == -1)
		errx(1, "--pass -: no password on standard input");
	if (n > PROF_PASS_MAX)
		errx(1, "--pass -: longer than %d bytes", PROF_PASS_MAX);
	line[strcspn(line, "\r\n")] = '\0';
	return (line);
}

/*
 * The flags from argv[start] on into f.  *id gets a leading word (the
 * id) when id is not NULL.  -1: usage.
 */
static int
prof_flags(int argc, char **argv, int start, struct prof_flags *f,
    const char **id)
{
	static const char *const strs[] = {
		"type", "binary", "pool", "user", "algo", "devices", "regex"
	};
	json_t		*args = NULL;
	const char	*v;
	char		 opt[32], vis[4 * PROF_ARG_ECHO + 1], *pass;
	const char	*errstr;
	long long	 n;
	size_t		 k;
	int		 i, found;

	memset(f, 0, sizeof(*f));
	if ((f->set = json_object()) == NULL)
		errx(1, "json_object failed");
	for (i = start; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (id == NULL || *id != NULL)
				return (-1);
			*id = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--clear-args") == 0) {
			f->clear_args = 1;
			continue;
		}
		if (strchr(argv[i], '=') == NULL && i + 1 >= argc)
			return (-1);	/* a flag without its value */
		found = 0;
		for (k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
			(void)snprintf(opt, sizeof(opt), "--%s", strs[k]);
			if ((v = ctl_opt_value(opt, &i, argc, argv)) != NULL) {
				prof_set(f->set, strs[k], json_string(v));
				found = 1;
				break;
			}
		}
		if (found)
			continue;
		if ((v = ctl_opt_value("--pass", &i, argc, argv)) != NULL) {
			if (strcmp(v, "-") == 0) {
				pass = prof_read_pass();
				prof_set(f->set, "pass", json_string(pass));
				explicit_bzero(pass, strlen(pass));
				free(pass);
			} else
				prof_set(f->set, "pass", json_string(v));
		} else if ((v = ctl_opt_value("--threads", &i, argc, argv)) !=
		    NULL) {
			n = strtonum(v, 0, INT32_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "bad threads %s: want a number, 0 for "
				    "the miner's choice",
				    prof_vis(vis, sizeof(vis), v));
			prof_set(f->set, "threads", json_integer(n));
		} else if ((v = ctl_opt_value("--autostart", &i, argc,
		    argv)) != NULL) {
			if (strcmp(v, "yes") == 0)
				prof_set(f->set, "autostart", json_true());
			else if (strcmp(v, "no") == 0)
				prof_set(f->set, "autostart", json_false());
			else
				errx(1, "bad autostart %s: want yes or no",
				    prof_vis(vis, sizeof(vis), v));
		} else if ((v = ctl_opt_value("--floor", &i, argc, argv)) !=
		    NULL)
			prof_set(f->set, "floor", json_real(prof_rate(v)));
		else if ((v = ctl_opt_value("--arg", &i, argc, argv)) !=
		    NULL) {
			if (args == NULL && (args = json_array()) == NULL)
				errx(1, "json_array failed");
			if (json_array_size(args) >= PROF_ARGS_MAX)
				errx(1, "more than %d --arg", PROF_ARGS_MAX);
			if (json_array_append_new(args, json_string(v)) == -1)
				errx(1, "--arg %s is not valid UTF-8",
				    prof_vis(vis, sizeof(vis), v));
		} else if ((v = ctl_opt_value("--file", &i, argc, argv)) !=
		    NULL)
			f->file = v;
		else
			return (-1);
	}
	if (args != NULL)
		prof_set(f->set, "extra", args);
	else if (f->clear_args)
		prof_set(f->set, "extra", json_array());
	if (f->file != NULL && (json_object_size(f->set) > 0 ||
	    f->clear_args))
		errx(1, "--file or flags, not both");
	return (0);
}

/* A JSON object from a file, as the daemon takes it. */
static json_t *
prof_file(const char *path)
{
	json_error_t	 jerr;
	json_t		*o;
	char		 vis[4 * PROF_ARG_ECHO + 1], text[4 * 160 + 1];
	struct stat	 st;
	int		 fd;

	prof_vis(vis, sizeof(vis), path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", vis);
	if (fstat(fd, &st) == -1)
		err(1, "%s", vis);
	if (!S_ISREG(st.st_mode))
		errx(1, "%s: not a regular file", vis);
	if (st.st_size > PROF_FILE_MAX)
		errx(1, "%s: larger than %d bytes", vis, PROF_FILE_MAX);
	o = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	(void)close(fd);
	if (o == NULL) {
		(void)strnvisx(text, sizeof(text), jerr.text,
		    strnlen(jerr.text, sizeof(jerr.text)), RESP_VIS_FLAGS);
		errx(1, "%s:%d: %s", vis, jerr.line, text);
	}
	if (!json_is_object(o))
		errx(1, "%s: not a JSON object", vis);
	return (o);
}

static char *
prof_dumps(json_t *o)
{
	char	*body;

	if ((body = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps failed");
	return (body);
}

/* One profile in the answer: -j raw, else a key-value list. */
static void
prof_print(struct ctl *ctl, const struct resp *r)
{
	struct profile_info	*pi;
	char			 errbuf[RESP_ERR_MAX];

	if (ctl->json) {
		ctl_print_json(r);
		return;
	}
	if ((pi = malloc(sizeof(*pi))) == NULL)
		err(1, NULL);
	if (resp_profile(r->root, pi, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	output_profile(stdout, pi);
	free(pi);
}

int
cmd_profile_list(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	const json_t	*arr;
	char		 errbuf[RESP_ERR_MAX];

	if (argc != 0)
		return (-1);
	ctl_call(ctl, "GET", "/api/v1/profiles", NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		if (resp_profile_list(r.root, &arr, errbuf, sizeof(errbuf)) ==
		    -1)
			errx(1, "%s", errbuf);
		output_profile_list(stdout, arr);
	}
	resp_free(&r);
	return (0);
}

int
cmd_profile_show(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 path[PROF_PATH_MAX];
	int		 secrets = 0;

	if (argc == 2 && strcmp(argv[1], "--secrets") == 0)
		secrets = 1;
	else if (argc != 1)
		return (-1);
	prof_id_arg(argv[0]);
	(void)snprintf(path, sizeof(path), "/api/v1/profiles/%s%s", argv[0],
	    secrets ? "?secrets=1" : "");
	ctl_call(ctl, "GET", path, NULL, &r);
	prof_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_profile_add(struct ctl *ctl, int argc, char **argv)
{
	struct prof_flags	 f;
	struct resp		 r;
	json_t			*o, *v;
	const char		*id = NULL;
	char			*body, path[PROF_PATH_MAX];
	char			 vis[4 * PROF_ARG_ECHO + 1];

	if (prof_flags(argc, argv, 0, &f, &id) == -1)
		return (-1);
	if (f.file != NULL) {
		json_decref(f.set);
		o = prof_file(f.file);
		if (id != NULL) {
			prof_id_arg(id);
			v = json_object_get(o, "id");
			if (v != NULL && (!json_is_string(v) ||
			    strcmp(json_string_value(v), id) != 0))
				errx(1, "%s: its id is not %s",
				    prof_vis(vis, sizeof(vis), f.file), id);
			prof_set(o, "id", json_string(id));
		}
	} else {
		if (id == NULL)
			return (-1);
		prof_id_arg(id);
		o = f.set;
		prof_set(o, "id", json_string(id));
	}
	body = prof_dumps(o);
	(void)snprintf(path, sizeof(path), "/api/v1/profiles");
	ctl_call(ctl, "POST", path, body, &r);
	explicit_bzero(body, strlen(body));
	free(body);
	json_decref(o);
	prof_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_profile_edit(struct ctl *ctl, int argc, char **argv)
{
	struct prof_flags	 f;
	struct resp		 r;
	json_t			*o, *v;
	const char		*key;
	char			*body, path[PROF_PATH_MAX];
	char			 vis[4 * PROF_ARG_ECHO + 1];

	if (argc < 1 || argv[0][0] == '-')
		return (-1);
	prof_id_arg(argv[0]);
	if (prof_flags(argc, argv, 1, &f, NULL) == -1)
		return (-1);
	(void)snprintf(path, sizeof(path), "/api/v1/profiles/%s", argv[0]);
	if (f.file != NULL) {
		json_decref(f.set);
		o = prof_file(f.file);
		v = json_object_get(o, "id");
		if (v != NULL && (!json_is_string(v) ||
		    strcmp(json_string_value(v), argv[0]) != 0))
			errx(1, "%s: its id is not %s",
			    prof_vis(vis, sizeof(vis), f.file), argv[0]);
	} else {
		if (json_object_size(f.set) == 0)
			errx(1, "nothing to change: give a flag or --file");
		/* what is there, without the password, changed */
		ctl_call(ctl, "GET", path, NULL, &r);
		if ((o = json_deep_copy(r.root)) == NULL)
			errx(1, "json_deep_copy failed");
		resp_free(&r);
		(void)json_object_del(o, "passSet");
		(void)json_object_del(o, "pass");
		json_object_foreach(f.set, key, v)
			prof_set(o, key, json_incref(v));
		json_decref(f.set);
	}
	body = prof_dumps(o);
	ctl_call(ctl, "PUT", path, body, &r);
	explicit_bzero(body, strlen(body));
	free(body);
	json_decref(o);
	prof_print(ctl, &r);
	resp_free(&r);
	return (0);
}

int
cmd_profile_rm(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	char		 path[PROF_PATH_MAX];

	if (argc != 1)
		return (-1);
	prof_id_arg(argv[0]);
	(void)snprintf(path, sizeof(path), "/api/v1/profiles/%s", argv[0]);
	ctl_call(ctl, "DELETE", path, NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	resp_free(&r);
	return (0);
}
