/* lwIP hooks (LWIP_HOOK_FILENAME in lwipopts.h), defined in net/lwip/port.c. */
#ifndef DUET_LWIP_HOOKS_H
#define DUET_LWIP_HOOKS_H

#include "lwip/err.h"
#include "lwip/ip4_addr.h"

struct netif;
struct pbuf;
struct tcp_hdr;
struct tcp_pcb;

/* The netif that owns `src`, or NULL to let lwIP route by destination. */
struct netif *duet__lwip_route_src(const ip4_addr_t *src,
				   const ip4_addr_t *dest);

/* Before a segment reaches `pcb`: evicts a half-open connection when a
 * SYN finds its listener's backlog full (net/lwip/tcp_listen.c). */
err_t duet__lwip_tcp_inpkt(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			   u16_t optlen, u16_t opt1len, u8_t *opt2,
			   struct pbuf *p);

#endif
