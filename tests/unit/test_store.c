/* SPDX-License-Identifier: MIT */
/* Unit tests of src/store: clocks, conflicts, the log, meta scans and HWMs. */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ clocks */

static void test_put_new_key_has_clock_one_and_overwrite_adds_one(void **state)
{
	struct fx *f = *state;
	struct store_record *rec;
	uint64_t seq = 0;

	assert_int_equal(store_put(f->s, "k", 1, "v1", 2, &seq, NULL), 0);
	assert_int_equal(seq, 1);
	rec = version_of(f->s, "k");
	assert_int_equal(rec->v.clock, 1);
	assert_int_equal(rec->v.seq, 1);
	assert_int_equal(rec->v.wall_ms, 1000);
	assert_memory_equal(rec->v.origin, f->a, STORE_ORIGIN_BYTES);
	store_record_free(rec);

	f->now = 2000;
	assert_int_equal(store_put(f->s, "k", 1, "v2", 2, &seq, NULL), 0);
	assert_int_equal(seq, 2);
	rec = version_of(f->s, "k");
	assert_int_equal(rec->v.clock, 2);
	assert_int_equal(rec->v.wall_ms, 2000);
	assert_int_equal(rec->v.value_len, 2);
	assert_memory_equal(rec->v.value, "v2", 2);
	store_record_free(rec);
	assert_int_equal(store_local_seq(f->s), 2);
	assert_int_equal(store_hwm(f->s, f->a), 2);

	/* A local write over a remote version continues its clock. */
	apply1(f, ver("k", "remote", 7, f->b, 1, 5), STORE_APPLIED);
	put(f, "k", "v3");
	rec = version_of(f->s, "k");
	assert_int_equal(rec->v.clock, 8);
	store_record_free(rec);
	expect_check_ok(f->s);
}

static void test_remote_higher_clock_wins_lower_loses(void **state)
{
	struct fx *f = *state;
	struct store_stats st;

	put(f, "k", "local");                       /* clock 1 */
	put(f, "k", "local2");                      /* clock 2 */
	apply1(f, ver("k", "old", 1, f->b, 1, 99999), STORE_STALE);
	want_value(f->s, "k", "local2");
	apply1(f, ver("k", "new", 3, f->b, 2, 1), STORE_APPLIED);
	want_value(f->s, "k", "new");
	store_get_stats(f->s, &st);
	assert_int_equal(st.applied, 1);
	assert_int_equal(st.stale, 1);
	assert_int_equal(st.local_writes, 2);
	expect_check_ok(f->s);
}

