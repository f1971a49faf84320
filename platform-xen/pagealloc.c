/* A first-fit page allocator over a bitmap (see pagealloc.h). */
#include <errno.h>
#include <stdbool.h>

#include "pagealloc.h"

static bool page_used(const struct duet__pages *pa, size_t i)
{
	return (pa->map[i / 64] >> (i % 64)) & 1;
}

static void mark(struct duet__pages *pa, size_t first, size_t count, bool used)
{
	for (size_t i = first; i < first + count; i++) {
		uint64_t bit = UINT64_C(1) << (i % 64);
		if (used)
			pa->map[i / 64] |= bit;
		else
			pa->map[i / 64] &= ~bit;
	}
}

/* True if every page of [first, first + count) is in the state `used`. */
static bool range_is(const struct duet__pages *pa, size_t first, size_t count,
		     bool used)
{
	for (size_t i = first; i < first + count; i++)
		if (page_used(pa, i) != used)
			return false;
	return true;
}

static bool range_ok(const struct duet__pages *pa, size_t first, size_t count)
{
	return count > 0 && first < pa->npages && count <= pa->npages - first;
}

void duet__pages_init(struct duet__pages *pa, uint64_t *map, size_t npages)
{
	pa->map = map;
	pa->npages = npages;
	pa->nfree = 0;
	pa->hint = 0;
	for (size_t w = 0; w < DUET__PAGES_MAP_WORDS(npages); w++)
		map[w] = ~UINT64_C(0);
}

int duet__pages_add(struct duet__pages *pa, size_t first, size_t count)
{
	if (!range_ok(pa, first, count) || !range_is(pa, first, count, true))
		return -EINVAL;
	mark(pa, first, count, false);
	pa->nfree += count;
	return 0;
}

/* The first run of `count` free pages within [from, to), skipping whole
 * used words quickly; returns to if there is none. */
static size_t find_run(const struct duet__pages *pa, size_t from, size_t to,
		       size_t count)
{
	size_t run = 0;

	for (size_t i = from; i < to; i++) {
		if (i % 64 == 0 && run == 0 && i + 64 <= to &&
		    pa->map[i / 64] == ~UINT64_C(0)) {
			i += 63;
			continue;
		}
		if (page_used(pa, i)) {
			run = 0;
			continue;
		}
		if (++run == count)
			return i + 1 - count;
	}
	return to;
}

int duet__pages_alloc(struct duet__pages *pa, size_t count, size_t *first)
{
	size_t at;

	if (count == 0)
		return -EINVAL;
	if (count > pa->nfree)
		return -ENOMEM;
	at = find_run(pa, pa->hint, pa->npages, count);
	if (at == pa->npages) {
		/* Wrap: a run may straddle the hint, so search up to
		 * hint+count. */
		size_t to = pa->hint + count - 1;
		if (to > pa->npages)
			to = pa->npages;
		at = find_run(pa, 0, to, count);
		if (at == to)
			return -ENOMEM;
	}
	mark(pa, at, count, true);
	pa->nfree -= count;
	pa->hint = at + count;
	*first = at;
	return 0;
}

/* Freeing is adding back: both refuse a page that is not in use. */
int duet__pages_free(struct duet__pages *pa, size_t first, size_t count)
{
	return duet__pages_add(pa, first, count);
}

size_t duet__pages_nfree(const struct duet__pages *pa)
{
	return pa->nfree;
}
