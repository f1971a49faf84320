/* The replay log's format (core/REPLAY.md), shared by the recorder, the
 * replayer and the fuzz target: record kinds, varints, and a reader that
 * checks every record's frame and checksum before anyone decodes it. */
#ifndef DUET_REPLAY_LOG_H
#define DUET_REPLAY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/crc32c.h>

#define RR_MAGIC "DUETRR01"
#define RR_HEADER_TEXT_MAX 4096
#define RR_PAYLOAD_MAX (16u << 20)
#define RR_FRAME_MAX 16 /* kind, dev, varint length, crc */

enum rr_kind {
	RR_CLOCK_MONO = 1,
	RR_CLOCK_WALL = 2,
	RR_ENTROPY = 3,
	RR_STRONG = 4,
	RR_WAIT = 5,
	RR_WAIT_END = 6,
	RR_WAKE = 7,
	RR_DEVICE = 8,
	RR_ARG = 9,
	RR_RX = 10,
	RR_LINK = 11,
	RR_DONE = 12,
	RR_SUBMIT_FAIL = 13,
	RR_SIGNAL = 14,
	RR_RX_VALID = 15,
	RR_OFFLOADS = 16,
	RR_CONSOLE = 20,
	RR_TX = 21,
	RR_SUBMIT = 22,
	RR_END = 30,
	RR_FULL = 31,
};

/* A DONE record's flags. */
#define RR_DONE_IN_SUBMIT 1u

struct rr_record {
	uint8_t kind;
	uint8_t dev;
	const uint8_t *payload;
	size_t len;
	size_t offset;	/* of the record in the log */
	uint64_t index; /* 0 for the first record */
};

/* A window on a payload; reading past its end sets bad and yields 0. */
struct rr_cursor {
	const uint8_t *p;
	size_t n;
	bool bad;
};

struct rr_reader {
	const uint8_t *log;
	size_t len;
	size_t pos;
	uint32_t crc; /* of the previous record (or the header) */
	uint64_t index;
	bool cut; /* the log ended inside a record */
};

/* The header's app= and commit= (not NUL-terminated). */
struct rr_header {
	const char *app, *commit, *platform;
	size_t app_len, commit_len, platform_len;
};

const char *duet__rr_kind_name(unsigned kind);

/* Parses the header and points r at the first record. 0 or -EINVAL. */
int duet__rr_reader_init(struct rr_reader *r, const void *log, size_t len,
			 struct rr_header *h);
/* The next record: 1, 0 at the log's end (r->cut if inside a record),
 * -EINVAL if it is malformed (bad frame, unknown kind, wrong checksum);
 * r stays there. */
int duet__rr_next(struct rr_reader *r, struct rr_record *out);

static inline struct rr_cursor rr_cursor(const struct rr_record *rec)
{
	return (struct rr_cursor){rec->payload, rec->len, false};
}
uint64_t duet__rr_get_varint(struct rr_cursor *c);
int64_t duet__rr_get_svarint(struct rr_cursor *c);
uint8_t duet__rr_get_u8(struct rr_cursor *c);
uint32_t duet__rr_get_u32(struct rr_cursor *c);
const uint8_t *duet__rr_get_bytes(struct rr_cursor *c, size_t n);

/* Encoders: write into p (room for 10 bytes) and return the length. */
size_t duet__rr_put_varint(uint8_t *p, uint64_t v);
size_t duet__rr_put_svarint(uint8_t *p, int64_t v);
static inline void rr_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t rr_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A record described for a divergence report ("TX net0 len 74 crc
 * 0x..."; devname NULL gives "dev N"): decodes the payload as its kind
 * says, never trusting it. */
void duet__rr_describe(const struct rr_record *rec, const char *devname,
		       char *buf, size_t size);

#endif
