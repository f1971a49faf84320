/* The grant reference free list (see gntref.h): a singly linked list
 * threaded through an array, LIFO, so that a reference just ended is the
 * next handed out (its entry is warm). */
#include <errno.h>

#include "gntref.h"

#define REF_END	   UINT32_MAX	    /* end of the free list */
#define REF_IN_USE (UINT32_MAX - 1) /* not on the free list */

void duet__gntref_init(struct duet__gntref *g, uint32_t *storage,
		       uint32_t count, uint32_t first)
{
	g->next = storage;
	g->count = count;
	g->first = first < count ? first : count;
	g->head = REF_END;
	g->nfree = 0;
	for (uint32_t r = 0; r < g->first; r++)
		storage[r] = REF_IN_USE;
	for (uint32_t r = count; r-- > g->first;) {
		storage[r] = g->head;
		g->head = r;
		g->nfree++;
	}
}

int duet__gntref_get(struct duet__gntref *g, uint32_t *ref)
{
	if (g->head == REF_END)
		return -ENOSPC;
	*ref = g->head;
	g->head = g->next[*ref];
	g->next[*ref] = REF_IN_USE;
	g->nfree--;
	return 0;
}

int duet__gntref_put(struct duet__gntref *g, uint32_t ref)
{
	if (ref < g->first || ref >= g->count || g->next[ref] != REF_IN_USE)
		return -EINVAL;
	g->next[ref] = g->head;
	g->head = ref;
	g->nfree++;
	return 0;
}

uint32_t duet__gntref_nfree(const struct duet__gntref *g)
{
	return g->nfree;
}
