/* The master-file reader: RFC 1035 section 5 text, the subset zone.h
 * describes, into records for the table. An entry is one line, or several
 * joined by parentheses; errors name the line the entry starts on. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <duet/net.h>

#include "zone.h"
#include "zone_load.h"

#define MAX_TOKENS 64
#define MAX_RDATA  2048 /* a record larger than this never fits UDP anyway */

struct token {
	const char *s;
	size_t len;
	bool quoted;
};

struct loader {
	struct dns_zone *z;
	const char *p, *end;
	unsigned line;	     /* the line the lexer is on */
	unsigned entry_line; /* the line the current entry started on */
	char *err;
	size_t errlen;
	uint8_t origin[DNS_NAME_MAX];
	size_t originlen;
	uint32_t default_ttl;
	bool have_ttl;	 /* default_ttl holds one */
	bool dollar_ttl; /* from $TTL, which explicit TTLs do not change */
	uint32_t owner;	 /* the previous owner, for entries without one */
	uint8_t ownerlen;
	struct token tok[MAX_TOKENS];
	size_t ntok;
	uint8_t rdata[MAX_RDATA];
	size_t rdlen;
};

static int fail(struct loader *L, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct loader *L, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(L->err, L->errlen, "line %u: ", L->entry_line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < L->errlen)
		vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	       c == '(' || c == ')' || c == '"';
}

/* Reads the next entry's tokens. 1: an entry (possibly with no tokens, a
 * blank line), 0: the end of the text, or -EINVAL. *indented tells whether
 * the entry starts with a blank (no owner name). */
static int lex_entry(struct loader *L, bool *indented)
{
	int depth = 0;

	L->ntok = 0;
	if (L->p == L->end)
		return 0;
	L->entry_line = L->line;
	*indented = *L->p == ' ' || *L->p == '\t';
	while (L->p < L->end) {
		char c = *L->p;
		if (c == '\n') {
			L->line++;
			L->p++;
			if (depth == 0)
				return 1;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			L->p++;
		} else if (c == ';') {
			while (L->p < L->end && *L->p != '\n')
				L->p++;
		} else if (c == '(') {
			if (depth++ > 0)
				return fail(L, "nested '('");
			L->p++;
		} else if (c == ')') {
			if (depth-- == 0)
				return fail(L, "')' without '('");
			L->p++;
		} else {
			if (L->ntok == MAX_TOKENS)
				return fail(L, "more than %d fields",
					    MAX_TOKENS);
			struct token *t = &L->tok[L->ntok++];
			bool quoted = c == '"';
			const char *s = quoted ? ++L->p : L->p;
			while (L->p < L->end &&
			       (quoted ? *L->p != '"' : !is_delim(*L->p))) {
				if (*L->p == '\n')
					return fail(L, "line break inside a "
						       "quoted string");
				if (*L->p == '\\' && L->p + 1 < L->end)
					L->p++;
				L->p++;
			}
			if (quoted && L->p == L->end)
				return fail(L, "unterminated quoted string");
			*t = (struct token){s, (size_t)(L->p - s), quoted};
			if (quoted)
				L->p++;
		}
	}
	if (depth > 0)
		return fail(L, "'(' not closed by the end of the file");
	return 1;
}

static bool tok_is(const struct token *t, const char *word)
{
	return !t->quoted && strlen(word) == t->len &&
	       strncasecmp(t->s, word, t->len) == 0;
}

