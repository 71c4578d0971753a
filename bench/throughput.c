/*
 * bench/throughput: signed 256-byte messages per second through a
 * session, as ratios of raw ChaCha20-Poly1305 and Ed25519 speed
 * measured in the same run.
 *
 * A message here is what minerd sends: a JSON body of exactly 256
 * bytes (a ping padded to size, built by msg_build), signed over
 * "lethd message v1" || BLAKE2b-512(body); the record carries
 * sig(64) || body.  The receiver runs minerd's pipeline: msg_verify
 * (signature over the raw bytes, then JSON, from, to, ts) and the
 * replay cache.
 *
 *   1. raw primitives, one core: AEAD seal + open of 256 bytes, Ed25519
 *      sign and verify of label || hash;
 *   2. in one process, no I/O: session_seal + session_open of 256-byte
 *      records (the session layer alone), and the whole signed pipeline
 *      (build, hash, sign, seal, open, verify, replay check);
 *   3. two real netd on loopback (a real keyd each), this program
 *      playing both minerds with up to THR_WINDOW messages in flight:
 *      a. 256-byte records, IMSG_NET_SEND -> IMSG_NET_RECV, unsigned:
 *         the session layer through the daemons;
 *      b. signed by the sender's real keyd (IMSG_KEY_SIGN on its
 *         minerd pipe, as minerd does), verified here;
 *      c. signed in this process with a key of its own (keyd played
 *         in process), verified here with that key.
 *
 *   throughput [-s seconds]
 */

#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "wire.h"
#include "msg.h"
#include "rig.h"

#define THR_BODY	256		/* bytes of one message body */
#define THR_SECS_DEFAULT 4		/* per real-node mode */
#define THR_PRIM_SECS	0.5
#define THR_WINDOW	256		/* messages in flight */
/* Ids the receiver remembers: more than any run sends, so that the
 * cache never refuses (minerd's default is REPLAY_CACHE_DEFAULT). */
#define THR_REPLAY_MAX	(1U << 22)
#define THR_REC_AD	9		/* a record's AD: type, counter */

enum mode {
	MODE_SESSION = 0,	/* unsigned records */
	MODE_KEYD,		/* signed by the sender's keyd */
	MODE_INPROC		/* signed here */
};

static struct rig_node		*node_a, *node_b;
static enum mode		 mode;
static unsigned long		 produced, received, bad;
static char			 id_a[NODE_ID_LEN + 1], id_b[NODE_ID_LEN + 1];
static char			 id_me[NODE_ID_LEN + 1];
static uint8_t			 me_pk[32], me_sk[64];
static struct replay_cache	*replay;
static long long		 start_ms;
static uint8_t			*slots[THR_WINDOW];
static size_t			 slot_len[THR_WINDOW];
static size_t			 pad_len;
static int			 up_a, up_b;

/* primitives' inputs */
static uint8_t	 key[32], nonce[12], ad[THR_REC_AD];
static uint8_t	 pt[THR_BODY], ct[THR_BODY + 16];
static uint8_t	 ed_pk[32], ed_sk[64], ed_sig[64];
static uint8_t	 ed_msg[sizeof(KEY_LABEL_MESSAGE_STR) - 1 + 64];
static struct session	 s_tx, s_rx;
static uint8_t	 rec[THR_BODY + MSG_SIG_LEN + WIRE_REC_OVERHEAD];
static uint8_t	 opened[sizeof(rec)];

static long long
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
p_aead(void *arg)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, pt, sizeof(pt),
	    ad, sizeof(ad), NULL, nonce, key);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct,
	    sizeof(ct), ad, sizeof(ad), nonce, key) != 0)
		errx(1, "aead");
}

static void
p_sign(void *arg)
{
	crypto_sign_detached(ed_sig, NULL, ed_msg, sizeof(ed_msg), ed_sk);
}

static void
p_verify(void *arg)
{
	if (crypto_sign_verify_detached(ed_sig, ed_msg, sizeof(ed_msg),
	    ed_pk) != 0)
		errx(1, "verify");
}

static void
p_session(void *arg)
{
	size_t		 len = 0, rl = 0, olen = 0;
	const char	*why = NULL;

	if (session_seal(&s_tx, pt, sizeof(pt), rec, &len, NULL, &rl) == -1 ||
	    session_open(&s_rx, rec, len, opened, &olen, &why) != 1 ||
	    olen != sizeof(pt))
		errx(1, "session: %s", why != NULL ? why : "seal");
}

