/* tcp.h — DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): where a client
 * goes after a truncated UDP answer.
 *
 * Each message is framed by a two-byte length. A connection may carry many
 * queries, pipelined; they are answered in order by the same dns_answer()
 * as UDP, with room for responses up to 65535 bytes. Connections come from
 * a pool allocated at start (max_conns); one more is reset at once. A
 * connection idle for idle_timeout, or whose client sends a message longer
 * than DNS_QUERY_MAX or more than it reads back, is closed. When the send
 * queue has no room for a response, reading stops until it has.
 */
#ifndef DUET_DNS_TCP_H
#define DUET_DNS_TCP_H

#include <duet/loop.h>
#include <duet/net.h>

#include "answer.h"

#define DNS_TCP_LISTENERS 4

struct dns_tcp_conn;

struct dns_tcp {
	struct dns_server *server;
	struct duet_tcp *listeners[DNS_TCP_LISTENERS];
	size_t nlisteners;
	struct dns_tcp_conn *conns; /* the pool */
	size_t max_conns;
	duet_time_t idle_timeout;
	uint64_t accepted, refused, closed_bad;
	uint8_t out[2 + 65535]; /* one response at a time, sent at once */
};

/* Listens on each address. 0, or a negative errno (logged) with nothing left
 * open. */
int dns_tcp_start(struct dns_tcp *t, struct duet_loop *loop,
		  struct duet_stack *stack, const struct duet_sockaddr *addrs,
		  size_t naddrs, struct dns_server *server, size_t max_conns,
		  duet_time_t idle_timeout);
/* Closes the listeners and every connection; frees the pool. */
void dns_tcp_stop(struct dns_tcp *t);

#endif
