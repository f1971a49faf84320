/* The socket stack's TCP: listeners and connections on uv_tcp_t, each
 * connection with its bounded send ring (see net_socket.c). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <duet/error.h>
#include <duet/log.h>

#include "net_socket.h"

/* ------------------------------------------------------------ lifetime */

static void alloc_tcp(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sock_stack *st = ((struct sock_tcp *)h->data)->obj.st;
	(void)suggested;

	*buf = uv_buf_init(st->recv_buf, sizeof(st->recv_buf));
}

static void tcp_on_closed(uv_handle_t *h)
{
	struct sock_tcp *t = h->data;

	duet_list_unlink(&t->obj.link);
	free(t->ring);
	free(t);
}

/* The one way a TCP object dies: its handle closes (gracefully: the kernel
 * still sends what it holds, then FIN), or resets. */
static void tcp_release(struct sock_tcp *t, bool reset)
{
	if (t->closing)
		return;
	t->closing = true;
	duet_timer_stop(&t->linger);
	if (reset && t->state != TCP_LISTENER && t->state != TCP_CONNECTING &&
	    uv_tcp_close_reset(&t->h, tcp_on_closed) == 0)
		return;
	uv_close((uv_handle_t *)&t->h, tcp_on_closed);
}

/* The connection died: tell the app (which may not use it after), then
 * release it. */
static void tcp_fail(struct sock_tcp *t, int err)
{
	if (!t->base.closed)
		duet_tcp_deliver_error(&t->base, err);
	tcp_release(t, false);
}

static void linger_expired(struct duet_timer *timer, void *arg)
{
	struct sock_tcp *t = arg;
	(void)timer;

	DUET_DEBUG("net", "socket: linger timeout, %zu bytes unsent: reset",
		   t->len);
	tcp_release(t, true);
}

static void tcp_force_close(struct sock_obj *o)
{
	struct sock_tcp *t = o->handle->data;

	t->base.closed = true;
	tcp_release(t, false);
}

static struct sock_tcp *tcp_new(struct sock_stack *st, enum tcp_state state)
{
	struct sock_tcp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->base.stack = &st->base;
	t->state = state;
	uv_tcp_init(st->uv, &t->h);
	duet__sock_obj_init(&t->obj, st, (uv_handle_t *)&t->h, t,
			    tcp_force_close);
	duet_timer_init(st->base.loop, &t->linger, linger_expired, t);
	return t;
}

/* ------------------------------------------------------------ receiving */

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sock_tcp *t = s->data;

	duet__posix_woke();

	if (n == 0 || t->closing)
		return;
	if (n == UV_EOF) {
		t->eof = true;
		duet_tcp_deliver_recv(&t->base, buf->base, 0);
		return;
	}
	if (n < 0) {
		tcp_fail(t, duet__sock_err((int)n));
		return;
	}
	/* A closed (lingering) connection keeps reading so that unread data
	 * does not turn the kernel's close into a reset; it drops the data. */
	duet_tcp_deliver_recv(&t->base, buf->base, (size_t)n);
}

static void tcp_start_reading(struct sock_tcp *t)
{
	if (t->closing || t->eof)
		return;
	int r = uv_read_start((uv_stream_t *)&t->h, alloc_tcp, on_read);
	if (r < 0 && r != UV_EALREADY)
		DUET_WARN("net", "socket: cannot read: %s", uv_strerror(r));
}

void duet__sock_tcp_pause(struct duet_tcp *c)
{
	struct sock_tcp *t = duet__sock_tcp_of(c);

	t->paused = true;
	if (t->state == TCP_OPEN)
		uv_read_stop((uv_stream_t *)&t->h);
}

void duet__sock_tcp_resume(struct duet_tcp *c)
{
	struct sock_tcp *t = duet__sock_tcp_of(c);

	t->paused = false;
	if (t->state == TCP_OPEN)
		tcp_start_reading(t);
}

/* -------------------------------------------------------------- sending */

static int ring_flush(struct sock_tcp *t);

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)req;
	(void)status; /* a failed FIN shows up as a read or write error */
}

/* The ring is empty: finish a pending shutdown or close. */
static void ring_drained(struct sock_tcp *t)
{
	if (t->state == TCP_LINGER) {
		tcp_release(t, false);
		return;
	}
	if (t->shut_wr)
		uv_shutdown(&t->shutdown_req, (uv_stream_t *)&t->h,
			    on_shutdown);
}

