/* duet/text.h: the parsers' character helpers, checked over every byte
 * against the C library's own reading of the same character. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>

#include <duet/text.h>

Test(text, hex_digit_agrees_with_strtol_on_every_byte)
{
	unsigned digits = 0;

	for (int c = -128; c < 256; c++) {
		char s[2] = {(char)c, '\0'}, *end;
		long v = strtol(s, &end, 16);
		bool is_digit = c > 0 && c < 128 && isxdigit(c);

		if (is_digit) {
			digits++;
			cr_assert_eq(end, s + 1);
			cr_assert_eq(duet_hex_digit(c), v, "on '%c'", c);
		} else {
			cr_assert_eq(duet_hex_digit(c), -1, "on byte %d", c);
		}
	}
	cr_assert_eq(digits, 22, "0-9, a-f and A-F");
}

Test(text, hex_digit_values)
{
	cr_assert_eq(duet_hex_digit('0'), 0);
	cr_assert_eq(duet_hex_digit('9'), 9);
	cr_assert_eq(duet_hex_digit('a'), 10);
	cr_assert_eq(duet_hex_digit('F'), 15);
	cr_assert_eq(duet_hex_digit('g'), -1);
	cr_assert_eq(duet_hex_digit('/'), -1);
	cr_assert_eq(duet_hex_digit(':'), -1);
	cr_assert_eq(duet_hex_digit('@'), -1);
	cr_assert_eq(duet_hex_digit('`'), -1);
	cr_assert_eq(duet_hex_digit('\0'), -1);
}
