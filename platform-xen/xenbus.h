/* xenbus.h — a PV front-end's life with its backend, as plain C.
 *
 * netfront and blkfront follow the same XenbusState protocol; this module
 * is that protocol once, driven by the backend's state in xenstore, and
 * calls the driver (ops) for what is device-specific:
 *
 *   INIT       we said Initialising (which also asks a backend left Closed
 *              by an earlier front-end to prepare for a new one) and wait
 *              for the backend's InitWait; then ops->prepare allocates
 *              and grants, and in one transaction ops->publish writes the
 *              ring references and we say `publish_state` (Connected for
 *              netfront, Initialised for blkfront);
 *   PUBLISHED  we wait for the backend's Connected; then ops->connect
 *              starts I/O (and we say Connected if we had not);
 *   UP         the device works. If the backend leaves Connected (closing,
 *              closed, gone, or already back at InitWait after a quick
 *              restart), ops->disconnect stops I/O and we say Closed;
 *   CLOSING    we wait for the backend to finish closing (Closed, gone, or
 *              restarted), then ops->release takes back the pages. A
 *              backend may still map some for a moment (blkback finishing
 *              requests of the old connection after a rebind): release is
 *              tried again every DUET__XB_RELEASE_RETRY for up to
 *              DUET__XB_RELEASE_WAIT; after that the pages stay out of
 *              reuse for good and the device is DEAD. Otherwise, if reconnecting is
 *              allowed and the backend still exists and is online (the
 *              toolstack sets online=0 before a detach), we say
 *              Initialising again: back to INIT, so a backend that
 *              restarts (a driver domain rebooting, netback rebound) gets
 *              a new connection with fresh rings;
 *   DEAD       for good: after a failure to prepare or connect, a protocol
 *              error (duet__xb_fail), a detach (the backend's directory or
 *              ours removed, or online=0), a malformed backend state, or
 *              when reconnecting is not allowed. Our state is never
 *              written once our directory is gone: that would create it
 *              again.
 *
 * duet__xb_step() reads the backend's state and makes every transition it
 * allows; it is idempotent and runs from the watch on the backend's state
 * (duet__xb_start), that is from the loop. Nothing here waits: xenstore
 * requests are the one synchronous call (bounded in xenstore.c).
 *
 * Discovery (discover.c) starts the fronts it finds in one group and
 * learns when each has settled: reached UP, reached DEAD, or was still on
 * its way when the group's deadline came (duet__xb_group_expire).
 *
 * Plain C over xs.h: tests/unit/xen_xenbus_test.c runs it against a fake
 * xenstore and a backend that is slow, restarts, closes or misbehaves.
 */
#ifndef DUET_XEN_XENBUS_H
#define DUET_XEN_XENBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <duet/clock.h>
#include <duet/loop.h>

#include "xs.h"

#define DUET__XB_PATH_MAX 128
#define DUET__XB_RELEASE_RETRY DUET_MSEC(100)
#define DUET__XB_RELEASE_WAIT  DUET_SEC(10)

enum duet__xb_phase {
	DUET__XB_INIT,
	DUET__XB_PUBLISHED,
	DUET__XB_UP,
	DUET__XB_CLOSING,
	DUET__XB_DEAD,
};

struct duet__xb_ops {
	/* The backend is at InitWait (its features are readable): allocate,
	 * grant, bind the event channel. On failure release is called. */
	int (*prepare)(void *arg);
	/* Write the ring references and front-end features in transaction
	 * `tx` under `node` (may run again if the transaction is retried). */
	int (*publish)(void *arg, uint32_t tx, const char *node);
	/* The backend is Connected: start I/O. A failure ends the device. */
	int (*connect)(void *arg);
	/* Stop I/O: the backend is leaving, or the device failed. Only called
	 * after connect succeeded. */
	void (*disconnect)(void *arg, const char *why);
	/* Give back what prepare took; false if the backend still maps a
	 * page (then nothing is freed). Called at most once per prepare. */
	bool (*release)(void *arg);
	/* Optional: the device is DEAD (called once). */
	void (*gone)(void *arg);
	/* Optional, for a front started in a group: the boot's handshake is
	 * over, once: r is 0 (UP), -ENODEV (DEAD) or -ETIMEDOUT (the group's
	 * deadline came first; the protocol goes on from the watch). */
	void (*settled)(void *arg, int r);
};

struct duet__xb_front;

/* The fronts discovery started, and who hears once all have settled. */
struct duet__xb_group {
	struct duet__xb_front *fronts; /* started in it, newest first */
	unsigned pending;	       /* not settled yet */
	bool sealed;		       /* no more fronts will join */
	void (*done)(void *arg);
	void *arg;
};

