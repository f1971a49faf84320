/* The xenstore client: xs_proto.c's messages over the shared ring page.
 *
 * Requests are synchronous: one is in flight at a time and the caller
 * waits for its reply with SCHEDOP_poll on the xenstore port alone (bounded
 * by XS_TIMEOUT_NS), so no other event handler runs in the middle. Watch
 * events that arrive meanwhile are queued and delivered from the port's
 * handler, in loop context; the port is raised locally so that happens
 * even if xenstored sends nothing more.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdint.h>

#include <xen/io/xs_wire.h>

#include <duet/log.h>
#include <duet/platform.h>

#include "hypercall.h"
#include "xen.h"
#include "xs_proto.h"

#define XS_TIMEOUT_NS DUET_SEC(10)

static struct xenstore_domain_interface *ring;
static evtchn_port_t xs_port;
static struct duet__xs_rx rx;
static uint32_t req_counter;
static uint32_t watch_counter;
static struct duet__xs_watch *watches;
static char home[32];

/* Watch events waiting for the loop. */
static struct duet__xs_events events;

static int wait_port(duet_time_t deadline)
{
	evtchn_port_t ports[1] = {xs_port};
	struct sched_poll poll = {.nr_ports = 1, .timeout = deadline};

	set_xen_guest_handle(poll.ports, ports);
	if (duet_plat_clock_monotonic() >= deadline)
		return -ETIMEDOUT;
	hyp_sched_op(SCHEDOP_poll, &poll);
	return 0;
}

static int ring_write(const char *data, size_t len, duet_time_t deadline)
{
	while (len > 0) {
		XENSTORE_RING_IDX cons = ring->req_cons, prod = ring->req_prod;
		xen_mb();
		size_t room = XENSTORE_RING_SIZE - (prod - cons);
		if (room == 0) {
			duet__xen_evtchn_test_and_clear(xs_port);
			if (wait_port(deadline) < 0)
				return -ETIMEDOUT;
			continue;
		}
		size_t n = 0;
		for (; n < len && n < room; n++)
			ring->req[MASK_XENSTORE_IDX(prod + n)] = data[n];
		xen_mb();
		ring->req_prod = prod + (XENSTORE_RING_IDX)n;
		duet__xen_evtchn_notify(xs_port);
		data += n;
		len -= n;
	}
	return 0;
}

/* Feeds available reply bytes to rx; 1 when a message is complete. */
static int ring_read(void)
{
	for (;;) {
		XENSTORE_RING_IDX cons = ring->rsp_cons, prod = ring->rsp_prod;
		xen_mb();
		if (cons == prod)
			return 0;
		size_t avail = prod - cons;
		size_t off = MASK_XENSTORE_IDX(cons);
		if (avail > XENSTORE_RING_SIZE - off)
			avail = XENSTORE_RING_SIZE - off;
		size_t used;
		int r = duet__xs_rx_feed(&rx, ring->rsp + off, avail, &used);
		xen_mb();
		ring->rsp_cons = cons + (XENSTORE_RING_IDX)used;
		duet__xen_evtchn_notify(xs_port);
		if (r != 0)
			return r;
	}
}

static void queue_event(const struct duet__xs_msg *m)
{
	static bool warned;
	int r = duet__xs_events_push(&events, m);

	if (r == -EPROTO)
		DUET_WARN("xenstore", "malformed watch event dropped");
	else if (r == -ENOSPC && !warned) {
		warned = true;
		DUET_WARN("xenstore", "watch events overflowed the queue: "
				      "every watch will be called once");
	}
}

/* Reads messages until the reply to req_id is in rx.msg (left there).
 * Watch events on the way are queued; stray replies are dropped. */
static int wait_reply(uint32_t req_id, duet_time_t deadline)
{
	for (;;) {
		duet__xen_evtchn_test_and_clear(xs_port);
		int r = ring_read();
		if (r < 0) {
			DUET_ERROR("xenstore",
				   "oversized message: the connection is lost");
			return -EPROTO;
		}
		if (r == 0) {
			if (wait_port(deadline) < 0)
				return -ETIMEDOUT;
			continue;
		}
		if (rx.msg.hdr.type == XS_WATCH_EVENT)
			queue_event(&rx.msg);
		else if (rx.msg.hdr.req_id == req_id)
			return 0;
		duet__xs_rx_next(&rx);
	}
}

static void raise_local(evtchn_port_t port)
{
	vcpu_info_t *v = &duet__xen_shared->vcpu_info[0];

	__atomic_fetch_or(&duet__xen_shared->evtchn_pending[port / 64],
			  1UL << (port % 64), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&v->evtchn_pending_sel, 1UL << (port / 64),
			  __ATOMIC_SEQ_CST);
	v->evtchn_upcall_pending = 1;
}

