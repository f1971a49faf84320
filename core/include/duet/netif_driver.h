/* duet/netif_driver.h — network interfaces, the driver side.
 *
 * A driver embeds struct duet_netif in its state, fills in the ops table and
 * calls duet_netif_register(). The core's wrappers (duet/netif.h) check
 * arguments and device state and keep the statistics before calling an op,
 * so ops may trust their arguments.
 *
 * Ops:
 *   transmit  REQUIRED. Send one frame of `len` bytes (DUET_ETH_HLEN <= len
 *             <= MTU + 18) gathered from iov. MUST NOT keep pointers into
 *             the iovec after returning. Return 0, -ENOBUFS when full, or
 *             another negative errno. MUST NOT call back into the receiver.
 *   transmit_csum  REQUIRED with DUET_NETIF_OFFLOAD_TX_CSUM, else unused. As
 *             transmit, and the device completes the checksum (duet/netif.h);
 *             csum_start + csum_offset + 2 <= len.
 *   start     OPTIONAL. Called when a receiver is installed: begin receiving.
 *   stop      OPTIONAL. Called when the receiver is removed.
 *   close     OPTIONAL. Release the device; called once, last, by
 *             duet_netif_unregister(). No op is called after it and the
 *             core no longer touches the netif, so close may free it.
 *
 * Received frames are handed to duet_netif_deliver(), from event context
 * (never from inside transmit). The driver keeps ownership of the buffer.
 */
#ifndef DUET_NETIF_DRIVER_H
#define DUET_NETIF_DRIVER_H

#include <stdbool.h>

#include <duet/netif.h>

struct duet_netif_ops {
	int (*transmit)(struct duet_netif *netif, const struct duet_iovec *iov,
			unsigned iovcnt, size_t len);
	int (*transmit_csum)(struct duet_netif *netif,
			     const struct duet_iovec *iov, unsigned iovcnt,
			     size_t len, unsigned csum_start,
			     unsigned csum_offset);
	int (*start)(struct duet_netif *netif);
	void (*stop)(struct duet_netif *netif);
	void (*close)(struct duet_netif *netif);
};

struct duet_netif {
	struct duet_device dev;
	const struct duet_netif_ops *ops;
	uint8_t mac[DUET_ETH_ALEN];
	unsigned mtu;
	duet_netif_receive_cb receive_cb;
	void *receive_arg;
	bool closed;
	bool link_up;
	bool rx_csum_valid; /* of the frame being delivered */
	unsigned offloads;  /* DUET_NETIF_OFFLOAD_* */
	duet_netif_link_cb link_cb;
	void *link_arg;
	struct duet_netif_stats stats;
};

/* Validates ops, MAC (not multicast) and MTU (68..65535), then registers the
 * netif under `name` with its link up. Returns 0, -EINVAL or -EEXIST. */
int duet_netif_register(struct duet_loop *loop, struct duet_netif *netif,
			const char *name, const struct duet_netif_ops *ops,
			const uint8_t mac[DUET_ETH_ALEN], unsigned mtu);

/* Stops delivery, drops the link watcher, calls ops->close and removes the
 * netif from the registry. */
void duet_netif_unregister(struct duet_netif *netif);

/* Hands one received frame to the receiver (or counts it dropped). Frames
 * shorter than an Ethernet header or longer than MTU + 18 are counted as
 * errors and not delivered. */
void duet_netif_deliver(struct duet_netif *netif, const void *frame,
			size_t len);

/* As duet_netif_deliver(), for a frame whose TCP or UDP checksum the device
 * vouches for (duet_netif_rx_csum_valid()). */
void duet_netif_deliver_valid(struct duet_netif *netif, const void *frame,
			      size_t len);

/* What the device offers (DUET_NETIF_OFFLOAD_*), after registering and
 * before a receiver starts. -EINVAL for TX_CSUM without transmit_csum. */
int duet_netif_set_offloads(struct duet_netif *netif, unsigned offloads);

/* For drivers that lose frames themselves (no RX buffer, ring overrun). */
void duet_netif_count_rx_drop(struct duet_netif *netif);

/* The medium came or went (e.g. a Xen backend restarted). Logs
 * "NAME: link up|down" at info level once per change and tells the watcher;
 * a repeat of the current state does nothing. Call from event context (not
 * from inside an op): the watcher may transmit. */
void duet_netif_set_link(struct duet_netif *netif, bool up);

#endif
