/* SPDX-License-Identifier: MIT */
/*
 * io_uv: libuv TCP behind the io vtable (see io_uv.h and io.h).
 *
 * A connection has two handles, the TCP stream and one timer. The timer
 * is the handshake deadline until the handshake ends, then the loop turn
 * on which held-back messages are delivered after a resume, or the
 * closed handler is called after a failure. The struct is freed once
 * both handles are closed, which happens only after its owner (listener
 * or user) released it, so the close callback never runs inside
 * io_conn_close().
 */
#include "io/io_uv.h"
#include "io/io_uv_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/channel.h"
#include "crypto/handshake.h"

/* Reads land here; 64 KiB is a few TCP segments' worth and keeps small
 * frames opening straight from it without a copy. */
#define IO_UV_READ_BUF (64u * 1024u)

enum uv_conn_state {
	CONN_HANDSHAKE,         /* connecting or in the handshake */
	CONN_OPEN,              /* frames flow */
	CONN_FAILED,            /* ended by the peer or a fault */
	CONN_CLOSING,           /* released by its owner: handles closing */
};

struct uv_conn {
	struct io_conn base;            /* first: what the owner sees */
	enum uv_conn_state state;
	struct io_uv_config cfg;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect_req;
	int handles_open;               /* 2 .. 0; freed at 0 */
	io_close_cb close_cb;

	/* Handshake: the message being gathered. */
	struct handshake *hs;
	uint8_t hs_msg[HANDSHAKE_MSG_MAX];
	size_t hs_have;
	uint8_t expected_server[IDENTITY_PUBLIC_BYTES];
	int has_expected_server;

	struct channel *ch;
	uint8_t *rbuf;                  /* IO_UV_READ_BUF bytes */
	/* Read bytes not yet fed because the owner paused: rbuf[held_off,
	 * held_off + held_len). Reading is stopped while any are held, so
	 * rbuf is not handed to libuv again until they are fed. */
	size_t held_off;
	size_t held_len;
	int paused;
	int reading;
	size_t queued;                  /* bytes in write requests */
	int above_low;                  /* queued reached low_watermark */
	int closed_pending;             /* handlers.closed due on the timer */
	struct err failure;

	/* Set while the connection belongs to a listener (mid-handshake). */
	struct io_uv_listener *listener;
	struct uv_conn *prev;
	struct uv_conn *next;
};

/* One write: a handshake message or a sealed frame, inline. */
struct uv_write {
	uv_write_t req;
	struct uv_conn *conn;
	size_t len;
	uint8_t data[];
};

struct io_uv_listener {
	uv_tcp_t tcp;
	struct io_uv_config cfg;
	io_uv_accept_cb accept;
	io_uv_reject_cb reject;
	void *data;
	int port;
	int closing;
	int tcp_closed;
	io_uv_listener_close_cb close_cb;
	struct uv_conn *pending;        /* connections mid-handshake */
	struct io_uv_listener_stats stats;
};

static const struct io_conn_ops uv_conn_ops;

static void conn_process(struct uv_conn *c, uint8_t *data, size_t len);
static void conn_timer(uv_timer_t *t);
static void listener_maybe_done(struct io_uv_listener *l);

/* ------------------------------------------------------------ lifetime */

/* Takes c off its listener's list of connections in their handshake. */
static void pending_unlink(struct io_uv_listener *l, struct uv_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->pending = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
}

static void conn_free(struct uv_conn *c)
{
	struct io_uv_listener *l = c->listener;

	assert(c->handles_open == 0);
	if (c->close_cb != NULL)
		c->close_cb(&c->base);
	if (l != NULL)
		pending_unlink(l, c);
	if (c->hs != NULL) {
		handshake_wipe(c->hs);
		free(c->hs);
	}
	if (c->ch != NULL) {
		channel_wipe(c->ch);
		free(c->ch);
	}
	if (c->rbuf != NULL) {
		sodium_memzero(c->rbuf, IO_UV_READ_BUF);
		free(c->rbuf);
	}
	free(c);
	if (l != NULL)
		listener_maybe_done(l);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct uv_conn *c = h->data;

	assert(c->handles_open > 0);
	if (--c->handles_open == 0)
		conn_free(c);
}

