/* SPDX-License-Identifier: MIT */
/*
 * test_why: the node side of `rumorctl why` (src/node/why.c) on the
 * simulator, on virtual time. Three nodes (node 2 without the WHY bit in
 * its HELLO, as an older node) and two adversaries (tests/lib/
 * sim_evil.h) connected to node 0: E answers WHY_ASKs the way each test
 * tells it, or not at all; U has no WHY bit. node_why on node 0 must
 * list every member with what it holds or why it was not asked, never
 * wait past its bound, stop waiting for a member whose connection
 * closes, ask a connected node its member table forgot, and tell
 * current, behind and diverged nodes apart, with the store's order and
 * without counting anything in the node's stats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "wire/ctl_types.h"
#include "wire/wire.h"
#include "tests/integration/hostile_fixture.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"
#include "tests/lib/testutil.h"

#define SEC 1000u
#define N 3
#define BOUND_MS 500u
#define ROWS_MAX 8

struct world {
	struct simc c;
	uint8_t netkey[NETWORK_KEY_BYTES];
	struct evil *e;          /* answers as told, or not at all */
	struct evil *u;          /* no WHY bit */
};

/* What node_why reported. */
struct report {
	int done;
	int rc;
	uint64_t at_ms;          /* virtual time of the report */
	struct ctl_why_summary s;
	struct ctl_why_row rows[ROWS_MAX];
	size_t n;
	struct sim *sim;
};

static void on_done(void *arg, int rc, const struct ctl_why_summary *s,
		    const struct ctl_why_row *rows, size_t n)
{
	struct report *r = arg;

	assert_false(r->done);       /* once */
	r->done = 1;
	r->rc = rc;
	r->at_ms = sim_now(r->sim);
	r->s = *s;
	assert_true(n <= ROWS_MAX);
	memcpy(r->rows, rows, n * sizeof *rows);
	r->n = n;
}

static int report_done(void *arg)
{
	return ((struct report *)arg)->done;
}

static struct evil *dial(struct world *w, int host, uint64_t flags,
			 uint64_t seed)
{
	struct evil *e = NULL;

	assert_int_equal(evil_dial(&e, w->c.sim, host, 0, SIMC_PORT,
				   w->netkey, seed), 0);
	e->hello_flags = flags;
	e->auto_ack = 1;
	assert_true(evil_wait_open(e, sim_now(w->c.sim) + 5 * SEC));
	return e;
}

static int world_setup(void **state)
{
	static struct world w;
	struct simc_params p;

	memset(&w, 0, sizeof w);
	hostile_params(&p, N, 2);
	p.no_why_mask = 1u << 2;
	hostile_start(&w.c, w.netkey, &p, N, 15, "test_why");
	w.e = dial(&w, N, WIRE_HELLO_LIVE | WIRE_HELLO_FILTERS |
		   WIRE_HELLO_WHY, 1);
	w.u = dial(&w, N + 1, WIRE_HELLO_LIVE | WIRE_HELLO_FILTERS, 2);
	simc_run_until(&w.c, sim_now(w.c.sim) + SEC);
	*state = &w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;

	evil_free(w->u);
	evil_free(w->e);
	simc_end(&w->c);
	return 0;
}

/* ------------------------------------------------------------ helpers */

static struct rumor *node(struct world *w, int i)
{
	return w->c.nodes[i].r;
}

/* Puts key=value on node i and runs until every node holds it. */
static void put_everywhere(struct world *w, int i, const char *key,
			   const char *value)
{
	uint64_t deadline = sim_now(w->c.sim) + 10 * SEC;
	void *v;
	size_t len;
	int j, all;

	while (rumor_put(node(w, i), key, strlen(key), value,
			 strlen(value)) == RUMOR_EREFUSED)
		simc_run_until(&w->c, sim_now(w->c.sim) + 100);
	do {
		simc_run_until(&w->c, sim_now(w->c.sim) + 50);
		all = 1;
		for (j = 0; j < N; j++) {
			v = NULL;
			if (rumor_get(node(w, j), key, strlen(key), &v,
				      &len) != 0 || len != strlen(value) ||
			    memcmp(v, value, len) != 0)
				all = 0;
			rumor_free(v);
		}
	} while (!all && sim_now(w->c.sim) < deadline);
	assert_true(all);
}

