/* kv's keyspace commands: renames and copies, KEYS and SCAN, expiry
 * (cmd_impl.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <duet/entropy.h>

#include "cmd_impl.h"

/* Copies src's value and expiry to the key dst (made if absent): the
 * entry of dst, or NULL (replied) if it cannot. */
static struct kv_entry *copy_to(struct kv_ctx *c, const struct kv_entry *src,
				const struct kv_arg *dst)
{
	bool created;
	struct kv_entry *d;

	if (!kvc_key_fits(c, dst) || (d = kvc_upsert(c, dst, &created)) == NULL)
		return NULL;
	if (!kv_db_set_value(&c->core->db, d, src->val, src->vlen)) {
		if (created)
			kv_db_remove(&c->core->db, d);
		kvc_reply_oom(c);
		return NULL;
	}
	kv_db_set_expiry(&c->core->db, d, src->expire_ms);
	kvc_write_through(c, d);
	return d;
}

static bool same_key(const struct kv_arg *x, const struct kv_arg *y)
{
	return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static void rename_key(struct kv_ctx *c, const struct kv_arg *a, bool nx)
{
	struct kv_entry *src = kvc_lookup(c, &a[1]);

	if (src == NULL) {
		kv_reply_error(c->out, "ERR no such key");
		return;
	}
	if (same_key(&a[1], &a[2])) {
		if (nx)
			kv_reply_int(c->out, 0);
		else
			kv_reply_ok(c->out);
		return;
	}
	if (nx && kvc_lookup(c, &a[2]) != NULL) {
		kv_reply_int(c->out, 0);
		return;
	}
	kvc_lookup(c, &a[2]); /* drops an expired one */
	if (copy_to(c, src, &a[2]) == NULL)
		return;
	/* The table may have grown: find the source again. */
	kvc_delete(c, kv_db_lookup(&c->core->db, a[1].p, a[1].len, INT64_MIN));
	if (nx)
		kv_reply_int(c->out, 1);
	else
		kv_reply_ok(c->out);
}

void kvc_rename(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	rename_key(c, a, false);
}

void kvc_renamenx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	rename_key(c, a, true);
}