/* Closes whatever handle is still open; the struct goes when both are. */
static void conn_close_handles(struct uv_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void conn_stop_reading(struct uv_conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

/* Ends a connection that has not been released: no more reads, writes or
 * deliveries. A listener's connection goes at once (reported to the
 * listener); an owner's keeps its timer, which calls handlers.closed on
 * the next loop turn, until the owner releases it. */
static void conn_fail(struct uv_conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_fail(struct uv_conn *c, int code, const char *fmt, ...)
{
	va_list ap;

	assert(code < 0);
	if (c->state == CONN_FAILED || c->state == CONN_CLOSING)
		return;
	c->failure.code = code;
	va_start(ap, fmt);
	vsnprintf(c->failure.msg, sizeof c->failure.msg, fmt, ap);
	va_end(ap);
	conn_stop_reading(c);
	uv_timer_stop(&c->timer);
	c->held_len = 0;
	c->base.is_open = 0;

	if (c->listener != NULL) {
		struct io_uv_listener *l = c->listener;

		c->state = CONN_CLOSING;
		l->stats.rejected++;
		conn_close_handles(c);
		if (l->reject != NULL)
			l->reject(l, c->failure.code, c->failure.msg);
		return;
	}
	c->state = CONN_FAILED;
	/* Release the socket now, so the peer sees the end at once. */
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	c->closed_pending = 1;
	uv_timer_start(&c->timer, conn_timer, 0, 0);
}

/* ------------------------------------------------------------ writing */

static void conn_write_done(uv_write_t *req, int status)
{
	struct uv_write *w = (struct uv_write *)req;
	struct uv_conn *c = w->conn;
	size_t len = w->len;

	assert(c->queued >= len);
	c->queued -= len;
	free(w);
	if (status == UV_ECANCELED)
		return;
	if (status < 0) {
		conn_fail(c, RUMOR_ENET, "write failed: %s", uv_strerror(status));
		return;
	}
	/* uv_write completes only whole requests: all len bytes went. */
	c->base.stats.bytes_out += len;
	if (c->state != CONN_OPEN)
		return;
	if (c->above_low && c->queued < c->base.low_watermark) {
		c->above_low = 0;
		if (c->base.handlers.drained != NULL)
			c->base.handlers.drained(&c->base);
	}
}

static struct uv_write *conn_write_alloc(struct uv_conn *c, size_t len)
{
	struct uv_write *w = malloc(sizeof *w + len);

	if (w == NULL)
		return NULL;
	w->conn = c;
	w->len = len;
	return w;
}

/* Queues w (freed in its callback, or here on failure). Each request is
 * written from its own buffer, so a large queue is never copied again. */
static int conn_write(struct uv_conn *c, struct uv_write *w)
{
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rv;

	rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1,
		      conn_write_done);
	if (rv != 0) {
		free(w);
		conn_fail(c, RUMOR_ENET, "write failed: %s", uv_strerror(rv));
		return RUMOR_ENET;
	}
	c->queued += w->len;
	if (c->queued >= c->base.low_watermark)
		c->above_low = 1;
	return 0;
}

/* ------------------------------------------------------------ reading */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct uv_conn *c = h->data;

	(void)suggested;
	assert(c->held_len == 0);
	*buf = uv_buf_init((char *)c->rbuf, IO_UV_READ_BUF);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct uv_conn *c = s->data;

	(void)buf;
	if (nread == 0)
		return;
	if (nread == UV_EOF) {
		if (c->state == CONN_HANDSHAKE)
			conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection during the handshake");
		else if (c->ch != NULL && channel_pending(c->ch) > 0)
			conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection inside a frame");
		else
			conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection");
		return;
	}
	if (nread < 0) {
		conn_fail(c, RUMOR_ENET, "read failed: %s",
			  uv_strerror((int)nread));
		return;
	}
	c->base.stats.bytes_in += (uint64_t)nread;
	conn_process(c, c->rbuf, (size_t)nread);
}

static int conn_start_reading(struct uv_conn *c)
{
	int rv;

	if (c->reading)
		return 0;
	rv = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
	if (rv != 0) {
		conn_fail(c, RUMOR_ENET, "cannot read: %s", uv_strerror(rv));
		return RUMOR_ENET;
	}
	c->reading = 1;
	return 0;
}

/* Channel callback: one message to the owner. Stops the feed as soon as
 * the owner paused or closed. */
static int conn_deliver_one(void *arg, uint8_t *msg, size_t len)
{
	struct uv_conn *c = arg;

	c->base.stats.messages_in++;
	if (c->base.handlers.message != NULL)
		c->base.handlers.message(&c->base, msg, len);
	return c->state != CONN_OPEN || c->paused;
}

/* Feeds data (inside rbuf) to the channel, holding back what a pause
 * left unfed. */
static void conn_deliver(struct uv_conn *c, uint8_t *data, size_t len)
{
	struct err err;
	size_t used;
	int rv;

	assert(c->state == CONN_OPEN);
	assert(data >= c->rbuf && data + len <= c->rbuf + IO_UV_READ_BUF);
	rv = channel_feed(c->ch, data, len, &used, conn_deliver_one, c, &err);
	if (rv != 0) {
		conn_fail(c, rv, "%s", err.msg);
		return;
	}
	if (c->state == CONN_OPEN && used < len) {
		assert(c->paused);
		c->held_off = (size_t)(data - c->rbuf) + used;
		c->held_len = len - used;
	}
}

/* The handshake is done: key the channel and hand the connection out. */
static void conn_open(struct uv_conn *c)
{
	struct handshake_result res;
	struct io_uv_listener *l = c->listener;

	handshake_get_result(c->hs, &res);
	handshake_wipe(c->hs);
	free(c->hs);
	c->hs = NULL;
	channel_init(c->ch, &res);
	memcpy(c->base.peer_key, res.peer_public_key, sizeof c->base.peer_key);
	sodium_memzero(&res, sizeof res);
	uv_timer_stop(&c->timer);
	c->state = CONN_OPEN;
	c->base.is_open = 1;

	if (l != NULL) {
		/* From the listener to the owner the accept callback names. */
		pending_unlink(l, c);
		c->listener = NULL;
		c->prev = c->next = NULL;
		l->stats.accepted++;
		l->accept(l, &c->base);
	} else if (c->base.handlers.open != NULL) {
		c->base.handlers.open(&c->base);
	}
}

/* Reads during the handshake gather whole messages of the size the state
 * machine expects; bytes after its end are the first frames. */
static void conn_process(struct uv_conn *c, uint8_t *data, size_t len)
{
	size_t off = 0;

	while (c->state == CONN_HANDSHAKE && off < len) {
		size_t need = handshake_expect(c->hs);
		size_t n, out_len = 0;
		struct uv_write *w;
		struct err err;
		int rv;

		if (need == 0 || need > sizeof c->hs_msg) {
			conn_fail(c, RUMOR_EPROTO,
				  "handshake: unexpected bytes from the peer");
			return;
		}
		n = need - c->hs_have;
		if (n > len - off)
			n = len - off;
		memcpy(c->hs_msg + c->hs_have, data + off, n);
		c->hs_have += n;
		off += n;
		if (c->hs_have < need)
			break;
		c->hs_have = 0;
		w = conn_write_alloc(c, HANDSHAKE_MSG_MAX);
		if (w == NULL) {
			conn_fail(c, RUMOR_ENOMEM, "handshake: out of memory");
			return;
		}
		rv = handshake_recv(c->hs, c->hs_msg, need, w->data, &out_len,
				    &err);
		if (rv != 0) {
			free(w);
			conn_fail(c, rv, "handshake: %s", err.msg);
			return;
		}
		if (out_len > 0) {
			w->len = out_len;
			if (conn_write(c, w) != 0)
				return;
		} else {
			free(w);
		}
		if (handshake_done(c->hs))
			conn_open(c);
	}
	if (c->state != CONN_OPEN || off == len)
		return;
	if (c->paused) {
		c->held_off = (size_t)(data - c->rbuf) + off;
		c->held_len = len - off;
		conn_stop_reading(c);
		return;
	}
	conn_deliver(c, data + off, len - off);
}

/* ------------------------------------------------------------ timer */

static void conn_timer(uv_timer_t *t)
{
	struct uv_conn *c = t->data;

	switch (c->state) {
	case CONN_HANDSHAKE:
		conn_fail(c, RUMOR_ETIMEDOUT,
			  "handshake not finished within %u ms",
			  c->cfg.handshake_timeout_ms);
		break;
	case CONN_OPEN:
		/* A resume: feed what was held, then read again. */
		if (c->paused)
			break;
		if (c->held_len > 0) {
			size_t off = c->held_off, n = c->held_len;

			c->held_len = 0;
			conn_deliver(c, c->rbuf + off, n);
		}
		if (c->state == CONN_OPEN && !c->paused && c->held_len == 0)
			conn_start_reading(c);
		break;
	case CONN_FAILED:
		if (c->closed_pending) {
			c->closed_pending = 0;
			if (c->base.handlers.closed != NULL)
				c->base.handlers.closed(&c->base,
							c->failure.code,
							c->failure.msg);
		}
		break;
	case CONN_CLOSING:
		break;
	}
}

/* ------------------------------------------------------------ vtable */

static int uv_conn_send(struct io_conn *base, const uint8_t *msg, size_t len,
			struct err *err)
{
	struct uv_conn *c = (struct uv_conn *)base;
	struct uv_write *w;
	int rv;

	if (c->state != CONN_OPEN)
		return err_set(err, RUMOR_ECLOSED, "io: connection %s",
			       c->state == CONN_HANDSHAKE ? "not open yet"
							  : "closed");
	if (len > CHANNEL_FRAME_MAX)
		return err_set(err, RUMOR_ETOOBIG,
			       "io: message of %zu bytes exceeds the frame bound of %u",
			       len, CHANNEL_FRAME_MAX);
	w = conn_write_alloc(c, channel_sealed_size(len));
	if (w == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "io: out of memory for a %zu-byte message", len);
	rv = channel_seal(c->ch, msg, len, w->data, err);
	if (rv != 0) {
		free(w);
		return rv;
	}
	rv = conn_write(c, w);
	if (rv != 0)
		return err_set(err, rv, "io: %s", c->failure.msg);
	c->base.stats.messages_out++;
	return 0;
}

static size_t uv_conn_queued(const struct io_conn *base)
{
	const struct uv_conn *c = (const struct uv_conn *)base;

	return c->queued;
}

static void uv_conn_pause(struct io_conn *base)
{
	struct uv_conn *c = (struct uv_conn *)base;

	c->paused = 1;
	if (c->state == CONN_OPEN)
		conn_stop_reading(c);
}

static void uv_conn_resume(struct io_conn *base)
{
	struct uv_conn *c = (struct uv_conn *)base;

	if (!c->paused)
		return;
	c->paused = 0;
	/* From the loop, so no message arrives inside this call. */
	if (c->state == CONN_OPEN)
		uv_timer_start(&c->timer, conn_timer, 0, 0);
}

static void uv_conn_close(struct io_conn *base, io_close_cb cb)
{
	struct uv_conn *c = (struct uv_conn *)base;

	assert(c->state != CONN_CLOSING);
	assert(c->listener == NULL);
	c->close_cb = cb;
	c->state = CONN_CLOSING;
	c->base.is_open = 0;
	c->closed_pending = 0;
	conn_stop_reading(c);
	uv_timer_stop(&c->timer);
	/* The timer is still open here (only the owner's release closes
	 * it), so cb cannot run before this returns. */
	assert(!uv_is_closing((uv_handle_t *)&c->timer));
	conn_close_handles(c);
}

static const struct io_conn_ops uv_conn_ops = {
	.send = uv_conn_send,
	.queued = uv_conn_queued,
	.pause = uv_conn_pause,
	.resume = uv_conn_resume,
	.close = uv_conn_close,
};

/* ------------------------------------------------------------ creation */

/* A connection with both handles initialised and its handshake state,
 * before any I/O; NULL when out of memory or when the TCP handle cannot
 * be made (then nothing is left behind). */
static struct uv_conn *conn_new(const struct io_uv_config *cfg,
				struct err *err)
{
	struct uv_conn *c = calloc(1, sizeof *c);
	struct handshake_result unkeyed;
	int rv = RUMOR_ENOMEM;

	if (c == NULL)
		goto err;
	c->base.ops = &uv_conn_ops;
	c->cfg = *cfg;
	if (c->cfg.handshake_timeout_ms == 0)
		c->cfg.handshake_timeout_ms = IO_UV_HANDSHAKE_TIMEOUT_MS;
	c->base.low_watermark = cfg->low_watermark ? cfg->low_watermark
						   : IO_UV_LOW_WATERMARK;
	c->hs = malloc(handshake_size());
	if (c->hs == NULL)
		goto err_after_calloc;
	c->ch = malloc(channel_size());
	if (c->ch == NULL)
		goto err_after_hs;
	/* Keyed for real once the handshake ends; until then it must be
	 * safe to wipe. Allocates nothing. */
	memset(&unkeyed, 0, sizeof unkeyed);
	channel_init(c->ch, &unkeyed);
	c->rbuf = malloc(IO_UV_READ_BUF);
	if (c->rbuf == NULL)
		goto err_after_ch;
	rv = uv_tcp_init(cfg->loop, &c->tcp);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "io: cannot make a socket: %s",
			uv_strerror(rv));
		rv = RUMOR_ENET;
		goto err_after_rbuf;
	}
	/* Cannot fail: a timer is only a struct in the loop. */
	uv_timer_init(cfg->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	c->state = CONN_HANDSHAKE;
	return c;

err_after_rbuf:
	free(c->rbuf);
err_after_ch:
	free(c->ch);
err_after_hs:
	free(c->hs);
err_after_calloc:
	free(c);
err:
	if (rv == RUMOR_ENOMEM)
		err_set(err, RUMOR_ENOMEM, "io: out of memory for a connection");
	return NULL;
}

