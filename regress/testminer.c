/*
 * A stand-in miner for the tests: XMRig is not in Debian and needs a
 * pool.  It takes an XMRig config (--config=FILE: http.port,
 * http.access-token, pools[0].url and .algo) or TT-Miner arguments
 * (-a ALGO -o POOL -u USER -b 127.0.0.1:PORT), prints XMRig-like lines
 * every second, and serves XMRig's GET /2/summary (401 without the
 * bearer token) or TT-Miner's miner_getstat1 on its port.  Without
 * either it is a "generic" miner that only prints lines.
 *
 * The parent gives miners a clean environment, so behaviours are
 * chosen by arguments (the profile's extra arguments):
 *	--test-crash-after=S	exit 1 after S seconds
 *	--test-zero		report a zero hashrate
 *	--test-no-api=S		after S seconds, accept API connections
 *				and never answer
 *	--test-hang-term	ignore SIGTERM
 *	--test-fork-setsid	fork a child that calls setsid and sleeps
 *	--test-fork-ignore-term	fork a child (same group) that ignores
 *				SIGTERM and sleeps
 *	--test-flood		print long lines as fast as it can
 * It writes its pid to ./testminer.pid (and its children's to
 * ./testminer-setsid.pid, ./testminer-child.pid) when the work
 * directory lets it, and prints them in its first lines too.
 *
 * The hashrate is deterministic: 10 s 1000.0 to 1001.5 H/s, 60 s
 * 1000.0, 15 min null for the first 15 minutes (as XMRig says null
 * until a window has data), a share accepted every 5 seconds.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define TM_CONFIG_MAX		(64 * 1024)
#define TM_REQ_MAX		8192	/* bytes of one API request */
#define TM_IO_TIMEOUT		2	/* seconds to read a request */
#define TM_HELD_MAX		64	/* --test-no-api: connections held */
#define TM_FLOOD_LINE		4000	/* bytes of a flood line */
#define TM_SHARE_EVERY		5	/* seconds between shares */
#define TM_RATE			1000.0	/* H/s */
#define TM_WINDOW_15M		900
#define TM_VERSION		"6.21.0"
#define TM_TOKEN_MAX		128
#define TM_TEXT_MAX		256

enum tm_mode { MODE_GENERIC, MODE_XMRIG, MODE_TT };

static struct {
	enum tm_mode	 mode;
	int		 port;
	char		 token[TM_TOKEN_MAX];
	char		 pool[TM_TEXT_MAX];
	char		 algo[TM_TEXT_MAX];
	long		 crash_after;	/* -1: never */
	long		 no_api_after;	/* -1: never */
	int		 zero;
	int		 hang_term;
	int		 fork_setsid;
	int		 fork_ignore;
	int		 flood;
} opt = { .crash_after = -1, .no_api_after = -1 };

static volatile sig_atomic_t	 quit;
static struct timespec		 t0;
static int			 held[TM_HELD_MAX];
static int			 nheld;

static void
on_term(int sig)
{
	quit = 1;
}

static double
uptime_f(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
}

static long
uptime_s(void)
{
	return ((long)uptime_f());
}

/* The rates now; < 0 is null. */
static void
rates(double *r10, double *r60, double *r15)
{
	long	 up = uptime_s();

	if (opt.zero) {
		*r10 = *r60 = 0.0;
		*r15 = up >= TM_WINDOW_15M ? 0.0 : -1;
		return;
	}
	if (up < 1) {		/* no window has data yet */
		*r10 = *r60 = *r15 = -1;
		return;
	}
	*r10 = TM_RATE + (up % 4) * 0.5;
	*r60 = TM_RATE;
	*r15 = up >= TM_WINDOW_15M ? TM_RATE : -1;
}

static unsigned long
shares(void)
{
	return (opt.zero ? 0 : (unsigned long)(uptime_s() / TM_SHARE_EVERY));
}

static void
stamp(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "[%s.%03ld]", t, ts.tv_nsec / 1000000);
}

static void
say(const char *tag, const char *fmt, ...)
	__attribute__((__format__(printf, 2, 3)));

