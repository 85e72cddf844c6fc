/* SPDX-License-Identifier: MIT */
/*
 * test_tail: change streams of a node (rumor_position, rumor_changes,
 * rumor_tail_*) on a real libuv loop: history then live, resumed from a
 * position after the stream closed and after the node reopened (nothing
 * missed, nothing twice), paused and resumed under 10,000 writes, a
 * position below the floor, prefixes and binary keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <cmocka.h>

#include "node/node.h"
#include "tests/lib/testutil.h"

#define DEADLINE_MS 20000
#define KEYS_MAX 20000

struct seen {
	uint64_t pos;
	char key[24];
	int deleted;
	char value0;            /* first byte of the value, or 0 */
};

struct fx {
	uv_loop_t loop;
	char *dir;
	struct rumor *node;
	int closed;
	/* What the stream gave. */
	struct seen *got;
	size_t n_got;
	struct rumor_tail *tail;
	size_t pause_every;     /* the callback pauses every this many */
	int close_in_cb;        /* the callback closes its stream at once */
};

static void step(void *arg)
{
	struct fx *f = arg;

	uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void open_node(struct fx *f)
{
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];

	rumor_options_init(&o);
	o.data_dir = f->dir;
	o.loop = &f->loop;
	o.catchup_wait_ms = 0;
	o.no_multicast = 1;
	if (rumor_open(&f->node, &o, msg, sizeof(msg)) != 0)
		fail_msg("rumor_open: %s", msg);
}

static void on_closed(void *arg)
{
	*(int *)arg = 1;
}

static int is_closed(void *arg)
{
	return ((struct fx *)arg)->closed;
}

static void close_node(struct fx *f)
{
	f->closed = 0;
	rumor_close(f->node, on_closed, &f->closed);
	assert_true(tu_wait_for(is_closed, step, f, DEADLINE_MS));
	f->node = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->dir = tu_tmpdir("tail");
	f->got = calloc(KEYS_MAX * 2, sizeof *f->got);
	assert_non_null(f->got);
	open_node(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rumor_tail_close(f->tail);
	if (f->node != NULL)
		close_node(f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->got);
	free(f);
	return 0;
}

static void on_change(void *arg, const struct rumor_change *c)
{
	struct fx *f = arg;
	struct seen *s;
	size_t n;

	assert_true(f->n_got < KEYS_MAX * 2);
	s = &f->got[f->n_got++];
	s->pos = c->pos;
	n = c->v.key_len < sizeof s->key - 1 ? c->v.key_len : sizeof s->key - 1;
	memcpy(s->key, c->v.key, n);
	s->key[n] = '\0';
	s->deleted = c->v.deleted;
	s->value0 = c->v.deleted || c->v.value_len == 0 ? 0 :
		    ((const char *)c->v.value)[0];
	if (f->tail != NULL)
		assert_int_equal(rumor_tail_position(f->tail), c->pos);
	if (f->pause_every != 0 && f->n_got % f->pause_every == 0)
		rumor_tail_pause(f->tail);
	if (f->close_in_cb) {
		rumor_tail_close(f->tail);
		f->tail = NULL;
	}
}

/* Writes keys "<stem>NNNNN" first..first+n-1, value v, 100 a batch. */
static void write_keys(struct fx *f, const char *stem, int first, int n,
		       const char *v)
{
	struct rumor_op ops[100];
	char keys[100][24];
	int i, k;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < 100 && i + k < n; k++) {
			snprintf(keys[k], sizeof keys[k], "%s%05d", stem,
				 first + i + k);
			ops[k].key = keys[k];
			ops[k].key_len = strlen(keys[k]);
			ops[k].value = v;
			ops[k].value_len = strlen(v);
			ops[k].del = 0;
		}
		if (rumor_write(f->node, ops, (size_t)k) != 0)
			fail_msg("rumor_write: %s", rumor_errmsg(f->node));
	}
}

struct want_n {
	struct fx *f;
	size_t n;
};

static int got_n(void *arg)
{
	struct want_n *w = arg;

	return w->f->n_got >= w->n;
}

static void step_w(void *arg)
{
	step(((struct want_n *)arg)->f);
}

static void wait_got(struct fx *f, size_t n)
{
	struct want_n w = {f, n};

	if (!tu_wait_for(got_n, step_w, &w, DEADLINE_MS))
		fail_msg("the stream gave %zu changes, %zu expected",
			 f->n_got, n);
	/* Nothing more than expected, after another few turns. */
	step(f);
	step(f);
	assert_int_equal(f->n_got, n);
}

static int got_any(void *arg)
{
	return ((struct fx *)arg)->n_got > 0;
}

/* Turns the loop until the stream gave something (one turn at a time). */
static void wait_got_some(struct fx *f)
{
	assert_true(tu_wait_for(got_any, step, f, DEADLINE_MS));
}

