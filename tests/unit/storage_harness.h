/* Shared by the storage tests: a loop on the fake platform driven until a
 * flag is set, and synchronous wrappers over the asynchronous store calls
 * (each runs the loop until its callback has run). */
#ifndef DUET_TEST_STORAGE_HARNESS_H
#define DUET_TEST_STORAGE_HARNESS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/blk_fault.h>
#include <duet/blk_mem.h>
#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/kv.h>
#include <duet/logstore.h>
#include <duet/tar.h>
#include <duet/sys.h>

#include "fakeplat.h"
#include "tar_header.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static bool *run_flag;
static unsigned long run_spins;
static struct duet_timer run_poll;

static inline void run_poll_cb(struct duet_timer *t, void *arg)
{
	(void)arg;
	if (*run_flag || ++run_spins > 5000000)
		duet_loop_stop(loop, 0);
	else
		duet_timer_start(t, 0, 0);
}

/* Runs the loop until *flag is true; fails if it never becomes true. */
static inline void run_until(bool *flag)
{
	run_flag = flag;
	run_spins = 0;
	duet_timer_init(loop, &run_poll, run_poll_cb, NULL);
	duet_timer_start(&run_poll, 0, 0);
	duet_loop_run(loop);
	duet_timer_stop(&run_poll);
	cr_assert(*flag, "the loop went idle before the awaited callback");
}

static inline void harness_setup(void)
{
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
}

struct sync_result {
	bool done;
	int status;
	struct duet_kv *kv;
};

static inline void sync_kv_cb(struct duet_kv_req *req, int status, void *arg)
{
	struct sync_result *r = arg;
	(void)req;
	r->done = true;
	r->status = status;
}

static inline void sync_mount_cb(struct duet_kv *kv, int status, void *arg)
{
	struct sync_result *r = arg;
	r->done = true;
	r->status = status;
	r->kv = kv;
}

static inline void sync_plain_cb(void *arg, int status)
{
	struct sync_result *r = arg;
	r->done = true;
	r->status = status;
}

static inline struct duet_blk_mem *mem_disk(const char *name, uint32_t ssz,
					    uint64_t sectors)
{
	struct duet_blk_mem *m;

	cr_assert_eq(duet_blk_mem_create(loop, name, ssz, sectors, false, &m),
		     0);
	return m;
}

static inline int format_sync(struct duet_block *dev)
{
	struct sync_result r = {0};
	int e = duet_logstore_format(loop, dev, sync_plain_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

static inline int log_mount_sync(struct duet_block *dev, struct duet_kv **out)
{
	struct sync_result r = {0};
	int e = duet_logstore_mount(loop, dev, sync_mount_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	*out = r.kv;
	return r.status;
}

static inline int tar_mount_sync(struct duet_block *dev, struct duet_kv **out)
{
	struct sync_result r = {0};
	int e = duet_tar_mount(loop, dev, sync_mount_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	*out = r.kv;
	return r.status;
}

static inline int kv_set_sync(struct duet_kv *kv, const char *key,
			      const void *v, size_t len)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_kv_set(kv, &req, key, v, len, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

static inline int kv_del_sync(struct duet_kv *kv, const char *key)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_kv_delete(kv, &req, key, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

static inline int kv_get_sync(struct duet_kv *kv, const char *key, uint64_t off,
			      void *buf, size_t len, struct duet_kv_stat *st)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_kv_get(kv, &req, key, off, buf, len, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	if (st != NULL)
		*st = req.stat;
	return r.status;
}

static inline int kv_stat_sync(struct duet_kv *kv, const char *key,
			       struct duet_kv_stat *st)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_kv_stat(kv, &req, key, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	if (st != NULL)
		*st = req.stat;
	return r.status;
}

static inline int kv_sync_sync(struct duet_kv *kv)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_kv_sync(kv, &req, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

static inline int log_compact_sync(struct duet_kv *kv)
{
	struct sync_result r = {0};
	struct duet_kv_req req;
	int e = duet_logstore_compact(kv, &req, sync_kv_cb, &r);

	if (e < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

/* A deterministic value for (key number, version, length). */
static inline void fill_value(uint8_t *buf, size_t len, unsigned key,
			      unsigned version)
{
	uint32_t x = key * 2654435761u ^ version * 40503u ^ (uint32_t)len;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

#endif
