/*
 * Profiles: what to mine and with which miner.  Persisted atomically in
 * the state directory (profiles.json), validated field by field.
 */

#ifndef PROFILE_H
#define PROFILE_H

#include <stddef.h>

#include <jansson.h>

#include "lethd.h"

#define PROFILES_FILE		"profiles.json"
#define PROFILES_FORMAT_VERSION	1
#define PROFILES_FILE_MAX	(1024 * 1024)
#define PROFILES_MAX		256
#define PROFILE_URL_MAX		255	/* pool URL */
#define PROFILE_USER_MAX	255	/* wallet or user */
#define PROFILE_PASS_MAX	255
#define PROFILE_ALGO_MAX	63
#define PROFILE_DEVICES_MAX	63	/* "0,1,2" */
#define PROFILE_EXTRA_MAX	16	/* extra arguments */
#define PROFILE_REGEX_MAX	255	/* generic: POSIX ERE */
#define PROFILE_THREADS_MAX	1024	/* CPU threads; 0: the miner decides */
#define PROFILE_DEVICE_MAX	255	/* highest GPU index in devices */
#define PROFILE_FLOOR_MAX	1e18	/* H/s: far above any rig (EH/s) */
#define PROFILE_REGEX_GROUPS	2	/* capture groups: value and unit */
#define PROFILE_ERR_MAX		1024	/* every bad field of one profile */

struct profile {
	char	 id[PROFILE_ID_MAX + 1];	/* [A-Za-z0-9._-], chosen */
	char	 type[MINER_DRIVER_MAX + 1];	/* a driver's name */
	char	 binary[MINER_BINARY_MAX + 1];	/* under the miners dir */
	char	 pool[PROFILE_URL_MAX + 1];
	char	 user[PROFILE_USER_MAX + 1];
	char	 pass[PROFILE_PASS_MAX + 1];
	char	 algo[PROFILE_ALGO_MAX + 1];
	int	 threads;			/* 0: the miner decides */
	char	 devices[PROFILE_DEVICES_MAX + 1];	/* GPU miners */
	char	 extra[PROFILE_EXTRA_MAX][MINER_ARG_LEN];
	unsigned int nextra;
	int	 autostart;
	double	 floor;				/* H/s; 0: any non-zero */
	char	 regex[PROFILE_REGEX_MAX + 1];	/* generic only */
};

/*
 * Parse one profile from JSON (fields as in profiles.json and the REST
 * bodies).  Returns 0, or -1 with every bad field named in err
 * ("pool: not a stratum URL; threads: out of range (0-1024)").
 */
int	profile_from_json(json_t *, struct profile *, char *err, size_t);
json_t	*profile_to_json(const struct profile *, int with_secrets);

int	profile_load(int dirfd, char *err, size_t errlen);
int	profile_save(int dirfd);
struct profile *profile_find(const char *id);
/* Add or replace (not saved); -1 with err when full. */
int	profile_put(const struct profile *, char *err, size_t);
int	profile_del(const char *id);
struct profile *profile_first(void);
struct profile *profile_next(struct profile *);

/*
 * Additions (profiles helper).
 */

/* An id: 1..PROFILE_ID_MAX of [A-Za-z0-9._-], starting with a letter
 * or a digit.  0 or -1. */
int	profile_id_check(const char *);
unsigned int profile_count(void);
/* Drop every profile from memory (tests). */
void	profile_clear(void);
/* Why profiles.json did not load, or NULL.  While it is set,
 * profile_save refuses (errno EBADMSG): a file minerd cannot read is
 * never overwritten. */
const char *profile_load_error(void);
/* If the last load failed, try again: 0 when usable, -1 with err. */
int	profile_reload_if_bad(int dirfd, char *err, size_t errlen);
/*
 * Change and save at once: a write that fails undoes the change in
 * memory.  0 (*created says whether the id was new), or -1 with errno
 * kept and err ("cannot write profiles.json: No space left on device").
 */
int	profile_commit_put(int dirfd, const struct profile *, int *created,
	    char *err, size_t);
/* 0, 1 when there is no such profile, -1 as above. */
int	profile_commit_del(int dirfd, const char *id, char *err, size_t);

#endif /* PROFILE_H */
