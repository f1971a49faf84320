/* The Xen PV block front end, discovery and the XenbusState protocol with
 * each backend (xenbus.h runs it; this file says what is block-specific).
 *
 * Each device/vbd/N becomes disk0, disk1, ... (duet__xb_enumerate):
 *   - at the backend's InitWait we read feature-max-indirect-segments (boot
 *     argument xen.blk.indirect=0 ignores it), grant the ring and the
 *     bounce pages, allocate an event channel, and publish ring-ref,
 *     event-channel and protocol with state Initialised in one
 *     transaction;
 *   - at its Connected we read the geometry (sectors in 512-byte units,
 *     sector-size, info's VDISK_READONLY, mode=r) and the flush features,
 *     register the device (or, after a reconnection, check that it is the
 *     same disk) and say Connected.
 * Boot waits for that, bounded; a disk whose backend is slower appears
 * when it connects. When the backend leaves Connected (xl block-detach, a
 * backend restarting) we say Closed at once (the disk stops issuing), which
 * lets a detach complete, and the disk holds its requests, those in flight
 * and those submitted since: a backend that comes back (online still 1)
 * gets a new connection and them all, from the start and in order, so a
 * restart costs the app a pause, not an error. A device that is gone for
 * good (detached, or a backend breaking the protocol) fails them with
 * -ENODEV, as it does if no backend comes within DUET__BF_TIMEOUT.
 *
 * Durability: flush is BLKIF_OP_FLUSH_DISKCACHE if the backend offers
 * feature-flush-cache, else BLKIF_OP_WRITE_BARRIER with feature-barrier;
 * with neither, the device still says volatile_cache (blkif has no way to
 * say the disk has no cache) and every flush fails with -EIO. A durable
 * write (duet_block_write_fua) is the core's: a write, then that flush.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include <duet/args.h>
#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/platform.h>

/* xen.h first: it defines xen_mb() for the ring macros. */
#include "xen.h"
#include "blkfront_ring.h"
#include "xenbus.h"

#define HANDSHAKE_TIMEOUT  DUET_SEC(20)
#define HANDSHAKE_POLL	   DUET_MSEC(20)
#define VDISK_READONLY_BIT 0x4

struct vbd {
	struct duet__blkfront *bf;
	struct duet__xb_front xb;
	struct duet_loop *loop;
	char id[16];
	unsigned indirect_segs;
	uint32_t ring_ref, port;
};

static struct vbd vbds[DUET__BF_MAX_DISKS];
/* Boot argument xen.blk.indirect=0 turns indirect descriptors off (for a
 * backend that mishandles them, and to compare). */
static bool use_indirect = true;

/* A number from the backend, or `def` if the key is missing. */
static int read_u64(const struct vbd *v, const char *key, uint64_t def,
		    uint64_t *out)
{
	char value[32], *end;
	int r = duet__xb_read(v->xb.backend, key, value, sizeof(value));

	if (r == -ENOENT) {
		*out = def;
		return 0;
	}
	if (r < 0)
		return r;
	*out = strtoull(value, &end, 10);
	return end == value || *end != '\0' ? -EPROTO : 0;
}

static int read_geometry(const struct vbd *v, struct duet_block_info *info,
			 uint8_t *flush_op)
{
	uint64_t sectors, sector_size, vinfo, flush, barrier;
	char mode[4] = "w";
	int r;

	if ((r = read_u64(v, "sectors", 0, &sectors)) < 0 ||
	    (r = read_u64(v, "sector-size", 512, &sector_size)) < 0 ||
	    (r = read_u64(v, "info", 0, &vinfo)) < 0 ||
	    (r = read_u64(v, "feature-flush-cache", 0, &flush)) < 0 ||
	    (r = read_u64(v, "feature-barrier", 0, &barrier)) < 0)
		return r;
	r = duet__xb_read(v->xb.backend, "mode", mode, sizeof(mode));
	if (r < 0 && r != -ENOENT)
		return r;
	/* The one check of the sector size: a whole number of blkif units,
	 * and a sector fits in one ring request's pages. */
	if (sector_size < DUET__BF_UNIT ||
	    sector_size > DUET__BF_SEGS * DUET__BF_PAGE_SIZE ||
	    sector_size % DUET__BF_UNIT != 0 ||
	    (sector_size & (sector_size - 1)) != 0 || sectors == 0)
		return -EPROTO;
	info->sector_size = (uint32_t)sector_size;
	/* "sectors" counts 512-byte units whatever the sector size. */
	info->sector_count = sectors * 512 / sector_size;
	info->read_only =
	    (vinfo & VDISK_READONLY_BIT) != 0 || strcmp(mode, "r") == 0;
	info->volatile_cache = !info->read_only;
	/* blkif has no FUA write (a flush-cache request's data goes after
	 * its flush, not before): the core makes a durable write a write
	 * and, once that has completed, a flush. */
	info->fua = false;
	/* One ring request: its slot's pages (more with indirect segments). */
	info->io_size = duet__bf_slot_pages(v->indirect_segs) * DUET__BF_PAGE_SIZE;
	*flush_op = flush     ? BLKIF_OP_FLUSH_DISKCACHE
		    : barrier ? BLKIF_OP_WRITE_BARRIER
			      : DUET__BF_NO_FLUSH;
	return 0;
}

