/* Recording on Xen: `record=DISK` writes the log (core/REPLAY.md) to a
 * vbd of its own, which the app never sees and the recording never holds.
 * The disk holds a header with the log's length, then the log
 * (duet_rr_disk_head()); the header says how much of the log is on the
 * disk: it follows the full chunks as they land, and at the end the
 * whole length, so a domain destroyed mid-run leaves a log the host reads
 * up to its last whole chunk (a replay of it stops at the cut). The
 * recorder's buffer comes here whole (64 KiB) or at the end; full chunks are written asynchronously as
 * they fill, from a bounded queue; the last one, and then the header, at
 * the end of the run or, synchronously, from the crash path (polling the
 * ring, without the loop).
 *
 * Recording starts once discovery is over (discover.c calls
 * duet__xen_record_start before the app's start: the record disk is one
 * of the devices it finds, and the handshakes' waits stay out of the
 * log), and the log
 * begins with the loop's clock, the boot arguments and a DEVICE record for
 * each device (duet_rr_devices_known), as a POSIX run's does; the
 * console's log times restart with it, as the replayed process's do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/platform.h>
#include <duet/replay.h>
#include <duet/sys.h>

#include "hypercall.h"
#include "xen.h"

#define DISK_HEAD   DUET_RR_DISK_HEAD
#define CHUNK	    (64u << 10) /* the recorder's buffer: one write each */
#define MAX_QUEUED  32		/* chunks in flight: 2 MiB at most */
#define DRAIN_LIMIT DUET_SEC(10)
#define IDLE_FLUSH  DUET_MSEC(100)

struct chunk {
	struct duet_block_req req;
	uint64_t at; /* its offset in the log */
	bool done;
	uint8_t data[CHUNK];
};

static struct {
	struct duet_block *disk;
	uint64_t log_len;    /* bytes handed over so far */
	uint64_t capacity;   /* of the log area */
	struct chunk *stage; /* being filled: log bytes from stage_at */
	uint64_t stage_at;
	unsigned queued;     /* requests in flight */
	int error;
	bool crashing;
	duet_time_t flushed;
	struct duet_block_req head_req;
	uint8_t head[DISK_HEAD];
	/* Full chunks in flight, in the log's order; the header follows the
	 * prefix they have put on the disk, so a domain destroyed mid-run
	 * leaves a log the host can read up to there. */
	struct chunk *fifo[MAX_QUEUED];
	unsigned fifo_head, fifo_count;
	uint64_t acked;	  /* log bytes on the disk, from the start */
	uint64_t head_len; /* what the header on the disk (or going) says */
	bool head_busy;
} rec;

struct duet_rr *duet__xen_rr;

static int write_head(uint64_t len);

/* A full chunk is on the disk: the prefix grows by what is now whole. */
static void chunk_acked(struct chunk *c)
{
	c->done = true;
	while (rec.fifo_count > 0 && rec.fifo[rec.fifo_head]->done) {
		struct chunk *h = rec.fifo[rec.fifo_head];
		rec.acked = h->at + CHUNK;
		free(h);
		rec.fifo_head = (rec.fifo_head + 1) % MAX_QUEUED;
		rec.fifo_count--;
	}
}

static void chunk_done(struct duet_block_req *req, int status, void *arg)
{
	(void)req;
	rec.queued--;
	if (status < 0 && rec.error == 0)
		rec.error = status;
	if (arg == &rec.head_req)
		rec.head_busy = false;
	else if (arg != NULL && arg != rec.stage)
		chunk_acked(arg); /* the stage is the crash path's to write */
	/* One header write at a time, the newest length; not once the run
	 * is ending (finish_log writes the last one itself). */
	if (rec.error == 0 && !rec.head_busy && rec.acked > rec.head_len &&
	    !rec.crashing && duet__xen_rr != NULL)
		(void)write_head(rec.acked);
}

