/* A test client for duet/net.h, so that a Duet process can be the other
 * end of a network test (lwIP over vwire has no host tools on it).
 *
 *   to=ADDR:PORT  the server ("10.0.0.2:80", "[fd00::2]:7")
 *   mode=MODE     echo: send `size` bytes of a pattern over TCP and expect
 *                 them back, then shut down; udp: one datagram, expect it
 *                 back; http: GET `path`, log the status line and the
 *                 body's length
 *   size=SIZE     for echo (default 64k)
 *   path=PATH     for http (default /)
 *   timeout=T     give up after T (default 10s); exit 1
 *
 * Exits 0 when the exchange succeeded.
 */
#include <stdio.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net.h>

enum mode { MODE_ECHO, MODE_UDP, MODE_HTTP };

static struct duet_loop *loop_;
static enum mode mode;
static struct duet_sockaddr to;
static const char *path;
static uint64_t size, sent, received;
static struct duet_tcp *tcp;
static struct duet_udp *udp;
static struct duet_timer deadline;
static char head[512]; /* the start of an HTTP response */
static size_t head_len;

static char pattern(uint64_t off)
{
	return (char)('a' + off % 26);
}

static struct duet_timer retry, resend;

static void finish(int code, const char *why)
{
	duet_timer_stop(&deadline);
	duet_timer_stop(&retry);
	duet_timer_stop(&resend);
	if (code == 0)
		DUET_INFO("client", "%s", why);
	else
		DUET_ERROR("client", "%s", why);
	if (tcp != NULL)
		duet_tcp_close(tcp);
	if (udp != NULL)
		duet_udp_close(udp);
	tcp = NULL;
	udp = NULL;
	duet_shutdown(loop_, code);
}

static void send_more(void)
{
	char buf[8192];

	while (sent < size) {
		size_t n = size - sent < sizeof(buf) ? (size_t)(size - sent)
						     : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(sent + i);
		long r = duet_tcp_send(tcp, buf, n);
		if (r < 0)
			return; /* -EAGAIN: writable comes */
		sent += (uint64_t)r;
	}
	duet_tcp_shutdown(tcp);
}

static void http_done(void)
{
	char msg[600];
	char *eol = memchr(head, '\r', head_len);
	char *body = NULL;

	for (size_t i = 0; i + 4 <= head_len; i++)
		if (memcmp(head + i, "\r\n\r\n", 4) == 0) {
			body = head + i + 4;
			break;
		}
	if (eol == NULL || body == NULL) {
		finish(1, "http: no complete response head");
		return;
	}
	snprintf(msg, sizeof(msg), "http: %.*s, body %llu bytes",
		 (int)(eol - head), head,
		 (unsigned long long)(received - (uint64_t)(body - head)));
	finish(0, msg);
}

static void on_recv(struct duet_tcp *c, const void *data, size_t len, void *arg)
{
	const char *p = data;
	char msg[128];
	(void)c;
	(void)arg;

	if (len == 0) {
		if (mode == MODE_HTTP) {
			http_done();
			return;
		}
		snprintf(msg, sizeof(msg), "echo: %llu of %llu bytes back%s",
			 (unsigned long long)received, (unsigned long long)size,
			 received == size ? ", intact" : "");
		finish(received == size ? 0 : 1, msg);
		return;
	}
	if (mode == MODE_HTTP) {
		size_t n = len < sizeof(head) - head_len
			       ? len
			       : sizeof(head) - head_len;
		memcpy(head + head_len, p, n);
		head_len += n;
		received += len;
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern(received + i)) {
			snprintf(msg, sizeof(msg), "echo: wrong byte at %llu",
				 (unsigned long long)(received + i));
			finish(1, msg);
			return;
		}
	received += len;
}

static void on_writable(struct duet_tcp *c, void *arg)
{
	(void)c;
	(void)arg;
	if (mode == MODE_ECHO)
		send_more();
}

static void on_connected(struct duet_tcp *c, void *arg)
{
	char req[512];
	(void)arg;

	if (mode == MODE_ECHO) {
		send_more();
		return;
	}
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: duet\r\n"
			 "Connection: close\r\n\r\n",
			 path);
	if (duet_tcp_send(c, req, (size_t)n) != n)
		finish(1, "http: request did not fit the send queue");
}

