/* The connection-slot policy every server shares; see duet/connpool.h. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duet/connpool.h>
#include <duet/error.h>
#include <duet/log.h>

struct duet_connpool_peer {
	struct duet_connpool_peer *next; /* in its bucket */
	struct duet_ipaddr ip;
	unsigned n; /* connections from ip */
};

static const char *const reason_names[DUET_EVICT_REASONS] = {
    [DUET_EVICT_IDLE_TIMEOUT] = "idle",
    [DUET_EVICT_REQUEST_TIMEOUT] = "slow request",
    [DUET_EVICT_FULL_IDLE] = "pool full, idle",
    [DUET_EVICT_FULL_PARTIAL] = "pool full, incomplete request",
    [DUET_EVICT_PEER] = "peer at its limit",
};

static size_t addr_len(const struct duet_ipaddr *ip)
{
	return ip->family == DUET_AF_INET ? 4 : 16;
}

/* FNV-1a of the address. */
static size_t peer_bucket(const struct duet_connpool *p,
			  const struct duet_ipaddr *ip)
{
	uint32_t h = 2166136261u ^ (uint32_t)ip->family;

	for (size_t i = 0; i < addr_len(ip); i++) {
		h ^= ip->bytes[i];
		h *= 16777619u;
	}
	return h & (p->nbuckets - 1);
}

static struct duet_connpool_peer *peer_find(const struct duet_connpool *p,
					    const struct duet_ipaddr *ip)
{
	struct duet_connpool_peer *e = p->peers[peer_bucket(p, ip)];

	while (e != NULL && !duet_ipaddr_equal(&e->ip, ip))
		e = e->next;
	return e;
}

static void peer_put(struct duet_connpool *p, struct duet_connpool_peer *e)
{
	struct duet_connpool_peer **pp = &p->peers[peer_bucket(p, &e->ip)];

	if (--e->n > 0)
		return;
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	free(e);
}

static void on_bound(struct duet_timer *t, void *arg)
{
	struct duet_pooled *pc = arg;
	struct duet_connpool *p = pc->pool;
	enum duet_evict_reason why =
	    pc->partial ? DUET_EVICT_REQUEST_TIMEOUT : DUET_EVICT_IDLE_TIMEOUT;
	(void)t;

	p->stats.evicted[why]++;
	p->evict(pc, why, p->arg);
}

/* Ends pc to make room; false if the server did not remove it. */
static bool evict(struct duet_connpool *p, struct duet_pooled *pc,
		  enum duet_evict_reason why)
{
	unsigned before = p->count;

	p->stats.evicted[why]++;
	p->evict(pc, why, p->arg);
	assert(p->count == before - 1 && "evict must remove the connection");
	return p->count < before;
}

/* The least-progressed connection not busy (of peer e, if not NULL);
 * NULL if none, or if it is still within its grace (*young then). */
static struct duet_pooled *victim(const struct duet_connpool *p,
				  const struct duet_connpool_peer *e,
				  bool *young)
{
	duet_time_t now = duet_loop_now(p->loop);
	struct duet_list *l;

	*young = false;
	duet_list_foreach(l, &p->idle)
	{
		struct duet_pooled *pc =
		    duet_container_of(l, struct duet_pooled, link);
		if (e != NULL && pc->peer != e)
			continue;
		if (now - pc->since < p->cfg.grace) {
			*young = true; /* and so is every later one */
			return NULL;
		}
		return pc;
	}
	return NULL;
}

int duet_connpool_init(struct duet_connpool *p, struct duet_loop *loop,
		       const struct duet_connpool_config *cfg,
		       duet_connpool_evict_cb evict_cb, void *arg)
{
	if (cfg->max_conns == 0 || cfg->idle_timeout == 0 ||
	    cfg->request_timeout == 0)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->cfg = *cfg;
	if (p->cfg.max_per_peer == 0 || p->cfg.max_per_peer > cfg->max_conns)
		p->cfg.max_per_peer = cfg->max_conns;
	p->evict = evict_cb;
	p->arg = arg;
	duet_list_init(&p->idle);
	duet_list_init(&p->busy);
	p->nbuckets = 16;
	while (p->nbuckets < cfg->max_conns / 8)
		p->nbuckets *= 2;
	p->peers = calloc(p->nbuckets, sizeof(*p->peers));
	return p->peers != NULL ? 0 : -ENOMEM;
}

void duet_connpool_fini(struct duet_connpool *p)
{
	assert(p->count == 0);
	free(p->peers);
	p->peers = NULL;
}

