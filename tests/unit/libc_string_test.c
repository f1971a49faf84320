/* The subset's string.h against glibc's: every alignment and length up to a
 * few words for the copies, random inputs over small alphabets (so that
 * matches and near-matches are common) for the searches and comparisons. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "libc_host.h"

#define BUF 192

static void random_bytes(uint64_t *seed, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)libc_test_rand(seed);
}

/* A NUL-terminated string of len bytes drawn from alphabet. */
static void random_string(uint64_t *seed, char *buf, size_t len,
			  const char *alphabet)
{
	size_t n = strlen(alphabet);

	for (size_t i = 0; i < len; i++)
		buf[i] = alphabet[libc_test_rand(seed) % n];
	buf[len] = '\0';
}

Test(libc_string, memcpy_all_alignments_and_lengths)
{
	unsigned char src[BUF], want[BUF], got[BUF];
	uint64_t seed = 1;

	random_bytes(&seed, src, sizeof(src));
	for (size_t so = 0; so < 16; so++)
		for (size_t d = 0; d < 16; d++)
			for (size_t n = 0; n < 100; n++) {
				memset(want, 0xa5, sizeof(want));
				memset(got, 0xa5, sizeof(got));
				memcpy(want + d, src + so, n);
				LIBC_CHECK(duetlibc_memcpy(got + d, src + so,
							   n) == got + d,
					   "memcpy return value");
				LIBC_CHECK(memcmp(want, got, sizeof(got)) == 0,
					   "memcpy src+%zu dst+%zu n=%zu", so,
					   d, n);
			}
}

Test(libc_string, memmove_overlaps_both_directions)
{
	unsigned char orig[BUF], want[BUF], got[BUF];
	uint64_t seed = 2;

	random_bytes(&seed, orig, sizeof(orig));
	for (size_t s = 0; s < 40; s++)
		for (size_t d = 0; d < 40; d++)
			for (size_t n = 0; n < 120; n += n < 20 ? 1 : 7) {
				memcpy(want, orig, sizeof(orig));
				memcpy(got, orig, sizeof(orig));
				memmove(want + d, want + s, n);
				LIBC_CHECK(duetlibc_memmove(got + d, got + s,
							    n) == got + d,
					   "memmove return value");
				LIBC_CHECK(memcmp(want, got, sizeof(got)) == 0,
					   "memmove src+%zu dst+%zu n=%zu", s,
					   d, n);
			}
}

Test(libc_string, memset_alignments_lengths_and_values)
{
	static const int values[] = {0, 0xff, 0x5a, 0x1ab, -1, -128};
	unsigned char want[BUF], got[BUF];

	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
		for (size_t d = 0; d < 16; d++)
			for (size_t n = 0; n < 100; n++) {
				memset(want, 0x33, sizeof(want));
				memset(got, 0x33, sizeof(got));
				memset(want + d, values[v], n);
				LIBC_CHECK(duetlibc_memset(got + d, values[v],
							   n) == got + d,
					   "memset return value");
				LIBC_CHECK(memcmp(want, got, sizeof(got)) == 0,
					   "memset %d at +%zu n=%zu", values[v],
					   d, n);
			}
}

Test(libc_string, memcmp_sign_treats_bytes_as_unsigned)
{
	unsigned char a[64], b[64];
	uint64_t seed = 3;

	for (int i = 0; i < 20000; i++) {
		size_t n = libc_test_rand(&seed) % sizeof(a);

		random_bytes(&seed, a, sizeof(a));
		memcpy(b, a, sizeof(b));
		if (n > 0 && (i & 1))
			b[libc_test_rand(&seed) % n] =
			    (unsigned char)libc_test_rand(&seed);
		LIBC_CHECK(libc_test_sign(duetlibc_memcmp(a, b, n)) ==
			       libc_test_sign(memcmp(a, b, n)),
			   "memcmp n=%zu", n);
	}
	a[0] = 0x80;
	b[0] = 0x01;
	cr_assert_gt(duetlibc_memcmp(a, b, 1), 0);
}

