/*
 * bench/idlemem: memory per idle session in netd.
 *
 * One real node (lethd-netd + lethd-keyd, pipes made here, limits
 * raised as the parent would for this many connections).  This
 * program is N initiators at once: each has an Ed25519 key of its own,
 * registered with IMSG_NET_KEY_ADD, and opens a session the way a
 * peer's netd would: TCP, the WebSocket upgrade (netd/ws.c's parser
 * checks the answer), masked binary frames, the wire handshake with
 * common/wire.c, signing in process.  The sessions then stay idle.
 * netd's PSS (/proc/PID/smaps_rollup) is read idle, at N/2 and at N
 * sessions.
 *
 *   idlemem [-n sessions]
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "wire.h"
#include "ws.h"
#include "rig.h"

#define IM_N_DEFAULT	1000	/* sessions */
#define IM_N_MAX	10000
#define IM_IO_MS	5000	/* for one read of the handshake */
#define IM_SETTLE	0.5	/* seconds before a PSS reading */
#define IM_HDR_MAX	4096	/* the upgrade answer */
#define IM_FRAME_MAX	(WIRE_HS2_MAX + 16)

static struct rig_node	*node;
static unsigned int	 ups;
static struct hs	 hs;

static void
on_msg(struct rig_node *n, int from_keyd, struct imsg *imsg)
{
	if (!from_keyd && imsg_get_type(imsg) == IMSG_NET_UP)
		ups++;
	else if (!from_keyd && imsg_get_type(imsg) == IMSG_NET_DOWN)
		errx(1, "a session went down");
}

static void
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t	 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "write");
		}
		p += w;
		len -= w;
	}
}

/* Read up to len bytes, waiting at most IM_IO_MS; 0 on EOF. */
static size_t
read_some(int fd, uint8_t *p, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	ssize_t		 r;

	if (poll(&pfd, 1, IM_IO_MS) != 1)
		errx(1, "netd did not answer");
	if ((r = read(fd, p, len)) == -1)
		err(1, "read");
	return (r);
}

static void
read_all(int fd, uint8_t *p, size_t len)
{
	size_t	 r;

	while (len > 0) {
		if ((r = read_some(fd, p, len)) == 0)
			errx(1, "netd closed the connection");
		p += r;
		len -= r;
	}
}

/* One client frame: FIN, binary, masked. */
static void
frame_send(int fd, const uint8_t *p, size_t len)
{
	uint8_t	 buf[4 + 4 + IM_FRAME_MAX], *mask;
	size_t	 h, i;

	if (len > IM_FRAME_MAX)
		errx(1, "frame too long");
	buf[0] = 0x82;
	if (len < 126) {
		buf[1] = 0x80 | len;
		h = 2;
	} else {
		buf[1] = 0x80 | 126;
		buf[2] = len >> 8;
		buf[3] = len & 0xff;
		h = 4;
	}
	mask = buf + h;
	randombytes_buf(mask, 4);
	h += 4;
	for (i = 0; i < len; i++)
		buf[h + i] = p[i] ^ mask[i % 4];
	write_all(fd, buf, h + len);
}

/* One server frame (unmasked, binary, short); returns its length. */
static size_t
frame_recv(int fd, uint8_t *p, size_t max)
{
	uint8_t	 h[4];
	size_t	 len;

	read_all(fd, h, 2);
	if (h[0] != 0x82)
		errx(1, "netd sent frame %#x (not one binary frame)", h[0]);
	len = h[1] & 0x7f;
	if (h[1] & 0x80 || len == 127)
		errx(1, "unexpected frame from netd");
	if (len == 126) {
		read_all(fd, h + 2, 2);
		len = (h[2] << 8) | h[3];
	}
	if (len > max)
		errx(1, "frame of %zu bytes", len);
	read_all(fd, p, len);
	return (len);
}

