/*
 * The host settings miners need and only root can make, done once at
 * start (lethd.conf(5), MINERS):
 *
 *   miner hugepages N	at least N 2 MiB huge pages reserved, through
 *			/proc/sys/vm/nr_hugepages; the kernel may give
 *			fewer, and what it gave is logged
 *   miner msr yes	a check that the msr driver is loaded, and a log
 *			line saying what to do; nothing is loaded, no
 *			register is written
 *
 * Neither is fatal: a miner runs without them, only slower.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "lethd_proc.h"

#define TUNE_HUGEPAGES		"/proc/sys/vm/nr_hugepages"
#define TUNE_MSR		"/dev/cpu/0/msr"
#define TUNE_NUMBER_MAX		32	/* bytes of a sysctl number */

static int	tune_read(const char *, long long *);
static int	tune_write(const char *, unsigned int);
static void	tune_hugepages(unsigned int);
static void	tune_msr(void);

void
tune_miners(void)
{
	if (env->conf.miner_hugepages > 0)
		tune_hugepages(env->conf.miner_hugepages);
	if (env->conf.miner_msr)
		tune_msr();
}

/* A sysctl's decimal value, newline and all. */
static int
tune_read(const char *path, long long *np)
{
	char		 buf[TUNE_NUMBER_MAX];
	const char	*errstr;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		if (n == 0)
			errno = EINVAL;
		return (-1);
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*np = strtonum(buf, 0, LLONG_MAX, &errstr);
	if (errstr != NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

static int
tune_write(const char *path, unsigned int value)
{
	char	buf[TUNE_NUMBER_MAX];
	ssize_t	n;
	int	fd, len, saved;

	len = snprintf(buf, sizeof(buf), "%u\n", value);
	if (len < 0 || (size_t)len >= sizeof(buf)) {
		errno = EINVAL;
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	if (n != len) {
		if (n >= 0)
			errno = EIO;
		return (-1);
	}
	return (0);
}

/*
 * Never fewer than there are: other programs on the host may use them.
 * The kernel reserves what contiguous memory it finds, which after some
 * uptime may be less than asked; reserving at boot avoids that.
 */
static void
tune_hugepages(unsigned int want)
{
	long long	have;

	if (tune_read(TUNE_HUGEPAGES, &have) == -1) {
		log_warn("huge pages: %s", TUNE_HUGEPAGES);
		return;
	}
	if (have >= want) {
		log_info("huge pages: %lld reserved, %u asked for", have,
		    want);
		return;
	}
	if (tune_write(TUNE_HUGEPAGES, want) == -1) {
		log_warn("huge pages: writing %u to %s", want,
		    TUNE_HUGEPAGES);
		return;
	}
	if (tune_read(TUNE_HUGEPAGES, &have) == -1) {
		log_warn("huge pages: %s", TUNE_HUGEPAGES);
		return;
	}
	if (have < want)
		log_warnx("huge pages: %u asked for, the kernel reserved "
		    "%lld (memory too fragmented?): reserve them at boot, "
		    "with vm.nr_hugepages in /etc/sysctl.d", want, have);
	else
		log_info("huge pages: %lld reserved", have);
}

/*
 * The parent loads no module (that would mean running modprobe) and
 * writes no register: it says whether the driver is there.
 */
static void
tune_msr(void)
{
	struct stat	st;

	if (stat(TUNE_MSR, &st) == -1) {
		if (errno == ENOENT)
			log_warnx("msr: %s missing: load the msr module "
			    "(modprobe msr; to keep it, a line \"msr\" in "
			    "/etc/modules-load.d/msr.conf)", TUNE_MSR);
		else
			log_warn("msr: %s", TUNE_MSR);
		return;
	}
	if (!S_ISCHR(st.st_mode)) {
		log_warnx("msr: %s is not a character device", TUNE_MSR);
		return;
	}
	log_info("msr: %s present; miners run unprivileged and cannot "
	    "write MSRs: apply the MSR mod as root at boot", TUNE_MSR);
}
