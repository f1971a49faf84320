/* gntref.h — the free list of grant references.
 *
 * Plain C, host-tested (tests/unit/xen_gntref_test.c). The caller provides
 * the storage: one uint32_t per reference of the table. References below
 * `first` are never handed out (Xen reserves the first entries of a grant
 * table for the toolstack: console and xenstore). duet__gntref_get()
 * returns -ENOSPC when all are taken; duet__gntref_put() refuses, with
 * -EINVAL, a reference that is out of range or already free.
 */
#ifndef DUET_XEN_GNTREF_H
#define DUET_XEN_GNTREF_H

#include <stdint.h>

struct duet__gntref {
	uint32_t *next; /* next free reference, or a marker (gntref.c) */
	uint32_t count;
	uint32_t first;
	uint32_t head;
	uint32_t nfree;
};

void duet__gntref_init(struct duet__gntref *g, uint32_t *storage,
		       uint32_t count, uint32_t first);
int duet__gntref_get(struct duet__gntref *g, uint32_t *ref);
int duet__gntref_put(struct duet__gntref *g, uint32_t ref);
uint32_t duet__gntref_nfree(const struct duet__gntref *g);

#endif
