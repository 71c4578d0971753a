/*
 * Unit tests of common/imsg.c: framing, bounds, fd passing.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "lethd.h"
#include "imsg.h"

/* Rounds of write/read a test waits for a message before failing. */
#define PUMP_MAX_ROUNDS		100000
/* Fds a test sends in one go; Linux stops a recvmsg after each. */
#define FDS_IN_A_ROW		7
/* Messages several_messages_arrive_in_one_read sends. */
#define MSGS_IN_ONE_READ	5
/* Maximum-size messages the flush test queues. */
#define FLUSH_MSGS		3
/* Fds one raw sendmsg carries in the truncated-control test. */
#define RAW_FDS			3
/* Fd numbers open_fds() looks at: far above what a test opens. */
#define FD_SCAN_MAX		1024

static void
make_pair(int sv[2], int nonblock)
{
	int	type = SOCK_STREAM | SOCK_CLOEXEC;

	if (nonblock)
		type |= SOCK_NONBLOCK;
	ATF_REQUIRE(socketpair(AF_UNIX, type, 0, sv) == 0);
}

static int
fd_is_closed(int fd)
{
	return (fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

/* How many fds the process has open. */
static int
open_fds(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < FD_SCAN_MAX; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/* The fd number the kernel will hand out next. */
static int
next_fd(void)
{
	int	fd;

	ATF_REQUIRE((fd = dup(STDIN_FILENO)) != -1);
	close(fd);
	return (fd);
}

static void
fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed);
}

/*
 * Write what w has queued and read on r until a whole message is
 * there.  Returns what imsg_get returned, or 0 at end of file.
 */
static int
pump(struct imsgbuf *w, struct imsgbuf *r, struct imsg *imsg)
{
	ssize_t	n;
	int	i, got;

	for (i = 0; i < PUMP_MAX_ROUNDS; i++) {
		if ((got = imsg_get(r, imsg)) != 0)
			return (got);
		if (w != NULL && imsgbuf_write(w) == -1)
			atf_tc_fail("imsgbuf_write: %s", strerror(errno));
		n = imsgbuf_read(r);
		if (n == 0)
			return (0);
		if (n == -1 && errno != EAGAIN)
			return (-1);
	}
	atf_tc_fail("no message after %d rounds", PUMP_MAX_ROUNDS);
	return (-1);
}

/* Send raw bytes in one sendmsg, with fd attached unless it is -1. */
static void
raw_send(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	unsigned char	 cbuf[CMSG_SPACE(RAW_FDS * sizeof(int))];

	ATF_REQUIRE(nfds <= RAW_FDS);
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	ATF_REQUIRE(sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len);
}

static void
raw_header(int sock, uint32_t type, uint32_t len, int fd)
{
	struct imsg_hdr	hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.pid = 1;
	raw_send(sock, &hdr, sizeof(hdr), &fd, fd == -1 ? 0 : 1);
}

/* Read everything there is, then take messages until none is left;
 * returns what the last imsg_get said. */
static int
drain(struct imsgbuf *r)
{
	struct imsg	imsg;
	ssize_t		n;
	int		got;

	while ((n = imsgbuf_read(r)) > 0)
		;
	if (n == -1 && errno != EAGAIN)
		return (-1);
	while ((got = imsg_get(r, &imsg)) == 1)
		imsg_free(&imsg);
	return (got);
}

ATF_TC_WITHOUT_HEAD(messages_of_several_types_and_sizes_round_trip);
ATF_TC_BODY(messages_of_several_types_and_sizes_round_trip, tc)
{
	static const size_t sizes[] = {
		0, 1, 15, 16, 17, 4096, 65536, 200000, IMSG_MAX_PAYLOAD
	};
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*buf, *out;
	size_t		 i, nsizes = sizeof(sizes) / sizeof(sizes[0]);
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE((buf = malloc(IMSG_MAX_PAYLOAD)) != NULL);
	ATF_REQUIRE((out = malloc(IMSG_MAX_PAYLOAD)) != NULL);

	for (i = 0; i < nsizes; i++) {
		fill(buf, sizes[i], (unsigned int)i);
		ATF_REQUIRE(imsg_compose(&w, IMSG_LOG + i, 1000 + i,
		    i % 2 ? 4242 : 0, -1, buf, sizes[i]) == 0);
	}
	ATF_REQUIRE(imsgbuf_queuelen(&w) > IMSG_MAX_PAYLOAD);

	for (i = 0; i < nsizes; i++) {
		ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
		ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_LOG + i);
		ATF_REQUIRE_EQ(imsg_get_peerid(&imsg), 1000 + i);
		ATF_REQUIRE_EQ(imsg.hdr.pid,
		    i % 2 ? 4242U : (uint32_t)getpid());
		ATF_REQUIRE_EQ(imsg.hdr.len, IMSG_HEADER_SIZE + sizes[i]);
		ATF_REQUIRE_EQ(imsg_get_len(&imsg), sizes[i]);
		ATF_REQUIRE_EQ(imsg.fd, -1);
		if (sizes[i] == 0)
			ATF_REQUIRE(imsg.data == NULL);
		fill(buf, sizes[i], (unsigned int)i);
		ATF_REQUIRE(imsg_get_data(&imsg, out, sizes[i]) == 0);
		ATF_REQUIRE(memcmp(buf, out, sizes[i]) == 0);
		imsg_free(&imsg);
	}
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);

	free(buf);
	free(out);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(composev_joins_its_pieces);
