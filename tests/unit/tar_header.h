/* A ustar header for the tests that build tar images (the storage tests
 * and the fuzz targets' seeds): no test framework needed. */
#ifndef DUET_TEST_TAR_HEADER_H
#define DUET_TEST_TAR_HEADER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A ustar header for a regular file of `size` bytes (mode 644, a fixed
 * mtime), checksum included, into h[0..512). */
static inline void tar_file_header(uint8_t *h, const char *name, size_t size)
{
	unsigned sum = 0;
	char num[24];

	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	memcpy(h + 100, "0000644", 7);
	snprintf(num, sizeof(num), "%011zo", size);
	memcpy(h + 124, num, 12);
	memcpy(h + 136, "14000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

#endif
