/* string.h — byte strings and memory blocks (Duet's freestanding libc).
 *
 * The C standard's semantics in the "C" locale, plus the POSIX and BSD
 * extras that the core, lwIP and an HTTP server reach for. Unbounded copies
 * are left out except strcpy, which the core uses on lengths it has checked.
 * strdup and strndup allocate with malloc; the caller frees.
 */
#ifndef DUET_LIBC_STRING_H
#define DUET_LIBC_STRING_H

#include <stddef.h>

#include <strings.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
void *memrchr(const void *s, int c, size_t n);
void *memmem(const void *haystack, size_t hlen, const void *needle,
	     size_t nlen);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strtok_r(char *restrict s, const char *restrict delim,
	       char **restrict saveptr);

char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
/* Copies at most size - 1 bytes and always terminates when size > 0;
 * returns strlen(src), so a result >= size means truncation. */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

char *strdup(const char *s);
char *strndup(const char *s, size_t n);

#endif