ATF_TC_BODY(composev_joins_its_pieces, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	struct iovec	 iov[3];
	char		 out[11];
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	iov[0].iov_base = "hello";
	iov[0].iov_len = 5;
	iov[1].iov_base = NULL;
	iov[1].iov_len = 0;
	iov[2].iov_base = " world";
	iov[2].iov_len = 6;
	ATF_REQUIRE(imsg_composev(&w, IMSG_READY, 7, 0, -1, iov, 3) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE(imsg_get_data(&imsg, out, sizeof(out)) == 0);
	ATF_REQUIRE(memcmp(out, "hello world", sizeof(out)) == 0);
	imsg_free(&imsg);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_message_fed_one_byte_at_a_time_waits_until_whole);
ATF_TC_BODY(a_message_fed_one_byte_at_a_time_waits_until_whole, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	unsigned char	 msg[sizeof(hdr) + 40];
	size_t		 i;
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = IMSG_STATUS;
	hdr.len = sizeof(msg);
	hdr.peerid = 3;
	memcpy(msg, &hdr, sizeof(hdr));
	fill(msg + sizeof(hdr), sizeof(msg) - sizeof(hdr), 9);

	for (i = 0; i < sizeof(msg); i++) {
		ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
		ATF_REQUIRE(write(sv[0], msg + i, 1) == 1);
		ATF_REQUIRE_EQ(imsgbuf_read(&r), 1);
	}
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_STATUS);
	ATF_REQUIRE_EQ(imsg_get_peerid(&imsg), 3);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), sizeof(msg) - sizeof(hdr));
	ATF_REQUIRE(memcmp(imsg.data, msg + sizeof(hdr),
	    sizeof(msg) - sizeof(hdr)) == 0);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(several_messages_arrive_in_one_read);
ATF_TC_BODY(several_messages_arrive_in_one_read, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	for (i = 0; i < MSGS_IN_ONE_READ; i++)
		ATF_REQUIRE(imsg_compose(&w, IMSG_RESTART_PEER, i, 0, -1,
		    &i, sizeof(i)) == 0);
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&r),
	    (ssize_t)(MSGS_IN_ONE_READ * (IMSG_HEADER_SIZE + sizeof(i))));
	for (i = 0; i < MSGS_IN_ONE_READ; i++) {
		ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 1);
		ATF_REQUIRE(imsg_get_data(&imsg, &v, sizeof(v)) == 0);
		ATF_REQUIRE_EQ(v, i);
		imsg_free(&imsg);
	}
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
	ATF_REQUIRE_ERRNO(EAGAIN, imsgbuf_read(&r) == -1);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_length_over_the_maximum_is_a_bad_message);
ATF_TC_BODY(a_length_over_the_maximum_is_a_bad_message, tc)
{
	static const uint32_t lens[] = {
		IMSG_HEADER_SIZE + IMSG_MAX_PAYLOAD + 1,
		0x7fffffffU,
		0xffffffffU
	};
	struct imsgbuf	 r;
	struct imsg	 imsg;
	size_t		 i;
	int		 sv[2], fd;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		make_pair(sv, 1);
		ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
		/* The marked ones carry an fd, so only the length is bad. */
		fd = -1;
		if (lens[i] & IMSG_FD_MARK)
			ATF_REQUIRE((fd = dup(STDIN_FILENO)) != -1);
		raw_header(sv[0], IMSG_LOG, lens[i], fd);
		if (fd != -1)
			close(fd);
		ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
		ATF_REQUIRE_ERRNO(EBADMSG, imsg_get(&r, &imsg) == -1);
		imsgbuf_clear(&r);
		close(sv[0]);
		close(sv[1]);
	}
}

