/* The POSIX socket stack against duet/net.h's contract, both ends in one
 * process over loopback, on the real libuv platform. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/error.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/sys.h>

#include "../../platform-posix/posix.h"

static uv_loop_t uv;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet_stack *stack;
static struct duet_timer guard;
static bool in_call; /* set around every call into the stack */

static void hung(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	cr_assert_fail("the loop did not stop in time");
}

static void setup(void)
{
	cr_assert_eq(uv_loop_init(&uv), 0);
	duet__posix_plat_init(&uv);
	duet_sys_init(&sys, NULL);
	cr_assert_eq(duet_net_open(loop, &stack), 0);
	cr_assert_str_eq(duet_net_stack_name(stack), "socket");
	cr_assert(duet_net_shares_host_addresses(stack),
		  "the socket stack uses the host's addresses");
	duet_timer_init(loop, &guard, hung, NULL);
}

static void teardown(void)
{
	stack->ops->destroy(stack);
	duet__posix_plat_close();
	uv_run(&uv, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&uv), 0, "libuv handles left open");
}

TestSuite(socket_stack, .init = setup, .fini = teardown);

static void run(void)
{
	duet_timer_start(&guard, 10 * DUET_NSEC_PER_SEC, 0);
	duet_loop_run(loop);
	duet_timer_stop(&guard);
}

/* Runs the loop for a while (to see that nothing happens). */
static void stop_cb(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(loop, 0);
}

static void run_for_ms(unsigned ms)
{
	struct duet_timer t;

	duet_timer_init(loop, &t, stop_cb, NULL);
	duet_timer_start(&t, ms * DUET_NSEC_PER_MSEC, 0);
	run();
}

/* --------------------------------------------------- a recording peer */

struct peer {
	struct duet_tcp *tcp;
	size_t received;
	unsigned char last;
	bool eof, connected, paused_on_accept, echo;
	int error;
	unsigned writables, recvs;
	size_t stop_at; /* stop the loop once this much arrived */
};

static void peer_recv(struct duet_tcp *c, const void *d, size_t len, void *arg)
{
	struct peer *p = arg;

	cr_assert(!in_call, "recv inside a call");
	p->recvs++;
	if (len == 0) {
		p->eof = true;
		duet_loop_stop(loop, 0);
		return;
	}
	p->received += len;
	p->last = ((const unsigned char *)d)[len - 1];
	if (p->echo)
		cr_assert_eq(duet_tcp_send(c, d, len), (long)len);
	if (p->stop_at != 0 && p->received >= p->stop_at)
		duet_loop_stop(loop, 0);
}

static void peer_writable(struct duet_tcp *c, void *arg)
{
	struct peer *p = arg;
	(void)c;

	cr_assert(!in_call, "writable inside a call");
	p->writables++;
	duet_loop_stop(loop, 0);
}

static void peer_error(struct duet_tcp *c, int err, void *arg)
{
	struct peer *p = arg;
	(void)c;

	cr_assert(!in_call, "error inside a call");
	p->error = err;
	p->tcp = NULL;
	duet_loop_stop(loop, 0);
}

static void peer_connected(struct duet_tcp *c, void *arg)
{
	struct peer *p = arg;
	(void)c;

	cr_assert(!in_call, "connected inside a call");
	p->connected = true;
	duet_loop_stop(loop, 0);
}

static const struct duet_tcp_callbacks peer_cbs = {
    .recv = peer_recv,
    .writable = peer_writable,
    .error = peer_error,
    .connected = peer_connected,
};

static struct peer server, client;

static void on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	(void)l;
	(void)arg;
	server.tcp = c;
	duet_tcp_set_callbacks(c, &peer_cbs, &server);
	if (server.paused_on_accept)
		duet_tcp_pause(c);
	duet_loop_stop(loop, 0);
}

/* A listener on loopback (port chosen by the kernel) and one connected
 * client, both accepted and connected. */
static struct duet_tcp *connect_pair(const char *ip)
{
	struct duet_sockaddr a = {.port = 0};
	struct duet_tcp *l;

	cr_assert_eq(duet_ipaddr_parse(ip, &a.ip), 0);
	cr_assert_eq(duet_tcp_listen(stack, &a, 0, on_accept, NULL, &l), 0);
	cr_assert_eq(duet_tcp_local(l, &a), 0);
	cr_assert_neq(a.port, 0);
	in_call = true;
	cr_assert_eq(
	    duet_tcp_connect(stack, &a, &peer_cbs, &client, &client.tcp), 0);
	in_call = false;
	while (!client.connected || server.tcp == NULL)
		run();
	return l;
}

