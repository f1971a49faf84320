/* The read-only tar store (see duet/tar.h). Mount walks the headers
 * through a window of the device; the index is a sorted array. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/tar.h>

#include "rangeread.h"
#include "tar_parse.h"

#define TAR_WINDOW	(256u << 10)
#define TAR_MAX_ENTRIES (1u << 20)

struct tar_entry {
	char *name;
	uint64_t off, size, mtime;
	uint32_t order; /* place in the archive: the later duplicate wins */
};

/* A hard link, resolved once every file is known. */
struct tar_link {
	char *name, *target;
	uint32_t order;
	bool done;
};

struct tar_store {
	struct duet_kv kv;
	struct duet_block *dev;
	struct duet__rr rr;
	uint32_t ssz;
	uint64_t dev_bytes;
	struct tar_entry *ents;
	size_t n, cap;
	/* mount */
	struct tar_link *links;
	size_t nlinks, lcap;
	duet_kv_mount_cb mount_cb;
	void *mount_arg;
	struct duet_block_req mreq;
	uint8_t *win;
	uint64_t win_off;
	size_t win_len;
	uint64_t pos;
	unsigned entry_no;
	struct duet__tar_pending pend;
	struct duet_defer start;
};

static struct tar_store *store_of(struct duet_kv *kv)
{
	return duet_container_of(kv, struct tar_store, kv);
}

static void free_index(struct tar_store *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->ents[i].name);
	free(t->ents);
	t->ents = NULL;
	t->n = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tar_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A name against key[0..len), in strcmp's (unsigned byte) order; the key
 * need not end with a NUL, nor be free of one. */
static int cmp_key(const char *name, const char *key, size_t len)
{
	size_t nlen = strlen(name);
	int c = memcmp(name, key, nlen < len ? nlen : len);

	if (c != 0)
		return c;
	return nlen < len ? -1 : nlen > len;
}