ATF_TC_WITHOUT_HEAD(a_length_under_the_header_size_is_a_bad_message);
ATF_TC_BODY(a_length_under_the_header_size_is_a_bad_message, tc)
{
	static const uint32_t lens[] = { 0, 1, IMSG_HEADER_SIZE - 1 };
	struct imsgbuf	 r;
	struct imsg	 imsg;
	size_t		 i;
	int		 sv[2];

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		make_pair(sv, 1);
		ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
		raw_header(sv[0], IMSG_LOG, lens[i], -1);
		ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
		ATF_REQUIRE_ERRNO(EBADMSG, imsg_get(&r, &imsg) == -1);
		imsgbuf_clear(&r);
		close(sv[0]);
		close(sv[1]);
	}
}

ATF_TC_WITHOUT_HEAD(a_stream_cut_after_a_header_ends_without_a_message);
ATF_TC_BODY(a_stream_cut_after_a_header_ends_without_a_message, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE + 100, -1);
	close(sv[0]);
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
	ATF_REQUIRE_EQ(imsgbuf_read(&r), 0);
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
	imsgbuf_clear(&r);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_full_queue_says_enobufs_and_the_caller_keeps_the_fd);
ATF_TC_BODY(a_full_queue_says_enobufs_and_the_caller_keeps_the_fd, tc)
{
	struct imsgbuf	 w;
	char		 buf[60];
	int		 sv[2], p[2];

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	imsgbuf_set_maxqueue(&w, 2 * IMSG_HEADER_SIZE + sizeof(buf));
	memset(buf, 'x', sizeof(buf));

	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, sizeof(buf))
	    == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), IMSG_HEADER_SIZE + sizeof(buf));
	ATF_REQUIRE_ERRNO(ENOBUFS,
	    imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], buf, 1) == -1);
	ATF_REQUIRE(!fd_is_closed(p[1]));
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), IMSG_HEADER_SIZE + sizeof(buf));
	/* Exactly up to the bound is fine. */
	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], NULL, 0) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 2 * IMSG_HEADER_SIZE +
	    sizeof(buf));
	/* Once written, there is room again and the fd is gone. */
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);
	ATF_REQUIRE(fd_is_closed(p[1]));
	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, sizeof(buf))
	    == 0);
	imsgbuf_clear(&w);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_oversize_payload_says_emsgsize);
ATF_TC_BODY(an_oversize_payload_says_emsgsize, tc)
{
	struct imsgbuf	 w;
	struct iovec	 iov[2];
	unsigned char	*buf;
	int		 sv[2], p[2];

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE((buf = calloc(1, IMSG_MAX_PAYLOAD + 1)) != NULL);

	ATF_REQUIRE_ERRNO(EMSGSIZE, imsg_compose(&w, IMSG_LOG, 0, 0, p[1],
	    buf, IMSG_MAX_PAYLOAD + 1) == -1);
	ATF_REQUIRE(!fd_is_closed(p[1]));
	iov[0].iov_base = buf;
	iov[0].iov_len = IMSG_MAX_PAYLOAD;
	iov[1].iov_base = buf;
	iov[1].iov_len = 1;
	ATF_REQUIRE_ERRNO(EMSGSIZE, imsg_composev(&w, IMSG_LOG, 0, 0, -1,
	    iov, 2) == -1);
	iov[1].iov_len = SIZE_MAX;
	ATF_REQUIRE_ERRNO(EMSGSIZE, imsg_composev(&w, IMSG_LOG, 0, 0, -1,
	    iov, 2) == -1);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf,
	    IMSG_MAX_PAYLOAD) == 0);

	free(buf);
	imsgbuf_clear(&w);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_passed_fd_works_and_is_close_on_exec);
