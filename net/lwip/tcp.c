/* TCP over lwIP's raw API.
 *
 * lwIP calls back from inside its own processing (a frame arriving, a
 * timer, sometimes an app's call: tcp_new may kill another connection to
 * free a PCB). Those callbacks never call the app: they only record what
 * happened (data queued, bytes acknowledged, the PCB gone) and post the
 * connection's deferred callback, which delivers events from the loop in
 * a fixed order: connected, data, end of stream, writable, error. So the
 * app never runs inside lwIP, and never inside the call that caused an
 * event, as duet/net.h promises.
 *
 * Received data stays in the pbufs lwIP handed over and the window is
 * reopened (tcp_recved) only for bytes the app has been given: a paused
 * connection's window closes once TCP_WND bytes are buffered.
 *
 * Closing with data still unacknowledged keeps the connection object as a
 * "lingering" one, owning the PCB until the peer has acknowledged every
 * byte, the connection fails, or the linger timeout resets it.
 */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "lwip_stack.h"
#include "tcp_conn.h"

#define LINGER_TIMEOUT DUET_SEC(30)

static const char eof_byte;

static const struct lwip_tcp *to_cconn(const struct duet_tcp *c)
{
	return duet_container_of(c, const struct lwip_tcp, base);
}

static void linger_expired(struct duet_timer *t, void *arg);

struct lwip_tcp *duet__lwip_conn_new(struct duet_lwip_stack *s,
				     enum conn_state st)
{
	struct lwip_tcp *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->base.stack = &s->base;
	c->stack = s;
	c->state = st;
	duet_list_init(&c->accept_link);
	duet_list_init(&c->accept_q);
	duet_list_init(&c->ev_link);
	duet_timer_init(s->base.loop, &c->linger, linger_expired, c);
	duet_list_insert_tail(&s->tcps, &c->link);
	return c;
}

/* Frees now, or at the end of the dispatch that is running for it. */
void duet__lwip_conn_release(struct lwip_tcp *c)
{
	if (c->in_dispatch) {
		c->free_pending = true;
		return;
	}
	duet_list_unlink(&c->ev_link);
	duet_timer_stop(&c->linger);
	if (c->rx != NULL)
		pbuf_free(c->rx);
	duet_list_unlink(&c->accept_link);
	duet_list_unlink(&c->link);
	free(c);
}

void duet__lwip_conn_post(struct lwip_tcp *c)
{
	duet_cq_push(&c->stack->tcp_events, &c->ev_link);
}

/* Stops every lwIP callback for the PCB (it may live on without us). */
static void detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	if (pcb->state == LISTEN) {
		tcp_accept(pcb, NULL);
		return;
	}
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
}

void duet__lwip_conn_pcb_abort(struct lwip_tcp *c)
{
	if (c->pcb == NULL)
		return;
	detach(c->pcb);
	if (c->pcb->state == LISTEN)
		tcp_close(c->pcb); /* cannot fail for a listener */
	else
		tcp_abort(c->pcb);
	c->pcb = NULL;
	duet__lwip_kick();
}

/* pcb->snd_buf, not tcp_sndbuf(): with window scaling that macro stops at
 * 0xffff, below TCP_SND_BUF. */
static bool all_acked(const struct tcp_pcb *pcb)
{
	return pcb->snd_buf == TCP_SND_BUF;
}

/* --------------------------------------------------- lwIP's callbacks */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct lwip_tcp *c = arg;

	(void)pcb;
	(void)err;
	if (p == NULL) {
		c->rx_eof = true;
	} else {
		/* Appended at the tail, not with pbuf_cat: up to TCP_WND bytes
		 * queue here, more than a chain's 16-bit tot_len holds, and
		 * the reader walks links by their own len. */
		if (c->rx == NULL)
			c->rx = p;
		else
			c->rx_tail->next = p;
		c->rx_bytes += p->tot_len;
		while (p->next != NULL)
			p = p->next;
		c->rx_tail = p;
	}
	if (c->handed)
		duet__lwip_conn_post(c);
	return ERR_OK;
}

