/* The test block devices (RAM and fault-injecting) and the stores'
 * checksum. */
#include "storage_harness.h"
#include <duet/crc32c.h>

TestSuite(blk_mem, .init = harness_setup);
TestSuite(blk_fault, .init = harness_setup);
TestSuite(crc32c);

static void blk_cb(struct duet_block_req *req, int status, void *arg)
{
	struct sync_result *r = arg;
	(void)req;
	r->done = true;
	r->status = status;
}

static int io_sync(struct duet_block *b, enum duet_block_op op, uint64_t sector,
		   void *buf, uint64_t count)
{
	struct duet_block_req req;
	struct sync_result r = {0};
	int e;

	switch (op) {
	case DUET_BLOCK_READ:
		e = duet_block_read(b, &req, sector, buf, count, blk_cb, &r);
		break;
	case DUET_BLOCK_WRITE:
		e = duet_block_write(b, &req, sector, buf, count, blk_cb, &r);
		break;
	case DUET_BLOCK_WRITE_FUA:
		e = duet_block_write_fua(b, &req, sector, buf, count, blk_cb,
					 &r);
		break;
	default: e = duet_block_flush(b, &req, blk_cb, &r); break;
	}
	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

Test(crc32c, known_answers_and_chaining)
{
	cr_assert_eq(duet__crc32c(0, "123456789", 9), 0xe3069283);
	cr_assert_eq(duet__crc32c(0, "", 0), 0);
	cr_assert_eq(duet__crc32c(duet__crc32c(0, "1234", 4), "56789", 5),
		     0xe3069283);
}

/* The definition, a bit at a time: what the sliced code must equal. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

/* Every length and alignment up to a few words, chained or not. */
Test(crc32c, sliced_is_the_same_checksum)
{
	uint8_t b[80];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; off + n <= sizeof(b); n++)
			cr_assert_eq(duet__crc32c(0x1234, b + off, n),
				     crc32c_bitwise(0x1234, b + off, n),
				     "offset %zu length %zu", off, n);
}

Test(blk_mem, write_read_flush_and_stats)
{
	struct duet_blk_mem *m = mem_disk("disk0", 512, 16);
	struct duet_block *b;
	uint8_t out[1024], in[1024];
	struct duet_blk_mem_stats st;
	struct duet_block_info info;

	cr_assert_eq(duet_block_open(loop, "disk0", &b), 0);
	cr_assert_eq(b, duet_blk_mem_block(m));
	duet_block_get_info(b, &info);
	cr_assert_eq(info.sector_count, 16);
	fill_value(out, sizeof(out), 1, 1);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 3, out, 2), 0);
	cr_assert_eq(io_sync(b, DUET_BLOCK_FLUSH, 0, NULL, 0), 0);
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 3, in, 2), 0);
	cr_assert_arr_eq(in, out, sizeof(out));
	cr_assert_arr_eq(duet_blk_mem_data(m) + 3 * 512, out, sizeof(out));
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 15, in, 2), -ERANGE);
	duet_blk_mem_get_stats(m, &st);
	cr_assert_eq(st.writes, 1);
	cr_assert_eq(st.reads, 1);
	cr_assert_eq(st.flushes, 1);
	cr_assert_eq(st.bytes_written, 1024);
	struct duet_blk_mem *ro;
	cr_assert_eq(duet_blk_mem_create(loop, "disk1", 512, 4, true, &ro), 0);
	cr_assert_eq(
	    io_sync(duet_blk_mem_block(ro), DUET_BLOCK_WRITE, 0, out, 1),
	    -EROFS);
	cr_assert_eq(duet_blk_mem_create(loop, "disk1", 512, 4, false, &ro),
		     -EEXIST);
	duet_block_unregister(b);
}

static struct duet_blk_fault *fault_over(struct duet_blk_mem **lower)
{
	struct duet_blk_fault *f;

	*lower = mem_disk("lower", 512, 16);
	cr_assert_eq(duet_blk_fault_create(loop, "disk0",
					   duet_blk_mem_block(*lower), &f),
		     0);
	return f;
}

static void crash_sync(struct duet_blk_fault *f,
		       struct duet_blk_fault_crash how)
{
	struct sync_result r = {0};

	cr_assert_eq(duet_blk_fault_crash(f, &how, sync_plain_cb, &r), 0);
	run_until(&r.done);
	cr_assert_eq(r.status, 0);
}

Test(blk_fault, reads_see_the_cache_and_flush_writes_it_back)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t out[512], in[512];

	memset(out, 0xaa, sizeof(out));
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 2, out, 1), 0);
	cr_assert_eq(duet_blk_mem_data(m)[2 * 512], 0,
		     "an unflushed write reached the disk");
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 2, in, 1), 0);
	cr_assert_arr_eq(in, out, 512);
	cr_assert_eq(duet_blk_fault_unflushed(f), 1);
	cr_assert_eq(io_sync(b, DUET_BLOCK_FLUSH, 0, NULL, 0), 0);
	cr_assert_eq(duet_blk_fault_unflushed(f), 0);
	cr_assert_eq(duet_blk_mem_data(m)[2 * 512], 0xaa);
	cr_assert_eq(duet_blk_fault_ops(f), 2);
}

