/* xs.h — the xenstore client's interface (xenstore.c), on its own so that
 * plain-C modules using it (xenbus.c) compile for the host tests, which
 * link a fake in its place.
 */
#ifndef DUET_XEN_XS_H
#define DUET_XEN_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xenstore.c: a synchronous client (requests wait for their reply) with
 * asynchronous watches dispatched from the loop. Strings are NUL-terminated
 * copies into caller buffers. */
#define XS_TX_NONE 0
typedef void (*duet__xs_watch_cb)(const char *path, void *arg);
struct duet__xs_watch {
	struct duet__xs_watch *next;
	const char *path;
	duet__xs_watch_cb cb;
	void *arg;
	char token[16];
};
int duet__xs_read(uint32_t tx, const char *path, char *buf, size_t size);
int duet__xs_write(uint32_t tx, const char *path, const char *value);
int duet__xs_rm(uint32_t tx, const char *path);
/* Child names, NUL-separated, into buf; returns their count. */
int duet__xs_directory(uint32_t tx, const char *path, char *buf, size_t size);
int duet__xs_tx_start(uint32_t *tx);
/* commit false aborts; -EAGAIN means retry the whole transaction. */
int duet__xs_tx_end(uint32_t tx, bool commit);
int duet__xs_watch(struct duet__xs_watch *w, const char *path,
		   duet__xs_watch_cb cb, void *arg);
int duet__xs_unwatch(struct duet__xs_watch *w);
/* "domid" of this domain's xenstore home, e.g. "/local/domain/5". */
const char *duet__xs_home(void);

#endif
