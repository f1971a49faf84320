/* kv's connections (apps/kv/server.c) against the fake stack, with the log
 * store on a RAM disk: replies in request order with writes held until
 * durable, reads never waiting on their own, a connection that goes away
 * with writes in flight, QUIT and protocol errors closing after a FIN,
 * reading paused while the replies are over their bound, and a newcomer
 * refused by a pool whose every connection waits on a write. */
#include "storage_harness.h"

#include "net_fakestack.h"

#include "cmd.h"
#include "server.h"

static struct kv_core core;
static struct kv_server srv;
static struct fconn conns[5];

static bool ready;
static void opened(struct kv_store *s, int status, void *arg)
{
	(void)s;
	(void)arg;
	cr_assert_eq(status, 0);
	ready = true;
}

static void setup(void)
{
	harness_setup();
	struct duet_blk_mem *disk = mem_disk("disk0", 512, 16384);
	memset(&core, 0, sizeof(core));
	memset(&srv, 0, sizeof(srv));
	memset(conns, 0, sizeof(conns));
	core.max_bulk = 1 << 20;
	cr_assert_eq(kv_db_init(&core.db, kv_on_expire, &core), 0);
	ready = false;
	cr_assert_eq(kv_store_open(&core.store, loop, duet_blk_mem_block(disk),
				   &core.db, true, opened, NULL),
		     0);
	run_until(&ready);
	fakestack_install(loop);
	struct duet_sockaddr addr = {.port = 6379};
	duet_ipaddr_parse("127.0.0.1", &addr.ip);
	struct duet_connpool_config pool = {.max_conns = 4,
					    .idle_timeout = DUET_SEC(10),
					    .request_timeout = DUET_SEC(10)};
	cr_assert_eq(kv_server_start(&srv, &core, loop, &fstack, &addr, 1,
				     false, &pool, 4 << 20),
		     0);
}

static bool drained;
static void on_drained(struct kv_store *s)
{
	(void)s;
	drained = true;
}

static void teardown(void)
{
	kv_server_stop(&srv);
	drained = core.store.in_flight == 0;
	core.store.drained = on_drained;
	run_until(&drained);
	kv_store_close(&core.store);
	kv_db_fini(&core.db);
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		free(conns[i].out);
}

TestSuite(kv_server, .init = setup, .fini = teardown);

static struct fconn *connect_(int i, size_t space)
{
	return fakestack_accept(&conns[i], space, (uint16_t)(7000 + i));
}

static void send_str(struct fconn *f, const char *s)
{
	duet_tcp_deliver_recv(&f->base, s, strlen(s));
}

/* Runs the loop until f has received at least n bytes (or gives up). */
static struct fconn *want_conn;
static size_t want_len;
static void poll_out(struct duet_timer *t, void *arg)
{
	(void)arg;
	if (want_conn->out_len >= want_len || ++run_spins > 2000000)
		duet_loop_stop(loop, 0);
	else
		duet_timer_start(t, 0, 0);
}
static void run_until_out(struct fconn *f, size_t n)
{
	want_conn = f;
	want_len = n;
	run_spins = 0;
	duet_timer_init(loop, &run_poll, poll_out, NULL);
	duet_timer_start(&run_poll, 0, 0);
	duet_loop_run(loop);
	duet_timer_stop(&run_poll);
	cr_assert_geq(f->out_len, n, "got %zu bytes: %.*s", f->out_len,
		      (int)f->out_len, f->out ? f->out : "");
}

Test(kv_server, replies_after_a_write_wait_for_it_in_order)
{
	struct fconn *f = connect_(0, SIZE_MAX);
	static const char want[] = "+OK\r\n$1\r\n1\r\n+OK\r\n+PONG\r\n";

	send_str(f, "SET a 1\r\nGET a\r\nSET b 2\r\nPING\r\n");
	cr_assert_eq(f->out_len, 0, "nothing before the first SET is durable");
	run_until_out(f, sizeof(want) - 1);
	cr_assert_eq(f->out_len, sizeof(want) - 1);
	cr_assert_eq(memcmp(f->out, want, sizeof(want) - 1), 0, "%.*s",
		     (int)f->out_len, f->out);
	/* Reads alone are answered at once. */
	send_str(f, "GET b\r\nEXISTS a b\r\n");
	cr_assert_eq(f->out_len, sizeof(want) - 1 + 11, "%zu: %.*s", f->out_len, (int)f->out_len, f->out);
	cr_assert_eq(memcmp(f->out + sizeof(want) - 1, "$1\r\n2\r\n:2\r\n", 11),
		     0);
}

