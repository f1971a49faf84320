/* The dispatch loop and deferred callbacks; the phases are listed in
 * duet/loop.h. */
#include <assert.h>

#include <duet/app.h>
#include <duet/loop.h>
#include <duet/platform.h>
#include <duet/sys.h>

#include "core.h"

void duet_loop_init(struct duet_loop *loop)
{
	loop->now = duet_plat_clock_monotonic();
	loop->boot_time = loop->now;
	loop->timers = NULL;
	loop->timer_seq = 0;
	loop->active_timers = 0;
	duet_list_init(&loop->defers);
	loop->stop_flag = false;
	loop->exit_code = 0;
	loop->sys = NULL;
}

void duet_sys_init(struct duet_sys *sys, struct duet_args *args)
{
	duet_loop_init(&sys->loop);
	sys->loop.sys = sys;
	sys->args = args;
	duet_list_init(&sys->devices);
	sys->discover_returned = false;
	sys->discovered = false;
	sys->stack = NULL;
	sys->rr = NULL;
	duet__shutdown_init(sys);
}

struct duet_sys *duet_sys_of(const struct duet_loop *loop)
{
	assert(loop->sys != NULL && "a bare loop has no system (duet/sys.h)");
	return loop->sys;
}

duet_time_t duet_loop_now(const struct duet_loop *loop)
{
	return loop->now;
}

void duet_loop_update_time(struct duet_loop *loop)
{
	loop->now = duet_plat_clock_monotonic();
}

duet_time_t duet_loop_uptime(const struct duet_loop *loop)
{
	return loop->now - loop->boot_time;
}

struct duet_args *duet_loop_args(const struct duet_loop *loop)
{
	return loop->sys != NULL ? loop->sys->args : NULL;
}

void duet_loop_stop(struct duet_loop *loop, int exit_code)
{
	if (!loop->stop_flag)
		loop->exit_code = exit_code;
	loop->stop_flag = true;
}

static void defers_run(struct duet_loop *loop)
{
	struct duet_list batch;

	/* Only what was posted before the phase: a callback that re-posts
	 * itself runs again next iteration instead of starving the wait. */
	duet_list_move_all(&loop->defers, &batch);
	while (!duet_list_empty(&batch)) {
		struct duet_defer *d =
			duet_container_of(batch.next, struct duet_defer, link);

		duet_list_unlink(&d->link);
		d->pending = false;
		d->cb(d, d->arg);
	}
}

static void cq_run(struct duet_defer *d, void *arg)
{
	struct duet_cq *cq = arg;
	struct duet_list batch;
	(void)d;

	duet_list_move_all(&cq->items, &batch);
	while (!duet_list_empty(&batch)) {
		struct duet_list *item = batch.next;

		duet_list_unlink(item);
		cq->run(cq, item, cq->arg);
	}
}

void duet_cq_init(struct duet_loop *loop, struct duet_cq *cq, duet_cq_cb run,
		  void *arg)
{
	assert(run != NULL);
	duet_list_init(&cq->items);
	duet_defer_init(loop, &cq->defer, cq_run, cq);
	cq->run = run;
	cq->arg = arg;
}

void duet_cq_push(struct duet_cq *cq, struct duet_list *item)
{
	if (!duet_list_empty(item))
		return;
	duet_list_insert_tail(&cq->items, item);
	duet_defer_post(&cq->defer);
}

void duet_cq_flush(struct duet_cq *cq)
{
	duet_defer_cancel(&cq->defer);
	while (!duet_list_empty(&cq->items)) {
		struct duet_list *item = cq->items.next;

		duet_list_unlink(item);
		cq->run(cq, item, cq->arg);
	}
}

void duet_cq_cancel(struct duet_cq *cq)
{
	duet_defer_cancel(&cq->defer);
	while (!duet_list_empty(&cq->items))
		duet_list_unlink(cq->items.next);
}

int duet_loop_run(struct duet_loop *loop)
{
	/* A stop requested before the run (an app that exits from its start
	 * function) ends it after one iteration. */
	for (;;) {
		duet_loop_update_time(loop);
		duet__timers_run(loop);
		defers_run(loop);
		if (loop->stop_flag)
			break;
		duet_time_t deadline = duet_list_empty(&loop->defers)
					       ? duet_loop_next_deadline(loop)
					       : loop->now;
		duet_plat_wait(loop, deadline);
	}
	loop->stop_flag = false; /* the loop may be run again */
	return loop->exit_code;
}

void duet_defer_init(struct duet_loop *loop, struct duet_defer *defer,
		     duet_defer_cb cb, void *arg)
{
	assert(loop != NULL && defer != NULL && cb != NULL);
	duet_list_init(&defer->link);
	defer->loop = loop;
	defer->cb = cb;
	defer->arg = arg;
	defer->pending = false;
}

void duet_defer_post(struct duet_defer *defer)
{
	assert(defer->loop != NULL && "duet_defer_post before duet_defer_init");
	if (defer->pending)
		return;
	defer->pending = true;
	duet_list_insert_tail(&defer->loop->defers, &defer->link);
}

void duet_defer_cancel(struct duet_defer *defer)
{
	if (!defer->pending)
		return;
	duet_list_unlink(&defer->link);
	defer->pending = false;
}

bool duet_defer_pending(const struct duet_defer *defer)
{
	return defer->pending;
}
