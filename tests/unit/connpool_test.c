/* The shared connection-slot policy (core/connpool.c) on the virtual clock:
 * eviction of the least-progressed connection when full, busy connections
 * kept, per-peer shares, time bounds that bytes do not extend, counters. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/connpool.h>
#include <duet/error.h>
#include <duet/loop.h>
#include <duet/sys.h>

#include "fakeplat.h"

#define N 8

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet_connpool pool;
static struct conn {
	struct duet_pooled pc;
	bool in;
	int ended; /* the reason + 1, or 0 */
} conns[N];

static void on_evict(struct duet_pooled *pc, enum duet_evict_reason why,
		     void *arg)
{
	struct conn *c = duet_container_of(pc, struct conn, pc);
	(void)arg;
	c->ended = (int)why + 1;
	c->in = false;
	duet_connpool_remove(pc);
}

static void start_grace(unsigned max, unsigned per_peer, duet_time_t grace)
{
	struct duet_connpool_config cfg = {
	    .max_conns = max,
	    .max_per_peer = per_peer,
	    .idle_timeout = DUET_SEC(10),
	    .request_timeout = DUET_SEC(3),
	    .grace = grace,
	};
	cr_assert_eq(duet_connpool_init(&pool, loop, &cfg, on_evict, NULL), 0);
}

static void setup(void)
{
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	memset(conns, 0, sizeof(conns));
}

static void teardown(void)
{
	for (int i = 0; i < N; i++)
		if (conns[i].in)
			duet_connpool_remove(&conns[i].pc);
	duet_connpool_fini(&pool);
}

TestSuite(connpool, .init = setup, .fini = teardown);

static void start(unsigned max, unsigned per_peer)
{
	start_grace(max, per_peer, 0);
}

static int admit(int i, const char *ip)
{
	struct duet_ipaddr a;
	cr_assert_eq(duet_ipaddr_parse(ip, &a), 0);
	int r = duet_connpool_admit(&pool, &conns[i].pc, &a);
	conns[i].in = r == 0;
	conns[i].ended = 0;
	return r;
}

static void run_for(duet_time_t d)
{
	fakeplat_run_for(loop, d);
}

Test(connpool, full_pool_evicts_the_least_progressed)
{
	start(3, 0);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.2"), 0);
	cr_assert_eq(admit(2, "10.0.0.3"), 0);
	/* 0 completes a request: it made progress, 1 is now the oldest. */
	duet_connpool_busy(&conns[0].pc);
	duet_connpool_done(&conns[0].pc, false);
	cr_assert_eq(admit(3, "10.0.0.4"), 0);
	cr_assert_eq(conns[1].ended, DUET_EVICT_FULL_IDLE + 1);
	cr_assert(conns[0].in && conns[2].in && conns[3].in);
	/* 2 holds part of a request: counted as such. */
	duet_connpool_partial(&conns[2].pc);
	cr_assert_eq(admit(4, "10.0.0.5"), 0);
	cr_assert_eq(conns[2].ended, DUET_EVICT_FULL_PARTIAL + 1);
	cr_assert_eq(pool.stats.evicted[DUET_EVICT_FULL_IDLE], 1);
	cr_assert_eq(pool.stats.evicted[DUET_EVICT_FULL_PARTIAL], 1);
	cr_assert_eq(pool.count, 3);
}

Test(connpool, busy_connections_are_kept_and_refusal_when_all_busy)
{
	start(2, 0);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.2"), 0);
	duet_connpool_busy(&conns[0].pc);
	cr_assert_eq(admit(2, "10.0.0.3"), 0);
	cr_assert(conns[0].in, "a response in flight is never evicted");
	cr_assert_eq(conns[1].ended, DUET_EVICT_FULL_IDLE + 1);
	duet_connpool_busy(&conns[2].pc);
	cr_assert_eq(admit(3, "10.0.0.4"), -EBUSY);
	cr_assert_eq(pool.stats.refused_busy, 1);
	/* Busy connections are not timed. */
	run_for(DUET_SEC(60));
	cr_assert(conns[0].in && conns[2].in);
}

Test(connpool, idle_and_request_bounds_do_not_restart_on_bytes)
{
	start(4, 0);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.1"), 0);
	run_for(DUET_SEC(9));
	cr_assert(conns[0].in);
	duet_connpool_partial(&conns[1].pc); /* 3 s from now */
	run_for(DUET_SEC(2));
	duet_connpool_partial(&conns[1].pc); /* more bytes: same bound */
	run_for(DUET_MSEC(900));
	cr_assert(conns[1].in);
	cr_assert_eq(conns[0].ended, DUET_EVICT_IDLE_TIMEOUT + 1,
		     "idle 10 s since accept");
	run_for(DUET_MSEC(200));
	cr_assert_eq(conns[1].ended, DUET_EVICT_REQUEST_TIMEOUT + 1);
}

