/* Crash consistency of the log store, exhaustively on small workloads.
 *
 * A workload of sets, deletes, syncs and compactions runs against the
 * fault-injecting disk with the power cut at every write, durable write
 * and flush in turn (mount and compaction included), once with the disk's
 * own durable writes and once with each split into a write and a flush. At each cut every way the disk's cache
 * could have landed is tried — nothing, any subset of the unflushed writes
 * (reordering), and each unflushed write torn at every sector, keeping its
 * head or its tail — by running the workload again to that point and
 * crashing that way. Then the store is mounted on what is left and must
 * show every acknowledged write, and exactly the state after some prefix
 * of the submitted operations (nothing unacknowledged half-visible), and
 * must take new writes. One test goes on from every crashed image with a
 * second workload and crashes that at every point too. */
#include <stdio.h>
#include <unistd.h>

#include <criterion/hooks.h>

#include "storage_harness.h"

TestSuite(crash, .init = harness_setup);

enum op_kind { SET, DEL, SYNC, COMPACT };

struct op {
	enum op_kind kind;
	unsigned key, len;
	unsigned group; /* ops of a group are submitted together */
};

#define NKEYS  5
#define MAXOPS 32

/* What the store holds: per key, the value's bytes or len -ENOENT. */
struct model {
	const uint8_t *data[NKEYS];
	int len[NKEYS];
};

struct workload {
	const struct op *ops;
	unsigned n;
	uint32_t ssz;
	uint64_t sectors;
	/* Where it starts: an image (NULL: freshly formatted) holding `base`.
	 */
	const uint8_t *image;
	const struct model *base;
	/* Run this workload from every crashed image (one level deep). */
	const struct workload *then;
	/* Durable writes as a write and a flush (duet_blk_fault_split_fua),
	 * rather than the disk's native one. */
	bool split_fua;
};

/* One run: the state of every op. */
struct run {
	struct duet_kv_req reqs[MAXOPS];
	char keys[MAXOPS][8];
	uint8_t *vals[MAXOPS];
	bool submitted[MAXOPS], acked[MAXOPS];
	unsigned outstanding;
	bool idle;
};

static unsigned long states_checked;

static void op_done(struct duet_kv_req *req, int status, void *arg)
{
	struct run *r = arg;
	unsigned i = (unsigned)(req - r->reqs);

	r->acked[i] = status == 0;
	if (--r->outstanding == 0)
		r->idle = true;
}

static uint8_t *formatted_image(const struct workload *w)
{
	struct duet_blk_mem *m = mem_disk("tmpl", w->ssz, w->sectors);
	size_t size = (size_t)duet_blk_mem_size(m);
	uint8_t *img = malloc(size);

	cr_assert_eq(format_sync(duet_blk_mem_block(m)), 0);
	memcpy(img, duet_blk_mem_data(m), size);
	duet_block_unregister(duet_blk_mem_block(m));
	return img;
}

/* Runs the workload with the power cut after `cut` writes and flushes;
 * leaves the fault disk dead (or the workload complete). */
static struct duet_kv *run_workload(const struct workload *w, struct run *r,
				    struct duet_blk_fault *f, uint64_t cut)
{
	struct duet_kv *kv = NULL;
	unsigned i = 0;

	duet_blk_fault_cut_after(f, cut);
	if (log_mount_sync(duet_blk_fault_block(f), &kv) < 0)
		return NULL;
	while (i < w->n) {
		unsigned g = w->ops[i].group;
		r->outstanding = 0;
		r->idle = false;
		for (; i < w->n && w->ops[i].group == g; i++) {
			const struct op *o = &w->ops[i];
			int e = 0;
			snprintf(r->keys[i], sizeof(r->keys[i]), "key%u",
				 o->key);
			r->submitted[i] = true;
			r->outstanding++;
			switch (o->kind) {
			case SET:
				r->vals[i] = malloc(o->len + 1);
				fill_value(r->vals[i], o->len, o->key,
					   i + 100 * (w->base != NULL));
				e = duet_kv_set(kv, &r->reqs[i], r->keys[i],
						r->vals[i], o->len, op_done, r);
				break;
			case DEL:
				e = duet_kv_delete(kv, &r->reqs[i], r->keys[i],
						   op_done, r);
				break;
			case SYNC:
				e = duet_kv_sync(kv, &r->reqs[i], op_done, r);
				break;
			case COMPACT:
				e = duet_logstore_compact(kv, &r->reqs[i],
							  op_done, r);
				break;
			}
			cr_assert_eq(e, 0);
		}
		run_until(&r->idle);
	}
	return kv;
}

