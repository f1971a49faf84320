/* kv's commands (cmd.h): the table, dispatch, and the connection and
 * server commands; the string and keyspace commands and the helpers they
 * share are in cmd_string.c, cmd_keyspace.c and cmd_util.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/buildinfo.h>

#include "cmd_impl.h"

void kv_on_expire(struct kv_db *db, struct kv_entry *e, void *arg)
{
	struct kv_core *core = arg;
	(void)db;

	kv_store_del(&core->store, e->key, e->klen, NULL);
}

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

/* ----------------------------------------------------- connection */

static void kvc_ping(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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

static void kvc_echo(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)n;
	kv_reply_bulk(c->out, a[1].p, a[1].len);
}

static void kvc_quit(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	(void)a;
	(void)n;
	kv_reply_ok(c->out);
	c->client->quit = true;
}

static void kvc_select(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	long long db;
	(void)n;

	if (!kvc_arg_ll(c, &a[1], &db))
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
			kvc_reply_oom(c);
			return false;
		}
		memcpy(name, a->p, a->len);
		name[a->len] = '\0';
	}
	free(c->client->name);
	c->client->name = name;
	return true;
}

static void kvc_hello(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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
		if (kvc_argeq(&a[i], "setname") && i + 1 < n) {
			if (!set_name(c, &a[++i]))
				return;
		} else if (kvc_argeq(&a[i], "auth") && i + 2 < n) {
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

static void kvc_client(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (kvc_argeq(&a[1], "setname") && n == 3) {
		if (set_name(c, &a[2]))
			kv_reply_ok(c->out);
	} else if (kvc_argeq(&a[1], "getname") && n == 2) {
		if (c->client->name == NULL)
			kv_reply_null(c->out);
		else
			kv_reply_bulk_str(c->out, c->client->name);
	} else if (kvc_argeq(&a[1], "id") && n == 2) {
		kv_reply_int(c->out, (long long)c->client->id);
	} else if (kvc_argeq(&a[1], "setinfo") && n == 4) {
		kv_reply_ok(c->out); /* clients announce their library */
	} else if (kvc_argeq(&a[1], "setname") || kvc_argeq(&a[1], "getname") ||
		   kvc_argeq(&a[1], "id") || kvc_argeq(&a[1], "setinfo")) {
		kv_reply_errorf(c->out,
				"ERR wrong number of arguments for 'client|%s' "
				"command",
				kvc_argeq(&a[1], "setname")	  ? "setname"
				: kvc_argeq(&a[1], "getname") ? "getname"
				: kvc_argeq(&a[1], "id")	  ? "id"
							  : "setinfo");
	} else {
		kv_reply_errorf(c->out,
				"ERR unknown subcommand '%.*s'. Try CLIENT "
				"HELP.",
				(int)(a[1].len > 128 ? 128 : a[1].len), a[1].p);
	}
}

/* ------------------------------------------------------------- server */

static void kvc_time(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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
		if (kvc_argeq(&a[i], s) || kvc_argeq(&a[i], "all") ||
		    kvc_argeq(&a[i], "everything") ||
		    kvc_argeq(&a[i], "default"))
			return true;
	return false;
}

static void kvc_info(struct kv_ctx *c, const struct kv_arg *a, size_t n)
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
		kvc_reply_oom(c);
	else
		kv_reply_bulk(c->out, b.p, b.len);
	kv_buf_free(&b);
}

static void kvc_config(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (kvc_argeq(&a[1], "get") && n >= 3) {
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
	} else if (kvc_argeq(&a[1], "resetstat") && n == 2) {
		c->core->commands = 0;
		kv_reply_ok(c->out);
	} else if (kvc_argeq(&a[1], "set") && n >= 4) {
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
static void kvc_function(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (kvc_argeq(&a[1], "flush") &&
	    (n == 2 || (n == 3 && (kvc_argeq(&a[2], "sync") ||
				   kvc_argeq(&a[2], "async")))))
		kv_reply_ok(c->out);
	else if (kvc_argeq(&a[1], "list"))
		kv_reply_array(c->out, 0);
	else
		kv_reply_errorf(c->out,
				"ERR unknown subcommand '%.*s'. Try FUNCTION "
				"HELP.",
				(int)(a[1].len > 128 ? 128 : a[1].len), a[1].p);
}

static void kvc_command(struct kv_ctx *c, const struct kv_arg *a, size_t n);

static const struct cmd commands[] = {
    {"append", 3, WRITE, 1, 1, 1, kvc_append},
    {"client", -2, 0, 0, 0, 0, kvc_client},
    {"command", -1, 0, 0, 0, 0, kvc_command},
    {"config", -2, 0, 0, 0, 0, kvc_config},
    {"copy", -3, WRITE, 1, 2, 1, kvc_copy},
    {"dbsize", 1, READONLY | FAST, 0, 0, 0, kvc_dbsize},
    {"decr", 2, WRITE | FAST, 1, 1, 1, kvc_decr},
    {"decrby", 3, WRITE | FAST, 1, 1, 1, kvc_decrby},
    {"del", -2, WRITE, 1, -1, 1, kvc_del},
    {"echo", 2, FAST, 0, 0, 0, kvc_echo},
    {"exists", -2, READONLY | FAST, 1, -1, 1, kvc_exists},
    {"expire", -3, WRITE | FAST, 1, 1, 1, kvc_expire},
    {"expireat", -3, WRITE | FAST, 1, 1, 1, kvc_expireat},
    {"expiretime", 2, READONLY | FAST, 1, 1, 1, kvc_expiretime},
    {"flushall", -1, WRITE, 0, 0, 0, kvc_flushdb},
    {"flushdb", -1, WRITE, 0, 0, 0, kvc_flushdb},
    {"function", -2, 0, 0, 0, 0, kvc_function},
    {"get", 2, READONLY | FAST, 1, 1, 1, kvc_get},
    {"getbit", 3, READONLY | FAST, 1, 1, 1, kvc_getbit},
    {"getdel", 2, WRITE | FAST, 1, 1, 1, kvc_getdel},
    {"getex", -2, WRITE | FAST, 1, 1, 1, kvc_getex},
    {"getrange", 4, READONLY, 1, 1, 1, kvc_getrange},
    {"getset", 3, WRITE | FAST, 1, 1, 1, kvc_getset},
    {"hello", -1, FAST, 0, 0, 0, kvc_hello},
    {"incr", 2, WRITE | FAST, 1, 1, 1, kvc_incr},
    {"incrby", 3, WRITE | FAST, 1, 1, 1, kvc_incrby},
    {"info", -1, 0, 0, 0, 0, kvc_info},
    {"keys", 2, READONLY, 0, 0, 0, kvc_keys},
    {"mget", -2, READONLY | FAST, 1, -1, 1, kvc_mget},
    {"mset", -3, WRITE, 1, -1, 2, kvc_mset},
    {"msetnx", -3, WRITE, 1, -1, 2, kvc_msetnx},
    {"persist", 2, WRITE | FAST, 1, 1, 1, kvc_persist},
    {"pexpire", -3, WRITE | FAST, 1, 1, 1, kvc_pexpire},
    {"pexpireat", -3, WRITE | FAST, 1, 1, 1, kvc_pexpireat},
    {"pexpiretime", 2, READONLY | FAST, 1, 1, 1, kvc_pexpiretime},
    {"ping", -1, FAST, 0, 0, 0, kvc_ping},
    {"psetex", 4, WRITE, 1, 1, 1, kvc_psetex},
    {"pttl", 2, READONLY | FAST, 1, 1, 1, kvc_pttl},
    {"quit", -1, FAST, 0, 0, 0, kvc_quit},
    {"randomkey", 1, READONLY, 0, 0, 0, kvc_randomkey},
    {"rename", 3, WRITE, 1, 2, 1, kvc_rename},
    {"renamenx", 3, WRITE | FAST, 1, 2, 1, kvc_renamenx},
    {"scan", -2, READONLY, 0, 0, 0, kvc_scan},
    {"select", 2, FAST, 0, 0, 0, kvc_select},
    {"set", -3, WRITE, 1, 1, 1, kvc_set},
    {"setbit", 4, WRITE, 1, 1, 1, kvc_setbit},
    {"setex", 4, WRITE, 1, 1, 1, kvc_setex},
    {"setnx", 3, WRITE | FAST, 1, 1, 1, kvc_setnx},
    {"setrange", 4, WRITE, 1, 1, 1, kvc_setrange},
    {"strlen", 2, READONLY | FAST, 1, 1, 1, kvc_strlen},
    {"substr", 4, READONLY, 1, 1, 1, kvc_getrange},
    {"time", 1, FAST, 0, 0, 0, kvc_time},
    {"ttl", 2, READONLY | FAST, 1, 1, 1, kvc_ttl},
    {"type", 2, READONLY | FAST, 1, 1, 1, kvc_type},
    {"unlink", -2, WRITE | FAST, 1, -1, 1, kvc_del},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Command names hashed into an open-addressed table, built on first use:
 * one pass over the name and, mostly, one comparison, on every request. */
#define FIND_SLOTS 256 /* a power of two, over four times NCOMMANDS */

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static const struct cmd *find(const struct kv_arg *name)
{
	static const struct cmd *slots[FIND_SLOTS];
	static bool built;
	char low[16];

	_Static_assert(FIND_SLOTS >= 4 * NCOMMANDS, "the table is too full");

	if (!built) {
		for (size_t i = 0; i < NCOMMANDS; i++) {
			const char *s = commands[i].name;
			uint32_t h = name_hash(s, strlen(s));
			while (slots[h & (FIND_SLOTS - 1)] != NULL)
				h++;
			slots[h & (FIND_SLOTS - 1)] = &commands[i];
		}
		built = true;
	}
	if (name->len > 16)
		return NULL;
	for (size_t i = 0; i < name->len; i++) {
		uint8_t ch = name->p[i];
		low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	for (uint32_t h = name_hash(low, name->len);; h++) {
		const struct cmd *k = slots[h & (FIND_SLOTS - 1)];
		if (k == NULL)
			return NULL;
		if (strlen(k->name) == name->len &&
		    memcmp(k->name, low, name->len) == 0)
			return k;
	}
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

static void kvc_command(struct kv_ctx *c, const struct kv_arg *a, size_t n)
{
	if (n == 1) {
		kv_reply_array(c->out, NCOMMANDS);
		for (size_t i = 0; i < NCOMMANDS; i++)
			command_entry(c->out, &commands[i]);
	} else if (kvc_argeq(&a[1], "count") && n == 2) {
		kv_reply_int(c->out, (long long)NCOMMANDS);
	} else if (kvc_argeq(&a[1], "docs")) {
		kv_reply_array(c->out, 0); /* no documentation to give */
	} else if (kvc_argeq(&a[1], "info")) {
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
