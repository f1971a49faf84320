/* RESP2 requests and replies (resp.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/text.h>

#include "resp.h"

bool kv_strtoll(const uint8_t *p, size_t n, long long *out)
{
	unsigned long long v = 0, limit;
	bool neg = false;
	size_t i = 0;

	if (n == 0 || n > 20)
		return false;
	if (p[0] == '-') {
		neg = true;
		i = 1;
		if (n == 1)
			return false;
	}
	/* One form per number: no '+', no leading zero, no "-0". */
	if (p[i] == '0')
		return n == 1 && (*out = 0, true);
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

static bool grow_argv(struct kv_request *req, size_t want)
{
	if (want <= req->argv_cap)
		return true;
	size_t cap = req->argv_cap ? req->argv_cap : 8;
	while (cap < want)
		cap *= 2;
	struct kv_arg *a = realloc(req->argv, cap * sizeof(*a));
	if (a == NULL)
		return false;
	req->argv = a;
	req->argv_cap = cap;
	return true;
}

/* A header line "<c>N\r\n" at in[at..): its number, or an error. */
static enum kv_resp_result header(const uint8_t *in, size_t len, size_t at,
				  long long *n, size_t *next, size_t *need,
				  const char *too_big, const char *invalid,
				  const char **err)
{
	/* The usual header, a short positive number and CRLF, without the
	 * scan and the general number parser; anything else (a sign, a
	 * leading zero, a long number, no CRLF yet) takes the general path,
	 * which gives the same result for these. */
	size_t i = at + 1;
	unsigned long long v = 0;
	if (i < len && in[i] >= '1' && in[i] <= '9') {
		while (i < len && i - at <= 18 && in[i] >= '0' && in[i] <= '9')
			v = v * 10 + (unsigned)(in[i++] - '0');
		if (i + 1 < len && in[i] == '\r') {
			*n = (long long)v;
			*next = i + 2;
			return KV_RESP_OK;
		}
	}
	size_t room = len - at;
	const uint8_t *nl = memchr(in + at, '\r',
				   room < KV_RESP_INLINE_MAX ? room
							     : KV_RESP_INLINE_MAX);

	if (nl == NULL) {
		if (room >= KV_RESP_INLINE_MAX) {
			*err = too_big;
			return KV_RESP_ERROR;
		}
		*need = len + 1;
		return KV_RESP_MORE;
	}
	size_t end = (size_t)(nl - in);
	if (end + 1 >= len) {
		*need = end + 2;
		return KV_RESP_MORE;
	}
	if (!kv_strtoll(in + at + 1, end - at - 1, n)) {
		*err = invalid;
		return KV_RESP_ERROR;
	}
	*next = end + 2;
	return KV_RESP_OK;
}

