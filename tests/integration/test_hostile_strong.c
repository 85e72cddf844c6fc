/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_strong: hostile members against strong writes (issue 14),
 * on the simulator: two adversaries (tests/lib/sim_evil.h) that announce
 * WIRE_HELLO_STRONG speak raw PREPARE .. ANSWER frames to node 0, a real
 * node. Whatever they send, node 0 stays up, answers status, applies
 * nothing they did not commit as coordinator, holds a bounded number of
 * pending intents that drain once their coordinator goes silent, and the
 * honest nodes go on writing, strong and gossip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "node/strong_int.h"
#include "wire/ctl_types.h"
#include "wire/wire.h"
#include "tests/integration/hostile_fixture.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/sim_evil.h"
#include "tests/lib/testutil.h"

#define SEC 1000u
/* rumor_options.strong_timeout_ms 0: the default. */
#define STRONG_TIMEOUT_MS STRONG_TIMEOUT_DEFAULT_MS
/* The bounds a node keeps on what peers make it hold: at most this many
 * pending intents, this many bytes of them; beyond, it votes no
 * (WIRE_REFUSE_BUSY). */
#define PENDING_MAX STRONG_INTENTS_MAX
#define PENDING_BYTES_MAX STRONG_INTENT_BYTES_MAX
/* What a PREPARE's coordinator gives it (ttl) and how long a participant
 * may take to drop it once the coordinator is silent: ttl, then a
 * strong timeout before it asks, then one more for the answers. */
#define TTL_MS 1000u
#define DRAIN_MS (TTL_MS + 3u * STRONG_TIMEOUT_MS + 2u * SEC)

/* The world: NODES nodes, adversary a (h.e) on host NODES and b on host
 * NODES + 1, both dialed to node 0 with HELLO's STRONG bit. */
struct world {
	struct hostile h;
	struct evil *b;
};

static struct evil *dial_strong(struct hostile *h, int host, uint64_t seed)
{
	struct evil *e = NULL;

	assert_int_equal(evil_dial(&e, h->c.sim, host, 0, SIMC_PORT,
				   h->netkey, seed), 0);
	e->hello_flags = WIRE_HELLO_LIVE | WIRE_HELLO_FILTERS |
			 WIRE_HELLO_STRONG;
	assert_true(evil_wait_open(e, sim_now(h->c.sim) + 5 * SEC));
	return e;
}

static int world_setup(void **state)
{
	static struct world w;
	struct hostile *h = &w.h;
	struct simc_params p;

	memset(&w, 0, sizeof w);
	hostile_params(&p, NODES, 2);
	hostile_start(&h->c, h->netkey, &p, NODES, 14, "test_hostile_strong");
	h->e = dial_strong(h, NODES, 1);
	w.b = dial_strong(h, NODES + 1, 2);
	/* Let the node see both HELLOs. */
	simc_run_until(&h->c, sim_now(h->c.sim) + SEC);
	*state = &w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;

	evil_free(w->b);
	evil_free(w->h.e);
	simc_end(&w->h.c);
	return 0;
}

/* ------------------------------------------------------------ helpers */

static struct rumor *node(struct hostile *h, int i)
{
	return h->c.nodes[i].r;
}

static struct rumor_stats stats_of(struct hostile *h, int i)
{
	struct rumor_stats st;

	rumor_stats_init(&st);
	assert_int_equal(rumor_stats(node(h, i), &st), 0);
	return st;
}

/* Node i's refusals of every reason (what `rumorctl status` shows):
 * the node answers status. */
static uint64_t refused_total(struct hostile *h, int i)
{
	struct ctl_status st;
	uint64_t sum = 0;
	size_t k;

	memset(&st, 0, sizeof st);
	assert_int_equal(node_get_status(node(h, i), &st), 0);
	for (k = 0; k < REFUSE_COUNT; k++)
		sum += st.refused[k];
	return sum;
}

/* Node i's refusals of one reason. */
static uint64_t refused_of(struct hostile *h, int i, enum refuse_reason why)
{
	struct ctl_status st;

	memset(&st, 0, sizeof st);
	assert_int_equal(node_get_status(node(h, i), &st), 0);
	return st.refused[why];
}

