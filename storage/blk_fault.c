/* A fault-injecting block device (see duet/blk_fault.h).
 *
 * Writes live in a cache list until a flush writes them back. Everything
 * that touches the lower device goes through one worker, one lower request
 * at a time, so write-back order is submission order whatever the lower
 * device does, and a crash starts only once the lower device is idle.
 */
#include <stdlib.h>
#include <string.h>

#include <duet/blk_fault.h>
#include <duet/block_driver.h>
#include <duet/error.h>

struct cached_write {
	struct duet_list link;
	uint64_t sector, count;
	bool acked;   /* its callback has run */
	bool covered; /* a submitted flush must write it back */
	uint8_t data[];
};

struct crash_step {
	uint64_t sector, count;
	const uint8_t *data;
};

struct duet_blk_fault {
	struct duet_block blk;
	struct duet_block *lower;
	uint32_t ssz;
	struct duet_list cache; /* struct cached_write, oldest first */
	unsigned ncache;
	struct duet_list work; /* reads and flushes for the worker */
	struct duet_list done; /* our completions, delivered from the loop */
	struct duet_defer deliver;
	struct duet_block_req lreq;
	bool lower_busy;
	struct duet_block_req *current; /* the request the worker serves */
	int fail[DUET_BLOCK_WRITE_FUA + 1];
	uint64_t ops, cut_at;
	bool cut_set, dead, closed;
	/* crash */
	bool crashing;
	struct crash_step *steps;
	unsigned nsteps, step;
	bool crash_flushed;
	void (*crash_cb)(void *arg, int status);
	void *crash_arg;
	int crash_status;
};

static void worker_kick(struct duet_blk_fault *f);

static struct duet_blk_fault *fault_of(struct duet_block *blk)
{
	return duet_container_of(blk, struct duet_blk_fault, blk);
}

/* Completes from our own defer, so that a write counts as acknowledged
 * (and so covered by a later flush) only from its callback on. */
static void finish_later(struct duet_blk_fault *f, struct duet_block_req *req,
			 int status)
{
	req->driver_data[1] = (void *)(intptr_t)status;
	duet_list_insert_tail(&f->done, &req->link);
	duet_defer_post(&f->deliver);
}

static void deliver(struct duet_defer *d, void *arg)
{
	struct duet_blk_fault *f = arg;
	(void)d;

	while (!duet_list_empty(&f->done)) {
		struct duet_block_req *req = duet_container_of(
		    f->done.next, struct duet_block_req, link);
		struct cached_write *w = req->driver_data[0];
		int status = (int)(intptr_t)req->driver_data[1];

		duet_list_unlink(&req->link);
		/* Before the callback: a flush it submits covers this write. */
		if (w != NULL && status == 0)
			w->acked = true;
		duet_block_complete(req, status);
	}
}

static void drop_cache(struct duet_blk_fault *f)
{
	while (!duet_list_empty(&f->cache)) {
		struct cached_write *w =
		    duet_container_of(f->cache.next, struct cached_write, link);
		duet_list_unlink(&w->link);
		free(w);
	}
	f->ncache = 0;
}

static void overlay(struct duet_blk_fault *f, struct duet_block_req *req)
{
	struct duet_list *pos;

	duet_list_foreach(pos, &f->cache)
	{
		struct cached_write *w =
		    duet_container_of(pos, struct cached_write, link);
		uint64_t lo = w->sector > req->sector ? w->sector : req->sector;
		uint64_t we = w->sector + w->count,
			 re = req->sector + req->count;
		uint64_t hi = we < re ? we : re;
		if (lo >= hi)
			continue;
		memcpy((uint8_t *)req->buf + (lo - req->sector) * f->ssz,
		       w->data + (lo - w->sector) * f->ssz,
		       (size_t)((hi - lo) * f->ssz));
	}
}

static struct cached_write *first_covered(struct duet_blk_fault *f)
{
	if (duet_list_empty(&f->cache))
		return NULL;
	struct cached_write *w =
	    duet_container_of(f->cache.next, struct cached_write, link);
	return w->covered ? w : NULL;
}

static void crash_done(struct duet_blk_fault *f, int status)
{
	f->crashing = false;
	free(f->steps);
	f->steps = NULL;
	drop_cache(f);
	f->crash_cb(f->crash_arg, status);
}

static void lower_done(struct duet_block_req *lreq, int status, void *arg)
{
	struct duet_blk_fault *f = arg;
	struct duet_block_req *req = f->current;
	(void)lreq;

	f->lower_busy = false;
	if (f->closed) {
		free(f);
		return;
	}
	if (f->crashing) {
		if (status < 0 && f->crash_status == 0)
			f->crash_status = status;
		if (f->crash_flushed) {
			crash_done(f, f->crash_status);
			return;
		}
		worker_kick(f);
		return;
	}
	if (req->op == DUET_BLOCK_READ) {
		if (status == 0)
			overlay(f, req);
		f->current = NULL;
		finish_later(f, req, status);
	} else if (status < 0 || f->dead) {
		f->current = NULL;
		finish_later(f, req, status < 0 ? status : -EIO);
	} else if (req->driver_data[2] != NULL) {
		/* The lower flush is done: the flush (or durable write) is
		 * complete. */
		f->current = NULL;
		finish_later(f, req, 0);
	} else {
		struct cached_write *w = first_covered(f);
		duet_list_unlink(&w->link);
		f->ncache--;
		free(w);
	}
	worker_kick(f);
}

