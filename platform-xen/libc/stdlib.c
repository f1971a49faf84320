/* Absolute values, sorting and binary search.
 *
 * qsort is a heapsort: the worst case stays O(n log n) whatever the input
 * (an attacker choosing what a server sorts cannot make it quadratic), and
 * it needs no recursion and no memory beyond the array. The price is
 * stability, which the standard does not promise.
 */
#include <stdlib.h>

int abs(int j)
{
	return j < 0 ? -j : j;
}

long labs(long j)
{
	return j < 0 ? -j : j;
}

long long llabs(long long j)
{
	return j < 0 ? -j : j;
}

typedef int (*compar_fn)(const void *, const void *);

static void swap_elements(unsigned char *a, unsigned char *b, size_t size)
{
	while (size-- > 0) {
		unsigned char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Restores the max-heap order below root in the heap of the first n
 * elements, given that both subtrees of root are heaps already. */
static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
		      compar_fn compar)
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n &&
		    compar(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (compar(base + root * size, base + child * size) >= 0)
			return;
		swap_elements(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t nmemb, size_t size, compar_fn compar)
{
	unsigned char *b = base;

	if (nmemb < 2 || size == 0)
		return;
	for (size_t i = nmemb / 2; i-- > 0;)
		sift_down(b, i, nmemb, size, compar);
	for (size_t end = nmemb - 1; end > 0; end--) {
		swap_elements(b, b + end * size, size);
		sift_down(b, 0, end, size, compar);
	}
}

void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
	      compar_fn compar)
{
	const unsigned char *lo = base;

	while (nmemb > 0) {
		const unsigned char *mid = lo + nmemb / 2 * size;
		int c = compar(key, mid);

		if (c == 0)
			return (void *)mid;
		if (c > 0) {
			lo = mid + size;
			nmemb -= nmemb / 2 + 1;
		} else {
			nmemb /= 2;
		}
	}
	return NULL;
}
