/*
 * lethd.conf(5): the grammar and its lexer.
 *
 * The shape is that of OpenBSD's parse.y files: a yacc grammar over a
 * hand-written lexer, a sorted keyword table, and macros (`name = value`,
 * used as `$name`).  What differs on purpose: every bit of parser state
 * lives in one struct parse that conf_parse_buffer() allocates per call,
 * so that a fuzzer may call it a million times in a row; the strings of
 * tokens belong to that struct and are freed together at the end, so
 * yacc's error recovery, which throws tokens away, cannot leak them; and
 * the parser reads a buffer, never a file, a resolver or the user
 * database.
 */

%{
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS	/* libbsd: OpenBSD's strnvis(3) */
#endif
#include <vis.h>

#include "conf.h"

/* Statements that may appear once; SEEN_LISTEN: the default is replaced. */
#define SEEN_DIRECTORY		(1ULL << 0)
#define SEEN_SOCKET		(1ULL << 1)
#define SEEN_USER_MINERD	(1ULL << 2)
#define SEEN_USER_KEYD		(1ULL << 3)
#define SEEN_USER_NETD		(1ULL << 4)
#define SEEN_USER_MINER		(1ULL << 5)
#define SEEN_CTL_GROUP		(1ULL << 6)
#define SEEN_CTL_MAX_CONN	(1ULL << 7)
#define SEEN_CTL_TIMEOUT	(1ULL << 8)
#define SEEN_NAME		(1ULL << 9)
#define SEEN_LISTEN		(1ULL << 10)
#define SEEN_NET_MAX_CONN	(1ULL << 11)
#define SEEN_LOG_RATE		(1ULL << 12)
#define SEEN_ADVERTISE		(1ULL << 13)
#define SEEN_MAX_HANDSHAKES	(1ULL << 14)
#define SEEN_HS_PER_ADDR	(1ULL << 15)
#define SEEN_HS_PER_SUBNET	(1ULL << 16)
#define SEEN_HS_TIMEOUT		(1ULL << 17)
#define SEEN_MAX_MESSAGE	(1ULL << 18)
#define SEEN_MSG_RATE		(1ULL << 19)
#define SEEN_PING_INTERVAL	(1ULL << 20)
#define SEEN_PONG_TIMEOUT	(1ULL << 21)
#define SEEN_MAX_HEADER		(1ULL << 22)
#define SEEN_SESSION_LIFETIME	(1ULL << 23)
#define SEEN_KEYD_SIGN_RATE	(1ULL << 24)
#define SEEN_TS_WINDOW		(1ULL << 25)
#define SEEN_REPLAY_CACHE	(1ULL << 26)
#define SEEN_MAX_MINERS		(1ULL << 27)
#define SEEN_MINER_BACKOFF	(1ULL << 28)
#define SEEN_MINER_FAILED	(1ULL << 29)
#define SEEN_MINER_GRACE	(1ULL << 30)
#define SEEN_MINER_NOFILE	(1ULL << 31)
#define SEEN_MINER_PIDS		(1ULL << 32)
#define SEEN_MINER_NPROC	(1ULL << 33)
#define SEEN_HUGEPAGES		(1ULL << 34)
#define SEEN_MSR		(1ULL << 35)
#define SEEN_MINER_POLL		(1ULL << 36)
#define SEEN_WATCHDOG_ZERO	(1ULL << 37)
#define SEEN_WATCHDOG_API	(1ULL << 38)
#define SEEN_RING_LINES		(1ULL << 39)
#define SEEN_RING_BYTES		(1ULL << 40)
#define SEEN_HISTORY_SAMPLES	(1ULL << 41)
#define SEEN_HISTORY_AVERAGES	(1ULL << 42)
#define SEEN_HISTORY_SIZE	(1ULL << 43)
#define SEEN_REMOTE_TIMEOUT	(1ULL << 44)
#define SEEN_REMOTE_COMMAND	(1ULL << 45)

/* Peer selection statements seen (struct parse's seen_select). */
#define SEEN_SEL_LOCATION	(1U << 0)
#define SEEN_SEL_PING		(1U << 1)
#define SEEN_SEL_WEIGHT(d)	(1U << (2 + (d)))
#define SEEN_SEL_BOUND(d)	(1U << (2 + SELECT_DIMS + (d)))

/* Room for one input byte vis(3)-encoded, as \ooo. */
#define VIS_CHAR_MAX		4

/* A string a token holds; freed with the whole parse. */
struct lexstr {
	struct lexstr	*next;
	char		 s[];
};

struct macro {
	const char	*name;
	const char	*value;
};

struct parse {
	const char		*file;
	const unsigned char	*buf;
	size_t			 len;
	size_t			 pos;
	int			 back;		/* pushed-back byte, or EOF */
	int			 lineno;
	int			 newline;	/* last token was '\n' */
	int			 lexerr;	/* lexer reported: mute yacc */
	int			 stmt_line;	/* line the statement began */
	int			 ntok;		/* its tokens so far */
	const char		*first_word;	/* its bare first word */
	const char		*first_keyword;	/* or its first keyword */
	uint64_t		 seen;		/* SEEN_* */
	unsigned int		 seen_select;	/* SEEN_SEL_* */
	int			 line_poll;	/* lines of the statements */
	int			 line_wd_zero;	/* checked against each */
	int			 line_wd_api;	/* other at the end */
	struct lexstr		*strings;
	struct macro		 macros[CONF_MACRO_MAX];
	unsigned int		 nmacros;
	struct conf_errors	*errs;
	struct lethd_conf	 conf;		/* copied out on success */
	char			 tok[CONF_TOKEN_MAX];
};

typedef struct {
	int64_t		 number;	/* NUMBER */
	char		*string;	/* STRING; the digits of a NUMBER */
} YYSTYPE;
#define YYSTYPE_IS_DECLARED	1
#define YY_NO_LEAKS		1	/* yyparse frees its stack */

/* yacc's entry points see the parse in progress through this alone. */
static struct parse	*parse_state;

static int	yylex(void);
static void	yyerror(const char *);

static int	next_is_equals(struct parse *);
static void	parse_error(struct parse *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	word_vis(char *, size_t, const char *);
static int	once(struct parse *, uint64_t, const char *);
static int	in_range(struct parse *, const char *, int64_t, const char *,
		    int64_t, int64_t);
static void	macro_set(struct parse *, const char *, const char *);
static void	set_path(struct parse *, uint64_t, const char *,
		    const char *, char *);
static void	set_socket(struct parse *, const char *, int64_t);
static int64_t	socket_mode(struct parse *, const char *);
static void	set_login(struct parse *, uint64_t, const char *,
		    const char *, char *);
static void	set_name(struct parse *, const char *);
static void	set_number(struct parse *, uint64_t, const char *,
		    int64_t, const char *, int64_t, int64_t, unsigned int *);
static void	set_advertise(struct parse *, const char *);
static void	add_listen(struct parse *, const char *, int64_t,
		    const char *);
static void	set_api_listen(struct parse *, const char *, int64_t,
		    const char *);
static void	set_backoff(struct parse *, int64_t, const char *, int64_t,
		    const char *);
static void	set_crashes(struct parse *, int64_t, const char *, int64_t,
		    const char *);
static void	check_miner_times(struct parse *);
static int	decimal(const char *, int, int64_t *);
static int	once_select(struct parse *, unsigned int, const char *);
static int64_t	select_dim(struct parse *, const char *);
static void	set_location(struct parse *, const char *, const char *);
static void	set_weight(struct parse *, int64_t, const char *);
static void	set_bound(struct parse *, int64_t, int64_t, const char *);
%}

%token	ADDRESS ADVERTISE CACHE CONNECTIONS CONTROL DIRECTORY GROUP
%token	HANDSHAKE HANDSHAKES HEADER INTERVAL KEYD LIFETIME LISTEN LOG MAXIMUM
%token	MESSAGE MINER MODE NAME NETD ON PER PING PONG PORT RATE REPLAY SESSION
%token	SIGN SOCKET SUBNET TIMEOUT TIMESTAMP USER WINDOW
%token	AFTER API AVERAGES BACKOFF BYTES CRASHES FAILED FILES GRACE HASHRATE
%token	HISTORY HUGEPAGES IN LIMIT LINES MINERS MSR NO POLL PROCESSES SAMPLES
%token	SECONDS SIZE STOP WATCHDOG YES ZERO
%token	BOUND LOCATION SELECT WEIGHT
%token	COMMAND REMOTE
%token	STRING NUMBER ERROR

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar varset '\n'
		| grammar main '\n'
		| grammar error '\n'		{ yyerrok; }
		;

/* Where a string is expected, digits are a string too, and so are
 * the keywords added since lethd.conf had its first users: a config
 * that says "name remote" or "select = ..." still means what it said. */
word		: STRING
		| NUMBER
		| kwword
		;

kwword		: API | BOUND | COMMAND | LOCATION | REMOTE | SELECT | WEIGHT
		;

/* -1: neither yes nor no, reported. */
yesno		: YES			{ $$.number = 1; }
		| NO			{ $$.number = 0; }
		| word {
			char	w[CONF_ERRWORD * VIS_CHAR_MAX + 4];

			word_vis(w, sizeof(w), $1.string);
			parse_error(parse_state, parse_state->stmt_line,
			    "\"%s\": yes or no expected", w);
			$$.number = -1;
		}
		;

varset		: STRING '=' word {
			macro_set(parse_state, $1.string, $3.string);
		}
		| kwword '=' word {
			macro_set(parse_state, $1.string, $3.string);
		}
		;

sockmode	: /* empty */		{ $$.number = CONF_SOCKET_MODE; }
		| MODE NUMBER {
			$$.number = socket_mode(parse_state, $2.string);
		}
		;

main		: DIRECTORY word {
			set_path(parse_state, SEEN_DIRECTORY, "directory",
			    $2.string, parse_state->conf.directory);
		}
		| SOCKET word sockmode {
			set_socket(parse_state, $2.string, $3.number);
		}
		| USER word {
			set_login(parse_state, SEEN_USER_MINERD, "user",
			    $2.string, parse_state->conf.users[USER_MINERD]);
		}
		| KEYD USER word {
			set_login(parse_state, SEEN_USER_KEYD, "keyd user",
			    $3.string, parse_state->conf.users[USER_KEYD]);
		}
		| NETD USER word {
			set_login(parse_state, SEEN_USER_NETD, "netd user",
			    $3.string, parse_state->conf.users[USER_NETD]);
		}
		| MINER USER word {
			set_login(parse_state, SEEN_USER_MINER, "miner user",
			    $3.string, parse_state->conf.users[USER_MINER]);
		}
		| CONTROL GROUP word {
			set_login(parse_state, SEEN_CTL_GROUP, "control group",
			    $3.string, parse_state->conf.ctl_group);
		}
		| CONTROL MAXIMUM CONNECTIONS NUMBER {
			set_number(parse_state, SEEN_CTL_MAX_CONN,
			    "control max connections", $4.number, $4.string,
			    1, CONF_CTL_MAX_CONN_MAX,
			    &parse_state->conf.ctl_max_conn);
		}
		| CONTROL TIMEOUT NUMBER {
			set_number(parse_state, SEEN_CTL_TIMEOUT,
			    "control timeout", $3.number, $3.string,
			    1, CONF_CTL_TIMEOUT_MAX,
			    &parse_state->conf.ctl_timeout);
		}
		| NAME word {
			set_name(parse_state, $2.string);
		}
		| LISTEN ON word PORT NUMBER {
			add_listen(parse_state, $3.string, $5.number,
			    $5.string);
		}
		| API LISTEN ON word PORT NUMBER {
			set_api_listen(parse_state, $4.string, $6.number,
			    $6.string);
		}
		| MAXIMUM CONNECTIONS NUMBER {
			set_number(parse_state, SEEN_NET_MAX_CONN,
			    "max connections", $3.number, $3.string,
			    1, CONF_NET_MAX_CONN_MAX,
			    &parse_state->conf.net_max_conn);
		}
		| LOG RATE NUMBER {
			set_number(parse_state, SEEN_LOG_RATE, "log rate",
			    $3.number, $3.string, 1, CONF_LOG_RATE_MAX,
			    &parse_state->conf.log_rate);
		}
		| transport
		| miners
		| selection
		| fleet
		;

/* Peer transport: netd's limits, keyd's signing rate, minerd's checks. */
transport	: ADVERTISE word {
			set_advertise(parse_state, $2.string);
		}
		| MAXIMUM HANDSHAKES NUMBER {
			set_number(parse_state, SEEN_MAX_HANDSHAKES,
			    "max handshakes", $3.number, $3.string,
			    1, CONF_NET_MAX_HS_MAX,
			    &parse_state->conf.net_max_handshakes);
		}
		| HANDSHAKES PER ADDRESS NUMBER {
			set_number(parse_state, SEEN_HS_PER_ADDR,
			    "handshakes per address", $4.number, $4.string,
			    1, CONF_NET_HS_ADDR_MAX,
			    &parse_state->conf.net_hs_per_addr);
		}
		| HANDSHAKES PER SUBNET NUMBER {
			set_number(parse_state, SEEN_HS_PER_SUBNET,
			    "handshakes per subnet", $4.number, $4.string,
			    1, CONF_NET_HS_SUBNET_MAX,
			    &parse_state->conf.net_hs_per_subnet);
		}
		| HANDSHAKE TIMEOUT NUMBER {
			set_number(parse_state, SEEN_HS_TIMEOUT,
			    "handshake timeout", $3.number, $3.string,
			    1, CONF_NET_HS_TIMEOUT_MAX,
			    &parse_state->conf.net_hs_timeout);
		}
		| MAXIMUM MESSAGE NUMBER {
			set_number(parse_state, SEEN_MAX_MESSAGE,
			    "max message", $3.number, $3.string,
			    CONF_NET_MSG_MIN, CONF_NET_MSG_MAX,
			    &parse_state->conf.net_max_message);
		}
		| MESSAGE RATE NUMBER {
			set_number(parse_state, SEEN_MSG_RATE,
			    "message rate", $3.number, $3.string,
			    1, CONF_NET_MSG_RATE_MAX,
			    &parse_state->conf.net_msg_rate);
		}
		| PING INTERVAL NUMBER {
			set_number(parse_state, SEEN_PING_INTERVAL,
			    "ping interval", $3.number, $3.string,
			    1, CONF_NET_PING_MAX,
			    &parse_state->conf.net_ping_interval);
		}
		| PONG TIMEOUT NUMBER {
			set_number(parse_state, SEEN_PONG_TIMEOUT,
			    "pong timeout", $3.number, $3.string,
			    1, CONF_NET_PONG_MAX,
			    &parse_state->conf.net_pong_timeout);
		}
		| MAXIMUM HEADER NUMBER {
			set_number(parse_state, SEEN_MAX_HEADER,
			    "max header", $3.number, $3.string,
			    CONF_NET_HEADER_MIN, CONF_NET_HEADER_MAX,
			    &parse_state->conf.net_max_header);
		}
		| SESSION LIFETIME NUMBER {
			set_number(parse_state, SEEN_SESSION_LIFETIME,
			    "session lifetime", $3.number, $3.string,
			    CONF_NET_LIFETIME_MIN, CONF_NET_LIFETIME_MAX,
			    &parse_state->conf.net_session_lifetime);
		}
		| KEYD SIGN RATE NUMBER {
			set_number(parse_state, SEEN_KEYD_SIGN_RATE,
			    "keyd sign rate", $4.number, $4.string,
			    1, CONF_KEYD_SIGN_MAX,
			    &parse_state->conf.keyd_sign_rate);
		}
		| TIMESTAMP WINDOW NUMBER {
			set_number(parse_state, SEEN_TS_WINDOW,
			    "timestamp window", $3.number, $3.string,
			    1, CONF_TS_WINDOW_MAX,
			    &parse_state->conf.msg_ts_window);
		}
		| REPLAY CACHE NUMBER {
			set_number(parse_state, SEEN_REPLAY_CACHE,
			    "replay cache", $3.number, $3.string,
			    CONF_REPLAY_MIN, CONF_REPLAY_MAX,
			    &parse_state->conf.replay_cache_max);
		}
		;

/* Miners: the parent's supervision, then minerd's polling and history. */
miners		: MAXIMUM MINERS NUMBER {
			set_number(parse_state, SEEN_MAX_MINERS,
			    "max miners", $3.number, $3.string,
			    1, MINER_SLOTS_MAX, &parse_state->conf.miner_max);
		}
		| MINER BACKOFF NUMBER NUMBER {
			set_backoff(parse_state, $3.number, $3.string,
			    $4.number, $4.string);
		}
		| MINER FAILED AFTER NUMBER CRASHES IN NUMBER SECONDS {
			set_crashes(parse_state, $4.number, $4.string,
			    $7.number, $7.string);
		}
		| MINER STOP GRACE NUMBER {
			set_number(parse_state, SEEN_MINER_GRACE,
			    "miner stop grace", $4.number, $4.string,
			    1, CONF_STOP_GRACE_MAX,
			    &parse_state->conf.miner_stop_grace);
		}
		| MINER LIMIT FILES NUMBER {
			set_number(parse_state, SEEN_MINER_NOFILE,
			    "miner limit files", $4.number, $4.string,
			    CONF_MINER_NOFILE_MIN, CONF_MINER_NOFILE_MAX,
			    &parse_state->conf.miner_nofile);
		}
		| MINER LIMIT PROCESSES NUMBER {
			set_number(parse_state, SEEN_MINER_PIDS,
			    "miner limit processes", $4.number, $4.string,
			    1, CONF_MINER_PIDS_MAX,
			    &parse_state->conf.miner_pids);
		}
		| MINER LIMIT USER PROCESSES NUMBER {
			set_number(parse_state, SEEN_MINER_NPROC,
			    "miner limit user processes", $5.number,
			    $5.string, 1, CONF_MINER_NPROC_MAX,
			    &parse_state->conf.miner_nproc);
		}
		| MINER HUGEPAGES NUMBER {
			set_number(parse_state, SEEN_HUGEPAGES,
			    "miner hugepages", $3.number, $3.string,
			    0, CONF_HUGEPAGES_MAX,
			    &parse_state->conf.miner_hugepages);
		}
		| MINER MSR yesno {
			if ($3.number != -1 &&
			    once(parse_state, SEEN_MSR, "miner msr") == 0)
				parse_state->conf.miner_msr = $3.number;
		}
		| MINER POLL INTERVAL NUMBER {
			parse_state->line_poll = parse_state->stmt_line;
			set_number(parse_state, SEEN_MINER_POLL,
			    "miner poll interval", $4.number, $4.string,
			    1, CONF_MINER_POLL_MAX,
			    &parse_state->conf.miner_poll);
		}
		| WATCHDOG ZERO HASHRATE NUMBER {
			parse_state->line_wd_zero = parse_state->stmt_line;
			set_number(parse_state, SEEN_WATCHDOG_ZERO,
			    "watchdog zero hashrate", $4.number, $4.string,
			    CONF_WATCHDOG_ZERO_MIN, CONF_WATCHDOG_MAX,
			    &parse_state->conf.watchdog_zero);
		}
		| WATCHDOG API TIMEOUT NUMBER {
			parse_state->line_wd_api = parse_state->stmt_line;
			set_number(parse_state, SEEN_WATCHDOG_API,
			    "watchdog api timeout", $4.number, $4.string,
			    1, CONF_WATCHDOG_MAX,
			    &parse_state->conf.watchdog_api);
		}
		| MINER LOG LINES NUMBER {
			set_number(parse_state, SEEN_RING_LINES,
			    "miner log lines", $4.number, $4.string,
			    CONF_RING_LINES_MIN, CONF_RING_LINES_MAX,
			    &parse_state->conf.ring_lines);
		}
		| MINER LOG BYTES NUMBER {
			set_number(parse_state, SEEN_RING_BYTES,
			    "miner log bytes", $4.number, $4.string,
			    CONF_RING_BYTES_MIN, CONF_RING_BYTES_MAX,
			    &parse_state->conf.ring_bytes);
		}
		| HISTORY SAMPLES NUMBER {
			set_number(parse_state, SEEN_HISTORY_SAMPLES,
			    "history samples", $3.number, $3.string,
			    CONF_HISTORY_MIN, CONF_HISTORY_MAX,
			    &parse_state->conf.history_samples);
		}
		| HISTORY AVERAGES NUMBER {
			set_number(parse_state, SEEN_HISTORY_AVERAGES,
			    "history averages", $3.number, $3.string,
			    CONF_HISTORY_MIN, CONF_HISTORY_MAX,
			    &parse_state->conf.history_minutes);
		}
		| HISTORY SIZE NUMBER {
			set_number(parse_state, SEEN_HISTORY_SIZE,
			    "history size", $3.number, $3.string,
			    1, CONF_HISTORY_MB_MAX,
			    &parse_state->conf.history_max_mb);
		}
		;

/* Peer selection: where we are, and how peers are ranked. */
selection	: LOCATION word word {
			set_location(parse_state, $2.string, $3.string);
		}
		| SELECT WEIGHT dimension word {
			set_weight(parse_state, $3.number, $4.string);
		}
		| SELECT BOUND dimension NUMBER {
			set_bound(parse_state, $3.number, $4.number,
			    $4.string);
		}
		| SELECT PING INTERVAL NUMBER {
			if (once_select(parse_state, SEEN_SEL_PING,
			    "select ping interval") == 0 &&
			    in_range(parse_state, "select ping interval",
			    $4.number, $4.string, 1, CONF_SELECT_PING_MAX) ==
			    0)
				parse_state->conf.select_ping_interval =
				    $4.number;
		}
		;

/* -1: not a dimension, reported. */
dimension	: PING			{ $$.number = SELECT_PING; }
		| word {
			$$.number = select_dim(parse_state, $1.string);
		}
		;

/* Fleet operations: how long a controller waits for its workers. */
fleet		: REMOTE TIMEOUT NUMBER {
			set_number(parse_state, SEEN_REMOTE_TIMEOUT,
			    "remote timeout", $3.number, $3.string,
			    1, CONF_REMOTE_TIMEOUT_MAX,
			    &parse_state->conf.remote_timeout);
		}
		| REMOTE COMMAND TIMEOUT NUMBER {
			set_number(parse_state, SEEN_REMOTE_COMMAND,
			    "remote command timeout", $4.number, $4.string,
			    1, CONF_REMOTE_TIMEOUT_MAX,
			    &parse_state->conf.remote_command_timeout);
		}
		;

%%

struct keyword {
	const char	*k_name;
	int		 k_val;
};

/* Sorted: looked up with bsearch(3). */
static const struct keyword keywords[] = {
	{ "address",		ADDRESS },
	{ "advertise",		ADVERTISE },
	{ "after",		AFTER },
	{ "api",		API },
	{ "averages",		AVERAGES },
	{ "backoff",		BACKOFF },
	{ "bound",		BOUND },
	{ "bytes",		BYTES },
	{ "cache",		CACHE },
	{ "command",		COMMAND },
	{ "connections",	CONNECTIONS },
	{ "control",		CONTROL },
	{ "crashes",		CRASHES },
	{ "directory",		DIRECTORY },
	{ "failed",		FAILED },
	{ "files",		FILES },
	{ "grace",		GRACE },
	{ "group",		GROUP },
	{ "handshake",		HANDSHAKE },
	{ "handshakes",		HANDSHAKES },
	{ "hashrate",		HASHRATE },
	{ "header",		HEADER },
	{ "history",		HISTORY },
	{ "hugepages",		HUGEPAGES },
	{ "in",			IN },
	{ "interval",		INTERVAL },
	{ "keyd",		KEYD },
	{ "lifetime",		LIFETIME },
	{ "limit",		LIMIT },
	{ "lines",		LINES },
	{ "listen",		LISTEN },
	{ "location",		LOCATION },
	{ "log",		LOG },
	{ "max",		MAXIMUM },
	{ "message",		MESSAGE },
	{ "miner",		MINER },
	{ "miners",		MINERS },
	{ "mode",		MODE },
	{ "msr",		MSR },
	{ "name",		NAME },
	{ "netd",		NETD },
	{ "no",			NO },
	{ "on",			ON },
	{ "per",		PER },
	{ "ping",		PING },
	{ "poll",		POLL },
	{ "pong",		PONG },
	{ "port",		PORT },
	{ "processes",		PROCESSES },
	{ "rate",		RATE },
	{ "remote",		REMOTE },
	{ "replay",		REPLAY },
	{ "samples",		SAMPLES },
	{ "seconds",		SECONDS },
	{ "select",		SELECT },
	{ "session",		SESSION },
	{ "sign",		SIGN },
	{ "size",		SIZE },
	{ "socket",		SOCKET },
	{ "stop",		STOP },
	{ "subnet",		SUBNET },
	{ "timeout",		TIMEOUT },
	{ "timestamp",		TIMESTAMP },
	{ "user",		USER },
	{ "watchdog",		WATCHDOG },
	{ "weight",		WEIGHT },
	{ "window",		WINDOW },
	{ "yes",		YES },
	{ "zero",		ZERO }
};

static int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keyword *)e)->k_name));
}

