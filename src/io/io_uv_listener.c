/* SPDX-License-Identifier: MIT */
/*
 * io_uv_listener: the peer listener over libuv TCP (the listen and
 * listener_* ops of io/io.h). Accepted connections run their handshake
 * while the listener holds them, and are handed to the accept callback
 * once authenticated (see io_uv_peer_int.h for ownership).
 *
 * Strangers are bounded here (the caps of io_peer_config): every
 * connection is accepted, so the backlog drains and the kernel never
 * holds what we refuse, then closed at once when it is over a cap.
 */
#include "io/io_uv_peer_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

void peer_listener_maybe_done(struct peer_listener *l)
{
	struct peer_conn *c;

	if (!l->closing || !l->tcp_closed || !l->defer_closed ||
	    l->pending != NULL)
		return;
	/* Connections handed out outlive the listener: stop counting. */
	for (c = l->handed; c != NULL; c = c->hnext)
		c->counted_by = NULL;
	if (l->reserve_fd >= 0)
		close(l->reserve_fd);
	if (l->close_cb != NULL)
		l->close_cb(&l->base);
	io_uv_release(l->base.io);
	free(l);
}

void peer_listener_hand_out(struct peer_listener *l, struct peer_conn *c)
{
	c->counted_by = l;
	c->hprev = NULL;
	c->hnext = l->handed;
	if (l->handed != NULL)
		l->handed->hprev = c;
	l->handed = c;
	l->stats.connections++;
}

void peer_listener_uncount(struct peer_conn *c)
{
	struct peer_listener *l = c->counted_by;

	if (l == NULL)
		return;
	if (c->hprev != NULL)
		c->hprev->hnext = c->hnext;
	else
		l->handed = c->hnext;
	if (c->hnext != NULL)
		c->hnext->hprev = c->hprev;
	c->counted_by = NULL;
	c->hprev = c->hnext = NULL;
	assert(l->stats.connections > 0);
	l->stats.connections--;
}

/* ------------------------------------------------------------ caps */

/* c's source key (see PEER_SOURCE_BYTES); 0, or -1 when it has none. */
static int conn_source(struct peer_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;

	memset(c->source, 0, sizeof c->source);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		c->source[10] = c->source[11] = 0xff;
		memcpy(c->source + 12,
		       &((struct sockaddr_in *)&ss)->sin_addr, 4);
		return 0;
	}
	if (ss.ss_family != AF_INET6)
		return -1;
	memcpy(c->source, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	/* An IPv4-mapped address is one IPv4 source; else its /64. */
	if (!IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		memset(c->source + 8, 0, 8);
	return 0;
}

/* Closes a connection still in its handshake at once, reporting nothing
 * to the owner (a cap closed it, counted by the caller). It leaves the
 * pending list when it is freed. */
static void conn_drop(struct peer_conn *c)
{
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	uv_os_fd_t fd;

	/* Closed with a reset: the kernel keeps no state for it
	 * (FIN_WAIT, TIME_WAIT) however many strangers come and go. */
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset,
				 sizeof reset);
	c->state = CONN_CLOSING;
	peer_conn_stop_reading(c);
	uv_timer_stop(&c->timer);
	peer_conn_close_handles(c);
}

/* The handshake to close for room: the oldest that has not shown the
 * network key, else the oldest. NULL when none is live. */
static struct peer_conn *listener_victim(struct peer_listener *l)
{
	struct peer_conn *c, *best = NULL;

	for (c = l->pending; c != NULL; c = c->next) {
		if (c->state != CONN_HANDSHAKE)
			continue;
		if (best == NULL ||
		    (c->hs_progress == best->hs_progress
			     ? c->serial < best->serial
			     : !c->hs_progress))
			best = c;
	}
	return best;
}

/* Handshakes live on l, in all and from c's source. */
static void listener_count(const struct peer_listener *l,
			   const struct peer_conn *c, unsigned *all,
			   unsigned *same)
{
	const struct peer_conn *p;

	*all = *same = 0;
	for (p = l->pending; p != NULL; p = p->next) {
		if (p->state != CONN_HANDSHAKE)
			continue;
		++*all;
		if (memcmp(p->source, c->source, sizeof p->source) == 0)
			++*same;
	}
}

/* Applies the caps to c, just accepted and not yet on the pending list:
 * 0 when it may run its handshake (an older one may have been closed for
 * it), else the stats counter that refused it. */
