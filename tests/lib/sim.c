/* SPDX-License-Identifier: MIT */
/*
 * sim: the world of the simulator (see sim.h): the event queue, hosts
 * and their faults, clocks, randomness, timers, datagrams, name
 * resolution and background work. Peer connections are in sim_conn.c,
 * local streams in sim_stream.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tests/lib/sim_int.h"

/* ------------------------------------------------------------ lists */

void sim_list_init(struct sim_node *head)
{
	head->prev = head->next = head;
}

void sim_list_add(struct sim_node *head, struct sim_node *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

void sim_list_del(struct sim_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

/* ------------------------------------------------------------ events */

static int ev_before(const struct sim_event *a, const struct sim_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->seq < b->seq;
}

static void heap_set(struct sim *s, size_t i, struct sim_event *ev)
{
	s->heap[i] = ev;
	ev->slot = i + 1;
}

static void heap_up(struct sim *s, size_t i)
{
	struct sim_event *ev = s->heap[i];

	while (i > 0 && ev_before(ev, s->heap[(i - 1) / 2])) {
		heap_set(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(s, i, ev);
}

static void heap_down(struct sim *s, size_t i)
{
	struct sim_event *ev = s->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->n_heap)
			break;
		if (c + 1 < s->n_heap && ev_before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!ev_before(s->heap[c], ev))
			break;
		heap_set(s, i, s->heap[c]);
		i = c;
	}
	heap_set(s, i, ev);
}

void sim_event_init(struct sim_event *ev, enum sim_kind kind, int host,
		    int always, sim_event_fn fn)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->host = host;
	ev->always = always;
	ev->fn = fn;
}

void sim_event_cancel(struct sim *s, struct sim_event *ev)
{
	struct sim_event *moved;
	size_t i;

	if (ev->slot == 0)
		return;
	i = ev->slot - 1;
	ev->slot = 0;
	s->n_heap--;
	if (i == s->n_heap)
		return;
	moved = s->heap[s->n_heap];
	heap_set(s, i, moved);
	heap_up(s, i);
	heap_down(s, moved->slot - 1);
}

void sim_event_at(struct sim *s, struct sim_event *ev, uint64_t t)
{
	struct sim_event **h;

	sim_event_cancel(s, ev);
	if (s->n_heap == s->cap_heap) {
		h = array_grow(s->heap, &s->cap_heap, s->n_heap + 1,
			       sizeof(*h), 64);
		if (h == NULL) {
			/* A test harness: no way to go on without it. */
			fprintf(stderr, "sim: out of memory\n");
			abort();
		}
		s->heap = h;
	}
	ev->time = t < s->now ? s->now : t;
	ev->seq = s->seq++;
	s->heap[s->n_heap] = ev;
	ev->slot = ++s->n_heap;
	heap_up(s, s->n_heap - 1);
}

uint64_t sim_next_time(const struct sim *s)
{
	return s->n_heap > 0 ? s->heap[0]->time : UINT64_MAX;
}

size_t sim_pending(const struct sim *s)
{
	return s->n_heap;
}

/* ------------------------------------------------------------ random */

uint64_t sim_rand(struct sim *s)
{
	/* splitmix64 */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t sim_below(struct sim *s, uint32_t upper)
{
	return upper == 0 ? 0 : (uint32_t)(sim_rand(s) % upper);
}

uint64_t sim_latency(struct sim *s)
{
	return s->lat_min + sim_below(s, s->lat_max - s->lat_min + 1);
}

void sim_trace_mix(struct sim *s, uint64_t x)
{
	/* FNV-1a over the 8 bytes of x. */
	int i;

	for (i = 0; i < 8; i++) {
		s->trace ^= (x >> (8 * i)) & 0xff;
		s->trace *= 0x100000001b3ULL;
	}
}

uint64_t sim_trace_hash(const struct sim *s)
{
	return s->trace;
}

/* ------------------------------------------------------------ running */

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

static enum sim_host_state host_state(struct sim *s, int host)
{
	struct sim_host *h = &s->hosts[host];

	if (h->state == SIM_HOST_PAUSED && h->paused_until <= s->now)
		h->state = SIM_HOST_UP;
	return h->state;
}

enum sim_host_state sim_host_state(const struct sim *s, int host)
{
	return host_state((struct sim *)s, host);
}

int sim_step(struct sim *s)
{
	struct sim_event *ev;

	if (s->n_heap == 0)
		return 0;
	ev = s->heap[0];
	sim_event_cancel(s, ev);
	if (ev->time > s->now)
		s->now = ev->time;
	if (ev->host >= 0) {
		switch (host_state(s, ev->host)) {
		case SIM_HOST_DEAD:
			if (!ev->always)
				return 1;
			break;
		case SIM_HOST_PAUSED:
			/* A stopped process: everything waits, in order. */
			sim_event_at(s, ev, s->hosts[ev->host].paused_until);
			return 1;
		case SIM_HOST_UP:
			break;
		}
	}
	sim_trace_mix(s, ((uint64_t)ev->kind << 56) ^
		      ((uint64_t)(ev->host + 1) << 48) ^ s->now);
	ev->fn(s, ev);
	return 1;
}

void sim_run_until(struct sim *s, uint64_t t)
{
	while (s->n_heap > 0 && s->heap[0]->time <= t)
		sim_step(s);
	if (t > s->now)
		s->now = t;
}

int sim_run_while_not(struct sim *s, int (*cond)(void *arg), void *arg,
		      uint64_t deadline)
{
	for (;;) {
		if (cond(arg))
			return 1;
		if (s->n_heap == 0 || s->heap[0]->time > deadline) {
			if (deadline > s->now)
				s->now = deadline;
			return cond(arg);
		}
		sim_step(s);
	}
}

/* ------------------------------------------------------------ hosts */

void sim_host_addr(int host, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.1.%u", (unsigned)(host + 1) & 0xffu);
}

int sim_addr_host(const struct sockaddr *addr, int *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
	uint32_t a;

	if (addr == NULL || addr->sa_family != AF_INET)
		return -1;
	a = ntohl(in->sin_addr.s_addr);
	if ((a & 0xffffff00u) != 0x7f000100u || (a & 0xff) == 0 ||
	    (a & 0xff) > SIM_HOSTS_MAX)
		return -1;
	if (port != NULL)
		*port = ntohs(in->sin_port);
	return (int)(a & 0xff) - 1;
}

int sim_reachable(const struct sim *s, int a, int b)
{
	if (a < 0 || b < 0 || a >= s->n_hosts || b >= s->n_hosts)
		return 0;
	if (s->hosts[a].state == SIM_HOST_DEAD ||
	    s->hosts[b].state == SIM_HOST_DEAD)
		return 0;
	return s->hosts[a].group == s->hosts[b].group;
}

void sim_set_latency(struct sim *s, uint32_t min_ms, uint32_t max_ms)
{
	s->lat_min = min_ms < 1 ? 1 : min_ms;
	s->lat_max = max_ms < s->lat_min ? s->lat_min : max_ms;
}

void sim_set_hold(struct sim *s, uint32_t max_ms)
{
	s->hold_max = max_ms;
}

void sim_set_udp_loss(struct sim *s, unsigned percent)
{
	s->udp_loss = percent > 100 ? 100 : percent;
}

void sim_set_skew(struct sim *s, int host, int64_t skew_ms)
{
	s->hosts[host].skew_ms = skew_ms;
}

void sim_pause(struct sim *s, int host, uint64_t ms)
{
	struct sim_host *h = &s->hosts[host];

	if (host_state(s, host) == SIM_HOST_DEAD)
		return;
	if (h->state != SIM_HOST_PAUSED || h->paused_until < s->now + ms)
		h->paused_until = s->now + ms;
	h->state = SIM_HOST_PAUSED;
}

void sim_kill(struct sim *s, int host)
{
	if (s->hosts[host].state == SIM_HOST_DEAD)
		return;
	s->hosts[host].state = SIM_HOST_DEAD;
	sim_conns_kill_host(s, host);
	sim_streams_kill_host(s, host);
}

void sim_revive(struct sim *s, int host)
{
	if (s->hosts[host].state == SIM_HOST_DEAD)
		s->hosts[host].state = SIM_HOST_UP;
}

void sim_partition(struct sim *s, const int *group)
{
	int i;

	for (i = 0; i < s->n_hosts; i++)
		s->hosts[i].group = group[i];
	sim_conns_partition(s);
}

void sim_heal(struct sim *s)
{
	int i;

	for (i = 0; i < s->n_hosts; i++)
		s->hosts[i].group = 0;
}

int sim_host_group(const struct sim *s, int host)
{
	return s->hosts[host].group;
}

size_t sim_peak_queued(const struct sim *s)
{
	return s->peak_queued;
}

/* ------------------------------------------------------------ clocks */

static uint64_t sim_io_now(struct io *io)
{
	return sim_host_of(io)->sim->now;
}

static uint64_t sim_io_wall(struct io *io)
{
	struct sim_host *h = sim_host_of(io);
	int64_t w = (int64_t)(SIM_EPOCH_MS + h->sim->now) + h->skew_ms;

	return w < 0 ? 0 : (uint64_t)w;
}

static uint32_t sim_io_random(struct io *io, uint32_t upper)
{
	return sim_below(sim_host_of(io)->sim, upper);
}

/* ------------------------------------------------------------ timers */

struct sim_timer {
	struct io_timer base;   /* first: io.h's timer fields */
	struct sim_event ev;
	struct sim_node node;
	io_timer_cb cb;
	uint64_t repeat;
	int weak;
};

static void timer_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_timer *t = SIM_CONTAINER(ev, struct sim_timer, ev);

	/* Requeued before the callback, which may stop or free it. */
	if (t->repeat != 0)
		sim_event_at(s, &t->ev, s->now + t->repeat);
	t->cb(&t->base);
}

static struct io_timer *sim_io_timer_new(struct io *io, io_timer_cb cb,
					 void *data)
{
	struct sim_host *h = sim_host_of(io);
	struct sim_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->base.io = io;
	t->base.data = data;
	t->cb = cb;
	sim_event_init(&t->ev, SIM_EV_TIMER, h->index, 0, timer_fire);
	sim_list_add(&h->sim->timers, &t->node);
	return &t->base;
}

static struct sim *timer_sim(const struct io_timer *t)
{
	return sim_host_of(t->io)->sim;
}

static void sim_io_timer_start(struct io_timer *base, uint64_t timeout_ms,
			       uint64_t repeat_ms)
{
	struct sim_timer *t = (struct sim_timer *)base;
	struct sim *s = timer_sim(base);

	t->repeat = repeat_ms;
	sim_event_at(s, &t->ev, s->now + timeout_ms);
}

static void sim_io_timer_stop(struct io_timer *base)
{
	struct sim_timer *t = (struct sim_timer *)base;

	sim_event_cancel(timer_sim(base), &t->ev);
}

static int sim_io_timer_active(const struct io_timer *base)
{
	const struct sim_timer *t = (const struct sim_timer *)base;

	return sim_event_queued(&t->ev);
}

static void sim_io_timer_weak(struct io_timer *base)
{
	((struct sim_timer *)base)->weak = 1;
}

static void timer_free(struct sim *s, struct sim_timer *t)
{
	sim_event_cancel(s, &t->ev);
	sim_list_del(&t->node);
	free(t);
}

static void sim_io_timer_free(struct io_timer *base)
{
	timer_free(timer_sim(base), (struct sim_timer *)base);
}

/* ------------------------------------------------------------ datagrams */

struct sim_dgram {
	struct sim_dgram *next;
	uint64_t time;
	int from;
	size_t len;
	uint8_t buf[];
};

/* Starts with its io, as io.h's struct io_udp does. */
struct sim_udp {
	struct io *io;
	struct sim_host *host;
	struct sim_node node;
	uint32_t group_addr;            /* network order */
	uint16_t group_port;            /* host order */
	int loopback;
	int closed;
	io_udp_recv_cb recv;
	void *data;
	struct sim_dgram *head, *tail;
	struct sim_event ev_deliver, ev_close;
	void (*close_cb)(void *arg);
	void *close_arg;
};

static struct io_udp *udp_base(struct sim_udp *u)
{
	return (struct io_udp *)(void *)u;
}

static struct sim_udp *udp_of(const struct io_udp *u)
{
	return (struct sim_udp *)(uintptr_t)u;
}

static void udp_drop_all(struct sim_udp *u)
{
	struct sim_dgram *d;

	while ((d = u->head) != NULL) {
		u->head = d->next;
		free(d);
	}
	u->tail = NULL;
}

static void udp_deliver(struct sim *s, struct sim_event *ev)
{
	struct sim_udp *u = SIM_CONTAINER(ev, struct sim_udp, ev_deliver);
	struct sim_dgram *d = u->head;
	struct sockaddr_in from;
	char addr[16];

	u->head = d->next;
	if (u->head == NULL)
		u->tail = NULL;
	else
		sim_event_at(s, &u->ev_deliver, u->head->time);
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	from.sin_port = htons(u->group_port);
	sim_host_addr(d->from, addr, sizeof(addr));
	inet_pton(AF_INET, addr, &from.sin_addr);
	u->recv(udp_base(u), d->buf, d->len,
		(const struct sockaddr *)&from);
	free(d);
}

static void udp_close_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_udp *u = SIM_CONTAINER(ev, struct sim_udp, ev_close);

	(void)s;
	if (u->close_cb != NULL)
		u->close_cb(u->close_arg);
	sim_list_del(&u->node);
	free(u);
}

