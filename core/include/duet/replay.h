/* duet/replay.h — record and replay at the platform line (core/REPLAY.md).
 *
 * For platforms and tests, not apps. A platform that records or replays
 * opens one struct duet_rr before duet_sys_init(), sets sys->rr, and calls
 * the hooks below from its one-per-system services; the core's device
 * wrappers (netif, block) record and replay device traffic themselves.
 * Every hook takes rr == NULL (neither recording nor replaying) and then
 * only does the real thing.
 *
 * Recording: records are buffered and handed to the sink; when the log
 * would pass its bound the recorder writes FULL and stops (the run goes
 * on). Replaying: each hook takes the next record; when the run differs
 * from the log, or the log ends, the replayer calls the stop function,
 * which MUST NOT return (POSIX: print and exit).
 */
#ifndef DUET_REPLAY_H
#define DUET_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/clock.h>

struct duet_loop;
struct duet_rr;

/* Exit codes of a replay that did not reach the recorded end. */
#define DUET_RR_EXIT_END 4	 /* the log ended first (crash, kill, FULL) */
#define DUET_RR_EXIT_DIVERGED 5 /* the run differed from the log */

enum duet_rr_clock { DUET_RR_MONO, DUET_RR_WALL };

/* Writes all of buf or returns a negative errno (recording then stops). */
typedef int (*duet_rr_sink)(void *arg, const void *buf, size_t len);
/* Reports why the replay stops (msg) and ends the run with code. */
typedef void (*duet_rr_stop)(void *arg, int code, const char *msg);
/* Delivers a recorded shutdown request (POSIX: a signal) as the
 * platform's handler would, minus the wake-up (recorded on its own). */
typedef void (*duet_rr_signal_cb)(void *arg, int signum);

/* Starts a recording of the app called `app`: writes the header (its name
 * and this image's build record) and returns the recorder, or NULL if out
 * of memory or the sink failed. max_bytes bounds the log (at least
 * 64 KiB). */
struct duet_rr *duet_rr_record_open(const char *app, duet_rr_sink sink,
				    void *arg, uint64_t max_bytes);

/* Starts a replay of log[0..len) (the caller keeps it alive): checks the
 * header and that its app and commit are `app` and this image's. 0, or
 * -EINVAL (malformed) / -ESTALE (another build) with the reason in err. */
int duet_rr_replay_open(const char *app, const void *log, size_t len,
			duet_rr_stop stop, void *stop_arg, struct duet_rr **out,
			char *err, size_t errlen);
void duet_rr_set_signal(struct duet_rr *rr, duet_rr_signal_cb cb, void *arg);
bool duet_rr_replaying(const struct duet_rr *rr);

/* The hooks. `read`, `fill` and `real` give the platform's own answer,
 * asked for only when not replaying. */
duet_time_t duet_rr_clock(struct duet_rr *rr, enum duet_rr_clock which,
			  duet_time_t (*read)(void));
int duet_rr_entropy(struct duet_rr *rr, void *buf, size_t len,
		    int (*fill)(void *buf, size_t len));
bool duet_rr_strong(struct duet_rr *rr, bool real);
/* After the bytes are written (replay: checked against the log). */
void duet_rr_console(struct duet_rr *rr, const char *buf, size_t len);
/* First thing in duet_plat_wait(). Replaying, it runs the whole recorded
 * wait and returns true; otherwise it records the wait's start, returns
 * false, and the platform waits and then calls duet_rr_wait_end(). */
bool duet_rr_wait(struct duet_rr *rr, struct duet_loop *loop,
		  duet_time_t deadline);
void duet_rr_wait_end(struct duet_rr *rr);
/* Just before the platform brings the loop's clock past a sleep. */
void duet_rr_wake(struct duet_rr *rr);
/* A shutdown request, before the platform acts on it: a POSIX signal, or
 * DUET_RR_SHUTDOWN_REQUEST for one the platform logged itself (Xen's
 * toolstack), which a POSIX replay acts on as on SIGTERM, silently. */
#define DUET_RR_SHUTDOWN_REQUEST 0
void duet_rr_signal(struct duet_rr *rr, int signum);
/* A boot argument the platform gave the core (recording), or replaying:
 * adds the recorded ones and registers the recorded devices that come
 * next in the log, as the platform did before boot or at discovery. */
void duet_rr_arg(struct duet_rr *rr, const char *token);
void duet_rr_devices(struct duet_rr *rr, struct duet_loop *loop);
/* Recording that starts after the platform found its devices (Xen: the
 * handshakes ran before): a DEVICE record for each device registered now,
 * with a netif's offloads and a link that is down, as if each had just
 * registered. */
void duet_rr_devices_known(struct duet_rr *rr, struct duet_loop *loop);
/* The run ended with code, after the platform closed its devices.
 * Recording: writes END and flushes. Replaying: checks END and prints the
 * summary. Returns the code. */
int duet_rr_end(struct duet_rr *rr, int code);
/* Hands the buffered records to the sink (recording; nothing otherwise).
 * Safe from a fatal-signal handler: it only calls the sink. */
void duet_rr_flush(struct duet_rr *rr);
void duet_rr_close(struct duet_rr *rr);

/* A log on a disk of its own (Xen's record=DISK): a header of
 * DUET_RR_DISK_HEAD bytes, "DUETRDSK", the log's length (u64), a crc32c
 * of those 16 bytes, zeros; then the log. duet_rr_disk_head() fills the
 * first DUET_RR_DISK_HEAD_LEN bytes of a header. duet_rr_disk_log() finds
 * the log in a disk image: 1 (*log, *loglen set; an empty log if the run
 * has not ended), 0 if the image is no such disk, -EINVAL if its header
 * is damaged or claims more than the image holds. */
#define DUET_RR_DISK_HEAD 4096u
#define DUET_RR_DISK_HEAD_LEN 20u
void duet_rr_disk_head(uint8_t *head, uint64_t loglen);
int duet_rr_disk_log(const void *image, size_t len, const void **log,
		     size_t *loglen);

/* A test hook's crash that replays (Xen's xen.crash=null): logs
 * "HOOK=null: crashing on purpose" and writes through NULL, in this one
 * function on every platform, so that a replay faults where the recording
 * did. Returns at once for any other mode. */
void duet_rr_crash_on_purpose(const char *hook, const char *mode);

/* One line per record of a log, and one for its header, for people.
 * 0, or -EINVAL where the log stops being well formed. */
int duet_rr_dump(const void *log, size_t len,
		 void (*line)(void *arg, const char *text), void *arg);

#endif
