/* heap.h — the libc heap's link to the platform, and its debugging hooks.
 *
 * duet__heap_grow(min_bytes, got)
 *     Defined by the platform. MUST return at least min_bytes of fresh,
 *     page-aligned memory that nothing else uses, storing the true amount
 *     (a multiple of the page size) in *got, or return NULL when it has no
 *     more. MAY return more than asked. MUST NOT call malloc or free.
 *     Memory is never handed back. The heap merges a region that starts
 *     where an earlier one ends, so a platform that grows upwards gives it
 *     fewer, larger free blocks.
 * duet__heap_check()
 *     Walks every block and free list; 0 if all is consistent, -EFAULT at
 *     the first inconsistency (a buffer overrun shows up here).
 * duet__heap_stats(st)
 *     Fills *st. Cheap counters, except the two free-list figures, which
 *     cost a walk of the free lists.
 */
#ifndef DUET_LIBC_HEAP_H
#define DUET_LIBC_HEAP_H

#include <stddef.h>

struct duet__heap_stats {
	size_t heap_bytes;	/* obtained from the platform */
	size_t used_bytes;	/* in allocated blocks, headers included */
	size_t free_bytes;	/* in free blocks, headers included */
	size_t peak_used_bytes; /* highest used_bytes so far */
	size_t free_blocks;	/* how fragmented the free space is */
	size_t largest_free;	/* biggest request that needs no growth */
};

void *duet__heap_grow(size_t min_bytes, size_t *got);
int duet__heap_check(void);
void duet__heap_stats(struct duet__heap_stats *st);

#endif
