/* The Xen netfront's data path: pages, grants and the event channel around
 * netfront_ring.c, and the netif ops (duet/netif_driver.h).
 *
 * Every page the backend sees is granted once, at setup: the two shared
 * rings, one read-only page per TX slot and one writable page per RX
 * buffer (the backend copies received frames into them: request-rx-copy).
 * The event handler reaps TX completions, delivers received frames and
 * reposts their pages, all in loop context (events.c). A protocol error
 * from the backend takes the device down, never the domain.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include <duet/log.h>
#include <duet/netif_driver.h>

#include "xen.h"
#include "netfront_ring.h"

#define NF_MTU	       1500u
#define NF_FRAME_MAX   (NF_MTU + DUET_ETH_HLEN + DUET_ETH_VLAN_HLEN)
#define NF_NBUFS       (DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS)
#define NF_WARN_FRAMES 8 /* per-frame errors logged before going quiet */

static struct duet__netfront *of(struct duet_netif *netif)
{
	return (struct duet__netfront *)netif;
}

static void notify(struct duet__netfront *nf)
{
	duet__xen_evtchn_notify(nf->port);
}

static void on_frame(const void *frame, size_t len, void *arg)
{
	struct duet__netfront *nf = arg;

	duet_netif_deliver(&nf->netif, frame, len);
}

static void on_error(enum duet__nf_fault fault, const char *what, long value,
		     void *arg)
{
	struct duet__netfront *nf = arg;

	if (fault == DUET__NF_BROKEN) {
		DUET_ERROR("netfront", "%s: backend error: %s (%ld)", nf->name,
			   what, value);
		duet__xb_fail(&nf->xb, "protocol error");
		return;
	}
	if (fault == DUET__NF_RX_DROP)
		duet_netif_count_rx_drop(&nf->netif);
	if (++nf->nwarn <= NF_WARN_FRAMES)
		DUET_WARN("netfront", "%s: %s (%ld): frame dropped%s", nf->name,
			  what, value,
			  nf->nwarn == NF_WARN_FRAMES ? " (no more of these)"
						      : "");
}

static const struct duet__nf_ops ring_ops = {
    .deliver = on_frame,
    .error = on_error,
};

/* Responses that came in during a poll raised no event: poll again from
 * the next loop iteration (ring_poll.h). */
static void repoll_if_more(struct duet__netfront *nf)
{
	if (nf->ring.tx_again || nf->ring.rx_again)
		duet__xt_post(&nf->repoll);
}

static void poll_rings(struct duet__netfront *nf)
{
	if (!nf->up)
		return;
	if (duet__nf_tx_reap(&nf->ring) < 0 || duet__nf_rx_poll(&nf->ring) < 0)
		return; /* on_error took the device down */
	if (duet__nf_rx_refill(&nf->ring) > 0)
		notify(nf);
	repoll_if_more(nf);
}

static void on_event(evtchn_port_t port, void *arg)
{
	(void)port;
	poll_rings(arg);
}

static void on_repoll(struct duet__xt *d, void *arg)
{
	(void)d;
	poll_rings(arg);
}

void duet__netfront_init(struct duet__netfront *nf, struct duet_loop *loop)
{
	nf->loop = loop;
	duet__xt_init(&nf->repoll, on_repoll, nf);
}

static int nf_transmit(struct duet_netif *netif, const struct duet_iovec *iov,
		       unsigned iovcnt, size_t len)
{
	struct duet__netfront *nf = of(netif);

	if (!nf->up)
		return -ENETDOWN;
	int r = duet__nf_tx_send(&nf->ring, iov, iovcnt, len);
	if (r > 0)
		notify(nf);
	repoll_if_more(nf); /* a full ring reaped */
	return r > 0 ? 0 : r;
}

static void nf_close(struct duet_netif *netif)
{
	duet__xb_fail(&of(netif)->xb, "netif closed");
}

static const struct duet_netif_ops netif_ops = {
    .transmit = nf_transmit,
    .close = nf_close,
};

static int grant(struct duet__netfront *nf, const void *page, bool readonly,
		 grant_ref_t *ref)
{
	return duet__xen_grant_access(
	    nf->xb.backend_id, duet__xen_virt_to_frame(page), readonly, ref);
}

