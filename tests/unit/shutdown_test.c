/* Orderly shutdown, stop hooks, exit codes and the boot sequence. */
#include <criterion/criterion.h>

#include <duet/device.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/sys.h>
#include <duet/loop.h>

#include "fakeplat.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet_args args;
static int start_result;
static int started;
static const char *open_disk; /* a device the app looks up at start */
static struct duet_timer app_timer;
static bool discovering; /* a platform's discovery is not over yet */

static void app_quit(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_shutdown(loop, 9);
}

static int test_start(struct duet_loop *l, void *arg)
{
	long long v;
	(void)arg;
	cr_assert_not(discovering, "the app started during discovery");
	started++;
	int r = duet_args_get_int(duet_loop_args(l), "n", 0, 0, 5, &v);
	if (r < 0)
		return r;
	if (start_result < 0)
		return start_result;
	if (open_disk != NULL)
		cr_assert_not_null(
		    duet_device_find(l, open_disk, DUET_DEVICE_BLOCK));
	if (v == 5) {
		duet_exit(l, 42);
		return 0;
	}
	duet_timer_init(l, &app_timer, app_quit, NULL);
	duet_timer_start(&app_timer, DUET_MSEC(5), 0);
	return 0;
}

DUET_APP(.name = "testapp", .start = test_start, .args_help = "  n=N  a number");

static void setup(void)
{
	fakeplat_reset();
	duet_log_set_level(DUET_LOG_INFO);
	duet_args_init(&args);
	duet_sys_init(&sys, &args);
	start_result = 0;
	open_disk = NULL;
	started = 0;
	discovering = false;
}

TestSuite(shutdown, .init = setup);
TestSuite(boot, .init = setup);

static char order[16];
static unsigned norder;
static struct duet_stop_hook *deferred_hook;

static void hook_now(struct duet_stop_hook *h, void *arg)
{
	order[norder++] = *(const char *)arg;
	duet_stop_done(h);
}

static void hook_later(struct duet_stop_hook *h, void *arg)
{
	order[norder++] = *(const char *)arg;
	deferred_hook = h;
}

static void finish_later(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_stop_done(deferred_hook);
}

static void begin_shutdown(struct duet_timer *t, void *arg)
{
	(void)t;
	duet_shutdown(loop, (int)(intptr_t)arg);
	duet_shutdown(loop, 99); /* ignored: already shutting down */
}

Test(shutdown, hooks_run_newest_first_and_the_loop_ends_with_the_code)
{
	static struct duet_stop_hook a, b;
	static struct duet_timer t;
	norder = 0;

	duet_on_stop(loop, &a, hook_now, "a");
	duet_on_stop(loop, &b, hook_now, "b");
	duet_timer_init(loop, &t, begin_shutdown, (void *)4);
	duet_timer_start(&t, DUET_MSEC(1), 0);
	cr_assert_eq(duet_loop_run(loop), 4);
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[0], 'b');
	cr_assert_eq(order[1], 'a');
}

Test(shutdown, waits_for_a_hook_that_finishes_later)
{
	static struct duet_stop_hook a;
	static struct duet_timer t, later;
	norder = 0;

	duet_on_stop(loop, &a, hook_later, "a");
	duet_timer_init(loop, &t, begin_shutdown, (void *)0);
	duet_timer_init(loop, &later, finish_later, NULL);
	duet_timer_start(&t, DUET_MSEC(1), 0);
	duet_timer_start(&later, DUET_MSEC(500), 0);
	duet_time_t start = duet_loop_now(loop);
	cr_assert_eq(duet_loop_run(loop), 0);
	cr_assert_eq(duet_loop_now(loop) - start, DUET_MSEC(500));
}

Test(shutdown, a_hook_that_never_finishes_hits_the_timeout)
{
	static struct duet_stop_hook a;
	static struct duet_timer t;
	norder = 0;

	duet_on_stop(loop, &a, hook_later, "a");
	duet_timer_init(loop, &t, begin_shutdown, (void *)0);
	duet_timer_start(&t, 0, 0);
	duet_time_t start = duet_loop_now(loop);
	cr_assert_eq(duet_loop_run(loop), DUET_EXIT_STOP_TIMEOUT);
	cr_assert_eq(duet_loop_now(loop) - start, DUET_SEC(5));
	cr_assert(strstr(fakeplat_console(), "still running after the timeout"));
}

