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

/* The short text body of an error response. */
const char *httpd_error_body(int status);

#endif
