/* kv's request path on any bytes: the RESP parser takes requests off the
 * front of the input one after another, exactly as a connection would,
 * and each is run against an in-memory keyspace. Properties: a request
 * found uses no more bytes than there are and its arguments lie inside the
 * input (or the parser's scratch, for inline ones); "need more" asks for
 * more bytes than there are; and every command writes exactly one
 * well-formed RESP2 reply.
 *
 * Input: a limits byte (max_bulk = 1 << (b & 15), max_args = 1 + (b >> 4)),
 * then the bytes of a connection. */
#include <duet/sys.h>

#include "cmd.h"
#include "db.h"
#include "fuzz.h"
#include "resp.h"
#include "store.h"

static struct duet_sys sys;
static struct kv_core core;
static struct kv_client client;

/* The length of the one RESP2 value at p[0..n), or 0 if it is not one. */
static size_t value_len(const uint8_t *p, size_t n, int depth)
{
	const uint8_t *nl = n > 0 ? memchr(p, '\n', n) : NULL;
	long long v;

	if (nl == NULL || nl == p || nl[-1] != '\r' || depth > 8)
		return 0;
	size_t line = (size_t)(nl - p) + 1, body = line - 3;
	switch (p[0]) {
	case '+':
	case '-':
		return memchr(p + 1, '\r', body) == NULL ? line : 0;
	case ':':
		return kv_strtoll(p + 1, body, &v) ? line : 0;
	case '$':
		if (!kv_strtoll(p + 1, body, &v) || v < -1)
			return 0;
		if (v == -1)
			return line;
		if ((size_t)v + 2 > n - line || p[line + v] != '\r' ||
		    p[line + v + 1] != '\n')
			return 0;
		return line + (size_t)v + 2;
	case '*': {
		if (!kv_strtoll(p + 1, body, &v) || v < -1)
			return 0;
		size_t at = line;
		for (long long i = 0; i < v; i++) {
			size_t e = value_len(p + at, n - at, depth + 1);
			if (e == 0)
				return 0;
			at += e;
		}
		return at;
	}
	default:
		return 0;
	}
}

static struct kv_ticket *no_ticket(struct kv_ctx *c)
{
	(void)c;
	return NULL; /* memory: nothing waits */
}

static bool inside(const struct kv_arg *a, const uint8_t *buf, size_t len,
		   const struct kv_request *req)
{
	if (a->len == 0)
		return true;
	if (a->p >= buf && a->p + a->len <= buf + len)
		return true;
	return req->scratch != NULL && a->p >= req->scratch &&
	       a->p + a->len <= req->scratch + req->scratch_cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct kv_request req = {0};
	struct kv_buf out = {0};

	if (size < 1)
		return 0;
	if (!ready) {
		fakeplat_reset();
		duet_sys_init(&sys, NULL);
		ready = true;
	}
	struct kv_resp_limits lim = {.max_bulk = (size_t)1 << (data[0] & 15),
				     .max_args = 1u + (data[0] >> 4)};
	/* The parser's own copy, so ASan sees any byte read past the end. */
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data + 1, len);

	memset(&core, 0, sizeof(core));
	core.max_bulk = lim.max_bulk;
	FUZZ_CHECK(kv_db_init(&core.db, kv_on_expire, &core) == 0);
	kv_store_open_memory(&core.store, &core.db);
	struct kv_ctx ctx = {.core = &core, .client = &client, .out = &out,
			     .ticket = no_ticket};

	size_t at = 0;
	while (at < len && !client.quit) {
		size_t used;
		const char *err;
		enum kv_resp_result r =
		    kv_resp_parse(&req, buf + at, len - at, &lim, &used, &err);
		if (r == KV_RESP_MORE) {
			FUZZ_CHECK(used > len - at);
			break;
		}
		if (r == KV_RESP_ERROR) {
			FUZZ_CHECK(err != NULL &&
				   strncmp(err, "Protocol error: ", 16) == 0);
			break;
		}
		FUZZ_CHECK(used > 0 && used <= len - at);
		FUZZ_CHECK(req.argc <= lim.max_args);
		for (size_t i = 0; i < req.argc; i++) {
			FUZZ_CHECK(inside(&req.argv[i], buf + at, used, &req));
			FUZZ_CHECK(req.argv[i].len <= lim.max_bulk ||
				   buf[at] != '*');
		}
		if (req.argc > 0) {
			out.len = 0;
			kv_exec(&ctx, req.argv, req.argc);
			FUZZ_CHECK(!out.failed);
			FUZZ_CHECK(value_len(out.p, out.len, 0) == out.len);
		}
		at += used;
	}
	free(client.name);
	memset(&client, 0, sizeof(client));
	kv_buf_free(&out);
	kv_request_free(&req);
	kv_db_fini(&core.db);
	free(buf);
	return 0;
}