/* A 256-byte body from `from' to `to' (a ping padded to size). */
static uint8_t *
body_new(const char *from, const char *to, size_t *lenp)
{
	char		 id[MSG_UUID_LEN + 1], pad[THR_BODY];
	json_t		*p;
	long long	 now = wall_ms();
	uint8_t		*b;

	memset(pad, 'x', pad_len);
	pad[pad_len] = '\0';
	if ((p = json_pack("{s:I, s:s}", "sentAt", (json_int_t)now, "pad",
	    pad)) == NULL)
		errx(1, "json_pack");
	if ((b = msg_build(MSG_PING, from, to, now, NULL, p, id,
	    lenp)) == NULL)
		errx(1, "msg_build");
	return (b);
}

/* What the sender's keyd would do. */
static void
sign_body(const uint8_t *body, size_t len, const uint8_t *sk,
    uint8_t sig[MSG_SIG_LEN])
{
	uint8_t	 m[sizeof(KEY_LABEL_MESSAGE_STR) - 1 + MSG_HASH_LEN];

	memcpy(m, KEY_LABEL_MESSAGE_STR, sizeof(KEY_LABEL_MESSAGE_STR) - 1);
	msg_hash(body, len, m + sizeof(KEY_LABEL_MESSAGE_STR) - 1);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
}

/* minerd's receiving pipeline: verify, then the replay cache. */
static void
receive(const uint8_t *raw, size_t len, const uint8_t *pk)
{
	struct msg		 m;
	struct msg_verdict	 v;
	long long		 now = wall_ms();

	if (msg_verify(raw, len, pk, id_b, now, start_ms - 1000,
	    MSG_TS_WINDOW_DEFAULT, &m, &v) == -1) {
		if (bad++ == 0)
			warnx("message refused: %s", v.why);
		return;
	}
	if (replay_check(replay, m.id, m.ts, now -
	    MSG_TS_WINDOW_DEFAULT * 1000LL) != 0 && bad++ == 0)
		warnx("replay cache refused a message");
	msg_free(&m);
}

static void
p_pipeline(void *arg)
{
	uint8_t		 signed_msg[MSG_SIG_LEN + THR_BODY];
	uint8_t		*b;
	size_t		 len, rlen = 0, rl = 0, olen = 0;
	const char	*why = NULL;

	b = body_new(id_me, id_b, &len);
	sign_body(b, len, me_sk, signed_msg);
	memcpy(signed_msg + MSG_SIG_LEN, b, len);
	free(b);
	if (session_seal(&s_tx, signed_msg, MSG_SIG_LEN + len, rec, &rlen,
	    NULL, &rl) == -1 ||
	    session_open(&s_rx, rec, rlen, opened, &olen, &why) != 1)
		errx(1, "session: %s", why != NULL ? why : "seal");
	receive(opened, olen, me_pk);
}

/* Queue IMSG_NET_SEND of data to node b on a's minerd pipe. */
static void
net_send(const uint8_t *sig, const uint8_t *data, size_t len)
{
	struct net_msg	 nm;
	uint8_t		 buf[sizeof(nm) + MSG_SIG_LEN + THR_BODY];
	size_t		 off = sizeof(nm);

	memset(&nm, 0, sizeof(nm));
	memcpy(nm.pk, node_b->pk, sizeof(nm.pk));
	nm.len = (sig != NULL ? MSG_SIG_LEN : 0) + len;
	memcpy(buf, &nm, sizeof(nm));
	if (sig != NULL) {
		memcpy(buf + off, sig, MSG_SIG_LEN);
		off += MSG_SIG_LEN;
	}
	memcpy(buf + off, data, len);
	if (rig_queue(&node_a->minerd, IMSG_NET_SEND, buf, off + len) == -1)
		err(1, "queue IMSG_NET_SEND");
}

static void
produce(void)
{
	struct key_sign_req	 req;
	uint8_t			 sig[MSG_SIG_LEN];
	uint8_t			*b;
	size_t			 len;
	unsigned int		 slot = produced % THR_WINDOW;

	switch (mode) {
	case MODE_SESSION:
		net_send(NULL, pt, sizeof(pt));
		break;
	case MODE_KEYD:
		b = body_new(id_a, id_b, &len);
		memset(&req, 0, sizeof(req));
		req.request = produced;
		req.label = KEY_LABEL_MESSAGE;
		msg_hash(b, len, req.hash);
		slots[slot] = b;
		slot_len[slot] = len;
		if (rig_queue(&node_a->kminerd, IMSG_KEY_SIGN, &req,
		    sizeof(req)) == -1)
			err(1, "queue IMSG_KEY_SIGN");
		break;
	case MODE_INPROC:
		b = body_new(id_me, id_b, &len);
		sign_body(b, len, me_sk, sig);
		net_send(sig, b, len);
		free(b);
		break;
	}
	produced++;
}

