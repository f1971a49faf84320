/* The PVH entry. Xen starts the vCPU in 32-bit protected mode with paging
 * off, flat segments, interrupts off, no stack, and %ebx = the physical
 * address of struct hvm_start_info; the image sits at its physical
 * addresses (xen.lds). This builds boot page tables mapping the first
 * GiB twice with 2 MiB pages, at 0 (for the instructions that switch
 * modes) and at VIRT_BASE (where the image is linked), enters long mode,
 * jumps up to VIRT_BASE and calls pvh.c, which replaces these tables with
 * 4 KiB ones, page 0 and the identity map gone.
 *
 * Also the upcall stub PVH's IDT points at (traps.c); its trap stubs are
 * entry.S's, beside PV's. */
#define VIRT_BASE 0xffffffff80000000
#define PA(sym)	  ((sym) - VIRT_BASE)

#define CR0_PE	  0x00000001
#define CR0_WP	  0x00010000
#define CR0_PG	  0x80000000
#define CR4_PAE	  0x00000020
#define MSR_EFER  0xc0000080
#define EFER_LME  0x00000100
#define EFER_NXE  0x00000800
#define PDE_TABLE 0x003 /* present, writable */
#define PDE_LARGE 0x083 /* present, writable, 2 MiB */

	.section .text.entry, "ax", @progbits
	.code32
	.globl duet__xen_pvh_entry
duet__xen_pvh_entry:
	cli
	cld
	mov %ebx, %esi
	/* L2: 512 pages of 2 MiB, physical 0 to 1 GiB. */
	mov $PA(pvh_l2), %edi
	mov $PDE_LARGE, %eax
	mov $512, %ecx
1:	mov %eax, (%edi)
	movl $0, 4(%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b
	/* One L3 holds it at 0 (entry 0) and at VIRT_BASE (entry 510), one L4
	 * the L3 at 0 (entry 0) and at the top (entry 511). */
	movl $PA(pvh_l2) + PDE_TABLE, PA(pvh_l3)
	movl $PA(pvh_l2) + PDE_TABLE, PA(pvh_l3) + 510 * 8
	movl $PA(pvh_l3) + PDE_TABLE, PA(pvh_l4)
	movl $PA(pvh_l3) + PDE_TABLE, PA(pvh_l4) + 511 * 8
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $PA(pvh_l4), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PE | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0
	lgdt PA(pvh_gdt_ptr32)
	ljmp $0x08, $PA(1f)
	.code64
1:	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	movabs $2f, %rax
	jmp *%rax
2:	lea duet__xen_boot_stack_top(%rip), %rsp
	mov %esi, %r12d /* zero-extends: the upper halves are undefined */
	call duet__xen_guard_init
	mov %r12, %rdi
	call duet__xen_pvh_start
	ud2

/* The callback vector: Xen raises it while evtchn_upcall_pending is set
 * and EFLAGS.IF allows, which the loop only does in duet__xen_pvh_halt.
 * The handler clears the flag (no EOI: the vector is not the local
 * APIC's). An upcall taken on the hlt itself, which sti's shadow should
 * prevent but an emulated CPU may not, must not leave the hlt to sleep
 * after it: the frame's return address skips it. */
	.globl duet__xen_pvh_upcall
duet__xen_pvh_upcall:
	call duet__xen_call_upcall
	cmpq $pvh_hlt, (%rsp)
	jne 1f
	addq $1, (%rsp) /* hlt is one byte */
1:	iretq

/* Sleeps until an event: pvh.c's block(). */
	.globl duet__xen_pvh_halt
duet__xen_pvh_halt:
	sti
pvh_hlt:
	hlt
	cli
	ret

/* Null, 64-bit code (0x08), data (0x10), and the TSS (0x18, two slots,
 * which traps.c fills). */
	.section .data.pvh_gdt, "aw", @progbits
	.balign 16
	.globl duet__xen_pvh_gdt
duet__xen_pvh_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0, 0
pvh_gdt_end:
pvh_gdt_ptr32:
	.word pvh_gdt_end - duet__xen_pvh_gdt - 1
	.long PA(duet__xen_pvh_gdt)

	.section .bss.pvh_boot_pt, "aw", @nobits
	.balign 4096
pvh_l4:	.skip 4096
pvh_l3:	.skip 4096
pvh_l2:	.skip 4096

	.section .note.GNU-stack, "", @progbits