static void test_identical_version_is_a_noop(void **state)
{
	struct fx *f = *state;
	struct store_stats st;
	int changes;

	apply1(f, ver("k", "v", 4, f->b, 9, 10), STORE_APPLIED);
	changes = f->n_changes;
	apply1(f, ver("k", "v", 4, f->b, 9, 10), STORE_IDENTICAL);
	assert_int_equal(f->n_changes, changes);
	store_get_stats(f->s, &st);
	assert_int_equal(st.identical, 1);
	assert_int_equal(st.applied, 1);
	assert_int_equal(st.log_entries, 1);
	want_value(f->s, "k", "v");
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ conflicts */

static void test_same_clock_conflict_uses_default_order(void **state)
{
	struct fx *f = *state;
	struct store_record *rec;

	/* Same clock: the later wall time wins, whatever arrives first. */
	apply1(f, ver("k", "late", 1, f->b, 1, 500), STORE_APPLIED);
	apply1(f, ver("k", "early", 1, f->c, 1, 400), STORE_STALE);
	want_value(f->s, "k", "late");
	/* Same clock and wall time: the greater origin wins. */
	apply1(f, ver("k", "c-wins", 1, f->c, 2, 500), STORE_APPLIED);
	rec = version_of(f->s, "k");
	assert_memory_equal(rec->v.origin, f->c, STORE_ORIGIN_BYTES);
	store_record_free(rec);
	apply1(f, ver("k", "b-loses", 1, f->b, 3, 500), STORE_STALE);
	want_value(f->s, "k", "c-wins");
	expect_check_ok(f->s);
}

/* A user resolver: the larger value wins (deletions lose). */
static int larger_value_wins(const struct rumor_version *a,
			     const struct rumor_version *b)
{
	size_t n;
	int c;

	if (a->deleted != b->deleted)
		return a->deleted ? 1 : -1;
	n = a->value_len < b->value_len ? a->value_len : b->value_len;
	c = memcmp(a->value, b->value, n);
	if (c == 0)
		c = (a->value_len > b->value_len) - (a->value_len < b->value_len);
	return c > 0 ? -1 : c < 0 ? 1 : 0;
}

static void test_same_clock_conflict_uses_user_resolver(void **state)
{
	struct fx *f = *state;
	struct resolver *r;
	struct rumor_version vs[3];
	int out[3];

	assert_int_equal(resolver_new_fn(&r, larger_value_wins, "larger",
					 NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, r, NULL), 0);

	/* Stored "m" (later wall time) loses to "z"; the resolver sees the
	 * stored value read back from the data keyspace. */
	apply1(f, ver("k", "m", 1, f->b, 1, 900), STORE_APPLIED);
	apply1(f, ver("k", "z", 1, f->c, 1, 100), STORE_APPLIED);
	apply1(f, ver("k", "a", 1, f->b, 2, 999), STORE_STALE);
	want_value(f->s, "k", "z");

	/* The same key twice in one batch: the second is judged against the
	 * first, not against the store. */
	vs[0] = ver("j", "p", 1, f->b, 3, 1);
	vs[1] = ver("j", "q", 1, f->c, 2, 0);     /* larger: wins over "p" */
	vs[2] = ver("j", "b", 1, f->b, 4, 5000);  /* smaller: loses to "q" */
	assert_int_equal(apply_n(f, vs, 3, out), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_APPLIED);
	assert_int_equal(out[2], STORE_STALE);
	want_value(f->s, "j", "q");
	expect_check_ok(f->s);

	store_close(f->s);
	f->s = NULL;
	resolver_free(r);
	fx_open(f);
	want_value(f->s, "j", "q");
	expect_check_ok(f->s);
}

static void test_same_key_twice_in_one_batch_keeps_one_log_entry(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[4];
	struct store_stats st;
	struct log_list l;
	int out[4];

	put(f, "k", "local");
	vs[0] = ver("k", "b2", 2, f->b, 1, 1);
	vs[1] = ver("k", "c3", 3, f->c, 1, 1);
	vs[2] = ver("k", "b2", 2, f->b, 1, 1);    /* older than vs[1] now */
	vs[3] = ver("k", "c3", 3, f->c, 1, 1);    /* the batch's own winner */
	assert_int_equal(apply_n(f, vs, 4, out), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_APPLIED);
	assert_int_equal(out[2], STORE_STALE);
	assert_int_equal(out[3], STORE_IDENTICAL);
	want_value(f->s, "k", "c3");
	assert_int_equal(log_of(f->s, f->a).n, 0);
	assert_int_equal(log_of(f->s, f->b).n, 0);
	l = log_of(f->s, f->c);
	assert_int_equal(l.n, 1);
	store_get_stats(f->s, &st);
	assert_int_equal(st.log_entries, 1);
	assert_int_equal(st.keys, 1);
	expect_check_ok(f->s);
}

static void test_batch_winner_may_retake_the_stored_log_slot(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[2];
	struct log_list l;
	int out[2];

	/* The stored entry's slot (b, 3) is deleted when vs[0] wins, and
	 * taken again by the batch's last winner: the put must come after
	 * the deletion, and vs[0] must leave no entry. */
	apply1(f, ver("a", "1", 1, f->b, 3, 1), STORE_APPLIED);
	vs[0] = ver("a", "2", 2, f->c, 4, 1);
	vs[1] = ver("a", "3", 3, f->b, 3, 1);
	assert_int_equal(apply_n(f, vs, 2, out), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_APPLIED);
	want_value(f->s, "a", "3");
	assert_int_equal(log_of(f->s, f->c).n, 0);
	l = log_of(f->s, f->b);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.seqs[0], 3);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ the log */

static void test_log_holds_one_entry_per_key_after_overwrites(void **state)
{
	struct fx *f = *state;
	struct log_list l;
	uint64_t last = 0;

	put(f, "x", "1");
	put(f, "y", "1");
	put(f, "x", "2");
	put(f, "x", "3");
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "y");
	assert_int_equal(l.seqs[0], 2);
	assert_string_equal(l.keys[1], "x");
	assert_int_equal(l.seqs[1], 4);

	/* A remote version replaces our entry: ours goes, whatever origin. */
	apply1(f, ver("x", "b", 10, f->b, 7, 1), STORE_APPLIED);
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.keys[0], "y");
	l = log_of(f->s, f->b);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.seqs[0], 7);
	/* And a local write replaces the remote entry. */
	put(f, "x", "4");
	assert_int_equal(log_of(f->s, f->b).n, 0);
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seqs[1], 5);

	/* after_seq, max and last_seq. */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(f->s, NULL, f->a, 2, 0, log_collect,
					&l, &last, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(last, 5);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(f->s, NULL, f->a, 0, 1, log_collect,
					&l, &last, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(last, 2);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(f->s, NULL, f->a, 5, 0, log_collect,
					&l, &last, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(last, 5);
	expect_check_ok(f->s);
}

static void test_log_scan_of_a_snapshot_sees_the_old_state(void **state)
{
	struct fx *f = *state;
	struct store_snapshot *snap;
	struct log_list l;

	put(f, "x", "1");
	snap = store_snapshot_new(f->s);
	assert_non_null(snap);
	put(f, "x", "2");
	put(f, "z", "1");
	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(f->s, snap, f->a, 0, 0, log_collect,
					&l, NULL, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.seqs[0], 1);
	store_snapshot_free(f->s, snap);
	l = log_of(f->s, f->a);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seqs[0], 2);
}

static int stop_at_second(void *arg, const struct rumor_version *v)
{
	int *n = arg;

	(void)v;
	return ++*n == 2;
}

static int scan_stop_at_second(void *arg, const void *key, size_t key_len,
			       const void *value, size_t value_len)
{
	int *n = arg;

	(void)key;
	(void)key_len;
	(void)value;
	(void)value_len;
	return ++*n == 2;
}

static void test_scans_stop_when_the_callback_says_so(void **state)
{
	struct fx *f = *state;
	uint64_t last = 0;
	int n = 0;

	put(f, "a", "1");
	put(f, "b", "1");
	put(f, "c", "1");
	assert_int_equal(store_log_scan(f->s, NULL, f->a, 0, 0, stop_at_second,
					&n, &last, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(last, 2);
	n = 0;
	assert_int_equal(store_scan(f->s, "", 0, scan_stop_at_second, &n, NULL),
			 0);
	assert_int_equal(n, 2);
}

/* ------------------------------------------------------------ meta scan */

struct meta_list {
	int n;
	char keys[16][32];
	char values[16][32];
	uint8_t origins[16][STORE_ORIGIN_BYTES];
	uint64_t seqs[16];
	uint64_t clocks[16];
	int deleted[16];
	int stop_after;                  /* 0: never stop */
};

static int meta_collect(void *arg, const struct rumor_version *v)
{
	struct meta_list *l = arg;
	size_t n = v->key_len < 31 ? v->key_len : 31;
	size_t vn = v->value_len < 31 ? v->value_len : 31;

	assert_true(l->n < 16);
	assert_int_equal(v->origin_len, STORE_ORIGIN_BYTES);
	memcpy(l->keys[l->n], v->key, n);
	l->keys[l->n][n] = '\0';
	if (v->value != NULL)
		memcpy(l->values[l->n], v->value, vn);
	l->values[l->n][vn] = '\0';
	assert_true(v->deleted ? v->value == NULL && v->value_len == 0 :
		    v->value != NULL);
	memcpy(l->origins[l->n], v->origin, STORE_ORIGIN_BYTES);
	l->seqs[l->n] = v->seq;
	l->clocks[l->n] = v->clock;
	l->deleted[l->n] = v->deleted;
	l->n++;
	return l->stop_after != 0 && l->n == l->stop_after;
}

static struct meta_list metas_after(struct store *s,
				    const struct store_snapshot *snap,
				    const char *after, size_t max,
				    size_t *given)
{
	struct meta_list l;
	struct err e = {0};

	memset(&l, 0, sizeof l);
	if (store_meta_scan(s, snap, after, after ? strlen(after) : 0, max,
			    meta_collect, &l, given, &e) != 0)
		fail_msg("store_meta_scan: %s", e.msg);
	return l;
}

static void test_meta_scan_gives_versions_in_key_order_with_values(
	void **state)
{
	struct fx *f = *state;
	struct store_stats st;
	struct meta_list l;
	size_t given = 99;
	struct err e = {0};

	put(f, "c", "C");
	put(f, "a", "A");
	put(f, "d", "D");
	assert_int_equal(store_del(f->s, "d", 1, NULL, &e), 0);
	apply1(f, ver("b", "B", 1, f->b, 7, 1), STORE_APPLIED);
	put(f, "a", "A2");
	l = metas_after(f->s, NULL, NULL, 0, &given);
	assert_int_equal(given, 4);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.keys[0], "a");
	assert_string_equal(l.values[0], "A2");
	assert_memory_equal(l.origins[0], f->a, STORE_ORIGIN_BYTES);
	assert_int_equal(l.seqs[0], 5);
	assert_int_equal(l.clocks[0], 2);
	assert_string_equal(l.keys[1], "b");
	assert_string_equal(l.values[1], "B");
	assert_memory_equal(l.origins[1], f->b, STORE_ORIGIN_BYTES);
	assert_int_equal(l.seqs[1], 7);
	assert_string_equal(l.keys[2], "c");
	assert_int_equal(l.seqs[2], 1);
	/* A tombstone comes with its version and no value. */
	assert_string_equal(l.keys[3], "d");
	assert_int_equal(l.deleted[3], 1);
	assert_int_equal(l.seqs[3], 4);
	/* Exactly the log's entries, in another order. */
	store_get_stats(f->s, &st);
	assert_int_equal(st.log_entries, 4);
	assert_int_equal(log_of(f->s, f->a).n + log_of(f->s, f->b).n, 4);
	expect_check_ok(f->s);
}

static void test_meta_scan_resumes_after_a_key(void **state)
{
	struct fx *f = *state;
	struct meta_list l;
	size_t given;

	put(f, "k1", "1");
	put(f, "k2", "2");
	put(f, "k3", "3");
	put(f, "k4", "4");
	put(f, "k5", "5");
	/* After a key that is there: the next ones, at most max. */
	l = metas_after(f->s, NULL, "k2", 2, &given);
	assert_int_equal(given, 2);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "k3");
	assert_string_equal(l.keys[1], "k4");
	/* After a key that is not (deleted since, or never written). */
	l = metas_after(f->s, NULL, "k25", 0, &given);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[0], "k3");
	l = metas_after(f->s, NULL, "k", 0, &given);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.keys[0], "k1");
	/* After the last key: nothing. */
	l = metas_after(f->s, NULL, "k5", 0, &given);
	assert_int_equal(given, 0);
	assert_int_equal(l.n, 0);
	/* A callback that stops: given counts that call. */
	memset(&l, 0, sizeof l);
	l.stop_after = 2;
	assert_int_equal(store_meta_scan(f->s, NULL, NULL, 0, 0, meta_collect,
					 &l, &given, NULL), 0);
	assert_int_equal(given, 2);
	assert_int_equal(l.n, 2);
	/* Bad arguments change nothing and say so. */
	assert_int_equal(store_meta_scan(f->s, NULL, NULL, 3, 0, meta_collect,
					 &l, &given, NULL), RUMOR_EINVAL);
	assert_int_equal(store_meta_scan(f->s, NULL, "k", 0, 0, meta_collect,
					 &l, &given, NULL), RUMOR_EINVAL);
	assert_int_equal(store_meta_scan(f->s, NULL, NULL, 0, 0, NULL, &l,
					 &given, NULL), RUMOR_EINVAL);
}

