/* The lwIP stack's configuration, ARP, ICMP echo and UDP. */
#include <criterion/criterion.h>
#include <string.h>

#include <duet/args.h>
#include <duet/error.h>
#include <duet/net.h>

#include "lwip/etharp.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"

#include "fakeplat.h"
#include "lwip_testenv.h"

static int config(const char *line, struct duet_lwip_config *cfg)
{
	static struct duet_args args;
	char err[128];

	duet_args_init(&args);
	cr_assert_eq(duet_args_parse_line(&args, line, err, sizeof(err)), 0,
		     "%s", err);
	return duet__lwip_config_from_args(&args, cfg);
}

Test(lwip_config, defaults_are_dhcp_and_slaac)
{
	struct duet_lwip_config c;

	cr_assert_eq(config("", &c), 0);
	cr_assert(c.ip4_dhcp && !c.ip4_static);
	cr_assert(c.slaac);
	cr_assert_eq(c.ip6_count, 0);
}

Test(lwip_config, static_addresses)
{
	struct duet_lwip_config c;

	cr_assert_eq(config("ip=10.1.2.3/16 gw=10.1.0.1 "
			    "ip6=2001:db8::5/64,fd00::5 slaac=no",
			    &c),
		     0);
	cr_assert(c.ip4_static && !c.ip4_dhcp);
	cr_assert_eq(memcmp(c.ip4, "\x0a\x01\x02\x03", 4), 0);
	cr_assert_eq(c.ip4_prefix, 16);
	cr_assert(c.has_gw);
	cr_assert_eq(memcmp(c.gw, "\x0a\x01\x00\x01", 4), 0);
	cr_assert_eq(c.ip6_count, 2);
	cr_assert_eq(c.ip6[0][0], 0x20);
	cr_assert_eq(c.ip6[1][0], 0xfd);
	cr_assert(!c.slaac);
}

Test(lwip_config, bad_values_are_rejected)
{
	struct duet_lwip_config c;

	fakeplat_reset();
	cr_assert_eq(config("ip=10.0.0.2", &c), -EINVAL);
	cr_assert_eq(config("ip=10.0.0.2/33", &c), -EINVAL);
	cr_assert_eq(config("ip=10.0.0.256/24", &c), -EINVAL);
	cr_assert_eq(config("ip=fd00::1/64", &c), -EINVAL);
	cr_assert_eq(config("ip=dhcp gw=10.0.0.1", &c), -EINVAL);
	cr_assert_eq(config("ip=10.0.0.2/24 gw=fd00::1", &c), -EINVAL);
	cr_assert_eq(config("ip6=fd00::1/48", &c), -EINVAL);
	cr_assert_eq(config("ip6=10.0.0.1/64", &c), -EINVAL);
	cr_assert_eq(config("ip6=fd00::1,fd00::2,fd00::3", &c), -EINVAL);
	cr_assert_eq(config("slaac=maybe", &c), -EINVAL);
	cr_assert_eq(config("ip=none", &c), 0);
	cr_assert(!c.ip4_dhcp && !c.ip4_static);
	cr_assert(strstr(fakeplat_console(), "ip=10.0.0.2: give the prefix") !=
		      NULL,
		  "%s", fakeplat_console());
}

/* A loop booted with the boot line `line`, over a netpair (net0, net1) if
 * `netifs`. */
static struct netpair boot_pair;

static struct duet_loop *boot(const char *line, bool netifs)
{
	static struct duet_args args;
	static struct duet_sys sys;
	char err[128];

	fakeplat_reset();
	duet_args_init(&args);
	cr_assert_eq(duet_args_parse_line(&args, line, err, sizeof(err)), 0,
		     "%s", err);
	duet_sys_init(&sys, &args);
	if (netifs)
		cr_assert_eq(netpair_init(&boot_pair, &sys.loop, "net0", "net1"),
			     0);
	return &sys.loop;
}

/* Booting the stack the way an app does: duet_net_open() with the loop's
 * boot arguments. */