/* Starts node_why on node 0. */
static void why_start(struct world *w, const char *key, struct report *r)
{
	struct err err;

	memset(r, 0, sizeof *r);
	r->sim = w->c.sim;
	err_clear(&err);
	assert_int_equal(node_why(node(w, 0), key, strlen(key), BOUND_MS,
				  on_done, r, &err), 0);
}

static void why_wait(struct world *w, struct report *r)
{
	assert_true(simc_run_cond(&w->c, report_done, r,
				  sim_now(w->c.sim) + 10 * SEC));
	assert_int_equal(r->rc, 0);
}

static const struct ctl_why_row *row_of(const struct report *r,
					const uint8_t *id)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (memcmp(r->rows[i].id, id, RUMOR_NODE_ID_BYTES) == 0)
			return &r->rows[i];
	fail_msg("no row for a member");
	return NULL;
}

/* Runs until E has received a WHY_ASK beyond the count before. */
static void wait_ask(struct world *w, uint64_t before)
{
	uint64_t deadline = sim_now(w->c.sim) + 5 * SEC;

	while (w->e->received[WIRE_WHY_ASK] == before &&
	       sim_now(w->c.sim) < deadline)
		simc_run_until(&w->c, sim_now(w->c.sim) + 1);
	assert_true(w->e->received[WIRE_WHY_ASK] > before);
}

/* E's answer: version v (value carried, its hash computed; NULL: none),
 * and for each asked origin the HWM seen_hwm when it is seen_origin,
 * else 0. */
static void e_answer(struct world *w, const struct rumor_version *v,
		     const uint8_t *seen_origin, uint64_t seen_hwm)
{
	static uint8_t hash[WIRE_WHY_HASH_BYTES];
	uint64_t hwms[EVIL_DIGEST_MAX];
	struct wire_msg m;
	size_t i;

	memset(&m, 0, sizeof m);
	m.type = WIRE_WHY_ANSWER;
	m.u.why.id = w->e->why_id;
	m.u.why.resolver = "default";
	m.u.why.resolver_len = 7;
	for (i = 0; i < w->e->n_why_origins; i++)
		hwms[i] = seen_origin != NULL &&
			memcmp(w->e->why_origins[i], seen_origin,
			       WIRE_ORIGIN_BYTES) == 0 ? seen_hwm : 0;
	m.u.why.hwms = hwms;
	m.u.why.n_hwms = w->e->n_why_origins;
	if (v != NULL) {
		crypto_generichash(hash, sizeof hash, v->value, v->value_len,
				   NULL, 0);
		m.u.why.found = 1;
		m.u.why.clock = v->clock;
		m.u.why.origin = v->origin;
		m.u.why.seq = v->seq;
		m.u.why.wall_ms = v->wall_ms;
		m.u.why.value = v->value;
		m.u.why.value_len = v->value_len;
		m.u.why.hash = hash;
	}
	assert_int_equal(evil_send(w->e, &m), 0);
}

/* Node 0's stored version of key (free with rumor_record_free). */
static struct rumor_record *version_of(struct world *w, const char *key)
{
	struct rumor_record *rec = NULL;

	assert_int_equal(rumor_get_version(node(w, 0), key, strlen(key),
					   &rec), 0);
	return rec;
}

/* ------------------------------------------------------------ tests */

/* E is silent: node 0 reports within its bound; every member has a row
 * saying what it holds or why it was not asked. */
