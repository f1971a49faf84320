/* The tar file source (see files_tar.h): the store's own index answers
 * lookups in place; file bytes are read from the store per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/tar.h>

#include "files_tar.h"

static void mounted(struct duet_kv *kv, int status, void *arg)
{
	struct httpd_tar *t = arg;
	struct duet_tar_entry e;
	uint64_t bytes = 0;
	size_t n;

	if (status < 0) {
		t->done(t->arg, status);
		return;
	}
	t->kv = kv;
	n = duet_tar_count(kv);
	for (size_t i = 0; i < n && duet_tar_entry_at(kv, i, &e) == 0; i++) {
		if (e.stat.size > SIZE_MAX) {
			DUET_ERROR("httpd", "%s: %llu bytes: too big to serve",
				   e.key, (unsigned long long)e.stat.size);
			httpd_tar_free(t);
			t->done(t->arg, -EFBIG);
			return;
		}
		bytes += e.stat.size;
	}
	DUET_INFO("httpd", "indexed %zu files (%llu bytes) in the image", n,
		  (unsigned long long)bytes);
	t->count = n;
	t->done(t->arg, 0);
}

int httpd_tar_load(struct httpd_tar *t, struct duet_loop *loop,
		   struct duet_block *dev, void (*done)(void *arg, int status),
		   void *arg)
{
	memset(t, 0, sizeof(*t));
	t->done = done;
	t->arg = arg;
	return duet_tar_mount(loop, dev, mounted, t);
}

static const struct httpd_file *tar_lookup(void *ctx, const char *path,
					   size_t len, struct httpd_file *buf)
{
	const struct httpd_tar *t = ctx;
	struct duet_tar_entry e;

	/* Request paths start with '/'; the store's keys do not. */
	if (len == 0 || path[0] != '/' ||
	    duet_tar_find(t->kv, path + 1, len - 1, &e) < 0)
		return NULL;
	*buf = (struct httpd_file){
	    .path = NULL, /* not kept: lookups go to the store */
	    .key = e.key, /* the store's: valid while it is mounted */
	    .data = NULL,
	    .size = (size_t)e.stat.size, /* <= SIZE_MAX: checked at load */
	    .content_type = httpd_content_type(e.key),
	};
	snprintf(buf->etag, sizeof(buf->etag), "\"%016llx\"",
		 (unsigned long long)e.stat.version);
	return buf;
}

static void tar_read_done(struct duet_kv_req *req, int status, void *arg)
{
	struct httpd_read *rd = arg;
	(void)req;

	rd->cb(rd, status, rd->arg);
}

static int tar_read(void *ctx, const struct httpd_file *f, uint64_t off,
		    void *buf, size_t len, struct httpd_read *rd,
		    httpd_read_cb cb, void *arg)
{
	struct httpd_tar *t = ctx;

	rd->cb = cb;
	rd->arg = arg;
	/* The key is the store's own, so it outlasts the read. */
	return duet_kv_get(t->kv, &rd->kv, f->key, off, buf, len,
			   tar_read_done, rd);
}

void httpd_tar_source(struct httpd_tar *t, struct httpd_source *out)
{
	out->lookup = tar_lookup;
	out->read = tar_read;
	out->ctx = t;
}

void httpd_tar_free(struct httpd_tar *t)
{
	if (t->kv != NULL)
		duet_kv_close(t->kv);
	t->kv = NULL;
	t->count = 0;
}
