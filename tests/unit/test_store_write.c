/* SPDX-License-Identifier: MIT */
/* Unit tests of src/store: the key filter, tombstones, byte and size limits, local
 * batches and resumed scans. */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ key filter */

#define MANY_KEYS 70000          /* past the filter's first layer (65536) */

static void many_key(char *buf, size_t size, int i)
{
	snprintf(buf, size, "key-%06d", i);
}

/* Writes of new keys skip the meta read when the filter says "certainly
 * not"; a wrong "not" would show as clock 1 on an overwrite, or as a key
 * with two log entries (store_check). */
static void test_key_filter_keeps_every_key_across_growth_and_reopen(void **state)
{
	struct fx *f = *state;
	static struct rumor_version vs[1000];
	static char keys[1000][16];
	struct store_record *rec;
	struct store_hwm raise;
	struct store_stats st;
	int i, j, out = 0;

	memcpy(raise.origin, f->b, STORE_ORIGIN_BYTES);
	for (i = 0; i < MANY_KEYS; i += 1000) {
		for (j = 0; j < 1000; j++) {
			many_key(keys[j], sizeof keys[j], i + j);
			vs[j] = ver(keys[j], "v", 1, f->b,
				    (uint64_t)(i + j) + 1, 1);
		}
		raise.seq = (uint64_t)i + 1000;
		assert_int_equal(store_apply_batch(f->s, vs, 1000, &raise, 1,
						   NULL, NULL), 0);
	}
	store_get_stats(f->s, &st);
	assert_int_equal(st.keys, MANY_KEYS);
	/* Keys of the first layer and of the grown one are found. */
	put(f, "key-000000", "w");
	put(f, "key-069999", "w");
	rec = version_of(f->s, "key-000000");
	assert_int_equal(rec->v.clock, 2);
	store_record_free(rec);
	rec = version_of(f->s, "key-069999");
	assert_int_equal(rec->v.clock, 2);
	store_record_free(rec);
	vs[0] = ver("key-035000", "v", 1, f->b, 35001, 1);
	assert_int_equal(store_apply_batch(f->s, vs, 1, NULL, 0, &out, NULL),
			 0);
	assert_int_equal(out, STORE_IDENTICAL);
	expect_check_ok(f->s);
	/* Reopened: one layer, sized from the keys found. */
	fx_reopen(f);
	expect_check_ok(f->s);
	put(f, "key-000000", "x");
	rec = version_of(f->s, "key-000000");
	assert_int_equal(rec->v.clock, 3);
	store_record_free(rec);
	put(f, "key-070000", "new");
	rec = version_of(f->s, "key-070000");
	assert_int_equal(rec->v.clock, 1);
	store_record_free(rec);
	store_get_stats(f->s, &st);
	assert_int_equal(st.keys, MANY_KEYS + 1);
	assert_int_equal(st.log_entries, MANY_KEYS + 1);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ tombstones */

static int scan_count(void *arg, const void *key, size_t key_len,
		      const void *value, size_t value_len)
{
	int *n = arg;

	(void)key;
	(void)key_len;
	(void)value;
	(void)value_len;
	(*n)++;
	return 0;
}

static int covered_below_b4(void *arg, const uint8_t *origin, uint64_t seq)
{
	const uint8_t *b = arg;

	return memcmp(origin, b, STORE_ORIGIN_BYTES) == 0 && seq < 4;
}

static int covered_all(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 1;
}

static void test_tombstones_hide_keys_until_collected(void **state)
{
	struct fx *f = *state;
	struct store_record *rec;
	struct store_stats st;
	struct log_list l;
	size_t removed = 9;
	int n = 0;

	put(f, "live", "v");
	put(f, "gone", "v");
	assert_int_equal(store_del(f->s, "gone", 4, NULL, NULL), 0);
	assert_int_equal(store_del(f->s, "never", 5, NULL, NULL), 0);
	want_value(f->s, "gone", NULL);
	want_value(f->s, "never", NULL);
	rec = version_of(f->s, "gone");
	assert_true(rec->v.deleted);
	assert_null(rec->v.value);
	assert_int_equal(rec->v.clock, 2);
	store_record_free(rec);
	rec = version_of(f->s, "never");
	assert_true(rec->v.deleted);
	assert_int_equal(rec->v.clock, 1);
	store_record_free(rec);
	assert_int_equal(store_scan(f->s, NULL, 0, scan_count, &n, NULL), 0);
	assert_int_equal(n, 1);
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.value_null[0], 0);
	assert_int_equal(l.value_null[1], 1);
	assert_int_equal(l.value_null[2], 1);

	/* Remote tombstones: b3 covered, b5 not. */
	apply1(f, ver("r3", NULL, 1, f->b, 3, 1), STORE_APPLIED);
	apply1(f, ver("r5", NULL, 1, f->b, 5, 1), STORE_APPLIED);
	apply1(f, ver("r2", "live", 1, f->b, 2, 1), STORE_APPLIED);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 4);
	assert_int_equal(st.keys, 2);
	assert_int_equal(store_collect_tombstones(f->s, covered_below_b4, f->b,
						  0, &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_get_version(f->s, "r3", 2, &rec, NULL),
			 RUMOR_ENOTFOUND);
	rec = version_of(f->s, "r5");
	store_record_free(rec);
	want_value(f->s, "r2", "live");       /* live keys never go */
	expect_check_ok(f->s);

	/* Bounded per call. */
	assert_int_equal(store_collect_tombstones(f->s, covered_all, NULL, 2,
						  &removed, NULL), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(store_collect_tombstones(f->s, covered_all, NULL, 2,
						  &removed, NULL), 0);
	assert_int_equal(removed, 1);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.log_entries, 2);
	assert_int_equal(st.collected, 4);
	want_value(f->s, "live", "v");
	expect_check_ok(f->s);
	fx_reopen(f);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.keys, 2);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ bytes, limits */

