/* The xenstore client's transport on Xen: the ring page and event channel
 * the entry found (start_info, or PVH's HVM parameters), with SCHEDOP_poll on
 * that port alone for the waits (xs_client.c is the client itself, plain C). */
#include <errno.h>
#include <stdio.h>

#include <duet/platform.h>

#include "hypercall.h"
#include "xen.h"
#include "xs_client.h"

static evtchn_port_t xs_port;
static char home[32];

static void notify(void)
{
	duet__xen_evtchn_notify(xs_port);
}

static void clear(void)
{
	duet__xen_evtchn_test_and_clear(xs_port);
}

static void wait_port(duet_time_t deadline)
{
	evtchn_port_t ports[1] = {xs_port};
	struct sched_poll poll = {.nr_ports = 1, .timeout = deadline};

	set_xen_guest_handle(poll.ports, ports);
	hyp_sched_op(SCHEDOP_poll, &poll);
}

static void raise_local(void)
{
	vcpu_info_t *v = &duet__xen_shared->vcpu_info[0];

	__atomic_fetch_or(&duet__xen_shared->evtchn_pending[xs_port / 64],
			  1UL << (xs_port % 64), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&v->evtchn_pending_sel, 1UL << (xs_port / 64),
			  __ATOMIC_SEQ_CST);
	v->evtchn_upcall_pending = 1;
}

static void deliver_events(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	duet__xs_client_deliver();
}

const char *duet__xs_home(void)
{
	return home;
}

int duet__xs_init(void *ring, evtchn_port_t port)
{
	struct duet__xs_transport t = {
	    .ring = ring,
	    .notify = notify,
	    .clear = clear,
	    .wait = wait_port,
	    .raise = raise_local,
	    .now = duet__xen_now,
	};
	char domid[16];
	int r;

	xs_port = port;
	duet__xs_client_start(&t);
	if ((r = duet__xen_evtchn_bind(xs_port, deliver_events, NULL)) < 0)
		return r;
	if ((r = duet__xs_read(XS_TX_NONE, "domid", domid, sizeof(domid))) < 0)
		return r;
	snprintf(home, sizeof(home), "/local/domain/%s", domid);
	return 0;
}
