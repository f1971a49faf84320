/* storage_bench: durable sets per second on the log store, for
 * bench/storage.sh. Formats disk0 (format=1), or mounts it and runs `sets`
 * sets of `size`-byte values under distinct keys, `depth` of them in flight
 * at a time (1: each waits for the previous one's durability), then prints
 * one result line and exits.
 *
 *   ./storage_bench --block disk0=IMG format=1
 *   ./storage_bench --block disk0=IMG sets=2000 size=100 depth=1
 */
#include <stdio.h>
#include <stdlib.h>

#include <duet/duet.h>
#include <duet/logstore.h>

struct bench {
	struct duet_loop *loop;
	struct duet_block *dev;
	struct duet_kv *kv;
	long long sets, size, depth;
	long long submitted, done;
	struct duet_kv_req *reqs;
	char (*keys)[16];
	uint8_t *value;
	duet_time_t start;
};

static void bench_submit(struct bench *b, struct duet_kv_req *req);

static void set_done(struct duet_kv_req *req, int status, void *arg)
{
	struct bench *b = arg;

	if (status < 0) {
		DUET_ERROR("bench", "set failed: %s", duet_strerror(status));
		duet_exit(b->loop, DUET_EXIT_FAILURE);
		return;
	}
	if (++b->done == b->sets) {
		struct duet_logstore_stats st;
		duet_loop_update_time(b->loop);
		double secs = (double)(duet_loop_now(b->loop) - b->start) / 1e9;
		duet_logstore_get_stats(b->kv, &st);
		printf(
		    "duet-logstore sets=%lld size=%lld depth=%lld seconds=%.3f "
		    "sets_per_sec=%.1f log_bytes_per_set=%.1f "
		    "device_bytes_per_set=%.1f "
		    "commits=%llu\n",
		    b->sets, b->size, b->depth, secs, (double)b->sets / secs,
		    (double)st.log_bytes / (double)b->sets,
		    (double)st.bytes_written / (double)b->sets,
		    (unsigned long long)st.commits);
		fflush(stdout);
		duet_exit(b->loop, 0);
		return;
	}
	if (b->submitted < b->sets)
		bench_submit(b, req);
}

static void bench_submit(struct bench *b, struct duet_kv_req *req)
{
	long long i = b->submitted++;
	char *key = b->keys[req - b->reqs];
	int r;

	snprintf(key, 16, "k%012lld", i);
	b->value[0] = (uint8_t)i;
	r = duet_kv_set(b->kv, req, key, b->value, (size_t)b->size, set_done,
			b);
	if (r < 0) {
		DUET_ERROR("bench", "set: %s", duet_strerror(r));
		duet_exit(b->loop, DUET_EXIT_FAILURE);
	}
}

static void mounted(struct duet_kv *kv, int status, void *arg)
{
	struct bench *b = arg;

	if (status < 0) {
		duet_exit(b->loop, DUET_EXIT_FAILURE);
		return;
	}
	b->kv = kv;
	duet_loop_update_time(b->loop);
	b->start = duet_loop_now(b->loop);
	for (long long i = 0; i < b->depth && i < b->sets; i++)
		bench_submit(b, &b->reqs[i]);
}

static void formatted(void *arg, int status)
{
	struct bench *b = arg;

	if (status < 0)
		DUET_ERROR("bench", "format: %s", duet_strerror(status));
	duet_exit(b->loop, status < 0 ? DUET_EXIT_FAILURE : 0);
}

static int bench_start(struct duet_loop *loop, void *arg)
{
	static struct bench b;
	struct duet_args *args = duet_loop_args(loop);
	bool format;
	int r;
	(void)arg;

	if ((r = duet_args_get_bool(args, "format", false, &format)) < 0 ||
	    (r = duet_args_get_int(args, "sets", 2000, 1, 100000000, &b.sets)) <
		0 ||
	    (r = duet_args_get_int(args, "size", 100, 0, 1 << 20, &b.size)) <
		0 ||
	    (r = duet_args_get_int(args, "depth", 1, 1, 4096, &b.depth)) < 0)
		return r;
	b.loop = loop;
	if ((r = duet_block_open(loop, "disk0", &b.dev)) < 0)
		return r;
	if (format)
		return duet_logstore_format(loop, b.dev, formatted, &b);
	b.reqs = calloc((size_t)b.depth, sizeof(*b.reqs));
	b.keys = calloc((size_t)b.depth, sizeof(*b.keys));
	b.value = malloc((size_t)b.size + 1);
	if (b.reqs == NULL || b.keys == NULL || b.value == NULL)
		return -ENOMEM;
	for (long long i = 0; i < b.size; i++)
		b.value[i] = (uint8_t)(i * 131 + 7);
	return duet_logstore_mount(loop, b.dev, mounted, &b);
}

DUET_APP(.name = "storage_bench",
	 .summary = "durable sets per second on the log store",
	 .args_help = "  format=1   format disk0 and exit\n"
		      "  sets=N     sets to run (default 2000)\n"
		      "  size=B     value bytes (default 100)\n"
		      "  depth=D    sets in flight at once (default 1)",
	 .start = bench_start);
