/*
 * The node key: loading, making, signing, and the offline replacement.
 *
 * The key file holds the 32-byte Ed25519 seed and nothing else.  In
 * memory the seed lives only in sodium_malloc'd (locked, guarded,
 * excluded from core dumps) buffers: key_seed while it is being read
 * or made, zeroed and inaccessible otherwise, and key_sk, libsodium's
 * secret key (seed || public key), read-only once a key is loaded.
 * Both are allocated at start, as root, so that the memory is locked
 * whatever RLIMIT_MEMLOCK the keyd user has and so that keyd shows
 * locked memory (VmLck) before a key exists too.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "keyd.h"

/* Replacements within one second get a numbered name; past this many
 * something is looping and the operator should look. */
#define KEY_OLD_TRIES	10

/* Longest label plus the hash: what key_sign puts together. */
#define KEY_SIGN_MSG_MAX	(64 + KEY_HASH_LEN)

_Static_assert(KEY_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(KEY_PUBLIC_LEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(KEY_SIG_LEN == crypto_sign_BYTES, "signature size");
_Static_assert(sizeof(((struct key_public *)0)->pk) == KEY_PUBLIC_LEN,
    "struct key_public");

/* DESIGN, Identity.  Changing one of these changes the protocol. */
static const char *const key_labels[KEY_LABEL_MAX] = {
	[KEY_LABEL_HANDSHAKE_INITIATOR] = "lethd handshake v1 initiator",
	[KEY_LABEL_HANDSHAKE_RESPONDER] = "lethd handshake v1 responder",
	[KEY_LABEL_MESSAGE] = "lethd message v1",
	[KEY_LABEL_BUNDLE] = "lethd bundle v1",
};

static unsigned char	*key_sk;	/* crypto_sign_SECRETKEYBYTES */
static unsigned char	*key_seed;	/* KEY_SEED_LEN, scratch */
static uint8_t		 key_pk[KEY_PUBLIC_LEN];
static int		 key_loaded;

static void	key_seed_open(void);
static void	key_seed_close(void);
static void	key_derive(void);
static int	key_read_seed(int, unsigned char *);
static int	key_replace_dir(int, const char *, uid_t, gid_t);
static int	key_keep_old(int, const char *, char *, size_t);

void
key_init(void)
{
	if ((key_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL ||
	    (key_seed = sodium_malloc(KEY_SEED_LEN)) == NULL)
		fatal("sodium_malloc");
	sodium_memzero(key_sk, crypto_sign_SECRETKEYBYTES);
	sodium_memzero(key_seed, KEY_SEED_LEN);
	if (sodium_mprotect_noaccess(key_sk) == -1 ||
	    sodium_mprotect_noaccess(key_seed) == -1)
		fatal("sodium_mprotect_noaccess");
}

static void
key_seed_open(void)
{
	if (sodium_mprotect_readwrite(key_seed) == -1)
		fatal("sodium_mprotect_readwrite");
}

/* The seed is in key_sk now (or was not wanted): wipe the scratch. */
static void
key_seed_close(void)
{
	sodium_memzero(key_seed, KEY_SEED_LEN);
	if (sodium_mprotect_noaccess(key_seed) == -1)
		fatal("sodium_mprotect_noaccess");
}

static void
key_derive(void)
{
	if (sodium_mprotect_readwrite(key_sk) == -1)
		fatal("sodium_mprotect_readwrite");
	if (crypto_sign_seed_keypair(key_pk, key_sk, key_seed) == -1)
		fatalx("crypto_sign_seed_keypair");
	if (sodium_mprotect_readonly(key_sk) == -1)
		fatal("sodium_mprotect_readonly");
	key_loaded = 1;
}

/* Exactly KEY_SEED_LEN bytes, straight into locked memory. */
static int
key_read_seed(int fd, unsigned char *seed)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < KEY_SEED_LEN) {
		n = read(fd, seed + off, KEY_SEED_LEN - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;	/* shrank under us */
			return (-1);
		}
		off += n;
	}
	return (0);
}

int
key_load(void)
{
	struct stat	 st;
	int		 fd;

	/* O_NONBLOCK: a FIFO planted here must not hang the open */
	fd = open(LETHD_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return (0);
		if (errno == ELOOP)
			fatalx("%s: a symbolic link, want a regular file",
			    LETHD_KEY_FILE);
		if (errno == EACCES && lstat(LETHD_KEY_FILE, &st) == 0)
			fatalx("%s: owner %u mode %04o, want owner %u mode "
			    "%04o", LETHD_KEY_FILE, (unsigned int)st.st_uid,
			    (unsigned int)(st.st_mode & 07777),
			    (unsigned int)getuid(), KEY_FILE_MODE);
		fatal("open %s", LETHD_KEY_FILE);
	}
	if (fstat(fd, &st) == -1)
		fatal("fstat %s", LETHD_KEY_FILE);
	if (!S_ISREG(st.st_mode))
		fatalx("%s: not a regular file", LETHD_KEY_FILE);
	if (st.st_uid != getuid())
		fatalx("%s: owned by uid %u, want %u", LETHD_KEY_FILE,
		    (unsigned int)st.st_uid, (unsigned int)getuid());
	if ((st.st_mode & 07777) != KEY_FILE_MODE)
		fatalx("%s: mode %04o, want %04o", LETHD_KEY_FILE,
		    (unsigned int)(st.st_mode & 07777), KEY_FILE_MODE);
	if (st.st_size != KEY_SEED_LEN)
		fatalx("%s: %lld bytes, want %d", LETHD_KEY_FILE,
		    (long long)st.st_size, KEY_SEED_LEN);

	key_seed_open();
	if (key_read_seed(fd, key_seed) == -1)
		fatal("read %s", LETHD_KEY_FILE);
	close(fd);
	key_derive();
	key_seed_close();
	return (1);
}

int
key_generate(void)
{
	struct stat	 st;
	int		 dfd, saved;

	if (key_loaded) {
		errno = EEXIST;
		return (-1);
	}
	dfd = open(LETHD_KEY_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd == -1)
		return (-1);
	/* Never replace a key file that someone put there since we
	 * started: that is the offline replacement's business. */
	if (fstatat(dfd, KEY_FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		log_warnx("%s appeared after keyd started: not replacing it;"
		    " restart keyd to use it", LETHD_KEY_FILE);
		close(dfd);
		errno = EEXIST;
		return (-1);
	}
	if (errno != ENOENT) {
		saved = errno;
		close(dfd);
		errno = saved;
		return (-1);
	}

	key_seed_open();
	randombytes_buf(key_seed, KEY_SEED_LEN);
	/*
	 * write_file_atomic can fail after its rename, when the final
	 * fsync of the directory fails: then the file is there and we
	 * say that generation failed.  Both ways out are consistent: a
	 * later request writes over the file, a restart loads it.
	 */
	if (write_file_atomic(dfd, KEY_FILE_NAME, key_seed, KEY_SEED_LEN,
	    KEY_FILE_MODE) == -1) {
		saved = errno;
		key_seed_close();
		close(dfd);
		errno = saved;
		return (-1);
	}
	close(dfd);
	key_derive();
	key_seed_close();
	return (0);
}

int
key_have(void)
{
	return (key_loaded);
}

void
key_public(uint8_t pk[KEY_PUBLIC_LEN])
{
	if (key_loaded)
		memcpy(pk, key_pk, KEY_PUBLIC_LEN);
	else
		memset(pk, 0, KEY_PUBLIC_LEN);
}

const char *
key_label_name(uint32_t label)
{
	if (label >= KEY_LABEL_MAX)
		return (NULL);
	return (key_labels[label]);
}

int
key_sign(uint8_t sig[KEY_SIG_LEN], uint32_t label,
    const uint8_t hash[KEY_HASH_LEN])
{
	unsigned char	 msg[KEY_SIGN_MSG_MAX];
	size_t		 llen;

	if (!key_loaded || label >= KEY_LABEL_MAX)
		return (-1);
	llen = strlen(key_labels[label]);
	if (llen > sizeof(msg) - KEY_HASH_LEN)
		fatalx("key label %u too long", label);
	memcpy(msg, key_labels[label], llen);
	memcpy(msg + llen, hash, KEY_HASH_LEN);
	if (crypto_sign_detached(sig, NULL, msg, llen + KEY_HASH_LEN,
	    key_sk) == -1)
		return (-1);
	return (0);
}

/*
 * Offline replacement (lethd -K, as root, no keyd running).  The new
 * key is made and written next to the old one, which first gets a
 * second name (a hard link, which never overwrites anything); then
 * the new file is renamed over node.key.  At every moment node.key is
 * a whole key, the old one or the new one.
 */
int
key_replace(const char *keydir, uid_t uid, gid_t gid)
{
	struct stat	 st;
	unsigned char	*seed = NULL, *sk = NULL;
	uint8_t		 pk[KEY_PUBLIC_LEN];
	char		 old[NAME_MAX + 1];
	char		 b64[sodium_base64_ENCODED_LEN(KEY_PUBLIC_LEN,
			    sodium_base64_VARIANT_ORIGINAL)];
	int		 kfd, dfd = -1, have_old = 0, rv = 1;

	kfd = open(keydir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (kfd == -1) {
		warn("%s", keydir);
		return (1);
	}
	if (fstat(kfd, &st) == -1) {
		warn("fstat %s", keydir);
		goto done;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		warnx("%s: must be owned by root and writable by root alone",
		    keydir);
		goto done;
	}
	if ((dfd = key_replace_dir(kfd, keydir, uid, gid)) == -1)
		goto done;

	if (fstatat(dfd, KEY_FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			warnx("%s/%s: not a regular file", keydir,
			    LETHD_KEY_FILE);
			goto done;
		}
		if (key_keep_old(dfd, keydir, old, sizeof(old)) == -1)
			goto done;
		have_old = 1;
	} else if (errno != ENOENT) {
		warn("%s/%s", keydir, LETHD_KEY_FILE);
		goto done;
	}

	if ((seed = sodium_malloc(KEY_SEED_LEN)) == NULL ||
	    (sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		warn("sodium_malloc");
		goto done;
	}
	randombytes_buf(seed, KEY_SEED_LEN);
	if (write_file_atomic_owner(dfd, KEY_FILE_NAME, seed, KEY_SEED_LEN,
	    KEY_FILE_MODE, uid, gid) == -1) {
		warn("write %s/%s", keydir, LETHD_KEY_FILE);
		if (have_old)
			warnx("old key also kept as %s/%s", LETHD_KEY_SUBDIR,
			    old);
		goto done;
	}
	if (crypto_sign_seed_keypair(pk, sk, seed) == -1) {
		warnx("crypto_sign_seed_keypair");
		goto done;
	}
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk),
	    sodium_base64_VARIANT_ORIGINAL);
	printf("new node key: %s\n", b64);
	if (have_old)
		printf("old key kept as %s/%s\n", LETHD_KEY_SUBDIR, old);
	if (fflush(stdout) == EOF) {
		warn("stdout");
		goto done;
	}
	rv = 0;
 done:
	sodium_free(seed);	/* zeroes it */
	sodium_free(sk);
	if (dfd != -1)
		close(dfd);
	close(kfd);
	return (rv);
}

/*
 * keydir/key: made 0700 for uid:gid when missing; when present it must
 * already be what the parent makes, since keyd would refuse it.
 */
static int
key_replace_dir(int kfd, const char *keydir, uid_t uid, gid_t gid)
{
	struct stat	 st;
	int		 dfd, made = 0;

	if (mkdirat(kfd, LETHD_KEY_SUBDIR, KEY_DIR_MODE) == 0)
		made = 1;
	else if (errno != EEXIST) {
		warn("mkdir %s/%s", keydir, LETHD_KEY_SUBDIR);
		return (-1);
	}
	dfd = openat(kfd, LETHD_KEY_SUBDIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		warn("%s/%s", keydir, LETHD_KEY_SUBDIR);
		return (-1);
	}
	if (made && (fchown(dfd, uid, gid) == -1 ||
	    fchmod(dfd, KEY_DIR_MODE) == -1 || fsync(kfd) == -1)) {
		warn("%s/%s", keydir, LETHD_KEY_SUBDIR);
		goto fail;
	}
	if (fstat(dfd, &st) == -1) {
		warn("fstat %s/%s", keydir, LETHD_KEY_SUBDIR);
		goto fail;
	}
	if (st.st_uid != uid || (st.st_mode & 07777) != KEY_DIR_MODE) {
		warnx("%s/%s: owner %u mode %04o, want owner %u mode %04o",
		    keydir, LETHD_KEY_SUBDIR, (unsigned int)st.st_uid,
		    (unsigned int)(st.st_mode & 07777), (unsigned int)uid,
		    KEY_DIR_MODE);
		goto fail;
	}
	return (dfd);
 fail:
	close(dfd);
	return (-1);
}

/* Give node.key a second name, node.key.old-<UTC time>[.N]. */
static int
key_keep_old(int dfd, const char *keydir, char *old, size_t oldlen)
{
	struct tm	 tm;
	time_t		 now;
	char		 stamp[32];
	int		 i, n;

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm) == 0) {
		warnx("cannot format the time");
		return (-1);
	}
	for (i = 0; i < KEY_OLD_TRIES; i++) {
		if (i == 0)
			n = snprintf(old, oldlen, "%s.old-%s", KEY_FILE_NAME,
			    stamp);
		else
			n = snprintf(old, oldlen, "%s.old-%s.%d",
			    KEY_FILE_NAME, stamp, i);
		if (n < 0 || (size_t)n >= oldlen) {
			warnx("old key name too long");
			return (-1);
		}
		if (linkat(dfd, KEY_FILE_NAME, dfd, old, 0) == 0)
			return (0);
		if (errno != EEXIST) {
			warn("link %s/%s to %s", keydir, LETHD_KEY_FILE, old);
			return (-1);
		}
	}
	warnx("%s/%s: %d old keys from this second already", keydir,
	    LETHD_KEY_SUBDIR, KEY_OLD_TRIES);
	return (-1);
}