Test(lwip_boot, net_open_creates_lwip_from_boot_arguments)
{
	struct duet_loop *loop = boot(
	    "net=net1 ip=10.0.0.9/24 gw=10.0.0.254 ip6=fd00::9/64", true);
	struct duet_stack *s, *again;

	cr_assert_eq(duet_net_open(loop, &s), 0);
	cr_assert_str_eq(duet_net_stack_name(s), "lwip");
	cr_assert_not(duet_net_shares_host_addresses(s),
		      "lwIP has addresses of its own");
	cr_assert_eq(duet_net_open(loop, &again), 0);
	cr_assert_eq(s, again);
	cr_assert_null(duet_args_unused(duet_loop_args(loop), 0),
		       "a stack argument was not read");
	const char *log = fakeplat_console();
	cr_assert(strstr(log, "lwIP on net1 (02:00:00:00:00:02, mtu 1500): "
			      "IPv4 10.0.0.9/24 gw 10.0.0.254;") != NULL,
		  "%s", log);
	cr_assert(strstr(log, "IPv6 fd00::9/64") != NULL, "%s", log);
	cr_assert(strstr(log, "IPv6 fe80::") != NULL, "%s", log);
	s->ops->destroy(s);
}

/* net= that names neither a stack nor a netif is the user's mistake (exit
 * code 2); no netif at all, with nothing asked, is the system's (1). */
static int open_with(const char *line)
{
	struct duet_stack *s;

	return duet_net_open(boot(line, false), &s);
}

Test(lwip_boot, net_naming_nothing_is_a_usage_error)
{
	cr_assert_eq(open_with("net=net7 ip=10.0.0.9/24"), -EINVAL);
	cr_assert(strstr(fakeplat_console(), "net7") != NULL, "%s",
		  fakeplat_console());
}

Test(lwip_boot, missing_default_netif_fails_with_enodev)
{
	cr_assert_eq(open_with("ip=10.0.0.9/24"), -ENODEV);
	cr_assert(strstr(fakeplat_console(), "net0") != NULL, "%s",
		  fakeplat_console());
}

Test(lwip_boot, net_names_the_stack)
{
	struct duet_stack *s;

	cr_assert_eq(duet_net_open(boot("net=lwip ip=10.0.0.9/24", true), &s),
		     0);
	cr_assert_str_eq(duet_net_stack_name(s), "lwip");
	cr_assert(strstr(fakeplat_console(), "lwIP on net0") != NULL, "%s",
		  fakeplat_console());
	s->ops->destroy(s);
}

/* DHCP: with no server the stack still starts at once and asks. */
static unsigned dhcp_discovers;

static void count_dhcp(unsigned to, const uint8_t *f, size_t len, void *arg)
{
	(void)to;
	(void)arg;
	/* IPv4, UDP, from port 68 to 67. */
	if (len > 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00 &&
	    f[23] == 17 && f[34] == 0 && f[35] == 68 && f[36] == 0 &&
	    f[37] == 67)
		dhcp_discovers++;
}

Test(lwip_boot, dhcp_starts_without_blocking)
{
	lwip_env_setup_args("ip=dhcp", NULL);
	env.pair.tap = count_dhcp;
	cr_assert(env.a->has_ipv4);
	lwip_env_run_for(DUET_SEC(10));
	cr_assert_gt(dhcp_discovers, 0, "no DHCP discover sent");
	lwip_env_teardown();
}

TestSuite(lwip_net, .init = lwip_env_setup, .fini = lwip_env_teardown,
	  .timeout = 60);

/* ARP: a datagram to an unresolved neighbour waits for the reply. */
static unsigned udp_got;
static char udp_last[8192];
static size_t udp_last_len;
static struct duet_sockaddr udp_from;

static void on_datagram(struct duet_udp *u, const void *data, size_t len,
			const struct duet_sockaddr *from, void *arg)
{
	(void)arg;
	(void)u;
	udp_got++;
	cr_assert_leq(len, sizeof(udp_last));
	memcpy(udp_last, data, len);
	udp_last_len = len;
	udp_from = *from;
}

