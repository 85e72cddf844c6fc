/* SPDX-License-Identifier: MIT */
/*
 * io_uv: the io vtable (io/io.h) over libuv. Only the loop owners include
 * this header. No global state: any number of io instances may share one
 * loop (one per node).
 */
#ifndef RUMOR_IO_UV_H
#define RUMOR_IO_UV_H

#include <uv.h>

#include "io/io.h"
#include "lib/err.h"

/* Makes an io whose every object runs on loop (which must outlive it).
 * RUMOR_ENOMEM with *out unset. */
int io_uv_new(struct io **out, uv_loop_t *loop, struct err *err);

/* Frees io. Requires every object made on it (timers, listeners,
 * connections, datagram sockets, streams, resolutions, work) to have been
 * freed, closed or cancelled, and the loop to have run since, so that
 * their close callbacks fired and no work is still queued. NULL is a
 * no-op. */
void io_uv_free(struct io *io);

/* The TCP peer API of before the vtable; io_uv_peer.c moves behind the
 * vtable next and these go. */
#include "crypto/identity.h"

#define IO_UV_HANDSHAKE_TIMEOUT_MS 10000u
#define IO_UV_LOW_WATERMARK (256u * 1024u)

/* What both ends need. The pointed-to objects must outlive every
 * listener and connection made with the config; the struct itself is
 * copied. */
struct io_uv_config {
	uv_loop_t *loop;
	const struct identity *identity;
	const uint8_t *network_key;             /* NETWORK_KEY_BYTES */
	const struct trusted_keys *trusted;     /* NULL: any identity */
	/* A peer that has not finished the handshake this long after the
	 * TCP connection (or the dial) started is closed. 0: the default. */
	unsigned handshake_timeout_ms;
	/* Initial io_conn.low_watermark of each connection. 0: default. */
	size_t low_watermark;
};

struct io_uv_listener;

/* A connection authenticated: the callee now owns c (sets c->handlers
 * and c->data, releases it with io_conn_close()). */
typedef void (*io_uv_accept_cb)(struct io_uv_listener *l, struct io_conn *c);
/* A connection failed before it authenticated (reason and detail as in
 * handlers.closed); it is gone already. For logs and counters. */
typedef void (*io_uv_reject_cb)(struct io_uv_listener *l, int reason,
				const char *detail);
typedef void (*io_uv_listener_close_cb)(struct io_uv_listener *l);

struct io_uv_listener_stats {
	uint64_t accepted;      /* authenticated and handed out */
	uint64_t rejected;      /* failed or timed out in the handshake */
	uint64_t in_handshake;  /* connections in their handshake now */
};

/* Listens on host (a numeric IPv4 or IPv6 address) and port (0: any
 * free port, see io_uv_listener_port()). accept is required, reject may
 * be NULL. On failure returns RUMOR_EINVAL (bad address) or RUMOR_ENET
 * (bind/listen failed) with *out unset; whatever was made is freed from
 * the loop. */
int io_uv_listen(struct io_uv_listener **out, const struct io_uv_config *cfg,
		 const char *host, int port, io_uv_accept_cb accept,
		 io_uv_reject_cb reject, void *data, struct err *err);
/* The bound port. */
int io_uv_listener_port(const struct io_uv_listener *l);
void *io_uv_listener_data(const struct io_uv_listener *l);
struct io_uv_listener_stats io_uv_listener_stats(const struct io_uv_listener *l);
/* Stops listening and closes the connections still in their handshake
 * (connections already handed out are not touched). cb (may be NULL)
 * fires once, from the loop, when all of it is freed. */
void io_uv_listener_close(struct io_uv_listener *l,
			  io_uv_listener_close_cb cb);

/* Dials addr (IPv4 or IPv6). On success *out is a connection that is not
 * open yet: set (*out)->handlers and ->data now; handlers.open fires once
 * the handshake is done, or handlers.closed if the connection or the
 * handshake fails. expected_server_key (32 bytes, copied) narrows the
 * server to one identity; NULL accepts any the config trusts. Fails only
 * for bad arguments (RUMOR_EINVAL), memory (RUMOR_ENOMEM) or when the
 * socket cannot even be started (RUMOR_ENET). */
int io_uv_dial(const struct io_uv_config *cfg, const struct sockaddr *addr,
	       const uint8_t *expected_server_key, struct io_conn **out,
	       struct err *err);

/* The numeric address (no port) of the far end of a connection made by
 * this module. RUMOR_ENET when the socket has none (closed). */
int io_uv_peer_host(const struct io_conn *c, char *host, size_t len);

/* Parses "HOST:PORT" or "[HOST]:PORT" with a numeric host into addr
 * (RUMOR_EINVAL on a malformed string). */
int io_uv_parse_addr(const char *s, struct sockaddr_storage *addr,
		     struct err *err);

#endif
