/* ring_poll.h — consuming a front ring's responses: the one policy of every
 * ring driver here (netfront's two rings, blkfront's).
 *
 * One pass over the responses the backend had produced when the poll
 * started: each is handed to `handle` with its index (the handler copies it
 * out of the shared page before looking at it). Then the ring asks for an
 * event at the next response, and `*again` says whether one came in
 * meanwhile: the driver then polls again from a later loop iteration (a
 * deferred callback), so that a backend answering every request at once
 * cannot keep the loop in one device while timers and other devices wait.
 *
 * The producer index is checked first: a backend may not answer more than
 * was asked, which also bounds it by the ring's size. -ERANGE then, with
 * nothing consumed. A handler's negative return stops the pass and is
 * returned; otherwise the number handled.
 *
 * Plain C over Xen's ring macros, for the guest and the host tests alike.
 */
#ifndef DUET_XEN_RING_POLL_H
#define DUET_XEN_RING_POLL_H

#include <errno.h>
#include <stdbool.h>

#include <xen/io/ring.h>

#include "ring_barriers.h"

struct duet__ring_cursor {
	RING_IDX *rsp_prod;	      /* the shared page's: the backend writes */
	RING_IDX *rsp_event;	      /* the shared page's: we write */
	RING_IDX *rsp_cons;	      /* the front ring's */
	const RING_IDX *req_prod_pvt; /* the front ring's (handlers may add) */
};

/* The cursor over a front ring (any of Xen's ring types). */
#define DUET__RING_CURSOR(front)                                              \
	((struct duet__ring_cursor){&(front)->sring->rsp_prod,                \
				    &(front)->sring->rsp_event,               \
				    &(front)->rsp_cons, &(front)->req_prod_pvt})

static inline int duet__ring_poll(struct duet__ring_cursor c,
				  int (*handle)(void *arg, RING_IDX idx),
				  void *arg, bool *again)
{
	RING_IDX prod = __atomic_load_n(c.rsp_prod, __ATOMIC_ACQUIRE);
	int n = 0;

	*again = false;
	if (prod - *c.rsp_cons > *c.req_prod_pvt - *c.rsp_cons)
		return -ERANGE;
	while (*c.rsp_cons != prod) {
		int r = handle(arg, (*c.rsp_cons)++);

		if (r < 0)
			return r;
		n++;
	}
	*c.rsp_event = *c.rsp_cons + 1;
	xen_mb(); /* the event request before the second look */
	*again = __atomic_load_n(c.rsp_prod, __ATOMIC_ACQUIRE) != *c.rsp_cons;
	return n;
}

#endif
