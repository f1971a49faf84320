/* lwIP's NO_SYS port: its clock, its timeouts on a core timer, its
 * diagnostics, and the source-routing hook.
 *
 * lwIP keeps its state in globals (netif list, PCB lists, timeouts), so
 * there is one lwIP per process however many Duet stacks (netifs) sit on
 * it; this file is where that one instance is initialised and driven, and
 * its state is file-static for that reason. lwIP's timeouts are not polled:
 * after anything that may have added one (a frame in, an app call), the
 * port posts one deferred callback that re-arms a one-shot core timer at
 * sys_timeouts_sleeptime().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <duet/clock.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "lwip/init.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"

#include "hooks.h"
#include "lwip_stack.h"
#include "tcp_conn.h"

static struct {
	struct duet_loop *loop;
	unsigned users;
	struct duet_timer timer;
	struct duet_defer rearm;
	struct duet_timer tx_retry;
	netif_ext_callback_t netif_events;
	char diag[DUET_LOG_LINE_MAX];
	size_t diag_len;
} port;

u32_t sys_now(void)
{
	/* lwIP compares times modulo 2^32 ms, so the wrap is harmless. */
	return (u32_t)(duet_clock_monotonic() / DUET_NSEC_PER_MSEC);
}

static void rearm(struct duet_defer *d, void *arg)
{
	(void)d;
	(void)arg;
	u32_t ms = sys_timeouts_sleeptime();

	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		duet_timer_stop(&port.timer);
	else
		duet_timer_start(&port.timer, DUET_MSEC(ms), 0);
}

/* Counts retransmission timeouts: lwIP has no counter or hook for them,
 * but only its timer (tcp_slowtmr) retransmits with pcb->nrtx going up,
 * so what nrtx gained across sys_check_timeouts() is their number (fast
 * retransmits, from input, raise it between timers, and are absorbed by
 * the scan before). Only connections the app has: a SYN_RCVD PCB still
 * carries its listener as argument. */
static void rto_scan(bool count)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL;
	     pcb = pcb->next) {
		struct lwip_tcp *c = pcb->callback_arg;
		if (c == NULL || c->state == TCP_LISTENER)
			continue;
		if (count && pcb->nrtx > c->nrtx_seen) {
			struct netif *n = netif_get_by_index(pcb->netif_idx);
			if (n != NULL && n->state != NULL)
				((struct duet_lwip_stack *)n->state)->rtos +=
				    (uint64_t)(pcb->nrtx - c->nrtx_seen);
		}
		c->nrtx_seen = pcb->nrtx;
	}
}

static void timeouts_due(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	rto_scan(false);
	sys_check_timeouts();
	rto_scan(true);
	rearm(NULL, NULL);
}

void duet__lwip_kick(void)
{
	if (port.users > 0)
		duet_defer_post(&port.rearm);
}

/* A driver refused a frame (its queue was full), or an app's send found
 * no memory with nothing in flight (duet__lwip_tcp_nudge). lwIP keeps a
 * refused TCP segment (or ACK) queued but sends it again only when
 * something else makes it send: an ACK coming in, the app's next write,
 * its timers (up to a retransmission timeout away). A response whose last
 * segments meet a full queue would wait for that, so try again shortly; a
 * timer rather than the next loop iteration, so that a queue that stays
 * full does not spin the loop. */
#define TX_RETRY DUET_MSEC(1)

static void tx_retry_due(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL;
	     pcb = pcb->next) {
		if (pcb->flags & (TF_NAGLEMEMERR | TF_ACK_NOW))
			tcp_output(pcb);
		duet__lwip_tcp_nudge(pcb);
	}
	duet__lwip_kick();
}

void duet__lwip_tx_retry(void)
{
	if (port.users > 0 && !duet_timer_active(&port.tx_retry))
		duet_timer_start(&port.tx_retry, TX_RETRY, 0);
}

int duet__lwip_port_attach(struct duet_loop *loop)
{
	if (port.users > 0) {
		/* One lwIP, one loop: a second loop would share PCB lists. */
		if (port.loop != loop)
			return -EBUSY;
		port.users++;
		return 0;
	}
	static bool initialised;
	if (!initialised) {
		lwip_init();
		/* lwIP's netif callbacks carry no argument: one for all netifs,
		 * which finds its stack through netif->state. */
		netif_add_ext_callback(&port.netif_events,
				       duet__lwip_netif_event);
		initialised = true;
	}
	port.loop = loop;
	port.users = 1;
	duet_timer_init(loop, &port.timer, timeouts_due, NULL);
	duet_defer_init(loop, &port.rearm, rearm, NULL);
	duet_timer_init(loop, &port.tx_retry, tx_retry_due, NULL);
	duet__lwip_kick();
	return 0;
}

void duet__lwip_port_detach(void)
{
	if (port.users == 0 || --port.users > 0)
		return;
	duet_timer_stop(&port.timer);
	duet_timer_stop(&port.tx_retry);
	duet_defer_cancel(&port.rearm);
	port.loop = NULL;
	duet__lwip_mem_drain();
}

/* lwIP prints in fragments ("ip4_addr: ", "10.0.0.1", "\n"): collect them
 * into whole lines for the log. */
void duet__lwip_diag(const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(port.diag) - port.diag_len;

	va_start(ap, fmt);
	int n = vsnprintf(port.diag + port.diag_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	port.diag_len += (size_t)n < room ? (size_t)n : room - 1;
	char *nl;
	while ((nl = memchr(port.diag, '\n', port.diag_len)) != NULL) {
		*nl = '\0';
		duet_log(DUET_LOG_DEBUG, "lwip", "%s", port.diag);
		size_t rest = port.diag_len - (size_t)(nl + 1 - port.diag);
		memmove(port.diag, nl + 1, rest);
		port.diag_len = rest;
	}
	if (port.diag_len == sizeof(port.diag) - 1) {
		duet_log(DUET_LOG_DEBUG, "lwip", "%s", port.diag);
		port.diag_len = 0;
	}
}

void duet__lwip_assert(const char *msg, const char *file, int line)
{
	duet_log(DUET_LOG_ERROR, "lwip", "assertion failed: %s (%s:%d)", msg,
		 file, line);
	/* A broken invariant inside lwIP: stop here, with no libc help. */
	__builtin_trap();
}

struct netif *duet__lwip_route_src(const ip4_addr_t *src,
				   const ip4_addr_t *dest)
{
	struct netif *n;

	(void)dest;
	if (src == NULL || ip4_addr_isany(src))
		return NULL;
	NETIF_FOREACH(n)
	{
		if (netif_is_up(n) && ip4_addr_cmp(src, netif_ip4_addr(n)))
			return n;
	}
	return NULL;
}
