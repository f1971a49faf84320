/* DNS over TCP: length-framed queries on connections from the shared
 * connection pool (duet/connpool.h). */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tcp.h"

struct dns_tcp_conn {
	struct duet_server_conn sc;
	struct dns_tcp *t;
	bool paused;   /* reading paused: the output is over its bound */
	bool answered; /* since the pool last heard of progress */
	bool eof;      /* the client shut down its side */
	uint8_t *in;   /* received bytes not yet answered; NULL when none */
	size_t in_len, in_cap;
	uint8_t *out; /* answers the stack has not taken yet; NULL when none */
	size_t out_off, out_len, out_cap;
};

static void conn_release(struct duet_server_conn *sc, void *arg)
{
	struct dns_tcp_conn *k = duet_container_of(sc, struct dns_tcp_conn, sc);
	(void)arg;

	free(k->in);
	free(k->out);
	free(k);
}

static void conn_free(struct dns_tcp_conn *k)
{
	duet_server_conn_end(&k->sc); /* conn_release() */
}

static void conn_abort(struct dns_tcp_conn *k)
{
	k->t->closed_bad++;
	duet_tcp_abort(k->sc.tcp);
	conn_free(k);
}

/* Appends p[0..n) to the buffer *buf of *len bytes, growing it up to max;
 * false if it cannot grow (no memory, or over max). */
static bool buf_append(uint8_t **buf, size_t *len, size_t *cap,
		       const uint8_t *p, size_t n, size_t max)
{
	if (n == 0)
		return true;
	if (*len + n > *cap) {
		size_t want = *len + n, grown = *cap * 2;
		if (grown > want && grown <= max)
			want = grown;
		uint8_t *b = want <= max ? realloc(*buf, want) : NULL;
		if (b == NULL)
			return false;
		*buf = b;
		*cap = want;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return true;
}

static size_t out_pending(const struct dns_tcp_conn *k)
{
	return k->out_len - k->out_off;
}

/* Hands queued output to the stack until it takes no more. A short send is
 * retried until it is refused, so that `writable` is due. false if the
 * connection is gone. */
static bool conn_flush(struct dns_tcp_conn *k)
{
	while (out_pending(k) > 0) {
		long s =
		    duet_tcp_send(k->sc.tcp, k->out + k->out_off, out_pending(k));
		if (s == -EAGAIN)
			return true;
		if (s < 0) {
			DUET_DEBUG("dns", "tcp send: %s",
				   duet_strerror((int)s));
			conn_abort(k);
			return false;
		}
		k->out_off += (size_t)s;
	}
	free(k->out);
	k->out = NULL;
	k->out_off = k->out_len = k->out_cap = 0;
	return true;
}

/* Queues one framed answer, whole, whatever the momentary send space: a
 * TCP answer is never cut to fit (conn_serve bounds what is queued). */
static bool conn_queue(struct dns_tcp_conn *k, const uint8_t *msg, size_t n)
{
	if (out_pending(k) == 0) {
		long s = duet_tcp_send(k->sc.tcp, msg, n);
		if (s == (long)n)
			return true;
		if (s < 0 && s != -EAGAIN) {
			conn_abort(k);
			return false;
		}
		if (s > 0) {
			msg += s;
			n -= (size_t)s;
		}
	}
	if (k->out_off > 0 && k->out_len + n > k->out_cap) {
		memmove(k->out, k->out + k->out_off, out_pending(k));
		k->out_len -= k->out_off;
		k->out_off = 0;
	}
	if (!buf_append(&k->out, &k->out_len, &k->out_cap, msg, n, SIZE_MAX)) {
		DUET_WARN("dns", "tcp: no memory for a %zu-byte answer", n);
		conn_abort(k);
		return false;
	}
	if (out_pending(k) > k->t->out_peak)
		k->t->out_peak = out_pending(k);
	return conn_flush(k);
}

/* Answers whole queries from buf[0..len) in order while the output is under
 * its bound. Returns the bytes consumed, or -1 if the connection is gone. */
static long conn_serve(struct dns_tcp_conn *k, const uint8_t *buf, size_t len)
{
	struct dns_tcp *t = k->t;
	size_t used = 0;

	while (len - used >= 2 && out_pending(k) < DNS_TCP_OUT_HIGH) {
		size_t mlen = (size_t)buf[used] << 8 | buf[used + 1];
		if (mlen > DNS_QUERY_MAX) {
			conn_abort(k);
			return -1;
		}
		if (len - used < 2 + mlen)
			break;
		size_t n = dns_answer(t->server, DNS_TCP, buf + used + 2, mlen,
				      t->out + 2, 65535);
		used += 2 + mlen;
		if (n == 0)
			continue;
		t->out[0] = (uint8_t)(n >> 8);
		t->out[1] = (uint8_t)n;
		if (!conn_queue(k, t->out, n + 2))
			return -1;
		k->answered = true;
	}
	return (long)used;
}

/* Drops the first n buffered bytes (answered). */
static void in_consume(struct dns_tcp_conn *k, size_t n)
{
	k->in_len -= n;
	if (k->in_len > 0) {
		memmove(k->in, k->in + n, k->in_len);
		return;
	}
	free(k->in);
	k->in = NULL;
	k->in_cap = 0;
}

/* Buffers received bytes that cannot be answered yet. Input stops (reading
 * is paused) while the output is over its bound, so what a client sends
 * and does not read back stays bounded by one delivery: more is refused. */
static bool in_append(struct dns_tcp_conn *k, const uint8_t *p, size_t n)
{
	if (!buf_append(&k->in, &k->in_len, &k->in_cap, p, n, DNS_TCP_IN_MAX)) {
		conn_abort(k);
		return false;
	}
	return true;
}

/* Answers what the buffer holds; false if the connection is gone. */
static bool conn_serve_buffered(struct dns_tcp_conn *k)
{
	long used = conn_serve(k, k->in, k->in_len);

	if (used < 0)
		return false;
	in_consume(k, (size_t)used);
	return true;
}

/* Reading follows the output: paused while it is over its bound. The pool
 * hears of progress (answers) and of the first bytes of a query. A client
 * that is done is closed once every answer it asked for is with the stack
 * (which still sends them). */
static void conn_pace(struct dns_tcp_conn *k)
{
	if (k->eof && out_pending(k) == 0) {
		duet_tcp_close(k->sc.tcp);
		conn_free(k);
		return;
	}
	if (k->answered)
		duet_connpool_done(&k->sc.slot, k->in_len > 0);
	else if (k->in_len > 0)
		duet_connpool_partial(&k->sc.slot);
	k->answered = false;
	if (k->eof)
		return; /* nothing more to read */

	bool over = out_pending(k) >= DNS_TCP_OUT_HIGH;

	if (over && !k->paused)
		duet_tcp_pause(k->sc.tcp);
	else if (!over && k->paused)
		duet_tcp_resume(k->sc.tcp);
	k->paused = over;
}

static void conn_recv(struct duet_tcp *c, const void *data, size_t len,
		      void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)c;

	if (len == 0) { /* the client is done; answer what it sent */
		k->eof = true;
		conn_pace(k);
		return;
	}
	if (k->in_len > 0) { /* complete what is buffered first */
		if (!in_append(k, data, len) || !conn_serve_buffered(k))
			return;
	} else {
		long used = conn_serve(k, data, len);
		if (used < 0 || !in_append(k, (const uint8_t *)data + used,
					   len - (size_t)used))
			return;
	}
	conn_pace(k);
}

