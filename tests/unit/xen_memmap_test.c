/* PVH's memory-map parsing (platform-xen/memmap.c), on the host: ordinary
 * maps, and odd or hostile ones that must still give only RAM pages. */
#include <criterion/criterion.h>
#include <errno.h>

#include "memmap.h"

#define RAM  XEN_HVM_MEMMAP_TYPE_RAM
#define RSVD XEN_HVM_MEMMAP_TYPE_RESERVED
#define ACPI XEN_HVM_MEMMAP_TYPE_ACPI
#define MIB  (UINT64_C(1) << 20)
#define PG   4096

static struct duet__pfn_range out[16];

static int parse(const struct hvm_memmap_table_entry *m, size_t n, uint64_t lo,
		 uint64_t hi)
{
	memset(out, 0xa5, sizeof(out));
	return duet__memmap_free(m, n, lo, hi, out, 16);
}

Test(memmap, libxl_pvh_layout)
{
	/* What xl gives a 32 MiB PVH guest: RAM, the ACPI tables and the
	 * special pages (console, xenstore) high under 4 GiB. */
	const struct hvm_memmap_table_entry m[] = {
	    {0, 32 * MIB, RAM, 0},
	    {0xfc000000, 0x10000, ACPI, 0},
	    {0xfeff8000, 0x8000, RSVD, 0},
	};

	cr_assert_eq(parse(m, 3, 16, 1 << 18), 1);
	cr_expect_eq(out[0].start, 16, "the image's pages stay out");
	cr_expect_eq(out[0].end, 32 * MIB / PG);
}

Test(memmap, caps_at_hi)
{
	const struct hvm_memmap_table_entry m[] = {{0, 2048 * MIB, RAM, 0}};

	cr_assert_eq(parse(m, 1, 0, 1 << 18), 1);
	cr_expect_eq(out[0].end, 1 << 18);
}

Test(memmap, unaligned_ram_rounds_inwards)
{
	const struct hvm_memmap_table_entry m[] = {{PG + 1, 3 * PG, RAM, 0}};

	cr_assert_eq(parse(m, 1, 0, 100), 1);
	cr_expect_eq(out[0].start, 2);
	cr_expect_eq(out[0].end, 4, "the partial last page is not RAM");
}

Test(memmap, reserved_inside_ram_wins)
{
	/* A reserved byte in the middle of RAM takes its whole page away,
	 * whatever the order of the entries. */
	const struct hvm_memmap_table_entry m[] = {
	    {10 * PG + 5, 1, RSVD, 0},
	    {0, 20 * PG, RAM, 0},
	};

	cr_assert_eq(parse(m, 2, 0, 100), 2);
	cr_expect_eq(out[0].start, 0);
	cr_expect_eq(out[0].end, 10);
	cr_expect_eq(out[1].start, 11);
	cr_expect_eq(out[1].end, 20);
}

Test(memmap, overlapping_ram_merges)
{
	const struct hvm_memmap_table_entry m[] = {
	    {0, 10 * PG, RAM, 0},
	    {5 * PG, 10 * PG, RAM, 0},
	    {15 * PG, 5 * PG, RAM, 0},
	};

	cr_assert_eq(parse(m, 3, 0, 100), 1);
	cr_expect_eq(out[0].start, 0);
	cr_expect_eq(out[0].end, 20);
}

Test(memmap, unknown_types_are_not_ram)
{
	const struct hvm_memmap_table_entry m[] = {
	    {0, 10 * PG, 99, 0},
	    {20 * PG, 10 * PG, XEN_HVM_MEMMAP_TYPE_PMEM, 0},
	};

	cr_expect_eq(parse(m, 2, 0, 100), 0);
}

Test(memmap, wrapping_entries_are_clamped)
{
	/* addr + size wraps past 2^64: the entry ends at the top, not low. */
	const struct hvm_memmap_table_entry m[] = {
	    {0, 8 * PG, RAM, 0},
	    {UINT64_MAX - PG, 4 * PG, RSVD, 0},
	    {4 * PG, UINT64_MAX, RAM, 0},
	};

	cr_assert_eq(parse(m, 3, 0, 64), 1);
	cr_expect_eq(out[0].start, 0);
	cr_expect_eq(out[0].end, 64);
}

Test(memmap, wrapping_reserved_covers_to_the_top)
{
	const struct hvm_memmap_table_entry m[] = {
	    {0, 64 * PG, RAM, 0},
	    {32 * PG, UINT64_MAX, RSVD, 0},
	};

	cr_assert_eq(parse(m, 2, 0, 64), 1);
	cr_expect_eq(out[0].end, 32);
}

Test(memmap, empty_and_tiny_entries)
{
	const struct hvm_memmap_table_entry m[] = {
	    {0, 0, RAM, 0},
	    {PG, PG - 1, RAM, 0},
	    {0, 0, RSVD, 0},
	};

	cr_expect_eq(parse(m, 3, 0, 100), 0);
	cr_expect_eq(parse(m, 0, 0, 100), 0);
	cr_expect_eq(parse(m, 3, 50, 50), 0, "an empty window");
	cr_expect_eq(parse(m, 3, 60, 50), 0, "an inverted window");
}

Test(memmap, too_many_entries_refused)
{
	static struct hvm_memmap_table_entry m[DUET__MEMMAP_MAX + 1];

	for (size_t i = 0; i < DUET__MEMMAP_MAX + 1; i++)
		m[i] = (struct hvm_memmap_table_entry){i * 2 * PG, PG, RAM, 0};
	cr_expect_eq(parse(m, DUET__MEMMAP_MAX + 1, 0, 1 << 20), -E2BIG);
	cr_expect_eq(parse(m, DUET__MEMMAP_MAX, 0, 1 << 20), 16,
		     "only as many ranges as fit in out");
	for (int i = 0; i < 16; i++)
		cr_expect_eq(out[i].start, 2 * (uint64_t)i);
}

Test(memmap, ranges_are_ascending_and_disjoint)
{
	const struct hvm_memmap_table_entry m[] = {
	    {40 * PG, 10 * PG, RAM, 0}, {0, 10 * PG, RAM, 0},
	    {20 * PG, 10 * PG, RAM, 0}, {22 * PG, PG, ACPI, 0},
	    {5 * PG, PG, RSVD, 0},
	};
	int n = parse(m, 5, 0, 100);

	cr_assert_eq(n, 5);
	for (int i = 0; i < n; i++) {
		cr_expect_lt(out[i].start, out[i].end);
		if (i > 0)
			cr_expect_lt(out[i - 1].end, out[i].start);
	}
}