static void on_write(uv_write_t *req, int status)
{
	struct sock_tcp *t = req->data;

	duet__posix_woke();

	if (t->closing)
		return;
	if (status < 0) {
		tcp_fail(t, duet__sock_err(status));
		return;
	}
	t->start = (t->start + t->inflight) % SOCK_SENDQ;
	t->len -= t->inflight;
	t->inflight = 0;
	if (t->len == 0)
		ring_drained(t);
	else if ((status = ring_flush(t)) < 0)
		tcp_fail(t, duet__sock_err(status));
	if (t->owe_writable && t->len <= SOCK_LOW_WATER &&
	    t->state == TCP_OPEN && !t->closing) {
		t->owe_writable = false;
		duet_tcp_deliver_writable(&t->base);
	}
}

static int ring_flush(struct sock_tcp *t)
{
	uv_buf_t bufs[2];
	unsigned n = 1;
	size_t first = SOCK_SENDQ - t->start;

	if (first >= t->len) {
		bufs[0] = uv_buf_init(t->ring + t->start, (unsigned)t->len);
	} else {
		bufs[0] = uv_buf_init(t->ring + t->start, (unsigned)first);
		bufs[1] = uv_buf_init(t->ring, (unsigned)(t->len - first));
		n = 2;
	}
	t->inflight = t->len;
	t->write_req.data = t;
	int r =
	    uv_write(&t->write_req, (uv_stream_t *)&t->h, bufs, n, on_write);
	if (r < 0)
		t->inflight = 0;
	return r;
}

long duet__sock_tcp_send(struct duet_tcp *c, const void *data, size_t len)
{
	struct sock_tcp *t = duet__sock_tcp_of(c);
	const char *p = data;
	size_t taken = 0;

	if (t->state != TCP_OPEN || t->shut_wr)
		return -ENOTCONN;
	if (t->len == 0) {
		uv_buf_t b = uv_buf_init(
		    (char *)p, (unsigned)(len > UINT32_MAX ? UINT32_MAX : len));
		int n = uv_try_write((uv_stream_t *)&t->h, &b, 1);
		if (n < 0 && n != UV_EAGAIN)
			return duet__sock_err(n);
		if (n > 0)
			taken = (size_t)n;
		if (taken == len)
			return (long)len;
	}
	if (t->ring == NULL && (t->ring = malloc(SOCK_SENDQ)) == NULL)
		return taken > 0 ? (long)taken : -ENOMEM;
	size_t space = SOCK_SENDQ - t->len;
	size_t copy = len - taken < space ? len - taken : space;
	size_t end = (t->start + t->len) % SOCK_SENDQ;
	size_t first = SOCK_SENDQ - end < copy ? SOCK_SENDQ - end : copy;
	memcpy(t->ring + end, p + taken, first);
	memcpy(t->ring, p + taken + first, copy - first);
	t->len += copy;
	if (t->inflight == 0 && t->len > 0) {
		int r = ring_flush(t);
		if (r < 0) {
			/* Only a dead stream refuses a write. */
			t->len -= copy;
			return taken > 0 ? (long)taken : duet__sock_err(r);
		}
	}
	taken += copy;
	if (taken < len)
		t->owe_writable = true;
	return taken > 0 ? (long)taken : -EAGAIN;
}

size_t duet__sock_tcp_send_space(const struct duet_tcp *c)
{
	const struct sock_tcp *t = duet__sock_tcp_of(c);

	return t->state == TCP_OPEN && !t->shut_wr ? SOCK_SENDQ - t->len : 0;
}

size_t duet__sock_tcp_send_queued(const struct duet_tcp *c)
{
	const struct sock_tcp *t = duet__sock_tcp_of(c);
	uv_os_fd_t fd;
	int unacked = 0;

	/* The kernel's unacknowledged bytes count too. */
	if (uv_fileno((const uv_handle_t *)&t->h, &fd) == 0)
		ioctl(fd, SIOCOUTQ, &unacked);
	return t->len + (unacked > 0 ? (size_t)unacked : 0);
}

int duet__sock_tcp_shutdown(struct duet_tcp *c)
{
	struct sock_tcp *t = duet__sock_tcp_of(c);

	if (t->state != TCP_OPEN || t->shut_wr)
		return -ENOTCONN;
	t->shut_wr = true;
	t->owe_writable = false;
	if (t->len == 0)
		ring_drained(t);
	return 0;
}

