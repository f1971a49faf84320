/* apps/dns/answer.c against malformed input: a table of bad packets, the
 * size limits, and a seeded fuzz loop of mutated queries that must never
 * crash, never answer a response, and answer only well-formed messages. */
#include "dns_testlib.h"

/* ------------------------------------------------------ malformed input */

struct bad {
	const char *what;
	const uint8_t *q;
	size_t len;
	int want; /* -1: dropped; else the rcode */
	bool opt; /* the query carried an OPT: so must its FORMERR */
};

#define Q(...)                                                                 \
	(const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define HDR(qd, an, ns, ar) 0xbe, 0xef, 0x01, 0, 0, qd, 0, an, 0, ns, 0, ar
#define MAIL                                                                   \
	4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',   \
	    'o', 'm', 0
#define TAIL 0, 1, 0, 1

static const struct bad bad[] = {
    {"empty", Q(0), -1, false},
    {"11 bytes", Q(0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0), -1, false},
    {"a response",
     Q(0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, MAIL, TAIL), -1, false},
    {"header alone", Q(HDR(1, 0, 0, 0)), DNS_R_FORMERR, false},
    {"no question", Q(HDR(0, 0, 0, 0)), DNS_R_FORMERR, false},
    {"two questions", Q(HDR(2, 0, 0, 0), MAIL, TAIL, MAIL, TAIL), DNS_R_FORMERR,
     false},
    {"name cut short", Q(HDR(1, 0, 0, 0), 4, 'm', 'a'), DNS_R_FORMERR, false},
    {"no root label", Q(HDR(1, 0, 0, 0), 4, 'm', 'a', 'i', 'l'), DNS_R_FORMERR,
     false},
    {"type cut short", Q(HDR(1, 0, 0, 0), MAIL, 0, 1, 0), DNS_R_FORMERR, false},
    {"trailing byte", Q(HDR(1, 0, 0, 0), MAIL, TAIL, 0), DNS_R_FORMERR, false},
    {"pointer in question", Q(HDR(1, 0, 0, 0), 0xc0, 12, TAIL), DNS_R_FORMERR,
     false},
    {"label type 0x40", Q(HDR(1, 0, 0, 0), 0x41, 'x', 0, TAIL), DNS_R_FORMERR,
     false},
    {"label type 0x80", Q(HDR(1, 0, 0, 0), 0x81, 'x', 0, TAIL), DNS_R_FORMERR,
     false},
    {"answer count without records", Q(HDR(1, 1, 0, 0), MAIL, TAIL),
     DNS_R_FORMERR, false},
    {"additional count without records", Q(HDR(1, 0, 0, 1), MAIL, TAIL),
     DNS_R_FORMERR, false},
    {"OPT cut short", Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"OPT rdata past the end",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 4, 0, 1),
     DNS_R_FORMERR, true},
    {"OPT option past its rdata",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 4, 0, 10, 0,
       9),
     DNS_R_FORMERR, true},
    {"OPT option header cut",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 2, 0, 10),
     DNS_R_FORMERR, true},
    {"two OPTs",
     Q(HDR(1, 0, 0, 2), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 41,
       4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, true},
    {"OPT in the answer section",
     Q(HDR(1, 1, 0, 0), MAIL, TAIL, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"OPT not owned by the root",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 1, 'x', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"pointer loop in a record",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xc0, 34, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"pointer forward",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xc0, 40, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"pointer past the end",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xff, 0xff, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"pointer into the header",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xc0, 2, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0),
     DNS_R_FORMERR, false},
    {"pointer cut short", Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xc0), DNS_R_FORMERR,
     false},
    {"label then pointer back to it",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 1, 'x', 0xc0, 34, 0, 16, 0, 1, 0, 0, 0, 0,
       0, 0),
     DNS_R_FORMERR, false},
    {"pointers chained backwards are fine",
     Q(HDR(1, 0, 0, 1), MAIL, TAIL, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0),
     DNS_R_NOERROR, false},
};

Test(dns_answer, malformed_packets)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = dns_answer(&srv, DNS_UDP, bad[i].q, bad[i].len, out,
				      sizeof(out));
		if (bad[i].want < 0) {
			cr_expect_eq(n, 0, "%s: answered", bad[i].what);
			continue;
		}
		struct resp r;
		cr_expect(n > 0 && parse(out, n, &r), "%s: no or bad answer",
			  bad[i].what);
		cr_expect_eq(r.rcode, (unsigned)bad[i].want, "%s: rcode %u",
			     bad[i].what, r.rcode);
		cr_expect_eq(r.id, 0xbeef, "%s: ID not echoed", bad[i].what);
		if (bad[i].want != DNS_R_FORMERR)
			continue;
		if (!bad[i].opt) {
			cr_expect_eq(n, 12, "%s: FORMERR is a header alone",
				     bad[i].what);
			continue;
		}
		cr_expect(n == 12 + 11 && r.ar == 1 && r.rr[0].type == 41 &&
			      r.rr[0].class == DNS_EDNS_UDP_SIZE,
			  "%s: FORMERR to a query with OPT has OPT",
			  bad[i].what);
	}
}

