/* apps/kv: the RESP parser, the keyspace, and every command against a RAM
 * disk (and a faulty one), with durability and reload. */
#include <limits.h>

#include "storage_harness.h"

#include "cmd.h"
#include "db.h"
#include "resp.h"
#include "store.h"

/* ------------------------------------------------------------- RESP */

static const struct kv_resp_limits limits = {.max_bulk = 64, .max_args = 8};

static enum kv_resp_result parse(struct kv_request *req, const char *s,
				 size_t *used, const char **err)
{
	return kv_resp_parse(req, (const uint8_t *)s, strlen(s), &limits, used,
			     err);
}

static bool arg_is(const struct kv_request *req, size_t i, const char *s)
{
	return req->argv[i].len == strlen(s) &&
	       memcmp(req->argv[i].p, s, strlen(s)) == 0;
}

Test(kv_resp, multibulk_whole_and_in_pieces)
{
	struct kv_request req = {0};
	const char *msg = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\0lue\r\n";
	size_t full = 4 + 9 + 7 + 11, used;
	const char *err;

	cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)msg, full, &limits,
				   &used, &err),
		     KV_RESP_OK);
	cr_assert_eq(used, full);
	cr_assert_eq(req.argc, 3);
	cr_assert(arg_is(&req, 0, "SET") && arg_is(&req, 1, "k"));
	cr_assert_eq(req.argv[2].len, 5);
	cr_assert_eq(memcmp(req.argv[2].p, "v\0lue", 5), 0);
	/* Every strict prefix asks for more, and never for fewer bytes than
	 * it has; the hint is never past the whole request. */
	for (size_t n = 0; n < full; n++) {
		cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)msg, n,
					   &limits, &used, &err),
			     KV_RESP_MORE, "prefix %zu", n);
		cr_assert(used > n && used <= full, "prefix %zu: need %zu", n,
			  used);
	}
	kv_request_free(&req);
}

Test(kv_resp, inline_with_quotes)
{
	struct kv_request req = {0};
	size_t used;
	const char *err;

	cr_assert_eq(parse(&req, "set \"a b\" 'it''s'\r\nnext", &used, &err),
		     KV_RESP_ERROR); /* a quote must be followed by a space */
	cr_assert_str_eq(err, "Protocol error: unbalanced quotes in request");
	cr_assert_eq(parse(&req, "  SET \"a\\x41\\n\" 'it\\'s' x\r\nnext",
			   &used, &err),
		     KV_RESP_OK);
	cr_assert_eq(used, strlen("  SET \"a\\x41\\n\" 'it\\'s' x\r\n"));
	cr_assert_eq(req.argc, 4);
	cr_assert(arg_is(&req, 1, "aA\n"));
	cr_assert(arg_is(&req, 2, "it's"));
	cr_assert_eq(parse(&req, "\r\n", &used, &err), KV_RESP_OK);
	cr_assert_eq(req.argc, 0);
	cr_assert_eq(parse(&req, "PING", &used, &err), KV_RESP_MORE);
	cr_assert_eq(parse(&req, "GET \"open\r\n", &used, &err),
		     KV_RESP_ERROR);
	kv_request_free(&req);
}

