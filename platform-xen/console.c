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
#include <duet/replay.h>

#include "hypercall.h"
#include "xen.h"
#include "ring_barriers.h"

#define CONSOLE_STALL_NS     DUET_SEC(2)
#define CONSOLE_STALL_YIELDS 1000000u

static struct xencons_interface *ring;
static evtchn_port_t ring_port;

void duet__xen_console_init(void *page, evtchn_port_t port)
{
	ring = page;
	ring_port = port;
}

static void ring_notify(void)
{
	duet__xen_evtchn_notify(ring_port);
}

/* Publishes the bytes written up to prod: they must be visible before the
 * index that covers them (x86 keeps stores in order; the compiler must
 * too). */
static void ring_publish(XENCONS_RING_IDX prod)
{
	xen_wmb();
	ring->out_prod = prod;
}

/* Waits (bounded) until the ring has room; false if it stayed full. */
static bool ring_wait_room(XENCONS_RING_IDX prod)
{
	duet_time_t start = duet__xen_now();

	ring_publish(prod); /* what is there so far, for the backend to drain */
	ring_notify();
	/* The count bounds the wait before the clock runs. */
	for (unsigned n = 0; prod - ring->out_cons >= sizeof(ring->out); n++) {
		if (duet__xen_now() - start > CONSOLE_STALL_NS ||
		    n > CONSOLE_STALL_YIELDS)
			return false;
		hyp_sched_op(SCHEDOP_yield, NULL);
		xen_barrier();
	}
	return true;
}

/* Puts c at *prod, not yet published. */
static bool ring_put(XENCONS_RING_IDX *prod, char c)
{
	xen_barrier();
	if (*prod - ring->out_cons >= sizeof(ring->out)) {
		if (!ring_wait_room(*prod))
			return false;
	}
	ring->out[MASK_XENCONS_IDX(*prod, ring->out)] = c;
	(*prod)++;
	return true;
}

/* The platform's own lines (a crash report, the exit code) go here and
 * are no part of a recording. */
void duet__xen_console_raw(const char *buf, size_t len)
{
	XENCONS_RING_IDX prod;

	if (ring == NULL) {
		hyp_console_io(CONSOLEIO_write, len, buf);
		return;
	}
	prod = ring->out_prod;
	for (size_t i = 0; i < len; i++) {
		if ((buf[i] == '\n' && !ring_put(&prod, '\r')) ||
		    !ring_put(&prod, buf[i]))
			break;
	}
	ring_publish(prod);
	ring_notify();
}

void duet__xen_console_flush(void)
{
	duet_time_t start = duet__xen_now();

	if (ring == NULL)
		return;
	ring_notify();
	for (unsigned n = 0;
	     ring->out_cons != ring->out_prod &&
	     duet__xen_now() - start < CONSOLE_STALL_NS &&
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
	duet__xen_console_raw(
	    line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void duet_plat_console_write(const char *buf, size_t len)
{
	duet__xen_console_raw(buf, len);
	duet_rr_console(duet__xen_rr, buf, len);
}
