/* Record and replay through the fake platform (core/REPLAY.md): a small
 * app of timers, clock and entropy reads, a netif that echoes frames and
 * a disk it reads and writes is recorded, then replayed on a platform
 * whose clock, entropy and devices all differ; the replay must see what
 * the recording saw, and any change in what the app does must stop it at
 * the first difference. */
#include <criterion/criterion.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/args.h>
#include <duet/block_driver.h>
#include <duet/clock.h>
#include <duet/entropy.h>
#include <duet/log.h>
#include <duet/netif_driver.h>
#include <duet/platform.h>
#include <duet/replay.h>
#include <duet/sys.h>

#include "fakeplat.h"

TestSuite(replay, .init = fakeplat_reset);

/* ---------------------------------------------------------------- the log */

static uint8_t log_buf[1 << 20];
static size_t log_len;
static bool sink_fails;

static int mem_sink(void *arg, const void *buf, size_t len)
{
	(void)arg;
	if (sink_fails || len > sizeof(log_buf) - log_len)
		return -ENOSPC;
	memcpy(log_buf + log_len, buf, len);
	log_len += len;
	return 0;
}

static jmp_buf stopped;
static int stop_code;
static char stop_msg[1024];

static void test_stop(void *arg, int code, const char *msg)
{
	(void)arg;
	stop_code = code;
	snprintf(stop_msg, sizeof(stop_msg), "%s", msg);
	longjmp(stopped, 1);
}

/* ---------------------------------------------------------------- devices */

struct tnif {
	struct duet_netif netif;
	unsigned sent;
};

static int tnif_transmit(struct duet_netif *n, const struct duet_iovec *iov,
			 unsigned iovcnt, size_t len)
{
	struct tnif *t = duet_container_of(n, struct tnif, netif);
	(void)iov, (void)iovcnt, (void)len;
	/* The third frame finds the queue full: the result is an input. */
	return ++t->sent == 3 ? -ENOBUFS : 0;
}

static int tnif_transmit_csum(struct duet_netif *n,
			      const struct duet_iovec *iov, unsigned iovcnt,
			      size_t len, unsigned start, unsigned offset)
{
	(void)start, (void)offset;
	return tnif_transmit(n, iov, iovcnt, len);
}

static const struct duet_netif_ops tnif_ops = {
    .transmit = tnif_transmit, .transmit_csum = tnif_transmit_csum};

struct tdisk {
	struct duet_block block;
	uint8_t data[8 * 512];
	struct duet_block_req *queued[8];
	unsigned nqueued;
};

static int tdisk_submit(struct duet_block *b, struct duet_block_req *req)
{
	struct tdisk *d = duet_container_of(b, struct tdisk, block);

	if (d->nqueued == 8)
		return -EBUSY;
	d->queued[d->nqueued++] = req;
	return 0;
}

static const struct duet_block_ops tdisk_ops = {.submit = tdisk_submit};

static struct tnif nif;
static struct tdisk disk;
static unsigned waits_seen;

/* The recording's device events: a frame every other wait, the disk's
 * requests done at the next wait. */
static void record_wait(struct duet_loop *loop, void *arg)
{
	uint8_t frame[60];
	(void)arg;

	(void)loop;
	if (++waits_seen % 2 == 0) {
		memset(frame, (int)waits_seen, sizeof(frame));
		if (waits_seen % 4 == 0) /* the device vouches for it */
			duet_netif_deliver_valid(&nif.netif, frame,
						 sizeof(frame));
		else
			duet_netif_deliver(&nif.netif, frame, sizeof(frame));
	}
	while (disk.nqueued > 0) {
		struct duet_block_req *r = disk.queued[--disk.nqueued];
		uint8_t *p = disk.data + r->sector * 512;
		if (r->op == DUET_BLOCK_READ)
			memcpy(r->buf, p, r->count * 512);
		else if (r->op == DUET_BLOCK_WRITE)
			memcpy(p, r->buf, r->count * 512);
		else
			cr_assert_eq(r->op, DUET_BLOCK_FLUSH);
		duet_block_complete(r, 0);
	}
	duet_time_t d = fakeplat_last_deadline();
	if (d != DUET_TIME_INFINITE && d > fakeplat_time())
		fakeplat_set_time(d + DUET_MSEC(1) + 300000); /* late, as real waits are */
}

