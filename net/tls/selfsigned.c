/* A fresh self-signed ECDSA P-256 certificate and key, made at run time
 * (duet_tls_selfsigned in duet/tls.h): an image that must serve TLS out of
 * the box carries no key of its own, and builds stay reproducible.
 *
 * The certificate is X.509 v3 (RFC 5280) in DER, written by hand: version
 * 3, a random serial, ecdsa-with-SHA256, issuer = subject = CN=<name>,
 * valid from an hour before the wall clock to the end of 2049, the P-256
 * public key, and two extensions: basicConstraints CA:TRUE (so clients
 * take it as its own trust anchor) and subjectAltName with the name as a
 * DNS name and 127.0.0.1 and ::1 as addresses.
 */
#include <stdlib.h>
#include <string.h>

#include <duet/clock.h>
#include <duet/error.h>

#include "tls_priv.h"

struct der {
	unsigned char *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct der *d, const void *data, size_t len)
{
	if (d->len + len > d->cap) {
		d->overflow = true;
		return;
	}
	memcpy(d->p + d->len, data, len);
	d->len += len;
}

/* Writes tag and the length of content, then content. */
static void tlv(struct der *d, unsigned char tag, const void *content,
		size_t len)
{
	unsigned char h[4] = {tag};
	size_t n = 2;

	if (len < 0x80) {
		h[1] = (unsigned char)len;
	} else if (len < 0x100) {
		h[1] = 0x81;
		h[2] = (unsigned char)len;
		n = 3;
	} else {
		h[1] = 0x82;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		n = 4;
	}
	put(d, h, n);
	put(d, content, len);
}

/* A nested constructed value: build its content in `inner` first. */
#define DER_BUF(name, size)                                                    \
	unsigned char name##_bytes[size];                                      \
	struct der name = {.p = name##_bytes, .cap = size}

static void nest(struct der *d, unsigned char tag, struct der *inner)
{
	d->overflow |= inner->overflow;
	tlv(d, tag, inner->p, inner->len);
}

/* UTCTime (YYMMDDHHMMSSZ) of a Unix time, for years 1950..2049. */
static void utc_time(char out[14], int64_t t)
{
	int64_t days = t / 86400, secs = t % 86400;
	/* Civil date from a day count (proleptic Gregorian). */
	int64_t z = days + 719468, era = z / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400,
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, dd = doy - (153 * mp + 2) / 5 + 1;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;
	int v[6] = {(int)((y + (mm <= 2)) % 100),
		    (int)mm,
		    (int)dd,
		    (int)(secs / 3600),
		    (int)(secs / 60 % 60),
		    (int)(secs % 60)};
	for (int i = 0; i < 6; i++) {
		out[2 * i] = (char)('0' + v[i] / 10);
		out[2 * i + 1] = (char)('0' + v[i] % 10);
	}
	out[12] = 'Z';
	out[13] = '\0';
}

static const unsigned char oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce,
						 0x3d, 0x04, 0x03, 0x02};
static const unsigned char oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce,
						  0x3d, 0x02, 0x01};
static const unsigned char oid_p256[] = {0x2a, 0x86, 0x48, 0xce,
					 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_cn[] = {0x55, 0x04, 0x03};
static const unsigned char oid_basic_constraints[] = {0x55, 0x1d, 0x13};
static const unsigned char oid_san[] = {0x55, 0x1d, 0x11};

static void name(struct der *d, const char *cn)
{
	DER_BUF(atv, 128);
	DER_BUF(set, 160);
	DER_BUF(seq, 192);

	tlv(&atv, 0x06, oid_cn, sizeof(oid_cn));
	tlv(&atv, 0x0c, cn, strlen(cn));
	nest(&set, 0x30, &atv);
	nest(&seq, 0x31, &set);
	nest(d, 0x30, &seq);
}

static void extensions(struct der *d, const char *cn)
{
	static const unsigned char ca_true[] = {0x30, 0x03, 0x01, 0x01, 0xff};
	static const unsigned char ip4[] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	static const unsigned char critical[] = {0x01, 0x01, 0xff};
	DER_BUF(bc, 32);
	DER_BUF(names, 160);
	DER_BUF(san_value, 192);
	DER_BUF(san, 224);
	DER_BUF(list, 288);
	DER_BUF(wrap, 320);

	tlv(&bc, 0x06, oid_basic_constraints, sizeof(oid_basic_constraints));
	put(&bc, critical, sizeof(critical));
	tlv(&bc, 0x04, ca_true, sizeof(ca_true));
	tlv(&names, 0x82, cn, strlen(cn));
	tlv(&names, 0x87, ip4, sizeof(ip4));
	tlv(&names, 0x87, ip6, sizeof(ip6));
	nest(&san_value, 0x30, &names);
	tlv(&san, 0x06, oid_san, sizeof(oid_san));
	nest(&san, 0x04, &san_value);
	nest(&list, 0x30, &bc);
	nest(&list, 0x30, &san);
	nest(&wrap, 0x30, &list);
	nest(d, 0xa3, &wrap);
}

static int pem(const char *banner, const void *der, size_t len, char **out,
	       size_t *out_len)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);

	if ((*out = malloc(n + 1)) == NULL)
		return -ENOMEM;
	*out_len = br_pem_encode(*out, der, len, banner, BR_PEM_LINE64);
	return 0;
}

