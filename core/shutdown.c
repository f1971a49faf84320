/* Orderly shutdown: stop hooks, newest first, bounded by a timeout. */
#include <assert.h>

#include <duet/app.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/sys.h>

#include "core.h"

#define SHUTDOWN_TIMEOUT_DEFAULT DUET_SEC(5)

static void shutdown_timed_out(struct duet_timer *t, void *arg)
{
	struct duet_sys *sys = arg;
	(void)t;
	DUET_ERROR("duet", "shutdown: %u stop hook(s) still running after the "
		   "timeout; stopping anyway", sys->stop_hooks_pending);
	duet_loop_stop(&sys->loop, DUET_EXIT_STOP_TIMEOUT);
}

static void shutdown_finish_if_done(struct duet_sys *sys)
{
	if (sys->shutting_down && sys->stop_hooks_pending == 0) {
		duet_timer_stop(&sys->shutdown_timer);
		duet_loop_stop(&sys->loop, sys->shutdown_code);
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
	struct duet_sys *sys = arg;
	(void)d;

	while (!duet_list_empty(&sys->stop_hooks)) {
		struct duet_stop_hook *hook = duet_container_of(
			sys->stop_hooks.prev, struct duet_stop_hook, link);
		duet_list_unlink(&hook->link);
		hook_call(hook);
	}
	shutdown_finish_if_done(sys);
}

void duet__shutdown_init(struct duet_sys *sys)
{
	duet_list_init(&sys->stop_hooks);
	sys->stop_hooks_pending = 0;
	sys->shutting_down = false;
	sys->shutdown_code = 0;
	sys->shutdown_timeout = SHUTDOWN_TIMEOUT_DEFAULT;
	duet_timer_init(&sys->loop, &sys->shutdown_timer, shutdown_timed_out,
			sys);
	duet_defer_init(&sys->loop, &sys->shutdown_defer, shutdown_run_hooks,
			sys);
}

void duet_on_stop(struct duet_loop *loop, struct duet_stop_hook *hook,
		  duet_stop_cb cb, void *arg)
{
	assert(loop != NULL && hook != NULL && cb != NULL);
	struct duet_sys *sys = duet_sys_of(loop);

	hook->loop = loop;
	hook->cb = cb;
	hook->arg = arg;
	hook->called = false;
	hook->done = false;
	sys->stop_hooks_pending++;
	duet_list_init(&hook->link);
	duet_list_insert_tail(&sys->stop_hooks, &hook->link);
	if (sys->shutting_down)
		duet_defer_post(&sys->shutdown_defer);
}

static void hook_finished(struct duet_stop_hook *hook)
{
	struct duet_sys *sys = duet_sys_of(hook->loop);

	hook->done = true;
	sys->stop_hooks_pending--;
	shutdown_finish_if_done(sys);
}

void duet_stop_hook_remove(struct duet_stop_hook *hook)
{
	if (hook->loop == NULL || hook->called || hook->done)
		return;
	duet_list_unlink(&hook->link);
	hook_finished(hook);
}

void duet_stop_done(struct duet_stop_hook *hook)
{
	assert(hook->loop != NULL && hook->called &&
	       "duet_stop_done on a hook that was not called");
	if (!hook->done)
		hook_finished(hook);
}

void duet_shutdown(struct duet_loop *loop, int exit_code)
{
	struct duet_sys *sys = duet_sys_of(loop);

	if (sys->shutting_down || loop->stop_flag)
		return;
	sys->shutting_down = true;
	sys->shutdown_code = exit_code;
	duet_timer_start(&sys->shutdown_timer, sys->shutdown_timeout, 0);
	duet_defer_post(&sys->shutdown_defer);
}

void duet_exit(struct duet_loop *loop, int exit_code)
{
	duet_timer_stop(&duet_sys_of(loop)->shutdown_timer);
	duet_loop_stop(loop, exit_code);
}

bool duet_shutting_down(const struct duet_loop *loop)
{
	return duet_sys_of(loop)->shutting_down;
}
