/* The in-memory xenstore of the host tests (fakexs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeplat.h"
#include "fakexs.h"

struct key {
	char path[160];
	char value[FAKEXS_VALUE_MAX];
	bool used;
};

static struct key table[FAKEXS_KEYS];
static struct key txbuf[FAKEXS_KEYS / 2]; /* the open transaction's writes */
static bool tx_open;
static unsigned writes, commits;
static struct duet__xs_watch *watch;
static struct fakexs_hooks hooks;

#define N(tab) (sizeof(tab) / sizeof((tab)[0]))

static _Noreturn void misuse(const char *what, const char *path)
{
	fprintf(stderr, "%s--\nfake xenstore: %s%s%s\n", fakeplat_console(),
		what, path != NULL ? ": " : "", path != NULL ? path : "");
	abort();
}

static struct key *find(struct key *tab, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].used && strcmp(tab[i].path, path) == 0)
			return &tab[i];
	return NULL;
}

static void put(struct key *tab, size_t n, const char *path, const char *v)
{
	struct key *e = find(tab, n, path);

	for (size_t i = 0; e == NULL && i < n; i++)
		if (!tab[i].used)
			e = &tab[i];
	if (e == NULL || strlen(path) >= sizeof(e->path))
		misuse("table full or path too long", path);
	e->used = true;
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->value, sizeof(e->value), "%s", v);
}

static int fault(enum fakexs_call call, const char *path)
{
	return hooks.fault != NULL ? hooks.fault(call, path, hooks.arg) : 0;
}

void fakexs_reset(void)
{
	memset(table, 0, sizeof(table));
	memset(txbuf, 0, sizeof(txbuf));
	memset(&hooks, 0, sizeof(hooks));
	tx_open = false;
	writes = commits = 0;
	watch = NULL;
}

void fakexs_set_hooks(const struct fakexs_hooks *h)
{
	if (h != NULL)
		hooks = *h;
	else
		memset(&hooks, 0, sizeof(hooks));
}

void fakexs_put(const char *path, const char *value)
{
	put(table, N(table), path, value);
}

const char *fakexs_get(const char *path)
{
	struct key *e = find(table, N(table), path);

	return e != NULL ? e->value : NULL;
}

unsigned fakexs_writes(void)
{
	return writes;
}
unsigned fakexs_commits(void)
{
	return commits;
}
bool fakexs_tx_open(void)
{
	return tx_open;
}
struct duet__xs_watch *fakexs_watch(void)
{
	return watch;
}

bool fakexs_fire(void)
{
	if (watch == NULL)
		return false;
	watch->cb(watch->path, watch->arg);
	return true;
}

static void check_tx(uint32_t tx, const char *path)
{
	if (tx != XS_TX_NONE && (!tx_open || tx != FAKEXS_TX))
		misuse("a transaction that is not open", path);
}

int duet__xs_read(uint32_t tx, const char *path, char *buf, size_t size)
{
	int r;

	check_tx(tx, path);
	if ((r = fault(FAKEXS_READ, path)) < 0)
		return r;
	if (hooks.read != NULL &&
	    (r = hooks.read(path, buf, size, hooks.arg)) != FAKEXS_FROM_TABLE) {
		if (r >= 0 && (size_t)r >= size)
			misuse("a read hook overran the buffer", path);
		return r;
	}
	struct key *e = tx != XS_TX_NONE ? find(txbuf, N(txbuf), path) : NULL;
	if (e == NULL)
		e = find(table, N(table), path);
	if (e == NULL)
		return -ENOENT;
	size_t len = strlen(e->value);
	if (len + 1 > size)
		return -ERANGE;
	memcpy(buf, e->value, len + 1);
	return (int)len;
}

int duet__xs_write(uint32_t tx, const char *path, const char *value)
{
	int r;

	check_tx(tx, path);
	if (value == NULL)
		misuse("a write of no value", path);
	if ((r = fault(FAKEXS_WRITE, path)) < 0)
		return r;
	if (tx != XS_TX_NONE) {
		put(txbuf, N(txbuf), path, value);
		return 0;
	}
	writes++;
	put(table, N(table), path, value);
	return 0;
}

int duet__xs_rm(uint32_t tx, const char *path)
{
	size_t len = strlen(path);
	int r;

	check_tx(tx, path);
	if ((r = fault(FAKEXS_RM, path)) < 0)
		return r;
	for (size_t i = 0; i < N(table); i++)
		if (table[i].used && strncmp(table[i].path, path, len) == 0 &&
		    (table[i].path[len] == '\0' || table[i].path[len] == '/'))
			table[i].used = false;
	return 0;
}

int duet__xs_directory(uint32_t tx, const char *path, char *buf, size_t size)
{
	size_t len = strlen(path), used = 0;
	int n = 0, r;

	check_tx(tx, path);
	if ((r = fault(FAKEXS_DIRECTORY, path)) < 0)
		return r;
	for (size_t i = 0; i < N(table); i++) {
		const char *p = table[i].path;
		if (!table[i].used || strncmp(p, path, len) != 0 ||
		    p[len] != '/')
			continue;
		p += len + 1;
		size_t clen = strcspn(p, "/");
		bool seen = false;
		for (size_t at = 0; at < used && !seen;
		     at += strlen(buf + at) + 1)
			seen = strlen(buf + at) == clen &&
			       strncmp(buf + at, p, clen) == 0;
		if (seen)
			continue;
		if (used + clen + 1 > size)
			return -ERANGE;
		memcpy(buf + used, p, clen);
		buf[used + clen] = '\0';
		used += clen + 1;
		n++;
	}
	return n;
}

int duet__xs_tx_start(uint32_t *tx)
{
	int r;

	if (tx_open)
		misuse("a nested transaction", NULL);
	if ((r = fault(FAKEXS_TX_START, NULL)) < 0)
		return r;
	memset(txbuf, 0, sizeof(txbuf));
	tx_open = true;
	*tx = FAKEXS_TX;
	return 0;
}

int duet__xs_tx_end(uint32_t tx, bool commit)
{
	check_tx(tx, NULL);
	if (tx == XS_TX_NONE)
		misuse("the end of no transaction", NULL);
	tx_open = false;
	int r = fault(commit ? FAKEXS_COMMIT : FAKEXS_ABORT, NULL);
	if (r < 0 || !commit)
		return r;
	for (size_t i = 0; i < N(txbuf); i++)
		if (txbuf[i].used)
			put(table, N(table), txbuf[i].path, txbuf[i].value);
	commits++;
	return 0;
}

int duet__xs_watch(struct duet__xs_watch *w, const char *path,
		   duet__xs_watch_cb cb, void *arg)
{
	int r;

	if ((r = fault(FAKEXS_WATCH, path)) < 0)
		return r;
	w->path = path;
	w->cb = cb;
	w->arg = arg;
	watch = w;
	return 0;
}

int duet__xs_unwatch(struct duet__xs_watch *w)
{
	int r;

	if ((r = fault(FAKEXS_UNWATCH, w->path)) < 0)
		return r;
	if (watch != w)
		return -ENOENT;
	watch = NULL;
	return 0;
}

const char *duet__xs_home(void)
{
	return "/local/domain/5";
}