Test(blk_fault, crash_drops_unflushed_writes)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t out[512] = {1};

	io_sync(b, DUET_BLOCK_WRITE, 0, out, 1);
	io_sync(b, DUET_BLOCK_FLUSH, 0, NULL, 0);
	out[0] = 2;
	io_sync(b, DUET_BLOCK_WRITE, 0, out, 1);
	io_sync(b, DUET_BLOCK_WRITE, 1, out, 1);
	crash_sync(f, (struct duet_blk_fault_crash){.keep = 0, .torn = -1});
	cr_assert_eq(duet_blk_mem_data(m)[0], 1);
	cr_assert_eq(duet_blk_mem_data(m)[512], 0);
	cr_assert(duet_blk_fault_dead(f));
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 0, out, 1), -EIO,
		     "dead disks do not read");
}

Test(blk_fault, crash_lands_any_subset_out_of_order)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t out[512];

	for (unsigned i = 0; i < 3; i++) {
		out[0] = (uint8_t)(10 + i);
		io_sync(b, DUET_BLOCK_WRITE, i, out, 1);
	}
	uint64_t sector, count;
	cr_assert_eq(duet_blk_fault_unflushed_info(f, 2, &sector, &count), 0);
	cr_assert_eq(sector, 2);
	cr_assert_eq(duet_blk_fault_unflushed_info(f, 3, &sector, &count),
		     -EINVAL);
	struct sync_result r = {0};
	struct duet_blk_fault_crash bad = {.keep = 8, .torn = -1};
	cr_assert_eq(duet_blk_fault_crash(f, &bad, sync_plain_cb, &r), -EINVAL);
	/* The last write landed, the first two did not. */
	crash_sync(f, (struct duet_blk_fault_crash){.keep = 4, .torn = -1});
	cr_assert_eq(duet_blk_mem_data(m)[0], 0);
	cr_assert_eq(duet_blk_mem_data(m)[512], 0);
	cr_assert_eq(duet_blk_mem_data(m)[1024], 12);
}

Test(blk_fault, crash_tears_a_write_at_a_sector)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t out[4 * 512];

	for (unsigned i = 0; i < 4; i++)
		memset(out + i * 512, 0x30 + i, 512);
	io_sync(b, DUET_BLOCK_WRITE, 4, out, 4);
	crash_sync(f, (struct duet_blk_fault_crash){
			  .torn = 0, .torn_sectors = 1, .torn_from_end = true});
	uint8_t *d = duet_blk_mem_data(m);
	cr_assert_eq(d[4 * 512], 0);
	cr_assert_eq(d[6 * 512], 0);
	cr_assert_eq(d[7 * 512], 0x33);
	cr_assert_eq(d[7 * 512 + 511], 0x33);

	struct duet_blk_fault *g;
	duet_block_unregister(b);
	cr_assert_eq(
	    duet_blk_fault_create(loop, "disk1", duet_blk_mem_block(m), &g),
	    0);
	io_sync(duet_blk_fault_block(g), DUET_BLOCK_WRITE, 8, out, 4);
	crash_sync(g,
		   (struct duet_blk_fault_crash){.torn = 0, .torn_sectors = 2});
	cr_assert_eq(d[8 * 512], 0x30);
	cr_assert_eq(d[9 * 512], 0x31);
	cr_assert_eq(d[10 * 512], 0);
}

Test(blk_fault, failures_on_command_and_power_cut)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t buf[512] = {7};

	duet_blk_fault_fail(f, DUET_BLOCK_READ, -EIO);
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 0, buf, 1), -EIO);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 0, buf, 1), 0);
	duet_blk_fault_fail(f, DUET_BLOCK_READ, 0);
	cr_assert_eq(io_sync(b, DUET_BLOCK_READ, 0, buf, 1), 0);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE, -ENOSPC);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 0, buf, 1), -ENOSPC);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE, 0);
	duet_blk_fault_cut_after(f, 3);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 1, buf, 1), 0); /* op 3 */
	cr_assert(!duet_blk_fault_dead(f));
	cr_assert_eq(io_sync(b, DUET_BLOCK_FLUSH, 0, NULL, 0), -EIO); /* op 4 */
	cr_assert(duet_blk_fault_dead(f));
	cr_assert_eq(duet_blk_mem_data(m)[512], 0,
		     "the failed flush wrote back");
}

/* A write whose callback has not run when a flush is submitted is not
 * covered by that flush (the block contract), and the fault disk knows. */
