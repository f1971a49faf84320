/* The TLS stack's random generator: HMAC-DRBG (SHA-256, NIST SP 800-90A)
 * over the platform's source, which must be strong: a guessable source
 * would make guessable keys, so there is no fallback. */
#include <string.h>

#include <duet/entropy.h>
#include <duet/error.h>
#include <duet/log.h>

#include "tls_priv.h"

/* 384 bits: the security strength of SHA-256 plus a nonce's half. */
#define SEED_BYTES 48

static int fresh_seed(unsigned char *seed)
{
	int r;

	if (!duet_entropy_strong()) {
		DUET_ERROR("tls",
			   "the platform's entropy source is not fit for "
			   "keys (no RDSEED/RDRAND on this CPU): TLS "
			   "refuses to start");
		return -ENOTSUP;
	}
	if ((r = duet_entropy(seed, SEED_BYTES)) < 0) {
		DUET_ERROR("tls", "entropy source failed: %s",
			   duet_strerror(r));
		return r;
	}
	return 0;
}

int duet__tls_drbg_init(struct tls_drbg *d)
{
	unsigned char seed[SEED_BYTES];
	int r = fresh_seed(seed);

	if (r < 0)
		return r;
	br_hmac_drbg_init(&d->ctx, &br_sha256_vtable, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	d->uses = 0;
	d->reseeds = 0;
	return 0;
}

int duet__tls_drbg_generate(struct tls_drbg *d, void *buf, size_t len)
{
	if (d->uses >= DUET_TLS_RESEED_CONNS) {
		unsigned char seed[SEED_BYTES];
		int r = fresh_seed(seed);
		if (r < 0)
			return r;
		br_hmac_drbg_update(&d->ctx, seed, sizeof(seed));
		memset(seed, 0, sizeof(seed));
		d->uses = 0;
		d->reseeds++;
	}
	d->uses++;
	br_hmac_drbg_generate(&d->ctx, buf, len);
	return 0;
}
