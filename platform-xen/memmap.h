/* The PVH memory map (hvm_start_info's, E820 types) turned into the page
 * ranges the allocator may hand out. Plain C, host-tested
 * (tests/unit/xen_memmap_test.c): the map comes from the toolstack, so odd
 * or hostile ones (overlaps, unaligned or wrapping ranges, RAM inside a
 * reserved range) must still give only pages that are RAM and nothing else.
 */
#ifndef DUET_XEN_MEMMAP_H
#define DUET_XEN_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

/* Entries beyond this many are refused: the bound keeps the work small. */
#define DUET__MEMMAP_MAX 128

struct duet__pfn_range {
	uint64_t start, end; /* pages [start, end) */
};

/* Fills out[0..max) with the page ranges, ascending and merged, that lie
 * wholly in a RAM entry, touch no other entry and fall in pages [lo, hi);
 * returns how many (ranges past `max` are dropped), or -E2BIG if n is
 * above DUET__MEMMAP_MAX. */
int duet__memmap_free(const struct hvm_memmap_table_entry *map, size_t n,
		      uint64_t lo, uint64_t hi, struct duet__pfn_range *out,
		      size_t max);

#endif
