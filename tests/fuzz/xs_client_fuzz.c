/* The xenstore client (platform-xen/xs_client.c) against a hostile
 * xenstored on the shared ring: replies to the request, to others or to
 * none, of the wrong type, announcing any length, cut anywhere or never
 * finished, payloads of any bytes, watch events at any time, ring indexes
 * out of bounds, a request ring that stops moving, and silence. Every call
 * must come back by its deadline with a result its contract allows and
 * its buffers in bounds; a lost connection fails every later call at once;
 * watch callbacks get a NUL-terminated path and may make requests.
 *
 * Input: calls, each an op byte and its operands; whenever the client
 * waits, xenstored's next move and the time it takes come from the input
 * too. */
#include <errno.h>

#include <duet/platform.h>

#include "fuzz.h"
#include "xs_client.h"
#include "xs_proto.h"

static struct xenstore_domain_interface page;
static struct fuzz_in in;

/* xenstored's side: our requests reassembled, the last one's id and type. */
static struct duet__xs_rx reqs;
static uint32_t last_id, last_type;
static bool stalled;  /* it stops taking requests */
static bool desynced; /* its request stream was corrupted: stop checking */
static unsigned waits, raises;

static struct duet__xs_watch w[2];
static const char *const watch_paths[2] = {"backend/vif/5/0/state",
					   "device/vif/0/state"};
static unsigned callbacks, depth;

/* ------------------------------------------------------- the hostile side */

static void take_requests(void)
{
	XENSTORE_RING_IDX cons = page.req_cons, prod = page.req_prod;

	if (stalled)
		return;
	while (!desynced && cons != prod) {
		size_t off = MASK_XENSTORE_IDX(cons), n = prod - cons, used;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		int r = duet__xs_rx_feed(&reqs, page.req + off, n, &used);
		FUZZ_CHECK(r >= 0); /* the client's requests are well formed */
		cons += (XENSTORE_RING_IDX)used;
		if (r == 1) {
			last_id = reqs.msg.hdr.req_id;
			last_type = reqs.msg.hdr.type;
			FUZZ_CHECK(last_id != 0);
			duet__xs_rx_next(&reqs);
		}
	}
	page.req_cons = prod;
}

/* Appends to the reply ring as far as there is room. */
static void put(const void *data, size_t len)
{
	int64_t room =
	    XENSTORE_RING_SIZE -
	    (int64_t)(XENSTORE_RING_IDX)(page.rsp_prod - page.rsp_cons);
	const uint8_t *p = data;

	if (room < 0 || room > XENSTORE_RING_SIZE)
		room = 0;
	if ((int64_t)len > room)
		len = (size_t)room;
	for (size_t i = 0; i < len; i++)
		page.rsp[MASK_XENSTORE_IDX(page.rsp_prod + i)] = (char)p[i];
	page.rsp_prod += (XENSTORE_RING_IDX)len;
}

static void put_msg(uint32_t type, uint32_t id, uint32_t len, const void *body,
		    size_t body_len, size_t cut)
{
	uint8_t m[sizeof(struct xsd_sockmsg) + 512];
	struct xsd_sockmsg h = {.type = type, .req_id = id, .len = len};

	if (body_len > 512)
		body_len = 512;
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), body, body_len);
	size_t n = sizeof(h) + body_len;
	put(m, cut < n ? cut : n);
}

/* A watch event for one of our watches, well formed. */
static void put_event(unsigned which)
{
	char body[128];
	const uint8_t *tail;
	size_t tlen = fuzz_bytes(&in, 32, &tail);
	int n = snprintf(body, sizeof(body), "%s%.*s", watch_paths[which & 1],
			 (int)tlen, (const char *)tail);
	size_t len = strnlen(body, (size_t)n) + 1;

	len += (size_t)snprintf(body + len, sizeof(body) - len, "%s",
				w[which & 1].token) +
	       1;
	put_msg(XS_WATCH_EVENT, 0, (uint32_t)len, body, len, SIZE_MAX);
}

/* xenstored's move while the client waits (or between calls). */
static void move(void)
{
	uint8_t op = fuzz_u8(&in);
	const uint8_t *b;
	size_t n;

	if (op < 96) { /* the reply, an error reply, or one cut short */
		n = fuzz_bytes(&in, 255, &b);
		put_msg(op & 1 ? XS_ERROR : last_type, last_id, (uint32_t)n, b,
			n, op & 2 ? SIZE_MAX : fuzz_u8(&in));
	} else if (op < 112) {
		n = fuzz_bytes(&in, 255, &b);
		put_msg(XS_WATCH_EVENT, 0, (uint32_t)n, b, n, SIZE_MAX);
	} else if (op < 128) {
		put_event(op);
	} else if (op < 160) { /* any header: type, id, length */
		uint32_t type = fuzz_u8(&in);
		uint32_t id = op & 1 ? last_id : fuzz_u32(&in);
		uint32_t len = op & 2 ? fuzz_u32(&in) : fuzz_u16(&in);
		n = fuzz_bytes(&in, 255, &b);
		put_msg(type, id, len, b, n, SIZE_MAX);
	} else if (op < 192) {
		n = fuzz_bytes(&in, 255, &b);
		put(b, n);
	} else if (op < 200) {
		page.rsp_prod += fuzz_u32(&in);
	} else if (op < 208) {
		page.req_cons = fuzz_u32(&in);
		desynced = true;
	} else if (op < 216) {
		stalled = !stalled;
	} /* else silence */
}

