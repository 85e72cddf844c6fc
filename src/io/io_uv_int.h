/* SPDX-License-Identifier: MIT */
/*
 * io_uv_int: what the files of the libuv io implementation share (the
 * instance, and the ops each file contributes to the one vtable that
 * io_uv.c assembles). Private to src/io/.
 */
#ifndef RUMOR_IO_UV_INT_H
#define RUMOR_IO_UV_INT_H

#include <uv.h>

#include "io/io.h"
#include "lib/err.h"

/* One io instance: the vtable's view first, then the loop it runs on. */
struct io_uv {
	struct io base;
	uv_loop_t *loop;
	/* Objects made on this io and not yet freed. */
	size_t live;
	/* io_uv_free was called while some were still closing: the last
	 * one frees the instance. */
	int freeing;
};

static inline struct io_uv *io_uv_of(struct io *io)
{
	return (struct io_uv *)io->impl;
}

/* One object made on io is gone (its last use of io). */
void io_uv_release(struct io *io);

static inline uv_loop_t *io_uv_loop(struct io *io)
{
	return io_uv_of(io)->loop;
}

/* io_uv_peer.c: authenticated TCP peers (ops listen .. dial). */
int io_uv_peer_listen(struct io *io, const struct io_peer_config *cfg,
		      const char *host, int port, io_accept_cb accept,
		      io_reject_cb reject, void *data,
		      struct io_listener **out, struct err *err);
int io_uv_peer_listener_port(const struct io_listener *l);
void *io_uv_peer_listener_data(const struct io_listener *l);
struct io_listener_stats io_uv_peer_listener_stats(const struct io_listener *l);
void io_uv_peer_listener_close(struct io_listener *l, io_listener_close_cb cb);
int io_uv_peer_dial(struct io *io, const struct io_peer_config *cfg,
		    const struct sockaddr *addr,
		    const uint8_t *expected_server_key, struct io_conn **out,
		    struct err *err);

/* io_uv_udp.c: multicast datagrams (ops udp_*). */
int io_uv_udp_open(struct io *io, const struct io_udp_config *cfg,
		   io_udp_recv_cb recv, void *data, struct io_udp **out,
		   struct err *err);
void *io_uv_udp_data(const struct io_udp *u);
int io_uv_udp_send(struct io_udp *u, const uint8_t *buf, size_t len);
void io_uv_udp_close(struct io_udp *u, void (*cb)(void *arg), void *arg);

/* io_uv_stream.c: local unix stream sockets (ops stream_*). */
int io_uv_stream_listen(struct io *io, const char *path,
			io_stream_accept_cb accept, void *data,
			struct io_stream_listener **out, struct err *err);
void *io_uv_stream_listener_data(const struct io_stream_listener *l);
void io_uv_stream_listener_close(struct io_stream_listener *l,
				 void (*cb)(void *arg), void *arg);

#endif
