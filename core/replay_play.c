/* The replayer: takes records in order, delivers the recorded events where
 * the recording had them, and stops at the first difference
 * (core/REPLAY.md). The log is untrusted: every payload is decoded through
 * a cursor and a malformed one stops the replay like a divergence. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/args.h>
#include <duet/buildinfo.h>
#include <duet/platform.h>
#include <duet/sys.h>

#include "replay_int.h"

static bool same(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

int duet_rr_replay_open(const char *app, const void *log, size_t len,
			duet_rr_stop stop, void *stop_arg, struct duet_rr **out,
			char *err, size_t errlen)
{
	struct rr_header h;
	struct duet_rr *rr;

	if (duet__rr_reader_init(&(struct rr_reader){0}, log, len, &h) < 0) {
		snprintf(err, errlen, "not a replay log (bad header)");
		return -EINVAL;
	}
	if (!same(h.app, h.app_len, app) ||
	    !same(h.commit, h.commit_len, duet_buildinfo.commit)) {
		snprintf(err, errlen, "the log was recorded by %.*s at commit "
			 "%.*s (%.*s); this is %s at commit %s: replay it with "
			 "that app built from that commit",
			 (int)h.app_len, h.app, (int)h.commit_len, h.commit,
			 (int)h.platform_len, h.platform, app,
			 duet_buildinfo.commit);
		return -ESTALE;
	}
	if ((rr = calloc(1, sizeof(*rr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	duet__rr_reader_init(&rr->rd, log, len, &h);
	rr->replaying = true;
	rr->peeked = -1;
	rr->stop = stop;
	rr->stop_arg = stop_arg;
	duet_list_init(&rr->pending);
	*out = rr;
	return 0;
}

void duet_rr_set_signal(struct duet_rr *rr, duet_rr_signal_cb cb, void *arg)
{
	rr->signal = cb;
	rr->signal_arg = arg;
}

_Noreturn static void stop(struct duet_rr *rr, int code, const char *msg)
{
	rr->stop(rr->stop_arg, code, msg);
	__builtin_trap(); /* the stop function must not return */
}

static const char *dev_name(struct duet_rr *rr, uint8_t id)
{
	return rr->dev[id] != NULL ? rr->dev[id]->name : NULL;
}

const struct rr_record *duet__rr_peek(struct duet_rr *rr)
{
	char msg[160];

	if (rr->peeked < 0)
		rr->peeked = duet__rr_next(&rr->rd, &rr->next);
	if (rr->peeked < 0) {
		snprintf(msg, sizeof(msg), "replay: the log is malformed at "
			 "record %llu (offset 0x%zx): replay stopped",
			 (unsigned long long)rr->index, rr->rd.pos);
		stop(rr, DUET_RR_EXIT_END, msg);
	}
	return rr->peeked == 1 && rr->next.kind != RR_FULL ? &rr->next : NULL;
}

__attribute__((format(printf, 2, 0))) static void
vstop_at(struct duet_rr *rr, const char *got_fmt, va_list ap)
{
	char got[320], want[320], msg[800];
	const struct rr_record *next = duet__rr_peek(rr);

	vsnprintf(got, sizeof(got), got_fmt, ap);
	if (next == NULL) {
		snprintf(msg, sizeof(msg), "replay: the log ends at record %llu "
			 "(%s); the run went on with %s",
			 (unsigned long long)rr->index,
			 rr->peeked == 1 ? "it filled up: FULL"
			 : rr->rd.cut	 ? "no END, cut inside a record: the "
					   "recording stopped there"
					 : "no END: the recording stopped there",
			 got);
		stop(rr, DUET_RR_EXIT_END, msg);
	}
	duet__rr_describe(next, dev_name(rr, next->dev), want, sizeof(want));
	snprintf(msg, sizeof(msg), "replay: divergence at record %llu (offset "
		 "0x%zx): expected %s, got %s", (unsigned long long)next->index,
		 next->offset, want, got);
	stop(rr, DUET_RR_EXIT_DIVERGED, msg);
}

