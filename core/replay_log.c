/* The replay log's frames, varints and header (core/REPLAY.md). Everything
 * here reads bytes that may come from anywhere: every length is checked
 * against what is left before it is used. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <duet/crc32c.h>

#include <duet/device.h>
#include <duet/replay.h>

#include "replay_log.h"

const char *duet__rr_kind_name(unsigned kind)
{
	switch (kind) {
	case RR_CLOCK_MONO: return "CLOCK_MONO";
	case RR_CLOCK_WALL: return "CLOCK_WALL";
	case RR_ENTROPY: return "ENTROPY";
	case RR_STRONG: return "STRONG";
	case RR_WAIT: return "WAIT";
	case RR_WAIT_END: return "WAIT_END";
	case RR_WAKE: return "WAKE";
	case RR_DEVICE: return "DEVICE";
	case RR_ARG: return "ARG";
	case RR_RX: return "RX";
	case RR_LINK: return "LINK";
	case RR_DONE: return "DONE";
	case RR_SUBMIT_FAIL: return "SUBMIT_FAIL";
	case RR_SIGNAL: return "SIGNAL";
	case RR_RX_VALID: return "RX_VALID";
	case RR_OFFLOADS: return "OFFLOADS";
	case RR_CONSOLE: return "CONSOLE";
	case RR_TX: return "TX";
	case RR_SUBMIT: return "SUBMIT";
	case RR_END: return "END";
	case RR_FULL: return "FULL";
	}
	return NULL;
}

uint64_t duet__rr_get_varint(struct rr_cursor *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->n == 0)
			break;
		uint8_t b = *c->p++;
		c->n--;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	c->bad = true;
	return 0;
}

int64_t duet__rr_get_svarint(struct rr_cursor *c)
{
	uint64_t z = duet__rr_get_varint(c);

	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

const uint8_t *duet__rr_get_bytes(struct rr_cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > c->n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->n -= n;
	return p;
}

uint8_t duet__rr_get_u8(struct rr_cursor *c)
{
	const uint8_t *p = duet__rr_get_bytes(c, 1);

	return p != NULL ? p[0] : 0;
}

uint32_t duet__rr_get_u32(struct rr_cursor *c)
{
	const uint8_t *p = duet__rr_get_bytes(c, 4);

	return p != NULL ? (uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
			 : 0;
}

size_t duet__rr_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

size_t duet__rr_put_svarint(uint8_t *p, int64_t v)
{
	return duet__rr_put_varint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* "key=value" lines: the value of key, or NULL. */
static const char *header_field(const char *text, size_t len, const char *key,
				size_t *vlen)
{
	size_t klen = strlen(key);

	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

		if (n > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
			*vlen = n - klen - 1;
			return line + klen + 1;
		}
		pos += n + 1;
	}
	return NULL;
}

int duet__rr_reader_init(struct rr_reader *r, const void *log, size_t len,
			 struct rr_header *h)
{
	const uint8_t *p = log;
	struct rr_cursor c = {p, len, false};

	if (len < 16 || memcmp(p, RR_MAGIC, 8) != 0)
		return -EINVAL;
	duet__rr_get_bytes(&c, 8);
	uint32_t n = duet__rr_get_u32(&c);
	if (n > RR_HEADER_TEXT_MAX)
		return -EINVAL;
	const char *text = (const char *)duet__rr_get_bytes(&c, n);
	uint32_t crc = duet__rr_get_u32(&c);
	if (c.bad || crc != duet__crc32c(0, p, 12 + (size_t)n))
		return -EINVAL;
	h->app = header_field(text, n, "app", &h->app_len);
	h->commit = header_field(text, n, "commit", &h->commit_len);
	h->platform = header_field(text, n, "platform", &h->platform_len);
	if (h->app == NULL || h->commit == NULL || h->platform == NULL)
		return -EINVAL;
	r->log = p;
	r->len = len;
	r->pos = 16 + (size_t)n;
	r->crc = crc;
	r->index = 0;
	r->cut = false;
	return 0;
}

int duet__rr_next(struct rr_reader *r, struct rr_record *out)
{
	if (r->pos == r->len)
		return 0;
	struct rr_cursor c = {r->log + r->pos, r->len - r->pos, false};
	uint8_t kind = duet__rr_get_u8(&c);
	uint8_t dev = duet__rr_get_u8(&c);
	uint64_t n = duet__rr_get_varint(&c);
	/* A log cut inside its last record (a kill, a crash while the buffer
	 * was half written) ends there; it is not malformed. */
	if (c.bad && c.n == 0) {
		r->cut = true;
		return 0;
	}
	if (c.bad || n > RR_PAYLOAD_MAX || duet__rr_kind_name(kind) == NULL)
		return -EINVAL;
	if (c.n < n + 4) {
		r->cut = true;
		return 0;
	}
	const uint8_t *payload = duet__rr_get_bytes(&c, (size_t)n);
	size_t framed = (size_t)(c.p - (r->log + r->pos));
	uint32_t crc = duet__rr_get_u32(&c);
	uint32_t want = duet__crc32c(r->crc, r->log + r->pos, framed);
	if (c.bad || crc != want)
		return -EINVAL;
	*out = (struct rr_record){kind, dev, payload, (size_t)n, r->pos,
				  r->index};
	r->pos += framed + 4;
	r->crc = crc;
	r->index++;
	return 1;
}

/* Printable bytes as they are, the rest as \xNN, cut at 48. */
static void quote(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && i < 48 && o + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", p[i]);
	}
	if (n > 48 && o + 4 < size)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o < size ? o : size - 1] = '\0';
}