static void test_meta_scan_of_a_snapshot_sees_the_old_state(void **state)
{
	struct fx *f = *state;
	struct store_snapshot *snap;
	struct meta_list l;
	struct err e = {0};

	put(f, "x", "1");
	put(f, "y", "1");
	snap = store_snapshot_new(f->s);
	assert_non_null(snap);
	put(f, "x", "2");
	put(f, "w", "1");
	assert_int_equal(store_del(f->s, "y", 1, NULL, &e), 0);
	l = metas_after(f->s, snap, NULL, 0, NULL);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "x");
	assert_string_equal(l.values[0], "1");
	assert_string_equal(l.keys[1], "y");
	assert_int_equal(l.deleted[1], 0);
	l = metas_after(f->s, snap, "x", 0, NULL);
	assert_int_equal(l.n, 1);
	store_snapshot_free(f->s, snap);
	l = metas_after(f->s, NULL, NULL, 0, NULL);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[0], "w");
	assert_string_equal(l.values[2], "");
	assert_int_equal(l.deleted[2], 1);
}

static int meta_put_while_scanning(void *arg, const struct rumor_version *v)
{
	struct fx *f = arg;
	struct err e = {0};

	(void)v;
	/* Writes during the scan are not seen by it. */
	if (store_put(f->s, "zz", 2, "new", 3, NULL, &e) != 0)
		fail_msg("store_put: %s", e.msg);
	return 0;
}

