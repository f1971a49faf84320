/* The hooks at the platform line (duet/replay.h) and in the core's device
 * wrappers: each records what crossed, or answers it from the log and
 * checks what the run produced (core/REPLAY.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <duet/crc32c.h>
#include <duet/loop.h>

#include "replay_int.h"

#define ON(rr) ((rr) != NULL && !(rr)->replaying && !(rr)->stopped)
#define REPLAYING(rr) ((rr) != NULL && (rr)->replaying)

bool duet_rr_replaying(const struct duet_rr *rr)
{
	return REPLAYING(rr);
}

static void put_svarint(struct duet_rr *rr, uint8_t kind, uint8_t dev,
			int64_t v)
{
	uint8_t b[10];

	duet__rr_put(rr, kind, dev, b, duet__rr_put_svarint(b, v));
}

/* Takes a record whose payload is one svarint. */
static int64_t take_svarint(struct duet_rr *rr, uint8_t kind, const char *what)
{
	struct rr_cursor c = rr_cursor(duet__rr_take(rr, kind, "%s", what));
	int64_t v = duet__rr_get_svarint(&c);

	duet__rr_bad_payload(rr, &c);
	return v;
}

duet_time_t duet_rr_clock(struct duet_rr *rr, enum duet_rr_clock which,
			  duet_time_t (*read)(void))
{
	bool mono = which == DUET_RR_MONO;

	if (rr == NULL)
		return read();
	duet_time_t *last = mono ? &rr->last_mono : &rr->last_wall;
	if (rr->replaying) {
		*last += (duet_time_t)take_svarint(
		    rr, mono ? RR_CLOCK_MONO : RR_CLOCK_WALL,
		    mono ? "a monotonic clock read" : "a wall clock read");
		return *last;
	}
	duet_time_t t = read();
	if (!rr->stopped)
		put_svarint(rr, mono ? RR_CLOCK_MONO : RR_CLOCK_WALL, 0,
			    (int64_t)(t - *last));
	*last = t;
	return t;
}

int duet_rr_entropy(struct duet_rr *rr, void *buf, size_t len,
		    int (*fill)(void *buf, size_t len))
{
	uint8_t b[10];

	if (REPLAYING(rr)) {
		const struct rr_record *rec = duet__rr_peek(rr);
		struct rr_cursor c = rec != NULL ? rr_cursor(rec) : (struct rr_cursor){0};
		int64_t status = duet__rr_get_svarint(&c);
		if (rec == NULL || rec->kind != RR_ENTROPY || c.bad ||
		    c.n != (status == 0 ? len : 0) || status > 0 || status < -4095)
			duet__rr_diverge(rr, "%zu bytes of entropy", len);
		duet__rr_take(rr, RR_ENTROPY, "entropy");
		memcpy(buf, c.p, c.n);
		return (int)status;
	}
	int r = fill(buf, len);
	if (ON(rr) && duet__rr_begin(rr, RR_ENTROPY, 0,
				     duet__rr_put_svarint(b, r) + (r == 0 ? len : 0))) {
		duet__rr_data(rr, b, duet__rr_put_svarint(b, r));
		if (r == 0)
			duet__rr_data(rr, buf, len);
		duet__rr_end_record(rr);
	}
	return r;
}

bool duet_rr_strong(struct duet_rr *rr, bool real)
{
	if (REPLAYING(rr))
		return take_svarint(rr, RR_STRONG, "a question of entropy's strength") != 0;
	if (ON(rr))
		put_svarint(rr, RR_STRONG, 0, real);
	return real;
}

void duet_rr_console(struct duet_rr *rr, const char *buf, size_t len)
{
	if (REPLAYING(rr)) {
		const struct rr_record *rec = duet__rr_peek(rr);
		if (rec == NULL || rec->kind != RR_CONSOLE || rec->len != len ||
		    memcmp(rec->payload, buf, len) != 0)
			duet__rr_diverge(rr, "CONSOLE \"%.*s\"",
					 (int)(len > 48 ? 48 : len), buf);
		duet__rr_take(rr, RR_CONSOLE, "console output");
		return;
	}
	if (ON(rr))
		duet__rr_put(rr, RR_CONSOLE, 0, buf, len);
}

