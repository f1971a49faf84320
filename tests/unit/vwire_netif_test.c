/* The vwire netif driver against a hub played by the test, on the real
 * libuv platform. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <duet/error.h>
#include <duet/loop.h>
#include <duet/netif_driver.h>
#include <duet/sys.h>

#include "../../platform-posix/posix.h"
#include "../../platform-posix/vwire.h"

static uv_loop_t uv;
static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static char dir[64], path[96], spec[160], err[256];
static int hub = -1;
static struct sockaddr_un endpoint;
static socklen_t endpoint_len;

static void hub_open(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 3};

	strcpy(a.sun_path, path);
	hub = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_geq(hub, 0);
	cr_assert_eq(bind(hub, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(hub, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void hub_close(void)
{
	close(hub);
	unlink(path);
	hub = -1;
}

/* One datagram from the endpoint (its address is remembered). */
static ssize_t hub_recv(void *buf, size_t size)
{
	endpoint_len = sizeof(endpoint);
	return recvfrom(hub, buf, size, 0, (struct sockaddr *)&endpoint,
			&endpoint_len);
}

static void hub_send(const void *buf, size_t len)
{
	cr_assert_eq(sendto(hub, buf, len, 0, (struct sockaddr *)&endpoint,
			    endpoint_len),
		     (ssize_t)len);
}

static void setup(void)
{
	cr_assert_eq(uv_loop_init(&uv), 0);
	duet__posix_plat_init(&uv);
	duet_sys_init(&sys, NULL);
	strcpy(dir, "/tmp/duet-vwire-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hub", dir);
	snprintf(spec, sizeof(spec), "%s,mac=02:00:00:00:00:0a", path);
	hub_open();
}

static void teardown(void)
{
	duet__posix_devices_close(loop);
	duet__posix_plat_close();
	uv_run(&uv, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&uv), 0, "libuv handles left open");
	if (hub >= 0)
		hub_close();
	rmdir(dir);
}

TestSuite(vwire, .init = setup, .fini = teardown);

static struct duet_netif *attach(void)
{
	struct duet_netif *n;
	char hello[32];

