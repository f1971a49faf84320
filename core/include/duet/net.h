/* duet/net.h — TCP and UDP for apps.
 *
 * Apps talk to one network stack through this interface and never see what
 * implements it: lwIP over a netif (both platforms) or, on POSIX, the host
 * kernel's TCP/IP through libuv (`--net socket`). duet_net_open() returns
 * the stack the boot configured.
 *
 * Objects: a struct duet_tcp is a listener or a connection, a struct
 * duet_udp a bound UDP endpoint. The stack allocates them (connections
 * arrive through accept callbacks); the app releases each with close or
 * abort, after which no callback for it runs and the pointer is dead.
 *
 * Callbacks run from the event loop, never from inside the call that caused
 * them (a send never calls `writable` before returning, a close never calls
 * `error`), and each gets the `arg` given with the callbacks.
 *
 * Receiving: `recv` gets bytes in order, in as many pieces as they arrive;
 * the buffer belongs to the stack and is valid only during the callback.
 * `recv` with len == 0 means the peer shut down its side (no more data will
 * come; the app may still send). duet_tcp_pause() stops `recv` calls and
 * closes the receive window once the stack's buffer fills; duet_tcp_resume()
 * delivers what is buffered, from a later loop iteration.
 *
 * Sending (backpressure): every connection has a bounded send queue. send
 * copies as much of the data as fits and returns the count copied (possibly
 * less than len), or -EAGAIN when the queue is full; `writable` is then
 * called once space frees up. Data that send accepted is delivered in order
 * unless the connection fails. duet_tcp_shutdown() sends FIN after the
 * queued data. duet_tcp_close() is a graceful close: queued data is still
 * sent (bounded by a linger timeout), the app gets no further callbacks.
 * duet_tcp_abort() resets the connection at once (RST).
 *
 * Errors: `error` reports a connection that died (-ECONNRESET,
 * -ETIMEDOUT, -ECONNREFUSED for a failed connect, -ENETDOWN...); the
 * connection is closed when the callback returns and must not be used
 * after. Calls return -ENOTCONN on a connection that is shut down for
 * sending, -EINVAL for bad arguments, -EADDRINUSE, -ENOMEM, -EAFNOSUPPORT
 * for an address family the stack was not configured for.
 */
#ifndef DUET_NET_H
#define DUET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct duet_loop;
struct duet_stack;
struct duet_tcp;
struct duet_udp;

/* ----------------------------------------------------------- addresses */

enum duet_af { DUET_AF_UNSPEC = 0, DUET_AF_INET = 4, DUET_AF_INET6 = 6 };

struct duet_ipaddr {
	enum duet_af family;
	uint8_t bytes[16]; /* network order; the first 4 for IPv4 */
};

struct duet_sockaddr {
	struct duet_ipaddr ip;
	uint16_t port; /* host order */
};

#define DUET_IPADDR_STRLEN 46 /* enough for any IPv6 text form + NUL */
#define DUET_SOCKADDR_STRLEN 56

/* "10.0.0.2", "::1", "fe80::1"; 0 or -EINVAL. */
int duet_ipaddr_parse(const char *s, struct duet_ipaddr *out);
/* "10.0.0.2:80", "[::1]:8080"; 0 or -EINVAL. */
int duet_sockaddr_parse(const char *s, struct duet_sockaddr *out);
/* The any-address of a family (0.0.0.0 or ::). */
void duet_ipaddr_any(enum duet_af family, struct duet_ipaddr *out);
/* Canonical text forms (RFC 5952 for IPv6); return buf. */
const char *duet_ipaddr_format(const struct duet_ipaddr *a, char *buf,
			       size_t size);
const char *duet_sockaddr_format(const struct duet_sockaddr *a, char *buf,
				 size_t size);
bool duet_ipaddr_equal(const struct duet_ipaddr *a,
		       const struct duet_ipaddr *b);

/* A server's addr= list: "10.0.0.2,::1", each address with `port`, into
 * out[0..max). The count, or -EINVAL with what is wrong in err. */
int duet_sockaddr_list_parse(const char *list, uint16_t port,
			     struct duet_sockaddr *out, size_t max, char *err,
			     size_t errlen);

/* -------------------------------------------------------------- stack */

