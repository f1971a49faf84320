/* The Xen platform's grant reference free list (platform-xen/gntref.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gntref.h"

#define COUNT	 64
#define RESERVED 8

static struct duet__gntref g;
static uint32_t storage[COUNT];

static void setup(void)
{
	duet__gntref_init(&g, storage, COUNT, RESERVED);
}

TestSuite(gntref, .init = setup);

Test(gntref, hands_out_every_unreserved_ref_once)
{
	static bool seen[COUNT];
	uint32_t ref;

	memset(seen, 0, sizeof(seen));
	cr_expect_eq(duet__gntref_nfree(&g), COUNT - RESERVED);
	for (unsigned i = 0; i < COUNT - RESERVED; i++) {
		cr_assert_eq(duet__gntref_get(&g, &ref), 0);
		cr_assert(ref >= RESERVED && ref < COUNT, "ref %u", ref);
		cr_assert(!seen[ref], "ref %u handed out twice", ref);
		seen[ref] = true;
	}
	cr_expect_eq(duet__gntref_get(&g, &ref), -ENOSPC);
	cr_expect_eq(duet__gntref_nfree(&g), 0);
}

Test(gntref, a_returned_ref_is_reused)
{
	uint32_t a, b;

	cr_assert_eq(duet__gntref_get(&g, &a), 0);
	cr_assert_eq(duet__gntref_put(&g, a), 0);
	cr_assert_eq(duet__gntref_get(&g, &b), 0);
	cr_expect_eq(a, b);
}

Test(gntref, exhaustion_recovers_after_a_put)
{
	uint32_t ref, last = 0;

	while (duet__gntref_get(&g, &ref) == 0)
		last = ref;
	cr_assert_eq(duet__gntref_put(&g, last), 0);
	cr_expect_eq(duet__gntref_get(&g, &ref), 0);
	cr_expect_eq(ref, last);
}

Test(gntref, double_put_is_refused)
{
	uint32_t ref;

	cr_assert_eq(duet__gntref_get(&g, &ref), 0);
	cr_assert_eq(duet__gntref_put(&g, ref), 0);
	cr_expect_eq(duet__gntref_put(&g, ref), -EINVAL);
	cr_expect_eq(duet__gntref_nfree(&g), COUNT - RESERVED);
}

Test(gntref, reserved_and_out_of_range_refs_are_refused)
{
	cr_expect_eq(duet__gntref_put(&g, 0), -EINVAL);
	cr_expect_eq(duet__gntref_put(&g, RESERVED - 1), -EINVAL);
	cr_expect_eq(duet__gntref_put(&g, COUNT), -EINVAL);
	cr_expect_eq(duet__gntref_put(&g, UINT32_MAX), -EINVAL);
	cr_expect_eq(duet__gntref_nfree(&g), COUNT - RESERVED);
}

Test(gntref, a_never_issued_ref_cannot_be_put)
{
	/* Free refs are on the list: putting one again would loop the list. */
	cr_expect_eq(duet__gntref_put(&g, RESERVED + 3), -EINVAL);
}

Test(gntref, all_reserved_leaves_nothing)
{
	uint32_t ref;

	duet__gntref_init(&g, storage, 4, 8);
	cr_expect_eq(duet__gntref_nfree(&g), 0);
	cr_expect_eq(duet__gntref_get(&g, &ref), -ENOSPC);
}
