/* strings.h — case-insensitive comparison (Duet's freestanding libc).
 *
 * ASCII only, as in the "C" locale: bytes outside A-Z are compared as they
 * are. string.h includes this header, as glibc's does.
 */
#ifndef DUET_LIBC_STRINGS_H
#define DUET_LIBC_STRINGS_H

#include <stddef.h>

int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);

#endif
