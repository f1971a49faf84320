/* Traps: every processor exception the domain can take is reported with
 * its registers and ends the domain as crashed (`xl list` shows it, Xen
 * logs it); a Duet image has nothing to recover from a fault with. */
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

#define DECLARE_STUB(n) void duet__xen_trap_##n(void);
XEN_TRAPS(DECLARE_STUB)
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
	    [0] = "divide error",	  [1] = "debug",
	    [3] = "breakpoint",		  [4] = "overflow",
	    [5] = "bound range",	  [6] = "invalid opcode",
	    [7] = "device not available", [10] = "invalid TSS",
	    [11] = "segment not present", [12] = "stack fault",
	    [13] = "general protection",  [14] = "page fault",
	    [16] = "x87 error",		  [17] = "alignment check",
	    [19] = "SIMD error",
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
				 duet__xen_shared->vcpu_info[0].arch.cr2,
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

void duet__xen_traps_init(void)
{
	if (hyp_set_trap_table(trap_table) < 0)
		duet__xen_crash("set_trap_table failed");
	if (hyp_set_callbacks((unsigned long)duet__xen_hypervisor_callback,
			      (unsigned long)duet__xen_failsafe_callback,
			      0) < 0)
		duet__xen_crash("set_callbacks failed");
}
