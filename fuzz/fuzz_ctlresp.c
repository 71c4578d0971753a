/*
 * libFuzzer harness for lethctl's response handling (ctl/resp.c and
 * ctl/output.c): the bytes after the first are a response body, the
 * first picks the HTTP status it came with (a digit '0'..'7' keeps the
 * seed files readable).  Every answer that parses goes through every
 * typed extractor (node info, status, peer, peer list, pairing token,
 * ping, import; profile, profile list, miner, miner list, logs) and
 * every formatter, and what they print is checked:
 * printable ASCII and newlines only, whatever the daemon sent.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../ctl/lethctl.h"
#include "../ctl/lethctl_miner.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const long fuzz_status[] = {
	200, 201, 404, 409, 500, 403, 302, 400
};

/* Abort (a finding) if s holds anything but printable ASCII and '\n'. */
static void
fuzz_check_printable(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			continue;
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	}
}

/* A fixed "now" for the ages and expiry times: 2024-05-01 UTC. */
#define FUZZ_NOW_MS	1714521600000LL

static void
fuzz_output(const struct resp *r)
{
	static struct status_info	 st;
	static struct peer_info		 pi;
	static struct profile_info	 pr;
	static struct miner_info	 mi;
	char				 rate[64];
	int				 more;
	long long			 total, poll;
	struct node_info		 ni;
	struct pair_info		 pa;
	struct ping_info		 pg;
	const json_t			*arr;
	long long			 n;
	char				 err[RESP_ERR_MAX];
	char				*buf = NULL;
	size_t				 len = 0;
	FILE				*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	(void)output_json(fp, r->root);
	if (resp_node_info(r->root, &ni, err, sizeof(err)) == 0)
		output_node_info(fp, &ni);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_status(r->root, &st, err, sizeof(err)) == 0)
		output_status(fp, &st);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_peer(r->root, &pi, err, sizeof(err)) == 0)
		output_peer(fp, &pi, FUZZ_NOW_MS);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_peer_list(r->root, "peers", &arr, err, sizeof(err)) == 0)
		output_peer_list(fp, arr, FUZZ_NOW_MS);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_peer_list(r->root, "controllers", &arr, err,
	    sizeof(err)) == 0)
		output_peer_list(fp, arr, FUZZ_NOW_MS);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_pair(r->root, &pa, err, sizeof(err)) == 0)
		output_pair(fp, &pa, FUZZ_NOW_MS);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_ping(r->root, &pg, err, sizeof(err)) == 0)
		output_ping(fp, &pg);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_import(r->root, &n, err, sizeof(err)) == 0)
		fprintf(fp, "imported %lld\n", n);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_profile(r->root, &pr, err, sizeof(err)) == 0) {
		output_profile(fp, &pr);
		output_rate(rate, sizeof(rate), pr.floor);
		fprintf(fp, "%s\n", rate);
	} else
		fuzz_check_printable(err, strlen(err));
	if (resp_profile_list(r->root, &arr, err, sizeof(err)) == 0)
		output_profile_list(fp, arr);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_miner(r->root, &mi, err, sizeof(err)) == 0)
		output_miner(fp, &mi);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_miner_list(r->root, &arr, &poll, err, sizeof(err)) == 0)
		output_miner_list(fp, arr, poll);
	else
		fuzz_check_printable(err, strlen(err));
	if (resp_logs(r->root, &arr, &more, &total, err, sizeof(err)) == 0)
		output_logs(fp, arr, 0);
	else
		fuzz_check_printable(err, strlen(err));
	if (fclose(fp) != 0)
		abort();
	fuzz_check_printable(buf, len);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp	 r;
	char		 err[RESP_ERR_MAX];
	long		 status;

	if (size < 1)
		return (0);
	status = fuzz_status[data[0] %
	    (sizeof(fuzz_status) / sizeof(fuzz_status[0]))];
	if (resp_parse((const char *)data + 1, size - 1, status, &r, err,
	    sizeof(err)) == 0) {
		if (status < 200 || status > 299 || !json_is_object(r.root))
			abort();
		fuzz_output(&r);
		resp_free(&r);
	} else
		fuzz_check_printable(err, strlen(err));
	return (0);
}
