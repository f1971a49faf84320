/* blkcheck: exercises disk0 through duet/block.h for the Xen harness
 * (tests/xen/cases/blk*.case); it runs on POSIX too (--block disk0=FILE).
 *
 *   blk.mode=write    write the pattern over the first blk.sectors sectors
 *                     with mixed request sizes (1 sector to several pages)
 *                     and unaligned buffers, flush, read it all back (in
 *                     other sizes) and compare (the default)
 *   blk.mode=fua      as write, but every write is a durable one
 *                     (duet_block_write_fua) and there is no flush
 *   blk.mode=verify   only read back and compare (a pattern written by an
 *                     earlier domain, or by dom0)
 *   blk.mode=loop     write, flush and verify over and over, one line per
 *                     round, until a request fails (the backend going away)
 *   blk.mode=readonly the disk must say read-only and refuse a write with
 *                     -EROFS; one sector is read
 *   blk.sectors=N     how many sectors (default 2048)
 *   blk.tag=WORD      eight characters in every pattern line (default
 *                     blkcheck)
 *
 * The pattern, which dom0 can make with awk: each 512 bytes of sector i
 * hold 16 lines "duet sector %010u TAG\n" (32 bytes each). The verdict is
 * the line "blkcheck: PASS ..." or "blkcheck: FAIL ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/duet.h>

#define INFLIGHT 8
#define LINE	 32
#define MAX_REQ	 200 /* sectors: several 44 KiB ring chunks */

static const unsigned write_sizes[] = {1, 7, 64, MAX_REQ, 3, 96, 24, 130};
static const unsigned read_sizes[] = {5, 130, 1, 33, MAX_REQ, 8};

struct io {
	struct duet_block_req req;
	uint8_t *buf; /* MAX_REQ * 512 + 8, used at an offset */
	uint64_t sector;
	uint64_t count;
	struct blkcheck *bc;
};

struct blkcheck {
	struct duet_loop *loop;
	struct duet_block *disk;
	const char *tag;
	uint64_t sectors;
	uint64_t next;
	unsigned size_i;
	unsigned busy;
	bool reading;
	bool failed;
	bool loop_forever;
	bool fua; /* durable writes, no flush */
	unsigned rounds;
	duet_time_t t0;
	struct io io[INFLIGHT];
	struct duet_block_req flush;
};

static void fill(uint8_t *p, uint64_t sector, uint64_t count, const char *tag)
{
	char line[LINE + 1];

	for (uint64_t s = 0; s < count; s++) {
		snprintf(line, sizeof(line), "duet sector %010llu %.8s\n",
			 (unsigned long long)(sector + s), tag);
		for (unsigned i = 0; i < 512 / LINE; i++)
			memcpy(p + s * 512 + i * LINE, line, LINE);
	}
}

static void verdict(struct blkcheck *bc, const char *what, int status)
{
	if (status < 0) {
		bc->failed = true;
		DUET_INFO("blkcheck", "FAIL %s: %s", what,
			  duet_strerror(status));
		duet_shutdown(bc->loop, DUET_EXIT_FAILURE);
		return;
	}
	DUET_INFO("blkcheck", "PASS %s %llu sectors in %llu ms", what,
		  (unsigned long long)bc->sectors,
		  (unsigned long long)((duet_loop_now(bc->loop) - bc->t0) /
				       DUET_NSEC_PER_MSEC));
	duet_shutdown(bc->loop, DUET_EXIT_SUCCESS);
}

static void issue(struct blkcheck *bc, struct io *io);

static void start_reads(struct blkcheck *bc)
{
	bc->reading = true;
	bc->next = 0;
	bc->size_i = 0;
	for (unsigned i = 0; i < INFLIGHT; i++)
		issue(bc, &bc->io[i]);
}