static bool got_datagrams(void *arg)
{
	return udp_got >= (unsigned)(uintptr_t)arg;
}

Test(lwip_net, arp_resolves_the_neighbour)
{
	struct duet_udp *ua, *ub;
	struct duet_sockaddr any = lwip_env_addr("0.0.0.0:0"),
			     b = lwip_env_addr("10.0.0.2:9");
	struct netif *na = &duet__lwip_stack(env.a)->netif;
	ip4_addr_t ipb;
	struct eth_addr *mac;
	const ip4_addr_t *found;

	IP4_ADDR(&ipb, 10, 0, 0, 2);
	cr_assert_lt(etharp_find_addr(na, &ipb, &mac, &found), 0,
		     "resolved before any traffic");
	cr_assert_eq(duet_udp_bind(env.b, &b, on_datagram, NULL, &ub), 0);
	cr_assert_eq(duet_udp_bind(env.a, &any, on_datagram, NULL, &ua), 0);
	cr_assert_eq(duet_udp_send(ua, &b, "hello", 5), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)1, DUET_SEC(5)));
	cr_assert_eq(udp_last_len, 5);
	cr_assert_eq(memcmp(udp_last, "hello", 5), 0);
	cr_assert_geq(env.pair.arp_frames, 2);
	cr_assert_geq(etharp_find_addr(na, &ipb, &mac, &found), 0,
		      "no ARP entry");
	cr_assert_eq(memcmp(mac->addr, "\x02\x00\x00\x00\x00\x02", 6), 0);
	duet_udp_close(ua);
	duet_udp_close(ub);
}

/* A minimal DHCP server on stack b: offers 10.0.0.50/24, router 10.0.0.2,
 * a one-hour lease, to whoever asks. */
static unsigned dhcp_acks;

static void dhcp_server(struct duet_udp *u, const void *data, size_t len,
			const struct duet_sockaddr *from, void *arg)
{
	const uint8_t *q = data;
	static uint8_t r[300];
	struct duet_sockaddr bcast = lwip_env_addr("255.255.255.255:68");
	uint8_t type = 0;

	(void)from;
	(void)arg;
	if (len < 240 || q[0] != 1)
		return;
	for (size_t i = 240; i + 1 < len && q[i] != 255;) {
		if (q[i] == 0) {
			i++;
			continue;
		}
		if (q[i] == 53 && q[i + 1] == 1 && i + 2 < len)
			type = q[i + 2];
		i += 2u + q[i + 1];
	}
	if (type != 1 && type != 3) /* DISCOVER, REQUEST */
		return;
	memset(r, 0, sizeof(r));
	r[0] = 2; /* BOOTREPLY */
	r[1] = 1;
	r[2] = 6;
	memcpy(r + 4, q + 4, 4);	       /* xid */
	memcpy(r + 16, "\x0a\x00\x00\x32", 4); /* yiaddr 10.0.0.50 */
	memcpy(r + 20, "\x0a\x00\x00\x02", 4); /* siaddr */
	memcpy(r + 28, q + 28, 16);	       /* chaddr */
	memcpy(r + 236, "\x63\x82\x53\x63", 4);
	const uint8_t opts[] = {53,  1,	   type == 1 ? 2 : 5, /* OFFER / ACK */
				54,  4,	   10,
				0,   0,	   2, /* server */
				51,  4,	   0,
				0,   0x0e, 0x10, /* 3600 s */
				1,   4,	   255,
				255, 255,  0,
				3,   4,	   10,
				0,   0,	   2,
				255};
	memcpy(r + 240, opts, sizeof(opts));
	if (type == 3)
		dhcp_acks++;
	cr_assert_eq(duet_udp_send(u, &bcast, r, 240 + sizeof(opts)), 0);
}

static bool dhcp_bound(void *arg)
{
	(void)arg;
	return !ip4_addr_isany(netif_ip4_addr(&duet__lwip_stack(env.a)->netif));
}

