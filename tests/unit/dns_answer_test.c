/* apps/dns/answer.c: what the server answers, byte by byte, for every kind
 * of query it takes (the zones and the client: dns_testlib.h). Malformed
 * input and the fuzz loop: dns_malformed_test.c. */
#include "dns_testlib.h"

/* ------------------------------------------------------------ answers */

Test(dns_answer, a_record)
{
	struct resp r = ask("mail.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert(r.aa && !r.tc);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.ns + r.ar, 0);
	expect_a(&r, 0, "mail.example.com.", "192.0.2.25");
	cr_assert_eq(r.rr[0].ttl, 3600);
	cr_assert_eq(out[r.len - 16], 0xc0, "the owner is a pointer...");
	cr_assert_eq(out[r.len - 15], 12, "...to the question");
}

Test(dns_answer, rrset_with_two_records_and_own_ttl)
{
	struct resp r = ask("host1.example.com", DNS_T_A);

	cr_assert_eq(r.an, 2);
	expect_a(&r, 0, "host1.example.com.", "192.0.2.10");
	expect_a(&r, 1, "host1.example.com.", "192.0.2.11");
	cr_assert_eq(r.rr[0].ttl, 300);
}

Test(dns_answer, aaaa_record)
{
	struct resp r = ask("ns1.example.com", DNS_T_AAAA);
	const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53};

	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.rr[0].type, DNS_T_AAAA);
	cr_assert_eq(r.rr[0].rdlen, 16);
	cr_assert_eq(memcmp(out + r.rr[0].rdoff, want, 16), 0);
}

