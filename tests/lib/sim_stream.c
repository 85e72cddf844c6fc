/* SPDX-License-Identifier: MIT */
/*
 * sim_stream: simulated local byte streams (the control socket). The
 * test side connects to a host's stream listener by path; bytes arrive
 * in random chunks, so that readers must frame them themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/array.h"
#include "tests/lib/sim_int.h"

#define SIM_STREAM_PATH_MAX 107         /* sun_path, less the NUL */

struct sim_spair;
struct sim_slistener;

/* Bytes written by end[from], not yet read by end[!from]. */
struct sim_sdir {
	uint8_t *buf;
	size_t len, cap, off;
	int fin;
	int fin_reason;
	int wrote;              /* a write since the last drained */
};

struct sim_stream {
	struct io_stream base;  /* first */
	struct sim_spair *pair;
	struct sim_node node;
	int side;               /* 0: the test's client, 1: the host's */
	int host;               /* -1 for the test side */
	int owner_closed;
	int ended;
	int paused;
	void (*close_cb)(struct io_stream *s);
	struct sim_event ev_deliver, ev_drained, ev_close_cb;
};

struct sim_spair {
	struct sim *sim;
	struct sim_stream *end[2];
	struct sim_sdir dir[2];
	int ends_live;
	struct sim_slistener *listener;         /* until accepted */
	struct sim_event ev_accept;
};

/* Starts with its io, as io.h's struct io_stream_listener does. */
struct sim_slistener {
	struct io *io;
	struct sim_host *host;
	struct sim_node node;
	char *path;
	int closed;
	io_stream_accept_cb accept;
	void *data;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct sim_event ev_close;
};

static size_t sdir_avail(const struct sim_sdir *d)
{
	return d->len - d->off;
}

static void sdir_clear(struct sim_sdir *d)
{
	d->len = d->off = 0;
}

static void stream_arm(struct sim *s, struct sim_spair *p, int to)
{
	struct sim_stream *r = p->end[to];
	struct sim_sdir *d = &p->dir[!to];

	if (r == NULL || r->owner_closed || r->paused)
		return;
	if (sdir_avail(d) > 0 || d->fin)
		sim_event_at(s, &r->ev_deliver, s->now + 1);
}

static void stream_deliver(struct sim *s, struct sim_event *ev)
{
	struct sim_stream *r = SIM_CONTAINER(ev, struct sim_stream, ev_deliver);
	struct sim_spair *p = r->pair;
	struct sim_sdir *d = &p->dir[!r->side];
	struct sim_stream *w = p->end[!r->side];
	size_t avail = sdir_avail(d), n;
	uint8_t *chunk;

	if (r->owner_closed || r->paused || r->ended)
		return;
	if (avail == 0) {
		if (d->fin) {
			r->ended = 1;
			if (r->base.handlers.closed != NULL)
				r->base.handlers.closed(&r->base,
							d->fin_reason,
							"stream closed");
		}
		return;
	}
	/* Random chunks: readers must not rely on write boundaries. */
	n = 1 + sim_below(s, (uint32_t)(avail > 4096 ? 4096 : avail));
	chunk = malloc(n);
	if (chunk == NULL)
		abort();
	memcpy(chunk, d->buf + d->off, n);
	d->off += n;
	if (sdir_avail(d) == 0) {
		sdir_clear(d);
		if (w != NULL && d->wrote && !w->owner_closed) {
			d->wrote = 0;
			sim_event_at(s, &w->ev_drained, s->now);
		}
	}
	stream_arm(s, p, r->side);
	if (r->base.handlers.read != NULL)
		r->base.handlers.read(&r->base, chunk, n);
	free(chunk);
}

static void stream_drained(struct sim *s, struct sim_event *ev)
{
	struct sim_stream *w = SIM_CONTAINER(ev, struct sim_stream, ev_drained);

	(void)s;
	if (!w->owner_closed && !w->ended && w->base.handlers.drained != NULL)
		w->base.handlers.drained(&w->base);
}

static void pair_free(struct sim *s, struct sim_spair *p)
{
	sim_event_cancel(s, &p->ev_accept);
	free(p->dir[0].buf);
	free(p->dir[1].buf);
	free(p);
}

static void stream_free(struct sim *s, struct sim_stream *st)
{
	struct sim_spair *p = st->pair;

	sim_event_cancel(s, &st->ev_deliver);
	sim_event_cancel(s, &st->ev_drained);
	sim_event_cancel(s, &st->ev_close_cb);
	sim_list_del(&st->node);
	p->end[st->side] = NULL;
	free(st);
	if (--p->ends_live == 0 && !sim_event_queued(&p->ev_accept))
		pair_free(s, p);
}

