/* duet/error.h — error conventions.
 *
 * Every Duet function that can fail returns 0 on success or a negative errno
 * value (-EINVAL, -ENOMEM, ...) on failure. A positive return value is only
 * ever a count, and only where the function's contract says so. Errors from
 * lwIP, libuv or Xen are converted to this form at the boundary where they
 * enter Duet; nothing above that boundary sees another error space.
 *
 * Programmer errors (a NULL where the contract forbids it, a timer used before
 * init) are assertions, not return values. Runtime errors (bad input, device
 * failure, exhaustion) are returned. Library code never exits the process.
 */
#ifndef DUET_ERROR_H
#define DUET_ERROR_H

#include <errno.h>

/* A short, static, human-readable description of a negative errno value (or
 * of 0). Never returns NULL; unknown values give "unknown error". The string
 * is owned by Duet and lives for the whole run. */
const char *duet_strerror(int err);

#endif
