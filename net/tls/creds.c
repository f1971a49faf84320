/* Certificates and keys from PEM: the server's chain and private key
 * (checked to match), a client's pinned peer key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "tls_priv.h"

/* ---------------------------------------------------------------- PEM */

struct der_buf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void der_append(void *arg, const void *data, size_t len)
{
	struct der_buf *b = arg;

	if (b->err != 0)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 2048;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

int duet__tls_pem_each(const void *pem, size_t len,
		       int (*cb)(const char *name, const unsigned char *der,
				 size_t der_len, void *arg),
		       void *arg)
{
	br_pem_decoder_context pc;
	struct der_buf b = {0};
	const unsigned char *p = pem;
	bool inside = false;
	unsigned objects = 0;
	int r = 0;
	char name[128];

	br_pem_decoder_init(&pc);
	/* A final newline makes the last END line complete even when the
	 * text lacks one. */
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		const unsigned char *q =
		    pass == 0 ? p : (const unsigned char *)"\n";
		size_t left = pass == 0 ? len : 1;
		while (left > 0 && r == 0) {
			size_t n = br_pem_decoder_push(&pc, q, left);
			q += n;
			left -= n;
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				snprintf(name, sizeof(name), "%s",
					 br_pem_decoder_name(&pc));
				b.len = 0;
				br_pem_decoder_setdest(&pc, der_append, &b);
				inside = true;
				break;
			case BR_PEM_END_OBJ:
				if (b.err != 0) {
					r = b.err;
					break;
				}
				inside = false;
				objects++;
				/* An object with no bytes is no certificate or
				 * key: malformed, for every reader. */
				r = b.len == 0 ? -EINVAL : cb(name, b.p, b.len, arg);
				break;
			case BR_PEM_ERROR: r = -EINVAL; break;
			default: break;
			}
		}
	}
	free(b.p);
	if (r == 0 && (inside || objects == 0))
		r = -EINVAL;
	return r;
}

/* -------------------------------------------------------------- chain */