static void on_flush(struct duet_block_req *req, int status, void *arg)
{
	struct blkcheck *bc = arg;
	(void)req;

	if (status < 0) {
		verdict(bc, "flush", status);
		return;
	}
	DUET_INFO("blkcheck", "flushed %llu sectors, %llu ms after the start",
		  (unsigned long long)bc->sectors,
		  (unsigned long long)((duet_loop_now(bc->loop) - bc->t0) /
				       DUET_NSEC_PER_MSEC));
	start_reads(bc);
}

static void on_io(struct duet_block_req *req, int status, void *arg)
{
	struct io *io = arg;
	struct blkcheck *bc = io->bc;
	uint8_t *expect;
	(void)req;

	bc->busy--;
	if (bc->failed)
		return;
	if (status < 0) {
		DUET_INFO("blkcheck", "%s at sector %llu: %s",
			  bc->reading ? "read" : "write",
			  (unsigned long long)io->sector,
			  duet_strerror(status));
		verdict(bc, bc->reading ? "read" : "write", status);
		return;
	}
	if (bc->reading) {
		expect = malloc(io->count * 512);
		if (expect == NULL) {
			verdict(bc, "memory", -ENOMEM);
			return;
		}
		fill(expect, io->sector, io->count, bc->tag);
		if (memcmp(expect, io->req.buf, io->count * 512) != 0) {
			free(expect);
			DUET_INFO(
			    "blkcheck", "mismatch in sectors %llu..%llu",
			    (unsigned long long)io->sector,
			    (unsigned long long)(io->sector + io->count - 1));
			verdict(bc, "compare", -EIO);
			return;
		}
		free(expect);
	}
	issue(bc, io);
	if (bc->busy > 0)
		return;
	if (!bc->reading && bc->fua) {
		DUET_INFO(
		    "blkcheck",
		    "durable writes of %llu sectors done, %llu ms after "
		    "the start",
		    (unsigned long long)bc->sectors,
		    (unsigned long long)((duet_loop_now(bc->loop) - bc->t0) /
					 DUET_NSEC_PER_MSEC));
		start_reads(bc);
		return;
	}
	if (!bc->reading) {
		int r = duet_block_flush(bc->disk, &bc->flush, on_flush, bc);

		if (r < 0)
			verdict(bc, "flush", r);
		return;
	}
	if (bc->loop_forever) {
		DUET_INFO("blkcheck", "round %u ok", ++bc->rounds);
		bc->reading = false;
		bc->next = 0;
		bc->size_i = 0;
		for (unsigned i = 0; i < INFLIGHT; i++)
			issue(bc, &bc->io[i]);
		return;
	}
	verdict(bc, "verified", 0);
}

/* The next chunk, in sizes that cycle; every other buffer is misaligned. */
static void issue(struct blkcheck *bc, struct io *io)
{
	const unsigned *sizes = bc->reading ? read_sizes : write_sizes;
	unsigned nsizes = bc->reading
			      ? sizeof(read_sizes) / sizeof(read_sizes[0])
			      : sizeof(write_sizes) / sizeof(write_sizes[0]);
	uint8_t *buf;
	int r;

	if (bc->next >= bc->sectors)
		return;
	io->sector = bc->next;
	io->count = sizes[bc->size_i++ % nsizes];
	if (io->count > bc->sectors - bc->next)
		io->count = bc->sectors - bc->next;
	bc->next += io->count;
	buf = io->buf + (io->sector % 2 ? 1 + io->sector % 7 : 0);
	if (bc->reading) {
		memset(buf, 0xee, io->count * 512);
		r = duet_block_read(bc->disk, &io->req, io->sector, buf,
				    io->count, on_io, io);
	} else {
		fill(buf, io->sector, io->count, bc->tag);
		r = (bc->fua ? duet_block_write_fua : duet_block_write)(
		    bc->disk, &io->req, io->sector, buf, io->count, on_io, io);
	}
	if (r < 0) {
		verdict(bc, bc->reading ? "read submit" : "write submit", r);
		return;
	}
	bc->busy++;
}

static void on_ro_read(struct duet_block_req *req, int status, void *arg)
{
	struct blkcheck *bc = arg;
	(void)req;

	DUET_INFO("blkcheck", "read-only disk read: %s",
		  status == 0 ? "ok" : duet_strerror(status));
	verdict(bc, "read-only", status);
}

