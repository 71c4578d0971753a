/*
 * Printing answers for people: key-value lists and aligned tables.
 * Every string reaching here was vis-encoded by resp.c; numbers were
 * range-checked there.  Nothing here exits: the fuzzer drives it too.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lethctl.h"

/* Width of the key column of a key-value list ("public key" + 2). */
#define OUTPUT_KEY_WIDTH	12

static int	output_width(const char *, int);

/*
 * Local time of a Unix time in ms, ISO 8601 with the UTC offset:
 * 2024-05-01T12:00:00+02:00.
 */
void
output_time(char *buf, size_t len, long long ms)
{
	struct tm	 tm;
	time_t		 t;
	long		 off;
	char		 date[32];

	if (ms < 0 || ms > RESP_MAX_TIME_MS) {
		(void)snprintf(buf, len, "%lld", ms);
		return;
	}
	t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		(void)snprintf(buf, len, "%lld", ms);
		return;
	}
	off = tm.tm_gmtoff / 60;
	(void)snprintf(buf, len, "%s%c%02ld:%02ld", date,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* Seconds for people: 42s, 5m03s, 3h12m, 2d03h. */
void
output_uptime(char *buf, size_t len, long long s)
{
	if (s < 0)
		(void)snprintf(buf, len, "-");
	else if (s < 60)
		(void)snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		(void)snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		(void)snprintf(buf, len, "%lldh%02lldm", s / 3600,
		    s % 3600 / 60);
	else
		(void)snprintf(buf, len, "%lldd%02lldh", s / 86400,
		    s % 86400 / 3600);
}

static int
output_width(const char *s, int w)
{
	size_t	 len;

	len = strlen(s);
	if (len > (size_t)w)
		w = len > 4096 ? 4096 : (int)len;
	return (w);
}

void
output_node_info(FILE *fp, const struct node_info *ni)
{
	char	 created[64];

	output_time(created, sizeof(created), ni->created_ms);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "id", ni->id);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "name", ni->name);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "public key",
	    ni->public_key);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "role", ni->role);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "created", created);
}

/*
 * node and socket as a key-value list, then the processes as a table
 * (numbers right-aligned; a process that is down shows "-" and "down"),
 * then the listening addresses as a table.
 */
void
output_status(FILE *fp, const struct status_info *st)
{
	char	 pid[RESP_MAX_PROCS][24], uid[RESP_MAX_PROCS][24];
	char	 up[RESP_MAX_PROCS][24], rs[RESP_MAX_PROCS][24];
	char	 port[RESP_MAX_LISTEN][8];
	int	 wname, wpid, wuid, wup, wrs, waddr, wport;
	size_t	 i, np, nl;

	if (st->has_node)
		fprintf(fp, "%-*s%s (%s)\n", OUTPUT_KEY_WIDTH, "node",
		    st->node_id, st->node_name);
	else
		fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "node",
		    "none: run lethctl node init");
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "socket", st->socket);

	np = st->nprocs > RESP_MAX_PROCS ? RESP_MAX_PROCS : st->nprocs;
	wname = strlen("NAME");
	wpid = strlen("PID");
	wuid = strlen("UID");
	wup = strlen("UPTIME");
	wrs = strlen("RESTARTS");
	for (i = 0; i < np; i++) {
		const struct proc_info *p = &st->procs[i];

		if (p->pid == 0) {
			(void)snprintf(pid[i], sizeof(pid[i]), "-");
			(void)snprintf(up[i], sizeof(up[i]), "down");
		} else {
			(void)snprintf(pid[i], sizeof(pid[i]), "%lld",
			    p->pid);
			output_uptime(up[i], sizeof(up[i]), p->uptime);
		}
		(void)snprintf(uid[i], sizeof(uid[i]), "%lld", p->uid);
		(void)snprintf(rs[i], sizeof(rs[i]), "%lld", p->restarts);
		wname = output_width(p->name, wname);
		wpid = output_width(pid[i], wpid);
		wuid = output_width(uid[i], wuid);
		wup = output_width(up[i], wup);
		wrs = output_width(rs[i], wrs);
	}
	fprintf(fp, "\n%-*s  %*s  %*s  %*s  %*s\n", wname, "NAME",
	    wpid, "PID", wuid, "UID", wup, "UPTIME", wrs, "RESTARTS");
	for (i = 0; i < np; i++)
		fprintf(fp, "%-*s  %*s  %*s  %*s  %*s\n", wname,
		    st->procs[i].name, wpid, pid[i], wuid, uid[i],
		    wup, up[i], wrs, rs[i]);

	nl = st->nlisten > RESP_MAX_LISTEN ? RESP_MAX_LISTEN : st->nlisten;
	if (nl == 0) {
		fprintf(fp, "\nnot listening for peers\n");
		return;
	}
	waddr = strlen("ADDRESS");
	wport = strlen("PORT");
	for (i = 0; i < nl; i++) {
		(void)snprintf(port[i], sizeof(port[i]), "%d",
		    st->listen[i].port);
		waddr = output_width(st->listen[i].address, waddr);
		wport = output_width(port[i], wport);
	}
	fprintf(fp, "\n%-*s  %*s\n", waddr, "ADDRESS", wport, "PORT");
	for (i = 0; i < nl; i++)
		fprintf(fp, "%-*s  %*s\n", waddr, st->listen[i].address,
		    wport, port[i]);
}

