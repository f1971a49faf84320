/* duet_block_open(), alone in its object: an image links this object only
 * if it opens a block device, and its reference to the platform's block
 * drivers (duet/platform.h) is what links those. */
#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/platform.h>

#include "core.h"

/* Kept for the reference alone (the platform's discovery finds the drivers
 * it links through a weak reference of its own). */
static const struct duet_plat_drivers *const drivers __attribute__((used)) =
    &duet_plat_block_drivers;

int duet_block_open(struct duet_loop *loop, const char *name,
		    struct duet_block **out)
{
	struct duet_device *d = duet__device_open(loop, name, DUET_DEVICE_BLOCK, "block");

	if (d == NULL)
		return -ENODEV;
	*out = duet_container_of(d, struct duet_block, dev);
	return 0;
}