static void model_apply(struct model *m, const struct workload *w,
			const struct run *r, unsigned i)
{
	unsigned k = w->ops[i].key;

	if (w->ops[i].kind == SET) {
		m->data[k] = r->vals[i];
		m->len[k] = (int)w->ops[i].len;
	} else if (w->ops[i].kind == DEL) {
		m->len[k] = -ENOENT;
	}
}

static bool matches(const struct model *m, uint8_t (*seen)[16384],
		    const int *lens)
{
	for (unsigned k = 0; k < NKEYS; k++) {
		if (lens[k] != m->len[k])
			return false;
		if (lens[k] > 0 &&
		    memcmp(seen[k], m->data[k], (size_t)lens[k]) != 0)
			return false;
	}
	return true;
}

/* Mounts what the crash left on `lower` and checks it; fills `shown` (its
 * bytes malloc'd) with what the store holds, for a second level. */
static void check_recovered(const struct workload *w, struct run *r,
			    struct duet_block *lower, const char *what,
			    struct model *shown)
{
	struct duet_kv *kv = NULL;
	static uint8_t seen[NKEYS][16384];
	int lens[NKEYS];
	unsigned acked = 0, submitted = 0;

	cr_assert_eq(log_mount_sync(lower, &kv), 0, "%s: mount failed", what);
	for (unsigned k = 0; k < NKEYS; k++) {
		char key[8];
		snprintf(key, sizeof(key), "key%u", k);
		lens[k] =
		    kv_get_sync(kv, key, 0, seen[k], sizeof(seen[k]), NULL);
		cr_assert(lens[k] >= 0 || lens[k] == -ENOENT, "%s: get gave %d",
			  what, lens[k]);
	}
	for (unsigned i = 0; i < w->n; i++) {
		if (r->acked[i]) {
			cr_assert_eq(acked, i,
				     "%s: op %u acknowledged out of order",
				     what, i);
			acked++;
		}
		submitted += r->submitted[i];
	}
	/* Some prefix of the submitted ops, at least every acknowledged one. */
	struct model m;
	for (unsigned k = 0; k < NKEYS; k++) {
		m.data[k] = w->base != NULL ? w->base->data[k] : NULL;
		m.len[k] = w->base != NULL ? w->base->len[k] : -ENOENT;
	}
	for (unsigned i = 0; i < acked; i++)
		model_apply(&m, w, r, i);
	bool ok = matches(&m, seen, lens);
	for (unsigned i = acked; !ok && i < submitted; i++) {
		model_apply(&m, w, r, i);
		ok = matches(&m, seen, lens);
	}
	cr_assert(ok,
		  "%s: %u ops acknowledged, %u submitted; the store shows no "
		  "prefix of them",
		  what, acked, submitted);
	for (unsigned k = 0; shown != NULL && k < NKEYS; k++) {
		uint8_t *copy = malloc(lens[k] > 0 ? (size_t)lens[k] : 1);
		if (lens[k] > 0)
			memcpy(copy, seen[k], (size_t)lens[k]);
		shown->data[k] = copy;
		shown->len[k] = lens[k];
	}
	/* Still usable: a new write lands and survives a remount. */
	cr_assert_eq(kv_set_sync(kv, "post", "crash", 5), 0, "%s", what);
	cr_assert_eq(duet_kv_close(kv), 0);
	cr_assert_eq(log_mount_sync(lower, &kv), 0, "%s: second mount", what);
	char b[8];
	cr_assert_eq(kv_get_sync(kv, "post", 0, b, sizeof(b), NULL), 5, "%s",
		     what);
	cr_assert_eq(duet_kv_close(kv), 0);
	states_checked++;
}

static void crash_everywhere_once(const struct workload *w);

/* One crash state: run to the cut, land the cache as `how`, check. Returns
 * false once the cut is past the end of the workload. */
