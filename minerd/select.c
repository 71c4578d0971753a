/*
 * Peer selection.  PLACEHOLDER: no location, pings measured only.
 */

#include <sys/types.h>

#include <jansson.h>

#include "lethd.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"

json_t *
select_location_json(void)
{
	return (json_null());
}

void
select_pong(struct peer *p, const struct msg *m, double rtt_ms)
{
	(void)m;
	p->ping_ms = rtt_ms;
}
