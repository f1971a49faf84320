/* The image's first instructions, its Xen ELF notes, and the stubs Xen
 * bounces events and traps to. Everything else is C (boot.c). */
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
	/* The ELF's physical addresses equal its virtual ones: with an offset
	 * of VIRT_BASE the image starts at pseudo-physical 0. */
	XEN_NOTE_QUAD XEN_ELFNOTE_PADDR_OFFSET, VIRT_BASE
	XEN_NOTE_QUAD XEN_ELFNOTE_ENTRY, _start
	XEN_NOTE_QUAD XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page

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
	call duet__xen_start
	ud2

/* Events: Xen enters here with upcalls masked and %rcx, %r11 on the stack
 * above an iret frame. The C side only acknowledges the upcall; the loop
 * handles pending ports itself (events.c). The iret hypercall restores the
 * event mask from the saved flags, atomically with the return. */
	.globl duet__xen_hypervisor_callback
duet__xen_hypervisor_callback:
	popq %rcx
	popq %r11
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
	pushq $0
	jmp hypercall_page + __HYPERVISOR_iret * 32

/* Xen could not restore segment state on an iret: nothing sane is left. */
	.globl duet__xen_failsafe_callback
duet__xen_failsafe_callback:
	and $-16, %rsp
	call duet__xen_failsafe
	ud2

/* Traps: every stub leaves the same frame (struct xen_trap_frame in xen.h)
 * and the C handler reports it and crashes the domain. */
.macro TRAP vec, has_error
	.globl duet__xen_trap_\vec
duet__xen_trap_\vec:
	popq %rcx
	popq %r11
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm
	TRAP 0, 0
	TRAP 1, 0
	TRAP 3, 0
	TRAP 4, 0
	TRAP 5, 0
	TRAP 6, 0
	TRAP 7, 0
	TRAP 10, 1
	TRAP 11, 1
	TRAP 12, 1
	TRAP 13, 1
	TRAP 14, 1
	TRAP 16, 0
	TRAP 17, 1
	TRAP 19, 0

trap_common:
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

/* The domain builder writes one 32-byte stub per hypercall here. */
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
