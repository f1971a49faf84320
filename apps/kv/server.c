/* kv's connections (server.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <duet/error.h>
#include <duet/log.h>

#include "server.h"

struct kv_conn;

/* Replies held back behind a write that is not durable yet: a ticket's
 * block holds that command's reply; a plain block holds the replies after
 * it until the next ticket. */
struct held {
	struct duet_list link;
	struct kv_conn *conn; /* NULL once the connection is gone */
	struct kv_ticket ticket;
	bool waits; /* a ticket's block: ready once ticket.pending is 0 */
	struct kv_buf reply;
};

struct kv_conn {
	struct duet_server_conn sc;
	struct kv_server *s;
	struct kv_client client;
	struct kv_request req;
	struct kv_buf in;
	struct kv_buf out; /* replies ready to send */
	size_t out_off;
	struct duet_list held; /* oldest first */
	size_t held_bytes;
	struct held *current; /* the running command's ticket block */
	bool paused, eof, closing, answered;
	bool shut; /* FIN sent after the last reply; input is dropped */
	size_t need; /* input the parser needs before it can go on */
	unsigned serving; /* serve() on the stack: no freeing under it */
	bool dead;
	bool no_ticket; /* a ticket could not be made: drop the connection */
	struct duet_defer settled; /* replies released: send them */
};

static void held_free(struct held *h)
{
	kv_buf_free(&h->reply);
	free(h);
}

static void conn_release(struct duet_server_conn *sc, void *arg)
{
	struct kv_conn *k = duet_container_of(sc, struct kv_conn, sc);
	struct kv_core *core = k->s->core;
	(void)arg;

	while (!duet_list_empty(&k->held)) {
		struct held *h =
		    duet_container_of(k->held.next, struct held, link);
		duet_list_unlink(&h->link);
		if (h->waits && h->ticket.pending > 0)
			h->conn = NULL; /* freed when its writes complete */
		else
			held_free(h);
	}
	duet_defer_cancel(&k->settled);
	kv_request_free(&k->req);
	kv_buf_free(&k->in);
	kv_buf_free(&k->out);
	free(k->client.name);
	core->clients--;
	free(k);
}

static void conn_free(struct kv_conn *k)
{
	duet_server_conn_end(&k->sc); /* conn_release() */
}

/* Ends the connection now (a reset), or once serve() has unwound. */
static void conn_abort(struct kv_conn *k)
{
	if (k->dead)
		return;
	k->dead = true;
	duet_tcp_abort(k->sc.tcp);
	if (k->serving == 0)
		conn_free(k);
}

static size_t out_pending(const struct kv_conn *k)
{
	return k->out.len - k->out_off;
}

/* Hands ready output to the stack; false if the connection is gone. */
static bool conn_flush(struct kv_conn *k)
{
	while (out_pending(k) > 0) {
		long n = duet_tcp_send(k->sc.tcp, k->out.p + k->out_off,
				       out_pending(k));
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			DUET_DEBUG("kv", "send: %s", duet_strerror((int)n));
			conn_abort(k);
			return false;
		}
		k->out_off += (size_t)n;
	}
	if (k->out_off == k->out.len) {
		k->out.len = k->out_off = 0;
		if (k->out.cap > KV_OUT_HIGH)
			kv_buf_free(&k->out); /* a big reply's buffer goes */
	} else if (k->out_off > k->out.cap / 2) {
		kv_buf_consume(&k->out, k->out_off);
		k->out_off = 0;
	}
	return true;
}

/* Moves the replies at the front of the held queue that are ready. */
static void release_held(struct kv_conn *k)
{
	while (!duet_list_empty(&k->held)) {
		struct held *h =
		    duet_container_of(k->held.next, struct held, link);
		if (h->waits && h->ticket.pending > 0)
			break;
		if (h->waits && h->ticket.status < 0) {
			h->reply.len = 0;
			kv_reply_errorf(&h->reply, "ERR store write failed: %s",
					duet_strerror(h->ticket.status));
		}
		kv_buf_put(&k->out, h->reply.p, h->reply.len);
		k->held_bytes -= h->reply.len;
		duet_list_unlink(&h->link);
		held_free(h);
	}
}

static struct held *held_new(struct kv_conn *k, bool waits)
{
	struct held *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->conn = k;
	h->waits = waits;
	duet_list_insert_tail(&k->held, &h->link);
	return h;
}

static void serve(struct kv_conn *k);
static void conn_pace(struct kv_conn *k);

/* The store settles a commit's writes one after another: the replies
 * they release go out together, from a defer, in one send. */
static void ticket_done(struct kv_ticket *t)
{
	struct held *h = duet_container_of(t, struct held, ticket);
	struct kv_conn *k = h->conn;

	if (k == NULL) {
		held_free(h);
		return;
	}
	duet_defer_post(&k->settled);
}

