/* SPDX-License-Identifier: MIT */
/* test_sync_flow: which order a sender serves a peer in (log order
 * or key order, by the rule) and what it sends; flow control: the credit
 * window and the transport's backpressure stop the sender. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

/* ------------------------------------------------------------ key order */

/* The entries a node holds (its live log entries). */
static uint64_t log_entries(struct cluster *c, int i)
{
	struct store_stats st;

	store_get_stats(c->nodes[i].store, &st);
	return st.log_entries;
}

/* One exchange started by node `to` pulling from `from`; returns the
 * sender's figures. */
static struct sync_round_stats pull(struct cluster *c, int to, int from,
				    const struct sync_config *cfg)
{
	struct simnet_link *l;
	struct sync_round_stats st;
	struct err err = { 0 };

	assert_int_equal(simnet_link_new(&l, c->nodes[to].store,
					 c->nodes[from].store, cfg, 0, NULL),
			 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	if (simnet_run(l, 10000000) != 0)
		fail_msg("pull %d <- %d: %s", to, from,
			 l->end[0].error ? l->end[0].err.msg :
			 l->end[1].err.msg);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	st = l->end[1].last;
	simnet_link_free(l);
	if (simnet_check_hwm_invariant(c->nodes[to].store, c->nodes[to].res,
				       c->all, c->n_all, &err) != 0)
		fail_msg("after pull %d <- %d: %s", to, from, err.msg);
	return st;
}

static void test_far_behind_peer_is_served_in_key_order(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct sync_round_stats st;
	struct sync_config cfg = { 0 };

	(void)state;
	/* Node 0 holds entries of two origins, tombstones, overwrites. */
	write_mix(c, 0, 300);
	write_mix(c, 1, 300);
	exchange(c, 0, 1);
	/* Node 2 is empty: its DIGEST is empty, so key order. Small frames
	 * so that many MBATCHes go. */
	cfg.batch_bytes = 512;
	st = pull(c, 2, 0, &cfg);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, log_entries(c, 0));
	assert_true(st.frames_sent > 10);
	/* The way back had nothing to send, in log order. */
	assert_true(simnet_same_state(c->nodes[0].store, c->nodes[2].store));
	assert_converged(c);
	cluster_free(c);
}