static int sim_io_udp_open(struct io *io, const struct io_udp_config *cfg,
			   io_udp_recv_cb recv, void *data,
			   struct io_udp **out, struct err *err)
{
	struct sim_host *h = sim_host_of(io);
	const struct sockaddr_in *g = (const struct sockaddr_in *)cfg->group;
	struct sim_udp *u;

	if (g == NULL || g->sin_family != AF_INET ||
	    !IN_MULTICAST(ntohl(g->sin_addr.s_addr)))
		return err_set(err, RUMOR_ENET, "udp: join: not an IPv4 "
			       "multicast group");
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return err_set(err, RUMOR_ENOMEM, "udp: out of memory");
	u->io = io;
	u->host = h;
	u->group_addr = g->sin_addr.s_addr;
	u->group_port = ntohs(g->sin_port);
	u->loopback = cfg->loopback;
	u->recv = recv;
	u->data = data;
	sim_event_init(&u->ev_deliver, SIM_EV_UDP_DELIVER, h->index, 0,
		       udp_deliver);
	sim_event_init(&u->ev_close, SIM_EV_UDP_CLOSE_CB, h->index, 1,
		       udp_close_fire);
	sim_list_add(&h->sim->udps, &u->node);
	*out = udp_base(u);
	return 0;
}

