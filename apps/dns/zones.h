/* zones.h — the zone files embedded in the image at build time
 * (apps/dns/zones/NAME.zone, by embed-zones.sh), as text. */
#ifndef DUET_DNS_ZONES_H
#define DUET_DNS_ZONES_H

#include <stddef.h>

struct dns_zone_file {
	const char *name; /* "example.com.zone": the initial origin, too */
	const char *text;
	size_t len;
};

extern const struct dns_zone_file dns_zone_files[];
extern const size_t dns_zone_file_count;

#endif
