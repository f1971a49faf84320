/* IP addresses in text: parsing and the canonical forms (RFC 5952 for
 * IPv6), in plain C so both platforms print addresses the same way. */
#include <stdio.h>
#include <string.h>

#include <duet/error.h>
#include <duet/net.h>
#include <duet/text.h>

/* Dotted quad, exactly four decimal parts of 0-255 without leading zeros
 * (a leading zero is octal to some parsers: refuse the ambiguity). */
static int parse_ipv4(const char *s, const char *end, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;
		while (s < end && *s >= '0' && *s <= '9') {
			if (digits == 1 && v == 0)
				return -EINVAL;
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (digits == 0)
			return -EINVAL;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (s >= end || *s != '.')
				return -EINVAL;
			s++;
		}
	}
	return s == end ? 0 : -EINVAL;
}

static int parse_ipv6(const char *s, const char *end, uint8_t out[16])
{
	uint16_t words[8];
	int n = 0, gap = -1;

	if (end - s >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		s += 2;
	} else if (s < end && *s == ':') {
		return -EINVAL;
	}
	while (s < end) {
		const char *start = s;
		unsigned v = 0;
		int digits = 0;

		while (s < end && duet_hex_digit(*s) >= 0 && digits < 5) {
			v = v * 16 + (unsigned)duet_hex_digit(*s++);
			digits++;
		}
		if (digits == 0 || digits > 4) {
			return -EINVAL;
		}
		if (s < end && *s == '.') {
			/* An embedded IPv4 address ends the address. */
			if (n > 6)
				return -EINVAL;
			uint8_t v4[4];
			if (parse_ipv4(start, end, v4) < 0)
				return -EINVAL;
			words[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			words[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			s = end;
			break;
		}
		if (n == 8)
			return -EINVAL;
		words[n++] = (uint16_t)v;
		if (s == end)
			break;
		if (*s != ':')
			return -EINVAL;
		s++;
		if (s < end && *s == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = n;
			s++;
		} else if (s == end) {
			return -EINVAL; /* trailing single colon */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -EINVAL;
	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : n - gap;
	int head = n - tail;
	for (int i = 0; i < head; i++) {
		out[2 * i] = (uint8_t)(words[i] >> 8);
		out[2 * i + 1] = (uint8_t)words[i];
	}
	for (int i = 0; i < tail; i++) {
		int w = 8 - tail + i;
		out[2 * w] = (uint8_t)(words[head + i] >> 8);
		out[2 * w + 1] = (uint8_t)words[head + i];
	}
	return 0;
}

static int parse_range(const char *s, const char *end, struct duet_ipaddr *out)
{
	struct duet_ipaddr a;

	memset(&a, 0, sizeof(a));
	if (memchr(s, ':', (size_t)(end - s)) != NULL) {
		if (parse_ipv6(s, end, a.bytes) < 0)
			return -EINVAL;
		a.family = DUET_AF_INET6;
	} else {
		if (parse_ipv4(s, end, a.bytes) < 0)
			return -EINVAL;
		a.family = DUET_AF_INET;
	}
	*out = a;
	return 0;
}

int duet_ipaddr_parse(const char *s, struct duet_ipaddr *out)
{
	return parse_range(s, s + strlen(s), out);
}

static int parse_port(const char *s, uint16_t *out)
{
	unsigned v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

int duet_sockaddr_parse(const char *s, struct duet_sockaddr *out)
{
	struct duet_sockaddr a;
	const char *colon;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' ||
		    parse_range(s + 1, close, &a.ip) < 0 ||
		    a.ip.family != DUET_AF_INET6)
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || parse_range(s, colon, &a.ip) < 0 ||
		    a.ip.family != DUET_AF_INET)
			return -EINVAL;
	}
	if (parse_port(colon + 1, &a.port) < 0)
		return -EINVAL;
	*out = a;
	return 0;
}

void duet_ipaddr_any(enum duet_af family, struct duet_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
}

const char *duet_ipaddr_format(const struct duet_ipaddr *a, char *buf,
			       size_t size)
{
	const uint8_t *b = a->bytes;

	if (a->family == DUET_AF_INET) {
		snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return buf;
	}
	if (a->family != DUET_AF_INET6) {
		snprintf(buf, size, "?");
		return buf;
	}
	/* RFC 5952: the longest run (first if tied) of two or more zero
	 * words becomes "::"; hex in lower case without leading zeros. */
	unsigned w[8];
	int best = -1, best_len = 1;
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)(b[2 * i] << 8 | b[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		int n;
		if (i == best) {
			n = snprintf(buf + used, size - used, "::");
			i += best_len - 1;
		} else {
			n = snprintf(buf + used, size - used, "%s%x",
				     used > 0 && buf[used - 1] != ':' ? ":" : "", w[i]);
		}
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

const char *duet_sockaddr_format(const struct duet_sockaddr *a, char *buf,
				 size_t size)
{
	char ip[DUET_IPADDR_STRLEN];

	duet_ipaddr_format(&a->ip, ip, sizeof(ip));
	if (a->ip.family == DUET_AF_INET6)
		snprintf(buf, size, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, size, "%s:%u", ip, a->port);
	return buf;
}

bool duet_ipaddr_equal(const struct duet_ipaddr *a, const struct duet_ipaddr *b)
{
	size_t n = a->family == DUET_AF_INET ? 4 : 16;
	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

int duet_sockaddr_list_parse(const char *list, uint16_t port,
			     struct duet_sockaddr *out, size_t max, char *err,
			     size_t errlen)
{
	const char *p = list;
	size_t n = 0;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char tok[DUET_IPADDR_STRLEN];
		if (len == 0 || len >= sizeof(tok) || n == max) {
			snprintf(err, errlen,
				 "addr=%s: expected up to %zu addresses, "
				 "comma-separated",
				 list, max);
			return -EINVAL;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (duet_ipaddr_parse(tok, &out[n].ip) < 0) {
			snprintf(err, errlen, "addr=%s: %s is not an IP address",
				 list, tok);
			return -EINVAL;
		}
		out[n++].port = port;
		if (end == NULL)
			return (int)n;
		p = end + 1;
	}
}