Test(kv_resp, bounds_and_malformed)
{
	struct kv_request req = {0};
	size_t used;
	const char *err;
	static const struct {
		const char *in, *err;
	} bad[] = {
	    {"*9\r\n", "Protocol error: invalid multibulk length"},
	    {"*x\r\n", "Protocol error: invalid multibulk length"},
	    {"*1\r\n$65\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n$-2\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n$+1\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
	    {"*2\r\n$1\r\na\r\nx", "Protocol error: expected '$', got 'x'"},
	    {"a b c d e f g h i\r\n", "Protocol error: invalid multibulk length"},
	    /* Around the short-header fast path: it must agree with the
	     * general parser. */
	    {"*01\r\n", "Protocol error: invalid multibulk length"},
	    {"*1\r\n$01\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n$1x\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n$1\n\r\n", "Protocol error: invalid bulk length"},
	    {"*1\r\n$999999999999999999\r\n",
	     "Protocol error: invalid bulk length"},
	    {"*1\r\n$99999999999999999999\r\n",
	     "Protocol error: invalid bulk length"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(&req, bad[i].in, &used, &err), KV_RESP_ERROR,
			     "%s", bad[i].in);
		cr_assert_str_eq(err, bad[i].err, "%s", bad[i].in);
	}
	cr_assert_eq(parse(&req, "*0\r\n", &used, &err), KV_RESP_OK);
	cr_assert_eq(req.argc, 0);
	cr_assert_eq(used, 4);
	cr_assert_eq(parse(&req, "*-1\r\n", &used, &err), KV_RESP_OK);

	/* An inline line or header without an end is refused at 64 KiB. */
	size_t big = KV_RESP_INLINE_MAX + 1;
	uint8_t *line = malloc(big);
	memset(line, 'a', big);
	cr_assert_eq(kv_resp_parse(&req, line, big - 2, &limits, &used, &err),
		     KV_RESP_MORE);
	cr_assert_eq(kv_resp_parse(&req, line, big, &limits, &used, &err),
		     KV_RESP_ERROR);
	cr_assert_str_eq(err, "Protocol error: too big inline request");
	line[0] = '*';
	cr_assert_eq(kv_resp_parse(&req, line, big, &limits, &used, &err),
		     KV_RESP_ERROR);
	cr_assert_str_eq(err, "Protocol error: too big mbulk count string");
	free(line);
	kv_request_free(&req);
}

Test(kv_resp, replies_are_byte_exact)
{
	struct kv_buf b = {0};
	static const char want[] = ":-9223372036854775808\r\n:0\r\n"
				   ":9223372036854775807\r\n$0\r\n\r\n"
				   "$3\r\na\0b\r\n*-1\r\n+OK\r\n-ERR x\r\n";

	kv_reply_int(&b, LLONG_MIN);
	kv_reply_int(&b, 0);
	kv_reply_int(&b, LLONG_MAX);
	kv_reply_bulk(&b, "", 0);
	kv_reply_bulk(&b, "a\0b", 3);
	kv_reply_null_array(&b);
	kv_reply_status(&b, "OK");
	kv_reply_error(&b, "ERR x");
	cr_assert(!b.failed);
	cr_assert_eq(b.len, sizeof(want) - 1);
	cr_assert_eq(memcmp(b.p, want, b.len), 0, "%.*s", (int)b.len, b.p);
	kv_buf_free(&b);
}

Test(kv_resp, integers_have_one_form)
{
	long long v;
	static const char *const bad[] = {"", "-", "+1", "01", "-0", " 1",
					  "1 ", "9223372036854775808",
					  "-9223372036854775809", "1x"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!kv_strtoll((const uint8_t *)bad[i], strlen(bad[i]),
				      &v),
			  "%s", bad[i]);
	cr_assert(kv_strtoll((const uint8_t *)"-9223372036854775808", 20, &v));
	cr_assert_eq(v, LLONG_MIN);
	cr_assert(kv_strtoll((const uint8_t *)"9223372036854775807", 19, &v));
	cr_assert_eq(v, LLONG_MAX);
	cr_assert(kv_strtoll((const uint8_t *)"0", 1, &v) && v == 0);
}

/* ------------------------------------------------------------- glob */

static bool glob(const char *p, const char *s)
{
	return kv_glob((const uint8_t *)p, strlen(p), (const uint8_t *)s,
		       strlen(s));
}

Test(kv_db, glob)
{
	cr_assert(glob("*", "") && glob("*", "abc"));
	cr_assert(glob("h?llo", "hello") && !glob("h?llo", "hllo"));
	cr_assert(glob("h*llo", "hllo") && glob("h*llo", "heeeello"));
	cr_assert(glob("h[ae]llo", "hallo") && !glob("h[ae]llo", "hillo"));
	cr_assert(glob("h[^e]llo", "hallo") && !glob("h[^e]llo", "hello"));
	cr_assert(glob("h[a-b]llo", "hbllo") && !glob("h[a-b]llo", "hcllo"));
	cr_assert(glob("h\\*llo", "h*llo") && !glob("h\\*llo", "hello"));
	cr_assert(glob("*a*b*c", "xxaxxbxxc") && !glob("*a*b*c", "xxaxxcxxb"));
	cr_assert(!glob("a", "ab") && !glob("ab", "a"));
	/* No exponential backtracking: this returns at once. */
	char s[4001];
	memset(s, 'a', 4000);
	s[4000] = '\0';
	cr_assert(!glob("*a*a*a*a*a*a*a*a*a*a*b", s));
}

static void count_visit(struct kv_entry *e, void *arg)
{
	unsigned *seen = arg;
	long long i;
	cr_assert(kv_strtoll(e->key + 1, e->klen - 1, &i));
	seen[i]++;
}

Test(kv_db, scan_returns_every_key_even_while_the_table_grows)
{
	struct kv_db db;
	static unsigned seen[3000];
	char key[16];
	bool created;

	fakeplat_reset();
	cr_assert_eq(kv_db_init(&db, NULL, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);
		cr_assert_not_null(
		    kv_db_upsert(&db, (uint8_t *)key, (size_t)n, &created));
	}
	uint64_t cursor = 0;
	int added = 1000, rounds = 0;
	do {
		cursor = kv_db_scan(&db, cursor, 10, count_visit, seen);
		/* Keys added during the scan make the table grow. */
		for (int j = 0; j < 20 && added < 3000; j++, added++) {
			int n = snprintf(key, sizeof(key), "k%d", added);
			kv_db_upsert(&db, (uint8_t *)key, (size_t)n, &created);
		}
		rounds++;
	} while (cursor != 0);
	cr_assert_gt(db.mask + 1, 1024, "the table grew");
	for (int i = 0; i < 1000; i++)
		cr_assert_geq(seen[i], 1, "k%d missed", i);
	cr_assert_lt(rounds, 3000);
	kv_db_fini(&db);
}

/* --------------------------------------------- commands on a RAM disk */

static struct duet_blk_mem *disk;
static struct duet_blk_fault *fault;
static struct duet_block *dev;
static struct kv_core core;
static struct kv_client client;
static struct kv_ticket ticket;
static bool ticket_made, ticket_settled;
static char replies[8][8192];
static size_t reply_len[8];
static unsigned next_reply;

static void ticket_done(struct kv_ticket *t)
{
	(void)t;
	ticket_settled = true;
}

static struct kv_ticket *get_ticket(struct kv_ctx *c)
{
	(void)c;
	if (!ticket_made) {
		memset(&ticket, 0, sizeof(ticket));
		ticket.done = ticket_done;
		ticket_made = true;
	}
	return &ticket;
}

static void opened(struct kv_store *s, int status, void *arg)
{
	struct sync_result *r = arg;
	(void)s;
	r->done = true;
	r->status = status;
}

static int open_store(bool durable)
{
	struct sync_result r = {0};
	int e;

	cr_assert_eq(kv_db_init(&core.db, kv_on_expire, &core), 0);
	if ((e = kv_store_open(&core.store, loop, dev, &core.db, durable,
			       opened, &r)) < 0)
		return e;
	run_until(&r.done);
	return r.status;
}

static bool drained;

static void on_drained(struct kv_store *s)
{
	(void)s;
	drained = true;
}

/* Waits for the store's writes (expired keys' deletes have no ticket). */
static void drain(void)
{
	drained = core.store.in_flight == 0;
	core.store.drained = on_drained;
	run_until(&drained);
	core.store.drained = NULL;
}

static void close_store(void)
{
	drain();
	kv_store_close(&core.store);
	kv_db_fini(&core.db);
}

static void reopen(void)
{
	close_store();
	cr_assert_eq(open_store(true), 0);
}

static void setup(void)
{
	harness_setup();
	disk = mem_disk("disk0", 512, 8192);
	dev = duet_blk_mem_block(disk);
	memset(&core, 0, sizeof(core));
	memset(&client, 0, sizeof(client));
	client.id = 7;
	core.max_bulk = 4096;
	cr_assert_eq(open_store(true), 0);
}

static void teardown(void)
{
	if (core.db.buckets != NULL)
		close_store();
	free(client.name);
}

/* Runs one inline command line; returns its reply (as the server would
 * send it: after its writes are durable, an error if one failed). */
static const char *run_cmd(const char *line)
{
	struct kv_request req = {0};
	struct kv_buf out = {0};
	struct kv_ctx ctx = {.core = &core, .client = &client,
			     .out = &out, .ticket = get_ticket};
	size_t used;
	const char *err;
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s\r\n", line);
	cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)buf, strlen(buf),
				   &(struct kv_resp_limits){4096, 64}, &used,
				   &err),
		     KV_RESP_OK, "%s", line);
	ticket_made = ticket_settled = false;
	kv_exec(&ctx, req.argv, req.argc);
	if (ticket_made && ticket.pending > 0) {
		run_until(&ticket_settled);
		cr_assert_eq(ticket.pending, 0);
	}
	unsigned slot = next_reply++ % 8;
	char *r = replies[slot];
	if (ticket_made && ticket.status < 0) {
		snprintf(r, sizeof(replies[0]), "-ERR store write failed\r\n");
	} else {
		cr_assert_lt(out.len, sizeof(replies[0]));
		if (out.len > 0)
			memcpy(r, out.p, out.len);
		r[out.len] = '\0';
	}
	reply_len[slot] = out.len;
	kv_buf_free(&out);
	kv_request_free(&req);
	return r;
}

