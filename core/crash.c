/* The crash a test hook asks for that a replay can repeat (duet/replay.h):
 * one function, built into every platform, faults on the recording's
 * platform and in the POSIX process that replays its log. */
#include <stdint.h>
#include <string.h>

#include <duet/log.h>
#include <duet/replay.h>

__attribute__((noinline)) void duet_rr_crash_on_purpose(const char *hook,
							const char *mode)
{
	/* Through a volatile: the compiler must not see a constant NULL. */
	static volatile uintptr_t null_page = 8;

	if (strcmp(mode, "null") != 0)
		return;
	DUET_INFO("duet", "%s=%s: crashing on purpose", hook, mode);
	*(volatile int *)null_page = 1;
}
