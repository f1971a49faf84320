/* TLS through duet/tls.h: a server and a client TLS stack over the two
 * lwIP stacks of tests/unit/lwip_testenv.h (real TCP over an in-memory
 * wire, on the virtual clock), and a plain TCP client feeding the server
 * records that are not what they should be. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/net.h>
#include <duet/tls.h>

#include "fakeplat.h"
#include "lwip_testenv.h"
#include "stream_end.h"

static const char *const alpn[] = {"http/1.1"};
static char *cert, *key;
static size_t cert_len, key_len;
static struct duet_stack *server, *client;
static struct duet_tcp *listener;

/* Everything a test made goes, so that a leak in the module shows. */
static void teardown(void)
{
	if (listener != NULL)
		duet_tcp_close(listener);
	if (server != NULL)
		duet_tls_close(server);
	if (client != NULL)
		duet_tls_close(client);
	free(cert);
	free(key);
	lwip_env_teardown();
}

TestSuite(tls, .init = lwip_env_setup, .fini = teardown, .timeout = 120);

static void make_stacks(void)
{
	struct duet_tls_config scfg = {0}, ccfg = {0};

	duet_log_set_level(DUET_LOG_DEBUG);

	cr_assert_eq(
	    duet_tls_selfsigned("localhost", &cert, &cert_len, &key, &key_len),
	    0);
	scfg.cert_pem = cert;
	scfg.cert_pem_len = cert_len;
	scfg.key_pem = key;
	scfg.key_pem_len = key_len;
	scfg.alpn = alpn;
	scfg.alpn_count = 1;
	cr_assert_eq(duet_tls_open(env.b, &scfg, &server), 0);
	ccfg.peer_cert_pem = cert;
	ccfg.peer_cert_pem_len = cert_len;
	ccfg.alpn = alpn;
	ccfg.alpn_count = 1;
	cr_assert_eq(duet_tls_open(env.a, &ccfg, &client), 0);
}

static void listen_tls(void)
{
	struct duet_sockaddr a = lwip_env_addr("0.0.0.0:443");
	cr_assert_eq(duet_tcp_listen(server, &a, 0, on_accept, NULL, &listener),
		     0);
}

static void connect_tls(struct end *e)
{
	struct duet_sockaddr a = lwip_env_addr("10.0.0.2:443");
	in_call = true;
	int r = duet_tcp_connect(client, &a, &cbs, e, &e->c);
	in_call = false;
	cr_assert_eq(r, 0, "connect: %s", duet_strerror(r));
}

/* Which server end the client of both_received() talks to. */
static unsigned peer_index;

static bool both_received(void *arg)
{
	struct end *e = arg;
	struct end *s = &servers[peer_index];
	bool up = accepted > peer_index;
	return (up && s->received == e->to_send && e->received == s->to_send) ||
	       e->err != 0 || (up && s->err != 0);
}

Test(tls, handshake_and_data_both_ways)
{
	struct end a = {.tx_seed = 1, .rx_seed = 2, .to_send = 300000};
	struct duet_tls_info info;

	make_stacks();
	server_template =
	    (struct end){.tx_seed = 2, .rx_seed = 1, .to_send = 200000};
	listen_tls();
	connect_tls(&a);
	cr_assert(lwip_env_run(both_received, &a, DUET_SEC(30)));
	cr_assert_eq(a.err, 0, "client: %s", duet_strerror(a.err));
	cr_assert_eq(servers[0].err, 0);
	cr_assert(a.connected);
	cr_assert(!a.corrupt && !servers[0].corrupt);
	cr_assert_eq(servers[0].received, 300000);
	cr_assert_eq(a.received, 200000);
	cr_assert(!reentered, "a callback ran inside the call that caused it");

	cr_assert_eq(duet_tls_info(servers[0].c, &info), 0);
	cr_assert_eq(info.version, 0x0303);
	cr_assert_eq(info.cipher_suite, 0xC02B); /* ECDHE-ECDSA-AES128-GCM */
	cr_assert_str_eq(info.alpn, "http/1.1");
	cr_assert(!info.resumed);
	cr_assert_eq(duet_tls_info(a.c, &info), 0);
	cr_assert_str_eq(info.alpn, "http/1.1");
}

static bool server_got_some(void *arg)
{
	(void)arg;
	return accepted > 0 && servers[0].received > 0;
}