static void make_txid(uint8_t txid[WIRE_TXID_BYTES], uint32_t i)
{
	memset(txid, 0x7e, WIRE_TXID_BYTES);
	memcpy(txid, &i, sizeof i);
}

/* Fails unless no node holds key (absent or never written). */
static void assert_nowhere(struct hostile *h, const void *key, size_t len)
{
	void *v = NULL;
	size_t vl = 0;
	int i, rv;

	for (i = 0; i < NODES; i++) {
		rv = rumor_get(node(h, i), key, len, &v, &vl);
		if (rv == 0)
			rumor_free(v);
		if (rv != RUMOR_ENOTFOUND)
			fail_msg("node %d: a get of %.*s gave %d (%s), want "
				 "not found: a forged strong write was applied",
				 i, (int)len, (const char *)key, rv,
				 rumor_strerror(rv));
	}
}

/* A PREPARE from e, its coordinator, with participants e and node 0. */
static int send_prepare(struct hostile *h, struct evil *e,
			const uint8_t txid[WIRE_TXID_BYTES],
			const struct wire_op *ops, size_t n_ops)
{
	uint8_t parts[2 * WIRE_NODE_ID_BYTES];
	struct wire_msg m;

	memcpy(parts, e->id.public_key, WIRE_NODE_ID_BYTES);
	memcpy(parts + WIRE_NODE_ID_BYTES, h->c.nodes[0].pk,
	       WIRE_NODE_ID_BYTES);
	memset(&m, 0, sizeof m);
	m.type = WIRE_PREPARE;
	m.u.strong.txid = txid;
	m.u.strong.ttl_ms = TTL_MS;
	m.u.strong.participants = parts;
	m.u.strong.n_participants = 2;
	m.u.strong.ops = ops;
	m.u.strong.n_ops = n_ops;
	return evil_send(e, &m);
}

/* A message of type with only a txid (COMMITTED, ABORT). */
static int send_txid_only(struct evil *e, enum wire_type type,
			  const uint8_t txid[WIRE_TXID_BYTES])
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.u.strong.txid = txid;
	return evil_send(e, &m);
}

static int send_commit(struct evil *e, const uint8_t txid[WIRE_TXID_BYTES],
		       const uint64_t *clocks, size_t n)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_COMMIT;
	m.u.strong.txid = txid;
	m.u.strong.first_seq = 1;
	m.u.strong.wall_ms = 1700000000000ull;
	m.u.strong.clocks = clocks;
	m.u.strong.n_clocks = n;
	return evil_send(e, &m);
}

static uint64_t votes(const struct evil *e)
{
	uint64_t n = e->votes_yes;
	size_t k;

	for (k = 0; k < EVIL_REASONS; k++)
		n += e->votes_no[k];
	return n;
}

struct vote_wait {
	const struct evil *e;
	uint64_t want;
};

static int votes_reached(void *arg)
{
	const struct vote_wait *v = arg;

	return votes(v->e) >= v->want;
}

/* Runs until e has had want votes in all (fails after 5 s). */
static void wait_votes(struct hostile *h, const struct evil *e,
		       uint64_t want)
{
	struct vote_wait v = { e, want };

	if (!simc_run_cond(&h->c, votes_reached, &v,
			   sim_now(h->c.sim) + 5 * SEC))
		fail_msg("node 0 sent %llu votes, want %llu",
			 (unsigned long long)votes(e),
			 (unsigned long long)want);
}

struct pending_wait {
	struct hostile *h;
	uint64_t at_most;
	uint64_t max_seen;
};

static int pending_down(void *arg)
{
	struct pending_wait *p = arg;
	struct rumor_stats st = stats_of(p->h, 0);

	if (st.strong_pending > p->max_seen)
		p->max_seen = st.strong_pending;
	return st.strong_pending <= p->at_most;
}

/* Runs until node 0 holds at most n pending intents, within ms. */
static void wait_pending(struct hostile *h, uint64_t n, uint64_t ms,
			 const char *what)
{
	struct pending_wait p = { h, n, 0 };

	if (!simc_run_cond(&h->c, pending_down, &p, sim_now(h->c.sim) + ms))
		fail_msg("%s: node 0 still holds %llu pending intents after "
			 "%llu ms, want at most %llu", what,
			 (unsigned long long)stats_of(h, 0).strong_pending,
			 (unsigned long long)ms, (unsigned long long)n);
}

