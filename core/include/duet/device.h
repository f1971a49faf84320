/* duet/device.h — the device registry.
 *
 * Devices with several instances (network interfaces, disks) are registered
 * under a short name — `net0`, `disk0` — and apps find them by that name.
 * On POSIX the names come from the command line (`--net net0=tap:tap0`,
 * `--block disk0=site.img`); on Xen from xenstore (`device/vif/0` is net0,
 * the first vbd is disk0). A name is 1-15 characters of [a-z0-9_-] and
 * unique across kinds. The platform registers what it found before the
 * app's start runs (duet_plat_discover in duet/platform.h), so that start
 * finds every device that was ready at boot.
 *
 * The registry does not own devices: a driver embeds a struct duet_device in
 * its own state, registers it once it is ready to use, and unregisters it
 * before freeing that state. Apps never register devices.
 *
 * An app opens its devices in its start function, as it reads its boot
 * arguments there: once start has returned, a device registered then (one
 * the user declared) that nobody looked up is reported with a warning, as
 * is a network asked for (net=, or --net socket) that the app never opened.
 */
#ifndef DUET_DEVICE_H
#define DUET_DEVICE_H

#include <stdbool.h>

#include <duet/list.h>

struct duet_loop;

#define DUET_DEVICE_NAME_MAX 15

enum duet_device_kind {
	DUET_DEVICE_NETIF = 1,
	DUET_DEVICE_BLOCK = 2,
};

struct duet_device {
	/* private: set by duet_device_register() */
	struct duet_list link;
	struct duet_loop *loop;
	enum duet_device_kind kind;
	bool found; /* duet_device_find() has returned it */
	unsigned char rr_id; /* its id in a replay log (duet/replay.h), or 0 */
	char name[DUET_DEVICE_NAME_MAX + 1];
};

/* Registers dev under `name`: 0, -EINVAL (bad name) or -EEXIST. */
int duet_device_register(struct duet_loop *loop, struct duet_device *dev,
			 enum duet_device_kind kind, const char *name);
void duet_device_unregister(struct duet_device *dev);

/* The device called `name`, of the given kind, or NULL. */
struct duet_device *duet_device_find(struct duet_loop *loop, const char *name,
				     enum duet_device_kind kind);

/* Iterates registered devices in registration order: pass NULL to start. */
struct duet_device *duet_device_next(struct duet_loop *loop,
				     struct duet_device *prev);

const char *duet_device_name(const struct duet_device *dev);
const char *duet_device_kind_name(enum duet_device_kind kind);

/* Writes "net0, disk0" (the registered names of that kind, or "none") into
 * buf, for error messages. Returns buf. */
const char *duet_device_list_names(struct duet_loop *loop,
				   enum duet_device_kind kind, char *buf,
				   unsigned size);

#endif
