/* The Xen PV block front end, data path: one duet_block device per vbd.
 *
 * blkfront_ring.c does the protocol; this file gives it pages, grants and
 * an event channel, and ties it to the loop: the backend's notifications
 * run the response poll, and a one-second timer watches for a backend that
 * stopped answering (DUET__BF_TIMEOUT): the platform's own timer
 * (ptimer.c), not the loop's, so that a recording holds none of it. Every slot's bounce pages are
 * granted once per connection (blkfront_xs.c runs the protocol: xenbus.h)
 * and taken back only once the backend has closed and unmapped them; a
 * page it still maps is never reused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/log.h>

/* xen.h first: it defines xen_mb() for the ring macros. */
#include "xen.h"
#include "blkfront_ring.h"
#include "xenbus.h"

#define DUET__BF_TIMEOUT DUET_SEC(30)
#define BF_WARN_MAX	 8

struct duet__blkfront {
	struct duet_block blk;
	struct duet_loop *loop;
	struct duet__bf_ring ring;
	/* Below the platform line (ptimer.c), as the driver's own work. */
	struct duet__xt watchdog;
	struct duet__xt repoll; /* responses came in while polling */
	blkif_sring_t *sring;
	grant_ref_t sring_ref;
	evtchn_port_t port;
	struct duet__xb_front *xb;
	bool up;
	bool registered;
	/* Between backends: requests held for the next one, and how long
	 * they may wait for it. */
	struct duet_list held;
	struct duet__xt hold_timer;
	bool gone; /* for good: requests fail at once */
	unsigned nwarn;
	char name[8];
};

static struct duet__blkfront disks[DUET__BF_MAX_DISKS];

static struct duet__blkfront *bf_of(struct duet_block *blk)
{
	return duet_container_of(blk, struct duet__blkfront, blk);
}

const char *duet__blkfront_name(const struct duet__blkfront *bf)
{
	return bf->name;
}

static void on_complete(struct duet_block_req *req, int status, void *arg)
{
	(void)arg;
	duet_block_complete(req, status);
}

static void on_error(bool fatal, const char *what, long value, void *arg)
{
	struct duet__blkfront *bf = arg;

	if (fatal) {
		DUET_ERROR("blkfront", "%s: backend error: %s (%ld): disk down",
			   bf->name, what, value);
		duet__xb_fail(bf->xb, "protocol error");
		return;
	}
	if (++bf->nwarn <= BF_WARN_MAX)
		DUET_ERROR("blkfront", "%s: %s (%ld)%s", bf->name, what, value,
			   bf->nwarn == BF_WARN_MAX ? " (no more of these)"
						    : "");
}

static const struct duet__bf_ops ring_ops = {
    .complete = on_complete,
    .error = on_error,
};

/* After a submit: something is pending. The watchdog stops itself once
 * nothing is. */
static void arm_watchdog(struct duet__blkfront *bf)
{
	if (!duet__xt_active(&bf->watchdog))
		duet__xt_start(&bf->watchdog, DUET_SEC(1), DUET_SEC(1));
}

static void on_watchdog(struct duet__xt *t, void *arg)
{
	struct duet__blkfront *bf = arg;

	if (duet__bf_expire(&bf->ring, duet__xen_now()) == 0)
		duet__xt_stop(t);
}

static void poll_ring(struct duet__blkfront *bf)
{
	bool notify = false;

	if (!bf->up)
		return;
	duet__bf_poll(&bf->ring, &notify);
	if (notify)
		duet__xen_evtchn_notify(bf->port);
	if (bf->ring.again)
		duet__xt_post(&bf->repoll);
}

static void on_event(evtchn_port_t port, void *arg)
{
	(void)port;
	poll_ring(arg);
}

/* The next loop iteration, so timers and other devices get their turn
 * while a quick backend keeps answering. */
static void on_repoll(struct duet__xt *d, void *arg)
{
	(void)d;
	poll_ring(arg);
}

static void fail_held(struct duet__blkfront *bf, const char *why)
{
	unsigned n = 0;

	for (struct duet_list *l = bf->held.next; l != &bf->held; l = l->next)
		n++;
	duet__xt_stop(&bf->hold_timer);
	if (n == 0)
		return;
	DUET_WARN("blkfront", "%s: %s: failing %u requests", bf->name, why, n);
	while (!duet_list_empty(&bf->held)) {
		struct duet_block_req *req = duet_container_of(
		    bf->held.next, struct duet_block_req, link);
		duet_list_unlink(&req->link);
		duet_block_complete(req, -ENODEV);
	}
}

static void on_hold_timeout(struct duet__xt *t, void *arg)
{
	(void)t;
	fail_held(arg, "no backend within the timeout");
}

