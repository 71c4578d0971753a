/*
 * lethd.conf(5): the grammar against golden files, the reading of a
 * file, and the system checks.
 *
 * regress/conf/good/X.conf parses and conf_print gives X.out exactly;
 * regress/conf/bad/X.conf fails with exactly the lines of X.err, named
 * by the file's base name.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

/* Not "config.h", which from regress/ is autoconf's header. */
#include "conf.h"

#ifndef REGRESS_SRCDIR
#error "build with -DREGRESS_SRCDIR=the source regress directory"
#endif

/* Times the same inputs are parsed to show no state survives a call. */
#define REPEAT_PARSES	1000

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "r")) == NULL)
		atf_tc_fail("fopen %s: %s", path, strerror(errno));
	ATF_REQUIRE(fseek(fp, 0, SEEK_END) == 0);
	ATF_REQUIRE((len = ftell(fp)) >= 0);
	rewind(fp);
	ATF_REQUIRE((buf = malloc(len + 1)) != NULL);
	ATF_REQUIRE(fread(buf, 1, len, fp) == (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	*lenp = len;
	return (buf);
}

static char *
print_conf(const struct lethd_conf *conf)
{
	FILE	*fp;
	char	*out = NULL;
	size_t	 len = 0;

	ATF_REQUIRE((fp = open_memstream(&out, &len)) != NULL);
	conf_print(fp, conf);
	ATF_REQUIRE(fclose(fp) == 0);
	return (out);
}

/* The error lines, each ending in a newline, as a .err file has them. */
static char *
join_errors(const struct conf_errors *errs)
{
	FILE		*fp;
	char		*out = NULL;
	size_t		 len = 0;
	unsigned int	 i;

	ATF_REQUIRE((fp = open_memstream(&out, &len)) != NULL);
	for (i = 0; i < errs->n; i++)
		fprintf(fp, "%s\n", errs->line[i]);
	if (errs->dropped > 0)
		fprintf(fp, "(%u more)\n", errs->dropped);
	ATF_REQUIRE(fclose(fp) == 0);
	return (out);
}

static int
is_conf(const struct dirent *d)
{
	size_t	len = strlen(d->d_name);

	return (len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0);
}

/* Calls fn(dir, base name without .conf) for each X.conf in dir. */
static int
each_conf(const char *dir, void (*fn)(const char *, const char *))
{
	struct dirent	**names;
	char		  base[NAME_MAX + 1];
	int		  i, n;

	n = scandir(dir, &names, is_conf, alphasort);
	if (n == -1)
		atf_tc_fail("scandir %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		(void)strlcpy(base, names[i]->d_name, sizeof(base));
		base[strlen(base) - 5] = '\0';
		fn(dir, base);
		free(names[i]);
	}
	free(names);
	return (n);
}

static int
parse_string(const char *s, struct lethd_conf *conf,
    struct conf_errors *errs)
{
	return (conf_parse_buffer("test.conf", s, strlen(s), conf, errs));
}

static void
check_good(const char *dir, const char *base)
{
	struct lethd_conf	 conf, again;
	struct conf_errors	 errs;
	char			 path[PATH_MAX], name[PATH_MAX];
	char			*buf, *want, *got, *got2, *e;
	size_t			 len, wantlen;

	(void)snprintf(path, sizeof(path), "%s/%s.conf", dir, base);
	(void)snprintf(name, sizeof(name), "%s.conf", base);
	buf = slurp(path, &len);
	if (conf_parse_buffer(name, buf, len, &conf, &errs) != 0) {
		e = join_errors(&errs);
		atf_tc_fail_nonfatal("%s: unexpected errors:\n%s", name, e);
		free(e);
		free(buf);
		return;
	}
	ATF_CHECK_EQ(errs.n, 0);
	got = print_conf(&conf);
	(void)snprintf(path, sizeof(path), "%s/%s.out", dir, base);
	want = slurp(path, &wantlen);
	ATF_CHECK_STREQ_MSG(got, want, "%s: conf_print differs from %s.out",
	    name, base);

	/* What conf_print writes parses back to the same configuration. */
	ATF_CHECK_EQ_MSG(conf_parse_buffer("again", got, strlen(got), &again,
	    &errs), 0, "%s: conf_print output does not parse: %s", name,
	    errs.n > 0 ? errs.line[0] : "");
	got2 = print_conf(&again);
	ATF_CHECK_STREQ_MSG(got2, got, "%s: printing is not stable", name);

	free(got2);
	free(got);
	free(want);
	free(buf);
}

static void
check_bad(const char *dir, const char *base)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			 path[PATH_MAX], name[PATH_MAX];
	char			*buf, *want, *got;
	size_t			 len, wantlen;

	(void)snprintf(path, sizeof(path), "%s/%s.conf", dir, base);
	(void)snprintf(name, sizeof(name), "%s.conf", base);
	buf = slurp(path, &len);
	ATF_CHECK_EQ_MSG(conf_parse_buffer(name, buf, len, &conf, &errs), -1,
	    "%s parsed", name);
	got = join_errors(&errs);
	(void)snprintf(path, sizeof(path), "%s/%s.err", dir, base);
	want = slurp(path, &wantlen);
	ATF_CHECK_STREQ_MSG(got, want, "%s: errors differ from %s.err",
	    name, base);
	free(got);
	free(want);
	free(buf);
}

ATF_TC_WITHOUT_HEAD(good_configs_print_golden_output);
ATF_TC_BODY(good_configs_print_golden_output, tc)
{
	ATF_CHECK(each_conf(REGRESS_SRCDIR "/conf/good", check_good) > 0);
}