static void *sim_io_udp_data(const struct io_udp *u)
{
	return udp_of(u)->data;
}

static void udp_enqueue(struct sim *s, struct sim_udp *to, int from,
			const uint8_t *buf, size_t len)
{
	struct sim_dgram *d = malloc(sizeof(*d) + len);
	uint64_t t = s->now + sim_latency(s);

	if (d == NULL)
		return;   /* a lost datagram */
	d->next = NULL;
	d->from = from;
	d->len = len;
	if (len > 0)
		memcpy(d->buf, buf, len);
	if (to->tail != NULL && to->tail->time > t)
		t = to->tail->time;
	d->time = t;
	if (to->tail == NULL) {
		to->head = to->tail = d;
		sim_event_at(s, &to->ev_deliver, t);
	} else {
		to->tail->next = d;
		to->tail = d;
	}
}

static int sim_io_udp_send(struct io_udp *base, const uint8_t *buf,
			   size_t len)
{
	struct sim_udp *u = udp_of(base), *v;
	struct sim *s = u->host->sim;
	struct sim_node *n;
	int from = u->host->index;

	if (u->closed || len > 65507)
		return RUMOR_ENET;
	for (n = s->udps.next; n != &s->udps; n = n->next) {
		v = SIM_CONTAINER(n, struct sim_udp, node);
		if (v->closed || v->group_addr != u->group_addr ||
		    v->group_port != u->group_port)
			continue;
		if (v == u || (v->host->index == from && !u->loopback))
			continue;
		if (!sim_reachable(s, from, v->host->index))
			continue;
		/* A stopped process's socket buffer overflows: lost. */
		if (host_state(s, v->host->index) != SIM_HOST_UP)
			continue;
		if (s->udp_loss > 0 && sim_below(s, 100) < s->udp_loss)
			continue;
		udp_enqueue(s, v, from, buf, len);
	}
	return 0;
}

