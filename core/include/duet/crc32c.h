/* CRC-32C, for the stores and the replay log. Chain calls by passing the
 * previous result as `crc` (start with 0): crc32c(crc32c(0, a), b) ==
 * crc32c(0, a || b). */
#ifndef DUET_CRC32C_H
#define DUET_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t duet__crc32c(uint32_t crc, const void *buf, size_t len);

/* The same checksum several times faster, for the hot paths (the replay
 * recorder checksums every frame): 8 KiB of tables that the caller keeps,
 * filled once by duet__crc32c_tables(). */
struct duet_crc32c_tables {
	uint32_t t[8][256];
};
void duet__crc32c_tables(struct duet_crc32c_tables *t);
uint32_t duet__crc32c_sliced(const struct duet_crc32c_tables *t, uint32_t crc,
			     const void *buf, size_t len);

#endif
