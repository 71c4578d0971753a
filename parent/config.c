/*
 * lethd.conf(5): defaults, reading the file, printing the result, and
 * the checks that need the system (users, group, file limit).  The
 * grammar itself is in parse.y.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef LIBBSD_OPENBSD_VIS
#define LIBBSD_OPENBSD_VIS	/* libbsd: OpenBSD's strnvis(3) */
#endif
#include <vis.h>

#include "conf.h"

/* Role names in conf_check_system's messages, by enum conf_user. */
static const char *const conf_user_role[USER_MAX] = {
	"keyd user",
	"netd user",
	"user",
	"miner user"
};

void
conf_errorf(struct conf_errors *errs, const char *fmt, ...)
{
	va_list	ap;

	if (errs->n >= CONF_ERRMAX) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(errs->line[errs->n], sizeof(errs->line[0]), fmt, ap);
	va_end(ap);
	errs->n++;
}

void
conf_defaults(struct lethd_conf *conf)
{
	struct sockaddr_in	*sin;

	memset(conf, 0, sizeof(*conf));
	(void)strlcpy(conf->directory, LETHD_DIRECTORY,
	    sizeof(conf->directory));
	(void)strlcpy(conf->socket, LETHD_SOCKET, sizeof(conf->socket));
	conf->socket_mode = CONF_SOCKET_MODE;
	(void)strlcpy(conf->users[USER_KEYD], LETHD_USER_KEYD,
	    sizeof(conf->users[USER_KEYD]));
	(void)strlcpy(conf->users[USER_NETD], LETHD_USER_NETD,
	    sizeof(conf->users[USER_NETD]));
	(void)strlcpy(conf->users[USER_MINERD], LETHD_USER_MINERD,
	    sizeof(conf->users[USER_MINERD]));
	(void)strlcpy(conf->users[USER_MINER], LETHD_USER_MINER,
	    sizeof(conf->users[USER_MINER]));
	(void)strlcpy(conf->ctl_group, LETHD_CTL_GROUP,
	    sizeof(conf->ctl_group));
	conf->name[0] = '\0';

	/* Without a listen line: every IPv4 address, the default port. */
	sin = (struct sockaddr_in *)&conf->listen[0].ss;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	sin->sin_port = htons(LETHD_PORT);
	conf->listen[0].sslen = sizeof(*sin);
	conf->listen[0].port = LETHD_PORT;
	conf->nlisten = 1;

	conf->ctl_max_conn = CTL_MAX_CONN_DEFAULT;
	conf->ctl_timeout = CTL_TIMEOUT_DEFAULT;
	conf->net_max_conn = NET_MAX_CONN_DEFAULT;
	conf->advertise[0] = '\0';
	conf->net_max_handshakes = NET_MAX_HANDSHAKES_DEFAULT;
	conf->net_hs_per_addr = NET_HS_PER_ADDR_DEFAULT;
	conf->net_hs_per_subnet = NET_HS_PER_SUBNET_DEFAULT;
	conf->net_hs_timeout = NET_HS_TIMEOUT_DEFAULT;
	conf->net_max_message = LETHD_MAX_MESSAGE;
	conf->net_msg_rate = NET_MSG_RATE_DEFAULT;
	conf->net_ping_interval = NET_PING_INTERVAL_DEFAULT;
	conf->net_pong_timeout = NET_PONG_TIMEOUT_DEFAULT;
	conf->net_max_header = NET_MAX_HEADER_DEFAULT;
	conf->net_session_lifetime = NET_SESSION_LIFETIME_DEFAULT;
	conf->keyd_sign_rate = KEYD_SIGN_RATE_DEFAULT;
	conf->msg_ts_window = MSG_TS_WINDOW_DEFAULT;
	conf->replay_cache_max = REPLAY_CACHE_DEFAULT;
	conf->log_rate = LOG_RATE_DEFAULT;
	conf->miner_backoff_min_ms = MINER_BACKOFF_MIN_MS;
	conf->miner_backoff_max_ms = MINER_BACKOFF_MAX_MS;
	conf->miner_crashes_max = MINER_CRASHES_MAX;
	conf->miner_crash_window = MINER_CRASH_WINDOW;
	conf->miner_stop_grace = MINER_STOP_GRACE;
	conf->miner_nofile = MINER_NOFILE_DEFAULT;
	conf->miner_pids = MINER_PIDS_DEFAULT;
	conf->miner_nproc = MINER_NPROC_DEFAULT;
	conf->miner_max = CONF_MINER_MAX_DEFAULT;
	conf->miner_hugepages = 0;
	conf->miner_msr = 0;
	conf->miner_poll = MINER_POLL_DEFAULT;
	conf->watchdog_zero = WATCHDOG_ZERO_DEFAULT;
	conf->watchdog_api = WATCHDOG_API_DEFAULT;
	conf->ring_lines = RING_LINES_DEFAULT;
	conf->ring_bytes = RING_BYTES_DEFAULT;
	conf->history_samples = HISTORY_SAMPLES_DEFAULT;
	conf->history_minutes = HISTORY_MINUTES_DEFAULT;
	conf->history_max_mb = HISTORY_MAX_MB_DEFAULT;
	conf->has_location = 0;
	conf->lat_e6 = conf->lon_e6 = 0;
	conf->select_weight[SELECT_PING] = SELECT_WEIGHT_PING_DEFAULT;
	conf->select_weight[SELECT_HOPS] = SELECT_WEIGHT_HOPS_DEFAULT;
	conf->select_weight[SELECT_GEO] = SELECT_WEIGHT_GEO_DEFAULT;
	conf->select_weight[SELECT_SCORE] = SELECT_WEIGHT_SCORE_DEFAULT;
	conf->select_bound[SELECT_PING] = SELECT_BOUND_PING_DEFAULT;
	conf->select_bound[SELECT_HOPS] = SELECT_BOUND_HOPS_DEFAULT;
	conf->select_bound[SELECT_GEO] = SELECT_BOUND_GEO_DEFAULT;
	conf->select_bound[SELECT_SCORE] = SELECT_BOUND_SCORE_DEFAULT;
	conf->select_ping_interval = SELECT_PING_INTERVAL_DEFAULT;
	conf->remote_timeout = REMOTE_TIMEOUT_DEFAULT;
	conf->remote_command_timeout = REMOTE_COMMAND_TIMEOUT_DEFAULT;
}

