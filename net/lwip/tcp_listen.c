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

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "hooks.h"
#include "lwip_stack.h"
#include "tcp_conn.h"

/*
 * SYN flood defence. With TCP_LISTEN_BACKLOG a half-open (SYN_RCVD)
 * connection counts against its listener's backlog from the first SYN,
 * and lwIP drops any SYN that finds the backlog full. So a flood of SYNs
 * from addresses that never complete the handshake fills the backlog and
 * locks every real client out until the half-open ones time out
 * (TCP_SYN_RCVD_TIMEOUT, 20 s), and again with each new burst. lwIP only
 * reclaims SYN_RCVD pcbs when the pcb pool runs dry, not when one
 * listener's backlog is full, and Duet cannot patch its tcp_listen_input.
 *
 * The input hook sees a segment for a listener just before
 * tcp_listen_input does: if it is a SYN and the backlog is full, abort
 * the listener's oldest half-open connection that has waited at least
 * SYN_STALE_TICKS for the final ACK, so the new SYN takes its place. A
 * real client answers the SYN-ACK within a round trip, so a connection
 * still half-open after a second is almost surely the flooder's; younger
 * ones are left alone, so a legitimate burst of connects larger than the
 * backlog still sees dropped SYNs (and retransmits them) rather than
 * resets. Connections established but not yet accepted are never
 * touched, so the backlog still bounds what the app has to take. A
 * flooder sending more than backlog SYNs a second keeps every entry
 * young and still wins; this defends against bursts, not a sustained
 * line-rate flood. The cost is one walk of the active pcb list (at most
 * MEMP_NUM_TCP_PCB) per SYN while the backlog is full.
 *
 * lwIP warns hooks off changing pcb lists because tcp_input may be in the
 * middle of a pcb; on the listener path it has finished with the active
 * list and only goes on to tcp_listen_input(lpcb), and the pcb aborted
 * here is never lpcb, so removing it from the active list is safe.
 */
#define SYN_STALE_TICKS (1000 / TCP_SLOW_INTERVAL)

err_t duet__lwip_tcp_inpkt(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			   u16_t optlen, u16_t opt1len, u8_t *opt2,
			   struct pbuf *p)
{
	struct tcp_pcb_listen *lpcb = (struct tcp_pcb_listen *)pcb;
	struct tcp_pcb *q, *oldest = NULL;
	u32_t age, oldest_age = SYN_STALE_TICKS;

	(void)optlen;
	(void)opt1len;
	(void)opt2;
	(void)p;
	if (pcb->state != LISTEN ||
	    (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN ||
	    lpcb->accepts_pending < lpcb->backlog)
		return ERR_OK;
	for (q = tcp_active_pcbs; q != NULL; q = q->next) {
		if (q->state != SYN_RCVD || q->listener != lpcb)
			continue;
		age = (u32_t)(tcp_ticks - q->tmr);
		if (age >= oldest_age) {
			oldest = q;
			oldest_age = age;
		}
	}
	if (oldest != NULL)
		tcp_abort(oldest);
	return ERR_OK;
}

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
	duet__lwip_conn_post(l);
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
		duet__lwip_conn_post(c);
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
