/* cmd.h — kv's commands: Redis's string and keyspace commands over the
 * keyspace (db.h), written through to the store (store.h).
 *
 * kv_exec() runs one request and writes its reply, in Redis's words for
 * every error, into ctx->out. A command that changes the keyspace asks
 * ctx->ticket() for the ticket its store writes carry; the server holds
 * the reply until the ticket is settled (and replaces it with an error if
 * a write failed). Commands never block and never wait: a keyspace change
 * is visible to the next command at once, durable or not yet.
 */
#ifndef DUET_KV_CMD_H
#define DUET_KV_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/clock.h>

#include "db.h"
#include "resp.h"
#include "store.h"

#define KV_VERSION "7.0.0" /* the Redis version whose commands kv speaks */

/* The server state commands see. */
struct kv_core {
	struct kv_db db;
	struct kv_store store;
	size_t max_bulk; /* proto-max-bulk-len: no value grows past it */
	uint64_t commands, connections, rejected;
	unsigned clients;
	uint16_t port;
	duet_time_t started; /* monotonic */
	uint64_t next_client_id;
};

struct kv_client {
	uint64_t id;
	char *name; /* CLIENT SETNAME; NULL if none */
	bool quit;  /* close once the reply is out (QUIT) */
};

struct kv_ctx {
	struct kv_core *core;
	struct kv_client *client;
	struct kv_buf *out;
	/* The ticket of the command being run (made on first use). */
	struct kv_ticket *(*ticket)(struct kv_ctx *ctx);
	void *arg; /* the server's */
};

void kv_exec(struct kv_ctx *ctx, const struct kv_arg *argv, size_t argc);

/* The keyspace's expiry hook: a key found expired is deleted from the
 * store too (arg: the struct kv_core). */
void kv_on_expire(struct kv_db *db, struct kv_entry *e, void *arg);

#endif
