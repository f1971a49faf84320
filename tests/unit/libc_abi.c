/* Compiled with the libc subset, against its headers alone: the compile
 * itself checks every prototype in libc_host.h, and the tables let the tests
 * compare the subset's errno and PRI values with glibc's. */
#define LIBC_ABI_CHECK
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libc_host.h"

LIBC_FUNCTIONS(LIBC_SAME_TYPE)
LIBC_SUBSET_ONLY(LIBC_SAME_TYPE)

#define VALUE(name)	    name
#define PRI_VALUE(c, width) PRI##c##width

const int errno_values[] = {LIBC_ERRNO_NAMES(VALUE)};
const char *const pri_values[] = {LIBC_PRI_NAMES(PRI_VALUE)};
