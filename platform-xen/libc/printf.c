/* snprintf and vsnprintf.
 *
 * Output goes through a cursor that counts every byte the full output would
 * have but stores only what fits, which yields C99's return value and its
 * truncation rule in one pass. There is no floating point: the image is
 * built with -mgeneral-regs-only, so no double could even be passed here.
 * Directives the subset does not support are copied to the output as
 * written (stdio.h lists them), which leaves a stray "%f" visible in a log
 * line rather than silently misreading the arguments after it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(size_t) == sizeof(long),
	       "%zd reads the signed type of size_t's width as long");

struct out {
	char *buf;
	size_t size;
	size_t len; /* of the full output so far, stored or not */
};

enum flag {
	LEFT = 1,  /* '-' */
	PLUS = 2,  /* '+' */
	SPACE = 4, /* ' ' */
	ALT = 8,   /* '#' */
	ZERO = 16, /* '0' */
};

enum length {
	LEN_INT,
	LEN_HH,
	LEN_H,
	LEN_L,
	LEN_LL,
	LEN_Z,
	LEN_J,
	LEN_T,
	LEN_UNSUPPORTED
};

struct spec {
	unsigned flags;
	size_t width;
	int prec; /* -1 when none was given */
	enum length length;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, const char *s, size_t n)
{
	while (n-- > 0)
		put(o, *s++);
}

/* Only the part that fits is written, so a huge width costs nothing. */
static void pad(struct out *o, char c, size_t n)
{
	for (; n > 0 && o->len + 1 < o->size; n--)
		o->buf[o->len++] = c;
	o->len += n;
}

/* A width or precision written in digits; saturates rather than wraps. */
static int parse_count(const char **p)
{
	int n = 0;

	for (; isdigit((unsigned char)**p); (*p)++) {
		int d = **p - '0';

		n = n > (INT_MAX - d) / 10 ? INT_MAX : n * 10 + d;
	}
	return n;
}

static const char *parse_spec(const char *p, struct spec *sp, va_list *ap)
{
	static const char flag_chars[] = "-+ #0";
	const char *f;

	sp->flags = 0;
	for (; *p != '\0' && (f = strchr(flag_chars, *p)) != NULL; p++)
		sp->flags |= 1u << (f - flag_chars);
	if (*p == '*') {
		int w = va_arg(*ap, int);

		p++;
		if (w < 0)
			sp->flags |= LEFT;
		sp->width = w < 0 ? 0u - (size_t)w : (size_t)w;
	} else {
		sp->width = (size_t)parse_count(&p);
	}
	sp->prec = -1;
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int prec = va_arg(*ap, int);

			p++;
			sp->prec = prec < 0 ? -1 : prec;
		} else {
			sp->prec = parse_count(&p);
		}
	}
	switch (*p) {
	case 'h':
		sp->length = p[1] == 'h' ? LEN_HH : LEN_H;
		p += p[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		sp->length = p[1] == 'l' ? LEN_LL : LEN_L;
		p += p[1] == 'l' ? 2 : 1;
		break;
	case 'z':
		sp->length = LEN_Z;
		p++;
		break;
	case 'j':
		sp->length = LEN_J;
		p++;
		break;
	case 't':
		sp->length = LEN_T;
		p++;
		break;
	case 'L':
	case 'q':
		sp->length = LEN_UNSUPPORTED;
		p++;
		break;
	default: sp->length = LEN_INT; break;
	}
	return p;
}

static long long fetch_signed(enum length length, va_list *ap)
{
	switch (length) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H: return (short)va_arg(*ap, int);
	case LEN_L: return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z: return va_arg(*ap, long);
	case LEN_J: return va_arg(*ap, intmax_t);
	case LEN_T: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

static unsigned long long fetch_unsigned(enum length length, va_list *ap)
{
	switch (length) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
	case LEN_H: return (unsigned short)va_arg(*ap, unsigned);
	case LEN_L: return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z: return va_arg(*ap, size_t);
	case LEN_J: return va_arg(*ap, uintmax_t);
	case LEN_T: return (size_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned);
	}
}

/* Lays out [spaces][sign or 0x][zeros][digits][spaces] by glibc's rules:
 * a precision disables '0', '-' overrides it, '+' overrides ' ', and '#'
 * with octal makes the first digit a 0. */
