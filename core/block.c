/* Public block wrappers: check, then call the driver; completions are
 * delivered exactly once and never inside the submit call. */
#include <assert.h>

#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/log.h>

#include "core.h"
#include "replay_int.h"

static void deliver_completed(struct duet_cq *cq, struct duet_list *item,
			      void *arg);

/* duet_block_req.split: the core's durable write on a driver without one. */
enum {
	SPLIT_NONE,
	SPLIT_WRITING,	/* a flush follows */
	SPLIT_FLUSHING, /* the last half */
};

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int duet_block_register(struct duet_loop *loop, struct duet_block *dev,
			const char *name, const struct duet_block_ops *ops,
			const struct duet_block_info *info)
{
	if (ops == NULL || ops->submit == NULL || info == NULL ||
	    !is_pow2(info->sector_size) || info->sector_size < 512 ||
	    info->sector_size > 65536)
		return -EINVAL;
	dev->ops = ops;
	dev->info = *info;
	if (dev->info.io_size == 0)
		dev->info.io_size = DUET_BLOCK_IO_SIZE_DEFAULT;
	/* Whole sectors, at least one. */
	dev->info.io_size -= dev->info.io_size % info->sector_size;
	if (dev->info.io_size == 0)
		dev->info.io_size = info->sector_size;
	dev->in_flight = 0;
	dev->in_submit = false;
	dev->closed = false;
	duet_cq_init(loop, &dev->completed, deliver_completed, dev);
	int r = duet_device_register(loop, &dev->dev, DUET_DEVICE_BLOCK, name);
	if (r == 0)
		duet__rr_device(&dev->dev);
	return r;
}

void duet_block_unregister(struct duet_block *dev)
{
	if (dev->closed)
		return;
	dev->closed = true;
	duet_device_unregister(&dev->dev);
	/* Completions the driver made inside submit are still owed. */
	duet_cq_flush(&dev->completed);
	/* Last: close may free the memory dev lives in. */
	if (dev->ops->close != NULL)
		dev->ops->close(dev);
}

const char *duet_block_name(const struct duet_block *dev)
{
	return dev->dev.name;
}

void duet_block_get_info(const struct duet_block *dev,
			 struct duet_block_info *out)
{
	*out = dev->info;
}

unsigned duet_block_in_flight(const struct duet_block *dev)
{
	return dev->in_flight;
}

/* Completions that come inside the driver's submit wait for the loop. The
 * driver's requests (both halves of the core's durable write) are what a
 * replay log holds (duet/replay.h). */
static int driver_submit(struct duet_block *dev, struct duet_block_req *req)
{
	bool was = dev->in_submit;

	dev->in_submit = true;
	int r = duet__rr_submit(dev, req);
	dev->in_submit = was;
	return r;
}

static void finish(struct duet_block_req *req)
{
	struct duet_block *dev = req->dev;

	/* The core's durable write: the flush goes out only once the write
	 * has completed, so that it covers it. */
	if (req->split == SPLIT_WRITING && req->status == 0) {
		req->split = SPLIT_FLUSHING;
		req->op = DUET_BLOCK_FLUSH;
		int r = dev->closed ? -ENODEV : driver_submit(dev, req);
		if (r == 0)
			return;
		req->status = r;
	}
	if (req->split != SPLIT_NONE) {
		req->op = DUET_BLOCK_WRITE_FUA;
		req->split = SPLIT_NONE;
	}
	req->in_flight = false;
	dev->in_flight--;
	req->cb(req, req->status, req->arg);
}

static void deliver_completed(struct duet_cq *cq, struct duet_list *item,
			      void *arg)
{
	(void)cq;
	(void)arg;
	finish(duet_container_of(item, struct duet_block_req, link));
}

void duet_block_complete(struct duet_block_req *req, int status)
{
	struct duet_block *dev = req->dev;

	assert(req->in_flight && "block request completed twice");
	assert(status <= 0);
	req->status = status;
	duet__rr_done(req, status);
	if (dev->in_submit) {
		duet_cq_push(&dev->completed, &req->link);
		return;
	}
	finish(req);
}

static int submit(struct duet_block *dev, struct duet_block_req *req,
		  enum duet_block_op op, uint64_t sector, void *buf,
		  uint64_t count, duet_block_cb cb, void *arg)
{
	assert(req != NULL && cb != NULL);
	if (dev->closed)
		return -ENODEV;
	if (op != DUET_BLOCK_FLUSH) {
		if (count == 0 || buf == NULL)
			return -EINVAL;
		if (sector >= dev->info.sector_count ||
		    count > dev->info.sector_count - sector)
			return -ERANGE;
		if (count > SIZE_MAX / dev->info.sector_size)
			return -EINVAL;
	}
	if ((op == DUET_BLOCK_WRITE || op == DUET_BLOCK_WRITE_FUA) &&
	    dev->info.read_only)
		return -EROFS;
	req->op = op;
	req->sector = sector;
	req->count = count;
	req->buf = buf;
	req->cb = cb;
	req->arg = arg;
	req->dev = dev;
	req->status = 0;
	req->split = SPLIT_NONE;
	if (op == DUET_BLOCK_WRITE_FUA && !dev->info.fua) {
		/* Without a volatile cache a write is durable already. */
		req->split =
		    dev->info.volatile_cache ? SPLIT_WRITING : SPLIT_FLUSHING;
		req->op = DUET_BLOCK_WRITE;
	}
	duet_list_init(&req->link);
	req->in_flight = true;
	dev->in_flight++;
	if (op == DUET_BLOCK_FLUSH && !dev->info.volatile_cache) {
		duet_cq_push(&dev->completed, &req->link);
		return 0;
	}
	int r = driver_submit(dev, req);
	if (r < 0) {
		assert(req->in_flight && "driver failed a request it completed");
		req->in_flight = false;
		req->op = op;
		req->split = SPLIT_NONE;
		dev->in_flight--;
	}
	return r;
}

int duet_block_read(struct duet_block *dev, struct duet_block_req *req,
		    uint64_t sector, void *buf, uint64_t count,
		    duet_block_cb cb, void *arg)
{
	return submit(dev, req, DUET_BLOCK_READ, sector, buf, count, cb, arg);
}

int duet_block_write(struct duet_block *dev, struct duet_block_req *req,
		     uint64_t sector, const void *buf, uint64_t count,
		     duet_block_cb cb, void *arg)
{
	/* The driver only reads a write's buffer; the cast keeps one field. */
	return submit(dev, req, DUET_BLOCK_WRITE, sector, (void *)(uintptr_t)buf,
		      count, cb, arg);
}

int duet_block_flush(struct duet_block *dev, struct duet_block_req *req,
		     duet_block_cb cb, void *arg)
{
	return submit(dev, req, DUET_BLOCK_FLUSH, 0, NULL, 0, cb, arg);
}

int duet_block_write_fua(struct duet_block *dev, struct duet_block_req *req,
			 uint64_t sector, const void *buf, uint64_t count,
			 duet_block_cb cb, void *arg)
{
	return submit(dev, req, DUET_BLOCK_WRITE_FUA, sector,
		      (void *)(uintptr_t)buf, count, cb, arg);
}