static void conn_writable(struct duet_tcp *c, void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)c;

	if (!conn_flush(k) || (k->in_len > 0 && !conn_serve_buffered(k)))
		return;
	conn_pace(k);
}

static void conn_error(struct duet_tcp *c, int err, void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)c;

	DUET_DEBUG("dns", "tcp connection: %s", duet_strerror(err));
	conn_free(k); /* the stack closes it */
}

static const struct duet_tcp_callbacks conn_callbacks = {
    .recv = conn_recv, .writable = conn_writable, .error = conn_error};

static struct duet_server_conn *conn_open(void *arg)
{
	struct dns_tcp_conn *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->t = arg;
	return &k->sc;
}

static void conn_start(struct duet_server_conn *sc, void *arg)
{
	(void)arg;
	duet_tcp_set_callbacks(sc->tcp, &conn_callbacks,
			       duet_container_of(sc, struct dns_tcp_conn, sc));
}

static const struct duet_tcp_server_ops server_ops = {
    .open = conn_open, .start = conn_start, .release = conn_release};

int dns_tcp_start(struct dns_tcp *t, struct duet_loop *loop,
		  struct duet_stack *stack, const struct duet_sockaddr *addrs,
		  size_t naddrs, struct dns_server *server,
		  const struct duet_connpool_config *pool)
{
	t->server = server;
	return duet_tcp_server_start(&t->srv, loop, stack, addrs, naddrs, false,
				     pool, &server_ops, t, "dns");
}

void dns_tcp_stop(struct dns_tcp *t)
{
	duet_tcp_server_stop(&t->srv, NULL, NULL);
}
