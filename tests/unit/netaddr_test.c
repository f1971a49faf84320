/* IP address parsing and formatting, checked against glibc's inet_pton and
 * inet_ntop where they agree with the canonical forms. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <duet/error.h>
#include <duet/net.h>

static void roundtrip(const char *in, const char *canonical)
{
	struct duet_ipaddr a;
	char buf[DUET_IPADDR_STRLEN];

	cr_assert_eq(duet_ipaddr_parse(in, &a), 0, "rejected %s", in);
	cr_assert_str_eq(duet_ipaddr_format(&a, buf, sizeof(buf)), canonical);
}

Test(netaddr, ipv4_forms)
{
	roundtrip("10.0.0.2", "10.0.0.2");
	roundtrip("255.255.255.255", "255.255.255.255");
	roundtrip("0.0.0.0", "0.0.0.0");
}

Test(netaddr, ipv6_canonical_forms)
{
	roundtrip("::", "::");
	roundtrip("::1", "::1");
	roundtrip("fe80:0:0:0:0:0:0:1", "fe80::1");
	roundtrip("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	roundtrip("1:0:0:2:0:0:0:3", "1:0:0:2::3");
	roundtrip("::ffff:10.0.0.1", "::ffff:a00:1");
	roundtrip("1::", "1::");
}

Test(netaddr, malformed_addresses_are_rejected)
{
	const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
			     "1..2.3", "1.2.3.4 ", ":::", "1:::2", "::1::", "12345::",
			     "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1:",
			     "g::1", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4"};
	struct duet_ipaddr a;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(duet_ipaddr_parse(bad[i], &a), -EINVAL, "accepted '%s'", bad[i]);
}

Test(netaddr, agrees_with_inet_pton_on_random_ipv6)
{
	unsigned seed = 7;
	for (int k = 0; k < 5000; k++) {
		uint8_t bytes[16];
		char text[INET6_ADDRSTRLEN], ours[DUET_IPADDR_STRLEN];
		struct duet_ipaddr a;

		for (int i = 0; i < 16; i++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly zeros, so "::" runs of every length occur. */
			bytes[i] = (seed >> 16) % 4 == 0 ? (uint8_t)(seed >> 8) : 0;
		}
		inet_ntop(AF_INET6, bytes, text, sizeof(text));
		cr_assert_eq(duet_ipaddr_parse(text, &a), 0, "rejected %s", text);
		cr_assert_arr_eq(a.bytes, bytes, 16, "%s", text);
		duet_ipaddr_format(&a, ours, sizeof(ours));
		/* glibc prints v4-mapped forms with dots; compare bytes there. */
		if (strchr(text, '.') == NULL)
			cr_assert_str_eq(ours, text);
		struct duet_ipaddr back;
		cr_assert_eq(duet_ipaddr_parse(ours, &back), 0);
		cr_assert(duet_ipaddr_equal(&a, &back));
	}
}

Test(netaddr, socket_addresses)
{
	struct duet_sockaddr s;
	char buf[DUET_SOCKADDR_STRLEN];

	cr_assert_eq(duet_sockaddr_parse("10.0.0.2:80", &s), 0);
	cr_assert_eq(s.port, 80);
	cr_assert_str_eq(duet_sockaddr_format(&s, buf, sizeof(buf)), "10.0.0.2:80");
	cr_assert_eq(duet_sockaddr_parse("[::1]:8080", &s), 0);
	cr_assert_str_eq(duet_sockaddr_format(&s, buf, sizeof(buf)), "[::1]:8080");
	cr_assert_eq(duet_sockaddr_parse("::1:80", &s), -EINVAL);
	cr_assert_eq(duet_sockaddr_parse("10.0.0.2:65536", &s), -EINVAL);
	cr_assert_eq(duet_sockaddr_parse("10.0.0.2:", &s), -EINVAL);
	cr_assert_eq(duet_sockaddr_parse("[10.0.0.2]:1", &s), -EINVAL);
	cr_assert_eq(duet_sockaddr_parse("[::1:1", &s), -EINVAL);
}

Test(netaddr, address_lists)
{
	struct duet_sockaddr a[2];
	char err[160], buf[DUET_SOCKADDR_STRLEN];

	cr_assert_eq(duet_sockaddr_list_parse("127.0.0.1,::1", 53, a, 2, err,
					      sizeof(err)),
		     2);
	cr_assert_str_eq(duet_sockaddr_format(&a[0], buf, sizeof(buf)),
			 "127.0.0.1:53");
	cr_assert_str_eq(duet_sockaddr_format(&a[1], buf, sizeof(buf)),
			 "[::1]:53");
	cr_assert_eq(duet_sockaddr_list_parse("::", 7, a, 2, err, sizeof(err)),
		     1);
	cr_assert_eq(duet_sockaddr_list_parse("1.2.3.4,nowhere", 1, a, 2, err,
					      sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "addr=1.2.3.4,nowhere: nowhere is not an IP address");
	cr_assert_eq(duet_sockaddr_list_parse("1.1.1.1,2.2.2.2,3.3.3.3", 1, a, 2,
					      err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "addr=1.1.1.1,2.2.2.2,3.3.3.3: expected up to 2 "
			      "addresses, comma-separated");
	cr_assert_eq(duet_sockaddr_list_parse("1.1.1.1,", 1, a, 2, err,
					      sizeof(err)),
		     -EINVAL);
	cr_assert_eq(duet_sockaddr_list_parse("", 1, a, 2, err, sizeof(err)),
		     -EINVAL);
}