Test(lwip_boot, dhcp_lease_is_taken_and_logged)
{
	struct duet_udp *server;
	struct duet_sockaddr any67 = lwip_env_addr("0.0.0.0:67");

	lwip_env_setup_args("ip=dhcp slaac=no", "slaac=no");
	cr_assert_eq(duet_udp_bind(env.b, &any67, dhcp_server, NULL, &server),
		     0);
	cr_assert(lwip_env_run(dhcp_bound, NULL, DUET_SEC(30)));
	cr_assert_eq(dhcp_acks, 1);
	const char *log = fakeplat_console();
	cr_assert(
	    strstr(log,
		   "net0: IPv4 10.0.0.50/24 gw 10.0.0.2 (dhcp, lease 3600s)") !=
		NULL,
	    "%s", log);
	/* The leased address works: b reaches a on it. */
	struct duet_udp *ua, *ub;
	struct duet_sockaddr a9 = lwip_env_addr("10.0.0.50:9"),
			     any = lwip_env_addr("0.0.0.0:0");
	udp_got = 0;
	cr_assert_eq(duet_udp_bind(env.a, &a9, on_datagram, NULL, &ua), 0);
	cr_assert_eq(duet_udp_bind(env.b, &any, on_datagram, NULL, &ub), 0);
	cr_assert_eq(duet_udp_send(ub, &a9, "hi", 2), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)1, DUET_SEC(5)));
	duet_udp_close(ua);
	duet_udp_close(ub);
	duet_udp_close(server);
	lwip_env_teardown();
}

/* ICMP echo through lwIP's raw API: the other stack answers pings. */
static unsigned echo_replies;

static u8_t on_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr)
{
	struct icmp_echo_hdr h;
	u16_t hlen = IPH_HL_BYTES((struct ip_hdr *)p->payload);

	(void)arg;
	(void)pcb;
	(void)addr;
	if (pbuf_copy_partial(p, &h, sizeof(h), hlen) == sizeof(h) &&
	    h.type == ICMP_ER && h.id == PP_HTONS(0x4242)) {
		echo_replies++;
		pbuf_free(p);
		return 1;
	}
	return 0;
}

static bool got_reply(void *arg)
{
	(void)arg;
	return echo_replies > 0;
}

Test(lwip_net, ping_is_answered)
{
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	ip_addr_t to;

	cr_assert_not_null(pcb);
	raw_bind_netif(pcb, &duet__lwip_stack(env.a)->netif);
	raw_recv(pcb, on_icmp, NULL);
	struct pbuf *p =
	    pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + 32, PBUF_RAM);
	struct icmp_echo_hdr *h = p->payload;
	memset(h, 0, p->len);
	h->type = ICMP_ECHO;
	h->id = PP_HTONS(0x4242);
	h->seqno = PP_HTONS(1);
	h->chksum = inet_chksum(h, p->len);
	IP_ADDR4(&to, 10, 0, 0, 2);
	cr_assert_eq(raw_sendto(pcb, p, &to), ERR_OK);
	pbuf_free(p);
	duet__lwip_kick();
	cr_assert(lwip_env_run(got_reply, NULL, DUET_SEC(5)));
	raw_remove(pcb);
}

/* UDP echo, including a datagram larger than the MTU (fragmented on the
 * wire, reassembled into a pbuf chain, handed over whole). */
static struct duet_udp *echo_server;

static void echo(struct duet_udp *u, const void *data, size_t len,
		 const struct duet_sockaddr *from, void *arg)
{
	(void)arg;
	cr_assert_eq(duet_udp_send(u, from, data, len), 0);
}

