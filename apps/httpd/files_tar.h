/* files_tar.h — a file source over a tar image on a block device.
 *
 * httpd_tar_load() mounts the tar store (duet/tar.h) on the device: only
 * the store's index is in memory, and lookups read it in place
 * (duet_tar_find: no second copy of the names); a response's content type
 * and ETag are made from the entry when it is looked up. The bytes stay on
 * the device and the server reads them per request through the source's
 * read (files.h), a chunk at a time. So an image may be far larger than
 * memory, and starting reads only the tar headers.
 *
 * ETags come from the archive without reading any file: the store's version
 * of each entry, a mix of its place in the image, its size and its mtime.
 * Rebuilding an image with a changed file changes at least one of those
 * unless the new bytes have the same size and the same mtime and land at the
 * same place (what `tar` and `./duet mkimage` record is the file's mtime, so
 * an edit changes it). "/" and paths ending in "/" mean their index.html,
 * as with the embedded site.
 */
#ifndef HTTPD_FILES_TAR_H
#define HTTPD_FILES_TAR_H

#include <duet/kv.h>

#include "files.h"

struct httpd_tar {
	struct duet_kv *kv;
	size_t count; /* files in the image */
	void (*done)(void *arg, int status);
	void *arg;
};

/* 0 and later done(arg, 0 or a negative errno, the reason logged), or a
 * negative errno at once. */
int httpd_tar_load(struct httpd_tar *t, struct duet_loop *loop,
		   struct duet_block *dev, void (*done)(void *arg, int status),
		   void *arg);
void httpd_tar_source(struct httpd_tar *t, struct httpd_source *out);
/* Closes the store: no read may be in flight (httpd_stop's drained
 * callback says when none is). */
void httpd_tar_free(struct httpd_tar *t);

#endif
