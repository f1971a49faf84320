/* The app-facing TCP/UDP wrappers: check, then dispatch to the stack. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <duet/args.h>
#include <duet/device.h>
#include <duet/error.h>
#include <duet/log.h>
#include <duet/loop.h>
#include <duet/net_stack.h>
#include <duet/netif.h>
#include <duet/platform.h>
#include <duet/sys.h>

int duet_net_set_stack(struct duet_loop *loop, struct duet_stack *stack)
{
	struct duet_sys *sys = duet_sys_of(loop);

	if (sys->stack != NULL)
		return -EEXIST;
	stack->loop = loop;
	sys->stack = stack;
	return 0;
}

struct duet_stack *duet_net_get_stack(struct duet_loop *loop)
{
	return duet_sys_of(loop)->stack;
}

/* The providers the link pulled in: the linker collects the pointers that
 * DUET_STACK_PROVIDER places in the section and brackets them (weak: an
 * image may link none). */
extern const struct duet_stack_provider *const __start_duet_stacks[]
    __attribute__((weak));
extern const struct duet_stack_provider *const __stop_duet_stacks[]
    __attribute__((weak));

/* The provider called `name`; with NULL, the first that does (or does not)
 * run over a netif. */
static const struct duet_stack_provider *find_provider(const char *name,
						       bool over_netif)
{
	for (const struct duet_stack_provider *const *p = __start_duet_stacks;
	     p < __stop_duet_stacks; p++)
		if (name != NULL ? strcmp((*p)->name, name) == 0
				 : (*p)->over_netif == over_netif)
			return *p;
	return NULL;
}

static bool netif_declared(struct duet_loop *loop)
{
	for (struct duet_device *d = duet_device_next(loop, NULL); d != NULL;
	     d = duet_device_next(loop, d))
		if (d->kind == DUET_DEVICE_NETIF)
			return true;
	return false;
}

/* net= named neither a stack nor a netif: the user's error (exit code 2). */
static int no_such_network(struct duet_loop *loop, const char *net)
{
	char stacks[64] = "", netifs[128];
	size_t n = 0;

	for (const struct duet_stack_provider *const *p = __start_duet_stacks;
	     p < __stop_duet_stacks && n < sizeof(stacks); p++)
		n += (size_t)snprintf(stacks + n, sizeof(stacks) - n, "%s%s",
				      n > 0 ? ", " : "", (*p)->name);
	DUET_ERROR("net",
		   "net=%s: no such network stack (this image has: %s) or "
		   "network interface (declared: %s)",
		   net, stacks,
		   duet_device_list_names(loop, DUET_DEVICE_NETIF, netifs,
					  sizeof(netifs)));
	return -EINVAL;
}

/* The choice duet/net_stack.h describes. */
static int make_stack(struct duet_loop *loop, struct duet_stack **out)
{
	const struct duet_stack_provider *p = NULL;
	struct duet_netif *netif = NULL;
	const char *net;
	int r;

	duet_args_get_str(duet_loop_args(loop), "net", NULL, &net);
	if (net != NULL)
		p = find_provider(net, false);
	if (p == NULL && net == NULL && !netif_declared(loop))
		p = find_provider(NULL, false);
	if (p == NULL || p->over_netif) {
		const char *name = net != NULL && p == NULL ? net : "net0";

		if (name == net &&
		    duet_device_find(loop, name, DUET_DEVICE_NETIF) == NULL)
			return no_such_network(loop, net);
		if (p == NULL)
			p = find_provider(NULL, true);
		if (p == NULL) {
			DUET_ERROR("net", "this image links no network stack "
					  "(net=%s)",
				   net != NULL ? net : "");
			return -ENOENT;
		}
		r = duet_netif_open(loop, name, &netif);
		if (r < 0)
			return r;
	}
	return p->create(loop, netif, out);
}

