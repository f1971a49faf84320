/* See pt.h. Intermediate entries are present and writable and never
 * non-executable, so that the L1 entry alone decides a page's rights. */
#include <errno.h>
#include <stddef.h>

#include "pt.h"

#define PT_INDEX(va, level) (((va) >> (12 + 9 * ((level)-1))) & 511)
#define PT_TABLE_FLAGS	    (XEN_PTE_PRESENT | XEN_PTE_RW | XEN_PTE_ACCESSED)

static int canonical(uint64_t va)
{
	uint64_t top = va >> 47;

	return top == 0 || top == 0x1ffff;
}

int duet__pt_init(struct duet__pt *pt)
{
	return pt->alloc(pt->ctx, &pt->l4_phys) == NULL ? -ENOMEM : 0;
}

/* The table below entry `e`, made if missing and `make`; NULL if missing
 * (or no page for it), *large set if a large page sits there instead. */
static uint64_t *next_table(struct duet__pt *pt, uint64_t *e, int make,
			    int *large)
{
	uint64_t phys;

	if (*e & XEN_PTE_PRESENT) {
		if (*e & XEN_PTE_LARGE) {
			*large = 1;
			return NULL;
		}
		return pt->table(pt->ctx, *e & XEN_PTE_ADDR);
	}
	if (!make || pt->alloc(pt->ctx, &phys) == NULL)
		return NULL;
	*e = (phys & XEN_PTE_ADDR) | PT_TABLE_FLAGS;
	return pt->table(pt->ctx, phys);
}

static uint64_t *walk(const struct duet__pt *pt, uint64_t va, int make,
		      int *large)
{
	uint64_t *t = pt->table(pt->ctx, pt->l4_phys);

	for (int level = 4; level > 1 && t != NULL; level--)
		t = next_table((struct duet__pt *)pt, &t[PT_INDEX(va, level)],
			       make, large);
	return t == NULL ? NULL : &t[PT_INDEX(va, 1)];
}

int duet__pt_map(struct duet__pt *pt, uint64_t va, uint64_t pa, uint64_t flags)
{
	int large = 0;
	uint64_t *e;

	if ((va & 0xfff) || (pa & ~XEN_PTE_ADDR) || !canonical(va) ||
	    (flags & XEN_PTE_ADDR))
		return -EINVAL;
	e = walk(pt, va, 1, &large);
	if (e == NULL)
		return large ? -EEXIST : -ENOMEM;
	*e = pa | flags | XEN_PTE_PRESENT;
	return 0;
}

uint64_t *duet__pt_entry(const struct duet__pt *pt, uint64_t va)
{
	int large = 0;

	if (!canonical(va))
		return NULL;
	return walk(pt, va, 0, &large);
}
