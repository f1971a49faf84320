/* The log-structured store: operations, persistence, group commit,
 * compaction, foreign and damaged images, device errors. */
#include <stdio.h>

#include "storage_harness.h"
/* Superblocks written by hand. */
#include "../../storage/log_format.h"

TestSuite(logstore, .init = harness_setup);

static struct duet_kv *fresh(struct duet_blk_mem **out, uint32_t ssz,
			     uint64_t sectors)
{
	struct duet_blk_mem *m = mem_disk("disk0", ssz, sectors);
	struct duet_kv *kv = NULL;

	cr_assert_eq(format_sync(duet_blk_mem_block(m)), 0);
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	if (out != NULL)
		*out = m;
	return kv;
}

static struct duet_kv *remount(struct duet_kv *kv, struct duet_blk_mem *m)
{
	cr_assert_eq(duet_kv_close(kv), 0);
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	return kv;
}

Test(logstore, set_get_stat_delete)
{
	struct duet_kv *kv = fresh(NULL, 512, 256);
	char buf[64];
	struct duet_kv_stat st;

	cr_assert_str_eq(duet_kv_kind(kv), "log");
	cr_assert(!duet_kv_read_only(kv));
	cr_assert_eq(duet_kv_io_size(kv), DUET_BLOCK_IO_SIZE_DEFAULT);
	cr_assert_eq(kv_get_sync(kv, "a", 0, buf, sizeof(buf), NULL), -ENOENT);
	cr_assert_eq(kv_set_sync(kv, "a", "hello", 5), 0);
	cr_assert_eq(kv_get_sync(kv, "a", 0, buf, sizeof(buf), &st), 5);
	cr_assert_arr_eq(buf, "hello", 5);
	cr_assert_eq(st.size, 5);
	cr_assert_eq(kv_get_sync(kv, "a", 1, buf, 3, NULL), 3);
	cr_assert_arr_eq(buf, "ell", 3);
	cr_assert_eq(kv_get_sync(kv, "a", 5, buf, 3, NULL), 0);
	cr_assert_eq(kv_get_sync(kv, "a", 6, buf, 3, NULL), -EINVAL);
	cr_assert_eq(kv_stat_sync(kv, "a", &st), 0);
	uint64_t v1 = st.version;
	cr_assert_eq(kv_set_sync(kv, "a", "bye", 3), 0);
	cr_assert_eq(kv_stat_sync(kv, "a", &st), 0);
	cr_assert_eq(st.size, 3);
	cr_assert_neq(st.version, v1, "version must change with the value");
	cr_assert_eq(kv_del_sync(kv, "a"), 0);
	cr_assert_eq(kv_stat_sync(kv, "a", NULL), -ENOENT);
	cr_assert_eq(kv_del_sync(kv, "a"), 0, "deleting an absent key is fine");
	cr_assert_eq(kv_set_sync(kv, "empty", "", 0), 0);
	cr_assert_eq(kv_get_sync(kv, "empty", 0, buf, sizeof(buf), NULL), 0);
	cr_assert_eq(kv_sync_sync(kv), 0);
	cr_assert_eq(duet_kv_close(kv), 0);
}

Test(logstore, bad_keys_are_refused_at_submit)
{
	struct duet_kv *kv = fresh(NULL, 512, 256);
	struct duet_kv_req req;
	static char longkey[DUET_KV_KEY_MAX + 2];

	memset(longkey, 'k', sizeof(longkey) - 1);
	cr_assert_eq(duet_kv_set(kv, &req, "", "x", 1, sync_kv_cb, NULL),
		     -EINVAL);
	cr_assert_eq(duet_kv_set(kv, &req, longkey, "x", 1, sync_kv_cb, NULL),
		     -EINVAL);
	longkey[DUET_KV_KEY_MAX] = '\0';
	cr_assert_eq(kv_set_sync(kv, longkey, "x", 1), 0);
	cr_assert_eq(duet_kv_in_flight(kv), 0);
	duet_kv_close(kv);
}

