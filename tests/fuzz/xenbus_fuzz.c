/* A PV front-end's XenbusState protocol (platform-xen/xenbus.c) against
 * a hostile backend: every value it reads from xenstore (the backend's
 * path and id, its state, "online") and every xenstore and driver result
 * comes from the input, and watch events fire at any time. The front
 * must keep the driver's contract: one release per prepare (a failed one
 * too) before the next, disconnect only after a connect, gone once, and
 * no step that never ends.
 *
 * Input: actions, each an op byte and its operands; values the front
 * reads are taken from the input as it asks: tests/unit/fakexs.c is the
 * xenstore, and its hooks are the hostile part. */
#include <errno.h>

#include <xen/io/xenbus.h>

#include <duet/sys.h>

#include "fakexs.h"
#include "fuzz.h"
#include "xenbus.h"

static struct fuzz_in in;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet__xb_front fe;

/* What a read returns: an error, a plausible value, or any bytes. */
static int hostile_read(const char *path, char *buf, size_t size, void *arg)
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
	(void)arg;

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

/* Whether a write or a transaction fails; listings are not served. */
static int hostile_faults(enum fakexs_call call, const char *path, void *arg)
{
	uint8_t how;
	(void)path;
	(void)arg;

	switch (call) {
	case FAKEXS_WRITE: return fuzz_u8(&in) < 240 ? 0 : -EIO;
	case FAKEXS_DIRECTORY: return -ENOSYS;
	case FAKEXS_TX_START: return fuzz_u8(&in) >= 250 ? -EIO : 0;
	case FAKEXS_ABORT: (void)fuzz_u8(&in); return 0;
	case FAKEXS_COMMIT:
		how = fuzz_u8(&in);
		return how < 200 ? 0 : how < 250 ? -EAGAIN : -EIO;
	default: return 0;
	}
}

static const struct fakexs_hooks hostile = {
    .fault = hostile_faults,
    .read = hostile_read,
};

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
	FUZZ_CHECK(drv.granted && fakexs_tx_open() && tx == FAKEXS_TX &&
		   node != NULL);
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
	fakexs_reset();
	fakexs_set_hooks(&hostile);
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
			(void)fakexs_fire();
		} else if (op < 224) {
			fuzz_run_for(loop, DUET_MSEC(100) * (op & 31));
		} else {
			duet__xb_fail(&fe, "the driver saw a bad ring");
		}
		FUZZ_CHECK(!fakexs_tx_open());
		FUZZ_CHECK(!drv.connected || drv.granted);
	}
	/* The backend goes for good: the front ends up DEAD. */
	in.left = 0;
	duet__xb_fail(&fe, "the end");
	fuzz_run_for(loop, DUET__XB_RELEASE_WAIT + DUET_SEC(1));
	FUZZ_CHECK(!drv.connected);
	return 0;
}
