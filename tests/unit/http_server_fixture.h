/* The fixture of httpd's server tests (tests/unit/http_server_*_test.c):
 * the server on a fake network stack (net_fakestack.h) on the virtual
 * clock, serving a table of small files and one big one, with the
 * helpers that connect, send and read what came back. Each test program
 * includes it once. */
#ifndef HTTP_SERVER_FIXTURE_H
#define HTTP_SERVER_FIXTURE_H

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
	fakestack_install(loop);
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

static inline struct fconn *connect_(int i)
{
	return fakestack_accept(&conns[i], SIZE_MAX, (uint16_t)(5000 + i));
}

static inline void send_str(struct fconn *f, const char *s)
{
	duet_tcp_deliver_recv(&f->base, s, strlen(s));
}

static inline void run_for(duet_time_t d)
{
	fakeplat_run_for(loop, d);
}

static inline unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL;
	     p++)
		n++;
	return n;
}

static inline void restart(unsigned max_conns, unsigned max_per_peer)
{
	struct httpd_source src;
	httpd_stop(&srv, NULL, NULL);
	httpd_table_source(&table, &src);
	cfg.max_conns = max_conns;
	cfg.max_per_peer = max_per_peer;
	cfg.evict_grace = 0; /* every admission here is at the same instant */
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
}

static inline const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	cr_assert_not_null(b, "%s", resp);
	return b + 4;
}

#endif