Test(logstore, values_survive_remount_in_order)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 1024);
	static uint8_t v[3000], got[3000];
	char key[16];

	for (unsigned i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%u", i % 7);
		fill_value(v, 100 + i * 137, i % 7, i);
		cr_assert_eq(kv_set_sync(kv, key, v, 100 + i * 137), 0);
	}
	cr_assert_eq(kv_del_sync(kv, "k3"), 0);
	kv = remount(kv, m);
	struct duet_logstore_report rep;
	duet_logstore_report(kv, &rep);
	cr_assert(!rep.damaged);
	cr_assert_eq(rep.records, 21);
	cr_assert_eq(rep.keys, 6);
	for (unsigned k = 0; k < 7; k++) {
		unsigned last = 0;
		for (unsigned i = 0; i < 20; i++)
			if (i % 7 == k)
				last = i;
		snprintf(key, sizeof(key), "k%u", k);
		int n = kv_get_sync(kv, key, 0, got, sizeof(got), NULL);
		if (k == 3) {
			cr_assert_eq(n, -ENOENT);
			continue;
		}
		fill_value(v, 100 + last * 137, k, last);
		cr_assert_eq(n, (int)(100 + last * 137), "%s", key);
		cr_assert_arr_eq(got, v, (size_t)n);
	}
	duet_kv_close(kv);
}

static unsigned concurrent_done;
static void count_cb(struct duet_kv_req *req, int status, void *arg)
{
	(void)req;
	cr_assert_eq(status, 0);
	if (++concurrent_done == *(unsigned *)arg)
		*(bool *)((unsigned *)arg + 1) = true;
}

Test(logstore, concurrent_sets_share_one_flush)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 1024);
	static struct duet_kv_req reqs[50];
	static char keys[50][8];
	struct {
		unsigned want;
		bool done;
	} w = {50, false};
	struct duet_blk_mem_stats before, after;
	struct duet_logstore_stats st;

	duet_blk_mem_get_stats(m, &before);
	concurrent_done = 0;
	for (unsigned i = 0; i < 50; i++) {
		snprintf(keys[i], sizeof(keys[i]), "c%u", i);
		cr_assert_eq(duet_kv_set(kv, &reqs[i], keys[i], keys[i],
					 strlen(keys[i]), count_cb, &w),
			     0);
	}
	run_until(&w.done);
	duet_blk_mem_get_stats(m, &after);
	duet_logstore_get_stats(kv, &st);
	cr_assert_eq(after.flushes - before.flushes, 1, "%llu flushes",
		     (unsigned long long)(after.flushes - before.flushes));
	cr_assert_eq(st.sets, 50);
	cr_assert_eq(st.live_keys, 50);
	char buf[8];
	cr_assert_eq(kv_get_sync(kv, "c42", 0, buf, sizeof(buf), NULL), 3);
	cr_assert_arr_eq(buf, "c42", 3);
	duet_kv_close(kv);
}

static int list_seen;
static char list_keys[16][16];
static int on_entry(struct duet_kv_req *req, const char *key,
		    const struct duet_kv_stat *st, void *arg)
{
	(void)req;
	(void)arg;
	cr_assert_eq(st->size, strlen(key));
	snprintf(list_keys[list_seen++], 16, "%s", key);
	return 0;
}

Test(logstore, list_a_prefix_in_byte_order)
{
	struct duet_kv *kv = fresh(NULL, 512, 256);
	const char *keys[] = {"b/2", "a", "b/1", "b0", "b/10", "c"};
	struct sync_result r = {0};
	struct duet_kv_req req;

	for (unsigned i = 0; i < 6; i++)
		kv_set_sync(kv, keys[i], keys[i], strlen(keys[i]));
	list_seen = 0;
	cr_assert_eq(duet_kv_list(kv, &req, "b/", on_entry, sync_kv_cb, &r), 0);
	run_until(&r.done);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(list_seen, 3);
	cr_assert_str_eq(list_keys[0], "b/1");
	cr_assert_str_eq(list_keys[1], "b/10");
	cr_assert_str_eq(list_keys[2], "b/2");
	duet_kv_close(kv);
}

Test(logstore, big_values_and_4k_sectors)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 4096, 64);
	static uint8_t v[50000], got[50000];

	fill_value(v, sizeof(v), 1, 1);
	cr_assert_eq(kv_set_sync(kv, "big", v, sizeof(v)), 0);
	cr_assert_eq(kv_set_sync(kv, "small", "s", 1), 0);
	kv = remount(kv, m);
	cr_assert_eq(kv_get_sync(kv, "big", 0, got, sizeof(got), NULL),
		     (int)sizeof(v));
	cr_assert_arr_eq(got, v, sizeof(v));
	cr_assert_eq(kv_get_sync(kv, "big", 4093, got, 9000, NULL), 9000);
	cr_assert_arr_eq(got, v + 4093, 9000);
	duet_kv_close(kv);
}

