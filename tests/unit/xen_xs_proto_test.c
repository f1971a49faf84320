/* The xenstore wire protocol of the Xen platform (platform-xen/xs_proto.c):
 * encoding requests, reassembling replies from arbitrary pieces, error
 * replies, and the limits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xs_proto.h"

static struct duet__xs_rx rx;
static char wire[2 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)];

static void setup(void)
{
	duet__xs_rx_reset(&rx);
}

TestSuite(xs_proto, .init = setup);

/* A message as xenstored would send it. */
static size_t make_msg(char *out, uint32_t type, uint32_t req_id,
		       const void *payload, size_t len)
{
	struct xsd_sockmsg h = {
	    .type = type, .req_id = req_id, .tx_id = 0, .len = (uint32_t)len};

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), payload, len);
	return sizeof(h) + len;
}

Test(xs_proto, encodes_strings_with_their_nuls)
{
	const char *strs[] = {"device/vif", "tok"};
	struct xsd_sockmsg h;
	int n = duet__xs_encode(wire, sizeof(wire), XS_WATCH, 7, 3, strs, 2,
				NULL, 0);

	cr_assert_eq(n, (int)sizeof(h) + 15);
	memcpy(&h, wire, sizeof(h));
	cr_expect_eq(h.type, XS_WATCH);
	cr_expect_eq(h.req_id, 7);
	cr_expect_eq(h.tx_id, 3);
	cr_expect_eq(h.len, 15);
	cr_expect_eq(memcmp(wire + sizeof(h), "device/vif\0tok\0", 15), 0);
}

Test(xs_proto, encodes_a_write_value_without_nul)
{
	const char *path = "data/x";
	struct xsd_sockmsg h;
	int n = duet__xs_encode(wire, sizeof(wire), XS_WRITE, 1, 0, &path, 1,
				"42", 2);

	cr_assert_eq(n, (int)sizeof(h) + 9);
	memcpy(&h, wire, sizeof(h));
	cr_expect_eq(h.len, 9);
	cr_expect_eq(memcmp(wire + sizeof(h), "data/x\00042", 9), 0);
}

Test(xs_proto, refuses_an_oversized_request)
{
	static char big[XENSTORE_PAYLOAD_MAX + 1];
	const char *path = "p";

	memset(big, 'v', sizeof(big));
	/* "p\0" plus the value: one byte over the limit. */
	cr_expect_eq(duet__xs_encode(wire, sizeof(wire), XS_WRITE, 1, 0, &path,
				     1, big, XENSTORE_PAYLOAD_MAX - 1),
		     -EMSGSIZE);
	cr_expect_gt(duet__xs_encode(wire, sizeof(wire), XS_WRITE, 1, 0, &path,
				     1, big, XENSTORE_PAYLOAD_MAX - 2),
		     0);
	cr_expect_eq(
	    duet__xs_encode(wire, 20, XS_WRITE, 1, 0, &path, 1, big, 10),
	    -EMSGSIZE, "the buffer is too small");
}

Test(xs_proto, receives_a_whole_message)
{
	size_t len = make_msg(wire, XS_READ, 5, "value", 5), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(used, len);
	cr_expect_eq(rx.msg.hdr.req_id, 5);
	cr_expect_str_eq(rx.msg.body, "value");
	cr_expect_eq(duet__xs_reply_status(&rx.msg, XS_READ), 0);
}

Test(xs_proto, reassembles_a_message_fed_byte_by_byte)
{
	size_t len = make_msg(wire, XS_DIRECTORY, 9, "a\0bb\0", 5), used;

	for (size_t i = 0; i + 1 < len; i++) {
		cr_assert_eq(duet__xs_rx_feed(&rx, wire + i, 1, &used), 0,
			     "at byte %zu", i);
		cr_assert_eq(used, 1);
	}
	cr_assert_eq(duet__xs_rx_feed(&rx, wire + len - 1, 1, &used), 1);
	const char *parts[4];
	cr_assert_eq(duet__xs_split(&rx.msg, parts, 4), 2);
	cr_expect_str_eq(parts[0], "a");
	cr_expect_str_eq(parts[1], "bb");
}

