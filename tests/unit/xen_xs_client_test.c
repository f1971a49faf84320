/* platform-xen/xs_client.c — the xenstore client over the ring page —
 * against a scripted xenstored on the host: replies in pieces, replies for
 * others, watch events on the way, and the hostile cases that must lose
 * the connection or time out rather than hang or read out of bounds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <duet/platform.h>

#include "fakeplat.h"
#include "xs_client.h"
#include "xs_proto.h"

static struct xenstore_domain_interface page;
static struct duet__xs_rx reqs;
static uint32_t last_id; /* of the last request xenstored took */
static unsigned requests, raises;
static bool stalled;		/* xenstored takes no requests */
static void (*on_wait)(void);	/* xenstored's move when the client waits */
static void (*on_notify)(void); /* ... and when it is notified */

static void put(const void *data, size_t len)
{
	const char *p = data;

	cr_assert_leq(len,
		      XENSTORE_RING_SIZE - (page.rsp_prod - page.rsp_cons));
	for (size_t i = 0; i < len; i++)
		page.rsp[MASK_XENSTORE_IDX(page.rsp_prod + i)] = p[i];
	page.rsp_prod += (XENSTORE_RING_IDX)len;
}

/* Puts a message; only its first `cut` bytes if cut is smaller. */
static size_t put_msg(uint32_t type, uint32_t id, const char *body, size_t len,
		      size_t cut)
{
	char m[sizeof(struct xsd_sockmsg) + 256];
	struct xsd_sockmsg h = {
	    .type = type, .req_id = id, .len = (uint32_t)len};

	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), body, len);
	size_t n = sizeof(h) + len < cut ? sizeof(h) + len : cut;
	put(m, n);
	return n;
}

static void take_requests(void)
{
	while (!stalled && page.req_cons != page.req_prod) {
		size_t used;
		char c = page.req[MASK_XENSTORE_IDX(page.req_cons)];
		if (duet__xs_rx_feed(&reqs, &c, 1, &used) == 1) {
			last_id = reqs.msg.hdr.req_id;
			requests++;
			duet__xs_rx_next(&reqs);
		}
		page.req_cons++;
	}
}

static void notify(void)
{
	take_requests();
	if (on_notify != NULL)
		on_notify();
}

static void clear(void)
{
}

static void wait_for(duet_time_t deadline)
{
	cr_assert_lt(fakeplat_time(), deadline);
	if (on_wait != NULL)
		on_wait();
	fakeplat_set_time(fakeplat_time() + DUET_MSEC(500));
}

static void raise_port(void)
{
	raises++;
}

static const struct duet__xs_transport transport = {
    .ring = &page,
    .notify = notify,
    .clear = clear,
    .wait = wait_for,
    .raise = raise_port,
    .now = duet_plat_clock_monotonic,
};

static void setup(void)
{
	memset(&page, 0, sizeof(page));
	duet__xs_rx_reset(&reqs);
	last_id = 0;
	requests = raises = 0;
	stalled = false;
	on_wait = on_notify = NULL;
	fakeplat_reset();
	/* Left over from before: skipped. */
	page.rsp_prod = 40;
	duet__xs_client_start(&transport);
}

TestSuite(xs_client, .init = setup);

/* ---- xenstored's moves ---------------------------------------------- */

static void reply_value(void)
{
	put_msg(XS_READ, last_id, "0", 1, SIZE_MAX);
	on_wait = NULL;
}

static void stray_event_then_reply(void)
{
	static const char ev[] = "device/vif/0/state\0duet1";

	put_msg(XS_READ, last_id + 100, "stale", 5, SIZE_MAX);
	put_msg(XS_WATCH_EVENT, 0, ev, sizeof(ev), SIZE_MAX);
	put_msg(XS_READ, last_id, "42", 2, SIZE_MAX);
	on_wait = NULL;
}

Test(xs_client, reply_after_strays_and_events)
{
	char buf[16];

	on_wait = stray_event_then_reply;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "x", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "42");
	cr_assert_eq(raises, 1, "the event waits for the port's handler");
}

/* A message's bytes, to be put in pieces. */
static size_t make_msg(char *m, uint32_t type, uint32_t id, const char *body,
		       size_t len)
{
	struct xsd_sockmsg h = {
	    .type = type, .req_id = id, .len = (uint32_t)len};

	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), body, len);
	return sizeof(h) + len;
}

static char piece[64];
static size_t piece_len;
static unsigned halves;

