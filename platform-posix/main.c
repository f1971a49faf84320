/* POSIX entry: the command line becomes boot arguments and devices, then the
 * shared boot sequence runs on a libuv loop.
 *
 *   APP [--help] [--version] [--block NAME=PATH[,ro]]...
 *       [--net socket | --net NAME=tap:IFNAME[,...] | --net NAME=vwire:PATH[,...]]...
 *       [key=value]...
 *   APP --replay LOG | --replay-dump LOG
 *
 * record=FILE records the run (core/REPLAY.md); --replay runs it again
 * from its log, with the boot arguments and devices the log has.
 *
 * The network: the core chooses the app's stack (duet/net_stack.h): the
 * socket stack (the host's TCP/IP) unless a netif is declared, in which
 * case the image's stack module runs over it; `--net socket` is the boot
 * argument net=socket.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/buildinfo.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/replay.h>
#include <duet/sys.h>

#include "posix.h"

struct posix_boot {
	struct duet_sys sys;
	struct duet_args args;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	unsigned signals_seen;
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [--help] [--version] [--block NAME=PATH[,ro]]...\n"
		"       [--net socket | --net NAME=DRIVER:ARG[,mac=MAC][,mtu=N]]... "
		"[key=value]...\n"
		"%s: %s\n"
		"devices:\n"
		"  --block NAME=PATH[,ro]      a block device on a file\n"
		"  --net socket                the host's TCP/IP (the default when "
		"no netif is given)\n"
		"  --net NAME=tap:IFNAME       a netif on a host tap device "
		"(root or CAP_NET_ADMIN)\n"
		"  --net NAME=vwire:PATH       a netif on the vwire hub at PATH "
		"(see vwire-hub)\n"
		"  netif options: mac=02:xx:xx:xx:xx:xx (default random), mtu=N "
		"(vwire; default 1500)\n"
		"  with a netif, the app's stack is configured by the boot "
		"arguments ip= gw= ip6= net=\n"
		"core boot arguments:\n"
		"  log=LEVEL              error, warn, info (default) or debug\n"
		"  shutdown_timeout=TIME  grace period for stop hooks (default 5s)\n"
		"  record=FILE            record the run for --replay FILE "
		"(record_max=SIZE, default 64M)\n",
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

/* A Xen recording's xen.crash=null: posted where Xen posts it, before
 * boot, so that the replay faults in the function the recording did
 * (duet_rr_crash_on_purpose). The hook's other modes are Xen's own. */
static void crash_on_purpose(struct duet_defer *d, void *arg)
{
	(void)d;
	duet_rr_crash_on_purpose("xen.crash", arg);
}

static void replay_crash_hook(struct posix_boot *pb)
{
	static struct duet_defer crash;
	const char *mode;

	duet_args_get_str(&pb->args, "xen.crash", NULL, &mode);
	if (mode == NULL)
		return;
	duet_defer_init(&pb->sys.loop, &crash, crash_on_purpose,
			(void *)(uintptr_t)mode);
	duet_defer_post(&crash);
}

/* A replayed DUET_RR_SHUTDOWN_REQUEST (another platform's, which logged
 * its own line) acts as SIGTERM does, without a line of ours. */
