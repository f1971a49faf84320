/* Internal interfaces between the core's own files. */
#ifndef DUET_CORE_INTERNAL_H
#define DUET_CORE_INTERNAL_H

#include <duet/device.h>
#include <duet/loop.h>

void duet__timers_run(struct duet_loop *loop);
struct duet_sys;
void duet__shutdown_init(struct duet_sys *sys);

/* Finds a device of a kind, logging the available names under `tag` when
 * there is none. */
struct duet_device *duet__device_open(struct duet_loop *loop, const char *name,
				      enum duet_device_kind kind,
				      const char *tag);
/* duet_device_list_names() for every kind, for the boot log. */
const char *duet__device_list_all(struct duet_loop *loop, char *buf,
				  unsigned size);

#endif
