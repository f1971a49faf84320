/* The virtio-net header of a tap (vnet.h). */
#include <string.h>

#include <duet/netif.h>

#include "vnet.h"

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2); /* the host's byte order */
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

void duet__vnet_hdr_put(uint8_t *out, bool csum, unsigned csum_start,
			unsigned csum_offset)
{
	memset(out, 0, VNET_HDR_LEN);
	if (!csum)
		return;
	out[0] = VNET_F_NEEDS_CSUM;
	put16(out + 6, (uint16_t)csum_start);
	put16(out + 8, (uint16_t)csum_offset);
}

/* Where the TCP or UDP header of an unfragmented IPv4 or IPv6 packet in
 * this Ethernet frame starts (*proto: 6 or 17), or 0 for any other frame. */
static size_t l4_offset(const uint8_t *f, size_t len, unsigned *proto)
{
	if (len < DUET_ETH_HLEN + 1)
		return 0;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	const uint8_t *ip = f + DUET_ETH_HLEN;
	size_t l4;

	if (type == 0x0800) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		if ((ip[0] >> 4) != 4 || ihl < 20 || len < DUET_ETH_HLEN + ihl)
			return 0;
		/* More fragments, or a fragment offset: a piece. */
		if (((ip[6] & 0x3f) | ip[7]) != 0)
			return 0;
		*proto = ip[9];
		l4 = DUET_ETH_HLEN + ihl;
	} else if (type == 0x86dd) {
		if (len < DUET_ETH_HLEN + 40 || (ip[0] >> 4) != 6)
			return 0;
		*proto = ip[6]; /* extension headers: not plain */
		l4 = DUET_ETH_HLEN + 40;
	} else {
		return 0;
	}
	if (*proto != 6 && *proto != 17)
		return 0;
	return l4;
}

/* The Internet checksum of bytes [start, len) stored at start + offset. */
static void csum_complete(uint8_t *f, size_t len, size_t start, size_t offset)
{
	uint32_t sum = 0;
	size_t i;

	for (i = start; i + 1 < len; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	if (i < len)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	f[start + offset] = (uint8_t)(c >> 8);
	f[start + offset + 1] = (uint8_t)c;
}

long duet__vnet_rx(uint8_t *buf, size_t n, bool *csum_valid)
{
	struct vnet_hdr h;

	*csum_valid = false;
	if (n < VNET_HDR_LEN + DUET_ETH_HLEN)
		return -1;
	h.flags = buf[0];
	h.gso_type = buf[1];
	h.csum_start = get16(buf + 6);
	h.csum_offset = get16(buf + 8);
	if ((h.flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) != 0 ||
	    h.gso_type != VNET_GSO_NONE)
		return -1;

	uint8_t *f = buf + VNET_HDR_LEN;
	size_t len = n - VNET_HDR_LEN;
	unsigned proto = 0;
	size_t l4 = l4_offset(f, len, &proto);

	if (h.flags & VNET_F_NEEDS_CSUM) {
		size_t start = h.csum_start, off = h.csum_offset;
		/* An odd offset is no protocol's and would sum the field
		 * across two words. */
		if (start < DUET_ETH_HLEN || start + off + 2 > len || off % 2)
			return -1;
		if (l4 != 0 && start == l4 && off == (proto == 6 ? 16u : 6u) &&
		    start + (proto == 6 ? 20u : 8u) <= len) {
			*csum_valid = true;
		} else {
			csum_complete(f, len, start, off);
		}
	} else if (h.flags & VNET_F_DATA_VALID) {
		*csum_valid = l4 != 0;
	}
	return (long)len;
}