ATF_TC_BODY(a_passed_fd_works_and_is_close_on_exec, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	char		 buf[8];
	uint32_t	 proc = PROC_NETD, v;
	int		 sv[2], p[2], fd, flags;

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);

	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], &proc,
	    sizeof(proc)) == 0);
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE(fd_is_closed(p[1]));
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg.hdr.len, IMSG_HEADER_SIZE + sizeof(proc));
	ATF_REQUIRE(imsg_get_data(&imsg, &v, sizeof(v)) == 0);
	ATF_REQUIRE_EQ(v, proc);
	ATF_REQUIRE((fd = imsg_get_fd(&imsg)) != -1);
	ATF_REQUIRE_EQ(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	ATF_REQUIRE(!fd_is_closed(fd));
	ATF_REQUIRE((flags = fcntl(fd, F_GETFD)) != -1);
	ATF_REQUIRE(flags & FD_CLOEXEC);

	ATF_REQUIRE(write(fd, "hello", 5) == 5);
	close(fd);
	ATF_REQUIRE(read(p[0], buf, sizeof(buf)) == 5);
	ATF_REQUIRE(memcmp(buf, "hello", 5) == 0);
	/* Every write end is closed now. */
	ATF_REQUIRE(read(p[0], buf, sizeof(buf)) == 0);

	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_fd_with_a_message_larger_than_the_socket_buffer_arrives);
ATF_TC_BODY(an_fd_with_a_message_larger_than_the_socket_buffer_arrives, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*buf;
	char		 c;
	int		 sv[2], p[2], fd;

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE((buf = malloc(IMSG_MAX_PAYLOAD)) != NULL);
	fill(buf, IMSG_MAX_PAYLOAD, 5);

	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, 100) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], buf,
	    IMSG_MAX_PAYLOAD) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, 100) == 0);
	/* The socket takes only part of it: the fd went with that part. */
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE(imsgbuf_queuelen(&w) > 0);
	ATF_REQUIRE(fd_is_closed(p[1]));

	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg.fd, -1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_type(&imsg), IMSG_PIPE);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), IMSG_MAX_PAYLOAD);
	ATF_REQUIRE(memcmp(imsg.data, buf, IMSG_MAX_PAYLOAD) == 0);
	fd = imsg_get_fd(&imsg);
	ATF_REQUIRE(fd != -1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg.fd, -1);
	imsg_free(&imsg);

	ATF_REQUIRE(write(fd, "z", 1) == 1);
	ATF_REQUIRE(read(p[0], &c, 1) == 1 && c == 'z');
	close(fd);
	free(buf);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(several_fds_in_a_row_with_plain_messages_between_them);
ATF_TC_BODY(several_fds_in_a_row_with_plain_messages_between_them, tc)
{
	/* 1: this message carries an fd. */
	static const int withfd[] = { 1, 0, 1, 1, 0, 0, 1, 1, 0 };
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	size_t		 i, n = sizeof(withfd) / sizeof(withfd[0]);
	uint32_t	 v;
	char		 c;
	int		 sv[2], p[FDS_IN_A_ROW][2], k, fd, nfd = 0;

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);

	for (i = 0; i < n; i++) {
		v = (uint32_t)i;
		fd = -1;
		if (withfd[i]) {
			ATF_REQUIRE(nfd < FDS_IN_A_ROW);
			ATF_REQUIRE(pipe(p[nfd]) == 0);
			fd = p[nfd++][1];
		}
		ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, fd, &v,
		    sizeof(v)) == 0);
	}
	/* All written before anything is read. */
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);

	k = 0;
	for (i = 0; i < n; i++) {
		ATF_REQUIRE_EQ(pump(NULL, &r, &imsg), 1);
		ATF_REQUIRE(imsg_get_data(&imsg, &v, sizeof(v)) == 0);
		ATF_REQUIRE_EQ(v, i);
		fd = imsg_get_fd(&imsg);
		imsg_free(&imsg);
		if (!withfd[i]) {
			ATF_REQUIRE_EQ(fd, -1);
			continue;
		}
		/* The right pipe, not just some fd. */
		ATF_REQUIRE(fd != -1);
		c = (char)('a' + k);
		ATF_REQUIRE(write(fd, &c, 1) == 1);
		close(fd);
		ATF_REQUIRE(read(p[k][0], &c, 1) == 1);
		ATF_REQUIRE_EQ(c, 'a' + k);
		close(p[k][0]);
		k++;
	}
	ATF_REQUIRE_EQ(k, nfd);
	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 0);
	ATF_REQUIRE_EQ(r.nrfds, 0);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_message_marked_with_an_fd_that_did_not_come_is_bad);
