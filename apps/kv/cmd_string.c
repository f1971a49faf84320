/* kv's string commands: GET, SET and their kin, counters, ranges, bits
 * (cmd_impl.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd_impl.h"

void kvc_get(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	kvc_reply_entry(c, kvc_lookup(c, &a[1]));
}

void kvc_set(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool nx = false, xx = false, get = false, keep = false, have_exp = false;
	int64_t at = 0;

	for (size_t i = 3; i < n; i++) {
		bool more = i + 1 < n;
		if (kvc_argeq(&a[i], "nx") && !xx) {
			nx = true;
		} else if (kvc_argeq(&a[i], "xx") && !nx) {
			xx = true;
		} else if (kvc_argeq(&a[i], "get")) {
			get = true;
		} else if (kvc_argeq(&a[i], "keepttl") && !have_exp) {
			keep = true;
		} else if (more && !keep && !have_exp &&
			   (kvc_argeq(&a[i], "ex") || kvc_argeq(&a[i], "px") ||
			    kvc_argeq(&a[i], "exat") ||
			    kvc_argeq(&a[i], "pxat"))) {
			bool ms = a[i].p[0] == 'p' || a[i].p[0] == 'P';
			bool abs = a[i].len == 4;
			if (!kvc_deadline(c, &a[i + 1], ms ? 1 : 1000, abs,
					  true, "set", &at))
				return;
			have_exp = true;
			i++;
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	if (!kvc_key_fits(c, &a[1]))
		return;
	struct kv_entry *old = kvc_lookup(c, &a[1]);
	if ((nx && old != NULL) || (xx && old == NULL)) {
		if (get)
			kvc_reply_entry(c, old);
		else
			kv_reply_null(c->out);
		return;
	}
	struct kv_buf prev = {0};
	if (get && old != NULL)
		kv_reply_bulk(&prev, old->val, old->vlen);
	if (!kvc_set_value(c, &a[1], &a[2], keep, at)) {
		kv_buf_free(&prev);
		return;
	}
	if (!get)
		kv_reply_ok(c->out);
	else if (old == NULL)
		kv_reply_null(c->out);
	else
		kv_buf_put(c->out, prev.p, prev.len);
	kv_buf_free(&prev);
}

void kvc_setnx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	if (!kvc_key_fits(c, &a[1]))
		return;
	if (kvc_lookup(c, &a[1]) != NULL) {
		kv_reply_int(c->out, 0);
		return;
	}
	if (kvc_set_value(c, &a[1], &a[2], false, 0))
		kv_reply_int(c->out, 1);
}

static void setex(struct kv_ctx *c, const struct kv_arg *a, long long unit,
		  const char *name)
{
	int64_t at;

	if (!kvc_deadline(c, &a[2], unit, false, true, name, &at) ||
	    !kvc_key_fits(c, &a[1]))
		return;
	kvc_lookup(c, &a[1]); /* drops an expired one */
	if (kvc_set_value(c, &a[1], &a[3], false, at))
		kv_reply_ok(c->out);
}

void kvc_setex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	setex(c, a, 1000, "setex");
}

void kvc_psetex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	setex(c, a, 1, "psetex");
}

void kvc_getset(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	if (!kvc_key_fits(c, &a[1]))
		return;
	struct kv_entry *old = kvc_lookup(c, &a[1]);
	struct kv_buf prev = {0};
	if (old != NULL)
		kv_reply_bulk(&prev, old->val, old->vlen);
	else
		kv_reply_null(&prev);
	if (kvc_set_value(c, &a[1], &a[2], false, 0))
		kv_buf_put(c->out, prev.p, prev.len);
	kv_buf_free(&prev);
}

void kvc_getdel(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	(void)n;

	kvc_reply_entry(c, e);
	if (e != NULL)
		kvc_delete(c, e);
}

void kvc_del(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long removed = 0;

	for (size_t i = 1; i < n; i++) {
		struct kv_entry *e = kvc_lookup(c, &a[i]);
		if (e != NULL) {
			kvc_delete(c, e);
			removed++;
		}
	}
	kv_reply_int(c->out, removed);
}

void kvc_exists(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long count = 0;

	for (size_t i = 1; i < n; i++)
		count += kvc_lookup(c, &a[i]) != NULL;
	kv_reply_int(c->out, count);
}

