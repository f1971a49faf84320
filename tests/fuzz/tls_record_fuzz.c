/* The TLS server engine (net/tls, BearSSL) fed untrusted bytes through
 * duet/tls.h: one connection over the fake stack of httpd's tests, whose
 * records come from the input in pieces of any size, with the send window
 * opening and closing and time passing between them. The app echoes what
 * it gets. Properties: nothing crashes or hangs, the connection ends
 * (closed or reset) and once the peer is gone every connection's memory is
 * back (no leak whatever the input did).
 *
 * Input: actions, each an op byte and its operands:
 *   op % 4 == 0  bytes: a u16 length, then that many bytes from the peer
 *   op % 4 == 1  the send window: a u16 (0: full, 0xffff: unlimited)
 *   op % 4 == 2  the window frees up (`writable`)
 *   op % 4 == 3  time passes: a u8, in 100 ms
 * Seeds (tests/fuzz/corpus/tls_record/): a real ClientHello, one for TLS
 * 1.0, plain HTTP, an oversize record. */
#include <duet/error.h>
#include <duet/log.h>
#include <duet/net_stack.h>
#include <duet/sys.h>
#include <duet/tls.h>

#include "fuzz.h"
#include "net_fakestack.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct fconn conn;
static char *cert, *key;
static size_t cert_len, key_len;
static struct duet_tcp *app; /* the TLS connection the app holds */

static void stop_cb(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(loop, 0);
}

static void run_for(duet_time_t d)
{
	struct duet_timer end;

	duet_timer_init(loop, &end, stop_cb, NULL);
	duet_timer_start(&end, d, 0);
	duet_loop_run(loop);
	duet_timer_stop(&end);
}

static void app_recv(struct duet_tcp *c, const void *data, size_t len,
		     void *arg)
{
	(void)arg;
	if (len == 0) {
		duet_tcp_close(c);
		app = NULL;
		return;
	}
	(void)duet_tcp_send(c, data, len); /* -EAGAIN: dropped, fine */
}

static void app_writable(struct duet_tcp *c, void *arg)
{
	(void)arg;
	(void)duet_tcp_send(c, "ok", 2);
}

static void app_error(struct duet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)arg;
	FUZZ_CHECK(err < 0);
	app = NULL;
}

static const struct duet_tcp_callbacks app_cbs = {
    .recv = app_recv, .writable = app_writable, .error = app_error};

static void on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	(void)l;
	(void)arg;
	app = c;
	duet_tcp_set_callbacks(c, &app_cbs, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct duet_tls_config cfg = {0};
	struct duet_stack *tls;
	struct duet_tcp *listener;
	struct duet_sockaddr addr;
	struct duet_tls_stats st;
	static const char *const alpn[] = {"http/1.1"};

	fakeplat_reset();
	duet_log_set_level(DUET_LOG_ERROR);
	duet_sys_init(&sys, NULL);
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	fstack.loop = loop;
	if (cert == NULL)
		FUZZ_CHECK(duet_tls_selfsigned("localhost", &cert, &cert_len,
					       &key, &key_len) == 0);
	cfg.cert_pem = cert;
	cfg.cert_pem_len = cert_len;
	cfg.key_pem = key;
	cfg.key_pem_len = key_len;
	cfg.alpn = alpn;
	cfg.alpn_count = 1;
	cfg.session_cache = 4;
	FUZZ_CHECK(duet_tls_open(&fstack, &cfg, &tls) == 0);
	FUZZ_CHECK(duet_sockaddr_parse("127.0.0.1:443", &addr) == 0);
	FUZZ_CHECK(duet_tcp_listen(tls, &addr, 0, on_accept, NULL, &listener) ==
		   0);

	free(conn.out);
	memset(&conn, 0, sizeof(conn));
	conn.base.stack = &fstack;
	conn.space = SIZE_MAX;
	app = NULL;
	accept_cb(&flistener, &conn.base, accept_arg);
	FUZZ_CHECK(app != NULL);

	while (fuzz_more(&in) && !conn.closed && !conn.aborted) {
		uint8_t op = fuzz_u8(&in);
		switch (op % 4) {
		case 0: {
			size_t n = fuzz_u16(&in);
			if (n > in.left)
				n = in.left;
			if (n > 0 && !conn.paused)
				duet_tcp_deliver_recv(&conn.base, in.p, n);
			in.p += n;
			in.left -= n;
			break;
		}
		case 1: {
			uint16_t w = fuzz_u16(&in);
			conn.space = w == 0xffff ? SIZE_MAX : w;
			break;
		}
		case 2:
			if (conn.space == 0)
				conn.space = 4096;
			duet_tcp_deliver_writable(&conn.base);
			break;
		default: run_for(DUET_MSEC(100) * fuzz_u8(&in)); break;
		}
		run_for(DUET_MSEC(1));
	}
	/* The peer goes away; the server lets go within its linger time. */
	conn.space = SIZE_MAX;
	if (!conn.closed && !conn.aborted) {
		duet_tcp_deliver_writable(&conn.base);
		duet_tcp_deliver_recv(&conn.base, NULL, 0);
	}
	run_for(DUET_SEC(11));
	if (app != NULL) {
		duet_tcp_close(app);
		app = NULL;
		if (!conn.closed && !conn.aborted)
			duet_tcp_deliver_recv(&conn.base, NULL, 0);
		run_for(DUET_SEC(11));
	}
	duet_tls_stats(tls, &st);
	FUZZ_CHECK(st.open == 0);
	FUZZ_CHECK(conn.closed || conn.aborted);
	duet_tcp_close(listener);
	duet_tls_close(tls);
	return 0;
}
