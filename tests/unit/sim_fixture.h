/* SPDX-License-Identifier: MIT */
/* sim_fixture: the small fake users of tests/unit/test_sim*.c: a world of
 * hosts with identities and a network key, timers that log, a listener
 * that accepts one connection, a dialer. */
#ifndef RUMOR_TESTS_SIM_FIXTURE_H
#define RUMOR_TESTS_SIM_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/channel.h"
#include "crypto/identity.h"
#include "tests/lib/sim.h"

/* ------------------------------------------------------------ fixtures */

struct world {
	struct sim *sim;
	struct identity id[4];
	uint8_t key[NETWORK_KEY_BYTES];
	uint8_t other_key[NETWORK_KEY_BYTES];
	struct io_peer_config cfg[4];
};

static inline void world_init(struct world *w, uint64_t seed, int hosts)
{
	struct err err = { 0 };
	int i;

	memset(w, 0, sizeof(*w));
	assert_int_equal(sim_new(&w->sim, seed, hosts, &err), 0);
	memset(w->key, 7, sizeof(w->key));
	memset(w->other_key, 8, sizeof(w->other_key));
	for (i = 0; i < 4; i++) {
		memset(w->id[i].public_key, 0x10 + i, IDENTITY_PUBLIC_BYTES);
		w->cfg[i].identity = &w->id[i];
		w->cfg[i].network_key = w->key;
	}
}

static inline struct sockaddr_in addr_of(int host, int port)
{
	struct sockaddr_in a;
	char buf[16];

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	sim_host_addr(host, buf, sizeof(buf));
	assert_int_equal(inet_pton(AF_INET, buf, &a.sin_addr), 1);
	return a;
}

/* ------------------------------------------------------------ timers */

struct tlog {
	int order[16];
	uint64_t when[16];
	int n;
	struct io_timer *self_free;
	int repeat_fired;
};

struct tctx {
	struct tlog *log;
	int id;
};

static inline void on_timer(struct io_timer *t)
{
	struct tctx *c = t->data;

	c->log->order[c->log->n] = c->id;
	c->log->when[c->log->n] = io_now_ms(t->io);
	c->log->n++;
}

/* ------------------------------------------------------------ peers */

#define MSGS_MAX 256

struct peer {
	struct io *io;
	struct io_conn *c;
	int opened, closed, drained, close_cbs;
	int reason;
	int message_before_open;
	uint64_t closed_at;
	size_t n;
	size_t len[MSGS_MAX];
	uint8_t first[MSGS_MAX];
};

struct server {
	struct io *io;
	struct io_listener *l;
	struct peer peer;           /* the one accepted connection */
	int accepted, rejected, reject_reason, listener_closed;
};

static inline void p_open(struct io_conn *c)
{
	((struct peer *)c->data)->opened++;
}

static inline void p_message(struct io_conn *c, const uint8_t *msg,
			     size_t len)
{
	struct peer *p = c->data;

	if (!c->is_open || (!c->inbound && p->opened == 0))
		p->message_before_open = 1;
	if (p->n < MSGS_MAX) {
		p->len[p->n] = len;
		p->first[p->n] = len > 0 ? msg[0] : 0;
		p->n++;
	}
}

static inline void p_drained(struct io_conn *c)
{
	((struct peer *)c->data)->drained++;
}

static inline void p_closed(struct io_conn *c, int reason,
			    const char *detail)
{
	struct peer *p = c->data;

	(void)detail;
	p->closed++;
	p->reason = reason;
	p->closed_at = io_now_ms(p->io);
}

static inline void p_close_cb(struct io_conn *c)
{
	((struct peer *)c->data)->close_cbs++;
}

static const struct io_conn_handlers peer_handlers = {
	.open = p_open,
	.message = p_message,
	.drained = p_drained,
	.closed = p_closed,
};

static struct server *server_of(struct io *io, struct io_listener *l)
{
	return io->ops->listener_data(l);
}

/* The io whose vtable reaches listener data (set by each test). */
static struct io *srv_io;

static inline void srv_accept(struct io_listener *l, struct io_conn *c)
{
	struct server *sv = server_of(srv_io, l);

	assert_true(c->is_open);
	assert_true(c->inbound);
	sv->accepted++;
	sv->peer.c = c;
	sv->peer.io = sv->io;
	c->handlers = peer_handlers;
	c->data = &sv->peer;
}

static inline void srv_reject(struct io_listener *l, int reason,
			      const char *detail)
{
	struct server *sv = server_of(srv_io, l);

	(void)detail;
	sv->rejected++;
	sv->reject_reason = reason;
}

static inline void srv_closed(struct io_listener *l)
{
	server_of(srv_io, l)->listener_closed++;
}

static inline void server_listen(struct world *w, struct server *sv,
				 int host, int port)
{
	struct err err = { 0 };
	char addr[16];

	memset(sv, 0, sizeof(*sv));
	sv->io = sim_host_io(w->sim, host);
	srv_io = sv->io;
	sim_host_addr(host, addr, sizeof(addr));
	assert_int_equal(sv->io->ops->listen(sv->io, &w->cfg[host], addr,
					     port, srv_accept, srv_reject, sv,
					     &sv->l, &err), 0);
}

static inline void server_close(struct server *sv)
{
	sv->io->ops->listener_close(sv->l, srv_closed);
}

static inline void dial(struct world *w, struct peer *p, int from, int to,
			int port, const uint8_t *expected)
{
	struct sockaddr_in a = addr_of(to, port);
	struct err err = { 0 };

	memset(p, 0, sizeof(*p));
	p->io = sim_host_io(w->sim, from);
	assert_int_equal(p->io->ops->dial(p->io, &w->cfg[from],
					  (const struct sockaddr *)&a,
					  expected, &p->c, &err), 0);
	p->c->handlers = peer_handlers;
	p->c->data = p;
}

static inline void send_n(struct peer *p, int n, size_t len)
{
	uint8_t buf[2048];
	struct err err = { 0 };
	int i;

	assert_true(len <= sizeof(buf));
	for (i = 0; i < n; i++) {
		memset(buf, i, len);
		assert_int_equal(io_conn_send(p->c, buf, len, &err), 0);
	}
}

#endif
