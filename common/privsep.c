/*
 * Dropping privileges in a child: chroot, groups, gid, uid, in that
 * order, then proof that none of it can be undone.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <grp.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

static void	privsep_verify(uid_t, gid_t);

void
privsep_nodump(void)
{
	struct rlimit	 rl;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl PR_SET_DUMPABLE");
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit RLIMIT_CORE");
}

void
privsep_drop(const char *root, const char *workdir, uid_t uid, gid_t gid,
    int nodump)
{
	if (uid == 0 || gid == 0)
		fatalx("refusing to run as root");

	if (root != NULL && root[0] != '\0') {
		if (chroot(root) == -1)
			fatal("chroot %s", root);
		if (chdir("/") == -1)
			fatal("chdir / in %s", root);
	}

	if (setgroups(1, &gid) == -1)
		fatal("setgroups %u", (unsigned int)gid);
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned int)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %u", (unsigned int)uid);

	privsep_verify(uid, gid);

	/* The uid change made the process dumpable again. */
	if (nodump)
		privsep_nodump();

	if (workdir != NULL && workdir[0] != '\0' && chdir(workdir) == -1)
		fatal("chdir %s", workdir);
}

/* Every id is the one asked for, and there is no way back to root. */
static void
privsep_verify(uid_t uid, gid_t gid)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;
	gid_t	 groups[2];
	int	 ngroups;

	if (setresuid(0, 0, 0) != -1)
		fatalx("privsep: setresuid(0) succeeded after the drop");
	if (setuid(0) != -1)
		fatalx("privsep: setuid(0) succeeded after the drop");
	if (setegid(0) != -1)
		fatalx("privsep: setegid(0) succeeded after the drop");

	if (getuid() != uid || geteuid() != uid)
		fatalx("privsep: uid is not %u", (unsigned int)uid);
	if (getresuid(&ruid, &euid, &suid) == -1)
		fatal("getresuid");
	if (ruid != uid || euid != uid || suid != uid)
		fatalx("privsep: getresuid is not %u", (unsigned int)uid);
	if (getresgid(&rgid, &egid, &sgid) == -1)
		fatal("getresgid");
	if (rgid != gid || egid != gid || sgid != gid)
		fatalx("privsep: getresgid is not %u", (unsigned int)gid);

	/* Room for two: one group too many shows as a count of 2, more
	 * as EINVAL; either is fatal. */
	if ((ngroups = getgroups(2, groups)) == -1)
		fatal("getgroups");
	if (ngroups != 1 || groups[0] != gid)
		fatalx("privsep: supplementary groups are not just %u",
		    (unsigned int)gid);
}
