/* SPDX-License-Identifier: MIT */
/* test_sim: the simulated io (tests/lib/sim) on its own, with small fake
 * users and no node: timers, peer connections (FIFO, cuts, partitions,
 * authentication, flow control), paused and killed hosts, datagrams,
 * local streams, resolution, work, and replay from a seed. */
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

static void world_init(struct world *w, uint64_t seed, int hosts)
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

static struct sockaddr_in addr_of(int host, int port)
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

static void on_timer(struct io_timer *t)
{
	struct tctx *c = t->data;

	c->log->order[c->log->n] = c->id;
	c->log->when[c->log->n] = io_now_ms(t->io);
	c->log->n++;
}

static void test_timers_fire_in_time_then_insertion_order(void **state)
{
	struct world w;
	struct tlog log = { 0 };
	struct tctx c[4];
	struct io_timer *t[4];
	struct io *io;
	int i;

	(void)state;
	world_init(&w, 1, 1);
	io = sim_host_io(w.sim, 0);
	for (i = 0; i < 4; i++) {
		c[i].log = &log;
		c[i].id = i;
		t[i] = io_timer_new(io, on_timer, &c[i]);
		assert_non_null(t[i]);
	}
	io_timer_start(t[0], 30, 0);
	io_timer_start(t[1], 10, 0);
	io_timer_start(t[2], 30, 0);
	io_timer_start(t[3], 20, 0);
	io_timer_start(t[3], 5, 0);     /* a restart replaces the first */
	assert_true(io_timer_active(t[0]));
	sim_run_until(w.sim, 100);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.order[0], 3);
	assert_int_equal(log.when[0], 5);
	assert_int_equal(log.order[1], 1);
	assert_int_equal(log.order[2], 0);
	assert_int_equal(log.order[3], 2);
	assert_int_equal(log.when[3], 30);
	assert_false(io_timer_active(t[0]));
	assert_int_equal(sim_now(w.sim), 100);
	for (i = 0; i < 4; i++)
		io_timer_free(t[i]);
	sim_free(w.sim);
}

static void on_repeat(struct io_timer *t)
{
	struct tlog *log = t->data;

	log->when[log->repeat_fired++] = io_now_ms(t->io);
	if (log->repeat_fired == 3)
		io_timer_free(t);   /* inside its own callback */
}

static void test_timer_repeats_and_frees_itself(void **state)
{
	struct world w;
	struct tlog log = { 0 };
	struct io_timer *t, *stopped;

	(void)state;
	world_init(&w, 1, 1);
	t = io_timer_new(sim_host_io(w.sim, 0), on_repeat, &log);
	io_timer_start(t, 10, 25);
	stopped = io_timer_new(sim_host_io(w.sim, 0), on_repeat, &log);
	io_timer_start(stopped, 5, 0);
	io_timer_stop(stopped);
	sim_run_until(w.sim, 1000);
	assert_int_equal(log.repeat_fired, 3);
	assert_int_equal(log.when[0], 10);
	assert_int_equal(log.when[1], 35);
	assert_int_equal(log.when[2], 60);
	assert_int_equal(sim_pending(w.sim), 0);
	io_timer_free(stopped);
	sim_free(w.sim);
}

static void test_wall_clock_has_skew(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1, 2);
	sim_set_skew(w.sim, 1, -5000);
	sim_run_until(w.sim, 7000);
	assert_int_equal(io_wall_ms(sim_host_io(w.sim, 0)),
			 SIM_EPOCH_MS + 7000);
	assert_int_equal(io_wall_ms(sim_host_io(w.sim, 1)),
			 SIM_EPOCH_MS + 2000);
	assert_int_equal(io_now_ms(sim_host_io(w.sim, 1)), 7000);
	sim_free(w.sim);
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

static void p_open(struct io_conn *c)
{
	((struct peer *)c->data)->opened++;
}

static void p_message(struct io_conn *c, const uint8_t *msg, size_t len)
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

