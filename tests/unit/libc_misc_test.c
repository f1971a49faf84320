/* ctype, abs, qsort, bsearch and the header constants of the subset against
 * glibc. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "libc_host.h"

Test(libc_misc, ctype_matches_glibc_c_locale_for_eof_and_every_byte)
{
	static const struct {
		const char *name;
		int (*want)(int);
		int (*got)(int);
	} classes[] = {
	    {"isalnum", isalnum, duetlibc_isalnum},
	    {"isalpha", isalpha, duetlibc_isalpha},
	    {"isblank", isblank, duetlibc_isblank},
	    {"iscntrl", iscntrl, duetlibc_iscntrl},
	    {"isdigit", isdigit, duetlibc_isdigit},
	    {"isgraph", isgraph, duetlibc_isgraph},
	    {"islower", islower, duetlibc_islower},
	    {"isprint", isprint, duetlibc_isprint},
	    {"ispunct", ispunct, duetlibc_ispunct},
	    {"isspace", isspace, duetlibc_isspace},
	    {"isupper", isupper, duetlibc_isupper},
	    {"isxdigit", isxdigit, duetlibc_isxdigit},
	};

	for (int c = EOF; c <= UCHAR_MAX; c++) {
		for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]);
		     k++)
			cr_assert_eq(!classes[k].got(c), !classes[k].want(c),
				     "%s(%d)", classes[k].name, c);
		cr_assert_eq(duetlibc_tolower(c), tolower(c), "tolower(%d)", c);
		cr_assert_eq(duetlibc_toupper(c), toupper(c), "toupper(%d)", c);
	}
}

Test(libc_misc, abs_family)
{
	static const long long values[] = {
	    0, 1, -1, INT_MAX, -INT_MAX, LLONG_MAX, -LLONG_MAX, 12345, -12345};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int v = (int)values[i];

		cr_assert_eq(duetlibc_abs(v), abs(v));
		cr_assert_eq(duetlibc_labs((long)values[i]),
			     labs((long)values[i]));
		cr_assert_eq(duetlibc_llabs(values[i]), llabs(values[i]));
	}
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int compare_bytes(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

struct record {
	uint32_t key;
	uint32_t id;
	char pad[16]; /* an element size that is not a power of two */
};

static int compare_records(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

Test(libc_misc, qsort_sorts_ints_and_bytes_like_glibc)
{
	uint64_t seed = 11;

	for (size_t n = 0; n < 300; n++) {
		int want[300], got[300];
		unsigned char bw[300], bg[300];
		int range = (int)(libc_test_rand(&seed) % 3 == 0 ? 4 : 1000000);

		for (size_t i = 0; i < n; i++) {
			want[i] = got[i] =
			    (int)(libc_test_rand(&seed) % (unsigned)range) -
			    range / 2;
			bw[i] = bg[i] = (unsigned char)libc_test_rand(&seed);
		}
		qsort(want, n, sizeof(int), compare_ints);
		duetlibc_qsort(got, n, sizeof(int), compare_ints);
		cr_assert_arr_eq(want, got, n * sizeof(int), "n=%zu", n);
		qsort(bw, n, 1, compare_bytes);
		duetlibc_qsort(bg, n, 1, compare_bytes);
		cr_assert_arr_eq(bw, bg, n, "n=%zu", n);
	}
	duetlibc_qsort(NULL, 0, sizeof(int), compare_ints);
}

/* qsort is not stable, so records with equal keys are checked only for
 * order by key and for each record surviving exactly once. */
Test(libc_misc, qsort_records_sorted_and_a_permutation)
{
	enum { N = 500 };
	static struct record recs[N];
	static unsigned char seen[N];
	uint64_t seed = 12;

	for (size_t i = 0; i < N; i++) {
		recs[i].key = (uint32_t)(libc_test_rand(&seed) % 50);
		recs[i].id = (uint32_t)i;
		memset(recs[i].pad, (int)i, sizeof(recs[i].pad));
	}
	duetlibc_qsort(recs, N, sizeof(recs[0]), compare_records);
	for (size_t i = 0; i < N; i++) {
		if (i > 0)
			cr_assert_leq(recs[i - 1].key, recs[i].key);
		cr_assert_eq(seen[recs[i].id]++, 0, "id %u twice", recs[i].id);
		cr_assert_eq(recs[i].pad[15], (char)recs[i].id,
			     "record torn apart");
	}
}

Test(libc_misc, bsearch_finds_what_glibc_finds)
{
	int sorted[200];

	for (int i = 0; i < 200; i++)
		sorted[i] = 3 * i;
	for (size_t n = 0; n <= 200; n += n < 10 ? 1 : 17)
		for (int key = -2; key < 3 * 200 + 2; key++)
			LIBC_CHECK(duetlibc_bsearch(&key, sorted, n,
						    sizeof(int),
						    compare_ints) ==
				       bsearch(&key, sorted, n, sizeof(int),
					       compare_ints),
				   "bsearch %d in %zu", key, n);
}

Test(libc_misc, bsearch_with_duplicates_returns_an_equal_element)
{
	int dup[] = {1, 2, 2, 2, 2, 2, 3, 7, 7};
	int key = 2, *hit;

	hit = duetlibc_bsearch(&key, dup, 9, sizeof(int), compare_ints);
	cr_assert(hit != NULL && *hit == 2);
	key = 7;
	hit = duetlibc_bsearch(&key, dup, 9, sizeof(int), compare_ints);
	cr_assert(hit != NULL && *hit == 7);
}

Test(libc_misc, errno_values_are_linux)
{
#define NAME(e)	 #e
#define VALUE(e) e
	static const char *const names[] = {LIBC_ERRNO_NAMES(NAME)};
	static const int want[] = {LIBC_ERRNO_NAMES(VALUE)};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(duetlibc_errno_values[i], want[i], "%s", names[i]);
}

Test(libc_misc, pri_macros_match_glibc)
{
#define PRI_NAME(c, width)  "PRI" #c #width
#define PRI_VALUE(c, width) PRI##c##width
	static const char *const names[] = {LIBC_PRI_NAMES(PRI_NAME)};
	static const char *const want[] = {LIBC_PRI_NAMES(PRI_VALUE)};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_str_eq(duetlibc_pri_values[i], want[i], "%s",
				 names[i]);
}
