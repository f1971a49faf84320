/* The 64-bit curve code of net/tls/ec64.c: RFC 7748's X25519 vectors, the
 * P-256 generator's known multiples, and agreement with BearSSL's m31
 * code on random scalars and points; bad points are refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_priv.h"

static void unhex(unsigned char *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i] != '\0'; i++) {
		unsigned v;
		cr_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
}

/* A deterministic generator for the cross-checks (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state >> 12;
		rng_state ^= rng_state << 25;
		rng_state ^= rng_state >> 27;
		p[i] =
		    (unsigned char)((rng_state * 0x2545f4914f6cdd1dull) >> 56);
	}
}

Test(tls_ec, x25519_rfc7748_vectors)
{
	/* RFC 7748 section 5.2. */
	static const struct {
		const char *k, *u, *out;
	} v[] = {
	    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a2855"
	     "2"},
	    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac795"
	     "7"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsigned char k[32], u[32], want[32];
		unhex(k, v[i].k);
		unhex(u, v[i].u);
		unhex(want, v[i].out);
		cr_assert_eq(duet__tls_ec.mul(u, 32, k, 32, BR_EC_curve25519),
			     1);
		cr_assert_arr_eq(u, want, 32, "vector %zu", i);
	}
}

Test(tls_ec, x25519_iterated_1000_times)
{
	/* RFC 7748 section 5.2: k = u = 9, then k, u = X25519(k, u), k. */
	unsigned char k[32] = {9}, u[32] = {9}, r[32], want[32];

	for (int i = 0; i < 1000; i++) {
		memcpy(r, u, 32);
		cr_assert_eq(duet__tls_ec.mul(r, 32, k, 32, BR_EC_curve25519),
			     1);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
	}
	unhex(
	    want,
	    "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	cr_assert_arr_eq(k, want, 32);
}

Test(tls_ec, x25519_agrees_with_bearssl_on_random_inputs)
{
	for (int i = 0; i < 300; i++) {
		unsigned char k[32], a[32], b[32];
		size_t klen = 1 + (size_t)(i % 32);

		fill(k, sizeof(k));
		fill(a, sizeof(a));
		if (i % 7 == 0) { /* non-canonical: 2^255 - 19 .. 2^255 - 1 */
			memset(a + 1, 0xff, 31);
			a[0] = (unsigned char)(0xed + i % 19);
		}
		memcpy(b, a, 32);
		cr_assert_eq(
		    duet__tls_ec.mul(a, 32, k, klen, BR_EC_curve25519),
		    br_ec_c25519_m31.mul(b, 32, k, klen, BR_EC_curve25519));
		cr_assert_arr_eq(a, b, 32, "input %d", i);
	}
	unsigned char g1[32], g2[32], k[32];
	fill(k, sizeof(k));
	cr_assert_eq(duet__tls_ec.mulgen(g1, k, 32, BR_EC_curve25519), 32);
	cr_assert_eq(br_ec_c25519_m31.mulgen(g2, k, 32, BR_EC_curve25519), 32);
	cr_assert_arr_eq(g1, g2, 32);
	cr_assert_eq(duet__tls_ec.mul(g1, 31, k, 32, BR_EC_curve25519), 0);
	cr_assert_eq(duet__tls_ec.mul(g1, 32, k, 33, BR_EC_curve25519), 0);
}

/* A random scalar in [1, n - 1]: below n because its top byte is. */
static void p256_scalar(unsigned char k[32])
{
	fill(k, 32);
	k[0] &= 0x7f;
	k[31] |= 1;
}

Test(tls_ec, p256_generator_multiples)
{
	size_t glen, nlen;
	const unsigned char *g = duet__tls_ec.generator(BR_EC_secp256r1, &glen);
	const unsigned char *n = duet__tls_ec.order(BR_EC_secp256r1, &nlen);
	unsigned char k[32] = {0}, r[65], p[65];

	cr_assert_eq(glen, 65);
	k[31] = 1; /* 1 G = G */
	cr_assert_eq(duet__tls_ec.mulgen(r, k, 32, BR_EC_secp256r1), 65);
	cr_assert_arr_eq(r, g, 65);
	memcpy(k, n, 32); /* (n - 1) G = -G: same x, y = p - y */
	k[31] -= 1;
	cr_assert_eq(duet__tls_ec.mulgen(r, k, 32, BR_EC_secp256r1), 65);
	cr_assert_arr_eq(r, g, 33);
	cr_assert_arr_neq(r + 33, g + 33, 32);
	memcpy(p, g, 65);
	cr_assert_eq(br_ec_p256_m31.mul(p, 65, k, 32, BR_EC_secp256r1), 1);
	cr_assert_arr_eq(r, p, 65);
	/* n G is infinity: no encoding, an error. */
	cr_assert_eq(duet__tls_ec.mulgen(r, n, 32, BR_EC_secp256r1), 0);
	memcpy(p, g, 65);
	cr_assert_eq(duet__tls_ec.mul(p, 65, n, 32, BR_EC_secp256r1), 0);
}

Test(tls_ec, p256_agrees_with_bearssl_on_random_inputs)
{
	size_t glen;
	const unsigned char *g = duet__tls_ec.generator(BR_EC_secp256r1, &glen);

	for (int i = 0; i < 100; i++) {
		unsigned char k[32], k2[32], a[65], b[65];

		p256_scalar(k);
		cr_assert_eq(duet__tls_ec.mulgen(a, k, 32, BR_EC_secp256r1),
			     65);
		cr_assert_eq(br_ec_p256_m31.mulgen(b, k, 32, BR_EC_secp256r1),
			     65);
		cr_assert_arr_eq(a, b, 65, "mulgen %d", i);
		/* a random point (k G), times another scalar */
		p256_scalar(k2);
		size_t klen = 32 - (size_t)(i % 4); /* shorter scalars too */
		cr_assert_eq(duet__tls_ec.mul(a, 65, k2 + 32 - klen, klen,
					      BR_EC_secp256r1),
			     1);
		cr_assert_eq(br_ec_p256_m31.mul(b, 65, k2 + 32 - klen, klen,
						BR_EC_secp256r1),
			     1);
		cr_assert_arr_eq(a, b, 65, "mul %d", i);
	}
	(void)g;
}

Test(tls_ec, p256_refuses_points_off_the_curve)
{
	size_t glen;
	const unsigned char *g = duet__tls_ec.generator(BR_EC_secp256r1, &glen);
	unsigned char p[65], k[32];

	p256_scalar(k);
	memcpy(p, g, 65);
	p[64] ^= 1; /* y changed: off the curve */
	cr_assert_eq(duet__tls_ec.mul(p, 65, k, 32, BR_EC_secp256r1), 0);
	memcpy(p, g, 65);
	p[0] = 0x02; /* compressed: not allowed */
	cr_assert_eq(duet__tls_ec.mul(p, 65, k, 32, BR_EC_secp256r1), 0);
	memcpy(p, g, 65);
	cr_assert_eq(duet__tls_ec.mul(p, 64, k, 32, BR_EC_secp256r1), 0);
	/* x = p (not reduced), whatever y */
	memcpy(p, g, 65);
	unhex(
	    p + 1,
	    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
	cr_assert_eq(duet__tls_ec.mul(p, 65, k, 32, BR_EC_secp256r1), 0);
}

Test(tls_ec, ecdsa_signature_made_with_it_verifies_with_bearssl)
{
	/* The handshake's signature: made with duet__tls_ec, checked by
	 * BearSSL's own verifier over its m31 code. */
	unsigned char x[32], q[65], hash[32], sig[80];
	br_ec_private_key sk = {BR_EC_secp256r1, x, 32};
	br_ec_public_key pk = {BR_EC_secp256r1, q, 65};

	for (int i = 0; i < 20; i++) {
		p256_scalar(x);
		fill(hash, sizeof(hash));
		cr_assert_eq(duet__tls_ec.mulgen(q, x, 32, BR_EC_secp256r1),
			     65);
		size_t n = duet__tls_ecdsa_sign_asn1(
		    &duet__tls_ec, &br_sha256_vtable, hash, &sk, sig);
		cr_assert_gt(n, 0);
		cr_assert_eq(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, 32,
						    &pk, sig, n),
			     1);
		hash[0] ^= 1;
		cr_assert_eq(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, 32,
						    &pk, sig, n),
			     0);
	}
}

