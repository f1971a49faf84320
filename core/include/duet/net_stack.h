/* duet/net_stack.h — implementing a network stack behind duet/net.h.
 *
 * A stack implementation (net/lwip, platform-posix's socket stack) embeds
 * struct duet_stack in its state and fills an ops table. Its connection and
 * endpoint objects embed struct duet_tcp / struct duet_udp, whose `stack`
 * field the core's wrappers use to dispatch.
 *
 * The wrappers in core/net.c check arguments (NULL, zero lengths, address
 * families the stack lacks, a connection already closed) before an op runs.
 * Every op is REQUIRED except `nodelay`, `pause`, `resume` and `destroy`,
 * which a stack MAY leave NULL (the wrappers then return 0 / do nothing).
 *
 * Stacks are providers: a module declares one with DUET_STACK_PROVIDER, and
 * the link line pulls it in by name (`-Wl,-u,duet__stack_NAME`, which
 * $(DUET_NET_LIBS) carries), so an image without networking links none.
 * The core makes the stack at the first duet_net_open() and destroys it
 * when duet_boot() ends, on every platform. Which provider it makes:
 *
 *   net=NAME naming a provider           that provider (POSIX: --net socket
 *                                        is net=socket);
 *   net=NETIF, or no net= and a netif    the provider that runs over a netif
 *     was declared or found              (lwIP), over NETIF (default net0);
 *   no net= and no netif declared        a host provider if the platform
 *                                        links one (POSIX: socket), else the
 *                                        netif provider over net0.
 *
 * A provider that cannot create its stack (no netif, bad `ip=`) logs why
 * and returns the error, which fails the app's start.
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

	/* Called once by the core when duet_boot() ends, after the app's
	 * stop hooks. */
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

struct duet_netif;

struct duet_stack_provider {
	const char *name; /* what net= names it by */
	/* true: runs over a netif (create gets it); false: a host stack
	 * (create gets NULL). */
	bool over_netif;
	int (*create)(struct duet_loop *loop, struct duet_netif *netif,
		      struct duet_stack **out);
};

/* Declares `provider` (a struct duet_stack_provider) under the link name
 * duet__stack_NAME. */
#define DUET_STACK_PROVIDER(NAME, provider)                                   \
	const struct duet_stack_provider *const duet__stack_##NAME            \
	    __attribute__((used, section("duet_stacks"))) = &(provider)

/* Installs the loop's stack (once), for tests that bring their own:
 * 0 or -EEXIST. */
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
