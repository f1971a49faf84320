/* Address parsing (boot arguments such as ip=, gw=, listen=): any text
 * either parses or is refused, and what parses formats to text that
 * parses back to the same address (the canonical form is a fixed point). */
#include <duet/net.h>

#include "fuzz.h"

static void check_ip(const char *s)
{
	struct duet_ipaddr a, b;
	char text[DUET_IPADDR_STRLEN], again[DUET_IPADDR_STRLEN];

	if (duet_ipaddr_parse(s, &a) < 0)
		return;
	FUZZ_CHECK(a.family == DUET_AF_INET || a.family == DUET_AF_INET6);
	duet_ipaddr_format(&a, text, sizeof(text));
	FUZZ_CHECK(duet_ipaddr_parse(text, &b) == 0);
	FUZZ_CHECK(duet_ipaddr_equal(&a, &b));
	FUZZ_CHECK(strcmp(duet_ipaddr_format(&b, again, sizeof(again)), text) ==
		   0);
}

static void check_sockaddr(const char *s)
{
	struct duet_sockaddr a, b;
	char text[DUET_SOCKADDR_STRLEN];

	if (duet_sockaddr_parse(s, &a) < 0)
		return;
	duet_sockaddr_format(&a, text, sizeof(text));
	FUZZ_CHECK(duet_sockaddr_parse(text, &b) == 0);
	FUZZ_CHECK(duet_ipaddr_equal(&a.ip, &b.ip) && a.port == b.port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	char small[8];
	struct duet_ipaddr a;

	check_ip(s);
	check_sockaddr(s);
	/* Formatting into a short buffer truncates, never overruns. */
	if (duet_ipaddr_parse(s, &a) == 0)
		FUZZ_CHECK(strlen(duet_ipaddr_format(
			       &a, small, sizeof(small))) < sizeof(small));
	free(s);
	return 0;
}