static void p_drained(struct io_conn *c)
{
	((struct peer *)c->data)->drained++;
}

static void p_closed(struct io_conn *c, int reason, const char *detail)
{
	struct peer *p = c->data;

	(void)detail;
	p->closed++;
	p->reason = reason;
	p->closed_at = io_now_ms(p->io);
}

static void p_close_cb(struct io_conn *c)
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

static struct io *srv_io;      /* set by each test before accepting */

static void srv_accept(struct io_listener *l, struct io_conn *c)
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

static void srv_reject(struct io_listener *l, int reason, const char *detail)
{
	struct server *sv = server_of(srv_io, l);

	(void)detail;
	sv->rejected++;
	sv->reject_reason = reason;
}

static void srv_closed(struct io_listener *l)
{
	server_of(srv_io, l)->listener_closed++;
}

static void server_listen(struct world *w, struct server *sv, int host,
			  int port)
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

static void server_close(struct server *sv)
{
	sv->io->ops->listener_close(sv->l, srv_closed);
}

static void dial(struct world *w, struct peer *p, int from, int to, int port,
		 const uint8_t *expected)
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

static void send_n(struct peer *p, int n, size_t len)
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

static void test_dial_opens_both_ends_with_peer_keys(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;
	char host[32];

	(void)state;
	world_init(&w, 3, 2);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, w.id[1].public_key);
	assert_false(cl.c->is_open);
	sim_run_until(w.sim, 1000);
	assert_int_equal(cl.opened, 1);
	assert_int_equal(sv.accepted, 1);
	assert_memory_equal(cl.c->peer_key, w.id[1].public_key, 32);
	assert_memory_equal(sv.peer.c->peer_key, w.id[0].public_key, 32);
	assert_int_equal(io_conn_peer_host(cl.c, host, sizeof(host)), 0);
	assert_string_equal(host, "127.0.1.2");
	assert_int_equal(io_conn_peer_host(sv.peer.c, host, sizeof(host)), 0);
	assert_string_equal(host, "127.0.1.1");
	io_conn_close(cl.c, p_close_cb);
	assert_int_equal(cl.close_cbs, 0);     /* never inside close */
	sim_run_until(w.sim, 2000);
	assert_int_equal(cl.close_cbs, 1);
	assert_int_equal(cl.closed, 0);        /* the owner closed it */
	assert_int_equal(sv.peer.closed, 1);
	assert_int_equal(sv.peer.reason, RUMOR_ECLOSED);
	io_conn_close(sv.peer.c, p_close_cb);
	server_close(&sv);
	sim_run_until(w.sim, 3000);
	assert_int_equal(sv.peer.close_cbs, 1);
	assert_int_equal(sv.listener_closed, 1);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void test_messages_arrive_in_fifo_order_when_held(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;
	struct err err = { 0 };
	uint8_t big = 0;
	int i;

	(void)state;
	world_init(&w, 4, 2);
	sim_set_hold(w.sim, 200);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	/* Not open yet: sends fail. */
	assert_int_equal(io_conn_send(cl.c, &big, 1, &err), RUMOR_ECLOSED);
	sim_run_until(w.sim, 100);
	assert_int_equal(cl.opened, 1);
	sim_conn_hold(cl.c, 300);
	for (i = 0; i < 200; i++) {
		uint8_t m[64];

		memset(m, i, sizeof(m));
		assert_int_equal(io_conn_send(cl.c, m, 1 + (size_t)i % 60,
					      &err), 0);
	}
	/* The server answers at once: its messages wait for nothing. */
	send_n(&sv.peer, 5, 10);
	assert_int_equal(io_conn_queued(cl.c), 200 * CHANNEL_OVERHEAD +
			 (size_t)(60 * 61 / 2 * 3 + 20 * 21 / 2));
	sim_run_until(w.sim, 100000);
	assert_int_equal(sv.peer.n, 200);
	for (i = 0; i < 200; i++) {
		assert_int_equal(sv.peer.first[i], i);
		assert_int_equal(sv.peer.len[i], 1 + (size_t)i % 60);
	}
	assert_int_equal(cl.n, 5);
	assert_int_equal(cl.message_before_open, 0);
	assert_int_equal(io_conn_queued(cl.c), 0);
	assert_int_equal(sv.peer.c->stats.messages_in, 200);
	/* Over the frame bound: refused, nothing queued. */
	assert_int_equal(io_conn_send(cl.c, &big, CHANNEL_FRAME_MAX + 1,
				      &err), RUMOR_ETOOBIG);
	io_conn_close(cl.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 200000);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void test_cut_at_byte_k_delivers_whole_messages_before_it(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;

	(void)state;
	world_init(&w, 5, 2);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	/* 100-byte messages are 120 bytes on the wire: a cut at 350 keeps
	 * two (240), loses the third (it ends at 360) and all after. */
	send_n(&cl, 1, 100);
	sim_conn_cut(cl.c, 350);
	send_n(&cl, 9, 100);
	assert_int_equal(sim_conn_sent(cl.c), 1200);
	sim_run_until(w.sim, 1000);
	assert_int_equal(sv.peer.n, 2);
	assert_int_equal(sv.peer.first[1], 0);
	assert_int_equal(sv.peer.closed, 1);
	assert_int_equal(sv.peer.reason, RUMOR_ENET);
	assert_int_equal(cl.closed, 1);
	assert_int_equal(cl.reason, RUMOR_ENET);
	/* After closed: sends fail, closed never fires twice. */
	{
		struct err err = { 0 };
		uint8_t b = 1;

		assert_int_equal(io_conn_send(cl.c, &b, 1, &err),
				 RUMOR_ECLOSED);
	}
	io_conn_close(cl.c, p_close_cb);
	io_conn_close(sv.peer.c, p_close_cb);
	server_close(&sv);
	sim_run_until(w.sim, 2000);
	assert_int_equal(cl.closed, 1);
	assert_int_equal(cl.close_cbs, 1);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void test_cut_at_passed_offset_cuts_now(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;

	(void)state;
	world_init(&w, 6, 2);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	send_n(&cl, 4, 20);        /* 40 bytes each on the wire */
	sim_conn_cut(cl.c, 80);    /* already passed: two are kept */
	sim_run_until(w.sim, 1000);
	assert_int_equal(sv.peer.n, 2);
	assert_int_equal(sv.peer.reason, RUMOR_ENET);
	assert_int_equal(cl.reason, RUMOR_ENET);
	io_conn_close(cl.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 2000);
	sim_free(w.sim);
}

static void test_dial_without_listener_fails_with_enet(void **state)
{
	struct world w;
	struct peer cl;

	(void)state;
	world_init(&w, 7, 2);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 1000);
	assert_int_equal(cl.opened, 0);
	assert_int_equal(cl.closed, 1);
	assert_int_equal(cl.reason, RUMOR_ENET);
	io_conn_close(cl.c, NULL);
	sim_run_until(w.sim, 2000);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void auth_case(uint64_t seed, int which)
{
	struct world w;
	struct server sv;
	struct peer cl;
	struct trusted_keys tk;
	uint8_t only[1][IDENTITY_PUBLIC_BYTES];

	world_init(&w, seed, 2);
	memset(only, 0x77, sizeof(only));
	tk.n = 1;
	tk.keys = only;
	if (which == 0)
		w.cfg[0].network_key = w.other_key;
	else if (which == 1)
		w.cfg[1].trusted = &tk;     /* the server trusts 0x77 only */
	else if (which == 2)
		w.cfg[0].trusted = &tk;     /* the client trusts 0x77 only */
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, which == 3 ? w.id[2].public_key : NULL);
	sim_run_until(w.sim, 1000);
	assert_int_equal(cl.opened, 0);
	assert_int_equal(cl.closed, 1);
	assert_int_equal(cl.reason, RUMOR_EAUTH);
	assert_int_equal(sv.accepted, 0);
	assert_int_equal(sv.rejected, 1);
	assert_int_equal(sv.reject_reason, RUMOR_EAUTH);
	assert_int_equal(sv.io->ops->listener_stats(sv.l).rejected, 1);
	io_conn_close(cl.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 2000);
	sim_free(w.sim);
}

static void test_wrong_key_or_identity_fails_with_eauth(void **state)
{
	(void)state;
	auth_case(8, 0);   /* network key */
	auth_case(9, 1);   /* client not in the server's trusted keys */
	auth_case(10, 2);  /* server not in the client's */
	auth_case(11, 3);  /* not the expected server key */
}

static void test_partition_cuts_and_blocks_then_heals(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl, cl2, cl3;
	int groups[3] = { 0, 1, 0 };

	(void)state;
	world_init(&w, 12, 3);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	assert_int_equal(cl.opened, 1);
	send_n(&cl, 3, 10);
	sim_partition(w.sim, groups);
	sim_run_until(w.sim, 1000);
	assert_int_equal(cl.reason, RUMOR_ENET);
	assert_int_equal(sv.peer.reason, RUMOR_ENET);
	assert_int_equal(sv.peer.n, 0);    /* in flight: lost */
	io_conn_close(cl.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	dial(&w, &cl2, 2, 1, 7000, NULL);
	sim_run_until(w.sim, 2000);
	assert_int_equal(cl2.reason, RUMOR_ENET);
	io_conn_close(cl2.c, NULL);
	sim_heal(w.sim);
	dial(&w, &cl3, 2, 1, 7000, NULL);
	sim_run_until(w.sim, 3000);
	assert_int_equal(cl3.opened, 1);
	assert_int_equal(sv.accepted, 2);
	io_conn_close(cl3.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 4000);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void test_flow_control_pause_resume_and_drained(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;

	(void)state;
	world_init(&w, 13, 2);
	w.cfg[0].low_watermark = 1000;
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	io_conn_pause(sv.peer.c);
	send_n(&cl, 20, 100);      /* 2,400 bytes: over the watermark */
	sim_run_until(w.sim, 5000);
	assert_int_equal(sv.peer.n, 0);
	assert_int_equal(io_conn_queued(cl.c), 2400);
	assert_int_equal(cl.drained, 0);
	io_conn_resume(sv.peer.c);
	sim_run_until(w.sim, 6000);
	assert_int_equal(sv.peer.n, 20);
	assert_int_equal(cl.drained, 1);
	assert_true(sim_peak_queued(w.sim) >= 2400);
	io_conn_close(cl.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 7000);
	sim_free(w.sim);
}

/* ------------------------------------------------------------ hosts */

static void test_paused_host_is_silent_then_catches_up(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;
	struct tlog log = { 0 };
	struct tctx c = { &log, 9 };
	struct io_timer *t;

	(void)state;
	world_init(&w, 14, 2);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	t = io_timer_new(sim_host_io(w.sim, 1), on_timer, &c);
	io_timer_start(t, 50, 0);
	sim_pause(w.sim, 1, 20000);
	assert_int_equal(sim_host_state(w.sim, 1), SIM_HOST_PAUSED);
	send_n(&cl, 3, 10);
	sim_run_until(w.sim, 19999);
	assert_int_equal(log.n, 0);
	assert_int_equal(sv.peer.n, 0);
	sim_run_until(w.sim, 21000);
	assert_int_equal(sim_host_state(w.sim, 1), SIM_HOST_UP);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.when[0], 20100);
	assert_int_equal(sv.peer.n, 3);
	io_timer_free(t);
	io_conn_close(cl.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 22000);
	sim_free(w.sim);
}

static void test_dial_to_paused_host_times_out(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl;

	(void)state;
	world_init(&w, 15, 2);
	server_listen(&w, &sv, 1, 7000);
	sim_pause(w.sim, 1, 60000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 30000);
	assert_int_equal(cl.reason, RUMOR_ETIMEDOUT);
	assert_int_equal(cl.closed_at, IO_HANDSHAKE_TIMEOUT_MS);
	io_conn_close(cl.c, NULL);
	sim_run_until(w.sim, 70000);
	assert_int_equal(sv.accepted, 0);
	server_close(&sv);
	sim_run_until(w.sim, 71000);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

static void test_killed_host_stops_but_closes(void **state)
{
	struct world w;
	struct server sv;
	struct peer cl, late;
	struct tlog log = { 0 };
	struct tctx c = { &log, 1 };
	struct io_timer *t;

	(void)state;
	world_init(&w, 16, 2);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &cl, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 100);
	t = io_timer_new(sim_host_io(w.sim, 1), on_timer, &c);
	io_timer_start(t, 10, 10);
	send_n(&cl, 3, 10);
	sim_kill(w.sim, 1);
	sim_run_until(w.sim, 1000);
	assert_int_equal(log.n, 0);
	assert_int_equal(sv.peer.n, 0);
	assert_int_equal(sv.peer.closed, 0);   /* nothing fires there */
	assert_int_equal(cl.reason, RUMOR_ENET);
	dial(&w, &late, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 2000);
	assert_int_equal(late.reason, RUMOR_ENET);
	/* Close callbacks still fire on the dead host, and so does what
	 * its teardown starts after the death (a 0 ms timer). */
	io_conn_close(sv.peer.c, p_close_cb);
	server_close(&sv);
	io_timer_start(t, 0, 0);
	sim_run_until(w.sim, 2001);
	assert_int_equal(log.n, 1);
	io_timer_free(t);
	io_conn_close(cl.c, NULL);
	io_conn_close(late.c, NULL);
	sim_run_until(w.sim, 3000);
	assert_int_equal(sv.peer.close_cbs, 1);
	assert_int_equal(sv.listener_closed, 1);
	sim_revive(w.sim, 1);
	server_listen(&w, &sv, 1, 7000);
	dial(&w, &late, 0, 1, 7000, NULL);
	sim_run_until(w.sim, 4000);
	assert_int_equal(late.opened, 1);
	io_conn_close(late.c, NULL);
	io_conn_close(sv.peer.c, NULL);
	server_close(&sv);
	sim_run_until(w.sim, 5000);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

/* ------------------------------------------------------------ datagrams */

struct dlog {
	int got;
	char from[16];
	size_t len;
	int closed;
};

static void on_dgram(struct io_udp *u, const uint8_t *buf, size_t len,
		     const struct sockaddr *from)
{
	struct dlog *d = srv_io->ops->udp_data(u);
	const struct sockaddr_in *in = (const struct sockaddr_in *)from;

	d->got++;
	d->len = len;
	assert_int_equal(buf[0], 'A');
	inet_ntop(AF_INET, &in->sin_addr, d->from, sizeof(d->from));
}

static void on_udp_closed(void *arg)
{
	((struct dlog *)arg)->closed++;
}

static void test_datagrams_reach_joined_hosts_of_the_partition(void **state)
{
	struct world w;
	struct dlog d[4];
	struct io_udp *u[4];
	struct sockaddr_in g;
	struct io_udp_config cfg;
	struct err err = { 0 };
	int groups[4] = { 0, 0, 1, 0 };
	const uint8_t msg[] = "ANNOUNCE";
	int i;

	(void)state;
	world_init(&w, 17, 4);
	srv_io = sim_host_io(w.sim, 0);
	memset(d, 0, sizeof(d));
	memset(&g, 0, sizeof(g));
	g.sin_family = AF_INET;
	g.sin_port = htons(7946);
	inet_pton(AF_INET, "239.255.42.99", &g.sin_addr);
	memset(&cfg, 0, sizeof(cfg));
	cfg.group = (const struct sockaddr *)&g;
	cfg.ttl = 1;
	/* Host 3 joins another port: it hears nothing. */
	for (i = 0; i < 4; i++) {
		struct io *io = sim_host_io(w.sim, i);

		g.sin_port = htons(i == 3 ? 7947 : 7946);
		assert_int_equal(io->ops->udp_open(io, &cfg, on_dgram, &d[i],
						   &u[i], &err), 0);
	}
	assert_int_equal(srv_io->ops->udp_send(u[0], msg, sizeof(msg)), 0);
	sim_run_until(w.sim, 100);
	assert_int_equal(d[0].got, 0);     /* no loopback */
	assert_int_equal(d[1].got, 1);
	assert_int_equal(d[1].len, sizeof(msg));
	assert_string_equal(d[1].from, "127.0.1.1");
	assert_int_equal(d[2].got, 1);
	assert_int_equal(d[3].got, 0);
	sim_partition(w.sim, groups);
	assert_int_equal(srv_io->ops->udp_send(u[0], msg, sizeof(msg)), 0);
	sim_run_until(w.sim, 200);
	assert_int_equal(d[1].got, 2);
	assert_int_equal(d[2].got, 1);     /* across the partition */
	sim_heal(w.sim);
	sim_kill(w.sim, 1);
	assert_int_equal(srv_io->ops->udp_send(u[0], msg, sizeof(msg)), 0);
	sim_run_until(w.sim, 300);
	assert_int_equal(d[1].got, 2);     /* dead */
	assert_int_equal(d[2].got, 2);
	for (i = 0; i < 4; i++)
		srv_io->ops->udp_close(u[i], on_udp_closed, &d[i]);
	sim_run_until(w.sim, 400);
	for (i = 0; i < 4; i++)
		assert_int_equal(d[i].closed, 1);
	sim_free(w.sim);
}

/* ------------------------------------------------------------ streams */

struct sside {
	struct io_stream *st;
	uint8_t buf[4096];
	size_t len;
	int reads, closed, reason, drained, close_cbs;
	int echo;
};

static void s_read(struct io_stream *st, const uint8_t *buf, size_t len)
{
	struct sside *x = st->data;
	struct err err = { 0 };

	assert_true(x->len + len <= sizeof(x->buf));
	memcpy(x->buf + x->len, buf, len);
	x->len += len;
	x->reads++;
	if (x->echo)
		assert_int_equal(io_stream_write(st, buf, len, &err), 0);
}

static void s_drained(struct io_stream *st)
{
	((struct sside *)st->data)->drained++;
}

static void s_closed(struct io_stream *st, int reason, const char *detail)
{
	struct sside *x = st->data;

	(void)detail;
	x->closed++;
	x->reason = reason;
}

static void s_close_cb(struct io_stream *st)
{
	((struct sside *)st->data)->close_cbs++;
}

static const struct io_stream_handlers stream_handlers = {
	.read = s_read,
	.drained = s_drained,
	.closed = s_closed,
};

static void s_accept(struct io_stream_listener *l, struct io_stream *st)
{
	struct sside *x = srv_io->ops->stream_listener_data(l);

	x->st = st;
	st->handlers = stream_handlers;
	st->data = x;
}

static void on_slistener_closed(void *arg)
{
	((struct sside *)arg)->close_cbs += 10;
}

static void test_streams_carry_bytes_in_chunks_and_close(void **state)
{
	struct world w;
	struct io_stream_listener *l, *l2;
	struct sside srv, cli;
	struct err err = { 0 };
	uint8_t msg[3000];
	size_t i;

	(void)state;
	world_init(&w, 18, 1);
	srv_io = sim_host_io(w.sim, 0);
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	srv.echo = 1;
	assert_int_equal(srv_io->ops->stream_listen(srv_io, "/d/ctl.sock",
						    s_accept, &srv, &l, &err),
			 0);
	assert_int_equal(srv_io->ops->stream_listen(srv_io, "/d/ctl.sock",
						    s_accept, &srv, &l2, &err),
			 RUMOR_EBUSY);
	assert_int_equal(sim_stream_connect(w.sim, "/nope", &stream_handlers,
					    &cli, &cli.st, &err), RUMOR_ENET);
	assert_int_equal(sim_stream_connect(w.sim, "/d/ctl.sock",
					    &stream_handlers, &cli, &cli.st,
					    &err), 0);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	/* Written before the accept: kept, delivered after it. */
	assert_int_equal(io_stream_write(cli.st, msg, 1000, &err), 0);
	assert_int_equal(io_stream_write(cli.st, msg + 1000, 2000, &err), 0);
	assert_int_equal(io_stream_queued(cli.st), 3000);
	sim_run_until(w.sim, 100000);
	assert_int_equal(srv.len, 3000);
	assert_memory_equal(srv.buf, msg, 3000);
	assert_true(srv.reads > 2);        /* chunks, not writes */
	assert_int_equal(cli.len, 3000);
	assert_memory_equal(cli.buf, msg, 3000);
	assert_int_equal(cli.drained, 1);
	io_stream_close(cli.st, s_close_cb);
	sim_run_until(w.sim, 100100);
	assert_int_equal(cli.close_cbs, 1);
	assert_int_equal(srv.closed, 1);
	assert_int_equal(srv.reason, RUMOR_ECLOSED);
	io_stream_close(srv.st, s_close_cb);
	srv_io->ops->stream_listener_close(l, on_slistener_closed, &srv);
	sim_run_until(w.sim, 100200);
	assert_int_equal(srv.close_cbs, 11);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

/* ------------------------------------------------------------ the rest */

struct rlog {
	int status;
	size_t n;
	char addr[64];
	int port;
	int work_ran, done, done_status;
};

static void on_resolved(struct io_resolve *r, int status,
			const struct sockaddr *const *addrs, size_t n)
{
	struct rlog *x = srv_io->ops->resolve_data(r);

	x->status = status;
	x->n = n;
	if (n > 0) {
		const struct sockaddr_in *in =
			(const struct sockaddr_in *)addrs[0];

		inet_ntop(AF_INET, &in->sin_addr, x->addr, sizeof(x->addr));
		x->port = ntohs(in->sin_port);
	}
}

static void on_work(void *arg)
{
	((struct rlog *)arg)->work_ran++;
}

static void on_work_done(void *arg, int status)
{
	struct rlog *x = arg;

	assert_int_equal(x->work_ran, 1);
	x->done++;
	x->done_status = status;
}

static void test_resolve_numeric_and_work(void **state)
{
	struct world w;
	struct io_resolve *r;
	struct rlog a, b, c;
	struct err err = { 0 };

	(void)state;
	world_init(&w, 19, 1);
	srv_io = sim_host_io(w.sim, 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	assert_int_equal(srv_io->ops->resolve(srv_io, "127.0.1.3", "7000",
					      on_resolved, &a, &r, &err), 0);
	assert_int_equal(srv_io->ops->resolve(srv_io, "example.org", "7000",
					      on_resolved, &b, &r, &err), 0);
	assert_int_equal(srv_io->ops->resolve(srv_io, "127.0.1.4", "7000",
					      on_resolved, &c, &r, &err), 0);
	srv_io->ops->resolve_cancel(r);
	assert_int_equal(srv_io->ops->work(srv_io, on_work, on_work_done, &a),
			 0);
	assert_int_equal(a.done, 0);
	sim_run_until(w.sim, 10);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.addr, "127.0.1.3");
	assert_int_equal(a.port, 7000);
	assert_int_equal(b.status, RUMOR_ENET);
	assert_int_equal(b.n, 0);
	assert_int_equal(c.n, 0);          /* cancelled: no callback */
	assert_int_equal(c.status, 0);
	assert_int_equal(a.done, 1);
	assert_int_equal(a.done_status, 0);
	assert_int_equal(sim_pending(w.sim), 0);
	sim_free(w.sim);
}

/* ------------------------------------------------------------ replay */

/* A small chatty world: three hosts, each dialing the next, echoing
 * messages of random sizes at random times; returns the trace hash. */
struct chat {
	struct world w;
	struct server sv[3];
	struct peer cl[3];
	struct io_timer *t[3];
	int host[3];
};

static struct chat *the_chat;

static void chat_tick(struct io_timer *t)
{
	int *h = t->data;
	struct chat *ch = the_chat;
	struct io *io = sim_host_io(ch->w.sim, *h);
	uint8_t buf[512];
	struct err err = { 0 };
	size_t len = 1 + io_random(io, sizeof(buf) - 1);

	memset(buf, *h, len);
	if (ch->cl[*h].c != NULL && ch->cl[*h].c->is_open)
		(void)io_conn_send(ch->cl[*h].c, buf, len, &err);
	io_timer_start(t, 1 + io_random(io, 50), 0);
}

static uint64_t chat_run(uint64_t seed)
{
	struct chat ch;
	uint64_t hash;
	int i;

	memset(&ch, 0, sizeof(ch));
	the_chat = &ch;
	world_init(&ch.w, seed, 3);
	sim_set_hold(ch.w.sim, 30);
	for (i = 0; i < 3; i++) {
		server_listen(&ch.w, &ch.sv[i], i, 7000);
		ch.sv[i].io = sim_host_io(ch.w.sim, i);
	}
	srv_io = sim_host_io(ch.w.sim, 0);
	for (i = 0; i < 3; i++) {
		ch.host[i] = i;
		dial(&ch.w, &ch.cl[i], i, (i + 1) % 3, 7000, NULL);
		ch.t[i] = io_timer_new(sim_host_io(ch.w.sim, i), chat_tick,
				       &ch.host[i]);
		io_timer_start(ch.t[i], 1, 0);
	}
	sim_run_until(ch.w.sim, 500);
	sim_conn_cut(ch.cl[1].c, sim_conn_sent(ch.cl[1].c) + 700);
	sim_run_until(ch.w.sim, 2000);
	hash = sim_trace_hash(ch.w.sim);
	for (i = 0; i < 3; i++) {
		hash ^= ch.sv[i].peer.n * 0x9e3779b97f4a7c15ULL;
		io_timer_free(ch.t[i]);
	}
	sim_free(ch.w.sim);
	return hash;
}

static void test_same_seed_same_trace_other_seed_other(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = chat_run(42);
	b = chat_run(42);
	c = chat_run(43);
	assert_true(a == b);
	assert_true(a != c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_time_then_insertion_order),
		cmocka_unit_test(test_timer_repeats_and_frees_itself),
		cmocka_unit_test(test_wall_clock_has_skew),
		cmocka_unit_test(test_dial_opens_both_ends_with_peer_keys),
		cmocka_unit_test(test_messages_arrive_in_fifo_order_when_held),
		cmocka_unit_test(test_cut_at_byte_k_delivers_whole_messages_before_it),
		cmocka_unit_test(test_cut_at_passed_offset_cuts_now),
		cmocka_unit_test(test_dial_without_listener_fails_with_enet),
		cmocka_unit_test(test_wrong_key_or_identity_fails_with_eauth),
		cmocka_unit_test(test_partition_cuts_and_blocks_then_heals),
		cmocka_unit_test(test_flow_control_pause_resume_and_drained),
		cmocka_unit_test(test_paused_host_is_silent_then_catches_up),
		cmocka_unit_test(test_dial_to_paused_host_times_out),
		cmocka_unit_test(test_killed_host_stops_but_closes),
		cmocka_unit_test(test_datagrams_reach_joined_hosts_of_the_partition),
		cmocka_unit_test(test_streams_carry_bytes_in_chunks_and_close),
		cmocka_unit_test(test_resolve_numeric_and_work),
		cmocka_unit_test(test_same_seed_same_trace_other_seed_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
