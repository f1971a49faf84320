/* duet/app.h — app entry, orderly shutdown and exit codes.
 *
 * An app is one C file (plus its own modules) that defines its descriptor
 * with DUET_APP(). The platform boots, creates the loop, parses boot
 * arguments and discovers its devices; once they are found, the loop calls
 * the app's `start` (from a deferred callback). start sets up timers,
 * listeners and so on and returns 0 (the loop then runs), or a negative errno
 * to fail the boot (exit code DUET_EXIT_FAILURE). It must not block.
 *
 * The system ends in one of two ways:
 *   duet_exit(loop, code)      at once: the loop stops after this iteration.
 *   duet_shutdown(loop, code)  orderly: every registered stop hook is called,
 *                              newest first; once each has called
 *                              duet_stop_done() the loop stops with `code`.
 * The platform calls duet_shutdown(loop, 0) on SIGINT/SIGTERM (POSIX) or a
 * toolstack shutdown request (Xen); a second signal calls duet_exit() with
 * DUET_EXIT_SIGNAL. If the hooks are not all done within the shutdown
 * timeout (boot argument `shutdown_timeout=`, default 5s) the loop stops
 * with DUET_EXIT_STOP_TIMEOUT. duet_shutdown() during a shutdown does
 * nothing; duet_exit() during one stops at once with its own code. Once the
 * loop has been told to stop, neither changes the exit code.
 *
 * The exit code becomes the process's exit status on POSIX and is reported
 * to the toolstack on Xen.
 */
#ifndef DUET_APP_H
#define DUET_APP_H

#include <stdbool.h>

#include <duet/list.h>

struct duet_loop;

enum {
	DUET_EXIT_SUCCESS = 0,
	DUET_EXIT_FAILURE = 1,	    /* start failed, or the app says so */
	DUET_EXIT_USAGE = 2,	    /* bad boot arguments or flags */
	DUET_EXIT_STOP_TIMEOUT = 3, /* stop hooks did not finish in time */
	DUET_EXIT_SIGNAL = 130,	    /* second interrupt: stopped at once */
};

struct duet_app {
	const char *name;
	const char *summary;   /* one line, for --help and the build info */
	const char *args_help; /* "key=value  meaning" lines, for --help */
	int (*start)(struct duet_loop *loop, void *arg);
	void *arg;
};

/* Defines the app's descriptor: DUET_APP(.name = "hello", .start = f). */
#define DUET_APP(...) const struct duet_app duet_app = {__VA_ARGS__}
extern const struct duet_app duet_app;

struct duet_stop_hook;
typedef void (*duet_stop_cb)(struct duet_stop_hook *hook, void *arg);

/* Caller-allocated; private fields. */
struct duet_stop_hook {
	struct duet_list link;
	struct duet_loop *loop;
	duet_stop_cb cb;
	void *arg;
	bool called;
	bool done;
};

/* Registers a hook to run at orderly shutdown. The hook must eventually call
 * duet_stop_done() — from inside cb or from a later callback (after a disk
 * flush, say). A hook registered during a shutdown runs at once. */
void duet_on_stop(struct duet_loop *loop, struct duet_stop_hook *hook,
		  duet_stop_cb cb, void *arg);
/* Unregisters a hook that has not been called yet (no-op otherwise). */
void duet_stop_hook_remove(struct duet_stop_hook *hook);
void duet_stop_done(struct duet_stop_hook *hook);

void duet_shutdown(struct duet_loop *loop, int exit_code);
void duet_exit(struct duet_loop *loop, int exit_code);
bool duet_shutting_down(const struct duet_loop *loop);

#endif
