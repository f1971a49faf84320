/* The PVH mode: from hvm_start_info to the common boot, and what differs
 * in PVH (xen.h's struct duet__xen_mode).
 *
 * A PVH guest is an HVM container without the emulated PC: the page
 * tables are ours (built here with pt.c, over the RAM the memory map
 * gives, memmap.c), physical addresses are guest frames (what grants
 * carry), Xen's pages (shared_info, grant table frames) are put in our
 * physical space with XENMEM_add_to_physmap, the console and xenstore
 * rings are named by HVM parameters (and sit near 4 GiB, outside the
 * direct map: mapped one by one in a window above it), and events arrive
 * as an interrupt vector gated by EFLAGS.IF. There is no builder-filled
 * hypercall page: Xen fills ours when its physical address is written to
 * the MSR its CPUID leaves name.
 *
 * Before the console ring is mapped nothing can be reported (Xen refuses
 * console_io to a domU), so an early failure only crashes the domain.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>

#include "hypercall.h"
#include "memmap.h"
#include "xen.h"

#define UPCALL_VECTOR 0xf3
#define MAX_RANGES    64
#define CMDLINE_MAX   1024
#define WINDOW_BASE   (XEN_VIRT_BASE + (XEN_MAX_PAGES << XEN_PAGE_SHIFT))
#define WINDOW_PAGES  16
#define DIRECT_FLAGS                                                           \
	(XEN_PTE_PRESENT | XEN_PTE_RW | XEN_PTE_ACCESSED | XEN_PTE_DIRTY |     \
	 XEN_PTE_NX)

extern char __duet_rodata_end[], __duet_image_end[];
extern char duet__xen_stack_guard[];

static struct hvm_memmap_table_entry memmap[DUET__MEMMAP_MAX];
static struct duet__pt pt;
static unsigned window_used;

_Noreturn void duet__xen_pvh_start(uint64_t start_info_pa);

static _Noreturn void early_crash(void)
{
	struct sched_shutdown op = {.reason = SHUTDOWN_crash};

	for (;;)
		hyp_sched_op(SCHEDOP_shutdown, &op);
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

/* Xen's leaves start at 0x40000000, or 0x100 steps higher when Xen also
 * shows another hypervisor's (Viridian) first. */
static bool hypercall_page_init(void)
{
	for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < 0x40010000;
	     base += 0x100) {
		uint32_t r[4];
		cpuid(base, r);
		if (r[1] != XEN_CPUID_SIGNATURE_EBX ||
		    r[2] != XEN_CPUID_SIGNATURE_ECX ||
		    r[3] != XEN_CPUID_SIGNATURE_EDX || r[0] < base + 2)
			continue;
		cpuid(base + 2, r);
		uint64_t pa = (uintptr_t)hypercall_page - XEN_VIRT_BASE;
		__asm__ volatile("wrmsr"
				 :
				 : "c"(r[1]), "a"((uint32_t)pa),
				   "d"((uint32_t)(pa >> 32))
				 : "memory");
		return true;
	}
	return false;
}

/* A start-of-day object by its physical address: only the first GiB is
 * mapped (at VIRT_BASE) until the tables are built. */
static const void *boot_phys(uint64_t pa, uint64_t len)
{
	uint64_t limit = XEN_MAX_PAGES << XEN_PAGE_SHIFT;

	if (pa == 0 || pa >= limit || len > limit - pa)
		return NULL;
	return (const void *)(XEN_VIRT_BASE + pa);
}

/* Copies the command line and the memory map out of the start-of-day
 * pages, which are free memory from then on; returns the map's length. */
