/* SPDX-License-Identifier: MIT */
/*
 * io: everything a node does with time or the network, behind one vtable
 * (DESIGN 1). src/io/io_uv*.c implement it over libuv (io_uv_new() in
 * io_uv.h: loop services in io_uv.c, peers in io_uv_peer.c and
 * io_uv_listener.c, datagrams in io_uv_udp.c, unix streams in
 * io_uv_stream.c); tests/lib/sim.c
 * implements it on virtual time for the cluster simulator. Above this
 * header nothing includes uv.h except the loop owners (src/rumord.c and
 * src/node/run_uv.c, which holds rumor_run).
 *
 * One struct io serves one node: its clocks, timers, peer connections
 * (authenticated, sealed messages), datagrams (multicast announcements),
 * local stream sockets (the control socket), name resolution (seeds) and
 * background work (fsync). Several nodes may share one loop, each with
 * its own struct io.
 *
 * Conventions:
 *  1. Every callback runs from the loop, never from inside the io_* call
 *     that caused it (a send never calls back synchronously). Any io_*
 *     call is allowed inside a callback, the close or free of the object
 *     whose callback it is included.
 *  2. Timers are freed with io_timer_free() at any moment, their own
 *     callback included; the callback never fires after that.
 *  3. A connection (peer or stream) handed to its owner (by a dial, a
 *     listener's accept callback) is released with its close call exactly
 *     once, including after its closed handler fired. The close callback
 *     then fires exactly once, from the loop (never inside the close
 *     call); the object is freed right after it returns.
 *  4. handlers.closed fires at most once, when the connection ends for
 *     any reason other than the owner's close: nothing arrives after it
 *     and sends fail with RUMOR_ECLOSED.
 *  5. Listeners, datagram sockets and resolutions are closed or cancelled
 *     with their close call; the optional callback fires once, from the
 *     loop, when the object is freed. No other callback fires after the
 *     close call.
 *  6. Randomness that shapes the schedule (jitter, backoff, peer choice)
 *     comes from io_random(), so that a simulated cluster replays from
 *     its seed. Key material does not: it comes from libsodium.
 */
#ifndef RUMOR_IO_H
#define RUMOR_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/err.h"

struct io;
struct io_timer;
struct io_conn;
struct io_listener;
struct io_udp;
struct io_stream;
struct io_stream_listener;
struct io_resolve;
struct trusted_keys;
struct identity;

/* ------------------------------------------------------------ peers */

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
	/* The numeric address (no port) of the far end. RUMOR_ENET when
	 * there is none (closed). */
	int (*peer_host)(const struct io_conn *c, char *host, size_t len);
	/* See convention 3. cb may be NULL. */
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

#define IO_HANDSHAKE_TIMEOUT_MS 10000u
#define IO_LOW_WATERMARK (256u * 1024u)
/* Listener caps (io_peer_config; see there). */
#define IO_MAX_HANDSHAKES 64u
#define IO_MAX_HANDSHAKES_PER_SOURCE 8u
#define IO_MAX_CONNECTIONS 256u

/* What both ends of a peer connection need. The pointed-to objects must
 * outlive every listener and connection made with the config; the struct
 * itself is copied. */
struct io_peer_config {
	const struct identity *identity;
	const uint8_t *network_key;             /* NETWORK_KEY_BYTES */
	const struct trusted_keys *trusted;     /* NULL: any identity */
	/* A peer that has not finished the handshake this long after the
	 * connection (or the dial) started is closed. 0: the default. */
	unsigned handshake_timeout_ms;
	/* Initial io_conn.low_watermark of each connection. 0: default. */
	size_t low_watermark;
	/* Listener caps, so that strangers hold bounded resources in total
	 * (0: the IO_MAX_* default). A listener accepts every connection,
	 * so the backlog drains, and closes at once what is over a cap:
	 *  - max_handshakes: connections in their handshake at once. Over
	 *    it, the oldest handshake that has not yet shown the network
	 *    key (a valid first message) is closed to make room (else the
	 *    oldest), so idle strangers cannot lock out a peer that
	 *    completes its handshake promptly;
	 *  - max_handshakes_per_source: handshakes at once from one IPv4
	 *    address or one IPv6 /64; over it the new one is closed;
	 *  - max_connections: handshakes plus connections handed out and
	 *    not yet released by their owner; over it the new one is
	 *    closed (handshakes make room for it as above while open
	 *    connections leave some).
	 * Besides, a connection whose descriptor is among the last eighth
	 * (at least 16) of RLIMIT_NOFILE is closed at once, so that the
	 * process keeps descriptors for its control socket and its files. */
	unsigned max_handshakes;
	unsigned max_handshakes_per_source;
	unsigned max_connections;
};

