/* The Xen netfront's ring logic (platform-xen/netfront_ring.c) against a
 * fake backend that works the other end of the same shared rings, through a
 * fake grant table (gref -> page), and that misbehaves on purpose: indexes
 * that jump, ids never issued or answered twice, oversize lengths and
 * offsets, error statuses, frames over several slots, extra info. The
 * front must drop or disconnect, never write outside its pages, never
 * loop without end (ASan and the test's own bounds watch that). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netfront_ring.h"

#define FRAME_MAX 1518
#define TX_GREF0  100
#define RX_GREF0  300
#define NGREFS	  512

static struct duet__nf_ring ring;
static netif_tx_back_ring_t be_tx;
static netif_rx_back_ring_t be_rx;
static void *tx_sring, *rx_sring;
static uint8_t *pages[DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS];
static uint8_t *grant_table[NGREFS]; /* gref -> page, as the backend sees */

/* What the front reported. */
static unsigned delivered, fatal_errors, frame_errors, rx_drops;
static uint8_t last_frame[FRAME_MAX];
static size_t last_len;
static unsigned answer_during_delivery; /* frames the backend adds then */
static uint8_t *be_rx_answer(const void *data, int16_t status, uint16_t offset,
			     uint16_t flags, int id);

static void on_deliver(const void *frame, size_t len, void *arg)
{
	cr_assert_eq(arg, &ring);
	cr_assert(len <= FRAME_MAX);
	memcpy(last_frame, frame, len);
	last_len = len;
	delivered++;
	if (answer_during_delivery > 0) {
		answer_during_delivery--;
		be_rx_answer(frame, (int16_t)len, 0, 0, -1);
	}
}

static void on_error(enum duet__nf_fault fault, const char *what, long value,
		     void *arg)
{
	(void)what;
	(void)value;
	cr_assert_eq(arg, &ring);
	if (fault == DUET__NF_BROKEN)
		fatal_errors++;
	else
		frame_errors++;
	if (fault == DUET__NF_RX_DROP)
		rx_drops++;
}

static const struct duet__nf_ops ops = {.deliver = on_deliver,
					.error = on_error};

static void setup(void)
{
	tx_sring = aligned_alloc(DUET__NF_PAGE_SIZE, DUET__NF_PAGE_SIZE);
	rx_sring = aligned_alloc(DUET__NF_PAGE_SIZE, DUET__NF_PAGE_SIZE);
	cr_assert(tx_sring != NULL && rx_sring != NULL);
	memset(grant_table, 0, sizeof(grant_table));
	duet__nf_init(&ring, tx_sring, rx_sring, FRAME_MAX, &ops, &ring);
	BACK_RING_INIT(&be_tx, (netif_tx_sring_t *)tx_sring,
		       DUET__NF_PAGE_SIZE);
	BACK_RING_INIT(&be_rx, (netif_rx_sring_t *)rx_sring,
		       DUET__NF_PAGE_SIZE);
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS; i++) {
		pages[i] =
		    aligned_alloc(DUET__NF_PAGE_SIZE, DUET__NF_PAGE_SIZE);
		cr_assert(pages[i] != NULL);
		memset(pages[i], 0, DUET__NF_PAGE_SIZE);
	}
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS; i++) {
		ring.tx_buf[i] = pages[i];
		ring.tx_gref[i] = TX_GREF0 + i;
		grant_table[TX_GREF0 + i] = pages[i];
	}
	for (unsigned i = 0; i < DUET__NF_RX_SLOTS; i++) {
		ring.rx_buf[i] = pages[DUET__NF_TX_SLOTS + i];
		ring.rx_gref[i] = RX_GREF0 + i;
		grant_table[RX_GREF0 + i] = pages[DUET__NF_TX_SLOTS + i];
	}
	delivered = fatal_errors = frame_errors = rx_drops = 0;
	answer_during_delivery = 0;
	last_len = 0;
}

static void teardown(void)
{
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS; i++)
		free(pages[i]);
	free(tx_sring);
	free(rx_sring);
}

TestSuite(netfront, .init = setup, .fini = teardown);

/* ---- the fake backend ---- */

static bool be_tx_take(netif_tx_request_t *req)
{
	if (!RING_HAS_UNCONSUMED_REQUESTS(&be_tx))
		return false;
	*req = *RING_GET_REQUEST(&be_tx, be_tx.req_cons);
	be_tx.req_cons++;
	return true;
}

static void be_tx_respond(uint16_t id, int16_t status)
{
	netif_tx_response_t *rsp =
	    RING_GET_RESPONSE(&be_tx, be_tx.rsp_prod_pvt);
	rsp->id = id;
	rsp->status = status;
	be_tx.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&be_tx);
}

