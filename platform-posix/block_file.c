/* Block device on a host file or block device, through libuv's fs requests
 * (run on libuv's thread pool, completed on the loop thread).
 *
 *   --block NAME=PATH[,ro]
 *
 * Flush is fdatasync(2). A durable write is one job on the thread pool,
 * pwritev2(2) with RWF_DSYNC (pwrite and fdatasync on a kernel without
 * it): one round trip to the pool instead of a write's and a flush's.
 * Each request takes one of a fixed set of slots, so the I/O path does not
 * allocate; requests beyond that wait in a queue.
 */
#define _GNU_SOURCE /* pwritev2, RWF_DSYNC */
#include <errno.h>
#include <fcntl.h>
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
	union {
		uv_fs_t fs;
		uv_work_t work; /* a durable write */
	};
	ssize_t result; /* the durable write's, from the pool thread */
	struct file_disk *disk;
	struct duet_block_req *req;
	size_t done; /* bytes transferred so far (short reads/writes resume) */
	struct file_slot *next_free;
};

struct file_disk {
	struct duet_block blk;
	uv_file fd;
	char path[256];
	struct file_slot slots[FILE_SLOTS];
	struct file_slot *free_slots;
	struct duet_list waiting;
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

/* On the pool thread: the whole rest of the request, durable. A kernel
 * without RWF_DSYNC (before 4.7) refuses the flag with EOPNOTSUPP. */
static void durable_write(uv_work_t *work)
{
	struct file_slot *s = duet_container_of(work, struct file_slot, work);
	struct duet_block_req *req = s->req;
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
	s->result = r < 0 ? -errno : r;
}

static void durable_write_done(uv_work_t *work, int status)
{
	struct file_slot *s = duet_container_of(work, struct file_slot, work);

	slot_result(s, status < 0 ? status : s->result);
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
		r = uv_queue_work(uv, &s->work, durable_write,
				  durable_write_done);
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
	/* Requests already on the thread pool cannot be taken back: let them
	 * finish so their buffers are no longer written to. */
	while (blk->in_flight > 0)
		uv_run(uv, UV_RUN_ONCE);
	close(d->fd);
	free(d);
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
	return 0;
}
