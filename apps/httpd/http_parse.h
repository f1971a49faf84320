/* http_parse.h — the HTTP/1.x request-head parser of httpd.
 *
 * Pure C, no I/O, no allocation. The caller keeps the bytes a connection has
 * received in one buffer and calls http_parse_request() on it whenever more
 * arrive; the parser either finds a complete request head at the start of
 * the buffer, says it needs more bytes, or rejects the head with the status
 * code to answer with. A buffer may hold several pipelined requests: parse,
 * consume the returned length (plus the request's body, if any), repeat.
 *
 * The request refers to bytes inside the buffer: it is valid until the
 * caller changes them.
 *
 * What the parser accepts (RFC 9110/9112, strictly on the points that
 * matter for request smuggling):
 *   - request line `METHOD SP target SP HTTP/1.d`, the target in origin-form
 *     ("/p?q") or absolute-form ("http://host/p?q"); empty lines before it
 *     are skipped; lines may end in CRLF or a bare LF;
 *   - header fields `token ":" OWS value OWS`; no whitespace before the
 *     colon, no obs-fold continuation lines, no NUL or other control bytes
 *     in values (HTAB allowed);
 *   - Host required once on HTTP/1.1, never twice;
 *   - Content-Length: digits only; repeats must agree; at most
 *     limits.max_body; any Transfer-Encoding is refused (httpd takes no
 *     bodies of unknown length).
 */
#ifndef HTTPD_HTTP_PARSE_H
#define HTTPD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER, /* a valid token httpd does not implement: 405 */
};

struct http_limits {
	size_t max_line; /* request line, terminator included: else 414 */
	size_t max_head; /* whole head, final empty line included: else 431 */
	unsigned max_headers; /* header fields: else 431 */
	uint64_t max_body;    /* Content-Length: else 413 */
};

/* The limits httpd uses: 4 KiB line, 8 KiB head, 64 fields, 4 KiB body. */
extern const struct http_limits http_default_limits;

struct http_request {
	enum http_method method;
	const char *method_str;
	size_t method_len;
	const char *target; /* as sent */
	size_t target_len;
	const char *path; /* origin-form path: from '/' up to '?' */
	size_t path_len;
	int minor;	 /* HTTP/1.minor: 0 or 1 (1.2+ behaves as 1.1) */
	bool keep_alive; /* after version and Connection */
	const char *host; /* the Host value; NULL when absent */
	size_t host_len;
	const char *if_none_match; /* NULL when absent */
	size_t if_none_match_len;
	/* Range and If-Range values, raw (interpreted by the server); NULL
	 * when absent. A repeated Range leaves an empty value, which the
	 * server ignores like any malformed one. */
	const char *range;
	size_t range_len;
	const char *if_range;
	size_t if_range_len;
	uint64_t content_length; /* 0 when absent */
	unsigned header_count;
};

/* Parses the head at the start of buf[0..len).
 *   > 0  the head's length in bytes (the body, content_length bytes, follows);
 *     0  incomplete: call again with more bytes;
 *   < 0  minus the status code to answer before closing: -400, -413, -414,
 *        -431, -501 (Transfer-Encoding), -505 (HTTP major version not 1).
 * On error *req is partly filled (method, target, minor when they were
 * read), which is enough for an access-log line. */
long http_parse_request(const char *buf, size_t len,
			const struct http_limits *limits,
			struct http_request *req);

/* Case-insensitive ASCII comparison of a counted string with a C string. */
bool http_token_eq(const char *s, size_t len, const char *lit);

/* Walks a comma-separated header value (RFC 9110 #list): from *pos in
 * v[0..n), finds the next element, trimmed of blanks, as v[*b..*e).
 * Returns false when no element is left; empty elements are skipped. */
bool http_list_next(const char *v, size_t n, size_t *pos, size_t *b,
		    size_t *e);

#endif