struct scan_keys {
	int n;
	size_t lens[8];
};

static int scan_keys_cb(void *arg, const void *key, size_t key_len,
			const void *value, size_t value_len)
{
	struct scan_keys *k = arg;

	(void)key;
	(void)value;
	(void)value_len;
	if (k->n < 8)
		k->lens[k->n] = key_len;
	k->n++;
	return 0;
}

static void test_binary_keys_and_values_keep_nul_bytes(void **state)
{
	struct fx *f = *state;
	const char key[] = {'a', 0, 'b', 0};
	const char key2[] = {'a', 0, 'c'};
	const char val[] = {0, 1, 0, 2, 0};
	struct scan_keys sk;
	void *got;
	size_t len;

	assert_int_equal(store_put(f->s, key, sizeof key, val, sizeof val, NULL,
				   NULL), 0);
	assert_int_equal(store_put(f->s, key2, sizeof key2, "", 0, NULL, NULL),
			 0);
	assert_int_equal(store_put(f->s, "a", 1, "x", 1, NULL, NULL), 0);
	assert_int_equal(store_get(f->s, key, sizeof key, &got, &len, NULL), 0);
	assert_int_equal(len, sizeof val);
	assert_memory_equal(got, val, sizeof val);
	free(got);
	assert_int_equal(store_get(f->s, key, 3, &got, &len, NULL),
			 RUMOR_ENOTFOUND);
	/* An empty value is a value. */
	assert_int_equal(store_get(f->s, key2, sizeof key2, &got, &len, NULL), 0);
	assert_int_equal(len, 0);
	free(got);
	/* Prefix "a\0" matches the two binary keys, not "a". */
	memset(&sk, 0, sizeof sk);
	assert_int_equal(store_scan(f->s, key, 2, scan_keys_cb, &sk, NULL), 0);
	assert_int_equal(sk.n, 2);
	assert_int_equal(sk.lens[0], sizeof key);
	assert_int_equal(sk.lens[1], sizeof key2);
	expect_check_ok(f->s);
}

