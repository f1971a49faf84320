/* The TCP server skeleton (duet_tcp_server in duet/connpool.h) against the
 * fake stack: a held record outlives its connection until the last drop,
 * the stop's drained waits for it, the timeout hook answers or lets the
 * skeleton close, a refusal says why, and a handshake is timed as a
 * request from the accept. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <duet/connpool.h>
#include <duet/error.h>
#include <duet/loop.h>
#include <duet/sys.h>

#include "fakeplat.h"
#include "net_fakestack.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet_tcp_server srv;
static struct fconn conns[4];
static unsigned released, timeouts, drained_calls;
static int refused_err;
static bool answer_timeouts; /* the hook takes request timeouts itself */

struct rec {
	struct duet_server_conn sc;
	uint16_t port;
};

static struct duet_server_conn *op_open(void *arg)
{
	struct rec *r = calloc(1, sizeof(*r));
	(void)arg;
	return r != NULL ? &r->sc : NULL;
}

static void op_start(struct duet_server_conn *sc, void *arg)
{
	struct rec *r = duet_container_of(sc, struct rec, sc);
	(void)arg;
	r->port = sc->peer.port;
}

static bool op_timeout(struct duet_server_conn *sc, enum duet_evict_reason why,
		       void *arg)
{
	(void)arg;
	timeouts++;
	if (!answer_timeouts || why != DUET_EVICT_REQUEST_TIMEOUT)
		return false;
	duet_connpool_busy(&sc->slot); /* "sending a last response" */
	return true;
}

static void op_release(struct duet_server_conn *sc, void *arg)
{
	(void)arg;
	released++;
	free(duet_container_of(sc, struct rec, sc));
}

static void op_refused(int err, void *arg)
{
	(void)arg;
	refused_err = err;
}

static const struct duet_tcp_server_ops ops = {
    .open = op_open,
    .start = op_start,
    .timeout = op_timeout,
    .release = op_release,
    .refused = op_refused,
};

static void start(bool handshake)
{
	struct duet_sockaddr addr = {.port = 80};
	struct duet_connpool_config cfg = {.max_conns = 2,
					   .idle_timeout = DUET_SEC(10),
					   .request_timeout = DUET_SEC(3),
					   .handshake = handshake};
	duet_ipaddr_parse("127.0.0.1", &addr.ip);
	cr_assert_eq(duet_tcp_server_start(&srv, loop, &fstack, &addr, 1, false,
					   &cfg, &ops, NULL, "test"),
		     0);
}

static void setup(void)
{
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	fakestack_install(loop);
	memset(conns, 0, sizeof(conns));
	released = timeouts = drained_calls = 0;
	refused_err = 0;
	answer_timeouts = false;
}

TestSuite(tcp_server, .init = setup);

static struct duet_server_conn *first(void)
{
	cr_assert_not(duet_list_empty(&srv.conns));
	return duet_container_of(srv.conns.next, struct duet_server_conn, link);
}

static void on_drained(void *arg)
{
	(void)arg;
	drained_calls++;
}

Test(tcp_server, a_held_record_is_released_at_the_last_drop)
{
	start(false);
	fakestack_accept(&conns[0], SIZE_MAX, 5000);
	struct duet_server_conn *sc = first();
	cr_assert_eq(duet_container_of(sc, struct rec, sc)->port, 5000,
		     "start() sees the peer's address");
	duet_server_conn_hold(sc);
	duet_server_conn_hold(sc);
	duet_tcp_abort(sc->tcp);
	duet_server_conn_end(sc);
	cr_assert(duet_server_conn_ended(sc));
	cr_assert_eq(duet_tcp_server_count(&srv), 0, "its slot is free");
	cr_assert_eq(srv.held, 1);
	duet_server_conn_drop(sc);
	cr_assert_eq(released, 0, "one hold is left");
	duet_server_conn_drop(sc);
	cr_assert_eq(released, 1);
	cr_assert_eq(srv.held, 0);
	duet_tcp_server_stop(&srv, on_drained, NULL);
	cr_assert_eq(drained_calls, 1, "nothing held: drained at once");
}

Test(tcp_server, stop_waits_for_held_records_before_drained)
{
	start(false);
	fakestack_accept(&conns[0], SIZE_MAX, 5000);
	fakestack_accept(&conns[1], SIZE_MAX, 5001);
	struct duet_server_conn *sc = first();
	duet_server_conn_hold(sc);
	duet_tcp_server_stop(&srv, on_drained, NULL);
	cr_assert(conns[0].closed && conns[1].closed);
	cr_assert_eq(released, 1, "the one not held went at once");
	cr_assert_eq(drained_calls, 0);
	duet_server_conn_drop(sc);
	cr_assert_eq(released, 2);
	cr_assert_eq(drained_calls, 1);
}

Test(tcp_server, the_timeout_hook_answers_or_the_skeleton_closes)
{
	start(false);
	answer_timeouts = true;
	fakestack_accept(&conns[0], SIZE_MAX, 5000);
	fakestack_accept(&conns[1], SIZE_MAX, 5001);
	duet_connpool_partial(&first()->slot);
	fakeplat_run_for(loop, DUET_SEC(4));
	cr_assert_eq(timeouts, 1);
	cr_assert_not(conns[0].closed, "the server answers it itself");
	cr_assert_eq(duet_tcp_server_count(&srv), 2);
	fakeplat_run_for(loop, DUET_SEC(7));
	cr_assert_eq(timeouts, 2, "the idle one timed out too");
	cr_assert(conns[1].closed, "and the skeleton closed it");
	cr_assert_eq(released, 1);
	duet_tcp_server_stop(&srv, NULL, NULL);
	cr_assert_eq(released, 2);
}

Test(tcp_server, a_refusal_says_why)
{
	start(false);
	fakestack_accept(&conns[0], SIZE_MAX, 5000);
	fakestack_accept(&conns[1], SIZE_MAX, 5001);
	duet_connpool_busy(&first()->slot);
	duet_connpool_busy(
	    &duet_container_of(srv.conns.prev, struct duet_server_conn, link)
		 ->slot);
	fakestack_accept(&conns[2], SIZE_MAX, 5002);
	cr_assert_eq(refused_err, -EBUSY);
	cr_assert(conns[2].aborted);
	cr_assert_eq(released, 1, "its record went back");
	duet_tcp_server_stop(&srv, NULL, NULL);
}

Test(tcp_server, a_handshake_is_timed_as_a_request)
{
	start(true);
	fakestack_accept(&conns[0], SIZE_MAX, 5000);
	fakeplat_run_for(loop, DUET_SEC(4));
	cr_assert(conns[0].closed, "no first byte within request_timeout");
	cr_assert_eq(srv.pool.stats.evicted[DUET_EVICT_REQUEST_TIMEOUT], 1);
	duet_tcp_server_stop(&srv, NULL, NULL);
}
