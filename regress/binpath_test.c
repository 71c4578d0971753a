/*
 * The parent's checks on a miner binary (parent/binpath.c), on a tree
 * built in the test's directory.  The ownership cases need root.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "lethd.h"
#include "binpath.h"

#define ELF_SOURCE	"/bin/true"
#define NOBODY		"nobody"

static char	reason[BINPATH_REASON_MAX];

static void
need_root(void)
{
	if (geteuid() != 0)
		atf_tc_skip("needs root (files owned by root and others)");
}

/* A copy of an ELF file at path, root's, with mode. */
static void
put_elf(const char *path, mode_t mode)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 in, out;

	ATF_REQUIRE((in = open(ELF_SOURCE, O_RDONLY)) != -1);
	ATF_REQUIRE((out = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0700)) != -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ATF_REQUIRE(write(out, buf, n) == n);
	close(in);
	close(out);
	ATF_REQUIRE(chown(path, 0, 0) == 0);
	ATF_REQUIRE(chmod(path, mode) == 0);
}

/* miners/ (root 0755) in the test's directory; returns its fd. */
static int
miners_dir(void)
{
	int	 fd;

	need_root();
	ATF_REQUIRE(mkdir("miners", 0755) == 0);
	ATF_REQUIRE(chmod("miners", 0755) == 0);
	ATF_REQUIRE((fd = open("miners", O_RDONLY | O_DIRECTORY)) != -1);
	return (fd);
}

static void
expect_refused(int dfd, const char *binary, const char *why)
{
	int	 fd;

	reason[0] = '\0';
	fd = binpath_open(dfd, binary, reason, sizeof(reason));
	if (fd != -1)
		close(fd);
	ATF_CHECK_MSG(fd == -1, "%s was accepted", binary);
	ATF_CHECK_MSG(strstr(reason, why) != NULL,
	    "%s: reason \"%s\", want \"%s\"", binary, reason, why);
}