struct strong_call {
	int calls;
	int result;
};

static void on_strong(void *arg, int result, const char *errmsg)
{
	struct strong_call *s = arg;

	(void)errmsg;
	s->calls++;
	s->result = result;
}

static int strong_called(void *arg)
{
	return ((struct strong_call *)arg)->calls > 0;
}

struct seen_wait {
	struct hostile *h;
	const char *key;
};

static int seen_everywhere(void *arg)
{
	struct seen_wait *s = arg;
	void *v;
	size_t vl;
	int i;

	for (i = 0; i < NODES; i++) {
		if (rumor_get(node(s->h, i), s->key, strlen(s->key), &v,
			      &vl) != 0)
			return 0;
		rumor_free(v);
	}
	return 1;
}

/* The honest cluster still works: a strong put coordinated by node 1
 * (whose participants are the nodes: it contacted no adversary) commits
 * and is on every node when its callback comes, once; a gossip put on
 * node 0 reaches nodes 1 and 2. */
static void assert_cluster_works(struct hostile *h, const char *tag)
{
	struct strong_call s = { 0, 1 };
	struct seen_wait w = { h, NULL };
	char key[64];
	void *v;
	size_t vl;
	int i;

	snprintf(key, sizeof key, "honest-strong-%s", tag);
	assert_int_equal(rumor_put_strong(node(h, 1), key, strlen(key),
					  "honest", 6, on_strong, &s), 0);
	if (!simc_run_cond(&h->c, strong_called, &s,
			   sim_now(h->c.sim) + 3 * STRONG_TIMEOUT_MS))
		fail_msg("%s: node 1's strong put never called back", tag);
	if (s.result != 0)
		fail_msg("%s: node 1's strong put failed: %s", tag,
			 rumor_strerror(s.result));
	for (i = 0; i < NODES; i++) {
		assert_int_equal(rumor_get(node(h, i), key, strlen(key), &v,
					   &vl), 0);
		assert_int_equal(vl, 6);
		assert_memory_equal(v, "honest", 6);
		rumor_free(v);
	}
	simc_run_until(&h->c, sim_now(h->c.sim) + 100);
	assert_int_equal(s.calls, 1);

	snprintf(key, sizeof key, "honest-gossip-%s", tag);
	assert_int_equal(rumor_put(node(h, 0), key, strlen(key), "g", 1), 0);
	w.key = key;
	if (!simc_run_cond(&h->c, seen_everywhere, &w,
			   sim_now(h->c.sim) + 5 * SEC))
		fail_msg("%s: node 0's put did not replicate", tag);
}

/* ------------------------------------------------------------ tests */

/* VOTE, COMMIT, ABORT, COMMITTED and ANSWER for transactions node 0
 * never heard of: well-formed, so the connection stays, but each is
 * ignored (and counted as a refusal); nothing is stored, no intent
 * appears, no late commit is counted. */
static void test_messages_for_unknown_txids_are_ignored(void **state)
{
	static const enum wire_type types[] = {
		WIRE_VOTE, WIRE_COMMIT, WIRE_ABORT, WIRE_COMMITTED,
		WIRE_ANSWER,
	};
	struct world *w = *state;
	struct hostile *h = &w->h;
	struct rumor_stats before = stats_of(h, 0), after;
	uint64_t refused0 = refused_total(h, 0);
	uint64_t unknown0 = refused_of(h, 0, REFUSE_STRONG_UNKNOWN);
	uint64_t clocks[1] = { 7 };
	uint8_t txid[WIRE_TXID_BYTES];
	struct wire_msg m;
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		make_txid(txid, 0x100u + (uint32_t)i);
		memset(&m, 0, sizeof m);
		m.type = types[i];
		m.u.strong.txid = txid;
		if (types[i] == WIRE_VOTE) {
			m.u.strong.yes = 1;
			m.u.strong.clocks = clocks;
			m.u.strong.n_clocks = 1;
		} else if (types[i] == WIRE_COMMIT ||
			   types[i] == WIRE_ANSWER) {
			m.u.strong.state = WIRE_TX_COMMITTED;
			m.u.strong.first_seq = 1;
			m.u.strong.wall_ms = 1700000000000ull;
			m.u.strong.clocks = clocks;
			m.u.strong.n_clocks = 1;
		}
		assert_int_equal(evil_send(h->e, &m), 0);
	}
	simc_run_until(&h->c, sim_now(h->c.sim) + SEC);
	assert_false(h->e->closed);
	after = stats_of(h, 0);
	assert_int_equal(after.remote_applied, before.remote_applied);
	assert_int_equal(after.strong_pending, 0);
	assert_int_equal(after.strong_late, before.strong_late);
	assert_int_equal(after.strong_recovered, before.strong_recovered);
	assert_true(refused_total(h, 0) > refused0);
	assert_true(refused_of(h, 0, REFUSE_STRONG_UNKNOWN) > unknown0);
	assert_cluster_works(h, "unknown");
}

