/* The lwIP stack behind duet/net.h: configuration from boot arguments,
 * creation over a netif, address logging, and the ops table.
 *
 * Boot arguments (read when the stack is created, so the core does not
 * reject them as unknown):
 *   net=NAME          the netif (default net0)
 *   ip=A.B.C.D/N      static IPv4; ip=dhcp (the default) a DHCPv4 client;
 *                     ip=none no IPv4
 *   gw=A.B.C.D        IPv4 default gateway (with a static ip=)
 *   ip6=ADDR[/64],... up to two static IPv6 addresses
 *   slaac=yes|no      IPv6 stateless autoconfiguration (default yes)
 * IPv6 always has its link-local address. Addresses that come later (a
 * DHCP lease, SLAAC, the end of duplicate address detection) are logged
 * when they do; creation never waits for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/args.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>

#include "lwip/dhcp.h"
#include "lwip/netif.h"

#include "lwip_stack.h"
#include "tcp_conn.h"

#define TAG "net"

static int parse_prefixed(const char *key, const char *text, enum duet_af af,
			  uint8_t *bytes, unsigned *prefix, unsigned def_prefix)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	struct duet_ipaddr a;
	long long p = def_prefix;

	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (duet_ipaddr_parse(buf, &a) < 0 || a.family != af)
		goto bad;
	if (slash != NULL && (duet_parse_int(slash + 1, &p) < 0 || p < 0 ||
			      p > (af == DUET_AF_INET ? 32 : 128)))
		goto bad;
	if (af == DUET_AF_INET6 && p != 64) {
		duet_log(DUET_LOG_ERROR, TAG,
			 "%s=%s: lwIP configures IPv6 addresses as /64 only",
			 key, text);
		return -EINVAL;
	}
	memcpy(bytes, a.bytes, af == DUET_AF_INET ? 4 : 16);
	*prefix = (unsigned)p;
	return 0;
bad:
	duet_log(DUET_LOG_ERROR, TAG, "%s=%s: expected %s", key, text,
		 af == DUET_AF_INET ? "an IPv4 address/prefix (10.0.0.2/24)"
				    : "an IPv6 address/64 (2001:db8::2/64)");
	return -EINVAL;
}

int duet__lwip_config_from_args(struct duet_args *args,
				struct duet_lwip_config *cfg)
{
	const char *ip, *gw, *ip6;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (args == NULL) { /* a loop without boot arguments (tests) */
		cfg->ip4_dhcp = true;
		cfg->slaac = true;
		return 0;
	}
	if ((r = duet_args_get_str(args, "ip", "dhcp", &ip)) < 0 ||
	    (r = duet_args_get_str(args, "gw", NULL, &gw)) < 0 ||
	    (r = duet_args_get_str(args, "ip6", NULL, &ip6)) < 0 ||
	    (r = duet_args_get_bool(args, "slaac", true, &cfg->slaac)) < 0)
		return r;

	if (strcmp(ip, "dhcp") == 0) {
		cfg->ip4_dhcp = true;
	} else if (strcmp(ip, "none") != 0) {
		if (strchr(ip, '/') == NULL) {
			duet_log(DUET_LOG_ERROR, TAG,
				 "ip=%s: give the prefix length (ip=%s/24), "
				 "dhcp or none",
				 ip, ip);
			return -EINVAL;
		}
		r = parse_prefixed("ip", ip, DUET_AF_INET, cfg->ip4,
				   &cfg->ip4_prefix, 32);
		if (r < 0)
			return r;
		cfg->ip4_static = true;
	}
	if (gw != NULL) {
		struct duet_ipaddr a;
		if (!cfg->ip4_static) {
			duet_log(DUET_LOG_ERROR, TAG,
				 "gw=%s needs a static ip=", gw);
			return -EINVAL;
		}
		if (duet_ipaddr_parse(gw, &a) < 0 || a.family != DUET_AF_INET) {
			duet_log(DUET_LOG_ERROR, TAG,
				 "gw=%s: expected an IPv4 address", gw);
			return -EINVAL;
		}
		memcpy(cfg->gw, a.bytes, 4);
		cfg->has_gw = true;
	}
	while (ip6 != NULL && *ip6 != '\0') {
		const char *comma = strchr(ip6, ',');
		size_t n = comma != NULL ? (size_t)(comma - ip6) : strlen(ip6);
		char one[64];
		unsigned prefix;

		if (cfg->ip6_count == DUET_LWIP_MAX_IP6 || n >= sizeof(one)) {
			duet_log(
			    DUET_LOG_ERROR, TAG,
			    "ip6=: at most %d addresses of the form ADDR/64",
			    DUET_LWIP_MAX_IP6);
			return -EINVAL;
		}
		memcpy(one, ip6, n);
		one[n] = '\0';
		r = parse_prefixed("ip6", one, DUET_AF_INET6,
				   cfg->ip6[cfg->ip6_count], &prefix, 64);
		if (r < 0)
			return r;
		cfg->ip6_count++;
		ip6 = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}