Test(connpool, done_restarts_the_bounds)
{
	start(4, 0);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	run_for(DUET_SEC(2));
	duet_connpool_partial(&conns[0].pc);
	run_for(DUET_SEC(2));
	duet_connpool_busy(&conns[0].pc);
	run_for(DUET_SEC(20));
	cr_assert(conns[0].in);
	duet_connpool_done(&conns[0].pc, true); /* next request begun */
	run_for(DUET_MSEC(2900));
	cr_assert(conns[0].in);
	run_for(DUET_MSEC(200));
	cr_assert_eq(conns[0].ended, DUET_EVICT_REQUEST_TIMEOUT + 1);
}

Test(connpool, a_peer_at_its_share_evicts_its_own)
{
	start(6, 2);
	cr_assert_eq(admit(0, "10.0.0.9"), 0);
	cr_assert_eq(admit(1, "192.0.2.1"), 0);
	cr_assert_eq(admit(2, "192.0.2.1"), 0);
	cr_assert_eq(admit(3, "192.0.2.1"), 0);
	cr_assert_eq(conns[1].ended, DUET_EVICT_PEER + 1,
		     "the peer's oldest, not the other peer's older one");
	cr_assert(conns[0].in);
	duet_connpool_busy(&conns[2].pc);
	duet_connpool_busy(&conns[3].pc);
	cr_assert_eq(admit(4, "192.0.2.1"), -EBUSY);
	cr_assert_eq(pool.stats.refused_peer, 1);
	cr_assert_eq(admit(4, "2001:db8::1"), 0, "other peers still come in");
	cr_assert_eq(pool.stats.evicted[DUET_EVICT_PEER], 1);
}

Test(connpool, per_peer_share_of_one)
{
	start(4, 1);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.1"), 0);
	cr_assert_eq(conns[0].ended, DUET_EVICT_PEER + 1);
	cr_assert_eq(admit(2, "10.0.0.1"), 0);
	cr_assert_eq(conns[1].ended, DUET_EVICT_PEER + 1);
	cr_assert_eq(pool.count, 1);
}

Test(connpool, peer_records_follow_connections)
{
	start(2, 1);
	for (int round = 0; round < 50; round++) {
		cr_assert_eq(admit(0, "10.0.0.1"), 0);
		cr_assert_eq(admit(1, "10.0.0.2"), 0);
		duet_connpool_remove(&conns[0].pc);
		duet_connpool_remove(&conns[1].pc);
		conns[0].in = conns[1].in = false;
	}
	cr_assert_eq(pool.count, 0);
	for (size_t b = 0; b < pool.nbuckets; b++)
		cr_assert_null(pool.peers[b], "bucket %zu kept a peer", b);
}

Test(connpool, counters_logged)
{
	start(1, 0);
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.2"), 0);
	duet_connpool_busy(&conns[1].pc);
	cr_assert_eq(admit(2, "10.0.0.3"), -EBUSY);
	duet_connpool_log(&pool, "test");
	cr_assert(
	    strstr(fakeplat_console(),
		   "connections: 2 admitted, at most 1 at once; ended: 0 "
		   "idle, 0 slow request, 1 pool full, idle, 0 pool full, "
		   "incomplete request, 0 peer at its limit; refused: 1 "
		   "all busy, 0 all just arrived, 0 peer at its limit") != NULL,
	    "%s", fakeplat_console());
}

Test(connpool, bad_config_refused)
{
	struct duet_connpool_config cfg = {
	    .max_conns = 0, .idle_timeout = 1, .request_timeout = 1};
	cr_assert_eq(duet_connpool_init(&pool, loop, &cfg, on_evict, NULL),
		     -EINVAL);
	cfg.max_conns = 1;
	cfg.idle_timeout = 0;
	cr_assert_eq(duet_connpool_init(&pool, loop, &cfg, on_evict, NULL),
		     -EINVAL);
	start(1, 0); /* for the teardown */
}

/* A burst larger than the pool does not flush out connections admitted
 * within the grace: the newcomers are refused, until the grace is over. */
Test(connpool, grace_protects_the_just_admitted)
{
	start_grace(2, 0, DUET_MSEC(100));
	cr_assert_eq(admit(0, "10.0.0.1"), 0);
	cr_assert_eq(admit(1, "10.0.0.2"), 0);
	cr_assert_eq(admit(2, "10.0.0.3"), -EBUSY);
	cr_assert_eq(pool.stats.refused_young, 1);
	cr_assert(conns[0].in && conns[1].in);
	run_for(DUET_MSEC(60));
	duet_connpool_busy(&conns[0].pc);
	duet_connpool_done(&conns[0].pc, false); /* progress: grace anew */
	run_for(DUET_MSEC(60));
	cr_assert_eq(admit(2, "10.0.0.3"), 0);
	cr_assert_eq(conns[1].ended, DUET_EVICT_FULL_IDLE + 1,
		     "past its grace, the least progressed goes");
	cr_assert_eq(admit(3, "10.0.0.4"), -EBUSY, "0 progressed 60 ms ago");
	cr_assert_eq(pool.stats.refused_young, 2);
}