static void
say(const char *tag, const char *fmt, ...)
{
	va_list	 ap;
	char	 ts[64];

	stamp(ts, sizeof(ts));
	printf("%s  %-8s ", ts, tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
fmt_rate(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f", r);
}

static void
print_speed(void)
{
	double	 r10, r60, r15;
	char	 a[32], b[32], c[32];

	rates(&r10, &r60, &r15);
	fmt_rate(a, sizeof(a), r10);
	fmt_rate(b, sizeof(b), r60);
	fmt_rate(c, sizeof(c), r15);
	say("miner", "speed 10s/60s/15m %s %s %s H/s max %.1f H/s", a, b, c,
	    opt.zero ? 0.0 : TM_RATE + 1.5);
	if (opt.mode == MODE_GENERIC)
		printf("hashrate: %.4f kH/s\n", r10 / 1000.0);
}

static void
write_pid(const char *file, pid_t pid)
{
	FILE	*f;

	if ((f = fopen(file, "w")) == NULL) {
		fprintf(stderr, "testminer: %s: %s\n", file, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

static void
fork_child(int setsid_too, const char *file, const char *what)
{
	pid_t	 pid;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("testminer: fork");
		exit(1);
	}
	if (pid == 0) {
		/* not the parent's handler: SIGTERM must kill it or not */
		if (setsid_too) {
			(void)setsid();
			signal(SIGTERM, SIG_DFL);
		} else
			signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	write_pid(file, pid);
	say("testmin", "child pid %ld (%s)", (long)pid, what);
}

static void
read_config(const char *file)
{
	json_error_t	 jerr;
	json_t		*j, *http, *pool, *v;

	j = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		fprintf(stderr, "testminer: %s:%d: %s\n", file, jerr.line,
		    jerr.text);
		exit(1);
	}
	http = json_object_get(j, "http");
	if (json_is_true(json_object_get(http, "enabled"))) {
		v = json_object_get(http, "host");
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), "127.0.0.1") != 0) {
			fprintf(stderr, "testminer: http.host not loopback\n");
			exit(1);
		}
		v = json_object_get(http, "port");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535) {
			fprintf(stderr, "testminer: bad http.port\n");
			exit(1);
		}
		opt.port = (int)json_integer_value(v);
		v = json_object_get(http, "access-token");
		if (json_is_string(v))
			snprintf(opt.token, sizeof(opt.token), "%s",
			    json_string_value(v));
	}
	pool = json_array_get(json_object_get(j, "pools"), 0);
	v = json_object_get(pool, "url");
	if (!json_is_string(v)) {
		fprintf(stderr, "testminer: no pools[0].url\n");
		exit(1);
	}
	snprintf(opt.pool, sizeof(opt.pool), "%s", json_string_value(v));
	v = json_object_get(pool, "algo");
	snprintf(opt.algo, sizeof(opt.algo), "%s",
	    json_is_string(v) ? json_string_value(v) : "rx/0");
	json_decref(j);
}

static long
num_arg(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0) {
		fprintf(stderr, "testminer: bad number %s\n", s);
		exit(1);
	}
	return (v);
}

static void
parse_bind(const char *s)
{
	const char	*c;

	if (strncmp(s, "127.0.0.1:", 10) != 0) {
		fprintf(stderr, "testminer: API not on loopback: %s\n", s);
		exit(1);
	}
	c = s + 10;
	opt.port = (int)num_arg(c);
	if (opt.port < 1 || opt.port > 65535) {
		fprintf(stderr, "testminer: bad port %s\n", c);
		exit(1);
	}
}

