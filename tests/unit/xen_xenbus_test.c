/* platform-xen/xenbus.c — a front-end's XenbusState protocol — against a
 * fake xenstore, with the test playing a backend that is slow, restarts,
 * closes, goes away, and misbehaves. Plain C on the host: xs.h's client is
 * the in-memory store of tests/unit/fakexs.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include <duet/sys.h>

#include "fakeplat.h"
#include "fakexs.h"
#include "xenbus.h"

/* ---- xenstore's faults ------------------------------------------------ */

static unsigned eagain_commits; /* commits to refuse with -EAGAIN */
static int read_error;		/* every read fails with this, if set */

static int faults(enum fakexs_call call, const char *path, void *arg)
{
	(void)path;
	(void)arg;
	if (call == FAKEXS_READ)
		return read_error;
	if (call == FAKEXS_COMMIT && eagain_commits > 0) {
		eagain_commits--;
		return -EAGAIN;
	}
	return 0;
}

static const struct fakexs_hooks hooks = {.fault = faults};

/* ---- the test's backend and driver ------------------------------------ */

#define FRONT "device/vif/0"
#define BACK  "/local/domain/0/backend/vif/5/0"

static void backend_says(int state)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", state);
	fakexs_put(BACK "/state", v);
}

static void backend_writes(const char *state)
{
	fakexs_put(BACK "/state", state);
}

static long front_key(const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), FRONT "/%s", key);
	const char *v = fakexs_get(path);
	return v == NULL ? -1 : strtol(v, NULL, 10);
}

/* A watch event on the backend's state, as xenstore delivers it. */
static void fire(void)
{
	cr_assert_not_null(fakexs_watch(), "no watch on the backend's state");
	cr_assert_str_eq(fakexs_watch()->path, BACK "/state");
	fakexs_fire();
}

struct drv {
	unsigned prepares, publishes, connects, disconnects, releases, gones;
	int prepare_err, connect_err;
	bool still_mapped;
	unsigned mapped_for; /* releases refused before one succeeds */
	bool granted; /* between a prepare and its release */
	unsigned ring_ref;
	char why[32];
	unsigned settles;
	int settled_r;
};

static struct drv drv;
static struct duet__xb_front fe;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;

static int d_prepare(void *arg)
{
	struct drv *d = arg;

	cr_assert(!d->granted, "prepare twice without a release");
	d->prepares++;
	d->granted = true;
	d->ring_ref = 100 + d->prepares;
	return d->prepare_err;
}

static int d_publish(void *arg, uint32_t tx, const char *node)
{
	struct drv *d = arg;

	d->publishes++;
	return duet__xb_write_ul(tx, node, "ring-ref", d->ring_ref);
}

static int d_connect(void *arg)
{
	struct drv *d = arg;

	cr_assert(d->granted);
	d->connects++;
	return d->connect_err;
}

static void d_disconnect(void *arg, const char *why)
{
	struct drv *d = arg;

	d->disconnects++;
	snprintf(d->why, sizeof(d->why), "%s", why);
}

static bool d_release(void *arg)
{
	struct drv *d = arg;

	cr_assert(d->granted, "release without a prepare");
	d->releases++;
	if (d->still_mapped)
		return false;
	if (d->mapped_for > 0) {
		d->mapped_for--;
		return false;
	}
	d->granted = false;
	return true;
}

static void d_gone(void *arg)
{
	struct drv *d = arg;

	d->gones++;
}

static void d_settled(void *arg, int r)
{
	struct drv *d = arg;

	d->settles++;
	d->settled_r = r;
}

static const struct duet__xb_ops ops = {
    .prepare = d_prepare,
    .publish = d_publish,
    .connect = d_connect,
    .disconnect = d_disconnect,
    .release = d_release,
    .gone = d_gone,
    .settled = d_settled,
};