static uint64_t *listener_admit(struct peer_listener *l, struct peer_conn *c)
{
	unsigned all, same, room;
	struct peer_conn *victim;
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
	    (int)fd >= l->fd_ceiling)
		return &l->stats.refused_descriptors;
	if (l->stats.connections >= l->max_connections)
		return &l->stats.refused_connections;
	if (conn_source(c) != 0)
		return &l->stats.refused_connections;
	listener_count(l, c, &all, &same);
	if (same >= l->max_per_source)
		return &l->stats.refused_handshakes_source;
	room = l->max_connections - (unsigned)l->stats.connections;
	if (room > l->max_handshakes)
		room = l->max_handshakes;
	while (all >= room && (victim = listener_victim(l)) != NULL) {
		if (all >= l->max_handshakes)
			l->stats.refused_handshakes_total++;
		else
			l->stats.refused_connections++;
		conn_drop(victim);
		all--;
	}
	return NULL;
}

/* Out of descriptors (libuv's own reserve descriptor did not help):
 * close ours, accept and close what waits, take it again. Without this
 * libuv would retry the accept at once, forever. */
static void listener_emfile(struct peer_listener *l)
{
	uv_os_fd_t lfd;
	int fd;

	l->stats.refused_descriptors++;
	if (l->reserve_fd < 0 ||
	    uv_fileno((uv_handle_t *)&l->tcp, &lfd) != 0)
		return;
	close(l->reserve_fd);
	l->reserve_fd = -1;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0 ||
	       errno == EINTR || errno == ECONNABORTED) {
		if (fd >= 0) {
			close(fd);
			l->stats.refused_descriptors++;
		}
	}
	l->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Descriptors at or above the result are refused: the last eighth of
 * RLIMIT_NOFILE, at least 16, stays for everything else. */
static int listener_fd_ceiling(void)
{
	struct rlimit rl;
	rlim_t lim = 1024, spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		lim = rl.rlim_cur;
	if (lim == RLIM_INFINITY || lim > INT_MAX)
		lim = INT_MAX;
	spare = lim / 8 < 16 ? 16 : lim / 8;
	return lim > spare ? (int)(lim - spare) : 0;
}

static void listener_tcp_closed(uv_handle_t *h)
{
	struct peer_listener *l = h->data;

	l->tcp_closed = 1;
	peer_listener_maybe_done(l);
}

static void listener_defer_closed(uv_handle_t *h)
{
	struct peer_listener *l = h->data;

	l->defer_closed = 1;
	peer_listener_maybe_done(l);
}

static void listener_connection(uv_stream_t *s, int status);

/* The next loop turn after a full budget: take the connection libuv
 * holds (which lets it poll the listener again). */
static void listener_defer_cb(uv_timer_t *t)
{
	struct peer_listener *l = t->data;

	l->turn_accepts = 0;
	if (!l->closing)
		listener_connection((uv_stream_t *)&l->tcp, 0);
}

static void listener_connection(uv_stream_t *s, int status)
{
	struct peer_listener *l = s->data;
	struct peer_conn *c;
	uint64_t *refused;
	struct err err = {0};
	int rv;

	if (status == UV_EMFILE || status == UV_ENFILE) {
		listener_emfile(l);
		return;
	}
	if (status < 0 || l->closing)
		return;
	if (l->turn_accepts >= PEER_ACCEPT_BUDGET) {
		/* Not taken now: libuv stops polling the listener until
		 * listener_defer_cb takes it. */
		if (!uv_is_active((uv_handle_t *)&l->defer))
			uv_timer_start(&l->defer, listener_defer_cb, 0, 0);
		return;
	}
	l->turn_accepts++;
	c = peer_conn_new(l->base.io, &l->cfg, &err);
	if (c == NULL) {
		/* Out of memory: the peer stays unaccepted in the backlog
		 * (libuv stops polling the listener until one is taken);
		 * try again in a while. */
		l->stats.rejected++;
		uv_timer_start(&l->defer, listener_defer_cb, 100, 0);
		if (l->reject != NULL)
			l->reject(&l->base, RUMOR_ENOMEM, err.msg);
		return;
	}
	c->base.inbound = 1;
	rv = uv_accept(s, (uv_stream_t *)&c->tcp);
	if (rv == 0)
		(void)uv_tcp_nodelay(&c->tcp, 1);   /* as dialed ones */
	if (rv == 0 && (refused = listener_admit(l, c)) != NULL) {
		++*refused;
		conn_drop(c);
		return;
	}
	c->listener = l;
	c->serial = l->serial++;
	c->next = l->pending;
	if (l->pending != NULL)
		l->pending->prev = c;
	l->pending = c;
	if (rv != 0) {
		peer_conn_fail(c, RUMOR_ENET, "cannot accept: %s", uv_strerror(rv));
		return;
	}
	uv_timer_start(&c->timer, peer_conn_timer, c->cfg.handshake_timeout_ms, 0);
	if (peer_conn_start_reading(c) == 0)
		peer_conn_read_now(c);
}

