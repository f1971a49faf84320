/* Timer heap and timer semantics, on a virtual clock. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include <duet/loop.h>

#include "fakeplat.h"

static struct duet_loop loop;

static void setup(void)
{
	fakeplat_reset();
	duet_loop_init(&loop);
}

TestSuite(timer, .init = setup);

/* Records the order timers fire in, by their arg (an index). */
static int fired[4096];
static unsigned nfired;
static duet_time_t fired_at[4096];

static void record(struct duet_timer *t, void *arg)
{
	(void)t;
	fired_at[nfired] = duet_loop_now(&loop);
	fired[nfired++] = (int)(intptr_t)arg;
}

static void stop_loop_cb(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(&loop, 0);
}

static void run_until(duet_time_t at)
{
	static struct duet_timer end;
	duet_timer_init(&loop, &end, stop_loop_cb, NULL);
	duet_timer_start(&end, at - fakeplat_time(), 0);
	duet_loop_run(&loop);
}

Test(timer, fire_in_deadline_order)
{
	static struct duet_timer t[5];
	const duet_time_t ms[5] = {50, 10, 40, 20, 30};
	nfired = 0;

	for (int i = 0; i < 5; i++) {
		duet_timer_init(&loop, &t[i], record, (void *)(intptr_t)i);
		duet_timer_start(&t[i], DUET_MSEC(ms[i]), 0);
	}
	run_until(duet_loop_now(&loop) + DUET_MSEC(100));
	cr_assert_eq(nfired, 5);
	const int want[5] = {1, 3, 4, 2, 0};
	for (int i = 0; i < 5; i++)
		cr_assert_eq(fired[i], want[i], "position %d: got %d", i, fired[i]);
	cr_assert_eq(fired_at[0] - DUET_SEC(1), DUET_MSEC(10));
}

Test(timer, equal_deadlines_fire_in_start_order)
{
	static struct duet_timer t[8];
	nfired = 0;

	for (int i = 0; i < 8; i++) {
		duet_timer_init(&loop, &t[i], record, (void *)(intptr_t)i);
		duet_timer_start(&t[i], DUET_MSEC(5), 0);
	}
	run_until(duet_loop_now(&loop) + DUET_MSEC(10));
	cr_assert_eq(nfired, 8);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(fired[i], i);
}

static struct duet_timer victim;
static void cancel_victim(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_timer_stop(&victim);
}

Test(timer, cancel_other_timer_from_callback)
{
	static struct duet_timer killer;
	nfired = 0;

	/* Both due in the same iteration: the victim must still not run. */
	duet_timer_init(&loop, &killer, cancel_victim, NULL);
	duet_timer_init(&loop, &victim, record, (void *)1);
	duet_timer_start(&killer, DUET_MSEC(10), 0);
	duet_timer_start(&victim, DUET_MSEC(10), 0);
	run_until(duet_loop_now(&loop) + DUET_MSEC(50));
	cr_assert_eq(nfired, 0);
	cr_assert(!duet_timer_active(&victim));
}

static unsigned self_count;
static void stop_self_after_three(struct duet_timer *t, void *arg)
{
	(void)arg;
	if (++self_count == 3)
		duet_timer_stop(t);
}

Test(timer, periodic_stops_itself_from_its_callback)
{
	static struct duet_timer t;
	self_count = 0;

	duet_timer_init(&loop, &t, stop_self_after_three, NULL);
	duet_timer_start(&t, DUET_MSEC(10), DUET_MSEC(10));
	run_until(duet_loop_now(&loop) + DUET_MSEC(200));
	cr_assert_eq(self_count, 3);
	cr_assert(!duet_timer_active(&t));
}

static void restart_self(struct duet_timer *t, void *arg)
{
	(void)arg;
	if (++self_count < 5)
		duet_timer_start(t, 0, 0);
}

Test(timer, zero_timeout_restart_from_callback_does_not_starve)
{
	static struct duet_timer t;
	self_count = 0;

	duet_timer_init(&loop, &t, restart_self, NULL);
	duet_timer_start(&t, 0, 0);
	run_until(duet_loop_now(&loop) + DUET_MSEC(1));
	cr_assert_eq(self_count, 5);
	/* Each restart ran in its own iteration, so the loop waited between. */
	cr_assert_geq(fakeplat_wait_count(), 4);
}

Test(timer, periodic_does_not_drift_when_callbacks_are_late)
{
	static struct duet_timer t;
	nfired = 0;

	/* Every wait overshoots by 3 ms, as a loaded machine would. */
	fakeplat_set_lateness(DUET_MSEC(3));
	duet_timer_init(&loop, &t, record, NULL);
	duet_time_t start = duet_loop_now(&loop);
	duet_timer_start(&t, DUET_MSEC(10), DUET_MSEC(10));
	run_until(start + DUET_MSEC(1005));
	duet_timer_stop(&t);
	/* Late by at most one lateness each time, never cumulatively. */
	for (unsigned i = 0; i < nfired; i++) {
		duet_time_t due = start + DUET_MSEC(10) * (i + 1);
		cr_assert_geq(fired_at[i], due);
		cr_assert_leq(fired_at[i] - due, DUET_MSEC(3), "tick %u late by %llu ns", i,
			      (unsigned long long)(fired_at[i] - due));
	}
	cr_assert_geq(nfired, 99);
}

