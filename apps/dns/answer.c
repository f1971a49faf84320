/* The query reader and the response writer (RFC 1035 section 4, RFC 6891
 * for EDNS0). Every read of the query is bounds-checked against its length;
 * the writer never goes past its limit and reports that it ran out. */
#include <assert.h>
#include <ctype.h>
#include <string.h>

#include "answer.h"

#define HDR		12
#define OPT_RR_LEN	11
#define MAX_CNAME_LINKS 8

/* Header flags, byte 2 and byte 3. */
#define F_QR	 0x80
#define F_OPCODE 0x78
#define F_AA	 0x04
#define F_TC	 0x02
#define F_RD	 0x01
#define F_CD	 0x10

struct query {
	const uint8_t *qname; /* at HDR, uncompressed */
	size_t qnamelen;
	size_t qend; /* end of the question */
	uint16_t qtype, qclass;
	bool edns;
	uint16_t udp_size;
	uint8_t edns_version;
	bool dnssec_ok;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Steps over a possibly compressed name. A pointer must lead before the
 * start of the labels it ends (so every jump goes strictly backwards and
 * the walk ends), never into the header, and the name must stay within
 * 255 bytes. */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos, seg = *pos, total = 0, end = 0;
	bool jumped = false;

	for (;;) {
		if (p >= len)
			return false;
		uint8_t c = m[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return false;
			size_t target = (size_t)(c & 0x3f) << 8 | m[p + 1];
			if (target >= seg || target < HDR)
				return false;
			if (!jumped)
				end = p + 2;
			jumped = true;
			p = seg = target;
			continue;
		}
		if (c & 0xc0) /* 0x40, 0x80: label types nobody uses */
			return false;
		total += (size_t)c + 1;
		if (total > DNS_NAME_MAX)
			return false;
		if (c == 0) {
			*pos = jumped ? end : p + 1;
			return true;
		}
		p += (size_t)c + 1;
	}
}

/* The records after the question: checked for shape, OPT read. */
static bool parse_records(const uint8_t *m, size_t len, size_t *pos,
			  unsigned count, bool additional, struct query *qu)
{
	for (unsigned i = 0; i < count; i++) {
		size_t start = *pos;
		if (!skip_name(m, len, pos) || len - *pos < 10)
			return false;
		const uint8_t *f = m + *pos;
		uint16_t type = get16(f), rdlen = get16(f + 8);
		*pos += 10;
		if (len - *pos < rdlen)
			return false;
		if (type == DNS_T_OPT) {
			/* One OPT, in the additional section, owned by the
			 * root (RFC 6891 section 6.1.1). */
			if (!additional || qu->edns || m[start] != 0)
				return false;
			qu->edns = true;
			qu->udp_size = get16(f + 2);
			qu->edns_version = f[5];
			qu->dnssec_ok = (f[6] & 0x80) != 0;
			for (size_t o = 0; o < rdlen;) {
				if (rdlen - o < 4 ||
				    rdlen - o - 4 < get16(m + *pos + o + 2))
					return false;
				o += 4 + (size_t)get16(m + *pos + o + 2);
			}
		}
		*pos += rdlen;
	}
	return true;
}

static bool parse_query(const uint8_t *m, size_t len, struct query *qu)
{
	size_t pos = HDR;

	memset(qu, 0, sizeof(*qu));
	if (get16(m + 4) != 1)
		return false;
	/* The question is echoed as it came, so it may hold no pointer
	 * (it would point into a different message). */
	while (pos < len && m[pos] != 0) {
		if (m[pos] & 0xc0)
			return false;
		pos += (size_t)m[pos] + 1;
		if (pos - HDR >= DNS_NAME_MAX)
			return false;
	}
	if (pos >= len || len - pos < 5)
		return false;
	qu->qname = m + HDR;
	qu->qnamelen = pos + 1 - HDR;
	qu->qtype = get16(m + pos + 1);
	qu->qclass = get16(m + pos + 3);
	pos += 5;
	qu->qend = pos;
	if (!parse_records(m, len, &pos, get16(m + 6), false, qu) ||
	    !parse_records(m, len, &pos, get16(m + 8), false, qu) ||
	    !parse_records(m, len, &pos, get16(m + 10), true, qu))
		return false;
	return pos == len;
}