static void record_devices(struct duet_loop *loop)
{
	static const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
	/* A volatile cache and no native durable write: the core splits one
	 * (write, then flush), and the log holds both halves. */
	struct duet_block_info info = {
	    .sector_size = 512, .sector_count = 8, .volatile_cache = true};

	cr_assert_eq(duet_netif_register(loop, &nif.netif, "net0", &tnif_ops,
					 mac, 1500), 0);
	/* Checksum offload, set after the device is registered as a tap
	 * does: the replay's netif must offload too. */
	cr_assert_eq(duet_netif_set_offloads(&nif.netif,
					     DUET_NETIF_OFFLOAD_TX_CSUM |
						 DUET_NETIF_OFFLOAD_RX_CSUM),
		     0);
	for (size_t i = 0; i < sizeof(disk.data); i++)
		disk.data[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(duet_block_register(loop, &disk.block, "disk0", &tdisk_ops,
					 &info), 0);
}

/* ---------------------------------------------------------------- the app */

struct app {
	struct duet_loop *loop;
	struct duet_timer tick;
	struct duet_netif *net;
	struct duet_block *disk;
	struct duet_block_req req;
	uint8_t sector[512];
	unsigned ticks;
	int variant; /* 0 as recorded; else a deliberate change */
};

static void on_frame(struct duet_netif *n, const void *frame, size_t len,
		     void *arg)
{
	struct app *a = arg;
	uint8_t echo[60];

	memcpy(echo, frame, len < 60 ? len : 60);
	if (a->variant == 2)
		echo[59] ^= 1; /* one bit of one frame differs */
	struct duet_iovec iov = {echo, sizeof(echo)};
	/* A vouched-for frame is echoed with its checksum left to the
	 * device, whose place is part of what the replay checks. */
	bool valid = duet_netif_rx_csum_valid(n);
	int r = valid ? duet_netif_transmit_csum(n, &iov, 1, 34, 16)
		      : duet_netif_transmit(n, &iov, 1);
	DUET_INFO("app", "echoed a frame of %02x: %d%s", echo[0], r,
		  valid ? ", checksum left to the device" : "");
}

static void on_block(struct duet_block_req *req, int status, void *arg)
{
	struct app *a = arg;

	DUET_INFO("app", "block op %d done: %d, byte %02x", req->op, status,
		  a->sector[5]);
}

static void on_tick(struct duet_timer *t, void *arg)
{
	struct app *a = arg;
	uint32_t rnd;
	(void)t;

	duet_entropy(&rnd, a->variant == 1 && a->ticks == 4 ? 2 : 4);
	DUET_INFO("app", "tick %u at %lld ns, wall %lld, rnd %08x", a->ticks,
		  (long long)duet_loop_now(a->loop),
		  (long long)duet_clock_wall(), rnd);
	if (a->ticks == 2) {
		a->sector[0] = (uint8_t)rnd;
		if (a->variant == 3)
			a->sector[511] ^= 0x80; /* one bit of a block written */
		cr_assert_eq(duet_block_write(a->disk, &a->req, 3, a->sector, 1,
					      on_block, a), 0);
	}
	if (a->ticks == 5)
		cr_assert_eq(duet_block_write_fua(a->disk, &a->req, 4, a->sector,
						  1, on_block, a), 0);
	if (++a->ticks == 8)
		duet_loop_stop(a->loop, 7);
}

static void app_start(struct app *a, struct duet_loop *loop, int variant)
{
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->variant = variant;
	cr_assert_eq(duet_netif_open(loop, "net0", &a->net), 0);
	cr_assert_eq(duet_block_open(loop, "disk0", &a->disk), 0);
	cr_assert_eq(duet_netif_set_receiver(a->net, on_frame, a), 0);
	cr_assert_eq(duet_block_read(a->disk, &a->req, 0, a->sector, 1,
				     on_block, a), 0);
	duet_timer_init(loop, &a->tick, on_tick, a);
	duet_timer_start(&a->tick, DUET_MSEC(7), DUET_MSEC(7));
}

static struct duet_sys sys;
static struct duet_args args;
static struct app app;
static char recorded_console[65536];

/* late: as Xen records, the devices are found before the recording
 * starts, which then writes them down (duet_rr_devices_known). */
static int record_run(uint64_t max, bool late)
{
	struct duet_rr *rr;

	log_len = 0;
	waits_seen = 0;
	duet_args_init(&args);
	if (late) {
		duet_sys_init(&sys, &args);
		record_devices(&sys.loop);
	}
	cr_assert_not_null(rr = duet_rr_record_open("replay-test", mem_sink,
						    NULL, max));
	fakeplat_set_rr(rr);
	if (!late)
		duet_sys_init(&sys, &args);
	sys.rr = rr;
	if (late) {
		sys.loop.now = sys.loop.boot_time = duet_plat_clock_monotonic();
		duet_rr_devices_known(rr, &sys.loop);
	} else {
		record_devices(&sys.loop);
	}
	fakeplat_set_wait_hook(record_wait, NULL);
	app_start(&app, &sys.loop, 0);
	int code = duet_rr_end(rr, duet_loop_run(&sys.loop));
	duet_rr_close(rr);
	fakeplat_set_rr(NULL);
	snprintf(recorded_console, sizeof(recorded_console), "%s",
		 fakeplat_console());
	return code;
}

static int record(uint64_t max)
{
	return record_run(max, false);
}

/* Replays the log on a platform that is not the recording's: another
 * time, no lateness, other entropy, no devices of its own. Returns the
 * stop code; stop_msg says why. */
static int replay(int variant)
{
	static struct duet_rr *rr;
	char err[256];
	uint8_t junk[13];

	fakeplat_reset();
	fakeplat_set_time(DUET_SEC(77));
	duet_plat_entropy(junk, sizeof(junk)); /* the fake's bytes move on */
	cr_assert_eq(duet_rr_replay_open("replay-test", log_buf, log_len,
					 test_stop, NULL, &rr, err, sizeof(err)),
		     0, "%s", err);
	if (setjmp(stopped) != 0)
		return stop_code;
	fakeplat_set_rr(rr);
	duet_args_init(&args);
	duet_sys_init(&sys, &args);
	sys.rr = rr;
	duet_rr_devices(rr, &sys.loop);
	app_start(&app, &sys.loop, variant);
	duet_rr_end(rr, duet_loop_run(&sys.loop));
	cr_assert_fail("duet_rr_end returned from a replay");
	return -1;
}

Test(replay, timers_clock_entropy_and_devices_replay_identically)
{
	cr_assert_eq(record(1 << 20), 7);
	cr_assert(strstr(recorded_console, "echoed a frame of 02: 0") != NULL);
	cr_assert(strstr(recorded_console, "echoed a frame of 06: -105") != NULL,
		  "%s", recorded_console); /* the third: -ENOBUFS */
	cr_assert(strstr(recorded_console, "block op 1 done: 0, byte 26") != NULL,
		  "%s", recorded_console);
	cr_assert(strstr(recorded_console, "tick 7") != NULL);
	cr_assert(strstr(recorded_console, "echoed a frame of 04: 0, checksum "
					   "left to the device") != NULL,
		  "%s", recorded_console);
	char fua[64];
	snprintf(fua, sizeof(fua), "block op %d done: 0", DUET_BLOCK_WRITE_FUA);
	cr_assert(strstr(recorded_console, fua) != NULL, "%s", recorded_console);

	cr_assert_eq(replay(0), 7, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "outputs identical, exit code 7") != NULL,
		  "%s", stop_msg);
	cr_assert_str_eq(fakeplat_console(), recorded_console);
}

