/*
 * imsg for lethd: framed messages with file descriptor passing over a
 * UNIX stream socket, to the contract described in imsg.h.
 *
 * Writing: the queue holds one buffer per message.  A message that
 * carries an fd starts its own sendmsg(2), with the fd attached, so the
 * fd reaches the reader with the first byte of that message; messages
 * without one are gathered into a single sendmsg.
 *
 * Reading: each recvmsg(2) may bring at most one fd.  We remember the
 * stream offsets of the bytes that call read; a message marked with an
 * fd must start inside the range of the oldest fd not yet taken, and an
 * fd whose range has been passed without a marked message to take it
 * came with no message: both make the stream bad.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "imsg.h"

/* The read buffer starts at this size and grows on demand to one whole
 * maximum-size message: an idle pipe costs little memory.  The fuzzer
 * builds with a tiny one to reach the growing and shrinking. */
#ifndef IMSG_RBUF_INIT
#define IMSG_RBUF_INIT		(64 * 1024)
#endif
#define IMSG_RBUF_MAX		(IMSG_HEADER_SIZE + IMSG_MAX_PAYLOAD)
/* Messages gathered into one sendmsg: well under IOV_MAX. */
#define IMSG_WRITE_IOVS		64
/* Control buffer for one SCM_RIGHTS fd. */
#define IMSG_CMSG_SPACE		CMSG_SPACE(sizeof(int))

struct imsg_wbuf {
	TAILQ_ENTRY(imsg_wbuf)	 entry;
	int			 fd;	/* -1, or to go with byte 0 */
	size_t			 len;	/* header and payload */
	size_t			 off;	/* bytes already written */
	unsigned char		 data[];
};

struct imsg_rfd {
	TAILQ_ENTRY(imsg_rfd)	 entry;
	int			 fd;
	uint64_t		 start;	/* stream offsets read by the */
	uint64_t		 end;	/* recvmsg that brought it */
};

union imsg_cmsgbuf {
	struct cmsghdr		 hdr;
	unsigned char		 buf[IMSG_CMSG_SPACE];
};

static int	imsg_sendmsg(struct imsgbuf *);
static void	imsg_consume(struct imsgbuf *, size_t);
static int	imsg_rbuf_room(struct imsgbuf *);
static int	imsg_take_fds(struct msghdr *, int *, int);
static void	imsg_close_fds(int *, int);

int
imsgbuf_init(struct imsgbuf *ibuf, int fd)
{
	memset(ibuf, 0, sizeof(*ibuf));
	if (fd < 0) {
		errno = EBADF;
		return (-1);
	}
	ibuf->fd = fd;
	ibuf->pid = getpid();
	ibuf->rbuf = NULL;
	TAILQ_INIT(&ibuf->rfds);
	TAILQ_INIT(&ibuf->wq);
	ibuf->wmax = IMSG_WQUEUE_MAX;
	return (0);
}

void
imsgbuf_set_maxqueue(struct imsgbuf *ibuf, size_t max)
{
	ibuf->wmax = max;
}

void
imsgbuf_clear(struct imsgbuf *ibuf)
{
	struct imsg_wbuf	*wb;
	struct imsg_rfd		*rfd;

	while ((wb = TAILQ_FIRST(&ibuf->wq)) != NULL) {
		TAILQ_REMOVE(&ibuf->wq, wb, entry);
		if (wb->fd != -1)
			close(wb->fd);
		free(wb);
	}
	ibuf->wqueued = 0;

	while ((rfd = TAILQ_FIRST(&ibuf->rfds)) != NULL) {
		TAILQ_REMOVE(&ibuf->rfds, rfd, entry);
		close(rfd->fd);
		free(rfd);
	}
	ibuf->nrfds = 0;

	free(ibuf->rbuf);
	ibuf->rbuf = NULL;
	ibuf->rpos += ibuf->rlen;
	ibuf->rsize = ibuf->rlen = ibuf->roff = 0;
}

size_t
imsgbuf_queuelen(const struct imsgbuf *ibuf)
{
	return (ibuf->wqueued);
}

