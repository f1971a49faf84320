/* The DNS server's master-file reader and zone table (apps/dns/zone*.c):
 * the supported syntax, the lookups, and a table of zone files it must
 * refuse, each with the line and reason. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/error.h>

#include "zone.h"

static struct dns_zone z;
static char err[256];

static int load(const char *text, const char *origin)
{
	err[0] = '\0';
	return dns_zone_load(&z, text, strlen(text), origin, err, sizeof(err));
}

/* "www.example.com." into wire form. */
static size_t wire(const char *text, uint8_t *out)
{
	size_t len = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		out[len++] = (uint8_t)l;
		memcpy(out + len, p, l);
		len += l;
		p += l + (dot ? 1 : 0);
	}
	out[len++] = 0;
	return len;
}

static const struct dns_node *find(const char *name)
{
	uint8_t w[DNS_NAME_MAX + 2];
	size_t len = wire(name, w);

	return dns_zone_find(&z, w, len);
}

/* The records of one type at a name. */
static unsigned count_type(const char *name, uint16_t type)
{
	const struct dns_node *nd = find(name);
	unsigned n = 0;

	cr_assert_not_null(nd, "%s not found", name);
	for (uint32_t i = 0; i < nd->nrr; i++)
		n += z.rrs[nd->rr + i].type == type;
	return n;
}

static const struct dns_rr *first(const char *name, uint16_t type)
{
	const struct dns_node *nd = find(name);

	cr_assert_not_null(nd, "%s not found", name);
	for (uint32_t i = 0; i < nd->nrr; i++)
		if (z.rrs[nd->rr + i].type == type)
			return &z.rrs[nd->rr + i];
	cr_assert_fail("%s has no record of type %u", name, type);
	return NULL;
}

static const char sample[] =
    "; a comment line\n"
    "$ORIGIN example.com.\n"
    "$TTL 1h\n"
    "@ IN SOA ns1 hostmaster.example.com. ( 7 ; serial\n"
    "    2h 1h 2w\n"
    "    300 ) ; minimum\n"
    "  NS ns1\n"
    "\tIN 600 MX 10 mail\n"
    "ns1 A 192.0.2.53\n"
    "NS1 AAAA 2001:db8::53 ; same name, other case\n"
    "mail 1d IN A 192.0.2.25\n"
    "www CNAME host\n"
    "host.example.com. A 192.0.2.10\n"
    "host A 192.0.2.10 ; a duplicate: kept once\n"
    "a.b.c TXT \"two\" strings\n"
    "$ORIGIN sub\n"
    "x A 192.0.2.7\n"
    "esc TXT \"q\\\"\\059\\255\" ; escapes\n";

Test(dns_zone, reads_the_supported_syntax)
{
	cr_assert_eq(load(sample, "ignored.test"), 0, "%s", err);
	cr_assert_str_eq(z.apex_text, "example.com.");
	cr_assert_eq(z.rrs[z.soa].type, DNS_T_SOA);
	cr_assert_eq(z.rrs[z.soa].ttl, 3600);
	cr_assert_eq(count_type("example.com", DNS_T_NS), 1);
	cr_assert_eq(first("example.com", DNS_T_MX)->ttl, 600);
	cr_assert_eq(count_type("ns1.example.com", DNS_T_A), 1);
	cr_assert_eq(count_type("ns1.example.com", DNS_T_AAAA), 1);
	cr_assert_eq(first("mail.example.com", DNS_T_A)->ttl, 86400);
	cr_assert_eq(count_type("host.example.com", DNS_T_A), 1);
	cr_assert_eq(count_type("x.sub.example.com", DNS_T_A), 1);
	cr_assert_eq(count_type("www.example.com", DNS_T_CNAME), 1);
	dns_zone_free(&z);
}

Test(dns_zone, soa_fields_in_wire_form)
{
	cr_assert_eq(load(sample, ""), 0, "%s", err);
	const struct dns_rr *soa = &z.rrs[z.soa];
	const uint8_t want[] = {3,   'n', 's', '1', 7,	 'e', 'x', 'a', 'm',
				'p', 'l', 'e', 3,   'c', 'o', 'm', 0};
	cr_assert_eq(memcmp(z.data + soa->rdata, want, sizeof(want)), 0);
	const uint8_t *tail = z.data + soa->rdata + soa->rdlen - 20;
	const uint8_t nums[20] = {0,	0, 0, 7,    0,	  0,   0x1c,
				  0x20, 0, 0, 0x0e, 0x10, 0,   0x12,
				  0x75, 0, 0, 0,    1,	  0x2c};
	cr_assert_eq(memcmp(tail, nums, 20), 0,
		     "serial/refresh/retry/expire/min");
	dns_zone_free(&z);
}

