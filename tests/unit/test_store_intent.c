/* SPDX-License-Identifier: MIT */
/* Unit tests of strong-write intents and outcomes (src/store/intent.c):
 * an intent stored comes back whole (and after a reopen); an abort drops
 * it and records the outcome, a drop records none; a commit writes the
 * versions, drops the intent and records the outcome in one WriteBatch,
 * all or nothing under a refused or crashed commit; the outcome list
 * keeps the newest, the oldest dropped first; store_check accepts and
 * checks the keyspaces; intents written as a group are one batch, all
 * or none. */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

static void txid_of(uint8_t out[STORE_TXID_BYTES], unsigned n)
{
	memset(out, 0, STORE_TXID_BYTES);
	out[0] = 0x7a;
	out[14] = (uint8_t)(n >> 8);
	out[15] = (uint8_t)n;
}

/* An intent of txid n with a put of k1 = "v\0bin" (binary) and a delete
 * of k2, participants a and b, coordinated by b. */
static struct store_intent_op g_ops[2];
static uint8_t g_parts[2 * STORE_ORIGIN_BYTES];

static struct store_intent intent_of(struct fx *f, unsigned n)
{
	struct store_intent in;

	memset(&in, 0, sizeof in);
	txid_of(in.txid, n);
	memcpy(in.coordinator, f->b, STORE_ORIGIN_BYTES);
	in.deadline_ms = 123456;
	memcpy(g_parts, f->a, STORE_ORIGIN_BYTES);
	memcpy(g_parts + STORE_ORIGIN_BYTES, f->b, STORE_ORIGIN_BYTES);
	in.participants = g_parts;
	in.n_participants = 2;
	g_ops[0] = (struct store_intent_op){0, 0, "k1", 2, "v\0bin", 5};
	g_ops[1] = (struct store_intent_op){3, 1, "k2", 2, NULL, 0};
	in.ops = g_ops;
	in.n_ops = 2;
	return in;
}

struct seen {
	int n;
	struct store_intent first;
	struct store_intent_op ops[2];
	char k0[8], v0[8];
};

static int collect_cb(void *arg, const struct store_intent *in)
{
	struct seen *s = arg;

	if (s->n++ == 0) {
		s->first = *in;
		s->first.participants = NULL;
		memcpy(s->ops, in->ops, sizeof s->ops);
		memcpy(s->k0, in->ops[0].key, in->ops[0].key_len);
		memcpy(s->v0, in->ops[0].value, in->ops[0].value_len);
		assert_int_equal(in->n_participants, 2);
		assert_memory_equal(in->participants + STORE_ORIGIN_BYTES,
				    g_parts + STORE_ORIGIN_BYTES,
				    STORE_ORIGIN_BYTES);
	}
	return 0;
}

static void expect_intent_back(struct fx *f, unsigned n)
{
	struct seen s;
	uint8_t txid[STORE_TXID_BYTES];

	memset(&s, 0, sizeof s);
	txid_of(txid, n);
	assert_int_equal(store_intents_scan(f->s, collect_cb, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.first.txid, txid, STORE_TXID_BYTES);
	assert_memory_equal(s.first.coordinator, f->b, STORE_ORIGIN_BYTES);
	assert_int_equal(s.first.deadline_ms, 123456);
	assert_int_equal(s.first.n_ops, 2);
	assert_int_equal(s.ops[0].index, 0);
	assert_int_equal(s.ops[0].value_len, 5);
	assert_memory_equal(s.v0, "v\0bin", 5);
	assert_memory_equal(s.k0, "k1", 2);
	assert_int_equal(s.ops[1].index, 3);
	assert_true(s.ops[1].del);
	assert_int_equal(s.ops[1].key_len, 2);
}

static void test_intent_comes_back_after_reopen(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 1);
	struct err e = {0};

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	assert_int_equal(store_intents_count(f->s), 1);
	expect_intent_back(f, 1);
	expect_check_ok(f->s);
	/* The same txid again is refused, nothing changes. */
	assert_int_equal(store_intent_put(f->s, &in, &e), RUMOR_EINVAL);
	fx_reopen(f);
	assert_int_equal(store_intents_count(f->s), 1);
	expect_intent_back(f, 1);
	expect_check_ok(f->s);
	/* An intent is not data: no key is readable. */
	{
		void *v;
		size_t vl;

		assert_int_equal(store_get(f->s, "k1", 2, &v, &vl, NULL),
				 RUMOR_ENOTFOUND);
	}
}

