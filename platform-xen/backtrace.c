/* The frame-pointer walk (backtrace.h). */
#include "backtrace.h"

unsigned duet__frames(uintptr_t rbp, uintptr_t lo, uintptr_t hi,
		      uintptr_t *out, unsigned max)
{
	unsigned n = 0;

	while (n < max && rbp >= lo && hi >= 2 * sizeof(uintptr_t) &&
	       rbp <= hi - 2 * sizeof(uintptr_t) &&
	       rbp % sizeof(uintptr_t) == 0) {
		const uintptr_t *frame = (const uintptr_t *)rbp;
		uintptr_t next = frame[0], ret = frame[1];

		if (ret == 0)
			break;
		out[n++] = ret;
		if (next <= rbp)
			break; /* frames only go up: a loop or garbage */
		rbp = next;
	}
	return n;
}
