/* The log store's requests: reads from the index and the device; sets,
 * deletes and syncs through group commit — every request that arrives
 * while one batch is being made durable goes into the next. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "log_internal.h"

/* A batch is cut at this many bytes, unless one record alone is bigger. */
#define LOG_BATCH_MAX (1u << 20)

uint64_t duet__log_write_span(uint64_t from, uint64_t to, uint32_t ssz,
			      uint64_t region_bytes)
{
	uint64_t start = from - from % ssz;
	uint64_t stop = (to + ssz - 1) / ssz * ssz;

	if ((to % ssz == 0 || ssz - to % ssz < LOG_REC_MIN_ROOM) &&
	    stop + ssz <= region_bytes)
		stop += ssz;
	return stop - start;
}

static uint64_t req_bytes(const struct duet_kv_req *req)
{
	switch (req->op) {
	case DUET_KV_SET: return log_rec_len(req->key_len, req->len);
	case DUET_KV_DELETE: return log_rec_len(req->key_len, 0);
	default: return 0;
	}
}

/* Completes and unlinks every request on a list the store no longer
 * holds. */
static void complete_all(struct duet_list *l, int status)
{
	while (!duet_list_empty(l)) {
		struct duet_kv_req *req =
		    duet_container_of(l->next, struct duet_kv_req, store_link);
		duet_list_unlink(&req->store_link);
		duet_kv_complete(req, status);
	}
}

/* Fails the batch and everything pending. Callbacks may close the store,
 * so nothing of it is touched once they start. */
void duet__log_fail_all(struct log_store *s, int status)
{
	struct duet_list batch, pending;

	if (s->failed == 0) {
		DUET_ERROR("logstore",
			   "%s: %s; refusing writes until the next mount",
			   duet_block_name(s->dev), duet_strerror(status));
		s->failed = -EIO;
	}
	int later = s->failed;
	duet_list_move_all(&s->batch, &batch);
	duet_list_move_all(&s->pending, &pending);
	s->state = LOG_IDLE;
	complete_all(&batch, status);
	complete_all(&pending, later);
}

/* The batch is durable: index it, move the end, acknowledge. */
static void batch_durable(struct log_store *s, uint64_t new_end)
{
	struct duet_list done;
	uint64_t start = s->end - s->end % s->ssz;
	struct duet_list *p;

	duet_list_move_all(&s->batch, &done);
	duet_list_foreach(p, &done)
	{
		struct duet_kv_req *req =
		    duet_container_of(p, struct duet_kv_req, store_link);
		if (req->op != DUET_KV_SET && req->op != DUET_KV_DELETE)
			continue;
		if (duet__log_apply(s, req->op == DUET_KV_SET, req->key,
				    req->key_len, req->store.write.at,
				    req->store.write.seq,
				    (uint32_t)req->len) < 0) {
			/* Durable but not indexable: reads would be wrong,
			 * so stop writing (a remount finds it). */
			s->end = new_end;
			duet_list_move_all(&done, &s->batch);
			duet__log_fail_all(s, -ENOMEM);
			return;
		}
		if (req->op == DUET_KV_SET)
			s->stats.sets++;
		else
			s->stats.deletes++;
	}
	if (new_end != s->end) {
		uint64_t keep = new_end % s->ssz;
		memcpy(s->tail, s->wbuf + (new_end - keep - start), keep);
		s->compacted_clean = false;
	}
	s->end = new_end;
	s->state = LOG_IDLE;
	/* Before the callbacks: the last of them may close the store. */
	duet_defer_post(&s->kick);
	complete_all(&done, 0);
}

/* The batch's one durable write is done (duet_block_write_fua: no flush
 * round trip of its own where the device can do without). */
static void commit_done(struct duet_block_req *blk, int status, void *arg)
{
	struct log_store *s = arg;
	(void)blk;

	if (status < 0) {
		duet__log_fail_all(s, status);
		return;
	}
	batch_durable(s, s->end + s->batch_bytes);
}

static int ensure_wbuf(struct log_store *s, uint64_t need)
{
	if (need <= s->wcap)
		return 0;
	if (need > SIZE_MAX)
		return -ENOMEM;
	uint8_t *b = realloc(s->wbuf, (size_t)need);
	if (b == NULL)
		return -ENOMEM;
	s->wbuf = b;
	s->wcap = (size_t)need;
	return 0;
}