static void on_error(struct duet_tcp *c, int err, void *arg)
{
	char msg[128];
	(void)c;
	(void)arg;

	tcp = NULL; /* closed by the stack */
	snprintf(msg, sizeof(msg), "connection failed: %s", duet_strerror(err));
	finish(1, msg);
}

static const struct duet_tcp_callbacks cbs = {
    .recv = on_recv,
    .writable = on_writable,
    .error = on_error,
    .connected = on_connected,
};

static void on_datagram(struct duet_udp *u, const void *data, size_t len,
			const struct duet_sockaddr *from, void *arg)
{
	(void)u;
	(void)from;
	(void)arg;
	if (len == 9 && memcmp(data, "duet-udp!", 9) == 0)
		finish(0, "udp: datagram echoed");
}

static void on_deadline(struct duet_timer *t, void *arg)
{
	char msg[128];
	(void)t;
	(void)arg;

	snprintf(msg, sizeof(msg), "timeout (sent %llu, received %llu)",
		 (unsigned long long)sent, (unsigned long long)received);
	finish(1, msg);
}

/* UDP has no handshake: resend until the echo comes or time runs out
 * (the first may go while ARP/ND is still resolving). */
static void on_resend(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (udp != NULL)
		duet_udp_send(udp, &to, "duet-udp!", 9);
}

/* A fresh lwIP may have no usable source address yet (IPv6 duplicate
 * address detection takes a second): retry the connect until it has. */
static struct duet_stack *stack;

static int try_connect(void)
{
	int r = duet_tcp_connect(stack, &to, &cbs, NULL, &tcp);

	if (r == -EHOSTUNREACH || r == -ENETUNREACH || r == -EADDRNOTAVAIL) {
		tcp = NULL;
		duet_timer_start(&retry, 200 * DUET_NSEC_PER_MSEC, 0);
		return 0;
	}
	return r;
}

static void on_retry(struct duet_timer *t, void *arg)
{
	char msg[96];
	(void)t;
	(void)arg;

	int r = try_connect();
	if (r < 0) {
		snprintf(msg, sizeof(msg), "connect: %s", duet_strerror(r));
		finish(1, msg);
	}
}

static int client_start(struct duet_loop *loop, void *arg)
{
	struct duet_args *args = duet_loop_args(loop);
	const char *t, *m;
	duet_time_t timeout;
	int r;
	(void)arg;

	loop_ = loop;
	if ((r = duet_args_get_str(args, "to", NULL, &t)) < 0 ||
	    (r = duet_args_get_str(args, "mode", "echo", &m)) < 0 ||
	    (r = duet_args_get_size(args, "size", 65536, &size)) < 0 ||
	    (r = duet_args_get_str(args, "path", "/", &path)) < 0 ||
	    (r = duet_args_get_duration(args, "timeout", 10 * DUET_NSEC_PER_SEC,
					&timeout)) < 0)
		return r;
	if (t == NULL || duet_sockaddr_parse(t, &to) < 0) {
		DUET_ERROR("client", "to=ADDR:PORT is required");
		return -EINVAL;
	}
	if (strcmp(m, "echo") == 0) {
		mode = MODE_ECHO;
	} else if (strcmp(m, "udp") == 0) {
		mode = MODE_UDP;
	} else if (strcmp(m, "http") == 0) {
		mode = MODE_HTTP;
	} else {
		DUET_ERROR("client", "mode=%s: expected echo, udp or http", m);
		return -EINVAL;
	}
	if ((r = duet_net_open(loop, &stack)) < 0)
		return r;
	duet_timer_init(loop, &deadline, on_deadline, NULL);
	duet_timer_start(&deadline, timeout, 0);
	if (mode == MODE_UDP) {
		struct duet_sockaddr any = {.port = 0};
		duet_ipaddr_any(to.ip.family, &any.ip);
		if ((r = duet_udp_bind(stack, &any, on_datagram, NULL, &udp)) <
		    0)
			return r;
		duet_timer_init(loop, &resend, on_resend, NULL);
		duet_timer_start(&resend, 1, 300 * DUET_NSEC_PER_MSEC);
		return 0;
	}
	duet_timer_init(loop, &retry, on_retry, NULL);
	return try_connect();
}

DUET_APP(.name = "net_client",
	 .summary = "a TCP/UDP/HTTP client for the network tests",
	 .args_help =
	     "  to=ADDR:PORT mode=echo|udp|http size=SIZE path=PATH timeout=T",
	 .start = client_start);
