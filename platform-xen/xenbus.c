/* A PV front-end's XenbusState protocol with its backend (xenbus.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/platform.h>

#include "xenbus.h"

#define XB_TX_RETRIES 8

int duet__xb_read(const char *dir, const char *key, char *buf, size_t size)
{
	char path[DUET__XB_PATH_MAX + 40];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return duet__xs_read(XS_TX_NONE, path, buf, size);
}

int duet__xb_write(uint32_t tx, const char *dir, const char *key,
		   const char *value)
{
	char path[DUET__XB_PATH_MAX + 40];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return duet__xs_write(tx, path, value);
}

int duet__xb_write_ul(uint32_t tx, const char *dir, const char *key,
		      unsigned long value)
{
	char v[24];

	snprintf(v, sizeof(v), "%lu", value);
	return duet__xb_write(tx, dir, key, v);
}

/* Whole string, base 10, in range. */
unsigned duet__xb_enumerate(const char *dir, const char *prefix,
			    struct duet__xb_found *out, unsigned max)
{
	unsigned long ids[32];
	char names[512];
	int count = duet__xs_directory(XS_TX_NONE, dir, names, sizeof(names));
	const char *p = names;
	unsigned n = 0, seen = 0;

	if (max > sizeof(ids) / sizeof(ids[0]))
		max = sizeof(ids) / sizeof(ids[0]);
	/* The `max` lowest numbers, kept sorted as they come (a handful). */
	for (int i = 0; i < count; i++, p += strlen(p) + 1) {
		char *end;
		unsigned long id = strtoul(p, &end, 10);
		unsigned at = n;

		if (end == p || *end != '\0' || strlen(p) >= sizeof(out->id)) {
			DUET_WARN("xen", "ignoring %s/%s: not a device number",
				  dir, p);
			continue;
		}
		seen++;
		while (at > 0 && ids[at - 1] > id)
			at--;
		if (at == max)
			continue;
		if (n < max)
			n++;
		memmove(&ids[at + 1], &ids[at], (n - 1 - at) * sizeof(ids[0]));
		ids[at] = id;
	}
	if (seen > n)
		DUET_WARN("xen", "%s: %u devices: using the %u lowest numbered",
			  dir, seen, n);
	for (unsigned i = 0; i < n; i++) {
		snprintf(out[i].id, sizeof(out[i].id), "%lu", ids[i]);
		snprintf(out[i].name, sizeof(out[i].name), "%s%u", prefix, i);
		snprintf(out[i].node, sizeof(out[i].node), "%s/%lu", dir,
			 ids[i]);
	}
	return n;
}

static bool parse_ll(const char *s, long long *out)
{
	return duet_parse_int(s, out) == 0;
}

long long duet__xb_backend_ll(const struct duet__xb_front *f,
			      const char *key, long long def)
{
	char buf[24];
	long long v;

	if (duet__xb_read(f->backend, key, buf, sizeof(buf)) < 0 ||
	    !parse_ll(buf, &v))
		return def;
	return v;
}

int duet__xb_backend_state(const struct duet__xb_front *f)
{
	char buf[24];
	long long s;
	int r = duet__xb_read(f->backend, "state", buf, sizeof(buf));

	if (r == -ENOENT)
		return XenbusStateUnknown; /* the backend is gone */
	if (r < 0)
		return r;
	if (!parse_ll(buf, &s) || s < XenbusStateUnknown ||
	    s > XenbusStateReconfigured)
		return XenbusStateUnknown;
	return (int)s;
}

/* Our own directory is gone: the toolstack detached the device. */
static bool detached(const struct duet__xb_front *f)
{
	char buf[8];

	return duet__xb_read(f->node, "state", buf, sizeof(buf)) == -ENOENT;
}

/* Writes our state, unless our directory is gone: a write would create it
 * again, for a device that no longer exists. */
static int say(struct duet__xb_front *f, uint32_t tx, int state)
{
	if (tx == XS_TX_NONE && detached(f))
		return -ENOENT;
	int r = duet__xb_write_ul(tx, f->node, "state", (unsigned long)state);

	if (r < 0 && tx == XS_TX_NONE)
		DUET_WARN("xenbus", "%s: cannot set state %d: %s", f->name,
			  state, duet_strerror(r));
	return r;
}

static void on_release_retry(struct duet_timer *t, void *arg)
{
	(void)t;
	duet__xb_step(arg);
}