static void test_every_member_is_listed_and_the_bound_holds(void **state)
{
	struct world *w = *state;
	struct report r;
	uint64_t t0;

	put_everywhere(w, 1, "colour", "blue");
	t0 = sim_now(w->c.sim);
	why_start(w, "colour", &r);
	why_wait(w, &r);
	assert_true(r.at_ms - t0 <= BOUND_MS);
	assert_true(r.at_ms - t0 >= BOUND_MS);    /* E was waited for */
	assert_int_equal(r.n, 1 + 2 + 2);
	assert_int_equal(r.rows[0].status, CTL_WHY_SELF);
	assert_memory_equal(r.rows[0].id, w->c.nodes[0].pk,
			    RUMOR_NODE_ID_BYTES);
	assert_int_equal(r.rows[0].role, CTL_WHY_CURRENT);
	assert_int_equal(row_of(&r, w->c.nodes[1].pk)->status,
			 CTL_WHY_ANSWERED);
	assert_int_equal(row_of(&r, w->c.nodes[1].pk)->role, CTL_WHY_CURRENT);
	assert_memory_equal(row_of(&r, w->c.nodes[1].pk)->hash,
			    r.rows[0].hash, CTL_WHY_HASH_BYTES);
	assert_int_equal(row_of(&r, w->c.nodes[2].pk)->status,
			 CTL_WHY_UNSUPPORTED);
	assert_int_equal(row_of(&r, w->e->id.public_key)->status,
			 CTL_WHY_NO_ANSWER);
	assert_int_equal(row_of(&r, w->u->id.public_key)->status,
			 CTL_WHY_UNSUPPORTED);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGING);
	assert_int_equal(r.s.not_asked, 3);
	assert_int_equal(r.s.reason, CTL_WHY_BY_ONLY);
	assert_int_equal(r.s.winner_row, 0);
	/* nobody was sent a WHY_ASK without the bit */
	assert_int_equal(w->u->received[WIRE_WHY_ASK], 0);
}

/* E answers an older version of node 0's origin: behind, with the lag;
 * then nothing at all: behind by the winner's clock. */
static void test_an_older_answer_is_behind_with_its_lag(void **state)
{
	struct world *w = *state;
	struct rumor_record *rec;
	struct rumor_version old;
	const struct ctl_why_row *row;
	struct report r;
	uint64_t asks;

	put_everywhere(w, 0, "shape", "round");
	put_everywhere(w, 0, "shape", "square");
	rec = version_of(w, "shape");
	old = rec->v;
	old.clock -= 1;
	old.seq -= 1;
	old.wall_ms -= 250;
	old.value = "round";
	old.value_len = 5;
	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "shape", &r);
	wait_ask(w, asks);
	e_answer(w, &old, NULL, 0);
	why_wait(w, &r);
	row = row_of(&r, w->e->id.public_key);
	assert_int_equal(row->status, CTL_WHY_ANSWERED);
	assert_int_equal(row->role, CTL_WHY_BEHIND);
	assert_int_equal(row->lag_clock, 1);
	assert_int_equal(row->lag_seq, 1);
	assert_int_equal(row->lag_ms, 250);
	assert_int_equal(r.s.reason, CTL_WHY_BY_CLOCK);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGING);
	assert_int_equal(r.s.max_lag_clock, 1);
	assert_int_equal(r.rows[r.s.winner_row].clock, rec->v.clock);

	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "shape", &r);
	wait_ask(w, asks);
	e_answer(w, NULL, NULL, 0);
	why_wait(w, &r);
	row = row_of(&r, w->e->id.public_key);
	assert_int_equal(row->role, CTL_WHY_BEHIND);
	assert_false(row->found);
	assert_int_equal(row->lag_clock, rec->v.clock);
	rumor_record_free(rec);
}

/* E answers a same-clock version of node 1's origin that node 0 has
 * seen, and says it has seen node 0's: each side chose its own, so
 * diverged; node 0's conflict counters do not move. A hash that does
 * not match the value is a bad answer. */