Test(libc_string, memchr_memrchr_memmem_find_what_glibc_finds)
{
	unsigned char hay[80], needle[6];
	uint64_t seed = 4;

	for (int i = 0; i < 20000; i++) {
		size_t hlen = libc_test_rand(&seed) % sizeof(hay);
		size_t nlen = libc_test_rand(&seed) % sizeof(needle);
		int c = (int)(libc_test_rand(&seed) % 4) + (i % 3 ? 0 : 256);

		for (size_t k = 0; k < hlen; k++)
			hay[k] = (unsigned char)(libc_test_rand(&seed) % 3);
		for (size_t k = 0; k < nlen; k++)
			needle[k] = (unsigned char)(libc_test_rand(&seed) % 3);
		LIBC_CHECK(duetlibc_memchr(hay, c, hlen) ==
			       memchr(hay, c, hlen),
			   "memchr %d in %zu bytes", c, hlen);
		LIBC_CHECK(duetlibc_memrchr(hay, c, hlen) ==
			       memrchr(hay, c, hlen),
			   "memrchr %d in %zu bytes", c, hlen);
		LIBC_CHECK(duetlibc_memmem(hay, hlen, needle, nlen) ==
			       memmem(hay, hlen, needle, nlen),
			   "memmem %zu in %zu bytes", nlen, hlen);
	}
}

Test(libc_string, strlen_strnlen)
{
	char s[BUF];
	uint64_t seed = 5;

	for (size_t len = 0; len < 100; len++) {
		random_string(&seed, s, len, "abc\x80\xff");
		cr_assert_eq(duetlibc_strlen(s), len);
		for (size_t max = 0; max < len + 3; max++)
			LIBC_CHECK(duetlibc_strnlen(s, max) == strnlen(s, max),
				   "strnlen len=%zu max=%zu", len, max);
	}
}

Test(libc_string, comparisons_agree_in_sign)
{
	char a[24], b[24];
	uint64_t seed = 6;

	for (int i = 0; i < 50000; i++) {
		size_t n = libc_test_rand(&seed) % 24;

		random_string(&seed, a, libc_test_rand(&seed) % 20, "aAbB\xe9");
		random_string(&seed, b, libc_test_rand(&seed) % 20, "aAbB\xe9");
		if (i & 1) /* often a prefix of the other */
			memcpy(b, a, strlen(a) / 2);
		LIBC_CHECK(libc_test_sign(duetlibc_strcmp(a, b)) ==
			       libc_test_sign(strcmp(a, b)),
			   "strcmp \"%s\" \"%s\"", a, b);
		LIBC_CHECK(libc_test_sign(duetlibc_strncmp(a, b, n)) ==
			       libc_test_sign(strncmp(a, b, n)),
			   "strncmp \"%s\" \"%s\" %zu", a, b, n);
		LIBC_CHECK(libc_test_sign(duetlibc_strcasecmp(a, b)) ==
			       libc_test_sign(strcasecmp(a, b)),
			   "strcasecmp \"%s\" \"%s\"", a, b);
		LIBC_CHECK(libc_test_sign(duetlibc_strncasecmp(a, b, n)) ==
			       libc_test_sign(strncasecmp(a, b, n)),
			   "strncasecmp \"%s\" \"%s\" %zu", a, b, n);
	}
}

Test(libc_string, strchr_strrchr_including_terminator_and_high_bytes)
{
	static const int cs[] = {'a', 'b', 'z', 0, 0x100 + 'a', 0xe9, -23};
	char s[40];
	uint64_t seed = 7;

	for (int i = 0; i < 2000; i++) {
		random_string(&seed, s, libc_test_rand(&seed) % 30, "ab\xe9");
		for (size_t k = 0; k < sizeof(cs) / sizeof(cs[0]); k++) {
			LIBC_CHECK(duetlibc_strchr(s, cs[k]) ==
				       strchr(s, cs[k]),
				   "strchr \"%s\" %d", s, cs[k]);
			LIBC_CHECK(duetlibc_strrchr(s, cs[k]) ==
				       strrchr(s, cs[k]),
				   "strrchr \"%s\" %d", s, cs[k]);
		}
	}
}

