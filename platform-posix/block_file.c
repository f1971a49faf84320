/* Block device on a host file or block device, through libuv's fs requests
 * (run on libuv's thread pool, completed on the loop thread).
 *
 *   --block NAME=PATH[,ro]
 *
 * Flush is fdatasync(2). A durable write is one pwritev2(2) with RWF_DSYNC
 * (pwrite and fdatasync on a kernel without it) on the disk's own thread:
 * a libuv pool job costs two wakeups and a contended mutex each way, 20-35
 * us a round trip on a small VM, where one thread behind a condition
 * variable, answering through a uv_async, takes about 8 us; with one set
 * in flight that difference is most of what a store pays over the
 * device's own pwrite+fdatasync. Each request takes one of a fixed set of
 * slots, so the I/O path does not allocate; requests beyond that wait in a
 * queue.
 */
#define _GNU_SOURCE /* pwritev2, RWF_DSYNC */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/log.h>

#include "posix.h"

#define FILE_SECTOR 512
#define FILE_SLOTS 32

struct file_disk;

struct file_slot {
	uv_fs_t fs;
	struct file_disk *disk;
	struct duet_block_req *req;
	size_t done; /* bytes transferred so far (short reads/writes resume) */
	struct file_slot *next_free;
	/* A durable write: its place in the thread's queues, its result. */
	struct file_slot *next_job;
	ssize_t result;
};

/* The durable-write thread. The queues are FIFOs under `lock`; the rest
 * is the loop thread's. */
struct dsync {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct file_slot *todo, **todo_tail;
	struct file_slot *done, **done_tail;
	bool stop;
	uv_async_t async;
	unsigned busy; /* jobs queued and not yet answered */
};

struct file_disk {
	struct duet_block blk;
	uv_file fd;
	char path[256];
	struct file_slot slots[FILE_SLOTS];
	struct file_slot *free_slots;
	struct duet_list waiting;
	struct dsync ds; /* read-write disks only */
	bool has_ds;
};

static void slot_issue(struct file_slot *s);

static struct file_disk *disk_of(struct duet_block *blk)
{
	return duet_container_of(blk, struct file_disk, blk);
}

static void slot_release(struct file_slot *s)
{
	struct file_disk *d = s->disk;

	s->req = NULL;
	s->next_free = d->free_slots;
	d->free_slots = s;
	if (!duet_list_empty(&d->waiting)) {
		struct duet_block_req *req = duet_container_of(
			d->waiting.next, struct duet_block_req, link);
		duet_list_unlink(&req->link);
		struct file_slot *n = d->free_slots;
		d->free_slots = n->next_free;
		n->req = req;
		n->done = 0;
		slot_issue(n);
	}
}

static void slot_finish(struct file_slot *s, int status)
{
	struct duet_block_req *req = s->req;

	slot_release(s);
	duet_block_complete(req, status);
}

static const char *op_name(enum duet_block_op op)
{
	switch (op) {
	case DUET_BLOCK_READ: return "read";
	case DUET_BLOCK_WRITE: return "write";
	case DUET_BLOCK_FLUSH: return "flush";
	case DUET_BLOCK_WRITE_FUA: return "durable write";
	}
	return "?";
}

static void slot_result(struct file_slot *s, ssize_t r)
{
	struct duet_block_req *req = s->req;

	duet__posix_woke();
	if (r < 0) {
		DUET_ERROR("block", "%s: %s at sector %llu: %s", s->disk->path,
			   op_name(req->op), (unsigned long long)req->sector,
			   uv_strerror((int)r));
		slot_finish(s, -EIO);
		return;
	}
	if (req->op != DUET_BLOCK_FLUSH) {
		size_t total = (size_t)req->count * FILE_SECTOR;
		if (r == 0) {
			/* The file shrank under us. */
			slot_finish(s, -EIO);
			return;
		}
		s->done += (size_t)r;
		if (s->done < total) {
			slot_issue(s);
			return;
		}
	}
	slot_finish(s, 0);
}

static void slot_done(uv_fs_t *fs)
{
	ssize_t r = fs->result;

	uv_fs_req_cleanup(fs);
	slot_result(duet_container_of(fs, struct file_slot, fs), r);
}

/* On the durable-write thread: the whole rest of the request. A kernel
 * without RWF_DSYNC (before 4.7) refuses the flag with EOPNOTSUPP. */
static ssize_t durable_write(const struct file_slot *s)
{
	const struct duet_block_req *req = s->req;
	size_t total = (size_t)req->count * FILE_SECTOR;
	struct iovec iov = {(char *)req->buf + s->done, total - s->done};
	off_t off = (off_t)(req->sector * FILE_SECTOR + s->done);
	ssize_t r;

	do
		r = pwritev2(s->disk->fd, &iov, 1, off, RWF_DSYNC);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EOPNOTSUPP) {
		r = pwrite(s->disk->fd, iov.iov_base, iov.iov_len, off);
		if (r > 0 && fdatasync(s->disk->fd) < 0)
			r = -1;
	}
	return r < 0 ? -errno : r;
}

