/* The device registry and the netif/block wrappers, against fake devices. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/block_driver.h>
#include <duet/error.h>
#include <duet/netif_driver.h>
#include <duet/sys.h>

#include "fakeplat.h"

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;

static void setup(void)
{
	fakeplat_reset();
	duet_sys_init(&sys, NULL);
}

TestSuite(device, .init = setup);
TestSuite(netif, .init = setup);
TestSuite(block, .init = setup);

/* ---------------------------------------------------------------- registry */

Test(device, register_find_and_unregister)
{
	static struct duet_device a, b;

	cr_assert_eq(duet_device_register(loop, &a, DUET_DEVICE_NETIF, "net0"), 0);
	cr_assert_eq(duet_device_register(loop, &b, DUET_DEVICE_BLOCK, "disk0"), 0);
	cr_assert_eq(duet_device_find(loop, "net0", DUET_DEVICE_NETIF), &a);
	cr_assert_null(duet_device_find(loop, "net0", DUET_DEVICE_BLOCK));
	cr_assert_null(duet_device_find(loop, "net1", DUET_DEVICE_NETIF));
	cr_assert_eq(duet_device_next(loop, NULL), &a);
	cr_assert_eq(duet_device_next(loop, &a), &b);
	cr_assert_null(duet_device_next(loop, &b));
	duet_device_unregister(&a);
	cr_assert_null(duet_device_find(loop, "net0", DUET_DEVICE_NETIF));
	cr_assert_eq(duet_device_next(loop, NULL), &b);
}

Test(device, names_are_checked_and_unique_across_kinds)
{
	static struct duet_device a, b;
	const char *bad[] = {"", "Net0", "net 0", "sixteen-chars-xx", "a/b"};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(duet_device_register(loop, &a, DUET_DEVICE_NETIF, bad[i]),
			     -EINVAL, "accepted '%s'", bad[i]);
	cr_assert_eq(duet_device_register(loop, &a, DUET_DEVICE_NETIF, "x0"), 0);
	cr_assert_eq(duet_device_register(loop, &b, DUET_DEVICE_BLOCK, "x0"), -EEXIST);
}

Test(device, list_names_for_messages)
{
	static struct duet_device a, b, c;
	char buf[64];

	cr_assert_str_eq(duet_device_list_names(loop, DUET_DEVICE_BLOCK, buf, sizeof(buf)), "none");
	duet_device_register(loop, &a, DUET_DEVICE_BLOCK, "disk0");
	duet_device_register(loop, &b, DUET_DEVICE_NETIF, "net0");
	duet_device_register(loop, &c, DUET_DEVICE_BLOCK, "disk1");
	cr_assert_str_eq(duet_device_list_names(loop, DUET_DEVICE_BLOCK, buf, sizeof(buf)),
			 "disk0, disk1");
}

/* ------------------------------------------------------------------- netif */

struct fake_nic {
	struct duet_netif nif;
	unsigned char last[2048];
	size_t last_len;
	int tx_result;
	int starts, stops, closes;
};

static int fake_transmit(struct duet_netif *n, const struct duet_iovec *iov,
			 unsigned iovcnt, size_t len)
{
	struct fake_nic *f = duet_container_of(n, struct fake_nic, nif);
	size_t off = 0;

	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(f->last + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	cr_assert_eq(off, len);
	f->last_len = len;
	return f->tx_result;
}

static int fake_start(struct duet_netif *n)
{
	duet_container_of(n, struct fake_nic, nif)->starts++;
	return 0;
}

static void fake_stop(struct duet_netif *n)
{
	duet_container_of(n, struct fake_nic, nif)->stops++;
}

static void fake_close(struct duet_netif *n)
{
	duet_container_of(n, struct fake_nic, nif)->closes++;
}

static const struct duet_netif_ops fake_nic_ops = {
	.transmit = fake_transmit,
	.start = fake_start,
	.stop = fake_stop,
	.close = fake_close,
};

static const uint8_t mac0[6] = {0x02, 0, 0, 0, 0, 1};

static size_t rx_len;
static unsigned rx_count;
static void *rx_arg_seen;
static void on_rx(struct duet_netif *n, const void *frame, size_t len, void *arg)
{
	(void)n;
	(void)frame;
	rx_len = len;
	rx_count++;
	rx_arg_seen = arg;
}

Test(netif, register_validates_ops_mac_and_mtu)
{
	static struct fake_nic f;
	static const struct duet_netif_ops no_tx = {.start = fake_start};
	const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};

	cr_assert_eq(duet_netif_register(loop, &f.nif, "net0", &no_tx, mac0, 1500), -EINVAL);
	cr_assert_eq(duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mcast, 1500), -EINVAL);
	cr_assert_eq(duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 67), -EINVAL);
	cr_assert_eq(duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500), 0);
}