_Noreturn void duet__rr_diverge(struct duet_rr *rr, const char *got_fmt, ...)
{
	va_list ap;

	va_start(ap, got_fmt);
	vstop_at(rr, got_fmt, ap);
	va_end(ap);
	__builtin_trap();
}

static void consume(struct duet_rr *rr)
{
	rr->peeked = -1;
	rr->index++;
}

const struct rr_record *duet__rr_take(struct duet_rr *rr, uint8_t kind,
				      const char *got_fmt, ...)
{
	const struct rr_record *next = duet__rr_peek(rr);
	va_list ap;

	if (next == NULL || next->kind != kind) {
		va_start(ap, got_fmt);
		vstop_at(rr, got_fmt, ap);
		va_end(ap);
	}
	consume(rr);
	return &rr->next; /* valid until the next peek */
}

void duet__rr_bad_payload(struct duet_rr *rr, const struct rr_cursor *c)
{
	char msg[160];

	if (!c->bad && c->n == 0)
		return;
	snprintf(msg, sizeof(msg), "replay: the log is malformed at record "
		 "%llu (a bad payload): replay stopped",
		 (unsigned long long)(rr->index - 1));
	stop(rr, DUET_RR_EXIT_END, msg);
}

static struct duet_device *device_of(struct duet_rr *rr,
				     const struct rr_record *rec,
				     enum duet_device_kind kind)
{
	struct duet_device *d = rr->dev[rec->dev];
	char msg[160];

	if (d == NULL || d->kind != kind) {
		snprintf(msg, sizeof(msg), "replay: the log is malformed at "
			 "record %llu: %s for dev %u, not a %s",
			 (unsigned long long)(rr->index - 1),
			 duet__rr_kind_name(rec->kind), rec->dev,
			 duet_device_kind_name(kind));
		stop(rr, DUET_RR_EXIT_END, msg);
	}
	return d;
}

void duet__rr_deliver_done(struct duet_rr *rr, const struct rr_record *rec)
{
	struct duet_block *dev = duet_container_of(
	    device_of(rr, rec, DUET_DEVICE_BLOCK), struct duet_block, dev);
	struct rr_cursor c = rr_cursor(rec);
	uint64_t seq = duet__rr_get_varint(&c);
	int64_t status = duet__rr_get_svarint(&c);
	uint8_t flags = duet__rr_get_u8(&c);

	if (c.bad || status > 0 || status < -4095 ||
	    (flags & ~RR_DONE_IN_SUBMIT) != 0)
		duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
	for (struct duet_list *l = rr->pending.next; l != &rr->pending;
	     l = l->next) {
		struct duet_block_req *req =
		    duet_container_of(l, struct duet_block_req, link);
		if (req->dev != dev || req->rr_seq != seq)
			continue;
		if (req->op == DUET_BLOCK_READ && status == 0) {
			size_t n = (size_t)req->count * dev->info.sector_size;
			const uint8_t *data = duet__rr_get_bytes(&c, n);
			if (data == NULL)
				duet__rr_bad_payload(rr, &c);
			memcpy(req->buf, data, n);
		}
		duet__rr_bad_payload(rr, &c);
		duet_list_unlink(&req->link);
		duet_block_complete(req, (int)status);
		return;
	}
	rr->index--; /* report the DONE itself */
	rr->peeked = 1;
	duet__rr_diverge(rr, "no request %llu in flight on %s",
			 (unsigned long long)seq, dev->dev.name);
}

