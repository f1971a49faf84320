/* Compaction: copy the live records, in log order, into the other region
 * with a new generation, flush, then switch by writing a superblock that
 * names that region, and flush again. Until that superblock is durable the
 * old region stays the log, untouched; after it the new one is complete.
 * Writes wait meanwhile; gets go on from the old region. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "log_internal.h"

#define COMPACT_CHUNK (1u << 20)

struct log_compaction {
	struct log_ent **ents;
	size_t n, i;
	unsigned target;
	uint32_t new_gen;
	uint8_t *buf;
	size_t cap;
	uint64_t base; /* target-region offset of buf[0], sector aligned */
	uint64_t pos;  /* where the next record goes */
	uint64_t at;   /* where the record being read goes */
	bool waiting;  /* for gets still reading the target region */
	int phase; /* 0 copying, 1 last write, 2 flush, 3 superblock, 4 flush */
	struct duet_kv_req rreq;
	struct duet_block_req breq;
	struct log_sb sb;
};

static void compact_next(struct log_store *s);

static int cmp_off(const void *a, const void *b)
{
	const struct log_ent *x = *(struct log_ent *const *)a;
	const struct log_ent *y = *(struct log_ent *const *)b;

	return x->rec_off < y->rec_off ? -1 : x->rec_off > y->rec_off;
}

static void finish(struct log_store *s, int status)
{
	struct log_compaction *c = s->compaction;

	if (status == 0) {
		for (size_t i = 0; i < c->n; i++)
			c->ents[i]->rec_off = c->ents[i]->new_off;
		uint64_t keep = c->pos % s->ssz;
		memcpy(s->tail, c->buf + (c->pos - keep - c->base),
		       (size_t)keep);
		s->sb = c->sb;
		s->gen = c->new_gen;
		s->end = c->pos;
		s->stats.compactions++;
		DUET_INFO("logstore",
			  "%s: compacted: %llu keys, %llu bytes in region %u",
			  duet_block_name(s->dev), (unsigned long long)c->n,
			  (unsigned long long)c->pos, c->target);
	}
	free(c->ents);
	free(c->buf);
	free(c);
	s->compaction = NULL;
	duet__log_compacted(s, status);
}

static void io_done(struct duet_block_req *req, int status, void *arg)
{
	struct log_store *s = arg;
	struct log_compaction *c = s->compaction;
	(void)req;

	if (status < 0) {
		finish(s, status);
		return;
	}
	if (c->phase == 0) {
		/* A full chunk went out: keep its partial last sector. */
		uint64_t nb = c->pos - c->pos % s->ssz;
		memmove(c->buf, c->buf + (nb - c->base), (size_t)(c->pos - nb));
		c->base = nb;
	} else {
		c->phase++;
	}
	compact_next(s);
}

static int grow(struct log_compaction *c, uint64_t need)
{
	if (need <= c->cap)
		return 0;
	uint8_t *b = need > SIZE_MAX ? NULL : realloc(c->buf, (size_t)need);
	if (b == NULL)
		return -ENOMEM;
	c->buf = b;
	c->cap = (size_t)need;
	return 0;
}

void duet__log_compact_read_done(struct log_store *s, struct duet_kv_req *req,
				 int status)
{
	struct log_compaction *c = s->compaction;
	struct log_ent *e = c->ents[c->i];
	uint8_t *r = c->buf + (c->at - c->base);
	uint64_t len = log_rec_len(e->key_len, e->value_len);
	(void)req;

	if (status == 0 &&
	    log_get32(r) != duet__crc32c(s->sb.salt, r + 4, (size_t)len - 4)) {
		DUET_ERROR("logstore",
			   "%s: record of '%s' is damaged on the device",
			   duet_block_name(s->dev), e->key);
		status = -EBADMSG;
	}
	if (status < 0) {
		finish(s, status);
		return;
	}
	log_put32(r + 12, c->new_gen);
	log_rec_seal(r, s->sb.salt, len);
	e->new_off = c->at;
	c->pos = c->at + len;
	c->i++;
	compact_next(s);
}

