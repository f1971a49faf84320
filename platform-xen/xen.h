/* Internal interfaces between platform-xen's files.
 *
 * Two entries, one image: Xen starts a PV guest at _start (entry.S, then
 * mm_pv.c) and a PVH guest at pvh_entry (pvh_entry.S, then pvh.c). Each
 * entry does what only its mode knows (the console ring, traps and
 * upcalls, the first free memory, shared_info), then hands boot.c a struct
 * duet__xen_mode for the rest: the few operations that differ, so that
 * drivers and the common code never test the mode.
 *
 * Memory: the image is linked at XEN_VIRT_BASE and pseudo-physical page N
 * is mapped at XEN_VIRT_BASE + N * 4096 (Xen's boot mapping extended by
 * mm_pv.c, or pvh.c's own tables), for the domain's pages up to 1 GiB, so
 * pfn <-> virtual is arithmetic; what a backend is granted is the mode's
 * frame number (virt_to_frame).
 *
 * Events: upcalls stay masked (PV: evtchn_upcall_mask; PVH: EFLAGS.IF)
 * except while the mode's block() sleeps; the upcall handler only
 * acknowledges, and ports are dispatched from duet__xen_evtchn_dispatch(),
 * i.e. from duet_plat_wait(), never from interrupt context. Handlers may
 * therefore call anything.
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
#include <duet/list.h>

#include "pt.h"
#include "xs.h"

#define XEN_VIRT_BASE  0xffffffff80000000UL
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  (1UL << XEN_PAGE_SHIFT)

/* Pages [0, XEN_MAX_PAGES) at most are used: 1 GiB, one L2 table. */
#define XEN_MAX_PAGES (1UL << 18)

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

/* What differs between the modes; boot.c keeps the entry's choice in
 * duet__xen_mode. */
struct duet__xen_mode {
	const char *name; /* "pv" or "pvh", for the log */
	/* Maps the domain's pages beyond the entry's first mapping and hands
	 * them to the allocator; then the image's protections (text
	 * read-only, the rest non-executable, the stack guard unmapped). */
	int (*map_all)(void);
	void (*protect)(void);
	/* The frame number a backend is granted for our page at va. */
	unsigned long (*virt_to_frame)(const void *va);
	/* Puts the grant table's frames 0..count-1 over our pages at va. */
	int (*map_grant_frames)(void *va, unsigned count);
	/* Sleeps until an event is pending; upcalls are masked on return. */
	void (*block)(void);
	/* The address the last page fault was at. */
	uintptr_t (*fault_address)(void);
};
extern const struct duet__xen_mode *duet__xen_mode;

/* What an entry hands to the common boot besides its mode. */
struct duet__xen_boot_info {
	const char *cmdline;	/* xl's extra=, NUL-terminated */
	unsigned long nr_pages; /* the domain's memory, for the log */
	void *store_ring;
	evtchn_port_t store_port;
};
/* boot.c: the rest of the boot, the app, and the domain's end. */
_Noreturn void duet__xen_boot(const struct duet__xen_mode *mode,
			      const struct duet__xen_boot_info *bi);

/* mm.c: the allocator over pages [0, nr_pages), fed by the entry. */
void duet__xen_pages_setup(unsigned long nr_pages);
int duet__xen_pages_add(unsigned long first, unsigned long count);
static inline void *duet__xen_pfn_to_virt(unsigned long pfn)
{
	return (void *)(XEN_VIRT_BASE + (pfn << XEN_PAGE_SHIFT));
}
static inline unsigned long duet__xen_virt_to_pfn(const void *va)
{
	return ((unsigned long)va - XEN_VIRT_BASE) >> XEN_PAGE_SHIFT;
}
static inline unsigned long duet__xen_virt_to_frame(const void *va)
{
	return duet__xen_mode->virt_to_frame(va);
}
/* Whole pages from the domain's free memory, or NULL. Not zeroed. */
void *duet__xen_pages_alloc(size_t count);
void duet__xen_pages_free(void *va, size_t count);
size_t duet__xen_mm_free_pages(void);

/* console.c */
void duet__xen_console_init(void *ring, evtchn_port_t port);
void duet__xen_console_flush(void);
void duet__xen_console_raw(const char *buf, size_t len);

/* record.c: record=DISK (core/REPLAY.md). The recorder, NULL when not
 * recording; start (after duet_sys_init: -1 to boot on, or an exit
 * code); before a sleep (hands the buffer on now and then); the run's end
 * (the last of the log and its header, waited for); a crash (the same,
 * synchronously). */
struct duet_sys;
extern struct duet_rr *duet__xen_rr;
int duet__xen_record_start(struct duet_sys *sys);
void duet__xen_record_idle(duet_time_t now);
int duet__xen_record_end(struct duet_sys *sys, int code);
void duet__xen_record_crash(void);

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

/* discover.c: called first in duet_plat_wait. While discovery is on,
 * brings *deadline forward to its own; once that has passed, ends it (the
 * fronts still on their way settle as late) and returns true: an event
 * was handled. */
bool duet__xen_discovery_due(duet_time_t *deadline);
/* boot.c: posts xen.crash='s crash, if asked for; discovery's end calls it. */
void duet__xen_crash_arm(void);

/* time.c. The platform's own clock reads (how long to sleep, a driver's
 * timeouts) are these, not duet_plat_clock_*(), which a recording sees. */
void duet__xen_time_init(void);
void duet__xen_timer_set(duet_time_t deadline);
duet_time_t duet__xen_now(void);
duet_time_t duet__xen_wall(void);

/* ptimer.c: the platform's own timers and deferred work, run inside
 * duet_plat_wait(). One struct serves as either: started (a timer, with a
 * period or 0) or posted (run at the next wait). */
struct duet__xt {
	struct duet_list link;
	duet_time_t deadline, period;
	bool active;
	void (*cb)(struct duet__xt *t, void *arg);
	void *arg;
};
void duet__xt_init(struct duet__xt *t, void (*cb)(struct duet__xt *, void *),
		   void *arg);
void duet__xt_start(struct duet__xt *t, duet_time_t delay, duet_time_t period);
void duet__xt_post(struct duet__xt *t);
void duet__xt_stop(struct duet__xt *t);
bool duet__xt_active(const struct duet__xt *t);
/* The earliest deadline (0 with work posted), DUET_TIME_INFINITE if none. */
duet_time_t duet__xt_next(void);
/* Runs what is due; returns how many ran. */
int duet__xt_run(void);

/* traps.c: PV's trap table and callbacks; PVH's GDT, TSS and IDT, with
 * the upcall at `upcall_vector`. */
void duet__xen_traps_init_pv(void);
void duet__xen_traps_init_pvh(uint8_t upcall_vector);

/* entropy.c */
void duet__xen_guard_init(void);
void duet__xen_entropy_report(void);

/* gnttab.c: grant access to our pages for another domain. */
int duet__xen_gnttab_init(void);
int duet__xen_grant_access(domid_t domid, unsigned long frame, bool readonly,
			   grant_ref_t *ref);
int duet__xen_grant_end(grant_ref_t ref);
/* Ends *ref unless it is 0 (never granted: Xen reserves the low refs) and
 * sets it to 0; false if the other domain still maps the page. */
bool duet__xen_grant_end_ref(grant_ref_t *ref);

/* xenstore.c: the client (xs.h). */
int duet__xs_init(void *ring, evtchn_port_t port);

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