void kvc_mget(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	kv_reply_array(c->out, n - 1);
	for (size_t i = 1; i < n; i++)
		kvc_reply_entry(c, kvc_lookup(c, &a[i]));
}

static void mset(struct kv_ctx *c, const struct kv_arg *a, size_t n, bool nx)
{
	if (n % 2 == 0) {
		kv_reply_errorf(c->out,
				"ERR wrong number of arguments for '%s' "
				"command",
				nx ? "msetnx" : "mset");
		return;
	}
	for (size_t i = 1; i < n; i += 2)
		if (!kvc_key_fits(c, &a[i]))
			return;
	if (nx)
		for (size_t i = 1; i < n; i += 2)
			if (kvc_lookup(c, &a[i]) != NULL) {
				kv_reply_int(c->out, 0);
				return;
			}
	for (size_t i = 1; i < n; i += 2) {
		kvc_lookup(c, &a[i]);
		if (!kvc_set_value(c, &a[i], &a[i + 1], false, 0))
			return;
	}
	if (nx)
		kv_reply_int(c->out, 1);
	else
		kv_reply_ok(c->out);
}

void kvc_mset(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	mset(c, a, n, false);
}

void kvc_msetnx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	mset(c, a, n, true);
}

static void incr_by(struct kv_ctx *c, const struct kv_arg *k, long long by)
{
	struct kv_entry *e = kvc_lookup(c, k);
	long long v = 0;

	if (e != NULL && !kv_strtoll(e->val, e->vlen, &v)) {
		kv_reply_error(c->out, ERR_INT);
		return;
	}
	if ((by < 0 && v < LLONG_MIN - by) || (by > 0 && v > LLONG_MAX - by)) {
		kv_reply_error(c->out, ERR_OVERFLOW);
		return;
	}
	if (e == NULL && !kvc_key_fits(c, k))
		return;
	v += by;
	char num[24];
	struct kv_arg val = {(const uint8_t *)num,
			     (size_t)snprintf(num, sizeof(num), "%lld", v)};
	if (kvc_set_value(c, k, &val, true, 0))
		kv_reply_int(c->out, v);
}

void kvc_incr(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	incr_by(c, &a[1], 1);
}

void kvc_decr(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	incr_by(c, &a[1], -1);
}

void kvc_incrby(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long by;
	(void)n;

	if (kvc_arg_ll(c, &a[2], &by))
		incr_by(c, &a[1], by);
}

void kvc_decrby(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long by;
	(void)n;

	if (!kvc_arg_ll(c, &a[2], &by))
		return;
	if (by == LLONG_MIN) {
		kv_reply_error(c->out, "ERR decrement would overflow");
		return;
	}
	incr_by(c, &a[1], -by);
}

void kvc_append(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	bool created;
	(void)n;

	if ((e != NULL ? e->vlen : 0) + a[2].len > c->core->max_bulk) {
		kv_reply_error(c->out, ERR_BIG);
		return;
	}
	if (e == NULL && (!kvc_key_fits(c, &a[1]) ||
			  (e = kvc_upsert(c, &a[1], &created)) == NULL))
		return;
	if (!kv_db_append(&c->core->db, e, a[2].p, a[2].len)) {
		if (e->vlen == 0)
			kv_db_remove(&c->core->db, e);
		kvc_reply_oom(c);
		return;
	}
	kvc_write_through(c, e);
	kv_reply_int(c->out, (long long)e->vlen);
}

void kvc_strlen(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	(void)n;

	kv_reply_int(c->out, e != NULL ? (long long)e->vlen : 0);
}

void kvc_getrange(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long start, end;
	(void)n;

	if (!kvc_arg_ll(c, &a[2], &start) || !kvc_arg_ll(c, &a[3], &end))
		return;
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	long long len = e != NULL ? (long long)e->vlen : 0;
	if (start < 0 && end < 0 && start > end) {
		kv_reply_bulk(c->out, "", 0);
		return;
	}
	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = 0;
	if (end < 0)
		end = 0;
	if (end >= len)
		end = len - 1;
	if (len == 0 || start > end) {
		kv_reply_bulk(c->out, "", 0);
		return;
	}
	kv_reply_bulk(c->out, e->val + start, (size_t)(end - start + 1));
}

/* e (the live entry of key k, or NULL), made if absent and grown with
 * zero bytes to at least len; NULL (replied) if it cannot be. */