Test(dns_answer, case_is_ignored_and_the_question_keeps_its_case)
{
	struct resp r = ask("MaIl.ExAmPlE.cOm", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_str_eq(r.qname, "MaIl.ExAmPlE.cOm.");
	expect_a(&r, 0, "MaIl.ExAmPlE.cOm.", "192.0.2.25");
}

Test(dns_answer, cname_chain_is_followed_within_the_zone)
{
	struct resp r = ask("www.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an, 4);
	cr_assert_eq(r.rr[0].type, DNS_T_CNAME);
	cr_assert_str_eq(r.rr[0].owner, "www.example.com.");
	cr_assert_str_eq(r.rr[0].target, "web.example.com.");
	cr_assert_str_eq(r.rr[1].owner, "web.example.com.");
	cr_assert_str_eq(r.rr[1].target, "host1.example.com.");
	expect_a(&r, 2, "host1.example.com.", "192.0.2.10");
	expect_a(&r, 3, "host1.example.com.", "192.0.2.11");
	/* Compressed: each name is new labels plus a pointer. */
	cr_assert_lt(r.len, 120, "%zu bytes: names not compressed", r.len);
}

Test(dns_answer, cname_query_gets_the_cname_alone)
{
	struct resp r = ask("www.example.com", DNS_T_CNAME);

	cr_assert_eq(r.an, 1);
	cr_assert_str_eq(r.rr[0].target, "web.example.com.");
}

Test(dns_answer, dangling_cname_ends_in_nxdomain)
{
	struct resp r = ask("gone.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NXDOMAIN);
	cr_assert_eq(r.an, 1);
	cr_assert_str_eq(r.rr[0].target, "nowhere.example.com.");
	expect_soa_authority(&r);
}

Test(dns_answer, cname_out_of_the_zone_is_not_followed)
{
	struct resp r = ask("outside.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.ns, 0);
	cr_assert_str_eq(r.rr[0].target, "www.example.org.");
}

Test(dns_answer, cname_loop_stops)
{
	struct resp r = ask("loop1.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an, 8);
}

Test(dns_answer, nxdomain_with_soa)
{
	struct resp r = ask("nope.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NXDOMAIN);
	cr_assert(r.aa);
	cr_assert_eq(r.an, 0);
	expect_soa_authority(&r);
	cr_assert_eq(srv.stats.nxdomain, 1);
}

Test(dns_answer, nodata_for_a_name_without_the_type)
{
	struct resp r = ask("mail.example.com", DNS_T_AAAA);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an, 0);
	expect_soa_authority(&r);
	cr_assert_eq(srv.stats.nodata, 1);
}

Test(dns_answer, empty_non_terminal_is_nodata)
{
	struct resp r = ask("b.c.example.com", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	expect_soa_authority(&r);
}

Test(dns_answer, outside_the_zones_is_refused)
{
	struct resp r = ask("example.net", DNS_T_A);

	cr_assert_eq(r.rcode, DNS_R_REFUSED);
	cr_assert(!r.aa);
	cr_assert_eq(r.an + r.ns + r.ar, 0);
	r = ask("com", DNS_T_NS);
	cr_assert_eq(r.rcode, DNS_R_REFUSED);
}

Test(dns_answer, second_zone)
{
	struct resp r = ask("www.example.org", DNS_T_A);

	expect_a(&r, 0, "www.example.org.", "198.51.100.80");
	r = ask("x.example.org", DNS_T_A);
	cr_assert_eq(r.rcode, DNS_R_NXDOMAIN);
	cr_assert_str_eq(r.rr[0].owner, "example.org.");
	cr_assert_eq(r.rr[0].ttl, 5);
}

Test(dns_answer, apex_ns_mx_soa)
{
	struct resp r = ask("example.com", DNS_T_NS);

	cr_assert_eq(r.an, 2);
	cr_assert_str_eq(r.rr[0].target, "ns1.example.com.");
	cr_assert_str_eq(r.rr[1].target, "ns2.example.net.");
	r = ask("example.com", DNS_T_MX);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(out[r.rr[0].rdoff + 1], 10);
	cr_assert_str_eq(r.rr[0].target, "mail.example.com.");
	r = ask("example.com", DNS_T_SOA);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.rr[0].ttl, 3600);
}

Test(dns_answer, any_gets_one_rrset)
{
	struct resp r = ask("example.com", DNS_T_ANY);

	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an, 1, "RFC 8482: one RRset, the A (type 1)");
	cr_assert_eq(r.rr[0].type, DNS_T_A);
	r = ask("www.example.com", DNS_T_ANY);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.rr[0].type, DNS_T_CNAME, "not followed for ANY");
}

Test(dns_answer, big_answer_without_edns_is_truncated)
{
	struct resp r = ask("big.example.com", DNS_T_TXT);

	cr_assert(r.tc);
	cr_assert(r.aa);
	cr_assert_eq(r.rcode, DNS_R_NOERROR);
	cr_assert_eq(r.an + r.ns + r.ar, 0, "the question alone");
	cr_assert_eq(srv.stats.truncated, 1);
}

Test(dns_answer, big_answer_fits_with_edns)
{
	struct resp r = ask_edns("big.example.com", DNS_T_TXT, 4096);

	cr_assert(!r.tc);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.rr[0].rdlen, 4 * 201);
	cr_assert_eq(r.ar, 1);
	const struct rr *opt = &r.rr[1];
	cr_assert_eq(opt->type, DNS_T_OPT);
	cr_assert_str_eq(opt->owner, ".");
	cr_assert_eq(opt->class, DNS_EDNS_UDP_SIZE, "our size is advertised");
	cr_assert_eq(opt->ttl, 0);
	cr_assert_leq(r.len, DNS_RESPONSE_MAX);
}

Test(dns_answer, over_tcp_a_big_answer_needs_no_edns)
{
	static uint8_t big[65535];
	uint8_t q[512];
	size_t qlen = mkq(q, "big.example.com", DNS_T_TXT, NO_EDNS);
	size_t n = dns_answer(&srv, DNS_TCP, q, qlen, big, sizeof(big));
	struct resp r;

	cr_assert(n > 512 && parse(big, n, &r));
	cr_assert(!r.tc);
	cr_assert_eq(r.an, 1);
	cr_assert_eq(r.rr[0].rdlen, 4 * 201);
}

Test(dns_answer, over_tcp_the_room_given_bounds_the_answer)
{
	static uint8_t big[65535];
	uint8_t q[512];
	size_t qlen = mkq(q, "big.example.com", DNS_T_TXT, 4096);
	size_t n = dns_answer(&srv, DNS_TCP, q, qlen, big, 600);
	struct resp r;

	cr_assert(n <= 600 && parse(big, n, &r));
	cr_assert(r.tc);
	cr_assert_eq(r.an, 0);
	cr_assert_eq(r.ar, 1, "the OPT still fits");
}

Test(dns_answer, edns_size_below_512_counts_as_512)
{
	struct resp r = ask_edns("big.example.com", DNS_T_TXT, 100);

	cr_assert(r.tc);
	cr_assert_eq(r.an, 0);
	cr_assert_eq(r.ar, 1, "the OPT is still there");
}

Test(dns_answer, edns_version_1_is_badvers)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, 1232);
	struct resp r;

	q[n - 5] = 1; /* version */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, 0, "BADVERS is 16: 0 in the header...");
	cr_assert_eq(r.ar, 1);
	cr_assert_eq(r.rr[0].ttl >> 24, 1, "...and 1 in the OPT");
	cr_assert_eq((r.rr[0].ttl >> 16) & 0xff, 0, "our version: 0");
}