Test(kv_server, other_connections_are_not_held_up)
{
	struct fconn *w = connect_(0, SIZE_MAX), *r = connect_(1, SIZE_MAX);

	send_str(w, "SET k v\r\n");
	send_str(r, "PING\r\n");
	cr_assert_eq(w->out_len, 0);
	cr_assert_eq(r->out_len, 7, "the reader's reply goes at once");
	run_until_out(w, 5);
}

Test(kv_server, a_connection_gone_with_writes_in_flight)
{
	struct fconn *f = connect_(0, SIZE_MAX);

	send_str(f, "SET a 1\r\nSET b 2\r\nGET a\r\n");
	duet_tcp_deliver_error(&f->base, -ECONNRESET);
	/* The writes still complete (and are kept); nothing touches the
	 * connection (ASan would say). */
	drained = core.store.in_flight == 0;
	core.store.drained = on_drained;
	run_until(&drained);
	core.store.drained = NULL;
	cr_assert_eq(f->out_len, 0);
	struct fconn *g = connect_(1, SIZE_MAX);
	send_str(g, "MGET a b\r\n");
	cr_assert_eq(g->out_len, 18);
	cr_assert_eq(memcmp(g->out, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", 18), 0);
}

Test(kv_server, quit_and_protocol_errors_close_after_a_fin)
{
	struct fconn *q = connect_(0, SIZE_MAX), *e = connect_(1, SIZE_MAX);

	send_str(q, "PING\r\nQUIT\r\nPING\r\n");
	cr_assert_eq(q->out_len, 12);
	cr_assert_eq(memcmp(q->out, "+PONG\r\n+OK\r\n", 12), 0);
	cr_assert(q->shut && !q->closed, "FIN sent, lingering");
	send_str(q, "more bytes the client sent\r\n");
	cr_assert_eq(q->out_len, 12, "dropped, not answered");
	duet_tcp_deliver_recv(&q->base, "", 0);
	cr_assert(q->closed, "closed once the client is done");

	send_str(e, "*1\r\n$x\r\n");
	cr_assert_eq(e->out_len, 42);
	cr_assert_eq(memcmp(e->out, "-ERR Protocol error: invalid bulk length\r\n",
			    42),
		     0);
	cr_assert(e->shut);
	cr_assert_eq(srv.protocol_errors, 1);
}

Test(kv_server, a_reader_that_does_not_read_is_paused_then_served)
{
	struct fconn *f = connect_(0, SIZE_MAX);
	static char value[70000];
	char cmd[80];

	/* A 64 KiB value, made durable. */
	memset(value, 'v', 65536);
	int n = snprintf(cmd, sizeof(cmd), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$65536\r\n");
	duet_tcp_deliver_recv(&f->base, cmd, (size_t)n);
	memcpy(value + 65536, "\r\n", 2);
	duet_tcp_deliver_recv(&f->base, value, 65538);
	run_until_out(f, 5);
	free(f->out);
	f->out = NULL;
	f->out_len = f->out_cap = 0;

	/* 40 GETs (2.6 MB of replies) to a peer taking nothing. */
	f->space = 0;
	char gets[40 * 7];
	for (int i = 0; i < 40; i++)
		memcpy(gets + i * 7, "GET k\r\n", 7);
	duet_tcp_deliver_recv(&f->base, gets, sizeof(gets));
	cr_assert(f->paused, "reading paused over the bound");
	cr_assert(f->owed);
	/* The peer reads again: everything comes, in order, and reading
	 * resumes. */
	f->space = SIZE_MAX;
	f->owed = false;
	duet_tcp_deliver_writable(&f->base);
	size_t one = 8 + 65536 + 2; /* $65536 CRLF, the value, CRLF */
	cr_assert_eq(f->out_len, 40 * one, "%zu of %zu", f->out_len, 40 * one);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(memcmp(f->out + i * one, "$65536\r\nvv", 10), 0);
	cr_assert(!f->paused);
}

/* The shared server skeleton (duet/connpool.h): a full pool of connections
 * whose replies wait on durable writes refuses a newcomer, resets it, and
 * kv counts it (INFO's rejected_connections); the others are served. */
Test(kv_server, a_full_pool_of_waiting_writes_refuses_a_newcomer)
{
	struct fconn *f[4];

	for (int i = 0; i < 4; i++) {
		f[i] = connect_(i, SIZE_MAX);
		send_str(f[i], "SET k v\r\n");
		cr_assert_eq(f[i]->out_len, 0, "the reply waits on the write");
	}
	cr_assert_eq(core.clients, 4);
	struct fconn *late = connect_(4, SIZE_MAX);
	cr_assert(late->aborted, "the newcomer is reset");
	cr_assert_eq(core.rejected, 1);
	cr_assert_eq(core.clients, 4, "a refused client is not counted");
	cr_assert_eq(core.connections, 4);
	for (int i = 0; i < 4; i++) {
		run_until_out(f[i], 5);
		cr_assert(!f[i]->aborted);
	}
}
