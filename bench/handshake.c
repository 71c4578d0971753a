/*
 * bench/handshake: full wire handshakes per second, as ratios of the
 * crypto bound measured in the same run.
 *
 *   1. the bound: libsodium's primitives alone, timed one by one, summed
 *      as one whole handshake needs them (both sides: two X25519 key
 *      pairs, two DHs, two Ed25519 signatures and verifications, two
 *      AEAD seals and opens, ten transcript hashes, eight key
 *      derivations), on one core;
 *   2. the protocol code alone: common/wire.c, both sides in this
 *      process, crypto_sign_detached playing each keyd;
 *   3. real nodes on loopback: lethd-netd + lethd-keyd per node,
 *      started with pipes made here (we play the parent and minerd):
 *      IMSG_NET_DIAL, wait for IMSG_NET_UP on both sides,
 *      IMSG_NET_HANGUP, wait for IMSG_NET_DOWN on both, again; first
 *      one initiator (sequential), then several at once against one
 *      responder.  CPU per handshake on the responder is the
 *      utime + stime of its netd and keyd over the run.
 *
 *   handshake [-c initiators] [-s seconds]
 */

#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "wire.h"
#include "rig.h"

#define HB_SECS_DEFAULT		5	/* per real-node phase */
#define HB_PRIM_SECS		0.5	/* per primitive */
#define HB_CONC_DEFAULT		3	/* initiators at once */
#define HB_CONC_MAX		(RIG_NODES_MAX - 1)
/* Transcript bytes hashed, on average, by one of the five hashes of
 * each side (18 + 66 + 33 + ID, ... up to the whole transcript with a
 * 7-byte name: about 120, 160, 280, 320 and 440 bytes). */
#define HB_TH_AVG		264
#define HB_ID_PT		(32 + 1 + 1 + 7 + 64)	/* ID || sig */
#define HB_KDF_IN		(9 + 64)	/* label || hash */
#define HB_SIGNED		(28 + 64)	/* label || hash */

/* One initiator of the real-node phases, and its dance. */
struct dancer {
	struct rig_node	*node;
	int		 dialled;
	int		 up_i, up_r, down_i, down_r;
	int		 hung;
	double		 t_dial;
	double		 lat_sum;	/* dial to both UPs */
	double		 t_hang;
	double		 down_sum;	/* hangup to both DOWNs */
	unsigned long	 done;
	unsigned long	 failed;
};

static struct rig_node	*resp;
static struct dancer	 dancers[HB_CONC_MAX];
static int		 ndancers;

/* the primitives' inputs */
static uint8_t	 x_sk[32], x_pk[32], x_out[32];
static uint8_t	 ed_pk[32], ed_sk[64], ed_sig[64], ed_msg[HB_SIGNED];
static uint8_t	 ae_key[32], ae_nonce[12], ae_ad[64];
static uint8_t	 ae_pt[HB_ID_PT], ae_ct[HB_ID_PT + 16];
static uint8_t	 th[HB_TH_AVG], h64[64], k32[32], kdf_in[HB_KDF_IN];

static void
p_keygen(void *arg)
{
	randombytes_buf(x_sk, sizeof(x_sk));
	crypto_scalarmult_base(x_pk, x_sk);
}

static void
p_dh(void *arg)
{
	if (crypto_scalarmult(x_out, x_sk, x_pk) != 0)
		errx(1, "scalarmult");
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
p_seal(void *arg)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(ae_ct, NULL, ae_pt,
	    sizeof(ae_pt), ae_ad, sizeof(ae_ad), NULL, ae_nonce, ae_key);
}

static void
p_open(void *arg)
{
	if (crypto_aead_chacha20poly1305_ietf_decrypt(ae_pt, NULL, NULL,
	    ae_ct, sizeof(ae_ct), ae_ad, sizeof(ae_ad), ae_nonce,
	    ae_key) != 0)
		errx(1, "aead open");
}

