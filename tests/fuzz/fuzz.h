/* Shared by the fuzz targets: libFuzzer's entry point, a loop on the fake
 * platform (tests/unit/fakeplat.c) run until a flag is set, a reader that
 * turns the input into a sequence of choices for structured targets, and
 * a check that fails the run (abort: libFuzzer saves the input). */
#ifndef DUET_FUZZ_H
#define DUET_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/loop.h>

#include "fakeplat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: the input is a
 * finding. What the code logged comes first. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s--\n%s:%d: check failed: %s\n",     \
				fakeplat_console(), __FILE__, __LINE__,        \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input as a string (NUL-terminated copy); free() it. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* ------------------------------------------------------ structured input */

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool fuzz_more(const struct fuzz_in *in)
{
	return in->left > 0;
}

/* The next byte; 0 once the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);
	return hi << 16 | fuzz_u16(in);
}

/* Up to `max` bytes: a length byte, then that many bytes (fewer at the end
 * of the input). Points into the input; returns the length. */
static inline size_t fuzz_bytes(struct fuzz_in *in, size_t max,
				const uint8_t **out)
{
	size_t n = fuzz_u8(in);

	if (n > max)
		n %= max + 1;
	if (n > in->left)
		n = in->left;
	*out = in->p;
	in->p += n;
	in->left -= n;
	return n;
}

/* ------------------------------------------------------- the fake loop */

/* Runs the loop until *flag is true or it has spun `limit` times with no
 * progress to show: a loop that never gets there is a hang, a finding. */
struct fuzz_run {
	struct duet_loop *loop;
	bool *flag;
	unsigned long spins, limit;
	struct duet_timer poll;
};

static inline void fuzz_run_poll(struct duet_timer *t, void *arg)
{
	struct fuzz_run *r = arg;

	if (*r->flag || ++r->spins > r->limit)
		duet_loop_stop(r->loop, 0);
	else
		duet_timer_start(t, 0, 0);
}

/* True when *flag became true. */
static inline bool fuzz_run_until(struct duet_loop *loop, bool *flag,
				  unsigned long limit)
{
	struct fuzz_run r = {.loop = loop, .flag = flag, .limit = limit};

	if (*flag)
		return true;
	duet_timer_init(loop, &r.poll, fuzz_run_poll, &r);
	duet_timer_start(&r.poll, 0, 0);
	duet_loop_run(loop);
	duet_timer_stop(&r.poll);
	return *flag;
}

/* Runs the loop for d of virtual time. */
static inline void fuzz_run_for_end(struct duet_timer *t, void *arg)
{
	(void)t;
	duet_loop_stop(arg, 0);
}

static inline void fuzz_run_for(struct duet_loop *loop, duet_time_t d)
{
	struct duet_timer end;

	duet_timer_init(loop, &end, fuzz_run_for_end, loop);
	duet_timer_start(&end, d, 0);
	duet_loop_run(loop);
	duet_timer_stop(&end);
}

#endif
