/*
 * A cgroup v2 per miner, where the system offers a writable one:
 *
 *   <cgroup2 mount>/lethd-<hash of DIRECTORY>/slot<N>
 *
 * The hash keeps instances that share a host (and a miner user) apart:
 * each clears and kills only its own subtree.  cgroup v2 is found through
 * /proc/self/mountinfo, since it may be mounted beside v1 (for instance
 * on /sys/fs/cgroup/unified).  Without it, a miner still has its own
 * process group, and the parent, a child subreaper, gets what escaped.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "log.h"
#include "lethd_proc.h"

#define CGROUP_LINE_MAX		4096	/* one line of mountinfo */
#define CGROUP_PROCS_MAX	(64 * 1024)	/* bytes of cgroup.procs */
#define CGROUP_CLEAR_WAIT_MS	5000	/* for killed leftovers to go */
#define CGROUP_POLL_MS		20
#define FNV64_OFFSET		0xcbf29ce484222325ULL
#define FNV64_PRIME		0x100000001b3ULL

static char	cg_base[PATH_MAX];	/* "" when there is no cgroup */
static char	cg_slot[MINER_SLOTS_MAX][PATH_MAX];
static int	cg_pids_warned;

static int	cgroup_mount(char *, size_t);
static int	cgroup_write(const char *, const char *, const char *);
static int	cgroup_signal_procs(const char *, int);
static void	cgroup_clear_dir(const char *);

/* The mount point of the cgroup2 file system, from mountinfo. */
static int
cgroup_mount(char *dst, size_t len)
{
	FILE	*f;
	char	 line[CGROUP_LINE_MAX], *fields[8], *p, *sep, *save;
	int	 n, found = -1;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "... mountpoint options [optional...] - fstype source" */
		if ((sep = strstr(line, " - ")) == NULL)
			continue;
		if (strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = '\0';
		n = 0;
		for (p = strtok_r(line, " ", &save); p != NULL && n < 8;
		    p = strtok_r(NULL, " ", &save))
			fields[n++] = p;
		/* a mount point with escaped characters is not ours */
		if (n < 5 || strchr(fields[4], '\\') != NULL)
			continue;
		if (strlcpy(dst, fields[4], len) >= len)
			continue;
		found = 0;
		break;
	}
	fclose(f);
	return (found);
}

static int
cgroup_write(const char *dir, const char *file, const char *value)
{
	char	 path[PATH_MAX];
	size_t	 n = strlen(value);
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	if (write(fd, value, n) != (ssize_t)n) {
		close(fd);
		return (-1);
	}
	return (close(fd));
}

/*
 * Find cgroup v2 and make this instance's directory.  Returns 0 when
 * miners get cgroups, -1 (logged once) when they go without.
 */
int
cgroup_init(void)
{
	char		 mnt[PATH_MAX];
	const char	*d;
	uint64_t	 h = FNV64_OFFSET;
	uint32_t	 i;

	cg_base[0] = '\0';
	if (cgroup_mount(mnt, sizeof(mnt)) == -1) {
		log_warnx("no cgroup v2 mounted: miners run without a "
		    "cgroup (process groups only)");
		return (-1);
	}
	for (d = env->conf.directory; *d != '\0'; d++) {
		h ^= (unsigned char)*d;
		h *= FNV64_PRIME;
	}
	if ((size_t)snprintf(cg_base, sizeof(cg_base), "%s/lethd-%016llx",
	    mnt, (unsigned long long)h) >= sizeof(cg_base))
		goto none;
	if (mkdir(cg_base, 0755) == -1 && errno != EEXIST) {
		log_warn("cgroup %s: miners run without a cgroup", cg_base);
		goto none;
	}
	/* the pids controller, where cgroup v2 has it (else: v1 holds it) */
	(void)cgroup_write(mnt, "cgroup.subtree_control", "+pids");
	(void)cgroup_write(cg_base, "cgroup.subtree_control", "+pids");
	for (i = 0; i < MINER_SLOTS_MAX; i++)
		(void)snprintf(cg_slot[i], sizeof(cg_slot[i]), "%s/slot%u",
		    cg_base, i);
	log_debug("miners' cgroups under %s", cg_base);
	return (0);
 none:
	cg_base[0] = '\0';
	return (-1);
}

int
cgroup_enabled(void)
{
	return (cg_base[0] != '\0');
}

