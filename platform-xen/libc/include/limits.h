/* limits.h — the bottom of gcc's limits.h (Duet's freestanding libc).
 *
 * gcc installs a limits.h that defines every standard limit itself but,
 * being configured for a hosted target, then includes "the system's"
 * limits.h with #include_next. This file is that system header, so it
 * must come after gcc's include directory in the search path (the order
 * Duet's build uses). Included first instead, it steps aside to gcc's.
 */
#ifndef _GCC_LIMITS_H_
#define _LIBC_LIMITS_H_
#include_next <limits.h>
#endif

#ifndef DUET_LIBC_LIMITS_H
#define DUET_LIBC_LIMITS_H

#define SSIZE_MAX __LONG_MAX__

#endif