static void test_same_clock_both_seen_is_diverged(void **state)
{
	struct world *w = *state;
	struct rumor_stats before, after;
	struct rumor_record *rec;
	struct rumor_version other;
	struct report r;
	uint64_t asks;

	put_everywhere(w, 1, "other", "x");   /* node 1's seq 1 reaches all */
	put_everywhere(w, 0, "fruit", "apple");
	rec = version_of(w, "fruit");
	other = rec->v;
	other.origin = w->c.nodes[1].pk;
	other.seq = 1;                        /* node 0's HWM covers it */
	other.wall_ms -= 1;                   /* loses on wall time */
	other.value = "pear";
	other.value_len = 4;
	rumor_stats_init(&before);
	assert_int_equal(rumor_stats(node(w, 0), &before), 0);
	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "fruit", &r);
	wait_ask(w, asks);
	e_answer(w, &other, w->c.nodes[0].pk, rec->v.seq);
	why_wait(w, &r);
	assert_int_equal(r.s.verdict, CTL_WHY_DIVERGENT);
	assert_int_equal(r.s.reason, CTL_WHY_BY_WALL);
	assert_int_equal(row_of(&r, w->e->id.public_key)->role,
			 CTL_WHY_DIVERGED);
	assert_int_equal(r.rows[0].role, CTL_WHY_DIVERGED);
	assert_memory_equal(r.rows[r.s.winner_row].origin, rec->v.origin,
			    RUMOR_NODE_ID_BYTES);
	rumor_stats_init(&after);
	assert_int_equal(rumor_stats(node(w, 0), &after), 0);
	assert_int_equal(after.conflicts_default, before.conflicts_default);
	assert_int_equal(after.symmetry_violations,
			 before.symmetry_violations);

	/* The same, but E has not seen node 0's version: merely behind
	 * (it will take it at its next exchange). */
	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "fruit", &r);
	wait_ask(w, asks);
	e_answer(w, &other, NULL, 0);
	why_wait(w, &r);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGING);
	assert_int_equal(row_of(&r, w->e->id.public_key)->role,
			 CTL_WHY_BEHIND);

	/* A value that does not hash to what E says: a bad answer. */
	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "fruit", &r);
	wait_ask(w, asks);
	{
		uint8_t hash[WIRE_WHY_HASH_BYTES];
		uint64_t hwms[EVIL_DIGEST_MAX] = {0};
		struct wire_msg m;

		memset(hash, 1, sizeof hash);
		memset(&m, 0, sizeof m);
		m.type = WIRE_WHY_ANSWER;
		m.u.why.id = w->e->why_id;
		m.u.why.found = 1;
		m.u.why.clock = 1;
		m.u.why.origin = other.origin;
		m.u.why.seq = 1;
		m.u.why.value = (const uint8_t *)"pear";
		m.u.why.value_len = 4;
		m.u.why.hash = hash;
		m.u.why.resolver = "r";
		m.u.why.resolver_len = 1;
		m.u.why.hwms = hwms;
		m.u.why.n_hwms = w->e->n_why_origins;
		assert_int_equal(evil_send(w->e, &m), 0);
	}
	why_wait(w, &r);
	assert_int_equal(row_of(&r, w->e->id.public_key)->status,
			 CTL_WHY_BAD_ANSWER);
	assert_false(row_of(&r, w->e->id.public_key)->found);
	rumor_record_free(rec);
}

struct forgotten {
	struct world *w;
	const uint8_t *id;
};

/* Whether node 0's member table no longer holds the node f->id. */
static int forgotten(void *arg)
{
	const struct forgotten *f = arg;
	struct ctl_peer_info info[ROWS_MAX];
	size_t i, n;

	n = node_peers(node(f->w, 0), info, ROWS_MAX);
	assert_true(n <= ROWS_MAX);
	for (i = 0; i < n; i++)
		if (memcmp(info[i].id, f->id, RUMOR_NODE_ID_BYTES) == 0)
			return 0;
	return 1;
}

/* Whether node 0's member table holds f->id as connected. */
static int member_connected(const struct forgotten *f)
{
	struct ctl_peer_info info[ROWS_MAX];
	size_t i, n;

	n = node_peers(node(f->w, 0), info, ROWS_MAX);
	for (i = 0; i < n && i < ROWS_MAX; i++)
		if (memcmp(info[i].id, f->id, RUMOR_NODE_ID_BYTES) == 0)
			return info[i].connected;
	return 0;
}

/* E and U stay silent past the forget time (10 x gone_after here) on
 * connections that stay open, as across a partition that drops packets
 * without a reset: node 0's member table forgets them, yet they are
 * still connected, so still asked (E answers, behind) or listed (U,
 * unsupported). Left out, a node on the far side of a long partition
 * could be missing from a verdict of converged. */