static void udp_echo(const char *bind, const char *server,
		     const char *client_any)
{
	struct duet_udp *ua;
	struct duet_sockaddr s = lwip_env_addr(server),
			     any = lwip_env_addr(client_any);
	struct duet_sockaddr b = lwip_env_addr(bind);
	static char big[4000];

	cr_assert_eq(duet_udp_bind(env.b, &b, echo, NULL, &echo_server), 0);
	cr_assert_eq(duet_udp_bind(env.a, &any, on_datagram, NULL, &ua), 0);
	struct duet_sockaddr local;
	cr_assert_eq(duet_udp_local(ua, &local), 0);
	cr_assert_neq(local.port, 0, "no port chosen");

	cr_assert_eq(duet_udp_send(ua, &s, "ping", 4), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)1, DUET_SEC(5)));
	cr_assert_eq(udp_last_len, 4);
	cr_assert_eq(memcmp(udp_last, "ping", 4), 0);
	cr_assert(duet_ipaddr_equal(&udp_from.ip, &s.ip) &&
		  udp_from.port == s.port);

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)stream_byte(1, i);
	cr_assert_eq(duet_udp_send(ua, &s, big, sizeof(big)), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)2, DUET_SEC(5)));
	cr_assert_eq(udp_last_len, sizeof(big));
	cr_assert_eq(memcmp(udp_last, big, sizeof(big)), 0);
	duet_udp_close(ua);
	duet_udp_close(echo_server);
}

Test(lwip_net, udp_echo_ipv4)
{
	udp_echo("10.0.0.2:7", "10.0.0.2:7", "0.0.0.0:0");
}

/* A second stack on a netif the first one has: -EBUSY, and the failed
 * stack's cleanup leaves the first one's receiver and link watcher. */
Test(lwip_net, second_stack_on_a_taken_netif_is_refused_harmlessly)
{
	static struct duet_args args;
	struct duet_lwip_config cfg;
	struct duet_netif *dev;
	struct duet_stack *s;
	char err[128];

	duet_args_init(&args);
	cr_assert_eq(duet_args_parse_line(&args, "net=net1 ip=10.0.0.3/24",
					  err, sizeof(err)),
		     0);
	cr_assert_eq(duet__lwip_config_from_args(&args, &cfg), 0);
	cr_assert_eq(duet_netif_open(env.loop, "net1", &dev), 0);
	cr_assert_eq(duet__lwip_stack_create(env.loop, dev, &cfg, &s),
		     -EBUSY);
	cr_assert_not_null(dev->receive_cb, "the first stack lost its frames");
	cr_assert_not_null(dev->link_cb, "the first stack lost its link");
	udp_echo("10.0.0.2:7", "10.0.0.2:7", "0.0.0.0:0");
}

Test(lwip_net, udp_echo_ipv6)
{
	lwip_env_run_for(DUET_SEC(3)); /* duplicate address detection */
	udp_echo("[fd00::2]:7", "[fd00::2]:7", "[::]:0");
}

Test(lwip_net, udp_on_ipv6_any_takes_ipv4_too)
{
	udp_echo("[::]:7", "10.0.0.2:7", "0.0.0.0:0");
}

Test(lwip_net, udp_bind_twice_is_addrinuse)
{
	struct duet_udp *u1, *u2;
	struct duet_sockaddr s = lwip_env_addr("10.0.0.2:7");

	cr_assert_eq(duet_udp_bind(env.b, &s, on_datagram, NULL, &u1), 0);
	cr_assert_eq(duet_udp_bind(env.b, &s, on_datagram, NULL, &u2),
		     -EADDRINUSE);
	duet_udp_close(u1);
}

Test(lwip_net, slaac_link_local_ready_after_dad)
{
	lwip_env_run_for(DUET_SEC(5));
	const char *log = fakeplat_console();
	cr_assert(strstr(log, "net1: IPv6 fe80::") != NULL &&
		      strstr(log, "ready") != NULL,
		  "%s", log);
	cr_assert(strstr(log, "net1: IPv6 fd00::2/64 ready") != NULL, "%s",
		  log);
}

static void stop_loop(struct duet_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	duet_loop_stop(env.loop, 0);
}

