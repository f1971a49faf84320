/* A test app on a bare netif (no stack): moves raw frames so that the tap
 * and vwire drivers can be tested before and apart from any TCP/IP.
 *
 *   net=NAME     the netif (default net0)
 *   mode=MODE    reflect: send test frames (EtherType 0x88b5) back to
 *                their sender; ping: send `count` test frames one at a
 *                time, each to broadcast, and wait for each reflection
 *                (exit 0 once all came back, 1 after `timeout`); sink
 *   count=N      for ping (default 10)
 *   timeout=T    for ping (default 5s)
 *   ip=A.B.C.D   also answer ARP requests and ICMP echo requests for this
 *                IPv4 address, so the host side can ping us
 *   crash_at=N   fail an assertion on the Nth test frame received: a crash
 *                that depends on the input, for the replay tests
 *
 * At shutdown it logs the netif's counters.
 */
#include <assert.h>
#include <string.h>

#include <duet/app.h>
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net.h>
#include <duet/netif.h>

#define ETH_TEST  0x88b5
#define ETH_ARP	  0x0806
#define ETH_IPV4  0x0800
#define FRAME_MIN 60

enum mode { MODE_SINK, MODE_REFLECT, MODE_PING };

static struct duet_netif *netif;
static uint8_t mac[DUET_ETH_ALEN];
static enum mode mode;
static long long count, seq, retransmits, crash_at, received;
static struct duet_ipaddr ip;
static bool have_ip;
static struct duet_loop *loop_;
static struct duet_timer resend, deadline;
static struct duet_stop_hook stop_hook;
static uint8_t tx[2048];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void send_frame(const void *frame, size_t len)
{
	struct duet_iovec iov = {.base = frame, .len = len};
	int r = duet_netif_transmit(netif, &iov, 1);

	if (r < 0)
		DUET_WARN("raw", "transmit: %s", duet_strerror(r));
}

static void send_ping(void)
{
	memset(tx, 0xff, DUET_ETH_ALEN);
	memcpy(tx + 6, mac, DUET_ETH_ALEN);
	put16(tx + 12, ETH_TEST);
	memset(tx + 14, 0, FRAME_MIN - 14);
	put16(tx + 14, (uint16_t)seq);
	send_frame(tx, FRAME_MIN);
	duet_timer_start(&resend, 200 * DUET_NSEC_PER_MSEC, 0);
}

static void on_resend(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	retransmits++;
	send_ping();
}

static void on_deadline(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	DUET_ERROR("raw", "timeout: %lld of %lld reflections", seq, count);
	duet_shutdown(loop_, DUET_EXIT_FAILURE);
}

/* Answers an ARP request or an ICMP echo request for our address. */
static void answer_ip(const uint8_t *f, size_t len)
{
	uint16_t type = get16(f + 12);

	if (type == ETH_ARP && len >= 42 && get16(f + 20) == 1 &&
	    memcmp(f + 38, ip.bytes, 4) == 0) {
		memcpy(tx, f + 6, 6);
		memcpy(tx + 6, mac, 6);
		memcpy(tx + 12, f + 12, 8);
		put16(tx + 20, 2);
		memcpy(tx + 22, mac, 6);
		memcpy(tx + 28, ip.bytes, 4);
		memcpy(tx + 32, f + 22, 10); /* the asker's MAC and IP */
		memset(tx + 42, 0, FRAME_MIN - 42);
		send_frame(tx, FRAME_MIN);
		return;
	}
	size_t ihl = len > 14 ? (size_t)(f[14] & 15) * 4 : 0;
	if (type != ETH_IPV4 || len < 14 + 20 || f[14] >> 4 != 4 || ihl < 20 ||
	    len < 14 + ihl + 8 || len > sizeof(tx) || f[23] != 1 ||
	    memcmp(f + 30, ip.bytes, 4) != 0 || f[14 + ihl] != 8)
		return;
	/* Swapping the addresses keeps the IP checksum; turning type 8 into
	 * 0 adds 0x0800 to the ICMP checksum (one's complement). */
	memcpy(tx, f, len);
	memcpy(tx, f + 6, 6);
	memcpy(tx + 6, mac, 6);
	memcpy(tx + 26, f + 30, 4);
	memcpy(tx + 30, f + 26, 4);
	uint8_t *icmp = tx + 14 + ihl;
	icmp[0] = 0;
	uint32_t sum = (uint32_t)get16(icmp + 2) + 0x0800;
	put16(icmp + 2, (uint16_t)(sum + (sum >> 16)));
	send_frame(tx, len);
}

