/* Tar header parsing (see tar_parse.h): ustar, pax and GNU long names. */
#include <stdlib.h>
#include <string.h>

#include "tar_parse.h"

const char duet__tar_end[] = "end of archive";

#define MAX_SIZE (UINT64_C(1) << 62)

/* An octal field (NUL- or space-terminated, leading spaces allowed) or a
 * GNU base-256 one (high bit of the first byte set). */
static const char *parse_number(const uint8_t *f, size_t n, bool signed_ok,
				uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] == 0xff) {
			if (!signed_ok)
				return "negative number";
			*out = 0;
			return NULL;
		}
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >= MAX_SIZE >> 8)
				return "number too large";
			v = v << 8 | f[i];
		}
		*out = v;
		return NULL;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] != '\0' && f[i] != ' '; i++) {
		if (f[i] < '0' || f[i] > '7')
			return "numeric field is not octal";
		if (v >= MAX_SIZE >> 3)
			return "number too large";
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	*out = v;
	return NULL;
}

static void copy_field(char *dst, const uint8_t *src, size_t n)
{
	size_t len = strnlen((const char *)src, n);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

const char *duet__tar_parse_header(const uint8_t raw[DUET__TAR_BLOCK],
				   const struct duet__tar_pending *p,
				   struct duet__tar_header *h)
{
	uint64_t stored, sum = 0;
	int64_t ssum = 0;
	bool zero = true;
	const char *why;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < DUET__TAR_BLOCK; i++) {
		uint8_t b = (i >= 148 && i < 156) ? ' ' : raw[i];
		zero = zero && raw[i] == 0;
		sum += b;
		ssum += (int8_t)b;
	}
	if (zero)
		return DUET__TAR_END;
	why = parse_number(raw + 148, 8, false, &stored);
	if (why != NULL || (stored != sum && (int64_t)stored != ssum)) {
		h->bad_checksum = true;
		return "header checksum mismatch";
	}
	h->ustar = memcmp(raw + 257, "ustar", 5) == 0;
	h->flag = (char)raw[156];
	why = parse_number(raw + 124, 12, false, &h->size);
	if (why != NULL)
		return why;
	why = parse_number(raw + 136, 12, true, &h->mtime);
	if (why != NULL)
		return why;
	copy_field(h->name, raw, 100);
	copy_field(h->linkname, raw + 157, 100);
	if (h->ustar)
		copy_field(h->prefix, raw + 345, 155);
	switch (h->flag) {
	case '0':
	case '\0':
	case '7': h->type = DUET__TAR_FILE; break;
	case 'x':
	case 'g':
	case 'L':
	case 'K': h->type = DUET__TAR_EXT; break;
	case '1': h->type = DUET__TAR_LINK; break;
	default: h->type = DUET__TAR_OTHER; break;
	}
	/* Old archives mark directories only by a trailing slash. */
	if (h->type == DUET__TAR_FILE && h->flag == '\0' &&
	    h->name[0] != '\0' && h->name[strlen(h->name) - 1] == '/')
		h->type = DUET__TAR_OTHER;
	if (h->type != DUET__TAR_EXT) {
		if (p->has_size)
			h->size = p->size;
		if (p->has_mtime)
			h->mtime = p->mtime;
	}
	return NULL;
}

void duet__tar_pending_clear(struct duet__tar_pending *p)
{
	free(p->path);
	free(p->longname);
	free(p->linkpath);
	memset(p, 0, sizeof(*p));
}

/* A decimal pax value: digits, and for mtime an optional fraction (and a
 * minus sign, read as 0). */
