/* unistd.h — only ssize_t (Duet's freestanding libc).
 *
 * There are no file descriptors or processes to declare. The header exists
 * because lwIP's arch.h, seeing SSIZE_MAX defined (limits.h defines it),
 * includes <unistd.h> for ssize_t, as POSIX places it there too.
 */
#ifndef DUET_LIBC_UNISTD_H
#define DUET_LIBC_UNISTD_H

#include <sys/types.h>

#endif