static void test_partially_behind_peer_chooses_by_the_rule(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct sync_round_stats st;
	char key[32];
	int k;

	(void)state;
	for (k = 0; k < 100; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	exchange(c, 1, 0);
	exchange(c, 2, 0);
	/* Node 1 lacks 40 of 140: log order. */
	for (k = 100; k < 140; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	st = pull(c, 1, 0, NULL);
	assert_int_equal(st.key_order, 0);
	assert_int_equal(st.entries_sent, 40);
	/* Node 2 lacks 40 + 100 of 240: key order, the same entries. */
	for (k = 140; k < 240; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		put(c, 0, key, "v");
	}
	st = pull(c, 2, 0, NULL);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, 140);
	exchange(c, 1, 0);
	assert_converged(c);
	cluster_free(c);
}

static void test_key_order_rule_counts_what_the_peer_lacks(void **state)
{
	struct store_hwm ours[3], theirs[2];
	int i;

	(void)state;
	memset(ours, 0, sizeof(ours));
	memset(theirs, 0, sizeof(theirs));
	for (i = 0; i < 3; i++)
		ours[i].origin[0] = (uint8_t)(0x10 * (i + 1));
	ours[0].seq = 100;
	ours[1].seq = 50;
	ours[2].seq = 10;
	theirs[0].origin[0] = 0x10;      /* has all of origin 0x10 */
	theirs[0].seq = 100;
	theirs[1].origin[0] = 0x20;      /* lacks 20 of 0x20 */
	theirs[1].seq = 30;
	/* Lacks 20 + 10 = 30. */
	assert_false(sync_push_key_order(ours, 3, theirs, 2, 61));
	assert_true(sync_push_key_order(ours, 3, theirs, 2, 60));
	assert_true(sync_push_key_order(ours, 3, theirs, 2, 59));
	/* An empty digest is far behind; an empty log never is. */
	assert_true(sync_push_key_order(ours, 3, NULL, 0, 1000000));
	assert_false(sync_push_key_order(ours, 3, NULL, 0, 0));
	/* A peer ahead of us lacks nothing. */
	theirs[1].seq = 500;
	ours[2].seq = 0;
	assert_false(sync_push_key_order(ours, 3, theirs, 2, 1));
}

/* A peer that lacks a few of many keys, served in key order anyway: the
 * sender skips what the peer has in bounded steps and sends only the
 * entries above its HWMs. */
static void test_key_order_sends_only_what_the_peer_lacks(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct sync_round_stats st;
	int keys = SYNC_SKIP_MAX + 2000;

	(void)state;
	fill_node(c, 0, keys, 8);
	exchange(c, 1, 0);
	put(c, 0, "aaa first", "new");
	put(c, 0, "zzz last", "new");
	put(c, 0, "bulk/000777", "newer");
	cfg.order = SYNC_ORDER_KEY;
	st = pull(c, 1, 0, &cfg);
	assert_int_equal(st.key_order, 1);
	assert_int_equal(st.entries_sent, 3);
	assert_value(c, 1, "zzz last", "new");
	assert_value(c, 1, "bulk/000777", "newer");
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ flow control */

static enum simnet_verdict hold_acks(void *arg, struct simnet_link *l,
				     int from, const uint8_t *frame,
				     size_t len)
{
	struct wire_decoder d;
	struct wire_msg m;
	int is_ack;

	(void)arg;
	(void)l;
	wire_decoder_init(&d);
	is_ack = wire_decode(&d, frame, len, &m, NULL) == 0 &&
		 m.type == WIRE_ACK && from == 1;
	wire_decoder_free(&d);
	return is_ack ? SIMNET_HOLD : SIMNET_DELIVER;
}

static void test_sender_stops_at_credit_window_until_acked(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct simnet_link *l;
	uint64_t unacked;

	(void)state;
	fill_node(c, 0, 2000, 1000);       /* ~2 MB of payload */
	cfg.credit_bytes = 64 * 1024;
	cfg.batch_bytes = 8 * 1024;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	l->filter = hold_acks;
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	/* Quiescent with node 1 never ACKing: node 0 stopped at the
	 * window (plus at most one batch). */
	unacked = sync_session_unacked(l->end[0].ss);
	assert_true(unacked >= cfg.credit_bytes);
	assert_true(unacked <= cfg.credit_bytes + cfg.batch_bytes);
	assert_true(l->end[0].last.entries_sent == 0 ||
		    l->end[0].rounds == 0);
	assert_int_equal(l->end[0].rounds, 0);
	assert_true(sync_session_stats(l->end[0].ss)->payload_sent <=
		    cfg.credit_bytes + cfg.batch_bytes);
	assert_false(sync_session_pending(l->end[0].ss));
	/* ACKs flow again: the stream resumes and completes. */
	l->filter = NULL;
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	assert_int_equal(l->end[0].last.entries_sent, 2000);
	assert_int_equal(sync_session_unacked(l->end[0].ss), 0);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

static enum simnet_verdict hold_from_0(void *arg, struct simnet_link *l,
				       int from, const uint8_t *frame,
				       size_t len)
{
	(void)arg;
	(void)l;
	(void)frame;
	(void)len;
	return from == 0 ? SIMNET_HOLD : SIMNET_DELIVER;
}

static void test_sender_respects_transport_backpressure(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct sync_config cfg = { 0 };
	struct simnet_link *l;

	(void)state;
	fill_node(c, 0, 2000, 1000);
	cfg.batch_bytes = 16 * 1024;
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, &cfg, 0, NULL), 0);
	l->end[0].high_water = 40 * 1024;
	l->filter = hold_from_0;
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	/* Nothing drains: the queue stops one frame past the mark. */
	assert_true(l->end[0].queued_bytes >= 40 * 1024);
	assert_true(l->end[0].peak_queued_bytes <=
		    40 * 1024 + cfg.batch_bytes);
	assert_false(sync_session_pending(l->end[0].ss));
	l->filter = NULL;
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_true(l->end[0].peak_queued_bytes <=
		    40 * 1024 + cfg.batch_bytes);
	assert_true(l->end[0].max_frame <= cfg.batch_bytes);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_far_behind_peer_is_served_in_key_order),
		cmocka_unit_test(test_partially_behind_peer_chooses_by_the_rule),
		cmocka_unit_test(test_key_order_rule_counts_what_the_peer_lacks),
		cmocka_unit_test(test_key_order_sends_only_what_the_peer_lacks),
		cmocka_unit_test(test_sender_stops_at_credit_window_until_acked),
		cmocka_unit_test(test_sender_respects_transport_backpressure),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
