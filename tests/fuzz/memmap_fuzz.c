/* PVH's memory map (platform-xen/memmap.c), which the toolstack writes:
 * for any entries and window, the ranges given out are ascending, apart,
 * inside the window, and every page in them is wholly inside a RAM entry
 * and touches no other entry.
 *
 * Input: two 8-byte page numbers (the window), then 24-byte entries
 * (address, size, type, reserved), little-endian. */
#include <errno.h>

#include "fuzz.h"
#include "memmap.h"

#define PAGE 4096u

static bool page_is_free(const struct hvm_memmap_table_entry *m, size_t n,
			 uint64_t pfn)
{
	bool in_ram = false;
	uint64_t lo = pfn * PAGE, hi = lo + PAGE; /* pfn < 2^52: no wrap */

	for (size_t i = 0; i < n; i++) {
		uint64_t end = m[i].size > UINT64_MAX - m[i].addr
				   ? UINT64_MAX
				   : m[i].addr + m[i].size;
		if (m[i].size == 0 || end <= lo || m[i].addr >= hi)
			continue;
		if (m[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
			return false;
		if (m[i].addr <= lo && end >= hi)
			in_ram = true;
	}
	return in_ram;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hvm_memmap_table_entry map[DUET__MEMMAP_MAX + 1];
	struct duet__pfn_range out[8];
	uint64_t lo, hi;
	size_t n;

	if (size < 16)
		return 0;
	memcpy(&lo, data, 8);
	memcpy(&hi, data + 8, 8);
	/* Page numbers as the platform uses them: below 2^52. */
	lo &= (UINT64_C(1) << 40) - 1;
	hi &= (UINT64_C(1) << 40) - 1;
	n = (size - 16) / sizeof(map[0]);
	if (n > DUET__MEMMAP_MAX + 1)
		n = DUET__MEMMAP_MAX + 1;
	memcpy(map, data + 16, n * sizeof(map[0]));

	int r = duet__memmap_free(map, n, lo, hi, out, 8);
	if (n > DUET__MEMMAP_MAX) {
		FUZZ_CHECK(r == -E2BIG);
		return 0;
	}
	FUZZ_CHECK(r >= 0 && r <= 8);
	for (int i = 0; i < r; i++) {
		FUZZ_CHECK(out[i].start < out[i].end);
		FUZZ_CHECK(out[i].start >= lo && out[i].end <= hi);
		if (i > 0)
			FUZZ_CHECK(out[i - 1].end < out[i].start);
		/* The ends and the middle: a whole-range walk would be slow. */
		FUZZ_CHECK(page_is_free(map, n, out[i].start));
		FUZZ_CHECK(page_is_free(map, n, out[i].end - 1));
		FUZZ_CHECK(page_is_free(
		    map, n, out[i].start + (out[i].end - out[i].start) / 2));
	}
	return 0;
}