static void
parse_args(int argc, char *argv[])
{
	int	 i;

	for (i = 1; i < argc; i++) {
		const char	*a = argv[i];
		const char	*next = i + 1 < argc ? argv[i + 1] : NULL;

		if (strncmp(a, "--config=", 9) == 0) {
			opt.mode = MODE_XMRIG;
			read_config(a + 9);
		} else if (strcmp(a, "--no-color") == 0 ||
		    strcmp(a, "-nocolor") == 0) {
			continue;
		} else if (strncmp(a, "--test-crash-after=", 19) == 0)
			opt.crash_after = num_arg(a + 19);
		else if (strcmp(a, "--test-zero") == 0)
			opt.zero = 1;
		else if (strncmp(a, "--test-no-api=", 14) == 0)
			opt.no_api_after = num_arg(a + 14);
		else if (strcmp(a, "--test-no-api") == 0)
			opt.no_api_after = 0;
		else if (strcmp(a, "--test-hang-term") == 0)
			opt.hang_term = 1;
		else if (strcmp(a, "--test-fork-setsid") == 0)
			opt.fork_setsid = 1;
		else if (strcmp(a, "--test-fork-ignore-term") == 0)
			opt.fork_ignore = 1;
		else if (strcmp(a, "--test-flood") == 0)
			opt.flood = 1;
		else if (next != NULL && (strcmp(a, "-b") == 0 ||
		    strcmp(a, "--api-bind") == 0)) {
			opt.mode = MODE_TT;
			parse_bind(next);
			i++;
		} else if (next != NULL && strcmp(a, "-a") == 0) {
			snprintf(opt.algo, sizeof(opt.algo), "%s", next);
			i++;
		} else if (next != NULL && (strcmp(a, "-o") == 0 ||
		    strcmp(a, "-P") == 0)) {
			snprintf(opt.pool, sizeof(opt.pool), "%s", next);
			i++;
		} else if (next != NULL && (strcmp(a, "-u") == 0 ||
		    strcmp(a, "-p") == 0 || strcmp(a, "-d") == 0))
			i++;
		else
			fprintf(stderr, "testminer: ignoring %s\n", a);
	}
	if (opt.pool[0] == '\0')
		snprintf(opt.pool, sizeof(opt.pool), "pool.invalid:3333");
	if (opt.algo[0] == '\0')
		snprintf(opt.algo, sizeof(opt.algo), "rx/0");
}

static int
listen_on(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("testminer: socket");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1) {
		fprintf(stderr, "testminer: 127.0.0.1:%d: %s\n", port,
		    strerror(errno));
		exit(1);
	}
	return (fd);
}

/* XMRig names the pool host:port, without the scheme. */
static const char *
pool_hostport(void)
{
	const char	*p = strstr(opt.pool, "://");

	return (p != NULL ? p + 3 : opt.pool);
}

static json_t *
rate_json(double r)
{
	return (r < 0 ? json_null() : json_real(r));
}

/* The shape of XMRig's doc/api/2/summary.json. */
static char *
summary_json(void)
{
	json_t		*j;
	char		*s;
	double		 r10, r60, r15;
	long		 up = uptime_s();
	unsigned long	 good = shares();

	rates(&r10, &r60, &r15);
	j = json_pack("{s:s, s:s, s:i, s:b,"
	    " s:{s:{s:I, s:I, s:I}, s:[f,f,f], s:i},"
	    " s:[s,s,s],"
	    " s:{s:i, s:I, s:I, s:i, s:I, s:I, s:[I,i,i], s:[]},"
	    " s:s,"
	    " s:{s:s, s:s, s:i, s:I, s:i, s:i, s:n, s:n, s:s, s:i, s:I,"
	    "  s:i, s:i, s:I},"
	    " s:s, s:s, s:s,"
	    " s:{s:s, s:b, s:b, s:b, s:i, s:i, s:i, s:s, s:s},"
	    " s:i, s:b, s:[s,s], s:{s:o, s:o, s:[]}, s:[i,i]}",
	    "id", "7465737474657374",
	    "worker_id", "testminer",
	    "uptime", (int)up,
	    "restricted", 1,
	    "resources",
		"memory", "free", (json_int_t)1 << 30,
		"total", (json_int_t)1 << 32,
		"resident_set_memory", (json_int_t)1 << 24,
		"load_average", 0.5, 0.25, 0.125,
		"hardware_concurrency", 1,
	    "features", "api", "http", "tls",
	    "results",
		"diff_current", 1000,
		"shares_good", (json_int_t)good,
		"shares_total", (json_int_t)good,
		"avg_time", TM_SHARE_EVERY,
		"avg_time_ms", (json_int_t)TM_SHARE_EVERY * 1000,
		"hashes_total", (json_int_t)(opt.zero ? 0 : up * TM_RATE),
		"best", (json_int_t)good * 1000, 0, 0,
		"error_log",
	    "algo", opt.algo,
	    "connection",
		"pool", pool_hostport(),
		"ip", "127.0.0.1",
		"uptime", (int)up,
		"uptime_ms", (json_int_t)up * 1000,
		"ping", 12,
		"failures", 0,
		"tls",
		"tls-fingerprint",
		"algo", opt.algo,
		"diff", 1000,
		"accepted", (json_int_t)good,
		"rejected", 0,
		"avg_time", TM_SHARE_EVERY,
		"hashes_total", (json_int_t)(opt.zero ? 0 : up * TM_RATE),
	    "version", TM_VERSION,
	    "kind", "miner",
	    "ua", "XMRig/" TM_VERSION " (Linux x86_64) testminer",
	    "cpu",
		"brand", "lethd test CPU",
		"aes", 1, "avx2", 1, "x64", 1,
		"cores", 1, "threads", 1, "packages", 1,
		"backend", "basic",
		"arch", "x86_64",
	    "donate_level", 1,
	    "paused", 0,
	    "algorithms", "rx/0", "rx/wow",
	    "hashrate",
		"total", json_pack("[o,o,o]", rate_json(r10),
		    rate_json(r60), rate_json(r15)),
		"highest", json_real(opt.zero ? 0.0 : TM_RATE + 1.5),
		"threads",
	    "hugepages", 0, 0);
	if (j == NULL) {
		fprintf(stderr, "testminer: json_pack failed\n");
		exit(1);
	}
	s = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return (s);
}

