/* httpd serving a tar image on a RAM disk (and a faulty disk) through the
 * server and a fake network stack: bodies streamed from the device in
 * chunks, byte for byte, under backpressure; ranges read only the range;
 * HEAD and 304 read nothing; read errors before the head (500) and in the
 * middle of a body (reset); many connections streaming at once; a stop
 * with a read in flight; and heap use that stays flat however big the
 * served file is. */
#include <stdio.h>
#if defined(__SANITIZE_ADDRESS__)
/* The sanitizer runtime's count (its header ships with clang, not gcc). */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#include "storage_harness.h"
#include "files_tar.h"
#include "net_fakestack.h"
#include "server.h"

/* files.c's embedded-site helpers want a site; these tests serve none. */
const struct httpd_embedded httpd_site[] = {{"/x", (const uint8_t *)"x", 1}};
const size_t httpd_site_count = 1;

#define NCONN 16

static struct duet_blk_mem *mem;
static struct duet_blk_fault *fault;
static uint8_t *img;
static size_t img_len, img_cap;
static struct httpd_tar tar;
static struct httpd srv;
static struct fconn conns[NCONN];
static bool serving;

/* ------------------------------------------------------------- images */

/* A RAM disk of `bytes` to write a tar image into, file by file. */
static void new_image(size_t bytes)
{
	cr_assert_eq(duet_blk_mem_create(loop, "mem0", 512, bytes / 512 + 4,
					 true, &mem),
		     0);
	img = duet_blk_mem_data(mem);
	img_cap = bytes;
	img_len = 0;
}

/* Appends a ustar entry of `size` bytes made by fill_value(seed); returns
 * where its bytes are in the image. */
static const uint8_t *add(const char *name, size_t size, unsigned seed)
{
	uint8_t *h = img + img_len;

	cr_assert_leq(img_len + 1024 + size, img_cap);
	tar_file_header(h, name, size);
	fill_value(h + 512, size, seed, 1);
	img_len += 512 + (size + 511) / 512 * 512;
	return h + 512;
}

static uint64_t bytes_read(void)
{
	struct duet_blk_mem_stats st;

	duet_blk_mem_get_stats(mem, &st);
	return st.bytes_read;
}

/* Indexes the image (on the RAM disk, or a faulty disk over it) and serves
 * it on the fake stack. */
static void serve(bool faulty)
{
	struct duet_block *dev = duet_blk_mem_block(mem);
	struct sync_result r = {0};
	struct httpd_source src;
	struct httpd_config cfg;

	if (faulty) {
		cr_assert_eq(duet_blk_fault_create(loop, "disk0", dev, &fault),
			     0);
		dev = duet_blk_fault_block(fault);
	}
	cr_assert_eq(httpd_tar_load(&tar, loop, dev, sync_plain_cb, &r), 0);
	run_until(&r.done);
	cr_assert_eq(r.status, 0);
	fakestack_install(loop);
	httpd_config_default(&cfg);
	httpd_tar_source(&tar, &src);
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
	serving = true;
}

static void drained_cb(void *arg)
{
	*(bool *)arg = true;
}

static void teardown(void)
{
	if (serving) {
		bool drained = false;
		httpd_stop(&srv, drained_cb, &drained);
		run_until(&drained);
		cr_assert_eq(srv.stream_bufs, 0, "every stream buffer freed");
		httpd_tar_free(&tar);
	}
	serving = false;
	for (int i = 0; i < NCONN; i++)
		free(conns[i].out);
	memset(conns, 0, sizeof(conns));
}

static void setup(void)
{
	harness_setup();
#if !defined(__SANITIZE_ADDRESS__)
	/* Fresh allocations full of junk, not zeros: a field the server
	 * forgets to set shows up here. */
	mallopt(M_PERTURB, 0x5a);
#endif
}

TestSuite(httpd_stream, .init = setup, .fini = teardown);

/* ---------------------------------------------------------- the client */

