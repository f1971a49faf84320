/* cmd_impl.h — what kv's command files share (cmd.c: the table, the
 * connection and server commands, dispatch; cmd_util.c: the helpers below;
 * cmd_string.c, cmd_keyspace.c: those commands). Not an interface: cmd.h is.
 *
 * Every command has the shape kvc_NAME(ctx, argv, argc), argv[0] its
 * name, argc checked against the table's arity before it runs; it writes
 * exactly one reply to ctx->out. Helpers that return false or NULL have
 * replied already.
 */
#ifndef DUET_KV_CMD_IMPL_H
#define DUET_KV_CMD_IMPL_H

#include "cmd.h"

#define ERR_INT "ERR value is not an integer or out of range"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_BIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

/* a equals the lowercase s, ignoring ASCII case. */
bool kvc_argeq(const struct kv_arg *a, const char *s);
/* a as a signed 64-bit integer. */
bool kvc_arg_ll(struct kv_ctx *c, const struct kv_arg *a, long long *v);
/* The live entry of k, or NULL. */
struct kv_entry *kvc_lookup(struct kv_ctx *c, const struct kv_arg *k);
/* e's value as a bulk string, or the null reply. */
void kvc_reply_entry(struct kv_ctx *c, const struct kv_entry *e);
void kvc_reply_oom(struct kv_ctx *c);
/* k fits the store's key limit. */
bool kvc_key_fits(struct kv_ctx *c, const struct kv_arg *k);
/* The live entry of k, made if absent. */
struct kv_entry *kvc_upsert(struct kv_ctx *c, const struct kv_arg *k,
			    bool *created);
/* The ticket the command's writes carry: NULL when replies need not wait
 * (no disk, or durable=no). */
struct kv_ticket *kvc_ticket(struct kv_ctx *c);
/* Writes e through to the store, its reply waiting on the ticket. */
void kvc_write_through(struct kv_ctx *c, const struct kv_entry *e);
/* Deletes e from the store and the keyspace. */
void kvc_delete(struct kv_ctx *c, struct kv_entry *e);
/* Sets k to v, with the expiry at_ms (0: none) unless keep_ttl. */
bool kvc_set_value(struct kv_ctx *c, const struct kv_arg *k,
		   const struct kv_arg *v, bool keep_ttl, int64_t at_ms);
/* v in unit_ms (relative unless absolute) as a wall-clock deadline in ms;
 * the error names cmdname. */
bool kvc_deadline(struct kv_ctx *c, const struct kv_arg *v, long long unit,
		  bool absolute, bool positive, const char *cmdname,
		  int64_t *at);

#define KVC(name)                                                          \
	void kvc_##name(struct kv_ctx *c, const struct kv_arg *a, size_t n)
/* cmd_string.c */
KVC(get);
KVC(set);
KVC(setnx);
KVC(setex);
KVC(psetex);
KVC(getset);
KVC(getdel);
KVC(del);
KVC(exists);
KVC(mget);
KVC(mset);
KVC(msetnx);
KVC(incr);
KVC(decr);
KVC(incrby);
KVC(decrby);
KVC(append);
KVC(strlen);
KVC(getrange);
KVC(setrange);
KVC(getex);
KVC(getbit);
KVC(setbit);
/* cmd_keyspace.c */
KVC(rename);
KVC(renamenx);
KVC(copy);
KVC(randomkey);
KVC(type);
KVC(keys);
KVC(scan);
KVC(dbsize);
KVC(flushdb);
KVC(expire);
KVC(pexpire);
KVC(expireat);
KVC(pexpireat);
KVC(ttl);
KVC(pttl);
KVC(expiretime);
KVC(pexpiretime);
KVC(persist);

#endif