static void
p_hash(void *arg)
{
	crypto_generichash_blake2b(h64, sizeof(h64), th, sizeof(th), NULL, 0);
}

static void
p_kdf(void *arg)
{
	crypto_generichash_blake2b(k32, sizeof(k32), kdf_in, sizeof(kdf_in),
	    ae_key, sizeof(ae_key));
}

/* Both sides of one handshake with common/wire.c, signing in process. */
static struct hs		 hs_i, hs_r;
static struct hs_identity	 id_i, id_r;
static uint8_t			 sk_i[64], sk_r[64];

static void
sign_as(const struct hs *hs, const uint8_t *sk, uint8_t sig[64])
{
	uint8_t		 msg[64 + WIRE_HASH_LEN], hash[WIRE_HASH_LEN];
	const char	*label;
	uint32_t	 lab;
	size_t		 l;

	if (hs_sign_request(hs, hash, &lab) == -1)
		errx(1, "nothing to sign");
	label = lab == KEY_LABEL_HANDSHAKE_INITIATOR ?
	    KEY_LABEL_HS_INITIATOR_STR : KEY_LABEL_HS_RESPONDER_STR;
	l = strlen(label);
	memcpy(msg, label, l);
	memcpy(msg + l, hash, sizeof(hash));
	crypto_sign_detached(sig, NULL, msg, l + sizeof(hash), sk);
}

static void
p_wire(void *arg)
{
	uint8_t			 b1[WIRE_HS1_LEN], b2[WIRE_HS2_MAX];
	uint8_t			 b3[WIRE_HS3_MAX], sig[64];
	struct session_keys	 ki, kr;
	size_t			 l1 = sizeof(b1), l2 = sizeof(b2);
	size_t			 l3 = sizeof(b3);
	const char		*why = NULL;

	hs_init(&hs_i, 1, &id_i);
	hs_init(&hs_r, 0, &id_r);
	if (hs_write1(&hs_i, b1, &l1, &why) == -1 ||
	    hs_read1(&hs_r, b1, l1, &why) == -1)
		errx(1, "hs1: %s", why);
	sign_as(&hs_r, sk_r, sig);
	if (hs_write2(&hs_r, sig, b2, &l2, &why) == -1 ||
	    hs_read2(&hs_i, b2, l2, &why) == -1)
		errx(1, "hs2: %s", why);
	sign_as(&hs_i, sk_i, sig);
	if (hs_write3(&hs_i, sig, b3, &l3, &why) == -1 ||
	    hs_read3(&hs_r, b3, l3, &why) == -1)
		errx(1, "hs3: %s", why);
	if (hs_session_keys(&hs_i, &ki) == -1 ||
	    hs_session_keys(&hs_r, &kr) == -1 ||
	    memcmp(ki.tx, kr.rx, sizeof(ki.tx)) != 0)
		errx(1, "session keys differ");
	hs_clear(&hs_i);
	hs_clear(&hs_r);
}

static struct dancer *
dancer_by_node(struct rig_node *n)
{
	int	 i;

	for (i = 0; i < ndancers; i++)
		if (dancers[i].node == n)
			return (&dancers[i]);
	return (NULL);
}

static struct dancer *
dancer_by_key(const uint8_t *pk)
{
	int	 i;

	for (i = 0; i < ndancers; i++)
		if (memcmp(dancers[i].node->pk, pk, 32) == 0)
			return (&dancers[i]);
	return (NULL);
}

static void
on_msg(struct rig_node *n, int from_keyd, struct imsg *imsg)
{
	struct dancer	*d;
	uint8_t		 pk[32];
	uint32_t	 type = imsg_get_type(imsg);
	int		 at_resp = (n == resp);

	if (from_keyd || (type != IMSG_NET_UP && type != IMSG_NET_DOWN))
		return;
	if (imsg_get_len(imsg) < sizeof(pk))
		errx(1, "short imsg %u", type);
	memcpy(pk, imsg->data, sizeof(pk));
	d = at_resp ? dancer_by_key(pk) : dancer_by_node(n);
	if (d == NULL)
		return;
	if (type == IMSG_NET_UP) {
		if (at_resp)
			d->up_r = 1;
		else
			d->up_i = 1;
		return;
	}
	if (at_resp) {
		if (d->up_r)
			d->down_r = 1;
		return;
	}
	d->down_i = 1;
	if (!d->up_i) {
		/* the dial failed: start over */
		d->failed++;
		d->dialled = 0;
		d->down_i = 0;
	}
}