static struct handshake_config conn_handshake_config(const struct uv_conn *c)
{
	struct handshake_config hc = {
		.identity = c->cfg.identity,
		.network_key = c->cfg.network_key,
		.trusted = c->cfg.trusted,
		.expected_server_key = c->has_expected_server
					       ? c->expected_server
					       : NULL,
	};

	return hc;
}

static void conn_connected(uv_connect_t *req, int status)
{
	struct uv_conn *c = req->data;
	struct handshake_config hc;
	struct uv_write *w;
	struct err err;
	int rv;

	if (status == UV_ECANCELED || c->state != CONN_HANDSHAKE)
		return;
	if (status < 0) {
		conn_fail(c, RUMOR_ENET, "cannot connect: %s",
			  uv_strerror(status));
		return;
	}
	hc = conn_handshake_config(c);
	handshake_client_init(c->hs, &hc);
	w = conn_write_alloc(c, HANDSHAKE_MSG_MAX);
	if (w == NULL) {
		conn_fail(c, RUMOR_ENOMEM, "handshake: out of memory");
		return;
	}
	rv = handshake_client_start(c->hs, w->data, &w->len, &err);
	if (rv != 0) {
		free(w);
		conn_fail(c, rv, "handshake: %s", err.msg);
		return;
	}
	if (conn_write(c, w) != 0)
		return;
	conn_start_reading(c);
}

