/* UDP over lwIP's raw API.
 *
 * Datagrams arrive from a received frame (never from inside an app call),
 * so they are handed to the app straight from lwIP's callback: lwIP does
 * not touch the PCB after calling it, which lets the app close the
 * endpoint from its callback. Sends point a PBUF_REF at the app's data
 * (no copy); lwIP copies it only if it has to queue it (ARP/ND pending).
 */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>

#include "lwip/udp.h"

#include "lwip_stack.h"

struct lwip_udp {
	struct duet_udp base;
	struct duet_lwip_stack *stack;
	struct udp_pcb *pcb;
	struct duet_list link; /* in the stack's udps */
};

static struct lwip_udp *to_udp(struct duet_udp *u)
{
	return duet_container_of(u, struct lwip_udp, base);
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr, u16_t port)
{
	struct lwip_udp *u = arg;
	struct duet_sockaddr from;
	const void *data = p->payload;

	(void)pcb;
	if (p->next != NULL) {
		/* Reassembled or larger than a pool buffer: make it whole. */
		pbuf_copy_partial(p, u->stack->udp_buf, p->tot_len, 0);
		data = u->stack->udp_buf;
	}
	duet__lwip_addr_to(addr, &from.ip);
	from.port = port;
	u16_t len = p->tot_len;
	/* The app may close u in its callback: p is ours to free either way. */
	duet_udp_deliver(&u->base, data, len, &from);
	pbuf_free(p);
}

int duet__lwip_udp_bind(struct duet_stack *base,
			const struct duet_sockaddr *addr, duet_udp_recv_cb cb,
			void *arg, struct duet_udp **out)
{
	struct duet_lwip_stack *s = duet__lwip_stack(base);
	ip_addr_t ip;
	int r;

	if ((r = duet__lwip_addr_from(s, &addr->ip, &ip)) < 0)
		return r;
	/* "::" takes both families, as TCP listeners and dual-stack sockets do.
	 */
	if (IP_IS_V6(&ip) && ip6_addr_isany(ip_2_ip6(&ip)))
		ip_addr_copy(ip, *IP_ANY_TYPE);
	struct lwip_udp *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->pcb = udp_new_ip_type(IP_GET_TYPE(&ip));
	if (u->pcb == NULL) {
		free(u);
		return -ENOMEM;
	}
	udp_bind_netif(u->pcb, &s->netif);
	err_t err = udp_bind(u->pcb, &ip, addr->port);
	if (err != ERR_OK) {
		udp_remove(u->pcb);
		free(u);
		return duet__lwip_errno(err);
	}
	u->base.stack = base;
	u->base.cb = cb;
	u->base.arg = arg;
	u->stack = s;
	udp_recv(u->pcb, on_recv, u);
	duet_list_insert_tail(&s->udps, &u->link);
	*out = &u->base;
	return 0;
}

int duet__lwip_udp_send(struct duet_udp *base, const struct duet_sockaddr *to,
			const void *data, size_t len)
{
	struct lwip_udp *u = to_udp(base);
	ip_addr_t ip;
	int r;

	if ((r = duet__lwip_addr_from(u->stack, &to->ip, &ip)) < 0)
		return r;
	/* duet_udp_send() has bounded len to what fits one datagram. */
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_REF);
	if (p == NULL)
		return -ENOBUFS;
	p->payload = (void *)(uintptr_t)data;
	err_t err = udp_sendto(u->pcb, p, &ip, to->port);
	pbuf_free(p);
	duet__lwip_kick();
	switch (err) {
	case ERR_OK: return 0;
	case ERR_MEM:
	case ERR_BUF: return -ENOBUFS;
	default: return duet__lwip_errno(err);
	}
}

int duet__lwip_udp_local(const struct duet_udp *base, struct duet_sockaddr *out)
{
	const struct lwip_udp *u =
	    duet_container_of(base, const struct lwip_udp, base);

	duet__lwip_addr_to(&u->pcb->local_ip, &out->ip);
	out->port = u->pcb->local_port;
	return 0;
}

void duet__lwip_udp_close(struct duet_udp *base)
{
	struct lwip_udp *u = to_udp(base);

	udp_remove(u->pcb);
	duet_list_unlink(&u->link);
	free(u);
}

void duet__lwip_udp_destroy_all(struct duet_lwip_stack *s)
{
	while (!duet_list_empty(&s->udps)) {
		struct lwip_udp *u =
		    duet_container_of(s->udps.next, struct lwip_udp, link);
		u->base.closed = true;
		duet__lwip_udp_close(&u->base);
	}
}
