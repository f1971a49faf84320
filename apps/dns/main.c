/* dns: an authoritative DNS server over UDP and TCP for the zones embedded
 * in the image (apps/dns/zones/NAME.zone), the app MirageOS's paper measured
 * against BIND and NSD. The zone text is parsed into a table at start; each
 * query is answered from that table into one fixed buffer (answer.h says
 * what it answers; tcp.h how TCP frames it), so serving allocates nothing.
 *
 *   port=N       UDP and TCP port (default 53)
 *   addr=IPS     addresses to serve on, comma-separated (default: 127.0.0.1
 *                and ::1 on the socket stack, which shares the host's
 *                addresses, so a development server stays private; :: on
 *                lwIP, which takes both families there)
 *   tcp=B        also serve DNS over TCP on the same addresses, for
 *                clients whose UDP answer was truncated (default on)
 *   tcp_conns=N  TCP connections at once (default 64); a newcomer to a full
 *                pool evicts the least-progressed one (duet/connpool.h)
 *   tcp_per_peer=N  TCP connections from one address (tcp_conns / 4)
 *   tcp_idle=T   close a TCP connection with no answer or no complete query
 *                this long after its accept, its last answer or its query's
 *                first byte (default 10s)
 *   query_log=B  one log line per UDP query (default off)
 */
#include <stdio.h>
#include <string.h>

#include <duet/duet.h>
#include <duet/net.h>

#include "answer.h"
#include "tcp.h"
#include "zone.h"
#include "zones.h"

#define MAX_ZONES 16
#define MAX_ADDRS 4

struct dns_app {
	struct dns_server server;
	struct dns_zone zones[MAX_ZONES];
	size_t nzones;
	struct duet_udp *udp[MAX_ADDRS];
	struct duet_sockaddr addr[MAX_ADDRS];
	size_t naddrs;
	bool query_log;
	bool tcp_on;
	struct dns_tcp tcp;
	uint64_t send_errors;
	struct duet_stop_hook stop;
	uint8_t response[DNS_RESPONSE_MAX];
};

static void on_query(struct duet_udp *u, const void *data, size_t len,
		     const struct duet_sockaddr *from, void *arg)
{
	struct dns_app *a = arg;
	size_t n = dns_answer(&a->server, DNS_UDP, data, len, a->response,
			      sizeof(a->response));

	if (a->query_log) {
		char who[DUET_SOCKADDR_STRLEN];
		DUET_INFO("dns", "%s: %zu bytes in, %s (rcode %u)",
			  duet_sockaddr_format(from, who, sizeof(who)), len,
			  n > 0 ? "answered" : "dropped",
			  n > 0 ? a->response[3] & 0xfu : 0u);
	}
	if (n > 0 && duet_udp_send(u, from, a->response, n) < 0)
		a->send_errors++;
}

static void free_zones(struct dns_app *a)
{
	for (size_t i = 0; i < a->nzones; i++)
		dns_zone_free(&a->zones[i]);
	a->nzones = 0;
}

static void dns_app_stop(struct duet_stop_hook *hook, void *arg)
{
	struct dns_app *a = arg;
	const struct dns_stats *st = &a->server.stats;

	for (size_t i = 0; i < a->naddrs; i++)
		duet_udp_close(a->udp[i]);
	if (a->tcp_on) {
		duet_connpool_log(&a->tcp.srv.pool, "dns: tcp");
		DUET_INFO("dns",
			  "tcp: %llu closed for bad framing or too much input, "
			  "at most %zu bytes of output held",
			  (unsigned long long)a->tcp.closed_bad,
			  a->tcp.out_peak);
		dns_tcp_stop(&a->tcp);
	}
	DUET_INFO(
	    "dns",
	    "stopping: %llu queries: %llu noerror (%llu nodata), %llu "
	    "nxdomain, %llu refused, %llu formerr, %llu notimp, %llu "
	    "badvers, %llu truncated; dropped %llu short, %llu "
	    "responses; %llu send errors",
	    (unsigned long long)st->queries, (unsigned long long)st->noerror,
	    (unsigned long long)st->nodata, (unsigned long long)st->nxdomain,
	    (unsigned long long)st->refused, (unsigned long long)st->formerr,
	    (unsigned long long)st->notimp, (unsigned long long)st->badvers,
	    (unsigned long long)st->truncated,
	    (unsigned long long)st->dropped_short,
	    (unsigned long long)st->dropped_response,
	    (unsigned long long)a->send_errors);
	free_zones(a);
	duet_stop_done(hook);
}

static int load_zones(struct dns_app *a)
{
	char err[256], origin[DNS_NAME_MAX + 1];

	if (dns_zone_file_count > MAX_ZONES) {
		DUET_ERROR("dns", "%zu zone files: at most %d",
			   dns_zone_file_count, MAX_ZONES);
		return -ENOSPC;
	}
	for (size_t i = 0; i < dns_zone_file_count; i++) {
		const struct dns_zone_file *f = &dns_zone_files[i];
		size_t n = strlen(f->name) - strlen(".zone");
		snprintf(origin, sizeof(origin), "%.*s", (int)n, f->name);
		int r = dns_zone_load(&a->zones[i], f->text, f->len, origin,
				      err, sizeof(err));
		if (r < 0) {
			DUET_ERROR("dns", "zone file %s: %s", f->name, err);
			return r;
		}
		a->nzones++;
		for (size_t j = 0; j < a->nzones - 1; j++)
			if (dns_name_cmp(a->zones[j].apex, a->zones[j].apexlen,
					 a->zones[i].apex,
					 a->zones[i].apexlen) == 0) {
				DUET_ERROR("dns",
					   "zone file %s: zone %s is "
					   "already loaded",
					   f->name, a->zones[i].apex_text);
				return -EINVAL;
			}
		DUET_INFO("dns", "zone %s: %zu records, %zu names (from %s)",
			  a->zones[i].apex_text, a->zones[i].nrrs,
			  a->zones[i].nnodes, f->name);
	}
	if (a->nzones == 0) {
		DUET_ERROR("dns", "no zones: add apps/dns/zones/NAME.zone");
		return -EINVAL;
	}
	a->server.zones = a->zones;
	a->server.nzones = a->nzones;
	return 0;
}

