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
 * - X25519: net/tls/x25519.c.
 * - P-256: four 64-bit limbs in Montgomery form (R = 2^256), projective
 *   coordinates and the complete addition formula of Renes, Costello and
 *   Batina (2016, algorithm 4 with a = -3), so the point at infinity and
 *   doubling need no special case; a 4-bit fixed window over a table
 *   built per call, and for the generator a comb over a table made once.
 *   Points are 65-byte uncompressed encodings, checked on
 *   the curve; scalars big-endian.
 *
 * - ECDSA signatures on P-256 (duet__tls_ecdsa_sign_asn1): BearSSL's own
 *   procedure and nonce, so the same bytes, with the arithmetic modulo
 *   the group order on four 64-bit limbs too.
 *
 * ECDSA verification (muladd: a server checks no signature in a
 * handshake), P-384 and P-521 go to BearSSL's generic i31 code.
 */
#include <stdbool.h>
#include <string.h>

#include "tls_priv.h"

typedef unsigned __int128 u128;

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

/* r = t - m if hi or t >= m, else t (t + hi * 2^256 < 2m). */
static void reduce_once(fp r, const fp t, uint64_t hi, const fp m)
{
	fp u;
	uint64_t borrow = sub4(u, t, m);
	uint64_t keep = 0 - (borrow & (hi ^ 1)); /* all ones: keep t */

	for (int i = 0; i < 4; i++)
		r[i] = (t[i] & keep) | (u[i] & ~keep);
}

static void fp_reduce_once(fp r, const fp t, uint64_t hi)
{
	reduce_once(r, t, hi, P256);
}

