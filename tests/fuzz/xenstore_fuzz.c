/* Replies and watch events from xenstored, as the Xen platform's client
 * takes them off the ring (platform-xen/xs_proto.c): any byte stream, cut
 * anywhere, reassembles into the same messages as when fed whole; each
 * message's payload is read as the client reads it (status, value,
 * directory listing, transaction id) within its bounds, and watch events
 * queue and come out without loss or overrun.
 *
 * Input: an eighth of it gives the pieces' lengths (a byte each: its low
 * 6 bits plus one, used in turn), the rest is the stream. */
#include "fuzz.h"
#include "xs_proto.h"

#define MAXMSGS 64

static struct duet__xs_rx rx;
static struct duet__xs_events events;

/* FNV-1a of each message, for comparing two feeds. */
static uint64_t digest(const struct duet__xs_msg *m)
{
	const uint8_t *p = (const uint8_t *)m;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < sizeof(m->hdr) + m->hdr.len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void use(const struct duet__xs_msg *m)
{
	static const uint32_t types[] = {XS_READ, XS_WRITE, XS_DIRECTORY,
					 XS_TRANSACTION_START, XS_WATCH};
	char small[8], big[XENSTORE_PAYLOAD_MAX + 1], path[64], token[8];
	const char *parts[8];
	uint32_t tx;

	FUZZ_CHECK(m->hdr.len <= XENSTORE_PAYLOAD_MAX);
	FUZZ_CHECK(m->body[m->hdr.len] == '\0');
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int r = duet__xs_reply_status(m, types[i]);
		FUZZ_CHECK(r <= 0);
	}
	int n = duet__xs_copy_value(m, small, sizeof(small));
	FUZZ_CHECK(n == -ERANGE || (n >= 0 && (size_t)n < sizeof(small)));
	FUZZ_CHECK(duet__xs_copy_value(m, big, sizeof(big)) == (int)m->hdr.len);
	n = duet__xs_split(m, parts, 8);
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(parts[i] >= m->body &&
			   parts[i] + strlen(parts[i]) < m->body + m->hdr.len);
	if (duet__xs_tx_id(m, &tx) == 0)
		FUZZ_CHECK(tx != 0);
	if (m->hdr.type == XS_WATCH_EVENT) {
		int r = duet__xs_events_push(&events, m);
		FUZZ_CHECK(r >= -EPROTO && r <= 1);
		FUZZ_CHECK(events.len <= DUET__XS_EVENTS);
		if (m->hdr.req_id & 1) {
			while ((r = duet__xs_events_pop(&events, path,
							sizeof(path), token,
							sizeof(token))) > 0)
				FUZZ_CHECK(strlen(path) < sizeof(path) &&
					   strlen(token) < sizeof(token));
		}
	}
}

/* Feeds the stream in pieces; the messages' digests into out. */
static unsigned feed(const uint8_t *s, size_t len, const uint8_t *cuts,
		     size_t ncuts, uint64_t *out, bool inspect)
{
	unsigned count = 0;
	size_t at = 0, c = 0;

	duet__xs_rx_reset(&rx);
	while (at < len && count < MAXMSGS) {
		size_t piece = len - at;
		if (cuts != NULL) {
			piece = (size_t)(cuts[c++ % ncuts] & 63) + 1;
			if (piece > len - at)
				piece = len - at;
		}
		size_t used;
		int r = duet__xs_rx_feed(&rx, s + at, piece, &used);
		FUZZ_CHECK(used <= piece);
		at += used;
		if (r < 0)
			break;
		if (r == 1) {
			if (inspect)
				use(&rx.msg);
			out[count++] = digest(&rx.msg);
			duet__xs_rx_next(&rx);
		} else {
			FUZZ_CHECK(used == piece); /* needs more: took all */
		}
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t a[MAXMSGS], b[MAXMSGS];
	size_t ncuts = size / 8;
	const uint8_t *stream = data + ncuts;
	size_t len = size - ncuts;

	if (ncuts == 0)
		return 0;
	memset(&events, 0, sizeof(events));
	unsigned n = feed(stream, len, data, ncuts, a, true);
	unsigned m = feed(stream, len, NULL, 0, b, false);
	FUZZ_CHECK(n == m && memcmp(a, b, n * sizeof(a[0])) == 0);
	return 0;
}
