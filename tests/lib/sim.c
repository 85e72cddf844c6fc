/* SPDX-License-Identifier: MIT */
/*
 * sim: the world of the simulator (see sim.h): the event queue, hosts
 * and their faults, clocks, randomness and timers. Datagrams, resolution
 * and work are in sim_svc.c, peer connections in sim_conn.c, local
 * streams in sim_stream.c.
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
			if (!ev->always &&
			    ev->seq < s->hosts[ev->host].dead_seq)
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
	s->hosts[host].dead_seq = s->seq;
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
	sim_svc_free_all(s);
	sim_conns_free_all(s);
	sim_streams_free_all(s);
	free(s->heap);
	free(s);
}
