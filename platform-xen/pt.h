/* x86-64 page-table entries, and 4-level tables built in ordinary memory
 * (a PVH guest owns its tables; a PV guest's go through Xen, mm_pv.c).
 * The building is plain C, host-tested (tests/unit/xen_pt_test.c): tables
 * come from a callback and are reached through another, so a test can
 * hand out heap pages. */
#ifndef DUET_XEN_PT_H
#define DUET_XEN_PT_H

#include <stdint.h>

#define XEN_PTE_PRESENT	 0x001UL
#define XEN_PTE_RW	 0x002UL
#define XEN_PTE_USER	 0x004UL
#define XEN_PTE_ACCESSED 0x020UL
#define XEN_PTE_DIRTY	 0x040UL
#define XEN_PTE_LARGE	 0x080UL /* in an L2 or L3 entry: a 2 MiB/1 GiB page */
#define XEN_PTE_NX	 (1UL << 63)
#define XEN_PTE_ADDR	 0x000ffffffffff000UL

struct duet__pt {
	uint64_t l4_phys; /* what CR3 takes */
	/* A zeroed page for a table, with its physical address; NULL if none
	 * is left. */
	void *(*alloc)(void *ctx, uint64_t *phys);
	/* Where a table at a physical address can be written. */
	uint64_t *(*table)(void *ctx, uint64_t phys);
	void *ctx;
};

/* Allocates the top table; 0 or -ENOMEM. */
int duet__pt_init(struct duet__pt *pt);
/* Maps the 4 KiB page at virtual `va` to physical `pa` with `flags`
 * (XEN_PTE_*; PRESENT is added), replacing what was there. 0, -EINVAL (an
 * unaligned or non-canonical address, an address beyond 52 bits, flags
 * with address bits), -EEXIST (a large page covers va) or -ENOMEM. */
int duet__pt_map(struct duet__pt *pt, uint64_t va, uint64_t pa, uint64_t flags);
/* The L1 entry for va, or NULL if no L1 table covers it. */
uint64_t *duet__pt_entry(const struct duet__pt *pt, uint64_t va);

#endif
