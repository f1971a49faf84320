/* httpd's tar file source (apps/httpd/files_tar.c) over a RAM disk: every
 * file loaded byte for byte, index pages, content types, ETags from the
 * archive, and a damaged image refused. */
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
	unsigned sum = 0;
	char num[24];

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	snprintf(num, sizeof(num), "%011zo", len);
	memcpy(h + 124, num, 12);
	memcpy(h + 136, "14000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	memcpy(h + 512, data, len);
	image_len += 512 + (len + 511) / 512 * 512;
}

static struct duet_block *disk(void)
{
	struct duet_blk_mem *m;

	cr_assert_eq(duet_blk_mem_create(&loop, "disk0", 512,
					 sizeof(image) / 512, true, &m),
		     0);
	memcpy(duet_blk_mem_data(m), image, sizeof(image));
	return duet_blk_mem_block(m);
}

static int load(struct httpd_tar *t)
{
	struct sync_result r = {0};
	int e = httpd_tar_load(t, &loop, disk(), sync_plain_cb, &r);

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
	const struct httpd_file *f = httpd_source_find(&src, "/css/site.css", 13);
	cr_assert_not_null(f);
	cr_assert_eq(f->size, 6);
	cr_assert_arr_eq(f->data, "body{}", 6);
	cr_assert_str_eq(f->content_type, "text/css; charset=utf-8");
	cr_assert_eq(strlen(f->etag), 18);
	const struct httpd_file *root = httpd_source_find(&src, "/", 1);
	cr_assert_not_null(root);
	cr_assert_arr_eq(root->data, "<h1>disk</h1>", 13);
	cr_assert_str_neq(root->etag, f->etag);
	const struct httpd_file *docs = httpd_source_find(&src, "/docs/", 6);
	cr_assert_not_null(docs);
	cr_assert_eq(docs->size, 4);
	cr_assert_not_null(httpd_source_find(&src, "/empty.txt", 10));
	cr_assert_null(httpd_source_find(&src, "/css/site.cs", 12));
	cr_assert_null(httpd_source_find(&src, "/nope", 5));
	cr_assert_null(httpd_source_find(&src, "/css/site.css/", 14));
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
