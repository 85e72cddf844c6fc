/* SPDX-License-Identifier: MIT */
/* test_sync_cut: streams cut at every point (or whose last frame is
 * lost) keep the hwm invariant, and entries left by a cut stream are
 * passed on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

/* ------------------------------------------------------------ cut streams */

struct cutter {
	uint64_t at;             /* cut when this many frames were delivered */
	int truncate;            /* feed a truncated frame first */
	uint64_t rng;
	int truncated_refused;
	int fired;
};

static enum simnet_verdict cut_filter(void *arg, struct simnet_link *l,
				      int from, const uint8_t *frame,
				      size_t len)
{
	struct cutter *ct = arg;
	struct store *dst = l->end[!from].store;
	uint8_t *before, *after;
	size_t lb, la, off;
	int rv;

	if (l->delivered < ct->at)
		return SIMNET_DELIVER;
	ct->fired = 1;
	if (!ct->truncate)
		return SIMNET_CUT;
	/* The frame is lost part way: its receiver sees a prefix. */
	ct->rng = ct->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	off = (size_t)(ct->rng >> 33) % len;
	assert_int_equal(simnet_dump(dst, &before, &lb), 0);
	rv = sync_session_receive(l->end[!from].ss, frame, off, NULL);
	assert_int_equal(simnet_dump(dst, &after, &la), 0);
	if (rv != 0 && la == lb &&
	    (la == 0 || memcmp(before, after, la) == 0))
		ct->truncated_refused = 1;
	free(before);
	free(after);
	return SIMNET_CUT;
}

/* Node 0 (A), 1 (B), 2 (C) build a log with several origins and
 * superseded entries on B; 3 (E) is a full copy of B; 4 (R) is the
 * receiver, reset for every cut point. */
static void build_superseding_scenario(struct cluster *c)
{
	char key[32], val[32];
	int k;

	for (k = 0; k < 30; k++) {
		snprintf(key, sizeof(key), "k%02d", k);
		snprintf(val, sizeof(val), "A%d", k);
		put(c, 0, key, val);
	}
	for (k = 0; k < 10; k++) {
		snprintf(key, sizeof(key), "c%02d", k);
		put(c, 2, key, "C");
	}
	exchange(c, 1, 0);
	/* B supersedes some of A's keys (and one of A's is deleted):
	 * A's log entries on B now have gaps. */
	for (k = 0; k < 30; k += 3) {
		snprintf(key, sizeof(key), "k%02d", k);
		put(c, 1, key, "B");
	}
	del(c, 1, "k01");
	/* C supersedes others; B learns them: B's log has C's entries
	 * for A's keys, after A's in origin order. */
	exchange(c, 2, 0);
	for (k = 1; k < 30; k += 4) {
		snprintf(key, sizeof(key), "k%02d", k);
		put(c, 2, key, "C2");
	}
	exchange(c, 1, 2);
	for (k = 0; k < 30; k += 2) {
		snprintf(key, sizeof(key), "k%02d", k);
		snprintf(val, sizeof(val), "A2.%d", k);
		put(c, 0, key, val);
	}
	exchange(c, 1, 0);
	exchange(c, 3, 1);
	/* E holds exactly what B holds. */
	assert_true(simnet_same_state(c->nodes[1].store, c->nodes[3].store));
}

static void reset_node(struct cluster *c, int i)
{
	store_close(c->nodes[i].store);
	assert_int_equal(tu_rmrf(c->nodes[i].dir), 0);
	node_open(c, i);
}

/* Frames of a whole exchange between R (node 4, reset; with C's state
 * if with_c) and B (node 1). */
