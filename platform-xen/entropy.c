/* Entropy and the stack-protector guard.
 *
 * RDSEED, then RDRAND, when CPUID offers them; otherwise a xorshift
 * generator seeded from the TSC and the wall clock, which is guessable and
 * says so in the log once. The stack guard is set before any C function
 * with a canary runs (entry.S calls duet__xen_guard_init first), from the
 * same sources.
 */
#include <stdbool.h>
#include <string.h>

#include <duet/log.h>
#include <duet/platform.h>
#include <duet/replay.h>

#include "xen.h"

uintptr_t __stack_chk_guard;

enum source { SOURCE_UNKNOWN, SOURCE_RDSEED, SOURCE_RDRAND, SOURCE_TSC };
static enum source source;
static uint64_t xs_state;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static __attribute__((no_stack_protector)) enum source pick_source(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	uint32_t max = r[0];
	if (max >= 7) {
		cpuid(7, 0, r);
		if (r[1] & (1u << 18))
			return SOURCE_RDSEED;
	}
	cpuid(1, 0, r);
	return (r[2] & (1u << 30)) ? SOURCE_RDRAND : SOURCE_TSC;
}

/* One hardware random word; false if the instruction kept failing. */
static __attribute__((no_stack_protector)) bool hw_random(enum source s,
							  uint64_t *out)
{
	for (int tries = 0; tries < 64; tries++) {
		unsigned char ok;
		if (s == SOURCE_RDSEED)
			__asm__ volatile("rdseed %0; setc %1"
					 : "=r"(*out), "=qm"(ok));
		else
			__asm__ volatile("rdrand %0; setc %1"
					 : "=r"(*out), "=qm"(ok));
		if (ok)
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

static __attribute__((no_stack_protector)) uint64_t xorshift(void)
{
	if (xs_state == 0)
		xs_state = rdtsc() ^ 0x9e3779b97f4a7c15ULL;
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 7;
	xs_state ^= xs_state << 17;
	return xs_state * 0x2545f4914f6cdd1dULL;
}

static __attribute__((no_stack_protector)) uint64_t random_word(void)
{
	uint64_t v;

	if (source == SOURCE_UNKNOWN)
		source = pick_source();
	if (source != SOURCE_TSC && hw_random(source, &v))
		return v;
	if (source == SOURCE_RDSEED && hw_random(SOURCE_RDRAND, &v))
		return v;
	return xorshift();
}

__attribute__((no_stack_protector)) void duet__xen_guard_init(void)
{
	/* A zero low byte stops string overruns from reading it out. */
	__stack_chk_guard = (uintptr_t)(random_word() & ~0xffULL);
}

_Noreturn void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	duet__xen_crash("stack smashing detected");
}

void duet__xen_entropy_report(void)
{
	/* The wall clock differs between boots even where the TSC may not. */
	xs_state ^= duet__xen_wall() * 0x9e3779b97f4a7c15ULL;
	/* Runs once, at boot (boot.c). */
	if (source == SOURCE_TSC) {
		DUET_WARN("xen",
			  "no RDRAND/RDSEED: entropy comes from a TSC-seeded "
			  "generator and is guessable");
	} else {
		DUET_DEBUG("xen", "entropy from %s",
			   source == SOURCE_RDSEED ? "RDSEED" : "RDRAND");
	}
}

bool duet_plat_entropy_strong(void)
{
	if (source == SOURCE_UNKNOWN)
		source = pick_source();
	return duet_rr_strong(duet__xen_rr, source != SOURCE_TSC);
}

static int fill(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t v = random_word();
		size_t n = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}

int duet_plat_entropy(void *buf, size_t len)
{
	return duet_rr_entropy(duet__xen_rr, buf, len, fill);
}
