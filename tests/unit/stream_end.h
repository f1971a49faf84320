/* The ends of test streams over duet/net.h, for tests of stacks (lwIP's,
 * the TLS stack over it): each end sends a reproducible stream, checks the
 * one it receives, and records what happened; accepted connections take
 * the next free server end, a copy of server_template. A callback that
 * runs while in_call is set ran inside the call that caused it, which
 * duet/net.h forbids: reentered says so. */
#ifndef DUET_TEST_STREAM_END_H
#define DUET_TEST_STREAM_END_H

#include <criterion/criterion.h>

#include <duet/error.h>
#include <duet/net.h>

#include "lwip_testenv.h"

/* One end of a test connection: what it sends (a reproducible stream),
 * what it received (checked against the peer's stream) and what happened. */
struct end {
	struct duet_tcp *c;
	uint32_t tx_seed, rx_seed;
	uint64_t to_send, sent, received;
	bool shutdown_when_sent, close_when_eof, pause_on_accept;
	uint64_t pause_after; /* pause once this much arrived (0: never) */
	bool connected, eof, corrupt, shut;
	int err;
	unsigned writable_calls, recv_calls;
};

/* Set around every call into the stack: a callback seeing it set ran
 * inside the call that caused it, which duet/net.h forbids. */
static bool in_call;
static bool reentered;

/* Larger than a lwIP connection's send buffer on any platform
 * (net/lwip/lwipopts.h), so one send of it meets backpressure. */
static uint8_t chunk[1024 * 1024];

static void pump(struct end *e)
{
	while (e->sent < e->to_send) {
		size_t n = e->to_send - e->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = stream_byte(e->tx_seed, e->sent + i);
		in_call = true;
		long r = duet_tcp_send(e->c, chunk, n);
		in_call = false;
		if (r == -EAGAIN)
			return;
		cr_assert_gt(r, 0, "send: %s", duet_strerror((int)r));
		e->sent += (uint64_t)r;
		if ((size_t)r < n)
			return;
	}
	if (e->shutdown_when_sent && !e->shut) {
		e->shut = true;
		in_call = true;
		cr_assert_eq(duet_tcp_shutdown(e->c), 0);
		in_call = false;
	}
}

static void on_recv(struct duet_tcp *c, const void *data, size_t len, void *arg)
{
	struct end *e = arg;
	const uint8_t *p = data;

	(void)c;
	reentered |= in_call;
	e->recv_calls++;
	if (len == 0) {
		cr_assert(!e->eof, "two ends of stream");
		e->eof = true;
		if (e->close_when_eof) {
			duet_tcp_close(e->c);
			e->c = NULL;
		}
		return;
	}
	cr_assert(!e->eof, "data after the end of stream");
	for (size_t i = 0; i < len; i++)
		if (p[i] != stream_byte(e->rx_seed, e->received + i))
			e->corrupt = true;
	e->received += len;
	if (e->pause_after > 0 && e->received >= e->pause_after) {
		e->pause_after = 0;
		duet_tcp_pause(e->c);
	}
}

static void on_writable(struct duet_tcp *c, void *arg)
{
	struct end *e = arg;

	(void)c;
	reentered |= in_call;
	e->writable_calls++;
	pump(e);
}

static void on_error(struct duet_tcp *c, int err, void *arg)
{
	struct end *e = arg;

	(void)c;
	reentered |= in_call;
	e->err = err;
	e->c = NULL;
}

static void on_connected(struct duet_tcp *c, void *arg)
{
	struct end *e = arg;

	(void)c;
	reentered |= in_call;
	e->connected = true;
	pump(e);
}

static const struct duet_tcp_callbacks cbs = {
    .recv = on_recv,
    .writable = on_writable,
    .error = on_error,
    .connected = on_connected,
};

/* The server side: accepted connections take the next free `end`. */
static struct end servers[256];
static unsigned accepted;
static struct end server_template;

static void on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	(void)l;
	(void)arg;
	reentered |= in_call;
	cr_assert_lt(accepted, 256);
	struct end *e = &servers[accepted++];
	*e = server_template;
	e->c = c;
	duet_tcp_set_callbacks(c, &cbs, e);
	if (e->pause_on_accept)
		duet_tcp_pause(c);
	pump(e);
}

#endif