#define CMD(line, want) cr_assert_str_eq(run_cmd(line), want, "%s", line)

TestSuite(kv_cmd, .init = setup, .fini = teardown);

Test(kv_cmd, connection_commands)
{
	CMD("PING", "+PONG\r\n");
	CMD("ping hi", "$2\r\nhi\r\n");
	CMD("ping a b", "-ERR wrong number of arguments for 'ping' command\r\n");
	CMD("ECHO x", "$1\r\nx\r\n");
	CMD("SELECT 0", "+OK\r\n");
	CMD("SELECT 1", "-ERR DB index is out of range\r\n");
	CMD("SELECT x", "-ERR value is not an integer or out of range\r\n");
	CMD("HELLO 3", "-NOPROTO unsupported protocol version\r\n");
	cr_assert_eq(strncmp(run_cmd("HELLO 2"), "*14\r\n$6\r\nserver\r\n", 17),
		     0);
	CMD("CLIENT GETNAME", "$-1\r\n");
	CMD("CLIENT SETNAME bad\\x20name", "+OK\r\n"); /* unquoted: literal */
	CMD("CLIENT SETNAME \"a b\"",
	    "-ERR Client names cannot contain spaces, newlines or special "
	    "characters.\r\n");
	CMD("CLIENT SETNAME app1", "+OK\r\n");
	CMD("CLIENT GETNAME", "$4\r\napp1\r\n");
	CMD("CLIENT ID", ":7\r\n");
	CMD("CLIENT KILL x", "-ERR unknown subcommand 'KILL'. Try CLIENT "
			     "HELP.\r\n");
	CMD("QUIT", "+OK\r\n");
	cr_assert(client.quit);
	CMD("NOSUCH a b", "-ERR unknown command 'NOSUCH', with args beginning "
			  "with: 'a' 'b' \r\n");
	CMD("get", "-ERR wrong number of arguments for 'get' command\r\n");
	/* COMMAND lists as many commands as COMMAND COUNT says. */
	char want[32];
	long count = strtol(run_cmd("COMMAND COUNT") + 1, NULL, 10);
	cr_assert_gt(count, 40);
	snprintf(want, sizeof(want), "*%ld\r\n", count);
	cr_assert_eq(strncmp(run_cmd("COMMAND"), want, strlen(want)), 0);
	cr_assert_eq(strncmp(run_cmd("COMMAND INFO get"),
			     "*1\r\n*6\r\n$3\r\nget\r\n:2\r\n", 21),
		     0);
}

