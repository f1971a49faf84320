/* The adapter between a Duet netif and an lwIP netif.
 *
 * Receive copies each frame into pbufs from lwIP's fixed pool (the driver
 * owns its buffer only during the callback; the pool means no malloc per
 * frame, and an exhausted pool drops the frame as a NIC with no free
 * descriptor would). Transmit hands the pbuf chain to the driver as an
 * iovec, without copying; only a chain longer than the iovec is flattened
 * into a bounce buffer.
 *
 * Checksum offload. On a netif whose device completes TCP checksums
 * (DUET_NETIF_OFFLOAD_TX_CSUM) lwIP generates none for TCP (per-netif
 * checksum control); linkoutput puts the pseudo-header's sum in the field
 * and has the device finish it. A frame whose device vouches for its
 * checksum (duet_netif_rx_csum_valid()) goes through lwIP with TCP and UDP
 * checking off for that frame only.
 */
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/netif_driver.h>

#include "lwip/etharp.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/ethip6.h"
#include "lwip/nd6.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#include "lwip_stack.h"

#define TX_IOV_MAX 16

/* Checked for every netif unless its device vouches for a frame. */
#define CSUM_CHECK_L4 (NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP)

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	return sum;
}

/* For a TCP frame lwIP built without a checksum: writes the pseudo-header
 * sum into the TCP header (lwIP's own buffer, which it zeroes again on any
 * retransmission) and returns where the TCP header starts, or 0 for a
 * frame that is not TCP or whose headers are not all in these bytes. */
static unsigned tcp_csum_prepare(uint8_t *f, size_t avail, size_t frame_len)
{
	if (avail < DUET_ETH_HLEN + 1)
		return 0;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	uint8_t *ip = f + DUET_ETH_HLEN;
	uint32_t sum;
	size_t l4;

	if (type == ETHTYPE_IP) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		if (avail < DUET_ETH_HLEN + 20 || ip[9] != IP_PROTO_TCP ||
		    ((ip[6] & 0x3f) | ip[7]) != 0)
			return 0;
		l4 = DUET_ETH_HLEN + ihl;
		sum = sum16(0, ip + 12, 8) + IP_PROTO_TCP;
	} else if (type == ETHTYPE_IPV6) {
		if (avail < DUET_ETH_HLEN + 40 || ip[6] != IP_PROTO_TCP)
			return 0;
		l4 = DUET_ETH_HLEN + 40;
		sum = sum16(0, ip + 8, 32) + IP_PROTO_TCP;
	} else {
		return 0;
	}
	if (avail < l4 + 20 || frame_len < l4 + 20)
		return 0;
	uint32_t tcp_len = (uint32_t)(frame_len - l4);
	sum += (tcp_len >> 16) + (tcp_len & 0xffff);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[l4 + 16] = (uint8_t)(sum >> 8);
	f[l4 + 17] = (uint8_t)sum;
	return (unsigned)l4;
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
	struct duet_lwip_stack *s = n->state;
	struct duet_iovec iov[TX_IOV_MAX];
	unsigned cnt = 0, l4 = 0;
	bool offload =
	    (duet_netif_offloads(s->dev) & DUET_NETIF_OFFLOAD_TX_CSUM) != 0;

	for (struct pbuf *q = p; q != NULL; q = q->next) {
		if (q->len == 0)
			continue;
		if (cnt == TX_IOV_MAX) {
			cnt = 0;
			break;
		}
		iov[cnt].base = q->payload;
		iov[cnt].len = q->len;
		cnt++;
	}
	if (cnt == 0) {
		if (p->tot_len >
		    duet_netif_mtu(s->dev) + DUET_ETH_HLEN + DUET_ETH_VLAN_HLEN)
			return ERR_BUF;
		pbuf_copy_partial(p, s->tx_bounce, p->tot_len, 0);
		iov[0].base = s->tx_bounce;
		iov[0].len = p->tot_len;
		cnt = 1;
	}
	if (offload) {
		l4 = tcp_csum_prepare((uint8_t *)iov[0].base, iov[0].len,
				      p->tot_len);
		if (l4 == 0 && cnt > 1 &&
		    p->tot_len <= duet_netif_mtu(s->dev) + DUET_ETH_HLEN) {
			/* Headers split over pbufs (lwIP builds them in one):
			 * from the bounce buffer, so a TCP frame is found. */
			pbuf_copy_partial(p, s->tx_bounce, p->tot_len, 0);
			iov[0].base = s->tx_bounce;
			iov[0].len = p->tot_len;
			cnt = 1;
			l4 = tcp_csum_prepare(s->tx_bounce, p->tot_len,
					      p->tot_len);
		}
	}
	int r = l4 != 0 ? duet_netif_transmit_csum(s->dev, iov, cnt, l4, 16)
			: duet_netif_transmit(s->dev, iov, cnt);
	if (r == 0)
		return ERR_OK;
	if (r != -ENOBUFS)
		return ERR_IF;
	/* A full driver queue is a dropped frame; lwIP keeps an unsent TCP
	 * segment queued on ERR_MEM, and the port has it sent again soon. */
	duet__lwip_tx_retry();
	return ERR_MEM;
}