static const struct keyword *
lookup(const char *s)
{
	return (bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp));
}

static void
yyerror(const char *msg)
{
	struct parse	*ps = parse_state;
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];

	/* The lexer already said what was wrong with this token. */
	if (ps->lexerr) {
		ps->lexerr = 0;
		return;
	}
	/* A statement that starts with a word we do not know. */
	if (ps->ntok == 2 && ps->first_word != NULL && yychar != '=') {
		word_vis(w, sizeof(w), ps->first_word);
		parse_error(ps, ps->lineno, "unknown keyword \"%s\"", w);
		return;
	}
	/* A macro named like a keyword. */
	if (ps->first_keyword != NULL && ((ps->ntok == 2 && yychar == '=') ||
	    (ps->ntok == 1 && next_is_equals(ps)))) {
		parse_error(ps, ps->lineno, "keyword \"%s\" cannot be a macro "
		    "name", ps->first_keyword);
		return;
	}
	parse_error(ps, ps->lineno, "%s", msg);
}

/* Whether the next token, not yet read, is '='. */
static int
next_is_equals(struct parse *ps)
{
	size_t	i;

	if (ps->back != EOF && ps->back != ' ' && ps->back != '\t')
		return (ps->back == '=');
	for (i = ps->pos; i < ps->len; i++)
		if (ps->buf[i] != ' ' && ps->buf[i] != '\t')
			return (ps->buf[i] == '=');
	return (0);
}