static void crash_step(struct duet_blk_fault *f)
{
	int r;

	if (f->step < f->nsteps) {
		struct crash_step *s = &f->steps[f->step++];
		r = duet_block_write(f->lower, &f->lreq, s->sector, s->data,
				     s->count, lower_done, f);
	} else {
		f->crash_flushed = true;
		r = duet_block_flush(f->lower, &f->lreq, lower_done, f);
	}
	if (r < 0) {
		crash_done(f, r);
		return;
	}
	f->lower_busy = true;
}

static void worker_kick(struct duet_blk_fault *f)
{
	struct duet_block_req *req = f->current;
	int r;

	if (f->lower_busy)
		return;
	if (f->crashing) {
		crash_step(f);
		return;
	}
	if (req == NULL) {
		if (duet_list_empty(&f->work))
			return;
		req = duet_container_of(f->work.next, struct duet_block_req,
					link);
		duet_list_unlink(&req->link);
		f->current = req;
		req->driver_data[2] = NULL;
	}
	if (f->dead) {
		f->current = NULL;
		finish_later(f, req, -EIO);
		worker_kick(f);
		return;
	}
	if (req->op == DUET_BLOCK_READ) {
		r = duet_block_read(f->lower, &f->lreq, req->sector, req->buf,
				    req->count, lower_done, f);
	} else {
		struct cached_write *w = first_covered(f);
		if (w != NULL) {
			r = duet_block_write(f->lower, &f->lreq, w->sector,
					     w->data, w->count, lower_done, f);
		} else {
			req->driver_data[2] = req; /* now the lower flush */
			r = duet_block_flush(f->lower, &f->lreq, lower_done, f);
		}
	}
	if (r < 0) {
		f->current = NULL;
		finish_later(f, req, r);
		worker_kick(f);
		return;
	}
	f->lower_busy = true;
}

/* A durable write is a write and a flush in one: a failure set for
 * either is its own. */
static int injected(const struct duet_blk_fault *f, enum duet_block_op op)
{
	if (op != DUET_BLOCK_WRITE_FUA || f->fail[op] != 0)
		return f->fail[op];
	return f->fail[DUET_BLOCK_WRITE] != 0 ? f->fail[DUET_BLOCK_WRITE]
					      : f->fail[DUET_BLOCK_FLUSH];
}

static struct cached_write *cache_write(struct duet_blk_fault *f,
					const struct duet_block_req *req)
{
	size_t len = (size_t)(req->count * f->ssz);
	struct cached_write *w = malloc(sizeof(*w) + len);

	if (w == NULL)
		return NULL;
	w->sector = req->sector;
	w->count = req->count;
	w->acked = false;
	w->covered = false;
	memcpy(w->data, req->buf, len);
	duet_list_insert_tail(&f->cache, &w->link);
	f->ncache++;
	return w;
}

static int fault_submit(struct duet_block *blk, struct duet_block_req *req)
{
	struct duet_blk_fault *f = fault_of(blk);
	struct cached_write *w;
	struct duet_list *pos;

	req->driver_data[0] = NULL;
	if (req->op != DUET_BLOCK_READ) {
		f->ops++;
		if (f->cut_set && f->ops > f->cut_at)
			f->dead = true;
	}
	if (f->dead || injected(f, req->op) != 0) {
		finish_later(f, req, f->dead ? -EIO : injected(f, req->op));
		return 0;
	}
	switch (req->op) {
	case DUET_BLOCK_WRITE:
		w = cache_write(f, req);
		if (w == NULL) {
			/* Refused, so not an operation: cut_after numbers
			 * only accepted ones (the count did not kill the
			 * device, or we would not be here). */
			f->ops--;
			return -ENOMEM;
		}
		req->driver_data[0] = w;
		finish_later(f, req, 0);
		return 0;
	case DUET_BLOCK_WRITE_FUA:
		/* Cached like a write, then written back with everything
		 * before it, as a flush would (a preflush and a FUA write):
		 * until it completes, a crash may drop or tear it. */
		if (cache_write(f, req) == NULL) {
			f->ops--;
			return -ENOMEM;
		}
		duet_list_foreach(pos, &f->cache)
		{
			w = duet_container_of(pos, struct cached_write, link);
			w->covered = true;
		}
		break;
	case DUET_BLOCK_FLUSH:
		duet_list_foreach(pos, &f->cache)
		{
			w = duet_container_of(pos, struct cached_write, link);
			if (w->acked)
				w->covered = true;
		}
		break;
	case DUET_BLOCK_READ: break;
	}
	duet_list_insert_tail(&f->work, &req->link);
	worker_kick(f);
	return 0;
}

