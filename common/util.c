/*
 * Atomic files, bounded reads, escaping, clocks.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vis.h>

#include "util.h"

int
write_file_atomic(int dirfd, const char *name, const void *buf, size_t len,
    mode_t mode)
{
	return (write_file_atomic_owner(dirfd, name, buf, len, mode,
	    (uid_t)-1, (gid_t)-1));
}

int
write_file_atomic_owner(int dirfd, const char *name, const void *buf,
    size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	char		 tmp[NAME_MAX + 1];
	uint32_t	 r[2];
	const char	*p = buf;
	ssize_t		 n;
	int		 fd, saved;

	arc4random_buf(r, sizeof(r));
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.%08x%08x", name,
	    r[0], r[1]) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode);
	if (fd == -1)
		return (-1);
	/* owner first: fchown may clear mode bits that fchmod then sets */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchown(fd, uid, gid) == -1)
		goto fail;
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	if (fsync(dirfd) == -1)
		return (-1);	/* renamed: the old file is gone already */
	return (0);
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	errno = saved;
	return (-1);
}

int
read_file_bounded(int dirfd, const char *name, size_t max, char **bufp,
    size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return (-1);
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return (-1);
	}
	for (;;) {
		if (len == max) {
			/* one more byte tells a full file from a big one */
			char	 c;

			if ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
				continue;
			if (n != 0) {
				saved = n == -1 ? errno : EFBIG;
				goto fail;
			}
			break;
		}
		n = read(fd, buf + len, max - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (0);
 fail:
	close(fd);
	free(buf);
	errno = saved;
	return (-1);
}

char *
str_vis(char *dst, size_t dstlen, const char *s, size_t len)
{
	char	 enc[5];
	size_t	 o = 0, i, el;

	if (dstlen == 0)
		return (dst);
	for (i = 0; i < len; i++) {
		(void)vis(enc, (unsigned char)s[i], VIS_OCTAL |
		    VIS_NL | VIS_TAB | VIS_CSTYLE, i + 1 < len ? s[i + 1] : 0);
		el = strlen(enc);
		if (o + el >= dstlen)
			break;
		memcpy(dst + o, enc, el);
		o += el;
	}
	dst[o] = '\0';
	return (dst);
}

long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

long long
mono_secs(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}