static bool crash_once(const struct workload *w, const uint8_t *image,
		       uint64_t cut, const struct duet_blk_fault_crash *how,
		       unsigned *unflushed, uint64_t *counts)
{
	struct duet_blk_mem *m = mem_disk("lower", w->ssz, w->sectors);
	size_t size = (size_t)duet_blk_mem_size(m);
	struct duet_blk_fault *f;
	struct run *r = calloc(1, sizeof(*r));
	struct sync_result done = {0};
	char what[128];
	uint8_t *crashed = NULL;
	struct model shown;

	memcpy(duet_blk_mem_data(m), image, size);
	cr_assert_eq(
	    duet_blk_fault_create(loop, "disk0", duet_blk_mem_block(m), &f),
	    0);
	if (w->split_fua)
		duet_blk_fault_split_fua(f);
	struct duet_kv *kv = run_workload(w, r, f, cut);
	bool reached = duet_blk_fault_dead(f);
	*unflushed = duet_blk_fault_unflushed(f);
	for (unsigned i = 0; i < *unflushed && i < 64; i++) {
		uint64_t sector;
		duet_blk_fault_unflushed_info(f, i, &sector, &counts[i]);
	}
	if (how != NULL && reached) {
		cr_assert_eq(duet_blk_fault_crash(f, how, sync_plain_cb, &done),
			     0);
		run_until(&done.done);
		cr_assert_eq(done.status, 0);
	}
	if (kv != NULL)
		cr_assert_eq(duet_kv_close(kv), 0);
	cr_assert_eq(duet_block_in_flight(duet_blk_fault_block(f)), 0);
	duet_block_unregister(duet_blk_fault_block(f));
	if (how != NULL && reached) {
		snprintf(what, sizeof(what),
			 "%s%scut %llu keep %#llx torn %d/%llu%s",
			 w->base != NULL ? "after a crash: " : "",
			 w->split_fua ? "split FUA: " : "",
			 (unsigned long long)cut, (unsigned long long)how->keep,
			 how->torn, (unsigned long long)how->torn_sectors,
			 how->torn_from_end ? " tail" : "");
		if (w->then != NULL) {
			crashed = malloc(size);
			memcpy(crashed, duet_blk_mem_data(m), size);
		}
		check_recovered(w, r, duet_blk_mem_block(m), what,
				w->then != NULL ? &shown : NULL);
	}
	for (unsigned i = 0; i < MAXOPS; i++)
		free(r->vals[i]);
	free(r);
	duet_block_unregister(duet_blk_mem_block(m));
	if (crashed != NULL) {
		/* Go on from what this crash left, and crash that too. */
		struct workload next = *w->then;
		next.image = crashed;
		next.base = &shown;
		next.split_fua = w->split_fua;
		crash_everywhere_once(&next);
		for (unsigned k = 0; k < NKEYS; k++)
			free((void *)shown.data[k]);
		free(crashed);
	}
	return reached;
}

static void crash_everywhere_once(const struct workload *w)
{
	unsigned long before = states_checked;
	uint64_t counts[64];
	uint8_t *fresh = w->image == NULL ? formatted_image(w) : NULL;
	const uint8_t *image = fresh != NULL ? fresh : w->image;
	unsigned u;

	for (uint64_t cut = 0;; cut++) {
		/* First find what the cache holds at this cut. */
		if (!crash_once(w, image, cut, NULL, &u, counts))
			break;
		unsigned subsets = u <= 6 ? 1u << u : 0;
		struct duet_blk_fault_crash how = {.torn = -1};
		for (unsigned mask = 0; mask < subsets; mask++) {
			how.keep = mask;
			crash_once(w, image, cut, &how, &u, counts);
		}
		for (unsigned i = 0; subsets == 0 && i <= u; i++) {
			how.keep = (1ull << i) - 1; /* in-order prefixes */
			crash_once(w, image, cut, &how, &u, counts);
		}
		for (unsigned i = 0; i < u && i < 64; i++) {
			for (uint64_t s = 1; s < counts[i]; s++) {
				for (int tail = 0; tail < 2; tail++) {
					how = (struct duet_blk_fault_crash){
					    .keep = (1ull << i) - 1,
					    .torn = (int)i,
					    .torn_sectors = s,
					    .torn_from_end = tail,
					};
					crash_once(w, image, cut, &how, &u,
						   counts);
				}
			}
		}
	}
	free(fresh);
	cr_assert_gt(states_checked, before + 5, "too few crash states: %lu",
		     states_checked - before);
}

/* With the disk's own durable write (the write-back drains the cache at
 * every commit), then with it split in two (a cut between the halves
 * finds the commit's write in the cache, to be dropped, torn or kept). */
static void crash_everywhere(const struct workload *w)
{
	struct workload split = *w;

	crash_everywhere_once(w);
	if (w->split_fua)
		return;
	split.split_fua = true;
	crash_everywhere_once(&split);
}

/* Criterion runs each test in a child whose output it swallows in TAP
 * mode, so the children add their counts to a file the runner names, and
 * the runner prints the total as a TAP diagnostic line at exit. */
#define STATES_ENV "DUET_CRASH_STATES_FILE"

static void report_states(void)
{
	const char *path = getenv(STATES_ENV);
	FILE *f = path != NULL ? fopen(path, "a") : NULL;

	if (f != NULL) {
		fprintf(f, "%lu\n", states_checked);
		fclose(f);
	}
}

/* At exit, once Criterion has given the runner its output back. */
static void print_states(void)
{
	const char *path = getenv(STATES_ENV);
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	unsigned long n, total = 0;

	while (f != NULL && fscanf(f, "%lu", &n) == 1)
		total += n;
	if (f != NULL) {
		fclose(f);
		remove(path);
	}
	printf("# crash states checked: %lu\n", total);
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	static char path[64];
	(void)set;
	snprintf(path, sizeof(path), "/tmp/duet-crash-states.%ld",
		 (long)getpid());
	remove(path);
	setenv(STATES_ENV, path, 1);
	atexit(print_states);
}

