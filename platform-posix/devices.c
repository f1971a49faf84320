/* What the command line's device declarations share: netif options, and
 * teardown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/block_driver.h>
#include <duet/entropy.h>
#include <duet/error.h>
#include <duet/netif_driver.h>
#include <duet/sys.h>

#include "posix.h"

static int parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	unsigned v[6];
	char buf[18];
	int end = 0;

	if (len != 17)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6 ||
	    end != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int duet__posix_netif_options(const char *flag, const char *opts,
			      uint8_t mac[6], unsigned *mtu, char *err,
			      size_t errlen)
{
	bool have_mac = false;

	while (opts != NULL && *opts != '\0') {
		size_t n = strcspn(opts, ",");
		if (strncmp(opts, "mac=", 4) == 0) {
			if (parse_mac(opts + 4, n - 4, mac) < 0 ||
			    (mac[0] & 1) != 0) {
				snprintf(err, errlen,
					 "%s: bad mac '%.*s' (want a unicast "
					 "address like 02:00:00:00:00:01)",
					 flag, (int)(n - 4), opts + 4);
				return -EINVAL;
			}
			have_mac = true;
		} else if (strncmp(opts, "mtu=", 4) == 0) {
			char *end;
			unsigned long v = strtoul(opts + 4, &end, 10);
			if (end != opts + n || n == 4 || v < 68 || v > 65535) {
				snprintf(err, errlen,
					 "%s: bad mtu '%.*s' (68..65535)", flag,
					 (int)(n - 4), opts + 4);
				return -EINVAL;
			}
			*mtu = (unsigned)v;
		} else {
			snprintf(err, errlen,
				 "%s: unknown option '%.*s' (mac=, mtu=)", flag,
				 (int)n, opts);
			return -EINVAL;
		}
		opts += n;
		if (*opts == ',')
			opts++;
	}
	if (!have_mac) {
		/* The platform's own: a replay has the MAC from the log. */
		if (duet__posix_random(mac, 6) < 0)
			return -EIO;
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* local, unicast */
	}
	return 0;
}

void duet__posix_devices_close(struct duet_loop *loop)
{
	/* Newest first (the registry's tail): a device may depend on one
	 * declared before it. */
	struct duet_list *devices = &duet_sys_of(loop)->devices;

	while (!duet_list_empty(devices)) {
		struct duet_device *last = duet_container_of(
		    devices->prev, struct duet_device, link);
		if (last->kind == DUET_DEVICE_NETIF)
			duet_netif_unregister(
			    duet_container_of(last, struct duet_netif, dev));
		else
			duet_block_unregister(
			    duet_container_of(last, struct duet_block, dev));
	}
}
