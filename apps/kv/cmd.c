/* kv's commands (cmd.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/buildinfo.h>
#include <duet/entropy.h>
#include <duet/error.h>

#include "cmd.h"

#define ERR_INT "ERR value is not an integer or out of range"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_BIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

void kv_on_expire(struct kv_db *db, struct kv_entry *e, void *arg)
{
	struct kv_core *core = arg;
	(void)db;

	kv_store_del(&core->store, e->key, e->klen, NULL);
}

/* ------------------------------------------------------------ helpers */

struct cmd;
typedef void (*cmd_fn)(struct kv_ctx *c, const struct kv_arg *a, size_t n);

struct cmd {
	const char *name;
	int arity; /* n: exactly n arguments, name included; -n: at least n */
	unsigned flags;
	int first_key, last_key, step; /* for COMMAND */
	cmd_fn fn;
};

#define WRITE 1u
#define READONLY 2u
#define FAST 4u

static bool argeq(const struct kv_arg *a, const char *s)
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

static bool arg_ll(struct kv_ctx *c, const struct kv_arg *a, long long *v)
{
	if (kv_strtoll(a->p, a->len, v))
		return true;
	kv_reply_error(c->out, ERR_INT);
	return false;
}

static struct kv_entry *lookup(struct kv_ctx *c, const struct kv_arg *k)
{
	return kv_db_lookup(&c->core->db, k->p, k->len, kv_now_ms());
}

static void reply_entry(struct kv_ctx *c, const struct kv_entry *e)
{
	if (e == NULL)
		kv_reply_null(c->out);
	else
		kv_reply_bulk(c->out, e->val, e->vlen);
}

static void reply_oom(struct kv_ctx *c)
{
	kv_reply_error(c->out, "OOM command not allowed when used memory > "
			       "'maxmemory'.");
}

static bool key_fits(struct kv_ctx *c, const struct kv_arg *k)
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
static struct kv_entry *upsert(struct kv_ctx *c, const struct kv_arg *k,
			       bool *created)
{
	struct kv_entry *e = kv_db_upsert(&c->core->db, k->p, k->len, created);
	if (e == NULL)
		reply_oom(c);
	return e;
}

/* The ticket the command's writes carry: none when replies need not wait
 * (no disk, or durable=no). */
static struct kv_ticket *ticket(struct kv_ctx *c)
{
	const struct kv_store *s = &c->core->store;
	return s->mode == KV_STORE_LOG && s->durable ? c->ticket(c) : NULL;
}

/* Writes e through, its reply waiting on the command's ticket. */
static void persist(struct kv_ctx *c, const struct kv_entry *e)
{
	kv_store_put(&c->core->store, e, ticket(c));
}

static void delete(struct kv_ctx *c, struct kv_entry *e)
{
	kv_store_del(&c->core->store, e->key, e->klen, ticket(c));
	kv_db_remove(&c->core->db, e);
}

/* Sets k to v (with expiry at_ms, or keeping the old one); false and
 * replied if it cannot. */
static bool set_value(struct kv_ctx *c, const struct kv_arg *k,
		      const struct kv_arg *v, bool keep_ttl, int64_t at_ms)
{
	bool created;
	struct kv_entry *e = upsert(c, k, &created);

	if (e == NULL)
		return false;
	if (!kv_db_set_value(&c->core->db, e, v->p, v->len)) {
		if (created)
			kv_db_remove(&c->core->db, e);
		reply_oom(c);
		return false;
	}
	if (!keep_ttl)
		kv_db_set_expiry(&c->core->db, e, at_ms);
	persist(c, e);
	return true;
}

/* An expiry of `v` in `unit_ms` (relative unless absolute) as a wall-clock
 * deadline; false (replied, naming the command) if it is not one. */
static bool deadline(struct kv_ctx *c, const struct kv_arg *v, long long unit,
		     bool absolute, bool positive, const char *cmdname,
		     int64_t *at)
{
	long long x;

	if (!arg_ll(c, v, &x))
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

/* ----------------------------------------------------- connection */

static void cmd_ping(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (n > 2) {
		kv_reply_error(c->out,
			       "ERR wrong number of arguments for 'ping' "
			       "command");
		return;
	}
	if (n == 2)
		kv_reply_bulk(c->out, a[1].p, a[1].len);
	else
		kv_reply_status(c->out, "PONG");
}

static void cmd_echo(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	kv_reply_bulk(c->out, a[1].p, a[1].len);
}

static void cmd_quit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)a;
	(void)n;
	kv_reply_ok(c->out);
	c->client->quit = true;
}

static void cmd_select(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long db;
	(void)n;

	if (!arg_ll(c, &a[1], &db))
		return;
	if (db != 0)
		kv_reply_error(c->out, "ERR DB index is out of range");
	else
		kv_reply_ok(c->out);
}

