/* The TLS stack (duet/tls.h): a stack of duet/net.h's shape over an
 * inner one. Its ops check what the connection allows and move the engine
 * (conn.c drives it and calls the app back); its listener wraps the inner
 * listener and gives each accepted connection a server engine. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tls_priv.h"

static struct tls_stack *stack_of(struct duet_stack *s)
{
	return duet_container_of(s, struct tls_stack, base);
}

/* ----------------------------------------------------------- stack ops */

static void inner_accept(struct duet_tcp *inner_listener, struct duet_tcp *t,
			 void *arg)
{
	struct tls_listener *l = arg;
	struct tls_conn *c = duet__tls_conn_new(l->s);
	int r;
	(void)inner_listener;

	if (c == NULL) {
		DUET_WARN("tls", "no memory for a connection: reset");
		duet_tcp_abort(t);
		return;
	}
	if ((r = duet__tls_server_init(c)) < 0) {
		DUET_ERROR("tls", "cannot start a connection: %s",
			   duet_strerror(r));
		duet_tcp_abort(t);
		duet__tls_conn_free(c);
		return;
	}
	c->tcp = t;
	duet_tcp_set_callbacks(t, &duet__tls_inner_cbs, c);
	l->cb(&l->obj.base, &c->obj.base, l->arg);
	assert((c->obj.base.cbs != NULL || c->obj.base.closed) &&
	       "an accept callback must set callbacks or close");
	duet__tls_settle(c);
}

static int t_listen(struct duet_stack *st, const struct duet_sockaddr *addr,
		    int backlog, duet_tcp_accept_cb cb, void *arg,
		    struct duet_tcp **out)
{
	struct tls_stack *s = stack_of(st);
	struct tls_listener *l;
	int r;

	if (s->creds.key_type == 0)
		return -EINVAL; /* no certificate: a client-only stack */
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->obj.base.stack = st;
	l->obj.listener = true;
	l->s = s;
	l->cb = cb;
	l->arg = arg;
	r = duet_tcp_listen(s->inner, addr, backlog, inner_accept, l, &l->tcp);
	if (r < 0) {
		free(l);
		return r;
	}
	*out = &l->obj.base;
	return 0;
}

static int t_connect(struct duet_stack *st, const struct duet_sockaddr *to,
		     struct duet_tcp **out)
{
	struct tls_stack *s = stack_of(st);
	struct tls_conn *c;
	int r;

	if (!s->creds.have_peer)
		return -EINVAL; /* no peer certificate: a server-only stack */
	if ((c = duet__tls_conn_new(s)) == NULL)
		return -ENOMEM;
	if ((r = duet__tls_client_init(c)) < 0 ||
	    (r = duet_tcp_connect(s->inner, to, &duet__tls_inner_cbs, c,
				  &c->tcp)) < 0) {
		duet__tls_conn_free(c);
		return r;
	}
	*out = &c->obj.base;
	return 0;
}

static long t_send(struct duet_tcp *t, const void *data, size_t len)
{
	struct tls_conn *c = duet__tls_conn_of(t);
	const unsigned char *p = data;
	size_t done = 0;

	if (c->shut || c->tcp == NULL || c->fail != 0 ||
	    (br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED))
		return -ENOTCONN;
	while (done < len) {
		size_t room;
		unsigned char *buf = br_ssl_engine_sendapp_buf(c->eng, &room);
		if (buf == NULL)
			break;
		size_t n = len - done < room ? len - done : room;
		memcpy(buf, p + done, n);
		br_ssl_engine_sendapp_ack(c->eng, n);
		done += n;
		duet__tls_flush(c);
	}
	/* Short or refused: `writable` comes once records have gone out. */
	if (done < len)
		c->want_writable = true;
	if (done == 0)
		return -EAGAIN;
	br_ssl_engine_flush(c->eng, 0);
	duet__tls_flush(c);
	return (long)done;
}

static size_t t_send_space(const struct duet_tcp *t)
{
	struct tls_conn *c = duet__tls_conn_of(t);
	size_t room;

	if (c->shut || br_ssl_engine_sendapp_buf(c->eng, &room) == NULL)
		return 0;
	return room;
}

static size_t t_send_queued(const struct duet_tcp *t)
{
	struct tls_conn *c = duet__tls_conn_of(t);
	size_t len = 0;

	(void)br_ssl_engine_sendrec_buf(c->eng, &len);
	return len + (c->tcp != NULL ? duet_tcp_send_queued(c->tcp) : 0);
}

static int t_shutdown(struct duet_tcp *t)
{
	struct tls_conn *c = duet__tls_conn_of(t);

	if (c->shut || c->tcp == NULL)
		return -ENOTCONN;
	c->shut = true;
	br_ssl_engine_close(c->eng);
	c->close_sent = true;
	duet_defer_post(&c->defer);
	return 0;
}

static void t_pause(struct duet_tcp *t)
{
	struct tls_conn *c = duet__tls_conn_of(t);

	c->paused = true;
	if (c->tcp != NULL && !c->inner_paused) {
		c->inner_paused = true;
		duet_tcp_pause(c->tcp);
	}
}

static void t_resume(struct duet_tcp *t)
{
	struct tls_conn *c = duet__tls_conn_of(t);

	c->paused = false;
	duet_defer_post(&c->defer);
}

static void t_close(struct duet_tcp *t)
{
	struct tls_obj *o = (struct tls_obj *)t;

	if (o->listener) {
		struct tls_listener *l = (struct tls_listener *)o;
		duet_tcp_close(l->tcp);
		free(l);
		return;
	}
	duet__tls_settle(duet__tls_conn_of(t));
}