/* Sends until the stack refuses; returns the bytes it took. */
static size_t fill(struct duet_tcp *c)
{
	static unsigned char buf[65536];
	size_t total = 0;

	memset(buf, 0x5a, sizeof(buf));
	for (;;) {
		in_call = true;
		long r = duet_tcp_send(c, buf, sizeof(buf));
		in_call = false;
		if (r == -EAGAIN)
			return total;
		cr_assert_gt(r, 0);
		total += (size_t)r;
		if ((size_t)r < sizeof(buf))
			return total;
	}
}

/* ----------------------------------------------------------------- TCP */

Test(socket_stack, echo_over_ipv4_and_ipv6_reports_addresses)
{
	const char *ips[] = {"127.0.0.1", "::1"};

	for (int i = 0; i < 2; i++) {
		struct duet_sockaddr local, peer;
		memset(&server, 0, sizeof(server));
		memset(&client, 0, sizeof(client));
		struct duet_tcp *l = connect_pair(ips[i]);
		server.echo = true;
		client.stop_at = 5;
		in_call = true;
		cr_assert_eq(duet_tcp_send(client.tcp, "hello", 5), 5);
		in_call = false;
		run();
		cr_assert_eq(client.received, 5);
		cr_assert_eq(duet_tcp_local(client.tcp, &local), 0);
		cr_assert_eq(duet_tcp_peer(server.tcp, &peer), 0);
		cr_assert(duet_ipaddr_equal(&local.ip, &peer.ip));
		cr_assert_eq(local.port, peer.port);
		cr_assert_eq(duet_tcp_nodelay(client.tcp, true), 0);
		duet_tcp_close(client.tcp);
		duet_tcp_close(server.tcp);
		duet_tcp_close(l);
	}
}

Test(socket_stack, full_queue_refuses_then_writable_comes_from_the_loop)
{
	server.paused_on_accept = true;
	struct duet_tcp *l = connect_pair("127.0.0.1");
	size_t sent = fill(client.tcp);

	cr_assert_gt(sent, 256 * 1024, "the queue takes at least 256 KiB");
	cr_assert_eq(duet_tcp_send_space(client.tcp), 0);
	cr_assert_geq(duet_tcp_send_queued(client.tcp), 256 * 1024);
	cr_assert_eq(client.writables, 0);
	run_for_ms(50);
	cr_assert_eq(server.received, 0, "paused: nothing delivered");
	cr_assert_eq(client.writables, 0, "nothing drained yet");

	server.stop_at = sent;
	duet_tcp_resume(server.tcp);
	while (client.writables == 0 || server.received < sent)
		run();
	cr_assert_eq(server.received, sent, "every accepted byte arrives");
	cr_assert_gt(duet_tcp_send_space(client.tcp), 0);
	duet_tcp_close(client.tcp);
	duet_tcp_close(server.tcp);
	duet_tcp_close(l);
}

Test(socket_stack, close_sends_the_queue_then_fin)
{
	server.paused_on_accept = true;
	struct duet_tcp *l = connect_pair("::1");
	size_t sent = fill(client.tcp);

	in_call = true;
	duet_tcp_close(client.tcp);
	in_call = false;
	duet_tcp_resume(server.tcp);
	while (!server.eof)
		run();
	cr_assert_eq(server.received, sent);
	cr_assert_eq(client.writables, 0, "no callbacks after close");
	duet_tcp_close(server.tcp);
	duet_tcp_close(l);
}

Test(socket_stack, abort_resets_the_peer)
{
	struct duet_tcp *l = connect_pair("127.0.0.1");

	in_call = true;
	duet_tcp_abort(client.tcp);
	in_call = false;
	run();
	cr_assert_eq(server.error, -ECONNRESET);
	cr_assert_eq(client.error, 0, "no callbacks after abort");
	duet_tcp_close(l);
}

Test(socket_stack, shutdown_sends_fin_and_keeps_receiving)
{
	struct duet_tcp *l = connect_pair("127.0.0.1");

	in_call = true;
	cr_assert_eq(duet_tcp_send(client.tcp, "bye", 3), 3);
	cr_assert_eq(duet_tcp_shutdown(client.tcp), 0);
	cr_assert_eq(duet_tcp_send(client.tcp, "x", 1), -ENOTCONN);
	cr_assert_eq(duet_tcp_shutdown(client.tcp), -ENOTCONN);
	in_call = false;
	while (!server.eof)
		run();
	cr_assert_eq(server.received, 3);
	client.stop_at = 4;
	cr_assert_eq(duet_tcp_send(server.tcp, "back", 4), 4);
	run();
	cr_assert_eq(client.received, 4, "the half-closed side still receives");
	duet_tcp_close(client.tcp);
	duet_tcp_close(server.tcp);
	duet_tcp_close(l);
}

