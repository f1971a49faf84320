/* httpd's request-head parser: what it accepts, what it refuses, and that a
 * request parses the same however it is split. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http_parse.h"

static struct http_request req;
static char big[65536];

static long parse(const char *s)
{
	return http_parse_request(s, strlen(s), &http_default_limits, &req);
}

static long parse_n(const char *s, size_t n)
{
	return http_parse_request(s, n, &http_default_limits, &req);
}

static bool field_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* --------------------------------------------------------------- valid */

Test(http_parse, simple_get)
{
	const char *s = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert_eq(req.method, HTTP_GET);
	cr_assert(field_is(req.target, req.target_len, "/index.html"));
	cr_assert_eq(req.minor, 1);
	cr_assert(req.keep_alive);
	cr_assert_null(req.if_none_match);
	cr_assert_null(req.range);
	cr_assert_null(req.if_range);
	cr_assert_eq(req.content_length, 0);
	cr_assert_eq(req.header_count, 1);
}

Test(http_parse, head_and_query_string)
{
	const char *s = "HEAD /a/b?x=1&y=2 HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert_eq(req.method, HTTP_HEAD);
	cr_assert(field_is(req.target, req.target_len, "/a/b?x=1&y=2"));
	cr_assert(field_is(req.path, req.path_len, "/a/b"));
}

