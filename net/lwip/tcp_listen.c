/* TCP listeners over lwIP's raw API.
 *
 * lwIP's accept callback only queues the new connection on its listener
 * and posts the listener's deferred callback, which hands the connections
 * to the app from the loop. Until then a connection records what happens
 * to it (data, an error) without posting, so the app never hears of a
 * connection before its accept.
 */
#include <duet/error.h>
#include <duet/log.h>

#include "lwip/tcp.h"

#include "lwip_stack.h"
#include "tcp_conn.h"

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lwip_tcp *l = arg;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	struct lwip_tcp *c = duet__lwip_conn_new(l->stack, TCP_OPEN);
	if (c == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	duet__lwip_conn_watch(c, pcb);
	duet_list_insert_tail(&l->accept_q, &c->accept_link);
	duet_defer_post(&l->ev);
	return ERR_OK;
}

void duet__lwip_listener_deliver(struct lwip_tcp *l)
{
	while (!duet_list_empty(&l->accept_q) && !l->base.closed) {
		struct lwip_tcp *c = duet_container_of(
		    l->accept_q.next, struct lwip_tcp, accept_link);
		duet_list_unlink(&c->accept_link);
		c->handed = true;
		l->accept_cb(&l->base, &c->base, l->accept_arg);
		if (!c->base.closed && c->base.cbs == NULL) {
			duet_log(DUET_LOG_ERROR, "net",
				 "accept callback set no callbacks: aborting "
				 "the connection");
			duet_tcp_abort(&c->base);
			continue;
		}
		duet_defer_post(&c->ev);
	}
}

void duet__lwip_listener_drop_queue(struct lwip_tcp *l)
{
	while (!duet_list_empty(&l->accept_q)) {
		struct lwip_tcp *c = duet_container_of(
		    l->accept_q.next, struct lwip_tcp, accept_link);
		duet_list_unlink(&c->accept_link);
		duet__lwip_conn_pcb_abort(c);
		duet__lwip_conn_release(c);
	}
}

int duet__lwip_tcp_listen(struct duet_stack *base,
			  const struct duet_sockaddr *addr, int backlog,
			  duet_tcp_accept_cb cb, void *arg,
			  struct duet_tcp **out)
{
	struct duet_lwip_stack *s = duet__lwip_stack(base);
	struct tcp_pcb *pcb, *lpcb;
	ip_addr_t ip;
	err_t err;
	int r;

	if ((r = duet__lwip_addr_from(s, &addr->ip, &ip)) < 0)
		return r;
	/* "::" listens on both families, as a dual-stack socket does. */
	if (IP_IS_V6(&ip) && ip6_addr_isany(ip_2_ip6(&ip)))
		ip_addr_copy(ip, *IP_ANY_TYPE);
	pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
	if (pcb == NULL)
		return -ENOMEM;
	tcp_bind_netif(pcb, &s->netif);
	ip_set_option(pcb, SOF_REUSEADDR);
	err = tcp_bind(pcb, &ip, addr->port);
	if (err != ERR_OK) {
		tcp_close(pcb);
		return duet__lwip_errno(err);
	}
	lpcb = tcp_listen_with_backlog_and_err(
	    pcb, (u8_t)(backlog > 255 ? 255 : backlog), &err);
	if (lpcb == NULL) {
		tcp_close(pcb);
		return duet__lwip_errno(err);
	}
	struct lwip_tcp *l = duet__lwip_conn_new(s, TCP_LISTENER);
	if (l == NULL) {
		tcp_close(lpcb);
		return -ENOMEM;
	}
	l->pcb = lpcb;
	l->handed = true;
	l->accept_cb = cb;
	l->accept_arg = arg;
	tcp_arg(lpcb, l);
	tcp_accept(lpcb, on_accept);
	*out = &l->base;
	return 0;
}
