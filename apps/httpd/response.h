/* response.h — building httpd's response heads (internal to httpd). */
#ifndef HTTPD_RESPONSE_H
#define HTTPD_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct httpd_head {
	int status;
	const char *date;	  /* IMF-fixdate */
	const char *content_type; /* not sent with 304 */
	size_t content_length;	  /* the GET's length, also for HEAD */
	const char *etag;	  /* NULL: none */
	const char *connection;	  /* "close", "keep-alive" or NULL: none */
	unsigned long hsts;	  /* Strict-Transport-Security max-age; 0: none */
	bool nosniff;		  /* X-Content-Type-Options: nosniff */
	const char *location;	  /* Location (301); NULL: none */
	size_t location_len;
	bool accept_ranges;	  /* send "Accept-Ranges: bytes" */
	/* Content-Range: with 206 "bytes first-last/size", with 416
	 * "bytes *" "/size". */
	size_t range_first, range_last, range_size;
};

/* Writes the head, final empty line included, into buf and returns its
 * length; cut at cap (HTTPD_HEAD_CAP is far more than any head needs). */
size_t httpd_response_head(char *buf, size_t cap, const struct httpd_head *hd);

/* RFC 7231 IMF-fixdate of a Unix time: "Sun, 06 Nov 1994 08:49:37 GMT".
 * buf needs 30 bytes. */
void httpd_format_date(uint64_t unix_sec, char *buf);

/* Whether an If-None-Match value (a list of entity tags, or "*") matches
 * etag, by the weak comparison RFC 9110 prescribes for it. */
bool httpd_etag_matches(const char *value, size_t len, const char *etag);

/* Interprets a Range value (RFC 9110 14.2) against a file of size bytes:
 *   206  one satisfiable range, bytes [*first, *last] (clipped to the file);
 *   416  one range that starts at or past the end (or "-0", or any range
 *        of an empty file);
 *     0  no range to apply: the value is malformed, names another unit,
 *        or lists several ranges. Ignoring such a Range and answering 200
 *        with the whole file is what RFC 9110 allows; httpd serves single
 *        ranges only, so it never builds multipart/byteranges bodies. */
int httpd_range(const char *v, size_t n, size_t size, size_t *first,
		size_t *last);

/* Whether an If-Range value lets the range apply: only an entity tag equal
 * to etag by the strong comparison (httpd sends no Last-Modified, so a
 * date never matches). */
bool httpd_if_range_matches(const char *v, size_t n, const char *etag);

/* The short text body of an error response. */
const char *httpd_error_body(int status);

#endif
