/*
 * seccomp allow-lists for keyd, netd and minerd, built with libseccomp.
 *
 * Each child calls sandbox_init() once, after privsep_drop() and after
 * everything that needs a file, a library or a new socket type is set
 * up (tzset, sodium_init, the event base).  Anything not listed here
 * kills the whole process; so does any syscall made through a foreign
 * ABI (i386 int 0x80, x32 on x86_64).  The lists are for glibc on
 * Linux: a syscall that one architecture lacks (open on arm64) is
 * simply not added there.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include <seccomp.h>

#include "lethd.h"
#include "sandbox.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * Every child: its pipes and event loop (libevent's epoll backend and
 * its signal pipe), memory (malloc, sodium_malloc's guard pages),
 * clocks, signals, and what glibc itself calls on the way (uname,
 * restart_syscall, fstat as newfstatat).  mmap, mprotect, kill and
 * tgkill are added with argument checks by sandbox_rules_common().
 */
static const int sandbox_common[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(futex),
	SCMP_SYS(fcntl),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(lseek),
	SCMP_SYS(getrandom),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(eventfd2),
	SCMP_SYS(pipe2),
	SCMP_SYS(dup),
	SCMP_SYS(dup3),
	SCMP_SYS(sched_yield),
	SCMP_SYS(uname),
	/* glibc's qsort(3) asks sysconf(_SC_PHYS_PAGES) before sorting
	 * more than 1 KiB (minerd sorts a fleet's answers) */
	SCMP_SYS(sysinfo),
};

/*
 * keyd: its key file under key/ in its chroot, written atomically
 * (temporary file, fsync, rename, fsync of the directory), and locked
 * memory for the key.  No sockets of its own.
 */
static const int sandbox_keyd[] = {
	SCMP_SYS(openat),
	SCMP_SYS(rename),
	SCMP_SYS(renameat),
	SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(mlock),
	SCMP_SYS(mlock2),
	SCMP_SYS(munlock),
	SCMP_SYS(umask),
	SCMP_SYS(fchmod),
};

/*
 * netd: TCP to peers and from its listeners (the parent binds those).
 * socket() is allowed for IPv4 and IPv6 streams only, by
 * sandbox_rules_netd().  No file is ever opened: open, openat, execve,
 * ptrace, process_vm_* and the rest kill.
 */
static const int sandbox_netd[] = {
	SCMP_SYS(connect),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(shutdown),
};

/*
 * minerd: its state directory (atomic state files, later SQLite), the
 * control socket the parent hands it, and HTTP to the miners' local
 * APIs.  socket() for AF_UNIX, AF_INET and AF_INET6 is added by
 * sandbox_rules_minerd().
 */
static const int sandbox_minerd[] = {
	SCMP_SYS(openat),
	SCMP_SYS(rename),
	SCMP_SYS(renameat),
	SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat),
	SCMP_SYS(ftruncate),
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(fchmod),
	SCMP_SYS(umask),
	SCMP_SYS(getdents64),
	SCMP_SYS(flock),
	SCMP_SYS(connect),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(shutdown),
	/*
	 * A miner's API port: bind 127.0.0.1:0, read the port the kernel
	 * chose with getsockname, close (minerd/miner.c).  listen stays
	 * forbidden, so minerd can hold no listener of its own.
	 */
	SCMP_SYS(bind),
};

#ifdef SANITIZER_SANDBOX
/*
 * Only in a build configured with --enable-sanitizers, never in a
 * release build: what the ASan/UBSan runtime calls to write a report
 * and exit from inside a filtered child.  It reads /proc/self/maps,
 * /proc/self/cmdline and the binaries (open and openat, read-only,
 * from sandbox_rules_sanitizer(); readlink, pread64), asks whether
 * stderr is a terminal (ioctl TCGETS only), and may size stacks and
 * CPUs or check mappings on the way (sigaltstack, prctl,
 * sched_getaffinity, getrlimit, prlimit64, mincore, getppid).  Still
 * forbidden: fork and exec of an external symboliser (clang's runtime
 * starts llvm-symbolizer when it finds one), and LeakSanitizer at exit
 * (clone and ptrace; it cannot trace a non-dumpable process anyway).
 * Run the daemons of such a build with ASAN_OPTIONS=symbolize=0
 * (GCC's built-in libbacktrace symboliser needs no process) and
 * detect_leaks=0.
 */
static const int sandbox_sanitizer[] = {
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(pread64),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(prctl),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrlimit),
	SCMP_SYS(prlimit64),
	SCMP_SYS(mincore),
	SCMP_SYS(getppid),
};
#endif /* SANITIZER_SANDBOX */

static int	sandbox_allow(scmp_filter_ctx, const int *, size_t);
static int	sandbox_rules_common(scmp_filter_ctx);
static int	sandbox_rules_netd(scmp_filter_ctx);
static int	sandbox_rules_minerd(scmp_filter_ctx);
#ifdef SANITIZER_SANDBOX
static int	sandbox_rules_sanitizer(scmp_filter_ctx);
#endif

