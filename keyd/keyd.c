/*
 * keyd: the only process that ever holds the node's long-term private
 * key.  Chrooted into the key directory under its own uid, not
 * dumpable, under a seccomp filter.  It tells netd and minerd the
 * public key, makes the key when minerd asks and none exists, and
 * signs what each of them may ask for: netd only handshake transcripts
 * (rate-limited), minerd only messages and bundle headers.  The seed
 * never leaves this process over a pipe.
 *
 * `lethd-keyd -R` is the offline replacement that `lethd -K` runs as
 * root; it shares only key.c with the daemon.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "lethd.h"
#include "imsg.h"
#include "log.h"
#include "proc.h"
#include "privsep.h"
#include "sandbox.h"
#include "keyd.h"

static struct child_init	 conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_netd;
static struct imsgev		 iev_minerd;

/* netd's signing rate: a token bucket of keyd_sign_rate a second. */
static struct {
	long long	last_ms;	/* monotonic */
	uint64_t	milli;		/* tokens, in thousandths */
	long long	logged;		/* second of the last line */
	unsigned int	refused;	/* since that line */
} sign_rate;

static int	keyd_replace_main(int, char *[]);
static void	keyd_dispatch_parent(int, short, void *);
static void	keyd_dispatch_netd(int, short, void *);
static void	keyd_dispatch_minerd(int, short, void *);
static void	keyd_pipe(uint32_t, int);
static void	keyd_generate(struct imsgev *, uint32_t);
static int	keyd_sign(struct imsgev *, struct imsg *);
static int	keyd_sign_rate_ok(void);
static int	keyd_send_public(struct imsgev *);
static int	keyd_compose(struct imsgev *, uint32_t, const void *, size_t);
static void	keyd_sibling_bad(struct imsgev *, const char *, uint32_t);

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: lethd-keyd (started by lethd)\n"
	    "       lethd-keyd -R -u uid -g gid keydir\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct imsg	 imsg;
	int		 r;

	if (argc > 1)
		exit(keyd_replace_main(argc, argv));
	log_init(1, LOG_DAEMON);
	log_procinit("keyd");
	privsep_nodump();

	/* what needs files or root: before chroot */
	tzset();
	if (sodium_init() == -1)
		fatalx("sodium_init");
	key_init();
	if ((ev_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);

	/* the first message from the parent says who we are */
	imsgev_init(&iev_parent, CHILD_PARENT_FD, PROC_PARENT,
	    keyd_dispatch_parent, NULL);
	if ((r = imsg_read_one(&iev_parent.ibuf, &imsg)) != 1)
		fatalx("no configuration from the parent");
	if (imsg_get_type(&imsg) != IMSG_INIT ||
	    imsg_get_data(&imsg, &conf, sizeof(conf)) == -1 ||
	    conf.version != CHILD_INIT_VERSION || conf.proc != PROC_KEYD ||
	    memchr(conf.root, '\0', sizeof(conf.root)) == NULL ||
	    memchr(conf.workdir, '\0', sizeof(conf.workdir)) == NULL)
		fatalx("bad configuration from the parent");
	imsg_free(&imsg);
	/* the key is reached by a relative path from the chroot's "/" */
	if (conf.root[0] != '/')
		fatalx("bad configuration from the parent: no key directory");

	/* the sink first: log_init would openlog(3) without one */
	proc_log_to_parent(&iev_parent);
	log_init(conf.debug, LOG_DAEMON);
	log_setverbose(conf.verbose);

	privsep_drop(conf.root, "", conf.uid, conf.gid, 1);
	if (sandbox_init(PROC_KEYD) == -1)
		fatal("sandbox");
	if (key_load())
		log_debug("node key loaded");
	else
		log_info("no node key yet: waiting for lethctl node init");

	iev_netd.open = iev_minerd.open = 0;
	imsgev_add(&iev_parent);
	if (imsgev_compose(&iev_parent, IMSG_READY, 0, 0, -1, NULL, 0) == -1)
		fatal("compose");
	log_debug("started");
	event_base_dispatch(ev_base);
	return (0);
}

