/* The Xen blkfront's request engine (platform-xen/blkfront_ring.c) against
 * a fake backend that serves a RAM disk through the shared ring, and that
 * misbehaves on request: bad status, ids never issued, repeated responses,
 * a runaway producer index, silence. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blkfront_ring.h"

#define DISK_BYTES (2u << 20)
#define TIMEOUT	   DUET_SEC(30)
#define NREQ	   24

static struct duet__bf_ring r;
static blkif_sring_t *sring;
static blkif_back_ring_t back;
static uint8_t *disk;
static uint8_t *pages;

static struct duet_block_req reqs[NREQ];
static int done_count[NREQ];
static int done_status[NREQ];
static int order[NREQ];
static int norder;
static int fatal_errors, soft_errors;
/* Requests completed when the last fatal error was reported. */
static int done_at_fatal;
/* > 0: each completion resubmits its request and the backend answers at
 * once, from inside the callback (a quick backend, a busy app). */
static int echo_rounds;

static int serve(int max);

static int req_index(const struct duet_block_req *req)
{
	return (int)(req - reqs);
}

static void on_complete(struct duet_block_req *req, int status, void *arg)
{
	int i = req_index(req);
	(void)arg;

	cr_assert(i >= 0 && i < NREQ);
	done_count[i]++;
	done_status[i] = status;
	if (norder < NREQ)
		order[norder++] = i;
	if (echo_rounds > 0) {
		bool notify;

		echo_rounds--;
		cr_assert_eq(duet__bf_submit(&r, req, 0, &notify), 0);
		serve(64);
	}
}

static void on_error(bool fatal, const char *what, long value, void *arg)
{
	(void)what;
	(void)value;
	(void)arg;
	if (fatal) {
		fatal_errors++;
		done_at_fatal = 0;
		for (int i = 0; i < NREQ; i++)
			done_at_fatal += done_count[i];
	} else
		soft_errors++;
}

static const struct duet__bf_ops ops = {.complete = on_complete,
					.error = on_error};

/* Indirect pages' grant references start here, the data pages' at 0. */
#define IND_GREF 10000u
#define IND_SEGS (DUET__BF_PAGE_SIZE / sizeof(struct blkif_request_segment))

static struct blkif_request_segment ind_pages[DUET__BF_SLOTS][IND_SEGS];

static void ring_setup_indirect(uint32_t sector_size, uint8_t flush_op,
				unsigned indirect_segs)
{
	duet__bf_init(&r, sring, DUET__BF_PAGE_SIZE, sector_size, flush_op,
		      indirect_segs, TIMEOUT, &ops, NULL);
	BACK_RING_ATTACH(&back, sring, 0, DUET__BF_PAGE_SIZE);
	for (unsigned s = 0; s < DUET__BF_SLOTS; s++) {
		r.buf[s] = pages + s * DUET__BF_SLOT_BYTES;
		for (unsigned i = 0; i < r.segs; i++)
			r.gref[s][i] = s * DUET__BF_MAX_SEGS + i;
		r.ind[s] = ind_pages[s];
		r.ind_gref[s] = IND_GREF + s;
	}
}

static void ring_setup(uint32_t sector_size, uint8_t flush_op)
{
	ring_setup_indirect(sector_size, flush_op, 0);
}

static void setup(void)
{
	sring = aligned_alloc(DUET__BF_PAGE_SIZE, DUET__BF_PAGE_SIZE);
	pages = aligned_alloc(DUET__BF_PAGE_SIZE,
			      DUET__BF_SLOTS * DUET__BF_SLOT_BYTES);
	disk = calloc(1, DISK_BYTES);
	cr_assert(sring && pages && disk);
	memset(done_count, 0, sizeof(done_count));
	memset(reqs, 0, sizeof(reqs));
	norder = fatal_errors = soft_errors = echo_rounds = done_at_fatal = 0;
	ring_setup(512, BLKIF_OP_FLUSH_DISKCACHE);
}

static void teardown(void)
{
	free(sring);
	free(pages);
	free(disk);
}

TestSuite(blkfront, .init = setup, .fini = teardown);

