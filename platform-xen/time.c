/* Clocks and the one-shot timer.
 *
 * Monotonic time is Xen's system time (ns since the host booted), which is
 * also what VCPUOP_set_singleshot_timer takes, so deadlines need no
 * conversion. It is extrapolated from vcpu_time_info with the TSC; the
 * record is re-read while Xen is updating it (odd or changed version).
 * The vCPU's default 10 ms periodic tick is stopped: the loop sets a
 * one-shot timer for its next deadline before blocking, and VIRQ_TIMER
 * only wakes it.
 */
#include <stdint.h>

#include <xen/vcpu.h>

#include <duet/platform.h>
#include <duet/replay.h>

#include "hypercall.h"
#include "xen.h"

static duet_time_t last_now; /* keeps the clock from stepping back */

static uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

duet_time_t duet__xen_now(void)
{
	if (duet__xen_shared == NULL)
		return 0;
	volatile struct vcpu_time_info *t =
	    &duet__xen_shared->vcpu_info[0].time;
	uint32_t version, mul;
	uint64_t stamp, system, tsc;
	int8_t shift;

	do {
		version = t->version;
		xen_barrier();
		stamp = t->tsc_timestamp;
		system = t->system_time;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		tsc = rdtsc_ordered();
		xen_barrier();
	} while ((version & 1) || version != t->version);

	uint64_t delta = tsc - stamp;
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	duet_time_t now =
	    system + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
	if (now < last_now)
		now = last_now;
	last_now = now;
	return now;
}

duet_time_t duet__xen_wall(void)
{
	if (duet__xen_shared == NULL)
		return 0;
	volatile shared_info_t *s = duet__xen_shared;
	uint32_t version, nsec;
	uint64_t sec;

	do {
		version = s->wc_version;
		xen_barrier();
		sec = ((uint64_t)s->wc_sec_hi << 32) | s->wc_sec;
		nsec = s->wc_nsec;
		xen_barrier();
	} while ((version & 1) || version != s->wc_version);
	return sec * DUET_NSEC_PER_SEC + nsec + duet__xen_now();
}

duet_time_t duet_plat_clock_monotonic(void)
{
	return duet_rr_clock(duet__xen_rr, DUET_RR_MONO, duet__xen_now);
}

duet_time_t duet_plat_clock_wall(void)
{
	return duet_rr_clock(duet__xen_rr, DUET_RR_WALL, duet__xen_wall);
}

static void timer_fired(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg; /* waking the loop is all it is for */
}

void duet__xen_time_init(void)
{
	evtchn_port_t port;

	hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
	if (duet__xen_evtchn_bind_virq(VIRQ_TIMER, timer_fired, NULL, &port) <
	    0)
		duet__xen_crash("cannot bind VIRQ_TIMER");
}

void duet__xen_timer_set(duet_time_t deadline)
{
	struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline,
					      .flags = 0};

	if (deadline == DUET_TIME_INFINITE)
		hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
	else
		hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}
