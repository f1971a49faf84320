/* Internal interfaces of the POSIX platform. */
#ifndef DUET_POSIX_H
#define DUET_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <duet/clock.h>

struct duet_loop;
struct duet_rr;

/* The one libuv loop everything on this platform runs on. */
void duet__posix_plat_init(uv_loop_t *uv);
void duet__posix_plat_close(void);
uv_loop_t *duet__posix_uv(void);

/* Called first by every libuv callback that reaches duet code: the loop's
 * clock then counts from after the wait it woke from (duet/platform.h). */
void duet__posix_woke(void);

/* Before a sleep until *deadline: gives memory back after a large
 * release, or brings *deadline forward to when that check is due
 * (trim.c). _woke(): the loop ran (an event, or a wait that ended at the
 * core's own deadline) since. */
void duet__posix_trim(uv_loop_t *uv, duet_time_t now, duet_time_t *deadline);
void duet__posix_trim_woke(void);

/* The recorder or replayer, if any (duet/replay.h); NULL otherwise. */
void duet__posix_rr_set(struct duet_rr *rr);
struct duet_rr *duet__posix_rr(void);
/* record=FILE (and record_max=) among argv: 1 and recording to FILE, 0
 * when not asked for, or a negative errno with a message in err. */
int duet__posix_record_start(int argc, char **argv, char *err, size_t errlen);
/* Reads a replay log into memory: 0 or a negative errno. */
int duet__posix_log_load(const char *path, void **buf, size_t *len);
/* Ends a replay (duet_rr_stop): prints msg, exits with code. */
_Noreturn void duet__posix_replay_stop(void *arg, int code, const char *msg);

/* The platform's own console and random bytes, not recorded. */
void duet__posix_console_raw(const char *buf, size_t len);
int duet__posix_random(void *buf, size_t len);

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