int duet__xb_init(struct duet__xb_front *f, struct duet_loop *loop,
		  const char *name, const char *node, int publish_state,
		  bool reconnect, const struct duet__xb_ops *ops, void *arg)
{
	char buf[24];
	long long id;
	int r;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->node, sizeof(f->node), "%s", node);
	f->publish_state = publish_state;
	f->reconnect = reconnect;
	f->ops = ops;
	f->arg = arg;
	f->phase = DUET__XB_INIT;
	duet_timer_init(loop, &f->release_retry, on_release_retry, f);
	if ((r = duet__xb_read(node, "backend", f->backend,
			       sizeof(f->backend))) < 0 ||
	    (r = duet__xb_read(node, "backend-id", buf, sizeof(buf))) < 0)
		return r;
	if (!parse_ll(buf, &id) || id < 0 || id >= 0x7ff0 ||
	    f->backend[0] == '\0') {
		DUET_ERROR("xenbus", "%s: bad backend '%s' (domain '%s')", name,
			   f->backend, buf);
		return -EINVAL;
	}
	f->backend_id = (uint16_t)id;
	return say(f, XS_TX_NONE, XenbusStateInitialising);
}

/* For good: the driver hears of it once. */
static enum duet__xb_phase dead(struct duet__xb_front *f)
{
	if (f->phase != DUET__XB_DEAD) {
		f->phase = DUET__XB_DEAD;
		if (f->ops->gone != NULL)
			f->ops->gone(f->arg);
	}
	return f->phase;
}

/* Returns false while the backend still maps some of our pages: release
 * is then tried again shortly, and after DUET__XB_RELEASE_WAIT the pages
 * are kept out of reuse for good and the device is dead. */
static bool release(struct duet__xb_front *f)
{
	if (!f->prepared)
		return true;
	if (f->ops->release(f->arg)) {
		f->prepared = false;
		f->releasing = false;
		duet_timer_stop(&f->release_retry);
		return true;
	}
	duet_time_t now = duet_plat_clock_monotonic();
	if (!f->releasing) {
		f->releasing = true;
		f->release_deadline = now + DUET__XB_RELEASE_WAIT;
		DUET_INFO("xenbus", "%s: backend still maps our pages: waiting",
			  f->name);
	}
	if (now >= f->release_deadline) {
		DUET_ERROR("xenbus",
			   "%s: backend still maps our pages after %llu s: "
			   "keeping them, device gone",
			   f->name,
			   (unsigned long long)(DUET__XB_RELEASE_WAIT /
						DUET_NSEC_PER_SEC));
		f->prepared = false;
		f->releasing = false;
		dead(f);
		return false;
	}
	if (!duet_timer_active(&f->release_retry))
		duet_timer_start(&f->release_retry, DUET__XB_RELEASE_RETRY, 0);
	return false;
}

static void disconnect(struct duet__xb_front *f, const char *why)
{
	if (!f->connected)
		return;
	f->connected = false;
	f->ops->disconnect(f->arg, why);
}

/* Ends the device for good. A backend still connected to our rings sees
 * Closed and unmaps them; the pages are released once it has closed. */
static void die(struct duet__xb_front *f, const char *why)
{
	DUET_ERROR("xenbus", "%s: %s: closing the device", f->name, why);
	disconnect(f, why);
	say(f, XS_TX_NONE, XenbusStateClosed);
	f->reconnect = false;
	f->phase = DUET__XB_CLOSING;
}

static int publish(struct duet__xb_front *f)
{
	for (int attempt = 0; attempt < XB_TX_RETRIES; attempt++) {
		uint32_t tx;
		int r = duet__xs_tx_start(&tx);
		if (r < 0)
			return r;
		if ((r = f->ops->publish(f->arg, tx, f->node)) < 0 ||
		    (r = say(f, tx, f->publish_state)) < 0) {
			duet__xs_tx_end(tx, false);
			return r;
		}
		r = duet__xs_tx_end(tx, true);
		if (r != -EAGAIN)
			return r;
	}
	return -EAGAIN;
}

/* After the backend closed: come back only to a backend that still exists
 * (Closed, or already at InitWait again) and that the toolstack is not
 * taking away (it sets online to 0 before a detach). */
static bool may_reconnect(const struct duet__xb_front *f, int b)
{
	return f->reconnect && b != XenbusStateUnknown &&
	       duet__xb_backend_ll(f, "online", 1) != 0 && !detached(f);
}

static bool closing(int b)
{
	return b == XenbusStateClosing || b == XenbusStateClosed ||
	       b == XenbusStateUnknown;
}