/* One request and its reply: the reply stays in rx.msg until the next. */
static int request(uint32_t type, uint32_t tx, const char *const *strs,
		   size_t nstrs, const char *data)
{
	static char out[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	uint32_t id = duet__xs_next_req_id(&req_counter);
	duet_time_t deadline = duet_plat_clock_monotonic() + XS_TIMEOUT_NS;
	unsigned queued = events.len;
	bool overflowed = events.overflow;

	if (ring == NULL)
		return -ENODEV;
	int len = duet__xs_encode(out, sizeof(out), type, id, tx, strs, nstrs,
				  data, data != NULL ? strlen(data) : 0);
	if (len < 0)
		return len;
	int r = ring_write(out, (size_t)len, deadline);
	if (r == 0)
		r = wait_reply(id, deadline);
	/* wait_reply cleared the port's pending bit and stopped at our reply:
	 * watch events queued on the way, or still in the ring behind the
	 * reply, would wait for xenstored's next notification (maybe never)
	 * unless the port is raised again for deliver_events. */
	xen_mb();
	if (events.len > queued || events.overflow != overflowed ||
	    ring->rsp_cons != ring->rsp_prod)
		raise_local(xs_port);
	if (r < 0)
		return r;
	r = duet__xs_reply_status(&rx.msg, type);
	if (r < 0)
		duet__xs_rx_next(&rx);
	return r;
}

static void deliver_events(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	for (int r; (r = ring_read()) > 0; duet__xs_rx_next(&rx)) {
		if (rx.msg.hdr.type == XS_WATCH_EVENT)
			queue_event(&rx.msg);
	}
	/* Each callback may make requests, which may queue more events. */
	char path[DUET__XS_EVENT_PATH_MAX], token[DUET__XS_TOKEN_MAX];
	for (int r; (r = duet__xs_events_pop(&events, path, sizeof(path), token,
					     sizeof(token))) > 0;) {
		for (struct duet__xs_watch *w = watches; w != NULL;
		     w = w->next) {
			if (r == 2)
				w->cb(w->path, w->arg); /* after an overflow */
			else if (strcmp(w->token, token) == 0)
				w->cb(path, w->arg);
		}
	}
}

int duet__xs_read(uint32_t tx, const char *path, char *buf, size_t size)
{
	int r = request(XS_READ, tx, &path, 1, NULL);

	if (r < 0)
		return r;
	r = duet__xs_copy_value(&rx.msg, buf, size);
	duet__xs_rx_next(&rx);
	return r;
}

int duet__xs_write(uint32_t tx, const char *path, const char *value)
{
	int r = request(XS_WRITE, tx, &path, 1, value);

	if (r == 0)
		duet__xs_rx_next(&rx);
	return r;
}

int duet__xs_rm(uint32_t tx, const char *path)
{
	int r = request(XS_RM, tx, &path, 1, NULL);

	if (r == 0)
		duet__xs_rx_next(&rx);
	return r;
}

int duet__xs_directory(uint32_t tx, const char *path, char *buf, size_t size)
{
	int r = request(XS_DIRECTORY, tx, &path, 1, NULL);
	int count = 0;

	if (r < 0)
		return r;
	if (rx.msg.hdr.len > size)
		r = -ERANGE;
	else {
		memcpy(buf, rx.msg.body, rx.msg.hdr.len);
		for (size_t i = 0; i < rx.msg.hdr.len; i++)
			count += buf[i] == '\0';
	}
	duet__xs_rx_next(&rx);
	return r < 0 ? r : count;
}

int duet__xs_tx_start(uint32_t *tx)
{
	const char *empty = "";
	int r = request(XS_TRANSACTION_START, XS_TX_NONE, &empty, 1, NULL);

	if (r < 0)
		return r;
	r = duet__xs_tx_id(&rx.msg, tx);
	duet__xs_rx_next(&rx);
	return r;
}

int duet__xs_tx_end(uint32_t tx, bool commit)
{
	const char *how = commit ? "T" : "F";
	int r = request(XS_TRANSACTION_END, tx, &how, 1, NULL);

	if (r == 0)
		duet__xs_rx_next(&rx);
	return r;
}

int duet__xs_watch(struct duet__xs_watch *w, const char *path,
		   duet__xs_watch_cb cb, void *arg)
{
	snprintf(w->token, sizeof(w->token), "duet%u", ++watch_counter);
	w->path = path;
	w->cb = cb;
	w->arg = arg;
	w->next = watches;
	watches = w;
	const char *strs[2] = {path, w->token};
	int r = request(XS_WATCH, XS_TX_NONE, strs, 2, NULL);
	if (r < 0) {
		watches = w->next;
		return r;
	}
	duet__xs_rx_next(&rx);
	return 0;
}

int duet__xs_unwatch(struct duet__xs_watch *w)
{
	for (struct duet__xs_watch **p = &watches; *p != NULL;
	     p = &(*p)->next) {
		if (*p != w)
			continue;
		*p = w->next;
		const char *strs[2] = {w->path, w->token};
		int r = request(XS_UNWATCH, XS_TX_NONE, strs, 2, NULL);
		if (r == 0)
			duet__xs_rx_next(&rx);
		return r;
	}
	return -ENOENT;
}

const char *duet__xs_home(void)
{
	return home;
}

int duet__xs_init(start_info_t *si)
{
	char domid[16];
	int r;

	ring = duet__xen_mfn_to_virt(si->store_mfn);
	xs_port = si->store_evtchn;
	duet__xs_rx_reset(&rx);
	if ((r = duet__xen_evtchn_bind(xs_port, deliver_events, NULL)) < 0)
		return r;
	/* Anything already in the ring belongs to no request of ours. */
	ring->rsp_cons = ring->rsp_prod;
	if ((r = duet__xs_read(XS_TX_NONE, "domid", domid, sizeof(domid))) < 0)
		return r;
	snprintf(home, sizeof(home), "/local/domain/%s", domid);
	return 0;
}
