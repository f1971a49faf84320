/* The subset's heap on the fake platform arena of libc_support.c. Criterion
 * runs each test in a fresh process, so each starts with an empty heap; the
 * limits are still set relative to what the arena has already granted. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "heap.h"
#include "libc_host.h"

static struct duet__heap_stats stats(void)
{
	struct duet__heap_stats st;

	duet__heap_stats(&st);
	return st;
}

static void fill(unsigned char *p, size_t n, unsigned tag)
{
	for (size_t k = 0; k < n; k++)
		p[k] = (unsigned char)(tag * 31 + k);
}

static int intact(const unsigned char *p, size_t n, unsigned tag)
{
	for (size_t k = 0; k < n; k++)
		if (p[k] != (unsigned char)(tag * 31 + k))
			return 0;
	return 1;
}

struct slot {
	unsigned char *p;
	size_t n;
	unsigned tag;
};

static int compare_slots(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return (x->p > y->p) - (x->p < y->p);
}

static void assert_disjoint(const struct slot *slots, size_t count)
{
	static struct slot live[1024];
	size_t n = 0;

	for (size_t i = 0; i < count; i++)
		if (slots[i].p != NULL)
			live[n++] = slots[i];
	qsort(live, n, sizeof(live[0]), compare_slots);
	for (size_t i = 1; i < n; i++)
		cr_assert_geq(live[i].p, live[i - 1].p + live[i - 1].n,
			      "blocks overlap");
}

static size_t random_size(uint64_t *seed)
{
	unsigned r = (unsigned)(libc_test_rand(seed) % 100);

	if (r < 70)
		return libc_test_rand(seed) % 129;
	if (r < 95)
		return libc_test_rand(seed) % 4097;
	return libc_test_rand(seed) % 65537;
}

/* Random malloc, calloc, aligned_alloc, realloc and free, verifying every
 * block's contents before it changes hands. */
static void churn(uint64_t seed, int iterations, struct slot *slots,
		  size_t count)
{
	unsigned next_tag = 1;

	for (int iter = 0; iter < iterations; iter++) {
		struct slot *s = &slots[libc_test_rand(&seed) % count];
		size_t n = random_size(&seed);
		unsigned op = (unsigned)(libc_test_rand(&seed) % 4);

		if (s->p != NULL) {
			LIBC_CHECK(intact(s->p, s->n, s->tag),
				   "block %u damaged", s->tag);
			if (op < 2) {
				duetlibc_free(s->p);
				s->p = NULL;
				continue;
			}
			s->p = duetlibc_realloc(s->p, n);
			LIBC_CHECK(
			    n == 0 || intact(s->p, n < s->n ? n : s->n, s->tag),
			    "realloc lost contents");
		} else if (op == 0) {
			s->p = duetlibc_calloc(1, n);
			for (size_t k = 0; k < n; k++)
				LIBC_CHECK(s->p[k] == 0, "calloc not zeroed");
		} else if (op == 1) {
			size_t align = (size_t)32
				       << (libc_test_rand(&seed) % 8);

			s->p = duetlibc_aligned_alloc(align, n);
			LIBC_CHECK((uintptr_t)s->p % align == 0,
				   "aligned_alloc(%zu)", align);
		} else {
			s->p = duetlibc_malloc(n);
		}
		LIBC_CHECK(s->p != NULL || n == 0, "allocation of %zu failed",
			   n);
		LIBC_CHECK((uintptr_t)s->p % 16 == 0, "payload misaligned");
		s->n = s->p != NULL ? n : 0;
		s->tag = next_tag++;
		if (s->p != NULL)
			fill(s->p, s->n, s->tag);
		if (iter % 2000 == 0) {
			cr_assert_eq(duet__heap_check(), 0, "iteration %d",
				     iter);
			assert_disjoint(slots, count);
		}
	}
}

static void free_all(struct slot *slots, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		cr_assert(slots[i].p == NULL ||
			  intact(slots[i].p, slots[i].n, slots[i].tag));
		duetlibc_free(slots[i].p);
		slots[i].p = NULL;
	}
}

Test(libc_heap, random_churn_never_overlaps_and_coalesces_back)
{
	static struct slot slots[512];
	struct duet__heap_stats st;

	churn(7, 200000, slots, 512);
	free_all(slots, 512);
	cr_assert_eq(duet__heap_check(), 0);
	st = stats();
	cr_assert_eq(st.used_bytes, 0);
	cr_assert_eq(st.free_blocks, 1, "one contiguous region, one block");
	cr_assert_eq(st.heap_bytes, libc_test_heap_granted());
	cr_assert_gt(st.peak_used_bytes, 0);
}

