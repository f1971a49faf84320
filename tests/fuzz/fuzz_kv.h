/* Shared by the storage fuzz targets: synchronous wrappers over the
 * asynchronous store calls on the fake loop (each runs the loop until its
 * callback has run; a callback that never comes is a hang, a finding), and
 * a walk that reads back everything a store lists. */
#ifndef DUET_FUZZ_KV_H
#define DUET_FUZZ_KV_H

#include <errno.h>

#include <duet/blk_fault.h>
#include <duet/blk_mem.h>
#include <duet/block_driver.h>
#include <duet/kv.h>
#include <duet/logstore.h>
#include <duet/tar.h>
#include <duet/sys.h>

#include "fuzz.h"

#define FUZZ_KV_SPINS 2000000

static struct duet_sys fuzz_sys;
static struct duet_loop *const fuzz_loop = &fuzz_sys.loop;

struct fuzz_sync {
	bool done;
	int status;
	struct duet_kv *kv;
};

static inline void fuzz_kv_cb(struct duet_kv_req *req, int status, void *arg)
{
	struct fuzz_sync *r = arg;
	(void)req;
	FUZZ_CHECK(!r->done); /* exactly once */
	r->done = true;
	r->status = status;
}

static inline void fuzz_mount_cb(struct duet_kv *kv, int status, void *arg)
{
	struct fuzz_sync *r = arg;
	FUZZ_CHECK(!r->done);
	FUZZ_CHECK((status == 0) == (kv != NULL));
	r->done = true;
	r->status = status;
	r->kv = kv;
}

static inline void fuzz_plain_cb(void *arg, int status)
{
	struct fuzz_sync *r = arg;
	r->done = true;
	r->status = status;
}

/* Waits for r (submitted with status e): the status either way. */
static inline int fuzz_wait(struct fuzz_sync *r, int e)
{
	if (e < 0)
		return e;
	FUZZ_CHECK(fuzz_run_until(fuzz_loop, &r->done, FUZZ_KV_SPINS));
	return r->status;
}

typedef int (*fuzz_mount_fn)(struct duet_loop *, struct duet_block *,
			     duet_kv_mount_cb, void *);

static inline int fuzz_mount(fuzz_mount_fn mount, struct duet_block *dev,
			     struct duet_kv **out)
{
	struct fuzz_sync r = {0};
	int e = fuzz_wait(&r, mount(fuzz_loop, dev, fuzz_mount_cb, &r));

	*out = e == 0 ? r.kv : NULL;
	return e;
}

static inline int fuzz_get(struct duet_kv *kv, const char *key, uint64_t off,
			   void *buf, size_t len, struct duet_kv_stat *st)
{
	struct fuzz_sync r = {0};
	struct duet_kv_req req;
	int e = fuzz_wait(
	    &r, duet_kv_get(kv, &req, key, off, buf, len, fuzz_kv_cb, &r));

	if (st != NULL)
		*st = req.stat;
	return e;
}

static inline int fuzz_set(struct duet_kv *kv, const char *key, const void *v,
			   size_t len)
{
	struct fuzz_sync r = {0};
	struct duet_kv_req req;

	return fuzz_wait(&r,
			 duet_kv_set(kv, &req, key, v, len, fuzz_kv_cb, &r));
}

static inline void fuzz_close(struct duet_kv *kv)
{
	FUZZ_CHECK(duet_kv_in_flight(kv) == 0);
	FUZZ_CHECK(duet_kv_close(kv) == 0);
}

/* ------------------------------------------------------------ the walk */

#define FUZZ_WALK_KEYS 64

/* The list's one argument serves both callbacks: r comes first. */
struct fuzz_walk {
	struct fuzz_sync r;
	unsigned n;
	char keys[FUZZ_WALK_KEYS][DUET_KV_KEY_MAX + 1];
	struct duet_kv_stat st[FUZZ_WALK_KEYS];
};

static inline int fuzz_walk_entry(struct duet_kv_req *req, const char *key,
				  const struct duet_kv_stat *st, void *arg)
{
	struct fuzz_walk *w = arg;
	size_t len = strlen(key);
	(void)req;

	FUZZ_CHECK(len >= 1 && len <= DUET_KV_KEY_MAX);
	/* In byte order, each key once. */
	if (w->n > 0)
		FUZZ_CHECK(strcmp(w->keys[w->n - 1], key) < 0);
	if (w->n == FUZZ_WALK_KEYS)
		return 1;
	memcpy(w->keys[w->n], key, len + 1);
	w->st[w->n] = *st;
	w->n++;
	return 0;
}

/* Lists the store into *w (its first FUZZ_WALK_KEYS keys) and reads
 * every listed value back whole and in two parts: what a listing
 * promises, get must deliver. */
static inline void fuzz_walk_store(struct duet_kv *kv, struct fuzz_walk *w)
{
	static uint8_t buf[1 << 16], part[1 << 16];
	struct duet_kv_req req;

	w->n = 0;
	w->r = (struct fuzz_sync){0};
	int e = fuzz_wait(
	    &w->r, duet_kv_list(kv, &req, "", fuzz_walk_entry, fuzz_kv_cb, w));
	if (e < 0) {
		w->n = 0; /* a damaged image may refuse to list */
		return;
	}
	for (unsigned i = 0; i < w->n; i++) {
		struct duet_kv_stat st;
		int n = fuzz_get(kv, w->keys[i], 0, buf, sizeof(buf), &st);
		if (n == -EBADMSG || n == -EIO)
			continue;
		FUZZ_CHECK(n >= 0);
		FUZZ_CHECK(st.size == w->st[i].size);
		FUZZ_CHECK((uint64_t)n ==
			   (st.size < sizeof(buf) ? st.size : sizeof(buf)));
		size_t half = (size_t)n / 2;
		int m =
		    fuzz_get(kv, w->keys[i], half, part, sizeof(part), NULL);
		if (m == -EBADMSG || m == -EIO)
			continue;
		FUZZ_CHECK(m >= 0 && (size_t)m >= (size_t)n - half);
		FUZZ_CHECK(memcmp(part, buf + half, (size_t)n - half) == 0);
		FUZZ_CHECK(fuzz_get(kv, w->keys[i], st.size + 1, part, 1,
				    NULL) == -EINVAL);
	}
}

#endif
