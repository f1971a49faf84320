/* The TLS stack: BearSSL engines between the app's duet/net.h calls and
 * the inner stack's connections (contract in duet/tls.h).
 *
 * Each connection's engine is driven from two sides. The inner stack's
 * callbacks (records in, room to send, end, error) and the connection's
 * defer run run(), the only place that calls the app back. The app's calls
 * (send, shutdown, pause, close) only move the engine and push records out
 * (flush_records), never call the app, as duet/net.h requires. A
 * connection the app closed is released by settle() once its last records
 * (close_notify) are on the inner stack, or reset after a linger timeout.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tls_priv.h"

/* A closed connection waits this long for the inner stack to take its
 * last records before it is reset. */
#define LINGER	 DUET_SEC(10)
#define MAX_ALPN 8

struct tls_stack {
	struct duet_stack base;
	struct duet_stack *inner;
	struct tls_creds creds;
	struct tls_drbg drbg;
	br_ssl_session_cache_lru lru;
	unsigned char *lru_buf;
	/* The engine's session cache: the LRU, watched to tell resumptions. */
	struct cache_hook {
		const br_ssl_session_cache_class *vtable;
		struct tls_stack *s;
	} cache;
	const char *alpn[MAX_ALPN];
	size_t alpn_count;
	/* A client's last session, offered again on the next connect. */
	br_ssl_session_parameters client_session;
	bool have_client_session;
	struct duet_list conns;
	struct duet_tls_stats stats;
};

/* Listeners and connections both are struct duet_tcp to the app. */
struct tls_obj {
	struct duet_tcp base;
	bool listener;
};

struct tls_listener {
	struct tls_obj obj;
	struct tls_stack *s;
	struct duet_tcp *tcp;
	duet_tcp_accept_cb cb;
	void *arg;
};

struct tls_conn {
	struct tls_obj obj;
	struct tls_stack *s;
	struct duet_tcp *tcp; /* the inner connection; NULL once it is gone */
	struct duet_list node;
	struct duet_defer defer;
	struct duet_timer linger;
	br_ssl_engine_context *eng;
	unsigned busy;	 /* inside run(): settle() waits */
	int fail;	 /* the inner side failed under the engine: -errno */
	size_t rec_left; /* of the outgoing record partly sent */
	bool client, handshake_done, resumed;
	bool want_writable, paused, inner_paused, inner_eof, eof_delivered;
	bool shut, inner_shut, close_sent, aborted, lingering;
	/* Records the engine could not take yet (it holds one whole record),
	 * kept while the inner stack is paused. */
	unsigned char *stash;
	size_t stash_len, stash_off;
	unsigned char session_id[32];
	size_t session_id_len;
	union {
		br_ssl_server_context sc;
		br_ssl_client_context cc;
	} u;
	br_x509_knownkey_context knownkey;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

_Static_assert(sizeof(struct tls_conn) <= DUET_TLS_CONN_BYTES,
	       "DUET_TLS_CONN_BYTES in duet/tls.h is out of date");

static const uint16_t suites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

static const struct duet_tcp_callbacks inner_cbs;
static void settle(struct tls_conn *c);

static struct tls_stack *stack_of(struct duet_stack *s)
{
	return duet_container_of(s, struct tls_stack, base);
}

static struct tls_conn *conn_of(const struct duet_tcp *t)
{
	assert(!((const struct tls_obj *)t)->listener);
	return (struct tls_conn *)(uintptr_t)t;
}

/* ---------------------------------------------------- session cache */

static void cache_save(const br_ssl_session_cache_class **ctx,
		       br_ssl_server_context *sc,
		       const br_ssl_session_parameters *params)
{
	struct cache_hook *h = (struct cache_hook *)(uintptr_t)ctx;
	h->s->lru.vtable->save(&h->s->lru.vtable, sc, params);
}

static int cache_load(const br_ssl_session_cache_class **ctx,
		      br_ssl_server_context *sc,
		      br_ssl_session_parameters *params)
{
	struct cache_hook *h = (struct cache_hook *)(uintptr_t)ctx;
	int found = h->s->lru.vtable->load(&h->s->lru.vtable, sc, params);
	if (found)
		duet_container_of(sc, struct tls_conn, u.sc)->resumed = true;
	return found;
}

static const br_ssl_session_cache_class cache_class = {
    .context_size = sizeof(struct cache_hook),
    .save = cache_save,
    .load = cache_load,
};

/* ------------------------------------------------------------ engines */

static void engine_common(struct tls_conn *c, br_ssl_engine_context *eng)
{
	struct tls_stack *s = c->s;

	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites,
				 sizeof(suites) / sizeof(suites[0]));
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof(c->iobuf), 1);
	if (s->alpn_count > 0)
		br_ssl_engine_set_protocol_names(eng, s->alpn, s->alpn_count);
	br_ssl_engine_add_flags(
	    eng, BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES |
		     (s->alpn_count > 0 ? BR_OPT_FAIL_ON_ALPN_MISMATCH : 0));
}