ATF_TC_WITHOUT_HEAD(bad_configs_give_exact_errors);
ATF_TC_BODY(bad_configs_give_exact_errors, tc)
{
	ATF_CHECK(each_conf(REGRESS_SRCDIR "/conf/bad", check_bad) > 0);
}

ATF_TC_WITHOUT_HEAD(defaults_come_from_lethd_h);
ATF_TC_BODY(defaults_come_from_lethd_h, tc)
{
	struct lethd_conf	conf, parsed;
	struct conf_errors	errs;

	conf_defaults(&conf);
	ATF_CHECK_STREQ(conf.directory, LETHD_DIRECTORY);
	ATF_CHECK_STREQ(conf.socket, LETHD_SOCKET);
	ATF_CHECK_EQ(conf.socket_mode, 0660);
	ATF_CHECK_STREQ(conf.users[USER_KEYD], LETHD_USER_KEYD);
	ATF_CHECK_STREQ(conf.users[USER_NETD], LETHD_USER_NETD);
	ATF_CHECK_STREQ(conf.users[USER_MINERD], LETHD_USER_MINERD);
	ATF_CHECK_STREQ(conf.users[USER_MINER], LETHD_USER_MINER);
	ATF_CHECK_STREQ(conf.ctl_group, LETHD_CTL_GROUP);
	ATF_CHECK_STREQ(conf.name, "");
	ATF_CHECK_EQ(conf.nlisten, 1);
	ATF_CHECK_EQ(conf.listen[0].port, LETHD_PORT);
	ATF_CHECK_EQ(conf.listen[0].ss.ss_family, AF_INET);
	ATF_CHECK_EQ(conf.ctl_max_conn, CTL_MAX_CONN_DEFAULT);
	ATF_CHECK_EQ(conf.ctl_timeout, CTL_TIMEOUT_DEFAULT);
	ATF_CHECK_EQ(conf.net_max_conn, NET_MAX_CONN_DEFAULT);
	ATF_CHECK_EQ(conf.log_rate, LOG_RATE_DEFAULT);
	ATF_CHECK_STREQ(conf.advertise, "");
	ATF_CHECK_EQ(conf.net_max_handshakes, NET_MAX_HANDSHAKES_DEFAULT);
	ATF_CHECK_EQ(conf.net_hs_per_addr, NET_HS_PER_ADDR_DEFAULT);
	ATF_CHECK_EQ(conf.net_hs_per_subnet, NET_HS_PER_SUBNET_DEFAULT);
	ATF_CHECK_EQ(conf.net_hs_timeout, NET_HS_TIMEOUT_DEFAULT);
	ATF_CHECK_EQ(conf.net_max_message, LETHD_MAX_MESSAGE);
	ATF_CHECK_EQ(conf.net_msg_rate, NET_MSG_RATE_DEFAULT);
	ATF_CHECK_EQ(conf.net_ping_interval, NET_PING_INTERVAL_DEFAULT);
	ATF_CHECK_EQ(conf.net_pong_timeout, NET_PONG_TIMEOUT_DEFAULT);
	ATF_CHECK_EQ(conf.net_max_header, NET_MAX_HEADER_DEFAULT);
	ATF_CHECK_EQ(conf.net_session_lifetime, NET_SESSION_LIFETIME_DEFAULT);
	ATF_CHECK_EQ(conf.keyd_sign_rate, KEYD_SIGN_RATE_DEFAULT);
	ATF_CHECK_EQ(conf.msg_ts_window, MSG_TS_WINDOW_DEFAULT);
	ATF_CHECK_EQ(conf.replay_cache_max, REPLAY_CACHE_DEFAULT);
	ATF_CHECK_EQ(conf.miner_backoff_min_ms, MINER_BACKOFF_MIN_MS);
	ATF_CHECK_EQ(conf.miner_backoff_max_ms, MINER_BACKOFF_MAX_MS);
	ATF_CHECK_EQ(conf.miner_crashes_max, MINER_CRASHES_MAX);
	ATF_CHECK_EQ(conf.miner_crash_window, MINER_CRASH_WINDOW);
	ATF_CHECK_EQ(conf.miner_stop_grace, MINER_STOP_GRACE);
	ATF_CHECK_EQ(conf.miner_nofile, MINER_NOFILE_DEFAULT);
	ATF_CHECK_EQ(conf.miner_pids, MINER_PIDS_DEFAULT);
	ATF_CHECK_EQ(conf.miner_nproc, MINER_NPROC_DEFAULT);
	ATF_CHECK_EQ(conf.miner_max, CONF_MINER_MAX_DEFAULT);
	ATF_CHECK_EQ(conf.miner_hugepages, 0);
	ATF_CHECK_EQ(conf.miner_msr, 0);
	ATF_CHECK_EQ(conf.miner_poll, MINER_POLL_DEFAULT);
	ATF_CHECK_EQ(conf.watchdog_zero, WATCHDOG_ZERO_DEFAULT);
	ATF_CHECK_EQ(conf.watchdog_api, WATCHDOG_API_DEFAULT);
	ATF_CHECK_EQ(conf.ring_lines, RING_LINES_DEFAULT);
	ATF_CHECK_EQ(conf.ring_bytes, RING_BYTES_DEFAULT);
	ATF_CHECK_EQ(conf.history_samples, HISTORY_SAMPLES_DEFAULT);
	ATF_CHECK_EQ(conf.history_minutes, HISTORY_MINUTES_DEFAULT);
	ATF_CHECK_EQ(conf.history_max_mb, HISTORY_MAX_MB_DEFAULT);

	/* An empty file is every default. */
	ATF_REQUIRE(conf_parse_buffer("empty", "", 0, &parsed, &errs) == 0);
	ATF_CHECK(memcmp(&conf, &parsed, sizeof(conf)) == 0);
}