/* A name in text form, relative to the origin unless it ends in a dot. */
static int parse_name(struct loader *L, const struct token *t, uint8_t *out,
		      size_t *outlen)
{
	size_t len = 0, i = 0;

	if (t->quoted)
		return fail(L, "a name cannot be quoted");
	if (t->len == 1 && t->s[0] == '@') {
		memcpy(out, L->origin, L->originlen);
		*outlen = L->originlen;
		return 0;
	}
	if (t->len == 1 && t->s[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	while (i < t->len) {
		size_t start = i;
		while (i < t->len && t->s[i] != '.') {
			if (t->s[i] == '\\')
				return fail(L,
					    "escapes in names are not "
					    "supported: %.*s",
					    (int)t->len, t->s);
			i++;
		}
		size_t l = i - start;
		if (l == 0)
			return fail(L, "empty label in %.*s", (int)t->len,
				    t->s);
		if (l > 63)
			return fail(L, "label longer than 63 bytes in %.*s",
				    (int)t->len, t->s);
		if (len + 1 + l + 1 > DNS_NAME_MAX)
			return fail(L, "name longer than 255 bytes: %.*s",
				    (int)t->len, t->s);
		out[len++] = (uint8_t)l;
		memcpy(out + len, t->s + start, l);
		len += l;
		if (i < t->len)
			i++; /* the dot */
	}
	if (t->s[t->len - 1] == '.') {
		out[len++] = 0;
	} else {
		if (len + L->originlen > DNS_NAME_MAX)
			return fail(L,
				    "%.*s with the origin is longer than "
				    "255 bytes",
				    (int)t->len, t->s);
		memcpy(out + len, L->origin, L->originlen);
		len += L->originlen;
	}
	*outlen = len;
	return 0;
}

/* Seconds, or a sum of numbers with units (1h30m); at most 2^31 - 1 as
 * RFC 2181 has it. */
static int parse_ttl(struct loader *L, const struct token *t, uint32_t *out)
{
	unsigned long long total = 0;
	size_t i = 0;

	if (t->quoted || t->len == 0)
		return fail(L, "expected a TTL");
	while (i < t->len) {
		unsigned long long v = 0, unit = 1;
		size_t start = i;
		while (i < t->len && isdigit((unsigned char)t->s[i]) &&
		       v <= 0xffffffffull)
			v = v * 10 + (unsigned)(t->s[i++] - '0');
		if (i == start)
			return fail(L, "bad TTL %.*s", (int)t->len, t->s);
		if (i < t->len) {
			switch (tolower((unsigned char)t->s[i++])) {
			case 's': unit = 1; break;
			case 'm': unit = 60; break;
			case 'h': unit = 3600; break;
			case 'd': unit = 86400; break;
			case 'w': unit = 604800; break;
			default:
				return fail(L, "bad TTL %.*s", (int)t->len,
					    t->s);
			}
		} else if (start > 0) {
			return fail(L, "bad TTL %.*s (a unit is missing)",
				    (int)t->len, t->s);
		}
		total += v * unit;
		if (total > 0x7fffffffull)
			return fail(L, "TTL %.*s is over 2^31 - 1 seconds",
				    (int)t->len, t->s);
	}
	*out = (uint32_t)total;
	return 0;
}

static int parse_uint(struct loader *L, const struct token *t,
		      unsigned long long max, const char *what,
		      unsigned long long *out)
{
	unsigned long long v = 0;

	if (t->quoted || t->len == 0 || t->len > 10)
		return fail(L, "bad %s %.*s", what, (int)t->len, t->s);
	for (size_t i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->s[i]))
			return fail(L, "bad %s %.*s", what, (int)t->len, t->s);
		v = v * 10 + (unsigned)(t->s[i] - '0');
	}
	if (v > max)
		return fail(L, "%s %.*s is too large", what, (int)t->len, t->s);
	*out = v;
	return 0;
}

static int rd_put(struct loader *L, const void *p, size_t n)
{
	if (L->rdlen + n > MAX_RDATA)
		return fail(L, "record data longer than %d bytes", MAX_RDATA);
	memcpy(L->rdata + L->rdlen, p, n);
	L->rdlen += n;
	return 0;
}

static int rd_u32(struct loader *L, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	return rd_put(L, b, 4);
}

static int rd_name(struct loader *L, const struct token *t)
{
	uint8_t name[DNS_NAME_MAX];
	size_t len;
	int r = parse_name(L, t, name, &len);

	return r < 0 ? r : rd_put(L, name, len);
}

static int rd_addr(struct loader *L, const struct token *t, enum duet_af family)
{
	struct duet_ipaddr ip;
	char text[64];

	if (t->quoted || t->len >= sizeof(text))
		return fail(L, "bad address %.*s", (int)t->len, t->s);
	memcpy(text, t->s, t->len);
	text[t->len] = '\0';
	if (duet_ipaddr_parse(text, &ip) < 0 || ip.family != family)
		return fail(L, "%s is not an IPv%d address", text, family);
	return rd_put(L, ip.bytes, family == DUET_AF_INET ? 4 : 16);
}

