/* Orderly shutdown: stop hooks, newest first, bounded by a timeout. */
#include <assert.h>

#include <duet/app.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "core.h"

#define SHUTDOWN_TIMEOUT_DEFAULT DUET_SEC(5)

static void shutdown_timed_out(struct duet_timer *t, void *arg)
{
	struct duet_loop *loop = arg;
	(void)t;
	DUET_ERROR("duet", "shutdown: %u stop hook(s) still running after the "
		   "timeout; stopping anyway", loop->stop_hooks_pending);
	duet_loop_stop(loop, DUET_EXIT_STOP_TIMEOUT);
}

static void shutdown_finish_if_done(struct duet_loop *loop)
{
	if (loop->shutting_down && loop->stop_hooks_pending == 0) {
		duet_timer_stop(&loop->shutdown_timer);
		duet_loop_stop(loop, loop->shutdown_code);
	}
}

static void hook_call(struct duet_stop_hook *hook)
{
	hook->called = true;
	hook->cb(hook, hook->arg);
}

/* Hooks run from a deferred callback, not from inside duet_shutdown(),
 * which is often called from deep inside a device or signal callback. */
static void shutdown_run_hooks(struct duet_defer *d, void *arg)
{
	struct duet_loop *loop = arg;
	(void)d;

	while (!duet_list_empty(&loop->stop_hooks)) {
		struct duet_stop_hook *hook = duet_container_of(
			loop->stop_hooks.prev, struct duet_stop_hook, link);
		duet_list_unlink(&hook->link);
		hook_call(hook);
	}
	shutdown_finish_if_done(loop);
}

void duet__shutdown_init(struct duet_loop *loop)
{
	duet_list_init(&loop->stop_hooks);
	loop->stop_hooks_pending = 0;
	loop->shutting_down = false;
	loop->shutdown_code = 0;
	loop->shutdown_timeout = SHUTDOWN_TIMEOUT_DEFAULT;
	duet_timer_init(loop, &loop->shutdown_timer, shutdown_timed_out, loop);
	duet_defer_init(loop, &loop->shutdown_defer, shutdown_run_hooks, loop);
}

void duet_on_stop(struct duet_loop *loop, struct duet_stop_hook *hook,
		  duet_stop_cb cb, void *arg)
{
	assert(loop != NULL && hook != NULL && cb != NULL);
	hook->loop = loop;
	hook->cb = cb;
	hook->arg = arg;
	hook->called = false;
	hook->done = false;
	loop->stop_hooks_pending++;
	duet_list_init(&hook->link);
	duet_list_insert_tail(&loop->stop_hooks, &hook->link);
	if (loop->shutting_down)
		duet_defer_post(&loop->shutdown_defer);
}

void duet_stop_hook_remove(struct duet_stop_hook *hook)
{
	if (hook->loop == NULL || hook->called || hook->done)
		return;
	duet_list_unlink(&hook->link);
	hook->done = true;
	hook->loop->stop_hooks_pending--;
	shutdown_finish_if_done(hook->loop);
}

void duet_stop_done(struct duet_stop_hook *hook)
{
	assert(hook->loop != NULL && hook->called &&
	       "duet_stop_done on a hook that was not called");
	if (hook->done)
		return;
	hook->done = true;
	hook->loop->stop_hooks_pending--;
	shutdown_finish_if_done(hook->loop);
}

void duet_shutdown(struct duet_loop *loop, int exit_code)
{
	if (loop->shutting_down || loop->stop_flag)
		return;
	loop->shutting_down = true;
	loop->shutdown_code = exit_code;
	duet_timer_start(&loop->shutdown_timer, loop->shutdown_timeout, 0);
	duet_defer_post(&loop->shutdown_defer);
}

void duet_exit(struct duet_loop *loop, int exit_code)
{
	duet_timer_stop(&loop->shutdown_timer);
	duet_loop_stop(loop, exit_code);
}

bool duet_shutting_down(const struct duet_loop *loop)
{
	return loop->shutting_down;
}
