/* httpd: a static HTTP/1.1 server. Serves the site embedded in the image
 * (apps/httpd/site/, turned into C at build time) on duet/net.h — or, when
 * there is a block device disk0 (`--block disk0=site.img`, an image from
 * `./duet mkimage DIR` or any tar), the files of that tar image instead,
 * read from the device per request (only the image's index is in memory).
 *
 *   port=N            TCP port (default 8080)
 *   addr=IP           address to listen on (default: 127.0.0.1 on the socket
 *                     stack, which shares the host's addresses, so a dev
 *                     server is not exposed by accident; 0.0.0.0 on lwIP,
 *                     whose address is the image's own)
 *   idle_timeout=T    close a connection idle this long, after its accept or
 *                     its last response (10s)
 *   request_timeout=T a request must be complete this long after its first
 *                     byte, else 408 and close (10s)
 *   max_conns=N       connections at once (10000); a newcomer to a full
 *                     server evicts the connection that made the least
 *                     progress (duet/connpool.h), or is reset if every
 *                     connection has a response in flight
 *   max_per_peer=N    connections from one address (max_conns / 4); over
 *                     it, that address's own least-progressed one goes
 *   access_log=BOOL   one log line per request (on)
 *   synthetic=SIZES   also serve generated files of these sizes, for
 *                     benchmarks: synthetic=1k,64k serves /1k and /64k
 *   tls=BOOL          HTTPS (TLS 1.2, duet/tls.h) instead of HTTP (off);
 *                     the port defaults to 443
 *   cert=PATH key=PATH the certificate chain and key (PEM), files of the
 *                     served site (embedded or disk0's image; the key's
 *                     path is then never served) or of tls_disk. Without
 *                     them, a test certificate made at boot (tls_setup.h)
 *   tls_disk=NAME     take cert= and key= from the tar image on block
 *                     device NAME (e.g. disk1) instead of the site: the
 *                     keys stay off the served files, and the embedded site
 *                     (synthetic= too) can go with them
 *   tls_resume=BOOL   keep a session cache so returning clients skip the
 *                     key exchange (on)
 *   redirect=PORT     also a plain HTTP listener on PORT answering 301 to
 *                     the same path over HTTPS
 *   hsts=SECONDS      send Strict-Transport-Security: max-age=SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/duet.h>
#include <duet/net.h>
#include <duet/tls.h>

#include "files.h"
#include "files_tar.h"
#include "server.h"
#include "tls_setup.h"

struct httpd_app {
	struct httpd server;
	struct httpd_table table;
	/* Serving disk0's image: what the start left for after its loading. */
	struct httpd_tar tar;
	bool from_disk;
	struct duet_loop *loop;
	struct duet_stack *stack;
	struct httpd_config cfg;
	struct duet_stop_hook stop;
	/* TLS: the plain stack under it, the setup, the redirect listener. */
	struct duet_stack *plain;
	bool tls;
	const char *cert, *key, *tls_disk;
	bool tls_resume;
	struct httpd_tls_setup tls_setup;
	/* tls_disk's image, held while cert and key are read from it. */
	struct httpd_tar keys;
	struct httpd_source keys_src;
	struct duet_defer keys_free;
	struct httpd_source src;
	size_t nfiles;
	const char *from;
	bool in_start;
	int start_status;
	uint16_t redirect;
	struct httpd redirect_server;
	/* Storage of the synthetic files: path names and bytes. */
	char names[16][32];
	uint8_t *synthetic[16];
	unsigned nsynthetic;
};

/* Printable, recognisable bytes: a numbered line pattern cut to size. */
static uint8_t *synthetic_bytes(uint64_t size)
{
	uint8_t *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		return NULL;
	for (uint64_t i = 0; i < size; i++)
		p[i] =
		    (i % 64 == 63) ? '\n' : (uint8_t)('a' + (i / 64 + i) % 26);
	return p;
}

