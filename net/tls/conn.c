/* A TLS connection's engine between the app's duet/net.h calls and the
 * inner stack's connection (contract in duet/tls.h).
 *
 * The engine is driven from two sides. The inner stack's callbacks
 * (records in, room to send, end, error) and the connection's defer run
 * run(), the only place that calls the app back. The app's calls (send,
 * shutdown, pause, close: tls.c) only move the engine and push records
 * out (duet__tls_flush), never call the app, as duet/net.h requires. A
 * connection the app closed is released by duet__tls_settle() once its
 * last records (close_notify) are on the inner stack and the peer
 * answered, or reset after a linger timeout.
 */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tls_priv.h"

/* A closed connection waits this long for the inner stack to take its
 * last records, and the peer to answer, before it is reset. */
#define LINGER DUET_SEC(10)

_Static_assert(sizeof(struct tls_conn) <= DUET_TLS_CONN_BYTES,
	       "DUET_TLS_CONN_BYTES in duet/tls.h is out of date");

/* --------------------------------------------------------- conn state */

static void on_defer(struct duet_defer *d, void *arg);
static void on_linger(struct duet_timer *t, void *arg);

struct tls_conn *duet__tls_conn_new(struct tls_stack *s)
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

void duet__tls_conn_free(struct tls_conn *c)
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
void duet__tls_flush(struct tls_conn *c)
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

bool duet__tls_records_pending(struct tls_conn *c)
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

		duet__tls_flush(c);
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
		    !duet__tls_records_pending(c)) {
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
	duet__tls_settle(c);
}

/* Releases a connection the app is done with: its close_notify goes out,
 * then TCP is shut down, and the inner connection is closed once the peer
 * answered (its close_notify or its FIN), so that the peer's answer does
 * not meet a closed socket and a reset. A failed engine has nothing to
 * wait for. */
void duet__tls_settle(struct tls_conn *c)
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
		duet__tls_flush(c);
		bool pending = c->tcp != NULL && duet__tls_records_pending(c);
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
	duet__tls_conn_free(c);
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
	duet__tls_settle(c);
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
		if (keep > 0) /* no stash yet: c->stash is NULL */
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
	duet__tls_settle(c);
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
		duet__tls_conn_free(c);
	else
		c->aborted = true;
}

static void inner_connected(struct duet_tcp *t, void *arg)
{
	(void)t;
	run(arg);
}

const struct duet_tcp_callbacks duet__tls_inner_cbs = {
    .recv = inner_recv,
    .writable = inner_writable,
    .error = inner_error,
    .connected = inner_connected,
};
