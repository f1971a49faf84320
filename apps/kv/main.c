/* kv: a key-value server that Redis clients use unchanged (RESP2 over
 * TCP: strings, keyspace and expiry commands), its data in the log store
 * on disk0 (duet/logstore.h), every write acknowledged only once durable.
 *
 *   port=N        TCP port (default 6379)
 *   addr=IPS      addresses to serve on, comma-separated (default:
 *                 127.0.0.1 and ::1 on the socket stack, :: on lwIP)
 *   store=S       disk (default): the log store on `disk`, formatted if
 *                 the device is blank; memory: nothing is kept (said so)
 *   disk=NAME     the block device (default disk0)
 *   durable=B     replies to writes wait until they are durable (default
 *                 on); off: a crash may lose the last writes
 *   max_conns=N   connections at once (default 256); a newcomer evicts
 *                 the least-progressed idle one (duet/connpool.h)
 *   per_peer=N    connections from one address (default max_conns)
 *   idle=T        close a connection idle this long (default 300s)
 *   request_timeout=T  a request must be whole this long after its first
 *                 byte (default 30s)
 *   max_bulk=SIZE one value or argument at most (default 4M)
 *   max_query=SIZE one request at most (default 16M)
 */
#include <stdio.h>
#include <string.h>

#include <duet/duet.h>
#include <duet/net.h>

#include "cmd.h"
#include "server.h"

#define MAX_ADDRS 4

struct kv_app {
	struct duet_loop *loop;
	struct kv_core core;
	struct kv_server server;
	struct duet_stack *stack;
	struct duet_sockaddr addr[MAX_ADDRS];
	size_t naddrs;
	bool defaulted;
	struct duet_connpool_config pool;
	size_t max_query;
	const char *disk;
	struct duet_timer sweep;
	struct duet_stop_hook stop;
	bool serving;
};

static void sweep_tick(struct duet_timer *t, void *arg)
{
	struct kv_app *a = arg;
	/* The whole table about every second, at most 64 Ki buckets a tick
	 * (a bucket costs a load when empty). */
	size_t buckets = (size_t)(a->core.db.mask + 1) / 8 + 16;
	(void)t;

	if (buckets > 65536)
		buckets = 65536;
	kv_db_expire_some(&a->core.db, buckets, kv_now_ms());
}

static void finish_stop(struct kv_app *a)
{
	kv_store_close(&a->core.store);
	kv_db_fini(&a->core.db);
	duet_stop_done(&a->stop);
}

static void store_drained(struct kv_store *s)
{
	struct kv_app *a = duet_container_of(s, struct kv_app, core.store);
	finish_stop(a);
}

static void kv_app_stop(struct duet_stop_hook *hook, void *arg)
{
	struct kv_app *a = arg;
	(void)hook;

	duet_timer_stop(&a->sweep);
	if (a->serving) {
		DUET_INFO("kv",
			  "stopping: %llu commands, %llu connections (%llu "
			  "refused), %llu protocol errors; %zu keys; store: "
			  "%llu writes, %llu failed",
			  (unsigned long long)a->core.commands,
			  (unsigned long long)a->core.connections,
			  (unsigned long long)a->core.rejected,
			  (unsigned long long)a->server.protocol_errors,
			  a->core.db.count,
			  (unsigned long long)a->core.store.writes,
			  (unsigned long long)a->core.store.failures);
		duet_connpool_log(&a->server.srv.pool, "kv");
		kv_server_stop(&a->server);
		a->serving = false;
	}
	if (a->core.store.in_flight > 0) {
		a->core.store.drained = store_drained; /* the last writes */
		return;
	}
	finish_stop(a);
}

static int parse_addrs(struct kv_app *a, const char *list, uint16_t port)
{
	char err[160];
	int n = duet_sockaddr_list_parse(list, port, a->addr, MAX_ADDRS, err,
					 sizeof(err));

	if (n < 0) {
		DUET_ERROR("kv", "%s", err);
		return n;
	}
	a->naddrs = (size_t)n;
	return 0;
}

static int serve(struct kv_app *a)
{
	int r;

	if ((r = kv_server_start(&a->server, &a->core, a->loop, a->stack,
				 a->addr, a->naddrs, a->defaulted, &a->pool,
				 a->max_query)) < 0)
		return r;
	a->naddrs = a->server.srv.nlisteners;
	a->serving = true;
	duet_timer_init(a->loop, &a->sweep, sweep_tick, a);
	duet_timer_start(&a->sweep, DUET_MSEC(100), DUET_MSEC(100));
	char list[MAX_ADDRS * (DUET_IPADDR_STRLEN + 1)] = "";
	for (size_t i = 0; i < a->naddrs; i++) {
		char ip[DUET_IPADDR_STRLEN];
		size_t n = strlen(list);
		snprintf(list + n, sizeof(list) - n, "%s%s", i ? "," : "",
			 duet_ipaddr_format(&a->addr[i].ip, ip, sizeof(ip)));
	}
	if (a->core.store.mode == KV_STORE_MEMORY)
		DUET_INFO("kv", "store=memory: nothing is kept; a restart "
				"starts empty");
	else if (!a->core.store.durable)
		DUET_INFO("kv", "durable=off: writes are acknowledged before "
				"they are durable; a crash may lose the last "
				"ones");
	DUET_INFO("kv", "serving %zu keys on TCP %s port %u (%s stack, %s)",
		  a->core.db.count, list, (unsigned)a->core.port,
		  duet_net_stack_name(a->stack),
		  a->core.store.mode == KV_STORE_MEMORY ? "in memory"
		  : a->core.store.durable ? "log store, durable"
					  : "log store, not durable");
	return 0;
}