/* Between backends: the request waits for the next one (bounded). */
static void hold(struct duet__blkfront *bf, struct duet_block_req *req)
{
	duet_list_insert_tail(&bf->held, &req->link);
	if (!duet__xt_active(&bf->hold_timer))
		duet__xt_start(&bf->hold_timer, DUET__BF_TIMEOUT, 0);
}

static int bf_submit(struct duet_block *blk, struct duet_block_req *req)
{
	struct duet__blkfront *bf = bf_of(blk);
	bool notify = false;
	int r;

	if (!bf->up) {
		if (bf->gone)
			return -ENODEV;
		hold(bf, req);
		return 0;
	}
	/* -EIO for a flush the backend does not offer: connect logged that
	 * once. */
	r = duet__bf_submit(&bf->ring, req, duet__xen_now(), &notify);
	if (r < 0)
		return r;
	if (notify)
		duet__xen_evtchn_notify(bf->port);
	arm_watchdog(bf);
	return 0;
}

static const struct duet_block_ops blkfront_ops = {
    .submit = bf_submit,
};

struct duet__blkfront *duet__blkfront_new(struct duet_loop *loop,
					  unsigned index,
					  struct duet__xb_front *xb)
{
	struct duet__blkfront *bf;

	/* Discovery runs once per boot: a disk is made once. */
	if (index >= DUET__BF_MAX_DISKS)
		return NULL;
	bf = &disks[index];
	memset(bf, 0, sizeof(*bf));
	bf->loop = loop;
	bf->xb = xb;
	snprintf(bf->name, sizeof(bf->name), "disk%u", index);
	duet_list_init(&bf->held);
	duet__xt_init(&bf->hold_timer, on_hold_timeout, bf);
	duet__xt_init(&bf->watchdog, on_watchdog, bf);
	duet__xt_init(&bf->repoll, on_repoll, bf);
	return bf;
}

/* The shared ring page and every slot's pages, granted to the backend, and
 * an unbound event channel for it to bind. */
/* A slot's data pages (writable: reads land in them) and, with indirect
 * descriptors, its segment-list page (read-only for the backend). */
static int grant_slot(struct duet__blkfront *bf, unsigned s)
{
	unsigned npages = bf->ring.segs;
	uint8_t *pages = duet__xen_pages_alloc(npages);
	int r;

	if (pages == NULL)
		return -ENOMEM;
	bf->ring.buf[s] = pages;
	for (unsigned i = 0; i < npages; i++) {
		r = duet__xen_grant_access(
		    bf->xb->backend_id,
		    duet__xen_virt_to_frame(pages + i * XEN_PAGE_SIZE), false,
		    &bf->ring.gref[s][i]);
		if (r < 0)
			return r;
	}
	if (!bf->ring.indirect)
		return 0;
	bf->ring.ind[s] = duet__xen_pages_alloc(1);
	if (bf->ring.ind[s] == NULL)
		return -ENOMEM;
	return duet__xen_grant_access(bf->xb->backend_id,
				      duet__xen_virt_to_frame(bf->ring.ind[s]),
				      true, &bf->ring.ind_gref[s]);
}

int duet__blkfront_grant(struct duet__blkfront *bf, unsigned indirect_segs,
			 uint32_t *ring_ref, uint32_t *port)
{
	grant_ref_t ref;
	int r;

	bf->sring = duet__xen_pages_alloc(1);
	if (bf->sring == NULL)
		return -ENOMEM;
	memset(bf->sring, 0, XEN_PAGE_SIZE);
	/* The geometry comes with Connected: duet__blkfront_start(). */
	duet__bf_init(&bf->ring, bf->sring, XEN_PAGE_SIZE, 512,
		      DUET__BF_NO_FLUSH, indirect_segs, DUET__BF_TIMEOUT,
		      &ring_ops, bf);
	if ((r = duet__xen_grant_access(bf->xb->backend_id,
					duet__xen_virt_to_frame(bf->sring), false,
					&ref)) < 0)
		return r;
	bf->sring_ref = ref;
	*ring_ref = ref;
	for (unsigned s = 0; s < DUET__BF_SLOTS; s++)
		if ((r = grant_slot(bf, s)) < 0)
			return r;
	r = duet__xen_evtchn_alloc_unbound(bf->xb->backend_id, on_event, bf,
					   &bf->port);
	if (r < 0)
		return r;
	*port = bf->port;
	return 0;
}

/* Returns false if the backend still maps a page: then nothing is freed
 * (the pages stay out of the allocator for good). */
