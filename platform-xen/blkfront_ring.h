/* blkfront_ring.h — the Xen blkfront's request engine, as plain C.
 *
 * One vbd's shared ring (Xen's public blkif protocol, one page) driven from
 * duet_block requests. Every slot owns `segs` pages (11, the most one ring
 * request can name, or up to DUET__BF_MAX_SEGS when the backend offers
 * indirect descriptors: then a request names its pages in an indirect
 * page of the slot's) that are granted to the backend once, at setup:
 * writes are copied into them and reads out of them. So no caller buffer is
 * ever granted: alignment does not matter, nothing is granted or allocated
 * per request, and a backend that answers late (or never) cannot touch the
 * caller's memory after its request has completed.
 *
 * A request of any length is split into chunks of at most one slot's pages
 * (44 KiB, or 128 KiB with indirect descriptors); chunks of several requests
 * share the ring and complete in any order; the request completes once, when
 * its last chunk has, with the first error any chunk met. Requests that find no
 * free slot wait in a FIFO.
 *
 * The backend is another domain and is not trusted: each response is copied
 * out of the ring once and checked. A producer index that moves past the
 * requests we issued is a protocol error: the ring is marked broken, every
 * request in flight or waiting fails with -EIO, and later submits get
 * -ENODEV. A response id that was never issued or was already answered is
 * logged (ops->error, not fatal) and dropped. A bad status fails that chunk
 * (-EIO; -EOPNOTSUPP for a flush the backend refuses). A request (in flight
 * or waiting) older than the timeout means the backend has stopped: every
 * request fails with -ETIMEDOUT and the ring is broken, so nothing hangs.
 *
 * Plain C so that the host tests (tests/unit/xen_blkfront_test.c) drive it
 * against a fake, misbehaving backend. blkfront.c does the Xen side (grants,
 * event channel, the duet_block device) and blkfront_xs.c the handshake.
 */
#ifndef DUET_XEN_BLKFRONT_RING_H
#define DUET_XEN_BLKFRONT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Xen build sets the interface version; the host tests take the same
 * one, so that ring.h uses the xen_*mb() below rather than Linux's mb(). */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#include <duet/block.h>
#include <duet/clock.h>

#include "ring_poll.h"

#define DUET__BF_PAGE_SIZE 4096u
#define DUET__BF_SEGS	   BLKIF_MAX_SEGMENTS_PER_REQUEST
/* With indirect descriptors: 128 KiB per request, the segments of one
 * indirect page's first 32 entries. */
#define DUET__BF_MAX_SEGS   32u
#define DUET__BF_SLOT_BYTES (DUET__BF_MAX_SEGS * DUET__BF_PAGE_SIZE)
/* Half of a one-page ring (32 entries): 16 slots of bounce pages (704 KiB,
 * or 2 MiB with indirect descriptors) keep a small domain small. */
#define DUET__BF_SLOTS 16u
/* Blkif's own unit: sector numbers and segment bounds count 512 bytes. */
#define DUET__BF_UNIT 512u

/* No flush the backend offers: flushes fail (-EIO) rather than lie. */
#define DUET__BF_NO_FLUSH 0xffu

struct duet__bf_ops {
	/* A request is done (exactly once per request). */
	void (*complete)(struct duet_block_req *req, int status, void *arg);
	/* A misbehaving backend or a failed chunk: `what` names it, `value`
	 * is the offending number. Fatal errors leave the ring broken. */
	void (*error)(bool fatal, const char *what, long value, void *arg);
};

struct duet__bf_slot {
	struct duet_block_req *req;
	size_t offset; /* byte offset of this chunk in the request */
	uint32_t len;
	uint32_t gen; /* changes at every use: part of the response id */
	uint8_t op;
	bool busy;
	bool indirect; /* sent as BLKIF_OP_INDIRECT */
};

struct duet__bf_ring {
	blkif_front_ring_t ring;
	const struct duet__bf_ops *ops;
	void *arg;
	uint32_t sector_size;
	uint8_t flush_op; /* BLKIF_OP_FLUSH_DISKCACHE, _WRITE_BARRIER or none */
	unsigned segs;	  /* pages per slot (and at most per request) */
	bool indirect;	  /* requests of more than 11 pages go indirect */
	duet_time_t timeout;
	bool broken;
	bool again;	/* responses arrived during the last poll */
	unsigned stray; /* responses dropped: unknown or repeated ids */

