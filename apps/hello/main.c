/* hello: the smallest Duet app. Prints a banner, ticks a periodic timer a
 * few times next to a one-shot timer, then shuts down in order.
 *
 *   ticks=N        periodic ticks before shutting down (0: run until told)
 *   interval=TIME  time between ticks (default 100ms)
 *   exit=CODE      exit code to end with (default 0)
 */
#include <duet/duet.h>

struct hello {
	struct duet_loop *loop;
	struct duet_timer tick;
	struct duet_timer once;
	struct duet_stop_hook stop;
	long long ticks_left;
	long long ticks_done;
	int exit_code;
};

static void hello_tick(struct duet_timer *t, void *arg)
{
	struct hello *h = arg;

	h->ticks_done++;
	DUET_INFO("hello", "tick %lld at %llu ms", h->ticks_done,
		  (unsigned long long)(duet_loop_uptime(h->loop) / DUET_NSEC_PER_MSEC));
	if (h->ticks_left > 0 && --h->ticks_left == 0) {
		duet_timer_stop(t);
		duet_shutdown(h->loop, h->exit_code);
	}
}

static void hello_once(struct duet_timer *t, void *arg)
{
	struct hello *h = arg;
	(void)t;
	DUET_INFO("hello", "one-shot timer fired at %llu ms",
		  (unsigned long long)(duet_loop_uptime(h->loop) / DUET_NSEC_PER_MSEC));
}

static void hello_stop(struct duet_stop_hook *hook, void *arg)
{
	struct hello *h = arg;

	duet_timer_stop(&h->tick);
	duet_timer_stop(&h->once);
	DUET_INFO("hello", "stopping after %lld ticks, exit code %d",
		  h->ticks_done, h->exit_code);
	duet_stop_done(hook);
}

static int hello_start(struct duet_loop *loop, void *arg)
{
	static struct hello h;
	struct duet_args *args = duet_loop_args(loop);
	duet_time_t interval;
	long long code;
	int r;
	(void)arg;

	if ((r = duet_args_get_int(args, "ticks", 3, 0, 1000000, &h.ticks_left)) < 0 ||
	    (r = duet_args_get_duration(args, "interval", DUET_MSEC(100), &interval)) < 0 ||
	    (r = duet_args_get_int(args, "exit", 0, 0, 255, &code)) < 0)
		return r;
	if (interval == 0) {
		DUET_ERROR("hello", "interval=0: the interval must be positive");
		return -EINVAL;
	}
	h.loop = loop;
	h.exit_code = (int)code;

	DUET_INFO("hello", "Hello from Duet %s on %s (commit %s)",
		  duet_buildinfo.version, duet_buildinfo.platform,
		  duet_buildinfo.commit);
	duet_timer_init(loop, &h.tick, hello_tick, &h);
	duet_timer_init(loop, &h.once, hello_once, &h);
	duet_timer_start(&h.tick, interval, interval);
	duet_timer_start(&h.once, interval + interval / 2, 0);
	duet_on_stop(loop, &h.stop, hello_stop, &h);
	return 0;
}

DUET_APP(.name = "hello",
	 .summary = "prints a banner, ticks a timer, shuts down in order",
	 .args_help = "  ticks=N        ticks before shutting down, 0 = until "
		      "stopped (default 3)\n"
		      "  interval=TIME  time between ticks (default 100ms)\n"
		      "  exit=CODE      exit code to end with, 0-255 (default 0)",
	 .start = hello_start);
