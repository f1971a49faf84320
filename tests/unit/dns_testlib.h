/* The dns app's answer tests, shared: two zones loaded into a server, and
 * a small client that builds queries and parses responses byte by byte
 * (tests/unit/dns_answer_test.c, tests/unit/dns_malformed_test.c). */
#ifndef DUET_TEST_DNS_TESTLIB_H
#define DUET_TEST_DNS_TESTLIB_H

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "zone.h"

static const char zone_text[] = "$ORIGIN example.com.\n"
				"$TTL 3600\n"
				"@ SOA ns1 hostmaster ( 1 2h 1h 2w 300 )\n"
				"  NS ns1\n"
				"  NS ns2.example.net.\n"
				"  MX 10 mail\n"
				"  A 192.0.2.1\n"
				"ns1 A 192.0.2.53\n"
				"ns1 AAAA 2001:db8::53\n"
				"mail A 192.0.2.25\n"
				"host1 300 A 192.0.2.10\n"
				"host1 A 192.0.2.11\n"
				"host1 AAAA 2001:db8::10\n"
				"web CNAME host1\n"
				"www CNAME web\n"
				"gone CNAME nowhere\n"
				"outside CNAME www.example.org.\n"
				"loop1 CNAME loop2\n"
				"loop2 CNAME loop1\n"
				"a.b.c A 192.0.2.99\n"
				"big TXT ( \"%s\" \"%s\" \"%s\" \"%s\" )\n";

static const char org_text[] =
    "@ 60 SOA ns1.example.com. hm.example.com. 1 2 3 4 5\n"
    "  NS ns1.example.com.\n"
    "www A 198.51.100.80\n";

static struct dns_zone zones[2];
static struct dns_server srv;
static uint8_t out[DNS_RESPONSE_MAX];

static inline void setup(void)
{
	char text[2048], s[4][201], err[256];

	for (int i = 0; i < 4; i++) {
		memset(s[i], 'a' + i, 200);
		s[i][200] = '\0';
	}
	snprintf(text, sizeof(text), zone_text, s[0], s[1], s[2], s[3]);
	cr_assert_eq(
	    dns_zone_load(&zones[0], text, strlen(text), "", err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(dns_zone_load(&zones[1], org_text, strlen(org_text),
				   "example.org", err, sizeof(err)),
		     0, "%s", err);
	memset(&srv, 0, sizeof(srv));
	srv.zones = zones;
	srv.nzones = 2;
}

static inline void teardown(void)
{
	dns_zone_free(&zones[0]);
	dns_zone_free(&zones[1]);
}

TestSuite(dns_answer, .init = setup, .fini = teardown);

/* ---------------------------------------------------------- a client */

#define NO_EDNS -1

/* A query with ID 0xbeef and RD. */
static inline size_t mkq(uint8_t *q, const char *name, uint16_t type, int edns)
{
	size_t len = 12;
	const char *p = name;

	memset(q, 0, 12);
	q[0] = 0xbe;
	q[1] = 0xef;
	q[2] = 0x01;
	q[5] = 1;
	q[11] = edns == NO_EDNS ? 0 : 1;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		q[len++] = (uint8_t)l;
		memcpy(q + len, p, l);
		len += l;
		p += l + (dot ? 1 : 0);
	}
	q[len++] = 0;
	q[len++] = (uint8_t)(type >> 8);
	q[len++] = (uint8_t)type;
	q[len++] = 0;
	q[len++] = 1;
	if (edns != NO_EDNS) {
		const uint8_t opt[11] = {0, 0, 41, (uint8_t)(edns >> 8),
					 (uint8_t)edns};
		memcpy(q + len, opt, sizeof(opt));
		len += sizeof(opt);
	}
	return len;
}

struct rr {
	char owner[1024];
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdoff;
	char target[1024]; /* NS, CNAME, MX, SOA mname: the name, expanded */
};

struct resp {
	size_t len;
	unsigned rcode;
	bool aa, tc, qr, rd;
	uint16_t id, qd, an, ns, ar;
	char qname[1024];
	struct rr rr[64];
	unsigned nrr;
};

/* Expands a name (following pointers, which must go backwards) into text;
 * false if it is malformed. */
static inline bool get_name(const uint8_t *m, size_t len, size_t *pos,
			    char *text)
{
	size_t p = *pos, o = 0, end = 0;
	unsigned hops = 0;

	text[0] = '\0';
	for (;;) {
		if (p >= len)
			return false;
		uint8_t c = m[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > 64)
				return false;
			size_t t = (size_t)(c & 0x3f) << 8 | m[p + 1];
			if (t >= p)
				return false;
			if (end == 0)
				end = p + 2;
			p = t;
			continue;
		}
		if (c > 63 || p + 1 + c > len || o + c + 2 > 1000)
			return false;
		if (c == 0) {
			*pos = end ? end : p + 1;
			if (o == 0)
				strcpy(text, ".");
			return true;
		}
		memcpy(text + o, m + p + 1, c);
		o += c;
		text[o++] = '.';
		text[o] = '\0';
		p += (size_t)c + 1;
	}
}

