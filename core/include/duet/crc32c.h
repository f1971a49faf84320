/* CRC-32C, for the stores and the replay log (sliced by 8: eight bytes a
 * step). Chain calls by passing the
 * previous result as `crc` (start with 0): crc32c(crc32c(0, a), b) ==
 * crc32c(0, a || b). */
#ifndef DUET_CRC32C_H
#define DUET_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t duet__crc32c(uint32_t crc, const void *buf, size_t len);

#endif
