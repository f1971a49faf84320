/* backtrace.h — the frame-pointer walk behind crash reports, as plain C.
 *
 * Xen images are built with frame pointers (configure.ac), so every frame
 * starts with the caller's %rbp and the return address above it. A crash
 * report walks that chain from the faulting frame, but the stack may be
 * what went wrong: the walk reads only inside [lo, hi) (the one stack C
 * runs on), only aligned frames, and only upwards, so a smashed or looping
 * chain ends the walk instead of faulting again. Host-tested in
 * tests/unit/xen_backtrace_test.c.
 */
#ifndef DUET_XEN_BACKTRACE_H
#define DUET_XEN_BACKTRACE_H

#include <stdint.h>

#define DUET__BT_MAX 24

/* Stores up to `max` return addresses, innermost first, from the frame at
 * `rbp`; returns how many. */
unsigned duet__frames(uintptr_t rbp, uintptr_t lo, uintptr_t hi,
		      uintptr_t *out, unsigned max);

#endif