static int add_cert(const char *name, const unsigned char *der, size_t len,
		    void *arg)
{
	struct tls_creds *c = arg;
	br_x509_certificate *chain;
	unsigned char *copy;

	if (strcmp(name, "CERTIFICATE") != 0 &&
	    strcmp(name, "X509 CERTIFICATE") != 0)
		return 0; /* a key or parameters beside the chain */
	chain = realloc(c->chain, (c->chain_len + 1) * sizeof(*chain));
	if (chain == NULL)
		return -ENOMEM;
	c->chain = chain;
	if ((copy = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(copy, der, len);
	chain[c->chain_len].data = copy;
	chain[c->chain_len].data_len = len;
	c->chain_len++;
	return 0;
}

/* The public key of one DER certificate, copied into *bytes. */
static int cert_pkey(const br_x509_certificate *cert, br_x509_pkey *out,
		     unsigned char **bytes, unsigned *signer_type)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, cert->data, cert->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || br_x509_decoder_last_error(&dc) != 0)
		return -EINVAL;
	*out = *pk;
	if (signer_type != NULL)
		*signer_type =
		    (unsigned)br_x509_decoder_get_signer_key_type(&dc);
	if (pk->key_type == BR_KEYTYPE_EC) {
		if ((*bytes = malloc(pk->key.ec.qlen)) == NULL)
			return -ENOMEM;
		memcpy(*bytes, pk->key.ec.q, pk->key.ec.qlen);
		out->key.ec.q = *bytes;
		return 0;
	}
	if (pk->key_type == BR_KEYTYPE_RSA) {
		size_t n = pk->key.rsa.nlen, e = pk->key.rsa.elen;
		if ((*bytes = malloc(n + e)) == NULL)
			return -ENOMEM;
		memcpy(*bytes, pk->key.rsa.n, n);
		memcpy(*bytes + n, pk->key.rsa.e, e);
		out->key.rsa.n = *bytes;
		out->key.rsa.e = *bytes + n;
		return 0;
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- key */

struct key_load {
	struct tls_creds *c;
	bool found;
};

static int copy_ec(struct tls_creds *c, const br_ec_private_key *k)
{
	if (k->curve != BR_EC_secp256r1) {
		DUET_ERROR("tls", "the EC key is not on P-256 (curve %d)",
			   k->curve);
		return -EINVAL;
	}
	if ((c->key_bytes = malloc(k->xlen)) == NULL)
		return -ENOMEM;
	memcpy(c->key_bytes, k->x, k->xlen);
	c->ec = *k;
	c->ec.x = c->key_bytes;
	c->key_type = BR_KEYTYPE_EC;
	return 0;
}

static int copy_rsa(struct tls_creds *c, const br_rsa_private_key *k)
{
	size_t total = k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen;
	unsigned char *p;

	if (k->n_bitlen < 2048) {
		DUET_ERROR("tls",
			   "the RSA key has %u bits; 2048 or more needed",
			   k->n_bitlen);
		return -EINVAL;
	}
	if ((p = c->key_bytes = malloc(total)) == NULL)
		return -ENOMEM;
	c->rsa = *k;
#define TAKE(f, l)                                                             \
	do {                                                                   \
		memcpy(p, k->f, k->l);                                         \
		c->rsa.f = p;                                                  \
		p += k->l;                                                     \
	} while (0)
	TAKE(p, plen);
	TAKE(q, qlen);
	TAKE(dp, dplen);
	TAKE(dq, dqlen);
	TAKE(iq, iqlen);
#undef TAKE
	c->key_type = BR_KEYTYPE_RSA;
	return 0;
}

static int add_key(const char *name, const unsigned char *der, size_t len,
		   void *arg)
{
	struct key_load *kl = arg;
	br_skey_decoder_context kc;

	if (strcmp(name, "EC PRIVATE KEY") != 0 &&
	    strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "PRIVATE KEY") != 0)
		return 0; /* EC PARAMETERS and the like */
	if (kl->found) {
		DUET_ERROR("tls", "the key file holds more than one key");
		return -EINVAL;
	}
	kl->found = true;
	br_skey_decoder_init(&kc);
	br_skey_decoder_push(&kc, der, len);
	if (br_skey_decoder_last_error(&kc) != 0) {
		DUET_ERROR("tls",
			   "the private key does not decode (%s, "
			   "BearSSL error %d)",
			   name, br_skey_decoder_last_error(&kc));
		return -EINVAL;
	}
	switch (br_skey_decoder_key_type(&kc)) {
	case BR_KEYTYPE_EC: return copy_ec(kl->c, br_skey_decoder_get_ec(&kc));
	case BR_KEYTYPE_RSA:
		return copy_rsa(kl->c, br_skey_decoder_get_rsa(&kc));
	default:
		DUET_ERROR("tls", "unsupported private key type");
		return -EINVAL;
	}
}

/* The private key must be the one the leaf certificate names. */
static bool key_matches(const struct tls_creds *c, const br_x509_pkey *pub)
{
	if (pub->key_type != c->key_type)
		return false;
	if (c->key_type == BR_KEYTYPE_EC) {
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pk;
		size_t n =
		    br_ec_compute_pub(&duet__tls_ec, &pk, q, &c->ec);
		return n != 0 && pub->key.ec.curve == c->ec.curve &&
		       n == pub->key.ec.qlen &&
		       memcmp(q, pub->key.ec.q, n) == 0;
	}
	unsigned char n[512];
	br_rsa_compute_modulus mod = br_rsa_compute_modulus_get_default();
	size_t nlen = mod(NULL, &c->rsa);
	const unsigned char *pn = pub->key.rsa.n;
	size_t pnlen = pub->key.rsa.nlen;
	while (pnlen > 0 && *pn == 0) {
		pn++;
		pnlen--;
	}
	if (nlen == 0 || nlen > sizeof(n) || mod(n, &c->rsa) != nlen)
		return false;
	return nlen == pnlen && memcmp(n, pn, nlen) == 0;
}

static int load_server(struct tls_creds *c, const struct duet_tls_config *cfg)
{
	struct key_load kl = {.c = c};
	br_x509_pkey pub;
	unsigned char *pub_bytes = NULL;
	int r;

	if (cfg->key_pem == NULL) {
		DUET_ERROR("tls", "a certificate needs its private key");
		return -EINVAL;
	}
	r = duet__tls_pem_each(cfg->cert_pem, cfg->cert_pem_len, add_cert, c);
	if (r == 0 && c->chain_len == 0)
		r = -EINVAL;
	if (r < 0) {
		if (r == -EINVAL)
			DUET_ERROR("tls", "the certificate is not PEM holding "
					  "a certificate");
		return r;
	}
	r = duet__tls_pem_each(cfg->key_pem, cfg->key_pem_len, add_key, &kl);
	if (r == 0 && !kl.found)
		r = -EINVAL;
	if (r < 0) {
		if (r == -EINVAL && !kl.found)
			DUET_ERROR("tls", "the key is not PEM holding a "
					  "private key");
		return r;
	}
	if ((r = cert_pkey(&c->chain[0], &pub, &pub_bytes,
			   &c->issuer_key_type)) < 0) {
		if (r == -EINVAL)
			DUET_ERROR("tls", "the certificate does not decode");
		return r;
	}
	bool match = key_matches(c, &pub);
	free(pub_bytes);
	if (!match) {
		DUET_ERROR("tls", "the private key does not match the "
				  "certificate");
		return -EINVAL;
	}
	return 0;
}

static int add_peer(const char *name, const unsigned char *der, size_t len,
		    void *arg)
{
	struct tls_creds *c = arg;
	br_x509_certificate cert = {.data = (unsigned char *)der,
				    .data_len = len};

	if (strcmp(name, "CERTIFICATE") != 0 || c->have_peer)
		return 0;
	int r = cert_pkey(&cert, &c->peer, &c->peer_bytes, NULL);
	c->have_peer = r == 0;
	return r;
}

int duet__tls_creds_load(struct tls_creds *c, const struct duet_tls_config *cfg)
{
	int r = 0;

	memset(c, 0, sizeof(*c));
	if (cfg->cert_pem != NULL)
		r = load_server(c, cfg);
	if (r == 0 && cfg->peer_cert_pem != NULL) {
		r = duet__tls_pem_each(cfg->peer_cert_pem,
				       cfg->peer_cert_pem_len, add_peer, c);
		if (r == 0 && !c->have_peer)
			r = -EINVAL;
		if (r == -EINVAL)
			DUET_ERROR("tls",
				   "the peer certificate does not decode");
	}
	if (r < 0)
		duet__tls_creds_free(c);
	return r;
}

void duet__tls_creds_free(struct tls_creds *c)
{
	for (size_t i = 0; i < c->chain_len; i++)
		free(c->chain[i].data);
	free(c->chain);
	if (c->key_bytes != NULL) {
		/* Key bytes do not outlive their use. */
		size_t n = c->key_type == BR_KEYTYPE_EC
			       ? c->ec.xlen
			       : c->rsa.plen + c->rsa.qlen + c->rsa.dplen +
				     c->rsa.dqlen + c->rsa.iqlen;
		memset(c->key_bytes, 0, n);
		free(c->key_bytes);
	}
	free(c->peer_bytes);
	memset(c, 0, sizeof(*c));
}