static void setup(void)
{
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	fakexs_reset();
	fakexs_set_hooks(&hooks);
	memset(&drv, 0, sizeof(drv));
	eagain_commits = 0;
	read_error = 0;
	fakexs_put(FRONT "/backend", BACK);
	fakexs_put(FRONT "/backend-id", "0");
	fakexs_put(FRONT "/state", "1");
	backend_says(XenbusStateInitialising);
}

static void start(int publish_state)
{
	cr_assert_eq(duet__xb_init(&fe, loop, "net0", FRONT, publish_state, true,
				   &ops, &drv),
		     0);
	cr_assert_eq(front_key("state"), XenbusStateInitialising);
}

/* Brings fe to UP through the whole handshake. */
static void connect_now(void)
{
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_PUBLISHED);
	backend_says(XenbusStateConnected);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
}

TestSuite(xenbus, .init = setup);

Test(xenbus, handshake_publishes_in_one_transaction_then_connects)
{
	start(XenbusStateConnected);
	cr_assert_eq(fe.backend_id, 0);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_INIT);
	cr_assert_eq(drv.prepares, 0, "prepared before InitWait");

	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_PUBLISHED);
	cr_assert_eq(drv.prepares, 1);
	cr_assert_eq(front_key("ring-ref"), 101);
	cr_assert_eq(front_key("state"), XenbusStateConnected);
	cr_assert_eq(drv.connects, 0, "connected before the backend");

	backend_says(XenbusStateConnected);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
	cr_assert_eq(drv.connects, 1);
	/* Idempotent: nothing more happens while the backend stays. */
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
	cr_assert_eq(drv.prepares + drv.connects + drv.disconnects, 2);
}

Test(xenbus, initialised_front_says_connected_after_the_backend)
{
	start(XenbusStateInitialised);
	backend_says(XenbusStateInitWait);
	duet__xb_step(&fe);
	cr_assert_eq(front_key("state"), XenbusStateInitialised);
	backend_says(XenbusStateConnected);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
	cr_assert_eq(front_key("state"), XenbusStateConnected);
}

Test(xenbus, retried_transaction_publishes_once_committed)
{
	start(XenbusStateConnected);
	eagain_commits = 3;
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_PUBLISHED);
	cr_assert_eq(drv.publishes, 4);
	cr_assert_eq(drv.prepares, 1, "a retry must not grant again");
	cr_assert_eq(front_key("state"), XenbusStateConnected);
}

Test(xenbus, endless_transaction_conflicts_end_the_device)
{
	start(XenbusStateConnected);
	eagain_commits = 1000;
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
}

/* ---- discovery: fronts started in a group ----------------------------- */

static unsigned group_done;

static void on_group_done(void *arg)
{
	cr_assert_eq(arg, &group_done);
	group_done++;
}

Test(xenbus, slow_backend_settles_late_at_the_deadline_then_connects)
{
	struct duet__xb_group g;

	duet__xb_group_init(&g, on_group_done, &group_done);
	group_done = 0;
	start(XenbusStateConnected);
	duet__xb_start(&fe, &g);
	duet__xb_group_seal(&g);
	cr_assert_eq(group_done, 0, "done before the front settled");
	cr_assert_not_null(fakexs_watch(), "the protocol must go on alone");
	cr_assert_eq(drv.settles, 0);

	duet__xb_group_expire(&g);
	cr_assert_eq(drv.settles, 1);
	cr_assert_eq(drv.settled_r, -ETIMEDOUT);
	cr_assert_eq(group_done, 1);
	cr_assert_eq(drv.prepares, 0);

	/* The backend comes later: the watch runs the handshake. */
	backend_says(XenbusStateInitWait);
	fire();
	cr_assert_eq(fe.phase, DUET__XB_PUBLISHED);
	backend_says(XenbusStateConnected);
	fire();
	cr_assert_eq(fe.phase, DUET__XB_UP);
	cr_assert_eq(drv.connects, 1);
	cr_assert_eq(drv.settles, 1, "a front settles once");
	cr_assert_eq(group_done, 1);
	cr_assert_eq(fakeplat_wait_count(), 0, "nothing here waits");
}

