/* The POSIX file-backed block device, on the real libuv platform. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/sys.h>
#include <duet/loop.h>

#include "../../platform-posix/posix.h"

#define SECTORS 128

static uv_loop_t uv;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static char path[64];
static char err[256];

static void setup(void)
{
	unsigned char zero[512] = {0};

	cr_assert_eq(uv_loop_init(&uv), 0);
	duet__posix_plat_init(&uv);
	duet_sys_init(&sys, NULL);
	snprintf(path, sizeof(path), "/tmp/duet-blk-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	for (int i = 0; i < SECTORS; i++)
		cr_assert_eq(write(fd, zero, sizeof(zero)), 512);
	close(fd);
}

static void teardown(void)
{
	duet__posix_devices_close(loop);
	duet__posix_plat_close();
	uv_run(&uv, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&uv), 0, "libuv handles left open");
	unlink(path);
}

TestSuite(block_file, .init = setup, .fini = teardown);

static struct duet_block *open_disk(const char *opts)
{
	char spec[128];
	struct duet_block *b;

	snprintf(spec, sizeof(spec), "%s%s", path, opts);
	cr_assert_eq(duet__posix_block_file_create(loop, "disk0", spec, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(duet_block_open(loop, "disk0", &b), 0);
	return b;
}

static unsigned done;
static int statuses[256];

static void on_done(struct duet_block_req *req, int status, void *arg)
{
	(void)req;
	statuses[done++] = status;
	if (arg != NULL && done == *(unsigned *)arg)
		duet_loop_stop(loop, 0);
}

static void hung(struct duet_timer *t, void *arg)
{
	(void)t;
	cr_assert_fail("requests did not complete (%u done, %u wanted)", done,
		       *(unsigned *)arg);
}

/* Runs the loop until the n-th completion stops it; a guard timer turns a
 * hang into a failure. */
static void wait_for(unsigned n)
{
	static struct duet_timer guard;

	if (done >= n)
		return;
	duet_timer_init(loop, &guard, hung, &n);
	duet_timer_start(&guard, DUET_SEC(20), 0);
	duet_loop_run(loop);
	duet_timer_stop(&guard);
}

Test(block_file, geometry_from_the_file)
{
	struct duet_block_info info;

	duet_block_get_info(open_disk(""), &info);
	cr_assert_eq(info.sector_size, 512);
	cr_assert_eq(info.sector_count, SECTORS);
	cr_assert(!info.read_only);
	cr_assert(info.volatile_cache);
}

Test(block_file, write_flush_read_back)
{
	struct duet_block *b = open_disk("");
	static unsigned char out[8 * 512], in[8 * 512];
	struct duet_block_req w, f, r;
	unsigned want = 1;

	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + 3);
	done = 0;
	cr_assert_eq(duet_block_write(b, &w, 10, out, 8, on_done, &want), 0);
	wait_for(1);
	want = 2;
	cr_assert_eq(duet_block_flush(b, &f, on_done, &want), 0);
	wait_for(2);
	want = 3;
	cr_assert_eq(duet_block_read(b, &r, 10, in, 8, on_done, &want), 0);
	wait_for(3);
	cr_assert_eq(statuses[0], 0);
	cr_assert_eq(statuses[1], 0);
	cr_assert_eq(statuses[2], 0);
	cr_assert_arr_eq(in, out, sizeof(in));

	/* And the bytes are really in the file, at the right offset. */
	unsigned char check[512];
	int fd = open(path, O_RDONLY);
	cr_assert_eq(pread(fd, check, 512, 11 * 512), 512);
	close(fd);
	cr_assert_arr_eq(check, out + 512, 512);
}

/* A durable write is the driver's own (one job: pwritev2 with RWF_DSYNC),
 * and more of them than there are slots all land. */
Test(block_file, durable_writes_land_in_the_file)
{
	struct duet_block *b = open_disk("");
	static struct duet_block_req reqs[40];
	static unsigned char bufs[40][2 * 512];
	struct duet_block_info info;
	unsigned want = 40;

	duet_block_get_info(b, &info);
	cr_assert(info.fua);
	done = 0;
	for (unsigned i = 0; i < 40; i++) {
		memset(bufs[i], (int)(i + 1), sizeof(bufs[i]));
		cr_assert_eq(duet_block_write_fua(b, &reqs[i], 2 * i, bufs[i], 2,
						  on_done, &want),
			     0);
	}
	wait_for(40);
	int fd = open(path, O_RDONLY);
	for (unsigned i = 0; i < 40; i++) {
		unsigned char check[2 * 512];
		cr_assert_eq(statuses[i], 0);
		cr_assert_eq(reqs[i].op, DUET_BLOCK_WRITE_FUA);
		cr_assert_eq(pread(fd, check, sizeof(check), 2 * i * 512),
			     (ssize_t)sizeof(check));
		cr_assert_arr_eq(check, bufs[i], sizeof(check), "write %u", i);
	}
	close(fd);
}