Test(dns_answer, dnssec_ok_bit_is_copied)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, 1232);
	struct resp r;

	q[n - 4] = 0x80;
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rr[r.an].ttl, 0x8000);
}

Test(dns_answer, opcode_other_than_query_is_notimp)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, NO_EDNS);
	struct resp r;

	q[2] |= 4 << 3; /* NOTIFY */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, DNS_R_NOTIMP);
	cr_assert_eq(out[2] & 0x78, 4 << 3, "the opcode is echoed");
	cr_assert_eq(r.id, 0xbeef);
}

Test(dns_answer, notimp_to_an_edns_query_carries_opt)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, 1232);
	struct resp r;

	q[2] |= 4 << 3;	 /* NOTIFY */
	q[n - 4] = 0x80; /* DO */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, DNS_R_NOTIMP);
	cr_assert_eq(r.ar, 1);
	cr_assert_eq(r.rr[0].type, 41);
	cr_assert_eq(r.rr[0].class, DNS_EDNS_UDP_SIZE);
	cr_assert_eq(r.rr[0].ttl, 0x8000, "version 0, DO echoed");
	/* Without OPT in the query, none in the response. */
	n = mkq(q, "mail.example.com", DNS_T_A, NO_EDNS);
	q[2] |= 4 << 3;
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.ar, 0);
}

Test(dns_answer, formerr_to_an_edns_query_carries_opt)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, 1232);
	struct resp r;

	q[5] = 2; /* QDCOUNT 2, with one question: malformed */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, DNS_R_FORMERR);
	cr_assert_eq(r.ar, 0, "the walk cannot reach the OPT");
	q[5] = 1;
	q[n++] = 0; /* a trailing byte after the OPT */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, DNS_R_FORMERR);
	cr_assert_eq(r.ar, 1);
	cr_assert_eq(r.rr[0].type, 41);
	cr_assert_eq(r.rr[0].ttl, 0);
}

Test(dns_answer, zone_transfers_are_notimp_and_other_classes_refused)
{
	struct resp r = ask("example.com", 252);

	cr_assert_eq(r.rcode, DNS_R_NOTIMP);
	uint8_t q[512];
	size_t n = mkq(q, "example.com", DNS_T_A, NO_EDNS);
	q[n - 1] = 3; /* CH */
	cr_assert(
	    parse(out, dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), &r));
	cr_assert_eq(r.rcode, DNS_R_REFUSED);
}

Test(dns_answer, a_response_is_never_answered)
{
	uint8_t q[512];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, NO_EDNS);

	q[2] |= 0x80;
	cr_assert_eq(dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out)), 0);
	/* Nor is our own answer, fed back. */
	q[2] &= 0x7f;
	uint8_t copy[DNS_RESPONSE_MAX];
	size_t m = dns_answer(&srv, DNS_UDP, q, n, out, sizeof(out));
	memcpy(copy, out, m);
	cr_assert_eq(dns_answer(&srv, DNS_UDP, copy, m, out, sizeof(out)), 0);
	cr_assert_eq(srv.stats.dropped_response, 2);
}
