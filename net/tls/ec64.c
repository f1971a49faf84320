/* Curve arithmetic on 64-bit limbs for the TLS handshake: X25519 and P-256,
 * behind BearSSL's br_ec_impl so the engines use it for ECDHE and ECDSA.
 *
 * BearSSL 0.6 ships only 15- and 31-bit limb code (m15/m31); a full
 * handshake spends most of its time there (one ECDSA signature and two
 * X25519 operations). With 64x64->128 multiplications, which the compiler
 * emits as one instruction on x86_64, the same operations take a fraction
 * of that. Both are written for constant time: no branch and no memory
 * index depends on a secret (scalar bits select by masks; the window table
 * is read whole).
 *
 * - X25519 (RFC 7748): field elements in radix 2^51 (five limbs), the
 *   Montgomery ladder, inversion by Fermat's little theorem. Same
 *   conventions as BearSSL's: a 32-byte little-endian u-coordinate whose
 *   top bit is ignored, a little-endian scalar of at most 32 bytes,
 *   clamped.
 * - P-256: four 64-bit limbs in Montgomery form (R = 2^256), projective
 *   coordinates and the complete addition formula of Renes, Costello and
 *   Batina (2016, algorithm 4 with a = -3), so the point at infinity and
 *   doubling need no special case; a 4-bit fixed window over a table
 *   built per call, and for the generator a comb over a table made once.
 *   Points are 65-byte uncompressed encodings, checked on
 *   the curve; scalars big-endian.
 *
 * ECDSA verification (muladd) goes to BearSSL's m31 code (a server checks
 * no signature in a handshake), P-384 and P-521 to its i31 code.
 */
#include <stdbool.h>
#include <string.h>

#include "tls_priv.h"

typedef unsigned __int128 u128;