static const char *pax_number(const uint8_t *v, size_t n, bool time,
			      uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0;

	if (time && n > 0 && v[0] == '-') {
		*out = 0;
		return NULL;
	}
	if (n == 0)
		return "empty pax number";
	for (; i < n && v[i] != '.'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return "pax number is not decimal";
		if (x >= MAX_SIZE / 10)
			return "pax number too large";
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (i < n && !time)
		return "pax size has a fraction";
	*out = x;
	return NULL;
}

/* "LEN KEY=VALUE\n" records; LEN counts the whole record. */
static const char *parse_pax(const uint8_t *d, size_t len,
			     struct duet__tar_pending *p)
{
	size_t pos = 0;

	while (pos < len) {
		size_t rlen = 0, i = pos;
		if (d[pos] == '\0') {
			while (pos < len && d[pos] == '\0')
				pos++;
			if (pos < len)
				return "garbage after pax records";
			break;
		}
		for (; i < len && d[i] >= '0' && d[i] <= '9'; i++) {
			if (rlen > DUET__TAR_EXT_MAX)
				return "pax record too long";
			rlen = rlen * 10 + (size_t)(d[i] - '0');
		}
		if (i == pos || i >= len || d[i] != ' ')
			return "malformed pax record length";
		if (rlen < i - pos + 3 || rlen > len - pos ||
		    d[pos + rlen - 1] != '\n')
			return "malformed pax record";
		const uint8_t *key = d + i + 1, *end = d + pos + rlen - 1;
		const uint8_t *eq = memchr(key, '=', (size_t)(end - key));
		if (eq == NULL)
			return "pax record without '='";
		size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);
		const uint8_t *val = eq + 1;
		const char *why = NULL;
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			if (memchr(val, '\0', vlen) != NULL)
				return "pax path contains a NUL byte";
			free(p->path);
			p->path = strndup((const char *)val, vlen);
			if (p->path == NULL)
				return "out of memory";
		} else if (klen == 8 && memcmp(key, "linkpath", 8) == 0) {
			if (memchr(val, '\0', vlen) != NULL)
				return "pax linkpath contains a NUL byte";
			free(p->linkpath);
			p->linkpath = strndup((const char *)val, vlen);
			if (p->linkpath == NULL)
				return "out of memory";
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			why = pax_number(val, vlen, false, &p->size);
			p->has_size = why == NULL;
		} else if (klen == 5 && memcmp(key, "mtime", 5) == 0) {
			why = pax_number(val, vlen, true, &p->mtime);
			p->has_mtime = why == NULL;
		}
		if (why != NULL)
			return why;
		pos += rlen;
	}
	return NULL;
}

const char *duet__tar_parse_ext(const struct duet__tar_header *h,
				const uint8_t *data, size_t len,
				struct duet__tar_pending *p)
{
	switch (h->flag) {
	case 'x': return parse_pax(data, len, p);
	case 'L':
		free(p->longname);
		p->longname = strndup((const char *)data, len);
		return p->longname == NULL ? "out of memory" : NULL;
	case 'K':
		free(p->linkpath);
		p->linkpath = strndup((const char *)data, len);
		return p->linkpath == NULL ? "out of memory" : NULL;
	default: /* global pax records: nothing we use */ return NULL;
	}
}

/* Drops "." and empty components; refuses absolute paths and "..". */
static const char *normalise(const char *raw, char *out, size_t outlen)
{
	size_t o = 0;

	if (raw[0] == '/')
		return "absolute path";
	while (*raw != '\0') {
		size_t n = strcspn(raw, "/");
		if (n == 2 && raw[0] == '.' && raw[1] == '.')
			return "path contains '..'";
		if (n > 0 && !(n == 1 && raw[0] == '.')) {
			if (o + (o > 0) + n + 1 > outlen)
				return "path too long";
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, raw, n);
			o += n;
		}
		raw += n;
		while (*raw == '/')
			raw++;
	}
	if (o == 0)
		return "empty path";
	out[o] = '\0';
	return NULL;
}

const char *duet__tar_name(const struct duet__tar_header *h,
			   const struct duet__tar_pending *p, char *out,
			   size_t outlen)
{
	char joined[sizeof(h->prefix) + sizeof(h->name) + 1];

	if (p->path != NULL)
		return normalise(p->path, out, outlen);
	if (p->longname != NULL)
		return normalise(p->longname, out, outlen);
	if (h->prefix[0] != '\0') {
		size_t a = strlen(h->prefix), b = strlen(h->name);
		memcpy(joined, h->prefix, a);
		joined[a] = '/';
		memcpy(joined + a + 1, h->name, b + 1);
	} else {
		strcpy(joined, h->name);
	}
	return normalise(joined, out, outlen);
}

const char *duet__tar_link_target(const struct duet__tar_header *h,
				  const struct duet__tar_pending *p, char *out,
				  size_t outlen)
{
	return normalise(p->linkpath != NULL ? p->linkpath : h->linkname, out,
			 outlen);
}
