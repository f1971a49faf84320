/* server.h — kv's connections: RESP over TCP (duet/net.h), pipelined.
 *
 * Each connection parses requests from its input in order and runs them
 * (cmd.h). Replies go out in request order: a reply that waits for its
 * writes to be durable holds back every reply after it on the same
 * connection (other connections are not held up). While a connection's
 * unsent and held replies exceed KV_OUT_HIGH, it reads no further
 * requests (reading is paused), so a client that pipelines without
 * reading holds bounded memory. Input is bounded too: a request larger
 * than max_query bytes, or a protocol error, gets Redis's error reply and
 * the connection is closed after it.
 *
 * Connections hold slots of the shared pool (duet/connpool.h): idle ones
 * are closed after idle_timeout, a request must be whole within
 * request_timeout of its first byte, and a newcomer to a full pool evicts
 * the least-progressed idle connection. One whose replies wait for the
 * disk is busy (never evicted for that).
 */
#ifndef DUET_KV_SERVER_H
#define DUET_KV_SERVER_H

#include <duet/connpool.h>
#include <duet/list.h>
#include <duet/net.h>

#include "cmd.h"
#include "resp.h"

#define KV_OUT_HIGH (1u << 20)

struct kv_server {
	struct kv_core *core;
	struct duet_loop *loop;
	struct duet_tcp_server srv;
	struct kv_resp_limits limits;
	size_t max_query;
	uint64_t protocol_errors;
};

/* Listens on each address; 0 or a negative errno (logged), nothing left
 * open. With `defaulted` (the addresses were not asked for), an address
 * after the first that the host lacks (no IPv6) is skipped, said so. */
int kv_server_start(struct kv_server *s, struct kv_core *core,
		    struct duet_loop *loop, struct duet_stack *stack,
		    const struct duet_sockaddr *addrs, size_t naddrs,
		    bool defaulted, const struct duet_connpool_config *pool,
		    size_t max_query);
/* Closes the listeners and every connection (replies still waiting on the
 * disk are dropped with their connections; the writes still complete). */
void kv_server_stop(struct kv_server *s);

#endif
