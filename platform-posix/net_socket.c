/* The socket stack: duet/net.h on the host kernel's TCP/IP through libuv
 * (`--net socket`, and the default when no netif is declared).
 *
 * Each connection owns a send queue: a ring of SOCK_SENDQ bytes, allocated
 * on first use. send first offers data to the kernel directly
 * (uv_try_write) and copies only what the kernel refuses into the ring;
 * one uv_write at a time drains it. `writable` is owed after a send that
 * did not take everything, and is paid once the ring drains to the
 * low-water mark. Received data arrives in one stack-wide buffer (the loop
 * is single-threaded, so one read is in progress at a time).
 *
 * A stack provider (duet/net_stack.h): only images whose app uses the
 * network link this file.
 */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/platform.h>

#include "net_socket.h"

void duet__sock_obj_init(struct sock_obj *o, struct sock_stack *st,
			 uv_handle_t *h, void *owner,
			 void (*force_close)(struct sock_obj *o))
{
	o->st = st;
	o->handle = h;
	o->force_close = force_close;
	h->data = owner;
	duet_list_insert_tail(&st->objects, &o->link);
}

/* libuv errors are negative errnos on Linux; a few read better as what
 * duet/net.h promises. */
int duet__sock_err(int uverr)
{
	switch (uverr) {
	case UV_EPIPE: return -ECONNRESET;
	case UV_EAGAIN: return -ENOBUFS;
	case UV_ENETUNREACH: return -EHOSTUNREACH;
	default: return duet__uv_err(uverr);
	}
}

/* A socket bound to "::" also talks IPv4, as IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d): `v4mapped` writes IPv4 addresses in that form. */
void duet__sock_to_addr(const struct duet_sockaddr *a, bool v4mapped,
			struct sockaddr_storage *ss)
{
	static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};

	memset(ss, 0, sizeof(*ss));
	if (a->ip.family == DUET_AF_INET && v4mapped) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, prefix, 12);
		memcpy((uint8_t *)&in6->sin6_addr + 12, a->ip.bytes, 4);
	} else if (a->ip.family == DUET_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip.bytes, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->ip.bytes, 16);
	}
}

/* IPv4-mapped addresses come back as the IPv4 addresses they are, as
 * lwIP reports them on its dual-stack "::". */
int duet__sock_from_addr(const struct sockaddr *sa, struct duet_sockaddr *out)
{
	static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->ip.family = DUET_AF_INET;
		out->port = ntohs(in->sin_port);
		memcpy(out->ip.bytes, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		const uint8_t *b = (const uint8_t *)&in6->sin6_addr;
		out->port = ntohs(in6->sin6_port);
		if (memcmp(b, prefix, 12) == 0) {
			out->ip.family = DUET_AF_INET;
			memcpy(out->ip.bytes, b + 12, 4);
		} else {
			out->ip.family = DUET_AF_INET6;
			memcpy(out->ip.bytes, b, 16);
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* ------------------------------------------------------------ the stack */

/* At shutdown: whatever the app left open is closed now; the handles
 * finish closing in main()'s last uv_run, which frees them. */
static void sock_destroy(struct duet_stack *s)
{
	struct sock_stack *st = duet__sock_stack_of(s);
	struct duet_list all;

	duet_list_move_all(&st->objects, &all);
	while (!duet_list_empty(&all)) {
		struct sock_obj *o =
		    duet_container_of(all.next, struct sock_obj, link);
		duet_list_unlink(&o->link);
		if (!uv_is_closing(o->handle))
			o->force_close(o);
	}
	free(st);
}

static const struct duet_stack_ops sock_ops = {
    .tcp_listen = duet__sock_tcp_listen,
    .tcp_connect = duet__sock_tcp_connect,
    .tcp_send = duet__sock_tcp_send,
    .tcp_send_space = duet__sock_tcp_send_space,
    .tcp_send_queued = duet__sock_tcp_send_queued,
    .tcp_shutdown = duet__sock_tcp_shutdown,
    .tcp_pause = duet__sock_tcp_pause,
    .tcp_resume = duet__sock_tcp_resume,
    .tcp_close = duet__sock_tcp_close,
    .tcp_abort = duet__sock_tcp_abort,
    .tcp_local = duet__sock_tcp_local,
    .tcp_peer = duet__sock_tcp_peer,
    .tcp_nodelay = duet__sock_tcp_nodelay,
    .udp_bind = duet__sock_udp_bind,
    .udp_send = duet__sock_udp_send,
    .udp_local = duet__sock_udp_local,
    .udp_close = duet__sock_udp_close,
    .destroy = sock_destroy,
};

/* The host stack: the core makes it when no netif was declared, or for
 * net=socket (--net socket). */
static int create(struct duet_loop *loop, struct duet_netif *netif,
		  struct duet_stack **out)
{
	struct sock_stack *st;

	(void)loop;
	(void)netif;
	/* Its traffic is the host kernel's, below no platform line. */
	if (duet__posix_rr() != NULL) {
		DUET_ERROR("net", "the socket stack cannot be recorded or "
			   "replayed: give the app a netif (--net "
			   "net0=vwire:PATH or tap:IFNAME)");
		return -ENOTSUP;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->base.ops = &sock_ops;
	st->base.name = "socket";
	st->base.has_ipv4 = true;
	st->base.has_ipv6 = true;
	st->base.host_addresses = true;
	st->uv = duet__posix_uv();
	duet_list_init(&st->objects);
	*out = &st->base;
	return 0;
}

static const struct duet_stack_provider provider = {
    .name = "socket",
    .over_netif = false,
    .create = create,
};
DUET_STACK_PROVIDER(socket, provider);