struct duet__xb_front {
	char name[16];			/* "net0", for the log */
	char node[DUET__XB_PATH_MAX];	/* "device/vif/0" */
	char backend[DUET__XB_PATH_MAX]; /* from node/backend */
	char watch_path[DUET__XB_PATH_MAX + 8];
	uint16_t backend_id;
	int publish_state;
	bool reconnect;	  /* re-run the handshake after the backend closes */
	enum duet__xb_phase phase;
	bool prepared;	  /* release owed */
	bool connected;	  /* disconnect owed */
	unsigned connects; /* successful connections so far */
	const struct duet__xb_ops *ops;
	void *arg;
	struct duet__xs_watch watch;
	/* release refused (pages still mapped): tried again until then */
	bool releasing;
	duet_time_t release_deadline;
	struct duet_timer release_retry;
	/* the group it was started in (NULL if none) */
	struct duet__xb_group *group;
	struct duet__xb_front *group_next;
	bool settled;
};

/* duet/platform.h's anchors of a kind's drivers, as this platform defines
 * them (netfront_xs.c, blkfront_xs.c): how discovery starts the kind. */
struct duet_plat_drivers {
	/* Finds the kind's devices and starts each one's front in g. */
	void (*start)(struct duet_loop *loop, struct duet__xb_group *g);
};

/* Reads node/backend and node/backend-id and says Initialising. Returns 0
 * or a negative errno (a missing or malformed key). The loop runs the
 * release retries. */
int duet__xb_init(struct duet__xb_front *f, struct duet_loop *loop,
		  const char *name, const char *node, int publish_state,
		  bool reconnect, const struct duet__xb_ops *ops, void *arg);

/* The devices of one class the toolstack gave the domain (device/vif,
 * device/vbd), for the drivers' probes. The one naming rule: sorted by
 * their number in xenstore, the i-th is PREFIXi (the vifs 0 and 1 are net0
 * and net1; the vbds 51712 and 51728, xvda and xvdb, are disk0 and disk1).
 * Entries that are not numbers are skipped with a warning; of more than
 * `max` (at most 32), the lowest numbered are kept (said once). Returns
 * how many, 0 if none. */
struct duet__xb_found {
	char id[12];		      /* "51712" */
	char name[16];		      /* "disk0" */
	char node[DUET__XB_PATH_MAX]; /* "device/vbd/51712" */
};
unsigned duet__xb_enumerate(const char *dir, const char *prefix,
			    struct duet__xb_found *out, unsigned max);

/* Makes every transition the backend's current state allows; returns the
 * phase reached. */
enum duet__xb_phase duet__xb_step(struct duet__xb_front *f);

/* Watches the backend's state and steps once: from now on the protocol
 * runs from the watch. In group g (or none if NULL, which must not be
 * sealed), the front settles as ops->settled says. */
void duet__xb_start(struct duet__xb_front *f, struct duet__xb_group *g);

/* A group with no fronts yet; done(arg) is called once the group is
 * sealed and every front in it has settled. */
void duet__xb_group_init(struct duet__xb_group *g, void (*done)(void *arg),
			 void *arg);
/* Every front has been started: done now if all have settled already. */
void duet__xb_group_seal(struct duet__xb_group *g);
/* The group's deadline: every front not settled yet settles with
 * -ETIMEDOUT (its handshake goes on), and done is called. */
void duet__xb_group_expire(struct duet__xb_group *g);

/* The driver found the backend breaking the protocol: disconnect, say
 * Closed, and never reconnect. Safe to call from the driver's I/O path. */
void duet__xb_fail(struct duet__xb_front *f, const char *why);

/* The backend's state: XenbusStateUnknown if missing (the backend is gone)
 * or malformed, a negative errno if xenstore did not answer. */
int duet__xb_backend_state(const struct duet__xb_front *f);
/* A number in the backend's directory, `def` if missing or malformed. */
long long duet__xb_backend_ll(const struct duet__xb_front *f,
			      const char *key, long long def);

/* Reads dir/key into buf (outside a transaction): 0 or a negative errno
 * (-ENOENT if missing). */
int duet__xb_read(const char *dir, const char *key, char *buf, size_t size);
/* Writes dir/key=value (in transaction tx). */
int duet__xb_write(uint32_t tx, const char *dir, const char *key,
		   const char *value);
int duet__xb_write_ul(uint32_t tx, const char *dir, const char *key,
		      unsigned long value);

#endif