static struct file_slot *pop(struct file_slot **head, struct file_slot ***tail)
{
	struct file_slot *s = *head;

	if (s != NULL && (*head = s->next_job) == NULL)
		*tail = head;
	return s;
}

static void push(struct file_slot ***tail, struct file_slot *s)
{
	s->next_job = NULL;
	**tail = s;
	*tail = &s->next_job;
}

static void *dsync_main(void *arg)
{
	struct dsync *ds = arg;
	struct file_slot *s;

	pthread_mutex_lock(&ds->lock);
	for (;;) {
		while (ds->todo == NULL && !ds->stop)
			pthread_cond_wait(&ds->wake, &ds->lock);
		/* Stopping drains the queue first. */
		if ((s = pop(&ds->todo, &ds->todo_tail)) == NULL)
			break;
		pthread_mutex_unlock(&ds->lock);
		s->result = durable_write(s);
		pthread_mutex_lock(&ds->lock);
		push(&ds->done_tail, s);
		pthread_mutex_unlock(&ds->lock);
		uv_async_send(&ds->async);
		pthread_mutex_lock(&ds->lock);
	}
	pthread_mutex_unlock(&ds->lock);
	return NULL;
}

static void dsync_submit(struct dsync *ds, struct file_slot *s)
{
	pthread_mutex_lock(&ds->lock);
	push(&ds->todo_tail, s);
	pthread_mutex_unlock(&ds->lock);
	/* After the unlock, so the thread does not wake into a held mutex. */
	pthread_cond_signal(&ds->wake);
	/* Only jobs in flight keep the loop alive, as fs requests do. */
	if (ds->busy++ == 0)
		uv_ref((uv_handle_t *)&ds->async);
}

/* One answer at a time: a callback may close the disk, which then
 * answers the rest itself (file_close). */
static void dsync_answer(struct dsync *ds)
{
	struct file_slot *s;

	for (;;) {
		pthread_mutex_lock(&ds->lock);
		s = pop(&ds->done, &ds->done_tail);
		pthread_mutex_unlock(&ds->lock);
		if (s == NULL)
			return;
		if (--ds->busy == 0)
			uv_unref((uv_handle_t *)&ds->async);
		slot_result(s, s->result);
	}
}

static void dsync_answered(uv_async_t *async)
{
	dsync_answer(duet_container_of(async, struct dsync, async));
}

static int dsync_start(struct dsync *ds)
{
	int r;

	ds->todo_tail = &ds->todo;
	ds->done_tail = &ds->done;
	if ((r = uv_async_init(duet__posix_uv(), &ds->async, dsync_answered)) < 0)
		return duet__uv_err(r);
	uv_unref((uv_handle_t *)&ds->async);
	pthread_mutex_init(&ds->lock, NULL);
	pthread_cond_init(&ds->wake, NULL);
	if ((r = pthread_create(&ds->thread, NULL, dsync_main, ds)) != 0) {
		pthread_cond_destroy(&ds->wake);
		pthread_mutex_destroy(&ds->lock);
		return -r;
	}
	return 0;
}

/* The thread finishes what it was given; the answers are delivered here. */
static void dsync_stop(struct dsync *ds)
{
	pthread_mutex_lock(&ds->lock);
	ds->stop = true;
	pthread_mutex_unlock(&ds->lock);
	pthread_cond_signal(&ds->wake);
	pthread_join(ds->thread, NULL);
	dsync_answer(ds);
}

static void slot_issue(struct file_slot *s)
{
	struct duet_block_req *req = s->req;
	struct file_disk *d = s->disk;
	uv_loop_t *uv = duet__posix_uv();
	int r;

	if (req->op == DUET_BLOCK_FLUSH) {
		r = uv_fs_fdatasync(uv, &s->fs, d->fd, slot_done);
	} else if (req->op == DUET_BLOCK_WRITE_FUA) {
		/* The rest of a short write, while closing: no thread. */
		if (d->ds.stop) {
			slot_finish(s, -ENODEV);
			return;
		}
		dsync_submit(&d->ds, s);
		return;
	} else {
		size_t total = (size_t)req->count * FILE_SECTOR;
		uv_buf_t buf = uv_buf_init((char *)req->buf + s->done,
					   (unsigned)(total - s->done));
		int64_t off = (int64_t)(req->sector * FILE_SECTOR + s->done);
		if (req->op == DUET_BLOCK_READ)
			r = uv_fs_read(uv, &s->fs, d->fd, &buf, 1, off, slot_done);
		else
			r = uv_fs_write(uv, &s->fs, d->fd, &buf, 1, off, slot_done);
	}
	if (r < 0) {
		/* Only a broken loop refuses to queue fs work; fail the request
		 * from the loop rather than inside whoever released the slot. */
		slot_finish(s, duet__uv_err(r));
	}
}

