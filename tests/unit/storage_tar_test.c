/* The read-only tar store: ustar, pax and GNU names, ranged reads, and
 * archives that are malformed, truncated, huge or play path tricks. */
#include <stdio.h>

#include "storage_harness.h"

TestSuite(tar, .init = harness_setup);

/* ------------------------------------------------------ archive builder */

struct tarb {
	uint8_t buf[256 * 1024];
	size_t len;
};

static struct tarb tb;

static void tb_reset(void)
{
	memset(&tb, 0, sizeof(tb));
}

static void tb_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static uint8_t *tb_header(const char *name, char type, uint64_t size,
			  const char *prefix)
{
	uint8_t *h = tb.buf + tb.len;

	cr_assert_leq(tb.len + 512, sizeof(tb.buf));
	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	memcpy(h + 100, "0000644", 7);
	char num[24];
	snprintf(num, sizeof(num), "%011llo", (unsigned long long)size);
	memcpy(h + 124, num, 12);
	snprintf((char *)h + 136, 12, "%011o", 1700000000u);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (prefix != NULL)
		memcpy(h + 345, prefix, strlen(prefix));
	tb_checksum(h);
	tb.len += 512;
	return h;
}

static uint8_t *tb_link(const char *name, const char *target)
{
	uint8_t *h = tb_header(name, '1', 0, NULL);

	memcpy(h + 157, target, strnlen(target, 100));
	tb_checksum(h);
	return h;
}

static void tb_data(const void *data, size_t len)
{
	cr_assert_leq(tb.len + len + 512, sizeof(tb.buf));
	memcpy(tb.buf + tb.len, data, len);
	tb.len += (len + 511) / 512 * 512;
}

static uint8_t *tb_file(const char *name, const void *data, size_t len)
{
	uint8_t *h = tb_header(name, '0', len, NULL);

	tb_data(data, len);
	return h;
}

static void tb_pax(const char *records)
{
	tb_header("PaxHeader", 'x', strlen(records), NULL);
	tb_data(records, strlen(records));
}

static void tb_end(void)
{
	tb.len += 1024;
}

/* One pax record, "LEN key=value\n", LEN counting the whole record. */
static const char *rec(const char *kv)
{
	static char out[4][512];
	static unsigned n;
	char *o = out[n++ % 4];
	size_t len = strlen(kv) + 2;

	for (size_t digits = 1;; digits++) {
		size_t total = len + digits;
		if ((size_t)snprintf(o, 512, "%zu %s\n", total, kv) == total)
			return o;
	}
}

static struct duet_block *tb_disk(uint32_t ssz)
{
	uint64_t sectors = (tb.len + ssz - 1) / ssz;
	struct duet_blk_mem *m;
	struct duet_device *old =
	    duet_device_find(loop, "disk0", DUET_DEVICE_BLOCK);

	if (old != NULL)
		duet_block_unregister(
		    duet_container_of(old, struct duet_block, dev));

	cr_assert_eq(duet_blk_mem_create(loop, "disk0", ssz,
					 sectors ? sectors : 1, true, &m),
		     0);
	memcpy(duet_blk_mem_data(m), tb.buf, tb.len);
	return duet_blk_mem_block(m);
}

static struct duet_kv *mount_ok(uint32_t ssz)
{
	struct duet_kv *kv = NULL;
	int r = tar_mount_sync(tb_disk(ssz), &kv);

	cr_assert_eq(r, 0, "mount: %d\n%s", r, fakeplat_console());
	return kv;
}

static void mount_fails(const char *message)
{
	struct duet_kv *kv = NULL;
	int r = tar_mount_sync(tb_disk(512), &kv);

	cr_assert_eq(r, -EBADMSG, "mount gave %d", r);
	cr_assert_null(kv);
	cr_assert(strstr(fakeplat_console(), message), "no '%s' in:\n%s",
		  message, fakeplat_console());
}

