/* Internal interfaces of the POSIX platform. */
#ifndef DUET_POSIX_H
#define DUET_POSIX_H

#include <stddef.h>

#include <uv.h>

struct duet_loop;

/* The one libuv loop everything on this platform runs on. */
void duet__posix_plat_init(uv_loop_t *uv);
void duet__posix_plat_close(void);
uv_loop_t *duet__posix_uv(void);

/* Converts a libuv error (already a negative errno on Linux) into Duet's. */
static inline int duet__uv_err(int uverr)
{
	return uverr;
}

/* Device declarations from the command line: `--block NAME=SPEC`,
 * `--net NAME=SPEC`. Each creates and registers one device, or returns a
 * negative errno with a message in err. */
int duet__posix_block_file_create(struct duet_loop *loop, const char *name,
				  const char *spec, char *err, size_t errlen);

/* Unregisters (and so closes) every device, newest first. */
void duet__posix_devices_close(struct duet_loop *loop);

#endif
