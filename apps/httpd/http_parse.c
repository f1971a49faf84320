/* The request-head parser; see http_parse.h for what it accepts. It rescans
 * the buffer from the start on every call: heads are at most a few KiB, so
 * keeping no state across calls costs little and makes a request split at
 * any byte boundary parse exactly like one that arrived whole. */
#include <string.h>

#include <duet/text.h>

#include "http_parse.h"

const struct http_limits http_default_limits = {
    .max_line = 4096,
    .max_head = 8192,
    .max_headers = 64,
    .max_body = 4096,
};

/* Content-Length values beyond this are only "too large" (413). */
#define CL_SATURATE UINT64_C(1000000000000000000)

/* RFC 9110 tchar: the bytes a method or a field name may hold. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value byte: HTAB, visible ASCII, space, obs-text. */
static bool is_value_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool http_token_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lit[i] == '\0' || lower(s[i]) != lower(lit[i]))
			return false;
	return lit[i] == '\0';
}

bool http_list_next(const char *v, size_t n, size_t *pos, size_t *b, size_t *e)
{
	size_t i = *pos;

	for (;;) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i == n) {
			*pos = i;
			return false;
		}
		*b = i;
		while (i < n && v[i] != ',')
			i++;
		*e = i;
		while (*e > *b && (v[*e - 1] == ' ' || v[*e - 1] == '\t'))
			(*e)--;
		*pos = i;
		if (*e > *b)
			return true;
	}
}

/* The length of the line at p (up to and including LF), or 0 if no LF. */
static size_t line_len(const char *p, size_t avail)
{
	const char *lf = memchr(p, '\n', avail);

	return lf == NULL ? 0 : (size_t)(lf - p) + 1;
}

/* The content of a line of n bytes: without LF and an optional CR. */
static size_t content_len(const char *p, size_t n)
{
	n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Bytes that can never appear on a line: reject an incomplete line early
 * rather than waiting for the rest of it. A CR is checked once the line is
 * complete. */
static bool partial_line_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_value_byte((unsigned char)p[i]) && p[i] != '\r')
			return false;
	return true;
}

/* Decodes %HH escapes of p[0..n) into out (NULL: only checks them). */
static long pct_decode(const char *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++, o++) {
		char c = p[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3 || (hi = duet_hex_digit(p[i + 1])) < 0 ||
			    (lo = duet_hex_digit(p[i + 2])) < 0)
				return -400;
			c = (char)(hi << 4 | lo);
			/* A NUL would cut the name short; an encoded '/' would
			 * name a path other than the one the segments say. */
			if (c == '\0' || c == '/')
				return -400;
			i += 2;
		}
		if (out != NULL)
			out[o] = c;
	}
	return (long)o;
}

/* RFC 3986 section 5.2.4 on a decoded absolute path, in place: "." and ".."
 * segments go, and ".." at the root stays at the root. */
static size_t remove_dot_segments(char *p, size_t n)
{
	size_t in = 0, out = 0;

	while (in < n) {
		size_t seg = in + 1, end = seg; /* p[in] is '/' */
		while (end < n && p[end] != '/')
			end++;
		size_t len = end - seg;
		bool last = end == n;
		if (len == 1 && p[seg] == '.') {
			if (last)
				p[out++] = '/';
		} else if (len == 2 && p[seg] == '.' && p[seg + 1] == '.') {
			while (out > 0 && p[--out] != '/')
				;
			if (last)
				p[out++] = '/';
		} else {
			memmove(p + out, p + in, end - in);
			out += end - in;
		}
		in = end;
	}
	if (out == 0)
		p[out++] = '/';
	return out;
}

long http_path_decode(const char *path, size_t len, char *out, size_t cap)
{
	if (len > cap)
		return -414;
	long n = pct_decode(path, len, out);
	if (n < 0)
		return n;
	return (long)remove_dot_segments(out, (size_t)n);
}

/* RFC 3986 unreserved and sub-delims: the bytes a reg-name holds besides
 * its %HH escapes. */
static bool is_host_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL;
}