/* The grant reference names the page: the backend's "mapping". */
static uint8_t *gref_page(grant_ref_t gref)
{
	cr_assert(gref < DUET__BF_SLOTS * DUET__BF_MAX_SEGS &&
		      gref % DUET__BF_MAX_SEGS < r.segs,
		  "gref %u", gref);
	return pages + gref / DUET__BF_MAX_SEGS * DUET__BF_SLOT_BYTES +
	       gref % DUET__BF_MAX_SEGS * DUET__BF_PAGE_SIZE;
}

static void respond(uint64_t id, uint8_t op, int16_t status)
{
	blkif_response_t *rsp = RING_GET_RESPONSE(&back, back.rsp_prod_pvt);

	rsp->id = id;
	rsp->operation = op;
	rsp->status = status;
	back.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&back);
}

/* Takes the next request off the ring, or returns false. */
/* An indirect request read from a plain one's bytes: through memcpy, as
 * reading one struct through a pointer to the other breaks aliasing. */
static blkif_request_indirect_t as_indirect(const blkif_request_t *q)
{
	blkif_request_indirect_t ind;

	_Static_assert(sizeof(ind) <= sizeof(*q), "indirect request is larger");
	memcpy(&ind, q, sizeof(ind));
	return ind;
}

static bool take(blkif_request_t *out)
{
	if (back.req_cons == back.sring->req_prod)
		return false;
	memcpy(out, RING_GET_REQUEST(&back, back.req_cons), sizeof(*out));
	back.req_cons++;
	return true;
}

/* Does the I/O of one request on the RAM disk, direct or indirect. */
static void perform(const blkif_request_t *q)
{
	const blkif_request_indirect_t indv = as_indirect(q), *ind = &indv;
	const struct blkif_request_segment *segs = q->seg;
	unsigned nseg = q->nr_segments;
	uint8_t op = q->operation;
	uint64_t pos = q->sector_number * 512;

	if (op == BLKIF_OP_INDIRECT) {
		cr_assert(r.indirect, "indirect request not negotiated");
		cr_assert(ind->indirect_grefs[0] >= IND_GREF &&
			  ind->indirect_grefs[0] < IND_GREF + DUET__BF_SLOTS);
		segs = ind_pages[ind->indirect_grefs[0] - IND_GREF];
		nseg = ind->nr_segments;
		op = ind->indirect_op;
		pos = ind->sector_number * 512;
		cr_assert(nseg > DUET__BF_SEGS && nseg <= r.segs, "%u", nseg);
	} else {
		cr_assert(nseg <= DUET__BF_SEGS);
	}
	for (unsigned i = 0; i < nseg; i++) {
		const struct blkif_request_segment *seg = &segs[i];
		size_t len =
		    (size_t)(seg->last_sect - seg->first_sect + 1) * 512;
		uint8_t *page = gref_page(seg->gref) + seg->first_sect * 512;

		cr_assert(seg->first_sect <= seg->last_sect &&
			  seg->last_sect < 8);
		cr_assert(pos + len <= DISK_BYTES);
		if (op == BLKIF_OP_READ)
			memcpy(page, disk + pos, len);
		else if (op == BLKIF_OP_WRITE)
			memcpy(disk + pos, page, len);
		pos += len;
	}
}

/* The operation a response carries, as Linux's blkback does: an indirect
 * request's inner one. */
static uint8_t answer_op(const blkif_request_t *q)
{
	return q->operation == BLKIF_OP_INDIRECT ? as_indirect(q).indirect_op
						 : q->operation;
}

/* Serves up to `max` requests correctly; returns how many. */
static int serve(int max)
{
	blkif_request_t q = {0};
	int n = 0;

	while (n < max && take(&q)) {
		perform(&q);
		respond(q.id, answer_op(&q), BLKIF_RSP_OKAY);
		n++;
	}
	return n;
}

static void poll_all(void)
{
	bool notify;

	while (serve(64) > 0)
		duet__bf_poll(&r, &notify);
	duet__bf_poll(&r, &notify);
}