static void test_a_forgotten_node_still_connected_is_asked(void **state)
{
	struct world *w = *state;
	struct rumor_record *rec;
	struct rumor_version old;
	const struct ctl_why_row *row;
	struct forgotten fe, fu;
	struct report r;
	uint64_t asks;

	put_everywhere(w, 0, "tide", "low");
	put_everywhere(w, 0, "tide", "high");
	fe.w = fu.w = w;
	fe.id = w->e->id.public_key;
	fu.id = w->u->id.public_key;
	assert_true(simc_run_cond(&w->c, forgotten, &fe,
				  sim_now(w->c.sim) + 400 * SEC));
	assert_true(simc_run_cond(&w->c, forgotten, &fu,
				  sim_now(w->c.sim) + 10 * SEC));
	assert_true(w->e->open && !w->e->closed);
	assert_true(w->u->open && !w->u->closed);

	rec = version_of(w, "tide");
	old = rec->v;
	old.clock -= 1;
	old.seq -= 1;
	old.value = "low";
	old.value_len = 3;
	asks = w->e->received[WIRE_WHY_ASK];
	why_start(w, "tide", &r);
	wait_ask(w, asks);
	e_answer(w, &old, NULL, 0);
	why_wait(w, &r);
	assert_int_equal(r.n, 1 + 2 + 2);
	row = row_of(&r, w->e->id.public_key);
	assert_int_equal(row->status, CTL_WHY_ANSWERED);
	assert_int_equal(row->role, CTL_WHY_BEHIND);
	assert_int_equal(row->lag_clock, 1);
	assert_int_equal(row_of(&r, w->u->id.public_key)->status,
			 CTL_WHY_UNSUPPORTED);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGING);
	assert_int_equal(w->u->received[WIRE_WHY_ASK], 0);
	/* E's answer was direct contact on its open connection: E is a
	 * member again, and connected (gossip from the other nodes may
	 * bring a forgotten id back, but never as connected). */
	assert_true(member_connected(&fe));
	assert_false(member_connected(&fu));
	rumor_record_free(rec);
}

/* A member whose connection closes while it is asked is not waited
 * for: the report comes at once, not at the bound. */
static void test_a_closed_connection_is_not_waited_for(void **state)
{
	struct world *w = *state;
	struct report r;
	uint64_t t0, asks;

	asks = w->e->received[WIRE_WHY_ASK];
	t0 = sim_now(w->c.sim);
	why_start(w, "colour", &r);
	wait_ask(w, asks);
	evil_free(w->e);
	w->e = NULL;
	why_wait(w, &r);
	assert_true(r.at_ms - t0 < BOUND_MS);
	assert_int_equal(r.n, 1 + 2 + 2);
	/* ASKs and answers of an older node: the rows of every answering
	 * node still come, and node 2 (no WHY bit) is still asked nothing */
	assert_int_equal(row_of(&r, w->c.nodes[1].pk)->status,
			 CTL_WHY_ANSWERED);
	w->e = NULL;
}

/* At most four queries wait at once (E is silent): a fifth is refused
 * with a message and never reports; the four report at the bound. */
static void test_a_fifth_query_in_flight_is_refused(void **state)
{
	struct world *w = *state;
	struct report r[5];
	struct err err;
	int i;

	for (i = 0; i < 4; i++)
		why_start(w, "colour", &r[i]);
	memset(&r[4], 0, sizeof r[4]);
	err_clear(&err);
	assert_int_equal(node_why(node(w, 0), "colour", 6, BOUND_MS, on_done,
				  &r[4], &err), RUMOR_EREFUSED);
	assert_non_null(strstr(err.msg, "in flight"));
	for (i = 0; i < 4; i++)
		why_wait(w, &r[i]);
	assert_false(r[4].done);
	/* and once they ended, a new one is taken */
	why_start(w, "colour", &r[4]);
	why_wait(w, &r[4]);
}

/* Bad calls are refused with a message, and nothing waits. */
static void test_bad_calls_are_refused(void **state)
{
	struct world *w = *state;
	struct report r;
	struct err err;

	memset(&r, 0, sizeof r);
	err_clear(&err);
	assert_int_equal(node_why(node(w, 0), "", 0, BOUND_MS, on_done, &r,
				  &err), RUMOR_EINVAL);
	assert_true(err.msg[0] != '\0');
	assert_false(r.done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_member_is_listed_and_the_bound_holds),
		cmocka_unit_test(test_an_older_answer_is_behind_with_its_lag),
		cmocka_unit_test(test_same_clock_both_seen_is_diverged),
		cmocka_unit_test(test_bad_calls_are_refused),
		cmocka_unit_test(test_a_fifth_query_in_flight_is_refused),
		cmocka_unit_test(test_a_forgotten_node_still_connected_is_asked),
		cmocka_unit_test(test_a_closed_connection_is_not_waited_for),
	};

	return cmocka_run_group_tests_name("why", tests, world_setup,
					   world_teardown);
}