static void on_settled(struct duet_defer *d, void *arg)
{
	struct kv_conn *k = arg;
	(void)d;

	release_held(k);
	if (!conn_flush(k))
		return;
	serve(k); /* input waiting for room */
}

static struct kv_ticket *get_ticket(struct kv_ctx *ctx)
{
	struct kv_conn *k = ctx->arg;

	if (k->current == NULL && !k->no_ticket) {
		k->current = held_new(k, true);
		if (k->current == NULL) {
			/* Its writes would be acknowledged undurable: the
			 * connection is dropped instead (run() sees this). */
			k->no_ticket = true;
			return NULL;
		}
		k->current->ticket.done = ticket_done;
	}
	if (k->current == NULL)
		return NULL;
	return &k->current->ticket;
}

/* Where the next reply goes: straight out, or behind what is held. */
static struct kv_buf *sink(struct kv_conn *k)
{
	if (duet_list_empty(&k->held))
		return &k->out;
	struct held *tail = duet_container_of(k->held.prev, struct held, link);
	if (tail->waits) {
		tail = held_new(k, false);
		if (tail == NULL)
			return NULL;
	}
	return &tail->reply;
}

/* Runs one request; false if the connection must not go on. */
static bool run(struct kv_conn *k, const struct kv_arg *argv, size_t argc)
{
	struct kv_buf *out = sink(k);
	struct kv_ctx ctx = {.core = k->s->core,
			     .client = &k->client,
			     .ticket = get_ticket,
			     .arg = k};

	if (out == NULL)
		return false;
	size_t mark = out->len;
	ctx.out = out;
	kv_exec(&ctx, argv, argc);
	if (out->failed || k->no_ticket)
		return false;
	struct held *h = k->current;
	k->current = NULL;
	if (h != NULL) {
		/* The reply waits with its writes: move it into their block. */
		kv_buf_put(&h->reply, out->p + mark, out->len - mark);
		out->len = mark;
		if (h->reply.failed)
			return false;
		k->held_bytes += h->reply.len;
	} else if (out != &k->out) {
		k->held_bytes += out->len - mark;
	}
	k->answered = true;
	return true;
}

static void protocol_error(struct kv_conn *k, const char *err)
{
	struct kv_buf *out = sink(k);

	k->s->protocol_errors++;
	DUET_DEBUG("kv", "client %llu: %s",
		   (unsigned long long)k->client.id, err);
	if (out != NULL) {
		kv_reply_errorf(out, "ERR %s", err);
		if (out != &k->out)
			k->held_bytes += out->len;
	}
	k->closing = true;
}

static bool room(const struct kv_conn *k)
{
	return out_pending(k) + k->held_bytes < KV_OUT_HIGH;
}

/* Runs the whole requests buffered, while there is room for replies. */
/* Runs the whole requests buffered while there is room for replies; true
 * if it stopped for room with requests still waiting. The caller holds
 * k->serving: a connection that dies here is only marked dead. */
static bool serve_buffered(struct kv_conn *k)
{
	size_t at = 0;

	while (!k->dead && !k->closing && !k->client.quit && room(k) &&
	       at < k->in.len && k->in.len - at >= k->need) {
		size_t used;
		const char *err;
		enum kv_resp_result r =
		    kv_resp_parse(&k->req, k->in.p + at, k->in.len - at,
				  &k->s->limits, &used, &err);
		if (r == KV_RESP_MORE) {
			k->need = used;
			if (used > k->s->max_query)
				protocol_error(k, "Protocol error: the request "
						  "is over the query buffer's "
						  "limit");
			break;
		}
		k->need = 0;
		if (r == KV_RESP_ERROR) {
			protocol_error(k, err);
			break;
		}
		if (k->req.argc > 0 &&
		    !run(k, k->req.argv, k->req.argc)) {
			DUET_WARN("kv", "client %llu: out of memory: closed",
				  (unsigned long long)k->client.id);
			conn_abort(k);
			break;
		}
		at += used;
	}
	if (k->dead)
		return false;
	kv_buf_consume(&k->in, at); /* need counts from what is left */
	return !room(k) && k->in.len > 0 && !k->closing && !k->client.quit;
}

/* Serves what is buffered, hands the replies over, and goes on while
 * handing them over made room again: input already read would otherwise
 * wait for an event that never comes. */
static void serve(struct kv_conn *k)
{
	k->serving++;
	for (;;) {
		bool waiting = serve_buffered(k);
		if (k->dead)
			break;
		release_held(k);
		if (!conn_flush(k) || !waiting || !room(k))
			break;
	}
	k->serving--;
	if (k->dead) {
		if (k->serving == 0)
			conn_free(k);
		return;
	}
	conn_pace(k);
}

