/* httpd's connections (tests/unit/http_server_fixture.h): keep-alive,
 * pipelining in order, backpressure and paused reading, half-closes, and
 * the memory a connection holds. */
#include <malloc.h>

#include "http_server_fixture.h"

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

static struct httpd_conn *only_conn(void)
{
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 1);
	return duet_container_of(srv.tcp.conns.next, struct httpd_conn,
				 sc.link);
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

/* No record is kept for reuse: after a flood the heap holds what it held
 * before, but for the few chunks of each size glibc's per-thread cache
 * keeps (counted as in use): 16 KiB of slack, where 64 records kept would
 * be 55 KiB. Under ASan its own allocator counts, and this one stays
 * still. */
Test(httpd, records_go_back_after_a_flood)
{
	static struct fconn many[200];
	restart(200, 0);
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 200; i++)
		fakestack_accept(&many[i], SIZE_MAX, 0);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 200);
	for (int i = 0; i < 200; i++)
		duet_tcp_deliver_recv(&many[i].base, "", 0);
	for (int i = 0; i < 200; i++)
		free(many[i].out);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 0);
	cr_assert_eq(srv.tcp.held, 0);
	cr_assert_lt(mallinfo2().uordblks, before + 16384,
		     "%zu bytes before, %zu after", before,
		     mallinfo2().uordblks);
}

Test(httpd, stop_closes_connections)
{
	struct fconn *f = connect_(0);
	httpd_stop(&srv, NULL, NULL);
	cr_assert(f->closed);
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 0);
}