void duet__rr_describe(const struct rr_record *rec, const char *devname,
		       char *buf, size_t size)
{
	struct rr_cursor c = rr_cursor(rec);
	char dev[32], text[256];
	const char *kind = duet__rr_kind_name(rec->kind);

	if (devname != NULL)
		snprintf(dev, sizeof(dev), "%s", devname);
	else
		snprintf(dev, sizeof(dev), "dev %u", rec->dev);
	switch (rec->kind) {
	case RR_CLOCK_MONO:
	case RR_CLOCK_WALL:
	case RR_WAIT:
		snprintf(buf, size, "%s %+" PRId64 " ns", kind,
			 duet__rr_get_svarint(&c));
		break;
	case RR_ENTROPY:
	case RR_DONE: {
		uint64_t seq = rec->kind == RR_DONE ? duet__rr_get_varint(&c) : 0;
		int64_t status = duet__rr_get_svarint(&c);
		uint8_t flags = rec->kind == RR_DONE ? duet__rr_get_u8(&c) : 0;
		snprintf(buf, size, "%s %s seq %" PRIu64 " status %" PRId64
			 " with %zu bytes%s", kind, dev, seq, status, c.n,
			 flags & RR_DONE_IN_SUBMIT ? ", inside its submit" : "");
		break;
	}
	case RR_CONSOLE:
	case RR_ARG:
		quote(rec->payload, rec->len, text, sizeof(text));
		snprintf(buf, size, "%s \"%s\"", kind, text);
		break;
	case RR_TX: {
		uint64_t len = duet__rr_get_varint(&c);
		uint32_t crc = duet__rr_get_u32(&c);
		snprintf(buf, size, "TX %s len %" PRIu64 " crc 0x%08x result %" PRId64,
			 dev, len, crc, duet__rr_get_svarint(&c));
		break;
	}
	case RR_SUBMIT: {
		uint64_t seq = duet__rr_get_varint(&c);
		uint8_t op = duet__rr_get_u8(&c);
		uint64_t sector = duet__rr_get_varint(&c);
		uint64_t count = duet__rr_get_varint(&c);
		char crc[32] = "";
		if (op == 2) /* a write: its bytes' CRC */
			snprintf(crc, sizeof(crc), " (write, crc 0x%08x)",
				 duet__rr_get_u32(&c));
		snprintf(buf, size, "SUBMIT %s seq %" PRIu64 " op %u sector %" PRIu64
			 " count %" PRIu64 "%s", dev, seq, op, sector, count, crc);
		break;
	}
	case RR_RX:
	case RR_RX_VALID:
		snprintf(buf, size, "%s %s len %zu", kind, dev, rec->len);
		break;
	default:
		snprintf(buf, size, "%s %s (%zu bytes)", kind, dev, rec->len);
		break;
	}
	size_t n = strlen(buf);
	if (c.bad && n + 12 < size)
		snprintf(buf + n, size - n, " [malformed]");
}

int duet_rr_dump(const void *log, size_t len,
		 void (*line)(void *arg, const char *text), void *arg)
{
	struct rr_reader r;
	struct rr_header h;
	struct rr_record rec;
	char text[400], desc[320];
	char names[256][DUET_DEVICE_NAME_MAX + 1] = {{0}};
	int n;

	if (duet__rr_reader_init(&r, log, len, &h) < 0)
		return -EINVAL;
	snprintf(text, sizeof(text), "app %.*s, commit %.*s, platform %.*s",
		 (int)h.app_len, h.app, (int)h.commit_len, h.commit,
		 (int)h.platform_len, h.platform);
	line(arg, text);
	while ((n = duet__rr_next(&r, &rec)) > 0) {
		/* A DEVICE record: kind, name length, name. */
		if (rec.kind == RR_DEVICE && rec.len >= 2 &&
		    rec.payload[1] <= DUET_DEVICE_NAME_MAX &&
		    rec.payload[1] <= rec.len - 2) {
			memcpy(names[rec.dev], rec.payload + 2, rec.payload[1]);
			names[rec.dev][rec.payload[1]] = '\0';
		}
		duet__rr_describe(&rec, names[rec.dev][0] != '\0' ? names[rec.dev]
								  : NULL,
				  desc, sizeof(desc));
		snprintf(text, sizeof(text), "%llu @0x%zx %s",
			 (unsigned long long)rec.index, rec.offset, desc);
		line(arg, text);
	}
	if (r.cut)
		line(arg, "(the log ends inside a record)");
	return n;
}

static const char disk_magic[8] = {'D', 'U', 'E', 'T', 'R', 'D', 'S', 'K'};

void duet_rr_disk_head(uint8_t *head, uint64_t loglen)
{
	memcpy(head, disk_magic, 8);
	rr_put32(head + 8, (uint32_t)loglen);
	rr_put32(head + 12, (uint32_t)(loglen >> 32));
	rr_put32(head + 16, duet__crc32c(0, head, 16));
}

int duet_rr_disk_log(const void *image, size_t len, const void **log,
		     size_t *loglen)
{
	const uint8_t *p = image;

	if (len < DUET_RR_DISK_HEAD_LEN || memcmp(p, disk_magic, 8) != 0)
		return 0;
	uint64_t n = (uint64_t)rr_get32(p + 8) | (uint64_t)rr_get32(p + 12) << 32;
	if (rr_get32(p + 16) != duet__crc32c(0, p, 16) ||
	    len < DUET_RR_DISK_HEAD || n > len - DUET_RR_DISK_HEAD)
		return -EINVAL;
	*log = p + DUET_RR_DISK_HEAD;
	*loglen = (size_t)n;
	return 1;
}