/*
 * The body as JSON for scripts, indented.  JSON_ENSURE_ASCII escapes
 * every character below 0x20 and every non-ASCII one as \uXXXX; jansson
 * leaves DEL (0x7f) raw, so it is escaped here (a DEL can only be inside
 * a string, where \u007f means the same).  Nothing the daemon sent
 * reaches a terminal raw.
 */
int
output_json(FILE *fp, const json_t *root)
{
	char	*s, *p;
	int	 rv = 0;

	if ((s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII)) == NULL)
		return (-1);
	for (p = s; *p != '\0' && rv == 0; p++) {
		if (*p == 0x7f) {
			if (fputs("\\u007f", fp) == EOF)
				rv = -1;
		} else if (fputc(*p, fp) == EOF)
			rv = -1;
	}
	free(s);
	if (rv == 0 && fputc('\n', fp) == EOF)
		rv = -1;
	return (rv);
}

/* How long ago a Unix ms time was: "12s ago", "5m03s ago", "never". */
void
output_age(char *buf, size_t len, long long ms, long long now)
{
	char	 up[32];

	if (ms <= 0) {
		(void)snprintf(buf, len, "never");
		return;
	}
	if (ms > now) {
		(void)snprintf(buf, len, "just now");
		return;
	}
	output_uptime(up, sizeof(up), (now - ms) / 1000);
	(void)snprintf(buf, len, "%s ago", up);
}

static void
output_ping_ms(char *buf, size_t len, double ms)
{
	if (ms < 0)
		(void)snprintf(buf, len, "-");
	else
		(void)snprintf(buf, len, "%.2fms", ms);
}

/* A peer as a key-value list. */
void
output_peer(FILE *fp, const struct peer_info *pi, long long now)
{
	char	 added[64], seen[128], at[64], ping[32];

	output_time(added, sizeof(added), pi->added);
	output_age(seen, sizeof(seen), pi->last_seen, now);
	if (pi->last_seen > 0) {
		output_time(at, sizeof(at), pi->last_seen);
		(void)snprintf(seen + strlen(seen), sizeof(seen) -
		    strlen(seen), " (%s)", at);
	}
	output_ping_ms(ping, sizeof(ping), pi->ping_ms);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "id", pi->id);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "name",
	    pi->name[0] != '\0' ? pi->name : "-");
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "address",
	    pi->address[0] != '\0' ? pi->address : "-");
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "public key",
	    pi->public_key);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "role", pi->role);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "pinned",
	    pi->pinned ? "yes" : "no");
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "access", pi->access);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "connected",
	    pi->connected ? "yes" : "no");
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "ping", ping);
	fprintf(fp, "%-*s%lld\n", OUTPUT_KEY_WIDTH, "score", pi->score);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "last seen", seen);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "added", added);
	fprintf(fp, "%-*s%s\n", OUTPUT_KEY_WIDTH, "tags",
	    pi->tags[0] != '\0' ? pi->tags : "-");
}

