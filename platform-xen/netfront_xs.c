/* The Xen netfront's xenstore side: finding the domain's vifs and the
 * XenbusState handshake with each backend, at boot, before duet_boot(), so
 * that netN exists when the app opens its network stack.
 *
 * The handshake, for device/vif/N (the frontend's directory, which the
 * toolstack fills with backend, backend-id and mac):
 *   1. we say Initialising, which also makes a backend left Closed by an
 *      earlier frontend prepare for a new one;
 *   2. we wait for the backend's InitWait (it may be slow: dom0's hotplug
 *      runs first), and check that it copies received frames into our
 *      pages (feature-rx-copy: page flipping is not supported);
 *   3. netfront.c sets up rings, buffers and the event channel, and in one
 *      transaction we publish them with our features (copy receive, no
 *      scatter-gather, no GSO, no checksum offload: the backend fills in
 *      checksums, so every frame lwIP sees is complete) and say Connected;
 *   4. we wait for the backend's Connected and register the netif.
 * A backend that goes Closing or Closed after step 3, or does not answer
 * within NF_HANDSHAKE_NS, fails that vif (logged; the domain boots without
 * it). Once connected, a watch on the backend's state takes the device
 * down if the backend closes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/platform.h>

#include "xen.h"
#include "netfront_ring.h"

#define NF_MAX_VIFS	4
#define NF_HANDSHAKE_NS DUET_SEC(20)
#define NF_NAP_NS	DUET_MSEC(10)
#define NF_TX_RETRIES	8

static struct duet__netfront vifs[NF_MAX_VIFS];

static int read_at(const char *dir, const char *key, char *buf, size_t size)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return duet__xs_read(XS_TX_NONE, path, buf, size);
}

static int write_at(uint32_t tx, const char *dir, const char *key,
		    unsigned long value)
{
	char path[160], v[24];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	snprintf(v, sizeof(v), "%lu", value);
	return duet__xs_write(tx, path, v);
}

/* A number in the backend's directory; `def` if absent or malformed. */
static long backend_long(struct duet__netfront *nf, const char *key, long def)
{
	char buf[24], *end;

	if (read_at(nf->backend, key, buf, sizeof(buf)) < 0)
		return def;
	long v = strtol(buf, &end, 10);
	return end == buf || *end != '\0' ? def : v;
}