static void test_size_limits_are_exact(void **state)
{
	struct fx *f = *state;
	char *big = calloc(1, RUMOR_VALUE_MAX + 1);
	char *bigkey = malloc(RUMOR_KEY_MAX + 1);
	struct rumor_version v;
	struct store_stats st;
	void *got;
	size_t len;

	assert_non_null(big);
	assert_non_null(bigkey);
	memset(bigkey, 'k', RUMOR_KEY_MAX + 1);
	big[RUMOR_VALUE_MAX - 1] = 7;
	assert_int_equal(store_put(f->s, "v", 1, big, RUMOR_VALUE_MAX, NULL,
				   NULL), 0);
	assert_int_equal(store_get(f->s, "v", 1, &got, &len, NULL), 0);
	assert_int_equal(len, RUMOR_VALUE_MAX);
	assert_int_equal(((char *)got)[RUMOR_VALUE_MAX - 1], 7);
	free(got);
	assert_int_equal(store_put(f->s, "w", 1, big, RUMOR_VALUE_MAX + 1, NULL,
				   NULL), RUMOR_ETOOBIG);
	assert_int_equal(store_put(f->s, bigkey, RUMOR_KEY_MAX, "x", 1, NULL,
				   NULL), 0);
	assert_int_equal(store_put(f->s, bigkey, RUMOR_KEY_MAX + 1, "x", 1,
				   NULL, NULL), RUMOR_ETOOBIG);
	assert_int_equal(store_put(f->s, bigkey, 0, "x", 1, NULL, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_del(f->s, bigkey, RUMOR_KEY_MAX + 1, NULL, NULL),
			 RUMOR_ETOOBIG);
	v = ver("w", NULL, 1, f->b, 1, 1);
	v.deleted = 0;
	v.value = big;
	v.value_len = RUMOR_VALUE_MAX + 1;
	assert_int_equal(store_apply_batch(f->s, &v, 1, NULL, 0, NULL, NULL),
			 RUMOR_ETOOBIG);
	v.value_len = RUMOR_VALUE_MAX;
	v.key = bigkey;
	v.key_len = RUMOR_KEY_MAX + 1;
	assert_int_equal(store_apply_batch(f->s, &v, 1, NULL, 0, NULL, NULL),
			 RUMOR_ETOOBIG);
	v.key_len = RUMOR_KEY_MAX;
	v.clock = 5;                     /* beats the local put of bigkey */
	assert_int_equal(apply_n(f, &v, 1, NULL), 0);
	assert_int_equal(store_get(f->s, bigkey, RUMOR_KEY_MAX, &got, &len,
				   NULL), 0);
	assert_int_equal(len, RUMOR_VALUE_MAX);
	free(got);
	store_get_stats(f->s, &st);
	assert_int_equal(st.keys, 2);
	expect_check_ok(f->s);
	free(big);
	free(bigkey);
}

static void test_invalid_arguments_change_nothing(void **state)
{
	struct fx *f = *state;
	struct rumor_version good = ver("g", "v", 1, f->b, 1, 1);
	struct rumor_version vs[2];
	struct store_stats before, after;
	struct err e = {0};
	void *got;
	size_t len;

	put(f, "k", "v");
	store_get_stats(f->s, &before);
	assert_int_equal(store_put(f->s, NULL, 1, "v", 1, NULL, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_put(f->s, "k", 1, NULL, 3, NULL, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_del(f->s, NULL, 0, NULL, NULL), RUMOR_EINVAL);
	assert_int_equal(store_get(f->s, "k", 1, NULL, &len, NULL), RUMOR_EINVAL);
	assert_int_equal(store_get(f->s, NULL, 1, &got, &len, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_apply_batch(f->s, NULL, 1, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_apply_batch(f->s, NULL, 0, NULL, 1, NULL, NULL),
			 RUMOR_EINVAL);

	/* One bad version spoils the whole batch, even after a good one. */
	vs[0] = good;
	vs[1] = ver("x", "v", 1, f->b, 2, 1);
	vs[1].origin_len = 31;
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, &e),
			 RUMOR_EINVAL);
	assert_non_null(strstr(e.msg, "version 1"));
	vs[1] = ver("x", "v", 1, NULL, 2, 1);
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);
	vs[1] = ver("x", NULL, 1, f->b, 2, 1);
	vs[1].value = "v";
	vs[1].value_len = 1;             /* deleted with a value */
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);
	vs[1] = ver("x", "v", 0, f->b, 2, 1);       /* clock 0 */
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);
	vs[1] = ver("x", "v", 1, f->b, 0, 1);       /* seq 0 */
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);
	vs[1] = ver("", "v", 1, f->b, 2, 1);        /* empty key */
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, NULL, NULL),
			 RUMOR_EINVAL);

	store_get_stats(f->s, &after);
	assert_memory_equal(&before, &after, sizeof before);
	want_value(f->s, "g", NULL);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	assert_int_equal(store_local_seq(f->s), 1);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ local batches */