/* got[from..] must be keys stem first..first+n-1 in order, each once,
 * with strictly increasing positions. */
static void want_keys(struct fx *f, size_t from, const char *stem, int first,
		      int n)
{
	char key[24];
	int i;

	assert_int_equal(f->n_got, from + (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%s%05d", stem, first + i);
		assert_string_equal(f->got[from + i].key, key);
		if (from + i > 0)
			assert_true(f->got[from + i].pos >
				    f->got[from + i - 1].pos);
	}
}

/* ------------------------------------------------------------ tests */

static void test_tail_reads_history_a_batch_a_turn_then_stays_live(
	void **state)
{
	struct fx *f = *state;
	uint64_t head = 0, floor = 1;
	size_t i;

	write_keys(f, "k", 0, 1000, "v");
	assert_int_equal(rumor_position(f->node, &head, &floor), 0);
	assert_int_equal(head, 1000);
	assert_int_equal(floor, 0);
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 0, on_change, f,
					 &f->tail), 0);
	/* Nothing is read inside the open; a loop turn reads a bounded
	 * batch, not the whole history. */
	assert_int_equal(f->n_got, 0);
	wait_got_some(f);
	if (f->n_got > 256)
		fail_msg("one turn gave %zu changes", f->n_got);
	wait_got(f, 1000);
	want_keys(f, 0, "k", 0, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(f->got[i].pos, i + 1);
	/* Live: each later change as it is applied. */
	write_keys(f, "n", 0, 1, "v");
	assert_int_equal(f->n_got, 1001);
	assert_int_equal(f->got[1000].pos, 1001);
	assert_int_equal(rumor_del(f->node, "k00003", 6), 0);
	assert_int_equal(f->n_got, 1002);
	assert_true(f->got[1001].deleted);
	assert_int_equal(rumor_tail_position(f->tail), 1002);
}

static void test_tail_resumes_from_a_position_after_close_and_reopen(
	void **state)
{
	struct fx *f = *state;
	uint64_t last;
	size_t before;

	write_keys(f, "a", 0, 300, "v");
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 0, on_change, f,
					 &f->tail), 0);
	wait_got(f, 300);
	write_keys(f, "a", 300, 100, "v");      /* live */
	assert_int_equal(f->n_got, 400);
	last = rumor_tail_position(f->tail);
	rumor_tail_close(f->tail);
	f->tail = NULL;

	/* Closed: writes go on; reopened from the last position it saw,
	 * it gives exactly those. */
	write_keys(f, "a", 400, 500, "v");
	before = f->n_got;
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, last, on_change,
					 f, &f->tail), 0);
	wait_got(f, before + 500);
	want_keys(f, 0, "a", 0, 900);
	last = rumor_tail_position(f->tail);
	rumor_tail_close(f->tail);
	f->tail = NULL;

	/* The node closes and opens again: positions are durable. */
	write_keys(f, "a", 900, 50, "v");
	close_node(f);
	open_node(f);
	write_keys(f, "a", 950, 50, "v");
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, last, on_change,
					 f, &f->tail), 0);
	wait_got(f, 1000);
	want_keys(f, 0, "a", 0, 1000);
	assert_int_equal(rumor_tail_position(f->tail), 1000);
}

/* A consumer that pauses itself every 700 changes while 10,000 writes go
 * on, half of them rewriting keys: it ends with every key once at its
 * latest change (a paused stream buffers nothing: rewritten keys come at
 * their new position), in position order. */
static void test_tail_pause_resume_under_10000_writes(void **state)
{
	struct fx *f = *state;
	static int latest[5000];
	uint64_t head;
	size_t i;
	int round, k;
	char v[2] = {0, 0};

	f->pause_every = 700;
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 0, on_change, f,
					 &f->tail), 0);
	for (round = 0; round < 20; round++) {
		/* Rounds 0-9 write keys 0-4999, 10-19 rewrite them. */
		v[0] = (char)('a' + round / 10);
		write_keys(f, "w", (round % 10) * 500, 500, v);
		step(f);
		rumor_tail_resume(f->tail);
		step(f);
	}
	/* Read to the end. */
	assert_int_equal(rumor_position(f->node, &head, NULL), 0);
	assert_int_equal(head, 10000);
	for (i = 0; rumor_tail_position(f->tail) < head && i < 100000; i++) {
		rumor_tail_resume(f->tail);
		step(f);
	}
	assert_int_equal(rumor_tail_position(f->tail), head);
	memset(latest, 0, sizeof latest);
	for (i = 0; i < f->n_got; i++) {
		if (i > 0)
			assert_true(f->got[i].pos > f->got[i - 1].pos);
		k = atoi(f->got[i].key + 1);
		latest[k] = f->got[i].value0;
	}
	for (k = 0; k < 5000; k++)
		assert_int_equal(latest[k], 'b');
	/* At most one change per write, and each rewritten key at least
	 * once more after its first write. */
	assert_true(f->n_got <= 10000);
	assert_true(f->n_got >= 5000);
}