#define FRONT2 "device/vif/1"
#define BACK2  "/local/domain/0/backend/vif/5/1"

/* One front comes up, the other fails: the group is done with the last. */
Test(xenbus, group_is_done_once_each_front_is_up_or_dead)
{
	static struct duet__xb_front fe2;
	struct drv drv2 = {.prepare_err = -ENOMEM};
	struct duet__xb_group g;

	fakexs_put(FRONT2 "/backend", BACK2);
	fakexs_put(FRONT2 "/backend-id", "0");
	fakexs_put(FRONT2 "/state", "1");
	fakexs_put(BACK2 "/state", "1");
	duet__xb_group_init(&g, on_group_done, &group_done);
	group_done = 0;
	start(XenbusStateConnected);
	cr_assert_eq(duet__xb_init(&fe2, loop, "net1", FRONT2,
				   XenbusStateConnected, true, &ops, &drv2),
		     0);
	duet__xb_start(&fe, &g);
	duet__xb_start(&fe2, &g);
	duet__xb_group_seal(&g);

	connect_now();
	cr_assert_eq(drv.settles, 1);
	cr_assert_eq(drv.settled_r, 0);
	cr_assert_eq(group_done, 0, "net1 has not settled");

	fakexs_put(BACK2 "/state", "2"); /* InitWait: prepare fails */
	cr_assert_eq(duet__xb_step(&fe2), DUET__XB_DEAD);
	cr_assert_eq(drv2.settles, 1);
	cr_assert_eq(drv2.settled_r, -ENODEV);
	cr_assert_eq(group_done, 1);
}

/* A front up (or dead) before the last one joined: done at the seal. */
Test(xenbus, group_settled_before_its_seal_is_done_at_the_seal)
{
	struct duet__xb_group g;

	duet__xb_group_init(&g, on_group_done, &group_done);
	group_done = 0;
	backend_says(XenbusStateInitWait);
	start(XenbusStateConnected);
	duet__xb_start(&fe, &g);
	cr_assert_eq(fe.phase, DUET__XB_PUBLISHED, "started with one step");
	backend_says(XenbusStateConnected);
	fire();
	cr_assert_eq(drv.settles, 1);
	cr_assert_eq(group_done, 0, "not sealed yet");
	duet__xb_group_seal(&g);
	cr_assert_eq(group_done, 1);

	duet__xb_group_init(&g, on_group_done, &group_done);
	duet__xb_group_seal(&g);
	cr_assert_eq(group_done, 2, "no fronts: done at once");
}

Test(xenbus, backend_restart_reconnects_with_fresh_rings)
{
	start(XenbusStateConnected);
	connect_now();

	/* The backend goes away (netback unbound): Closed. */
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_INIT);
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_str_eq(drv.why, "backend closed");
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(front_key("state"), XenbusStateInitialising);

	/* It comes back. */
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_PUBLISHED);
	cr_assert_eq(front_key("ring-ref"), 102, "the new rings published");
	backend_says(XenbusStateConnected);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
	cr_assert_eq(drv.connects, 2);
	cr_assert_eq(fe.connects, 2);
	cr_assert_eq(drv.gones, 0, "a restart is not the end");
}

Test(xenbus, closing_backend_is_acknowledged_and_waited_for)
{
	start(XenbusStateConnected);
	connect_now();

	backend_says(XenbusStateClosing);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
	cr_assert_eq(drv.releases, 0, "released while the backend may map");
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.releases, 0);

	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_INIT);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(drv.disconnects, 1, "disconnect owed once");
}

Test(xenbus, quick_restart_straight_to_initwait_is_a_reconnection)
{
	start(XenbusStateConnected);
	connect_now();

	/* Watch events coalesced: the backend is already back. */
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_PUBLISHED);
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(drv.prepares, 2);
}

Test(xenbus, backend_closing_before_connected_restarts_the_handshake)
{
	start(XenbusStateConnected);
	backend_says(XenbusStateInitWait);
	duet__xb_step(&fe);
	backend_says(XenbusStateClosing);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.disconnects, 0, "never connected");
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_INIT);
	cr_assert_eq(drv.releases, 1);
}