Test(xs_proto, a_truncated_message_is_not_complete)
{
	size_t len = make_msg(wire, XS_READ, 1, "abcdef", 6), used;

	cr_expect_eq(duet__xs_rx_feed(&rx, wire, 10, &used), 0,
		     "half a header");
	cr_expect_eq(duet__xs_rx_feed(&rx, wire + 10, len - 12, &used), 0,
		     "two payload bytes missing");
	cr_expect_eq(duet__xs_rx_feed(&rx, wire + len - 2, 2, &used), 1);
	cr_expect_str_eq(rx.msg.body, "abcdef");
}

Test(xs_proto, stops_at_the_end_of_each_message)
{
	size_t a = make_msg(wire, XS_WRITE, 1, "OK", 3);
	size_t b = make_msg(wire + a, XS_WATCH_EVENT, 0, "p\0t\0", 4), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, a + b, &used), 1);
	cr_expect_eq(used, a);
	cr_expect_eq(rx.msg.hdr.req_id, 1);
	size_t again;
	cr_expect_eq(duet__xs_rx_feed(&rx, wire + used, b, &again), 1,
		     "a complete message is kept until taken");
	cr_expect_eq(again, 0);
	duet__xs_rx_next(&rx);
	cr_assert_eq(duet__xs_rx_feed(&rx, wire + a, b, &used), 1);
	cr_expect_eq(rx.msg.hdr.type, XS_WATCH_EVENT);
}

Test(xs_proto, a_stream_cut_anywhere_yields_the_same_messages)
{
	static const char *const bodies[] = {"first", "", "third\0with\0nuls"};
	static const size_t lens[] = {5, 0, 16};
	size_t total = 0;

	for (unsigned i = 0; i < 3; i++)
		total +=
		    make_msg(wire + total, XS_READ, i + 1, bodies[i], lens[i]);
	/* Every chunk size from 1 byte to the whole stream at once. */
	for (size_t chunk = 1; chunk <= total; chunk++) {
		unsigned got = 0;
		size_t at = 0;
		duet__xs_rx_reset(&rx);
		while (at < total) {
			size_t n = total - at < chunk ? total - at : chunk,
			       used;
			int r = duet__xs_rx_feed(&rx, wire + at, n, &used);
			cr_assert_geq(r, 0);
			at += used;
			if (r == 1) {
				cr_assert_lt(got, 3);
				cr_assert_eq(rx.msg.hdr.req_id, got + 1,
					     "chunk %zu", chunk);
				cr_assert_eq(rx.msg.hdr.len, lens[got]);
				cr_assert_eq(
				    memcmp(rx.msg.body, bodies[got], lens[got]),
				    0);
				got++;
				duet__xs_rx_next(&rx);
			}
		}
		cr_expect_eq(got, 3, "chunk %zu: %u messages", chunk, got);
	}
}

Test(xs_proto, an_empty_payload_is_a_message)
{
	size_t len = make_msg(wire, XS_READ, 2, "", 0), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_str_eq(rx.msg.body, "");
}

Test(xs_proto, an_oversized_message_fails_the_stream)
{
	struct xsd_sockmsg h = {
	    .type = XS_READ, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1};
	size_t used;

	memcpy(wire, &h, sizeof(h));
	cr_expect_eq(duet__xs_rx_feed(&rx, wire, sizeof(h), &used), -EMSGSIZE);
	size_t len = make_msg(wire, XS_READ, 2, "x", 1);
	cr_expect_eq(duet__xs_rx_feed(&rx, wire, len, &used), -EMSGSIZE,
		     "no resynchronising after a bad length");
	duet__xs_rx_reset(&rx);
	cr_expect_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
}

