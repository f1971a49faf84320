/* The log store's state, shared by its files: log_index.c (the in-memory
 * index), log_mount.c (format, mount, recovery), log_commit.c (requests and
 * group commit) and log_compact.c (compaction). */
#ifndef DUET_STORAGE_LOG_INTERNAL_H
#define DUET_STORAGE_LOG_INTERNAL_H

#include <duet/kv.h>
#include <duet/logstore.h>

#include "log_format.h"
#include "rangeread.h"

/* One live key: where its newest set record is in the active region. */
struct log_ent {
	struct log_ent *next; /* hash chain */
	uint64_t rec_off;     /* from the start of the active region */
	uint64_t new_off;     /* during compaction: in the other region */
	uint64_t seq;
	uint32_t value_len;
	uint32_t hash;
	uint16_t key_len;
	char key[]; /* NUL-terminated */
};

struct log_index {
	struct log_ent **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint32_t seed;
};

int duet__log_index_init(struct log_index *ix, uint32_t seed);
void duet__log_index_fini(struct log_index *ix);
struct log_ent *duet__log_index_find(const struct log_index *ix,
				     const char *key, size_t key_len);
/* The entry for key, created (zeroed but for the key) if absent, which
 * *created tells; NULL if out of memory. */
struct log_ent *duet__log_index_put(struct log_index *ix, const char *key,
				    size_t key_len, bool *created);
void duet__log_index_remove(struct log_index *ix, struct log_ent *e);
/* Every entry into a new array (caller frees); NULL if out of memory and
 * there are entries. */
struct log_ent **duet__log_index_all(const struct log_index *ix);

enum log_state {
	LOG_IDLE,
	LOG_COMMITTING, /* a batch's durable write is in flight */
	LOG_COMPACTING,
};

struct log_compaction;
struct log_mounting;

struct log_store {
	struct duet_kv kv;
	struct duet_block *dev;
	struct duet__rr rr;
	uint32_t ssz;
	struct log_sb sb; /* the superblock in force */
	uint64_t region_bytes;
	uint64_t reserve; /* of each region, for deletes only */
	uint64_t end;	  /* the log's length in the active region */
	uint8_t *tail;	  /* the sector holding `end` (bytes before it) */
	uint32_t gen;	  /* generation of records written now */
	uint64_t next_seq;
	struct log_index ix;
	uint64_t live_bytes; /* sum of the live records' lengths */
	/* requests */
	struct duet_list pending; /* sets, deletes, syncs not yet committed */
	struct duet_list batch;	  /* being committed */
	uint64_t batch_bytes;
	enum log_state state;
	struct duet_defer kick;
	struct duet_block_req wreq;
	uint8_t *wbuf;
	size_t wcap;
	bool want_compact;
	bool compacted_clean; /* nothing written since the last compaction */
	int failed;	      /* a write failed: -EIO for every later write */
	unsigned reads[2];    /* gets in flight per region */
	struct log_compaction *compaction;
	struct log_mounting *mounting;
	struct duet_logstore_report report;
	struct duet_logstore_stats stats;
};

static inline struct log_store *duet__log_of(struct duet_kv *kv)
{
	return duet_container_of(kv, struct log_store, kv);
}

static inline uint64_t duet__log_region_byte(const struct log_store *s,
					     unsigned region)
{
	return s->sb.region_start[region] * s->ssz;
}

/* Where a record may start at or after `off`: not in a sector's last
 * LOG_REC_MIN_ROOM bytes. */
static inline uint64_t duet__log_align_start(uint64_t off, uint32_t ssz)
{
	return ssz - off % ssz < LOG_REC_MIN_ROOM ? off + (ssz - off % ssz)
						  : off;
}

/* The bytes to write from the sector holding `from` to cover [from, to):
 * whole sectors, plus one zero sector more when `to` leaves no room for a
 * record header in its sector, so that what follows the log always starts
 * with zeros (see FORMAT.md, "the end of the log"). */
uint64_t duet__log_write_span(uint64_t from, uint64_t to, uint32_t ssz,
			      uint64_t region_bytes);

/* Applies one durable record to the index and live_bytes: a set (at
 * rec_off) or a delete. 0, or -ENOMEM with the index unchanged. */
int duet__log_apply(struct log_store *s, bool set, const char *key,
		    size_t key_len, uint64_t rec_off, uint64_t seq,
		    uint32_t value_len);
/* Frees a store that is not (or no longer) running; NULL is fine. */
void duet__log_free(struct log_store *s);
void duet__log_kick(struct log_store *s);
void duet__log_fail_all(struct log_store *s, int status);
void duet__log_read_done(struct duet_kv_req *req, int status);
/* Compaction: runs with s->state == LOG_COMPACTING and calls
 * duet__log_compacted() at the end. */
void duet__log_compact_start(struct log_store *s);
void duet__log_compacted(struct log_store *s, int status);
void duet__log_compact_read_done(struct log_store *s, struct duet_kv_req *req,
				 int status);
void duet__log_compact_reads_drained(struct log_store *s);
extern const struct duet_kv_ops duet__log_ops;

#endif
