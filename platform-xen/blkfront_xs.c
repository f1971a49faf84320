/* The Xen PV block front end, discovery and handshake through xenstore.
 *
 * Each device/vbd/N (in the order of N) becomes disk0, disk1, ... At boot,
 * before the app starts, for each:
 *   1. wait (bounded) for the backend to reach InitWait: a slow backend is
 *      waited for, a Closing or Closed one ends the handshake; read
 *      feature-max-indirect-segments (boot argument xen.blk.indirect=0
 *      ignores it);
 *   2. grant the ring and the bounce pages, allocate an event channel, and
 *      publish ring-ref, event-channel and protocol with state Initialised
 *      in one transaction;
 *   3. wait (bounded) for Connected, read the geometry (sectors in 512-byte
 *      units, sector-size, info's VDISK_READONLY, mode=r) and the flush
 *      features, register the device and say Connected.
 * Afterwards a watch on the backend's state takes the disk down (requests
 * fail with -ENODEV) when the backend starts closing (xl block-detach, a
 * backend going away), and answers its Closing with our own Closed.
 *
 * Durability: flush is BLKIF_OP_FLUSH_DISKCACHE if the backend offers
 * feature-flush-cache, else BLKIF_OP_WRITE_BARRIER with feature-barrier;
 * with neither, the device still says volatile_cache (blkif has no way to
 * say the disk has no cache) and every flush fails with -EIO.
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

#define XS_PATH_MAX	   128
#define HANDSHAKE_TIMEOUT  DUET_SEC(20)
#define HANDSHAKE_POLL	   DUET_MSEC(20)
#define VDISK_READONLY_BIT 0x4

struct vbd {
	struct duet__blkfront *bf;
	struct duet__xs_watch watch;
	char front[XS_PATH_MAX];
	char backend[XS_PATH_MAX];
	char state_path[XS_PATH_MAX];
	bool closed;
};

static struct vbd vbds[DUET__BF_MAX_DISKS];
/* Boot argument xen.blk.indirect=0 turns indirect descriptors off (for a
 * backend that mishandles them, and to compare). */
static bool use_indirect = true;

