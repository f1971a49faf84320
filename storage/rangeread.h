/* Byte-range reads from a block device into a caller's buffer, for the
 * stores' get: whole sectors go straight into the buffer; a partial sector
 * at either end goes through one of a few bounce buffers owned by the
 * reader (a request waits when all are busy), so gets never allocate.
 *
 * A read uses the request's store.read state until `done` runs with 0 or a
 * negative errno. */
#ifndef DUET_STORAGE_RANGEREAD_H
#define DUET_STORAGE_RANGEREAD_H

#include <duet/kv.h>

#define DUET__RR_BOUNCE 4

struct duet__rr {
	struct duet_block *dev;
	uint32_t ssz;
	uint64_t sectors;
	size_t bounce_size;
	uint8_t *pool[DUET__RR_BOUNCE];
	uint8_t *free[DUET__RR_BOUNCE];
	unsigned nfree;
	struct duet_list waiting;
	void (*done)(struct duet_kv_req *req, int status);
};

int duet__rr_init(struct duet__rr *rr, struct duet_block *dev,
		  void (*done)(struct duet_kv_req *req, int status));
void duet__rr_fini(struct duet__rr *rr);
/* The device's preferred I/O size (duet/block.h). */
uint32_t duet__rr_io_size(const struct duet__rr *rr);
/* Reads device bytes [off, off + len) into dst; the range must be on the
 * device. */
void duet__rr_read(struct duet__rr *rr, struct duet_kv_req *req, uint64_t off,
		   void *dst, size_t len);
/* The rest of a store's get or stat, once it has found the value (value_len
 * bytes at device offset value_off) and filled req->stat: completes a stat,
 * or a get past the value's end with -EINVAL; else reads the bytes asked
 * for, counting the read in *reads (if not NULL) before it starts. */
void duet__rr_get(struct duet__rr *rr, struct duet_kv_req *req,
		  uint64_t value_off, uint64_t value_len, unsigned *reads);
/* The device offset a read started at, and the bytes it was asked for. */
static inline uint64_t duet__rr_offset(const struct duet_kv_req *req)
{
	return req->store.read.off;
}

static inline uint64_t duet__rr_len(const struct duet_kv_req *req)
{
	return req->store.read.len;
}

#endif
