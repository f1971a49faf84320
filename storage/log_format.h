/* The log store's on-disk format (storage/FORMAT.md explains it in full).
 * All integers are little-endian; checksums are CRC-32C. */
#ifndef DUET_STORAGE_LOG_FORMAT_H
#define DUET_STORAGE_LOG_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <duet/crc32c.h>

#define LOG_MAGIC      "DUETLOG1"
#define LOG_VERSION    1
#define LOG_SB_SLOTS   2  /* sectors 0 and 1 */
#define LOG_SB_BYTES   76 /* the checksummed part of a superblock */
#define LOG_REC_HDR    24 /* record header */
#define LOG_REC_SET    1
#define LOG_REC_DELETE 2
/* A record never starts in the last LOG_REC_MIN_ROOM bytes of a sector, so
 * its crc and type are always in the sector it starts in. */
#define LOG_REC_MIN_ROOM       8
#define LOG_MIN_REGION_SECTORS 8
/* Generations are 32 bits and only grow: a session runs in one and each
 * compaction moves it to the next. A mount that finds LOG_GEN_MAX in use
 * has none left to start and mounts read-only; a compaction with none left
 * does not start. */
#define LOG_GEN_MAX UINT32_MAX

struct log_sb {
	uint32_t sector_size;
	uint64_t sector_count;
	uint64_t region_sectors;
	uint64_t region_start[2];
	uint64_t seq; /* also the generation of the records of its session */
	uint32_t active;
	uint32_t
	    salt; /* seeds the record checksums: other stores' records fail */
	uint64_t base_gen; /* records of the active region are at least this */
};

struct log_rec {
	uint32_t crc;
	uint8_t type;
	uint16_t key_len;
	uint32_t value_len;
	uint32_t gen;
	uint64_t seq;
};

static inline void log_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void log_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void log_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t log_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t log_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t log_get64(const uint8_t *p)
{
	return (uint64_t)log_get32(p) | (uint64_t)log_get32(p + 4) << 32;
}

static inline uint64_t log_rec_len(uint64_t key_len, uint64_t value_len)
{
	return LOG_REC_HDR + key_len + value_len;
}

/* Superblock: magic[8] version:32 sector_size:32 sector_count:64
 * region_sectors:64 region_start[2]:64 seq:64 active:32 salt:32
 * base_gen:64, then crc:32 of those 72 bytes. */
static inline void log_sb_encode(const struct log_sb *sb, uint8_t *p)
{
	memcpy(p, LOG_MAGIC, 8);
	log_put32(p + 8, LOG_VERSION);
	log_put32(p + 12, sb->sector_size);
	log_put64(p + 16, sb->sector_count);
	log_put64(p + 24, sb->region_sectors);
	log_put64(p + 32, sb->region_start[0]);
	log_put64(p + 40, sb->region_start[1]);
	log_put64(p + 48, sb->seq);
	log_put32(p + 56, sb->active);
	log_put32(p + 60, sb->salt);
	log_put64(p + 64, sb->base_gen);
	log_put32(p + 72, duet__crc32c(0, p, 72));
}

static inline bool log_sb_has_magic(const uint8_t *p)
{
	return memcmp(p, LOG_MAGIC, 8) == 0;
}

/* Checks the checksum and the version; the caller checks the geometry. */
static inline bool log_sb_decode(const uint8_t *p, struct log_sb *sb)
{
	if (!log_sb_has_magic(p) ||
	    log_get32(p + 72) != duet__crc32c(0, p, 72) ||
	    log_get32(p + 8) != LOG_VERSION)
		return false;
	sb->sector_size = log_get32(p + 12);
	sb->sector_count = log_get64(p + 16);
	sb->region_sectors = log_get64(p + 24);
	sb->region_start[0] = log_get64(p + 32);
	sb->region_start[1] = log_get64(p + 40);
	sb->seq = log_get64(p + 48);
	sb->active = log_get32(p + 56);
	sb->salt = log_get32(p + 60);
	sb->base_gen = log_get64(p + 64);
	return true;
}

/* Record header: crc:32 type:8 flags:8 key_len:16 value_len:32 gen:32
 * seq:64; then the key, then the value. crc covers everything after it,
 * seeded with the superblock's salt. */
static inline void log_rec_encode_hdr(const struct log_rec *r, uint8_t *p)
{
	p[4] = r->type;
	p[5] = 0;
	log_put16(p + 6, r->key_len);
	log_put32(p + 8, r->value_len);
	log_put32(p + 12, r->gen);
	log_put64(p + 16, r->seq);
}

static inline void log_rec_seal(uint8_t *p, uint32_t salt, uint64_t len)
{
	log_put32(p, duet__crc32c(salt, p + 4, (size_t)len - 4));
}

static inline void log_rec_decode_hdr(const uint8_t *p, struct log_rec *r)
{
	r->crc = log_get32(p);
	r->type = p[4];
	r->key_len = log_get16(p + 6);
	r->value_len = log_get32(p + 8);
	r->gen = log_get32(p + 12);
	r->seq = log_get64(p + 16);
}

#endif