	cr_assert_eq(duet__posix_netif_vwire_create(loop, "net0", spec, err,
						    sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(duet_netif_open(loop, "net0", &n), 0);
	cr_assert_eq(hub_recv(hello, sizeof(hello)), (ssize_t)VWIRE_HELLO_LEN);
	cr_assert_eq(memcmp(hello, VWIRE_HELLO, VWIRE_HELLO_LEN), 0);
	return n;
}

static size_t got_len;
static unsigned char got[2048];

static void on_frame(struct duet_netif *n, const void *f, size_t len, void *arg)
{
	(void)n;
	(void)arg;
	memcpy(got, f, len);
	got_len = len;
	duet_loop_stop(loop, 0);
}

static void stop_cb(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(loop, 0);
}

/* Runs the loop until a frame arrives or `ms` pass. */
static void run_for_ms(unsigned ms)
{
	struct duet_timer t;

	duet_timer_init(loop, &t, stop_cb, NULL);
	duet_timer_start(&t, ms * DUET_NSEC_PER_MSEC, 0);
	duet_loop_run(loop);
	duet_timer_stop(&t);
}

Test(vwire, no_hub_is_a_clear_error)
{
	char nohub[160];

	snprintf(nohub, sizeof(nohub), "%s/none", dir);
	cr_assert_lt(duet__posix_netif_vwire_create(loop, "net0", nohub, err,
						    sizeof(err)),
		     0);
	cr_assert_not_null(strstr(err, "no vwire hub there"), "%s", err);
	cr_assert_not_null(strstr(err, "vwire-hub"), "%s", err);
}

Test(vwire, options_set_mac_and_mtu)
{
	struct duet_netif *n = attach();
	uint8_t mac[6];

	duet_netif_mac(n, mac);
	cr_assert_eq(mac[5], 0x0a);
	cr_assert_eq(duet_netif_mtu(n), 1500);
	snprintf(spec, sizeof(spec), "%s,mtu=9000", path);
	cr_assert_eq(duet__posix_netif_vwire_create(loop, "net1", spec, err,
						    sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(duet_netif_open(loop, "net1", &n), 0);
	cr_assert_eq(duet_netif_mtu(n), 9000);
	duet_netif_mac(n, mac);
	cr_assert_eq(mac[0] & 3, 2, "random MACs are local and unicast");
	snprintf(spec, sizeof(spec), "%s,mtu=12", path);
	cr_assert_eq(duet__posix_netif_vwire_create(loop, "net2", spec, err,
						    sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "bad mtu"), "%s", err);
}

Test(vwire, transmit_sends_one_datagram)
{
	struct duet_netif *n = attach();
	unsigned char head[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2};
	unsigned char body[46], buf[128];
	struct duet_iovec iov[2] = {{head, sizeof(head)}, {body, sizeof(body)}};

	memset(body, 0xab, sizeof(body));
	cr_assert_eq(duet_netif_transmit(n, iov, 2), 0);
	cr_assert_eq(hub_recv(buf, sizeof(buf)), 60);
	cr_assert_eq(memcmp(buf, head, 14), 0);
	cr_assert_eq(buf[59], 0xab);
}

Test(vwire, datagrams_become_frames_and_bad_ones_errors)
{
	struct duet_netif *n = attach();
	unsigned char frame[3000];
	struct duet_netif_stats s;

	cr_assert_eq(duet_netif_set_receiver(n, on_frame, NULL), 0);
	memset(frame, 0x11, sizeof(frame));
	hub_send(frame, 5);		/* a runt */
	hub_send(frame, sizeof(frame)); /* longer than MTU + 18 */
	hub_send(frame, 1500 + 18 + 1); /* one byte too long */
	frame[0] = 0x22;
	hub_send(frame, 1500 + 18); /* the largest frame */
	run_for_ms(2000);
	cr_assert_eq(got_len, 1518);
	cr_assert_eq(got[0], 0x22);
	duet_netif_get_stats(n, &s);
	cr_assert_eq(s.rx_errors, 3);
	cr_assert_eq(s.rx_packets, 1);
}

Test(vwire, hub_restart_is_survived)
{
	struct duet_netif *n = attach();
	unsigned char frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct duet_iovec iov = {frame, sizeof(frame)};
	char buf[64];

	hub_close();
	cr_assert_eq(duet_netif_transmit(n, &iov, 1), -ENETDOWN);
	cr_assert_eq(duet_netif_transmit(n, &iov, 1), -ENETDOWN);
	/* The keepalive notices and takes the link down for the stack. */
	run_for_ms(VWIRE_KEEPALIVE_MS + 300);
	cr_assert(!duet_netif_link_up(n), "link still up with no hub");
	hub_open();
	/* The keepalive reattaches within a second and says hello. */
	run_for_ms(VWIRE_KEEPALIVE_MS + 300);
	cr_assert_eq(hub_recv(buf, sizeof(buf)), (ssize_t)VWIRE_HELLO_LEN);
	cr_assert(duet_netif_link_up(n), "link not back up after reattaching");
	cr_assert_eq(duet_netif_transmit(n, &iov, 1), 0);
	cr_assert_eq(hub_recv(buf, sizeof(buf)), 60);
}

/* An endpoint nobody listens to still drains its socket, so it cannot
 * stall the hub's send buffer, which every endpoint shares. */
Test(vwire, frames_without_a_receiver_are_read_and_dropped)
{
	struct duet_netif *n = attach();
	unsigned char frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct duet_netif_stats s;

	for (int i = 0; i < 3; i++)
		hub_send(frame, sizeof(frame));
	run_for_ms(100);
	duet_netif_get_stats(n, &s);
	cr_assert_eq(s.rx_dropped, 3);
	cr_assert_eq(s.rx_packets, 0);
}