/* The first of the first n entries whose name is >= key[0..len). */
static size_t lower_bound_n(const struct tar_store *t, size_t n,
			    const char *key, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(t->ents[mid].name, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t lower_bound(const struct tar_store *t, const char *key,
			  size_t len)
{
	return lower_bound_n(t, t->n, key, len);
}

static const struct tar_entry *find(const struct tar_store *t,
				    const char *key, size_t len)
{
	size_t i = lower_bound(t, key, len);

	return i < t->n && cmp_key(t->ents[i].name, key, len) == 0
		   ? &t->ents[i]
		   : NULL;
}

static void fill_stat(const struct tar_entry *e, struct duet_kv_stat *st)
{
	uint64_t v =
	    e->off * 0x9e3779b97f4a7c15ull ^ e->size ^ (e->mtime << 32);

	st->size = e->size;
	st->mtime = e->mtime;
	/* Mixed so that neighbouring entries differ in every digit. */
	v ^= v >> 31;
	v *= 0xbf58476d1ce4e5b9ull;
	st->version = v ^ (v >> 29);
}

/* ------------------------------------------------------------------ ops */

static void get_done(struct duet_kv_req *req, int status)
{
	duet_kv_complete(req, status < 0 ? status : (int)duet__rr_len(req));
}

static void tar_submit(struct duet_kv *kv, struct duet_kv_req *req)
{
	struct tar_store *t = store_of(kv);
	const struct tar_entry *e;

	switch (req->op) {
	case DUET_KV_GET:
	case DUET_KV_STAT:
		e = find(t, req->key, req->key_len);
		if (e == NULL) {
			duet_kv_complete(req, -ENOENT);
			return;
		}
		fill_stat(e, &req->stat);
		duet__rr_get(&t->rr, req, e->off, e->size, NULL);
		return;
	case DUET_KV_LIST:
		for (size_t i = lower_bound(t, req->key, req->key_len); i < t->n;
		     i++) {
			struct duet_kv_stat st;
			e = &t->ents[i];
			if (strncmp(e->name, req->key, req->key_len) != 0)
				break;
			fill_stat(e, &st);
			if (req->entry(req, e->name, &st, req->arg) != 0)
				break;
		}
		duet_kv_complete(req, 0);
		return;
	default: duet_kv_complete(req, -EROFS); return;
	}
}

static void tar_close(struct duet_kv *kv)
{
	struct tar_store *t = store_of(kv);

	free_index(t);
	duet__rr_fini(&t->rr);
	free(t);
}

static const struct duet_kv_ops tar_ops = {
    .submit = tar_submit,
    .close = tar_close,
};

size_t duet_tar_count(const struct duet_kv *kv)
{
	return duet_container_of(kv, const struct tar_store, kv)->n;
}

static void entry_out(const struct tar_entry *e, struct duet_tar_entry *out)
{
	out->key = e->name;
	out->key_len = strlen(e->name);
	fill_stat(e, &out->stat);
}

int duet_tar_find(const struct duet_kv *kv, const char *key, size_t len,
		  struct duet_tar_entry *out)
{
	const struct tar_entry *e =
	    find(duet_container_of(kv, const struct tar_store, kv), key, len);

	if (e == NULL)
		return -ENOENT;
	entry_out(e, out);
	return 0;
}

int duet_tar_entry_at(const struct duet_kv *kv, size_t i,
		      struct duet_tar_entry *out)
{
	const struct tar_store *t =
	    duet_container_of(kv, const struct tar_store, kv);

	if (i >= t->n)
		return -ENOENT;
	entry_out(&t->ents[i], out);
	return 0;
}

/* ---------------------------------------------------------------- mount */

static void mount_continue(struct tar_store *t);

static void sort_entries(struct tar_store *t)
{
	if (t->n > 1)
		qsort(t->ents, t->n, sizeof(*t->ents), cmp_entry);
}

static int add_file(struct tar_store *t, const char *name, uint64_t off,
		    uint64_t size, uint64_t mtime, uint32_t order);

/* A link names the newest file of its target's name that came before it;
 * links to links resolve in later rounds. */
static int resolve_links(struct tar_store *t)
{
	bool progress = true;
	size_t left = t->nlinks;

	while (left > 0 && progress) {
		progress = false;
		sort_entries(t);
		size_t n = t->n;
		for (size_t i = 0; i < t->nlinks; i++) {
			struct tar_link *l = &t->links[i];
			const struct tar_entry *src = NULL;
			if (l->done)
				continue;
			for (size_t j = lower_bound_n(t, n, l->target,
						      strlen(l->target));
			     j < n && strcmp(t->ents[j].name, l->target) == 0;
			     j++)
				if (t->ents[j].order < l->order)
					src = &t->ents[j];
			if (src == NULL)
				continue;
			struct tar_entry e = *src;
			int r = add_file(t, l->name, e.off, e.size, e.mtime,
					 l->order);
			if (r < 0)
				return r;
			l->done = true;
			left--;
			progress = true;
		}
	}
	for (size_t i = 0; i < t->nlinks && left > 0; i++)
		if (!t->links[i].done)
			DUET_WARN("tar",
				  "%s: hard link %s -> %s: no such file "
				  "before it; skipped",
				  duet_block_name(t->dev), t->links[i].name,
				  t->links[i].target);
	return 0;
}

static void free_links(struct tar_store *t)
{
	for (size_t i = 0; i < t->nlinks; i++) {
		free(t->links[i].name);
		free(t->links[i].target);
	}
	free(t->links);
	t->links = NULL;
	t->nlinks = 0;
}

static void mount_end(struct tar_store *t, int status)
{
	duet_kv_mount_cb cb = t->mount_cb;
	void *arg = t->mount_arg;

	free(t->win);
	t->win = NULL;
	duet__tar_pending_clear(&t->pend);
	if (status == 0)
		status = resolve_links(t);
	free_links(t);
	if (status < 0) {
		tar_close(&t->kv);
		cb(NULL, status, arg);
		return;
	}
	/* Sorted by name, then archive order: keep the last of each name. */
	sort_entries(t);
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (i + 1 < t->n &&
		    strcmp(t->ents[i].name, t->ents[i + 1].name) == 0) {
			free(t->ents[i].name);
			continue;
		}
		t->ents[w++] = t->ents[i];
	}
	t->n = w;
	DUET_INFO("tar", "%s: %zu files", duet_block_name(t->dev), t->n);
	cb(&t->kv, 0, arg);
}

static int mount_fail(struct tar_store *t, const char *why)
{
	DUET_ERROR("tar", "%s: entry %u at byte %llu: %s",
		   duet_block_name(t->dev), t->entry_no,
		   (unsigned long long)t->pos, why);
	return -EBADMSG;
}

static void window_done(struct duet_block_req *req, int status, void *arg)
{
	struct tar_store *t = arg;

	if (status < 0) {
		DUET_ERROR("tar", "%s: read at byte %llu failed: %s",
			   duet_block_name(t->dev),
			   (unsigned long long)(req->sector * t->ssz),
			   duet_strerror(status));
		mount_end(t, status);
		return;
	}
	t->win_off = req->sector * t->ssz;
	t->win_len = (size_t)(req->count * t->ssz);
	mount_continue(t);
}

/* Makes [off, off + len) readable at t->win; returns false if a read was
 * started (mount_continue runs again when it is done). len <= 64 KiB + 512. */
static bool cover(struct tar_store *t, uint64_t off, size_t len, int *err)
{
	if (off >= t->win_off && off + len <= t->win_off + t->win_len)
		return true;
	uint64_t sector = off / t->ssz;
	uint64_t n = TAR_WINDOW / t->ssz;
	uint64_t total = t->dev_bytes / t->ssz;

	if (n > total - sector)
		n = total - sector;
	*err = duet_block_read(t->dev, &t->mreq, sector, t->win, n, window_done,
			       t);
	return false;
}

static int add_link(struct tar_store *t, const char *name, const char *target)
{
	if (t->nlinks == t->lcap) {
		size_t cap = t->lcap ? t->lcap * 2 : 16;
		struct tar_link *l = realloc(t->links, cap * sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		t->links = l;
		t->lcap = cap;
	}
	struct tar_link l = {strdup(name), strdup(target), t->entry_no, false};
	if (l.name == NULL || l.target == NULL) {
		free(l.name);
		free(l.target);
		return -ENOMEM;
	}
	t->links[t->nlinks++] = l;
	return 0;
}

static int add_file(struct tar_store *t, const char *name, uint64_t off,
		    uint64_t size, uint64_t mtime, uint32_t order)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tar_entry *e = realloc(t->ents, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		t->ents = e;
		t->cap = cap;
	}
	char *copy = strdup(name);
	if (copy == NULL)
		return -ENOMEM;
	t->ents[t->n++] = (struct tar_entry){copy, off, size, mtime, order};
	return 0;
}

/* One header at t->pos (and its extension data, if any). Returns 1 to go
 * on, 0 at the end of the archive, -EAGAIN if a read was started, or a
 * negative errno. */
static int mount_step(struct tar_store *t)
{
	struct duet__tar_header h;
	char name[DUET_KV_KEY_MAX + 1];
	const char *why;
	int err = 0, r;

	if (t->dev_bytes - t->pos < DUET__TAR_BLOCK) {
		DUET_WARN("tar", "%s: no end-of-archive marker",
			  duet_block_name(t->dev));
		return 0;
	}
	if (!cover(t, t->pos, DUET__TAR_BLOCK, &err))
		return err < 0 ? err : -EAGAIN;
	const uint8_t *raw = t->win + (t->pos - t->win_off);
	why = duet__tar_parse_header(raw, &t->pend, &h);
	if (why == DUET__TAR_END)
		return 0;
	if (why != NULL)
		return mount_fail(
		    t, t->entry_no == 0 && h.bad_checksum
			   ? "not a tar archive (header checksum mismatch)"
			   : why);
	uint64_t data = t->pos + DUET__TAR_BLOCK;
	if (h.size > t->dev_bytes - data)
		return mount_fail(
		    t, "truncated archive: the entry's size runs past "
		       "the end of the device");
	if (h.type == DUET__TAR_EXT) {
		if (h.size > DUET__TAR_EXT_MAX)
			return mount_fail(t, "extended header too large");
		if (!cover(t, data, (size_t)h.size, &err))
			return err < 0 ? err : -EAGAIN;
		why = duet__tar_parse_ext(&h, t->win + (data - t->win_off),
					  (size_t)h.size, &t->pend);
		if (why != NULL)
			return mount_fail(t, why);
	} else if (h.type == DUET__TAR_FILE) {
		why = duet__tar_name(&h, &t->pend, name, sizeof(name));
		if (why != NULL)
			return mount_fail(t, why);
		if (t->n + t->nlinks >= TAR_MAX_ENTRIES)
			return mount_fail(t, "too many files");
		r = add_file(t, name, data, h.size, h.mtime, t->entry_no);
		if (r < 0)
			return r;
		duet__tar_pending_clear(&t->pend);
	} else if (h.type == DUET__TAR_LINK) {
		char target[DUET_KV_KEY_MAX + 1];
		why = duet__tar_name(&h, &t->pend, name, sizeof(name));
		if (why == NULL)
			why = duet__tar_link_target(&h, &t->pend, target,
						    sizeof(target));
		if (why != NULL)
			return mount_fail(t, why);
		if (t->n + t->nlinks >= TAR_MAX_ENTRIES)
			return mount_fail(t, "too many files");
		r = add_link(t, name, target);
		if (r < 0)
			return r;
		duet__tar_pending_clear(&t->pend);
	} else {
		duet__tar_pending_clear(&t->pend);
	}
	t->pos = data + ((h.size + DUET__TAR_BLOCK - 1) &
			 ~(uint64_t)(DUET__TAR_BLOCK - 1));
	t->entry_no++;
	return 1;
}

static void mount_continue(struct tar_store *t)
{
	int r;

	while ((r = mount_step(t)) == 1)
		;
	if (r == -EAGAIN)
		return;
	mount_end(t, r);
}

static void mount_start(struct duet_defer *d, void *arg)
{
	(void)d;
	mount_continue(arg);
}

int duet_tar_mount(struct duet_loop *loop, struct duet_block *dev,
		   duet_kv_mount_cb cb, void *arg)
{
	struct duet_block_info info;
	struct tar_store *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	duet_block_get_info(dev, &info);
	t->dev = dev;
	t->ssz = info.sector_size;
	t->dev_bytes = info.sector_count * info.sector_size;
	t->mount_cb = cb;
	t->mount_arg = arg;
	t->win = malloc(TAR_WINDOW);
	if (t->win == NULL || duet__rr_init(&t->rr, dev, get_done) < 0) {
		free(t->win);
		free(t);
		return -ENOMEM;
	}
	duet_kv_init(&t->kv, loop, "tar", &tar_ops, true);
	t->kv.io_size = info.io_size;
	/* The first read is started from the loop like every later step, so
	 * cb never runs inside this call. */
	duet_defer_init(loop, &t->start, mount_start, t);
	duet_defer_post(&t->start);
	return 0;
}
