/* xs_client.h — the xenstore client (xs.h) over the shared ring page, as
 * plain C.
 *
 * Requests are synchronous: one is in flight at a time and the caller
 * waits for its reply through the transport's wait, bounded by
 * DUET__XS_TIMEOUT, so no other event handler runs in the middle. Watch
 * events that arrive meanwhile are queued (xs_proto.h) and delivered by
 * duet__xs_client_deliver(), the port's handler, in loop context; the
 * transport's raise makes the port pending again so that happens even if
 * xenstored sends nothing more.
 *
 * xenstored shares the page and is not trusted with our memory: the
 * indexes are read once per pass and a producer more than a ring ahead
 * of its consumer, or a message announcing more than
 * XENSTORE_PAYLOAD_MAX, loses the connection (every request fails with
 * -EPROTO from then on, at once); a reply that never comes, or never
 * completes, is -ETIMEDOUT at the deadline however many stray replies
 * and events arrive before it; replies to other requests are dropped.
 *
 * xenstore.c is the transport on Xen (the event channel, SCHEDOP_poll);
 * tests/fuzz/xs_client_fuzz.c is a hostile xenstored on the host.
 */
#ifndef DUET_XEN_XS_CLIENT_H
#define DUET_XEN_XS_CLIENT_H

#include <stdbool.h>

#include <xen/io/xs_wire.h>

#include <duet/clock.h>

#include "xs.h"

#define DUET__XS_TIMEOUT DUET_SEC(10)

struct duet__xs_transport {
	struct xenstore_domain_interface *ring;
	/* Tells xenstored that the ring moved. */
	void (*notify)(void);
	/* Clears the port's pending flag (before the ring is read, so that
	 * what arrives after is noticed). */
	void (*clear)(void);
	/* Sleeps until xenstored signals or `deadline` (monotonic) passes. */
	void (*wait)(duet_time_t deadline);
	/* Makes the port pending again: duet__xs_client_deliver() runs from
	 * the loop. */
	void (*raise)(void);
	/* The monotonic clock of the deadlines: on Xen the platform's own,
	 * which a recording does not see (core/REPLAY.md). */
	duet_time_t (*now)(void);
};

/* Starts the client on a transport (copied); anything already in the
 * ring belongs to no request of ours and is skipped. */
void duet__xs_client_start(const struct duet__xs_transport *t);
/* Whether the connection was lost to a protocol error. */
bool duet__xs_client_lost(void);
/* The port's handler: takes the watch events off the ring and calls the
 * watches. */
void duet__xs_client_deliver(void);

#endif