static void
parse_error(struct parse *ps, int line, const char *fmt, ...)
{
	va_list	ap;
	char	msg[CONF_ERRLEN];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_errorf(ps->errs, "%s:%d: %s", ps->file, line, msg);
}

/*
 * Input bytes quoted in an error line are vis(3)-encoded, and cut after
 * CONF_ERRWORD bytes, so a config cannot write to the terminal.
 */
static void
word_vis(char *dst, size_t dstlen, const char *s)
{
	char	 c[VIS_CHAR_MAX + 1];
	size_t	 i, len;

	dst[0] = '\0';
	for (i = 0; s[i] != '\0' && i < CONF_ERRWORD; i++) {
		(void)vis(c, (unsigned char)s[i],
		    VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_DQ,
		    (unsigned char)s[i + 1]);
		len = strlen(dst);
		if (len + strlen(c) + 4 > dstlen)
			break;
		(void)strlcat(dst, c, dstlen);
	}
	if (s[i] != '\0')
		(void)strlcat(dst, "...", dstlen);
}

/*
 * The lexer.
 */

static char *
lex_strdup(struct parse *ps, const char *s, size_t len)
{
	struct lexstr	*ls;

	if ((ls = malloc(sizeof(*ls) + len + 1)) == NULL)
		return (NULL);
	memcpy(ls->s, s, len);
	ls->s[len] = '\0';
	ls->next = ps->strings;
	ps->strings = ls;
	return (ls->s);
}

