/* kv's keyspace (db.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <duet/clock.h>
#include <duet/entropy.h>

#include "db.h"

/* ------------------------------------------------------ SipHash-1-3 */

/* One compression round per word and three to finish: the reduced-round
 * variant hash tables use against chosen-key flooding (the full 2-4 costs
 * a quarter of a GET here for no gain in that use: the key is secret and
 * only bucket positions are derived from it). */

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

#define SIPROUND                                                           \
	do {                                                               \
		v0 += v1;                                                  \
		v1 = rotl(v1, 13);                                         \
		v1 ^= v0;                                                  \
		v0 = rotl(v0, 32);                                         \
		v2 += v3;                                                  \
		v3 = rotl(v3, 16);                                         \
		v3 ^= v2;                                                  \
		v0 += v3;                                                  \
		v3 = rotl(v3, 21);                                         \
		v3 ^= v0;                                                  \
		v2 += v1;                                                  \
		v1 = rotl(v1, 17);                                         \
		v1 ^= v2;                                                  \
		v2 = rotl(v2, 32);                                         \
	} while (0)

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint64_t siphash(const uint64_t key[2], const uint8_t *p, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t m, last = (uint64_t)n << 56;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = load64(p + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ------------------------------------------------------------ table */

#define INITIAL_BUCKETS 16

int kv_db_init(struct kv_db *db, kv_expire_cb on_expire, void *arg)
{
	memset(db, 0, sizeof(*db));
	db->buckets = calloc(INITIAL_BUCKETS, sizeof(*db->buckets));
	if (db->buckets == NULL)
		return -ENOMEM;
	db->mask = INITIAL_BUCKETS - 1;
	duet_entropy(db->sip, sizeof(db->sip));
	db->on_expire = on_expire;
	db->arg = arg;
	return 0;
}

static void entry_free(struct kv_db *db, struct kv_entry *e)
{
	db->value_bytes -= e->vlen;
	if (e->expire_ms != 0)
		db->with_expiry--;
	db->count--;
	free(e->val);
	free(e);
}

void kv_db_flush(struct kv_db *db)
{
	for (uint64_t b = 0; b <= db->mask; b++) {
		struct kv_entry *e = db->buckets[b], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			entry_free(db, e);
		}
		db->buckets[b] = NULL;
	}
	/* Back to the first size (the table never shrinks otherwise). */
	struct kv_entry **small = db->mask + 1 > INITIAL_BUCKETS
				      ? calloc(INITIAL_BUCKETS, sizeof(*small))
				      : NULL;
	if (small != NULL) {
		free(db->buckets);
		db->buckets = small;
		db->mask = INITIAL_BUCKETS - 1;
		db->sweep = 0;
	}
}

void kv_db_fini(struct kv_db *db)
{
	if (db->buckets != NULL)
		kv_db_flush(db);
	free(db->buckets);
	db->buckets = NULL;
}

static struct kv_entry **slot_of(struct kv_db *db, const uint8_t *k, size_t n,
				 uint64_t h)
{
	struct kv_entry **pp = &db->buckets[h & db->mask];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == n &&
		    memcmp((*pp)->key, k, n) == 0)
			break;
	return pp;
}

static bool expired(const struct kv_entry *e, int64_t now_ms)
{
	return e->expire_ms != 0 && e->expire_ms <= now_ms;
}

static void expire_entry(struct kv_db *db, struct kv_entry **pp)
{
	struct kv_entry *e = *pp;

	if (db->on_expire != NULL)
		db->on_expire(db, e, db->arg);
	*pp = e->next;
	db->expired++;
	entry_free(db, e);
}

struct kv_entry *kv_db_lookup(struct kv_db *db, const uint8_t *k, size_t n,
			      int64_t now_ms)
{
	uint64_t h = siphash(db->sip, k, n);
	struct kv_entry **pp = slot_of(db, k, n, h);

	if (*pp != NULL && expired(*pp, now_ms)) {
		expire_entry(db, pp);
		return NULL;
	}
	return *pp;
}

