/* An in-memory xenstore for host tests of platform-xen's plain-C modules
 * (xenbus.c and the front-ends' xenstore sides): it defines xs.h's client
 * calls, so a test links it in place of xenstore.c.
 *
 * A table of up to FAKEXS_KEYS keys: reads and writes as the real client
 * does them (a value that does not fit the caller's buffer is -ERANGE),
 * one transaction at a time whose writes count only once committed,
 * directory listings of the distinct children in the table's order, rm of
 * a whole subtree, and one watch (the last one set). A test plays a slow,
 * hostile or failing xenstore through the hooks: a fault fails any call
 * before it runs, a read hook answers reads in place of the table.
 *
 * Misuse by the code under test (a write in a transaction that is not
 * open, a nested transaction, a wrong transaction id) and a full table
 * abort the run with what the code logged: a failed test, or for a fuzz
 * target a finding.
 */
#ifndef DUET_TEST_FAKEXS_H
#define DUET_TEST_FAKEXS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xs.h"

#define FAKEXS_KEYS	 64
#define FAKEXS_VALUE_MAX 128
/* The transaction id the fake hands out. */
#define FAKEXS_TX 7

enum fakexs_call {
	FAKEXS_READ,
	FAKEXS_WRITE,
	FAKEXS_RM,
	FAKEXS_DIRECTORY,
	FAKEXS_TX_START,
	FAKEXS_COMMIT, /* duet__xs_tx_end(tx, true) */
	FAKEXS_ABORT,  /* duet__xs_tx_end(tx, false) */
	FAKEXS_WATCH,
	FAKEXS_UNWATCH,
};

struct fakexs_hooks {
	/* Before every call (path NULL for the transaction calls): a negative
	 * errno is the call's result and it does nothing, 0 lets it run. A
	 * failed commit ends the transaction, as xenstored's does. */
	int (*fault)(enum fakexs_call call, const char *path, void *arg);
	/* Answers a read in place of the table: the value's length with buf
	 * filled (NUL-terminated within size), a negative errno, or
	 * FAKEXS_FROM_TABLE to read the table after all. */
	int (*read)(const char *path, char *buf, size_t size, void *arg);
	void *arg;
};
#define FAKEXS_FROM_TABLE 1000000

/* Empties the table, forgets the watch and any open transaction, and
 * removes the hooks. */
void fakexs_reset(void);
/* Hooks for the calls from now on (NULL: none); copied. */
void fakexs_set_hooks(const struct fakexs_hooks *hooks);

/* The table itself, outside any transaction and without the hooks: what
 * the toolstack and a backend write. */
void fakexs_put(const char *path, const char *value);
/* The value at path, or NULL. */
const char *fakexs_get(const char *path);
/* Writes the code under test made outside transactions, and commits. */
unsigned fakexs_writes(void);
unsigned fakexs_commits(void);
bool fakexs_tx_open(void);

/* The watch the code under test set last (NULL if none or removed). */
struct duet__xs_watch *fakexs_watch(void);
/* Delivers an event for it, as the loop does; false if there is none. */
bool fakexs_fire(void);

#endif
