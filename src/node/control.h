/* SPDX-License-Identifier: MIT */
/*
 * control: the control socket inside a node. A unix stream socket (mode
 * 0600, normally DATA/control.sock) that speaks the framed CBOR protocol
 * of wire_ctl.h to rumorctl: reads and writes through the public API,
 * gossip state through node_ctl.h. Runs on the node's io (io_stream).
 *
 * Guarantees:
 *  - A malformed request (bad framing, oversize, wrong shape, unknown
 *    command, wrong argument types) gets an ERROR reply, changes nothing,
 *    and the connection is closed once that reply is written.
 *  - Memory per client is bounded: a request is at most CTL_REQUEST_MAX
 *    bytes, streams (scan, log, watch) pause or drop while a client's
 *    unsent replies exceed a high-water mark, and at most
 *    CONTROL_CLIENTS_MAX clients are served at once (others are closed at
 *    once).
 */
#ifndef RUMOR_CONTROL_H
#define RUMOR_CONTROL_H

#include "rumor.h"
#include "io/io.h"
#include "lib/err.h"

#define CONTROL_CLIENTS_MAX 64
/* Unsent reply bytes per client above which streams pause (scan, log;
 * a watch above CONTROL_WATCH_HIGH_WATER, going on from its position
 * in the change feed). */
#define CONTROL_HIGH_WATER (1u << 20)
/* Pipelined PUTs and DELs written as one batch (control.c, group
 * commit): at most this many, and this many key and value bytes. */
#define CONTROL_GROUP_MAX 256u
#define CONTROL_GROUP_BYTES (4u << 20)
#define CONTROL_WATCH_HIGH_WATER (8u << 20)

struct control;

/* Listens on socket_path. Refuses (RUMOR_EBUSY) when a live node already
 * answers there, removes a stale socket left by a crashed node, refuses
 * (RUMOR_ECONFIG) a path that exists and is not a socket or is too long
 * for a unix socket (io->ops->stream_listen). The socket is created mode
 * 0600. On failure *out is untouched and nothing is left but what the io
 * frees from its loop. */
int control_start(struct control **out, struct io *io, struct rumor *node,
		  const char *socket_path, struct err *err);

/* Stops listening, removes the socket file, drops every client (their
 * watches included). cb (if not NULL) fires once, from the loop, when
 * every handle is closed and c is freed. Call before closing the node. */
void control_close(struct control *c, void (*cb)(void *arg), void *arg);

#endif
