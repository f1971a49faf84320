/* The Xen netfront's xenstore side: finding the domain's vifs and running
 * each one's XenbusState protocol with its backend (xenbus.c), so that
 * netN exists when the app opens its network stack.
 *
 * For device/vif/N (the frontend's directory, which the toolstack fills
 * with backend, backend-id and mac): when the backend is at InitWait we
 * check that it copies received frames into our pages (feature-rx-copy:
 * page flipping is not supported), netfront.c sets up rings, buffers and
 * the event channel, and in one transaction we publish them with our
 * features (copy receive, no scatter-gather, no GSO, no checksum offload:
 * the backend fills in checksums, so every frame lwIP sees is complete)
 * and say Connected. When the backend says Connected, netN's link is up.
 *
 * At boot we wait for that (bounded by NF_HANDSHAKE_NS: dom0's hotplug
 * scripts run first). netN is registered either way, its link down until
 * the backend connects; from then on a watch on the backend's state keeps
 * the protocol going. A backend that closes takes the link down and, once
 * it has closed, the handshake starts again with fresh rings, so a backend
 * that restarts (netback rebound, a driver domain rebooted) gets netN back
 * with its MAC and addresses, and lwIP's connections survive the gap. A
 * backend that breaks the ring protocol loses the device for good.
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

static struct duet__netfront vifs[NF_MAX_VIFS];

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

/* Probing runs before the app has its devices: wait without the loop's
 * callbacks, but with its event dispatch (xenstore replies, watches). */
static void nap(void *arg)
{
	struct duet__netfront *nf = arg;

	duet_plat_wait(nf->loop, duet__xen_now() + NF_NAP_NS);
}

static int xb_prepare(void *arg)
{
	struct duet__netfront *nf = arg;

	if (duet__xb_backend_ll(&nf->xb, "feature-rx-copy", 0) != 1) {
		DUET_ERROR("netfront", "%s: backend cannot copy to us",
			   nf->name);
		return -EOPNOTSUPP;
	}
	return duet__netfront_setup(nf);
}

static int xb_publish(void *arg, uint32_t tx, const char *node)
{
	struct duet__netfront *nf = arg;
	static const struct {
		const char *key;
		unsigned long value;
	} features[] = {
	    {"request-rx-copy", 1},	      {"feature-rx-notify", 1},
	    {"feature-sg", 0},		      {"feature-gso-tcpv4", 0},
	    {"feature-no-csum-offload", 1}, {"feature-ipv6-csum-offload", 0},
	};
	int r;

	if ((r = duet__xb_write_ul(tx, node, "tx-ring-ref", nf->tx_ring_ref)) <
		0 ||
	    (r = duet__xb_write_ul(tx, node, "rx-ring-ref", nf->rx_ring_ref)) <
		0 ||
	    (r = duet__xb_write_ul(tx, node, "event-channel", nf->port)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if ((r = duet__xb_write_ul(tx, node, features[i].key,
					   features[i].value)) < 0)
			return r;
	return 0;
}

static int xb_connect(void *arg)
{
	return duet__netfront_connect(arg);
}

static void xb_disconnect(void *arg, const char *why)
{
	duet__netfront_down(arg, why);
}

static bool xb_release(void *arg)
{
	return duet__netfront_teardown(arg);
}

static const struct duet__xb_ops xb_ops = {
    .prepare = xb_prepare,
    .publish = xb_publish,
    .connect = xb_connect,
    .disconnect = xb_disconnect,
    .release = xb_release,
};

static int start_vif(struct duet_loop *loop, struct duet__netfront *nf)
{
	char buf[32];
	int r;

	duet__netfront_init(nf, loop);
	if ((r = duet__xb_read(nf->node, "mac", buf, sizeof(buf))) < 0)
		return r;
	if (parse_mac(buf, nf->mac) < 0) {
		DUET_ERROR("netfront", "%s: bad mac '%s'", nf->name, buf);
		return -EINVAL;
	}
	if ((r = duet__xb_init(&nf->xb, loop, nf->name, nf->node,
			       XenbusStateConnected, true, &xb_ops, nf)) < 0)
		return r;
	r = duet__xb_boot(&nf->xb,
			  duet__xen_now() + NF_HANDSHAKE_NS, nap,
			  nf);
	if (r == -ENODEV)
		return r;
	if (r < 0 && (r = duet__netfront_connect_later(nf)) < 0)
		return r;
	DUET_INFO("netfront",
		  "%s: %02x:%02x:%02x:%02x:%02x:%02x via domain %u, "
		  "%u tx / %u rx buffers%s",
		  nf->name, nf->mac[0], nf->mac[1], nf->mac[2], nf->mac[3],
		  nf->mac[4], nf->mac[5], nf->xb.backend_id, DUET__NF_TX_SLOTS,
		  DUET__NF_RX_SLOTS,
		  nf->xb.phase == DUET__XB_UP ? "" : ", link down");
	return 0;
}

int duet__xen_netfront_init(struct duet_loop *loop)
{
	struct duet__xb_found found[NF_MAX_VIFS];
	unsigned n = duet__xb_enumerate("device/vif", "net", found,
					NF_MAX_VIFS);
	int registered = 0;

	for (unsigned i = 0; i < n; i++) {
		struct duet__netfront *nf = &vifs[i];

		snprintf(nf->name, sizeof(nf->name), "%s", found[i].name);
		snprintf(nf->node, sizeof(nf->node), "%s", found[i].node);
		int r = start_vif(loop, nf);
		if (r < 0) {
			DUET_ERROR("netfront", "%s: not connected: %s",
				   nf->name, duet_strerror(r));
			continue;
		}
		registered++;
	}
	return registered;
}