/* Distinct values, so that two keywords sharing a field would show. */
ATF_TC_WITHOUT_HEAD(transport_keywords_set_their_own_fields);
ATF_TC_BODY(transport_keywords_set_their_own_fields, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	ATF_REQUIRE_EQ_MSG(parse_string(
	    "max handshakes 101\n"
	    "handshakes per address 102\n"
	    "handshakes per subnet 103\n"
	    "handshake timeout 104\n"
	    "max message 1105\n"
	    "message rate 106\n"
	    "ping interval 107\n"
	    "pong timeout 108\n"
	    "max header 1109\n"
	    "session lifetime 110\n"
	    "keyd sign rate 111\n"
	    "timestamp window 112\n"
	    "replay cache 113\n"
	    "advertise \"[::1]:114\"\n"
	    "max connections 115\n", &conf, &errs), 0, "%s", errs.line[0]);
	ATF_CHECK_EQ(conf.net_max_handshakes, 101);
	ATF_CHECK_EQ(conf.net_hs_per_addr, 102);
	ATF_CHECK_EQ(conf.net_hs_per_subnet, 103);
	ATF_CHECK_EQ(conf.net_hs_timeout, 104);
	ATF_CHECK_EQ(conf.net_max_message, 1105);
	ATF_CHECK_EQ(conf.net_msg_rate, 106);
	ATF_CHECK_EQ(conf.net_ping_interval, 107);
	ATF_CHECK_EQ(conf.net_pong_timeout, 108);
	ATF_CHECK_EQ(conf.net_max_header, 1109);
	ATF_CHECK_EQ(conf.net_session_lifetime, 110);
	ATF_CHECK_EQ(conf.keyd_sign_rate, 111);
	ATF_CHECK_EQ(conf.msg_ts_window, 112);
	ATF_CHECK_EQ(conf.replay_cache_max, 113);
	ATF_CHECK_STREQ(conf.advertise, "[::1]:114");
	ATF_CHECK_EQ(conf.net_max_conn, 115);
	/* Untouched by any of them. */
	ATF_CHECK_EQ(conf.log_rate, LOG_RATE_DEFAULT);
	ATF_CHECK_EQ(conf.ctl_timeout, CTL_TIMEOUT_DEFAULT);
	ATF_CHECK_EQ(conf.ctl_max_conn, CTL_MAX_CONN_DEFAULT);
}

/* Distinct values again, for the MINERS keywords. */
ATF_TC_WITHOUT_HEAD(miner_keywords_set_their_own_fields);
ATF_TC_BODY(miner_keywords_set_their_own_fields, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	ATF_REQUIRE_EQ_MSG(parse_string(
	    "max miners 21\n"
	    "miner backoff 122 123\n"
	    "miner failed after 124 crashes in 125 seconds\n"
	    "miner stop grace 126\n"
	    "miner limit files 127\n"
	    "miner limit processes 128\n"
	    "miner limit user processes 129\n"
	    "miner hugepages 130\n"
	    "miner msr yes\n"
	    "miner poll interval 31\n"
	    "watchdog zero hashrate 132\n"
	    "watchdog api timeout 133\n"
	    "miner log lines 134\n"
	    "miner log bytes 4135\n"
	    "history samples 3636\n"
	    "history averages 3637\n"
	    "history size 138\n", &conf, &errs), 0, "%s", errs.line[0]);
	ATF_CHECK_EQ(conf.miner_max, 21);
	ATF_CHECK_EQ(conf.miner_backoff_min_ms, 122);
	ATF_CHECK_EQ(conf.miner_backoff_max_ms, 123);
	ATF_CHECK_EQ(conf.miner_crashes_max, 124);
	ATF_CHECK_EQ(conf.miner_crash_window, 125);
	ATF_CHECK_EQ(conf.miner_stop_grace, 126);
	ATF_CHECK_EQ(conf.miner_nofile, 127);
	ATF_CHECK_EQ(conf.miner_pids, 128);
	ATF_CHECK_EQ(conf.miner_nproc, 129);
	ATF_CHECK_EQ(conf.miner_hugepages, 130);
	ATF_CHECK_EQ(conf.miner_msr, 1);
	ATF_CHECK_EQ(conf.miner_poll, 31);
	ATF_CHECK_EQ(conf.watchdog_zero, 132);
	ATF_CHECK_EQ(conf.watchdog_api, 133);
	ATF_CHECK_EQ(conf.ring_lines, 134);
	ATF_CHECK_EQ(conf.ring_bytes, 4135);
	ATF_CHECK_EQ(conf.history_samples, 3636);
	ATF_CHECK_EQ(conf.history_minutes, 3637);
	ATF_CHECK_EQ(conf.history_max_mb, 138);
	/* Untouched by any of them. */
	ATF_CHECK_EQ(conf.log_rate, LOG_RATE_DEFAULT);
	ATF_CHECK_EQ(conf.net_ping_interval, NET_PING_INTERVAL_DEFAULT);

	ATF_REQUIRE(parse_string("miner msr no\n", &conf, &errs) == 0);
	ATF_CHECK_EQ(conf.miner_msr, 0);
}

