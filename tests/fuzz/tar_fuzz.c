/* The tar store's parse and mount over a RAM disk holding any bytes:
 * ustar, pax and GNU headers, links, truncation. A mount fails cleanly or
 * gives a store whose listing reads back whole and in parts.
 *
 * Input: a flags byte (bit 0: fix every header's checksum after the
 * mutation, so that the fields behind it are reached), then the image;
 * the disk is the image rounded up to whole sectors. */
#include "fuzz_kv.h"

static void reseal_headers(uint8_t *img, size_t len)
{
	for (size_t at = 0; at + 512 <= len; at += 512) {
		uint8_t *h = img + at;
		if (memcmp(h + 257, "ustar", 5) != 0)
			continue;
		unsigned sum = 0;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
}

static struct fuzz_walk walk;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv;

	if (size == 0)
		return 0;
	size_t n = size - 1;
	uint64_t sectors = n == 0 ? 1 : (n + 511) / 512;
	fakeplat_reset();
	duet_sys_init(&fuzz_sys, NULL);
	FUZZ_CHECK(duet_blk_mem_create(fuzz_loop, "disk0", 512, sectors, true,
				       &m) == 0);
	uint8_t *img = duet_blk_mem_data(m);
	memcpy(img, data + 1, n);
	if (data[0] & 1)
		reseal_headers(img, sectors * 512);
	struct duet_block *dev = duet_blk_mem_block(m);
	int e = fuzz_mount(duet_tar_mount, dev, &kv);
	if (e == 0) {
		FUZZ_CHECK(duet_kv_read_only(kv));
		fuzz_walk_store(kv, &walk);
		fuzz_close(kv);
	} else {
		FUZZ_CHECK(e == -EBADMSG || e == -ENOMEM || e == -EFBIG);
	}
	duet_block_unregister(dev);
	return 0;
}