static void hello_reply(struct kv_ctx *c)
{
	kv_reply_array(c->out, 14);
	kv_reply_bulk_str(c->out, "server");
	kv_reply_bulk_str(c->out, "redis");
	kv_reply_bulk_str(c->out, "version");
	kv_reply_bulk_str(c->out, KV_VERSION);
	kv_reply_bulk_str(c->out, "proto");
	kv_reply_int(c->out, 2);
	kv_reply_bulk_str(c->out, "id");
	kv_reply_int(c->out, (long long)c->client->id);
	kv_reply_bulk_str(c->out, "mode");
	kv_reply_bulk_str(c->out, "standalone");
	kv_reply_bulk_str(c->out, "role");
	kv_reply_bulk_str(c->out, "master");
	kv_reply_bulk_str(c->out, "modules");
	kv_reply_array(c->out, 0);
}

static bool valid_name(const struct kv_arg *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->p[i] < '!' || a->p[i] > '~')
			return false;
	return true;
}

static bool set_name(struct kv_ctx *c, const struct kv_arg *a)
{
	if (!valid_name(a)) {
		kv_reply_error(c->out,
			       "ERR Client names cannot contain spaces, "
			       "newlines or special characters.");
		return false;
	}
	char *name = NULL;
	if (a->len > 0) {
		if ((name = malloc(a->len + 1)) == NULL) {
			reply_oom(c);
			return false;
		}
		memcpy(name, a->p, a->len);
		name[a->len] = '\0';
	}
	free(c->client->name);
	c->client->name = name;
	return true;
}

static void cmd_hello(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	size_t i = 1;

	if (n > 1) {
		long long proto;
		if (!kv_strtoll(a[1].p, a[1].len, &proto)) {
			kv_reply_error(c->out, "ERR Protocol version is not an "
					       "integer or out of range");
			return;
		}
		if (proto != 2) {
			kv_reply_error(c->out,
				       "NOPROTO unsupported protocol version");
			return;
		}
		i = 2;
	}
	for (; i < n; i++) {
		if (argeq(&a[i], "setname") && i + 1 < n) {
			if (!set_name(c, &a[++i]))
				return;
		} else if (argeq(&a[i], "auth") && i + 2 < n) {
			kv_reply_error(c->out,
				       "ERR AUTH <password> called without any "
				       "password configured for the default "
				       "user. Are you sure your configuration "
				       "is correct?");
			return;
		} else {
			kv_reply_errorf(c->out, "ERR Syntax error in HELLO "
						"option '%.*s'",
					(int)(a[i].len > 128 ? 128 : a[i].len),
					a[i].p);
			return;
		}
	}
	hello_reply(c);
}

static void cmd_client(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (argeq(&a[1], "setname") && n == 3) {
		if (set_name(c, &a[2]))
			kv_reply_ok(c->out);
	} else if (argeq(&a[1], "getname") && n == 2) {
		if (c->client->name == NULL)
			kv_reply_null(c->out);
		else
			kv_reply_bulk_str(c->out, c->client->name);
	} else if (argeq(&a[1], "id") && n == 2) {
		kv_reply_int(c->out, (long long)c->client->id);
	} else if (argeq(&a[1], "setinfo") && n == 4) {
		kv_reply_ok(c->out); /* clients announce their library */
	} else if (argeq(&a[1], "setname") || argeq(&a[1], "getname") ||
		   argeq(&a[1], "id") || argeq(&a[1], "setinfo")) {
		kv_reply_errorf(c->out,
				"ERR wrong number of arguments for 'client|%s' "
				"command",
				argeq(&a[1], "setname")	  ? "setname"
				: argeq(&a[1], "getname") ? "getname"
				: argeq(&a[1], "id")	  ? "id"
							  : "setinfo");
	} else {
		kv_reply_errorf(c->out,
				"ERR unknown subcommand '%.*s'. Try CLIENT "
				"HELP.",
				(int)(a[1].len > 128 ? 128 : a[1].len), a[1].p);
	}
}

/* ------------------------------------------------------------ strings */

static void cmd_get(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	reply_entry(c, lookup(c, &a[1]));
}

