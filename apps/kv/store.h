/* store.h — where kv's keyspace lives durably: the log store on a block
 * device (duet/logstore.h), or nowhere (store=memory).
 *
 * The keyspace is served from memory (db.h); every change to it is also
 * written through to the log store, one record per key: the key (escaped,
 * see below) maps to a version byte, the expiry deadline and the value.
 * At start the whole store is read back into memory, dropping keys whose
 * deadline has passed, so expiry survives a restart.
 *
 * A write made for a client carries a ticket: its reply waits until the
 * ticket's writes are durable (the log store's group commit gathers the
 * writes of every connection that arrive while one commit is under way).
 * With durable=no, writes go to the store without tickets: replies do not
 * wait, and a crash may lose the last writes.
 *
 * A write the store refuses (-ENOSPC, -EIO) fails its ticket; the key is
 * then read back from the store so that memory says what the disk says.
 *
 * Keys: the log store takes NUL-terminated keys of 1..1023 bytes, Redis
 * keys are any bytes, empty included. A stored key is '=' and then the key
 * with 0x00 written as 0x01 0x30 and 0x01 as 0x01 0x31; kv_store_key_fits()
 * says whether a key has room.
 */
#ifndef DUET_KV_STORE_H
#define DUET_KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/kv.h>
#include <duet/loop.h>

#include "db.h"

struct kv_ticket {
	unsigned pending; /* writes not yet durable */
	int status;	  /* the first failure, 0 if none */
	void (*done)(struct kv_ticket *t); /* when pending falls to 0 */
};

enum kv_store_mode { KV_STORE_MEMORY, KV_STORE_LOG };

struct kv_store {
	enum kv_store_mode mode;
	bool durable;
	struct duet_loop *loop;
	struct duet_kv *kv; /* KV_STORE_LOG: the mounted log store */
	struct kv_db *db;
	unsigned in_flight;
	int failed; /* the last refusal, 0 if none */
	uint64_t writes, failures, loaded, dropped_expired;
	void (*drained)(struct kv_store *s); /* in_flight fell to 0 */
};

#define KV_STORE_KEY_MAX 1022

/* Can key k[0..n) be stored? (Always true in memory.) */
bool kv_store_key_fits(const struct kv_store *s, const uint8_t *k, size_t n);

/* Opens the store on dev: mounts its log store, or formats it first if
 * the device is blank (its first two sectors all zero), then loads every
 * key into db. cb runs from the loop with 0 or a negative errno (logged). A
 * device holding something that is not a store is refused (-EBADMSG),
 * never overwritten. */
int kv_store_open(struct kv_store *s, struct duet_loop *loop,
		  struct duet_block *dev, struct kv_db *db, bool durable,
		  void (*cb)(struct kv_store *s, int status, void *arg),
		  void *arg);
void kv_store_open_memory(struct kv_store *s, struct kv_db *db);

/* Writes e's value and expiry through (t may be NULL). */
void kv_store_put(struct kv_store *s, const struct kv_entry *e,
		  struct kv_ticket *t);
/* Deletes key k through (t may be NULL). */
void kv_store_del(struct kv_store *s, const uint8_t *k, size_t n,
		  struct kv_ticket *t);

/* Unmounts (nothing may be in flight). */
void kv_store_close(struct kv_store *s);

#endif
