/* kvcrash: the log store on disk0 across a domain killed mid-write, for
 * the Xen harness (tests/xen/cases/blk-logstore-crash.case).
 *
 *   kv.mode=write  format disk0, mount the log store and set keys k000000,
 *                  k000001, ... (four in flight, values of 40 to ~1000
 *                  bytes made from the key), printing "kvcrash: ack KEY"
 *                  as each set completes, i.e. is durable; stops after
 *                  kv.keys keys (default 3000) and idles, to be destroyed
 *   kv.mode=check  mount disk0 and read k000000, k000001, ... until one is
 *                  missing; every value must be intact, and no key may
 *                  exist past the first missing one (sets are applied in
 *                  order). Prints "kvcrash: PASS N keys present and
 *                  intact" (N = the first missing index)
 *   kv.mode=idle   print "kvcrash: idle" and wait (the case's own domain,
 *                  while its action runs the two above)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/duet.h>
#include <duet/kv.h>
#include <duet/logstore.h>

#define INFLIGHT   4
#define VALUE_MAX  1100
#define PROBE_PAST 16 /* keys looked for past the first missing one */

struct op {
	struct duet_kv_req req;
	char key[16];
	char value[VALUE_MAX];
	char got[VALUE_MAX];
	unsigned index;
	struct kvcrash *kc;
};

struct kvcrash {
	struct duet_loop *loop;
	struct duet_block *disk;
	struct duet_kv *kv;
	bool checking;
	unsigned keys;
	unsigned next;
	unsigned missing; /* check: first missing index, or UINT32_MAX */
	unsigned busy;
	bool failed;
	struct op op[INFLIGHT];
};

/* The value of key i: its name repeated, 40 + (i * 37) % 960 bytes. */
static size_t make_value(unsigned i, char *out)
{
	size_t len = 40 + (size_t)(i * 37u) % 960, n = 0;
	char word[24];
	int w = snprintf(word, sizeof(word), "v%06u-", i);

	while (n < len) {
		size_t take = len - n < (size_t)w ? len - n : (size_t)w;

		memcpy(out + n, word, take);
		n += take;
	}
	return len;
}

static void fail(struct kvcrash *kc, const char *what, int status)
{
	if (kc->failed)
		return;
	kc->failed = true;
	DUET_INFO("kvcrash", "FAIL %s: %s", what, duet_strerror(status));
	duet_shutdown(kc->loop, DUET_EXIT_FAILURE);
}

static void next_op(struct kvcrash *kc, struct op *op);

static void on_set(struct duet_kv_req *req, int status, void *arg)
{
	struct op *op = arg;
	struct kvcrash *kc = op->kc;
	(void)req;

	kc->busy--;
	if (status < 0) {
		fail(kc, op->key, status);
		return;
	}
	DUET_INFO("kvcrash", "ack %s", op->key);
	next_op(kc, op);
	if (kc->busy == 0 && !kc->failed)
		DUET_INFO("kvcrash", "all %u keys acknowledged; idle",
			  kc->keys);
}

static void check_done(struct kvcrash *kc)
{
	DUET_INFO("kvcrash", "PASS %u keys present and intact", kc->missing);
	duet_shutdown(kc->loop, DUET_EXIT_SUCCESS);
}

static void on_get(struct duet_kv_req *req, int status, void *arg)
{
	struct op *op = arg;
	struct kvcrash *kc = op->kc;
	size_t len = make_value(op->index, op->value);
	(void)req;

	kc->busy--;
	if (kc->failed)
		return;
	if (status == -ENOENT) {
		if (op->index < kc->missing)
			kc->missing = op->index;
	} else if (status < 0) {
		fail(kc, op->key, status);
		return;
	} else if ((size_t)status != len ||
		   memcmp(op->got, op->value, len) != 0) {
		fail(kc, "value differs", -EBADMSG);
		return;
	} else if (op->index > kc->missing) {
		DUET_INFO("kvcrash", "%s exists after a missing key", op->key);
		fail(kc, "order", -EBADMSG);
		return;
	}
	next_op(kc, op);
	if (kc->busy == 0 && !kc->failed)
		check_done(kc);
}