/* One character-string: \X is X, \DDD is the byte DDD. */
static int rd_string(struct loader *L, const struct token *t)
{
	uint8_t s[256];
	size_t n = 0;

	for (size_t i = 0; i < t->len; i++) {
		unsigned c = (unsigned char)t->s[i];
		if (c == '\\' && i + 1 < t->len) {
			c = (unsigned char)t->s[++i];
			if (isdigit((int)c)) {
				if (i + 2 >= t->len ||
				    !isdigit((unsigned char)t->s[i + 1]) ||
				    !isdigit((unsigned char)t->s[i + 2]))
					return fail(L, "bad \\DDD escape");
				c = (c - '0') * 100 +
				    (unsigned)(t->s[i + 1] - '0') * 10 +
				    (unsigned)(t->s[i + 2] - '0');
				if (c > 255)
					return fail(L, "bad \\DDD escape");
				i += 2;
			}
		}
		if (n == 255)
			return fail(L, "a TXT string is longer than 255 bytes");
		s[1 + n++] = (uint8_t)c;
	}
	s[0] = (uint8_t)n;
	return rd_put(L, s, n + 1);
}

static const struct {
	const char *name;
	uint16_t type;
	int nargs; /* -1: one or more */
} types[] = {
    {"A", DNS_T_A, 1},	     {"NS", DNS_T_NS, 1}, {"CNAME", DNS_T_CNAME, 1},
    {"SOA", DNS_T_SOA, 7},   {"MX", DNS_T_MX, 2}, {"TXT", DNS_T_TXT, -1},
    {"AAAA", DNS_T_AAAA, 1},
};

static int rdata_parse(struct loader *L, uint16_t type, const struct token *a)
{
	unsigned long long v;
	uint32_t t32;
	int r = 0;

	L->rdlen = 0;
	switch (type) {
	case DNS_T_A: return rd_addr(L, a, DUET_AF_INET);
	case DNS_T_AAAA: return rd_addr(L, a, DUET_AF_INET6);
	case DNS_T_NS:
	case DNS_T_CNAME: return rd_name(L, a);
	case DNS_T_MX:
		if ((r = parse_uint(L, &a[0], 65535, "MX preference", &v)) < 0)
			return r;
		uint8_t pref[2] = {(uint8_t)(v >> 8), (uint8_t)v};
		if ((r = rd_put(L, pref, 2)) < 0)
			return r;
		return rd_name(L, &a[1]);
	case DNS_T_SOA:
		if ((r = rd_name(L, &a[0])) < 0 || (r = rd_name(L, &a[1])) < 0)
			return r;
		if ((r = parse_uint(L, &a[2], 0xffffffffull, "serial", &v)) <
			0 ||
		    (r = rd_u32(L, (uint32_t)v)) < 0)
			return r;
		for (int i = 3; i < 7; i++)
			if ((r = parse_ttl(L, &a[i], &t32)) < 0 ||
			    (r = rd_u32(L, t32)) < 0)
				return r;
		return 0;
	default: /* TXT: the caller passes every remaining token */
		for (size_t i = 0; &a[i] < L->tok + L->ntok; i++)
			if ((r = rd_string(L, &a[i])) < 0)
				return r;
		return 0;
	}
}

/* Through a copy: a relative name is read against the old origin. */
static int set_origin(struct loader *L, const struct token *t)
{
	uint8_t name[DNS_NAME_MAX];
	size_t len;
	int r = parse_name(L, t, name, &len);

	if (r == 0) {
		memcpy(L->origin, name, len);
		L->originlen = len;
	}
	return r;
}

static int directive(struct loader *L)
{
	const struct token *t = L->tok;

	if (tok_is(&t[0], "$ORIGIN")) {
		if (L->ntok != 2)
			return fail(L, "$ORIGIN takes one name");
		return set_origin(L, &t[1]);
	}
	if (tok_is(&t[0], "$TTL")) {
		if (L->ntok != 2)
			return fail(L, "$TTL takes one TTL");
		L->have_ttl = L->dollar_ttl = true;
		return parse_ttl(L, &t[1], &L->default_ttl);
	}
	return fail(L, "%.*s is not supported", (int)t[0].len, t[0].s);
}

