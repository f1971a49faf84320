/* Streaming a response body from a file source that reads (see conn.h):
 * two halves of one per-connection buffer, one sent while the other is
 * read into. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "conn.h"

static void reset(struct httpd_stream *s)
{
	s->started = false;
	s->len[0] = s->len[1] = s->pos[0] = s->pos[1] = 0;
	s->fill = s->send = 0;
}

/* A read failed. Before any byte of the response went out it becomes an
 * error response (true); after, the client has a head promising bytes that
 * will never come, so the connection is reset (false). */
static bool failed(struct httpd_conn *c, struct httpd_resp *r, int err)
{
	struct httpd_stream *s = &c->stream;
	int status = err == -ENOMEM ? 503 : 500;

	if (r->off == 0) {
		DUET_ERROR("httpd", "%s: reading /%s: %s: answering %d instead",
			   c->peer, r->file->key, duet_strerror(err), status);
		reset(s);
		httpd_resp_error(c, r, status);
		return true;
	}
	DUET_ERROR("httpd",
		   "%s: reading /%s at byte %llu: %s: resetting the connection",
		   c->peer, r->file->key, (unsigned long long)s->next,
		   duet_strerror(err));
	httpd_conn_abort(c);
	return false;
}

static void read_done(struct httpd_read *rd, int status, void *arg)
{
	struct httpd_conn *c = arg;
	struct httpd_stream *s = &c->stream;
	(void)rd;

	bool ended = duet_server_conn_ended(&c->sc);

	s->reading = false;
	c->srv->reads--;
	duet_server_conn_drop(&c->sc); /* an ended one's record goes now */
	if (ended)
		return;
	if (status >= 0 && (size_t)status != s->want)
		status = -EIO; /* the file is shorter than the index says */
	if (status < 0) {
		if (!failed(c, &c->q[c->q_head], status))
			return;
	} else {
		s->len[s->fill] = (size_t)status;
		s->pos[s->fill] = 0;
		s->next += (size_t)status;
		s->fill ^= 1;
	}
	httpd_conn_progress(c);
}

/* Starts reading the next chunk if a half is free and no read is in flight. */
static int read_next(struct httpd_conn *c, const struct httpd_resp *r)
{
	struct httpd_stream *s = &c->stream;
	const struct httpd_source *src = &c->srv->src;
	size_t n;
	int e;

	if (s->reading || s->next == s->end || s->len[s->fill] != 0)
		return 0;
	/* Chunks end at multiples of HTTPD_CHUNK in the file: a range's reads
	 * then have partial device sectors only at its two ends. */
	n = HTTPD_CHUNK - (size_t)(s->next % HTTPD_CHUNK);
	if (n > s->end - s->next)
		n = (size_t)(s->end - s->next);
	e = src->read(src->ctx, r->file, s->next,
		      s->buf + (size_t)s->fill * HTTPD_CHUNK, n, &s->rd,
		      read_done, c);
	if (e < 0)
		return e;
	s->want = n;
	s->reading = true;
	c->srv->reads++;
	duet_server_conn_hold(&c->sc); /* the read fills its buffer */
	return 0;
}

static int start(struct httpd_conn *c, const struct httpd_resp *r)
{
	struct httpd_stream *s = &c->stream;

	assert(c->srv->src.read != NULL);
	if (s->buf == NULL) {
		s->buf = malloc(2 * HTTPD_CHUNK);
		if (s->buf == NULL)
			return -ENOMEM;
		c->srv->stream_bufs++;
	}
	reset(s);
	s->started = true;
	s->next = r->file_off;
	s->end = r->file_off + r->body_len;
	return read_next(c, r);
}

long httpd_stream_ready(struct httpd_conn *c, struct httpd_resp *r,
			const uint8_t **p)
{
	struct httpd_stream *s = &c->stream;
	int e = s->started ? read_next(c, r) : start(c, r);

	if (e < 0)
		return failed(c, r, e) ? 0 : -1;
	*p = s->buf + (size_t)s->send * HTTPD_CHUNK + s->pos[s->send];
	return (long)(s->len[s->send] - s->pos[s->send]);
}

size_t httpd_stream_copy(const struct httpd_conn *c, char *buf, size_t cap)
{
	const struct httpd_stream *s = &c->stream;
	size_t n = 0;

	/* The half being sent, then the other: read after it, if read. */
	for (unsigned i = 0, h = s->send; i < 2 && n < cap; i++, h ^= 1) {
		size_t k = s->len[h] - s->pos[h];
		if (k == 0)
			break;
		k = k < cap - n ? k : cap - n;
		memcpy(buf + n, s->buf + (size_t)h * HTTPD_CHUNK + s->pos[h],
		       k);
		n += k;
	}
	return n;
}

void httpd_stream_consume(struct httpd_conn *c, size_t n)
{
	struct httpd_stream *s = &c->stream;

	while (n > 0) {
		unsigned h = s->send;
		size_t k = s->len[h] - s->pos[h];
		assert(k > 0);
		k = n < k ? n : k;
		s->pos[h] += k;
		n -= k;
		if (s->pos[h] == s->len[h]) {
			s->len[h] = s->pos[h] = 0;
			s->send ^= 1;
		}
	}
}

void httpd_stream_end(struct httpd_conn *c)
{
	assert(!c->stream.reading);
	reset(&c->stream);
}

void httpd_stream_release(struct httpd_conn *c)
{
	struct httpd_stream *s = &c->stream;

	if (s->reading)
		return;
	reset(s);
	if (s->buf != NULL) {
		free(s->buf);
		s->buf = NULL;
		c->srv->stream_bufs--;
	}
}
