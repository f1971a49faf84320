/* The log store's format and mount: choose the newer good superblock,
 * replay the active region's records into the index until the first one
 * that does not check out, then start a new generation by writing the
 * other superblock slot (records of this session carry it, so anything
 * left past the end by an earlier session can never join the log). */
#include <stdlib.h>
#include <string.h>

#include <duet/entropy.h>
#include <duet/error.h>
#include <duet/log.h>

#include "log_internal.h"

#define SCAN_WINDOW  (256u << 10)
#define FORMAT_CHUNK (1u << 20)

/* --------------------------------------------------------------- format */

struct log_format {
	struct duet_block *dev;
	struct duet_block_req req;
	uint8_t *buf;
	uint32_t ssz;
	uint64_t next, stop; /* sectors still to zero */
	int phase; /* 0 zeroing, 1 first flush, 2 superblock, 3 done */
	struct log_sb sb;
	void (*cb)(void *arg, int status);
	void *arg;
};

static void format_step(struct duet_block_req *req, int status, void *arg);

static int format_issue(struct log_format *f)
{
	if (f->phase == 0 && f->next < f->stop) {
		uint64_t n = FORMAT_CHUNK / f->ssz;
		if (n > f->stop - f->next)
			n = f->stop - f->next;
		uint64_t at = f->next;
		f->next += n;
		return duet_block_write(f->dev, &f->req, at, f->buf, n,
					format_step, f);
	}
	if (f->phase == 0)
		f->phase = 1;
	switch (f->phase) {
	case 1:
	case 3: return duet_block_flush(f->dev, &f->req, format_step, f);
	default:
		memset(f->buf, 0, f->ssz);
		log_sb_encode(&f->sb, f->buf);
		return duet_block_write(f->dev, &f->req,
					f->sb.seq % LOG_SB_SLOTS, f->buf, 1,
					format_step, f);
	}
}

static void format_step(struct duet_block_req *req, int status, void *arg)
{
	struct log_format *f = arg;
	(void)req;

	if (status == 0 && f->phase > 0) {
		if (f->phase == 3) {
			DUET_INFO("logstore",
				  "%s: formatted: 2 regions of %llu sectors",
				  duet_block_name(f->dev),
				  (unsigned long long)f->sb.region_sectors);
			goto out;
		}
		f->phase++;
	}
	if (status == 0)
		status = format_issue(f);
	if (status == 0)
		return;
out:
	f->cb(f->arg, status);
	free(f->buf);
	free(f);
}