Test(tls, pause_stops_recv_and_the_sender_then_resume_delivers_all)
{
	struct end a = {.tx_seed = 5, .rx_seed = 6, .to_send = 2000000};

	make_stacks();
	server_template =
	    (struct end){.tx_seed = 6, .rx_seed = 5, .pause_after = 1};
	listen_tls();
	connect_tls(&a);
	cr_assert(lwip_env_run(server_got_some, NULL, DUET_SEC(30)));
	lwip_env_run_for(DUET_SEC(2));
	uint64_t got = servers[0].received, sent = a.sent;
	unsigned calls = servers[0].recv_calls;
	lwip_env_run_for(DUET_SEC(5));
	cr_assert_eq(servers[0].recv_calls, calls, "recv while paused");
	cr_assert_eq(servers[0].received, got);
	/* The engine holds a record, the TCP window closes: the sender
	 * stops short of its 2 MB. */
	cr_assert_eq(a.sent, sent, "the sender went on while paused");
	cr_assert_lt(a.sent, 2000000, "sent %llu, received %llu, queued %zu",
		     (unsigned long long)a.sent, (unsigned long long)got,
		     duet_tcp_send_queued(a.c));
	in_call = true;
	duet_tcp_resume(servers[0].c);
	in_call = false;
	cr_assert_eq(servers[0].recv_calls, calls, "recv inside resume");
	cr_assert(lwip_env_run(both_received, &a, DUET_SEC(60)));
	cr_assert_eq(servers[0].received, 2000000);
	cr_assert(!servers[0].corrupt);
	cr_assert(!reentered);
}

static bool client_eof(void *arg)
{
	struct end *e = arg;
	return e->eof || e->err != 0;
}

Test(tls, close_sends_close_notify_and_peer_sees_the_end)
{
	struct end a = {.tx_seed = 1, .rx_seed = 2, .to_send = 1000};

	make_stacks();
	server_template =
	    (struct end){.tx_seed = 2, .rx_seed = 1, .to_send = 5000};
	listen_tls();
	connect_tls(&a);
	cr_assert(lwip_env_run(both_received, &a, DUET_SEC(30)));
	in_call = true;
	duet_tcp_close(servers[0].c);
	in_call = false;
	servers[0].c = NULL;
	cr_assert(lwip_env_run(client_eof, &a, DUET_SEC(30)));
	cr_assert(a.eof && a.err == 0, "err %d; log:\n%s", a.err,
		  fakeplat_console());
	cr_assert_eq(a.received, 5000, "data queued before close was lost");
	duet_tcp_close(a.c);
	lwip_env_run_for(DUET_SEC(2));
	struct duet_tls_stats st;
	duet_tls_stats(server, &st);
	cr_assert_eq(st.open, 0, "the closed connection kept its memory");
	cr_assert(!reentered);
}

Test(tls, second_connection_resumes_the_session)
{
	struct end a = {.tx_seed = 1, .rx_seed = 2, .to_send = 100};
	struct end b = {.tx_seed = 1, .rx_seed = 2, .to_send = 100};
	struct duet_tls_info info;
	struct duet_tls_stats st;

	make_stacks();
	server_template = (struct end){
	    .tx_seed = 2, .rx_seed = 1, .to_send = 100, .close_when_eof = true};
	listen_tls();
	connect_tls(&a);
	cr_assert(lwip_env_run(both_received, &a, DUET_SEC(30)));
	duet_tcp_close(a.c);
	lwip_env_run_for(DUET_SEC(1));
	peer_index = 1;
	connect_tls(&b);
	cr_assert(lwip_env_run(both_received, &b, DUET_SEC(30)));
	cr_assert(b.connected, "no second handshake");
	cr_assert_eq(duet_tls_info(b.c, &info), 0);
	cr_assert(info.resumed, "the client did not resume");
	duet_tls_stats(server, &st);
	cr_assert_eq(st.handshakes, 2);
	cr_assert_eq(st.resumed, 1);
}

Test(tls, weak_entropy_refuses_to_open)
{
	struct duet_tls_config cfg = {0};
	struct duet_stack *s = NULL;

	make_stacks();
	cfg.cert_pem = cert;
	cfg.cert_pem_len = cert_len;
	cfg.key_pem = key;
	cfg.key_pem_len = key_len;
	fakeplat_set_entropy_weak(true);
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -ENOTSUP);
	cr_assert_null(s);
	cr_assert_not_null(strstr(fakeplat_console(), "not fit for keys"));
	char *c2, *k2;
	size_t l1, l2;
	cr_assert_eq(duet_tls_selfsigned("x", &c2, &l1, &k2, &l2), -ENOTSUP);
	/* Back to strong: the stacks made above go in teardown. */
	fakeplat_set_entropy_weak(false);
}