/*
 * A quoted string as the lexer reads it back.  The parser lets no
 * control character through; one in a conf made elsewhere is vis(3)
 * encoded rather than written to the terminal.
 */
static void
conf_print_string(FILE *fp, const char *s)
{
	char	buf[5];

	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', fp);
			fputc(*s, fp);
		} else if ((unsigned char)*s < 0x20 ||
		    (unsigned char)*s == 0x7f) {
			(void)vis(buf, (unsigned char)*s, VIS_OCTAL, 0);
			fputs(buf, fp);
		} else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
conf_print_listen(FILE *fp, const struct conf_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 addr[INET6_ADDRSTRLEN];

	if (l->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&l->ss;
		if (inet_ntop(AF_INET, &sin->sin_addr, addr,
		    sizeof(addr)) == NULL)
			(void)strlcpy(addr, "?", sizeof(addr));
	} else {
		sin6 = (const struct sockaddr_in6 *)&l->ss;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr,
		    sizeof(addr)) == NULL)
			(void)strlcpy(addr, "?", sizeof(addr));
	}
	fprintf(fp, "listen on %s port %u\n", addr, l->port);
}

/* The PEER TRANSPORT keywords, in lethd.conf(5)'s order. */
static void
conf_print_transport(FILE *fp, const struct lethd_conf *conf)
{
	fprintf(fp, "max handshakes %u\n", conf->net_max_handshakes);
	fprintf(fp, "handshakes per address %u\n", conf->net_hs_per_addr);
	fprintf(fp, "handshakes per subnet %u\n", conf->net_hs_per_subnet);
	fprintf(fp, "handshake timeout %u\n", conf->net_hs_timeout);
	fprintf(fp, "max header %u\n", conf->net_max_header);
	fprintf(fp, "max message %u\n", conf->net_max_message);
	fprintf(fp, "message rate %u\n", conf->net_msg_rate);
	fprintf(fp, "ping interval %u\n", conf->net_ping_interval);
	fprintf(fp, "pong timeout %u\n", conf->net_pong_timeout);
	fprintf(fp, "session lifetime %u\n", conf->net_session_lifetime);
	fprintf(fp, "keyd sign rate %u\n", conf->keyd_sign_rate);
	fprintf(fp, "timestamp window %u\n", conf->msg_ts_window);
	fprintf(fp, "replay cache %u\n", conf->replay_cache_max);
}