/* The stack the boot configured (from `--net` on POSIX, from the domain's
 * vif and `ip=`/`gw=`/`ip6=` boot arguments with lwIP). -ENODEV, logged,
 * if the image has no network. */
int duet_net_open(struct duet_loop *loop, struct duet_stack **out);
/* "lwip" or "socket": for logs. Decide behaviour by the properties below. */
const char *duet_net_stack_name(const struct duet_stack *stack);
/* True if the stack uses the addresses of the host it runs on (POSIX's
 * socket stack) rather than addresses of the image's own: a server that
 * binds every address there appears on the host's network, so servers
 * default to loopback on such a stack. */
bool duet_net_shares_host_addresses(const struct duet_stack *stack);

/* ---------------------------------------------------------------- TCP */

struct duet_tcp_callbacks {
	void (*recv)(struct duet_tcp *c, const void *data, size_t len,
		     void *arg);
	void (*writable)(struct duet_tcp *c, void *arg);
	void (*error)(struct duet_tcp *c, int err, void *arg);
	/* For duet_tcp_connect() only: the handshake finished. */
	void (*connected)(struct duet_tcp *c, void *arg);
};

/* A new connection on a listener. The app must call duet_tcp_set_callbacks()
 * (or close/abort it) before returning. */
typedef void (*duet_tcp_accept_cb)(struct duet_tcp *listener,
				   struct duet_tcp *conn, void *arg);

int duet_tcp_listen(struct duet_stack *stack, const struct duet_sockaddr *addr,
		    int backlog, duet_tcp_accept_cb cb, void *arg,
		    struct duet_tcp **out);
int duet_tcp_connect(struct duet_stack *stack, const struct duet_sockaddr *to,
		     const struct duet_tcp_callbacks *cbs, void *arg,
		     struct duet_tcp **out);
/* A server's listeners: one on each of addrs[0..n), backlog 511 (a burst
 * of connections waits there to be admitted or evicted, rather than being
 * dropped in the kernel and costing each client a SYN resend). With
 * `skip_missing` (addresses the user did not choose), an address after the
 * first that the host lacks (no IPv6) is skipped with a warning. Returns
 * how many listen (out[0..]), or a negative errno, logged under `who`,
 * with none left open. */
int duet_tcp_listen_all(struct duet_stack *stack,
			const struct duet_sockaddr *addrs, size_t n,
			bool skip_missing, duet_tcp_accept_cb cb, void *arg,
			struct duet_tcp **out, const char *who);
void duet_tcp_set_callbacks(struct duet_tcp *c,
			    const struct duet_tcp_callbacks *cbs, void *arg);

/* Returns bytes queued (0 < n <= len), or a negative errno. len 0 is -EINVAL. */
long duet_tcp_send(struct duet_tcp *c, const void *data, size_t len);
/* Bytes send would accept now. */
size_t duet_tcp_send_space(const struct duet_tcp *c);
/* Queued bytes not yet acknowledged by the peer. */
size_t duet_tcp_send_queued(const struct duet_tcp *c);
int duet_tcp_shutdown(struct duet_tcp *c);
void duet_tcp_pause(struct duet_tcp *c);
void duet_tcp_resume(struct duet_tcp *c);
void duet_tcp_close(struct duet_tcp *c);
void duet_tcp_abort(struct duet_tcp *c);
int duet_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out);
int duet_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out);
/* Disable Nagle's algorithm (on by default only where the stack's is). */
int duet_tcp_nodelay(struct duet_tcp *c, bool on);

/* ---------------------------------------------------------------- UDP */

/* A datagram; data is valid only during the callback. */
typedef void (*duet_udp_recv_cb)(struct duet_udp *u, const void *data,
				 size_t len, const struct duet_sockaddr *from,
				 void *arg);

int duet_udp_bind(struct duet_stack *stack, const struct duet_sockaddr *addr,
		  duet_udp_recv_cb cb, void *arg, struct duet_udp **out);
/* Sends one datagram; 0, -EMSGSIZE (larger than 65507 bytes or than the
 * stack can send), -ENOBUFS, -EHOSTUNREACH... */
int duet_udp_send(struct duet_udp *u, const struct duet_sockaddr *to,
		  const void *data, size_t len);
int duet_udp_local(const struct duet_udp *u, struct duet_sockaddr *out);
void duet_udp_close(struct duet_udp *u);

#endif