/* ------------------------------------------------------------- writing */

struct writer {
	uint8_t *buf;
	size_t len, limit;
	bool full;
	/* Where earlier names' labels start, for compression. */
	uint16_t names[64];
	unsigned nnames;
};

static bool w_put(struct writer *w, const void *p, size_t n)
{
	if (w->full || n > w->limit - w->len) {
		w->full = true;
		return false;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return true;
}

/* Whether the name at message offset pos (compressed, written by us, so
 * well-formed) equals the uncompressed name s, ignoring case. */
static bool msg_name_eq(const uint8_t *m, size_t pos, const uint8_t *s)
{
	for (unsigned hops = 0; hops < 128;) {
		uint8_t c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			pos = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			hops++;
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		for (size_t i = 1; i <= c; i++)
			if (tolower(m[pos + i]) != tolower(s[i]))
				return false;
		pos += (size_t)c + 1;
		s += c + 1;
	}
	return false;
}

static void remember(struct writer *w, size_t at, const uint8_t *name, size_t n)
{
	for (size_t p = 0; p < n && name[p] != 0; p += (size_t)name[p] + 1)
		if (at + p < 0x4000 &&
		    w->nnames < sizeof(w->names) / sizeof(w->names[0]))
			w->names[w->nnames++] = (uint16_t)(at + p);
}

/* Writes name, ending in a pointer to the longest suffix already written. */
static void w_name(struct writer *w, const uint8_t *name, size_t len)
{
	for (size_t off = 0; name[off] != 0; off += (size_t)name[off] + 1) {
		for (unsigned i = 0; i < w->nnames; i++) {
			if (!msg_name_eq(w->buf, w->names[i], name + off))
				continue;
			size_t at = w->len;
			uint8_t ptr[2] = {(uint8_t)(0xc0 | w->names[i] >> 8),
					  (uint8_t)w->names[i]};
			if (w_put(w, name, off) && w_put(w, ptr, 2))
				remember(w, at, name, off);
			return;
		}
	}
	size_t at = w->len;
	if (w_put(w, name, len))
		remember(w, at, name, len);
}

static void w_rr(struct writer *w, const struct dns_zone *z,
		 const uint8_t *owner, size_t ownerlen, const struct dns_rr *rr,
		 uint32_t ttl)
{
	const uint8_t *rd = z->data + rr->rdata;
	uint8_t f[10];
	size_t n1, n2;

	w_name(w, owner, ownerlen);
	put16(f, rr->type);
	put16(f + 2, 1); /* IN */
	put16(f + 4, (uint16_t)(ttl >> 16));
	put16(f + 6, (uint16_t)ttl);
	put16(f + 8, 0);
	if (!w_put(w, f, sizeof(f)))
		return;
	size_t start = w->len;
	switch (rr->type) {
	case DNS_T_NS:
	case DNS_T_CNAME: w_name(w, rd, rr->rdlen); break;
	case DNS_T_MX:
		w_put(w, rd, 2);
		w_name(w, rd + 2, (size_t)rr->rdlen - 2);
		break;
	case DNS_T_SOA: /* a zone has one: rr is z's own */
		n1 = z->soa_mnamelen;
		n2 = z->soa_rnamelen;
		w_name(w, rd, n1);
		w_name(w, rd + n1, n2);
		w_put(w, rd + n1 + n2, 20);
		break;
	default: w_put(w, rd, rr->rdlen); break;
	}
	if (!w->full)
		put16(w->buf + start - 2, (uint16_t)(w->len - start));
}

/* ----------------------------------------------------------- answering */

/* The OPT of a query refused before it was read whole (for its opcode, or
 * malformed): the fixed part of the first root-owned OPT in the additional
 * section, as far as the message can be walked, or NULL. */
static const uint8_t *find_opt(const uint8_t *m, size_t len)
{
	size_t pos = HDR;
	unsigned qd = get16(m + 4);
	unsigned before = (unsigned)get16(m + 6) + get16(m + 8);
	unsigned total = before + get16(m + 10);

	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(m, len, &pos) || len - pos < 4)
			return NULL;
		pos += 4;
	}
	for (unsigned i = 0; i < total; i++) {
		size_t start = pos;
		if (!skip_name(m, len, &pos) || len - pos < 10)
			return NULL;
		if (i >= before && m[start] == 0 && get16(m + pos) == DNS_T_OPT)
			return m + pos;
		uint16_t rdlen = get16(m + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			return NULL;
		pos += rdlen;
	}
	return NULL;
}

