/* Internal interfaces between platform-xen's files.
 *
 * Memory: the image is linked at XEN_VIRT_BASE and Xen maps pseudo-physical
 * page N at XEN_VIRT_BASE + N * 4096 (the boot mapping, extended by mm.c to
 * all of the domain's pages up to 1 GiB), so pfn <-> virtual is arithmetic
 * and mfn <-> pfn goes through the p2m list and Xen's m2p table.
 *
 * Events: upcalls stay masked except inside SCHEDOP_block; the upcall
 * handler only acknowledges, and ports are dispatched from
 * duet__xen_evtchn_dispatch(), i.e. from duet_plat_wait(), never from
 * interrupt context. Handlers may therefore call anything.
 */
#ifndef DUET_XEN_XEN_H
#define DUET_XEN_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>

#include <duet/clock.h>

#include "xs.h"

#define XEN_VIRT_BASE  0xffffffff80000000UL
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  (1UL << XEN_PAGE_SHIFT)

#define XEN_PTE_PRESENT	 0x001UL
#define XEN_PTE_RW	 0x002UL
#define XEN_PTE_USER	 0x004UL
#define XEN_PTE_ACCESSED 0x020UL
#define XEN_PTE_DIRTY	 0x040UL
#define XEN_PTE_NX	 (1UL << 63)
#define XEN_PTE_ADDR	 0x000ffffffffff000UL

#define xen_barrier() __asm__ volatile("" ::: "memory")
#define xen_mb()      __asm__ volatile("mfence" ::: "memory")

/* boot.c: end the domain as crashed, after a backtrace from the caller
 * (crash) or from a trapped frame (crash_at). */
_Noreturn void duet__xen_crash(const char *why);
_Noreturn void duet__xen_crash_at(const char *why, uintptr_t rip,
				  uintptr_t rbp);
/* Raw console output for fatal paths: formats into a stack buffer. */
void duet__xen_printk(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* mm.c */
int duet__xen_mm_init(start_info_t *si, unsigned long boot_rsp);
int duet__xen_mm_map_all(void);
void duet__xen_mm_protect(void);
void *duet__xen_mfn_to_virt(unsigned long mfn);
unsigned long duet__xen_virt_to_mfn(const void *va);
/* Whole pages from the domain's free memory, or NULL. Not zeroed. */
void *duet__xen_pages_alloc(size_t count);
void duet__xen_pages_free(void *va, size_t count);
/* Replaces the frame behind one of our pages with a foreign machine frame
 * (shared_info, grant table frames). The page's own frame is given up. */
int duet__xen_map_machine_page(void *va, unsigned long mfn);
size_t duet__xen_mm_free_pages(void);

/* console.c */
void duet__xen_console_init(start_info_t *si);
void duet__xen_console_flush(void);

/* events.c */
extern shared_info_t *duet__xen_shared;
typedef void (*duet__xen_evtchn_cb)(evtchn_port_t port, void *arg);
void duet__xen_events_init(void);
int duet__xen_evtchn_bind(evtchn_port_t port, duet__xen_evtchn_cb cb,
			  void *arg);
int duet__xen_evtchn_bind_virq(uint32_t virq, duet__xen_evtchn_cb cb, void *arg,
			       evtchn_port_t *port);
int duet__xen_evtchn_alloc_unbound(domid_t remote, duet__xen_evtchn_cb cb,
				   void *arg, evtchn_port_t *port);
int duet__xen_evtchn_unbind(evtchn_port_t port);
int duet__xen_evtchn_notify(evtchn_port_t port);
void duet__xen_evtchn_mask(evtchn_port_t port);
void duet__xen_evtchn_unmask(evtchn_port_t port);
bool duet__xen_evtchn_test_and_clear(evtchn_port_t port);
/* Runs the handlers of every pending, unmasked port; returns how many. */
int duet__xen_evtchn_dispatch(void);
/* Sleeps until an event is pending (events masked again on return). */
void duet__xen_block(void);

/* time.c */
void duet__xen_time_init(void);
void duet__xen_timer_set(duet_time_t deadline);

/* traps.c */
void duet__xen_traps_init(void);

/* entropy.c */
void duet__xen_guard_init(void);
void duet__xen_entropy_report(void);

/* gnttab.c: grant access to our pages for another domain. */
int duet__xen_gnttab_init(void);
int duet__xen_grant_access(domid_t domid, unsigned long mfn, bool readonly,
			   grant_ref_t *ref);
int duet__xen_grant_end(grant_ref_t ref);
/* Ends *ref unless it is 0 (never granted: Xen reserves the low refs) and
 * sets it to 0; false if the other domain still maps the page. */
bool duet__xen_grant_end_ref(grant_ref_t *ref);

/* xenstore.c: the client (xs.h). */
int duet__xs_init(start_info_t *si);

/* selftest.c: the xen.selftest=1 boot check; 0 or the first failure. */
int duet__xen_selftest(void);

/* The trap frame entry.S builds, lowest address first. */
struct xen_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#endif
