/* duet/platform.h — what a platform provides.
 *
 * One-per-system services are bound at link time: platform-posix and
 * platform-xen each define every symbol below, and exactly one of them is
 * linked into an image. Apps and modules do not call these; they use the
 * wrappers in duet/clock.h, duet/log.h, duet/entropy.h and duet/loop.h.
 *
 * duet_plat_wait(loop, deadline)
 *     MUST return once `deadline` (monotonic ns) has passed or after at
 *     least one device event has been handled, whichever is first, and MUST
 *     return promptly (after handling what is ready) when the deadline is
 *     already past. Device callbacks run inside it, and a callback that
 *     runs after it slept sees duet_loop_now() as of after the sleep: the
 *     platform calls duet_loop_update_time() between waking and
 *     dispatching (or as each callback begins). MAY return early for no
 *     reason; the core simply loops. With DUET_TIME_INFINITE it sleeps until
 *     an event.
 * duet_plat_clock_monotonic(), duet_plat_clock_wall()
 *     As duet/clock.h describes.
 * duet_plat_console_write(buf, len)
 *     MUST write all bytes in order; MAY block briefly (a full console ring),
 *     but never indefinitely.
 * duet_plat_entropy(buf, len)
 *     As duet/entropy.h describes.
 * duet_plat_entropy_strong()
 *     MUST return true only if duet_plat_entropy()'s bytes come from a
 *     source fit for keys (getrandom(2); RDSEED or RDRAND), false when they
 *     come from a guessable fallback.
 * duet_plat_discover(loop, done)
 *     Find the devices the platform gives the image and register them,
 *     then call done(loop), once. The core calls it once, before the app's
 *     start, and runs the loop meanwhile: timers, deferred callbacks and
 *     device events go on, and the app starts only once done has run. It
 *     MUST NOT wait inside the call. It MAY call done inside the call
 *     (POSIX: the command line declared every device before boot);
 *     otherwise it MUST call it from inside duet_plat_wait, as a device
 *     event, once every device it found has settled: ready, failed for
 *     good, or past a deadline of the platform's own (not a loop timer).
 *     A device whose backend comes after that deadline is registered as
 *     its driver says (a netif with its link down, say). Discovery covers
 *     only the kinds whose drivers the image links (below).
 * duet_plat_netif_drivers, duet_plat_block_drivers
 *     Each platform defines them with its drivers of that kind (Xen: in
 *     netfront's and blkfront's objects). The core refers to them from the
 *     objects of duet_netif_open() and duet_block_open() alone, so an image
 *     links a kind's drivers only if it opens a device of that kind (or,
 *     on Xen, block drivers for the recorder, record=DISK, which opens
 *     its disk with duet_block_open in every image); the platform's
 *     discovery refers to them weakly and so finds only the kinds the
 *     image links.
 *
 * A platform's own network stack (POSIX: the host-socket stack) is not a
 * platform service but a stack provider (duet/net_stack.h).
 */
#ifndef DUET_PLATFORM_H
#define DUET_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include <duet/clock.h>

struct duet_loop;

void duet_plat_wait(struct duet_loop *loop, duet_time_t deadline);
duet_time_t duet_plat_clock_monotonic(void);
duet_time_t duet_plat_clock_wall(void);
void duet_plat_console_write(const char *buf, size_t len);
int duet_plat_entropy(void *buf, size_t len);
bool duet_plat_entropy_strong(void);
typedef void (*duet_plat_discovered_cb)(struct duet_loop *loop);
void duet_plat_discover(struct duet_loop *loop, duet_plat_discovered_cb done);
struct duet_plat_drivers; /* each platform's own */
extern const struct duet_plat_drivers duet_plat_netif_drivers;
extern const struct duet_plat_drivers duet_plat_block_drivers;

#endif
