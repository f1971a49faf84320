/* net/lwip's TCP connection object, shared by tcp.c (connections) and
 * tcp_listen.c (listeners). */
#ifndef DUET_NET_LWIP_TCP_CONN_H
#define DUET_NET_LWIP_TCP_CONN_H

#include <stdbool.h>

#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net_stack.h>

#include "lwip/tcp.h"

#include "lwip_stack.h"

enum conn_state {
	TCP_LISTENER,
	TCP_CONNECTING,
	TCP_OPEN,
	TCP_LINGER, /* closed by the app, unacknowledged data in flight */
	TCP_DEAD,   /* closed by the app, waiting to be freed */
};

struct lwip_tcp {
	struct duet_tcp base;
	struct duet_lwip_stack *stack;
	struct tcp_pcb *pcb; /* NULL once lwIP freed it or we gave it up */
	enum conn_state state;
	struct duet_list link;	      /* in the stack's tcps */
	struct duet_list accept_link; /* in a listener's accept_q */
	struct duet_list
	    ev_link; /* in the stack's tcp_events: events to deliver */
	struct duet_timer linger;
	/* Received, not yet given to the app: chains linked by hand through
	 * rx_tail, since with window scaling the total can pass the 16-bit
	 * tot_len of a pbuf chain; rx_bytes is the true total. */
	struct pbuf *rx, *rx_tail;
	size_t rx_bytes;
	int err;     /* to report: the PCB died */
	bool handed; /* the app has seen it (accept delivered) */
	bool rx_eof, eof_delivered, paused, tx_shut;
	bool want_writable, writable_pending, connected_pending;
	bool in_dispatch, free_pending;
	u8_t nrtx_seen; /* pcb->nrtx before lwIP's timers last ran */
	/* listeners */
	duet_tcp_accept_cb accept_cb;
	void *accept_arg;
	struct duet_list accept_q;
};

static inline struct lwip_tcp *to_conn(struct duet_tcp *c)
{
	return duet_container_of(c, struct lwip_tcp, base);
}

struct lwip_tcp *duet__lwip_conn_new(struct duet_lwip_stack *s,
				     enum conn_state st);
/* Frees now, or at the end of the dispatch that is running for it. */
void duet__lwip_conn_release(struct lwip_tcp *c);
/* Has the stack deliver c's pending events from the loop. */
void duet__lwip_conn_post(struct lwip_tcp *c);
/* The stack's tcp_events run: one connection's events, in duet/net.h's
 * order. */
void duet__lwip_tcp_dispatch(struct duet_cq *cq, struct duet_list *item,
			     void *arg);
/* Takes the PCB and its lwIP callbacks. */
void duet__lwip_conn_watch(struct lwip_tcp *c, struct tcp_pcb *pcb);
/* Resets (or, for a listener, closes) the PCB with no callback. */
void duet__lwip_conn_pcb_abort(struct lwip_tcp *c);
/* The app is done with it: no more callbacks; freed from the loop. */
void duet__lwip_conn_retire(struct lwip_tcp *c);
/* From the port's retry timer: a connection whose send found no memory,
 * with nothing in flight, is told to try again (writable). */
void duet__lwip_tcp_nudge(struct tcp_pcb *pcb);

/* tcp_listen.c: hands accepted connections to the app; drops them. */
void duet__lwip_listener_deliver(struct lwip_tcp *l);
void duet__lwip_listener_drop_queue(struct lwip_tcp *l);

#endif