Test(libc_heap, separate_regions_when_the_platform_leaves_gaps)
{
	static struct slot slots[256];
	struct duet__heap_stats st;

	libc_test_heap_gaps(1);
	churn(8, 50000, slots, 256);
	cr_assert_eq(duet__heap_check(), 0);
	free_all(slots, 256);
	cr_assert_eq(duet__heap_check(), 0);
	st = stats();
	cr_assert_eq(st.used_bytes, 0);
	cr_assert_gt(st.free_blocks, 1, "gaps must keep regions apart");
	/* Each region's descriptor and end marker are its only overhead. */
	cr_assert_eq(st.heap_bytes - st.free_bytes, 32 * st.free_blocks);
}

Test(libc_heap, payloads_are_16_byte_aligned_and_distinct)
{
	void *prev = NULL;

	for (size_t n = 0; n < 2000; n++) {
		void *p = duetlibc_malloc(n);

		cr_assert(p != NULL && (uintptr_t)p % 16 == 0, "malloc(%zu)",
			  n);
		cr_assert_neq(p, prev);
		prev = p;
	}
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, aligned_alloc_and_posix_memalign_honour_alignment)
{
	for (size_t align = 1; align <= 65536; align *= 2)
		for (size_t n = 1; n < 10000; n = n * 7 + 3) {
			void *p = duetlibc_aligned_alloc(align, n), *q = NULL;

			cr_assert(p != NULL && (uintptr_t)p % align == 0);
			memset(p, 0xcc, n);
			if (align >= sizeof(void *)) {
				cr_assert_eq(
				    duetlibc_posix_memalign(&q, align, n), 0);
				cr_assert_eq((uintptr_t)q % align, 0);
				memset(q, 0xdd, n);
			}
			cr_assert_eq(duet__heap_check(), 0);
			duetlibc_free(p);
			duetlibc_free(q);
		}
	cr_assert_eq(stats().used_bytes, 0);
}

Test(libc_heap, bad_alignments_are_einval)
{
	void *p = &p;

	duetlibc_errno = 0;
	cr_assert_null(duetlibc_aligned_alloc(0, 16));
	cr_assert_eq(duetlibc_errno, EINVAL);
	cr_assert_null(duetlibc_aligned_alloc(48, 16));
	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_posix_memalign(&p, 4, 16), EINVAL);
	cr_assert_eq(duetlibc_posix_memalign(&p, 24, 16), EINVAL);
	cr_assert_eq(duetlibc_posix_memalign(&p, 0, 16), EINVAL);
	cr_assert_eq(duetlibc_errno, 0, "posix_memalign leaves errno alone");
	cr_assert_eq(p, &p, "*memptr untouched on failure");
}

Test(libc_heap, impossible_sizes_are_enomem)
{
	char *p = duetlibc_malloc(10);

	strcpy(p, "kept");
	duetlibc_errno = 0;
	cr_assert_null(duetlibc_calloc(SIZE_MAX / 2 + 1, 2));
	cr_assert_eq(duetlibc_errno, ENOMEM);
	cr_assert_null(duetlibc_calloc(SIZE_MAX, SIZE_MAX));
	duetlibc_errno = 0;
	cr_assert_null(duetlibc_malloc(SIZE_MAX));
	cr_assert_eq(duetlibc_errno, ENOMEM);
	cr_assert_null(duetlibc_malloc(PTRDIFF_MAX));
	cr_assert_null(duetlibc_aligned_alloc((size_t)1 << 62, 1));
	duetlibc_errno = 0;
	cr_assert_null(duetlibc_realloc(p, SIZE_MAX - 8));
	cr_assert_eq(duetlibc_errno, ENOMEM);
	cr_assert_str_eq(p, "kept", "a failed realloc keeps the block");
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, calloc_zeroes_reused_memory)
{
	unsigned char *p = duetlibc_malloc(5000), *q;

	memset(p, 0xff, 5000);
	duetlibc_free(p);
	q = duetlibc_calloc(50, 100);
	cr_assert_eq(q, p, "expected the freed block back");
	for (size_t k = 0; k < 5000; k++)
		cr_assert_eq(q[k], 0);
}

