/* A netif on a vwire (see vwire.h): Duet processes on one virtual LAN with
 * no privileges.
 *
 *   --net NAME=vwire:PATH[,mac=02:..][,mtu=N]
 *
 * The hub must be running at PATH when the netif is created. If it goes
 * away later, frames fail with -ENETDOWN, the keepalive timer takes the
 * link down and brings it up again when it reattaches to whatever hub
 * binds PATH next. The keepalive is a libuv timer, below the platform
 * line: a driver's own clock is not the app's, and a recording
 * (core/REPLAY.md) sees only the link changes it makes. Datagrams are read in batches into one fixed buffer;
 * one too short or too long is counted as an rx error by the core and not
 * delivered. The socket is read even with
 * no receiver installed (the core counts those frames dropped): datagrams
 * left queued here would stay charged to the hub's send buffer, which all
 * endpoints share, and stall the whole wire.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/netif_driver.h>

#include "posix.h"
#include "vwire.h"

#define VWIRE_RX_BATCH 64
#define VWIRE_IOV_MAX  32

struct vwire {
	struct duet_netif netif;
	int fd;
	uv_poll_t poll;
	uv_timer_t keepalive;
	unsigned open_handles; /* poll and keepalive, until both closed */
	struct sockaddr_un hub;
	size_t rx_size;
	unsigned char rx[]; /* one frame: MTU + header + VLAN tag + 1 */
};

static struct vwire *vwire_of(struct duet_netif *n)
{
	return duet_container_of(n, struct vwire, netif);
}

