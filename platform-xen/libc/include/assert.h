/* assert.h — assertions (Duet's freestanding libc).
 *
 * A failed assertion calls duet__assert_fail(), which the platform defines:
 * it reports the expression and location on the console and stops the
 * domain. Like every assert.h, this one has no include guard, so that each
 * inclusion honours the NDEBUG in force at that point.
 */
#undef assert

#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
#define assert(expr)                                                           \
	((expr) ? (void)0                                                      \
		: duet__assert_fail(#expr, __FILE__, __LINE__, __func__))
#endif

#ifndef DUET_LIBC_ASSERT_H
#define DUET_LIBC_ASSERT_H

#define static_assert _Static_assert

_Noreturn void duet__assert_fail(const char *expr, const char *file,
				 unsigned int line, const char *func);

#endif