static struct duet_timer stopper;

static void stop_loop(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(loop, 0);
}

/* Runs the loop (its timers: the release retries) for `t` of virtual
 * time. */
static void run_for(duet_time_t t)
{
	duet_timer_init(loop, &stopper, stop_loop, NULL);
	duet_timer_start(&stopper, t, 0);
	duet_loop_run(loop);
}

/* blkback finishing the old connection's requests after a rebind: the
 * pages come free a moment later, and the device reconnects. */
Test(xenbus, pages_mapped_for_a_moment_are_released_when_free)
{
	start(XenbusStateConnected);
	connect_now();
	drv.mapped_for = 3;
	backend_says(XenbusStateInitWait); /* rebound at once */
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(drv.prepares, 1, "prepared over pages still mapped");
	run_for(DUET_SEC(1));
	cr_assert_eq(drv.releases, 4, "released %u times", drv.releases);
	cr_assert_eq(fe.phase, DUET__XB_PUBLISHED, "phase %d", fe.phase);
	cr_assert_eq(drv.prepares, 2);
	cr_assert_eq(drv.gones, 0);
}

Test(xenbus, pages_still_mapped_keep_the_device_dead)
{
	start(XenbusStateConnected);
	connect_now();
	drv.still_mapped = true;
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	run_for(DUET__XB_RELEASE_WAIT + DUET_SEC(1));
	cr_assert_eq(fe.phase, DUET__XB_DEAD);
	/* Tried every 100 ms for 10 s, then given up: no busy loop. */
	cr_assert_geq(drv.releases, 90);
	cr_assert_leq(drv.releases, 110);
	cr_assert_eq(drv.gones, 1);
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.prepares, 1, "pages reused under the backend");
	cr_assert(strstr(fakeplat_console(), "still maps our pages") != NULL);
}

Test(xenbus, detach_ends_the_device_without_writing_to_it)
{
	start(XenbusStateConnected);
	connect_now();
	/* The toolstack removes both directories. */
	duet__xs_rm(XS_TX_NONE, BACK);
	duet__xs_rm(XS_TX_NONE, FRONT);
	unsigned before = fakexs_writes();
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_eq(drv.releases, 1);
	/* Any write would create the removed directory again. */
	cr_assert_eq(fakexs_writes(), before, "wrote to a detached device");
	cr_assert_eq(front_key("state"), -1);
}

Test(xenbus, offline_backend_is_a_detach_not_a_restart)
{
	start(XenbusStateConnected);
	connect_now();
	/* libxl's detach: online=0, then the backend closes. */
	fakexs_put(BACK "/online", "0");
	backend_says(XenbusStateClosing);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
}

Test(xenbus, protocol_error_closes_for_good)
{
	start(XenbusStateConnected);
	connect_now();
	duet__xb_fail(&fe, "protocol error");
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_str_eq(drv.why, "protocol error");
	cr_assert_eq(front_key("state"), XenbusStateClosed);
	duet__xb_fail(&fe, "again");
	cr_assert_eq(drv.disconnects, 1);
	/* The backend still maps the rings until it has closed. */
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.releases, 0);
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.prepares, 1);
	cr_assert_eq(drv.gones, 1, "gone told once");
}

Test(xenbus, failed_prepare_releases_and_ends)
{
	start(XenbusStateConnected);
	drv.prepare_err = -ENOMEM;
	backend_says(XenbusStateInitWait);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(drv.publishes, 0);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
}

Test(xenbus, failed_connect_waits_for_the_backend_then_ends)
{
	start(XenbusStateConnected);
	drv.connect_err = -EPROTO;
	backend_says(XenbusStateInitWait);
	duet__xb_step(&fe);
	backend_says(XenbusStateConnected);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_CLOSING);
	cr_assert_eq(drv.disconnects, 0, "connect failed: nothing to stop");
	cr_assert_eq(drv.releases, 0, "the backend still maps the rings");
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
}

