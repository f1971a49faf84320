/* Hypercalls through the page the domain builder fills: entry nr is at
 * hypercall_page + nr * 32. Arguments go in rdi, rsi, rdx, r10, r8; the
 * result comes back in rax; rcx and r11 are clobbered, and a debug Xen
 * scribbles over the argument registers too, so all are outputs here. */
#ifndef DUET_XEN_HYPERCALL_H
#define DUET_XEN_HYPERCALL_H

#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

extern char hypercall_page[];

static inline long xen_hypercall(unsigned nr, unsigned long a1,
				 unsigned long a2, unsigned long a3,
				 unsigned long a4, unsigned long a5)
{
	register unsigned long r10 __asm__("r10") = a4;
	register unsigned long r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("call *%[entry]"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10),
			   "+r"(r8)
			 : [entry] "r"(hypercall_page + nr * 32)
			 : "rcx", "r11", "memory");
	return ret;
}

#define XEN_HC(nr, a1, a2, a3, a4, a5)                                         \
	xen_hypercall(nr, (unsigned long)(a1), (unsigned long)(a2),            \
		      (unsigned long)(a3), (unsigned long)(a4),                \
		      (unsigned long)(a5))

static inline long hyp_sched_op(int cmd, void *arg)
{
	return XEN_HC(__HYPERVISOR_sched_op, cmd, arg, 0, 0, 0);
}

static inline long hyp_event_channel_op(int cmd, void *arg)
{
	return XEN_HC(__HYPERVISOR_event_channel_op, cmd, arg, 0, 0, 0);
}

static inline long hyp_vcpu_op(int cmd, int vcpu, void *arg)
{
	return XEN_HC(__HYPERVISOR_vcpu_op, cmd, vcpu, arg, 0, 0);
}

static inline long hyp_update_va_mapping(unsigned long va, uint64_t pte,
					 unsigned long flags)
{
	return XEN_HC(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0);
}

static inline long hyp_mmu_update(mmu_update_t *req, unsigned count,
				  unsigned *done)
{
	return XEN_HC(__HYPERVISOR_mmu_update, req, count, done, DOMID_SELF, 0);
}

static inline long hyp_grant_table_op(unsigned cmd, void *arg, unsigned count)
{
	return XEN_HC(__HYPERVISOR_grant_table_op, cmd, arg, count, 0, 0);
}

static inline long hyp_memory_op(unsigned cmd, void *arg)
{
	return XEN_HC(__HYPERVISOR_memory_op, cmd, arg, 0, 0, 0);
}

static inline long hyp_console_io(int cmd, unsigned long len, const char *buf)
{
	return XEN_HC(__HYPERVISOR_console_io, cmd, len, buf, 0, 0);
}

static inline long hyp_set_trap_table(const trap_info_t *table)
{
	return XEN_HC(__HYPERVISOR_set_trap_table, table, 0, 0, 0, 0);
}

static inline long hyp_set_callbacks(unsigned long event,
				     unsigned long failsafe,
				     unsigned long syscall)
{
	return XEN_HC(__HYPERVISOR_set_callbacks, event, failsafe, syscall, 0,
		      0);
}

#endif