int duet_logstore_format(struct duet_loop *loop, struct duet_block *dev,
			 void (*cb)(void *arg, int status), void *arg)
{
	struct duet_block_info info;
	(void)loop;

	duet_block_get_info(dev, &info);
	if (info.read_only)
		return -EROFS;
	uint64_t region = (info.sector_count - LOG_SB_SLOTS) / 2;
	if (info.sector_count < LOG_SB_SLOTS || region < LOG_MIN_REGION_SECTORS)
		return -ENOSPC;
	struct log_format *f = calloc(1, sizeof(*f));
	size_t bufsize =
	    FORMAT_CHUNK < info.sector_size ? info.sector_size : FORMAT_CHUNK;
	if (f == NULL || (f->buf = calloc(1, bufsize)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->dev = dev;
	f->ssz = info.sector_size;
	f->next = 0;
	f->stop = LOG_SB_SLOTS + 2 * region;
	f->cb = cb;
	f->arg = arg;
	f->sb = (struct log_sb){
	    .sector_size = info.sector_size,
	    .sector_count = f->stop,
	    .region_sectors = region,
	    .region_start = {LOG_SB_SLOTS, LOG_SB_SLOTS + region},
	    .seq = 1,
	    .active = 0,
	    .salt = duet_random_u32(),
	    .base_gen = 1,
	};
	int r = format_issue(f);
	if (r < 0) {
		free(f->buf);
		free(f);
	}
	return r;
}

/* ---------------------------------------------------------------- mount */

struct log_mounting {
	duet_kv_mount_cb cb;
	void *arg;
	struct duet_block_req req;
	uint8_t *win;
	size_t wcap;
	uint64_t win_off, win_len; /* region bytes the window holds */
	uint64_t p;		   /* scan position in the region */
	uint32_t last_gen, max_gen;
	bool counting; /* past the damage: only counting what is dropped */
	/* The record being checked, across reads: its checksum is computed
	 * a window at a time, so a record of any size (or a damaged length)
	 * never needs more memory than the window. */
	bool in_rec;
	struct log_rec rec;
	uint64_t rec_len, crc_pos;
	uint32_t crc;
	int phase; /* see mount_continue() */
};

static void mount_continue(struct log_store *s);

static void mount_end(struct log_store *s, int status)
{
	struct log_mounting *m = s->mounting;
	duet_kv_mount_cb cb = m->cb;
	void *arg = m->arg;

	free(m->win);
	free(m);
	s->mounting = NULL;
	if (status < 0) {
		duet__log_free(s);
		cb(NULL, status, arg);
		return;
	}
	DUET_INFO("logstore",
		  "%s: %llu keys, %llu bytes of log in region %u, "
		  "generation %u",
		  duet_block_name(s->dev), (unsigned long long)s->ix.count,
		  (unsigned long long)s->end, s->sb.active, s->gen);
	cb(&s->kv, 0, arg);
}

static void mount_io_done(struct duet_block_req *req, int status, void *arg)
{
	struct log_store *s = arg;
	struct log_mounting *m = s->mounting;

	if (status < 0) {
		DUET_ERROR("logstore", "%s: I/O error during mount: %s",
			   duet_block_name(s->dev), duet_strerror(status));
		mount_end(s, status);
		return;
	}
	if (m->phase == 1 || m->phase == 2) {
		m->win_off =
		    (req->sector - s->sb.region_start[s->sb.active]) * s->ssz;
		m->win_len = req->count * s->ssz;
	} else if (m->phase >= 3) {
		m->phase++;
	}
	mount_continue(s);
}

/* Makes region bytes [off, off + len) readable in the window; false if a
 * read was started (or failed: *err). */
static bool cover(struct log_store *s, uint64_t off, uint64_t len, int *err)
{
	struct log_mounting *m = s->mounting;

	if (off >= m->win_off && off + len <= m->win_off + m->win_len)
		return true;
	uint64_t start = off - off % s->ssz;
	uint64_t want = len + s->ssz < SCAN_WINDOW ? SCAN_WINDOW : len + s->ssz;
	want = (want + s->ssz - 1) / s->ssz * s->ssz;
	if (want > s->region_bytes - start)
		want = s->region_bytes - start;
	if (want > m->wcap) {
		uint8_t *w = realloc(m->win, (size_t)want);
		if (w == NULL) {
			*err = -ENOMEM;
			return false;
		}
		m->win = w;
		m->wcap = (size_t)want;
	}
	m->win_len = 0;
	*err = duet_block_read(
	    s->dev, &m->req, s->sb.region_start[s->sb.active] + start / s->ssz,
	    m->win, want / s->ssz, mount_io_done, s);
	return false;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	while (n-- > 0) {
		if (*p++ != 0)
			return false;
	}
	return true;
}

/* The record at m->p does not check out: the log ends here. Returns 1
 * to go on counting what looks valid after it (`len` is how far it
 * claims to reach, 0 if unknown), 0 to stop. */
static int damage(struct log_store *s, const char *why, uint64_t len)
{
	struct log_mounting *m = s->mounting;

	if (m->counting)
		return 0;
	s->report.damaged = true;
	s->report.damage = why;
	s->report.damage_offset = m->p;
	s->report.dropped_records = 1;
	s->report.dropped_bytes = len;
	if (len == 0 || len > s->region_bytes - m->p)
		return 0;
	/* Valid records after it are evidence of damage in the middle of
	 * the log rather than a write torn at its end. */
	m->counting = true;
	m->p += len;
	return 1;
}

/* Reads the header at m->p into m->rec. 1: a plausible record; 0: the log
 * ends here; -EAGAIN: a read was started; else an errno. */
static int scan_header(struct log_store *s)
{
	struct log_mounting *m = s->mounting;
	uint64_t p = m->p, R = s->region_bytes;
	uint64_t room = s->ssz - p % s->ssz;
	int err = 0;

	if (R - p < LOG_REC_HDR)
		return 0;
	if (!cover(s, p, room > LOG_REC_HDR ? room : LOG_REC_HDR, &err))
		return err < 0 ? err : -EAGAIN;
	const uint8_t *b = m->win + (p - m->win_off);
	if (room < LOG_REC_MIN_ROOM) {
		if (!all_zero(b, room))
			return damage(s, "padding is not zero", room) ? 2 : 0;
		m->p += room;
		return 2;
	}
	if (all_zero(b, room))
		return 0;
	struct log_rec *rec = &m->rec;
	log_rec_decode_hdr(b, rec);
	uint64_t len = log_rec_len(rec->key_len, rec->value_len);
	if ((rec->type != LOG_REC_SET && rec->type != LOG_REC_DELETE) ||
	    rec->key_len == 0 || rec->key_len > DUET_KV_KEY_MAX ||
	    (rec->type == LOG_REC_DELETE && rec->value_len != 0) || len > R - p)
		return damage(s, "bad record header", 0) ? 2 : 0;
	m->in_rec = true;
	m->rec_len = len;
	m->crc_pos = p + 4;
	m->crc = s->sb.salt;
	return 1;
}

/* Replays (or, past damage, counts) the record at m->p. 1: go on; 0: the
 * log ends here; -EAGAIN: a read was started; else an errno. */
static int scan_step(struct log_store *s)
{
	struct log_mounting *m = s->mounting;
	uint64_t p = m->p;
	int err = 0, r;

	if (!m->in_rec) {
		r = scan_header(s);
		if (r != 1)
			return r == 2 ? 1 : r;
	}
	const struct log_rec rec = m->rec;
	uint64_t len = m->rec_len;
	while (m->crc_pos < p + len) {
		uint64_t n = p + len - m->crc_pos;
		if (n > SCAN_WINDOW / 2)
			n = SCAN_WINDOW / 2;
		if (!cover(s, m->crc_pos, n, &err))
			return err < 0 ? err : -EAGAIN;
		m->crc = duet__crc32c(
		    m->crc, m->win + (m->crc_pos - m->win_off), (size_t)n);
		m->crc_pos += n;
	}
	if (m->crc != rec.crc) {
		m->in_rec = false;
		return damage(s, "record checksum mismatch", len);
	}
	/* A good record from before this region's era or an earlier
	 * session's leftovers past its end: the log ended before it. */
	if (rec.gen < s->sb.base_gen || rec.gen < m->last_gen) {
		m->in_rec = false;
		return 0;
	}
	if (!cover(s, p + LOG_REC_HDR, rec.key_len, &err))
		return err < 0 ? err : -EAGAIN;
	m->in_rec = false;
	const char *key = (const char *)m->win + (p + LOG_REC_HDR - m->win_off);
	if (memchr(key, '\0', rec.key_len) != NULL)
		return damage(s, "record key contains a NUL byte", len);
	m->p += len;
	m->last_gen = rec.gen;
	if (m->counting) {
		s->report.dropped_records++;
		s->report.dropped_bytes = m->p - s->report.damage_offset;
		return 1;
	}
	r = duet__log_apply(s, rec.type == LOG_REC_SET, key, rec.key_len, p,
			    rec.seq, rec.value_len);
	if (r < 0)
		return r;
	if (rec.gen > m->max_gen)
		m->max_gen = rec.gen;
	if (rec.seq >= s->next_seq)
		s->next_seq = rec.seq + 1;
	s->report.records++;
	return 1;
}

static int choose_superblock(struct log_store *s, const uint8_t *raw)
{
	struct duet_block_info info;
	struct log_sb sb[2];
	bool ok[2], magic[2];
	int best = -1;

	duet_block_get_info(s->dev, &info);
	for (int i = 0; i < 2; i++) {
		const uint8_t *p = raw + (size_t)i * s->ssz;
		magic[i] = log_sb_has_magic(p);
		ok[i] = log_sb_decode(p, &sb[i]) &&
			sb[i].sector_size == s->ssz &&
			sb[i].sector_count <= info.sector_count &&
			sb[i].region_sectors >= LOG_MIN_REGION_SECTORS &&
			sb[i].region_start[0] == LOG_SB_SLOTS &&
			sb[i].region_start[1] ==
			    LOG_SB_SLOTS + sb[i].region_sectors &&
			sb[i].region_sectors <= sb[i].sector_count / 2 &&
			sb[i].sector_count >=
			    LOG_SB_SLOTS + 2 * sb[i].region_sectors &&
			sb[i].active < 2 && sb[i].base_gen <= sb[i].seq &&
			sb[i].seq <= LOG_GEN_MAX;
		if (ok[i] && (best < 0 || sb[i].seq > sb[best].seq))
			best = i;
	}
	if (best < 0) {
		DUET_ERROR("logstore", "%s: %s", duet_block_name(s->dev),
			   magic[0] || magic[1] ? "both superblocks are damaged"
						: "not a Duet log store");
		return -EBADMSG;
	}
	if (magic[!best] && !ok[!best]) {
		s->report.superblock_damaged = true;
		DUET_WARN("logstore",
			  "%s: superblock %d is damaged; using the other",
			  duet_block_name(s->dev), !best);
	}
	s->sb = sb[best];
	s->region_bytes = s->sb.region_sectors * s->ssz;
	/* Room for a few deletes of the longest keys, or an eighth. */
	s->reserve = s->region_bytes / 8;
	if (s->reserve < 4 * (LOG_REC_HDR + DUET_KV_KEY_MAX + LOG_REC_MIN_ROOM))
		s->reserve =
		    4 * (LOG_REC_HDR + DUET_KV_KEY_MAX + LOG_REC_MIN_ROOM);
	if (s->reserve > s->region_bytes / 2)
		s->reserve = s->region_bytes / 2;
	return 0;
}

static int scan_finished(struct log_store *s)
{
	struct log_mounting *m = s->mounting;
	struct duet_logstore_report *r = &s->report;

	s->end = r->damaged ? r->damage_offset : m->p;
	r->keys = s->ix.count;
	if (r->damaged)
		DUET_WARN(
		    "logstore",
		    "%s: log damaged at byte %llu of region %u (%s): "
		    "kept %llu records, dropped %llu record%s (%llu bytes)",
		    duet_block_name(s->dev),
		    (unsigned long long)r->damage_offset, s->sb.active,
		    r->damage, (unsigned long long)r->records,
		    (unsigned long long)r->dropped_records,
		    r->dropped_records == 1 ? "" : "s",
		    (unsigned long long)r->dropped_bytes);
	uint64_t gen = s->sb.seq > m->max_gen ? s->sb.seq : m->max_gen;
	if (gen >= LOG_GEN_MAX) {
		/* No session can start, but what the log holds stays
		 * readable: nothing is written, writes fail. */
		DUET_ERROR("logstore",
			   "%s: generation counter exhausted: read-only; "
			   "reformat to write",
			   duet_block_name(s->dev));
		s->gen = LOG_GEN_MAX;
		s->failed = -ENOSPC;
		return 0;
	}
	s->gen = (uint32_t)(gen + 1);
	s->sb.seq = s->gen;
	return 0;
}

/* Phases: 0 superblocks read, 1 scanning, 2 reading the tail sector,
 * 3 new superblock written, 4 flushed. */
static void mount_continue(struct log_store *s)
{
	struct log_mounting *m = s->mounting;
	uint64_t start, keep;
	int r = 0, err = 0;

	switch (m->phase) {
	case 0:
		r = choose_superblock(s, m->win);
		if (r == 0)
			r = duet__log_index_init(&s->ix, s->sb.salt);
		if (r < 0)
			break;
		m->phase = 1;
		m->win_len = 0;
		/* fall through */
	case 1:
		while ((r = scan_step(s)) == 1)
			;
		if (r == 0)
			r = scan_finished(s);
		if (r != 0 || s->failed != 0)
			break;
		m->phase = 2;
		/* fall through */
	case 2:
		/* The partial sector the log ends in, if any, is kept to be
		 * rewritten whole with the next records. The window may
		 * be far past the end (damage found behind it): it is
		 * touched only for bytes to keep. */
		start = s->end - s->end % s->ssz;
		keep = s->end - start;
		if (keep > 0) {
			if (!cover(s, start, keep, &err)) {
				r = err < 0 ? err : -EAGAIN;
				break;
			}
			memcpy(s->tail, m->win + (start - m->win_off),
			       (size_t)keep);
		}
		memset(m->win, 0, s->ssz);
		log_sb_encode(&s->sb, m->win);
		m->phase = 3;
		r = duet_block_write(s->dev, &m->req, s->sb.seq % LOG_SB_SLOTS,
				     m->win, 1, mount_io_done, s);
		if (r == 0)
			r = -EAGAIN;
		break;
	case 4:
		r = duet_block_flush(s->dev, &m->req, mount_io_done, s);
		if (r == 0)
			r = -EAGAIN;
		break;
	default: r = 0; break;
	}
	if (r != -EAGAIN)
		mount_end(s, r);
}

static void kick_cb(struct duet_defer *d, void *arg)
{
	(void)d;
	duet__log_kick(arg);
}

int duet_logstore_mount(struct duet_loop *loop, struct duet_block *dev,
			duet_kv_mount_cb cb, void *arg)
{
	struct duet_block_info info;
	struct log_store *s;
	struct log_mounting *m;
	int r;

	duet_block_get_info(dev, &info);
	if (info.read_only)
		return -EROFS;
	if (info.sector_count < LOG_SB_SLOTS)
		return -EBADMSG;
	s = calloc(1, sizeof(*s));
	m = calloc(1, sizeof(*m));
	if (s == NULL || m == NULL)
		goto nomem;
	s->dev = dev;
	s->ssz = info.sector_size;
	s->mounting = m;
	s->next_seq = 1;
	m->cb = cb;
	m->arg = arg;
	m->wcap = SCAN_WINDOW > 2 * s->ssz ? SCAN_WINDOW : 2 * s->ssz;
	m->win = malloc(m->wcap);
	s->tail = calloc(1, s->ssz);
	if (m->win == NULL || s->tail == NULL ||
	    duet__rr_init(&s->rr, dev, duet__log_read_done) < 0)
		goto nomem;
	duet_list_init(&s->pending);
	duet_list_init(&s->batch);
	duet_defer_init(loop, &s->kick, kick_cb, s);
	duet_kv_init(&s->kv, loop, "log", &duet__log_ops, false);
	s->kv.io_size = duet__rr_io_size(&s->rr);
	r = duet_block_read(dev, &m->req, 0, m->win, LOG_SB_SLOTS,
			    mount_io_done, s);
	if (r < 0)
		goto fail;
	return r;
nomem:
	r = -ENOMEM;
fail:
	if (m != NULL)
		free(m->win);
	free(m);
	duet__log_free(s);
	return r;
}
