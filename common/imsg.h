/*
 * Our own imsg: the OpenBSD imsg contract of today, written for lethd.
 *
 * A message is a 16-byte header (32-bit type, length, peer id, pid)
 * followed by up to IMSG_MAX_PAYLOAD bytes.  The length counts the
 * header; its top bit (IMSG_FD_MARK) says that one file descriptor
 * travels with the message (SCM_RIGHTS, sent with the message's first
 * byte).  Read and write queues are bounded.
 */

#ifndef IMSG_H
#define IMSG_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct imsg_hdr {
	uint32_t	type;
	uint32_t	len;		/* header included; top bit: fd */
	uint32_t	peerid;
	uint32_t	pid;
};

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_FD_MARK		0x80000000U

struct imsg {
	struct imsg_hdr	 hdr;		/* len without the fd mark */
	int		 fd;		/* -1 when none */
	void		*data;		/* NULL when the payload is empty */
	size_t		 datalen;
};

struct imsg_wbuf;			/* one queued outgoing message */
struct imsg_rfd;			/* one received, unclaimed fd */

struct imsgbuf {
	int			 fd;
	pid_t			 pid;		/* sent in headers */
	/* read side */
	unsigned char		*rbuf;
	size_t			 rsize;		/* allocated */
	size_t			 rlen;		/* bytes held */
	size_t			 roff;		/* bytes already consumed */
	uint64_t		 rpos;		/* stream offset of rbuf[0] */
	TAILQ_HEAD(, imsg_rfd)	 rfds;
	unsigned int		 nrfds;
	/* write side */
	TAILQ_HEAD(, imsg_wbuf)	 wq;
	size_t			 wqueued;	/* bytes not yet written */
	size_t			 wmax;		/* bound on wqueued */
};

/* Set up ibuf on a connected, non-blocking or blocking socket. */
int	 imsgbuf_init(struct imsgbuf *, int);
/* Change the write-queue bound (default IMSG_WQUEUE_MAX). */
void	 imsgbuf_set_maxqueue(struct imsgbuf *, size_t);
/* Free both queues and close every fd held; does not close ibuf->fd. */
void	 imsgbuf_clear(struct imsgbuf *);

/*
 * Read what the socket has.  Returns the number of bytes read, 0 on
 * end of file, -1 with errno set on error (EAGAIN when nothing was
 * there; EBADMSG for a truncated control message or more fds than
 * IMSG_MAX_FDS; ENOBUFS when the buffer holds a whole maximum-size
 * message already and imsg_get has not been called).
 */
ssize_t	 imsgbuf_read(struct imsgbuf *);

/*
 * Take the next whole message.  Returns 1 and fills imsg (free it
 * with imsg_free), 0 when no whole message is buffered, -1 with errno
 * EBADMSG for a malformed stream: a length under the header size or
 * over the maximum, a message marked with an fd that did not come, or
 * an fd that came with no message to carry it.  After -1 the stream
 * is unusable: close it.
 */
int	 imsg_get(struct imsgbuf *, struct imsg *);

/*
 * Queue a message.  On success the fd (if not -1) belongs to ibuf and
 * is closed once sent.  Returns -1 with errno ENOBUFS when the queue
 * bound would be passed, EMSGSIZE when len is over the maximum; then
 * the caller keeps the fd.
 */
int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const void *, size_t);
/* As imsg_compose with the payload in iov pieces. */
struct iovec;
int	 imsg_composev(struct imsgbuf *, uint32_t, uint32_t, pid_t, int,
	    const struct iovec *, int);

/* Write what the socket takes now: 0 (also when it would block), -1 with
 * errno on error (EPIPE when the other end is gone). */
int	 imsgbuf_write(struct imsgbuf *);
/* Write everything queued, waiting as needed; 0 or -1. */
int	 imsgbuf_flush(struct imsgbuf *);
/* Bytes still queued for writing. */
size_t	 imsgbuf_queuelen(const struct imsgbuf *);

/* Accessors. */
uint32_t imsg_get_type(const struct imsg *);
uint32_t imsg_get_peerid(const struct imsg *);
size_t	 imsg_get_len(const struct imsg *);
/* Copy exactly len bytes out; -1 with errno EBADMSG when the payload's
 * length is not exactly len. */
int	 imsg_get_data(const struct imsg *, void *, size_t);
/* Take the fd (the caller owns it afterwards); -1 when none. */
int	 imsg_get_fd(struct imsg *);
/* Free the payload and close an fd that was not taken. */
void	 imsg_free(struct imsg *);

#endif /* IMSG_H */