static void test_meta_scan_callback_may_write(void **state)
{
	struct fx *f = *state;
	size_t given;

	put(f, "a", "1");
	put(f, "b", "1");
	assert_int_equal(store_meta_scan(f->s, NULL, NULL, 0, 0,
					 meta_put_while_scanning, f, &given,
					 NULL), 0);
	assert_int_equal(given, 2);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ HWMs */

struct hwm_list {
	int n;
	uint8_t first[2];
	uint64_t seq[8];
};

static int hwm_collect(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct hwm_list *h = arg;

	if (h->n < 8) {
		if (h->n < 2)
			h->first[h->n] = origin[0];
		h->seq[h->n] = seq;
	}
	h->n++;
	return 0;
}

static void test_hwms_rise_only_as_listed_and_never_fall(void **state)
{
	struct fx *f = *state;
	struct rumor_version v = ver("k", "v", 1, f->b, 5, 1);
	struct store_hwm raise[3];
	struct hwm_list h;

	/* Applying a version does not raise its origin's HWM by itself. */
	assert_int_equal(store_apply_batch(f->s, &v, 1, NULL, 0, NULL, NULL), 0);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	memcpy(raise[0].origin, f->b, STORE_ORIGIN_BYTES);
	raise[0].seq = 5;
	memcpy(raise[1].origin, f->c, STORE_ORIGIN_BYTES);
	raise[1].seq = 40;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, raise, 2, NULL, NULL),
			 0);
	assert_int_equal(store_hwm(f->s, f->b), 5);
	assert_int_equal(store_hwm(f->s, f->c), 40);
	/* Never lowered, also not by a later entry of the same list. */
	raise[0].seq = 3;
	raise[1].seq = 50;
	memcpy(raise[2].origin, f->c, STORE_ORIGIN_BYTES);
	raise[2].seq = 45;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, raise, 3, NULL, NULL),
			 0);
	assert_int_equal(store_hwm(f->s, f->b), 5);
	assert_int_equal(store_hwm(f->s, f->c), 50);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_hwm(f->s, f->b), 5);
	assert_int_equal(store_hwm(f->s, f->c), 50);

	memset(&h, 0, sizeof h);
	assert_int_equal(store_hwms(f->s, NULL, hwm_collect, &h, NULL), 0);
	assert_int_equal(h.n, 2);           /* b and c; a never wrote */
	assert_int_equal(h.first[0], 0x22);
	assert_int_equal(h.seq[0], 5);
	assert_int_equal(h.seq[1], 50);
	expect_check_ok(f->s);
}