/* Claymore's miner_getstat1 answer, as TT-Miner gives it. */
static char *
getstat_json(void)
{
	json_t		*j;
	char		 total[96], gpu[32], up[32];
	double		 r10, r60, r15;
	char		*s;

	rates(&r10, &r60, &r15);
	snprintf(total, sizeof(total), "%.0f;%lu;0", r60, shares());
	snprintf(gpu, sizeof(gpu), "%.0f", r60);
	snprintf(up, sizeof(up), "%ld", uptime_s() / 60);
	j = json_pack("{s:i, s:[s,s,s,s,s,s,s,s,s], s:n}",
	    "id", 0,
	    "result", "TT-Miner/2024.1.6", up, total, gpu, "0;0;0", "off",
	    "60;50", opt.pool, "0;0;0;0",
	    "error");
	if (j == NULL)
		exit(1);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return (s);
}

static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= n;
	}
}

static void
http_reply(int fd, int code, const char *reason, const char *body)
{
	char	 hdr[256];
	int	 n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", code, reason, strlen(body));
	write_all(fd, hdr, n);
	write_all(fd, body, strlen(body));
}

/* The value of header name in req (NUL-terminated), or NULL. */
static const char *
header(const char *req, const char *name, char *buf, size_t len)
{
	const char	*l, *e;
	size_t		 n = strlen(name), vl;

	for (l = strstr(req, "\r\n"); l != NULL; l = strstr(l, "\r\n")) {
		l += 2;
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			l += n + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			if ((e = strstr(l, "\r\n")) == NULL)
				e = l + strlen(l);
			vl = e - l;
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, l, vl);
			buf[vl] = '\0';
			return (buf);
		}
	}
	return (NULL);
}

static void
serve_http(int fd, const char *req)
{
	char	 auth[TM_REQ_MAX], want[TM_TOKEN_MAX + 16], *body;

	if (strncmp(req, "GET ", 4) != 0) {
		http_reply(fd, 405, "Method Not Allowed",
		    "{\"status\":405}");
		return;
	}
	if (opt.token[0] != '\0') {
		snprintf(want, sizeof(want), "Bearer %s", opt.token);
		if (header(req, "Authorization", auth, sizeof(auth)) == NULL ||
		    strcmp(auth, want) != 0) {
			http_reply(fd, 401, "Unauthorized",
			    "{\"status\":401}");
			return;
		}
	}
	if (strncmp(req, "GET /2/summary ", 15) == 0 ||
	    strncmp(req, "GET /1/summary ", 15) == 0 ||
	    strncmp(req, "GET /api.json ", 14) == 0) {
		body = summary_json();
		http_reply(fd, 200, "OK", body);
		free(body);
		return;
	}
	http_reply(fd, 404, "Not Found", "{\"status\":404}");
}

