/* duet/kv.h — key-value stores: the user side and the store side.
 *
 * A store maps keys to byte strings. Read-only stores (a tar image) answer
 * get, stat and list; read-write stores (the log-structured store) also set,
 * delete and sync. Keys are NUL-terminated strings of 1..DUET_KV_KEY_MAX
 * bytes; values are any bytes, of any length the store can hold.
 *
 * All requests are asynchronous: a submit call checks its arguments and
 * returns at once; the completion callback runs later from the event loop,
 * exactly once — never inside the submit call. A submit call that returns an
 * error did not start a request and its callback never runs. The request
 * struct, the key and any buffer belong to the caller and must stay valid
 * and untouched until the callback runs.
 *
 * Results (the `status` of the callback):
 *   get     the number of bytes copied into buf (>= 0: short only at the
 *           end of the value), or a negative errno. req->stat is filled in.
 *   stat    0 and req->stat filled in, or -ENOENT.
 *   list    0 once every matching key has been passed to the entry
 *           callback (all from the loop, before the completion callback),
 *           or a negative errno. An entry callback that returns non-zero
 *           stops the listing early; the request then completes with 0.
 *   set     0 once the value is durable: a crash after the callback cannot
 *           lose it. Sets and deletes take effect in submission order.
 *   delete  0 once the removal is durable; deleting an absent key is 0.
 *   sync    0 once every set and delete submitted before it has completed
 *           (a barrier; on a read-only store it completes with 0).
 * Reads see every set and delete whose callback has run; a request still
 * in flight MAY or MAY NOT be visible to them.
 *
 * Errors: -EINVAL (bad key, offset past the end of the value), -ENOENT (no
 * such key), -EROFS (set/delete on a read-only store, refused at submit),
 * -ENOSPC (the store is full), -EFBIG (the value can never fit), -EIO (the
 * device failed; a read-write store that saw a write fail refuses further
 * writes with -EIO until it is mounted again), -EBADMSG (the data on the
 * device is corrupt: a checksum or a structure did not match).
 *
 * A store is made by its mount call (duet/tar.h, duet/logstore.h) and
 * lives until duet_kv_close(), which a completion callback MAY call. The
 * wrappers are in storage/kv.c ($(DUET_STORAGE_LIBS)).
 *
 * Store side: a store embeds struct duet_kv, fills in the ops table and
 * calls duet_kv_init(). The wrappers have checked the key, the op against
 * read_only and the arguments before an op runs.
 *   submit  REQUIRED. Runs from the loop (never inside the caller's submit
 *           call), so it MAY complete the request at once with
 *           duet_kv_complete(); otherwise it MUST complete it later,
 *           exactly once. It MAY call the list entry callback directly.
 *           Once it has completed the last request in flight it MUST NOT
 *           touch its state: that callback may have closed the store.
 *   close   OPTIONAL. Called by duet_kv_close() when nothing is in flight;
 *           it MAY free the memory the struct duet_kv lives in.
 */
#ifndef DUET_KV_H
#define DUET_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/block.h>
#include <duet/list.h>
#include <duet/loop.h>

#define DUET_KV_KEY_MAX 1023

struct duet_kv;
struct duet_kv_req;
struct duet__rr;

enum duet_kv_op {
	DUET_KV_GET = 1,
	DUET_KV_STAT = 2,
	DUET_KV_LIST = 3,
	DUET_KV_SET = 4,
	DUET_KV_DELETE = 5,
	DUET_KV_SYNC = 6,
};

struct duet_kv_stat {
	uint64_t size;	  /* bytes */
	uint64_t mtime;	  /* seconds since the epoch, 0 if the store has none */
	uint64_t version; /* changes whenever the value does: good for ETags */
};

typedef void (*duet_kv_cb)(struct duet_kv_req *req, int status, void *arg);
/* One matching key during a list; `key` is valid only during the call.
 * Return 0 to go on, non-zero to stop. */
typedef int (*duet_kv_entry_cb)(struct duet_kv_req *req, const char *key,
				const struct duet_kv_stat *st, void *arg);

