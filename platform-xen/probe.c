/* Device discovery on first use: the core calls duet_plat_probe() the first
 * time the app looks up a device of a kind, so only an image that uses the
 * network links netfront, and only one that uses disks links blkfront. */
#include <duet/platform.h>

/* xen.h first: the rings' headers declare their Xen-only parts after it. */
#include "xen.h"

#include "blkfront_ring.h"
#include "netfront_ring.h"

void duet_plat_probe(struct duet_loop *loop, enum duet_device_kind kind)
{
	switch (kind) {
	case DUET_DEVICE_NETIF:
		/* The vifs of device/vif become net0, net1... */
		duet__xen_netfront_init(loop);
		break;
	case DUET_DEVICE_BLOCK:
		/* The vbds of device/vbd become disk0, disk1... */
		duet__xen_blkfront_init(loop);
		break;
	}
}