static int submit(int i, enum duet_block_op op, uint64_t sector, void *buf,
		  uint64_t count)
{
	bool notify;

	reqs[i].op = op;
	reqs[i].sector = sector;
	reqs[i].buf = buf;
	reqs[i].count = count;
	return duet__bf_submit(&r, &reqs[i], 0, &notify);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed + i / 512);
}

Test(blkfront, unaligned_multi_chunk_write_and_read_round_trip)
{
	/* 300 sectors: four chunks of 88 sectors (11 pages) and a short one. */
	size_t len = 300 * 512;
	uint8_t *wbuf = malloc(len + 3), *rbuf = malloc(len + 5);

	fill(wbuf + 3, len, 7);
	cr_assert_eq(submit(0, DUET_BLOCK_WRITE, 10, wbuf + 3, 300), 0);
	cr_expect_eq(back.sring->req_prod, 4);
	poll_all();
	cr_assert_eq(done_count[0], 1);
	cr_expect_eq(done_status[0], 0);
	cr_expect(memcmp(disk + 10 * 512, wbuf + 3, len) == 0);
	cr_expect_eq(disk[10 * 512 - 1], 0);
	cr_expect_eq(disk[310 * 512], 0);

	memset(rbuf, 0, len + 5);
	cr_assert_eq(submit(1, DUET_BLOCK_READ, 10, rbuf + 5, 300), 0);
	poll_all();
	cr_assert_eq(done_count[1], 1);
	cr_expect_eq(done_status[1], 0);
	cr_expect(memcmp(rbuf + 5, wbuf + 3, len) == 0);
	cr_expect_eq(duet__bf_pending(&r), 0);
	cr_expect_eq(soft_errors + fatal_errors, 0);
	free(wbuf);
	free(rbuf);
}

Test(blkfront, requests_beyond_the_slots_wait_in_order)
{
	static uint8_t buf[NREQ][88 * 512];

	for (int i = 0; i < NREQ; i++) {
		fill(buf[i], sizeof(buf[i]), (unsigned)i);
		cr_assert_eq(
		    submit(i, DUET_BLOCK_WRITE, (uint64_t)i * 88, buf[i], 88),
		    0);
	}
	cr_expect_eq(back.sring->req_prod, DUET__BF_SLOTS);
	cr_expect_eq(duet__bf_pending(&r), NREQ);
	poll_all();
	for (int i = 0; i < NREQ; i++) {
		cr_expect_eq(done_count[i], 1, "request %d", i);
		cr_expect_eq(order[i], i);
		cr_expect(memcmp(disk + (size_t)i * 88 * 512, buf[i],
				 sizeof(buf[i])) == 0);
	}
}

Test(blkfront, larger_sectors_count_in_512_byte_units_on_the_ring)
{
	uint8_t *buf = malloc(3 * 4096);
	blkif_request_t q = {0};

	ring_setup(4096, BLKIF_OP_FLUSH_DISKCACHE);
	fill(buf, 3 * 4096, 1);
	cr_assert_eq(submit(0, DUET_BLOCK_WRITE, 5, buf, 3), 0);
	cr_assert(take(&q));
	cr_expect_eq(q.sector_number, 40);
	cr_expect_eq(q.nr_segments, 3);
	cr_expect_eq(q.seg[2].last_sect, 7);
	perform(&q);
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	poll_all();
	cr_expect_eq(done_status[0], 0);
	cr_expect(memcmp(disk + 5 * 4096, buf, 3 * 4096) == 0);
	free(buf);
}

Test(blkfront, flush_goes_out_as_the_negotiated_operation)
{
	blkif_request_t q = {0};

	cr_assert_eq(submit(0, DUET_BLOCK_FLUSH, 0, NULL, 0), 0);
	cr_assert(take(&q));
	cr_expect_eq(q.operation, BLKIF_OP_FLUSH_DISKCACHE);
	cr_expect_eq(q.nr_segments, 0);
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	poll_all();
	cr_expect_eq(done_status[0], 0);

	ring_setup(512, BLKIF_OP_WRITE_BARRIER);
	cr_assert_eq(submit(1, DUET_BLOCK_FLUSH, 0, NULL, 0), 0);
	cr_assert(take(&q));
	cr_expect_eq(q.operation, BLKIF_OP_WRITE_BARRIER);
}

