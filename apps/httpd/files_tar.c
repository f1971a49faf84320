/* The tar file source (see files_tar.h): list the store once, then read
 * file bytes from it per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/tar.h>

#include "files_tar.h"

static void load_end(struct httpd_tar *t, int status)
{
	if (status < 0)
		httpd_tar_free(t);
	t->done(t->arg, status);
}

static int on_entry(struct duet_kv_req *req, const char *key,
		    const struct duet_kv_stat *st, void *arg)
{
	struct httpd_tar *t = arg;
	(void)req;

	/* A nonzero return stops the listing; t->err says why. */
	if (st->size > SIZE_MAX) {
		t->err = -EFBIG; /* cannot be served here */
		return 1;
	}
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct httpd_file *n = realloc(t->files, cap * sizeof(*n));
		if (n == NULL) {
			t->err = -ENOMEM;
			return 1;
		}
		t->files = n;
		t->cap = cap;
	}
	size_t key_len = strlen(key);
	char *path = malloc(key_len + 2);
	if (path == NULL) {
		t->err = -ENOMEM;
		return 1;
	}
	path[0] = '/';
	memcpy(path + 1, key, key_len + 1);
	struct httpd_file *f = &t->files[t->count++];
	*f = (struct httpd_file){
	    .path = path,
	    .path_len = key_len + 1,
	    .data = NULL,
	    .size = (size_t)st->size,
	    .content_type = httpd_content_type(path),
	};
	snprintf(f->etag, sizeof(f->etag), "\"%016llx\"",
		 (unsigned long long)st->version);
	t->bytes += st->size;
	return 0;
}

static void listed(struct duet_kv_req *req, int status, void *arg)
{
	struct httpd_tar *t = arg;
	(void)req;

	if (status == 0)
		status = t->err;
	if (status < 0) {
		load_end(t, status);
		return;
	}
	DUET_INFO("httpd", "indexed %zu files (%llu bytes) in the image",
		  t->count, (unsigned long long)t->bytes);
	load_end(t, 0);
}

static void mounted(struct duet_kv *kv, int status, void *arg)
{
	struct httpd_tar *t = arg;

	if (status < 0) {
		load_end(t, status);
		return;
	}
	t->kv = kv;
	status = duet_kv_list(kv, &t->req, "", on_entry, listed, t);
	if (status < 0)
		load_end(t, status);
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
					   size_t len)
{
	const struct httpd_tar *t = ctx;
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = t->files[mid].path;
		size_t plen = t->files[mid].path_len;
		int c = memcmp(p, path, plen < len ? plen : len);
		if (c == 0)
			c = plen < len ? -1 : plen > len;
		if (c == 0)
			return &t->files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
	/* The key is the path without its leading '/'; it lives in the index,
	 * so it outlasts the read. */
	return duet_kv_get(t->kv, &rd->kv, f->path + 1, off, buf, len,
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
	for (size_t i = 0; i < t->count; i++)
		free((void *)t->files[i].path);
	free(t->files);
	t->files = NULL;
	t->count = t->cap = 0;
	if (t->kv != NULL)
		duet_kv_close(t->kv);
	t->kv = NULL;
}
