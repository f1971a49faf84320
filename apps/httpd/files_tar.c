/* The tar file source (see files_tar.h): list the store, then read each
 * file in turn into memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/tar.h>

#include "files_tar.h"

static void load_next(struct httpd_tar *t);

static void load_end(struct httpd_tar *t, int status)
{
	if (status < 0)
		httpd_tar_free(t);
	t->done(t->arg, status);
}

static void got_file(struct duet_kv_req *req, int status, void *arg)
{
	struct httpd_tar *t = arg;
	struct httpd_file *f = &t->files[t->next];

	if (status >= 0 && (size_t)status != f->size)
		status = -EIO; /* the image changed under us */
	if (status < 0) {
		DUET_ERROR("httpd", "reading %s from the image: %s", f->path,
			   duet_strerror(status));
		load_end(t, status);
		return;
	}
	snprintf(f->etag, sizeof(f->etag), "\"%016llx\"",
		 (unsigned long long)req->stat.version);
	t->next++;
	load_next(t);
}

static void load_next(struct httpd_tar *t)
{
	int r;

	if (t->next == t->count) {
		load_end(t, 0);
		return;
	}
	struct httpd_file *f = &t->files[t->next];
	uint8_t *data = malloc(f->size > 0 ? f->size : 1);
	if (data == NULL) {
		load_end(t, -ENOMEM);
		return;
	}
	f->data = data;
	/* The key is the path without its leading '/'. */
	r = duet_kv_get(t->kv, &t->req, f->path + 1, 0, data, f->size, got_file,
			t);
	if (r < 0)
		load_end(t, r);
}

static int on_entry(struct duet_kv_req *req, const char *key,
		    const struct duet_kv_stat *st, void *arg)
{
	struct httpd_tar *t = arg;
	(void)req;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct httpd_file *n = realloc(t->files, cap * sizeof(*n));
		if (n == NULL)
			return 1;
		t->files = n;
		t->cap = cap;
	}
	char *path = malloc(strlen(key) + 2);
	if (path == NULL)
		return 1;
	path[0] = '/';
	strcpy(path + 1, key);
	t->files[t->count++] = (struct httpd_file){
	    .path = path,
	    .size = (size_t)st->size,
	    .content_type = httpd_content_type(path),
	};
	t->bytes += st->size;
	return 0;
}

static void listed(struct duet_kv_req *req, int status, void *arg)
{
	struct httpd_tar *t = arg;
	(void)req;

	if (status == 0 && t->count < duet_tar_count(t->kv))
		status = -ENOMEM;
	if (status == 0 && t->bytes > HTTPD_TAR_MAX_BYTES) {
		DUET_ERROR("httpd",
			   "the site image holds %llu bytes of files; "
			   "httpd loads at most %llu",
			   (unsigned long long)t->bytes, HTTPD_TAR_MAX_BYTES);
		status = -EFBIG;
	}
	if (status < 0) {
		load_end(t, status);
		return;
	}
	DUET_INFO("httpd", "loading %zu files (%llu bytes) from the image",
		  t->count, (unsigned long long)t->bytes);
	t->next = 0;
	load_next(t);
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

static const struct httpd_file *find(const struct httpd_tar *t,
				     const char *path, size_t len)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = t->files[mid].path;
		size_t plen = strlen(p);
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

static const struct httpd_file *tar_lookup(void *ctx, const char *path,
					   size_t len)
{
	return find(ctx, path, len);
}

void httpd_tar_source(struct httpd_tar *t, struct httpd_source *out)
{
	out->lookup = tar_lookup;
	out->ctx = t;
}

void httpd_tar_free(struct httpd_tar *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free((void *)t->files[i].path);
		free((void *)t->files[i].data);
	}
	free(t->files);
	t->files = NULL;
	t->count = t->cap = 0;
	if (t->kv != NULL)
		duet_kv_close(t->kv);
	t->kv = NULL;
}