Test(logstore, compaction_keeps_live_data_and_reclaims_space)
{
	struct duet_blk_mem *m;
	/* Regions of 32 sectors (16 KiB): 200 overwrites of 8 keys must
	 * compact several times. */
	struct duet_kv *kv = fresh(&m, 512, 2 + 64);
	static uint8_t v[700], got[700];
	struct duet_logstore_stats st;

	for (unsigned i = 0; i < 200; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%u", i % 8);
		fill_value(v, 300 + i, i % 8, i);
		cr_assert_eq(kv_set_sync(kv, key, v, 300 + i), 0, "set %u", i);
	}
	duet_logstore_get_stats(kv, &st);
	cr_assert_geq(st.compactions, 3, "%llu compactions",
		      (unsigned long long)st.compactions);
	kv = remount(kv, m);
	for (unsigned k = 0; k < 8; k++) {
		char key[8];
		unsigned last = 192 + k;
		snprintf(key, sizeof(key), "k%u", k);
		fill_value(v, 300 + last, k, last);
		cr_assert_eq(kv_get_sync(kv, key, 0, got, sizeof(got), NULL),
			     (int)(300 + last));
		cr_assert_arr_eq(got, v, 300 + last);
	}
	cr_assert_eq(log_compact_sync(kv), 0);
	duet_logstore_get_stats(kv, &st);
	cr_assert_eq(st.live_keys, 8);
	kv = remount(kv, m);
	cr_assert_eq(kv_stat_sync(kv, "k7", NULL), 0);
	duet_kv_close(kv);
}

Test(logstore, full_store_says_enospc_and_too_big_says_efbig)
{
	struct duet_kv *kv = fresh(NULL, 512, 2 + 32);
	static uint8_t v[4000];
	int r = 0;
	unsigned n;

	cr_assert_eq(kv_set_sync(kv, "huge", v, 9000), -EFBIG);
	for (n = 0; n < 20 && r == 0; n++) {
		char key[8];
		snprintf(key, sizeof(key), "f%u", n);
		r = kv_set_sync(kv, key, v, 1000);
	}
	cr_assert_eq(r, -ENOSPC);
	cr_assert_eq(kv_del_sync(kv, "f0"), 0);
	cr_assert_eq(kv_set_sync(kv, "g", v, 500), 0,
		     "space freed by a delete is reused");
	duet_kv_close(kv);
}

Test(logstore, foreign_images_are_refused)
{
	struct duet_blk_mem *m = mem_disk("disk0", 512, 64);
	struct duet_kv *kv = NULL;

	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), -EBADMSG);
	cr_assert(strstr(fakeplat_console(), "not a Duet log store"), "%s",
		  fakeplat_console());
	memcpy(duet_blk_mem_data(m), "DUETLOG1", 8);
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), -EBADMSG);
	cr_assert(strstr(fakeplat_console(), "both superblocks are damaged"));
	struct duet_blk_mem *ro;
	cr_assert_eq(duet_blk_mem_create(loop, "disk1", 512, 64, true, &ro),
		     0);
	cr_assert_eq(duet_logstore_mount(loop, duet_blk_mem_block(ro),
					 sync_mount_cb, NULL),
		     -EROFS);
	struct duet_blk_mem *tiny = mem_disk("disk2", 512, 10);
	cr_assert_eq(duet_logstore_format(loop, duet_blk_mem_block(tiny),
					  sync_plain_cb, NULL),
		     -ENOSPC);
}

