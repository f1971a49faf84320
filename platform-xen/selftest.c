/* The platform's self-test, run at boot with the boot argument
 * xen.selftest=1 (tests/xen/cases/hello-selftest.case): it exercises on a
 * real Xen what the host tests cannot — the heap growing over every free
 * page (the direct map beyond Xen's boot mapping included), grant entries,
 * xenstore transactions and directories, and event channel allocation.
 * Each check logs what it saw; the result is one line, "xen: selftest ok"
 * or "xen: selftest FAILED: ...". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "heap.h"
#include "xen.h"

#define CHUNK (64 * 1024)

/* Allocates 64 KiB blocks until malloc fails, writes each, frees all. */
static int heap_fill(void)
{
	void **blocks = NULL, **grown;
	size_t n = 0, cap = 0;
	int r = 0;

	for (;;) {
		void *p = malloc(CHUNK);
		if (p == NULL)
			break;
		memset(p, 0xa5, CHUNK);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(blocks, cap * sizeof(*blocks));
			if (grown == NULL) {
				free(p);
				break;
			}
			blocks = grown;
		}
		blocks[n++] = p;
	}
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char *)blocks[i])[CHUNK - 1] != 0xa5)
			r = -EFAULT;
		free(blocks[i]);
	}
	free(blocks);
	if (r == 0)
		r = duet__heap_check();
	DUET_INFO("xen",
		  "selftest: heap gave %zu MiB before running out, %zu pages "
		  "left unused",
		  n * CHUNK >> 20, duet__xen_mm_free_pages());
	if (r == 0 && n * CHUNK < 8u << 20)
		r = -ENOMEM; /* 32 MiB domains must reach beyond the boot
				mapping */
	return r;
}

static int grants(void)
{
	static grant_ref_t refs[200];
	void *page = malloc(4096);
	int r = 0;

	if (page == NULL)
		return -ENOMEM;
	unsigned long frame = duet__xen_virt_to_frame(page);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && r == 0; i++)
		r = duet__xen_grant_access(0, frame, i % 2, &refs[i]);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && r == 0; i++)
		r = duet__xen_grant_end(refs[i]);
	free(page);
	return r;
}

static int xenstore(void)
{
	char buf[256];
	uint32_t tx;
	int r, n;

	for (int attempt = 0;; attempt++) {
		if ((r = duet__xs_tx_start(&tx)) < 0)
			return r;
		if ((r = duet__xs_write(tx, "data/duet-selftest/a", "1")) < 0 ||
		    (r = duet__xs_write(tx, "data/duet-selftest/b", "two")) <
			0) {
			duet__xs_tx_end(tx, false);
			return r;
		}
		r = duet__xs_tx_end(tx, true);
		if (r != -EAGAIN || attempt == 3)
			break;
	}
	if (r < 0)
		return r;
	if ((n = duet__xs_directory(XS_TX_NONE, "data/duet-selftest", buf,
				    sizeof(buf))) != 2)
		return n < 0 ? n : -EPROTO;
	if ((r = duet__xs_read(XS_TX_NONE, "data/duet-selftest/b", buf,
			       sizeof(buf))) < 0)
		return r;
	if (strcmp(buf, "two") != 0)
		return -EPROTO;
	if (duet__xs_read(XS_TX_NONE, "data/duet-selftest/none", buf,
			  sizeof(buf)) != -ENOENT)
		return -EPROTO;
	return duet__xs_rm(XS_TX_NONE, "data/duet-selftest");
}

static void no_event(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
}

static int event_channels(void)
{
	evtchn_port_t port;
	int r = duet__xen_evtchn_alloc_unbound(0, no_event, NULL, &port);

	return r < 0 ? r : duet__xen_evtchn_unbind(port);
}

int duet__xen_selftest(void)
{
	static const struct {
		const char *name;
		int (*run)(void);
	} checks[] = {
	    {"heap", heap_fill},
	    {"grant table", grants},
	    {"xenstore", xenstore},
	    {"event channels", event_channels},
	};

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int r = checks[i].run();
		if (r < 0) {
			DUET_ERROR("xen", "selftest FAILED: %s: %s",
				   checks[i].name, duet_strerror(r));
			return r;
		}
	}
	DUET_INFO("xen", "selftest ok");
	return 0;
}