static void
on_msg(struct rig_node *n, int from_keyd, struct imsg *imsg)
{
	struct key_sign_rep	 rep;
	struct net_msg		 nm;
	uint32_t		 type = imsg_get_type(imsg);
	unsigned int		 slot;

	if (n == node_a && from_keyd && type == IMSG_KEY_SIGNATURE) {
		if (imsg_get_data(imsg, &rep, sizeof(rep)) == -1 ||
		    rep.status != KEYSIGN_OK)
			errx(1, "keyd did not sign");
		slot = rep.request % THR_WINDOW;
		if (slots[slot] == NULL)
			errx(1, "signature for nothing");
		net_send(rep.sig, slots[slot], slot_len[slot]);
		free(slots[slot]);
		slots[slot] = NULL;
		return;
	}
	if (from_keyd)
		return;
	if (type == IMSG_NET_UP) {
		if (n == node_a)
			up_a = 1;
		else
			up_b = 1;
		return;
	}
	if (type == IMSG_NET_DOWN)
		errx(1, "node %d: the session went down", n->idx);
	if (n != node_b || type != IMSG_NET_RECV)
		return;
	if (imsg_get_len(imsg) < sizeof(nm))
		errx(1, "short IMSG_NET_RECV");
	memcpy(&nm, imsg->data, sizeof(nm));
	if (nm.len != imsg_get_len(imsg) - sizeof(nm) ||
	    memcmp(nm.pk, node_a->pk, sizeof(nm.pk)) != 0)
		errx(1, "bad IMSG_NET_RECV");
	if (mode == MODE_KEYD)
		receive((uint8_t *)imsg->data + sizeof(nm), nm.len, nm.pk);
	else if (mode == MODE_INPROC)
		receive((uint8_t *)imsg->data + sizeof(nm), nm.len, me_pk);
	else if (nm.len != THR_BODY)
		errx(1, "IMSG_NET_RECV of %u bytes", nm.len);
	received++;
}

static void
tweak(struct child_init *ci)
{
	ci->net_msg_rate = 100000000;	/* never the limit here */
}

