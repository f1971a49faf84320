/* Byte-range reads over a block device (see rangeread.h). */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>

#include "rangeread.h"

/* One direct read at most this big, so drivers never see a huge request. */
#define RR_DIRECT_MAX (4u << 20)

static void rr_step(struct duet__rr *rr, struct duet_kv_req *req);

int duet__rr_init(struct duet__rr *rr, struct duet_block *dev,
		  void (*done)(struct duet_kv_req *req, int status))
{
	struct duet_block_info info;

	duet_block_get_info(dev, &info);
	memset(rr, 0, sizeof(*rr));
	rr->dev = dev;
	rr->ssz = info.sector_size;
	rr->sectors = info.sector_count;
	rr->bounce_size = info.sector_size < 4096 ? 4096 : info.sector_size;
	rr->done = done;
	duet_list_init(&rr->waiting);
	for (unsigned i = 0; i < DUET__RR_BOUNCE; i++) {
		rr->pool[i] = malloc(rr->bounce_size);
		if (rr->pool[i] == NULL) {
			duet__rr_fini(rr);
			return -ENOMEM;
		}
		rr->free[rr->nfree++] = rr->pool[i];
	}
	return 0;
}

uint32_t duet__rr_io_size(const struct duet__rr *rr)
{
	struct duet_block_info info;

	duet_block_get_info(rr->dev, &info);
	return info.io_size;
}

void duet__rr_fini(struct duet__rr *rr)
{
	for (unsigned i = 0; i < DUET__RR_BOUNCE; i++) {
		free(rr->pool[i]);
		rr->pool[i] = NULL;
	}
	rr->nfree = 0;
}

/* A bounce buffer is held only while its read is in flight. */
static void rr_release(struct duet__rr *rr, struct duet_kv_req *req)
{
	uint8_t *b = req->store.read.bounce;

	if (b != NULL) {
		req->store.read.bounce = NULL;
		rr->free[rr->nfree++] = b;
	}
}

/* Bounce buffers came free: the oldest waiters go on. */
static void rr_wake(struct duet__rr *rr)
{
	while (rr->nfree > 0 && !duet_list_empty(&rr->waiting)) {
		struct duet_kv_req *w = duet_container_of(
		    rr->waiting.next, struct duet_kv_req, store_link);
		duet_list_unlink(&w->store_link);
		rr_step(rr, w);
	}
}

static void rr_finish(struct duet__rr *rr, struct duet_kv_req *req, int status)
{
	/* done may close the store; with waiters in flight it cannot. */
	bool more = !duet_list_empty(&rr->waiting);

	rr_release(rr, req);
	rr->done(req, status);
	if (more)
		rr_wake(rr);
}

static void rr_read_done(struct duet_block_req *blk, int status, void *arg)
{
	struct duet_kv_req *req = arg;
	struct duet__rr *rr = req->store.read.rr;
	uint8_t *b = req->store.read.bounce;
	(void)blk;

	if (status < 0) {
		rr_finish(rr, req, status);
		return;
	}
	if (b != NULL) {
		uint64_t cur = req->store.read.off + req->store.read.done;
		size_t in = (size_t)(cur % rr->ssz);
		size_t got = (size_t)(blk->count * rr->ssz) - in;
		size_t rem =
		    (size_t)(req->store.read.len - req->store.read.done);
		size_t n = got < rem ? got : rem;
		memcpy(req->store.read.dst + req->store.read.done,
		       b + in, n);
		req->store.read.done += n;
		rr_release(rr, req);
	} else {
		req->store.read.done += blk->count * rr->ssz;
	}
	bool more = !duet_list_empty(&rr->waiting);
	rr_step(rr, req);
	if (more)
		rr_wake(rr);
}

static void rr_step(struct duet__rr *rr, struct duet_kv_req *req)
{
	uint64_t done = req->store.read.done, len = req->store.read.len;
	uint64_t cur = req->store.read.off + done;
	uint64_t sector = cur / rr->ssz, rem = len - done;
	size_t in = (size_t)(cur % rr->ssz);
	uint8_t *b;
	int r;

	if (rem == 0) {
		rr_finish(rr, req, 0);
		return;
	}
	if (in == 0 && rem >= rr->ssz) {
		uint64_t n =
		    (rem < RR_DIRECT_MAX ? rem : RR_DIRECT_MAX) / rr->ssz;
		r = duet_block_read(rr->dev, &req->store.read.blk, sector,
				    req->store.read.dst + done, n,
				    rr_read_done, req);
	} else {
		if (rr->nfree == 0) {
			duet_list_insert_tail(&rr->waiting, &req->store_link);
			return;
		}
		b = rr->free[--rr->nfree];
		req->store.read.bounce = b;
		uint64_t n = (in + rem + rr->ssz - 1) / rr->ssz;
		uint64_t max = rr->bounce_size / rr->ssz;
		if (n > max)
			n = max;
		if (n > rr->sectors - sector)
			n = rr->sectors - sector;
		r = duet_block_read(rr->dev, &req->store.read.blk, sector, b, n,
				    rr_read_done, req);
	}
	if (r < 0)
		rr_finish(rr, req, r);
}

void duet__rr_read(struct duet__rr *rr, struct duet_kv_req *req, uint64_t off,
		   void *dst, size_t len)
{
	req->store.read.dst = dst;
	req->store.read.rr = rr;
	req->store.read.off = off;
	req->store.read.len = len;
	req->store.read.done = 0;
	req->store.read.bounce = NULL;
	rr_step(rr, req);
}

void duet__rr_get(struct duet__rr *rr, struct duet_kv_req *req,
		  uint64_t value_off, uint64_t value_len, unsigned *reads)
{
	if (req->op == DUET_KV_STAT) {
		duet_kv_complete(req, 0);
		return;
	}
	if (req->offset > value_len) {
		duet_kv_complete(req, -EINVAL);
		return;
	}
	uint64_t left = value_len - req->offset;
	size_t n = req->len < left ? req->len : (size_t)left;
	if (reads != NULL)
		(*reads)++;
	duet__rr_read(rr, req, value_off + req->offset, req->buf, n);
}