static void expect_file(struct duet_kv *kv, const char *key, const void *data,
			size_t len)
{
	static uint8_t got[64 * 1024];
	struct duet_kv_stat st;
	int n = kv_get_sync(kv, key, 0, got, sizeof(got), &st);

	cr_assert_eq(n, (int)len, "%s: %d", key, n);
	cr_assert_arr_eq(got, data, len, "%s", key);
	cr_assert_eq(st.size, len);
}

/* ----------------------------------------------------------------- tests */

static int listed;
static char list_names[8][64];
static int on_entry(struct duet_kv_req *req, const char *key,
		    const struct duet_kv_stat *st, void *arg)
{
	(void)req;
	(void)st;
	(void)arg;
	snprintf(list_names[listed++], 64, "%s", key);
	return listed == 8;
}

Test(tar, ustar_files_directories_and_prefixes)
{
	struct duet_kv_stat st;
	struct sync_result r = {0};
	struct duet_kv_req req;

	tb_reset();
	tb_file("index.html", "<h1>hi</h1>", 11);
	tb_header("css/", '5', 0, NULL);
	tb_file("css/site.css", "body{}", 6);
	tb_header("x.txt", '0', 3, "deep/dir");
	tb_data("xyz", 3);
	tb_header("link", '2', 0, NULL);
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	cr_assert_str_eq(duet_kv_kind(kv), "tar");
	cr_assert(duet_kv_read_only(kv));
	/* The RAM disk's preferred I/O size, through the store. */
	cr_assert_eq(duet_kv_io_size(kv), DUET_BLOCK_IO_SIZE_DEFAULT);
	cr_assert_eq(duet_tar_count(kv), 3);
	expect_file(kv, "index.html", "<h1>hi</h1>", 11);
	expect_file(kv, "css/site.css", "body{}", 6);
	expect_file(kv, "deep/dir/x.txt", "xyz", 3);
	cr_assert_eq(kv_stat_sync(kv, "css", NULL), -ENOENT);
	cr_assert_eq(kv_stat_sync(kv, "link", NULL), -ENOENT);
	cr_assert_eq(kv_stat_sync(kv, "index.html", &st), 0);
	cr_assert_eq(st.mtime, 1700000000u);
	cr_assert_neq(st.version, 0);
	listed = 0;
	cr_assert_eq(duet_kv_list(kv, &req, "", on_entry, sync_kv_cb, &r), 0);
	run_until(&r.done);
	cr_assert_eq(listed, 3);
	cr_assert_str_eq(list_names[0], "css/site.css");
	cr_assert_str_eq(list_names[2], "index.html");

	/* The index in place: what stat says, without a request, for a key
	 * given by length (a request path, not NUL-terminated). */
	struct duet_tar_entry e;
	const char path[] = "index.html?x=1";
	cr_assert_eq(duet_tar_find(kv, path, 10, &e), 0);
	cr_assert_str_eq(e.key, "index.html");
	cr_assert_eq(e.key_len, 10);
	cr_assert_eq(e.stat.size, 11);
	cr_assert_eq(e.stat.version, st.version);
	cr_assert_eq(duet_tar_find(kv, path, 5, &e), -ENOENT, "a prefix matched");
	cr_assert_eq(duet_tar_find(kv, "index.html\0", 11, &e), -ENOENT,
		     "a NUL inside the key matched");
	cr_assert_eq(duet_tar_find(kv, "css", 3, &e), -ENOENT);
	cr_assert_eq(duet_tar_entry_at(kv, 0, &e), 0);
	cr_assert_str_eq(e.key, "css/site.css");
	cr_assert_eq(duet_tar_entry_at(kv, 3, &e), -ENOENT);
	cr_assert_eq(duet_kv_close(kv), 0);
}

Test(tar, writes_are_refused_and_sync_is_a_no_op)
{
	struct duet_kv_req req;

	tb_reset();
	tb_file("a", "1", 1);
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	cr_assert_eq(duet_kv_set(kv, &req, "a", "2", 1, sync_kv_cb, NULL),
		     -EROFS);
	cr_assert_eq(duet_kv_delete(kv, &req, "a", sync_kv_cb, NULL), -EROFS);
	cr_assert_eq(kv_sync_sync(kv), 0);
	char b[4];
	cr_assert_eq(kv_get_sync(kv, "a", 2, b, 1, NULL), -EINVAL);
	cr_assert_eq(kv_get_sync(kv, "nope", 0, b, 1, NULL), -ENOENT);
	duet_kv_close(kv);
}

