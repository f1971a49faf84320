/* TCP through duet/net.h on two lwIP stacks joined by an in-memory wire. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <duet/error.h>
#include <duet/net.h>

#include "lwip/priv/tcp_priv.h"

#include "lwip_testenv.h"
#include "stream_end.h"

TestSuite(lwip_tcp, .init = lwip_env_setup, .fini = lwip_env_teardown,
	  .timeout = 120);

static struct duet_tcp *listen_on(struct duet_stack *s, const char *addr)
{
	struct duet_sockaddr a = lwip_env_addr(addr);
	struct duet_tcp *l;

	cr_assert_eq(duet_tcp_listen(s, &a, 0, on_accept, NULL, &l), 0);
	return l;
}

static void connect_to(struct end *e, const char *addr)
{
	struct duet_sockaddr a = lwip_env_addr(addr);

	in_call = true;
	int r = duet_tcp_connect(env.a, &a, &cbs, e, &e->c);
	in_call = false;
	cr_assert_eq(r, 0, "connect: %s", duet_strerror(r));
}

static bool connected_and_accepted(void *arg)
{
	struct end *e = arg;
	return e->connected && accepted == 1;
}

Test(lwip_tcp, handshake_and_addresses)
{
	struct end a = {0};
	struct duet_sockaddr local, peer, blocal, bpeer;
	char t[DUET_SOCKADDR_STRLEN];

	listen_on(env.b, "0.0.0.0:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(!a.connected, "connected inside connect");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	cr_assert(env.pair.arp_frames >= 2, "no ARP request and reply");

	cr_assert_eq(duet_tcp_local(a.c, &local), 0);
	cr_assert_eq(duet_tcp_peer(a.c, &peer), 0);
	cr_assert_str_eq(duet_sockaddr_format(&peer, t, sizeof(t)),
			 "10.0.0.2:80");
	cr_assert_eq(local.ip.family, DUET_AF_INET);
	cr_assert_eq(memcmp(local.ip.bytes, "\x0a\x00\x00\x01", 4), 0);
	cr_assert_eq(duet_tcp_local(servers[0].c, &blocal), 0);
	cr_assert_eq(duet_tcp_peer(servers[0].c, &bpeer), 0);
	cr_assert(duet_ipaddr_equal(&bpeer.ip, &local.ip) &&
		  bpeer.port == local.port);
	cr_assert_eq(blocal.port, 80);
	cr_assert(!reentered);
}

static bool transfer_done(void *arg)
{
	struct end *e = arg;
	return (servers[0].eof && e->sent == e->to_send) ||
	       servers[0].corrupt || e->err != 0;
}

static void bulk(uint64_t bytes, duet_time_t limit)
{
	struct end a = {
	    .tx_seed = 7, .to_send = bytes, .shutdown_when_sent = true};

	server_template = (struct end){.rx_seed = 7};
	listen_on(env.b, "10.0.0.2:5001");
	connect_to(&a, "10.0.0.2:5001");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(lwip_env_run(transfer_done, &a, limit),
		  "stalled: sent %llu, received %llu",
		  (unsigned long long)a.sent,
		  (unsigned long long)servers[0].received);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_log_info("%llu bytes in %.3f s of CPU: %.1f MB/s; %llu frames, %llu "
		    "dropped, %llu reordered",
		    (unsigned long long)bytes, secs, (double)bytes / secs / 1e6,
		    (unsigned long long)env.pair.frames,
		    (unsigned long long)env.pair.dropped,
		    (unsigned long long)env.pair.reordered);
	cr_assert_eq(a.err, 0);
	cr_assert(!servers[0].corrupt, "received bytes differ from those sent");
	cr_assert_eq(servers[0].received, bytes);
	cr_assert(!reentered);
}

Test(lwip_tcp, transfer_10mb_intact)
{
	bulk(10 * 1000 * 1000, DUET_SEC(60));
}

Test(lwip_tcp, transfer_with_loss_and_reordering)
{
	netpair_impair(&env.pair, 50, 20, 12345);
	bulk(2 * 1000 * 1000, DUET_SEC(600));
	cr_assert_gt(env.pair.dropped, 50);
	cr_assert_gt(env.pair.reordered, 10);
	/* Losses that no duplicate ACK reveals wait for the timer: the count
	 * tests/posix/net_tap.sh wants at 0 sees them. */
	uint64_t rtos =
	    duet__lwip_stack(env.a)->rtos + duet__lwip_stack(env.b)->rtos;
	cr_log_info("%llu retransmission timeouts", (unsigned long long)rtos);
	cr_assert_gt(rtos, 0);
}

