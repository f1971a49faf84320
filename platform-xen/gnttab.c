/* Grant tables (v1): let another domain (a netback, a blkback) map or copy
 * our pages. The table's frames are Xen's; the mode maps them over pages of
 * ours (PV: GNTTABOP_setup_table names them; PVH: add_to_physmap). */
#include <errno.h>

#include <stdint.h>

#include <xen/grant_table.h>

#include "gntref.h"
#include "hypercall.h"
#include "xen.h"

#define GNT_FRAMES 4
#define GNT_REFS   (GNT_FRAMES * XEN_PAGE_SIZE / sizeof(grant_entry_v1_t))
/* Entries 0-7 are the toolstack's (console, xenstore). */
#define GNT_RESERVED 8

static grant_entry_v1_t *table;
static struct duet__gntref refs;
static uint32_t ref_storage[GNT_REFS];

int duet__xen_gnttab_init(void)
{
	grant_entry_v1_t *t = duet__xen_pages_alloc(GNT_FRAMES);
	int r;

	if (t == NULL)
		return -ENOMEM;
	/* Published only once every frame is mapped and the references are
	 * ready: a failure partway leaves grants refused (-ENODEV), and the
	 * pages, some mapped over Xen's frames, out of the allocator. */
	if ((r = duet__xen_mode->map_grant_frames(t, GNT_FRAMES)) < 0)
		return r;
	duet__gntref_init(&refs, ref_storage, GNT_REFS, GNT_RESERVED);
	table = t;
	return 0;
}

int duet__xen_grant_access(domid_t domid, unsigned long frame, bool readonly,
			   grant_ref_t *ref)
{
	uint32_t r;
	int err;

	if (table == NULL)
		return -ENODEV;
	if ((err = duet__gntref_get(&refs, &r)) < 0)
		return err;
	table[r].frame = (uint32_t)frame;
	table[r].domid = domid;
	/* The other domain may use the entry as soon as flags say so. */
	__atomic_store_n(
	    &table[r].flags,
	    (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
	    __ATOMIC_RELEASE);
	*ref = r;
	return 0;
}

int duet__xen_grant_end(grant_ref_t ref)
{
	uint16_t flags;

	if (table == NULL || ref >= GNT_REFS)
		return -EINVAL;
	flags = __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);
	do {
		/* Still mapped by the other side: the page is not ours yet. */
		if (flags & (GTF_reading | GTF_writing))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0,
					      false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return duet__gntref_put(&refs, ref);
}

bool duet__xen_grant_end_ref(grant_ref_t *ref)
{
	if (*ref != 0 && duet__xen_grant_end(*ref) == -EBUSY)
		return false;
	*ref = 0;
	return true;
}
