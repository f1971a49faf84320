/* The heap: boundary-tagged blocks in regions taken from the platform, free
 * blocks kept in size-class lists.
 *
 * Every block starts with a 16-byte header holding its own size and the size
 * of the block before it, so a freed block finds both neighbours at once and
 * merges with the free ones: two free blocks are never adjacent. Sizes are
 * multiples of 16 and payloads start 16 bytes into a block, which gives
 * glibc's 16-byte alignment.
 *
 * Free blocks sit in one doubly linked list per power of two of their size.
 * A request takes the first block that fits from its own class, else the
 * first block of the smallest larger non-empty class, which a bitmap finds in
 * one instruction: the search is bounded without best fit's cost, and the
 * excess of the block found is split off and freed at once.
 *
 * Each region starts with a descriptor (for duet__heap_check, and to see
 * whether new memory continues a region) and ends with a header of size 0
 * marked in use, which stops merges and walks.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

struct block {
	size_t prev_size; /* 0 for the first block of a region */
	size_t size;	  /* of the whole block, | IN_USE */
};

struct free_block {
	struct block hdr;
	struct free_block *next;
	struct free_block *prev;
};

struct region {
	struct region *next;
	size_t size;
};

#define ALIGNMENT ((size_t)16)
#define HDR_SIZE  sizeof(struct block)
#define MIN_BLOCK sizeof(struct free_block)
#define IN_USE	  ((size_t)1)
#define NBINS	  64
/* Asking the platform for at least this much at a time keeps regions few;
 * a smaller request is retried when the platform cannot give this. */
#define GROW_STEP ((size_t)64 * 1024)
/* Far above any real request, and low enough that adding an alignment and
 * the region overhead cannot wrap. */
#define MAX_REQUEST ((size_t)PTRDIFF_MAX / 2)

_Static_assert(sizeof(struct block) == 16 && sizeof(struct region) == 16,
	       "headers must keep payloads 16-byte aligned");
_Static_assert(sizeof(struct free_block) == 32, "MIN_BLOCK must stay 32");

static struct region *regions;
static struct free_block *bins[NBINS];
static uint64_t bin_map; /* bit i set when bins[i] is not empty */
static size_t heap_bytes, used_bytes, free_bytes, peak_used_bytes;

#define heap_fail(msg) duet__assert_fail(msg, __FILE__, __LINE__, __func__)

static size_t block_size(const struct block *b)
{
	return b->size & ~IN_USE;
}

static int in_use(const struct block *b)
{
	return (b->size & IN_USE) != 0;
}

static struct block *next_block(const struct block *b)
{
	return (struct block *)((char *)b + block_size(b));
}

static void *payload(struct block *b)
{
	return (char *)b + HDR_SIZE;
}

/* Sets b's size and keeps the following block's back link in step. */
static void set_size(struct block *b, size_t size, size_t flags)
{
	b->size = size | flags;
	next_block(b)->prev_size = size;
}

static unsigned bin_index(size_t size)
{
	return (unsigned)(63 - __builtin_clzll(size)) - 5;
}

static void bin_insert(struct block *b)
{
	struct free_block *fb = (struct free_block *)b;
	unsigned i = bin_index(block_size(b));

	fb->prev = NULL;
	fb->next = bins[i];
	if (bins[i] != NULL)
		bins[i]->prev = fb;
	bins[i] = fb;
	bin_map |= (uint64_t)1 << i;
}

static void bin_remove(struct block *b)
{
	struct free_block *fb = (struct free_block *)b;
	unsigned i = bin_index(block_size(b));

	if (fb->prev != NULL)
		fb->prev->next = fb->next;
	else
		bins[i] = fb->next;
	if (fb->next != NULL)
		fb->next->prev = fb->prev;
	if (bins[i] == NULL)
		bin_map &= ~((uint64_t)1 << i);
}

/* Turns b, already marked free but in no list, into a listed free block,
 * merged with whichever neighbours are free. */
static void release(struct block *b)
{
	size_t size = block_size(b);
	struct block *next = next_block(b);

	free_bytes += size;
	if (!in_use(next)) {
		bin_remove(next);
		size += block_size(next);
	}
	if (b->prev_size != 0) {
		struct block *prev = (struct block *)((char *)b - b->prev_size);

		if (!in_use(prev)) {
			bin_remove(prev);
			size += block_size(prev);
			b = prev;
		}
	}
	set_size(b, size, 0);
	bin_insert(b);
}

/* Cuts b, which is in use, down to size bytes when the excess can stand as a
 * block of its own, and frees the excess. */
