/* duet/connpool.h — a server's connection slots, under pressure.
 *
 * A server holds at most max_conns connections. Clients that connect and
 * send nothing, that trickle an unfinished request, or that open many
 * connections at once must not lock everyone else out; every server (httpd,
 * dns over TCP, ...) applies the same policy through this pool:
 *
 *  - Time bounds that bytes do not extend. A connection with nothing of a
 *    request buffered is ended after idle_timeout (counted from its accept
 *    or from the end of its last response); one holding part of a request
 *    must complete it within request_timeout of that request's first byte.
 *    While a response is in flight the connection is not timed here (the
 *    server bounds a stalled send itself).
 *  - A newcomer to a full pool evicts the connection that has made the
 *    least progress: of those with no response in flight, the one whose
 *    last progress (accept, or the end of a response) is the oldest, idle
 *    or partway through a request. The newcomer is refused instead when
 *    every connection has a response in flight, or when even the
 *    least-progressed one made its last progress less than `grace` ago: a
 *    burst of connections larger than the pool (which a server accepts
 *    before it reads any of them) must not flush out a newcomer before its
 *    first request could be read.
 *  - A peer address holding max_per_peer connections evicts its own
 *    least-progressed one for a newcomer (or, if all of its connections are
 *    busy, the newcomer is refused): one address never takes more than its
 *    share, however full the pool is.
 *
 * Ending a connection is the server's job, in `evict`, which the pool calls
 * from its timers or from inside duet_connpool_admit(). For DUET_EVICT_*
 * reasons of a full pool or a peer at its limit the server must remove the
 * connection (duet_connpool_remove) and abort or close it before returning;
 * for a timeout it may instead send a last response (duet_connpool_busy)
 * and close after it. Every end and refusal is counted by reason;
 * duet_connpool_log() writes the counters (servers call it when they stop).
 *
 * Memory: the pool allocates a table of peer buckets at init (a pointer per
 * eight slots) and one small record per distinct peer address while that
 * peer has connections. A struct duet_pooled is embedded in the server's
 * connection (caller-allocated, as every Duet handle).
 */
#ifndef DUET_CONNPOOL_H
#define DUET_CONNPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net.h>

enum duet_evict_reason {
	DUET_EVICT_IDLE_TIMEOUT,    /* nothing of a request for idle_timeout */
	DUET_EVICT_REQUEST_TIMEOUT, /* a request not complete in time */
	DUET_EVICT_FULL_IDLE,	    /* made room in a full pool: was idle */
	DUET_EVICT_FULL_PARTIAL,    /* made room: held part of a request */
	DUET_EVICT_PEER,	    /* made room for its own peer's newcomer */
	DUET_EVICT_REASONS
};

struct duet_connpool_config {
	unsigned max_conns;
	unsigned max_per_peer; /* 0: max_conns */
	duet_time_t idle_timeout;
	duet_time_t request_timeout;
	duet_time_t grace; /* 0: none (DUET_CONNPOOL_GRACE is the usual) */
	/* A handshake first (TLS), which the server does not see: a new
	 * connection's first bytes are due within request_timeout of its
	 * admission, as a request's are once begun. */
	bool handshake;
};

/* Long enough for a server to read the first request of a connection it
 * just accepted, however many others it accepted at the same time. */
#define DUET_CONNPOOL_GRACE DUET_MSEC(100)

struct duet_connpool_stats {
	uint64_t admitted;
	uint64_t evicted[DUET_EVICT_REASONS];
	uint64_t refused_busy;	/* full, every connection with a response */
	uint64_t refused_young; /* full, every connection within its grace */
	uint64_t refused_peer;	/* the peer at its limit, all of it busy */
	unsigned peak;		/* most connections at once */
};

struct duet_pooled;
struct duet_connpool_peer;
typedef void (*duet_connpool_evict_cb)(struct duet_pooled *pc,
				       enum duet_evict_reason why, void *arg);

struct duet_connpool {
	struct duet_loop *loop;
	struct duet_connpool_config cfg;
	duet_connpool_evict_cb evict;
	void *arg;
	struct duet_list
	    idle; /* no response in flight, oldest progress first */
	struct duet_list busy;
	unsigned count;
	struct duet_connpool_peer **peers; /* hash buckets */
	size_t nbuckets;		   /* a power of two */
	struct duet_connpool_stats stats;
};

/* One connection's slot; the fields are the pool's. */
struct duet_pooled {
	struct duet_list link;
	struct duet_connpool *pool;
	struct duet_connpool_peer *peer;
	struct duet_timer bound;
	duet_time_t since; /* admitted, or its last response ended */
	bool busy;
	bool partial;
};

/* 0, -EINVAL (max_conns 0, a timeout 0), -ENOMEM. */
int duet_connpool_init(struct duet_connpool *p, struct duet_loop *loop,
		       const struct duet_connpool_config *cfg,
		       duet_connpool_evict_cb evict, void *arg);
/* Every connection must have been removed. */
void duet_connpool_fini(struct duet_connpool *p);

