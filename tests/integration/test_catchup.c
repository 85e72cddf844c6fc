/* SPDX-License-Identifier: MIT */
/*
 * test_catchup: what a node tells about itself while it joins (issue
 * 15): the catch-up progress of a node pulling a large store (entries
 * received, entries expected from the peer's digest, rate, ETA, all gone
 * once it caught up), and the state of a member it knows only from
 * another member's word. Whole nodes in one process on one loop, over
 * TCP on 127.0.0.1 (nodes_fixture).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <uv.h>

#include "rumor.h"
#include "node/node_ctl.h"
#include "tests/lib/testutil.h"
#include "tests/integration/nodes_fixture.h"

#define KEYS 100000
#define BATCH 1000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* KEYS keys on node 0, written in batches. */
static void fill(struct rumor *n)
{
	static char keys[BATCH][16];
	struct rumor_op ops[BATCH];
	int k, i;

	for (k = 0; k < KEYS; k += BATCH) {
		for (i = 0; i < BATCH; i++) {
			snprintf(keys[i], sizeof keys[i], "k%07d", k + i);
			ops[i] = (struct rumor_op){keys[i], strlen(keys[i]),
						   "0123456789abcdef", 16, 0};
		}
		assert_int_equal(rumor_write(n, ops, BATCH), 0);
	}
}

/* A fresh node joins a node holding KEYS entries. While it catches up,
 * what it received only grows and never passes what the peer's digest
 * said it lacks (exactly KEYS: one origin, seqs 1..KEYS, none
 * superseded); once that is known, and entries come, the rate is
 * positive and the ETA known. After catch-up every figure is 0 and the
 * node holds every key. */
/* Samples node 1's figures from inside its applies: every batch of the
 * stream is seen, however many one loop turn handles. */
struct probe {
	struct cluster *c;
	uint64_t changes;
	int part_way;          /* samples with 0 < received < KEYS */
	uint64_t first, last;  /* received at the first and last of them */
};

static void probe_change(void *arg, const struct rumor_version *v,
			 int local)
{
	struct probe *pr = arg;
	struct rumor_stats st = RUMOR_STATS_INIT;

	(void)v;
	(void)local;
	if (++pr->changes % 997 != 0 || pr->c->nodes[1] == NULL)
		return;
	assert_int_equal(rumor_stats(pr->c->nodes[1], &st), 0);
	if (st.catching_up && st.catchup_received > 0 &&
	    st.catchup_received < KEYS) {
		assert_true(st.catchup_received >= pr->last);
		if (pr->part_way++ == 0)
			pr->first = st.catchup_received;
		pr->last = st.catchup_received;
		assert_int_equal(st.catchup_expected, KEYS);
	}
}

static void test_a_joining_node_shows_its_catch_up_progress(void **state)
{
	struct cluster c;
	struct rumor_options o;
	const char *seed[1];
	uint64_t last = 0, deadline;
	int samples = 0, partial = 0, told = 0;
	struct rumor_stats st = RUMOR_STATS_INIT;
	struct probe pr = {.c = &c};
	void *v = NULL;
	size_t len;

	(void)state;
	cluster_start(&c, 2);
	close_node(&c, 1);
	fill(c.nodes[0]);
	seed[0] = c.addrs[0];
	node_options(&c, 1, seed, 1, &o);
	o.catchup_wait_ms = 60000;
	o.on_change = probe_change;
	o.change_arg = &pr;
	assert_int_equal(open_node_with(&c, 1, &o), 0);
	deadline = now_ms() + 60000;
	for (;;) {
		assert_int_equal(rumor_stats(c.nodes[1], &st), 0);
		assert_int_equal(st.catchup_wait_ms, 60000);
		if (!st.catching_up)
			break;
		samples++;
		assert_true(st.catchup_received >= last);
		last = st.catchup_received;
		if (st.catchup_expected != UINT64_MAX) {
			told = 1;
			assert_int_equal(st.catchup_expected, KEYS);
			assert_true(st.catchup_received <= KEYS);
			if (st.catchup_rate > 0.0)
				assert_true(st.catchup_eta_ms != UINT64_MAX);
		} else {
			assert_true(st.catchup_eta_ms == UINT64_MAX);
		}
		if (st.catchup_received > 0 && st.catchup_received < KEYS)
			partial++;
		if (now_ms() > deadline)
			fail_msg("still catching up after 60 s: %llu received",
				 (unsigned long long)st.catchup_received);
		run_once(&c);
	}
	print_message("catch-up: %d samples, %d part-way (%d from applies), "
		      "last %llu\n", samples, partial, pr.part_way,
		      (unsigned long long)last);
	assert_true(told);
	/* It was seen part-way, and growing: samples between batches. */
	assert_true(pr.part_way >= 2);
	assert_true(pr.last > pr.first);
	assert_int_equal(st.catchup_received, 0);
	assert_int_equal(st.catchup_expected, 0);
	assert_true(st.catchup_rate == 0.0);
	assert_int_equal(st.catchup_eta_ms, 0);
	assert_int_equal(rumor_get(c.nodes[1], "k0099999", 8, &v, &len), 0);
	rumor_free(v);
	assert_int_equal(rumor_get(c.nodes[1], "k0000000", 8, &v, &len), 0);
	rumor_free(v);
	cluster_stop(&c);
}

