/* httpd serving from a source that reads (tests/unit/http_server_fixture.h):
 * a file whose bytes arrive only when the test completes each read, as
 * slowly as a disk may, or with an error. */
#include "http_server_fixture.h"

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
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 0);
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