/* ------------------------------------------------------------ boundary */

int duet__lwip_addr_from(const struct duet_lwip_stack *s,
			 const struct duet_ipaddr *a, ip_addr_t *out)
{
	if (a->family == DUET_AF_INET) {
		IP_ADDR4(out, a->bytes[0], a->bytes[1], a->bytes[2],
			 a->bytes[3]);
		return 0;
	}
	if (a->family != DUET_AF_INET6)
		return -EAFNOSUPPORT;
	ip_addr_set_zero_ip6(out);
	memcpy(ip_2_ip6(out)->addr, a->bytes, 16);
	/* Link-local addresses mean "on this stack's link". */
	ip6_addr_assign_zone(ip_2_ip6(out), IP6_UNICAST, &s->netif);
	return 0;
}

void duet__lwip_addr_to(const ip_addr_t *ip, struct duet_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (IP_IS_V4(ip)) {
		out->family = DUET_AF_INET;
		memcpy(out->bytes, &ip_2_ip4(ip)->addr, 4);
	} else {
		out->family = DUET_AF_INET6;
		memcpy(out->bytes, ip_2_ip6(ip)->addr, 16);
	}
}

int duet__lwip_errno(err_t err)
{
	switch (err) {
	case ERR_OK: return 0;
	case ERR_MEM: return -ENOMEM;
	case ERR_BUF: return -ENOBUFS;
	case ERR_TIMEOUT: return -ETIMEDOUT;
	case ERR_RTE: return -EHOSTUNREACH;
	case ERR_INPROGRESS: return -EINPROGRESS;
	case ERR_VAL: return -EINVAL;
	case ERR_WOULDBLOCK: return -EAGAIN;
	case ERR_USE: return -EADDRINUSE;
	case ERR_ALREADY: return -EALREADY;
	case ERR_ISCONN: return -EISCONN;
	case ERR_CONN: return -ENOTCONN;
	case ERR_IF: return -ENETDOWN;
	case ERR_ABRT: return -ECONNABORTED;
	case ERR_RST: return -ECONNRESET;
	case ERR_CLSD: return -ENOTCONN;
	case ERR_ARG: return -EINVAL;
	default: return -EIO;
	}
}

/* ------------------------------------------------------------- logging */

static void format_ip4(const ip4_addr_t *a, char *buf, size_t size)
{
	ip_addr_t ip;
	struct duet_ipaddr d;

	ip_addr_copy_from_ip4(ip, *a);
	duet__lwip_addr_to(&ip, &d);
	duet_ipaddr_format(&d, buf, size);
}

static void format_ip6(const ip6_addr_t *a, char *buf, size_t size)
{
	struct duet_ipaddr d = {.family = DUET_AF_INET6};

	memcpy(d.bytes, a->addr, 16);
	duet_ipaddr_format(&d, buf, size);
}