static int engine_seed(struct tls_conn *c)
{
	unsigned char seed[32];
	int r = tls_drbg_generate(&c->s->drbg, seed, sizeof(seed));

	if (r < 0)
		return r;
	br_ssl_engine_inject_entropy(c->eng, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	return 0;
}

static int server_init(struct tls_conn *c)
{
	struct tls_stack *s = c->s;
	struct tls_creds *k = &s->creds;
	br_ssl_server_context *sc = &c->u.sc;
	int r;

	br_ssl_server_zero(sc);
	c->eng = &sc->eng;
	engine_common(c, c->eng);
	if (k->key_type == BR_KEYTYPE_EC)
		br_ssl_server_set_single_ec(
		    sc, k->chain, k->chain_len, &k->ec,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, k->issuer_key_type,
		    br_ssl_engine_get_ec(c->eng), br_ecdsa_i31_sign_asn1);
	else
		br_ssl_server_set_single_rsa(sc, k->chain, k->chain_len,
					     &k->rsa, BR_KEYTYPE_SIGN,
					     br_rsa_private_get_default(),
					     br_rsa_pkcs1_sign_get_default());
	if (s->lru_buf != NULL)
		br_ssl_server_set_cache(sc, &s->cache.vtable);
	if ((r = engine_seed(c)) < 0)
		return r;
	return br_ssl_server_reset(sc) ? 0 : -EPROTO;
}

static int client_init(struct tls_conn *c)
{
	struct tls_stack *s = c->s;
	br_ssl_client_context *cc = &c->u.cc;
	const br_x509_pkey *peer = &s->creds.peer;
	int r;

	br_ssl_client_zero(cc);
	c->eng = &cc->eng;
	c->client = true;
	engine_common(c, c->eng);
	if (peer->key_type == BR_KEYTYPE_EC)
		br_x509_knownkey_init_ec(&c->knownkey, &peer->key.ec,
					 BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	else
		br_x509_knownkey_init_rsa(&c->knownkey, &peer->key.rsa,
					  BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(c->eng, &c->knownkey.vtable);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(c->eng);
	br_ssl_engine_set_default_ecdsa(c->eng);
	if ((r = engine_seed(c)) < 0)
		return r;
	if (s->have_client_session) {
		br_ssl_engine_set_session_parameters(c->eng,
						     &s->client_session);
		memcpy(c->session_id, s->client_session.session_id,
		       s->client_session.session_id_len);
		c->session_id_len = s->client_session.session_id_len;
	}
	return br_ssl_client_reset(cc, NULL, s->have_client_session) ? 0
								     : -EPROTO;
}

/* --------------------------------------------------------- conn state */

static void on_defer(struct duet_defer *d, void *arg);
static void on_linger(struct duet_timer *t, void *arg);

static struct tls_conn *conn_new(struct tls_stack *s)
{
	struct tls_conn *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	/* The record buffers need no zeroing: the engine writes before it
	 * reads. */
	memset(c, 0, offsetof(struct tls_conn, iobuf));
	c->obj.base.stack = &s->base;
	c->s = s;
	duet_defer_init(s->base.loop, &c->defer, on_defer, c);
	duet_timer_init(s->base.loop, &c->linger, on_linger, c);
	duet_list_insert_tail(&s->conns, &c->node);
	s->stats.open++;
	return c;
}

static void conn_free(struct tls_conn *c)
{
	duet_defer_cancel(&c->defer);
	duet_timer_stop(&c->linger);
	duet_list_unlink(&c->node);
	c->s->stats.open--;
	free(c->stash);
	free(c);
}

/* Walks the record headers in buf[0..len), the first `left` bytes being
 * the rest of a record already begun; returns what is left of the record
 * the buffer ends in. With `fix`, a record version of 0.0 becomes 3.3:
 * BearSSL writes 0.0 into the alert that refuses a hello before any
 * version is agreed, and clients take that for a stream that is not TLS
 * (OpenSSL: "wrong version number") instead of reading the alert. */
static size_t walk_records(unsigned char *buf, size_t len, size_t left,
			   bool fix)
{
	size_t pos = 0;

	while (pos < len) {
		if (left == 0) {
			if (pos + 5 > len)
				return 0; /* never: records come whole */
			if (fix && buf[pos + 1] == 0 && buf[pos + 2] == 0)
				buf[pos + 1] = buf[pos + 2] = 3;
			left = 5 + ((size_t)buf[pos + 3] << 8 | buf[pos + 4]);
		}
		size_t take = left < len - pos ? left : len - pos;
		left -= take;
		pos += take;
	}
	return left;
}

/* Pushes the engine's outgoing records to the inner stack, as far as it
 * takes them. Never calls the app. */
static void flush_records(struct tls_conn *c)
{
	unsigned char *buf;
	size_t len;

	while (c->tcp != NULL &&
	       (buf = br_ssl_engine_sendrec_buf(c->eng, &len)) != NULL) {
		if (!c->handshake_done)
			(void)walk_records(buf, len, c->rec_left, true);
		long n = duet_tcp_send(c->tcp, buf, len);
		if (n < 0) {
			/* -EAGAIN: `writable` comes. Else the inner
			 * connection is shut: the records cannot go. */
			if (n != -EAGAIN)
				c->fail = (int)n;
			return;
		}
		c->rec_left = walk_records(buf, (size_t)n, c->rec_left, false);
		br_ssl_engine_sendrec_ack(c->eng, (size_t)n);
	}
}

static bool records_pending(struct tls_conn *c)
{
	size_t len;
	return br_ssl_engine_sendrec_buf(c->eng, &len) != NULL;
}

/* A fatal alert for a record-layer failure, which BearSSL reports without
 * sending one. Only before the handshake ends: later an alert would have
 * to be encrypted. */
static void send_record_alert(struct tls_conn *c, int err)
{
	unsigned char alert[7] = {21, 3, 3, 0, 2, 2, 0};

	switch (err) {
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION: alert[6] = 70; break; /* protocol_version */
	case BR_ERR_TOO_LARGE: alert[6] = 22; break;   /* record_overflow */
	case BR_ERR_BAD_MAC: alert[6] = 20; break;     /* bad_record_mac */
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_BAD_FRAGLEN:
	case BR_ERR_BAD_HANDSHAKE: alert[6] = 50; break; /* decode_error */
	case BR_ERR_UNKNOWN_TYPE:
	case BR_ERR_UNEXPECTED:
	case BR_ERR_BAD_CCS: alert[6] = 10; break; /* unexpected_message */
	default: alert[6] = 40; break;		   /* handshake_failure */
	}
	if (c->tcp != NULL && !c->handshake_done && err > 0 &&
	    err < BR_ERR_RECV_FATAL_ALERT && err != BR_ERR_IO)
		(void)duet_tcp_send(c->tcp, alert, sizeof(alert));
}

static void handshake_done(struct tls_conn *c)
{
	struct tls_stack *s = c->s;
	br_ssl_session_parameters p;

	c->handshake_done = true;
	s->stats.handshakes++;
	br_ssl_engine_get_session_parameters(c->eng, &p);
	if (c->client) {
		c->resumed =
		    c->session_id_len > 0 &&
		    p.session_id_len == c->session_id_len &&
		    memcmp(p.session_id, c->session_id, c->session_id_len) == 0;
		s->client_session = p;
		s->have_client_session = true;
	}
	if (c->resumed)
		s->stats.resumed++;
	if (c->client)
		duet_tcp_deliver_connected(&c->obj.base);
}

/* Feeds stashed records to the engine; true if it took any. */
static bool feed_stash(struct tls_conn *c)
{
	unsigned char *buf;
	size_t len, n;

	if (c->stash_len == 0 ||
	    (buf = br_ssl_engine_recvrec_buf(c->eng, &len)) == NULL)
		return false;
	n = c->stash_len - c->stash_off;
	if (n > len)
		n = len;
	memcpy(buf, c->stash + c->stash_off, n);
	br_ssl_engine_recvrec_ack(c->eng, n);
	c->stash_off += n;
	if (c->stash_off == c->stash_len) {
		free(c->stash);
		c->stash = NULL;
		c->stash_len = c->stash_off = 0;
	}
	return true;
}

/* The engine ended: cleanly (close_notify) or with an error. */
static void engine_closed(struct tls_conn *c)
{
	int err = br_ssl_engine_last_error(c->eng);

	if (err == BR_ERR_OK) {
		if (!c->eof_delivered) {
			c->eof_delivered = true;
			duet_tcp_deliver_recv(&c->obj.base, NULL, 0);
		}
		return;
	}
	if (!c->handshake_done) {
		c->s->stats.failed++;
		send_record_alert(c, err);
	}
	DUET_DEBUG("tls", "connection ended: BearSSL error %d%s", err,
		   c->handshake_done ? "" : " in the handshake");
	duet_tcp_deliver_error(&c->obj.base,
			       err == BR_ERR_IO ? -ECONNRESET : -EPROTO);
}

/* Moves the engine as far as it goes and calls the app back. From the
 * inner stack's callbacks and the defer only. */
static void run(struct tls_conn *c)
{
	struct duet_tcp *app = &c->obj.base;

	c->busy++;
	for (;;) {
		unsigned char *buf;
		size_t len;

		flush_records(c);
		unsigned st = br_ssl_engine_current_state(c->eng);
		if (c->fail != 0) {
			if (!c->handshake_done)
				c->s->stats.failed++;
			duet_tcp_deliver_error(app, c->fail);
			break;
		}
		if (st & BR_SSL_CLOSED) {
			engine_closed(c);
			break;
		}
		if (!c->handshake_done && (st & BR_SSL_SENDAPP)) {
			handshake_done(c);
			continue;
		}
		if ((buf = br_ssl_engine_recvapp_buf(c->eng, &len)) != NULL &&
		    (!c->paused || app->closed)) {
			duet_tcp_deliver_recv(app, buf, len);
			br_ssl_engine_recvapp_ack(c->eng, len);
			continue;
		}
		if (feed_stash(c))
			continue;
		if (c->want_writable && (st & BR_SSL_SENDAPP)) {
			c->want_writable = false;
			duet_tcp_deliver_writable(app);
			continue;
		}
		if (c->shut && !c->inner_shut && c->tcp != NULL &&
		    !records_pending(c)) {
			c->inner_shut = true;
			(void)duet_tcp_shutdown(c->tcp);
		}
		if (c->inner_eof && c->stash_len == 0 && buf == NULL &&
		    !c->eof_delivered) {
			c->eof_delivered = true;
			if (!c->handshake_done) {
				/* A handshake cut short: nothing to wait for.
				 */
				c->s->stats.failed++;
				duet_tcp_deliver_error(app, -EPROTO);
				break;
			}
			duet_tcp_deliver_recv(app, NULL, 0);
			continue;
		}
		break;
	}
	if (c->tcp != NULL && c->inner_paused && c->stash_len == 0 &&
	    !c->paused) {
		c->inner_paused = false;
		duet_tcp_resume(c->tcp);
	}
	c->busy--;
	settle(c);
}

/* Releases a connection the app is done with: its close_notify goes out,
 * then TCP is shut down, and the inner connection is closed once the peer
 * answered (its close_notify or its FIN), so that the peer's answer does
 * not meet a closed socket and a reset. A failed engine has nothing to
 * wait for. */
static void settle(struct tls_conn *c)
{
	if (c->busy > 0 || !c->obj.base.closed)
		return;
	if (c->tcp != NULL && !c->aborted) {
		bool ended =
		    br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED;
		if (!c->close_sent && !ended) {
			c->close_sent = true;
			br_ssl_engine_close(c->eng);
		}
		flush_records(c);
		bool pending = c->tcp != NULL && records_pending(c);
		if (!pending && !c->inner_shut && c->tcp != NULL) {
			c->inner_shut = true;
			(void)duet_tcp_shutdown(c->tcp);
		}
		ended = br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED;
		if (c->tcp != NULL && (pending || !(ended || c->inner_eof))) {
			if (!c->lingering) {
				c->lingering = true;
				duet_timer_start(&c->linger, LINGER, 0);
			}
			return;
		}
		if (c->tcp != NULL)
			duet_tcp_close(c->tcp);
	} else if (c->tcp != NULL) {
		duet_tcp_abort(c->tcp);
	}
	c->tcp = NULL;
	conn_free(c);
}

static void on_defer(struct duet_defer *d, void *arg)
{
	(void)d;
	run(arg);
}

static void on_linger(struct duet_timer *t, void *arg)
{
	struct tls_conn *c = arg;
	(void)t;

	c->aborted = true;
	settle(c);
}

/* -------------------------------------------- inner stack's callbacks */

static void inner_recv(struct duet_tcp *t, const void *data, size_t len,
		       void *arg)
{
	struct tls_conn *c = arg;
	const unsigned char *p = data;
	(void)t;

	if (len == 0) {
		c->inner_eof = true;
		run(c);
		return;
	}
	c->busy++;
	while (len > 0 && c->tcp != NULL) {
		unsigned char *buf;
		size_t room;
		if (c->stash_len == 0 &&
		    (buf = br_ssl_engine_recvrec_buf(c->eng, &room)) != NULL) {
			size_t n = len < room ? len : room;
			memcpy(buf, p, n);
			br_ssl_engine_recvrec_ack(c->eng, n);
			p += n;
			len -= n;
			run(c);
			continue;
		}
		if (br_ssl_engine_current_state(c->eng) & BR_SSL_CLOSED)
			break;
		/* The engine is full (the app paused, or it waits for
		 * records to go out): keep the rest, stop the inner side. */
		size_t keep = c->stash_len - c->stash_off;
		unsigned char *stash = malloc(keep + len);
		if (stash == NULL) {
			c->fail = -ENOMEM;
			run(c);
			break;
		}
		memcpy(stash, c->stash + c->stash_off, keep);
		memcpy(stash + keep, p, len);
		free(c->stash);
		c->stash = stash;
		c->stash_len = keep + len;
		c->stash_off = 0;
		len = 0;
		if (!c->inner_paused) {
			c->inner_paused = true;
			duet_tcp_pause(c->tcp);
		}
	}
	c->busy--;
	settle(c);
}

static void inner_writable(struct duet_tcp *t, void *arg)
{
	(void)t;
	run(arg);
}

static void inner_error(struct duet_tcp *t, int err, void *arg)
{
	struct tls_conn *c = arg;
	(void)t;

	c->tcp = NULL; /* closed by the inner stack when this returns */
	if (!c->handshake_done)
		c->s->stats.failed++;
	duet_tcp_deliver_error(&c->obj.base, err);
	if (c->busy == 0)
		conn_free(c);
	else
		c->aborted = true;
}

static void inner_connected(struct duet_tcp *t, void *arg)
{
	(void)t;
	run(arg);
}

static const struct duet_tcp_callbacks inner_cbs = {
    .recv = inner_recv,
    .writable = inner_writable,
    .error = inner_error,
    .connected = inner_connected,
};

/* ----------------------------------------------------------- stack ops */

static void inner_accept(struct duet_tcp *inner_listener, struct duet_tcp *t,
			 void *arg)
{
	struct tls_listener *l = arg;
	struct tls_conn *c = conn_new(l->s);
	int r;
	(void)inner_listener;

	if (c == NULL) {
		DUET_WARN("tls", "no memory for a connection: reset");
		duet_tcp_abort(t);
		return;
	}
	if ((r = server_init(c)) < 0) {
		DUET_ERROR("tls", "cannot start a connection: %s",
			   duet_strerror(r));
		duet_tcp_abort(t);
		conn_free(c);
		return;
	}
	c->tcp = t;
	duet_tcp_set_callbacks(t, &inner_cbs, c);
	l->cb(&l->obj.base, &c->obj.base, l->arg);
	assert((c->obj.base.cbs != NULL || c->obj.base.closed) &&
	       "an accept callback must set callbacks or close");
	settle(c);
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
	if ((c = conn_new(s)) == NULL)
		return -ENOMEM;
	if ((r = client_init(c)) < 0 ||
	    (r = duet_tcp_connect(s->inner, to, &inner_cbs, c, &c->tcp)) < 0) {
		conn_free(c);
		return r;
	}
	*out = &c->obj.base;
	return 0;
}

static long t_send(struct duet_tcp *t, const void *data, size_t len)
{
	struct tls_conn *c = conn_of(t);
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
		flush_records(c);
	}
	/* Short or refused: `writable` comes once records have gone out. */
	if (done < len)
		c->want_writable = true;
	if (done == 0)
		return -EAGAIN;
	br_ssl_engine_flush(c->eng, 0);
	flush_records(c);
	return (long)done;
}

static size_t t_send_space(const struct duet_tcp *t)
{
	struct tls_conn *c = conn_of(t);
	size_t room;

	if (c->shut || br_ssl_engine_sendapp_buf(c->eng, &room) == NULL)
		return 0;
	return room;
}

static size_t t_send_queued(const struct duet_tcp *t)
{
	struct tls_conn *c = conn_of(t);
	size_t len = 0;

	(void)br_ssl_engine_sendrec_buf(c->eng, &len);
	return len + (c->tcp != NULL ? duet_tcp_send_queued(c->tcp) : 0);
}

static int t_shutdown(struct duet_tcp *t)
{
	struct tls_conn *c = conn_of(t);

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
	struct tls_conn *c = conn_of(t);

	c->paused = true;
	if (c->tcp != NULL && !c->inner_paused) {
		c->inner_paused = true;
		duet_tcp_pause(c->tcp);
	}
}

static void t_resume(struct duet_tcp *t)
{
	struct tls_conn *c = conn_of(t);

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
	settle(conn_of(t));
}

static void t_abort(struct duet_tcp *t)
{
	struct tls_obj *o = (struct tls_obj *)t;

	if (o->listener) {
		t_close(t);
		return;
	}
	conn_of(t)->aborted = true;
	settle(conn_of(t));
}

static int t_local(const struct duet_tcp *t, struct duet_sockaddr *out)
{
	const struct tls_obj *o = (const struct tls_obj *)t;
	const struct duet_tcp *inner =
	    o->listener ? ((const struct tls_listener *)o)->tcp
			: conn_of(t)->tcp;
	return inner != NULL ? duet_tcp_local(inner, out) : -ENOTCONN;
}

static int t_peer(const struct duet_tcp *t, struct duet_sockaddr *out)
{
	const struct tls_conn *c = conn_of(t);
	return c->tcp != NULL ? duet_tcp_peer(c->tcp, out) : -ENOTCONN;
}

static int t_nodelay(struct duet_tcp *t, bool on)
{
	struct tls_conn *c = conn_of(t);
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
	if ((r = tls_drbg_init(&s->drbg)) < 0) {
		free(s);
		return r;
	}
	if ((r = tls_creds_load(&s->creds, cfg)) < 0) {
		free(s);
		return r;
	}
	/* 100 bytes an entry: BearSSL's LRU cache's own record size. */
	if (!cfg->no_resumption) {
		if ((s->lru_buf = malloc(entries * 100)) == NULL) {
			tls_creds_free(&s->creds);
			free(s);
			return -ENOMEM;
		}
		br_ssl_session_cache_lru_init(&s->lru, s->lru_buf,
					      entries * 100);
	}
	s->cache.vtable = &cache_class;
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
			if (c->close_sent && !records_pending(c))
				duet_tcp_close(c->tcp);
			else
				duet_tcp_abort(c->tcp);
		}
		conn_free(c);
	}
	tls_creds_free(&s->creds);
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
	c = conn_of(t);
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
