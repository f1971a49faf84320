/* net/tls: the TLS stack's state, shared by its parts: the stack and its
 * ops (tls.c), a connection's engine driven between the app and the inner
 * stack (conn.c), BearSSL's engines set up (engine.c), credentials
 * (creds.c) and the random generator (drbg.c). */
#ifndef DUET_TLS_PRIV_H
#define DUET_TLS_PRIV_H

#include <assert.h>
#include <stdint.h>

#include <bearssl.h>

#include <duet/list.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/tls.h>

/* ------------------------------------------------------- credentials */

/* A decoded certificate chain and private key, or a pinned peer key. All
 * memory is owned and freed by duet__tls_creds_free(). */
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
int duet__tls_creds_load(struct tls_creds *c,
			 const struct duet_tls_config *cfg);
void duet__tls_creds_free(struct tls_creds *c);

/* PEM objects one by one: cb gets each object's name and DER bytes (valid
 * during the call) and returns 0 to go on or a negative errno to stop.
 * Returns 0, the callback's error, -EINVAL for PEM that does not decode
 * (or holds no object) or -ENOMEM. */
int duet__tls_pem_each(const void *pem, size_t len,
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
int duet__tls_drbg_init(struct tls_drbg *d);
/* Fills buf, reseeding from duet_entropy() every DUET_TLS_RESEED_CONNS
 * uses. 0, or the platform source's error at a reseed (logged). */
int duet__tls_drbg_generate(struct tls_drbg *d, void *buf, size_t len);

/* ------------------------------------------------------ stack, conns */

#define MAX_ALPN 8

struct tls_stack {
	struct duet_stack base;
	struct duet_stack *inner;
	struct tls_creds creds;
	struct tls_drbg drbg;
	br_ssl_session_cache_lru lru;
	unsigned char *lru_buf;
	/* The engine's session cache: the LRU, watched to tell resumptions. */
	struct cache_hook {
		const br_ssl_session_cache_class *vtable;
		struct tls_stack *s;
	} cache;
	const char *alpn[MAX_ALPN];
	size_t alpn_count;
	/* A client's last session, offered again on the next connect. */
	br_ssl_session_parameters client_session;
	bool have_client_session;
	struct duet_list conns;
	struct duet_tls_stats stats;
	/* The record ciphers' implementations, chosen once: BearSSL's own
	 * defaults ask the CPU (CPUID, which traps to the hypervisor in a
	 * VM) on every connection. */
	struct tls_ciphers {
		const br_block_ctr_class *aes_ctr;
		br_ghash ghash;
		br_chacha20_run chacha20;
		br_poly1305_run poly1305;
	} ciphers;
};

/* Listeners and connections both are struct duet_tcp to the app. */
struct tls_obj {
	struct duet_tcp base;
	bool listener;
};

struct tls_listener {
	struct tls_obj obj;
	struct tls_stack *s;
	struct duet_tcp *tcp;
	duet_tcp_accept_cb cb;
	void *arg;
};

struct tls_conn {
	struct tls_obj obj;
	struct tls_stack *s;
	struct duet_tcp *tcp; /* the inner connection; NULL once it is gone */
	struct duet_list node;
	struct duet_defer defer;
	struct duet_timer linger;
	br_ssl_engine_context *eng;
	unsigned busy;	 /* inside run(): settle() waits */
	int fail;	 /* the inner side failed under the engine: -errno */
	size_t rec_left; /* of the outgoing record partly sent */
	bool client, handshake_done, resumed;
	bool want_writable, paused, inner_paused, inner_eof, eof_delivered;
	bool shut, inner_shut, close_sent, aborted, lingering;
	/* Records the engine could not take yet (it holds one whole record),
	 * kept while the inner stack is paused. */
	unsigned char *stash;
	size_t stash_len, stash_off;
	unsigned char session_id[32];
	size_t session_id_len;
	union {
		br_ssl_server_context sc;
		br_ssl_client_context cc;
	} u;
	br_x509_knownkey_context knownkey;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* ec64.c: X25519 and P-256 on 64-bit limbs, BearSSL's m31 code for the
 * rest; every engine, key check and test certificate uses it. */
extern const br_ec_impl duet__tls_ec;
/* A br_ecdsa_sign: BearSSL's br_ecdsa_i31_sign_asn1, faster on P-256. */
size_t duet__tls_ecdsa_sign_asn1(const br_ec_impl *impl,
				 const br_hash_class *hf,
				 const void *hash_value,
				 const br_ec_private_key *sk, void *sig);
/* x25519.c: br_ec_impl's mul for Curve25519 (1, or 0 for bad lengths). */
uint32_t duet__tls_x25519(unsigned char *G, size_t Glen,
			  const unsigned char *kb, size_t kblen);

/* The session cache class of every server engine (engine.c): the LRU,
 * watched to tell resumptions. */
extern const br_ssl_session_cache_class duet__tls_cache_class;
void duet__tls_ciphers_choose(struct tls_ciphers *c);
/* Sets up a connection's engine: 0 or a negative errno. */
int duet__tls_server_init(struct tls_conn *c);
int duet__tls_client_init(struct tls_conn *c);

/* conn.c: a connection's life. */
extern const struct duet_tcp_callbacks duet__tls_inner_cbs;
struct tls_conn *duet__tls_conn_new(struct tls_stack *s);
void duet__tls_conn_free(struct tls_conn *c);
/* Pushes records to the inner stack; never calls the app. */
void duet__tls_flush(struct tls_conn *c);
bool duet__tls_records_pending(struct tls_conn *c);
/* Releases a connection the app closed once its records are out. */
void duet__tls_settle(struct tls_conn *c);

static inline struct tls_conn *duet__tls_conn_of(const struct duet_tcp *t)
{
	assert(!((const struct tls_obj *)t)->listener);
	return (struct tls_conn *)(uintptr_t)t;
}

#endif
