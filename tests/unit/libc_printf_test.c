/* The subset's snprintf against glibc's: fixed edge cases, then random
 * formats. Every comparison also truncates the output at several sizes,
 * since the would-be length and the NUL placement are where bounded
 * formatters usually go wrong. Formats are passed as variables, so gcc's
 * format checks stay out of the way of the deliberately odd ones. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "libc_host.h"

#define OUT 256

/* Formats with both at a given size; buffers start as the same garbage. */
static void compare_at(size_t size, const char *fmt, va_list ap)
{
	char want[OUT + 8], got[OUT + 8];
	int wn, gn;
	va_list ap2;

	memset(want, 0x7e, sizeof(want));
	memset(got, 0x7e, sizeof(got));
	va_copy(ap2, ap);
	wn = vsnprintf(want, size, fmt, ap);
	gn = duetlibc_vsnprintf(got, size, fmt, ap2);
	va_end(ap2);
	LIBC_CHECK(wn == gn, "\"%s\" size %zu: glibc returns %d, subset %d",
		   fmt, size, wn, gn);
	LIBC_CHECK(memcmp(want, got, sizeof(got)) == 0,
		   "\"%s\" size %zu: glibc \"%.*s\", subset \"%.*s\"", fmt,
		   size, (int)size, want, (int)size, got);
}

/* Compares the full output, then truncations at 0, 1, the middle and one
 * short of the end. */
static void vcompare(const char *fmt, va_list ap)
{
	char full[OUT];
	size_t sizes[5];
	int n;
	va_list ap2;

	va_copy(ap2, ap);
	n = vsnprintf(full, sizeof(full), fmt, ap2);
	va_end(ap2);
	cr_assert(n >= 0 && n < OUT, "test format too long: \"%s\"", fmt);
	sizes[0] = OUT;
	sizes[1] = 0;
	sizes[2] = 1;
	sizes[3] = (size_t)n / 2 + 1;
	sizes[4] = (size_t)n;
	for (int i = 0; i < 5; i++) {
		va_copy(ap2, ap);
		compare_at(sizes[i], fmt, ap2);
		va_end(ap2);
	}
}

static void compare(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare(fmt, ap);
	va_end(ap);
}