static void cmd_set(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool nx = false, xx = false, get = false, keep = false, have_exp = false;
	int64_t at = 0;

	for (size_t i = 3; i < n; i++) {
		bool more = i + 1 < n;
		if (argeq(&a[i], "nx") && !xx) {
			nx = true;
		} else if (argeq(&a[i], "xx") && !nx) {
			xx = true;
		} else if (argeq(&a[i], "get")) {
			get = true;
		} else if (argeq(&a[i], "keepttl") && !have_exp) {
			keep = true;
		} else if (more && !keep && !have_exp &&
			   (argeq(&a[i], "ex") || argeq(&a[i], "px") ||
			    argeq(&a[i], "exat") || argeq(&a[i], "pxat"))) {
			bool ms = a[i].p[0] == 'p' || a[i].p[0] == 'P';
			bool abs = a[i].len == 4;
			if (!deadline(c, &a[i + 1], ms ? 1 : 1000, abs, true,
				      "set", &at))
				return;
			have_exp = true;
			i++;
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	if (!key_fits(c, &a[1]))
		return;
	struct kv_entry *old = lookup(c, &a[1]);
	if ((nx && old != NULL) || (xx && old == NULL)) {
		if (get)
			reply_entry(c, old);
		else
			kv_reply_null(c->out);
		return;
	}
	struct kv_buf prev = {0};
	if (get && old != NULL)
		kv_reply_bulk(&prev, old->val, old->vlen);
	if (!set_value(c, &a[1], &a[2], keep, at)) {
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

static void cmd_setnx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	if (!key_fits(c, &a[1]))
		return;
	if (lookup(c, &a[1]) != NULL) {
		kv_reply_int(c->out, 0);
		return;
	}
	if (set_value(c, &a[1], &a[2], false, 0))
		kv_reply_int(c->out, 1);
}

static void setex(struct kv_ctx *c, const struct kv_arg *a, long long unit,
		  const char *name)
{
	int64_t at;

	if (!deadline(c, &a[2], unit, false, true, name, &at) ||
	    !key_fits(c, &a[1]))
		return;
	lookup(c, &a[1]); /* drops an expired one */
	if (set_value(c, &a[1], &a[3], false, at))
		kv_reply_ok(c->out);
}

static void cmd_setex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	setex(c, a, 1000, "setex");
}

static void cmd_psetex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	setex(c, a, 1, "psetex");
}

static void cmd_getset(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	if (!key_fits(c, &a[1]))
		return;
	struct kv_entry *old = lookup(c, &a[1]);
	struct kv_buf prev = {0};
	if (old != NULL)
		kv_reply_bulk(&prev, old->val, old->vlen);
	else
		kv_reply_null(&prev);
	if (set_value(c, &a[1], &a[2], false, 0))
		kv_buf_put(c->out, prev.p, prev.len);
	kv_buf_free(&prev);
}

static void cmd_getdel(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = lookup(c, &a[1]);
	(void)n;

	reply_entry(c, e);
	if (e != NULL)
		delete(c, e);
}

static void cmd_del(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long removed = 0;

	for (size_t i = 1; i < n; i++) {
		struct kv_entry *e = lookup(c, &a[i]);
		if (e != NULL) {
			delete(c, e);
			removed++;
		}
	}
	kv_reply_int(c->out, removed);
}

static void cmd_exists(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long count = 0;

	for (size_t i = 1; i < n; i++)
		count += lookup(c, &a[i]) != NULL;
	kv_reply_int(c->out, count);
}

static void cmd_mget(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	kv_reply_array(c->out, n - 1);
	for (size_t i = 1; i < n; i++)
		reply_entry(c, lookup(c, &a[i]));
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
		if (!key_fits(c, &a[i]))
			return;
	if (nx)
		for (size_t i = 1; i < n; i += 2)
			if (lookup(c, &a[i]) != NULL) {
				kv_reply_int(c->out, 0);
				return;
			}
	for (size_t i = 1; i < n; i += 2) {
		lookup(c, &a[i]);
		if (!set_value(c, &a[i], &a[i + 1], false, 0))
			return;
	}
	if (nx)
		kv_reply_int(c->out, 1);
	else
		kv_reply_ok(c->out);
}

static void cmd_mset(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	mset(c, a, n, false);
}

static void cmd_msetnx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	mset(c, a, n, true);
}

static void incr_by(struct kv_ctx *c, const struct kv_arg *k, long long by)
{
	struct kv_entry *e = lookup(c, k);
	long long v = 0;

	if (e != NULL && !kv_strtoll(e->val, e->vlen, &v)) {
		kv_reply_error(c->out, ERR_INT);
		return;
	}
	if ((by < 0 && v < LLONG_MIN - by) || (by > 0 && v > LLONG_MAX - by)) {
		kv_reply_error(c->out, ERR_OVERFLOW);
		return;
	}
	if (e == NULL && !key_fits(c, k))
		return;
	v += by;
	char num[24];
	struct kv_arg val = {(const uint8_t *)num,
			     (size_t)snprintf(num, sizeof(num), "%lld", v)};
	if (set_value(c, k, &val, true, 0))
		kv_reply_int(c->out, v);
}

static void cmd_incr(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	incr_by(c, &a[1], 1);
}

static void cmd_decr(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	incr_by(c, &a[1], -1);
}

static void cmd_incrby(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long by;
	(void)n;

	if (arg_ll(c, &a[2], &by))
		incr_by(c, &a[1], by);
}