static size_t read_start_info(uint64_t si_pa, char *cmdline)
{
	const struct hvm_start_info *si = boot_phys(si_pa, sizeof(*si));
	size_t n = 0;

	if (si == NULL || si->magic != XEN_HVM_START_MAGIC_VALUE)
		early_crash();
	const char *line = boot_phys(si->cmdline_paddr, CMDLINE_MAX);
	for (size_t i = 0; line != NULL && i < CMDLINE_MAX - 1 && line[i]; i++)
		cmdline[i] = line[i];
	if (si->version >= 1 && si->memmap_entries > 0) {
		n = si->memmap_entries < DUET__MEMMAP_MAX ? si->memmap_entries
							  : DUET__MEMMAP_MAX;
		const void *m =
		    boot_phys(si->memmap_paddr, n * sizeof(*memmap));
		if (m == NULL)
			early_crash();
		memcpy(memmap, m, n * sizeof(*memmap));
		return n;
	}
	/* Version 0: Xen keeps the same map for the asking, as E820 entries. */
	static struct __attribute__((packed)) {
		uint64_t addr, size;
		uint32_t type;
	} e820[DUET__MEMMAP_MAX];
	struct xen_memory_map op = {.nr_entries = DUET__MEMMAP_MAX};
	set_xen_guest_handle(op.buffer, (void *)e820);
	if (hyp_memory_op(XENMEM_memory_map, &op) < 0)
		early_crash();
	for (; n < op.nr_entries && n < DUET__MEMMAP_MAX; n++)
		memmap[n] = (struct hvm_memmap_table_entry){
		    .addr = e820[n].addr,
		    .size = e820[n].size,
		    .type = e820[n].type,
		};
	return n;
}

static void *table_alloc(void *ctx, uint64_t *phys)
{
	void *p = duet__xen_pages_alloc(1);

	(void)ctx;
	if (p == NULL)
		return NULL;
	memset(p, 0, XEN_PAGE_SIZE);
	*phys = (uintptr_t)p - XEN_VIRT_BASE;
	return p;
}

static uint64_t *table_at(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (uint64_t *)(XEN_VIRT_BASE + phys);
}

static int map_direct(unsigned long pfn, uint64_t flags)
{
	return duet__pt_map(&pt, (uintptr_t)duet__xen_pfn_to_virt(pfn),
			    (uint64_t)pfn << XEN_PAGE_SHIFT, flags);
}

/* The free RAM to the allocator, then tables with the image's final
 * protections (text and read-only data read-only, the rest
 * non-executable, the stack guard unmapped) and every free page, in
 * place of the boot tables. Returns the RAM pages, or a negative errno. */
