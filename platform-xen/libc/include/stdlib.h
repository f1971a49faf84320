/* stdlib.h — memory, number parsing and sorting (Duet's freestanding libc).
 *
 * The heap takes memory from the platform's page allocator as it grows and
 * never gives it back. Allocation failure returns NULL with errno ENOMEM;
 * it never stops the domain. Pointers are 16-byte aligned, as glibc's on
 * x86_64. malloc(0) returns a unique pointer; realloc(p, 0) frees p and
 * returns NULL, as glibc does. aligned_alloc and posix_memalign accept
 * only power-of-two alignments, failing with EINVAL otherwise (glibc 2.36's
 * aligned_alloc rounds other alignments up).
 *
 * The strto* functions follow glibc in the "C" locale: leading white
 * space, an optional sign, "0x"/"0X" for base 16 or 0, a leading 0 for
 * octal with base 0 ("0b" is not a prefix). Out-of-range values saturate
 * with errno ERANGE; a base other than 0 or 2-36 sets EINVAL, returns 0
 * and leaves *endptr untouched. errno is otherwise left alone.
 *
 * qsort is a heapsort: O(n log n) in the worst case, constant stack, and
 * not stable (elements that compare equal may come out in any order).
 */
#ifndef DUET_LIBC_STDLIB_H
#define DUET_LIBC_STDLIB_H

#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
void *aligned_alloc(size_t alignment, size_t size);
int posix_memalign(void **memptr, size_t alignment, size_t size);

long strtol(const char *restrict nptr, char **restrict endptr, int base);
unsigned long strtoul(const char *restrict nptr, char **restrict endptr,
		      int base);
long long strtoll(const char *restrict nptr, char **restrict endptr, int base);
unsigned long long strtoull(const char *restrict nptr, char **restrict endptr,
			    int base);
int atoi(const char *nptr);
long atol(const char *nptr);
long long atoll(const char *nptr);

int abs(int j);
long labs(long j);
long long llabs(long long j);

void qsort(void *base, size_t nmemb, size_t size,
	   int (*compar)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
	      int (*compar)(const void *, const void *));

#endif