static void next_op(struct kvcrash *kc, struct op *op)
{
	int r;

	if (kc->failed || kc->next >= kc->keys)
		return;
	if (kc->checking && kc->missing != UINT32_MAX &&
	    kc->next > kc->missing + PROBE_PAST)
		return;
	op->index = kc->next++;
	snprintf(op->key, sizeof(op->key), "k%06u", op->index);
	if (kc->checking) {
		r = duet_kv_get(kc->kv, &op->req, op->key, 0, op->got,
				sizeof(op->got), on_get, op);
	} else {
		size_t len = make_value(op->index, op->value);

		r = duet_kv_set(kc->kv, &op->req, op->key, op->value, len,
				on_set, op);
	}
	if (r < 0) {
		fail(kc, op->key, r);
		return;
	}
	kc->busy++;
}

static void on_mount(struct duet_kv *kv, int status, void *arg)
{
	struct kvcrash *kc = arg;

	if (status < 0) {
		fail(kc, "mount", status);
		return;
	}
	kc->kv = kv;
	if (kc->checking) {
		struct duet_logstore_report rep;

		duet_logstore_report(kv, &rep);
		DUET_INFO("kvcrash",
			  "mounted: %llu records, %llu keys, %llu dropped "
			  "records (%s)",
			  (unsigned long long)rep.records,
			  (unsigned long long)rep.keys,
			  (unsigned long long)rep.dropped_records,
			  rep.damage != NULL ? rep.damage : "clean end");
	} else {
		DUET_INFO("kvcrash", "mounted a fresh store: writing");
	}
	for (unsigned i = 0; i < INFLIGHT; i++)
		next_op(kc, &kc->op[i]);
	if (kc->checking && kc->busy == 0)
		check_done(kc);
}

static void on_format(void *arg, int status)
{
	struct kvcrash *kc = arg;
	int r;

	if (status < 0) {
		fail(kc, "format", status);
		return;
	}
	if ((r = duet_logstore_mount(kc->loop, kc->disk, on_mount, kc)) < 0)
		fail(kc, "mount", r);
}

static int kvcrash_start(struct duet_loop *loop, void *arg)
{
	static struct kvcrash kc;
	struct duet_args *args = duet_loop_args(loop);
	const char *mode;
	long long keys;
	int r;
	(void)arg;

	if ((r = duet_args_get_str(args, "kv.mode", "write", &mode)) < 0 ||
	    (r = duet_args_get_int(args, "kv.keys", 3000, 1, 999999, &keys)) <
		0)
		return r;
	kc.loop = loop;
	kc.keys = (unsigned)keys;
	kc.missing = UINT32_MAX;
	for (unsigned i = 0; i < INFLIGHT; i++)
		kc.op[i].kc = &kc;
	if (strcmp(mode, "idle") == 0) {
		DUET_INFO("kvcrash", "idle");
		return 0;
	}
	if (strcmp(mode, "write") != 0 && strcmp(mode, "check") != 0) {
		DUET_ERROR("kvcrash", "kv.mode=%s: write, check or idle", mode);
		return -EINVAL;
	}
	if ((r = duet_block_open(loop, "disk0", &kc.disk)) < 0)
		return r;
	if (strcmp(mode, "check") == 0) {
		kc.checking = true;
		return duet_logstore_mount(loop, kc.disk, on_mount, &kc);
	}
	return duet_logstore_format(loop, kc.disk, on_format, &kc);
}

DUET_APP(.name = "kvcrash",
	 .summary = "the log store across a domain destroyed mid-write",
	 .args_help = "kv.mode=write|check|idle  what to do\n"
		      "kv.keys=N  keys to write (default 3000)",
	 .start = kvcrash_start);