Test(kv_cmd, set_and_get)
{
	CMD("GET k", "$-1\r\n");
	CMD("SET k v", "+OK\r\n");
	CMD("GET k", "$1\r\nv\r\n");
	CMD("SET k w NX", "$-1\r\n");
	CMD("SET k w XX GET", "$1\r\nv\r\n");
	CMD("GET k", "$1\r\nw\r\n");
	CMD("SET j w XX", "$-1\r\n");
	CMD("SET j w NX GET", "$-1\r\n");
	CMD("GET j", "$1\r\nw\r\n");
	CMD("SET k v NX XX", "-ERR syntax error\r\n");
	CMD("SET k v EX", "-ERR syntax error\r\n");
	CMD("SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n");
	CMD("SET k v EX x", "-ERR value is not an integer or out of range\r\n");
	CMD("SET k v EX 10 PX 10", "-ERR syntax error\r\n");
	CMD("SET k v KEEPTTL EX 10", "-ERR syntax error\r\n");
	CMD("SET k v EX 9223372036854775807",
	    "-ERR invalid expire time in 'set' command\r\n");
	CMD("SETNX k x", ":0\r\n");
	CMD("SETNX n x", ":1\r\n");
	CMD("GETSET n y", "$1\r\nx\r\n");
	CMD("GETSET none y", "$-1\r\n");
	CMD("GETDEL n", "$1\r\ny\r\n");
	CMD("GETDEL n", "$-1\r\n");
	CMD("MSET a 1 b 2", "+OK\r\n");
	CMD("MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n");
	CMD("MGET a b c", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
	CMD("MSETNX a 9 c 3", ":0\r\n");
	CMD("MSETNX c 3 d 4", ":1\r\n");
	CMD("MGET a c", "*2\r\n$1\r\n1\r\n$1\r\n3\r\n");
}

Test(kv_cmd, counters_and_ranges)
{
	CMD("INCR c", ":1\r\n");
	CMD("INCRBY c 41", ":42\r\n");
	CMD("DECR c", ":41\r\n");
	CMD("DECRBY c 50", ":-9\r\n");
	CMD("INCRBY c x", "-ERR value is not an integer or out of range\r\n");
	CMD("SET big 9223372036854775807", "+OK\r\n");
	CMD("INCR big", "-ERR increment or decrement would overflow\r\n");
	CMD("DECRBY c -9223372036854775808",
	    "-ERR decrement would overflow\r\n");
	CMD("SET s hello", "+OK\r\n");
	CMD("INCR s", "-ERR value is not an integer or out of range\r\n");
	CMD("SET z 012", "+OK\r\n");
	CMD("INCR z", "-ERR value is not an integer or out of range\r\n");
	CMD("APPEND s \" world\"", ":11\r\n");
	CMD("STRLEN s", ":11\r\n");
	CMD("STRLEN none", ":0\r\n");
	CMD("GETRANGE s 0 4", "$5\r\nhello\r\n");
	CMD("GETRANGE s -5 -1", "$5\r\nworld\r\n");
	CMD("GETRANGE s 5 1", "$0\r\n\r\n");
	CMD("GETRANGE s -1 -5", "$0\r\n\r\n");
	CMD("GETRANGE s 0 100", "$11\r\nhello world\r\n");
	CMD("GETRANGE none 0 -1", "$0\r\n\r\n");
	CMD("SETRANGE s 6 W", ":11\r\n");
	CMD("GET s", "$11\r\nhello World\r\n");
	CMD("SETRANGE pad 3 x", ":4\r\n");
	cr_assert_eq(memcmp(run_cmd("GET pad"), "$4\r\n\0\0\0x\r\n", 11), 0);
	CMD("SETRANGE s -1 x", "-ERR offset is out of range\r\n");
	CMD("SETRANGE s 4096 x", "-ERR string exceeds maximum allowed size "
				 "(proto-max-bulk-len)\r\n");
	CMD("APPEND novalue \"\"", ":0\r\n");
	CMD("EXISTS novalue", ":1\r\n");
}

Test(kv_cmd, keyspace)
{
	CMD("MSET user:1 a user:2 b other c", "+OK\r\n");
	CMD("EXISTS user:1 user:1 nope", ":2\r\n");
	CMD("DBSIZE", ":3\r\n");
	CMD("TYPE user:1", "+string\r\n");
	CMD("TYPE nope", "+none\r\n");
	const char *keys = run_cmd("KEYS user:*");
	cr_assert_eq(strncmp(keys, "*2\r\n", 4), 0, "%s", keys);
	cr_assert(strstr(keys, "user:1") && strstr(keys, "user:2") &&
		  !strstr(keys, "other"));
	const char *scan = run_cmd("SCAN 0 MATCH o* COUNT 1000");
	cr_assert_str_eq(scan, "*2\r\n$1\r\n0\r\n*1\r\n$5\r\nother\r\n");
	CMD("SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*0\r\n");
	CMD("SCAN x", "-ERR invalid cursor\r\n");
	CMD("SCAN 0 COUNT 0", "-ERR syntax error\r\n");
	CMD("SCAN 0 COUNT", "-ERR syntax error\r\n");
	CMD("DEL user:1 user:2 nope", ":2\r\n");
	CMD("UNLINK other", ":1\r\n");
	CMD("DBSIZE", ":0\r\n");
	CMD("MSET a 1 b 2", "+OK\r\n");
	CMD("FLUSHDB", "+OK\r\n");
	CMD("DBSIZE", ":0\r\n");
	CMD("FLUSHDB now", "-ERR syntax error\r\n");
	reopen();
	CMD("DBSIZE", ":0\r\n");
}

Test(kv_cmd, expiry)
{
	CMD("SET k v EX 10", "+OK\r\n");
	CMD("TTL k", ":10\r\n");
	CMD("PTTL k", ":10000\r\n");
	CMD("TTL none", ":-2\r\n");
	CMD("SET p v", "+OK\r\n");
	CMD("TTL p", ":-1\r\n");
	CMD("EXPIRE p 100 XX", ":0\r\n");
	CMD("EXPIRE p 100 NX", ":1\r\n");
	CMD("EXPIRE p 50 GT", ":0\r\n");
	CMD("EXPIRE p 50 LT", ":1\r\n");
	CMD("EXPIRE p 50 NX XX",
	    "-ERR NX and XX, GT or LT options at the same time are not "
	    "compatible\r\n");
	CMD("EXPIRE p x", "-ERR value is not an integer or out of range\r\n");
	CMD("EXPIRE p 9223372036854775807",
	    "-ERR invalid expire time in 'expire' command\r\n");
	CMD("PERSIST p", ":1\r\n");
	CMD("PERSIST p", ":0\r\n");
	CMD("SETEX e 5 v", "+OK\r\n");
	CMD("SETEX e 0 v", "-ERR invalid expire time in 'setex' command\r\n");
	CMD("PSETEX f 1500 v", "+OK\r\n");
	CMD("SET keep v EX 20", "+OK\r\n");
	CMD("SET keep w KEEPTTL", "+OK\r\n");
	CMD("TTL keep", ":20\r\n");
	CMD("SET keep w", "+OK\r\n");
	CMD("TTL keep", ":-1\r\n");
	/* The clock moves on: f goes, e and k stay. */
	fakeplat_set_time(fakeplat_time() + DUET_SEC(2));
	CMD("GET f", "$-1\r\n");
	CMD("TTL e", ":3\r\n");
	/* Expiry survives a restart; what expired meanwhile is gone. */
	reopen();
	CMD("TTL k", ":8\r\n");
	CMD("GET k", "$1\r\nv\r\n");
	fakeplat_set_time(fakeplat_time() + DUET_SEC(4));
	reopen();
	CMD("EXISTS e", ":0\r\n");
	CMD("EXISTS k", ":1\r\n");
	cr_assert_geq(core.store.dropped_expired, 1);
	/* EXPIRE into the past deletes, durably. */
	CMD("PEXPIREAT k 1", ":1\r\n");
	CMD("EXISTS k", ":0\r\n");
	reopen();
	CMD("EXISTS k", ":0\r\n");
	/* The sweep finds keys nobody asks for. */
	CMD("PSETEX q 10 v", "+OK\r\n");
	fakeplat_set_time(fakeplat_time() + DUET_SEC(1));
	cr_assert_eq(kv_db_expire_some(&core.db, 1024, kv_now_ms()), 1);
	CMD("DBSIZE", ":2\r\n"); /* p and keep */
}

Test(kv_cmd, a_write_is_answered_only_once_durable)
{
	struct kv_request req = {0};
	struct kv_buf out = {0};
	struct kv_ctx ctx = {.core = &core, .client = &client,
			     .out = &out, .ticket = get_ticket};
	size_t used;
	const char *err;
	struct duet_blk_mem_stats before, after;

	duet_blk_mem_get_stats(disk, &before);
	cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)"SET d v\r\n", 9,
				   &(struct kv_resp_limits){64, 8}, &used,
				   &err),
		     KV_RESP_OK);
	ticket_made = ticket_settled = false;
	kv_exec(&ctx, req.argv, req.argc);
	cr_assert(ticket_made);
	cr_assert_eq(ticket.pending, 1, "the reply waits on one write");
	run_until(&ticket_settled);
	duet_blk_mem_get_stats(disk, &after);
	cr_assert_gt(after.flushes, before.flushes, "settled after a flush");
	kv_buf_free(&out);
	kv_request_free(&req);
	reopen();
	CMD("GET d", "$1\r\nv\r\n");
	/* Reads never wait. */
	ticket_made = false;
	CMD("GET d", "$1\r\nv\r\n");
	cr_assert(!ticket_made);
}

