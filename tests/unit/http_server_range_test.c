/* httpd's byte ranges (tests/unit/http_server_fixture.h): Range and
 * If-Range on GET and HEAD, unsatisfiable and ignored ranges, and how a
 * Range value is read. */
#include "http_server_fixture.h"

/* Sends a GET of /index.html ("<h1>hi</h1>\n", 12 bytes) with extra header
 * lines and returns what came back. */
static const char *get_index(struct fconn *f, const char *method,
			     const char *extra)
{
	char req[512];

	f->out_len = 0;
	if (f->out != NULL)
		f->out[0] = '\0';
	snprintf(req, sizeof(req),
		 "%s /index.html HTTP/1.1\r\nHost: x\r\n%s\r\n", method, extra);
	send_str(f, req);
	return f->out;
}

Test(httpd, range_forms_give_206)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "GET", "Range: bytes=1-3\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 Partial Content\r\n", 30) == 0, "%s",
		  o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes 1-3/12\r\n") != NULL);
	cr_assert(strstr(o, "\r\nContent-Length: 3\r\n") != NULL);
	cr_assert_str_eq(body_of(o), "h1>");

	o = get_index(f, "GET", "Range: bytes=8-\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 8-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), "h1>\n");

	o = get_index(f, "GET", "Range: bytes=-2\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 10-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), ">\n");

	/* Past the end is clipped; a suffix longer than the file is all. */
	o = get_index(f, "GET", "Range: bytes=10-99999999999999999999999\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 10-11/12\r\n") != NULL,
		  "%s", o);
	o = get_index(f, "GET", "Range: BYTES=-500\r\n");
	cr_assert(strstr(o, "\r\nContent-Range: bytes 0-11/12\r\n") != NULL,
		  "%s", o);
	cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	cr_assert_not(f->closed || f->shut);
	cr_assert(strstr(fakeplat_console(), "\" 206 12") != NULL, "%s",
		  fakeplat_console());
}

Test(httpd, range_from_offset_of_big_file)
{
	struct fconn *f = connect_(0);

	big_file[15000] = 'Q';
	send_str(f, "GET /big.bin HTTP/1.1\r\nHost: x\r\n"
		    "Range: bytes=15000-15009\r\n\r\n");
	cr_assert(strstr(f->out, "Content-Range: bytes 15000-15009/20000\r\n"),
		  "%s", f->out);
	cr_assert_str_eq(body_of(f->out), "Qzzzzzzzzz");
}

Test(httpd, unsatisfiable_range_gives_416)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "GET", "Range: bytes=12-\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 Range Not Satisfiable\r\n", 36) == 0,
		  "%s", o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes */12\r\n") != NULL);
	cr_assert_null(strstr(o, "Accept-Ranges"));
	cr_assert_str_eq(body_of(o), "416 Range Not Satisfiable\n");
	o = get_index(f, "GET", "Range: bytes=-0\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 ", 13) == 0, "%s", o);
	cr_assert_not(f->closed || f->shut);
}

