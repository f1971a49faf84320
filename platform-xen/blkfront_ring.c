/* The blkfront request engine (blkfront_ring.h): chunks of requests on the
 * shared ring, responses checked before they are believed.
 *
 * A request's progress lives in its driver_data: bytes issued so far,
 * chunks on the ring, the first error, and its deadline. A response id is
 * the slot number plus a generation that changes at every use, so a
 * repeated response cannot complete the next chunk that reuses the slot.
 */
#include <errno.h>
#include <string.h>

#include "blkfront_ring.h"

#define D_ISSUED   0
#define D_OUTSTAND 1
#define D_ERROR	   2
#define D_DEADLINE 3

#define ID_SLOT_BITS 8u

static uintptr_t dget(const struct duet_block_req *req, int i)
{
	return (uintptr_t)req->driver_data[i];
}

static void dset(struct duet_block_req *req, int i, uintptr_t v)
{
	req->driver_data[i] = (void *)v;
}

/* A flush is one chunk with no data: count it as one byte. */
static size_t req_total(const struct duet__bf_ring *r,
			const struct duet_block_req *req)
{
	if (req->op == DUET_BLOCK_FLUSH)
		return 1;
	return (size_t)req->count * r->sector_size;
}

unsigned duet__bf_slot_pages(unsigned indirect_segs)
{
	if (indirect_segs <= DUET__BF_SEGS)
		return DUET__BF_SEGS;
	return indirect_segs < DUET__BF_MAX_SEGS ? indirect_segs
						 : DUET__BF_MAX_SEGS;
}

void duet__bf_init(struct duet__bf_ring *r, blkif_sring_t *sring,
		   size_t ring_bytes, uint32_t sector_size, uint8_t flush_op,
		   unsigned indirect_segs, duet_time_t timeout,
		   const struct duet__bf_ops *ops, void *arg)
{
	memset(r, 0, sizeof(*r));
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&r->ring, sring, ring_bytes);
	r->ops = ops;
	r->arg = arg;
	r->sector_size = sector_size;
	r->flush_op = flush_op;
	r->segs = duet__bf_slot_pages(indirect_segs);
	r->indirect = r->segs > DUET__BF_SEGS;
	r->timeout = timeout;
	for (unsigned i = 0; i < DUET__BF_SLOTS; i++)
		r->free[i] = (uint16_t)(DUET__BF_SLOTS - 1 - i);
	r->nfree = DUET__BF_SLOTS;
	duet_list_init(&r->queue);
	duet_list_init(&r->active);
}

static void finish_if_done(struct duet__bf_ring *r, struct duet_block_req *req)
{
	if (dget(req, D_ISSUED) < req_total(r, req) ||
	    dget(req, D_OUTSTAND) != 0)
		return;
	duet_list_unlink(&req->link);
	r->ops->complete(req, (int)(intptr_t)dget(req, D_ERROR), r->arg);
}

/* The first error a chunk meets is the request's; chunks not yet issued
 * are dropped. */
static void fail_chunk(struct duet__bf_ring *r, struct duet_block_req *req,
		       int status)
{
	if (dget(req, D_ERROR) == 0)
		dset(req, D_ERROR, (uintptr_t)(intptr_t)status);
	if (dget(req, D_ISSUED) < req_total(r, req)) {
		dset(req, D_ISSUED, req_total(r, req));
		duet_list_unlink(&req->link);
		duet_list_insert_tail(&r->active, &req->link);
	}
}

/* The segments of a chunk of `len` bytes at the start of slot s. */
static void fill_segments(const struct duet__bf_ring *r, unsigned s,
			  uint32_t len, struct blkif_request_segment *seg,
			  unsigned nseg)
{
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t in_page = len - i * DUET__BF_PAGE_SIZE;

		if (in_page > DUET__BF_PAGE_SIZE)
			in_page = DUET__BF_PAGE_SIZE;
		memset(&seg[i], 0, sizeof(seg[i]));
		seg[i].gref = r->gref[s][i];
		seg[i].first_sect = 0;
		seg[i].last_sect = (uint8_t)(in_page / DUET__BF_UNIT - 1);
	}
}