/* Appends our OPT to the response of out_len bytes (RFC 6891 section 7:
 * a response to a query with an OPT carries one). */
static size_t put_opt(uint8_t *out, size_t len, enum dns_rcode rc,
		      bool dnssec_ok)
{
	uint8_t *o = out + len;

	o[0] = 0;
	put16(o + 1, DNS_T_OPT);
	put16(o + 3, DNS_EDNS_UDP_SIZE);
	o[5] = (uint8_t)(rc >> 4); /* the extended rcode's upper bits */
	o[6] = 0;		   /* version */
	o[7] = dnssec_ok ? 0x80 : 0;
	o[8] = 0;
	put16(o + 9, 0);
	put16(out + 10, 1);
	return len + OPT_RR_LEN;
}

static size_t header_only(const uint8_t *q, size_t qlen, uint8_t *out,
			  enum dns_rcode rc)
{
	const uint8_t *opt = find_opt(q, qlen);

	memset(out, 0, HDR);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(F_QR | (q[2] & (F_OPCODE | F_RD)));
	out[3] = (uint8_t)rc;
	if (opt == NULL)
		return HDR;
	return put_opt(out, HDR, rc, (opt[6] & 0x80) != 0);
}

/* The zone holding name: the one with the longest apex. */
static const struct dns_zone *zone_for(const struct dns_server *s,
				       const uint8_t *name, size_t len)
{
	const struct dns_zone *best = NULL;

	for (size_t i = 0; i < s->nzones; i++) {
		const struct dns_zone *z = &s->zones[i];
		if ((best == NULL || z->apexlen > best->apexlen) &&
		    dns_name_in(name, len, z->apex, z->apexlen))
			best = z;
	}
	return best;
}

/* Fills the answer and authority sections; returns the rcode. */
static enum dns_rcode resolve(struct writer *w, const struct dns_zone *z,
			      const struct query *qu, uint16_t *an,
			      uint16_t *ns)
{
	const uint8_t *name = qu->qname;
	size_t namelen = qu->qnamelen;
	enum dns_rcode rc = DNS_R_NOERROR;
	bool negative = false;

	for (unsigned link = 0;; link++) {
		const struct dns_node *nd = dns_zone_find(z, name, namelen);
		if (nd == NULL) {
			rc = DNS_R_NXDOMAIN;
			negative = true;
			break;
		}
		const struct dns_rr *rrs = &z->rrs[nd->rr];
		if (nd->nrr == 1 && rrs[0].type == DNS_T_CNAME &&
		    qu->qtype != DNS_T_CNAME && qu->qtype != DNS_T_ANY) {
			w_rr(w, z, name, namelen, &rrs[0], rrs[0].ttl);
			(*an)++;
			name = z->data + rrs[0].rdata;
			namelen = rrs[0].rdlen;
			if (link + 1 == MAX_CNAME_LINKS ||
			    !dns_name_in(name, namelen, z->apex, z->apexlen))
				break;
			continue;
		}
		uint16_t want = qu->qtype;
		if (want == DNS_T_ANY && nd->nrr > 0)
			want = rrs[0].type;
		uint16_t before = *an;
		for (uint32_t i = 0; i < nd->nrr; i++)
			if (rrs[i].type == want) {
				w_rr(w, z, name, namelen, &rrs[i], rrs[i].ttl);
				(*an)++;
			}
		negative = *an == before;
		break;
	}
	if (negative) {
		w_rr(w, z, z->apex, z->apexlen, &z->rrs[z->soa], z->neg_ttl);
		(*ns)++;
	}
	return rc;
}

