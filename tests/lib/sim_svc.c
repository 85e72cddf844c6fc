/* SPDX-License-Identifier: MIT */
/*
 * sim_svc: the simulator's datagrams (multicast groups), name resolution
 * (numeric only) and background work (see sim.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/sim_int.h"

/* ------------------------------------------------------------ datagrams */

struct sim_dgram {
	struct sim_dgram *next;
	uint64_t time;
	int from;
	int to_group;                   /* 0: as if sent to our address */
	int on_link;
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
	struct io_udp_meta meta;
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
	memset(&meta, 0, sizeof meta);
	meta.from = (const struct sockaddr *)&from;
	meta.to_group = d->to_group;
	meta.on_link = d->on_link;
	meta.ifindex = 1;   /* every host has one link */
	u->recv(udp_base(u), d->buf, d->len, &meta);
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

int sim_io_udp_open(struct io *io, const struct io_udp_config *cfg,
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

void *sim_io_udp_data(const struct io_udp *u)
{
	return udp_of(u)->data;
}

static void udp_enqueue(struct sim *s, struct sim_udp *to, int from,
			const uint8_t *buf, size_t len, int to_group,
			int on_link)
{
	struct sim_dgram *d = malloc(sizeof(*d) + len);
	uint64_t t = s->now + sim_latency(s);

	if (d == NULL)
		return;   /* a lost datagram */
	d->next = NULL;
	d->from = from;
	d->to_group = to_group;
	d->on_link = on_link;
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

int sim_io_udp_send(struct io_udp *base, const uint8_t *buf,
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
		if (sim_host_state(s, v->host->index) != SIM_HOST_UP)
			continue;
		if (s->udp_loss > 0 && sim_below(s, 100) < s->udp_loss)
			continue;
		udp_enqueue(s, v, from, buf, len, 1, 1);
	}
	return 0;
}

int sim_udp_inject(struct sim *s, int to, int from, const uint8_t *buf,
		   size_t len, int to_group, int on_link)
{
	struct sim_node *n;
	int got = 0;

	for (n = s->udps.next; n != &s->udps; n = n->next) {
		struct sim_udp *v = SIM_CONTAINER(n, struct sim_udp, node);

		if (v->closed || v->host->index != to ||
		    sim_host_state(s, to) != SIM_HOST_UP)
			continue;
		udp_enqueue(s, v, from, buf, len, to_group, on_link);
		got++;
	}
	return got;
}

void sim_io_udp_close(struct io_udp *base, void (*cb)(void *arg),
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

int sim_io_resolve(struct io *io, const char *host, const char *port,
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

void *sim_io_resolve_data(const struct io_resolve *r)
{
	return ((const struct sim_resolve *)(const void *)r)->data;
}

void sim_io_resolve_cancel(struct io_resolve *base)
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

int sim_io_work(struct io *io, io_work_fn work, io_work_done_fn done,
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

void sim_svc_free_all(struct sim *s)
{
	struct sim_node *n;

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
}