/*
 * Reading.
 */

/*
 * Make room at the end of the read buffer: drop what imsg_get consumed,
 * give back memory a big message needed, grow when full.  0, or -1 with
 * errno.
 */
static int
imsg_rbuf_room(struct imsgbuf *ibuf)
{
	unsigned char	*p;
	struct imsg_hdr	 hdr;
	size_t		 want, need = 0;

	if (ibuf->roff > 0) {
		memmove(ibuf->rbuf, ibuf->rbuf + ibuf->roff,
		    ibuf->rlen - ibuf->roff);
		ibuf->rlen -= ibuf->roff;
		ibuf->rpos += ibuf->roff;
		ibuf->roff = 0;
	}
	/* The length the pending message says it has. */
	if (ibuf->rlen >= IMSG_HEADER_SIZE) {
		memcpy(&hdr, ibuf->rbuf, sizeof(hdr));
		need = hdr.len & ~IMSG_FD_MARK;
	}

	if (ibuf->rbuf == NULL) {
		if ((ibuf->rbuf = malloc(IMSG_RBUF_INIT)) == NULL)
			return (-1);
		ibuf->rsize = IMSG_RBUF_INIT;
	} else if (ibuf->rsize > IMSG_RBUF_INIT &&
	    ibuf->rlen <= IMSG_RBUF_INIT / 2 && need <= IMSG_RBUF_INIT) {
		/* A big message is gone: give its memory back. */
		if ((p = realloc(ibuf->rbuf, IMSG_RBUF_INIT)) != NULL) {
			ibuf->rbuf = p;
			ibuf->rsize = IMSG_RBUF_INIT;
		}
	}

	if (ibuf->rlen < ibuf->rsize)
		return (0);
	if (ibuf->rsize >= IMSG_RBUF_MAX) {
		errno = ENOBUFS;
		return (-1);
	}

	/* Full: double, or go straight to the size of the pending
	 * message, never past one maximum-size message. */
	want = ibuf->rsize * 2;
	if (need > want)
		want = need;
	if (want > IMSG_RBUF_MAX)
		want = IMSG_RBUF_MAX;
	if ((p = realloc(ibuf->rbuf, want)) == NULL)
		return (-1);
	ibuf->rbuf = p;
	ibuf->rsize = want;
	return (0);
}

static void
imsg_close_fds(int *fds, int nfds)
{
	int	i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/*
 * Collect the fds of a received control message into fds (room for
 * max).  Returns how many, or -1 for anything but SCM_RIGHTS (the fds
 * found are closed then).
 */
static int
imsg_take_fds(struct msghdr *msg, int *fds, int max)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 nfds = 0, fd, bad = 0;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			if (nfds < max)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (bad) {
		imsg_close_fds(fds, nfds);
		return (-1);
	}
	return (nfds);
}

ssize_t
imsgbuf_read(struct imsgbuf *ibuf)
{
	struct msghdr		 msg;
	struct iovec		 iov;
	union imsg_cmsgbuf	 cbuf;
	struct imsg_rfd		*rfd;
	ssize_t			 n;
	/* The buffer has room for one fd; a truncated control message
	 * may still have brought what fitted. */
	int			 fds[IMSG_CMSG_SPACE / sizeof(int)];
	int			 nfds;

	if (imsg_rbuf_room(ibuf) == -1)
		return (-1);

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = ibuf->rbuf + ibuf->rlen;
	iov.iov_len = ibuf->rsize - ibuf->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);

	do {
		n = recvmsg(ibuf->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);

	nfds = imsg_take_fds(&msg, fds, (int)(sizeof(fds) / sizeof(fds[0])));
	if (nfds == -1 || (msg.msg_flags & MSG_CTRUNC) || nfds > 1 ||
	    (nfds == 1 && n == 0)) {
		/* Not what our writer sends: one fd with data. */
		if (nfds > 0)
			imsg_close_fds(fds, nfds);
		errno = EBADMSG;
		return (-1);
	}
	if (nfds == 1) {
		if (ibuf->nrfds >= IMSG_MAX_FDS ||
		    (rfd = calloc(1, sizeof(*rfd))) == NULL) {
			close(fds[0]);
			if (ibuf->nrfds >= IMSG_MAX_FDS)
				errno = EBADMSG;
			return (-1);
		}
		rfd->fd = fds[0];
		rfd->start = ibuf->rpos + ibuf->rlen;
		rfd->end = rfd->start + (uint64_t)n;
		TAILQ_INSERT_TAIL(&ibuf->rfds, rfd, entry);
		ibuf->nrfds++;
	}
	ibuf->rlen += (size_t)n;
	return (n);
}