static void t_abort(struct duet_tcp *t)
{
	struct tls_obj *o = (struct tls_obj *)t;

	if (o->listener) {
		t_close(t);
		return;
	}
	duet__tls_conn_of(t)->aborted = true;
	duet__tls_settle(duet__tls_conn_of(t));
}

static int t_local(const struct duet_tcp *t, struct duet_sockaddr *out)
{
	const struct tls_obj *o = (const struct tls_obj *)t;
	const struct duet_tcp *inner =
	    o->listener ? ((const struct tls_listener *)o)->tcp
			: duet__tls_conn_of(t)->tcp;
	return inner != NULL ? duet_tcp_local(inner, out) : -ENOTCONN;
}

static int t_peer(const struct duet_tcp *t, struct duet_sockaddr *out)
{
	const struct tls_conn *c = duet__tls_conn_of(t);
	return c->tcp != NULL ? duet_tcp_peer(c->tcp, out) : -ENOTCONN;
}

static int t_nodelay(struct duet_tcp *t, bool on)
{
	struct tls_conn *c = duet__tls_conn_of(t);
	return c->tcp != NULL ? duet_tcp_nodelay(c->tcp, on) : -ENOTCONN;
}

/* UDP is the inner stack's, untouched: the endpoint it returns names the
 * inner stack, so the other UDP calls go there directly. */
static int t_udp_bind(struct duet_stack *st, const struct duet_sockaddr *addr,
		      duet_udp_recv_cb cb, void *arg, struct duet_udp **out)
{
	return duet_udp_bind(stack_of(st)->inner, addr, cb, arg, out);
}

static void t_destroy(struct duet_stack *st)
{
	duet_tls_close(st);
}

static const struct duet_stack_ops tls_ops = {
    .tcp_listen = t_listen,
    .tcp_connect = t_connect,
    .tcp_send = t_send,
    .tcp_send_space = t_send_space,
    .tcp_send_queued = t_send_queued,
    .tcp_shutdown = t_shutdown,
    .tcp_pause = t_pause,
    .tcp_resume = t_resume,
    .tcp_close = t_close,
    .tcp_abort = t_abort,
    .tcp_local = t_local,
    .tcp_peer = t_peer,
    .tcp_nodelay = t_nodelay,
    .udp_bind = t_udp_bind,
    .destroy = t_destroy,
};

/* --------------------------------------------------------- public API */

int duet_tls_open(struct duet_stack *inner, const struct duet_tls_config *cfg,
		  struct duet_stack **out)
{
	struct tls_stack *s;
	size_t entries = cfg->session_cache ? cfg->session_cache : 256;
	int r;

	if (cfg->alpn_count > MAX_ALPN ||
	    (cfg->cert_pem == NULL && cfg->peer_cert_pem == NULL))
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((r = duet__tls_drbg_init(&s->drbg)) < 0) {
		free(s);
		return r;
	}
	duet__tls_ciphers_choose(&s->ciphers);
	if ((r = duet__tls_creds_load(&s->creds, cfg)) < 0) {
		free(s);
		return r;
	}
	/* 100 bytes an entry: BearSSL's LRU cache's own record size. */
	if (!cfg->no_resumption) {
		if ((s->lru_buf = malloc(entries * 100)) == NULL) {
			duet__tls_creds_free(&s->creds);
			free(s);
			return -ENOMEM;
		}
		br_ssl_session_cache_lru_init(&s->lru, s->lru_buf,
					      entries * 100);
	}
	s->cache.vtable = &duet__tls_cache_class;
	s->cache.s = s;
	for (size_t i = 0; i < cfg->alpn_count; i++)
		s->alpn[i] = cfg->alpn[i];
	s->alpn_count = cfg->alpn_count;
	duet_list_init(&s->conns);
	s->base.ops = &tls_ops;
	s->base.name = "tls";
	s->base.loop = inner->loop;
	s->base.has_ipv4 = inner->has_ipv4;
	s->base.has_ipv6 = inner->has_ipv6;
	s->base.host_addresses = inner->host_addresses;
	s->inner = inner;
	*out = &s->base;
	return 0;
}

void duet_tls_close(struct duet_stack *st)
{
	struct tls_stack *s = stack_of(st);

	while (!duet_list_empty(&s->conns)) {
		struct tls_conn *c =
		    duet_container_of(s->conns.next, struct tls_conn, node);
		if (c->tcp != NULL) {
			if (c->close_sent && !duet__tls_records_pending(c))
				duet_tcp_close(c->tcp);
			else
				duet_tcp_abort(c->tcp);
		}
		duet__tls_conn_free(c);
	}
	duet__tls_creds_free(&s->creds);
	free(s->lru_buf);
	memset(&s->drbg, 0, sizeof(s->drbg));
	free(s);
}

int duet_tls_info(const struct duet_tcp *t, struct duet_tls_info *out)
{
	struct tls_conn *c;

	memset(out, 0, sizeof(*out));
	if (t->stack->ops != &tls_ops || ((const struct tls_obj *)t)->listener)
		return -EINVAL;
	c = duet__tls_conn_of(t);
	if (!c->handshake_done)
		return 0;
	out->version = br_ssl_engine_get_version(c->eng);
	out->cipher_suite = c->eng->session.cipher_suite;
	out->resumed = c->resumed;
	out->alpn = br_ssl_engine_get_selected_protocol(c->eng);
	return 0;
}

void duet_tls_stats(const struct duet_stack *st, struct duet_tls_stats *out)
{
	const struct tls_stack *s =
	    duet_container_of(st, const struct tls_stack, base);
	*out = s->stats;
	out->reseeds = s->drbg.reseeds;
}