static void fault_close(struct duet_block *blk)
{
	struct duet_blk_fault *f = fault_of(blk);

	f->dead = true;
	while (!duet_list_empty(&f->work)) {
		struct duet_block_req *req = duet_container_of(
		    f->work.next, struct duet_block_req, link);
		duet_list_unlink(&req->link);
		duet_block_complete(req, -ENODEV);
	}
	if (f->current != NULL)
		duet_block_complete(f->current, -ENODEV);
	duet_defer_cancel(&f->deliver);
	deliver(&f->deliver, f);
	drop_cache(f);
	free(f->steps);
	/* A lower request still holds f->lreq: free once it comes back. */
	f->closed = true;
	if (!f->lower_busy)
		free(f);
}

static const struct duet_block_ops fault_ops = {
    .submit = fault_submit,
    .close = fault_close,
};

int duet_blk_fault_create(struct duet_loop *loop, const char *name,
			  struct duet_block *lower, struct duet_blk_fault **out)
{
	struct duet_block_info info;
	struct duet_blk_fault *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -ENOMEM;
	duet_block_get_info(lower, &info);
	info.volatile_cache = true;
	info.fua = true;
	f->lower = lower;
	f->ssz = info.sector_size;
	duet_list_init(&f->cache);
	duet_list_init(&f->work);
	duet_list_init(&f->done);
	duet_defer_init(loop, &f->deliver, deliver, f);
	int r = duet_block_register(loop, &f->blk, name, &fault_ops, &info);
	if (r < 0) {
		free(f);
		return r;
	}
	*out = f;
	return 0;
}

struct duet_block *duet_blk_fault_block(struct duet_blk_fault *f)
{
	return &f->blk;
}

void duet_blk_fault_fail(struct duet_blk_fault *f, enum duet_block_op op,
			 int err)
{
	if (op >= DUET_BLOCK_READ && op <= DUET_BLOCK_WRITE_FUA)
		f->fail[op] = err;
}

void duet_blk_fault_cut_after(struct duet_blk_fault *f, uint64_t n)
{
	f->cut_set = true;
	f->cut_at = n;
	if (f->ops > n)
		f->dead = true;
}

void duet_blk_fault_split_fua(struct duet_blk_fault *f)
{
	/* The core reads the flag at every submit. */
	f->blk.info.fua = false;
}

bool duet_blk_fault_dead(const struct duet_blk_fault *f)
{
	return f->dead;
}

uint64_t duet_blk_fault_ops(const struct duet_blk_fault *f)
{
	return f->ops;
}

unsigned duet_blk_fault_unflushed(const struct duet_blk_fault *f)
{
	return f->ncache;
}

static struct cached_write *nth(const struct duet_blk_fault *f, unsigned i)
{
	const struct duet_list *pos;

	duet_list_foreach(pos, &f->cache)
	{
		if (i-- == 0)
			return duet_container_of(pos, struct cached_write,
						 link);
	}
	return NULL;
}

int duet_blk_fault_unflushed_info(const struct duet_blk_fault *f, unsigned i,
				  uint64_t *sector, uint64_t *count)
{
	struct cached_write *w = nth(f, i);

	if (w == NULL)
		return -EINVAL;
	*sector = w->sector;
	*count = w->count;
	return 0;
}

int duet_blk_fault_crash(struct duet_blk_fault *f,
			 const struct duet_blk_fault_crash *how,
			 void (*cb)(void *arg, int status), void *arg)
{
	unsigned n = 0;

	if (f->crashing)
		return -EBUSY;
	if ((f->ncache < 64 && (how->keep >> f->ncache) != 0) ||
	    (how->torn >= 0 && (unsigned)how->torn >= f->ncache))
		return -EINVAL;
	struct crash_step *steps = calloc(f->ncache + 1, sizeof(*steps));
	if (steps == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < f->ncache; i++) {
		struct cached_write *w = nth(f, i);
		if (i < 64 && (how->keep >> i & 1)) {
			steps[n++] =
			    (struct crash_step){w->sector, w->count, w->data};
		} else if ((int)i == how->torn && how->torn_sectors > 0) {
			uint64_t k = how->torn_sectors < w->count
					 ? how->torn_sectors
					 : w->count;
			uint64_t skip = how->torn_from_end ? w->count - k : 0;
			steps[n++] = (struct crash_step){
			    w->sector + skip, k, w->data + skip * f->ssz};
		}
	}
	f->dead = true;
	f->crashing = true;
	f->steps = steps;
	f->nsteps = n;
	f->step = 0;
	f->crash_flushed = false;
	f->crash_cb = cb;
	f->crash_arg = arg;
	f->crash_status = 0;
	/* Requests waiting for the worker fail: the power is gone. So does
	 * the one it serves: its lower request's return goes to the crash. */
	if (f->current != NULL) {
		finish_later(f, f->current, -EIO);
		f->current = NULL;
	}
	while (!duet_list_empty(&f->work)) {
		struct duet_block_req *req = duet_container_of(
		    f->work.next, struct duet_block_req, link);
		duet_list_unlink(&req->link);
		finish_later(f, req, -EIO);
	}
	if (!f->lower_busy)
		crash_step(f);
	return 0;
}