/* Caller-allocated. Set by the submit calls; private fields are the store's. */
struct duet_kv_req {
	enum duet_kv_op op;
	const char *key; /* the key, or the prefix of a list */
	size_t key_len;
	void *buf;	 /* get: destination */
	uint64_t offset; /* get: first byte of the value to copy */
	size_t len;	 /* get: bytes wanted; set: value length */
	const void *value;
	struct duet_kv_stat stat; /* get, stat: filled in before the callback */
	duet_kv_entry_cb entry;
	duet_kv_cb cb;
	void *arg;
	/* private: the wrappers' (storage/kv.c) */
	struct duet_kv *kv;
	struct duet_list link;
	bool in_flight;
	/* private: the store's, while it holds the request */
	struct duet_list store_link;
	union {
		/* a byte-range read from the device (storage/rangeread.h) */
		struct {
			struct duet_block_req blk;
			struct duet__rr *rr;
			uint8_t *dst;
			uint8_t *bounce; /* held while its read is in flight */
			uint64_t off, len, done;
		} read;
		/* a set or delete of the log store (storage/log_commit.c) */
		struct {
			uint64_t at;  /* where its record starts on the device */
			uint64_t seq; /* the record's sequence number */
			int refused;  /* the error it is answered with */
		} write;
	} store;
};

/* Reads [offset, offset + len) of the value into buf (a whole value: offset
 * 0 and len >= its size). The count comes back as an int: a len above
 * INT32_MAX reads INT32_MAX bytes. */
int duet_kv_get(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		uint64_t offset, void *buf, size_t len, duet_kv_cb cb,
		void *arg);
int duet_kv_stat(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		 duet_kv_cb cb, void *arg);
/* Every key starting with `prefix` ("" for all), in byte order. */
int duet_kv_list(struct duet_kv *kv, struct duet_kv_req *req,
		 const char *prefix, duet_kv_entry_cb entry, duet_kv_cb cb,
		 void *arg);
int duet_kv_set(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		const void *value, size_t len, duet_kv_cb cb, void *arg);
int duet_kv_delete(struct duet_kv *kv, struct duet_kv_req *req, const char *key,
		   duet_kv_cb cb, void *arg);
int duet_kv_sync(struct duet_kv *kv, struct duet_kv_req *req, duet_kv_cb cb,
		 void *arg);

bool duet_kv_read_only(const struct duet_kv *kv);
const char *duet_kv_kind(const struct duet_kv *kv); /* "tar", "log" */
unsigned duet_kv_in_flight(const struct duet_kv *kv);
/* The size of a get that reads best (one request of the store's device:
 * duet/block.h's io_size); 0 if the store has no preference. Readers that
 * stream a value piecewise size their pieces by it. */
uint32_t duet_kv_io_size(const struct duet_kv *kv);

/* Unmounts: nothing may be in flight (-EBUSY otherwise). Acknowledged
 * writes are already durable, so closing never loses data. */
int duet_kv_close(struct duet_kv *kv);

/* Mount calls of every store report through this: the store, or NULL and a
 * negative errno (the reason is logged). */
typedef void (*duet_kv_mount_cb)(struct duet_kv *kv, int status, void *arg);

/* ------------------------------------------------------------ store side */

struct duet_kv_ops {
	void (*submit)(struct duet_kv *kv, struct duet_kv_req *req);
	void (*close)(struct duet_kv *kv);
};

struct duet_kv {
	const struct duet_kv_ops *ops;
	struct duet_loop *loop;
	const char *kind;
	bool read_only;
	uint32_t io_size; /* duet_kv_io_size(); 0 after duet_kv_init() */
	/* private */
	unsigned in_flight;
	struct duet_cq queue; /* submitted, not yet handed to the store */
};

void duet_kv_init(struct duet_kv *kv, struct duet_loop *loop, const char *kind,
		  const struct duet_kv_ops *ops, bool read_only);
/* Completes req: 0, a count (get) or a negative errno. */
void duet_kv_complete(struct duet_kv_req *req, int status);

#endif
