/* xs_proto.h — the xenstore wire protocol, without the ring.
 *
 * Plain C (only Xen's public xs_wire.h), compiled into the image and into
 * the host tests (tests/unit/xen_xs_proto_test.c). A message is a struct
 * xsd_sockmsg header followed by `len` payload bytes, at most
 * XENSTORE_PAYLOAD_MAX. Requests carry NUL-terminated strings, optionally
 * followed by raw bytes (XS_WRITE's value); replies carry a value, a
 * NUL-separated list, "OK", or for XS_ERROR an errno name ("ENOENT").
 *
 * The receiver reassembles messages from a byte stream that arrives in
 * arbitrary pieces (the ring wraps, xenstored writes in chunks). A header
 * announcing more than XENSTORE_PAYLOAD_MAX is a protocol error: the stream
 * cannot be resynchronised, so the receiver stays failed until reset.
 */
#ifndef DUET_XEN_XS_PROTO_H
#define DUET_XEN_XS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h> /* before xs_wire.h: its error table needs the names */
#include <stdint.h>

#include <xen/io/xs_wire.h>

struct duet__xs_msg {
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1]; /* always NUL-terminated */
};

/* Builds a request in out (cap bytes): the header, each of strs[0..n) with
 * its NUL, then `data` raw. Returns the total length, or -EMSGSIZE if the
 * payload exceeds XENSTORE_PAYLOAD_MAX or out is too small. */
int duet__xs_encode(void *out, size_t cap, uint32_t type, uint32_t req_id,
		    uint32_t tx_id, const char *const *strs, size_t nstrs,
		    const void *data, size_t data_len);

struct duet__xs_rx {
	size_t have; /* bytes of the current message received */
	bool failed;
	struct duet__xs_msg msg;
};

void duet__xs_rx_reset(struct duet__xs_rx *rx);
/* Takes bytes from data[0..len), storing how many it used in *used.
 * Returns 1 when rx->msg holds a complete message (it then uses no more
 * bytes until duet__xs_rx_next()), 0 when it needs more, -EMSGSIZE for an
 * oversized message (and from then on). */
int duet__xs_rx_feed(struct duet__xs_rx *rx, const void *data, size_t len,
		     size_t *used);
/* Discards the complete message so the next one can arrive. */
void duet__xs_rx_next(struct duet__xs_rx *rx);

/* A reply to a request of type `type`: 0 if it is one, the errno of an
 * XS_ERROR reply as a negative value (-EIO for an unknown name), -EPROTO
 * for a reply of another type. */
int duet__xs_reply_status(const struct duet__xs_msg *m, uint32_t type);
/* The negative errno for an xenstore error name, -EIO if unknown. */
int duet__xs_errno(const char *name);
/* Copies a reply's payload into buf as a string: -ERANGE if it does not
 * fit with its NUL, else the length. */
int duet__xs_copy_value(const struct duet__xs_msg *m, char *buf, size_t size);
/* Splits a NUL-separated payload (a directory listing, a watch event) into
 * at most max strings; returns their count, or -EPROTO if the last one is
 * not terminated and -ERANGE if there are more than max. */
int duet__xs_split(const struct duet__xs_msg *m, const char **out, size_t max);

/* The transaction id of an XS_TRANSACTION_START reply (decimal digits,
 * then the NUL): 0, or -EPROTO for anything else, 0 or past 32 bits. */
int duet__xs_tx_id(const struct duet__xs_msg *m, uint32_t *out);

/* Watch events waiting to be delivered. Lossless where it matters: a
 * watch callback re-reads what it watches, so an event equal to one
 * already queued adds nothing and is merged, and when the queue is full
 * the overflow flag asks the caller to call every watch once instead
 * (duet__xs_events_pop() then says so). */
#define DUET__XS_EVENTS 8
#define DUET__XS_EVENT_PATH_MAX 256
#define DUET__XS_TOKEN_MAX 16

struct duet__xs_events {
	struct {
		char path[DUET__XS_EVENT_PATH_MAX];
		char token[DUET__XS_TOKEN_MAX];
	} q[DUET__XS_EVENTS];
	unsigned len;
	bool overflow;
};

/* Queues a watch event (an XS_WATCH_EVENT's path and token). Returns 1 if
 * queued, 0 if merged with an equal one, -ENOSPC if it overflowed (the
 * flag is set), -EPROTO for a malformed event (too long, not two
 * strings). */
int duet__xs_events_push(struct duet__xs_events *e,
			 const struct duet__xs_msg *m);
/* The oldest event into path/token: 1, or 0 if none. After an overflow,
 * once the queue is empty, returns 2 once (path and token empty): the
 * caller fires every watch. */
int duet__xs_events_pop(struct duet__xs_events *e, char *path, size_t psize,
			char *token, size_t tsize);

/* Request ids: never 0 (watch events use 0), wrapping. */
uint32_t duet__xs_next_req_id(uint32_t *counter);

#endif
