/* Public netif wrappers: check, count, then call the driver. */
#include <assert.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/netif_driver.h>

#include "core.h"
#include "replay_int.h"

#define NETIF_MAX_FRAME(n)                                                     \
	((size_t)(n)->mtu + DUET_ETH_HLEN + DUET_ETH_VLAN_HLEN)

int duet_netif_register(struct duet_loop *loop, struct duet_netif *netif,
			const char *name, const struct duet_netif_ops *ops,
			const uint8_t mac[DUET_ETH_ALEN], unsigned mtu)
{
	if (ops == NULL || ops->transmit == NULL || mtu < 68 || mtu > 65535 ||
	    (mac[0] & 1) != 0)
		return -EINVAL;
	netif->ops = ops;
	memcpy(netif->mac, mac, DUET_ETH_ALEN);
	netif->mtu = mtu;
	netif->receive_cb = NULL;
	netif->receive_arg = NULL;
	netif->closed = false;
	netif->link_up = true;
	netif->rx_csum_valid = false;
	netif->offloads = 0;
	netif->link_cb = NULL;
	netif->link_arg = NULL;
	memset(&netif->stats, 0, sizeof(netif->stats));
	int r = duet_device_register(loop, &netif->dev, DUET_DEVICE_NETIF, name);
	if (r == 0)
		duet__rr_device(&netif->dev);
	return r;
}

void duet_netif_unregister(struct duet_netif *netif)
{
	if (netif->closed)
		return;
	if (netif->receive_cb != NULL && netif->ops->stop != NULL)
		netif->ops->stop(netif);
	netif->receive_cb = NULL;
	netif->link_cb = NULL;
	netif->link_arg = NULL;
	netif->closed = true;
	duet_device_unregister(&netif->dev);
	/* Last: close may free the memory netif lives in. */
	if (netif->ops->close != NULL)
		netif->ops->close(netif);
}

const char *duet_netif_name(const struct duet_netif *netif)
{
	return netif->dev.name;
}

void duet_netif_mac(const struct duet_netif *netif, uint8_t mac[DUET_ETH_ALEN])
{
	memcpy(mac, netif->mac, DUET_ETH_ALEN);
}

unsigned duet_netif_mtu(const struct duet_netif *netif)
{
	return netif->mtu;
}

int duet_netif_set_receiver(struct duet_netif *netif, duet_netif_receive_cb cb,
			    void *arg)
{
	if (netif->closed)
		return -ENETDOWN;
	if (cb == NULL) {
		if (netif->receive_cb != NULL && netif->ops->stop != NULL)
			netif->ops->stop(netif);
		netif->receive_cb = NULL;
		netif->receive_arg = NULL;
		return 0;
	}
	if (netif->receive_cb != NULL)
		return -EBUSY;
	if (netif->ops->start != NULL) {
		int r = netif->ops->start(netif);
		if (r < 0)
			return r;
	}
	netif->receive_cb = cb;
	netif->receive_arg = arg;
	return 0;
}

unsigned duet_netif_offloads(const struct duet_netif *netif)
{
	return netif->offloads;
}

int duet_netif_set_offloads(struct duet_netif *netif, unsigned offloads)
{
	if ((offloads &
	     ~(DUET_NETIF_OFFLOAD_TX_CSUM | DUET_NETIF_OFFLOAD_RX_CSUM)) != 0 ||
	    ((offloads & DUET_NETIF_OFFLOAD_TX_CSUM) != 0 &&
	     netif->ops->transmit_csum == NULL))
		return -EINVAL;
	netif->offloads = offloads;
	duet__rr_offloads(netif, offloads);
	return 0;
}

/* Both transmits: checks the state and the frame, calls the driver (with
 * the checksum's place when csum is true), counts. */