/* Connects to the hub at w->hub and says hello: 0 or a negative errno. */
static int vwire_attach(struct vwire *w)
{
	if (connect(w->fd, (struct sockaddr *)&w->hub, sizeof(w->hub)) < 0)
		return -errno;
	if (send(w->fd, VWIRE_HELLO, VWIRE_HELLO_LEN, MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		return -errno;
	return 0;
}

/* The hub's liveness is the netif's link state: the keepalive (event
 * context) is the only place it changes, so the stack hears of it. */
static void vwire_keepalive(uv_timer_t *t)
{
	struct vwire *w = t->data;

	duet__posix_woke();
	if (duet_netif_link_up(&w->netif)) {
		if (send(w->fd, VWIRE_HELLO, VWIRE_HELLO_LEN, MSG_DONTWAIT) >=
			0 ||
		    errno == EAGAIN)
			return;
		int e = -errno;
		DUET_WARN("net",
			  "%s: vwire hub at %s went away (%s); reattaching",
			  duet_netif_name(&w->netif), w->hub.sun_path,
			  duet_strerror(e));
		duet_netif_set_link(&w->netif, false);
		uv_stop(t->loop); /* an event was handled (duet/platform.h) */
	}
	if (vwire_attach(w) == 0) {
		DUET_INFO("net", "%s: reattached to the vwire hub at %s",
			  duet_netif_name(&w->netif), w->hub.sun_path);
		duet_netif_set_link(&w->netif, true);
		uv_stop(t->loop);
	}
}

static void vwire_readable(uv_poll_t *p, int status, int events)
{
	struct vwire *w = p->data;
	(void)events;

	duet__posix_woke();

	if (status < 0) {
		DUET_WARN("net", "%s: %s", duet_netif_name(&w->netif),
			  uv_strerror(status));
		return;
	}
	for (int i = 0; i < VWIRE_RX_BATCH; i++) {
		struct iovec v = {.iov_base = w->rx, .iov_len = w->rx_size};
		struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
		ssize_t n = recvmsg(w->fd, &m, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				DUET_WARN("net", "%s: receive: %s",
					  duet_netif_name(&w->netif),
					  duet_strerror(-errno));
			return;
		}
		/* A cut datagram was longer than any frame we accept: pass its
		 * length only, for the core to count it as an error. */
		if ((m.msg_flags & MSG_TRUNC) != 0)
			n = (ssize_t)w->rx_size;
		duet_netif_deliver(&w->netif, w->rx, (size_t)n);
	}
}

static int vwire_transmit(struct duet_netif *n, const struct duet_iovec *iov,
			  unsigned iovcnt, size_t len)
{
	struct vwire *w = vwire_of(n);
	struct iovec v[VWIRE_IOV_MAX];
	struct msghdr m = {.msg_iov = v, .msg_iovlen = iovcnt};
	unsigned char *copy = NULL;
	ssize_t r;

	if (iovcnt > VWIRE_IOV_MAX) {
		/* A long chain is rare: send it from a copy. */
		unsigned char *p = copy = malloc(len);
		if (copy == NULL)
			return -ENOBUFS;
		for (unsigned i = 0; i < iovcnt; i++) {
			memcpy(p, iov[i].base, iov[i].len);
			p += iov[i].len;
		}
		v[0].iov_base = copy;
		v[0].iov_len = len;
		m.msg_iovlen = 1;
	} else {
		for (unsigned i = 0; i < iovcnt; i++) {
			v[i].iov_base = (void *)iov[i].base;
			v[i].iov_len = iov[i].len;
		}
	}
	r = sendmsg(w->fd, &m, MSG_DONTWAIT);
	int e = r < 0 ? errno : 0;
	free(copy);
	if (r >= 0)
		return 0;
	if (e == EAGAIN || e == ENOBUFS)
		return -ENOBUFS;
	/* The hub is gone; the keepalive notices and takes the link down. */
	if (e == ECONNREFUSED || e == ENOTCONN)
		return -ENETDOWN;
	return -e;
}

static void vwire_on_closed(uv_handle_t *h)
{
	struct vwire *w = h->data;

	if (--w->open_handles > 0)
		return;
	close(w->fd);
	free(w);
}

static void vwire_close(struct duet_netif *n)
{
	struct vwire *w = vwire_of(n);

	uv_close((uv_handle_t *)&w->keepalive, vwire_on_closed);
	uv_close((uv_handle_t *)&w->poll, vwire_on_closed);
}

static const struct duet_netif_ops vwire_ops = {
    .transmit = vwire_transmit,
    .close = vwire_close,
};

int duet__posix_netif_vwire_create(struct duet_loop *loop, const char *name,
				   const char *spec, char *err, size_t errlen)
{
	char flag[64];
	uint8_t mac[DUET_ETH_ALEN];
	unsigned mtu = 1500;
	size_t n = strcspn(spec, ",");
	sa_family_t autobind = AF_UNIX;
	struct vwire *w;
	int r;

	snprintf(flag, sizeof(flag), "--net %s=vwire", name);
	if (n == 0 || n >= sizeof(w->hub.sun_path)) {
		snprintf(err, errlen,
			 "%s: expected the hub's socket path (up to "
			 "%zu characters)",
			 flag, sizeof(w->hub.sun_path) - 1);
		return -EINVAL;
	}
	r = duet__posix_netif_options(
	    flag, spec[n] == ',' ? spec + n + 1 : NULL, mac, &mtu, err, errlen);
	if (r < 0)
		return r;
	size_t rx_size = (size_t)mtu + DUET_ETH_HLEN + DUET_ETH_VLAN_HLEN + 1;
	w = calloc(1, sizeof(*w) + rx_size);
	if (w == NULL) {
		snprintf(err, errlen, "%s: out of memory", flag);
		return -ENOMEM;
	}
	w->rx_size = rx_size;
	w->hub.sun_family = AF_UNIX;
	memcpy(w->hub.sun_path, spec, n);
	w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* An address of just the family asks for a unique abstract name. */
	if (w->fd < 0 ||
	    bind(w->fd, (struct sockaddr *)&autobind, sizeof(autobind)) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create a socket: %s", flag,
			 duet_strerror(r));
		goto fail;
	}
	r = vwire_attach(w);
	if (r < 0) {
		snprintf(err, errlen,
			 "%s:%s: no vwire hub there (%s); start one "
			 "with: vwire-hub %s",
			 flag, w->hub.sun_path, duet_strerror(r),
			 w->hub.sun_path);
		goto fail;
	}
	r = duet__uv_err(uv_poll_init(duet__posix_uv(), &w->poll, w->fd));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot poll: %s", flag,
			 duet_strerror(r));
		goto fail;
	}
	w->poll.data = w;
	w->open_handles = 1;
	uv_poll_start(&w->poll, UV_READABLE, vwire_readable);
	r = duet_netif_register(loop, &w->netif, name, &vwire_ops, mac, mtu);
	if (r < 0) {
		snprintf(err, errlen, "--net %s: %s", name,
			 r == -EEXIST
			     ? "a device of that name already exists"
			     : "bad device name (use a-z 0-9 _ -, up to 15)");
		uv_close((uv_handle_t *)&w->poll, vwire_on_closed);
		return r;
	}
	uv_timer_init(duet__posix_uv(), &w->keepalive);
	w->keepalive.data = w;
	w->open_handles = 2;
	uv_timer_start(&w->keepalive, vwire_keepalive, VWIRE_KEEPALIVE_MS,
		       VWIRE_KEEPALIVE_MS);
	/* Like the duet timer it was, it does not keep the loop alive. */
	uv_unref((uv_handle_t *)&w->keepalive);
	DUET_DEBUG("net", "%s: vwire at %s, mtu %u", name, w->hub.sun_path,
		   mtu);
	return 0;
fail:
	if (w->fd >= 0)
		close(w->fd);
	free(w);
	return r;
}
