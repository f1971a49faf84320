/* Log formatting and the console wrapper.
 *
 * The threshold is the one piece of mutable state the core keeps outside a
 * context struct: logging is a one-per-system service like the console, and
 * every call site (lwIP's diagnostics included) would otherwise need a loop
 * pointer it does not have.
 */
#include <stdio.h>
#include <string.h>

#include <duet/clock.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/platform.h>

static enum duet_log_level log_threshold = DUET_LOG_INFO;
/* Log times count from the first message, which the boot sequence writes. */
static duet_time_t log_origin;
static int log_origin_set;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void duet_console_write(const char *buf, size_t len)
{
	duet_plat_console_write(buf, len);
}

void duet_log_set_level(enum duet_log_level level)
{
	log_threshold = level;
}

enum duet_log_level duet_log_get_level(void)
{
	return log_threshold;
}

int duet_log_enabled(enum duet_log_level level)
{
	return level <= log_threshold;
}

int duet_log_level_parse(const char *name, enum duet_log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum duet_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *duet_log_level_name(enum duet_log_level level)
{
	if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "?";
}

size_t duet_log_format(char *buf, size_t size, unsigned long long since_boot,
		       enum duet_log_level level, const char *tag,
		       const char *fmt, va_list ap)
{
	static const char ellipsis[] = "...\n";

	if (size == 0)
		return 0;
	if (size == 1) {
		buf[0] = '\0';
		return 0;
	}
	int n = snprintf(buf, size, "[%5llu.%06llu] %-5s %s: ",
			 since_boot / 1000000000ULL,
			 (since_boot % 1000000000ULL) / 1000ULL,
			 duet_log_level_name(level), tag != NULL ? tag : "-");
	size_t used = n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
	n = vsnprintf(buf + used, size - used, fmt, ap);
	size_t want = n < 0 ? 0 : (size_t)n;
	if (used + want + 1 < size) {
		used += want;
		/* A trailing newline in the message is the caller's habit,
		 * not a request for an empty line. */
		if (used > 0 && buf[used - 1] == '\n')
			used--;
		buf[used++] = '\n';
		buf[used] = '\0';
		return used;
	}
	/* Cut: end with an ellipsis and a newline, as much as fits. */
	size_t tail = sizeof(ellipsis) - 1;
	if (tail > size - 1)
		tail = size - 1;
	memcpy(buf + size - 1 - tail, ellipsis + (sizeof(ellipsis) - 1 - tail), tail);
	buf[size - 1] = '\0';
	return size - 1;
}

void duet_log_restart_clock(void)
{
	log_origin_set = 0;
}

void duet_vlog(enum duet_log_level level, const char *tag, const char *fmt,
	       va_list ap)
{
	char line[DUET_LOG_LINE_MAX];

	if (!duet_log_enabled(level))
		return;
	duet_time_t now = duet_plat_clock_monotonic();
	if (!log_origin_set) {
		log_origin = now;
		log_origin_set = 1;
	}
	size_t len = duet_log_format(line, sizeof(line), now - log_origin,
				     level, tag, fmt, ap);
	duet_plat_console_write(line, len);
}

void duet_log(enum duet_log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	duet_vlog(level, tag, fmt, ap);
	va_end(ap);
}