static unsigned ranged_done;
static void ranged_cb(struct duet_kv_req *req, int status, void *arg)
{
	cr_assert_geq(status, 0);
	req->offset = (uint64_t)status; /* the count, checked below */
	if (++ranged_done == 12)
		*(bool *)arg = true;
}

Test(tar, ranged_reads_at_odd_offsets_many_at_once)
{
	static uint8_t data[10000], bufs[12][4000];
	static struct duet_kv_req reqs[12];
	bool all = false;

	fill_value(data, sizeof(data), 7, 7);
	tb_reset();
	tb_file("pad", "p", 1);
	tb_file("big.bin", data, sizeof(data));
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	ranged_done = 0;
	for (unsigned i = 0; i < 12; i++) {
		uint64_t off = i * 797 + (i % 3);
		cr_assert_eq(duet_kv_get(kv, &reqs[i], "big.bin", off, bufs[i],
					 1000 + i * 250, ranged_cb, &all),
			     0);
	}
	run_until(&all);
	for (unsigned i = 0; i < 12; i++) {
		uint64_t off = i * 797 + (i % 3);
		size_t want = 1000 + i * 250;
		if (want > sizeof(data) - off)
			want = sizeof(data) - off;
		cr_assert_eq(reqs[i].offset, want, "read %u", i);
		cr_assert_arr_eq(bufs[i], data + off, want, "read %u", i);
	}
	duet_kv_close(kv);
}

Test(tar, pax_paths_sizes_and_gnu_long_names)
{
	char longname[300], key[300];
	static uint8_t big[3000];
	char pathrec[400];

	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "www/", 4);
	longname[250] = '\0';
	snprintf(pathrec, sizeof(pathrec), "path=%s", longname);
	fill_value(big, sizeof(big), 3, 3);
	tb_reset();
	tb_pax(rec(pathrec));
	tb_file("www/nnnnnnnn-truncated", "long", 4);
	char two[128];
	snprintf(two, sizeof(two), "%s%s", rec("mtime=1234567890.123456"),
		 rec("size=3"));
	tb_pax(two);
	tb_header("sized", '0', 0, NULL);
	tb_data("abc", 3);
	tb_header("././@LongLink", 'L', 200, NULL);
	memset(key, 'g', 200);
	key[199] = '\0';
	tb_data(key, 200);
	tb_file("gnu-truncated", big, sizeof(big));
	tb_file("after", "z", 1);
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	cr_assert_eq(duet_tar_count(kv), 4);
	expect_file(kv, longname, "long", 4);
	expect_file(kv, "sized", "abc", 3);
	expect_file(kv, key, big, sizeof(big));
	expect_file(kv, "after", "z", 1);
	struct duet_kv_stat st;
	cr_assert_eq(kv_stat_sync(kv, "sized", &st), 0);
	cr_assert_eq(st.mtime, 1234567890u);
	duet_kv_close(kv);
}

Test(tar, later_duplicates_win_and_names_are_normalised)
{
	tb_reset();
	tb_file("./a//b.txt", "old", 3);
	tb_file("a/./b.txt", "new!", 4);
	tb_file("./", "", 0);
	tb_end();
	/* "./" names a directory written as a file: an empty path. */
	mount_fails("empty path");
	tb_reset();
	tb_file("./a//b.txt", "old", 3);
	tb_file("a/./b.txt", "new!", 4);
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	cr_assert_eq(duet_tar_count(kv), 1);
	expect_file(kv, "a/b.txt", "new!", 4);
	duet_kv_close(kv);
}

