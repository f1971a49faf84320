/* httpd's server logic against a fake network stack on the virtual clock:
 * responses, keep-alive, pipelining order, conditional requests,
 * backpressure, pausing, timeouts, the connection limit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/sys.h>

#include "conn.h"
#include "fakeplat.h"
#include "files.h"
#include "net_fakestack.h"
#include "response.h"
#include "server.h"

/* ------------------------------------------------------------ fixtures */

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct httpd srv;
static struct httpd_config cfg;
static struct httpd_table table;
static uint8_t big_file[20000];
static struct fconn conns[8];

/* files.c wants the embedded site; the tests use their own. */
static const uint8_t site_index[] = "<h1>hi</h1>\n";
const struct httpd_embedded httpd_site[] = {
    {"/index.html", site_index, sizeof(site_index) - 1},
};
const size_t httpd_site_count = 1;

static void start(void)
{
	struct httpd_source src;

	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	duet_net_set_stack(loop, &fstack);
	memset(big_file, 'z', sizeof(big_file));
	httpd_table_init(&table);
	cr_assert_eq(httpd_table_add_site(&table), 0);
	cr_assert_eq(httpd_table_add(&table, "/a.txt", (const uint8_t *)"A", 1),
		     0);
	cr_assert_eq(
	    httpd_table_add(&table, "/b.css", (const uint8_t *)"BB", 2), 0);
	cr_assert_eq(
	    httpd_table_add(&table, "/big.bin", big_file, sizeof(big_file)), 0);
	httpd_table_source(&table, &src);
	httpd_config_default(&cfg);
	cfg.idle_timeout = DUET_SEC(5);
	cfg.request_timeout = DUET_SEC(3);
	memset(conns, 0, sizeof(conns));
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
}

static void finish(void)
{
	httpd_stop(&srv, NULL, NULL);
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		free(conns[i].out);
}

TestSuite(httpd, .init = start, .fini = finish);

static struct fconn *connect_(int i)
{
	struct fconn *f = &conns[i];
	f->base.stack = &fstack;
	f->space = SIZE_MAX;
	f->port = (uint16_t)(5000 + i);
	accept_cb(&flistener, &f->base, accept_arg);
	return f;
}

static void send_str(struct fconn *f, const char *s)
{
	duet_tcp_deliver_recv(&f->base, s, strlen(s));
}

static void run_for(duet_time_t d)
{
	fakeplat_run_for(loop, d);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL;
	     p++)
		n++;
	return n;
}

/* --------------------------------------------------------------- tests */

Test(httpd, date_is_imf_fixdate)
{
	char buf[32];
	httpd_format_date(784111777, buf);
	cr_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	httpd_format_date(951782400, buf);
	cr_assert_str_eq(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
	httpd_format_date(0, buf);
	cr_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}

Test(httpd, get_index_headers_and_body)
{
	struct fconn *f = connect_(0);
	char date[32];

	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s",
		  f->out);
	cr_assert(strstr(f->out, "\r\nContent-Length: 12\r\n") != NULL);
	cr_assert(
	    strstr(f->out, "\r\nContent-Type: text/html; charset=utf-8\r\n") !=
	    NULL);
	cr_assert(strstr(f->out, "\r\nETag: \"") != NULL);
	httpd_format_date(duet_clock_wall() / DUET_NSEC_PER_SEC, date);
	cr_assert(strstr(f->out, date) != NULL, "Date from the wall clock");
	cr_assert(strstr(f->out, "\r\n\r\n<h1>hi</h1>\n") != NULL);
	cr_assert_not(f->closed || f->shut, "keep-alive by default");
	cr_assert(strstr(fakeplat_console(),
			 "httpd: 127.0.0.1:5000 \"GET / HTTP/1.1\" 200 12") !=
		      NULL,
		  "%s", fakeplat_console());
}

Test(httpd, keep_alive_serves_several_requests)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(f, "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1 200 OK"), 2);
	cr_assert(strstr(f->out, "text/css") != NULL);
	cr_assert_not(f->closed || f->shut);
}

Test(httpd, pipelined_responses_in_order)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	char *b = strstr(f->out, "\r\n\r\nBB");
	char *n = strstr(f->out, "404 Not Found\r\n");
	char *a = strstr(f->out, "\r\n\r\nA");
	cr_assert(b && n && a && b < n && n < a, "%s", f->out);
}

