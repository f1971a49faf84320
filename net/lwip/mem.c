/* lwIP's allocations (MEM_LIBC_MALLOC), with a cache of segment-sized
 * blocks where segments are 64 KiB (DUET_LWIP_BULK).
 *
 * Every TCP segment lwIP sends is one malloc'd pbuf, freed when it is
 * acknowledged. At 64 KiB a segment, glibc hands each back to the kernel
 * (the top of its heap passes the trim threshold) and the next one faults
 * its pages in again, one by one: a fifth of the CPU of 64 KiB responses
 * over a tap. Tuning glibc instead (a higher trim threshold) keeps every
 * other program's freed memory too. So blocks of a segment's size are kept
 * on a short free list; anything else goes straight to malloc. Under ASan
 * nothing is cached, so that every block is watched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"

#include "lwip_stack.h"

#ifdef DUET_LWIP_BULK

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DUET_LWIP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(DUET_LWIP_ASAN)
#define CACHE_ON 0
#else
#define CACHE_ON 1
#endif
#define CACHE_MAX 64 /* 4 MiB: the segments of a few busy connections */
/* A full segment's pbuf: the struct, link, IP and TCP headers and TCP_MSS
 * bytes; what asks for more than half of it gets a whole one. */
#define BIG_BLOCK (TCP_MSS + 512)
#define BIG_MIN	  (BIG_BLOCK / 2)
/* Before each block: whether it is a big one. 16 bytes keep malloc's
 * alignment. */
#define HDR 16

static void *cache[CACHE_MAX];
static unsigned cached;

void *duet__lwip_malloc(size_t size)
{
	bool big = size > BIG_MIN && size <= BIG_BLOCK;
	unsigned char *b;

	if (size > SIZE_MAX - HDR - BIG_BLOCK)
		return NULL;
	if (big && cached > 0)
		b = cache[--cached];
	else
		b = malloc(HDR + (big ? BIG_BLOCK : size));
	if (b == NULL)
		return NULL;
	b[0] = big;
	return b + HDR;
}

void *duet__lwip_calloc(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	void *p = duet__lwip_malloc(count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

void duet__lwip_free(void *p)
{
	unsigned char *b = (unsigned char *)p - HDR;

	if (CACHE_ON && b[0] && cached < CACHE_MAX) {
		cache[cached++] = b;
		return;
	}
	free(b);
}

void duet__lwip_mem_drain(void)
{
	while (cached > 0)
		free(cache[--cached]);
}

#else

void duet__lwip_mem_drain(void)
{
}

#endif
