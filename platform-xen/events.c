/* Event channels (2-level ABI) and the wait primitive.
 *
 * Upcalls are masked all the time except inside the mode's block(), which
 * unmasks them atomically with going to sleep, so an event that arrives
 * between the last check and the block still wakes it. The upcall handler
 * (entry.S or pvh_entry.S -> duet__xen_upcall) only clears
 * evtchn_upcall_pending (which, in PVH, also stops the vector); the
 * pending ports are handled here, in loop context, through the selector
 * word and the pending/mask bitmaps of shared_info.
 */
#include <errno.h>

#include <duet/loop.h>
#include <duet/platform.h>
#include <duet/replay.h>

#include "hypercall.h"
#include "xen.h"

#define MAX_PORTS 1024

shared_info_t *duet__xen_shared;

struct port_handler {
	duet__xen_evtchn_cb cb;
	void *arg;
};
static struct port_handler handlers[MAX_PORTS];

static vcpu_info_t *vcpu(void)
{
	return &duet__xen_shared->vcpu_info[0];
}

void duet__xen_upcall(void);
void duet__xen_upcall(void)
{
	vcpu()->evtchn_upcall_pending = 0;
}

void duet__xen_events_init(void)
{
	/* Start with every port masked; binding unmasks what we handle. */
	for (unsigned i = 0; i < sizeof(duet__xen_shared->evtchn_mask) /
				     sizeof(duet__xen_shared->evtchn_mask[0]);
	     i++)
		duet__xen_shared->evtchn_mask[i] = ~0UL;
	vcpu()->evtchn_upcall_mask = 1;
}

void duet__xen_evtchn_mask(evtchn_port_t port)
{
	__atomic_fetch_or(&duet__xen_shared->evtchn_mask[port / 64],
			  1UL << (port % 64), __ATOMIC_SEQ_CST);
}

void duet__xen_evtchn_unmask(evtchn_port_t port)
{
	struct evtchn_unmask op = {.port = port};

	/* Xen re-raises a port that became pending while masked. */
	hyp_event_channel_op(EVTCHNOP_unmask, &op);
}

bool duet__xen_evtchn_test_and_clear(evtchn_port_t port)
{
	unsigned long bit = 1UL << (port % 64);

	return __atomic_fetch_and(&duet__xen_shared->evtchn_pending[port / 64],
				  ~bit, __ATOMIC_SEQ_CST) &
	       bit;
}

int duet__xen_evtchn_bind(evtchn_port_t port, duet__xen_evtchn_cb cb, void *arg)
{
	if (port >= MAX_PORTS)
		return -ENOSPC;
	handlers[port].cb = cb;
	handlers[port].arg = arg;
	duet__xen_evtchn_unmask(port);
	return 0;
}

/* Xen's errors are negative errno values with Linux's numbering. */
static int bind_new(long rc, evtchn_port_t port, duet__xen_evtchn_cb cb,
		    void *arg, evtchn_port_t *out)
{
	if (rc < 0)
		return (int)rc;
	int r = duet__xen_evtchn_bind(port, cb, arg);
	if (r < 0) {
		duet__xen_evtchn_unbind(port);
		return r;
	}
	*out = port;
	return 0;
}

int duet__xen_evtchn_bind_virq(uint32_t virq, duet__xen_evtchn_cb cb, void *arg,
			       evtchn_port_t *port)
{
	struct evtchn_bind_virq op = {.virq = virq, .vcpu = 0};
	long rc = hyp_event_channel_op(EVTCHNOP_bind_virq, &op);

	return bind_new(rc, op.port, cb, arg, port);
}

int duet__xen_evtchn_alloc_unbound(domid_t remote, duet__xen_evtchn_cb cb,
				   void *arg, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound op = {.dom = DOMID_SELF,
					  .remote_dom = remote};
	long rc = hyp_event_channel_op(EVTCHNOP_alloc_unbound, &op);

	return bind_new(rc, op.port, cb, arg, port);
}

int duet__xen_evtchn_unbind(evtchn_port_t port)
{
	struct evtchn_close op = {.port = port};

	duet__xen_evtchn_mask(port);
	if (port < MAX_PORTS)
		handlers[port].cb = NULL;
	return (int)hyp_event_channel_op(EVTCHNOP_close, &op);
}

int duet__xen_evtchn_notify(evtchn_port_t port)
{
	struct evtchn_send op = {.port = port};

	return (int)hyp_event_channel_op(EVTCHNOP_send, &op);
}

int duet__xen_evtchn_dispatch(void)
{
	int handled = 0;

	vcpu()->evtchn_upcall_pending = 0;
	xen_barrier();
	unsigned long sel = __atomic_exchange_n(&vcpu()->evtchn_pending_sel, 0,
						__ATOMIC_SEQ_CST);
	while (sel != 0) {
		unsigned w = (unsigned)__builtin_ctzl(sel);
		sel &= sel - 1;
		unsigned long ready = duet__xen_shared->evtchn_pending[w] &
				      ~duet__xen_shared->evtchn_mask[w];
		while (ready != 0) {
			unsigned b = (unsigned)__builtin_ctzl(ready);
			ready &= ready - 1;
			evtchn_port_t port = w * 64 + b;
			if (!duet__xen_evtchn_test_and_clear(port))
				continue;
			handled++;
			if (port < MAX_PORTS && handlers[port].cb != NULL)
				handlers[port].cb(port, handlers[port].arg);
		}
	}
	return handled;
}

/* Sleeps until an event, the deadline or the platform's own next timer
 * (ptimer.c), whichever is first; the platform's timers and work run here,
 * inside the wait, like the event handlers. */
static void wait_events(struct duet_loop *loop, duet_time_t deadline,
			struct duet_rr *rr)
{
	if (duet__xen_discovery_due(&deadline))
		return;
	if (duet__xen_evtchn_dispatch() + duet__xt_run() > 0)
		return;
	duet_time_t next = duet__xt_next(), now = duet__xen_now();
	if (next < deadline)
		deadline = next;
	if (deadline <= now)
		return;
	duet__xen_record_idle(now);
	duet__xen_timer_set(deadline);
	duet__xen_mode->block();
	duet_rr_wake(rr);
	duet_loop_update_time(loop); /* callbacks count from after the sleep */
	duet__xen_evtchn_dispatch();
	duet__xt_run();
}

/* The recorder as this wait began: a recording starts inside a wait, as
 * discovery ends (record.c), and its log begins after that wait. */
void duet_plat_wait(struct duet_loop *loop, duet_time_t deadline)
{
	struct duet_rr *rr = duet__xen_rr;

	if (duet_rr_wait(rr, loop, deadline))
		return;
	wait_events(loop, deadline, rr);
	duet_rr_wait_end(rr);
}