Test(blk_fault, flush_covers_only_acknowledged_writes)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	struct duet_block_req w, fl;
	struct sync_result rw = {0}, rf = {0};
	uint8_t buf[512] = {9};

	cr_assert_eq(duet_block_write(b, &w, 5, buf, 1, blk_cb, &rw), 0);
	cr_assert_eq(duet_block_flush(b, &fl, blk_cb, &rf), 0);
	run_until(&rf.done);
	cr_assert(rw.done);
	cr_assert_eq(duet_blk_fault_unflushed(f), 1);
	crash_sync(f, (struct duet_blk_fault_crash){.torn = -1});
	cr_assert_eq(duet_blk_mem_data(m)[5 * 512], 0);
}

/* The RAM disk has no native FUA: the core's write-then-flush, counted. */
Test(blk_mem, durable_write_is_one_write_and_one_flush)
{
	struct duet_blk_mem *m = mem_disk("disk0", 512, 16);
	struct duet_block *b = duet_blk_mem_block(m);
	struct duet_blk_mem_stats st;
	struct duet_block_info info;
	uint8_t out[512];

	duet_block_get_info(b, &info);
	cr_assert(!info.fua);
	memset(out, 0x3c, sizeof(out));
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 4, out, 1), 0);
	duet_blk_mem_get_stats(m, &st);
	cr_assert_eq(st.writes, 1);
	cr_assert_eq(st.flushes, 1);
	cr_assert_arr_eq(duet_blk_mem_data(m) + 4 * 512, out, 512);
}

/* A durable write is on the lower device when it is acknowledged, so a
 * crash right after cannot take it, nor the writes acknowledged before
 * it; one that has not completed yet may be dropped or torn. */
Test(blk_fault, durable_write_is_on_the_disk_when_acknowledged)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	struct duet_block_info info;
	uint8_t one[512], two[512];

	duet_block_get_info(b, &info);
	cr_assert(info.fua);
	memset(one, 1, sizeof(one));
	memset(two, 2, sizeof(two));
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE, 3, one, 1), 0);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 6, two, 1), 0);
	cr_assert_eq(duet_blk_fault_unflushed(f), 0);
	cr_assert_eq(duet_blk_fault_ops(f), 2, "one operation, not two");
	crash_sync(f, (struct duet_blk_fault_crash){.keep = 0, .torn = -1});
	cr_assert_eq(duet_blk_mem_data(m)[6 * 512], 2);
	cr_assert_eq(duet_blk_mem_data(m)[3 * 512], 1);
}

Test(blk_fault, durable_write_in_flight_may_be_lost_at_a_crash)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	struct duet_block_req rd, w;
	struct sync_result rr = {0}, rw = {0};
	uint8_t buf[2 * 512], in[512];

	memset(buf, 5, sizeof(buf));
	/* A read ahead of it keeps the write-back from starting. */
	cr_assert_eq(duet_block_read(b, &rd, 0, in, 1, blk_cb, &rr), 0);
	cr_assert_eq(duet_block_write_fua(b, &w, 8, buf, 2, blk_cb, &rw), 0);
	cr_assert_eq(duet_blk_fault_unflushed(f), 1);
	/* Its tail sector lands, its head does not. */
	crash_sync(f, (struct duet_blk_fault_crash){.keep = 0,
						    .torn = 0,
						    .torn_sectors = 1,
						    .torn_from_end = true});
	run_until(&rw.done);
	cr_assert_eq(rw.status, -EIO, "a write lost at the crash succeeded");
	cr_assert(rr.done, "the request being served was forgotten");
	cr_assert_eq(rr.status, -EIO);
	cr_assert_eq(duet_blk_mem_data(m)[8 * 512], 0);
	cr_assert_eq(duet_blk_mem_data(m)[9 * 512], 5);
}

/* A durable write fails with what is injected for writes or flushes. */
Test(blk_fault, durable_write_fails_with_write_or_flush_failures)
{
	struct duet_blk_mem *m;
	struct duet_blk_fault *f = fault_over(&m);
	struct duet_block *b = duet_blk_fault_block(f);
	uint8_t buf[512] = {1};

	duet_blk_fault_fail(f, DUET_BLOCK_FLUSH, -EIO);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 0, buf, 1), -EIO);
	duet_blk_fault_fail(f, DUET_BLOCK_FLUSH, 0);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE, -ENOSPC);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 0, buf, 1), -ENOSPC);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE, 0);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE_FUA, -EROFS);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 0, buf, 1), -EROFS);
	duet_blk_fault_fail(f, DUET_BLOCK_WRITE_FUA, 0);
	cr_assert_eq(io_sync(b, DUET_BLOCK_WRITE_FUA, 0, buf, 1), 0);
	cr_assert_eq(duet_blk_mem_data(m)[0], 1);
}
