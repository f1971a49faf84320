/* A test app for duet/net.h: TCP and UDP echo on whatever stack the boot
 * configured, plus a bulk sender for backpressure tests.
 *
 *   port=N      TCP and UDP port (default 7777), on 0.0.0.0 and ::
 *   blast=SIZE  instead of echoing, send SIZE bytes to each TCP client
 *               (16-byte lines: the line's number, %015llx, and a newline),
 *               then shut down the sending side
 *
 * Echo uses the backpressure API end to end: what send does not take is
 * kept, receiving pauses until `writable`, then resumes. Each connection
 * logs its counts and the largest send queue it saw when it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net.h>

#define ECHO_PENDING (64 * 1024)

struct echo_conn {
	struct duet_list link; /* on `conns` */
	struct duet_tcp *tcp;
	uint64_t received, sent, target;
	size_t max_queued; /* send_queued: the stack's queue and the kernel's */
	size_t max_backlog; /* the largest the stack's own queue got */
	size_t space_empty; /* send_space before anything was sent */
	unsigned writables;
	bool shut;
	size_t pending_len; /* bytes received but not yet taken by send */
	char pending[ECHO_PENDING];
};

static struct duet_stack *stack;
static uint64_t blast;
static struct duet_stop_hook stop_hook;
static struct duet_tcp *listeners[2];
static struct duet_udp *udps[2];
static struct duet_list conns = {&conns, &conns};

static void conn_end(struct echo_conn *e, const char *how)
{
	DUET_INFO("echo",
		  "connection %s: received %llu sent %llu max_queued %zu "
		  "max_backlog %zu "
		  "writable %u",
		  how, (unsigned long long)e->received,
		  (unsigned long long)e->sent, e->max_queued, e->max_backlog,
		  e->writables);
	duet_list_unlink(&e->link);
	free(e);
}

static void note_queue(struct echo_conn *e)
{
	size_t q = duet_tcp_send_queued(e->tcp);
	if (q > e->max_queued)
		e->max_queued = q;
	/* What send would take on an empty connection, less what it takes
	 * now: the bytes waiting in the stack's own queue. */
	size_t backlog = e->space_empty - duet_tcp_send_space(e->tcp);
	if (backlog > e->max_backlog)
		e->max_backlog = backlog;
}

static void pattern_fill(char *buf, uint64_t off, size_t n)
{
	char line[17];

	for (size_t i = 0; i < n;) {
		uint64_t o = off + i;
		snprintf(line, sizeof(line), "%015llx\n",
			 (unsigned long long)(o / 16));
		size_t k = 16 - (size_t)(o % 16);
		if (k > n - i)
			k = n - i;
		memcpy(buf + i, line + o % 16, k);
		i += k;
	}
}

static void blast_more(struct echo_conn *e)
{
	char buf[16384];

	while (e->sent < e->target) {
		size_t n = sizeof(buf);
		if (e->target - e->sent < n)
			n = (size_t)(e->target - e->sent);
		pattern_fill(buf, e->sent, n);
		long r = duet_tcp_send(e->tcp, buf, n);
		if (r < 0) {
			if (r != -EAGAIN)
				DUET_WARN("echo", "send: %s",
					  duet_strerror((int)r));
			break;
		}
		e->sent += (uint64_t)r;
		note_queue(e);
		if ((size_t)r < n)
			break;
	}
	if (e->sent == e->target && !e->shut) {
		e->shut = true;
		duet_tcp_shutdown(e->tcp);
	}
}

static void flush_pending(struct echo_conn *e)
{
	while (e->pending_len > 0) {
		long r = duet_tcp_send(e->tcp, e->pending, e->pending_len);
		if (r < 0)
			return;
		e->sent += (uint64_t)r;
		note_queue(e);
		memmove(e->pending, e->pending + r, e->pending_len - (size_t)r);
		e->pending_len -= (size_t)r;
	}
}

static void on_recv(struct duet_tcp *c, const void *data, size_t len, void *arg)
{
	struct echo_conn *e = arg;

	if (len == 0) {
		/* The client is done; once our queue is sent, so are we. */
		duet_tcp_close(c);
		conn_end(e, "closed");
		return;
	}
	e->received += len;
	if (blast > 0)
		return;
	while (len > 0) {
		size_t n = len < ECHO_PENDING - e->pending_len
			       ? len
			       : ECHO_PENDING - e->pending_len;
		if (n == 0)
			break;
		memcpy(e->pending + e->pending_len, data, n);
		e->pending_len += n;
		data = (const char *)data + n;
		len -= n;
		flush_pending(e);
	}
	if (len > 0)
		DUET_ERROR("echo", "lost %zu bytes: pause did not hold", len);
	/* What send refused waits here; stop reading until it is taken. */
	if (e->pending_len > 0)
		duet_tcp_pause(c);
}