static int read_path(const char *dir, const char *key, char *buf, size_t size)
{
	char path[XS_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return duet__xs_read(XS_TX_NONE, path, buf, size);
}

/* A number from xenstore, or `def` if the key is missing. */
static int read_u64(const char *dir, const char *key, uint64_t def,
		    uint64_t *out)
{
	char value[32], *end;
	int r = read_path(dir, key, value, sizeof(value));

	if (r == -ENOENT) {
		*out = def;
		return 0;
	}
	if (r < 0)
		return r;
	*out = strtoull(value, &end, 10);
	return end == value || *end != '\0' ? -EPROTO : 0;
}

static int backend_state(const struct vbd *v)
{
	uint64_t state;
	int r = read_u64(v->backend, "state", XenbusStateUnknown, &state);

	return r < 0 ? r : (int)state;
}

static int set_state(const struct vbd *v, uint32_t tx, int state)
{
	char path[XS_PATH_MAX + 8], value[4];

	snprintf(path, sizeof(path), "%s/state", v->front);
	snprintf(value, sizeof(value), "%d", state);
	return duet__xs_write(tx, path, value);
}

/* Polls the backend's state until it reaches `want`, a closing state, or
 * the bound. Polling (not a watch) because this runs before the loop. */
static int wait_backend(struct duet_loop *loop, const struct vbd *v, int want)
{
	duet_time_t end = duet_plat_clock_monotonic() + HANDSHAKE_TIMEOUT;

	for (;;) {
		int state = backend_state(v);

		if (state < 0)
			return state;
		if (state >= XenbusStateClosing)
			return -ENODEV;
		if (state >= want)
			return 0;
		if (duet_plat_clock_monotonic() >= end)
			return -ETIMEDOUT;
		duet_plat_wait(loop,
			       duet_plat_clock_monotonic() + HANDSHAKE_POLL);
	}
}

static int publish(const struct vbd *v, uint32_t ring_ref, uint32_t port)
{
	char path[XS_PATH_MAX + 32], value[16];
	uint32_t tx;
	int r;

	do {
		if ((r = duet__xs_tx_start(&tx)) < 0)
			return r;
		snprintf(path, sizeof(path), "%s/ring-ref", v->front);
		snprintf(value, sizeof(value), "%u", ring_ref);
		if ((r = duet__xs_write(tx, path, value)) < 0)
			goto abort;
		snprintf(path, sizeof(path), "%s/event-channel", v->front);
		snprintf(value, sizeof(value), "%u", port);
		if ((r = duet__xs_write(tx, path, value)) < 0)
			goto abort;
		snprintf(path, sizeof(path), "%s/protocol", v->front);
		if ((r = duet__xs_write(tx, path, XEN_IO_PROTO_ABI_NATIVE)) < 0)
			goto abort;
		if ((r = set_state(v, tx, XenbusStateInitialised)) < 0)
			goto abort;
		r = duet__xs_tx_end(tx, true);
	} while (r == -EAGAIN);
	return r;
abort:
	duet__xs_tx_end(tx, false);
	return r;
}

static int read_geometry(const struct vbd *v, struct duet_block_info *info,
			 uint8_t *flush_op)
{
	uint64_t sectors, sector_size, vinfo, flush, barrier;
	char mode[4] = "w";
	int r;

	if ((r = read_u64(v->backend, "sectors", 0, &sectors)) < 0 ||
	    (r = read_u64(v->backend, "sector-size", 512, &sector_size)) < 0 ||
	    (r = read_u64(v->backend, "info", 0, &vinfo)) < 0 ||
	    (r = read_u64(v->backend, "feature-flush-cache", 0, &flush)) < 0 ||
	    (r = read_u64(v->backend, "feature-barrier", 0, &barrier)) < 0)
		return r;
	r = read_path(v->backend, "mode", mode, sizeof(mode));
	if (r < 0 && r != -ENOENT)
		return r;
	if (sector_size < 512 || sector_size > 65536 ||
	    (sector_size & (sector_size - 1)) != 0 || sectors == 0)
		return -EPROTO;
	info->sector_size = (uint32_t)sector_size;
	/* "sectors" counts 512-byte units whatever the sector size. */
	info->sector_count = sectors * 512 / sector_size;
	info->read_only =
	    (vinfo & VDISK_READONLY_BIT) != 0 || strcmp(mode, "r") == 0;
	info->volatile_cache = !info->read_only;
	*flush_op = flush     ? BLKIF_OP_FLUSH_DISKCACHE
		    : barrier ? BLKIF_OP_WRITE_BARRIER
			      : DUET__BF_NO_FLUSH;
	return 0;
}

/* The backend is going away (or gone): take the disk down and close our
 * side, as the protocol asks, so the toolstack can detach it. */
static void on_backend_state(const char *path, void *arg)
{
	struct vbd *v = arg;
	int state = backend_state(v);
	(void)path;

	if (v->closed || state < XenbusStateClosing)
		return;
	/* Every request is answered (with -ENODEV) and none will be issued,
	 * so there is nothing to wait for: close at once, which lets the
	 * toolstack finish a detach. */
	duet__blkfront_disconnect(v->bf, "backend closing");
	set_state(v, XS_TX_NONE, XenbusStateClosing);
	set_state(v, XS_TX_NONE, XenbusStateClosed);
	v->closed = true;
	duet__xs_unwatch(&v->watch);
}

static int connect_vbd(struct duet_loop *loop, struct vbd *v, unsigned index,
		       const char *id)
{
	struct duet_block_info info;
	uint64_t backend_id, indirect_segs;
	uint32_t ring_ref, port;
	uint8_t flush_op;
	int r;

	snprintf(v->front, sizeof(v->front), "device/vbd/%s", id);
	if ((r = read_path(v->front, "backend", v->backend,
			   sizeof(v->backend))) < 0 ||
	    (r = read_u64(v->front, "backend-id", 0, &backend_id)) < 0)
		return r;
	/* Backends announce indirect descriptors by InitWait, so the slots
	 * can be sized for them before they are granted. */
	if ((r = wait_backend(loop, v, XenbusStateInitWait)) < 0 ||
	    (r = read_u64(v->backend, "feature-max-indirect-segments", 0,
			  &indirect_segs)) < 0)
		return r;
	v->bf = duet__blkfront_new(loop, index, (uint16_t)backend_id);
	if (v->bf == NULL)
		return -ENOMEM;
	if (!use_indirect)
		indirect_segs = 0;
	if (indirect_segs > DUET__BF_MAX_SEGS)
		indirect_segs = DUET__BF_MAX_SEGS;
	if ((r = duet__blkfront_grant(v->bf, (unsigned)indirect_segs, &ring_ref,
				      &port)) < 0 ||
	    (r = publish(v, ring_ref, port)) < 0 ||
	    (r = wait_backend(loop, v, XenbusStateConnected)) < 0 ||
	    (r = read_geometry(v, &info, &flush_op)) < 0 ||
	    (r = duet__blkfront_start(v->bf, &info, flush_op)) < 0)
		return r;
	if ((r = set_state(v, XS_TX_NONE, XenbusStateConnected)) < 0)
		return r;
	snprintf(v->state_path, sizeof(v->state_path), "%s/state", v->backend);
	if (duet__xs_watch(&v->watch, v->state_path, on_backend_state, v) < 0)
		DUET_WARN("blkfront", "%s: cannot watch %s",
			  duet__blkfront_name(v->bf), v->state_path);
	DUET_INFO("blkfront",
		  "%s: vbd %s, %llu sectors of %u bytes%s, %u KiB a request%s, "
		  "flush %s",
		  duet__blkfront_name(v->bf), id,
		  (unsigned long long)info.sector_count, info.sector_size,
		  info.read_only ? ", read-only" : "",
		  duet__bf_slot_pages((unsigned)indirect_segs) * 4,
		  indirect_segs > DUET__BF_SEGS ? " (indirect)" : "",
		  flush_op == BLKIF_OP_FLUSH_DISKCACHE ? "by flush-cache"
		  : flush_op == BLKIF_OP_WRITE_BARRIER ? "by barrier"
						       : "unavailable");
	return 0;
}

static int by_number(const void *a, const void *b)
{
	unsigned long x = strtoul(*(const char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

int duet__xen_blkfront_init(struct duet_loop *loop)
{
	char names[256];
	const char *ids[DUET__BF_MAX_DISKS];
	const char *p = names;
	unsigned n = 0, up = 0;
	int count =
	    duet__xs_directory(XS_TX_NONE, "device/vbd", names, sizeof(names));

	if (count <= 0)
		return 0;
	if (duet_args_get_bool(duet_loop_args(loop), "xen.blk.indirect", true,
			       &use_indirect) < 0)
		use_indirect = true; /* the bad value is logged */
	for (int i = 0; i < count && n < DUET__BF_MAX_DISKS; i++) {
		ids[n++] = p;
		p += strlen(p) + 1;
	}
	if (count > DUET__BF_MAX_DISKS)
		DUET_WARN("blkfront", "%d vbds: using the first %d", count,
			  DUET__BF_MAX_DISKS);
	qsort(ids, n, sizeof(ids[0]), by_number);
	for (unsigned i = 0; i < n; i++) {
		int r = connect_vbd(loop, &vbds[up], up, ids[i]);

		if (r < 0) {
			DUET_ERROR("blkfront", "vbd %s: handshake failed: %s",
				   ids[i], duet_strerror(r));
			set_state(&vbds[up], XS_TX_NONE, XenbusStateClosed);
			if (vbds[up].bf != NULL)
				return up; /* its index is taken */
			continue;
		}
		up++;
	}
	return (int)up;
}
