/* The TLS credentials reader (net/tls/creds.c through duet_tls_open): the
 * PEM certificate chain and private key an httpd image takes from a disk
 * (tls_disk=, cert=, key=: apps/httpd/tls_setup.c hands their bytes over
 * as they are). Property: duet_tls_open() either opens a stack, which then
 * closes cleanly, or refuses with a negative errno; nothing crashes or
 * leaks, whatever the bytes.
 *
 * Input: a mode byte, then bytes.
 *   mode % 4 == 0  the certificate is the bytes; the key is a real one
 *   mode % 4 == 1  a real certificate; the key is the bytes
 *   mode % 4 == 2  both from the bytes: a u16 length of the certificate
 *   mode % 4 == 3  the real certificate and key, with the bytes XORed into
 *                  them (pairs: a u16 offset, a byte), deep in valid DER
 * The real pair is made once by duet_tls_selfsigned(). */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/net_stack.h>
#include <duet/sys.h>
#include <duet/tls.h>

#include "fuzz.h"
#include "net_fakestack.h"

static struct duet_sys sys;
static char *cert, *key;
static size_t cert_len, key_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct duet_tls_config cfg = {0};
	struct duet_stack *tls;
	char *c = NULL, *k = NULL;

	if (size == 0)
		return 0;
	fakeplat_reset();
	duet_log_set_level(DUET_LOG_ERROR);
	duet_sys_init(&sys, NULL);
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	fstack.loop = &sys.loop;
	if (cert == NULL)
		FUZZ_CHECK(duet_tls_selfsigned("localhost", &cert, &cert_len,
					       &key, &key_len) == 0);
	cfg.cert_pem = cert;
	cfg.cert_pem_len = cert_len;
	cfg.key_pem = key;
	cfg.key_pem_len = key_len;
	switch (fuzz_u8(&in) % 4) {
	case 0:
		cfg.cert_pem = in.p;
		cfg.cert_pem_len = in.left;
		break;
	case 1:
		cfg.key_pem = in.p;
		cfg.key_pem_len = in.left;
		break;
	case 2: {
		size_t n = fuzz_u16(&in);
		if (n > in.left)
			n = in.left;
		cfg.cert_pem = in.p;
		cfg.cert_pem_len = n;
		cfg.key_pem = in.p + n;
		cfg.key_pem_len = in.left - n;
		break;
	}
	default:
		c = malloc(cert_len);
		k = malloc(key_len);
		FUZZ_CHECK(c != NULL && k != NULL);
		memcpy(c, cert, cert_len);
		memcpy(k, key, key_len);
		while (fuzz_more(&in)) {
			size_t at = fuzz_u16(&in);
			uint8_t x = fuzz_u8(&in);
			if (at < cert_len)
				c[at] ^= (char)x;
			else if (at - cert_len < key_len)
				k[at - cert_len] ^= (char)x;
		}
		cfg.cert_pem = c;
		cfg.key_pem = k;
		break;
	}
	int r = duet_tls_open(&fstack, &cfg, &tls);
	FUZZ_CHECK(r <= 0);
	if (r == 0)
		duet_tls_close(tls);
	free(c);
	free(k);
	return 0;
}