static void format_int(struct out *o, const struct spec *sp,
		       unsigned long long v, int negative, int is_signed,
		       unsigned base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24], prefix[3];
	size_t ndigits = 0, nprefix = 0, zeros = 0, body;
	int is_zero = v == 0;

	if (!(is_zero && sp->prec == 0)) {
		do {
			digits[ndigits++] = set[v % base];
			v /= base;
		} while (v != 0);
	}
	if (negative)
		prefix[nprefix++] = '-';
	else if (is_signed && (sp->flags & PLUS))
		prefix[nprefix++] = '+';
	else if (is_signed && (sp->flags & SPACE))
		prefix[nprefix++] = ' ';
	if ((sp->flags & ALT) && base == 16 && !is_zero) {
		prefix[nprefix++] = '0';
		prefix[nprefix++] = upper ? 'X' : 'x';
	}
	if (sp->prec > 0 && (size_t)sp->prec > ndigits)
		zeros = (size_t)sp->prec - ndigits;
	if ((sp->flags & ALT) && base == 8 && zeros == 0 &&
	    (ndigits == 0 || digits[ndigits - 1] != '0'))
		zeros = 1;
	body = nprefix + zeros + ndigits;
	if ((sp->flags & ZERO) && !(sp->flags & LEFT) && sp->prec < 0 &&
	    sp->width > body) {
		zeros += sp->width - body;
		body = sp->width;
	}
	if (!(sp->flags & LEFT) && sp->width > body)
		pad(o, ' ', sp->width - body);
	put_n(o, prefix, nprefix);
	pad(o, '0', zeros);
	while (ndigits > 0)
		put(o, digits[--ndigits]);
	if ((sp->flags & LEFT) && sp->width > body)
		pad(o, ' ', sp->width - body);
}

/* Strings pad with spaces even under '0', as glibc's do. */
static void format_str(struct out *o, const struct spec *sp, const char *s,
		       size_t len)
{
	size_t fill = sp->width > len ? sp->width - len : 0;

	if (!(sp->flags & LEFT))
		pad(o, ' ', fill);
	put_n(o, s, len);
	if (sp->flags & LEFT)
		pad(o, ' ', fill);
}

/* Formats the directive at fmt (its '%') and returns what follows it. */
static const char *format_one(struct out *o, const char *fmt, va_list *ap)
{
	struct spec sp;
	const char *p = parse_spec(fmt + 1, &sp, ap);
	char conv = *p;
	long long sv;
	const char *s;
	void *ptr;
	char c;

	if (conv == '\0') {
		put_n(o, fmt, (size_t)(p - fmt));
		return p;
	}
	p++;
	if (sp.length == LEN_UNSUPPORTED ||
	    (sp.length != LEN_INT &&
	     (conv == 'c' || conv == 's' || conv == 'p')))
		conv = '?';
	switch (conv) {
	case 'd':
	case 'i':
		sv = fetch_signed(sp.length, ap);
		format_int(o, &sp,
			   sv < 0 ? 0 - (unsigned long long)sv
				  : (unsigned long long)sv,
			   sv < 0, 1, 10, 0);
		break;
	case 'u':
		format_int(o, &sp, fetch_unsigned(sp.length, ap), 0, 0, 10, 0);
		break;
	case 'o':
		format_int(o, &sp, fetch_unsigned(sp.length, ap), 0, 0, 8, 0);
		break;
	case 'x':
	case 'X':
		format_int(o, &sp, fetch_unsigned(sp.length, ap), 0, 0, 16,
			   conv == 'X');
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		format_str(o, &sp, &c, 1);
		break;
	case 's':
		s = va_arg(*ap, const char *);
		/* glibc's NULL handling: "(null)" unless the precision
		 * would cut it, then nothing. */
		if (s == NULL)
			s = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
		format_str(o, &sp, s,
			   sp.prec < 0 ? strlen(s)
				       : strnlen(s, (size_t)sp.prec));
		break;
	case 'p':
		ptr = va_arg(*ap, void *);
		if (ptr == NULL) {
			format_str(o, &sp, "(nil)", 5);
			break;
		}
		/* glibc prints pointers as %#lx, '+' and ' ' included. */
		sp.flags |= ALT;
		format_int(o, &sp, (uintptr_t)ptr, 0, 1, 16, 0);
		break;
	case '%': put(o, '%'); break;
	default: put_n(o, fmt, (size_t)(p - fmt)); break;
	}
	return p;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap)
{
	struct out o = {buf, size, 0};
	va_list args;

	/* A copy, because a va_list parameter cannot be passed on by address
	 * portably (it is an array type on x86_64). */
	va_copy(args, ap);
	while (*fmt != '\0') {
		if (*fmt == '%')
			fmt = format_one(&o, fmt, &args);
		else
			put(&o, *fmt++);
	}
	va_end(args);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	if (o.len > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)o.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