static enum duet__xb_phase step(struct duet__xb_front *f)
{
	for (;;) {
		int b = duet__xb_backend_state(f);
		int r;

		if (b < 0)
			return f->phase; /* xenstore trouble: try next time */

		switch (f->phase) {
		case DUET__XB_INIT:
			if (b != XenbusStateInitWait)
				return f->phase;
			f->prepared = true;
			if ((r = f->ops->prepare(f->arg)) < 0 ||
			    (r = publish(f)) < 0) {
				die(f, duet_strerror(r));
				break;
			}
			f->phase = DUET__XB_PUBLISHED;
			break;
		case DUET__XB_PUBLISHED:
			if (closing(b)) {
				/* Closed acknowledges a Closing backend. */
				say(f, XS_TX_NONE, XenbusStateClosed);
				f->phase = DUET__XB_CLOSING;
				break;
			}
			if (b != XenbusStateConnected)
				return f->phase;
			if ((r = f->ops->connect(f->arg)) < 0) {
				die(f, duet_strerror(r));
				break;
			}
			f->connected = true;
			if (f->publish_state != XenbusStateConnected)
				say(f, XS_TX_NONE, XenbusStateConnected);
			f->phase = DUET__XB_UP;
			if (f->connects++ > 0)
				DUET_INFO("xenbus", "%s: reconnected (%u)",
					  f->name, f->connects - 1);
			return f->phase;
		case DUET__XB_UP:
			if (b == XenbusStateConnected)
				return f->phase;
			DUET_WARN("xenbus", "%s: backend left Connected (%d)",
				  f->name, b);
			disconnect(f, "backend closed");
			say(f, XS_TX_NONE, XenbusStateClosed);
			f->phase = DUET__XB_CLOSING;
			break;
		case DUET__XB_CLOSING:
			if (b == XenbusStateClosing)
				say(f, XS_TX_NONE, XenbusStateClosed);
			if (b == XenbusStateClosing ||
			    b == XenbusStateConnected ||
			    b == XenbusStateReconfiguring ||
			    b == XenbusStateReconfigured)
				return f->phase; /* still unmapping */
			if (!release(f))
				return f->phase;
			if (!may_reconnect(f, b) ||
			    say(f, XS_TX_NONE, XenbusStateInitialising) < 0)
				return dead(f);
			f->phase = DUET__XB_INIT;
			break;
		case DUET__XB_DEAD:
			return f->phase;
		}
	}
}

/* Once per front: the last one of a sealed group tells its owner. */
static void settle(struct duet__xb_front *f, int r)
{
	struct duet__xb_group *g = f->group;

	if (g == NULL || f->settled)
		return;
	f->settled = true;
	if (f->ops->settled != NULL)
		f->ops->settled(f->arg, r);
	if (--g->pending == 0 && g->sealed)
		g->done(g->arg);
}

enum duet__xb_phase duet__xb_step(struct duet__xb_front *f)
{
	enum duet__xb_phase phase = step(f);

	if (phase == DUET__XB_UP)
		settle(f, 0);
	else if (phase == DUET__XB_DEAD)
		settle(f, -ENODEV);
	return phase;
}

static void on_backend_state(const char *path, void *arg)
{
	struct duet__xb_front *f = arg;

	DUET_DEBUG("xenbus", "%s: %s changed (we are in phase %d)", f->name,
		   path, (int)f->phase);
	duet__xb_step(f);
}

void duet__xb_start(struct duet__xb_front *f, struct duet__xb_group *g)
{
	if (g != NULL) {
		assert(!g->sealed && "a front started in a sealed group");
		f->group = g;
		f->group_next = g->fronts;
		g->fronts = f;
		g->pending++;
	}
	/* The watch first: a change between the step and it would be lost. */
	snprintf(f->watch_path, sizeof(f->watch_path), "%s/state", f->backend);
	if (duet__xs_watch(&f->watch, f->watch_path, on_backend_state, f) < 0)
		DUET_WARN("xenbus", "%s: cannot watch %s: changes of the "
				    "backend go unseen",
			  f->name, f->watch_path);
	duet__xb_step(f);
}

void duet__xb_group_init(struct duet__xb_group *g, void (*done)(void *arg),
			 void *arg)
{
	memset(g, 0, sizeof(*g));
	g->done = done;
	g->arg = arg;
}

void duet__xb_group_seal(struct duet__xb_group *g)
{
	assert(!g->sealed);
	g->sealed = true;
	if (g->pending == 0)
		g->done(g->arg);
}

void duet__xb_group_expire(struct duet__xb_group *g)
{
	assert(g->sealed);
	for (struct duet__xb_front *f = g->fronts; f != NULL; f = f->group_next)
		if (!f->settled) {
			DUET_WARN("xenbus",
				  "%s: backend %s not connected yet (state %d)",
				  f->name, f->backend,
				  duet__xb_backend_state(f));
			settle(f, -ETIMEDOUT);
		}
}

void duet__xb_fail(struct duet__xb_front *f, const char *why)
{
	if (f->phase == DUET__XB_DEAD ||
	    (f->phase == DUET__XB_CLOSING && !f->reconnect))
		return;
	die(f, why);
}
