/*
 * An imsg pipe on the event loop, as bgpd's and iked's imsgev.
 */

#ifndef PROC_H
#define PROC_H

#include <event2/event.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event	*ev;
	void		(*handler)(int, short, void *);
	void		*data;
	int		 proc;		/* enum lethd_proc of the other end */
	short		 events;
	int		 open;
};

extern struct event_base *ev_base;

/* Start watching fd; handler(fd, event, iev) runs on EV_READ/EV_WRITE. */
void	imsgev_init(struct imsgev *, int fd, int proc,
	    void (*)(int, short, void *), void *);
/* Re-arm for read, and write when something is queued. */
void	imsgev_add(struct imsgev *);
/* imsg_compose + imsgev_add; -1 when the queue is full or closed. */
int	imsgev_compose(struct imsgev *, uint32_t type, uint32_t peerid,
	    pid_t, int fd, const void *, size_t);
/* Stop watching, drop both queues and close the fd. */
void	imsgev_close(struct imsgev *);

/*
 * The common part of every handler: on EV_WRITE write what is queued;
 * on EV_READ read.  Returns 1 when messages may be waiting for
 * imsg_get, 0 when there is nothing to do, -1 when the pipe is dead
 * (EOF, write error, bad stream; logged): the caller closes it.
 */
int	imsgev_handle(struct imsgev *, short event);

/*
 * Synchronous: read one message from a blocking fd (the parent pipe at
 * a child's start).  Returns 1, 0 at EOF, -1 on error.
 */
int	imsg_read_one(struct imsgbuf *, struct imsg *);

/* Children: send log lines to the parent over this pipe. */
void	proc_log_to_parent(struct imsgev *);

#define IMSG_SIZE_CHECK(imsg, len) \
	(imsg_get_len(imsg) == (len))

#endif /* PROC_H */