Test(logstore, one_damaged_superblock_falls_back_to_the_other)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 256);
	struct duet_logstore_report rep;
	char buf[8];

	cr_assert_eq(kv_set_sync(kv, "x", "1", 1), 0);
	kv = remount(kv, m);
	cr_assert_eq(kv_set_sync(kv, "y", "2", 1), 0);
	duet_kv_close(kv);
	/* Damage the newest superblock: the older one still finds the log,
	 * records of later generations included. */
	uint8_t *d = duet_blk_mem_data(m);
	uint64_t s0 = 0, s1 = 0;
	memcpy(&s0, d + 48, 8);
	memcpy(&s1, d + 512 + 48, 8);
	d[(s0 > s1 ? 0 : 512) + 20] ^= 0x10;
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	duet_logstore_report(kv, &rep);
	cr_assert(rep.superblock_damaged);
	cr_assert_eq(kv_get_sync(kv, "x", 0, buf, 8, NULL), 1);
	cr_assert_eq(kv_get_sync(kv, "y", 0, buf, 8, NULL), 1);
	cr_assert_eq(kv_set_sync(kv, "z", "3", 1), 0);
	kv = remount(kv, m);
	cr_assert_eq(kv_get_sync(kv, "z", 0, buf, 8, NULL), 1);
	duet_kv_close(kv);
}

/* A store whose generations run out stays readable: the session that
 * takes the last generation keeps its writes (the fuzz target log_mount
 * found a write acknowledged in a session that the next mount then
 * refused), and the mount after it is read-only. */
Test(logstore, exhausted_generations_leave_the_store_readable)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 256);
	struct log_sb sb = {0};
	char buf[8];

	cr_assert_eq(kv_set_sync(kv, "old", "1", 1), 0);
	duet_kv_close(kv);
	/* The superblock in force, moved to one generation before the last:
	 * the next session runs in the last one. */
	uint8_t *d = duet_blk_mem_data(m);
	int slot = -1;
	for (int i = 0; i < 2; i++) {
		struct log_sb x;
		if (log_sb_decode(d + 512 * i, &x) && (slot < 0 || x.seq > sb.seq)) {
			sb = x;
			slot = i;
		}
	}
	cr_assert_geq(slot, 0);
	memset(d + 512 * !slot, 0, 512);
	sb.seq = LOG_GEN_MAX - 1;
	log_sb_encode(&sb, d + 512 * slot);
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	cr_assert_eq(kv_set_sync(kv, "last", "2", 1), 0);
	cr_assert_eq(log_compact_sync(kv), 0, "no compaction, no failure");
	kv = remount(kv, m);
	cr_assert(strstr(fakeplat_console(), "generation counter exhausted"));
	cr_assert_eq(kv_get_sync(kv, "old", 0, buf, sizeof(buf), NULL), 1);
	cr_assert_eq(kv_get_sync(kv, "last", 0, buf, sizeof(buf), NULL), 1);
	cr_assert_eq(kv_set_sync(kv, "more", "3", 1), -ENOSPC);
	kv = remount(kv, m);
	cr_assert_eq(kv_get_sync(kv, "last", 0, buf, sizeof(buf), NULL), 1);
	duet_kv_close(kv);
}

Test(logstore, write_errors_fail_the_store_until_remount)
{
	struct duet_blk_mem *m = mem_disk("lower", 512, 256);
	struct duet_blk_fault *f;
	struct duet_kv *kv = NULL;
	char buf[8];

	cr_assert_eq(format_sync(duet_blk_mem_block(m)), 0);
	cr_assert_eq(
	    duet_blk_fault_create(loop, "disk0", duet_blk_mem_block(m), &f),
	    0);
	cr_assert_eq(log_mount_sync(duet_blk_fault_block(f), &kv), 0);
	cr_assert_eq(kv_set_sync(kv, "a", "1", 1), 0);
	duet_blk_fault_fail(f, DUET_BLOCK_FLUSH, -EIO);
	cr_assert_eq(kv_set_sync(kv, "b", "2", 1), -EIO);
	duet_blk_fault_fail(f, DUET_BLOCK_FLUSH, 0);
	cr_assert_eq(kv_set_sync(kv, "c", "3", 1), -EIO,
		     "a failed store must stay failed");
	cr_assert_eq(kv_get_sync(kv, "a", 0, buf, 8, NULL), 1, "reads go on");
	duet_blk_fault_fail(f, DUET_BLOCK_READ, -EIO);
	cr_assert_eq(kv_get_sync(kv, "a", 0, buf, 8, NULL), -EIO);
	duet_blk_fault_fail(f, DUET_BLOCK_READ, 0);
	duet_kv_close(kv);
	cr_assert_eq(log_mount_sync(duet_blk_fault_block(f), &kv), 0);
	cr_assert_eq(kv_set_sync(kv, "c", "3", 1), 0);
	duet_kv_close(kv);
}

