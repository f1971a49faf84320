/* The replay log (core/REPLAY.md) is read from a file someone hands the
 * replayer: any bytes. Two ways in: the input as the records after a
 * valid header (frames, lengths and checksums checked), and the input as
 * records the recorder's own writer frames, so that their payloads get
 * past the checksums and into the replayer's decoding and delivery: a
 * small app with a netif, a disk, timers, clock and entropy reads runs on
 * them until the replay stops. It must stop cleanly, never crash. */
#include <errno.h>
#include <setjmp.h>

#include <duet/args.h>
#include <duet/block.h>
#include <duet/clock.h>
#include <duet/entropy.h>
#include <duet/log.h>
#include <duet/netif.h>
#include <duet/netif_driver.h>
#include <duet/block_driver.h>
#include <duet/replay.h>
#include <duet/sys.h>

#include "../../core/replay_int.h"
#include "fuzz.h"

static uint8_t log_buf[1 << 20];
static size_t log_len;

static int mem_sink(void *arg, const void *buf, size_t len)
{
	(void)arg;
	if (len > sizeof(log_buf) - log_len)
		return -ENOSPC;
	memcpy(log_buf + log_len, buf, len);
	log_len += len;
	return 0;
}

static jmp_buf stopped;
static bool did_stop;

static void fuzz_stop(void *arg, int code, const char *msg)
{
	(void)arg;
	FUZZ_CHECK(msg != NULL && strncmp(msg, "replay: ", 8) == 0);
	FUZZ_CHECK(code >= 0);
	did_stop = true;
	longjmp(stopped, 1);
}

static void dump_line(void *arg, const char *text)
{
	(void)arg;
	FUZZ_CHECK(text != NULL);
}

static const uint8_t kinds[] = {
    RR_CLOCK_MONO, RR_CLOCK_WALL, RR_ENTROPY, RR_STRONG, RR_WAIT,
    RR_WAIT_END,   RR_WAKE,	  RR_DEVICE,  RR_ARG,	 RR_RX,
    RR_LINK,	   RR_DONE,	  RR_SUBMIT_FAIL, RR_SIGNAL, RR_CONSOLE,
    RR_TX,	   RR_SUBMIT,	  RR_END,     RR_FULL};

/* The input's bytes as records: kind, dev, a length byte, the payload. */
static void frame_records(const uint8_t *data, size_t size)
{
	struct duet_rr *rr = duet_rr_record_open("fuzz", mem_sink, NULL,
						 sizeof(log_buf));
	struct fuzz_in in = {data, size};

	FUZZ_CHECK(rr != NULL);
	while (fuzz_more(&in)) {
		uint8_t kind = kinds[fuzz_u8(&in) % sizeof(kinds)];
		uint8_t dev = fuzz_u8(&in) % 4;
		const uint8_t *p;
		size_t n = fuzz_bytes(&in, 255, &p);
		duet__rr_put(rr, kind, dev, p, n);
	}
	duet_rr_close(rr);
}

struct app {
	struct duet_loop *loop;
	struct duet_timer tick;
	struct duet_block *disk;
	struct duet_block_req req;
	uint8_t sector[65536];
	unsigned ticks;
};

static struct app app;
static struct duet_sys sys;
static struct duet_args args;

static void on_frame(struct duet_netif *n, const void *frame, size_t len,
		     void *arg)
{
	struct duet_iovec iov = {frame, len};
	(void)arg;
	duet_netif_transmit(n, &iov, 1);
}

static void on_block(struct duet_block_req *req, int status, void *arg)
{
	(void)req, (void)arg;
	DUET_INFO("fuzz", "block done: %d", status);
}

static void on_tick(struct duet_timer *t, void *arg)
{
	struct app *a = arg;
	uint8_t rnd[4];
	(void)t;

	duet_entropy(rnd, sizeof(rnd));
	DUET_INFO("fuzz", "tick %u wall %lld strong %d", a->ticks,
		  (long long)duet_clock_wall(), duet_entropy_strong());
	if (++a->ticks == 20)
		duet_loop_stop(a->loop, 0);
}

static void replay(void)
{
	static struct duet_rr *rr;
	struct duet_netif *net;

	rr = NULL;
	if (duet_rr_replay_open("fuzz", log_buf, log_len, fuzz_stop, NULL, &rr,
				NULL, 0) < 0)
		return;
	did_stop = false;
	/* The replay may stop inside duet_sys_init(): the cleanup below must
	 * find an empty registry then. */
	duet_list_init(&sys.devices);
	if (setjmp(stopped) == 0) {
		fakeplat_set_rr(rr);
		duet_args_init(&args);
		duet_sys_init(&sys, &args);
		sys.rr = rr;
		duet_rr_devices(rr, &sys.loop);
		memset(&app, 0, sizeof(app));
		app.loop = &sys.loop;
		if (duet_netif_open(&sys.loop, "net0", &net) == 0)
			duet_netif_set_receiver(net, on_frame, NULL);
		if (duet_block_open(&sys.loop, "disk0", &app.disk) == 0)
			duet_block_read(app.disk, &app.req, 0, app.sector, 1,
					on_block, NULL);
		duet_timer_init(&sys.loop, &app.tick, on_tick, &app);
		duet_timer_start(&app.tick, DUET_MSEC(1), DUET_MSEC(1));
		duet_rr_end(rr, duet_loop_run(&sys.loop));
	}
	FUZZ_CHECK(did_stop);
	/* Whatever the replay made goes, with nothing recorded or checked. */
	fakeplat_set_rr(NULL);
	sys.rr = NULL;
	struct duet_list *devices = &sys.devices;
	while (!duet_list_empty(devices)) {
		struct duet_device *d = duet_container_of(devices->prev,
							  struct duet_device, link);
		if (d->kind == DUET_DEVICE_NETIF)
			duet_netif_unregister(duet_container_of(d, struct duet_netif, dev));
		else
			duet_block_unregister(duet_container_of(d, struct duet_block, dev));
	}
	duet_rr_close(rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fakeplat_reset();
	log_len = 0;
	if (size > 0 && data[0] == 'R') {
		/* Raw: a good header, then the input as it is. */
		duet_rr_close(duet_rr_record_open("fuzz", mem_sink, NULL, 1 << 20));
		if (size - 1 > sizeof(log_buf) - log_len)
			return 0;
		memcpy(log_buf + log_len, data + 1, size - 1);
		log_len += size - 1;
	} else {
		frame_records(data, size);
	}
	duet_rr_dump(log_buf, log_len, dump_line, NULL);
	/* And the input as a whole file, header and all, or as a record
	 * disk's image. */
	duet_rr_dump(data, size, dump_line, NULL);
	const void *disk_log;
	size_t disk_len;
	if (duet_rr_disk_log(data, size, &disk_log, &disk_len) > 0) {
		FUZZ_CHECK((const uint8_t *)disk_log + disk_len <= data + size);
		duet_rr_dump(disk_log, disk_len, dump_line, NULL);
	}
	replay();
	return 0;
}
