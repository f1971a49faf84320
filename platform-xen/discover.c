/* Device discovery at boot (duet/platform.h's duet_plat_discover): the
 * vifs of device/vif become net0, net1..., the vbds of device/vbd disk0...,
 * for the kinds whose drivers the image links. Each front's handshake
 * starts at once, all of them in one group (xenbus.h); from then on the
 * loop runs them from xenstore watches, and discovery is over when each
 * has settled or at DISCOVERY_WAIT (boot argument xen.discovery_wait=),
 * whichever is first. That deadline is the platform's own, kept by
 * duet_plat_wait (events.c), not a loop timer: a recording must not see it
 * (core/REPLAY.md). xen.discovery_wait=0 starts the app before any
 * backend has connected, as a slow dom0 would
 * (tests/xen/cases/httpd-discovery-late.case). */
#include <duet/args.h>
#include <duet/log.h>
#include <duet/platform.h>
#include <duet/sys.h>

#include "xen.h"
#include "xenbus.h"

/* dom0's hotplug scripts run before a backend reaches InitWait: under
 * QEMU's emulation that takes seconds. */
#define DISCOVERY_WAIT DUET_SEC(20)

/* Weak: referring to a kind's drivers here must not link them. An image
 * links them by opening a device of the kind (core/netif_open.c). */
#pragma weak duet_plat_netif_drivers
#pragma weak duet_plat_block_drivers

static struct {
	struct duet__xb_group group;
	struct duet_loop *loop;
	duet_plat_discovered_cb done;
	duet_time_t deadline; /* DUET_TIME_INFINITE once over */
} disc = {.deadline = DUET_TIME_INFINITE};

/* Over: a recording (record=) starts now, with every device known, and
 * then the app. */
static void settled(void *arg)
{
	(void)arg;
	disc.deadline = DUET_TIME_INFINITE;
	int code = duet__xen_record_start(duet_sys_of(disc.loop));
	if (code >= 0) {
		duet_loop_stop(disc.loop, code);
		return;
	}
	duet__xen_crash_arm();
	disc.done(disc.loop);
}

void duet_plat_discover(struct duet_loop *loop, duet_plat_discovered_cb done)
{
	const struct duet_plat_drivers *kinds[] = {&duet_plat_netif_drivers,
						   &duet_plat_block_drivers};
	duet_time_t wait;

	/* A bad value is logged, and the default is no worse a guess. */
	if (duet_args_get_duration(duet_loop_args(loop), "xen.discovery_wait",
				   DISCOVERY_WAIT, &wait) < 0)
		wait = DISCOVERY_WAIT;
	disc.loop = loop;
	disc.done = done;
	disc.deadline = duet__xen_now() + wait;
	duet__xb_group_init(&disc.group, settled, NULL);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i] != NULL)
			kinds[i]->start(loop, &disc.group);
	duet__xb_group_seal(&disc.group);
}

bool duet__xen_discovery_due(duet_time_t *deadline)
{
	if (disc.deadline == DUET_TIME_INFINITE)
		return false;
	if (duet__xen_now() < disc.deadline) {
		if (*deadline > disc.deadline)
			*deadline = disc.deadline;
		return false;
	}
	duet__xb_group_expire(&disc.group);
	return true;
}
