/* The console: the Xen console ring that xenconsoled drains (into `xl
 * console` or /var/log/xen/guest-NAME.log).
 *
 * Before the ring is known, output goes to HYPERVISOR_console_io, which
 * Debian's non-debug Xen silently refuses for a domU: early messages are
 * best effort. Newlines become CR LF for the terminals `xl console` uses.
 * A full ring is waited for (the backend drains it), but never for long:
 * after CONSOLE_STALL_NS without progress the rest of a write is dropped.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/io/console.h>

#include <duet/platform.h>

#include "hypercall.h"
#include "xen.h"

#define CONSOLE_STALL_NS     DUET_SEC(2)
#define CONSOLE_STALL_YIELDS 1000000u

static struct xencons_interface *ring;
static evtchn_port_t ring_port;

void duet__xen_console_init(start_info_t *si)
{
	ring = duet__xen_mfn_to_virt(si->console.domU.mfn);
	ring_port = si->console.domU.evtchn;
}

static void ring_notify(void)
{
	struct evtchn_send send = {.port = ring_port};

	hyp_event_channel_op(EVTCHNOP_send, &send);
}

/* Waits (bounded) until the ring has room; false if it stayed full. */
static bool ring_wait_room(void)
{
	duet_time_t start = duet_plat_clock_monotonic();

	ring_notify();
	/* The count bounds the wait before the clock runs. */
	for (unsigned n = 0;
	     ring->out_prod - ring->out_cons >= sizeof(ring->out); n++) {
		if (duet_plat_clock_monotonic() - start > CONSOLE_STALL_NS ||
		    n > CONSOLE_STALL_YIELDS)
			return false;
		hyp_sched_op(SCHEDOP_yield, NULL);
		xen_barrier();
	}
	return true;
}

static bool ring_put(char c)
{
	XENCONS_RING_IDX prod = ring->out_prod;

	xen_barrier();
	if (prod - ring->out_cons >= sizeof(ring->out)) {
		if (!ring_wait_room())
			return false;
	}
	ring->out[MASK_XENCONS_IDX(prod, ring->out)] = c;
	/* The byte must be visible before the index that publishes it. */
	__asm__ volatile("sfence" ::: "memory");
	ring->out_prod = prod + 1;
	return true;
}

void duet_plat_console_write(const char *buf, size_t len)
{
	if (ring == NULL) {
		hyp_console_io(CONSOLEIO_write, len, buf);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if ((buf[i] == '\n' && !ring_put('\r')) || !ring_put(buf[i]))
			break;
	}
	ring_notify();
}

void duet__xen_console_flush(void)
{
	duet_time_t start = duet_plat_clock_monotonic();

	if (ring == NULL)
		return;
	ring_notify();
	for (unsigned n = 0;
	     ring->out_cons != ring->out_prod &&
	     duet_plat_clock_monotonic() - start < CONSOLE_STALL_NS &&
	     n < CONSOLE_STALL_YIELDS;
	     n++) {
		hyp_sched_op(SCHEDOP_yield, NULL);
		xen_barrier();
	}
}

void duet__xen_printk(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	duet_plat_console_write(
	    line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