/* Takes the next RX request and answers it; `id` < 0 echoes the request's
 * id. Returns the page the frame went to, or NULL if none was posted. */
static uint8_t *be_rx_answer(const void *data, int16_t status, uint16_t offset,
			     uint16_t flags, int id)
{
	if (!RING_HAS_UNCONSUMED_REQUESTS(&be_rx))
		return NULL;
	netif_rx_request_t req = *RING_GET_REQUEST(&be_rx, be_rx.req_cons);
	be_rx.req_cons++;
	cr_assert(req.gref < NGREFS && grant_table[req.gref] != NULL,
		  "front posted gref %u it never granted", req.gref);
	uint8_t *page = grant_table[req.gref];
	if (data != NULL && status > 0 &&
	    (size_t)offset + (size_t)status <= DUET__NF_PAGE_SIZE)
		memcpy(page + offset, data, (size_t)status);
	netif_rx_response_t *rsp =
	    RING_GET_RESPONSE(&be_rx, be_rx.rsp_prod_pvt);
	rsp->id = id < 0 ? req.id : (uint16_t)id;
	rsp->offset = offset;
	rsp->flags = flags;
	rsp->status = status;
	be_rx.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&be_rx);
	return page;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7);
}

static int send_frame(size_t len, unsigned seed)
{
	static uint8_t frame[FRAME_MAX + 64];

	fill(frame, len, seed);
	/* Two pieces, as lwIP hands a header pbuf and a payload pbuf. */
	struct duet_iovec iov[2] = {{frame, len < 14 ? len : 14},
				    {frame + 14, len < 14 ? 0 : len - 14}};
	return duet__nf_tx_send(&ring, iov, 2, len);
}

/* ---- the well-behaved backend ---- */

Test(netfront, tx_frames_reach_the_backend_intact_through_the_ring)
{
	uint8_t want[FRAME_MAX];

	/* Enough frames to wrap the ring (256 slots) twice. */
	for (unsigned n = 0; n < 600; n++) {
		size_t len = 14 + (n * 37) % (FRAME_MAX - 13);
		cr_assert_geq(send_frame(len, n), 0);
		netif_tx_request_t req;
		cr_assert(be_tx_take(&req));
		cr_assert_eq(req.size, len);
		cr_assert_eq(req.flags, 0);
		cr_assert(req.gref >= TX_GREF0 &&
			  req.gref < TX_GREF0 + DUET__NF_TX_SLOTS);
		fill(want, len, n);
		cr_assert_eq(
		    memcmp(grant_table[req.gref] + req.offset, want, len), 0,
		    "frame %u differs", n);
		be_tx_respond(req.id, NETIF_RSP_OKAY);
		cr_assert_eq(duet__nf_tx_reap(&ring), 1);
	}
	cr_expect_eq(ring.tx_nfree, DUET__NF_TX_SLOTS);
	cr_expect_eq(fatal_errors + frame_errors, 0);
}

Test(netfront, a_full_tx_queue_says_enobufs_until_the_backend_answers)
{
	for (unsigned n = 0; n < DUET__NF_TX_SLOTS; n++)
		cr_assert_geq(send_frame(60, n), 0);
	cr_expect_eq(send_frame(60, 99), -ENOBUFS);

	netif_tx_request_t req;
	cr_assert(be_tx_take(&req));
	be_tx_respond(req.id, NETIF_RSP_OKAY);
	/* The send itself reaps the completion and finds the slot. */
	cr_expect_geq(send_frame(60, 100), 0);
	cr_expect_eq(send_frame(60, 101), -ENOBUFS);
	cr_expect_eq(fatal_errors, 0);
}

Test(netfront, tx_rejects_oversize_frames)
{
	cr_expect_eq(send_frame(FRAME_MAX + 1, 0), -EMSGSIZE);
	cr_expect_eq(ring.tx_nfree, DUET__NF_TX_SLOTS);
}

Test(netfront, rx_buffers_are_posted_once_and_recycled)
{
	uint8_t frame[FRAME_MAX];

	cr_assert_geq(duet__nf_rx_refill(&ring), 0);
	cr_expect_eq(ring.rx.req_prod_pvt, DUET__NF_RX_SLOTS);
	cr_expect_eq(duet__nf_rx_refill(&ring), 0, "nothing new to post");
	cr_expect_eq(ring.rx.req_prod_pvt, DUET__NF_RX_SLOTS);

	for (unsigned n = 0; n < 700; n++) {
		size_t len = 14 + (n * 53) % (FRAME_MAX - 13);
		fill(frame, len, n);
		uint8_t *page = be_rx_answer(frame, (int16_t)len, 0, 0, -1);
		cr_assert(page != NULL, "no RX buffer posted at frame %u", n);
		cr_assert_eq(duet__nf_rx_poll(&ring), 1);
		cr_assert_eq(last_len, len);
		cr_assert_eq(memcmp(last_frame, frame, len), 0);
		cr_assert_geq(duet__nf_rx_refill(&ring), 0);
	}
	cr_expect_eq(delivered, 700);
	/* Still the same 64 pages: every gref posted is one of ours. */
	cr_expect_eq(ring.rx.req_prod_pvt - ring.rx.rsp_cons,
		     DUET__NF_RX_SLOTS);
	cr_expect_eq(fatal_errors + frame_errors, 0);
}

