/* The PV entry: the image's first instructions, its Xen ELF notes, and the
 * stubs Xen bounces events and traps to. PVH enters at pvh_entry.S; the
 * rest is C (mm_pv.c, boot.c). */
#include <xen/elfnote.h>
#include <xen/xen.h>

#define VIRT_BASE 0xffffffff80000000
#define BOOT_STACK_SIZE (64 * 1024)

/* One Xen ELF note: name "Xen", a type from xen/elfnote.h, a value. */
.macro XEN_NOTE type
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f
	.long 4f - 3f
	.long \type
1:	.asciz "Xen"
2:	.balign 4
3:
.endm
.macro XEN_NOTE_END
4:	.balign 4
	.popsection
.endm
.macro XEN_NOTE_STR type, str
	XEN_NOTE \type
	.asciz "\str"
	XEN_NOTE_END
.endm
.macro XEN_NOTE_QUAD type, value
	XEN_NOTE \type
	.quad \value
	XEN_NOTE_END
.endm

	XEN_NOTE_STR XEN_ELFNOTE_GUEST_OS, Duet
	XEN_NOTE_STR XEN_ELFNOTE_XEN_VERSION, xen-3.0
	/* Without LOADER, xl refuses the image ("no loader found"). */
	XEN_NOTE_STR XEN_ELFNOTE_LOADER, generic
	XEN_NOTE_QUAD XEN_ELFNOTE_VIRT_BASE, VIRT_BASE
	/* The ELF's physical addresses start at 0 (xen.lds), so PV's virtual
	 * address = VIRT_BASE + physical, with no offset. */
	XEN_NOTE_QUAD XEN_ELFNOTE_PADDR_OFFSET, 0
	XEN_NOTE_QUAD XEN_ELFNOTE_ENTRY, _start
	XEN_NOTE_QUAD XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
	/* With this, the same image also boots as PVH (pvh_entry.S). */
	XEN_NOTE_QUAD XEN_ELFNOTE_PHYS32_ENTRY, (duet__xen_pvh_entry-VIRT_BASE)

	.section .text.entry, "ax", @progbits
	.globl _start
_start:
	/* %rsi: start_info; %rsp: Xen's boot stack, the last element of the
	 * initial mapping (boot.c needs it to know where free memory starts). */
	cld
	mov %rsi, %r12
	mov %rsp, %r13
	lea duet__xen_boot_stack_top(%rip), %rsp
	call duet__xen_guard_init
	mov %r12, %rdi
	mov %r13, %rsi
	call duet__xen_pv_start
	ud2

/* Events: Xen enters here with upcalls masked and %rcx, %r11 on the stack
 * above an iret frame. The C side only acknowledges the upcall; the loop
 * handles pending ports itself (events.c). The iret hypercall restores the
 * event mask from the saved flags, atomically with the return. */
	.globl duet__xen_hypervisor_callback
duet__xen_hypervisor_callback:
	popq %rcx
	popq %r11
	call duet__xen_call_upcall
	pushq $0
	jmp hypercall_page + __HYPERVISOR_iret * 32

/* duet__xen_upcall() with every register C may clobber saved and the stack
 * aligned: for PV's callback above and PVH's vector (pvh_entry.S). */
	.globl duet__xen_call_upcall
duet__xen_call_upcall:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbp
	mov %rsp, %rbp
	and $-16, %rsp
	call duet__xen_upcall
	mov %rbp, %rsp
	popq %rbp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	ret

/* Xen could not restore segment state on an iret: nothing sane is left. */
	.globl duet__xen_failsafe_callback
duet__xen_failsafe_callback:
	and $-16, %rsp
	call duet__xen_failsafe
	ud2

/* Traps: every stub leaves the same frame (struct xen_trap_frame in xen.h)
 * and the C handler reports it and crashes the domain. */
.macro TRAP_STUB name, vec, has_error, pv
	.globl \name\()_\vec
\name\()_\vec:
	.if \pv
	popq %rcx
	popq %r11
	.endif
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp duet__xen_trap_common
.endm
.macro TRAP vec, has_error
	TRAP_STUB duet__xen_trap, \vec, \has_error, 1
.endm
/* PVH's stubs (its IDT, traps.c): the CPU pushes no %rcx and %r11. */
.macro PVH_TRAP vec, has_error
	TRAP_STUB duet__xen_pvh_trap, \vec, \has_error, 0
.endm
/* The vectors both modes catch (XEN_TRAPS in traps.c). */
.macro EACH_TRAP stub
	\stub 0, 0
	\stub 1, 0
	\stub 3, 0
	\stub 4, 0
	\stub 5, 0
	\stub 6, 0
	\stub 7, 0
	\stub 10, 1
	\stub 11, 1
	\stub 12, 1
	\stub 13, 1
	\stub 14, 1
	\stub 16, 0
	\stub 17, 1
	\stub 19, 0
.endm
	EACH_TRAP TRAP
	EACH_TRAP PVH_TRAP
	/* Under PV, Xen handles a double fault itself. */
	PVH_TRAP 8, 1

	.globl duet__xen_trap_common
duet__xen_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rdi
	and $-16, %rsp
	call duet__xen_trap
	ud2

/* One 32-byte stub per hypercall: PV's domain builder writes them, a PVH
 * guest asks Xen to (pvh.c). */
	.section .xen_hypercall_page, "ax", @progbits
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc

/* The stack C runs on, with an unmapped guard page below it once boot is
 * done (mm.c), so an overflow faults instead of corrupting data. */
	.section .bss.boot_stack, "aw", @nobits
	.balign 4096
	.globl duet__xen_stack_guard
duet__xen_stack_guard:
	.skip 4096
	.globl duet__xen_boot_stack
duet__xen_boot_stack:
	.skip BOOT_STACK_SIZE
	.globl duet__xen_boot_stack_top
duet__xen_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
