/* SPDX-License-Identifier: MIT */
/*
 * The live stream between whole nodes on one loop (DESIGN 4.5): writes
 * reach connected peers live, a full mesh receives each entry about once
 * (Plumtree's duplicate suppression), and a node without the live stream
 * (as an older one) still gets and gives everything by rounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/node_ctl.h"
#include "tests/integration/nodes_fixture.h"
#include "tests/lib/testutil.h"

static struct rumor_stats stats_of(struct cluster *c, int i)
{
	struct rumor_stats s;

	rumor_stats_init(&s);
	assert_int_equal(rumor_stats(c->nodes[i], &s), 0);
	return s;
}

static int all_connected(void *arg)
{
	struct cluster *c = arg;
	struct ctl_status st;
	int i;

	for (i = 0; i < c->n; i++) {
		node_get_status(c->nodes[i], &st);
		if (st.peers_connected < (uint64_t)c->n - 1)
			return 0;
	}
	return 1;
}

static void cluster_step(void *arg)
{
	run_once(arg);
}

/* Every node connected to every other: a seed list reaches the rest by
 * gossip and paced rounds, which writes make come sooner. */
static void wait_mesh(struct cluster *c)
{
	char key[32];
	int i, tries;

	for (tries = 0; tries < 100 && !all_connected(c); tries++) {
		for (i = 0; i < c->n; i++) {
			snprintf(key, sizeof key, "warm-%d-%d", i, tries);
			assert_int_equal(rumor_put(c->nodes[i], key,
						   strlen(key), "", 0), 0);
		}
		(void)tu_wait_for(all_connected, cluster_step, c, 200);
	}
	assert_true(all_connected(c));
}

static void test_writes_reach_connected_peers_live(void **state)
{
	struct cluster c;
	struct rumor_stats before[3], after;
	char key[32];
	int i, k;

	(void)state;
	cluster_start(&c, 3);
	wait_mesh(&c);
	for (i = 0; i < 3; i++)
		before[i] = stats_of(&c, i);
	for (k = 0; k < 20; k++) {
		snprintf(key, sizeof key, "k%d", k);
		assert_int_equal(rumor_put(c.nodes[0], key, strlen(key), "v",
					   1), 0);
	}
	wait_everyone_has(&c, "k19", "v");
	for (i = 1; i < 3; i++) {
		after = stats_of(&c, i);
		/* The first round is over on every connection: each entry
		 * came live (a lost one would have come by a round, and a
		 * round's entries are not counted live). */
		assert_true(after.live_received - before[i].live_received >=
			    20);
	}
	after = stats_of(&c, 0);
	assert_true(after.live_sent - before[0].live_sent >= 40);
	cluster_stop(&c);
}

/* Five nodes, all connected, writing everywhere: after the first
 * duplicates prune the relays, each node receives each entry about
 * once, not once per peer (4 here). */
static void test_a_full_mesh_receives_each_entry_about_once(void **state)
{
	struct cluster c;
	struct rumor_stats before[5], after;
	uint64_t received = 0, applied = 0;
	char key[32];
	int i, k;

	(void)state;
	cluster_start(&c, 5);
	wait_mesh(&c);
	for (i = 0; i < 5; i++)
		before[i] = stats_of(&c, i);
	for (k = 0; k < 40; k++) {
		for (i = 0; i < 5; i++) {
			snprintf(key, sizeof key, "n%d-%d", i, k);
			assert_int_equal(rumor_put(c.nodes[i], key,
						   strlen(key), "v", 1), 0);
		}
		run_once(&c);
	}
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "n%d-39", i);
		wait_everyone_has(&c, key, "v");
	}
	for (i = 0; i < 5; i++) {
		after = stats_of(&c, i);
		received += after.live_received - before[i].live_received;
		applied += after.remote_applied - before[i].remote_applied;
	}
	/* 200 writes, each applied by 4 nodes. */
	assert_true(applied >= 800);
	print_message("live copies received per entry applied: %.2f\n",
		      (double)received / (double)applied);
	assert_true(received >= applied / 2);
	assert_true(received * 2 <= applied * 3);
	cluster_stop(&c);
}

/* A node without the live stream (rumor_options.no_live: as a node of an
 * older version) gets every write by rounds and gives its own the same
 * way; nothing reaches it live. */
static void test_a_node_without_live_still_converges(void **state)
{
	struct cluster c;
	struct rumor_options o;
	const char *seed[1];
	char msg[RUMOR_ERRMSG_MAX];
	int i;

	(void)state;
	cluster_start(&c, 2);
	/* A third node, opened by hand with no_live. */
	c.dirs[2] = tu_tmpdir("nodes");
	rumor_options_init(&o);
	o.data_dir = c.dirs[2];
	o.loop = &c.loop;
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	seed[0] = c.addrs[0];
	o.peers = seed;
	o.n_peers = 1;
	o.interval_min_ms = 20;
	o.interval_max_ms = 200;
	o.catchup_wait_ms = 0;
	o.no_live = 1;
	assert_int_equal(rumor_open(&c.nodes[2], &o, msg, sizeof msg), 0);
	c.n = 3;
	wait_mesh(&c);
	assert_int_equal(rumor_put(c.nodes[0], "from0", 5, "a", 1), 0);
	assert_int_equal(rumor_put(c.nodes[2], "from2", 5, "b", 1), 0);
	wait_everyone_has(&c, "from0", "a");
	wait_everyone_has(&c, "from2", "b");
	assert_int_equal(stats_of(&c, 2).live_received, 0);
	assert_int_equal(stats_of(&c, 2).live_sent, 0);
	for (i = 0; i < 2; i++)
		assert_true(stats_of(&c, i).remote_applied >= 1);
	cluster_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_reach_connected_peers_live),
		cmocka_unit_test(test_a_full_mesh_receives_each_entry_about_once),
		cmocka_unit_test(test_a_node_without_live_still_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