int io_uv_dial(const struct io_uv_config *cfg, const struct sockaddr *addr,
	       const uint8_t *expected_server_key, struct io_conn **out,
	       struct err *err)
{
	struct uv_conn *c;
	int rv;

	assert(cfg != NULL && cfg->loop != NULL && cfg->identity != NULL &&
	       cfg->network_key != NULL && out != NULL);
	if (addr == NULL ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return err_set(err, RUMOR_EINVAL,
			       "io: dial needs an IPv4 or IPv6 address");
	c = conn_new(cfg, err);
	if (c == NULL)
		return err != NULL ? err->code : RUMOR_ENOMEM;
	if (expected_server_key != NULL) {
		memcpy(c->expected_server, expected_server_key,
		       sizeof c->expected_server);
		c->has_expected_server = 1;
	}
	c->connect_req.data = c;
	rv = uv_tcp_connect(&c->connect_req, &c->tcp, addr, conn_connected);
	if (rv != 0) {
		/* Not handed out: freed from the loop, reporting nothing. */
		c->state = CONN_CLOSING;
		conn_close_handles(c);
		return err_set(err, RUMOR_ENET, "io: cannot connect: %s",
			       uv_strerror(rv));
	}
	uv_timer_start(&c->timer, conn_timer, c->cfg.handshake_timeout_ms, 0);
	*out = &c->base;
	return 0;
}

/* ------------------------------------------------------------ listener */

static void listener_maybe_done(struct io_uv_listener *l)
{
	if (!l->closing || !l->tcp_closed || l->pending != NULL)
		return;
	if (l->close_cb != NULL)
		l->close_cb(l);
	free(l);
}

static void listener_tcp_closed(uv_handle_t *h)
{
	struct io_uv_listener *l = h->data;

	l->tcp_closed = 1;
	listener_maybe_done(l);
}

static void listener_connection(uv_stream_t *s, int status)
{
	struct io_uv_listener *l = s->data;
	struct handshake_config hc;
	struct uv_conn *c;
	struct err err = {0};
	int rv;

	if (status < 0 || l->closing)
		return;
	c = conn_new(&l->cfg, &err);
	if (c == NULL) {
		/* Out of memory: the peer stays unaccepted in the backlog
		 * (libuv stops polling the listener until one is taken). */
		l->stats.rejected++;
		if (l->reject != NULL)
			l->reject(l, RUMOR_ENOMEM, err.msg);
		return;
	}
	c->base.inbound = 1;
	c->listener = l;
	c->next = l->pending;
	if (l->pending != NULL)
		l->pending->prev = c;
	l->pending = c;
	rv = uv_accept(s, (uv_stream_t *)&c->tcp);
	if (rv != 0) {
		conn_fail(c, RUMOR_ENET, "cannot accept: %s", uv_strerror(rv));
		return;
	}
	hc = conn_handshake_config(c);
	handshake_server_init(c->hs, &hc);
	uv_timer_start(&c->timer, conn_timer, c->cfg.handshake_timeout_ms, 0);
	conn_start_reading(c);
}

int io_uv_listen(struct io_uv_listener **out, const struct io_uv_config *cfg,
		 const char *host, int port, io_uv_accept_cb accept,
		 io_uv_reject_cb reject, void *data, struct err *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_storage bound;
	int namelen = sizeof bound;
	struct io_uv_listener *l;
	int rv;

	assert(out != NULL && cfg != NULL && cfg->loop != NULL &&
	       cfg->identity != NULL && cfg->network_key != NULL &&
	       accept != NULL);
	if (host == NULL || port < 0 || port > 65535)
		return err_set(err, RUMOR_EINVAL, "io: bad listen address");
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
		return err_set(err, RUMOR_EINVAL,
			       "io: '%s' is not a numeric IPv4 or IPv6 address",
			       host);
	l = calloc(1, sizeof *l);
	if (l == NULL)
		return err_set(err, RUMOR_ENOMEM,
			       "io: out of memory for a listener");
	l->cfg = *cfg;
	l->accept = accept;
	l->reject = reject;
	l->data = data;
	rv = uv_tcp_init(cfg->loop, &l->tcp);
	if (rv != 0) {
		free(l);
		return err_set(err, RUMOR_ENET, "io: cannot make a socket: %s",
			       uv_strerror(rv));
	}
	l->tcp.data = l;
	rv = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&l->tcp, 128,
			       listener_connection);
	if (rv == 0)
		rv = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound,
					&namelen);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "io: cannot listen on %s port %d: %s",
			host, port, uv_strerror(rv));
		io_uv_listener_close(l, NULL);
		return RUMOR_ENET;
	}
	l->port = bound.ss_family == AF_INET6
			  ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
			  : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	*out = l;
	return 0;
}