static void stream_close_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_stream *st =
		SIM_CONTAINER(ev, struct sim_stream, ev_close_cb);

	if (st->close_cb != NULL)
		st->close_cb(&st->base);
	stream_free(s, st);
}

static int stream_write(struct io_stream *base, const uint8_t *buf,
			size_t len, struct err *err)
{
	struct sim_stream *st = (struct sim_stream *)base;
	struct sim_spair *p = st->pair;
	struct sim_sdir *d = &p->dir[st->side];
	uint8_t *b;

	if (st->owner_closed || st->ended)
		return err_set(err, RUMOR_ECLOSED, "stream closed");
	if (d->fin)
		return 0;   /* the reader is gone: lost */
	if (d->len + len > d->cap) {
		b = array_grow(d->buf, &d->cap, d->len + len, 1, 256);
		if (b == NULL)
			return err_set(err, RUMOR_ENOMEM, "out of memory");
		d->buf = b;
	}
	if (len > 0)
		memcpy(d->buf + d->len, buf, len);
	d->len += len;
	d->wrote = 1;
	stream_arm(p->sim, p, !st->side);
	return 0;
}

static size_t stream_queued(const struct io_stream *base)
{
	const struct sim_stream *st = (const struct sim_stream *)base;

	return sdir_avail(&st->pair->dir[st->side]);
}

static void stream_pause(struct io_stream *base)
{
	((struct sim_stream *)base)->paused = 1;
}

static void stream_resume(struct io_stream *base)
{
	struct sim_stream *st = (struct sim_stream *)base;

	st->paused = 0;
	stream_arm(st->pair->sim, st->pair, st->side);
}

/* The direction from side ends: its reader hears reason once it has
 * read what is left (keep) or at once (not keep). */
static void stream_fin(struct sim *s, struct sim_spair *p, int side,
		       int keep, int reason)
{
	struct sim_sdir *d = &p->dir[side];

	if (!keep)
		sdir_clear(d);
	if (d->fin)
		return;
	d->fin = 1;
	d->fin_reason = reason;
	stream_arm(s, p, !side);
}

static void stream_close(struct io_stream *base,
			 void (*cb)(struct io_stream *s))
{
	struct sim_stream *st = (struct sim_stream *)base;
	struct sim_spair *p = st->pair;
	struct sim *s = p->sim;

	if (st->owner_closed)
		return;
	st->owner_closed = 1;
	st->close_cb = cb;
	sim_event_cancel(s, &st->ev_deliver);
	sim_event_cancel(s, &st->ev_drained);
	/* Queued writes are flushed first, then the peer hears the close. */
	stream_fin(s, p, st->side, 1, RUMOR_ECLOSED);
	sdir_clear(&p->dir[!st->side]);
	p->dir[!st->side].fin = 1;
	sim_event_at(s, &st->ev_close_cb, s->now);
}

static const struct io_stream_ops sim_stream_ops = {
	.write = stream_write,
	.queued = stream_queued,
	.pause = stream_pause,
	.resume = stream_resume,
	.close = stream_close,
};

static struct sim_stream *stream_new(struct sim *s, struct sim_spair *p,
				     int side, int host)
{
	struct sim_stream *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->base.ops = &sim_stream_ops;
	st->pair = p;
	st->side = side;
	st->host = host;
	sim_event_init(&st->ev_deliver, SIM_EV_STREAM_DELIVER, host, 0,
		       stream_deliver);
	sim_event_init(&st->ev_drained, SIM_EV_STREAM_DRAINED, host, 0,
		       stream_drained);
	sim_event_init(&st->ev_close_cb, SIM_EV_STREAM_CLOSE_CB, host, 1,
		       stream_close_fire);
	sim_list_add(&s->streams, &st->node);
	p->end[side] = st;
	p->ends_live++;
	return st;
}

/* ------------------------------------------------------------ listeners */

static struct io_stream_listener *slistener_base(struct sim_slistener *l)
{
	return (struct io_stream_listener *)(void *)l;
}

static struct sim_slistener *slistener_of(const struct io_stream_listener *l)
{
	return (struct sim_slistener *)(uintptr_t)l;
}

static struct sim_slistener *slistener_find(struct sim *s, const char *path)
{
	struct sim_node *n;
	struct sim_slistener *l;

	for (n = s->slisteners.next; n != &s->slisteners; n = n->next) {
		l = SIM_CONTAINER(n, struct sim_slistener, node);
		if (!l->closed && strcmp(l->path, path) == 0 &&
		    l->host->state != SIM_HOST_DEAD)
			return l;
	}
	return NULL;
}

static void slistener_close_fire(struct sim *s, struct sim_event *ev)
{
	struct sim_slistener *l =
		SIM_CONTAINER(ev, struct sim_slistener, ev_close);

	(void)s;
	if (l->close_cb != NULL)
		l->close_cb(l->close_arg);
	sim_list_del(&l->node);
	free(l->path);
	free(l);
}