/* Small values, concurrent batches, deletes, a sync and an explicit
 * compaction in a store big enough not to compact on its own. */
static const struct op mixed[] = {
    {SET, 0, 100, 1},	{SET, 1, 1500, 2}, {SET, 2, 40, 2},   {DEL, 0, 0, 2},
    {SYNC, 0, 0, 3},	{SET, 0, 700, 4},  {SET, 1, 1200, 5}, {SET, 3, 3000, 5},
    {COMPACT, 0, 0, 6}, {DEL, 2, 0, 7},	   {SET, 2, 900, 7},  {SET, 4, 2000, 8},
    {SET, 0, 10, 8},	{SET, 1, 2500, 8}, {SET, 3, 600, 9},
};

/* What runs after each crash of `mixed`: overwrites, a delete, a new key. */
static const struct op aftermath[] = {
    {SET, 0, 300, 1},
    {SET, 1, 1200, 2},
    {DEL, 2, 0, 2},
    {SET, 4, 700, 3},
};

Test(crash, mixed_workload_every_cut_every_landing_twice, .timeout = 60)
{
	const struct workload after = {
	    .ops = aftermath,
	    .n = 4,
	    .ssz = 512,
	    .sectors = 2 + 2 * 64,
	};
	const struct workload w = {
	    .ops = mixed,
	    .n = sizeof(mixed) / sizeof(mixed[0]),
	    .ssz = 512,
	    .sectors = 2 + 2 * 64,
	    .then = &after,
	};

	crash_everywhere(&w);
	report_states();
}

/* Overwrites in regions of 24 sectors: compaction starts on its own, in
 * the middle of the workload, more than once. */
static const struct op churn[] = {
    {SET, 0, 2000, 1},	{SET, 1, 1800, 2}, {SET, 0, 2100, 3}, {SET, 2, 700, 4},
    {SET, 1, 1900, 4},	{SET, 0, 1500, 5}, {DEL, 1, 0, 6},    {SET, 3, 2500, 7},
    {SET, 0, 1700, 8},	{SET, 2, 2600, 9}, {SET, 3, 1000, 9}, {SET, 4, 900, 10},
    {SET, 0, 2200, 11},
};

Test(crash, compaction_under_way_every_cut_every_landing, .timeout = 60)
{
	const struct workload w = {
	    .ops = churn,
	    .n = sizeof(churn) / sizeof(churn[0]),
	    .ssz = 512,
	    .sectors = 2 + 2 * 24,
	};

	crash_everywhere(&w);
	report_states();
}

/* 4 KiB sectors, batches of several sets spanning many sectors: each
 * batch write can tear at every sector boundary. */
static const struct op wide[] = {
    {SET, 0, 9000, 1},	{SET, 1, 100, 1},  {SET, 2, 5000, 1},
    {SET, 3, 12000, 2}, {DEL, 1, 0, 2},	   {SET, 4, 300, 2},
    {SET, 0, 4096, 2},	{SYNC, 0, 0, 3},   {SET, 1, 7000, 4},
    {SET, 2, 1, 4},	{DEL, 3, 0, 4},	   {SET, 3, 8191, 4},
    {COMPACT, 0, 0, 5}, {SET, 4, 6000, 6}, {SET, 0, 4000, 6},
};

Test(crash, multi_sector_batches_with_4k_sectors, .timeout = 60)
{
	const struct workload w = {
	    .ops = wide,
	    .n = sizeof(wide) / sizeof(wide[0]),
	    .ssz = 4096,
	    .sectors = 2 + 2 * 24,
	};

	crash_everywhere(&w);
	report_states();
}

/* Seeded random workloads: sets of 0..1400 bytes, deletes and syncs over
 * five keys, in groups of one to four, in regions small enough that
 * compaction comes and goes. */
Test(crash, random_small_workloads, .timeout = 120)
{
	static struct op ops[16];
	uint32_t x = 2024;

	for (unsigned seed = 0; seed < 40; seed++) {
		unsigned group = 1;
		for (unsigned i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			unsigned r = (x >> 16) % 100;
			ops[i].kind = r < 70   ? SET
				      : r < 88 ? DEL
				      : r < 96 ? SYNC
					       : COMPACT;
			ops[i].key = (x >> 8) % NKEYS;
			ops[i].len = ops[i].kind == SET ? (x >> 4) % 1401 : 0;
			if (i > 0 && (x >> 24) % 3 != 0)
				group++;
			ops[i].group = group;
		}
		const struct workload w = {
		    .ops = ops,
		    .n = 16,
		    .ssz = 512,
		    .sectors = 2 + 2 * 24,
		};
		crash_everywhere(&w);
	}
	report_states();
}
