/*
 * The parent's side of miner supervision.  minerd asks, by slot; the
 * parent checks every field of the request, opens the binary itself,
 * forks the miner as the miner user in its own process group and
 * cgroup, keeps a fixed-layout record per slot (also on disk, so a
 * restarted lethd clears what a killed one left), restarts a crashed
 * miner with backoff, and kills only by its own slots.  It keeps the
 * read end of each miner's output pipe, hands minerd a duplicate, and
 * drains it itself while no minerd is attached.
 */

#include <sys/param.h>
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "binpath.h"
#include "lethd_proc.h"

#define SLOTS_MAGIC		0x6c736c74U	/* "lslt" */
#define SLOTS_VERSION		1
#define MINER_DRAIN_BUF		4096	/* bytes a drain event reads */
#define MINER_STAT_MAX		1024	/* bytes of /proc/PID/stat */
#define MINER_STAT_STARTTIME	22	/* field of /proc/PID/stat */
#define MINER_TRACK_MAX		64	/* descendants, no cgroup */
#define MINER_PROC_SCAN_MAX	32768	/* /proc entries a scan */
#define MINER_STOP_POLL_MS	50	/* waitpid polling at shutdown */
#define MINER_ENV_PATH		"PATH=/usr/bin:/bin"
#define MINER_NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"abcdefghijklmnopqrstuvwxyz0123456789._-"
#define MINER_HEX_CHARS		"0123456789abcdefABCDEF"

enum miner_after {
	AFTER_CRASH = 0,	/* an exit nobody asked for */
	AFTER_FREE,		/* stop: free the slot */
	AFTER_RESTART		/* restart at once (watchdog) */
};

struct mslot {
	int			 used;
	struct miner_record	 rec;
	struct miner_spawn	 spec;
	uint64_t		 pstart;	/* /proc/PID/stat starttime */
	int			 pipefd;	/* read end: stdout+stderr */
	struct event		*drain_ev;
	struct event		*timer_ev;	/* backoff, stop grace */
	enum miner_after	 after;
	unsigned int		 backoff_ms;
	long long		 started_ms;	/* monotonic */
	long long		 crash_at[CONF_CRASHES_MAX];	/* ring */
	unsigned int		 crash_next;
	pid_t			 track[MINER_TRACK_MAX]; /* no cgroup */
	unsigned int		 ntrack;
};

/* The slots file: a header and one entry per used slot. */
struct slots_header {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	count;
	uint32_t	entry_size;
};

struct slots_entry {
	struct miner_record	rec;
	uint64_t		pstart;
	struct miner_spawn	spec;
};

static struct mslot	 slots[MINER_SLOTS_MAX];
static int		 miners_fd = -1;	/* DIRECTORY/miners */
static int		 work_fd = -1;		/* DIRECTORY/work */
static int		 base_fd = -1;		/* DIRECTORY */
static int		 minerd_attached;
static int		 miner_cgroup;

static long long	 mono_ms(void);
static unsigned int	 miner_max(void);
static int		 miner_check_uid(char *, size_t);
static int		 miner_check_spec(const struct miner_spawn *, size_t,
			    char *, size_t);
static int		 miner_charset(const char *, size_t, size_t,
			    const char *);
static void		 miner_refuse(uint32_t, const char *, ...)
			    __attribute__((__format__ (printf, 2, 3)));
static int		 miner_write_config(struct mslot *, const void *,
			    size_t, char *, size_t);
static int		 miner_start(struct mslot *, char *, size_t);
static __attribute__((__noreturn__)) void miner_exec(struct mslot *, int,
			    int, pid_t);
static void		 miner_started(struct mslot *, pid_t, int);
static void		 miner_start_or_crash(struct mslot *);
static void		 miner_exited(struct mslot *, int);
static void		 miner_crashed(struct mslot *, pid_t, int);
static void		 miner_fail(struct mslot *, pid_t, int);
static int		 miner_count_crash(struct mslot *);
static void		 miner_stop(struct mslot *, enum miner_after);
static void		 miner_signal(struct mslot *, int);
static void		 miner_track(struct mslot *);
static void		 miner_free(struct mslot *);
static void		 miner_send_record(struct mslot *);
static void		 miner_send_exit(struct mslot *, pid_t, int,
			    int64_t);
static void		 miner_drain_cb(int, short, void *);
static void		 miner_timer_cb(int, short, void *);
static void		 miner_close_pipe(struct mslot *);
static void		 miner_save(void);
static void		 miner_clear_leftovers(void);
static uint64_t		 miner_proc_start(pid_t);
static const char	*miner_exit_text(int, char *, size_t);

static long long
mono_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static unsigned int
miner_max(void)
{
	return (MIN(env->conf.miner_max, MINER_SLOTS_MAX));
}