static void issue_chunk(struct duet__bf_ring *r, struct duet_block_req *req)
{
	unsigned s = r->free[--r->nfree];
	struct duet__bf_slot *slot = &r->slots[s];
	blkif_request_t *ring_req =
	    RING_GET_REQUEST(&r->ring, r->ring.req_prod_pvt);
	size_t offset = dget(req, D_ISSUED);
	size_t total = req_total(r, req);
	/* Whole sectors per chunk, so that every chunk is a valid request. */
	size_t chunk_max = (size_t)r->segs * DUET__BF_PAGE_SIZE /
			   r->sector_size * r->sector_size;
	uint64_t id = (uint64_t)s | ((uint64_t)(slot->gen + 1) << ID_SLOT_BITS);
	uint32_t len;
	unsigned nseg;

	slot->gen++;
	slot->req = req;
	slot->offset = offset;
	slot->busy = true;
	slot->indirect = false;
	memset(ring_req, 0, sizeof(*ring_req));
	if (req->op == DUET_BLOCK_FLUSH) {
		len = 1;
		slot->op = r->flush_op;
		ring_req->id = id;
		ring_req->operation = r->flush_op;
		goto issued;
	}
	len =
	    (uint32_t)(total - offset < chunk_max ? total - offset : chunk_max);
	nseg = (len + DUET__BF_PAGE_SIZE - 1) / DUET__BF_PAGE_SIZE;
	slot->op = req->op == DUET_BLOCK_READ ? BLKIF_OP_READ : BLKIF_OP_WRITE;
	if (req->op == DUET_BLOCK_WRITE)
		memcpy(r->buf[s], (const uint8_t *)req->buf + offset, len);
	if (nseg > DUET__BF_SEGS) {
		blkif_request_indirect_t *ind = (void *)ring_req;

		slot->indirect = true;
		fill_segments(r, s, len, r->ind[s], nseg);
		ind->operation = BLKIF_OP_INDIRECT;
		ind->indirect_op = slot->op;
		ind->nr_segments = (uint16_t)nseg;
		ind->id = id;
		ind->sector_number =
		    (req->sector * r->sector_size + offset) / DUET__BF_UNIT;
		ind->indirect_grefs[0] = r->ind_gref[s];
		goto issued;
	}
	ring_req->id = id;
	ring_req->operation = slot->op;
	ring_req->sector_number =
	    (req->sector * r->sector_size + offset) / DUET__BF_UNIT;
	ring_req->nr_segments = (uint8_t)nseg;
	fill_segments(r, s, len, ring_req->seg, nseg);
issued:
	slot->len = len;
	r->ring.req_prod_pvt++;
	dset(req, D_ISSUED, offset + len);
	dset(req, D_OUTSTAND, dget(req, D_OUTSTAND) + 1);
	if (offset + len == total) {
		duet_list_unlink(&req->link);
		duet_list_insert_tail(&r->active, &req->link);
	}
}

/* Waiting chunks go out in FIFO order while slots and ring room last. */
static void issue_waiting(struct duet__bf_ring *r, bool *notify)
{
	int push = 0;

	while (!r->broken && !duet_list_empty(&r->queue) && r->nfree > 0 &&
	       !RING_FULL(&r->ring)) {
		issue_chunk(r, duet_container_of(r->queue.next,
						 struct duet_block_req, link));
		push = 1;
	}
	if (push) {
		int n;

		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->ring, n);
		*notify = *notify || n;
	}
}

int duet__bf_submit(struct duet__bf_ring *r, struct duet_block_req *req,
		    duet_time_t now, bool *notify)
{
	*notify = false;
	if (r->broken)
		return -ENODEV;
	if (req->op == DUET_BLOCK_FLUSH && r->flush_op == DUET__BF_NO_FLUSH)
		return -EIO;
	dset(req, D_ISSUED, 0);
	dset(req, D_OUTSTAND, 0);
	dset(req, D_ERROR, 0);
	dset(req, D_DEADLINE, (uintptr_t)(now + r->timeout));
	duet_list_insert_tail(&r->queue, &req->link);
	issue_waiting(r, notify);
	return 0;
}

static int status_errno(const struct duet__bf_slot *slot, int16_t status)
{
	if (status == BLKIF_RSP_OKAY)
		return 0;
	if (status == BLKIF_RSP_EOPNOTSUPP &&
	    (slot->op == BLKIF_OP_FLUSH_DISKCACHE ||
	     slot->op == BLKIF_OP_WRITE_BARRIER))
		return -EOPNOTSUPP;
	return -EIO;
}