int sim_io_stream_listen(struct io *io, const char *path,
			 io_stream_accept_cb accept, void *data,
			 struct io_stream_listener **out, struct err *err)
{
	struct sim_host *h = sim_host_of(io);
	struct sim_slistener *l;

	if (path == NULL || strlen(path) > SIM_STREAM_PATH_MAX)
		return err_set(err, RUMOR_ECONFIG, "control socket path "
			       "too long");
	if (slistener_find(h->sim, path) != NULL)
		return err_set(err, RUMOR_EBUSY, "%s: a live listener "
			       "answers there", path);
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->path = strdup(path)) == NULL) {
		free(l);
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	}
	l->io = io;
	l->host = h;
	l->accept = accept;
	l->data = data;
	sim_event_init(&l->ev_close, SIM_EV_SLISTENER_CLOSE_CB, h->index, 1,
		       slistener_close_fire);
	sim_list_add(&h->sim->slisteners, &l->node);
	*out = slistener_base(l);
	return 0;
}

void *sim_io_stream_listener_data(const struct io_stream_listener *l)
{
	return slistener_of(l)->data;
}

void sim_io_stream_listener_close(struct io_stream_listener *base,
				  void (*cb)(void *arg), void *arg)
{
	struct sim_slistener *l = slistener_of(base);
	struct sim *s = l->host->sim;
	struct sim_node *n;

	if (l->closed)
		return;
	l->closed = 1;
	l->close_cb = cb;
	l->close_arg = arg;
	/* Clients not yet accepted are refused. */
	for (n = s->streams.next; n != &s->streams; n = n->next) {
		struct sim_stream *st =
			SIM_CONTAINER(n, struct sim_stream, node);

		if (st->pair->listener == l) {
			st->pair->listener = NULL;
			sim_event_cancel(s, &st->pair->ev_accept);
			stream_fin(s, st->pair, 1, 0, RUMOR_ECLOSED);
		}
	}
	sim_event_at(s, &l->ev_close, s->now);
}

/* ------------------------------------------------------------ the client */

static void pair_accept(struct sim *s, struct sim_event *ev)
{
	struct sim_spair *p = SIM_CONTAINER(ev, struct sim_spair, ev_accept);
	struct sim_slistener *l = p->listener;
	struct sim_stream *sv;

	p->listener = NULL;
	if (p->end[0] == NULL) {
		if (p->ends_live == 0)
			pair_free(s, p);
		return;
	}
	if (l == NULL || l->closed)
		return;
	sv = stream_new(s, p, 1, l->host->index);
	if (sv == NULL) {
		stream_fin(s, p, 1, 0, RUMOR_ENET);
		return;
	}
	l->accept(slistener_base(l), &sv->base);
	stream_arm(s, p, 1);
}

int sim_stream_connect(struct sim *s, const char *path,
		       const struct io_stream_handlers *h, void *data,
		       struct io_stream **out, struct err *err)
{
	struct sim_slistener *l = slistener_find(s, path);
	struct sim_spair *p;
	struct sim_stream *c;

	if (l == NULL)
		return err_set(err, RUMOR_ENET, "%s: nothing listens", path);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	p->sim = s;
	p->listener = l;
	c = stream_new(s, p, 0, -1);
	if (c == NULL) {
		free(p);
		return err_set(err, RUMOR_ENOMEM, "out of memory");
	}
	c->base.handlers = *h;
	c->base.data = data;
	sim_event_init(&p->ev_accept, SIM_EV_STREAM_ACCEPT, l->host->index, 0,
		       pair_accept);
	sim_event_at(s, &p->ev_accept, s->now + 1);
	*out = &c->base;
	return 0;
}

void sim_streams_kill_host(struct sim *s, int host)
{
	struct sim_node *n;

	for (n = s->streams.next; n != &s->streams; n = n->next) {
		struct sim_stream *st =
			SIM_CONTAINER(n, struct sim_stream, node);

		if (st->side == 1 && st->host == host)
			stream_fin(s, st->pair, 1, 0, RUMOR_ENET);
	}
}

void sim_streams_free_all(struct sim *s)
{
	struct sim_node *n;

	while ((n = s->streams.next) != &s->streams) {
		struct sim_stream *st =
			SIM_CONTAINER(n, struct sim_stream, node);

		stream_free(s, st);
	}
	while ((n = s->slisteners.next) != &s->slisteners) {
		struct sim_slistener *l =
			SIM_CONTAINER(n, struct sim_slistener, node);

		sim_list_del(n);
		free(l->path);
		free(l);
	}
}