Test(xenbus, garbage_state_while_up_ends_the_device)
{
	start(XenbusStateConnected);
	connect_now();
	backend_writes("banana");
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.disconnects, 1);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
}

Test(xenbus, garbage_state_before_initwait_is_waited_through)
{
	start(XenbusStateConnected);
	const char *bad[] = {"99", "3x", "", "-1", "4294967298"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		backend_writes(bad[i]);
		cr_assert_eq(duet__xb_step(&fe), DUET__XB_INIT, "on '%s'",
			     bad[i]);
	}
	cr_assert_eq(drv.prepares, 0, "prepared on a malformed state");
	connect_now();
}

Test(xenbus, xenstore_errors_change_nothing)
{
	start(XenbusStateConnected);
	connect_now();
	read_error = -ETIMEDOUT;
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_UP);
	cr_assert_eq(drv.disconnects, 0);
}

Test(xenbus, bad_backend_keys_are_rejected)
{
	fakexs_put(FRONT "/backend-id", "-3");
	cr_assert_eq(duet__xb_init(&fe, loop, "net0", FRONT, XenbusStateConnected,
				   true, &ops, &drv),
		     -EINVAL);
	fakexs_put(FRONT "/backend-id", "zero");
	cr_assert_eq(duet__xb_init(&fe, loop, "net0", FRONT, XenbusStateConnected,
				   true, &ops, &drv),
		     -EINVAL);
	duet__xs_rm(XS_TX_NONE, FRONT "/backend");
	cr_assert_eq(duet__xb_init(&fe, loop, "net0", FRONT, XenbusStateConnected,
				   true, &ops, &drv),
		     -ENOENT);
}

Test(xenbus, no_reconnect_when_not_allowed)
{
	cr_assert_eq(duet__xb_init(&fe, loop, "disk0", FRONT, XenbusStateInitialised,
				   false, &ops, &drv),
		     0);
	connect_now();
	backend_says(XenbusStateClosed);
	cr_assert_eq(duet__xb_step(&fe), DUET__XB_DEAD);
	cr_assert_eq(drv.releases, 1);
	cr_assert_eq(front_key("state"), XenbusStateClosed);
}

/* ---- enumeration: one naming rule for every device class ---------------- */

Test(xenbus_enumerate, sorted_by_number_named_by_place)
{
	struct duet__xb_found found[4];

	fakexs_reset();
	fakexs_put("device/vbd/51728/backend", "b");
	fakexs_put("device/vbd/51712/backend", "a");
	fakexs_put("device/vbd/51712/state", "1");
	fakexs_put("device/vbd/bogus/backend", "c");
	fakexs_put("device/vbd/768/backend", "d");
	cr_assert_eq(duet__xb_enumerate("device/vbd", "disk", found, 4), 3);
	cr_assert_str_eq(found[0].id, "768");
	cr_assert_str_eq(found[0].name, "disk0");
	cr_assert_str_eq(found[0].node, "device/vbd/768");
	cr_assert_str_eq(found[1].id, "51712");
	cr_assert_str_eq(found[1].name, "disk1");
	cr_assert_str_eq(found[2].node, "device/vbd/51728");
	cr_assert_str_eq(found[2].name, "disk2");
}

Test(xenbus_enumerate, vifs_keep_their_numbers_and_max_bounds)
{
	struct duet__xb_found found[2];

	fakexs_reset();
	fakexs_put("device/vif/2/mac", "m");
	fakexs_put("device/vif/1/mac", "m");
	fakexs_put("device/vif/0/mac", "m");
	cr_assert_eq(duet__xb_enumerate("device/vif", "net", found, 2), 2);
	cr_assert_str_eq(found[0].name, "net0");
	cr_assert_str_eq(found[0].node, "device/vif/0");
	cr_assert_str_eq(found[1].node, "device/vif/1");
	cr_assert_eq(duet__xb_enumerate("device/nothing", "x", found, 2), 0);
}
