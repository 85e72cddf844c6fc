/* SPDX-License-Identifier: MIT */
/*
 * Strong writes between whole nodes in one process on one loop (each on
 * its own io, joined over TCP on 127.0.0.1): a strong write is on every
 * node when its callback fires, fails with nothing written when a
 * quorum cannot prepare, works with a smaller quorum, survives racing
 * coordinators without divergence, and a participant left holding an
 * intent by a coordinator that died between the phases resolves it
 * after a restart. Callbacks are counted: exactly once, close included.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "rumor.h"
#include "io/io_uv.h"
#include "node/node.h"
#include "node/node_ctl.h"
#include "tests/lib/testutil.h"

#define N_MAX 4
#define DEADLINE_MS 20000
#define TIMEOUT_MS 300u

struct hook {
	const char *stop_at;   /* the strong step this node "dies" at */
	int stopped;
};

struct sc {
	uv_loop_t loop;
	uv_timer_t ticker;
	struct io *io[N_MAX];
	struct rumor *nodes[N_MAX];
	char *dirs[N_MAX];
	char addrs[N_MAX][64];
	struct hook hooks[N_MAX];
	uint32_t quorum;
	int gossip;            /* open in gossip consistency */
	int n;
};

static void tick(uv_timer_t *t)
{
	(void)t;
}

static void run_once(void *arg)
{
	struct sc *c = arg;

	uv_run(&c->loop, UV_RUN_ONCE);
}

static int step_hook(void *arg, const char *step)
{
	struct hook *h = arg;

	if (h->stop_at == NULL || strcmp(step, h->stop_at) != 0)
		return 0;
	h->stopped = 1;
	return 1;
}

/* Opens node i with node 0 (or, for node 0, node 1 when open) as seed. */
static void open_i(struct sc *c, int i)
{
	struct rumor_options o;
	struct node_env env;
	struct ctl_status st;
	const char *seeds[N_MAX];
	char msg[RUMOR_ERRMSG_MAX];
	struct err err;
	size_t n_seeds = 0;
	int j;

	for (j = 0; j < c->n; j++)
		if (j != i && c->nodes[j] != NULL)
			seeds[n_seeds++] = c->addrs[j];
	err_clear(&err);
	assert_int_equal(io_uv_new(&c->io[i], &c->loop, &err), 0);
	rumor_options_init(&o);
	o.data_dir = c->dirs[i];
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	o.peers = seeds;
	o.n_peers = n_seeds;
	o.interval_min_ms = 20;
	o.interval_max_ms = 200;
	o.catchup_wait_ms = 0;
	o.consistency = c->gossip ? RUMOR_CONSISTENCY_GOSSIP :
		        RUMOR_CONSISTENCY_STRONG;
	o.quorum = c->quorum;
	o.strong_timeout_ms = TIMEOUT_MS;
	env = (struct node_env){.io = c->io[i], .hook_arg = &c->hooks[i],
				.strong_step = step_hook};
	if (node_open(&c->nodes[i], &o, &env, msg, sizeof msg) != 0)
		fail_msg("node_open %d: %s", i, msg);
	node_get_status(c->nodes[i], &st);
	snprintf(c->addrs[i], sizeof c->addrs[i], "%.63s", st.listen);
}

static void on_closed(void *arg)
{
	*(int *)arg = 1;
}

static int flag_set(void *arg)
{
	return **(int **)arg;
}

struct flag_wait {
	int *flag;
	struct sc *c;
};

static int fw_cond(void *arg)
{
	return *((struct flag_wait *)arg)->flag;
}

static void fw_step(void *arg)
{
	run_once(((struct flag_wait *)arg)->c);
}

static void close_i(struct sc *c, int i)
{
	int closed = 0;
	struct flag_wait w = {&closed, c};

	rumor_close(c->nodes[i], on_closed, &closed);
	if (!tu_wait_for(fw_cond, fw_step, &w, DEADLINE_MS))
		fail_msg("node %d did not close", i);
	c->nodes[i] = NULL;
	io_uv_free(c->io[i]);
	c->io[i] = NULL;
}