int
imsg_get(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	struct imsg_rfd	*rfd;
	uint64_t	 m;
	size_t		 avail, len, datalen;
	void		*data = NULL;

	/* The stream offset of the next message. */
	m = ibuf->rpos + ibuf->roff;

	/* An fd whose bytes were all consumed by messages that did not
	 * want it came with no message. */
	rfd = TAILQ_FIRST(&ibuf->rfds);
	if (rfd != NULL && rfd->end <= m) {
		errno = EBADMSG;
		return (-1);
	}

	avail = ibuf->rlen - ibuf->roff;
	if (avail < IMSG_HEADER_SIZE)
		return (0);
	memcpy(&hdr, ibuf->rbuf + ibuf->roff, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE ||
	    len > IMSG_HEADER_SIZE + IMSG_MAX_PAYLOAD) {
		errno = EBADMSG;
		return (-1);
	}
	/* The fd comes with the first byte of its message: it is here
	 * already or it will never be. */
	if ((hdr.len & IMSG_FD_MARK) && (rfd == NULL || rfd->start > m)) {
		errno = EBADMSG;
		return (-1);
	}
	if (avail < len)
		return (0);

	datalen = len - IMSG_HEADER_SIZE;
	if (datalen > 0) {
		if ((data = malloc(datalen)) == NULL)
			return (-1);
		memcpy(data, ibuf->rbuf + ibuf->roff + IMSG_HEADER_SIZE,
		    datalen);
	}

	memset(imsg, 0, sizeof(*imsg));
	imsg->hdr = hdr;
	imsg->hdr.len = (uint32_t)len;
	imsg->data = data;
	imsg->datalen = datalen;
	imsg->fd = -1;
	if (hdr.len & IMSG_FD_MARK) {
		TAILQ_REMOVE(&ibuf->rfds, rfd, entry);
		ibuf->nrfds--;
		imsg->fd = rfd->fd;
		free(rfd);
	}

	ibuf->roff += len;
	if (ibuf->roff == ibuf->rlen) {
		ibuf->rpos += ibuf->rlen;
		ibuf->roff = ibuf->rlen = 0;
	}
	return (1);
}

/*
 * Writing.
 */

int
imsg_compose(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t len)
{
	struct iovec	iov;

	if (len > 0 && data == NULL) {
		errno = EINVAL;
		return (-1);
	}
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	return (imsg_composev(ibuf, type, peerid, pid, fd, &iov,
	    len > 0 ? 1 : 0));
}

int
imsg_composev(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	struct imsg_wbuf	*wb;
	struct imsg_hdr		 hdr;
	size_t			 datalen = 0, len, off;
	int			 i;

	if (iovcnt < 0 || (iovcnt > 0 && iov == NULL) || fd < -1) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL) {
			errno = EINVAL;
			return (-1);
		}
		if (iov[i].iov_len > IMSG_MAX_PAYLOAD - datalen) {
			errno = EMSGSIZE;
			return (-1);
		}
		datalen += iov[i].iov_len;
	}
	len = IMSG_HEADER_SIZE + datalen;
	if (ibuf->wqueued > ibuf->wmax || len > ibuf->wmax - ibuf->wqueued) {
		errno = ENOBUFS;
		return (-1);
	}

	if ((wb = malloc(sizeof(*wb) + len)) == NULL)
		return (-1);
	wb->fd = fd;
	wb->len = len;
	wb->off = 0;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)len;
	if (fd != -1)
		hdr.len |= IMSG_FD_MARK;
	hdr.peerid = peerid;
	hdr.pid = (uint32_t)(pid != 0 ? pid : ibuf->pid);
	memcpy(wb->data, &hdr, sizeof(hdr));
	off = sizeof(hdr);
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		memcpy(wb->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}

	TAILQ_INSERT_TAIL(&ibuf->wq, wb, entry);
	ibuf->wqueued += len;
	return (0);
}