int io_uv_peer_listen(struct io *io, const struct io_peer_config *cfg,
		      const char *host, int port, io_accept_cb accept,
		      io_reject_cb reject, void *data,
		      struct io_listener **out, struct err *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_storage bound;
	int namelen = sizeof bound;
	struct peer_listener *l;
	int rv;

	assert(io != NULL && out != NULL && cfg != NULL &&
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
	l->base.io = io;
	l->cfg = *cfg;
	l->accept = accept;
	l->reject = reject;
	l->data = data;
	l->max_handshakes = cfg->max_handshakes ? cfg->max_handshakes
						: IO_MAX_HANDSHAKES;
	l->max_per_source = cfg->max_handshakes_per_source
				    ? cfg->max_handshakes_per_source
				    : IO_MAX_HANDSHAKES_PER_SOURCE;
	l->max_connections = cfg->max_connections ? cfg->max_connections
						  : IO_MAX_CONNECTIONS;
	l->fd_ceiling = listener_fd_ceiling();
	/* Taken before the listening socket, so it is a low descriptor. */
	l->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rv = uv_tcp_init(io_uv_loop(io), &l->tcp);
	if (rv != 0) {
		if (l->reserve_fd >= 0)
			close(l->reserve_fd);
		free(l);
		return err_set(err, RUMOR_ENET, "io: cannot make a socket: %s",
			       uv_strerror(rv));
	}
	l->tcp.data = l;
	/* Cannot fail: a timer is only a struct in the loop. */
	uv_timer_init(io_uv_loop(io), &l->defer);
	l->defer.data = l;
	io_uv_of(io)->live++;
	rv = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
	if (rv == 0)
		/* A long queue: when strangers hammer the port, a peer's
		 * connection waits its turn in it rather than have its SYN
		 * dropped and retried a second later (the kernel clamps
		 * this to net.core.somaxconn). */
		rv = uv_listen((uv_stream_t *)&l->tcp, SOMAXCONN,
			       listener_connection);
	if (rv == 0)
		rv = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound,
					&namelen);
	if (rv != 0) {
		err_set(err, RUMOR_ENET, "io: cannot listen on %s port %d: %s",
			host, port, uv_strerror(rv));
		io_uv_peer_listener_close(&l->base, NULL);
		return RUMOR_ENET;
	}
	l->port = bound.ss_family == AF_INET6
			  ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
			  : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	*out = &l->base;
	return 0;
}

int io_uv_peer_listener_port(const struct io_listener *base)
{
	return ((const struct peer_listener *)base)->port;
}

void *io_uv_peer_listener_data(const struct io_listener *base)
{
	return ((const struct peer_listener *)base)->data;
}

struct io_listener_stats io_uv_peer_listener_stats(const struct io_listener *base)
{
	const struct peer_listener *l = (const struct peer_listener *)base;
	struct io_listener_stats st = l->stats;
	const struct peer_conn *c;

	st.in_handshake = 0;
	for (c = l->pending; c != NULL; c = c->next)
		if (c->state == CONN_HANDSHAKE)
			st.in_handshake++;
	return st;
}

void io_uv_peer_listener_close(struct io_listener *base,
			       io_listener_close_cb cb)
{
	struct peer_listener *l = (struct peer_listener *)base;
	struct peer_conn *c;

	assert(!l->closing);
	l->closing = 1;
	l->close_cb = cb;
	uv_close((uv_handle_t *)&l->tcp, listener_tcp_closed);
	uv_close((uv_handle_t *)&l->defer, listener_defer_closed);
	/* The connections unlink themselves as they are freed, later. */
	for (c = l->pending; c != NULL; c = c->next) {
		if (c->state == CONN_CLOSING)
			continue;
		c->state = CONN_CLOSING;
		peer_conn_stop_reading(c);
		uv_timer_stop(&c->timer);
		peer_conn_close_handles(c);
	}
}