/* Lays the batch out after the tail; returns the new end of the log. */
static uint64_t encode_batch(struct log_store *s)
{
	uint64_t start = s->end - s->end % s->ssz, pos = s->end;
	struct duet_list *p;

	memcpy(s->wbuf, s->tail, (size_t)(s->end - start));
	duet_list_foreach(p, &s->batch)
	{
		struct duet_kv_req *req =
		    duet_container_of(p, struct duet_kv_req, store_link);
		uint64_t len = req_bytes(req);
		if (len == 0)
			continue;
		uint64_t at = duet__log_align_start(pos, s->ssz);
		memset(s->wbuf + (pos - start), 0, (size_t)(at - pos));
		uint8_t *r = s->wbuf + (at - start);
		struct log_rec rec = {
		    .type =
			req->op == DUET_KV_SET ? LOG_REC_SET : LOG_REC_DELETE,
		    .key_len = (uint16_t)req->key_len,
		    .value_len =
			req->op == DUET_KV_SET ? (uint32_t)req->len : 0,
		    .gen = s->gen,
		    .seq = s->next_seq++,
		};
		log_rec_encode_hdr(&rec, r);
		memcpy(r + LOG_REC_HDR, req->key, req->key_len);
		if (rec.value_len > 0)
			memcpy(r + LOG_REC_HDR + req->key_len, req->value,
			       rec.value_len);
		log_rec_seal(r, s->sb.salt, len);
		req->store.write.at = at;
		req->store.write.seq = rec.seq;
		pos = at + len;
	}
	return pos;
}

/* Room a batch of `bytes` needs after `end`, padding included. */
static uint64_t batch_room(uint64_t records, uint64_t bytes)
{
	return bytes + records * LOG_REC_MIN_ROOM;
}

/* Requests that can never fit are answered after the batch is on its
 * way: a callback may close the store. */
static void refuse(struct duet_list *refused, struct duet_kv_req *req,
		   int status)
{
	duet_list_unlink(&req->store_link);
	req->store.write.refused = status;
	duet_list_insert_tail(refused, &req->store_link);
}

static void commit_batch(struct log_store *s, struct duet_list *refused)
{
	uint64_t bytes = 0, records = 0;
	int r;

	/* Take what fits in one batch, always at least one request. */
	while (!duet_list_empty(&s->pending)) {
		struct duet_kv_req *req = duet_container_of(
		    s->pending.next, struct duet_kv_req, store_link);
		uint64_t len = req_bytes(req);
		if (req->op == DUET_KV_SET && req->len > UINT32_MAX) {
			/* value_len is 32 bits on the device. */
			refuse(refused, req, -EFBIG);
			continue;
		}
		if (records > 0 && bytes + len > LOG_BATCH_MAX)
			break;
		uint64_t room = batch_room(records + (len > 0), bytes + len);
		/* Sets leave a reserve that only deletes may use, so a full
		 * store can always be emptied. */
		uint64_t limit = req->op == DUET_KV_DELETE
				     ? s->region_bytes
				     : s->region_bytes - s->reserve;
		if (len > 0 && s->end + room > limit) {
			if (records > 0)
				break;
			/* Compaction helps only if it frees enough space. */
			if (!s->compacted_clean &&
			    s->live_bytes + room <= limit) {
				s->state = LOG_COMPACTING;
				duet__log_compact_start(s);
				return;
			}
			refuse(refused, req, room > limit ? -EFBIG : -ENOSPC);
			continue;
		}
		duet_list_unlink(&req->store_link);
		duet_list_insert_tail(&s->batch, &req->store_link);
		bytes += len;
		records += len > 0;
	}
	if (duet_list_empty(&s->batch))
		return;
	if (records == 0) {
		s->batch_bytes = 0;
		s->state = LOG_COMMITTING;
		batch_durable(s, s->end);
		return;
	}
	uint64_t max =
	    (s->end % s->ssz) + batch_room(records, bytes) + 3 * s->ssz;
	r = ensure_wbuf(s, max);
	if (r < 0) {
		duet__log_fail_all(s, r);
		return;
	}
	uint64_t new_end = encode_batch(s);
	uint64_t span =
	    duet__log_write_span(s->end, new_end, s->ssz, s->region_bytes);
	uint64_t start = s->end - s->end % s->ssz;
	memset(s->wbuf + (new_end - start), 0,
	       (size_t)(span - (new_end - start)));
	s->batch_bytes = new_end - s->end;
	s->state = LOG_COMMITTING;
	s->stats.commits++;
	s->stats.bytes_written += span;
	r = duet_block_write_fua(
	    s->dev, &s->wreq, s->sb.region_start[s->sb.active] + start / s->ssz,
	    s->wbuf, span / s->ssz, commit_done, s);
	if (r < 0)
		duet__log_fail_all(s, r);
}

static void commit(struct log_store *s)
{
	struct duet_list refused;

	duet_list_init(&refused);
	commit_batch(s, &refused);
	while (!duet_list_empty(&refused)) {
		struct duet_kv_req *req = duet_container_of(
		    refused.next, struct duet_kv_req, store_link);
		duet_list_unlink(&req->store_link);
		duet_kv_complete(req, req->store.write.refused);
	}
}

