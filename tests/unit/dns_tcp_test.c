/* DNS over TCP (apps/dns/tcp.c) against the fake stack: answers are whole
 * however little send space the stack has, a slow reader gets every answer
 * of a deep pipeline in order, the output stays bounded and writing resumes
 * on `writable`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <duet/loop.h>
#include <duet/sys.h>

#include "answer.h"
#include "fakeplat.h"
#include "net_fakestack.h"
#include "tcp.h"
#include "zone.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct dns_zone zone;
static struct dns_server server;
static struct dns_tcp tcp;
static struct fconn conns[8];

/* "big" has 40 TXT records: an answer of about 8 KiB. */
static void setup(void)
{
	static char text[16384];
	char err[256];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "$ORIGIN example.com.\n$TTL 60\n"
				    "@ SOA ns1 hm 1 2 3 4 5\n  NS ns1\n"
				    "ns1 A 192.0.2.53\n");
	for (int i = 0; i < 40; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "big TXT \"");
		memset(text + n, 'a' + i % 26, 190);
		n += 190;
		n +=
		    (size_t)snprintf(text + n, sizeof(text) - n, "%02d\"\n", i);
	}
	cr_assert_eq(dns_zone_load(&zone, text, n, "", err, sizeof(err)), 0,
		     "%s", err);
	server = (struct dns_server){.zones = &zone, .nzones = 1};

	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	fakestack_install(loop);
	memset(conns, 0, sizeof(conns));
	struct duet_sockaddr addr = {.port = 53};
	duet_ipaddr_parse("127.0.0.1", &addr.ip);
	memset(&tcp, 0, sizeof(tcp));
	/* No grace: the tests admit everything at one instant. */
	struct duet_connpool_config pool = {.max_conns = 4,
					    .idle_timeout = DUET_SEC(10),
					    .request_timeout = DUET_SEC(10)};
	cr_assert_eq(
	    dns_tcp_start(&tcp, loop, &fstack, &addr, 1, &server, &pool), 0);
}

static void teardown(void)
{
	dns_tcp_stop(&tcp);
	dns_zone_free(&zone);
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++)
		free(conns[i].out);
}

TestSuite(dns_tcp, .init = setup, .fini = teardown);

static struct fconn *connect_(int i, size_t space)
{
	return fakestack_accept(&conns[i], space, (uint16_t)(5000 + i));
}

/* n framed queries for big.example.com TXT, IDs 0..n-1, into buf. */
static size_t pipeline(uint8_t *buf, unsigned n)
{
	static const uint8_t qname[] = "\3big\7example\3com";
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *q = buf + len + 2;
		size_t ql = 12;
		memset(q, 0, 12);
		q[0] = (uint8_t)(i >> 8);
		q[1] = (uint8_t)i;
		q[5] = 1;
		memcpy(q + ql, qname, sizeof(qname));
		ql += sizeof(qname);
		q[ql++] = 0;
		q[ql++] = 16; /* TXT */
		q[ql++] = 0;
		q[ql++] = 1;
		buf[len] = 0;
		buf[len + 1] = (uint8_t)ql;
		len += 2 + ql;
	}
	return len;
}

/* Checks the framed answers in f->out: IDs 0.., none truncated, each with
 * all 40 records. Returns how many whole answers there are. */
static unsigned check_answers(const struct fconn *f)
{
	const uint8_t *p = (const uint8_t *)f->out;
	size_t off = 0;
	unsigned n = 0;

	while (f->out_len - off >= 2) {
		size_t m = (size_t)p[off] << 8 | p[off + 1];
		if (f->out_len - off - 2 < m)
			break;
		const uint8_t *a = p + off + 2;
		cr_assert_geq(m, 12);
		cr_assert_eq(a[0] << 8 | a[1], n, "answer %u out of order", n);
		cr_assert_eq(a[2] & 0x02, 0, "answer %u truncated (TC)", n);
		cr_assert_eq(a[6] << 8 | a[7], 40, "answer %u: %d records", n,
			     a[6] << 8 | a[7]);
		off += 2 + m;
		n++;
	}
	return n;
}

Test(dns_tcp, answers_are_whole_however_little_send_space)
{
	static uint8_t q[4 * 40];
	size_t len = pipeline(q, 4);
	struct fconn *f = connect_(0, 600); /* less than one answer */

	duet_tcp_deliver_recv(&f->base, q, len);
	cr_assert(f->owed, "a send was tried and refused: writable is due");
	for (int i = 0; i < 1000 && check_answers(f) < 4; i++) {
		cr_assert(f->owed, "waiting without a refused send: a stall");
		f->owed = false;
		f->space = 600;
		duet_tcp_deliver_writable(&f->base);
	}
	cr_assert_eq(check_answers(f), 4);
	cr_assert_not(f->aborted || f->closed);
}

static void run_for(duet_time_t d)
{
	fakeplat_run_for(loop, d);
}

/* The client sends while the stack lets it (a stack delivers nothing while
 * reading is paused) and reads 3000 bytes per `writable`. */