int duet__netfront_setup(struct duet__netfront *nf)
{
	struct duet__nf_ring *r = &nf->ring;
	int err;

	nf->tx_page = duet__xen_pages_alloc(1);
	nf->rx_page = duet__xen_pages_alloc(1);
	nf->bufs = duet__xen_pages_alloc(NF_NBUFS);
	if (nf->tx_page == NULL || nf->rx_page == NULL || nf->bufs == NULL) {
		duet__netfront_teardown(nf);
		return -ENOMEM;
	}
	memset(nf->tx_page, 0, XEN_PAGE_SIZE);
	memset(nf->rx_page, 0, XEN_PAGE_SIZE);
	duet__nf_init(r, nf->tx_page, nf->rx_page, NF_FRAME_MAX, &ring_ops, nf);
	/* Grant references are 0 until granted: teardown skips those. */
	if ((err = grant(nf, nf->tx_page, false, &nf->tx_ring_ref)) < 0 ||
	    (err = grant(nf, nf->rx_page, false, &nf->rx_ring_ref)) < 0)
		goto fail;
	for (unsigned i = 0; i < NF_NBUFS; i++) {
		uint8_t *page = (uint8_t *)nf->bufs + i * XEN_PAGE_SIZE;
		bool tx = i < DUET__NF_TX_SLOTS;
		grant_ref_t *ref =
		    tx ? &r->tx_gref[i] : &r->rx_gref[i - DUET__NF_TX_SLOTS];
		if (tx)
			r->tx_buf[i] = page;
		else
			r->rx_buf[i - DUET__NF_TX_SLOTS] = page;
		if ((err = grant(nf, page, tx, ref)) < 0)
			goto fail;
	}
	err = duet__xen_evtchn_alloc_unbound(nf->xb.backend_id, on_event, nf,
					     &nf->port);
	if (err < 0)
		goto fail;
	duet__nf_rx_refill(r); /* read once the backend connects */
	return 0;
fail:
	duet__netfront_teardown(nf);
	return err;
}

/* The backend has closed (or never connected). One that unmapped our
 * pages gives them all back; if one is still mapped, every page stays out
 * of the allocator rather than be reused under its writes. */
bool duet__netfront_teardown(struct duet__netfront *nf)
{
	struct duet__nf_ring *r = &nf->ring;
	bool all = true;

	nf->up = false;
	if (nf->port != 0)
		duet__xen_evtchn_unbind(nf->port);
	nf->port = 0;
	all &= duet__xen_grant_end_ref(&nf->tx_ring_ref);
	all &= duet__xen_grant_end_ref(&nf->rx_ring_ref);
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS; i++)
		all &= duet__xen_grant_end_ref(&r->tx_gref[i]);
	for (unsigned i = 0; i < DUET__NF_RX_SLOTS; i++)
		all &= duet__xen_grant_end_ref(&r->rx_gref[i]);
	if (!all)
		return false;
	if (nf->tx_page != NULL)
		duet__xen_pages_free(nf->tx_page, 1);
	if (nf->rx_page != NULL)
		duet__xen_pages_free(nf->rx_page, 1);
	if (nf->bufs != NULL)
		duet__xen_pages_free(nf->bufs, NF_NBUFS);
	nf->tx_page = nf->rx_page = nf->bufs = NULL;
	return true;
}

int duet__netfront_connect(struct duet__netfront *nf)
{
	if (!nf->registered) {
		int r = duet_netif_register(nf->loop, &nf->netif, nf->name,
					    &netif_ops, nf->mac, NF_MTU);
		if (r < 0)
			return r;
		nf->registered = true;
	}
	nf->up = true;
	nf->nwarn = 0;
	duet_netif_set_link(&nf->netif, true);
	/* Frames may have arrived while the handshake finished. */
	poll_rings(nf);
	return 0;
}

int duet__netfront_connect_later(struct duet__netfront *nf)
{
	int r = duet_netif_register(nf->loop, &nf->netif, nf->name, &netif_ops,
				    nf->mac, NF_MTU);
	if (r < 0)
		return r;
	nf->registered = true;
	duet_netif_set_link(&nf->netif, false);
	return 0;
}

/* The pages stay granted until the backend has closed (teardown). */
void duet__netfront_down(struct duet__netfront *nf, const char *why)
{
	if (!nf->up)
		return;
	nf->up = false;
	nf->ring.broken = true;
	duet__xt_stop(&nf->repoll);
	duet__xen_evtchn_mask(nf->port);
	DUET_WARN("netfront", "%s: down (%s)", nf->name, why);
	if (nf->registered)
		duet_netif_set_link(&nf->netif, false);
}
