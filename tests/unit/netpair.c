#include <stdlib.h>
#include <string.h>

#include <duet/error.h>

#include "netpair.h"

static uint32_t next_random(struct netpair *p)
{
	/* xorshift64*: deterministic, good enough to pick frames. */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (uint32_t)((p->rng * UINT64_C(2685821657736338717)) >> 32);
}

static int transmit(struct duet_netif *nif, const struct duet_iovec *iov,
		    unsigned iovcnt, size_t len)
{
	struct netpair_end *e = duet_container_of(nif, struct netpair_end, nif);
	struct netpair *p = e->pair;

	if (len > NETPAIR_FRAME_MAX)
		return -EMSGSIZE;
	if (p->count == NETPAIR_QUEUE)
		return -ENOBUFS;
	if (p->refuse_permille[e->side] > 0 &&
	    next_random(p) % 1000 < p->refuse_permille[e->side]) {
		p->refused++;
		return -ENOBUFS; /* never reached the wire */
	}
	p->frames++;
	if (p->drop_permille > 0 && next_random(p) % 1000 < p->drop_permille) {
		p->dropped++;
		return 0; /* lost on the wire: the sender cannot tell */
	}
	unsigned tail = (p->head + p->count) % NETPAIR_QUEUE;
	struct netpair_frame *f = &p->q[tail];
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(f->data + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	f->len = len;
	f->to = 1 - e->side;
	p->count++;
	if (p->reorder_permille > 0 && p->count >= (p->busy ? 3u : 2u) &&
	    next_random(p) % 1000 < p->reorder_permille) {
		/* Swap with the frame queued before it: it now overtakes. */
		unsigned prev = (tail + NETPAIR_QUEUE - 1) % NETPAIR_QUEUE;
		struct netpair_frame tmp;
		memcpy(&tmp, &p->q[prev], sizeof(tmp));
		memcpy(&p->q[prev], f, sizeof(tmp));
		memcpy(f, &tmp, sizeof(tmp));
		p->reordered++;
	}
	duet_defer_post(&p->deliver);
	return 0;
}

static void deliver(struct duet_defer *d, void *arg)
{
	struct netpair *p = arg;
	/* Only what is queued now: replies go out in the next iteration, so
	 * timers and other callbacks interleave with the traffic. */
	unsigned n = p->count;

	(void)d;
	while (n-- > 0 && p->count > 0) {
		struct netpair_frame *f = &p->q[p->head];
		uint16_t type = (uint16_t)(f->data[12] << 8 | f->data[13]);
		if (type == 0x0806)
			p->arp_frames++;
		else if (type == 0x86dd)
			p->ipv6_frames++;
		if (p->tap != NULL)
			p->tap(f->to, f->data, f->len, p->tap_arg);
		/* The slot stays queued (and out of reordering's reach) while
		 * the receiver runs: what it transmits goes behind it. */
		p->busy = true;
		duet_netif_deliver(&p->end[f->to].nif, f->data, f->len);
		p->busy = false;
		p->head = (p->head + 1) % NETPAIR_QUEUE;
		p->count--;
	}
	if (p->count > 0)
		duet_defer_post(&p->deliver);
}

static const struct duet_netif_ops ops = {
    .transmit = transmit,
};

int netpair_init(struct netpair *p, struct duet_loop *loop, const char *name_a,
		 const char *name_b)
{
	const char *names[2] = {name_a, name_b};

	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->q = calloc(NETPAIR_QUEUE, sizeof(*p->q));
	if (p->q == NULL)
		return -ENOMEM;
	duet_defer_init(loop, &p->deliver, deliver, p);
	for (unsigned i = 0; i < 2; i++) {
		uint8_t mac[DUET_ETH_ALEN] = {0x02, 0, 0,
					      0,    0, (uint8_t)(i + 1)};
		p->end[i].pair = p;
		p->end[i].side = i;
		int r = duet_netif_register(loop, &p->end[i].nif, names[i],
					    &ops, mac, 1500);
		if (r < 0)
			return r;
	}
	return 0;
}

void netpair_fini(struct netpair *p)
{
	duet_defer_cancel(&p->deliver);
	for (unsigned i = 0; i < 2; i++)
		duet_netif_unregister(&p->end[i].nif);
	free(p->q);
	p->q = NULL;
}

void netpair_impair(struct netpair *p, unsigned drop_permille,
		    unsigned reorder_permille, uint64_t seed)
{
	p->drop_permille = drop_permille;
	p->reorder_permille = reorder_permille;
	p->rng = seed != 0 ? seed : 1;
}

void netpair_refuse(struct netpair *p, unsigned side, unsigned permille)
{
	p->refuse_permille[side] = permille;
	if (p->rng == 0)
		p->rng = 1;
}