static int write_at(struct duet_block_req *req, uint64_t offset,
		    const void *buf, size_t len, void *arg)
{
	uint32_t ss = rec.disk->info.sector_size;
	int r = duet_block_write(rec.disk, req, offset / ss, buf,
				 (len + ss - 1) / ss, chunk_done, arg);

	if (r == 0)
		rec.queued++;
	else if (rec.error == 0)
		rec.error = r;
	return r;
}

/* The stage's bytes so far, zero-padded to whole sectors. */
static int write_stage(void)
{
	size_t n = (size_t)(rec.log_len - rec.stage_at);

	if (n == 0)
		return 0;
	memset(rec.stage->data + n, 0, CHUNK - n);
	return write_at(&rec.stage->req, DISK_HEAD + rec.stage_at,
			rec.stage->data, n, rec.stage);
}

static int write_head(uint64_t len)
{
	memset(rec.head, 0, sizeof(rec.head));
	duet_rr_disk_head(rec.head, len);
	rec.head_len = len;
	int r = write_at(&rec.head_req, 0, rec.head,
			 rec.disk->info.sector_size, &rec.head_req);
	rec.head_busy = r == 0;
	return r;
}

/* The recorder's bytes, into the stage; a full stage goes to the disk. */
static int disk_sink(void *arg, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	(void)arg;

	if (rec.error < 0)
		return rec.error;
	while (len > 0) {
		size_t at = (size_t)(rec.log_len - rec.stage_at);
		size_t k = CHUNK - at < len ? CHUNK - at : len;
		memcpy(rec.stage->data + at, p, k);
		rec.log_len += k;
		p += k;
		len -= k;
		if (rec.log_len - rec.stage_at < CHUNK)
			continue;
		struct chunk *next = NULL;
		if (rec.queued >= MAX_QUEUED || rec.fifo_count >= MAX_QUEUED ||
		    (next = malloc(sizeof(*next))) == NULL)
			return rec.error = -ENOBUFS;
		struct chunk *full = rec.stage;
		rec.stage = next;
		full->at = rec.stage_at;
		full->done = false;
		if (write_at(&full->req, DISK_HEAD + rec.stage_at, full->data,
			     CHUNK, full) < 0)
			return rec.error;
		rec.fifo[(rec.fifo_head + rec.fifo_count) % MAX_QUEUED] = full;
		rec.fifo_count++;
		rec.stage_at = rec.log_len;
	}
	return 0;
}

/* Until every write is done, or the limit: the loop is not running (the
 * run ended, or crashed), so events are dispatched here. A crash only
 * yields: its context may be anything. */
static void drain(void)
{
	duet_time_t end = duet__xen_now() + DRAIN_LIMIT;

	while (rec.queued > 0 && duet__xen_now() < end) {
		if (duet__xen_evtchn_dispatch() + duet__xt_run() > 0)
			continue;
		if (rec.crashing) {
			hyp_sched_op(SCHEDOP_yield, NULL);
			continue;
		}
		duet_time_t next = duet__xt_next(), soon = duet__xen_now() +
							      DUET_MSEC(10);
		duet__xen_timer_set(next < soon ? next : soon);
		duet__xen_mode->block();
	}
}

/* The stage, then (once it is on the disk) the header with the length. */
static void finish_log(void)
{
	drain();
	if (rec.error == 0 && write_stage() == 0)
		drain();
	if (rec.error == 0 && write_head(rec.log_len) == 0)
		drain();
	if (rec.error == 0 && rec.queued == 0 && !rec.crashing &&
	    rec.disk->info.volatile_cache &&
	    duet_block_flush(rec.disk, &rec.head_req, chunk_done, NULL) == 0) {
		rec.queued++;
		drain();
	}
}