static int transmit(struct duet_netif *netif, const struct duet_iovec *iov,
		    unsigned iovcnt, bool csum, unsigned csum_start,
		    unsigned csum_offset)
{
	size_t len = 0;

	assert(iovcnt == 0 || iov != NULL);
	for (unsigned i = 0; i < iovcnt; i++)
		len += iov[i].len;
	if (netif->closed) {
		netif->stats.tx_errors++;
		return -ENETDOWN;
	}
	if (len < DUET_ETH_HLEN || len > NETIF_MAX_FRAME(netif)) {
		netif->stats.tx_errors++;
		return -EMSGSIZE;
	}
	/* No medium: the driver may have nowhere to put the frame (a Xen
	 * netfront between backends has no ring). */
	if (!netif->link_up) {
		netif->stats.tx_errors++;
		return -ENETDOWN;
	}
	if (csum && ((netif->offloads & DUET_NETIF_OFFLOAD_TX_CSUM) == 0 ||
		     (size_t)csum_start + csum_offset + 2 > len)) {
		netif->stats.tx_errors++;
		return -EINVAL;
	}
	int r = duet__rr_transmit(netif, iov, iovcnt, len, csum, csum_start,
				  csum_offset);
	if (r == -ENOBUFS) {
		netif->stats.tx_dropped++;
	} else if (r < 0) {
		netif->stats.tx_errors++;
	} else {
		netif->stats.tx_packets++;
		netif->stats.tx_bytes += len;
	}
	return r;
}

int duet_netif_transmit(struct duet_netif *netif, const struct duet_iovec *iov,
			unsigned iovcnt)
{
	return transmit(netif, iov, iovcnt, false, 0, 0);
}

int duet_netif_transmit_csum(struct duet_netif *netif,
			     const struct duet_iovec *iov, unsigned iovcnt,
			     unsigned csum_start, unsigned csum_offset)
{
	return transmit(netif, iov, iovcnt, true, csum_start, csum_offset);
}

bool duet_netif_link_up(const struct duet_netif *netif)
{
	return netif->link_up;
}

void duet_netif_set_link_watcher(struct duet_netif *netif,
				 duet_netif_link_cb cb, void *arg)
{
	if (netif->closed)
		return;
	netif->link_cb = cb;
	netif->link_arg = cb != NULL ? arg : NULL;
}

void duet_netif_set_link(struct duet_netif *netif, bool up)
{
	if (netif->closed)
		return;
	duet__rr_link(netif, up);
	if (netif->link_up == up)
		return;
	netif->link_up = up;
	duet_log(DUET_LOG_INFO, "net", "%s: link %s", netif->dev.name,
		 up ? "up" : "down");
	if (netif->link_cb != NULL)
		netif->link_cb(netif, up, netif->link_arg);
}

void duet_netif_get_stats(const struct duet_netif *netif,
			  struct duet_netif_stats *out)
{
	*out = netif->stats;
}

static void deliver(struct duet_netif *netif, const void *frame, size_t len,
		    bool csum_valid)
{
	duet__rr_rx(netif, frame, len, csum_valid);
	if (len < DUET_ETH_HLEN || len > NETIF_MAX_FRAME(netif)) {
		netif->stats.rx_errors++;
		return;
	}
	if (netif->receive_cb == NULL) {
		netif->stats.rx_dropped++;
		return;
	}
	netif->stats.rx_packets++;
	netif->stats.rx_bytes += len;
	/* Set for each frame, not cleared after: the callback may unregister
	 * the netif, whose memory close may free. */
	netif->rx_csum_valid = csum_valid;
	netif->receive_cb(netif, frame, len, netif->receive_arg);
}

void duet_netif_deliver(struct duet_netif *netif, const void *frame, size_t len)
{
	deliver(netif, frame, len, false);
}

void duet_netif_deliver_valid(struct duet_netif *netif, const void *frame,
			      size_t len)
{
	deliver(netif, frame, len, true);
}

bool duet_netif_rx_csum_valid(const struct duet_netif *netif)
{
	return netif->rx_csum_valid;
}

void duet_netif_count_rx_drop(struct duet_netif *netif)
{
	netif->stats.rx_dropped++;
}
