/* Traps: every processor exception the domain can take is reported with
 * its registers and ends the domain as crashed (`xl list` shows it, Xen
 * logs it); a Duet image has nothing to recover from a fault with.
 *
 * PV registers a trap table and callbacks with Xen. PVH is a bare x86 CPU:
 * its own GDT (pvh_entry.S's, plus a TSS), and an IDT whose exception
 * gates all switch to one emergency stack (IST1), so that a fault on a
 * broken stack, the guard page under it included, still reports; the
 * event upcall is one more gate, on the current stack. */
#include <stdint.h>

#include <xen/xen.h>

#include "hypercall.h"
#include "xen.h"

/* The vectors entry.S has a stub for (TRAP lines there). */
/* clang-format off */
#define XEN_TRAPS(X) \
	X(0) X(1) X(3) X(4) X(5) X(6) X(7) X(10) X(11) X(12) X(13) X(14) \
	X(16) X(17) X(19)
/* clang-format on */

/* PVH also catches the double fault: a fault while delivering one. */
#define PVH_TRAPS(X) XEN_TRAPS(X) X(8)

#define DECLARE_STUB(n) void duet__xen_trap_##n(void);
XEN_TRAPS(DECLARE_STUB)
#define DECLARE_PVH_STUB(n) void duet__xen_pvh_trap_##n(void);
PVH_TRAPS(DECLARE_PVH_STUB)
void duet__xen_pvh_upcall(void);
void duet__xen_hypervisor_callback(void);
void duet__xen_failsafe_callback(void);
_Noreturn void duet__xen_trap(const struct xen_trap_frame *f);
_Noreturn void duet__xen_failsafe(void);

/* Interrupts stay as they were on entry: the handlers do not return. */
#define TRAP_ENTRY(n) {n, 0, FLAT_KERNEL_CS, (unsigned long)duet__xen_trap_##n},
static const trap_info_t trap_table[] = {XEN_TRAPS(TRAP_ENTRY){0, 0, 0, 0}};

static const char *trap_name(uint64_t v)
{
	static const char *const names[] = {
	    [0] = "divide error",     [1] = "debug",
	    [8] = "double fault",     [3] = "breakpoint",
	    [4] = "overflow",	      [5] = "bound range",
	    [6] = "invalid opcode",   [7] = "device not available",
	    [10] = "invalid TSS",     [11] = "segment not present",
	    [12] = "stack fault",     [13] = "general protection",
	    [14] = "page fault",      [16] = "x87 error",
	    [17] = "alignment check", [19] = "SIMD error",
	};
	return v < sizeof(names) / sizeof(names[0]) && names[v] ? names[v]
								: "trap";
}

void duet__xen_trap(const struct xen_trap_frame *f)
{
	duet__xen_printk(
	    "\nduet: fatal %s (vector %lu, error %#lx) at rip %#lx, "
	    "rsp %#lx\n",
	    trap_name(f->vector), (unsigned long)f->vector,
	    (unsigned long)f->error, (unsigned long)f->rip,
	    (unsigned long)f->rsp);
	if (f->vector == 14)
		duet__xen_printk("duet: faulting address %#lx (%s, %s)\n",
				 (unsigned long)duet__xen_mode->fault_address(),
				 f->error & 0x10 ? "execute"
				 : f->error & 2	 ? "write"
						 : "read",
				 f->error & 1 ? "protection" : "not mapped");
	duet__xen_printk("duet: rax %#lx rbx %#lx rcx %#lx rdx %#lx\n"
			 "duet: rsi %#lx rdi %#lx rbp %#lx\n",
			 (unsigned long)f->rax, (unsigned long)f->rbx,
			 (unsigned long)f->rcx, (unsigned long)f->rdx,
			 (unsigned long)f->rsi, (unsigned long)f->rdi,
			 (unsigned long)f->rbp);
	duet__xen_crash_at("unhandled trap", f->rip, f->rbp);
}

void duet__xen_failsafe(void)
{
	duet__xen_crash("failsafe callback: bad segment state on return");
}

void duet__xen_traps_init_pv(void)
{
	if (hyp_set_trap_table(trap_table) < 0)
		duet__xen_crash("set_trap_table failed");
	if (hyp_set_callbacks((unsigned long)duet__xen_hypervisor_callback,
			      (unsigned long)duet__xen_failsafe_callback,
			      0) < 0)
		duet__xen_crash("set_callbacks failed");
}

/* The x86-64 TSS: only the interrupt stack table is used. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
};

#define PVH_CODE_SEL  0x08 /* pvh_entry.S's GDT */
#define PVH_TSS_SEL   0x18
#define GATE_INTR     0x8e /* present, ring 0, 64-bit interrupt gate */
#define IST_STACK_LEN (16 * 1024)

extern uint64_t duet__xen_pvh_gdt[5];
static struct tss64 tss;
static struct idt_gate idt[256];
static char ist_stack[IST_STACK_LEN] __attribute__((aligned(16)));

static void set_gate(uint8_t vec, void (*stub)(void), uint8_t ist)
{
	uintptr_t a = (uintptr_t)stub;

	idt[vec] = (struct idt_gate){
	    .off_lo = (uint16_t)a,
	    .sel = PVH_CODE_SEL,
	    .ist = ist,
	    .type = GATE_INTR,
	    .off_mid = (uint16_t)(a >> 16),
	    .off_hi = (uint32_t)(a >> 32),
	};
}

void duet__xen_traps_init_pvh(uint8_t upcall_vector)
{
	uintptr_t base = (uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr = {sizeof(duet__xen_pvh_gdt) - 1, (uintptr_t)duet__xen_pvh_gdt},
	  idtr = {sizeof(idt) - 1, (uintptr_t)idt};

	tss.ist[0] = (uintptr_t)ist_stack + sizeof(ist_stack);
	tss.iomap = sizeof(tss); /* no I/O bitmap */
	/* A 16-byte system descriptor: available 64-bit TSS, present. */
	duet__xen_pvh_gdt[3] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			       (uint64_t)0x89 << 40 |
			       ((base >> 24) & 0xff) << 56;
	duet__xen_pvh_gdt[4] = base >> 32;
#define PVH_GATE(n) set_gate(n, duet__xen_pvh_trap_##n, 1);
	PVH_TRAPS(PVH_GATE)
	set_gate(upcall_vector, duet__xen_pvh_upcall, 0);
	/* The GDT again at its virtual address: the identity mapping the
	 * entry loaded it through goes away with the boot page tables. */
	__asm__ volatile("lgdt %0; lidt %1; ltr %w2"
			 :
			 : "m"(gdtr), "m"(idtr), "r"(PVH_TSS_SEL)
			 : "memory");
}