/* ------------------------------------------------------------ X25519 */

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
static void fe_carry128(fe25519 h, u128 t0, u128 t1, u128 t2, u128 t3,
			u128 t4)
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
	uint64_t g1 = g[1] * 19, g2 = g[2] * 19, g3 = g[3] * 19,
		 g4 = g[4] * 19;

	fe_carry128(h,
		    (u128)f[0] * g[0] + (u128)f[1] * g4 + (u128)f[2] * g3 +
			(u128)f[3] * g2 + (u128)f[4] * g1,
		    (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4 +
			(u128)f[3] * g3 + (u128)f[4] * g2,
		    (u128)f[0] * g[2] + (u128)f[1] * g[1] +
			(u128)f[2] * g[0] + (u128)f[3] * g4 + (u128)f[4] * g3,
		    (u128)f[0] * g[3] + (u128)f[1] * g[2] +
			(u128)f[2] * g[1] + (u128)f[3] * g[0] + (u128)f[4] * g4,
		    (u128)f[0] * g[4] + (u128)f[1] * g[3] +
			(u128)f[2] * g[2] + (u128)f[3] * g[1] +
			(u128)f[4] * g[0]);
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

static uint32_t x25519(unsigned char *G, size_t Glen, const unsigned char *kb,
		       size_t kblen)
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

/* ------------------------------------------------------------- P-256 */

typedef uint64_t fp[4]; /* little-endian limbs, Montgomery form, < p */

static const fp P256 = {0xffffffffffffffff, 0x00000000ffffffff, 0,
			0xffffffff00000001};

/* Returns the borrow of r = a - b. */
static uint64_t sub4(fp r, const fp a, const fp b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		u128 t = (u128)a[i] - b[i] - borrow;
		r[i] = (uint64_t)t;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	return borrow;
}

/* r = t - p if hi or t >= p, else t (t + hi * 2^256 < 2p). */
static void fp_reduce_once(fp r, const fp t, uint64_t hi)
{
	fp u;
	uint64_t borrow = sub4(u, t, P256);
	uint64_t keep = 0 - (borrow & (hi ^ 1)); /* all ones: keep t */

	for (int i = 0; i < 4; i++)
		r[i] = (t[i] & keep) | (u[i] & ~keep);
}

static void fp_add(fp r, const fp a, const fp b)
{
	fp t;
	uint64_t carry = 0;

	for (int i = 0; i < 4; i++) {
		u128 s = (u128)a[i] + b[i] + carry;
		t[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	fp_reduce_once(r, t, carry);
}

static void fp_sub(fp r, const fp a, const fp b)
{
	fp t;
	uint64_t mask = 0 - sub4(t, a, b), carry = 0;

	for (int i = 0; i < 4; i++) {
		u128 s = (u128)t[i] + (P256[i] & mask) + carry;
		r[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
}

/* Montgomery multiplication, r = a * b / 2^256 mod p (CIOS, unrolled).
 * p = -1 mod 2^64, so each round's multiple of p is m = the low word, and
 * with p's limbs (2^64 - 1, 2^32 - 1, 0, 2^64 - 2^32 + 1) adding m * p
 * leaves m as the carry out of the cancelled low word. */
#define FP_ROUND(bi)                                                        \
	do {                                                                \
		u128 c = (u128)a[0] * (bi) + t0;                            \
		t0 = (uint64_t)c;                                           \
		c = (c >> 64) + (u128)a[1] * (bi) + t1;                     \
		t1 = (uint64_t)c;                                           \
		c = (c >> 64) + (u128)a[2] * (bi) + t2;                     \
		t2 = (uint64_t)c;                                           \
		c = (c >> 64) + (u128)a[3] * (bi) + t3;                     \
		t3 = (uint64_t)c;                                           \
		c = (c >> 64) + t4;                                         \
		t4 = (uint64_t)c;                                           \
		uint64_t t5 = (uint64_t)(c >> 64), m = t0;                  \
		c = (u128)m + (u128)m * 0x00000000ffffffffu + t1;           \
		t0 = (uint64_t)c;                                           \
		c = (c >> 64) + t2;                                         \
		t1 = (uint64_t)c;                                           \
		c = (c >> 64) + (u128)m * 0xffffffff00000001u + t3;         \
		t2 = (uint64_t)c;                                           \
		c = (c >> 64) + t4;                                         \
		t3 = (uint64_t)c;                                           \
		t4 = t5 + (uint64_t)(c >> 64);                              \
	} while (0)

static void fp_mul(fp r, const fp a, const fp b)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;

	FP_ROUND(b[0]);
	FP_ROUND(b[1]);
	FP_ROUND(b[2]);
	FP_ROUND(b[3]);
	const fp t = {t0, t1, t2, t3};
	fp_reduce_once(r, t, t4);
}

/* 2^256 mod p and 2^512 mod p, derived rather than transcribed. */
static void fp_consts(fp one, fp r2)
{
	static const fp zero = {0, 0, 0, 0};

	sub4(one, zero, P256); /* 2^256 - p */
	memcpy(r2, one, sizeof(fp));
	for (int i = 0; i < 256; i++)
		fp_add(r2, r2, r2);
}

static void fp_from_be(fp r, const unsigned char *b)
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | b[8 * (3 - i) + j];
		r[i] = v;
	}
}

static void fp_to_be(unsigned char *b, const fp a)
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			b[8 * (3 - i) + j] = (unsigned char)(a[i] >> (56 - 8 * j));
}

static uint64_t fp_is_zero(const fp a)
{
	uint64_t z = a[0] | a[1] | a[2] | a[3];
	return ((z | (0 - z)) >> 63) ^ 1;
}

/* a^(p-2): the exponent is public, so its bits may steer the loop. */
static void fp_invert(fp r, const fp a, const fp one)
{
	static const fp e = {0xfffffffffffffffd, 0x00000000ffffffff, 0,
			     0xffffffff00000001};
	fp t;

	memcpy(t, one, sizeof(fp));
	for (int i = 255; i >= 0; i--) {
		fp_mul(t, t, t);
		if ((e[i >> 6] >> (i & 63)) & 1)
			fp_mul(t, t, a);
	}
	memcpy(r, t, sizeof(fp));
}

struct p256_ctx {
	fp one, r2, b;
};

struct pt {
	fp x, y, z;
};

static void p256_ctx_init(struct p256_ctx *k)
{
	static const unsigned char b_be[32] = {
	    0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd,
	    0x55, 0x76, 0x98, 0x86, 0xbc, 0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53,
	    0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b,
	};
	fp b;

	fp_consts(k->one, k->r2);
	fp_from_be(b, b_be);
	fp_mul(k->b, b, k->r2);
}

/* R = P + Q for any P, Q (infinity and P == Q included): Renes, Costello,
 * Batina, "Complete addition formulas for prime order elliptic curves",
 * algorithm 4 (a = -3). R may alias P or Q. */
static void pt_add(const struct p256_ctx *k, struct pt *R, const struct pt *P,
		   const struct pt *Q)
{
	fp t0, t1, t2, t3, t4, x3, y3, z3;

	fp_mul(t0, P->x, Q->x);
	fp_mul(t1, P->y, Q->y);
	fp_mul(t2, P->z, Q->z);
	fp_add(t3, P->x, P->y);
	fp_add(t4, Q->x, Q->y);
	fp_mul(t3, t3, t4);
	fp_add(t4, t0, t1);
	fp_sub(t3, t3, t4);
	fp_add(t4, P->y, P->z);
	fp_add(x3, Q->y, Q->z);
	fp_mul(t4, t4, x3);
	fp_add(x3, t1, t2);
	fp_sub(t4, t4, x3);
	fp_add(x3, P->x, P->z);
	fp_add(y3, Q->x, Q->z);
	fp_mul(x3, x3, y3);
	fp_add(y3, t0, t2);
	fp_sub(y3, x3, y3);
	fp_mul(z3, k->b, t2);
	fp_sub(x3, y3, z3);
	fp_add(z3, x3, x3);
	fp_add(x3, x3, z3);
	fp_sub(z3, t1, x3);
	fp_add(x3, t1, x3);
	fp_mul(y3, k->b, y3);
	fp_add(t1, t2, t2);
	fp_add(t2, t1, t2);
	fp_sub(y3, y3, t2);
	fp_sub(y3, y3, t0);
	fp_add(t1, y3, y3);
	fp_add(y3, t1, y3);
	fp_add(t1, t0, t0);
	fp_add(t0, t1, t0);
	fp_sub(t0, t0, t2);
	fp_mul(t1, t4, y3);
	fp_mul(t2, t0, y3);
	fp_mul(y3, x3, z3);
	fp_add(y3, y3, t2);
	fp_mul(x3, x3, t3);
	fp_sub(x3, x3, t1);
	fp_mul(z3, t4, z3);
	fp_mul(t1, t3, t0);
	fp_add(z3, z3, t1);
	memcpy(R->x, x3, sizeof(fp));
	memcpy(R->y, y3, sizeof(fp));
	memcpy(R->z, z3, sizeof(fp));
}

/* R = 2P, the same paper's algorithm 6 (a = -3). */
static void pt_double(const struct p256_ctx *k, struct pt *R,
		      const struct pt *P)
{
	fp t0, t1, t2, t3, x3, y3, z3;

	fp_mul(t0, P->x, P->x);
	fp_mul(t1, P->y, P->y);
	fp_mul(t2, P->z, P->z);
	fp_mul(t3, P->x, P->y);
	fp_add(t3, t3, t3);
	fp_mul(z3, P->x, P->z);
	fp_add(z3, z3, z3);
	fp_mul(y3, k->b, t2);
	fp_sub(y3, y3, z3);
	fp_add(x3, y3, y3);
	fp_add(y3, x3, y3);
	fp_sub(x3, t1, y3);
	fp_add(y3, t1, y3);
	fp_mul(y3, x3, y3);
	fp_mul(x3, x3, t3);
	fp_add(t3, t2, t2);
	fp_add(t2, t2, t3);
	fp_mul(z3, k->b, z3);
	fp_sub(z3, z3, t2);
	fp_sub(z3, z3, t0);
	fp_add(t3, z3, z3);
	fp_add(z3, z3, t3);
	fp_add(t3, t0, t0);
	fp_add(t0, t3, t0);
	fp_sub(t0, t0, t2);
	fp_mul(t0, t0, z3);
	fp_add(y3, y3, t0);
	fp_mul(t0, P->y, P->z);
	fp_add(t0, t0, t0);
	fp_mul(z3, t0, z3);
	fp_sub(x3, x3, z3);
	fp_mul(z3, t0, t1);
	fp_add(z3, z3, z3);
	fp_add(z3, z3, z3);
	memcpy(R->x, x3, sizeof(fp));
	memcpy(R->y, y3, sizeof(fp));
	memcpy(R->z, z3, sizeof(fp));
}

/* Decodes a 65-byte uncompressed point into P (Montgomery form): 1 if it
 * is on the curve with coordinates below p, else 0. */
static uint32_t pt_decode(const struct p256_ctx *k, struct pt *P,
			  const unsigned char *buf, size_t len)
{
	fp x, y, t, lhs, rhs;
	uint64_t bad;

	if (len != 65)
		return 0;
	bad = buf[0] ^ 0x04;
	fp_from_be(x, buf + 1);
	fp_from_be(y, buf + 33);
	bad |= sub4(t, x, P256) ^ 1; /* no borrow: x >= p */
	bad |= sub4(t, y, P256) ^ 1;
	fp_mul(P->x, x, k->r2);
	fp_mul(P->y, y, k->r2);
	memcpy(P->z, k->one, sizeof(fp));
	/* y^2 = x^3 - 3x + b */
	fp_mul(lhs, P->y, P->y);
	fp_mul(rhs, P->x, P->x);
	fp_mul(rhs, rhs, P->x);
	fp_sub(rhs, rhs, P->x);
	fp_sub(rhs, rhs, P->x);
	fp_sub(rhs, rhs, P->x);
	fp_add(rhs, rhs, k->b);
	fp_sub(t, lhs, rhs);
	bad |= fp_is_zero(t) ^ 1;
	return (uint32_t)((bad | (0 - bad)) >> 63) ^ 1;
}

/* Encodes P as 65 bytes: 1, or 0 (and nothing written) for infinity. */
static uint32_t pt_encode(const struct p256_ctx *k, unsigned char *buf,
			  const struct pt *P)
{
	static const fp one_plain = {1, 0, 0, 0};
	fp zi, x, y;
	uint32_t ok = (uint32_t)(fp_is_zero(P->z) ^ 1);

	fp_invert(zi, P->z, k->one);
	fp_mul(x, P->x, zi);
	fp_mul(y, P->y, zi);
	fp_mul(x, x, one_plain); /* out of Montgomery form */
	fp_mul(y, y, one_plain);
	if (ok) { /* whether the result is infinity is not a secret */
		buf[0] = 0x04;
		fp_to_be(buf + 1, x);
		fp_to_be(buf + 33, y);
	}
	return ok;
}

static void pt_cmov(struct pt *R, const struct pt *P, uint64_t bit)
{
	uint64_t mask = 0 - bit;
	uint64_t *r = (uint64_t *)R;
	const uint64_t *p = (const uint64_t *)P;

	for (size_t i = 0; i < sizeof(*R) / sizeof(uint64_t); i++)
		r[i] ^= mask & (r[i] ^ p[i]);
}

static void pt_lookup(struct pt *R, const struct pt *tab, unsigned n,
		      unsigned idx);

/* R = x * P, x big-endian of any length: 4-bit windows, each table entry
 * read on every step. */
static void pt_mul(const struct p256_ctx *k, struct pt *R, const struct pt *P,
		   const unsigned char *x, size_t xlen)
{
	struct pt tab[16], q, t;

	memset(&tab[0], 0, sizeof(tab[0]));
	memcpy(tab[0].y, k->one, sizeof(fp)); /* infinity is (0 : 1 : 0) */
	tab[1] = *P;
	for (int i = 2; i < 16; i++) {
		if (i % 2 == 0)
			pt_double(k, &tab[i], &tab[i / 2]);
		else
			pt_add(k, &tab[i], &tab[i - 1], P);
	}
	q = tab[0];
	for (size_t i = 0; i < xlen; i++) {
		for (int half = 1; half >= 0; half--) {
			unsigned nib = (x[i] >> (4 * half)) & 0x0f;

			for (int d = 0; d < 4; d++)
				pt_double(k, &q, &q);
			pt_lookup(&t, tab, 16, nib);
			pt_add(k, &q, &q, &t);
		}
	}
	*R = q;
	memset(tab, 0, sizeof(tab));
}

static uint32_t p256_mul_api(unsigned char *G, size_t Glen,
			     const unsigned char *x, size_t xlen)
{
	struct p256_ctx k;
	struct pt P;
	uint32_t ok;

	p256_ctx_init(&k);
	ok = pt_decode(&k, &P, G, Glen);
	if (!ok)
		return 0;
	pt_mul(&k, &P, &P, x, xlen);
	return pt_encode(&k, G, &P);
}

/* Constant-time read of tab[idx] (idx < n): every entry is touched. */
static void pt_lookup(struct pt *R, const struct pt *tab, unsigned n,
		      unsigned idx)
{
	*R = tab[0];
	for (unsigned j = 1; j < n; j++) {
		uint64_t diff = (uint64_t)(j ^ idx);
		pt_cmov(R, &tab[j], ((diff | (0 - diff)) >> 63) ^ 1);
	}
}

/* Fixed-base multiplication by a comb with four teeth 64 bits apart:
 * comb[i] is the sum of 2^(64 t) G over the bits t of i, so a scalar
 * takes 64 doublings and 64 additions (a window over the scalar would
 * take 256 doublings). The table (1.5 KiB) is made on first use, from the
 * generator: Duet runs TLS on the loop's thread only. */
static struct pt comb[16];
static bool comb_ready;

static void comb_init(const struct p256_ctx *k)
{
	size_t glen;
	const unsigned char *g =
	    br_ec_p256_m31.generator(BR_EC_secp256r1, &glen);
	struct pt base[4];

	(void)pt_decode(k, &base[0], g, glen);
	for (int t = 1; t < 4; t++) {
		base[t] = base[t - 1];
		for (int d = 0; d < 64; d++)
			pt_double(k, &base[t], &base[t]);
	}
	memset(&comb[0], 0, sizeof(comb[0]));
	memcpy(comb[0].y, k->one, sizeof(fp));
	for (unsigned i = 1; i < 16; i++) {
		unsigned low = i & (0u - i); /* lowest bit set */
		unsigned t = (unsigned)__builtin_ctz(i);
		pt_add(k, &comb[i], &comb[i ^ low], &base[t]);
	}
	comb_ready = true;
}

static size_t p256_mulgen_api(unsigned char *R, const unsigned char *x,
			      size_t xlen)
{
	struct p256_ctx k;
	struct pt q, t;
	unsigned char e[32];

	p256_ctx_init(&k);
	if (xlen > 32) { /* not a P-256 scalar: the generic path */
		size_t glen;
		const unsigned char *g =
		    br_ec_p256_m31.generator(BR_EC_secp256r1, &glen);
		(void)pt_decode(&k, &q, g, glen);
		pt_mul(&k, &q, &q, x, xlen);
		return pt_encode(&k, R, &q) ? 65 : 0;
	}
	if (!comb_ready)
		comb_init(&k);
	memset(e, 0, sizeof(e));
	memcpy(e + 32 - xlen, x, xlen);
	q = comb[0];
	for (int j = 63; j >= 0; j--) {
		unsigned idx = 0;

		for (int tooth = 0; tooth < 4; tooth++) {
			int bit = j + 64 * tooth;
			idx |= (unsigned)((e[31 - bit / 8] >> (bit % 8)) & 1)
			       << tooth;
		}
		pt_double(&k, &q, &q);
		pt_lookup(&t, comb, 16, idx);
		pt_add(&k, &q, &q, &t);
	}
	memset(e, 0, sizeof(e));
	return pt_encode(&k, R, &q) ? 65 : 0;
}

/* ------------------------------------------------------- br_ec_impl */

/* X25519's base point (u = 9) and, as BearSSL has it for key generation,
 * 2^255 - 1 as its "order": any 255-bit scalar will do. */
static const unsigned char X25519_GEN[32] = {9};
static const unsigned char X25519_ORDER[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* BearSSL's implementation for what this file does not do: P-256's
 * constants and signature checks, P-384 and P-521. */
static const br_ec_impl *other(int curve)
{
	return curve == BR_EC_secp256r1 ? &br_ec_p256_m31 : &br_ec_prime_i31;
}

static const unsigned char *api_generator(int curve, size_t *len)
{
	if (curve == BR_EC_curve25519) {
		*len = sizeof(X25519_GEN);
		return X25519_GEN;
	}
	return other(curve)->generator(curve, len);
}

static const unsigned char *api_order(int curve, size_t *len)
{
	if (curve == BR_EC_curve25519) {
		*len = sizeof(X25519_ORDER);
		return X25519_ORDER;
	}
	return other(curve)->order(curve, len);
}

static size_t api_xoff(int curve, size_t *len)
{
	if (curve == BR_EC_curve25519) {
		*len = 32;
		return 0;
	}
	return other(curve)->xoff(curve, len);
}

static uint32_t api_mul(unsigned char *G, size_t Glen, const unsigned char *x,
			size_t xlen, int curve)
{
	switch (curve) {
	case BR_EC_curve25519:
		return x25519(G, Glen, x, xlen);
	case BR_EC_secp256r1:
		return p256_mul_api(G, Glen, x, xlen);
	default:
		return other(curve)->mul(G, Glen, x, xlen, curve);
	}
}

static size_t api_mulgen(unsigned char *R, const unsigned char *x,
			 size_t xlen, int curve)
{
	switch (curve) {
	case BR_EC_curve25519:
		memcpy(R, X25519_GEN, sizeof(X25519_GEN));
		return x25519(R, 32, x, xlen) ? 32 : 0;
	case BR_EC_secp256r1:
		return p256_mulgen_api(R, x, xlen);
	default:
		return other(curve)->mulgen(R, x, xlen, curve);
	}
}

static uint32_t api_muladd(unsigned char *A, const unsigned char *B,
			   size_t len, const unsigned char *x, size_t xlen,
			   const unsigned char *y, size_t ylen, int curve)
{
	if (curve == BR_EC_curve25519)
		return 0; /* no ECDSA on Curve25519 */
	return other(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}

const br_ec_impl duet__tls_ec = {
    /* P-256, P-384, P-521 and Curve25519, as BearSSL's default */
    .supported_curves = (uint32_t)1 << BR_EC_secp256r1 |
			(uint32_t)1 << BR_EC_secp384r1 |
			(uint32_t)1 << BR_EC_secp521r1 |
			(uint32_t)1 << BR_EC_curve25519,
    .generator = api_generator,
    .order = api_order,
    .xoff = api_xoff,
    .mul = api_mul,
    .mulgen = api_mulgen,
    .muladd = api_muladd,
};