Test(kv_cmd, binary_and_empty_keys_round_trip)
{
	struct kv_request req = {0};
	struct kv_buf out = {0};
	struct kv_ctx ctx = {.core = &core, .client = &client,
			     .out = &out, .ticket = get_ticket};
	static const char set[] = "*3\r\n$3\r\nSET\r\n$4\r\na\0\1b\r\n$1\r\nx\r\n";
	static const char setempty[] = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\ny\r\n";
	size_t used;
	const char *err;

	cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)set, sizeof(set) - 1,
				   &limits, &used, &err),
		     KV_RESP_OK);
	ticket_made = ticket_settled = false;
	kv_exec(&ctx, req.argv, req.argc);
	run_until(&ticket_settled);
	cr_assert_eq(kv_resp_parse(&req, (const uint8_t *)setempty,
				   sizeof(setempty) - 1, &limits, &used, &err),
		     KV_RESP_OK);
	ticket_made = ticket_settled = false;
	kv_exec(&ctx, req.argv, req.argc);
	run_until(&ticket_settled);
	kv_buf_free(&out);
	kv_request_free(&req);
	reopen();
	cr_assert_not_null(
	    kv_db_lookup(&core.db, (const uint8_t *)"a\0\1b", 4, 0));
	struct kv_entry *e = kv_db_lookup(&core.db, (const uint8_t *)"", 0, 0);
	cr_assert_not_null(e);
	cr_assert_eq(e->vlen, 1);
	cr_assert_eq(e->val[0], 'y');
	/* A key that cannot be stored is refused, not truncated. */
	char line[1200] = "SET ";
	memset(line + 4, 'k', 1100);
	strcpy(line + 1104, " v");
	cr_assert_eq(strncmp(run_cmd(line), "-ERR key too long", 17), 0);
	CMD("DBSIZE", ":2\r\n");
}