static void maybe_writable(struct lwip_tcp *c, struct tcp_pcb *pcb)
{
	if (c->want_writable && tcp_sndbuf(pcb) > 0 &&
	    tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN) {
		c->want_writable = false;
		c->writable_pending = true;
		if (c->handed)
			duet__lwip_conn_post(c);
	}
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct lwip_tcp *c = arg;

	(void)len;
	if (c->state == TCP_LINGER) {
		if (all_acked(pcb)) {
			/* Only the FIN is left: lwIP finishes on its own. */
			detach(pcb);
			c->pcb = NULL;
			duet__lwip_conn_release(c);
		}
		return ERR_OK;
	}
	maybe_writable(c, pcb);
	return ERR_OK;
}

void duet__lwip_tcp_nudge(struct tcp_pcb *pcb)
{
	struct lwip_tcp *c = pcb->callback_arg;

	if (c != NULL && c->state != TCP_LISTENER && c->state != TCP_LINGER &&
	    pcb->unsent == NULL && pcb->unacked == NULL)
		maybe_writable(c, pcb);
}

static void on_err(void *arg, err_t err)
{
	struct lwip_tcp *c = arg;

	c->pcb = NULL; /* lwIP has freed it */
	if (c->state == TCP_LINGER) {
		duet__lwip_conn_release(c);
		return;
	}
	if (err == ERR_CLSD) {
		/* Both sides closed normally (we shut down, the peer too). */
		c->rx_eof = true;
	} else if (c->state == TCP_CONNECTING) {
		c->err = err == ERR_RST ? -ECONNREFUSED : -ETIMEDOUT;
	} else {
		c->err = err == ERR_RST	   ? -ECONNRESET
			 : err == ERR_ABRT ? -ETIMEDOUT
					   : duet__lwip_errno(err);
	}
	if (c->handed)
		duet__lwip_conn_post(c);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lwip_tcp *c = arg;

	(void)pcb;
	(void)err; /* always ERR_OK in lwIP 2.1 */
	c->state = TCP_OPEN;
	c->connected_pending = true;
	duet__lwip_conn_post(c);
	return ERR_OK;
}

void duet__lwip_conn_watch(struct lwip_tcp *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
}

/* ------------------------------------------------------- the dispatch */

static void deliver_data(struct lwip_tcp *c)
{
	while (c->rx != NULL && !c->paused && !c->base.closed) {
		u16_t n = c->rx->len;
		if (n == 0) {
			/* An empty link: drop it alone (len 0 would mean EOF).
			 */
			struct pbuf *empty = c->rx;
			c->rx = empty->next;
			empty->next = NULL;
			pbuf_free(empty);
			if (c->rx == NULL)
				c->rx_tail = NULL;
			continue;
		}
		duet_tcp_deliver_recv(&c->base, c->rx->payload, n);
		if (c->base.closed)
			return; /* close took the queue */
		if (c->pcb != NULL)
			tcp_recved(c->pcb, n);
		c->rx_bytes -= n;
		c->rx = pbuf_free_header(c->rx, n);
		if (c->rx == NULL)
			c->rx_tail = NULL;
	}
	if (c->rx == NULL && c->rx_eof && !c->eof_delivered && !c->paused &&
	    !c->base.closed) {
		c->eof_delivered = true;
		duet_tcp_deliver_recv(&c->base, &eof_byte, 0);
	}
}

void duet__lwip_tcp_dispatch(struct duet_cq *cq, struct duet_list *item,
			     void *arg)
{
	struct lwip_tcp *c = duet_container_of(item, struct lwip_tcp, ev_link);

	(void)cq;
	(void)arg;
	if (c->state == TCP_DEAD) {
		duet__lwip_conn_release(c);
		return;
	}
	if (c->state == TCP_LINGER)
		return;
	c->in_dispatch = true;
	if (c->state == TCP_LISTENER) {
		duet__lwip_listener_deliver(c);
		goto out;
	}
	if (c->connected_pending && !c->base.closed) {
		c->connected_pending = false;
		duet_tcp_deliver_connected(&c->base);
	}
	deliver_data(c);
	if (c->writable_pending && !c->base.closed) {
		c->writable_pending = false;
		duet_tcp_deliver_writable(&c->base);
	}
	if (c->err != 0 && !c->base.closed) {
		duet_tcp_deliver_error(&c->base, c->err);
		c->state = TCP_DEAD; /* deliver_error closed it for the app */
		c->free_pending = true;
	}
	duet__lwip_kick();
out:
	c->in_dispatch = false;
	if (c->free_pending)
		duet__lwip_conn_release(c);
}

/* --------------------------------------------------------------- ops */