Test(blkfront, flush_without_a_backend_feature_is_refused)
{
	ring_setup(512, DUET__BF_NO_FLUSH);
	cr_expect_eq(submit(0, DUET_BLOCK_FLUSH, 0, NULL, 0), -EIO);
	cr_expect_eq(back.sring->req_prod, 0);
	cr_expect_eq(done_count[0], 0);
}

Test(blkfront, flush_the_backend_refuses_fails_with_eopnotsupp)
{
	blkif_request_t q = {0};

	cr_assert_eq(submit(0, DUET_BLOCK_FLUSH, 0, NULL, 0), 0);
	cr_assert(take(&q));
	respond(q.id, q.operation, BLKIF_RSP_EOPNOTSUPP);
	poll_all();
	cr_expect_eq(done_count[0], 1);
	cr_expect_eq(done_status[0], -EOPNOTSUPP);
}

Test(blkfront, one_failed_chunk_fails_the_request_once_with_eio)
{
	static uint8_t buf[300 * 512];
	blkif_request_t q = {0};
	bool notify;

	cr_assert_eq(submit(0, DUET_BLOCK_WRITE, 0, buf, 300), 0);
	cr_assert(take(&q));
	perform(&q);
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	cr_assert(take(&q));
	respond(q.id, q.operation, BLKIF_RSP_ERROR);
	duet__bf_poll(&r, &notify);
	cr_expect_eq(done_count[0], 0, "chunks are still out");
	poll_all();
	cr_expect_eq(done_count[0], 1);
	cr_expect_eq(done_status[0], -EIO);
	cr_expect_eq(soft_errors, 1);
	cr_expect_eq(r.nfree, DUET__BF_SLOTS, "every slot came back");
	/* The ring still works. */
	cr_assert_eq(submit(1, DUET_BLOCK_READ, 0, buf, 1), 0);
	poll_all();
	cr_expect_eq(done_status[1], 0);
}

Test(blkfront, response_id_never_issued_is_dropped)
{
	static uint8_t buf[3][512];
	blkif_request_t q = {0};
	bool notify;

	/* Three requests out, so three responses are within bounds. */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(submit(i, DUET_BLOCK_READ, 0, buf[i], 1), 0);
	cr_assert(take(&q));
	respond(999, BLKIF_OP_READ, BLKIF_RSP_OKAY);
	respond(q.id ^ (1u << 8), BLKIF_OP_READ, BLKIF_RSP_OKAY);
	duet__bf_poll(&r, &notify);
	cr_expect_eq(done_count[0], 0);
	cr_expect_eq(r.stray, 2);
	cr_expect_eq(soft_errors, 2);
	cr_expect_eq(fatal_errors, 0);
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	duet__bf_poll(&r, &notify);
	cr_expect_eq(done_count[0], 1);
	cr_expect_eq(done_status[0], 0);
}

Test(blkfront, repeated_response_completes_nothing_twice)
{
	static uint8_t buf[512];
	blkif_request_t q = {0}, q2 = {0};
	bool notify;

	cr_assert_eq(submit(0, DUET_BLOCK_READ, 0, buf, 1), 0);
	cr_assert(take(&q));
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	duet__bf_poll(&r, &notify);
	/* The slot is reused for the next request; the stale repeat of the
	 * first response must not complete it. */
	cr_assert_eq(submit(1, DUET_BLOCK_READ, 1, buf, 1), 0);
	cr_assert(take(&q2));
	cr_expect_eq(q2.id & 0xff, q.id & 0xff, "same slot");
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	duet__bf_poll(&r, &notify);
	cr_expect_eq(done_count[0], 1);
	cr_expect_eq(done_count[1], 0);
	cr_expect_eq(r.stray, 1);
	respond(q2.id, q2.operation, BLKIF_RSP_OKAY);
	duet__bf_poll(&r, &notify);
	cr_expect_eq(done_count[1], 1);
}