Test(tar, empty_archive_and_missing_end_marker)
{
	tb_reset();
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	cr_assert_eq(duet_tar_count(kv), 0);
	duet_kv_close(kv);
	tb_reset();
	tb_file("only", "x", 1);
	kv = mount_ok(512);
	cr_assert_eq(duet_tar_count(kv), 1);
	cr_assert(strstr(fakeplat_console(), "no end-of-archive marker"));
	duet_kv_close(kv);
}

Test(tar, four_kib_sectors)
{
	static uint8_t data[9000];

	fill_value(data, sizeof(data), 9, 9);
	tb_reset();
	tb_file("one", "1", 1);
	tb_file("two", data, sizeof(data));
	tb_end();
	struct duet_kv *kv = mount_ok(4096);
	expect_file(kv, "two", data, sizeof(data));
	static uint8_t got[100];
	cr_assert_eq(kv_get_sync(kv, "two", 8950, got, 100, NULL), 50);
	cr_assert_arr_eq(got, data + 8950, 50);
	duet_kv_close(kv);
}

Test(tar, not_a_tar_archive)
{
	tb_reset();
	memset(tb.buf, 0x41, 2048);
	tb.len = 2048;
	mount_fails("not a tar archive (header checksum mismatch)");
}

Test(tar, bad_checksum_in_a_later_header)
{
	tb_reset();
	tb_file("a", "1", 1);
	uint8_t *h = tb_file("b", "2", 1);
	h[0] = 'c';
	tb_end();
	mount_fails("entry 1 at byte 1024: header checksum mismatch");
}

Test(tar, size_that_is_not_octal)
{
	tb_reset();
	uint8_t *h = tb_header("a", '0', 0, NULL);
	memcpy(h + 124, "0000000009x", 11);
	tb_checksum(h);
	tb_end();
	mount_fails("numeric field is not octal");
}

Test(tar, truncated_archive)
{
	static uint8_t data[5000];

	tb_reset();
	tb_file("a", data, sizeof(data));
	tb.len = 512 + 2048; /* cut inside the file's data */
	mount_fails("truncated archive");
}

Test(tar, huge_sizes)
{
	tb_reset();
	uint8_t *h = tb_header("a", '0', 0, NULL);
	/* GNU base-256: 2^60 bytes. */
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[128] = 0x10;
	tb_checksum(h);
	tb_end();
	mount_fails("truncated archive");
	tb_reset();
	h = tb_header("a", '0', 0, NULL);
	memset(h + 124, 0xff, 12);
	tb_checksum(h);
	tb_end();
	mount_fails("negative number");
	tb_reset();
	tb_pax(rec("size=99999999999999999"));
	tb_header("a", '0', 0, NULL);
	tb_end();
	mount_fails("truncated archive");
	tb_reset();
	tb_pax(rec("size=9999999999999999999999999999"));
	tb_header("a", '0', 0, NULL);
	tb_end();
	mount_fails("pax number too large");
}

Test(tar, path_tricks)
{
	tb_reset();
	tb_file("/etc/passwd", "x", 1);
	tb_end();
	mount_fails("absolute path");
	tb_reset();
	tb_file("www/../../etc/passwd", "x", 1);
	tb_end();
	mount_fails("path contains '..'");
	tb_reset();
	tb_pax(rec("path=/abs/x"));
	tb_file("fine", "x", 1);
	tb_end();
	mount_fails("absolute path");
	tb_reset();
	tb_header("././@LongLink", 'L', 6, NULL);
	tb_data("a/../", 6);
	tb_file("fine", "x", 1);
	tb_end();
	mount_fails("path contains '..'");
}

Test(tar, malformed_pax_records)
{
	const char *bad[] = {
	    "5 x\n",	      /* longer than the header's data */
	    "3 path=x\n",     /* shorter than its own text */
	    "12 pathx=y\n",   /* no newline at the stated end */
	    "x path=y\n",     /* no length */
	    rec("pathyy"),    /* no '=' */
	    rec("size=12.5"), /* a fractional size */
	    rec("size=-1"),   /* not decimal */
	};
	const char *why[] = {
	    "malformed pax record",	 "malformed pax record",
	    "malformed pax record",	 "malformed pax record length",
	    "pax record without '='",	 "pax size has a fraction",
	    "pax number is not decimal",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tb_reset();
		tb_pax(bad[i]);
		tb_file("a", "x", 1);
		tb_end();
		mount_fails(why[i]);
	}
}