static void want_clock_seq(struct store *s, const char *key, uint64_t clock,
			   uint64_t seq, int deleted)
{
	struct store_record *rec = version_of(s, key);

	assert_int_equal(rec->v.clock, clock);
	assert_int_equal(rec->v.seq, seq);
	assert_int_equal(rec->v.deleted, deleted);
	store_record_free(rec);
}

static void test_write_batch_gives_consecutive_seqs_in_op_order(void **state)
{
	struct fx *f = *state;
	struct store_op ops[3];
	struct store_stats st;
	struct log_list l;
	uint64_t first = 0;

	put(f, "b", "old");
	ops[0] = op_put("c", "1");
	ops[1] = op_put("a", "2");
	ops[2] = op_del("b");
	f->now = 5000;
	assert_int_equal(store_write_batch(f->s, ops, 3, &first, NULL), 0);
	assert_int_equal(first, 2);
	want_clock_seq(f->s, "c", 1, 2, 0);
	want_clock_seq(f->s, "a", 1, 3, 0);
	want_clock_seq(f->s, "b", 2, 4, 1);
	want_value(f->s, "c", "1");
	want_value(f->s, "a", "2");
	want_value(f->s, "b", NULL);
	assert_int_equal(store_local_seq(f->s), 4);
	assert_int_equal(store_hwm(f->s, f->a), 4);
	/* One log entry per key: b's first one is gone. */
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.seqs[0], 2);
	assert_int_equal(l.seqs[1], 3);
	assert_int_equal(l.seqs[2], 4);
	assert_true(l.value_null[2]);
	store_get_stats(f->s, &st);
	assert_int_equal(st.local_writes, 4);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.tombstones, 1);
	assert_int_equal(st.log_entries, 3);
	expect_check_ok(f->s);

	/* Nothing to write is no write. */
	first = 99;
	assert_int_equal(store_write_batch(f->s, ops, 0, &first, NULL), 0);
	assert_int_equal(first, 0);
	assert_int_equal(store_write_batch(f->s, NULL, 0, NULL, NULL), 0);
	assert_int_equal(store_local_seq(f->s), 4);

	/* Everything survives a reopen, and the next write goes on. */
	fx_reopen(f);
	expect_check_ok(f->s);
	assert_int_equal(store_local_seq(f->s), 4);
	put(f, "a", "3");
	want_clock_seq(f->s, "a", 2, 5, 0);
	expect_check_ok(f->s);
}