/* The first 10 bytes (part of the header), then the rest. */
static void reply_in_halves(void)
{
	if (halves++ == 0) {
		piece_len = make_msg(piece, XS_READ, last_id, "abcdef", 6);
		put(piece, 10);
	} else {
		put(piece + 10, piece_len - 10);
		on_wait = NULL;
	}
}

Test(xs_client, reply_in_pieces_is_reassembled)
{
	char buf[16];

	halves = 0;
	on_wait = reply_in_halves;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "x", buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "abcdef");
	cr_assert_eq(halves, 2);
}

static void half_a_reply(void)
{
	piece_len = make_msg(piece, XS_READ, last_id, "abcdef", 6);
	put(piece, 10);
	on_wait = NULL;
}

Test(xs_client, unfinished_reply_times_out_and_the_next_request_works)
{
	char buf[16];
	duet_time_t t0 = fakeplat_time();

	on_wait = half_a_reply;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "x", buf, sizeof(buf)),
		     -ETIMEDOUT);
	cr_assert_geq(fakeplat_time() - t0, DUET__XS_TIMEOUT);
	cr_assert_not(duet__xs_client_lost());
	/* Its rest arrives late, then the next reply: the late one is
	 * dropped. */
	put(piece + 10, piece_len - 10);
	on_wait = reply_value;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "y", buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf, "0");
}

/* The fixes: each of these hung, read past the ring or desynchronised
 * the stream before. */

static void bogus_reply_producer(void)
{
	page.rsp_prod = page.rsp_cons + XENSTORE_RING_SIZE + 1;
	on_wait = NULL;
}

Test(xs_client, reply_producer_out_of_bounds_loses_the_connection)
{
	char buf[16];

	on_wait = bogus_reply_producer;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "x", buf, sizeof(buf)), -EPROTO);
	cr_assert(duet__xs_client_lost());
	cr_assert(strstr(fakeplat_console(), "out of bounds") != NULL);
	/* From then on every request fails at once, writing nothing. */
	unsigned before = requests;
	XENSTORE_RING_IDX prod = page.req_prod;
	cr_assert_eq(duet__xs_write(XS_TX_NONE, "x", "1"), -EPROTO);
	cr_assert_eq(page.req_prod, prod);
	cr_assert_eq(requests, before);
}

Test(xs_client, request_consumer_out_of_bounds_loses_the_connection)
{
	page.req_cons = page.req_prod + 1; /* "consumed" a byte never sent */
	cr_assert_eq(duet__xs_write(XS_TX_NONE, "x", "1"), -EPROTO);
	cr_assert(duet__xs_client_lost());
	cr_assert_eq(page.req_prod, 0, "nothing written over the ring");
}

Test(xs_client, request_cut_short_by_a_stalled_ring_loses_the_connection)
{
	static char big[2000];

	memset(big, 'v', sizeof(big) - 1);
	stalled = true;
	cr_assert_eq(duet__xs_write(XS_TX_NONE, "x", big), -EPROTO);
	cr_assert(duet__xs_client_lost());
	cr_assert_eq(page.req_prod, XENSTORE_RING_SIZE, "the part that fit");
}

Test(xs_client, stalled_ring_before_a_request_is_a_timeout)
{
	stalled = true;
	page.req_prod = XENSTORE_RING_SIZE; /* full of someone's bytes */
	cr_assert_eq(duet__xs_write(XS_TX_NONE, "x", "1"), -ETIMEDOUT);
	cr_assert_not(duet__xs_client_lost(), "nothing of ours was written");
}

static void stray_at_every_notify(void)
{
	/* xenstored refills as fast as the client reads, and never
	 * answers: the clock moves only while the client works. */
	if (page.rsp_prod == page.rsp_cons) {
		put_msg(XS_READ, last_id + 1, "no", 2, SIZE_MAX);
		fakeplat_set_time(fakeplat_time() + DUET_MSEC(1));
	}
}

Test(xs_client, flood_of_replies_for_others_still_times_out, .timeout = 10)
{
	char buf[16];
	duet_time_t t0 = fakeplat_time();

	on_notify = stray_at_every_notify;
	cr_assert_eq(duet__xs_read(XS_TX_NONE, "x", buf, sizeof(buf)),
		     -ETIMEDOUT);
	cr_assert_leq(fakeplat_time() - t0, DUET__XS_TIMEOUT + DUET_SEC(1));
}