/*
 * The peers as a table: ID NAME ADDRESS ROLE CONN PING SCORE LAST SEEN
 * TAGS, in two passes over the array resp_peer_list checked (widths, then
 * rows), so that memory does not grow with the fleet.
 */
void
output_peer_list(FILE *fp, const json_t *arr, long long now)
{
	struct peer_info	*pi;
	json_t			*v;
	char			 err[RESP_ERR_MAX], ping[32], score[24];
	char			 seen[64];
	int			 wid, wname, waddr, wrole, wping, wseen;
	size_t			 i;
	int			 pass;

	if (!json_is_array(arr))
		return;
	if (json_array_size(arr) == 0) {
		fprintf(fp, "no peers\n");
		return;
	}
	if ((pi = malloc(sizeof(*pi))) == NULL)
		return;
	wid = strlen("ID");
	wname = strlen("NAME");
	waddr = strlen("ADDRESS");
	wrole = strlen("ROLE");
	wping = strlen("PING");
	wseen = strlen("LAST SEEN");
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			fprintf(fp, "%-*s  %-*s  %-*s  %-*s  %-4s  %*s  "
			    "%5s  %-*s  %s\n", wid, "ID", wname, "NAME", waddr,
			    "ADDRESS", wrole, "ROLE", "CONN", wping, "PING",
			    "SCORE", wseen, "LAST SEEN", "TAGS");
		json_array_foreach(arr, i, v) {
			if (resp_peer(v, pi, err, sizeof(err)) == -1)
				continue;
			output_ping_ms(ping, sizeof(ping), pi->ping_ms);
			output_age(seen, sizeof(seen), pi->last_seen, now);
			if (pi->name[0] == '\0')
				(void)strlcpy(pi->name, "-",
				    sizeof(pi->name));
			if (pi->address[0] == '\0')
				(void)strlcpy(pi->address, "-",
				    sizeof(pi->address));
			if (pass == 0) {
				wid = output_width(pi->id, wid);
				wname = output_width(pi->name, wname);
				waddr = output_width(pi->address, waddr);
				wrole = output_width(pi->role, wrole);
				wping = output_width(ping, wping);
				wseen = output_width(seen, wseen);
				continue;
			}
			(void)snprintf(score, sizeof(score), "%lld",
			    pi->score);
			fprintf(fp, "%-*s  %-*s  %-*s  %-*s  %-4s  %*s  "
			    "%5s  %-*s  %s\n", wid, pi->id, wname, pi->name,
			    waddr, pi->address, wrole, pi->role,
			    pi->connected ? "yes" : "no", wping, ping, score,
			    wseen, seen, pi->tags[0] != '\0' ? pi->tags : "-");
		}
	}
	free(pi);
}

/*
 * A pairing token on a line of its own (easy to copy), then when it
 * expires: "expires 14:05:09 (10 minutes), role operator".
 */
void
output_pair(FILE *fp, const struct pair_info *pa, long long now)
{
	struct tm	 tm;
	time_t		 t;
	char		 hms[16];
	long long	 left;

	fprintf(fp, "%s\n", pa->token);
	t = (time_t)(pa->expires_ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
		(void)snprintf(hms, sizeof(hms), "?");
	left = (pa->expires_ms - now + 30000) / 60000;
	if (pa->expires_ms <= now)
		fprintf(fp, "expired %s, role %s\n", hms, pa->role);
	else if (left < 1)
		fprintf(fp, "expires %s (in less than a minute), role %s\n",
		    hms, pa->role);
	else
		fprintf(fp, "expires %s (%lld minute%s), role %s\n", hms,
		    left, left == 1 ? "" : "s", pa->role);
}

/* "ID: 1.23 ms" */
void
output_ping(FILE *fp, const struct ping_info *pg)
{
	fprintf(fp, "%s: %.2f ms\n", pg->id, pg->rtt_ms);
}
