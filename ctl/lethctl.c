/*
 * lethctl: control a running lethd over its control socket.
 *
 * Commands live in one table: the words that name a command, its
 * handler and its arguments for usage().  A new command is one line
 * there and one function.
 */

#include <sys/types.h>

#include <err.h>
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

#define CTL_MAX_WORDS	3	/* words naming a command: "peer pin add" */

struct ctl_cmd {
	const char	*words[CTL_MAX_WORDS + 1];	/* NULL-terminated */
	int		(*handler)(struct ctl *, int, char **);
	const char	*args;		/* for usage; NULL if none */
};

static int	cmd_status(struct ctl *, int, char **);
static int	cmd_node_init(struct ctl *, int, char **);
static int	cmd_node_info(struct ctl *, int, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ { "status" },		cmd_status,	NULL },
	{ { "node", "init" },	cmd_node_init,
	    "[--name name] [--role controller | worker | dual]" },
	{ { "node", "info" },	cmd_node_info,	NULL },
	{ { "node", "pair" },	cmd_node_pair,
	    "[--role operator | observer] [--address host:port]" },
	{ { "peer", "add" },	cmd_peer_add,
	    "token [--name name] | host:port --key pubkey [--name name]" },
	{ { "peer", "list" },	cmd_peer_list,	NULL },
	{ { "peer", "show" },	cmd_peer_show,	"id" },
	{ { "peer", "remove" },	cmd_peer_remove, "id" },
	{ { "peer", "ping" },	cmd_peer_ping,	"id" },
	{ { "peer", "allow" },	cmd_peer_allow,
	    "pubkey --role operator | observer [--name name]" },
	{ { "peer", "deny" },	cmd_peer_deny,	"id" },
	{ { "peer", "import" },	cmd_peer_import, "file" },
	{ { "peer", "tag" },	cmd_peer_tag,	"id tag ..." },
	{ { "peer", "untag" },	cmd_peer_untag,	"id tag ..." },
	{ { "peer", "best" },	cmd_peer_best,	"[-k count]" },
	{ { "profile", "list" }, cmd_profile_list, NULL },
	{ { "profile", "show" }, cmd_profile_show, "id [--secrets]" },
	{ { "profile", "add" },	cmd_profile_add,
	    "id --type type [field flags] | [id] --file file.json" },
	{ { "profile", "edit" }, cmd_profile_edit,
	    "id [field flags] | id --file file.json" },
	{ { "profile", "rm" },	cmd_profile_rm,	"id" },
	{ { "miner", "start" },	cmd_miner_start, "profile [--name name]" },
	{ { "miner", "stop" },	cmd_miner_stop,	"name" },
	{ { "miner", "restart" }, cmd_miner_restart, "name" },
	{ { "miner", "list" },	cmd_miner_list,	NULL },
	{ { "miner", "stats" },	cmd_miner_stats, "name" },
	{ { "miner", "logs" },	cmd_miner_logs,	"name [-n lines] [-f]" },
	{ { "miner", "history" }, cmd_miner_history,
	    "name [--since T] [--until T]" },
	{ { "remote", "status" }, cmd_remote_status,
	    "[peer ... | --tag tag | --all]" },
	{ { "remote", "start" }, cmd_remote_start,
	    "peer | --tag tag profile [-n name]" },
	{ { "remote", "stop" },	cmd_remote_stop, "peer | --tag tag miner" },
	{ { "remote", "restart" }, cmd_remote_restart,
	    "peer | --tag tag miner" },
	{ { "remote", "logs" },	cmd_remote_logs, "peer miner [-n lines]" },
	{ { "remote", "profiles" }, cmd_remote_profiles, "peer" },
	{ { "remote", "ping" },	cmd_remote_ping, "peer" },
};

static void	usage(void) __attribute__((__noreturn__));
static void	usage_cmd(const struct ctl_cmd *)
		    __attribute__((__noreturn__));
static void	cmd_print_name(FILE *, const struct ctl_cmd *);
static const struct ctl_cmd *
		cmd_lookup(int, char **, int *);
static void	ctl_print_node_info(const struct resp *);

static void
cmd_print_name(FILE *fp, const struct ctl_cmd *cmd)
{
	int	 i;

	for (i = 0; i < CTL_MAX_WORDS && cmd->words[i] != NULL; i++)
		fprintf(fp, "%s%s", i > 0 ? " " : "", cmd->words[i]);
	if (cmd->args != NULL)
		fprintf(fp, " %s", cmd->args);
	fputc('\n', fp);
}

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: %s [-j] [-s socket] command [args]\n",
	    getprogname());
	fprintf(stderr, "commands:\n");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		fprintf(stderr, "\t");
		cmd_print_name(stderr, &ctl_cmds[i]);
	}
	exit(1);
}

static void
usage_cmd(const struct ctl_cmd *cmd)
{
	fprintf(stderr, "usage: %s [-j] [-s socket] ", getprogname());
	cmd_print_name(stderr, cmd);
	exit(1);
}

/*
 * The command whose words start argv, the longest if several do; *nw is
 * set to its number of words.
 */