static void receive(struct duet_netif *dev, const void *frame, size_t len,
		    void *arg)
{
	struct duet_lwip_stack *s = arg;
	struct pbuf *p = NULL;

	if (len <= 0xffff)
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (p == NULL) {
		duet_netif_count_rx_drop(dev);
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	/* lwIP handles the frame within input (NO_SYS, no queue), so the
	 * checks are off for this frame only. */
	bool valid = duet_netif_rx_csum_valid(dev);
	if (valid)
		s->netif.chksum_flags &= (u16_t)~CSUM_CHECK_L4;
	if (s->netif.input(p, &s->netif) != ERR_OK)
		pbuf_free(p);
	if (valid)
		s->netif.chksum_flags |= CSUM_CHECK_L4;
	duet__lwip_kick();
}

/* The driver's medium came or went. lwIP's link-up restarts DHCP and
 * re-announces (gratuitous ARP, MLD, router solicitation), which is what a
 * reconnected link needs. Link-down takes the netif out of lwIP's routing;
 * what bound PCBs still send is refused by duet_netif_transmit(). */
static void link_changed(struct duet_netif *dev, bool up, void *arg)
{
	struct duet_lwip_stack *s = arg;

	(void)dev;
	if (!s->netif_added)
		return;
	if (up)
		netif_set_link_up(&s->netif);
	else
		netif_set_link_down(&s->netif);
	duet__lwip_kick();
}

static err_t init(struct netif *n)
{
	struct duet_lwip_stack *s = n->state;
	unsigned mtu = duet_netif_mtu(s->dev);

	n->name[0] = 'e';
	n->name[1] = 'n';
	n->hwaddr_len = ETH_HWADDR_LEN;
	duet_netif_mac(s->dev, n->hwaddr);
	n->mtu = (u16_t)(mtu > DUET_ETH_MTU_MAX ? DUET_ETH_MTU_MAX : mtu);
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		   NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
	n->output = etharp_output;
	n->output_ip6 = ethip6_output;
	n->linkoutput = linkoutput;
	NETIF_SET_CHECKSUM_CTRL(
	    n, (duet_netif_offloads(s->dev) & DUET_NETIF_OFFLOAD_TX_CSUM) != 0
		   ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
		   : NETIF_CHECKSUM_ENABLE_ALL);
	return ERR_OK;
}

int duet__lwip_netif_add(struct duet_lwip_stack *s)
{
	ip4_addr_t ip, mask, gw;
	const struct duet_lwip_config *cfg = &s->cfg;

	ip4_addr_set_zero(&ip);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	if (cfg->ip4_static) {
		IP4_ADDR(&ip, cfg->ip4[0], cfg->ip4[1], cfg->ip4[2],
			 cfg->ip4[3]);
		u32_t m = cfg->ip4_prefix == 0
			      ? 0
			      : 0xffffffffu << (32 - cfg->ip4_prefix);
		ip4_addr_set_u32(&mask, lwip_htonl(m));
		if (cfg->has_gw)
			IP4_ADDR(&gw, cfg->gw[0], cfg->gw[1], cfg->gw[2],
				 cfg->gw[3]);
	}
	if (netif_add(&s->netif, &ip, &mask, &gw, s, init, ethernet_input) ==
	    NULL)
		return -ENOMEM;
	s->netif_added = true;

	netif_create_ip6_linklocal_address(&s->netif, 1);
	for (unsigned i = 0; i < cfg->ip6_count; i++) {
		ip6_addr_t a;
		s8_t idx;
		memcpy(a.addr, cfg->ip6[i], 16);
		ip6_addr_clear_zone(&a);
		if (netif_add_ip6_address(&s->netif, &a, &idx) != ERR_OK)
			return -ENOSPC;
	}
	netif_set_ip6_autoconfig_enabled(&s->netif, cfg->slaac ? 1 : 0);

	int r = duet_netif_set_receiver(s->dev, receive, s);
	if (r < 0)
		return r;
	duet_netif_set_link_watcher(s->dev, link_changed, s);
	s->attached = true;
	netif_set_up(&s->netif);
	if (duet_netif_link_up(s->dev))
		netif_set_link_up(&s->netif);
	duet__lwip_kick();
	return 0;
}

void duet__lwip_netif_remove(struct duet_lwip_stack *s)
{
	/* Only if they are ours: a stack that failed to start (its netif
	 * was taken: -EBUSY) must not unhook the one that has it. */
	if (s->attached) {
		duet_netif_set_link_watcher(s->dev, NULL, NULL);
		duet_netif_set_receiver(s->dev, NULL, NULL);
		s->attached = false;
	}
	if (!s->netif_added)
		return;
	/* Removing the netif aborts the PCBs on its addresses (a connection
	 * the app closed may still be waiting for the peer's FIN), and their
	 * resets go out through it (PCBs are bound to their netif), leaving
	 * ARP and neighbour entries that name it. The netif's memory goes
	 * with the stack: nothing of lwIP may keep pointing at it. */
	netif_set_down(&s->netif);
	netif_remove(&s->netif);
	etharp_cleanup_netif(&s->netif);
	nd6_cleanup_netif(&s->netif);
	s->netif_added = false;
}
