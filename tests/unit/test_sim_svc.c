/* SPDX-License-Identifier: MIT */
/* test_sim_svc: the simulated io's datagrams, local streams, resolution
 * and work, and replay from a seed (same seed, same trace). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/sim.h"
#include "tests/unit/sim_fixture.h"

/* ------------------------------------------------------------ datagrams */

struct dlog {
	int got;
	char from[16];
	size_t len;
	int closed;
};

static void on_dgram(struct io_udp *u, const uint8_t *buf, size_t len,
		     const struct io_udp_meta *meta)
{
	struct dlog *d = srv_io->ops->udp_data(u);
	const struct sockaddr_in *in = (const struct sockaddr_in *)meta->from;

	d->got++;
	d->len = len;
	assert_int_equal(buf[0], 'A');
	/* What a group member sends arrives as the group's, on-link. */
	assert_true(meta->to_group && meta->on_link);
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
		cmocka_unit_test(test_datagrams_reach_joined_hosts_of_the_partition),
		cmocka_unit_test(test_streams_carry_bytes_in_chunks_and_close),
		cmocka_unit_test(test_resolve_numeric_and_work),
		cmocka_unit_test(test_same_seed_same_trace_other_seed_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
