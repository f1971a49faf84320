/* httpd's whole request path over fake connections on the virtual clock:
 * a client script of connects, bytes (pipelined requests, ranges,
 * conditional requests), send-window changes, waits (timeouts),
 * half-closes and resets, against files in memory or streamed from a tar
 * image on a RAM disk. Every response starts as HTTP/1.1, the server
 * never sends after the connection was shut, and it stops cleanly with
 * every read drained.
 *
 * Input: a flags byte (bit 0: the tar source), then actions, each an op
 * byte and its operands. */
#include <duet/error.h>
#include <duet/log.h>
#include <duet/net_stack.h>

#include "files.h"
#include "files_tar.h"
#include "fuzz_kv.h"
#include "net_fakestack.h"
#include "server.h"
#include "tar_header.h"

#define NCONNS 4

static struct httpd srv;
static struct httpd_config cfg;
static struct httpd_table table;
static struct httpd_tar tar;
static struct fconn conns[NCONNS];
static bool live[NCONNS];
static uint8_t big_file[70000];
static uint8_t image[512 * 200];
static size_t image_len;

static void tar_add(const char *name, const uint8_t *data, size_t size)
{
	uint8_t *h = image + image_len;

	tar_file_header(h, name, size);
	memcpy(h + 512, data, size);
	image_len += 512 + (size + 511) / 512 * 512;
	FUZZ_CHECK(image_len + 1024 <= sizeof(image));
}

static void make_files(void)
{
	for (size_t i = 0; i < sizeof(big_file); i++)
		big_file[i] = (uint8_t)(i * 13 + i / 256);
	image_len = 0;
	tar_add("index.html", (const uint8_t *)"<h1>tar</h1>\n", 13);
	tar_add("a.txt", (const uint8_t *)"A", 1);
	tar_add("dir/b.css", (const uint8_t *)"BB", 2);
	tar_add("big.bin", big_file, sizeof(big_file));
}

static void loaded(void *arg, int status)
{
	struct fuzz_sync *r = arg;
	r->done = true;
	r->status = status;
}

static void drained(void *arg)
{
	*(bool *)arg = true;
}

/* What a connection received is a sequence of HTTP/1.1 responses. */
static void check_output(const struct fconn *f)
{
	FUZZ_CHECK(
	    f->out_len == 0 || strncmp(f->out, "HTTP/1.1 ", 9) == 0 ||
	    (f->out_len < 9 && strncmp(f->out, "HTTP/1.1 ", f->out_len) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct httpd_source src;
	struct duet_blk_mem *disk = NULL;
	bool use_tar = fuzz_u8(&in) & 1;

	if (image_len == 0)
		make_files();
	fakeplat_reset();
	duet_sys_init(&fuzz_sys, NULL);
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	duet_net_set_stack(fuzz_loop, &fstack);
	if (use_tar) {
		struct fuzz_sync r = {0};
		FUZZ_CHECK(duet_blk_mem_create(fuzz_loop, "disk0", 512,
					       sizeof(image) / 512, true,
					       &disk) == 0);
		memcpy(duet_blk_mem_data(disk), image, sizeof(image));
		FUZZ_CHECK(
		    fuzz_wait(&r, httpd_tar_load(&tar, fuzz_loop,
						 duet_blk_mem_block(disk),
						 loaded, &r)) == 0);
		httpd_tar_source(&tar, &src);
	} else {
		httpd_table_init(&table);
		FUZZ_CHECK(httpd_table_add_site(&table) == 0);
		FUZZ_CHECK(httpd_table_add(&table, "/a.txt",
					   (const uint8_t *)"A", 1) == 0);
		FUZZ_CHECK(httpd_table_add(&table, "/big.bin", big_file,
					   sizeof(big_file)) == 0);
		httpd_table_source(&table, &src);
	}
	httpd_config_default(&cfg);
	cfg.idle_timeout = DUET_SEC(5);
	cfg.request_timeout = DUET_SEC(3);
	cfg.max_conns = 3;
	cfg.access_log = false;
	memset(conns, 0, sizeof(conns));
	memset(live, 0, sizeof(live));
	FUZZ_CHECK(httpd_start(&srv, fuzz_loop, &fstack, &cfg, &src) == 0);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		unsigned c = (op >> 4) % NCONNS;
		struct fconn *f = &conns[c];
		const uint8_t *b;
		size_t n;
		switch (op & 15) {
		case 0: /* connect */
			if (live[c] || f->base.stack != NULL)
				break;
			f->base.stack = &fstack;
			f->space = SIZE_MAX;
			f->port = (uint16_t)(5000 + c);
			live[c] = true;
			accept_cb(&flistener, &f->base, accept_arg);
			break;
		case 1:
		case 2:
		case 3:
		case 4:
		case 5:
		case 6: /* bytes */
			n = fuzz_bytes(&in, 255, &b);
			if (live[c] && !f->shut && n > 0)
				duet_tcp_deliver_recv(&f->base, b, n);
			break;
		case 7: /* the send window */
			n = fuzz_u8(&in);
			f->space = n == 255 ? SIZE_MAX : n * 64;
			if (live[c] && !f->closed && !f->aborted)
				duet_tcp_deliver_writable(&f->base);
			break;
		case 8: /* time passes */
			fuzz_run_for(fuzz_loop,
				     DUET_MSEC(50) * (1 + fuzz_u8(&in)));
			break;
		case 9: /* the client half-closes */
			if (live[c] && !f->closed && !f->aborted)
				duet_tcp_deliver_recv(&f->base, "", 0);
			break;
		case 10: /* reset */
			if (live[c] && !f->closed && !f->aborted) {
				live[c] = false;
				duet_tcp_deliver_error(&f->base, -ECONNRESET);
			}
			break;
		default: /* the loop runs once */
			fuzz_run_for(fuzz_loop, 0);
			break;
		}
		if (f->closed || f->aborted)
			live[c] = false;
		check_output(f);
	}
	/* Unlimited windows and enough time: everything finishes. */
	for (unsigned c = 0; c < NCONNS; c++) {
		conns[c].space = SIZE_MAX;
		if (live[c] && !conns[c].closed && !conns[c].aborted)
			duet_tcp_deliver_writable(&conns[c].base);
	}
	fuzz_run_for(fuzz_loop, DUET_SEC(30));
	bool done = false;
	httpd_stop(&srv, drained, &done);
	FUZZ_CHECK(fuzz_run_until(fuzz_loop, &done, FUZZ_KV_SPINS));
	for (unsigned c = 0; c < NCONNS; c++) {
		check_output(&conns[c]);
		free(conns[c].out);
	}
	if (use_tar) {
		httpd_tar_free(&tar);
		duet_block_unregister(duet_blk_mem_block(disk));
	}
	return 0;
}
