/* SPDX-License-Identifier: MIT */
/*
 * io_uv: the io instance over libuv and its loop services (clocks,
 * random, timers, name resolution, background work). The peer, datagram
 * and stream ops live in io_uv_peer.c, io_uv_udp.c and io_uv_stream.c;
 * this file assembles the one vtable.
 */
#include "io/io_uv.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "io/io_uv_int.h"

/* ------------------------------------------------------------ clocks */

static uint64_t io_uv_now_ms(struct io *io)
{
	return uv_now(io_uv_loop(io));
}

static uint64_t io_uv_wall_ms(struct io *io)
{
	uv_timeval64_t tv;

	(void)io;
	if (uv_gettimeofday(&tv) != 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static uint32_t io_uv_random(struct io *io, uint32_t upper)
{
	(void)io;
	assert(upper > 0);
	return randombytes_uniform(upper);
}

/* ------------------------------------------------------------ timers */

struct timer_impl {
	struct io_timer base;           /* first: what the owner sees */
	uv_timer_t handle;
	io_timer_cb cb;
};

static void timer_fired(uv_timer_t *h)
{
	struct timer_impl *t = h->data;

	t->cb(&t->base);
}

/* The handle is freed only here, so a timer freed inside its own
 * callback stays valid until that callback has returned. */
static void timer_closed(uv_handle_t *h)
{
	struct timer_impl *t = h->data;

	io_uv_release(t->base.io);
	free(t);
}

static struct io_timer *io_uv_timer_new(struct io *io, io_timer_cb cb,
					void *data)
{
	struct timer_impl *t;

	assert(cb != NULL);
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->base.io = io;
	t->base.data = data;
	t->cb = cb;
	/* Cannot fail: a timer is only a struct in the loop. */
	uv_timer_init(io_uv_loop(io), &t->handle);
	t->handle.data = t;
	io_uv_of(io)->live++;
	return &t->base;
}

static void io_uv_timer_start(struct io_timer *base, uint64_t timeout_ms,
			      uint64_t repeat_ms)
{
	struct timer_impl *t = (struct timer_impl *)base;

	assert(!uv_is_closing((uv_handle_t *)&t->handle));
	uv_timer_start(&t->handle, timer_fired, timeout_ms, repeat_ms);
}

static void io_uv_timer_stop(struct io_timer *base)
{
	struct timer_impl *t = (struct timer_impl *)base;

	uv_timer_stop(&t->handle);
}

static int io_uv_timer_active(const struct io_timer *base)
{
	const struct timer_impl *t = (const struct timer_impl *)base;

	return uv_is_active((const uv_handle_t *)&t->handle);
}

static void io_uv_timer_weak(struct io_timer *base)
{
	struct timer_impl *t = (struct timer_impl *)base;

	uv_unref((uv_handle_t *)&t->handle);
}

static void io_uv_timer_free(struct io_timer *base)
{
	struct timer_impl *t = (struct timer_impl *)base;

	assert(!uv_is_closing((uv_handle_t *)&t->handle));
	uv_timer_stop(&t->handle);
	uv_close((uv_handle_t *)&t->handle, timer_closed);
}

/* ------------------------------------------------------------ resolve */

struct resolve_impl {
	struct io_resolve base;         /* first: the io that made it */
	uv_getaddrinfo_t req;
	io_resolve_cb cb;
	void *data;
	int cancelled;
};

/* At most this many addresses of one name are handed out. */
#define IO_UV_RESOLVE_MAX 16

static void resolve_done(uv_getaddrinfo_t *req, int status,
			 struct addrinfo *res)
{
	struct resolve_impl *r = req->data;
	const struct sockaddr *addrs[IO_UV_RESOLVE_MAX];
	const struct addrinfo *ai;
	size_t n = 0;

	if (!r->cancelled) {
		for (ai = res; status == 0 && ai != NULL &&
			       n < IO_UV_RESOLVE_MAX; ai = ai->ai_next)
			if (ai->ai_family == AF_INET ||
			    ai->ai_family == AF_INET6)
				addrs[n++] = ai->ai_addr;
		if (n > 0)
			r->cb(&r->base, 0, addrs, n);
		else
			r->cb(&r->base, RUMOR_ENET, NULL, 0);
	}
	uv_freeaddrinfo(res);
	io_uv_release(r->base.io);
	free(r);
}

static int io_uv_resolve(struct io *io, const char *host, const char *port,
			 io_resolve_cb cb, void *data, struct io_resolve **out,
			 struct err *err)
{
	struct resolve_impl *r;
	struct addrinfo hints;
	int rv;

	assert(host != NULL && cb != NULL);
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "io: out of memory for a resolution");
	r->base.io = io;
	r->cb = cb;
	r->data = data;
	r->req.data = r;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rv = uv_getaddrinfo(io_uv_loop(io), &r->req, resolve_done, host, port,
			    &hints);
	if (rv != 0) {
		free(r);
		return err_set(err, RUMOR_ENET, "io: cannot resolve '%s': %s",
			       host, uv_strerror(rv));
	}
	io_uv_of(io)->live++;
	if (out != NULL)
		*out = &r->base;
	return 0;
}

static void *io_uv_resolve_data(const struct io_resolve *base)
{
	return ((const struct resolve_impl *)base)->data;
}

/* The request may be running in the thread pool already: then uv_cancel
 * fails and the result is dropped in resolve_done, which frees it. */
static void io_uv_resolve_cancel(struct io_resolve *base)
{
	struct resolve_impl *r = (struct resolve_impl *)base;

	r->cancelled = 1;
	uv_cancel((uv_req_t *)&r->req);
}

/* ------------------------------------------------------------ work */

struct work_impl {
	uv_work_t req;
	struct io *io;
	io_work_fn work;
	io_work_done_fn done;
	void *arg;
};

static void work_run(uv_work_t *req)
{
	struct work_impl *w = req->data;

	w->work(w->arg);
}

static void work_after(uv_work_t *req, int status)
{
	struct work_impl *w = req->data;
	io_work_done_fn done = w->done;
	void *arg = w->arg;

	io_uv_release(w->io);
	free(w);
	done(arg, status == UV_ECANCELED ? RUMOR_ECLOSED : 0);
}

static int io_uv_work(struct io *io, io_work_fn work, io_work_done_fn done,
		      void *arg)
{
	struct work_impl *w;
	int rv;

	assert(work != NULL && done != NULL);
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return RUMOR_ENOMEM;
	w->io = io;
	w->work = work;
	w->done = done;
	w->arg = arg;
	w->req.data = w;
	rv = uv_queue_work(io_uv_loop(io), &w->req, work_run, work_after);
	if (rv != 0) {
		free(w);
		return RUMOR_EIO;
	}
	io_uv_of(io)->live++;
	return 0;
}

/* ------------------------------------------------------------ instance */

static const struct io_ops io_uv_ops = {
	.now_ms = io_uv_now_ms,
	.wall_ms = io_uv_wall_ms,
	.random = io_uv_random,
	.timer_new = io_uv_timer_new,
	.timer_start = io_uv_timer_start,
	.timer_stop = io_uv_timer_stop,
	.timer_active = io_uv_timer_active,
	.timer_weak = io_uv_timer_weak,
	.timer_free = io_uv_timer_free,
	.listen = io_uv_peer_listen,
	.listener_port = io_uv_peer_listener_port,
	.listener_data = io_uv_peer_listener_data,
	.listener_stats = io_uv_peer_listener_stats,
	.listener_close = io_uv_peer_listener_close,
	.dial = io_uv_peer_dial,
	.udp_open = io_uv_udp_open,
	.udp_data = io_uv_udp_data,
	.udp_send = io_uv_udp_send,
	.udp_close = io_uv_udp_close,
	.stream_listen = io_uv_stream_listen,
	.stream_listener_data = io_uv_stream_listener_data,
	.stream_listener_close = io_uv_stream_listener_close,
	.resolve = io_uv_resolve,
	.resolve_data = io_uv_resolve_data,
	.resolve_cancel = io_uv_resolve_cancel,
	.work = io_uv_work,
};

int io_uv_new(struct io **out, uv_loop_t *loop, struct err *err)
{
	struct io_uv *u;

	assert(out != NULL && loop != NULL);
	u = calloc(1, sizeof *u);
	if (u == NULL)
		return err_set(err, RUMOR_ENOMEM, "io: out of memory");
	u->base.ops = &io_uv_ops;
	u->base.impl = u;
	u->loop = loop;
	*out = &u->base;
	return 0;
}

void io_uv_release(struct io *io)
{
	struct io_uv *u = io_uv_of(io);

	assert(u->live > 0);
	if (--u->live == 0 && u->freeing)
		free(u);
}

void io_uv_free(struct io *io)
{
	struct io_uv *u;

	if (io == NULL)
		return;
	u = io_uv_of(io);
	assert(!u->freeing);
	if (u->live > 0) {
		u->freeing = 1;
		return;
	}
	free(u);
}
