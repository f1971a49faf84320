/* duet_netif_open(), alone in its object: an image links this object only
 * if it opens a netif, and its reference to the platform's netif
 * drivers (duet/platform.h) is what links those. */
#include <duet/netif_driver.h>
#include <duet/error.h>
#include <duet/platform.h>

#include "core.h"

/* Kept for the reference alone (the platform's discovery finds the drivers
 * it links through a weak reference of its own). */
static const struct duet_plat_drivers *const drivers __attribute__((used)) =
    &duet_plat_netif_drivers;

int duet_netif_open(struct duet_loop *loop, const char *name,
		    struct duet_netif **out)
{
	struct duet_device *d =
	    duet__device_open(loop, name, DUET_DEVICE_NETIF, "net");

	if (d == NULL)
		return -ENODEV;
	*out = duet_container_of(d, struct duet_netif, dev);
	return 0;
}
