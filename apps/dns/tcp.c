/* DNS over TCP: length-framed queries on connections from the shared
 * connection pool (duet/connpool.h). */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tcp.h"

struct dns_tcp_conn {
	struct duet_list link; /* in t->conns */
	struct duet_pooled slot;
	struct dns_tcp *t;
	struct duet_tcp *c;
	bool paused;   /* reading paused: the output is over its bound */
	bool answered; /* since the pool last heard of progress */
	bool eof;      /* the client shut down its side */
	uint8_t *in;   /* received bytes not yet answered; NULL when none */
	size_t in_len, in_cap;
	uint8_t *out; /* answers the stack has not taken yet; NULL when none */
	size_t out_off, out_len, out_cap;
};

static void conn_free(struct dns_tcp_conn *k)
{
	duet_connpool_remove(&k->slot);
	duet_list_unlink(&k->link);
	free(k->in);
	free(k->out);
	free(k);
}

static void conn_abort(struct dns_tcp_conn *k)
{
	k->t->closed_bad++;
	duet_tcp_abort(k->c);
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
		    duet_tcp_send(k->c, k->out + k->out_off, out_pending(k));
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
		long s = duet_tcp_send(k->c, msg, n);
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
		duet_tcp_close(k->c);
		conn_free(k);
		return;
	}
	if (k->answered)
		duet_connpool_done(&k->slot, k->in_len > 0);
	else if (k->in_len > 0)
		duet_connpool_partial(&k->slot);
	k->answered = false;
	if (k->eof)
		return; /* nothing more to read */

	bool over = out_pending(k) >= DNS_TCP_OUT_HIGH;

	if (over && !k->paused)
		duet_tcp_pause(k->c);
	else if (!over && k->paused)
		duet_tcp_resume(k->c);
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

/* The pool ends a connection: a timeout closes it (what is queued still
 * goes), a newcomer's need for the slot resets it. */
static void conn_evict(struct duet_pooled *pc, enum duet_evict_reason why,
		       void *arg)
{
	struct dns_tcp_conn *k =
	    duet_container_of(pc, struct dns_tcp_conn, slot);
	(void)arg;

	if (why == DUET_EVICT_IDLE_TIMEOUT || why == DUET_EVICT_REQUEST_TIMEOUT)
		duet_tcp_close(k->c);
	else
		duet_tcp_abort(k->c);
	conn_free(k);
}

static const struct duet_tcp_callbacks conn_callbacks = {
    .recv = conn_recv, .writable = conn_writable, .error = conn_error};

static void on_accept(struct duet_tcp *listener, struct duet_tcp *c, void *arg)
{
	struct dns_tcp *t = arg;
	struct duet_sockaddr peer;
	struct dns_tcp_conn *k = calloc(1, sizeof(*k));
	(void)listener;

	if (duet_tcp_peer(c, &peer) < 0)
		memset(&peer, 0, sizeof(peer));
	if (k == NULL ||
	    duet_connpool_admit(&t->pool, &k->slot, &peer.ip) < 0) {
		free(k);
		duet_tcp_abort(c);
		return;
	}
	k->t = t;
	k->c = c;
	duet_list_insert_tail(&t->conns, &k->link);
	duet_tcp_set_callbacks(c, &conn_callbacks, k);
}

int dns_tcp_start(struct dns_tcp *t, struct duet_loop *loop,
		  struct duet_stack *stack, const struct duet_sockaddr *addrs,
		  size_t naddrs, struct dns_server *server,
		  const struct duet_connpool_config *pool)
{
	int r;

	if (naddrs > DNS_TCP_LISTENERS)
		return -EINVAL;
	t->server = server;
	duet_list_init(&t->conns);
	if ((r = duet_connpool_init(&t->pool, loop, pool, conn_evict, t)) < 0)
		return r;
	r = duet_tcp_listen_all(stack, addrs, naddrs, false, on_accept, t,
				t->listeners, "dns");
	if (r < 0) {
		duet_connpool_fini(&t->pool);
		return r;
	}
	t->nlisteners = (size_t)r;
	return 0;
}

void dns_tcp_stop(struct dns_tcp *t)
{
	for (size_t i = 0; i < t->nlisteners; i++)
		duet_tcp_close(t->listeners[i]);
	t->nlisteners = 0;
	while (!duet_list_empty(&t->conns)) {
		struct dns_tcp_conn *k =
		    duet_container_of(t->conns.next, struct dns_tcp_conn, link);
		duet_tcp_close(k->c);
		conn_free(k);
	}
	duet_connpool_fini(&t->pool);
}
