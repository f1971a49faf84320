/* net/tls: the TLS stack's shared state (tls.c), its credentials
 * (creds.c) and its random generator (drbg.c). */
#ifndef DUET_TLS_PRIV_H
#define DUET_TLS_PRIV_H

#include <bearssl.h>

#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/tls.h>

/* ------------------------------------------------------- credentials */

/* A decoded certificate chain and private key, or a pinned peer key. All
 * memory is owned and freed by tls_creds_free(). */
struct tls_creds {
	br_x509_certificate *chain;
	size_t chain_len;
	int key_type; /* BR_KEYTYPE_EC or BR_KEYTYPE_RSA; 0: no key */
	unsigned issuer_key_type;
	br_ec_private_key ec;
	br_rsa_private_key rsa;
	unsigned char *key_bytes;
	/* The pinned key of a client's peer. */
	bool have_peer;
	br_x509_pkey peer;
	unsigned char *peer_bytes;
};

/* Decodes cfg's PEM into c (zeroed first). 0 or -EINVAL (logged), -ENOMEM. */
int tls_creds_load(struct tls_creds *c, const struct duet_tls_config *cfg);
void tls_creds_free(struct tls_creds *c);

/* PEM objects one by one: cb gets each object's name and DER bytes (valid
 * during the call) and returns 0 to go on or a negative errno to stop.
 * Returns 0, the callback's error, -EINVAL for PEM that does not decode
 * (or holds no object) or -ENOMEM. */
int tls_pem_each(const void *pem, size_t len,
		 int (*cb)(const char *name, const unsigned char *der,
			   size_t der_len, void *arg),
		 void *arg);

/* --------------------------------------------------------------- DRBG */

struct tls_drbg {
	br_hmac_drbg_context ctx;
	unsigned uses; /* since the last (re)seed */
	unsigned long long reseeds;
};

/* Seeds from duet_entropy(). -ENOTSUP if the platform's source is weak,
 * or its error; logged. */
int tls_drbg_init(struct tls_drbg *d);
/* Fills buf, reseeding from duet_entropy() every DUET_TLS_RESEED_CONNS
 * uses. 0, or the platform source's error at a reseed (logged). */
int tls_drbg_generate(struct tls_drbg *d, void *buf, size_t len);

#endif
