/* duet/blk_mem.h — an in-memory block device, for tests and benchmarks.
 *
 * A zero-filled array of sectors in RAM, registered as an ordinary block
 * device (found by name with duet_block_open()). It completes every request
 * inside its submit call (the core delivers the callback later), writes are
 * durable at once, and a flush is accepted and counted. The data stays
 * reachable through duet_blk_mem_data() so tests can build and inspect
 * images; duet_block_unregister() frees it.
 */
#ifndef DUET_BLK_MEM_H
#define DUET_BLK_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/block.h>

struct duet_loop;
struct duet_blk_mem;

struct duet_blk_mem_stats {
	uint64_t reads, writes, flushes;
	uint64_t bytes_read, bytes_written;
};

/* 0, -EINVAL (geometry or name), -EEXIST or -ENOMEM. */
int duet_blk_mem_create(struct duet_loop *loop, const char *name,
			uint32_t sector_size, uint64_t sector_count,
			bool read_only, struct duet_blk_mem **out);

struct duet_block *duet_blk_mem_block(struct duet_blk_mem *m);
/* The device's bytes: sector_size * sector_count of them. */
uint8_t *duet_blk_mem_data(struct duet_blk_mem *m);
uint64_t duet_blk_mem_size(const struct duet_blk_mem *m);
void duet_blk_mem_get_stats(const struct duet_blk_mem *m,
			    struct duet_blk_mem_stats *out);

#endif
