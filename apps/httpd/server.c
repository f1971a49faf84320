/* httpd's connection handling: parse, queue, send, time out. See server.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/clock.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "conn.h"
#include "response.h"

/* Bodies at least this long are sent straight from the file's bytes; shorter
 * ones are gathered with their head (and the next responses) into one send. */
#define DIRECT_MIN 4096
/* A receive buffer may grow past the head limit only to hold what arrives
 * while the queue is full (reading is paused then, so it stays bounded). */
#define IN_MAX (1u << 20)
/* How long to keep reading after our FIN, so unread input does not turn the
 * close into a reset that could destroy the last response in flight. */
#define LINGER DUET_SEC(2)
/* A receive buffer starts this small: most requests are a few hundred
 * bytes, and it exists only while one is in flight. */
#define IN_MIN 1024

static const char *current_date(struct httpd *h)
{
	uint64_t sec = duet_clock_wall() / DUET_NSEC_PER_SEC;

	if (sec != h->date_sec || h->date[0] == '\0') {
		h->date_sec = sec;
		httpd_format_date(sec, h->date);
	}
	return h->date;
}

static void access_log(struct httpd_conn *c, const struct http_request *req,
		       int status, size_t len)
{
	if (req == NULL || req->method_len == 0 || req->target_len == 0) {
		DUET_INFO("httpd", "%s \"-\" %d %zu", c->peer, status, len);
		return;
	}
	DUET_INFO("httpd", "%s \"%.*s %.*s HTTP/1.%d\" %d %zu", c->peer,
		  (int)req->method_len, req->method_str, (int)req->target_len,
		  req->target, req->minor, status, len);
}

/* The redirect target for req: https://HOST[:port]TARGET into buf, HOST
 * from the Host field without its port, else the listen address. A target
 * too long for the head goes to "/". Returns the length. */