static int check_read_only(struct blkcheck *bc, struct duet_block_info *info)
{
	struct io *io = &bc->io[0];
	int r;

	if (!info->read_only) {
		DUET_INFO("blkcheck",
			  "FAIL read-only: the disk says it is writable");
		return -EINVAL;
	}
	r = duet_block_write(bc->disk, &io->req, 0, io->buf, 1, on_io, io);
	DUET_INFO("blkcheck", "write to read-only disk: %s", duet_strerror(r));
	if (r != -EROFS) {
		DUET_INFO("blkcheck", "FAIL read-only: write not refused");
		return -EINVAL;
	}
	return duet_block_read(bc->disk, &io->req, 0, io->buf, 1, on_ro_read,
			       bc);
}

static int blkcheck_start(struct duet_loop *loop, void *arg)
{
	static struct blkcheck bc;
	struct duet_args *args = duet_loop_args(loop);
	struct duet_block_info info;
	const char *mode;
	long long sectors;
	int r;
	(void)arg;

	if ((r = duet_args_get_str(args, "blk.mode", "write", &mode)) < 0 ||
	    (r = duet_args_get_str(args, "blk.tag", "blkcheck", &bc.tag)) < 0 ||
	    (r = duet_args_get_int(args, "blk.sectors", 2048, 1, 1 << 24,
				   &sectors)) < 0)
		return r;
	if (strcmp(mode, "write") != 0 && strcmp(mode, "verify") != 0 &&
	    strcmp(mode, "readonly") != 0 && strcmp(mode, "loop") != 0 &&
	    strcmp(mode, "fua") != 0) {
		DUET_ERROR("blkcheck",
			   "blk.mode=%s: write, fua, verify, loop or readonly",
			   mode);
		return -EINVAL;
	}
	if ((r = duet_block_open(loop, "disk0", &bc.disk)) < 0)
		return r;
	duet_block_get_info(bc.disk, &info);
	DUET_INFO("blkcheck", "disk0 %llu sectors of %u bytes%s%s%s",
		  (unsigned long long)info.sector_count, info.sector_size,
		  info.read_only ? ", read-only" : "",
		  info.volatile_cache ? ", volatile cache" : "",
		  info.fua ? ", native durable writes"
			   : ", durable writes as write then flush");
	if (info.sector_size != 512) {
		DUET_ERROR("blkcheck", "the pattern wants 512-byte sectors");
		return -EINVAL;
	}
	bc.loop = loop;
	bc.sectors = (uint64_t)sectors;
	if (bc.sectors > info.sector_count)
		bc.sectors = info.sector_count;
	/* The handshake ran after the loop's clock was last read. */
	duet_loop_update_time(loop);
	bc.t0 = duet_loop_now(loop);
	for (unsigned i = 0; i < INFLIGHT; i++) {
		bc.io[i].bc = &bc;
		bc.io[i].buf = malloc(MAX_REQ * 512 + 8);
		if (bc.io[i].buf == NULL)
			return -ENOMEM;
	}
	if (strcmp(mode, "readonly") == 0)
		return check_read_only(&bc, &info);
	bc.loop_forever = strcmp(mode, "loop") == 0;
	bc.fua = strcmp(mode, "fua") == 0;
	if (strcmp(mode, "verify") == 0) {
		start_reads(&bc);
		return 0;
	}
	for (unsigned i = 0; i < INFLIGHT; i++)
		issue(&bc, &bc.io[i]);
	return 0;
}

DUET_APP(.name = "blkcheck",
	 .summary = "writes, flushes and verifies a pattern on disk0",
	 .args_help =
	     "blk.mode=write|fua|verify|loop|readonly  what to check\n"
	     "blk.sectors=N  sectors to cover (default 2048)\n"
	     "blk.tag=WORD  eight pattern characters (default blkcheck)",
	 .start = blkcheck_start);
