/* Timers on an intrusive pairing heap ordered by (deadline, start sequence).
 *
 * A pairing heap needs no array, so starting a timer never allocates, and
 * removing an arbitrary node (duet_timer_stop) is cheap given the prev link.
 */
#include <assert.h>

#include <duet/loop.h>
#include <duet/platform.h>

#include "core.h"

static bool timer_less(const struct duet_heap_node *a,
		       const struct duet_heap_node *b)
{
	const struct duet_timer *ta = duet_container_of(a, struct duet_timer, node);
	const struct duet_timer *tb = duet_container_of(b, struct duet_timer, node);

	if (ta->deadline != tb->deadline)
		return ta->deadline < tb->deadline;
	return ta->seq < tb->seq;
}

/* Joins two heap roots; the result is a root with no siblings. */
static struct duet_heap_node *heap_meld(struct duet_heap_node *a,
					struct duet_heap_node *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if (timer_less(b, a)) {
		struct duet_heap_node *t = a;
		a = b;
		b = t;
	}
	b->prev = a;
	b->next = a->child;
	if (a->child != NULL)
		a->child->prev = b;
	a->child = b;
	a->next = NULL;
	a->prev = NULL;
	return a;
}

/* The standard two-pass merge of a sibling list: pair left to right, then
 * meld the pairs right to left. Iterative, so deep heaps cannot overflow the
 * stack. */
static struct duet_heap_node *heap_merge_pairs(struct duet_heap_node *first)
{
	struct duet_heap_node *pairs = NULL; /* melded pairs, in reverse order */

	while (first != NULL) {
		struct duet_heap_node *a = first;
		struct duet_heap_node *b = a->next;

		first = b != NULL ? b->next : NULL;
		a->next = a->prev = NULL;
		if (b != NULL)
			b->next = b->prev = NULL;
		a = heap_meld(a, b);
		a->next = pairs;
		pairs = a;
	}

	struct duet_heap_node *root = NULL;
	while (pairs != NULL) {
		struct duet_heap_node *n = pairs;
		pairs = n->next;
		n->next = NULL;
		root = heap_meld(root, n);
	}
	return root;
}

static void heap_insert(struct duet_loop *loop, struct duet_heap_node *n)
{
	n->child = n->next = n->prev = NULL;
	loop->timers = heap_meld(loop->timers, n);
}

static void heap_remove(struct duet_loop *loop, struct duet_heap_node *n)
{
	struct duet_heap_node *sub = heap_merge_pairs(n->child);

	if (n == loop->timers) {
		loop->timers = sub;
		return;
	}
	if (n->prev->child == n)
		n->prev->child = n->next;
	else
		n->prev->next = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	n->child = n->next = n->prev = NULL;
	loop->timers = heap_meld(loop->timers, sub);
}

void duet_timer_init(struct duet_loop *loop, struct duet_timer *timer,
		     duet_timer_cb cb, void *arg)
{
	assert(loop != NULL && timer != NULL && cb != NULL);
	timer->node.child = timer->node.next = timer->node.prev = NULL;
	timer->loop = loop;
	timer->cb = cb;
	timer->arg = arg;
	timer->deadline = 0;
	timer->repeat = 0;
	timer->seq = 0;
	timer->active = false;
}

static void timer_schedule(struct duet_timer *timer, duet_time_t deadline)
{
	struct duet_loop *loop = timer->loop;

	timer->deadline = deadline;
	timer->seq = loop->timer_seq++;
	timer->active = true;
	loop->active_timers++;
	heap_insert(loop, &timer->node);
}

void duet_timer_start(struct duet_timer *timer, duet_time_t timeout,
		      duet_time_t repeat)
{
	assert(timer->loop != NULL && "duet_timer_start before duet_timer_init");
	duet_timer_stop(timer);
	/* The clock, not the iteration's cached now: a timer started from a
	 * device callback, after the loop slept, must not start in the past. */
	duet_time_t now = duet_plat_clock_monotonic();
	duet_time_t deadline =
		timeout > DUET_TIME_INFINITE - now ? DUET_TIME_INFINITE : now + timeout;
	timer->repeat = repeat;
	timer_schedule(timer, deadline);
}

void duet_timer_stop(struct duet_timer *timer)
{
	if (!timer->active)
		return;
	heap_remove(timer->loop, &timer->node);
	timer->active = false;
	timer->loop->active_timers--;
}

bool duet_timer_active(const struct duet_timer *timer)
{
	return timer->active;
}

duet_time_t duet_loop_next_deadline(const struct duet_loop *loop)
{
	if (loop->timers == NULL)
		return DUET_TIME_INFINITE;
	return duet_container_of(loop->timers, struct duet_timer, node)->deadline;
}

/* Next point on the timer's grid strictly after `now`. */
static duet_time_t next_on_grid(duet_time_t deadline, duet_time_t repeat,
				duet_time_t now)
{
	duet_time_t missed = now >= deadline ? (now - deadline) / repeat : 0;
	duet_time_t step = (missed + 1) * repeat;

	if (missed + 1 > DUET_TIME_INFINITE / repeat ||
	    step > DUET_TIME_INFINITE - deadline)
		return DUET_TIME_INFINITE;
	return deadline + step;
}

void duet__timers_run(struct duet_loop *loop)
{
	/* Timers started from now on carry seq >= phase_seq and sort after
	 * every timer that was due when the phase began, so stopping at the
	 * first of them bounds the phase even for zero timeouts. */
	uint64_t phase_seq = loop->timer_seq;

	while (loop->timers != NULL) {
		struct duet_timer *t =
			duet_container_of(loop->timers, struct duet_timer, node);

		if (t->deadline > loop->now || t->seq >= phase_seq)
			break;
		duet_timer_stop(t);
		if (t->repeat != 0)
			timer_schedule(t, next_on_grid(t->deadline, t->repeat,
						       loop->now));
		t->cb(t, t->arg);
	}
}
