/* Memory and string functions.
 *
 * Copies and fills move a machine word at a time once the pointers are
 * aligned, since lwIP and the drivers move whole packets and pages with
 * them. Everything else goes a byte at a time and never reads past a
 * terminator or the given length: simple to check, and clean under the
 * host's AddressSanitizer. Searches are the plain quadratic kind; the needles
 * Duet looks for (header names, "\r\n\r\n") are a few bytes long.
 *
 * Compile with -ffreestanding (or -fno-builtin): otherwise gcc recognises the
 * byte loops in memset and memcpy and turns them into calls to memset and
 * memcpy, that is, into infinite recursion.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A word that may alias any object, as the copies need. */
typedef size_t __attribute__((may_alias)) word_t;

#define WORD sizeof(word_t)

static int word_aligned(const void *p)
{
	return (uintptr_t)p % WORD == 0;
}

static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (((uintptr_t)d ^ (uintptr_t)s) % WORD == 0) {
		for (; n > 0 && !word_aligned(d); n--)
			*d++ = *s++;
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(word_t *)d = *(const word_t *)s;
	}
	while (n-- > 0)
		*d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Copying upwards is safe unless dst starts inside src: each word is
	 * read before any store can reach it. */
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		copy_forward(d, s, n);
		return dst;
	}
	d += n;
	s += n;
	if (((uintptr_t)d ^ (uintptr_t)s) % WORD == 0) {
		for (; n > 0 && !word_aligned(d); n--)
			*--d = *--s;
		for (; n >= WORD; n -= WORD) {
			d -= WORD;
			s -= WORD;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	while (n-- > 0)
		*--d = *--s;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char byte = (unsigned char)c;

	for (; n > 0 && !word_aligned(d); n--)
		*d++ = byte;
	if (n >= WORD) {
		word_t w = (word_t)-1 / 0xff * byte;

		for (; n >= WORD; n -= WORD, d += WORD)
			*(word_t *)d = w;
	}
	while (n-- > 0)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n > 0; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

void *memrchr(const void *s, int c, size_t n)
{
	const unsigned char *p = (const unsigned char *)s + n;

	while (n-- > 0) {
		if (*--p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

void *memmem(const void *haystack, size_t hlen, const void *needle, size_t nlen)
{
	const unsigned char *h = haystack, *nd = needle, *end;

	if (nlen == 0)
		return (void *)haystack;
	if (nlen > hlen)
		return NULL;
	end = h + (hlen - nlen) + 1; /* one past the last possible start */
	while (h < end) {
		h = memchr(h, nd[0], (size_t)(end - h));
		if (h == NULL)
			return NULL;
		if (memcmp(h + 1, nd + 1, nlen - 1) == 0)
			return (void *)h;
		h++;
	}
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
	const char *end = memchr(s, '\0', maxlen);

	return end != NULL ? (size_t)(end - s) : maxlen;
}

int strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return *p - *q;
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q || *p == '\0')
			return *p - *q;
	}
	return 0;
}

int strcasecmp(const char *a, const char *b)
{
	return strncasecmp(a, b, SIZE_MAX);
}

int strncasecmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		int d = tolower(*p) - tolower(*q);

		if (d != 0 || *p == '\0')
			return d;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (*s == '\0')
			return (char *)last;
	}
}

char *strstr(const char *haystack, const char *needle)
{
	size_t nlen = strlen(needle);

	if (nlen == 0)
		return (char *)haystack;
	for (; (haystack = strchr(haystack, needle[0])) != NULL; haystack++) {
		if (strncmp(haystack, needle, nlen) == 0)
			return (char *)haystack;
	}
	return NULL;
}

/* A set of bytes, one bit each, for the span functions. */
struct byteset {
	unsigned char bits[32];
};

static void byteset_fill(struct byteset *set, const char *chars)
{
	memset(set, 0, sizeof(*set));
	for (const unsigned char *p = (const unsigned char *)chars; *p; p++)
		set->bits[*p / 8] |= (unsigned char)(1u << (*p % 8));
}

static int byteset_has(const struct byteset *set, char c)
{
	unsigned char b = (unsigned char)c;

	return (set->bits[b / 8] >> (b % 8)) & 1;
}

size_t strspn(const char *s, const char *accept)
{
	struct byteset set;
	size_t n = 0;

	/* The terminator is never in the set, so the loop stops there. */
	byteset_fill(&set, accept);
	while (byteset_has(&set, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	struct byteset set;
	size_t n = 0;

	byteset_fill(&set, reject);
	set.bits[0] |= 1; /* stop at the terminator too */
	while (!byteset_has(&set, s[n]))
		n++;
	return n;
}

char *strtok_r(char *restrict s, const char *restrict delim,
	       char **restrict saveptr)
{
	char *end;

	if (s == NULL)
		s = *saveptr;
	s += strspn(s, delim);
	if (*s == '\0') {
		*saveptr = s;
		return NULL;
	}
	end = s + strcspn(s, delim);
	if (*end == '\0') {
		*saveptr = end;
	} else {
		*end = '\0';
		*saveptr = end + 1;
	}
	return s;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		;
	return dst;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	memset(dst + len, 0, n - len);
	return dst;
}

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char *strdup(const char *s)
{
	size_t size = strlen(s) + 1;
	char *p = malloc(size);

	if (p != NULL)
		memcpy(p, s, size);
	return p;
}

char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}
