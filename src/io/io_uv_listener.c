/* SPDX-License-Identifier: MIT */
/*
 * io_uv_listener: the peer listener over libuv TCP (the listen and
 * listener_* ops of io/io.h). Accepted connections run their handshake
 * while the listener holds them, and are handed to the accept callback
 * once authenticated (see io_uv_peer_int.h for ownership).
 */
#include "io/io_uv_peer_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void peer_listener_maybe_done(struct peer_listener *l)
{
	if (!l->closing || !l->tcp_closed || l->pending != NULL)
		return;
	if (l->close_cb != NULL)
		l->close_cb(&l->base);
	io_uv_release(l->base.io);
	free(l);
}

static void listener_tcp_closed(uv_handle_t *h)
{
	struct peer_listener *l = h->data;

	l->tcp_closed = 1;
	peer_listener_maybe_done(l);
}

static void listener_connection(uv_stream_t *s, int status)
{
	struct peer_listener *l = s->data;
	struct handshake_config hc;
	struct peer_conn *c;
	struct err err = {0};
	int rv;

	if (status < 0 || l->closing)
		return;
	c = peer_conn_new(l->base.io, &l->cfg, &err);
	if (c == NULL) {
		/* Out of memory: the peer stays unaccepted in the backlog
		 * (libuv stops polling the listener until one is taken). */
		l->stats.rejected++;
		if (l->reject != NULL)
			l->reject(&l->base, RUMOR_ENOMEM, err.msg);
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
		peer_conn_fail(c, RUMOR_ENET, "cannot accept: %s", uv_strerror(rv));
		return;
	}
	hc = peer_conn_handshake_config(c);
	handshake_server_init(c->hs, &hc);
	uv_timer_start(&c->timer, peer_conn_timer, c->cfg.handshake_timeout_ms, 0);
	peer_conn_start_reading(c);
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
	rv = uv_tcp_init(io_uv_loop(io), &l->tcp);
	if (rv != 0) {
		free(l);
		return err_set(err, RUMOR_ENET, "io: cannot make a socket: %s",
			       uv_strerror(rv));
	}
	l->tcp.data = l;
	io_uv_of(io)->live++;
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