Test(libc_heap, exhaustion_returns_null_and_recovers_after_frees)
{
	static void *blocks[2000];
	size_t n = 0;
	void *big;

	libc_test_heap_limit(libc_test_heap_granted() + (1u << 20));
	duetlibc_errno = 0;
	while ((blocks[n] = duetlibc_malloc(1000)) != NULL)
		cr_assert_lt(++n, 2000, "limit not enforced");
	cr_assert_eq(duetlibc_errno, ENOMEM);
	cr_assert_gt(n, 900);
	cr_assert_eq(duet__heap_check(), 0);
	cr_assert_null(duetlibc_malloc(1000), "still full");
	while (n > 0)
		duetlibc_free(blocks[--n]);
	big = duetlibc_malloc(1000 * 1000);
	cr_assert_not_null(big, "freed blocks must merge into one");
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, fragmentation_then_coalescing_fits_a_big_block)
{
	static void *blocks[300];
	size_t n = 0;

	libc_test_heap_limit(libc_test_heap_granted() + (1u << 20));
	while (n < 300 && (blocks[n] = duetlibc_malloc(4000)) != NULL)
		n++;
	cr_assert_gt(n, 200);
	for (size_t i = 0; i < n; i += 2)
		duetlibc_free(blocks[i]);
	cr_assert_gt(stats().free_bytes, 400000);
	cr_assert_lt(stats().largest_free, 64000);
	cr_assert_null(duetlibc_malloc(64000), "no hole is that big yet");
	for (size_t i = 1; i < n; i += 2)
		duetlibc_free(blocks[i]);
	cr_assert_eq(stats().free_blocks, 1);
	cr_assert_not_null(duetlibc_malloc(800000));
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, grows_by_a_step_then_by_exactly_what_is_left)
{
	libc_test_heap_limit(libc_test_heap_granted() + 8192);
	cr_assert_not_null(duetlibc_malloc(100),
			   "a small request must not need a whole step");
	cr_assert_eq(stats().heap_bytes, 4096);
}

Test(libc_heap, realloc_corner_cases)
{
	struct duet__heap_stats before = stats();
	char *p = duetlibc_realloc(NULL, 10), *q;

	cr_assert_not_null(p);
	strcpy(p, "abcdefghi");
	q = duetlibc_realloc(p, 5000);
	cr_assert_str_eq(q, "abcdefghi");
	p = duetlibc_realloc(q, 4);
	cr_assert_eq(p, q, "shrinking stays in place");
	cr_assert_arr_eq(p, "abcd", 4);
	cr_assert_null(duetlibc_realloc(p, 0), "realloc(p, 0) frees, as glibc");
	cr_assert_eq(stats().used_bytes, before.used_bytes);
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, realloc_grows_into_a_free_neighbour_in_place)
{
	char *a = duetlibc_malloc(100), *b = duetlibc_malloc(100);
	char *guard = duetlibc_malloc(100);

	memset(a, 'a', 100);
	duetlibc_free(b);
	cr_assert_eq(duetlibc_realloc(a, 200), a);
	for (int k = 0; k < 100; k++)
		cr_assert_eq(a[k], 'a');
	duetlibc_free(a);
	duetlibc_free(guard);
	cr_assert_eq(duet__heap_check(), 0);
}

Test(libc_heap, stats_track_use_and_peak)
{
	struct duet__heap_stats s0 = stats(), s1, s2;
	void *p = duetlibc_malloc(1000);

	s1 = stats();
	cr_assert_eq(s1.used_bytes - s0.used_bytes, 1024, "1000 + header");
	cr_assert_geq(s1.peak_used_bytes, s1.used_bytes);
	cr_assert_eq(s1.heap_bytes - s1.used_bytes - s1.free_bytes, 32);
	cr_assert_geq(s1.largest_free, s1.free_bytes - 16);
	duetlibc_free(p);
	s2 = stats();
	cr_assert_eq(s2.used_bytes, s0.used_bytes);
	cr_assert_eq(s2.peak_used_bytes, s1.peak_used_bytes);
}

Test(libc_heap, heap_check_detects_an_overrun)
{
	unsigned char *p = duetlibc_malloc(24);

	cr_assert_not_null(duetlibc_malloc(24));
	cr_assert_eq(duet__heap_check(), 0);
	memset(p, 0xff, 32 + 16); /* the payload, then the next header */
	cr_assert_eq(duet__heap_check(), -EFAULT);
}

Test(libc_heap, double_free_stops, .signal = SIGABRT)
{
	void *p = duetlibc_malloc(64);

	duetlibc_free(p);
	duetlibc_free(p);
}

Test(libc_heap, free_of_an_interior_pointer_stops, .signal = SIGABRT)
{
	unsigned char *p = duetlibc_calloc(1, 64);

	duetlibc_free(p + 32);
}