/* Adversary a prepares a put on node 0 (as its coordinator); adversary
 * b, a member but not the coordinator, sends the COMMIT. Node 0 keeps
 * the intent and applies nothing; a's ABORT then drops it. */
static void test_commit_from_a_non_coordinator_is_ignored(void **state)
{
	struct world *w = *state;
	struct hostile *h = &w->h;
	static const char key[] = "forged-commit";
	struct wire_op op = { 0, (const uint8_t *)key, sizeof key - 1,
			      (const uint8_t *)"forged", 6 };
	struct rumor_stats before = stats_of(h, 0), after;
	uint8_t txid[WIRE_TXID_BYTES];
	uint64_t clock, refused0;

	make_txid(txid, 1);
	assert_int_equal(send_prepare(h, h->e, txid, &op, 1), 0);
	wait_votes(h, h->e, 1);
	/* Not vacuous: node 0 took the intent. */
	assert_int_equal(h->e->votes_yes, 1);
	assert_memory_equal(h->e->vote_txid, txid, WIRE_TXID_BYTES);
	assert_int_equal(stats_of(h, 0).strong_pending, 1);
	clock = h->e->vote_clock + 1;
	refused0 = refused_of(h, 0, REFUSE_STRONG_SENDER);
	assert_int_equal(send_commit(w->b, txid, &clock, 1), 0);
	assert_int_equal(send_txid_only(w->b, WIRE_ABORT, txid), 0);
	simc_run_until(&h->c, sim_now(h->c.sim) + 200);
	assert_nowhere(h, key, sizeof key - 1);
	after = stats_of(h, 0);
	assert_int_equal(after.strong_pending, 1);
	assert_int_equal(after.remote_applied, before.remote_applied);
	/* b's COMMIT and ABORT, both refused: b is not the coordinator. */
	assert_true(refused_of(h, 0, REFUSE_STRONG_SENDER) >= refused0 + 2);
	assert_false(w->b->closed);
	/* The coordinator's ABORT ends it, well before its ttl. */
	assert_int_equal(send_txid_only(h->e, WIRE_ABORT, txid), 0);
	wait_pending(h, 0, 300, "after the coordinator's ABORT");
	simc_run_until(&h->c, sim_now(h->c.sim) + 200);
	assert_nowhere(h, key, sizeof key - 1);
	after = stats_of(h, 0);
	assert_int_equal(after.remote_applied, before.remote_applied);
	assert_int_equal(after.strong_late, before.strong_late);
	assert_cluster_works(h, "noncoord");
}

#define FLOOD 3000u

/* Thousands of PREPAREs with distinct txids and keys from a coordinator
 * that then goes silent: node 0 answers each (yes up to its bound, then
 * no, busy), never holds more than the bound, asks the coordinator what
 * became of them once their ttl ran out, and drops every one. */