int duet__lwip_tcp_connect(struct duet_stack *base,
			   const struct duet_sockaddr *to,
			   struct duet_tcp **out)
{
	struct duet_lwip_stack *s = duet__lwip_stack(base);
	struct tcp_pcb *pcb;
	ip_addr_t ip;
	int r;

	if ((r = duet__lwip_addr_from(s, &to->ip, &ip)) < 0)
		return r;
	pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
	if (pcb == NULL)
		return -ENOMEM;
	tcp_bind_netif(pcb, &s->netif);
	struct lwip_tcp *c = duet__lwip_conn_new(s, TCP_CONNECTING);
	if (c == NULL) {
		tcp_abort(pcb);
		return -ENOMEM;
	}
	c->handed = true;
	duet__lwip_conn_watch(c, pcb);
	err_t err = tcp_connect(pcb, &ip, to->port, on_connected);
	if (err != ERR_OK) {
		duet__lwip_conn_pcb_abort(c);
		duet__lwip_conn_release(c);
		return duet__lwip_errno(err);
	}
	duet__lwip_kick();
	*out = &c->base;
	return 0;
}

long duet__lwip_tcp_send(struct duet_tcp *base, const void *data, size_t len)
{
	struct lwip_tcp *c = to_conn(base);
	const uint8_t *p = data;
	size_t done = 0;

	if (c->pcb == NULL)
		return c->err != 0 ? c->err : -ENOTCONN;
	if (c->tx_shut || c->state == TCP_LISTENER)
		return -ENOTCONN;
	while (done < len) {
		/* tcp_write takes 16-bit lengths: at most 0xffff a call. */
		size_t space = tcp_sndbuf(c->pcb);
		if (space == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN)
			break;
		u16_t n = (u16_t)(len - done < space ? len - done : space);
		err_t err =
		    tcp_write(c->pcb, p + done, n,
			      TCP_WRITE_FLAG_COPY |
				  (done + n < len ? TCP_WRITE_FLAG_MORE : 0));
		if (err == ERR_MEM) {
			/* No memory (the shared segment pool, malloc) with
			 * nothing in flight: no ACK will come to say try again,
			 * so the port's retry timer does (tcp_nudge). */
			if (c->pcb->unsent == NULL && c->pcb->unacked == NULL)
				duet__lwip_tx_retry();
			break;
		}
		if (err != ERR_OK) {
			if (done > 0)
				break;
			return duet__lwip_errno(err);
		}
		done += n;
	}
	if (done > 0) {
		tcp_output(c->pcb);
		duet__lwip_kick();
	}
	if (done < len)
		c->want_writable = true;
	return done > 0 ? (long)done : -EAGAIN;
}

size_t duet__lwip_tcp_send_space(const struct duet_tcp *base)
{
	const struct lwip_tcp *c = to_cconn(base);

	if (c->pcb == NULL || c->tx_shut || c->state == TCP_LISTENER ||
	    tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN)
		return 0;
	return c->pcb->snd_buf;
}

size_t duet__lwip_tcp_send_queued(const struct duet_tcp *base)
{
	const struct lwip_tcp *c = to_cconn(base);

	if (c->pcb == NULL || c->state == TCP_LISTENER)
		return 0;
	return (size_t)(TCP_SND_BUF - c->pcb->snd_buf);
}

int duet__lwip_tcp_shutdown(struct duet_tcp *base)
{
	struct lwip_tcp *c = to_conn(base);

	if (c->pcb == NULL || c->tx_shut || c->state == TCP_LISTENER)
		return -ENOTCONN;
	err_t err = tcp_shutdown(c->pcb, 0, 1);
	if (err != ERR_OK)
		return duet__lwip_errno(err);
	c->tx_shut = true;
	duet__lwip_kick();
	return 0;
}

void duet__lwip_tcp_pause(struct duet_tcp *base)
{
	to_conn(base)->paused = true;
}

void duet__lwip_tcp_resume(struct duet_tcp *base)
{
	struct lwip_tcp *c = to_conn(base);

	c->paused = false;
	if (c->rx != NULL || (c->rx_eof && !c->eof_delivered))
		duet__lwip_conn_post(c);
}

/* The app is done with it: no more callbacks; free from the loop. */
void duet__lwip_conn_retire(struct lwip_tcp *c)
{
	c->state = TCP_DEAD;
	if (c->in_dispatch)
		c->free_pending = true;
	else
		duet__lwip_conn_post(c);
}

