/* duet/clock.h — time.
 *
 * Times are unsigned 64-bit nanosecond counts. The monotonic clock starts at
 * an arbitrary origin near boot, never goes backwards and keeps running while
 * the system waits. The wall clock is nanoseconds since the Unix epoch (UTC)
 * as the platform knows it; it may jump (host clock set, domain migrated) and
 * must not be used to measure intervals.
 *
 * Both calls are cheap (no system call on the hot path where the platform can
 * avoid one) and never block.
 */
#ifndef DUET_CLOCK_H
#define DUET_CLOCK_H

#include <stdint.h>

typedef uint64_t duet_time_t;

#define DUET_NSEC_PER_USEC UINT64_C(1000)
#define DUET_NSEC_PER_MSEC UINT64_C(1000000)
#define DUET_NSEC_PER_SEC UINT64_C(1000000000)
/* "Never": a deadline no clock reaches. */
#define DUET_TIME_INFINITE UINT64_MAX

#define DUET_MSEC(n) ((duet_time_t)(n) * DUET_NSEC_PER_MSEC)
#define DUET_SEC(n) ((duet_time_t)(n) * DUET_NSEC_PER_SEC)

duet_time_t duet_clock_monotonic(void);
duet_time_t duet_clock_wall(void);

#endif