static int
lgetc_raw(struct parse *ps)
{
	if (ps->pos >= ps->len)
		return (EOF);
	return (ps->buf[ps->pos++]);
}

static int
lpeek_raw(struct parse *ps)
{
	if (ps->pos >= ps->len)
		return (EOF);
	return (ps->buf[ps->pos]);
}

/* The next byte, a backslash-newline joining two lines. */
static int
lgetc(struct parse *ps)
{
	int	c;

	if (ps->back != EOF) {
		c = ps->back;
		ps->back = EOF;
		return (c);
	}
	while ((c = lgetc_raw(ps)) == '\\' && lpeek_raw(ps) == '\n') {
		ps->pos++;
		ps->lineno++;
	}
	return (c);
}

static void
lungetc(struct parse *ps, int c)
{
	ps->back = c;
}

/* After an error: skip to the end of the line, leaving the newline. */
static int
findeol(struct parse *ps)
{
	int	c;

	while ((c = lgetc(ps)) != '\n' && c != EOF)
		;
	lungetc(ps, c);
	ps->lexerr = 1;
	return (ERROR);
}

static int
lex_error(struct parse *ps, const char *msg)
{
	parse_error(ps, ps->lineno, "%s", msg);
	return (findeol(ps));
}

static int
is_word(int c)
{
	if (c == EOF || c == '\0')
		return (0);
	return (isalnum(c) || strchr("_-.:/*%@+~,", c) != NULL);
}

