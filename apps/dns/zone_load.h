/* Between the master-file reader (zone_text.c) and the table (zone.c). */
#ifndef DUET_DNS_ZONE_LOAD_H
#define DUET_DNS_ZONE_LOAD_H

#include "zone.h"

/* Appends n bytes to the zone's data; *off is where they went. */
int duet__dns_data_add(struct dns_zone *z, const void *p, size_t n,
		       uint32_t *off);
int duet__dns_rr_add(struct dns_zone *z, const struct dns_rr *rr);
/* Sorts the records, drops duplicates, checks the zone-wide rules and
 * builds the node index. -EINVAL with a reason in err, or -ENOMEM. */
int duet__dns_zone_finish(struct dns_zone *z, char *err, size_t errlen);

#endif
