/* The netfront rings: see netfront_ring.h for what is checked and why. */
#include <errno.h>
#include <string.h>

#include "netfront_ring.h"

void duet__nf_init(struct duet__nf_ring *r, netif_tx_sring_t *tx_sring,
		   netif_rx_sring_t *rx_sring, size_t frame_max,
		   const struct duet__nf_ops *ops, void *arg)
{
	memset(r, 0, sizeof(*r));
	SHARED_RING_INIT(tx_sring);
	SHARED_RING_INIT(rx_sring);
	FRONT_RING_INIT(&r->tx, tx_sring, DUET__NF_PAGE_SIZE);
	FRONT_RING_INIT(&r->rx, rx_sring, DUET__NF_PAGE_SIZE);
	r->frame_max = frame_max;
	r->ops = ops;
	r->arg = arg;
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS; i++)
		r->tx_free[i] = (uint16_t)(DUET__NF_TX_SLOTS - 1 - i);
	r->tx_nfree = DUET__NF_TX_SLOTS;
}

static int fail(struct duet__nf_ring *r, const char *what, long value)
{
	r->broken = true;
	r->ops->error(DUET__NF_BROKEN, what, value, r->arg);
	return -EPROTO;
}

static void drop(struct duet__nf_ring *r, enum duet__nf_fault fault,
		 const char *what, long value)
{
	r->ops->error(fault, what, value, r->arg);
}

static int tx_one(void *arg, RING_IDX idx)
{
	struct duet__nf_ring *r = arg;
	netif_tx_response_t rsp;

	memcpy(&rsp, RING_GET_RESPONSE(&r->tx, idx), sizeof(rsp));
	if (rsp.id >= DUET__NF_TX_SLOTS || !r->tx_busy[rsp.id])
		return fail(r, "tx response for an id never issued", rsp.id);
	r->tx_busy[rsp.id] = false;
	r->tx_free[r->tx_nfree++] = rsp.id;
	if (rsp.status != NETIF_RSP_OKAY)
		drop(r, DUET__NF_TX_DROP, "tx frame failed with status",
		     rsp.status);
	return 0;
}

/* A poll's result: a count, or the ring broken (by the index, said here,
 * or by a handler, said there). */
static int polled(struct duet__nf_ring *r, int n, const char *what,
		  RING_IDX prod, RING_IDX cons)
{
	if (n == -ERANGE)
		return fail(r, what, (long)(prod - cons));
	return n < 0 ? -EPROTO : n;
}

int duet__nf_tx_reap(struct duet__nf_ring *r)
{
	RING_IDX cons = r->tx.rsp_cons;
	bool again;
	int n;

	if (r->broken)
		return -EPROTO;
	n = duet__ring_poll(DUET__RING_CURSOR(&r->tx), tx_one, r, &again);
	r->tx_again = again;
	return polled(r, n, "tx response index out of range",
		      r->tx.sring->rsp_prod, cons);
}

int duet__nf_tx_send(struct duet__nf_ring *r, const struct duet_iovec *iov,
		     unsigned iovcnt, size_t len)
{
	int notify;

	if (r->broken)
		return -ENETDOWN;
	if (len > r->frame_max || len > DUET__NF_PAGE_SIZE)
		return -EMSGSIZE;
	if ((r->tx_nfree == 0 || RING_FULL(&r->tx)) && duet__nf_tx_reap(r) < 0)
		return -ENETDOWN;
	if (r->tx_nfree == 0 || RING_FULL(&r->tx))
		return -ENOBUFS;

	uint16_t id = r->tx_free[--r->tx_nfree];
	uint8_t *p = r->tx_buf[id];
	size_t copied = 0;
	for (unsigned i = 0; i < iovcnt && copied < len; i++) {
		size_t n =
		    iov[i].len < len - copied ? iov[i].len : len - copied;
		memcpy(p + copied, iov[i].base, n);
		copied += n;
	}
	netif_tx_request_t *req = RING_GET_REQUEST(&r->tx, r->tx.req_prod_pvt);
	req->gref = r->tx_gref[id];
	req->offset = 0;
	req->flags = 0;
	req->id = id;
	req->size = (uint16_t)copied;
	r->tx.req_prod_pvt++;
	r->tx_busy[id] = true;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->tx, notify);
	return notify ? 1 : 0;
}

/* One RX response, already copied out of the ring. Returns 0 or -EPROTO. */
static int rx_one(struct duet__nf_ring *r, const netif_rx_response_t *rsp)
{
	if (rsp->id >= DUET__NF_RX_SLOTS || !r->rx_posted[rsp->id])
		return fail(r, "rx response for an id never issued", rsp->id);
	r->rx_posted[rsp->id] = false;
	if (rsp->flags & NETRXF_extra_info)
		return fail(r, "rx extra info never negotiated", rsp->flags);

	bool more = (rsp->flags & NETRXF_more_data) != 0;
	if (r->rx_skip) {
		/* The tail of a frame already dropped. */
		r->rx_skip = more;
		return 0;
	}
	if (rsp->status < 0) {
		drop(r, DUET__NF_RX_DROP, "rx frame failed with status",
		     rsp->status);
	} else if (more) {
		drop(r, DUET__NF_RX_DROP,
		     "rx frame over several slots (not negotiated)",
		     rsp->status);
	} else if ((size_t)rsp->status > r->frame_max ||
		   (size_t)rsp->offset + (size_t)rsp->status >
		       DUET__NF_PAGE_SIZE) {
		drop(r, DUET__NF_RX_DROP, "rx frame of oversize length",
		     rsp->status);
	} else {
		r->ops->deliver(r->rx_buf[rsp->id] + rsp->offset,
				(size_t)rsp->status, r->arg);
	}
	r->rx_skip = more;
	return 0;
}

static int rx_next(void *arg, RING_IDX idx)
{
	struct duet__nf_ring *r = arg;
	netif_rx_response_t rsp;

	memcpy(&rsp, RING_GET_RESPONSE(&r->rx, idx), sizeof(rsp));
	/* Broken also when the receiver closed the device. The deliver
	 * callback may send frames, never post RX buffers, so req_prod_pvt
	 * stays the bound. */
	return rx_one(r, &rsp) < 0 || r->broken ? -EPROTO : 0;
}

int duet__nf_rx_poll(struct duet__nf_ring *r)
{
	RING_IDX cons = r->rx.rsp_cons;
	bool again;
	int n;

	if (r->broken)
		return -EPROTO;
	n = duet__ring_poll(DUET__RING_CURSOR(&r->rx), rx_next, r, &again);
	r->rx_again = again;
	return polled(r, n, "rx response index out of range",
		      r->rx.sring->rsp_prod, cons);
}

int duet__nf_rx_refill(struct duet__nf_ring *r)
{
	int notify;
	bool posted = false;

	if (r->broken)
		return -ENETDOWN;
	for (uint16_t id = 0; id < DUET__NF_RX_SLOTS; id++) {
		if (r->rx_posted[id] || RING_FULL(&r->rx))
			continue;
		netif_rx_request_t *req =
		    RING_GET_REQUEST(&r->rx, r->rx.req_prod_pvt);
		req->id = id;
		req->gref = r->rx_gref[id];
		r->rx.req_prod_pvt++;
		r->rx_posted[id] = true;
		posted = true;
	}
	if (!posted)
		return 0;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->rx, notify);
	return notify ? 1 : 0;
}