/* A connection authenticated: the callee now owns c (sets c->handlers
 * and c->data, releases it with io_conn_close()). */
typedef void (*io_accept_cb)(struct io_listener *l, struct io_conn *c);
/* A connection failed before it authenticated (reason and detail as in
 * handlers.closed); it is gone already. For logs and counters. */
typedef void (*io_reject_cb)(struct io_listener *l, int reason,
			     const char *detail);
typedef void (*io_listener_close_cb)(struct io_listener *l);

/* Counters since the listener started (in_handshake and connections:
 * now). The refused_* connections were closed by a cap of
 * io_peer_config and are not in rejected; io_reject_cb does not fire for
 * them. */
struct io_listener_stats {
	uint64_t accepted;      /* authenticated and handed out */
	uint64_t rejected;      /* failed or timed out in the handshake */
	uint64_t in_handshake;  /* connections in their handshake now */
	uint64_t connections;   /* handed out, not yet released: now */
	uint64_t refused_handshakes_total;      /* max_handshakes */
	uint64_t refused_handshakes_source;     /* ..._per_source */
	uint64_t refused_connections;           /* max_connections */
	/* Closed for want of descriptors: near RLIMIT_NOFILE, or accept
	 * failed with EMFILE/ENFILE (then the backlog is drained through
	 * a reserve descriptor and closed, so the loop never spins). */
	uint64_t refused_descriptors;
};

/* ------------------------------------------------------------ datagrams */

/* How one datagram arrived. The io layer only observes; the owner
 * decides what to drop (discovery counts each reason). */
struct io_udp_meta {
	const struct sockaddr *from;    /* sender's address, source port;
					 * an IPv6 link-local one carries
					 * its scope id (the interface) */
	int to_group;                   /* its destination was the group
					 * (IP_PKTINFO / IPV6_PKTINFO), not
					 * a unicast address of this host */
	int on_link;                    /* its source is within a prefix of
					 * an address of the interface it
					 * arrived on (or is link-local, or
					 * loopback on lo) */
	unsigned ifindex;               /* interface it arrived on; 0 when
					 * unknown */
};

/* One datagram on the group's port; buf and meta (and what it points
 * to) are valid only during the call. */
typedef void (*io_udp_recv_cb)(struct io_udp *u, const uint8_t *buf,
			       size_t len, const struct io_udp_meta *meta);

/* A multicast group membership: bound to the group's port (shared with
 * other sockets of the host), joined, sending to the group. IPv4: one
 * interface (the given one or the system's choice). IPv6: the named
 * interface, or else every interface that is up and multicast-capable
 * (a link-local-scope group must be joined per link); announcements go
 * out on each. */
struct io_udp_config {
	const struct sockaddr *group;   /* IPv4 or IPv6 group and port */
	const char *interface;          /* IPv4: an address of the interface;
					 * IPv6: an interface name; NULL:
					 * see above */
	int ttl;                        /* IPv4 TTL / IPv6 hop limit */
	int loopback;                   /* hear this host's own datagrams */
};

/* ------------------------------------------------------------ streams */

/* A local byte stream (the control socket). Reads are delivered in
 * chunks as they come; writes are copied and queued. */
struct io_stream_handlers {
	/* Bytes read; valid only during the call. */
	void (*read)(struct io_stream *s, const uint8_t *buf, size_t len);
	/* The write queue is empty again (after a write). */
	void (*drained)(struct io_stream *s);
	/* The peer closed (RUMOR_ECLOSED) or the socket failed. */
	void (*closed)(struct io_stream *s, int reason, const char *detail);
};

struct io_stream_ops {
	int (*write)(struct io_stream *s, const uint8_t *buf, size_t len,
		     struct err *err);
	size_t (*queued)(const struct io_stream *s);
	void (*pause)(struct io_stream *s);     /* stop reading */
	void (*resume)(struct io_stream *s);    /* read again */
	/* Convention 3; cb may be NULL. Queued writes are flushed first
	 * when the socket still takes them. */
	void (*close)(struct io_stream *s, void (*cb)(struct io_stream *s));
};

