/* netfront_ring.h — the Xen netfront's ring processing, as plain C.
 *
 * The TX and RX rings of one vif (Xen's public netif protocol, one queue,
 * one slot per frame: no scatter-gather, no GSO, no offloads negotiated)
 * with every buffer granted once, at setup, and recycled: a frame to send
 * is copied into the TX slot's own page; an RX page goes back on the ring
 * as soon as its frame has been delivered. Nothing is allocated per packet.
 *
 * The backend is another domain and is not trusted: every response is read
 * once into a local copy and checked. A producer index that moves further
 * than the requests we issued (or than the ring holds), or a response id we
 * never issued or that was already answered, is a protocol error: the ring
 * is marked broken, ops->error is told (fatal), and from then on transmit
 * returns -ENETDOWN and nothing more is read from the ring. A bad status, an
 * oversize length or offset, or a frame split over several slots (never
 * negotiated) costs only that frame (ops->error, not fatal) and its buffer
 * is reposted. Each poll handles at most the requests outstanding, so a
 * backend cannot keep it busy forever.
 *
 * Plain C so that the host tests (tests/unit/xen_netfront_test.c) drive it
 * against a fake, misbehaving backend. netfront.c does the Xen side (grants,
 * event channel) and netfront_xs.c the xenstore handshake.
 */
#ifndef DUET_XEN_NETFRONT_RING_H
#define DUET_XEN_NETFRONT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#include <duet/netif.h>

#include "ring_poll.h"

#define DUET__NF_PAGE_SIZE 4096u
/* Fewer slots than the rings hold (256 each): 96 pages of buffers keep a
 * small domain small, and lwIP never has more in flight. */
#define DUET__NF_TX_SLOTS 32u
#define DUET__NF_RX_SLOTS 64u

enum duet__nf_fault {
	DUET__NF_BROKEN,  /* a protocol error: the ring is unusable */
	DUET__NF_TX_DROP, /* one transmitted frame failed */
	DUET__NF_RX_DROP, /* one received frame was dropped */
};

struct duet__nf_ops {
	/* One received frame; the buffer is reposted when this returns. */
	void (*deliver)(const void *frame, size_t len, void *arg);
	/* A misbehaving backend or a failed frame: `what` says what was
	 * wrong, `value` is the offending number. DUET__NF_BROKEN leaves
	 * the ring broken. */
	void (*error)(enum duet__nf_fault fault, const char *what, long value,
		      void *arg);
};

struct duet__nf_ring {
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	size_t frame_max;
	const struct duet__nf_ops *ops;
	void *arg;
	bool broken;
	bool rx_skip; /* dropping the rest of a frame spread over slots */
	bool tx_again, rx_again; /* responses came in during the last poll */

	/* Filled in by the caller after duet__nf_init(): one page each,
	 * granted to the backend (TX read-only, RX writable). */
	uint8_t *tx_buf[DUET__NF_TX_SLOTS];
	grant_ref_t tx_gref[DUET__NF_TX_SLOTS];
	uint8_t *rx_buf[DUET__NF_RX_SLOTS];
	grant_ref_t rx_gref[DUET__NF_RX_SLOTS];

	bool tx_busy[DUET__NF_TX_SLOTS];
	uint16_t tx_free[DUET__NF_TX_SLOTS]; /* stack of free TX ids */
	unsigned tx_nfree;
	bool rx_posted[DUET__NF_RX_SLOTS];
};

/* Initialises both shared rings (one page each) and the front state.
 * frame_max is the longest frame accepted either way (MTU + 18). */
void duet__nf_init(struct duet__nf_ring *r, netif_tx_sring_t *tx_sring,
		   netif_rx_sring_t *rx_sring, size_t frame_max,
		   const struct duet__nf_ops *ops, void *arg);

/* Copies one frame of `len` bytes into a free TX slot and queues it.
 * Returns 1 if the backend must be notified, 0 if not, -ENOBUFS when no
 * slot is free (after reaping completions), -EMSGSIZE, or -ENETDOWN. */
int duet__nf_tx_send(struct duet__nf_ring *r, const struct duet_iovec *iov,
		     unsigned iovcnt, size_t len);

/* Frees the TX slots the backend has answered (one pass: ring_poll.h;
 * tx_again says more came meanwhile). Returns how many, or -EPROTO if the
 * ring is (now) broken. */
int duet__nf_tx_reap(struct duet__nf_ring *r);

/* Delivers the received frames and takes their buffers back (one pass:
 * ring_poll.h; rx_again says more came meanwhile). Returns how many
 * responses were handled, or -EPROTO if the ring is (now) broken. */
int duet__nf_rx_poll(struct duet__nf_ring *r);

/* Posts every RX buffer not on the ring. Returns 1 if the backend must be
 * notified, 0 if not, -ENETDOWN if the ring is broken. */
int duet__nf_rx_refill(struct duet__nf_ring *r);

#ifdef DUET_XEN_XEN_H
/* The Xen side, shared by netfront.c (grants, events, the netif ops) and
 * netfront_xs.c (discovery and the XenbusState protocol). */
#include <duet/netif_driver.h>

#include "xenbus.h"

struct duet__netfront {
	struct duet_netif netif; /* first: the ops get it */
	struct duet__nf_ring ring;
	struct duet__xb_front xb; /* the protocol with the backend */
	struct duet_loop *loop;
	char name[8];  /* "net0" */
	char node[32]; /* "device/vif/0" */
	uint8_t mac[DUET_ETH_ALEN];
	grant_ref_t tx_ring_ref, rx_ring_ref;
	evtchn_port_t port;
	void *tx_page, *rx_page, *bufs; /* from duet__xen_pages_alloc */
	unsigned nwarn;			/* frame errors logged so far */
	bool registered;		/* netif registered (once, for good) */
	bool up;			/* connected and not broken */
	struct duet__xt repoll;		/* responses came in while polling */
};

/* Once, before the protocol starts. */
void duet__netfront_init(struct duet__netfront *nf, struct duet_loop *loop);

/* netfront.c, called by the protocol (xenbus.h's ops): the rings, buffers
 * and event channel, granted to the backend (setup); their release, false
 * if the backend still maps a page (teardown); I/O on (connect: registers
 * the netif the first time, else brings its link up) and off (down). */
int duet__netfront_setup(struct duet__netfront *nf);
bool duet__netfront_teardown(struct duet__netfront *nf);
int duet__netfront_connect(struct duet__netfront *nf);
void duet__netfront_down(struct duet__netfront *nf, const char *why);
/* Registers the netif with its link down: the backend has not connected
 * by the end of discovery, and may later. */
int duet__netfront_connect_later(struct duet__netfront *nf);

#endif

#endif
