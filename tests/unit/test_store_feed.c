/* SPDX-License-Identifier: MIT */
/*
 * test_store_feed: change positions and the change feed (schema 3):
 * positions of local writes, batches and remote applies, the feed's
 * compaction, collection's floor, store_check's view of the feed, and the
 * upgrade of a schema 2 store at open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_store_fixture.h"

/* ------------------------------------------------------------ helpers */

#define FEED_MAX 64

struct feed_list {
	int n;
	uint64_t pos[FEED_MAX];
	char keys[FEED_MAX][32];
	int deleted[FEED_MAX];
};

static int feed_collect(void *arg, uint64_t pos, const struct rumor_version *v)
{
	struct feed_list *l = arg;
	size_t n = v->key_len < 31 ? v->key_len : 31;

	assert_true(l->n < FEED_MAX);
	l->pos[l->n] = pos;
	memcpy(l->keys[l->n], v->key, n);
	l->keys[l->n][n] = '\0';
	l->deleted[l->n] = v->deleted;
	l->n++;
	return 0;
}

static struct feed_list feed_of(struct store *s, uint64_t after)
{
	struct feed_list l;
	struct err e = {0};
	uint64_t last;
	int at_end;

	memset(&l, 0, sizeof l);
	if (store_feed_scan(s, after, 0, feed_collect, &l, &last, &at_end,
			    &e) != 0)
		fail_msg("store_feed_scan: %s", e.msg);
	assert_true(at_end);
	return l;
}

/* The feed after 0 must be exactly keys at positions, in that order. */
static void want_feed(struct store *s, const char *keys,
		      const uint64_t *pos)
{
	struct feed_list l = feed_of(s, 0);
	int i;

	for (i = 0; keys[i] != '\0'; i++) {
		assert_true(i < l.n);
		assert_int_equal(l.keys[i][0], keys[i]);
		assert_int_equal(l.keys[i][1], '\0');
		assert_int_equal(l.pos[i], pos[i]);
	}
	assert_int_equal(l.n, i);
}

static int cover_all(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 1;
}

/* ------------------------------------------------------------ positions */

static void test_local_writes_get_consecutive_positions(void **state)
{
	struct fx *f = *state;
	struct store_op ops[3];
	int i;

	assert_int_equal(store_feed_head(f->s), 0);
	put(f, "a", "1");
	put(f, "b", "1");
	assert_int_equal(store_del(f->s, "a", 1, NULL, NULL), 0);
	assert_int_equal(store_feed_head(f->s), 3);
	/* a's put at 1 is gone from the feed: a is at 3 now. */
	want_feed(f->s, "ba", (const uint64_t[]){2, 3});
	/* A batch: consecutive positions in op order; a key written twice
	 * in it is in the feed once, at its last op. */
	ops[0] = op_put("c", "1");
	ops[1] = op_put("b", "2");
	ops[2] = op_put("c", "2");
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), 0);
	assert_int_equal(store_feed_head(f->s), 6);
	want_feed(f->s, "abc", (const uint64_t[]){3, 5, 6});
	/* on_change heard every change with its position, in order. */
	assert_int_equal(f->n_changes, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(f->changes[i].pos, (uint64_t)i + 1);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_feed_head(f->s), 6);
	put(f, "d", "1");
	assert_int_equal(store_feed_head(f->s), 7);
	expect_check_ok(f->s);
}

static void test_remote_applies_get_positions_in_caller_order(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[4];
	int out[4];

	put(f, "z", "local");                                   /* 1 */
	vs[0] = ver("y", "b1", 1, f->b, 1, 10);                 /* 2 */
	vs[1] = ver("x", "b2", 1, f->b, 2, 10);                 /* 3 */
	vs[2] = ver("y", "c1", 2, f->c, 1, 10);                 /* 4 */
	vs[3] = ver("z", "old", 0 + 1, f->c, 2, 1);             /* stale? */
	/* z's local clock is 1 too: the resolver orders by wall time, and
	 * 1 < 1000, so the remote version loses: no position. */
	assert_int_equal(apply_n(f, vs, 4, out), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_APPLIED);
	assert_int_equal(out[2], STORE_APPLIED);
	assert_int_equal(out[3], STORE_STALE);
	assert_int_equal(store_feed_head(f->s), 4);
	want_feed(f->s, "zxy", (const uint64_t[]){1, 3, 4});
	assert_int_equal(f->n_changes, 4);
	assert_int_equal(f->changes[1].pos, 2);
	assert_int_equal(f->changes[2].pos, 3);
	assert_int_equal(f->changes[3].pos, 4);
	/* The same version again: identical, no position. */
	apply1(f, ver("x", "b2", 1, f->b, 2, 10), STORE_IDENTICAL);
	assert_int_equal(store_feed_head(f->s), 4);
	expect_check_ok(f->s);
}