static size_t redirect_location(const struct httpd *h,
				const struct http_request *req, char *buf,
				size_t cap)
{
	char host[DUET_IPADDR_STRLEN + 2];
	const char *hp = host, *target = "/";
	size_t hl, tl = 1;
	int n;

	if (req->host != NULL && req->host_len > 0 && req->host_len < 128) {
		hp = req->host;
		hl = req->host_len;
		/* Drop a port: after the last ':' unless inside [v6]. */
		for (size_t i = hl; i-- > 0;) {
			if (hp[i] == ']')
				break;
			if (hp[i] == ':') {
				hl = i;
				break;
			}
		}
	} else {
		char a[DUET_IPADDR_STRLEN];
		duet_ipaddr_format(&h->cfg.addr.ip, a, sizeof(a));
		snprintf(host, sizeof(host),
			 h->cfg.addr.ip.family == DUET_AF_INET6 ? "[%s]" : "%s",
			 a);
		hl = strlen(host);
	}
	if (req->target_len > 0 && req->target_len < 200 &&
	    req->target[0] == '/') {
		target = req->target;
		tl = req->target_len;
	}
	if (h->cfg.redirect_to == 443)
		n = snprintf(buf, cap, "https://%.*s%.*s", (int)hl, hp,
			     (int)tl, target);
	else
		n = snprintf(buf, cap, "https://%.*s:%u%.*s", (int)hl, hp,
			     (unsigned)h->cfg.redirect_to, (int)tl, target);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Queues the response to req (NULL: a request that never arrived whole).
 * status < 0 is a parse error: answer -status and close. */
static void queue_response(struct httpd_conn *c, const struct http_request *req,
			   int status)
{
	struct httpd *h = c->srv;
	struct httpd_resp *r = &c->q[(c->q_head + c->q_len++) % HTTPD_QUEUE];
	const struct httpd_file *f = NULL;
	long path_len = 0;
	const char *type = "text/plain; charset=utf-8";
	size_t length, first = 0;
	bool keep = !c->want_close && req != NULL && req->keep_alive;
	bool head_only = req != NULL && req->method == HTTP_HEAD;
	struct httpd_head hd = {0};
	char location[320];

	h->requests++;
	if (status < 0) {
		status = -status;
		keep = false;
	} else if (h->cfg.redirect_to != 0) {
		status = 301;
		hd.location = location;
		hd.location_len =
		    redirect_location(h, req, location, sizeof(location));
	} else if (req->method == HTTP_OTHER) {
		status = 405;
	} else if ((path_len = http_path_decode(req->path, req->path_len,
						h->path, sizeof(h->path))) <
		   0) {
		status = (int)-path_len;
		keep = false;
	} else if ((h->cfg.hidden != NULL &&
		    http_token_eq(h->path, (size_t)path_len, h->cfg.hidden)) ||
		   (f = httpd_source_find(&h->src, h->path, (size_t)path_len,
					  &r->file_buf)) == NULL) {
		status = 404;
	} else if (req->if_none_match != NULL &&
		   httpd_etag_matches(req->if_none_match,
				      req->if_none_match_len, f->etag)) {
		status = 304; /* evaluated before Range (RFC 9110 13.2.2) */
	} else if (req->range != NULL &&
		   (req->if_range == NULL ||
		    httpd_if_range_matches(req->if_range, req->if_range_len,
					   f->etag))) {
		/* A HEAD gets the head the same GET would. 0: the Range is
		 * ignored (malformed or several ranges), whole file. */
		status = httpd_range(req->range, req->range_len, f->size,
				     &hd.range_first, &hd.range_last);
		if (status == 0)
			status = 200;
	} else {
		status = 200;
	}

	r->file = NULL;
	if (f != NULL && status != 416) {
		length = f->size;
		type = f->content_type;
		hd.accept_ranges = status == 200 || status == 206;
		if (status == 206) {
			first = hd.range_first;
			length = hd.range_last - hd.range_first + 1;
		}
		/* A file without bytes in memory is read when it is sent. */
		r->body = f->data != NULL ? f->data + first : NULL;
		r->file = f->data != NULL ? NULL : f;
		r->file_off = first;
	} else {
		r->body = (const uint8_t *)httpd_error_body(status);
		length = strlen((const char *)r->body);
	}
	r->body_len = (head_only || status == 304) ? 0 : length;
	if (r->body_len == 0)
		r->file = NULL; /* HEAD, 304, an empty file: nothing to read */
	r->off = 0;

	hd.status = status;
	hd.range_size = f != NULL ? f->size : 0;
	hd.date = current_date(h);
	hd.content_type = type;
	hd.content_length = length;
	hd.etag = f != NULL ? f->etag : NULL;
	hd.hsts = h->cfg.hsts;
	/* Over HTTPS every response says its type is meant (a scanner of
	 * TLS servers counts it among the security headers). */
	hd.nosniff = h->cfg.tls;
	if (!keep)
		hd.connection = "close";
	else if (req->minor == 0)
		hd.connection = "keep-alive";
	r->connection = hd.connection;
	r->head_len =
	    (unsigned)httpd_response_head(r->head, sizeof(r->head), &hd);

	if (!keep)
		c->want_close = true;
	if (h->cfg.access_log)
		access_log(c, req, status, r->body_len);
}

void httpd_resp_error(struct httpd_conn *c, struct httpd_resp *r, int status)
{
	struct httpd_head hd = {0};

	r->file = NULL;
	r->body = (const uint8_t *)httpd_error_body(status);
	r->body_len = strlen((const char *)r->body);
	r->off = 0;
	hd.status = status;
	hd.date = current_date(c->srv);
	hd.content_type = "text/plain; charset=utf-8";
	hd.content_length = r->body_len;
	hd.connection = r->connection;
	r->head_len =
	    (unsigned)httpd_response_head(r->head, sizeof(r->head), &hd);
}

/* ---------------------------------------------------------- connections */

/* Gives back the receive buffer and the response queue once nothing is in
 * flight. */
static void conn_trim(struct httpd_conn *c)
{
	if (c->q_len > 0 || c->in_len > 0 || c->body_skip > 0 || c->in_chunked)
		return;
	free(c->in);
	free(c->q);
	c->in = NULL;
	c->q = NULL;
	c->in_cap = 0;
}

/* The skeleton's release: the connection has ended and no read holds its
 * record. */
static void conn_release(struct duet_server_conn *sc, void *arg)
{
	struct httpd_conn *c = duet_container_of(sc, struct httpd_conn, sc);
	(void)arg;

	duet_timer_stop(&c->timer);
	httpd_stream_release(c);
	free(c->in);
	free(c->q);
	free(c);
}

static void conn_free(struct httpd_conn *c)
{
	duet_timer_stop(&c->timer);
	duet_server_conn_end(&c->sc); /* conn_release(), now or after a read */
}

static void conn_close(struct httpd_conn *c)
{
	duet_tcp_close(c->sc.tcp);
	conn_free(c);
}

void httpd_conn_abort(struct httpd_conn *c)
{
	duet_tcp_abort(c->sc.tcp);
	conn_free(c);
}

/* The connection's own timer bounds a stalled send and the linger; the
 * pool bounds idle connections and slow requests. */
static void conn_arm_timer(struct httpd_conn *c)
{
	if (c->state == CONN_LINGER)
		return; /* armed once, when lingering began */
	if (c->q_len > 0)
		duet_timer_start(&c->timer, c->srv->cfg.idle_timeout, 0);
	else
		duet_timer_stop(&c->timer);
}

static bool conn_partial(const struct httpd_conn *c)
{
	return c->in_len > 0 || c->body_skip > 0 || c->in_chunked;
}

/* Tells the pool where the connection stands. */
static void conn_report(struct httpd_conn *c)
{
	if (c->q_len > 0)
		duet_connpool_busy(&c->sc.slot);
	else if (c->sc.slot.busy)
		duet_connpool_done(&c->sc.slot, conn_partial(c));
	else if (conn_partial(c))
		duet_connpool_partial(&c->sc.slot);
}

/* Takes the first n buffered bytes off the receive buffer. */
static void conn_consume(struct httpd_conn *c, size_t n)
{
	c->in_len -= n;
	if (c->in_len > 0)
		memmove(c->in, c->in + n, c->in_len);
}

/* A chunked body turned out malformed: answer it, after what is queued, if
 * the queue has room, and close. */
static void conn_body_error(struct httpd_conn *c, long status)
{
	c->in_chunked = false;
	if (c->q_len < HTTPD_QUEUE && !c->want_close)
		queue_response(c, NULL, (int)status);
	c->want_close = true;
}

/* Feeds p[0..n) to the chunked body being discarded; returns the bytes it
 * took (all of them unless the body ended). */
static size_t conn_chunked(struct httpd_conn *c, const char *p, size_t n)
{
	long k = http_chunked_feed(&c->chunked, p, n, &c->srv->cfg.limits);

	if (k < 0) {
		conn_body_error(c, k);
		return n;
	}
	if (http_chunked_done(&c->chunked))
		c->in_chunked = false;
	return (size_t)k;
}

/* Parses and queues buffered requests while the queue has room. */
static void conn_parse(struct httpd_conn *c)
{
	size_t used = 0;

	while (!c->want_close && c->q_len < HTTPD_QUEUE && used < c->in_len) {
		struct http_request req;
		long n = http_parse_request(c->in + used, c->in_len - used,
					    &c->srv->cfg.limits, &req);
		if (n == 0)
			break;
		if (n < 0) {
			queue_response(c, &req, (int)n);
			used = c->in_len;
			break;
		}
		used += (size_t)n;
		if (req.chunked) {
			queue_response(c, &req, 200);
			http_chunked_init(&c->chunked);
			c->in_chunked = true;
			used += conn_chunked(c, c->in + used, c->in_len - used);
			if (c->in_chunked)
				break;
			continue;
		}
		uint64_t body = req.content_length;
		size_t here =
		    body < c->in_len - used ? (size_t)body : c->in_len - used;
		used += here;
		c->body_skip = body - here;
		queue_response(c, &req, 200);
	}
	if (used > 0)
		conn_consume(c, used);
}

/* Advances the queue by n sent bytes. */
static void conn_sent(struct httpd_conn *c, size_t n)
{
	while (n > 0) {
		struct httpd_resp *r = &c->q[c->q_head];
		size_t left = r->head_len + r->body_len - r->off;
		size_t k = n < left ? n : left;
		if (r->file != NULL) {
			size_t from =
			    r->off > r->head_len ? r->off : r->head_len;
			if (r->off + k > from)
				httpd_stream_consume(c, r->off + k - from);
		}
		r->off += k;
		n -= k;
		if (r->off == r->head_len + r->body_len) {
			if (r->file != NULL)
				httpd_stream_end(c);
			c->q_head = (c->q_head + 1) % HTTPD_QUEUE;
			c->q_len--;
		}
	}
}

/* Copies queued bytes, from the current offset on, into the scratch buffer.
 * A streamed response is gathered only at the head of the queue, with what
 * its stream has ready, and nothing after it until all of it is. */
static size_t conn_gather(struct httpd_conn *c, char *buf, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < c->q_len && n < cap; i++) {
		const struct httpd_resp *r =
		    &c->q[(c->q_head + i) % HTTPD_QUEUE];
		size_t off = i == 0 ? r->off : 0, k;
		if (r->file != NULL && i > 0)
			break;
		if (off < r->head_len) {
			k = r->head_len - off;
			k = k < cap - n ? k : cap - n;
			memcpy(buf + n, r->head + off, k);
			n += k;
			off += k;
		}
		if (r->file != NULL) {
			k = httpd_stream_copy(c, buf + n, cap - n);
			n += k;
			if (off < r->head_len ||
			    off - r->head_len + k < r->body_len)
				break;
		} else if (n < cap && off - r->head_len < r->body_len) {
			k = r->body_len - (off - r->head_len);
			k = k < cap - n ? k : cap - n;
			memcpy(buf + n, r->body + (off - r->head_len), k);
			n += k;
		}
	}
	return n;
}

