/* The log store against a model: a script of sets, deletes, syncs and
 * compactions, some submitted together, on a disk with a volatile write
 * cache (storage/blk_fault.c), with power cuts at chosen writes and
 * crashes that land any subset of the cache, one write torn. After every
 * crash the store must mount, hold every acknowledged write and exactly
 * the state after some prefix of what was submitted, and take writes
 * again; while it runs, reads must show the model.
 *
 * Input: actions, each an op byte and its operands. Op bit 7: submit and
 * go on (up to MAXBATCH requests in flight); otherwise wait for all. */
#include <duet/error.h>

#include "fuzz_kv.h"

#define SSZ	 512
#define SECTORS	 (2 + 2 * 24)
#define NKEYS	 6
#define MAXLEN	 1530
#define MAXBATCH 8
#define MAXOPS	 512

enum kind { SET, DEL, SYNC, COMPACT };

/* Per key: the version of its value (its bytes come from fill()), or -1
 * when absent. */
struct model {
	int version[NKEYS];
	unsigned len[NKEYS];
};

struct op {
	enum kind kind;
	unsigned key, len;
	int version;
	bool done;
	int status;
	struct duet_kv_req req;
};

static struct duet_blk_mem *mem;
static struct duet_blk_fault *fault;
static struct duet_kv *kv;
static struct model base; /* at the last mount */
static struct op ops[MAXOPS];
static unsigned nops, inflight;
static char keys[NKEYS][8];
static uint8_t vals[MAXOPS][MAXLEN];
static uint8_t got[MAXLEN + 1];
static bool faulted; /* since the last mount */

