/*
 * The parent makes and checks every directory the family uses, and the
 * pidfile that keeps one instance per directory.
 *
 *   DIRECTORY/		root, not writable by group or others
 *   DIRECTORY/keyd/	root 0711: keyd's chroot, holds only key/
 *   DIRECTORY/keyd/key/	keyd's user, 0700: the node key
 *   DIRECTORY/empty/	root 0755, empty: netd's chroot
 *   DIRECTORY/state/	minerd's user, 0700: node.json and later state
 *   DIRECTORY/miners/	root 0755: miner binaries (root's, checked per run)
 *   DIRECTORY/work/	root 0755: one directory per miner slot,
 *   DIRECTORY/work/N/	the miner user's, 0700: its cwd and config file
 *   DIRECTORY/slots	root 0600: the parent's miner records
 *   DIRECTORY/lethd.pid	flock'd while an instance runs
 *
 * Every ancestor of DIRECTORY and of the control socket must be a real
 * directory owned by root and not writable by group or others, so that
 * no other user can swap a path under us.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "lethd_proc.h"

#define PIDFILE_MODE	0644

static int	dirs_check_tree(const char *);
static int	dirs_make(const char *, mode_t, uid_t, gid_t, int);
static int	dirs_only(const char *, const char *);
static int	dirs_miners(const char *);

/* path and each of its ancestors: a directory, root's, not g/o-writable */
static int
dirs_check_tree(const char *path)
{
	char		 buf[PATH_MAX];
	struct stat	 st;
	char		*p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		log_warnx("%s: path too long", path);
		return (-1);
	}
	p = buf;
	for (;;) {
		char	 save;

		p = strchr(p + 1, '/');
		if (p != NULL) {
			save = *p;
			*p = '\0';
		}
		if (lstat(buf[0] ? buf : "/", &st) == -1) {
			log_warn("%s", buf);
			return (-1);
		}
		if (!S_ISDIR(st.st_mode)) {
			log_warnx("%s: not a directory (symlinks are refused)",
			    buf);
			return (-1);
		}
		if (st.st_uid != 0) {
			log_warnx("%s: owned by uid %u, not root: refusing",
			    buf, (unsigned)st.st_uid);
			return (-1);
		}
		if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			log_warnx("%s: writable by group or others: refusing",
			    buf);
			return (-1);
		}
		if (p == NULL)
			break;
		*p = save;
	}
	return (0);
}

/*
 * Make path with mode and owner when it is missing; check it when it
 * is there: a real directory, that owner, and no bits beyond mode.
 */