/* r = a + b mod m, for a, b < m. */
static void add_mod(fp r, const fp a, const fp b, const fp m)
{
	fp t;
	uint64_t carry = 0;

	for (int i = 0; i < 4; i++) {
		u128 s = (u128)a[i] + b[i] + carry;
		t[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	reduce_once(r, t, carry, m);
}

static void fp_add(fp r, const fp a, const fp b)
{
	add_mod(r, a, b, P256);
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
#define FP_ROUND(bi)                                                           \
	do {                                                                   \
		u128 c = (u128)a[0] * (bi) + t0;                               \
		t0 = (uint64_t)c;                                              \
		c = (c >> 64) + (u128)a[1] * (bi) + t1;                        \
		t1 = (uint64_t)c;                                              \
		c = (c >> 64) + (u128)a[2] * (bi) + t2;                        \
		t2 = (uint64_t)c;                                              \
		c = (c >> 64) + (u128)a[3] * (bi) + t3;                        \
		t3 = (uint64_t)c;                                              \
		c = (c >> 64) + t4;                                            \
		t4 = (uint64_t)c;                                              \
		uint64_t t5 = (uint64_t)(c >> 64), m = t0;                     \
		c = (u128)m + (u128)m * 0x00000000ffffffffu + t1;              \
		t0 = (uint64_t)c;                                              \
		c = (c >> 64) + t2;                                            \
		t1 = (uint64_t)c;                                              \
		c = (c >> 64) + (u128)m * 0xffffffff00000001u + t3;            \
		t2 = (uint64_t)c;                                              \
		c = (c >> 64) + t4;                                            \
		t3 = (uint64_t)c;                                              \
		t4 = t5 + (uint64_t)(c >> 64);                                 \
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
			b[8 * (3 - i) + j] =
			    (unsigned char)(a[i] >> (56 - 8 * j));
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
	    br_ec_prime_i31.generator(BR_EC_secp256r1, &glen);
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
		    br_ec_prime_i31.generator(BR_EC_secp256r1, &glen);
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

/* ------------------------------------------------- ECDSA on P-256 */

/* Arithmetic modulo the group order n, in Montgomery form: the
 * signature's inverse and products (BearSSL's i31 code spends a modular
 * exponentiation on 31-bit limbs for the inverse alone). */
struct mod_n {
	fp n, one, r2;
	uint64_t ninv; /* -1/n mod 2^64 */
};

static void mn_mul(const struct mod_n *q, fp r, const fp a, const fp b)
{
	uint64_t t[6] = {0};

	for (int i = 0; i < 4; i++) {
		u128 c = 0;

		for (int j = 0; j < 4; j++) {
			c += (u128)a[j] * b[i] + t[j];
			t[j] = (uint64_t)c;
			c >>= 64;
		}
		c += t[4];
		t[4] = (uint64_t)c;
		t[5] = (uint64_t)(c >> 64);

		uint64_t m = t[0] * q->ninv;
		c = ((u128)m * q->n[0] + t[0]) >> 64;
		for (int j = 1; j < 4; j++) {
			c += (u128)m * q->n[j] + t[j];
			t[j - 1] = (uint64_t)c;
			c >>= 64;
		}
		c += t[4];
		t[3] = (uint64_t)c;
		t[4] = t[5] + (uint64_t)(c >> 64);
	}
	reduce_once(r, t, t[4], q->n);
}

static void mn_add(const struct mod_n *q, fp r, const fp a, const fp b)
{
	add_mod(r, a, b, q->n);
}

static void mn_init(struct mod_n *q)
{
	static const fp zero = {0, 0, 0, 0};
	size_t len;
	uint64_t inv;

	fp_from_be(q->n, br_ec_prime_i31.order(BR_EC_secp256r1, &len));
	/* Newton's iteration: each step doubles the correct low bits. */
	inv = q->n[0];
	for (int i = 0; i < 5; i++)
		inv *= 2 - q->n[0] * inv;
	q->ninv = 0 - inv;
	sub4(q->one, zero, q->n); /* 2^256 mod n (n > 2^255) */
	memcpy(q->r2, q->one, sizeof(fp));
	for (int i = 0; i < 256; i++)
		mn_add(q, q->r2, q->r2, q->r2);
}

/* 32 big-endian bytes (fewer: left-padded) as a value below n, or false
 * for zero or n and above. */
static bool mn_decode(const struct mod_n *q, fp r, const unsigned char *b,
		      size_t len)
{
	unsigned char e[32] = {0};
	fp t;

	if (len > 32)
		return false;
	memcpy(e + 32 - len, b, len);
	fp_from_be(r, e);
	memset(e, 0, sizeof(e));
	return !fp_is_zero(r) && sub4(t, r, q->n);
}

/* The signature of BearSSL's br_ecdsa_i31_sign_raw, bit for bit (its
 * nonce: HMAC-DRBG over the key and the hash), with the arithmetic above
 * and the comb for k G. Other curves: BearSSL's. */
static size_t ecdsa_sign_raw(const br_ec_impl *impl, const br_hash_class *hf,
			     const void *hash_value,
			     const br_ec_private_key *sk, void *sig)
{
	struct mod_n q;
	fp x, e, k, r, t, u, kinv;
	unsigned char buf[64], point[65];
	br_hmac_drbg_context drbg;
	size_t hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;

	if (sk->curve != BR_EC_secp256r1 || impl != &duet__tls_ec)
		return br_ecdsa_i31_sign_raw(impl, hf, hash_value, sk, sig);
	mn_init(&q);
	if (!mn_decode(&q, x, sk->x, sk->xlen))
		return 0;
	/* bits2int: the leftmost 256 bits of the hash, then mod n */
	memset(buf, 0, 32);
	if (hlen >= 32)
		memcpy(buf, hash_value, 32);
	else
		memcpy(buf + 32 - hlen, hash_value, hlen);
	fp_from_be(e, buf);
	reduce_once(e, e, 0, q.n);

	fp_to_be(buf, x);
	fp_to_be(buf + 32, e);
	br_hmac_drbg_init(&drbg, hf, buf, 64);
	do
		br_hmac_drbg_generate(&drbg, buf, 32);
	while (!mn_decode(&q, k, buf, 32));

	fp_to_be(buf, k);
	if (impl->mulgen(point, buf, 32, BR_EC_secp256r1) != 65)
		return 0;
	fp_from_be(r, point + 1);
	reduce_once(r, r, 0, q.n); /* x(kG) < p < 2n */

	/* s = (e + x r) / k, in Montgomery form throughout */
	static const fp one_plain = {1, 0, 0, 0};
	fp n2;
	sub4(n2, q.n, (const fp){2, 0, 0, 0});
	mn_mul(&q, k, k, q.r2);
	memcpy(kinv, q.one, sizeof(fp));
	for (int i = 255; i >= 0; i--) { /* k^(n-2): a public exponent */
		mn_mul(&q, kinv, kinv, kinv);
		if ((n2[i >> 6] >> (i & 63)) & 1)
			mn_mul(&q, kinv, kinv, k);
	}
	mn_mul(&q, t, x, q.r2);
	mn_mul(&q, u, r, q.r2);
	mn_mul(&q, t, t, u);
	mn_mul(&q, u, e, q.r2);
	mn_add(&q, t, t, u);
	mn_mul(&q, t, t, kinv);
	mn_mul(&q, t, t, one_plain);

	fp_to_be(sig, r);
	fp_to_be((unsigned char *)sig + 32, t);
	memset(buf, 0, sizeof(buf));
	memset(&drbg, 0, sizeof(drbg));
	memset(k, 0, sizeof(k));
	memset(kinv, 0, sizeof(kinv));
	memset(x, 0, sizeof(x));
	return 64;
}

size_t duet__tls_ecdsa_sign_asn1(const br_ec_impl *impl,
				 const br_hash_class *hf,
				 const void *hash_value,
				 const br_ec_private_key *sk, void *sig)
{
	unsigned char raw[132]; /* the largest curve's, for the fallback */
	size_t n = ecdsa_sign_raw(impl, hf, hash_value, sk, raw);

	if (n == 0)
		return 0;
	n = br_ecdsa_raw_to_asn1(raw, n);
	memcpy(sig, raw, n);
	return n;
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
 * constants and signature checks, P-384 and P-521. Its generic i31 code,
 * which P-384 needs anyway: the m31 code for P-256 would be 10 KiB more
 * in an image, for checks a server does not make. */
static const br_ec_impl *other(int curve)
{
	(void)curve;
	return &br_ec_prime_i31;
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
	case BR_EC_curve25519: return duet__tls_x25519(G, Glen, x, xlen);
	case BR_EC_secp256r1: return p256_mul_api(G, Glen, x, xlen);
	default: return other(curve)->mul(G, Glen, x, xlen, curve);
	}
}

static size_t api_mulgen(unsigned char *R, const unsigned char *x, size_t xlen,
			 int curve)
{
	switch (curve) {
	case BR_EC_curve25519:
		memcpy(R, X25519_GEN, sizeof(X25519_GEN));
		return duet__tls_x25519(R, 32, x, xlen) ? 32 : 0;
	case BR_EC_secp256r1: return p256_mulgen_api(R, x, xlen);
	default: return other(curve)->mulgen(R, x, xlen, curve);
	}
}

static uint32_t api_muladd(unsigned char *A, const unsigned char *B, size_t len,
			   const unsigned char *x, size_t xlen,
			   const unsigned char *y, size_t ylen, int curve)
{
	if (curve == BR_EC_curve25519)
		return 0; /* no ECDSA on Curve25519 */
	return other(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}

const br_ec_impl duet__tls_ec = {
    /* P-256, P-384, P-521 and Curve25519, as BearSSL's default */
    .supported_curves =
	(uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_secp384r1 |
	(uint32_t)1 << BR_EC_secp521r1 | (uint32_t)1 << BR_EC_curve25519,
    .generator = api_generator,
    .order = api_order,
    .xoff = api_xoff,
    .mul = api_mul,
    .mulgen = api_mulgen,
    .muladd = api_muladd,
};