/* Pins the subset's own output where it deliberately leaves glibc. */
static void expect(const char *want, const char *fmt, ...)
{
	char got[OUT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = duetlibc_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	cr_assert_str_eq(got, want, "format \"%s\"", fmt);
	cr_assert_eq(n, (int)strlen(want));
}

Test(libc_printf, integer_extremes)
{
	compare("%d %i", INT_MIN, INT_MAX);
	compare("%u %x %X %o", UINT_MAX, UINT_MAX, UINT_MAX, UINT_MAX);
	compare("%ld %lu", LONG_MIN, ULONG_MAX);
	compare("%lld %llu %llx %llo", LLONG_MIN, ULLONG_MAX, ULLONG_MAX,
		ULLONG_MAX);
	compare("%jd %ju %zd %zu %td", INTMAX_MIN, UINTMAX_MAX, (ssize_t)-1,
		SIZE_MAX, PTRDIFF_MIN);
	compare("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
	compare("%hhd %hd", -129, -32769);
	compare("%tu", (ptrdiff_t)-1);
}

Test(libc_printf, flags_precision_and_width_corner_cases)
{
	static const char *const fmts[] = {
	    "%#o",    "%#.0o",	"%.0d",	  "%.0x",   "%#x",    "%#.0x",
	    "%-08x|", "%+ d",	"% +d",	  "%+u",    "% u",    "%08.3d",
	    "%#08x",  "%+05d",	"%-+5d|", "% 05d",  "%#5.3o", "%#.3o",
	    "%#X",    "%5.0d|", "%-5d|",  "%#-8o|", "%.10d",  "%010d",
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		compare(fmts[i], 0);
		compare(fmts[i], 8);
		compare(fmts[i], -31);
		compare(fmts[i], INT_MIN);
	}
}

Test(libc_printf, strings_chars_and_star)
{
	compare("%5.3s|%-5.3s|%.0s|%s", "abcdef", "abcdef", "abc", "");
	compare("%05s|%05c|%-3c|%c", "ab", 'x', 'y', 'z');
	compare("%*d|%-*d|%*d", 6, 42, 6, 42, -6, 42);
	compare("%.*d|%.*d|%*.*s|", 4, 7, -1, 7, 8, 2, "hello");
	compare("%s|%.3s|%.6s|%10s|%-10s|", (char *)NULL, (char *)NULL,
		(char *)NULL, (char *)NULL, (char *)NULL);
	compare("a%cb", 0);
	compare("100%% %5%|%-5%|");
}

Test(libc_printf, pointers_like_glibc)
{
	compare("%p|%10p|%-10p|%010p|%.2p", NULL, NULL, NULL, NULL, NULL);
	compare("%p|%+p|% p|%020p|%.8p|%#p|%-20p|", (void *)0x1234,
		(void *)0x1234, (void *)0x1234, (void *)0x1234, (void *)0x1234,
		(void *)0x1234, (void *)0x1234);
	compare("%p", (void *)UINTPTR_MAX);
	expect("(nil)", "%p", NULL);
}

Test(libc_printf, truncation_returns_full_length)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(duetlibc_snprintf(buf, 4, "%s", "abcdef"), 6);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(buf[4], 'x');
	cr_assert_eq(duetlibc_snprintf(NULL, 0, "%d", 12345), 5);
	cr_assert_eq(duetlibc_snprintf(buf, 0, "%d", 12345), 5);
	cr_assert_eq(buf[0], 'a', "size 0 must not write");
	cr_assert_eq(duetlibc_snprintf(buf, 1, "%d", 12345), 5);
	cr_assert_eq(buf[0], '\0');
}

Test(libc_printf, unsupported_directives_are_copied_as_written)
{
	int n = 3;

	expect("%f %e %g %a", "%f %e %g %a");
	expect("x%Lfy", "x%Lfy");
	expect("%n", "%n", &n);
	expect("%lc %ls|7", "%lc %ls|%d", 7);
	expect("%Ld %qd|%1$d|%'d", "%Ld %qd|%1$d|%'d", 1, 2, 3, 4);
	expect("%-5y", "%-5y");
	expect("abc%", "abc%");
	expect("%5", "%5");
	cr_assert_eq(n, 3, "%%n must not store");
}

Test(libc_printf, huge_output_fails_with_eoverflow)
{
	duetlibc_errno = 0;
	cr_assert_eq(duetlibc_snprintf(NULL, 0, "%*d%*d", INT_MAX, 1, 10, 2),
		     -1);
	cr_assert_eq(duetlibc_errno, EOVERFLOW);
}

/* Random formats of up to four directives. All arguments travel as 64-bit
 * integers: on x86_64 every integer and pointer argument fills an 8-byte
 * slot, and both formatters read the same slots, so narrower conversions see
 * the same truncated value on both sides. */
Test(libc_printf, random_formats_match_glibc)
{
	static const char *const lengths[] = {"",   "hh", "h", "l",
					      "ll", "z",  "j", "t"};
	static const char convs[] = "diouxXcsp%";
	static const char *const strs[] = {"", "a", "hello world", "\xe9t\xe9"};
	uint64_t seed = 42;

	for (int iter = 0; iter < 20000; iter++) {
		char fmt[128];
		uint64_t args[12];
		size_t len = 0, nargs = 0;
		int ndir = 1 + (int)(libc_test_rand(&seed) % 4);

		for (int d = 0; d < ndir; d++) {
			char conv = convs[libc_test_rand(&seed) % 10];
			int star = conv != '%';

			if (libc_test_rand(&seed) % 2)
				fmt[len++] = "ab:-"[libc_test_rand(&seed) % 4];
			fmt[len++] = '%';
			for (int f = (int)(libc_test_rand(&seed) % 4); f > 0;
			     f--)
				fmt[len++] = "-+ #0"[libc_test_rand(&seed) % 5];
			switch (libc_test_rand(&seed) % 3) {
			case 1:
				len += (size_t)sprintf(
				    fmt + len, "%d",
				    (int)(libc_test_rand(&seed) % 25));
				break;
			case 2:
				if (!star)
					break;
				fmt[len++] = '*';
				args[nargs++] =
				    (uint64_t)(int)(libc_test_rand(&seed) %
						    61) -
				    30;
				break;
			}
			switch (libc_test_rand(&seed) % 3) {
			case 1:
				len += (size_t)sprintf(
				    fmt + len, ".%d",
				    (int)(libc_test_rand(&seed) % 25));
				break;
			case 2:
				if (!star)
					break;
				len += (size_t)sprintf(fmt + len, ".*");
				args[nargs++] =
				    (uint64_t)(int)(libc_test_rand(&seed) %
						    31) -
				    5;
				break;
			}
			if (strchr("diouxX", conv))
				len += (size_t)sprintf(
				    fmt + len, "%s",
				    lengths[libc_test_rand(&seed) % 8]);
			fmt[len++] = conv;
			if (conv == 's')
				args[nargs++] =
				    (uintptr_t)strs[libc_test_rand(&seed) % 4];
			else if (conv == 'p' && libc_test_rand(&seed) % 4 == 0)
				args[nargs++] = 0;
			else if (conv != '%')
				args[nargs++] = libc_test_rand(&seed) >>
						(libc_test_rand(&seed) % 64);
		}
		fmt[len] = '\0';
		compare(fmt, args[0], args[1], args[2], args[3], args[4],
			args[5], args[6], args[7], args[8], args[9], args[10],
			args[11]);
	}
}
