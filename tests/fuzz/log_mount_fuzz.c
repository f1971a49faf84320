/* The log store's mount and recovery over arbitrary disk bytes.
 *
 * Input: a flags byte; a little-endian 16-bit length L and the disk's
 * first L bytes; then patches, each a 32-bit offset (modulo the disk's
 * size), a length byte and that many bytes (the rest of the disk is
 * zero). Flags: bit 2 picks a disk whose regions are larger than the
 * mount's read window (so the window moves); bits 0 and 1 ask the target
 * to make checksums right after the mutation, so that the fields behind
 * them are reached: bit 0 reseals both superblocks, bit 1 every record of
 * the active region.
 *
 * A mount either fails cleanly or gives a store whose listing reads back
 * and that takes a new write (or refuses it when full); a remount then
 * succeeds and shows the same keys, the new one if it was acknowledged. */
#include "fuzz_kv.h"
#include "log_format.h"

#define SSZ 512
/* Regions of 32 sectors, or of 1024 (past the 256 KiB window). */
#define SMALL_SECTORS (LOG_SB_SLOTS + 2 * 32)
#define LARGE_SECTORS (LOG_SB_SLOTS + 2 * 1024)

static uint64_t SECTORS;

static void reseal_superblocks(uint8_t *disk)
{
	for (int i = 0; i < LOG_SB_SLOTS; i++) {
		uint8_t *p = disk + i * SSZ;
		if (log_sb_has_magic(p))
			log_put32(p + 72, duet__crc32c(0, p, 72));
	}
}

/* Seals each record the way mount will walk them, with the salt of the
 * superblock mount will choose. */
static void reseal_records(uint8_t *disk)
{
	struct log_sb sb[2], *best = NULL;

	for (int i = 0; i < LOG_SB_SLOTS; i++) {
		if (log_sb_decode(disk + i * SSZ, &sb[i]) &&
		    (best == NULL || sb[i].seq > best->seq))
			best = &sb[i];
	}
	if (best == NULL || best->active > 1 ||
	    best->region_start[best->active] >= SECTORS)
		return;
	uint64_t first = best->region_start[best->active];
	uint64_t R = best->region_sectors;
	if (R > SECTORS - first)
		R = SECTORS - first;
	R *= SSZ;
	uint8_t *region = disk + first * SSZ;
	for (uint64_t p = 0; R - p >= LOG_REC_HDR;) {
		uint64_t room = SSZ - p % SSZ;
		if (room < LOG_REC_MIN_ROOM) {
			p += room;
			continue;
		}
		struct log_rec rec;
		log_rec_decode_hdr(region + p, &rec);
		uint64_t len = log_rec_len(rec.key_len, rec.value_len);
		if (len > R - p ||
		    (rec.type != LOG_REC_SET && rec.type != LOG_REC_DELETE))
			return;
		log_rec_seal(region + p, best->salt, len);
		p += len;
	}
}

static struct fuzz_walk before, after;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv;
	char back[16];

	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	SECTORS = flags & 4 ? LARGE_SECTORS : SMALL_SECTORS;
	fakeplat_reset();
	duet_sys_init(&fuzz_sys, NULL);
	FUZZ_CHECK(duet_blk_mem_create(fuzz_loop, "disk0", SSZ, SECTORS, false,
				       &m) == 0);
	uint8_t *disk = duet_blk_mem_data(m);
	size_t disk_size = (size_t)duet_blk_mem_size(m);
	struct fuzz_in in = {data + 1, size - 1};
	size_t n = fuzz_u8(&in);
	n |= (size_t)fuzz_u8(&in) << 8;
	if (n > in.left)
		n = in.left;
	memcpy(disk, in.p, n);
	in.p += n;
	in.left -= n;
	while (fuzz_more(&in)) {
		size_t at = fuzz_u32(&in) % disk_size;
		const uint8_t *b;
		size_t len = fuzz_bytes(&in, 255, &b);
		if (len > disk_size - at)
			len = disk_size - at;
		memcpy(disk + at, b, len);
	}
	if (flags & 1)
		reseal_superblocks(disk);
	if (flags & 2)
		reseal_records(disk);

	struct duet_block *dev = duet_blk_mem_block(m);
	if (fuzz_mount(duet_logstore_mount, dev, &kv) == 0) {
		struct duet_logstore_report rep;
		duet_logstore_report(kv, &rep);
		FUZZ_CHECK(rep.keys <= rep.records);
		fuzz_walk_store(kv, &before);
		int e = fuzz_set(kv, "fuzz", "written", 7);
		FUZZ_CHECK(e == 0 || e == -ENOSPC);
		fuzz_close(kv);
		/* A store that mounted mounts again, with what it held and
		 * what it acknowledged. */
		FUZZ_CHECK(fuzz_mount(duet_logstore_mount, dev, &kv) == 0);
		fuzz_walk_store(kv, &after);
		int got = fuzz_get(kv, "fuzz", 0, back, sizeof(back), NULL);
		FUZZ_CHECK(e == 0 ? got == 7 && memcmp(back, "written", 7) == 0
				  : got == -ENOENT);
		/* The image may hold a "fuzz" of its own: the set replaced it. */
		bool had = false;
		for (unsigned i = 0; i < before.n; i++)
			had = had || strcmp(before.keys[i], "fuzz") == 0;
		FUZZ_CHECK(after.n == before.n + (e == 0 && !had) ||
			   before.n == FUZZ_WALK_KEYS);
		for (unsigned i = 0, j = 0; i < before.n && j < after.n;) {
			if (strcmp(after.keys[j], "fuzz") == 0) {
				j++;
				continue;
			}
			if (strcmp(before.keys[i], "fuzz") == 0) {
				i++;
				continue;
			}
			FUZZ_CHECK(strcmp(after.keys[j], before.keys[i]) == 0);
			FUZZ_CHECK(after.st[j].size == before.st[i].size);
			i++;
			j++;
		}
		fuzz_close(kv);
	}
	duet_block_unregister(dev);
	return 0;
}
