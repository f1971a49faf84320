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
 *   - Host required once on HTTP/1.1, never twice, and well-formed
 *     (uri-host [":" port], the host not empty) whenever present;
 *   - Content-Length: digits only; repeats must agree; at most
 *     limits.max_body;
 *   - Transfer-Encoding: exactly "chunked" (then the body is read with
 *     http_chunked_feed()); other codings are 501; chunked not last, or
 *     with Content-Length, or on HTTP/1.0 is 400 (the body's end would be
 *     ambiguous);
 *   - the path's %HH escapes well-formed, and neither %00 nor %2F (a
 *     request names a file by its segments; see http_path_decode()).
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
	bool chunked;		 /* the body is chunked; content_length 0 */
	unsigned header_count;
};

/* Parses the head at the start of buf[0..len).
 *   > 0  the head's length in bytes (the body, content_length bytes, follows);
 *     0  incomplete: call again with more bytes;
 *   < 0  minus the status code to answer before closing: -400, -413, -414,
 *        -431, -501 (a transfer coding other than chunked), -505 (HTTP
 *        major version not 1).
 * On error *req is partly filled (method, target, minor when they were
 * read), which is enough for an access-log line. */
long http_parse_request(const char *buf, size_t len,
			const struct http_limits *limits,
			struct http_request *req);

/* The file path a request names: req->path with its %HH escapes decoded and
 * its "." and ".." segments removed (RFC 3986 section 5.2.4; ".." never
 * climbs above "/"), into out[0..cap). Returns the length, -400 for an
 * escape http_parse_request() would refuse, -414 if len > cap. */
long http_path_decode(const char *path, size_t len, char *out, size_t cap);

/* A chunked request body (RFC 9112 section 7.1), fed as it arrives: the
 * data is counted and dropped (httpd serves no method that uses a body),
 * extensions and trailer fields are checked and ignored. The data is bound
 * by limits.max_body, each size, extension or trailer line by
 * limits.max_line, the trailer fields by limits.max_headers. */
struct http_chunked {
	uint64_t left;	/* the size being read, then its data still to come */
	uint64_t total; /* data bytes of the chunks so far */
	size_t line;	/* bytes of the current size or trailer line */
	unsigned digits;
	unsigned trailer_lines;
	int state;
};

void http_chunked_init(struct http_chunked *ck);
/* Consumes bytes of p[0..n) up to the end of the body: returns how many
 * (n unless the body ended before), or -400, -413 (data over max_body),
 * -431 (too many trailer fields). */
long http_chunked_feed(struct http_chunked *ck, const char *p, size_t n,
		       const struct http_limits *limits);
/* The body's last byte (its final CRLF) was consumed. */
bool http_chunked_done(const struct http_chunked *ck);

/* Case-insensitive ASCII comparison of a counted string with a C string. */
bool http_token_eq(const char *s, size_t len, const char *lit);

/* Walks a comma-separated header value (RFC 9110 #list): from *pos in
 * v[0..n), finds the next element, trimmed of blanks, as v[*b..*e).
 * Returns false when no element is left; empty elements are skipped. */
bool http_list_next(const char *v, size_t n, size_t *pos, size_t *b, size_t *e);

#endif
