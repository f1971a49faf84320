/* The Xen blkfront's request engine (platform-xen/blkfront_ring.c)
 * against a hostile backend that writes anything into the response slots
 * and the producer index: ids never issued or repeated, wrong operations,
 * error statuses, runaway indexes, silence past the timeout. Every request
 * completes exactly once, the front never touches memory outside its
 * pages (ASan watches) and never loops without end.
 *
 * Input: a byte of geometry (sector size, flush support, indirect
 * segments), then actions, each an op byte and its operands. */
#include <errno.h>
#include <stdlib.h>

#include "blkfront_ring.h"
#include "fuzz.h"

#define NREQ	 24
#define TIMEOUT	 DUET_SEC(30)
#define IND_SEGS (DUET__BF_PAGE_SIZE / sizeof(struct blkif_request_segment))

static struct duet__bf_ring r;
static blkif_sring_t *sring;
static uint8_t *pages;
static struct blkif_request_segment ind_pages[DUET__BF_SLOTS][IND_SEGS];
static struct duet_block_req reqs[NREQ];
static bool busy[NREQ];
static uint8_t *bufs[NREQ];
static bool broken;

#define MAX_REQ_BYTES (256u << 10)

static void on_complete(struct duet_block_req *req, int status, void *arg)
{
	int i = (int)(req - reqs);
	(void)arg;

	FUZZ_CHECK(i >= 0 && i < NREQ);
	FUZZ_CHECK(busy[i]); /* exactly once */
	FUZZ_CHECK(status <= 0);
	busy[i] = false;
}

static void on_error(bool fatal, const char *what, long value, void *arg)
{
	(void)value;
	(void)arg;
	FUZZ_CHECK(what != NULL && what[0] != '\0');
	if (fatal)
		broken = true;
}

static const struct duet__bf_ops ops = {.complete = on_complete,
					.error = on_error};

static void setup(uint8_t geometry)
{
	static const uint32_t ssz[] = {512, 1024, 2048, 4096};
	static const uint8_t flush[] = {BLKIF_OP_FLUSH_DISKCACHE,
					BLKIF_OP_WRITE_BARRIER,
					DUET__BF_NO_FLUSH};

	if (sring == NULL) {
		sring = aligned_alloc(DUET__BF_PAGE_SIZE, DUET__BF_PAGE_SIZE);
		pages = aligned_alloc(DUET__BF_PAGE_SIZE,
				      DUET__BF_SLOTS * DUET__BF_SLOT_BYTES);
		for (int i = 0; i < NREQ; i++)
			bufs[i] = malloc(MAX_REQ_BYTES);
	}
	memset(sring, 0, DUET__BF_PAGE_SIZE);
	duet__bf_init(&r, sring, DUET__BF_PAGE_SIZE, ssz[geometry & 3],
		      flush[(geometry >> 2) % 3], geometry & 0x10 ? 32 : 0,
		      TIMEOUT, &ops, NULL);
	for (unsigned s = 0; s < DUET__BF_SLOTS; s++) {
		r.buf[s] = pages + s * DUET__BF_SLOT_BYTES;
		for (unsigned i = 0; i < r.segs; i++)
			r.gref[s][i] = s * DUET__BF_MAX_SEGS + i;
		r.ind[s] = ind_pages[s];
		r.ind_gref[s] = 10000 + s;
	}
	memset(reqs, 0, sizeof(reqs));
	memset(busy, 0, sizeof(busy));
	broken = false;
}

static void submit(struct fuzz_in *in, duet_time_t now)
{
	unsigned i = fuzz_u8(in) % NREQ;
	uint8_t how = fuzz_u8(in);
	bool notify;

	if (busy[i])
		return;
	struct duet_block_req *q = &reqs[i];
	uint64_t max = MAX_REQ_BYTES / r.sector_size;
	*q = (struct duet_block_req){
	    .op = how % 3 == 0	 ? DUET_BLOCK_READ
		  : how % 3 == 1 ? DUET_BLOCK_WRITE
				 : DUET_BLOCK_FLUSH,
	    .sector = fuzz_u16(in),
	    .count = 1 + fuzz_u8(in) % max,
	    .buf = bufs[i],
	};
	if (q->op == DUET_BLOCK_FLUSH)
		q->count = 0;
	busy[i] = true;
	int e = duet__bf_submit(&r, q, now, &notify);
	if (e < 0) {
		FUZZ_CHECK(e == -ENODEV || e == -EIO);
		busy[i] = false; /* refused: no completion */
	}
}

/* The backend writes one response slot with any bytes and moves the
 * producer index by a step or to any value. */
static void respond(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	const uint8_t *b;
	RING_IDX at = sring->rsp_prod + (how & 3);
	size_t n = fuzz_bytes(in, sizeof(sring->ring[0].rsp), &b);

	memcpy(&sring->ring[at % RING_SIZE(&r.ring)].rsp, b, n);
	sring->rsp_prod =
	    how & 0x80 ? fuzz_u32(in) : sring->rsp_prod + (how >> 2 & 7);
}

/* The backend answers every pending request as a good one would. */
static void answer_all(void)
{
	if (sring->req_prod - sring->rsp_prod > RING_SIZE(&r.ring))
		sring->rsp_prod = sring->req_prod;
	for (RING_IDX i = sring->rsp_prod; i != sring->req_prod; i++) {
		blkif_request_t q = sring->ring[i % RING_SIZE(&r.ring)].req;
		blkif_response_t *rsp =
		    &sring->ring[i % RING_SIZE(&r.ring)].rsp;
		uint8_t op = q.operation;
		if (op == BLKIF_OP_INDIRECT) {
			blkif_request_indirect_t ind;
			memcpy(&ind, &q, sizeof(ind));
			op = ind.indirect_op;
		}
		rsp->id = q.id;
		rsp->operation = op;
		rsp->status = BLKIF_RSP_OKAY;
		sring->rsp_prod = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	duet_time_t now = DUET_SEC(1);
	bool notify;

	setup(fuzz_u8(&in));
	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		switch (op % 8) {
		case 0:
		case 1: submit(&in, now); break;
		case 2: respond(&in); break;
		case 3:
		case 4: (void)duet__bf_poll(&r, &notify); break;
		case 5:
			now += DUET_SEC(1) * fuzz_u8(&in);
			(void)duet__bf_expire(&r, now);
			break;
		default: answer_all(); break;
		}
		FUZZ_CHECK(r.nfree <= DUET__BF_SLOTS);
		FUZZ_CHECK(!broken || r.broken);
	}
	/* The backend goes: whatever is left fails, each request once. */
	duet__bf_fail_all(&r, -EIO);
	for (int i = 0; i < NREQ; i++)
		FUZZ_CHECK(!busy[i]);
	FUZZ_CHECK(duet__bf_pending(&r) == 0);
	return 0;
}
