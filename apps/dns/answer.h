/* answer.h — one query in, one response out: the authoritative server's
 * whole protocol logic, with no I/O (the app and the unit tests feed it).
 *
 * dns_answer() reads one query message and writes the response into the
 * caller's buffer of `cap` bytes (nothing is allocated), returning its
 * length, or 0 when nothing must be sent: a message too short to hold a
 * header, and any response (QR=1: answering one could start a loop between
 * two servers). Everything else gets an answer:
 *
 *   FORMERR   a malformed query (a header can be echoed): QDCOUNT != 1,
 *             a truncated or overlong message, bad labels or compression,
 *             a compressed question name, records that do not parse, a
 *             misplaced or second OPT, trailing bytes
 *   NOTIMP    an opcode other than QUERY; AXFR, IXFR, MAILA, MAILB
 *   REFUSED   a name in none of the zones, a class other than IN
 *   BADVERS   EDNS version above 0 (with an OPT)
 *   NXDOMAIN  a name that does not exist (SOA in the authority section)
 *   NOERROR   with the records; NODATA (no records, SOA in authority) for
 *             a name that exists without that type
 *
 * Answers from a zone (NOERROR, NXDOMAIN) are authoritative (AA). A CNAME is
 * followed within its zone (up to 8 links); the rcode and the SOA follow the
 * last name of the chain (RFC 6604). ANY gets one RRset (RFC 8482): the
 * name's first by type number, which keeps ANY from being an amplifier.
 * The question is echoed byte for byte, so its case is the query's; names in
 * answers are compressed. A response to a query that carries an OPT carries
 * one advertising DNS_EDNS_UDP_SIZE, FORMERR and NOTIMP included (RFC 6891
 * section 7; a malformed query's OPT is found as far as the message can be
 * walked). Over UDP (cap at least DNS_RESPONSE_MAX) a response may
 * be as large as the client's EDNS size, at most DNS_RESPONSE_MAX; without
 * EDNS, 512 bytes. Over TCP it may fill cap (at most 65535). A response that
 * does not fit is sent as the question alone with TC set.
 */
#ifndef DUET_DNS_ANSWER_H
#define DUET_DNS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "zone.h"

/* 1232 bytes: the size DNS Flag Day 2020 settled on, which fits an IPv6
 * packet in a 1280-byte MTU without fragments. */
#define DNS_EDNS_UDP_SIZE 1232
#define DNS_RESPONSE_MAX  DNS_EDNS_UDP_SIZE
/* Longer datagrams are refused as malformed: no query needs more. */
#define DNS_QUERY_MAX 4096

enum dns_rcode {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
	DNS_R_BADVERS = 16,
};

struct dns_stats {
	uint64_t queries; /* messages seen */
	uint64_t noerror; /* of which NODATA: */
	uint64_t nodata;
	uint64_t nxdomain;
	uint64_t refused;
	uint64_t formerr;
	uint64_t notimp;
	uint64_t badvers;
	uint64_t truncated;
	uint64_t dropped_short;	   /* shorter than a header */
	uint64_t dropped_response; /* QR set */
};

struct dns_server {
	const struct dns_zone *zones;
	size_t nzones;
	struct dns_stats stats;
};

enum dns_transport { DNS_UDP, DNS_TCP };

size_t dns_answer(struct dns_server *s, enum dns_transport tr, const uint8_t *q,
		  size_t qlen, uint8_t *out, size_t cap);

#endif