	/* Filled in by the caller after duet__bf_init(): `segs` contiguous
	 * pages per slot, each granted writable; with indirect descriptors
	 * also one page per slot for the segment list, granted read-only. */
	uint8_t *buf[DUET__BF_SLOTS];
	grant_ref_t gref[DUET__BF_SLOTS][DUET__BF_MAX_SEGS];
	struct blkif_request_segment *ind[DUET__BF_SLOTS];
	grant_ref_t ind_gref[DUET__BF_SLOTS];

	struct duet__bf_slot slots[DUET__BF_SLOTS];
	uint16_t free[DUET__BF_SLOTS];
	unsigned nfree;
	struct duet_list queue;	 /* requests with chunks still to issue */
	struct duet_list active; /* requests with chunks on the ring */
};

/* `sring` is the shared page (ring_bytes long), initialised here.
 * `indirect_segs` is the backend's feature-max-indirect-segments (0 if it
 * has none): duet__bf_slot_pages() says how many pages each slot needs. */
void duet__bf_init(struct duet__bf_ring *r, blkif_sring_t *sring,
		   size_t ring_bytes, uint32_t sector_size, uint8_t flush_op,
		   unsigned indirect_segs, duet_time_t timeout,
		   const struct duet__bf_ops *ops, void *arg);
unsigned duet__bf_slot_pages(unsigned indirect_segs);

/* Takes req (READ, WRITE or FLUSH, its fields set as duet_block_submit
 * does) and puts what it can on the ring. 0, or -ENODEV if broken, or
 * -EIO for a flush the backend does not offer. The sector size is the
 * caller's to check (a multiple of DUET__BF_UNIT, at most DUET__BF_SEGS
 * pages: blkfront_xs.c). *notify says the backend must be told. */
int duet__bf_submit(struct duet__bf_ring *r, struct duet_block_req *req,
		    duet_time_t now, bool *notify);

/* Handles the responses the backend has produced so far (one pass: it
 * never waits for more), then issues waiting chunks. Returns the number of
 * responses handled; r->again says more arrived meanwhile and the caller
 * should poll again (from the loop, not in a tight loop). */
int duet__bf_poll(struct duet__bf_ring *r, bool *notify);

/* Fails everything if a request has waited past the timeout. Returns the
 * earliest deadline still pending, or 0 if nothing is. */
duet_time_t duet__bf_expire(struct duet__bf_ring *r, duet_time_t now);

/* The backend went away: every request fails with `status`; the ring is
 * broken from then on. */
void duet__bf_fail_all(struct duet__bf_ring *r, int status);

/* The backend went away but may come back (a restart): every request
 * taken and not completed is appended to `out`, in the order it was
 * submitted, without completing it, so that it can be submitted again on
 * the next ring from the start (writes rewrite the same bytes, reads land
 * in the caller's buffer again, a flush flushes again). The ring is broken
 * from then on. */
void duet__bf_take_all(struct duet__bf_ring *r, struct duet_list *out);

/* Requests taken and not yet completed. */
unsigned duet__bf_pending(const struct duet__bf_ring *r);

/* The Xen side (not built on the host). blkfront_xs.c finds device/vbd/N,
 * runs the handshake and registers disk0, disk1, ... in the order of N;
 * blkfront.c owns the ring's pages, grants and event channel. */
#define DUET__BF_MAX_DISKS 4

struct duet_loop;
struct duet__blkfront;
struct duet__xb_front;

/* blkfront.c, for blkfront_xs.c. `xb` is the disk's protocol state
 * (xenbus.h): the backend's domain, and where a protocol error goes. */
struct duet__blkfront *duet__blkfront_new(struct duet_loop *loop,
					  unsigned index,
					  struct duet__xb_front *xb);
int duet__blkfront_grant(struct duet__blkfront *bf, unsigned indirect_segs,
			 uint32_t *ring_ref, uint32_t *port);
int duet__blkfront_start(struct duet__blkfront *bf,
			 const struct duet_block_info *info, uint8_t flush_op);
/* The backend is leaving: requests wait (bounded) for the next one. */
void duet__blkfront_disconnect(struct duet__blkfront *bf, const char *why);
/* The device will not come back: what waits fails with -ENODEV, and every
 * later request too. */
void duet__blkfront_gone(struct duet__blkfront *bf);
/* The backend has closed: take back the pages and the event channel
 * (false, and nothing freed, if it still maps a page). */
bool duet__blkfront_release(struct duet__blkfront *bf);
const char *duet__blkfront_name(const struct duet__blkfront *bf);

#endif