Test(dns_answer, oversized_datagram_is_formerr)
{
	static uint8_t q[DNS_QUERY_MAX + 1];
	size_t n = mkq(q, "mail.example.com", DNS_T_A, NO_EDNS);
	struct resp r;

	(void)n;
	cr_assert(parse(
	    out, dns_answer(&srv, DNS_UDP, q, sizeof(q), out, sizeof(out)),
	    &r));
	cr_assert_eq(r.rcode, DNS_R_FORMERR);
}

Test(dns_answer, name_of_255_bytes_is_fine_256_is_not)
{
	uint8_t q[600];
	struct resp r;
	/* 4 labels of 63 + root = 257: too long; 3 of 63 + one of 61 = 255. */
	for (int longer = 0; longer < 2; longer++) {
		size_t len = 12;
		memcpy(q, (const uint8_t[]){HDR(1, 0, 0, 0)}, 12);
		for (int l = 0; l < 4; l++) {
			size_t ll = l < 3 ? 63 : (longer ? 62 : 61);
			q[len++] = (uint8_t)ll;
			memset(q + len, 'a', ll);
			len += ll;
		}
		q[len++] = 0;
		memcpy(q + len, (const uint8_t[]){TAIL}, 4);
		len += 4;
		cr_assert(parse(
		    out, dns_answer(&srv, DNS_UDP, q, len, out, sizeof(out)),
		    &r));
		cr_assert_eq(r.rcode, longer ? DNS_R_FORMERR : DNS_R_REFUSED,
			     "longer=%d: rcode %u", longer, r.rcode);
	}
}

/* ---------------------------------------------------------------- fuzz */

static uint32_t rnd(uint32_t *s)
{
	/* xorshift32: deterministic on every platform. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(dns_answer, fuzz_mutated_queries)
{
	static const char *names[] = {"www.example.com",   "big.example.com",
				      "nope.example.com",  "example.org",
				      "a.b.c.example.com", "x.example.net"};
	static const uint16_t types[] = {1, 28, 5, 16, 15, 255, 6, 2};
	uint32_t seed = 20261127;
	uint8_t q[700];
	unsigned answered = 0, dropped = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		size_t len =
		    mkq(q, names[rnd(&seed) % 6], types[rnd(&seed) % 8],
			rnd(&seed) % 2 ? NO_EDNS : (int)(rnd(&seed) % 5000));
		unsigned muts = 1 + rnd(&seed) % 4;
		for (unsigned m = 0; m < muts; m++) {
			uint32_t r = rnd(&seed);
			size_t at = len ? rnd(&seed) % len : 0;
			switch (r % 6) {
			case 0: q[at] ^= (uint8_t)(1u << (r >> 8) % 8); break;
			case 1: q[at] = (uint8_t)(r >> 8); break;
			case 2: len = at; break; /* truncate */
			case 3:			 /* a pointer somewhere */
				if (at + 1 < len) {
					q[at] = (uint8_t)(0xc0 | (r >> 8 & 1));
					q[at + 1] = (uint8_t)(r >> 16);
				}
				break;
			case 4: /* duplicate a run onto the end */
				if (len + 40 < sizeof(q) && at + 20 <= len) {
					memcpy(q + len, q + at, 20);
					len += 20;
				}
				break;
			default: /* a count field */
				if (len >= 12)
					q[4 + rnd(&seed) % 8] =
					    (uint8_t)(r >> 8);
				break;
			}
		}
		size_t n = dns_answer(&srv, DNS_UDP, q, len, out, sizeof(out));
		if (len >= 3 && (q[2] & 0x80)) {
			cr_assert_eq(n, 0, "iteration %u answered a response",
				     iter);
		}
		if (n == 0) {
			dropped++;
			continue;
		}
		answered++;
		struct resp r;
		cr_assert_leq(n, DNS_RESPONSE_MAX);
		cr_assert(parse(out, n, &r), "iteration %u: malformed answer",
			  iter);
		cr_assert(r.qr && out[0] == q[0] && out[1] == q[1],
			  "iteration %u: not a response to the query", iter);
		/* Our answer is a response: fed back, it is dropped. */
		uint8_t copy[DNS_RESPONSE_MAX];
		memcpy(copy, out, n);
		cr_assert_eq(
		    dns_answer(&srv, DNS_UDP, copy, n, out, sizeof(out)), 0);
	}
	cr_assert_gt(answered, 1000);
	cr_assert_gt(dropped, 1000);
}