/* The MINERS keywords, in lethd.conf(5)'s order. */
static void
conf_print_miners(FILE *fp, const struct lethd_conf *conf)
{
	fprintf(fp, "max miners %u\n", conf->miner_max);
	fprintf(fp, "miner backoff %u %u\n", conf->miner_backoff_min_ms,
	    conf->miner_backoff_max_ms);
	fprintf(fp, "miner failed after %u crashes in %u seconds\n",
	    conf->miner_crashes_max, conf->miner_crash_window);
	fprintf(fp, "miner stop grace %u\n", conf->miner_stop_grace);
	fprintf(fp, "miner limit files %u\n", conf->miner_nofile);
	fprintf(fp, "miner limit processes %u\n", conf->miner_pids);
	fprintf(fp, "miner limit user processes %u\n", conf->miner_nproc);
	fprintf(fp, "miner hugepages %u\n", conf->miner_hugepages);
	fprintf(fp, "miner msr %s\n", conf->miner_msr ? "yes" : "no");
	fprintf(fp, "miner poll interval %u\n", conf->miner_poll);
	fprintf(fp, "watchdog zero hashrate %u\n", conf->watchdog_zero);
	fprintf(fp, "watchdog api timeout %u\n", conf->watchdog_api);
	fprintf(fp, "miner log lines %u\n", conf->ring_lines);
	fprintf(fp, "miner log bytes %u\n", conf->ring_bytes);
	fprintf(fp, "history samples %u\n", conf->history_samples);
	fprintf(fp, "history averages %u\n", conf->history_minutes);
	fprintf(fp, "history size %u\n", conf->history_max_mb);
}

/* A fixed-point value: digits decimals, the sign of v. */
static void
conf_print_fixed(FILE *fp, long long v, unsigned int digits)
{
	long long	 scale = 1;
	unsigned int	 i;

	for (i = 0; i < digits; i++)
		scale *= 10;
	fprintf(fp, "%s%lld.%0*lld", v < 0 ? "-" : "", (v < 0 ? -v : v) /
	    scale, (int)digits, (v < 0 ? -v : v) % scale);
}

/* The PEER SELECTION keywords, in lethd.conf(5)'s order. */
static void
conf_print_select(FILE *fp, const struct lethd_conf *conf)
{
	static const char *const dims[SELECT_DIMS] = {
		"ping", "hops", "geo", "score"
	};
	unsigned int		 i;

	if (!conf->has_location)
		fputs("# location not set\n", fp);
	else {
		fputs("location ", fp);
		conf_print_fixed(fp, conf->lat_e6, CONF_LOCATION_DIGITS);
		fputc(' ', fp);
		conf_print_fixed(fp, conf->lon_e6, CONF_LOCATION_DIGITS);
		fputc('\n', fp);
	}
	for (i = 0; i < SELECT_DIMS; i++) {
		fprintf(fp, "select weight %s ", dims[i]);
		conf_print_fixed(fp, conf->select_weight[i],
		    CONF_WEIGHT_DIGITS);
		fputc('\n', fp);
	}
	for (i = 0; i < SELECT_DIMS; i++)
		fprintf(fp, "select bound %s %u\n", dims[i],
		    conf->select_bound[i]);
	fprintf(fp, "select ping interval %u\n", conf->select_ping_interval);
}

void
conf_print(FILE *fp, const struct lethd_conf *conf)
{
	unsigned int	i;

	fputs("directory ", fp);
	conf_print_string(fp, conf->directory);
	fputs("\nsocket ", fp);
	conf_print_string(fp, conf->socket);
	fprintf(fp, " mode %04o\n", (unsigned int)conf->socket_mode);

	fputs("user ", fp);
	conf_print_string(fp, conf->users[USER_MINERD]);
	fputs("\nkeyd user ", fp);
	conf_print_string(fp, conf->users[USER_KEYD]);
	fputs("\nnetd user ", fp);
	conf_print_string(fp, conf->users[USER_NETD]);
	fputs("\nminer user ", fp);
	conf_print_string(fp, conf->users[USER_MINER]);
	fputs("\n", fp);

	fputs("control group ", fp);
	conf_print_string(fp, conf->ctl_group);
	fprintf(fp, "\ncontrol max connections %u\n", conf->ctl_max_conn);
	fprintf(fp, "control timeout %u\n", conf->ctl_timeout);

	if (conf->name[0] == '\0')
		fputs("# name not set: the host name\n", fp);
	else {
		fputs("name ", fp);
		conf_print_string(fp, conf->name);
		fputs("\n", fp);
	}

	for (i = 0; i < conf->nlisten && i < NET_MAX_LISTEN; i++)
		conf_print_listen(fp, &conf->listen[i]);
	if (conf->advertise[0] == '\0')
		fputs("# advertise not set\n", fp);
	else {
		fputs("advertise ", fp);
		conf_print_string(fp, conf->advertise);
		fputs("\n", fp);
	}
	fprintf(fp, "max connections %u\n", conf->net_max_conn);
	if (conf->api_listen_set) {
		fputs("api ", fp);
		conf_print_listen(fp, &conf->api_listen);
	}
	conf_print_transport(fp, conf);
	conf_print_miners(fp, conf);
	conf_print_select(fp, conf);
	fprintf(fp, "remote timeout %u\n", conf->remote_timeout);
	fprintf(fp, "remote command timeout %u\n",
	    conf->remote_command_timeout);
	fprintf(fp, "log rate %u\n", conf->log_rate);
}