/* One step of d's round, if one is due: 1 when it took one. */
static int
dance(struct dancer *d, int go_on)
{
	if (!d->dialled) {
		if (!go_on)
			return (0);
		d->up_i = d->up_r = d->down_i = d->down_r = d->hung = 0;
		d->t_dial = rig_now();
		d->dialled = 1;
		rig_dial(d->node, resp);
		return (1);
	}
	if (d->up_i && d->up_r && !d->hung) {
		d->lat_sum += rig_now() - d->t_dial;
		d->done++;
		d->hung = 1;
		d->t_hang = rig_now();
		rig_hangup(d->node, resp->pk);
		return (1);
	}
	if (d->hung && d->down_i && d->down_r) {
		d->down_sum += rig_now() - d->t_hang;
		d->dialled = 0;
		return (1);
	}
	return (0);
}

struct phase {
	double		 wall;
	unsigned long	 done;
	unsigned long	 failed;
	double		 lat;		/* mean dial to both UPs, s */
	double		 down;		/* mean hangup to both DOWNs */
	double		 cpu_rnetd;	/* responder */
	double		 cpu_rkeyd;
	double		 ticks_r;	/* the same from stat's ticks */
	double		 cpu_inet;	/* all initiators' netd + keyd */
	double		 cpu_self;	/* this process */
};

static void
run_phase(int k, double secs, struct phase *ph)
{
	double		 t0, end, rn0, rk0, in0, s0, tr0, lat = 0;
	double		 down = 0;
	int		 i, busy;

	ndancers = k;
	memset(ph, 0, sizeof(*ph));
	for (i = 0; i < k; i++) {
		struct rig_node *n = dancers[i].node;

		memset(&dancers[i], 0, sizeof(dancers[i]));
		dancers[i].node = n;
	}
	rn0 = rig_cpu(resp->netd_pid);
	rk0 = rig_cpu(resp->keyd_pid);
	tr0 = rig_cpu_ticks(resp->netd_pid) + rig_cpu_ticks(resp->keyd_pid);
	in0 = 0;
	for (i = 0; i < k; i++)
		in0 += rig_cpu(dancers[i].node->netd_pid) +
		    rig_cpu(dancers[i].node->keyd_pid);
	s0 = rig_self_cpu();
	t0 = rig_now();
	end = t0 + secs;
	for (;;) {
		int go_on = rig_now() < end;

		busy = 0;
		for (i = 0; i < k; i++) {
			/* a finished round dials again at once */
			while (dance(&dancers[i], go_on))
				;
			busy |= dancers[i].dialled;
		}
		if (!go_on && !busy)
			break;
		rig_pump(100);
	}
	ph->wall = rig_now() - t0;
	ph->cpu_rnetd = rig_cpu(resp->netd_pid) - rn0;
	ph->cpu_rkeyd = rig_cpu(resp->keyd_pid) - rk0;
	ph->ticks_r = rig_cpu_ticks(resp->netd_pid) +
	    rig_cpu_ticks(resp->keyd_pid) - tr0;
	for (i = 0; i < k; i++)
		ph->cpu_inet += rig_cpu(dancers[i].node->netd_pid) +
		    rig_cpu(dancers[i].node->keyd_pid);
	ph->cpu_inet -= in0;
	ph->cpu_self = rig_self_cpu() - s0;
	for (i = 0; i < k; i++) {
		ph->done += dancers[i].done;
		ph->failed += dancers[i].failed;
		lat += dancers[i].lat_sum;
		down += dancers[i].down_sum;
	}
	ph->lat = ph->done > 0 ? lat / ph->done : 0;
	ph->down = ph->done > 0 ? down / ph->done : 0;
}