/* Sends what the stack takes. false when the connection was dropped. */
static bool conn_flush(struct httpd_conn *c)
{
	while (c->q_len > 0) {
		struct httpd_resp *r = &c->q[c->q_head];
		const void *p;
		size_t n;
		if (r->file != NULL) {
			const uint8_t *ready;
			long k = httpd_stream_ready(c, r, &ready);
			if (k < 0)
				return false;
			if (r->file == NULL)
				continue; /* it became an error response */
			if (k == 0)
				return true; /* the read's callback goes on */
			if (r->off >= r->head_len) {
				p = ready;
				n = (size_t)k;
			} else {
				p = c->srv->scratch;
				n = conn_gather(c, c->srv->scratch,
						HTTPD_SCRATCH);
			}
		} else if (r->off >= r->head_len &&
			   r->body_len - (r->off - r->head_len) >= DIRECT_MIN) {
			p = r->body + (r->off - r->head_len);
			n = r->body_len - (r->off - r->head_len);
		} else {
			p = c->srv->scratch;
			n = conn_gather(c, c->srv->scratch, HTTPD_SCRATCH);
		}
		long s = duet_tcp_send(c->sc.tcp, p, n);
		if (s == -EAGAIN)
			return true; /* `writable` will call us again */
		if (s < 0) {
			DUET_DEBUG("httpd", "%s: send: %s", c->peer,
				   duet_strerror((int)s));
			httpd_conn_abort(c);
			return false;
		}
		conn_sent(c, (size_t)s);
	}
	return true;
}