Test(dns_zone, txt_strings_and_escapes)
{
	cr_assert_eq(load(sample, ""), 0, "%s", err);
	const struct dns_rr *t = first("a.b.c.example.com", DNS_T_TXT);
	cr_assert_eq(t->rdlen, 12);
	cr_assert_eq(memcmp(z.data + t->rdata, "\3two\7strings", 12), 0);
	t = first("esc.sub.example.com", DNS_T_TXT);
	cr_assert_eq(t->rdlen, 5);
	cr_assert_eq(memcmp(z.data + t->rdata, "\4q\";\377", 5), 0);
	dns_zone_free(&z);
}

Test(dns_zone, escaped_byte_255)
{
	cr_assert_eq(load("@ 1 SOA a b 1 1 1 1 1\n@ 1 NS a\n"
			  "t 1 TXT \\255\\000x\n",
			  "e."),
		     0, "%s", err);
	const struct dns_rr *t = first("t.e", DNS_T_TXT);
	cr_assert_eq(t->rdlen, 4);
	cr_assert_eq(memcmp(z.data + t->rdata, "\3\377\0x", 4), 0);
	dns_zone_free(&z);
}

Test(dns_zone, lookups_ignore_case_and_find_empty_non_terminals)
{
	cr_assert_eq(load(sample, ""), 0, "%s", err);
	cr_assert_not_null(find("WWW.Example.COM"));
	cr_assert_not_null(find("b.c.example.com"),
			   "an empty non-terminal exists");
	cr_assert_eq(find("c.example.com")->nrr, 0);
	cr_assert_eq(find("sub.example.com")->nrr, 0);
	cr_assert_null(find("nope.example.com"));
	cr_assert_null(find("a.b.c.d.example.com"));
	cr_assert_null(find("example.org"));
	dns_zone_free(&z);
}

Test(dns_zone, identical_records_are_kept_once)
{
	cr_assert_eq(load(sample, ""), 0, "%s", err);
	cr_assert_eq(z.nrrs, 11);
	dns_zone_free(&z);
}

Test(dns_zone, origin_from_the_caller)
{
	cr_assert_eq(
	    load("@ 60 IN SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.0.0.1\n",
		 "example.org"),
	    0, "%s", err);
	cr_assert_str_eq(z.apex_text, "example.org.");
	cr_assert_eq(count_type("ns.example.org", DNS_T_A), 1);
	cr_assert_eq(first("ns.example.org", DNS_T_A)->ttl, 60,
		     "the last explicit TTL is the default without $TTL");
	dns_zone_free(&z);
}

Test(dns_zone, names_helpers)
{
	uint8_t a[64], b[64];
	char buf[64];
	size_t la = wire("a.B.example.com", a), lb = wire("example.COM", b);

	cr_assert(dns_name_in(a, la, b, lb));
	cr_assert_not(dns_name_in(b, lb, a, la));
	cr_assert(dns_name_in(a, la, (const uint8_t *)"", 1),
		  "all is in the root");
	cr_assert_str_eq(dns_name_format(a, la, buf, sizeof(buf)),
			 "a.B.example.com.");
	cr_assert_eq(dns_name_len(a, la), la);
	cr_assert_eq(dns_name_len(a, la - 1), 0);
	lb = wire("xample.com", b);
	cr_assert_not(dns_name_in(a, la, b, lb), "only whole labels match");
}

struct bad_zone {
	const char *text;
	const char *err;
};

#define S10  "0123456789"
#define S50  S10 S10 S10 S10 S10 /* with another 10, too long a string */
#define HEAD "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"

