/* The xenstore client over the shared ring page (xs_client.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <duet/log.h>
#include <duet/platform.h>

#include "ring_barriers.h"
#include "xs_client.h"
#include "xs_proto.h"

static struct duet__xs_transport tp;
static struct duet__xs_rx rx;
static bool lost;
static uint32_t req_counter;
static uint32_t watch_counter;
static struct duet__xs_watch *watches;

/* Watch events waiting for the loop. */
static struct duet__xs_events events;

#define RING_LOAD(field) __atomic_load_n(&tp.ring->field, __ATOMIC_ACQUIRE)

static int lose(const char *why)
{
	if (!lost)
		DUET_ERROR("xenstore", "%s: the connection is lost", why);
	lost = true;
	return -EPROTO;
}

/* Waits for xenstored; -ETIMEDOUT once the deadline has passed. */
static int wait_ring(duet_time_t deadline)
{
	if (tp.now() >= deadline)
		return -ETIMEDOUT;
	tp.wait(deadline);
	return 0;
}

static int ring_write(const char *data, size_t len, duet_time_t deadline)
{
	size_t whole = len;

	while (len > 0) {
		XENSTORE_RING_IDX cons = RING_LOAD(req_cons);
		XENSTORE_RING_IDX prod = RING_LOAD(req_prod);
		if ((XENSTORE_RING_IDX)(prod - cons) > XENSTORE_RING_SIZE)
			return lose("request ring indexes out of bounds");
		size_t room = XENSTORE_RING_SIZE - (prod - cons);
		if (room == 0) {
			tp.clear();
			if (wait_ring(deadline) == 0)
				continue;
			/* xenstored would take the next request's bytes as
			 * this one's rest. */
			if (len < whole)
				return lose("a request cut short");
			return -ETIMEDOUT;
		}
		size_t n = 0;
		for (; n < len && n < room; n++)
			tp.ring->req[MASK_XENSTORE_IDX(prod + n)] = data[n];
		xen_wmb();
		__atomic_store_n(&tp.ring->req_prod,
				 prod + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
		tp.notify();
		data += n;
		len -= n;
	}
	return 0;
}

/* Feeds available reply bytes to rx: 1 when a message is complete, 0
 * when the ring has no more, -EPROTO when the connection is lost. */
static int ring_read(void)
{
	if (lost)
		return -EPROTO;
	for (;;) {
		XENSTORE_RING_IDX cons = RING_LOAD(rsp_cons);
		XENSTORE_RING_IDX prod = RING_LOAD(rsp_prod);
		if (cons == prod)
			return 0;
		if ((XENSTORE_RING_IDX)(prod - cons) > XENSTORE_RING_SIZE)
			return lose("reply ring indexes out of bounds");
		size_t avail = (XENSTORE_RING_IDX)(prod - cons);
		size_t off = MASK_XENSTORE_IDX(cons);
		if (avail > XENSTORE_RING_SIZE - off)
			avail = XENSTORE_RING_SIZE - off;
		size_t used;
		int r = duet__xs_rx_feed(&rx, tp.ring->rsp + off, avail, &used);
		xen_mb();
		__atomic_store_n(&tp.ring->rsp_cons,
				 cons + (XENSTORE_RING_IDX)used,
				 __ATOMIC_RELEASE);
		tp.notify();
		if (r < 0)
			return lose("oversized message");
		if (r > 0)
			return 1;
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
		tp.clear();
		int r = ring_read();
		if (r < 0)
			return r;
		if (r == 0) {
			if (wait_ring(deadline) < 0)
				return -ETIMEDOUT;
			continue;
		}
		if (rx.msg.hdr.type == XS_WATCH_EVENT)
			queue_event(&rx.msg);
		else if (rx.msg.hdr.req_id == req_id)
			return 0;
		duet__xs_rx_next(&rx);
		/* A flood of messages for others does not extend the wait. */
		if (tp.now() >= deadline)
			return -ETIMEDOUT;
	}
}

/* One request and its reply: the reply stays in rx.msg until the next. */
static int request(uint32_t type, uint32_t tx, const char *const *strs,
		   size_t nstrs, const char *data)
{
	static char out[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	uint32_t id = duet__xs_next_req_id(&req_counter);
	duet_time_t deadline = tp.now() + DUET__XS_TIMEOUT;
	unsigned queued = events.len;
	bool overflowed = events.overflow;

	if (tp.ring == NULL)
		return -ENODEV;
	if (lost)
		return -EPROTO;
	int len = duet__xs_encode(out, sizeof(out), type, id, tx, strs, nstrs,
				  data, data != NULL ? strlen(data) : 0);
	if (len < 0)
		return len;
	int r = ring_write(out, (size_t)len, deadline);
	if (r == 0)
		r = wait_reply(id, deadline);
	/* wait_reply cleared the port's pending flag and stopped at our
	 * reply: watch events queued on the way, or still in the ring behind
	 * the reply, would wait for xenstored's next notification (maybe
	 * never) unless the port is raised again for the handler. */
	xen_mb();
	if (events.len > queued || events.overflow != overflowed ||
	    (!lost && RING_LOAD(rsp_cons) != RING_LOAD(rsp_prod)))
		tp.raise();
	if (r < 0)
		return r;
	r = duet__xs_reply_status(&rx.msg, type);
	if (r < 0)
		duet__xs_rx_next(&rx);
	return r;
}

void duet__xs_client_deliver(void)
{
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

bool duet__xs_client_lost(void)
{
	return lost;
}

void duet__xs_client_start(const struct duet__xs_transport *t)
{
	tp = *t;
	duet__xs_rx_reset(&rx);
	memset(&events, 0, sizeof(events));
	lost = false;
	watches = NULL;
	req_counter = watch_counter = 0;
	__atomic_store_n(&tp.ring->rsp_cons, RING_LOAD(rsp_prod),
			 __ATOMIC_RELEASE);
}