static enum kv_resp_result parse_multibulk(struct kv_request *req,
					   const uint8_t *in, size_t len,
					   const struct kv_resp_limits *lim,
					   size_t *used, const char **err)
{
	long long count, blen;
	size_t at;
	enum kv_resp_result r;

	r = header(in, len, 0, &count, &at, used,
		   "Protocol error: too big mbulk count string",
		   "Protocol error: invalid multibulk length", err);
	if (r != KV_RESP_OK)
		return r;
	if (count > (long long)lim->max_args) {
		*err = "Protocol error: invalid multibulk length";
		return KV_RESP_ERROR;
	}
	if (count <= 0) {
		*used = at;
		return KV_RESP_OK;
	}
	if (!grow_argv(req, (size_t)count)) {
		*err = "Protocol error: out of memory";
		return KV_RESP_ERROR;
	}
	for (long long i = 0; i < count; i++) {
		if (at >= len) {
			*used = at + 1;
			return KV_RESP_MORE;
		}
		if (in[at] != '$') {
			static char msg[64];
			snprintf(msg, sizeof(msg),
				 "Protocol error: expected '$', got '%c'",
				 in[at] >= ' ' && in[at] < 127 ? in[at] : '?');
			*err = msg;
			return KV_RESP_ERROR;
		}
		r = header(in, len, at, &blen, &at, used,
			   "Protocol error: too big bulk count string",
			   "Protocol error: invalid bulk length", err);
		if (r != KV_RESP_OK)
			return r;
		if (blen < 0 || (unsigned long long)blen > lim->max_bulk) {
			*err = "Protocol error: invalid bulk length";
			return KV_RESP_ERROR;
		}
		if (len - at < (size_t)blen + 2) {
			*used = at + (size_t)blen + 2;
			return KV_RESP_MORE;
		}
		req->argv[i].p = in + at;
		req->argv[i].len = (size_t)blen;
		at += (size_t)blen + 2; /* the CRLF after the bytes, as sent */
	}
	req->argc = (size_t)count;
	*used = at;
	return KV_RESP_OK;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Splits one inline line into arguments, as redis-cli quotes them:
 * "..." with \n \r \t \b \a \\ \" and \xHH escapes, '...' with \'. */
static bool split_inline(struct kv_request *req, const uint8_t *s, size_t n)
{
	uint8_t *out = req->scratch;
	size_t i = 0;

	req->argc = 0;
	for (;;) {
		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			return true;
		if (!grow_argv(req, req->argc + 1))
			return false;
		uint8_t *start = out;
		int quote = 0; /* '"', '\'' or 0 */
		for (;;) {
			if (i == n) {
				if (quote)
					return false; /* unbalanced */
				break;
			}
			uint8_t c = s[i];
			if (quote == '"') {
				if (c == '\\' && i + 3 < n && s[i + 1] == 'x' &&
				    duet_hex_digit(s[i + 2]) >= 0 &&
				    duet_hex_digit(s[i + 3]) >= 0) {
					*out++ = (uint8_t)(duet_hex_digit(s[i + 2]) << 4 |
							   duet_hex_digit(s[i + 3]));
					i += 4;
					continue;
				}
				if (c == '\\' && i + 1 < n) {
					uint8_t e = s[i + 1];
					*out++ = e == 'n'   ? '\n'
						 : e == 'r' ? '\r'
						 : e == 't' ? '\t'
						 : e == 'b' ? '\b'
						 : e == 'a' ? '\a'
							    : e;
					i += 2;
					continue;
				}
				if (c == '"') {
					/* A closing quote ends the argument. */
					if (i + 1 < n && !is_space(s[i + 1]))
						return false;
					i++;
					break;
				}
				*out++ = c;
				i++;
			} else if (quote == '\'') {
				if (c == '\\' && i + 1 < n && s[i + 1] == '\'') {
					*out++ = '\'';
					i += 2;
					continue;
				}
				if (c == '\'') {
					if (i + 1 < n && !is_space(s[i + 1]))
						return false;
					i++;
					break;
				}
				*out++ = c;
				i++;
			} else {
				if (is_space(c))
					break;
				if (c == '"' || c == '\'')
					quote = c;
				else
					*out++ = c;
				i++;
			}
		}
		req->argv[req->argc].p = start;
		req->argv[req->argc].len = (size_t)(out - start);
		req->argc++;
	}
}

static enum kv_resp_result parse_inline(struct kv_request *req,
					const uint8_t *in, size_t len,
					const struct kv_resp_limits *lim,
					size_t *used, const char **err)
{
	size_t room = len < KV_RESP_INLINE_MAX ? len : KV_RESP_INLINE_MAX;
	const uint8_t *nl = memchr(in, '\n', room);

	if (nl == NULL) {
		if (len >= KV_RESP_INLINE_MAX) {
			*err = "Protocol error: too big inline request";
			return KV_RESP_ERROR;
		}
		*used = len + 1;
		return KV_RESP_MORE;
	}
	size_t n = (size_t)(nl - in);
	*used = n + 1;
	if (n > 0 && in[n - 1] == '\r')
		n--;
	if (n > req->scratch_cap) {
		uint8_t *s = realloc(req->scratch, n);
		if (s == NULL) {
			*err = "Protocol error: out of memory";
			return KV_RESP_ERROR;
		}
		req->scratch = s;
		req->scratch_cap = n;
	}
	if (!split_inline(req, in, n)) {
		*err = "Protocol error: unbalanced quotes in request";
		return KV_RESP_ERROR;
	}
	if (req->argc > lim->max_args) {
		*err = "Protocol error: invalid multibulk length";
		return KV_RESP_ERROR;
	}
	return KV_RESP_OK;
}

enum kv_resp_result kv_resp_parse(struct kv_request *req, const uint8_t *in,
				  size_t len, const struct kv_resp_limits *lim,
				  size_t *used, const char **err)
{
	req->argc = 0;
	if (len == 0) {
		*used = 1;
		return KV_RESP_MORE;
	}
	if (in[0] == '*')
		return parse_multibulk(req, in, len, lim, used, err);
	return parse_inline(req, in, len, lim, used, err);
}

void kv_request_free(struct kv_request *req)
{
	free(req->argv);
	free(req->scratch);
	memset(req, 0, sizeof(*req));
}

/* ------------------------------------------------------------- replies */

/* Room for n more bytes at b->p + b->len; NULL (b failed) if there is
 * none. */
static uint8_t *reserve(struct kv_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (q == NULL) {
			b->failed = true;
			return NULL;
		}
		b->p = q;
		b->cap = cap;
	}
	return b->p + b->len;
}

