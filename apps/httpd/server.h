/* server.h — httpd's HTTP/1.1 server over duet/net.h.
 *
 * One listener on the TCP server skeleton (duet/connpool.h: its pool,
 * accept, eviction and stop); per connection a record with one timer and,
 * only while a request or response is in flight, a receive buffer and a
 * queue of up to HTTPD_QUEUE responses: an idle connection is its record
 * alone, and a closed one's record goes back to malloc at once. Requests are
 * answered in order; while the queue is full the connection's reading is
 * paused, so a pipelining client cannot make the server buffer without bound.
 * Response bodies are sent from the file source's bytes in memory (small
 * responses are first gathered, several at a time, into one send) or, for a
 * source that reads (files.h), streamed through a per-connection buffer of 2 *
 * HTTPD_CHUNK bytes, held only while such a response is being sent: the next
 * chunk is read while the previous one drains. HEAD and 304 read nothing; a
 * range reads just the range. A read that fails before the response's first
 * byte went out turns it into a 500 (503 when the buffer cannot be allocated);
 * later, the connection is reset. Both are logged.
 *
 * Timers (the pool's, then the connection's): a connection with nothing
 * buffered and nothing to send is closed after idle_timeout; a request must
 * be complete within request_timeout of its first byte (else 408 and
 * close); a response that makes no progress for idle_timeout ends the
 * connection (reset). A newcomer to a full server evicts the connection
 * with the least progress (reset); max_per_peer bounds one address.
 */
#ifndef HTTPD_SERVER_H
#define HTTPD_SERVER_H

#include <stdbool.h>

#include <duet/clock.h>
#include <duet/connpool.h>
#include <duet/list.h>
#include <duet/net.h>

#include "files.h"
#include "http_parse.h"

#define HTTPD_QUEUE    8
#define HTTPD_HEAD_CAP 512
#define HTTPD_SCRATCH  16384
/* One read from a file source. 32 KiB fits one blkfront request (11 pages
 * of 4 KiB, even without indirect segments); on POSIX, 16 KiB reads served
 * a 64 MiB file 1.6 times slower. A streaming connection holds two. */
#define HTTPD_CHUNK 32768

struct httpd_config {
	struct duet_sockaddr addr;
	duet_time_t idle_timeout;
	duet_time_t request_timeout;
	unsigned max_conns;
	unsigned max_per_peer;	 /* 0: max_conns */
	duet_time_t evict_grace; /* see duet/connpool.h */
	bool access_log;
	struct http_limits limits;
	/* TLS: a connection's first bytes (its handshake, which the app does
	 * not see) are due within request_timeout of the accept, as a
	 * request's are once begun. */
	bool tls;
	/* Strict-Transport-Security: max-age=hsts on every response; 0: none.
	 * With tls, responses also carry X-Content-Type-Options: nosniff. */
	unsigned long hsts;
	/* Nonzero: a plain listener that answers every request with 301 to
	 * the same target on https://HOST:redirect_to (HOST from Host, else
	 * the listen address). */
	uint16_t redirect_to;
	/* A path never served (404): the TLS key when it sits among the
	 * files. NULL: none. */
	const char *hidden;
};

struct httpd {
	struct duet_loop *loop;
	struct duet_tcp_server tcp; /* its connections, as httpd_conn */
	struct httpd_config cfg;
	struct httpd_source src;
	bool started;
	unsigned long long requests;
	unsigned reads;	      /* source reads in flight */
	unsigned stream_bufs; /* stream buffers allocated now */
	/* The Date header, rebuilt when the wall clock's second changes. */
	uint64_t date_sec;
	char date[32];
	char scratch[HTTPD_SCRATCH];
	char path[4096]; /* the decoded path of the request being answered */
};

/* Fills cfg with the defaults: 127.0.0.1:8080, idle 10 s, request 10 s,
 * 10000 connections, access log on, http_default_limits. */
void httpd_config_default(struct httpd_config *cfg);

/* Listens on cfg->addr and serves src. h is caller-allocated and must
 * outlive httpd_stop()'s drained. 0 or a negative errno from
 * duet_tcp_server_start (logged). */
int httpd_start(struct httpd *h, struct duet_loop *loop,
		struct duet_stack *stack, const struct httpd_config *cfg,
		const struct httpd_source *src);
/* Closes the listener and every connection (gracefully), frees memory. A
 * connection whose source read is still in flight keeps its memory until
 * the read completes; drained (may be NULL) runs once no read is in flight
 * (inside this call if none is), and from then on the source may go. */
void httpd_stop(struct httpd *h, void (*drained)(void *arg), void *arg);

#endif