/* A commit is one durable write: one device operation where the disk has
 * a native one, and nothing left in its cache when the set is answered. */
Test(logstore, a_commit_is_one_durable_write)
{
	struct duet_blk_mem *m = mem_disk("lower", 512, 256);
	struct duet_blk_fault *f;
	struct duet_kv *kv = NULL;

	cr_assert_eq(format_sync(duet_blk_mem_block(m)), 0);
	cr_assert_eq(
	    duet_blk_fault_create(loop, "disk0", duet_blk_mem_block(m), &f),
	    0);
	cr_assert_eq(log_mount_sync(duet_blk_fault_block(f), &kv), 0);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t ops = duet_blk_fault_ops(f);
		cr_assert_eq(kv_set_sync(kv, "k", "value", 5), 0);
		cr_assert_eq(duet_blk_fault_ops(f) - ops, 1, "set %u", i);
		cr_assert_eq(duet_blk_fault_unflushed(f), 0);
	}
	duet_kv_close(kv);
}

/* Random bit flips in a store image: the mount never crashes, reports
 * damage when a flip hits a record, and every value it serves is one that
 * was written for that key. */
Test(logstore, random_bit_flips_are_detected_and_the_intact_prefix_kept)
{
	enum { KEYS = 6, ROUNDS = 30 };
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 2 + 256);
	static uint8_t v[900], got[900];
	uint64_t end;
	struct duet_logstore_stats st;

	for (unsigned i = 0; i < ROUNDS; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%u", i % KEYS);
		fill_value(v, 50 + i * 29, i % KEYS, i);
		cr_assert_eq(kv_set_sync(kv, key, v, 50 + i * 29), 0);
	}
	duet_logstore_get_stats(kv, &st);
	end = st.log_bytes;
	duet_kv_close(kv);
	size_t size = (size_t)duet_blk_mem_size(m);
	uint8_t *pristine = malloc(size);
	memcpy(pristine, duet_blk_mem_data(m), size);
	uint32_t x = 12345;
	unsigned damaged = 0;
	for (unsigned trial = 0; trial < 300; trial++) {
		x = x * 1103515245u + 12345u;
		/* Mostly the log and the superblocks, sometimes anywhere. */
		size_t at = trial % 4 == 0
				? (x >> 8) % size
				: (trial % 4 == 1 ? (x >> 8) % 1024
						  : 1024 + (x >> 8) % end);
		memcpy(duet_blk_mem_data(m), pristine, size);
		duet_blk_mem_data(m)[at] ^= (uint8_t)(1u << (x % 8));
		int r = log_mount_sync(duet_blk_mem_block(m), &kv);
		cr_assert(r == 0 || r == -EBADMSG, "mount gave %d", r);
		if (r < 0)
			continue;
		struct duet_logstore_report rep;
		duet_logstore_report(kv, &rep);
		if (at >= 1024 && at < 1024 + end) {
			cr_assert(rep.damaged, "flip at %zu went unnoticed",
				  at);
			damaged++;
		}
		for (unsigned k = 0; k < KEYS; k++) {
			char key[8];
			snprintf(key, sizeof(key), "k%u", k);
			int n = kv_get_sync(kv, key, 0, got, sizeof(got), NULL);
			if (n == -ENOENT)
				continue;
			bool match = false;
			for (unsigned i = k; i < ROUNDS && !match; i += KEYS) {
				fill_value(v, 50 + i * 29, k, i);
				match = n == (int)(50 + i * 29) &&
					memcmp(got, v, (size_t)n) == 0;
			}
			cr_assert(
			    match,
			    "%s holds a value never written (flip at %zu)", key,
			    at);
		}
		cr_assert_eq(kv_set_sync(kv, "after", "ok", 2), 0,
			     "store unusable after flip");
		duet_kv_close(kv);
	}
	cr_assert_gt(damaged, 50);
	free(pristine);
}

/* Damage at a sector boundary far behind the read window: the mount keeps
 * no partial tail sector and must not point into the window for one (the
 * fuzz target log_mount found this: a pointer computed outside the window
 * when nothing is kept). The first record is longer than the 256 KiB
 * window, so the scan past it has moved the window on. */