static int
dirs_make(const char *path, mode_t mode, uid_t uid, gid_t gid, int exact)
{
	struct stat	 st;

	if (mkdir(path, mode) == 0) {
		if (chown(path, uid, gid) == -1 || chmod(path, mode) == -1) {
			log_warn("%s", path);
			return (-1);
		}
		log_info("created %s", path);
	} else if (errno != EEXIST) {
		log_warn("mkdir %s", path);
		return (-1);
	}
	if (lstat(path, &st) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s: not a directory", path);
		return (-1);
	}
	if (st.st_uid != uid) {
		log_warnx("%s: owned by uid %u, want %u", path,
		    (unsigned)st.st_uid, (unsigned)uid);
		return (-1);
	}
	if ((st.st_mode & 07777 & ~mode) != 0 ||
	    (exact && (st.st_mode & 07777) != mode)) {
		log_warnx("%s: mode %04o, want %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
		return (-1);
	}
	return (0);
}

/* The directory holds nothing but `only' (or nothing, when NULL). */
static int
dirs_only(const char *path, const char *only)
{
	DIR		*d;
	struct dirent	*de;
	int		 ok = 0;

	if ((d = opendir(path)) == NULL) {
		log_warn("%s", path);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (only != NULL && strcmp(de->d_name, only) == 0)
			continue;
		log_warnx("%s: holds %s: it must hold %s%s", path, de->d_name,
		    only ? "only " : "nothing", only ? only : "");
		ok = -1;
		break;
	}
	closedir(d);
	return (ok);
}

/* The miners' binaries and their work directories, one per slot. */
static int
dirs_miners(const char *base)
{
	char		 miners[PATH_MAX], work[PATH_MAX], slot[PATH_MAX];
	unsigned int	 i;

	if ((size_t)snprintf(miners, sizeof(miners), "%s/%s", base,
	    LETHD_MINERS_DIR) >= sizeof(miners) ||
	    (size_t)snprintf(work, sizeof(work), "%s/%s", base,
	    LETHD_WORK_DIR) >= sizeof(work)) {
		log_warnx("%s: path too long", base);
		return (-1);
	}
	if (dirs_make(miners, 0755, 0, 0, 0) == -1 ||
	    dirs_make(work, 0755, 0, 0, 0) == -1)
		return (-1);
	for (i = 0; i < MINER_SLOTS_MAX; i++) {
		if ((size_t)snprintf(slot, sizeof(slot), "%s/%u", work, i) >=
		    sizeof(slot) || dirs_make(slot, 0700, env->uid[USER_MINER],
		    env->gid[USER_MINER], 1) == -1)
			return (-1);
	}
	return (0);
}

int
dirs_setup(void)
{
	const struct lethd_conf	*conf = &env->conf;
	char			 keyd[PATH_MAX], key[PATH_MAX];
	char			 empty[PATH_MAX], state[PATH_MAX];
	char			 sockdir[PATH_MAX];

	if ((size_t)snprintf(keyd, sizeof(keyd), "%s/%s", conf->directory,
	    LETHD_KEYD_DIR) >= sizeof(keyd) ||
	    (size_t)snprintf(key, sizeof(key), "%s/%s", keyd,
	    LETHD_KEY_SUBDIR) >= sizeof(key) ||
	    (size_t)snprintf(empty, sizeof(empty), "%s/%s", conf->directory,
	    LETHD_EMPTY_DIR) >= sizeof(empty) ||
	    (size_t)snprintf(state, sizeof(state), "%s/%s", conf->directory,
	    LETHD_STATE_DIR) >= sizeof(state)) {
		log_warnx("%s: path too long", conf->directory);
		return (-1);
	}
	if (dirs_check_tree(conf->directory) == -1)
		return (-1);
	if (dirs_make(keyd, 0711, 0, 0, 1) == -1 ||
	    dirs_make(key, 0700, env->uid[USER_KEYD], env->gid[USER_KEYD],
	    1) == -1 || dirs_only(keyd, LETHD_KEY_SUBDIR) == -1)
		return (-1);
	if (dirs_make(empty, 0755, 0, 0, 0) == -1 ||
	    dirs_only(empty, NULL) == -1)
		return (-1);
	if (dirs_make(state, 0700, env->uid[USER_MINERD],
	    env->gid[USER_MINERD], 1) == -1)
		return (-1);
	if (dirs_miners(conf->directory) == -1)
		return (-1);

	/* the socket's directory: made root 0755 when missing */
	(void)strlcpy(sockdir, conf->socket, sizeof(sockdir));
	(void)strlcpy(sockdir, dirname(sockdir), sizeof(sockdir));
	if (mkdir(sockdir, 0755) == 0)
		log_info("created %s", sockdir);
	else if (errno != EEXIST) {
		log_warn("mkdir %s", sockdir);
		return (-1);
	}
	if (dirs_check_tree(sockdir) == -1)
		return (-1);
	return (0);
}

/*
 * Lock DIRECTORY/lethd.pid.  The base directory is checked first, so
 * the lock file sits in a root-only place.
 */
int
lethd_pidfile_lock(int running)
{
	const struct lethd_conf	*conf = &env->conf;
	char			 path[PATH_MAX], pid[32];
	ssize_t			 n;
	int			 fd;

	if (mkdir(conf->directory, 0755) == 0)
		fprintf(stderr, "lethd: created %s\n", conf->directory);
	else if (errno != EEXIST) {
		fprintf(stderr, "lethd: mkdir %s: %s\n", conf->directory,
		    strerror(errno));
		return (-1);
	}
	if (dirs_check_tree(conf->directory) == -1) {
		fprintf(stderr, "lethd: %s: unsafe directory (see above)\n",
		    conf->directory);
		return (-1);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", conf->directory,
	    LETHD_PIDFILE) >= sizeof(path)) {
		fprintf(stderr, "lethd: %s: path too long\n", conf->directory);
		return (-1);
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    PIDFILE_MODE);
	if (fd == -1) {
		fprintf(stderr, "lethd: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			fprintf(stderr, "lethd: another lethd (pid %s) runs "
			    "on %s%s\n", pid[0] ? pid : "?", conf->directory,
			    running ? "" : ": stop it first");
		} else
			fprintf(stderr, "lethd: flock %s: %s\n", path,
			    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

void
lethd_pidfile_write(void)
{
	char	 buf[32];
	int	 len;

	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(env->pidfd, 0) == -1 ||
	    pwrite(env->pidfd, buf, len, 0) != len)
		fatal("pidfile");
}