static void
upgrade(int fd, uint16_t port)
{
	char		 req[512], key[WS_KEY_B64_LEN + 1];
	char		 expect[WS_ACCEPT_B64_LEN + 1], buf[IM_HDR_MAX];
	const char	*why = NULL;
	uint8_t		 raw[16];
	size_t		 have = 0, used = 0;
	int		 r, l;

	randombytes_buf(raw, sizeof(raw));
	(void)sodium_bin2base64(key, sizeof(key), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	ws_accept_value(key, expect);
	l = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", WS_PATH, port, key);
	write_all(fd, (uint8_t *)req, l);
	/* netd says nothing after its answer until we send HS1, so a
	 * byte-wise read never takes more than the header */
	for (;;) {
		if (have == sizeof(buf))
			errx(1, "upgrade answer too long");
		if (read_some(fd, (uint8_t *)buf + have, 1) == 0)
			errx(1, "netd closed during the upgrade");
		have++;
		r = ws_parse_response(buf, have, sizeof(buf), expect, &used,
		    &why);
		if (r == 1)
			break;
		if (r == -1)
			errx(1, "upgrade: %s", why);
	}
}

/* One session as a peer's netd would open it: the fd, kept open. */
static int
session(const struct hs_identity *id, const uint8_t *sk)
{
	struct sockaddr_in	 sin;
	uint8_t			 b[IM_FRAME_MAX], sig[64], hash[64];
	uint8_t			 m[64 + 64];
	const char		*why = NULL, *label;
	size_t			 len, ll;
	uint32_t		 lab;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(node->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect");
	upgrade(fd, node->port);

	hs_init(&hs, 1, id);
	len = sizeof(b);
	if (hs_write1(&hs, b, &len, &why) == -1)
		errx(1, "hs1: %s", why);
	frame_send(fd, b, len);
	len = frame_recv(fd, b, sizeof(b));
	if (hs_read2(&hs, b, len, &why) == -1)
		errx(1, "hs2: %s", why);
	if (memcmp(hs.peer.pk, node->pk, sizeof(node->pk)) != 0)
		errx(1, "netd presented another key");
	if (hs_sign_request(&hs, hash, &lab) == -1 ||
	    lab != KEY_LABEL_HANDSHAKE_INITIATOR)
		errx(1, "nothing to sign");
	label = KEY_LABEL_HS_INITIATOR_STR;
	ll = strlen(label);
	memcpy(m, label, ll);
	memcpy(m + ll, hash, sizeof(hash));
	crypto_sign_detached(sig, NULL, m, ll + sizeof(hash), sk);
	len = sizeof(b);
	if (hs_write3(&hs, sig, b, &len, &why) == -1)
		errx(1, "hs3: %s", why);
	frame_send(fd, b, len);
	hs_clear(&hs);
	return (fd);
}

static unsigned int	 n_sessions = IM_N_DEFAULT;

static void
tweak(struct child_init *ci)
{
	ci->net_max_conn = n_sessions + NET_FD_RESERVE;
	/* no WebSocket ping while we measure: an idle session here is
	 * one nobody talks on */
	ci->net_ping_interval = 3600;
	ci->net_session_lifetime = 3600;
}

static long
settled_pss(void)
{
	double	 end = rig_now() + IM_SETTLE;

	while (rig_now() < end)
		rig_pump(20);
	return (rig_pss_kib(node->netd_pid));
}

static void
open_until(unsigned int n, unsigned int *have, struct hs_identity *ids,
    uint8_t (*sks)[64], int *fds)
{
	double	 end;

	for (; *have < n; (*have)++) {
		fds[*have] = session(&ids[*have], sks[*have]);
		rig_pump(0);
	}
	end = rig_now() + RIG_WAIT_MS / 1000.0;
	while (ups < n && rig_now() < end)
		rig_pump(20);
	if (ups < n)
		errx(1, "%u sessions up of %u", ups, n);
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: idlemem [-n sessions]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct hs_identity	*ids;
	struct rlimit		 rl;
	uint8_t			(*sks)[64];
	const char		*errstr;
	long			 p0, p1, p2, rss;
	unsigned int		 i, have = 0, half;
	int			*fds, ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n_sessions = strtonum(optarg, 2, IM_N_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "sessions %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	rig_init(on_msg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* our own end of every session */
	rl.rlim_cur = rl.rlim_max = n_sessions + 2 * NET_FD_RESERVE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if ((ids = calloc(n_sessions, sizeof(*ids))) == NULL ||
	    (sks = calloc(n_sessions, sizeof(*sks))) == NULL ||
	    (fds = calloc(n_sessions, sizeof(*fds))) == NULL)
		err(1, "calloc");

	node = rig_node_new(tweak, n_sessions + 2 * NET_FD_RESERVE);
	for (i = 0; i < n_sessions; i++) {
		crypto_sign_keypair(ids[i].pk, sks[i]);
		ids[i].role = ROLE_CONTROLLER;
		(void)snprintf(ids[i].name, sizeof(ids[i].name), "peer-%u", i);
		rig_key_add(node, ids[i].pk);
	}
	p0 = settled_pss();
	half = n_sessions / 2;
	open_until(half, &have, ids, sks, fds);
	p1 = settled_pss();
	open_until(n_sessions, &have, ids, sks, fds);
	p2 = settled_pss();
	{
		char	 path[64], line[256];
		FILE	*f;

		rss = -1;
		(void)snprintf(path, sizeof(path), "/proc/%d/status",
		    (int)node->netd_pid);
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "VmRSS: %ld kB", &rss) == 1)
					break;
			fclose(f);
		}
	}

	printf("netd PSS, idle with %u keys registered: %ld KiB\n",
	    n_sessions, p0);
	printf("  with %u idle sessions: %ld KiB\n", half, p1);
	printf("  with %u idle sessions: %ld KiB (VmRSS %ld KiB)\n",
	    n_sessions, p2, rss);
	printf("per idle session: %.1f KiB (0 -> %u), %.1f KiB (%u -> %u); "
	    "= %.2f x the 32 KiB goal\n", (double)(p2 - p0) / n_sessions,
	    n_sessions, (double)(p2 - p1) / (n_sessions - half), half,
	    n_sessions, (double)(p2 - p0) / n_sessions / 32);
	for (i = 0; i < have; i++)
		close(fds[i]);
	if (rig_warnings() > 0)
		printf("%u warning lines from netd (first ones on stderr)\n",
		    rig_warnings());
	rig_stop();
	return (0);
}