static void test_hwms_of_a_snapshot_are_the_old_ones(void **state)
{
	struct fx *f = *state;
	struct store_snapshot *snap;
	struct store_hwm raise;
	struct hwm_list h;

	memcpy(raise.origin, f->b, STORE_ORIGIN_BYTES);
	raise.seq = 5;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, &raise, 1, NULL, NULL),
			 0);
	snap = store_snapshot_new(f->s);
	assert_non_null(snap);
	raise.seq = 9;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, &raise, 1, NULL, NULL),
			 0);
	memset(&h, 0, sizeof h);
	assert_int_equal(store_hwms(f->s, snap, hwm_collect, &h, NULL), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.seq[0], 5);
	store_snapshot_free(f->s, snap);
}

static void test_own_origin_remote_versions_raise_local_seq(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[2];
	struct store_hwm raise;
	uint64_t seq = 0;

	int out[2];

	put(f, "k", "v");
	put(f, "k", "w");                           /* clock 2 */
	/* A node restored from an old copy relearns its own writes. */
	vs[0] = ver("old1", "x", 1, f->a, 9, 1);
	vs[1] = ver("k", "stale", 1, f->a, 12, 1); /* loses, seq still used */
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, out, NULL), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_STALE);
	assert_int_equal(store_local_seq(f->s), 12);
	assert_int_equal(store_hwm(f->s, f->a), 2);   /* as listed: not raised */
	fx_reopen(f);                               /* the counter is durable */
	assert_int_equal(store_local_seq(f->s), 12);
	assert_int_equal(store_put(f->s, "n", 1, "v", 1, &seq, NULL), 0);
	assert_int_equal(seq, 13);
	/* A listed HWM of our own origin says peers saw seqs up to it. */
	memcpy(raise.origin, f->a, STORE_ORIGIN_BYTES);
	raise.seq = 30;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, &raise, 1, NULL, NULL),
			 0);
	assert_int_equal(store_local_seq(f->s), 30);
	assert_int_equal(store_put(f->s, "n", 1, "w", 1, &seq, NULL), 0);
	assert_int_equal(seq, 31);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_local_seq(f->s), 31);
	expect_check_ok(f->s);
}