ATF_TC_BODY(a_message_marked_with_an_fd_that_did_not_come_is_bad, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = IMSG_PIPE;
	hdr.len = IMSG_HEADER_SIZE | IMSG_FD_MARK;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)sizeof(hdr));
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get(&r, &imsg) == -1);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_marked_message_may_not_take_an_fd_that_came_later);
ATF_TC_BODY(a_marked_message_may_not_take_an_fd_that_came_later, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	int		 sv[2], p[2];

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	raw_header(sv[0], IMSG_PIPE, IMSG_HEADER_SIZE | IMSG_FD_MARK, -1);
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE, p[1]);
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	ATF_REQUIRE_EQ(r.nrfds, 1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get(&r, &imsg) == -1);
	imsgbuf_clear(&r);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_fd_that_came_before_its_marked_message_is_bad);
ATF_TC_BODY(an_fd_that_came_before_its_marked_message_is_bad, tc)
{
	struct imsgbuf	 r;
	int		 sv[2], p[2];

	/* Plain message with an fd, then a marked one without: the fd
	 * may not be kept for the later message. */
	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE, p[1]);
	raw_header(sv[0], IMSG_PIPE, IMSG_HEADER_SIZE | IMSG_FD_MARK, -1);
	ATF_REQUIRE_ERRNO(EBADMSG, drain(&r) == -1);
	imsgbuf_clear(&r);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_fd_sent_with_an_unmarked_message_is_bad);
