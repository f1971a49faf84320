/* The recorder: framed, checksummed records into a buffer that goes to the
 * platform's sink (core/REPLAY.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/buildinfo.h>
#include <duet/crc32c.h>
#include <duet/log.h>
#include <duet/sys.h>

#include "replay_int.h"

struct duet_rr *duet__rr_of(const struct duet_loop *loop)
{
	return loop != NULL && loop->sys != NULL ? loop->sys->rr : NULL;
}

void duet_rr_flush(struct duet_rr *rr)
{
	if (rr == NULL || rr->replaying || rr->buf_len == 0)
		return;
	if (rr->stopped) {
		rr->buf_len = 0;
		return;
	}
	size_t n = rr->buf_len;
	rr->buf_len = 0;
	if (rr->sink(rr->sink_arg, rr->buf, n) < 0)
		rr->stopped = true;
	rr->written += n;
}

static void emit(struct duet_rr *rr, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		size_t k = RR_BUF_SIZE - rr->buf_len;
		if (k > n)
			k = n;
		memcpy(rr->buf + rr->buf_len, b, k);
		rr->buf_len += k;
		b += k;
		n -= k;
		if (rr->buf_len == RR_BUF_SIZE)
			duet_rr_flush(rr);
	}
}

static void frame(struct duet_rr *rr, uint8_t kind, uint8_t dev, size_t len)
{
	uint8_t h[12] = {kind, dev};
	size_t n = 2 + duet__rr_put_varint(h + 2, len);

	rr->crc = duet__crc32c(rr->crc, h, n);
	emit(rr, h, n);
}

bool duet__rr_begin(struct duet_rr *rr, uint8_t kind, uint8_t dev, size_t len)
{
	if (rr->stopped)
		return false;
	if (len > RR_PAYLOAD_MAX ||
	    rr->written + rr->buf_len + RR_FRAME_MAX + len + RR_RESERVE > rr->max) {
		frame(rr, RR_FULL, 0, 0);
		duet__rr_end_record(rr);
		duet_rr_flush(rr);
		rr->stopped = true;
		DUET_WARN("record", "the log is full (%llu records): recording "
			  "stopped", (unsigned long long)rr->index);
		return false;
	}
	frame(rr, kind, dev, len);
	return true;
}

void duet__rr_data(struct duet_rr *rr, const void *p, size_t n)
{
	rr->crc = duet__crc32c(rr->crc, p, n);
	emit(rr, p, n);
}

void duet__rr_end_record(struct duet_rr *rr)
{
	uint8_t c[4];

	rr_put32(c, rr->crc);
	emit(rr, c, 4);
	rr->index++;
}

void duet__rr_put(struct duet_rr *rr, uint8_t kind, uint8_t dev,
		  const void *p, size_t n)
{
	if (!duet__rr_begin(rr, kind, dev, n))
		return;
	duet__rr_data(rr, p, n);
	duet__rr_end_record(rr);
}

struct duet_rr *duet_rr_record_open(const char *app, duet_rr_sink sink,
				    void *arg, uint64_t max_bytes)
{
	const struct duet_buildinfo *b = &duet_buildinfo;
	struct duet_rr *rr = calloc(1, sizeof(*rr));
	uint8_t head[16 + RR_HEADER_TEXT_MAX];

	if (rr == NULL || (rr->buf = malloc(RR_BUF_SIZE)) == NULL) {
		free(rr);
		return NULL;
	}
	rr->sink = sink;
	rr->sink_arg = arg;
	rr->max = max_bytes < RR_BUF_SIZE ? RR_BUF_SIZE : max_bytes;
	int n = snprintf((char *)head + 12, RR_HEADER_TEXT_MAX,
			 "app=%s\ncommit=%s\napp_commit=%s\nplatform=%s\n"
			 "version=%s\n", app, b->commit, b->app_commit,
			 b->platform, b->version);
	if (n < 0 || n >= RR_HEADER_TEXT_MAX)
		n = 0;
	memcpy(head, RR_MAGIC, 8);
	rr_put32(head + 8, (uint32_t)n);
	rr->crc = duet__crc32c(0, head, 12 + (size_t)n);
	rr_put32(head + 12 + n, rr->crc);
	emit(rr, head, 16 + (size_t)n);
	duet_rr_flush(rr);
	if (rr->stopped) {
		duet_rr_close(rr);
		return NULL;
	}
	return rr;
}

void duet_rr_close(struct duet_rr *rr)
{
	if (rr == NULL)
		return;
	duet_rr_flush(rr);
	free(rr->buf);
	free(rr);
}
