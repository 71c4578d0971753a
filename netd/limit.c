/*
 * netd's limits: token buckets (per-peer message rate), log lines that
 * a flood cannot multiply, and the source-address arithmetic behind the
 * per-address and per-subnet handshake limits.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lethd.h"
#include "log.h"
#include "netd.h"

/* A /24 and a /64: what one subscriber typically holds. */
#define SUBNET_V4_BYTES		3
#define SUBNET_V6_BYTES		8

long long
mono_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
tb_init(struct tbucket *tb, unsigned int rate)
{
	tb->last_ms = mono_ms();
	tb->milli = (uint64_t)rate * 1000;
}

int
tb_take(struct tbucket *tb, unsigned int rate)
{
	long long	 now = mono_ms(), el;
	uint64_t	 cap = (uint64_t)rate * 1000;

	el = now - tb->last_ms;
	if (el > 0) {
		/* a second refills the bucket: no overflow past that */
		if (el >= 1000)
			tb->milli = cap;
		else
			tb->milli += (uint64_t)el * rate;
		if (tb->milli > cap)
			tb->milli = cap;
		tb->last_ms = now;
	}
	if (tb->milli < 1000)
		return (0);
	tb->milli -= 1000;
	return (1);
}

int
loglimit_ok(struct loglimit *ll, unsigned int *dropped)
{
	long long	 sec = mono_ms() / 1000;

	if (sec != ll->sec) {
		ll->sec = sec;
		ll->lines = 0;
	}
	if (ll->lines >= NET_LOG_PER_SEC) {
		ll->dropped++;
		return (0);
	}
	ll->lines++;
	*dropped = ll->dropped;
	ll->dropped = 0;
	return (1);
}

int
addr_from_sa(struct netd_addr *na, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(na, 0, sizeof(*na));
	switch (sa->sa_family) {
	case AF_INET:
		if (len < sizeof(*sin))
			return (-1);
		sin = (const struct sockaddr_in *)sa;
		na->family = AF_INET;
		memcpy(na->a, &sin->sin_addr, 4);
		return (0);
	case AF_INET6:
		if (len < sizeof(*sin6))
			return (-1);
		sin6 = (const struct sockaddr_in6 *)sa;
		/* a v4-mapped address counts as the IPv4 one */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			na->family = AF_INET;
			memcpy(na->a, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			na->family = AF_INET6;
			memcpy(na->a, &sin6->sin6_addr, 16);
		}
		return (0);
	}
	return (-1);
}

int
addr_same(const struct netd_addr *a, const struct netd_addr *b)
{
	return (a->family == b->family && memcmp(a->a, b->a, 16) == 0);
}

int
addr_same_subnet(const struct netd_addr *a, const struct netd_addr *b)
{
	if (a->family != b->family)
		return (0);
	return (memcmp(a->a, b->a, a->family == AF_INET ?
	    SUBNET_V4_BYTES : SUBNET_V6_BYTES) == 0);
}

void
addr_fmt(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 h[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &sin->sin_addr, h, sizeof(h)) == NULL)
			break;
		(void)snprintf(buf, len, "%s:%u", h, ntohs(sin->sin_port));
		return;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, h,
		    sizeof(h)) == NULL)
			break;
		(void)snprintf(buf, len, "[%s]:%u", h,
		    ntohs(sin6->sin6_port));
		return;
	}
	(void)snprintf(buf, len, "unknown");
}
