/* duet/tar.h — a read-only key-value store over a POSIX tar image.
 *
 * The block device holds a tar archive (ustar; pax extended headers with
 * path=, linkpath=, size= and mtime= records; GNU long names), as `tar cf` or
 * `./duet mkimage DIR -o site.img` writes it, padded with anything to a
 * sector multiple. Mounting reads the headers once, front to back, and
 * keeps an index in memory (a sorted array: name -> offset, size, mtime);
 * gets then read the file bytes straight from the device.
 *
 * Keys are the archive's regular-file paths, normalised: "./" and empty
 * components removed ("./www//a.html" is "www/a.html"). Directories,
 * symbolic links and devices are skipped; a hard link is one more name for
 * the file it names (the newest of that name before the link). A later
 * entry of the same name replaces an earlier one, as when tar extracts.
 * stat gives the size, the mtime and a version derived from the entry's
 * place, size and mtime in the image.
 *
 * Mount fails with -EBADMSG, logging the entry and the reason, when the
 * image is not a tar archive, a header checksum does not match, a field is
 * not a number, a size runs past the end of the device (a truncated
 * archive), or a path is absolute or contains "..". Nothing in the image
 * can make the mount read outside the device or crash.
 */
#ifndef DUET_TAR_H
#define DUET_TAR_H

#include <duet/kv.h>

/* Mounts the tar image on dev; cb runs from the loop with the store (close
 * it with duet_kv_close()) or NULL and a negative errno. -ENOMEM at once if
 * no memory for the mount. */
int duet_tar_mount(struct duet_loop *loop, struct duet_block *dev,
		   duet_kv_mount_cb cb, void *arg);

/* Files in a mounted tar store. */
size_t duet_tar_count(const struct duet_kv *kv);

/* The index, read in place, without I/O and at once: for a reader that
 * would otherwise list the store into a copy of its own (httpd's file
 * source). An entry's key is the stored name, NUL-terminated and valid
 * until the store is closed; its stat is what a stat request gives. */
struct duet_tar_entry {
	const char *key;
	size_t key_len;
	struct duet_kv_stat stat;
};
/* The entry named key[0..len) (no NUL needed): 0, or -ENOENT. */
int duet_tar_find(const struct duet_kv *kv, const char *key, size_t len,
		  struct duet_tar_entry *out);
/* The i-th entry in key order (i < duet_tar_count()): 0, or -ENOENT. */
int duet_tar_entry_at(const struct duet_kv *kv, size_t i,
		      struct duet_tar_entry *out);

#endif