static int
is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (0);
	return (1);
}

/*
 * A word or a macro's value becomes a NUMBER when it is all digits.  A
 * number too big for 64 bits saturates, so that the range check of the
 * keyword says what is wrong with it, quoting the digits.
 */
static int
lex_value(struct parse *ps, const char *s, size_t len)
{
	const char	*errstr;

	if ((yylval.string = lex_strdup(ps, s, len)) == NULL)
		return (lex_error(ps, "out of memory"));
	if (!is_number(yylval.string))
		return (STRING);
	yylval.number = strtonum(yylval.string, LLONG_MIN, LLONG_MAX,
	    &errstr);
	if (errstr != NULL)
		yylval.number = yylval.string[0] == '-' ? LLONG_MIN :
		    LLONG_MAX;
	return (NUMBER);
}

static int
lex_quoted(struct parse *ps)
{
	size_t	len = 0;
	int	c, start = ps->lineno;

	for (;;) {
		c = lgetc_raw(ps);
		if (c == '\\') {
			c = lgetc_raw(ps);
			if (c == '\n') {	/* continued line */
				ps->lineno++;
				continue;
			}
			if (c != '"' && c != '\\' && c != EOF) {
				return (lex_error(ps,
				    "invalid escape in quoted string"));
			}
		} else if (c == '"')
			break;
		if (c == EOF || c == '\n') {
			if (c == '\n')
				ps->pos--;
			parse_error(ps, start, "unterminated quoted string");
			return (findeol(ps));
		}
		if (len >= sizeof(ps->tok) - 1)
			return (lex_error(ps, "string too long"));
		ps->tok[len++] = c;
	}
	if ((yylval.string = lex_strdup(ps, ps->tok, len)) == NULL)
		return (lex_error(ps, "out of memory"));
	return (STRING);
}

static int
lex_macro(struct parse *ps)
{
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	unsigned int	 i;
	size_t		 len = 0;
	int		 c;

	while ((c = lgetc(ps)) != EOF && (isalnum(c) || c == '_')) {
		if (len >= CONF_MACRO_NAME_MAX)
			return (lex_error(ps, "macro name too long"));
		ps->tok[len++] = c;
	}
	lungetc(ps, c);
	ps->tok[len] = '\0';
	if (len == 0)
		return (lex_error(ps, "missing macro name after $"));
	for (i = 0; i < ps->nmacros; i++)
		if (strcmp(ps->macros[i].name, ps->tok) == 0)
			break;
	if (i == ps->nmacros) {
		word_vis(w, sizeof(w), ps->tok);
		parse_error(ps, ps->lineno, "macro \"%s\" not defined", w);
		return (findeol(ps));
	}
	/* A value is data: never a keyword, always one token. */
	return (lex_value(ps, ps->macros[i].value,
	    strlen(ps->macros[i].value)));
}

static int
lex_word(struct parse *ps, int c)
{
	const struct keyword	*kw;
	size_t			 len = 0;
	int			 tok;

	do {
		if (len >= sizeof(ps->tok) - 1)
			return (lex_error(ps, "word too long"));
		ps->tok[len++] = c;
	} while (is_word(c = lgetc(ps)));
	lungetc(ps, c);
	ps->tok[len] = '\0';
	if ((kw = lookup(ps->tok)) != NULL) {
		if (ps->ntok == 1)
			ps->first_keyword = kw->k_name;
		/* its text, for the keywords that may be words too */
		if ((yylval.string = lex_strdup(ps, ps->tok, len)) == NULL)
			return (lex_error(ps, "out of memory"));
		return (kw->k_val);
	}
	tok = lex_value(ps, ps->tok, len);
	if (tok == STRING && ps->ntok == 1)
		ps->first_word = yylval.string;
	return (tok);
}

static int
yylex(void)
{
	struct parse	*ps = parse_state;
	char		 msg[32];
	int		 c;

	if (ps->newline) {
		ps->newline = 0;
		ps->lineno++;
		ps->ntok = 0;
		ps->first_word = NULL;
		ps->first_keyword = NULL;
		ps->lexerr = 0;
	}
	yylval.number = 0;
	yylval.string = NULL;

	while ((c = lgetc(ps)) == ' ' || c == '\t' || c == '\r')
		;
	if (c == '#') {
		while ((c = lpeek_raw(ps)) != '\n' && c != EOF)
			ps->pos++;
		c = lgetc(ps);
	}
	if (c == EOF) {
		if (ps->ntok == 0)
			return (0);
		c = '\n';	/* end the last line for the grammar */
	}
	if (ps->ntok++ == 0)
		ps->stmt_line = ps->lineno;

	switch (c) {
	case '\n':
		ps->newline = 1;
		return ('\n');
	case '=':
		return ('=');
	case '"':
		return (lex_quoted(ps));
	case '$':
		return (lex_macro(ps));
	}
	if (is_word(c))
		return (lex_word(ps, c));
	(void)vis(msg, c, VIS_CSTYLE | VIS_OCTAL | VIS_DQ, 0);
	parse_error(ps, ps->lineno, "unexpected character \"%s\"", msg);
	return (findeol(ps));
}

/*
 * The statements.
 */

static int
once(struct parse *ps, uint64_t bit, const char *what)
{
	if (ps->seen & bit) {
		parse_error(ps, ps->stmt_line, "%s already set", what);
		return (-1);
	}
	ps->seen |= bit;
	return (0);
}

static int
valid_macro_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return (0);
	return (1);
}

