/* duet/entropy.h — random bytes.
 *
 * duet_entropy() fills buf with len bytes from the platform's best source
 * (getrandom(2) on POSIX; RDSEED/RDRAND on Xen, or a seeded generator with a
 * logged warning where the CPU has neither). It returns 0, or a negative errno
 * if no bytes could be produced. It never blocks for long: a platform whose
 * source is not yet seeded MUST still return bytes and say so in the log. The
 * bytes are meant for TCP initial sequence numbers, ports and hash seeds; a
 * module that makes keys from them (net/tls) MUST first check
 * duet_entropy_strong(), which is true only when the platform's source is
 * fit for keys (getrandom(2) on POSIX; RDSEED or RDRAND on Xen, never the
 * TSC-seeded fallback).
 */
#ifndef DUET_ENTROPY_H
#define DUET_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int duet_entropy(void *buf, size_t len);
bool duet_entropy_strong(void);

/* Convenience: one random 32-bit value (0 if the source failed, which is logged). */
uint32_t duet_random_u32(void);

#endif
