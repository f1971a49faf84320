/* A netif on a host tap device.
 *
 *   --net NAME=tap:IFNAME[,mac=02:..]
 *
 * The tap is opened (or created) through /dev/net/tun, which needs root
 * or CAP_NET_ADMIN; the host side configures it (address, link up).
 * Frames go whole through read/write, each after a virtio-net header
 * (IFF_VNET_HDR, vnet.h; IFF_NO_PI: no other). The header carries checksum
 * offload both ways (TUNSETOFFLOAD TUN_F_CSUM): the host completes the TCP
 * checksums lwIP leaves (duet_netif_transmit_csum), and marks what needs
 * no checking, its own packets included (they carry only a partial
 * checksum, as on loopback). No TSO: with the MTU at 64 KiB a frame is
 * already a full segment. The fd is non-blocking and watched by uv_poll. The
 * MTU is the device's (see tap_mtu); the MAC is Duet's own (the tap's host-side
 * MAC is the host's).
 *
 * Receive queue. The host handles a frame Duet writes at once, inside the
 * write, and queues its answer (a TCP ACK, an ARP reply) on the tap, which
 * holds txqueuelen frames (1000 by default) and drops the rest. A burst of
 * writes with no read between them overflows it: lwIP sending a window to
 * each of 64 connections writes ~2800 segments and gets ~1400 ACKs back,
 * and a lost ACK at the end of a response leaves lwIP waiting for its
 * retransmission timeout (over a second). So, as a NIC's DMA fills its
 * receive ring while the CPU is busy sending, transmit moves what the tap
 * holds into the driver's own queue every TAP_TX_PER_DRAIN frames. Frames
 * are delivered from the loop (the poll, or a deferred callback while the
 * queue is not empty), never from inside transmit, at most TAP_RX_BATCH
 * per callback so that a flood cannot starve the rest of the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/netif_driver.h>

#include "posix.h"
#include "vnet.h"

#define TAP_RX_BATCH	 64
#define TAP_TX_PER_DRAIN 16
#define TAP_RXQ_BYTES	 (512 * 1024) /* ~9000 ACKs, ~340 full frames */
#define TAP_IOV_MAX	 32

/* A queued frame: its length, then its bytes. */
#define REC_HDR sizeof(uint32_t)

struct tap {
	struct duet_netif netif;
	int fd;
	uv_poll_t poll;
	struct duet_defer rx_defer;
	char ifname[IFNAMSIZ];
	size_t rx_size;	   /* read size: vnet + MTU + header + VLAN tag + 1 */
	unsigned tx_burst; /* frames written since the last drain */
	/* The receive queue, a byte ring of records that never wrap: when
	 * the end has no room for the largest frame the writer starts again
	 * at 0 (wrapped) and the reader follows at `end`. Unwrapped, the
	 * records are [head, tail); wrapped, [head, end) then [0, tail). */
	size_t rxq_size, head, tail, end;
	unsigned count;
	bool wrapped;
	unsigned char rxq[];
};

static struct tap *tap_of(struct duet_netif *n)
{
	return duet_container_of(n, struct tap, netif);
}

/* Where the next frame can be read to (REC_HDR + rx_size contiguous free
 * bytes that no queued frame uses), or NULL when the queue is full. */
static unsigned char *rxq_space(struct tap *t)
{
	size_t need = REC_HDR + t->rx_size;

	if (t->count == 0) {
		t->head = t->tail = 0;
		t->wrapped = false;
	}
	if (t->wrapped)
		return t->head - t->tail >= need ? t->rxq + t->tail : NULL;
	if (t->rxq_size - t->tail >= need)
		return t->rxq + t->tail;
	if (t->head < need)
		return NULL;
	t->end = t->tail;
	t->tail = 0;
	t->wrapped = true;
	return t->rxq;
}

/* Moves frames from the tap into the queue until the tap is empty or the
 * queue full. Safe while a queued frame is being delivered: that frame's
 * record stays queued (and untouched) until it returns. */
static void tap_drain(struct tap *t)
{
	unsigned char *p;

	t->tx_burst = 0;
	while (t->netif.receive_cb != NULL && (p = rxq_space(t)) != NULL) {
		ssize_t n = read(t->fd, p + REC_HDR, t->rx_size);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				DUET_WARN("net", "tap %s: read: %s", t->ifname,
					  duet_strerror(-errno));
			return;
		}
		uint32_t len = (uint32_t)n;
		memcpy(p, &len, REC_HDR);
		t->tail = (size_t)(p - t->rxq) + REC_HDR + (size_t)n;
		t->count++;
	}
}