static void sim_io_udp_close(struct io_udp *base, void (*cb)(void *arg),
			     void *arg)
{
	struct sim_udp *u = udp_of(base);
	struct sim *s = u->host->sim;

	u->closed = 1;
	u->close_cb = cb;
	u->close_arg = arg;
	sim_event_cancel(s, &u->ev_deliver);
	udp_drop_all(u);
	sim_event_at(s, &u->ev_close, s->now);
}

/* ------------------------------------------------------------ resolve */

/* Starts with its io, as io.h's struct io_resolve does. */
struct sim_resolve {
	struct io *io;
	struct sim_host *host;
	struct sim_node node;
	struct sim_event ev;
	io_resolve_cb cb;
	void *data;
	int status;
	struct sockaddr_storage addr;
	int cancelled;
};

static void resolve_free(struct sim *s, struct sim_resolve *r)
{
	sim_event_cancel(s, &r->ev);
	sim_list_del(&r->node);
	free(r);
}

static void resolve_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_resolve *r = SIM_CONTAINER(ev, struct sim_resolve, ev);
	const struct sockaddr *a = (const struct sockaddr *)&r->addr;

	if (!r->cancelled) {
		if (r->status == 0)
			r->cb((struct io_resolve *)(void *)r, 0, &a, 1);
		else
			r->cb((struct io_resolve *)(void *)r, r->status, NULL,
			      0);
	}
	/* Done: freed right after its callback, as a finished request. */
	resolve_free(s, r);
}

