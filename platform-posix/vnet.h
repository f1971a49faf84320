/* The virtio-net header a tap opened with IFF_VNET_HDR puts before every
 * frame, both ways (the legacy 10-byte layout, in the host's byte order as
 * on every little-endian host; virtio 1.x section 5.1.6), and what the tap
 * driver makes of one: a pure parser, fuzzed (tests/fuzz/vnet_fuzz.c). */
#ifndef DUET_POSIX_VNET_H
#define DUET_POSIX_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_HDR_LEN 10

#define VNET_F_NEEDS_CSUM 1 /* checksum to complete: csum_start/offset */
#define VNET_F_DATA_VALID 2 /* the host checked the checksum */
#define VNET_GSO_NONE	  0

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* The header for a frame Duet sends: NEEDS_CSUM at (start, offset) when
 * csum is true, else all zero. Writes VNET_HDR_LEN bytes. */
void duet__vnet_hdr_put(uint8_t *out, bool csum, unsigned csum_start,
			unsigned csum_offset);

/* A received buffer, header then frame (the frame may be modified: a
 * checksum the host left to complete is completed in place). Returns the
 * frame's length (its bytes start at buf + VNET_HDR_LEN) or -1 for a
 * buffer to drop: too short, unknown flags, a GSO frame (the tap is not
 * offered TSO, so it must not send one), a checksum place outside the
 * frame or at an odd offset. *csum_valid says whether the frame's TCP or UDP checksum can be
 * trusted without checking: the host said so (DATA_VALID) or left it for
 * the device (NEEDS_CSUM, the host's own packet) at the place a TCP or UDP
 * checksum of an unfragmented IPv4 or IPv6 packet is. Any other partial
 * checksum is completed here and left for the stack to check. */
long duet__vnet_rx(uint8_t *buf, size_t n, bool *csum_valid);

#endif
