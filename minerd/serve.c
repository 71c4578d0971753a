/*
 * A worker serving its controllers' requests.  PLACEHOLDER until the
 * fleet operations land: every request is answered "not supported".
 */

#include <sys/types.h>

#include <jansson.h>

#include "lethd.h"
#include "log.h"
#include "minerd.h"
#include "msg.h"
#include "peer.h"

void
serve_request(struct peer *p, const struct msg *m)
{
	log_warnx("net: %s from %s: not supported yet", m->type_str, p->id);
	net_reply_error(p, m, MSG_ERR_FAILED,
	    "not supported by this node yet");
}