Test(xs_proto, the_largest_message_fits)
{
	static char payload[XENSTORE_PAYLOAD_MAX];
	size_t used;

	memset(payload, 'z', sizeof(payload));
	size_t len = make_msg(wire, XS_READ, 3, payload, sizeof(payload));
	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(strlen(rx.msg.body), XENSTORE_PAYLOAD_MAX);
}

Test(xs_proto, error_replies_become_negative_errno)
{
	size_t len = make_msg(wire, XS_ERROR, 4, "ENOENT", 7), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(duet__xs_reply_status(&rx.msg, XS_READ), -ENOENT);
	cr_expect_eq(duet__xs_errno("EACCES"), -EACCES);
	cr_expect_eq(duet__xs_errno("EAGAIN"), -EAGAIN);
	cr_expect_eq(duet__xs_errno("ENOSUCHTHING"), -EIO);
}

Test(xs_proto, a_reply_of_the_wrong_type_is_a_protocol_error)
{
	size_t len = make_msg(wire, XS_WRITE, 4, "OK", 3), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(duet__xs_reply_status(&rx.msg, XS_READ), -EPROTO);
}

Test(xs_proto, copy_value_checks_room)
{
	char small[4], big[16];
	size_t len = make_msg(wire, XS_READ, 1, "four", 4), used;

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(duet__xs_copy_value(&rx.msg, small, sizeof(small)),
		     -ERANGE);
	cr_expect_eq(duet__xs_copy_value(&rx.msg, big, sizeof(big)), 4);
	cr_expect_str_eq(big, "four");
}

/* xenstored's transaction ids are decimal and 32-bit; anything else,
 * however long, is refused (a run of digits once overflowed the sum). */