static inline bool parse(const uint8_t *m, size_t len, struct resp *r)
{
	size_t pos = 12;

	memset(r, 0, sizeof(*r));
	if (len < 12)
		return false;
	r->len = len;
	r->id = (uint16_t)(m[0] << 8 | m[1]);
	r->qr = m[2] & 0x80;
	r->aa = m[2] & 0x04;
	r->tc = m[2] & 0x02;
	r->rd = m[2] & 0x01;
	r->rcode = m[3] & 0x0f;
	r->qd = (uint16_t)(m[4] << 8 | m[5]);
	r->an = (uint16_t)(m[6] << 8 | m[7]);
	r->ns = (uint16_t)(m[8] << 8 | m[9]);
	r->ar = (uint16_t)(m[10] << 8 | m[11]);
	if (r->qd > 1)
		return false;
	if (r->qd == 1) {
		if (!get_name(m, len, &pos, r->qname) || len - pos < 4)
			return false;
		pos += 4;
	}
	for (unsigned i = 0; i < (unsigned)r->an + r->ns + r->ar; i++) {
		struct rr *rr = &r->rr[r->nrr];
		if (r->nrr == 64 || !get_name(m, len, &pos, rr->owner) ||
		    len - pos < 10)
			return false;
		rr->type = (uint16_t)(m[pos] << 8 | m[pos + 1]);
		rr->class = (uint16_t)(m[pos + 2] << 8 | m[pos + 3]);
		rr->ttl = (uint32_t)m[pos + 4] << 24 |
			  (uint32_t)m[pos + 5] << 16 |
			  (uint32_t)m[pos + 6] << 8 | m[pos + 7];
		rr->rdlen = (uint16_t)(m[pos + 8] << 8 | m[pos + 9]);
		pos += 10;
		if (len - pos < rr->rdlen)
			return false;
		rr->rdoff = pos;
		size_t np = pos + (rr->type == 15 ? 2 : 0);
		if (rr->type == 2 || rr->type == 5 || rr->type == 6 ||
		    rr->type == 15) {
			if (!get_name(m, pos + rr->rdlen, &np, rr->target))
				return false;
			if (rr->type == 6) {
				char rname[1024];
				if (!get_name(m, pos + rr->rdlen, &np, rname) ||
				    np + 20 != pos + rr->rdlen)
					return false;
			} else if (np != pos + rr->rdlen) {
				return false;
			}
		}
		pos += rr->rdlen;
		r->nrr++;
	}
	return pos == len;
}

static inline struct resp ask_edns(const char *name, uint16_t type, int edns)
{
	uint8_t q[512];
	size_t qlen = mkq(q, name, type, edns);
	struct resp r;
	size_t n = dns_answer(&srv, DNS_UDP, q, qlen, out, sizeof(out));

	cr_assert_gt(n, 0, "no answer for %s", name);
	cr_assert(parse(out, n, &r), "malformed response for %s", name);
	cr_assert(r.qr && r.id == 0xbeef && r.rd && r.qd == 1);
	cr_assert_eq(memcmp(out + 12, q + 12, strlen(name) + 6), 0,
		     "the question is echoed byte for byte");
	return r;
}

static inline struct resp ask(const char *name, uint16_t type)
{
	return ask_edns(name, type, NO_EDNS);
}

static inline void expect_a(const struct resp *r, unsigned i, const char *owner,
			    const char *addr)
{
	char got[32];
	const uint8_t *a = out + r->rr[i].rdoff;

	cr_assert_eq(r->rr[i].type, DNS_T_A);
	cr_assert_eq(r->rr[i].rdlen, 4);
	cr_assert_str_eq(r->rr[i].owner, owner);
	snprintf(got, sizeof(got), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	cr_assert_str_eq(got, addr);
}

static inline void expect_soa_authority(const struct resp *r)
{
	cr_assert_eq(r->ns, 1);
	const struct rr *soa = &r->rr[r->an];
	cr_assert_eq(soa->type, DNS_T_SOA);
	cr_assert_str_eq(soa->owner, "example.com.");
	cr_assert_str_eq(soa->target, "ns1.example.com.");
	cr_assert_eq(soa->ttl, 300, "the negative TTL: min(TTL, minimum)");
}

#endif