/* Ends a connection whose last response is sent. */
static void conn_finish(struct httpd_conn *c)
{
	if (c->peer_eof || duet_tcp_shutdown(c->sc.tcp) < 0) {
		conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	c->in_len = 0;
	duet_connpool_done(&c->sc.slot, false);
	if (c->paused) {
		c->paused = false;
		duet_tcp_resume(c->sc.tcp);
	}
	duet_timer_start(&c->timer, LINGER, 0);
}

/* Moves a connection on after input arrived, output drained or a read
 * completed. */
void httpd_conn_progress(struct httpd_conn *c)
{
	for (;;) {
		bool was_full;
		conn_parse(c);
		was_full = c->q_len == HTTPD_QUEUE;
		if (!conn_flush(c))
			return;
		if (!was_full || c->q_len == HTTPD_QUEUE || c->in_len == 0)
			break;
	}
	if (c->q_len == 0)
		httpd_stream_release(c); /* memory only while streaming */
	conn_trim(c);
	if (c->q_len == 0 && (c->want_close || c->peer_eof)) {
		conn_finish(c);
		return;
	}
	bool full = c->q_len == HTTPD_QUEUE;
	if (full && !c->paused)
		duet_tcp_pause(c->sc.tcp);
	else if (!full && c->paused)
		duet_tcp_resume(c->sc.tcp);
	c->paused = full;
	conn_arm_timer(c);
	conn_report(c);
}

static void on_recv(struct duet_tcp *tcp, const void *data, size_t len,
		    void *arg)
{
	struct httpd_conn *c = arg;
	const char *p = data;
	(void)tcp;

	if (len == 0) {
		c->peer_eof = true;
		if (c->state == CONN_LINGER)
			conn_close(c);
		else
			httpd_conn_progress(c);
		return;
	}
	if (c->state == CONN_LINGER || c->want_close || c->peer_eof)
		return; /* nothing more will be answered: discard */
	if (c->body_skip > 0 || c->in_chunked) {
		size_t k = c->body_skip < len ? (size_t)c->body_skip : len;
		if (c->in_chunked)
			k = conn_chunked(c, p, len);
		else
			c->body_skip -= k;
		p += k;
		len -= k;
		if (c->want_close) {
			httpd_conn_progress(c);
			return;
		}
		if (len == 0) {
			conn_report(c);
			conn_trim(c);
			return;
		}
	}
	if (c->q == NULL &&
	    (c->q = malloc(HTTPD_QUEUE * sizeof(*c->q))) == NULL) {
		DUET_WARN("httpd", "%s: no memory for a request: reset",
			  c->peer);
		httpd_conn_abort(c);
		return;
	}
	if (len > c->in_cap - c->in_len) {
		size_t cap = c->in_cap > IN_MIN ? c->in_cap : IN_MIN;
		while (cap - c->in_len < len)
			cap *= 2;
		char *in = cap <= IN_MAX ? realloc(c->in, cap) : NULL;
		if (in == NULL) {
			DUET_WARN("httpd",
				  "%s: receive buffer over %zu bytes: reset",
				  c->peer, cap);
			httpd_conn_abort(c);
			return;
		}
		c->in = in;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, p, len);
	c->in_len += len;
	httpd_conn_progress(c);
}

static void on_writable(struct duet_tcp *tcp, void *arg)
{
	struct httpd_conn *c = arg;
	(void)tcp;

	if (c->state == CONN_OPEN)
		httpd_conn_progress(c);
}

static void on_error(struct duet_tcp *tcp, int err, void *arg)
{
	struct httpd_conn *c = arg;
	(void)tcp;

	DUET_DEBUG("httpd", "%s: %s", c->peer, duet_strerror(err));
	conn_free(c); /* the stack has closed it */
}

static void on_timer(struct duet_timer *t, void *arg)
{
	struct httpd_conn *c = arg;
	(void)t;

	if (duet_server_conn_ended(&c->sc))
		return; /* its record waits for a read */
	if (c->state == CONN_LINGER) {
		conn_close(c);
	} else if (c->q_len > 0) {
		DUET_DEBUG("httpd", "%s: send stalled: reset", c->peer);
		httpd_conn_abort(c);
	}
}

/* The pool timed the connection out. A request begun and not finished in
 * time gets a 408 (then the close); the skeleton closes the others. */
static bool conn_timeout(struct duet_server_conn *sc,
			 enum duet_evict_reason why, void *arg)
{
	struct httpd_conn *c = duet_container_of(sc, struct httpd_conn, sc);
	(void)arg;

	if (why != DUET_EVICT_REQUEST_TIMEOUT || c->state != CONN_OPEN ||
	    c->q_len > 0 || c->q == NULL)
		return false;
	c->in_len = 0;
	c->body_skip = 0;
	c->in_chunked = false;
	queue_response(c, NULL, -408);
	httpd_conn_progress(c);
	return true;
}

static const struct duet_tcp_callbacks conn_callbacks = {
    .recv = on_recv,
    .writable = on_writable,
    .error = on_error,
};

static struct duet_server_conn *conn_open(void *arg)
{
	struct httpd_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = arg;
	return &c->sc;
}

static void conn_start(struct duet_server_conn *sc, void *arg)
{
	struct httpd_conn *c = duet_container_of(sc, struct httpd_conn, sc);
	struct httpd *h = arg;

	c->state = CONN_OPEN;
	if (sc->peer.ip.family != DUET_AF_UNSPEC)
		duet_sockaddr_format(&sc->peer, c->peer, sizeof(c->peer));
	else
		strcpy(c->peer, "?");
	duet_timer_init(h->loop, &c->timer, on_timer, c);
	duet_tcp_set_callbacks(sc->tcp, &conn_callbacks, c);
	duet_tcp_nodelay(sc->tcp, true);
}

static void conn_refused(int err, void *arg)
{
	struct httpd *h = arg;
	uint64_t refused =
	    h->tcp.pool.stats.refused_busy + h->tcp.pool.stats.refused_peer;

	if (refused % 1000 == 1)
		DUET_WARN("httpd",
			  "%u connections: refusing one (%s; %llu so far)",
			  duet_tcp_server_count(&h->tcp), duet_strerror(err),
			  (unsigned long long)refused);
}

static const struct duet_tcp_server_ops server_ops = {
    .open = conn_open,
    .start = conn_start,
    .timeout = conn_timeout,
    .release = conn_release,
    .refused = conn_refused,
};

/* --------------------------------------------------------------- server */

void httpd_config_default(struct httpd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	duet_ipaddr_parse("127.0.0.1", &cfg->addr.ip);
	cfg->addr.port = 8080;
	cfg->idle_timeout = DUET_SEC(10);
	cfg->request_timeout = DUET_SEC(10);
	cfg->max_conns = 10000;
	cfg->max_per_peer = 0;
	cfg->evict_grace = DUET_CONNPOOL_GRACE;
	cfg->access_log = true;
	cfg->limits = http_default_limits;
}

int httpd_start(struct httpd *h, struct duet_loop *loop,
		struct duet_stack *stack, const struct httpd_config *cfg,
		const struct httpd_source *src)
{
	struct duet_connpool_config pc = {
	    .max_conns = cfg->max_conns,
	    .max_per_peer = cfg->max_per_peer,
	    .idle_timeout = cfg->idle_timeout,
	    .request_timeout = cfg->request_timeout,
	    .grace = cfg->evict_grace,
	    .handshake = cfg->tls,
	};
	int r;

	h->loop = loop;
	h->cfg = *cfg;
	h->src = *src;
	h->requests = 0;
	h->reads = h->stream_bufs = 0;
	h->date[0] = '\0';
	r = duet_tcp_server_start(&h->tcp, loop, stack, &h->cfg.addr, 1, false,
				  &pc, &server_ops, h, "httpd");
	h->started = r == 0;
	return r;
}

void httpd_stop(struct httpd *h, void (*drained)(void *arg), void *arg)
{
	if (!h->started) {
		if (drained != NULL)
			drained(arg);
		return;
	}
	h->started = false;
	duet_connpool_log(&h->tcp.pool, "httpd");
	/* Connections still reading are released as their reads end. */
	duet_tcp_server_stop(&h->tcp, drained, arg);
}
