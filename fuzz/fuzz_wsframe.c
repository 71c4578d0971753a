/*
 * libFuzzer harness for the frame reader as netd runs it: a libwslay
 * server context configured as netd/ws.c configures one (max message
 * length, no RSV bits, buffering on), fed the input through in-memory
 * recv and send callbacks, with netd's reactions: binary messages are
 * read whole, a text message queues close 1003, a frame-layer refusal
 * shuts reading.  The first input byte sets how many bytes each recv
 * callback hands over (0: all), so frames split across reads.  Aborts
 * on a message over the limit or a close code outside RFC 6455.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#define FUZZ_MAX_MESSAGE	4096
#define FUZZ_ROUNDS_MAX		4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_io {
	const uint8_t	*in;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;
	size_t		 sent;
	unsigned int	 sum;
};

static ssize_t
fuzz_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *arg)
{
	struct fuzz_io	*io = arg;
	size_t		 n = io->len - io->off;

	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return (-1);
	}
	if (io->chunk != 0 && n > io->chunk)
		n = io->chunk;
	if (n > len)
		n = len;
	memcpy(buf, io->in + io->off, n);
	io->off += n;
	return ((ssize_t)n);
}

static ssize_t
fuzz_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct fuzz_io	*io = arg;

	io->sent += len;
	return ((ssize_t)len);
}

static void
fuzz_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct fuzz_io	*io = arg;
	size_t		 i;

	switch (m->opcode) {
	case WSLAY_BINARY_FRAME:
		if (m->msg_length > FUZZ_MAX_MESSAGE)
			abort();
		for (i = 0; i < m->msg_length; i++)
			io->sum += m->msg[i];
		break;
	case WSLAY_TEXT_FRAME:
		wslay_event_queue_close(ctx, 1003, NULL, 0);
		break;
	case WSLAY_CONNECTION_CLOSE:
		if (m->status_code != 0 && (m->status_code < 1000 ||
		    m->status_code > 4999))
			abort();
		break;
	default:
		if (m->msg_length > 125)
			abort();	/* a control frame */
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wslay_event_callbacks	 cb = {
		.recv_callback = fuzz_recv,
		.send_callback = fuzz_send,
		.on_msg_recv_callback = fuzz_msg,
	};
	struct fuzz_io			 io;
	wslay_event_context_ptr		 ctx;
	int				 r, rounds = 0;

	if (size < 1)
		return (0);
	memset(&io, 0, sizeof(io));
	io.chunk = data[0];
	io.in = data + 1;
	io.len = size - 1;
	if (wslay_event_context_server_init(&ctx, &cb, &io) != 0)
		return (0);
	wslay_event_config_set_max_recv_msg_length(ctx, FUZZ_MAX_MESSAGE);
	wslay_event_config_set_allowed_rsv_bits(ctx, WSLAY_RSV_NONE);
	while (io.off < io.len && wslay_event_get_read_enabled(ctx) &&
	    rounds++ < FUZZ_ROUNDS_MAX) {
		r = wslay_event_recv(ctx);
		if (r == WSLAY_ERR_CALLBACK_FAILURE)
			wslay_event_shutdown_read(ctx);
		else if (r != 0)
			break;
		if (wslay_event_send(ctx) != 0)
			break;
	}
	wslay_event_send(ctx);
	wslay_event_context_free(ctx);
	return (0);
}
