/* String to integer conversion, with glibc's choices where the standard
 * leaves room: *endptr untouched on a bad base, and all digits consumed
 * (endptr past them) even when the value overflows.
 *
 * One parser produces a sign and a magnitude saturated to unsigned long
 * long; each public function then range-checks against its own type, so
 * the four of them cannot disagree on syntax.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

struct parsed {
	unsigned long long magnitude;
	int negative;
	int overflow; /* the magnitude did not fit at all */
	int bad_base;
};

static int digit_value(int c)
{
	if (isdigit(c))
		return c - '0';
	if (isalpha(c))
		return tolower(c) - 'a' + 10;
	return INT_MAX;
}

static struct parsed parse(const char *nptr, char **endptr, int base)
{
	struct parsed r = {0, 0, 0, 0};
	const unsigned char *s = (const unsigned char *)nptr;
	const unsigned char *digits;
	unsigned long long limit;

	if (base < 0 || base == 1 || base > 36) {
		r.bad_base = 1;
		return r;
	}
	while (isspace(*s))
		s++;
	if (*s == '-' || *s == '+')
		r.negative = *s++ == '-';
	/* "0x" with no hex digit after it is the number 0 followed by "x":
	 * the prefix is only taken when a digit follows. */
	if ((base == 0 || base == 16) && s[0] == '0' && tolower(s[1]) == 'x' &&
	    isxdigit(s[2])) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	limit = ULLONG_MAX / (unsigned)base;
	digits = s;
	for (int d; (d = digit_value(*s)) < base; s++) {
		if (r.magnitude > limit ||
		    r.magnitude * (unsigned)base > ULLONG_MAX - (unsigned)d)
			r.overflow = 1;
		else
			r.magnitude =
			    r.magnitude * (unsigned)base + (unsigned)d;
	}
	if (s == digits) {
		r.negative = 0;
		s = (const unsigned char *)nptr;
	}
	if (endptr != NULL)
		*endptr = (char *)s;
	return r;
}

/* A negative input to an unsigned conversion wraps, as C requires; only
 * a magnitude beyond the type's range is an error. */
static unsigned long long to_unsigned(struct parsed r, unsigned long long max)
{
	if (r.bad_base) {
		errno = EINVAL;
		return 0;
	}
	if (r.overflow || r.magnitude > max) {
		errno = ERANGE;
		return max;
	}
	return r.negative ? (0 - r.magnitude) & max : r.magnitude;
}

static long long to_signed(struct parsed r, long long min, long long max)
{
	if (r.bad_base) {
		errno = EINVAL;
		return 0;
	}
	if (!r.negative &&
	    (r.overflow || r.magnitude > (unsigned long long)max)) {
		errno = ERANGE;
		return max;
	}
	if (r.negative &&
	    (r.overflow || r.magnitude > 0 - (unsigned long long)min)) {
		errno = ERANGE;
		return min;
	}
	if (r.negative)
		return r.magnitude == 0 ? 0 : -(long long)(r.magnitude - 1) - 1;
	return (long long)r.magnitude;
}

long strtol(const char *restrict nptr, char **restrict endptr, int base)
{
	return (long)to_signed(parse(nptr, endptr, base), LONG_MIN, LONG_MAX);
}

unsigned long strtoul(const char *restrict nptr, char **restrict endptr,
		      int base)
{
	return (unsigned long)to_unsigned(parse(nptr, endptr, base), ULONG_MAX);
}

long long strtoll(const char *restrict nptr, char **restrict endptr, int base)
{
	return to_signed(parse(nptr, endptr, base), LLONG_MIN, LLONG_MAX);
}

unsigned long long strtoull(const char *restrict nptr, char **restrict endptr,
			    int base)
{
	return to_unsigned(parse(nptr, endptr, base), ULLONG_MAX);
}

int atoi(const char *nptr)
{
	return (int)strtol(nptr, NULL, 10);
}

long atol(const char *nptr)
{
	return strtol(nptr, NULL, 10);
}

long long atoll(const char *nptr)
{
	return strtoll(nptr, NULL, 10);
}
