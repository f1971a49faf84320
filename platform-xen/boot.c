/* The Xen platform's boot, both modes: from what the entry (mm_pv.c,
 * pvh.c) set up to duet_boot() and back out through SCHEDOP_shutdown.
 * duet__xen_boot() reads top to bottom as the boot order.
 *
 * How a Duet domain ends, as the toolstack sees it:
 *   - duet_boot() returned exit code N: the console's last line is
 *     "duet: exit code N", data/duet-exit-code in the domain's xenstore
 *     directory holds N, and the domain powers off (shutdown reason
 *     poweroff whatever N is, as Xen's shutdown reasons carry no code;
 *     reboot after a toolstack reboot request, below).
 *   - a fault, a failed assertion, a smashed stack or a boot failure: the
 *     console says why and the domain ends as crashed (reason crash), so
 *     `on_crash=` in the xl config decides what happens next.
 * A toolstack request in control/shutdown (xl shutdown, xl reboot:
 * poweroff, reboot, halt) starts an orderly duet_shutdown(loop, 0), after
 * which the domain ends with reason reboot if a reboot was asked for (so
 * xl's on_reboot= applies), else poweroff; a second request while the stop
 * hooks run stops at once with DUET_EXIT_SIGNAL, as a second signal does
 * on POSIX.
 *
 * Boot arguments are the domain's command line (xl's extra=). The platform
 * takes one of its own, a test hook that crashes the domain on purpose once
 * the loop runs, to prove each way of dying ends as "crashed"
 * (tests/xen/cases/hello-crash*.case): xen.crash=now (the crash path
 * itself), null (a write through NULL: page fault), text (a write to the
 * image's code, read-only after boot), exec (a call into .data, which is
 * non-executable after boot), stack (runaway recursion into the unmapped
 * page under the stack: Xen itself crashes the domain, as it cannot push
 * the fault's frame), canary (a local buffer overrun: the stack protector
 * catches it), assert (a failed assertion). xen.selftest=1 runs
 * selftest.c's checks of the platform's services before the app starts.
 */
#include <stdio.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/sys.h>
#include <duet/platform.h>
#include <duet/replay.h>

#include "backtrace.h"
#include "hypercall.h"
#include "xen.h"

struct xen_boot {
	struct duet_sys sys;
	struct duet_args args;
	struct duet__xs_watch shutdown_watch;
	struct duet_defer crash_defer;
	unsigned end_reason; /* SHUTDOWN_poweroff, or _reboot if asked */
};

const struct duet__xen_mode *duet__xen_mode;

_Noreturn void duet__assert_fail(const char *expr, const char *file,
				 unsigned int line, const char *func);

static _Noreturn void shutdown_domain(unsigned reason)
{
	struct sched_shutdown op = {.reason = reason};

	duet__xen_console_flush();
	for (;;)
		hyp_sched_op(SCHEDOP_shutdown, &op);
}

extern char duet__xen_boot_stack[], duet__xen_boot_stack_top[];

/* One line of return addresses, the innermost first (rip, if known, before
 * them): `./duet symbolize APP` turns it into functions and lines. */
static void print_backtrace(uintptr_t rip, uintptr_t rbp)
{
	uintptr_t frames[DUET__BT_MAX];
	unsigned n = duet__frames(rbp, (uintptr_t)duet__xen_boot_stack,
				  (uintptr_t)duet__xen_boot_stack_top, frames,
				  DUET__BT_MAX);

	/* "at" the faulting instruction, "from" each return address. */
	duet__xen_printk("duet: backtrace:");
	if (rip != 0)
		duet__xen_printk(" at %#lx", (unsigned long)rip);
	duet__xen_printk(" from");
	for (unsigned i = 0; i < n; i++)
		duet__xen_printk(" %#lx", (unsigned long)frames[i]);
	duet__xen_printk("\n");
}

void duet__xen_crash_at(const char *why, uintptr_t rip, uintptr_t rbp)
{
	print_backtrace(rip, rbp);
	duet__xen_printk("duet: crash: %s\n", why);
	duet__xen_record_crash();
	shutdown_domain(SHUTDOWN_crash);
}

