/* The domain's free pages (both modes) and the libc heap on top of them.
 * The entry (mm_pv.c, pvh.c) sets the allocator up and adds the pages it
 * has mapped; everything later allocates here. */
#include <stdint.h>

#include <xen/xen.h>

#include "heap.h"
#include "pagealloc.h"
#include "xen.h"

#define HEAP_CHUNK_PAGES 64 /* grow the heap 256 KiB at a time */

static struct duet__pages pages;
static uint64_t page_map[DUET__PAGES_MAP_WORDS(XEN_MAX_PAGES)];

void duet__xen_pages_setup(unsigned long nr_pages)
{
	duet__pages_init(&pages, page_map,
			 nr_pages < XEN_MAX_PAGES ? nr_pages : XEN_MAX_PAGES);
}

int duet__xen_pages_add(unsigned long first, unsigned long count)
{
	return duet__pages_add(&pages, first, count);
}

void *duet__xen_pages_alloc(size_t count)
{
	size_t at;

	if (duet__pages_alloc(&pages, count, &at) < 0)
		return NULL;
	return duet__xen_pfn_to_virt(at);
}

void duet__xen_pages_free(void *va, size_t count)
{
	if (duet__pages_free(&pages, duet__xen_virt_to_pfn(va), count) < 0)
		duet__xen_crash("mm: freeing pages that are not allocated");
}

size_t duet__xen_mm_free_pages(void)
{
	return duet__pages_nfree(&pages);
}

void *duet__heap_grow(size_t min_bytes, size_t *got)
{
	size_t want = (min_bytes + XEN_PAGE_SIZE - 1) / XEN_PAGE_SIZE;
	size_t count = want < HEAP_CHUNK_PAGES ? HEAP_CHUNK_PAGES : want;
	void *p = duet__xen_pages_alloc(count);

	if (p == NULL && count > want) {
		count = want;
		p = duet__xen_pages_alloc(count);
	}
	if (p != NULL)
		*got = count * XEN_PAGE_SIZE;
	return p;
}
