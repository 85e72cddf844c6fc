/* SPDX-License-Identifier: MIT */
/* test_sync: reconciliation between real stores over the in-memory
 * transport (tests/lib/simnet): convergence, conflicts, catch-up,
 * binary data. Bad peers: test_sync_bad_peer; key order and flow
 * control: test_sync_flow; cut streams: test_sync_cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_sync_fixture.h"

/* ------------------------------------------------------------ convergence */

static void test_two_nodes_converge_after_writes_and_deletes(void **state)
{
	struct cluster *c = cluster_new(2, NULL);

	(void)state;
	write_mix(c, 0, 300);
	write_mix(c, 1, 200);
	exchange(c, 0, 1);
	assert_converged(c);
	assert_value(c, 1, "own/0/1", "v0.1");
	assert_value(c, 0, "own/1/3", "v1.3");
	assert_value(c, 1, "own/0/5", NULL);
	cluster_free(c);
}

static void test_five_nodes_converge_after_writes_and_deletes(void **state)
{
	struct cluster *c = cluster_new(5, NULL);
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		write_mix(c, i, 100 + 20 * i);
	/* A ring first (partial knowledge everywhere), then more writes. */
	for (i = 0; i < 5; i++)
		exchange(c, i, (i + 1) % 5);
	for (i = 0; i < 5; i++) {
		put(c, i, "shared/0", "late");
		del(c, (i + 2) % 5, "shared/2");
	}
	exchange_all(c);
	assert_converged(c);
	cluster_free(c);
}

static void test_a_session_runs_further_rounds(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;

	(void)state;
	put(c, 0, "a", "1");
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	/* Starting again during a round counts as the same round. */
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	assert_int_equal(l->end[0].last.entries_sent, 1);
	assert_value(c, 1, "a", "1");
	put(c, 1, "b", "2");
	/* The other side starts this time. */
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(sync_session_rounds(l->end[0].ss), 2);
	assert_int_equal(sync_session_rounds(l->end[1].ss), 2);
	assert_int_equal(l->end[1].last.entries_sent, 1);
	assert_int_equal(l->end[0].last.entries_applied, 1);
	assert_false(sync_session_busy(l->end[0].ss));
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

static void test_both_sides_may_start_at_once(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	const struct store_hwm *h;
	size_t n;

	(void)state;
	put(c, 0, "a", "1");
	put(c, 1, "b", "2");
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[1].rounds, 1);
	/* The peer's digest is recorded: node 1 knew only itself. */
	h = sync_session_peer_hwms(l->end[0].ss, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(h[0].origin, c->nodes[1].origin,
			    STORE_ORIGIN_BYTES);
	assert_int_equal(h[0].seq, 1);
	simnet_link_free(l);
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ conflicts */

static void test_same_clock_conflict_uses_default_order(void **state)
{
	struct cluster *c = cluster_new(3, NULL);

	(void)state;
	/* Same clock (1), same wall time: the greatest origin wins. */
	c->tick = 0;
	put(c, 0, "k", "from0");
	put(c, 2, "k", "from2");
	put(c, 1, "k", "from1");
	/* Same clock, later wall time wins over a greater origin. */
	put(c, 2, "w", "early2");
	c->wall += 5;
	put(c, 0, "w", "late0");
	exchange_all(c);
	assert_converged(c);
	assert_value(c, 0, "k", "from2");
	assert_value(c, 1, "k", "from2");
	assert_value(c, 1, "w", "late0");
	assert_value(c, 2, "w", "late0");
	cluster_free(c);
}

/* A user resolver: the longer value wins; ties: no opinion. */
static int longer_wins(const struct rumor_version *a,
		       const struct rumor_version *b)
{
	if (a->value_len != b->value_len)
		return a->value_len > b->value_len ? -1 : 1;
	return 0;
}

static void test_same_clock_conflict_uses_resolver_fn(void **state)
{
	struct cluster *c = cluster_new(3, longer_wins);

	(void)state;
	c->tick = 0;
	put(c, 0, "k", "the longest value");
	put(c, 1, "k", "short");
	put(c, 2, "k", "medium value");
	put(c, 0, "t", "aa");
	put(c, 1, "t", "bb");
	exchange_all(c);
	assert_converged(c);
	assert_value(c, 2, "k", "the longest value");
	assert_value(c, 1, "k", "the longest value");
	/* The tie falls back to the default order: greater origin. */
	assert_value(c, 0, "t", "bb");
	cluster_free(c);
}

static void test_higher_clock_wins_over_resolver(void **state)
{
	struct cluster *c = cluster_new(2, longer_wins);

	(void)state;
	put(c, 0, "k", "a long first value");
	exchange(c, 0, 1);
	put(c, 1, "k", "x");   /* clock 2 */
	exchange(c, 0, 1);
	assert_value(c, 0, "k", "x");
	assert_converged(c);
	cluster_free(c);
}

/* ------------------------------------------------------------ catch-up */

static void test_offline_node_catches_up(void **state)
{
	struct cluster *c = cluster_new(3, NULL);
	struct simnet_link *l;
	char key[32];
	int k;

	(void)state;
	for (k = 0; k < 3000; k++) {
		snprintf(key, sizeof(key), "key/%d", k % 1500);
		put(c, k % 2, key, k % 3 ? "value" : "other");
		if (k % 300 == 0)
			exchange(c, 0, 1);
	}
	exchange(c, 0, 1);
	/* Node 2 was away for all of it; small batches: many frames. */
	assert_int_equal(simnet_link_new(&l, c->nodes[2].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 1000000), 0);
	assert_int_equal(l->end[0].rounds, 1);
	assert_int_equal(l->end[0].last.entries_received, 1500);
	assert_int_equal(l->end[0].last.entries_applied, 1500);
	assert_int_equal(l->end[1].last.entries_sent, 1500);
	simnet_link_free(l);
	exchange(c, 2, 0);
	assert_converged(c);
	cluster_free(c);
}

static void test_overwritten_key_is_sent_once(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;
	char val[32];
	int k;

	(void)state;
	for (k = 0; k < 1000; k++) {
		snprintf(val, sizeof(val), "value %d", k);
		put(c, 0, "hot", val);
	}
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[1].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].last.entries_sent, 1);
	assert_int_equal(l->end[1].last.entries_applied, 1);
	simnet_link_free(l);
	assert_value(c, 1, "hot", "value 999");
	assert_int_equal(store_hwm(c->nodes[1].store, c->nodes[0].origin),
			 1000);
	assert_converged(c);
	cluster_free(c);
}

