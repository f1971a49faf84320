/* The boot sequence both platforms share: discovery, then the app. */
#include <assert.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/buildinfo.h>
#include <duet/device.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/platform.h>
#include <duet/sys.h>

#include "core.h"

static int read_core_args(struct duet_sys *sys)
{
	struct duet_args *args = sys->args;
	const char *level_name;
	enum duet_log_level level;

	duet_args_get_str(args, "log", NULL, &level_name);
	if (level_name != NULL) {
		if (duet_log_level_parse(level_name, &level) < 0) {
			DUET_ERROR("args", "log=%s: expected error, warn, info "
				   "or debug", level_name);
			return -EINVAL;
		}
		duet_log_set_level(level);
	}
	return duet_args_get_duration(args, "shutdown_timeout",
				      sys->shutdown_timeout,
				      &sys->shutdown_timeout);
}

static int reject_unknown_args(struct duet_loop *loop)
{
	const char *key = duet_args_unused(duet_loop_args(loop), 0);

	if (key == NULL)
		return 0;
	for (unsigned i = 0; (key = duet_args_unused(duet_loop_args(loop), i)); i++)
		DUET_ERROR("args", "unknown boot argument '%s'", key);
	if (duet_app.args_help != NULL)
		DUET_ERROR("args", "%s takes:\n%s", duet_app.name, duet_app.args_help);
	return -EINVAL;
}

/* What the user declared and the app did not open at start: most likely a
 * mistake in the command line, or an image built without the module. */
static void report_unused_devices(struct duet_loop *loop)
{
	for (struct duet_device *d = duet_device_next(loop, NULL); d != NULL;
	     d = duet_device_next(loop, d))
		if (!d->found)
			DUET_WARN("duet", "%s (a %s) is not used by %s", d->name,
				  duet_device_kind_name(d->kind),
				  duet_app.name);
}

/* net= (POSIX: --net socket) names the network the app's stack uses; an
 * app that opened none never read it. Worth a warning, not a refusal: the
 * same command line may serve several images. */
static void report_unused_network(struct duet_sys *sys)
{
	const char *net;

	if (sys->stack != NULL)
		return;
	duet_args_get_str(sys->args, "net", NULL, &net);
	if (net != NULL)
		DUET_WARN("duet", "a network was asked for (net=%s), but %s "
				  "does not use one",
			  net, duet_app.name);
}

/* Starts the app: -1 if it runs, else the exit code to stop with. */
static int start_app(struct duet_sys *sys)
{
	struct duet_loop *loop = &sys->loop;
	int r = duet_app.start(loop, duet_app.arg);

	if (r < 0) {
		DUET_ERROR("duet", "%s failed to start: %s", duet_app.name,
			   duet_strerror(r));
		/* A bad argument is the user's error, not the app's. */
		return r == -EINVAL || r == -ERANGE ? DUET_EXIT_USAGE
						    : DUET_EXIT_FAILURE;
	}
	report_unused_network(sys);
	if (reject_unknown_args(loop) < 0)
		return DUET_EXIT_USAGE;
	report_unused_devices(loop);
	return -1;
}

/* From the loop, so that start runs as any callback does, after
 * discovery's own callbacks have returned. */
static void on_start(struct duet_defer *d, void *arg)
{
	struct duet_sys *sys = arg;
	(void)d;

	/* Asked to stop while devices were being found: nothing to start. */
	if (sys->loop.stop_flag || sys->shutting_down)
		return;
	int code = start_app(sys);
	if (code >= 0)
		duet_loop_stop(&sys->loop, code);
}

/* What the platform found and how long it took: worth the default log
 * level only when the boot waited for it (devices with a handshake). */
static void on_discovered(struct duet_loop *loop)
{
	struct duet_sys *sys = duet_sys_of(loop);
	/* From the loop's time at the start, and one clock read here: a
	 * recording that starts as discovery ends (Xen's record=) sees the
	 * same reads from here on as one that starts before it (POSIX's). */
	duet_loop_update_time(loop);
	duet_time_t took = sys->loop.now - sys->discovery_began;
	char names[128];

	assert(!sys->discovered && "duet_plat_discover called done twice");
	sys->discovered = true;
	/* Info when the boot waited for it; never in a recording or a replay,
	 * whose console must not depend on how a platform discovers (a Xen
	 * log replays on POSIX, where discovery is over at once). */
	duet_log(sys->discover_returned && sys->rr == NULL ? DUET_LOG_INFO
							   : DUET_LOG_DEBUG,
		 "duet", "devices: %s (discovery took %llu ms)",
		 duet__device_list_all(loop, names, sizeof(names)),
		 (unsigned long long)(took / DUET_NSEC_PER_MSEC));
	duet_defer_post(&sys->start_defer);
}

static int run(struct duet_sys *sys)
{
	struct duet_loop *loop = &sys->loop;

	DUET_DEBUG("duet", "%s %s on %s, commit %s", duet_app.name,
		   duet_buildinfo.version, duet_buildinfo.platform,
		   duet_buildinfo.commit);
	if (read_core_args(sys) < 0)
		return DUET_EXIT_USAGE;

	duet_defer_init(loop, &sys->start_defer, on_start, sys);
	sys->discovery_began = loop->now;
	duet_plat_discover(loop, on_discovered);
	sys->discover_returned = true;
	return duet_loop_run(loop);
}

int duet_boot(struct duet_sys *sys)
{
	int code = run(sys);
	struct duet_stack *stack = sys->stack;

	/* The stack goes before the platform closes its devices: it may hold
	 * a netif. Through its ops, so an image without one links no net. */
	sys->stack = NULL;
	if (stack != NULL && stack->ops->destroy != NULL)
		stack->ops->destroy(stack);
	return code;
}