static void handle_response(struct duet__bf_ring *r,
			    const blkif_response_t *rsp)
{
	uint64_t s = rsp->id & ((1u << ID_SLOT_BITS) - 1);
	struct duet__bf_slot *slot;
	struct duet_block_req *req;
	int status;

	if (s >= DUET__BF_SLOTS || !r->slots[s].busy ||
	    rsp->id >> ID_SLOT_BITS != r->slots[s].gen) {
		r->stray++;
		r->ops->error(false, "response id never issued or repeated",
			      (long)rsp->id, r->arg);
		return;
	}
	slot = &r->slots[s];
	req = slot->req;
	status = status_errno(slot, rsp->status);
	/* Backends answer an indirect request with its inner operation or,
	 * some, with BLKIF_OP_INDIRECT itself. */
	if (rsp->operation != slot->op &&
	    !(slot->indirect && rsp->operation == BLKIF_OP_INDIRECT)) {
		r->ops->error(false, "response operation differs",
			      rsp->operation, r->arg);
		status = -EIO;
	} else if (status < 0) {
		r->ops->error(false, "request failed, backend status",
			      rsp->status, r->arg);
	}
	slot->busy = false;
	slot->req = NULL;
	r->free[r->nfree++] = (uint16_t)s;
	if (status == 0 && slot->op == BLKIF_OP_READ)
		memcpy((uint8_t *)req->buf + slot->offset, r->buf[s],
		       slot->len);
	if (status < 0)
		fail_chunk(r, req, status);
	dset(req, D_OUTSTAND, dget(req, D_OUTSTAND) - 1);
	finish_if_done(r, req);
}

static int next_response(void *arg, RING_IDX idx)
{
	struct duet__bf_ring *r = arg;
	blkif_response_t rsp = *RING_GET_RESPONSE(&r->ring, idx);

	handle_response(r, &rsp);
	return r->broken ? -EPROTO : 0;
}

int duet__bf_poll(struct duet__bf_ring *r, bool *notify)
{
	bool again;
	int handled;

	*notify = false;
	r->again = false;
	if (r->broken)
		return 0;
	/* One pass (ring_poll.h): completions run callbacks that may issue
	 * more, and a quick backend answers them at once. */
	handled = duet__ring_poll(DUET__RING_CURSOR(&r->ring), next_response,
				  r, &again);
	if (handled == -ERANGE) {
		/* Failed first, as in duet__bf_expire(): the error
		 * handler takes the device down and must find nothing to
		 * hold for a new backend. */
		duet__bf_fail_all(r, -EIO);
		r->ops->error(true, "response producer index",
			      (long)r->ring.sring->rsp_prod, r->arg);
		return 0;
	}
	if (handled < 0)
		return 0; /* broken by a response: handle_response said why */
	r->again = again;
	issue_waiting(r, notify);
	return handled;
}

static duet_time_t earliest(const struct duet_list *list, duet_time_t best)
{
	for (const struct duet_list *l = list->next; l != list; l = l->next) {
		const struct duet_block_req *req =
		    duet_container_of(l, struct duet_block_req, link);
		duet_time_t d = (duet_time_t)dget(req, D_DEADLINE);

		if (best == 0 || d < best)
			best = d;
	}
	return best;
}

duet_time_t duet__bf_expire(struct duet__bf_ring *r, duet_time_t now)
{
	duet_time_t next = earliest(&r->active, earliest(&r->queue, 0));

	if (next == 0 || next > now)
		return next;
	/* Failed first: the error handler may take the device down, and
	 * must find nothing left to hold for a new backend. */
	duet__bf_fail_all(r, -ETIMEDOUT);
	r->ops->error(true, "backend did not answer within the timeout (ms)",
		      (long)(r->timeout / 1000000), r->arg);
	return 0;
}

static void fail_list(struct duet__bf_ring *r, struct duet_list *list,
		      int status)
{
	while (!duet_list_empty(list)) {
		struct duet_block_req *req =
		    duet_container_of(list->next, struct duet_block_req, link);

		duet_list_unlink(&req->link);
		r->ops->complete(req, status, r->arg);
	}
}

/* Slots stay busy: the backend may still write into their pages, and a
 * broken ring is never used again. */
void duet__bf_fail_all(struct duet__bf_ring *r, int status)
{
	r->broken = true;
	fail_list(r, &r->active, status);
	fail_list(r, &r->queue, status);
}

static void take_list(struct duet_list *list, struct duet_list *out)
{
	while (!duet_list_empty(list)) {
		struct duet_list *l = list->next;

		duet_list_unlink(l);
		duet_list_insert_tail(out, l);
	}
}

/* Requests reach the active list in the order of their first chunk, which
 * is the order they were submitted in; the queue holds the later ones. */
void duet__bf_take_all(struct duet__bf_ring *r, struct duet_list *out)
{
	r->broken = true;
	take_list(&r->active, out);
	take_list(&r->queue, out);
}

unsigned duet__bf_pending(const struct duet__bf_ring *r)
{
	unsigned n = 0;

	for (const struct duet_list *l = r->active.next; l != &r->active;
	     l = l->next)
		n++;
	for (const struct duet_list *l = r->queue.next; l != &r->queue;
	     l = l->next)
		n++;
	return n;
}