Test(lwip_net, idle_stack_sleeps_until_lwips_next_timeout)
{
	struct duet_timer stop;

	lwip_env_run_for(DUET_SEC(3)); /* addresses settle */
	unsigned before = fakeplat_wait_count();
	duet_timer_init(env.loop, &stop, stop_loop, NULL);
	duet_timer_start(&stop, DUET_SEC(10), 0);
	duet_loop_run(env.loop);
	unsigned waits = fakeplat_wait_count() - before;
	cr_log_info("%u waits in 10 s idle", waits);
	/* lwIP's quickest cyclic timeout is MLD's 100 ms: no busy polling,
	 * and no sleeping through lwIP's timers either. */
	cr_assert_leq(waits, 10 * 10 + 20, "%u waits in 10 s idle", waits);
	cr_assert_geq(waits, 10, "%u waits in 10 s idle", waits);
}

/* The link goes away and comes back (a Xen backend restarting): lwIP's
 * netif follows the Duet netif, nothing leaves while it is down, and the
 * stack announces itself again when it returns. */
static unsigned frames_from_b, arp_from_b;

static void count_from_b(unsigned to, const uint8_t *f, size_t len, void *arg)
{
	(void)arg;
	(void)len;
	if (to != 0)
		return;
	frames_from_b++;
	if (f[12] == 0x08 && f[13] == 0x06)
		arp_from_b++;
}

static void echo_if_it_can(struct duet_udp *u, const void *data, size_t len,
			   const struct duet_sockaddr *from, void *arg)
{
	(void)arg;
	/* Fails while the link is down; that is what is being tested. */
	(void)duet_udp_send(u, from, data, len);
}

Test(lwip_net, link_down_stops_traffic_and_link_up_restores_it)
{
	struct duet_netif *dev_b = &env.pair.end[1].nif;
	struct netif *na = &duet__lwip_stack(env.a)->netif;
	struct netif *nb = &duet__lwip_stack(env.b)->netif;
	struct duet_udp *ua;
	struct duet_sockaddr s = lwip_env_addr("10.0.0.2:7"),
			     any = lwip_env_addr("0.0.0.0:0");
	struct duet_netif_stats st;

	cr_assert_eq(
	    duet_udp_bind(env.b, &s, echo_if_it_can, NULL, &echo_server), 0);
	cr_assert_eq(duet_udp_bind(env.a, &any, on_datagram, NULL, &ua), 0);
	cr_assert(netif_is_link_up(nb));
	cr_assert_eq(duet_udp_send(ua, &s, "one", 3), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)1, DUET_SEC(5)));

	duet_netif_set_link(dev_b, false);
	cr_assert(!netif_is_link_up(nb), "lwIP still thinks the link is up");
	cr_assert(netif_is_up(nb));
	cr_assert(netif_is_link_up(na));
	cr_assert(strstr(fakeplat_console(), "net1: link down") != NULL);
	env.pair.tap = count_from_b;
	cr_assert_eq(duet_udp_send(ua, &s, "two", 3), 0);
	lwip_env_run_for(DUET_SEC(10));
	cr_assert_eq(udp_got, 1, "an echo came back over a down link");
	cr_assert_eq(frames_from_b, 0, "%u frames left b with its link down",
		     frames_from_b);
	/* b heard "two" (the in-memory wire has no carrier to lose) and its
	 * answer was refused before the driver. */
	duet_netif_get_stats(dev_b, &st);
	cr_assert_gt(st.tx_errors, 0);

	duet_netif_set_link(dev_b, true);
	cr_assert(netif_is_link_up(nb));
	lwip_env_run_for(DUET_MSEC(10));
	cr_assert_gt(arp_from_b, 0, "no gratuitous ARP after the link came up");
	cr_assert_eq(duet_udp_send(ua, &s, "three", 5), 0);
	cr_assert(lwip_env_run(got_datagrams, (void *)2, DUET_SEC(5)));
	cr_assert_eq(udp_last_len, 5);
	cr_assert_eq(memcmp(udp_last, "three", 5), 0);
	duet_udp_close(ua);
	duet_udp_close(echo_server);
}

