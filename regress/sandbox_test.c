/*
 * The seccomp filters of keyd, netd and minerd, and the privilege drop.
 *
 * Each case forks: the child installs a filter with the same code the
 * daemons use, then does one thing; the parent looks at how it ended.
 * Allowed work ends in exit 0, a forbidden syscall in SIGSYS.  Children
 * set RLIMIT_CORE 0 first, so a kill leaves no core file behind.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <event2/event.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "util.h"

#ifndef __has_feature
#define __has_feature(x)	0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define TEST_ASAN	1
#endif

#ifdef TEST_ASAN
/*
 * atf-c leaks its test case list (atf_tp_get_tcs) when asked for it
 * with -l, as kyua does, and kyua calls a list with anything on stderr
 * broken: suppress that leak, quietly.  Leaks of ours still fail.
 */
const char	*__lsan_default_suppressions(void);
const char	*__lsan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return ("leak:libatf-c.so\n");
}

const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}
#endif

#define CHILD_FAILED	99	/* a check in the child failed */

#define CHILD_REQUIRE(e) do {						\
	if (!(e))							\
		child_fail(__LINE__, #e);				\
} while (0)

struct child {
	enum lethd_proc	 proc;
	void		(*setup)(struct child *);	/* before the filter */
	void		(*run)(struct child *);		/* under it */
	int		 dirfd;		/* a scratch directory */
	int		 lfd;		/* a listening TCP socket */
	int		 ready[2];	/* child -> parent: filter is in */
	int		 go[2];		/* parent -> child: you may exit */
	struct event_base *base;
};

static const enum lethd_proc children[] = { PROC_KEYD, PROC_NETD,
    PROC_MINERD };

static volatile sig_atomic_t	 got_signal;

static __attribute__((__noreturn__)) void child_fail(int, const char *);
static void	child_init(struct child *, enum lethd_proc);
static int	run_sandboxed(struct child *);
static int	run_simple(enum lethd_proc, void (*)(struct child *));
static void	require_exit0(int, const char *);
static void	require_sigsys(int, const char *);
static void	scratch_dir(struct child *);
static void	on_signal(int);