/* Host = uri-host [ ":" port ] (RFC 9110 section 7.2). An http URI never
 * has an empty host, so neither may its Host. */
static bool host_valid(const char *v, size_t n)
{
	size_t i = 0;

	if (n > 0 && v[0] == '[') {
		for (i = 1; i < n && v[i] != ']'; i++)
			if (!is_host_char((unsigned char)v[i]) && v[i] != ':')
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		for (; i < n && v[i] != ':'; i++) {
			if (v[i] == '%') {
				if (n - i < 3 || duet_hex_digit(v[i + 1]) < 0 ||
				    duet_hex_digit(v[i + 2]) < 0)
					return false;
				i += 2;
			} else if (!is_host_char((unsigned char)v[i])) {
				return false;
			}
		}
		if (i == 0)
			return false;
	}
	if (i < n && v[i++] != ':')
		return false;
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* The path of the target: origin-form "/p?q" as is; absolute-form
 * "http://host/p?q", which servers must accept (RFC 9112 section 3.2.2), by
 * dropping the scheme and authority. */
static int find_path(struct http_request *req)
{
	const char *t = req->target, *end = t + req->target_len;

	if (t[0] != '/') {
		size_t skip;
		if (req->target_len > 7 && http_token_eq(t, 7, "http://"))
			skip = 7;
		else if (req->target_len > 8 && http_token_eq(t, 8, "https://"))
			skip = 8;
		else
			return -1;
		t += skip;
		while (t < end && *t != '/' && *t != '?')
			t++;
		if (t == end || *t == '?') {
			/* "http://host" and "http://host?q" mean "/" */
			req->path = "/";
			req->path_len = 1;
			return 0;
		}
	}
	req->path = t;
	const char *q = memchr(t, '?', (size_t)(end - t));
	req->path_len = (size_t)((q != NULL ? q : end) - t);
	return 0;
}

static long parse_request_line(const char *p, size_t n,
			       struct http_request *req)
{
	size_t i = 0, start;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -400;
	req->method_str = p;
	req->method_len = i;
	if (i == 3 && memcmp(p, "GET", 3) == 0)
		req->method = HTTP_GET;
	else if (i == 4 && memcmp(p, "HEAD", 4) == 0)
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;

	start = ++i;
	while (i < n && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i == start || i == n || p[i] != ' ')
		return -400;
	req->target = p + start;
	req->target_len = i - start;
	if (find_path(req) < 0 ||
	    pct_decode(req->path, req->path_len, NULL) < 0)
		return -400;

	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 || p[i + 5] < '0' ||
	    p[i + 5] > '9' || p[i + 6] != '.' || p[i + 7] < '0' ||
	    p[i + 7] > '9')
		return -400;
	if (p[i + 5] != '1')
		return -505;
	req->minor = p[i + 7] == '0' ? 0 : 1;
	return 0;
}

struct head_state {
	bool host;
	bool conn_close;
	bool conn_keep_alive;
	bool has_cl;
	bool has_te;
	unsigned te_codings; /* transfer codings listed, in order */
	bool te_chunked_last;
	bool te_chunked_early; /* chunked before another coding */
};

/* Transfer-Encoding lists the codings applied in order (RFC 9112 section
 * 6.1); repeated fields continue the list. */
static void parse_transfer_encoding(const char *v, size_t n,
				    struct head_state *st)
{
	size_t i = 0, b, e;

	st->has_te = true;
	while (http_list_next(v, n, &i, &b, &e)) {
		if (st->te_chunked_last)
			st->te_chunked_early = true;
		st->te_chunked_last = http_token_eq(v + b, e - b, "chunked");
		st->te_codings++;
	}
}

static void parse_connection(const char *v, size_t n, struct head_state *st)
{
	size_t i = 0, b, e;

	while (http_list_next(v, n, &i, &b, &e)) {
		if (http_token_eq(v + b, e - b, "close"))
			st->conn_close = true;
		else if (http_token_eq(v + b, e - b, "keep-alive"))
			st->conn_keep_alive = true;
	}
}

static long parse_content_length(const char *v, size_t n, struct head_state *st,
				 struct http_request *req)
{
	uint64_t x = 0;