static void on_writable(struct duet_tcp *c, void *arg)
{
	struct echo_conn *e = arg;

	e->writables++;
	if (blast > 0) {
		blast_more(e);
		return;
	}
	flush_pending(e);
	if (e->pending_len == 0)
		duet_tcp_resume(c);
}

static void on_error(struct duet_tcp *c, int err, void *arg)
{
	(void)c;
	conn_end(arg, duet_strerror(err));
}

static const struct duet_tcp_callbacks echo_cbs = {
    .recv = on_recv,
    .writable = on_writable,
    .error = on_error,
};

static void on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	struct echo_conn *e = calloc(1, sizeof(*e));
	struct duet_sockaddr peer;
	char buf[DUET_SOCKADDR_STRLEN];
	(void)l;
	(void)arg;

	if (e == NULL) {
		duet_tcp_abort(c);
		return;
	}
	e->tcp = c;
	e->space_empty = duet_tcp_send_space(c);
	duet_list_insert_tail(&conns, &e->link);
	duet_tcp_set_callbacks(c, &echo_cbs, e);
	duet_tcp_nodelay(c, true);
	if (duet_tcp_peer(c, &peer) == 0)
		DUET_INFO("echo", "connection from %s",
			  duet_sockaddr_format(&peer, buf, sizeof(buf)));
	if (blast > 0) {
		e->target = blast;
		blast_more(e);
	}
}

static void on_datagram(struct duet_udp *u, const void *data, size_t len,
			const struct duet_sockaddr *from, void *arg)
{
	(void)arg;
	int r = duet_udp_send(u, from, data, len);
	if (r < 0)
		DUET_WARN("echo", "udp send: %s", duet_strerror(r));
}

static void on_stop(struct duet_stop_hook *h, void *arg)
{
	(void)arg;
	for (int i = 0; i < 2; i++) {
		if (listeners[i] != NULL)
			duet_tcp_close(listeners[i]);
		if (udps[i] != NULL)
			duet_udp_close(udps[i]);
	}
	while (!duet_list_empty(&conns)) {
		struct echo_conn *e =
		    duet_container_of(conns.next, struct echo_conn, link);
		duet_tcp_close(e->tcp);
		conn_end(e, "closed at shutdown");
	}
	duet_stop_done(h);
}

static int echo_start(struct duet_loop *loop, void *arg)
{
	struct duet_args *args = duet_loop_args(loop);
	long long port;
	uint64_t size;
	(void)arg;

	int r = duet_args_get_int(args, "port", 7777, 1, 65535, &port);
	if (r == 0)
		r = duet_args_get_size(args, "blast", 0, &size);
	if (r < 0)
		return r;
	blast = size;
	r = duet_net_open(loop, &stack);
	if (r < 0)
		return r;
	/* "::" first: where it takes IPv4 too (as the kernel's sockets do by
	 * default), 0.0.0.0 is then in use, which is fine. */
	static const enum duet_af fams[2] = {DUET_AF_INET6, DUET_AF_INET};
	for (int i = 0; i < 4; i++) {
		struct duet_sockaddr a = {.port = (uint16_t)port};
		char buf[DUET_SOCKADDR_STRLEN];
		duet_ipaddr_any(fams[i % 2], &a.ip);
		if (i < 2)
			r = duet_tcp_listen(stack, &a, 0, on_accept, NULL,
					    &listeners[i]);
		else
			r = duet_udp_bind(stack, &a, on_datagram, NULL,
					  &udps[i - 2]);
		if (r == -EAFNOSUPPORT || (i % 2 == 1 && r == -EADDRINUSE))
			continue;
		if (r < 0) {
			DUET_ERROR("echo", "%s: %s",
				   duet_sockaddr_format(&a, buf, sizeof(buf)),
				   duet_strerror(r));
			return r;
		}
		DUET_INFO("echo", "%s stack: %s echo on %s",
			  duet_net_stack_name(stack), i < 2 ? "tcp" : "udp",
			  duet_sockaddr_format(&a, buf, sizeof(buf)));
	}
	DUET_INFO("echo", "ready");
	duet_on_stop(loop, &stop_hook, on_stop, NULL);
	return 0;
}

DUET_APP(.name = "net_echo", .summary = "TCP/UDP echo for the network tests",
	 .args_help =
	     "  port=N      TCP and UDP port (default 7777)\n"
	     "  blast=SIZE  send SIZE bytes to each client instead of echoing",
	 .start = echo_start);