Test(block_file, more_requests_than_slots_all_complete)
{
	struct duet_block *b = open_disk("");
	static struct duet_block_req reqs[SECTORS];
	static unsigned char bufs[SECTORS][512];
	unsigned want = SECTORS;

	done = 0;
	for (unsigned i = 0; i < SECTORS; i++) {
		memset(bufs[i], (int)i, 512);
		cr_assert_eq(duet_block_write(b, &reqs[i], i, bufs[i], 1, on_done, &want), 0);
	}
	wait_for(SECTORS);
	for (unsigned i = 0; i < SECTORS; i++)
		cr_assert_eq(statuses[i], 0);
	want = SECTORS * 2;
	for (unsigned i = 0; i < SECTORS; i++) {
		memset(bufs[i], 0xee, 512);
		cr_assert_eq(duet_block_read(b, &reqs[i], i, bufs[i], 1, on_done, &want), 0);
	}
	wait_for(SECTORS * 2);
	for (unsigned i = 0; i < SECTORS; i++)
		cr_assert_eq(bufs[i][511], (unsigned char)i, "sector %u", i);
}

Test(block_file, read_only_disk_refuses_writes)
{
	struct duet_block *b = open_disk(",ro");
	struct duet_block_info info;
	struct duet_block_req w;
	unsigned char buf[512] = {0};

	duet_block_get_info(b, &info);
	cr_assert(info.read_only);
	cr_assert_eq(duet_block_write(b, &w, 0, buf, 1, on_done, NULL), -EROFS);
	cr_assert_eq(duet_block_write_fua(b, &w, 0, buf, 1, on_done, NULL), -EROFS);
}

Test(block_file, bad_declarations_say_why)
{
	cr_assert_eq(duet__posix_block_file_create(loop, "disk0", "/nonexistent/x", err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "cannot open /nonexistent/x") != NULL, "%s", err);
	char spec[128];
	snprintf(spec, sizeof(spec), "%s,rw", path);
	cr_assert_eq(duet__posix_block_file_create(loop, "disk0", spec, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unknown option 'rw'") != NULL, "%s", err);
	cr_assert_eq(duet__posix_block_file_create(loop, "Disk!", path, err, sizeof(err)), -EINVAL);
	cr_assert_eq(duet__posix_block_file_create(loop, "disk0", "/dev/null", err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "too small") != NULL, "%s", err);
	open_disk("");
	cr_assert_eq(duet__posix_block_file_create(loop, "disk0", path, err, sizeof(err)), -EEXIST);
}

Test(block_file, file_shrunk_underneath_gives_eio_not_a_hang)
{
	struct duet_block *b = open_disk("");
	static unsigned char in[512];
	struct duet_block_req r;
	unsigned want = 1;

	cr_assert_eq(truncate(path, 512), 0);
	done = 0;
	cr_assert_eq(duet_block_read(b, &r, 100, in, 1, on_done, &want), 0);
	wait_for(1);
	cr_assert_eq(statuses[0], -EIO);
}

Test(block_file, close_with_requests_in_flight_completes_them)
{
	struct duet_block *b = open_disk("");
	static struct duet_block_req reqs[64];
	static unsigned char bufs[64][512];

	done = 0;
	for (unsigned i = 0; i < 64; i++)
		cr_assert_eq(duet_block_read(b, &reqs[i], i, bufs[i], 1, on_done, NULL), 0);
	duet_block_unregister(b);
	cr_assert_eq(done, 64);
}

/* Durable writes queued for the disk's thread are finished, not dropped,
 * when the disk closes; so are those from a callback that closes it. */
static struct duet_block *closing_disk;

static void close_on_first(struct duet_block_req *req, int status, void *arg)
{
	on_done(req, status, arg);
	if (done == 1)
		duet_block_unregister(closing_disk);
}

Test(block_file, close_with_durable_writes_in_flight_finishes_them, .timeout = 20)
{
	struct duet_block *b = open_disk("");
	static struct duet_block_req reqs[48];
	static unsigned char bufs[48][512];

	done = 0;
	for (unsigned i = 0; i < 48; i++) {
		memset(bufs[i], (int)(0x80 + i), 512);
		cr_assert_eq(duet_block_write_fua(b, &reqs[i], i, bufs[i], 1, on_done, NULL), 0);
	}
	duet_block_unregister(b);
	cr_assert_eq(done, 48);
	unsigned ok = 0;
	for (unsigned i = 0; i < 48; i++)
		ok += statuses[i] == 0;
	/* The 32 that had slots ran; the 16 waiting for one did not. */
	cr_assert_eq(ok, 32);

	closing_disk = open_disk("");
	done = 0;
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(duet_block_write_fua(closing_disk, &reqs[i], i, bufs[i], 1,
						  close_on_first, NULL),
			     0);
	while (done < 8)
		uv_run(&uv, UV_RUN_ONCE);
	cr_assert_eq(done, 8);
}