/* The watchdogs are checked against the poll interval, in any order. */
ATF_TC_WITHOUT_HEAD(watchdogs_may_not_be_shorter_than_the_poll);
ATF_TC_BODY(watchdogs_may_not_be_shorter_than_the_poll, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	ATF_CHECK(parse_string("watchdog api timeout 20\n"
	    "miner poll interval 20\n", &conf, &errs) == 0);
	ATF_CHECK_EQ(parse_string("watchdog api timeout 20\n"
	    "miner poll interval 21\n", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0], "test.conf:2: watchdog api timeout 20 "
	    "is shorter than the miner poll interval 21");
	/* The default poll interval counts too. */
	ATF_CHECK_EQ(parse_string("\nwatchdog api timeout 9\n", &conf,
	    &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0], "test.conf:2: watchdog api timeout 9 "
	    "is shorter than the miner poll interval 10");
}

ATF_TC_WITHOUT_HEAD(advertise_takes_host_port_or_bracketed_ipv6);
ATF_TC_BODY(advertise_takes_host_port_or_bracketed_ipv6, tc)
{
	static const struct {
		const char	*addr;
		int		 ok;
	} addrs[] = {
		{ "rig01:9091", 1 },
		{ "rig-01.example.org:1", 1 },
		{ "192.0.2.10:65535", 1 },
		{ "[2001:db8::10]:9091", 1 },
		{ "[::1]:80", 1 },
		{ "[::ffff:192.0.2.1]:80", 1 },
		{ "a:09091", 1 },		/* digits, in range */
		{ "", 0 },
		{ "rig01", 0 },			/* no port */
		{ "rig01:", 0 },
		{ ":9091", 0 },			/* no host */
		{ "rig01:0", 0 },
		{ "rig01:65536", 0 },
		{ "rig01:99999999999999999999", 0 },
		{ "rig01:+80", 0 },
		{ "rig01:-80", 0 },
		{ "rig01: 80", 0 },
		{ "rig01:80x", 0 },
		{ "rig_01:80", 0 },		/* not a host name character */
		{ "rig 01:80", 0 },
		{ "rig01/x:80", 0 },
		{ "user@rig01:80", 0 },
		{ "2001:db8::10:9091", 0 },	/* IPv6 without brackets */
		{ "[2001:db8::10:9091", 0 },
		{ "2001:db8::10]:9091", 0 },
		{ "[]:9091", 0 },
		{ "[rig01]:9091", 0 },
		{ "[192.0.2.1]:9091", 0 },
		{ "[fe80::1%eth0]:9091", 0 },	/* no zone: it is local */
		{ "[::1]x:80", 0 },
		{ "rig01:80:80", 0 },
	};
	struct lethd_conf	conf;
	struct conf_errors	errs;
	char			buf[256];
	size_t			i;
	int			rv;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		(void)snprintf(buf, sizeof(buf), "advertise \"%s\"\n",
		    addrs[i].addr);
		rv = parse_string(buf, &conf, &errs);
		if (!addrs[i].ok) {
			ATF_CHECK_EQ_MSG(rv, -1, "advertise \"%s\" accepted",
			    addrs[i].addr);
			ATF_CHECK_MSG(errs.n == 1 && strstr(errs.line[0],
			    "advertise") != NULL, "advertise \"%s\": %s",
			    addrs[i].addr, errs.line[0]);
			continue;
		}
		ATF_CHECK_EQ_MSG(rv, 0, "advertise \"%s\" refused: %s",
		    addrs[i].addr, errs.line[0]);
		ATF_CHECK_STREQ(conf.advertise, addrs[i].addr);
	}
}

ATF_TC_WITHOUT_HEAD(advertise_fits_a_pairing_token);
ATF_TC_BODY(advertise_fits_a_pairing_token, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;
	char			host[NET_ADDR_MAX], buf[NET_ADDR_MAX * 2];

	/* host ":1" is NET_ADDR_MAX - 1 bytes: it fits with its NUL. */
	memset(host, 'a', NET_ADDR_MAX - 3);
	host[NET_ADDR_MAX - 3] = '\0';
	(void)snprintf(buf, sizeof(buf), "advertise %s:1\n", host);
	ATF_CHECK_EQ_MSG(parse_string(buf, &conf, &errs), 0, "%s",
	    errs.line[0]);
	ATF_CHECK_EQ(strlen(conf.advertise), NET_ADDR_MAX - 1);
	(void)snprintf(buf, sizeof(buf), "advertise %s:12\n", host);
	ATF_CHECK_EQ(parse_string(buf, &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], "test.conf:1: advertise address too "
	    "long (at most 63 bytes)");
}

ATF_TC_WITHOUT_HEAD(listen_lines_replace_the_default);
ATF_TC_BODY(listen_lines_replace_the_default, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	ATF_REQUIRE(parse_string("listen on ::1 port 0\n"
	    "listen on 127.0.0.1 port 80\n", &conf, &errs) == 0);
	ATF_CHECK_EQ(conf.nlisten, 2);
	ATF_CHECK_EQ(conf.listen[0].ss.ss_family, AF_INET6);
	ATF_CHECK_EQ(conf.listen[0].sslen, sizeof(struct sockaddr_in6));
	ATF_CHECK_EQ(conf.listen[0].port, 0);
	ATF_CHECK_EQ(conf.listen[1].ss.ss_family, AF_INET);
	ATF_CHECK_EQ(conf.listen[1].sslen, sizeof(struct sockaddr_in));
	ATF_CHECK_EQ(conf.listen[1].port, 80);
}

