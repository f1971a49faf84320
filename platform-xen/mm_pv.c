/* The PV mode: from start_info to the common boot, and what differs in PV
 * (xen.h's struct duet__xen_mode): the physical-to-machine list, the
 * direct map beyond Xen's boot mapping, page protections, foreign frames
 * mapped over our pages, blocking.
 *
 * A PV guest's page tables are read-only to it: every change goes through
 * mmu_update (by the machine address of the entry) or update_va_mapping,
 * and Xen validates it. The direct map covers pseudo-physical pages
 * [0, nr_pages) at XEN_VIRT_BASE, up to 1 GiB (one L2 table, which the boot
 * mapping already has): pages beyond that are left unused, with a warning.
 */
#include <errno.h>
#include <string.h>

#include <stdint.h>

#include <xen/xen.h>

#include <duet/log.h>

#include "hypercall.h"
#include "xen.h"

#define PT_ENTRIES 512

extern char __duet_image_start[], __duet_rodata_end[];
extern char duet__xen_stack_guard[];

static const xen_pfn_t *p2m;
static unsigned long nr_pages;	   /* the domain's pages (capped) */
static unsigned long mapped_pages; /* [0, mapped_pages) are mapped */
static unsigned long first_free;   /* first page after the boot elements */
static uint64_t *l4_table;
#define pfn_to_virt duet__xen_pfn_to_virt
#define virt_to_pfn duet__xen_virt_to_pfn

static void *mfn_to_virt(unsigned long mfn)
{
	return pfn_to_virt(machine_to_phys_mapping[mfn]);
}

static unsigned long virt_to_mfn(const void *va)
{
	return p2m[virt_to_pfn(va)];
}

static uint64_t virt_to_machine(const void *va)
{
	return ((uint64_t)virt_to_mfn(va) << XEN_PAGE_SHIFT) |
	       ((unsigned long)va & (XEN_PAGE_SIZE - 1));
}

/* The page-table entry mapping `va` at `level` (1 = L1), or NULL if a table
 * above it is missing. Tables are in the direct map (read-only). */
