/* The Xen netfront's rings (platform-xen/netfront_ring.c) against a
 * hostile backend that writes anything into the shared pages: response
 * slots, producer indexes that jump, ids never issued, lengths and offsets
 * past the page, extra-info and more-data flags. The front must deliver
 * only frames within its limit, drop or break, and never touch memory
 * outside its pages (ASan watches) or loop without end.
 *
 * Input: actions, each an op byte and its operands. */
#include <stdlib.h>

#include "fuzz.h"
#include "netfront_ring.h"

#define FRAME_MAX 1518

static struct duet__nf_ring ring;
static void *tx_sring, *rx_sring;
static uint8_t *pages[DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS];
static bool broken;

static void on_deliver(const void *frame, size_t len, void *arg)
{
	FUZZ_CHECK(arg == &ring && !broken);
	FUZZ_CHECK(len <= FRAME_MAX);
	/* Every byte of it readable (ASan checks the copy). */
	static uint8_t copy[FRAME_MAX];
	memcpy(copy, frame, len);
}

static void on_error(enum duet__nf_fault fault, const char *what, long value,
		     void *arg)
{
	(void)value;
	FUZZ_CHECK(arg == &ring && what != NULL && what[0] != '\0');
	if (fault == DUET__NF_BROKEN)
		broken = true;
}

static const struct duet__nf_ops ops = {.deliver = on_deliver,
					.error = on_error};

static void setup(void)
{
	if (tx_sring == NULL) {
		tx_sring =
		    aligned_alloc(DUET__NF_PAGE_SIZE, DUET__NF_PAGE_SIZE);
		rx_sring =
		    aligned_alloc(DUET__NF_PAGE_SIZE, DUET__NF_PAGE_SIZE);
		for (unsigned i = 0; i < DUET__NF_TX_SLOTS + DUET__NF_RX_SLOTS;
		     i++)
			pages[i] = aligned_alloc(DUET__NF_PAGE_SIZE,
						 DUET__NF_PAGE_SIZE);
	}
	memset(tx_sring, 0, DUET__NF_PAGE_SIZE);
	memset(rx_sring, 0, DUET__NF_PAGE_SIZE);
	duet__nf_init(&ring, tx_sring, rx_sring, FRAME_MAX, &ops, &ring);
	for (unsigned i = 0; i < DUET__NF_TX_SLOTS; i++) {
		ring.tx_buf[i] = pages[i];
		ring.tx_gref[i] = 100 + i;
	}
	for (unsigned i = 0; i < DUET__NF_RX_SLOTS; i++) {
		ring.rx_buf[i] = pages[DUET__NF_TX_SLOTS + i];
		ring.rx_gref[i] = 300 + i;
	}
	broken = false;
}

/* The backend writes a response slot (any bytes) and moves the producer
 * index by a small step or to any value. */
static void respond(struct fuzz_in *in, bool tx)
{
	uint8_t how = fuzz_u8(in);
	const uint8_t *b;
	size_t n;

	if (tx) {
		netif_tx_sring_t *s = tx_sring;
		RING_IDX at = s->rsp_prod + (how & 3);
		n = fuzz_bytes(in, sizeof(s->ring[0].rsp), &b);
		memcpy(&s->ring[at % RING_SIZE(&ring.tx)].rsp, b, n);
		s->rsp_prod =
		    how & 0x80 ? fuzz_u32(in) : s->rsp_prod + (how >> 2 & 7);
	} else {
		netif_rx_sring_t *s = rx_sring;
		RING_IDX at = s->rsp_prod + (how & 3);
		n = fuzz_bytes(in, sizeof(s->ring[0].rsp), &b);
		memcpy(&s->ring[at % RING_SIZE(&ring.rx)].rsp, b, n);
		s->rsp_prod =
		    how & 0x80 ? fuzz_u32(in) : s->rsp_prod + (how >> 2 & 7);
	}
}

/* The backend echoes each pending request as a plausible response, so
 * the fuzzer starts from a working ring. */
static void answer_all(void)
{
	netif_tx_sring_t *t = tx_sring;
	/* Only from a producer index the fuzzer has not thrown away. */
	if (t->req_prod - t->rsp_prod > RING_SIZE(&ring.tx))
		t->rsp_prod = t->req_prod;
	for (RING_IDX i = t->rsp_prod; i != t->req_prod; i++) {
		netif_tx_request_t req = t->ring[i % RING_SIZE(&ring.tx)].req;
		netif_tx_response_t *rsp =
		    &t->ring[i % RING_SIZE(&ring.tx)].rsp;
		rsp->id = req.id;
		rsp->status = NETIF_RSP_OKAY;
		t->rsp_prod = i + 1;
	}
	netif_rx_sring_t *r = rx_sring;
	if (r->req_prod - r->rsp_prod > RING_SIZE(&ring.rx))
		r->rsp_prod = r->req_prod;
	for (RING_IDX i = r->rsp_prod; i != r->req_prod; i++) {
		netif_rx_request_t req = r->ring[i % RING_SIZE(&ring.rx)].req;
		netif_rx_response_t *rsp =
		    &r->ring[i % RING_SIZE(&ring.rx)].rsp;
		rsp->id = req.id;
		rsp->offset = 0;
		rsp->flags = 0;
		rsp->status = 60;
		r->rsp_prod = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	static uint8_t frame[2048];

	setup();
	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		switch (op % 8) {
		case 0: {
			size_t len = fuzz_u16(&in) % sizeof(frame);
			struct duet_iovec iov[2] = {
			    {frame, len / 2}, {frame + len / 2, len - len / 2}};
			int r = duet__nf_tx_send(&ring, iov, 2, len);
			FUZZ_CHECK(r <= 1);
			break;
		}
		case 1: respond(&in, true); break;
		case 2: respond(&in, false); break;
		case 3: (void)duet__nf_tx_reap(&ring); break;
		case 4: (void)duet__nf_rx_poll(&ring); break;
		case 5: (void)duet__nf_rx_refill(&ring); break;
		default: answer_all(); break;
		}
		FUZZ_CHECK(ring.tx_nfree <= DUET__NF_TX_SLOTS);
		FUZZ_CHECK(!broken || ring.broken);
	}
	return 0;
}
