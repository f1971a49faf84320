/* Two lwIP stacks joined by an in-memory wire, on the virtual clock.
 *
 * lwIP keeps its state in globals, so a process has one lwIP; "two stacks"
 * are two Duet stacks (two lwIP netifs, 10.0.0.1 and 10.0.0.2 on one
 * subnet, fd00::1 and fd00::2) whose PCBs are bound to their own netif.
 * Every frame between them crosses the wire as Ethernet, so ARP, ND,
 * checksums, loss and reordering are real; only the PCB lists are shared,
 * and lwIP demultiplexes by both addresses and ports, so each side sees
 * only its own connections. (Forking one side into a child process would
 * give two lwIPs but lose the deterministic virtual clock.) Criterion runs
 * each test in its own process, so lwIP starts fresh every time.
 */
#ifndef DUET_TEST_LWIP_TESTENV_H
#define DUET_TEST_LWIP_TESTENV_H

#include <stdbool.h>

#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/sys.h>

#include "lwip_stack.h"
#include "netpair.h"

struct lwip_env {
	struct duet_sys sys;
	struct duet_loop *loop; /* &sys.loop */
	struct netpair pair;
	struct duet_stack *a, *b;
	struct duet_timer watch;
	bool (*done)(void *arg);
	void *done_arg;
	duet_time_t limit;
	bool timed_out;
};

extern struct lwip_env env;

/* Sets up fakeplat, the loop, the wire and both stacks (extra boot
 * arguments for each, e.g. "slaac=no", may be NULL). */
void lwip_env_setup(void);
void lwip_env_setup_args(const char *a_args, const char *b_args);
void lwip_env_teardown(void);
/* Runs the loop until done(arg) or `limit` of virtual time; returns
 * whether done() became true. */
bool lwip_env_run(bool (*done)(void *arg), void *arg, duet_time_t limit);
/* Runs the loop for `t` of virtual time. */
void lwip_env_run_for(duet_time_t t);

struct duet_sockaddr lwip_env_addr(const char *text);

/* A reproducible byte stream: byte i of stream `seed`. */
static inline uint8_t stream_byte(uint32_t seed, uint64_t i)
{
	uint64_t x = (i / 8 + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ seed;
	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 29;
	return (uint8_t)(x >> ((i % 8) * 8));
}

#endif
