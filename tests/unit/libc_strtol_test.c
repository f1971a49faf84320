/* The subset's strto* and ato* against glibc's: value, errno (including
 * errno left alone) and where *endptr points (including left alone), on
 * hand-picked edge cases and on random strings in random bases. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "libc_host.h"

/* Neither errno nor *endptr is meant to change on some paths, so both start
 * out as values no call would store. */
#define ERRNO_SENTINEL 12345

static char endptr_sentinel;

static int valid_base(int base)
{
	return base == 0 || (base >= 2 && base <= 36);
}

/* With a bad base glibc leaves *endptr alone, but under ASan its strtol
 * interceptor stores garbage there; so in that case the subset is held to
 * glibc's own behaviour rather than to what the test observes. */
#define COMPARE_ONE(fn, fmt, s, base)                                          \
	do {                                                                   \
		char *wend = &endptr_sentinel, *gend = &endptr_sentinel;       \
		int werr, gerr;                                                \
		errno = ERRNO_SENTINEL;                                        \
		duetlibc_errno = ERRNO_SENTINEL;                               \
		__typeof__(fn(s, NULL, 10)) want = fn(s, &wend, base);         \
		werr = errno;                                                  \
		__typeof__(want) got = duetlibc_##fn(s, &gend, base);          \
		gerr = duetlibc_errno;                                         \
		if (!valid_base(base))                                         \
			wend = &endptr_sentinel;                               \
		LIBC_CHECK(                                                    \
		    want == got && werr == gerr && wend == gend,               \
		    #fn "(\"%s\", %d): glibc " fmt " errno %d end %td, "       \
			"subset " fmt " errno %d end %td",                     \
		    s, base, want, werr, wend - s, got, gerr, gend - s);       \
	} while (0)

static void compare_all(const char *s, int base)
{
	COMPARE_ONE(strtol, "%ld", s, base);
	COMPARE_ONE(strtoul, "%lu", s, base);
	COMPARE_ONE(strtoll, "%lld", s, base);
	COMPARE_ONE(strtoull, "%llu", s, base);
}

Test(libc_strtol, edge_cases_in_every_base)
{
	static const char *const inputs[] = {
	    "",
	    " ",
	    "+",
	    "-",
	    "0",
	    "-0",
	    "+0",
	    "  \t\n\v\f\r42",
	    "42abc",
	    "0x",
	    "0X",
	    "0x1A",
	    "0XfF",
	    " -0x",
	    "-0xg",
	    "0x0x1",
	    "00x1",
	    "010",
	    "09",
	    "0b101",
	    "z",
	    "Z",
	    "zz",
	    "-zZ",
	    "1_000",
	    "+-1",
	    "- 1",
	    "9223372036854775807",
	    "9223372036854775808",
	    "-9223372036854775808",
	    "-9223372036854775809",
	    "18446744073709551615",
	    "18446744073709551616",
	    "-18446744073709551615",
	    "-18446744073709551616",
	    "99999999999999999999999999999999zz",
	    "0xffffffffffffffff",
	    "0x10000000000000000",
	    "-0x8000000000000000",
	    "777777777777777777777",
	    "1777777777777777777777",
	    "2000000000000000000000",
	    "11111111111111111111111111111111111111111111111111111111111111111",
	    "3w5e11264sgsf",
	    "3w5e11264sgsg",
	    "\xe9",
	    "1\xe9",
	};
	static const int bases[] = {0, 2, 8, 10, 16, 36, 1, 37, -1, 3, 35};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
			compare_all(inputs[i], bases[b]);
}

Test(libc_strtol, hex_prefix_alone_ends_after_the_zero)
{
	static const char s[] = "0x";
	char *end;

	cr_assert_eq(duetlibc_strtoul(s, &end, 16), 0);
	cr_assert_eq(end, s + 1);
	cr_assert_eq(duetlibc_strtol(s, &end, 0), 0);
	cr_assert_eq(end, s + 1);
}

Test(libc_strtol, overflow_saturates_with_erange)
{
	char *end;

	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_strtol("99999999999999999999x", &end, 10),
		     LONG_MAX);
	cr_assert_eq(duetlibc_errno, ERANGE);
	cr_assert_eq(*end, 'x', "all digits are consumed");
	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_strtol("-99999999999999999999", NULL, 10),
		     LONG_MIN);
	cr_assert_eq(duetlibc_errno, ERANGE);
}

Test(libc_strtol, bad_base_is_einval_and_leaves_endptr)
{
	char *end = &endptr_sentinel;

	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_strtol("12", &end, 1), 0);
	cr_assert_eq(duetlibc_errno, EINVAL);
	cr_assert_eq(end, &endptr_sentinel);
	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_strtoull("12", &end, 37), 0);
	cr_assert_eq(duetlibc_errno, EINVAL);
}

Test(libc_strtol, ato_functions_match_glibc)
{
	static const char *const inputs[] = {
	    "",
	    "  -17xyz",
	    "+8",
	    "2147483647",
	    "2147483648",
	    "-2147483649",
	    "9223372036854775807",
	    "99999999999999999999",
	    "0x10",
	    "010",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		cr_assert_eq(duetlibc_atoi(inputs[i]), atoi(inputs[i]), "%s",
			     inputs[i]);
		cr_assert_eq(duetlibc_atol(inputs[i]), atol(inputs[i]));
		cr_assert_eq(duetlibc_atoll(inputs[i]), atoll(inputs[i]));
	}
}

/* Random strings over the characters that matter to the parser, then
 * random numbers near the overflow boundaries written in random bases. */
Test(libc_strtol, random_inputs_match_glibc)
{
	static const char alphabet[] = " \t+-0000111789aAfFgGxXzZ";
	uint64_t seed = 99;
	char s[40];

	for (int iter = 0; iter < 100000; iter++) {
		size_t len = libc_test_rand(&seed) % 30;
		int base = (int)(libc_test_rand(&seed) % 38);

		for (size_t k = 0; k < len; k++)
			s[k] = alphabet[libc_test_rand(&seed) %
					(sizeof(alphabet) - 1)];
		s[len] = '\0';
		compare_all(s, base == 1 ? 0 : base);
	}
	for (int iter = 0; iter < 100000; iter++) {
		static const char digits[] =
		    "0123456789abcdefghijklmnopqrstuvwxyz";
		int base = 2 + (int)(libc_test_rand(&seed) % 35);
		uint64_t v =
		    libc_test_rand(&seed) >> (libc_test_rand(&seed) % 4);
		char tmp[80];
		size_t n = 0, len = 0;

		do {
			tmp[n++] = digits[v % (unsigned)base];
			v /= (unsigned)base;
		} while (v != 0);
		if (libc_test_rand(&seed) % 3 == 0)
			s[len++] = '-';
		if (libc_test_rand(&seed) % 4 ==
		    0) /* sometimes one digit more */
			tmp[n++] =
			    digits[libc_test_rand(&seed) % (unsigned)base];
		while (n > 0 && len < sizeof(s) - 1)
			s[len++] = tmp[--n];
		s[len] = '\0';
		compare_all(s, libc_test_rand(&seed) % 5 == 0 ? 0 : base);
	}
}