bool duet_rr_wait(struct duet_rr *rr, struct duet_loop *loop,
		  duet_time_t deadline)
{
	int64_t rel = (int64_t)(deadline - (rr != NULL ? rr->last_mono : 0));
	bool forever = deadline == DUET_TIME_INFINITE;

	if (REPLAYING(rr)) {
		const struct rr_record *rec = duet__rr_peek(rr);
		struct rr_cursor c = rec != NULL ? rr_cursor(rec) : (struct rr_cursor){0};
		bool ok = rec != NULL && rec->kind == RR_WAIT &&
			  (forever ? rec->len == 0
				   : duet__rr_get_svarint(&c) == rel && !c.bad &&
					 c.n == 0 && rec->len > 0);
		if (!ok) {
			if (forever)
				duet__rr_diverge(rr, "WAIT with no deadline");
			duet__rr_diverge(rr, "WAIT %+lld ns", (long long)rel);
		}
		duet__rr_take(rr, RR_WAIT, "a wait");
		duet__rr_events(rr, loop);
		duet__rr_take(rr, RR_WAIT_END, "the end of a wait");
		return true;
	}
	if (ON(rr)) {
		if (forever)
			duet__rr_put(rr, RR_WAIT, 0, NULL, 0);
		else
			put_svarint(rr, RR_WAIT, 0, rel);
	}
	return false;
}

void duet_rr_wait_end(struct duet_rr *rr)
{
	if (ON(rr))
		duet__rr_put(rr, RR_WAIT_END, 0, NULL, 0);
}

void duet_rr_wake(struct duet_rr *rr)
{
	if (ON(rr))
		duet__rr_put(rr, RR_WAKE, 0, NULL, 0);
}

void duet_rr_signal(struct duet_rr *rr, int signum)
{
	uint8_t s = (uint8_t)signum;

	if (ON(rr))
		duet__rr_put(rr, RR_SIGNAL, 0, &s, 1);
}

void duet_rr_arg(struct duet_rr *rr, const char *token)
{
	if (ON(rr))
		duet__rr_put(rr, RR_ARG, 0, token, strlen(token));
}

int duet_rr_end(struct duet_rr *rr, int code)
{
	char msg[160];

	if (REPLAYING(rr)) {
		int64_t recorded = take_svarint(rr, RR_END, "the end of the run");
		if (recorded != code) {
			snprintf(msg, sizeof(msg), "replay: divergence at the end "
				 "(record %llu): expected exit code %lld, got %d",
				 (unsigned long long)(rr->index - 1),
				 (long long)recorded, code);
			rr->stop(rr->stop_arg, DUET_RR_EXIT_DIVERGED, msg);
		} else {
			snprintf(msg, sizeof(msg), "replay: %llu records "
				 "replayed, outputs identical, exit code %d",
				 (unsigned long long)rr->index, code);
			rr->stop(rr->stop_arg, code, msg);
		}
		return code;
	}
	if (ON(rr))
		put_svarint(rr, RR_END, 0, code);
	duet_rr_flush(rr);
	return code;
}

/* ---------------------------------------------------------------- devices */

void duet__rr_device(struct duet_device *dev)
{
	struct duet_rr *rr = duet__rr_of(dev->loop);
	uint8_t b[64], *p = b;
	size_t n = strlen(dev->name);

	if (!ON(rr) || rr->devices == RR_DEVICES - 1)
		return;
	*p++ = (uint8_t)dev->kind;
	*p++ = (uint8_t)n;
	memcpy(p, dev->name, n);
	p += n;
	if (dev->kind == DUET_DEVICE_NETIF) {
		struct duet_netif *ni = duet_container_of(dev, struct duet_netif, dev);
		memcpy(p, ni->mac, DUET_ETH_ALEN);
		p += DUET_ETH_ALEN;
		p += duet__rr_put_varint(p, ni->mtu);
	} else {
		struct duet_block *bl = duet_container_of(dev, struct duet_block, dev);
		p += duet__rr_put_varint(p, bl->info.sector_size);
		p += duet__rr_put_varint(p, bl->info.sector_count);
		p += duet__rr_put_varint(p, bl->info.io_size);
		*p++ = (uint8_t)((bl->info.read_only ? 1 : 0) |
				 (bl->info.volatile_cache ? 2 : 0) |
				 (bl->info.fua ? 4 : 0));
	}
	dev->rr_id = ++rr->devices;
	rr->dev[dev->rr_id] = dev;
	duet__rr_put(rr, RR_DEVICE, dev->rr_id, b, (size_t)(p - b));
}