int
conf_parse_file(const char *path, struct lethd_conf *conf,
    struct conf_errors *errs)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rv;

	memset(errs, 0, sizeof(*errs));
	/* O_NONBLOCK: a FIFO must not hang us before fstat says no. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		conf_errorf(errs, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		conf_errorf(errs, "%s: fstat: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		conf_errorf(errs, "%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if (st.st_size > CONF_MAXSIZE) {
		conf_errorf(errs, "%s: file too large (at most %d bytes)",
		    path, CONF_MAXSIZE);
		close(fd);
		return (-1);
	}
	/* One byte more than allowed, to see a file that grew meanwhile. */
	if ((buf = malloc(CONF_MAXSIZE + 1)) == NULL) {
		conf_errorf(errs, "%s: out of memory", path);
		close(fd);
		return (-1);
	}
	while (len < CONF_MAXSIZE + 1) {
		n = read(fd, buf + len, CONF_MAXSIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_errorf(errs, "%s: read: %s", path,
			    strerror(errno));
			free(buf);
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (len > CONF_MAXSIZE) {
		conf_errorf(errs, "%s: file too large (at most %d bytes)",
		    path, CONF_MAXSIZE);
		free(buf);
		return (-1);
	}
	rv = conf_parse_buffer(path, buf, len, conf, errs);
	free(buf);
	return (rv);
}

int
conf_check_system(const char *file, const struct lethd_conf *conf,
    struct conf_errors *errs)
{
	struct passwd	*pw;
	struct group	*gr;
	struct rlimit	 rl;
	uid_t		 uid[USER_MAX];
	gid_t		 gid[USER_MAX];
	int		 found[USER_MAX];
	const char	*a, *b;
	int		 i, j;

	memset(errs, 0, sizeof(*errs));
	for (i = 0; i < USER_MAX; i++) {
		found[i] = 0;
		if ((pw = getpwnam(conf->users[i])) == NULL) {
			conf_errorf(errs, "%s: unknown user %s", file,
			    conf->users[i]);
			continue;
		}
		uid[i] = pw->pw_uid;
		gid[i] = pw->pw_gid;
		found[i] = 1;
		if (uid[i] == 0)
			conf_errorf(errs, "%s: user %s has uid 0", file,
			    conf->users[i]);
		if (gid[i] == 0)
			conf_errorf(errs, "%s: user %s has primary group 0",
			    file, conf->users[i]);
	}

	/* Each child apart from the others: no uid, no group in common. */
	for (i = 0; i < USER_MAX; i++) {
		for (j = i + 1; j < USER_MAX; j++) {
			if (!found[i] || !found[j])
				continue;
			a = conf->users[i];
			b = conf->users[j];
			if (strcmp(a, b) == 0)
				conf_errorf(errs, "%s: %s and %s are the "
				    "same user %s", file, conf_user_role[i],
				    conf_user_role[j], a);
			else if (uid[i] == uid[j])
				conf_errorf(errs, "%s: users %s and %s share "
				    "uid %lu", file, a, b,
				    (unsigned long)uid[i]);
			else if (gid[i] == gid[j])
				conf_errorf(errs, "%s: users %s and %s share "
				    "primary group %lu", file, a, b,
				    (unsigned long)gid[i]);
		}
	}

	if ((gr = getgrnam(conf->ctl_group)) == NULL)
		conf_errorf(errs, "%s: unknown group %s", file,
		    conf->ctl_group);
	else if (gr->gr_gid == 0)
		conf_errorf(errs, "%s: group %s has gid 0", file,
		    conf->ctl_group);

	/* The parent raises netd's soft limit; the hard one caps it. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		conf_errorf(errs, "%s: getrlimit: %s", file, strerror(errno));
	else if (rl.rlim_max != RLIM_INFINITY &&
	    (rlim_t)conf->net_max_conn + NET_FD_RESERVE > rl.rlim_max)
		conf_errorf(errs, "%s: max connections %u exceeds the file "
		    "limit (hard limit %llu)", file, conf->net_max_conn,
		    (unsigned long long)rl.rlim_max);

	return (errs->n > 0 || errs->dropped > 0 ? -1 : 0);
}