static long mm_init(size_t n)
{
	struct duet__pfn_range ranges[MAX_RANGES];
	unsigned long image_end =
	    duet__xen_virt_to_pfn(__duet_image_end + XEN_PAGE_SIZE - 1);
	unsigned long text_end = duet__xen_virt_to_pfn(__duet_rodata_end);
	unsigned long guard = duet__xen_virt_to_pfn(duet__xen_stack_guard);
	unsigned long ram = 0;
	int nr, r;

	nr = duet__memmap_free(memmap, n, image_end, XEN_MAX_PAGES, ranges,
			       MAX_RANGES);
	if (nr <= 0)
		return nr < 0 ? nr : -ENOMEM;
	duet__xen_pages_setup(ranges[nr - 1].end);
	for (int i = 0; i < nr; i++)
		if ((r = duet__xen_pages_add(
			 ranges[i].start, ranges[i].end - ranges[i].start)) < 0)
			return r;
	pt = (struct duet__pt){.alloc = table_alloc, .table = table_at};
	if ((r = duet__pt_init(&pt)) < 0)
		return r;
	for (unsigned long pfn = 0; pfn < image_end; pfn++) {
		if (pfn == guard)
			continue;
		r = map_direct(pfn,
			       pfn < text_end
				   ? DIRECT_FLAGS & ~XEN_PTE_RW & ~XEN_PTE_NX
				   : DIRECT_FLAGS);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < nr; i++)
		for (uint64_t pfn = ranges[i].start; pfn < ranges[i].end; pfn++)
			if ((r = map_direct(pfn, DIRECT_FLAGS)) < 0)
				return r;
	__asm__ volatile("mov %0, %%cr3" : : "r"(pt.l4_phys) : "memory");
	for (size_t i = 0; i < n; i++)
		if (memmap[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			ram += memmap[i].size >> XEN_PAGE_SHIFT;
	return (long)ram;
}

/* A page outside the direct map (the rings near 4 GiB), mapped at the
 * next slot of the window; NULL if the window is full. */
static void *map_frame(uint64_t pfn)
{
	uintptr_t va = WINDOW_BASE + window_used * XEN_PAGE_SIZE;

	if (window_used == WINDOW_PAGES ||
	    duet__pt_map(&pt, va, pfn << XEN_PAGE_SHIFT, DIRECT_FLAGS) < 0)
		return NULL;
	window_used++;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	return (void *)va;
}

static uint64_t get_param(uint32_t index)
{
	struct xen_hvm_param p = {.domid = DOMID_SELF, .index = index};

	if (XEN_HC(__HYPERVISOR_hvm_op, HVMOP_get_param, &p, 0, 0, 0) < 0)
		duet__xen_crash("HVMOP_get_param failed");
	return p.value;
}

/* Puts one of Xen's pages (`space`, `idx`) at our page va's frame; the
 * RAM that was there goes back to Xen. */
static int add_to_physmap(void *va, unsigned space, unsigned long idx)
{
	struct xen_add_to_physmap op = {
	    .domid = DOMID_SELF,
	    .space = space,
	    .idx = idx,
	    .gpfn = duet__xen_virt_to_pfn(va),
	};

	return hyp_memory_op(XENMEM_add_to_physmap, &op) < 0 ? -EPERM : 0;
}

/* Everything was mapped and protected at entry. */
static int map_all(void)
{
	return 0;
}

static void protect(void)
{
}

static unsigned long virt_to_frame(const void *va)
{
	return duet__xen_virt_to_pfn(va);
}

static int map_grant_frames(void *va, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int r = add_to_physmap((char *)va + i * XEN_PAGE_SIZE,
				       XENMAPSPACE_grant_table, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* block(): "sti; hlt; cli" (pvh_entry.S): sti's one-instruction shadow
 * makes it atomic, an event pending by then ends the hlt. */
void duet__xen_pvh_halt(void);

static uintptr_t fault_address(void)
{
	uintptr_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static const struct duet__xen_mode pvh_mode = {
    .name = "pvh",
    .map_all = map_all,
    .protect = protect,
    .virt_to_frame = virt_to_frame,
    .map_grant_frames = map_grant_frames,
    .block = duet__xen_pvh_halt,
    .fault_address = fault_address,
};

void duet__xen_pvh_start(uint64_t start_info_pa)
{
	static char cmdline[CMDLINE_MAX];
	struct duet__xen_boot_info bi = {.cmdline = cmdline};
	void *console, *shared;
	long ram;

	duet__xen_mode = &pvh_mode;
	if (!hypercall_page_init())
		for (;;) /* no way to tell Xen anything */
			__asm__ volatile("hlt");
	duet__xen_traps_init_pvh(UPCALL_VECTOR);
	size_t n = read_start_info(start_info_pa, cmdline);
	if ((ram = mm_init(n)) < 0)
		early_crash();
	console = map_frame(get_param(HVM_PARAM_CONSOLE_PFN));
	if (console == NULL)
		early_crash();
	duet__xen_console_init(
	    console, (evtchn_port_t)get_param(HVM_PARAM_CONSOLE_EVTCHN));
	shared = duet__xen_pages_alloc(1);
	if (shared == NULL ||
	    add_to_physmap(shared, XENMAPSPACE_shared_info, 0) < 0)
		duet__xen_crash("cannot map shared_info");
	duet__xen_shared = shared;
	struct xen_hvm_param cb = {
	    .domid = DOMID_SELF,
	    .index = HVM_PARAM_CALLBACK_IRQ,
	    .value =
		(uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56 | UPCALL_VECTOR,
	};
	if (XEN_HC(__HYPERVISOR_hvm_op, HVMOP_set_param, &cb, 0, 0, 0) < 0)
		duet__xen_crash("cannot set the event callback vector");
	bi.nr_pages = (unsigned long)ram;
	bi.store_ring = map_frame(get_param(HVM_PARAM_STORE_PFN));
	bi.store_port = (evtchn_port_t)get_param(HVM_PARAM_STORE_EVTCHN);
	if (bi.store_ring == NULL)
		duet__xen_crash("cannot map the xenstore ring");
	duet__xen_boot(&pvh_mode, &bi);
}