Test(logstore, damage_behind_the_read_window_keeps_no_tail)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 2 + 2 * 1024);
	static uint8_t big[300 << 10];
	struct duet_logstore_report rep;
	char buf[8];

	fill_value(big, sizeof(big), 1, 1);
	cr_assert_eq(kv_set_sync(kv, "big", big, sizeof(big)), 0);
	cr_assert_eq(kv_set_sync(kv, "after", "x", 1), 0);
	duet_kv_close(kv);
	/* One bit of the big value (region 0 starts at sector 2). */
	duet_blk_mem_data(m)[1024 + 1000] ^= 1;
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	duet_logstore_report(kv, &rep);
	cr_assert(rep.damaged);
	cr_assert_eq(rep.damage_offset, 0);
	cr_assert_eq(rep.dropped_records, 2);
	cr_assert_eq(rep.keys, 0);
	cr_assert_eq(kv_set_sync(kv, "new", "y", 1), 0);
	kv = remount(kv, m);
	cr_assert_eq(kv_get_sync(kv, "new", 0, buf, sizeof(buf), NULL), 1);
	cr_assert_eq(kv_get_sync(kv, "after", 0, buf, sizeof(buf), NULL),
		     -ENOENT);
	duet_kv_close(kv);
}

/* Records past a damaged end are dropped, and stay dropped even when a
 * later session's record ends exactly where one of them begins. */
Test(logstore, records_past_the_end_never_come_back)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 256);
	static uint8_t v[100];
	struct duet_logstore_report rep;
	char buf[100];

	fill_value(v, sizeof(v), 1, 1);
	cr_assert_eq(kv_set_sync(kv, "a", v, 100), 0);
	cr_assert_eq(kv_set_sync(kv, "b", v, 100), 0);
	cr_assert_eq(kv_set_sync(kv, "c", v, 100), 0);
	duet_kv_close(kv);
	/* Records are 125 bytes: a at 0, b at 125, c at 250 of region 0. */
	duet_blk_mem_data(m)[1024 + 125 + 40] ^= 1;
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	duet_logstore_report(kv, &rep);
	cr_assert(rep.damaged);
	cr_assert_eq(rep.damage_offset, 125);
	cr_assert_eq(rep.dropped_records, 2, "%llu",
		     (unsigned long long)rep.dropped_records);
	cr_assert_eq(rep.keys, 1);
	cr_assert(strstr(fakeplat_console(), "log damaged at byte 125"), "%s",
		  fakeplat_console());
	fill_value(v, sizeof(v), 2, 2);
	cr_assert_eq(kv_set_sync(kv, "b", v, 100), 0);
	kv = remount(kv, m);
	duet_logstore_report(kv, &rep);
	cr_assert(!rep.damaged);
	cr_assert_eq(kv_get_sync(kv, "c", 0, buf, sizeof(buf), NULL), -ENOENT);
	cr_assert_eq(kv_get_sync(kv, "b", 0, buf, sizeof(buf), NULL), 100);
	cr_assert_arr_eq(buf, v, 100);
	duet_kv_close(kv);
}

/* Spans of random bytes over the log (lengths and types included): the
 * mount never crashes or reads out of bounds, and serves only values that
 * were written. */
Test(logstore, random_garbage_in_the_log_never_crashes_the_mount)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 2 + 128);
	static uint8_t v[2000], got[2000];
	struct duet_logstore_stats st;

	for (unsigned i = 0; i < 12; i++) {
		char key[8];
		snprintf(key, sizeof(key), "k%u", i % 4);
		fill_value(v, 100 + i * 150, i % 4, i);
		cr_assert_eq(kv_set_sync(kv, key, v, 100 + i * 150), 0);
	}
	duet_logstore_get_stats(kv, &st);
	duet_kv_close(kv);
	size_t size = (size_t)duet_blk_mem_size(m);
	uint8_t *pristine = malloc(size);
	memcpy(pristine, duet_blk_mem_data(m), size);
	uint32_t x = 777;
	for (unsigned trial = 0; trial < 300; trial++) {
		uint8_t *d = duet_blk_mem_data(m);
		memcpy(d, pristine, size);
		x = x * 1103515245u + 12345u;
		size_t at = 1024 + (x >> 8) % (st.log_bytes + 600);
		size_t len = 1 + (x >> 3) % 40;
		for (size_t i = 0; i < len && at + i < size; i++) {
			x = x * 1103515245u + 12345u;
			d[at + i] = (uint8_t)(x >> 16);
		}
		int r = log_mount_sync(duet_blk_mem_block(m), &kv);
		cr_assert(r == 0 || r == -EBADMSG, "mount gave %d", r);
		if (r < 0)
			continue;
		for (unsigned k = 0; k < 4; k++) {
			char key[8];
			snprintf(key, sizeof(key), "k%u", k);
			int n = kv_get_sync(kv, key, 0, got, sizeof(got), NULL);
			if (n == -ENOENT)
				continue;
			bool match = false;
			for (unsigned i = k; i < 12 && !match; i += 4) {
				fill_value(v, 100 + i * 150, k, i);
				match = n == (int)(100 + i * 150) &&
					memcmp(got, v, (size_t)n) == 0;
			}
			cr_assert(match,
				  "%s: a value never written (garbage at %zu)",
				  key, at);
		}
		duet_kv_close(kv);
	}
	free(pristine);
}

