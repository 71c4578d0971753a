/*
 * The checks a miner binary passes before the parent runs it as the
 * miner user (DESIGN invariant 5): beneath the miners directory, no
 * symlink on the way, root's and not group- or world-writable, every
 * directory from the miners directory down too, and an ELF file.
 */

#ifndef BINPATH_H
#define BINPATH_H

#include <stddef.h>

#define BINPATH_REASON_MAX	256	/* as struct miner_refusal's */

/*
 * Check the name alone: relative, no "..", "." or empty component, only
 * [A-Za-z0-9._+-/], at most MINER_BINARY_MAX bytes.  Returns 0, or -1
 * with reason filled.
 */
int	binpath_check_name(const char *binary, char *reason, size_t len);

/*
 * Open binary beneath the directory dirfd (the miners directory) and
 * check it and every directory on its way.  Returns an O_PATH fd (close
 * on exec) fit for execveat(fd, "", ..., AT_EMPTY_PATH), or -1 with a
 * one-line reason ("symlink", "not an ELF binary", ...).
 */
int	binpath_open(int dirfd, const char *binary, char *reason, size_t len);

#endif /* BINPATH_H */