/* Random damage to a valid archive: the mount either fails cleanly or
 * gives a store whose every file reads back within its bounds. */
Test(tar, random_damage_never_crashes_or_reads_out_of_bounds)
{
	static uint8_t data[3000], got[4096];
	static uint8_t pristine[sizeof(tb.buf)];
	size_t len;
	uint32_t x = 99;

	fill_value(data, sizeof(data), 5, 5);
	tb_reset();
	tb_pax(rec("path=www/a-rather-long-name.html"));
	tb_file("x", data, 700);
	tb_file("b.css", data, 2000);
	tb_header("dir/", '5', 0, NULL);
	tb_file("dir/c.js", data, 3000);
	tb_end();
	len = tb.len;
	memcpy(pristine, tb.buf, len);
	for (unsigned trial = 0; trial < 600; trial++) {
		struct duet_kv *kv = NULL;
		memcpy(tb.buf, pristine, len);
		tb.len = len;
		for (unsigned k = 0; k <= trial % 3; k++) {
			x = x * 1103515245u + 12345u;
			size_t at = (x >> 8) % len;
			/* Headers are where the parser lives: aim there often.
			 */
			if (trial % 2 == 0)
				at = (at / 512) * 512 + (x >> 4) % 512 % 160 +
				     100;
			tb.buf[at % len] ^= (uint8_t)(1u << (x % 8));
			if (trial % 5 == 0)
				tb_checksum(tb.buf + at % len / 512 * 512);
		}
		if (trial % 7 == 0)
			tb.len = (x >> 3) % len;
		int r = tar_mount_sync(tb_disk(512), &kv);
		cr_assert(r == 0 || r == -EBADMSG, "trial %u: mount gave %d",
			  trial, r);
		if (r < 0)
			continue;
		for (const char **k =
			 (const char *[]){"www/a-rather-long-name.html",
					  "b.css", "dir/c.js", NULL};
		     *k != NULL; k++) {
			int n = kv_get_sync(kv, *k, 0, got, sizeof(got), NULL);
			cr_assert(n >= 0 || n == -ENOENT,
				  "trial %u: get gave %d", trial, n);
		}
		duet_kv_close(kv);
	}
}

Test(tar, hard_links_name_the_file_before_them)
{
	tb_reset();
	tb_file("a.txt", "first", 5);
	tb_link("b.txt", "a.txt");
	tb_link("./c/../", "a.txt");
	tb_end();
	mount_fails("path contains '..'");
	tb_reset();
	tb_file("a.txt", "first", 5);
	tb_link("b.txt", "./a.txt");
	tb_link("c.txt", "b.txt"); /* a link to a link */
	tb_file("a.txt", "second", 6);
	tb_link("d.txt", "a.txt");
	tb_link("e.txt", "nowhere");
	tb_pax(rec("linkpath=dir/long-target-name"));
	tb_link("f.txt", "ignored");
	tb_file("dir/long-target-name", "t", 1);
	tb_end();
	struct duet_kv *kv = mount_ok(512);
	expect_file(kv, "a.txt", "second", 6);
	expect_file(kv, "b.txt", "first", 5);
	expect_file(kv, "c.txt", "first", 5);
	expect_file(kv, "d.txt", "second", 6);
	cr_assert_eq(kv_stat_sync(kv, "e.txt", NULL), -ENOENT);
	cr_assert(strstr(fakeplat_console(), "hard link e.txt -> nowhere"),
		  "%s", fakeplat_console());
	/* f.txt's target comes after it in the archive. */
	cr_assert_eq(kv_stat_sync(kv, "f.txt", NULL), -ENOENT);
	cr_assert_eq(duet_tar_count(kv), 5);
	duet_kv_close(kv);
}