Test(netif, open_by_name_and_unknown_name)
{
	static struct fake_nic f;
	struct duet_netif *n;
	uint8_t mac[6];

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	cr_assert_eq(duet_netif_open(loop, "net0", &n), 0);
	cr_assert_eq(n, &f.nif);
	duet_netif_mac(n, mac);
	cr_assert_arr_eq(mac, mac0, 6);
	cr_assert_eq(duet_netif_mtu(n), 1500);
	cr_assert_str_eq(duet_netif_name(n), "net0");
	cr_assert_eq(duet_netif_open(loop, "net9", &n), -ENODEV);
	cr_assert(strstr(fakeplat_console(), "no network interface named 'net9' (available: net0)"),
		  "%s", fakeplat_console());
}

Test(netif, transmit_gathers_iovecs_and_counts)
{
	static struct fake_nic f;
	unsigned char hdr[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	unsigned char payload[100];
	struct duet_netif_stats st;

	memset(payload, 0xab, sizeof(payload));
	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	struct duet_iovec iov[2] = {{hdr, sizeof(hdr)}, {payload, sizeof(payload)}};
	cr_assert_eq(duet_netif_transmit(&f.nif, iov, 2), 0);
	cr_assert_eq(f.last_len, 114);
	cr_assert_eq(f.last[14], 0xab);
	f.tx_result = -ENOBUFS;
	cr_assert_eq(duet_netif_transmit(&f.nif, iov, 2), -ENOBUFS);
	f.tx_result = -EIO;
	cr_assert_eq(duet_netif_transmit(&f.nif, iov, 2), -EIO);
	duet_netif_get_stats(&f.nif, &st);
	cr_assert_eq(st.tx_packets, 1);
	cr_assert_eq(st.tx_bytes, 114);
	cr_assert_eq(st.tx_dropped, 1);
	cr_assert_eq(st.tx_errors, 1);
}

Test(netif, transmit_rejects_runt_and_oversize_frames_before_the_driver)
{
	static struct fake_nic f;
	static unsigned char big[1600];
	struct duet_netif_stats st;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	struct duet_iovec runt = {big, 13};
	struct duet_iovec max = {big, 1500 + 18};
	struct duet_iovec over = {big, 1500 + 19};
	cr_assert_eq(duet_netif_transmit(&f.nif, &runt, 1), -EMSGSIZE);
	cr_assert_eq(duet_netif_transmit(&f.nif, &over, 1), -EMSGSIZE);
	cr_assert_eq(f.last_len, 0, "driver saw a bad frame");
	cr_assert_eq(duet_netif_transmit(&f.nif, &max, 1), 0);
	duet_netif_get_stats(&f.nif, &st);
	cr_assert_eq(st.tx_errors, 2);
}

Test(netif, receiver_install_start_stop_and_busy)
{
	static struct fake_nic f;
	unsigned char frame[60] = {0};
	int tag;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	duet_netif_deliver(&f.nif, frame, sizeof(frame)); /* nobody listening */
	cr_assert_eq(duet_netif_set_receiver(&f.nif, on_rx, &tag), 0);
	cr_assert_eq(f.starts, 1);
	cr_assert_eq(duet_netif_set_receiver(&f.nif, on_rx, NULL), -EBUSY);
	rx_count = 0;
	duet_netif_deliver(&f.nif, frame, sizeof(frame));
	duet_netif_deliver(&f.nif, frame, 10);	 /* runt */
	duet_netif_deliver(&f.nif, frame, 5000); /* oversize */
	cr_assert_eq(rx_count, 1);
	cr_assert_eq(rx_len, 60);
	cr_assert_eq(rx_arg_seen, &tag);
	struct duet_netif_stats st;
	duet_netif_get_stats(&f.nif, &st);
	cr_assert_eq(st.rx_packets, 1);
	cr_assert_eq(st.rx_bytes, 60);
	cr_assert_eq(st.rx_dropped, 1);
	cr_assert_eq(st.rx_errors, 2);
	cr_assert_eq(duet_netif_set_receiver(&f.nif, NULL, NULL), 0);
	cr_assert_eq(f.stops, 1);
}

Test(netif, unregister_closes_once_and_later_calls_fail_cleanly)
{
	static struct fake_nic f;
	unsigned char frame[60] = {0};
	struct duet_iovec iov = {frame, sizeof(frame)};
	struct duet_netif *n;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	duet_netif_set_receiver(&f.nif, on_rx, NULL);
	duet_netif_unregister(&f.nif);
	duet_netif_unregister(&f.nif);
	cr_assert_eq(f.stops, 1);
	cr_assert_eq(f.closes, 1);
	cr_assert_eq(duet_netif_transmit(&f.nif, &iov, 1), -ENETDOWN);
	cr_assert_eq(duet_netif_set_receiver(&f.nif, on_rx, NULL), -ENETDOWN);
	cr_assert_eq(duet_netif_open(loop, "net0", &n), -ENODEV);
}

/* A driver's link comes and goes; the watcher hears each change once. */
static unsigned link_calls;
static bool link_seen;
static void *link_arg_seen;
static void on_link(struct duet_netif *n, bool up, void *arg)
{
	cr_assert(duet_netif_link_up(n) == up, "state not updated before the call");
	link_calls++;
	link_seen = up;
	link_arg_seen = arg;
}

Test(netif, link_starts_up_and_down_link_refuses_transmit_before_the_driver)
{
	static struct fake_nic f;
	unsigned char frame[60] = {0};
	struct duet_iovec iov = {frame, sizeof(frame)};
	struct duet_netif_stats st;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	cr_assert(duet_netif_link_up(&f.nif));
	duet_netif_set_link(&f.nif, false);
	cr_assert(!duet_netif_link_up(&f.nif));
	cr_assert_eq(duet_netif_transmit(&f.nif, &iov, 1), -ENETDOWN);
	cr_assert_eq(f.last_len, 0, "the driver was called with the link down");
	duet_netif_get_stats(&f.nif, &st);
	cr_assert_eq(st.tx_errors, 1);
	cr_assert_eq(st.tx_packets, 0);
	duet_netif_set_link(&f.nif, true);
	cr_assert_eq(duet_netif_transmit(&f.nif, &iov, 1), 0);
	cr_assert_eq(f.last_len, 60);
	duet_netif_get_stats(&f.nif, &st);
	cr_assert_eq(st.tx_packets, 1);
	cr_assert_eq(st.tx_errors, 1);
}

Test(netif, link_watcher_hears_each_change_once_until_removed)
{
	static struct fake_nic f;
	int tag;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	link_calls = 0;
	duet_netif_set_link_watcher(&f.nif, on_link, &tag);
	duet_netif_set_link(&f.nif, true); /* already up: no change */
	cr_assert_eq(link_calls, 0);
	duet_netif_set_link(&f.nif, false);
	cr_assert_eq(link_calls, 1);
	cr_assert(!link_seen);
	cr_assert_eq(link_arg_seen, &tag);
	duet_netif_set_link(&f.nif, false);
	cr_assert_eq(link_calls, 1, "told of a repeat");
	duet_netif_set_link(&f.nif, true);
	cr_assert_eq(link_calls, 2);
	cr_assert(link_seen);
	const char *log = fakeplat_console();
	const char *down = strstr(log, "net0: link down");
	cr_assert(down != NULL && strstr(down, "net0: link up") != NULL, "%s", log);
	cr_assert_null(strstr(down + 1, "net0: link down"), "logged twice: %s", log);
	cr_assert(strstr(log, "info  net: net0: link down") != NULL, "%s", log);

	duet_netif_set_link_watcher(&f.nif, NULL, NULL);
	duet_netif_set_link(&f.nif, false);
	duet_netif_set_link(&f.nif, true);
	cr_assert_eq(link_calls, 2, "called after removal");
	cr_assert(duet_netif_link_up(&f.nif));
}

Test(netif, unregister_drops_the_link_watcher)
{
	static struct fake_nic f;

	duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500);
	duet_netif_set_link(&f.nif, false);
	duet_netif_set_link_watcher(&f.nif, on_link, NULL);
	duet_netif_unregister(&f.nif);
	link_calls = 0;
	duet_netif_set_link(&f.nif, true);
	cr_assert_eq(link_calls, 0);
	/* Registering again starts with the link up and no watcher. */
	cr_assert_eq(duet_netif_register(loop, &f.nif, "net0", &fake_nic_ops, mac0, 1500), 0);
	cr_assert(duet_netif_link_up(&f.nif));
	cr_assert_null(f.nif.link_cb);
}

