/* zone.h — an authoritative zone in memory, loaded from master-file text.
 *
 * The loader reads a subset of RFC 1035 master-file syntax: $ORIGIN, $TTL,
 * records of type SOA, NS, A, AAAA, CNAME, MX and TXT in class IN, owner
 * names that are relative (the origin is appended), absolute (ending in a
 * dot) or "@" (the origin), a blank owner (the previous record's), TTLs as
 * seconds or with units (1h30m, 2d, 1w), ";" comments, and parentheses that
 * join lines (for SOA, but any record may use them). TXT strings are quoted
 * or bare words and may use \X and \DDD escapes; names may not (a name with
 * a backslash is an error). Not supported, and refused with the line number:
 * $INCLUDE, $GENERATE, other classes and types, wildcards' special meaning
 * (a "*" label is an ordinary label), and NS below the apex (delegations).
 *
 * The first record must be the zone's SOA; its owner is the apex and every
 * later record must be at or below it. The apex must have an NS record. A
 * CNAME owner holds nothing else. Identical records are kept once.
 *
 * Loading allocates (the table grows as it reads); a loaded zone is
 * read-only and lookups allocate nothing. Names are kept in uncompressed
 * wire form with the case they were written in, and compared without case.
 */
#ifndef DUET_DNS_ZONE_H
#define DUET_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255 /* wire form, with the root label */

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_OPT = 41,
	DNS_T_ANY = 255,
};

/* One record. rdata is stored in wire form with uncompressed names: the
 * encoder knows where each type keeps its names. */
struct dns_rr {
	uint32_t owner; /* offset of the owner name in the zone's data */
	uint32_t rdata; /* offset of the rdata in the zone's data */
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
	uint8_t ownerlen;
};

/* A name that exists in the zone: its records are rrs[rr, rr + nrr), all of
 * one owner, ordered by type. nrr == 0 for an empty non-terminal (a name
 * with no records but with records below it: it exists, so a query for it
 * gets NODATA, not NXDOMAIN). */
struct dns_node {
	uint32_t name;
	uint32_t rr;
	uint32_t nrr;
	uint8_t namelen;
};

struct dns_zone {
	uint8_t *data; /* names and rdata */
	size_t datalen, datacap;
	struct dns_rr *rrs;
	size_t nrrs, rrcap;
	struct dns_node *nodes; /* sorted by name, for binary search */
	size_t nnodes;
	size_t soa; /* index of the SOA in rrs */
	/* From the SOA, worked out once at load for the answers that carry
	 * it: the negative TTL (RFC 2308: the lesser of the SOA's TTL and its
	 * minimum field) and the lengths of its two rdata names. */
	uint32_t neg_ttl;
	uint8_t soa_mnamelen, soa_rnamelen;
	const uint8_t *apex;
	size_t apexlen;
	char apex_text[DNS_NAME_MAX + 1]; /* for log lines: "example.com." */
};

/* Loads `text` (len bytes). `origin` is the initial $ORIGIN in text form
 * ("example.com." or "example.com"); $ORIGIN lines may change it. Returns 0,
 * -EINVAL with a one-line reason ("line 12: MX needs a preference and a
 * name") in err, or -ENOMEM. On failure nothing stays allocated. */
int dns_zone_load(struct dns_zone *z, const char *text, size_t len,
		  const char *origin, char *err, size_t errlen);
void dns_zone_free(struct dns_zone *z);

/* The node for `name` (uncompressed wire form), or NULL. */
const struct dns_node *dns_zone_find(const struct dns_zone *z,
				     const uint8_t *name, size_t len);
/* Whether `name` is `apex` or below it. */
bool dns_name_in(const uint8_t *name, size_t len, const uint8_t *apex,
		 size_t apexlen);
/* Names compared without case; 0 when equal. A total order. */
int dns_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Length of the uncompressed wire name at p (at most max bytes read), or 0
 * if it does not end in the root label within max. */
size_t dns_name_len(const uint8_t *p, size_t max);
/* "www.example.com." for log lines and errors; returns buf. */
const char *dns_name_format(const uint8_t *name, size_t len, char *buf,
			    size_t size);

#endif
