/* tls_setup.h — httpd's TLS stack: its certificate and key from the
 * served files (the embedded site or disk0's tar image), or a test
 * certificate made at boot.
 *
 * With cert=PATH and key=PATH, both files are read from the file source
 * (through its read when their bytes are not in memory); the server then
 * refuses to serve the key's path (404), so a key on the site's disk never
 * leaves the image. Without them, a fresh self-signed P-256 certificate
 * for CN=localhost (also 127.0.0.1 and ::1) is made, printed on the
 * console with a line saying how to trust it, and lives for this boot.
 */
#ifndef HTTPD_TLS_SETUP_H
#define HTTPD_TLS_SETUP_H

#include <duet/net.h>

#include "files.h"

struct httpd_tls_setup {
	struct duet_stack *inner;
	const struct httpd_source *src;
	const char *path[2]; /* cert, key; NULL: a test certificate */
	char *pem[2];
	size_t len[2];
	bool no_resumption;
	unsigned next; /* the file being read */
	struct httpd_file file_buf; /* its description, if the source fills one */
	struct httpd_read rd;
	/* done(arg, 0 and the TLS stack, or a negative errno, logged) */
	void (*done)(void *arg, int status, struct duet_stack *tls);
	void *arg;
};

/* Starts the setup; done runs once, possibly inside this call. */
void httpd_tls_setup(struct httpd_tls_setup *t, struct duet_stack *inner,
		     const struct httpd_source *src, const char *cert,
		     const char *key, bool resume,
		     void (*done)(void *arg, int status,
				  struct duet_stack *tls),
		     void *arg);

#endif
