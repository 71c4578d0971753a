/*
 * What the benchmarks share: real lethd-keyd and lethd-netd processes
 * started with pipes the benchmark made itself (fds as the parent
 * would hand them, as regress/netd_test.c does), the benchmark playing
 * the parent and minerd of each node; and the measuring: a monotonic
 * clock, CPU time and PSS of a process, rates of a primitive.
 *
 * The daemons chroot and drop to `nobody', so the benchmarks run as
 * root.  Never under a sanitizer: rig_init refuses such a build.
 */

#ifndef RIG_H
#define RIG_H

#include <sys/types.h>

#include <stdint.h>

#include "lethd.h"
#include "imsg.h"

#define RIG_NODES_MAX	8	/* keyd + netd pairs in one run */
#define RIG_WAIT_MS	10000	/* for something that must come */

struct rig_node {
	pid_t		 netd_pid;
	pid_t		 keyd_pid;
	struct imsgbuf	 netd_parent;	/* our end of netd's parent pipe */
	struct imsgbuf	 keyd_parent;
	struct imsgbuf	 minerd;	/* netd <-> "minerd" (us) */
	struct imsgbuf	 kminerd;	/* keyd <-> "minerd" (us) */
	int		 netd_ready;
	int		 keyd_ready;
	int		 generated;	/* keyd made the key */
	uint16_t	 port;		/* netd listens on 127.0.0.1:port */
	uint8_t		 pk[32];	/* the node key (keyd's) */
	char		 root[64];	/* netd's empty chroot */
	char		 kroot[64];	/* keyd's chroot, with key/ */
	int		 idx;		/* in the rig */
	void		*arg;		/* the benchmark's */
};

/*
 * Called for every message from a node's netd or keyd on our minerd
 * ends (keyd's IMSG_KEY_GENERATED is handled by the rig first).
 */
typedef void	(*rig_handler)(struct rig_node *, int from_keyd,
		    struct imsg *);

/* Root, binaries, no sanitizer, sodium_init; then handler is used. */
void		 rig_init(rig_handler);
/*
 * A node: keyd (with a fresh key) and netd (listening on loopback),
 * both ready.  tweak, if not NULL, changes netd's and keyd's
 * child_init before they are sent.  nofile: netd's RLIMIT_NOFILE, as
 * the parent raises it (0: inherited).
 */
struct rig_node	*rig_node_new(void (*tweak)(struct child_init *),
		    unsigned int nofile);
/* Queue and send (blocking). */
void		 rig_send(struct imsgbuf *, uint32_t, const void *, size_t);
/* Queue only; rig_pump writes what is queued. */
int		 rig_queue(struct imsgbuf *, uint32_t, const void *, size_t);
/* Serve every pipe once, waiting up to ms for something to read. */
void		 rig_pump(int ms);
/* Stop every process and remove the directories. */
void		 rig_stop(void);
/* Log lines at warning or worse that the daemons sent (printed too). */
unsigned int	 rig_warnings(void);

/* The minerd side of netd, for the benchmarks. */
void		 rig_key_add(struct rig_node *, const uint8_t pk[32]);
void		 rig_dial(struct rig_node *, const struct rig_node *to);
void		 rig_hangup(struct rig_node *, const uint8_t pk[32]);

/* Measuring. */
double		 rig_now(void);			/* monotonic seconds */
/* CPU seconds: schedstat's run time (ns), else stat's utime + stime */
double		 rig_cpu(pid_t);
double		 rig_cpu_ticks(pid_t);		/* utime + stime only */
long		 rig_pss_kib(pid_t);		/* smaps_rollup Pss */
double		 rig_self_cpu(void);		/* this process */
/*
 * Calls fn(arg) in growing batches until secs have passed; returns
 * calls per second.
 */
double		 rig_rate(void (*fn)(void *), void *arg, double secs);

#endif /* RIG_H */