Test(replay, a_different_entropy_read_is_a_divergence)
{
	record(1 << 20);
	cr_assert_eq(replay(1), DUET_RR_EXIT_DIVERGED, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "divergence at record") != NULL, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "expected ENTROPY dev 0 seq 0 status 0 with "
				   "4 bytes, got 2 bytes of entropy") != NULL,
		  "%s", stop_msg);
}

Test(replay, a_different_frame_sent_is_a_divergence)
{
	record(1 << 20);
	cr_assert_eq(replay(2), DUET_RR_EXIT_DIVERGED, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "expected TX net0 len 60 crc") != NULL,
		  "%s", stop_msg);
	cr_assert(strstr(stop_msg, "got TX net0 len 60 crc") != NULL, "%s", stop_msg);
	/* Everything before the frame was replayed. */
	cr_assert(strstr(fakeplat_console(), "tick 0") != NULL);
}

Test(replay, a_different_block_written_is_a_divergence)
{
	record(1 << 20);
	cr_assert_eq(replay(3), DUET_RR_EXIT_DIVERGED, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "expected SUBMIT disk0 seq 1 op 2 sector 3 "
				   "count 1 (write, crc 0x") != NULL,
		  "%s", stop_msg);
	cr_assert(strstr(stop_msg, "got SUBMIT disk0 seq 1 op 2 sector 3 count 1 "
				   "(write, crc 0x") != NULL,
		  "%s", stop_msg);
	/* The two checksums differ, and the message says both. */
	const char *a = strstr(stop_msg, "crc 0x"), *b = strstr(a + 1, "crc 0x");
	cr_assert(b != NULL && strncmp(a, b, 16) != 0, "%s", stop_msg);
}