Test(httpd, split_request_byte_by_byte)
{
	struct fconn *f = connect_(0);
	const char *s = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	for (size_t i = 0; s[i] != '\0'; i++) {
		cr_assert_eq(f->out_len, 0);
		duet_tcp_deliver_recv(&f->base, s + i, 1);
	}
	cr_assert_eq(count(f->out, "200 OK"), 1);
}

Test(httpd, if_none_match_gives_304)
{
	struct fconn *f = connect_(0);
	char req[256], etag[32];

	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(sscanf(strstr(f->out, "ETag: "), "ETag: %31s", etag), 1);
	f->out_len = 0;
	snprintf(req, sizeof(req),
		 "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\", "
		 "%s\r\n\r\n",
		 etag);
	send_str(f, req);
	cr_assert(strncmp(f->out, "HTTP/1.1 304 Not Modified\r\n", 27) == 0,
		  "%s", f->out);
	cr_assert(strstr(f->out, etag) != NULL);
	cr_assert_null(strstr(f->out, "Content-Length"));
	cr_assert(strcmp(f->out + f->out_len - 4, "\r\n\r\n") == 0, "no body");
	f->out_len = 0;
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
		    "\"other\"\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK", 15) == 0);
}

Test(httpd, head_has_length_but_no_body)
{
	struct fconn *f = connect_(0);
	send_str(f, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "Content-Length: 20000\r\n") != NULL);
	cr_assert(strcmp(f->out + f->out_len - 4, "\r\n\r\n") == 0, "no body");
}

Test(httpd, not_found_and_method_not_allowed)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	f->out_len = 0;
	send_str(f, "POST / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) ==
		  0);
	cr_assert(strstr(f->out, "\r\nAllow: GET, HEAD\r\n") != NULL);
	cr_assert_not(f->closed || f->shut, "404 and 405 keep the connection");
}

Test(httpd, bad_request_answers_400_and_closes)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\nGET / "
		    "HTTP/1.1\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	cr_assert(strstr(f->out, "Connection: close\r\n") != NULL);
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "nothing after the error");
	cr_assert(f->shut, "FIN after the response");
	duet_tcp_deliver_recv(&f->base, "", 0);
	cr_assert(f->closed);
}

Test(httpd, connection_close_and_http10)
{
	struct fconn *f = connect_(0);
	send_str(f,
		 "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert(strstr(f->out, "Connection: close") != NULL);
	cr_assert(f->shut);

	struct fconn *g = connect_(1);
	send_str(g, "GET /a.txt HTTP/1.0\r\n\r\n");
	cr_assert(strstr(g->out, "Connection: close") != NULL);
	cr_assert(g->shut);

	struct fconn *h = connect_(2);
	send_str(h, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert(strstr(h->out, "Connection: keep-alive") != NULL);
	cr_assert_not(h->shut);
}

Test(httpd, linger_ends_after_timeout)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.0\r\n\r\n");
	cr_assert(f->shut);
	cr_assert_not(f->closed);
	run_for(DUET_SEC(3));
	cr_assert(f->closed);
}

Test(httpd, body_of_get_is_skipped)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: "
		    "10\r\n\r\n01234");
	send_str(f, "56789GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(count(f->out, "200 OK"), 2, "%s", f->out);
}

Test(httpd, chunked_body_of_get_is_parsed_and_skipped)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n5\r\nGET /");
	cr_assert_eq(count(f->out, "200 OK"), 1, "%s", f->out);
	/* The body goes on across receives; what looks like a request
	 * inside it is data. */
	send_str(f, "\r\n3;ext=1\r\nGET\r\n0\r\nTrailer: x\r\n\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "%s", f->out);
	send_str(f, "HEAD /b.css HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n0\r\n\r\nGET /b.css HTTP/1.1\r\nHost: "
		    "x\r\n\r\n");
	cr_assert_eq(count(f->out, "200 OK"), 3, "%s", f->out);
	cr_assert_not(f->closed || f->shut || f->aborted);
}

Test(httpd, malformed_chunked_body_answers_400_and_closes)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n");
	send_str(f, "zz\r\nGET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1 200 OK"), 1, "%s", f->out);
	cr_assert_eq(count(f->out, "HTTP/1.1 400 Bad Request"), 1, "%s",
		     f->out);
	cr_assert_eq(count(f->out, "HTTP/1.1"), 2, "nothing after the error");
	cr_assert(f->shut);
}

