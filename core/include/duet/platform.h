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
 * duet_plat_probe(loop, kind)
 *     Find the devices of one kind and register them (Xen: the vifs of
 *     xenstore's device/vif as net0.., the vbds as disk0..). The core calls
 *     it once per kind, when the app first looks a device of that kind up,
 *     so an image links the drivers of only the kinds it uses. A platform
 *     whose devices are declared before boot (POSIX: the command line) does
 *     nothing here.
 *
 * A platform's own network stack (POSIX: the host-socket stack) is not a
 * platform service but a stack provider (duet/net_stack.h).
 */
#ifndef DUET_PLATFORM_H
#define DUET_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include <duet/clock.h>
#include <duet/device.h>

struct duet_loop;

void duet_plat_wait(struct duet_loop *loop, duet_time_t deadline);
duet_time_t duet_plat_clock_monotonic(void);
duet_time_t duet_plat_clock_wall(void);
void duet_plat_console_write(const char *buf, size_t len);
int duet_plat_entropy(void *buf, size_t len);
bool duet_plat_entropy_strong(void);
void duet_plat_probe(struct duet_loop *loop, enum duet_device_kind kind);

#endif