static void compact_next(struct log_store *s)
{
	struct log_compaction *c = s->compaction;
	uint64_t target = s->sb.region_start[c->target];
	int r;

	if (c->waiting)
		return;
	switch (c->phase) {
	case 0:
		if (c->i < c->n) {
			struct log_ent *e = c->ents[c->i];
			uint64_t len = log_rec_len(e->key_len, e->value_len);
			uint64_t at = duet__log_align_start(c->pos, s->ssz);
			if (at + len > s->region_bytes) {
				finish(s, -ENOSPC);
				return;
			}
			if (at + len - c->base > c->cap &&
			    c->pos - c->base >= s->ssz) {
				r = duet_block_write(
				    s->dev, &c->breq, target + c->base / s->ssz,
				    c->buf, (c->pos - c->base) / s->ssz,
				    io_done, s);
				break;
			}
			r = grow(c, at + len - c->base + s->ssz);
			if (r < 0)
				break;
			memset(c->buf + (c->pos - c->base), 0,
			       (size_t)(at - c->pos));
			c->at = at;
			duet__rr_read(&s->rr, &c->rreq,
				      duet__log_region_byte(s, s->sb.active) +
					  e->rec_off,
				      c->buf + (at - c->base), (size_t)len);
			return;
		}
		c->phase = 1;
		/* fall through */
	case 1: {
		uint64_t span = duet__log_write_span(c->base, c->pos, s->ssz,
						     s->region_bytes);
		r = grow(c, span);
		if (r < 0)
			break;
		memset(c->buf + (c->pos - c->base), 0,
		       (size_t)(span - (c->pos - c->base)));
		r = duet_block_write(s->dev, &c->breq,
				     target + c->base / s->ssz, c->buf,
				     span / s->ssz, io_done, s);
		s->stats.bytes_written += span;
		break;
	}
	case 2:
	case 4: r = duet_block_flush(s->dev, &c->breq, io_done, s); break;
	case 3: {
		/* The buffer's bytes are still needed for the tail: use a
		 * sector past them. */
		r = grow(c, (c->pos - c->base) + 2 * (uint64_t)s->ssz);
		if (r < 0)
			break;
		uint8_t *sbuf = c->buf + c->cap - s->ssz;
		memset(sbuf, 0, s->ssz);
		log_sb_encode(&c->sb, sbuf);
		r = duet_block_write(s->dev, &c->breq, c->sb.seq % LOG_SB_SLOTS,
				     sbuf, 1, io_done, s);
		break;
	}
	default: finish(s, 0); return;
	}
	if (r < 0)
		finish(s, r);
}

void duet__log_compact_reads_drained(struct log_store *s)
{
	struct log_compaction *c = s->compaction;

	if (c != NULL && c->waiting && s->reads[c->target] == 0) {
		c->waiting = false;
		compact_next(s);
	}
}

void duet__log_compact_start(struct log_store *s)
{
	if (s->gen >= LOG_GEN_MAX) {
		/* No generation left for the copy: the log goes on as it is. */
		duet__log_compacted(s, -ENOSPC);
		return;
	}
	struct log_compaction *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->ents = duet__log_index_all(&s->ix)) == NULL) {
		free(c);
		duet__log_compacted(s, -ENOMEM);
		return;
	}
	s->compaction = c;
	c->n = s->ix.count;
	if (c->n > 1)
		qsort(c->ents, c->n, sizeof(*c->ents), cmp_off);
	c->target = !s->sb.active;
	c->new_gen = s->gen + 1;
	c->sb = s->sb;
	c->sb.seq = c->new_gen;
	c->sb.active = c->target;
	c->sb.base_gen = c->new_gen;
	c->rreq.kv = &s->kv;
	c->rreq.op = 0;
	c->cap = COMPACT_CHUNK;
	c->buf = malloc(c->cap);
	if (c->buf == NULL) {
		finish(s, -ENOMEM);
		return;
	}
	c->waiting = s->reads[c->target] > 0;
	compact_next(s);
}

void duet__log_compacted(struct log_store *s, int status)
{
	s->state = LOG_IDLE;
	/* On -ENOSPC or -ENOMEM nothing was switched: the old log goes on;
	 * writes that do not fit fail with -ENOSPC. */
	if (status < 0 && status != -ENOSPC && status != -ENOMEM) {
		duet__log_fail_all(s, status);
		return;
	}
	s->compacted_clean = true;
	duet__log_kick(s);
}
