/* Response heads: status lines, the Date format, validators. */
#include <string.h>

#include "http_parse.h"
#include "response.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* ------------------------------------------------------------ the date */

void httpd_format_date(uint64_t t, char *buf)
{
	static const char wd[7][4] = {"Thu", "Fri", "Sat", "Sun",
				      "Mon", "Tue", "Wed"};
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr",
					"May", "Jun", "Jul", "Aug",
					"Sep", "Oct", "Nov", "Dec"};
	uint64_t days = t / 86400, s = t % 86400;
	/* Civil date from days since 1970-01-01, in 400-year eras that start
	 * on March 1st so the leap day ends a year. */
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
	char *p = buf;

	memcpy(p, wd[days % 7], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	*p++ = (char)('0' + d / 10);
	*p++ = (char)('0' + d % 10);
	*p++ = ' ';
	memcpy(p, mon[m - 1], 3);
	p += 3;
	*p++ = ' ';
	for (int i = 3; i >= 0; i--, y /= 10)
		p[i] = (char)('0' + y % 10);
	p += 4;
	uint64_t f[3] = {s / 3600, s / 60 % 60, s % 60};
	for (int i = 0; i < 3; i++) {
		*p++ = i == 0 ? ' ' : ':';
		*p++ = (char)('0' + f[i] / 10);
		*p++ = (char)('0' + f[i] % 10);
	}
	memcpy(p, " GMT", 5);
}

/* ------------------------------------------------------- building heads */

struct out {
	char *p, *end;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > (size_t)(o->end - o->p))
		n = (size_t)(o->end - o->p);
	memcpy(o->p, s, n);
	o->p += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(struct out *o, unsigned long long v)
{
	char d[24];
	int i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(o, d + i, sizeof(d) - (size_t)i);
}

/* If-None-Match: a list of entity tags (weak comparison) or "*". */
bool httpd_etag_matches(const char *v, size_t n, const char *etag)
{
	size_t elen = strlen(etag), i = 0, b, e;

	while (http_list_next(v, n, &i, &b, &e)) {
		if (e - b == 1 && v[b] == '*')
			return true;
		if (e - b > 2 && v[b] == 'W' && v[b + 1] == '/')
			b += 2;
		if (e - b == elen && memcmp(v + b, etag, elen) == 0)
			return true;
	}
	return false;
}

/* Reads the digits at v[*i..n) (at least one), saturating at SIZE_MAX so
 * a huge position still compares as "past the end". */
static bool read_pos(const char *v, size_t n, size_t *i, size_t *out)
{
	size_t x = 0, start = *i;

	for (; *i < n && v[*i] >= '0' && v[*i] <= '9'; (*i)++) {
		size_t d = (size_t)(v[*i] - '0');
		x = x > (SIZE_MAX - d) / 10 ? SIZE_MAX : x * 10 + d;
	}
	*out = x;
	return *i > start;
}

int httpd_range(const char *v, size_t n, size_t size, size_t *first,
		size_t *last)
{
	size_t i = 6, a, b;

	if (n < 6 || !http_token_eq(v, 5, "bytes") || v[5] != '=')
		return 0;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i < n && v[i] == '-') { /* suffix: the last b bytes */
		i++;
		if (!read_pos(v, n, &i, &b))
			return 0;
		a = b < size ? size - b : 0;
		b = size - 1;
		if (size == 0 || a > b)
			return 416; /* "-0", or an empty file */
	} else {
		if (!read_pos(v, n, &i, &a) || i == n || v[i++] != '-')
			return 0;
		if (!read_pos(v, n, &i, &b))
			b = SIZE_MAX; /* "A-": to the end */
		else if (b < a)
			return 0; /* invalid range-spec: ignore the field */
	}
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i != n)
		return 0; /* a list of ranges, or trailing junk */
	if (a >= size)
		return 416;
	*first = a;
	*last = b < size ? b : size - 1;
	return 206;
}

bool httpd_if_range_matches(const char *v, size_t n, const char *etag)
{
	size_t elen = strlen(etag);

	return n == elen && memcmp(v, etag, n) == 0;
}

const char *httpd_error_body(int status)
{
	switch (status) {
	case 301: return "301 Moved Permanently: use https\n";
	case 404: return "404 Not Found\n";
	case 405: return "405 Method Not Allowed: GET and HEAD only\n";
	case 408: return "408 Request Timeout\n";
	case 413: return "413 Content Too Large\n";
	case 414: return "414 URI Too Long\n";
	case 416: return "416 Range Not Satisfiable\n";
	case 431: return "431 Request Header Fields Too Large\n";
	case 500: return "500 Internal Server Error: cannot read the file\n";
	case 501: return "501 Not Implemented: no transfer codings\n";
	case 503: return "503 Service Unavailable: out of memory\n";
	case 505: return "505 HTTP Version Not Supported\n";
	default: return "400 Bad Request\n";
	}
}

size_t httpd_response_head(char *buf, size_t cap, const struct httpd_head *hd)
{
	struct out o = {buf, buf + cap};

	puts_(&o, "HTTP/1.1 ");
	putu(&o, (unsigned)hd->status);
	puts_(&o, " ");
	puts_(&o, reason(hd->status));
	puts_(&o, "\r\nServer: Duet\r\nDate: ");
	puts_(&o, hd->date);
	if (hd->status != 304) {
		puts_(&o, "\r\nContent-Type: ");
		puts_(&o, hd->content_type);
		puts_(&o, "\r\nContent-Length: ");
		putu(&o, hd->content_length);
	}
	if (hd->status == 206 || hd->status == 416) {
		puts_(&o, "\r\nContent-Range: bytes ");
		if (hd->status == 206) {
			putu(&o, hd->range_first);
			puts_(&o, "-");
			putu(&o, hd->range_last);
		} else {
			puts_(&o, "*");
		}
		puts_(&o, "/");
		putu(&o, hd->range_size);
	}
	if (hd->accept_ranges)
		puts_(&o, "\r\nAccept-Ranges: bytes");
	if (hd->etag != NULL) {
		puts_(&o, "\r\nETag: ");
		puts_(&o, hd->etag);
	}
	if (hd->status == 405)
		puts_(&o, "\r\nAllow: GET, HEAD");
	if (hd->location != NULL) {
		puts_(&o, "\r\nLocation: ");
		put(&o, hd->location, hd->location_len);
	}
	if (hd->nosniff)
		puts_(&o, "\r\nX-Content-Type-Options: nosniff");
	if (hd->hsts > 0) {
		puts_(&o, "\r\nStrict-Transport-Security: max-age=");
		putu(&o, hd->hsts);
	}
	if (hd->connection != NULL) {
		puts_(&o, "\r\nConnection: ");
		puts_(&o, hd->connection);
	}
	puts_(&o, "\r\n\r\n");
	return (size_t)(o.p - buf);
}