static void trim(struct block *b, size_t size)
{
	size_t old = block_size(b);
	struct block *rest = (struct block *)((char *)b + size);

	if (old - size < MIN_BLOCK)
		return;
	set_size(b, size, IN_USE);
	set_size(rest, old - size, 0);
	used_bytes -= old - size;
	release(rest);
}

static void note_peak(void)
{
	if (used_bytes > peak_used_bytes)
		peak_used_bytes = used_bytes;
}

static struct block *find_fit(size_t size)
{
	unsigned i = bin_index(size);
	uint64_t larger;

	for (struct free_block *fb = bins[i]; fb != NULL; fb = fb->next) {
		if (block_size(&fb->hdr) >= size)
			return &fb->hdr;
	}
	larger = bin_map & ~(((uint64_t)2 << i) - 1);
	if (larger == 0)
		return NULL;
	return &bins[__builtin_ctzll(larger)]->hdr;
}

/* Adds a free block of at least size bytes to the heap, or fails. */
static int grow(size_t size)
{
	size_t asked = size + sizeof(struct region) + HDR_SIZE;
	size_t got = 0;
	char *mem = NULL;
	struct region *r;
	struct block *b;

	if (asked < GROW_STEP) {
		mem = duet__heap_grow(GROW_STEP, &got);
		if (mem != NULL)
			asked = GROW_STEP;
	}
	if (mem == NULL)
		mem = duet__heap_grow(asked, &got);
	if (mem == NULL)
		return -ENOMEM;
	if ((uintptr_t)mem % ALIGNMENT != 0 || got < asked || got % ALIGNMENT)
		heap_fail("duet__heap_grow broke its contract");
	heap_bytes += got;

	for (r = regions; r != NULL; r = r->next) {
		if ((char *)r + r->size == mem) {
			/* The region's end marker becomes the new block's
			 * header, keeping its link to the last block. */
			b = (struct block *)(mem - HDR_SIZE);
			r->size += got;
			set_size(b, got, 0);
			next_block(b)->size = IN_USE;
			release(b);
			return 0;
		}
	}
	r = (struct region *)mem;
	r->size = got;
	r->next = regions;
	regions = r;
	b = (struct block *)(r + 1);
	b->prev_size = 0;
	set_size(b, got - sizeof(struct region) - HDR_SIZE, 0);
	next_block(b)->size = IN_USE;
	release(b);
	return 0;
}

/* Returns an in-use block of exactly size bytes (a valid block size). */
static struct block *alloc_block(size_t size)
{
	struct block *b = find_fit(size);

	if (b == NULL) {
		if (grow(size) != 0)
			return NULL;
		b = find_fit(size);
	}
	bin_remove(b);
	free_bytes -= block_size(b);
	used_bytes += block_size(b);
	b->size |= IN_USE;
	trim(b, size);
	return b;
}

/* The block size that holds n bytes of payload, or 0 if none can. */
static size_t request_size(size_t n)
{
	size_t size;

	if (n > MAX_REQUEST)
		return 0;
	size = (n + HDR_SIZE + ALIGNMENT - 1) & ~(ALIGNMENT - 1);
	return size < MIN_BLOCK ? MIN_BLOCK : size;
}

/* Header checks catch double frees and most stray pointers before they
 * corrupt the lists, where the damage would surface far from its cause. */
static struct block *block_of(void *p)
{
	struct block *b = (struct block *)((char *)p - HDR_SIZE);
	size_t size = block_size(b);

	if ((uintptr_t)p % ALIGNMENT != 0 || !in_use(b) || size < MIN_BLOCK ||
	    size % ALIGNMENT != 0 || next_block(b)->prev_size != size)
		heap_fail("free or realloc of a pointer not from malloc, "
			  "or freed twice");
	return b;
}