static void on_frame(struct duet_netif *n, const void *frame, size_t len,
		     void *arg)
{
	const uint8_t *f = frame;
	(void)n;
	(void)arg;

	if (have_ip)
		answer_ip(f, len);
	if (get16(f + 12) != ETH_TEST || len < 16)
		return;
	received++;
	assert((crash_at == 0 || received < crash_at) && "crash_at= reached");
	if (mode == MODE_REFLECT) {
		memcpy(tx, f + 6, 6);
		memcpy(tx + 6, mac, 6);
		memcpy(tx + 12, f + 12, len - 12);
		send_frame(tx, len);
	} else if (mode == MODE_PING && memcmp(f, mac, 6) == 0 &&
		   get16(f + 14) == (uint16_t)seq && seq < count) {
		if (++seq < count) {
			send_ping();
			return;
		}
		duet_timer_stop(&resend);
		duet_timer_stop(&deadline);
		DUET_INFO("raw", "all %lld reflections back (%lld retransmits)",
			  count, retransmits);
		duet_shutdown(loop_, DUET_EXIT_SUCCESS);
	}
}

static void on_stop(struct duet_stop_hook *h, void *arg)
{
	struct duet_netif_stats s;
	(void)arg;

	duet_timer_stop(&resend);
	duet_timer_stop(&deadline);
	duet_netif_get_stats(netif, &s);
	DUET_INFO(
	    "raw",
	    "stats: rx %llu rx_errors %llu rx_dropped %llu tx %llu "
	    "tx_errors %llu tx_dropped %llu",
	    (unsigned long long)s.rx_packets, (unsigned long long)s.rx_errors,
	    (unsigned long long)s.rx_dropped, (unsigned long long)s.tx_packets,
	    (unsigned long long)s.tx_errors, (unsigned long long)s.tx_dropped);
	duet_netif_set_receiver(netif, NULL, NULL);
	duet_stop_done(h);
}

static int raw_start(struct duet_loop *loop, void *arg)
{
	struct duet_args *args = duet_loop_args(loop);
	const char *name, *m, *ipstr;
	duet_time_t timeout;
	char buf[DUET_IPADDR_STRLEN];
	int r;
	(void)arg;

	loop_ = loop;
	if ((r = duet_args_get_str(args, "net", "net0", &name)) < 0 ||
	    (r = duet_args_get_str(args, "mode", "sink", &m)) < 0 ||
	    (r = duet_args_get_int(args, "count", 10, 1, 1000000, &count)) <
		0 ||
	    (r = duet_args_get_duration(args, "timeout", 5 * DUET_NSEC_PER_SEC,
					&timeout)) < 0 ||
	    (r = duet_args_get_str(args, "ip", NULL, &ipstr)) < 0 ||
	    (r = duet_args_get_int(args, "crash_at", 0, 0, 1000000, &crash_at)) < 0)
		return r;
	if (strcmp(m, "sink") == 0) {
		mode = MODE_SINK;
	} else if (strcmp(m, "reflect") == 0) {
		mode = MODE_REFLECT;
	} else if (strcmp(m, "ping") == 0) {
		mode = MODE_PING;
	} else {
		DUET_ERROR("raw", "mode=%s: expected sink, reflect or ping", m);
		return -EINVAL;
	}
	if (ipstr != NULL) {
		if (duet_ipaddr_parse(ipstr, &ip) < 0 ||
		    ip.family != DUET_AF_INET) {
			DUET_ERROR("raw", "ip=%s: expected an IPv4 address",
				   ipstr);
			return -EINVAL;
		}
		have_ip = true;
	}
	if ((r = duet_netif_open(loop, name, &netif)) < 0)
		return r;
	duet_netif_mac(netif, mac);
	if ((r = duet_netif_set_receiver(netif, on_frame, NULL)) < 0)
		return r;
	duet_on_stop(loop, &stop_hook, on_stop, NULL);
	DUET_INFO("raw", "%s: mode %s, mac %02x:%02x:%02x:%02x:%02x:%02x%s%s",
		  name, m, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		  have_ip ? ", answering for " : "",
		  have_ip ? duet_ipaddr_format(&ip, buf, sizeof(buf)) : "");
	duet_timer_init(loop, &resend, on_resend, NULL);
	duet_timer_init(loop, &deadline, on_deadline, NULL);
	if (mode == MODE_PING) {
		duet_timer_start(&deadline, timeout, 0);
		send_ping();
	}
	return 0;
}

DUET_APP(.name = "net_raw",
	 .summary = "raw frames on a netif, for the driver tests",
	 .args_help =
	     "  net=NAME mode=sink|reflect|ping count=N timeout=T ip=A.B.C.D "
	     "crash_at=N",
	 .start = raw_start);
