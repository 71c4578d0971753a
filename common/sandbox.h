/*
 * seccomp allow-lists (libseccomp), one per child.  Anything not allowed
 * kills the process (SCMP_ACT_KILL_PROCESS).  no_new_privs is set first.
 */

#ifndef SANDBOX_H
#define SANDBOX_H

#include "lethd.h"

/*
 * Install the filter for proc (PROC_KEYD, PROC_NETD or PROC_MINERD).
 * Returns 0, or -1 with errno when it could not be installed: the
 * caller must exit (fail closed).
 */
int	sandbox_init(enum lethd_proc proc);

#endif /* SANDBOX_H */
