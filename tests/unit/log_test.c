/* Log formatting, levels and truncation. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "fakeplat.h"

static void setup(void)
{
	fakeplat_reset();
	duet_log_set_level(DUET_LOG_INFO);
}

TestSuite(log, .init = setup);

static size_t fmt(char *buf, size_t size, unsigned long long t,
		  enum duet_log_level lvl, const char *tag, const char *f, ...)
	__attribute__((format(printf, 6, 7)));
static size_t fmt(char *buf, size_t size, unsigned long long t,
		  enum duet_log_level lvl, const char *tag, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	size_t n = duet_log_format(buf, size, t, lvl, tag, f, ap);
	va_end(ap);
	return n;
}

Test(log, line_format_has_time_level_and_tag)
{
	char buf[128];
	size_t n = fmt(buf, sizeof(buf), 1204311000ULL, DUET_LOG_INFO, "httpd",
		       "listening on port %d", 8080);
	cr_assert_str_eq(buf, "[    1.204311] info  httpd: listening on port 8080\n");
	cr_assert_eq(n, strlen(buf));
}

Test(log, one_trailing_newline_is_not_doubled)
{
	char buf[128];
	fmt(buf, sizeof(buf), 0, DUET_LOG_WARN, "x", "done\n");
	cr_assert_str_eq(buf, "[    0.000000] warn  x: done\n");
}

Test(log, long_messages_are_cut_with_an_ellipsis)
{
	char buf[40];
	size_t n = fmt(buf, sizeof(buf), 0, DUET_LOG_ERROR, "t", "%s",
		       "0123456789012345678901234567890123456789");
	cr_assert_eq(n, sizeof(buf) - 1);
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
	cr_assert(strcmp(buf + n - 4, "...\n") == 0, "%s", buf);
	cr_assert(strncmp(buf, "[    0.000000] error t: 0123", 28) == 0, "%s", buf);
}

Test(log, tiny_buffers_stay_terminated)
{
	char buf[3] = "zz";
	cr_assert_eq(fmt(buf, 0, 0, DUET_LOG_INFO, "t", "x"), 0);
	cr_assert_eq(buf[0], 'z');
	cr_assert_eq(fmt(buf, 1, 0, DUET_LOG_INFO, "t", "x"), 0);
	cr_assert_eq(buf[0], '\0');
	cr_assert_eq(fmt(buf, 3, 0, DUET_LOG_INFO, "t", "x"), 2);
	cr_assert_eq(buf[1], '\n');
}

Test(log, threshold_filters_and_levels_parse)
{
	enum duet_log_level l;

	DUET_DEBUG("t", "hidden %d", 1);
	DUET_INFO("t", "shown");
	cr_assert(strstr(fakeplat_console(), "hidden") == NULL);
	cr_assert(strstr(fakeplat_console(), "info  t: shown\n") != NULL);
	cr_assert_eq(duet_log_level_parse("debug", &l), 0);
	duet_log_set_level(l);
	DUET_DEBUG("t", "now visible");
	cr_assert(strstr(fakeplat_console(), "debug t: now visible") != NULL);
	cr_assert_eq(duet_log_level_parse("verbose", &l), -EINVAL);
	duet_log_set_level(DUET_LOG_ERROR);
	DUET_WARN("t", "quiet");
	cr_assert(strstr(fakeplat_console(), "quiet") == NULL);
}

Test(log, console_write_is_raw)
{
	duet_console_write("raw\n", 4);
	cr_assert_str_eq(fakeplat_console(), "raw\n");
}

Test(log, strerror_covers_common_errors)
{
	cr_assert_str_eq(duet_strerror(-EINVAL), "invalid argument");
	cr_assert_str_eq(duet_strerror(-ENODEV), "no such device");
	cr_assert_str_eq(duet_strerror(0), "success");
	cr_assert_str_eq(duet_strerror(-99999), "unknown error");
}
