/* httpd's responses (tests/unit/http_server_fixture.h): what each request
 * gets, status lines, headers, bodies skipped or refused, paths decoded,
 * content types and the access log. */
#include "http_server_fixture.h"

Test(httpd, date_is_imf_fixdate)
{
	char buf[32];
	httpd_format_date(784111777, buf);
	cr_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	httpd_format_date(951782400, buf);
	cr_assert_str_eq(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
	httpd_format_date(0, buf);
	cr_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}

Test(httpd, get_index_headers_and_body)
{
	struct fconn *f = connect_(0);
	char date[32];

	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s",
		  f->out);
	cr_assert(strstr(f->out, "\r\nContent-Length: 12\r\n") != NULL);
	cr_assert(
	    strstr(f->out, "\r\nContent-Type: text/html; charset=utf-8\r\n") !=
	    NULL);
	cr_assert(strstr(f->out, "\r\nETag: \"") != NULL);
	httpd_format_date(duet_clock_wall() / DUET_NSEC_PER_SEC, date);
	cr_assert(strstr(f->out, date) != NULL, "Date from the wall clock");
	cr_assert(strstr(f->out, "\r\n\r\n<h1>hi</h1>\n") != NULL);
	cr_assert_not(f->closed || f->shut, "keep-alive by default");
	cr_assert(strstr(fakeplat_console(),
			 "httpd: 127.0.0.1:5000 \"GET / HTTP/1.1\" 200 12") !=
		      NULL,
		  "%s", fakeplat_console());
}

Test(httpd, if_none_match_gives_304)
{
	struct fconn *f = connect_(0);
	char req[256], etag[32];

	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(sscanf(strstr(f->out, "ETag: "), "ETag: %31s", etag), 1);
	f->out_len = 0;
	snprintf(req, sizeof(req),
		 "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"x\", "
		 "%s\r\n\r\n",
		 etag);
	send_str(f, req);
	cr_assert(strncmp(f->out, "HTTP/1.1 304 Not Modified\r\n", 27) == 0,
		  "%s", f->out);
	cr_assert(strstr(f->out, etag) != NULL);
	cr_assert_null(strstr(f->out, "Content-Length"));
	cr_assert(strcmp(f->out + f->out_len - 4, "\r\n\r\n") == 0, "no body");
	f->out_len = 0;
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
		    "\"other\"\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 200 OK", 15) == 0);
}

Test(httpd, head_has_length_but_no_body)
{
	struct fconn *f = connect_(0);
	send_str(f, "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "Content-Length: 20000\r\n") != NULL);
	cr_assert(strcmp(f->out + f->out_len - 4, "\r\n\r\n") == 0, "no body");
}

Test(httpd, not_found_and_method_not_allowed)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	f->out_len = 0;
	send_str(f, "POST / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) ==
		  0);
	cr_assert(strstr(f->out, "\r\nAllow: GET, HEAD\r\n") != NULL);
	cr_assert_not(f->closed || f->shut, "404 and 405 keep the connection");
}

Test(httpd, bad_request_answers_400_and_closes)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\nGET / "
		    "HTTP/1.1\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	cr_assert(strstr(f->out, "Connection: close\r\n") != NULL);
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "nothing after the error");
	cr_assert(f->shut, "FIN after the response");
	duet_tcp_deliver_recv(&f->base, "", 0);
	cr_assert(f->closed);
}

Test(httpd, body_of_get_is_skipped)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: "
		    "10\r\n\r\n01234");
	send_str(f, "56789GET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(count(f->out, "200 OK"), 2, "%s", f->out);
}

Test(httpd, chunked_body_of_get_is_parsed_and_skipped)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n5\r\nGET /");
	cr_assert_eq(count(f->out, "200 OK"), 1, "%s", f->out);
	/* The body goes on across receives; what looks like a request
	 * inside it is data. */
	send_str(f, "\r\n3;ext=1\r\nGET\r\n0\r\nTrailer: x\r\n\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "%s", f->out);
	send_str(f, "HEAD /b.css HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n0\r\n\r\nGET /b.css HTTP/1.1\r\nHost: "
		    "x\r\n\r\n");
	cr_assert_eq(count(f->out, "200 OK"), 3, "%s", f->out);
	cr_assert_not(f->closed || f->shut || f->aborted);
}

Test(httpd, malformed_chunked_body_answers_400_and_closes)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n");
	send_str(f, "zz\r\nGET /b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1 200 OK"), 1, "%s", f->out);
	cr_assert_eq(count(f->out, "HTTP/1.1 400 Bad Request"), 1, "%s",
		     f->out);
	cr_assert_eq(count(f->out, "HTTP/1.1"), 2, "nothing after the error");
	cr_assert(f->shut);
}

Test(httpd, oversize_chunked_body_is_413)
{
	struct fconn *f = connect_(0);
	send_str(f, "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\nf");
	send_str(f, "ff");
	cr_assert_eq(count(f->out, "HTTP/1.1"), 1, "a size of 4095 fits");
	send_str(f, "f\r\n");
	cr_assert_eq(count(f->out, "HTTP/1.1 413"), 1, "%s", f->out);
	cr_assert(f->shut);
}

Test(httpd, percent_encoded_paths_name_files)
{
	cr_assert_eq(
	    httpd_table_add(&table, "/a b.txt", (const uint8_t *)"space", 5),
	    0);
	cr_assert_eq(httpd_table_add(&table, "/caf\xc3\xa9 100%?#.txt",
				     (const uint8_t *)"odd", 3),
		     0);
	struct fconn *f = connect_(0);
	send_str(f, "GET /a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nspace"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /caf%C3%A9%20100%25%3F%23.txt?q=1 HTTP/1.1\r\nHost: "
		    "x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nodd"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /%69ndex.html HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "<h1>hi</h1>"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /x/%2e%2e/../b.css HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strstr(f->out, "200 OK") && strstr(f->out, "\r\n\r\nBB"),
		  "%s", f->out);
	f->out_len = 0;
	send_str(f, "GET /a%2Fb.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert(strncmp(f->out, "HTTP/1.1 400", 12) == 0, "%s", f->out);
}

Test(httpd, invalid_host_is_400)
{
	const char *bad[] = {"a b", "local/host", ""};
	for (int i = 0; i < 3; i++) {
		struct fconn *f = connect_(i);
		char req[128];
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
			 bad[i]);
		send_str(f, req);
		cr_assert(strncmp(f->out, "HTTP/1.1 400", 12) == 0, "%s: %s",
			  bad[i], f->out);
		cr_assert(f->shut);
	}
}

Test(httpd, access_log_off_is_silent)
{
	struct httpd_source src;
	httpd_stop(&srv, NULL, NULL);
	httpd_table_source(&table, &src);
	cfg.access_log = false;
	cr_assert_eq(httpd_start(&srv, loop, &fstack, &cfg, &src), 0);
	struct fconn *f = connect_(0);
	send_str(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_null(strstr(fakeplat_console(), "\"GET / HTTP/1.1\""));
}

Test(httpd, content_types)
{
	cr_assert_str_eq(httpd_content_type("/x/style.css"),
			 "text/css; charset=utf-8");
	cr_assert_str_eq(httpd_content_type("/favicon.svg"), "image/svg+xml");
	cr_assert_str_eq(httpd_content_type("/a.b/noext"),
			 "application/octet-stream");
	cr_assert_str_eq(httpd_content_type("/64k"),
			 "application/octet-stream");
}
