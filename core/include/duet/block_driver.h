/* duet/block_driver.h — block devices, the driver side.
 *
 * A driver embeds struct duet_block in its state, fills in the ops table and
 * calls duet_block_register(). The wrappers in duet/block.h have already
 * checked the range, the read-only flag and the request before an op runs.
 *
 * Ops:
 *   submit  REQUIRED. Start req (READ, WRITE or FLUSH, and WRITE_FUA if
 *           the driver sets info.fua: completing it with 0 promises the
 *           data is durable). Return 0 and later
 *           call duet_block_complete(req, status) exactly once, or return a
 *           negative errno and never complete it. A driver MAY complete the
 *           request before submit returns (a RAM disk does): the core then
 *           delivers the callback from a later loop iteration, so callers
 *           still never see it inside their submit call.
 *   close   OPTIONAL. Called once, last, by duet_block_unregister(); no op
 *           is called after it and the core no longer touches the device,
 *           so close may free it. Requests still in flight MUST be
 *           completed (with -ENODEV if they cannot finish) before it
 *           returns.
 */
#ifndef DUET_BLOCK_DRIVER_H
#define DUET_BLOCK_DRIVER_H

#include <duet/block.h>
#include <duet/device.h>
#include <duet/loop.h>

struct duet_block_ops {
	int (*submit)(struct duet_block *dev, struct duet_block_req *req);
	void (*close)(struct duet_block *dev);
};

struct duet_block {
	struct duet_device dev;
	const struct duet_block_ops *ops;
	struct duet_block_info info;
	unsigned in_flight;
	bool in_submit;
	bool closed;
	struct duet_cq completed; /* completed inside submit, not yet delivered */
};

/* Validates ops and geometry, then registers. 0, -EINVAL or -EEXIST. */
int duet_block_register(struct duet_loop *loop, struct duet_block *dev,
			const char *name, const struct duet_block_ops *ops,
			const struct duet_block_info *info);
void duet_block_unregister(struct duet_block *dev);

void duet_block_complete(struct duet_block_req *req, int status);

#endif