static void tap_rx_run(struct tap *t)
{
	tap_drain(t);
	for (int i = 0;
	     i < TAP_RX_BATCH && t->count > 0 && t->netif.receive_cb != NULL;
	     i++) {
		unsigned char *rec = t->rxq + t->head;
		uint32_t len;
		bool valid;
		memcpy(&len, rec, REC_HDR);
		/* A frame as big as the read size was longer than any we
		 * accept, and a bad vnet header is no frame: the core counts
		 * both as errors by their length. */
		long flen = duet__vnet_rx(rec + REC_HDR, len, &valid);
		const unsigned char *f = rec + REC_HDR + VNET_HDR_LEN;
		if (flen < 0)
			duet_netif_deliver(&t->netif, f, 0);
		else if (valid)
			duet_netif_deliver_valid(&t->netif, f, (size_t)flen);
		else
			duet_netif_deliver(&t->netif, f, (size_t)flen);
		t->head += REC_HDR + len;
		t->count--;
		if (t->wrapped && t->head == t->end) {
			t->head = 0;
			t->wrapped = false;
		}
	}
	if (t->count > 0 && t->netif.receive_cb != NULL)
		duet_defer_post(&t->rx_defer);
}

static void tap_readable(uv_poll_t *p, int status, int events)
{
	struct tap *t = p->data;
	(void)events;

	duet__posix_woke();

	if (status < 0) {
		DUET_WARN("net", "tap %s: %s", t->ifname, uv_strerror(status));
		return;
	}
	tap_rx_run(t);
}

static void tap_rx_deferred(struct duet_defer *d, void *arg)
{
	(void)d;
	tap_rx_run(arg);
}

/* Writes the vnet header `hdr` and the frame. */
static int tap_send(struct tap *t, const uint8_t *hdr,
		    const struct duet_iovec *iov, unsigned iovcnt, size_t len)
{
	struct iovec v[TAP_IOV_MAX];
	ssize_t r;

	if (iovcnt > TAP_IOV_MAX - 1) {
		/* A long chain is rare: send it as one frame from a copy. */
		unsigned char *buf = malloc(VNET_HDR_LEN + len), *p = buf;
		if (buf == NULL)
			return -ENOBUFS;
		memcpy(p, hdr, VNET_HDR_LEN);
		p += VNET_HDR_LEN;
		for (unsigned i = 0; i < iovcnt; i++) {
			memcpy(p, iov[i].base, iov[i].len);
			p += iov[i].len;
		}
		r = write(t->fd, buf, VNET_HDR_LEN + len);
		free(buf);
	} else {
		v[0].iov_base = (void *)hdr;
		v[0].iov_len = VNET_HDR_LEN;
		for (unsigned i = 0; i < iovcnt; i++) {
			v[i + 1].iov_base = (void *)iov[i].base;
			v[i + 1].iov_len = iov[i].len;
		}
		r = writev(t->fd, v, (int)iovcnt + 1);
	}
	if (r >= 0) {
		if (++t->tx_burst >= TAP_TX_PER_DRAIN) {
			tap_drain(t);
			if (t->count > 0)
				duet_defer_post(&t->rx_defer);
		}
		return 0;
	}
	switch (errno) {
	case EAGAIN: return -ENOBUFS;
	case EIO: return -ENETDOWN; /* the host side has the link down */
	default: return -errno;
	}
}

static int tap_transmit(struct duet_netif *n, const struct duet_iovec *iov,
			unsigned iovcnt, size_t len)
{
	uint8_t hdr[VNET_HDR_LEN];

	duet__vnet_hdr_put(hdr, false, 0, 0);
	return tap_send(tap_of(n), hdr, iov, iovcnt, len);
}

static int tap_transmit_csum(struct duet_netif *n, const struct duet_iovec *iov,
			     unsigned iovcnt, size_t len, unsigned csum_start,
			     unsigned csum_offset)
{
	uint8_t hdr[VNET_HDR_LEN];

	duet__vnet_hdr_put(hdr, true, csum_start, csum_offset);
	return tap_send(tap_of(n), hdr, iov, iovcnt, len);
}

static int tap_start(struct duet_netif *n)
{
	struct tap *t = tap_of(n);

	int r = uv_poll_start(&t->poll, UV_READABLE, tap_readable);
	if (r == 0 && t->count > 0)
		duet_defer_post(&t->rx_defer);
	return duet__uv_err(r);
}

static void tap_stop(struct duet_netif *n)
{
	struct tap *t = tap_of(n);

	/* What is queued stays queued, as in a NIC's ring, for a receiver
	 * that starts it again. */
	uv_poll_stop(&t->poll);
	duet_defer_cancel(&t->rx_defer);
}

static void tap_on_closed(uv_handle_t *h)
{
	struct tap *t = h->data;

	close(t->fd);
	free(t);
}

static void tap_close(struct duet_netif *n)
{
	struct tap *t = tap_of(n);

	duet_defer_cancel(&t->rx_defer);
	uv_close((uv_handle_t *)&t->poll, tap_on_closed);
}

static const struct duet_netif_ops tap_ops = {
    .transmit = tap_transmit,
    .transmit_csum = tap_transmit_csum,
    .start = tap_start,
    .stop = tap_stop,
    .close = tap_close,
};

/* Opens the tap with vnet headers; *csum: the host takes partial
 * checksums (an old kernel may refuse the offload, not the header). */