static int file_submit(struct duet_block *blk, struct duet_block_req *req)
{
	struct file_disk *d = disk_of(blk);
	struct file_slot *s = d->free_slots;

	/* libuv's buffers hold an unsigned int length. */
	if ((uint64_t)req->count * FILE_SECTOR > UINT32_MAX)
		return -E2BIG;
	if (s == NULL) {
		duet_list_insert_tail(&d->waiting, &req->link);
		return 0;
	}
	d->free_slots = s->next_free;
	s->req = req;
	s->done = 0;
	slot_issue(s);
	return 0;
}

/* Last: a dsync_answer() whose callback closed the disk still takes the
 * (empty) queue's lock on its way out. */
static void free_disk(uv_handle_t *async)
{
	struct file_disk *d = duet_container_of(async, struct file_disk, ds.async);

	pthread_cond_destroy(&d->ds.wake);
	pthread_mutex_destroy(&d->ds.lock);
	free(d);
}

static void file_close(struct duet_block *blk)
{
	struct file_disk *d = disk_of(blk);
	uv_loop_t *uv = duet__posix_uv();

	while (!duet_list_empty(&d->waiting)) {
		struct duet_block_req *req = duet_container_of(
			d->waiting.next, struct duet_block_req, link);
		duet_list_unlink(&req->link);
		duet_block_complete(req, -ENODEV);
	}
	if (d->has_ds)
		dsync_stop(&d->ds);
	/* Requests already on the thread pool cannot be taken back: let them
	 * finish so their buffers are no longer written to. */
	while (blk->in_flight > 0)
		uv_run(uv, UV_RUN_ONCE);
	close(d->fd);
	if (!d->has_ds) {
		free(d);
		return;
	}
	/* The handle goes in a later loop iteration (main()'s last uv_run),
	 * and d with it: a durable write's answer may still be on the stack
	 * in dsync_answer(). */
	uv_close((uv_handle_t *)&d->ds.async, free_disk);
}

static const struct duet_block_ops file_ops = {
	.submit = file_submit,
	.close = file_close,
};

int duet__posix_block_file_create(struct duet_loop *loop, const char *name,
				  const char *spec, char *err, size_t errlen)
{
	char path[256];
	bool ro = false;
	const char *comma = strrchr(spec, ',');
	size_t plen = comma != NULL ? (size_t)(comma - spec) : strlen(spec);

	if (comma != NULL) {
		if (strcmp(comma + 1, "ro") != 0) {
			snprintf(err, errlen, "--block %s=%s: unknown option '%s' (only 'ro')",
				 name, spec, comma + 1);
			return -EINVAL;
		}
		ro = true;
	}
	if (plen == 0 || plen >= sizeof(path)) {
		snprintf(err, errlen, "--block %s=%s: bad path", name, spec);
		return -EINVAL;
	}
	memcpy(path, spec, plen);
	path[plen] = '\0';

	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		snprintf(err, errlen, "--block %s: cannot open %s: %s", name, path,
			 duet_strerror(e));
		return e;
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < FILE_SECTOR) {
		snprintf(err, errlen, "--block %s: %s is %s (need at least %d bytes)",
			 name, path, size < 0 ? "not seekable" : "too small", FILE_SECTOR);
		close(fd);
		return -EINVAL;
	}
	struct file_disk *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		close(fd);
		snprintf(err, errlen, "--block %s: out of memory", name);
		return -ENOMEM;
	}
	d->fd = fd;
	strcpy(d->path, path);
	duet_list_init(&d->waiting);
	for (int i = FILE_SLOTS - 1; i >= 0; i--) {
		d->slots[i].disk = d;
		d->slots[i].next_free = d->free_slots;
		d->free_slots = &d->slots[i];
	}
	if (size % FILE_SECTOR != 0)
		DUET_WARN("block", "%s: size %lld is not a multiple of %d; the tail "
			  "is not used", path, (long long)size, FILE_SECTOR);
	struct duet_block_info info = {
		.sector_size = FILE_SECTOR,
		.sector_count = (uint64_t)size / FILE_SECTOR,
		.read_only = ro,
		.volatile_cache = !ro,
		.fua = !ro,
		.io_size = 1u << 20, /* a pread or pwrite of any size is one call */
	};
	int r = duet_block_register(loop, &d->blk, name, &file_ops, &info);
	if (r < 0) {
		snprintf(err, errlen, "--block %s: %s", name,
			 r == -EEXIST ? "a device of that name already exists"
				      : "bad device name (use a-z 0-9 _ -, up to 15)");
		close(fd);
		free(d);
		return r;
	}
	if (!ro) {
		r = dsync_start(&d->ds);
		if (r < 0) {
			snprintf(err, errlen, "--block %s: no thread for durable writes: %s",
				 name, duet_strerror(r));
			duet_block_unregister(&d->blk);
			return r;
		}
		d->has_ds = true;
	}
	return 0;
}