Test(httpd, oversize_chunked_body_is_413)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\nf");
	send_str(f, "ff");
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "a size of 4095 fits");
	send_str(f, "f\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1 413"), 1, "%s", f->out);
	cr_assert(f->shut);
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

Test(httpd, percent_encoded_paths_name_files)
{
	cr_assert_eq(
	    httpd_table_add(&table, "/a b.txt", (const uint8_t *)"space", 5),
	    0);
	cr_assert_eq(httpd_table_add(&table, "/caf\xc3\xa9 100%?#.txt",
				     (const uint8_t *)"odd", 3),
		     0);
	struct fconn *f = connect_(0);
	send_str(f, "GET /a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nspace"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /caf%C3%A9%20100%25%3F%23.txt?q=1 HTTP/1.1\r\nHost: "
		    "x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nodd"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /%69ndex.html HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "<h1>hi</h1>"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /x/%2e%2e/../b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nBB"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /a%2Fb.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 400", 12) == 0, "%s", f->out);
}

Test(httpd, invalid_host_is_400)
{
	const char *bad[] = {"a b", "local/host", ""};
	for (int i = 0; i < 3; i++) {
		struct fconn *f = connect_(i);
		char req[128];
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
			 bad[i]);
		send_str(f, req);
		cr_assert(strncmp(f->out, "HTTP/1.1 400", 12) == 0, "%s: %s",
			  bad[i], f->out);
		cr_assert(f->shut);
	}
}

Test(httpd, backpressure_resumes_from_offset)
{
	struct fconn *f = connect_(0);
	f->space = 1000;
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(f->out_len, 1000);
	for (int i = 0; i < 100 && f->space == 0; i++) {
		f->space = 3000;
		duet_tcp_deliver_writable(&f->base);
	}
	f->space = SIZE_MAX;
	duet_tcp_deliver_writable(&f->base);
	char *body = strstr(f->out, "\r\n\r\n") + 4;
	size_t n = f->out_len - (size_t)(body - f->out);
	cr_assert_eq(n, sizeof(big_file));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(body[i], 'z');
}

