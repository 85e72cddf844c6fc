/* SPDX-License-Identifier: MIT */
/*
 * io_uv_peer: authenticated peer connections over libuv TCP (the dial
 * and io_conn ops of io/io.h; io_uv_listener.c accepts them). Both ends
 * run the handshake of crypto/handshake.h under a deadline, then carry
 * sealed frames (crypto/channel.h).
 *
 * A connection has two handles, the TCP stream and one timer. The timer
 * is the handshake deadline until the handshake ends, then the loop turn
 * on which held-back messages are delivered after a resume, or the
 * closed handler is called after a failure. The struct is freed once
 * both handles are closed, which happens only after its owner (listener
 * or user) released it, so the close callback never runs inside
 * io_conn_close().
 */
#include "io/io_uv_peer_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "crypto/channel.h"
#include "crypto/identity.h"

static const struct io_conn_ops peer_conn_ops;

static int peer_conn_peer_host(const struct io_conn *base, char *host,
			       size_t len);

static void conn_handshake_read(struct peer_conn *c, size_t n);
static void conn_deliver(struct peer_conn *c, uint8_t *data, size_t len);

/* ------------------------------------------------------------ lifetime */

/* Takes c off its listener's list of connections in their handshake. */
void peer_listener_unlink(struct peer_listener *l, struct peer_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->pending = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
}

static void conn_free(struct peer_conn *c)
{
	struct peer_listener *l = c->listener;

	assert(c->handles_open == 0);
	if (c->close_cb != NULL)
		c->close_cb(&c->base);
	if (l != NULL)
		peer_listener_unlink(l, c);
	if (c->hs != NULL) {
		handshake_wipe(c->hs);
		free(c->hs);
	}
	if (c->ch != NULL) {
		channel_wipe(c->ch);
		free(c->ch);
	}
	if (c->rbuf != NULL) {
		sodium_memzero(c->rbuf, PEER_READ_BUF);
		free(c->rbuf);
	}
	io_uv_release(c->io);
	free(c);
	if (l != NULL)
		peer_listener_maybe_done(l);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct peer_conn *c = h->data;

	assert(c->handles_open > 0);
	if (--c->handles_open == 0)
		conn_free(c);
}

