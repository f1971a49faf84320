/* The dns app's query path with its default zones (apps/dns/zones/): any
 * datagram gets no answer or one well-formed response to it, over UDP
 * and over TCP; and TCP's framing (RFC 7766) over a fake connection:
 * bytes in any split, several connections, send windows, idle timeouts,
 * half-closes and resets; what goes out is whole frames, each a
 * well-formed response.
 *
 * Input: a flags byte; bit 0 clear: the rest is one query; set: the rest
 * is a client script (an op byte and its operands each). */
#include <duet/error.h>
#include <duet/net_stack.h>
#include <duet/sys.h>

#include "answer.h"
#include "fuzz.h"
#include "net_fakestack.h"
#include "tcp.h"
#include "zones.h"

#define MAX_ZONES 8
#define NCONNS	  3

static struct dns_zone zones[MAX_ZONES];
static struct dns_server server;
static uint8_t out[65535];
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct dns_tcp tcp;
static struct fconn conns[NCONNS];

static void load_zones(void)
{
	char err[256], origin[DNS_NAME_MAX + 1];

	FUZZ_CHECK(dns_zone_file_count > 0 && dns_zone_file_count <= MAX_ZONES);
	for (size_t i = 0; i < dns_zone_file_count; i++) {
		const struct dns_zone_file *f = &dns_zone_files[i];
		size_t n = strlen(f->name) - strlen(".zone");
		snprintf(origin, sizeof(origin), "%.*s", (int)n, f->name);
		FUZZ_CHECK(dns_zone_load(&zones[i], f->text, f->len, origin,
					 err, sizeof(err)) == 0);
	}
	server.zones = zones;
	server.nzones = dns_zone_file_count;
}

/* A name in a message: labels, or a pointer to an earlier offset. */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos, total = 0;
	bool jumped = false;

	for (int hops = 0; hops < 128; hops++) {
		if (p >= len)
			return false;
		uint8_t l = m[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return false;
			size_t to = (size_t)(l & 0x3f) << 8 | m[p + 1];
			if (to >= p)
				return false; /* only backwards */
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = to;
			continue;
		}
		if (l & 0xc0)
			return false;
		total += l + 1u;
		if (total > DNS_NAME_MAX)
			return false;
		if (l == 0) {
			if (!jumped)
				*pos = p + 1;
			return true;
		}
		p += l + 1u;
	}
	return false;
}

/* A response to query q: its ID and question, and every section walks
 * to exactly its end. */
static void check_response(const uint8_t *q, size_t qlen, const uint8_t *m,
			   size_t len, size_t cap)
{
	FUZZ_CHECK(len >= 12 && len <= cap);
	FUZZ_CHECK(qlen >= 2 && m[0] == q[0] && m[1] == q[1]);
	FUZZ_CHECK(m[2] & 0x80); /* QR */
	unsigned counts[4];
	for (int i = 0; i < 4; i++)
		counts[i] = (unsigned)(m[4 + 2 * i] << 8 | m[5 + 2 * i]);
	FUZZ_CHECK(counts[0] <= 1);
	size_t p = 12;
	for (unsigned i = 0; i < counts[0]; i++) {
		FUZZ_CHECK(skip_name(m, len, &p));
		FUZZ_CHECK(p + 4 <= len);
		p += 4;
	}
	for (unsigned i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
		FUZZ_CHECK(skip_name(m, len, &p));
		FUZZ_CHECK(p + 10 <= len);
		size_t rdlen = (size_t)(m[p + 8] << 8 | m[p + 9]);
		p += 10;
		FUZZ_CHECK(rdlen <= len - p);
		p += rdlen;
	}
	FUZZ_CHECK(p == len);
}

static void query(const uint8_t *q, size_t qlen)
{
	size_t n = dns_answer(&server, DNS_UDP, q, qlen, out, DNS_RESPONSE_MAX);
	if (n > 0)
		check_response(q, qlen, out, n, DNS_RESPONSE_MAX);
	n = dns_answer(&server, DNS_TCP, q, qlen, out, sizeof(out));
	if (n > 0)
		check_response(q, qlen, out, n, sizeof(out));
}