Test(xs_proto, transaction_ids_are_32_bit_decimals)
{
	static const struct {
		const char *body;
		int r;
		uint32_t id;
	} cases[] = {
	    {"7", 0, 7},
	    {"4294967295", 0, 4294967295u},
	    {"4294967296", -EPROTO, 0},
	    {"99999999999999999999999999999999", -EPROTO, 0},
	    {"0", -EPROTO, 0},
	    {"", -EPROTO, 0},
	    {"12x", -EPROTO, 0},
	    {"-1", -EPROTO, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = make_msg(wire, XS_TRANSACTION_START, 1,
				      cases[i].body, strlen(cases[i].body) + 1),
		       used;
		uint32_t id = 0;
		duet__xs_rx_reset(&rx);
		cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
		cr_expect_eq(duet__xs_tx_id(&rx.msg, &id), cases[i].r, "'%s'",
			     cases[i].body);
		if (cases[i].r == 0)
			cr_expect_eq(id, cases[i].id, "'%s'", cases[i].body);
	}
}

Test(xs_proto, split_rejects_unterminated_and_too_many)
{
	const char *parts[2];
	size_t used, len = make_msg(wire, XS_DIRECTORY, 1, "a\0b", 3);

	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(duet__xs_split(&rx.msg, parts, 2), -EPROTO);
	duet__xs_rx_next(&rx);
	len = make_msg(wire, XS_DIRECTORY, 1, "a\0b\0c\0", 6);
	cr_assert_eq(duet__xs_rx_feed(&rx, wire, len, &used), 1);
	cr_expect_eq(duet__xs_split(&rx.msg, parts, 2), -ERANGE);
}

Test(xs_proto, request_ids_skip_zero)
{
	uint32_t counter = UINT32_MAX - 1;

	cr_expect_eq(duet__xs_next_req_id(&counter), UINT32_MAX);
	cr_expect_eq(duet__xs_next_req_id(&counter), 1,
		     "0 belongs to watch events");
}

/* Watch events: an XS_WATCH_EVENT message's payload is "PATH\0TOKEN\0". */
static struct duet__xs_msg ev_msg;

static const struct duet__xs_msg *event(const char *path, const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;

	memset(&ev_msg, 0, sizeof(ev_msg));
	ev_msg.hdr.type = XS_WATCH_EVENT;
	memcpy(ev_msg.body, path, pl);
	memcpy(ev_msg.body + pl, token, tl);
	ev_msg.hdr.len = (uint32_t)(pl + tl);
	return &ev_msg;
}

Test(xs_proto, watch_events_come_out_in_order_and_equal_ones_merge)
{
	static struct duet__xs_events e;
	char path[DUET__XS_EVENT_PATH_MAX], token[DUET__XS_TOKEN_MAX];

	cr_assert_eq(duet__xs_events_push(&e, event("/a/state", "duet1")), 1);
	cr_assert_eq(duet__xs_events_push(&e, event("/b/state", "duet2")), 1);
	cr_assert_eq(duet__xs_events_push(&e, event("/a/state", "duet1")), 0,
		     "an equal event is merged");
	cr_assert_eq(duet__xs_events_push(&e, event("/a/state", "duet3")), 1,
		     "another token is another watch");
	cr_assert_eq(e.len, 3);
	cr_assert_eq(duet__xs_events_pop(&e, path, sizeof(path), token,
					 sizeof(token)),
		     1);
	cr_assert_str_eq(path, "/a/state");
	cr_assert_str_eq(token, "duet1");
	duet__xs_events_pop(&e, path, sizeof(path), token, sizeof(token));
	cr_assert_str_eq(path, "/b/state");
	duet__xs_events_pop(&e, path, sizeof(path), token, sizeof(token));
	cr_assert_str_eq(token, "duet3");
	cr_assert_eq(duet__xs_events_pop(&e, path, sizeof(path), token,
					 sizeof(token)),
		     0);
}

/* No event is lost for good: past the queue's room, the caller is told to
 * call every watch once, after the events it holds. */
Test(xs_proto, an_overflow_asks_for_every_watch_once)
{
	static struct duet__xs_events e;
	char path[DUET__XS_EVENT_PATH_MAX], token[DUET__XS_TOKEN_MAX], p[32];

	for (unsigned i = 0; i < DUET__XS_EVENTS; i++) {
		snprintf(p, sizeof(p), "/dev/%u/state", i);
		cr_assert_eq(duet__xs_events_push(&e, event(p, "duet1")), 1);
	}
	cr_assert_eq(duet__xs_events_push(&e, event("/late", "duet9")),
		     -ENOSPC);
	cr_assert(e.overflow);
	for (unsigned i = 0; i < DUET__XS_EVENTS; i++)
		cr_assert_eq(duet__xs_events_pop(&e, path, sizeof(path), token,
						 sizeof(token)),
			     1);
	cr_assert_eq(duet__xs_events_pop(&e, path, sizeof(path), token,
					 sizeof(token)),
		     2, "the overflow must be reported");
	cr_assert_str_eq(path, "");
	cr_assert_eq(duet__xs_events_pop(&e, path, sizeof(path), token,
					 sizeof(token)),
		     0, "and only once");
}

Test(xs_proto, malformed_watch_events_are_refused)
{
	static struct duet__xs_events e;
	static char longpath[DUET__XS_EVENT_PATH_MAX + 8];

	memset(longpath, 'a', sizeof(longpath) - 1);
	cr_assert_eq(duet__xs_events_push(&e, event(longpath, "duet1")),
		     -EPROTO);
	cr_assert_eq(duet__xs_events_push(
			 &e, event("/a", "a-token-much-too-long-for-us")),
		     -EPROTO);
	/* One string only. */
	memset(&ev_msg, 0, sizeof(ev_msg));
	memcpy(ev_msg.body, "/a", 3);
	ev_msg.hdr.len = 3;
	cr_assert_eq(duet__xs_events_push(&e, &ev_msg), -EPROTO);
	cr_assert_eq(e.len, 0);
	cr_assert(!e.overflow);
}