Test(http_parse, absolute_form_target)
{
	cr_assert_gt(
	    parse("GET http://example.org/a/b?c HTTP/1.1\r\nHost: x\r\n\r\n"),
	    0);
	cr_assert(field_is(req.path, req.path_len, "/a/b"));
	cr_assert(
	    field_is(req.target, req.target_len, "http://example.org/a/b?c"));
	cr_assert_gt(
	    parse("GET HTTPS://example.org HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	cr_assert(field_is(req.path, req.path_len, "/"));
	cr_assert_gt(parse("GET http://h?x=/y HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	cr_assert(field_is(req.path, req.path_len, "/"));
}

Test(http_parse, other_methods_parse_for_405)
{
	const char *s = "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert_eq(req.method, HTTP_OTHER);
	cr_assert(field_is(req.method_str, req.method_len, "DELETE"));
	/* Methods are case-sensitive: "get" is not GET. */
	cr_assert_gt(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	cr_assert_eq(req.method, HTTP_OTHER);
}

Test(http_parse, bare_lf_line_endings)
{
	const char *s = "GET / HTTP/1.1\nHost: x\n\n";
	cr_assert_eq(parse(s), (long)strlen(s));
}

Test(http_parse, leading_empty_lines_skipped)
{
	const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert(field_is(req.target, req.target_len, "/"));
}

Test(http_parse, header_names_any_case_values_trimmed)
{
	const char *s =
	    "GET / HTTP/1.1\r\nhOsT: x\r\nIF-NONE-MATCH: \t\"abc\" \t\r\n"
	    "cOnNeCtIoN: Close\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert(
	    field_is(req.if_none_match, req.if_none_match_len, "\"abc\""));
	cr_assert_not(req.keep_alive);
}

Test(http_parse, http10_keep_alive_rules)
{
	cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n"), 0);
	cr_assert_eq(req.minor, 0);
	cr_assert_not(req.keep_alive, "1.0 closes by default");
	cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
		     0);
	cr_assert(req.keep_alive);
	cr_assert_gt(
	    parse(
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n"),
	    0);
	cr_assert_not(req.keep_alive);
	cr_assert_gt(
	    parse(
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
	    0);
	cr_assert(req.keep_alive);
}

Test(http_parse, higher_minor_version_is_11)
{
	cr_assert_gt(parse("GET / HTTP/1.7\r\nHost: x\r\n\r\n"), 0);
	cr_assert_eq(req.minor, 1);
}

Test(http_parse, small_body_length_reported)
{
	const char *s =
	    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
	cr_assert_eq(parse(s), (long)strlen(s) - 5);
	cr_assert_eq(req.content_length, 5);
	/* Repeats that agree are one value. */
	cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
			   "Content-Length: 3\r\n\r\n"),
		     0);
	cr_assert_eq(req.content_length, 3);
}

/* ---------------------------------------------------------- pipelining */

Test(http_parse, pipelined_requests_in_one_buffer)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
			"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
			"GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d";
	const char *want[3] = {"/a", "/b", "/c"};
	size_t off = 0, len = strlen(s);

	for (int i = 0; i < 3; i++) {
		long n = parse_n(s + off, len - off);
		cr_assert_gt(n, 0, "request %d", i);
		cr_assert(field_is(req.target, req.target_len, want[i]));
		off += (size_t)n;
	}
	cr_assert_eq(parse_n(s + off, len - off), 0,
		     "the partial 4th needs more");
}

Test(http_parse, split_at_every_byte_boundary)
{
	const char *s = "GET /split?q=1 HTTP/1.1\r\nHost: example.org\r\n"
			"If-None-Match: \"e1\"\r\nAccept: */*\r\n\r\n";
	size_t len = strlen(s);

	/* The caller rescans its buffer: every prefix must say "need more",
	 * and the whole must parse. */
	for (size_t k = 0; k < len; k++)
		cr_assert_eq(parse_n(s, k), 0, "prefix of %zu bytes", k);
	cr_assert_eq(parse_n(s, len), (long)len);
	cr_assert(field_is(req.path, req.path_len, "/split"));
	cr_assert(field_is(req.if_none_match, req.if_none_match_len, "\"e1\""));
	cr_assert_eq(req.header_count, 3);
}

Test(http_parse, split_with_bare_lf_every_boundary)
{
	const char *s = "GET / HTTP/1.0\nA: b\n\n";
	size_t len = strlen(s);

	for (size_t k = 0; k < len; k++)
		cr_assert_eq(parse_n(s, k), 0, "prefix of %zu bytes", k);
	cr_assert_eq(parse_n(s, len), (long)len);
}

/* ----------------------------------------------------------- malformed */

Test(http_parse, malformed_request_lines)
{
	const char *bad[] = {
	    "GET\r\n\r\n",
	    "GET /\r\n\r\n",
	    "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
	    " GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET index.html HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET x/y HTTP/1.1\r\nHost: x\r\n\r\n",
	    "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i]), -400, "case %zu: %s", i, bad[i]);
}

Test(http_parse, bad_versions)
{
	const char *bad[] = {
	    "GET / HTTP/1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/1.1.1\r\nHost: x\r\n\r\n",
	    "GET / http/1.1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/x.1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/10.1\r\nHost: x\r\n\r\n",
	    "GET / HTX/1.1\r\nHost: x\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i]), -400, "case %zu: %s", i, bad[i]);
	cr_assert_eq(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -505);
	cr_assert_eq(parse("GET / HTTP/0.9\r\n\r\n"), -505);
}

Test(http_parse, obs_fold_rejected)
{
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tcontinued\r\n\r\n"),
	    -400);
}

Test(http_parse, missing_or_repeated_host)
{
	cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\n"), -400);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
		     -400);
	cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n"), 0, "1.0 needs no Host");
}

Test(http_parse, nul_bytes_rejected)
{
	const char a[] = "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n";
	const char b[] = "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n";
	const char c[] = "GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n";
	cr_assert_eq(parse_n(a, sizeof(a) - 1), -400);
	cr_assert_eq(parse_n(b, sizeof(b) - 1), -400);
	cr_assert_eq(parse_n(c, sizeof(c) - 1), -400);
	/* Early: a NUL in an incomplete line is already fatal. */
	cr_assert_eq(parse_n("GE\0", 3), -400);
}

Test(http_parse, non_token_header_names_and_ctl_values)
{
	const char *bad[] = {
	    "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\n(x): v\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nA: b\x01"
	    "c\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i]), -400, "case %zu", i);
	/* obs-text in values is allowed. */
	cr_assert_gt(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nA: caf\xc3\xa9\r\n\r\n"), 0);
}

Test(http_parse, content_length_conflicts)
{
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
			   "Content-Length: 2\r\n\r\n"),
		     -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n"),
	    -400);
}

Test(http_parse, body_too_large_is_413)
{
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n"),
	    -413);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: "
			   "99999999999999999999999999\r\n\r\n"),
		     -413);
	cr_assert_gt(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n"),
	    0);
}

Test(http_parse, transfer_encoding_chunked_accepted)
{
	cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "chunked\r\n\r\n"),
		     0);
	cr_assert(req.chunked);
	cr_assert_eq(req.content_length, 0);
	cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "Chunked \r\n\r\n"),
		     0, "codings are case-insensitive");
	cr_assert(req.chunked);
	cr_assert_gt(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	cr_assert_not(req.chunked);
}

