/* Teardown of the devices the command line declared. */
#include <duet/block_driver.h>
#include <duet/netif_driver.h>

#include "posix.h"

void duet__posix_devices_close(struct duet_loop *loop)
{
	struct duet_device *d;

	/* Newest first: a device may depend on one declared before it. */
	while ((d = duet_device_next(loop, NULL)) != NULL) {
		struct duet_device *last = d;
		while ((d = duet_device_next(loop, last)) != NULL)
			last = d;
		if (last->kind == DUET_DEVICE_NETIF)
			duet_netif_unregister(duet_container_of(last, struct duet_netif, dev));
		else
			duet_block_unregister(duet_container_of(last, struct duet_block, dev));
	}
}
