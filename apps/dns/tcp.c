/* DNS over TCP: length-framed queries on connections from a fixed pool. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tcp.h"

struct dns_tcp_conn {
	struct dns_tcp *t;
	struct duet_tcp *c; /* NULL: the slot is free */
	struct duet_timer idle;
	bool waiting; /* reading paused until the send queue has room */
	size_t len;
	uint8_t in[2 + DNS_QUERY_MAX];
};

static void conn_free(struct dns_tcp_conn *k)
{
	duet_timer_stop(&k->idle);
	k->c = NULL;
	k->len = 0;
	k->waiting = false;
}

static void conn_abort(struct dns_tcp_conn *k)
{
	k->t->closed_bad++;
	duet_tcp_abort(k->c);
	conn_free(k);
}

/* Answers every whole query in the buffer, in order. false if the
 * connection is gone. */
static bool conn_serve(struct dns_tcp_conn *k)
{
	struct dns_tcp *t = k->t;

	while (k->len >= 2) {
		size_t mlen = (size_t)k->in[0] << 8 | k->in[1];
		if (mlen > DNS_QUERY_MAX) {
			conn_abort(k);
			return false;
		}
		if (k->len < 2 + mlen)
			break;
		/* The response must go out whole: wait for room for at
		 * least a 512-byte one, then let it grow into what there is. */
		size_t space = duet_tcp_send_space(k->c);
		if (space < 2 + 512) {
			if (!k->waiting)
				duet_tcp_pause(k->c);
			k->waiting = true;
			return true;
		}
		size_t cap = space - 2 < 65535 ? space - 2 : 65535;
		size_t n = dns_answer(t->server, DNS_TCP, k->in + 2, mlen,
				      t->out + 2, cap);
		k->len -= 2 + mlen;
		memmove(k->in, k->in + 2 + mlen, k->len);
		if (n == 0)
			continue;
		t->out[0] = (uint8_t)(n >> 8);
		t->out[1] = (uint8_t)n;
		if (duet_tcp_send(k->c, t->out, n + 2) != (long)(n + 2)) {
			conn_abort(k);
			return false;
		}
	}
	if (k->waiting)
		duet_tcp_resume(k->c);
	k->waiting = false;
	return true;
}

static void conn_recv(struct duet_tcp *c, const void *data, size_t len,
		      void *arg)
{
	struct dns_tcp_conn *k = arg;
	const uint8_t *p = data;
	(void)c;

	if (len == 0) { /* the client is done: what is queued still goes */
		duet_tcp_close(k->c);
		conn_free(k);
		return;
	}
	duet_timer_start(&k->idle, k->t->idle_timeout, 0);
	while (len > 0) {
		size_t room = sizeof(k->in) - k->len;
		if (room == 0) { /* sends more than it reads back */
			conn_abort(k);
			return;
		}
		size_t n = len < room ? len : room;
		memcpy(k->in + k->len, p, n);
		k->len += n;
		p += n;
		len -= n;
		if (!conn_serve(k))
			return;
	}
}

static void conn_writable(struct duet_tcp *c, void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)c;

	if (k->waiting)
		conn_serve(k);
}

static void conn_error(struct duet_tcp *c, int err, void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)c;

	DUET_DEBUG("dns", "tcp connection: %s", duet_strerror(err));
	conn_free(k); /* the stack closes it */
}

static void conn_idle(struct duet_timer *timer, void *arg)
{
	struct dns_tcp_conn *k = arg;
	(void)timer;

	duet_tcp_close(k->c);
	conn_free(k);
}

static const struct duet_tcp_callbacks conn_callbacks = {
    .recv = conn_recv, .writable = conn_writable, .error = conn_error};

static void on_accept(struct duet_tcp *listener, struct duet_tcp *c, void *arg)
{
	struct dns_tcp *t = arg;
	(void)listener;

	for (size_t i = 0; i < t->max_conns; i++) {
		struct dns_tcp_conn *k = &t->conns[i];
		if (k->c != NULL)
			continue;
		k->c = c;
		duet_tcp_set_callbacks(c, &conn_callbacks, k);
		duet_timer_start(&k->idle, t->idle_timeout, 0);
		t->accepted++;
		return;
	}
	t->refused++;
	duet_tcp_abort(c);
}

int dns_tcp_start(struct dns_tcp *t, struct duet_loop *loop,
		  struct duet_stack *stack, const struct duet_sockaddr *addrs,
		  size_t naddrs, struct dns_server *server, size_t max_conns,
		  duet_time_t idle_timeout)
{
	char where[DUET_SOCKADDR_STRLEN];

	if (naddrs > DNS_TCP_LISTENERS)
		return -EINVAL;
	t->server = server;
	t->max_conns = max_conns;
	t->idle_timeout = idle_timeout;
	t->conns = calloc(max_conns, sizeof(*t->conns));
	if (t->conns == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < max_conns; i++) {
		t->conns[i].t = t;
		duet_timer_init(loop, &t->conns[i].idle, conn_idle,
				&t->conns[i]);
	}
	for (size_t i = 0; i < naddrs; i++) {
		int r = duet_tcp_listen(stack, &addrs[i], 64, on_accept, t,
					&t->listeners[i]);
		if (r < 0) {
			DUET_ERROR("dns", "cannot listen on TCP %s: %s",
				   duet_sockaddr_format(&addrs[i], where,
							sizeof(where)),
				   duet_strerror(r));
			dns_tcp_stop(t);
			return r;
		}
		t->nlisteners++;
	}
	return 0;
}

void dns_tcp_stop(struct dns_tcp *t)
{
	for (size_t i = 0; i < t->nlisteners; i++)
		duet_tcp_close(t->listeners[i]);
	t->nlisteners = 0;
	for (size_t i = 0; t->conns != NULL && i < t->max_conns; i++) {
		if (t->conns[i].c != NULL)
			duet_tcp_close(t->conns[i].c);
		conn_free(&t->conns[i]);
	}
	free(t->conns);
	t->conns = NULL;
}
