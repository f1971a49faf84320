/* httpd's request-head parser on any bytes: a head is complete, incomplete
 * or refused with one of the documented statuses; a complete head parses
 * the same from exactly its own bytes, no strict prefix of it is complete,
 * every field points inside it, and a refused head stays refused whatever
 * follows. */
#include "http_parse.h"

#include "fuzz.h"

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p == NULL ||
	       (p >= buf && n <= len && p - buf <= (long)(len - n));
}

static void check_fields(const struct http_request *r, const char *buf,
			 size_t len)
{
	FUZZ_CHECK(inside(r->method_str, r->method_len, buf, len));
	FUZZ_CHECK(inside(r->target, r->target_len, buf, len));
	/* "http://host" has the path "/", from outside the buffer. */
	FUZZ_CHECK(inside(r->path, r->path_len, buf, len) ||
		   (r->path_len == 1 && r->path[0] == '/'));
	FUZZ_CHECK(inside(r->if_none_match, r->if_none_match_len, buf, len));
	FUZZ_CHECK(inside(r->range, r->range_len, buf, len));
	FUZZ_CHECK(inside(r->if_range, r->if_range_len, buf, len));
	FUZZ_CHECK(r->minor == 0 || r->minor == 1);
	FUZZ_CHECK(r->header_count <= http_default_limits.max_headers);
	FUZZ_CHECK(r->content_length <= http_default_limits.max_body);
	FUZZ_CHECK(r->path_len >= 1 && r->path[0] == '/');
	if (r->if_none_match != NULL) {
		size_t pos = 0, b, e, items = 0;
		while (http_list_next(r->if_none_match, r->if_none_match_len,
				      &pos, &b, &e)) {
			FUZZ_CHECK(b <= e && e <= r->if_none_match_len);
			FUZZ_CHECK(++items <= r->if_none_match_len);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct http_limits *lim = &http_default_limits;
	/* The parser's own copy, so ASan sees any byte read past the end. */
	char *buf = malloc(size + 4);
	struct http_request req, again;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	long r = http_parse_request(buf, size, lim, &req);
	FUZZ_CHECK(r <= (long)size);
	if (r > 0) {
		check_fields(&req, buf, (size_t)r);
		FUZZ_CHECK(http_parse_request(buf, (size_t)r, lim, &again) ==
			   r);
		FUZZ_CHECK(again.method == req.method &&
			   again.content_length == req.content_length &&
			   again.keep_alive == req.keep_alive);
		FUZZ_CHECK(
		    http_parse_request(buf, (size_t)r - 1, lim, &again) == 0);
		FUZZ_CHECK(
		    http_parse_request(buf, (size_t)r / 2, lim, &again) == 0);
	} else if (r == 0) {
		FUZZ_CHECK(size <= lim->max_head);
		/* However it ends, a blank line completes or refuses it. */
		memcpy(buf + size, "\r\n\r\n", 4);
		long end = http_parse_request(buf, size + 4, lim, &again);
		FUZZ_CHECK(end != 0 || size + 4 <= lim->max_head);
	} else {
		FUZZ_CHECK(r == -400 || r == -413 || r == -414 || r == -431 ||
			   r == -501 || r == -505);
		memcpy(buf + size, "\r\n\r\n", 4);
		/* Refused, if not always for the same reason: a head past
		 * the limits is refused whole once its lines end. */
		FUZZ_CHECK(http_parse_request(buf, size + 4, lim, &again) < 0);
	}
	free(buf);
	return 0;
}