static void test_prepare_flood_is_bounded(void **state)
{
	struct world *w = *state;
	struct hostile *h = &w->h;
	struct pending_wait p = { h, 0, 0 };
	struct rumor_stats before = stats_of(h, 0), after;
	uint8_t txid[WIRE_TXID_BYTES];
	char key[32];
	struct wire_op op;
	uint32_t i;
	int len;

	for (i = 0; i < FLOOD; i++) {
		len = snprintf(key, sizeof key, "flood-%05u", i);
		op = (struct wire_op){ 0, (const uint8_t *)key, (size_t)len,
				       (const uint8_t *)"x", 1 };
		make_txid(txid, 0x10000u + i);
		assert_int_equal(send_prepare(h, h->e, txid, &op, 1), 0);
		if (i % 100 == 99) {
			simc_run_until(&h->c, sim_now(h->c.sim) + 10);
			(void)pending_down(&p);
		}
	}
	wait_votes(h, h->e, FLOOD);
	(void)pending_down(&p);
	print_message("PREPARE flood: %u PREPAREs, %llu yes votes, %llu busy, "
		      "at most %llu intents pending\n", FLOOD,
		      (unsigned long long)h->e->votes_yes,
		      (unsigned long long)h->e->votes_no[WIRE_REFUSE_BUSY],
		      (unsigned long long)p.max_seen);
	assert_true(p.max_seen <= PENDING_MAX);
	assert_true(h->e->votes_yes >= 1);
	assert_true(h->e->votes_yes <= PENDING_MAX);
	assert_int_equal(h->e->votes_yes + h->e->votes_no[WIRE_REFUSE_BUSY],
			 FLOOD);
	assert_false(h->e->closed);
	/* The coordinator never decides: node 0 asks it, then aborts. */
	wait_pending(h, 0, DRAIN_MS, "after a silent coordinator's flood");
	assert_true(h->e->received[WIRE_ASK] >= 1);
	for (i = 0; i < FLOOD; i += 7) {
		len = snprintf(key, sizeof key, "flood-%05u", i);
		assert_nowhere(h, key, (size_t)len);
	}
	after = stats_of(h, 0);
	assert_int_equal(after.remote_applied, before.remote_applied);
	assert_cluster_works(h, "flood");
}

/* A PREPARE of the most ops a write may have, then PREPAREs of two
 * values of nearly 1 MiB each (a frame apiece), more than the node's
 * byte bound in all: the node votes on each, holds at most its bound,
 * and nothing is left after the ABORTs. */
static void test_prepare_with_huge_op_sets_is_bounded(void **state)
{
	struct world *w = *state;
	struct hostile *h = &w->h;
	enum { BIG = 48, BIG_VALUE = RUMOR_VALUE_MAX - 4096 };
	struct pending_wait p = { h, 0, 0 };
	struct rumor_stats before = stats_of(h, 0), after;
	uint8_t txid[WIRE_TXID_BYTES];
	struct wire_op *ops, big[2];
	char (*keys)[8];
	uint8_t *value;
	uint64_t v0;
	uint32_t i;

	ops = calloc(WIRE_STRONG_OPS_MAX, sizeof *ops);
	keys = calloc(WIRE_STRONG_OPS_MAX, sizeof *keys);
	value = malloc(BIG_VALUE);
	assert_non_null(ops);
	assert_non_null(keys);
	assert_non_null(value);
	for (i = 0; i < WIRE_STRONG_OPS_MAX; i++) {
		snprintf(keys[i], sizeof keys[i], "h%05x", i);
		ops[i].key = (const uint8_t *)keys[i];
		ops[i].key_len = 6;
		ops[i].value = (const uint8_t *)"y";
		ops[i].value_len = 1;
	}
	make_txid(txid, 0x20000u);
	assert_int_equal(send_prepare(h, h->e, txid, ops,
				      WIRE_STRONG_OPS_MAX), 0);
	wait_votes(h, h->e, 1);
	assert_int_equal(h->e->votes_yes, 1);
	assert_int_equal(send_txid_only(h->e, WIRE_ABORT, txid), 0);
	wait_pending(h, 0, 5 * SEC, "after the ABORT of 65536 ops");
	for (i = 0; i < WIRE_STRONG_OPS_MAX; i += 4099)
		assert_nowhere(h, keys[i], 6);

	memset(value, 'z', BIG_VALUE);
	v0 = votes(h->e);
	for (i = 0; i < BIG; i++) {
		big[0] = (struct wire_op){ 0, (const uint8_t *)keys[2 * i], 6,
					   value, BIG_VALUE };
		big[1] = (struct wire_op){ 0,
					   (const uint8_t *)keys[2 * i + 1],
					   6, value, BIG_VALUE };
		make_txid(txid, 0x30000u + i);
		assert_int_equal(send_prepare(h, h->e, txid, big, 2), 0);
		simc_run_until(&h->c, sim_now(h->c.sim) + 20);
		(void)pending_down(&p);
	}
	wait_votes(h, h->e, v0 + BIG);
	(void)pending_down(&p);
	print_message("big PREPAREs: %d of 2 x %d bytes, at most %llu "
		      "pending (bound %zu bytes)\n", BIG, BIG_VALUE,
		      (unsigned long long)p.max_seen, PENDING_BYTES_MAX);
	assert_true(p.max_seen * 2u * BIG_VALUE <=
		    PENDING_BYTES_MAX + 2u * BIG_VALUE);
	assert_true(h->e->votes_no[WIRE_REFUSE_BUSY] >= 1);
	for (i = 0; i < BIG; i++) {
		make_txid(txid, 0x30000u + i);
		assert_int_equal(send_txid_only(h->e, WIRE_ABORT, txid), 0);
	}
	wait_pending(h, 0, 5 * SEC, "after the ABORTs of the big PREPAREs");
	for (i = 0; i < 2 * BIG; i++)
		assert_nowhere(h, keys[i], 6);
	after = stats_of(h, 0);
	assert_int_equal(after.remote_applied, before.remote_applied);
	assert_false(h->e->closed);
	free(value);
	free(keys);
	free(ops);
	assert_cluster_works(h, "huge");
}