static void
tweak(struct child_init *ci)
{
	/* the log lines of a session (info) still come to us, as they
	 * would go to the parent */
	ci->net_max_conn = 256;
	ci->net_max_handshakes = 256;
	ci->net_hs_per_addr = 256;
	ci->net_hs_per_subnet = 256;
}

static void
print_phase(const char *name, int k, const struct phase *ph, double bound,
    double resp_crypto)
{
	double	 rate = ph->done / ph->wall;
	double	 per_r = ph->done > 0 ?
		    (ph->cpu_rnetd + ph->cpu_rkeyd) / ph->done : 0;

	printf("\nreal nodes, %s (%d initiator%s -> 1 responder, %.1f s):\n",
	    name, k, k > 1 ? "s" : "", ph->wall);
	printf("  %lu handshakes (%lu failed dials): %.0f handshakes/s = "
	    "%.2f x the crypto bound\n", ph->done, ph->failed, rate,
	    rate / bound);
	printf("  mean dial -> IMSG_NET_UP on both sides: %.0f us\n",
	    ph->lat * 1e6);
	printf("  mean IMSG_NET_HANGUP -> IMSG_NET_DOWN on both sides: %.0f "
	    "us\n", ph->down * 1e6);
	if (ph->done == 0)
		return;
	printf("  responder CPU per handshake: %.0f us (netd %.0f + keyd "
	    "%.0f) = %.2f x its crypto share (%.0f us)\n", per_r * 1e6,
	    ph->cpu_rnetd / ph->done * 1e6, ph->cpu_rkeyd / ph->done * 1e6,
	    per_r / resp_crypto, resp_crypto * 1e6);
	printf("  (the same from /proc/PID/stat utime + stime, 10 ms "
	    "ticks: %.0f us)\n", ph->ticks_r / ph->done * 1e6);
	printf("  initiators' netd+keyd CPU per handshake: %.0f us; this "
	    "program (parent + minerd): %.0f us\n",
	    ph->cpu_inet / ph->done * 1e6, ph->cpu_self / ph->done * 1e6);
	printf("  CPU busy: %.2f of %ld cores\n", (ph->cpu_rnetd +
	    ph->cpu_rkeyd + ph->cpu_inet + ph->cpu_self) / ph->wall,
	    sysconf(_SC_NPROCESSORS_ONLN));
}