struct seen {
	struct cluster *c;
	int node;
	char id[RUMOR_NODE_ID_STRLEN];
	const char *state;          /* out: its state, NULL: not listed */
	int was_alive;
};

static int listed_in(void *arg)
{
	static struct ctl_peer_info peers[64];
	struct seen *s = arg;
	size_t n, k;

	s->state = NULL;
	n = node_peers(s->c->nodes[s->node], peers, 64);
	for (k = 0; k < n && k < 64; k++)
		if (strcmp(peers[k].id_str, s->id) == 0)
			s->state = peers[k].state;
	if (s->state != NULL && strcmp(s->state, "alive") == 0)
		s->was_alive = 1;
	return s->state != NULL;
}

static int listed_alive(void *arg)
{
	struct seen *s = arg;

	return listed_in(s) && strcmp(s->state, "alive") == 0;
}

static void step_cluster(void *arg)
{
	run_once(((struct seen *)arg)->c);
}

/* B (node 1) dials C (node 0, its seed), then C goes away; A (node 2),
 * seeded with B only, learns C from B's member list and never reaches
 * it: A shows C as never contacted (not alive, as the member table has
 * it), and does not count it alive in status. */
static void test_a_member_known_only_by_gossip_shows_as_never_contacted(
	void **state)
{
	struct cluster c;
	struct seen c_at_b = {.node = 1}, c_at_a = {.node = 2};
	struct ctl_status *st = calloc(1, sizeof *st);
	const char *seed[1];

	(void)state;
	assert_non_null(st);
	cluster_start(&c, 2);
	c_at_b.c = c_at_a.c = &c;
	rumor_node_id(c.nodes[0], c_at_b.id);
	memcpy(c_at_a.id, c_at_b.id, sizeof c_at_a.id);
	assert_true(tu_wait_for(listed_alive, step_cluster, &c_at_b,
				DEADLINE_MS));
	close_node(&c, 0);
	c.dirs[2] = tu_tmpdir("nodes");
	c.n = 3;
	seed[0] = c.addrs[1];
	assert_int_equal(open_node(&c, 2, seed, 1), 0);
	assert_true(tu_wait_for(listed_in, step_cluster, &c_at_a,
				DEADLINE_MS));
	assert_string_equal(c_at_a.state, "never-contacted");
	assert_false(c_at_a.was_alive);
	assert_int_equal(node_get_status(c.nodes[2], st), 0);
	assert_int_equal(st->peers_known, 2);
	assert_true(st->peers_alive <= 1);    /* B, once heard from */
	free(st);
	cluster_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_joining_node_shows_its_catch_up_progress),
		cmocka_unit_test(
			test_a_member_known_only_by_gossip_shows_as_never_contacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
