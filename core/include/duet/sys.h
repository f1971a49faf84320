/* duet/sys.h — the system a platform boots: its loop and the core's state.
 *
 * For platforms and tests, not apps. A platform owns one struct duet_sys,
 * initialises it with the boot arguments, then calls duet_boot(), which
 * has it discover its devices (duet/platform.h). Apps and modules
 * see only the loop (duet/loop.h) and reach this state through the core's
 * calls (duet/device.h, duet/args.h, duet/net.h, duet/app.h); the fields
 * are the core's.
 *
 * A bare struct duet_loop (duet_loop_init) runs timers and deferred
 * callbacks but has no system: device, network and shutdown calls need a
 * loop that a duet_sys owns.
 */
#ifndef DUET_SYS_H
#define DUET_SYS_H

#include <stdbool.h>

#include <duet/clock.h>
#include <duet/list.h>
#include <duet/loop.h>

struct duet_args;
struct duet_rr;
struct duet_stack;

struct duet_sys {
	struct duet_loop loop;
	/* boot arguments (duet/args.h) */
	struct duet_args *args;
	/* device registry (duet/device.h) */
	struct duet_list devices;
	/* discovery (duet_plat_discover), then the app's start from the loop */
	duet_time_t discovery_began;
	bool discover_returned; /* done after this is an asynchronous one */
	bool discovered;
	struct duet_defer start_defer;
	/* the network stack (duet/net_stack.h), once the app opened it */
	struct duet_stack *stack;
	/* record and replay (duet/replay.h), when the platform does either */
	struct duet_rr *rr;
	/* shutdown (duet/app.h) */
	struct duet_list stop_hooks;
	unsigned stop_hooks_pending;
	bool shutting_down;
	int shutdown_code;
	duet_time_t shutdown_timeout;
	struct duet_timer shutdown_timer;
	struct duet_defer shutdown_defer;
};

/* Initialises the system and its loop; `args` may be NULL (tests). */
void duet_sys_init(struct duet_sys *sys, struct duet_args *args);

/* The system that owns `loop`; the loop must belong to one. */
struct duet_sys *duet_sys_of(const struct duet_loop *loop);

/* The boot sequence both platforms share: reads the core's own boot
 * arguments (log=, shutdown_timeout=), runs the loop, in which the platform
 * discovers its devices (duet_plat_discover) and then the app starts (and
 * unknown arguments are rejected), and destroys the network stack if the
 * app opened one. Returns the exit code. A shutdown asked for during
 * discovery ends the run without starting the app. */
int duet_boot(struct duet_sys *sys);

#endif
