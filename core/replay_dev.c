/* Replay devices: a netif or a disk of the recorded shape whose traffic
 * the replayer answers (the core's wrappers ask it, not these ops). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"

struct rr_netif {
	struct duet_netif netif;
	struct duet_rr *rr;
};

struct rr_block {
	struct duet_block block;
	struct duet_rr *rr;
};

/* Never called: duet__rr_transmit and duet__rr_submit answer instead. */
static int netif_transmit(struct duet_netif *netif,
			  const struct duet_iovec *iov, unsigned iovcnt,
			  size_t len)
{
	(void)netif, (void)iov, (void)iovcnt, (void)len;
	return -EIO;
}

static int netif_transmit_csum(struct duet_netif *netif,
			       const struct duet_iovec *iov, unsigned iovcnt,
			       size_t len, unsigned csum_start,
			       unsigned csum_offset)
{
	(void)csum_start, (void)csum_offset;
	return netif_transmit(netif, iov, iovcnt, len);
}

static void netif_close(struct duet_netif *netif)
{
	struct rr_netif *n = duet_container_of(netif, struct rr_netif, netif);

	n->rr->dev[netif->dev.rr_id] = NULL;
	free(n);
}

static const struct duet_netif_ops netif_ops = {
	.transmit = netif_transmit,
	.transmit_csum = netif_transmit_csum,
	.close = netif_close,
};

static int block_submit(struct duet_block *dev, struct duet_block_req *req)
{
	(void)dev, (void)req;
	return -EIO;
}

/* The recording's driver completed what was in flight when it closed; the
 * core records nothing after the device left the registry, so neither
 * side has more than -ENODEV to say. */
static void block_close(struct duet_block *dev)
{
	struct rr_block *b = duet_container_of(dev, struct rr_block, block);
	struct duet_list *l = b->rr->pending.next;

	while (l != &b->rr->pending) {
		struct duet_block_req *req =
		    duet_container_of(l, struct duet_block_req, link);
		l = l->next;
		if (req->dev == dev) {
			duet_list_unlink(&req->link);
			duet_block_complete(req, -ENODEV);
		}
	}
	b->rr->dev[dev->dev.rr_id] = NULL;
	free(b);
}

static const struct duet_block_ops block_ops = {
	.submit = block_submit,
	.close = block_close,
};

static int create(struct duet_rr *rr, struct duet_loop *loop, uint8_t id,
		  struct rr_cursor *c)
{
	uint8_t kind = duet__rr_get_u8(c);
	uint8_t n = duet__rr_get_u8(c);
	const uint8_t *p = duet__rr_get_bytes(c, n);
	char name[DUET_DEVICE_NAME_MAX + 1];
	struct duet_device *dev;
	int r;

	if (p == NULL || n > DUET_DEVICE_NAME_MAX || id == 0 ||
	    rr->dev[id] != NULL)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = '\0';
	if (kind == DUET_DEVICE_NETIF) {
		const uint8_t *mac = duet__rr_get_bytes(c, DUET_ETH_ALEN);
		uint64_t mtu = duet__rr_get_varint(c);
		struct rr_netif *ni;
		if (c->bad || c->n != 0 || mtu > 65535 ||
		    (ni = calloc(1, sizeof(*ni))) == NULL)
			return -EINVAL;
		ni->rr = rr;
		if ((r = duet_netif_register(loop, &ni->netif, name, &netif_ops,
					     mac, (unsigned)mtu)) < 0) {
			free(ni);
			return r;
		}
		dev = &ni->netif.dev;
	} else if (kind == DUET_DEVICE_BLOCK) {
		struct duet_block_info info = {0};
		struct rr_block *b;
		uint64_t ss = duet__rr_get_varint(c);
		info.sector_count = duet__rr_get_varint(c);
		uint64_t io = duet__rr_get_varint(c);
		uint8_t flags = duet__rr_get_u8(c);
		if (c->bad || c->n != 0 || ss > 65536 || io > UINT32_MAX ||
		    (b = calloc(1, sizeof(*b))) == NULL)
			return -EINVAL;
		info.sector_size = (uint32_t)ss;
		info.io_size = (uint32_t)io;
		info.read_only = (flags & 1) != 0;
		info.volatile_cache = (flags & 2) != 0;
		info.fua = (flags & 4) != 0;
		b->rr = rr;
		if ((r = duet_block_register(loop, &b->block, name, &block_ops,
					     &info)) < 0) {
			free(b);
			return r;
		}
		dev = &b->block.dev;
	} else {
		return -EINVAL;
	}
	dev->rr_id = id;
	rr->dev[id] = dev;
	return 0;
}

void duet__rr_create_device(struct duet_rr *rr, struct duet_loop *loop,
			    const struct rr_record *rec)
{
	struct rr_cursor c = rr_cursor(rec);

	if (create(rr, loop, rec->dev, &c) < 0)
		duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
}