static void
macro_set(struct parse *ps, const char *name, const char *value)
{
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	unsigned int	 i;

	if (!valid_macro_name(name) || strlen(name) > CONF_MACRO_NAME_MAX) {
		word_vis(w, sizeof(w), name);
		parse_error(ps, ps->stmt_line, "invalid macro name \"%s\"", w);
		return;
	}
	for (i = 0; i < ps->nmacros; i++)
		if (strcmp(ps->macros[i].name, name) == 0)
			break;
	if (i == CONF_MACRO_MAX) {
		parse_error(ps, ps->stmt_line, "too many macros (at most %d)",
		    CONF_MACRO_MAX);
		return;
	}
	/* A later definition replaces an earlier one, from there on. */
	ps->macros[i].name = name;
	ps->macros[i].value = value;
	if (i == ps->nmacros)
		ps->nmacros++;
}

/* Absolute, shorter than max, no control characters, no ".." component. */
static int
check_path(struct parse *ps, const char *what, const char *path, size_t max)
{
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	const char	*p;
	size_t		 n;

	word_vis(w, sizeof(w), path);
	if (path[0] != '/') {
		parse_error(ps, ps->stmt_line,
		    "%s \"%s\" is not an absolute path", what, w);
		return (-1);
	}
	if (strlen(path) >= max) {
		parse_error(ps, ps->stmt_line,
		    "%s path too long (at most %zu bytes)", what, max - 1);
		return (-1);
	}
	for (p = path; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p)) {
			parse_error(ps, ps->stmt_line,
			    "%s path contains a control character", what);
			return (-1);
		}
	}
	for (p = path; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			parse_error(ps, ps->stmt_line,
			    "%s \"%s\" contains \"..\"", what, w);
			return (-1);
		}
	}
	return (0);
}

static void
set_path(struct parse *ps, uint64_t bit, const char *what,
    const char *path, char *dst)
{
	if (once(ps, bit, what) == -1 ||
	    check_path(ps, what, path, PATH_MAX) == -1)
		return;
	(void)strlcpy(dst, path, PATH_MAX);
}

static void
set_socket(struct parse *ps, const char *path, int64_t mode)
{
	struct sockaddr_un	sun;

	if (once(ps, SEEN_SOCKET, "socket") == -1 ||
	    check_path(ps, "socket", path, sizeof(sun.sun_path)) == -1)
		return;
	(void)strlcpy(ps->conf.socket, path, sizeof(ps->conf.socket));
	if (mode != -1)
		ps->conf.socket_mode = mode;
}

/*
 * Octal, read and write for the owner, and no execute bit: 0600 to 0666.
 * Returns -1 (reported) when the mode is refused.
 */
static int64_t
socket_mode(struct parse *ps, const char *s)
{
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	const char	*p;
	int64_t		 mode = 0;

	word_vis(w, sizeof(w), s);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7') {
			parse_error(ps, ps->stmt_line,
			    "socket mode %s is not octal", w);
			return (-1);
		}
		mode = mode * 8 + (*p - '0');
		if (mode > 07777)
			break;
	}
	if ((mode & ~0666) != 0 || (mode & 0600) != 0600) {
		parse_error(ps, ps->stmt_line, "socket mode %s not allowed "
		    "(0600 to 0666, no execute bits)", w);
		return (-1);
	}
	return (mode);
}

/* A user or group name as shadow-utils accepts it, never "-foo". */
static int
valid_login(const char *s)
{
	const char	*p;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return (0);
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_.-", *p) == NULL)
			return (0);
	return (p - s < LOGIN_NAME_MAX);
}

static void
set_login(struct parse *ps, uint64_t bit, const char *what,
    const char *name, char *dst)
{
	char	w[CONF_ERRWORD * VIS_CHAR_MAX + 4];

	if (once(ps, bit, what) == -1)
		return;
	if (!valid_login(name)) {
		word_vis(w, sizeof(w), name);
		parse_error(ps, ps->stmt_line, "invalid %s name \"%s\"",
		    bit == SEEN_CTL_GROUP ? "group" : "user", w);
		return;
	}
	(void)strlcpy(dst, name, LOGIN_NAME_MAX);
}

/* Printable ASCII: the name shows in lethctl's tables and on peers. */
static void
set_name(struct parse *ps, const char *name)
{
	const char	*p;

	if (once(ps, SEEN_NAME, "name") == -1)
		return;
	if (*name == '\0') {
		parse_error(ps, ps->stmt_line, "name is empty");
		return;
	}
	if (strlen(name) > NODE_NAME_MAX) {
		parse_error(ps, ps->stmt_line,
		    "name too long (at most %d bytes)", NODE_NAME_MAX);
		return;
	}
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			parse_error(ps, ps->stmt_line,
			    "name contains a non-printable character");
			return;
		}
	}
	(void)strlcpy(ps->conf.name, name, sizeof(ps->conf.name));
}

/* Whether n is within min to max; -1 is reported, quoting the digits. */
static int
in_range(struct parse *ps, const char *what, int64_t n, const char *digits,
    int64_t min, int64_t max)
{
	char	w[CONF_ERRWORD * VIS_CHAR_MAX + 4];

	if (n >= min && n <= max)
		return (0);
	word_vis(w, sizeof(w), digits);
	parse_error(ps, ps->stmt_line, "%s %s out of range (%lld-%lld)",
	    what, w, (long long)min, (long long)max);
	return (-1);
}

/* A numeric keyword takes min to max; min is 1 for most. */
static void
set_number(struct parse *ps, uint64_t bit, const char *what,
    int64_t n, const char *digits, int64_t min, int64_t max,
    unsigned int *dst)
{
	if (once(ps, bit, what) == -1 ||
	    in_range(ps, what, n, digits, min, max) == -1)
		return;
	*dst = n;
}

/* "miner backoff MIN MAX", in milliseconds, MIN no more than MAX. */
static void
set_backoff(struct parse *ps, int64_t min, const char *mindigits,
    int64_t max, const char *maxdigits)
{
	int	bad = 0;

	if (once(ps, SEEN_MINER_BACKOFF, "miner backoff") == -1)
		return;
	if (in_range(ps, "miner backoff minimum", min, mindigits,
	    CONF_BACKOFF_MIN, CONF_BACKOFF_MAX) == -1)
		bad = 1;
	if (in_range(ps, "miner backoff maximum", max, maxdigits,
	    CONF_BACKOFF_MIN, CONF_BACKOFF_MAX) == -1)
		bad = 1;
	if (bad)
		return;
	if (max < min) {
		parse_error(ps, ps->stmt_line, "miner backoff maximum %lld "
		    "is less than its minimum %lld", (long long)max,
		    (long long)min);
		return;
	}
	ps->conf.miner_backoff_min_ms = min;
	ps->conf.miner_backoff_max_ms = max;
}

/* "miner failed after N crashes in S seconds". */
static void
set_crashes(struct parse *ps, int64_t n, const char *ndigits, int64_t secs,
    const char *sdigits)
{
	int	bad = 0;

	if (once(ps, SEEN_MINER_FAILED, "miner failed") == -1)
		return;
	if (in_range(ps, "miner crashes", n, ndigits, 1,
	    CONF_CRASHES_MAX) == -1)
		bad = 1;
	if (in_range(ps, "miner crash window", secs, sdigits, 1,
	    CONF_CRASH_WINDOW_MAX) == -1)
		bad = 1;
	if (bad)
		return;
	ps->conf.miner_crashes_max = n;
	ps->conf.miner_crash_window = secs;
}