static void deliver(struct duet_rr *rr, struct duet_loop *loop,
		    const struct rr_record *rec)
{
	struct rr_cursor c = rr_cursor(rec);
	char arg[512], err[256];

	switch (rec->kind) {
	case RR_WAKE:
		duet_loop_update_time(loop);
		break;
	case RR_DEVICE:
		duet__rr_create_device(rr, loop, rec);
		break;
	case RR_ARG:
		if (rec->len >= sizeof(arg))
			duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
		memcpy(arg, rec->payload, rec->len);
		arg[rec->len] = '\0';
		if (duet_args_add(duet_loop_args(loop), arg, err, sizeof(err)) < 0)
			duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
		break;
	case RR_RX:
	case RR_RX_VALID: {
		struct duet_netif *n = duet_container_of(
		    device_of(rr, rec, DUET_DEVICE_NETIF), struct duet_netif, dev);
		if (rec->kind == RR_RX_VALID)
			duet_netif_deliver_valid(n, rec->payload, rec->len);
		else
			duet_netif_deliver(n, rec->payload, rec->len);
		break;
	}
	case RR_OFFLOADS: {
		struct duet_device *d = device_of(rr, rec, DUET_DEVICE_NETIF);
		uint8_t o = duet__rr_get_u8(&c);
		duet__rr_bad_payload(rr, &c);
		if (duet_netif_set_offloads(
			duet_container_of(d, struct duet_netif, dev), o) < 0)
			duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
		break;
	}
	case RR_LINK: {
		struct duet_device *d = device_of(rr, rec, DUET_DEVICE_NETIF);
		uint8_t up = duet__rr_get_u8(&c);
		duet__rr_bad_payload(rr, &c);
		duet_netif_set_link(duet_container_of(d, struct duet_netif, dev),
				    up != 0);
		break;
	}
	case RR_DONE:
		duet__rr_deliver_done(rr, rec);
		break;
	case RR_SIGNAL: {
		uint8_t sig = duet__rr_get_u8(&c);
		duet__rr_bad_payload(rr, &c);
		if (rr->signal != NULL)
			rr->signal(rr->signal_arg, sig);
		break;
	}
	}
}

#define BIT(k) (1ull << (k))
#define IN_WAIT                                                                \
	(BIT(RR_WAKE) | BIT(RR_DEVICE) | BIT(RR_RX) | BIT(RR_RX_VALID) |       \
	 BIT(RR_LINK) | BIT(RR_OFFLOADS) | BIT(RR_DONE) | BIT(RR_SIGNAL))

/* Inside a wait only the platform runs between the events, so a clock or
 * entropy read found there is its own (a driver's) and is passed over;
 * its console lines are printed again, which takes them too. */
void duet__rr_events(struct duet_rr *rr, struct duet_loop *loop)
{
	const struct rr_record *next;

	while ((next = duet__rr_peek(rr)) != NULL) {
		struct rr_record rec = *next;

		if (rec.kind == RR_CONSOLE) {
			duet_plat_console_write((const char *)rec.payload, rec.len);
			continue;
		}
		if ((IN_WAIT & BIT(rec.kind)) == 0 &&
		    rec.kind != RR_ENTROPY && rec.kind != RR_STRONG &&
		    rec.kind != RR_CLOCK_MONO && rec.kind != RR_CLOCK_WALL)
			return;
		consume(rr);
		if (rec.kind == RR_CLOCK_MONO || rec.kind == RR_CLOCK_WALL) {
			struct rr_cursor c = rr_cursor(&rec);
			int64_t d = duet__rr_get_svarint(&c);
			duet__rr_bad_payload(rr, &c);
			if (rec.kind == RR_CLOCK_MONO)
				rr->last_mono += d;
			else
				rr->last_wall += d;
		}
		deliver(rr, loop, &rec);
	}
}

void duet_rr_devices(struct duet_rr *rr, struct duet_loop *loop)
{
	const struct rr_record *next;

	if (rr == NULL || !rr->replaying)
		return;
	/* A driver sets its netif's offloads as it registers it; a recording
	 * that began after the devices were found has their link state too
	 * (duet_rr_devices_known). */
	while ((next = duet__rr_peek(rr)) != NULL &&
	       (next->kind == RR_DEVICE || next->kind == RR_ARG ||
		next->kind == RR_OFFLOADS || next->kind == RR_LINK)) {
		struct rr_record rec = *next;
		consume(rr);
		deliver(rr, loop, &rec);
	}
}
