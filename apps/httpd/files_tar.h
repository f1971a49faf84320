/* files_tar.h — a file source over a tar image on a block device.
 *
 * httpd_tar_load() mounts the tar store (duet/tar.h) on the device, reads
 * every file into memory (the file source contract wants bytes that stay
 * put while the server runs), and then calls done. ETags come from the
 * archive: the store's version of each entry, derived from its place, size
 * and mtime in the image. "/" and paths ending in "/" mean their
 * index.html, as with the embedded site.
 */
#ifndef HTTPD_FILES_TAR_H
#define HTTPD_FILES_TAR_H

#include <duet/kv.h>

#include "files.h"

/* The whole image is read at start: refuse sites bigger than this. */
#define HTTPD_TAR_MAX_BYTES (512ull << 20)

struct httpd_tar {
	struct duet_kv *kv;
	struct httpd_file *files; /* sorted by path */
	size_t count, cap;
	uint64_t bytes;
	/* loading */
	size_t next;
	struct duet_kv_req req;
	void (*done)(void *arg, int status);
	void *arg;
};

/* 0 and later done(arg, 0 or a negative errno, the reason logged), or a
 * negative errno at once. */
int httpd_tar_load(struct httpd_tar *t, struct duet_loop *loop,
		   struct duet_block *dev, void (*done)(void *arg, int status),
		   void *arg);
void httpd_tar_source(struct httpd_tar *t, struct httpd_source *out);
void httpd_tar_free(struct httpd_tar *t);

#endif