Test(httpd, multi_or_malformed_range_gives_whole_file)
{
	static const char *const bad[] = {
	    "Range: bytes=0-1,5-6\r\n",
	    "Range: bytes=5-2\r\n",
	    "Range: items=0-1\r\n",
	    "Range: bytes=x-\r\n",
	    "Range: bytes=-\r\n",
	    "Range: bytes=1-2\r\nRange: bytes=3-4\r\n",
	};
	struct fconn *f = connect_(0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *o = get_index(f, "GET", bad[i]);
		cr_assert(strncmp(o, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s: %s",
			  bad[i], o);
		cr_assert(strstr(o, "\r\nAccept-Ranges: bytes\r\n") != NULL);
		cr_assert_null(strstr(o, "Content-Range"));
		cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	}
}

Test(httpd, if_range_applies_only_on_matching_etag)
{
	struct fconn *f = connect_(0);
	char hdr[128], etag[32];
	const char *o;

	o = get_index(f, "GET", "");
	cr_assert_eq(sscanf(strstr(o, "ETag: "), "ETag: %31s", etag), 1);
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-Range: %s\r\n",
		 etag);
	o = get_index(f, "GET", hdr);
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
	cr_assert_str_eq(body_of(o), "<h1>");
	/* A weak tag never matches (strong comparison), nor a date. */
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-Range: W/%s\r\n",
		 etag);
	const char *const miss[] = {
	    "Range: bytes=0-3\r\nIf-Range: \"stale\"\r\n",
	    "Range: bytes=0-3\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	    hdr,
	};
	for (size_t i = 0; i < 3; i++) {
		o = get_index(f, "GET", miss[i]);
		cr_assert(strncmp(o, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", o);
		cr_assert_str_eq(body_of(o), "<h1>hi</h1>\n");
	}
}

Test(httpd, head_with_range_gets_the_get_head)
{
	struct fconn *f = connect_(0);
	const char *o;

	o = get_index(f, "HEAD", "Range: bytes=2-5\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
	cr_assert(strstr(o, "\r\nContent-Range: bytes 2-5/12\r\n") != NULL);
	cr_assert(strstr(o, "\r\nContent-Length: 4\r\n") != NULL);
	cr_assert_str_eq(body_of(o), "", "no body");
	o = get_index(f, "HEAD", "Range: bytes=50-\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 416 ", 13) == 0, "%s", o);
	cr_assert_str_eq(body_of(o), "", "no body");
}

Test(httpd, if_none_match_wins_over_range)
{
	struct fconn *f = connect_(0);
	char hdr[128], etag[32];
	const char *o;

	o = get_index(f, "GET", "");
	cr_assert(strstr(o, "\r\nAccept-Ranges: bytes\r\n") != NULL, "%s", o);
	cr_assert_eq(sscanf(strstr(o, "ETag: "), "ETag: %31s", etag), 1);
	snprintf(hdr, sizeof(hdr), "Range: bytes=0-3\r\nIf-None-Match: %s\r\n",
		 etag);
	o = get_index(f, "GET", hdr);
	cr_assert(strncmp(o, "HTTP/1.1 304 ", 13) == 0, "%s", o);
	cr_assert_null(strstr(o, "Content-Range"));
	o = get_index(f, "GET",
		      "Range: bytes=0-3\r\nIf-None-Match: \"other\"\r\n");
	cr_assert(strncmp(o, "HTTP/1.1 206 ", 13) == 0, "%s", o);
}

Test(httpd, range_interpretation)
{
	static const struct {
		const char *v;
		size_t size;
		int want;
		size_t first, last;
	} c[] = {
	    {"bytes=0-0", 10, 206, 0, 0},
	    {"bytes=0-", 10, 206, 0, 9},
	    {"bytes=9-9", 10, 206, 9, 9},
	    {"bytes=-1", 10, 206, 9, 9},
	    {"bytes=-10", 10, 206, 0, 9},
	    {"bytes= 2-4 ", 10, 206, 2, 4},
	    {"bytes=10-", 10, 416, 0, 0},
	    {"bytes=0-", 0, 416, 0, 0},
	    {"bytes=-5", 0, 416, 0, 0},
	    {"bytes=-0", 10, 416, 0, 0},
	    {"bytes=0-1,2-3", 10, 0, 0, 0},
	    {"bytes=3-2", 10, 0, 0, 0},
	    {"bytes=", 10, 0, 0, 0},
	    {"bytes=1", 10, 0, 0, 0},
	    {"bytes 1-2", 10, 0, 0, 0},
	    {"bytes=1-2x", 10, 0, 0, 0},
	    {"", 10, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t a = 0, b = 0;
		int r = httpd_range(c[i].v, strlen(c[i].v), c[i].size, &a, &b);
		cr_assert_eq(r, c[i].want, "%s: %d", c[i].v, r);
		if (r == 206)
			cr_assert(a == c[i].first && b == c[i].last,
				  "%s: %zu-%zu", c[i].v, a, b);
	}
}