static int record(struct loader *L, bool indented)
{
	struct dns_zone *z = L->z;
	const struct token *t = L->tok;
	size_t i = 0;
	uint32_t ttl = L->default_ttl;
	bool have_ttl = L->have_ttl;
	int r;

	if (!indented) {
		uint8_t name[DNS_NAME_MAX];
		size_t len;
		if ((r = parse_name(L, &t[i++], name, &len)) < 0)
			return r;
		if (len != L->ownerlen ||
		    memcmp(name, z->data + L->owner, len) != 0) {
			if ((r = duet__dns_data_add(z, name, len, &L->owner)) <
			    0)
				return r;
			L->ownerlen = (uint8_t)len;
		}
	} else if (L->ownerlen == 0) {
		return fail(L, "no owner name (the first record needs one)");
	}
	/* TTL and class, in either order, both optional. */
	for (int k = 0; k < 2 && i < L->ntok; k++) {
		if (!t[i].quoted && isdigit((unsigned char)t[i].s[0])) {
			if ((r = parse_ttl(L, &t[i++], &ttl)) < 0)
				return r;
			have_ttl = true;
			if (!L->dollar_ttl) { /* RFC 1035: the last one given */
				L->default_ttl = ttl;
				L->have_ttl = true;
			}
		} else if (tok_is(&t[i], "IN")) {
			i++;
		} else if (tok_is(&t[i], "CH") || tok_is(&t[i], "HS") ||
			   tok_is(&t[i], "CS")) {
			return fail(L, "only class IN is supported");
		}
	}
	if (i == L->ntok)
		return fail(L, "no record type");
	size_t ti = 0;
	while (ti < sizeof(types) / sizeof(types[0]) &&
	       !tok_is(&t[i], types[ti].name))
		ti++;
	if (ti == sizeof(types) / sizeof(types[0]))
		return fail(L, "record type %.*s is not supported",
			    (int)t[i].len, t[i].s);
	uint16_t type = types[ti].type;
	size_t nargs = L->ntok - ++i;
	if (types[ti].nargs >= 0 ? nargs != (size_t)types[ti].nargs
				 : nargs == 0)
		return fail(L, "%s takes %d field%s, not %zu", types[ti].name,
			    types[ti].nargs < 0 ? 1 : types[ti].nargs,
			    types[ti].nargs < 0	   ? " or more"
			    : types[ti].nargs == 1 ? ""
						   : "s",
			    nargs);
	if (!have_ttl)
		return fail(L, "no TTL (give one, or set $TTL)");

	const uint8_t *owner = z->data + L->owner;
	if (z->nrrs == 0 && type != DNS_T_SOA)
		return fail(L, "the first record must be the zone's SOA");
	if (z->nrrs > 0 && type == DNS_T_SOA)
		return fail(L, "a second SOA (one zone per file)");
	if (z->nrrs > 0) {
		const struct dns_rr *soa = &z->rrs[0];
		const uint8_t *apex = z->data + soa->owner;
		char a[DNS_NAME_MAX * 4 + 1], b[DNS_NAME_MAX * 4 + 1];
		if (!dns_name_in(owner, L->ownerlen, apex, soa->ownerlen))
			return fail(
			    L, "%s is outside the zone %s",
			    dns_name_format(owner, L->ownerlen, a, sizeof(a)),
			    dns_name_format(apex, soa->ownerlen, b, sizeof(b)));
		if (type == DNS_T_NS && L->ownerlen != soa->ownerlen)
			return fail(L, "NS below the apex (a delegation) is "
				       "not supported");
	}
	if ((r = rdata_parse(L, type, &t[i])) < 0)
		return r;
	struct dns_rr rr = {.owner = L->owner,
			    .ownerlen = L->ownerlen,
			    .ttl = ttl,
			    .type = type,
			    .rdlen = (uint16_t)L->rdlen};
	if ((r = duet__dns_data_add(z, L->rdata, L->rdlen, &rr.rdata)) < 0)
		return r;
	return duet__dns_rr_add(z, &rr);
}

int dns_zone_load(struct dns_zone *z, const char *text, size_t len,
		  const char *origin, char *err, size_t errlen)
{
	struct loader *L = calloc(1, sizeof(*L));
	struct token o = {origin, strlen(origin), false};
	bool indented;
	int r;

	memset(z, 0, sizeof(*z));
	if (L == NULL)
		return -ENOMEM;
	*L = (struct loader){.z = z,
			     .p = text,
			     .end = text + len,
			     .line = 1,
			     .err = err,
			     .errlen = errlen,
			     .origin = {0},
			     .originlen = 1};
	/* The initial origin is absolute whether or not it ends in a dot. */
	if ((r = o.len > 0 ? set_origin(L, &o) : 0) < 0)
		goto out;
	while ((r = lex_entry(L, &indented)) > 0) {
		if (L->ntok == 0)
			continue;
		if (!indented && L->tok[0].s[0] == '$' && !L->tok[0].quoted)
			r = directive(L);
		else
			r = record(L, indented);
		if (r < 0)
			goto out;
	}
	if (r < 0)
		goto out;
	if (z->nrrs == 0) {
		snprintf(err, errlen, "no records (a zone needs an SOA)");
		r = -EINVAL;
		goto out;
	}
	r = duet__dns_zone_finish(z, err, errlen);
out:
	free(L);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		dns_zone_free(z);
	}
	return r;
}
