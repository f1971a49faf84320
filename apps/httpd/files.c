/* The table file source and the helpers every source shares. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "files.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".wasm", "application/wasm"},
    {".xml", "application/xml"},
    {".pdf", "application/pdf"},
};

const char *httpd_content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');

	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* FNV-1a, 64 bits: the ETag only has to change when the bytes do. */
static uint64_t content_hash(const uint8_t *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h ^ (uint64_t)n;
}

void httpd_table_init(struct httpd_table *t)
{
	t->count = 0;
}

static const struct httpd_file *table_find(const struct httpd_table *t,
					   const char *path, size_t len)
{
	for (unsigned i = 0; i < t->count; i++) {
		const struct httpd_file *f = &t->files[i];
		if (f->path_len == len && memcmp(f->path, path, len) == 0)
			return f;
	}
	return NULL;
}

int httpd_table_add(struct httpd_table *t, const char *path,
		    const uint8_t *data, size_t size)
{
	struct httpd_file *f;

	if (table_find(t, path, strlen(path)) != NULL)
		return -EEXIST;
	if (t->count == HTTPD_TABLE_MAX)
		return -ENOSPC;
	f = &t->files[t->count++];
	f->path = path;
	f->path_len = strlen(path);
	f->key = path[0] == '/' ? path + 1 : path;
	f->data = data;
	f->size = size;
	f->content_type = httpd_content_type(path);
	snprintf(f->etag, sizeof(f->etag), "\"%016llx\"",
		 (unsigned long long)content_hash(data, size));
	return 0;
}

int httpd_table_add_site(struct httpd_table *t)
{
	for (size_t i = 0; i < httpd_site_count; i++) {
		int r = httpd_table_add(t, httpd_site[i].path,
					httpd_site[i].data, httpd_site[i].size);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct httpd_file *table_lookup(void *ctx, const char *path,
					     size_t len, struct httpd_file *buf)
{
	(void)buf;
	return table_find(ctx, path, len);
}

const struct httpd_file *httpd_source_find(const struct httpd_source *src,
					   const char *path, size_t len,
					   struct httpd_file *buf)
{
	static const char index_name[] = "index.html";
	char index[512];

	if (len > 0 && path[len - 1] == '/') {
		if (len + sizeof(index_name) > sizeof(index))
			return NULL;
		memcpy(index, path, len);
		memcpy(index + len, index_name, sizeof(index_name));
		return src->lookup(src->ctx, index, len + sizeof(index_name) - 1,
				   buf);
	}
	return src->lookup(src->ctx, path, len, buf);
}

void httpd_table_source(struct httpd_table *t, struct httpd_source *out)
{
	out->lookup = table_lookup;
	out->read = NULL; /* every file's bytes are in memory */
	out->ctx = t;
}