static int parse_addrs(struct dns_app *a, const char *list, uint16_t port)
{
	char err[160];
	int n = duet_sockaddr_list_parse(list, port, a->addr, MAX_ADDRS, err,
					 sizeof(err));

	if (n < 0) {
		DUET_ERROR("dns", "%s", err);
		return n;
	}
	a->naddrs = (size_t)n;
	return 0;
}

static int dns_app_start(struct duet_loop *loop, void *arg)
{
	static struct dns_app a;
	struct duet_args *args = duet_loop_args(loop);
	struct duet_stack *stack;
	const char *addrs;
	char where[DUET_SOCKADDR_STRLEN];
	long long port, tcp_conns, tcp_per_peer;
	duet_time_t tcp_idle;
	int r;
	(void)arg;

	if ((r = duet_args_get_int(args, "port", 53, 1, 65535, &port)) < 0 ||
	    (r = duet_args_get_str(args, "addr", NULL, &addrs)) < 0 ||
	    (r = duet_args_get_bool(args, "query_log", false, &a.query_log)) <
		0 ||
	    (r = duet_args_get_bool(args, "tcp", true, &a.tcp_on)) < 0 ||
	    (r = duet_args_get_int(args, "tcp_conns", 64, 1, 65536,
				   &tcp_conns)) < 0 ||
	    (r = duet_args_get_int(args, "tcp_per_peer",
				   tcp_conns / 4 > 0 ? tcp_conns / 4 : 1, 1,
				   65536, &tcp_per_peer)) < 0 ||
	    (r = duet_args_get_duration(args, "tcp_idle", DUET_SEC(10),
					&tcp_idle)) < 0)
		return r;
	if (tcp_idle == 0) {
		DUET_ERROR("dns", "tcp_idle=0: the timeout must be positive");
		return -EINVAL;
	}
	if ((r = duet_net_open(loop, &stack)) < 0)
		return r;
	bool defaulted = addrs == NULL;
	if (defaulted)
		addrs = duet_net_shares_host_addresses(stack) ? "127.0.0.1,::1"
							      : "::";
	if ((r = parse_addrs(&a, addrs, (uint16_t)port)) < 0)
		return r;
	if ((r = load_zones(&a)) < 0)
		goto fail;
	for (size_t i = 0; i < a.naddrs; i++) {
		r = duet_udp_bind(stack, &a.addr[i], on_query, &a, &a.udp[i]);
		if (r < 0 && defaulted && i > 0 &&
		    (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)) {
			/* A host without IPv6 still gets its IPv4 server. */
			DUET_WARN("dns", "no ::1 on this host (%s): IPv4 only",
				  duet_strerror(r));
			a.naddrs = i;
			break;
		}
		if (r < 0) {
			DUET_ERROR("dns", "cannot bind UDP %s: %s",
				   duet_sockaddr_format(&a.addr[i], where,
							sizeof(where)),
				   duet_strerror(r));
			while (i-- > 0)
				duet_udp_close(a.udp[i]);
			goto fail;
		}
	}
	struct duet_connpool_config pool = {
	    .max_conns = (unsigned)tcp_conns,
	    .max_per_peer = (unsigned)tcp_per_peer,
	    .idle_timeout = tcp_idle,
	    .request_timeout = tcp_idle,
	    .grace = DUET_CONNPOOL_GRACE,
	};
	if (a.tcp_on && (r = dns_tcp_start(&a.tcp, loop, stack, a.addr,
					   a.naddrs, &a.server, &pool)) < 0) {
		for (size_t i = 0; i < a.naddrs; i++)
			duet_udp_close(a.udp[i]);
		goto fail;
	}
	duet_on_stop(loop, &a.stop, dns_app_stop, &a);
	char list[MAX_ADDRS * (DUET_IPADDR_STRLEN + 1)] = "";
	for (size_t i = 0; i < a.naddrs; i++) {
		char ip[DUET_IPADDR_STRLEN];
		size_t n = strlen(list);
		snprintf(list + n, sizeof(list) - n, "%s%s", i ? "," : "",
			 duet_ipaddr_format(&a.addr[i].ip, ip, sizeof(ip)));
	}
	DUET_INFO("dns", "serving %zu zones on UDP%s %s port %lld (%s stack)",
		  a.nzones, a.tcp_on ? " and TCP" : "", list, port,
		  duet_net_stack_name(stack));
	return 0;

fail:
	free_zones(&a);
	return r;
}

DUET_APP(.name = "dns",
	 .summary =
	     "an authoritative DNS server (UDP, TCP) for the zones embedded "
	     "in the image",
	 .args_help =
	     "  port=N       UDP and TCP port (default 53)\n"
	     "  addr=IPS     comma-separated addresses (default 127.0.0.1,::1 "
	     "on the socket stack, :: on lwIP)\n"
	     "  tcp=B        also serve over TCP (default on)\n"
	     "  tcp_conns=N  TCP connections at once; a newcomer evicts the "
	     "least progressed (default 64)\n"
	     "  tcp_per_peer=N  TCP connections from one address (default "
	     "tcp_conns/4)\n"
	     "  tcp_idle=T   close TCP connections without an answer or a "
	     "whole query this long (default 10s)\n"
	     "  query_log=B  one log line per UDP query (default off)",
	 .start = dns_app_start);