int duet_connpool_admit(struct duet_connpool *p, struct duet_pooled *pc,
			const struct duet_ipaddr *peer)
{
	struct duet_connpool_peer *e = peer_find(p, peer);
	struct duet_pooled *v;
	bool young;

	/* A share as large as the pool is no share: a full pool says why. */
	if (e != NULL && e->n >= p->cfg.max_per_peer &&
	    p->cfg.max_per_peer < p->cfg.max_conns) {
		if ((v = victim(p, e, &young)) == NULL) {
			p->stats.refused_peer++;
			return -EBUSY;
		}
		bool last = e->n == 1;
		if (!evict(p, v, DUET_EVICT_PEER))
			return -EBUSY;
		if (last)
			e = NULL; /* its record went with its connection */
	}
	if (p->count >= p->cfg.max_conns) {
		if ((v = victim(p, NULL, &young)) == NULL) {
			if (young)
				p->stats.refused_young++;
			else
				p->stats.refused_busy++;
			return -EBUSY;
		}
		bool gone = e != NULL && v->peer == e && e->n == 1;
		if (!evict(p, v,
			   v->partial ? DUET_EVICT_FULL_PARTIAL
				      : DUET_EVICT_FULL_IDLE))
			return -EBUSY;
		if (gone)
			e = NULL;
	}
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		size_t b = peer_bucket(p, peer);
		e->ip = *peer;
		e->next = p->peers[b];
		p->peers[b] = e;
	}
	e->n++;
	memset(pc, 0, sizeof(*pc));
	pc->pool = p;
	pc->peer = e;
	pc->since = duet_loop_now(p->loop);
	duet_list_insert_tail(&p->idle, &pc->link);
	duet_timer_init(p->loop, &pc->bound, on_bound, pc);
	pc->partial = p->cfg.handshake;
	duet_timer_start(
	    &pc->bound,
	    pc->partial ? p->cfg.request_timeout : p->cfg.idle_timeout, 0);
	p->count++;
	p->stats.admitted++;
	if (p->count > p->stats.peak)
		p->stats.peak = p->count;
	return 0;
}

void duet_connpool_remove(struct duet_pooled *pc)
{
	struct duet_connpool *p = pc->pool;

	duet_timer_stop(&pc->bound);
	duet_list_unlink(&pc->link);
	peer_put(p, pc->peer);
	pc->peer = NULL;
	p->count--;
}

void duet_connpool_partial(struct duet_pooled *pc)
{
	if (pc->busy || pc->partial)
		return;
	pc->partial = true;
	duet_timer_start(&pc->bound, pc->pool->cfg.request_timeout, 0);
}

void duet_connpool_busy(struct duet_pooled *pc)
{
	if (pc->busy)
		return;
	pc->busy = true;
	pc->partial = false;
	duet_timer_stop(&pc->bound);
	duet_list_unlink(&pc->link);
	duet_list_insert_tail(&pc->pool->busy, &pc->link);
}

void duet_connpool_done(struct duet_pooled *pc, bool partial)
{
	struct duet_connpool *p = pc->pool;

	pc->busy = false;
	pc->partial = partial;
	pc->since = duet_loop_now(p->loop);
	duet_list_unlink(&pc->link);
	duet_list_insert_tail(&p->idle, &pc->link);
	duet_timer_start(&pc->bound,
			 partial ? p->cfg.request_timeout : p->cfg.idle_timeout,
			 0);
}

void duet_connpool_log(const struct duet_connpool *p, const char *who)
{
	const struct duet_connpool_stats *st = &p->stats;
	char ends[256];
	size_t n = 0;

	for (int r = 0; r < DUET_EVICT_REASONS; r++)
		n += (size_t)snprintf(
		    ends + n, sizeof(ends) - n, "%s%llu %s", r > 0 ? ", " : "",
		    (unsigned long long)st->evicted[r], reason_names[r]);
	DUET_INFO(who,
		  "connections: %llu admitted, at most %u at once; ended: %s; "
		  "refused: %llu all busy, %llu all just arrived, %llu peer "
		  "at its limit",
		  (unsigned long long)st->admitted, st->peak, ends,
		  (unsigned long long)st->refused_busy,
		  (unsigned long long)st->refused_young,
		  (unsigned long long)st->refused_peer);
}