static void
run_mode(enum mode m, const char *name, double secs, double r_verify,
    double r_aead)
{
	double		 t0, end, c0[4], c1[4], wall, rate;
	pid_t		 pids[3] = { node_a->netd_pid, node_b->netd_pid,
			    node_a->keyd_pid };
	int		 i;

	/* the machine's speed may have changed: the baselines again */
	r_aead = rig_rate(p_aead, NULL, THR_PRIM_SECS / 2);
	r_verify = rig_rate(p_verify, NULL, THR_PRIM_SECS / 2);
	mode = m;
	produced = received = bad = 0;
	for (i = 0; i < 3; i++)
		c0[i] = rig_cpu(pids[i]);
	c0[3] = rig_self_cpu();
	t0 = rig_now();
	end = t0 + secs;
	while (rig_now() < end) {
		while (produced - received < THR_WINDOW)
			produce();
		rig_pump(10);
	}
	/* what is in flight still counts in the time it takes */
	while (received < produced && rig_now() < end + RIG_WAIT_MS / 1000.0)
		rig_pump(10);
	if (received < produced)
		errx(1, "%lu messages lost", produced - received);
	wall = rig_now() - t0;
	for (i = 0; i < 3; i++)
		c1[i] = rig_cpu(pids[i]) - c0[i];
	c1[3] = rig_self_cpu() - c0[3];
	rate = received / wall;
	printf("\n%s:\n", name);
	printf("  (measured again next to it: AEAD seal+open %.0f /s, Ed25519 "
	    "verify %.0f /s)\n", r_aead, r_verify);
	printf("  %lu messages in %.1f s: %.0f messages/s = %.2f x Ed25519 "
	    "verify, %.3f x AEAD seal+open\n", received, wall, rate,
	    rate / r_verify, rate / r_aead);
	printf("  CPU per message: netd A %.1f us, netd B %.1f us, keyd A "
	    "%.1f us, this program %.1f us; busy %.2f cores\n",
	    c1[0] / received * 1e6, c1[1] / received * 1e6,
	    c1[2] / received * 1e6, c1[3] / received * 1e6,
	    (c1[0] + c1[1] + c1[2] + c1[3]) / wall);
	if (bad > 0)
		printf("  %lu messages refused by the receiver\n", bad);
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: throughput [-s seconds]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct session_keys	 sk;
	const char		*errstr;
	double			 r_aead, r_sign, r_verify, r_sess, r_pipe;
	double			 secs = THR_SECS_DEFAULT;
	uint8_t			*b;
	size_t			 len;
	int			 ch;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			secs = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(1, "seconds %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	rig_init(on_msg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_ms = wall_ms();
	if ((replay = replay_new(THR_REPLAY_MAX)) == NULL)
		errx(1, "replay_new");

	/* 1. raw */
	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, sizeof(pt));
	randombytes_buf(ad, sizeof(ad));
	crypto_sign_keypair(ed_pk, ed_sk);
	randombytes_buf(ed_msg, sizeof(ed_msg));
	p_sign(NULL);
	r_aead = rig_rate(p_aead, NULL, THR_PRIM_SECS);
	r_sign = rig_rate(p_sign, NULL, THR_PRIM_SECS);
	r_verify = rig_rate(p_verify, NULL, THR_PRIM_SECS);
	printf("libsodium %s, %ld cores\n", sodium_version_string(),
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("\nraw primitives, one core:\n");
	printf("  ChaCha20-Poly1305 seal+open, %d bytes  %9.0f /s\n",
	    THR_BODY, r_aead);
	printf("  Ed25519 sign (label || hash)          %9.0f /s\n", r_sign);
	printf("  Ed25519 verify (label || hash)        %9.0f /s\n", r_verify);

	/* 2. in one process */
	randombytes_buf(sk.tx, sizeof(sk.tx));
	memcpy(sk.rx, sk.tx, sizeof(sk.rx));
	session_init(&s_tx, &sk);
	session_init(&s_rx, &sk);
	r_sess = rig_rate(p_session, NULL, 1.0);
	crypto_sign_keypair(me_pk, me_sk);
	(void)sodium_bin2hex(id_me, sizeof(id_me), me_pk, NODE_ID_LEN / 2);
	memset(id_b, 'b', NODE_ID_LEN);
	/* the pad that makes a body THR_BODY bytes */
	pad_len = 0;
	b = body_new(id_me, id_b, &len);
	free(b);
	if (len > THR_BODY)
		errx(1, "an empty ping is %zu bytes", len);
	pad_len = THR_BODY - len;
	b = body_new(id_me, id_b, &len);
	free(b);
	if (len != THR_BODY)
		errx(1, "body of %zu bytes", len);
	r_pipe = rig_rate(p_pipeline, NULL, 1.0);
	printf("\none process, no I/O:\n");
	printf("  session layer alone (session_seal + session_open, %d "
	    "bytes): %.0f messages/s = %.2f x AEAD seal+open\n", THR_BODY,
	    r_sess, r_sess / r_aead);
	printf("  whole signed pipeline (build, hash, sign, seal, open, "
	    "msg_verify, replay): %.0f messages/s = %.2f x Ed25519 verify\n",
	    r_pipe, r_pipe / r_verify);
	if (bad > 0)
		errx(1, "%lu messages refused in process", bad);

	/* 3. real nodes */
	node_a = rig_node_new(tweak, 0);
	node_b = rig_node_new(tweak, 0);
	(void)sodium_bin2hex(id_a, sizeof(id_a), node_a->pk, NODE_ID_LEN / 2);
	(void)sodium_bin2hex(id_b, sizeof(id_b), node_b->pk, NODE_ID_LEN / 2);
	rig_key_add(node_b, node_a->pk);
	rig_key_add(node_a, node_b->pk);
	/* the session: IMSG_NET_UP on both sides */
	rig_dial(node_a, node_b);
	{
		double	 end = rig_now() + RIG_WAIT_MS / 1000.0;

		while (!(up_a && up_b) && rig_now() < end)
			rig_pump(20);
		if (!(up_a && up_b))
			errx(1, "no session between the nodes");
	}
	run_mode(MODE_SESSION, "two real netd: 256-byte records, unsigned "
	    "(IMSG_NET_SEND -> IMSG_NET_RECV)", secs, r_verify, r_aead);
	run_mode(MODE_KEYD, "two real netd: signed by the sender's real keyd "
	    "(IMSG_KEY_SIGN), msg_verify + replay here", secs, r_verify,
	    r_aead);
	run_mode(MODE_INPROC, "two real netd: signed in this process, "
	    "msg_verify + replay here", secs, r_verify, r_aead);
	if (rig_warnings() > 0)
		printf("\n%u warning lines from the daemons (first ones on "
		    "stderr)\n", rig_warnings());
	rig_stop();
	return (0);
}