static void
serve_tt(int fd, const char *req)
{
	char	*body;

	if (strstr(req, "miner_getstat1") == NULL) {
		write_all(fd, "{\"id\":0,\"result\":null,"
		    "\"error\":\"unknown method\"}\n", 46);
		return;
	}
	body = getstat_json();
	write_all(fd, body, strlen(body));
	write_all(fd, "\n", 1);
	free(body);
}

/* Read one request: HTTP up to the blank line, TT up to a newline. */
static int
read_request(int fd, char *buf, size_t len)
{
	struct timeval	 tv = { TM_IO_TIMEOUT, 0 };
	size_t		 have = 0;
	ssize_t		 n;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (have < len - 1) {
		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			break;
		have += n;
		buf[have] = '\0';
		if (opt.mode == MODE_TT ? strchr(buf, '\n') != NULL :
		    strstr(buf, "\r\n\r\n") != NULL)
			return (0);
	}
	buf[have] = '\0';
	return (have > 0 && opt.mode == MODE_TT ? 0 : -1);
}

static void
hold(int fd)
{
	if (nheld == TM_HELD_MAX) {
		close(held[0]);
		memmove(held, held + 1, sizeof(held[0]) * (TM_HELD_MAX - 1));
		nheld--;
	}
	held[nheld++] = fd;
}

static void
accept_one(int lfd)
{
	char	 req[TM_REQ_MAX];
	int	 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (opt.no_api_after >= 0 && uptime_s() >= opt.no_api_after) {
		hold(fd);
		return;
	}
	if (read_request(fd, req, sizeof(req)) == 0) {
		if (opt.mode == MODE_TT)
			serve_tt(fd, req);
		else
			serve_http(fd, req);
	}
	close(fd);
}

static void
flood_line(void)
{
	static char	 line[TM_FLOOD_LINE + 1];

	if (line[0] == '\0') {
		memset(line, 'x', TM_FLOOD_LINE);
		memcpy(line, "flood ", 6);
	}
	puts(line);
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct pollfd		 pfd;
	long			 last = -1, up;
	int			 lfd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	parse_args(argc, argv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = opt.hang_term ? SIG_IGN : on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	write_pid("testminer.pid", getpid());
	say("testmin", "pid %ld", (long)getpid());
	if (opt.fork_setsid)
		fork_child(1, "testminer-setsid.pid", "setsid");
	if (opt.fork_ignore)
		fork_child(0, "testminer-child.pid", "ignores SIGTERM");

	say("config", "mode %s", opt.mode == MODE_XMRIG ? "xmrig" :
	    opt.mode == MODE_TT ? "tt-miner" : "generic");
	if (opt.mode != MODE_GENERIC && opt.port > 0) {
		lfd = listen_on(opt.port);
		say("http", "HTTP API 127.0.0.1:%d", opt.port);
	}
	say("net", "use pool %s  127.0.0.1", opt.pool);
	say("net", "new job from %s diff 1000 algo %s height 1", opt.pool,
	    opt.algo);

	while (!quit) {
		up = uptime_s();
		if (opt.crash_after >= 0 && up >= opt.crash_after) {
			fprintf(stderr, "testminer: crashing as told\n");
			exit(1);
		}
		if (up != last) {
			last = up;
			print_speed();
			if (up > 0 && up % TM_SHARE_EVERY == 0 && !opt.zero)
				say("cpu", "accepted (%lu/0) diff 1000 (12 ms)",
				    shares());
		}
		if (opt.flood)
			flood_line();
		if (lfd == -1) {
			if (!opt.flood)
				(void)poll(NULL, 0, 100);
			continue;
		}
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, opt.flood ? 0 : 100) > 0)
			accept_one(lfd);
	}
	say("signal", "SIGTERM received, exiting");
	return (0);
}