	if (n == 0)
		return -400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -400;
		if (x < CL_SATURATE)
			x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > CL_SATURATE)
		x = CL_SATURATE;
	if (st->has_cl && x != req->content_length)
		return -400;
	st->has_cl = true;
	req->content_length = x;
	return 0;
}

/* One header field line of n content bytes (terminator removed). */
static long parse_field(const char *p, size_t n, struct head_state *st,
			struct http_request *req)
{
	size_t i = 0, b, e;

	if (p[0] == ' ' || p[0] == '\t')
		return -400; /* obs-fold: refused, as RFC 9112 allows */
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return -400;
	const char *name = p;
	size_t name_len = i;

	for (b = i + 1; b < n; b++)
		if (!is_value_byte((unsigned char)p[b]))
			return -400;
	b = i + 1;
	while (b < n && (p[b] == ' ' || p[b] == '\t'))
		b++;
	e = n;
	while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;

	if (http_token_eq(name, name_len, "host")) {
		if (st->host || !host_valid(p + b, e - b))
			return -400;
		st->host = true;
		req->host = p + b;
		req->host_len = e - b;
	} else if (http_token_eq(name, name_len, "connection")) {
		parse_connection(p + b, e - b, st);
	} else if (http_token_eq(name, name_len, "content-length")) {
		return parse_content_length(p + b, e - b, st, req);
	} else if (http_token_eq(name, name_len, "transfer-encoding")) {
		parse_transfer_encoding(p + b, e - b, st);
	} else if (http_token_eq(name, name_len, "if-none-match")) {
		req->if_none_match = p + b;
		req->if_none_match_len = e - b;
	} else if (http_token_eq(name, name_len, "range")) {
		/* Two Range fields would combine into a multi-range list,
		 * which httpd does not serve: keep an empty, ignored value. */
		req->range_len = req->range != NULL ? 0 : e - b;
		req->range = p + b;
	} else if (http_token_eq(name, name_len, "if-range")) {
		req->if_range = p + b;
		req->if_range_len = e - b;
	}
	return 0;
}

long http_parse_request(const char *buf, size_t len,
			const struct http_limits *limits,
			struct http_request *req)
{
	struct head_state st = {0};
	size_t pos = 0, n;
	long r;

	memset(req, 0, sizeof(*req));
	req->method = HTTP_OTHER;
	req->minor = 1;

