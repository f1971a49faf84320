/* platform-xen/backtrace.c — the frame-pointer walk of crash reports — on
 * fake stacks: a good chain, and the ways a broken stack must end the walk
 * without reading outside it. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "backtrace.h"

#define WORDS 64

static uintptr_t stack[WORDS];
static uintptr_t out[DUET__BT_MAX];

static uintptr_t at(unsigned i)
{
	return (uintptr_t)&stack[i];
}

static uintptr_t lo(void)
{
	return at(0);
}

static uintptr_t hi(void)
{
	return at(WORDS);
}

/* A frame at word i: the caller's frame pointer, then a return address. */
static void frame(unsigned i, uintptr_t next, uintptr_t ret)
{
	stack[i] = next;
	stack[i + 1] = ret;
}

TestSuite(backtrace);

Test(backtrace, walks_a_good_chain_innermost_first)
{
	frame(4, at(10), 0x1111);
	frame(10, at(20), 0x2222);
	frame(20, 0, 0x3333); /* the outermost frame: rbp 0 */
	cr_assert_eq(duet__frames(at(4), lo(), hi(), out, DUET__BT_MAX), 3);
	cr_assert_eq(out[0], 0x1111);
	cr_assert_eq(out[1], 0x2222);
	cr_assert_eq(out[2], 0x3333);
}

Test(backtrace, stops_at_max_frames)
{
	for (unsigned i = 0; i + 2 < WORDS; i += 2)
		frame(i, at(i + 2), 0x1000 + i);
	cr_assert_eq(duet__frames(at(0), lo(), hi(), out, 5), 5);
	cr_assert_eq(out[4], 0x1008);
}

Test(backtrace, a_frame_pointer_outside_the_stack_is_not_read)
{
	/* Below, above, and straddling the top: nothing is read. */
	cr_assert_eq(duet__frames(lo() - 16, lo(), hi(), out, 4), 0);
	cr_assert_eq(duet__frames(hi(), lo(), hi(), out, 4), 0);
	cr_assert_eq(duet__frames(hi() - 8, lo(), hi(), out, 4), 0);
	cr_assert_eq(duet__frames(0, lo(), hi(), out, 4), 0);
	/* A chain that leaves the stack ends there. */
	frame(2, (uintptr_t)-64, 0x1111);
	cr_assert_eq(duet__frames(at(2), lo(), hi(), out, 4), 1);
}

Test(backtrace, misaligned_frame_pointer_ends_the_walk)
{
	frame(2, at(8) + 3, 0x1111);
	cr_assert_eq(duet__frames(at(2), lo(), hi(), out, 4), 1);
	cr_assert_eq(duet__frames(at(2) + 1, lo(), hi(), out, 4), 0);
}

Test(backtrace, a_loop_or_a_chain_going_down_ends_the_walk)
{
	frame(10, at(10), 0x1111); /* points at itself */
	cr_assert_eq(duet__frames(at(10), lo(), hi(), out, DUET__BT_MAX), 1);
	frame(20, at(12), 0x2222); /* goes down the stack */
	frame(12, at(20), 0x3333);
	cr_assert_eq(duet__frames(at(20), lo(), hi(), out, DUET__BT_MAX), 1);
	cr_assert_eq(out[0], 0x2222);
}

Test(backtrace, a_zero_return_address_is_the_end)
{
	frame(2, at(6), 0x1111);
	frame(6, at(10), 0);
	cr_assert_eq(duet__frames(at(2), lo(), hi(), out, DUET__BT_MAX), 1);
}
