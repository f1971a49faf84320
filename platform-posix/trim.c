/* Memory back to the host once the loop goes idle after a large release.
 *
 * This is the platform's affair, not an app's: apps free what they no
 * longer need (httpd keeps no record of a closed connection), but glibc
 * keeps freed memory inside its heap and gives back by itself only a free
 * top above M_TRIM_THRESHOLD. After 10,000 keep-alive connections came and
 * went, the chunks freed between allocations that live on stayed resident:
 * httpd held 0.6-3.9 MB anonymous against 0.2 MB idle. And libuv's table of
 * I/O watchers, indexed by fd, grows to the highest fd ever polled and
 * never shrinks: 128 KiB of NULLs after as many sockets.
 *
 * So, when the loop is about to sleep, at most every TRIM_EVERY: the
 * pages of the watcher table that hold only zeros go back (MADV_DONTNEED
 * on private anonymous memory: they read as zeros again when next touched,
 * so libuv sees no change); and if the heap's free bytes grew by TRIM_MIN
 * since the last trim, malloc_trim() gives the pages of its free chunks
 * back, and the dead stack below the loop's frame goes too. A check that is
 * not due yet brings the wake forward to when it is (duet_plat_wait may
 * return early), so the last release of a burst is trimmed even if nothing
 * else wakes the loop. After the 10,000 connections: 0.24-0.26 MB against
 * 0.22-0.23 MB idle (tests/posix/httpd_socket.sh); what stays is glibc's
 * per-thread cache of small chunks, counted as in use.
 *
 * The check is mallinfo2(), which walks glibc's free lists: once per
 * TRIM_EVERY at most, never per event. Under the sanitizers their own
 * allocator holds the memory and glibc's heap stays small: nothing to do.
 */
#include <malloc.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "posix.h"

#define TRIM_EVERY DUET_MSEC(100)
#define TRIM_MIN   (64u << 10)

static duet_time_t next_check;
static size_t free_at_trim; /* the heap's free bytes after the last trim */
static bool woke;	    /* the loop ran since the last check */

static bool page_is_zero(const unsigned char *p, size_t len)
{
	return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

/* uv_loop_t's watchers is libuv's own (UV_LOOP_PRIVATE_FIELDS in
 * uv/unix.h), read only to find the table, a malloc'd block. A page of it
 * that is all zeros reads the same after MADV_DONTNEED, whoever's bytes
 * they are (its bookkeeping entries past nwatchers, the block's slack), so
 * the whole block is looked at. Only resident pages are, so a check after
 * the table was trimmed costs a mincore(). */
static void trim_watchers(const uv_loop_t *uv)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)uv->watchers;
	uintptr_t from = (start + page - 1) & ~(page - 1);
	uintptr_t to = (start + malloc_usable_size(uv->watchers)) & ~(page - 1);
	unsigned char in[64];

	if (uv->watchers == NULL)
		return;
	while (from < to) {
		size_t n = (to - from) / page;
		n = n < sizeof(in) ? n : sizeof(in);
		if (mincore((void *)from, n * page, in) == 0)
			for (size_t i = 0; i < n; i++) {
				unsigned char *p =
				    (unsigned char *)(from + i * page);
				if ((in[i] & 1) && page_is_zero(p, page))
					madvise(p, page, MADV_DONTNEED);
			}
		from += n * page;
	}
}

/* libuv's poll takes up to 1024 events into an array on the stack
 * (12 KiB): a burst touches all of it, and those pages stay. While the
 * loop decides to sleep, the stack below this frame is dead: a page under
 * it is left for the calls on the way, the 256 KiB below that go back
 * (what lies under the stack's mapping is its guard gap, unmapped:
 * madvise skips it). */
static void trim_stack(uintptr_t page)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top = (sp & ~(page - 1)) - 2 * page;

	madvise((void *)(top - 64 * page), 64 * page, MADV_DONTNEED);
}

void duet__posix_trim_woke(void)
{
	woke = true;
}

void duet__posix_trim(uv_loop_t *uv, duet_time_t now, duet_time_t *deadline)
{
	/* Only our own wake since the last check: nothing was freed. */
	if (!woke)
		return;
	if (now < next_check) {
		if (*deadline > next_check)
			*deadline = next_check;
		return;
	}
	woke = false;
	next_check = now + TRIM_EVERY;
	/* Its sockets may close after the heap's memory was given back. */
	trim_watchers(uv);

	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks < free_at_trim)
		free_at_trim =
		    mi.fordblks; /* reused: its next release counts */
	if (mi.fordblks - free_at_trim < TRIM_MIN)
		return;
	malloc_trim(0);
	trim_stack((uintptr_t)sysconf(_SC_PAGESIZE));
	free_at_trim = mallinfo2().fordblks;
}