static void sc_start(struct sc *c, int n, uint32_t quorum, int open_n)
{
	int i;

	memset(c, 0, sizeof *c);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->ticker);
	uv_timer_start(&c->ticker, tick, 5, 5);
	c->n = n;
	c->quorum = quorum;
	for (i = 0; i < n; i++)
		c->dirs[i] = tu_tmpdir("strong");
	for (i = 0; i < open_n; i++)
		open_i(c, i);
}

static void sc_stop(struct sc *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->nodes[i] != NULL)
			close_i(c, i);
	uv_close((uv_handle_t *)&c->ticker, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	for (i = 0; i < c->n; i++) {
		tu_rmrf(c->dirs[i]);
		free(c->dirs[i]);
	}
}

/* Every open node connected to every other open one and ready. */
static int all_ready(void *arg)
{
	struct sc *c = arg;
	struct node_strong_status st;
	int i, open = 0;

	for (i = 0; i < c->n; i++)
		open += c->nodes[i] != NULL;
	for (i = 0; i < c->n; i++) {
		if (c->nodes[i] == NULL)
			continue;
		node_strong_status(c->nodes[i], &st);
		if (!rumor_ready(c->nodes[i]) || (int)st.reachable != open)
			return 0;
	}
	return 1;
}

static void wait_ready(struct sc *c)
{
	if (!tu_wait_for(all_ready, run_once, c, DEADLINE_MS))
		fail_msg("the nodes never became ready");
}

/* ------------------------------------------------------------ results */

/* One strong write's result: its cb count and code, and whether every
 * open node of c held (key, value) when the cb fired. */
struct res {
	struct sc *c;
	const char *key;
	size_t key_len;
	const char *value;     /* NULL: absent expected */
	size_t value_len;
	int calls;
	int result;
	int everywhere;        /* set when the cb fired */
	char msg[RUMOR_ERRMSG_MAX];
};

static int node_holds(struct rumor *n, const char *key, size_t key_len,
		      const char *value, size_t value_len)
{
	void *v = NULL;
	size_t len;
	int rv = rumor_get(n, key, key_len, &v, &len);
	int ok = value == NULL ? rv == RUMOR_ENOTFOUND :
		 rv == 0 && len == value_len && memcmp(v, value, len) == 0;

	rumor_free(v);
	return ok;
}

static void on_done(void *arg, int result, const char *errmsg)
{
	struct res *r = arg;
	int i;

	r->calls++;
	r->result = result;
	snprintf(r->msg, sizeof r->msg, "%s", errmsg != NULL ? errmsg : "");
	r->everywhere = 1;
	if (r->key == NULL)
		return;
	for (i = 0; i < r->c->n; i++)
		if (r->c->nodes[i] != NULL &&
		    !node_holds(r->c->nodes[i], r->key, r->key_len, r->value,
				r->value_len))
			r->everywhere = 0;
}

static int res_done(void *arg)
{
	return ((struct res *)arg)->calls > 0;
}

static void res_step(void *arg)
{
	run_once(((struct res *)arg)->c);
}

static void wait_res(struct res *r)
{
	if (!tu_wait_for(res_done, res_step, r, DEADLINE_MS))
		fail_msg("a strong write never called back");
	/* A few more turns: a second call would show. */
	run_once(r->c);
	run_once(r->c);
	assert_int_equal(r->calls, 1);
}

static struct res put_strong(struct sc *c, int i, const char *key,
			     size_t key_len, const char *value,
			     size_t value_len)
{
	struct res r = {c, key, key_len, value, value_len, 0, 0, 0, ""};
	struct res *heap = malloc(sizeof *heap);

	assert_non_null(heap);
	*heap = r;
	assert_int_equal(rumor_put_strong(c->nodes[i], key, key_len, value,
					  value_len, on_done, heap), 0);
	/* Never before the call returns. */
	assert_int_equal(heap->calls, 0);
	wait_res(heap);
	r = *heap;
	free(heap);
	return r;
}

static uint64_t stat_of(struct rumor *n, int which)
{
	struct node_strong_status st;

	node_strong_status(n, &st);
	switch (which) {
	case 0: return st.committed;
	case 1: return st.aborted;
	case 2: return st.pending;
	default: return st.recovered;
	}
}