static void force_exit(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_exit(loop, DUET_EXIT_SIGNAL);
}

Test(shutdown, exit_during_a_shutdown_stops_at_once_with_its_code)
{
	static struct duet_stop_hook a;
	static struct duet_timer t, f;

	duet_on_stop(loop, &a, hook_later, "a");
	duet_timer_init(loop, &t, begin_shutdown, (void *)0);
	duet_timer_init(loop, &f, force_exit, NULL);
	duet_timer_start(&t, 0, 0);
	duet_timer_start(&f, DUET_MSEC(100), 0);
	cr_assert_eq(duet_loop_run(loop), DUET_EXIT_SIGNAL);
	cr_assert(duet_shutting_down(loop));
}

Test(shutdown, removed_hook_is_not_called_and_no_hooks_means_prompt_exit)
{
	static struct duet_stop_hook a;
	static struct duet_timer t;
	norder = 0;

	duet_on_stop(loop, &a, hook_now, "a");
	duet_stop_hook_remove(&a);
	duet_timer_init(loop, &t, begin_shutdown, (void *)6);
	duet_timer_start(&t, 0, 0);
	cr_assert_eq(duet_loop_run(loop), 6);
	cr_assert_eq(norder, 0);
	cr_assert_eq(fakeplat_wait_count(), 0);
}

Test(boot, exit_from_the_start_function_is_honoured)
{
	duet_args_add(&args, "n=5", NULL, 0);
	cr_assert_eq(duet_boot(&sys), 42);
	cr_assert_eq(fakeplat_wait_count(), 0);
}

Test(boot, runs_the_app_until_it_shuts_down)
{
	cr_assert_eq(duet_args_add(&args, "n=3", NULL, 0), 0);
	cr_assert_eq(duet_boot(&sys), 9);
	cr_assert_eq(started, 1);
	/* Discovery over at once (as on POSIX) is not worth a line. */
	cr_assert_null(strstr(fakeplat_console(), "discovery took"), "%s",
		       fakeplat_console());
}

/* ---- a platform whose discovery takes the loop (Xen's handshakes) ---- */

static struct {
	duet_plat_discovered_cb done;
	unsigned waits;		 /* waits since discovery began */
	unsigned finish_at;	 /* the wait that ends it */
	bool shutdown_first;	 /* a shutdown request comes in that wait too */
	unsigned timer_fires;	 /* the loop's timer, before the app started */
	bool defer_ran;		 /* the loop's defer, before the app started */
	struct duet_device disk; /* what the handshake found */
} disco;

static void discover_later(struct duet_loop *l, duet_plat_discovered_cb done)
{
	(void)l;
	disco.done = done;
	discovering = true;
}

/* The wait of a platform with a handshake: sleeps to the deadline, and
 * the backend answers inside a wait, as device events do. */
static void handshake_wait(struct duet_loop *l, void *arg)
{
	(void)arg;
	cr_assert_neq(duet_loop_next_deadline(l), DUET_TIME_INFINITE);
	fakeplat_set_time(duet_loop_next_deadline(l));
	if (!discovering || ++disco.waits < disco.finish_at)
		return;
	if (disco.shutdown_first)
		duet_shutdown(l, 0);
	cr_assert_eq(duet_device_register(l, &disco.disk, DUET_DEVICE_BLOCK,
					  "disk0"),
		     0);
	discovering = false;
	disco.done(l);
}

static void loop_timer(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (started == 0)
		disco.timer_fires++;
}

static void loop_defer(struct duet_defer *d, void *arg)
{
	(void)d;
	(void)arg;
	disco.defer_ran = started == 0;
}

static void discover_in_the_loop(unsigned finish_at, bool shutdown_first)
{
	static struct duet_timer t;
	static struct duet_defer d;

	memset(&disco, 0, sizeof(disco));
	disco.finish_at = finish_at;
	disco.shutdown_first = shutdown_first;
	fakeplat_set_discover(discover_later);
	fakeplat_set_wait_hook(handshake_wait, NULL);
	/* What the loop already runs at boot (the platform's own work). */
	duet_timer_init(loop, &t, loop_timer, NULL);
	duet_timer_start(&t, DUET_MSEC(10), DUET_MSEC(10));
	duet_defer_init(loop, &d, loop_defer, NULL);
	duet_defer_post(&d);
}

