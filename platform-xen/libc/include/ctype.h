/* ctype.h — character classes of the "C" locale (Duet's freestanding libc).
 *
 * Arguments are EOF or a value representable as unsigned char; anything
 * else is classified as nothing and returned unchanged by the conversions.
 * Bytes 128-255 belong to no class, as in glibc's "C" locale.
 */
#ifndef DUET_LIBC_CTYPE_H
#define DUET_LIBC_CTYPE_H

int isalnum(int c);
int isalpha(int c);
int isblank(int c);
int iscntrl(int c);
int isdigit(int c);
int isgraph(int c);
int islower(int c);
int isprint(int c);
int ispunct(int c);
int isspace(int c);
int isupper(int c);
int isxdigit(int c);
int tolower(int c);
int toupper(int c);

#endif