ATF_TC_BODY(an_fd_sent_with_an_unmarked_message_is_bad, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	int		 sv[2], p[2], got, fd;

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	fd = next_fd();
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE, p[1]);
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	ATF_REQUIRE(!fd_is_closed(fd));
	/* The message itself may come out; the stream then fails. */
	while ((got = imsg_get(&r, &imsg)) == 1) {
		ATF_REQUIRE_EQ(imsg.fd, -1);
		imsg_free(&imsg);
	}
	ATF_REQUIRE_EQ(got, -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	imsgbuf_clear(&r);
	ATF_REQUIRE(fd_is_closed(fd));
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_fd_sent_with_no_bytes_of_a_message_is_bad);
ATF_TC_BODY(an_fd_sent_with_no_bytes_of_a_message_is_bad, tc)
{
	struct imsgbuf	 r;
	struct imsg	 imsg;
	int		 sv[2], p[2];
	char		 junk[IMSG_HEADER_SIZE - 1];

	/* The fd rides on bytes that are not a whole header. */
	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	memset(junk, 0, sizeof(junk));
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE + sizeof(junk), -1);
	raw_send(sv[0], junk, sizeof(junk), &p[1], 1);
	raw_header(sv[0], IMSG_LOG, IMSG_HEADER_SIZE, -1);
	ATF_REQUIRE_EQ(pump(NULL, &r, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE_ERRNO(EBADMSG, drain(&r) == -1);
	imsgbuf_clear(&r);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(more_fds_than_the_maximum_is_a_bad_stream);
ATF_TC_BODY(more_fds_than_the_maximum_is_a_bad_stream, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 sv[2], i, fd, before, got;

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	for (i = 0; i < IMSG_MAX_FDS + 1; i++) {
		ATF_REQUIRE((fd = dup(STDIN_FILENO)) != -1);
		ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, fd, NULL, 0)
		    == 0);
	}
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);

	/* One read per fd; the last one is over the bound. */
	before = open_fds();
	for (i = 0; i < IMSG_MAX_FDS; i++)
		ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	ATF_REQUIRE_EQ(r.nrfds, IMSG_MAX_FDS);
	n = imsgbuf_read(&r);
	ATF_REQUIRE_EQ(n, -1);
	ATF_REQUIRE_EQ(errno, EBADMSG);
	/* The one over the bound was closed. */
	ATF_REQUIRE_EQ(open_fds(), before + IMSG_MAX_FDS);

	/* Those under the bound were fine. */
	for (i = 0; i < IMSG_MAX_FDS; i++) {
		ATF_REQUIRE_EQ(got = imsg_get(&r, &imsg), 1);
		ATF_REQUIRE(imsg.fd != -1);
		imsg_free(&imsg);
	}
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_truncated_control_message_is_bad_and_leaks_no_fd);
ATF_TC_BODY(a_truncated_control_message_is_bad_and_leaks_no_fd, tc)
{
	struct imsgbuf	 r;
	struct imsg_hdr	 hdr;
	int		 sv[2], fds[RAW_FDS], i, before;

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	for (i = 0; i < RAW_FDS; i++)
		ATF_REQUIRE((fds[i] = dup(STDIN_FILENO)) != -1);
	memset(&hdr, 0, sizeof(hdr));
	hdr.len = IMSG_HEADER_SIZE | IMSG_FD_MARK;
	raw_send(sv[0], &hdr, sizeof(hdr), fds, RAW_FDS);
	for (i = 0; i < RAW_FDS; i++)
		close(fds[i]);

	before = open_fds();
	ATF_REQUIRE_ERRNO(EBADMSG, imsgbuf_read(&r) == -1);
	ATF_REQUIRE_EQ(open_fds(), before);
	ATF_REQUIRE_EQ(r.nrfds, 0);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(two_fds_in_one_control_message_are_bad);
ATF_TC_BODY(two_fds_in_one_control_message_are_bad, tc)
{
	struct imsgbuf	 r;
	struct imsg_hdr	 hdr;
	int		 sv[2], fds[2], i, before;

	/* Two fds may fit the buffer made for one; still not ours. */
	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	for (i = 0; i < 2; i++)
		ATF_REQUIRE((fds[i] = dup(STDIN_FILENO)) != -1);
	memset(&hdr, 0, sizeof(hdr));
	hdr.len = IMSG_HEADER_SIZE | IMSG_FD_MARK;
	raw_send(sv[0], &hdr, sizeof(hdr), fds, 2);
	for (i = 0; i < 2; i++)
		close(fds[i]);

	before = open_fds();
	ATF_REQUIRE_ERRNO(EBADMSG, imsgbuf_read(&r) == -1);
	ATF_REQUIRE_EQ(open_fds(), before);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(imsg_get_data_of_the_wrong_size_is_a_bad_message);
ATF_TC_BODY(imsg_get_data_of_the_wrong_size_is_a_bad_message, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	uint64_t	 v = 0x0102030405060708ULL, out = 0;
	uint32_t	 small;
	unsigned char	 big[16];
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_STATUS_REQ, 0, 0, -1, &v,
	    sizeof(v)) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_READY, 0, 0, -1, NULL, 0) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_ERRNO(EBADMSG,
	    imsg_get_data(&imsg, &small, sizeof(small)) == -1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get_data(&imsg, big, sizeof(big))
	    == -1);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get_data(&imsg, NULL, 0) == -1);
	ATF_REQUIRE(imsg_get_data(&imsg, &out, sizeof(out)) == 0);
	ATF_REQUIRE_EQ(out, v);
	imsg_free(&imsg);

	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE(imsg_get_data(&imsg, NULL, 0) == 0);
	ATF_REQUIRE_ERRNO(EBADMSG, imsg_get_data(&imsg, &small,
	    sizeof(small)) == -1);
	imsg_free(&imsg);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(imsgbuf_clear_closes_the_fds_of_both_queues);
