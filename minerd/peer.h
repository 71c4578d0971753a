/*
 * The peer registry, in minerd: the workers we pinned (controller side)
 * and the controllers we allow (worker side).  Pins, allow list, names,
 * roles, addresses and tags are written atomically to peers.json at
 * once; ping, score and last-seen live in memory.
 */

#ifndef PEER_H
#define PEER_H

#include <sys/tree.h>

#include <stdint.h>

#include <jansson.h>

#include "lethd.h"

#define PEERS_FILE		"peers.json"	/* in the state directory */
#define PEERS_FORMAT_VERSION	1
#define PEERS_FILE_MAX		(16 * 1024 * 1024)	/* 10,000s of peers */
#define PEERS_MAX		100000	/* registry entries */
#define PEER_TAG_MAX		32	/* bytes of one tag */
#define PEER_TAGS_MAX		16	/* tags on one peer */

/* Score (0-100): starts at 50, +1 success, -5 failure, -3 timeout. */
#define PEER_SCORE_START	50
#define PEER_SCORE_SUCCESS	1
#define PEER_SCORE_FAILURE	(-5)
#define PEER_SCORE_TIMEOUT	(-3)

/* What a controller we allow may do on this node (worker side). */
enum peer_access {
	ACCESS_NONE = 0,	/* a pinned worker only: it commands nothing */
	ACCESS_OBSERVER,	/* read: stats, logs, profiles */
	ACCESS_OPERATOR		/* and start, stop, restart */
};

struct peer {
	RB_ENTRY(peer)	 by_id;
	uint8_t		 pk[32];
	char		 id[NODE_ID_LEN + 1];
	char		 name[NODE_NAME_MAX + 1];
	char		 address[NET_ADDR_MAX];	/* "" for an allowed-only */
	int		 pinned;	/* a worker we control (we dial it) */
	enum peer_access access;	/* a controller of ours, if not NONE */
	char		 tags[PEER_TAGS_MAX][PEER_TAG_MAX + 1];
	unsigned int	 ntags;
	long long	 added;		/* Unix ms */
	/* in memory */
	int		 connected;
	double		 ping_ms;	/* last measured; < 0 unknown */
	double		 geo_km;	/* from its pong; < 0 unknown */
	int		 hops;		/* set by a pong: 1 (direct) */
	int		 score;
	long long	 last_seen;	/* Unix ms; 0 never */
	char		 declared_name[NODE_NAME_MAX + 1];	/* shown only */
	uint8_t		 declared_role;
	struct replay_cache *replay;	/* msg.h */
};

/* Hops to p: 1 over a direct session (every session is, until relays
 * exist); 0 unknown, when not connected. */
#define PEER_HOPS(p)	((p)->connected ? ((p)->hops > 0 ? (p)->hops : 1) : 0)

/* Load PEERS_FILE from the state dir: 0 (also when missing), -1 bad
 * (err filled: minerd refuses to overwrite what it cannot read). */
int		 peer_load(int dirfd, char *err, size_t errlen);
/* Write the whole registry atomically: 0 or -1 with errno (the
 * in-memory change is then rolled back by the caller). */
int		 peer_save(int dirfd);
struct peer	*peer_by_id(const char *id);
struct peer	*peer_by_pk(const uint8_t pk[32]);
/* Add or update in memory (not saved); NULL with *why on refusal,
 * e.g. a known id with another key: never re-pinned silently. */
struct peer	*peer_add(const uint8_t pk[32], const char *name,
		    const char *address, int pin, enum peer_access,
		    const char **why);
/* Remove from memory (not saved). */
void		 peer_remove(struct peer *);
void		 peer_score(struct peer *, int delta);
/* Iterate in id order. */
struct peer	*peer_first(void);
struct peer	*peer_next(struct peer *);
unsigned int	 peer_count(void);
json_t		*peer_json(const struct peer *);
int		 peer_access_parse(const char *, enum peer_access *);
const char	*peer_access_name(enum peer_access);

/*
 * Additions for the REST routes and lethctl (registry helper).
 */
#define PEER_ERR_MAX		256	/* one error message */

/* Why peers.json could not be loaded, or NULL when the registry may be
 * written.  While it is set, peer_save refuses (errno EBADMSG) so that
 * a file minerd cannot read is never overwritten. */
const char	*peer_load_error(void);
/* If the last load failed, try again (the operator may have fixed or
 * removed the file): 0 when the registry is usable, -1 with err. */
int		 peer_reload_if_bad(int dirfd, char *err, size_t errlen);
/* Drop every entry from memory (tests, reload). */
void		 peer_clear(void);

/*
 * A change of several entries, all or nothing: between peer_txn_begin
 * and peer_txn_commit, peer_add, peer_remove, peer_set_access and
 * peer_set_tags record how to undo themselves; commit writes the file
 * once and, if that fails, undoes them all (errno kept).
 */
void		 peer_txn_begin(void);
int		 peer_txn_commit(int dirfd);
void		 peer_txn_abort(void);

/* Set or clear a controller's access (ACCESS_NONE: deny). */
int		 peer_set_access(struct peer *, enum peer_access,
		    const char **why);
/* Replace the tags: n strings, each checked with peer_tag_check. */
int		 peer_set_tags(struct peer *, const char *const *,
		    unsigned int, const char **why);

/* Field checks shared by the file parser and the REST routes: 0, or
 * -1 with a message (for the client) in err. */
int		 peer_pk_parse(const char *, size_t, uint8_t [32], char *,
		    size_t);
int		 peer_address_check(const char *, size_t, char *, size_t);
/* Split a checked address into host (brackets removed) and port. */
int		 peer_address_split(const char *, char *, size_t, uint16_t *);
int		 peer_name_check(const char *, size_t, char *, size_t);
int		 peer_tag_check(const char *, size_t, char *, size_t);
int		 peer_id_check(const char *);
/* What a peer is to us, for lists: "worker" when pinned, else its
 * access ("operator", "observer"). */
const char	*peer_role_name(const struct peer *);

#endif /* PEER_H */
