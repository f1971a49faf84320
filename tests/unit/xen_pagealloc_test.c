/* The Xen platform's page allocator (platform-xen/pagealloc.c), on the host. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pagealloc.h"

#define NPAGES 300 /* not a multiple of 64: the last word is partial */

static struct duet__pages pa;
static uint64_t map[DUET__PAGES_MAP_WORDS(NPAGES)];

static void setup(void)
{
	duet__pages_init(&pa, map, NPAGES);
}

TestSuite(pagealloc, .init = setup);

Test(pagealloc, starts_with_nothing_free)
{
	size_t at;

	cr_expect_eq(duet__pages_nfree(&pa), 0);
	cr_expect_eq(duet__pages_alloc(&pa, 1, &at), -ENOMEM);
}

Test(pagealloc, allocates_only_added_pages)
{
	size_t at;

	cr_assert_eq(duet__pages_add(&pa, 100, 10), 0);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(duet__pages_alloc(&pa, 1, &at), 0);
		cr_expect(at >= 100 && at < 110,
			  "page %zu outside the added range", at);
	}
	cr_expect_eq(duet__pages_alloc(&pa, 1, &at), -ENOMEM);
}

Test(pagealloc, add_rejects_bad_ranges)
{
	cr_expect_eq(duet__pages_add(&pa, NPAGES, 1), -EINVAL);
	cr_expect_eq(duet__pages_add(&pa, NPAGES - 1, 2), -EINVAL);
	cr_expect_eq(duet__pages_add(&pa, 0, 0), -EINVAL);
	cr_assert_eq(duet__pages_add(&pa, 0, 5), 0);
	cr_expect_eq(duet__pages_add(&pa, 4, 2), -EINVAL,
		     "pages 4 is already free");
	cr_expect_eq(duet__pages_nfree(&pa), 5);
}

Test(pagealloc, runs_never_overlap)
{
	static unsigned char owner[NPAGES];
	size_t at;

	memset(owner, 0, sizeof(owner));
	cr_assert_eq(duet__pages_add(&pa, 0, NPAGES), 0);
	for (unsigned id = 1; id <= 40; id++) {
		size_t n = 1 + id % 7;
		if (duet__pages_alloc(&pa, n, &at) < 0)
			break;
		cr_assert(at + n <= NPAGES);
		for (size_t i = at; i < at + n; i++) {
			cr_assert_eq(owner[i], 0, "page %zu handed out twice",
				     i);
			owner[i] = (unsigned char)id;
		}
	}
}

Test(pagealloc, exhaustion_is_an_error_then_recovers)
{
	size_t at, first;

	cr_assert_eq(duet__pages_add(&pa, 0, 64), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 64, &first), 0);
	cr_expect_eq(first, 0);
	cr_expect_eq(duet__pages_alloc(&pa, 1, &at), -ENOMEM);
	cr_assert_eq(duet__pages_free(&pa, 10, 4), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 4, &at), 0);
	cr_expect_eq(at, 10);
}

Test(pagealloc, fragmentation_refuses_a_long_run)
{
	size_t at[20], got;

	cr_assert_eq(duet__pages_add(&pa, 0, 40), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(duet__pages_alloc(&pa, 2, &at[i]), 0);
	/* Free every other pair: 20 pages free, none adjacent to another pair.
	 */
	for (int i = 0; i < 20; i += 2)
		cr_assert_eq(duet__pages_free(&pa, at[i], 2), 0);
	cr_expect_eq(duet__pages_nfree(&pa), 20);
	cr_expect_eq(duet__pages_alloc(&pa, 3, &got), -ENOMEM);
	cr_expect_eq(duet__pages_alloc(&pa, 2, &got), 0);
	/* Freeing a neighbour joins two holes into a run of 4. */
	cr_assert_eq(duet__pages_free(&pa, at[5], 2), 0);
	cr_expect_eq(duet__pages_alloc(&pa, 4, &got), 0);
	cr_expect(got == at[4] || got == at[5]);
}

Test(pagealloc, double_free_and_foreign_ranges_are_refused)
{
	size_t at;

	cr_assert_eq(duet__pages_add(&pa, 0, 8), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 4, &at), 0);
	cr_assert_eq(duet__pages_free(&pa, at, 4), 0);
	cr_expect_eq(duet__pages_free(&pa, at, 4), -EINVAL);
	cr_expect_eq(duet__pages_free(&pa, at + 2, 1), -EINVAL);
	cr_expect_eq(duet__pages_free(&pa, NPAGES - 1, 2), -EINVAL);
	cr_expect_eq(duet__pages_nfree(&pa), 8);
}

Test(pagealloc, a_refused_free_changes_nothing)
{
	size_t a, b;

	cr_assert_eq(duet__pages_add(&pa, 0, 8), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 4, &a), 0);
	cr_assert_eq(duet__pages_free(&pa, a + 2, 2), 0);
	/* a..a+3 holds two free pages now: the whole range is refused. */
	cr_expect_eq(duet__pages_free(&pa, a, 4), -EINVAL);
	cr_expect_eq(duet__pages_nfree(&pa), 6);
	cr_assert_eq(duet__pages_alloc(&pa, 6, &b), 0);
	cr_expect_eq(b, a + 2, "a..a+1 must still be in use");
}

Test(pagealloc, successive_allocations_are_adjacent)
{
	size_t a, b;

	cr_assert_eq(duet__pages_add(&pa, 0, NPAGES), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 64, &a), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 64, &b), 0);
	cr_expect_eq(b, a + 64, "a heap growing twice gets one region");
}

Test(pagealloc, search_wraps_around_to_freed_pages)
{
	size_t a, b, c;

	cr_assert_eq(duet__pages_add(&pa, 0, 16), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 8, &a), 0);
	cr_assert_eq(duet__pages_alloc(&pa, 8, &b), 0);
	cr_assert_eq(duet__pages_free(&pa, a, 8), 0);
	cr_expect_eq(duet__pages_alloc(&pa, 8, &c), 0);
	cr_expect_eq(c, a);
}

Test(pagealloc, zero_pages_is_invalid)
{
	size_t at;

	cr_assert_eq(duet__pages_add(&pa, 0, 8), 0);
	cr_expect_eq(duet__pages_alloc(&pa, 0, &at), -EINVAL);
	cr_expect_eq(duet__pages_free(&pa, 0, 0), -EINVAL);
}
