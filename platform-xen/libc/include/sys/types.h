/* sys/types.h — the POSIX size types (Duet's freestanding libc).
 *
 * x86_64 only: ssize_t and off_t are 64-bit, as on Linux.
 */
#ifndef DUET_LIBC_SYS_TYPES_H
#define DUET_LIBC_SYS_TYPES_H

#include <stddef.h>

typedef long ssize_t;
typedef long off_t;

#endif