/* Intents written as a group (the node's group sync: one synced batch
 * for the intents of one loop turn): all come back, in one commit; a
 * group with a txid twice, or one already known, or one bad op writes
 * nothing at all. */
static void test_group_put_is_one_batch_all_or_none(void **state)
{
	struct fx *f = *state;
	struct store_intent ins[3], bad[2];
	struct seen s;
	struct err e = {0};
	int commits;

	ins[0] = intent_of(f, 21);
	ins[1] = intent_of(f, 22);
	ins[2] = intent_of(f, 23);
	commits = f->commits;
	assert_int_equal(store_intents_put(f->s, ins, 3, NULL), 0);
	assert_int_equal(f->commits, commits + 1);
	assert_int_equal(store_intents_count(f->s), 3);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_intents_scan(f->s, collect_cb, &s, NULL), 0);
	assert_int_equal(s.n, 3);
	/* a known txid in the group: nothing of it written */
	bad[0] = intent_of(f, 24);
	bad[1] = intent_of(f, 22);
	assert_int_equal(store_intents_put(f->s, bad, 2, &e), RUMOR_EINVAL);
	/* the same txid twice in one group */
	bad[1] = intent_of(f, 24);
	assert_int_equal(store_intents_put(f->s, bad, 2, &e), RUMOR_EINVAL);
	assert_non_null(strstr(e.msg, "twice"));
	fx_reopen(f);
	assert_int_equal(store_intents_count(f->s), 3);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_intents_scan(f->s, collect_cb, &s, NULL), 0);
	assert_int_equal(s.n, 3);
	expect_check_ok(f->s);
	/* an abort of one of them ends that one only */
	assert_int_equal(store_intent_abort(f->s, ins[1].txid, NULL), 0);
	assert_int_equal(store_intents_count(f->s), 2);
	expect_check_ok(f->s);
}

static void test_abort_drops_and_records(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 2);
	struct store_tx_outcome oc;
	struct err e = {0};

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	assert_int_equal(store_intent_abort(f->s, in.txid, NULL), 0);
	assert_int_equal(store_intents_count(f->s), 0);
	assert_int_equal(store_outcome_get(f->s, in.txid, &oc, NULL), 0);
	assert_int_equal(oc.state, STORE_TX_ABORTED);
	assert_null(oc.clocks);
	/* Ended: it cannot be prepared again. */
	assert_int_equal(store_intent_put(f->s, &in, &e), RUMOR_EINVAL);
	/* A second abort is a no-op. */
	assert_int_equal(store_intent_abort(f->s, in.txid, NULL), 0);
	assert_int_equal(store_outcomes_count(f->s), 1);
	fx_reopen(f);
	assert_int_equal(store_outcome_get(f->s, in.txid, &oc, NULL), 0);
	assert_int_equal(oc.state, STORE_TX_ABORTED);
	expect_check_ok(f->s);
}

/* A participant that gave up waiting drops its intent without an
 * outcome: asked later, it must not claim "aborted". */
static void test_drop_records_no_outcome(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 9);
	struct store_tx_outcome oc;

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	assert_int_equal(store_intent_drop(f->s, in.txid, NULL), 0);
	assert_int_equal(store_intents_count(f->s), 0);
	assert_int_equal(store_outcomes_count(f->s), 0);
	assert_int_equal(store_outcome_get(f->s, in.txid, &oc, NULL),
			 RUMOR_ENOTFOUND);
	/* Nothing left to drop: a no-op. */
	assert_int_equal(store_intent_drop(f->s, in.txid, NULL), 0);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_intents_count(f->s), 0);
	assert_int_equal(store_outcome_get(f->s, in.txid, &oc, NULL),
			 RUMOR_ENOTFOUND);
	expect_check_ok(f->s);
}