Test(logstore, a_tar_image_is_not_a_log_store)
{
	struct duet_blk_mem *m = mem_disk("disk0", 512, 64);
	struct duet_kv *kv = NULL;
	uint8_t *d = duet_blk_mem_data(m);

	memcpy(d, "index.html", 10);
	memcpy(d + 257, "ustar", 6);
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), -EBADMSG);
	cr_assert_null(kv);
	cr_assert(strstr(fakeplat_console(), "disk0: not a Duet log store"),
		  "%s", fakeplat_console());
}

/* The last callback of a batch may unmount the store at once. */
static unsigned close_seen;
static void close_from_callback(struct duet_kv_req *req, int status, void *arg)
{
	struct sync_result *r = arg;

	cr_assert(status >= 0 || status == -ENOSPC || status == -EFBIG, "%d",
		  status);
	if (++close_seen == 3) {
		cr_assert_eq(duet_kv_close(req->kv), 0);
		r->done = true;
	}
}

Test(logstore, closing_from_the_last_callback_is_safe)
{
	static struct duet_kv_req reqs[3];
	static uint8_t big[20000];
	struct sync_result r = {0};
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 2 + 32);
	char buf[4];

	close_seen = 0;
	cr_assert_eq(
	    duet_kv_set(kv, &reqs[0], "a", "1", 1, close_from_callback, &r), 0);
	cr_assert_eq(
	    duet_kv_set(kv, &reqs[1], "b", "2", 1, close_from_callback, &r), 0);
	cr_assert_eq(duet_kv_set(kv, &reqs[2], "c", big, sizeof(big),
				 close_from_callback, &r),
		     0);
	run_until(&r.done);
	duet_block_unregister(duet_blk_mem_block(m));
	kv = fresh(NULL, 512, 2 + 32);
	memset(&r, 0, sizeof(r));
	close_seen = 0;
	cr_assert_eq(kv_set_sync(kv, "a", "1", 1), 0);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(duet_kv_get(kv, &reqs[i], "a", 0, buf, sizeof(buf),
					 close_from_callback, &r),
			     0);
	run_until(&r.done);
}

/* A value several scan windows long is checked a window at a time, and a
 * flip in its middle is found. */
Test(logstore, values_bigger_than_the_scan_window)
{
	struct duet_blk_mem *m;
	struct duet_kv *kv = fresh(&m, 512, 2 + 2 * 2048);
	uint8_t *v = malloc(700000), *got = malloc(700000);
	struct duet_logstore_report rep;

	fill_value(v, 700000, 1, 1);
	cr_assert_eq(kv_set_sync(kv, "small", "s", 1), 0);
	cr_assert_eq(kv_set_sync(kv, "huge", v, 700000), 0);
	kv = remount(kv, m);
	duet_logstore_report(kv, &rep);
	cr_assert(!rep.damaged);
	cr_assert_eq(kv_get_sync(kv, "huge", 0, got, 700000, NULL), 700000);
	cr_assert_arr_eq(got, v, 700000);
	duet_kv_close(kv);
	duet_blk_mem_data(m)[1024 + 400000] ^= 4;
	cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
	duet_logstore_report(kv, &rep);
	cr_assert(rep.damaged);
	cr_assert_str_eq(rep.damage, "record checksum mismatch");
	cr_assert_eq(kv_stat_sync(kv, "huge", NULL), -ENOENT);
	cr_assert_eq(kv_stat_sync(kv, "small", NULL), 0);
	duet_kv_close(kv);
	free(v);
	free(got);
}