static void test_feed_scan_goes_on_from_a_position_and_a_bound(void **state)
{
	struct fx *f = *state;
	struct feed_list l;
	struct err e = {0};
	uint64_t last;
	int at_end;

	put(f, "a", "1");
	put(f, "b", "1");
	put(f, "c", "1");
	memset(&l, 0, sizeof l);
	assert_int_equal(store_feed_scan(f->s, 1, 1, feed_collect, &l, &last,
					 &at_end, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.pos[0], 2);
	assert_int_equal(last, 2);
	assert_false(at_end);
	l = feed_of(f->s, last);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.pos[0], 3);
	l = feed_of(f->s, 3);
	assert_int_equal(l.n, 0);
	l = feed_of(f->s, 100);
	assert_int_equal(l.n, 0);
}

/* ------------------------------------------------------------ collection */

static void test_collection_drops_feed_entries_and_raises_the_floor(
	void **state)
{
	struct fx *f = *state;
	size_t removed = 0;

	put(f, "a", "1");                                        /* 1 */
	assert_int_equal(store_del(f->s, "b", 1, NULL, NULL), 0); /* 2 */
	put(f, "c", "1");                                        /* 3 */
	assert_int_equal(store_del(f->s, "d", 1, NULL, NULL), 0); /* 4 */
	assert_int_equal(store_collect_tombstones(f->s, cover_all, NULL, 0,
						  &removed, NULL), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(store_feed_floor(f->s), 4);
	/* The head stays: the collected tombstone held it. */
	assert_int_equal(store_feed_head(f->s), 4);
	want_feed(f->s, "ac", (const uint64_t[]){1, 3});
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_feed_floor(f->s), 4);
	assert_int_equal(store_feed_head(f->s), 4);
	put(f, "e", "1");
	assert_int_equal(store_feed_head(f->s), 5);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ check */

static void expect_corrupt(struct fx *f, const char *why)
{
	struct err e = {0};

	assert_int_equal(store_check(f->s, &e), RUMOR_ECORRUPT);
	if (strstr(e.msg, why) == NULL)
		fail_msg("store_check said '%s', expected '%s'", e.msg, why);
}

static void test_check_finds_feed_damage(void **state)
{
	struct fx *f = *state;
	const char f1[9] = {'f', 0, 0, 0, 0, 0, 0, 0, 1};
	const char f2[9] = {'f', 0, 0, 0, 0, 0, 0, 0, 2};
	const char f9[9] = {'f', 0, 0, 0, 0, 0, 0, 0, 9};

	put(f, "a", "1");
	put(f, "b", "1");
	expect_check_ok(f->s);
	/* A key's feed entry missing. */
	assert_int_equal(store_debug_raw_del(f->s, f1, 9, NULL), 0);
	expect_corrupt(f, "feed entries are not one per key");
	/* An entry naming a key at another position. */
	assert_int_equal(store_debug_raw_put(f->s, f1, 9, "b", 1, NULL), 0);
	expect_corrupt(f, "whose meta has position 2");
	assert_int_equal(store_debug_raw_put(f->s, f1, 9, "a", 1, NULL), 0);
	expect_check_ok(f->s);
	/* An entry above the head. */
	assert_int_equal(store_debug_raw_put(f->s, f9, 9, "a", 1, NULL), 0);
	expect_corrupt(f, "above the head");
	assert_int_equal(store_debug_raw_del(f->s, f9, 9, NULL), 0);
	/* An entry of a key without meta. */
	assert_int_equal(store_debug_raw_put(f->s, f2, 9, "q", 1, NULL), 0);
	expect_corrupt(f, "without meta");
	assert_int_equal(store_debug_raw_put(f->s, f2, 9, "b", 1, NULL), 0);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ schema 2 */

/* Makes the store look like one schema 2 wrote: metas of format 2 (no
 * position), no feed, schema 2. Keys are the one-letter keys given. */
static void downgrade_to_schema_2(struct fx *f, const char *keys)
{
	const uint8_t schema2[4] = {0, 0, 0, 2};
	struct store_record *rec;
	uint8_t meta[128];
	char mk[2] = {'m', 0}, fk[9] = {'f'};
	size_t len;
	int i, b;

	for (i = 0; keys[i] != '\0'; i++) {
		rec = version_of(f->s, (char[]){keys[i], 0});
		meta[0] = 2;
		meta[1] = rec->v.deleted ? 1 : 0;
		for (b = 0; b < 8; b++) {
			meta[2 + b] = (uint8_t)(rec->v.clock >> (56 - 8 * b));
			meta[10 + b] = (uint8_t)(rec->v.seq >> (56 - 8 * b));
			meta[18 + b] = (uint8_t)(rec->v.wall_ms >> (56 - 8 * b));
			fk[1 + b] = (char)(rec->pos >> (56 - 8 * b));
		}
		memcpy(meta + 26, rec->v.origin, STORE_ORIGIN_BYTES);
		len = 58;
		if (!rec->v.deleted) {
			memcpy(meta + 58, rec->v.value, rec->v.value_len);
			len += rec->v.value_len;
		}
		mk[1] = keys[i];
		assert_int_equal(store_debug_raw_put(f->s, mk, 2, meta, len,
						     NULL), 0);
		assert_int_equal(store_debug_raw_del(f->s, fk, 9, NULL), 0);
		store_record_free(rec);
	}
	assert_int_equal(store_debug_raw_del(f->s, "sfeedfloor", 10, NULL), 0);
	assert_int_equal(store_debug_raw_put(f->s, "sschema", 7, schema2, 4,
					     NULL), 0);
}

static void test_schema_2_store_is_upgraded_at_open(void **state)
{
	struct fx *f = *state;

	/* Written in another order than key order. */
	put(f, "c", "3");
	put(f, "a", "1");
	assert_int_equal(store_del(f->s, "b", 1, NULL, NULL), 0);
	put(f, "c", "4");
	downgrade_to_schema_2(f, "abc");
	fx_reopen(f);
	/* Positions 1, 2, 3 in key order; values and versions kept. */
	want_feed(f->s, "abc", (const uint64_t[]){1, 2, 3});
	assert_int_equal(store_feed_head(f->s), 3);
	assert_int_equal(store_feed_floor(f->s), 0);
	want_value(f->s, "a", "1");
	want_value(f->s, "b", NULL);
	want_value(f->s, "c", "4");
	expect_check_ok(f->s);
	put(f, "d", "1");
	assert_int_equal(store_feed_head(f->s), 4);
	fx_reopen(f);
	expect_check_ok(f->s);
	want_feed(f->s, "abcd", (const uint64_t[]){1, 2, 3, 4});
}

/* A crash midway leaves schema 2 with some metas rewritten (and their
 * feed entries): the next open upgrades the rest and ends as one that
 * never crashed. */
static void test_half_done_upgrade_is_done_again(void **state)
{
	struct fx *f = *state;
	const uint8_t schema2[4] = {0, 0, 0, 2};

	put(f, "a", "1");
	put(f, "b", "2");
	put(f, "c", "3");
	downgrade_to_schema_2(f, "abc");
	fx_reopen(f);           /* the upgrade, done */
	/* Undo its second half: c back to format 2 and no feed entry, the
	 * schema entry back to 2. */
	downgrade_to_schema_2(f, "c");
	assert_int_equal(store_debug_raw_put(f->s, "sschema", 7, schema2, 4,
					     NULL), 0);
	fx_reopen(f);
	want_feed(f->s, "abc", (const uint64_t[]){1, 2, 3});
	assert_int_equal(store_feed_head(f->s), 3);
	expect_check_ok(f->s);
	want_value(f->s, "c", "3");
}

/* A crash at each commit of the upgrade: every state it leaves opens to
 * the upgraded store. */
static void test_upgrade_commit_failure_leaves_a_store_that_upgrades(
	void **state)
{
	struct fx *f = *state;
	struct err e = {0};

	put(f, "a", "1");
	put(f, "b", "2");
	downgrade_to_schema_2(f, "ab");
	store_close(f->s);
	f->s = NULL;
	/* The schema entry's commit refused: metas rewritten, schema 2. */
	f->commits = 0;
	f->fail_at = 2;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_EIO);
	assert_null(f->s);
	f->fail_at = 0;
	fx_open(f);
	want_feed(f->s, "ab", (const uint64_t[]){1, 2});
	expect_check_ok(f->s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_local_writes_get_consecutive_positions),
		T(test_remote_applies_get_positions_in_caller_order),
		T(test_feed_scan_goes_on_from_a_position_and_a_bound),
		T(test_collection_drops_feed_entries_and_raises_the_floor),
		T(test_check_finds_feed_damage),
		T(test_schema_2_store_is_upgraded_at_open),
		T(test_half_done_upgrade_is_done_again),
		T(test_upgrade_commit_failure_leaves_a_store_that_upgrades),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