Test(boot, the_app_starts_once_discovery_is_over_and_the_loop_runs_meanwhile)
{
	discover_in_the_loop(4, false);
	open_disk = "disk0"; /* found by the handshake, before start */
	cr_assert_eq(duet_args_add(&args, "n=3", NULL, 0), 0);
	cr_assert_eq(duet_boot(&sys), 9);
	cr_assert_eq(started, 1);
	cr_assert(disco.defer_ran);
	cr_assert_eq(disco.timer_fires, 4, "timer fired %u times",
		     disco.timer_fires);
	cr_assert(strstr(fakeplat_console(),
			 "duet: devices: disk0 (discovery took 40 ms)"),
		  "%s", fakeplat_console());
}

Test(boot, a_shutdown_during_discovery_ends_the_run_without_the_app)
{
	discover_in_the_loop(2, true);
	cr_assert_eq(duet_boot(&sys), 0);
	cr_assert_eq(started, 0);
	cr_assert_not(discovering);
}

Test(boot, a_bad_core_argument_ends_the_boot_before_discovery)
{
	discover_in_the_loop(2, false);
	duet_args_add(&args, "log=nonsense", NULL, 0);
	cr_assert_eq(duet_boot(&sys), DUET_EXIT_USAGE);
	cr_assert_null(disco.done, "discovery began");
}

Test(boot, unknown_argument_ends_with_usage_and_names_it)
{
	duet_args_add(&args, "tpyo=1", NULL, 0);
	cr_assert_eq(duet_boot(&sys), DUET_EXIT_USAGE);
	cr_assert(strstr(fakeplat_console(), "unknown boot argument 'tpyo'"),
		  "%s", fakeplat_console());
	cr_assert(strstr(fakeplat_console(), "n=N  a number"));
}

Test(boot, malformed_app_argument_is_a_usage_error)
{
	duet_args_add(&args, "n=seven", NULL, 0);
	cr_assert_eq(duet_boot(&sys), DUET_EXIT_USAGE);
	cr_assert(strstr(fakeplat_console(), "n=seven: not an integer"));
}

Test(boot, start_failure_is_exit_failure_with_the_reason)
{
	start_result = -ENOMEM;
	cr_assert_eq(duet_boot(&sys), DUET_EXIT_FAILURE);
	cr_assert(strstr(fakeplat_console(), "testapp failed to start: out of memory"));
}

/* Declared devices the app never looked up at start, and a network asked
 * for but not opened, are warned about; the ones it used are not. */
Test(boot, unused_devices_and_network_are_reported)
{
	static struct duet_device used, unused;

	cr_assert_eq(duet_device_register(loop, &used, DUET_DEVICE_BLOCK,
					  "disk0"),
		     0);
	cr_assert_eq(duet_device_register(loop, &unused, DUET_DEVICE_BLOCK,
					  "disk1"),
		     0);
	open_disk = "disk0";
	cr_assert_eq(duet_args_add(&args, "n=3", NULL, 0), 0);
	cr_assert_eq(duet_args_add(&args, "net=socket", NULL, 0), 0);
	cr_assert_eq(duet_boot(&sys), 9);
	const char *out = fakeplat_console();
	cr_assert(strstr(out, "disk1 (a block device) is not used by testapp"),
		  "%s", out);
	cr_assert_null(strstr(out, "disk0 (a"), "%s", out);
	cr_assert(strstr(out, "a network was asked for (net=socket), but "
			      "testapp does not use one"),
		  "%s", out);
}

Test(boot, core_arguments_log_level_and_shutdown_timeout)
{
	duet_args_add(&args, "log=nonsense", NULL, 0);
	cr_assert_eq(duet_boot(&sys), DUET_EXIT_USAGE);
	cr_assert_eq(started, 0);

	setup();
	duet_args_add(&args, "log=error", NULL, 0);
	duet_args_add(&args, "shutdown_timeout=2s", NULL, 0);
	cr_assert_eq(duet_boot(&sys), 9);
	cr_assert_eq(duet_log_get_level(), DUET_LOG_ERROR);
	cr_assert_eq(sys.shutdown_timeout, DUET_SEC(2));
}