static uint64_t frames_of_exchange(struct cluster *c, int with_c,
				   const struct sync_config *cfg)
{
	struct simnet_link *l;
	uint64_t n;

	reset_node(c, 4);
	if (with_c)
		exchange_cfg(c, 4, 2, cfg);
	assert_int_equal(simnet_link_new(&l, c->nodes[4].store,
					 c->nodes[1].store, cfg, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 100000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	n = l->delivered;
	simnet_link_free(l);
	return n;
}

static void run_cut_points(int truncate, enum sync_order order)
{
	struct cluster *c = cluster_new(5, NULL);
	struct sync_config cfg = { 0 };
	struct cutter ct;
	struct simnet_link *l;
	struct err err = { 0 };
	uint64_t at, total[2];
	int repair_peer, with_c;

	cfg.batch_bytes = 120;   /* a few entries a frame: many cut points */
	cfg.credit_bytes = 200;  /* ACKs interleave with BATCHes */
	build_superseding_scenario(c);
	/* The scenario's own exchanges in the default order; the cut ones
	 * (and their repairs) in the order under test. */
	cfg.order = order;
	/* How many frames a whole exchange B -> R takes, R empty (more) or
	 * with C's state (fewer). */
	total[0] = frames_of_exchange(c, 0, &cfg);
	total[1] = frames_of_exchange(c, 1, &cfg);
	assert_true(total[1] > 10 && total[0] >= total[1]);
	for (at = 0; at <= total[0]; at++) {
		/* R starts empty (then any eager HWM is a lie it cannot
		 * cover) or with C's state (a partial overlap). */
		with_c = at % 4 >= 2;
		reset_node(c, 4);
		if (with_c)
			exchange_cfg(c, 4, 2, &cfg);
		memset(&ct, 0, sizeof(ct));
		ct.at = at;
		ct.truncate = truncate;
		ct.rng = at + 1;
		assert_int_equal(simnet_link_new(&l, c->nodes[4].store,
						 c->nodes[1].store, &cfg,
						 0, NULL), 0);
		l->filter = cut_filter;
		l->filter_arg = &ct;
		assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
		assert_int_equal(simnet_run(l, 100000), 0);
		if (at < total[with_c]) {
			assert_true(ct.fired);
			if (truncate)
				assert_true(ct.truncated_refused);
		}
		simnet_link_free(l);
		/* Whatever was cut where, no HWM claims too much. */
		if (simnet_check_hwm_invariant(c->nodes[4].store,
					       c->nodes[4].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("cut after %llu frames: %s",
				 (unsigned long long)at, err.msg);
		/* A fresh exchange, with B or with its copy E, repairs. */
		repair_peer = at % 2 ? 3 : 1;
		exchange_cfg(c, 4, repair_peer, &cfg);
		if (simnet_check_hwm_invariant(c->nodes[4].store,
					       c->nodes[4].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("after repair (cut %llu): %s",
				 (unsigned long long)at, err.msg);
		if (store_check(c->nodes[4].store, &err) != 0)
			fail_msg("after repair (cut %llu): %s",
				 (unsigned long long)at, err.msg);
		/* R began empty or with C's state, which B holds: now
		 * R == B. */
		if (!simnet_same_state(c->nodes[4].store, c->nodes[1].store))
			fail_msg("cut after %llu: not repaired",
				 (unsigned long long)at);
	}
	cluster_free(c);
}

static enum simnet_verdict cut_at_done(void *arg, struct simnet_link *l,
				       int from, const uint8_t *frame,
				       size_t len)
{
	struct wire_decoder d;
	struct wire_msg m;
	int done;

	(void)arg;
	(void)l;
	(void)from;
	wire_decoder_init(&d);
	done = wire_decode(&d, frame, len, &m, NULL) == 0 &&
	       m.type == WIRE_DONE;
	wire_decoder_free(&d);
	return done ? SIMNET_CUT : SIMNET_DELIVER;
}

/* A cut stream leaves R with a log entry of an origin it has no HWM for;
 * that entry supersedes a version R's HWMs do cover. When R serves S, it
 * must send that entry, or S would claim a version it lacks. */
static void test_entries_left_by_a_cut_stream_are_passed_on(void **state)
{
	struct cluster *c = cluster_new(4, NULL);
	struct simnet_link *l;
	struct err err = { 0 };
	int i;

	(void)state;
	put(c, 0, "k", "from X");
	exchange(c, 1, 0);
	put(c, 1, "k", "from O");        /* (O, 1) supersedes (X, 1) */
	exchange(c, 2, 0);               /* R covers (X, 1) */
	assert_int_equal(simnet_link_new(&l, c->nodes[2].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	l->filter = cut_at_done;
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_true(l->cut);
	simnet_link_free(l);
	assert_value(c, 2, "k", "from O");
	assert_int_equal(store_hwm(c->nodes[2].store, c->nodes[1].origin), 0);
	/* R serves S: S must end up with (O, 1). */
	exchange(c, 3, 2);
	assert_value(c, 3, "k", "from O");
	for (i = 0; i < 4; i++)
		if (simnet_check_hwm_invariant(c->nodes[i].store,
					       c->nodes[i].res, c->all,
					       c->n_all, &err) != 0)
			fail_msg("node %d: %s", i, err.msg);
	cluster_free(c);
}

static void test_cut_streams_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(0, SYNC_ORDER_LOG);
}

static void test_lost_partial_frames_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(1, SYNC_ORDER_LOG);
}

static void test_cut_key_order_streams_keep_the_hwm_invariant(void **state)
{
	(void)state;
	run_cut_points(0, SYNC_ORDER_KEY);
}

static void test_lost_partial_key_order_frames_keep_the_hwm_invariant(
	void **state)
{
	(void)state;
	run_cut_points(1, SYNC_ORDER_KEY);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_left_by_a_cut_stream_are_passed_on),
		cmocka_unit_test(test_cut_streams_keep_the_hwm_invariant),
		cmocka_unit_test(test_lost_partial_frames_keep_the_hwm_invariant),
		cmocka_unit_test(test_cut_key_order_streams_keep_the_hwm_invariant),
		cmocka_unit_test(test_lost_partial_key_order_frames_keep_the_hwm_invariant),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
