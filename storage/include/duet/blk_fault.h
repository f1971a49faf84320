/* duet/blk_fault.h — a fault-injecting block device, for tests.
 *
 * Wraps another block device (the "lower" one) and registers itself as an
 * ordinary block device under its own name. It models a disk with a volatile
 * write cache: a write completes once it is in the cache; the cache reaches
 * the lower device only on a flush, which writes back, in order, the writes
 * whose callbacks had run before the flush was submitted, then flushes the
 * lower device. A durable write (DUET_BLOCK_WRITE_FUA, done natively) goes
 * into the cache like a write and then acts as a flush of the whole cache,
 * itself included: it completes once all of that is on the lower device and
 * the lower device is flushed; a crash before then may drop or tear it.
 * Reads see the newest data (the cache over the lower device).
 *
 * Faults, on command:
 *   - duet_blk_fault_fail(): every later request of that op fails with err;
 *   - duet_blk_fault_cut_after(): the power goes when write, durable write
 *     or flush number n + 1 (counted from creation) is submitted: that
 *     request and every later one fails with -EIO, and a flush being
 *     written back stops;
 *   - duet_blk_fault_crash(): the power goes now, and the cache contents
 *     that reach the lower device are chosen: any subset of the unflushed
 *     writes (so unflushed writes may land out of order), plus at most one
 *     of them torn — only its first or only its last k sectors land. Then
 *     the lower device holds exactly what a real disk could hold after that
 *     crash; mount a store on it to test recovery.
 * After a crash the device stays dead; duet_block_unregister() frees it.
 */
#ifndef DUET_BLK_FAULT_H
#define DUET_BLK_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/block.h>

struct duet_loop;
struct duet_blk_fault;

/* What of the cache lands when the power goes. Writes are numbered in
 * submission order from 0 (the oldest unflushed write). */
struct duet_blk_fault_crash {
	uint64_t keep; /* bit i: unflushed write i lands whole */
	int torn;      /* -1, or the unflushed write that lands in part */
	uint64_t torn_sectors; /* how many of its sectors land */
	bool torn_from_end;    /* its last torn_sectors rather than its first */
};

/* Geometry and read-only flag are the lower device's. */
int duet_blk_fault_create(struct duet_loop *loop, const char *name,
			  struct duet_block *lower,
			  struct duet_blk_fault **out);
struct duet_block *duet_blk_fault_block(struct duet_blk_fault *f);

/* op is DUET_BLOCK_READ, _WRITE, _FLUSH or _WRITE_FUA; err 0 stops
 * failing. A durable write also fails with what is set for _WRITE, or
 * else _FLUSH, when nothing is set for _WRITE_FUA. */
void duet_blk_fault_fail(struct duet_blk_fault *f, enum duet_block_op op,
			 int err);
void duet_blk_fault_cut_after(struct duet_blk_fault *f, uint64_t n);
/* From now on durable writes come split by the core, a write and then a
 * flush, as on a device without native FUA: so a crash can fall between
 * the two halves, with the write in the cache. */
void duet_blk_fault_split_fua(struct duet_blk_fault *f);
bool duet_blk_fault_dead(const struct duet_blk_fault *f);
/* Writes (durable ones too) and flushes submitted so far (the numbering
 * of cut_after). */
uint64_t duet_blk_fault_ops(const struct duet_blk_fault *f);

/* The writes still in the cache, oldest first. */
unsigned duet_blk_fault_unflushed(const struct duet_blk_fault *f);
int duet_blk_fault_unflushed_info(const struct duet_blk_fault *f, unsigned i,
				  uint64_t *sector, uint64_t *count);

/* Cuts the power and writes the chosen cache contents to the lower device
 * (then flushes it); cb runs from the loop with 0 or the lower device's
 * error. -EINVAL if `how` names writes that are not in the cache, -EBUSY
 * if a crash is already under way. */
int duet_blk_fault_crash(struct duet_blk_fault *f,
			 const struct duet_blk_fault_crash *how,
			 void (*cb)(void *arg, int status), void *arg);

#endif