Test(httpd, full_queue_pauses_reading)
{
	struct fconn *f = connect_(0);
	char reqs[4096] = "";

	f->space = 0;
	for (int i = 0; i < 20; i++)
		strcat(reqs, i % 2 ? "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
				   : "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(f, reqs);
	cr_assert(f->paused, "queue full: reading paused");
	cr_assert_eq(f->out_len, 0);
	f->space = SIZE_MAX;
	duet_tcp_deliver_writable(&f->base);
	cr_assert_eq(count(f->out, "200 OK"), 20);
	cr_assert_not(f->paused);
	cr_assert_geq(f->resumes, 1);
	/* In order: BB, A, BB, A, ... */
	const char *p = f->out;
	for (int i = 0; i < 20; i++) {
		p = strstr(p, "\r\n\r\n") + 4;
		cr_assert_eq(*p, i % 2 ? 'A' : 'B', "response %d", i);
	}
}

Test(httpd, pipeline_larger_than_the_buffer_waits_in_order)
{
	struct fconn *f = connect_(0);
	static char reqs[40000];
	size_t n = 0;

	f->space = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(reqs + n, sizeof(reqs) - n,
				      "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n",
				      i % 2 ? "a.txt" : "b.css");
	duet_tcp_deliver_recv(&f->base, reqs, n);
	duet_tcp_deliver_recv(&f->base, "", 0); /* the client half-closes */
	cr_assert(f->paused);
	cr_assert_not(f->closed);
	for (int i = 0; i < 1000 && !f->closed; i++) {
		f->space = 700; /* a few responses at a time */
		duet_tcp_deliver_writable(&f->base);
	}
	cr_assert_eq(count(f->out, "200 OK"), 1000);
	cr_assert(f->closed, "closed once everything is answered");
	const char *p = f->out;
	for (int i = 0; i < 1000; i++) {
		p = strstr(p, "\r\n\r\n") + 4;
		cr_assert_eq(*p, i % 2 ? 'A' : 'B', "response %d", i);
	}
}

Test(httpd, half_close_with_partial_request_closes)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b");
	duet_tcp_deliver_recv(&f->base, "", 0);
	cr_assert_eq(count(f->out, "200 OK"), 1);
	cr_assert(f->closed);
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

static void restart(unsigned max_conns, unsigned max_per_peer)
{
	struct httpd_source src;
	httpd_stop(&srv, NULL, NULL);
	httpd_table_source(&table, &src);
	cfg.max_conns = max_conns;
	cfg.max_per_peer = max_per_peer;
	cfg.evict_grace = 0; /* every admission here is at the same instant */
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
}

Test(httpd, full_pool_evicts_the_least_progressed_for_a_newcomer)
{
	restart(2, 0);
	struct fconn *a = connect_(0), *b = connect_(1);
	send_str(b, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	struct fconn *c = connect_(2);
	cr_assert(a->aborted, "the silent, oldest connection made room");
	cr_assert_not(b->aborted || c->aborted);
	cr_assert_eq(srv.nconns, 2);
	send_str(c, "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(c->out, "200 OK") != NULL);
	cr_assert_eq(srv.pool.stats.evicted[DUET_EVICT_FULL_IDLE], 1);
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
	cr_assert_eq(srv.pool.stats.evicted[DUET_EVICT_FULL_PARTIAL], 1);
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
	cr_assert_eq(srv.nconns, 2);
	cr_assert_eq(srv.pool.stats.refused_busy, 1);
}

Test(httpd, a_peer_over_its_share_evicts_its_own)
{
	restart(8, 2); /* every fake connection comes from 127.0.0.1 */
	connect_(0);
	connect_(1);
	connect_(2);
	cr_assert(conns[0].aborted);
	cr_assert_not(conns[1].aborted || conns[2].aborted);
	cr_assert_eq(srv.nconns, 2);
	cr_assert_eq(srv.pool.stats.evicted[DUET_EVICT_PEER], 1);
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

static struct httpd_conn *only_conn(void)
{
	cr_assert_eq(srv.nconns, 1);
	return duet_container_of(srv.conns.next, struct httpd_conn, link);
}

Test(httpd, buffers_only_while_a_request_is_in_flight)
{
	struct fconn *f = connect_(0);
	struct httpd_conn *c = only_conn();
	cr_assert_null(c->in, "a silent connection holds no receive buffer");
	cr_assert_null(c->q, "nor a response queue");
	send_str(f, "GET /a.txt HTTP/1.1\r\nHo");
	cr_assert_not_null(c->in);
	cr_assert_not_null(c->q);
	cr_assert_lt(c->in_cap, 8192, "it starts small");
	send_str(f, "st: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") != NULL);
	cr_assert_null(c->in, "answered: buffers returned");
	cr_assert_null(c->q);
	/* A response that cannot go out yet keeps its queue, then returns it.
	 */
	f->space = 10;
	send_str(f, "GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_not_null(c->q);
	f->space = SIZE_MAX;
	duet_tcp_deliver_writable(&f->base);
	cr_assert_null(c->q);
	cr_assert_null(c->in);
}

Test(httpd, free_list_is_trimmed_after_a_flood)
{
	static struct fconn many[200];
	restart(200, 0);
	for (int i = 0; i < 200; i++) {
		many[i].base.stack = &fstack;
		many[i].space = SIZE_MAX;
		accept_cb(&flistener, &many[i].base, accept_arg);
	}
	cr_assert_eq(srv.nconns, 200);
	for (int i = 0; i < 200; i++)
		duet_tcp_deliver_recv(&many[i].base, "", 0);
	cr_assert_eq(srv.nconns, 0);
	cr_assert_leq(srv.nfree_conns, 64, "%u kept", srv.nfree_conns);
	cr_assert_gt(srv.nfree_conns, 0, "some kept for reuse");
	for (int i = 0; i < 200; i++)
		free(many[i].out);
}

Test(httpd, access_log_off_is_silent)
{
	struct httpd_source src;
	httpd_stop(&srv, NULL, NULL);
	httpd_table_source(&table, &src);
	cfg.access_log = false;
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
	struct fconn *f = connect_(0);
	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_null(strstr(fakeplat_console(), "\"GET / HTTP/1.1\""));
}

Test(httpd, stop_closes_connections)
{
	struct fconn *f = connect_(0);
	httpd_stop(&srv, NULL, NULL);
	cr_assert(f->closed);
	cr_assert_eq(srv.nconns, 0);
}

Test(httpd, content_types)
{
	cr_assert_str_eq(httpd_content_type("/x/style.css"),
			 "text/css; charset=utf-8");
	cr_assert_str_eq(httpd_content_type("/favicon.svg"), "image/svg+xml");
	cr_assert_str_eq(httpd_content_type("/a.b/noext"),
			 "application/octet-stream");
	cr_assert_str_eq(httpd_content_type("/64k"),
			 "application/octet-stream");
}

/* ---------------------------------------------------------------- ranges */

/* Sends a GET of /index.html ("<h1>hi</h1>\n", 12 bytes) with extra header
 * lines and returns what came back. */
static const char *get_index(struct fconn *f, const char *method,
			     const char *extra)
{
	char req[512];

	f->out_len = 0;
	if (f->out != NULL)
		f->out[0] = '\0';
	snprintf(req, sizeof(req),
		 "%s /index.html HTTP/1.1\r\nHost: x\r\n%s\r\n", method, extra);
	send_str(f, req);
	return f->out;
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	cr_assert_not_null(b, "%s", resp);
	return b + 4;
}

Test(httpd, range_forms_give_206)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "GET", "Range: bytes=1-3\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 Partial Content\r\n", 30) == 0, "%s",
		  o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes 1-3/12\r\n") != NULL);
	cr_assert(strstr(o, "\r\nContent-Length: 3\r\n") != NULL);
	cr_assert_str_eq(body_of(o), "h1>");

	o = get_index(f, "GET", "Range: bytes=8-\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 8-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), "h1>\n");

	o = get_index(f, "GET", "Range: bytes=-2\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 10-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), ">\n");

	/* Past the end is clipped; a suffix longer than the file is all. */
	o = get_index(f, "GET", "Range: bytes=10-99999999999999999999999\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 10-11/12\r\n") != NULL,
		  "%s", o);
	o = get_index(f, "GET", "Range: BYTES=-500\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 0-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	cr_assert_not(f->closed || f->shut);
	cr_assert(strstr(fakeplat_console(), "\" 206 12") != NULL, "%s",
		  fakeplat_console());
}

Test(httpd, range_from_offset_of_big_file)
{
	struct fconn *f = connect_(0);

	big_file[15000] = 'Q';
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n"
		    "Range: bytes=15000-15009\r\n\r\n");
	cr_assert(strstr(f->out, "Content-Range: bytes 15000-15009/20000\r\n"),
		  "%s", f->out);
	cr_assert_str_eq(body_of(f->out), "Qzzzzzzzzz");
}

Test(httpd, unsatisfiable_range_gives_416)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "GET", "Range: bytes=12-\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 Range Not Satisfiable\r\n", 36) == 0,
		  "%s", o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes */12\r\n") != NULL);
	cr_assert_null(strstr(o, "Accept-Ranges"));
	cr_assert_str_eq(body_of(o), "416 Range Not Satisfiable\n");
	o = get_index(f, "GET", "Range: bytes=-0\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 ", 13) == 0, "%s", o);
	cr_assert_not(f->closed || f->shut);
}