static const struct sandbox_policy {
	enum lethd_proc	 proc;
	const int	*allow;
	size_t		 nallow;
	int		(*rules)(scmp_filter_ctx);
} sandbox_policies[] = {
	{ PROC_KEYD, sandbox_keyd, nitems(sandbox_keyd), NULL },
	{ PROC_NETD, sandbox_netd, nitems(sandbox_netd),
	    sandbox_rules_netd },
	{ PROC_MINERD, sandbox_minerd, nitems(sandbox_minerd),
	    sandbox_rules_minerd },
};

int
sandbox_init(enum lethd_proc proc)
{
	const struct sandbox_policy	*sp = NULL;
	scmp_filter_ctx			 ctx;
	uint32_t			 action;
	size_t				 i;
	int				 rc;

	for (i = 0; i < nitems(sandbox_policies); i++)
		if (sandbox_policies[i].proc == proc)
			sp = &sandbox_policies[i];
	if (sp == NULL) {
		errno = EINVAL;
		return (-1);
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return (-1);

	/*
	 * API level 3 knows SCMP_ACT_KILL_PROCESS (Linux 4.14).  Before
	 * that, kill the thread: our children have only one.
	 */
	action = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_KILL;
	if ((ctx = seccomp_init(action)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	/* The native ABI only: no other arch is added, and a syscall
	 * through another one (i386, x32) kills too. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    action)) < 0)
		goto fail;
	/* Load it on every thread, or fail: no thread left unfiltered. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;

	if ((rc = sandbox_allow(ctx, sandbox_common,
	    nitems(sandbox_common))) < 0 ||
	    (rc = sandbox_rules_common(ctx)) < 0 ||
	    (rc = sandbox_allow(ctx, sp->allow, sp->nallow)) < 0 ||
	    (sp->rules != NULL && (rc = sp->rules(ctx)) < 0))
		goto fail;
#ifdef SANITIZER_SANDBOX
	if ((rc = sandbox_allow(ctx, sandbox_sanitizer,
	    nitems(sandbox_sanitizer))) < 0 ||
	    (rc = sandbox_rules_sanitizer(ctx)) < 0)
		goto fail;
#endif

	if ((rc = seccomp_load(ctx)) < 0)
		goto fail;
	seccomp_release(ctx);
	return (0);

 fail:
	seccomp_release(ctx);
	errno = -rc;
	return (-1);
}

static int
sandbox_allow(scmp_filter_ctx ctx, const int *sys, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys[i], 0)) < 0)
			return (rc);
	return (0);
}

/*
 * Memory may be mapped and protected, never executable: no new code
 * after the filter is in.  Signals only to ourselves: glibc's raise()
 * and abort() use tgkill(getpid(), gettid(), sig).  ioctl for FIONREAD
 * only.
 */
static int
sandbox_rules_common(scmp_filter_ctx ctx)
{
	scmp_datum_t	 pid = (scmp_datum_t)getpid();
	int		 rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return (rc);
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return (rc);
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, pid, 0))) < 0)
		return (rc);
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, pid, 0))) < 0)
		return (rc);
	/* libevent's evbuffer_read asks how much a socket holds */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD, 0))) < 0)
		return (rc);
	return (0);
}

/*
 * The type may carry SOCK_NONBLOCK and SOCK_CLOEXEC and nothing else
 * but SOCK_STREAM.  The comparisons are on the whole 64-bit register:
 * garbage in the upper half is refused, never ignored.
 */
#define SOCK_TYPE_MASK	(~(scmp_datum_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))

static int
sandbox_rules_netd(scmp_filter_ctx ctx)
{
	static const int	 family[] = { AF_INET, AF_INET6 };
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(family); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family[i], 0),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK,
		    SOCK_STREAM))) < 0)
			return (rc);
	return (0);
}

/* minerd: local HTTP to the miners, and DNS later: any type. */
static int
sandbox_rules_minerd(scmp_filter_ctx ctx)
{
	static const int	 family[] = { AF_UNIX, AF_INET, AF_INET6 };
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(family); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family[i], 0))) < 0)
			return (rc);
	return (0);
}

#ifdef SANITIZER_SANDBOX
/*
 * Files read-only, never created or truncated; ioctl for isatty(2)
 * only, to colour the report or not.
 */
#define OPEN_WRITE_MASK	((scmp_datum_t)(O_ACCMODE | O_CREAT | O_TRUNC))

static int
sandbox_rules_sanitizer(scmp_filter_ctx ctx)
{
	int	 rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, OPEN_WRITE_MASK, O_RDONLY))) < 0)
		return (rc);
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, OPEN_WRITE_MASK, O_RDONLY))) < 0)
		return (rc);
	return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0)));
}
#endif /* SANITIZER_SANDBOX */