/* ------------------------------------------------------------------- block */

/* A RAM disk that completes inside submit, or later when `async` is set. */
struct fake_disk {
	struct duet_block blk;
	unsigned char data[64 * 512];
	bool async;
	int fail;
	struct duet_block_req *held[8];
	unsigned nheld;
	unsigned submits;
	enum duet_block_op ops[8]; /* the first ops the driver saw */
};

static void fake_disk_do(struct fake_disk *d, struct duet_block_req *req)
{
	size_t off = req->sector * 512, len = req->count * 512;

	if (req->op == DUET_BLOCK_READ)
		memcpy(req->buf, d->data + off, len);
	else if (req->op == DUET_BLOCK_WRITE ||
		 req->op == DUET_BLOCK_WRITE_FUA)
		memcpy(d->data + off, req->buf, len);
}

static int fake_disk_submit(struct duet_block *blk, struct duet_block_req *req)
{
	struct fake_disk *d = duet_container_of(blk, struct fake_disk, blk);

	if (d->submits < 8)
		d->ops[d->submits] = req->op;
	d->submits++;
	if (d->fail)
		return d->fail;
	if (d->async) {
		d->held[d->nheld++] = req;
		return 0;
	}
	fake_disk_do(d, req);
	duet_block_complete(req, 0);
	return 0;
}