ATF_TC_BODY(imsgbuf_clear_closes_the_fds_of_both_queues, tc)
{
	struct imsgbuf	 w, r;
	int		 sv[2], p[2], q[2], got;

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(pipe(q) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);

	/* Received and not taken. */
	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], NULL, 0) == 0);
	ATF_REQUIRE(imsgbuf_write(&w) == 0);
	got = next_fd();
	ATF_REQUIRE_EQ(imsgbuf_read(&r), (ssize_t)IMSG_HEADER_SIZE);
	ATF_REQUIRE(!fd_is_closed(got));
	ATF_REQUIRE_EQ(r.nrfds, 1);
	imsgbuf_clear(&r);
	ATF_REQUIRE(fd_is_closed(got));
	ATF_REQUIRE_EQ(r.nrfds, 0);

	/* Queued and not written. */
	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, q[1], NULL, 0) == 0);
	imsgbuf_clear(&w);
	ATF_REQUIRE(fd_is_closed(q[1]));
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);

	/* Not the socket itself. */
	ATF_REQUIRE(!fd_is_closed(sv[0]));
	ATF_REQUIRE(!fd_is_closed(sv[1]));
	close(p[0]);
	close(q[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(imsg_free_closes_an_fd_that_was_not_taken);
ATF_TC_BODY(imsg_free_closes_an_fd_that_was_not_taken, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	int		 sv[2], p[2], fd;

	make_pair(sv, 1);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_PIPE, 0, 0, p[1], NULL, 0) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	fd = imsg.fd;
	ATF_REQUIRE(fd != -1 && !fd_is_closed(fd));
	imsg_free(&imsg);
	ATF_REQUIRE(fd_is_closed(fd));
	ATF_REQUIRE_EQ(imsg.fd, -1);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(a_full_read_buffer_says_enobufs_until_imsg_get);
ATF_TC_BODY(a_full_read_buffer_says_enobufs_until_imsg_get, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*buf;
	ssize_t		 n;
	int		 sv[2], i;

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE((buf = calloc(1, IMSG_MAX_PAYLOAD)) != NULL);
	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf,
	    IMSG_MAX_PAYLOAD) == 0);
	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 1, 0, -1, buf, 10) == 0);

	for (i = 0; i < PUMP_MAX_ROUNDS; i++) {
		ATF_REQUIRE(imsgbuf_write(&w) == 0);
		n = imsgbuf_read(&r);
		if (n == -1 && errno == ENOBUFS)
			break;
		ATF_REQUIRE(n > 0 || (n == -1 && errno == EAGAIN));
	}
	ATF_REQUIRE(i < PUMP_MAX_ROUNDS);
	ATF_REQUIRE_EQ(r.rlen, IMSG_HEADER_SIZE + IMSG_MAX_PAYLOAD);

	ATF_REQUIRE_EQ(imsg_get(&r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_len(&imsg), IMSG_MAX_PAYLOAD);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	ATF_REQUIRE_EQ(imsg_get_peerid(&imsg), 1);
	imsg_free(&imsg);
	free(buf);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(an_idle_pipe_gives_back_the_memory_of_a_big_message);
ATF_TC_BODY(an_idle_pipe_gives_back_the_memory_of_a_big_message, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*buf;
	size_t		 small;
	int		 sv[2];

	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&r, sv[1]) == 0);
	ATF_REQUIRE(r.rsize == 0);
	ATF_REQUIRE((buf = calloc(1, IMSG_MAX_PAYLOAD)) != NULL);

	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, 10) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	imsg_free(&imsg);
	small = r.rsize;
	ATF_REQUIRE(small > 0 && small < IMSG_MAX_PAYLOAD);

	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf,
	    IMSG_MAX_PAYLOAD) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE(r.rsize > IMSG_MAX_PAYLOAD);

	ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf, 10) == 0);
	ATF_REQUIRE_EQ(pump(&w, &r, &imsg), 1);
	imsg_free(&imsg);
	ATF_REQUIRE_EQ(r.rsize, small);
	free(buf);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(writing_to_a_closed_pipe_says_epipe_without_a_signal);
ATF_TC_BODY(writing_to_a_closed_pipe_says_epipe_without_a_signal, tc)
{
	struct imsgbuf	 w;
	int		 sv[2];

	/* SIGPIPE would kill the test program. */
	make_pair(sv, 1);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	close(sv[1]);
	ATF_REQUIRE(imsg_compose(&w, IMSG_READY, 0, 0, -1, NULL, 0) == 0);
	ATF_REQUIRE_ERRNO(EPIPE, imsgbuf_write(&w) == -1);
	ATF_REQUIRE_ERRNO(EPIPE, imsgbuf_flush(&w) == -1);
	imsgbuf_clear(&w);
	close(sv[0]);
}