ATF_TC_WITHOUT_HEAD(nul_byte_is_refused);
ATF_TC_BODY(nul_byte_is_refused, tc)
{
	static const char	 buf[] = "log rate 5\n\nname \"a\0b\"\n";
	struct lethd_conf	 conf;
	struct conf_errors	 errs;

	ATF_CHECK_EQ(conf_parse_buffer("nul", buf, sizeof(buf) - 1, &conf,
	    &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0], "nul:3: NUL byte in input");
}

ATF_TC_WITHOUT_HEAD(buffer_needs_no_terminating_nul);
ATF_TC_BODY(buffer_needs_no_terminating_nul, tc)
{
	static const char	 text[] = "log rate 55\nlog rate 7\n";
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			*buf;
	size_t			 len;

	/* Only the first line is given: the second is never read. */
	len = strlen("log rate 55\n");
	ATF_REQUIRE((buf = malloc(len)) != NULL);
	memcpy(buf, text, len);
	ATF_CHECK_EQ(conf_parse_buffer("t", buf, len, &conf, &errs), 0);
	ATF_CHECK_EQ(conf.log_rate, 55);
	/* Cut in the middle of a word, with no newline at the end. */
	ATF_CHECK_EQ(conf_parse_buffer("t", buf, len - 2, &conf, &errs), 0);
	ATF_CHECK_EQ(conf.log_rate, 5);
	ATF_CHECK_EQ(conf_parse_buffer("t", text, strlen(text), &conf,
	    &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], "t:2: log rate already set");
	free(buf);
}

ATF_TC_WITHOUT_HEAD(conf_is_untouched_on_error);
ATF_TC_BODY(conf_is_untouched_on_error, tc)
{
	struct lethd_conf	conf, saved;
	struct conf_errors	errs;

	memset(&conf, 0xa5, sizeof(conf));
	saved = conf;
	ATF_CHECK_EQ(parse_string("log rate 7\nlisen\n", &conf, &errs), -1);
	ATF_CHECK(memcmp(&conf, &saved, sizeof(conf)) == 0);
}

ATF_TC_WITHOUT_HEAD(errors_past_the_limit_are_counted);
ATF_TC_BODY(errors_past_the_limit_are_counted, tc)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			 buf[1024], line[32];
	int			 i;

	buf[0] = '\0';
	for (i = 0; i < CONF_ERRMAX + 4; i++) {
		(void)snprintf(line, sizeof(line), "bad%d\n", i);
		(void)strlcat(buf, line, sizeof(buf));
	}
	ATF_CHECK_EQ(parse_string(buf, &conf, &errs), -1);
	ATF_CHECK_EQ(errs.n, CONF_ERRMAX);
	ATF_CHECK_EQ(errs.dropped, 4);
	ATF_CHECK_STREQ(errs.line[0], "test.conf:1: unknown keyword \"bad0\"");
	(void)snprintf(line, sizeof(line), "test.conf:%d: unknown keyword",
	    CONF_ERRMAX);
	ATF_CHECK(strncmp(errs.line[CONF_ERRMAX - 1], line,
	    strlen(line)) == 0);

	/* Only errors set the return value, dropped ones too. */
	ATF_CHECK_EQ(parse_string("log rate 1\n", &conf, &errs), 0);
	ATF_CHECK_EQ(errs.n, 0);
	ATF_CHECK_EQ(errs.dropped, 0);
}

ATF_TC_WITHOUT_HEAD(too_large_a_buffer_is_refused);
ATF_TC_BODY(too_large_a_buffer_is_refused, tc)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			*buf;

	ATF_REQUIRE((buf = malloc(CONF_MAXSIZE + 1)) != NULL);
	memset(buf, '\n', CONF_MAXSIZE + 1);
	ATF_CHECK_EQ(conf_parse_buffer("big", buf, CONF_MAXSIZE, &conf,
	    &errs), 0);
	ATF_CHECK_EQ(conf_parse_buffer("big", buf, CONF_MAXSIZE + 1, &conf,
	    &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], "big: file too large (at most 262144 "
	    "bytes)");
	free(buf);
}

ATF_TC_WITHOUT_HEAD(socket_modes_without_execute_bits);
ATF_TC_BODY(socket_modes_without_execute_bits, tc)
{
	static const struct {
		const char	*text;
		int		 mode;		/* -1: refused */
	} modes[] = {
		{ "0600", 0600 }, { "0620", 0620 }, { "0640", 0640 },
		{ "0660", 0660 }, { "0666", 0666 }, { "0606", 0606 },
		{ "660", 0660 }, { "00660", 0660 },
		{ "0700", -1 }, { "0670", -1 }, { "0400", -1 }, { "0200", -1 },
		{ "0680", -1 }, { "-0660", -1 }, { "066", -1 }, { "10660", -1 },
		{ "0", -1 }, { "01777", -1 }, { "0664x", -1 },
		{ "4294967296", -1 }
	};
	struct lethd_conf	conf;
	struct conf_errors	errs;
	char			buf[128];
	size_t			i;
	int			rv;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		(void)snprintf(buf, sizeof(buf),
		    "socket \"/run/x.sock\" mode %s\n", modes[i].text);
		rv = parse_string(buf, &conf, &errs);
		if (modes[i].mode == -1) {
			ATF_CHECK_EQ_MSG(rv, -1, "mode %s accepted",
			    modes[i].text);
			continue;
		}
		ATF_CHECK_EQ_MSG(rv, 0, "mode %s refused: %s", modes[i].text,
		    errs.line[0]);
		ATF_CHECK_EQ_MSG(conf.socket_mode, (mode_t)modes[i].mode,
		    "mode %s", modes[i].text);
	}
}