Test(netfront, rx_honours_the_offset)
{
	uint8_t frame[100];

	duet__nf_rx_refill(&ring);
	fill(frame, sizeof(frame), 5);
	be_rx_answer(frame, sizeof(frame), 200, 0, -1);
	cr_assert_eq(duet__nf_rx_poll(&ring), 1);
	cr_expect_eq(last_len, sizeof(frame));
	cr_expect_eq(memcmp(last_frame, frame, sizeof(frame)), 0);
}

/* ---- frames the backend spoils: dropped, buffer reposted ---- */

static void expect_dropped_then_working(void)
{
	uint8_t frame[64];

	cr_expect_eq(delivered, 0);
	cr_expect_eq(frame_errors, 1);
	cr_expect_eq(rx_drops, 1, "counted as a received frame dropped");
	cr_expect_eq(fatal_errors, 0);
	cr_expect_not(ring.broken);
	/* The spoilt buffer goes back and the next frame gets through. */
	duet__nf_rx_refill(&ring);
	cr_expect_eq(ring.rx.req_prod_pvt - ring.rx.rsp_cons,
		     DUET__NF_RX_SLOTS);
	fill(frame, sizeof(frame), 1);
	be_rx_answer(frame, sizeof(frame), 0, 0, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	cr_expect_eq(delivered, 1);
}

Test(netfront, rx_error_status_drops_the_frame)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, NETIF_RSP_ERROR, 0, 0, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	expect_dropped_then_working();
}

Test(netfront, rx_oversize_length_drops_the_frame)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 4000, 0, 0, -1); /* fits the page, not the MTU */
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	expect_dropped_then_working();
}

Test(netfront, rx_offset_past_the_page_drops_the_frame)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 1000, 3500, 0, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	expect_dropped_then_working();
}

Test(netfront, rx_length_beyond_any_page_drops_the_frame)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, INT16_MAX, 0xffff, 0, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	expect_dropped_then_working();
}

Test(netfront, rx_frame_over_several_slots_is_dropped_whole)
{
	uint8_t frame[64];

	duet__nf_rx_refill(&ring);
	fill(frame, sizeof(frame), 2);
	be_rx_answer(frame, 64, 0, NETRXF_more_data, -1);
	be_rx_answer(frame, 64, 0, NETRXF_more_data, -1);
	be_rx_answer(frame, 64, 0, 0, -1); /* the tail: dropped too */
	cr_expect_eq(duet__nf_rx_poll(&ring), 3);
	expect_dropped_then_working();
}

Test(netfront, tx_error_status_frees_the_slot)
{
	netif_tx_request_t req;

	cr_assert_geq(send_frame(60, 0), 0);
	cr_assert(be_tx_take(&req));
	be_tx_respond(req.id, NETIF_RSP_DROPPED);
	cr_expect_eq(duet__nf_tx_reap(&ring), 1);
	cr_expect_eq(frame_errors, 1);
	cr_expect_eq(rx_drops, 0, "a transmit failure is not a received drop");
	cr_expect_eq(fatal_errors, 0);
	cr_expect_eq(ring.tx_nfree, DUET__NF_TX_SLOTS);
	cr_expect_geq(send_frame(60, 1), 0);
}

/* ---- protocol errors: the device is disconnected ---- */

static void expect_disconnected(void)
{
	cr_expect(ring.broken);
	cr_expect_eq(fatal_errors, 1);
	cr_expect_eq(send_frame(60, 9), -ENETDOWN);
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	cr_expect_eq(duet__nf_tx_reap(&ring), -EPROTO);
	cr_expect_eq(duet__nf_rx_refill(&ring), -ENETDOWN);
	cr_expect_eq(fatal_errors, 1, "reported once");
}

Test(netfront, rx_index_jumping_beyond_the_ring_disconnects)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 60, 0, 0, -1);
	((netif_rx_sring_t *)rx_sring)->rsp_prod += 300; /* > ring size */
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	cr_expect_eq(delivered, 0);
	expect_disconnected();
}

Test(netfront, rx_index_beyond_the_requests_issued_disconnects)
{
	duet__nf_rx_refill(&ring);
	/* Within the ring's 256, but only 64 requests were posted. */
	((netif_rx_sring_t *)rx_sring)->rsp_prod = DUET__NF_RX_SLOTS + 1;
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	expect_disconnected();
}