/* A PREPARE whose ttl is a day, from a coordinator that then goes
 * silent, on a key honest nodes write: node 0 holds it no longer than
 * its own bound (strong timeout and recovery), not the ttl the peer
 * asked for, so a member cannot lock keys for as long as it likes. */
static void test_a_long_ttl_does_not_lock_a_key_for_long(void **state)
{
	struct world *w = *state;
	struct hostile *h = &w->h;
	static const char key[] = "honest-strong-ttl";
	struct wire_op op = { 0, (const uint8_t *)key, sizeof key - 1,
			      (const uint8_t *)"held", 4 };
	uint8_t parts[2 * WIRE_NODE_ID_BYTES];
	uint8_t txid[WIRE_TXID_BYTES];
	struct wire_msg m;

	make_txid(txid, 0x40000u);
	memcpy(parts, h->e->id.public_key, WIRE_NODE_ID_BYTES);
	memcpy(parts + WIRE_NODE_ID_BYTES, h->c.nodes[0].pk,
	       WIRE_NODE_ID_BYTES);
	memset(&m, 0, sizeof m);
	m.type = WIRE_PREPARE;
	m.u.strong.txid = txid;
	m.u.strong.ttl_ms = 86400u * SEC;
	m.u.strong.participants = parts;
	m.u.strong.n_participants = 2;
	m.u.strong.ops = &op;
	m.u.strong.n_ops = 1;
	assert_int_equal(evil_send(h->e, &m), 0);
	wait_votes(h, h->e, 1);
	assert_int_equal(stats_of(h, 0).strong_pending, 1);
	wait_pending(h, 0, DRAIN_MS, "a PREPARE with a ttl of a day");
	assert_nowhere(h, key, sizeof key - 1);
	/* The key is free again: an honest strong write of it commits. */
	assert_cluster_works(h, "ttl");
}

enum bad_prepare {
	BAD_NONE = -1,
	BAD_TXID,            /* a txid of 15 bytes */
	BAD_REPEAT,          /* a participant twice */
	BAD_NO_OPS,          /* an empty op list */
	BAD_DELETED_VALUE,   /* a deleted op with a value */
	BAD_EMPTY_KEY,       /* an op with an empty key */
	BAD_FLAGS,           /* an op with the SKIP flag */
	BAD_OPS_COUNT,       /* 65536 ops announced, one sent */
	BAD_COUNT
};

/* A PREPARE from self with participants self and node0, broken as bad
 * says (BAD_NONE: a valid one), written by hand. */