ATF_TC_WITHOUT_HEAD(imsgbuf_flush_waits_until_everything_is_written);
ATF_TC_BODY(imsgbuf_flush_waits_until_everything_is_written, tc)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	*buf;
	pid_t		 pid;
	int		 sv[2], i, status, got;

	make_pair(sv, 1);
	ATF_REQUIRE((buf = malloc(IMSG_MAX_PAYLOAD)) != NULL);
	fill(buf, IMSG_MAX_PAYLOAD, 1);

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		/* The reader: blocking, slow to start. */
		close(sv[0]);
		if (fcntl(sv[1], F_SETFL, 0) == -1)
			_exit(2);
		if (imsgbuf_init(&r, sv[1]) == -1)
			_exit(2);
		usleep(100000);
		for (i = 0; i < FLUSH_MSGS; ) {
			if ((got = imsg_get(&r, &imsg)) == -1)
				_exit(3);
			if (got == 1) {
				if (imsg_get_len(&imsg) != IMSG_MAX_PAYLOAD ||
				    memcmp(imsg.data, buf,
				    IMSG_MAX_PAYLOAD) != 0)
					_exit(4);
				imsg_free(&imsg);
				i++;
				continue;
			}
			if (imsgbuf_read(&r) <= 0)
				_exit(5);
		}
		_exit(0);
	}
	close(sv[1]);
	ATF_REQUIRE(imsgbuf_init(&w, sv[0]) == 0);
	for (i = 0; i < FLUSH_MSGS; i++)
		ATF_REQUIRE(imsg_compose(&w, IMSG_LOG, 0, 0, -1, buf,
		    IMSG_MAX_PAYLOAD) == 0);
	ATF_REQUIRE(imsgbuf_flush(&w) == 0);
	ATF_REQUIRE_EQ(imsgbuf_queuelen(&w), 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_REQUIRE_EQ(WEXITSTATUS(status), 0);
	free(buf);
	imsgbuf_clear(&w);
	close(sv[0]);
}

ATF_TC_WITHOUT_HEAD(a_negative_fd_is_refused_at_init);
ATF_TC_BODY(a_negative_fd_is_refused_at_init, tc)
{
	struct imsgbuf	ibuf;

	ATF_REQUIRE_ERRNO(EBADF, imsgbuf_init(&ibuf, -1) == -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, messages_of_several_types_and_sizes_round_trip);
	ATF_TP_ADD_TC(tp, composev_joins_its_pieces);
	ATF_TP_ADD_TC(tp, a_message_fed_one_byte_at_a_time_waits_until_whole);
	ATF_TP_ADD_TC(tp, several_messages_arrive_in_one_read);
	ATF_TP_ADD_TC(tp, a_length_over_the_maximum_is_a_bad_message);
	ATF_TP_ADD_TC(tp, a_length_under_the_header_size_is_a_bad_message);
	ATF_TP_ADD_TC(tp, a_stream_cut_after_a_header_ends_without_a_message);
	ATF_TP_ADD_TC(tp,
	    a_full_queue_says_enobufs_and_the_caller_keeps_the_fd);
	ATF_TP_ADD_TC(tp, an_oversize_payload_says_emsgsize);
	ATF_TP_ADD_TC(tp, a_passed_fd_works_and_is_close_on_exec);
	ATF_TP_ADD_TC(tp,
	    an_fd_with_a_message_larger_than_the_socket_buffer_arrives);
	ATF_TP_ADD_TC(tp,
	    several_fds_in_a_row_with_plain_messages_between_them);
	ATF_TP_ADD_TC(tp,
	    a_message_marked_with_an_fd_that_did_not_come_is_bad);
	ATF_TP_ADD_TC(tp,
	    a_marked_message_may_not_take_an_fd_that_came_later);
	ATF_TP_ADD_TC(tp, an_fd_that_came_before_its_marked_message_is_bad);
	ATF_TP_ADD_TC(tp, an_fd_sent_with_an_unmarked_message_is_bad);
	ATF_TP_ADD_TC(tp, an_fd_sent_with_no_bytes_of_a_message_is_bad);
	ATF_TP_ADD_TC(tp, more_fds_than_the_maximum_is_a_bad_stream);
	ATF_TP_ADD_TC(tp, a_truncated_control_message_is_bad_and_leaks_no_fd);
	ATF_TP_ADD_TC(tp, two_fds_in_one_control_message_are_bad);
	ATF_TP_ADD_TC(tp, imsg_get_data_of_the_wrong_size_is_a_bad_message);
	ATF_TP_ADD_TC(tp, imsgbuf_clear_closes_the_fds_of_both_queues);
	ATF_TP_ADD_TC(tp, imsg_free_closes_an_fd_that_was_not_taken);
	ATF_TP_ADD_TC(tp, a_full_read_buffer_says_enobufs_until_imsg_get);
	ATF_TP_ADD_TC(tp,
	    an_idle_pipe_gives_back_the_memory_of_a_big_message);
	ATF_TP_ADD_TC(tp,
	    writing_to_a_closed_pipe_says_epipe_without_a_signal);
	ATF_TP_ADD_TC(tp, imsgbuf_flush_waits_until_everything_is_written);
	ATF_TP_ADD_TC(tp, a_negative_fd_is_refused_at_init);
	return (atf_no_error());
}