static void log_ip4(struct duet_lwip_stack *s, const char *how)
{
	char ip[DUET_IPADDR_STRLEN], gw[DUET_IPADDR_STRLEN];
	u32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&s->netif)));
	unsigned prefix = 0;

	while (prefix < 32 && (mask & (0x80000000u >> prefix)) != 0)
		prefix++;
	format_ip4(netif_ip4_addr(&s->netif), ip, sizeof(ip));
	format_ip4(netif_ip4_gw(&s->netif), gw, sizeof(gw));
	duet_log(DUET_LOG_INFO, TAG, "%s: IPv4 %s/%u gw %s (%s)",
		 duet_netif_name(s->dev), ip, prefix, gw, how);
}

void duet__lwip_netif_event(struct netif *n, netif_nsc_reason_t reason,
			    const netif_ext_callback_args_t *args)
{
	struct duet_lwip_stack *s = n->state;

	if (s == NULL || n != &s->netif)
		return;
	if ((reason & LWIP_NSC_IPV4_SETTINGS_CHANGED) != 0 && s->cfg.ip4_dhcp) {
		if (ip4_addr_isany(netif_ip4_addr(n))) {
			duet_log(DUET_LOG_WARN, TAG, "%s: DHCP lease lost",
				 duet_netif_name(s->dev));
			return;
		}
		struct dhcp *d = netif_dhcp_data(n);
		char how[48];
		snprintf(how, sizeof(how), "dhcp, lease %lus",
			 d != NULL ? (unsigned long)d->offered_t0_lease : 0ul);
		log_ip4(s, how);
	}
	if ((reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) != 0) {
		s8_t i = args->ipv6_addr_state_changed.addr_index;
		u8_t st = netif_ip6_addr_state(n, i);
		u8_t old = args->ipv6_addr_state_changed.old_state;
		char a[DUET_IPADDR_STRLEN];

		format_ip6(netif_ip6_addr(n, i), a, sizeof(a));
		if (ip6_addr_ispreferred(st) && !ip6_addr_ispreferred(old))
			duet_log(DUET_LOG_INFO, TAG, "%s: IPv6 %s/64 ready",
				 duet_netif_name(s->dev), a);
		else if (ip6_addr_isduplicated(st))
			duet_log(
			    DUET_LOG_WARN, TAG,
			    "%s: IPv6 %s is in use on the link (duplicate)",
			    duet_netif_name(s->dev), a);
	}
}

static void log_config(struct duet_lwip_stack *s)
{
	char line[DUET_LOG_LINE_MAX], a[DUET_IPADDR_STRLEN];
	size_t n = 0;
	const uint8_t *m = s->netif.hwaddr;

	n += (size_t)snprintf(
	    line + n, sizeof(line) - n,
	    "lwIP on %s (%02x:%02x:%02x:%02x:%02x:%02x, mtu %u):",
	    duet_netif_name(s->dev), m[0], m[1], m[2], m[3], m[4], m[5],
	    s->netif.mtu);
	if (s->cfg.ip4_static) {
		char gw[DUET_IPADDR_STRLEN];
		format_ip4(netif_ip4_addr(&s->netif), a, sizeof(a));
		format_ip4(netif_ip4_gw(&s->netif), gw, sizeof(gw));
		n += (size_t)snprintf(
		    line + n, sizeof(line) - n, " IPv4 %s/%u gw %s;", a,
		    s->cfg.ip4_prefix, s->cfg.has_gw ? gw : "none");
	} else {
		n += (size_t)snprintf(line + n, sizeof(line) - n, " IPv4 %s;",
				      s->cfg.ip4_dhcp ? "by DHCP" : "off");
	}
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && n < sizeof(line); i++) {
		if (ip6_addr_isinvalid(netif_ip6_addr_state(&s->netif, i)))
			continue;
		format_ip6(netif_ip6_addr(&s->netif, i), a, sizeof(a));
		n += (size_t)snprintf(line + n, sizeof(line) - n, " IPv6 %s/64",
				      a);
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s",
			 s->cfg.slaac ? " + SLAAC" : "");
	duet_log(DUET_LOG_INFO, TAG, "%s", line);
}

/* --------------------------------------------------------------- stack */

/* The allocations of duet__lwip_stack_create(), in one place for its
 * failures and for destroy(). */
static void free_stack(struct duet_lwip_stack *s)
{
	duet_cq_cancel(&s->tcp_events);
	free(s->udp_buf);
	free(s->tx_bounce);
	free(s);
}

