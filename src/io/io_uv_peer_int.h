/* SPDX-License-Identifier: MIT */
/*
 * io_uv_peer_int: what io_uv_peer.c (connections) and io_uv_listener.c
 * (the listener) share. Private to src/io/.
 *
 * Ownership: a connection mid-handshake on a listener belongs to the
 * listener (closed with it; the owner never sees it unless it
 * authenticates). A connection handed out belongs to whoever received
 * it, who releases it with io_conn_close().
 */
#ifndef RUMOR_IO_UV_PEER_INT_H
#define RUMOR_IO_UV_PEER_INT_H

#include "io/io_uv_int.h"

#include "crypto/handshake.h"

/* Reads of an open connection land here; 64 KiB is a few TCP segments'
 * worth and keeps small frames opening straight from it without a copy.
 * It is allocated on the first read after the handshake: until then
 * reads go straight into hs_msg, exactly the bytes the handshake
 * expects, so a connection in its handshake holds only its struct. */
#define PEER_READ_BUF (64u * 1024u)

/* Who a connection comes from, for the per-source cap: an IPv4 address
 * (as ::ffff:a.b.c.d) or an IPv6 /64 prefix (the rest zero). */
#define PEER_SOURCE_BYTES 16

enum peer_conn_state {
	CONN_HANDSHAKE,         /* connecting or in the handshake */
	CONN_OPEN,              /* frames flow */
	CONN_FAILED,            /* ended by the peer or a fault */
	CONN_CLOSING,           /* released by its owner: handles closing */
};

struct peer_conn {
	struct io_conn base;            /* first: what the owner sees */
	enum peer_conn_state state;
	struct io *io;
	struct io_peer_config cfg;
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

	/* Server side: the handshake failed (c->failure says why); read
	 * and discard until the deadline, so that a prober learns nothing
	 * from when the connection ends. */
	int discarding;
	/* Server side: the first message was valid (the peer knows the
	 * network key): such handshakes are the last evicted. */
	int hs_progress;

	struct channel *ch;
	uint8_t *rbuf;                  /* PEER_READ_BUF bytes, or NULL */
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
	struct peer_listener *listener;
	struct peer_conn *prev;
	struct peer_conn *next;
	uint8_t source[PEER_SOURCE_BYTES];
	uint64_t serial;                /* accept order on its listener */

	/* Set while a connection the listener handed out is not released
	 * (max_connections counts these); cleared if the listener goes
	 * first. */
	struct peer_listener *counted_by;
	struct peer_conn *hprev;
	struct peer_conn *hnext;
};

/* One write: a handshake message or a sealed frame, inline. */
struct peer_write {
	uv_write_t req;
	struct peer_conn *conn;
	size_t len;
	uint8_t data[];
};

struct peer_listener {
	struct io_listener base;        /* first: the io that made it */
	uv_tcp_t tcp;
	struct io_peer_config cfg;
	io_accept_cb accept;
	io_reject_cb reject;
	void *data;
	int port;
	int closing;
	int tcp_closed;
	io_listener_close_cb close_cb;
	struct peer_conn *pending;        /* connections mid-handshake */
	struct peer_conn *handed;         /* handed out, not released */
	struct io_listener_stats stats;   /* in_handshake unused */
	uint64_t serial;                  /* of the next accepted */
	unsigned max_handshakes;          /* the caps, defaults applied */
	unsigned max_per_source;
	unsigned max_connections;
	int fd_ceiling;                   /* descriptors >= this: refused */
	int reserve_fd;                   /* /dev/null for EMFILE, or -1 */
	/* Accepts are taken PEER_ACCEPT_BUDGET at a time, the rest on the
	 * next loop turn (defer), so that reads (a peer's first message)
	 * run between bursts of strangers. */
	uv_timer_t defer;
	unsigned turn_accepts;
	int defer_closed;
};

#define PEER_ACCEPT_BUDGET 16u

/* io_uv_peer.c */

/* A connection with both handles initialised and its handshake state,
 * before any I/O; NULL (err set) when out of memory or when the TCP
 * handle cannot be made (then nothing is left behind). */
struct peer_conn *peer_conn_new(struct io *io,
				const struct io_peer_config *cfg,
				struct err *err);
struct handshake_config peer_conn_handshake_config(const struct peer_conn *c);
/* Ends a connection that has not been released (see io_uv_peer.c). */
void peer_conn_fail(struct peer_conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The handshake deadline, resumes and deferred closed handlers. */
void peer_conn_timer(uv_timer_t *t);
int peer_conn_start_reading(struct peer_conn *c);
/* Reads at once what a listener's connection in its handshake already
 * has (see io_uv_peer.c). */
void peer_conn_read_now(struct peer_conn *c);
void peer_conn_stop_reading(struct peer_conn *c);
/* Closes whatever handle is still open; the struct goes when both are. */
void peer_conn_close_handles(struct peer_conn *c);
/* Takes c off its listener's list of connections in their handshake. */
void peer_listener_unlink(struct peer_listener *l, struct peer_conn *c);
/* Adds c (just opened by l) to l's connections handed out. */
void peer_listener_hand_out(struct peer_listener *l, struct peer_conn *c);
/* Takes c off the connections handed out (the owner released it). */
void peer_listener_uncount(struct peer_conn *c);

/* io_uv_listener.c */

/* Frees a closing listener once its handle and every connection in its
 * handshake are gone. */
void peer_listener_maybe_done(struct peer_listener *l);

#endif