void duet__xen_crash(const char *why)
{
	/* From our own frame: its return address is the caller's. */
	duet__xen_crash_at(why, 0, (uintptr_t)__builtin_frame_address(0));
}

void duet__assert_fail(const char *expr, const char *file, unsigned int line,
		       const char *func)
{
	duet__xen_printk("duet: %s:%u: %s: assertion '%s' failed\n", file, line,
			 func, expr);
	duet__xen_crash("assertion failed");
}

static void on_shutdown_request(const char *path, void *arg)
{
	struct xen_boot *xb = arg;
	char req[32];

	if (duet__xs_read(XS_TX_NONE, path, req, sizeof(req)) < 0 ||
	    req[0] == '\0')
		return; /* the watch fires once when set, with nothing asked */
	if (strcmp(req, "poweroff") != 0 && strcmp(req, "reboot") != 0 &&
	    strcmp(req, "halt") != 0) {
		DUET_WARN("xen", "control/shutdown: ignoring '%s'", req);
		return;
	}
	/* Clearing the request acknowledges it to the toolstack. A recording
	 * has it after our line (core/REPLAY.md: a replay acts on it as on
	 * a SIGTERM). */
	duet__xs_write(XS_TX_NONE, path, "");
	if (duet_shutting_down(&xb->sys.loop)) {
		DUET_WARN("xen", "second %s request: stopping now", req);
		duet_rr_signal(duet__xen_rr, DUET_RR_SHUTDOWN_REQUEST);
		duet_exit(&xb->sys.loop, DUET_EXIT_SIGNAL);
		return;
	}
	DUET_INFO("xen", "toolstack asks for %s: shutting down", req);
	if (strcmp(req, "reboot") == 0)
		xb->end_reason = SHUTDOWN_reboot;
	duet_rr_signal(duet__xen_rr, DUET_RR_SHUTDOWN_REQUEST);
	duet_shutdown(&xb->sys.loop, DUET_EXIT_SUCCESS);
}

/* Reads the command line into the args; returns an exit code or -1. The
 * log level applies at once (duet_boot() reads it again) so that the
 * platform's own boot messages honour log=debug. */
static int read_command_line(struct xen_boot *xb, const char *line)
{
	char err[128];
	const char *level_name;
	enum duet_log_level level;

	if (duet_args_parse_line(&xb->args, line, err, sizeof(err)) < 0) {
		DUET_ERROR("args", "bad boot argument %s", err);
		return DUET_EXIT_USAGE;
	}
	level_name = duet_args_peek(&xb->args, "log");
	if (level_name != NULL && duet_log_level_parse(level_name, &level) == 0)
		duet_log_set_level(level);
	return -1;
}

/* The test hook's ways to die, each through a different path. */
static const char *const crash_modes[] = {"now",   "null",   "text",  "exec",
					  "stack", "canary", "assert"};

/* Recurses until `limit` (never reached: the stack runs out first); the
 * bound keeps the compiler from calling it infinite. */
static unsigned recurse(unsigned depth, unsigned limit)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth == limit)
		return 0;
	return recurse(depth + 1, limit) + pad[0];
}

