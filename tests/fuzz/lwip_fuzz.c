/* lwIP's input path as Duet builds it (net/lwip/): Ethernet frames into
 * two netifs, net0 with static IPv4 and IPv6 addresses (and SLAAC) and
 * net1 a DHCP client, carrying a TCP listener on port 80 that echoes and
 * a UDP endpoint on port 53 that answers, so that Ethernet, ARP, IPv4
 * and its reassembly, IPv6 and its fragments, ICMP, ICMPv6 (ND, MLD),
 * DHCP, UDP and TCP parsing are all reached. Time passes between frames,
 * so retransmissions, timeouts and lease renewals run too.
 *
 * Input: actions, each an op byte and its operands: a frame (bit 0: which
 * netif, bit 1: fix its IPv4/IPv6, TCP, UDP and ICMP checksums after the
 * mutation, so that what is behind them is reached), or time passing. */
#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/net.h>
#include <duet/netif_driver.h>
#include <duet/sys.h>

#include "fuzz.h"
#include "lwip_stack.h"

#define FRAME_MAX 1536

static struct duet_sys sys;
static struct duet_loop *const loop = &sys.loop;
static struct duet_netif nifs[2];
static uint64_t transmitted;

static int transmit(struct duet_netif *nif, const struct duet_iovec *iov,
		    unsigned iovcnt, size_t len)
{
	static uint8_t copy[FRAME_MAX + 64];
	size_t off = 0;
	(void)nif;

	FUZZ_CHECK(len <= sizeof(copy));
	for (unsigned i = 0; i < iovcnt; i++) {
		FUZZ_CHECK(off + iov[i].len <= len);
		memcpy(copy + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	FUZZ_CHECK(off == len && len >= 14);
	transmitted++;
	return 0;
}

static const struct duet_netif_ops nif_ops = {.transmit = transmit};

/* ---------------------------------------------------------- the apps */

static void echo_recv(struct duet_tcp *c, const void *data, size_t len,
		      void *arg)
{
	(void)arg;
	if (len == 0) {
		duet_tcp_close(c);
		return;
	}
	if (len > 0 && ((const uint8_t *)data)[0] == 'Q') {
		duet_tcp_abort(c);
		return;
	}
	(void)duet_tcp_send(c, data, len);
}

static void echo_error(struct duet_tcp *c, int err, void *arg)
{
	(void)arg;
	(void)err;
	duet_tcp_close(c);
}

static const struct duet_tcp_callbacks echo_cbs = {
    .recv = echo_recv,
    .error = echo_error,
};

static void on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	(void)l;
	(void)arg;
	duet_tcp_set_callbacks(c, &echo_cbs, NULL);
}

static void on_datagram(struct duet_udp *u, const void *data, size_t len,
			const struct duet_sockaddr *from, void *arg)
{
	(void)arg;
	(void)duet_udp_send(u, from, data, len);
}

/* ----------------------------------------------------------- checksums */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The checksum field of a transport header at t (len bytes), over it and
 * the pseudo-header sum `pseudo`. */
static void seal_transport(uint8_t proto, uint8_t *t, size_t len,
			   uint32_t pseudo, bool v6)
{
	size_t at;

	switch (proto) {
	case 6: at = 16; break;
	case 17: at = 6; break;
	case 1:
		at = 2;
		pseudo = 0;
		break; /* ICMPv4: no pseudo-header */
	case 58: at = v6 ? 2 : 0; break;
	default: return;
	}
	if (at == 0 || len < at + 2)
		return;
	t[at] = t[at + 1] = 0;
	uint16_t c = fold(sum16(pseudo, t, len));
	if (proto == 17 && c == 0)
		c = 0xffff;
	t[at] = (uint8_t)(c >> 8);
	t[at + 1] = (uint8_t)c;
}

static void seal(uint8_t *f, size_t len)
{
	if (len < 14)
		return;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	uint8_t *ip = f + 14;
	size_t n = len - 14;
	if (type == 0x0800 && n >= 20) {
		size_t hl = (size_t)(ip[0] & 15) * 4;
		size_t tot = (size_t)(ip[2] << 8 | ip[3]);
		if (hl < 20 || hl > n)
			return;
		ip[10] = ip[11] = 0;
		uint16_t c = fold(sum16(0, ip, hl));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		if (tot > n || tot < hl || (ip[6] & 0x3f) || ip[7])
			return; /* fragments: only the header */
		size_t tl = tot - hl;
		uint32_t ps = sum16(0, ip + 12, 8) + ip[9] + (uint32_t)tl;
		seal_transport(ip[9], ip + hl, tl, ps, false);
	} else if (type == 0x86dd && n >= 40) {
		size_t pl = (size_t)(ip[4] << 8 | ip[5]);
		if (pl > n - 40)
			return;
		uint32_t ps = sum16(0, ip + 8, 32) + (uint32_t)pl + ip[6];
		seal_transport(ip[6], ip + 40, pl, ps, true);
	}
}

/* ------------------------------------------------------------- driver */

static struct duet_stack *make_stack(const char *line)
{
	static struct duet_args args[2]; /* the config points into them */
	static unsigned i;
	struct duet_args *a = &args[i++ % 2];
	struct duet_lwip_config cfg;
	struct duet_netif *dev;
	struct duet_stack *s;
	const char *netif;
	char err[128];

	duet_args_init(a);
	FUZZ_CHECK(duet_args_parse_line(a, line, err, sizeof(err)) == 0);
	/* net= names the netif, as the core's choice does (net_stack.h). */
	FUZZ_CHECK(duet_args_get_str(a, "net", "net0", &netif) == 0);
	FUZZ_CHECK(duet__lwip_config_from_args(a, &cfg) == 0);
	FUZZ_CHECK(duet_netif_open(loop, netif, &dev) == 0);
	FUZZ_CHECK(duet__lwip_stack_create(loop, dev, &cfg, &s) == 0);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_in in = {data, size};
	struct duet_sockaddr any4, any6, dns4;
	struct duet_tcp *l4, *l6;
	struct duet_udp *u;
	static uint8_t frame[FRAME_MAX];

	if (!ready) {
		fakeplat_reset();
		duet_log_set_level(DUET_LOG_WARN);
		duet_sys_init(&sys, NULL);
		for (unsigned i = 0; i < 2; i++) {
			uint8_t mac[DUET_ETH_ALEN] = {2, 0, 0,
						      0, 0, (uint8_t)(i + 1)};
			FUZZ_CHECK(duet_netif_register(
				       loop, &nifs[i], i ? "net1" : "net0",
				       &nif_ops, mac, 1500) == 0);
		}
		ready = true;
	}
	/* The clock only goes forward: lwIP's timers see one long run. */
	struct duet_stack *s0 =
	    make_stack("net=net0 ip=10.0.0.1/24 gw=10.0.0.254 "
		       "ip6=fd00::1/64 slaac=yes");
	struct duet_stack *s1 = make_stack("net=net1 ip=dhcp slaac=no");
	FUZZ_CHECK(duet_sockaddr_parse("10.0.0.1:80", &any4) == 0);
	FUZZ_CHECK(duet_sockaddr_parse("[fd00::1]:80", &any6) == 0);
	FUZZ_CHECK(duet_sockaddr_parse("0.0.0.0:53", &dns4) == 0);
	FUZZ_CHECK(duet_tcp_listen(s0, &any4, 8, on_accept, NULL, &l4) == 0);
	FUZZ_CHECK(duet_tcp_listen(s0, &any6, 8, on_accept, NULL, &l6) == 0);
	FUZZ_CHECK(duet_udp_bind(s0, &dns4, on_datagram, NULL, &u) == 0);

	while (fuzz_more(&in)) {
		uint8_t op = fuzz_u8(&in);
		if (op & 0x80) {
			fuzz_run_for(loop, DUET_MSEC(10) * (op & 0x7f));
			continue;
		}
		size_t len = fuzz_u16(&in) % (FRAME_MAX + 1);
		if (len > in.left)
			len = in.left;
		memcpy(frame, in.p, len);
		in.p += len;
		in.left -= len;
		if (op & 2)
			seal(frame, len);
		duet_netif_deliver(&nifs[op & 1], frame, len);
		fuzz_run_for(loop, 0);
	}
	fuzz_run_for(loop, DUET_SEC(2));
	duet_tcp_close(l4);
	duet_tcp_close(l6);
	duet_udp_close(u);
	s1->ops->destroy(s1);
	s0->ops->destroy(s0);
	return 0;
}
