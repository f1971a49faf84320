/* kv's command helpers (cmd_impl.h). */
#include <limits.h>
#include <string.h>

#include "cmd_impl.h"

bool kvc_argeq(const struct kv_arg *a, const char *s)
{
	size_t n = strlen(s);
	if (a->len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = a->p[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)s[i])
			return false;
	}
	return true;
}

bool kvc_arg_ll(struct kv_ctx *c, const struct kv_arg *a, long long *v)
{
	if (kv_strtoll(a->p, a->len, v))
		return true;
	kv_reply_error(c->out, ERR_INT);
	return false;
}

struct kv_entry *kvc_lookup(struct kv_ctx *c, const struct kv_arg *k)
{
	return kv_db_lookup(&c->core->db, k->p, k->len, kv_now_ms());
}

void kvc_reply_entry(struct kv_ctx *c, const struct kv_entry *e)
{
	if (e == NULL)
		kv_reply_null(c->out);
	else
		kv_reply_bulk(c->out, e->val, e->vlen);
}

void kvc_reply_oom(struct kv_ctx *c)
{
	kv_reply_error(c->out, "OOM command not allowed when used memory > "
			       "'maxmemory'.");
}

bool kvc_key_fits(struct kv_ctx *c, const struct kv_arg *k)
{
	if (kv_store_key_fits(&c->core->store, k->p, k->len))
		return true;
	kv_reply_errorf(c->out,
			"ERR key too long for the store (at most %d bytes, "
			"fewer with bytes 0x00 and 0x01)",
			KV_STORE_KEY_MAX);
	return false;
}

/* The live entry of k, made if absent; NULL (replied) if out of memory. */
struct kv_entry *kvc_upsert(struct kv_ctx *c, const struct kv_arg *k,
			    bool *created)
{
	struct kv_entry *e = kv_db_upsert(&c->core->db, k->p, k->len, created);
	if (e == NULL)
		kvc_reply_oom(c);
	return e;
}

/* The ticket the command's writes carry: none when replies need not wait
 * (no disk, or durable=no). */
struct kv_ticket *kvc_ticket(struct kv_ctx *c)
{
	const struct kv_store *s = &c->core->store;
	return s->mode == KV_STORE_LOG && s->durable ? c->ticket(c) : NULL;
}

/* Writes e through, its reply waiting on the command's ticket. */
void kvc_write_through(struct kv_ctx *c, const struct kv_entry *e)
{
	kv_store_put(&c->core->store, e, kvc_ticket(c));
}

void kvc_delete(struct kv_ctx *c, struct kv_entry *e)
{
	kv_store_del(&c->core->store, e->key, e->klen, kvc_ticket(c));
	kv_db_remove(&c->core->db, e);
}

/* Sets k to v (with expiry at_ms, or keeping the old one); false and
 * replied if it cannot. */
bool kvc_set_value(struct kv_ctx *c, const struct kv_arg *k,
		   const struct kv_arg *v, bool keep_ttl, int64_t at_ms)
{
	bool created;
	struct kv_entry *e = kvc_upsert(c, k, &created);

	if (e == NULL)
		return false;
	if (!kv_db_set_value(&c->core->db, e, v->p, v->len)) {
		if (created)
			kv_db_remove(&c->core->db, e);
		kvc_reply_oom(c);
		return false;
	}
	if (!keep_ttl)
		kv_db_set_expiry(&c->core->db, e, at_ms);
	kvc_write_through(c, e);
	return true;
}

/* An expiry of `v` in `unit_ms` (relative unless absolute) as a wall-clock
 * deadline; false (replied, naming the command) if it is not one. */
bool kvc_deadline(struct kv_ctx *c, const struct kv_arg *v, long long unit,
		  bool absolute, bool positive, const char *cmdname,
		  int64_t *at)
{
	long long x;

	if (!kvc_arg_ll(c, v, &x))
		return false;
	if ((positive && x <= 0) || x > LLONG_MAX / unit ||
	    x < LLONG_MIN / unit)
		goto invalid;
	x *= unit;
	if (!absolute) {
		long long now = kv_now_ms();
		if (x > LLONG_MAX - now)
			goto invalid;
		x += now;
	}
	*at = x > 0 ? x : 1; /* 0 means none: the past is 1 */
	return true;
invalid:
	kv_reply_errorf(c->out, "ERR invalid expire time in '%s' command",
			cmdname);
	return false;
}