ATF_TC_WITHOUT_HEAD(root_owned_elf_beneath_the_directory_is_accepted);
ATF_TC_BODY(root_owned_elf_beneath_the_directory_is_accepted, tc)
{
	struct stat	 st;
	int		 dfd, fd;

	dfd = miners_dir();
	ATF_REQUIRE(mkdir("miners/xmrig", 0755) == 0);
	put_elf("miners/xmrig/xmrig", 0755);
	fd = binpath_open(dfd, "xmrig/xmrig", reason, sizeof(reason));
	ATF_REQUIRE_MSG(fd != -1, "refused: %s", reason);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_CHECK(S_ISREG(st.st_mode));
	ATF_CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(a_path_outside_the_directory_is_refused);
ATF_TC_BODY(a_path_outside_the_directory_is_refused, tc)
{
	int	 dfd;

	dfd = miners_dir();
	put_elf("outside", 0755);
	expect_refused(dfd, "../outside", "outside the miners directory");
	expect_refused(dfd, "/bin/true", "outside the miners directory");
	expect_refused(dfd, "a/../../outside", "outside the miners directory");
}

ATF_TC_WITHOUT_HEAD(a_symlink_is_refused);
ATF_TC_BODY(a_symlink_is_refused, tc)
{
	int	 dfd;

	dfd = miners_dir();
	put_elf("miners/real", 0755);
	ATF_REQUIRE(symlink("real", "miners/link") == 0);
	expect_refused(dfd, "link", "symlink");
	/* a symlinked directory on the way, pointing outside */
	ATF_REQUIRE(mkdir("elsewhere", 0755) == 0);
	put_elf("elsewhere/m", 0755);
	ATF_REQUIRE(symlink("../elsewhere", "miners/dir") == 0);
	expect_refused(dfd, "dir/m", "symlink");
}

ATF_TC_WITHOUT_HEAD(a_script_is_refused);
ATF_TC_BODY(a_script_is_refused, tc)
{
	FILE	*f;
	int	 dfd;

	dfd = miners_dir();
	ATF_REQUIRE((f = fopen("miners/script", "w")) != NULL);
	fprintf(f, "#!/bin/sh\nexec sleep 1000\n");
	fclose(f);
	ATF_REQUIRE(chmod("miners/script", 0755) == 0);
	expect_refused(dfd, "script", "not an ELF binary");
}

ATF_TC_WITHOUT_HEAD(a_group_or_world_writable_binary_is_refused);
ATF_TC_BODY(a_group_or_world_writable_binary_is_refused, tc)
{
	int	 dfd;

	dfd = miners_dir();
	put_elf("miners/gw", 0775);
	put_elf("miners/ow", 0757);
	expect_refused(dfd, "gw", "group- or world-writable");
	expect_refused(dfd, "ow", "group- or world-writable");
}

ATF_TC_WITHOUT_HEAD(a_binary_under_a_group_writable_directory_is_refused);
ATF_TC_BODY(a_binary_under_a_group_writable_directory_is_refused, tc)
{
	int	 dfd;

	dfd = miners_dir();
	ATF_REQUIRE(mkdir("miners/d", 0755) == 0);
	ATF_REQUIRE(mkdir("miners/d/e", 0755) == 0);
	put_elf("miners/d/e/m", 0755);
	ATF_REQUIRE(chmod("miners/d", 0775) == 0);
	expect_refused(dfd, "d/e/m", "a directory on the path is "
	    "group-writable");
	ATF_REQUIRE(chmod("miners/d", 0755) == 0);
	ATF_REQUIRE(chmod("miners/d/e", 0757) == 0);
	expect_refused(dfd, "d/e/m", "a directory on the path is "
	    "group-writable");
	/* the miners directory itself */
	ATF_REQUIRE(chmod("miners/d/e", 0755) == 0);
	ATF_REQUIRE(chmod("miners", 0775) == 0);
	expect_refused(dfd, "d/e/m", "a directory on the path is "
	    "group-writable");
}

ATF_TC_WITHOUT_HEAD(a_binary_or_directory_not_owned_by_root_is_refused);
ATF_TC_BODY(a_binary_or_directory_not_owned_by_root_is_refused, tc)
{
	struct passwd	*pw;
	int		 dfd;

	dfd = miners_dir();
	if ((pw = getpwnam(NOBODY)) == NULL)
		atf_tc_skip("no user %s", NOBODY);
	put_elf("miners/theirs", 0755);
	ATF_REQUIRE(chown("miners/theirs", pw->pw_uid, pw->pw_gid) == 0);
	expect_refused(dfd, "theirs", "not owned by root");
	ATF_REQUIRE(mkdir("miners/d", 0755) == 0);
	put_elf("miners/d/m", 0755);
	ATF_REQUIRE(chown("miners/d", pw->pw_uid, pw->pw_gid) == 0);
	expect_refused(dfd, "d/m", "not owned by root");
}

ATF_TC_WITHOUT_HEAD(a_binary_the_miner_user_cannot_run_is_refused);
ATF_TC_BODY(a_binary_the_miner_user_cannot_run_is_refused, tc)
{
	int	 dfd;

	dfd = miners_dir();
	put_elf("miners/rootonly", 0750);
	expect_refused(dfd, "rootonly", "not executable");
	ATF_REQUIRE(mkdir("miners/sub", 0755) == 0);
	expect_refused(dfd, "sub", "not a regular file");
	expect_refused(dfd, "missing", "No such file");
}

ATF_TC_WITHOUT_HEAD(bad_names_are_refused_before_any_lookup);
ATF_TC_BODY(bad_names_are_refused_before_any_lookup, tc)
{
	char	 longname[MINER_BINARY_MAX + 2];

	ATF_CHECK(binpath_check_name("xmrig", reason, sizeof(reason)) == 0);
	ATF_CHECK(binpath_check_name("xmrig-6.21/xmrig", reason,
	    sizeof(reason)) == 0);
	ATF_CHECK(binpath_check_name("", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("a//b", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("a/", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("./a", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("..", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("a b", reason, sizeof(reason)) == -1);
	ATF_CHECK(binpath_check_name("a\nb", reason, sizeof(reason)) == -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ATF_CHECK(binpath_check_name(longname, reason, sizeof(reason)) == -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, root_owned_elf_beneath_the_directory_is_accepted);
	ATF_TP_ADD_TC(tp, a_path_outside_the_directory_is_refused);
	ATF_TP_ADD_TC(tp, a_symlink_is_refused);
	ATF_TP_ADD_TC(tp, a_script_is_refused);
	ATF_TP_ADD_TC(tp, a_group_or_world_writable_binary_is_refused);
	ATF_TP_ADD_TC(tp,
	    a_binary_under_a_group_writable_directory_is_refused);
	ATF_TP_ADD_TC(tp, a_binary_or_directory_not_owned_by_root_is_refused);
	ATF_TP_ADD_TC(tp, a_binary_the_miner_user_cannot_run_is_refused);
	ATF_TP_ADD_TC(tp, bad_names_are_refused_before_any_lookup);
	return (atf_no_error());
}