Test(blkfront, response_for_another_operation_fails_the_request)
{
	static uint8_t buf[512];
	blkif_request_t q = {0};

	cr_assert_eq(submit(0, DUET_BLOCK_READ, 0, buf, 1), 0);
	cr_assert(take(&q));
	respond(q.id, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
	poll_all();
	cr_expect_eq(done_status[0], -EIO);
}

Test(blkfront, producer_index_past_the_requests_breaks_the_ring)
{
	static uint8_t buf[4][512];
	bool notify;

	for (int i = 0; i < 2; i++)
		cr_assert_eq(submit(i, DUET_BLOCK_READ, 0, buf[i], 1), 0);
	/* Two requests out; the backend claims 40 responses. */
	sring->rsp_prod = 40;
	duet__bf_poll(&r, &notify);
	cr_expect_eq(fatal_errors, 1);
	/* Failed before the error is reported: the report may take the
	 * device down, and must find nothing left to hold. */
	cr_expect_eq(done_at_fatal, 2);
	cr_expect(r.broken);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(done_count[i], 1);
		cr_expect_eq(done_status[i], -EIO);
	}
	cr_expect_eq(submit(2, DUET_BLOCK_READ, 0, buf[2], 1), -ENODEV);
	cr_expect_eq(duet__bf_poll(&r, &notify), 0);
	cr_expect_eq(done_count[2], 0);
}

Test(blkfront, silent_backend_times_out_in_flight_and_waiting_requests)
{
	static uint8_t buf[NREQ][88 * 512];
	bool notify;

	for (int i = 0; i < 20; i++) {
		reqs[i] = (struct duet_block_req){
		    .op = DUET_BLOCK_READ, .count = 88, .buf = buf[i]};
		cr_assert_eq(
		    duet__bf_submit(&r, &reqs[i], DUET_SEC(1), &notify), 0);
	}
	cr_expect_eq(duet__bf_expire(&r, DUET_SEC(2)), DUET_SEC(31));
	cr_expect_eq(duet__bf_expire(&r, DUET_SEC(31) - 1), DUET_SEC(31));
	for (int i = 0; i < 20; i++)
		cr_expect_eq(done_count[i], 0);
	cr_expect_eq(duet__bf_expire(&r, DUET_SEC(31)), 0);
	for (int i = 0; i < 20; i++) {
		cr_expect_eq(done_count[i], 1, "request %d", i);
		cr_expect_eq(done_status[i], -ETIMEDOUT);
	}
	cr_expect_eq(fatal_errors, 1);
	/* A late answer changes nothing. */
	serve(64);
	duet__bf_poll(&r, &notify);
	for (int i = 0; i < 20; i++)
		cr_expect_eq(done_count[i], 1);
}

Test(blkfront, nothing_pending_has_no_deadline)
{
	cr_expect_eq(duet__bf_expire(&r, DUET_SEC(100)), 0);
	cr_expect_eq(fatal_errors, 0);
}

Test(blkfront, disconnect_fails_everything_with_enodev)
{
	static uint8_t buf[NREQ][88 * 512];

	for (int i = 0; i < 20; i++)
		cr_assert_eq(submit(i, DUET_BLOCK_WRITE, 0, buf[i], 88), 0);
	serve(3);
	duet__bf_fail_all(&r, -ENODEV);
	for (int i = 0; i < 20; i++) {
		cr_expect_eq(done_count[i], 1);
		cr_expect_eq(done_status[i], -ENODEV);
	}
	cr_expect_eq(duet__bf_pending(&r), 0);
	cr_expect_eq(submit(21, DUET_BLOCK_READ, 0, buf[0], 1), -ENODEV);
}

/* A backend that restarts: what was taken and not answered comes back in
 * submission order, uncompleted, and a new ring serves it whole. */
