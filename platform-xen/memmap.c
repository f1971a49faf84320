/* See memmap.h. Every entry's bounds, rounded to pages (RAM inwards,
 * everything else outwards), cut [lo, hi) into pieces that each lie wholly
 * inside or outside every entry; a piece is free if some RAM entry holds it
 * and no other entry does. Quadratic in the entries, which are few. */
#include <errno.h>

#include "memmap.h"

#define PAGE_SHIFT 12
#define PAGE_MASK  ((UINT64_C(1) << PAGE_SHIFT) - 1)

struct span {
	uint64_t start, end;
	int ram;
};

static uint64_t entry_end(const struct hvm_memmap_table_entry *e)
{
	return e->size > UINT64_MAX - e->addr ? UINT64_MAX : e->addr + e->size;
}

static uint64_t pages_down(uint64_t a)
{
	return a >> PAGE_SHIFT;
}

static uint64_t pages_up(uint64_t a)
{
	return (a >> PAGE_SHIFT) + ((a & PAGE_MASK) != 0);
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void sort_unique(uint64_t *v, size_t *n)
{
	size_t m = 0;

	for (size_t i = 1; i < *n; i++) {
		uint64_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (size_t i = 0; i < *n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	*n = m;
}

/* Whether page p is free: in a RAM span and in no other. */
static int page_free(const struct span *s, size_t n, uint64_t p)
{
	int in_ram = 0;

	for (size_t i = 0; i < n; i++) {
		if (p < s[i].start || p >= s[i].end)
			continue;
		if (!s[i].ram)
			return 0;
		in_ram = 1;
	}
	return in_ram;
}

int duet__memmap_free(const struct hvm_memmap_table_entry *map, size_t n,
		      uint64_t lo, uint64_t hi, struct duet__pfn_range *out,
		      size_t max)
{
	struct span spans[DUET__MEMMAP_MAX];
	uint64_t cuts[2 * DUET__MEMMAP_MAX + 2];
	size_t ns = 0, nc = 0, nout = 0;

	if (n > DUET__MEMMAP_MAX)
		return -E2BIG;
	if (lo >= hi)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct hvm_memmap_table_entry *e = &map[i];
		int ram = e->type == XEN_HVM_MEMMAP_TYPE_RAM;
		uint64_t s, t;
		if (e->size == 0)
			continue;
		s = ram ? pages_up(e->addr) : pages_down(e->addr);
		t = ram ? pages_down(entry_end(e)) : pages_up(entry_end(e));
		s = clamp(s, lo, hi);
		t = clamp(t, lo, hi);
		if (s >= t)
			continue;
		spans[ns++] = (struct span){s, t, ram};
		cuts[nc++] = s;
		cuts[nc++] = t;
	}
	cuts[nc++] = lo;
	cuts[nc++] = hi;
	sort_unique(cuts, &nc);
	for (size_t i = 0; i + 1 < nc; i++) {
		if (!page_free(spans, ns, cuts[i]))
			continue;
		if (nout > 0 && out[nout - 1].end == cuts[i])
			out[nout - 1].end = cuts[i + 1];
		else if (nout < max)
			out[nout++] =
			    (struct duet__pfn_range){cuts[i], cuts[i + 1]};
		else
			break;
	}
	return (int)nout;
}