static int add_synthetic(struct httpd_app *a, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char tok[24];
		uint64_t size;
		int r;

		if (len == 0 || len >= sizeof(tok) - 1) {
			DUET_ERROR("httpd",
				   "synthetic=%s: expected sizes like 1k,64k",
				   list);
			return -EINVAL;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (duet_parse_size(tok, &size) < 0 || size > (64u << 20)) {
			DUET_ERROR("httpd",
				   "synthetic=%s: '%s' is not a size up to 64M",
				   list, tok);
			return -EINVAL;
		}
		if (a->nsynthetic == sizeof(a->names) / sizeof(a->names[0]))
			return -ENOSPC;
		char *name = a->names[a->nsynthetic];
		snprintf(name, sizeof(a->names[0]), "/%s", tok);
		uint8_t *bytes = synthetic_bytes(size);
		if (bytes == NULL)
			return -ENOMEM;
		a->synthetic[a->nsynthetic++] = bytes;
		if ((r = httpd_table_add(&a->table, name, bytes, size)) < 0) {
			DUET_ERROR("httpd", "synthetic=%s: cannot add %s: %s",
				   list, name, duet_strerror(r));
			return r;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void free_synthetic(struct httpd_app *a)
{
	for (unsigned i = 0; i < a->nsynthetic; i++)
		free(a->synthetic[i]);
	a->nsynthetic = 0;
}

/* No read from disk0 is in flight any more: the store can close. */
static void httpd_app_drained(void *arg)
{
	struct httpd_app *a = arg;

	free_synthetic(a);
	if (a->from_disk)
		httpd_tar_free(&a->tar);
	if (a->tls) {
		struct duet_tls_stats st;
		duet_tls_stats(a->stack, &st);
		DUET_INFO("httpd",
			  "tls: %llu handshakes (%llu resumed), %llu failed",
			  st.handshakes, st.resumed, st.failed);
		duet_tls_close(a->stack);
	}
	duet_stop_done(&a->stop);
}

static void httpd_app_stop(struct duet_stop_hook *hook, void *arg)
{
	struct httpd_app *a = arg;
	(void)hook;

	DUET_INFO("httpd",
		  "stopping: %llu requests served, %u connections open",
		  a->server.requests, duet_tcp_server_count(&a->server.tcp));
	if (a->redirect != 0)
		httpd_stop(&a->redirect_server, NULL, NULL);
	httpd_stop(&a->server, httpd_app_drained, a);
}

/* Listens with a->loop, a->stack and a->cfg on a->src and hooks the stop
 * (and the redirect listener, if asked). */
static int listen_all(struct httpd_app *a)
{
	char where[DUET_SOCKADDR_STRLEN];
	int r = httpd_start(&a->server, a->loop, a->stack, &a->cfg, &a->src);

	if (r < 0)
		return r; /* logged */
	if (a->redirect != 0) {
		struct httpd_config rc = a->cfg;
		rc.addr.port = a->redirect;
		rc.redirect_to = a->cfg.addr.port;
		rc.tls = false;
		rc.hsts = 0;
		r = httpd_start(&a->redirect_server, a->loop, a->plain, &rc,
				&a->src);
		if (r < 0) {
			DUET_ERROR("httpd", "redirect=%u: cannot listen: %s",
				   (unsigned)a->redirect, duet_strerror(r));
			httpd_stop(&a->server, NULL, NULL);
			return r;
		}
		DUET_INFO("httpd", "redirecting http on port %u to https",
			  (unsigned)a->redirect);
	}
	duet_on_stop(a->loop, &a->stop, httpd_app_stop, a);
	DUET_INFO("httpd", "serving %zu files%s on %s://%s/ (%s stack)",
		  a->nfiles, a->from, a->tls ? "https" : "http",
		  duet_sockaddr_format(&a->cfg.addr, where, sizeof(where)),
		  duet_net_stack_name(a->plain));
	return 0;
}

static void keys_free(struct duet_defer *d, void *arg)
{
	struct httpd_app *a = arg;
	(void)d;
	httpd_tar_free(&a->keys);
}

/* The TLS stack is ready (or not): listen. Inside the start, the status
 * goes back to it; later, a failure ends the boot. */
static void tls_ready(void *arg, int status, struct duet_stack *tls)
{
	struct httpd_app *a = arg;

	/* Not from inside the read that finished: from the loop. */
	if (a->tls_disk != NULL)
		duet_defer_post(&a->keys_free);

	if (status == 0) {
		a->stack = tls;
		if ((status = listen_all(a)) < 0)
			duet_tls_close(tls);
	}
	if (a->in_start)
		a->start_status = status;
	else if (status < 0)
		duet_exit(a->loop, DUET_EXIT_FAILURE);
}

/* tls_disk's image is indexed: read cert and key from it. */
static void keys_loaded(void *arg, int status)
{
	struct httpd_app *a = arg;

	if (status < 0) {
		DUET_ERROR("httpd", "tls_disk=%s: %s", a->tls_disk,
			   duet_strerror(status));
		duet_exit(a->loop, DUET_EXIT_FAILURE);
		return;
	}
	httpd_tar_source(&a->keys, &a->keys_src);
	httpd_tls_setup(&a->tls_setup, a->plain, &a->keys_src, a->cert, a->key,
			a->tls_resume, tls_ready, a);
}

/* Serves src: over TLS once its stack is set up, else at once. Both the
 * embedded site and disk0's image start here. */
static int serve(struct httpd_app *a, const struct httpd_source *src,
		 size_t nfiles, const char *from)
{
	a->src = *src;
	a->nfiles = nfiles;
	a->from = from;
	if (!a->tls)
		return listen_all(a);
	a->cfg.tls = true;
	if (a->tls_disk == NULL) {
		a->cfg.hidden = a->key;
		httpd_tls_setup(&a->tls_setup, a->plain, &a->src, a->cert,
				a->key, a->tls_resume, tls_ready, a);
		return 0;
	}
	struct duet_block *disk;
	int r = duet_block_open(a->loop, a->tls_disk, &disk);
	if (r < 0) {
		DUET_ERROR("httpd", "tls_disk=%s: %s", a->tls_disk,
			   duet_strerror(r));
		return r;
	}
	duet_defer_init(a->loop, &a->keys_free, keys_free, a);
	return httpd_tar_load(&a->keys, a->loop, disk, keys_loaded, a);
}

/* disk0's image is indexed: listen, as the start does for the embedded
 * site. A failure here ends the boot. */
static void tar_loaded(void *arg, int status)
{
	struct httpd_app *a = arg;
	struct httpd_source src;

	if (status < 0) {
		DUET_ERROR("httpd", "cannot serve the image on disk0: %s",
			   duet_strerror(status));
		duet_exit(a->loop, DUET_EXIT_FAILURE);
		return;
	}
	httpd_tar_source(&a->tar, &src);
	if (serve(a, &src, a->tar.count, " from disk0") < 0) {
		httpd_tar_free(&a->tar);
		duet_exit(a->loop, DUET_EXIT_FAILURE);
	}
}

static int httpd_app_start(struct duet_loop *loop, void *arg)
{
	static struct httpd_app a;
	struct duet_args *args = duet_loop_args(loop);
	struct duet_stack *stack;
	struct httpd_config cfg;
	struct httpd_source src;
	const char *addr, *synthetic;
	long long port, max_conns, max_per_peer, redirect, hsts;
	bool tls;
	int r;
	(void)arg;

	httpd_config_default(&cfg);
	if ((r = duet_args_get_bool(args, "tls", false, &tls)) < 0 ||
	    (r = duet_args_get_str(args, "cert", NULL, &a.cert)) < 0 ||
	    (r = duet_args_get_str(args, "key", NULL, &a.key)) < 0 ||
	    (r = duet_args_get_str(args, "tls_disk", NULL, &a.tls_disk)) < 0 ||
	    (r = duet_args_get_bool(args, "tls_resume", true, &a.tls_resume)) <
		0 ||
	    (r = duet_args_get_int(args, "redirect", 0, 0, 65535, &redirect)) <
		0 ||
	    (r = duet_args_get_int(args, "hsts", 0, 0, 1000000000, &hsts)) < 0 ||
	    (r = duet_args_get_int(args, "port", tls ? 443 : 8080, 1, 65535,
				   &port)) < 0 ||
	    (r = duet_args_get_str(args, "addr", NULL, &addr)) < 0 ||
	    (r = duet_args_get_duration(args, "idle_timeout", cfg.idle_timeout,
					&cfg.idle_timeout)) < 0 ||
	    (r = duet_args_get_duration(args, "request_timeout",
					cfg.request_timeout,
					&cfg.request_timeout)) < 0 ||
	    (r = duet_args_get_int(args, "max_conns", cfg.max_conns, 1, 1000000,
				   &max_conns)) < 0 ||
	    (r = duet_args_get_int(args, "max_per_peer",
				   max_conns / 4 > 0 ? max_conns / 4 : 1, 1,
				   1000000, &max_per_peer)) < 0 ||
	    (r = duet_args_get_bool(args, "access_log", true,
				    &cfg.access_log)) < 0 ||
	    (r = duet_args_get_str(args, "synthetic", NULL, &synthetic)) < 0)
		return r;
	if (cfg.idle_timeout == 0 || cfg.request_timeout == 0) {
		DUET_ERROR("httpd",
			   "idle_timeout and request_timeout must be positive");
		return -EINVAL;
	}
	cfg.max_conns = (unsigned)max_conns;
	cfg.max_per_peer = (unsigned)max_per_peer;
	cfg.hsts = (unsigned long)hsts;
	if (!tls && (a.cert != NULL || a.key != NULL || a.tls_disk != NULL ||
		     redirect != 0 || hsts != 0)) {
		DUET_ERROR("httpd", "cert=, key=, tls_disk=, redirect= and "
				    "hsts= go with tls=on");
		return -EINVAL;
	}
	if (a.tls_disk != NULL && strcmp(a.tls_disk, "disk0") == 0) {
		DUET_ERROR("httpd", "tls_disk=disk0 is the site's disk: give "
				    "cert= and key= paths on it instead");
		return -EINVAL;
	}
	if (redirect != 0 && redirect == port) {
		DUET_ERROR("httpd", "redirect=%lld is the HTTPS port", redirect);
		return -EINVAL;
	}

	if ((r = duet_net_open(loop, &stack)) < 0)
		return r;
	if (addr == NULL)
		addr = duet_net_shares_host_addresses(stack) ? "127.0.0.1"
							     : "0.0.0.0";
	if (duet_ipaddr_parse(addr, &cfg.addr.ip) < 0) {
		DUET_ERROR("httpd", "addr=%s: not an IP address", addr);
		return -EINVAL;
	}
	cfg.addr.port = (uint16_t)port;

	a.loop = loop;
	a.stack = stack;
	a.plain = stack;
	a.tls = tls;
	a.redirect = (uint16_t)redirect;
	a.cfg = cfg;
	/* A tar image on disk0 replaces the embedded site. */
	if (duet_device_find(loop, "disk0", DUET_DEVICE_BLOCK) != NULL) {
		struct duet_block *disk;
		if (synthetic != NULL) {
			DUET_ERROR("httpd", "synthetic= goes with the embedded "
					    "site, not with disk0");
			return -EINVAL;
		}
		if ((r = duet_block_open(loop, "disk0", &disk)) < 0)
			return r;
		a.from_disk = true;
		return httpd_tar_load(&a.tar, loop, disk, tar_loaded, &a);
	}
	httpd_table_init(&a.table);
	if ((r = httpd_table_add_site(&a.table)) < 0 ||
	    (synthetic != NULL && (r = add_synthetic(&a, synthetic)) < 0))
		goto fail;
	httpd_table_source(&a.table, &src);

	a.in_start = true;
	r = serve(&a, &src, a.table.count, "");
	a.in_start = false;
	if (r == 0)
		r = a.start_status;
	if (r < 0)
		goto fail;
	return 0;

fail:
	free_synthetic(&a);
	return r;
}

DUET_APP(.name = "httpd",
	 .summary = "a static HTTP/1.1 server for the site embedded in the "
		    "image, or the tar image on disk0",
	 .args_help =
	     "  port=N             TCP port (default 8080)\n"
	     "  addr=IP            listen address (default 127.0.0.1 on the "
	     "socket stack, 0.0.0.0 on lwIP)\n"
	     "  idle_timeout=T     close connections idle this long (default "
	     "10s)\n"
	     "  request_timeout=T  a request must arrive whole within T of its "
	     "first byte (default 10s)\n"
	     "  max_conns=N        connections at once; a newcomer evicts the "
	     "least progressed (default 10000)\n"
	     "  max_per_peer=N     connections from one address (default "
	     "max_conns/4)\n"
	     "  access_log=BOOL    one log line per request (default on)\n"
	     "  synthetic=SIZES    also serve generated files, e.g. 1k,64k as "
	     "/1k and /64k\n"
	     "  tls=BOOL           HTTPS instead of HTTP (default off; port "
	     "443)\n"
	     "  cert=PATH key=PATH PEM chain and key among the served files "
	     "(default: a test certificate made at boot)\n"
	     "  tls_disk=NAME      read cert= and key= from the tar image on "
	     "block device NAME instead\n"
	     "  tls_resume=BOOL    session resumption for returning clients "
	     "(default on)\n"
	     "  redirect=PORT      also plain HTTP on PORT, answering 301 to "
	     "https\n"
	     "  hsts=SECONDS       send Strict-Transport-Security with this "
	     "max-age",
	 .start = httpd_app_start);