static void test_write_batch_same_key_twice_sees_the_first(void **state)
{
	struct fx *f = *state;
	struct store_op ops[5];
	struct store_stats st;
	struct log_list l;
	uint64_t first = 0;

	put(f, "k", "v1");                       /* clock 1, seq 1 */
	ops[0] = op_put("k", "v2");              /* clock 2, seq 2 */
	ops[1] = op_put("n", "x");               /* a new key, clock 1 */
	ops[2] = op_del("k");                    /* clock 3 */
	ops[3] = op_put("n", "y");               /* clock 2 */
	ops[4] = op_put("k", "v3");              /* clock 4, seq 6 */
	assert_int_equal(store_write_batch(f->s, ops, 5, &first, NULL), 0);
	assert_int_equal(first, 2);
	want_clock_seq(f->s, "k", 4, 6, 0);
	want_clock_seq(f->s, "n", 2, 5, 0);
	want_value(f->s, "k", "v3");
	want_value(f->s, "n", "y");
	/* The log entries the batch added and superseded are gone with the
	 * stored one: one entry per key. */
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seqs[0], 5);
	assert_string_equal(l.keys[0], "n");
	assert_int_equal(l.seqs[1], 6);
	assert_string_equal(l.keys[1], "k");
	store_get_stats(f->s, &st);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.log_entries, 2);
	assert_int_equal(st.local_writes, 6);
	assert_int_equal(store_local_seq(f->s), 6);
	expect_check_ok(f->s);

	/* A batch ending in a delete leaves the tombstone. */
	ops[0] = op_put("t", "1");
	ops[1] = op_del("t");
	assert_int_equal(store_write_batch(f->s, ops, 2, NULL, NULL), 0);
	want_clock_seq(f->s, "t", 2, 8, 1);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 1);
	assert_int_equal(st.log_entries, 3);
	expect_check_ok(f->s);
	fx_reopen(f);
	expect_check_ok(f->s);
}

static void test_write_batch_reports_on_change_in_op_order(void **state)
{
	struct fx *f = *state;
	struct store_op ops[3];

	ops[0] = op_put("z", "1");
	ops[1] = op_put("a", "2");
	ops[2] = op_del("z");
	f->now = 7000;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), 0);
	assert_int_equal(f->n_changes, 3);
	assert_string_equal(f->changes[0].key, "z");
	assert_int_equal(f->changes[0].seq, 1);
	assert_int_equal(f->changes[0].clock, 1);
	assert_int_equal(f->changes[0].local, 1);
	assert_string_equal(f->changes[1].key, "a");
	assert_int_equal(f->changes[1].seq, 2);
	assert_string_equal(f->changes[2].key, "z");
	assert_int_equal(f->changes[2].seq, 3);
	assert_int_equal(f->changes[2].clock, 2);
	assert_int_equal(f->changes[2].deleted, 1);
	/* The hook tried to write and was refused. */
	assert_int_equal(f->write_in_hook_rv, RUMOR_EINVAL);
	want_value(f->s, "hook", NULL);
	expect_check_ok(f->s);
}

/* The store's whole observable state, before and after a refused call
 * (after a reopen, only what is stored: the counters of calls restart). */
static void expect_unchanged(struct fx *f, const struct store_stats *before,
			     int changes, uint64_t local_seq, int reopened)
{
	struct store_stats after;

	store_get_stats(f->s, &after);
	if (!reopened) {
		assert_memory_equal(before, &after, sizeof after);
	} else {
		assert_int_equal(before->keys, after.keys);
		assert_int_equal(before->tombstones, after.tombstones);
		assert_int_equal(before->log_entries, after.log_entries);
	}
	assert_int_equal(f->n_changes, changes);
	assert_int_equal(store_local_seq(f->s), local_seq);
	assert_int_equal(store_hwm(f->s, f->a), local_seq);
	want_value(f->s, "k", "v");
	want_value(f->s, "g", NULL);
	expect_check_ok(f->s);
}