static int cover_all(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 1;
}

static void test_position_below_the_floor_is_too_old(void **state)
{
	struct fx *f = *state;
	uint64_t head, floor, next;
	size_t removed = 0;

	write_keys(f, "x", 0, 1, "v");                          /* 1 */
	assert_int_equal(rumor_del(f->node, "gone", 4), 0);     /* 2 */
	write_keys(f, "x", 1, 1, "v");                          /* 3 */
	/* (The node's own tick may have collected it already.) */
	assert_int_equal(store_collect_tombstones(f->node->store, cover_all,
						  NULL, 0, &removed, NULL), 0);
	assert_int_equal(rumor_position(f->node, &head, &floor), 0);
	assert_int_equal(head, 3);
	assert_int_equal(floor, 2);
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 1, on_change, f,
					 &f->tail), RUMOR_ETOOOLD);
	assert_null(f->tail);
	assert_non_null(strstr(rumor_errmsg(f->node), "floor is 2"));
	assert_int_equal(rumor_changes(f->node, NULL, 0, 1, 0, on_change, f,
				       &next), RUMOR_ETOOOLD);
	/* 0 (the whole store) and the floor itself are fine. */
	assert_int_equal(rumor_changes(f->node, NULL, 0, 0, 0, on_change, f,
				       &next), 0);
	assert_int_equal(f->n_got, 2);
	assert_int_equal(next, 3);
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 2, on_change, f,
					 &f->tail), 0);
	wait_got(f, 3);
	assert_string_equal(f->got[2].key, "x00001");
}

static void test_prefix_and_binary_keys(void **state)
{
	struct fx *f = *state;
	const char k1[] = {0, (char)0xff, 'a'}, k2[] = {0, (char)0xff, 0};
	const char k3[] = {0, (char)0xfe, 'a'}, pfx[] = {0, (char)0xff};
	const char val[] = {0, 1, (char)0xff};
	uint64_t next;

	assert_int_equal(rumor_put(f->node, k1, 3, val, 3), 0);
	assert_int_equal(rumor_put(f->node, k3, 3, val, 3), 0);
	assert_int_equal(rumor_put(f->node, k2, 3, val, 3), 0);
	assert_int_equal(rumor_tail_open(f->node, pfx, 2, 0, on_change, f,
					 &f->tail), 0);
	wait_got(f, 2);
	assert_memory_equal(f->got[0].key, k1, 3);
	assert_int_equal(f->got[0].pos, 1);
	assert_memory_equal(f->got[1].key, k2, 3);
	assert_int_equal(f->got[1].pos, 3);
	assert_int_equal(f->got[1].value0, 0);
	/* Live, through the same prefix. */
	assert_int_equal(rumor_del(f->node, k3, 3), 0);
	assert_int_equal(rumor_del(f->node, k1, 3), 0);
	assert_int_equal(f->n_got, 3);
	assert_true(f->got[2].deleted);
	assert_int_equal(f->got[2].pos, 5);
	assert_int_equal(rumor_tail_position(f->tail), 5);
	/* rumor_changes: at most max, and where to go on. */
	rumor_tail_close(f->tail);
	f->tail = NULL;
	f->n_got = 0;
	assert_int_equal(rumor_changes(f->node, pfx, 2, 0, 1, on_change, f,
				       &next), 0);
	assert_int_equal(f->n_got, 1);
	assert_int_equal(next, 3);
	assert_int_equal(rumor_changes(f->node, pfx, 2, next, 0, on_change, f,
				       &next), 0);
	assert_int_equal(f->n_got, 2);
	assert_int_equal(next, 5);
}

/* A stream closed from its own callback gives nothing more. */
static void test_close_from_the_callback(void **state)
{
	struct fx *f = *state;

	write_keys(f, "c", 0, 10, "v");
	f->close_in_cb = 1;
	assert_int_equal(rumor_tail_open(f->node, NULL, 0, 0, on_change, f,
					 &f->tail), 0);
	wait_got(f, 1);
	write_keys(f, "c", 10, 10, "v");
	step(f);
	assert_int_equal(f->n_got, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tail_reads_history_a_batch_a_turn_then_stays_live),
		T(test_tail_resumes_from_a_position_after_close_and_reopen),
		T(test_tail_pause_resume_under_10000_writes),
		T(test_position_below_the_floor_is_too_old),
		T(test_prefix_and_binary_keys),
		T(test_close_from_the_callback),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
