/*
 * Opening a miner binary for the parent, and refusing it with a clear
 * reason when it could be swapped or written by anyone but root.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "binpath.h"

#define ELF_MAGIC	"\177ELF"
#define ELF_MAGIC_LEN	4
/* What a binary's path may hold: a name printed in logs and listings. */
#define BINPATH_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789._+-/"

static int	binpath_openat2(int, const char *, int, uint64_t);
static int	binpath_check_dir(int, const char *, char *, size_t);
static int	binpath_walk(int, const char *, char *, size_t);
static int	binpath_is_elf(int);

int
binpath_check_name(const char *binary, char *reason, size_t len)
{
	const char	*p, *c;
	size_t		 n;

	n = strnlen(binary, MINER_BINARY_MAX + 1);
	if (n == 0 || n > MINER_BINARY_MAX) {
		(void)snprintf(reason, len, "binary name empty or longer "
		    "than %d bytes", MINER_BINARY_MAX);
		return (-1);
	}
	if (binary[0] == '/') {
		(void)snprintf(reason, len, "outside the miners directory "
		    "(an absolute path)");
		return (-1);
	}
	for (p = binary; *p != '\0'; p++)
		if (strchr(BINPATH_CHARS, *p) == NULL) {
			(void)snprintf(reason, len, "binary name holds a "
			    "character outside [A-Za-z0-9._+-/]");
			return (-1);
		}
	/* component by component: no "", "." or ".." */
	for (c = binary;; c = p + 1) {
		p = strchr(c, '/');
		n = p == NULL ? strlen(c) : (size_t)(p - c);
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			(void)snprintf(reason, len, "outside the miners "
			    "directory (\"..\")");
			return (-1);
		}
		if (n == 0 || (n == 1 && c[0] == '.')) {
			(void)snprintf(reason, len, "binary name has an empty "
			    "or \".\" component");
			return (-1);
		}
		if (p == NULL)
			break;
	}
	return (0);
}

static int
binpath_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how	 how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = resolve;
	return ((int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

/* One directory on the way: root's, not writable by group or others. */
static int
binpath_check_dir(int fd, const char *name, char *reason, size_t len)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		(void)snprintf(reason, len, "%s: %s", name, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		(void)snprintf(reason, len, "%s: not a directory", name);
		return (-1);
	}
	if (st.st_uid != 0) {
		(void)snprintf(reason, len, "a directory on the path is not "
		    "owned by root: %s", name);
		return (-1);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)snprintf(reason, len, "a directory on the path is "
		    "group-writable: %s", name);
		return (-1);
	}
	return (0);
}

/*
 * The miners directory and each directory below it on the way to
 * binary, opened one component at a time without following symlinks.
 */
static int
binpath_walk(int dirfd, const char *binary, char *reason, size_t len)
{
	char		 buf[MINER_BINARY_MAX + 1], *c, *p;
	int		 fd, next;

	if (binpath_check_dir(dirfd, "the miners directory", reason,
	    len) == -1)
		return (-1);
	(void)strlcpy(buf, binary, sizeof(buf));
	if ((fd = dup(dirfd)) == -1) {
		(void)snprintf(reason, len, "dup: %s", strerror(errno));
		return (-1);
	}
	for (c = buf; (p = strchr(c, '/')) != NULL; c = p + 1) {
		*p = '\0';
		next = openat(fd, c, O_PATH | O_NOFOLLOW | O_DIRECTORY |
		    O_CLOEXEC);
		if (next == -1) {
			if (errno == ELOOP || errno == ENOTDIR)
				(void)snprintf(reason, len, "symlink or not a "
				    "directory on the path: %s", buf);
			else
				(void)snprintf(reason, len, "%s: %s", buf,
				    strerror(errno));
			close(fd);
			return (-1);
		}
		close(fd);
		fd = next;
		if (binpath_check_dir(fd, buf, reason, len) == -1) {
			close(fd);
			return (-1);
		}
		*p = '/';
	}
	close(fd);
	return (0);
}

/* The first bytes of the file behind the O_PATH fd. */
static int
binpath_is_elf(int fd)
{
	char	 path[64], magic[ELF_MAGIC_LEN];
	int	 rfd;
	ssize_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return (-1);
	n = read(rfd, magic, sizeof(magic));
	close(rfd);
	if (n != ELF_MAGIC_LEN || memcmp(magic, ELF_MAGIC, ELF_MAGIC_LEN) != 0)
		return (0);
	return (1);
}

int
binpath_open(int dirfd, const char *binary, char *reason, size_t len)
{
	struct stat	 st;
	int		 fd, elf;

	if (binpath_check_name(binary, reason, len) == -1)
		return (-1);
	fd = binpath_openat2(dirfd, binary, O_PATH | O_CLOEXEC,
	    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd == -1) {
		switch (errno) {
		case ENOSYS:
			(void)snprintf(reason, len, "the kernel has no "
			    "openat2: cannot open a binary safely");
			break;
		case ELOOP:
			(void)snprintf(reason, len, "symlink: %s", binary);
			break;
		case EXDEV:
			(void)snprintf(reason, len, "outside the miners "
			    "directory: %s", binary);
			break;
		default:
			(void)snprintf(reason, len, "%s: %s", binary,
			    strerror(errno));
			break;
		}
		return (-1);
	}
	if (binpath_walk(dirfd, binary, reason, len) == -1)
		goto refuse;
	if (fstat(fd, &st) == -1) {
		(void)snprintf(reason, len, "%s: %s", binary, strerror(errno));
		goto refuse;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(reason, len, "not a regular file: %s", binary);
		goto refuse;
	}
	if (st.st_uid != 0) {
		(void)snprintf(reason, len, "not owned by root: %s (uid %u)",
		    binary, (unsigned)st.st_uid);
		goto refuse;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)snprintf(reason, len, "group- or world-writable: %s",
		    binary);
		goto refuse;
	}
	/* the miner user is neither root nor in root's group */
	if ((st.st_mode & S_IXOTH) == 0) {
		(void)snprintf(reason, len, "not executable by the miner "
		    "user: %s", binary);
		goto refuse;
	}
	if ((elf = binpath_is_elf(fd)) == -1) {
		(void)snprintf(reason, len, "%s: %s", binary, strerror(errno));
		goto refuse;
	}
	if (elf == 0) {
		(void)snprintf(reason, len, "not an ELF binary: %s", binary);
		goto refuse;
	}
	return (fd);
 refuse:
	close(fd);
	return (-1);
}