static const struct duet_block_ops fake_disk_ops = {.submit = fake_disk_submit};

static const struct duet_block_info disk_info = {
	.sector_size = 512, .sector_count = 64, .volatile_cache = true};

static int cb_status[16];
static unsigned ncb;
static bool in_submit;

static void on_done(struct duet_block_req *req, int status, void *arg)
{
	(void)req;
	cr_assert(!in_submit, "completion ran inside the submit call");
	cb_status[ncb++] = status;
	if (arg != NULL)
		duet_loop_stop(loop, 0);
}

Test(block, register_validates_geometry)
{
	static struct fake_disk d;
	struct duet_block_info bad = disk_info;

	bad.sector_size = 1000;
	cr_assert_eq(duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &bad), -EINVAL);
	bad.sector_size = 256;
	cr_assert_eq(duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &bad), -EINVAL);
	cr_assert_eq(duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info), 0);
}

/* The preferred I/O size: the driver's, in whole sectors, or the default. */
Test(block, io_size_is_whole_sectors_with_a_default)
{
	static struct fake_disk a, b, c;
	struct duet_block_info info = disk_info, got;

	cr_assert_eq(duet_block_register(loop, &a.blk, "disk0", &fake_disk_ops, &info), 0);
	duet_block_get_info(&a.blk, &got);
	cr_assert_eq(got.io_size, DUET_BLOCK_IO_SIZE_DEFAULT);
	info.io_size = 45056 + 100; /* 11 pages and a bit */
	cr_assert_eq(duet_block_register(loop, &b.blk, "disk1", &fake_disk_ops, &info), 0);
	duet_block_get_info(&b.blk, &got);
	cr_assert_eq(got.io_size, 45056);
	info.io_size = 100; /* less than a sector */
	cr_assert_eq(duet_block_register(loop, &c.blk, "disk2", &fake_disk_ops, &info), 0);
	duet_block_get_info(&c.blk, &got);
	cr_assert_eq(got.io_size, 512);
}

Test(block, synchronous_driver_completion_is_delivered_later_exactly_once)
{
	static struct fake_disk d;
	struct duet_block_req w, r;
	unsigned char out[1024], in[1024];

	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	memset(out, 0x5a, sizeof(out));
	ncb = 0;
	in_submit = true;
	cr_assert_eq(duet_block_write(&d.blk, &w, 3, out, 2, on_done, NULL), 0);
	cr_assert_eq(duet_block_read(&d.blk, &r, 3, in, 2, on_done, loop), 0);
	in_submit = false;
	cr_assert_eq(ncb, 0);
	cr_assert_eq(duet_block_in_flight(&d.blk), 2);
	duet_loop_run(loop);
	cr_assert_eq(ncb, 2);
	cr_assert_eq(cb_status[0], 0);
	cr_assert_arr_eq(in, out, sizeof(in));
	cr_assert_eq(duet_block_in_flight(&d.blk), 0);
}