Test(http_parse, transfer_encoding_ambiguous_or_unknown)
{
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n"),
	    -400, "TE with CL: smuggling");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "gzip, chunked\r\n\r\n"),
		     -501, "a coding httpd does not know");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "chunked, gzip\r\n\r\n"),
		     -400, "chunked must be last");
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "gzip\r\n\r\n"),
		     -400);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
			   "chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
		     -400, "chunked twice");
	cr_assert_eq(
	    parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n"),
	    -400);
	cr_assert_eq(
	    parse("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400,
	    "HTTP/1.0 has no chunked");
}

/* ------------------------------------------------------------ Host */

Test(http_parse, invalid_host_is_400)
{
	const char *bad[] = {
	    "a b", "local/host", "",	"a@b",	  "[::1", "[]",		 "x:8o",
	    ":80", "a%zz",	 "a?b", "[::1]x", "a\"b", "caf\xc3\xa9", "a#b"};
	char buf[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
			 bad[i]);
		cr_assert_eq(parse(buf), -400, "Host \"%s\"", bad[i]);
		snprintf(buf, sizeof(buf), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n",
			 bad[i]);
		cr_assert_eq(parse(buf), -400, "1.0, Host \"%s\"", bad[i]);
	}
}

Test(http_parse, valid_hosts_accepted)
{
	const char *good[] = {
	    "example.org", "example.org:8080", "127.0.0.1:80",	   "[::1]",
	    "[::1]:8080",  "[v1.fe80::a+en1]", "xn--caf-dma.test", "a%41b",
	    "localhost:",  "under_score.test"};
	char buf[128];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
			 good[i]);
		cr_assert_gt(parse(buf), 0, "Host \"%s\"", good[i]);
	}
}

/* ------------------------------------------------ percent-encoded paths */

static const char *decoded(const char *path)
{
	static char out[256];
	long n = http_path_decode(path, strlen(path), out, sizeof(out) - 1);
	if (n < 0)
		return n == -400 ? "(400)" : "(414)";
	out[n] = '\0';
	return out;
}

Test(http_parse, path_escapes_decoded)
{
	cr_assert_str_eq(decoded("/a%20b.txt"), "/a b.txt");
	cr_assert_str_eq(decoded("/%69ndex.html"), "/index.html");
	cr_assert_str_eq(decoded("/caf%C3%A9.txt"), "/caf\xc3\xa9.txt");
	cr_assert_str_eq(decoded("/caf%c3%a9.txt"), "/caf\xc3\xa9.txt");
	cr_assert_str_eq(decoded("/100%25.txt"), "/100%.txt");
	cr_assert_str_eq(decoded("/what%3F.txt"), "/what?.txt");
	cr_assert_str_eq(decoded("/c%23.txt"), "/c#.txt");
	cr_assert_str_eq(decoded("/plain/path"), "/plain/path");
}

Test(http_parse, dot_segments_never_leave_the_root)
{
	cr_assert_str_eq(decoded("/a/../b"), "/b");
	cr_assert_str_eq(decoded("/a/./b"), "/a/b");
	cr_assert_str_eq(decoded("/../../etc/passwd"), "/etc/passwd");
	cr_assert_str_eq(decoded("/%2e%2e/%2E%2E/etc/passwd"), "/etc/passwd");
	cr_assert_str_eq(decoded("/a/%2e%2E/%2e/b"), "/b");
	cr_assert_str_eq(decoded("/a/b/.."), "/a/");
	cr_assert_str_eq(decoded("/a/."), "/a/");
	cr_assert_str_eq(decoded("/.."), "/");
	cr_assert_str_eq(decoded("/."), "/");
	cr_assert_str_eq(decoded("/"), "/");
	cr_assert_str_eq(decoded("/..a/.b/..."), "/..a/.b/...",
			 "only whole segments are dot segments");
}