void duet__lwip_tcp_close(struct duet_tcp *base)
{
	struct lwip_tcp *c = to_conn(base);
	struct tcp_pcb *pcb = c->pcb;

	if (c->state == TCP_LISTENER) {
		duet__lwip_listener_drop_queue(c);
		duet__lwip_conn_pcb_abort(c);
		duet__lwip_conn_retire(c);
		return;
	}
	if (pcb == NULL) {
		duet__lwip_conn_retire(c);
		return;
	}
	/* Unread data is dropped, not refused: crediting it lets lwIP close
	 * with a FIN instead of the RST it sends for unread data. */
	if (c->rx != NULL) {
		for (size_t left = c->rx_bytes; left > 0;) {
			u16_t n = (u16_t)(left < 0xffff ? left : 0xffff);
			tcp_recved(pcb, n);
			left -= n;
		}
		pbuf_free(c->rx);
		c->rx = c->rx_tail = NULL;
		c->rx_bytes = 0;
	}
	bool linger = !all_acked(pcb) && pcb->state != SYN_SENT &&
		      pcb->state != CLOSED && pcb->state != LISTEN;
	if (!linger)
		detach(pcb);
	err_t err = tcp_close(pcb);
	if (err != ERR_OK) {
		/* Out of memory for the FIN: reset instead. */
		duet__lwip_conn_pcb_abort(c);
		duet__lwip_conn_retire(c);
		return;
	}
	duet__lwip_kick();
	if (!linger) {
		c->pcb = NULL;
		duet__lwip_conn_retire(c);
		return;
	}
	c->state = TCP_LINGER;
	tcp_recv(pcb, NULL); /* lwIP refuses data after a close itself */
	duet_list_unlink(&c->ev_link);
	duet_timer_start(&c->linger, LINGER_TIMEOUT, 0);
}

static void linger_expired(struct duet_timer *t, void *arg)
{
	struct lwip_tcp *c = arg;

	(void)t;
	char peer[DUET_SOCKADDR_STRLEN];
	struct duet_sockaddr a;
	duet__lwip_addr_to(&c->pcb->remote_ip, &a.ip);
	a.port = c->pcb->remote_port;
	DUET_DEBUG("net", "linger timeout: resetting the connection to %s",
		   duet_sockaddr_format(&a, peer, sizeof(peer)));
	duet__lwip_conn_pcb_abort(c);
	duet__lwip_conn_release(c);
}

void duet__lwip_tcp_abort(struct duet_tcp *base)
{
	struct lwip_tcp *c = to_conn(base);

	if (c->state == TCP_LISTENER)
		duet__lwip_listener_drop_queue(c);
	duet__lwip_conn_pcb_abort(c);
	duet__lwip_conn_retire(c);
}

static int endpoint(const struct lwip_tcp *c, bool local,
		    struct duet_sockaddr *out)
{
	if (c->pcb == NULL)
		return -ENOTCONN;
	if (local) {
		duet__lwip_addr_to(&c->pcb->local_ip, &out->ip);
		out->port = c->pcb->local_port;
	} else {
		if (c->state == TCP_LISTENER)
			return -ENOTCONN;
		duet__lwip_addr_to(&c->pcb->remote_ip, &out->ip);
		out->port = c->pcb->remote_port;
	}
	return 0;
}

int duet__lwip_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	return endpoint(to_cconn(c), true, out);
}

int duet__lwip_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	return endpoint(to_cconn(c), false, out);
}

int duet__lwip_tcp_nodelay(struct duet_tcp *base, bool on)
{
	struct lwip_tcp *c = to_conn(base);

	if (c->pcb == NULL || c->state == TCP_LISTENER)
		return -ENOTCONN;
	if (on)
		tcp_nagle_disable(c->pcb);
	else
		tcp_nagle_enable(c->pcb);
	return 0;
}

void duet__lwip_tcp_destroy_all(struct duet_lwip_stack *s)
{
	while (!duet_list_empty(&s->tcps)) {
		struct lwip_tcp *c =
		    duet_container_of(s->tcps.next, struct lwip_tcp, link);
		duet__lwip_conn_pcb_abort(c);
		c->in_dispatch = false;
		duet__lwip_conn_release(c);
	}
}
