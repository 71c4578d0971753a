/*
 * libFuzzer harness for the read side of common/imsg.c.
 *
 * Input: two control bytes, then the byte stream a peer sends.
 *   byte 0: bits 0-6: bytes per sendmsg (0: all in one); bit 7: pass
 *           fds (a /dev/null descriptor) with some of the sendmsgs.
 *   byte 1: which sendmsgs carry an fd: bit (i % 8) for the i-th one.
 * The stream goes into one end of a non-blocking socketpair, as much
 * as it takes, and the other end is read with imsgbuf_read and
 * imsg_get until end of file or an error.  A broken invariant aborts.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "imsg.h"

/* Stream bytes sent at most: more than a socket buffer holds, so the
 * rest is cut by the writer's EAGAIN anyway. */
#define FUZZ_MAX_STREAM		(256 * 1024)
#define FUZZ_CTL_BYTES		2
#define FUZZ_CHUNK_MASK		0x7f
#define FUZZ_PASS_FDS		0x80
#define FUZZ_MASK_BITS		8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fuzz_devnull = -1;

static ssize_t
fuzz_send(int sock, const uint8_t *buf, size_t len, int fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	} cbuf;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	return (sendmsg(sock, &msg, MSG_NOSIGNAL));
}

static void
fuzz_check(const struct imsgbuf *ibuf, const struct imsg *imsg)
{
	if (imsg->hdr.len != IMSG_HEADER_SIZE + imsg->datalen ||
	    imsg->datalen > IMSG_MAX_PAYLOAD ||
	    (imsg->datalen > 0) != (imsg->data != NULL) ||
	    imsg_get_len(imsg) != imsg->datalen)
		abort();
	if (imsg->fd != -1 && fcntl(imsg->fd, F_GETFD) == -1)
		abort();
	if (ibuf->nrfds > IMSG_MAX_FDS || ibuf->roff > ibuf->rlen ||
	    ibuf->rlen > ibuf->rsize)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ibuf;
	struct imsg	 imsg;
	size_t		 chunk, off, n;
	ssize_t		 sent;
	unsigned int	 i;
	int		 sv[2], fd, got, pass, mask;

	if (size < FUZZ_CTL_BYTES)
		return (0);
	if (fuzz_devnull == -1 &&
	    (fuzz_devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		abort();
	chunk = data[0] & FUZZ_CHUNK_MASK;
	pass = (data[0] & FUZZ_PASS_FDS) != 0;
	mask = data[1];
	data += FUZZ_CTL_BYTES;
	size -= FUZZ_CTL_BYTES;
	if (size > FUZZ_MAX_STREAM)
		size = FUZZ_MAX_STREAM;

	/* EMFILE here means an earlier run leaked fds. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();

	for (off = 0, i = 0; off < size; off += (size_t)sent, i++) {
		n = size - off;
		if (chunk > 0 && n > chunk)
			n = chunk;
		fd = -1;
		if (pass && (mask & (1 << (i % FUZZ_MASK_BITS))))
			fd = fuzz_devnull;
		if ((sent = fuzz_send(sv[0], data + off, n, fd)) <= 0)
			break;
	}
	shutdown(sv[0], SHUT_WR);

	if (imsgbuf_init(&ibuf, sv[1]) == -1)
		abort();
	got = 0;
	while (got != -1 && imsgbuf_read(&ibuf) > 0) {
		while ((got = imsg_get(&ibuf, &imsg)) == 1) {
			fuzz_check(&ibuf, &imsg);
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&ibuf);
	if (ibuf.nrfds != 0 || ibuf.rbuf != NULL)
		abort();
	close(sv[0]);
	close(sv[1]);
	return (0);
}
