/* SPDX-License-Identifier: MIT */
/*
 * io: the transport that sync and node talk to. A connection carries
 * whole messages (bytes) both ways, each sealed into one frame by the
 * implementation; it reports the peer's identity, its write queue for
 * backpressure, and its end. src/io/io_uv.c is the libuv TCP implementation;
 * tests may supply their own struct io_conn_ops.
 *
 * Conventions:
 *  1. The owner of a connection (the code that got it from a dialer or a
 *     listener) fills in c->handlers and c->data, and must release it
 *     with io_conn_close() exactly once, including after handlers.closed
 *     fired. The close callback then fires exactly once, from the loop
 *     (never inside io_conn_close()); c is freed right after it returns.
 *  2. Handlers are called from the loop, never from inside an io_conn_*
 *     call, except that messages may be delivered from io_conn_resume()'s
 *     loop turn (not from its call). Any io_conn_* call is allowed inside
 *     a handler, io_conn_close() included.
 *  3. handlers.closed fires at most once, when the connection ends for
 *     any reason other than io_conn_close(): no message arrives after it
 *     and sends fail with RUMOR_ECLOSED.
 */
#ifndef RUMOR_IO_H
#define RUMOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct io_conn;

struct io_conn_handlers {
	/* The handshake is done and c->peer_key is valid (dialed
	 * connections; a listener hands out connections already open). */
	void (*open)(struct io_conn *c);
	/* One whole authentic message; msg is valid only during the call. */
	void (*message)(struct io_conn *c, const uint8_t *msg, size_t len);
	/* The write queue fell below c->low_watermark after being at or
	 * above it. */
	void (*drained)(struct io_conn *c);
	/* The connection ended: reason is a negative RUMOR_E* code
	 * (RUMOR_ECLOSED: the peer closed it; RUMOR_EAUTH, RUMOR_EPROTO:
	 * the handshake or a frame failed; RUMOR_ETIMEDOUT: the handshake
	 * took too long; RUMOR_ENET: a socket error), detail a message. */
	void (*closed)(struct io_conn *c, int reason, const char *detail);
};

struct io_conn_stats {
	uint64_t bytes_in;      /* from the socket, handshake included */
	uint64_t bytes_out;     /* written to the socket */
	uint64_t messages_in;
	uint64_t messages_out;
};

typedef void (*io_close_cb)(struct io_conn *c);

struct io_conn_ops {
	/* Seals msg (len <= CHANNEL_FRAME_MAX bytes; copied, so the caller
	 * keeps it) into one frame and queues it. Never blocks: the caller
	 * watches io_conn_queued() against its own high watermark and waits
	 * for handlers.drained. RUMOR_ETOOBIG for a message over the bound,
	 * RUMOR_ECLOSED once the connection ended or is not open yet. */
	int (*send)(struct io_conn *c, const uint8_t *msg, size_t len,
		    struct err *err);
	/* Bytes sent but not yet written to the socket. */
	size_t (*queued)(const struct io_conn *c);
	/* Stops delivering messages (at the next message boundary) and
	 * reading from the socket, so the peer's writes back up. */
	void (*pause)(struct io_conn *c);
	/* Delivers what was held back, from the loop, and reads again. */
	void (*resume)(struct io_conn *c);
	/* See convention 1. cb may be NULL. */
	void (*close)(struct io_conn *c, io_close_cb cb);
};

struct io_conn {
	const struct io_conn_ops *ops;
	struct io_conn_handlers handlers;       /* the owner's */
	void *data;                             /* the owner's */
	/* The peer's Ed25519 public key, valid once open. */
	uint8_t peer_key[RUMOR_NODE_ID_BYTES];
	int is_open;
	int inbound;                            /* accepted, not dialed */
	/* handlers.drained threshold; the owner may change it. */
	size_t low_watermark;
	struct io_conn_stats stats;
};

static inline int io_conn_send(struct io_conn *c, const uint8_t *msg,
			       size_t len, struct err *err)
{
	return c->ops->send(c, msg, len, err);
}

static inline size_t io_conn_queued(const struct io_conn *c)
{
	return c->ops->queued(c);
}

static inline void io_conn_pause(struct io_conn *c)
{
	c->ops->pause(c);
}

static inline void io_conn_resume(struct io_conn *c)
{
	c->ops->resume(c);
}

static inline void io_conn_close(struct io_conn *c, io_close_cb cb)
{
	c->ops->close(c, cb);
}

#endif