static struct fconn *connect_(int i, size_t space)
{
	return fakestack_accept(&conns[i], space, (uint16_t)(6000 + i));
}

static void send_str(struct fconn *f, const char *s)
{
	duet_tcp_deliver_recv(&f->base, s, strlen(s));
}

/* Runs the loop; each turn, every connection that used up its send space
 * gets `step` more and a writable callback, as a peer reading slowly would
 * give. Stops when done() says so (or fails after many turns). */
static size_t step;
static bool (*done_fn)(void);
static size_t heap_base, heap_peak;
static bool sample_heap;

static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
#endif
}

static void pump_cb(struct duet_timer *t, void *arg)
{
	(void)arg;
	for (int i = 0; i < NCONN; i++) {
		struct fconn *f = &conns[i];
		if (f->base.stack == NULL || f->closed || f->aborted ||
		    f->space != 0)
			continue;
		f->space = step;
		duet_tcp_deliver_writable(&f->base);
	}
	if (sample_heap) {
		size_t h = heap_in_use();
		heap_peak = h > heap_peak ? h : heap_peak;
	}
	if (done_fn() || ++run_spins > 2000000)
		duet_loop_stop(loop, 0);
	else
		duet_timer_start(t, 0, 0);
}

static void pump_until(bool (*done)(void), size_t step_bytes)
{
	static struct duet_timer t;

	step = step_bytes;
	done_fn = done;
	run_spins = 0;
	duet_timer_init(loop, &t, pump_cb, NULL);
	duet_timer_start(&t, 0, 0);
	duet_loop_run(loop);
	duet_timer_stop(&t);
	cr_assert(done(), "the loop went idle first");
}

static const char *body_of(const struct fconn *f)
{
	const char *b = f->out != NULL ? strstr(f->out, "\r\n\r\n") : NULL;
	return b != NULL ? b + 4 : NULL;
}

/* The connection got a whole response of `len` body bytes (by
 * Content-Length) or was closed. */
static bool complete(const struct fconn *f)
{
	const char *b = body_of(f), *cl;
	size_t len;

	if (f->aborted || f->closed)
		return true;
	if (b == NULL || (cl = strstr(f->out, "Content-Length: ")) == NULL)
		return false;
	len = strtoul(cl + 16, NULL, 10);
	return (size_t)(f->out + f->out_len - b) >= len;
}

static bool conn0_complete(void)
{
	return complete(&conns[0]);
}

static bool conn0_aborted(void)
{
	return conns[0].aborted;
}

static void assert_body(const struct fconn *f, const uint8_t *want, size_t len)
{
	const char *b = body_of(f);

	cr_assert_not_null(b, "%.300s", f->out);
	cr_assert_eq((size_t)(f->out + f->out_len - b), len, "%.300s", f->out);
	cr_assert(memcmp(b, want, len) == 0, "body differs");
}

static void reset_out(struct fconn *f)
{
	f->out_len = 0;
	if (f->out != NULL)
		f->out[0] = '\0';
}

/* -------------------------------------------------------------- tests */

Test(httpd_stream, big_file_streams_byte_identical_under_backpressure)
{
	const size_t size = (1u << 20) + 777; /* many chunks, a ragged end */
	new_image(2u << 20);
	const uint8_t *want = add("big.bin", size, 7);
	serve(false);
	uint64_t before = bytes_read();

	struct fconn *f = connect_(0, 0);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_complete, 5000);
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	cr_assert(strstr(f->out, "Content-Length: 1049353\r\n") != NULL);
	assert_body(f, want, size);
	cr_assert_leq(bytes_read() - before, size + 4096,
		      "each byte read once");
	cr_assert_eq(srv.stream_bufs, 0, "the buffer goes once idle");
	cr_assert_not(f->closed || f->aborted || f->shut);

	/* The same connection streams it again (keep-alive). */
	reset_out(f);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_complete, 70000);
	assert_body(f, want, size);
}

