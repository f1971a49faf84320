/* httpd's limits (tests/unit/http_server_fixture.h): the idle, request
 * and send timeouts on the virtual clock, and the connection pool's
 * evictions and refusals. */
#include "http_server_fixture.h"

Test(httpd, linger_ends_after_timeout)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.0\r\n\r\n");
	cr_assert(f->shut);
	cr_assert_not(f->closed);
	run_for(DUET_SEC(3));
	cr_assert(f->closed);
}

Test(httpd, unfinished_chunked_body_gets_408)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n5\r\nab");
	cr_assert_eq(count(f->out, "200 OK"), 1);
	run_for(DUET_SEC(1));
	send_str(f, "c");
	run_for(DUET_SEC(2) + DUET_MSEC(100));
	cr_assert_eq(count(f->out, "HTTP/1.1 408"), 1, "%s", f->out);
}

Test(httpd, idle_connection_closed_after_idle_timeout)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(DUET_SEC(4));
	cr_assert_not(f->closed);
	run_for(DUET_SEC(2));
	cr_assert(f->closed, "idle for 5 s");
}

Test(httpd, slow_request_gets_408)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\n");
	run_for(DUET_SEC(1));
	send_str(f, "Host: x\r\n");
	run_for(DUET_SEC(1));
	cr_assert_eq(f->out_len, 0);
	run_for(DUET_MSEC(1500));
	cr_assert(strncmp(f->out, "HTTP/1.1 408 Request Timeout", 28) == 0);
	cr_assert(f->shut);
}

Test(httpd, stalled_send_is_reset)
{
	struct fconn *f = connect_(0);
	f->space = 0;
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(DUET_SEC(6));
	cr_assert(f->aborted);
}

Test(httpd, full_pool_evicts_the_least_progressed_for_a_newcomer)
{
	restart(2, 0);
	struct fconn *a = connect_(0), *b = connect_(1);
	send_str(b, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	struct fconn *c = connect_(2);
	cr_assert(a->aborted, "the silent, oldest connection made room");
	cr_assert_not(b->aborted || c->aborted);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 2);
	send_str(c, "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(c->out, "200 OK") != NULL);
	cr_assert_eq(srv.tcp.pool.stats.evicted[DUET_EVICT_FULL_IDLE], 1);
}

Test(httpd, trickling_clients_cannot_hold_the_pool)
{
	restart(4, 0);
	for (int i = 0; i < 4; i++)
		send_str(connect_(i), "GET / HTTP/1.1\r\nX-");
	struct fconn *probe = &conns[4];
	for (int i = 0; i < 4; i++)
		cr_assert_not(conns[i].aborted);
	connect_(4);
	cr_assert(conns[0].aborted, "the oldest incomplete request made room");
	send_str(probe, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(probe->out, "200 OK") != NULL);
	cr_assert_eq(srv.tcp.pool.stats.evicted[DUET_EVICT_FULL_PARTIAL], 1);
	/* Bytes every second do not extend request_timeout (3 s). */
	for (int s = 0; s < 3; s++) {
		for (int i = 1; i < 4; i++)
			send_str(&conns[i], "a");
		run_for(DUET_MSEC(990));
	}
	run_for(DUET_MSEC(100));
	for (int i = 1; i < 4; i++)
		cr_assert(strstr(conns[i].out, "408") != NULL, "conn %d", i);
}

Test(httpd, full_pool_of_busy_connections_refuses)
{
	restart(2, 0);
	for (int i = 0; i < 2; i++) {
		struct fconn *f = connect_(i);
		f->space = 0; /* the response stays in flight */
		send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	}
	struct fconn *f = connect_(2);
	cr_assert(f->aborted);
	cr_assert_not(conns[0].aborted || conns[1].aborted);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 2);
	cr_assert_eq(srv.tcp.pool.stats.refused_busy, 1);
}

Test(httpd, a_peer_over_its_share_evicts_its_own)
{
	restart(8, 2); /* every fake connection comes from 127.0.0.1 */
	connect_(0);
	connect_(1);
	connect_(2);
	cr_assert(conns[0].aborted);
	cr_assert_not(conns[1].aborted || conns[2].aborted);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 2);
	cr_assert_eq(srv.tcp.pool.stats.evicted[DUET_EVICT_PEER], 1);
}

Test(httpd, silent_connection_closed_after_idle_timeout)
{
	struct fconn *f = connect_(0);
	run_for(DUET_MSEC(4900));
	cr_assert_not(f->closed);
	run_for(DUET_MSEC(200));
	cr_assert(f->closed);
}

Test(httpd, stop_logs_the_pool_counters)
{
	restart(1, 0);
	connect_(0);
	connect_(1);
	httpd_stop(&srv, NULL, NULL);
	cr_assert(strstr(fakeplat_console(),
			 "httpd: connections: 2 admitted, at most 1 at once; "
			 "ended: 0 idle, 0 slow request, 1 pool full, idle") !=
		      NULL,
		  "%s", fakeplat_console());
}
