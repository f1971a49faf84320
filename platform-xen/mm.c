/* Memory: the physical-to-machine list, the domain's free pages, the direct
 * map beyond Xen's boot mapping, page protections, and the libc heap.
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

#include "heap.h"
#include "hypercall.h"
#include "pagealloc.h"
#include "xen.h"

#define MAX_PAGES	 (1UL << 18) /* 1 GiB: the L2 table of the boot mapping */
#define PT_ENTRIES	 512
#define HEAP_CHUNK_PAGES 64 /* grow the heap 256 KiB at a time */

extern char __duet_image_start[], __duet_rodata_end[];
extern char duet__xen_stack_guard[];

static const xen_pfn_t *p2m;
static unsigned long nr_pages;	   /* the domain's pages (capped) */
static unsigned long mapped_pages; /* [0, mapped_pages) are mapped */
static unsigned long first_free;   /* first page after the boot elements */
static uint64_t *l4_table;
static struct duet__pages pages;
static uint64_t page_map[DUET__PAGES_MAP_WORDS(MAX_PAGES)];

static void *pfn_to_virt(unsigned long pfn)
{
	return (void *)(XEN_VIRT_BASE + (pfn << XEN_PAGE_SHIFT));
}

static unsigned long virt_to_pfn(const void *va)
{
	return ((unsigned long)va - XEN_VIRT_BASE) >> XEN_PAGE_SHIFT;
}

void *duet__xen_mfn_to_virt(unsigned long mfn)
{
	return pfn_to_virt(machine_to_phys_mapping[mfn]);
}

unsigned long duet__xen_virt_to_mfn(const void *va)
{
	return p2m[virt_to_pfn(va)];
}

static uint64_t virt_to_machine(const void *va)
{
	return ((uint64_t)duet__xen_virt_to_mfn(va) << XEN_PAGE_SHIFT) |
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
		table =
		    duet__xen_mfn_to_virt((e & XEN_PTE_ADDR) >> XEN_PAGE_SHIFT);
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

int duet__xen_mm_init(start_info_t *si, unsigned long boot_rsp)
{
	p2m = (const xen_pfn_t *)si->mfn_list;
	l4_table = (uint64_t *)si->pt_base;
	nr_pages = si->nr_pages;
	if (nr_pages > MAX_PAGES) {
		duet__xen_printk(
		    "duet: mm: using 1 GiB of the domain's %lu MiB\n",
		    nr_pages >> 8);
		nr_pages = MAX_PAGES;
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
	duet__pages_init(&pages, page_map, nr_pages);
	if (first_free >= mapped_pages)
		return -ENOMEM;
	return duet__pages_add(&pages, first_free, mapped_pages - first_free);
}

/* Maps pages [mapped_pages, nr_pages) with new L1 tables taken from the
 * free pages, then hands them to the allocator. */
int duet__xen_mm_map_all(void)
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
			size_t at;
			if (duet__pages_alloc(&pages, 1, &at) < 0)
				return -ENOMEM;
			uint64_t *l1 = pfn_to_virt(at);
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
		return duet__pages_add(&pages, start, mapped_pages - start);
	return 0;
}

/* Text and read-only data become read-only, everything else in the direct
 * map non-executable, and the page under the stack unmapped. */
void duet__xen_mm_protect(void)
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

void *duet__xen_pages_alloc(size_t count)
{
	size_t at;

	if (duet__pages_alloc(&pages, count, &at) < 0)
		return NULL;
	return pfn_to_virt(at);
}

void duet__xen_pages_free(void *va, size_t count)
{
	if (duet__pages_free(&pages, virt_to_pfn(va), count) < 0)
		duet__xen_crash("mm: freeing pages that are not allocated");
}

size_t duet__xen_mm_free_pages(void)
{
	return duet__pages_nfree(&pages);
}

int duet__xen_map_machine_page(void *va, unsigned long mfn)
{
	uint64_t pte = ((uint64_t)mfn << XEN_PAGE_SHIFT) | XEN_PTE_PRESENT |
		       XEN_PTE_RW | XEN_PTE_ACCESSED | XEN_PTE_DIRTY |
		       XEN_PTE_NX;

	return hyp_update_va_mapping((unsigned long)va, pte, UVMF_INVLPG) < 0
		   ? -EPERM
		   : 0;
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
