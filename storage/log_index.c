/* The log store's in-memory index: a chained hash table keyed by the key
 * bytes, seeded per store, doubling when it is as full as it is wide. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>

#include "log_internal.h"

static uint32_t hash_key(uint32_t seed, const char *key, size_t len)
{
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)key[i];
		h *= 16777619u;
	}
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	return h ^ (h >> 12);
}

int duet__log_index_init(struct log_index *ix, uint32_t seed)
{
	ix->nbuckets = 64;
	ix->count = 0;
	ix->seed = seed;
	ix->buckets = calloc(ix->nbuckets, sizeof(*ix->buckets));
	return ix->buckets == NULL ? -ENOMEM : 0;
}

void duet__log_index_fini(struct log_index *ix)
{
	for (size_t i = 0; ix->buckets != NULL && i < ix->nbuckets; i++) {
		struct log_ent *e = ix->buckets[i];
		while (e != NULL) {
			struct log_ent *n = e->next;
			free(e);
			e = n;
		}
	}
	free(ix->buckets);
	ix->buckets = NULL;
	ix->count = 0;
}

struct log_ent *duet__log_index_find(const struct log_index *ix,
				     const char *key, size_t key_len)
{
	uint32_t h = hash_key(ix->seed, key, key_len);
	struct log_ent *e = ix->buckets[h & (ix->nbuckets - 1)];

	for (; e != NULL; e = e->next) {
		if (e->hash == h && e->key_len == key_len &&
		    memcmp(e->key, key, key_len) == 0)
			return e;
	}
	return NULL;
}

static void grow(struct log_index *ix)
{
	size_t n = ix->nbuckets * 2;
	struct log_ent **b = calloc(n, sizeof(*b));

	/* Without memory the table stays as it is, only slower. */
	if (b == NULL)
		return;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		struct log_ent *e = ix->buckets[i];
		while (e != NULL) {
			struct log_ent *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(ix->buckets);
	ix->buckets = b;
	ix->nbuckets = n;
}

struct log_ent *duet__log_index_put(struct log_index *ix, const char *key,
				    size_t key_len, bool *created)
{
	struct log_ent *e = duet__log_index_find(ix, key, key_len);

	*created = e == NULL;
	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e) + key_len + 1);
	if (e == NULL)
		return NULL;
	e->hash = hash_key(ix->seed, key, key_len);
	e->key_len = (uint16_t)key_len;
	memcpy(e->key, key, key_len);
	e->key[key_len] = '\0';
	if (ix->count >= ix->nbuckets)
		grow(ix);
	size_t b = e->hash & (ix->nbuckets - 1);
	e->next = ix->buckets[b];
	ix->buckets[b] = e;
	ix->count++;
	return e;
}

void duet__log_index_remove(struct log_index *ix, struct log_ent *e)
{
	struct log_ent **p = &ix->buckets[e->hash & (ix->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	ix->count--;
	free(e);
}

int duet__log_apply(struct log_store *s, bool set, const char *key,
		    size_t key_len, uint64_t rec_off, uint64_t seq,
		    uint32_t value_len)
{
	struct log_ent *e;
	bool created;

	if (!set) {
		e = duet__log_index_find(&s->ix, key, key_len);
		if (e != NULL) {
			s->live_bytes -= log_rec_len(e->key_len, e->value_len);
			duet__log_index_remove(&s->ix, e);
		}
		return 0;
	}
	e = duet__log_index_put(&s->ix, key, key_len, &created);
	if (e == NULL)
		return -ENOMEM;
	if (!created)
		s->live_bytes -= log_rec_len(e->key_len, e->value_len);
	e->rec_off = rec_off;
	e->seq = seq;
	e->value_len = value_len;
	s->live_bytes += log_rec_len(key_len, value_len);
	return 0;
}

struct log_ent **duet__log_index_all(const struct log_index *ix)
{
	struct log_ent **all = malloc((ix->count + 1) * sizeof(*all));
	size_t n = 0;

	if (all == NULL)
		return NULL;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		for (struct log_ent *e = ix->buckets[i]; e != NULL; e = e->next)
			all[n++] = e;
	}
	return all;
}
