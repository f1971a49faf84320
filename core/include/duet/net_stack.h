/* duet/net_stack.h — implementing a network stack behind duet/net.h.
 *
 * A stack implementation (net/lwip, platform-posix's socket stack) embeds
 * struct duet_stack in its state, fills an ops table and installs itself
 * with duet_net_set_stack() during boot, before the app starts. Its
 * connection and endpoint objects embed struct duet_tcp / struct duet_udp,
 * whose `stack` field the core's wrappers use to dispatch.
 *
 * The wrappers in core/net.c check arguments (NULL, zero lengths, address
 * families the stack lacks, a connection already closed) before an op runs.
 * Every op is REQUIRED except `nodelay`, `pause` and `resume`, which a
 * stack MAY leave NULL (the wrappers then return 0 / do nothing).
 *
 * Which stack an image gets: the first duet_net_open() asks the platform
 * (duet_plat_net_stack: POSIX gives its socket stack unless `--net
 * NAME=DRIVER:...` declared a netif), and otherwise calls
 * duet__net_boot_stack(), which the image's stack module defines (net/lwip:
 * lwIP over the netif named by `net=`, default net0, configured from
 * `ip=`, `gw=`, `ip6=`) — link-time bound, so an image without networking
 * links no stack at all. A stack that cannot be created (no netif, bad
 * `ip=`) logs why and returns the error, which fails the app's start.
 */
#ifndef DUET_NET_STACK_H
#define DUET_NET_STACK_H

#include <duet/net.h>

struct duet_stack_ops {
	int (*tcp_listen)(struct duet_stack *s, const struct duet_sockaddr *addr,
			  int backlog, duet_tcp_accept_cb cb, void *arg,
			  struct duet_tcp **out);
	int (*tcp_connect)(struct duet_stack *s, const struct duet_sockaddr *to,
			   struct duet_tcp **out);
	long (*tcp_send)(struct duet_tcp *c, const void *data, size_t len);
	size_t (*tcp_send_space)(const struct duet_tcp *c);
	size_t (*tcp_send_queued)(const struct duet_tcp *c);
	int (*tcp_shutdown)(struct duet_tcp *c);
	void (*tcp_pause)(struct duet_tcp *c);
	void (*tcp_resume)(struct duet_tcp *c);
	void (*tcp_close)(struct duet_tcp *c);
	void (*tcp_abort)(struct duet_tcp *c);
	int (*tcp_local)(const struct duet_tcp *c, struct duet_sockaddr *out);
	int (*tcp_peer)(const struct duet_tcp *c, struct duet_sockaddr *out);
	int (*tcp_nodelay)(struct duet_tcp *c, bool on);

	int (*udp_bind)(struct duet_stack *s, const struct duet_sockaddr *addr,
			duet_udp_recv_cb cb, void *arg, struct duet_udp **out);
	int (*udp_send)(struct duet_udp *u, const struct duet_sockaddr *to,
			const void *data, size_t len);
	int (*udp_local)(const struct duet_udp *u, struct duet_sockaddr *out);
	void (*udp_close)(struct duet_udp *u);

	/* Called once at shutdown, after the app's stop hooks. */
	void (*destroy)(struct duet_stack *s);
};

struct duet_stack {
	const struct duet_stack_ops *ops;
	const char *name;
	struct duet_loop *loop;
	bool has_ipv4;
	bool has_ipv6;
	bool host_addresses; /* duet_net_shares_host_addresses() */
};

/* Base of every TCP object; the stack fills `stack` and the callbacks are
 * set by the wrappers. Implementations call cbs through the helpers below. */
struct duet_tcp {
	struct duet_stack *stack;
	const struct duet_tcp_callbacks *cbs;
	void *arg;
	bool closed; /* close/abort called: no more callbacks */
};

struct duet_udp {
	struct duet_stack *stack;
	duet_udp_recv_cb cb;
	void *arg;
	bool closed;
};

/* Defined by the image's stack module; see above. */
int duet__net_boot_stack(struct duet_loop *loop, struct duet_stack **out);

/* Installs the loop's stack (once). 0 or -EEXIST. */
int duet_net_set_stack(struct duet_loop *loop, struct duet_stack *stack);
struct duet_stack *duet_net_get_stack(struct duet_loop *loop);

/* For implementations: deliver events to the app unless it closed the
 * object. `error` marks the connection closed before calling back. */
void duet_tcp_deliver_recv(struct duet_tcp *c, const void *data, size_t len);
void duet_tcp_deliver_writable(struct duet_tcp *c);
void duet_tcp_deliver_connected(struct duet_tcp *c);
void duet_tcp_deliver_error(struct duet_tcp *c, int err);
void duet_udp_deliver(struct duet_udp *u, const void *data, size_t len,
		      const struct duet_sockaddr *from);

#endif
