/* POSIX entry: the command line becomes boot arguments and devices, then the
 * shared boot sequence runs on a libuv loop.
 *
 *   APP [--help] [--version] [--block NAME=PATH[,ro]]... [key=value]...
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/buildinfo.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "posix.h"

struct posix_boot {
	struct duet_loop loop;
	struct duet_args args;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	unsigned signals_seen;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [--help] [--version] [--block NAME=PATH[,ro]]... "
		"[key=value]...\n"
		"%s: %s\n"
		"core boot arguments:\n"
		"  log=LEVEL              error, warn, info (default) or debug\n"
		"  shutdown_timeout=TIME  grace period for stop hooks (default 5s)\n",
		prog, duet_app.name,
		duet_app.summary != NULL ? duet_app.summary : "a Duet app");
	if (duet_app.args_help != NULL)
		fprintf(out, "%s arguments:\n%s\n", duet_app.name,
			duet_app.args_help);
}

static void print_version(void)
{
	const struct duet_buildinfo *b = &duet_buildinfo;

	printf("%s (Duet %s, %s)\ncommit: %s\nconfigure: %s\ncompiler: %s\n"
	       "libraries: %s\n",
	       duet_app.name, b->version, b->platform, b->commit,
	       b->configure_args, b->compiler, b->libraries);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct posix_boot *pb = h->data;

	if (pb->signals_seen++ == 0) {
		DUET_INFO("duet", "%s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
		duet_shutdown(&pb->loop, DUET_EXIT_SUCCESS);
	} else {
		DUET_WARN("duet", "second signal: stopping now");
		duet_exit(&pb->loop, DUET_EXIT_SIGNAL);
	}
}

/* Splits "NAME=SPEC" and hands it to the driver. */
static int declare_device(struct duet_loop *loop, const char *flag,
			  const char *decl, char *err, size_t errlen)
{
	char name[32];
	const char *eq = strchr(decl, '=');

	if (eq == NULL || eq == decl || (size_t)(eq - decl) >= sizeof(name)) {
		snprintf(err, errlen, "%s %s: expected NAME=SPEC", flag, decl);
		return -EINVAL;
	}
	memcpy(name, decl, (size_t)(eq - decl));
	name[eq - decl] = '\0';
	return duet__posix_block_file_create(loop, name, eq + 1, err, errlen);
}

/* Parses argv; returns -1 to continue booting or an exit code. */
static int parse_command_line(struct posix_boot *pb, int argc, char **argv)
{
	char err[256];
	const char *prog = argv[0];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		err[0] = '\0';
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, prog);
			return DUET_EXIT_SUCCESS;
		}
		if (strcmp(a, "--version") == 0) {
			print_version();
			return DUET_EXIT_SUCCESS;
		}
		if (strcmp(a, "--block") == 0 || strncmp(a, "--block=", 8) == 0) {
			const char *decl = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (decl == NULL) {
				fprintf(stderr, "%s: --block needs NAME=PATH[,ro]\n", prog);
				return DUET_EXIT_USAGE;
			}
			if (declare_device(&pb->loop, "--block", decl, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", prog, err);
				return DUET_EXIT_USAGE;
			}
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, a);
			return DUET_EXIT_USAGE;
		}
		if (duet_args_add(&pb->args, a, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: bad boot argument %s\n", prog, err);
			return DUET_EXIT_USAGE;
		}
	}
	return -1;
}

static void start_signal(struct posix_boot *pb, uv_signal_t *h, int signum)
{
	uv_signal_init(duet__posix_uv(), h);
	h->data = pb;
	uv_signal_start(h, on_signal, signum);
}

int main(int argc, char **argv)
{
	static struct posix_boot pb;
	uv_loop_t uv;
	int code;

	/* A peer that hangs up must be an error on a socket, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&uv) != 0) {
		fprintf(stderr, "%s: cannot create the event loop\n", argv[0]);
		return DUET_EXIT_FAILURE;
	}
	duet__posix_plat_init(&uv);
	duet_args_init(&pb.args);
	duet_loop_init(&pb.loop, &pb.args);

	code = parse_command_line(&pb, argc, argv);
	if (code < 0) {
		start_signal(&pb, &pb.sigint, SIGINT);
		start_signal(&pb, &pb.sigterm, SIGTERM);
		code = duet_boot(&pb.loop);
		uv_close((uv_handle_t *)&pb.sigint, NULL);
		uv_close((uv_handle_t *)&pb.sigterm, NULL);
	}
	duet__posix_devices_close(&pb.loop);
	duet__posix_plat_close();
	/* Let libuv finish the closes, then check nothing leaked a handle. */
	uv_run(&uv, UV_RUN_DEFAULT);
	if (uv_loop_close(&uv) != 0)
		fprintf(stderr, "%s: warning: libuv handles left open at exit\n", argv[0]);
	return code;
}