ATF_TC_WITHOUT_HEAD(names_refuse_control_characters);
ATF_TC_BODY(names_refuse_control_characters, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	ATF_CHECK_EQ(parse_string("name \"rig\t01\"\n", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "test.conf:1: name contains a non-printable character");
	ATF_CHECK_EQ(parse_string("name \"rig\x7f\"\n", &conf, &errs), -1);
	ATF_CHECK_EQ(parse_string("name \"rig\\\n01\"\n", &conf, &errs), 0);
	ATF_CHECK_STREQ(conf.name, "rig01");
}

ATF_TC_WITHOUT_HEAD(errors_escape_what_they_quote);
ATF_TC_BODY(errors_escape_what_they_quote, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;
	char			buf[512];

	ATF_CHECK_EQ(parse_string("user \"\x1b[2J\"\n", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "test.conf:1: invalid user name \"\\033[2J\"");
	ATF_CHECK_EQ(parse_string("a = \"x\\\"y\"\nuser $a\n", &conf, &errs),
	    -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "test.conf:2: invalid user name \"x\\\"y\"");
	ATF_CHECK_EQ(parse_string("\x01\n", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "test.conf:1: unexpected character \"\\001\"");

	/* A long word is cut. */
	(void)snprintf(buf, sizeof(buf), "user \"-%0100d\"\n", 0);
	ATF_CHECK_EQ(parse_string(buf, &conf, &errs), -1);
	ATF_CHECK(strlen(errs.line[0]) < 120);
	ATF_CHECK(strstr(errs.line[0], "...\"") != NULL);
}

ATF_TC_WITHOUT_HEAD(line_numbers_count_continued_lines);
ATF_TC_BODY(line_numbers_count_continued_lines, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	/* A statement's error names the line it starts on. */
	ATF_CHECK_EQ(parse_string("\n# c\nlog \\\nrate \\\n0\nlisen\n",
	    &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 2);
	ATF_CHECK_STREQ(errs.line[0],
	    "test.conf:3: log rate 0 out of range (1-10000)");
	ATF_CHECK_STREQ(errs.line[1], "test.conf:6: unknown keyword \"lisen\"");
}

ATF_TC_WITHOUT_HEAD(macros_are_single_tokens);
ATF_TC_BODY(macros_are_single_tokens, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	/* A value with a keyword in it stays data. */
	ATF_CHECK_EQ(parse_string("n = \"log rate 5\"\nname $n\n", &conf,
	    &errs), 0);
	ATF_CHECK_STREQ(conf.name, "log rate 5");
	/* A macro naming itself is not expanded again. */
	ATF_CHECK_EQ(parse_string("a = \"$a\"\na = $a\nname $a\n", &conf,
	    &errs), 0);
	ATF_CHECK_STREQ(conf.name, "$a");
	/* Quoted digits used as a number. */
	ATF_CHECK_EQ(parse_string("r = \"12\"\nlog rate $r\n", &conf, &errs),
	    0);
	ATF_CHECK_EQ(conf.log_rate, 12);
	ATF_CHECK_EQ(parse_string("a = 1\n$a = 2\n", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], "test.conf:2: syntax error");
}

ATF_TC_WITHOUT_HEAD(too_many_macros_are_refused);
ATF_TC_BODY(too_many_macros_are_refused, tc)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			*buf;
	size_t			 size = (CONF_MACRO_MAX + 2) * 32;
	char			 line[32];
	int			 i;

	ATF_REQUIRE((buf = calloc(1, size)) != NULL);
	for (i = 0; i < CONF_MACRO_MAX; i++) {
		(void)snprintf(line, sizeof(line), "m%d = %d\n", i, i);
		(void)strlcat(buf, line, size);
	}
	/* Redefining one is no new macro. */
	(void)strlcat(buf, "m0 = 1\n", size);
	ATF_CHECK_EQ(parse_string(buf, &conf, &errs), 0);
	(void)strlcat(buf, "one_more = 1\n", size);
	ATF_CHECK_EQ(parse_string(buf, &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK(strstr(errs.line[0], "too many macros (at most 128)") !=
	    NULL);
	free(buf);
}

/*
 * The same inputs give the same answers however often they are parsed
 * and in whatever order: no state survives a call.
 */
ATF_TC_WITHOUT_HEAD(repeated_parses_give_identical_results);
ATF_TC_BODY(repeated_parses_give_identical_results, tc)
{
	static const char	*inputs[] = {
		"a = \"/var/lib/x\"\ndirectory $a\nlisten on ::1 port 1\n",
		"lisen on\nlog rate 0\n\"unterminated\ndirectory x\n",
		"b = 5\nlog rate $b\nname \"rig\"\nmax connections 9\n",
		"directory \"/a\"\ndirectory \"/b\"\nuser $a\n",
		"socket \"/run/s\" mode 0666\ncontrol timeout 60\n",
		"log rate\n\x01\nlisten on * port 70000\n",
		"max message 2048\nreplay cache 15\nadvertise \"[::1]:9\"\n",
		"ping interval 5\nadvertise \"h:1\"\nkeyd sign rate 9\n"
	};
	const size_t		 ninputs = sizeof(inputs) / sizeof(inputs[0]);
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	char			*first[sizeof(inputs) / sizeof(inputs[0])];
	char			*got;
	int			 rv[sizeof(inputs) / sizeof(inputs[0])], r;
	size_t			 i, k;

	for (i = 0; i < ninputs; i++) {
		rv[i] = parse_string(inputs[i], &conf, &errs);
		first[i] = rv[i] == 0 ? print_conf(&conf) : join_errors(&errs);
	}
	ATF_REQUIRE(rv[0] == 0 && rv[1] == -1);
	for (k = 0; k < REPEAT_PARSES; k++) {
		i = (k * 7) % ninputs;
		r = parse_string(inputs[i], &conf, &errs);
		got = r == 0 ? print_conf(&conf) : join_errors(&errs);
		if (r != rv[i] || strcmp(got, first[i]) != 0) {
			atf_tc_fail("parse %zu of input %zu differs:\n%s\n"
			    "first:\n%s", k, i, got, first[i]);
		}
		free(got);
	}
	for (i = 0; i < ninputs; i++)
		free(first[i]);
}

ATF_TC_WITHOUT_HEAD(parse_file_reads_a_regular_file);
ATF_TC_BODY(parse_file_reads_a_regular_file, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;
	const char		*path = REGRESS_SRCDIR "/conf/good/ipv6.conf";

	ATF_CHECK_EQ(conf_parse_file(path, &conf, &errs), 0);
	ATF_CHECK_EQ(conf.nlisten, 8);
	ATF_CHECK_EQ(conf_parse_file(REGRESS_SRCDIR "/conf/bad/syntax.conf",
	    &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    REGRESS_SRCDIR "/conf/bad/syntax.conf:2: syntax error");
}

ATF_TC_WITHOUT_HEAD(parse_file_refuses_what_is_no_config);
ATF_TC_BODY(parse_file_refuses_what_is_no_config, tc)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	FILE			*fp;
	char			*buf;

	ATF_CHECK_EQ(conf_parse_file("missing.conf", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "missing.conf: No such file or directory");

	ATF_CHECK_EQ(conf_parse_file(".", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], ".: not a regular file");

	/* A FIFO with no writer: refused, not waited on. */
	ATF_REQUIRE(mkfifo("fifo", 0600) == 0);
	ATF_CHECK_EQ(conf_parse_file("fifo", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0], "fifo: not a regular file");

	ATF_REQUIRE((buf = malloc(CONF_MAXSIZE + 1)) != NULL);
	memset(buf, '#', CONF_MAXSIZE + 1);
	ATF_REQUIRE((fp = fopen("big.conf", "w")) != NULL);
	ATF_REQUIRE(fwrite(buf, 1, CONF_MAXSIZE + 1, fp) == CONF_MAXSIZE + 1);
	ATF_REQUIRE(fclose(fp) == 0);
	ATF_CHECK_EQ(conf_parse_file("big.conf", &conf, &errs), -1);
	ATF_CHECK_STREQ(errs.line[0],
	    "big.conf: file too large (at most 262144 bytes)");
	ATF_REQUIRE(truncate("big.conf", CONF_MAXSIZE) == 0);
	ATF_CHECK_EQ(conf_parse_file("big.conf", &conf, &errs), 0);
	free(buf);
}

/*
 * etc/lethd.conf, the installed sample, parses to the defaults; with
 * every statement uncommented it still parses.
 */
ATF_TC_WITHOUT_HEAD(sample_config_parses_commented_or_not);
ATF_TC_BODY(sample_config_parses_commented_or_not, tc)
{
	struct lethd_conf	 conf, defaults;
	struct conf_errors	 errs;
	char			*buf, *p;
	size_t			 len;

	buf = slurp(REGRESS_SRCDIR "/../etc/lethd.conf", &len);
	ATF_REQUIRE_EQ_MSG(conf_parse_buffer("lethd.conf", buf, len, &conf,
	    &errs), 0, "%s", errs.line[0]);
	conf_defaults(&defaults);
	ATF_CHECK(memcmp(&conf, &defaults, sizeof(conf)) == 0);

	/* "#word" at the start of a line is a statement commented out. */
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (p[0] == '#' && (p[1] == '_' || (p[1] >= 'a' &&
		    p[1] <= 'z')))
			p[0] = ' ';
	}
	ATF_CHECK_EQ_MSG(conf_parse_buffer("lethd.conf", buf, len, &conf,
	    &errs), 0, "%s", errs.line[0]);
	ATF_CHECK_STREQ(conf.name, "rig01");
	ATF_CHECK_EQ(conf.nlisten, 3);
	free(buf);
}

/* Debian's base-passwd users: distinct uids and primary groups. */
static void
system_users(struct lethd_conf *conf)
{
	static const char	*users[USER_MAX] = {
		"bin", "sys", "daemon", "man"	/* by enum conf_user */
	};
	int			 i;

	conf_defaults(conf);
	for (i = 0; i < USER_MAX; i++) {
		if (getpwnam(users[i]) == NULL)
			atf_tc_skip("no user %s on this system", users[i]);
		(void)strlcpy(conf->users[i], users[i],
		    sizeof(conf->users[i]));
	}
	if (getgrnam("adm") == NULL)
		atf_tc_skip("no group adm on this system");
	(void)strlcpy(conf->ctl_group, "adm", sizeof(conf->ctl_group));
	conf->net_max_conn = 100;
}

ATF_TC_WITHOUT_HEAD(check_system_accepts_distinct_users);
ATF_TC_BODY(check_system_accepts_distinct_users, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	system_users(&conf);
	ATF_CHECK_EQ_MSG(conf_check_system("f", &conf, &errs), 0, "%s",
	    errs.line[0]);
	ATF_CHECK_EQ(errs.n, 0);
}

ATF_TC_WITHOUT_HEAD(check_system_refuses_root_and_unknown_names);
ATF_TC_BODY(check_system_refuses_root_and_unknown_names, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;

	system_users(&conf);
	(void)strlcpy(conf.users[USER_KEYD], "root",
	    sizeof(conf.users[USER_KEYD]));
	(void)strlcpy(conf.users[USER_NETD], "_no_such_user_lethd",
	    sizeof(conf.users[USER_NETD]));
	(void)strlcpy(conf.ctl_group, "root", sizeof(conf.ctl_group));
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 4);
	ATF_CHECK_STREQ(errs.line[0], "f: user root has uid 0");
	ATF_CHECK_STREQ(errs.line[1], "f: user root has primary group 0");
	ATF_CHECK_STREQ(errs.line[2], "f: unknown user _no_such_user_lethd");
	ATF_CHECK_STREQ(errs.line[3], "f: group root has gid 0");

	system_users(&conf);
	(void)strlcpy(conf.ctl_group, "_no_such_group_lethd",
	    sizeof(conf.ctl_group));
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0], "f: unknown group _no_such_group_lethd");
}

ATF_TC_WITHOUT_HEAD(check_system_refuses_shared_ids);
ATF_TC_BODY(check_system_refuses_shared_ids, tc)
{
	struct lethd_conf	 conf;
	struct conf_errors	 errs;
	struct passwd		*pw;

	system_users(&conf);
	(void)strlcpy(conf.users[USER_MINER], "bin",
	    sizeof(conf.users[USER_MINER]));
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0],
	    "f: keyd user and miner user are the same user bin");

	/* sync and nobody share a primary group on Debian. */
	if ((pw = getpwnam("sync")) == NULL || pw->pw_uid == 0)
		atf_tc_skip("no user sync on this system");
	system_users(&conf);
	(void)strlcpy(conf.users[USER_NETD], "sync",
	    sizeof(conf.users[USER_NETD]));
	(void)strlcpy(conf.users[USER_MINER], "nobody",
	    sizeof(conf.users[USER_MINER]));
	if (getpwnam("nobody") == NULL || getpwnam("nobody")->pw_gid !=
	    getpwnam("sync")->pw_gid)
		atf_tc_skip("sync and nobody do not share a group here");
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK(strncmp(errs.line[0], "f: users sync and nobody share "
	    "primary group ", 40) == 0);
}