Test(netfront, rx_index_going_backwards_disconnects)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 60, 0, 0, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	((netif_rx_sring_t *)rx_sring)->rsp_prod -= 2; /* a huge jump */
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	cr_expect_eq(fatal_errors, 1);
}

Test(netfront, rx_id_never_issued_disconnects)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 60, 0, 0, DUET__NF_RX_SLOTS); /* out of range */
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	cr_expect_eq(delivered, 0);
	expect_disconnected();
}

Test(netfront, rx_id_answered_twice_disconnects)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 60, 0, 0, 3);
	be_rx_answer(NULL, 60, 0, 0, 3);
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	cr_expect_eq(delivered, 1);
	expect_disconnected();
}

Test(netfront, rx_extra_info_never_negotiated_disconnects)
{
	duet__nf_rx_refill(&ring);
	be_rx_answer(NULL, 60, 0, NETRXF_extra_info, -1);
	cr_expect_eq(duet__nf_rx_poll(&ring), -EPROTO);
	expect_disconnected();
}

Test(netfront, tx_id_never_issued_disconnects)
{
	netif_tx_request_t req;

	cr_assert_geq(send_frame(60, 0), 0);
	cr_assert(be_tx_take(&req));
	be_tx_respond((uint16_t)(req.id + 1), NETIF_RSP_OKAY);
	cr_expect_eq(duet__nf_tx_reap(&ring), -EPROTO);
	expect_disconnected();
}

Test(netfront, tx_id_answered_twice_disconnects)
{
	netif_tx_request_t req;

	cr_assert_geq(send_frame(60, 0), 0);
	cr_assert_geq(send_frame(60, 1), 0);
	cr_assert(be_tx_take(&req));
	be_tx_respond(req.id, NETIF_RSP_OKAY);
	be_tx_respond(req.id, NETIF_RSP_OKAY);
	cr_expect_eq(duet__nf_tx_reap(&ring), -EPROTO);
	expect_disconnected();
}

Test(netfront, tx_index_jumping_beyond_the_ring_disconnects)
{
	cr_assert_geq(send_frame(60, 0), 0);
	((netif_tx_sring_t *)tx_sring)->rsp_prod = 0x80000000u;
	cr_expect_eq(duet__nf_tx_reap(&ring), -EPROTO);
	expect_disconnected();
}

Test(netfront, tx_with_a_jumped_index_fails_the_send_not_the_domain)
{
	for (unsigned n = 0; n < DUET__NF_TX_SLOTS; n++)
		cr_assert_geq(send_frame(60, n), 0);
	((netif_tx_sring_t *)tx_sring)->rsp_prod = 1000;
	cr_expect_eq(send_frame(60, 0), -ENETDOWN);
	cr_expect(ring.broken);
	cr_expect_eq(fatal_errors, 1);
}

Test(netfront, indexes_wrap_around_32_bits)
{
	uint8_t frame[64];

	/* Both ends start just below the wrap of the free-running indexes. */
	RING_IDX start = 0xffffffffu - 20;
	((netif_rx_sring_t *)rx_sring)->req_prod = start;
	((netif_rx_sring_t *)rx_sring)->rsp_prod = start;
	((netif_rx_sring_t *)rx_sring)->rsp_event = start + 1;
	ring.rx.req_prod_pvt = ring.rx.rsp_cons = start;
	be_rx.req_cons = be_rx.rsp_prod_pvt = start;
	duet__nf_rx_refill(&ring);
	for (unsigned n = 0; n < 100; n++) {
		fill(frame, sizeof(frame), n);
		cr_assert(be_rx_answer(frame, sizeof(frame), 0, 0, -1));
		cr_assert_eq(duet__nf_rx_poll(&ring), 1, "frame %u", n);
		cr_assert_eq(memcmp(last_frame, frame, sizeof(frame)), 0);
		duet__nf_rx_refill(&ring);
	}
	cr_expect_eq(fatal_errors + frame_errors, 0);
}

/* One pass (ring_poll.h): what the backend answers while frames are being
 * delivered waits for the next poll, which the ring asks for. */
Test(netfront, responses_during_a_poll_wait_for_the_next)
{
	uint8_t frame[64];

	duet__nf_rx_refill(&ring);
	fill(frame, sizeof(frame), 4);
	be_rx_answer(frame, 64, 0, 0, -1);
	answer_during_delivery = 1;
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	cr_expect(ring.rx_again, "a response came during the poll");
	cr_expect_eq(delivered, 1);
	cr_expect_eq(duet__nf_rx_poll(&ring), 1);
	cr_expect_not(ring.rx_again);
	cr_expect_eq(delivered, 2);
	cr_expect_eq(fatal_errors, 0);
}
