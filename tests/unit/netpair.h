/* An in-memory Ethernet wire between two netifs, for network stack tests.
 *
 * A frame transmitted on one end is copied into the wire's queue and
 * delivered to the other end from a deferred callback (never from inside
 * transmit, as netif_driver.h requires). The wire can drop and reorder
 * frames from a seeded generator, so a lossy run is the same every time,
 * and an end can refuse frames with -ENOBUFS as a driver whose queue is
 * full does (the sender is told, unlike a loss on the wire).
 */
#ifndef DUET_TEST_NETPAIR_H
#define DUET_TEST_NETPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/loop.h>
#include <duet/netif_driver.h>

#define NETPAIR_QUEUE	  4096
#define NETPAIR_FRAME_MAX 1536

struct netpair;

struct netpair_end {
	struct duet_netif nif;
	struct netpair *pair;
	unsigned side;
};

struct netpair_frame {
	unsigned to;
	size_t len;
	uint8_t data[NETPAIR_FRAME_MAX];
};

struct netpair {
	struct duet_loop *loop;
	struct netpair_end end[2];
	struct duet_defer deliver;
	struct netpair_frame *q; /* ring of NETPAIR_QUEUE */
	unsigned head, count;
	bool busy; /* the head frame is being delivered */
	/* impairments, in parts per thousand */
	unsigned drop_permille;
	unsigned reorder_permille;
	unsigned refuse_permille[2]; /* by the sending end */
	uint64_t rng;
	/* what happened */
	uint64_t frames, dropped, reordered, refused, arp_frames, ipv6_frames;
	/* set to watch every frame as it is delivered */
	void (*tap)(unsigned to, const uint8_t *frame, size_t len, void *arg);
	void *tap_arg;
};

/* Registers netifs `name_a` (MAC 02:00:00:00:00:01) and `name_b`
 * (…:02), MTU 1500, joined by the wire. */
int netpair_init(struct netpair *p, struct duet_loop *loop, const char *name_a,
		 const char *name_b);
void netpair_fini(struct netpair *p);
void netpair_impair(struct netpair *p, unsigned drop_permille,
		    unsigned reorder_permille, uint64_t seed);
/* End `side` (0: name_a, 1: name_b) refuses that share of the frames it
 * transmits with -ENOBUFS; drawn from the same generator. */
void netpair_refuse(struct netpair *p, unsigned side, unsigned permille);

#endif
