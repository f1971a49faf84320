#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <duet/args.h>
#include <duet/log.h>

#include "fakeplat.h"
#include "lwip_testenv.h"

struct lwip_env env;

static struct duet_stack *make_stack(unsigned i, const char *netif,
				     const char *ip, const char *ip6,
				     const char *extra)
{
	static struct duet_args args[2]; /* the config points into them */
	struct duet_args *a = &args[i];
	struct duet_lwip_config cfg;
	struct duet_netif *dev;
	struct duet_stack *s;
	char tok[64], err[128];

	duet_args_init(a);
	if (extra != NULL)
		cr_assert_eq(duet_args_parse_line(a, extra, err, sizeof(err)),
			     0, "%s", err);
	/* Defaults for what `extra` did not say. */
	const char *defs[2][2] = {{"ip", ip}, {"ip6", ip6}};
	for (unsigned k = 0; k < 2; k++) {
		if (duet_args_peek(a, defs[k][0]) != NULL)
			continue;
		snprintf(tok, sizeof(tok), "%s=%s", defs[k][0], defs[k][1]);
		cr_assert_eq(duet_args_add(a, tok, err, sizeof(err)), 0, "%s",
			     err);
	}
	cr_assert_eq(duet__lwip_config_from_args(a, &cfg), 0);
	cr_assert_eq(duet_netif_open(env.loop, netif, &dev), 0);
	cr_assert_eq(duet__lwip_stack_create(env.loop, dev, &cfg, &s), 0);
	return s;
}

void lwip_env_setup_args(const char *a_args, const char *b_args)
{
	memset(&env, 0, sizeof(env));
	fakeplat_reset();
	duet_log_set_level(DUET_LOG_INFO);
	duet_sys_init(&env.sys, NULL);
	env.loop = &env.sys.loop;
	cr_assert_eq(netpair_init(&env.pair, env.loop, "net0", "net1"), 0);
	env.a = make_stack(0, "net0", "10.0.0.1/24", "fd00::1/64", a_args);
	env.b = make_stack(1, "net1", "10.0.0.2/24", "fd00::2/64", b_args);
}

void lwip_env_setup(void)
{
	lwip_env_setup_args("slaac=no", "slaac=no");
}

void lwip_env_teardown(void)
{
	env.a->ops->destroy(env.a);
	env.b->ops->destroy(env.b);
	netpair_fini(&env.pair);
}

static void watch(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (env.done != NULL && env.done(env.done_arg)) {
		duet_loop_stop(env.loop, 0);
		return;
	}
	if (duet_loop_now(env.loop) >= env.limit) {
		env.timed_out = true;
		duet_loop_stop(env.loop, 0);
	}
}

bool lwip_env_run(bool (*done)(void *arg), void *arg, duet_time_t limit)
{
	env.done = done;
	env.done_arg = arg;
	env.timed_out = false;
	duet_loop_update_time(env.loop);
	env.limit = duet_loop_now(env.loop) + limit;
	/* Checked every virtual millisecond; the clock only moves while the
	 * loop is idle, so a busy transfer runs between two checks. */
	duet_timer_init(env.loop, &env.watch, watch, NULL);
	duet_timer_start(&env.watch, DUET_MSEC(1), DUET_MSEC(1));
	duet_loop_run(env.loop);
	duet_timer_stop(&env.watch);
	env.done = NULL;
	return done == NULL || done(arg);
}

void lwip_env_run_for(duet_time_t t)
{
	lwip_env_run(NULL, NULL, t);
}

struct duet_sockaddr lwip_env_addr(const char *text)
{
	struct duet_sockaddr a;
	cr_assert_eq(duet_sockaddr_parse(text, &a), 0, "bad address %s", text);
	return a;
}