Test(httpd, multi_or_malformed_range_gives_whole_file)
{
	static const char *const bad[] = {
	    "Range: bytes=0-1,5-6\r\n",
	    "Range: bytes=5-2\r\n",
	    "Range: items=0-1\r\n",
	    "Range: bytes=x-\r\n",
	    "Range: bytes=-\r\n",
	    "Range: bytes=1-2\r\nRange: bytes=3-4\r\n",
	};
	struct fconn *f = connect_(0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *o = get_index(f, "GET", bad[i]);
		cr_assert(strncmp(o, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s: %s",
			  bad[i], o);
		cr_assert(strstr(o, "\r\nAccept-Ranges: bytes\r\n") != NULL);
		cr_assert_null(strstr(o, "Content-Range"));
		cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	}
}

Test(httpd, if_range_applies_only_on_matching_etag)
{
	struct fconn *f = connect_(0);
	char hdr[128], etag[32];
	const char *o;

	o = get_index(f, "GET", "");
	cr_assert_eq(sscanf(strstr(o, "ETag: "), "ETag: %31s", etag), 1);
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-Range: %s\r\n",
		 etag);
	o = get_index(f, "GET", hdr);
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
	cr_assert_str_eq(body_of(o), "<h1>");
	/* A weak tag never matches (strong comparison), nor a date. */
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-Range: W/%s\r\n",
		 etag);
	const char *const miss[] = {
	    "Range: bytes=0-3\r\nIf-Range: \"stale\"\r\n",
	    "Range: bytes=0-3\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	    hdr,
	};
	for (size_t i = 0; i < 3; i++) {
		o = get_index(f, "GET", miss[i]);
		cr_assert(strncmp(o, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", o);
		cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	}
}

Test(httpd, head_with_range_gets_the_get_head)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "HEAD", "Range: bytes=2-5\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes 2-5/12\r\n") != NULL);
	cr_assert(strstr(o, "\r\nContent-Length: 4\r\n") != NULL);
	cr_assert_str_eq(body_of(o), "", "no body");
	o = get_index(f, "HEAD", "Range: bytes=50-\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 ", 13) == 0, "%s", o);
	cr_assert_str_eq(body_of(o), "", "no body");
}

