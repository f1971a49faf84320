/* vwire: a userspace Ethernet wire over Unix datagram sockets, shared by
 * the driver (netif_vwire.c) and the hub (vwire_hub.c).
 *
 * A hub binds a SOCK_DGRAM socket at a path. An endpoint connects its own
 * socket (autobound, abstract) to that path and sends a hello; afterwards
 * every datagram it sends is one Ethernet frame, which the hub forwards to
 * the endpoint that owns the destination MAC (learnt from source MACs) or,
 * if unknown or multicast, to every other endpoint. Endpoints repeat the
 * hello every VWIRE_KEEPALIVE_MS, so a restarted hub learns them again and
 * an endpoint notices a hub that went away. Datagrams shorter than an
 * Ethernet header are control messages; the hello is the only one.
 */
#ifndef DUET_VWIRE_H
#define DUET_VWIRE_H

#define VWIRE_HELLO	   "vwire-hello"
#define VWIRE_HELLO_LEN	   (sizeof(VWIRE_HELLO) - 1)
#define VWIRE_KEEPALIVE_MS 1000
#define VWIRE_MAX_DATAGRAM 65536

#endif