static uint64_t *pte_of(unsigned long va, int level)
{
	uint64_t *table = l4_table;

	for (int l = 4; l > level; l--) {
		uint64_t e = table[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(e & XEN_PTE_PRESENT))
			return NULL;
		table = mfn_to_virt((e & XEN_PTE_ADDR) >> XEN_PAGE_SHIFT);
	}
	return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

/* Batched page-table writes, flushed when full and at the end. */
struct pt_batch {
	mmu_update_t req[128];
	unsigned n;
	int err;
};

static void batch_flush(struct pt_batch *b)
{
	unsigned done = 0;

	if (b->n > 0 && hyp_mmu_update(b->req, b->n, &done) < 0 && b->err == 0)
		b->err = -EPERM;
	b->n = 0;
}

static void batch_set(struct pt_batch *b, const uint64_t *pte, uint64_t val)
{
	b->req[b->n].ptr = virt_to_machine(pte) | MMU_NORMAL_PT_UPDATE;
	b->req[b->n].val = val;
	if (++b->n == sizeof(b->req) / sizeof(b->req[0]))
		batch_flush(b);
}

static void tlb_flush(void)
{
	struct mmuext_op op = {.cmd = MMUEXT_TLB_FLUSH_LOCAL};

	XEN_HC(__HYPERVISOR_mmuext_op, &op, 1, 0, DOMID_SELF, 0);
}

static int mm_init(start_info_t *si, unsigned long boot_rsp)
{
	p2m = (const xen_pfn_t *)si->mfn_list;
	l4_table = (uint64_t *)si->pt_base;
	nr_pages = si->nr_pages;
	if (nr_pages > XEN_MAX_PAGES) {
		duet__xen_printk(
		    "duet: mm: using 1 GiB of the domain's %lu MiB\n",
		    nr_pages >> 8);
		nr_pages = XEN_MAX_PAGES;
	}
	/* Xen's boot stack is the last boot element; the page holding its
	 * top is the first free one (xen.h's start_info layout rules). */
	first_free = virt_to_pfn((void *)(boot_rsp + XEN_PAGE_SIZE - 1));
	mapped_pages = first_free;
	while (mapped_pages < nr_pages) {
		uint64_t *pte =
		    pte_of((unsigned long)pfn_to_virt(mapped_pages), 1);
		if (pte == NULL || !(*pte & XEN_PTE_PRESENT))
			break;
		mapped_pages++;
	}
	duet__xen_pages_setup(nr_pages);
	if (first_free >= mapped_pages)
		return -ENOMEM;
	return duet__xen_pages_add(first_free, mapped_pages - first_free);
}

/* Maps pages [mapped_pages, nr_pages) with new L1 tables taken from the
 * free pages, then hands them to the allocator. */
static int map_all(void)
{
	struct pt_batch b = {.n = 0, .err = 0};
	uint64_t l2_flags, l1_flags;
	unsigned long start = mapped_pages;

	uint64_t *some_l2e = pte_of(XEN_VIRT_BASE, 2);
	uint64_t *some_l1e = pte_of(XEN_VIRT_BASE, 1);
	if (some_l2e == NULL || some_l1e == NULL)
		return -EFAULT;
	l2_flags = *some_l2e & ~XEN_PTE_ADDR & ~XEN_PTE_NX;
	l1_flags = (*some_l1e & ~XEN_PTE_ADDR) | XEN_PTE_RW | XEN_PTE_NX;

	while (mapped_pages < nr_pages) {
		unsigned long va = (unsigned long)pfn_to_virt(mapped_pages);
		uint64_t *l2e = pte_of(va, 2);
		if (l2e == NULL)
			return -EFAULT;
		if (!(*l2e & XEN_PTE_PRESENT)) {
			uint64_t *l1 = duet__xen_pages_alloc(1);
			if (l1 == NULL)
				return -ENOMEM;
			unsigned long at = virt_to_pfn(l1);
			memset(l1, 0, XEN_PAGE_SIZE);
			/* Xen takes a page as a page table only while no
			 * writable mapping of it exists. */
			if (hyp_update_va_mapping(
				(unsigned long)l1,
				((uint64_t)p2m[at] << XEN_PAGE_SHIFT) |
				    (l1_flags & ~XEN_PTE_RW),
				UVMF_INVLPG) < 0)
				return -EPERM;
			batch_set(&b, l2e,
				  ((uint64_t)p2m[at] << XEN_PAGE_SHIFT) |
				      l2_flags);
			batch_flush(&b);
			if (b.err < 0)
				return b.err;
		}
		uint64_t *l1e = pte_of(va, 1);
		unsigned idx = (va >> 12) & 511;
		for (; idx < PT_ENTRIES && mapped_pages < nr_pages;
		     idx++, l1e++) {
			batch_set(
			    &b, l1e,
			    ((uint64_t)p2m[mapped_pages] << XEN_PAGE_SHIFT) |
				l1_flags);
			mapped_pages++;
		}
		batch_flush(&b);
		if (b.err < 0)
			return b.err;
	}
	tlb_flush();
	if (mapped_pages > start)
		return duet__xen_pages_add(start, mapped_pages - start);
	return 0;
}

/* Text and read-only data become read-only, everything else in the direct
 * map non-executable, and the page under the stack unmapped. */
static void protect(void)
{
	struct pt_batch b = {.n = 0, .err = 0};
	unsigned long text_end = virt_to_pfn(__duet_rodata_end);
	unsigned long guard = virt_to_pfn(duet__xen_stack_guard);

	for (unsigned long pfn = 0; pfn < mapped_pages; pfn++) {
		uint64_t *pte = pte_of((unsigned long)pfn_to_virt(pfn), 1);
		if (pte == NULL || !(*pte & XEN_PTE_PRESENT))
			continue;
		uint64_t val = *pte;
		if (pfn == guard)
			val = 0;
		else if (pfn < text_end)
			val &= ~XEN_PTE_RW;
		else
			val |= XEN_PTE_NX;
		if (val != *pte)
			batch_set(&b, pte, val);
	}
	batch_flush(&b);
	tlb_flush();
	if (b.err < 0)
		DUET_WARN("xen", "could not protect the image's pages: %d",
			  b.err);
}

/* Replaces the frame behind one of our pages with a foreign machine frame
 * (shared_info, grant table frames). The page's own frame is given up. */
static int map_machine_page(void *va, unsigned long mfn)
{
	uint64_t pte = ((uint64_t)mfn << XEN_PAGE_SHIFT) | XEN_PTE_PRESENT |
		       XEN_PTE_RW | XEN_PTE_ACCESSED | XEN_PTE_DIRTY |
		       XEN_PTE_NX;

	return hyp_update_va_mapping((unsigned long)va, pte, UVMF_INVLPG) < 0
		   ? -EPERM
		   : 0;
}

static int map_grant_frames(void *va, unsigned count)
{
	xen_pfn_t frames[16];
	struct gnttab_setup_table setup = {.dom = DOMID_SELF,
					   .nr_frames = count};

	if (count > sizeof(frames) / sizeof(frames[0]))
		return -EINVAL;
	set_xen_guest_handle(setup.frame_list, frames);
	if (hyp_grant_table_op(GNTTABOP_setup_table, &setup, 1) < 0 ||
	    setup.status != GNTST_okay)
		return -ENODEV;
	for (unsigned i = 0; i < count; i++) {
		int r =
		    map_machine_page((char *)va + i * XEN_PAGE_SIZE, frames[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* SCHEDOP_block unmasks upcalls atomically with going to sleep, so an
 * event that arrives after the last check still wakes it; the loop runs
 * with them masked again. */
static void block(void)
{
	hyp_sched_op(SCHEDOP_block, NULL);
	duet__xen_shared->vcpu_info[0].evtchn_upcall_mask = 1;
	xen_barrier();
}

static uintptr_t fault_address(void)
{
	return duet__xen_shared->vcpu_info[0].arch.cr2;
}

static const struct duet__xen_mode pv_mode = {
    .name = "pv",
    .map_all = map_all,
    .protect = protect,
    .virt_to_frame = virt_to_mfn,
    .map_grant_frames = map_grant_frames,
    .block = block,
    .fault_address = fault_address,
};

_Noreturn void duet__xen_pv_start(start_info_t *si, unsigned long boot_rsp);

/* From entry.S: %rsi's start_info and Xen's boot stack pointer, the last
 * boot element (mm_init needs it to know where free memory starts). */
void duet__xen_pv_start(start_info_t *si, unsigned long boot_rsp)
{
	static char cmdline[MAX_GUEST_CMDLINE + 1];
	struct duet__xen_boot_info bi = {
	    .cmdline = cmdline,
	    .nr_pages = si->nr_pages,
	    .store_ring = mfn_to_virt(si->store_mfn),
	    .store_port = si->store_evtchn,
	};
	void *shared;
	int r;

	duet__xen_mode = &pv_mode;
	duet__xen_console_init(mfn_to_virt(si->console.domU.mfn),
			       si->console.domU.evtchn);
	duet__xen_traps_init_pv();
	if ((r = mm_init(si, boot_rsp)) < 0) {
		duet__xen_printk("duet: mm: no free memory (%d)\n", r);
		duet__xen_crash("boot failed");
	}
	/* shared_info is a machine page of Xen's: map it over a page of ours.
	 */
	shared = duet__xen_pages_alloc(1);
	if (shared == NULL ||
	    map_machine_page(shared, si->shared_info >> XEN_PAGE_SHIFT) < 0)
		duet__xen_crash("cannot map shared_info");
	duet__xen_shared = shared;
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	duet__xen_boot(&pv_mode, &bi);
}
