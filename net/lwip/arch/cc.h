/* lwIP's compiler/platform glue for Duet (both platforms).
 *
 * lwIP needs only the C subset both platforms provide (string.h, stdlib.h,
 * stdint.h, inttypes.h, limits.h, ctype.h); its diagnostics and assertions
 * go to duet_log and its random numbers come from duet_entropy. */
#ifndef DUET_LWIP_ARCH_CC_H
#define DUET_LWIP_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN

#ifdef __cplusplus
extern "C" {
#endif
/* Defined in net/lwip/port.c. lwIP's diagnostics come as printf argument
 * lists, often a piece of a line at a time. */
void duet__lwip_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void duet__lwip_assert(const char *msg, const char *file, int line)
    __attribute__((noreturn));
uint32_t duet_random_u32(void);
#ifdef __cplusplus
}
#endif

#define LWIP_PLATFORM_DIAG(x)                                                  \
	do {                                                                   \
		duet__lwip_diag x;                                             \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) duet__lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND()		((u32_t)duet_random_u32())

#endif
