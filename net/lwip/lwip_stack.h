/* net/lwip internals: shared by its files and its unit tests.
 *
 * One Duet stack is one lwIP netif over one Duet netif, with its own
 * addresses; its TCP and UDP endpoints are bound to that netif. All stacks
 * of a process share the one lwIP instance (lwIP's state is global), which
 * is how the unit tests join two stacks with an in-memory wire.
 */
#ifndef DUET_NET_LWIP_STACK_H
#define DUET_NET_LWIP_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/netif.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

struct duet_args;

#define DUET_LWIP_MAX_IP6 2

/* What `net=`, `ip=`, `gw=`, `ip6=` and `slaac=` asked for. */
struct duet_lwip_config {
	bool ip4_static;
	bool ip4_dhcp;
	uint8_t ip4[4];
	unsigned ip4_prefix;
	bool has_gw;
	uint8_t gw[4];
	unsigned ip6_count;
	uint8_t ip6[DUET_LWIP_MAX_IP6][16];
	bool slaac;
};

struct duet_lwip_stack {
	struct duet_stack base;
	struct duet_netif *dev;
	struct netif netif;
	struct duet_lwip_config cfg;
	struct duet_list tcps;	   /* every struct lwip_tcp not yet freed */
	struct duet_cq tcp_events; /* connections with events to deliver */
	struct duet_list udps;
	uint8_t *udp_buf;   /* a chained datagram made contiguous for the app */
	uint8_t *tx_bounce; /* a frame whose pbuf chain outgrows the iovec */
	bool netif_added;
	bool attached; /* our receiver and link watcher are on dev */
	uint64_t rtos; /* retransmission timeouts of its connections */
};

/* Reads the stack's boot arguments (logging what is wrong); NULL args
 * give the defaults. */
int duet__lwip_config_from_args(struct duet_args *args,
				struct duet_lwip_config *cfg);
/* Creates a stack over `dev`; the netif's receiver becomes lwIP. */
int duet__lwip_stack_create(struct duet_loop *loop, struct duet_netif *dev,
			    const struct duet_lwip_config *cfg,
			    struct duet_stack **out);
static inline struct duet_lwip_stack *duet__lwip_stack(struct duet_stack *s)
{
	return duet_container_of(s, struct duet_lwip_stack, base);
}

/* mem.c: gives back the blocks it keeps (when the last stack goes). */
void duet__lwip_mem_drain(void);

/* port.c: the one lwIP instance and its timeouts. */
int duet__lwip_port_attach(struct duet_loop *loop);
void duet__lwip_port_detach(void);
/* After anything that may have added an lwIP timeout: re-arm the timer. */
void duet__lwip_kick(void);
/* A driver refused a frame with -ENOBUFS, or a send found no memory: have
 * TCP (and the app) try again shortly. */
void duet__lwip_tx_retry(void);

/* netif.c: the Duet netif <-> lwIP netif adapter. */
int duet__lwip_netif_add(struct duet_lwip_stack *s);
void duet__lwip_netif_remove(struct duet_lwip_stack *s);

/* stack.c: addresses and errors at the boundary. */
int duet__lwip_addr_from(const struct duet_lwip_stack *s,
			 const struct duet_ipaddr *a, ip_addr_t *out);
void duet__lwip_addr_to(const ip_addr_t *ip, struct duet_ipaddr *out);
int duet__lwip_errno(err_t err);
void duet__lwip_netif_event(struct netif *n, netif_nsc_reason_t reason,
			    const netif_ext_callback_args_t *args);

/* tcp.c and udp.c: the ops. */
int duet__lwip_tcp_listen(struct duet_stack *s,
			  const struct duet_sockaddr *addr, int backlog,
			  duet_tcp_accept_cb cb, void *arg,
			  struct duet_tcp **out);
int duet__lwip_tcp_connect(struct duet_stack *s, const struct duet_sockaddr *to,
			   struct duet_tcp **out);
long duet__lwip_tcp_send(struct duet_tcp *c, const void *data, size_t len);
size_t duet__lwip_tcp_send_space(const struct duet_tcp *c);
size_t duet__lwip_tcp_send_queued(const struct duet_tcp *c);
int duet__lwip_tcp_shutdown(struct duet_tcp *c);
void duet__lwip_tcp_pause(struct duet_tcp *c);
void duet__lwip_tcp_resume(struct duet_tcp *c);
void duet__lwip_tcp_close(struct duet_tcp *c);
void duet__lwip_tcp_abort(struct duet_tcp *c);
int duet__lwip_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out);
int duet__lwip_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out);
int duet__lwip_tcp_nodelay(struct duet_tcp *c, bool on);
void duet__lwip_tcp_destroy_all(struct duet_lwip_stack *s);

int duet__lwip_udp_bind(struct duet_stack *s, const struct duet_sockaddr *addr,
			duet_udp_recv_cb cb, void *arg, struct duet_udp **out);
int duet__lwip_udp_send(struct duet_udp *u, const struct duet_sockaddr *to,
			const void *data, size_t len);
int duet__lwip_udp_local(const struct duet_udp *u, struct duet_sockaddr *out);
void duet__lwip_udp_close(struct duet_udp *u);
void duet__lwip_udp_destroy_all(struct duet_lwip_stack *s);

#endif
