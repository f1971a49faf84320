/* A fake network stack for the servers' unit tests (httpd, dns over TCP):
 * connections whose output lands in a buffer (or, for big bodies, is only
 * counted and hashed), with a send capacity the test sets, and accept driven
 * by the test. Like a real stack, it owes `writable` only after a refused
 * send (owed). */
#ifndef NET_FAKESTACK_H
#define NET_FAKESTACK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/net_stack.h>

/* ------------------------------------------------------- the fake stack */

struct fconn {
	struct duet_tcp base;
	char *out; /* what the peer has received */
	size_t out_len, out_cap;
	size_t space; /* send capacity left; SIZE_MAX: unlimited */
	/* discard: keep only the head (up to its blank line) and then count
	 * and hash the body, so a body of any size takes no memory. */
	bool discard, in_body;
	uint64_t body_bytes, body_hash;
	bool paused, closed, aborted, shut;
	bool owed; /* a send got -EAGAIN: writable is due */
	unsigned resumes;
	uint16_t port;
};

static struct duet_stack fstack;
static struct duet_tcp flistener;
static duet_tcp_accept_cb accept_cb;
static void *accept_arg;

static int f_listen(struct duet_stack *s, const struct duet_sockaddr *addr,
		    int backlog, duet_tcp_accept_cb cb, void *arg,
		    struct duet_tcp **out)
{
	(void)addr;
	(void)backlog;
	flistener.stack = s;
	flistener.closed = false;
	accept_cb = cb;
	accept_arg = arg;
	*out = &flistener;
	return 0;
}

/* FNV-1a over a body, as the fake connection receives it. */
static inline uint64_t fakestack_fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}
#define FAKESTACK_FNV0 UINT64_C(14695981039346656037)

static inline void fakestack_hash(struct fconn *f, const void *data, size_t len)
{
	f->body_hash = fakestack_fnv(f->body_hash, data, len);
	f->body_bytes += len;
}

static long f_send(struct duet_tcp *c, const void *data, size_t len)
{
	struct fconn *f = (struct fconn *)c;
	if (f->shut)
		return -ENOTCONN;
	if (f->space == 0) {
		f->owed = true;
		return -EAGAIN;
	}
	if (len > f->space)
		len = f->space;
	if (f->space != SIZE_MAX)
		f->space -= len;
	if (f->discard && f->in_body) {
		fakestack_hash(f, data, len);
		return (long)len;
	}
	if (f->out_len + len > f->out_cap) {
		f->out_cap = (f->out_len + len) * 2;
		f->out = realloc(f->out, f->out_cap + 1);
	}
	memcpy(f->out + f->out_len, data, len);
	f->out_len += len;
	f->out[f->out_len] = '\0';
	if (f->discard) {
		/* Everything after the head's blank line goes to the hash. */
		char *end = strstr(f->out, "\r\n\r\n");
		if (end != NULL) {
			size_t head = (size_t)(end + 4 - f->out);
			fakestack_hash(f, f->out + head, f->out_len - head);
			f->out_len = head;
			f->out[head] = '\0';
			f->in_body = true;
		}
	}
	return (long)len;
}

static size_t f_space(const struct duet_tcp *c)
{
	return ((const struct fconn *)c)->space;
}
static size_t f_queued(const struct duet_tcp *c)
{
	(void)c;
	return 0;
}
static int f_shutdown(struct duet_tcp *c)
{
	((struct fconn *)c)->shut = true;
	return 0;
}
static void f_pause(struct duet_tcp *c)
{
	((struct fconn *)c)->paused = true;
}
static void f_resume(struct duet_tcp *c)
{
	((struct fconn *)c)->paused = false;
	((struct fconn *)c)->resumes++;
}
static void f_close(struct duet_tcp *c)
{
	if (c != &flistener)
		((struct fconn *)c)->closed = true;
}
static void f_abort(struct duet_tcp *c)
{
	((struct fconn *)c)->aborted = true;
}
static int f_peer(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	duet_ipaddr_parse("127.0.0.1", &out->ip);
	out->port = ((const struct fconn *)c)->port;
	return 0;
}

/* A client connects: f arrives at the listener with `space` bytes of send
 * capacity, from 127.0.0.1:port. */
static inline struct fconn *fakestack_accept(struct fconn *f, size_t space,
					     uint16_t port)
{
	f->base.stack = &fstack;
	f->space = space;
	f->port = port;
	f->body_hash = FAKESTACK_FNV0;
	accept_cb(&flistener, &f->base, accept_arg);
	return f;
}

static const struct duet_stack_ops fops = {
    .tcp_listen = f_listen,
    .tcp_send = f_send,
    .tcp_send_space = f_space,
    .tcp_send_queued = f_queued,
    .tcp_shutdown = f_shutdown,
    .tcp_pause = f_pause,
    .tcp_resume = f_resume,
    .tcp_close = f_close,
    .tcp_abort = f_abort,
    .tcp_local = f_peer,
    .tcp_peer = f_peer,
};

/* The fake stack becomes l's network stack. */
static inline void fakestack_install(struct duet_loop *l)
{
	fstack =
	    (struct duet_stack){.ops = &fops, .name = "fake", .has_ipv4 = true};
	duet_net_set_stack(l, &fstack);
}

#endif