Test(httpd_stream, range_in_the_middle_reads_only_the_range)
{
	const size_t size = 1000000;
	new_image(1100000);
	const uint8_t *want = add("big.bin", size, 3);
	serve(false);
	uint64_t before = bytes_read();

	struct fconn *f = connect_(0, 0);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n"
		    "Range: bytes=300001-700000\r\n\r\n");
	pump_until(conn0_complete, 9000);
	cr_assert(strncmp(f->out, "HTTP/1.1 206 Partial Content\r\n", 30) == 0,
		  "%.300s", f->out);
	cr_assert(strstr(f->out, "Content-Range: bytes 300001-700000/1000000"));
	assert_body(f, want + 300001, 400000);
	/* Partial sectors at the two ends go through 4 KiB bounce reads. */
	cr_assert_leq(bytes_read() - before, 400000 + 2 * 4096);
}

Test(httpd_stream, head_304_and_416_read_nothing)
{
	char req[256], etag[32];
	new_image(300000);
	add("big.bin", 200000, 1);
	serve(false);
	uint64_t before = bytes_read();

	struct fconn *f = connect_(0, SIZE_MAX);
	send_str(f, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "Content-Length: 200000\r\n"), "%s", f->out);
	cr_assert(strcmp(f->out + f->out_len - 4, "\r\n\r\n") == 0, "no body");
	cr_assert_eq(sscanf(strstr(f->out, "ETag: "), "ETag: %31s", etag), 1);
	reset_out(f);
	snprintf(
	    req, sizeof(req),
	    "GET /big.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n"
	    "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=900000-\r\n\r\n",
	    etag);
	send_str(f, req);
	cr_assert(strncmp(f->out, "HTTP/1.1 304 ", 13) == 0, "%s", f->out);
	cr_assert(strstr(f->out, "HTTP/1.1 416 "), "%s", f->out);
	run_until(&(bool){true});
	cr_assert_eq(bytes_read(), before, "nothing read from the device");
	cr_assert_eq(srv.stream_bufs, 0);
}

Test(httpd_stream, read_error_before_the_head_gives_500_in_order)
{
	const size_t size = 100000;
	new_image(200000);
	const uint8_t *want = add("big.bin", size, 5);
	add("small.txt", 10, 6);
	serve(true);

	duet_blk_fault_fail(fault, DUET_BLOCK_READ, -EIO);
	struct fconn *f = connect_(0, SIZE_MAX);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
		    "HEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_complete, 0);
	cr_assert(
	    strncmp(f->out, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0,
	    "%s", f->out);
	const char *second = strstr(f->out + 1, "HTTP/1.1 200 OK\r\n");
	cr_assert_not_null(second, "the HEAD after it is answered: %s", f->out);
	cr_assert(strstr(second, "Content-Length: 10\r\n"));
	cr_assert_not(f->closed || f->aborted || f->shut, "keep-alive holds");
	cr_assert(strstr(fakeplat_console(),
			 "reading /big.bin: I/O error: answering 500") !=
			  NULL ||
		      strstr(fakeplat_console(), "answering 500") != NULL,
		  "%s", fakeplat_console());

	/* The disk recovers: the same connection gets the file. */
	duet_blk_fault_fail(fault, DUET_BLOCK_READ, 0);
	reset_out(f);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_complete, 0);
	assert_body(f, want, size);
}

static bool conn0_has_some_body(void)
{
	const char *b = body_of(&conns[0]);
	return b != NULL && conns[0].out + conns[0].out_len - b > 40000;
}

