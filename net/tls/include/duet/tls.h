/* duet/tls.h — TLS over a TCP stack, as a stack.
 *
 * duet_tls_open() wraps a stack behind duet/net.h (lwIP, the POSIX socket
 * stack, another TLS stack's inner one) in a stack of the same shape: an
 * app listens, accepts, receives, sends, pauses, shuts down, closes and
 * aborts through the duet/net.h calls it already makes, with the same
 * contract (callbacks from the loop only, never inside the call that caused
 * them; send returns the count copied or -EAGAIN, then `writable` once).
 * On the wire each connection is TLS 1.2 (RFC 5246) on BearSSL:
 *
 * - versions: TLS 1.2 only; a ClientHello for anything lower gets a
 *   protocol_version alert;
 * - suites: ECDHE with AES-128/256-GCM or ChaCha20-Poly1305 (RFC 7905),
 *   for an ECDSA P-256 or an RSA certificate; nothing else is offered or
 *   accepted (handshake_failure);
 * - ALPN (RFC 7301): the server picks the first of its names the client
 *   offers; a client that offers only others is refused
 *   (no_application_protocol);
 * - resumption: the server keeps a session cache (least recently used
 *   first out) of cfg.session_cache entries, shared by its connections;
 *   a client reconnecting with its session ID skips the key exchange;
 * - renegotiation: refused, with a no_renegotiation alert, after which the
 *   connection carries on;
 * - bad input (records that are not TLS, too large, truncated or failing
 *   their MAC, unexpected messages) ends that connection with the fatal
 *   alert the failure calls for and `error` (-EPROTO) for the app; the
 *   server goes on. A handshake that stalls is ended by the app's own
 *   timers, as a request that stalls is: no `recv` comes until it is done.
 *
 * `recv` brings application data only. `recv` with len 0: the peer sent
 * close_notify, or closed TCP without one (for a server whose protocol
 * delimits its messages, as HTTP does, the same end). duet_tcp_shutdown()
 * sends close_notify after the queued data, then shuts TCP down;
 * duet_tcp_close() does the same and then closes; duet_tcp_abort() resets
 * TCP at once, with no alert.
 *
 * Memory: each connection holds DUET_TLS_CONN_BYTES, allocated at accept
 * (or connect) and freed at close, whatever it carries: BearSSL's
 * full-duplex record buffers (33,178 bytes, one whole record each way),
 * its server or client context and the module's own state. The stack
 * itself holds the certificate chain and key (decoded, about the size of
 * the PEM), the session cache (cfg.session_cache * 100 bytes) and a DRBG.
 * A connection that cannot get its memory is reset at once. Only while the
 * engine cannot take records (the app paused reading, or its replies wait
 * for the peer to read), the rest of the one inner delivery that did not
 * fit is kept aside and the inner connection is paused, so that is bounded
 * by one delivery of the inner stack.
 *
 * Entropy: keys need a strong source. duet_tls_open() refuses, with
 * -ENOTSUP and a logged message, on a platform whose duet_entropy_strong()
 * is false (a Xen CPU without RDSEED and RDRAND); there is no fallback. The
 * stack's HMAC-DRBG (SHA-256) is seeded from duet_entropy() at open and
 * reseeded from it every DUET_TLS_RESEED_CONNS connections; each connection
 * seeds its engine's own generator from it.
 */
#ifndef DUET_TLS_H
#define DUET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/net.h>

/* Per connection, fixed; checked against the real size at build time. */
#define DUET_TLS_CONN_BYTES   (40 * 1024)
#define DUET_TLS_RESEED_CONNS 1024

struct duet_tls_config {
	/* Server: the certificate chain in PEM (leaf first) and its private
	 * key in PEM (SEC 1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or
	 * PKCS#8 "PRIVATE KEY"; EC keys on P-256, RSA 2048 bits or more).
	 * Decoded and copied by duet_tls_open(). NULL for a client-only stack.
	 */
	const void *cert_pem;
	size_t cert_pem_len;
	const void *key_pem;
	size_t key_pem_len;
	/* Client: the one certificate (PEM) the server must present: its key
	 * is pinned, no chain is checked. NULL for a server-only stack. */
	const void *peer_cert_pem;
	size_t peer_cert_pem_len;
	/* ALPN names, in preference order (e.g. "http/1.1"); 0 for none. */
	const char *const *alpn;
	size_t alpn_count;
	/* Session cache entries; 0 means 256. */
	size_t session_cache;
	/* No session cache at all: every handshake is a full one. */
	bool no_resumption;
};

/* Opens a TLS stack over `inner`, which must outlive it. 0, -EINVAL (a
 * certificate or key that does not decode, a key that does not match the
 * certificate, an unsupported curve or size: logged), -ENOTSUP (weak
 * entropy, logged), -ENOMEM. */
int duet_tls_open(struct duet_stack *inner, const struct duet_tls_config *cfg,
		  struct duet_stack **out);
/* Closes the stack: every connection still open is closed on the inner
 * stack (gracefully where its close_notify is out, else reset), then its
 * memory is freed. Call it after the app closed its listeners. */
void duet_tls_close(struct duet_stack *tls);

/* A fresh ECDSA P-256 key and a self-signed certificate for it, for a
 * server that must run with no certificate given (a test setup): subject
 * CN=cn, also valid for DNS name cn, 127.0.0.1 and ::1, until the end of
 * 2049. Both PEM texts are malloc'd, NUL-terminated, and the caller's to
 * free. 0, -EINVAL (cn empty or longer than 64), -ENOTSUP (weak entropy,
 * logged), -ENOMEM. */
int duet_tls_selfsigned(const char *cn, char **cert_pem, size_t *cert_len,
			char **key_pem, size_t *key_len);

/* What a connection negotiated, for logs and tests; all zero/NULL before
 * its handshake finished. */
struct duet_tls_info {
	unsigned version;      /* 0x0303 for TLS 1.2 */
	unsigned cipher_suite; /* IANA number, e.g. 0xC02B */
	bool resumed;	       /* the handshake resumed a cached session */
	const char *alpn;      /* the chosen name, or NULL */
};
int duet_tls_info(const struct duet_tcp *c, struct duet_tls_info *out);

/* Counters of a TLS stack, for logs and tests. */
struct duet_tls_stats {
	unsigned long long handshakes; /* completed, resumed ones included */
	unsigned long long resumed;
	unsigned long long failed; /* handshakes ended by an alert or reset */
	unsigned long long reseeds;
	unsigned open; /* connections holding memory now */
};
void duet_tls_stats(const struct duet_stack *tls, struct duet_tls_stats *out);

#endif