static int parse_mac(const char *s, uint8_t mac[DUET_ETH_ALEN])
{
	for (int i = 0; i < DUET_ETH_ALEN; i++) {
		char *end;
		unsigned long b = strtoul(s, &end, 16);
		if (end == s || end - s > 2 || b > 0xff ||
		    *end != (i == DUET_ETH_ALEN - 1 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)b;
		s = end + 1;
	}
	return 0;
}

/* Sleeps a little without the loop (boot has not started it). Pending
 * ports are dispatched first and after: Xen wakes a block only for a port
 * that becomes pending, and the timer's port would otherwise stay so. */
static void nap(void)
{
	duet__xen_evtchn_dispatch();
	duet__xen_timer_set(duet_plat_clock_monotonic() + NF_NAP_NS);
	duet__xen_block();
	duet__xen_evtchn_dispatch();
}

/* Waits for the backend to reach `want`. Before we connected, Closing and
 * Closed are waited through (a backend resetting for us); after, they fail. */
static int wait_backend(struct duet__netfront *nf, int want, bool closed_ok)
{
	duet_time_t deadline = duet_plat_clock_monotonic() + NF_HANDSHAKE_NS;
	long state;

	for (;;) {
		state = backend_long(nf, "state", XenbusStateUnknown);
		if (state == want)
			return 0;
		if (!closed_ok && (state == XenbusStateClosing ||
				   state == XenbusStateClosed)) {
			DUET_ERROR("netfront",
				   "%s: backend %s closed (state %ld)",
				   nf->name, nf->backend, state);
			return -ECONNRESET;
		}
		if (duet_plat_clock_monotonic() >= deadline)
			break;
		nap();
	}
	DUET_ERROR(
	    "netfront",
	    "%s: backend %s still in state %ld, expected %d, after %llu s",
	    nf->name, nf->backend, state, want,
	    (unsigned long long)(NF_HANDSHAKE_NS / DUET_NSEC_PER_SEC));
	return -ETIMEDOUT;
}

static int set_state(struct duet__netfront *nf, uint32_t tx, int state)
{
	return write_at(tx, nf->node, "state", (unsigned long)state);
}

static int publish(struct duet__netfront *nf)
{
	for (int attempt = 0; attempt < NF_TX_RETRIES; attempt++) {
		uint32_t tx;
		int r = duet__xs_tx_start(&tx);
		if (r < 0)
			return r;
		if ((r = write_at(tx, nf->node, "tx-ring-ref",
				  nf->tx_ring_ref)) < 0 ||
		    (r = write_at(tx, nf->node, "rx-ring-ref",
				  nf->rx_ring_ref)) < 0 ||
		    (r = write_at(tx, nf->node, "event-channel", nf->port)) <
			0 ||
		    (r = write_at(tx, nf->node, "request-rx-copy", 1)) < 0 ||
		    (r = write_at(tx, nf->node, "feature-rx-notify", 1)) < 0 ||
		    (r = write_at(tx, nf->node, "feature-sg", 0)) < 0 ||
		    (r = write_at(tx, nf->node, "feature-gso-tcpv4", 0)) < 0 ||
		    (r = write_at(tx, nf->node, "feature-no-csum-offload", 1)) <
			0 ||
		    (r = write_at(tx, nf->node, "feature-ipv6-csum-offload",
				  0)) < 0 ||
		    (r = set_state(nf, tx, XenbusStateConnected)) < 0) {
			duet__xs_tx_end(tx, false);
			return r;
		}
		r = duet__xs_tx_end(tx, true);
		if (r != -EAGAIN)
			return r;
	}
	return -EAGAIN;
}

static void on_backend_state(const char *path, void *arg)
{
	struct duet__netfront *nf = arg;
	long state = backend_long(nf, "state", XenbusStateUnknown);

	(void)path;
	if (state == XenbusStateClosing || state == XenbusStateClosed) {
		duet__netfront_down(nf, "backend closed");
		/* Acknowledge, so the backend can finish closing. */
		set_state(nf, XS_TX_NONE, XenbusStateClosed);
	}
}

static int connect_vif(struct duet_loop *loop, struct duet__netfront *nf)
{
	char buf[32];
	int r;

	if ((r = read_at(nf->node, "backend", nf->backend,
			 sizeof(nf->backend))) < 0 ||
	    (r = read_at(nf->node, "backend-id", buf, sizeof(buf))) < 0)
		return r;
	nf->backend_id = (domid_t)strtoul(buf, NULL, 10);
	if ((r = read_at(nf->node, "mac", buf, sizeof(buf))) < 0)
		return r;
	if (parse_mac(buf, nf->mac) < 0) {
		DUET_ERROR("netfront", "%s: bad mac '%s'", nf->name, buf);
		return -EINVAL;
	}

	if ((r = set_state(nf, XS_TX_NONE, XenbusStateInitialising)) < 0 ||
	    (r = wait_backend(nf, XenbusStateInitWait, true)) < 0)
		return r;
	if (backend_long(nf, "feature-rx-copy", 0) != 1) {
		DUET_ERROR("netfront", "%s: backend cannot copy to us",
			   nf->name);
		return -EOPNOTSUPP;
	}
	if ((r = duet__netfront_setup(nf)) < 0)
		return r;
	if ((r = publish(nf)) < 0 ||
	    (r = wait_backend(nf, XenbusStateConnected, false)) < 0) {
		/* Closed first: a backend that mapped our rings unmaps them
		 * before we take the pages back. */
		set_state(nf, XS_TX_NONE, XenbusStateClosed);
		wait_backend(nf, XenbusStateClosed, true);
		duet__netfront_teardown(nf);
		return r;
	}
	if ((r = duet__netfront_register(loop, nf)) < 0)
		return r;
	/* The watch keeps a pointer to its path. */
	static char watch_paths[NF_MAX_VIFS][sizeof(nf->backend) + 8];
	char *wp = watch_paths[nf - vifs];
	snprintf(wp, sizeof(watch_paths[0]), "%s/state", nf->backend);
	if (duet__xs_watch(&nf->backend_watch, wp, on_backend_state, nf) < 0)
		DUET_WARN("netfront", "%s: cannot watch %s", nf->name, wp);
	DUET_INFO("netfront",
		  "%s: %02x:%02x:%02x:%02x:%02x:%02x via domain %u, "
		  "%u tx / %u rx buffers",
		  nf->name, nf->mac[0], nf->mac[1], nf->mac[2], nf->mac[3],
		  nf->mac[4], nf->mac[5], nf->backend_id, DUET__NF_TX_SLOTS,
		  DUET__NF_RX_SLOTS);
	return 0;
}

int duet__xen_netfront_init(struct duet_loop *loop)
{
	char names[256];
	int n =
	    duet__xs_directory(XS_TX_NONE, "device/vif", names, sizeof(names));
	int registered = 0;

	if (n <= 0)
		return 0; /* no vif: nothing to do */
	const char *name = names;
	for (int i = 0; i < n; i++, name += strlen(name) + 1) {
		char *end;
		unsigned long idx = strtoul(name, &end, 10);
		if (end == name || *end != '\0' || idx >= NF_MAX_VIFS) {
			DUET_WARN("netfront", "ignoring device/vif/%s", name);
			continue;
		}
		struct duet__netfront *nf = &vifs[idx];
		snprintf(nf->name, sizeof(nf->name), "net%lu", idx);
		snprintf(nf->node, sizeof(nf->node), "device/vif/%lu", idx);
		int r = connect_vif(loop, nf);
		if (r < 0) {
			DUET_ERROR("netfront", "%s: not connected: %s",
				   nf->name, duet_strerror(r));
			continue;
		}
		registered++;
	}
	return registered;
}