Test(block, range_readonly_and_arguments_checked_before_the_driver)
{
	static struct fake_disk d;
	struct duet_block_req req;
	unsigned char buf[512];
	struct duet_block_info ro = disk_info;

	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	cr_assert_eq(duet_block_read(&d.blk, &req, 64, buf, 1, on_done, NULL), -ERANGE);
	cr_assert_eq(duet_block_read(&d.blk, &req, 63, buf, 2, on_done, NULL), -ERANGE);
	cr_assert_eq(duet_block_read(&d.blk, &req, 1, buf, UINT64_MAX, on_done, NULL), -ERANGE);
	cr_assert_eq(duet_block_read(&d.blk, &req, 0, buf, 0, on_done, NULL), -EINVAL);
	cr_assert_eq(duet_block_read(&d.blk, &req, 0, NULL, 1, on_done, NULL), -EINVAL);
	cr_assert_eq(d.submits, 0);

	static struct fake_disk r;
	ro.read_only = true;
	duet_block_register(loop, &r.blk, "disk1", &fake_disk_ops, &ro);
	cr_assert_eq(duet_block_write(&r.blk, &req, 0, buf, 1, on_done, NULL), -EROFS);
	cr_assert_eq(r.submits, 0);
	cr_assert_eq(duet_block_in_flight(&r.blk), 0);
}

Test(block, driver_error_at_submit_means_no_callback)
{
	static struct fake_disk d;
	struct duet_block_req req;
	unsigned char buf[512];

	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	d.fail = -EIO;
	ncb = 0;
	cr_assert_eq(duet_block_read(&d.blk, &req, 0, buf, 1, on_done, NULL), -EIO);
	cr_assert_eq(duet_block_in_flight(&d.blk), 0);
	cr_assert_eq(ncb, 0);
}

Test(block, async_completions_in_any_order_with_errors)
{
	static struct fake_disk d;
	struct duet_block_req a, b;
	unsigned char buf[1024];

	d.async = true;
	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	ncb = 0;
	duet_block_read(&d.blk, &a, 0, buf, 1, on_done, NULL);
	duet_block_read(&d.blk, &b, 1, buf + 512, 1, on_done, NULL);
	duet_block_complete(d.held[1], -EIO);
	duet_block_complete(d.held[0], 0);
	cr_assert_eq(ncb, 2);
	cr_assert_eq(cb_status[0], -EIO);
	cr_assert_eq(cb_status[1], 0);
}

Test(block, flush_on_a_device_without_volatile_cache_completes_without_the_driver)
{
	static struct fake_disk d;
	struct duet_block_req f;
	struct duet_block_info info = disk_info;

	info.volatile_cache = false;
	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &info);
	ncb = 0;
	cr_assert_eq(duet_block_flush(&d.blk, &f, on_done, loop), 0);
	duet_loop_run(loop);
	cr_assert_eq(ncb, 1);
	cr_assert_eq(d.submits, 0);
}

/* Without a native FUA the core writes, and flushes only once the write
 * has completed; the caller sees one request, back as WRITE_FUA. */
Test(block, durable_write_is_a_write_then_a_flush_without_native_fua)
{
	static struct fake_disk d;
	struct duet_block_req w;
	unsigned char buf[512] = {0x42};

	d.async = true;
	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	ncb = 0;
	cr_assert_eq(duet_block_write_fua(&d.blk, &w, 7, buf, 1, on_done, NULL), 0);
	cr_assert_eq(d.submits, 1);
	cr_assert_eq(d.ops[0], DUET_BLOCK_WRITE);
	fake_disk_do(&d, d.held[0]);
	duet_block_complete(d.held[0], 0);
	cr_assert_eq(ncb, 0, "acknowledged before the flush");
	cr_assert_eq(d.submits, 2);
	cr_assert_eq(d.ops[1], DUET_BLOCK_FLUSH);
	cr_assert_eq(duet_block_in_flight(&d.blk), 1);
	duet_block_complete(d.held[1], 0);
	cr_assert_eq(ncb, 1);
	cr_assert_eq(cb_status[0], 0);
	cr_assert_eq(w.op, DUET_BLOCK_WRITE_FUA);
	cr_assert_eq(d.data[7 * 512], 0x42);
	cr_assert_eq(duet_block_in_flight(&d.blk), 0);
}