Test(timer, periodic_skips_missed_periods_instead_of_bursting)
{
	static struct duet_timer t;
	nfired = 0;

	duet_timer_init(&loop, &t, record, NULL);
	duet_time_t start = duet_loop_now(&loop);
	duet_timer_start(&t, DUET_MSEC(10), DUET_MSEC(10));
	/* The system stalls for 55 ms before the first tick can run. */
	fakeplat_set_time(start + DUET_MSEC(55));
	run_until(start + DUET_MSEC(75));
	duet_timer_stop(&t);
	cr_assert_eq(nfired, 3, "fired %u times", nfired);
	cr_assert_eq(fired_at[0], start + DUET_MSEC(55));
	cr_assert_eq(fired_at[1], start + DUET_MSEC(60)); /* back on the grid */
	cr_assert_eq(fired_at[2], start + DUET_MSEC(70));
}

static struct duet_timer late_started;
static void start_from_event(struct duet_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	/* A device event after a long sleep starts a timer. */
	fakeplat_set_time(fakeplat_time() + DUET_SEC(10));
	duet_timer_start(&late_started, DUET_MSEC(5), 0);
	fakeplat_set_wait_hook(NULL, NULL);
}

Test(timer, timer_started_from_a_device_event_counts_from_the_clock)
{
	nfired = 0;
	duet_timer_init(&loop, &late_started, record, NULL);
	fakeplat_set_wait_hook(start_from_event, NULL);
	duet_time_t slept_until = fakeplat_time() + DUET_SEC(10);
	run_until(slept_until + DUET_SEC(1));
	cr_assert_eq(nfired, 1);
	cr_assert_eq(fired_at[0], slept_until + DUET_MSEC(5));
}

Test(timer, restart_moves_the_deadline)
{
	static struct duet_timer t;
	nfired = 0;

	duet_timer_init(&loop, &t, record, NULL);
	duet_timer_start(&t, DUET_MSEC(10), 0);
	duet_timer_start(&t, DUET_MSEC(30), 0);
	cr_assert_eq(loop.active_timers, 1);
	duet_time_t start = duet_loop_now(&loop);
	run_until(start + DUET_MSEC(100));
	cr_assert_eq(nfired, 1);
	cr_assert_eq(fired_at[0], start + DUET_MSEC(30));
}

Test(timer, stop_inactive_and_huge_timeout_are_harmless)
{
	static struct duet_timer t;

	duet_timer_init(&loop, &t, record, NULL);
	duet_timer_stop(&t);
	duet_timer_start(&t, DUET_TIME_INFINITE - 1, 0);
	cr_assert_eq(duet_loop_next_deadline(&loop), DUET_TIME_INFINITE);
	duet_timer_stop(&t);
	cr_assert_eq(duet_loop_next_deadline(&loop), DUET_TIME_INFINITE);
	cr_assert_eq(loop.active_timers, 0);
}

/* Many timers started and stopped at random; the firing order must match a
 * reference model sorted by (deadline, start order). */
struct model {
	duet_time_t deadline;
	uint64_t order;
	bool live;
};

static struct model models[2000];

Test(timer, many_timers_random_start_stop_match_model)
{
	static struct duet_timer t[2000];
	uint64_t order = 0;
	nfired = 0;
	srand(12345);

	for (int i = 0; i < 2000; i++)
		duet_timer_init(&loop, &t[i], record, (void *)(intptr_t)i);
	for (int round = 0; round < 6000; round++) {
		int i = rand() % 2000;
		if (rand() % 3 == 0) {
			duet_timer_stop(&t[i]);
			models[i].live = false;
		} else {
			duet_time_t to = DUET_MSEC(rand() % 500);
			duet_timer_start(&t[i], to, 0);
			models[i] = (struct model){duet_loop_now(&loop) + to, order++, true};
		}
	}
	unsigned live = 0;
	for (int i = 0; i < 2000; i++)
		live += models[i].live;
	cr_assert_eq(loop.active_timers, live);
	run_until(duet_loop_now(&loop) + DUET_MSEC(1000));
	cr_assert_eq(nfired, live);
	for (unsigned k = 1; k < nfired; k++) {
		struct model *a = &models[fired[k - 1]], *b = &models[fired[k]];
		cr_assert(a->deadline < b->deadline ||
			  (a->deadline == b->deadline && a->order < b->order),
			  "timers %d and %d fired out of order", fired[k - 1], fired[k]);
	}
}