Test(httpd_stream, read_error_mid_body_resets_the_connection)
{
	const size_t size = 500000;
	new_image(600000);
	const uint8_t *want = add("big.bin", size, 9);
	serve(true);

	struct fconn *f = connect_(0, 0);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_has_some_body, 4000);
	duet_blk_fault_fail(fault, DUET_BLOCK_READ, -EIO);
	pump_until(conn0_aborted, 4000);
	const char *b = body_of(f);
	size_t got = (size_t)(f->out + f->out_len - b);
	cr_assert_lt(got, size, "the body was cut");
	cr_assert(memcmp(b, want, got) == 0, "what came is right");
	cr_assert(strstr(fakeplat_console(), "resetting the connection"), "%s",
		  fakeplat_console());
	cr_assert_eq(duet_tcp_server_count(&srv.tcp), 0);

	/* The server goes on: a new connection gets the whole file. */
	duet_blk_fault_fail(fault, DUET_BLOCK_READ, 0);
	free(conns[0].out);
	memset(&conns[0], 0, sizeof(conns[0]));
	f = connect_(0, 0);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_complete, 30000);
	assert_body(f, want, size);
}

static bool all_complete(void)
{
	for (int i = 0; i < NCONN; i++)
		if (!complete(&conns[i]))
			return false;
	return true;
}

Test(httpd_stream, many_connections_stream_at_once)
{
	const uint8_t *want[4];
	size_t sizes[4] = {70001, 123457, 262144, 99999};
	char name[32], req[160];

	new_image(1u << 20);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%d.bin", i);
		want[i] = add(name, sizes[i], 100 + (unsigned)i);
	}
	serve(false);

	/* Each connection a different file, or a different range of one,
	 * all of them in flight at once, drained a little at a time. */
	for (int i = 0; i < NCONN; i++) {
		struct fconn *f = connect_(i, 0);
		int k = i % 4;
		if (i < 8)
			snprintf(req, sizeof(req),
				 "GET /f%d.bin HTTP/1.1\r\nHost: x\r\n\r\n", k);
		else
			snprintf(req, sizeof(req),
				 "GET /f%d.bin HTTP/1.1\r\nHost: x\r\n"
				 "Range: bytes=%d-\r\n\r\n",
				 k, 1000 * i + 1);
		send_str(f, req);
	}
	cr_assert_eq(srv.stream_bufs, NCONN, "one buffer per streaming conn");
	pump_until(all_complete, 3000);
	for (int i = 0; i < NCONN; i++) {
		int k = i % 4;
		size_t from = i < 8 ? 0 : (size_t)(1000 * i + 1);
		cr_assert_not(conns[i].aborted || conns[i].closed, "conn %d",
			      i);
		assert_body(&conns[i], want[k] + from, sizes[k] - from);
	}
	cr_assert_eq(srv.stream_bufs, 0);
}

/* Splits what f received into responses (bodies may hold any byte, so
 * by Content-Length; HEAD and 304 responses have none): fills at most max
 * of them, returns how many arrived whole. */
struct resp_view {
	const char *head;
	const uint8_t *body;
	size_t len;
};

static size_t split(const struct fconn *f, const bool *head_only,
		    struct resp_view *v, size_t max)
{
	size_t pos = 0, n = 0;

	while (n < max && pos < f->out_len) {
		const char *h = f->out + pos, *end = NULL, *cl;
		for (size_t i = pos; i + 4 <= f->out_len; i++)
			if (memcmp(f->out + i, "\r\n\r\n", 4) == 0) {
				end = f->out + i + 4;
				break;
			}
		if (end == NULL)
			break;
		cl = strstr(h, "Content-Length: ");
		v[n].head = h;
		v[n].body = (const uint8_t *)end;
		v[n].len = head_only[n] || cl == NULL || cl > end
			       ? 0
			       : strtoul(cl + 16, NULL, 10);
		if ((size_t)(f->out + f->out_len - end) < v[n].len)
			break;
		pos = (size_t)(end - f->out) + v[n].len;
		n++;
	}
	return n;
}

static const bool pipeline_heads[4] = {false, false, true, false};
static int pipeline_conn;

static bool four_responses(void)
{
	struct resp_view v[4];
	return split(&conns[pipeline_conn], pipeline_heads, v, 4) == 4;
}

