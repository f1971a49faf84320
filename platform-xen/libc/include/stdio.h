/* stdio.h — formatting into memory (Duet's freestanding libc).
 *
 * There are no streams: the console belongs to the platform (duet/log.h).
 * Only the bounded formatters exist. They follow C99 and glibc: the return
 * value is the length the full output would have, the buffer always ends in
 * NUL when size > 0, and buf may be NULL when size is 0.
 *
 * Supported: flags "-+ #0", width and precision (numbers or '*'), length
 * modifiers hh h l ll z j t, and conversions d i u o x X c s p %, with
 * glibc's output in every case (NULL strings as "(null)", NULL pointers as
 * "(nil)", other pointers as %#lx).
 *
 * Not supported, and copied to the output as written without consuming an
 * argument of their own: floating point (f F e E g G a A; the image has no
 * floating-point registers), %n, wide characters (%lc %ls), the L and q
 * modifiers, positional arguments ("%1$d"), the ' flag, and unknown
 * conversions. glibc differs on all of these but the last, and on a lone
 * '%' at the end of the format (copied here; glibc fails with -1).
 * Output longer than INT_MAX makes the call fail with -1 and EOVERFLOW.
 */
#ifndef DUET_LIBC_STDIO_H
#define DUET_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#endif