/* ------------------------------------------------------ close and abort */

void duet__sock_tcp_close(struct duet_tcp *c)
{
	struct sock_tcp *t = duet__sock_tcp_of(c);

	if (t->state != TCP_OPEN || t->len == 0) {
		tcp_release(t, false);
		return;
	}
	/* Queued data still goes out, for at most the linger time. */
	t->state = TCP_LINGER;
	t->paused = false;
	tcp_start_reading(t);
	duet_timer_start(&t->linger, SOCK_LINGER, 0);
}

void duet__sock_tcp_abort(struct duet_tcp *c)
{
	tcp_release(duet__sock_tcp_of(c), true);
}

/* ------------------------------------------------- listen and connect */

static void on_connection(uv_stream_t *server, int status)
{
	struct sock_tcp *l = server->data;

	duet__posix_woke();

	if (l->closing || l->base.closed)
		return;
	if (status < 0) {
		DUET_WARN("net", "socket: accept: %s", uv_strerror(status));
		return;
	}
	struct sock_tcp *t = tcp_new(l->obj.st, TCP_OPEN);
	if (t == NULL) {
		DUET_WARN("net", "socket: out of memory: connection dropped");
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&t->h) < 0) {
		tcp_release(t, false);
		return;
	}
	l->accept_cb(&l->base, &t->base, l->accept_arg);
	if (t->base.closed)
		return;
	assert(t->base.cbs != NULL && "accept callback must set callbacks");
	if (!t->paused)
		tcp_start_reading(t);
}

int duet__sock_tcp_listen(struct duet_stack *s,
			  const struct duet_sockaddr *addr, int backlog,
			  duet_tcp_accept_cb cb, void *arg,
			  struct duet_tcp **out)
{
	struct sockaddr_storage ss;
	struct sock_tcp *l = tcp_new(duet__sock_stack_of(s), TCP_LISTENER);
	int r;

	if (l == NULL)
		return -ENOMEM;
	duet__sock_to_addr(addr, false, &ss);
	/* "::" takes IPv4 too (the kernel's default; lwIP does the same). */
	r = uv_tcp_bind(&l->h, (struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&l->h, backlog, on_connection);
	if (r < 0) {
		tcp_release(l, false);
		return duet__sock_err(r);
	}
	l->accept_cb = cb;
	l->accept_arg = arg;
	*out = &l->base;
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sock_tcp *t = req->data;

	duet__posix_woke();

	if (t->closing)
		return;
	if (status < 0) {
		tcp_fail(t, duet__sock_err(status));
		return;
	}
	t->state = TCP_OPEN;
	duet_tcp_deliver_connected(&t->base);
	if (!t->base.closed && !t->paused)
		tcp_start_reading(t);
}

int duet__sock_tcp_connect(struct duet_stack *s, const struct duet_sockaddr *to,
			   struct duet_tcp **out)
{
	struct sockaddr_storage ss;
	struct sock_tcp *t = tcp_new(duet__sock_stack_of(s), TCP_CONNECTING);

	if (t == NULL)
		return -ENOMEM;
	duet__sock_to_addr(to, false, &ss);
	t->connect_req.data = t;
	int r = uv_tcp_connect(&t->connect_req, &t->h, (struct sockaddr *)&ss,
			       on_connect);
	if (r < 0) {
		tcp_release(t, false);
		return duet__sock_err(r);
	}
	*out = &t->base;
	return 0;
}

int duet__sock_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int r = uv_tcp_getsockname(&duet__sock_tcp_of(c)->h,
				   (struct sockaddr *)&ss, &len);

	return r < 0 ? duet__sock_err(r)
		     : duet__sock_from_addr((struct sockaddr *)&ss, out);
}

int duet__sock_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int r = uv_tcp_getpeername(&duet__sock_tcp_of(c)->h,
				   (struct sockaddr *)&ss, &len);

	return r < 0 ? duet__sock_err(r)
		     : duet__sock_from_addr((struct sockaddr *)&ss, out);
}

int duet__sock_tcp_nodelay(struct duet_tcp *c, bool on)
{
	return duet__sock_err(uv_tcp_nodelay(&duet__sock_tcp_of(c)->h, on));
}
