/* Writes the seeds of the log store's mount target: images a real store
 * wrote (formatted, after sets and deletes, after a compaction, after
 * several mounts) on both of its disks, as log_mount takes them (a flags
 * byte, a 16-bit length and the disk up to its trailing zeros). Run by
 * `make fuzz-seeds`; the output is committed under
 * tests/fuzz/corpus/log_mount/. */
#include <duet/error.h>

#include "fuzz_kv.h"

#define SSZ 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}

static void write_seed(const char *dir, const char *name,
		       struct duet_blk_mem *m, uint8_t flags)
{
	const uint8_t *d = duet_blk_mem_data(m);
	size_t size = (size_t)duet_blk_mem_size(m);
	char path[512];

	/* The first 64 KiB densely, the rest as patches of its non-zero
	 * pieces. */
	size_t n = size < 0xffff ? size : 0xffff;
	while (n > 0 && d[n - 1] == 0)
		n--;
	snprintf(path, sizeof(path), "%s/%s%s", dir, name,
		 flags & 4 ? "-large" : "");
	FILE *f = fopen(path, "wb");
	uint8_t head[3] = {flags, (uint8_t)n, (uint8_t)(n >> 8)};
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(head, 1, 3, f) == 3);
	FUZZ_CHECK(fwrite(d, 1, n, f) == n);
	for (size_t at = 0xffff; at < size; at += 255) {
		size_t len = size - at < 255 ? size - at : 255;
		while (len > 0 && d[at + len - 1] == 0)
			len--;
		if (len == 0)
			continue;
		uint8_t patch[5] = {(uint8_t)(at >> 24), (uint8_t)(at >> 16),
				    (uint8_t)(at >> 8), (uint8_t)at,
				    (uint8_t)len};
		FUZZ_CHECK(fwrite(patch, 1, 5, f) == 5);
		FUZZ_CHECK(fwrite(d + at, 1, len, f) == len);
	}
	FUZZ_CHECK(fclose(f) == 0);
}

static int del(struct duet_kv *kv, const char *key)
{
	struct fuzz_sync r = {0};
	struct duet_kv_req req;

	return fuzz_wait(&r, duet_kv_delete(kv, &req, key, fuzz_kv_cb, &r));
}

static int compact(struct duet_kv *kv)
{
	struct fuzz_sync r = {0};
	struct duet_kv_req req;

	return fuzz_wait(&r, duet_logstore_compact(kv, &req, fuzz_kv_cb, &r));
}

static void seeds(const char *dir, uint64_t sectors, uint8_t large)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv;
	struct fuzz_sync r = {0};
	static uint8_t big[1500];

	FUZZ_CHECK(duet_blk_mem_create(fuzz_loop, "disk0", SSZ, sectors, false,
				       &m) == 0);
	struct duet_block *dev = duet_blk_mem_block(m);
	FUZZ_CHECK(fuzz_wait(&r, duet_logstore_format(fuzz_loop, dev,
						      fuzz_plain_cb, &r)) == 0);
	write_seed(dir, "formatted", m, large);

	FUZZ_CHECK(fuzz_mount(duet_logstore_mount, dev, &kv) == 0);
	FUZZ_CHECK(fuzz_set(kv, "a", "hello", 5) == 0);
	FUZZ_CHECK(fuzz_set(kv, "index.html", "<p>hi</p>", 9) == 0);
	FUZZ_CHECK(del(kv, "a") == 0);
	FUZZ_CHECK(fuzz_set(kv, "b", "", 0) == 0);
	fuzz_close(kv);
	write_seed(dir, "records", m, large);
	write_seed(dir, "records-resealed", m, large | 3);

	FUZZ_CHECK(fuzz_mount(duet_logstore_mount, dev, &kv) == 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	FUZZ_CHECK(fuzz_set(kv, "big", big, sizeof(big)) == 0);
	FUZZ_CHECK(fuzz_set(kv, "a", "again", 5) == 0);
	fuzz_close(kv);
	write_seed(dir, "two-sessions", m, large | 2);

	FUZZ_CHECK(fuzz_mount(duet_logstore_mount, dev, &kv) == 0);
	FUZZ_CHECK(compact(kv) == 0);
	FUZZ_CHECK(fuzz_set(kv, "after", "compaction", 10) == 0);
	fuzz_close(kv);
	write_seed(dir, "compacted", m, large | 3);
	duet_block_unregister(dev);
}

/* The geometries of log_mount_fuzz.c. */
int main(int argc, char **argv)
{
	FUZZ_CHECK(argc == 2);
	fakeplat_reset();
	duet_sys_init(&fuzz_sys, NULL);
	seeds(argv[1], 2 + 2 * 32, 0);
	seeds(argv[1], 2 + 2 * 1024, 4);
	return 0;
}
