/*
 * The parent's view of its children, its directories and its sockets.
 */

#ifndef LETHD_PROC_H
#define LETHD_PROC_H

#include <sys/types.h>

#include <event2/event.h>

#include "lethd.h"
#include "proc.h"
#include "conf.h"

struct child {
	enum lethd_proc	 proc;
	const char	*name;		/* "keyd" */
	const char	*binary;	/* in the libexec directory */
	void		(*dispatch)(int, short, void *);

	pid_t		 pid;		/* 0 while down */
	struct imsgev	 iev;
	uid_t		 uid;
	gid_t		 gid;
	time_t		 started;	/* wall clock, for status */
	long long	 started_mono;
	unsigned int	 restarts;
	unsigned int	 backoff;	/* seconds before the next start */
	struct event	*restart_ev;
	int		 ready;
	/* log rate limit: lines in the current second, and dropped */
	long long	 log_sec;
	unsigned int	 log_lines;
	unsigned int	 log_dropped;
};

/* Everything the parent holds. */
struct lethd_env {
	struct lethd_conf	 conf;
	char			 conffile[PATH_MAX];
	char			 libexec[PATH_MAX];
	int			 debug;
	int			 verbose;
	time_t			 started;
	uid_t			 uid[USER_MAX];
	gid_t			 gid[USER_MAX];
	gid_t			 ctl_gid;
	int			 ctl_fd;		/* control socket */
	int			 api_fd;		/* loopback TCP API, or -1 */
	int			 net_fd[NET_MAX_LISTEN];
	unsigned int		 nnet;
	uint16_t		 net_port[NET_MAX_LISTEN];
	char			 net_addr[NET_MAX_LISTEN][48];
	int			 pidfd;
	int			 devnull;		/* children's stdin, stdout */
	int			 shutting_down;
};

extern struct lethd_env	*env;

/* child.c */
struct child	*child_get(enum lethd_proc);
void		 child_start_all(void);
void		 child_start(struct child *);
void		 child_reaped(pid_t, int);
void		 child_stop_all(void);
void		 child_reconf(void);
void		 child_table_init(struct child *, size_t);
void		 child_log(struct child *, int, const char *);
void		 child_send_status(struct child *, uint32_t);
void		 child_cutoff(struct child *, const char *);

/* dirs.c */
int		 dirs_setup(void);
int		 lethd_pidfile_lock(int);
void		 lethd_pidfile_write(void);

/* tune.c */
void		 tune_miners(void);

/* miner.c: the miners, by slot (minerd asks, the parent checks) */
void		 miner_init(void);
int		 miner_spawn_imsg(const void *, size_t);
int		 miner_slot_imsg(uint32_t, const void *, size_t);
int		 miner_reaped(pid_t, int);
void		 miner_minerd_up(void);
void		 miner_minerd_down(void);
void		 miner_stop_all(void);

/* cgroup.c: a cgroup v2 per miner slot, where one is writable */
int		 cgroup_init(void);
int		 cgroup_enabled(void);
int		 cgroup_slot_prepare(uint32_t);
int		 cgroup_slot_enter(uint32_t);
int		 cgroup_slot_kill(uint32_t, int);
int		 cgroup_slot_populated(uint32_t);
void		 cgroup_slot_remove(uint32_t);
int		 cgroup_clear_all(void);
void		 cgroup_fini(void);

/* listen.c */
int		 listen_control(void);
int		 listen_net(void);
int		 listen_api(void);

#endif /* LETHD_PROC_H */