static int parse_port(const char *port, uint16_t *out)
{
	char *end;
	unsigned long p;

	if (port == NULL || *port == '\0')
		return -1;
	p = strtoul(port, &end, 10);
	if (*end != '\0' || p > 65535)
		return -1;
	*out = (uint16_t)p;
	return 0;
}

static int sim_io_resolve(struct io *io, const char *host, const char *port,
			  io_resolve_cb cb, void *data,
			  struct io_resolve **out, struct err *err)
{
	struct sim_host *h = sim_host_of(io);
	struct sockaddr_in *in;
	struct sockaddr_in6 *in6;
	struct sim_resolve *r;
	uint16_t p = 0;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return err_set(err, RUMOR_ENOMEM, "resolve: out of memory");
	r->io = io;
	r->host = h;
	r->cb = cb;
	r->data = data;
	in = (struct sockaddr_in *)&r->addr;
	in6 = (struct sockaddr_in6 *)&r->addr;
	/* Numeric only: the simulated world has no DNS. */
	if (parse_port(port, &p) != 0) {
		r->status = RUMOR_ENET;
	} else if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
	} else {
		r->status = RUMOR_ENET;
	}
	sim_event_init(&r->ev, SIM_EV_RESOLVE, h->index, 0, resolve_fire);
	sim_list_add(&h->sim->resolves, &r->node);
	sim_event_at(h->sim, &r->ev, h->sim->now + 1);
	*out = (struct io_resolve *)(void *)r;
	return 0;
}

static void *sim_io_resolve_data(const struct io_resolve *r)
{
	return ((const struct sim_resolve *)(const void *)r)->data;
}

static void sim_io_resolve_cancel(struct io_resolve *base)
{
	struct sim_resolve *r = (struct sim_resolve *)(void *)base;
	struct sim *s = r->host->sim;

	r->cancelled = 1;
	/* Freed from the loop; always, even on a dead host. */
	r->ev.always = 1;
	sim_event_at(s, &r->ev, s->now);
}

/* ------------------------------------------------------------ work */

struct sim_work {
	struct sim_node node;
	struct sim_event ev;
	io_work_fn work;
	io_work_done_fn done;
	void *arg;
};

static void work_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_work *w = SIM_CONTAINER(ev, struct sim_work, ev);
	int status = 0;

	/* A dead process runs nothing; done still fires (cancelled) so
	 * that the node can be closed over its dead io. */
	if (s->hosts[ev->host].state == SIM_HOST_DEAD)
		status = RUMOR_ECLOSED;
	else
		w->work(w->arg);
	sim_list_del(&w->node);
	w->done(w->arg, status);
	free(w);
}