Test(replay, a_full_log_stops_the_recording_and_the_replay_there)
{
	/* 64 KiB of entropy reads fill the smallest log. */
	struct duet_rr *rr;
	uint8_t b[1000];

	log_len = 0;
	rr = duet_rr_record_open("replay-test", mem_sink, NULL, 0);
	fakeplat_set_rr(rr);
	for (int i = 0; i < 80; i++)
		duet_plat_entropy(b, sizeof(b));
	duet_rr_end(rr, 0);
	duet_rr_close(rr);
	fakeplat_set_rr(NULL);
	cr_assert_leq(log_len, 64 << 10);
	cr_assert(strstr(fakeplat_console(), "the log is full") != NULL);

	cr_assert_eq(duet_rr_replay_open("replay-test", log_buf, log_len,
					 test_stop, NULL, &rr, NULL, 0), 0);
	if (setjmp(stopped) == 0) {
		fakeplat_set_rr(rr);
		for (int i = 0; i < 80; i++)
			duet_plat_entropy(b, sizeof(b));
		cr_assert_fail("replayed past a full log");
	}
	cr_assert_eq(stop_code, DUET_RR_EXIT_END);
	cr_assert(strstr(stop_msg, "it filled up") != NULL, "%s", stop_msg);
}

Test(replay, a_damaged_record_is_reported_not_trusted)
{
	record(1 << 20);
	log_buf[log_len / 2] ^= 0x40;
	cr_assert_eq(replay(0), DUET_RR_EXIT_END, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "malformed at record") != NULL, "%s", stop_msg);
}

Test(replay, another_app_or_build_is_refused)
{
	struct duet_rr *rr;
	char err[256];

	record(1 << 20);
	cr_assert_eq(duet_rr_replay_open("hello", log_buf, log_len, test_stop,
					 NULL, &rr, err, sizeof(err)),
		     -ESTALE);
	cr_assert(strstr(err, "recorded by replay-test at commit") != NULL, "%s", err);
	log_buf[3] = 'X';
	cr_assert_eq(duet_rr_replay_open("replay-test", log_buf, log_len,
					 test_stop, NULL, &rr, err, sizeof(err)),
		     -EINVAL);
}

Test(replay, a_sink_that_fails_ends_the_recording_quietly)
{
	struct duet_rr *rr = duet_rr_record_open("replay-test", mem_sink, NULL, 0);
	uint8_t b[1000];

	cr_assert_not_null(rr);
	sink_fails = true;
	fakeplat_set_rr(rr);
	for (int i = 0; i < 80; i++)
		cr_assert_eq(duet_plat_entropy(b, sizeof(b)), 0);
	duet_rr_close(rr);
	sink_fails = false;
	fakeplat_set_rr(NULL);
}

Test(replay, devices_found_before_the_recording_replay_from_their_records)
{
	cr_assert_eq(record_run(1 << 20, true), 7);
	cr_assert_eq(replay(0), 7, "%s", stop_msg);
	cr_assert(strstr(stop_msg, "outputs identical, exit code 7") != NULL,
		  "%s", stop_msg);
	cr_assert_str_eq(fakeplat_console(), recorded_console);
}

Test(replay, a_record_disk_image_gives_its_log_and_a_damaged_one_is_refused)
{
	static uint8_t image[DUET_RR_DISK_HEAD + 100];
	const void *log;
	size_t n;

	memset(image, 0, sizeof(image));
	cr_assert_eq(duet_rr_disk_log(image, sizeof(image), &log, &n), 0);
	duet_rr_disk_head(image, 100);
	memset(image + DUET_RR_DISK_HEAD, 'x', 100);
	cr_assert_eq(duet_rr_disk_log(image, sizeof(image), &log, &n), 1);
	cr_assert_eq(log, image + DUET_RR_DISK_HEAD);
	cr_assert_eq(n, 100);
	/* Claims one byte more than the image has. */
	duet_rr_disk_head(image, 101);
	cr_assert_eq(duet_rr_disk_log(image, sizeof(image), &log, &n), -EINVAL);
	duet_rr_disk_head(image, 100);
	image[9] ^= 1; /* the length, under the checksum */
	cr_assert_eq(duet_rr_disk_log(image, sizeof(image), &log, &n), -EINVAL);
	image[9] ^= 1;
	cr_assert_eq(duet_rr_disk_log(image, DUET_RR_DISK_HEAD - 1, &log, &n),
		     -EINVAL);
}