Test(http_parse, bad_escapes_refused)
{
	const char *bad[] = {"/a%2Fb", "/a%2fb", "/a%00b", "/a%zz",
			     "/a%4",   "/a%",	 "/%%41"};
	char buf[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_str_eq(decoded(bad[i]), "(400)", "%s", bad[i]);
		snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 bad[i]);
		cr_assert_eq(parse(buf), -400, "%s", bad[i]);
	}
	/* In the query, escapes are not the path's business. */
	cr_assert_gt(parse("GET /a?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	char out[4];
	cr_assert_eq(http_path_decode("/abcdef", 7, out, sizeof(out)), -414);
}

/* ------------------------------------------------------ chunked bodies */

static struct http_chunked ck;

static long feed(const char *s, size_t n)
{
	return http_chunked_feed(&ck, s, n, &http_default_limits);
}

Test(http_parse, chunked_body_consumed_to_its_end)
{
	const char *s =
	    "5\r\nhello\r\n1a;name=value\r\nabcdefghijklmnopqrstuvwxy"
	    "z\r\n0\r\nX-Trailer: t\r\n\r\nGET /";
	size_t body = strlen(s) - strlen("GET /");
	http_chunked_init(&ck);
	cr_assert_eq(feed(s, strlen(s)), (long)body);
	cr_assert(http_chunked_done(&ck));
	cr_assert_eq(ck.total, 31);
}

Test(http_parse, chunked_body_split_at_every_byte)
{
	const char *s = "4\r\nwiki\r\n5 ; x\r\npedia\r\nE\r\n in\r\n\r\nchunks."
			"\r\n0\r\n\r\n";
	size_t n = strlen(s);
	for (size_t cut = 0; cut <= n; cut++) {
		http_chunked_init(&ck);
		cr_assert_eq(feed(s, cut), (long)cut);
		cr_assert_eq(http_chunked_done(&ck), cut == n);
		cr_assert_eq(feed(s + cut, n - cut), (long)(n - cut));
		cr_assert(http_chunked_done(&ck), "cut at %zu", cut);
	}
	/* One byte at a time. */
	http_chunked_init(&ck);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(feed(s + i, 1), 1);
	cr_assert(http_chunked_done(&ck));
	cr_assert_eq(ck.total, 23);
}

Test(http_parse, malformed_chunked_bodies_refused)
{
	const char *bad[] = {
	    "\r\n",		     /* no size */
	    "x\r\n",		     /* not hex */
	    "5\nhello\r\n0\r\n\r\n", /* bare LF */
	    "5\r\nhelloX\r\n",	     /* data longer than its size */
	    "5\r\nhello\n0\r\n\r\n", /* bare LF after data */
	    "0\r\n\x01\r\n\r\n",     /* trailer not a field */
	    "0\r\nA: b\x01\r\n\r\n", /* control byte in a trailer */
	    "0\r\n\r\r",	     /* final CRLF broken */
	    "1;\x7f\r\n",	     /* control byte in an extension */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_chunked_init(&ck);
		cr_assert_eq(feed(bad[i], strlen(bad[i])), -400, "case %zu", i);
	}
}

Test(http_parse, chunked_body_bounded)
{
	http_chunked_init(&ck);
	cr_assert_eq(feed("1001\r\n", 6), -413, "one chunk over max_body");
	http_chunked_init(&ck);
	cr_assert_eq(feed("ffffffffffffffffffff\r\n", 22), -413,
		     "a size that overflows");
	/* Chunks that add up past the limit. */
	http_chunked_init(&ck);
	memset(big, 'x', 1024);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(feed("400\r\n", 5), 5);
		cr_assert_eq(feed(big, 1024), 1024);
		cr_assert_eq(feed("\r\n", 2), 2);
	}
	cr_assert_eq(feed("1\r\n", 3), -413, "byte 4097");
	/* An endless extension. */
	http_chunked_init(&ck);
	memset(big, 'a', 5000);
	big[0] = '1';
	big[1] = ';';
	cr_assert_eq(feed(big, 5000), -400);
	/* Endless trailer fields. */
	http_chunked_init(&ck);
	cr_assert_eq(feed("0\r\n", 3), 3);
	long r = 0;
	for (int i = 0; i < 100 && r >= 0; i++)
		r = feed("A: b\r\n", 6);
	cr_assert_eq(r, -431);
}

/* -------------------------------------------------------------- limits */

Test(http_parse, oversize_request_line_is_414)
{
	size_t n = 0;
	n += (size_t)sprintf(big, "GET /");
	memset(big + n, 'a', 5000);
	n += 5000;
	/* Still incomplete, already over the limit. */
	cr_assert_eq(parse_n(big, n), -414);
	n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(parse_n(big, n), -414);
	/* Just under the limit passes. */
	n = (size_t)sprintf(big, "GET /");
	size_t pad =
	    http_default_limits.max_line - strlen("GET / HTTP/1.1\r\n");
	memset(big + n, 'b', pad);
	n += pad;
	n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_gt(parse_n(big, n), 0);
}

