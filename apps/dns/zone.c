/* The in-memory zone table: building it from the records the master-file
 * reader (zone_text.c) adds, and looking names up in it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone.h"
#include "zone_load.h"

int dns_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	/* Byte-wise over the wire form: length octets (< 64) are never
	 * letters, so folding case touches only label bytes. */
	for (size_t i = 0; i < n; i++) {
		int ca = tolower(a[i]), cb = tolower(b[i]);
		if (ca != cb)
			return ca - cb;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

bool dns_name_in(const uint8_t *name, size_t len, const uint8_t *apex,
		 size_t apexlen)
{
	size_t pos = 0;

	while (pos < len) {
		if (len - pos == apexlen &&
		    dns_name_cmp(name + pos, apexlen, apex, apexlen) == 0)
			return true;
		if (name[pos] == 0)
			break;
		pos += (size_t)name[pos] + 1;
	}
	return false;
}

size_t dns_name_len(const uint8_t *p, size_t max)
{
	size_t pos = 0;

	while (pos < max && pos < DNS_NAME_MAX) {
		if (p[pos] == 0)
			return pos + 1;
		if (p[pos] > 63)
			return 0;
		pos += (size_t)p[pos] + 1;
	}
	return 0;
}

const char *dns_name_format(const uint8_t *name, size_t len, char *buf,
			    size_t size)
{
	size_t pos = 0, out = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (len == 1) {
		snprintf(buf, size, ".");
		return buf;
	}
	while (pos < len && name[pos] != 0) {
		size_t l = name[pos++];
		for (size_t i = 0; i < l && pos < len; i++, pos++) {
			uint8_t c = name[pos];
			int w =
			    (c > 32 && c < 127 && c != '.' && c != '\\')
				? snprintf(buf + out, size - out, "%c", c)
				: snprintf(buf + out, size - out, "\\%03u", c);
			if (w < 0 || (size_t)w >= size - out)
				return buf;
			out += (size_t)w;
		}
		if (out + 1 >= size)
			return buf;
		buf[out++] = '.';
		buf[out] = '\0';
	}
	return buf;
}

/* ------------------------------------------------------------ building */

int duet__dns_data_add(struct dns_zone *z, const void *p, size_t n,
		       uint32_t *off)
{
	if (z->datalen + n > UINT32_MAX)
		return -ENOMEM;
	if (z->datalen + n > z->datacap) {
		size_t cap = z->datacap ? z->datacap : 4096;
		while (cap < z->datalen + n)
			cap *= 2;
		uint8_t *d = realloc(z->data, cap);
		if (d == NULL)
			return -ENOMEM;
		z->data = d;
		z->datacap = cap;
	}
	memcpy(z->data + z->datalen, p, n);
	*off = (uint32_t)z->datalen;
	z->datalen += n;
	return 0;
}

int duet__dns_rr_add(struct dns_zone *z, const struct dns_rr *rr)
{
	if (z->nrrs == z->rrcap) {
		size_t cap = z->rrcap ? z->rrcap * 2 : 64;
		struct dns_rr *r = realloc(z->rrs, cap * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		z->rrs = r;
		z->rrcap = cap;
	}
	z->rrs[z->nrrs++] = *rr;
	return 0;
}

/* qsort has no context argument and the comparisons need the zone's data:
 * a heapsort that takes one (in place, no allocation). */
typedef int (*cmp_fn)(const void *a, const void *b, const void *ctx);

static void swap_bytes(uint8_t *a, uint8_t *b, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		uint8_t t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

static void sift_down(uint8_t *base, size_t root, size_t n, size_t size,
		      cmp_fn cmp, const void *ctx)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size,
					 base + (child + 1) * size, ctx) < 0)
			child++;
		if (cmp(base + root * size, base + child * size, ctx) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

static void sort_ctx(void *v, size_t n, size_t size, cmp_fn cmp,
		     const void *ctx)
{
	uint8_t *base = v;

	for (size_t i = n / 2; i-- > 0;)
		sift_down(base, i, n, size, cmp, ctx);
	for (size_t end = n; end-- > 1;) {
		swap_bytes(base, base + end * size, size);
		sift_down(base, 0, end, size, cmp, ctx);
	}
}

static int rr_cmp(const void *va, const void *vb, const void *ctx)
{
	const struct dns_rr *a = va, *b = vb;
	const uint8_t *d = ctx;
	int c =
	    dns_name_cmp(d + a->owner, a->ownerlen, d + b->owner, b->ownerlen);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	return memcmp(d + a->rdata, d + b->rdata, a->rdlen);
}

/* Nodes with records sort before the empty non-terminal of the same name,
 * so keeping the first of each name keeps the real one. */
static int node_cmp(const void *va, const void *vb, const void *ctx)
{
	const struct dns_node *a = va, *b = vb;
	const uint8_t *d = ctx;
	int c = dns_name_cmp(d + a->name, a->namelen, d + b->name, b->namelen);

	if (c != 0)
		return c;
	return a->nrr > b->nrr ? -1 : a->nrr < b->nrr ? 1 : 0;
}

static unsigned name_labels(const uint8_t *name)
{
	unsigned n = 0;

	for (size_t pos = 0; name[pos] != 0; pos += (size_t)name[pos] + 1)
		n++;
	return n;
}

static int zone_fail(char *err, size_t errlen, const struct dns_zone *z,
		     const struct dns_rr *rr, const char *what)
{
	char name[DNS_NAME_MAX * 4 + 1];

	snprintf(err, errlen, "%s %s",
		 dns_name_format(z->data + rr->owner, rr->ownerlen, name,
				 sizeof(name)),
		 what);
	return -EINVAL;
}

int duet__dns_zone_finish(struct dns_zone *z, char *err, size_t errlen)
{
	size_t n = 0, maxnodes = 0;
	unsigned apex_labels;

	sort_ctx(z->rrs, z->nrrs, sizeof(z->rrs[0]), rr_cmp, z->data);
	for (size_t i = 0; i < z->nrrs; i++) /* identical records: once */
		if (n == 0 || rr_cmp(&z->rrs[n - 1], &z->rrs[i], z->data) != 0)
			z->rrs[n++] = z->rrs[i];
	z->nrrs = n;

	for (size_t i = 0; i < z->nrrs; i++)
		if (z->rrs[i].type == DNS_T_SOA)
			z->soa = i;
	z->apex = z->data + z->rrs[z->soa].owner;
	z->apexlen = z->rrs[z->soa].ownerlen;
	/* The loader made the SOA rdata two names and five 32-bit numbers,
	 * the minimum last. */
	const struct dns_rr *soa = &z->rrs[z->soa];
	const uint8_t *rd = z->data + soa->rdata, *m = rd + soa->rdlen - 4;
	uint32_t min = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
		       (uint32_t)m[2] << 8 | m[3];
	z->neg_ttl = soa->ttl < min ? soa->ttl : min;
	z->soa_mnamelen = (uint8_t)dns_name_len(rd, soa->rdlen);
	z->soa_rnamelen = (uint8_t)dns_name_len(rd + z->soa_mnamelen,
						soa->rdlen - z->soa_mnamelen);
	apex_labels = name_labels(z->apex);
	dns_name_format(z->apex, z->apexlen, z->apex_text,
			sizeof(z->apex_text));

	/* Room for every owner and each of its ancestors below the apex. */
	for (size_t i = 0; i < z->nrrs; i++)
		maxnodes +=
		    name_labels(z->data + z->rrs[i].owner) - apex_labels + 1;
	z->nodes = calloc(maxnodes ? maxnodes : 1, sizeof(*z->nodes));
	if (z->nodes == NULL)
		return -ENOMEM;

	bool apex_ns = false;
	for (size_t i = 0; i < z->nrrs;) {
		const struct dns_rr *rr = &z->rrs[i];
		size_t j = i;
		bool cname = false;
		while (j < z->nrrs &&
		       dns_name_cmp(z->data + z->rrs[j].owner,
				    z->rrs[j].ownerlen, z->data + rr->owner,
				    rr->ownerlen) == 0) {
			cname |= z->rrs[j].type == DNS_T_CNAME;
			apex_ns |= z->rrs[j].type == DNS_T_NS &&
				   z->rrs[j].ownerlen == z->apexlen;
			j++;
		}
		if (cname && j - i > 1)
			return zone_fail(err, errlen, z, rr,
					 "has a CNAME and other records (a "
					 "CNAME must be alone)");
		z->nodes[z->nnodes++] =
		    (struct dns_node){.name = rr->owner,
				      .namelen = rr->ownerlen,
				      .rr = (uint32_t)i,
				      .nrr = (uint32_t)(j - i)};
		/* Its ancestors up to the apex exist too, records or not. */
		uint32_t pos = rr->owner;
		for (unsigned k = name_labels(z->data + rr->owner);
		     k > apex_labels; k--) {
			pos += (uint32_t)z->data[pos] + 1;
			z->nodes[z->nnodes++] = (struct dns_node){
			    .name = pos,
			    .namelen =
				(uint8_t)(rr->ownerlen - (pos - rr->owner)),
			    .rr = 0,
			    .nrr = 0};
		}
		i = j;
	}
	if (!apex_ns) {
		snprintf(err, errlen, "the apex %s has no NS record",
			 z->apex_text);
		return -EINVAL;
	}
	sort_ctx(z->nodes, z->nnodes, sizeof(z->nodes[0]), node_cmp, z->data);
	n = 0;
	for (size_t i = 0; i < z->nnodes; i++)
		if (n == 0 || dns_name_cmp(z->data + z->nodes[n - 1].name,
					   z->nodes[n - 1].namelen,
					   z->data + z->nodes[i].name,
					   z->nodes[i].namelen) != 0)
			z->nodes[n++] = z->nodes[i];
	z->nnodes = n;
	return 0;
}

void dns_zone_free(struct dns_zone *z)
{
	free(z->data);
	free(z->rrs);
	free(z->nodes);
	memset(z, 0, sizeof(*z));
}

const struct dns_node *dns_zone_find(const struct dns_zone *z,
				     const uint8_t *name, size_t len)
{
	size_t lo = 0, hi = z->nnodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dns_node *nd = &z->nodes[mid];
		int c =
		    dns_name_cmp(name, len, z->data + nd->name, nd->namelen);
		if (c == 0)
			return nd;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