static const struct bad_zone bad[] = {
    {"", "no records"},
    {"; only a comment\n", "no records"},
    {"$TTL 60\n@ NS ns\n", "line 2: the first record must be the zone's SOA"},
    {HEAD "@ SOA ns hm 1 2 3 4 5\n", "line 4: a second SOA"},
    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n", "has no NS record"},
    {HEAD "x.other. A 10.0.0.1\n", "line 4: x.other. is outside the zone"},
    {HEAD "sub NS ns\n", "line 4: NS below the apex"},
    {HEAD "w CNAME x\nw A 10.0.0.1\n", "w.e. has a CNAME and other records"},
    {HEAD "x A 10.0.0.256\n", "line 4: 10.0.0.256 is not an IPv4"},
    {HEAD "x A 2001:db8::1\n", "is not an IPv4 address"},
    {HEAD "x AAAA 10.0.0.1\n", "is not an IPv6 address"},
    {HEAD "x A\n", "A takes 1 field, not 0"},
    {HEAD "x MX 10\n", "MX takes 2 fields"},
    {HEAD "x MX 70000 m\n", "MX preference 70000 is too large"},
    {HEAD "x TXT\n", "TXT takes 1 field or more"},
    {HEAD "x SRV 0 0 5060 sip\n", "line 4: record type SRV is not supported"},
    {HEAD "x CH A 10.0.0.1\n", "only class IN"},
    {HEAD "$INCLUDE other.zone\n", "line 4: $INCLUDE is not supported"},
    {HEAD "$GENERATE 1-2 x$ A 10.0.0.$\n", "$GENERATE is not supported"},
    {"@ SOA ns hm 1 2 3 4 5\n", "line 1: no TTL"},
    {HEAD "x 1q A 10.0.0.1\n", "bad TTL 1q"},
    {HEAD "x 1h5 A 10.0.0.1\n", "a unit is missing"},
    {HEAD "x 4294967296 A 10.0.0.1\n", "over 2^31 - 1"},
    {HEAD "x A 10.0.0.1 (\n", "'(' not closed"},
    {HEAD "x A 10.0.0.1 )\n", "')' without '('"},
    {HEAD "x ( ( A 10.0.0.1 ) )\n", "nested '('"},
    {HEAD "x TXT \"open\n", "line break inside a quoted string"},
    {HEAD "x TXT \"open", "unterminated quoted string"},
    {HEAD "a..b A 10.0.0.1\n", "empty label in a..b"},
    {HEAD "a\\.b A 10.0.0.1\n", "escapes in names are not supported"},
    {HEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	  "A 10.0.0.1\n",
     "label longer than 63"},
    {HEAD "x TXT \"\\25\"\n", "bad \\DDD escape"},
    {HEAD "x TXT \\256\n", "bad \\DDD escape"},
    {HEAD "x TXT \"" S50 S50 S50 S50 S50 "0123456789\"\n",
     "longer than 255 bytes"},
    {" A 10.0.0.1\n", "line 1: no owner name"},
    {HEAD "x 60 IN\n", "no record type"},
    {HEAD "x \"A\" 10.0.0.1\n", "record type"},
    {"$TTL\n", "$TTL takes one TTL"},
    {"$ORIGIN a b\n", "$ORIGIN takes one name"},
    {HEAD "x SOA a b 1 2 3 4\n", "SOA takes 7 fields"},
    {"$TTL 1\n@ SOA a b 4294967296 2 3 4 5\n",
     "serial 4294967296 is too large"},
};

Test(dns_zone, malformed_zones_are_refused_with_line_and_reason)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = load(bad[i].text, "e.");
		cr_expect_eq(r, -EINVAL, "accepted zone %zu: %s", i,
			     bad[i].text);
		cr_expect(strstr(err, bad[i].err) != NULL,
			  "zone %zu: error '%s', wanted '%s'", i, err,
			  bad[i].err);
		cr_assert_null(z.data,
			       "a failed load leaves nothing allocated");
	}
}

Test(dns_zone, name_longer_than_255_bytes_is_refused)
{
	char text[1024] = HEAD;
	/* 5 labels of 60: 305 bytes in wire form. */
	for (int i = 0; i < 5; i++) {
		size_t n = strlen(text);
		memset(text + n, 'a' + i, 60);
		text[n + 60] = '.';
		text[n + 61] = '\0';
	}
	strcat(text, "e. A 10.0.0.1\n");
	cr_assert_eq(load(text, "e."), -EINVAL);
	cr_assert(strstr(err, "longer than 255") != NULL, "%s", err);
}