	/* Empty lines before a request (RFC 9112 section 2.2). */
	while (pos < len &&
	       (buf[pos] == '\n' ||
		(buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n')))
		pos += buf[pos] == '\r' ? 2 : 1;
	if (pos > limits->max_line)
		return -400;

	n = line_len(buf + pos, len - pos);
	if (n == 0) {
		if (len - pos >= limits->max_line)
			return -414;
		return partial_line_ok(buf + pos, len - pos) ? 0 : -400;
	}
	if (n > limits->max_line)
		return -414;
	size_t c = content_len(buf + pos, n);
	if (memchr(buf + pos, '\r', c) != NULL)
		return -400;
	if ((r = parse_request_line(buf + pos, c, req)) < 0)
		return r;
	pos += n;

	for (;;) {
		if (pos > limits->max_head)
			return -431;
		n = line_len(buf + pos, len - pos);
		if (n == 0) {
			if (len >= limits->max_head)
				return -431;
			return partial_line_ok(buf + pos, len - pos) ? 0 : -400;
		}
		c = content_len(buf + pos, n);
		if (memchr(buf + pos, '\r', c) != NULL)
			return -400;
		if (c == 0) {
			pos += n;
			break;
		}
		if (++req->header_count > limits->max_headers)
			return -431;
		if ((r = parse_field(buf + pos, c, &st, req)) < 0)
			return r;
		pos += n;
	}
	if (pos > limits->max_head)
		return -431;

	if (req->minor >= 1 && !st.host)
		return -400;
	if (st.has_te) {
		/* With Content-Length too, or in 1.0, or not ending in chunked,
		 * the body's end is ambiguous: a smuggling vector. */
		if (st.has_cl || req->minor == 0 || !st.te_chunked_last ||
		    st.te_chunked_early)
			return -400;
		if (st.te_codings > 1)
			return -501; /* a coding under chunked: none known */
		req->chunked = true;
	}
	if (req->content_length > limits->max_body)
		return -413;
	req->keep_alive = req->minor >= 1
			      ? !st.conn_close
			      : st.conn_keep_alive && !st.conn_close;
	return (long)pos;
}

/* ------------------------------------------------------ chunked bodies */

enum {
	CK_SIZE,    /* hex digits of a chunk size */
	CK_EXT,	    /* after the size: chunk extensions, up to CR */
	CK_SIZE_LF, /* CR seen after the size line */
	CK_DATA,    /* chunk data */
	CK_DATA_CR, /* the CRLF after a chunk's data */
	CK_DATA_LF,
	CK_TRAILER,  /* at the start of a trailer line */
	CK_FIELD,    /* inside a trailer field line */
	CK_FIELD_LF, /* CR seen after a trailer field */
	CK_END_LF,   /* CR of the final empty line seen */
	CK_DONE,
};

void http_chunked_init(struct http_chunked *ck)
{
	memset(ck, 0, sizeof(*ck));
}

bool http_chunked_done(const struct http_chunked *ck)
{
	return ck->state == CK_DONE;
}

/* Framing bytes are strict CRLF: a bare LF inside a body is where
 * front-ends and servers disagree on a body's end. */
long http_chunked_feed(struct http_chunked *ck, const char *p, size_t n,
		       const struct http_limits *limits)
{
	size_t i = 0;

	while (i < n && ck->state != CK_DONE) {
		unsigned char c = (unsigned char)p[i];
		int h;
		if (ck->state == CK_DATA) {
			size_t k = ck->left < n - i ? (size_t)ck->left : n - i;
			ck->left -= k;
			i += k;
			if (ck->left == 0)
				ck->state = CK_DATA_CR;
			continue;
		}
		i++;
		if (ck->state != CK_DATA_CR && ck->state != CK_DATA_LF &&
		    ++ck->line > limits->max_line)
			return -400;
		switch (ck->state) {
		case CK_SIZE:
			if ((h = duet_hex_digit(c)) >= 0) {
				if (ck->left > UINT64_MAX >> 4)
					return -413;
				ck->left = ck->left << 4 | (uint64_t)h;
				ck->digits++;
				if (ck->left > limits->max_body ||
				    ck->total + ck->left > limits->max_body)
					return -413;
				break;
			}
			if (ck->digits == 0)
				return -400;
			if (c == '\r')
				ck->state = CK_SIZE_LF;
			else if (c == ';' || c == ' ' || c == '\t')
				ck->state = CK_EXT;
			else
				return -400;
			break;
		case CK_EXT:
			if (c == '\r')
				ck->state = CK_SIZE_LF;
			else if (!is_value_byte(c))
				return -400;
			break;
		case CK_SIZE_LF:
			if (c != '\n')
				return -400;
			ck->line = 0;
			ck->digits = 0;
			ck->total += ck->left;
			ck->state = ck->left == 0 ? CK_TRAILER : CK_DATA;
			break;
		case CK_DATA_CR:
			if (c != '\r')
				return -400;
			ck->state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (c != '\n')
				return -400;
			ck->state = CK_SIZE;
			break;
		case CK_TRAILER:
			if (++ck->trailer_lines > limits->max_headers)
				return -431;
			if (c == '\r')
				ck->state = CK_END_LF;
			else if (is_tchar(c))
				ck->state = CK_FIELD;
			else
				return -400;
			break;
		case CK_FIELD:
			if (c == '\r')
				ck->state = CK_FIELD_LF;
			else if (!is_value_byte(c))
				return -400;
			break;
		case CK_FIELD_LF:
			if (c != '\n')
				return -400;
			ck->line = 0;
			ck->state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (c != '\n')
				return -400;
			ck->state = CK_DONE;
			break;
		default: return -400;
		}
	}
	return (long)i;
}