Test(tls, bad_credentials_are_refused)
{
	struct duet_tls_config cfg = {0};
	struct duet_stack *s = NULL;
	char *cert2, *key2;
	size_t c2, k2;

	make_stacks();
	cr_assert_eq(duet_tls_selfsigned("other", &cert2, &c2, &key2, &k2), 0);
	/* Another certificate's key. */
	cfg.cert_pem = cert;
	cfg.cert_pem_len = cert_len;
	cfg.key_pem = key2;
	cfg.key_pem_len = k2;
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -EINVAL);
	cr_assert_not_null(strstr(fakeplat_console(), "does not match"));
	/* Not PEM at all, a truncated PEM, a key where the chain goes. */
	cfg.key_pem = key;
	cfg.key_pem_len = key_len;
	cfg.cert_pem = "hello";
	cfg.cert_pem_len = 5;
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -EINVAL);
	cfg.cert_pem = cert;
	cfg.cert_pem_len = cert_len / 2;
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -EINVAL);
	/* A block with no bytes in it (the tls_creds fuzz target's find:
	 * an empty object reached a copy of nothing). */
	static const char empty[] = "-----BEGIN CERTIFICATE-----\n"
				    "-----END CERTIFICATE-----\n";
	cfg.cert_pem = empty;
	cfg.cert_pem_len = sizeof(empty) - 1;
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -EINVAL);
	cfg.cert_pem = key;
	cfg.cert_pem_len = key_len;
	cr_assert_eq(duet_tls_open(env.b, &cfg, &s), -EINVAL);
	cr_assert_null(s);
	free(cert2);
	free(key2);
}

/* ------------------------------------------- records that are wrong */

struct raw {
	struct duet_tcp *c;
	const void *send;
	size_t send_len;
	uint8_t got[256];
	size_t got_len;
	bool connected, eof;
	int err;
};

static void raw_recv(struct duet_tcp *c, const void *data, size_t len,
		     void *arg)
{
	struct raw *r = arg;
	(void)c;
	if (len == 0) {
		r->eof = true;
		return;
	}
	size_t n = len < sizeof(r->got) - r->got_len
		       ? len
		       : sizeof(r->got) - r->got_len;
	memcpy(r->got + r->got_len, data, n);
	r->got_len += n;
}

static void raw_error(struct duet_tcp *c, int err, void *arg)
{
	struct raw *r = arg;
	(void)c;
	r->err = err;
	r->c = NULL;
}

static void raw_connected(struct duet_tcp *c, void *arg)
{
	struct raw *r = arg;
	r->connected = true;
	cr_assert_eq(duet_tcp_send(c, r->send, r->send_len), (long)r->send_len);
}

static const struct duet_tcp_callbacks raw_cbs = {
    .recv = raw_recv, .error = raw_error, .connected = raw_connected};

static bool raw_ended(void *arg)
{
	struct raw *r = arg;
	return r->eof || r->err != 0;
}

/* Sends bytes on plain TCP to the TLS server; returns the alert byte it
 * answered with (-1 for none) once the server ended the connection. */
static int alert_for(const void *bytes, size_t len)
{
	struct duet_sockaddr a = lwip_env_addr("10.0.0.2:443");
	struct raw r = {.send = bytes, .send_len = len};

	cr_assert_eq(duet_tcp_connect(env.a, &a, &raw_cbs, &r, &r.c), 0);
	cr_assert(lwip_env_run(raw_ended, &r, DUET_SEC(30)),
		  "the server kept a bad connection open");
	if (r.c != NULL)
		duet_tcp_close(r.c);
	/* An alert record: type 21, version 3.x (never BearSSL's 0.0, which
	 * clients refuse to read), length 2, level fatal. */
	for (size_t i = 0; i + 7 <= r.got_len; i++)
		if (r.got[i] == 21 && r.got[i + 1] == 3 && r.got[i + 3] == 0 &&
		    r.got[i + 4] == 2 && r.got[i + 5] == 2)
			return r.got[i + 6];
	return -1;
}