static void test_local_commit_is_one_batch(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 3);
	struct store_op ops[2] = {op_put("k1", "new"), op_del("k2")};
	uint64_t cmin[2] = {40, 0}, clocks[2], first, wall;
	struct store_tx_outcome oc;
	struct store_record *rec;
	int commits;

	memcpy(in.coordinator, f->a, STORE_ORIGIN_BYTES);
	put(f, "k2", "old");
	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	commits = f->commits;
	assert_int_equal(store_intent_commit_local(f->s, in.txid, ops, 2, cmin,
						   clocks, &first, &wall, NULL),
			 0);
	assert_int_equal(f->commits, commits + 1);
	assert_int_equal(clocks[0], 40);
	assert_int_equal(clocks[1], 2);     /* above the stored clock 1 */
	rec = version_of(f->s, "k1");
	assert_int_equal(rec->v.clock, 40);
	assert_int_equal(rec->v.seq, first);
	assert_memory_equal(rec->v.origin, f->a, STORE_ORIGIN_BYTES);
	store_record_free(rec);
	rec = version_of(f->s, "k2");
	assert_true(rec->v.deleted);
	assert_int_equal(rec->v.seq, first + 1);
	store_record_free(rec);
	assert_int_equal(store_intents_count(f->s), 0);
	assert_int_equal(store_outcome_get(f->s, in.txid, &oc, NULL), 0);
	assert_int_equal(oc.state, STORE_TX_COMMITTED);
	assert_int_equal(oc.first_seq, first);
	assert_int_equal(oc.wall_ms, wall);
	assert_int_equal(oc.n_clocks, 2);
	assert_int_equal(oc.clocks[0], 40);
	assert_int_equal(oc.clocks[1], 2);
	free((void *)oc.clocks);
	expect_check_ok(f->s);
	fx_reopen(f);
	expect_check_ok(f->s);
}

static void test_remote_commit_is_one_batch(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 4);
	struct rumor_version vs[2] = {ver("k1", "x", 7, f->b, 100, 5),
				      ver("k2", NULL, 9, f->b, 103, 5)};
	uint64_t clocks[4] = {7, 0, 0, 9};
	struct store_tx_outcome oc = {STORE_TX_COMMITTED, 100, 5, clocks, 4};
	struct store_tx_outcome got;
	int commits;

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	commits = f->commits;
	assert_int_equal(store_intent_commit_remote(f->s, in.txid, vs, 2, &oc,
						    NULL, NULL), 0);
	assert_int_equal(f->commits, commits + 1);
	want_value(f->s, "k1", "x");
	assert_int_equal(store_intents_count(f->s), 0);
	assert_int_equal(store_outcome_get(f->s, in.txid, &got, NULL), 0);
	assert_int_equal(got.first_seq, 100);
	assert_int_equal(got.n_clocks, 4);
	assert_int_equal(got.clocks[3], 9);
	free((void *)got.clocks);
	/* A commit whose versions are all held already still ends the
	 * intent (the batch is written with nothing applied). */
	in = intent_of(f, 5);
	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	assert_int_equal(store_intent_commit_remote(f->s, in.txid, vs, 2, &oc,
						    NULL, NULL), 0);
	assert_int_equal(store_intents_count(f->s), 0);
	expect_check_ok(f->s);
}

/* A refused commit (the before_commit hook: as a failed write) leaves
 * the intent and no version. */
static void test_refused_commit_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 6);
	struct rumor_version v = ver("k1", "x", 7, f->b, 100, 5);
	uint64_t clocks[4] = {7, 0, 0, 9};
	struct store_tx_outcome oc = {STORE_TX_COMMITTED, 100, 5, clocks, 4};
	struct store_op op = op_put("k1", "y");
	struct store_tx_outcome got;
	void *val;
	size_t vl;

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	f->fail_at = f->commits + 1;
	assert_int_equal(store_intent_commit_remote(f->s, in.txid, &v, 1, &oc,
						    NULL, NULL), RUMOR_EIO);
	f->fail_at = f->commits + 1;
	assert_int_equal(store_intent_commit_local(f->s, in.txid, &op, 1, NULL,
						   NULL, NULL, NULL, NULL),
			 RUMOR_EIO);
	f->fail_at = f->commits + 1;
	assert_int_equal(store_intent_abort(f->s, in.txid, NULL), RUMOR_EIO);
	f->fail_at = 0;
	assert_int_equal(store_get(f->s, "k1", 2, &val, &vl, NULL),
			 RUMOR_ENOTFOUND);
	assert_int_equal(store_intents_count(f->s), 1);
	assert_int_equal(store_outcome_get(f->s, in.txid, &got, NULL),
			 RUMOR_ENOTFOUND);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_intents_count(f->s), 1);
	expect_check_ok(f->s);
}

/* A process that dies at the strong commit's WriteBatch leaves the
 * intent whole and no version: the restarted node resolves it. */
static void test_crash_at_commit_keeps_the_intent(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 7);
	struct store_op op = op_put("k1", "y");
	int status;
	pid_t pid;
	void *val;
	size_t vl;

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	store_close(f->s);
	f->s = NULL;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		f->commits = 0;
		f->exit_at = 1;
		f->exit_what = "strong commit";
		if (fx_open_with(f, f->r, NULL) != 0)
			_exit(2);
		(void)store_intent_commit_local(f->s, in.txid, &op, 1, NULL,
						NULL, NULL, NULL, NULL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fx_open(f);
	expect_check_ok(f->s);
	assert_int_equal(store_intents_count(f->s), 1);
	assert_int_equal(store_get(f->s, "k1", 2, &val, &vl, NULL),
			 RUMOR_ENOTFOUND);
	assert_int_equal(store_local_seq(f->s), 0);
}

