/*
 * Small helpers shared by the daemons.
 */

#ifndef UTIL_H
#define UTIL_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Write len bytes to name in the directory dirfd atomically: a temporary
 * file in the same directory, fsync, rename over name, fsync the
 * directory.  Returns 0, or -1 with errno set (the old file untouched).
 */
int	write_file_atomic(int dirfd, const char *name, const void *buf,
	    size_t len, mode_t mode);
/* The same, with the file owned by uid:gid before it gets its name (as
 * root); (uid_t)-1 and (gid_t)-1 leave the owner alone. */
int	write_file_atomic_owner(int dirfd, const char *name, const void *buf,
	    size_t len, mode_t mode, uid_t uid, gid_t gid);

/*
 * Read at most max bytes of name (relative to dirfd, not following a
 * final symlink) into a fresh buffer with a NUL after the data.
 * Returns 0 and sets *bufp and *lenp, or -1 with errno (EFBIG when the
 * file is larger than max).
 */
int	read_file_bounded(int dirfd, const char *name, size_t max,
	    char **bufp, size_t *lenp);

/* vis(3)-encode s (at most len bytes) into dst of size dstlen, cutting
 * at a whole encoded character; returns dst. */
char	*str_vis(char *dst, size_t dstlen, const char *s, size_t len);

/* Unix time in milliseconds, and monotonic seconds. */
long long	now_ms(void);
long long	mono_secs(void);

#endif /* UTIL_H */