static void test_write_batch_with_one_bad_op_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_op ops[STORE_WRITE_BATCH_BYTES / RUMOR_VALUE_MAX + 1];
	struct store_stats before;
	struct err e = {0};
	char *bigkey, *bigval;
	size_t i;
	int changes;

	bigkey = calloc(1, RUMOR_KEY_MAX + 1);
	bigval = calloc(1, RUMOR_VALUE_MAX + 1);
	assert_non_null(bigkey);
	assert_non_null(bigval);
	memset(bigkey, 'k', RUMOR_KEY_MAX + 1);
	put(f, "k", "v");
	store_get_stats(f->s, &before);
	changes = f->n_changes;

	ops[0] = op_put("g", "good");
	ops[1] = op_put("", "v");                 /* empty key */
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, &e),
			 RUMOR_EINVAL);
	assert_non_null(strstr(e.msg, "op 1"));
	ops[1] = op_put("k", "w");
	ops[2] = op_put("x", "v");
	ops[2].value = NULL;                      /* NULL value, length 1 */
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, &e),
			 RUMOR_EINVAL);
	assert_non_null(strstr(e.msg, "op 2"));
	ops[2] = op_del("x");
	ops[2].value = "v";                       /* a delete with a value */
	ops[2].value_len = 1;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL),
			 RUMOR_EINVAL);
	ops[2] = op_put("x", "v");
	ops[2].key = bigkey;
	ops[2].key_len = RUMOR_KEY_MAX + 1;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL),
			 RUMOR_ETOOBIG);
	ops[2] = op_put("x", "v");
	ops[2].value = bigval;
	ops[2].value_len = RUMOR_VALUE_MAX + 1;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL),
			 RUMOR_ETOOBIG);
	/* Too many ops: refused before one is read. */
	assert_int_equal(store_write_batch(f->s, ops,
					   STORE_WRITE_BATCH_MAX + 1, NULL,
					   NULL), RUMOR_ETOOBIG);
	assert_int_equal(store_write_batch(f->s, NULL, 1, NULL, NULL),
			 RUMOR_EINVAL);
	/* Each op within the limits, all of them together too large. */
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		ops[i] = op_put("g", "");
		ops[i].value = bigval;
		ops[i].value_len = RUMOR_VALUE_MAX;
	}
	assert_int_equal(store_write_batch(f->s, ops, sizeof ops / sizeof ops[0],
					   NULL, &e), RUMOR_ETOOBIG);
	assert_non_null(strstr(e.msg, "bytes"));
	expect_unchanged(f, &before, changes, 1, 0);

	/* A refused commit: nothing written, the memory view as it was. */
	ops[0] = op_put("g", "good");
	ops[1] = op_put("k", "w");
	ops[2] = op_del("g");
	f->fail_at = f->commits + 1;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), RUMOR_EIO);
	f->fail_at = 0;
	expect_unchanged(f, &before, changes, 1, 0);
	fx_reopen(f);
	expect_unchanged(f, &before, changes, 1, 1);

	/* The same batch is taken afterwards (and its hooks may not write). */
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), 0);
	assert_int_equal(f->write_in_hook_rv, RUMOR_EINVAL);
	want_clock_seq(f->s, "g", 2, 4, 1);
	want_value(f->s, "k", "w");
	expect_check_ok(f->s);
	free(bigkey);
	free(bigval);
}

static void test_write_batch_of_the_largest_size_is_taken(void **state)
{
	struct fx *f = *state;
	struct store_op *ops = calloc(STORE_WRITE_BATCH_MAX, sizeof *ops);
	char *keys = malloc((size_t)STORE_WRITE_BATCH_MAX * 8);
	struct store_stats st;
	uint64_t first = 0;
	size_t i;

	assert_non_null(ops);
	assert_non_null(keys);
	/* Every key twice: the second half overwrites the first. */
	for (i = 0; i < STORE_WRITE_BATCH_MAX; i++) {
		snprintf(keys + 8 * i, 8, "%07zu", i % (STORE_WRITE_BATCH_MAX / 2));
		ops[i].key = keys + 8 * i;
		ops[i].key_len = 7;
		ops[i].value = "v";
		ops[i].value_len = 1;
	}
	assert_int_equal(store_write_batch(f->s, ops, STORE_WRITE_BATCH_MAX,
					   &first, NULL), 0);
	assert_int_equal(first, 1);
	assert_int_equal(store_local_seq(f->s), STORE_WRITE_BATCH_MAX);
	store_get_stats(f->s, &st);
	assert_int_equal(st.keys, STORE_WRITE_BATCH_MAX / 2);
	assert_int_equal(st.log_entries, STORE_WRITE_BATCH_MAX / 2);
	want_clock_seq(f->s, "0000000", 2, STORE_WRITE_BATCH_MAX / 2 + 1, 0);
	expect_check_ok(f->s);
	free(ops);
	free(keys);
}