Test(httpd, if_none_match_wins_over_range)
{
	struct fconn *f = connect_(0);
	char hdr[128], etag[32];
	const char *o;

	o = get_index(f, "GET", "");
	cr_assert(strstr(o, "\r\nAccept-Ranges: bytes\r\n") != NULL, "%s", o);
	cr_assert_eq(sscanf(strstr(o, "ETag: "), "ETag: %31s", etag), 1);
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-None-Match: %s\r\n",
		 etag);
	o = get_index(f, "GET", hdr);
	cr_assert(strncmp(o, "HTTP/1.1 304 ", 13) == 0, "%s", o);
	cr_assert_null(strstr(o, "Content-Range"));
	o = get_index(f, "GET",
		      "Range: bytes=0-3\r\nIf-None-Match: \"other\"\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
}

Test(httpd, range_interpretation)
{
	static const struct {
		const char *v;
		size_t size;
		int want;
		size_t first, last;
	} c[] = {
	    {"bytes=0-0", 10, 206, 0, 0},
	    {"bytes=0-", 10, 206, 0, 9},
	    {"bytes=9-9", 10, 206, 9, 9},
	    {"bytes=-1", 10, 206, 9, 9},
	    {"bytes=-10", 10, 206, 0, 9},
	    {"bytes= 2-4 ", 10, 206, 2, 4},
	    {"bytes=10-", 10, 416, 0, 0},
	    {"bytes=0-", 0, 416, 0, 0},
	    {"bytes=-5", 0, 416, 0, 0},
	    {"bytes=-0", 10, 416, 0, 0},
	    {"bytes=0-1,2-3", 10, 0, 0, 0},
	    {"bytes=3-2", 10, 0, 0, 0},
	    {"bytes=", 10, 0, 0, 0},
	    {"bytes=1", 10, 0, 0, 0},
	    {"bytes 1-2", 10, 0, 0, 0},
	    {"bytes=1-2x", 10, 0, 0, 0},
	    {"", 10, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t a = 0, b = 0;
		int r = httpd_range(c[i].v, strlen(c[i].v), c[i].size, &a, &b);
		cr_assert_eq(r, c[i].want, "%s: %d", c[i].v, r);
		if (r == 206)
			cr_assert(a == c[i].first && b == c[i].last,
				  "%s: %zu-%zu", c[i].v, a, b);
	}
}

/* ------------------------------------------------ a source that reads */

/* One file whose bytes come through read, which completes only when the
 * test says: a disk as slow as the test wants. */
static struct httpd_file slow_file = {.path = "/slow.bin",
				      .path_len = 9,
				      .data = NULL,
				      .size = 100000,
				      .content_type =
					  "application/octet-stream",
				      .etag = "\"slow\""};
static struct {
	struct httpd_read *rd;
	uint8_t *buf;
	size_t len;
	unsigned reads;
} pending;

static const struct httpd_file *slow_lookup(void *ctx, const char *path,
					    size_t len, struct httpd_file *buf)
{
	(void)ctx;
	(void)buf;
	return len == 9 && memcmp(path, "/slow.bin", 9) == 0 ? &slow_file
							     : NULL;
}

static int slow_read(void *ctx, const struct httpd_file *f, uint64_t off,
		     void *buf, size_t len, struct httpd_read *rd,
		     httpd_read_cb cb, void *arg)
{
	(void)ctx;
	(void)f;
	(void)off;
	cr_assert_null(pending.rd, "one read at a time per connection");
	rd->cb = cb;
	rd->arg = arg;
	pending.rd = rd;
	pending.buf = buf;
	pending.len = len;
	pending.reads++;
	return 0;
}

/* Completes the read in flight: all of it with 'S' bytes, or an error. */
static void slow_complete(int status)
{
	struct httpd_read *rd = pending.rd;

	cr_assert_not_null(rd);
	pending.rd = NULL;
	if (status >= 0) {
		memset(pending.buf, 'S', pending.len);
		status = (int)pending.len;
	}
	rd->cb(rd, status, rd->arg);
}

static void serve_slow(void)
{
	struct httpd_source src = {slow_lookup, slow_read, NULL};

	httpd_stop(&srv, NULL, NULL);
	memset(&pending, 0, sizeof(pending));
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
}

Test(httpd, streamed_body_waits_for_reads_and_arrives_whole)
{
	serve_slow();
	struct fconn *f = connect_(0);
	send_str(f, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(f->out_len, 0, "the head waits for the first chunk");
	while (pending.rd != NULL)
		slow_complete(0);
	const char *b = body_of(f->out);
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	for (size_t i = 0; i < 100000; i++)
		cr_assert_eq(b[i], 'S', "byte %zu", i);
	cr_assert(strncmp(b + 100000, "HTTP/1.1 404 ", 13) == 0,
		  "the next response after the body");
	cr_assert_eq(pending.reads, (100000 + HTTPD_CHUNK - 1) / HTTPD_CHUNK);
	cr_assert_eq(srv.stream_bufs, 0);
}

Test(httpd, hung_read_times_out_and_its_late_end_is_harmless)
{
	serve_slow();
	struct fconn *f = connect_(0);
	send_str(f, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_not_null(pending.rd);
	run_for(DUET_SEC(6));
	cr_assert(f->aborted, "no progress for idle_timeout: reset");
	cr_assert_eq(srv.nconns, 0);
	cr_assert_eq(srv.reads, 1, "the read still owns its buffer");
	/* A connection arriving meanwhile must not get the dead one's
	 * memory, which the read still writes to. */
	struct fconn *g = connect_(1);
	send_str(g, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	slow_complete(0); /* the disk answers at last */
	cr_assert_eq(srv.reads, 0);
	cr_assert_eq(srv.stream_bufs, 0);
	cr_assert_eq(f->out_len, 0);
	cr_assert_eq(count(g->out, "HTTP/1.1 "), 1, "%s", g->out);
	cr_assert_not(g->aborted || g->closed);

	/* Now the dead connection's memory is reused for the next one. */
	struct fconn *h = connect_(2);
	send_str(h, "GET /slow.bin HTTP/1.1\r\nHost: x\r\nRange: "
		    "bytes=5-9\r\n\r\n");
	slow_complete(0);
	cr_assert_str_eq(body_of(h->out), "SSSSS");
}

static void set_flag(void *arg)
{
	*(bool *)arg = true;
}

Test(httpd, stop_waits_for_a_hung_read)
{
	bool drained = false;

	serve_slow();
	struct fconn *f = connect_(0);
	send_str(f, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	httpd_stop(&srv, set_flag, &drained);
	cr_assert(f->closed);
	cr_assert_not(drained, "a read is in flight");
	slow_complete(-EIO);
	cr_assert(drained);
	cr_assert_eq(srv.stream_bufs, 0);
}

Test(httpd, read_error_answers_500_then_a_later_one_resets)
{
	serve_slow();
	struct fconn *f = connect_(0);
	send_str(f, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	slow_complete(-EIO);
	cr_assert(
	    strncmp(f->out, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0,
	    "%s", f->out);
	cr_assert_not(f->aborted || f->shut);
	f->out_len = 0;
	send_str(f, "GET /slow.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	slow_complete(0);
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	slow_complete(-EIO); /* the read-ahead, after the head went out */
	cr_assert(f->aborted);
	cr_assert(strstr(fakeplat_console(), "resetting the connection"));
}
