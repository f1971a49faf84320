/* libc_host.h — the Xen libc subset as the host tests see it.
 *
 * The tests run the subset side by side with glibc in one process, so the
 * two must not share symbol names. The subset's sources stay plain C (no
 * renaming macros): they are compiled for the host against the subset's
 * own headers (-nostdinc, exactly as for the image), collected in an
 * archive, and objcopy --redefine-syms then gives every global symbol the
 * archive defines, except the duet__ hooks, the prefix "duetlibc_". The
 * rename applies to definitions and references alike, so the subset's
 * internal calls (strdup to malloc, and the memcpy calls gcc emits on its
 * own) stay inside the subset. Only defined names are renamed, so the
 * sanitizer hooks and duet__heap_grow still resolve to the host. See
 * platform-xen/libc/libc.am for the commands.
 *
 * This header declares the renamed functions from one list, LIBC_FUNCTIONS,
 * which is checked twice at compile time: against the subset's headers in
 * libc_abi.c (built with the subset) and against glibc's prototypes here.
 * A prototype that drifts on either side stops the build.
 */
#ifndef DUET_TEST_LIBC_HOST_H
#define DUET_TEST_LIBC_HOST_H

#include <stdarg.h>
#include <stddef.h>

#define LIBC_FUNCTIONS(X)                                                      \
	X(void *, memcpy, (void *, const void *, size_t))                      \
	X(void *, memmove, (void *, const void *, size_t))                     \
	X(void *, memset, (void *, int, size_t))                               \
	X(int, memcmp, (const void *, const void *, size_t))                   \
	X(void *, memchr, (const void *, int, size_t))                         \
	X(void *, memrchr, (const void *, int, size_t))                        \
	X(void *, memmem, (const void *, size_t, const void *, size_t))        \
	X(size_t, strlen, (const char *))                                      \
	X(size_t, strnlen, (const char *, size_t))                             \
	X(int, strcmp, (const char *, const char *))                           \
	X(int, strncmp, (const char *, const char *, size_t))                  \
	X(int, strcasecmp, (const char *, const char *))                       \
	X(int, strncasecmp, (const char *, const char *, size_t))              \
	X(char *, strchr, (const char *, int))                                 \
	X(char *, strrchr, (const char *, int))                                \
	X(char *, strstr, (const char *, const char *))                        \
	X(size_t, strspn, (const char *, const char *))                        \
	X(size_t, strcspn, (const char *, const char *))                       \
	X(char *, strtok_r, (char *, const char *, char **))                   \
	X(char *, strcpy, (char *, const char *))                              \
	X(char *, strncpy, (char *, const char *, size_t))                     \
	X(char *, strdup, (const char *))                                      \
	X(char *, strndup, (const char *, size_t))                             \
	X(int, snprintf, (char *, size_t, const char *, ...))                  \
	X(int, vsnprintf, (char *, size_t, const char *, va_list))             \
	X(long, strtol, (const char *, char **, int))                          \
	X(unsigned long, strtoul, (const char *, char **, int))                \
	X(long long, strtoll, (const char *, char **, int))                    \
	X(unsigned long long, strtoull, (const char *, char **, int))          \
	X(int, atoi, (const char *))                                           \
	X(long, atol, (const char *))                                          \
	X(long long, atoll, (const char *))                                    \
	X(int, abs, (int))                                                     \
	X(long, labs, (long))                                                  \
	X(long long, llabs, (long long))                                       \
	X(void, qsort,                                                         \
	  (void *, size_t, size_t, int (*)(const void *, const void *)))       \
	X(void *, bsearch,                                                     \
	  (const void *, const void *, size_t, size_t,                         \
	   int (*)(const void *, const void *)))                               \
	X(void *, malloc, (size_t))                                            \
	X(void *, calloc, (size_t, size_t))                                    \
	X(void *, realloc, (void *, size_t))                                   \
	X(void, free, (void *))                                                \
	X(void *, aligned_alloc, (size_t, size_t))                             \
	X(int, posix_memalign, (void **, size_t, size_t))                      \
	X(int, isalnum, (int))                                                 \
	X(int, isalpha, (int))                                                 \
	X(int, isblank, (int))                                                 \
	X(int, iscntrl, (int))                                                 \
	X(int, isdigit, (int))                                                 \
	X(int, isgraph, (int))                                                 \
	X(int, islower, (int))                                                 \
	X(int, isprint, (int))                                                 \
	X(int, ispunct, (int))                                                 \
	X(int, isspace, (int))                                                 \
	X(int, isupper, (int))                                                 \
	X(int, isxdigit, (int))                                                \
	X(int, tolower, (int))                                                 \
	X(int, toupper, (int))

/* Functions glibc 2.36 does not have, so only the subset's side is checked. */
#define LIBC_SUBSET_ONLY(X) X(size_t, strlcpy, (char *, const char *, size_t))