/* The record goes back to the server once nothing holds it. */
static void server_release(struct duet_tcp_server *s,
			   struct duet_server_conn *sc)
{
	s->ops->release(sc, s->arg);
	if (s->stopped && s->held == 0 && s->drained != NULL) {
		void (*drained)(void *) = s->drained;
		s->drained = NULL;
		drained(s->drained_arg);
	}
}

static void server_evict(struct duet_pooled *pc, enum duet_evict_reason why,
			 void *arg)
{
	struct duet_tcp_server *s = arg;
	struct duet_server_conn *sc =
	    duet_container_of(pc, struct duet_server_conn, slot);
	bool timed_out =
	    why == DUET_EVICT_IDLE_TIMEOUT || why == DUET_EVICT_REQUEST_TIMEOUT;

	if (timed_out && s->ops->timeout != NULL &&
	    s->ops->timeout(sc, why, s->arg))
		return;
	/* A timeout lets what is queued still go; a newcomer needs the slot
	 * now. */
	if (timed_out) {
		duet_tcp_close(sc->tcp);
	} else {
		DUET_DEBUG(s->who, "a connection evicted for a newcomer");
		duet_tcp_abort(sc->tcp);
	}
	duet_server_conn_end(sc);
}

static void server_accept(struct duet_tcp *listener, struct duet_tcp *c,
			  void *arg)
{
	struct duet_tcp_server *s = arg;
	struct duet_server_conn *sc = s->ops->open(s->arg);
	int r = -ENOMEM;
	(void)listener;

	if (sc != NULL) {
		if (duet_tcp_peer(c, &sc->peer) < 0)
			memset(&sc->peer, 0, sizeof(sc->peer));
		r = duet_connpool_admit(&s->pool, &sc->slot, &sc->peer.ip);
	}
	if (r < 0) {
		if (sc != NULL)
			s->ops->release(sc, s->arg);
		if (s->ops->refused != NULL)
			s->ops->refused(r, s->arg);
		duet_tcp_abort(c);
		return;
	}
	sc->tcp = c;
	sc->server = s;
	duet_list_insert_tail(&s->conns, &sc->link);
	s->ops->start(sc, s->arg);
}

int duet_tcp_server_start(struct duet_tcp_server *s, struct duet_loop *loop,
			  struct duet_stack *stack,
			  const struct duet_sockaddr *addrs, size_t naddrs,
			  bool skip_missing,
			  const struct duet_connpool_config *cfg,
			  const struct duet_tcp_server_ops *ops, void *arg,
			  const char *who)
{
	int r;

	if (naddrs > DUET_TCP_SERVER_LISTENERS)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	s->who = who;
	duet_list_init(&s->conns);
	if ((r = duet_connpool_init(&s->pool, loop, cfg, server_evict, s)) < 0)
		return r;
	r = duet_tcp_listen_all(stack, addrs, naddrs, skip_missing,
				server_accept, s, s->listeners, who);
	if (r < 0) {
		duet_connpool_fini(&s->pool);
		return r;
	}
	s->nlisteners = (size_t)r;
	return 0;
}

void duet_server_conn_end(struct duet_server_conn *sc)
{
	struct duet_tcp_server *s = sc->server;

	assert(!sc->ended);
	duet_connpool_remove(&sc->slot);
	duet_list_unlink(&sc->link);
	sc->ended = true;
	sc->tcp = NULL;
	if (sc->holds > 0)
		s->held++;
	else
		server_release(s, sc);
}

void duet_server_conn_hold(struct duet_server_conn *sc)
{
	assert(!sc->ended);
	sc->holds++;
}

void duet_server_conn_drop(struct duet_server_conn *sc)
{
	struct duet_tcp_server *s = sc->server;

	assert(sc->holds > 0);
	if (--sc->holds > 0 || !sc->ended)
		return;
	s->held--;
	server_release(s, sc);
}

void duet_tcp_server_stop(struct duet_tcp_server *s, void (*drained)(void *arg),
			  void *arg)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		duet_tcp_close(s->listeners[i]);
	s->nlisteners = 0;
	while (!duet_list_empty(&s->conns)) {
		struct duet_server_conn *sc = duet_container_of(
		    s->conns.next, struct duet_server_conn, link);
		duet_tcp_close(sc->tcp);
		duet_server_conn_end(sc);
	}
	duet_connpool_fini(&s->pool);
	s->stopped = true;
	if (s->held > 0) {
		s->drained = drained;
		s->drained_arg = arg;
	} else if (drained != NULL) {
		drained(arg);
	}
}