/* Backends announce indirect descriptors by InitWait, so the slots can be
 * sized for them before they are granted. */
static int xb_prepare(void *arg)
{
	struct vbd *v = arg;
	uint64_t segs;
	int r = read_u64(v, "feature-max-indirect-segments", 0, &segs);

	if (r < 0)
		return r;
	if (!use_indirect)
		segs = 0;
	v->indirect_segs =
	    segs > DUET__BF_MAX_SEGS ? DUET__BF_MAX_SEGS : (unsigned)segs;
	return duet__blkfront_grant(v->bf, v->indirect_segs, &v->ring_ref,
				    &v->port);
}

static int xb_publish(void *arg, uint32_t tx, const char *node)
{
	struct vbd *v = arg;
	int r;

	if ((r = duet__xb_write_ul(tx, node, "ring-ref", v->ring_ref)) < 0 ||
	    (r = duet__xb_write_ul(tx, node, "event-channel", v->port)) < 0)
		return r;
	return duet__xb_write(tx, node, "protocol", XEN_IO_PROTO_ABI_NATIVE);
}

static int xb_connect(void *arg)
{
	struct vbd *v = arg;
	struct duet_block_info info;
	uint8_t flush_op;
	int r;

	if ((r = read_geometry(v, &info, &flush_op)) < 0 ||
	    (r = duet__blkfront_start(v->bf, &info, flush_op)) < 0)
		return r;
	DUET_INFO("blkfront",
		  "%s: vbd %s, %llu sectors of %u bytes%s, %u KiB a request%s, "
		  "flush %s",
		  duet__blkfront_name(v->bf), v->id,
		  (unsigned long long)info.sector_count, info.sector_size,
		  info.read_only ? ", read-only" : "",
		  duet__bf_slot_pages(v->indirect_segs) * 4,
		  v->indirect_segs > DUET__BF_SEGS ? " (indirect)" : "",
		  flush_op == BLKIF_OP_FLUSH_DISKCACHE ? "by flush-cache"
		  : flush_op == BLKIF_OP_WRITE_BARRIER ? "by barrier"
						       : "unavailable");
	return 0;
}

static void xb_disconnect(void *arg, const char *why)
{
	struct vbd *v = arg;

	duet__blkfront_disconnect(v->bf, why);
}

static bool xb_release(void *arg)
{
	struct vbd *v = arg;

	return duet__blkfront_release(v->bf);
}

static void xb_gone(void *arg)
{
	struct vbd *v = arg;

	duet__blkfront_gone(v->bf);
}

static const struct duet__xb_ops xb_ops = {
    .prepare = xb_prepare,
    .publish = xb_publish,
    .connect = xb_connect,
    .disconnect = xb_disconnect,
    .release = xb_release,
    .gone = xb_gone,
};

/* Probing runs before the app has its devices: wait without the loop's
 * callbacks, but with its event dispatch (xenstore replies, watches). */
static void nap(void *arg)
{
	struct vbd *v = arg;

	duet_plat_wait(v->loop, duet__xen_now() + HANDSHAKE_POLL);
}

static int start_vbd(struct duet_loop *loop, struct vbd *v, unsigned index,
		     const struct duet__xb_found *found)
{
	const char *name = found->name, *id = found->id;
	int r;

	v->loop = loop;
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->bf = duet__blkfront_new(loop, index, &v->xb);
	if (v->bf == NULL)
		return -ENOMEM;
	if ((r = duet__xb_init(&v->xb, loop, name, found->node,
			       XenbusStateInitialised, true, &xb_ops, v)) < 0)
		return r;
	r = duet__xb_boot(&v->xb,
			  duet__xen_now() + HANDSHAKE_TIMEOUT, nap,
			  v);
	if (r == -ETIMEDOUT)
		DUET_WARN("blkfront", "%s: vbd %s: backend not connected yet: "
				      "the disk appears when it connects",
			  name, id);
	return r;
}

int duet__xen_blkfront_init(struct duet_loop *loop)
{
	struct duet__xb_found found[DUET__BF_MAX_DISKS];
	unsigned n = duet__xb_enumerate("device/vbd", "disk", found,
					DUET__BF_MAX_DISKS), up = 0;

	if (n == 0)
		return 0;
	if (duet_args_get_bool(duet_loop_args(loop), "xen.blk.indirect", true,
			       &use_indirect) < 0)
		use_indirect = true; /* the bad value is logged */
	/* A disk's number is its place in xenstore's order, connected or
	 * not. */
	for (unsigned i = 0; i < n; i++) {
		int r = start_vbd(loop, &vbds[i], i, &found[i]);

		if (r == 0)
			up++;
		else if (r != -ETIMEDOUT)
			DUET_ERROR("blkfront", "vbd %s: handshake failed: %s",
				   found[i].id, duet_strerror(r));
	}
	return (int)up;
}