int io_uv_listener_port(const struct io_uv_listener *l)
{
	return l->port;
}

void *io_uv_listener_data(const struct io_uv_listener *l)
{
	return l->data;
}

struct io_uv_listener_stats io_uv_listener_stats(const struct io_uv_listener *l)
{
	struct io_uv_listener_stats st = l->stats;
	const struct uv_conn *c;

	st.in_handshake = 0;
	for (c = l->pending; c != NULL; c = c->next)
		if (c->state == CONN_HANDSHAKE)
			st.in_handshake++;
	return st;
}

void io_uv_listener_close(struct io_uv_listener *l,
			  io_uv_listener_close_cb cb)
{
	struct uv_conn *c;

	assert(!l->closing);
	l->closing = 1;
	l->close_cb = cb;
	uv_close((uv_handle_t *)&l->tcp, listener_tcp_closed);
	/* The connections unlink themselves as they are freed, later. */
	for (c = l->pending; c != NULL; c = c->next) {
		if (c->state == CONN_CLOSING)
			continue;
		c->state = CONN_CLOSING;
		conn_stop_reading(c);
		uv_timer_stop(&c->timer);
		conn_close_handles(c);
	}
}

/* ------------------------------------------------------------ addresses */

int io_uv_parse_addr(const char *s, struct sockaddr_storage *addr,
		     struct err *err)
{
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	long port;

	if (s == NULL)
		return err_set(err, RUMOR_EINVAL, "io: no address");
	colon = strrchr(s, ':');
	if (colon == NULL)
		goto bad;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			goto bad;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof host)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		goto bad;
	memset(addr, 0, sizeof *addr);
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) == 0 ||
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)addr) == 0)
		return 0;
bad:
	return err_set(err, RUMOR_EINVAL,
		       "io: '%s' is not HOST:PORT with a numeric host", s);
}

int io_uv_peer_host(const struct io_conn *base, char *host, size_t len)
{
	const struct uv_conn *c = (const struct uv_conn *)base;
	struct sockaddr_storage ss;
	int namelen = sizeof ss;

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &namelen) != 0)
		return RUMOR_ENET;
	if (ss.ss_family == AF_INET)
		return uv_ip4_name((struct sockaddr_in *)&ss, host, len) == 0
			       ? 0 : RUMOR_EINVAL;
	if (ss.ss_family == AF_INET6)
		return uv_ip6_name((struct sockaddr_in6 *)&ss, host, len) == 0
			       ? 0 : RUMOR_EINVAL;
	return RUMOR_EINVAL;
}