Test(httpd_stream, pipelined_streams_answer_in_order)
{
	const size_t size = 200000;
	new_image(400000);
	const uint8_t *big = add("big.bin", size, 21);
	const uint8_t *small = add("small.txt", 700, 22);
	serve(false);

	/* A streamed file, a small streamed file, a HEAD (no read), a range:
	 * all in one segment; drained slowly, then as fast as it comes. */
	for (int i = 0; i < 2; i++) {
		struct fconn *f = connect_(i, 0);
		struct resp_view v[4];
		pipeline_conn = i;
		send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
			    "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
			    "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
			    "GET /big.bin HTTP/1.1\r\nHost: x\r\n"
			    "Range: bytes=-1000\r\n\r\n");
		pump_until(four_responses, i == 0 ? 3000 : SIZE_MAX);

		cr_assert_eq(split(f, pipeline_heads, v, 4), 4);
		cr_assert(strncmp(v[0].head, "HTTP/1.1 200 ", 13) == 0);
		cr_assert(v[0].len == size &&
			  memcmp(v[0].body, big, size) == 0);
		cr_assert(strncmp(v[1].head, "HTTP/1.1 200 ", 13) == 0);
		cr_assert(v[1].len == 700 &&
			  memcmp(v[1].body, small, 700) == 0);
		cr_assert(strncmp(v[2].head, "HTTP/1.1 200 ", 13) == 0);
		cr_assert(strstr(v[2].head, "Content-Length: 200000\r\n"));
		cr_assert(strncmp(v[3].head, "HTTP/1.1 206 ", 13) == 0,
			  "%.200s", v[3].head);
		cr_assert(v[3].len == 1000 &&
			  memcmp(v[3].body, big + size - 1000, 1000) == 0);
		cr_assert_eq(f->out_len,
			     (size_t)((const char *)v[3].body - f->out) + 1000,
			     "nothing more");
		cr_assert_not(f->closed || f->aborted);
	}
}

static bool stopped_flag;

Test(httpd_stream, stop_with_a_read_in_flight_waits_for_it)
{
	new_image(300000);
	add("big.bin", 200000, 2);
	serve(false);

	struct fconn *f = connect_(0, SIZE_MAX);
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(srv.reads, 1, "the first chunk is being read");
	stopped_flag = false;
	httpd_stop(&srv, drained_cb, &stopped_flag);
	cr_assert(f->closed);
	cr_assert_not(stopped_flag, "a read is still in flight");
	run_until(&stopped_flag);
	cr_assert_eq(srv.reads, 0);
	cr_assert_eq(srv.stream_bufs, 0);
	cr_assert_eq(f->out_len, 0, "nothing sent after the close");
	httpd_tar_free(&tar); /* the store closes: nothing in flight */
	serving = false;
}

static bool conn0_body_done(void)
{
	return conns[0].aborted || conns[0].closed ||
	       conns[0].body_bytes >= (48u << 20);
}

Test(httpd_stream, heap_stays_flat_for_a_file_bigger_than_any_cap)
{
	const size_t size = 48u << 20;
	new_image(size + 4096);
	const uint8_t *want = add("huge.bin", size, 11);
	serve(false);

	struct fconn *f = connect_(0, 0);
	f->discard = true;
	heap_base = heap_peak = heap_in_use();
	sample_heap = true;
	send_str(f, "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	pump_until(conn0_body_done, 1u << 20);
	sample_heap = false;
	cr_assert(strstr(f->out, "Content-Length: 50331648\r\n"), "%s", f->out);
	cr_assert_eq(f->body_bytes, size);
	cr_assert_eq(f->body_hash, fakestack_fnv(FAKESTACK_FNV0, want, size),
		     "byte-identical");
	/* The stream's 32 KiB buffer and little else: far below the file. */
	cr_assert_lt(heap_peak - heap_base, 256u << 10, "peak %zu bytes over",
		     heap_peak - heap_base);
}