static bool half_closed_exchange_done(void *arg)
{
	struct end *e = arg;
	return e->eof || e->err != 0;
}

Test(lwip_tcp, half_close_peer_still_sends)
{
	struct end a = {.rx_seed = 9, .shutdown_when_sent = true};

	server_template = (struct end){
	    .tx_seed = 9, .to_send = 300000, .shutdown_when_sent = false};
	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	/* a sent nothing and shut down on connect: b sees the end of a's
	 * stream while still sending its own. */
	cr_assert_eq(duet_tcp_send(a.c, "x", 1), -ENOTCONN);
	servers[0].shutdown_when_sent = true;
	pump(&servers[0]);
	cr_assert(lwip_env_run(half_closed_exchange_done, &a, DUET_SEC(30)));
	cr_assert(servers[0].eof, "b saw no end of a's stream");
	cr_assert_eq(servers[0].received, 0);
	cr_assert_eq(a.received, 300000);
	cr_assert(!a.corrupt);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(servers[0].err, 0);
	duet_tcp_close(a.c);
	duet_tcp_close(servers[0].c);
	lwip_env_run_for(DUET_SEC(1));
	cr_assert(!reentered);
}

static bool got_error(void *arg)
{
	return ((struct end *)arg)->err != 0;
}

Test(lwip_tcp, abort_resets_the_peer)
{
	struct end a = {0};

	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	in_call = true;
	duet_tcp_abort(a.c);
	in_call = false;
	cr_assert(lwip_env_run(got_error, &servers[0], DUET_SEC(5)));
	cr_assert_eq(servers[0].err, -ECONNRESET);
	cr_assert_eq(a.err, 0, "the aborting side got a callback");
	cr_assert(!reentered);
}

Test(lwip_tcp, connect_to_closed_port_is_refused)
{
	struct end a = {0};

	connect_to(&a, "10.0.0.2:81");
	cr_assert(lwip_env_run(got_error, &a, DUET_SEC(10)));
	cr_assert_eq(a.err, -ECONNREFUSED);
	cr_assert(!a.connected);
	cr_assert(!reentered);
}

#define MANY 200
static struct end clients[MANY];

static bool all_done(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < MANY; i++)
		if (!clients[i].eof && clients[i].err == 0)
			return false;
	return true;
}

Test(lwip_tcp, two_hundred_concurrent_connections)
{
	/* Each client sends 20 kB and shuts down; the server checks it, answers
	 * 5 kB once it has seen the end, and closes. */
	server_template = (struct end){
	    .rx_seed = 3, .tx_seed = 4, .to_send = 0, .close_when_eof = false};
	listen_on(env.b, "10.0.0.2:80");
	for (unsigned i = 0; i < MANY; i++) {
		clients[i] = (struct end){.tx_seed = 3,
					  .rx_seed = 4,
					  .to_send = 20000,
					  .shutdown_when_sent = true};
		connect_to(&clients[i], "10.0.0.2:80");
	}
	bool all_in = false;
	for (int round = 0; round < 200 && !all_done(NULL); round++) {
		lwip_env_run_for(DUET_MSEC(100));
		for (unsigned i = 0; i < accepted; i++) {
			struct end *s = &servers[i];
			if (s->eof && s->to_send == 0) {
				s->to_send = 5000;
				s->shutdown_when_sent = true;
				pump(s);
			}
		}
		all_in = accepted == MANY;
	}
	cr_assert(all_in, "accepted %u of %d", accepted, MANY);
	cr_assert(all_done(NULL));
	for (unsigned i = 0; i < MANY; i++) {
		cr_assert_eq(clients[i].err, 0, "client %u: %s", i,
			     duet_strerror(clients[i].err));
		cr_assert_eq(clients[i].received, 5000, "client %u", i);
		cr_assert(!clients[i].corrupt);
		cr_assert_eq(servers[i].received, 20000, "server %u", i);
		cr_assert(!servers[i].corrupt);
		duet_tcp_close(clients[i].c);
		duet_tcp_close(servers[i].c);
	}
	lwip_env_run_for(DUET_SEC(2));
	cr_assert(!reentered);
}

