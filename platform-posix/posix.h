/* Internal interfaces of the POSIX platform. */
#ifndef DUET_POSIX_H
#define DUET_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct duet_loop;

/* The one libuv loop everything on this platform runs on. */
void duet__posix_plat_init(uv_loop_t *uv);
void duet__posix_plat_close(void);
uv_loop_t *duet__posix_uv(void);

/* Called first by every libuv callback that reaches duet code: the loop's
 * clock then counts from after the wait it woke from (duet/platform.h). */
void duet__posix_woke(void);

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

int duet__posix_netif_tap_create(struct duet_loop *loop, const char *name,
				 const char *spec, char *err, size_t errlen);
int duet__posix_netif_vwire_create(struct duet_loop *loop, const char *name,
				   const char *spec, char *err, size_t errlen);

/* Options after a netif spec's first field: `,mac=02:..` and `,mtu=N`.
 * 0 or -EINVAL with a message; mac is random and locally administered
 * unless given, mtu keeps its value unless given. */
int duet__posix_netif_options(const char *flag, const char *opts,
			      uint8_t mac[6], unsigned *mtu, char *err,
			      size_t errlen);

/* Unregisters (and so closes) every device, newest first. */
void duet__posix_devices_close(struct duet_loop *loop);

#endif