/* After serving: the pool hears of progress, reading follows the room
 * for replies, and a connection that is done is closed. */
static void conn_pace(struct kv_conn *k)
{
	bool waiting = !duet_list_empty(&k->held);

	/* Done reading, and everything answered has been handed over (what
	 * is left of the input, if any, is not a whole request). */
	if (k->eof && !waiting && out_pending(k) == 0) {
		duet_tcp_close(k->sc.tcp);
		conn_free(k);
		return;
	}
	/* Closing on our side (QUIT, a protocol error): the last reply goes
	 * with a FIN, and what the client still sends is read and dropped
	 * until it closes, within request_timeout; closing at once with its
	 * bytes unread would reset the connection and lose that reply. */
	if ((k->closing || k->client.quit) && !waiting && out_pending(k) == 0) {
		if (!k->shut) {
			k->shut = true;
			duet_tcp_shutdown(k->sc.tcp);
			if (k->paused)
				duet_tcp_resume(k->sc.tcp);
			k->paused = false;
			duet_connpool_done(&k->sc.slot, true);
		}
		return;
	}
	if (waiting)
		duet_connpool_busy(&k->sc.slot);
	else if (k->answered)
		duet_connpool_done(&k->sc.slot, k->in.len > 0);
	else if (k->in.len > 0)
		duet_connpool_partial(&k->sc.slot);
	k->answered = false;
	if (k->eof || k->closing || k->client.quit)
		return;
	bool full = !room(k);
	if (full && !k->paused)
		duet_tcp_pause(k->sc.tcp);
	else if (!full && k->paused)
		duet_tcp_resume(k->sc.tcp);
	k->paused = full;
}

static void conn_recv(struct duet_tcp *c, const void *data, size_t len,
		      void *arg)
{
	struct kv_conn *k = arg;
	(void)c;

	if (k->shut) { /* lingering: the client's last bytes go unread */
		if (len == 0) {
			duet_tcp_close(k->sc.tcp);
			conn_free(k);
		}
		return;
	}
	if (len == 0) {
		k->eof = true; /* answer what came, then close */
	} else {
		kv_buf_put(&k->in, data, len);
		if (k->in.failed) {
			conn_abort(k);
			return;
		}
	}
	serve(k);
}

static void conn_writable(struct duet_tcp *c, void *arg)
{
	struct kv_conn *k = arg;
	(void)c;

	if (conn_flush(k))
		serve(k);
}

static void conn_error(struct duet_tcp *c, int err, void *arg)
{
	struct kv_conn *k = arg;
	(void)c;

	DUET_DEBUG("kv", "client %llu: %s", (unsigned long long)k->client.id,
		   duet_strerror(err));
	conn_free(k); /* the stack closes it */
}

static const struct duet_tcp_callbacks conn_callbacks = {
    .recv = conn_recv, .writable = conn_writable, .error = conn_error};

/* A record, counted as a client, before the pool admits it. */
static struct duet_server_conn *conn_open(void *arg)
{
	struct kv_server *s = arg;
	struct kv_conn *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->s = s;
	duet_list_init(&k->held);
	duet_defer_init(s->loop, &k->settled, on_settled, k);
	s->core->clients++;
	return &k->sc;
}

static void conn_start(struct duet_server_conn *sc, void *arg)
{
	struct kv_server *s = arg;

	struct kv_conn *k = duet_container_of(sc, struct kv_conn, sc);

	k->client.id = ++s->core->next_client_id;
	s->core->connections++;
	duet_tcp_nodelay(sc->tcp, true);
	duet_tcp_set_callbacks(sc->tcp, &conn_callbacks, k);
}

static void conn_refused(int err, void *arg)
{
	struct kv_server *s = arg;
	(void)err;

	s->core->rejected++;
}

static const struct duet_tcp_server_ops server_ops = {.open = conn_open,
						      .start = conn_start,
						      .release = conn_release,
						      .refused = conn_refused};

int kv_server_start(struct kv_server *s, struct kv_core *core,
		    struct duet_loop *loop, struct duet_stack *stack,
		    const struct duet_sockaddr *addrs, size_t naddrs,
		    bool defaulted, const struct duet_connpool_config *pool,
		    size_t max_query)
{
	s->core = core;
	s->loop = loop;
	s->max_query = max_query;
	s->limits.max_bulk = core->max_bulk;
	s->limits.max_args = 1u << 20;
	return duet_tcp_server_start(&s->srv, loop, stack, addrs, naddrs,
				     defaulted, pool, &server_ops, s, "kv");
}

void kv_server_stop(struct kv_server *s)
{
	duet_tcp_server_stop(&s->srv, NULL, NULL);
}