/* In a filtered child: say what failed with write(2) only, and exit. */
static void
child_fail(int line, const char *expr)
{
	char	 buf[512];
	int	 saved = errno, n;

	n = snprintf(buf, sizeof(buf), "child, line %d: %s failed: %s\n",
	    line, expr, strerror(saved));
	if (n > 0)
		(void)write(STDERR_FILENO, buf,
		    (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	_exit(CHILD_FAILED);
}

static void
child_init(struct child *c, enum lethd_proc proc)
{
	memset(c, 0, sizeof(*c));
	c->proc = proc;
	c->dirfd = c->lfd = -1;
	c->ready[0] = c->ready[1] = c->go[0] = c->go[1] = -1;
}

/* Fork; the child runs setup, installs the filter, runs run, exits 0.
 * Returns the child's wait status. */
static int
run_sandboxed(struct child *c)
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		privsep_nodump();
		if (c->setup != NULL)
			c->setup(c);
		if (sandbox_init(c->proc) == -1)
			child_fail(__LINE__, "sandbox_init");
		c->run(c);
		_exit(0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	return (status);
}

static int
run_simple(enum lethd_proc proc, void (*run)(struct child *))
{
	struct child	 c;

	child_init(&c, proc);
	c.run = run;
	return (run_sandboxed(&c));
}

static void
require_exit0(int status, const char *what)
{
	if (WIFSIGNALED(status))
		atf_tc_fail("%s: killed by signal %d%s", what,
		    WTERMSIG(status), WTERMSIG(status) == SIGSYS ?
		    " (SIGSYS: a syscall the filter forbids)" : "");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		atf_tc_fail("%s: exit status %d (see stderr)", what,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void
require_sigsys(int status, const char *what)
{
	if (WIFEXITED(status))
		atf_tc_fail("%s: not killed, exit status %d", what,
		    WEXITSTATUS(status));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		atf_tc_fail("%s: killed by signal %d, not SIGSYS", what,
		    WIFSIGNALED(status) ? WTERMSIG(status) : -1);
}

/* A fresh directory in the test's work directory, open as c->dirfd. */
static void
scratch_dir(struct child *c)
{
	char	 path[64];

	(void)snprintf(path, sizeof(path), "scratch.%ld", (long)getpid());
	ATF_REQUIRE(mkdir(path, 0700) == 0 || errno == EEXIST);
	ATF_REQUIRE((c->dirfd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Allowed: what every child does.
 */

/* Memory, clocks, ids, pipes, randomness, signals to itself, and a log
 * line on stderr as under -d. */
static void
common_work(struct child *c)
{
	struct sigaction	 sa;
	struct timespec		 ts;
	struct stat		 st;
	char			*p, *q, buf[4];
	uint32_t		 r;
	int			 fds[2];

	(void)c;
	CHILD_REQUIRE(getpid() > 0 && getuid() == getuid());
	CHILD_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHILD_REQUIRE(clock_gettime(CLOCK_REALTIME, &ts) == 0);
	CHILD_REQUIRE(time(NULL) > 0);

	CHILD_REQUIRE((p = malloc(64)) != NULL);
	free(p);
	CHILD_REQUIRE((p = malloc(4 << 20)) != NULL);	/* mmap */
	memset(p, 'x', 4 << 20);
	CHILD_REQUIRE((q = realloc(p, 16 << 20)) != NULL);	/* mremap */
	free(q);
	CHILD_REQUIRE((p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED);
	CHILD_REQUIRE(mprotect(p, 4096, PROT_NONE) == 0);
	CHILD_REQUIRE(munmap(p, 8192) == 0);

	CHILD_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	CHILD_REQUIRE(write(fds[1], "abc", 3) == 3);
	CHILD_REQUIRE(read(fds[0], buf, sizeof(buf)) == 3);
	CHILD_REQUIRE(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHILD_REQUIRE(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
	CHILD_REQUIRE(read(fds[0], buf, 1) == -1 && errno == EAGAIN);
	CHILD_REQUIRE(close(fds[0]) == 0 && close(fds[1]) == 0);

	arc4random_buf(&r, sizeof(r));
	randombytes_buf(&r, sizeof(r));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	CHILD_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHILD_REQUIRE(raise(SIGUSR1) == 0);		/* tgkill */
	CHILD_REQUIRE(got_signal == SIGUSR1);
	got_signal = 0;
	CHILD_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	CHILD_REQUIRE(got_signal == SIGUSR1);

	log_warnx("a log line from a filtered child (this is expected)");
}

static void
log_setup(struct child *c)
{
	(void)c;
	log_init(1, LOG_DAEMON);
	log_procinit("sandbox_test");
	CHILD_REQUIRE(sodium_init() >= 0);
}

ATF_TC_WITHOUT_HEAD(every_filter_allows_memory_pipes_clocks_and_signals);
ATF_TC_BODY(every_filter_allows_memory_pipes_clocks_and_signals, tc)
{
	struct child	 c;
	size_t		 i;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		child_init(&c, children[i]);
		c.setup = log_setup;
		c.run = common_work;
		require_exit0(run_sandboxed(&c), proc_name(children[i]));
	}
}

/* A pipe event, a timer and a signal, as each child's event loop has. */
static int	 loop_fired;

static void
loop_read(evutil_socket_t fd, short ev, void *arg)
{
	char	 b;

	(void)ev;
	(void)arg;
	CHILD_REQUIRE(read(fd, &b, 1) == 1);
	loop_fired |= 1;
}

static void
loop_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	loop_fired |= 2;
	CHILD_REQUIRE(kill(getpid(), SIGTERM) == 0);
}

static void
loop_signal(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	loop_fired |= 4;
	event_base_loopbreak(arg);
}

static void
loop_setup(struct child *c)
{
	CHILD_REQUIRE((c->base = event_base_new()) != NULL);
}

static void
loop_run(struct child *c)
{
	struct timeval	 tv = { 0, 10000 };
	struct event	*rd, *tm, *sig;
	int		 fds[2];

	CHILD_REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
	CHILD_REQUIRE((rd = event_new(c->base, fds[0], EV_READ, loop_read,
	    NULL)) != NULL);
	CHILD_REQUIRE((tm = evtimer_new(c->base, loop_timer, NULL)) != NULL);
	CHILD_REQUIRE((sig = evsignal_new(c->base, SIGTERM, loop_signal,
	    c->base)) != NULL);
	CHILD_REQUIRE(event_add(rd, NULL) == 0);
	CHILD_REQUIRE(event_add(sig, NULL) == 0);
	CHILD_REQUIRE(evtimer_add(tm, &tv) == 0);
	CHILD_REQUIRE(write(fds[1], "x", 1) == 1);
	CHILD_REQUIRE(event_base_dispatch(c->base) == 0);
	CHILD_REQUIRE(loop_fired == 7);
	event_free(rd);
	event_free(tm);
	event_free(sig);
	event_base_free(c->base);
}

ATF_TC_WITHOUT_HEAD(every_filter_runs_a_libevent_loop);
ATF_TC_BODY(every_filter_runs_a_libevent_loop, tc)
{
	struct child	 c;
	size_t		 i;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		child_init(&c, children[i]);
		c.setup = loop_setup;
		c.run = loop_run;
		require_exit0(run_sandboxed(&c), proc_name(children[i]));
	}
}

/* The child waits under its filter while the parent reads its status. */
static void
status_run(struct child *c)
{
	char	 b;

	CHILD_REQUIRE(write(c->ready[1], "r", 1) == 1);
	CHILD_REQUIRE(read(c->go[0], &b, 1) == 0);
}

static void
status_check(const char *status, const char *field, const char *want,
    const char *proc)
{
	const char	*p;
	size_t		 len = strlen(want);

	if ((p = strstr(status, field)) == NULL)
		atf_tc_fail("%s: no %s in /proc/PID/status", proc, field);
	p += strlen(field);
	p += strspn(p, " \t");
	if (strncmp(p, want, len) != 0 || p[len] != '\n')
		atf_tc_fail("%s: %s is %.*s, not %s", proc, field,
		    (int)strcspn(p, "\n"), p, want);
}

ATF_TC_WITHOUT_HEAD(every_filter_shows_seccomp_2_and_no_new_privs);
ATF_TC_BODY(every_filter_shows_seccomp_2_and_no_new_privs, tc)
{
	struct child	 c;
	char		 path[64], status[8192], b;
	size_t		 i;
	ssize_t		 n;
	pid_t		 pid;
	int		 fd, ws;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		child_init(&c, children[i]);
		c.run = status_run;
		ATF_REQUIRE(pipe2(c.ready, O_CLOEXEC) == 0);
		ATF_REQUIRE(pipe2(c.go, O_CLOEXEC) == 0);
		fflush(stdout);
		fflush(stderr);
		ATF_REQUIRE((pid = fork()) != -1);
		if (pid == 0) {
			close(c.ready[0]);
			close(c.go[1]);
			privsep_nodump();
			if (sandbox_init(c.proc) == -1)
				child_fail(__LINE__, "sandbox_init");
			status_run(&c);
			_exit(0);
		}
		close(c.ready[1]);
		close(c.go[0]);
		ATF_REQUIRE_EQ(read(c.ready[0], &b, 1), 1);

		(void)snprintf(path, sizeof(path), "/proc/%ld/status",
		    (long)pid);
		ATF_REQUIRE((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1);
		ATF_REQUIRE((n = read(fd, status, sizeof(status) - 1)) > 0);
		status[n] = '\0';
		close(fd);
		close(c.go[1]);
		ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
		close(c.ready[0]);
		require_exit0(ws, proc_name(children[i]));

		status_check(status, "\nSeccomp:", "2", proc_name(c.proc));
		status_check(status, "\nNoNewPrivs:", "1", proc_name(c.proc));
		status_check(status, "\nSeccomp_filters:", "1",
		    proc_name(c.proc));
	}
}

ATF_TC_WITHOUT_HEAD(sandbox_init_refuses_an_unknown_process);
ATF_TC_BODY(sandbox_init_refuses_an_unknown_process, tc)
{
	pid_t	 pid;
	int	 ws;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (sandbox_init(PROC_PARENT) != -1 || errno != EINVAL)
			_exit(1);
		if (sandbox_init(PROC_MAX) != -1 || errno != EINVAL)
			_exit(2);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
			_exit(3);
		_exit(0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
	require_exit0(ws, "sandbox_init(PROC_PARENT)");
}

/*
 * Allowed: what each child needs of its own.
 */

/* keyd: sodium's locked memory, and its key file written atomically. */
static void
keyd_work(struct child *c)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	*sk;
	char		*buf;
	size_t		 len;

	CHILD_REQUIRE((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) !=
	    NULL);
	CHILD_REQUIRE(crypto_sign_keypair(pk, sk) == 0);
	CHILD_REQUIRE(sodium_mprotect_readonly(sk) == 0);
	CHILD_REQUIRE(sodium_mprotect_readwrite(sk) == 0);
	sodium_free(sk);

	CHILD_REQUIRE(write_file_atomic(c->dirfd, "node.key", pk,
	    sizeof(pk), 0600) == 0);
	CHILD_REQUIRE(write_file_atomic(c->dirfd, "node.key", pk,
	    sizeof(pk), 0600) == 0);
	CHILD_REQUIRE(read_file_bounded(c->dirfd, "node.key", 64, &buf,
	    &len) == 0);
	CHILD_REQUIRE(len == sizeof(pk) && memcmp(buf, pk, len) == 0);
	free(buf);
	CHILD_REQUIRE(unlinkat(c->dirfd, "node.key", 0) == 0);
}

static void
sodium_setup(struct child *c)
{
	(void)c;
	CHILD_REQUIRE(sodium_init() >= 0);
}

ATF_TC_WITHOUT_HEAD(keyd_allows_locked_memory_and_atomic_key_writes);
ATF_TC_BODY(keyd_allows_locked_memory_and_atomic_key_writes, tc)
{
	struct child	 c;

	child_init(&c, PROC_KEYD);
	scratch_dir(&c);
	c.setup = sodium_setup;
	c.run = keyd_work;
	require_exit0(run_sandboxed(&c), "keyd");
}

/* netd: IPv4 and IPv6 TCP, on a listener the parent made. */
static void
netd_work(struct child *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 b;
	int			 s, a, one = 1;

	CHILD_REQUIRE(getsockname(c->lfd, (struct sockaddr *)&ss, &sl) == 0);
	CHILD_REQUIRE((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) != -1);
	CHILD_REQUIRE(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == 0);
	CHILD_REQUIRE(connect(s, (struct sockaddr *)&ss, sl) == 0 ||
	    errno == EINPROGRESS);
	CHILD_REQUIRE((a = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC)) != -1);
	sl = sizeof(ss);
	CHILD_REQUIRE(getpeername(a, (struct sockaddr *)&ss, &sl) == 0);
	CHILD_REQUIRE(write(a, "y", 1) == 1);
	CHILD_REQUIRE(shutdown(a, SHUT_WR) == 0);
	CHILD_REQUIRE(fcntl(s, F_SETFL, 0) == 0);
	CHILD_REQUIRE(read(s, &b, 1) == 1 && b == 'y');
	CHILD_REQUIRE(close(a) == 0 && close(s) == 0);

	/* A host without IPv6 says so; the filter must not kill. */
	if ((s = socket(AF_INET6, SOCK_STREAM, 0)) != -1)
		close(s);
	else
		CHILD_REQUIRE(errno == EAFNOSUPPORT);
}

static void
listen_loopback(struct child *c)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) != -1);
	ATF_REQUIRE(bind(c->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(listen(c->lfd, 4) == 0);
}

ATF_TC_WITHOUT_HEAD(netd_allows_tcp_over_ipv4_and_ipv6);
ATF_TC_BODY(netd_allows_tcp_over_ipv4_and_ipv6, tc)
{
	struct child	 c;

	child_init(&c, PROC_NETD);
	listen_loopback(&c);
	c.run = netd_work;
	require_exit0(run_sandboxed(&c), "netd");
}

/* minerd: its state directory, local sockets of every kind. */
static void
minerd_work(struct child *c)
{
	struct dirent	*de;
	DIR		*d;
	char		 b[8];
	int		 fd, s, seen = 0;

	CHILD_REQUIRE(mkdirat(c->dirfd, "profiles", 0700) == 0);
	CHILD_REQUIRE(write_file_atomic(c->dirfd, "node.json", "{}", 2,
	    0600) == 0);
	CHILD_REQUIRE((fd = openat(c->dirfd, "history.db", O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) != -1);
	CHILD_REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
	CHILD_REQUIRE(pwrite(fd, "abcdef", 6, 0) == 6);
	CHILD_REQUIRE(pread(fd, b, 3, 3) == 3 && memcmp(b, "def", 3) == 0);
	CHILD_REQUIRE(ftruncate(fd, 2) == 0);
	CHILD_REQUIRE(fsync(fd) == 0 && fdatasync(fd) == 0);
	CHILD_REQUIRE(close(fd) == 0);

	CHILD_REQUIRE((fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1);
	CHILD_REQUIRE((d = fdopendir(fd)) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, "node.json") == 0)
			seen = 1;
	CHILD_REQUIRE(closedir(d) == 0 && seen);
	CHILD_REQUIRE(unlinkat(c->dirfd, "profiles", AT_REMOVEDIR) == 0);

	CHILD_REQUIRE((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) != -1);
	CHILD_REQUIRE(close(s) == 0);
	CHILD_REQUIRE((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	CHILD_REQUIRE(close(s) == 0);
	CHILD_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	CHILD_REQUIRE(close(s) == 0);
}

ATF_TC_WITHOUT_HEAD(minerd_allows_its_state_directory_and_sockets);
ATF_TC_BODY(minerd_allows_its_state_directory_and_sockets, tc)
{
	struct child	 c;

	child_init(&c, PROC_MINERD);
	scratch_dir(&c);
	c.run = minerd_work;
	require_exit0(run_sandboxed(&c), "minerd");
}

/* abort() must still abort: tgkill to itself is allowed. */
static void
do_abort(struct child *c)
{
	(void)c;
	abort();
}

ATF_TC_WITHOUT_HEAD(abort_under_a_filter_dies_of_sigabrt);
ATF_TC_BODY(abort_under_a_filter_dies_of_sigabrt, tc)
{
	size_t	 i;
	int	 ws;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		ws = run_simple(children[i], do_abort);
		if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGABRT)
			atf_tc_fail("%s: abort() ended with wait status "
			    "%#x, not SIGABRT", proc_name(children[i]), ws);
	}
}

/*
 * Forbidden: each of these must kill the child with SIGSYS.
 */

static char *const no_argv[] = { "true", NULL };

static void
do_openat(struct child *c)
{
	(void)c;
	(void)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
}

static void
do_openat_write(struct child *c)
{
	(void)c;
	(void)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY);
}

static void
do_openat_creat(struct child *c)
{
	(void)c;
	(void)syscall(SYS_openat, AT_FDCWD, "sandbox_test.created",
	    O_RDONLY | O_CREAT, 0600);
}

#ifdef SYS_open
static void
do_open(struct child *c)
{
	(void)c;
	(void)syscall(SYS_open, "/dev/null", O_RDONLY);
}
#endif

static void
do_execve(struct child *c)
{
	(void)c;
	(void)execve("/bin/true", no_argv, NULL);
}

static void
do_execveat(struct child *c)
{
	(void)c;
	(void)syscall(SYS_execveat, AT_FDCWD, "/bin/true", no_argv, NULL, 0);
}

static void
do_ptrace(struct child *c)
{
	(void)c;
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
do_process_vm_readv(struct child *c)
{
	struct iovec	 local, remote;
	char		 a = 'a', b;

	(void)c;
	local.iov_base = &b;
	local.iov_len = 1;
	remote.iov_base = &a;
	remote.iov_len = 1;
	(void)process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
}

static void
do_socket_unix(struct child *c)
{
	(void)c;
	(void)socket(AF_UNIX, SOCK_STREAM, 0);
}

static void
do_socket_dgram(struct child *c)
{
	(void)c;
	(void)socket(AF_INET, SOCK_DGRAM, 0);
}

static void
do_socket_raw(struct child *c)
{
	(void)c;
	(void)socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
}

static void
do_socket_netlink(struct child *c)
{
	(void)c;
	(void)socket(AF_NETLINK, SOCK_DGRAM, 0);
}

static void
do_socket_inet(struct child *c)
{
	(void)c;
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
do_mmap_exec(struct child *c)
{
	(void)c;
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
do_mprotect_exec(struct child *c)
{
	void	*p;

	(void)c;
	CHILD_REQUIRE((p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED);
	(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void
do_kill_parent(struct child *c)
{
	(void)c;
	(void)kill(getppid(), 0);
}

static void
do_kill_group(struct child *c)
{
	(void)c;
	(void)kill(0, 0);
}

static void
do_tgkill_parent(struct child *c)
{
	(void)c;
	(void)syscall(SYS_tgkill, getppid(), getppid(), 0);
}

static void
do_fork(struct child *c)
{
	pid_t	 pid;

	(void)c;
	if ((pid = fork()) == 0)
		_exit(0);
}

static void
do_setuid(struct child *c)
{
	(void)c;
	(void)setresuid(getuid(), getuid(), getuid());
}

#ifdef __x86_64__
/* getpid through the x32 ABI: a foreign arch for the native filter. */
static void
do_x32(struct child *c)
{
	(void)c;
	(void)syscall(0x40000000 | SYS_getpid);
}

/* getpid (20) through the i386 ABI. */
static void
do_int80(struct child *c)
{
	long	 ret;

	(void)c;
	__asm__ volatile ("int $0x80" : "=a" (ret) : "a" (20L) : "memory");
	(void)ret;
}
#endif

#define KILLED_TC(name, proc, fn)					\
ATF_TC_WITHOUT_HEAD(name);						\
ATF_TC_BODY(name, tc)							\
{									\
	require_sigsys(run_simple(proc, fn), #name);			\
}

/*
 * A sanitizer build lets every child open files read-only, for the
 * runtime's reports (common/sandbox.c); writing still kills.
 */
#ifdef SANITIZER_SANDBOX
#define READ_ONLY_TC(name, fn)						\
ATF_TC_WITHOUT_HEAD(name);						\
ATF_TC_BODY(name, tc)							\
{									\
	(void)fn;							\
	atf_tc_skip("a sanitizer build allows read-only opens");	\
}
#else
#define READ_ONLY_TC(name, fn)	KILLED_TC(name, PROC_NETD, fn)
#endif

READ_ONLY_TC(netd_is_killed_by_openat, do_openat)
#ifdef SYS_open
READ_ONLY_TC(netd_is_killed_by_open, do_open)
#endif
KILLED_TC(netd_is_killed_by_openat_for_writing, PROC_NETD, do_openat_write)
KILLED_TC(netd_is_killed_by_openat_with_o_creat, PROC_NETD, do_openat_creat)
KILLED_TC(netd_is_killed_by_execve, PROC_NETD, do_execve)
KILLED_TC(netd_is_killed_by_execveat, PROC_NETD, do_execveat)
KILLED_TC(netd_is_killed_by_ptrace, PROC_NETD, do_ptrace)
KILLED_TC(netd_is_killed_by_process_vm_readv, PROC_NETD,
    do_process_vm_readv)
KILLED_TC(netd_is_killed_by_a_unix_socket, PROC_NETD, do_socket_unix)
KILLED_TC(netd_is_killed_by_a_udp_socket, PROC_NETD, do_socket_dgram)
KILLED_TC(netd_is_killed_by_a_raw_socket, PROC_NETD, do_socket_raw)
KILLED_TC(netd_is_killed_by_a_netlink_socket, PROC_NETD, do_socket_netlink)
KILLED_TC(netd_is_killed_by_signalling_another_process, PROC_NETD,
    do_kill_parent)
KILLED_TC(netd_is_killed_by_signalling_its_process_group, PROC_NETD,
    do_kill_group)
KILLED_TC(netd_is_killed_by_tgkill_of_another_process, PROC_NETD,
    do_tgkill_parent)
KILLED_TC(netd_is_killed_by_fork, PROC_NETD, do_fork)
KILLED_TC(netd_is_killed_by_setresuid, PROC_NETD, do_setuid)
KILLED_TC(netd_is_killed_by_executable_mmap, PROC_NETD, do_mmap_exec)
KILLED_TC(keyd_is_killed_by_socket, PROC_KEYD, do_socket_inet)
KILLED_TC(keyd_is_killed_by_execve, PROC_KEYD, do_execve)
KILLED_TC(keyd_is_killed_by_ptrace, PROC_KEYD, do_ptrace)
KILLED_TC(keyd_is_killed_by_mprotect_to_executable, PROC_KEYD,
    do_mprotect_exec)
KILLED_TC(minerd_is_killed_by_execve, PROC_MINERD, do_execve)
KILLED_TC(minerd_is_killed_by_fork, PROC_MINERD, do_fork)
KILLED_TC(minerd_is_killed_by_ptrace, PROC_MINERD, do_ptrace)
KILLED_TC(minerd_is_killed_by_executable_mmap, PROC_MINERD, do_mmap_exec)
KILLED_TC(minerd_is_killed_by_a_netlink_socket, PROC_MINERD,
    do_socket_netlink)

ATF_TC_WITHOUT_HEAD(an_x32_syscall_is_killed);
ATF_TC_BODY(an_x32_syscall_is_killed, tc)
{
#ifdef __x86_64__
	size_t	 i;

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++)
		require_sigsys(run_simple(children[i], do_x32),
		    proc_name(children[i]));
#else
	atf_tc_skip("x86_64 only");
#endif
}

ATF_TC_WITHOUT_HEAD(an_i386_syscall_is_killed);
ATF_TC_BODY(an_i386_syscall_is_killed, tc)
{
#ifdef __x86_64__
	size_t	 i;
	pid_t	 pid;
	int	 ws;

	/* Without a filter first: some kernels (or hypervisors) have no
	 * i386 ABI, and int 0x80 is a SIGSEGV there. */
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		long	 ret;

		privsep_nodump();
		__asm__ volatile ("int $0x80" : "=a" (ret) : "a" (20L) :
		    "memory");
		_exit(ret == (long)getpid() ? 0 : 1);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		atf_tc_skip("this kernel runs no i386 syscalls (int 0x80: "
		    "wait status %#x)", ws);

	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++)
		require_sigsys(run_simple(children[i], do_int80),
		    proc_name(children[i]));
#else
	atf_tc_skip("x86_64 only");
#endif
}

/*
 * Sanitizer builds: the runtime must be able to report from inside a
 * filter, or a bug would look like a SIGSYS.
 */

#if defined(TEST_ASAN) && defined(SANITIZER_SANDBOX)
static void
do_heap_overflow(struct child *c)
{
	volatile char	*p;
	volatile size_t	 n = 16;

	(void)c;
	CHILD_REQUIRE((p = malloc(n)) != NULL);
	p[n] = 'x';
	free((void *)p);
}

static void
do_signed_overflow(struct child *c)
{
	volatile int	 i = INT_MAX;

	(void)c;
	i = i + 1;
}

/*
 * Run fn as netd runs: stderr on a pipe, and when root, chrooted into an
 * empty directory as nobody (no /proc there: the runtime must have read
 * what it needs before the chroot).  The report must be on stderr and
 * the child must not have died of SIGSYS.
 */
static void
require_report(void (*fn)(struct child *), const char *want)
{
	struct child	 c;
	struct passwd	*pw = NULL;
	char		 out[65536], empty[] = "/tmp/sandbox_test.XXXXXX";
	size_t		 len = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 fds[2], ws;

	child_init(&c, PROC_NETD);
	if (geteuid() == 0 && (pw = getpwnam("nobody")) != NULL) {
		ATF_REQUIRE(mkdtemp(empty) != NULL);
		ATF_REQUIRE(chmod(empty, 0755) == 0);
	}
	ATF_REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (dup2(fds[1], STDERR_FILENO) == -1)
			_exit(CHILD_FAILED);
		log_init(1, LOG_DAEMON);
		privsep_nodump();
		if (pw != NULL)
			privsep_drop(empty, NULL, pw->pw_uid, pw->pw_gid, 1);
		if (sandbox_init(c.proc) == -1)
			child_fail(__LINE__, "sandbox_init");
		fn(&c);
		_exit(0);
	}
	close(fds[1]);
	while (len < sizeof(out) - 1 &&
	    (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
	if (pw != NULL)
		(void)rmdir(empty);
	fprintf(stderr, "%s", out);
	if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS)
		atf_tc_fail("the sanitizer runtime was killed by the filter");
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		atf_tc_fail("the bug was not reported");
	if (strstr(out, want) == NULL)
		atf_tc_fail("no \"%s\" in the child's stderr", want);
}
#endif

ATF_TC_WITHOUT_HEAD(asan_reports_from_inside_a_filter);
ATF_TC_BODY(asan_reports_from_inside_a_filter, tc)
{
#if defined(TEST_ASAN) && defined(SANITIZER_SANDBOX)
	require_report(do_heap_overflow, "heap-buffer-overflow");
#else
	atf_tc_skip("not a --enable-sanitizers build");
#endif
}

ATF_TC_WITHOUT_HEAD(ubsan_reports_from_inside_a_filter);
ATF_TC_BODY(ubsan_reports_from_inside_a_filter, tc)
{
#if defined(TEST_ASAN) && defined(SANITIZER_SANDBOX)
	require_report(do_signed_overflow, "signed integer overflow");
#else
	atf_tc_skip("not a --enable-sanitizers build");
#endif
}

/*
 * privsep_drop().
 */

ATF_TC_WITHOUT_HEAD(privsep_drop_refuses_root);
ATF_TC_BODY(privsep_drop_refuses_root, tc)
{
	static const struct {
		uid_t	 uid;
		gid_t	 gid;
	} ids[] = { { 0, 0 }, { 0, 65534 }, { 65534, 0 } };
	size_t	 i;
	pid_t	 pid;
	int	 ws;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		fflush(stderr);
		ATF_REQUIRE((pid = fork()) != -1);
		if (pid == 0) {
			log_init(1, LOG_DAEMON);
			privsep_drop(NULL, NULL, ids[i].uid, ids[i].gid, 0);
			_exit(0);
		}
		ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
		ATF_REQUIRE_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 1,
		    "uid %u gid %u: wait status %#x, not exit 1",
		    (unsigned int)ids[i].uid, (unsigned int)ids[i].gid, ws);
	}
}

/* As nobody, chrooted into root with workdir "/w". */
static void
drop_run(const char *root, struct stat *rootst, struct stat *wst,
    uid_t uid, gid_t gid)
{
	struct rlimit	 rl;
	struct stat	 st;
	uid_t		 r, e, s;
	gid_t		 rg, eg, sg, groups[4];

	privsep_drop(root, "/w", uid, gid, 1);

	CHILD_REQUIRE(getresuid(&r, &e, &s) == 0);
	CHILD_REQUIRE(r == uid && e == uid && s == uid);
	CHILD_REQUIRE(getresgid(&rg, &eg, &sg) == 0);
	CHILD_REQUIRE(rg == gid && eg == gid && sg == gid);
	CHILD_REQUIRE(getgroups(4, groups) == 1 && groups[0] == gid);
	CHILD_REQUIRE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHILD_REQUIRE(getrlimit(RLIMIT_CORE, &rl) == 0);
	CHILD_REQUIRE(rl.rlim_cur == 0 && rl.rlim_max == 0);
	CHILD_REQUIRE(setuid(0) == -1 && seteuid(0) == -1);

	CHILD_REQUIRE(stat(".", &st) == 0);
	CHILD_REQUIRE(st.st_dev == wst->st_dev && st.st_ino == wst->st_ino);
	CHILD_REQUIRE(chdir("..") == 0 && chdir("..") == 0);
	CHILD_REQUIRE(stat(".", &st) == 0);
	CHILD_REQUIRE(st.st_dev == rootst->st_dev &&
	    st.st_ino == rootst->st_ino);
	CHILD_REQUIRE(stat("/", &st) == 0);
	CHILD_REQUIRE(st.st_dev == rootst->st_dev &&
	    st.st_ino == rootst->st_ino);
	CHILD_REQUIRE(access("/w", F_OK) == 0);
	CHILD_REQUIRE(access("/etc/passwd", F_OK) == -1);
}

ATF_TC_WITHOUT_HEAD(privsep_drop_chroots_and_leaves_no_way_back);
ATF_TC_BODY(privsep_drop_chroots_and_leaves_no_way_back, tc)
{
	struct passwd	*pw;
	struct stat	 rootst, wst;
	char		 root[] = "/tmp/sandbox_test.XXXXXX", w[PATH_MAX];
	pid_t		 pid;
	int		 ws;

	if (geteuid() != 0)
		atf_tc_skip("needs root");
	if ((pw = getpwnam("nobody")) == NULL)
		atf_tc_skip("no user nobody");
	ATF_REQUIRE(pw->pw_uid != 0 && pw->pw_gid != 0);

	ATF_REQUIRE(mkdtemp(root) != NULL);
	ATF_REQUIRE(chmod(root, 0755) == 0);
	(void)snprintf(w, sizeof(w), "%s/w", root);
	ATF_REQUIRE(mkdir(w, 0755) == 0);
	ATF_REQUIRE(stat(root, &rootst) == 0);
	ATF_REQUIRE(stat(w, &wst) == 0);

	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		log_init(1, LOG_DAEMON);
		drop_run(root, &rootst, &wst, pw->pw_uid, pw->pw_gid);
		_exit(0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &ws, 0), pid);
	(void)rmdir(w);
	(void)rmdir(root);
	require_exit0(ws, "privsep_drop to nobody");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, every_filter_allows_memory_pipes_clocks_and_signals);
	ATF_TP_ADD_TC(tp, every_filter_runs_a_libevent_loop);
	ATF_TP_ADD_TC(tp, every_filter_shows_seccomp_2_and_no_new_privs);
	ATF_TP_ADD_TC(tp, sandbox_init_refuses_an_unknown_process);
	ATF_TP_ADD_TC(tp, keyd_allows_locked_memory_and_atomic_key_writes);
	ATF_TP_ADD_TC(tp, netd_allows_tcp_over_ipv4_and_ipv6);
	ATF_TP_ADD_TC(tp, minerd_allows_its_state_directory_and_sockets);
	ATF_TP_ADD_TC(tp, abort_under_a_filter_dies_of_sigabrt);

	ATF_TP_ADD_TC(tp, netd_is_killed_by_openat);
#ifdef SYS_open
	ATF_TP_ADD_TC(tp, netd_is_killed_by_open);
#endif
	ATF_TP_ADD_TC(tp, netd_is_killed_by_openat_for_writing);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_openat_with_o_creat);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_execve);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_execveat);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_ptrace);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_process_vm_readv);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_a_unix_socket);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_a_udp_socket);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_a_raw_socket);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_a_netlink_socket);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_signalling_another_process);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_signalling_its_process_group);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_tgkill_of_another_process);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_fork);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_setresuid);
	ATF_TP_ADD_TC(tp, netd_is_killed_by_executable_mmap);
	ATF_TP_ADD_TC(tp, keyd_is_killed_by_socket);
	ATF_TP_ADD_TC(tp, keyd_is_killed_by_execve);
	ATF_TP_ADD_TC(tp, keyd_is_killed_by_ptrace);
	ATF_TP_ADD_TC(tp, keyd_is_killed_by_mprotect_to_executable);
	ATF_TP_ADD_TC(tp, minerd_is_killed_by_execve);
	ATF_TP_ADD_TC(tp, minerd_is_killed_by_fork);
	ATF_TP_ADD_TC(tp, minerd_is_killed_by_ptrace);
	ATF_TP_ADD_TC(tp, minerd_is_killed_by_executable_mmap);
	ATF_TP_ADD_TC(tp, minerd_is_killed_by_a_netlink_socket);
	ATF_TP_ADD_TC(tp, an_x32_syscall_is_killed);
	ATF_TP_ADD_TC(tp, an_i386_syscall_is_killed);

	ATF_TP_ADD_TC(tp, asan_reports_from_inside_a_filter);
	ATF_TP_ADD_TC(tp, ubsan_reports_from_inside_a_filter);

	ATF_TP_ADD_TC(tp, privsep_drop_refuses_root);
	ATF_TP_ADD_TC(tp, privsep_drop_chroots_and_leaves_no_way_back);

	return (atf_no_error());
}