Test(lwip_tcp, backpressure_partial_send_then_writable)
{
	struct end a = {.tx_seed = 5};

	server_template = (struct end){.rx_seed = 5};
	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));

	size_t space = duet_tcp_send_space(a.c);
	cr_assert_gt(space, 0);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = stream_byte(5, i);
	in_call = true;
	long r = duet_tcp_send(a.c, chunk, sizeof(chunk));
	cr_assert_gt(r, 0);
	cr_assert_lt((size_t)r, sizeof(chunk),
		     "a 1 MiB send fit a bounded queue");
	cr_assert_eq(duet_tcp_send(a.c, chunk + r, sizeof(chunk) - (size_t)r),
		     -EAGAIN);
	cr_assert_eq(duet_tcp_send_space(a.c), 0);
	cr_assert_gt(duet_tcp_send_queued(a.c), 0);
	in_call = false;
	cr_assert_eq(a.writable_calls, 0);
	a.sent = (uint64_t)r;
	a.to_send = 1000000;
	a.shutdown_when_sent = true;
	cr_assert(lwip_env_run(transfer_done, &a, DUET_SEC(30)));
	cr_assert_gt(a.writable_calls, 0);
	cr_assert_eq(servers[0].received, 1000000);
	cr_assert(!servers[0].corrupt);
	cr_assert(!reentered);
}

Test(lwip_tcp, pause_closes_the_window_and_resume_delivers)
{
	struct end a = {
	    .tx_seed = 6, .to_send = 1000000, .shutdown_when_sent = true};

	server_template = (struct end){.rx_seed = 6, .pause_on_accept = true};
	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	lwip_env_run_for(DUET_SEC(5));
	cr_assert_eq(accepted, 1);
	cr_assert_eq(servers[0].recv_calls, 0, "recv while paused");
	/* The receiver buffers at most its window; the sender at most its
	 * queue; the rest waits in the app. */
	cr_assert_lt(a.sent, TCP_WND + TCP_SND_BUF + 1);
	cr_assert_gt(duet_tcp_send_queued(a.c), 0);
	duet_tcp_resume(servers[0].c);
	cr_assert_eq(servers[0].recv_calls, 0, "recv inside resume");
	cr_assert(lwip_env_run(transfer_done, &a, DUET_SEC(30)));
	cr_assert_eq(servers[0].received, 1000000);
	cr_assert(!servers[0].corrupt);
	cr_assert(!reentered);
}

static bool server_eof(void *arg)
{
	(void)arg;
	return servers[0].eof || servers[0].err != 0;
}

Test(lwip_tcp, close_delivers_queued_data_then_fin)
{
	struct end a = {.tx_seed = 8};

	server_template = (struct end){.rx_seed = 8};
	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	a.to_send = 2 * (TCP_WND + TCP_SND_BUF);
	pump(&a);
	cr_assert_lt(a.sent, a.to_send);
	uint64_t sent = a.sent;
	duet_tcp_close(a.c);
	cr_assert(lwip_env_run(server_eof, NULL, DUET_SEC(30)));
	cr_assert_eq(servers[0].err, 0);
	cr_assert_eq(servers[0].received, sent);
	cr_assert(!servers[0].corrupt);
	cr_assert_eq(a.writable_calls, 0, "callback after close");
}

Test(lwip_tcp, ipv6_transfer)
{
	struct end a = {
	    .tx_seed = 11, .to_send = 300000, .shutdown_when_sent = true};

	/* Duplicate address detection first. */
	lwip_env_run_for(DUET_SEC(3));
	server_template = (struct end){.rx_seed = 11};
	listen_on(env.b, "[::]:80");
	connect_to(&a, "[fd00::2]:80");
	cr_assert(lwip_env_run(transfer_done, &a, DUET_SEC(30)));
	cr_assert_eq(servers[0].received, 300000);
	cr_assert(!servers[0].corrupt);
	struct duet_sockaddr peer;
	char t[DUET_SOCKADDR_STRLEN];
	cr_assert_eq(duet_tcp_peer(a.c, &peer), 0);
	cr_assert_str_eq(duet_sockaddr_format(&peer, t, sizeof(t)),
			 "[fd00::2]:80");
	cr_assert_gt(env.pair.ipv6_frames, 0);
}

Test(lwip_tcp, listener_on_ipv6_any_accepts_ipv4)
{
	struct end a = {0};

	listen_on(env.b, "[::]:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	struct duet_sockaddr peer;
	cr_assert_eq(duet_tcp_peer(servers[0].c, &peer), 0);
	cr_assert_eq(peer.ip.family, DUET_AF_INET);
}

static bool pcb_with_local_port(u16_t port)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->local_port == port)
			return true;
	return false;
}