static void build_prepare(struct wire_buf *b, int bad, const uint8_t *self,
			  const uint8_t *node0)
{
	uint8_t txid[WIRE_TXID_BYTES];

	memset(txid, 0x5a, sizeof txid);
	wire_buf_reset(b);
	assert_int_equal(wire_buf_reserve(b, 512), 0);
	wire_put_array(b, 5);
	wire_put_uint(b, WIRE_PREPARE);
	wire_put_bytes(b, txid, bad == BAD_TXID ? WIRE_TXID_BYTES - 1
						: WIRE_TXID_BYTES);
	wire_put_uint(b, TTL_MS);
	wire_put_array(b, 2);
	wire_put_bytes(b, self, WIRE_NODE_ID_BYTES);
	wire_put_bytes(b, bad == BAD_REPEAT ? self : node0,
		       WIRE_NODE_ID_BYTES);
	if (bad == BAD_NO_OPS) {
		wire_put_array(b, 0);
		return;
	}
	wire_put_array(b, bad == BAD_OPS_COUNT ? WIRE_STRONG_OPS_MAX : 1);
	wire_put_array(b, 3);
	wire_put_uint(b, bad == BAD_DELETED_VALUE ? WIRE_ENTRY_DELETED :
			 bad == BAD_FLAGS ? WIRE_ENTRY_SKIP : 0);
	wire_put_bytes(b, "k", bad == BAD_EMPTY_KEY ? 0 : 1);
	wire_put_bytes(b, "v", 1);
}

static int evil_closed(void *arg)
{
	return ((struct evil *)arg)->closed;
}

/* Malformed PREPAREs, each from a fresh member: the node drops that
 * connection (a bad frame) and nothing else changes: no intent, nothing
 * stored, the other adversary still connected, status answered. */
static void test_malformed_prepares_drop_only_their_sender(void **state)
{
	struct world *w = *state;
	struct hostile *h = &w->h;
	struct rumor_stats before = stats_of(h, 0), after;
	const uint8_t *n0 = h->c.nodes[0].pk;
	struct wire_decoder dec;
	struct wire_msg m;
	struct wire_buf b;
	struct err err;
	struct evil *e;
	int bad;

	wire_buf_init(&b);
	wire_decoder_init(&dec);
	/* The hand-written frame is right when not broken. */
	build_prepare(&b, BAD_NONE, h->e->id.public_key, n0);
	assert_int_equal(wire_decode(&dec, b.data, b.len, &m, &err), 0);
	assert_int_equal(m.type, WIRE_PREPARE);
	for (bad = 0; bad < BAD_COUNT; bad++) {
		e = dial_strong(h, NODES + 1, 100u + (uint64_t)bad);
		build_prepare(&b, bad, e->id.public_key, n0);
		err_clear(&err);
		if (wire_decode(&dec, b.data, b.len, &m, &err) != RUMOR_EPROTO)
			fail_msg("case %d decodes: not malformed", bad);
		err_clear(&err);
		assert_int_equal(io_conn_send(e->conn, b.data, b.len, &err),
				 0);
		if (!simc_run_cond(&h->c, evil_closed, e,
				   sim_now(h->c.sim) + 2 * SEC))
			fail_msg("case %d: node 0 kept the connection of a "
				 "member that sent a malformed PREPARE", bad);
		evil_free(e);
		assert_int_equal(stats_of(h, 0).strong_pending, 0);
		assert_nowhere(h, "k", 1);
		assert_false(h->e->closed);
		(void)refused_total(h, 0);
	}
	after = stats_of(h, 0);
	assert_int_equal(after.remote_applied, before.remote_applied);
	assert_int_equal(after.strong_prepared, before.strong_prepared);
	wire_decoder_free(&dec);
	wire_buf_free(&b);
	assert_cluster_works(h, "malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, world_setup, \
						world_teardown)
		T(test_messages_for_unknown_txids_are_ignored),
		T(test_commit_from_a_non_coordinator_is_ignored),
		T(test_prepare_flood_is_bounded),
		T(test_prepare_with_huge_op_sets_is_bounded),
		T(test_malformed_prepares_drop_only_their_sender),
		T(test_a_long_ttl_does_not_lock_a_key_for_long),
#undef T
	};

	/* RUMOR_TEST_ONLY=PATTERN runs the tests whose names match. */
	if (getenv("RUMOR_TEST_ONLY") != NULL)
		cmocka_set_test_filter(getenv("RUMOR_TEST_ONLY"));
	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
