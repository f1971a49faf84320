/* duet/block.h — block devices, the user side.
 *
 * A block device is a fixed array of sectors of `sector_size` bytes (a power
 * of two, 512..65536). All I/O is asynchronous: a request returns at once and
 * its completion callback runs later from the event loop, exactly once, with
 * 0 or a negative errno — never from inside the call that submitted it. A
 * submit call that returns an error did not start a request and its callback
 * never runs.
 *
 * The request struct and the buffer belong to the caller and must stay valid
 * and untouched until the callback runs. A request of any length is accepted
 * (drivers split as they need); buffers need no particular alignment, though
 * sector-aligned buffers avoid a copy on some drivers.
 *
 * Ordering and durability: requests complete in any order. Only a flush
 * orders them: when a flush's callback reports 0, every write whose callback
 * had reported 0 before the flush was submitted is durable. A write that has
 * completed but not been flushed may be lost, or partly written at sector
 * granularity, if the system stops. A flush on a device with
 * `volatile_cache == false` completes at once with 0.
 *
 * A durable write (duet_block_write_fua()) is a write that is durable when
 * its callback reports 0, in one request: the driver does it natively when
 * `info.fua` says so (one device round trip: a FUA write, RWF_DSYNC); the
 * core otherwise writes, then flushes once the write has completed, and
 * reports the first error. Either way it may also make earlier completed
 * writes durable, and until its callback runs it may be lost or torn like
 * any write. On a device without a volatile cache it is a plain write.
 *
 * Errors: -EINVAL (zero count, misaligned length), -ERANGE (past the end),
 * -EROFS (write to a read-only device), -EIO (device failure, reported
 * through the callback), -ENODEV (the device went away).
 */
#ifndef DUET_BLOCK_H
#define DUET_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/list.h>

struct duet_loop;
struct duet_block;
struct duet_block_req;

typedef void (*duet_block_cb)(struct duet_block_req *req, int status,
			      void *arg);

enum duet_block_op {
	DUET_BLOCK_READ = 1,
	DUET_BLOCK_WRITE = 2,
	DUET_BLOCK_FLUSH = 3,
	DUET_BLOCK_WRITE_FUA = 4, /* a write, durable on completion */
};

struct duet_block_info {
	uint32_t sector_size;
	uint64_t sector_count;
	bool read_only;
	bool volatile_cache; /* writes need a flush to become durable */
	/* The driver makes a DUET_BLOCK_WRITE_FUA durable by itself; when
	 * false the core splits it into a write and a flush. */
	bool fua;
	/* The preferred I/O size in bytes: the largest request the device
	 * takes in one go (blkfront: one ring request's pages). Bigger ones
	 * work, split by the driver; users sizing their buffers use this. A
	 * whole number of sectors; a driver that says 0 gets
	 * DUET_BLOCK_IO_SIZE_DEFAULT, rounded to sectors. */
	uint32_t io_size;
};

#define DUET_BLOCK_IO_SIZE_DEFAULT (128u << 10)

/* Caller-allocated. The fields are set by the submit calls; drivers may read
 * them and use `driver_data`; callers should not touch them while in flight. */
struct duet_block_req {
	enum duet_block_op op;
	uint64_t sector;
	uint64_t count; /* sectors */
	void *buf;
	duet_block_cb cb;
	void *arg;
	/* private */
	struct duet_block *dev;
	struct duet_list link;
	int status;
	bool in_flight;
	uint32_t rr_seq; /* its number in a replay log (duet/replay.h) */
	uint8_t split; /* the core's FUA for drivers without: which half */
	void *driver_data[4];
};

/* Finds a registered block device by name; on failure returns -ENODEV and
 * logs which block devices exist. */
int duet_block_open(struct duet_loop *loop, const char *name,
		    struct duet_block **out);

const char *duet_block_name(const struct duet_block *dev);
void duet_block_get_info(const struct duet_block *dev,
			 struct duet_block_info *out);

int duet_block_read(struct duet_block *dev, struct duet_block_req *req,
		    uint64_t sector, void *buf, uint64_t count,
		    duet_block_cb cb, void *arg);
int duet_block_write(struct duet_block *dev, struct duet_block_req *req,
		     uint64_t sector, const void *buf, uint64_t count,
		     duet_block_cb cb, void *arg);
int duet_block_flush(struct duet_block *dev, struct duet_block_req *req,
		     duet_block_cb cb, void *arg);
/* A write that is durable when its callback reports 0 (see above). */
int duet_block_write_fua(struct duet_block *dev, struct duet_block_req *req,
			 uint64_t sector, const void *buf, uint64_t count,
			 duet_block_cb cb, void *arg);

/* Requests submitted and not yet completed. */
unsigned duet_block_in_flight(const struct duet_block *dev);

#endif