static void test_reused_seq_of_another_key_is_refused(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[2];
	struct store_stats st;
	int out[2];

	apply1(f, ver("a", "1", 1, f->b, 3, 1), STORE_APPLIED);
	/* (b, 3) is key a's write; a version of key z claiming it would
	 * overwrite a's log entry. */
	apply1(f, ver("z", "1", 1, f->b, 3, 1), STORE_STALE);
	want_value(f->s, "z", NULL);
	/* Within one batch too. */
	vs[0] = ver("p", "1", 1, f->c, 8, 1);
	vs[1] = ver("q", "1", 1, f->c, 8, 1);
	assert_int_equal(apply_n(f, vs, 2, out), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_STALE);
	store_get_stats(f->s, &st);
	assert_int_equal(st.seq_conflicts, 2);
	/* The same key may take a new clock under the same (origin, seq). */
	apply1(f, ver("a", "2", 2, f->b, 3, 1), STORE_APPLIED);
	want_value(f->s, "a", "2");
	expect_check_ok(f->s);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_put_new_key_has_clock_one_and_overwrite_adds_one),
		T(test_remote_higher_clock_wins_lower_loses),
		T(test_identical_version_is_a_noop),
		T(test_same_clock_conflict_uses_default_order),
		T(test_same_clock_conflict_uses_user_resolver),
		T(test_same_key_twice_in_one_batch_keeps_one_log_entry),
		T(test_batch_winner_may_retake_the_stored_log_slot),
		T(test_log_holds_one_entry_per_key_after_overwrites),
		T(test_log_scan_of_a_snapshot_sees_the_old_state),
		T(test_scans_stop_when_the_callback_says_so),
		T(test_meta_scan_gives_versions_in_key_order_with_values),
		T(test_meta_scan_resumes_after_a_key),
		T(test_meta_scan_of_a_snapshot_sees_the_old_state),
		T(test_meta_scan_callback_may_write),
		T(test_hwms_rise_only_as_listed_and_never_fall),
		T(test_hwms_of_a_snapshot_are_the_old_ones),
		T(test_own_origin_remote_versions_raise_local_seq),
		T(test_reused_seq_of_another_key_is_refused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