Test(dns_tcp, slow_reader_of_a_deep_pipeline_gets_every_answer)
{
	enum { N = 1000 };
	static uint8_t q[N * 40];
	size_t len = pipeline(q, N), sent = 0;
	struct fconn *f = connect_(0, 0);
	bool was_paused = false;

	for (unsigned rounds = 0; rounds < 100000; rounds++) {
		if (!f->paused && sent < len) {
			size_t k = len - sent < 16384 ? len - sent : 16384;
			duet_tcp_deliver_recv(&f->base, q + sent, k);
			sent += k;
			was_paused |= f->paused;
			continue;
		}
		if (!f->owed)
			break; /* nothing pending, or a stall */
		f->owed = false;
		f->space = 3000;
		duet_tcp_deliver_writable(&f->base);
	}
	cr_assert(was_paused, "reading paused while the output was over");
	cr_assert_eq(sent, len, "stalled with %zu bytes unsent", len - sent);
	cr_assert_eq(check_answers(f), N);
	cr_assert_not(f->paused, "reading resumed once all was answered");
	cr_assert_not(f->aborted);
	cr_assert_leq(tcp.out_peak, DNS_TCP_OUT_HIGH + 2 + 65535,
		      "output bounded: peak %zu", tcp.out_peak);
	cr_assert_eq(server.stats.truncated, 0);
}

/* A client that ignores the pause (more than a stack would deliver) is
 * reset, not buffered without bound. */
Test(dns_tcp, input_beyond_its_bound_resets)
{
	enum { N = 3000 };
	static uint8_t q[N * 40];
	size_t len = pipeline(q, N);
	struct fconn *f = connect_(0, 0);

	cr_assert_gt(len, DNS_TCP_IN_MAX);
	duet_tcp_deliver_recv(&f->base, q, len);
	cr_assert(f->aborted);
}

/* A client that sends its queries and shuts down its side at once still
 * gets every answer, then the close. */
Test(dns_tcp, client_done_sending_still_gets_every_answer)
{
	enum { N = 20 };
	static uint8_t q[N * 40];
	size_t len = pipeline(q, N);
	struct fconn *f = connect_(0, 0);

	duet_tcp_deliver_recv(&f->base, q, len);
	duet_tcp_deliver_recv(&f->base, "", 0);
	cr_assert_not(f->closed, "answers are still waiting");
	for (int i = 0; i < 1000 && !f->closed; i++) {
		cr_assert(f->owed);
		f->owed = false;
		f->space = 5000;
		duet_tcp_deliver_writable(&f->base);
	}
	cr_assert(f->closed);
	cr_assert_not(f->aborted);
	cr_assert_eq(check_answers(f), N);
}

Test(dns_tcp, pipeline_split_anywhere_is_answered_in_order)
{
	static uint8_t q[16 * 40];
	size_t len = pipeline(q, 16);
	struct fconn *f = connect_(0, SIZE_MAX);

	for (size_t i = 0; i < len; i += 7)
		duet_tcp_deliver_recv(&f->base, q + i,
				      len - i < 7 ? len - i : 7);
	cr_assert_eq(check_answers(f), 16);
}

Test(dns_tcp, oversize_frame_resets)
{
	struct fconn *f = connect_(0, SIZE_MAX);
	duet_tcp_deliver_recv(&f->base, "\xff\xff", 2);
	cr_assert(f->aborted);
	cr_assert_eq(tcp.closed_bad, 1);
}

/* Four connections trickle a byte of an unfinished query each second: a
 * newcomer still gets a slot (the oldest trickler goes) and its answer, and
 * the bytes never extend the tricklers' bound. */
Test(dns_tcp, tricklers_cannot_hold_the_pool)
{
	static uint8_t q[40];
	size_t len = pipeline(q, 1);
	for (int i = 0; i < 4; i++)
		duet_tcp_deliver_recv(&connect_(i, SIZE_MAX)->base, q, 1);
	struct fconn *probe = connect_(4, SIZE_MAX);
	cr_assert(conns[0].aborted);
	duet_tcp_deliver_recv(&probe->base, q, len);
	cr_assert_eq(check_answers(probe), 1);
	cr_assert_eq(tcp.srv.pool.stats.evicted[DUET_EVICT_FULL_PARTIAL], 1);
	for (int s = 0; s < 10; s++) {
		for (int i = 1; i < 4; i++)
			duet_tcp_deliver_recv(&conns[i].base, q + 1 + s, 1);
		run_for(DUET_MSEC(1090));
	}
	for (int i = 1; i < 4; i++)
		cr_assert(conns[i].closed, "trickler %d outlived its bound", i);
	cr_assert_not(probe->aborted, "the probe was answered, then idled out");
}

Test(dns_tcp, silent_connections_make_room_and_time_out)
{
	for (int i = 0; i < 4; i++)
		connect_(i, SIZE_MAX);
	connect_(4, SIZE_MAX);
	cr_assert(conns[0].aborted);
	cr_assert_eq(tcp.srv.pool.stats.evicted[DUET_EVICT_FULL_IDLE], 1);
	run_for(DUET_SEC(11));
	for (int i = 1; i < 5; i++)
		cr_assert(conns[i].closed);
	cr_assert_eq(tcp.srv.pool.stats.evicted[DUET_EVICT_IDLE_TIMEOUT], 4);
}