/* The bound in handshakes/s; *resp_share: the responder's seconds. */
static double
measure_bound(int verbose, double secs, double *resp_share)
{
	double	 r_keygen, r_dh, r_sign, r_verify, r_seal, r_open;
	double	 r_hash, r_kdf, per_hs, bound;

	r_keygen = rig_rate(p_keygen, NULL, secs);
	r_dh = rig_rate(p_dh, NULL, secs);
	r_sign = rig_rate(p_sign, NULL, secs);
	r_verify = rig_rate(p_verify, NULL, secs);
	r_seal = rig_rate(p_seal, NULL, secs);
	r_open = rig_rate(p_open, NULL, secs);
	r_hash = rig_rate(p_hash, NULL, secs);
	r_kdf = rig_rate(p_kdf, NULL, secs);
	*resp_share = 1 / r_keygen + 1 / r_dh + 1 / r_sign + 1 / r_verify +
	    1 / r_seal + 1 / r_open + 5 / r_hash + 4 / r_kdf;
	per_hs = 2 * *resp_share;
	bound = 1 / per_hs;
	if (!verbose) {
		printf("\ncrypto bound measured again: %.0f handshakes/s "
		    "(responder's share %.0f us)\n", bound,
		    *resp_share * 1e6);
		return (bound);
	}
	printf("\ncrypto bound (primitives alone, one core):\n");
	printf("  X25519 keygen      %9.0f /s  x2\n", r_keygen);
	printf("  X25519 DH          %9.0f /s  x2\n", r_dh);
	printf("  Ed25519 sign       %9.0f /s  x2  (%d bytes)\n", r_sign,
	    HB_SIGNED);
	printf("  Ed25519 verify     %9.0f /s  x2\n", r_verify);
	printf("  AEAD seal          %9.0f /s  x2  (%d bytes, 64 AD)\n",
	    r_seal, HB_ID_PT);
	printf("  AEAD open          %9.0f /s  x2\n", r_open);
	printf("  BLAKE2b-512        %9.0f /s  x10 (%d bytes)\n", r_hash,
	    HB_TH_AVG);
	printf("  BLAKE2b-256 keyed  %9.0f /s  x8  (%d bytes)\n", r_kdf,
	    HB_KDF_IN);
	printf("  one handshake, both sides: %.0f us -> bound %.0f "
	    "handshakes/s (responder's share %.0f us)\n", per_hs * 1e6,
	    bound, *resp_share * 1e6);
	return (bound);
}

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: handshake [-c initiators] [-s seconds]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct phase	 seq, conc;
	const char	*errstr;
	double		 resp_share, bound, r_wire;
	double		 secs = HB_SECS_DEFAULT;
	int		 ch, i, conc_n = HB_CONC_DEFAULT;

	while ((ch = getopt(argc, argv, "c:s:")) != -1) {
		switch (ch) {
		case 'c':
			conc_n = strtonum(optarg, 1, HB_CONC_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "initiators %s: %s", optarg, errstr);
			break;
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

	/* 1. the bound */
	crypto_sign_keypair(ed_pk, ed_sk);
	randombytes_buf(ed_msg, sizeof(ed_msg));
	randombytes_buf(ae_key, sizeof(ae_key));
	randombytes_buf(ae_pt, sizeof(ae_pt));
	randombytes_buf(th, sizeof(th));
	randombytes_buf(kdf_in, sizeof(kdf_in));
	p_sign(NULL);
	p_seal(NULL);
	printf("libsodium %s, %ld cores\n", sodium_version_string(),
	    sysconf(_SC_NPROCESSORS_ONLN));
	bound = measure_bound(1, HB_PRIM_SECS, &resp_share);

	/* 2. common/wire.c alone */
	crypto_sign_keypair(id_i.pk, sk_i);
	crypto_sign_keypair(id_r.pk, sk_r);
	id_i.role = ROLE_CONTROLLER;
	id_r.role = ROLE_WORKER;
	(void)strlcpy(id_i.name, "bench-1", sizeof(id_i.name));
	(void)strlcpy(id_r.name, "bench-0", sizeof(id_r.name));
	r_wire = rig_rate(p_wire, NULL, 2.0);
	printf("\nprotocol code alone (common/wire.c, both sides in one "
	    "process, signing in process):\n");
	printf("  %.0f handshakes/s = %.2f x the crypto bound\n", r_wire,
	    r_wire / bound);

	/* 3. real nodes */
	resp = rig_node_new(tweak, 0);
	for (i = 0; i < conc_n; i++) {
		dancers[i].node = rig_node_new(tweak, 0);
		rig_key_add(resp, dancers[i].node->pk);
	}
	/* the machine's speed may have changed: the bound again, next to
	 * each phase */
	bound = measure_bound(0, HB_PRIM_SECS / 2, &resp_share);
	run_phase(1, secs, &seq);
	print_phase("sequential", 1, &seq, bound, resp_share);
	bound = measure_bound(0, HB_PRIM_SECS / 2, &resp_share);
	run_phase(conc_n, secs, &conc);
	print_phase("concurrent", conc_n, &conc, bound, resp_share);
	if (rig_warnings() > 0)
		printf("\n%u warning lines from the daemons (first ones on "
		    "stderr)\n", rig_warnings());
	rig_stop();
	return (0);
}
