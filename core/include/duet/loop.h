/* duet/loop.h — the event loop: timers and deferred callbacks.
 *
 * Duet is single-threaded and run-to-completion: every callback runs from
 * duet_loop_run() on the one thread, to its end, and no call in the interface
 * set ever blocks. One iteration of the loop is, in order:
 *
 *   1. read the monotonic clock into the loop's cached "now";
 *   2. run the timers whose deadline is <= now, earliest first (ties in the
 *      order they were started); a timer started during this phase runs in a
 *      later iteration even if it is already due;
 *   3. run the deferred callbacks posted before this phase began, in posting
 *      order; ones posted during it run in the next iteration;
 *   4. stop here if duet_loop_stop() was called;
 *   5. wait in the platform until a device event or the next timer deadline
 *      (not at all if deferred callbacks are pending); device callbacks run
 *      inside this wait.
 *
 * Timers and deferred callbacks are caller-allocated: the caller owns the
 * struct, which must stay valid and unmoved while it is active. Starting,
 * stopping and posting never allocate and may be done from any callback,
 * including the object's own. The fields of these structs are private.
 *
 * There is exactly one loop per system; the platform creates it (as part of
 * its struct duet_sys) and hands it to the app's start function
 * (duet/app.h).
 */
#ifndef DUET_LOOP_H
#define DUET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/clock.h>
#include <duet/list.h>

struct duet_loop;
struct duet_timer;
struct duet_defer;
struct duet_args;
struct duet_sys;

typedef void (*duet_timer_cb)(struct duet_timer *timer, void *arg);
typedef void (*duet_defer_cb)(struct duet_defer *defer, void *arg);

struct duet_heap_node {
	struct duet_heap_node *child;
	struct duet_heap_node *next;
	struct duet_heap_node *prev; /* parent if first child, else left sibling */
};

struct duet_timer {
	struct duet_heap_node node;
	struct duet_loop *loop;
	duet_timer_cb cb;
	void *arg;
	duet_time_t deadline;
	duet_time_t repeat;
	uint64_t seq;
	bool active;
};

struct duet_defer {
	struct duet_list link;
	struct duet_loop *loop;
	duet_defer_cb cb;
	void *arg;
	bool pending;
};

struct duet_loop {
	duet_time_t now;
	duet_time_t boot_time;
	struct duet_heap_node *timers;
	uint64_t timer_seq;
	unsigned active_timers;
	struct duet_list defers;
	bool stop_flag;
	int exit_code;
	struct duet_sys *sys; /* the system that owns it (duet/sys.h), or NULL */
};

/* Initialises a bare loop (no system: duet/sys.h) whose "now" starts at the
 * current monotonic time. */
void duet_loop_init(struct duet_loop *loop);

/* Runs iterations until duet_loop_stop(); returns the exit code it was given.
 * Must not be called from inside a callback of the same loop. */
int duet_loop_run(struct duet_loop *loop);

/* Ends duet_loop_run() after the current iteration's deferred phase, with
 * `exit_code` as its result. Does not run stop hooks: see duet_shutdown(). */
void duet_loop_stop(struct duet_loop *loop, int exit_code);

/* The time cached at the start of the current iteration, and again when
 * the loop wakes from its wait (duet/platform.h): timers and defers of an
 * iteration share one "now", and a device callback's "now" is never from
 * before the sleep that preceded it. (Timer deadlines are computed from
 * the clock itself when the timer is started.) */
duet_time_t duet_loop_now(const struct duet_loop *loop);
void duet_loop_update_time(struct duet_loop *loop);

/* Time since duet_loop_init(), in nanoseconds. */
duet_time_t duet_loop_uptime(const struct duet_loop *loop);

/* The boot arguments of the loop's system (NULL for a bare loop or a system
 * without any, in tests). */
struct duet_args *duet_loop_args(const struct duet_loop *loop);

/* The earliest active timer's deadline, or DUET_TIME_INFINITE. */
duet_time_t duet_loop_next_deadline(const struct duet_loop *loop);

/* Timers. A timer fires once `timeout` after start; if `repeat` is non-zero
 * it then fires every `repeat`, on a fixed grid (start + timeout + k*repeat)
 * so lateness does not accumulate; periods missed while the loop was busy
 * are skipped, not run in a burst. duet_timer_start() on an active timer
 * restarts it. duet_timer_stop() on an inactive timer does nothing. */
void duet_timer_init(struct duet_loop *loop, struct duet_timer *timer,
		     duet_timer_cb cb, void *arg);
void duet_timer_start(struct duet_timer *timer, duet_time_t timeout,
		      duet_time_t repeat);
void duet_timer_stop(struct duet_timer *timer);
bool duet_timer_active(const struct duet_timer *timer);

/* Deferred callbacks: run `cb` from the loop soon, outside the current call
 * stack. Posting a pending defer does nothing (it still runs once). */
void duet_defer_init(struct duet_loop *loop, struct duet_defer *defer,
		     duet_defer_cb cb, void *arg);
void duet_defer_post(struct duet_defer *defer);
void duet_defer_cancel(struct duet_defer *defer);
bool duet_defer_pending(const struct duet_defer *defer);

/* Completion queues: the one way a module keeps "never call back inside
 * the caller's call" (block requests, key-value requests, a connection's
 * events). Items are list links the owner embeds; a pushed item is handed
 * to `run` from the loop, in push order. Each run takes what was queued
 * before it began: items pushed from inside `run` wait for the next
 * iteration. An item (initialised with duet_list_init) is in at most one
 * queue at a time; pushing it while it is queued does nothing, and the
 * owner may take it back out with duet_list_unlink() before it runs. */
struct duet_cq;
typedef void (*duet_cq_cb)(struct duet_cq *cq, struct duet_list *item,
			   void *arg);

struct duet_cq {
	struct duet_list items;
	struct duet_defer defer;
	duet_cq_cb run;
	void *arg;
};

void duet_cq_init(struct duet_loop *loop, struct duet_cq *cq, duet_cq_cb run,
		  void *arg);
/* Queues `item` unless it is queued already. */
void duet_cq_push(struct duet_cq *cq, struct duet_list *item);
/* Runs every queued item now, including ones pushed meanwhile (a teardown
 * that must not leave any behind). */
void duet_cq_flush(struct duet_cq *cq);
/* Forgets every queued item without running it. */
void duet_cq_cancel(struct duet_cq *cq);

#endif