/* lethd-keyd -R -u uid -g gid keydir: as root, nothing else running. */
static int
keyd_replace_main(int argc, char *argv[])
{
	const char	*errstr;
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 ch, Rflag = 0;

	while ((ch = getopt(argc, argv, "Rg:u:")) != -1) {
		switch (ch) {
		case 'R':
			Rflag = 1;
			break;
		case 'g':
			gid = strtonum(optarg, 1, UINT_MAX - 1, &errstr);
			if (errstr != NULL)
				errx(1, "gid %s: %s (keyd must not run "
				    "as root)", optarg, errstr);
			break;
		case 'u':
			uid = strtonum(optarg, 1, UINT_MAX - 1, &errstr);
			if (errstr != NULL)
				errx(1, "uid %s: %s (keyd must not run "
				    "as root)", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (!Rflag || uid == 0 || gid == 0 || argc != 1)
		usage();
	if (geteuid() != 0)
		errx(1, "need root privileges");

	log_init(1, LOG_DAEMON);
	log_procinit("keyd");
	privsep_nodump();
	umask(077);
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	return (key_replace(argv[0], uid, gid));
}

static void
keyd_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct imsg		 imsg;
	struct child_init	 ci;
	uint32_t		 proc;
	int			 r, pfd;

	if ((r = imsgev_handle(iev, event)) == -1)
		fatalx("parent pipe closed");
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1)
			fatalx("bad imsg stream from the parent");
		switch (imsg_get_type(&imsg)) {
		case IMSG_PIPE:
			if (imsg_get_data(&imsg, &proc, sizeof(proc)) == -1 ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_PIPE");
			keyd_pipe(proc, pfd);
			break;
		case IMSG_RECONF:
			if (imsg_get_data(&imsg, &ci, sizeof(ci)) == -1)
				fatalx("bad IMSG_RECONF");
			log_setverbose(ci.verbose);
			break;
		default:
			fatalx("unexpected imsg %u from the parent",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
}

/* A new pipe to a sibling: it learns the public key at once. */
static void
keyd_pipe(uint32_t proc, int fd)
{
	struct imsgev	*iev;

	switch (proc) {
	case PROC_NETD:
		iev = &iev_netd;
		imsgev_close(iev);
		imsgev_init(iev, fd, PROC_NETD, keyd_dispatch_netd, NULL);
		break;
	case PROC_MINERD:
		iev = &iev_minerd;
		imsgev_close(iev);
		imsgev_init(iev, fd, PROC_MINERD, keyd_dispatch_minerd, NULL);
		break;
	default:
		fatalx("IMSG_PIPE for %s", proc_name(proc));
	}
	log_debug("pipe to %s", proc_name(proc));
	(void)keyd_send_public(iev);
}

/*
 * netd may ask only for handshake signatures; anything else closes
 * the pipe.
 */
static void
keyd_dispatch_netd(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	int		 r;

	if ((r = imsgev_handle(iev, event)) == -1) {
		imsgev_close(iev);
		return;
	}
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1) {
			keyd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		if (imsg_get_type(&imsg) != IMSG_KEY_SIGN ||
		    keyd_sign(iev, &imsg) == -1) {
			keyd_sibling_bad(iev, "forbidden request",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
		/* a reply that did not fit closed the pipe */
		if (!iev->open)
			return;
	}
}

static void
keyd_dispatch_minerd(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	uint32_t	 request;
	int		 r;

	if ((r = imsgev_handle(iev, event)) == -1) {
		imsgev_close(iev);
		return;
	}
	while (r == 1 && (r = imsg_get(&iev->ibuf, &imsg)) != 0) {
		if (r == -1) {
			keyd_sibling_bad(iev, "bad imsg stream", 0);
			return;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_KEY_GENERATE:
			if (imsg_get_data(&imsg, &request,
			    sizeof(request)) == -1) {
				keyd_sibling_bad(iev, "bad size",
				    imsg_get_type(&imsg));
				imsg_free(&imsg);
				return;
			}
			keyd_generate(iev, request);
			break;
		case IMSG_KEY_SIGN:
			if (keyd_sign(iev, &imsg) == -1) {
				keyd_sibling_bad(iev, "forbidden request",
				    imsg_get_type(&imsg));
				imsg_free(&imsg);
				return;
			}
			break;
		default:
			keyd_sibling_bad(iev, "forbidden request",
			    imsg_get_type(&imsg));
			imsg_free(&imsg);
			return;
		}
		imsg_free(&imsg);
		/* a reply that did not fit closed the pipe */
		if (!iev->open)
			return;
	}
}

/* minerd asks for a key (lethctl node init). */
static void
keyd_generate(struct imsgev *iev, uint32_t request)
{
	struct key_generated	 kg;

	memset(&kg, 0, sizeof(kg));
	kg.request = request;
	if (key_have()) {
		kg.status = KEYGEN_EXISTS;
		key_public(kg.pk);
	} else if (key_generate() == -1) {
		log_warn("generate %s", LETHD_KEY_FILE);
		kg.status = KEYGEN_FAILED;
	} else {
		log_info("new node key in %s", LETHD_KEY_FILE);
		kg.status = KEYGEN_OK;
		key_public(kg.pk);
		(void)keyd_send_public(&iev_netd);
		(void)keyd_send_public(&iev_minerd);
	}
	(void)keyd_compose(iev, IMSG_KEY_GENERATED, &kg, sizeof(kg));
}

/*
 * Sign label || hash for the sibling on iev, if it may ask for that
 * label: -1 (the caller closes the pipe) when it may not, or the
 * request is malformed.  netd only ever gets handshake signatures, so
 * a compromised netd cannot have an application message signed.
 */
static int
keyd_sign(struct imsgev *iev, struct imsg *imsg)
{
	struct key_sign_req	 req;
	struct key_sign_rep	 rep;
	int			 ok;

	if (imsg_get_data(imsg, &req, sizeof(req)) == -1)
		return (-1);
	if (iev->proc == PROC_NETD)
		ok = req.label == KEY_LABEL_HANDSHAKE_INITIATOR ||
		    req.label == KEY_LABEL_HANDSHAKE_RESPONDER;
	else
		ok = req.label == KEY_LABEL_MESSAGE ||
		    req.label == KEY_LABEL_BUNDLE;
	if (!ok) {
		log_warnx("%s asked for a signature with label %u, which it "
		    "may not", proc_name(iev->proc), req.label);
		return (-1);
	}
	memset(&rep, 0, sizeof(rep));
	rep.request = req.request;
	if (!key_have())
		rep.status = KEYSIGN_NOKEY;
	else if (iev->proc == PROC_NETD && !keyd_sign_rate_ok())
		rep.status = KEYSIGN_RATE;
	else if (key_sign(rep.sig, req.label, req.hash) == -1) {
		log_warnx("cannot sign for %s", proc_name(iev->proc));
		rep.status = KEYSIGN_NOKEY;
	} else
		rep.status = KEYSIGN_OK;
	(void)keyd_compose(iev, IMSG_KEY_SIGNATURE, &rep, sizeof(rep));
	return (0);
}

/*
 * netd's handshake signatures: keyd_sign_rate a second (a burst of one
 * second's worth); over it, KEYSIGN_RATE and a log line at most once a
 * second.
 */
static int
keyd_sign_rate_ok(void)
{
	struct timespec	 ts;
	long long	 now, el;
	uint64_t	 cap = (uint64_t)conf.keyd_sign_rate * 1000;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (sign_rate.last_ms == 0) {
		sign_rate.milli = cap;
		sign_rate.last_ms = now;
	}
	el = now - sign_rate.last_ms;
	if (el > 0) {
		sign_rate.milli = el >= 1000 ? cap :
		    sign_rate.milli + (uint64_t)el * conf.keyd_sign_rate;
		if (sign_rate.milli > cap)
			sign_rate.milli = cap;
		sign_rate.last_ms = now;
	}
	if (sign_rate.milli >= 1000) {
		sign_rate.milli -= 1000;
		return (1);
	}
	sign_rate.refused++;
	if (now / 1000 != sign_rate.logged) {
		log_warnx("netd: over %u handshake signatures a second: "
		    "%u refused", conf.keyd_sign_rate, sign_rate.refused);
		sign_rate.logged = now / 1000;
		sign_rate.refused = 0;
	}
	return (0);
}

static int
keyd_send_public(struct imsgev *iev)
{
	struct key_public	 kp;

	if (!iev->open)
		return (-1);
	memset(&kp, 0, sizeof(kp));
	kp.has_key = key_have();
	key_public(kp.pk);
	return (keyd_compose(iev, IMSG_KEY_PUBLIC, &kp, sizeof(kp)));
}

/*
 * Queue a reply to a sibling.  When its queue is full the sibling is
 * not reading what it asked for: it stops being served (DESIGN).
 */
static int
keyd_compose(struct imsgev *iev, uint32_t type, const void *data,
    size_t len)
{
	if (!iev->open)
		return (-1);
	if (imsgev_compose(iev, type, 0, 0, -1, data, len) == -1) {
		if (errno == ENOBUFS)
			keyd_sibling_bad(iev, "does not read its replies",
			    type);
		else {
			log_warn("compose to %s", proc_name(iev->proc));
			imsgev_close(iev);
		}
		return (-1);
	}
	return (0);
}

/*
 * A sibling sent something it may not, or stopped reading: log, close
 * the pipe and ask the parent to restart it.  Never fatal here: a
 * compromised netd must not be able to crash-loop keyd.
 */
static void
keyd_sibling_bad(struct imsgev *iev, const char *why, uint32_t type)
{
	uint32_t	 proc = iev->proc;

	log_warnx("%s: %s (imsg %u): closing the pipe", proc_name(proc),
	    why, type);
	imsgev_close(iev);
	(void)imsgev_compose(&iev_parent, IMSG_RESTART_PEER, 0, 0, -1,
	    &proc, sizeof(proc));
}