Test(blkfront, restart_takes_pending_requests_back_in_order)
{
	static uint8_t buf[NREQ][88 * 512];
	struct duet_list taken;

	for (int i = 0; i < 20; i++) {
		fill(buf[i], sizeof(buf[i]), (unsigned)i + 40);
		cr_assert_eq(submit(i, DUET_BLOCK_WRITE, (uint64_t)i * 88,
				    buf[i], 88),
			     0);
	}
	/* Three answered before the backend goes: those are done. */
	bool notify;
	serve(3);
	duet__bf_poll(&r, &notify);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(done_count[i], 1);
	duet_list_init(&taken);
	duet__bf_take_all(&r, &taken);
	cr_assert_eq(duet__bf_pending(&r), 0);
	cr_assert_eq(submit(21, DUET_BLOCK_READ, 0, buf[0], 1), -ENODEV,
		     "the old ring must stay broken");
	int want = 3;
	for (struct duet_list *l = taken.next; l != &taken; l = l->next) {
		struct duet_block_req *q =
		    duet_container_of(l, struct duet_block_req, link);
		cr_assert_eq(req_index(q), want, "out of order");
		cr_assert_eq(done_count[want], 0, "completed while taken");
		want++;
	}
	cr_assert_eq(want, 20);

	/* The new backend: a fresh ring on the same pages. */
	memset(disk, 0, DISK_BYTES);
	memset(sring, 0, DUET__BF_PAGE_SIZE);
	ring_setup(512, BLKIF_OP_FLUSH_DISKCACHE);
	while (!duet_list_empty(&taken)) {
		struct duet_block_req *q =
		    duet_container_of(taken.next, struct duet_block_req, link);
		duet_list_unlink(&q->link);
		cr_assert_eq(duet__bf_submit(&r, q, 0, &notify), 0);
	}
	poll_all();
	for (int i = 3; i < 20; i++) {
		cr_expect_eq(done_count[i], 1, "request %d", i);
		cr_expect_eq(done_status[i], 0);
		cr_expect(memcmp(disk + (size_t)i * 88 * 512, buf[i],
				 sizeof(buf[i])) == 0,
			  "request %d not written by the new backend", i);
	}
	cr_expect_eq(fatal_errors, 0);
}

Test(blkfront, garbage_responses_never_write_outside_the_request)
{
	/* A fuzz of ids, operations and statuses against a few reads: every
	 * request completes at most once and the guard bytes stay. */
	static uint8_t buf[8][512 * 3 + 16];
	blkif_request_t q = {0};
	bool notify;
	unsigned seed = 12345;

	for (int i = 0; i < 8; i++) {
		memset(buf[i], 0xa5, sizeof(buf[i]));
		cr_assert_eq(
		    submit(i, DUET_BLOCK_READ, (uint64_t)i, buf[i] + 8, 3), 0);
	}
	for (int round = 0; round < 200; round++) {
		seed = seed * 1103515245 + 12345;
		if (take(&q) && seed % 3 == 0)
			respond(q.id, q.operation, BLKIF_RSP_OKAY);
		else
			respond((seed >> 8) % 40 | (uint64_t)(seed % 3) << 8,
				(uint8_t)(seed >> 16) % 4,
				(int16_t)((seed >> 20) % 3) - 2);
		duet__bf_poll(&r, &notify);
		if (r.broken)
			break;
	}
	duet__bf_fail_all(&r, -ENODEV);
	for (int i = 0; i < 8; i++) {
		cr_expect_eq(done_count[i], 1, "request %d", i);
		for (int g = 0; g < 8; g++) {
			cr_expect_eq(buf[i][g], 0xa5);
			cr_expect_eq(buf[i][8 + 3 * 512 + g], 0xa5);
		}
	}
}

Test(blkfront, a_quick_backend_cannot_keep_the_poll_busy)
{
	static uint8_t buf[512];
	bool notify;
	int handled;

	cr_assert_eq(submit(0, DUET_BLOCK_READ, 0, buf, 1), 0);
	serve(64);
	echo_rounds = 1000;
	handled = duet__bf_poll(&r, &notify);
	cr_expect_eq(handled, 1, "one pass: %d handled", handled);
	cr_expect(r.again, "more came in: poll again from the loop");
	cr_expect_eq(done_count[0], 1);
	for (int polls = 2; polls <= 5; polls++) {
		duet__bf_poll(&r, &notify);
		cr_expect_eq(done_count[0], polls);
	}
	echo_rounds = 0;
	poll_all();
	cr_expect(!r.again);
	cr_expect_eq(duet__bf_pending(&r), 0);
}