/* ------------------------------------------------------------ tests */

static void test_puts_batches_and_deletes_are_everywhere(void **state)
{
	static const char bkey[] = {'b', 0, 1, (char)0xff};
	static const char bval[] = {0, 'x', 0, (char)0x80, 0};
	struct rumor_op ops[3] = {
		{"a1", 2, "one", 3, 0},
		{bkey, sizeof bkey, bval, sizeof bval, 0},
		{"a2", 2, NULL, 0, 1},
	};
	struct sc c;
	struct res r, *h;
	int i;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	/* Gossip writes are refused in strong consistency. */
	assert_int_equal(rumor_put(c.nodes[0], "g", 1, "v", 1), RUMOR_EREFUSED);

	r = put_strong(&c, 0, "k", 1, "v1", 2);
	assert_int_equal(r.result, 0);
	assert_true(r.everywhere);
	r = put_strong(&c, 1, "a2", 2, "x", 1);
	assert_int_equal(r.result, 0);

	h = calloc(1, sizeof *h);
	h->c = &c;
	h->key = bkey;
	h->key_len = sizeof bkey;
	h->value = bval;
	h->value_len = sizeof bval;
	assert_int_equal(rumor_write_strong(c.nodes[2], ops, 3, on_done, h), 0);
	wait_res(h);
	assert_int_equal(h->result, 0);
	assert_true(h->everywhere);
	for (i = 0; i < 3; i++) {
		assert_true(node_holds(c.nodes[i], "a1", 2, "one", 3));
		assert_true(node_holds(c.nodes[i], "a2", 2, NULL, 0));
	}
	free(h);

	h = calloc(1, sizeof *h);
	h->c = &c;
	h->key = "k";
	h->key_len = 1;
	assert_int_equal(rumor_del_strong(c.nodes[1], "k", 1, on_done, h), 0);
	wait_res(h);
	assert_int_equal(h->result, 0);
	assert_true(h->everywhere);
	free(h);
	assert_int_equal(stat_of(c.nodes[0], 0), 1);
	assert_int_equal(stat_of(c.nodes[1], 0), 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(stat_of(c.nodes[i], 2), 0);
	sc_stop(&c);
}

/* A member down: with quorum = all the write fails before anything is
 * sent (not ready); nothing is written anywhere. */
static void test_a_peer_down_fails_and_writes_nothing(void **state)
{
	struct sc c;
	struct res r;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	close_i(&c, 2);
	r = put_strong(&c, 0, "k", 1, "v", 1);
	assert_true(r.result == RUMOR_ENOTREADY || r.result == RUMOR_EABORTED);
	assert_false(rumor_ready(c.nodes[0]));
	assert_true(node_holds(c.nodes[0], "k", 1, NULL, 0));
	assert_true(node_holds(c.nodes[1], "k", 1, NULL, 0));
	assert_int_equal(stat_of(c.nodes[0], 1), 1);
	assert_int_equal(stat_of(c.nodes[0], 2), 0);
	assert_int_equal(stat_of(c.nodes[1], 2), 0);
	/* It comes back: ready again, and the write goes through. */
	open_i(&c, 2);
	wait_ready(&c);
	r = put_strong(&c, 0, "k", 1, "v", 1);
	assert_int_equal(r.result, 0);
	assert_true(r.everywhere);
	sc_stop(&c);
}

static void test_a_node_that_joins_later_then_writes(void **state)
{
	struct sc c;
	struct res r;

	(void)state;
	sc_start(&c, 3, 0, 2);
	wait_ready(&c);
	r = put_strong(&c, 1, "early", 5, "1", 1);
	assert_int_equal(r.result, 0);
	open_i(&c, 2);
	wait_ready(&c);
	r = put_strong(&c, 2, "late", 4, "2", 1);
	assert_int_equal(r.result, 0);
	assert_true(r.everywhere);
	sc_stop(&c);
}

/* Quorum 2 of 3: one member down, writes commit; it gets them by
 * gossip when it returns. */
static void test_a_smaller_quorum_commits_without_one(void **state)
{
	struct sc c;
	struct res r;
	struct flag_wait w;
	int ok = 0;

	(void)state;
	sc_start(&c, 3, 2, 3);
	wait_ready(&c);
	close_i(&c, 2);
	r = put_strong(&c, 0, "q", 1, "v", 1);
	assert_int_equal(r.result, 0);
	assert_true(r.everywhere);   /* every open node */
	open_i(&c, 2);
	w = (struct flag_wait){&ok, &c};
	while (!ok) {
		if (!tu_wait_for(fw_cond, fw_step, &w, 50))
			ok = node_holds(c.nodes[2], "q", 1, "v", 1);
	}
	sc_stop(&c);
	(void)flag_set;
}

static int holds_t(void *arg)
{
	struct sc *c = arg;

	return node_holds(c->nodes[2], "t", 1, "v", 1);
}

/* Committed on the coordinator, but fewer than a quorum confirm within
 * the bound: quorum 2 of 3, node 2 down, node 1 prepares and applies the
 * COMMIT but never answers it (its strong side stops at part-committed).
 * The cb says RUMOR_ETIMEDOUT, exactly once; the value is on nodes 0
 * and 1, and node 2 gets it by gossip when it returns. */
static void test_a_commit_not_confirmed_times_out(void **state)
{
	struct sc c;
	struct res *r = calloc(1, sizeof *r);

	(void)state;
	assert_non_null(r);
	sc_start(&c, 3, 2, 3);
	wait_ready(&c);
	close_i(&c, 2);
	c.hooks[1].stop_at = "part-committed";
	r->c = &c;
	assert_int_equal(rumor_put_strong(c.nodes[0], "t", 1, "v", 1, on_done,
					  r), 0);
	assert_int_equal(r->calls, 0);
	wait_res(r);
	assert_int_equal(r->result, RUMOR_ETIMEDOUT);
	assert_non_null(strstr(r->msg, "confirmed"));
	assert_true(c.hooks[1].stopped);
	assert_true(node_holds(c.nodes[0], "t", 1, "v", 1));
	assert_true(node_holds(c.nodes[1], "t", 1, "v", 1));
	assert_int_equal(stat_of(c.nodes[0], 0), 1);
	assert_int_equal(stat_of(c.nodes[0], 2), 0);
	open_i(&c, 2);
	if (!tu_wait_for(holds_t, run_once, &c, DEADLINE_MS))
		fail_msg("node 2 never got the timed-out write by gossip");
	/* Still the one cb, long after the bound. */
	assert_int_equal(r->calls, 1);
	free(r);
	sc_stop(&c);
}

/* Two coordinators race on one key, many times: the loser of the lock
 * race backs off and retries, so one or both commit (one after the
 * other) in most rounds; every node ends with the same value, one whose
 * write returned 0 (the previous one when neither did): a write that
 * failed is applied nowhere. */
static void test_racing_coordinators_never_diverge(void **state)
{
	struct sc c;
	struct res *a, *b;
	char va[16], vb[16], prev[16] = "";
	int round, wins = 0, both = 0, won = 0, i;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	for (round = 0; round < 20; round++) {
		a = calloc(1, sizeof *a);
		b = calloc(1, sizeof *b);
		a->c = b->c = &c;
		snprintf(va, sizeof va, "a%d", round);
		snprintf(vb, sizeof vb, "b%d", round);
		assert_int_equal(rumor_put_strong(c.nodes[0], "race", 4, va,
						  strlen(va), on_done, a), 0);
		assert_int_equal(rumor_put_strong(c.nodes[1], "race", 4, vb,
						  strlen(vb), on_done, b), 0);
		wait_res(a);
		wait_res(b);
		wins += (a->result == 0) + (b->result == 0);
		both += a->result == 0 && b->result == 0;
		won += a->result == 0 || b->result == 0;
		/* Failed writes say why: aborted or locked, nothing else. */
		for (i = 0; i < 2; i++) {
			int rv = (i == 0 ? a : b)->result;

			if (rv != 0 && rv != RUMOR_EABORTED && rv != RUMOR_ELOCKED)
				fail_msg("round %d: a racing write ended %d: %s",
					 round, rv, (i == 0 ? a : b)->msg);
		}
		if (a->result == 0 && b->result == 0) {
			/* Serialized: the one that committed last holds. */
			const char *v = node_holds(c.nodes[0], "race", 4, va,
						   strlen(va)) ? va : vb;

			snprintf(prev, sizeof prev, "%s", v);
		} else if (a->result == 0 || b->result == 0) {
			snprintf(prev, sizeof prev, "%s",
				 a->result == 0 ? va : vb);
		}
		for (i = 0; i < 3; i++)
			assert_true(node_holds(c.nodes[i], "race", 4,
					       prev[0] != '\0' ? prev : NULL,
					       strlen(prev)));
		free(a);
		free(b);
		/* Let the aborts reach everyone before the next round. */
		wait_ready(&c);
		while (stat_of(c.nodes[0], 2) + stat_of(c.nodes[1], 2) +
		       stat_of(c.nodes[2], 2) > 0)
			run_once(&c);
	}
	print_message("racing: %d of 20 rounds had a winner, %d both (%d writes ok)\n",
		      won, both, wins);
	/* Before the retries, both aborted in nearly every round. */
	assert_true(won >= 15);
	sc_stop(&c);
}

struct stop_wait {
	struct sc *c;
	int i;
};

static int stopped(void *arg)
{
	struct stop_wait *w = arg;

	return w->c->hooks[w->i].stopped;
}

static void stop_step(void *arg)
{
	run_once(((struct stop_wait *)arg)->c);
}

/* The coordinator dies after the votes, before committing: the
 * participants hold intents (reads of the key: RUMOR_ELOCKED); one
 * restarts, and both resolve by asking: aborted, nothing written. */
static void test_participant_restart_aborts_an_uncommitted_intent(void **state)
{
	struct sc c;
	struct res *r = calloc(1, sizeof *r);
	struct stop_wait w;
	void *v;
	size_t len;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	c.hooks[0].stop_at = "coord-voted";
	r->c = &c;
	assert_int_equal(rumor_put_strong(c.nodes[0], "x", 1, "v", 1, on_done,
					  r), 0);
	w = (struct stop_wait){&c, 0};
	if (!tu_wait_for(stopped, stop_step, &w, DEADLINE_MS))
		fail_msg("the coordinator never reached coord-voted");
	assert_int_equal(stat_of(c.nodes[1], 2), 1);
	assert_int_equal(rumor_get(c.nodes[1], "x", 1, &v, &len),
			 RUMOR_ELOCKED);
	close_i(&c, 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(r->result, RUMOR_ECLOSED);
	close_i(&c, 1);
	open_i(&c, 1);
	assert_int_equal(stat_of(c.nodes[1], 2), 1);
	while (stat_of(c.nodes[1], 2) + stat_of(c.nodes[2], 2) > 0)
		run_once(&c);
	assert_true(node_holds(c.nodes[1], "x", 1, NULL, 0));
	assert_true(node_holds(c.nodes[2], "x", 1, NULL, 0));
	assert_true(stat_of(c.nodes[1], 3) >= 1);
	free(r);
	sc_stop(&c);
}

/* The coordinator dies after sending COMMIT to one participant: the
 * other asks and commits too. */
static void test_an_intent_commits_when_another_participant_committed(
	void **state)
{
	struct sc c;
	struct res *r = calloc(1, sizeof *r);
	struct stop_wait w;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	c.hooks[0].stop_at = "coord-commit-sent-one";
	r->c = &c;
	assert_int_equal(rumor_put_strong(c.nodes[0], "y", 1, "w", 1, on_done,
					  r), 0);
	w = (struct stop_wait){&c, 0};
	if (!tu_wait_for(stopped, stop_step, &w, DEADLINE_MS))
		fail_msg("the coordinator never sent its first COMMIT");
	close_i(&c, 0);
	assert_int_equal(r->calls, 1);
	while (stat_of(c.nodes[1], 2) + stat_of(c.nodes[2], 2) > 0)
		run_once(&c);
	assert_true(node_holds(c.nodes[1], "y", 1, "w", 1));
	assert_true(node_holds(c.nodes[2], "y", 1, "w", 1));
	assert_true(stat_of(c.nodes[1], 3) + stat_of(c.nodes[2], 3) >= 1);
	free(r);
	sc_stop(&c);
}

/* A participant dies holding its intent (before its vote): the write
 * times out and aborts; the participant restarts and resolves it as
 * aborted. */
static void test_a_participant_dead_before_voting_aborts(void **state)
{
	struct sc c;
	struct res r;

	(void)state;
	sc_start(&c, 3, 0, 3);
	wait_ready(&c);
	c.hooks[2].stop_at = "part-prepared";
	r = put_strong(&c, 0, "z", 1, "v", 1);
	assert_int_equal(r.result, RUMOR_EABORTED);
	assert_true(c.hooks[2].stopped);
	close_i(&c, 2);
	c.hooks[2].stop_at = NULL;
	c.hooks[2].stopped = 0;
	open_i(&c, 2);
	while (stat_of(c.nodes[2], 2) > 0)
		run_once(&c);
	assert_true(node_holds(c.nodes[0], "z", 1, NULL, 0));
	assert_true(node_holds(c.nodes[1], "z", 1, NULL, 0));
	assert_true(node_holds(c.nodes[2], "z", 1, NULL, 0));
	sc_stop(&c);
}

/* A gossip-mode node takes strong writes per call; a gossip write to a
 * key a strong write holds fails with RUMOR_ELOCKED; closing calls
 * every pending callback once. */
static void test_locks_and_callbacks_at_close(void **state)
{
	struct sc c;
	struct res *r = calloc(1, sizeof *r), *r2 = calloc(1, sizeof *r2);
	struct stop_wait w;

	(void)state;
	memset(&c, 0, sizeof c);
	sc_start(&c, 2, 0, 0);
	c.gossip = 1;
	open_i(&c, 0);
	open_i(&c, 1);
	wait_ready(&c);
	c.hooks[0].stop_at = "coord-voted";
	r->c = r2->c = &c;
	assert_int_equal(rumor_put_strong(c.nodes[0], "l", 1, "v", 1, on_done,
					  r), 0);
	w = (struct stop_wait){&c, 0};
	if (!tu_wait_for(stopped, stop_step, &w, DEADLINE_MS))
		fail_msg("the coordinator never reached coord-voted");
	assert_int_equal(rumor_put(c.nodes[1], "l", 1, "g", 1), RUMOR_ELOCKED);
	assert_int_equal(rumor_put(c.nodes[0], "l", 1, "g", 1), RUMOR_ELOCKED);
	assert_int_equal(rumor_put(c.nodes[1], "other", 5, "g", 1), 0);
	/* A write started right before the close. */
	assert_int_equal(rumor_put_strong(c.nodes[1], "m", 1, "v", 1, on_done,
					  r2), 0);
	close_i(&c, 1);
	assert_int_equal(r2->calls, 1);
	assert_int_equal(r2->result, RUMOR_ECLOSED);
	close_i(&c, 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(r->result, RUMOR_ECLOSED);
	free(r);
	free(r2);
	sc_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_puts_batches_and_deletes_are_everywhere),
		cmocka_unit_test(test_a_peer_down_fails_and_writes_nothing),
		cmocka_unit_test(test_a_node_that_joins_later_then_writes),
		cmocka_unit_test(test_a_smaller_quorum_commits_without_one),
		cmocka_unit_test(test_a_commit_not_confirmed_times_out),
		cmocka_unit_test(test_racing_coordinators_never_diverge),
		cmocka_unit_test(test_participant_restart_aborts_an_uncommitted_intent),
		cmocka_unit_test(test_an_intent_commits_when_another_participant_committed),
		cmocka_unit_test(test_a_participant_dead_before_voting_aborts),
		cmocka_unit_test(test_locks_and_callbacks_at_close),
	};

	/* node_open (unlike rumor_open) leaves SIGPIPE to the program. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