static const struct ctl_cmd *
cmd_lookup(int argc, char **argv, int *nw)
{
	const struct ctl_cmd	*cmd, *best = NULL;
	size_t			 i;
	int			 n, bestn = 0;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		cmd = &ctl_cmds[i];
		for (n = 0; n < CTL_MAX_WORDS && cmd->words[n] != NULL; n++)
			if (n >= argc || strcmp(argv[n], cmd->words[n]) != 0)
				break;
		if (n > 0 && (n == CTL_MAX_WORDS || cmd->words[n] == NULL) &&
		    n > bestn) {
			best = cmd;
			bestn = n;
		}
	}
	*nw = bestn;
	return (best);
}

/*
 * Send one request and check the answer: returns only with r->root a
 * JSON object from a 2xx answer; anything else exits with the daemon's
 * message, escaped.
 */
void
ctl_call(struct ctl *ctl, const char *method, const char *path,
    const char *body, struct resp *r)
{
	struct client_reply	 reply;
	char			 errbuf[RESP_ERR_MAX];

	client_request(ctl->socket, method, path, body, &reply);
	if (resp_parse(reply.body, reply.len, reply.status, r, errbuf,
	    sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	client_reply_free(&reply);
}

void
ctl_print_json(const struct resp *r)
{
	if (output_json(stdout, r->root) == -1)
		err(1, "stdout");
}

static void
ctl_print_node_info(const struct resp *r)
{
	struct node_info	 ni;
	char			 errbuf[RESP_ERR_MAX];

	if (resp_node_info(r->root, &ni, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	output_node_info(stdout, &ni);
}

static int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct resp		 r;
	struct status_info	*st;
	char			 errbuf[RESP_ERR_MAX];

	if (argc != 0)
		return (-1);
	ctl_call(ctl, "GET", "/api/v1/status", NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else {
		/* Tens of kilobytes: not on the stack. */
		if ((st = malloc(sizeof(*st))) == NULL)
			err(1, NULL);
		if (resp_status(r.root, st, errbuf, sizeof(errbuf)) == -1)
			errx(1, "%s", errbuf);
		output_status(stdout, st);
		free(st);
	}
	resp_free(&r);
	return (0);
}

/*
 * The value of option opt ("--name") at argv[*i], as "--name value" or
 * "--name=value"; NULL if argv[*i] is not that option.  Exits with usage
 * if the value is missing.
 */
const char *
ctl_opt_value(const char *opt, int *i, int argc, char **argv)
{
	size_t	 len = strlen(opt);

	if (strncmp(argv[*i], opt, len) != 0)
		return (NULL);
	if (argv[*i][len] == '=')
		return (argv[*i] + len + 1);
	if (argv[*i][len] != '\0')
		return (NULL);
	if (*i + 1 >= argc)
		return ("");	/* an empty value: refused by the caller */
	return (argv[++*i]);
}

static int
cmd_node_init(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;
	json_t		*req;
	const char	*name = NULL, *role = NULL, *v;
	char		*body, vrole[4 * 16 + 1];
	int		 i;

	for (i = 0; i < argc; i++) {
		if ((v = ctl_opt_value("--name", &i, argc, argv)) != NULL)
			name = v;
		else if ((v = ctl_opt_value("--role", &i, argc, argv)) !=
		    NULL)
			role = v;
		else
			return (-1);
		if (*v == '\0')
			return (-1);
	}
	if (name != NULL && strlen(name) > NODE_NAME_MAX)
		errx(1, "name too long: at most %d bytes", NODE_NAME_MAX);
	if (role != NULL && strcmp(role, "controller") != 0 &&
	    strcmp(role, "worker") != 0 && strcmp(role, "dual") != 0) {
		(void)strnvisx(vrole, sizeof(vrole), role, strnlen(role, 16),
		    RESP_VIS_FLAGS);
		errx(1, "unknown role %s: use controller, worker or dual",
		    vrole);
	}

	if ((req = json_object()) == NULL)
		errx(1, "json_object failed");
	if (name != NULL && json_object_set_new(req, "name",
	    json_string(name)) == -1)
		errx(1, "name is not valid UTF-8");
	if (role != NULL && json_object_set_new(req, "role",
	    json_string(role)) == -1)
		errx(1, "json_object_set_new failed");
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps failed");
	json_decref(req);

	ctl_call(ctl, "POST", "/api/v1/node/init", body, &r);
	free(body);
	if (ctl->json)
		ctl_print_json(&r);
	else
		ctl_print_node_info(&r);
	resp_free(&r);
	return (0);
}

static int
cmd_node_info(struct ctl *ctl, int argc, char **argv)
{
	struct resp	 r;

	if (argc != 0)
		return (-1);
	ctl_call(ctl, "GET", "/api/v1/node/info", NULL, &r);
	if (ctl->json)
		ctl_print_json(&r);
	else
		ctl_print_node_info(&r);
	resp_free(&r);
	return (0);
}

int
main(int argc, char *argv[])
{
	const struct ctl_cmd	*cmd;
	struct ctl		 ctl;
	int			 ch, nw;

	memset(&ctl, 0, sizeof(ctl));
	ctl.socket = LETHD_SOCKET;

	/*
	 * Stop at the command (glibc permutes argv unless the option
	 * string starts with '+'): its own --options are the command's.
	 */
	while ((ch = getopt(argc, argv, "+js:")) != -1) {
		switch (ch) {
		case 'j':
			ctl.json = 1;
			break;
		case 's':
			ctl.socket = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((cmd = cmd_lookup(argc, argv, &nw)) == NULL)
		usage();

	client_init();
	if (cmd->handler(&ctl, argc - nw, argv + nw) == -1)
		usage_cmd(cmd);

	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return (0);
}