struct io_stream {
	const struct io_stream_ops *ops;
	struct io_stream_handlers handlers;     /* the owner's */
	void *data;                             /* the owner's */
};

typedef void (*io_stream_accept_cb)(struct io_stream_listener *l,
				    struct io_stream *s);

/* ------------------------------------------------------------ the rest */

typedef void (*io_timer_cb)(struct io_timer *t);

/* A name resolved: status 0 and n >= 1 addresses (valid only during the
 * call), or a negative RUMOR_E* code with n == 0. */
typedef void (*io_resolve_cb)(struct io_resolve *r, int status,
			      const struct sockaddr *const *addrs, size_t n);

/* Background work: work(arg) runs off the loop (a thread pool), then
 * done(arg, status) on the loop (status 0, or RUMOR_ECLOSED when the
 * loop cancelled it). */
typedef void (*io_work_fn)(void *arg);
typedef void (*io_work_done_fn)(void *arg, int status);

struct io_ops {
	/* Monotonic ms (the loop's cached time). */
	uint64_t (*now_ms)(struct io *io);
	/* Wall clock, ms since the epoch. */
	uint64_t (*wall_ms)(struct io *io);
	/* Uniform in [0, upper) (upper > 0); see convention 6. */
	uint32_t (*random)(struct io *io, uint32_t upper);

	struct io_timer *(*timer_new)(struct io *io, io_timer_cb cb,
				      void *data);
	/* (Re)starts: fires after timeout_ms, then every repeat_ms if not
	 * 0. timeout 0 fires on the next loop turn. */
	void (*timer_start)(struct io_timer *t, uint64_t timeout_ms,
			    uint64_t repeat_ms);
	void (*timer_stop)(struct io_timer *t);
	int (*timer_active)(const struct io_timer *t);
	/* A weak timer does not keep the loop running by itself (libuv's
	 * uv_unref): for housekeeping such as the once-a-second fsync. */
	void (*timer_weak)(struct io_timer *t);
	void (*timer_free)(struct io_timer *t);

	/* Listens on host (numeric IPv4 or IPv6) and port (0: any free
	 * port). accept required, reject may be NULL. RUMOR_EINVAL (bad
	 * address) or RUMOR_ENET (bind/listen failed) with *out unset. */
	int (*listen)(struct io *io, const struct io_peer_config *cfg,
		      const char *host, int port, io_accept_cb accept,
		      io_reject_cb reject, void *data,
		      struct io_listener **out, struct err *err);
	int (*listener_port)(const struct io_listener *l);
	void *(*listener_data)(const struct io_listener *l);
	struct io_listener_stats (*listener_stats)(const struct io_listener *l);
	/* Stops listening and closes the connections still in their
	 * handshake (not those handed out). */
	void (*listener_close)(struct io_listener *l, io_listener_close_cb cb);

	/* Dials addr. On success *out is not open yet: set its handlers and
	 * data now; handlers.open fires once the handshake is done, or
	 * handlers.closed if it fails. expected_server_key (32 bytes,
	 * copied) narrows the server to one identity; NULL: any the config
	 * trusts. Fails only for bad arguments (RUMOR_EINVAL), memory
	 * (RUMOR_ENOMEM) or a socket that cannot start (RUMOR_ENET). */
	int (*dial)(struct io *io, const struct io_peer_config *cfg,
		    const struct sockaddr *addr,
		    const uint8_t *expected_server_key, struct io_conn **out,
		    struct err *err);

	/* Joins a multicast group (RUMOR_ENET naming the failed step;
	 * RUMOR_ENOTFOUND for IPv6 when no interface can join). */
	int (*udp_open)(struct io *io, const struct io_udp_config *cfg,
			io_udp_recv_cb recv, void *data, struct io_udp **out,
			struct err *err);
	void *(*udp_data)(const struct io_udp *u);
	/* Sends one datagram to the group; never blocks (a full socket
	 * drops it: RUMOR_ENET). */
	int (*udp_send)(struct io_udp *u, const uint8_t *buf, size_t len);
	void (*udp_close)(struct io_udp *u, void (*cb)(void *arg), void *arg);

