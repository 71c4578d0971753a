/*
 * imsg pipes on the event loop, and what every child does with its
 * parent pipe: read the first message synchronously, send log lines.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lethd.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"

struct event_base	*ev_base;

static struct imsgev	*log_parent;

static const char *const proc_names[PROC_MAX] = {
	[PROC_PARENT] = "lethd",
	[PROC_KEYD] = "keyd",
	[PROC_NETD] = "netd",
	[PROC_MINERD] = "minerd",
};

const char *
proc_name(enum lethd_proc p)
{
	if ((unsigned int)p >= PROC_MAX)
		return ("unknown");
	return (proc_names[p]);
}

void
imsgev_init(struct imsgev *iev, int fd, int proc,
    void (*handler)(int, short, void *), void *data)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("fcntl");
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		fatal("imsgbuf_init");
	iev->handler = handler;
	iev->data = data;
	iev->proc = proc;
	iev->events = 0;
	iev->ev = NULL;
	iev->open = 1;
	imsgev_add(iev);
}

void
imsgev_add(struct imsgev *iev)
{
	short	 events = EV_READ;

	if (!iev->open)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		events |= EV_WRITE;
	if (iev->ev != NULL && events == iev->events)
		return;
	if (iev->ev != NULL)
		event_free(iev->ev);
	iev->events = events;
	iev->ev = event_new(ev_base, iev->ibuf.fd, events | EV_PERSIST,
	    iev->handler, iev);
	if (iev->ev == NULL || event_add(iev->ev, NULL) == -1)
		fatal("event_add");
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t len)
{
	if (!iev->open) {
		errno = EPIPE;
		return (-1);
	}
	if (imsg_compose(&iev->ibuf, type, peerid, pid, fd, data, len) == -1)
		return (-1);
	imsgev_add(iev);
	return (0);
}

void
imsgev_close(struct imsgev *iev)
{
	if (!iev->open)
		return;
	if (iev->ev != NULL) {
		event_free(iev->ev);
		iev->ev = NULL;
	}
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
	iev->open = 0;
	iev->events = 0;
	if (iev == log_parent)
		log_parent = NULL;
}

int
imsgev_handle(struct imsgev *iev, short event)
{
	ssize_t	 n;

	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			if (errno != EPIPE)
				log_warn("write to %s", proc_name(iev->proc));
			return (-1);
		}
	}
	if (event & EV_READ) {
		n = imsgbuf_read(&iev->ibuf);
		if (n == -1 && errno != EAGAIN) {
			log_warn("read from %s", proc_name(iev->proc));
			return (-1);
		}
		if (n == 0) {
			log_debug("%s closed its pipe", proc_name(iev->proc));
			return (-1);
		}
	}
	imsgev_add(iev);
	return ((event & EV_READ) ? 1 : 0);
}

int
imsg_read_one(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	for (;;) {
		if ((r = imsg_get(ibuf, imsg)) != 0)
			return (r);
		n = imsgbuf_read(ibuf);
		if (n == 0)
			return (0);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return (-1);
			pfd.fd = ibuf->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				return (-1);
		}
	}
}

static void
proc_log_sink(int pri, const char *text)
{
	struct log_msg	 lm;

	if (log_parent == NULL)
		return;
	memset(&lm, 0, sizeof(lm));
	lm.priority = pri;
	(void)strlcpy(lm.text, text, sizeof(lm.text));
	if (imsg_compose(&log_parent->ibuf, IMSG_LOG, 0, 0, -1, &lm,
	    sizeof(lm)) == -1)
		return;	/* queue full: the line is lost, never blocks */
	/* fatal() exits right after logging: push the line out now */
	(void)imsgbuf_flush(&log_parent->ibuf);
	imsgev_add(log_parent);
}

void
proc_log_to_parent(struct imsgev *iev)
{
	log_parent = iev;
	log_setsink(proc_log_sink);
}