void duet_rr_devices_known(struct duet_rr *rr, struct duet_loop *loop)
{
	if (!ON(rr))
		return;
	for (struct duet_device *d = duet_device_next(loop, NULL); d != NULL;
	     d = duet_device_next(loop, d)) {
		duet__rr_device(d);
		if (d->kind != DUET_DEVICE_NETIF)
			continue;
		struct duet_netif *ni = duet_container_of(d, struct duet_netif, dev);
		if (ni->offloads != 0)
			duet__rr_offloads(ni, ni->offloads);
		if (!ni->link_up)
			duet__rr_link(ni, false);
	}
}

void duet__rr_rx(struct duet_netif *netif, const void *frame, size_t len,
		 bool csum_valid)
{
	struct duet_rr *rr = duet__rr_of(netif->dev.loop);

	if (ON(rr) && netif->dev.rr_id != 0)
		duet__rr_put(rr, csum_valid ? RR_RX_VALID : RR_RX,
			     netif->dev.rr_id, frame, len);
}

void duet__rr_offloads(struct duet_netif *netif, unsigned offloads)
{
	struct duet_rr *rr = duet__rr_of(netif->dev.loop);
	uint8_t u = (uint8_t)offloads;

	if (ON(rr) && netif->dev.rr_id != 0)
		duet__rr_put(rr, RR_OFFLOADS, netif->dev.rr_id, &u, 1);
}

void duet__rr_link(struct duet_netif *netif, bool up)
{
	struct duet_rr *rr = duet__rr_of(netif->dev.loop);
	uint8_t u = up;

	if (ON(rr) && netif->dev.rr_id != 0)
		duet__rr_put(rr, RR_LINK, netif->dev.rr_id, &u, 1);
}

/* The frame's CRC, and for a frame whose checksum the device completes,
 * the checksum's place too (as two little-endian u16s after the bytes). */
static uint32_t iov_crc(const struct duet_iovec *iov, unsigned iovcnt,
		       bool csum, unsigned start, unsigned offset)
{
	uint32_t crc = 0;

	for (unsigned i = 0; i < iovcnt; i++)
		crc = duet__crc32c(crc, iov[i].base,
					  iov[i].len);
	if (csum) {
		uint8_t at[4] = {(uint8_t)start, (uint8_t)(start >> 8),
				 (uint8_t)offset, (uint8_t)(offset >> 8)};
		crc = duet__crc32c(crc, at, sizeof(at));
	}
	return crc;
}

int duet__rr_transmit(struct duet_netif *netif, const struct duet_iovec *iov,
		      unsigned iovcnt, size_t len, bool csum,
		      unsigned csum_start, unsigned csum_offset)
{
	struct duet_rr *rr = duet__rr_of(netif->dev.loop);
	uint8_t b[32], *p = b;

	if (REPLAYING(rr)) {
		uint32_t crc = iov_crc(iov, iovcnt, csum, csum_start, csum_offset);
		const struct rr_record *rec = duet__rr_peek(rr);
		struct rr_cursor c = rec != NULL ? rr_cursor(rec) : (struct rr_cursor){0};
		bool ok = rec != NULL && rec->kind == RR_TX &&
			  rec->dev == netif->dev.rr_id &&
			  duet__rr_get_varint(&c) == len &&
			  duet__rr_get_u32(&c) == crc;
		int64_t r = duet__rr_get_svarint(&c);
		if (!ok || c.bad || c.n != 0 || r > 0 || r < -4095)
			duet__rr_diverge(rr, "TX %s len %zu crc 0x%08x",
					 netif->dev.name, len, crc);
		duet__rr_take(rr, RR_TX, "a frame sent");
		return (int)r;
	}
	int r = csum ? netif->ops->transmit_csum(netif, iov, iovcnt, len,
						 csum_start, csum_offset)
		     : netif->ops->transmit(netif, iov, iovcnt, len);
	if (ON(rr) && netif->dev.rr_id != 0) {
		p += duet__rr_put_varint(p, len);
		rr_put32(p, iov_crc(iov, iovcnt, csum, csum_start, csum_offset));
		p += 4;
		p += duet__rr_put_svarint(p, r);
		duet__rr_put(rr, RR_TX, netif->dev.rr_id, b, (size_t)(p - b));
	}
	return r;
}

static size_t submit_payload(const struct duet_block_req *req, uint8_t *b)
{
	uint8_t *p = b;

	p += duet__rr_put_varint(p, req->rr_seq);
	*p++ = (uint8_t)req->op;
	p += duet__rr_put_varint(p, req->sector);
	p += duet__rr_put_varint(p, req->count);
	if (req->op == DUET_BLOCK_WRITE || req->op == DUET_BLOCK_WRITE_FUA) {
		rr_put32(p, duet__crc32c(0, req->buf,
						(size_t)req->count *
						    req->dev->info.sector_size));
		p += 4;
	}
	return (size_t)(p - b);
}