static void cmd_decrby(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long by;
	(void)n;

	if (!arg_ll(c, &a[2], &by))
		return;
	if (by == LLONG_MIN) {
		kv_reply_error(c->out, "ERR decrement would overflow");
		return;
	}
	incr_by(c, &a[1], -by);
}

static void cmd_append(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = lookup(c, &a[1]);
	bool created;
	(void)n;

	if ((e != NULL ? e->vlen : 0) + a[2].len > c->core->max_bulk) {
		kv_reply_error(c->out, ERR_BIG);
		return;
	}
	if (e == NULL && (!key_fits(c, &a[1]) ||
			  (e = upsert(c, &a[1], &created)) == NULL))
		return;
	if (!kv_db_append(&c->core->db, e, a[2].p, a[2].len)) {
		if (e->vlen == 0)
			kv_db_remove(&c->core->db, e);
		reply_oom(c);
		return;
	}
	persist(c, e);
	kv_reply_int(c->out, (long long)e->vlen);
}

static void cmd_strlen(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = lookup(c, &a[1]);
	(void)n;

	kv_reply_int(c->out, e != NULL ? (long long)e->vlen : 0);
}

static void cmd_getrange(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long start, end;
	(void)n;

	if (!arg_ll(c, &a[2], &start) || !arg_ll(c, &a[3], &end))
		return;
	struct kv_entry *e = lookup(c, &a[1]);
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

	if (e == NULL && (!key_fits(c, k) || (e = upsert(c, k, &created)) == NULL))
		return NULL;
	if (len > e->vlen && !kv_db_extend(&c->core->db, e, len)) {
		if (created)
			kv_db_remove(&c->core->db, e);
		reply_oom(c);
		return NULL;
	}
	return e;
}

static void cmd_setrange(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long off;
	(void)n;

	if (!arg_ll(c, &a[2], &off))
		return;
	if (off < 0) {
		kv_reply_error(c->out, "ERR offset is out of range");
		return;
	}
	struct kv_entry *e = lookup(c, &a[1]);
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
	persist(c, e);
	kv_reply_int(c->out, (long long)e->vlen);
}

/* GETEX key [EX s | PX ms | EXAT ts | PXAT ms | PERSIST] */
static void cmd_getex(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool persist_it = false, have = false;
	int64_t at = 0;

	for (size_t i = 2; i < n; i++) {
		if (argeq(&a[i], "persist") && !have) {
			persist_it = have = true;
		} else if (i + 1 < n && !have &&
			   (argeq(&a[i], "ex") || argeq(&a[i], "px") ||
			    argeq(&a[i], "exat") || argeq(&a[i], "pxat"))) {
			bool ms = a[i].p[0] == 'p' || a[i].p[0] == 'P';
			if (!deadline(c, &a[i + 1], ms ? 1 : 1000, a[i].len == 4,
				      true, "getex", &at))
				return;
			have = true;
			i++;
		} else {
			kv_reply_error(c->out, ERR_SYNTAX);
			return;
		}
	}
	struct kv_entry *e = lookup(c, &a[1]);
	reply_entry(c, e);
	if (e == NULL || !have || (persist_it && e->expire_ms == 0))
		return;
	if (!persist_it && at <= kv_now_ms()) {
		delete(c, e);
		return;
	}
	kv_db_set_expiry(&c->core->db, e, persist_it ? 0 : at);
	persist(c, e);
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

static void cmd_getbit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long off;
	(void)n;

	if (!bit_offset(c, &a[2], &off))
		return;
	struct kv_entry *e = lookup(c, &a[1]);
	size_t byte = (size_t)(off >> 3);
	int bit = e != NULL && byte < e->vlen
		      ? e->val[byte] >> (7 - (off & 7)) & 1
		      : 0;
	kv_reply_int(c->out, bit);
}

static void cmd_setbit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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
	struct kv_entry *e = at_least(c, lookup(c, &a[1]), &a[1], byte + 1);
	if (e == NULL)
		return;
	uint8_t mask = (uint8_t)(1u << (7 - (off & 7)));
	int old = (e->val[byte] & mask) != 0;
	e->val[byte] = (uint8_t)(on ? e->val[byte] | mask : e->val[byte] & ~mask);
	persist(c, e);
	kv_reply_int(c->out, old);
}

/* ----------------------------------------------------------- keyspace */

/* Copies src's value and expiry to the key dst (made if absent): the
 * entry of dst, or NULL (replied) if it cannot. */
static struct kv_entry *copy_to(struct kv_ctx *c, const struct kv_entry *src,
				const struct kv_arg *dst)
{
	bool created;
	struct kv_entry *d;

	if (!key_fits(c, dst) || (d = upsert(c, dst, &created)) == NULL)
		return NULL;
	if (!kv_db_set_value(&c->core->db, d, src->val, src->vlen)) {
		if (created)
			kv_db_remove(&c->core->db, d);
		reply_oom(c);
		return NULL;
	}
	kv_db_set_expiry(&c->core->db, d, src->expire_ms);
	persist(c, d);
	return d;
}

