/* A platform for unit tests: a virtual clock that only moves when a test
 * (or a wait) moves it, a console captured into a buffer, and a scripted
 * wait primitive. Linked instead of platform-posix/platform-xen. */
#ifndef DUET_TEST_FAKEPLAT_H
#define DUET_TEST_FAKEPLAT_H

#include <stdbool.h>
#include <stddef.h>

#include <duet/clock.h>
#include <duet/platform.h>

struct duet_loop;

/* Virtual monotonic time (starts at 1 s so "0" is never a valid now). */
void fakeplat_reset(void);
void fakeplat_set_time(duet_time_t t);
duet_time_t fakeplat_time(void);

/* How duet_plat_wait() behaves: by default it jumps the clock to the
 * deadline (plus `lateness`). A hook, if set, runs inside each wait as a
 * device event would. */
void fakeplat_set_lateness(duet_time_t lateness);
void fakeplat_set_wait_hook(void (*hook)(struct duet_loop *loop, void *arg),
			    void *arg);
unsigned fakeplat_wait_count(void);
/* The deadline of the last wait (DUET_TIME_INFINITE if none). */
duet_time_t fakeplat_last_deadline(void);

/* Runs loop for d of virtual time (its timers fire on the way), then
 * returns. */
void fakeplat_run_for(struct duet_loop *loop, duet_time_t d);

/* Discovery (duet_plat_discover) is over at once, as on POSIX, unless a
 * hook takes it over: the hook then owns `done`, to call from inside a
 * wait (a wait hook) as a platform with a handshake would. */
void fakeplat_set_discover(void (*hook)(struct duet_loop *loop,
					duet_plat_discovered_cb done));

/* Whether duet_plat_entropy_strong() says no (a Xen CPU without RDRAND);
 * reset to strong. */
void fakeplat_set_entropy_weak(bool weak);

/* Everything written to the console since the last reset. */
const char *fakeplat_console(void);

/* Records or replays what crosses this platform (duet/replay.h); NULL,
 * the default after a reset, for neither. */
struct duet_rr;
void fakeplat_set_rr(struct duet_rr *rr);

#endif
