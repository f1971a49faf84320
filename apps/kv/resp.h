/* resp.h — the Redis protocol (RESP2): requests in, replies out.
 *
 * A request is either a multibulk array of bulk strings
 * (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline command (`GET k\r\n`,
 * split at spaces, with "..." and '...' quoting as redis-cli sends). The
 * parser works on a connection's buffered input: it either finds one whole
 * request at the front, says how many bytes it needs at least before
 * trying again, or reports a protocol error (the connection then gets the
 * error reply and is closed, as Redis does). Every count and length is
 * bounded by struct kv_resp_limits, so a hostile client holds at most
 * max_bulk (plus a header) of input before anything is answered.
 *
 * Arguments of a multibulk request point into the input buffer; those of
 * an inline request into the parser's own scratch buffer. Either way they
 * stay valid until the next kv_resp_parse() on the same struct kv_request
 * or until the input is consumed.
 */
#ifndef DUET_KV_RESP_H
#define DUET_KV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's own bounds for header lines and inline requests. */
#define KV_RESP_INLINE_MAX (64u << 10)

struct kv_resp_limits {
	size_t max_bulk; /* one argument's bytes */
	size_t max_args; /* arguments of one request */
};

struct kv_arg {
	const uint8_t *p;
	size_t len;
};

struct kv_request {
	struct kv_arg *argv;
	size_t argc, argv_cap;
	uint8_t *scratch; /* inline arguments, unquoted */
	size_t scratch_cap;
};

enum kv_resp_result {
	KV_RESP_OK = 1,	   /* a request; *used bytes of input are its own */
	KV_RESP_MORE = 0,  /* incomplete: try again with *used bytes or more */
	KV_RESP_ERROR = -1 /* protocol error: *err says what, in Redis's words */
};

/* Parses the request at the front of in[0..len). An empty request (a
 * blank inline line, `*0`, `*-1`) is KV_RESP_OK with argc 0: skip it. */
enum kv_resp_result kv_resp_parse(struct kv_request *req, const uint8_t *in,
				  size_t len, const struct kv_resp_limits *lim,
				  size_t *used, const char **err);
void kv_request_free(struct kv_request *req);

/* A decimal integer in Redis's one form (no '+', no leading zeros, no
 * spaces), in range; false otherwise. */
bool kv_strtoll(const uint8_t *p, size_t n, long long *out);

/* ------------------------------------------------------------- replies */

/* A growable byte buffer; a failed allocation sets `failed` and drops the
 * rest (the connection is then closed). */
struct kv_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

void kv_buf_put(struct kv_buf *b, const void *p, size_t n);
void kv_buf_free(struct kv_buf *b);
/* Drops the first n bytes. */
void kv_buf_consume(struct kv_buf *b, size_t n);

void kv_reply_status(struct kv_buf *b, const char *s); /* +s */
void kv_reply_error(struct kv_buf *b, const char *s);  /* -s */
void kv_reply_errorf(struct kv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kv_reply_int(struct kv_buf *b, long long v);	      /* :v */
void kv_reply_bulk(struct kv_buf *b, const void *p, size_t n); /* $n */
void kv_reply_bulk_str(struct kv_buf *b, const char *s);
void kv_reply_null(struct kv_buf *b);			/* $-1 */
void kv_reply_array(struct kv_buf *b, size_t n);	/* *n */
void kv_reply_null_array(struct kv_buf *b);		/* *-1 */
void kv_reply_ok(struct kv_buf *b);

#endif
