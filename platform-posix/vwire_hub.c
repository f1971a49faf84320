/* vwire-hub: the switch of a vwire (see vwire.h). An ordinary program, not
 * a Duet image: one socket, one poll loop.
 *
 *   vwire-hub PATH
 *
 * Learns which endpoint owns which source MAC and forwards unicast frames
 * to their owner only; floods the rest. A frame to an endpoint whose queue
 * is full is dropped (as on a real switch); an endpoint that is gone is
 * forgotten. SIGINT/SIGTERM remove the socket and print the counters.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vwire.h"

#define HUB_MAX_PORTS 64
#define HUB_MAC_TABLE 256
#define HUB_ETH_HLEN  14

struct port {
	struct sockaddr_un addr;
	socklen_t len;
	bool used;
};

struct mac_entry {
	uint8_t mac[6];
	int port; /* -1: free */
};

static struct port ports[HUB_MAX_PORTS];
static struct mac_entry macs[HUB_MAC_TABLE];
static unsigned long forwarded, dropped, bad, attached;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int port_find(const struct sockaddr_un *a, socklen_t len, bool add)
{
	int free_slot = -1;

	for (int i = 0; i < HUB_MAX_PORTS; i++) {
		if (!ports[i].used) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (ports[i].len == len && memcmp(&ports[i].addr, a, len) == 0)
			return i;
	}
	if (!add || free_slot < 0)
		return -1;
	ports[free_slot].used = true;
	ports[free_slot].len = len;
	memcpy(&ports[free_slot].addr, a, len);
	attached++;
	return free_slot;
}

static void port_forget(int p)
{
	ports[p].used = false;
	for (int i = 0; i < HUB_MAC_TABLE; i++)
		if (macs[i].port == p)
			macs[i].port = -1;
}

static unsigned mac_hash(const uint8_t *mac)
{
	return (unsigned)(mac[3] * 31u + mac[4] * 7u + mac[5]) % HUB_MAC_TABLE;
}

/* One slot per hash: a collision just means more flooding. */
static void mac_learn(const uint8_t *mac, int port)
{
	struct mac_entry *e = &macs[mac_hash(mac)];

	if ((mac[0] & 1) != 0)
		return;
	memcpy(e->mac, mac, 6);
	e->port = port;
}

static int mac_lookup(const uint8_t *mac)
{
	const struct mac_entry *e = &macs[mac_hash(mac)];

	if ((mac[0] & 1) != 0 || e->port < 0 || memcmp(e->mac, mac, 6) != 0)
		return -1;
	return e->port;
}

static void send_to(int fd, int p, const void *buf, size_t len)
{
	if (sendto(fd, buf, len, MSG_DONTWAIT,
		   (struct sockaddr *)&ports[p].addr, ports[p].len) >= 0) {
		forwarded++;
		return;
	}
	if (errno == ECONNREFUSED || errno == ENOENT)
		port_forget(p);
	dropped++;
}

static void handle(int fd, const uint8_t *buf, size_t len,
		   const struct sockaddr_un *from, socklen_t fromlen)
{
	if (len < HUB_ETH_HLEN) {
		if (len == VWIRE_HELLO_LEN &&
		    memcmp(buf, VWIRE_HELLO, len) == 0)
			port_find(from, fromlen, true);
		else
			bad++;
		return;
	}
	int src = port_find(from, fromlen, true);
	if (src < 0) {
		dropped++; /* no free port */
		return;
	}
	mac_learn(buf + 6, src);
	int dst = mac_lookup(buf);
	if (dst >= 0) {
		if (dst != src)
			send_to(fd, dst, buf, len);
		return;
	}
	for (int p = 0; p < HUB_MAX_PORTS; p++)
		if (ports[p].used && p != src)
			send_to(fd, p, buf, len);
}

/* A socket file left by a hub that died is taken over; one a live hub
 * answers on is not. */
static int bind_path(int fd, const struct sockaddr_un *a)
{
	if (bind(fd, (const struct sockaddr *)a, sizeof(*a)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -1;
	int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int live = connect(probe, (const struct sockaddr *)a, sizeof(*a)) == 0;
	close(probe);
	if (live) {
		errno = EADDRINUSE;
		return -1;
	}
	unlink(a->sun_path);
	return bind(fd, (const struct sockaddr *)a, sizeof(*a));
}

int main(int argc, char **argv)
{
	static uint8_t buf[VWIRE_MAX_DATAGRAM];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct sigaction sa = {.sa_handler = on_signal};

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(
		    stderr,
		    "usage: %s PATH\nthe switch of a vwire: Duet processes "
		    "started with --net NAME=vwire:PATH share one Ethernet\n",
		    argv[0]);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "%s: path too long: %s\n", argv[0], argv[1]);
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	for (int i = 0; i < HUB_MAC_TABLE; i++)
		macs[i].port = -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind_path(fd, &addr) < 0) {
		fprintf(stderr, "%s: cannot bind %s: %s%s\n", argv[0], argv[1],
			strerror(errno),
			errno == EADDRINUSE ? " (another hub is running there)"
					    : "");
		return 1;
	}
	/* Bursts from several endpoints queue here rather than drop; frames
	 * queued at endpoints stay charged to this socket's send buffer. */
	int bufsize = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("vwire-hub: listening on %s\n", argv[1]);
	fflush(stdout);

	while (!stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0)
			continue; /* EINTR: the signal sets stop */
		for (int i = 0; i < 64; i++) {
			struct sockaddr_un from;
			socklen_t fromlen = sizeof(from);
			ssize_t n =
			    recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fromlen);
			if (n < 0)
				break;
			/* An unbound sender cannot be answered: ignore it. */
			if (fromlen <= sizeof(sa_family_t)) {
				bad++;
				continue;
			}
			handle(fd, buf, (size_t)n, &from, fromlen);
		}
	}
	unlink(argv[1]);
	printf(
	    "vwire-hub: %lu endpoints seen, %lu frames forwarded, %lu dropped, "
	    "%lu bad\n",
	    attached, forwarded, dropped, bad);
	return 0;
}
