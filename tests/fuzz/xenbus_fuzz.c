/* A PV front-end's XenbusState protocol (platform-xen/xenbus.c) against
 * a hostile backend: every value it reads from xenstore (the backend's
 * path and id, its state, "online") and every xenstore and driver result
 * comes from the input, and watch events fire at any time. The front
 * must keep the driver's contract: one release per prepare (a failed one
 * too) before the next, disconnect only after a connect, gone once, and
 * no step that never ends.
 *
 * Input: actions, each an op byte and its operands; values the front
 * reads are taken from the input as it asks. */
#include <errno.h>

#include <xen/io/xenbus.h>

#include <duet/sys.h>

#include "fuzz.h"
#include "xenbus.h"

static struct fuzz_in in;
static struct duet__xs_watch *watch;
static bool tx_open;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet__xb_front fe;

/* What a read returns: an error, a plausible value, or any bytes. */
int duet__xs_read(uint32_t tx, const char *path, char *buf, size_t size)
{
	static const char *const plausible[] = {
	    "/local/domain/0/backend/vif/5/0",
	    "0",
	    "1",
	    "2",
	    "3",
	    "4",
	    "5",
	    "6",
	    "7",
	    "-1",
	    "99999999999999999999",
	    ""};
	uint8_t how = fuzz_u8(&in);
	const uint8_t *b;
	(void)tx;

	FUZZ_CHECK(path != NULL && size > 0);
	if (how < 16)
		return how < 8 ? -ENOENT : -EIO;
	if (how < 128) {
		size_t i = how % (sizeof(plausible) / sizeof(plausible[0]));
		snprintf(buf, size, "%s", plausible[i]);
		return (int)strlen(buf);
	}
	size_t n = fuzz_bytes(&in, 64, &b);
	if (n >= size)
		return -ERANGE;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return (int)strlen(buf);
}

int duet__xs_write(uint32_t tx, const char *path, const char *value)
{
	FUZZ_CHECK(path != NULL && value != NULL);
	FUZZ_CHECK(tx == XS_TX_NONE || tx_open);
	return fuzz_u8(&in) < 240 ? 0 : -EIO;
}

int duet__xs_rm(uint32_t tx, const char *path)
{
	(void)tx;
	FUZZ_CHECK(path != NULL);
	return 0;
}

int duet__xs_directory(uint32_t tx, const char *path, char *buf, size_t size)
{
	(void)tx;
	(void)path;
	(void)buf;
	(void)size;
	return -ENOSYS;
}

int duet__xs_tx_start(uint32_t *tx)
{
	FUZZ_CHECK(!tx_open);
	if (fuzz_u8(&in) >= 250)
		return -EIO;
	tx_open = true;
	*tx = 7;
	return 0;
}

int duet__xs_tx_end(uint32_t tx, bool commit)
{
	FUZZ_CHECK(tx == 7 && tx_open);
	tx_open = false;
	uint8_t how = fuzz_u8(&in);
	if (!commit)
		return 0;
	return how < 200 ? 0 : how < 250 ? -EAGAIN : -EIO;
}

int duet__xs_watch(struct duet__xs_watch *w, const char *path,
		   duet__xs_watch_cb cb, void *arg)
{
	w->path = path;
	w->cb = cb;
	w->arg = arg;
	watch = w;
	return 0;
}

int duet__xs_unwatch(struct duet__xs_watch *w)
{
	if (watch == w)
		watch = NULL;
	return 0;
}

const char *duet__xs_home(void)
{
	return "/local/domain/5";
}

/* ------------------------------------------------------------ the driver */

struct drv {
	bool prepared, granted, connected, gone;
	unsigned prepares, releases;
};

static struct drv drv;

static int d_prepare(void *arg)
{
	(void)arg;
	FUZZ_CHECK(!drv.prepared && !drv.gone);
	drv.prepared = true; /* release is owed from here, even on failure */
	if (fuzz_u8(&in) >= 240)
		return -ENOMEM;
	drv.granted = true;
	return 0;
}

static int d_publish(void *arg, uint32_t tx, const char *node)
{
	(void)arg;
	FUZZ_CHECK(drv.granted && tx_open && tx == 7 && node != NULL);
	return fuzz_u8(&in) < 245 ? 0 : -EIO;
}

static int d_connect(void *arg)
{
	(void)arg;
	FUZZ_CHECK(drv.granted && !drv.connected);
	if (fuzz_u8(&in) >= 240)
		return -EIO;
	drv.connected = true;
	return 0;
}

static void d_disconnect(void *arg, const char *why)
{
	(void)arg;
	FUZZ_CHECK(drv.connected && why != NULL);
	drv.connected = false;
}

static bool d_release(void *arg)
{
	(void)arg;
	/* Also after a prepare that failed (what it took is given back). */
	FUZZ_CHECK(drv.prepared && !drv.connected);
	if (fuzz_u8(&in) >= 200)
		return false; /* the backend still maps a page */
	drv.granted = drv.prepared = false;
	drv.releases++;
	return true;
}

static void d_gone(void *arg)
{
	(void)arg;
	FUZZ_CHECK(!drv.gone);
	drv.gone = true;
}

static const struct duet__xb_ops ops = {
    .prepare = d_prepare,
    .publish = d_publish,
    .connect = d_connect,
    .disconnect = d_disconnect,
    .release = d_release,
    .gone = d_gone,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in = (struct fuzz_in){data, size};
	watch = NULL;
	tx_open = false;
	memset(&drv, 0, sizeof(drv));
	memset(&fe, 0, sizeof(fe));
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
	uint8_t how = fuzz_u8(&in);
	if (duet__xb_init(&fe, loop, "net0", "device/vif/0",
			  how & 1 ? XenbusStateConnected
				  : XenbusStateInitialised,
			  how & 2, &ops, NULL) < 0) {
		FUZZ_CHECK(!drv.granted && !drv.gone);
		return 0;
	}
	for (unsigned steps = 0; fuzz_more(&in) && steps < 1000; steps++) {
		uint8_t op = fuzz_u8(&in);
		if (op < 128) {
			(void)duet__xb_step(&fe);
		} else if (op < 192) {
			if (watch != NULL)
				watch->cb(watch->path, watch->arg);
		} else if (op < 224) {
			fuzz_run_for(loop, DUET_MSEC(100) * (op & 31));
		} else {
			duet__xb_fail(&fe, "the driver saw a bad ring");
		}
		FUZZ_CHECK(!tx_open);
		FUZZ_CHECK(!drv.connected || drv.granted);
	}
	/* The backend goes for good: the front ends up DEAD. */
	in.left = 0;
	duet__xb_fail(&fe, "the end");
	fuzz_run_for(loop, DUET__XB_RELEASE_WAIT + DUET_SEC(1));
	FUZZ_CHECK(!drv.connected);
	return 0;
}