ATF_TC_WITHOUT_HEAD(check_system_compares_with_the_file_limit);
ATF_TC_BODY(check_system_compares_with_the_file_limit, tc)
{
	struct lethd_conf	conf;
	struct conf_errors	errs;
	struct rlimit		rl = { 1024, 2048 };

	/* This test's own process: lowering the hard limit is allowed. */
	ATF_REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	system_users(&conf);
	conf.net_max_conn = 2048 - NET_FD_RESERVE;
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), 0);
	conf.net_max_conn++;
	ATF_CHECK_EQ(conf_check_system("f", &conf, &errs), -1);
	ATF_REQUIRE_EQ(errs.n, 1);
	ATF_CHECK_STREQ(errs.line[0], "f: max connections 2017 exceeds the "
	    "file limit (hard limit 2048)");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, good_configs_print_golden_output);
	ATF_TP_ADD_TC(tp, bad_configs_give_exact_errors);
	ATF_TP_ADD_TC(tp, defaults_come_from_lethd_h);
	ATF_TP_ADD_TC(tp, transport_keywords_set_their_own_fields);
	ATF_TP_ADD_TC(tp, miner_keywords_set_their_own_fields);
	ATF_TP_ADD_TC(tp, watchdogs_may_not_be_shorter_than_the_poll);
	ATF_TP_ADD_TC(tp, advertise_takes_host_port_or_bracketed_ipv6);
	ATF_TP_ADD_TC(tp, advertise_fits_a_pairing_token);
	ATF_TP_ADD_TC(tp, listen_lines_replace_the_default);
	ATF_TP_ADD_TC(tp, nul_byte_is_refused);
	ATF_TP_ADD_TC(tp, buffer_needs_no_terminating_nul);
	ATF_TP_ADD_TC(tp, conf_is_untouched_on_error);
	ATF_TP_ADD_TC(tp, errors_past_the_limit_are_counted);
	ATF_TP_ADD_TC(tp, too_large_a_buffer_is_refused);
	ATF_TP_ADD_TC(tp, socket_modes_without_execute_bits);
	ATF_TP_ADD_TC(tp, names_refuse_control_characters);
	ATF_TP_ADD_TC(tp, errors_escape_what_they_quote);
	ATF_TP_ADD_TC(tp, line_numbers_count_continued_lines);
	ATF_TP_ADD_TC(tp, macros_are_single_tokens);
	ATF_TP_ADD_TC(tp, too_many_macros_are_refused);
	ATF_TP_ADD_TC(tp, repeated_parses_give_identical_results);
	ATF_TP_ADD_TC(tp, parse_file_reads_a_regular_file);
	ATF_TP_ADD_TC(tp, parse_file_refuses_what_is_no_config);
	ATF_TP_ADD_TC(tp, sample_config_parses_commented_or_not);
	ATF_TP_ADD_TC(tp, check_system_accepts_distinct_users);
	ATF_TP_ADD_TC(tp, check_system_refuses_root_and_unknown_names);
	ATF_TP_ADD_TC(tp, check_system_refuses_shared_ids);
	ATF_TP_ADD_TC(tp, check_system_compares_with_the_file_limit);
	return (atf_no_error());
}