Test(kv_cmd, info_and_config)
{
	CMD("SET k v EX 100", "+OK\r\n");
	const char *info = run_cmd("INFO keyspace");
	cr_assert(strstr(info, "db0:keys=1,expires=1"), "%s", info);
	cr_assert(!strstr(info, "# Server"));
	info = run_cmd("INFO");
	cr_assert(strstr(info, "redis_version:") && strstr(info, "kv_store:log") &&
		      strstr(info, "kv_durable:1"),
		  "%s", info);
	CMD("CONFIG GET appendonly", "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n");
	CMD("CONFIG GET nothing", "*0\r\n");
}

Test(kv_cmd, a_failed_write_is_an_error_and_memory_follows_the_disk)
{
	close_store();
	cr_assert_eq(duet_blk_fault_create(loop, "faulty", dev, &fault), 0);
	dev = duet_blk_fault_block(fault);
	cr_assert_eq(open_store(true), 0);
	CMD("SET k old", "+OK\r\n");
	duet_blk_fault_fail(fault, DUET_BLOCK_WRITE, -EIO);
	CMD("SET k new", "-ERR store write failed\r\n");
	/* Read back from the store: the old value, which is what the disk
	 * holds. */
	drain();
	CMD("GET k", "$3\r\nold\r\n");
	/* After an I/O error the store takes no more writes: refused up
	 * front, memory untouched. */
	CMD("SET k newer", "-MISCONF the store failed to write (an I/O error): "
			   "writes are refused until kv is restarted\r\n");
	CMD("GET k", "$3\r\nold\r\n");
}