/* Make (or empty and reuse) the slot's cgroup and set its pids.max. */
int
cgroup_slot_prepare(uint32_t slot)
{
	char	 v[32];

	if (!cgroup_enabled() || slot >= MINER_SLOTS_MAX)
		return (-1);
	if (mkdir(cg_slot[slot], 0755) == -1 && errno != EEXIST) {
		log_warn("cgroup %s", cg_slot[slot]);
		return (-1);
	}
	(void)snprintf(v, sizeof(v), "%u", env->conf.miner_pids);
	if (cgroup_write(cg_slot[slot], "pids.max", v) == -1 &&
	    !cg_pids_warned) {
		cg_pids_warned = 1;
		log_warnx("cgroup v2 has no pids controller here: miners get "
		    "no pids.max (RLIMIT_NPROC still bounds them all)");
	}
	return (0);
}

/*
 * In the forked child, before exec: move this process into the slot's
 * cgroup.  Only open/write/close: nothing that allocates.
 */
int
cgroup_slot_enter(uint32_t slot)
{
	char	 pid[32];

	if (!cgroup_enabled() || slot >= MINER_SLOTS_MAX)
		return (-1);
	(void)snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return (cgroup_write(cg_slot[slot], "cgroup.procs", pid));
}

/* sig to every process in dir's cgroup.procs; returns how many. */
static int
cgroup_signal_procs(const char *dir, int sig)
{
	char		 path[PATH_MAX], *buf, *p, *end;
	const char	*errstr;
	long long	 pid;
	ssize_t		 n;
	int		 fd, count = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >=
	    sizeof(path))
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if ((buf = malloc(CGROUP_PROCS_MAX + 1)) == NULL) {
		close(fd);
		return (0);
	}
	n = read(fd, buf, CGROUP_PROCS_MAX);
	close(fd);
	if (n <= 0) {
		free(buf);
		return (0);
	}
	buf[n] = '\0';
	for (p = buf; *p != '\0'; p = end) {
		if ((end = strchr(p, '\n')) != NULL)
			*end++ = '\0';
		else
			end = p + strlen(p);
		pid = strtonum(p, 1, INT32_MAX, &errstr);
		if (errstr != NULL)
			continue;
		if (kill((pid_t)pid, sig) == 0)
			count++;
	}
	free(buf);
	return (count);
}

/* sig to everything in the slot's cgroup; SIGKILL uses cgroup.kill. */
int
cgroup_slot_kill(uint32_t slot, int sig)
{
	if (!cgroup_enabled() || slot >= MINER_SLOTS_MAX)
		return (0);
	if (sig == SIGKILL &&
	    cgroup_write(cg_slot[slot], "cgroup.kill", "1") == 0)
		return (1);
	return (cgroup_signal_procs(cg_slot[slot], sig));
}

/* Processes left in the slot's cgroup (0 without a cgroup). */
int
cgroup_slot_populated(uint32_t slot)
{
	char	 path[PATH_MAX], buf[16];
	ssize_t	 n;
	int	 fd;

	if (!cgroup_enabled() || slot >= MINER_SLOTS_MAX)
		return (0);
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", cg_slot[slot]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return (n > 0);
}

void
cgroup_slot_remove(uint32_t slot)
{
	if (!cgroup_enabled() || slot >= MINER_SLOTS_MAX)
		return;
	if (rmdir(cg_slot[slot]) == -1 && errno != ENOENT && errno != EBUSY)
		log_warn("rmdir %s", cg_slot[slot]);
}

/* Kill what is in dir, wait a little for it to go, remove dir. */
static void
cgroup_clear_dir(const char *dir)
{
	int	 waited;

	if (cgroup_write(dir, "cgroup.kill", "1") == -1)
		(void)cgroup_signal_procs(dir, SIGKILL);
	for (waited = 0; waited < CGROUP_CLEAR_WAIT_MS;
	    waited += CGROUP_POLL_MS) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		/* what is left may be our own zombie: reap it */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		(void)cgroup_signal_procs(dir, SIGKILL);
		(void)usleep(CGROUP_POLL_MS * 1000);
	}
	log_warn("cgroup %s: could not remove it", dir);
}

/*
 * At start: this instance's leftovers (a miner's setsid'ed child that
 * outlived a kill -9 of the parent) are killed, by cgroup only.
 * Returns how many slot cgroups held processes.
 */
int
cgroup_clear_all(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX];
	int		 n = 0;

	if (!cgroup_enabled() || (d = opendir(cg_base)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "slot", 4) != 0 ||
		    de->d_type != DT_DIR)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cg_base,
		    de->d_name) >= sizeof(path))
			continue;
		if (cgroup_signal_procs(path, 0) > 0) {
			log_warnx("killing leftover miner processes in %s",
			    path);
			n++;
		}
		cgroup_clear_dir(path);
	}
	closedir(d);
	return (n);
}

/* At shutdown: the instance's directory, once every slot is gone. */
void
cgroup_fini(void)
{
	if (!cgroup_enabled())
		return;
	(void)cgroup_clear_all();
	if (rmdir(cg_base) == -1 && errno != ENOENT)
		log_warn("rmdir %s", cg_base);
}