/* Writes past a local array: the canary check must catch it on return. */
static __attribute__((noinline)) void overrun_stack(void)
{
	static volatile size_t len = 64;
	char buf[16];

	memset(buf, 0x5a, len);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static void crash_on_purpose(struct duet_defer *d, void *arg)
{
	const char *mode = arg;
	static unsigned char ret_in_data[] = {0xc3}; /* "ret", in .data */
	(void)d;
	/* null: in the core, so that a recording's replay faults there too
	 * (core/REPLAY.md). */
	duet_rr_crash_on_purpose("xen.crash", mode);
	DUET_INFO("xen", "xen.crash=%s: crashing on purpose", mode);
	duet__xen_console_flush();
	if (strcmp(mode, "text") == 0)
		*(volatile unsigned char *)(void *)duet__xen_boot = 0xcc;
	else if (strcmp(mode, "exec") == 0)
		((void (*)(void))(uintptr_t)ret_in_data)();
	else if (strcmp(mode, "canary") == 0)
		overrun_stack();
	else if (strcmp(mode, "stack") == 0)
		recurse(0, UINT32_MAX);
	else if (strcmp(mode, "assert") == 0)
		duet__assert_fail("xen.crash=assert", __FILE__, __LINE__,
				  __func__);
	duet__xen_crash("xen.crash test hook");
}

/* xen.crash='s crash, posted once discovery is over (discover.c): in
 * the loop, before the app's start, and in a recording (record=), as a
 * POSIX replay posts it before its boot. */
static struct duet_defer *crash_armed;

void duet__xen_crash_arm(void)
{
	if (crash_armed != NULL)
		duet_defer_post(crash_armed);
}

static int platform_args(struct xen_boot *xb)
{
	const char *mode;
	bool selftest;

	if (duet_args_get_bool(&xb->args, "xen.selftest", false, &selftest) < 0)
		return DUET_EXIT_USAGE;
	if (selftest && duet__xen_selftest() < 0)
		return DUET_EXIT_FAILURE;

	duet_args_get_str(&xb->args, "xen.crash", NULL, &mode);
	if (mode == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(crash_modes) / sizeof(crash_modes[0]);
	     i++) {
		if (strcmp(mode, crash_modes[i]) == 0) {
			duet_defer_init(&xb->sys.loop, &xb->crash_defer,
					crash_on_purpose,
					(void *)crash_modes[i]);
			crash_armed = &xb->crash_defer;
			return -1;
		}
	}
	DUET_ERROR("args",
		   "xen.crash=%s: expected now, null, text, exec, stack, "
		   "canary or assert",
		   mode);
	return DUET_EXIT_USAGE;
}

static _Noreturn void finish(int code, unsigned reason)
{
	char value[16];

	snprintf(value, sizeof(value), "%d", code);
	duet__xs_write(XS_TX_NONE, "data/duet-exit-code", value);
	duet__xen_printk("duet: exit code %d\n", code);
	shutdown_domain(reason);
}

void duet__xen_boot(const struct duet__xen_mode *mode,
		    const struct duet__xen_boot_info *bi)
{
	static struct xen_boot xb;
	int code, r;

	duet__xen_events_init();
	duet__xen_time_init();
	xb.end_reason = SHUTDOWN_poweroff;
	duet_args_init(&xb.args);
	code = read_command_line(&xb, bi->cmdline);
	duet__xen_entropy_report();
	if ((r = mode->map_all()) < 0)
		DUET_WARN("xen",
			  "mapping all memory failed (%s): %zu pages free",
			  duet_strerror(r), duet__xen_mm_free_pages());
	mode->protect();
	if ((r = duet__xen_gnttab_init()) < 0)
		DUET_WARN("xen", "grant tables unavailable: %s",
			  duet_strerror(r));
	if ((r = duet__xs_init(bi->store_ring, bi->store_port)) < 0) {
		DUET_ERROR("xen", "xenstore unavailable: %s", duet_strerror(r));
		duet__xen_crash("boot failed");
	}
	DUET_DEBUG(
	    "xen",
	    "%lu MiB, %zu pages free, xenstore home %s, wall clock "
	    "%llu s after the epoch, a %s guest",
	    (bi->nr_pages + 255) >> 8, duet__xen_mm_free_pages(),
	    duet__xs_home(),
	    (unsigned long long)(duet_plat_clock_wall() / DUET_NSEC_PER_SEC),
	    mode->name);

	duet_sys_init(&xb.sys, &xb.args);
	if (code < 0)
		code = platform_args(&xb);
	if (code < 0) {
		if (duet__xs_watch(&xb.shutdown_watch, "control/shutdown",
				   on_shutdown_request, &xb) < 0)
			DUET_WARN("xen", "cannot watch control/shutdown");
		code = duet_boot(&xb.sys);
		duet__xs_unwatch(&xb.shutdown_watch);
	}
	code = duet__xen_record_end(&xb.sys, code);
	finish(code, xb.end_reason);
}