/* ------------------------------------------------------------- TCP */

/* Frames, each a response (its query is not kept: the ID is not
 * compared). While the send window is short the last one may still be on
 * its way (the server queues whole answers and sends what fits); `whole`
 * says none may be. */
static void check_frames(const struct fconn *f, bool whole)
{
	const uint8_t *o = (const uint8_t *)f->out;
	size_t p = 0;

	while (p < f->out_len) {
		size_t n = f->out_len - p >= 2 ? (size_t)(o[p] << 8 | o[p + 1])
					       : SIZE_MAX;
		if (n == SIZE_MAX || n > f->out_len - p - 2) {
			FUZZ_CHECK(!whole);
			return;
		}
		check_response(o + p + 2, 2, o + p + 2, n, 65535);
		p += 2 + n;
	}
}

static bool usable(const struct fconn *f)
{
	return f->base.stack != NULL && !f->closed && !f->aborted;
}

static void tcp_script(struct fuzz_in *in)
{
	struct duet_sockaddr addr;

	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	duet_net_set_stack(loop, &fstack);
	FUZZ_CHECK(duet_sockaddr_parse("127.0.0.1:53", &addr) == 0);
	memset(conns, 0, sizeof(conns));
	/* Two slots, so that the pool's eviction is reached too. */
	struct duet_connpool_config pool = {.max_conns = 2,
					    .idle_timeout = DUET_SEC(10),
					    .request_timeout = DUET_SEC(10)};
	FUZZ_CHECK(dns_tcp_start(&tcp, loop, &fstack, &addr, 1, &server,
				 &pool) == 0);
	while (fuzz_more(in)) {
		uint8_t op = fuzz_u8(in);
		struct fconn *f = &conns[(op >> 4) % NCONNS];
		const uint8_t *b;
		size_t n;
		switch (op & 7) {
		case 0:
			if (f->base.stack != NULL)
				break;
			f->base.stack = &fstack;
			f->space = SIZE_MAX;
			accept_cb(&flistener, &f->base, accept_arg);
			break;
		case 1:
		case 2:
		case 3:
			n = fuzz_bytes(in, 255, &b);
			if (usable(f) && !f->shut && n > 0)
				duet_tcp_deliver_recv(&f->base, b, n);
			break;
		case 4:
			n = fuzz_u8(in);
			f->space = n == 255 ? SIZE_MAX : n * 16;
			if (usable(f))
				duet_tcp_deliver_writable(&f->base);
			break;
		case 5:
			fuzz_run_for(loop, DUET_MSEC(100) * fuzz_u8(in));
			break;
		case 6:
			if (usable(f))
				duet_tcp_deliver_recv(&f->base, "", 0);
			break;
		default:
			if (usable(f)) {
				f->aborted = true;
				duet_tcp_deliver_error(&f->base, -ECONNRESET);
			}
			break;
		}
		check_frames(f, false);
	}
	/* The window opens wide: whatever was answered arrives whole, on
	 * the connections still open. */
	for (unsigned i = 0; i < NCONNS; i++) {
		conns[i].space = SIZE_MAX;
		if (usable(&conns[i]))
			duet_tcp_deliver_writable(&conns[i].base);
	}
	fuzz_run_for(loop, DUET_MSEC(1));
	for (unsigned i = 0; i < NCONNS; i++)
		check_frames(&conns[i], usable(&conns[i]));
	fuzz_run_for(loop, DUET_SEC(20));
	dns_tcp_stop(&tcp);
	for (unsigned i = 0; i < NCONNS; i++) {
		check_frames(&conns[i], false);
		free(conns[i].out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	if (server.nzones == 0)
		load_zones();
	if (fuzz_u8(&in) & 1) {
		tcp_script(&in);
		return 0;
	}
	/* Its own copy, so ASan sees any read past the end. */
	uint8_t *q = malloc(in.left + 1);
	FUZZ_CHECK(q != NULL);
	memcpy(q, in.p, in.left);
	query(q, in.left);
	free(q);
	return 0;
}
