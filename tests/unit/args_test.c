/* Boot arguments: parsing, typed getters, malformed input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <duet/args.h>
#include <duet/error.h>

#include "fakeplat.h"

static struct duet_args args;
static char err[256];

static void setup(void)
{
	fakeplat_reset();
	duet_args_init(&args);
	err[0] = '\0';
}

TestSuite(args, .init = setup);

Test(args, parse_line_with_quotes_and_blanks)
{
	cr_assert_eq(duet_args_parse_line(&args, "  ip=10.0.0.2/24\tgw=10.0.0.1 "
					  "motd=\"hello world\" empty= ", err,
					  sizeof(err)), 0, "%s", err);
	cr_assert_eq(args.count, 4);
	cr_assert_str_eq(duet_args_peek(&args, "ip"), "10.0.0.2/24");
	cr_assert_str_eq(duet_args_peek(&args, "motd"), "hello world");
	cr_assert_str_eq(duet_args_peek(&args, "empty"), "");
	cr_assert_null(duet_args_peek(&args, "absent"));
}

Test(args, value_may_contain_equals)
{
	cr_assert_eq(duet_args_add(&args, "q=a=b", err, sizeof(err)), 0);
	cr_assert_str_eq(duet_args_peek(&args, "q"), "a=b");
}

Test(args, malformed_tokens_are_rejected_with_a_message)
{
	const char *bad[] = {"novalue", "=x", "UPPER=1", "sp ace=1",
			     "waytoolongkeywaytoolongkeywaytoolong=1", "k\x01=1"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(duet_args_add(&args, bad[i], err, sizeof(err)), -EINVAL,
			     "accepted '%s'", bad[i]);
		cr_assert_neq(err[0], '\0', "no message for '%s'", bad[i]);
	}
	cr_assert_eq(args.count, 0);
}

Test(args, duplicate_key_is_an_error)
{
	cr_assert_eq(duet_args_add(&args, "a=1", err, sizeof(err)), 0);
	cr_assert_eq(duet_args_add(&args, "a=2", err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "twice") != NULL, "%s", err);
}

Test(args, unterminated_quote_is_an_error)
{
	cr_assert_eq(duet_args_parse_line(&args, "a=\"open", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "quote") != NULL, "%s", err);
}

Test(args, too_many_and_too_long_are_enospc)
{
	char tok[32];
	for (int i = 0; i < DUET_ARGS_MAX; i++) {
		snprintf(tok, sizeof(tok), "k%d=v", i);
		cr_assert_eq(duet_args_add(&args, tok, err, sizeof(err)), 0);
	}
	cr_assert_eq(duet_args_add(&args, "one=more", err, sizeof(err)), -ENOSPC);

	static char big[DUET_ARGS_BUF + 16];
	duet_args_init(&args);
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "big=", 4);
	cr_assert_eq(duet_args_add(&args, big, err, sizeof(err)), -ENOSPC);
	cr_assert_eq(args.count, 0);
	cr_assert_eq(args.buf_used, 0);
}

Test(args, int_getter_defaults_parses_and_checks_range)
{
	long long v;
	duet_args_parse_line(&args, "n=42 neg=-7 bad=4x2 big=99999999999999999999 hi=11",
			     err, sizeof(err));
	cr_assert_eq(duet_args_get_int(&args, "absent", 5, 0, 10, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(duet_args_get_int(&args, "n", 0, 0, 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(duet_args_get_int(&args, "neg", 0, -10, 10, &v), 0);
	cr_assert_eq(v, -7);
	cr_assert_eq(duet_args_get_int(&args, "bad", 0, 0, 100, &v), -EINVAL);
	cr_assert_eq(duet_args_get_int(&args, "big", 0, 0, 100, &v), -ERANGE);
	cr_assert_eq(duet_args_get_int(&args, "hi", 0, 0, 10, &v), -ERANGE);
	cr_assert(strstr(fakeplat_console(), "bad=4x2: not an integer") != NULL,
		  "%s", fakeplat_console());
}

Test(args, parse_int_limits)
{
	long long v;
	cr_assert_eq(duet_parse_int("9223372036854775807", &v), 0);
	cr_assert_eq(v, 9223372036854775807LL);
	cr_assert_eq(duet_parse_int("-9223372036854775808", &v), 0);
	cr_assert_eq(v, -9223372036854775807LL - 1);
	cr_assert_eq(duet_parse_int("9223372036854775808", &v), -ERANGE);
	cr_assert_eq(duet_parse_int("", &v), -EINVAL);
	cr_assert_eq(duet_parse_int("-", &v), -EINVAL);
	cr_assert_eq(duet_parse_int(" 1", &v), -EINVAL);
}

Test(args, bool_getter)
{
	bool b;
	duet_args_parse_line(&args, "a=yes b=off c= d=maybe", err, sizeof(err));
	cr_assert_eq(duet_args_get_bool(&args, "a", false, &b), 0);
	cr_assert(b);
	cr_assert_eq(duet_args_get_bool(&args, "b", true, &b), 0);
	cr_assert(!b);
	cr_assert_eq(duet_args_get_bool(&args, "c", false, &b), 0);
	cr_assert(b);
	cr_assert_eq(duet_args_get_bool(&args, "d", false, &b), -EINVAL);
	cr_assert_eq(duet_args_get_bool(&args, "e", true, &b), 0);
	cr_assert(b);
}

Test(args, size_parser)
{
	uint64_t v;
	cr_assert_eq(duet_parse_size("512", &v), 0);
	cr_assert_eq(v, 512);
	cr_assert_eq(duet_parse_size("64k", &v), 0);
	cr_assert_eq(v, 65536);
	cr_assert_eq(duet_parse_size("16M", &v), 0);
	cr_assert_eq(v, 16u << 20);
	cr_assert_eq(duet_parse_size("2G", &v), 0);
	cr_assert_eq(v, UINT64_C(2) << 30);
	cr_assert_eq(duet_parse_size("1T", &v), -EINVAL);
	cr_assert_eq(duet_parse_size("1kk", &v), -EINVAL);
	cr_assert_eq(duet_parse_size("k", &v), -EINVAL);
	cr_assert_eq(duet_parse_size("-1", &v), -EINVAL);
	cr_assert_eq(duet_parse_size("99999999999G", &v), -ERANGE);
}

Test(args, duration_parser)
{
	duet_time_t v;
	cr_assert_eq(duet_parse_duration("250us", &v), 0);
	cr_assert_eq(v, 250 * DUET_NSEC_PER_USEC);
	cr_assert_eq(duet_parse_duration("10ms", &v), 0);
	cr_assert_eq(v, DUET_MSEC(10));
	cr_assert_eq(duet_parse_duration("5s", &v), 0);
	cr_assert_eq(v, DUET_SEC(5));
	cr_assert_eq(duet_parse_duration("2m", &v), 0);
	cr_assert_eq(v, DUET_SEC(120));
	cr_assert_eq(duet_parse_duration("1h", &v), 0);
	cr_assert_eq(v, DUET_SEC(3600));
	cr_assert_eq(duet_parse_duration("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(duet_parse_duration("5", &v), -EINVAL);
	cr_assert_eq(duet_parse_duration("5 s", &v), -EINVAL);
	cr_assert_eq(duet_parse_duration("5sec", &v), -EINVAL);
	cr_assert_eq(duet_parse_duration("ms", &v), -EINVAL);
	cr_assert_eq(duet_parse_duration("99999999999999h", &v), -ERANGE);
}

Test(args, getters_mark_keys_used_and_unused_lists_the_rest)
{
	const char *s;
	duet_args_parse_line(&args, "a=1 typo=2 c=3", err, sizeof(err));
	duet_args_get_str(&args, "a", NULL, &s);
	duet_args_get_str(&args, "c", NULL, &s);
	cr_assert_str_eq(s, "3");
	cr_assert_str_eq(duet_args_unused(&args, 0), "typo");
	cr_assert_null(duet_args_unused(&args, 1));
	/* A failed parse still counts as asked for: the error was reported. */
	long long v;
	duet_args_get_int(&args, "typo", 0, 0, 1, &v);
	cr_assert_null(duet_args_unused(&args, 0));
}
