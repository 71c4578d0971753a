/*
 * keyd: the only process that ever holds the node's long-term private
 * key (DESIGN, Invariant 1).  keyd.c talks to the other processes;
 * key.c holds the key.
 */

#ifndef KEYD_H
#define KEYD_H

#include <sys/types.h>

#include <stdint.h>

#include "lethd.h"

#define KEY_SEED_LEN	32	/* Ed25519 seed: the whole key file */
#define KEY_PUBLIC_LEN	32	/* Ed25519 public key */
#define KEY_SIG_LEN	64	/* Ed25519 signature */
#define KEY_HASH_LEN	64	/* BLAKE2b-512 of what is signed */
#define KEY_FILE_NAME	"node.key"	/* in LETHD_KEY_SUBDIR */
#define KEY_FILE_MODE	0600
#define KEY_DIR_MODE	0700

/* The labels (enum key_label) are in lethd.h, shared with netd and minerd. */

/* Allocate the locked memory for the key; once, at start, as root. */
void	key_init(void);
/* Load LETHD_KEY_FILE (relative to the chroot): 1 loaded, 0 when there
 * is no key file yet; fatal for a file with the wrong type, owner,
 * mode or size. */
int	key_load(void);
/* Make a key and write it to LETHD_KEY_FILE: 0, or -1 with errno (the
 * key in memory unchanged; EEXIST when one is loaded already). */
int	key_generate(void);
int	key_have(void);
/* The public key, or zeroes while there is none. */
void	key_public(uint8_t pk[KEY_PUBLIC_LEN]);
/* Sign label || hash: 0, or -1 (no key, or an unknown label). */
int	key_sign(uint8_t sig[KEY_SIG_LEN], uint32_t label,
	    const uint8_t hash[KEY_HASH_LEN]);
const char *key_label_name(uint32_t label);

/* lethd-keyd -R: replace the key offline, as root.  Returns the exit
 * status; errors have gone to stderr. */
int	key_replace(const char *keydir, uid_t, gid_t);

#endif /* KEYD_H */