static int sim_io_work(struct io *io, io_work_fn work, io_work_done_fn done,
		       void *arg)
{
	struct sim_host *h = sim_host_of(io);
	struct sim_work *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return RUMOR_ENOMEM;
	w->work = work;
	w->done = done;
	w->arg = arg;
	sim_event_init(&w->ev, SIM_EV_WORK, h->index, 1, work_fire);
	sim_list_add(&h->sim->works, &w->node);
	sim_event_at(h->sim, &w->ev, h->sim->now + 1);
	return 0;
}

/* ------------------------------------------------------------ world */

static const struct io_ops sim_io_ops = {
	.now_ms = sim_io_now,
	.wall_ms = sim_io_wall,
	.random = sim_io_random,
	.timer_new = sim_io_timer_new,
	.timer_start = sim_io_timer_start,
	.timer_stop = sim_io_timer_stop,
	.timer_active = sim_io_timer_active,
	.timer_weak = sim_io_timer_weak,
	.timer_free = sim_io_timer_free,
	.listen = sim_io_listen,
	.listener_port = sim_io_listener_port,
	.listener_data = sim_io_listener_data,
	.listener_stats = sim_io_listener_stats,
	.listener_close = sim_io_listener_close,
	.dial = sim_io_dial,
	.udp_open = sim_io_udp_open,
	.udp_data = sim_io_udp_data,
	.udp_send = sim_io_udp_send,
	.udp_close = sim_io_udp_close,
	.stream_listen = sim_io_stream_listen,
	.stream_listener_data = sim_io_stream_listener_data,
	.stream_listener_close = sim_io_stream_listener_close,
	.resolve = sim_io_resolve,
	.resolve_data = sim_io_resolve_data,
	.resolve_cancel = sim_io_resolve_cancel,
	.work = sim_io_work,
};

int sim_new(struct sim **out, uint64_t seed, int n_hosts, struct err *err)
{
	struct sim *s;
	int i;

	if (n_hosts < 1 || n_hosts > SIM_HOSTS_MAX)
		return err_set(err, RUMOR_EINVAL, "sim: %d hosts", n_hosts);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, RUMOR_ENOMEM, "sim: out of memory");
	s->rng = seed;
	s->trace = 0xcbf29ce484222325ULL;
	s->n_hosts = n_hosts;
	s->next_port = 40000;
	sim_set_latency(s, 1, 10);
	for (i = 0; i < n_hosts; i++) {
		s->hosts[i].io.ops = &sim_io_ops;
		s->hosts[i].io.impl = &s->hosts[i];
		s->hosts[i].sim = s;
		s->hosts[i].index = i;
	}
	sim_list_init(&s->timers);
	sim_list_init(&s->conns);
	sim_list_init(&s->links);
	sim_list_init(&s->listeners);
	sim_list_init(&s->udps);
	sim_list_init(&s->streams);
	sim_list_init(&s->slisteners);
	sim_list_init(&s->resolves);
	sim_list_init(&s->works);
	*out = s;
	return 0;
}

struct io *sim_host_io(struct sim *s, int host)
{
	return &s->hosts[host].io;
}

void sim_free(struct sim *s)
{
	struct sim_node *n;

	if (s == NULL)
		return;
	/* Forget the queue first: cancels below must not touch events of
	 * objects already freed. */
	for (size_t i = 0; i < s->n_heap; i++)
		s->heap[i]->slot = 0;
	s->n_heap = 0;
	while ((n = s->timers.next) != &s->timers)
		timer_free(s, SIM_CONTAINER(n, struct sim_timer, node));
	while ((n = s->udps.next) != &s->udps) {
		struct sim_udp *u = SIM_CONTAINER(n, struct sim_udp, node);

		udp_drop_all(u);
		sim_list_del(n);
		free(u);
	}
	while ((n = s->resolves.next) != &s->resolves)
		resolve_free(s, SIM_CONTAINER(n, struct sim_resolve, node));
	while ((n = s->works.next) != &s->works) {
		sim_list_del(n);
		free(SIM_CONTAINER(n, struct sim_work, node));
	}
	sim_conns_free_all(s);
	sim_streams_free_all(s);
	free(s->heap);
	free(s);
}
