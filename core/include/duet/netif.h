/* duet/netif.h — network interfaces (Ethernet), the user side.
 *
 * A netif moves whole Ethernet frames (destination MAC first, no preamble and
 * no FCS) between a driver (tap, vwire, Xen netfront) and one receiver,
 * normally the network stack. Drivers implement duet/netif_driver.h.
 *
 * Receive: duet_netif_set_receiver() installs the one callback that gets
 * every incoming frame. The frame buffer belongs to the driver and is valid
 * only during the callback; a receiver that keeps data copies it. Frames that
 * arrive while no receiver is set are counted as dropped.
 *
 * Transmit: duet_netif_transmit() sends one frame gathered from an iovec and
 * returns once the driver no longer needs the caller's buffers (it has
 * copied or written them). It returns 0, -EMSGSIZE (shorter than an Ethernet
 * header or longer than MTU + 14 + 4 bytes), -ENOBUFS (the driver's queue is
 * full: the frame is dropped and counted, as a real NIC would) or another
 * negative errno for a device error (-ENETDOWN once the device is gone).
 *
 * Checksum offload (duet_netif_offloads()): a device with OFFLOAD_TX_CSUM
 * completes a transport checksum for frames sent with
 * duet_netif_transmit_csum(), whose checksum field holds the sum of the
 * pseudo-header only (folded, not complemented: as Linux's CHECKSUM_PARTIAL
 * and virtio's NEEDS_CSUM). A device with OFFLOAD_RX_CSUM says, for each
 * frame while the receive callback runs (duet_netif_rx_csum_valid()),
 * whether it vouches for the frame's TCP or UDP checksum, which the
 * receiver may then skip checking.
 *
 * Link: a driver whose medium comes and goes (a Xen netfront whose backend
 * restarts) reports it; every netif starts with its link up. While the link
 * is down duet_netif_transmit() returns -ENETDOWN without calling the
 * driver, counted in tx_errors. One watcher, normally the network stack,
 * hears of each change (see duet_netif_set_link_watcher()).
 */
#ifndef DUET_NETIF_H
#define DUET_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/device.h>

struct duet_loop;
struct duet_netif;

#define DUET_ETH_ALEN	   6
#define DUET_ETH_HLEN	   14
#define DUET_ETH_VLAN_HLEN 4
/* The largest MTU worth asking of a device: a frame of it, with a VLAN tag,
 * still has a 16-bit length (lwIP's pbufs; the tap's own limit is 65535). */
#define DUET_ETH_MTU_MAX (0xffff - DUET_ETH_HLEN - DUET_ETH_VLAN_HLEN)

struct duet_iovec {
	const void *base;
	size_t len;
};

struct duet_netif_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_dropped; /* no receiver, or the driver had no buffer */
	uint64_t rx_errors;  /* malformed or oversize frames from the device */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped; /* queue full */
	uint64_t
	    tx_errors; /* rejected by the wrapper or failed in the driver */
};

typedef void (*duet_netif_receive_cb)(struct duet_netif *netif,
				      const void *frame, size_t len, void *arg);

/* Finds a registered netif by name. On failure returns -ENODEV and logs
 * which netifs exist, so callers can propagate the error as is. */
int duet_netif_open(struct duet_loop *loop, const char *name,
		    struct duet_netif **out);

const char *duet_netif_name(const struct duet_netif *netif);
void duet_netif_mac(const struct duet_netif *netif, uint8_t mac[DUET_ETH_ALEN]);
/* Largest payload after the Ethernet header, e.g. 1500. */
unsigned duet_netif_mtu(const struct duet_netif *netif);

/* Installs (cb != NULL) or removes (cb == NULL) the receiver. Installing a
 * receiver while another is installed returns -EBUSY. */
int duet_netif_set_receiver(struct duet_netif *netif, duet_netif_receive_cb cb,
			    void *arg);

typedef void (*duet_netif_link_cb)(struct duet_netif *netif, bool up,
				   void *arg);

bool duet_netif_link_up(const struct duet_netif *netif);

/* One watcher (normally the stack); cb NULL removes it. Called from event
 * context when the driver changes the link state (only on a change, never
 * for a repeat of the current state). Installing replaces any watcher. */
void duet_netif_set_link_watcher(struct duet_netif *netif,
				 duet_netif_link_cb cb, void *arg);

int duet_netif_transmit(struct duet_netif *netif, const struct duet_iovec *iov,
			unsigned iovcnt);

#define DUET_NETIF_OFFLOAD_TX_CSUM 0x1u
#define DUET_NETIF_OFFLOAD_RX_CSUM 0x2u

unsigned duet_netif_offloads(const struct duet_netif *netif);

/* As duet_netif_transmit(), for a frame whose checksum the device completes
 * (OFFLOAD_TX_CSUM): the checksum covers bytes csum_start to the end and is
 * stored at csum_start + csum_offset. -EINVAL without the offload or when
 * the field is not inside the frame. */
int duet_netif_transmit_csum(struct duet_netif *netif,
			     const struct duet_iovec *iov, unsigned iovcnt,
			     unsigned csum_start, unsigned csum_offset);

/* During the receive callback: the device verified the frame's TCP or UDP
 * checksum (or the frame comes from the host itself, which never computed
 * it: a partial checksum on a link that ends at the host). */
bool duet_netif_rx_csum_valid(const struct duet_netif *netif);

void duet_netif_get_stats(const struct duet_netif *netif,
			  struct duet_netif_stats *out);

#endif