Test(http_parse, oversize_head_is_431)
{
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'v', 9000);
	n += 9000;
	cr_assert_eq(parse_n(big, n), -431, "incomplete and over the limit");
	n += (size_t)sprintf(big + n, "\r\n\r\n");
	cr_assert_eq(parse_n(big, n), -431);
}

Test(http_parse, too_many_headers_is_431)
{
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 64; i++)
		n += (size_t)sprintf(big + n, "X-%d: y\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	cr_assert_eq(parse_n(big, n), -431, "65 fields");

	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 63; i++)
		n += (size_t)sprintf(big + n, "X-%d: y\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	cr_assert_gt(parse_n(big, n), 0, "64 fields");
}

Test(http_parse, custom_limits)
{
	const struct http_limits tight = {
	    .max_line = 32, .max_head = 64, .max_headers = 1, .max_body = 0};
	const char *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_gt(http_parse_request(s, strlen(s), &tight, &req), 0);
	s = "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n";
	cr_assert_eq(http_parse_request(s, strlen(s), &tight, &req), -431);
	s = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n";
	cr_assert_eq(http_parse_request(s, strlen(s), &tight, &req), -431);
}

Test(http_parse, token_eq)
{
	cr_assert(http_token_eq("Keep-Alive", 10, "keep-alive"));
	cr_assert_not(http_token_eq("keep", 4, "keep-alive"));
	cr_assert_not(http_token_eq("keep-alive!", 11, "keep-alive"));
}

Test(http_parse, range_and_if_range_kept_raw)
{
	const char *s =
	    "GET / HTTP/1.1\r\nHost: x\r\nrange:  bytes=0-1,5-6 \r\n"
	    "If-Range: \"e1\"\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert(field_is(req.range, req.range_len, "bytes=0-1,5-6"));
	cr_assert(field_is(req.if_range, req.if_range_len, "\"e1\""));
}

Test(http_parse, repeated_range_is_left_empty)
{
	const char *s = "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n"
			"Range: bytes=5-6\r\n\r\n";
	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert_not_null(req.range,
			   "present, so not served whole by mistake");
	cr_assert_eq(req.range_len, 0);
}

/* ------------------------------------------- random input, seeded */

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* Bytes from the alphabet that matters to the decoder, so that random
 * input reaches every state: the same verdict whether it arrives whole or
 * a byte at a time, never more consumed than given. */
Test(http_parse, chunked_random_input_same_verdict_however_split)
{
	static const char alphabet[] = "0123456789abcdefABCDEFxz;= \t\r\n:";
	char in[64];

	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + rnd() % sizeof(in);
		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		if (round % 3 == 0 && n > 3)
			memcpy(in, "3\r\n", 3); /* a valid start, often */
		http_chunked_init(&ck);
		long whole = feed(in, n);
		cr_assert_leq(whole, (long)n);
		bool done = http_chunked_done(&ck);
		http_chunked_init(&ck);
		long split = 0;
		for (size_t i = 0; i < n && !http_chunked_done(&ck); i++) {
			long r = feed(in + i, 1);
			if (r < 0) {
				split = r;
				break;
			}
			split += r;
		}
		cr_assert_eq(whole, split, "round %d", round);
		cr_assert_eq(done, http_chunked_done(&ck), "round %d", round);
	}
}

/* Decoded paths start with "/" and hold no "." or ".." segment. */
Test(http_parse, path_decode_random_input_never_escapes)
{
	static const char alphabet[] = "/./%2e%2E%2f%00a%41%zz..";
	char in[48], out[64];

	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + rnd() % (sizeof(in) - 1);
		in[0] = '/';
		for (size_t i = 1; i < n; i++)
			in[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		long k = http_path_decode(in, n, out, sizeof(out) - 1);
		if (k < 0) {
			cr_assert_eq(k, -400);
			continue;
		}
		out[k] = '\0';
		cr_assert_eq(out[0], '/', "%.*s -> %s", (int)n, in, out);
		for (char *p = out; (p = strchr(p, '/')) != NULL; p++) {
			size_t seg = strcspn(p + 1, "/");
			cr_assert_not(
			    (seg == 1 && p[1] == '.') ||
				(seg == 2 && p[1] == '.' && p[2] == '.'),
			    "%.*s -> %s", (int)n, in, out);
		}
	}
}