static void test_identical_versions_are_cheap_noops(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	struct simnet_link *l;

	(void)state;
	put(c, 0, "a", "1");
	exchange(c, 0, 1);
	/* A second round sends nothing: the HWMs cover it all. */
	assert_int_equal(simnet_link_new(&l, c->nodes[0].store,
					 c->nodes[1].store, NULL, 0, NULL), 0);
	assert_int_equal(sync_session_start(l->end[0].ss, NULL), 0);
	assert_int_equal(simnet_run(l, 10000), 0);
	assert_int_equal(l->end[0].last.entries_sent, 0);
	assert_int_equal(l->end[1].last.entries_sent, 0);
	assert_int_equal(l->end[0].rounds, 1);
	simnet_link_free(l);
	cluster_free(c);
}

/* ------------------------------------------------------------ binary */

static void test_binary_keys_and_values_cross_unchanged(void **state)
{
	struct cluster *c = cluster_new(2, NULL);
	static const uint8_t k1[] = { 0, 0xff, 0, 'a', 0 };
	static const uint8_t v1[] = { 0, 1, 2, 0, 0xfe, 0 };
	static const uint8_t k2[] = { 0 };
	uint8_t *bigk, *bigv;
	void *got;
	size_t gl;

	(void)state;
	bigk = malloc(RUMOR_KEY_MAX);
	bigv = malloc(RUMOR_VALUE_MAX);
	assert_non_null(bigk);
	assert_non_null(bigv);
	memset(bigk, 0, RUMOR_KEY_MAX);
	bigk[RUMOR_KEY_MAX - 1] = 0x7f;
	for (gl = 0; gl < RUMOR_VALUE_MAX; gl++)
		bigv[gl] = (uint8_t)(gl * 7);
	put_bin(c, 0, k1, sizeof(k1), v1, sizeof(v1));
	put_bin(c, 0, k2, sizeof(k2), "", 0);
	/* Two maximal entries: each needs a frame of its own. */
	put_bin(c, 0, bigk, RUMOR_KEY_MAX, bigv, RUMOR_VALUE_MAX);
	bigk[0] = 1;
	put_bin(c, 0, bigk, RUMOR_KEY_MAX, bigv, RUMOR_VALUE_MAX);
	exchange(c, 0, 1);
	assert_int_equal(store_get(c->nodes[1].store, k1, sizeof(k1), &got,
				   &gl, NULL), 0);
	assert_int_equal(gl, sizeof(v1));
	assert_memory_equal(got, v1, gl);
	free(got);
	assert_int_equal(store_get(c->nodes[1].store, k2, sizeof(k2), &got,
				   &gl, NULL), 0);
	assert_int_equal(gl, 0);
	free(got);
	assert_int_equal(store_get(c->nodes[1].store, bigk, RUMOR_KEY_MAX,
				   &got, &gl, NULL), 0);
	assert_int_equal(gl, RUMOR_VALUE_MAX);
	assert_memory_equal(got, bigv, gl);
	free(got);
	assert_converged(c);
	free(bigk);
	free(bigv);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_nodes_converge_after_writes_and_deletes),
		cmocka_unit_test(test_five_nodes_converge_after_writes_and_deletes),
		cmocka_unit_test(test_a_session_runs_further_rounds),
		cmocka_unit_test(test_both_sides_may_start_at_once),
		cmocka_unit_test(test_same_clock_conflict_uses_default_order),
		cmocka_unit_test(test_same_clock_conflict_uses_resolver_fn),
		cmocka_unit_test(test_higher_clock_wins_over_resolver),
		cmocka_unit_test(test_offline_node_catches_up),
		cmocka_unit_test(test_overwritten_key_is_sent_once),
		cmocka_unit_test(test_identical_versions_are_cheap_noops),
		cmocka_unit_test(test_binary_keys_and_values_cross_unchanged),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