static void handle_signal(void *arg, int signum)
{
	struct posix_boot *pb = arg;
	bool quiet = signum == DUET_RR_SHUTDOWN_REQUEST;

	if (pb->signals_seen++ == 0) {
		if (!quiet)
			DUET_INFO("duet", "%s: shutting down",
				  signum == SIGINT ? "SIGINT" : "SIGTERM");
		duet_shutdown(&pb->sys.loop, DUET_EXIT_SUCCESS);
	} else {
		if (!quiet)
			DUET_WARN("duet", "second signal: stopping now");
		duet_exit(&pb->sys.loop, DUET_EXIT_SIGNAL);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	duet__posix_woke();
	duet_rr_signal(duet__posix_rr(), signum);
	handle_signal(h->data, signum);
}

typedef int (*device_create_fn)(struct duet_loop *loop, const char *name,
				const char *spec, char *err, size_t errlen);

/* Splits "NAME=SPEC" and hands it to the driver: the block file driver,
 * or for --net the one SPEC's "DRIVER:" prefix names. */
static int declare_device(struct duet_loop *loop, bool net, const char *decl,
			  char *err, size_t errlen)
{
	const char *flag = net ? "--net" : "--block";
	char name[32];
	const char *eq = strchr(decl, '=');
	device_create_fn create = duet__posix_block_file_create;

	if (eq == NULL || eq == decl || (size_t)(eq - decl) >= sizeof(name)) {
		snprintf(err, errlen, "%s %s: expected %s", flag, decl,
			 net ? "socket or NAME=DRIVER:ARG" : "NAME=SPEC");
		return -EINVAL;
	}
	const char *spec = eq + 1;
	memcpy(name, decl, (size_t)(eq - decl));
	name[eq - decl] = '\0';
	if (net) {
		if (strncmp(spec, "tap:", 4) == 0) {
			create = duet__posix_netif_tap_create;
		} else if (strncmp(spec, "vwire:", 6) == 0) {
			create = duet__posix_netif_vwire_create;
		} else {
			size_t n = strcspn(spec, ":,");
			snprintf(err, errlen, "--net %s: %s driver '%.*s' (expected "
				 "%s=tap:IFNAME or %s=vwire:PATH)", decl,
				 spec[n] == ':' ? "unknown" : "no", (int)n, spec,
				 name, name);
			return -EINVAL;
		}
		spec = strchr(spec, ':') + 1;
	}
	return create(loop, name, spec, err, errlen);
}

/* `--block X` and `--block=X` alike; NULL if the value is missing. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i)
{
	size_t n = strlen(flag);

	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static bool is_flag(const char *a, const char *flag)
{
	size_t n = strlen(flag);

	return strncmp(a, flag, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* record= and record_max= were acted on before boot
 * (duet__posix_record_start), and a replay has them from its log: read
 * here so that they count as known. A platform that cannot record leaves
 * them unknown, so asking it to is refused, not ignored. */
static void record_args_known(struct posix_boot *pb)
{
	const char *unused;

	duet_args_get_str(&pb->args, "record", NULL, &unused);
	duet_args_get_str(&pb->args, "record_max", NULL, &unused);
}

static int add_arg(struct posix_boot *pb, const char *token, char *err,
		   size_t errlen)
{
	int r = duet_args_add(&pb->args, token, err, errlen);

	if (r == 0)
		duet_rr_arg(duet__posix_rr(), token);
	return r;
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
		if (is_flag(a, "--block") || is_flag(a, "--net")) {
			bool net = is_flag(a, "--net");
			const char *flag = net ? "--net" : "--block";
			const char *decl = flag_value(flag, argc, argv, &i);
			if (decl == NULL) {
				fprintf(stderr, "%s: %s needs %s\n", prog, flag,
					net ? "socket or NAME=DRIVER:ARG"
					    : "NAME=PATH[,ro]");
				return DUET_EXIT_USAGE;
			}
			if (net && strcmp(decl, "socket") == 0) {
				/* The same as the boot argument net=socket. */
				if (add_arg(pb, "net=socket", err, sizeof(err)) < 0) {
					fprintf(stderr, "%s: --net socket: %s\n",
						prog, err);
					return DUET_EXIT_USAGE;
				}
				continue;
			}
			if (declare_device(&pb->sys.loop, net, decl, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", prog, err);
				return DUET_EXIT_USAGE;
			}
			continue;
		}
		if (a[0] == '-') {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, a);
			return DUET_EXIT_USAGE;
		}
		if (add_arg(pb, a, err, sizeof(err)) < 0) {
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

static void dump_line(void *arg, const char *text)
{
	(void)arg;
	printf("%s\n", text);
}

/* --replay-dump LOG: the log's records, one a line. */
static int replay_dump(int argc, char **argv)
{
	int i = 1;
	const char *path = flag_value("--replay-dump", argc, argv, &i);
	void *log;
	size_t len;
	int r;

	if (path == NULL || (r = duet__posix_log_load(path, &log, &len)) < 0) {
		fprintf(stderr, "%s: --replay-dump LOG: cannot read it\n", argv[0]);
		return DUET_EXIT_USAGE;
	}
	r = duet_rr_dump(log, len, dump_line, NULL);
	free(log);
	if (r < 0)
		fprintf(stderr, "%s: %s: malformed from here on\n", argv[0], path);
	return r < 0 ? DUET_EXIT_FAILURE : DUET_EXIT_SUCCESS;
}

/* The run a log recorded: its arguments and devices come from the log.
 * Returns -1 to continue booting or an exit code. */
static int replay_open(struct posix_boot *pb, int argc, char **argv)
{
	const char *prog = argv[0];
	int i = 1;
	const char *path = flag_value("--replay", argc, argv, &i);
	struct duet_rr *rr;
	char err[512];
	void *log;
	size_t len;
	int r;

	if (path == NULL || i != argc - 1) {
		fprintf(stderr, "%s: usage: %s --replay LOG (nothing else: the "
			"log has the arguments)\n", prog, prog);
		return DUET_EXIT_USAGE;
	}
	if ((r = duet__posix_log_load(path, &log, &len)) < 0) {
		fprintf(stderr, "%s: --replay %s: %s\n", prog, path, strerror(-r));
		return DUET_EXIT_USAGE;
	}
	if (duet_rr_replay_open(duet_app.name, log, len, duet__posix_replay_stop, NULL, &rr,
				err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --replay %s: %s\n", prog, path, err);
		free(log);
		return DUET_EXIT_USAGE;
	}
	duet_rr_set_signal(rr, handle_signal, pb);
	duet__posix_rr_set(rr);
	return -1;
}

int main(int argc, char **argv)
{
	static struct posix_boot pb;
	uv_loop_t uv;
	int code;
	bool replay = argc > 1 && is_flag(argv[1], "--replay");
	char err[512];

	if (argc > 1 && is_flag(argv[1], "--replay-dump"))
		return replay_dump(argc, argv);
	/* A peer that hangs up must be an error on a socket, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&uv) != 0) {
		fprintf(stderr, "%s: cannot create the event loop\n", argv[0]);
		return DUET_EXIT_FAILURE;
	}
	duet__posix_plat_init(&uv);
	duet_args_init(&pb.args);
	code = replay ? replay_open(&pb, argc, argv)
		      : duet__posix_record_start(argc, argv, err, sizeof(err));
	if (!replay && code < 0)
		fprintf(stderr, "%s: %s\n", argv[0], err);
	if (replay ? code >= 0 : code < 0) {
		duet__posix_plat_close();
		uv_run(&uv, UV_RUN_DEFAULT);
		uv_loop_close(&uv);
		return replay ? code : DUET_EXIT_USAGE;
	}
	duet_sys_init(&pb.sys, &pb.args);
	pb.sys.rr = duet__posix_rr();

	if (replay) {
		duet_rr_devices(pb.sys.rr, &pb.sys.loop);
		record_args_known(&pb);
		replay_crash_hook(&pb);
		code = duet_boot(&pb.sys);
	} else if ((code = parse_command_line(&pb, argc, argv)) < 0) {
		record_args_known(&pb);
		start_signal(&pb, &pb.sigint, SIGINT);
		start_signal(&pb, &pb.sigterm, SIGTERM);
		code = duet_boot(&pb.sys);
		uv_close((uv_handle_t *)&pb.sigint, NULL);
		uv_close((uv_handle_t *)&pb.sigterm, NULL);
	}
	duet__posix_devices_close(&pb.sys.loop);
	duet__posix_plat_close();
	/* Let libuv finish the closes, then check nothing leaked a handle. */
	uv_run(&uv, UV_RUN_DEFAULT);
	if (uv_loop_close(&uv) != 0)
		fprintf(stderr, "%s: warning: libuv handles left open at exit\n", argv[0]);
	code = duet_rr_end(pb.sys.rr, code);
	duet_rr_close(pb.sys.rr);
	return code;
}
