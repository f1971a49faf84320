/* The device registry: a list of named devices on the loop. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <duet/device.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/sys.h>

#include "core.h"

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > DUET_DEVICE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static struct duet_device *find_any(struct duet_loop *loop, const char *name)
{
	struct duet_list *pos;

	duet_list_foreach(pos, &duet_sys_of(loop)->devices) {
		struct duet_device *d =
			duet_container_of(pos, struct duet_device, link);
		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

int duet_device_register(struct duet_loop *loop, struct duet_device *dev,
			 enum duet_device_kind kind, const char *name)
{
	assert(loop != NULL && dev != NULL && name != NULL);
	if (!name_ok(name))
		return -EINVAL;
	if (find_any(loop, name) != NULL)
		return -EEXIST;
	dev->loop = loop;
	dev->kind = kind;
	dev->found = false;
	dev->rr_id = 0;
	strcpy(dev->name, name);
	duet_list_init(&dev->link);
	duet_list_insert_tail(&duet_sys_of(loop)->devices, &dev->link);
	return 0;
}

void duet_device_unregister(struct duet_device *dev)
{
	duet_list_unlink(&dev->link);
	dev->loop = NULL;
}

struct duet_device *duet_device_find(struct duet_loop *loop, const char *name,
				     enum duet_device_kind kind)
{
	struct duet_device *d = find_any(loop, name);
	if (d == NULL || d->kind != kind)
		return NULL;
	d->found = true;
	return d;
}

struct duet_device *duet_device_next(struct duet_loop *loop,
				     struct duet_device *prev)
{
	struct duet_list *devices = &duet_sys_of(loop)->devices;
	struct duet_list *next = prev != NULL ? prev->link.next : devices->next;

	if (next == devices)
		return NULL;
	return duet_container_of(next, struct duet_device, link);
}

const char *duet_device_name(const struct duet_device *dev)
{
	return dev->name;
}

const char *duet_device_kind_name(enum duet_device_kind kind)
{
	switch (kind) {
	case DUET_DEVICE_NETIF: return "network interface";
	case DUET_DEVICE_BLOCK: return "block device";
	}
	return "device";
}

/* Of one kind, or of any if `any`. */
static const char *list_names(struct duet_loop *loop, bool any,
			      enum duet_device_kind kind, char *buf,
			      unsigned size)
{
	size_t used = 0;

	assert(size > 0);
	buf[0] = '\0';
	for (struct duet_device *d = duet_device_next(loop, NULL); d != NULL;
	     d = duet_device_next(loop, d)) {
		if (!any && d->kind != kind)
			continue;
		int n = snprintf(buf + used, size - used, "%s%s",
				 used > 0 ? ", " : "", d->name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "none");
	return buf;
}

const char *duet_device_list_names(struct duet_loop *loop,
				   enum duet_device_kind kind, char *buf,
				   unsigned size)
{
	return list_names(loop, false, kind, buf, size);
}

const char *duet__device_list_all(struct duet_loop *loop, char *buf,
				  unsigned size)
{
	return list_names(loop, true, DUET_DEVICE_NETIF, buf, size);
}

/* Shared by duet_netif_open() and duet_block_open(). */
struct duet_device *duet__device_open(struct duet_loop *loop, const char *name,
				      enum duet_device_kind kind, const char *tag)
{
	char names[128];
	struct duet_device *d = duet_device_find(loop, name, kind);

	if (d == NULL)
		duet_log(DUET_LOG_ERROR, tag, "no %s named '%s' (available: %s)",
			 duet_device_kind_name(kind), name,
			 duet_device_list_names(loop, kind, names, sizeof(names)));
	return d;
}