static void count(struct dns_stats *st, enum dns_rcode rc, uint16_t an)
{
	switch (rc) {
	case DNS_R_NOERROR:
		st->noerror++;
		st->nodata += an == 0;
		break;
	case DNS_R_NXDOMAIN: st->nxdomain++; break;
	case DNS_R_REFUSED: st->refused++; break;
	case DNS_R_FORMERR: st->formerr++; break;
	case DNS_R_NOTIMP: st->notimp++; break;
	case DNS_R_BADVERS: st->badvers++; break;
	default: break;
	}
}

size_t dns_answer(struct dns_server *s, enum dns_transport tr, const uint8_t *q,
		  size_t qlen, uint8_t *out, size_t cap)
{
	struct query qu;
	uint16_t an = 0, ns = 0;
	enum dns_rcode rc = DNS_R_NOERROR;
	bool aa = true;

	s->stats.queries++;
	if (qlen < HDR) {
		s->stats.dropped_short++;
		return 0;
	}
	if (q[2] & F_QR) {
		s->stats.dropped_response++;
		return 0;
	}
	if ((q[2] & F_OPCODE) != 0) {
		count(&s->stats, DNS_R_NOTIMP, 0);
		return header_only(q, qlen, out, DNS_R_NOTIMP);
	}
	if (qlen > DNS_QUERY_MAX || !parse_query(q, qlen, &qu)) {
		count(&s->stats, DNS_R_FORMERR, 0);
		return header_only(q, qlen, out, DNS_R_FORMERR);
	}

	size_t limit = 512;
	if (tr == DNS_TCP)
		limit = cap < 65535 ? cap : 65535;
	else if (qu.edns && qu.udp_size > 512)
		limit = qu.udp_size < DNS_RESPONSE_MAX ? qu.udp_size
						       : DNS_RESPONSE_MAX;
	assert(limit <= cap && limit >= 512);
	struct writer w = {.buf = out,
			   .limit = limit - (qu.edns ? OPT_RR_LEN : 0)};
	memset(out, 0, HDR);
	w.len = HDR;
	w_put(&w, q + HDR, qu.qend - HDR);
	remember(&w, HDR, qu.qname, qu.qnamelen);

	const struct dns_zone *z = NULL;
	if (qu.edns_version > 0)
		rc = DNS_R_BADVERS;
	else if (qu.qtype == DNS_T_OPT)
		rc = DNS_R_FORMERR;
	else if (qu.qclass != 1)
		rc = DNS_R_REFUSED;
	else if (qu.qtype >= 251 && qu.qtype <= 254)
		rc = DNS_R_NOTIMP;
	else if ((z = zone_for(s, qu.qname, qu.qnamelen)) == NULL)
		rc = DNS_R_REFUSED;
	else
		rc = resolve(&w, z, &qu, &an, &ns);
	if (z == NULL)
		aa = false;
	count(&s->stats, rc, an);

	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(F_QR | (aa ? F_AA : 0) | (q[2] & F_RD));
	out[3] = (uint8_t)((q[3] & F_CD) | (rc & 0xf));
	if (w.full) {
		/* Whole RRsets or nothing: the question alone, and TC so the
		 * client knows there was more. */
		w.len = qu.qend;
		an = ns = 0;
		out[2] |= F_TC;
		s->stats.truncated++;
	}
	put16(out + 4, 1);
	put16(out + 6, an);
	put16(out + 8, ns);
	if (qu.edns)
		w.len = put_opt(out, w.len, rc, qu.dnssec_ok);
	return w.len;
}