int duet_net_open(struct duet_loop *loop, struct duet_stack **out)
{
	struct duet_sys *sys = duet_sys_of(loop);

	if (sys->stack == NULL) {
		struct duet_stack *s;
		int r = make_stack(loop, &s);

		if (r < 0)
			return r;
		r = duet_net_set_stack(loop, s);
		if (r < 0)
			return r;
	}
	*out = sys->stack;
	return 0;
}

const char *duet_net_stack_name(const struct duet_stack *stack)
{
	return stack->name;
}

bool duet_net_shares_host_addresses(const struct duet_stack *stack)
{
	return stack->host_addresses;
}

static int check_family(const struct duet_stack *s,
			const struct duet_sockaddr *a)
{
	if (a == NULL)
		return -EINVAL;
	switch (a->ip.family) {
	case DUET_AF_INET: return s->has_ipv4 ? 0 : -EAFNOSUPPORT;
	case DUET_AF_INET6: return s->has_ipv6 ? 0 : -EAFNOSUPPORT;
	default: return -EINVAL;
	}
}

int duet_tcp_listen(struct duet_stack *stack, const struct duet_sockaddr *addr,
		    int backlog, duet_tcp_accept_cb cb, void *arg,
		    struct duet_tcp **out)
{
	int r = check_family(stack, addr);

	if (r < 0)
		return r;
	if (cb == NULL || out == NULL || backlog < 0)
		return -EINVAL;
	return stack->ops->tcp_listen(stack, addr, backlog > 0 ? backlog : 128,
				      cb, arg, out);
}

int duet_tcp_listen_all(struct duet_stack *stack,
			const struct duet_sockaddr *addrs, size_t n,
			bool skip_missing, duet_tcp_accept_cb cb, void *arg,
			struct duet_tcp **out, const char *who)
{
	char where[DUET_SOCKADDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		int r = duet_tcp_listen(stack, &addrs[i], 511, cb, arg, &out[i]);
		if (r < 0 && skip_missing && i > 0 &&
		    (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)) {
			DUET_WARN(who, "no %s on this host (%s): skipped",
				  duet_sockaddr_format(&addrs[i], where,
						       sizeof(where)),
				  duet_strerror(r));
			return (int)i;
		}
		if (r < 0) {
			DUET_ERROR(who, "cannot listen on TCP %s: %s",
				   duet_sockaddr_format(&addrs[i], where,
							sizeof(where)),
				   duet_strerror(r));
			while (i-- > 0)
				duet_tcp_close(out[i]);
			return r;
		}
	}
	return (int)n;
}

int duet_tcp_connect(struct duet_stack *stack, const struct duet_sockaddr *to,
		     const struct duet_tcp_callbacks *cbs, void *arg,
		     struct duet_tcp **out)
{
	int r = check_family(stack, to);

	if (r < 0)
		return r;
	if (cbs == NULL || out == NULL || to->port == 0)
		return -EINVAL;
	r = stack->ops->tcp_connect(stack, to, out);
	if (r < 0)
		return r;
	duet_tcp_set_callbacks(*out, cbs, arg);
	return 0;
}

void duet_tcp_set_callbacks(struct duet_tcp *c,
			    const struct duet_tcp_callbacks *cbs, void *arg)
{
	assert(cbs != NULL);
	c->cbs = cbs;
	c->arg = arg;
}

long duet_tcp_send(struct duet_tcp *c, const void *data, size_t len)
{
	if (c->closed)
		return -ENOTCONN;
	if (data == NULL || len == 0)
		return -EINVAL;
	return c->stack->ops->tcp_send(c, data, len);
}

size_t duet_tcp_send_space(const struct duet_tcp *c)
{
	return c->closed ? 0 : c->stack->ops->tcp_send_space(c);
}

size_t duet_tcp_send_queued(const struct duet_tcp *c)
{
	return c->closed ? 0 : c->stack->ops->tcp_send_queued(c);
}

