/* kv's durable side (store.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <duet/block.h>
#include <duet/clock.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/logstore.h>

#include "store.h"

#define RECORD_VERSION 1
#define RECORD_HEADER 9 /* version, expiry (8 bytes, little-endian ms) */
#define LOAD_DEPTH 8

/* ------------------------------------------------------------- keys */

static size_t key_encoded_len(const uint8_t *k, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += k[i] <= 1 ? 2 : 1;
	return len;
}

bool kv_store_key_fits(const struct kv_store *s, const uint8_t *k, size_t n)
{
	return s->mode == KV_STORE_MEMORY ||
	       key_encoded_len(k, n) <= DUET_KV_KEY_MAX;
}

/* Writes the stored form of k into out (key_encoded_len + 1 bytes). */
static void key_encode(const uint8_t *k, size_t n, char *out)
{
	*out++ = '=';
	for (size_t i = 0; i < n; i++) {
		if (k[i] <= 1) {
			*out++ = 1;
			*out++ = (char)('0' + k[i]);
		} else {
			*out++ = (char)k[i];
		}
	}
	*out = '\0';
}

/* The key a stored key stands for, into out (at most strlen(sk) bytes);
 * its length, or -1 if sk is not one of ours. */
static long key_decode(const char *sk, uint8_t *out)
{
	size_t n = 0;

	if (sk[0] != '=')
		return -1;
	for (const char *p = sk + 1; *p != '\0'; p++) {
		if (*p == 1) {
			if (p[1] != '0' && p[1] != '1')
				return -1;
			out[n++] = (uint8_t)(p[1] - '0');
			p++;
		} else {
			out[n++] = (uint8_t)*p;
		}
	}
	return (long)n;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* --------------------------------------------------------- writing */

struct store_op {
	struct duet_kv_req req;
	struct kv_store *s;
	struct kv_ticket *t;
	size_t klen;	/* the raw key, at data */
	char *skey;	/* the stored key */
	uint8_t *rec;	/* the record (a put), or the read-back buffer */
	uint8_t data[]; /* raw key, stored key, record */
};

static void op_end(struct kv_store *s)
{
	if (--s->in_flight == 0 && s->drained != NULL)
		s->drained(s);
}

static void ticket_settle(struct kv_ticket *t, int status)
{
	if (t == NULL)
		return;
	if (status < 0 && t->status == 0)
		t->status = status;
	if (--t->pending == 0)
		t->done(t);
}

static void resync(struct kv_store *s, struct store_op *op);

static void write_done(struct duet_kv_req *req, int status, void *arg)
{
	struct store_op *op = arg;
	struct kv_store *s = op->s;
	(void)req;

	ticket_settle(op->t, status);
	op->t = NULL;
	if (status < 0) {
		if (s->failed != status)
			DUET_WARN("kv", "store: a write failed: %s%s",
				  duet_strerror(status),
				  status == -EIO ? " (no more writes until "
						   "restarted)"
						 : "");
		s->failed = status;
		s->failures++;
		resync(s, op); /* takes over op */
		return;
	}
	free(op);
	op_end(s);
}

static struct store_op *op_new(struct kv_store *s, const uint8_t *k,
			       size_t n, size_t rec_len, struct kv_ticket *t)
{
	size_t sk = key_encoded_len(k, n) + 1;
	struct store_op *op = malloc(sizeof(*op) + n + sk + rec_len);

	if (op == NULL)
		return NULL;
	op->s = s;
	op->t = t;
	op->klen = n;
	memcpy(op->data, k, n);
	op->skey = (char *)op->data + n;
	key_encode(k, n, op->skey);
	op->rec = op->data + n + sk;
	return op;
}

/* Starts op (a set of rec_len bytes, or a delete); on a refusal at submit
 * the ticket fails at once. */
static void op_submit(struct kv_store *s, struct store_op *op, bool put,
		      size_t rec_len)
{
	int r;

	if (op->t != NULL && s->durable)
		op->t->pending++;
	else
		op->t = NULL;
	s->in_flight++;
	s->writes++;
	r = put ? duet_kv_set(s->kv, &op->req, op->skey, op->rec, rec_len,
			      write_done, op)
		: duet_kv_delete(s->kv, &op->req, op->skey, write_done, op);
	if (r < 0) {
		/* Never started: answer as its completion would. */
		struct kv_ticket *t = op->t;
		s->failures++;
		free(op);
		op_end(s);
		if (t != NULL) {
			t->pending--;
			if (t->status == 0)
				t->status = r;
		}
	}
}

void kv_store_put(struct kv_store *s, const struct kv_entry *e,
		  struct kv_ticket *t)
{
	if (s->mode == KV_STORE_MEMORY)
		return;
	size_t rec_len = RECORD_HEADER + e->vlen;
	struct store_op *op = op_new(s, e->key, e->klen, rec_len, t);
	if (op == NULL) {
		if (t != NULL && t->status == 0)
			t->status = -ENOMEM;
		return;
	}
	op->rec[0] = RECORD_VERSION;
	put_le64(op->rec + 1, (uint64_t)e->expire_ms);
	if (e->vlen > 0)
		memcpy(op->rec + RECORD_HEADER, e->val, e->vlen);
	op_submit(s, op, true, rec_len);
}

void kv_store_del(struct kv_store *s, const uint8_t *k, size_t n,
		  struct kv_ticket *t)
{
	if (s->mode == KV_STORE_MEMORY)
		return;
	struct store_op *op = op_new(s, k, n, 0, t);
	if (op == NULL) {
		if (t != NULL && t->status == 0)
			t->status = -ENOMEM;
		return;
	}
	op_submit(s, op, false, 0);
}

/* ------------------------------------------ decoding, reading back */

/* Puts a stored record into memory (raw key k[0..n)); false if it is not
 * a record of ours. Expired ones are deleted instead. */
static bool apply_record(struct kv_store *s, const uint8_t *k, size_t n,
			 const uint8_t *rec, size_t len)
{
	if (len < RECORD_HEADER || rec[0] != RECORD_VERSION)
		return false;
	int64_t exp = (int64_t)get_le64(rec + 1);
	struct kv_entry *e = kv_db_lookup(s->db, k, n, INT64_MIN);
	if (exp != 0 && exp <= kv_now_ms()) {
		if (e != NULL)
			kv_db_remove(s->db, e);
		s->dropped_expired++;
		kv_store_del(s, k, n, NULL);
		return true;
	}
	bool created;
	if (e == NULL && (e = kv_db_upsert(s->db, k, n, &created)) == NULL)
		return false;
	if (!kv_db_set_value(s->db, e, rec + RECORD_HEADER,
			     len - RECORD_HEADER)) {
		kv_db_remove(s->db, e);
		return false;
	}
	kv_db_set_expiry(s->db, e, exp);
	return true;
}

static void resync_got(struct duet_kv_req *req, int status, void *arg)
{
	struct store_op *op = arg;
	struct kv_store *s = op->s;

	if (status >= 0 && (uint64_t)status == req->stat.size) {
		if (!apply_record(s, op->data, op->klen, op->rec,
				  (size_t)status))
			DUET_WARN("kv", "store: a key read back is damaged");
	} else if (status == -ENOENT) {
		struct kv_entry *e =
		    kv_db_lookup(s->db, op->data, op->klen, INT64_MIN);
		if (e != NULL)
			kv_db_remove(s->db, e);
	} else {
		DUET_WARN("kv", "store: cannot read a key back: %s",
			  duet_strerror(status < 0 ? status : -EIO));
	}
	free(op->rec);
	free(op);
	op_end(s);
}

static void resync_stat(struct duet_kv_req *req, int status, void *arg)
{
	struct store_op *op = arg;

	if (status == 0 && req->stat.size <= SIZE_MAX &&
	    (op->rec = malloc(req->stat.size ? req->stat.size : 1)) != NULL &&
	    duet_kv_get(op->s->kv, &op->req, op->skey, 0, op->rec,
			req->stat.size, resync_got, op) == 0)
		return;
	free(op->rec);
	op->rec = NULL;
	resync_got(req, status < 0 ? status : -ENOMEM, op);
}

/* After a refused write of op's key: memory takes the store's word. */
static void resync(struct kv_store *s, struct store_op *op)
{
	op->rec = NULL;
	if (duet_kv_stat(s->kv, &op->req, op->skey, resync_stat, op) < 0) {
		free(op);
		op_end(s);
	}
}

/* ---------------------------------------------------------- loading */

struct loader;
struct load_slot {
	struct loader *l;
	struct duet_kv_req req;
	size_t i;
	uint8_t *buf;
};

struct loader {
	struct kv_store *s;
	struct duet_block *dev;
	void (*cb)(struct kv_store *s, int status, void *arg);
	void *arg;
	uint8_t *sb; /* the first sectors, to tell a blank device */
	struct duet_block_req blk;
	struct duet_kv_req list;
	char **keys;
	uint64_t *sizes;
	size_t nkeys, cap, next, busy;
	bool starting;
	int status;
	struct load_slot slot[LOAD_DEPTH];
};

static void load_finish(struct loader *l)
{
	struct kv_store *s = l->s;
	void (*cb)(struct kv_store *, int, void *) = l->cb;
	void *arg = l->arg;
	int status = l->status;

	for (size_t i = 0; i < l->nkeys; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->sizes);
	free(l);
	if (status == 0)
		DUET_INFO("kv",
			  "store: %llu keys loaded, %llu expired ones dropped",
			  (unsigned long long)s->loaded,
			  (unsigned long long)s->dropped_expired);
	cb(s, status, arg);
}

static void load_next(struct loader *l, unsigned slot);

static void load_got(struct duet_kv_req *req, int status, void *arg)
{
	struct load_slot *sl = arg;
	struct loader *l = sl->l;
	struct kv_store *s = l->s;
	const char *sk = l->keys[sl->i];
	uint8_t *raw = malloc(strlen(sk) + 1);
	(void)req;

	if (status < 0) {
		DUET_ERROR("kv", "store: reading a key back: %s",
			   duet_strerror(status));
		if (l->status == 0)
			l->status = status;
	} else {
		long n = raw != NULL ? key_decode(sk, raw) : -1;
		if (n < 0 ||
		    !apply_record(s, raw, (size_t)n, sl->buf, (size_t)status))
			DUET_WARN("kv", "store: skipping a record kv did not "
					"write (or damaged)");
		else
			s->loaded++;
	}
	free(raw);
	free(sl->buf);
	sl->buf = NULL;
	l->busy--;
	load_next(l, (unsigned)(sl - l->slot));
}

static void load_next(struct loader *l, unsigned slot)
{
	if (l->status == 0 && l->next < l->nkeys) {
		size_t i = l->next++;
		uint64_t size = l->sizes[i];
		l->slot[slot].l = l;
		l->slot[slot].i = i;
		l->slot[slot].buf = malloc(size ? size : 1);
		int r = l->slot[slot].buf == NULL
			    ? -ENOMEM
			    : duet_kv_get(l->s->kv, &l->slot[slot].req,
					  l->keys[i], 0, l->slot[slot].buf,
					  size, load_got, &l->slot[slot]);
		if (r == 0) {
			l->busy++;
			return;
		}
		free(l->slot[slot].buf);
		l->slot[slot].buf = NULL;
		l->status = r;
	}
	if (!l->starting && l->busy == 0 &&
	    (l->next == l->nkeys || l->status != 0))
		load_finish(l);
}

static int list_entry(struct duet_kv_req *req, const char *key,
		      const struct duet_kv_stat *st, void *arg)
{
	struct loader *l = arg;
	(void)req;

	if (l->nkeys == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **k = realloc(l->keys, cap * sizeof(*k));
		uint64_t *z = k ? realloc(l->sizes, cap * sizeof(*z)) : NULL;
		if (k != NULL)
			l->keys = k;
		if (z == NULL) {
			l->status = -ENOMEM;
			return 1;
		}
		l->sizes = z;
		l->cap = cap;
	}
	if ((l->keys[l->nkeys] = strdup(key)) == NULL) {
		l->status = -ENOMEM;
		return 1;
	}
	l->sizes[l->nkeys++] = st->size;
	return 0;
}

static void listed(struct duet_kv_req *req, int status, void *arg)
{
	struct loader *l = arg;
	(void)req;

	if (status < 0 && l->status == 0)
		l->status = status;
	if (l->status != 0) {
		DUET_ERROR("kv", "store: listing keys: %s",
			   duet_strerror(l->status));
		load_finish(l);
		return;
	}
	l->starting = true; /* the slots start; none may finish it yet */
	for (unsigned i = 0; i < LOAD_DEPTH; i++)
		load_next(l, i);
	l->starting = false;
	if (l->busy == 0)
		load_finish(l);
}

static void mounted(struct duet_kv *kv, int status, void *arg)
{
	struct loader *l = arg;
	int r;

	if (status < 0) {
		if (status == -EBADMSG)
			DUET_ERROR("kv",
				   "store: %s is neither blank nor a kv store "
				   "(or both its superblocks are damaged): "
				   "refusing to overwrite it",
				   duet_block_name(l->dev));
		else
			DUET_ERROR("kv", "store: mounting %s: %s",
				   duet_block_name(l->dev),
				   duet_strerror(status));
		l->status = status;
		load_finish(l);
		return;
	}
	l->s->kv = kv;
	struct duet_logstore_report rep;
	duet_logstore_report(kv, &rep);
	if (rep.damaged)
		DUET_WARN("kv",
			  "store: the log ended in a bad record (%s): %llu "
			  "records after it dropped",
			  rep.damage != NULL ? rep.damage : "damaged",
			  (unsigned long long)rep.dropped_records);
	if ((r = duet_kv_list(kv, &l->list, "", list_entry, listed, l)) < 0) {
		l->status = r;
		load_finish(l);
	}
}

static void formatted(void *arg, int status)
{
	struct loader *l = arg;
	int r;

	if (status < 0) {
		DUET_ERROR("kv", "store: formatting %s: %s",
			   duet_block_name(l->dev), duet_strerror(status));
		l->status = status;
		load_finish(l);
		return;
	}
	DUET_INFO("kv", "store: %s was blank: formatted",
		  duet_block_name(l->dev));
	if ((r = duet_logstore_mount(l->s->loop, l->dev, mounted, l)) < 0) {
		l->status = r;
		load_finish(l);
	}
}

static void head_read(struct duet_block_req *req, int status, void *arg)
{
	struct loader *l = arg;
	struct duet_block_info info;
	bool blank = true;
	int r;
	(void)req;

	duet_block_get_info(l->dev, &info);
	for (size_t i = 0; status == 0 && i < 2 * (size_t)info.sector_size; i++)
		blank &= l->sb[i] == 0;
	free(l->sb);
	l->sb = NULL;
	if (status < 0) {
		DUET_ERROR("kv", "store: reading %s: %s",
			   duet_block_name(l->dev), duet_strerror(status));
		l->status = status;
		load_finish(l);
		return;
	}
	r = blank ? duet_logstore_format(l->s->loop, l->dev, formatted, l)
		  : duet_logstore_mount(l->s->loop, l->dev, mounted, l);
	if (r < 0) {
		l->status = r;
		load_finish(l);
	}
}

int kv_store_open(struct kv_store *s, struct duet_loop *loop,
		  struct duet_block *dev, struct kv_db *db, bool durable,
		  void (*cb)(struct kv_store *s, int status, void *arg),
		  void *arg)
{
	struct duet_block_info info;
	struct loader *l;
	int r;

	memset(s, 0, sizeof(*s));
	s->mode = KV_STORE_LOG;
	s->durable = durable;
	s->loop = loop;
	s->db = db;
	duet_block_get_info(dev, &info);
	if (info.read_only) {
		DUET_ERROR("kv", "store: %s is read-only",
			   duet_block_name(dev));
		return -EROFS;
	}
	if (info.sector_count < 2 || (l = calloc(1, sizeof(*l))) == NULL)
		return info.sector_count < 2 ? -ENOSPC : -ENOMEM;
	l->s = s;
	l->dev = dev;
	l->cb = cb;
	l->arg = arg;
	l->sb = aligned_alloc(4096, ((2 * (size_t)info.sector_size + 4095) /
				     4096) * 4096);
	r = l->sb == NULL ? -ENOMEM
			  : duet_block_read(dev, &l->blk, 0, l->sb, 2,
					    head_read, l);
	if (r < 0) {
		free(l->sb);
		free(l);
	}
	return r;
}

void kv_store_open_memory(struct kv_store *s, struct kv_db *db)
{
	memset(s, 0, sizeof(*s));
	s->mode = KV_STORE_MEMORY;
	s->db = db;
}

void kv_store_close(struct kv_store *s)
{
	if (s->kv != NULL)
		duet_kv_close(s->kv);
	s->kv = NULL;
}