/* Drop n written bytes from the head of the write queue. */
static void
imsg_consume(struct imsgbuf *ibuf, size_t n)
{
	struct imsg_wbuf	*wb;
	size_t			 left;

	ibuf->wqueued -= n;
	while (n > 0 && (wb = TAILQ_FIRST(&ibuf->wq)) != NULL) {
		left = wb->len - wb->off;
		if (n < left) {
			wb->off += n;
			return;
		}
		n -= left;
		TAILQ_REMOVE(&ibuf->wq, wb, entry);
		free(wb);
	}
}

/*
 * One sendmsg: the head of the queue, with its fd when it has one not
 * yet sent, and the messages after it up to the next one with an fd.
 * Returns the bytes written, 0 when the socket is full, -1 on error.
 */
static int
imsg_sendmsg(struct imsgbuf *ibuf)
{
	struct msghdr		 msg;
	struct iovec		 iov[IMSG_WRITE_IOVS];
	union imsg_cmsgbuf	 cbuf;
	struct cmsghdr		*cmsg;
	struct imsg_wbuf	*head, *wb;
	ssize_t			 n;
	int			 niov = 0;

	head = TAILQ_FIRST(&ibuf->wq);
	for (wb = head; wb != NULL && niov < IMSG_WRITE_IOVS;
	    wb = TAILQ_NEXT(wb, entry)) {
		if (wb != head && wb->fd != -1)
			break;
		iov[niov].iov_base = wb->data + wb->off;
		iov[niov].iov_len = wb->len - wb->off;
		niov++;
	}

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	if (head->fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &head->fd, sizeof(int));
	}

	do {
		n = sendmsg(ibuf->fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		return (-1);
	}

	if (head->fd != -1) {
		/* It went with the first byte: ours no longer. */
		close(head->fd);
		head->fd = -1;
	}
	imsg_consume(ibuf, (size_t)n);
	return (n > INT_MAX ? INT_MAX : (int)n);
}

int
imsgbuf_write(struct imsgbuf *ibuf)
{
	int	n;

	while (!TAILQ_EMPTY(&ibuf->wq)) {
		if ((n = imsg_sendmsg(ibuf)) == -1)
			return (-1);
		if (n == 0)
			break;
	}
	return (0);
}

int
imsgbuf_flush(struct imsgbuf *ibuf)
{
	struct pollfd	pfd;
	int		r;

	while (!TAILQ_EMPTY(&ibuf->wq)) {
		if (imsgbuf_write(ibuf) == -1)
			return (-1);
		if (TAILQ_EMPTY(&ibuf->wq))
			break;
		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, -1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return (-1);
		}
	}
	return (0);
}

/*
 * Accessors.
 */

uint32_t
imsg_get_type(const struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_peerid(const struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

size_t
imsg_get_len(const struct imsg *imsg)
{
	return (imsg->datalen);
}

int
imsg_get_data(const struct imsg *imsg, void *buf, size_t len)
{
	if (len != imsg->datalen) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(buf, imsg->data, len);
	return (0);
}

int
imsg_get_fd(struct imsg *imsg)
{
	int	fd;

	fd = imsg->fd;
	imsg->fd = -1;
	return (fd);
}

void
imsg_free(struct imsg *imsg)
{
	free(imsg->data);
	imsg->data = NULL;
	imsg->datalen = 0;
	if (imsg->fd != -1)
		close(imsg->fd);
	imsg->fd = -1;
}