static struct kv_entry *at_least(struct kv_ctx *c, struct kv_entry *e,
				 const struct kv_arg *k, size_t len)
{
	bool created = false;

	if (e == NULL && (!kvc_key_fits(c, k) ||
			  (e = kvc_upsert(c, k, &created)) == NULL))
		return NULL;
	if (len > e->vlen && !kv_db_extend(&c->core->db, e, len)) {
		if (created)
			kv_db_remove(&c->core->db, e);
		kvc_reply_oom(c);
		return NULL;
	}
	return e;
}

void kvc_setrange(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long off;
	(void)n;

	if (!kvc_arg_ll(c, &a[2], &off))
		return;
	if (off < 0) {
		kv_reply_error(c->out, "ERR offset is out of range");
		return;
	}
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	if (a[3].len == 0) {
		kv_reply_int(c->out, e != NULL ? (long long)e->vlen : 0);
		return;
	}
	if ((unsigned long long)off + a[3].len > c->core->max_bulk) {
		kv_reply_error(c->out, ERR_BIG);
		return;
	}
	if ((e = at_least(c, e, &a[1], (size_t)off + a[3].len)) == NULL)
		return;
	memcpy(e->val + off, a[3].p, a[3].len);
	kvc_write_through(c, e);
	kv_reply_int(c->out, (long long)e->vlen);
}

/* GETEX key [EX s | PX ms | EXAT ts | PXAT ms | PERSIST] */
void kvc_getex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool persist_it = false, have = false;
	int64_t at = 0;

	for (size_t i = 2; i < n; i++) {
		if (kvc_argeq(&a[i], "persist") && !have) {
			persist_it = have = true;
		} else if (i + 1 < n && !have &&
			   (kvc_argeq(&a[i], "ex") || kvc_argeq(&a[i], "px") ||
			    kvc_argeq(&a[i], "exat") ||
			    kvc_argeq(&a[i], "pxat"))) {
			bool ms = a[i].p[0] == 'p' || a[i].p[0] == 'P';
			if (!kvc_deadline(c, &a[i + 1], ms ? 1 : 1000,
					  a[i].len == 4, true, "getex", &at))
				return;
			have = true;
			i++;
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	kvc_reply_entry(c, e);
	if (e == NULL || !have || (persist_it && e->expire_ms == 0))
		return;
	if (!persist_it && at <= kv_now_ms()) {
		kvc_delete(c, e);
		return;
	}
	kv_db_set_expiry(&c->core->db, e, persist_it ? 0 : at);
	kvc_write_through(c, e);
}

/* A bit offset within max_bulk bytes; false (replied) otherwise. */
static bool bit_offset(struct kv_ctx *c, const struct kv_arg *a,
		       long long *off)
{
	if (kv_strtoll(a->p, a->len, off) && *off >= 0 &&
	    (unsigned long long)*off / 8 < c->core->max_bulk)
		return true;
	kv_reply_error(c->out, "ERR bit offset is not an integer or out of range");
	return false;
}

void kvc_getbit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long off;
	(void)n;

	if (!bit_offset(c, &a[2], &off))
		return;
	struct kv_entry *e = kvc_lookup(c, &a[1]);
	size_t byte = (size_t)(off >> 3);
	int bit = e != NULL && byte < e->vlen
		      ? e->val[byte] >> (7 - (off & 7)) & 1
		      : 0;
	kv_reply_int(c->out, bit);
}

void kvc_setbit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long off, on;
	(void)n;

	if (!bit_offset(c, &a[2], &off))
		return;
	if (!kv_strtoll(a[3].p, a[3].len, &on) || (on != 0 && on != 1)) {
		kv_reply_error(c->out,
			       "ERR bit is not an integer or out of range");
		return;
	}
	size_t byte = (size_t)(off >> 3);
	struct kv_entry *e = at_least(c, kvc_lookup(c, &a[1]), &a[1], byte + 1);
	if (e == NULL)
		return;
	uint8_t mask = (uint8_t)(1u << (7 - (off & 7)));
	int old = (e->val[byte] & mask) != 0;
	e->val[byte] = (uint8_t)(on ? e->val[byte] | mask : e->val[byte] & ~mask);
	kvc_write_through(c, e);
	kv_reply_int(c->out, old);
}