static int open_disk(struct duet_sys *sys, const char *name, uint64_t max)
{
	struct duet_device *d;

	/* duet_block_open, not a lookup: it links blkfront, so every image
	 * can record, whether or not the app itself opens a disk. */
	if (duet_block_open(&sys->loop, name, &rec.disk) < 0) {
		DUET_ERROR("record", "record=%s: no such disk", name);
		return -ENODEV;
	}
	d = &rec.disk->dev;
	const struct duet_block_info *info = &rec.disk->info;
	uint64_t size = info->sector_count * info->sector_size;
	if (info->read_only || size < DISK_HEAD + (64u << 10) ||
	    DISK_HEAD % info->sector_size != 0) {
		DUET_ERROR("record", "record=%s: a writable disk of at least "
				     "68 KiB is needed", name);
		return -EINVAL;
	}
	/* Out of the app's devices: its I/O never reaches the recorder. */
	duet_device_unregister(d);
	rec.capacity = size - DISK_HEAD < max ? size - DISK_HEAD : max;
	rec.stage = malloc(sizeof(*rec.stage));
	if (rec.stage == NULL || write_head(0) < 0)
		return -ENOMEM;
	drain();
	if (rec.error < 0) {
		DUET_ERROR("record", "record=%s: %s", name,
			   duet_strerror(rec.error));
		return rec.error;
	}
	DUET_INFO("record", "recording to %s (at most %llu KiB)", name,
		  (unsigned long long)(rec.capacity >> 10));
	return 0;
}

int duet__xen_record_start(struct duet_sys *sys)
{
	const char *name;
	uint64_t max;
	int r;

	duet_args_get_str(sys->args, "record", NULL, &name);
	if (duet_args_get_size(sys->args, "record_max", 64u << 20, &max) < 0 ||
	    max < (64u << 10)) {
		DUET_ERROR("args", "record_max: expected a size of at least 64K");
		return DUET_EXIT_USAGE;
	}
	if (name == NULL)
		return -1;
	if ((r = open_disk(sys, name, max)) < 0)
		return r == -ENODEV || r == -EINVAL ? DUET_EXIT_USAGE
						    : DUET_EXIT_FAILURE;
	duet__xen_rr = duet_rr_record_open(duet_app.name, disk_sink, NULL,
					   rec.capacity);
	if (duet__xen_rr == NULL) {
		DUET_ERROR("record", "record=%s: cannot write the log", name);
		return DUET_EXIT_FAILURE;
	}
	sys->rr = duet__xen_rr;
	/* The log starts as a POSIX one does: the loop's first clock read,
	 * the arguments, the devices. Uptime counts from here. */
	sys->loop.now = sys->loop.boot_time = duet_plat_clock_monotonic();
	duet_log_restart_clock();
	for (unsigned i = 0; i < sys->args->count; i++) {
		char tok[DUET_ARGS_BUF];
		const struct duet_arg *a = &sys->args->v[i];
		if ((size_t)snprintf(tok, sizeof(tok), "%s=%s", a->key,
				     a->value) < sizeof(tok))
			duet_rr_arg(duet__xen_rr, tok);
	}
	duet_rr_devices_known(duet__xen_rr, &sys->loop);
	return -1;
}

void duet__xen_record_idle(duet_time_t now)
{
	if (duet__xen_rr != NULL && now - rec.flushed > IDLE_FLUSH) {
		duet_rr_flush(duet__xen_rr);
		rec.flushed = now;
	}
}

int duet__xen_record_end(struct duet_sys *sys, int code)
{
	struct duet_rr *rr = duet__xen_rr;

	if (rr == NULL)
		return code;
	code = duet_rr_end(rr, code);
	duet__xen_rr = NULL;
	sys->rr = NULL;
	duet_rr_close(rr);
	finish_log();
	if (rec.error < 0)
		DUET_ERROR("record", "the log could not be written: %s",
			   duet_strerror(rec.error));
	else
		DUET_INFO("record", "%llu bytes of log written",
			  (unsigned long long)rec.log_len);
	return code;
}

void duet__xen_record_crash(void)
{
	struct duet_rr *rr = duet__xen_rr;

	/* Once: a fault while writing the log must not come back here. */
	if (rr == NULL || rec.crashing)
		return;
	rec.crashing = true;
	duet__xen_rr = NULL;
	duet_rr_flush(rr);
	finish_log();
	duet__xen_printk("duet: record: %llu bytes of log written%s\n",
			 (unsigned long long)rec.log_len,
			 rec.error < 0 || rec.queued > 0 ? " (incomplete)" : "");
}
