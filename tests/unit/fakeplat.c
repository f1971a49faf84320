#include <criterion/criterion.h>
#include <string.h>
#include <errno.h>

#include <duet/loop.h>
#include <duet/platform.h>
#include <duet/replay.h>

#include "fakeplat.h"

static duet_time_t vnow;
static duet_time_t lateness;
static unsigned waits;
static duet_time_t last_deadline;
static void (*wait_hook)(struct duet_loop *, void *);
static void *wait_hook_arg;
static void (*discover_hook)(struct duet_loop *, duet_plat_discovered_cb);
static char console[65536];
static size_t console_len;

static struct duet_rr *rr;
static bool entropy_weak;
static unsigned long entropy_count;

void fakeplat_reset(void)
{
	rr = NULL;
	entropy_weak = false;
	entropy_count = 0;
	vnow = DUET_SEC(1);
	lateness = 0;
	waits = 0;
	last_deadline = DUET_TIME_INFINITE;
	wait_hook = NULL;
	wait_hook_arg = NULL;
	discover_hook = NULL;
	console_len = 0;
	console[0] = '\0';
}

void fakeplat_set_time(duet_time_t t) { vnow = t; }
duet_time_t fakeplat_time(void) { return vnow; }
void fakeplat_set_lateness(duet_time_t l) { lateness = l; }
unsigned fakeplat_wait_count(void) { return waits; }
duet_time_t fakeplat_last_deadline(void) { return last_deadline; }
const char *fakeplat_console(void) { return console; }

void fakeplat_set_wait_hook(void (*hook)(struct duet_loop *, void *), void *arg)
{
	wait_hook = hook;
	wait_hook_arg = arg;
}

void fakeplat_set_rr(struct duet_rr *r) { rr = r; }

static void wait_fake(struct duet_loop *loop, duet_time_t deadline)
{
	if (wait_hook != NULL) {
		wait_hook(loop, wait_hook_arg);
		return;
	}
	/* A loop that waits forever with nothing to wake it is a test bug. */
	cr_assert(deadline != DUET_TIME_INFINITE,
		  "loop waits forever with no event source");
	if (deadline > vnow)
		vnow = deadline;
	vnow += lateness;
}

void duet_plat_wait(struct duet_loop *loop, duet_time_t deadline)
{
	waits++;
	last_deadline = deadline;
	if (duet_rr_wait(rr, loop, deadline))
		return;
	wait_fake(loop, deadline);
	duet_rr_wait_end(rr);
}

static duet_time_t mono(void) { return vnow; }
static duet_time_t wall(void) { return DUET_SEC(1700000000) + vnow; }
duet_time_t duet_plat_clock_monotonic(void) { return duet_rr_clock(rr, DUET_RR_MONO, mono); }
duet_time_t duet_plat_clock_wall(void) { return duet_rr_clock(rr, DUET_RR_WALL, wall); }

void duet_plat_console_write(const char *buf, size_t len)
{
	size_t all = len;

	size_t room = sizeof(console) - 1 - console_len;
	if (len > room)
		len = room;
	memcpy(console + console_len, buf, len);
	console_len += len;
	console[console_len] = '\0';
	duet_rr_console(rr, buf, all);
}

struct duet_plat_drivers {
	char none;
};
const struct duet_plat_drivers duet_plat_netif_drivers, duet_plat_block_drivers;

void fakeplat_set_discover(void (*hook)(struct duet_loop *loop,
					duet_plat_discovered_cb done))
{
	discover_hook = hook;
}

void duet_plat_discover(struct duet_loop *loop, duet_plat_discovered_cb done)
{
	if (discover_hook != NULL) {
		discover_hook(loop, done);
		return;
	}
	duet_rr_devices(rr, loop);
	done(loop);
}

void fakeplat_set_entropy_weak(bool weak)
{
	entropy_weak = weak;
}

bool duet_plat_entropy_strong(void)
{
	return duet_rr_strong(rr, !entropy_weak);
}

static int entropy_fake(void *buf, size_t len)
{
	unsigned char *p = buf;
	/* Reproducible, but no two calls alike (two keys made in one test
	 * must differ). */
	for (size_t i = 0; i < len; i++, entropy_count++)
		p[i] = (unsigned char)(entropy_count * 37 + 11 +
				       (entropy_count >> 8) * 101);
	return 0;
}

int duet_plat_entropy(void *buf, size_t len)
{
	return duet_rr_entropy(rr, buf, len, entropy_fake);
}

static void run_for_end(struct duet_timer *t, void *arg)
{
	(void)t;
	duet_loop_stop(arg, 0);
}

void fakeplat_run_for(struct duet_loop *loop, duet_time_t d)
{
	struct duet_timer end;

	duet_timer_init(loop, &end, run_for_end, loop);
	duet_timer_start(&end, d, 0);
	duet_loop_run(loop);
	duet_timer_stop(&end);
}
