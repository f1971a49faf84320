/* duet/log.h — console and logging.
 *
 * One console per system (the terminal on POSIX, the Xen console ring on
 * Xen). duet_console_write() sends raw bytes to it; everything else should go
 * through duet_log(), which prefixes a line with the time since boot, the
 * level and a short tag naming the module ("net", "httpd"):
 *
 *     [    1.204311] info  httpd: listening on port 8080
 *
 * Messages below the current threshold are dropped before formatting. The
 * threshold starts at DUET_LOG_INFO and is set from the `log=` boot argument
 * (error, warn, info, debug) or with duet_log_set_level(). A message longer
 * than DUET_LOG_LINE_MAX is cut and ends with "...". duet_log() never blocks
 * and never allocates; it is safe to call from any callback.
 */
#ifndef DUET_LOG_H
#define DUET_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum duet_log_level {
	DUET_LOG_ERROR = 0,
	DUET_LOG_WARN = 1,
	DUET_LOG_INFO = 2,
	DUET_LOG_DEBUG = 3,
};

#define DUET_LOG_LINE_MAX 512

void duet_console_write(const char *buf, size_t len);

void duet_log(enum duet_log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void duet_vlog(enum duet_log_level level, const char *tag, const char *fmt,
	       va_list ap) __attribute__((format(printf, 3, 0)));

void duet_log_set_level(enum duet_log_level level);
/* Log times count from the first line logged; after this, from the next
 * one (for platforms: a recording that starts after boot restarts them,
 * as the replayed process starts them). */
void duet_log_restart_clock(void);
enum duet_log_level duet_log_get_level(void);
int duet_log_enabled(enum duet_log_level level);

/* "error", "warn", "info", "debug" <-> level. Parsing returns 0 or -EINVAL. */
int duet_log_level_parse(const char *name, enum duet_log_level *out);
const char *duet_log_level_name(enum duet_log_level level);

/* Formats one log line into buf (always NUL-terminated, always ending in
 * '\n' when size >= 2) and returns its length. This is what duet_log() writes;
 * exposed so tests and other sinks produce the identical format. `since_boot`
 * is in nanoseconds. */
size_t duet_log_format(char *buf, size_t size, unsigned long long since_boot,
		       enum duet_log_level level, const char *tag,
		       const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

#define DUET_ERROR(tag, ...) duet_log(DUET_LOG_ERROR, tag, __VA_ARGS__)
#define DUET_WARN(tag, ...) duet_log(DUET_LOG_WARN, tag, __VA_ARGS__)
#define DUET_INFO(tag, ...) duet_log(DUET_LOG_INFO, tag, __VA_ARGS__)
#define DUET_DEBUG(tag, ...)                                                  \
	do {                                                                   \
		if (duet_log_enabled(DUET_LOG_DEBUG))                          \
			duet_log(DUET_LOG_DEBUG, tag, __VA_ARGS__);            \
	} while (0)

#endif