static void notify(void)
{
	take_requests();
}

static void clear(void)
{
}

static void wait_for(duet_time_t deadline)
{
	waits++;
	FUZZ_CHECK(deadline > fakeplat_time());
	if (!fuzz_more(&in)) {
		fakeplat_set_time(deadline); /* xenstored is silent for good */
		return;
	}
	move();
	fakeplat_set_time(fakeplat_time() +
			  DUET_MSEC(20) * ((duet_time_t)fuzz_u8(&in) + 1));
}

static void raise_port(void)
{
	raises++;
}

static const struct duet__xs_transport transport = {
    .ring = &page,
    .notify = notify,
    .clear = clear,
    .wait = wait_for,
    .raise = raise_port,
    .now = duet_plat_clock_monotonic,
};

/* ------------------------------------------------------------ the calls */

static void check_errno(int r)
{
	FUZZ_CHECK(r <= 0 && r > -4096);
}

static void on_watch(const char *path, void *arg)
{
	char buf[16];

	FUZZ_CHECK(arg == &w[0] || arg == &w[1]);
	FUZZ_CHECK(strlen(path) < DUET__XS_EVENT_PATH_MAX);
	callbacks++;
	/* A watch re-reads what it watches. */
	if (depth++ == 0) {
		int r = duet__xs_read(XS_TX_NONE, path, buf, sizeof(buf));
		FUZZ_CHECK(r < 0 ||
			   ((size_t)r < sizeof(buf) && buf[r] == '\0'));
	}
	depth--;
}

static void call(uint8_t op)
{
	static const char *const paths[] = {"device/vif/0/mac", "domid",
					    "device/vbd", ""};
	const char *path = paths[fuzz_u8(&in) & 3];
	char buf[64];
	size_t size = (size_t)(fuzz_u8(&in) & 63) + 1;
	uint32_t tx = fuzz_u8(&in) & 1 ? XS_TX_NONE : 3;
	unsigned which = op & 1;
	int r;

	switch (op % 9) {
	case 0:
		r = duet__xs_read(tx, path, buf, size);
		FUZZ_CHECK(r < 0 || ((size_t)r < size && buf[r] == '\0'));
		break;
	case 1: r = duet__xs_write(tx, path, "4"); break;
	case 2:
		r = duet__xs_directory(tx, path, buf, size);
		FUZZ_CHECK(r < 0 || (size_t)r <= size);
		break;
	case 3: r = duet__xs_rm(tx, path); break;
	case 4: {
		uint32_t id = 0;
		r = duet__xs_tx_start(&id);
		FUZZ_CHECK(r < 0 || id != 0);
		break;
	}
	case 5: r = duet__xs_tx_end(tx, op & 2); break;
	case 6:
		if (w[which].cb != NULL)
			return;
		r = duet__xs_watch(&w[which], watch_paths[which], on_watch,
				   &w[which]);
		if (r < 0)
			w[which].cb = NULL;
		break;
	case 7:
		if (w[which].cb == NULL)
			return;
		r = duet__xs_unwatch(&w[which]);
		w[which].cb = NULL; /* off the list either way */
		break;
	default:
		move();
		duet__xs_client_deliver();
		return;
	}
	if (r > 0)
		FUZZ_CHECK(op % 9 == 0 || op % 9 == 2);
	else
		check_errno(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in = (struct fuzz_in){data, size};
	memset(&page, 0, sizeof(page));
	memset(w, 0, sizeof(w));
	duet__xs_rx_reset(&reqs);
	last_id = last_type = 0;
	stalled = desynced = false;
	waits = raises = callbacks = depth = 0;
	fakeplat_reset();
	duet__xs_client_start(&transport);

	for (unsigned steps = 0; fuzz_more(&in) && steps < 200; steps++) {
		bool lost = duet__xs_client_lost();
		unsigned waited = waits;
		duet_time_t t0 = fakeplat_time();
		uint8_t op = fuzz_u8(&in);

		call(op);
		if (op % 9 != 8) {
			/* By the deadline, give or take one move's time. */
			FUZZ_CHECK(fakeplat_time() - t0 <=
				   DUET__XS_TIMEOUT + DUET_MSEC(20) * 256);
			if (lost)
				FUZZ_CHECK(waits == waited);
		}
	}
	return 0;
}