/* Every errno.h name, comma-separated. */
#define LIBC_ERRNO_NAMES(X)                                                    \
	X(EPERM), X(ENOENT), X(ESRCH), X(EINTR), X(EIO), X(ENXIO), X(E2BIG),   \
	    X(ENOEXEC), X(EBADF), X(ECHILD), X(EAGAIN), X(ENOMEM), X(EACCES),  \
	    X(EFAULT), X(ENOTBLK), X(EBUSY), X(EEXIST), X(EXDEV), X(ENODEV),   \
	    X(ENOTDIR), X(EISDIR), X(EINVAL), X(ENFILE), X(EMFILE), X(ENOTTY), \
	    X(ETXTBSY), X(EFBIG), X(ENOSPC), X(ESPIPE), X(EROFS), X(EMLINK),   \
	    X(EPIPE), X(EDOM), X(ERANGE), X(EDEADLK), X(ENAMETOOLONG),         \
	    X(ENOLCK), X(ENOSYS), X(ENOTEMPTY), X(ELOOP), X(EWOULDBLOCK),      \
	    X(ENOMSG), X(EIDRM), X(ECHRNG), X(EL2NSYNC), X(EL3HLT), X(EL3RST), \
	    X(ELNRNG), X(EUNATCH), X(ENOCSI), X(EL2HLT), X(EBADE), X(EBADR),   \
	    X(EXFULL), X(ENOANO), X(EBADRQC), X(EBADSLT), X(EDEADLOCK),        \
	    X(EBFONT), X(ENOSTR), X(ENODATA), X(ETIME), X(ENOSR), X(ENONET),   \
	    X(ENOPKG), X(EREMOTE), X(ENOLINK), X(EADV), X(ESRMNT), X(ECOMM),   \
	    X(EPROTO), X(EMULTIHOP), X(EDOTDOT), X(EBADMSG), X(EOVERFLOW),     \
	    X(ENOTUNIQ), X(EBADFD), X(EREMCHG), X(ELIBACC), X(ELIBBAD),        \
	    X(ELIBSCN), X(ELIBMAX), X(ELIBEXEC), X(EILSEQ), X(ERESTART),       \
	    X(ESTRPIPE), X(EUSERS), X(ENOTSOCK), X(EDESTADDRREQ), X(EMSGSIZE), \
	    X(EPROTOTYPE), X(ENOPROTOOPT), X(EPROTONOSUPPORT),                 \
	    X(ESOCKTNOSUPPORT), X(EOPNOTSUPP), X(ENOTSUP), X(EPFNOSUPPORT),    \
	    X(EAFNOSUPPORT), X(EADDRINUSE), X(EADDRNOTAVAIL), X(ENETDOWN),     \
	    X(ENETUNREACH), X(ENETRESET), X(ECONNABORTED), X(ECONNRESET),      \
	    X(ENOBUFS), X(EISCONN), X(ENOTCONN), X(ESHUTDOWN),                 \
	    X(ETOOMANYREFS), X(ETIMEDOUT), X(ECONNREFUSED), X(EHOSTDOWN),      \
	    X(EHOSTUNREACH), X(EALREADY), X(EINPROGRESS), X(ESTALE),           \
	    X(EUCLEAN), X(ENOTNAM), X(ENAVAIL), X(EISNAM), X(EREMOTEIO),       \
	    X(EDQUOT), X(ENOMEDIUM), X(EMEDIUMTYPE), X(ECANCELED), X(ENOKEY),  \
	    X(EKEYEXPIRED), X(EKEYREVOKED), X(EKEYREJECTED), X(EOWNERDEAD),    \
	    X(ENOTRECOVERABLE), X(ERFKILL), X(EHWPOISON)

/* Every PRI macro of inttypes.h by conversion and width, comma-separated.
 * The parameter is F, not X, because X is one of the conversions. */
#define LIBC_PRI_WIDTHS(F, c)                                                  \
	F(c, 8), F(c, 16), F(c, 32), F(c, 64), F(c, LEAST8), F(c, LEAST16),    \
	    F(c, LEAST32), F(c, LEAST64), F(c, FAST8), F(c, FAST16),           \
	    F(c, FAST32), F(c, FAST64), F(c, MAX), F(c, PTR)
#define LIBC_PRI_NAMES(F)                                                      \
	LIBC_PRI_WIDTHS(F, d), LIBC_PRI_WIDTHS(F, i), LIBC_PRI_WIDTHS(F, o),   \
	    LIBC_PRI_WIDTHS(F, u), LIBC_PRI_WIDTHS(F, x),                      \
	    LIBC_PRI_WIDTHS(F, X)

#define LIBC_SAME_TYPE(ret, name, params)                                      \
	_Static_assert(                                                        \
	    __builtin_types_compatible_p(__typeof__(name), ret params),        \
	    #name " has the wrong prototype");

#ifndef LIBC_ABI_CHECK

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE first: glibc hides memrchr and memmem otherwise"
#endif

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#define LIBC_DECLARE(ret, name, params) ret duetlibc_##name params;
LIBC_FUNCTIONS(LIBC_DECLARE)
LIBC_SUBSET_ONLY(LIBC_DECLARE)
LIBC_FUNCTIONS(LIBC_SAME_TYPE)

extern int duetlibc_errno;
/* From libc_abi.c, in LIBC_ERRNO_NAMES and LIBC_PRI_NAMES order. */
extern const int duetlibc_errno_values[];
extern const char *const duetlibc_pri_values[];

/* The fake platform behind duet__heap_grow (libc_support.c): an arena
 * handed out upwards in pages. */
void libc_test_heap_limit(size_t bytes); /* arena bytes it may hand out */
void libc_test_heap_gaps(int on);	 /* leave a page between grants */
size_t libc_test_heap_granted(void);

/* Comparison loops run millions of checks; Criterion's asserts report each
 * one, passed or not, so these loops report only failures. */
#define LIBC_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			cr_assert_fail(__VA_ARGS__);                           \
	} while (0)

/* xorshift64: a fixed seed gives every run the same inputs. */
static inline uint64_t libc_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static inline int libc_test_sign(long v)
{
	return (v > 0) - (v < 0);
}

/* Aborts, so that a test of a detected heap misuse can expect SIGABRT. */
_Noreturn void duet__assert_fail(const char *expr, const char *file,
				 unsigned int line, const char *func);

#endif
#endif