static void destroy(struct duet_stack *base)
{
	struct duet_lwip_stack *s = duet__lwip_stack(base);

	/* A count, not a timer: tests read it (tests/posix/net_tap.sh). */
	duet_log(DUET_LOG_INFO, TAG, "%s: %llu retransmission timeouts",
		 duet_netif_name(s->dev), (unsigned long long)s->rtos);
	duet__lwip_tcp_destroy_all(s);
	duet__lwip_udp_destroy_all(s);
	if (s->netif_added && s->cfg.ip4_dhcp) {
		dhcp_stop(&s->netif);
		dhcp_cleanup(&s->netif);
	}
	duet__lwip_netif_remove(s);
	duet__lwip_port_detach();
	free_stack(s);
}

static const struct duet_stack_ops lwip_ops = {
    .tcp_listen = duet__lwip_tcp_listen,
    .tcp_connect = duet__lwip_tcp_connect,
    .tcp_send = duet__lwip_tcp_send,
    .tcp_send_space = duet__lwip_tcp_send_space,
    .tcp_send_queued = duet__lwip_tcp_send_queued,
    .tcp_shutdown = duet__lwip_tcp_shutdown,
    .tcp_pause = duet__lwip_tcp_pause,
    .tcp_resume = duet__lwip_tcp_resume,
    .tcp_close = duet__lwip_tcp_close,
    .tcp_abort = duet__lwip_tcp_abort,
    .tcp_local = duet__lwip_tcp_local,
    .tcp_peer = duet__lwip_tcp_peer,
    .tcp_nodelay = duet__lwip_tcp_nodelay,
    .udp_bind = duet__lwip_udp_bind,
    .udp_send = duet__lwip_udp_send,
    .udp_local = duet__lwip_udp_local,
    .udp_close = duet__lwip_udp_close,
    .destroy = destroy,
};

int duet__lwip_stack_create(struct duet_loop *loop, struct duet_netif *dev,
			    const struct duet_lwip_config *cfg,
			    struct duet_stack **out)
{
	struct duet_lwip_stack *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return -ENOMEM;
	s->base.ops = &lwip_ops;
	s->base.name = "lwip";
	s->base.loop = loop;
	s->base.has_ipv4 = cfg->ip4_static || cfg->ip4_dhcp;
	s->base.has_ipv6 = true;
	s->dev = dev;
	s->cfg = *cfg;
	duet_list_init(&s->tcps);
	duet_cq_init(loop, &s->tcp_events, duet__lwip_tcp_dispatch, s);
	duet_list_init(&s->udps);
	s->udp_buf = malloc(0xffff);
	s->tx_bounce = malloc((size_t)duet_netif_mtu(dev) + DUET_ETH_HLEN +
			      DUET_ETH_VLAN_HLEN);
	r = s->udp_buf == NULL || s->tx_bounce == NULL
		? -ENOMEM
		: duet__lwip_port_attach(loop);
	if (r < 0) {
		free_stack(s);
		return r;
	}
	r = duet__lwip_netif_add(s);
	if (r == 0 && cfg->ip4_dhcp)
		r = duet__lwip_errno(dhcp_start(&s->netif));
	if (r < 0) {
		duet_log(DUET_LOG_ERROR, TAG, "%s: cannot start lwIP: %s",
			 duet_netif_name(dev), duet_strerror(r));
		destroy(&s->base);
		return r;
	}
	log_config(s);
	duet__lwip_kick();
	*out = &s->base;
	return 0;
}

/* The provider the core makes lwIP through: over the netif it chose. */
static int create(struct duet_loop *loop, struct duet_netif *dev,
		  struct duet_stack **out)
{
	struct duet_lwip_config cfg;
	int r = duet__lwip_config_from_args(duet_loop_args(loop), &cfg);

	if (r < 0)
		return r;
	return duet__lwip_stack_create(loop, dev, &cfg, out);
}

static const struct duet_stack_provider provider = {
    .name = "lwip",
    .over_netif = true,
    .create = create,
};
DUET_STACK_PROVIDER(lwip, provider);
