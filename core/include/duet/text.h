/* duet/text.h — small helpers for parsers of text.
 *
 * Inline and free of libc so that every parser shares them, in the core,
 * the apps and the Xen platform's freestanding code alike. They read one
 * character and never look at a locale: protocols are ASCII.
 */
#ifndef DUET_TEXT_H
#define DUET_TEXT_H

/* The value of a hexadecimal digit (0-9, a-f, A-F), or -1 for any other
 * character. */
static inline int duet_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
