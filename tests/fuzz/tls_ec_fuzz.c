/* The curve code a TLS peer's key share reaches (net/tls/ec64.c): the
 * ClientKeyExchange point is decoded and multiplied by the server's
 * secret. Differential: for any bytes, duet__tls_ec and BearSSL's m31
 * code give the same verdict on the point and, for a scalar the
 * interface allows (1 .. n-1 on P-256), the same product.
 *
 * Input: a mode byte, then bytes.
 *   mode % 4 == 0  X25519: a 32-byte u-coordinate, a scalar (<= 32 bytes)
 *   mode % 4 == 1  P-256: a 65-byte encoding as given, a scalar
 *   mode % 4 == 2  P-256: a point made valid (a scalar times G), a scalar
 *   mode % 4 == 3  P-256: the generator times the scalar (mulgen) */
#include <string.h>

#include "fuzz.h"
#include "tls_priv.h"

/* 1 if the big-endian k (len bytes) is in 1 .. n - 1. */
static bool in_range(const unsigned char *k, size_t len)
{
	size_t nlen;
	const unsigned char *n = br_ec_p256_m31.order(BR_EC_secp256r1, &nlen);
	unsigned char e[32] = {0};
	bool zero = true;

	if (len > 32)
		return false;
	memcpy(e + 32 - len, k, len);
	for (size_t i = 0; i < 32; i++)
		zero &= e[i] == 0;
	return !zero && memcmp(e, n, 32) < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char a[65], b[65];
	const unsigned char *k;
	size_t klen;

	if (size < 1)
		return 0;
	unsigned mode = data[0] % 4;
	data++, size--;
	switch (mode) {
	case 0:
		if (size < 32)
			return 0;
		memcpy(a, data, 32);
		memcpy(b, data, 32);
		k = data + 32;
		klen = size - 32;
		FUZZ_CHECK(
		    duet__tls_ec.mul(a, 32, k, klen, BR_EC_curve25519) ==
		    br_ec_c25519_m31.mul(b, 32, k, klen, BR_EC_curve25519));
		if (klen <= 32)
			FUZZ_CHECK(memcmp(a, b, 32) == 0);
		return 0;
	case 1:
		if (size < 65)
			return 0;
		memcpy(a, data, 65);
		k = data + 65;
		klen = size - 65;
		break;
	case 2:
		if (size < 32 || !in_range(data, 32))
			return 0;
		FUZZ_CHECK(
		    br_ec_p256_m31.mulgen(a, data, 32, BR_EC_secp256r1) == 65);
		k = data + 32;
		klen = size - 32;
		break;
	default:
		if (!in_range(data, size))
			return 0;
		FUZZ_CHECK(
		    duet__tls_ec.mulgen(a, data, size, BR_EC_secp256r1) == 65);
		FUZZ_CHECK(br_ec_p256_m31.mulgen(b, data, size,
						 BR_EC_secp256r1) == 65);
		FUZZ_CHECK(memcmp(a, b, 65) == 0);
		return 0;
	}
	memcpy(b, a, 65);
	uint32_t ours = duet__tls_ec.mul(a, 65, k, klen, BR_EC_secp256r1);
	uint32_t theirs = br_ec_p256_m31.mul(b, 65, k, klen, BR_EC_secp256r1);
	if (!in_range(k, klen))
		return 0; /* the interface leaves the product undefined */
	FUZZ_CHECK(ours == theirs);
	if (ours)
		FUZZ_CHECK(memcmp(a, b, 65) == 0);
	return 0;
}