/* Gives a new connection from peer a slot, idle and timed, evicting
 * another (through `evict`, inside this call) if the pool or the peer's
 * share is full. 0, or -EBUSY (refused: the server aborts the newcomer),
 * -ENOMEM. */
int duet_connpool_admit(struct duet_connpool *p, struct duet_pooled *pc,
			const struct duet_ipaddr *peer);
void duet_connpool_remove(struct duet_pooled *pc);

/* The first bytes of a request arrived: request_timeout runs from now. Does
 * nothing if the connection is already partway through one, or busy. */
void duet_connpool_partial(struct duet_pooled *pc);
/* A request is complete; its response is in flight: not timed, not
 * evicted. */
void duet_connpool_busy(struct duet_pooled *pc);
/* Every response is sent: progress. The connection becomes the last to
 * evict; partial: the next request's first bytes are already buffered. */
void duet_connpool_done(struct duet_pooled *pc, bool partial);

/* One line of counters, under the log subsystem `who`. */
void duet_connpool_log(const struct duet_connpool *p, const char *who);

/* A TCP server's skeleton: its listeners, its pool and every connection
 * it holds, so that the accept, evict, release and stop paths are written
 * once. The server keeps one record per connection with a struct
 * duet_server_conn embedded. The skeleton calls:
 *  - open() for an accepted connection: a zeroed record, or NULL (no
 *    memory) to refuse it; then admits it to the pool. A refused one (no
 *    record: -ENOMEM, or the pool's -EBUSY) is reset, its record released,
 *    and refused() told (optional).
 *  - start() once it is admitted (sc->tcp and sc->peer set): set the TCP
 *    callbacks, counters.
 *  - timeout() (optional) when the pool times a connection out: true if
 *    the server answers it itself (a last response, duet_connpool_busy,
 *    and its own close after it; or it ended the connection); false, and
 *    the skeleton closes it. Without it, every timeout closes.
 *  - release() once a connection has ended (the server ended it, or the
 *    skeleton: closed for a timeout, reset for a newcomer, closed at stop)
 *    and nothing holds its record: the server frees the record.
 * The server ends a connection itself (errors, protocol violations, its
 * last response sent) by closing or aborting sc->tcp and calling
 * duet_server_conn_end(). An operation still in flight that points into
 * the record (a file read into its buffer) holds it
 * (duet_server_conn_hold) until it completes (duet_server_conn_drop): a
 * connection that ends meanwhile is released at the last drop, and the
 * completion, seeing duet_server_conn_ended(), touches nothing else. */
#define DUET_TCP_SERVER_LISTENERS 4

struct duet_server_conn {
	struct duet_pooled slot;
	struct duet_list link; /* in the server's conns */
	struct duet_tcp *tcp;  /* not to be used once ended */
	struct duet_tcp_server *server;
	struct duet_sockaddr peer; /* unspecified if the stack did not say */
	unsigned holds;
	bool ended;
};

struct duet_tcp_server_ops {
	struct duet_server_conn *(*open)(void *arg);
	void (*start)(struct duet_server_conn *sc, void *arg);
	bool (*timeout)(struct duet_server_conn *sc, enum duet_evict_reason why,
			void *arg);
	void (*release)(struct duet_server_conn *sc, void *arg);
	void (*refused)(int err, void *arg);
};

struct duet_tcp_server {
	struct duet_connpool pool;
	struct duet_tcp *listeners[DUET_TCP_SERVER_LISTENERS];
	size_t nlisteners;
	struct duet_list conns;
	unsigned held; /* ended, waiting for their holds to drop */
	const struct duet_tcp_server_ops *ops;
	void *arg;
	const char *who;
	bool stopped;
	void (*drained)(void *arg);
	void *drained_arg;
};

/* Listens on addrs[0..naddrs) (duet_tcp_listen_all, logged under `who`)
 * with a pool of cfg. 0, or a negative errno with nothing left open. */
int duet_tcp_server_start(struct duet_tcp_server *s, struct duet_loop *loop,
			  struct duet_stack *stack,
			  const struct duet_sockaddr *addrs, size_t naddrs,
			  bool skip_missing,
			  const struct duet_connpool_config *cfg,
			  const struct duet_tcp_server_ops *ops, void *arg,
			  const char *who);
/* Closes the listeners and every connection (release() for each, or at
 * its last drop). drained (may be NULL) runs once no record is held any
 * more, inside this call if none is; s must live until then. */
void duet_tcp_server_stop(struct duet_tcp_server *s, void (*drained)(void *arg),
			  void *arg);
/* Connections the server holds now. */
static inline unsigned duet_tcp_server_count(const struct duet_tcp_server *s)
{
	return s->pool.count;
}
/* sc leaves the pool and the server's connections; its record is
 * released now, or at its last drop. */
void duet_server_conn_end(struct duet_server_conn *sc);
void duet_server_conn_hold(struct duet_server_conn *sc);
/* Drops a hold; releases the record if sc has ended and this was the
 * last, and then sc must not be touched. */
void duet_server_conn_drop(struct duet_server_conn *sc);
static inline bool duet_server_conn_ended(const struct duet_server_conn *sc)
{
	return sc->ended;
}

#endif