/* COPY source destination [DB 0] [REPLACE] */
void kvc_copy(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool replace = false;
	long long db;

	for (size_t i = 3; i < n; i++) {
		if (kvc_argeq(&a[i], "replace")) {
			replace = true;
		} else if (kvc_argeq(&a[i], "db") && i + 1 < n) {
			if (!kvc_arg_ll(c, &a[++i], &db))
				return;
			if (db != 0) {
				kv_reply_error(c->out,
					       "ERR DB index is out of range");
				return;
			}
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	if (same_key(&a[1], &a[2])) {
		kv_reply_error(c->out,
			       "ERR source and destination objects are the same");
		return;
	}
	struct kv_entry *src = kvc_lookup(c, &a[1]);
	if (src == NULL || (!replace && kvc_lookup(c, &a[2]) != NULL)) {
		kv_reply_int(c->out, 0);
		return;
	}
	kvc_lookup(c, &a[2]);
	if (copy_to(c, src, &a[2]) != NULL)
		kv_reply_int(c->out, 1);
}

static void pick_first(struct kv_entry *e, void *arg)
{
	struct kv_entry **out = arg;
	if (*out == NULL)
		*out = e;
}

void kvc_randomkey(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_db *db = &c->core->db;
	int64_t now = kv_now_ms();
	(void)a;
	(void)n;

	/* A random bucket, then the next non-empty ones; expired keys met
	 * on the way are dropped (a few tries, as Redis bounds its own). */
	for (int tries = 0; tries < 100 && db->count > 0; tries++) {
		uint64_t r;
		struct kv_entry *e = NULL;
		duet_entropy(&r, sizeof(r));
		uint64_t cursor = r & db->mask;
		while (e == NULL) {
			cursor = kv_db_scan(db, cursor, 1, pick_first, &e);
		}
		if (kv_db_lookup(db, e->key, e->klen, now) != NULL) {
			kv_reply_bulk(c->out, e->key, e->klen);
			return;
		}
	}
	kv_reply_null(c->out);
}

void kvc_type(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	kv_reply_status(c->out,
			kvc_lookup(c, &a[1]) != NULL ? "string" : "none");
}

struct collect {
	struct kv_ctx *c;
	const struct kv_arg *match; /* NULL: every key */
	int64_t now;
	bool strings_only_none; /* TYPE other than string: nothing matches */
	struct kv_buf keys;
	size_t count;
};

static void collect_key(struct kv_entry *e, void *arg)
{
	struct collect *k = arg;

	if (k->strings_only_none || (e->expire_ms != 0 && e->expire_ms <= k->now))
		return;
	if (k->match != NULL &&
	    !kv_glob(k->match->p, k->match->len, e->key, e->klen))
		return;
	kv_reply_bulk(&k->keys, e->key, e->klen);
	k->count++;
}

static void reply_collected(struct kv_ctx *c, struct collect *k)
{
	if (k->keys.failed) {
		kvc_reply_oom(c);
	} else {
		kv_reply_array(c->out, k->count);
		kv_buf_put(c->out, k->keys.p, k->keys.len);
	}
	kv_buf_free(&k->keys);
}

void kvc_keys(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct collect k = {.c = c, .now = kv_now_ms()};
	uint64_t cursor = 0;
	(void)n;

	if (!(a[1].len == 1 && a[1].p[0] == '*'))
		k.match = &a[1];
	do
		cursor = kv_db_scan(&c->core->db, cursor, SIZE_MAX,
				    collect_key, &k);
	while (cursor != 0);
	reply_collected(c, &k);
}

void kvc_scan(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct collect k = {.c = c, .now = kv_now_ms()};
	unsigned long long cursor = 0;
	long long count = 10;

	for (size_t i = 0; i < a[1].len; i++) {
		unsigned d = (unsigned)(a[1].p[i] - '0');
		if (d > 9 || cursor > (ULLONG_MAX - d) / 10 || a[1].len > 20) {
			kv_reply_error(c->out, "ERR invalid cursor");
			return;
		}
		cursor = cursor * 10 + d;
	}
	if (a[1].len == 0) {
		kv_reply_error(c->out, "ERR invalid cursor");
		return;
	}
	for (size_t i = 2; i < n; i += 2) {
		if (i + 1 >= n) {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
		if (kvc_argeq(&a[i], "count")) {
			if (!kvc_arg_ll(c, &a[i + 1], &count))
				return;
			if (count < 1) {
				kv_reply_error(c->out, ERR_SYNTAX);
				return;
			}
		} else if (kvc_argeq(&a[i], "match")) {
			if (!(a[i + 1].len == 1 && a[i + 1].p[0] == '*'))
				k.match = &a[i + 1];
		} else if (kvc_argeq(&a[i], "type")) {
			k.strings_only_none = !kvc_argeq(&a[i + 1], "string");
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	uint64_t next = kv_db_scan(&c->core->db, cursor, (size_t)count,
				   collect_key, &k);
	char num[24];
	kv_reply_array(c->out, 2);
	kv_reply_bulk(c->out, num,
		      (size_t)snprintf(num, sizeof(num), "%llu",
				       (unsigned long long)next));
	reply_collected(c, &k);
}

void kvc_dbsize(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)a;
	(void)n;
	kv_reply_int(c->out, (long long)c->core->db.count);
}

static void delete_key(struct kv_entry *e, void *arg)
{
	struct kv_ctx *c = arg;
	kv_store_del(&c->core->store, e->key, e->klen, kvc_ticket(c));
}

void kvc_flushdb(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	uint64_t cursor = 0;

	if (n > 2 || (n == 2 && !kvc_argeq(&a[1], "sync") &&
		      !kvc_argeq(&a[1], "async"))) {
		kv_reply_error(c->out, ERR_SYNTAX);
		return;
	}
	do
		cursor = kv_db_scan(&c->core->db, cursor, SIZE_MAX, delete_key,
				    c);
	while (cursor != 0);
	kv_db_flush(&c->core->db);
	kv_reply_ok(c->out);
}

static void expire(struct kv_ctx *c, const struct kv_arg *a, size_t n,
		   long long unit, bool absolute, const char *name)
{
	bool nx = false, xx = false, gt = false, lt = false;
	int64_t at;

	for (size_t i = 3; i < n; i++) {
		if (kvc_argeq(&a[i], "nx"))
			nx = true;
		else if (kvc_argeq(&a[i], "xx"))
			xx = true;
		else if (kvc_argeq(&a[i], "gt"))
			gt = true;
		else if (kvc_argeq(&a[i], "lt"))
			lt = true;
		else {
			kv_reply_errorf(c->out, "ERR Unsupported option %.*s",
					(int)(a[i].len > 64 ? 64 : a[i].len),
					a[i].p);
			return;
		}
	}
	if (nx && (xx || gt || lt)) {
		kv_reply_error(c->out, "ERR NX and XX, GT or LT options at the "
				       "same time are not compatible");
		return;
	}
	if (gt && lt) {
		kv_reply_error(c->out, "ERR GT and LT options at the same time "
				       "are not compatible");
		return;
	}
	if (!kvc_deadline(c, &a[2], unit, absolute, false, name, &at))
		return;
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	if (e == NULL) {
		kv_reply_int(c->out, 0);
		return;
	}
	int64_t cur = e->expire_ms; /* 0: none, which counts as infinite */
	if ((nx && cur != 0) || (xx && cur == 0) ||
	    (gt && (cur == 0 || at <= cur)) || (lt && cur != 0 && at >= cur)) {
		kv_reply_int(c->out, 0);
		return;
	}
	if (at <= kv_now_ms())
		kvc_delete(c, e);
	else {
		kv_db_set_expiry(&c->core->db, e, at);
		kvc_write_through(c, e);
	}
	kv_reply_int(c->out, 1);
}

void kvc_expire(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1000, false, "expire");
}

void kvc_pexpire(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1, false, "pexpire");
}

void kvc_expireat(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1000, true, "expireat");
}

void kvc_pexpireat(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1, true, "pexpireat");
}

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 no key, -1 no expiry. */
static void ttl(struct kv_ctx *c, const struct kv_arg *k, bool ms, bool at)
{
	int64_t now = kv_now_ms();
	struct kv_entry *e = kv_db_lookup(&c->core->db, k->p, k->len, now);

	if (e == NULL || e->expire_ms == 0) {
		kv_reply_int(c->out, e == NULL ? -2 : -1);
		return;
	}
	long long v = at ? e->expire_ms : e->expire_ms - now;
	kv_reply_int(c->out, ms ? v : (v + (at ? 0 : 500)) / 1000);
}

void kvc_ttl(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], false, false);
}

void kvc_pttl(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], true, false);
}

void kvc_expiretime(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], false, true);
}

void kvc_pexpiretime(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], true, true);
}

void kvc_persist(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	(void)n;

	if (e == NULL || e->expire_ms == 0) {
		kv_reply_int(c->out, 0);
		return;
	}
	kv_db_set_expiry(&c->core->db, e, 0);
	kvc_write_through(c, e);
	kv_reply_int(c->out, 1);
}