/* Open the directories, become a subreaper, clear leftovers. */
void
miner_init(void)
{
	unsigned int	 i;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
	if ((base_fd = open(env->conf.directory, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1)
		fatal("%s", env->conf.directory);
	if ((miners_fd = openat(base_fd, LETHD_MINERS_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    (work_fd = openat(base_fd, LETHD_WORK_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		fatal("%s: miners or work directory", env->conf.directory);
	miner_cgroup = cgroup_init() == 0;
	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		slots[i].rec.slot = i;
		slots[i].pipefd = -1;
		if ((slots[i].timer_ev = evtimer_new(ev_base, miner_timer_cb,
		    &slots[i])) == NULL)
			fatalx("evtimer_new");
	}
	miner_clear_leftovers();
	miner_save();
	log_debug("miners from %s/%s, at most %u", env->conf.directory,
	    LETHD_MINERS_DIR, miner_max());
}

/*
 * What a killed lethd left: processes of its slot records that still
 * run with the recorded start time, and whatever is in this instance's
 * cgroups.  Never by uid: other instances may share the miner user.
 */
static void
miner_clear_leftovers(void)
{
	struct slots_header	 h;
	struct slots_entry	 e;
	char			*buf;
	size_t			 len, off;
	uint32_t		 i;
	pid_t			 pid;

	if (read_file_bounded(base_fd, LETHD_SLOTS_FILE, sizeof(h) +
	    MINER_SLOTS_MAX * sizeof(e), &buf, &len) == -1) {
		if (errno != ENOENT)
			log_warn("%s/%s", env->conf.directory,
			    LETHD_SLOTS_FILE);
		goto cgroups;
	}
	if (len < sizeof(h))
		goto bad;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != SLOTS_MAGIC || h.version != SLOTS_VERSION ||
	    h.entry_size != sizeof(e) || h.count > MINER_SLOTS_MAX ||
	    len != sizeof(h) + (size_t)h.count * sizeof(e))
		goto bad;
	for (i = 0, off = sizeof(h); i < h.count; i++, off += sizeof(e)) {
		memcpy(&e, buf + off, sizeof(e));
		pid = e.rec.pid;
		if (pid <= 1 || e.pstart == 0 ||
		    miner_proc_start(pid) != e.pstart)
			continue;
		log_warnx("killing the leftover miner of slot %u (pid %d)",
		    e.rec.slot, (int)pid);
		/* the leader runs: its process group is still its own */
		if (e.rec.pgid == pid)
			(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
	}
	free(buf);
	goto cgroups;
 bad:
	log_warnx("%s/%s: not a slots file of this version: ignored",
	    env->conf.directory, LETHD_SLOTS_FILE);
	free(buf);
 cgroups:
	if (miner_cgroup)
		(void)cgroup_clear_all();
}

/* /proc/PID/stat field 22, the start time in clock ticks; 0 unknown. */
static uint64_t
miner_proc_start(pid_t pid)
{
	char		 path[64], buf[MINER_STAT_MAX + 1], *p;
	ssize_t		 n;
	int		 fd, field;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, MINER_STAT_MAX);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	/* the command may hold spaces and parentheses: after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	for (field = 2; field < MINER_STAT_STARTTIME && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return (0);
	return (strtoull(p + 1, NULL, 10));
}

/* The miner user: never root, never the uid of a lethd process. */
static int
miner_check_uid(char *reason, size_t len)
{
	uid_t	 uid = env->uid[USER_MINER];
	int	 u;

	if (uid == 0 || env->gid[USER_MINER] == 0) {
		(void)snprintf(reason, len, "the miner user is root");
		return (-1);
	}
	for (u = 0; u < USER_MAX; u++)
		if (u != USER_MINER && env->uid[u] == uid) {
			(void)snprintf(reason, len, "the miner user has the "
			    "uid of a lethd process");
			return (-1);
		}
	return (0);
}

/* s: NUL-terminated within size, min..max bytes of chars. */
static int
miner_charset(const char *s, size_t size, size_t min, const char *chars)
{
	size_t	 n;

	n = strnlen(s, size);
	if (n == size || n < min)
		return (-1);
	return (strspn(s, chars) == n ? 0 : -1);
}

/* Every field of a spawn request, one by one. */
static int
miner_check_spec(const struct miner_spawn *sp, size_t trailing, char *r,
    size_t len)
{
	uint32_t	 i;

	if (sp->slot >= miner_max()) {
		(void)snprintf(r, len, "slot %u out of range (max miners %u)",
		    sp->slot, miner_max());
		return (-1);
	}
	if (miner_charset(sp->name, sizeof(sp->name), 1,
	    MINER_NAME_CHARS) == -1) {
		(void)snprintf(r, len, "bad name: 1 to %d of [A-Za-z0-9._-]",
		    MINER_NAME_MAX);
		return (-1);
	}
	if (strnlen(sp->driver, sizeof(sp->driver)) == sizeof(sp->driver) ||
	    (strcmp(sp->driver, "xmrig") != 0 &&
	    strcmp(sp->driver, "tt-miner") != 0 &&
	    strcmp(sp->driver, "generic") != 0)) {
		(void)snprintf(r, len, "bad driver: xmrig, tt-miner or "
		    "generic");
		return (-1);
	}
	if (miner_charset(sp->profile, sizeof(sp->profile), 1,
	    MINER_NAME_CHARS) == -1) {
		(void)snprintf(r, len, "bad profile id: 1 to %d of "
		    "[A-Za-z0-9._-]", PROFILE_ID_MAX);
		return (-1);
	}
	if (strnlen(sp->binary, sizeof(sp->binary)) == sizeof(sp->binary)) {
		(void)snprintf(r, len, "binary name not terminated");
		return (-1);
	}
	if (binpath_check_name(sp->binary, r, len) == -1)
		return (-1);
	if (sp->argc > MINER_ARGS_MAX) {
		(void)snprintf(r, len, "%u arguments: at most %d", sp->argc,
		    MINER_ARGS_MAX);
		return (-1);
	}
	for (i = 0; i < sp->argc; i++)
		if (strnlen(sp->argv[i], MINER_ARG_LEN) == MINER_ARG_LEN) {
			(void)snprintf(r, len, "argument %u not terminated "
			    "(at most %d bytes)", i + 1, MINER_ARG_LEN - 1);
			return (-1);
		}
	if (strnlen(sp->config_name, sizeof(sp->config_name)) ==
	    sizeof(sp->config_name) ||
	    (sp->config_name[0] != '\0' &&
	    (sp->config_name[0] == '.' || miner_charset(sp->config_name,
	    sizeof(sp->config_name), 1, MINER_NAME_CHARS) == -1))) {
		(void)snprintf(r, len, "bad config file name: a plain name "
		    "of [A-Za-z0-9._-], not starting with a dot");
		return (-1);
	}
	if (sp->config_len != trailing || sp->config_len > MINER_CONFIG_MAX) {
		(void)snprintf(r, len, "config length %u: %zu bytes follow, "
		    "at most %d", sp->config_len, trailing,
		    MINER_CONFIG_MAX);
		return (-1);
	}
	if (sp->config_name[0] == '\0' && sp->config_len != 0) {
		(void)snprintf(r, len, "config bytes without a file name");
		return (-1);
	}
	if (miner_charset(sp->api_token, sizeof(sp->api_token), 0,
	    MINER_HEX_CHARS) == -1) {
		(void)snprintf(r, len, "bad API token: at most %d hex digits",
		    MINER_TOKEN_LEN);
		return (-1);
	}
	return (0);
}

static void
miner_refuse(uint32_t slot, const char *fmt, ...)
{
	struct miner_refusal	 mr;
	struct child		*c = child_get(PROC_MINERD);
	va_list			 ap;

	memset(&mr, 0, sizeof(mr));
	mr.slot = slot;
	va_start(ap, fmt);
	(void)vsnprintf(mr.reason, sizeof(mr.reason), fmt, ap);
	va_end(ap);
	log_warnx("miner spawn refused (slot %u): %s", slot, mr.reason);
	if (c->iev.open)
		(void)imsgev_compose(&c->iev, IMSG_MINER_REFUSED, 0, 0, -1,
		    &mr, sizeof(mr));
}

/*
 * IMSG_MINER_SPAWN: struct miner_spawn and the config file's bytes.
 * Returns -1 only for a malformed message (the caller kills minerd);
 * a bad field is refused with its reason.
 */
int
miner_spawn_imsg(const void *data, size_t len)
{
	struct miner_spawn	 sp;
	struct mslot		*s;
	char			 reason[BINPATH_REASON_MAX];
	uint32_t		 i;

	if (data == NULL || len < sizeof(sp) ||
	    len - sizeof(sp) > MINER_CONFIG_MAX)
		return (-1);
	memcpy(&sp, data, sizeof(sp));
	if (miner_check_spec(&sp, len - sizeof(sp), reason,
	    sizeof(reason)) == -1) {
		miner_refuse(sp.slot, "%s", reason);
		return (0);
	}
	if (miner_check_uid(reason, sizeof(reason)) == -1) {
		miner_refuse(sp.slot, "%s", reason);
		return (0);
	}
	if (env->shutting_down) {
		miner_refuse(sp.slot, "lethd is shutting down");
		return (0);
	}
	s = &slots[sp.slot];
	if (s->used && (s->rec.pid > 0 || s->rec.state == MINER_BACKOFF ||
	    s->rec.state == MINER_STOPPING)) {
		miner_refuse(sp.slot, "slot %u is in use by %s", sp.slot,
		    s->rec.name);
		return (0);
	}
	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (i != sp.slot && slots[i].used &&
		    strcmp(slots[i].rec.name, sp.name) == 0) {
			miner_refuse(sp.slot, "name %s is in use by slot %u",
			    sp.name, i);
			return (0);
		}
	/* a failed or stopped miner in this slot is replaced */
	miner_free(s);
	s->spec = sp;
	memset(&s->rec, 0, sizeof(s->rec));
	s->rec.slot = sp.slot;
	s->rec.state = MINER_STARTING;
	memcpy(s->rec.name, sp.name, sizeof(s->rec.name));
	memcpy(s->rec.driver, sp.driver, sizeof(s->rec.driver));
	memcpy(s->rec.profile, sp.profile, sizeof(s->rec.profile));
	s->rec.api_port = sp.api_port;
	memcpy(s->rec.api_token, sp.api_token, sizeof(s->rec.api_token));
	if (miner_write_config(s, (const char *)data + sizeof(sp),
	    sp.config_len, reason, sizeof(reason)) == -1 ||
	    miner_start(s, reason, sizeof(reason)) == -1) {
		miner_free(s);
		miner_refuse(sp.slot, "%s", reason);
		return (0);
	}
	s->used = 1;
	log_info("miner %s started (slot %u, pid %d, %s)", s->rec.name,
	    sp.slot, (int)s->rec.pid, sp.binary);
	miner_save();
	miner_send_record(s);
	return (0);
}

/* DIRECTORY/work/SLOT/NAME: 0600, the miner user's, atomically. */
static int
miner_write_config(struct mslot *s, const void *buf, size_t len, char *r,
    size_t rlen)
{
	char	 dir[16];
	int	 dfd;

	if (s->spec.config_name[0] == '\0')
		return (0);
	(void)snprintf(dir, sizeof(dir), "%u", s->rec.slot);
	if ((dfd = openat(work_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		(void)snprintf(r, rlen, "work directory %s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	if (write_file_atomic_owner(dfd, s->spec.config_name, buf, len,
	    0600, env->uid[USER_MINER], env->gid[USER_MINER]) == -1) {
		(void)snprintf(r, rlen, "writing the config file %s: %s",
		    s->spec.config_name, strerror(errno));
		close(dfd);
		return (-1);
	}
	close(dfd);
	return (0);
}

/* Open and check the binary, fork, exec.  -1 with a reason. */
static int
miner_start(struct mslot *s, char *reason, size_t len)
{
	int	 binfd, p[2];
	pid_t	 pid, parent = getpid();

	if (miner_check_uid(reason, len) == -1)
		return (-1);
	if ((binfd = binpath_open(miners_fd, s->spec.binary, reason,
	    len)) == -1)
		return (-1);
	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)snprintf(reason, len, "pipe: %s", strerror(errno));
		close(binfd);
		return (-1);
	}
	if (miner_cgroup)
		(void)cgroup_slot_prepare(s->rec.slot);
	switch (pid = fork()) {
	case -1:
		(void)snprintf(reason, len, "fork: %s", strerror(errno));
		close(binfd);
		close(p[0]);
		close(p[1]);
		return (-1);
	case 0:
		miner_exec(s, binfd, p[1], parent);
		/* NOTREACHED */
	default:
		break;
	}
	close(binfd);
	close(p[1]);
	miner_started(s, pid, p[0]);
	return (0);
}

/*
 * The forked child: own session and process group, cgroup, rlimits,
 * the miner user, death with the parent, a clean environment, the
 * binary by fd.  Nothing here logs: failures are exit codes 126/127.
 */
static void
miner_exec(struct mslot *s, int binfd, int wfd, pid_t parent)
{
	char		 workdir[PATH_MAX], home[PATH_MAX + 8];
	char		*argv[MINER_ARGS_MAX + 2], *envp[3];
	const char	*base;
	struct rlimit	 rl;
	sigset_t	 set;
	uid_t		 uid = env->uid[USER_MINER];
	gid_t		 gid = env->gid[USER_MINER];
	uint32_t	 i;
	int		 bfd, ofd;

	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	if (setsid() == -1)
		_exit(126);
	if (miner_cgroup)
		(void)cgroup_slot_enter(s->rec.slot);

	rl.rlim_cur = rl.rlim_max = env->conf.miner_nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(126);
	rl.rlim_cur = rl.rlim_max = env->conf.miner_nproc;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		_exit(126);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		_exit(126);

	/* fds: 0 /dev/null, 1 and 2 the pipe, 3 the binary; nothing else */
	if ((bfd = fcntl(binfd, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (ofd = fcntl(wfd, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    dup2(env->devnull, STDIN_FILENO) == -1 ||
	    dup2(ofd, STDOUT_FILENO) == -1 ||
	    dup2(ofd, STDERR_FILENO) == -1 ||
	    dup2(bfd, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		_exit(126);
	if (close_range(4, ~0U, 0) == -1) {
		int	 fd;

		for (fd = 4; fd < 65536; fd++)
			(void)close(fd);
	}

	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		_exit(126);
	if (getuid() == 0 || geteuid() == 0)
		_exit(126);
	/* after the uid change, which would clear it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != parent)
		_exit(126);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(126);

	if ((size_t)snprintf(workdir, sizeof(workdir), "%s/%s/%u",
	    env->conf.directory, LETHD_WORK_DIR, s->rec.slot) >=
	    sizeof(workdir) || chdir(workdir) == -1)
		_exit(126);
	(void)snprintf(home, sizeof(home), "HOME=%s", workdir);
	envp[0] = home;
	envp[1] = MINER_ENV_PATH;
	envp[2] = NULL;
	base = strrchr(s->spec.binary, '/');
	argv[0] = base != NULL ? (char *)base + 1 : s->spec.binary;
	for (i = 0; i < s->spec.argc; i++)
		argv[i + 1] = s->spec.argv[i];
	argv[i + 1] = NULL;
	(void)execveat(3, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

static void
miner_started(struct mslot *s, pid_t pid, int rfd)
{
	int	 fl;

	if ((fl = fcntl(rfd, F_GETFL)) == -1 ||
	    fcntl(rfd, F_SETFL, fl | O_NONBLOCK) == -1)
		log_warn("pipe of miner %s", s->rec.name);
	s->pipefd = rfd;
	if ((s->drain_ev = event_new(ev_base, rfd, EV_READ | EV_PERSIST,
	    miner_drain_cb, s)) == NULL)
		fatalx("event_new");
	if (!minerd_attached)
		event_add(s->drain_ev, NULL);
	s->rec.pid = pid;
	s->rec.pgid = pid;
	s->rec.started = now_ms();
	s->rec.state = MINER_RUNNING;
	s->pstart = miner_proc_start(pid);
	s->started_ms = mono_ms();
	s->after = AFTER_CRASH;
	s->ntrack = 0;
}

/* A restart (after a backoff or at once): a failure counts as a crash. */
static void
miner_start_or_crash(struct mslot *s)
{
	char	 reason[BINPATH_REASON_MAX];

	s->rec.restarts++;
	if (miner_start(s, reason, sizeof(reason)) == -1) {
		log_warnx("miner %s: restart failed: %s", s->rec.name, reason);
		miner_crashed(s, 0, -1);
		return;
	}
	log_info("miner %s restarted (pid %d, restart %u)", s->rec.name,
	    (int)s->rec.pid, s->rec.restarts);
	miner_save();
	miner_send_record(s);
}

static const char *
miner_exit_text(int status, char *buf, size_t len)
{
	if (status == -1)
		(void)snprintf(buf, len, "could not be started");
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, len, "killed by signal %d",
		    WTERMSIG(status));
	else
		(void)snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	return (buf);
}

/* SIGCHLD: returns 1 when pid was one of our miners. */
int
miner_reaped(pid_t pid, int status)
{
	unsigned int	 i;

	if (pid <= 0)
		return (0);
	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (slots[i].used && slots[i].rec.pid == pid) {
			miner_exited(&slots[i], status);
			return (1);
		}
	/* a grandchild that came back to us, the subreaper: reaped */
	return (0);
}

static void
miner_exited(struct mslot *s, int status)
{
	char			 why[64];
	pid_t			 pid = s->rec.pid;
	enum miner_after	 after = s->after;

	/* what the miner left behind goes with it */
	miner_signal(s, SIGKILL);
	evtimer_del(s->timer_ev);
	s->rec.pid = 0;
	s->after = AFTER_CRASH;
	miner_close_pipe(s);
	switch (after) {
	case AFTER_FREE:
		log_info("miner %s (pid %d) stopped: %s", s->rec.name,
		    (int)pid, miner_exit_text(status, why, sizeof(why)));
		s->rec.state = MINER_STOPPED;
		miner_send_exit(s, pid, status, 0);
		miner_free(s);
		miner_save();
		break;
	case AFTER_RESTART:
		log_warnx("miner %s (pid %d) %s: restarting it now "
		    "(watchdog)", s->rec.name, (int)pid,
		    miner_exit_text(status, why, sizeof(why)));
		if (miner_count_crash(s)) {
			miner_fail(s, pid, status);
			break;
		}
		miner_send_exit(s, pid, status, 0);
		miner_start_or_crash(s);
		break;
	default:
		miner_crashed(s, pid, status);
		break;
	}
}

/* Crashes within the window, this one counted; 1 when too many. */
static int
miner_count_crash(struct mslot *s)
{
	long long	 now = mono_ms();
	unsigned int	 i, n = 0, max;

	max = MIN(env->conf.miner_crashes_max, CONF_CRASHES_MAX);
	s->crash_at[s->crash_next] = now;
	s->crash_next = (s->crash_next + 1) % max;
	for (i = 0; i < max; i++)
		if (s->crash_at[i] != 0 && now - s->crash_at[i] <=
		    (long long)env->conf.miner_crash_window * 1000)
			n++;
	return (n >= max);
}

/* Too many crashes in the window: no more restarts. */
static void
miner_fail(struct mslot *s, pid_t pid, int status)
{
	s->rec.state = MINER_FAILED;
	log_warnx("miner %s failed: %u crashes in %u s", s->rec.name,
	    MIN(env->conf.miner_crashes_max, CONF_CRASHES_MAX),
	    env->conf.miner_crash_window);
	miner_send_exit(s, pid, status, 0);
	miner_save();
}

/* An exit nobody asked for: back off and restart, or fail. */
static void
miner_crashed(struct mslot *s, pid_t pid, int status)
{
	struct timeval	 tv;
	char		 why[64];

	if (miner_count_crash(s)) {
		miner_fail(s, pid, status);
		return;
	}
	if (mono_ms() - s->started_ms >= MINER_STABLE_SECS * 1000LL)
		s->backoff_ms = 0;
	s->backoff_ms = s->backoff_ms == 0 ? env->conf.miner_backoff_min_ms :
	    MIN(s->backoff_ms * 2, env->conf.miner_backoff_max_ms);
	s->rec.state = MINER_BACKOFF;
	if (pid > 0)
		log_warnx("miner %s (pid %d) %s: restarting in %u ms",
		    s->rec.name, (int)pid, miner_exit_text(status, why,
		    sizeof(why)), s->backoff_ms);
	else
		log_warnx("miner %s %s: restarting in %u ms", s->rec.name,
		    miner_exit_text(status, why, sizeof(why)), s->backoff_ms);
	miner_send_exit(s, pid, status, s->backoff_ms);
	miner_save();
	tv.tv_sec = s->backoff_ms / 1000;
	tv.tv_usec = (s->backoff_ms % 1000) * 1000;
	evtimer_add(s->timer_ev, &tv);
}

/*
 * sig to the miner's process group, everything in its cgroup, and
 * (without a cgroup) the descendants seen when the stop began.
 */
static void
miner_signal(struct mslot *s, int sig)
{
	unsigned int	 i;

	if (s->rec.pgid > 1)
		(void)kill(-s->rec.pgid, sig);
	if (miner_cgroup)
		(void)cgroup_slot_kill(s->rec.slot, sig);
	for (i = 0; i < s->ntrack; i++)
		(void)kill(s->track[i], sig);
}

/*
 * Without a cgroup: remember the miner's descendants (a child that
 * called setsid left its process group, not its parent's tree).
 */
static void
miner_track(struct mslot *s)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		*pids, *ppids;
	char		 path[64], buf[MINER_STAT_MAX + 1], *p;
	const char	*errstr;
	size_t		 n = 0, i, j;
	ssize_t		 r;
	int		 fd, grew;

	s->ntrack = 0;
	if (miner_cgroup || s->rec.pid <= 0)
		return;
	pids = calloc(MINER_PROC_SCAN_MAX, sizeof(*pids));
	ppids = calloc(MINER_PROC_SCAN_MAX, sizeof(*ppids));
	if (pids == NULL || ppids == NULL || (d = opendir("/proc")) == NULL) {
		free(pids);
		free(ppids);
		return;
	}
	while ((de = readdir(d)) != NULL && n < MINER_PROC_SCAN_MAX) {
		pids[n] = strtonum(de->d_name, 2, INT32_MAX, &errstr);
		if (errstr != NULL)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d/stat", pids[n]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		r = read(fd, buf, MINER_STAT_MAX);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		/* ") S PPID ..." */
		if ((p = strrchr(buf, ')')) == NULL || strlen(p) < 4)
			continue;
		ppids[n++] = (pid_t)strtol(p + 4, NULL, 10);
	}
	closedir(d);
	/* the closure of the miner's children, bounded */
	do {
		grew = 0;
		for (i = 0; i < n && s->ntrack < MINER_TRACK_MAX; i++) {
			if (pids[i] == 0)
				continue;
			if (ppids[i] != s->rec.pid) {
				for (j = 0; j < s->ntrack; j++)
					if (ppids[i] == s->track[j])
						break;
				if (j == s->ntrack)
					continue;
			}
			s->track[s->ntrack++] = pids[i];
			pids[i] = 0;
			grew = 1;
		}
	} while (grew);
	free(pids);
	free(ppids);
}

/* SIGTERM now, SIGKILL after the grace; then `after'. */
static void
miner_stop(struct mslot *s, enum miner_after after)
{
	struct timeval	 tv;

	if (s->rec.state == MINER_STOPPING) {
		if (after == AFTER_FREE)
			s->after = AFTER_FREE;
		return;
	}
	s->after = after;
	s->rec.state = MINER_STOPPING;
	miner_track(s);
	miner_signal(s, SIGTERM);
	tv.tv_sec = env->conf.miner_stop_grace;
	tv.tv_usec = 0;
	evtimer_add(s->timer_ev, &tv);
	miner_save();
}

static void
miner_timer_cb(int fd, short event, void *arg)
{
	struct mslot	*s = arg;

	switch (s->rec.state) {
	case MINER_BACKOFF:
		miner_start_or_crash(s);
		break;
	case MINER_STOPPING:
		if (s->rec.pid <= 0)
			break;
		log_warnx("miner %s (pid %d) did not stop in %u s: killing "
		    "it", s->rec.name, (int)s->rec.pid,
		    env->conf.miner_stop_grace);
		miner_signal(s, SIGKILL);
		break;
	default:
		break;
	}
}

/* IMSG_MINER_STOP and IMSG_MINER_RESTART: by our own slot only. */
int
miner_slot_imsg(uint32_t type, const void *data, size_t len)
{
	struct miner_slot	 ms;
	struct mslot		*s;

	if (data == NULL || len != sizeof(ms))
		return (-1);
	memcpy(&ms, data, sizeof(ms));
	if (ms.slot >= MINER_SLOTS_MAX) {
		miner_refuse(ms.slot, "no slot %u", ms.slot);
		return (0);
	}
	s = &slots[ms.slot];
	if (!s->used) {
		/* already gone: say so, stopping twice is no error */
		miner_send_exit(s, 0, 0, 0);
		return (0);
	}
	if (type == IMSG_MINER_STOP) {
		log_info("miner %s: stop requested", s->rec.name);
		if (s->rec.pid > 0) {
			miner_stop(s, AFTER_FREE);
			return (0);
		}
		s->rec.state = MINER_STOPPED;
		miner_send_exit(s, 0, 0, 0);
		miner_free(s);
		miner_save();
		return (0);
	}
	/* restart */
	if (s->rec.pid > 0) {
		if (s->rec.state != MINER_STOPPING) {
			log_warnx("miner %s (pid %d): restart requested",
			    s->rec.name, (int)s->rec.pid);
			miner_stop(s, AFTER_RESTART);
		}
		return (0);
	}
	/* in backoff, failed or stopped: start again now, afresh */
	log_info("miner %s: restart requested", s->rec.name);
	evtimer_del(s->timer_ev);
	memset(s->crash_at, 0, sizeof(s->crash_at));
	s->backoff_ms = 0;
	s->after = AFTER_CRASH;
	miner_start_or_crash(s);
	return (0);
}

static void
miner_close_pipe(struct mslot *s)
{
	if (s->drain_ev != NULL) {
		event_free(s->drain_ev);
		s->drain_ev = NULL;
	}
	if (s->pipefd != -1) {
		close(s->pipefd);
		s->pipefd = -1;
	}
}

/* The slot is free again: no process, no timer, no pipe, no cgroup. */
static void
miner_free(struct mslot *s)
{
	uint32_t	 slot = s->rec.slot;
	struct event	*timer = s->timer_ev;

	evtimer_del(s->timer_ev);
	miner_close_pipe(s);
	if (s->used && miner_cgroup)
		cgroup_slot_remove(slot);
	memset(s, 0, sizeof(*s));
	s->rec.slot = slot;
	s->pipefd = -1;
	s->timer_ev = timer;
}

/* No minerd reads the pipe: read and discard, so no miner blocks. */
static void
miner_drain_cb(int fd, short event, void *arg)
{
	struct mslot	*s = arg;
	char		 buf[MINER_DRAIN_BUF];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		event_del(s->drain_ev);	/* EOF: the reap closes it */
}

static void
miner_send_record(struct mslot *s)
{
	struct child	*c = child_get(PROC_MINERD);
	int		 fd = -1;

	if (!minerd_attached || !c->iev.open)
		return;
	if (s->pipefd != -1 && (fd = dup(s->pipefd)) == -1) {
		log_warn("dup");
		return;
	}
	if (imsgev_compose(&c->iev, IMSG_MINER_RECORD, 0, 0, fd, &s->rec,
	    sizeof(s->rec)) == -1) {
		log_warn("record of miner %s to minerd", s->rec.name);
		if (fd != -1)
			close(fd);
		/* a minerd that does not read would drift from our records */
		child_cutoff(c, "miner record");
	}
}

static void
miner_send_exit(struct mslot *s, pid_t pid, int status, int64_t in_ms)
{
	struct child		*c = child_get(PROC_MINERD);
	struct miner_exit	 me;

	if (!minerd_attached || !c->iev.open)
		return;
	memset(&me, 0, sizeof(me));
	me.slot = s->rec.slot;
	me.pid = pid;
	me.status = status;
	me.restarts = s->rec.restarts;
	me.state = s->used ? s->rec.state : MINER_STOPPED;
	me.restart_in_ms = in_ms;
	if (imsgev_compose(&c->iev, IMSG_MINER_EXITED, 0, 0, -1, &me,
	    sizeof(me)) == -1) {
		log_warn("exit of miner %s to minerd", s->rec.name);
		child_cutoff(c, "miner exit");
	}
}

/* A (re)started minerd: it reads the pipes now; tell it everything. */
void
miner_minerd_up(void)
{
	unsigned int	 i;

	minerd_attached = 1;
	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		if (!slots[i].used)
			continue;
		if (slots[i].drain_ev != NULL)
			event_del(slots[i].drain_ev);
		miner_send_record(&slots[i]);
	}
}

/* minerd is gone: drain the pipes ourselves. */
void
miner_minerd_down(void)
{
	unsigned int	 i;

	minerd_attached = 0;
	for (i = 0; i < MINER_SLOTS_MAX; i++)
		if (slots[i].used && slots[i].drain_ev != NULL)
			event_add(slots[i].drain_ev, NULL);
}

/* DIRECTORY/slots: root 0600, atomically, every used slot. */
static void
miner_save(void)
{
	struct slots_header	 h;
	struct slots_entry	 e;
	char			*buf;
	size_t			 off;
	unsigned int		 i;

	if ((buf = calloc(1, sizeof(h) + MINER_SLOTS_MAX * sizeof(e))) ==
	    NULL) {
		log_warn("slots");
		return;
	}
	memset(&h, 0, sizeof(h));
	h.magic = SLOTS_MAGIC;
	h.version = SLOTS_VERSION;
	h.entry_size = sizeof(e);
	off = sizeof(h);
	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		if (!slots[i].used)
			continue;
		memset(&e, 0, sizeof(e));
		e.rec = slots[i].rec;
		e.pstart = slots[i].pstart;
		e.spec = slots[i].spec;
		memcpy(buf + off, &e, sizeof(e));
		off += sizeof(e);
		h.count++;
	}
	memcpy(buf, &h, sizeof(h));
	if (write_file_atomic_owner(base_fd, LETHD_SLOTS_FILE, buf, off,
	    0600, 0, 0) == -1)
		log_warn("%s/%s", env->conf.directory, LETHD_SLOTS_FILE);
	free(buf);
}

/*
 * lethd is going away: SIGTERM every miner, wait up to the grace, then
 * SIGKILL what is left, and clear the cgroups.  Synchronous: the event
 * loop does not run again.
 */
void
miner_stop_all(void)
{
	struct mslot	*s;
	long long	 deadline;
	unsigned int	 i, left, n = 0;
	pid_t		 r;
	int		 status;

	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		s = &slots[i];
		if (!s->used)
			continue;
		evtimer_del(s->timer_ev);
		if (s->rec.pid <= 0)
			continue;
		miner_track(s);
		miner_signal(s, SIGTERM);
		n++;
	}
	deadline = mono_ms() + env->conf.miner_stop_grace * 1000LL;
	for (;;) {
		left = 0;
		for (i = 0; i < MINER_SLOTS_MAX; i++) {
			s = &slots[i];
			if (!s->used || s->rec.pid <= 0)
				continue;
			r = waitpid(s->rec.pid, &status, WNOHANG);
			if (r == s->rec.pid || (r == -1 && errno == ECHILD))
				s->rec.pid = 0;
			else
				left++;
		}
		if (left == 0)
			break;
		if (mono_ms() >= deadline) {
			log_warnx("%u miners did not stop in %u s: killing "
			    "them", left, env->conf.miner_stop_grace);
			for (i = 0; i < MINER_SLOTS_MAX; i++) {
				s = &slots[i];
				if (!s->used || s->rec.pid <= 0)
					continue;
				miner_signal(s, SIGKILL);
				(void)waitpid(s->rec.pid, &status, 0);
				s->rec.pid = 0;
			}
			break;
		}
		(void)usleep(MINER_STOP_POLL_MS * 1000);
	}
	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		s = &slots[i];
		if (!s->used)
			continue;
		miner_signal(s, SIGKILL);	/* stragglers */
		miner_close_pipe(s);
		s->used = 0;
	}
	if (miner_cgroup)
		cgroup_fini();
	miner_save();
	if (n > 0)
		log_info("stopped %u miners", n);
}