/* After any abuse the server still serves a real client. */
static void still_serves(void)
{
	struct end a = {.tx_seed = 1, .rx_seed = 2, .to_send = 10};
	unsigned before = accepted;

	server_template =
	    (struct end){.tx_seed = 2, .rx_seed = 1, .to_send = 10};
	peer_index = before;
	connect_tls(&a);
	cr_assert(lwip_env_run(both_received, &a, DUET_SEC(30)));
	cr_assert(a.connected && a.received == 10 && a.err == 0,
		  "connected %d received %llu err %d; log:\n%s", a.connected,
		  (unsigned long long)a.received, a.err, fakeplat_console());
	cr_assert_eq(accepted, before + 1);
}

Test(tls, garbage_before_the_client_hello_gets_an_alert)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	make_stacks();
	listen_tls();
	int alert = alert_for(get, sizeof(get) - 1);
	cr_assert(alert == 10 || alert == 70 || alert == 50,
		  "alert %d for plain HTTP", alert);
	for (unsigned i = 0; i < accepted; i++)
		cr_assert_eq(servers[i].err, -EPROTO);
	still_serves();
	struct duet_tls_stats st;
	duet_tls_stats(server, &st);
	cr_assert_eq(st.failed, 1);
}

Test(tls, oversize_record_gets_record_overflow)
{
	/* A handshake record header claiming 18 KiB, then its bytes. */
	static uint8_t big[5 + 18432] = {22, 3, 3, 0x48, 0x00};

	make_stacks();
	listen_tls();
	int alert = alert_for(big, sizeof(big));
	cr_assert(alert == 22 || alert == 50, "alert %d", alert);
	still_serves();
}

Test(tls, truncated_record_then_fin_ends_the_connection)
{
	/* A ClientHello record header and half of what it announces. */
	static const uint8_t part[] = {22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3};

	make_stacks();
	listen_tls();
	struct duet_sockaddr a = lwip_env_addr("10.0.0.2:443");
	struct raw r = {.send = part, .send_len = sizeof(part)};
	cr_assert_eq(duet_tcp_connect(env.a, &a, &raw_cbs, &r, &r.c), 0);
	lwip_env_run_for(DUET_SEC(1));
	cr_assert(r.connected);
	duet_tcp_shutdown(r.c);
	cr_assert(lwip_env_run(raw_ended, &r, DUET_SEC(30)));
	cr_assert_eq(accepted, 1);
	cr_assert(servers[0].eof || servers[0].err != 0);
	still_serves();
}

Test(tls, tls10_client_hello_gets_protocol_version)
{
	/* A minimal TLS 1.0 ClientHello: zero random, no session, one
	 * suite, null compression, no extensions. */
	static const uint8_t head[] = {22, 3, 1, 0, 45, 1, 0, 0, 41, 3, 1};
	uint8_t hello[50] = {0};
	memcpy(hello, head, sizeof(head));
	hello[45] = 2;
	hello[46] = 0xc0;
	hello[47] = 0x13;
	hello[48] = 1;

	make_stacks();
	listen_tls();
	int alert = alert_for(hello, sizeof(hello));
	cr_assert(alert == 70, "alert %d for a TLS 1.0 hello", alert);
	still_serves();
}

Test(tls, drbg_reseeds_from_the_platform_every_1024_connections)
{
	static const uint8_t junk[] = {0x47, 0x45, 0x54, 0x20, 0x2f};
	struct duet_tls_stats st;

	make_stacks();
	duet_log_set_level(DUET_LOG_WARN); /* the console holds 64 KiB */
	listen_tls();
	for (unsigned i = 0; i < DUET_TLS_RESEED_CONNS + 2; i++) {
		accepted = 0; /* the ends are not looked at here */
		(void)alert_for(junk, sizeof(junk));
	}
	duet_tls_stats(server, &st);
	cr_assert_eq(st.reseeds, 1, "%llu reseeds after %u connections",
		     st.reseeds, DUET_TLS_RESEED_CONNS + 2);
	/* A reseed needs the strong source too: with none, connections are
	 * refused (reset) rather than keyed from a stale state. */
	fakeplat_set_entropy_weak(true);
	for (unsigned i = 0; i < DUET_TLS_RESEED_CONNS; i++) {
		accepted = 0;
		(void)alert_for(junk, sizeof(junk));
	}
	duet_tls_stats(server, &st);
	cr_assert_eq(st.reseeds, 1);
	cr_assert_not_null(strstr(fakeplat_console(), "not fit for keys"));
	fakeplat_set_entropy_weak(false);
}