/* Doubles the table; on no memory it stays as it is (longer chains). */
static void grow(struct kv_db *db)
{
	uint64_t n = (db->mask + 1) * 2;
	struct kv_entry **nb = calloc(n, sizeof(*nb));

	if (nb == NULL)
		return;
	for (uint64_t b = 0; b <= db->mask; b++) {
		struct kv_entry *e = db->buckets[b], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(db->buckets);
	db->buckets = nb;
	db->mask = n - 1;
}

struct kv_entry *kv_db_upsert(struct kv_db *db, const uint8_t *k, size_t n,
			      bool *created)
{
	uint64_t h = siphash(db->sip, k, n);
	struct kv_entry **pp = slot_of(db, k, n, h);

	*created = false;
	if (*pp != NULL)
		return *pp;
	struct kv_entry *e = calloc(1, sizeof(*e) + n);
	if (e == NULL)
		return NULL;
	e->hash = h;
	e->klen = n;
	memcpy(e->key, k, n);
	*pp = e;
	db->count++;
	*created = true;
	if (db->count > db->mask + 1)
		grow(db);
	return e;
}

bool kv_db_set_value(struct kv_db *db, struct kv_entry *e, const void *v,
		     size_t n)
{
	if (n > e->vcap || (e->vcap > 4096 && n < e->vcap / 4)) {
		uint8_t *p = n > 0 ? malloc(n) : NULL;
		if (n > 0 && p == NULL)
			return false;
		free(e->val);
		e->val = p;
		e->vcap = n;
	}
	if (n > 0)
		memcpy(e->val, v, n);
	db->value_bytes += n;
	db->value_bytes -= e->vlen;
	e->vlen = n;
	return true;
}

bool kv_db_append(struct kv_db *db, struct kv_entry *e, const void *v,
		  size_t n)
{
	if (e->vlen + n > e->vcap) {
		size_t cap = e->vcap * 2 > e->vlen + n ? e->vcap * 2
						       : e->vlen + n;
		uint8_t *p = realloc(e->val, cap);
		if (p == NULL)
			return false;
		e->val = p;
		e->vcap = cap;
	}
	if (n > 0)
		memcpy(e->val + e->vlen, v, n);
	e->vlen += n;
	db->value_bytes += n;
	return true;
}

bool kv_db_extend(struct kv_db *db, struct kv_entry *e, size_t n)
{
	if (n <= e->vlen)
		return true;
	if (n > e->vcap) {
		uint8_t *p = realloc(e->val, n);
		if (p == NULL)
			return false;
		e->val = p;
		e->vcap = n;
	}
	memset(e->val + e->vlen, 0, n - e->vlen);
	db->value_bytes += n - e->vlen;
	e->vlen = n;
	return true;
}

void kv_db_set_expiry(struct kv_db *db, struct kv_entry *e, int64_t at_ms)
{
	if ((e->expire_ms != 0) != (at_ms != 0))
		db->with_expiry += at_ms != 0 ? 1 : (size_t)-1;
	e->expire_ms = at_ms;
}

void kv_db_remove(struct kv_db *db, struct kv_entry *e)
{
	struct kv_entry **pp = &db->buckets[e->hash & db->mask];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	entry_free(db, e);
}

/* ------------------------------------------------------------- scans */

static uint64_t rev64(uint64_t v)
{
	v = (v >> 1 & 0x5555555555555555ULL) | (v & 0x5555555555555555ULL) << 1;
	v = (v >> 2 & 0x3333333333333333ULL) | (v & 0x3333333333333333ULL) << 2;
	v = (v >> 4 & 0x0f0f0f0f0f0f0f0fULL) | (v & 0x0f0f0f0f0f0f0f0fULL) << 4;
	v = (v >> 8 & 0x00ff00ff00ff00ffULL) | (v & 0x00ff00ff00ff00ffULL) << 8;
	v = (v >> 16 & 0x0000ffff0000ffffULL) |
	    (v & 0x0000ffff0000ffffULL) << 16;
	return v >> 32 | v << 32;
}

/* The cursor after bucket `v`: the high bits of the mask count up. */
static uint64_t next_cursor(uint64_t v, uint64_t mask)
{
	v |= ~mask;
	return rev64(rev64(v) + 1);
}

uint64_t kv_db_scan(struct kv_db *db, uint64_t cursor, size_t count,
		    void (*visit)(struct kv_entry *e, void *arg), void *arg)
{
	size_t seen = 0;
	uint64_t v = cursor;

	do {
		for (struct kv_entry *e = db->buckets[v & db->mask]; e != NULL;
		     e = e->next, seen++)
			visit(e, arg);
		v = next_cursor(v, db->mask);
	} while (v != 0 && seen < count);
	return v;
}

size_t kv_db_expire_some(struct kv_db *db, size_t buckets, int64_t now_ms)
{
	size_t removed = 0;

	if (db->with_expiry == 0)
		return 0;
	while (buckets-- > 0) {
		struct kv_entry **pp = &db->buckets[db->sweep & db->mask];
		while (*pp != NULL) {
			if (expired(*pp, now_ms)) {
				expire_entry(db, pp);
				removed++;
			} else {
				pp = &(*pp)->next;
			}
		}
		db->sweep = next_cursor(db->sweep, db->mask);
	}
	return removed;
}

int64_t kv_now_ms(void)
{
	return (int64_t)(duet_clock_wall() / DUET_NSEC_PER_MSEC);
}

/* ------------------------------------------------------------- glob */

/* Does pattern element pat[*pi..] (not a '*') match c? Advances *pi. */
static bool match_one(const uint8_t *pat, size_t plen, size_t *pi, uint8_t c)
{
	size_t p = *pi;

	if (pat[p] == '?') {
		*pi = p + 1;
		return true;
	}
	if (pat[p] == '\\' && p + 1 < plen) {
		*pi = p + 2;
		return pat[p + 1] == c;
	}
	if (pat[p] != '[') {
		*pi = p + 1;
		return pat[p] == c;
	}
	p++;
	bool negate = p < plen && pat[p] == '^', hit = false;
	if (negate)
		p++;
	/* A class runs to its ']' (or the pattern's end). */
	while (p < plen && pat[p] != ']') {
		if (pat[p] == '\\' && p + 1 < plen) {
			hit |= pat[p + 1] == c;
			p += 2;
		} else if (p + 2 < plen && pat[p + 1] == '-' &&
			   pat[p + 2] != ']') {
			uint8_t lo = pat[p], hi = pat[p + 2];
			if (lo > hi) {
				uint8_t t = lo;
				lo = hi;
				hi = t;
			}
			hit |= c >= lo && c <= hi;
			p += 3;
		} else {
			hit |= pat[p] == c;
			p++;
		}
	}
	*pi = p < plen ? p + 1 : p;
	return hit != negate;
}

bool kv_glob(const uint8_t *pat, size_t plen, const uint8_t *s, size_t n)
{
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

	/* One backtrack point, the last '*': every other element matches
	 * exactly one byte, so retrying from the last star is enough and
	 * the work stays within plen * n. */
	while (i < n) {
		if (p < plen && pat[p] == '*') {
			while (p < plen && pat[p] == '*')
				p++;
			if (p == plen)
				return true;
			star_p = p;
			star_i = i;
			continue;
		}
		size_t q = p;
		if (p < plen && match_one(pat, plen, &q, s[i])) {
			p = q;
			i++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return false;
		p = star_p;
		i = ++star_i;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}