int duet_tcp_shutdown(struct duet_tcp *c)
{
	if (c->closed)
		return -ENOTCONN;
	return c->stack->ops->tcp_shutdown(c);
}

void duet_tcp_pause(struct duet_tcp *c)
{
	if (!c->closed && c->stack->ops->tcp_pause != NULL)
		c->stack->ops->tcp_pause(c);
}

void duet_tcp_resume(struct duet_tcp *c)
{
	if (!c->closed && c->stack->ops->tcp_resume != NULL)
		c->stack->ops->tcp_resume(c);
}

void duet_tcp_close(struct duet_tcp *c)
{
	assert(!c->closed && "duet_tcp_close on a closed connection");
	c->closed = true;
	c->stack->ops->tcp_close(c);
}

void duet_tcp_abort(struct duet_tcp *c)
{
	assert(!c->closed && "duet_tcp_abort on a closed connection");
	c->closed = true;
	c->stack->ops->tcp_abort(c);
}

int duet_tcp_local(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	return c->closed ? -ENOTCONN : c->stack->ops->tcp_local(c, out);
}

int duet_tcp_peer(const struct duet_tcp *c, struct duet_sockaddr *out)
{
	return c->closed ? -ENOTCONN : c->stack->ops->tcp_peer(c, out);
}

int duet_tcp_nodelay(struct duet_tcp *c, bool on)
{
	if (c->closed)
		return -ENOTCONN;
	if (c->stack->ops->tcp_nodelay == NULL)
		return 0;
	return c->stack->ops->tcp_nodelay(c, on);
}

int duet_udp_bind(struct duet_stack *stack, const struct duet_sockaddr *addr,
		  duet_udp_recv_cb cb, void *arg, struct duet_udp **out)
{
	int r = check_family(stack, addr);

	if (r < 0)
		return r;
	if (cb == NULL || out == NULL)
		return -EINVAL;
	return stack->ops->udp_bind(stack, addr, cb, arg, out);
}

int duet_udp_send(struct duet_udp *u, const struct duet_sockaddr *to,
		  const void *data, size_t len)
{
	int r = check_family(u->stack, to);

	if (u->closed)
		return -ENOTCONN;
	if (r < 0)
		return r;
	if (data == NULL && len > 0)
		return -EINVAL;
	if (len > 65507)
		return -EMSGSIZE;
	return u->stack->ops->udp_send(u, to, data, len);
}

int duet_udp_local(const struct duet_udp *u, struct duet_sockaddr *out)
{
	return u->closed ? -ENOTCONN : u->stack->ops->udp_local(u, out);
}

void duet_udp_close(struct duet_udp *u)
{
	assert(!u->closed && "duet_udp_close on a closed endpoint");
	u->closed = true;
	u->stack->ops->udp_close(u);
}

void duet_tcp_deliver_recv(struct duet_tcp *c, const void *data, size_t len)
{
	if (!c->closed && c->cbs != NULL && c->cbs->recv != NULL)
		c->cbs->recv(c, data, len, c->arg);
}

void duet_tcp_deliver_writable(struct duet_tcp *c)
{
	if (!c->closed && c->cbs != NULL && c->cbs->writable != NULL)
		c->cbs->writable(c, c->arg);
}

void duet_tcp_deliver_connected(struct duet_tcp *c)
{
	if (!c->closed && c->cbs != NULL && c->cbs->connected != NULL)
		c->cbs->connected(c, c->arg);
}

void duet_tcp_deliver_error(struct duet_tcp *c, int err)
{
	if (c->closed)
		return;
	c->closed = true;
	if (c->cbs != NULL && c->cbs->error != NULL)
		c->cbs->error(c, err, c->arg);
}

void duet_udp_deliver(struct duet_udp *u, const void *data, size_t len,
		      const struct duet_sockaddr *from)
{
	if (!u->closed)
		u->cb(u, data, len, from, u->arg);
}
