/* The platform side of the libc subset, faked for the host tests: an arena
 * for duet__heap_grow that a test can shrink or fragment, and an assertion
 * hook that aborts. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "heap.h"
#include "libc_host.h"

#define PAGE_SIZE  4096
#define ARENA_SIZE (64u << 20)

static _Alignas(PAGE_SIZE) unsigned char arena[ARENA_SIZE];
static size_t arena_used;
static size_t arena_limit = ARENA_SIZE;
static int arena_gaps;

void libc_test_heap_limit(size_t bytes)
{
	arena_limit = bytes < ARENA_SIZE ? bytes : ARENA_SIZE;
}

void libc_test_heap_gaps(int on)
{
	arena_gaps = on;
}

size_t libc_test_heap_granted(void)
{
	return arena_used;
}

void *duet__heap_grow(size_t min_bytes, size_t *got)
{
	size_t start = arena_used + (arena_gaps && arena_used ? PAGE_SIZE : 0);
	size_t n = (min_bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;

	if (min_bytes > ARENA_SIZE || start + n > arena_limit)
		return NULL;
	arena_used = start + n;
	*got = n;
	return arena + start;
}

void duet__assert_fail(const char *expr, const char *file, unsigned int line,
		       const char *func)
{
	fprintf(stderr, "%s:%u: %s: assertion failed: %s\n", file, line, func,
		expr);
	abort();
}