Test(libc_string, strstr_strspn_strcspn)
{
	char hay[60], needle[6], set[5];
	uint64_t seed = 8;

	for (int i = 0; i < 30000; i++) {
		random_string(&seed, hay, libc_test_rand(&seed) % 50, "abc");
		random_string(&seed, needle, libc_test_rand(&seed) % 5, "abc");
		random_string(&seed, set, libc_test_rand(&seed) % 4, "abcd");
		LIBC_CHECK(duetlibc_strstr(hay, needle) == strstr(hay, needle),
			   "strstr \"%s\" \"%s\"", hay, needle);
		LIBC_CHECK(duetlibc_strspn(hay, set) == strspn(hay, set),
			   "strspn \"%s\" \"%s\"", hay, set);
		LIBC_CHECK(duetlibc_strcspn(hay, set) == strcspn(hay, set),
			   "strcspn \"%s\" \"%s\"", hay, set);
	}
}

Test(libc_string, strtok_r_tokens_and_saveptr_match_glibc)
{
	static const char *const inputs[] = {
	    "",
	    ",",
	    ",,,",
	    "a",
	    ",a,",
	    "GET /index.html HTTP/1.1",
	    "  a  b ,c,, d ",
	    "k=v; k2=v2;;k3",
	    "x,,y",
	};
	static const char *const delims[] = {",", " ,", "; =", "", " "};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		for (size_t d = 0; d < sizeof(delims) / sizeof(delims[0]);
		     d++) {
			char want[64] = {0}, got[64] = {0};
			char *ws, *gs, *wt, *gt;
			char *wp = want, *gp = got;

			strcpy(want, inputs[i]);
			strcpy(got, inputs[i]);
			do {
				wt = strtok_r(wp, delims[d], &ws);
				gt = duetlibc_strtok_r(gp, delims[d], &gs);
				wp = gp = NULL;
				cr_assert_eq(gt == NULL, wt == NULL,
					     "strtok_r \"%s\" by \"%s\"",
					     inputs[i], delims[d]);
				if (wt != NULL)
					cr_assert_eq(gt - got, wt - want);
				cr_assert_eq(gs - got, ws - want);
			} while (wt != NULL);
			cr_assert_arr_eq(want, got, sizeof(got));
		}
}

Test(libc_string, strcpy_strncpy_pad_and_truncate_like_glibc)
{
	char want[32], got[32];

	for (size_t len = 0; len < 12; len++) {
		char src[16];

		memset(src, 'q', len);
		src[len] = '\0';
		memset(want, 0x7e, sizeof(want));
		memset(got, 0x7e, sizeof(got));
		cr_assert_eq(duetlibc_strcpy(got, src), got);
		strcpy(want, src);
		cr_assert_arr_eq(want, got, sizeof(got));
		for (size_t n = 0; n < 20; n++) {
			memset(want, 0x7e, sizeof(want));
			memset(got, 0x7e, sizeof(got));
			cr_assert_eq(duetlibc_strncpy(got, src, n), got);
			strncpy(want, src, n);
			cr_assert_arr_eq(want, got, sizeof(got),
					 "len %zu n %zu", len, n);
		}
	}
}

Test(libc_string, strlcpy_truncates_terminates_and_returns_source_length)
{
	static const char src[] = "hello, world";
	char buf[32];

	for (size_t size = 0; size < sizeof(src) + 3; size++) {
		size_t copied = size == 0 ? 0 : size - 1 < 12 ? size - 1 : 12;

		memset(buf, 0x7e, sizeof(buf));
		cr_assert_eq(duetlibc_strlcpy(buf, src, size), 12);
		cr_assert_arr_eq(buf, src, copied);
		if (size > 0)
			cr_assert_eq(buf[copied], '\0');
		for (size_t k = size; k < sizeof(buf); k++)
			cr_assert_eq(buf[k], 0x7e, "byte %zu written", k);
	}
}

Test(libc_string, strdup_strndup_copy_into_fresh_heap_memory)
{
	char *a = duetlibc_strdup("duet");
	char *b = duetlibc_strndup("unikernel", 3);
	char *c = duetlibc_strndup("ab", 10);
	char *e = duetlibc_strdup("");

	cr_assert_str_eq(a, "duet");
	cr_assert_str_eq(b, "uni");
	cr_assert_str_eq(c, "ab");
	cr_assert_str_eq(e, "");
	cr_assert(a != b && b != c && c != e);
	duetlibc_free(a);
	duetlibc_free(b);
	duetlibc_free(c);
	duetlibc_free(e);
}
