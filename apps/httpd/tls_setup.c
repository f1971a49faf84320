/* httpd's TLS stack (tls_setup.h). */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/tls.h>

#include "tls_setup.h"

static const char *const alpn[] = {"http/1.1"};
static const char *const what[2] = {"cert", "key"};

static void finish(struct httpd_tls_setup *t, int r)
{
	struct duet_stack *tls = NULL;

	if (r == 0) {
		struct duet_tls_config cfg = {
		    .cert_pem = t->pem[0],
		    .cert_pem_len = t->len[0],
		    .key_pem = t->pem[1],
		    .key_pem_len = t->len[1],
		    .alpn = alpn,
		    .alpn_count = 1,
		    .no_resumption = t->no_resumption,
		};
		r = duet_tls_open(t->inner, &cfg, &tls);
	}
	for (int i = 0; i < 2; i++) {
		if (t->pem[i] != NULL)
			memset(t->pem[i], 0, t->len[i]);
		free(t->pem[i]);
		t->pem[i] = NULL;
	}
	t->done(t->arg, r, tls);
}

static void read_next(struct httpd_tls_setup *t);

static void on_read(struct httpd_read *rd, int status, void *arg)
{
	struct httpd_tls_setup *t = arg;
	(void)rd;

	if (status >= 0 && (size_t)status != t->len[t->next])
		status = -EIO; /* the file changed under the source */
	if (status < 0) {
		DUET_ERROR("httpd", "%s=%s: %s", what[t->next],
			   t->path[t->next], duet_strerror(status));
		finish(t, status);
		return;
	}
	t->next++;
	read_next(t);
}

static void read_next(struct httpd_tls_setup *t)
{
	const struct httpd_file *f;
	unsigned i = t->next;
	int r;

	if (i == 2) {
		finish(t, 0);
		return;
	}
	f = httpd_source_find(t->src, t->path[i], strlen(t->path[i]),
			      &t->file_buf);
	if (f == NULL || f->size > 65536) {
		DUET_ERROR("httpd", "%s=%s: %s", what[i], t->path[i],
			   f == NULL ? "no such file among the served ones "
				       "(a path like /tls/cert.pem)"
				     : "larger than 64 KiB");
		finish(t, -ENOENT);
		return;
	}
	if ((t->pem[i] = malloc(f->size + 1)) == NULL) {
		finish(t, -ENOMEM);
		return;
	}
	t->len[i] = f->size;
	if (f->data != NULL) {
		memcpy(t->pem[i], f->data, f->size);
		t->next++;
		read_next(t);
		return;
	}
	r = t->src->read(t->src->ctx, f, 0, t->pem[i], f->size, &t->rd, on_read,
			 t);
	if (r < 0) {
		DUET_ERROR("httpd", "%s=%s: %s", what[i], t->path[i],
			   duet_strerror(r));
		finish(t, r);
	}
}

static void test_certificate(struct httpd_tls_setup *t)
{
	int r = duet_tls_selfsigned("localhost", &t->pem[0], &t->len[0],
				    &t->pem[1], &t->len[1]);

	if (r < 0) {
		DUET_ERROR("httpd", "cannot make a test certificate: %s",
			   duet_strerror(r));
		finish(t, r);
		return;
	}
	DUET_INFO("httpd",
		  "no cert= and key=: serving with a test "
		  "certificate made for this boot (CN=localhost, "
		  "127.0.0.1, ::1). To trust it, save the lines "
		  "from BEGIN to END below as duet-test.pem and use "
		  "curl --cacert duet-test.pem https://localhost:PORT/");
	duet_console_write(t->pem[0], t->len[0]);
	finish(t, 0);
}

void httpd_tls_setup(struct httpd_tls_setup *t, struct duet_stack *inner,
		     const struct httpd_source *src, const char *cert,
		     const char *key, bool resume,
		     void (*done)(void *arg, int status,
				  struct duet_stack *tls),
		     void *arg)
{
	memset(t, 0, sizeof(*t));
	t->inner = inner;
	t->src = src;
	t->path[0] = cert;
	t->path[1] = key;
	t->no_resumption = !resume;
	t->done = done;
	t->arg = arg;
	if ((cert == NULL) != (key == NULL)) {
		DUET_ERROR("httpd", "cert= and key= go together");
		finish(t, -EINVAL);
		return;
	}
	if (cert == NULL)
		test_certificate(t);
	else
		read_next(t);
}