/*
 * A watchdog shorter than the poll interval would restart a healthy
 * miner between two polls.  Reported at the later of the two lines.
 */
static void
check_miner_times(struct parse *ps)
{
	const struct lethd_conf	*c = &ps->conf;

	if (c->watchdog_zero < c->miner_poll)
		parse_error(ps, ps->line_wd_zero > ps->line_poll ?
		    ps->line_wd_zero : ps->line_poll, "watchdog zero "
		    "hashrate %u is shorter than the miner poll interval %u",
		    c->watchdog_zero, c->miner_poll);
	if (c->watchdog_api < c->miner_poll)
		parse_error(ps, ps->line_wd_api > ps->line_poll ?
		    ps->line_wd_api : ps->line_poll, "watchdog api timeout "
		    "%u is shorter than the miner poll interval %u",
		    c->watchdog_api, c->miner_poll);
}

/* "host" of letters, digits, dots and dashes, or "[IPv6 literal]". */
static int
advertise_host(const char *host, size_t len)
{
	struct in6_addr	in6;
	char		lit[INET6_ADDRSTRLEN];
	size_t		i;

	if (len == 0)
		return (-1);
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']' ||
		    len - 2 >= sizeof(lit))
			return (-1);
		memcpy(lit, host + 1, len - 2);
		lit[len - 2] = '\0';
		return (inet_pton(AF_INET6, lit, &in6) == 1 ? 0 : -1);
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' &&
		    host[i] != '-')
			return (-1);
	return (0);
}

/* Decimal digits only, 1 to CONF_PORT_MAX: no sign, no spaces. */
static int
advertise_port(const char *port)
{
	const char	*errstr;
	size_t		 len = strlen(port);

	if (len == 0 || len > 5 || strspn(port, "0123456789") != len)
		return (-1);
	(void)strtonum(port, 1, CONF_PORT_MAX, &errstr);
	return (errstr == NULL ? 0 : -1);
}

/*
 * What a pairing token carries as this node's address: "host:port", or
 * "[v6]:port" for an IPv6 literal.  The port follows the last colon,
 * so a bare IPv6 address (more than one colon) is refused as a host.
 */
static void
set_advertise(struct parse *ps, const char *addr)
{
	char		 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	const char	*colon;

	if (once(ps, SEEN_ADVERTISE, "advertise") == -1)
		return;
	word_vis(w, sizeof(w), addr);
	if (strlen(addr) >= NET_ADDR_MAX) {
		parse_error(ps, ps->stmt_line,
		    "advertise address too long (at most %d bytes)",
		    NET_ADDR_MAX - 1);
		return;
	}
	if ((colon = strrchr(addr, ':')) == NULL ||
	    advertise_host(addr, colon - addr) == -1) {
		parse_error(ps, ps->stmt_line, "invalid advertise address "
		    "\"%s\" (HOST:PORT or [IPv6]:PORT)", w);
		return;
	}
	if (advertise_port(colon + 1) == -1) {
		parse_error(ps, ps->stmt_line, "invalid advertise port in "
		    "\"%s\" (1-%d)", w, CONF_PORT_MAX);
		return;
	}
	(void)strlcpy(ps->conf.advertise, addr, sizeof(ps->conf.advertise));
}

static int
listen_addr(const char *s, uint16_t port, struct conf_listen *l)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l->ss;

	memset(l, 0, sizeof(*l));
	l->port = port;
	if (strcmp(s, "*") == 0)
		s = "0.0.0.0";
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		l->sslen = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		l->sslen = sizeof(*sin6);
		return (0);
	}
	return (-1);
}

static int
listen_same(const struct conf_listen *a, const struct conf_listen *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family || a->port != b->port)
		return (0);
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	a6 = (const struct sockaddr_in6 *)&a->ss;
	b6 = (const struct sockaddr_in6 *)&b->ss;
	return (memcmp(&a6->sin6_addr, &b6->sin6_addr,
	    sizeof(a6->sin6_addr)) == 0);
}

static void
add_listen(struct parse *ps, const char *addr, int64_t port,
    const char *digits)
{
	struct conf_listen	 l;
	char			 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	unsigned int		 i;
	int			 bad = 0;

	/* The first listen line replaces the default listener. */
	if ((ps->seen & SEEN_LISTEN) == 0) {
		ps->seen |= SEEN_LISTEN;
		ps->conf.nlisten = 0;
	}
	if (port < 0 || port > CONF_PORT_MAX) {
		word_vis(w, sizeof(w), digits);
		parse_error(ps, ps->stmt_line,
		    "port %s out of range (0-%d)", w, CONF_PORT_MAX);
		bad = 1;
		port = 0;
	}
	word_vis(w, sizeof(w), addr);
	if (listen_addr(addr, port, &l) == -1) {
		parse_error(ps, ps->stmt_line, "invalid listen address "
		    "\"%s\" (numeric IPv4 or IPv6 only)", w);
		bad = 1;
	}
	if (bad)
		return;
	for (i = 0; i < ps->conf.nlisten; i++) {
		if (listen_same(&ps->conf.listen[i], &l)) {
			parse_error(ps, ps->stmt_line,
			    "duplicate listen on %s port %lld", w,
			    (long long)port);
			return;
		}
	}
	if (ps->conf.nlisten >= NET_MAX_LISTEN) {
		parse_error(ps, ps->stmt_line,
		    "too many listen lines (at most %d)", NET_MAX_LISTEN);
		return;
	}
	ps->conf.listen[ps->conf.nlisten++] = l;
}

/*
 * api listen on ADDRESS port PORT: the REST API on TCP, loopback only (a
 * bearer token guards it, not the network).  Once: no SEEN bit, the
 * flag in the configuration says it.
 */
static void
set_api_listen(struct parse *ps, const char *addr, int64_t port,
    const char *digits)
{
	struct conf_listen	 l;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&l.ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&l.ss;
	char			 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];

	if (ps->conf.api_listen_set) {
		parse_error(ps, ps->stmt_line, "api listen given twice");
		return;
	}
	if (port < 0 || port > CONF_PORT_MAX) {
		word_vis(w, sizeof(w), digits);
		parse_error(ps, ps->stmt_line,
		    "api listen port %s out of range (0-%d)", w,
		    CONF_PORT_MAX);
		return;
	}
	word_vis(w, sizeof(w), addr);
	if (strcmp(addr, "*") == 0 || listen_addr(addr, port, &l) == -1) {
		parse_error(ps, ps->stmt_line, "invalid api listen address "
		    "\"%s\" (numeric 127.0.0.0/8 or ::1 only)", w);
		return;
	}
	if ((l.ss.ss_family == AF_INET &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) != IN_LOOPBACKNET) ||
	    (l.ss.ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))) {
		parse_error(ps, ps->stmt_line, "api listen address \"%s\" is "
		    "not a loopback address (127.0.0.0/8 or ::1)", w);
		return;
	}
	ps->conf.api_listen = l;
	ps->conf.api_listen_set = 1;
}

/*
 * The entry point.
 */