	/* Listens on a unix socket at path, mode 0600. RUMOR_EBUSY when a
	 * live listener already answers there; a stale socket file is
	 * replaced; RUMOR_ECONFIG for a path that is not a socket or is too
	 * long. */
	int (*stream_listen)(struct io *io, const char *path,
			     io_stream_accept_cb accept, void *data,
			     struct io_stream_listener **out, struct err *err);
	void *(*stream_listener_data)(const struct io_stream_listener *l);
	/* Stops listening and removes the socket file (streams already
	 * accepted are their owners'). */
	void (*stream_listener_close)(struct io_stream_listener *l,
				      void (*cb)(void *arg), void *arg);

	/* Resolves host and port (strings) to addresses. */
	int (*resolve)(struct io *io, const char *host, const char *port,
		       io_resolve_cb cb, void *data, struct io_resolve **out,
		       struct err *err);
	void *(*resolve_data)(const struct io_resolve *r);
	/* cb does not fire after this; the request is freed from the
	 * loop. */
	void (*resolve_cancel)(struct io_resolve *r);

	/* Queues background work (RUMOR_ENOMEM or RUMOR_EIO if it cannot be
	 * queued). done always fires, once. */
	int (*work)(struct io *io, io_work_fn work, io_work_done_fn done,
		    void *arg);
};

struct io {
	const struct io_ops *ops;
	void *impl;
};

/* ------------------------------------------------------------ inline */

static inline uint64_t io_now_ms(struct io *io) { return io->ops->now_ms(io); }
static inline uint64_t io_wall_ms(struct io *io) { return io->ops->wall_ms(io); }
static inline uint32_t io_random(struct io *io, uint32_t upper)
{
	return io->ops->random(io, upper);
}

static inline struct io_timer *io_timer_new(struct io *io, io_timer_cb cb,
					    void *data)
{
	return io->ops->timer_new(io, cb, data);
}

/* Every timer starts with these two fields; the rest is the impl's. */
struct io_timer {
	struct io *io;
	void *data;
};

static inline void io_timer_start(struct io_timer *t, uint64_t timeout_ms,
				  uint64_t repeat_ms)
{
	t->io->ops->timer_start(t, timeout_ms, repeat_ms);
}

static inline void io_timer_stop(struct io_timer *t)
{
	t->io->ops->timer_stop(t);
}

static inline int io_timer_active(const struct io_timer *t)
{
	return t->io->ops->timer_active(t);
}

static inline void io_timer_weak(struct io_timer *t)
{
	t->io->ops->timer_weak(t);
}

static inline void io_timer_free(struct io_timer *t)
{
	if (t != NULL)
		t->io->ops->timer_free(t);
}

/* Listeners, datagram sockets, stream listeners and resolutions start
 * with the io that made them (the rest is the impl's), so that a callback
 * holding only the object reaches its data through the vtable. */
struct io_listener {
	struct io *io;
};

struct io_udp {
	struct io *io;
};

struct io_stream_listener {
	struct io *io;
};

struct io_resolve {
	struct io *io;
};

static inline void *io_listener_data(const struct io_listener *l)
{
	return l->io->ops->listener_data(l);
}

static inline void *io_udp_data(const struct io_udp *u)
{
	return u->io->ops->udp_data(u);
}

static inline void *io_stream_listener_data(const struct io_stream_listener *l)
{
	return l->io->ops->stream_listener_data(l);
}

static inline void *io_resolve_data(const struct io_resolve *r)
{
	return r->io->ops->resolve_data(r);
}

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

static inline int io_conn_peer_host(const struct io_conn *c, char *host,
				    size_t len)
{
	return c->ops->peer_host(c, host, len);
}

static inline void io_conn_close(struct io_conn *c, io_close_cb cb)
{
	c->ops->close(c, cb);
}

static inline int io_stream_write(struct io_stream *s, const uint8_t *buf,
				  size_t len, struct err *err)
{
	return s->ops->write(s, buf, len, err);
}

static inline size_t io_stream_queued(const struct io_stream *s)
{
	return s->ops->queued(s);
}

static inline void io_stream_close(struct io_stream *s,
				   void (*cb)(struct io_stream *s))
{
	s->ops->close(s, cb);
}

#endif
