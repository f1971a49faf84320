/* httpd's tar file source (apps/httpd/files_tar.c) over a RAM disk: an
 * index of every file (no bytes in memory, only the headers read at load),
 * reads byte for byte, index pages, content types, ETags from the archive,
 * and a damaged image refused. */
#include <stdio.h>

#include "storage_harness.h"
#include "files_tar.h"

/* files.c's embedded-site helpers want a site; this test has none. */
const struct httpd_embedded httpd_site[] = {{"/x", (const uint8_t *)"x", 1}};
const size_t httpd_site_count = 1;

TestSuite(httpd_tar, .init = harness_setup);

static uint8_t image[64 * 1024];
static size_t image_len;

static void add(const char *name, const char *data)
{
	uint8_t *h = image + image_len;
	size_t len = strlen(data);

	tar_file_header(h, name, len);
	memcpy(h + 512, data, len);
	image_len += 512 + (len + 511) / 512 * 512;
}

static struct duet_blk_mem *mem;

static struct duet_block *disk(void)
{
	cr_assert_eq(duet_blk_mem_create(loop, "disk0", 512,
					 sizeof(image) / 512, true, &mem),
		     0);
	memcpy(duet_blk_mem_data(mem), image, sizeof(image));
	return duet_blk_mem_block(mem);
}

static void read_cb(struct httpd_read *rd, int status, void *arg)
{
	struct sync_result *r = arg;
	(void)rd;
	r->done = true;
	r->status = status;
}

/* Reads [off, off + len) of f through the source. */
static int read_sync(const struct httpd_source *src, const struct httpd_file *f,
		     uint64_t off, void *buf, size_t len)
{
	struct sync_result r = {0};
	struct httpd_read rd;
	int e = src->read(src->ctx, f, off, buf, len, &rd, read_cb, &r);

	if (e < 0)
		return e;
	cr_assert_not(r.done, "the callback runs from the loop, not inside");
	run_until(&r.done);
	return r.status;
}

static int load(struct httpd_tar *t)
{
	struct sync_result r = {0};
	int e = httpd_tar_load(t, loop, disk(), sync_plain_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

Test(httpd_tar, serves_every_file_with_types_and_etags)
{
	static struct httpd_tar t;
	struct httpd_source src;

	memset(image, 0, sizeof(image));
	image_len = 0;
	add("./index.html", "<h1>disk</h1>");
	add("css/site.css", "body{}");
	add("docs/index.html", "docs");
	add("empty.txt", "");
	cr_assert_eq(load(&t), 0);
	httpd_tar_source(&t, &src);
	/* Descriptions the source fills in, one per file kept. */
	struct httpd_file fb[4];
	const struct httpd_file *f =
	    httpd_source_find(&src, "/css/site.css", 13, &fb[0]);
	char buf[32];
	cr_assert_not_null(f);
	cr_assert_eq(f->size, 6);
	cr_assert_null(f->data, "bytes stay on the device");
	cr_assert_eq(read_sync(&src, f, 0, buf, 6), 6);
	cr_assert_arr_eq(buf, "body{}", 6);
	cr_assert_eq(read_sync(&src, f, 2, buf, 3), 3);
	cr_assert_arr_eq(buf, "dy{", 3);
	cr_assert_str_eq(f->content_type, "text/css; charset=utf-8");
	cr_assert_eq(strlen(f->etag), 18);
	const struct httpd_file *root = httpd_source_find(&src, "/", 1, &fb[1]);
	cr_assert_str_eq(root->key, "index.html");
	cr_assert_not_null(root);
	cr_assert_eq(read_sync(&src, root, 0, buf, 13), 13);
	cr_assert_arr_eq(buf, "<h1>disk</h1>", 13);
	cr_assert_str_neq(root->etag, f->etag);
	const struct httpd_file *docs = httpd_source_find(&src, "/docs/", 6, &fb[2]);
	cr_assert_not_null(docs);
	cr_assert_eq(docs->size, 4);
	cr_assert_not_null(httpd_source_find(&src, "/empty.txt", 10, &fb[3]));
	cr_assert_null(httpd_source_find(&src, "/css/site.cs", 12, &fb[3]));
	cr_assert_null(httpd_source_find(&src, "/nope", 5, &fb[3]));
	cr_assert_null(httpd_source_find(&src, "/css/site.css/", 14, &fb[3]));
	httpd_tar_free(&t);
}

Test(httpd_tar, loading_reads_only_the_headers)
{
	static struct httpd_tar t;
	static char big[20000];
	struct duet_blk_mem_stats st;

	memset(image, 0, sizeof(image));
	image_len = 0;
	memset(big, 'b', sizeof(big) - 1);
	add("a.bin", big);
	add("b.bin", big);
	cr_assert_eq(load(&t), 0);
	duet_blk_mem_get_stats(mem, &st);
	/* The mount's window reads the image once; loading reads no file
	 * again (it used to read every file whole). */
	cr_assert_leq(st.bytes_read, sizeof(image), "%llu",
		      (unsigned long long)st.bytes_read);
	cr_assert_eq(t.count, 2);
	char want[64];
	snprintf(want, sizeof(want), "indexed 2 files (%zu bytes)",
		 2 * (sizeof(big) - 1));
	cr_assert(strstr(fakeplat_console(), want) != NULL, "%s",
		  fakeplat_console());
	httpd_tar_free(&t);
}

Test(httpd_tar, a_damaged_image_is_refused)
{
	static struct httpd_tar t;

	memset(image, 0x55, sizeof(image));
	cr_assert_eq(load(&t), -EBADMSG);
	cr_assert(strstr(fakeplat_console(), "not a tar archive"), "%s",
		  fakeplat_console());
}