Test(kv_cmd, memory_store_and_not_durable)
{
	close_store();
	cr_assert_eq(kv_db_init(&core.db, kv_on_expire, &core), 0);
	kv_store_open_memory(&core.store, &core.db);
	ticket_made = false;
	CMD("SET k v", "+OK\r\n");
	cr_assert(!ticket_made, "nothing to wait for in memory");
	kv_db_fini(&core.db);
	memset(&core.db, 0, sizeof(core.db));
	cr_assert_eq(open_store(false), 0);
	ticket_made = false;
	CMD("SET k v", "+OK\r\n");
	cr_assert(!ticket_made, "durable=off: replies do not wait");
	cr_assert_eq(core.store.in_flight, 1, "the write still goes out");
}

Test(kv_cmd, refuses_a_device_that_is_not_blank_nor_a_store)
{
	close_store();
	memset(duet_blk_mem_data(disk), 0x5a, 1024);
	cr_assert_eq(open_store(true), -EBADMSG);
	kv_db_fini(&core.db);
	/* And left it as it was. */
	cr_assert_eq(duet_blk_mem_data(disk)[0], 0x5a);
}

Test(kv_cmd, getex_bits_rename_copy_randomkey)
{
	CMD("SET k v", "+OK\r\n");
	CMD("GETEX k EX 10", "$1\r\nv\r\n");
	CMD("TTL k", ":10\r\n");
	CMD("GETEX k PERSIST", "$1\r\nv\r\n");
	CMD("TTL k", ":-1\r\n");
	CMD("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n");
	CMD("GETEX k BOGUS", "-ERR syntax error\r\n");
	CMD("GETEX k PXAT 1", "$1\r\nv\r\n");
	CMD("EXISTS k", ":0\r\n");
	CMD("SETBIT b 7 1", ":0\r\n");
	CMD("SETBIT b 7 1", ":1\r\n");
	CMD("GET b", "$1\r\n\1\r\n");
	CMD("GETBIT b 7", ":1\r\n");
	CMD("GETBIT b 100", ":0\r\n");
	CMD("SETBIT b 2 x", "-ERR bit is not an integer or out of range\r\n");
	CMD("SETBIT b -1 1", "-ERR bit offset is not an integer or out of range\r\n");
	CMD("SETBIT b 32768 1", "-ERR bit offset is not an integer or out of range\r\n");
	CMD("SET src hello EX 100", "+OK\r\n");
	CMD("RENAME nope x", "-ERR no such key\r\n");
	CMD("RENAME src dst", "+OK\r\n");
	CMD("EXISTS src", ":0\r\n");
	CMD("GET dst", "$5\r\nhello\r\n");
	CMD("TTL dst", ":100\r\n");
	CMD("SET other x", "+OK\r\n");
	CMD("RENAMENX dst other", ":0\r\n");
	CMD("RENAMENX dst fresh", ":1\r\n");
	CMD("COPY fresh other", ":0\r\n");
	CMD("COPY fresh other REPLACE", ":1\r\n");
	CMD("COPY fresh fresh", "-ERR source and destination objects are the same\r\n");
	CMD("COPY fresh x DB 1", "-ERR DB index is out of range\r\n");
	CMD("GET other", "$5\r\nhello\r\n");
	reopen();
	CMD("GET other", "$5\r\nhello\r\n");
	CMD("EXISTS dst src", ":0\r\n");
	CMD("FUNCTION FLUSH", "+OK\r\n");
	CMD("FUNCTION LIST", "*0\r\n");
	CMD("FLUSHDB", "+OK\r\n");
	CMD("RANDOMKEY", "$-1\r\n");
	CMD("SET only one", "+OK\r\n");
	CMD("RANDOMKEY", "$4\r\nonly\r\n");
}
