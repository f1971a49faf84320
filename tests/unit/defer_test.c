/* Deferred callbacks and the loop's phases. */
#include <criterion/criterion.h>

#include <duet/loop.h>

#include "fakeplat.h"

static struct duet_loop loop;
static char trace[64];
static unsigned ntrace;

static void setup(void)
{
	fakeplat_reset();
	duet_loop_init(&loop);
	ntrace = 0;
	trace[0] = '\0';
}

TestSuite(defer, .init = setup);

static void mark(struct duet_defer *d, void *arg)
{
	(void)d;
	trace[ntrace++] = *(const char *)arg;
	trace[ntrace] = '\0';
}

static void stop_cb(struct duet_defer *d, void *arg)
{
	(void)d;
	(void)arg;
	duet_loop_stop(&loop, 7);
}

Test(defer, run_in_posting_order_and_once_per_post)
{
	static struct duet_defer a, b, c, stop;

	duet_defer_init(&loop, &a, mark, "a");
	duet_defer_init(&loop, &b, mark, "b");
	duet_defer_init(&loop, &c, mark, "c");
	duet_defer_init(&loop, &stop, stop_cb, NULL);
	duet_defer_post(&b);
	duet_defer_post(&a);
	duet_defer_post(&b); /* already pending: no second run */
	duet_defer_post(&c);
	duet_defer_post(&stop);
	cr_assert_eq(duet_loop_run(&loop), 7);
	cr_assert_str_eq(trace, "bac");
	cr_assert(!duet_defer_pending(&b));
}

static struct duet_defer again;
static void repost_self(struct duet_defer *d, void *arg)
{
	(void)arg;
	trace[ntrace++] = 'r';
	trace[ntrace] = '\0';
	if (ntrace < 3)
		duet_defer_post(d);
	else
		duet_loop_stop(&loop, 0);
}

Test(defer, repost_from_callback_runs_next_iteration)
{
	duet_defer_init(&loop, &again, repost_self, NULL);
	duet_defer_post(&again);
	duet_loop_run(&loop);
	cr_assert_str_eq(trace, "rrr");
	/* Between iterations the loop polled devices without sleeping. */
	cr_assert_eq(fakeplat_wait_count(), 2);
	cr_assert_eq(fakeplat_last_deadline(), duet_loop_now(&loop));
}

static struct duet_defer later;
static void cancel_later(struct duet_defer *d, void *arg)
{
	(void)d;
	(void)arg;
	duet_defer_cancel(&later);
}

Test(defer, cancel_from_an_earlier_callback_in_the_same_batch)
{
	static struct duet_defer first, stop;

	duet_defer_init(&loop, &first, cancel_later, NULL);
	duet_defer_init(&loop, &later, mark, "x");
	duet_defer_init(&loop, &stop, stop_cb, NULL);
	duet_defer_post(&first);
	duet_defer_post(&later);
	duet_defer_post(&stop);
	duet_loop_run(&loop);
	cr_assert_str_eq(trace, "");
	cr_assert(!duet_defer_pending(&later));
}

static void timer_mark(struct duet_timer *t, void *arg)
{
	(void)t;
	mark(NULL, arg);
}

Test(defer, timers_run_before_defers_in_an_iteration)
{
	static struct duet_timer t;
	static struct duet_defer d, stop;

	duet_timer_init(&loop, &t, timer_mark, "t");
	duet_defer_init(&loop, &d, mark, "d");
	duet_defer_init(&loop, &stop, stop_cb, NULL);
	duet_timer_start(&t, 0, 0);
	duet_defer_post(&d);
	duet_defer_post(&stop);
	duet_loop_run(&loop);
	cr_assert_str_eq(trace, "td");
}

Test(defer, cancel_of_idle_defer_is_harmless)
{
	static struct duet_defer d;

	duet_defer_init(&loop, &d, mark, "d");
	duet_defer_cancel(&d);
	cr_assert(!duet_defer_pending(&d));
	duet_defer_post(&d);
	duet_defer_cancel(&d);
	cr_assert(duet_list_empty(&loop.defers));
}

/* A device event (the wait hook) posts a defer; it runs in the same turn. */
static struct duet_defer from_event;
static void event_hook(struct duet_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	duet_defer_post(&from_event);
}

static void stop_after_event(struct duet_defer *d, void *arg)
{
	mark(d, arg);
	duet_loop_stop(&loop, 0);
}

Test(defer, posted_by_a_device_event_runs_after_the_wait)
{
	duet_defer_init(&loop, &from_event, stop_after_event, "e");
	fakeplat_set_wait_hook(event_hook, NULL);
	duet_loop_run(&loop);
	cr_assert_str_eq(trace, "e");
	cr_assert_eq(fakeplat_wait_count(), 1);
	/* Nothing was pending, so the loop waited without a deadline. */
	cr_assert_eq(fakeplat_last_deadline(), DUET_TIME_INFINITE);
}

/* ----------------------------------------------------- completion queues */

struct item {
	struct duet_list link;
	char name;
};

static struct duet_cq cq;
static struct item items[4];
static unsigned run_calls;

static void item_run(struct duet_cq *q, struct duet_list *l, void *arg)
{
	struct item *it = duet_container_of(l, struct item, link);

	cr_assert_eq(q, &cq);
	cr_assert_eq(arg, &run_calls);
	run_calls++;
	trace[ntrace++] = it->name;
	trace[ntrace] = '\0';
	/* Pushed from inside a run: waits for the next one. */
	if (it->name == 'a')
		duet_cq_push(&cq, &items[3].link);
}

static void cq_setup(void)
{
	setup();
	run_calls = 0;
	duet_cq_init(&loop, &cq, item_run, &run_calls);
	for (unsigned i = 0; i < 4; i++) {
		duet_list_init(&items[i].link);
		items[i].name = (char)('a' + i);
	}
}

static void run_once(void)
{
	static struct duet_defer stop;

	duet_defer_init(&loop, &stop, stop_cb, NULL);
	duet_defer_post(&stop);
	cr_assert_eq(duet_loop_run(&loop), 7);
}

Test(cq, runs_in_push_order_from_the_loop_once_per_item, .init = cq_setup)
{
	duet_cq_push(&cq, &items[1].link);
	duet_cq_push(&cq, &items[0].link);
	duet_cq_push(&cq, &items[1].link); /* queued already: no second run */
	duet_cq_push(&cq, &items[2].link);
	cr_assert_eq(run_calls, 0, "ran inside push");
	duet_list_unlink(&items[2].link); /* taken back: never runs */
	run_once();
	cr_assert_str_eq(trace, "ba", "'d' (pushed during the run) ran in it");
	run_once();
	cr_assert_str_eq(trace, "bad");
	cr_assert(duet_list_empty(&items[3].link), "a run item stays linked");
}

Test(cq, flush_runs_everything_now_and_cancel_forgets, .init = cq_setup)
{
	duet_cq_push(&cq, &items[0].link);
	duet_cq_push(&cq, &items[1].link);
	duet_cq_flush(&cq);
	/* 'a' pushed 'd' during the flush: a flush leaves nothing behind. */
	cr_assert_str_eq(trace, "abd");
	duet_cq_push(&cq, &items[2].link);
	duet_cq_cancel(&cq);
	cr_assert(duet_list_empty(&items[2].link));
	run_once();
	cr_assert_str_eq(trace, "abd", "a cancelled item ran");
}