Test(tls_ec, ecdsa_signer_gives_bearssl_s_own_signature_bit_for_bit)
{
	/* Same procedure, same nonce: the same bytes as BearSSL's i31 signer,
	 * for hashes shorter and longer than the order too. */
	static const br_hash_class *const hashes[] = {
	    &br_sha1_vtable, &br_sha256_vtable, &br_sha384_vtable};
	unsigned char x[32], hash[48], a[80], b[80];
	br_ec_private_key sk = {BR_EC_secp256r1, x, 32};

	for (int i = 0; i < 60; i++) {
		const br_hash_class *hf = hashes[i % 3];

		p256_scalar(x);
		fill(hash, sizeof(hash));
		sk.xlen = 32 - (size_t)(i % 5 == 0); /* a short key too */
		size_t na =
		    duet__tls_ecdsa_sign_asn1(&duet__tls_ec, hf, hash, &sk, a);
		size_t nb =
		    br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, hf, hash, &sk, b);
		cr_assert_gt(na, 0);
		cr_assert_eq(na, nb, "signature %d: %zu vs %zu bytes", i, na,
			     nb);
		cr_assert_arr_eq(a, b, na, "signature %d", i);
	}
	/* a key of zero or of the order itself is refused */
	memset(x, 0, 32);
	sk.xlen = 32;
	cr_assert_eq(duet__tls_ecdsa_sign_asn1(&duet__tls_ec, &br_sha256_vtable,
					       hash, &sk, a),
		     0);
	size_t nlen;
	memcpy(x, duet__tls_ec.order(BR_EC_secp256r1, &nlen), 32);
	cr_assert_eq(duet__tls_ecdsa_sign_asn1(&duet__tls_ec, &br_sha256_vtable,
					       hash, &sk, a),
		     0);
}