static bool same_key(const struct kv_arg *x, const struct kv_arg *y)
{
	return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static void rename_key(struct kv_ctx *c, const struct kv_arg *a, bool nx)
{
	struct kv_entry *src = lookup(c, &a[1]);

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
	if (nx && lookup(c, &a[2]) != NULL) {
		kv_reply_int(c->out, 0);
		return;
	}
	lookup(c, &a[2]); /* drops an expired one */
	if (copy_to(c, src, &a[2]) == NULL)
		return;
	/* The table may have grown: find the source again. */
	delete(c, kv_db_lookup(&c->core->db, a[1].p, a[1].len, INT64_MIN));
	if (nx)
		kv_reply_int(c->out, 1);
	else
		kv_reply_ok(c->out);
}

static void cmd_rename(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	rename_key(c, a, false);
}

static void cmd_renamenx(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	rename_key(c, a, true);
}

/* COPY source destination [DB 0] [REPLACE] */
static void cmd_copy(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	bool replace = false;
	long long db;

	for (size_t i = 3; i < n; i++) {
		if (argeq(&a[i], "replace")) {
			replace = true;
		} else if (argeq(&a[i], "db") && i + 1 < n) {
			if (!arg_ll(c, &a[++i], &db))
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
	struct kv_entry *src = lookup(c, &a[1]);
	if (src == NULL || (!replace && lookup(c, &a[2]) != NULL)) {
		kv_reply_int(c->out, 0);
		return;
	}
	lookup(c, &a[2]);
	if (copy_to(c, src, &a[2]) != NULL)
		kv_reply_int(c->out, 1);
}

static void pick_first(struct kv_entry *e, void *arg)
{
	struct kv_entry **out = arg;
	if (*out == NULL)
		*out = e;
}

static void cmd_randomkey(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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

static void cmd_type(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	kv_reply_status(c->out, lookup(c, &a[1]) != NULL ? "string" : "none");
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
		reply_oom(c);
	} else {
		kv_reply_array(c->out, k->count);
		kv_buf_put(c->out, k->keys.p, k->keys.len);
	}
	kv_buf_free(&k->keys);
}

static void cmd_keys(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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

static void cmd_scan(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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
		if (argeq(&a[i], "count")) {
			if (!arg_ll(c, &a[i + 1], &count))
				return;
			if (count < 1) {
				kv_reply_error(c->out, ERR_SYNTAX);
				return;
			}
		} else if (argeq(&a[i], "match")) {
			if (!(a[i + 1].len == 1 && a[i + 1].p[0] == '*'))
				k.match = &a[i + 1];
		} else if (argeq(&a[i], "type")) {
			k.strings_only_none = !argeq(&a[i + 1], "string");
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

static void cmd_dbsize(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)a;
	(void)n;
	kv_reply_int(c->out, (long long)c->core->db.count);
}

static void delete_key(struct kv_entry *e, void *arg)
{
	struct kv_ctx *c = arg;
	kv_store_del(&c->core->store, e->key, e->klen, ticket(c));
}

static void cmd_flushdb(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	uint64_t cursor = 0;

	if (n > 2 || (n == 2 && !argeq(&a[1], "sync") && !argeq(&a[1], "async"))) {
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
		if (argeq(&a[i], "nx"))
			nx = true;
		else if (argeq(&a[i], "xx"))
			xx = true;
		else if (argeq(&a[i], "gt"))
			gt = true;
		else if (argeq(&a[i], "lt"))
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
	if (!deadline(c, &a[2], unit, absolute, false, name, &at))
		return;
	struct kv_entry *e = lookup(c, &a[1]);
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
		delete(c, e);
	else {
		kv_db_set_expiry(&c->core->db, e, at);
		persist(c, e);
	}
	kv_reply_int(c->out, 1);
}

static void cmd_expire(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1000, false, "expire");
}

static void cmd_pexpire(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1, false, "pexpire");
}

static void cmd_expireat(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	expire(c, a, n, 1000, true, "expireat");
}

static void cmd_pexpireat(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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

static void cmd_ttl(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], false, false);
}

static void cmd_pttl(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], true, false);
}

static void cmd_expiretime(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	ttl(c, &a[1], false, true);
}

static void cmd_pexpiretime(struct kv_ctx *c, const struct kv_arg *a,
			    size_t n)
{
	(void)n;
	ttl(c, &a[1], true, true);
}

static void cmd_persist(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_entry *e = lookup(c, &a[1]);
	(void)n;

	if (e == NULL || e->expire_ms == 0) {
		kv_reply_int(c->out, 0);
		return;
	}
	kv_db_set_expiry(&c->core->db, e, 0);
	persist(c, e);
	kv_reply_int(c->out, 1);
}

/* ------------------------------------------------------------- server */

static void cmd_time(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	duet_time_t now = duet_clock_wall();
	char s[24], us[24];
	(void)a;
	(void)n;

	kv_reply_array(c->out, 2);
	kv_reply_bulk(c->out, s,
		      (size_t)snprintf(s, sizeof(s), "%llu",
				       (unsigned long long)(now /
							    DUET_NSEC_PER_SEC)));
	kv_reply_bulk(c->out, us,
		      (size_t)snprintf(us, sizeof(us), "%llu",
				       (unsigned long long)(now %
							    DUET_NSEC_PER_SEC /
							    1000)));
}

static bool section_wanted(const struct kv_arg *a, size_t n, const char *s)
{
	if (n < 2)
		return true;
	for (size_t i = 1; i < n; i++)
		if (argeq(&a[i], s) || argeq(&a[i], "all") ||
		    argeq(&a[i], "everything") || argeq(&a[i], "default"))
			return true;
	return false;
}

static void cmd_info(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	struct kv_core *k = c->core;
	struct kv_buf b = {0};
	char line[256];
	int len;

#define LINE(...)                                                          \
	do {                                                               \
		len = snprintf(line, sizeof(line), __VA_ARGS__);           \
		kv_buf_put(&b, line, (size_t)len);                         \
	} while (0)
	if (section_wanted(a, n, "server")) {
		LINE("# Server\r\nredis_version:%s\r\nredis_mode:standalone\r\n"
		     "kv_server:duet kv\r\nduet_version:%s\r\n",
		     KV_VERSION, duet_buildinfo.version);
		LINE("tcp_port:%u\r\nuptime_in_seconds:%llu\r\n\r\n",
		     (unsigned)k->port,
		     (unsigned long long)((duet_clock_monotonic() - k->started) /
					  DUET_NSEC_PER_SEC));
	}
	if (section_wanted(a, n, "clients"))
		LINE("# Clients\r\nconnected_clients:%u\r\n\r\n", k->clients);
	if (section_wanted(a, n, "persistence"))
		LINE("# Persistence\r\nloading:0\r\nkv_store:%s\r\n"
		     "kv_durable:%d\r\naof_enabled:%d\r\n"
		     "kv_store_writes:%llu\r\nkv_store_failures:%llu\r\n"
		     "kv_store_in_flight:%u\r\n\r\n",
		     k->store.mode == KV_STORE_LOG ? "log" : "memory",
		     k->store.durable ? 1 : 0,
		     k->store.mode == KV_STORE_LOG ? 1 : 0,
		     (unsigned long long)k->store.writes,
		     (unsigned long long)k->store.failures, k->store.in_flight);
	if (section_wanted(a, n, "stats"))
		LINE("# Stats\r\ntotal_connections_received:%llu\r\n"
		     "total_commands_processed:%llu\r\nrejected_connections:%llu\r\n"
		     "expired_keys:%llu\r\n\r\n",
		     (unsigned long long)k->connections,
		     (unsigned long long)k->commands,
		     (unsigned long long)k->rejected,
		     (unsigned long long)k->db.expired);
	if (section_wanted(a, n, "keyspace")) {
		LINE("# Keyspace\r\n");
		if (k->db.count > 0)
			LINE("db0:keys=%zu,expires=%zu,avg_ttl=0\r\n",
			     k->db.count, k->db.with_expiry);
	}
#undef LINE
	if (b.failed)
		reply_oom(c);
	else
		kv_reply_bulk(c->out, b.p, b.len);
	kv_buf_free(&b);
}

static void cmd_config(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (argeq(&a[1], "get") && n >= 3) {
		/* What clients ask at connect; everything else is none. */
		static const char *const known[][2] = {
		    {"databases", "1"}, {"appendonly", NULL}, {"save", ""},
		    {"appendfsync", NULL}, {"proto-max-bulk-len", NULL}};
		struct kv_buf b = {0};
		size_t count = 0;
		char num[24];
		for (size_t i = 2; i < n; i++)
			for (size_t j = 0; j < sizeof(known) / sizeof(known[0]);
			     j++) {
				if (!kv_glob(a[i].p, a[i].len,
					     (const uint8_t *)known[j][0],
					     strlen(known[j][0])))
					continue;
				const char *v = known[j][1];
				if (j == 1)
					v = c->core->store.mode == KV_STORE_LOG
						? "yes"
						: "no";
				else if (j == 3)
					v = c->core->store.durable ? "always"
								   : "no";
				else if (j == 4) {
					snprintf(num, sizeof(num), "%zu",
						 c->core->max_bulk);
					v = num;
				}
				kv_reply_bulk_str(&b, known[j][0]);
				kv_reply_bulk_str(&b, v);
				count += 2;
			}
		kv_reply_array(c->out, count);
		kv_buf_put(c->out, b.p, b.len);
		kv_buf_free(&b);
	} else if (argeq(&a[1], "resetstat") && n == 2) {
		c->core->commands = 0;
		kv_reply_ok(c->out);
	} else if (argeq(&a[1], "set") && n >= 4) {
		kv_reply_errorf(c->out,
				"ERR Unknown option or number of arguments for "
				"CONFIG SET - '%.*s'",
				(int)(a[2].len > 64 ? 64 : a[2].len), a[2].p);
	} else {
		kv_reply_errorf(c->out,
				"ERR unknown subcommand or wrong number of "
				"arguments for '%.*s'. Try CONFIG HELP.",
				(int)(a[1].len > 64 ? 64 : a[1].len), a[1].p);
	}
}

/* kv runs no scripts: there are no functions to list or flush. */
static void cmd_function(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (argeq(&a[1], "flush") &&
	    (n == 2 || (n == 3 && (argeq(&a[2], "sync") ||
				   argeq(&a[2], "async")))))
		kv_reply_ok(c->out);
	else if (argeq(&a[1], "list"))
		kv_reply_array(c->out, 0);
	else
		kv_reply_errorf(c->out,
				"ERR unknown subcommand '%.*s'. Try FUNCTION "
				"HELP.",
				(int)(a[1].len > 128 ? 128 : a[1].len), a[1].p);
}

static void cmd_command(struct kv_ctx *c, const struct kv_arg *a, size_t n);

static const struct cmd commands[] = {
    {"append", 3, WRITE, 1, 1, 1, cmd_append},
    {"client", -2, 0, 0, 0, 0, cmd_client},
    {"command", -1, 0, 0, 0, 0, cmd_command},
    {"config", -2, 0, 0, 0, 0, cmd_config},
    {"copy", -3, WRITE, 1, 2, 1, cmd_copy},
    {"dbsize", 1, READONLY | FAST, 0, 0, 0, cmd_dbsize},
    {"decr", 2, WRITE | FAST, 1, 1, 1, cmd_decr},
    {"decrby", 3, WRITE | FAST, 1, 1, 1, cmd_decrby},
    {"del", -2, WRITE, 1, -1, 1, cmd_del},
    {"echo", 2, FAST, 0, 0, 0, cmd_echo},
    {"exists", -2, READONLY | FAST, 1, -1, 1, cmd_exists},
    {"expire", -3, WRITE | FAST, 1, 1, 1, cmd_expire},
    {"expireat", -3, WRITE | FAST, 1, 1, 1, cmd_expireat},
    {"expiretime", 2, READONLY | FAST, 1, 1, 1, cmd_expiretime},
    {"flushall", -1, WRITE, 0, 0, 0, cmd_flushdb},
    {"flushdb", -1, WRITE, 0, 0, 0, cmd_flushdb},
    {"function", -2, 0, 0, 0, 0, cmd_function},
    {"get", 2, READONLY | FAST, 1, 1, 1, cmd_get},
    {"getbit", 3, READONLY | FAST, 1, 1, 1, cmd_getbit},
    {"getdel", 2, WRITE | FAST, 1, 1, 1, cmd_getdel},
    {"getex", -2, WRITE | FAST, 1, 1, 1, cmd_getex},
    {"getrange", 4, READONLY, 1, 1, 1, cmd_getrange},
    {"getset", 3, WRITE | FAST, 1, 1, 1, cmd_getset},
    {"hello", -1, FAST, 0, 0, 0, cmd_hello},
    {"incr", 2, WRITE | FAST, 1, 1, 1, cmd_incr},
    {"incrby", 3, WRITE | FAST, 1, 1, 1, cmd_incrby},
    {"info", -1, 0, 0, 0, 0, cmd_info},
    {"keys", 2, READONLY, 0, 0, 0, cmd_keys},
    {"mget", -2, READONLY | FAST, 1, -1, 1, cmd_mget},
    {"mset", -3, WRITE, 1, -1, 2, cmd_mset},
    {"msetnx", -3, WRITE, 1, -1, 2, cmd_msetnx},
    {"persist", 2, WRITE | FAST, 1, 1, 1, cmd_persist},
    {"pexpire", -3, WRITE | FAST, 1, 1, 1, cmd_pexpire},
    {"pexpireat", -3, WRITE | FAST, 1, 1, 1, cmd_pexpireat},
    {"pexpiretime", 2, READONLY | FAST, 1, 1, 1, cmd_pexpiretime},
    {"ping", -1, FAST, 0, 0, 0, cmd_ping},
    {"psetex", 4, WRITE, 1, 1, 1, cmd_psetex},
    {"pttl", 2, READONLY | FAST, 1, 1, 1, cmd_pttl},
    {"quit", -1, FAST, 0, 0, 0, cmd_quit},
    {"randomkey", 1, READONLY, 0, 0, 0, cmd_randomkey},
    {"rename", 3, WRITE, 1, 2, 1, cmd_rename},
    {"renamenx", 3, WRITE | FAST, 1, 2, 1, cmd_renamenx},
    {"scan", -2, READONLY, 0, 0, 0, cmd_scan},
    {"select", 2, FAST, 0, 0, 0, cmd_select},
    {"set", -3, WRITE, 1, 1, 1, cmd_set},
    {"setbit", 4, WRITE, 1, 1, 1, cmd_setbit},
    {"setex", 4, WRITE, 1, 1, 1, cmd_setex},
    {"setnx", 3, WRITE | FAST, 1, 1, 1, cmd_setnx},
    {"setrange", 4, WRITE, 1, 1, 1, cmd_setrange},
    {"strlen", 2, READONLY | FAST, 1, 1, 1, cmd_strlen},
    {"substr", 4, READONLY, 1, 1, 1, cmd_getrange},
    {"time", 1, FAST, 0, 0, 0, cmd_time},
    {"ttl", 2, READONLY | FAST, 1, 1, 1, cmd_ttl},
    {"type", 2, READONLY | FAST, 1, 1, 1, cmd_type},
    {"unlink", -2, WRITE | FAST, 1, -1, 1, cmd_del},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find(const struct kv_arg *name)
{
	size_t lo = 0, hi = NCOMMANDS;

	if (name->len > 16)
		return NULL;
	char low[17];
	for (size_t i = 0; i < name->len; i++) {
		uint8_t ch = name->p[i];
		low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	low[name->len] = '\0';
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(low, commands[mid].name);
		if (r == 0)
			return &commands[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void command_entry(struct kv_buf *b, const struct cmd *k)
{
	kv_reply_array(b, 6);
	kv_reply_bulk_str(b, k->name);
	kv_reply_int(b, k->arity);
	size_t nflags = !!(k->flags & WRITE) + !!(k->flags & READONLY) +
			!!(k->flags & FAST);
	kv_reply_array(b, nflags);
	if (k->flags & WRITE)
		kv_reply_status(b, "write");
	if (k->flags & READONLY)
		kv_reply_status(b, "readonly");
	if (k->flags & FAST)
		kv_reply_status(b, "fast");
	kv_reply_int(b, k->first_key);
	kv_reply_int(b, k->last_key);
	kv_reply_int(b, k->step);
}

static void cmd_command(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (n == 1) {
		kv_reply_array(c->out, NCOMMANDS);
		for (size_t i = 0; i < NCOMMANDS; i++)
			command_entry(c->out, &commands[i]);
	} else if (argeq(&a[1], "count") && n == 2) {
		kv_reply_int(c->out, (long long)NCOMMANDS);
	} else if (argeq(&a[1], "docs")) {
		kv_reply_array(c->out, 0); /* no documentation to give */
	} else if (argeq(&a[1], "info")) {
		kv_reply_array(c->out, n - 2);
		for (size_t i = 2; i < n; i++) {
			const struct cmd *k = find(&a[i]);
			if (k == NULL)
				kv_reply_null_array(c->out);
			else
				command_entry(c->out, k);
		}
	} else {
		kv_reply_errorf(c->out,
				"ERR unknown subcommand '%.*s'. Try COMMAND "
				"HELP.",
				(int)(a[1].len > 128 ? 128 : a[1].len), a[1].p);
	}
}

/* Redis's words for a command it does not know: the name and the first
 * arguments, quoted, within 128 bytes of arguments. */
static void reply_unknown(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	char args[192] = "";
	size_t used = 0;

	for (size_t i = 1; i < n && used < 128; i++) {
		size_t take = a[i].len > 128 - used ? 128 - used : a[i].len;
		int w = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
				 (int)take, a[i].p);
		if (w < 0 || (size_t)w >= sizeof(args) - used)
			break;
		used += (size_t)w;
	}
	kv_reply_errorf(c->out,
			"ERR unknown command '%.*s', with args beginning "
			"with: %s",
			(int)(a[0].len > 128 ? 128 : a[0].len), a[0].p, args);
}

void kv_exec(struct kv_ctx *c, const struct kv_arg *argv, size_t argc)
{
	const struct cmd *k = find(&argv[0]);

	c->core->commands++;
	if (k == NULL) {
		reply_unknown(c, argv, argc);
		return;
	}
	if ((k->arity > 0 && argc != (size_t)k->arity) ||
	    (k->arity < 0 && argc < (size_t)-k->arity)) {
		kv_reply_errorf(c->out,
				"ERR wrong number of arguments for '%s' "
				"command",
				k->name);
		return;
	}
	if ((k->flags & WRITE) && c->core->store.failed == -EIO) {
		kv_reply_error(c->out, "MISCONF the store failed to write "
				       "(an I/O error): writes are refused "
				       "until kv is restarted");
		return;
	}
	k->fn(c, argv, argc);
}
