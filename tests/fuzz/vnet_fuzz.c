/* The tap's virtio-net header parser (platform-posix/vnet.c) on any bytes
 * a tap could hand over: header flags, GSO types, checksum places inside
 * and outside the frame, truncated IPv4 and IPv6 headers. A buffer is
 * dropped or gives a frame that ends where the buffer does; a partial
 * checksum it completes sums right; a frame it vouches for is one whose
 * header said so; nothing outside the buffer is read (ASan).
 *
 * Input: the buffer as read from the tap. */
#include "fuzz.h"
#include "vnet.h"

/* The Internet sum of f[start, len), folded: 0xffff when a stored
 * checksum in that range is right. */
static uint16_t fold_sum(const uint8_t *f, size_t start, size_t len)
{
	uint64_t sum = 0;

	/* Byte by byte, high then low: another way than vnet.c's. */
	for (size_t i = start; i < len; i++)
		sum += ((i - start) & 1) ? f[i] : (uint64_t)f[i] << 8;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1); /* exactly sized for ASan */
	bool valid = true;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	long n = duet__vnet_rx(buf, size, &valid);
	if (n < 0) {
		FUZZ_CHECK(!valid);
		free(buf);
		return 0;
	}
	FUZZ_CHECK((size_t)n + VNET_HDR_LEN == size);
	FUZZ_CHECK(n >= 14);
	FUZZ_CHECK(data[1] == VNET_GSO_NONE);
	FUZZ_CHECK((data[0] & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) == 0);
	size_t start, off;
	uint16_t s16, o16;
	memcpy(&s16, data + 6, 2);
	memcpy(&o16, data + 8, 2);
	start = s16;
	off = o16;
	if (data[0] & VNET_F_NEEDS_CSUM) {
		FUZZ_CHECK(start + off + 2 <= (size_t)n);
		if (valid) {
			/* Left partial for the stack to trust: untouched. */
			FUZZ_CHECK(memcmp(buf, data, size) == 0);
		} else {
			/* The field held the pseudo-header's sum, which the
			 * checksum now covers: with it added back, it
			 * verifies. */
			const uint8_t *field = data + VNET_HDR_LEN + start + off;
			uint32_t v = fold_sum(buf + VNET_HDR_LEN, start,
					      (size_t)n) +
				     (uint32_t)(field[0] << 8 | field[1]);
			v = (v & 0xffff) + (v >> 16);
			FUZZ_CHECK(off % 2 == 0 && v == 0xffff);
		}
	} else {
		FUZZ_CHECK(memcmp(buf, data, size) == 0);
		if (valid)
			FUZZ_CHECK(data[0] & VNET_F_DATA_VALID);
	}

	/* What the driver writes parses back to the same request. */
	uint8_t hdr[VNET_HDR_LEN];
	duet__vnet_hdr_put(hdr, (data[0] & 1) != 0, s16, o16);
	FUZZ_CHECK(hdr[0] == (data[0] & 1) && hdr[1] == 0);
	FUZZ_CHECK(!(hdr[0] & 1) || memcmp(hdr + 6, data + 6, 4) == 0);
	free(buf);
	return 0;
}
