/* duet/logstore.h — a crash-safe, log-structured key-value store.
 *
 * The store owns a whole block device: two superblock sectors, then two
 * equal regions, one of them active. Sets and deletes are appended to the
 * active region as checksummed, sequence-numbered records; the index (key
 * -> place of its newest record) lives in memory and is rebuilt by
 * scanning the log at mount. When the active region is full, compaction
 * copies the live records into the other region and then switches to it by
 * writing a superblock; a crash at any point leaves either the old or the
 * new region active, both complete. storage/FORMAT.md has the byte layout.
 *
 * Durability: a set or delete completes only after its record has been
 * written and the device flushed. Requests that arrive while a write is
 * under way are committed together by the next one (group commit: one
 * write and one flush for the lot).
 *
 * Space: live data must fit in one region. Sets leave a reserve (an
 * eighth of a region, at least room for a few deletes) that only deletes
 * may use, so a store that answers sets with -ENOSPC can still be emptied.
 *
 * Recovery: mount stops at the first record that does not check out and
 * logs what it dropped (a write torn by a crash, or damage); everything
 * before it is kept, nothing after it is used. A device that holds no Duet
 * log store, or whose two superblocks are both damaged, fails to mount
 * with -EBADMSG.
 */
#ifndef DUET_LOGSTORE_H
#define DUET_LOGSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <duet/kv.h>

/* Writes an empty store over the whole device (every byte of it: old data
 * must not look like records). cb runs from the loop with 0 or a negative
 * errno; -ENOSPC at once if the device is too small. */
int duet_logstore_format(struct duet_loop *loop, struct duet_block *dev,
			 void (*cb)(void *arg, int status), void *arg);

/* Mounts the store on dev (read-write). cb runs from the loop. */
int duet_logstore_mount(struct duet_loop *loop, struct duet_block *dev,
			duet_kv_mount_cb cb, void *arg);

/* What the last mount found. */
struct duet_logstore_report {
	uint64_t records;	 /* valid records replayed */
	uint64_t keys;		 /* live keys after replay */
	bool superblock_damaged; /* one copy was bad; the other was used */
	bool damaged;		 /* the log ended in a bad record */
	uint64_t damage_offset;	 /* where, in bytes from the region start */
	uint64_t
	    dropped_records; /* the bad one and valid-looking ones after it */
	uint64_t dropped_bytes;
	const char *damage; /* what was wrong, or NULL */
};
void duet_logstore_report(const struct duet_kv *kv,
			  struct duet_logstore_report *out);

struct duet_logstore_stats {
	uint64_t sets, deletes;
	uint64_t commits;	/* write + flush rounds */
	uint64_t bytes_written; /* to the device, padding included */
	uint64_t log_bytes;	/* the active log's length */
	uint64_t region_bytes;
	uint64_t live_keys, live_bytes;
	uint64_t compactions;
};
void duet_logstore_get_stats(const struct duet_kv *kv,
			     struct duet_logstore_stats *out);

/* A sync that also compacts the log first (tests, maintenance). */
int duet_logstore_compact(struct duet_kv *kv, struct duet_kv_req *req,
			  duet_kv_cb cb, void *arg);

#endif