/* The write's error is the request's, and no flush goes out; a flush's
 * error is the request's too. */
Test(block, durable_write_reports_the_first_error_of_its_halves)
{
	static struct fake_disk d;
	struct duet_block_req a, b;
	unsigned char buf[512] = {0};

	d.async = true;
	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	ncb = 0;
	duet_block_write_fua(&d.blk, &a, 0, buf, 1, on_done, NULL);
	duet_block_complete(d.held[0], -EIO);
	cr_assert_eq(ncb, 1);
	cr_assert_eq(cb_status[0], -EIO);
	cr_assert_eq(d.submits, 1, "flushed after a failed write");
	duet_block_write_fua(&d.blk, &b, 0, buf, 1, on_done, NULL);
	duet_block_complete(d.held[1], 0);
	duet_block_complete(d.held[2], -ENOSPC);
	cr_assert_eq(ncb, 2);
	cr_assert_eq(cb_status[1], -ENOSPC);
	cr_assert_eq(duet_block_in_flight(&d.blk), 0);
}

/* A driver that completes inside submit: both halves still reach it and
 * the one callback still comes from the loop. */
Test(block, durable_write_on_a_synchronous_driver_completes_from_the_loop)
{
	static struct fake_disk d;
	struct duet_block_req w;
	unsigned char buf[512] = {1};

	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	ncb = 0;
	in_submit = true;
	cr_assert_eq(duet_block_write_fua(&d.blk, &w, 1, buf, 1, on_done, loop), 0);
	in_submit = false;
	cr_assert_eq(ncb, 0);
	duet_loop_run(loop);
	cr_assert_eq(ncb, 1);
	cr_assert_eq(d.submits, 2);
	cr_assert_eq(d.ops[1], DUET_BLOCK_FLUSH);
}

/* A driver with native FUA gets it as one request; without a volatile
 * cache it is a plain write; a read-only disk refuses it. */
Test(block, durable_write_native_plain_or_refused)
{
	static struct fake_disk n, p, r;
	struct duet_block_info info = disk_info;
	struct duet_block_req a, b, c;
	unsigned char buf[512] = {0};

	info.fua = true;
	duet_block_register(loop, &n.blk, "disk0", &fake_disk_ops, &info);
	info.fua = false;
	info.volatile_cache = false;
	duet_block_register(loop, &p.blk, "disk1", &fake_disk_ops, &info);
	info.read_only = true;
	duet_block_register(loop, &r.blk, "disk2", &fake_disk_ops, &info);
	ncb = 0;
	duet_block_write_fua(&n.blk, &a, 0, buf, 1, on_done, NULL);
	duet_block_write_fua(&p.blk, &b, 0, buf, 1, on_done, loop);
	cr_assert_eq(duet_block_write_fua(&r.blk, &c, 0, buf, 1, on_done, NULL),
		     -EROFS);
	duet_loop_run(loop);
	cr_assert_eq(ncb, 2);
	cr_assert_eq(n.submits, 1);
	cr_assert_eq(n.ops[0], DUET_BLOCK_WRITE_FUA);
	cr_assert_eq(p.submits, 1);
	cr_assert_eq(p.ops[0], DUET_BLOCK_WRITE);
	cr_assert_eq(b.op, DUET_BLOCK_WRITE_FUA);
	cr_assert_eq(r.submits, 0);
}

Test(block, unregister_delivers_owed_completions_and_refuses_new_requests)
{
	static struct fake_disk d;
	struct duet_block_req w, r;
	unsigned char buf[512] = {0};
	struct duet_block *found;

	duet_block_register(loop, &d.blk, "disk0", &fake_disk_ops, &disk_info);
	ncb = 0;
	duet_block_write(&d.blk, &w, 0, buf, 1, on_done, NULL);
	duet_block_unregister(&d.blk);
	cr_assert_eq(ncb, 1);
	cr_assert_eq(duet_block_read(&d.blk, &r, 0, buf, 1, on_done, NULL), -ENODEV);
	cr_assert_eq(duet_block_open(loop, "disk0", &found), -ENODEV);
}
