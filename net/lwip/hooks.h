/* lwIP hooks (LWIP_HOOK_FILENAME in lwipopts.h), defined in net/lwip/port.c. */
#ifndef DUET_LWIP_HOOKS_H
#define DUET_LWIP_HOOKS_H

#include "lwip/ip4_addr.h"

struct netif;

/* The netif that owns `src`, or NULL to let lwIP route by destination. */
struct netif *duet__lwip_route_src(const ip4_addr_t *src,
				   const ip4_addr_t *dest);

#endif