void duet__log_kick(struct log_store *s)
{
	if (s->state != LOG_IDLE)
		return;
	if (s->failed != 0) {
		duet__log_fail_all(s, s->failed);
		return;
	}
	if (s->want_compact) {
		s->want_compact = false;
		s->state = LOG_COMPACTING;
		duet__log_compact_start(s);
		return;
	}
	commit(s);
}

/* ---------------------------------------------------------------- reads */

void duet__log_read_done(struct duet_kv_req *req, int status)
{
	struct log_store *s = duet__log_of(req->kv);

	if (req->op != DUET_KV_GET) {
		duet__log_compact_read_done(s, req, status);
		return;
	}
	unsigned region = duet__rr_offset(req) >= duet__log_region_byte(s, 1);
	s->reads[region]--;
	/* A compaction waiting means requests in flight: the callback
	 * cannot close the store then. */
	bool drained = s->state == LOG_COMPACTING && s->reads[region] == 0;
	duet_kv_complete(req, status < 0 ? status : (int)duet__rr_len(req));
	if (drained)
		duet__log_compact_reads_drained(s);
}

struct list_item {
	const char *key;
	struct duet_kv_stat st;
};

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct list_item *)a)->key,
		      ((const struct list_item *)b)->key);
}

static void do_list(struct log_store *s, struct duet_kv_req *req)
{
	struct log_ent **all = duet__log_index_all(&s->ix);
	struct list_item *items = malloc((s->ix.count + 1) * sizeof(*items));
	size_t n = 0;

	if (all == NULL || items == NULL) {
		free(all);
		free(items);
		duet_kv_complete(req, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < s->ix.count; i++) {
		if (strncmp(all[i]->key, req->key, req->key_len) != 0)
			continue;
		items[n].key = all[i]->key;
		items[n].st =
		    (struct duet_kv_stat){all[i]->value_len, 0, all[i]->seq};
		n++;
	}
	free(all);
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_item);
	/* Entry callbacks cannot change the index: writes wait for the loop. */
	for (size_t i = 0; i < n; i++) {
		if (req->entry(req, items[i].key, &items[i].st, req->arg) != 0)
			break;
	}
	free(items);
	duet_kv_complete(req, 0);
}

static void log_submit(struct duet_kv *kv, struct duet_kv_req *req)
{
	struct log_store *s = duet__log_of(kv);
	struct log_ent *e;

	switch (req->op) {
	case DUET_KV_GET:
	case DUET_KV_STAT:
		e = duet__log_index_find(&s->ix, req->key, req->key_len);
		if (e == NULL) {
			duet_kv_complete(req, -ENOENT);
			return;
		}
		req->stat = (struct duet_kv_stat){e->value_len, 0, e->seq};
		duet__rr_get(&s->rr, req,
			     duet__log_region_byte(s, s->sb.active) +
				 e->rec_off + LOG_REC_HDR + e->key_len,
			     e->value_len, &s->reads[s->sb.active]);
		return;
	case DUET_KV_LIST: do_list(s, req); return;
	default:
		if (s->failed != 0) {
			duet_kv_complete(req, s->failed);
			return;
		}
		duet_list_insert_tail(&s->pending, &req->store_link);
		/* From a defer, so everything submitted in this loop
		 * iteration joins the same batch. */
		duet_defer_post(&s->kick);
		return;
	}
}

void duet__log_free(struct log_store *s)
{
	if (s == NULL)
		return;
	duet__log_index_fini(&s->ix);
	duet__rr_fini(&s->rr);
	free(s->tail);
	free(s->wbuf);
	free(s);
}

static void log_close(struct duet_kv *kv)
{
	struct log_store *s = duet__log_of(kv);

	duet_defer_cancel(&s->kick);
	duet__log_free(s);
}

const struct duet_kv_ops duet__log_ops = {
    .submit = log_submit,
    .close = log_close,
};

void duet_logstore_report(const struct duet_kv *kv,
			  struct duet_logstore_report *out)
{
	*out = duet_container_of(kv, const struct log_store, kv)->report;
}

void duet_logstore_get_stats(const struct duet_kv *kv,
			     struct duet_logstore_stats *out)
{
	const struct log_store *s =
	    duet_container_of(kv, const struct log_store, kv);

	*out = s->stats;
	out->log_bytes = s->end;
	out->region_bytes = s->region_bytes;
	out->live_keys = s->ix.count;
	out->live_bytes = s->live_bytes;
}

int duet_logstore_compact(struct duet_kv *kv, struct duet_kv_req *req,
			  duet_kv_cb cb, void *arg)
{
	int r = duet_kv_sync(kv, req, cb, arg);

	if (r == 0)
		duet__log_of(kv)->want_compact = true;
	return r;
}
