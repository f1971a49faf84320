/* BearSSL's server and client engines, one per connection: TLS 1.2, the
 * suites of duet/tls.h, the stack's credentials, ALPN and session cache,
 * renegotiation refused, seeded from the stack's DRBG. */
#include <string.h>

#include <duet/error.h>

#include "tls_priv.h"

static const uint16_t suites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* ---------------------------------------------------- session cache */

static void cache_save(const br_ssl_session_cache_class **ctx,
		       br_ssl_server_context *sc,
		       const br_ssl_session_parameters *params)
{
	struct cache_hook *h = (struct cache_hook *)(uintptr_t)ctx;
	h->s->lru.vtable->save(&h->s->lru.vtable, sc, params);
}

static int cache_load(const br_ssl_session_cache_class **ctx,
		      br_ssl_server_context *sc,
		      br_ssl_session_parameters *params)
{
	struct cache_hook *h = (struct cache_hook *)(uintptr_t)ctx;
	int found = h->s->lru.vtable->load(&h->s->lru.vtable, sc, params);
	if (found)
		duet_container_of(sc, struct tls_conn, u.sc)->resumed = true;
	return found;
}

const br_ssl_session_cache_class duet__tls_cache_class = {
    .context_size = sizeof(struct cache_hook),
    .save = cache_save,
    .load = cache_load,
};

/* ------------------------------------------------------------ engines */

/* What br_ssl_engine_set_default_aes_gcm/_chapol would pick: AES-NI and
 * PCLMUL, SSE2 ChaCha20 and 64-bit Poly1305 where the CPU has them, the
 * constant-time portable code otherwise. */
void duet__tls_ciphers_choose(struct tls_ciphers *c)
{
	c->aes_ctr = br_aes_x86ni_ctr_get_vtable();
	if (c->aes_ctr == NULL)
		c->aes_ctr = &br_aes_ct64_ctr_vtable;
	c->ghash = br_ghash_pclmul_get();
	if (c->ghash == 0)
		c->ghash = &br_ghash_ctmul64;
	c->chacha20 = br_chacha20_sse2_get();
	if (c->chacha20 == 0)
		c->chacha20 = &br_chacha20_ct_run;
	c->poly1305 = br_poly1305_ctmulq_get();
	if (c->poly1305 == 0)
		c->poly1305 = &br_poly1305_ctmul_run;
}

static void engine_common(struct tls_conn *c, br_ssl_engine_context *eng)
{
	struct tls_stack *s = c->s;

	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites,
				 sizeof(suites) / sizeof(suites[0]));
	br_ssl_engine_set_ec(eng, &duet__tls_ec);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
			      &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, s->ciphers.aes_ctr);
	br_ssl_engine_set_ghash(eng, s->ciphers.ghash);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
				 &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, s->ciphers.chacha20);
	br_ssl_engine_set_poly1305(eng, s->ciphers.poly1305);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof(c->iobuf), 1);
	if (s->alpn_count > 0)
		br_ssl_engine_set_protocol_names(eng, s->alpn, s->alpn_count);
	br_ssl_engine_add_flags(
	    eng, BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES |
		     (s->alpn_count > 0 ? BR_OPT_FAIL_ON_ALPN_MISMATCH : 0));
}

static int engine_seed(struct tls_conn *c)
{
	unsigned char seed[32];
	int r = duet__tls_drbg_generate(&c->s->drbg, seed, sizeof(seed));

	if (r < 0)
		return r;
	br_ssl_engine_inject_entropy(c->eng, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	return 0;
}

int duet__tls_server_init(struct tls_conn *c)
{
	struct tls_stack *s = c->s;
	struct tls_creds *k = &s->creds;
	br_ssl_server_context *sc = &c->u.sc;
	int r;

	br_ssl_server_zero(sc);
	c->eng = &sc->eng;
	engine_common(c, c->eng);
	if (k->key_type == BR_KEYTYPE_EC)
		br_ssl_server_set_single_ec(
		    sc, k->chain, k->chain_len, &k->ec,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, k->issuer_key_type,
		    br_ssl_engine_get_ec(c->eng), duet__tls_ecdsa_sign_asn1);
	else
		br_ssl_server_set_single_rsa(sc, k->chain, k->chain_len,
					     &k->rsa, BR_KEYTYPE_SIGN,
					     br_rsa_private_get_default(),
					     br_rsa_pkcs1_sign_get_default());
	if (s->lru_buf != NULL)
		br_ssl_server_set_cache(sc, &s->cache.vtable);
	if ((r = engine_seed(c)) < 0)
		return r;
	return br_ssl_server_reset(sc) ? 0 : -EPROTO;
}

int duet__tls_client_init(struct tls_conn *c)
{
	struct tls_stack *s = c->s;
	br_ssl_client_context *cc = &c->u.cc;
	const br_x509_pkey *peer = &s->creds.peer;
	int r;

	br_ssl_client_zero(cc);
	c->eng = &cc->eng;
	c->client = true;
	engine_common(c, c->eng);
	if (peer->key_type == BR_KEYTYPE_EC)
		br_x509_knownkey_init_ec(&c->knownkey, &peer->key.ec,
					 BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	else
		br_x509_knownkey_init_rsa(&c->knownkey, &peer->key.rsa,
					  BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(c->eng, &c->knownkey.vtable);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(c->eng);
	/* BearSSL's default would put its own curve code back. */
	br_ssl_engine_set_ecdsa(c->eng, &br_ecdsa_i31_vrfy_asn1);
	if ((r = engine_seed(c)) < 0)
		return r;
	if (s->have_client_session) {
		br_ssl_engine_set_session_parameters(c->eng,
						     &s->client_session);
		memcpy(c->session_id, s->client_session.session_id,
		       s->client_session.session_id_len);
		c->session_id_len = s->client_session.session_id_len;
	}
	return br_ssl_client_reset(cc, NULL, s->have_client_session) ? 0
								     : -EPROTO;
}
