/* The platform's own timers and deferred work, below the platform line
 * (core/REPLAY.md): a driver's watchdog or its "poll again" must not sit
 * in the core's timer heap or defer list, or it would change the loop's
 * wait deadlines and run outside any wait, and a recording would not
 * replay where that driver does not exist. duet_plat_wait() (events.c)
 * sleeps no later than the earliest of these and runs what is due inside
 * the wait, as it runs event channel handlers.
 *
 * A handful of entries at most (a watchdog and a hold timer per disk, a
 * poll per ring): a list kept in no order, scanned whole.
 */
#include <duet/list.h>

#include "xen.h"

static struct duet_list timers = {&timers, &timers};
static struct duet_list work = {&work, &work};

void duet__xt_init(struct duet__xt *t, void (*cb)(struct duet__xt *, void *),
		   void *arg)
{
	duet_list_init(&t->link);
	t->cb = cb;
	t->arg = arg;
	t->active = false;
}

void duet__xt_start(struct duet__xt *t, duet_time_t delay, duet_time_t period)
{
	t->deadline = duet__xen_now() + delay;
	t->period = period;
	if (!t->active)
		duet_list_insert_tail(&timers, &t->link);
	t->active = true;
}

void duet__xt_stop(struct duet__xt *t)
{
	if (t->active)
		duet_list_unlink(&t->link);
	t->active = false;
}

bool duet__xt_active(const struct duet__xt *t)
{
	return t->active;
}

void duet__xt_post(struct duet__xt *t)
{
	if (t->active)
		return;
	t->period = 0;
	t->active = true;
	duet_list_insert_tail(&work, &t->link);
}

duet_time_t duet__xt_next(void)
{
	duet_time_t next = DUET_TIME_INFINITE;

	if (!duet_list_empty(&work))
		return 0;
	for (struct duet_list *l = timers.next; l != &timers; l = l->next) {
		struct duet__xt *t = duet_container_of(l, struct duet__xt, link);
		if (t->deadline < next)
			next = t->deadline;
	}
	return next;
}

/* One due entry at a time, the list scanned again after each: a callback
 * may stop or start any other. Posted work runs once per call (what a
 * callback posts waits for the next wait, as a core defer would). */
int duet__xt_run(void)
{
	struct duet_list batch;
	int ran = 0;

	duet_list_init(&batch);
	duet_list_move_all(&work, &batch);
	while (!duet_list_empty(&batch)) {
		struct duet__xt *t =
		    duet_container_of(batch.next, struct duet__xt, link);
		duet_list_unlink(&t->link);
		t->active = false;
		t->cb(t, t->arg);
		ran++;
	}
	for (;;) {
		duet_time_t now = duet__xen_now();
		struct duet__xt *due = NULL;
		for (struct duet_list *l = timers.next; l != &timers;
		     l = l->next) {
			struct duet__xt *t =
			    duet_container_of(l, struct duet__xt, link);
			if (t->deadline <= now) {
				due = t;
				break;
			}
		}
		if (due == NULL)
			return ran;
		if (due->period > 0) {
			due->deadline = now + due->period;
		} else {
			duet__xt_stop(due);
		}
		due->cb(due, due->arg);
		ran++;
	}
}