static void store_opened(struct kv_store *s, int status, void *arg)
{
	struct kv_app *a = arg;
	(void)s;

	if (status < 0 || (status = serve(a)) < 0) {
		DUET_ERROR("kv", "cannot start: %s", duet_strerror(status));
		duet_exit(a->loop, DUET_EXIT_FAILURE);
	}
}

static int kv_app_start(struct duet_loop *loop, void *arg)
{
	static struct kv_app a;
	struct duet_args *args = duet_loop_args(loop);
	const char *addrs, *store;
	long long port, max_conns, per_peer;
	uint64_t max_bulk, max_query;
	duet_time_t idle, request_timeout;
	bool durable;
	int r;
	(void)arg;

	a.loop = loop;
	if ((r = duet_args_get_int(args, "port", 6379, 1, 65535, &port)) < 0 ||
	    (r = duet_args_get_str(args, "addr", NULL, &addrs)) < 0 ||
	    (r = duet_args_get_str(args, "store", "disk", &store)) < 0 ||
	    (r = duet_args_get_str(args, "disk", "disk0", &a.disk)) < 0 ||
	    (r = duet_args_get_bool(args, "durable", true, &durable)) < 0 ||
	    (r = duet_args_get_int(args, "max_conns", 256, 1, 65536,
				   &max_conns)) < 0 ||
	    (r = duet_args_get_int(args, "per_peer", max_conns, 1, 65536,
				   &per_peer)) < 0 ||
	    (r = duet_args_get_duration(args, "idle", DUET_SEC(300), &idle)) <
		0 ||
	    (r = duet_args_get_duration(args, "request_timeout", DUET_SEC(30),
					&request_timeout)) < 0 ||
	    (r = duet_args_get_size(args, "max_bulk", 4u << 20, &max_bulk)) <
		0 ||
	    (r = duet_args_get_size(args, "max_query", 16u << 20,
				    &max_query)) < 0)
		return r;
	if (strcmp(store, "disk") != 0 && strcmp(store, "memory") != 0) {
		DUET_ERROR("kv", "store=%s: disk or memory", store);
		return -EINVAL;
	}
	if (idle == 0 || request_timeout == 0) {
		DUET_ERROR("kv", "idle= and request_timeout= must be positive");
		return -EINVAL;
	}
	if (max_bulk == 0 || max_bulk > (1u << 30) || max_query < max_bulk ||
	    max_query > (2ull << 30)) {
		DUET_ERROR("kv", "max_bulk=%llu, max_query=%llu: need 0 < "
				 "max_bulk <= 1G and max_bulk <= max_query "
				 "<= 2G",
			   (unsigned long long)max_bulk,
			   (unsigned long long)max_query);
		return -EINVAL;
	}
	a.core.port = (uint16_t)port;
	a.core.max_bulk = (size_t)max_bulk;
	a.core.started = duet_clock_monotonic();
	a.max_query = (size_t)max_query;
	a.pool = (struct duet_connpool_config){
	    .max_conns = (unsigned)max_conns,
	    .max_per_peer = (unsigned)per_peer,
	    .idle_timeout = idle,
	    .request_timeout = request_timeout,
	    .grace = DUET_CONNPOOL_GRACE,
	};
	if ((r = duet_net_open(loop, &a.stack)) < 0)
		return r;
	a.defaulted = addrs == NULL;
	if (a.defaulted)
		addrs = duet_net_shares_host_addresses(a.stack) ? "127.0.0.1,::1"
								: "::";
	if ((r = parse_addrs(&a, addrs, (uint16_t)port)) < 0)
		return r;
	if ((r = kv_db_init(&a.core.db, kv_on_expire, &a.core)) < 0)
		return r;
	duet_on_stop(loop, &a.stop, kv_app_stop, &a);
	if (strcmp(store, "memory") == 0) {
		kv_store_open_memory(&a.core.store, &a.core.db);
		return serve(&a);
	}
	struct duet_block *dev;
	if (duet_device_find(loop, a.disk, DUET_DEVICE_BLOCK) == NULL) {
		DUET_ERROR("kv",
			   "no block device %s: give one (--block %s=FILE on "
			   "POSIX, a vbd on Xen), or store=memory to keep "
			   "nothing",
			   a.disk, a.disk);
		return -ENODEV;
	}
	if ((r = duet_block_open(loop, a.disk, &dev)) < 0)
		return r;
	return kv_store_open(&a.core.store, loop, dev, &a.core.db, durable,
			     store_opened, &a);
}

DUET_APP(.name = "kv",
	 .summary = "a Redis-protocol key-value server on the log store",
	 .args_help =
	     "  port=N       TCP port (default 6379)\n"
	     "  addr=IPS     comma-separated addresses (default 127.0.0.1,::1 "
	     "on the socket stack, :: on lwIP)\n"
	     "  store=S      disk (the log store on disk=, default) or memory "
	     "(nothing kept)\n"
	     "  disk=NAME    the block device (default disk0)\n"
	     "  durable=B    replies to writes wait until durable (default "
	     "on)\n"
	     "  max_conns=N  connections at once (default 256)\n"
	     "  per_peer=N   connections from one address (default "
	     "max_conns)\n"
	     "  idle=T       close idle connections after T (default 300s)\n"
	     "  request_timeout=T  a request must be whole within T "
	     "(default 30s)\n"
	     "  max_bulk=SIZE  one value at most (default 4M)\n"
	     "  max_query=SIZE one request at most (default 16M)",
	 .start = kv_app_start);