void *malloc(size_t n)
{
	size_t size = request_size(n);
	struct block *b = size != 0 ? alloc_block(size) : NULL;

	if (b == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	note_peak();
	return payload(b);
}

void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

void free(void *p)
{
	struct block *b;

	if (p == NULL)
		return;
	b = block_of(p);
	used_bytes -= block_size(b);
	b->size &= ~IN_USE;
	release(b);
}

void *realloc(void *p, size_t n)
{
	struct block *b, *next;
	size_t size, have;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	b = block_of(p);
	size = request_size(n);
	if (size == 0) {
		errno = ENOMEM;
		return NULL;
	}
	have = block_size(b);
	next = next_block(b);
	if (have < size && !in_use(next) && have + block_size(next) >= size) {
		size_t more = block_size(next);

		bin_remove(next);
		free_bytes -= more;
		used_bytes += more;
		set_size(b, have + more, IN_USE);
		note_peak();
	} else if (have < size) {
		q = malloc(n);
		if (q == NULL)
			return NULL;
		memcpy(q, p, have - HDR_SIZE);
		free(p);
		return q;
	}
	trim(b, size);
	return p;
}

/* alignment is a power of two. */
static void *alloc_aligned(size_t alignment, size_t n)
{
	size_t size = request_size(n);
	struct block *b;
	uintptr_t p;

	if (alignment <= ALIGNMENT)
		return malloc(n);
	if (size == 0 || alignment > MAX_REQUEST) {
		errno = ENOMEM;
		return NULL;
	}
	/* Room to move the payload up to the next aligned address while
	 * leaving a lead-in that can stand as a free block. */
	b = alloc_block(size + alignment + MIN_BLOCK);
	if (b == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p = (uintptr_t)payload(b);
	if (p % alignment != 0) {
		uintptr_t aligned = (p + MIN_BLOCK + alignment - 1) &
				    ~(uintptr_t)(alignment - 1);
		size_t lead = aligned - p;
		size_t total = block_size(b);
		struct block *a = (struct block *)(aligned - HDR_SIZE);

		set_size(b, lead, 0);
		set_size(a, total - lead, IN_USE);
		used_bytes -= lead;
		release(b);
		b = a;
	}
	trim(b, size);
	note_peak();
	return payload(b);
}

void *aligned_alloc(size_t alignment, size_t size)
{
	if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_aligned(alignment, size);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int saved_errno = errno;
	void *p;

	if (alignment % sizeof(void *) != 0 ||
	    (alignment & (alignment - 1)) != 0 || alignment == 0)
		return EINVAL;
	p = alloc_aligned(alignment, size);
	/* POSIX reports through the return value and leaves errno alone. */
	errno = saved_errno;
	if (p == NULL)
		return ENOMEM;
	*memptr = p;
	return 0;
}

static int check_regions(size_t *nfree)
{
	size_t used = 0, free_sz = 0, total = 0;

	*nfree = 0;
	for (struct region *r = regions; r != NULL; r = r->next) {
		char *end = (char *)r + r->size - HDR_SIZE;
		struct block *b = (struct block *)(r + 1);
		size_t prev = 0;
		int prev_free = 0;

		total += r->size;
		while ((char *)b != end) {
			size_t size = block_size(b);

			if (size < MIN_BLOCK || size % ALIGNMENT != 0 ||
			    size > (size_t)(end - (char *)b) ||
			    b->prev_size != prev || (prev_free && !in_use(b)))
				return -EFAULT;
			if (in_use(b)) {
				used += size;
			} else {
				free_sz += size;
				(*nfree)++;
			}
			prev = size;
			prev_free = !in_use(b);
			b = next_block(b);
		}
		if (b->size != IN_USE || b->prev_size != prev)
			return -EFAULT;
	}
	if (used != used_bytes || free_sz != free_bytes || total != heap_bytes)
		return -EFAULT;
	return 0;
}

int duet__heap_check(void)
{
	size_t nfree, listed = 0;

	if (check_regions(&nfree) != 0)
		return -EFAULT;
	for (unsigned i = 0; i < NBINS; i++) {
		struct free_block *prev = NULL;

		if ((bins[i] != NULL) != ((bin_map >> i) & 1))
			return -EFAULT;
		for (struct free_block *fb = bins[i]; fb != NULL;
		     fb = fb->next) {
			/* The count bound also stops a looping list. */
			if (++listed > nfree || fb->prev != prev ||
			    in_use(&fb->hdr) ||
			    bin_index(block_size(&fb->hdr)) != i)
				return -EFAULT;
			prev = fb;
		}
	}
	return listed == nfree ? 0 : -EFAULT;
}

void duet__heap_stats(struct duet__heap_stats *st)
{
	st->heap_bytes = heap_bytes;
	st->used_bytes = used_bytes;
	st->free_bytes = free_bytes;
	st->peak_used_bytes = peak_used_bytes;
	st->free_blocks = 0;
	st->largest_free = 0;
	for (unsigned i = 0; i < NBINS; i++) {
		for (struct free_block *fb = bins[i]; fb != NULL;
		     fb = fb->next) {
			size_t room = block_size(&fb->hdr) - HDR_SIZE;

			st->free_blocks++;
			if (room > st->largest_free)
				st->largest_free = room;
		}
	}
}