/* Closes whatever handle is still open; the struct goes when both are. */
void peer_conn_close_handles(struct peer_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

void peer_conn_stop_reading(struct peer_conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

/* A listener's handshake that failed on the peer's bytes (not on a
 * timeout, an end or a local fault) is not closed at once: it reads and
 * discards until its deadline, so that a wrong first message looks like
 * any other wrong bytes to a prober. The secrets go now. */
static int conn_start_discarding(struct peer_conn *c)
{
	if (c->listener == NULL || c->state != CONN_HANDSHAKE ||
	    (c->failure.code != RUMOR_EAUTH && c->failure.code != RUMOR_EPROTO))
		return 0;
	c->discarding = 1;
	if (c->hs != NULL) {
		handshake_wipe(c->hs);
		free(c->hs);
		c->hs = NULL;
	}
	c->hs_have = 0;
	return 1;
}

/* Ends a connection that has not been released: no more reads, writes or
 * deliveries. A listener's connection goes at once (reported to the
 * listener, with the first failure when it was discarding); an owner's
 * keeps its timer, which calls handlers.closed on the next loop turn,
 * until the owner releases it. A listener's handshake failing on the
 * peer's bytes first discards until the deadline (see above). */
void peer_conn_fail(struct peer_conn *c, int code, const char *fmt, ...)
{
	va_list ap;

	assert(code < 0);
	if (c->state == CONN_FAILED || c->state == CONN_CLOSING)
		return;
	if (!c->discarding) {
		c->failure.code = code;
		va_start(ap, fmt);
		vsnprintf(c->failure.msg, sizeof c->failure.msg, fmt, ap);
		va_end(ap);
		if (conn_start_discarding(c))
			return;
	}
	peer_conn_stop_reading(c);
	uv_timer_stop(&c->timer);
	c->held_len = 0;
	c->base.is_open = 0;

	if (c->listener != NULL) {
		struct peer_listener *l = c->listener;

		c->state = CONN_CLOSING;
		l->stats.rejected++;
		peer_conn_close_handles(c);
		if (l->reject != NULL)
			l->reject(&l->base, c->failure.code, c->failure.msg);
		return;
	}
	c->state = CONN_FAILED;
	/* Release the socket now, so the peer sees the end at once. */
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	c->closed_pending = 1;
	uv_timer_start(&c->timer, peer_conn_timer, 0, 0);
}

/* ------------------------------------------------------------ writing */

static void conn_write_done(uv_write_t *req, int status)
{
	struct peer_write *w = (struct peer_write *)req;
	struct peer_conn *c = w->conn;
	size_t len = w->len;

	assert(c->queued >= len);
	c->queued -= len;
	free(w);
	if (status == UV_ECANCELED)
		return;
	if (status < 0) {
		peer_conn_fail(c, RUMOR_ENET, "write failed: %s", uv_strerror(status));
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

static struct peer_write *conn_write_alloc(struct peer_conn *c, size_t len)
{
	struct peer_write *w = malloc(sizeof *w + len);

	if (w == NULL)
		return NULL;
	w->conn = c;
	w->len = len;
	return w;
}

/* Queues w (freed in its callback, or here on failure). Each request is
 * written from its own buffer, so a large queue is never copied again. */
static int conn_write(struct peer_conn *c, struct peer_write *w)
{
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rv;

	rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1,
		      conn_write_done);
	if (rv != 0) {
		free(w);
		peer_conn_fail(c, RUMOR_ENET, "write failed: %s", uv_strerror(rv));
		return RUMOR_ENET;
	}
	c->queued += w->len;
	if (c->queued >= c->base.low_watermark)
		c->above_low = 1;
	return 0;
}

/* ------------------------------------------------------------ reading */

/* A listener's connection: its handshake state, made when its first
 * bytes are there to read (the ephemeral key costs a scalar
 * multiplication, not spent on silent strangers). */
static int conn_server_start(struct peer_conn *c)
{
	struct handshake_config hc;

	c->hs = malloc(handshake_size());
	if (c->hs == NULL)
		return RUMOR_ENOMEM;
	hc = peer_conn_handshake_config(c);
	handshake_server_init(c->hs, &hc);
	return 0;
}

/* In the handshake, exactly the rest of the message expected, straight
 * into hs_msg (or hs_msg as scratch while discarding): bytes after the
 * handshake stay in the socket until the connection is open, and nothing
 * is allocated before then. Open: rbuf, allocated on the first read. */
static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct peer_conn *c = h->data;
	size_t need;

	(void)suggested;
	assert(c->held_len == 0);
	if (c->state != CONN_OPEN) {
		if (c->hs == NULL && !c->discarding && c->listener != NULL &&
		    conn_server_start(c) != 0) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		need = c->discarding || c->hs == NULL ? 0
						      : handshake_expect(c->hs);
		if (need <= c->hs_have || need > sizeof c->hs_msg)
			*buf = uv_buf_init((char *)c->hs_msg, sizeof c->hs_msg);
		else
			*buf = uv_buf_init((char *)c->hs_msg + c->hs_have,
					   (unsigned)(need - c->hs_have));
		return;
	}
	if (c->rbuf == NULL)
		c->rbuf = malloc(PEER_READ_BUF);
	/* A zero-length buffer makes libuv report UV_ENOBUFS. */
	*buf = uv_buf_init((char *)c->rbuf, c->rbuf != NULL ? PEER_READ_BUF : 0);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct peer_conn *c = s->data;

	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		peer_conn_fail(c, RUMOR_ENOMEM, "out of memory for reading");
		return;
	}
	if (nread == UV_EOF) {
		if (c->state == CONN_HANDSHAKE)
			peer_conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection during the handshake");
		else if (c->ch != NULL && channel_pending(c->ch) > 0)
			peer_conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection inside a frame");
		else
			peer_conn_fail(c, RUMOR_ECLOSED,
				  "peer closed the connection");
		return;
	}
	if (nread < 0) {
		peer_conn_fail(c, RUMOR_ENET, "read failed: %s",
			  uv_strerror((int)nread));
		return;
	}
	c->base.stats.bytes_in += (uint64_t)nread;
	if (c->state == CONN_HANDSHAKE) {
		if (!c->discarding)
			conn_handshake_read(c, (size_t)nread);
		return;
	}
	if (c->state != CONN_OPEN)
		return;
	assert((uint8_t *)buf->base == c->rbuf);
	if (c->paused) {
		c->held_off = 0;
		c->held_len = (size_t)nread;
		peer_conn_stop_reading(c);
		return;
	}
	conn_deliver(c, c->rbuf, (size_t)nread);
}

/* Reads what is already there, at once, without waiting for the loop: a
 * peer's first message often arrived while its connection waited in the
 * backlog, and once read it shows the network key, which protects the
 * handshake from eviction by the strangers accepted after it. Errors
 * and the end are left to the regular read. */
void peer_conn_read_now(struct peer_conn *c)
{
	uv_os_fd_t fd;
	uv_buf_t buf;
	uint8_t peek;
	ssize_t n;

	if (c->state != CONN_HANDSHAKE || c->discarding ||
	    uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
		return;
	/* Nothing there (a silent stranger): no handshake state yet. */
	if (recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return;
	conn_alloc((uv_handle_t *)&c->tcp, 0, &buf);
	if (buf.len == 0)
		return;
	do
		n = recv(fd, buf.base, buf.len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		conn_read((uv_stream_t *)&c->tcp, n, &buf);
}

int peer_conn_start_reading(struct peer_conn *c)
{
	int rv;

	if (c->reading)
		return 0;
	rv = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
	if (rv != 0) {
		peer_conn_fail(c, RUMOR_ENET, "cannot read: %s", uv_strerror(rv));
		return RUMOR_ENET;
	}
	c->reading = 1;
	return 0;
}

/* Channel callback: one message to the owner. Stops the feed as soon as
 * the owner paused or closed. */
static int conn_deliver_one(void *arg, uint8_t *msg, size_t len)
{
	struct peer_conn *c = arg;

	c->base.stats.messages_in++;
	if (c->base.handlers.message != NULL)
		c->base.handlers.message(&c->base, msg, len);
	return c->state != CONN_OPEN || c->paused;
}

/* Feeds data (inside rbuf) to the channel, holding back what a pause
 * left unfed. */
static void conn_deliver(struct peer_conn *c, uint8_t *data, size_t len)
{
	struct err err;
	size_t used;
	int rv;

	assert(c->state == CONN_OPEN);
	assert(data >= c->rbuf && data + len <= c->rbuf + PEER_READ_BUF);
	rv = channel_feed(c->ch, data, len, &used, conn_deliver_one, c, &err);
	if (rv != 0) {
		peer_conn_fail(c, rv, "%s", err.msg);
		return;
	}
	if (c->state == CONN_OPEN && used < len) {
		assert(c->paused);
		c->held_off = (size_t)(data - c->rbuf) + used;
		c->held_len = len - used;
	}
}

/* The handshake is done: key the channel and hand the connection out. */
static void conn_open(struct peer_conn *c)
{
	struct handshake_result res;
	struct peer_listener *l = c->listener;

	c->ch = malloc(channel_size());
	if (c->ch == NULL) {
		peer_conn_fail(c, RUMOR_ENOMEM, "out of memory for a channel");
		return;
	}
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
		peer_listener_unlink(l, c);
		c->listener = NULL;
		c->prev = c->next = NULL;
		l->stats.accepted++;
		peer_listener_hand_out(l, c);
		l->accept(&l->base, &c->base);
	} else if (c->base.handlers.open != NULL) {
		c->base.handlers.open(&c->base);
	}
}

/* n more bytes of the handshake message arrived in hs_msg (conn_alloc
 * asks for no more than the message's rest). A whole message is passed
 * to the state machine and its answer, if any, written. */
static void conn_handshake_read(struct peer_conn *c, size_t n)
{
	size_t need = handshake_expect(c->hs);
	size_t out_len = 0;
	struct peer_write *w;
	struct err err;
	int rv;

	c->hs_have += n;
	if (need == 0 || need > sizeof c->hs_msg || c->hs_have > need) {
		peer_conn_fail(c, RUMOR_EPROTO,
			       "handshake: unexpected bytes from the peer");
		return;
	}
	if (c->hs_have < need)
		return;
	c->hs_have = 0;
	w = conn_write_alloc(c, HANDSHAKE_MSG_MAX);
	if (w == NULL) {
		peer_conn_fail(c, RUMOR_ENOMEM, "handshake: out of memory");
		return;
	}
	rv = handshake_recv(c->hs, c->hs_msg, need, w->data, &out_len, &err);
	if (rv != 0) {
		free(w);
		peer_conn_fail(c, rv, "handshake: %s", err.msg);
		return;
	}
	c->hs_progress = 1;
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

/* ------------------------------------------------------------ timer */

void peer_conn_timer(uv_timer_t *t)
{
	struct peer_conn *c = t->data;

	switch (c->state) {
	case CONN_HANDSHAKE:
		/* When discarding, this reports the first failure. */
		peer_conn_fail(c, RUMOR_ETIMEDOUT,
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
			peer_conn_start_reading(c);
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

static int peer_conn_send(struct io_conn *base, const uint8_t *msg, size_t len,
			struct err *err)
{
	struct peer_conn *c = (struct peer_conn *)base;
	struct peer_write *w;
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

static size_t peer_conn_queued(const struct io_conn *base)
{
	const struct peer_conn *c = (const struct peer_conn *)base;

	return c->queued;
}

static void peer_conn_pause(struct io_conn *base)
{
	struct peer_conn *c = (struct peer_conn *)base;

	c->paused = 1;
	if (c->state == CONN_OPEN)
		peer_conn_stop_reading(c);
}

static void peer_conn_resume(struct io_conn *base)
{
	struct peer_conn *c = (struct peer_conn *)base;

	if (!c->paused)
		return;
	c->paused = 0;
	/* From the loop, so no message arrives inside this call. */
	if (c->state == CONN_OPEN)
		uv_timer_start(&c->timer, peer_conn_timer, 0, 0);
}

static void peer_conn_close(struct io_conn *base, io_close_cb cb)
{
	struct peer_conn *c = (struct peer_conn *)base;

	assert(c->state != CONN_CLOSING);
	assert(c->listener == NULL);
	peer_listener_uncount(c);
	c->close_cb = cb;
	c->state = CONN_CLOSING;
	c->base.is_open = 0;
	c->closed_pending = 0;
	peer_conn_stop_reading(c);
	uv_timer_stop(&c->timer);
	/* The timer is still open here (only the owner's release closes
	 * it), so cb cannot run before this returns. */
	assert(!uv_is_closing((uv_handle_t *)&c->timer));
	peer_conn_close_handles(c);
}

static const struct io_conn_ops peer_conn_ops = {
	.send = peer_conn_send,
	.queued = peer_conn_queued,
	.pause = peer_conn_pause,
	.resume = peer_conn_resume,
	.peer_host = peer_conn_peer_host,
	.close = peer_conn_close,
};

/* ------------------------------------------------------------ creation */

/* A connection with both handles initialised and its handshake state,
 * before any I/O; NULL when out of memory or when the TCP handle cannot
 * be made (then nothing is left behind). */
struct peer_conn *peer_conn_new(struct io *io,
				const struct io_peer_config *cfg,
				struct err *err)
{
	struct peer_conn *c = calloc(1, sizeof *c);
	int rv = RUMOR_ENOMEM;

	if (c == NULL)
		goto err;
	c->base.ops = &peer_conn_ops;
	c->cfg = *cfg;
	if (c->cfg.handshake_timeout_ms == 0)
		c->cfg.handshake_timeout_ms = IO_HANDSHAKE_TIMEOUT_MS;
	c->base.low_watermark = cfg->low_watermark ? cfg->low_watermark
						   : IO_LOW_WATERMARK;
	/* The handshake state comes with the first byte (a listener's) or
	 * the dial, the channel when the handshake ends: a silent stranger
	 * costs no key generation and only this struct. */
	rv = uv_tcp_init(io_uv_loop(io), &c->tcp);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "io: cannot make a socket: %s",
			uv_strerror(rv));
		rv = RUMOR_ENET;
		goto err_after_calloc;
	}
	/* Cannot fail: a timer is only a struct in the loop. */
	uv_timer_init(io_uv_loop(io), &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	c->state = CONN_HANDSHAKE;
	c->io = io;
	io_uv_of(io)->live++;
	return c;

err_after_calloc:
	free(c);
err:
	if (rv == RUMOR_ENOMEM)
		err_set(err, RUMOR_ENOMEM, "io: out of memory for a connection");
	return NULL;
}

struct handshake_config peer_conn_handshake_config(const struct peer_conn *c)
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
	struct peer_conn *c = req->data;
	struct handshake_config hc;
	struct peer_write *w;
	struct err err;
	int rv;

	if (status == UV_ECANCELED || c->state != CONN_HANDSHAKE)
		return;
	if (status < 0) {
		peer_conn_fail(c, RUMOR_ENET, "cannot connect: %s",
			  uv_strerror(status));
		return;
	}
	/* Frames are small and latency matters: no Nagle (which, with the
	 * peer's delayed ACKs, holds a frame for up to 40 ms). */
	(void)uv_tcp_nodelay(&c->tcp, 1);
	hc = peer_conn_handshake_config(c);
	handshake_client_init(c->hs, &hc);
	w = conn_write_alloc(c, HANDSHAKE_MSG_MAX);
	if (w == NULL) {
		peer_conn_fail(c, RUMOR_ENOMEM, "handshake: out of memory");
		return;
	}
	rv = handshake_client_start(c->hs, w->data, &w->len, &err);
	if (rv != 0) {
		free(w);
		peer_conn_fail(c, rv, "handshake: %s", err.msg);
		return;
	}
	if (conn_write(c, w) != 0)
		return;
	peer_conn_start_reading(c);
}

int io_uv_peer_dial(struct io *io, const struct io_peer_config *cfg,
		    const struct sockaddr *addr,
		    const uint8_t *expected_server_key, struct io_conn **out,
		    struct err *err)
{
	struct peer_conn *c;
	int rv;

	assert(io != NULL && cfg != NULL && cfg->identity != NULL &&
	       cfg->network_key != NULL && out != NULL);
	if (addr == NULL ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return err_set(err, RUMOR_EINVAL,
			       "io: dial needs an IPv4 or IPv6 address");
	c = peer_conn_new(io, cfg, err);
	if (c == NULL)
		return err != NULL ? err->code : RUMOR_ENOMEM;
	c->hs = malloc(handshake_size());
	if (c->hs == NULL) {
		c->state = CONN_CLOSING;
		peer_conn_close_handles(c);
		return err_set(err, RUMOR_ENOMEM,
			       "io: out of memory for a connection");
	}
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
		peer_conn_close_handles(c);
		return err_set(err, RUMOR_ENET, "io: cannot connect: %s",
			       uv_strerror(rv));
	}
	uv_timer_start(&c->timer, peer_conn_timer, c->cfg.handshake_timeout_ms, 0);
	*out = &c->base;
	return 0;
}

static int peer_conn_peer_host(const struct io_conn *base, char *host,
			       size_t len)
{
	const struct peer_conn *c = (const struct peer_conn *)base;
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