/* ------------------------------------------------------------ resumed scans */

struct scan_names {
	int n;
	char keys[8][16];
};

static int scan_names_cb(void *arg, const void *key, size_t key_len,
			 const void *value, size_t value_len)
{
	struct scan_names *k = arg;
	size_t len = key_len < 15 ? key_len : 15;

	(void)value;
	(void)value_len;
	if (k->n < 8) {
		memcpy(k->keys[k->n], key, len);
		k->keys[k->n][len] = '\0';
	}
	k->n++;
	return 0;
}

/* The keys scan_after gives, joined by commas. */
static const char *scanned_after(struct fx *f, const char *prefix,
				 const char *after, char out[128])
{
	struct scan_names sn;
	int i;

	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_scan_after(f->s, prefix, strlen(prefix), after,
					  after != NULL ? strlen(after) : 0,
					  scan_names_cb, &sn, NULL), 0);
	out[0] = '\0';
	for (i = 0; i < sn.n && i < 8; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, sn.keys[i]);
	}
	return out;
}

static void test_scan_after_gives_the_keys_strictly_after(void **state)
{
	struct fx *f = *state;
	char buf[128], *big;

	put(f, "a", "1");
	put(f, "b", "1");
	put(f, "b1", "1");
	put(f, "b2", "1");
	put(f, "b3", "1");
	put(f, "b4", "1");
	put(f, "c", "1");
	assert_int_equal(store_del(f->s, "b3", 2, NULL, NULL), 0);

	assert_string_equal(scanned_after(f, "b", NULL, buf), "b,b1,b2,b4");
	assert_string_equal(scanned_after(f, "b", "b", buf), "b1,b2,b4");
	assert_string_equal(scanned_after(f, "b", "b1", buf), "b2,b4");
	/* A deleted or absent position works as well. */
	assert_string_equal(scanned_after(f, "b", "b2", buf), "b4");
	assert_string_equal(scanned_after(f, "b", "b3", buf), "b4");
	assert_string_equal(scanned_after(f, "b", "b10", buf), "b2,b4");
	assert_string_equal(scanned_after(f, "b", "b4", buf), "");
	/* A position outside the prefix: before it, all; after it, none. */
	assert_string_equal(scanned_after(f, "b", "a", buf), "b,b1,b2,b4");
	assert_string_equal(scanned_after(f, "b", "", buf), "b,b1,b2,b4");
	assert_string_equal(scanned_after(f, "b", "ba", buf), "");
	assert_string_equal(scanned_after(f, "b", "c", buf), "");
	assert_string_equal(scanned_after(f, "", "b2", buf), "b4,c");
	assert_string_equal(scanned_after(f, "", "c", buf), "");

	big = calloc(1, RUMOR_KEY_MAX + 1);
	assert_non_null(big);
	assert_int_equal(store_scan_after(f->s, "", 0, big, RUMOR_KEY_MAX + 1,
					  scan_names_cb, buf, NULL),
			 RUMOR_EINVAL);
	assert_int_equal(store_scan_after(f->s, "", 0, NULL, 1, scan_names_cb,
					  buf, NULL), RUMOR_EINVAL);
	free(big);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_key_filter_keeps_every_key_across_growth_and_reopen),
		T(test_tombstones_hide_keys_until_collected),
		T(test_binary_keys_and_values_keep_nul_bytes),
		T(test_size_limits_are_exact),
		T(test_invalid_arguments_change_nothing),
		T(test_write_batch_gives_consecutive_seqs_in_op_order),
		T(test_write_batch_same_key_twice_sees_the_first),
		T(test_write_batch_reports_on_change_in_op_order),
		T(test_write_batch_with_one_bad_op_writes_nothing),
		T(test_write_batch_of_the_largest_size_is_taken),
		T(test_scan_after_gives_the_keys_strictly_after),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
