/* SPDX-License-Identifier: MIT */
/* test_sim: the simulated io (tests/lib/sim) on its own, with small fake
 * users and no node: timers and clocks, peer connections (FIFO, cuts,
 * partitions, authentication, flow control), paused and killed hosts.
 * Datagrams, streams, resolution, work and replay: test_sim_svc.c. */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