static void submit_fail(struct duet_rr *rr, struct duet_block_req *req, int r)
{
	uint8_t b[24], *p = b;

	p += duet__rr_put_varint(p, req->rr_seq);
	p += duet__rr_put_svarint(p, r);
	duet__rr_put(rr, RR_SUBMIT_FAIL, req->dev->dev.rr_id, b, (size_t)(p - b));
}

static bool pending(struct duet_rr *rr, const struct duet_block_req *req)
{
	for (struct duet_list *l = rr->pending.next; l != &rr->pending; l = l->next)
		if (l == &req->link)
			return true;
	return false;
}

/* Whether a DONE record was made inside its driver's submit. */
static bool done_in_submit(const struct rr_record *rec)
{
	struct rr_cursor c = rr_cursor(rec);

	(void)duet__rr_get_varint(&c);
	(void)duet__rr_get_svarint(&c);
	return (duet__rr_get_u8(&c) & RR_DONE_IN_SUBMIT) != 0 && !c.bad;
}

int duet__rr_submit(struct duet_block *dev, struct duet_block_req *req)
{
	struct duet_rr *rr = duet__rr_of(dev->dev.loop);
	uint8_t id = dev->dev.rr_id, b[48];
	const struct rr_record *rec;

	if (REPLAYING(rr)) {
		req->rr_seq = rr->seq[id]++;
		size_t n = submit_payload(req, b);
		rec = duet__rr_peek(rr);
		if (rec == NULL || rec->kind != RR_SUBMIT || rec->dev != id ||
		    rec->len != n || memcmp(rec->payload, b, n) != 0) {
			char want[160];
			struct rr_record got = {RR_SUBMIT, id, b, n, 0, 0};
			duet__rr_describe(&got, dev->dev.name, want, sizeof(want));
			duet__rr_diverge(rr, "%s", want);
		}
		duet__rr_take(rr, RR_SUBMIT, "a block request");
		duet_list_insert_tail(&rr->pending, &req->link);
		/* Completions the recording's driver made inside submit (a
		 * completion that came later, in a wait, says so and waits for
		 * the wait's replay). */
		while ((rec = duet__rr_peek(rr)) != NULL && rec->kind == RR_DONE &&
		       rec->dev == id && done_in_submit(rec)) {
			struct rr_record done = *rec;
			duet__rr_take(rr, RR_DONE, "a completion");
			duet__rr_deliver_done(rr, &done);
		}
		if (rec != NULL && rec->kind == RR_SUBMIT_FAIL && rec->dev == id) {
			struct rr_cursor c = rr_cursor(duet__rr_take(
			    rr, RR_SUBMIT_FAIL, "a failed submit"));
			uint64_t seq = duet__rr_get_varint(&c);
			int64_t r = duet__rr_get_svarint(&c);
			duet__rr_bad_payload(rr, &c);
			if (seq != req->rr_seq || r >= 0 || r < -4095 ||
			    !pending(rr, req))
				duet__rr_bad_payload(rr, &(struct rr_cursor){.bad = true});
			duet_list_unlink(&req->link);
			return (int)r;
		}
		return 0;
	}
	if (!ON(rr) || id == 0)
		return dev->ops->submit(dev, req);
	req->rr_seq = rr->seq[id]++;
	duet__rr_put(rr, RR_SUBMIT, id, b, submit_payload(req, b));
	int r = dev->ops->submit(dev, req);
	if (r < 0)
		submit_fail(rr, req, r);
	return r;
}

void duet__rr_done(struct duet_block_req *req, int status)
{
	struct duet_block *dev = req->dev;
	struct duet_rr *rr = duet__rr_of(dev->dev.loop);
	uint8_t b[24], *p = b;
	size_t data = req->op == DUET_BLOCK_READ && status == 0
			      ? (size_t)req->count * dev->info.sector_size
			      : 0;

	if (!ON(rr) || dev->dev.rr_id == 0)
		return;
	p += duet__rr_put_varint(p, req->rr_seq);
	p += duet__rr_put_svarint(p, status);
	*p++ = dev->in_submit ? RR_DONE_IN_SUBMIT : 0;
	if (!duet__rr_begin(rr, RR_DONE, dev->dev.rr_id, (size_t)(p - b) + data))
		return;
	duet__rr_data(rr, b, (size_t)(p - b));
	duet__rr_data(rr, req->buf, data);
	duet__rr_end_record(rr);
}