static void fill(uint8_t *b, unsigned len, unsigned key, int version)
{
	uint32_t x = key * 2654435761u ^ (uint32_t)version * 40503u ^ len;

	for (unsigned i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
}

static void op_done(struct duet_kv_req *req, int status, void *arg)
{
	struct op *o = arg;
	(void)req;

	FUZZ_CHECK(!o->done);
	o->done = true;
	o->status = status;
	inflight--;
	if (status < 0 && status != -ENOSPC && status != -EFBIG)
		faulted = true;
}

static bool all_done(void)
{
	return inflight == 0;
}

static void wait_all(void)
{
	bool idle = all_done();
	while (!idle) {
		fuzz_run_for(fuzz_loop, 0);
		idle = all_done();
		static unsigned long spins;
		if (!idle && ++spins % 100000 == 0)
			FUZZ_CHECK(spins < 10000000);
	}
}

/* The state after ops [0, upto) on top of base, of those that may have
 * taken effect (an op refused as full or too big never does). */
static void apply(struct model *m, unsigned upto)
{
	*m = base;
	for (unsigned i = 0; i < upto; i++) {
		const struct op *o = &ops[i];
		if (o->done && (o->status == -ENOSPC || o->status == -EFBIG))
			continue;
		if (o->kind == SET) {
			m->version[o->key] = o->version;
			m->len[o->key] = o->len;
		} else if (o->kind == DEL) {
			m->version[o->key] = -1;
		}
	}
}

static bool shows(const struct model *m)
{
	for (unsigned k = 0; k < NKEYS; k++) {
		int n = fuzz_get(kv, keys[k], 0, got, sizeof(got), NULL);
		if (m->version[k] < 0) {
			if (n != -ENOENT)
				return false;
			continue;
		}
		if (n != (int)m->len[k])
			return false;
		uint8_t want[MAXLEN];
		fill(want, m->len[k], k, m->version[k]);
		if (memcmp(got, want, m->len[k]) != 0)
			return false;
	}
	return true;
}

static void mount(void)
{
	FUZZ_CHECK(duet_blk_fault_create(fuzz_loop, "disk0",
					 duet_blk_mem_block(mem), &fault) == 0);
	FUZZ_CHECK(fuzz_mount(duet_logstore_mount, duet_blk_fault_block(fault),
			      &kv) == 0);
	faulted = false;
}

/* The power goes (landing the cache as the input says, if the disk is
 * still up); then mount what is left and check it against the model. */
static void power_cycle(struct fuzz_in *in, bool crash)
{
	wait_all();
	if (crash) {
		struct duet_blk_fault_crash how = {.torn = -1};
		unsigned u = duet_blk_fault_unflushed(fault);
		uint8_t keep = fuzz_u8(in), torn = fuzz_u8(in);
		how.keep = u >= 64 ? keep : keep & ((1ull << u) - 1);
		if (u > 0 && torn % 4 == 0) {
			how.torn = (int)(torn / 4 % u);
			how.keep &= ~(1ull << how.torn);
			how.torn_sectors = 1 + fuzz_u8(in) % 8;
			how.torn_from_end = torn & 1;
		}
		struct fuzz_sync r = {0};
		FUZZ_CHECK(fuzz_wait(&r, duet_blk_fault_crash(fault, &how,
							      fuzz_plain_cb,
							      &r)) == 0);
	}
	fuzz_close(kv);
	FUZZ_CHECK(duet_block_in_flight(duet_blk_fault_block(fault)) == 0);
	duet_block_unregister(duet_blk_fault_block(fault));
	unsigned acked = 0;
	for (unsigned i = 0; i < nops; i++) {
		if (ops[i].status == 0 &&
		    (ops[i].kind == SET || ops[i].kind == DEL))
			acked = i + 1;
	}
	mount();
	struct model m;
	bool ok = false;
	for (unsigned p = acked; !ok && p <= nops; p++) {
		apply(&m, p);
		ok = shows(&m);
	}
	FUZZ_CHECK(ok); /* some prefix, every acknowledged write in it */
	base = m;
	nops = 0;
}

static void submit(uint8_t op, struct fuzz_in *in)
{
	struct op *o = &ops[nops];
	unsigned k = fuzz_u8(in) % NKEYS;
	int e = 0;

	*o = (struct op){.key = k, .version = (int)nops + 1};
	switch (op & 7) {
	case 0:
	case 1:
	case 2:
		o->kind = SET;
		o->len = fuzz_u8(in) * 6u;
		fill(vals[nops], o->len, k, o->version);
		e = duet_kv_set(kv, &o->req, keys[k], vals[nops], o->len,
				op_done, o);
		break;
	case 3:
		o->kind = DEL;
		e = duet_kv_delete(kv, &o->req, keys[k], op_done, o);
		break;
	case 4:
		o->kind = SYNC;
		e = duet_kv_sync(kv, &o->req, op_done, o);
		break;
	default:
		o->kind = COMPACT;
		e = duet_logstore_compact(kv, &o->req, op_done, o);
		break;
	}
	FUZZ_CHECK(e == 0);
	nops++;
	inflight++;
	if (!(op & 0x80) || inflight == MAXBATCH)
		wait_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct fuzz_sync r = {0};
	struct model m;

	fakeplat_reset();
	duet_sys_init(&fuzz_sys, NULL);
	for (unsigned k = 0; k < NKEYS; k++) {
		snprintf(keys[k], sizeof(keys[k]), "key%u", k);
		base.version[k] = -1;
	}
	FUZZ_CHECK(duet_blk_mem_create(fuzz_loop, "lower", SSZ, SECTORS, false,
				       &mem) == 0);
	/* Formatted once; each run starts from a copy. */
	static uint8_t formatted[SSZ * SECTORS];
	static bool have_formatted;
	if (!have_formatted) {
		FUZZ_CHECK(
		    fuzz_wait(&r, duet_logstore_format(
				      fuzz_loop, duet_blk_mem_block(mem),
				      fuzz_plain_cb, &r)) == 0);
		memcpy(formatted, duet_blk_mem_data(mem), sizeof(formatted));
		have_formatted = true;
	}
	memcpy(duet_blk_mem_data(mem), formatted, sizeof(formatted));
	nops = inflight = 0;
	mount();
	while (fuzz_more(&in) && nops < MAXOPS - 1) {
		uint8_t op = fuzz_u8(&in);
		if ((op & 0x7f) == 6) {
			power_cycle(&in, true);
		} else if ((op & 0x7f) == 7) {
			duet_blk_fault_cut_after(fault,
						 duet_blk_fault_ops(fault) +
						     fuzz_u8(&in) % 16);
		} else {
			submit(op, &in);
		}
		if (duet_blk_fault_dead(fault)) {
			power_cycle(&in, true);
		} else if (inflight == 0 && !faulted) {
			apply(&m, nops);
			FUZZ_CHECK(shows(&m));
		}
	}
	power_cycle(&in, false);
	fuzz_close(kv);
	duet_block_unregister(duet_blk_fault_block(fault));
	duet_block_unregister(duet_blk_mem_block(mem));
	return 0;
}