Test(lwip_boot, stack_starts_with_the_netifs_link_and_lets_go_of_it)
{
	struct duet_loop *loop = boot("net=net1 ip=10.0.0.9/24", true);
	struct netpair *pair = &boot_pair;
	struct duet_stack *s;

	duet_netif_set_link(&pair->end[1].nif, false);
	cr_assert_eq(duet_net_open(loop, &s), 0);
	struct netif *n = &duet__lwip_stack(s)->netif;
	cr_assert(netif_is_up(n));
	cr_assert(!netif_is_link_up(n), "started with the link up");
	duet_netif_set_link(&pair->end[1].nif, true);
	cr_assert(netif_is_link_up(n));
	s->ops->destroy(s);
	cr_assert_null(pair->end[1].nif.link_cb, "the stack left its watcher");
	/* Must not reach the freed stack (ASan would say so). */
	duet_netif_set_link(&pair->end[1].nif, false);
	netpair_fini(pair);
}

/* DHCP waits for the link, and asks again when it comes back. */
Test(lwip_boot, dhcp_asks_again_when_the_link_returns)
{
	lwip_env_setup_args("ip=dhcp", NULL);
	env.pair.tap = count_dhcp;
	lwip_env_run_for(DUET_SEC(1));
	cr_assert_gt(dhcp_discovers, 0, "no DHCP discover sent");
	duet_netif_set_link(&env.pair.end[0].nif, false);
	dhcp_discovers = 0;
	lwip_env_run_for(DUET_SEC(30));
	cr_assert_eq(dhcp_discovers, 0, "DHCP sent over a down link");
	duet_netif_set_link(&env.pair.end[0].nif, true);
	lwip_env_run_for(DUET_MSEC(100));
	cr_assert_gt(dhcp_discovers, 0, "no DHCP discover after link up");
	lwip_env_teardown();
}

/* A stack destroyed with a connection the app had closed still open in
 * lwIP (waiting for the peer's FIN): removing the netif aborts it, and
 * its reset goes out through that netif, leaving an ARP entry naming it
 * after the stack (and the netif in it) is freed. A new stack's timers
 * then used the freed netif (found by the fuzz target lwip). */
static struct duet_tcp *closing_conn;

static void close_on_accept(struct duet_tcp *l, struct duet_tcp *c, void *arg)
{
	(void)l;
	(void)arg;
	closing_conn = c;
	duet_tcp_close(c);
}

static void ignore_recv(struct duet_tcp *c, const void *data, size_t len,
			void *arg)
{
	(void)c;
	(void)data;
	(void)len;
	(void)arg;
}

static const struct duet_tcp_callbacks ignore_cbs = {.recv = ignore_recv};

static bool accepted_one(void *arg)
{
	(void)arg;
	return closing_conn != NULL;
}

Test(lwip_net, destroying_a_stack_leaves_lwip_nothing_of_its_netif)
{
	struct duet_sockaddr addr = lwip_env_addr("10.0.0.2:80");
	struct duet_tcp *l, *c;
	struct duet_lwip_config cfg;
	struct duet_netif *dev;

	cr_assert_eq(
	    duet_tcp_listen(env.b, &addr, 4, close_on_accept, NULL, &l), 0);
	cr_assert_eq(duet_tcp_connect(env.a, &addr, &ignore_cbs, NULL, &c), 0);
	cr_assert(lwip_env_run(accepted_one, NULL, DUET_SEC(5)));
	lwip_env_run_for(DUET_MSEC(100));
	duet_tcp_close(l);
	env.b->ops->destroy(env.b);
	cr_assert_eq(config("ip=10.0.0.2/24 slaac=no", &cfg), 0);
	cr_assert_eq(duet_netif_open(env.loop, "net1", &dev), 0);
	cr_assert_eq(duet__lwip_stack_create(env.loop, dev, &cfg, &env.b), 0);
	/* ARP's timer runs every second. */
	lwip_env_run_for(DUET_SEC(10));
	duet_tcp_abort(c);
}