bool duet__blkfront_release(struct duet__blkfront *bf)
{
	struct duet__bf_ring *r = &bf->ring;
	bool all = true;

	if (bf->port != 0)
		duet__xen_evtchn_unbind(bf->port);
	bf->port = 0;
	all &= duet__xen_grant_end_ref(&bf->sring_ref);
	for (unsigned s = 0; s < DUET__BF_SLOTS; s++) {
		for (unsigned i = 0; i < DUET__BF_MAX_SEGS; i++)
			all &= duet__xen_grant_end_ref(&r->gref[s][i]);
		all &= duet__xen_grant_end_ref(&r->ind_gref[s]);
	}
	if (!all)
		return false;
	for (unsigned s = 0; s < DUET__BF_SLOTS; s++) {
		if (r->buf[s] != NULL)
			duet__xen_pages_free(r->buf[s], r->segs);
		if (r->ind[s] != NULL)
			duet__xen_pages_free(r->ind[s], 1);
		r->buf[s] = NULL;
		r->ind[s] = NULL;
	}
	if (bf->sring != NULL)
		duet__xen_pages_free(bf->sring, 1);
	bf->sring = NULL;
	return true;
}

/* A new backend: what was held goes to it, in the order it came. */
static void replay(struct duet__blkfront *bf)
{
	struct duet_list batch;
	bool notify = false, any = false;
	unsigned n = 0;

	duet__xt_stop(&bf->hold_timer);
	duet_list_init(&batch);
	duet_list_move_all(&bf->held, &batch);
	while (!duet_list_empty(&batch)) {
		struct duet_block_req *req =
		    duet_container_of(batch.next, struct duet_block_req, link);
		bool nt;

		duet_list_unlink(&req->link);
		int r = duet__bf_submit(&bf->ring, req, duet__xen_now(),
					&nt);
		if (r < 0)
			duet_block_complete(req, r);
		notify |= nt;
		any = true;
		n++;
	}
	if (notify)
		duet__xen_evtchn_notify(bf->port);
	if (any) {
		DUET_INFO("blkfront", "%s: %u requests sent to the new backend",
			  bf->name, n);
		arm_watchdog(bf);
	}
}

/* The backend is Connected with this geometry. The first time, the disk is
 * registered; after a reconnection the backend must offer the same disk. */
int duet__blkfront_start(struct duet__blkfront *bf,
			 const struct duet_block_info *info, uint8_t flush_op)
{
	int r;

	/* The sector size was checked with the geometry (blkfront_xs.c). */
	if (bf->registered) {
		const struct duet_block_info *was = &bf->blk.info;
		if (was->sector_size != info->sector_size ||
		    was->sector_count != info->sector_count ||
		    was->read_only != info->read_only) {
			DUET_ERROR("blkfront",
				   "%s: the backend came back with another "
				   "disk (%llu sectors of %u bytes%s)",
				   bf->name,
				   (unsigned long long)info->sector_count,
				   info->sector_size,
				   info->read_only ? ", read-only" : "");
			return -EPROTO;
		}
	}
	/* No request has been issued yet: the engine takes the geometry. */
	bf->ring.sector_size = info->sector_size;
	bf->ring.flush_op = flush_op;
	bf->up = true;
	if (bf->registered) {
		replay(bf);
		return 0;
	}
	r = duet_block_register(bf->loop, &bf->blk, bf->name, &blkfront_ops,
				info);
	if (r < 0)
		bf->up = false;
	else
		bf->registered = true;
	return r;
}

/* Requests in flight are held for the next backend (a restart), unless
 * the ring broke (a protocol error: the device will not come back), and
 * fail when the device is gone or no backend comes within the timeout. */
void duet__blkfront_disconnect(struct duet__blkfront *bf, const char *why)
{
	if (!bf->up)
		return;
	bf->up = false;
	duet__xen_evtchn_mask(bf->port);
	duet__xt_stop(&bf->watchdog);
	duet__xt_stop(&bf->repoll);
	if (bf->ring.broken) {
		DUET_WARN("blkfront", "%s: %s: failing %u requests", bf->name,
			  why, duet__bf_pending(&bf->ring));
		duet__bf_fail_all(&bf->ring, -ENODEV);
		return;
	}
	unsigned n = duet__bf_pending(&bf->ring);
	duet__bf_take_all(&bf->ring, &bf->held);
	if (n > 0 && !duet__xt_active(&bf->hold_timer))
		duet__xt_start(&bf->hold_timer, DUET__BF_TIMEOUT, 0);
	DUET_WARN("blkfront", "%s: %s: holding %u requests for its return",
		  bf->name, why, n);
}

void duet__blkfront_gone(struct duet__blkfront *bf)
{
	bf->gone = true;
	bf->up = false;
	fail_held(bf, "device gone");
}