static void test_outcomes_are_bounded_oldest_first(void **state)
{
	struct fx *f = *state;
	struct store_tx_outcome oc;
	uint8_t txid[STORE_TXID_BYTES];
	unsigned i;

	f->outcomes_max = 8;
	fx_reopen(f);
	for (i = 100; i < 120; i++) {
		txid_of(txid, i);
		assert_int_equal(store_intent_abort(f->s, txid, NULL), 0);
		assert_true(store_outcomes_count(f->s) <= 8);
	}
	assert_int_equal(store_outcomes_count(f->s), 8);
	expect_check_ok(f->s);
	txid_of(txid, 111);
	assert_int_equal(store_outcome_get(f->s, txid, &oc, NULL),
			 RUMOR_ENOTFOUND);
	txid_of(txid, 112);
	assert_int_equal(store_outcome_get(f->s, txid, &oc, NULL), 0);
	fx_reopen(f);
	assert_int_equal(store_outcomes_count(f->s), 8);
	txid_of(txid, 119);
	assert_int_equal(store_outcome_get(f->s, txid, &oc, NULL), 0);
	txid_of(txid, 100);
	assert_int_equal(store_outcome_get(f->s, txid, &oc, NULL),
			 RUMOR_ENOTFOUND);
	expect_check_ok(f->s);
	/* Numbering goes on after the reopen. */
	txid_of(txid, 200);
	assert_int_equal(store_intent_abort(f->s, txid, NULL), 0);
	expect_check_ok(f->s);
}

static void expect_check_fails(struct store *s, const char *why)
{
	struct err e = {0};

	assert_int_equal(store_check(s, &e), RUMOR_ECORRUPT);
	if (strstr(e.msg, why) == NULL)
		fail_msg("store_check said \"%s\", not \"%s\"", e.msg, why);
}

static void test_check_reads_the_keyspaces(void **state)
{
	struct fx *f = *state;
	struct store_intent in = intent_of(f, 9);
	uint8_t txid[STORE_TXID_BYTES];
	char ik[1 + STORE_TXID_BYTES], ok[9];
	struct err e = {0};

	assert_int_equal(store_intent_put(f->s, &in, NULL), 0);
	txid_of(txid, 10);
	assert_int_equal(store_intent_abort(f->s, txid, NULL), 0);
	expect_check_ok(f->s);
	/* An unreadable intent. */
	ik[0] = 'i';
	memset(ik + 1, 0x55, STORE_TXID_BYTES);
	assert_int_equal(store_debug_raw_put(f->s, ik, sizeof ik, "xx", 2,
					     NULL), 0);
	expect_check_fails(f->s, "unreadable intent");
	assert_int_equal(store_debug_raw_del(f->s, ik, sizeof ik, NULL), 0);
	expect_check_ok(f->s);
	/* An outcome the memory does not know. */
	memset(ok, 0, sizeof ok);
	ok[0] = 'o';
	ok[8] = 99;
	{
		uint8_t v[1 + STORE_TXID_BYTES + 1 + 8 + 8 + 4];

		memset(v, 0, sizeof v);
		v[0] = 1;
		v[1 + STORE_TXID_BYTES] = STORE_TX_ABORTED;
		assert_int_equal(store_debug_raw_put(f->s, ok, sizeof ok, v,
						     sizeof v, NULL), 0);
	}
	expect_check_fails(f->s, "outcome");
	store_close(f->s);
	f->s = NULL;
	fx_open(f);        /* the planted outcome is readable: it loads */
	expect_check_ok(f->s);
	assert_int_equal(store_debug_raw_put(f->s, ik, sizeof ik, "xx", 2,
					     NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "intent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_intent_comes_back_after_reopen),
		T(test_group_put_is_one_batch_all_or_none),
		T(test_abort_drops_and_records),
		T(test_drop_records_no_outcome),
		T(test_local_commit_is_one_batch),
		T(test_remote_commit_is_one_batch),
		T(test_refused_commit_changes_nothing),
		T(test_crash_at_commit_keeps_the_intent),
		T(test_outcomes_are_bounded_oldest_first),
		T(test_check_reads_the_keyspaces),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