/* Long keys (the longest allowed) that differ in their first digits. */
static void key_number(char *key, unsigned n)
{
	for (int i = 5; i >= 0; i--, n /= 10)
		key[i] = (char)('0' + n % 10);
}

/* Sets leave a reserve, so a store filled to the brim can still delete
 * everything, and then take sets again. */
Test(logstore, a_full_store_can_always_be_emptied)
{
	struct duet_kv *kv = fresh(NULL, 512, 2 + 2 * 24);
	static uint8_t v[300];
	char key[DUET_KV_KEY_MAX + 1];
	unsigned n = 0;

	memset(key, 'k', sizeof(key) - 1);
	key[DUET_KV_KEY_MAX] = '\0';
	for (;; n++) {
		key_number(key, n);
		int r = kv_set_sync(kv, key, v, sizeof(v) - (n % 7) * 40);
		if (r == -ENOSPC)
			break;
		cr_assert_eq(r, 0);
	}
	cr_assert_gt(n, 3);
	for (unsigned i = 0; i < n; i++) {
		key_number(key, i);
		cr_assert_eq(kv_del_sync(kv, key), 0, "delete %u of %u", i, n);
	}
	cr_assert_eq(kv_set_sync(kv, "again", v, sizeof(v)), 0);
	duet_kv_close(kv);
}

/* Random sets (some multi-sector), deletes, remounts, compactions and gets
 * against a model, in small stores that fill up: every get matches, and
 * a clean remount never reports damage. */
Test(logstore, random_operations_match_a_model)
{
	enum { NK = 12, MAXV = 6000 };
	static uint8_t model[NK][MAXV], buf[MAXV], got[MAXV];
	int mlen[NK];
	uint32_t x = 1;

	for (unsigned round = 0; round < 20; round++) {
		uint32_t ssz = round % 3 == 0 ? 4096 : 512;
		uint64_t half = ssz == 512 ? 40 + round % 30 : 8 + round % 6;
		char name[16];
		struct duet_blk_mem *m;
		struct duet_kv *kv = NULL;

		snprintf(name, sizeof(name), "rnd%u", round);
		cr_assert_eq(duet_blk_mem_create(loop, name, ssz, 2 + 2 * half,
						 false, &m),
			     0);
		cr_assert_eq(format_sync(duet_blk_mem_block(m)), 0);
		cr_assert_eq(log_mount_sync(duet_blk_mem_block(m), &kv), 0);
		for (unsigned k = 0; k < NK; k++)
			mlen[k] = -ENOENT;
		for (unsigned i = 0; i < 1500; i++) {
			x = x * 1103515245u + 12345u;
			unsigned r = (x >> 16) % 100, k = (x >> 4) % NK;
			char key[8];
			snprintf(key, sizeof(key), "k%u", k);
			if (r < 55) {
				unsigned len = (x >> 8) % (r < 10 ? MAXV : 300);
				fill_value(buf, len, k, i);
				int e = kv_set_sync(kv, key, buf, len);
				cr_assert(e == 0 || e == -ENOSPC || e == -EFBIG,
					  "set: %d", e);
				if (e == 0) {
					memcpy(model[k], buf, len);
					mlen[k] = (int)len;
				}
			} else if (r < 70) {
				cr_assert_eq(kv_del_sync(kv, key), 0);
				mlen[k] = -ENOENT;
			} else if (r < 73) {
				struct duet_logstore_report rep;
				cr_assert_eq(duet_kv_close(kv), 0);
				cr_assert_eq(
				    log_mount_sync(duet_blk_mem_block(m), &kv),
				    0);
				duet_logstore_report(kv, &rep);
				cr_assert(
				    !rep.damaged, "round %u op %u: %s at %llu",
				    round, i, rep.damage,
				    (unsigned long long)rep.damage_offset);
			} else if (r < 75) {
				cr_assert_eq(log_compact_sync(kv), 0);
			} else {
				int n = kv_get_sync(kv, key, 0, got,
						    sizeof(got), NULL);
				cr_assert_eq(n, mlen[k], "round %u op %u %s",
					     round, i, key);
				if (n > 0)
					cr_assert_arr_eq(got, model[k],
							 (size_t)n);
			}
		}
		duet_kv_close(kv);
		duet_block_unregister(duet_blk_mem_block(m));
	}
}
