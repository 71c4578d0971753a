/*
 * Dropping privileges in a child, in an order that leaves nothing behind.
 */

#ifndef PRIVSEP_H
#define PRIVSEP_H

#include <sys/types.h>

/* PR_SET_DUMPABLE 0 and RLIMIT_CORE 0; fatal on failure. */
void	privsep_nodump(void);

/*
 * chroot(root) and chdir("/") when root is not empty; setgroups to gid
 * alone, setresgid, setresuid; verify that regaining root fails; chdir
 * to workdir when given.  nodump: privsep_nodump() again after the uid
 * change (which resets the dumpable flag).  Fatal on any failure.
 */
void	privsep_drop(const char *root, const char *workdir, uid_t, gid_t,
	    int nodump);

#endif /* PRIVSEP_H */
