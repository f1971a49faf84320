/* tcp.h — DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): where a client
 * goes after a truncated UDP answer.
 *
 * Each message is framed by a two-byte length. A connection may carry many
 * queries, pipelined; they are answered in order by the same dns_answer()
 * as UDP, with room for responses up to 65535 bytes. Connections hold slots
 * of the shared connection pool (duet/connpool.h): one idle for
 * idle_timeout since its accept or its last answer, or whose query is not
 * complete request_timeout after its first byte, is closed; a newcomer to
 * a full pool evicts the least-progressed; one address has a share. A
 * client that sends a message longer than DNS_QUERY_MAX is reset.
 *
 * Every answer is built whole and queued, whatever room the stack's send
 * queue has at that moment (a TCP answer is never truncated to fit): what
 * the stack does not take waits in the connection's output, and the rest
 * goes out as the stack reports it writable. While that output holds
 * DNS_TCP_OUT_HIGH bytes or more, no further query is answered and reading
 * is paused, so a client that pipelines without reading holds at most
 * DNS_TCP_OUT_HIGH + one answer of output and DNS_TCP_IN_MAX of input.
 * Both buffers exist only while they hold bytes.
 */
#ifndef DUET_DNS_TCP_H
#define DUET_DNS_TCP_H

#include <duet/connpool.h>
#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net.h>

#include "answer.h"

#define DNS_TCP_OUT_HIGH  65536
/* A partial query and one delivery from the stack (at most 64 KiB). */
#define DNS_TCP_IN_MAX (2 + DNS_QUERY_MAX + 65536)

struct dns_tcp {
	struct dns_server *server;
	struct duet_tcp_server srv;
	uint64_t closed_bad;
	size_t out_peak;	/* the most output one connection held */
	uint8_t out[2 + 65535]; /* the answer being built */
};

/* Listens on each address. 0, or a negative errno (logged) with nothing left
 * open. */
int dns_tcp_start(struct dns_tcp *t, struct duet_loop *loop,
		  struct duet_stack *stack, const struct duet_sockaddr *addrs,
		  size_t naddrs, struct dns_server *server,
		  const struct duet_connpool_config *pool);
/* Closes the listeners and every connection; frees the pool (log its
 * counters before). */
void dns_tcp_stop(struct dns_tcp *t);

#endif