Test(lwip_tcp, close_linger_timeout_gives_up_on_a_stuck_peer)
{
	struct end a = {.tx_seed = 12};
	struct duet_sockaddr local;

	/* The peer does not read: its window closes and what a closes with
	 * cannot be delivered, so after the linger timeout (30 s) a resets
	 * the connection and forgets it. */
	server_template = (struct end){.rx_seed = 12, .pause_on_accept = true};
	listen_on(env.b, "10.0.0.2:80");
	connect_to(&a, "10.0.0.2:80");
	cr_assert(lwip_env_run(connected_and_accepted, &a, DUET_SEC(5)));
	cr_assert_eq(duet_tcp_local(a.c, &local), 0);
	a.to_send = 1000000;
	for (int i = 0; i < 20; i++) {
		pump(&a);
		lwip_env_run_for(DUET_MSEC(100));
	}
	cr_assert_gt(duet_tcp_send_queued(a.c), 0);
	duet_tcp_close(a.c);
	lwip_env_run_for(DUET_SEC(20));
	cr_assert(pcb_with_local_port(local.port),
		  "gave up before the linger timeout");
	lwip_env_run_for(DUET_SEC(15));
	cr_assert(!pcb_with_local_port(local.port),
		  "still lingering after the timeout");
	/* Once the peer reads and its window opens, it learns the connection
	 * is gone; or at once, when the reset's sequence number falls in what
	 * its scaled window had left. */
	if (servers[0].c != NULL)
		duet_tcp_resume(servers[0].c);
	cr_assert(lwip_env_run(got_error, &servers[0], DUET_SEC(20)));
	cr_assert_eq(servers[0].err, -ECONNRESET);
	cr_assert_eq(a.err, 0);
}

Test(lwip_tcp, connect_to_absent_host_times_out)
{
	struct end a = {0};

	connect_to(&a, "10.0.0.99:80");
	cr_assert(lwip_env_run(got_error, &a, DUET_SEC(600)));
	cr_assert_eq(a.err, -ETIMEDOUT);
	cr_assert(!a.connected);
	cr_assert(!reentered);
}

static bool client_connected(void *arg)
{
	return ((struct end *)arg)->connected;
}

static unsigned want_accepted;
static uint64_t want_received;

static bool nth_accepted(void *arg)
{
	(void)arg;
	return accepted >= want_accepted;
}

static bool response_received(void *arg)
{
	struct end *e = arg;
	return e->received >= want_received || e->corrupt || e->err != 0;
}

/* A driver whose queue is full refuses the frame with -ENOBUFS: lwIP keeps
 * the segment, but left alone sends it again only when something else
 * makes it send (the peer's delayed ACK, its retransmission timer), so a
 * response that meets a full queue near its end stalls for 150-500 ms.
 * 64 KiB responses (an httpd's big file) from a server whose device
 * refuses 1 frame in 10 must each arrive within a few milliseconds of
 * virtual time. */
Test(lwip_tcp, responses_through_a_device_that_refuses_frames)
{
	duet_time_t worst = 0;

	server_template = (struct end){.tx_seed = 13};
	listen_on(env.b, "10.0.0.2:80");
	for (unsigned i = 0; i < 20; i++) {
		struct end *a = &clients[i];
		*a = (struct end){.rx_seed = 13};
		connect_to(a, "10.0.0.2:80");
		want_accepted = i + 1;
		cr_assert(lwip_env_run(nth_accepted, NULL, DUET_SEC(5)));
		cr_assert(lwip_env_run(client_connected, a, DUET_SEC(5)));
		struct end *s = &servers[i];
		netpair_refuse(&env.pair, 1, 100);
		duet_time_t t0 = duet_loop_now(env.loop);
		s->to_send = 65536;
		pump(s);
		want_received = 65536;
		cr_assert(lwip_env_run(response_received, a, DUET_SEC(30)),
			  "response %u: received %llu", i,
			  (unsigned long long)a->received);
		duet_time_t dt = duet_loop_now(env.loop) - t0;
		if (dt > worst)
			worst = dt;
		netpair_refuse(&env.pair, 1, 0);
		cr_assert_eq(a->err, 0);
		cr_assert(!a->corrupt);
		duet_tcp_close(a->c);
		duet_tcp_close(s->c);
		lwip_env_run_for(DUET_MSEC(10));
	}
	cr_log_info("slowest response: %.1f ms; %llu frames refused",
		    (double)worst / DUET_NSEC_PER_MSEC,
		    (unsigned long long)env.pair.refused);
	cr_assert_gt(env.pair.refused, 20);
	cr_assert_lt(worst, DUET_MSEC(50),
		     "a response took %.0f ms: a refused frame waited for "
		     "lwIP's timers",
		     (double)worst / DUET_NSEC_PER_MSEC);
	cr_assert(!reentered);
}