void kv_buf_put(struct kv_buf *b, const void *p, size_t n)
{
	uint8_t *q;

	if (n == 0 || (q = reserve(b, n)) == NULL)
		return;
	memcpy(q, p, n);
	b->len += n;
}

void kv_buf_free(struct kv_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void kv_buf_consume(struct kv_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void put_line(struct kv_buf *b, char type, const char *s, size_t n)
{
	uint8_t *q = n <= SIZE_MAX - 3 ? reserve(b, n + 3) : NULL;

	if (q == NULL) {
		b->failed = true;
		return;
	}
	q[0] = (uint8_t)type;
	memcpy(q + 1, s, n);
	q[n + 1] = '\r';
	q[n + 2] = '\n';
	b->len += n + 3;
}

/* "<type>v\r\n" at q (room for 24 bytes); returns its length. Every reply
 * carries a number or two: this is on the path of every request, where
 * snprintf costs more than the command. */
static size_t num_line(uint8_t *q, char type, long long v)
{
	char digits[20];
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v
				     : (unsigned long long)v;
	size_t nd = 0, n = 0;

	do {
		digits[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	q[n++] = (uint8_t)type;
	if (v < 0)
		q[n++] = '-';
	while (nd > 0)
		q[n++] = (uint8_t)digits[--nd];
	q[n++] = '\r';
	q[n++] = '\n';
	return n;
}

static void put_num(struct kv_buf *b, char type, long long v)
{
	uint8_t *q = reserve(b, 24);

	if (q != NULL)
		b->len += num_line(q, type, v);
}

void kv_reply_status(struct kv_buf *b, const char *s)
{
	put_line(b, '+', s, strlen(s));
}

void kv_reply_ok(struct kv_buf *b)
{
	kv_buf_put(b, "+OK\r\n", 5);
}

void kv_reply_error(struct kv_buf *b, const char *s)
{
	kv_reply_errorf(b, "%s", s);
}

void kv_reply_errorf(struct kv_buf *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	/* An error is one line: a newline from an argument would end it. */
	for (int i = 0; i < n; i++)
		if (msg[i] == '\r' || msg[i] == '\n')
			msg[i] = ' ';
	put_line(b, '-', msg, (size_t)n);
}

void kv_reply_int(struct kv_buf *b, long long v)
{
	put_num(b, ':', v);
}

void kv_reply_bulk(struct kv_buf *b, const void *p, size_t n)
{
	uint8_t *q = n <= SIZE_MAX - 26 ? reserve(b, 24 + n + 2) : NULL;

	if (q == NULL) {
		b->failed = true;
		return;
	}
	size_t h = num_line(q, '$', (long long)n);
	if (n > 0)
		memcpy(q + h, p, n);
	q[h + n] = '\r';
	q[h + n + 1] = '\n';
	b->len += h + n + 2;
}

void kv_reply_bulk_str(struct kv_buf *b, const char *s)
{
	kv_reply_bulk(b, s, strlen(s));
}

void kv_reply_null(struct kv_buf *b)
{
	kv_buf_put(b, "$-1\r\n", 5);
}

void kv_reply_array(struct kv_buf *b, size_t n)
{
	put_num(b, '*', (long long)n);
}

void kv_reply_null_array(struct kv_buf *b)
{
	kv_buf_put(b, "*-1\r\n", 5);
}