static int tap_open(const char *ifname, bool *csum, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s%s",
			 duet_strerror(e),
			 e == -ENOENT ? " (no tun driver: modprobe tun)"
			 : e == -EACCES || e == -EPERM
			     ? " (tap needs root or CAP_NET_ADMIN)"
			     : "");
		return e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = -errno;
		snprintf(err, errlen, "cannot attach to tap %s: %s%s", ifname,
			 duet_strerror(e),
			 e == -EPERM ? " (tap needs root or CAP_NET_ADMIN)"
			 : e == -EBUSY
			     ? " (in use by another process, or not a tap)"
			     : "");
		close(fd);
		return e;
	}
	int hdr_len = VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		int e = -errno;
		snprintf(err, errlen,
			 "cannot set the vnet header of tap %s: %s", ifname,
			 duet_strerror(e));
		close(fd);
		return e;
	}
	*csum = ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0;
	return fd;
}

/* The tap's MTU. A tap Duet created is new and unconfigured: it gets the
 * largest MTU (DUET_ETH_MTU_MAX), so that host and stack, the only two on
 * this link, exchange 64 KiB segments. One that existed keeps the host's
 * (it may be bridged with 1500-byte links). */
static unsigned tap_mtu(const char *ifname, bool created)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 1500;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (s >= 0 && created) {
		ifr.ifr_mtu = DUET_ETH_MTU_MAX;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			DUET_WARN("net", "tap %s: cannot set the MTU to %d: %s",
				  ifname, DUET_ETH_MTU_MAX,
				  duet_strerror(-errno));
	}
	if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68)
		mtu = (unsigned)ifr.ifr_mtu;
	if (s >= 0)
		close(s);
	return mtu;
}

int duet__posix_netif_tap_create(struct duet_loop *loop, const char *name,
				 const char *spec, char *err, size_t errlen)
{
	char flag[64], msg[160];
	uint8_t mac[DUET_ETH_ALEN];
	size_t n = strcspn(spec, ",");
	unsigned mtu = 0;
	int r;

	snprintf(flag, sizeof(flag), "--net %s=tap", name);
	if (n == 0 || n >= IFNAMSIZ) {
		snprintf(err, errlen,
			 "%s: expected an interface name of 1 to %d "
			 "characters",
			 flag, IFNAMSIZ - 1);
		return -EINVAL;
	}
	r = duet__posix_netif_options(
	    flag, spec[n] == ',' ? spec + n + 1 : NULL, mac, &mtu, err, errlen);
	if (r < 0)
		return r;
	if (mtu != 0) {
		snprintf(err, errlen,
			 "%s: the MTU is the tap's: set it on the "
			 "host (ip link set IFNAME mtu N)",
			 flag);
		return -EINVAL;
	}

	char ifname[IFNAMSIZ];
	memcpy(ifname, spec, n);
	ifname[n] = '\0';
	/* Attaching by name creates a tap that does not exist, in this
	 * namespace: say so, it is rarely what was meant. */
	bool existed = if_nametoindex(ifname) != 0;
	bool csum = false;
	int fd = tap_open(ifname, &csum, msg, sizeof(msg));
	if (fd < 0) {
		snprintf(err, errlen, "%s:%s: %s", flag, ifname, msg);
		return fd;
	}
	mtu = tap_mtu(ifname, !existed);
	size_t rx_size =
	    VNET_HDR_LEN + (size_t)mtu + DUET_ETH_HLEN + DUET_ETH_VLAN_HLEN + 1;
	size_t rxq_size = TAP_RXQ_BYTES;
	if (rxq_size < 16 * (REC_HDR + rx_size))
		rxq_size = 16 * (REC_HDR + rx_size); /* jumbo frames */
	struct tap *t = calloc(1, sizeof(*t) + rxq_size);
	if (t == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", flag);
		return -ENOMEM;
	}
	t->fd = fd;
	t->rx_size = rx_size;
	t->rxq_size = rxq_size;
	duet_defer_init(loop, &t->rx_defer, tap_rx_deferred, t);
	memcpy(t->ifname, ifname, n + 1);
	r = duet__uv_err(uv_poll_init(duet__posix_uv(), &t->poll, fd));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot poll the tap: %s", flag,
			 duet_strerror(r));
		close(fd);
		free(t);
		return r;
	}
	t->poll.data = t;
	r = duet_netif_register(loop, &t->netif, name, &tap_ops, mac, mtu);
	if (r < 0) {
		snprintf(err, errlen, "--net %s: %s", name,
			 r == -EEXIST
			     ? "a device of that name already exists"
			     : "bad device name (use a-z 0-9 _ -, up to 15)");
		uv_close((uv_handle_t *)&t->poll, tap_on_closed);
		return r;
	}
	duet_netif_set_offloads(&t->netif,
				DUET_NETIF_OFFLOAD_RX_CSUM |
				    (csum ? DUET_NETIF_OFFLOAD_TX_CSUM : 0));
	if (!existed)
		DUET_WARN("net",
			  "%s: there was no tap %s here: created one, down "
			  "and without addresses (configure it on the host, or "
			  "start Duet in the namespace that has it)",
			  name, ifname);
	DUET_DEBUG("net", "%s: tap %s, mtu %u, checksum offload %s", name,
		   ifname, mtu, csum ? "on" : "off");
	return 0;
}
