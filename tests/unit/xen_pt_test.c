/* PVH's page-table building (platform-xen/pt.c), on the host: tables come
 * from a small pool of heap pages and "physical" addresses are their
 * offsets in the pool, so a test can read every level back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pt.h"

#define POOL_PAGES 16
#define PHYS_BASE  0x100000 /* the pool's first page, as physical */

static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned used, limit;
static struct duet__pt pt;

static void *alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	if (used == limit)
		return NULL;
	memset(pool[used], 0, sizeof(pool[used]));
	*phys = PHYS_BASE + (uint64_t)used * 4096;
	return pool[used++];
}

static uint64_t *table(void *ctx, uint64_t phys)
{
	(void)ctx;
	cr_assert(phys >= PHYS_BASE && phys < PHYS_BASE + POOL_PAGES * 4096 &&
		      phys % 4096 == 0,
		  "a table at %#llx, outside the pool",
		  (unsigned long long)phys);
	return pool[(phys - PHYS_BASE) / 4096];
}

static void setup(void)
{
	used = 0;
	limit = POOL_PAGES;
	pt = (struct duet__pt){.alloc = alloc, .table = table};
	cr_assert_eq(duet__pt_init(&pt), 0);
}

TestSuite(pt, .init = setup);

#define VB 0xffffffff80000000ULL

Test(pt, maps_a_page_through_four_levels)
{
	cr_assert_eq(duet__pt_map(&pt, VB + 0x5000, 0x5000, XEN_PTE_RW), 0);
	cr_expect_eq(used, 4, "L4 then one L3, L2 and L1");
	uint64_t l4e = pool[0][511];
	cr_expect(l4e & XEN_PTE_PRESENT);
	cr_expect_eq(l4e & XEN_PTE_NX, 0, "the leaf alone decides NX");
	uint64_t *l3 = table(NULL, l4e & XEN_PTE_ADDR);
	uint64_t *l2 = table(NULL, l3[510] & XEN_PTE_ADDR);
	uint64_t *l1 = table(NULL, l2[0] & XEN_PTE_ADDR);
	cr_expect_eq(l1[5], 0x5000 | XEN_PTE_RW | XEN_PTE_PRESENT);
	cr_expect_eq(duet__pt_entry(&pt, VB + 0x5000), &l1[5]);
}

Test(pt, shares_tables_and_replaces_entries)
{
	cr_assert_eq(duet__pt_map(&pt, VB, 0x1000, XEN_PTE_RW), 0);
	cr_assert_eq(duet__pt_map(&pt, VB + 0x1ff000, 0x2000, 0), 0);
	cr_expect_eq(used, 4, "one L1 covers 2 MiB");
	cr_assert_eq(duet__pt_map(&pt, VB + 0x200000, 0x3000, 0), 0);
	cr_expect_eq(used, 5, "the next 2 MiB needs another L1");
	cr_assert_eq(duet__pt_map(&pt, VB, 0x7000, XEN_PTE_NX), 0);
	cr_expect_eq(*duet__pt_entry(&pt, VB),
		     0x7000 | XEN_PTE_NX | XEN_PTE_PRESENT);
}

Test(pt, rejects_bad_addresses)
{
	cr_expect_eq(duet__pt_map(&pt, VB + 1, 0, 0), -EINVAL);
	cr_expect_eq(duet__pt_map(&pt, VB, 0x1001, 0), -EINVAL);
	cr_expect_eq(duet__pt_map(&pt, 0x0000800000000000ULL, 0, 0), -EINVAL,
		     "not canonical");
	cr_expect_eq(duet__pt_map(&pt, VB, 1ULL << 52, 0), -EINVAL,
		     "beyond 52 physical bits");
	cr_expect_eq(duet__pt_map(&pt, VB, 0, 0x5000), -EINVAL,
		     "address bits in the flags");
	cr_expect_eq(used, 1, "nothing allocated for a refused mapping");
	cr_expect_null(duet__pt_entry(&pt, 0x0000800000000000ULL));
}

Test(pt, entry_is_null_where_nothing_is_mapped)
{
	cr_expect_null(duet__pt_entry(&pt, VB));
	cr_assert_eq(duet__pt_map(&pt, VB, 0, 0), 0);
	cr_expect_null(duet__pt_entry(&pt, 0), "the low half is separate");
	cr_expect_not_null(duet__pt_entry(&pt, VB + 0x1000),
			   "same L1, entry empty");
	cr_expect_eq(*duet__pt_entry(&pt, VB + 0x1000), 0);
}

Test(pt, runs_out_of_tables)
{
	limit = 3; /* L4 (taken), L3, L2: no L1 */
	cr_expect_eq(duet__pt_map(&pt, VB, 0, 0), -ENOMEM);
	limit = 4;
	cr_expect_eq(duet__pt_map(&pt, VB, 0, 0), 0,
		     "the tables made on the failed try are reused");
	cr_expect_eq(used, 4);
}

Test(pt, refuses_to_map_inside_a_large_page)
{
	cr_assert_eq(duet__pt_map(&pt, VB, 0, 0), 0);
	uint64_t *l3 = table(NULL, pool[0][511] & XEN_PTE_ADDR);
	uint64_t *l2 = table(NULL, l3[510] & XEN_PTE_ADDR);
	l2[1] = 0x200000 | XEN_PTE_LARGE | XEN_PTE_PRESENT;
	cr_expect_eq(duet__pt_map(&pt, VB + 0x200000, 0, 0), -EEXIST);
	cr_expect_null(duet__pt_entry(&pt, VB + 0x201000));
}

Test(pt, init_fails_without_a_page)
{
	struct duet__pt p = {.alloc = alloc, .table = table};

	limit = used;
	cr_expect_eq(duet__pt_init(&p), -ENOMEM);
}