Test(blkfront, producer_index_moving_backwards_breaks_the_ring)
{
	static uint8_t buf[2][512];
	bool notify;

	cr_assert_eq(submit(0, DUET_BLOCK_READ, 0, buf[0], 1), 0);
	poll_all();
	cr_assert_eq(done_status[0], 0);
	cr_assert_eq(submit(1, DUET_BLOCK_READ, 0, buf[1], 1), 0);
	sring->rsp_prod = 0; /* was 1: now 2^32 - 1 responses "ahead" */
	duet__bf_poll(&r, &notify);
	cr_expect_eq(fatal_errors, 1);
	cr_expect_eq(done_at_fatal, 2);
	cr_expect_eq(done_count[1], 1);
	cr_expect_eq(done_status[1], -EIO);
}

Test(blkfront, indirect_descriptors_carry_128_KiB_a_request)
{
	/* 300 sectors: one indirect chunk of 32 pages (256 sectors) and a
	 * direct one of 44 sectors (6 pages). */
	size_t len = 300 * 512;
	uint8_t *wbuf = malloc(len + 1), *rbuf = malloc(len + 1);
	blkif_request_t q = {0};
	blkif_request_indirect_t ind;

	ring_setup_indirect(512, BLKIF_OP_FLUSH_DISKCACHE, 256);
	cr_assert_eq(r.segs, DUET__BF_MAX_SEGS);
	fill(wbuf + 1, len, 3);
	cr_assert_eq(submit(0, DUET_BLOCK_WRITE, 100, wbuf + 1, 300), 0);
	cr_assert_eq(back.sring->req_prod, 2);
	cr_assert(take(&q));
	ind = as_indirect(&q);
	cr_expect_eq(q.operation, BLKIF_OP_INDIRECT);
	cr_expect_eq(ind.indirect_op, BLKIF_OP_WRITE);
	cr_expect_eq(ind.nr_segments, 32);
	cr_expect_eq(ind.sector_number, 100);
	perform(&q);
	/* Some backends echo BLKIF_OP_INDIRECT: also accepted. */
	respond(q.id, BLKIF_OP_INDIRECT, BLKIF_RSP_OKAY);
	cr_assert(take(&q));
	cr_expect_eq(q.operation, BLKIF_OP_WRITE);
	cr_expect_eq(q.nr_segments, 6);
	cr_expect_eq(q.sector_number, 356);
	perform(&q);
	respond(q.id, q.operation, BLKIF_RSP_OKAY);
	poll_all();
	cr_assert_eq(done_count[0], 1);
	cr_expect_eq(done_status[0], 0);
	cr_expect(memcmp(disk + 100 * 512, wbuf + 1, len) == 0);

	cr_assert_eq(submit(1, DUET_BLOCK_READ, 100, rbuf + 1, 300), 0);
	poll_all();
	cr_expect_eq(done_status[1], 0);
	cr_expect(memcmp(rbuf + 1, wbuf + 1, len) == 0);
	cr_expect_eq(soft_errors + fatal_errors, 0);
	free(wbuf);
	free(rbuf);
}

Test(blkfront, a_small_indirect_offer_sizes_the_slots)
{
	static uint8_t buf[200 * 512];
	blkif_request_t q = {0};

	/* At most 11: not worth it, direct requests only. */
	ring_setup_indirect(512, BLKIF_OP_FLUSH_DISKCACHE, 8);
	cr_expect(!r.indirect);
	cr_expect_eq(r.segs, DUET__BF_SEGS);
	/* 20 pages a request: 200 sectors go as 160 (indirect) + 40. */
	ring_setup_indirect(512, BLKIF_OP_FLUSH_DISKCACHE, 20);
	cr_expect(r.indirect);
	cr_assert_eq(submit(0, DUET_BLOCK_READ, 0, buf, 200), 0);
	cr_assert(take(&q));
	cr_expect_eq(as_indirect(&q).nr_segments, 20);
	cr_assert(take(&q));
	cr_expect_eq(q.operation, BLKIF_OP_READ);
	cr_expect_eq(q.nr_segments, 5);
}
