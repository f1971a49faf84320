/* The one errno: Duet runs a single thread, so no per-thread storage. */
#include <errno.h>

int errno;
