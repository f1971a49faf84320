/* The socket stack's UDP: one uv_udp_t per bound endpoint; sends are
 * synchronous (uv_udp_try_send), so a full socket buffer is -ENOBUFS. */
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "net_socket.h"


static void alloc_udp(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sock_stack *st = ((struct sock_udp *)h->data)->obj.st;
	(void)suggested;

	*buf = uv_buf_init(st->recv_buf, sizeof(st->recv_buf));
}

static void udp_on_closed(uv_handle_t *h)
{
	struct sock_udp *u = h->data;

	duet_list_unlink(&u->obj.link);
	free(u);
}

static void udp_force_close(struct sock_obj *o)
{
	uv_close(o->handle, udp_on_closed);
}

static void on_datagram(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct sock_udp *u = h->data;
	struct duet_sockaddr sa;

	duet__posix_woke();

	/* n == 0 with no sender: the socket had nothing after all. */
	if (from == NULL || (flags & UV_UDP_PARTIAL) != 0)
		return;
	if (n < 0) {
		DUET_DEBUG("net", "socket: udp receive: %s",
			   uv_strerror((int)n));
		return;
	}
	if (duet__sock_from_addr(from, &sa) == 0)
		duet_udp_deliver(&u->base, buf->base, (size_t)n, &sa);
}

int duet__sock_udp_bind(struct duet_stack *s, const struct duet_sockaddr *addr,
			duet_udp_recv_cb cb, void *arg, struct duet_udp **out)
{
	struct sock_stack *st = duet__sock_stack_of(s);
	struct sockaddr_storage ss;
	struct sock_udp *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return -ENOMEM;
	u->base.stack = s;
	u->base.cb = cb;
	u->base.arg = arg;
	uv_udp_init(st->uv, &u->h);
	duet__sock_obj_init(&u->obj, st, (uv_handle_t *)&u->h, u,
			    udp_force_close);
	u->v6 = addr->ip.family == DUET_AF_INET6;
	duet__sock_to_addr(addr, false, &ss);
	int r = uv_udp_bind(&u->h, (struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_udp_recv_start(&u->h, alloc_udp, on_datagram);
	if (r < 0) {
		uv_close((uv_handle_t *)&u->h, udp_on_closed);
		return duet__sock_err(r);
	}
	*out = &u->base;
	return 0;
}

int duet__sock_udp_send(struct duet_udp *du, const struct duet_sockaddr *to,
			const void *data, size_t len)
{
	struct sockaddr_storage ss;
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);

	duet__sock_to_addr(to, duet__sock_udp_of(du)->v6, &ss);
	int r = uv_udp_try_send(&duet__sock_udp_of(du)->h, &b, 1,
				(struct sockaddr *)&ss);
	return r < 0 ? duet__sock_err(r) : 0;
}

int duet__sock_udp_local(const struct duet_udp *du, struct duet_sockaddr *out)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int r = uv_udp_getsockname(&duet__sock_udp_of(du)->h,
				   (struct sockaddr *)&ss, &len);

	return r < 0 ? duet__sock_err(r)
		     : duet__sock_from_addr((struct sockaddr *)&ss, out);
}

void duet__sock_udp_close(struct duet_udp *du)
{
	uv_close((uv_handle_t *)&duet__sock_udp_of(du)->h, udp_on_closed);
}
