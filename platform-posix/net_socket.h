/* The socket stack's internals, shared by net_socket.c (the stack,
 * addresses, errors), net_socket_tcp.c and net_socket_udp.c. */
#ifndef DUET_NET_SOCKET_H
#define DUET_NET_SOCKET_H

#include <sys/socket.h>

#include <duet/loop.h>
#include <duet/net_stack.h>

#include "posix.h"

#define SOCK_SENDQ     (256 * 1024)
#define SOCK_LOW_WATER (64 * 1024)
#define SOCK_RECV_BUF  (64 * 1024)
#define SOCK_LINGER    (10 * DUET_NSEC_PER_SEC)

struct sock_stack {
	struct duet_stack base;
	uv_loop_t *uv;
	struct duet_list objects; /* every sock_obj alive, for destroy */
	char recv_buf[SOCK_RECV_BUF];
};

/* What TCP and UDP objects share. */
struct sock_obj {
	struct duet_list link;
	struct sock_stack *st;
	uv_handle_t *handle;
	/* At stack destroy: close the handle now, no callbacks to the app. */
	void (*force_close)(struct sock_obj *o);
};

enum tcp_state { TCP_LISTENER, TCP_CONNECTING, TCP_OPEN, TCP_LINGER };

struct sock_tcp {
	struct duet_tcp base;
	struct sock_obj obj;
	uv_tcp_t h;
	enum tcp_state state;
	bool closing;	   /* uv_close called: the struct dies in on_closed */
	bool paused;	   /* the app paused receiving */
	bool eof;	   /* the peer's FIN arrived */
	bool shut_wr;	   /* duet_tcp_shutdown: FIN after the queue */
	bool owe_writable; /* a send was refused, writable is due */
	duet_tcp_accept_cb accept_cb;
	void *accept_arg;
	/* send ring: `len` bytes from `start`, the first `inflight` of them
	 * handed to the uv_write in progress */
	char *ring;
	size_t start, len, inflight;
	uv_write_t write_req;
	uv_connect_t connect_req;
	uv_shutdown_t shutdown_req;
	struct duet_timer linger;
};

struct sock_udp {
	struct duet_udp base;
	struct sock_obj obj;
	uv_udp_t h;
	bool v6; /* bound to an IPv6 address: IPv4 peers are v4-mapped */
};

static inline struct sock_tcp *duet__sock_tcp_of(const struct duet_tcp *c)
{
	return duet_container_of(c, struct sock_tcp, base);
}

static inline struct sock_udp *duet__sock_udp_of(const struct duet_udp *u)
{
	return duet_container_of(u, struct sock_udp, base);
}

static inline struct sock_stack *duet__sock_stack_of(struct duet_stack *s)
{
	return duet_container_of(s, struct sock_stack, base);
}

/* net_socket.c */
void duet__sock_obj_init(struct sock_obj *o, struct sock_stack *st,
			 uv_handle_t *h, void *owner,
			 void (*force_close)(struct sock_obj *o));
int duet__sock_err(int uverr);
void duet__sock_to_addr(const struct duet_sockaddr *a, bool v4mapped,
			struct sockaddr_storage *ss);
int duet__sock_from_addr(const struct sockaddr *sa, struct duet_sockaddr *out);

/* net_socket_tcp.c */
int duet__sock_tcp_listen(struct duet_stack *s,
			  const struct duet_sockaddr *addr, int backlog,
			  duet_tcp_accept_cb cb, void *arg,
			  struct duet_tcp **out);
int duet__sock_tcp_connect(struct duet_stack *s, const struct duet_sockaddr *to,
			   struct duet_tcp **out);
long duet__sock_tcp_send(struct duet_tcp *c, const void *data, size_t len);
size_t duet__sock_tcp_send_space(const struct duet_tcp *c);
size_t duet__sock_tcp_send_queued(const struct duet_tcp *c);
int duet__sock_tcp_shutdown(struct duet_tcp *c);
void duet__sock_tcp_pause(struct duet_tcp *c);
void duet__sock_tcp_resume(struct duet_tcp *c);
void duet__sock_tcp_close(struct duet_tcp *c);
void duet__sock_tcp_abort(struct duet_tcp *c);
int duet__sock_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out);
int duet__sock_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out);
int duet__sock_tcp_nodelay(struct duet_tcp *c, bool on);

/* net_socket_udp.c */
int duet__sock_udp_bind(struct duet_stack *s, const struct duet_sockaddr *addr,
			duet_udp_recv_cb cb, void *arg, struct duet_udp **out);
int duet__sock_udp_send(struct duet_udp *u, const struct duet_sockaddr *to,
			const void *data, size_t len);
int duet__sock_udp_local(const struct duet_udp *u, struct duet_sockaddr *out);
void duet__sock_udp_close(struct duet_udp *u);

#endif