int
conf_parse_buffer(const char *file, const char *buf, size_t len,
    struct lethd_conf *conf, struct conf_errors *errs)
{
	struct parse	*ps;
	struct lexstr	*ls, *next;
	const char	*nul;
	int		 line, rv;
	size_t		 i;

	memset(errs, 0, sizeof(*errs));
	if (len > CONF_MAXSIZE) {
		conf_errorf(errs, "%s: file too large (at most %d bytes)",
		    file, CONF_MAXSIZE);
		return (-1);
	}
	/* A config is text: a NUL byte means something else was named. */
	if (len > 0 && (nul = memchr(buf, '\0', len)) != NULL) {
		line = 1;
		for (i = 0; i < (size_t)(nul - buf); i++)
			if (buf[i] == '\n')
				line++;
		conf_errorf(errs, "%s:%d: NUL byte in input", file, line);
		return (-1);
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		conf_errorf(errs, "%s: out of memory", file);
		return (-1);
	}
	ps->file = file;
	ps->buf = (const unsigned char *)buf;
	ps->len = len;
	ps->back = EOF;
	ps->lineno = 1;
	ps->errs = errs;
	conf_defaults(&ps->conf);

	parse_state = ps;
	rv = yyparse();
	parse_state = NULL;

	if (rv != 0 && errs->n == 0 && errs->dropped == 0)
		conf_errorf(errs, "%s:%d: syntax error", file, ps->lineno);
	if (errs->n == 0 && errs->dropped == 0)
		check_miner_times(ps);
	if (errs->n == 0 && errs->dropped == 0) {
		*conf = ps->conf;
		rv = 0;
	} else
		rv = -1;

	for (ls = ps->strings; ls != NULL; ls = next) {
		next = ls->next;
		free(ls);
	}
	free(ps);
	return (rv);
}

/*
 * Peer selection.
 */

static const char *const select_dims[SELECT_DIMS] = {
	"ping", "hops", "geo", "score"
};

/*
 * A decimal number such as "-12.345678" as an integer count of
 * 10^-digits, rounded half away from zero: 0, or -1 when s is not
 * [-]DIGITS[.DIGITS] or has more than CONF_DECIMAL_INT_MAX digits
 * before the point (the caller checks the range).
 */
static int
decimal(const char *s, int digits, int64_t *out)
{
	int64_t	 v = 0, frac = 0, scale = 1;
	int	 neg = 0, n, up = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return (-1);
	for (n = 0; isdigit((unsigned char)*s); s++) {
		if (++n > CONF_DECIMAL_INT_MAX)
			return (-1);
		v = v * 10 + (*s - '0');
	}
	for (n = 0; n < digits; n++)
		scale *= 10;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return (-1);
		for (n = 0; isdigit((unsigned char)*s); s++, n++) {
			if (n < digits)
				frac = frac * 10 + (*s - '0');
			else if (n == digits)
				up = *s >= '5';
		}
		for (; n < digits; n++)
			frac *= 10;
	}
	if (*s != '\0')
		return (-1);
	v = v * scale + frac + up;
	*out = neg ? -v : v;
	return (0);
}

static int
once_select(struct parse *ps, unsigned int bit, const char *what)
{
	if (ps->seen_select & bit) {
		parse_error(ps, ps->stmt_line, "%s already set", what);
		return (-1);
	}
	ps->seen_select |= bit;
	return (0);
}

/* A dimension's name: its index, or -1 (reported). */
static int64_t
select_dim(struct parse *ps, const char *s)
{
	char	 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	int	 i;

	for (i = 0; i < SELECT_DIMS; i++)
		if (strcmp(s, select_dims[i]) == 0)
			return (i);
	word_vis(w, sizeof(w), s);
	parse_error(ps, ps->stmt_line, "unknown selection dimension \"%s\": "
	    "use ping, hops, geo or score", w);
	return (-1);
}

/* "location LAT LON", decimal degrees. */
static void
set_location(struct parse *ps, const char *lat, const char *lon)
{
	char	 w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	int64_t	 la, lo, max;
	int	 bad = 0;

	if (once_select(ps, SEEN_SEL_LOCATION, "location") == -1)
		return;
	max = (int64_t)CONF_LAT_MAX * LOCATION_SCALE;
	if (decimal(lat, CONF_LOCATION_DIGITS, &la) == -1 || la < -max ||
	    la > max) {
		word_vis(w, sizeof(w), lat);
		parse_error(ps, ps->stmt_line, "location latitude \"%s\": "
		    "decimal degrees from -%d to %d expected", w, CONF_LAT_MAX,
		    CONF_LAT_MAX);
		bad = 1;
	}
	max = (int64_t)CONF_LON_MAX * LOCATION_SCALE;
	if (decimal(lon, CONF_LOCATION_DIGITS, &lo) == -1 || lo < -max ||
	    lo > max) {
		word_vis(w, sizeof(w), lon);
		parse_error(ps, ps->stmt_line, "location longitude \"%s\": "
		    "decimal degrees from -%d to %d expected", w, CONF_LON_MAX,
		    CONF_LON_MAX);
		bad = 1;
	}
	if (bad)
		return;
	ps->conf.has_location = 1;
	ps->conf.lat_e6 = la;
	ps->conf.lon_e6 = lo;
}

/* "select weight DIM W", W a decimal from 0 to CONF_WEIGHT_MAX. */
static void
set_weight(struct parse *ps, int64_t dim, const char *s)
{
	char	 what[32], w[CONF_ERRWORD * VIS_CHAR_MAX + 4];
	int64_t	 v;

	if (dim < 0 || dim >= SELECT_DIMS)
		return;
	(void)snprintf(what, sizeof(what), "select weight %s",
	    select_dims[dim]);
	if (once_select(ps, SEEN_SEL_WEIGHT(dim), what) == -1)
		return;
	if (decimal(s, CONF_WEIGHT_DIGITS, &v) == -1 || v < 0 ||
	    v > (int64_t)CONF_WEIGHT_MAX * SELECT_WEIGHT_SCALE) {
		word_vis(w, sizeof(w), s);
		parse_error(ps, ps->stmt_line, "%s \"%s\": a decimal from 0 "
		    "to %d expected", what, w, CONF_WEIGHT_MAX);
		return;
	}
	ps->conf.select_weight[dim] = v;
}

/* "select bound DIM N", N in the dimension's unit. */
static void
set_bound(struct parse *ps, int64_t dim, int64_t n, const char *digits)
{
	static const int64_t	 max[SELECT_DIMS] = {
		CONF_BOUND_PING_MAX, CONF_BOUND_HOPS_MAX, CONF_BOUND_GEO_MAX,
		CONF_BOUND_SCORE_MAX
	};
	char			 what[32];

	if (dim < 0 || dim >= SELECT_DIMS)
		return;
	(void)snprintf(what, sizeof(what), "select bound %s",
	    select_dims[dim]);
	if (once_select(ps, SEEN_SEL_BOUND(dim), what) == -1 ||
	    in_range(ps, what, n, digits, 1, max[dim]) == -1)
		return;
	ps->conf.select_bound[dim] = n;
}
