/* @APP@: a Duet app. It runs as an ordinary process (./@APP@) and as a Xen
 * guest (@APP@.xen) from this one source.
 *
 *   greeting=TEXT  what to say (default "hello")
 *   ticks=N        timer ticks before shutting down (default 3)
 */
#include <duet/duet.h>

struct app {
	struct duet_loop *loop;
	struct duet_timer tick;
	struct duet_stop_hook stop;
	long long ticks_left;
};

static void on_tick(struct duet_timer *t, void *arg)
{
	struct app *a = arg;

	DUET_INFO("@APP@", "tick at %llu ms",
		  (unsigned long long)(duet_loop_uptime(a->loop) /
				       DUET_NSEC_PER_MSEC));
	if (--a->ticks_left == 0) {
		duet_timer_stop(t);
		duet_shutdown(a->loop, 0);
	}
}

static void on_stop(struct duet_stop_hook *hook, void *arg)
{
	struct app *a = arg;

	duet_timer_stop(&a->tick);
	DUET_INFO("@APP@", "stopping");
	duet_stop_done(hook);
}

static int start(struct duet_loop *loop, void *arg)
{
	static struct app a;
	struct duet_args *args = duet_loop_args(loop);
	const char *greeting;
	int r;

	(void)arg;
	if ((r = duet_args_get_str(args, "greeting", "hello", &greeting)) < 0 ||
	    (r = duet_args_get_int(args, "ticks", 3, 1, 1000000,
				   &a.ticks_left)) < 0)
		return r;
	a.loop = loop;
	DUET_INFO("@APP@", "%s from @APP@ (commit %s) on Duet %s/%s",
		  greeting, duet_buildinfo.app_commit, duet_buildinfo.version,
		  duet_buildinfo.platform);
	duet_timer_init(loop, &a.tick, on_tick, &a);
	duet_timer_start(&a.tick, DUET_MSEC(100), DUET_MSEC(100));
	duet_on_stop(loop, &a.stop, on_stop, &a);
	return 0;
}

DUET_APP(.name = "@APP@",
	 .summary = "a new Duet app",
	 .args_help = "  greeting=TEXT  what to say (default hello)\n"
		      "  ticks=N        ticks before shutting down (default 3)",
	 .start = start);