Test(socket_stack, connect_refused_is_reported_from_the_loop)
{
	struct duet_sockaddr a = {.port = 0};
	struct duet_tcp *l, *c;

	/* A port that was just free and is closed again. */
	cr_assert_eq(duet_ipaddr_parse("127.0.0.1", &a.ip), 0);
	cr_assert_eq(duet_tcp_listen(stack, &a, 0, on_accept, NULL, &l), 0);
	cr_assert_eq(duet_tcp_local(l, &a), 0);
	duet_tcp_close(l);
	run_for_ms(10);
	in_call = true;
	cr_assert_eq(duet_tcp_connect(stack, &a, &peer_cbs, &client, &c), 0);
	in_call = false;
	run();
	cr_assert_eq(client.error, -ECONNREFUSED);
}

Test(socket_stack, port_in_use)
{
	struct duet_sockaddr a = {.port = 0};
	struct duet_tcp *l, *l2;

	cr_assert_eq(duet_ipaddr_parse("127.0.0.1", &a.ip), 0);
	cr_assert_eq(duet_tcp_listen(stack, &a, 0, on_accept, NULL, &l), 0);
	cr_assert_eq(duet_tcp_local(l, &a), 0);
	cr_assert_eq(duet_tcp_listen(stack, &a, 0, on_accept, NULL, &l2),
		     -EADDRINUSE);
	duet_tcp_close(l);
}

Test(socket_stack, no_recv_after_close)
{
	struct duet_tcp *l = connect_pair("127.0.0.1");

	cr_assert_eq(duet_tcp_send(server.tcp, "data", 4), 4);
	duet_tcp_close(server.tcp);
	duet_tcp_close(client.tcp);
	run_for_ms(50);
	cr_assert_eq(client.recvs, 0);
	cr_assert_eq(client.error, 0);
	duet_tcp_close(l);
}

/* ----------------------------------------------------------------- UDP */

static size_t udp_len;
static struct duet_sockaddr udp_from;

static void udp_recv(struct duet_udp *u, const void *d, size_t len,
		     const struct duet_sockaddr *from, void *arg)
{
	(void)u;
	(void)d;
	(void)arg;
	cr_assert(!in_call, "udp recv inside a call");
	udp_len = len;
	udp_from = *from;
	duet_loop_stop(loop, 0);
}

Test(socket_stack, udp_roundtrip_ipv4_and_ipv6)
{
	const char *ips[] = {"127.0.0.1", "::1"};

	for (int i = 0; i < 2; i++) {
		struct duet_sockaddr a = {.port = 0}, b = {.port = 0};
		struct duet_udp *ua, *ub;
		cr_assert_eq(duet_ipaddr_parse(ips[i], &a.ip), 0);
		b.ip = a.ip;
		cr_assert_eq(duet_udp_bind(stack, &a, udp_recv, NULL, &ua), 0);
		cr_assert_eq(duet_udp_bind(stack, &b, udp_recv, NULL, &ub), 0);
		cr_assert_eq(duet_udp_local(ua, &a), 0);
		cr_assert_eq(duet_udp_local(ub, &b), 0);
		in_call = true;
		cr_assert_eq(duet_udp_send(ua, &b, "ping", 4), 0);
		in_call = false;
		run();
		cr_assert_eq(udp_len, 4);
		cr_assert_eq(udp_from.port, a.port);
		cr_assert(duet_ipaddr_equal(&udp_from.ip, &a.ip));
		cr_assert_eq(duet_udp_send(ua, &b, NULL, 0), 0,
			     "empty datagram");
		run();
		cr_assert_eq(udp_len, 0);
		duet_udp_close(ua);
		duet_udp_close(ub);
	}
}

Test(socket_stack, dual_stack_listener_reports_ipv4_peers)
{
	struct duet_sockaddr a = {.port = 0}, peer;
	struct duet_tcp *l;

	cr_assert_eq(duet_ipaddr_parse("::", &a.ip), 0);
	cr_assert_eq(duet_tcp_listen(stack, &a, 0, on_accept, NULL, &l), 0);
	cr_assert_eq(duet_tcp_local(l, &a), 0);
	cr_assert_eq(duet_ipaddr_parse("127.0.0.1", &a.ip), 0);
	cr_assert_eq(
	    duet_tcp_connect(stack, &a, &peer_cbs, &client, &client.tcp), 0);
	while (!client.connected || server.tcp == NULL)
		run();
	cr_assert_eq(duet_tcp_peer(server.tcp, &peer), 0);
	cr_assert_eq(peer.ip.family, DUET_AF_INET);
	duet_tcp_close(client.tcp);
	duet_tcp_close(server.tcp);
	duet_tcp_close(l);
}
