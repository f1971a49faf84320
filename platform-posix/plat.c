/* The POSIX platform's one-per-system services: wait, clocks, console,
 * entropy. */
#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <duet/loop.h>
#include <duet/platform.h>
#include <duet/replay.h>

#include "posix.h"

static uv_loop_t *uv_main;
static uv_timer_t deadline_timer;
static struct duet_loop *waking; /* the loop in duet_plat_wait(), if any */
static struct duet_rr *rr;	   /* recording or replaying (duet/replay.h) */
static duet_time_t flushed;	   /* when the recording last went to its file */

void duet__posix_rr_set(struct duet_rr *r)
{
	rr = r;
}

struct duet_rr *duet__posix_rr(void)
{
	return rr;
}

uv_loop_t *duet__posix_uv(void)
{
	return uv_main;
}

/* Devices come from the command line, before boot, so discovery is over
 * at once; a replay's come from the log where the recording had them. The
 * drivers of both kinds are always linked: the command line may name any. */
struct duet_plat_drivers {
	char none;
};
const struct duet_plat_drivers duet_plat_netif_drivers, duet_plat_block_drivers;

void duet_plat_discover(struct duet_loop *loop, duet_plat_discovered_cb done)
{
	duet_rr_devices(rr, loop);
	done(loop);
}

/* uv_run(UV_RUN_ONCE) runs due timers *before* it polls, and a timer that
 * fired there does not count as progress: with no other event the poll
 * then blocks forever. That happens whenever the deadline passes between
 * uv_timer_start() and uv_run() (often under valgrind). uv_stop() makes
 * that poll non-blocking. Platform code should use duet timers, not libuv
 * timers, for the same reason. */
static void deadline_reached(uv_timer_t *t)
{
	uv_stop(t->loop);
}

void duet__posix_plat_init(uv_loop_t *uv)
{
	uv_main = uv;
	uv_timer_init(uv, &deadline_timer);
	/* The deadline timer alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&deadline_timer);
}

void duet__posix_plat_close(void)
{
	uv_close((uv_handle_t *)&deadline_timer, NULL);
}

/* libuv dispatches inside uv_run() right after its poll, with no hook
 * between the two: each callback that enters duet code says so here, and
 * the loop's clock is brought past the sleep (platform.h). */
void duet__posix_woke(void)
{
	duet__posix_trim_woke();
	if (waking != NULL) {
		duet_rr_wake(rr);
		duet_loop_update_time(waking);
	}
}

static duet_time_t clock_ns(clockid_t id);

/* The platform's own clock reads (how long to sleep) are not the code's
 * and are not recorded. */
static duet_time_t mono_raw(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static duet_time_t wall_raw(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static void wait_uv(struct duet_loop *loop, duet_time_t deadline)
{
	duet_time_t now = mono_raw(), asked = deadline;

	if (deadline <= now) {
		uv_run(uv_main, UV_RUN_NOWAIT);
		return;
	}
	duet__posix_trim(uv_main, now, &deadline);
	/* A crash loses at most what the fatal-signal handler cannot write;
	 * a kill, what came since the last sleep at most 100 ms ago. */
	if (rr != NULL && now - flushed > DUET_MSEC(100)) {
		duet_rr_flush(rr);
		flushed = now;
	}
	if (deadline != DUET_TIME_INFINITE) {
		/* libuv counts whole milliseconds: round up, never early. */
		uint64_t ms = (deadline - now + DUET_NSEC_PER_MSEC - 1) /
			      DUET_NSEC_PER_MSEC;
		uv_update_time(uv_main);
		uv_timer_start(&deadline_timer, deadline_reached, ms, 0);
		uv_ref((uv_handle_t *)&deadline_timer);
	}
	waking = loop;
	uv_run(uv_main, UV_RUN_ONCE);
	waking = NULL;
	uv_timer_stop(&deadline_timer);
	uv_unref((uv_handle_t *)&deadline_timer);
	if (deadline == asked)
		duet__posix_trim_woke(); /* the core's timers may run now */
}

void duet_plat_wait(struct duet_loop *loop, duet_time_t deadline)
{
	if (duet_rr_wait(rr, loop, deadline))
		return;
	wait_uv(loop, deadline);
	duet_rr_wait_end(rr);
}

static duet_time_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (duet_time_t)ts.tv_sec * DUET_NSEC_PER_SEC + (duet_time_t)ts.tv_nsec;
}

duet_time_t duet_plat_clock_monotonic(void)
{
	return duet_rr_clock(rr, DUET_RR_MONO, mono_raw);
}

duet_time_t duet_plat_clock_wall(void)
{
	return duet_rr_clock(rr, DUET_RR_WALL, wall_raw);
}

void duet__posix_console_raw(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		buf += n;
		len -= (size_t)n;
	}
}

void duet_plat_console_write(const char *buf, size_t len)
{
	duet__posix_console_raw(buf, len);
	duet_rr_console(rr, buf, len);
}

/* getrandom(2) blocks until the kernel's pool is seeded, then never again. */
bool duet_plat_entropy_strong(void)
{
	return duet_rr_strong(rr, true);
}

int duet_plat_entropy(void *buf, size_t len)
{
	return duet_rr_entropy(rr, buf, len, duet__posix_random);
}

int duet__posix_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
