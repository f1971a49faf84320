/* db.h — kv's keyspace: binary keys to string values, in memory.
 *
 * One hash table with chained buckets, a power of two of them, doubled
 * when it holds more entries than buckets. Bucket positions come from
 * SipHash-1-3 under a key drawn from duet_entropy() at init, so a client
 * that picks its keys cannot pile them into one bucket.
 *
 * Expiry: an entry's expire_ms is a wall-clock deadline in milliseconds
 * since the epoch (0: none); kv_db_lookup() treats a key past it as absent
 * and removes it, telling `on_expire` first (the store deletes it there),
 * and kv_db_expire_some() sweeps a few buckets per call for keys nobody
 * asks for.
 *
 * Scanning (SCAN, KEYS) walks buckets in reverse-binary order of the
 * cursor, so that a key present for the whole scan is returned at least
 * once even if the table grows in between.
 */
#ifndef DUET_KV_DB_H
#define DUET_KV_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_entry {
	struct kv_entry *next;
	uint64_t hash;
	int64_t expire_ms; /* wall clock, ms since the epoch; 0: never */
	uint8_t *val;	   /* NULL when vlen == 0 */
	size_t vlen, vcap;
	size_t klen;
	uint8_t key[];
};

struct kv_db;
typedef void (*kv_expire_cb)(struct kv_db *db, struct kv_entry *e,
			     void *arg);

struct kv_db {
	struct kv_entry **buckets;
	uint64_t mask; /* buckets - 1 */
	size_t count;
	size_t with_expiry;
	uint64_t sip[2];
	kv_expire_cb on_expire;
	void *arg;
	uint64_t sweep; /* kv_db_expire_some()'s cursor */
	uint64_t expired;
	size_t value_bytes;
};

/* 0 or -ENOMEM. */
int kv_db_init(struct kv_db *db, kv_expire_cb on_expire, void *arg);
void kv_db_fini(struct kv_db *db);

/* The live entry of key k, or NULL (absent, or expired: then removed). */
struct kv_entry *kv_db_lookup(struct kv_db *db, const uint8_t *k, size_t n,
			      int64_t now_ms);
/* The entry of k, made if absent (empty value, no expiry); NULL if out of
 * memory. *created says which. Call after kv_db_lookup(), which has
 * removed an expired one. */
struct kv_entry *kv_db_upsert(struct kv_db *db, const uint8_t *k, size_t n,
			      bool *created);
/* Replaces e's value; false (e unchanged) if out of memory. */
bool kv_db_set_value(struct kv_db *db, struct kv_entry *e, const void *v,
		     size_t n);
/* Appends to e's value; false (e unchanged) if out of memory. */
bool kv_db_append(struct kv_db *db, struct kv_entry *e, const void *v,
		  size_t n);
/* Grows e's value with zero bytes to n (no-op if it is that long);
 * false (e unchanged) if out of memory. */
bool kv_db_extend(struct kv_db *db, struct kv_entry *e, size_t n);
void kv_db_set_expiry(struct kv_db *db, struct kv_entry *e, int64_t at_ms);
/* Unlinks and frees e. */
void kv_db_remove(struct kv_db *db, struct kv_entry *e);
/* Removes every entry (no on_expire calls). */
void kv_db_flush(struct kv_db *db);

/* Visits the buckets from `cursor` until at least `count` entries were
 * visited or the table was walked; returns the next cursor (0: done).
 * visit may not add or remove entries. */
uint64_t kv_db_scan(struct kv_db *db, uint64_t cursor, size_t count,
		    void (*visit)(struct kv_entry *e, void *arg), void *arg);

/* Sweeps up to `buckets` buckets for expired entries; returns how many it
 * removed. */
size_t kv_db_expire_some(struct kv_db *db, size_t buckets, int64_t now_ms);

/* Wall-clock milliseconds, the clock expiry deadlines are in. */
int64_t kv_now_ms(void);

/* Redis's glob: * ? [abc] [^a-z] and \ escapes; case-sensitive. */
bool kv_glob(const uint8_t *pat, size_t plen, const uint8_t *s, size_t n);

#endif