int duet_tls_selfsigned(const char *cn, char **cert_pem, size_t *cert_len,
			char **key_pem, size_t *key_len)
{
	const br_ec_impl *ec = &duet__tls_ec;
	struct tls_drbg drbg;
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	unsigned char qbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char serial[16], hash[32], sig[80], keyder[160];
	char from[14];
	size_t sig_len, keyder_len;
	br_sha256_context h;
	int r;

	if (cn == NULL || strlen(cn) == 0 || strlen(cn) > 64)
		return -EINVAL;
	if ((r = duet__tls_drbg_init(&drbg)) < 0)
		return r;
	if (br_ec_keygen(&drbg.ctx.vtable, ec, &sk, kbuf, BR_EC_secp256r1) ==
		0 ||
	    br_ec_compute_pub(ec, &pk, qbuf, &sk) == 0)
		return -EPROTO;
	br_hmac_drbg_generate(&drbg.ctx, serial, sizeof(serial));
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	utc_time(from, duet_clock_wall() / DUET_SEC(1) - 3600);

	DER_BUF(alg, 16);
	DER_BUF(validity, 40);
	DER_BUF(spki_alg, 32);
	DER_BUF(spki, 128);
	DER_BUF(tbs, 900);
	DER_BUF(tbs_seq, 1000);
	DER_BUF(cert, 1200);
	DER_BUF(cert_seq, 1300);
	static const unsigned char v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};

	tlv(&alg, 0x06, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
	tlv(&validity, 0x17, from, 13);
	tlv(&validity, 0x17, "491231235959Z", 13);
	tlv(&spki_alg, 0x06, oid_ec_public_key, sizeof(oid_ec_public_key));
	tlv(&spki_alg, 0x06, oid_p256, sizeof(oid_p256));
	unsigned char bits[1 + BR_EC_KBUF_PUB_MAX_SIZE] = {0};
	memcpy(bits + 1, pk.q, pk.qlen);
	nest(&spki, 0x30, &spki_alg);
	tlv(&spki, 0x03, bits, 1 + pk.qlen);

	put(&tbs, v3, sizeof(v3));
	tlv(&tbs, 0x02, serial, sizeof(serial));
	nest(&tbs, 0x30, &alg);
	name(&tbs, cn);
	nest(&tbs, 0x30, &validity);
	name(&tbs, cn);
	nest(&tbs, 0x30, &spki);
	extensions(&tbs, cn);
	nest(&tbs_seq, 0x30, &tbs);
	if (tbs_seq.overflow)
		return -EPROTO;

	br_sha256_init(&h);
	br_sha256_update(&h, tbs_seq.p, tbs_seq.len);
	br_sha256_out(&h, hash);
	sig_len =
	    duet__tls_ecdsa_sign_asn1(ec, &br_sha256_vtable, hash, &sk, sig + 1);
	if (sig_len == 0)
		return -EPROTO;
	sig[0] = 0; /* no unused bits */

	put(&cert, tbs_seq.p, tbs_seq.len);
	nest(&cert, 0x30, &alg);
	tlv(&cert, 0x03, sig, sig_len + 1);
	nest(&cert_seq, 0x30, &cert);
	if (cert_seq.overflow)
		return -EPROTO;

	keyder_len = br_encode_ec_raw_der(keyder, &sk, &pk);
	memset(kbuf, 0, sizeof(kbuf));
	memset(&drbg, 0, sizeof(drbg));
	if (keyder_len == 0 || keyder_len > sizeof(keyder))
		return -EPROTO;
	if ((r = pem("CERTIFICATE", cert_seq.p, cert_seq.len, cert_pem,
		     cert_len)) < 0)
		return r;
	r = pem("EC PRIVATE KEY", keyder, keyder_len, key_pem, key_len);
	memset(keyder, 0, sizeof(keyder));
	if (r < 0) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	return r;
}
