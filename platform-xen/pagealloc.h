/* pagealloc.h — a page allocator over a bitmap.
 *
 * Plain C with no Xen dependency, so the host tests exercise it
 * (tests/unit/xen_pagealloc_test.c). It counts pages by index: mm.c maps
 * index N to pseudo-physical page N. The caller owns the bitmap (one bit
 * per page, 1 = in use) and the struct.
 *
 * duet__pages_init() starts with every page in use; duet__pages_add()
 * releases a range that exists (the domain's free memory, as it is mapped).
 * duet__pages_alloc() returns the lowest-addressed run of `count` free pages
 * at or after where the last allocation ended (wrapping around once), so a
 * heap that grows by repeated allocations gets adjacent runs. It returns
 * -ENOMEM when no run is long enough and -EINVAL for count 0. Freeing a
 * range that is outside the allocator or holds a free page is refused with
 * -EINVAL and changes nothing (a double free is a bug, not a no-op).
 */
#ifndef DUET_XEN_PAGEALLOC_H
#define DUET_XEN_PAGEALLOC_H

#include <stddef.h>
#include <stdint.h>

struct duet__pages {
	uint64_t *map;
	size_t npages;
	size_t nfree;
	size_t hint;
};

#define DUET__PAGES_MAP_WORDS(npages) (((npages) + 63) / 64)

void duet__pages_init(struct duet__pages *pa, uint64_t *map, size_t npages);
int duet__pages_add(struct duet__pages *pa, size_t first, size_t count);
int duet__pages_alloc(struct duet__pages *pa, size_t count, size_t *first);
int duet__pages_free(struct duet__pages *pa, size_t first, size_t count);
size_t duet__pages_nfree(const struct duet__pages *pa);

#endif
