/*
 * Unit tests of the peer registry (minerd/peer.c): ids from keys, the
 * refusal of a changed key, peers.json written atomically (0600) and
 * read back strictly, bad files refused and never overwritten, changes
 * of many entries undone together when the write fails, and score
 * bounds.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <jansson.h>
#include <sodium.h>

#include "lethd.h"
#include "log.h"
#include "util.h"
#include "../minerd/minerd.h"
#include "../minerd/peer.h"

/* The uid a forked child takes to be refused a write (as root). */
#define NOBODY		65534
#define STATE		"state"
#define ERRLEN		PEER_ERR_MAX

static void
test_init(void)
{
	log_init(1, LOG_DAEMON);
	if (sodium_init() == -1)
		atf_tc_fail("sodium_init");
	peer_clear();
}

static int
state_dir(void)
{
	int	 fd;

	if (mkdir(STATE, 0700) == -1 && errno != EEXIST)
		atf_tc_fail("mkdir: %s", strerror(errno));
	if ((fd = open(STATE, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		atf_tc_fail("open: %s", strerror(errno));
	return (fd);
}

/* A key whose first byte is a and the rest filled with b. */
static void
test_key(uint8_t pk[32], uint8_t a, uint8_t b)
{
	memset(pk, b, 32);
	pk[0] = a;
}

static void
write_peers(int dirfd, const char *text)
{
	ATF_REQUIRE_EQ(write_file_atomic(dirfd, PEERS_FILE, text,
	    strlen(text), 0600), 0);
}

static char *
read_peers(int dirfd)
{
	char	*buf;
	size_t	 len;

	if (read_file_bounded(dirfd, PEERS_FILE, PEERS_FILE_MAX, &buf,
	    &len) == -1)
		return (NULL);
	return (buf);
}

static struct peer *
pin(const uint8_t pk[32], const char *name, const char *addr)
{
	struct peer	*p;
	const char	*why;

	p = peer_add(pk, name, addr, 1, ACCESS_NONE, &why);
	if (p == NULL)
		atf_tc_fail("peer_add: %s", why);
	return (p);
}

/*
 * Adding, refusing, removing.
 */

ATF_TC_WITHOUT_HEAD(id_is_hex_of_the_first_16_bytes_of_the_key);
ATF_TC_BODY(id_is_hex_of_the_first_16_bytes_of_the_key, tc)
{
	struct peer	*p;
	uint8_t		 pk[32];

	test_init();
	test_key(pk, 0xab, 0x01);
	p = pin(pk, "rig1", "10.0.0.1:9091");
	ATF_CHECK_STREQ(p->id, "ab010101010101010101010101010101");
	ATF_CHECK_EQ(peer_by_id(p->id), p);
	ATF_CHECK_EQ(peer_by_pk(pk), p);
	ATF_CHECK_EQ(peer_count(), 1);
	ATF_CHECK_EQ(p->score, PEER_SCORE_START);
	ATF_CHECK(p->ping_ms < 0);
	ATF_CHECK_EQ(p->last_seen, 0);
	ATF_CHECK(p->added > 0);
	ATF_CHECK_STREQ(peer_role_name(p), "worker");
}

ATF_TC_WITHOUT_HEAD(known_id_with_another_key_is_refused);
ATF_TC_BODY(known_id_with_another_key_is_refused, tc)
{
	struct peer	*p;
	const char	*why;
	uint8_t		 pk[32], other[32];

	test_init();
	test_key(pk, 0x11, 0x22);
	memcpy(other, pk, 32);
	other[31] ^= 0xff;	/* the same first 16 bytes: the same id */
	p = pin(pk, "rig1", "10.0.0.1:9091");
	ATF_CHECK_EQ(peer_add(other, "rig1", "10.0.0.1:9091", 1,
	    ACCESS_NONE, &why), NULL);
	ATF_REQUIRE(why != NULL);
	ATF_CHECK(strstr(why, "key differs from the pinned key") != NULL);
	ATF_CHECK(strstr(why, "remove the peer first") != NULL);
	ATF_CHECK_EQ(peer_by_pk(other), NULL);
	ATF_CHECK_EQ(memcmp(p->pk, pk, 32), 0);
	/* an allow for that id with the other key: refused too */
	ATF_CHECK_EQ(peer_add(other, NULL, NULL, 0, ACCESS_OPERATOR, &why),
	    NULL);
	ATF_CHECK_EQ(p->access, ACCESS_NONE);
	ATF_CHECK_EQ(peer_count(), 1);
}

ATF_TC_WITHOUT_HEAD(same_key_again_updates_and_keeps_the_entry);
ATF_TC_BODY(same_key_again_updates_and_keeps_the_entry, tc)
{
	struct peer	*p, *q;
	const char	*why;
	uint8_t		 pk[32];

	test_init();
	test_key(pk, 0x33, 0x44);
	p = pin(pk, "rig1", "10.0.0.1:9091");
	q = peer_add(pk, NULL, NULL, 0, ACCESS_OBSERVER, &why);
	ATF_REQUIRE_EQ(q, p);
	ATF_CHECK(p->pinned);
	ATF_CHECK_EQ(p->access, ACCESS_OBSERVER);
	ATF_CHECK_STREQ(p->name, "rig1");
	ATF_CHECK_STREQ(p->address, "10.0.0.1:9091");
	ATF_CHECK_EQ(peer_count(), 1);
}

ATF_TC_WITHOUT_HEAD(bad_additions_are_refused);
ATF_TC_BODY(bad_additions_are_refused, tc)
{
	const char	*why;
	uint8_t		 pk[32];

	test_init();
	test_key(pk, 0x55, 0x66);
	ATF_CHECK_EQ(peer_add(pk, NULL, "", 1, ACCESS_NONE, &why), NULL);
	ATF_CHECK_STREQ(why, "a pinned peer needs an address");
	ATF_CHECK_EQ(peer_add(pk, NULL, NULL, 0, ACCESS_NONE, &why), NULL);
	ATF_CHECK_STREQ(why, "neither pinned nor allowed");
	ATF_CHECK_EQ(peer_add(pk, NULL, "host", 1, ACCESS_NONE, &why), NULL);
	ATF_CHECK(strstr(why, "bad address") != NULL);
	ATF_CHECK_EQ(peer_add(pk, "a\nb", "h:1", 1, ACCESS_NONE, &why), NULL);
	ATF_CHECK_STREQ(why, "bad name");
	ATF_CHECK_EQ(peer_count(), 0);
}

ATF_TC_WITHOUT_HEAD(remove_forgets_the_peer);
ATF_TC_BODY(remove_forgets_the_peer, tc)
{
	struct peer	*p;
	uint8_t		 pk[32];
	char		 id[NODE_ID_LEN + 1];

	test_init();
	test_key(pk, 0x77, 0x88);
	p = pin(pk, "rig1", "10.0.0.1:9091");
	(void)strlcpy(id, p->id, sizeof(id));
	peer_remove(p);
	ATF_CHECK_EQ(peer_by_id(id), NULL);
	ATF_CHECK_EQ(peer_count(), 0);
	ATF_CHECK_EQ(peer_first(), NULL);
}

ATF_TC_WITHOUT_HEAD(score_stays_within_0_and_100);
ATF_TC_BODY(score_stays_within_0_and_100, tc)
{
	struct peer	*p;
	uint8_t		 pk[32];
	int		 i;

	test_init();
	test_key(pk, 0x99, 0x01);
	p = pin(pk, NULL, "10.0.0.1:9091");
	ATF_CHECK_EQ(p->score, 50);
	for (i = 0; i < 100; i++)
		peer_score(p, PEER_SCORE_SUCCESS);
	ATF_CHECK_EQ(p->score, 100);
	for (i = 0; i < 30; i++)
		peer_score(p, PEER_SCORE_FAILURE);
	ATF_CHECK_EQ(p->score, 0);
	peer_score(p, PEER_SCORE_TIMEOUT);
	ATF_CHECK_EQ(p->score, 0);
	peer_score(p, PEER_SCORE_SUCCESS);
	ATF_CHECK_EQ(p->score, 1);
}

/*
 * Field checks.
 */

ATF_TC_WITHOUT_HEAD(addresses_are_host_port_or_bracketed_v6);
ATF_TC_BODY(addresses_are_host_port_or_bracketed_v6, tc)
{
	static const char *const good[] = {
		"10.0.0.1:9091", "rig-1.example.org:1", "[::1]:65535",
		"[2001:db8::5]:9091", "localhost:80",
	};
	static const char *const bad[] = {
		"", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536",
		"::1:9091", "[::1]", "[zz]:1", "[]:1", "host name:1",
		"-host:1", "host-:1", "a..b:1", "h:1x", "h:+1",
		/* 66 bytes: longer than NET_ADDR_MAX allows */
		"aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa."
		    "aaaaaaaaa:1",
		"h\n:1",
	};
	char		 err[ERRLEN];
	char		 host[NET_ADDR_MAX];
	uint16_t	 port;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ATF_CHECK_MSG(peer_address_check(good[i], strlen(good[i]), err,
		    sizeof(err)) == 0, "%s: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ATF_CHECK_MSG(peer_address_check(bad[i], strlen(bad[i]), err,
		    sizeof(err)) == -1, "accepted \"%s\"", bad[i]);
	ATF_REQUIRE_EQ(peer_address_split("[2001:db8::5]:9091", host,
	    sizeof(host), &port), 0);
	ATF_CHECK_STREQ(host, "2001:db8::5");
	ATF_CHECK_EQ(port, 9091);
	ATF_REQUIRE_EQ(peer_address_split("rig1:80", host, sizeof(host),
	    &port), 0);
	ATF_CHECK_STREQ(host, "rig1");
	ATF_CHECK_EQ(port, 80);
}

ATF_TC_WITHOUT_HEAD(keys_are_base64_of_32_bytes);
ATF_TC_BODY(keys_are_base64_of_32_bytes, tc)
{
	uint8_t		 pk[32], want[32];
	char		 b64[NODE_PK_B64_LEN + 1], err[ERRLEN];

	test_init();
	test_key(want, 0x3b, 0x6a);
	node_pk_b64(want, b64);
	ATF_REQUIRE_EQ(peer_pk_parse(b64, strlen(b64), pk, err,
	    sizeof(err)), 0);
	ATF_CHECK_EQ(memcmp(pk, want, 32), 0);
	/* without the padding */
	b64[NODE_PK_B64_LEN - 1] = '\0';
	ATF_CHECK_EQ(peer_pk_parse(b64, strlen(b64), pk, err, sizeof(err)),
	    0);

	ATF_CHECK_EQ(peer_pk_parse("not base64!", 11, pk, err, sizeof(err)),
	    -1);
	ATF_CHECK_STREQ(err, "bad base64");
	ATF_CHECK_EQ(peer_pk_parse("AAAA", 4, pk, err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "key is 3 bytes: want a 32-byte Ed25519 key");
	ATF_CHECK_EQ(peer_pk_parse("", 0, pk, err, sizeof(err)), -1);
}

ATF_TC_WITHOUT_HEAD(tags_are_short_printable_words);
ATF_TC_BODY(tags_are_short_printable_words, tc)
{
	struct peer	*p;
	const char	*why;
	const char	*two[] = { "gpu", "rack:3" };
	const char	*dup[] = { "gpu", "gpu" };
	const char	*sp[] = { "two words" };
	char		 err[ERRLEN];
	uint8_t		 pk[32];

	test_init();
	ATF_CHECK_EQ(peer_tag_check("a,b", 3, err, sizeof(err)), -1);
	ATF_CHECK_EQ(peer_tag_check("", 0, err, sizeof(err)), -1);
	ATF_CHECK_EQ(peer_tag_check("012345678901234567890123456789012",
	    33, err, sizeof(err)), -1);
	ATF_CHECK_EQ(peer_tag_check("rack:3", 6, err, sizeof(err)), 0);
	test_key(pk, 0x01, 0x02);
	p = pin(pk, NULL, "h:1");
	ATF_CHECK_EQ(peer_set_tags(p, two, 2, &why), 0);
	ATF_CHECK_EQ(p->ntags, 2);
	ATF_CHECK_EQ(peer_set_tags(p, dup, 2, &why), -1);
	ATF_CHECK_EQ(peer_set_tags(p, sp, 1, &why), -1);
	ATF_CHECK_EQ(p->ntags, 2);
	ATF_CHECK_STREQ(p->tags[1], "rack:3");
}

/*
 * The file.
 */

ATF_TC_WITHOUT_HEAD(save_and_load_give_back_every_field);
ATF_TC_BODY(save_and_load_give_back_every_field, tc)
{
	struct peer	*p;
	const char	*why;
	const char	*tags[] = { "gpu", "rack:3" };
	uint8_t		 a[32], b[32], c[32];
	long long	 added;
	char		 err[ERRLEN];
	int		 dirfd;

	test_init();
	dirfd = state_dir();
	test_key(a, 0xa0, 0x01);
	test_key(b, 0xb0, 0x02);
	test_key(c, 0xc0, 0x03);
	p = pin(a, "rig \xc3\xa9t\xc3\xa9", "[2001:db8::1]:9091");
	ATF_REQUIRE_EQ(peer_set_tags(p, tags, 2, &why), 0);
	added = p->added;
	p->score = 77;			/* in memory only */
	ATF_REQUIRE(peer_add(b, "boss", NULL, 0, ACCESS_OPERATOR, &why) !=
	    NULL);
	ATF_REQUIRE(peer_add(c, NULL, "c.example:1", 1, ACCESS_OBSERVER,
	    &why) != NULL);
	ATF_REQUIRE_EQ(peer_save(dirfd), 0);

	peer_clear();
	ATF_REQUIRE_EQ(peer_count(), 0);
	ATF_REQUIRE_EQ_MSG(peer_load(dirfd, err, sizeof(err)), 0, "%s", err);
	ATF_CHECK_EQ(peer_load_error(), NULL);
	ATF_REQUIRE_EQ(peer_count(), 3);

	ATF_REQUIRE((p = peer_by_pk(a)) != NULL);
	ATF_CHECK_STREQ(p->name, "rig \xc3\xa9t\xc3\xa9");
	ATF_CHECK_STREQ(p->address, "[2001:db8::1]:9091");
	ATF_CHECK(p->pinned);
	ATF_CHECK_EQ(p->access, ACCESS_NONE);
	ATF_CHECK_EQ(p->ntags, 2);
	ATF_CHECK_STREQ(p->tags[0], "gpu");
	ATF_CHECK_STREQ(p->tags[1], "rack:3");
	ATF_CHECK_EQ(p->added, added);
	ATF_CHECK_EQ(p->score, PEER_SCORE_START);

	ATF_REQUIRE((p = peer_by_pk(b)) != NULL);
	ATF_CHECK_STREQ(p->name, "boss");
	ATF_CHECK_STREQ(p->address, "");
	ATF_CHECK(!p->pinned);
	ATF_CHECK_EQ(p->access, ACCESS_OPERATOR);
	ATF_CHECK_STREQ(peer_role_name(p), "operator");

	ATF_REQUIRE((p = peer_by_pk(c)) != NULL);
	ATF_CHECK(p->pinned);
	ATF_CHECK_EQ(p->access, ACCESS_OBSERVER);

	/* in id order */
	ATF_CHECK_EQ(memcmp(peer_first()->pk, a, 32), 0);
	ATF_CHECK_EQ(memcmp(peer_next(peer_first())->pk, b, 32), 0);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(saved_file_is_mode_0600_with_a_format_version);
ATF_TC_BODY(saved_file_is_mode_0600_with_a_format_version, tc)
{
	struct stat	 st;
	json_t		*j;
	uint8_t		 pk[32];
	char		*text;
	int		 dirfd;

	test_init();
	dirfd = state_dir();
	test_key(pk, 0x12, 0x34);
	(void)pin(pk, "rig", "10.1.1.1:9091");
	(void)umask(0);
	ATF_REQUIRE_EQ(peer_save(dirfd), 0);
	ATF_REQUIRE_EQ(fstatat(dirfd, PEERS_FILE, &st, 0), 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	ATF_REQUIRE((text = read_peers(dirfd)) != NULL);
	ATF_REQUIRE((j = json_loads(text, 0, NULL)) != NULL);
	ATF_CHECK_EQ(json_integer_value(json_object_get(j, "version")),
	    PEERS_FORMAT_VERSION);
	ATF_CHECK_EQ(json_array_size(json_object_get(j, "peers")), 1);
	json_decref(j);
	free(text);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(missing_file_is_an_empty_registry);
ATF_TC_BODY(missing_file_is_an_empty_registry, tc)
{
	char	 err[ERRLEN];
	int	 dirfd;

	test_init();
	dirfd = state_dir();
	ATF_CHECK_EQ(peer_load(dirfd, err, sizeof(err)), 0);
	ATF_CHECK_EQ(peer_count(), 0);
	ATF_CHECK_EQ(peer_load_error(), NULL);
	close(dirfd);
}

#define GOOD_PK		"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="
#define GOOD_ID		"abababababababababababababababab"
#define ENTRY(id, pk, addr, pinned, access, tags)			\
	"{\"version\":1,\"peers\":[{\"id\":\"" id "\",\"name\":\"n\","	\
	"\"address\":\"" addr "\",\"publicKey\":\"" pk "\","		\
	"\"pinned\":" pinned ",\"access\":\"" access "\","		\
	"\"tags\":" tags ",\"added\":1}]}"

ATF_TC_WITHOUT_HEAD(bad_files_are_refused_with_a_clear_error);
ATF_TC_BODY(bad_files_are_refused_with_a_clear_error, tc)
{
	static const struct {
		const char	*text;
		const char	*want;	/* in the error */
	} bad[] = {
		{ "{", "invalid JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"version\":1,\"version\":1,\"peers\":[]}",
		    "invalid JSON" },
		{ "{\"peers\":[]}", "no version" },
		{ "{\"version\":2,\"peers\":[]}",
		    "unknown format version 2" },
		{ "{\"version\":1}", "no peers" },
		{ "{\"version\":1,\"peers\":[1]}", "peer 0: not an object" },
		{ ENTRY(GOOD_ID, "q6urq6ur!!", "h:1", "true", "none", "[]"),
		    "peer 0: bad publicKey: bad base64" },
		{ ENTRY(GOOD_ID, "q6urqw==", "h:1", "true", "none", "[]"),
		    "bad publicKey: key is 4 bytes" },
		{ ENTRY("0000000000000000000000000000000a", GOOD_PK, "h:1",
		    "true", "none", "[]"), "does not match publicKey" },
		{ ENTRY("ABABABABABABABABABABABABABABABAB", GOOD_PK, "h:1",
		    "true", "none", "[]"), "bad id" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h", "true", "none", "[]"),
		    "bad address: no port" },
		{ ENTRY(GOOD_ID, GOOD_PK, "", "true", "none", "[]"),
		    "pinned, but no address" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h:1", "false", "none", "[]"),
		    "neither pinned nor allowed" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h:1", "1", "none", "[]"),
		    "no pinned, or not true or false" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h:1", "true", "admin", "[]"),
		    "bad access \"admin\"" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h:1", "true", "none",
		    "[\"a b\"]"), "tag 0" },
		{ ENTRY(GOOD_ID, GOOD_PK, "h:1", "true", "none",
		    "[\"a\",\"a\"]"), "twice" },
		{ "{\"version\":1,\"peers\":[{\"id\":\"" GOOD_ID "\","
		    "\"name\":\"n\",\"address\":\"h:1\",\"publicKey\":\""
		    GOOD_PK "\",\"pinned\":true,\"access\":\"none\","
		    "\"tags\":[],\"added\":0}]}", "bad added" },
		{ "{\"version\":1,\"peers\":[{\"id\":\"" GOOD_ID "\","
		    "\"name\":\"n\",\"address\":\"h:1\",\"publicKey\":\""
		    GOOD_PK "\",\"pinned\":true,\"access\":\"none\","
		    "\"tags\":[],\"added\":1},{\"id\":\"" GOOD_ID "\","
		    "\"name\":\"n\",\"address\":\"h:1\",\"publicKey\":\""
		    GOOD_PK "\",\"pinned\":true,\"access\":\"none\","
		    "\"tags\":[],\"added\":1}]}", "peer 1: id " GOOD_ID
		    " twice" },
	};
	char	 err[ERRLEN], *after;
	size_t	 i;
	int	 dirfd;

	test_init();
	dirfd = state_dir();
	/* the shape the table builds is a good file */
	write_peers(dirfd, ENTRY(GOOD_ID, GOOD_PK, "h:1", "true", "none",
	    "[\"x\"]"));
	ATF_REQUIRE_EQ_MSG(peer_load(dirfd, err, sizeof(err)), 0, "%s", err);
	ATF_REQUIRE_EQ(peer_count(), 1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_peers(dirfd, bad[i].text);
		err[0] = '\0';
		ATF_CHECK_EQ_MSG(peer_load(dirfd, err, sizeof(err)), -1,
		    "accepted bad file %zu", i);
		ATF_CHECK_MSG(strncmp(err, PEERS_FILE ": ",
		    strlen(PEERS_FILE) + 2) == 0, "no file name: %s", err);
		ATF_CHECK_MSG(strstr(err, bad[i].want) != NULL,
		    "file %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
		ATF_CHECK(peer_load_error() != NULL);
		ATF_CHECK_EQ(peer_count(), 0);

		/* and never overwritten */
		errno = 0;
		ATF_CHECK_EQ(peer_save(dirfd), -1);
		ATF_CHECK_EQ(errno, EBADMSG);
		ATF_REQUIRE((after = read_peers(dirfd)) != NULL);
		ATF_CHECK_STREQ(after, bad[i].text);
		free(after);
	}

	/* fixed: it loads again and may be written */
	write_peers(dirfd, ENTRY(GOOD_ID, GOOD_PK, "h:1", "true", "none",
	    "[]"));
	ATF_CHECK_EQ(peer_reload_if_bad(dirfd, err, sizeof(err)), 0);
	ATF_CHECK_EQ(peer_load_error(), NULL);
	ATF_CHECK_EQ(peer_count(), 1);
	ATF_CHECK_EQ(peer_save(dirfd), 0);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(oversized_file_is_refused);
ATF_TC_BODY(oversized_file_is_refused, tc)
{
	char	 err[ERRLEN];
	int	 dirfd, fd;

	test_init();
	dirfd = state_dir();
	ATF_REQUIRE((fd = openat(dirfd, PEERS_FILE, O_WRONLY | O_CREAT,
	    0600)) != -1);
	ATF_REQUIRE_EQ(ftruncate(fd, PEERS_FILE_MAX + 1), 0);
	close(fd);
	ATF_CHECK_EQ(peer_load(dirfd, err, sizeof(err)), -1);
	ATF_CHECK_MSG(strstr(err, "larger than") != NULL, "%s", err);
	close(dirfd);
}

ATF_TC_WITHOUT_HEAD(unknown_keys_in_an_entry_are_ignored);
ATF_TC_BODY(unknown_keys_in_an_entry_are_ignored, tc)
{
	char	 err[ERRLEN];
	int	 dirfd;

	test_init();
	dirfd = state_dir();
	write_peers(dirfd, "{\"version\":1,\"later\":true,\"peers\":[{"
	    "\"id\":\"" GOOD_ID "\",\"name\":\"\",\"address\":\"h:1\","
	    "\"publicKey\":\"" GOOD_PK "\",\"pinned\":true,"
	    "\"access\":\"none\",\"tags\":[],\"added\":1,\"x\":1}]}");
	ATF_CHECK_EQ_MSG(peer_load(dirfd, err, sizeof(err)), 0, "%s", err);
	ATF_CHECK_EQ(peer_count(), 1);
	close(dirfd);
}

/*
 * Transactions: all or nothing.
 */

ATF_TC_WITHOUT_HEAD(aborted_import_changes_nothing);
ATF_TC_BODY(aborted_import_changes_nothing, tc)
{
	struct peer	*p;
	const char	*why;
	uint8_t		 a[32], b[32], c[32];

	test_init();
	test_key(a, 0xa1, 0x01);
	test_key(b, 0xb1, 0x02);
	test_key(c, 0xc1, 0x03);
	p = pin(a, "old", "10.0.0.1:1");

	peer_txn_begin();
	ATF_REQUIRE(peer_add(a, "new", "10.0.0.2:2", 1, ACCESS_OPERATOR,
	    &why) == p);
	ATF_REQUIRE(peer_add(b, NULL, "10.0.0.3:3", 1, ACCESS_NONE, &why) !=
	    NULL);
	ATF_REQUIRE(peer_add(c, NULL, "10.0.0.4:4", 1, ACCESS_NONE, &why) !=
	    NULL);
	peer_remove(peer_by_pk(c));
	ATF_CHECK_EQ(peer_count(), 2);
	peer_txn_abort();

	ATF_CHECK_EQ(peer_count(), 1);
	ATF_CHECK_EQ(peer_by_pk(a), p);
	ATF_CHECK_STREQ(p->name, "old");
	ATF_CHECK_STREQ(p->address, "10.0.0.1:1");
	ATF_CHECK_EQ(p->access, ACCESS_NONE);
	ATF_CHECK_EQ(peer_by_pk(b), NULL);
	ATF_CHECK_EQ(peer_by_pk(c), NULL);
}

ATF_TC_WITHOUT_HEAD(committed_import_is_one_write);
ATF_TC_BODY(committed_import_is_one_write, tc)
{
	struct peer	*p;
	const char	*why;
	uint8_t		 a[32], b[32];
	char		 err[ERRLEN];
	int		 dirfd;

	test_init();
	dirfd = state_dir();
	test_key(a, 0xa2, 0x01);
	test_key(b, 0xb2, 0x02);
	p = pin(a, "x", "10.0.0.1:1");
	ATF_REQUIRE_EQ(peer_save(dirfd), 0);

	peer_txn_begin();
	ATF_REQUIRE(peer_add(b, NULL, "10.0.0.3:3", 1, ACCESS_NONE, &why) !=
	    NULL);
	ATF_REQUIRE_EQ(peer_set_access(p, ACCESS_OBSERVER, &why), 0);
	ATF_REQUIRE_EQ(peer_txn_commit(dirfd), 0);

	peer_clear();
	ATF_REQUIRE_EQ(peer_load(dirfd, err, sizeof(err)), 0);
	ATF_CHECK_EQ(peer_count(), 2);
	ATF_REQUIRE((p = peer_by_pk(a)) != NULL);
	ATF_CHECK_EQ(p->access, ACCESS_OBSERVER);
	close(dirfd);
}

/*
 * A write that fails (the directory is read-only to the writer: the
 * same path as a full disk) undoes every change of the transaction,
 * returns the error, and leaves the old file as it was.
 */
ATF_TC_WITHOUT_HEAD(failed_write_undoes_the_change);
ATF_TC_BODY(failed_write_undoes_the_change, tc)
{
	struct peer	*p;
	const char	*why;
	uint8_t		 a[32], b[32];
	char		*before, *after;
	pid_t		 pid;
	int		 dirfd, status, saved;

	test_init();
	dirfd = state_dir();
	test_key(a, 0xa3, 0x01);
	test_key(b, 0xb3, 0x02);
	p = pin(a, "keep", "10.0.0.1:1");
	ATF_REQUIRE_EQ(peer_save(dirfd), 0);
	ATF_REQUIRE((before = read_peers(dirfd)) != NULL);
	ATF_REQUIRE_EQ(fchmod(dirfd, 0500), 0);

	if ((pid = fork()) == -1)
		atf_tc_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		/* root writes anywhere: be somebody else */
		if (geteuid() == 0 && setresuid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(10);
		peer_txn_begin();
		if (peer_add(b, NULL, "10.0.0.2:2", 1, ACCESS_NONE, &why) ==
		    NULL)
			_exit(11);
		if (peer_set_access(p, ACCESS_OPERATOR, &why) == -1)
			_exit(12);
		peer_remove(p);
		if (peer_txn_commit(dirfd) != -1)
			_exit(13);
		saved = errno;
		if (saved != EACCES && saved != EPERM && saved != EROFS)
			_exit(14);
		/* everything as before */
		if (peer_count() != 1 || peer_by_pk(b) != NULL ||
		    (p = peer_by_pk(a)) == NULL || p->access != ACCESS_NONE ||
		    strcmp(p->name, "keep") != 0)
			_exit(15);
		_exit(0);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	(void)fchmod(dirfd, 0700);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_CHECK_EQ_MSG(WEXITSTATUS(status), 0, "child step %d failed",
	    WEXITSTATUS(status));
	ATF_REQUIRE((after = read_peers(dirfd)) != NULL);
	ATF_CHECK_STREQ(before, after);
	free(before);
	free(after);
	close(dirfd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, id_is_hex_of_the_first_16_bytes_of_the_key);
	ATF_TP_ADD_TC(tp, known_id_with_another_key_is_refused);
	ATF_TP_ADD_TC(tp, same_key_again_updates_and_keeps_the_entry);
	ATF_TP_ADD_TC(tp, bad_additions_are_refused);
	ATF_TP_ADD_TC(tp, remove_forgets_the_peer);
	ATF_TP_ADD_TC(tp, score_stays_within_0_and_100);
	ATF_TP_ADD_TC(tp, addresses_are_host_port_or_bracketed_v6);
	ATF_TP_ADD_TC(tp, keys_are_base64_of_32_bytes);
	ATF_TP_ADD_TC(tp, tags_are_short_printable_words);
	ATF_TP_ADD_TC(tp, save_and_load_give_back_every_field);
	ATF_TP_ADD_TC(tp, saved_file_is_mode_0600_with_a_format_version);
	ATF_TP_ADD_TC(tp, missing_file_is_an_empty_registry);
	ATF_TP_ADD_TC(tp, bad_files_are_refused_with_a_clear_error);
	ATF_TP_ADD_TC(tp, oversized_file_is_refused);
	ATF_TP_ADD_TC(tp, unknown_keys_in_an_entry_are_ignored);
	ATF_TP_ADD_TC(tp, aborted_import_changes_nothing);
	ATF_TP_ADD_TC(tp, committed_import_is_one_write);
	ATF_TP_ADD_TC(tp, failed_write_undoes_the_change);
	return (atf_no_error());
}
