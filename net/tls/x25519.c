/* X25519 (RFC 7748) on 64-bit limbs, for net/tls/ec64.c's br_ec_impl:
 * field elements in radix 2^51 (five limbs), the Montgomery ladder with
 * constant-time swaps, inversion by Fermat's little theorem. Conventions
 * as BearSSL's: a 32-byte little-endian u-coordinate whose top bit is
 * ignored, a little-endian scalar of at most 32 bytes, clamped. */
#include <string.h>

#include "tls_priv.h"

typedef unsigned __int128 u128;

typedef uint64_t fe25519[5];

#define M51 ((uint64_t)0x7ffffffffffff)

static uint64_t load64_le(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void fe_frombytes(fe25519 h, const unsigned char s[32])
{
	h[0] = load64_le(s) & M51;
	h[1] = (load64_le(s + 6) >> 3) & M51;
	h[2] = (load64_le(s + 12) >> 6) & M51;
	h[3] = (load64_le(s + 19) >> 1) & M51;
	h[4] = (load64_le(s + 24) >> 12) & M51;
}

/* Limbs below 2^52 after a multiplication; adds keep them below 2^54. */
static void fe_carry(fe25519 h)
{
	uint64_t c;

	c = h[0] >> 51, h[0] &= M51, h[1] += c;
	c = h[1] >> 51, h[1] &= M51, h[2] += c;
	c = h[2] >> 51, h[2] &= M51, h[3] += c;
	c = h[3] >> 51, h[3] &= M51, h[4] += c;
	c = h[4] >> 51, h[4] &= M51, h[0] += c * 19;
	c = h[0] >> 51, h[0] &= M51, h[1] += c;
}

static void fe_tobytes(unsigned char s[32], const fe25519 f)
{
	fe25519 h;
	uint64_t q;

	memcpy(h, f, sizeof(h));
	fe_carry(h);
	fe_carry(h);
	/* h < 2^255 + small: subtract p once if h >= p, without branching:
	 * q = 1 exactly when h + 19 >= 2^255. */
	q = (h[0] + 19) >> 51;
	q = (h[1] + q) >> 51;
	q = (h[2] + q) >> 51;
	q = (h[3] + q) >> 51;
	q = (h[4] + q) >> 51;
	h[0] += 19 * q;
	for (int i = 0; i < 4; i++) {
		h[i + 1] += h[i] >> 51;
		h[i] &= M51;
	}
	h[4] &= M51;

	uint64_t w[4] = {
	    h[0] | h[1] << 51,
	    h[1] >> 13 | h[2] << 38,
	    h[2] >> 26 | h[3] << 25,
	    h[3] >> 39 | h[4] << 12,
	};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			s[8 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

static void fe_add(fe25519 h, const fe25519 f, const fe25519 g)
{
	for (int i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
}

/* f - g, with 4p added so no limb goes negative (inputs below 2^54). */
static void fe_sub(fe25519 h, const fe25519 f, const fe25519 g)
{
	static const uint64_t p4[5] = {
	    0x1fffffffffffb4, 0x1ffffffffffffc, 0x1ffffffffffffc,
	    0x1ffffffffffffc, 0x1ffffffffffffc,
	};
	for (int i = 0; i < 5; i++)
		h[i] = f[i] + p4[i] - g[i];
	fe_carry(h);
}

/* The five 128-bit column sums of a product, carried into limbs. */
static void fe_carry128(fe25519 h, u128 t0, u128 t1, u128 t2, u128 t3, u128 t4)
{
	uint64_t c;

	t1 += (uint64_t)(t0 >> 51);
	h[0] = (uint64_t)t0 & M51;
	t2 += (uint64_t)(t1 >> 51);
	h[1] = (uint64_t)t1 & M51;
	t3 += (uint64_t)(t2 >> 51);
	h[2] = (uint64_t)t2 & M51;
	t4 += (uint64_t)(t3 >> 51);
	h[3] = (uint64_t)t3 & M51;
	c = (uint64_t)(t4 >> 51);
	h[4] = (uint64_t)t4 & M51;
	h[0] += c * 19;
	h[1] += h[0] >> 51;
	h[0] &= M51;
}

/* 2^255 = 19 (mod p): a column past limb 4 comes back times 19. */
static void fe_mul(fe25519 h, const fe25519 f, const fe25519 g)
{
	uint64_t g1 = g[1] * 19, g2 = g[2] * 19, g3 = g[3] * 19, g4 = g[4] * 19;

	fe_carry128(h,
		    (u128)f[0] * g[0] + (u128)f[1] * g4 + (u128)f[2] * g3 +
			(u128)f[3] * g2 + (u128)f[4] * g1,
		    (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4 +
			(u128)f[3] * g3 + (u128)f[4] * g2,
		    (u128)f[0] * g[2] + (u128)f[1] * g[1] + (u128)f[2] * g[0] +
			(u128)f[3] * g4 + (u128)f[4] * g3,
		    (u128)f[0] * g[3] + (u128)f[1] * g[2] + (u128)f[2] * g[1] +
			(u128)f[3] * g[0] + (u128)f[4] * g4,
		    (u128)f[0] * g[4] + (u128)f[1] * g[3] + (u128)f[2] * g[2] +
			(u128)f[3] * g[1] + (u128)f[4] * g[0]);
}

/* A square: each cross product once, doubled (15 products, not 25). */
static void fe_sq(fe25519 h, const fe25519 f)
{
	uint64_t f0_2 = 2 * f[0], f1_2 = 2 * f[1], f1_38 = 38 * f[1],
		 f2_38 = 38 * f[2], f3_38 = 38 * f[3], f3_19 = 19 * f[3],
		 f4_19 = 19 * f[4];

	fe_carry128(h,
		    (u128)f[0] * f[0] + (u128)f1_38 * f[4] + (u128)f2_38 * f[3],
		    (u128)f0_2 * f[1] + (u128)f2_38 * f[4] + (u128)f3_19 * f[3],
		    (u128)f0_2 * f[2] + (u128)f[1] * f[1] + (u128)f3_38 * f[4],
		    (u128)f0_2 * f[3] + (u128)f1_2 * f[2] + (u128)f4_19 * f[4],
		    (u128)f0_2 * f[4] + (u128)f1_2 * f[3] + (u128)f[2] * f[2]);
}

static void fe_sqn(fe25519 h, const fe25519 f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

static void fe_mul_a24(fe25519 h, const fe25519 f)
{
	uint64_t c = 0;

	for (int i = 0; i < 5; i++) {
		u128 t = (u128)f[i] * 121665 + c;
		h[i] = (uint64_t)t & M51;
		c = (uint64_t)(t >> 51);
	}
	h[0] += c * 19;
	h[1] += h[0] >> 51;
	h[0] &= M51;
}

/* z^(p-2) = z^(2^255 - 21). */
static void fe_invert(fe25519 out, const fe25519 z)
{
	fe25519 z2, z9, z11, a, b, c;

	fe_sq(z2, z);
	fe_sqn(a, z2, 2);
	fe_mul(z9, a, z);
	fe_mul(z11, z9, z2);
	fe_sq(a, z11);
	fe_mul(a, a, z9); /* 2^5 - 1 */
	fe_sqn(b, a, 5);
	fe_mul(a, b, a); /* 2^10 - 1 */
	fe_sqn(b, a, 10);
	fe_mul(b, b, a); /* 2^20 - 1 */
	fe_sqn(c, b, 20);
	fe_mul(c, c, b); /* 2^40 - 1 */
	fe_sqn(c, c, 10);
	fe_mul(b, c, a); /* 2^50 - 1 */
	fe_sqn(c, b, 50);
	fe_mul(c, c, b); /* 2^100 - 1 */
	fe_sqn(a, c, 100);
	fe_mul(a, a, c); /* 2^200 - 1 */
	fe_sqn(a, a, 50);
	fe_mul(a, a, b); /* 2^250 - 1 */
	fe_sqn(a, a, 5);
	fe_mul(out, a, z11); /* 2^255 - 32 + 11 */
}

static void fe_cswap(fe25519 f, fe25519 g, uint64_t bit)
{
	uint64_t mask = 0 - bit;

	for (int i = 0; i < 5; i++) {
		uint64_t t = mask & (f[i] ^ g[i]);
		f[i] ^= t;
		g[i] ^= t;
	}
}

uint32_t duet__tls_x25519(unsigned char *G, size_t Glen,
			  const unsigned char *kb, size_t kblen)
{
	fe25519 x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb, t;
	unsigned char k[32];
	uint64_t swap = 0;

	if (Glen != 32 || kblen > 32)
		return 0;
	G[31] &= 0x7f;
	fe_frombytes(x1, G);
	memset(k, 0, sizeof(k));
	memcpy(k, kb, kblen);
	k[0] &= 0xf8;
	k[31] &= 0x7f;
	k[31] |= 0x40;

	memset(x2, 0, sizeof(x2));
	x2[0] = 1;
	memset(z2, 0, sizeof(z2));
	memcpy(x3, x1, sizeof(x1));
	memset(z3, 0, sizeof(z3));
	z3[0] = 1;
	for (int i = 254; i >= 0; i--) {
		uint64_t bit = (uint64_t)(k[i >> 3] >> (i & 7)) & 1;

		swap ^= bit;
		fe_cswap(x2, x3, swap);
		fe_cswap(z2, z3, swap);
		swap = bit;

		fe_add(a, x2, z2);
		fe_sq(aa, a);
		fe_sub(b, x2, z2);
		fe_sq(bb, b);
		fe_sub(e, aa, bb);
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(da, d, a);
		fe_mul(cb, c, b);
		fe_add(t, da, cb);
		fe_sq(x3, t);
		fe_sub(t, da, cb);
		fe_sq(t, t);
		fe_mul(z3, x1, t);
		fe_mul(x2, aa, bb);
		fe_mul_a24(t, e);
		fe_add(t, aa, t);
		fe_mul(z2, e, t);
	}
	fe_cswap(x2, x3, swap);
	fe_cswap(z2, z3, swap);
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_tobytes(G, x2);
	memset(k, 0, sizeof(k));
	return 1;
}
