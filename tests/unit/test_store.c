/* SPDX-License-Identifier: MIT */
/* Unit tests of src/store: clocks, conflicts, the log, HWMs, tombstones,
 * limits, hooks, crash atomicity and the integrity check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "resolver/resolver.h"
#include "tests/lib/testutil.h"

#define MAX_CHANGES 64

struct change {
	char key[32];
	uint64_t seq;
	uint64_t clock;
	int local;
	int deleted;
};

struct fx {
	char *dir;
	struct store *s;
	struct resolver *r;
	uint8_t a[STORE_ORIGIN_BYTES];   /* this node */
	uint8_t b[STORE_ORIGIN_BYTES];
	uint8_t c[STORE_ORIGIN_BYTES];
	uint64_t now;
	int commits;
	int fail_at;                     /* refuse the n-th commit (0: never) */
	int exit_at;                     /* _exit at the n-th commit (0: never) */
	int write_in_hook_rv;
	struct change changes[MAX_CHANGES];
	int n_changes;
};

static uint64_t fx_now(void *arg)
{
	struct fx *f = arg;

	return f->now;
}

static void fx_on_change(void *arg, const struct rumor_version *v, int local)
{
	struct fx *f = arg;
	struct change *c;
	size_t n;

	if (f->n_changes >= MAX_CHANGES)
		return;
	c = &f->changes[f->n_changes++];
	n = v->key_len < sizeof c->key - 1 ? v->key_len : sizeof c->key - 1;
	memcpy(c->key, v->key, n);
	c->key[n] = '\0';
	c->seq = v->seq;
	c->clock = v->clock;
	c->local = local;
	c->deleted = v->deleted;
	/* A hook must not write; the store says so instead of corrupting
	 * the batch it is reporting. */
	f->write_in_hook_rv = store_put(f->s, "hook", 4, "x", 1, NULL, NULL);
}

static int fx_before_commit(void *arg, const char *what)
{
	struct fx *f = arg;

	(void)what;
	f->commits++;
	if (f->exit_at != 0 && f->commits == f->exit_at)
		_exit(0);
	return f->fail_at != 0 && f->commits == f->fail_at;
}

static int fx_open_with(struct fx *f, struct resolver *r, struct err *e)
{
	struct store_options o;

	memset(&o, 0, sizeof o);
	o.origin = f->a;
	o.resolver = r;
	o.hooks.now_ms = fx_now;
	o.hooks.on_change = fx_on_change;
	o.hooks.before_commit = fx_before_commit;
	o.hooks.arg = f;
	return store_open(&f->s, f->dir, &o, e);
}

static void fx_open(struct fx *f)
{
	struct err e = {0};
	int rv = fx_open_with(f, f->r, &e);

	if (rv != 0)
		fail_msg("store_open: %s", e.msg);
}

static void fx_reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	fx_open(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct err e = {0};

	assert_non_null(f);
	f->dir = tu_tmpdir("store");
	memset(f->a, 0x11, sizeof f->a);
	memset(f->b, 0x22, sizeof f->b);
	memset(f->c, 0x33, sizeof f->c);
	f->now = 1000;
	assert_int_equal(resolver_new_default(&f->r, &e), 0);
	fx_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	resolver_free(f->r);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct rumor_version ver(const char *key, const char *val,
				uint64_t clock, const uint8_t *origin,
				uint64_t seq, uint64_t wall)
{
	struct rumor_version v;

	memset(&v, 0, sizeof v);
	v.key = key;
	v.key_len = strlen(key);
	if (val != NULL) {
		v.value = val;
		v.value_len = strlen(val);
	} else {
		v.deleted = 1;
	}
	v.clock = clock;
	v.origin = origin;
	v.origin_len = STORE_ORIGIN_BYTES;
	v.seq = seq;
	v.wall_ms = wall;
	return v;
}

static void put(struct fx *f, const char *key, const char *val)
{
	struct err e = {0};

	if (store_put(f->s, key, strlen(key), val, strlen(val), NULL, &e) != 0)
		fail_msg("store_put %s: %s", key, e.msg);
}

/* Applies vs and, as the sync layer does, raises each version's origin
 * to its seq in the same batch (store_check wants HWMs covering the log). */
static int apply_n(struct fx *f, const struct rumor_version *vs, size_t n,
		   int *out)
{
	struct store_hwm raise[8];
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++) {
		memcpy(raise[i].origin, vs[i].origin, STORE_ORIGIN_BYTES);
		raise[i].seq = vs[i].seq;
	}
	return store_apply_batch(f->s, vs, n, raise, n, out, NULL);
}

static void apply1(struct fx *f, struct rumor_version v, int want_outcome)
{
	struct err e = {0};
	struct store_hwm raise;
	int out = 0;

	memcpy(raise.origin, v.origin, STORE_ORIGIN_BYTES);
	raise.seq = v.seq;
	if (store_apply_batch(f->s, &v, 1, &raise, 1, &out, &e) != 0)
		fail_msg("store_apply_batch: %s", e.msg);
	assert_int_equal(out, want_outcome);
}

/* want NULL: the key must be absent or deleted. */
static void want_value(struct store *s, const char *key, const char *want)
{
	void *val = NULL;
	size_t len = 0;
	int rv = store_get(s, key, strlen(key), &val, &len, NULL);

	if (want == NULL) {
		assert_int_equal(rv, RUMOR_ENOTFOUND);
		return;
	}
	assert_int_equal(rv, 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(val, want, len);
	free(val);
}

static struct store_record *version_of(struct store *s, const char *key)
{
	struct store_record *rec = NULL;

	assert_int_equal(store_get_version(s, key, strlen(key), &rec, NULL), 0);
	return rec;
}

static void expect_check_ok(struct store *s)
{
	struct err e = {0};

	if (store_check(s, &e) != 0)
		fail_msg("store_check: %s", e.msg);
}

/* Log entries of one origin, collected. */
struct log_list {
	int n;
	char keys[16][32];
	uint64_t seqs[16];
	int value_null[16];
};

static int log_collect(void *arg, const struct rumor_version *v)
{
	struct log_list *l = arg;
	size_t n = v->key_len < 31 ? v->key_len : 31;

	if (l->n < 16) {
		memcpy(l->keys[l->n], v->key, n);
		l->keys[l->n][n] = '\0';
		l->seqs[l->n] = v->seq;
		l->value_null[l->n] = v->value == NULL;
	}
	l->n++;
	return 0;
}

static struct log_list log_of(struct store *s, const uint8_t *origin)
{
	struct log_list l;

	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(s, NULL, origin, 0, 0, log_collect, &l,
					NULL, NULL), 0);
	return l;
}

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

static struct store_op op_put(const char *key, const char *val)
{
	struct store_op op = {key, strlen(key), val, strlen(val), 0};

	return op;
}

static struct store_op op_del(const char *key)
{
	struct store_op op = {key, strlen(key), NULL, 0, 1};

	return op;
}

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

/* ------------------------------------------------------------ hooks */

static void test_before_commit_failure_leaves_nothing_written(void **state)
{
	struct fx *f = *state;
	struct rumor_version v = ver("r", "v", 1, f->b, 1, 1);
	struct store_hwm raise;
	struct store_stats before, after;
	int changes;

	put(f, "k", "v");
	store_get_stats(f->s, &before);
	changes = f->n_changes;
	memcpy(raise.origin, f->b, STORE_ORIGIN_BYTES);
	raise.seq = 1;

	f->fail_at = f->commits + 1;
	assert_int_equal(store_put(f->s, "k", 1, "w", 1, NULL, NULL), RUMOR_EIO);
	f->fail_at = f->commits + 1;
	assert_int_equal(store_del(f->s, "k", 1, NULL, NULL), RUMOR_EIO);
	f->fail_at = f->commits + 1;
	assert_int_equal(store_apply_batch(f->s, &v, 1, &raise, 1, NULL, NULL),
			 RUMOR_EIO);
	f->fail_at = 0;

	store_get_stats(f->s, &after);
	assert_memory_equal(&before, &after, sizeof before);
	assert_int_equal(f->n_changes, changes);
	want_value(f->s, "k", "v");
	want_value(f->s, "r", NULL);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	assert_int_equal(store_local_seq(f->s), 1);
	expect_check_ok(f->s);
	fx_reopen(f);
	want_value(f->s, "k", "v");
	want_value(f->s, "r", NULL);
	assert_int_equal(store_local_seq(f->s), 1);
	expect_check_ok(f->s);

	/* And the store still works afterwards. */
	apply1(f, v, STORE_APPLIED);
	put(f, "k", "w");
	expect_check_ok(f->s);
}

static void test_on_change_reports_each_applied_change_in_order(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[3];

	put(f, "a", "1");
	assert_int_equal(store_del(f->s, "a", 1, NULL, NULL), 0);
	vs[0] = ver("b", "1", 1, f->b, 1, 1);
	vs[1] = ver("a", "0", 1, f->b, 2, 1);     /* stale: not reported */
	vs[2] = ver("c", NULL, 1, f->b, 3, 1);
	assert_int_equal(apply_n(f, vs, 3, NULL), 0);
	assert_int_equal(f->n_changes, 4);
	assert_string_equal(f->changes[0].key, "a");
	assert_int_equal(f->changes[0].local, 1);
	assert_int_equal(f->changes[0].seq, 1);
	assert_string_equal(f->changes[1].key, "a");
	assert_int_equal(f->changes[1].deleted, 1);
	assert_int_equal(f->changes[1].clock, 2);
	assert_string_equal(f->changes[2].key, "b");
	assert_int_equal(f->changes[2].local, 0);
	assert_string_equal(f->changes[3].key, "c");
	assert_int_equal(f->changes[3].deleted, 1);
	/* The hook tried to write each time and was refused. */
	assert_int_equal(f->write_in_hook_rv, RUMOR_EINVAL);
	want_value(f->s, "hook", NULL);
	expect_check_ok(f->s);
}

/* ------------------------------------------------------------ open, reopen */

static void test_open_twice_is_busy(void **state)
{
	struct fx *f = *state;
	struct store_options o;
	struct store *s2 = NULL;
	struct err e = {0};

	memset(&o, 0, sizeof o);
	o.origin = f->b;
	assert_int_equal(store_open(&s2, f->dir, &o, &e), RUMOR_EBUSY);
	assert_null(s2);
	assert_non_null(strstr(e.msg, f->dir));
}

static void test_reopen_keeps_everything(void **state)
{
	struct fx *f = *state;
	struct store_stats before, after;
	struct store_hwm raise;
	struct store_record *rec;

	put(f, "a", "1");
	put(f, "a", "2");
	put(f, "b", "1");
	assert_int_equal(store_del(f->s, "b", 1, NULL, NULL), 0);
	apply1(f, ver("r", "x", 4, f->b, 8, 77), STORE_APPLIED);
	memcpy(raise.origin, f->b, STORE_ORIGIN_BYTES);
	raise.seq = 8;
	assert_int_equal(store_apply_batch(f->s, NULL, 0, &raise, 1, NULL, NULL),
			 0);
	store_get_stats(f->s, &before);
	fx_reopen(f);
	store_get_stats(f->s, &after);
	assert_int_equal(after.keys, before.keys);
	assert_int_equal(after.tombstones, before.tombstones);
	assert_int_equal(after.log_entries, before.log_entries);
	assert_int_equal(after.keys, 2);
	assert_int_equal(after.tombstones, 1);
	want_value(f->s, "a", "2");
	want_value(f->s, "b", NULL);
	rec = version_of(f->s, "r");
	assert_int_equal(rec->v.clock, 4);
	assert_int_equal(rec->v.wall_ms, 77);
	assert_int_equal(rec->v.seq, 8);
	assert_memory_equal(rec->v.origin, f->b, STORE_ORIGIN_BYTES);
	store_record_free(rec);
	assert_int_equal(store_local_seq(f->s), 4);
	assert_int_equal(store_hwm(f->s, f->a), 4);
	assert_int_equal(store_hwm(f->s, f->b), 8);
	expect_check_ok(f->s);
	/* The seq counter continues. */
	put(f, "c", "1");
	assert_int_equal(store_local_seq(f->s), 5);
}

static void test_unknown_schema_is_corrupt(void **state)
{
	struct fx *f = *state;
	const uint8_t schema3[4] = {0, 0, 0, 3};
	struct err e = {0};

	put(f, "a", "1");
	assert_int_equal(store_debug_raw_put(f->s, "sschema", 7, schema3, 4,
					     NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "schema 3"));
	assert_null(f->s);
}

static void test_schema_1_store_is_refused_by_name(void **state)
{
	struct fx *f = *state;
	const uint8_t schema1[4] = {0, 0, 0, 1};
	struct err e = {0};

	/* Schema 1 kept values in d entries and 58-byte metas of format 1;
	 * the refusal must name the schema, not trip over an entry. */
	put(f, "a", "1");
	assert_int_equal(store_debug_raw_put(f->s, "da", 2, "1", 1, NULL), 0);
	assert_int_equal(store_debug_raw_put(f->s, "sschema", 7, schema1, 4,
					     NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "schema 1, this build reads schema 2"));
	assert_null(f->s);
}

static void test_open_of_a_foreign_leveldb_is_corrupt(void **state)
{
	struct fx *f = *state;
	struct err e = {0};

	/* A LevelDB with entries but no schema is not ours. */
	assert_int_equal(store_debug_raw_del(f->s, "sschema", 7, NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
}

/* ------------------------------------------------------------ check */

static void expect_corrupt(struct fx *f, const char *why)
{
	struct err e = {0};

	assert_int_equal(store_check(f->s, &e), RUMOR_ECORRUPT);
	if (strstr(e.msg, why) == NULL)
		fail_msg("store_check said '%s', expected '%s'", e.msg, why);
}

/* The m entry of a stored version: the 58-byte head, then value_len bytes
 * of value (whatever the flags say). Returns the length. */
static size_t meta_bytes(const struct store_record *rec, int deleted,
			 const char *value, size_t value_len, uint8_t *out)
{
	int i;

	out[0] = 2;                      /* META_FORMAT */
	out[1] = deleted ? 1 : 0;
	for (i = 0; i < 8; i++) {
		out[2 + i] = (uint8_t)(rec->v.clock >> (56 - 8 * i));
		out[10 + i] = (uint8_t)(rec->v.seq >> (56 - 8 * i));
		out[18 + i] = (uint8_t)(rec->v.wall_ms >> (56 - 8 * i));
	}
	memcpy(out + 26, rec->v.origin, STORE_ORIGIN_BYTES);
	memcpy(out + 58, value, value_len);
	return 58 + value_len;
}

static void test_check_detects_corruption(void **state)
{
	struct fx *f = *state;
	uint8_t lk[1 + STORE_ORIGIN_BYTES + 8];
	uint8_t hk[1 + STORE_ORIGIN_BYTES];
	const uint8_t seq9[8] = {0, 0, 0, 0, 0, 0, 0, 9};
	const uint8_t seq1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	struct store_record *rec;
	uint8_t meta[64];
	size_t len;

	put(f, "a", "1");
	put(f, "b", "1");
	assert_int_equal(store_del(f->s, "b", 1, NULL, NULL), 0);
	expect_check_ok(f->s);

	/* A bogus meta entry. */
	assert_int_equal(store_debug_raw_put(f->s, "mzz", 3, "bogus", 5, NULL),
			 0);
	expect_corrupt(f, "unreadable meta");
	assert_int_equal(store_debug_raw_del(f->s, "mzz", 3, NULL), 0);
	expect_check_ok(f->s);

	/* A well-formed meta naming another key's log entry: a's meta under
	 * a new key. */
	rec = version_of(f->s, "a");
	len = meta_bytes(rec, 0, "1", 1, meta);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_put(f->s, "mzz", 3, meta, len, NULL),
			 0);
	expect_corrupt(f, "another key's log entry");
	assert_int_equal(store_debug_raw_del(f->s, "mzz", 3, NULL), 0);
	expect_check_ok(f->s);

	/* A tombstone carrying a value (the value lives in the meta now). */
	rec = version_of(f->s, "b");
	assert_true(rec->v.deleted);
	len = meta_bytes(rec, 1, "x", 1, meta);
	assert_int_equal(store_debug_raw_put(f->s, "mb", 2, meta, len, NULL),
			 0);
	expect_corrupt(f, "tombstone with a value");
	len = meta_bytes(rec, 1, "", 0, meta);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_put(f->s, "mb", 2, meta, len, NULL),
			 0);
	expect_check_ok(f->s);

	/* A meta whose log entry tells another clock. */
	rec = version_of(f->s, "a");
	rec->v.clock = 7;
	len = meta_bytes(rec, 0, "1", 1, meta);
	assert_int_equal(store_debug_raw_put(f->s, "ma", 2, meta, len, NULL),
			 0);
	expect_corrupt(f, "disagree");
	rec->v.clock = 1;
	len = meta_bytes(rec, 0, "1", 1, meta);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_put(f->s, "ma", 2, meta, len, NULL),
			 0);
	expect_check_ok(f->s);

	/* A d entry of schema 1, left behind. */
	assert_int_equal(store_debug_raw_put(f->s, "da", 2, "1", 1, NULL), 0);
	expect_corrupt(f, "unknown prefix");
	assert_int_equal(store_debug_raw_del(f->s, "da", 2, NULL), 0);
	expect_check_ok(f->s);

	/* A log entry nobody names, of an origin the store never saw. */
	lk[0] = 'l';
	memcpy(lk + 1, f->b, STORE_ORIGIN_BYTES);
	memcpy(lk + 1 + STORE_ORIGIN_BYTES, seq1, 8);
	assert_int_equal(store_debug_raw_put(f->s, lk, sizeof lk,
					     "\1\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0a",
					     19, NULL), 0);
	expect_corrupt(f, "log_max");
	hk[0] = 'h';
	memcpy(hk + 1, f->b, STORE_ORIGIN_BYTES);
	assert_int_equal(store_debug_raw_put(f->s, hk, sizeof hk, seq9, 8,
					     NULL), 0);
	expect_corrupt(f, "HWM");    /* the memory view disagrees */
	assert_int_equal(store_debug_raw_del(f->s, hk, sizeof hk, NULL), 0);
	assert_int_equal(store_debug_raw_del(f->s, lk, sizeof lk, NULL), 0);
	expect_check_ok(f->s);

	/* Our own HWM changed behind the store's back. */
	hk[0] = 'h';
	memcpy(hk + 1, f->a, STORE_ORIGIN_BYTES);
	assert_int_equal(store_debug_raw_put(f->s, hk, sizeof hk, seq1, 8,
					     NULL), 0);
	expect_corrupt(f, "HWM");
	assert_int_equal(store_debug_raw_put(f->s, hk, sizeof hk,
					     "\0\0\0\0\0\0\0\3", 8, NULL), 0);
	expect_check_ok(f->s);

	/* An unknown prefix. */
	assert_int_equal(store_debug_raw_put(f->s, "q", 1, "", 0, NULL), 0);
	expect_corrupt(f, "unknown prefix");
}

static void test_check_accepts_log_entries_above_a_remote_hwm(void **state)
{
	struct fx *f = *state;
	struct rumor_version vs[2];
	int out[2];

	/* The sync layer applies a stream without raising HWMs and raises
	 * them when the stream completes; a cut stream leaves entries of b
	 * above HWM[b]. */
	vs[0] = ver("x", "1", 1, f->b, 5, 1);
	vs[1] = ver("y", NULL, 1, f->b, 9, 1);
	assert_int_equal(store_apply_batch(f->s, vs, 2, NULL, 0, out, NULL), 0);
	assert_int_equal(out[0], STORE_APPLIED);
	assert_int_equal(out[1], STORE_APPLIED);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	expect_check_ok(f->s);
}

static void test_check_refuses_own_log_entries_above_the_local_seq(void **state)
{
	struct fx *f = *state;
	uint8_t lk[1 + STORE_ORIGIN_BYTES + 8];

	put(f, "a", "1");
	expect_check_ok(f->s);
	/* An own log entry at seq 7 while the counter says 1: the next local
	 * writes would hand out seq 7 again. */
	memset(lk, 0, sizeof lk);
	lk[0] = 'l';
	memcpy(lk + 1, f->a, STORE_ORIGIN_BYTES);
	lk[sizeof lk - 1] = 7;
	assert_int_equal(store_debug_raw_put(f->s, lk, sizeof lk,
					     "\1\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0z",
					     19, NULL), 0);
	expect_corrupt(f, "local seq below an own log entry");
}

/* ------------------------------------------------------------ atomicity */

enum crash_kind { CRASH_PUT, CRASH_DEL, CRASH_APPLY, CRASH_BATCH };
#define CRASH_STEPS 5

/* The child's work: change i (1-based) of the kind. */
static int crash_change(struct fx *f, enum crash_kind kind, int i)
{
	struct rumor_version vs[3];
	struct store_op ops[4];
	struct store_hwm raise;
	char key[16], val[16], k2[16], k3[16];

	switch (kind) {
	case CRASH_PUT:
		snprintf(key, sizeof key, "k%d", i % 3);
		snprintf(val, sizeof val, "v%d", i);
		return store_put(f->s, key, strlen(key), val, strlen(val),
				 NULL, NULL);
	case CRASH_DEL:
		snprintf(key, sizeof key, "k%d", i - 1);
		return store_del(f->s, key, strlen(key), NULL, NULL);
	case CRASH_APPLY:
		snprintf(val, sizeof val, "s%d", i);
		snprintf(k2, sizeof k2, "a%d", i);
		snprintf(k3, sizeof k3, "t%d", i);
		vs[0] = ver("shared", val, (uint64_t)i + 1, f->b,
			    3 * (uint64_t)i - 2, 1);
		vs[1] = ver(k2, "x", 1, f->b, 3 * (uint64_t)i - 1, 1);
		vs[2] = ver(k3, NULL, 1, f->b, 3 * (uint64_t)i, 1);
		memcpy(raise.origin, f->b, STORE_ORIGIN_BYTES);
		raise.seq = 3 * (uint64_t)i;
		return store_apply_batch(f->s, vs, 3, &raise, 1, NULL, NULL);
	case CRASH_BATCH:
		/* A key written twice, a new key, a new tombstone. */
		snprintf(val, sizeof val, "s%d", i);
		snprintf(k2, sizeof k2, "a%d", i);
		snprintf(k3, sizeof k3, "t%d", i);
		ops[0] = op_put("shared", "tmp");
		ops[1] = op_put(k2, "x");
		ops[2] = op_put("shared", val);
		ops[3] = op_del(k3);
		return store_write_batch(f->s, ops, 4, NULL, NULL);
	}
	return -1;
}

/* What the store must hold after `done` changes of the kind. */
static void crash_expect(struct fx *f, enum crash_kind kind, int done)
{
	struct store_record *rec;
	struct store_stats st;
	char key[16], val[16];
	int i, k, last;

	store_get_stats(f->s, &st);
	switch (kind) {
	case CRASH_PUT:
		for (k = 0; k < 3; k++) {
			snprintf(key, sizeof key, "k%d", k);
			last = 0;
			for (i = 1; i <= done; i++)
				if (i % 3 == k)
					last = i;
			snprintf(val, sizeof val, "v%d", last);
			want_value(f->s, key, last ? val : NULL);
		}
		assert_int_equal(store_local_seq(f->s), (uint64_t)done);
		assert_int_equal(st.log_entries, (uint64_t)(done < 3 ? done : 3));
		break;
	case CRASH_DEL:
		for (k = 0; k < CRASH_STEPS; k++) {
			snprintf(key, sizeof key, "k%d", k);
			rec = version_of(f->s, key);
			assert_int_equal(rec->v.deleted, k < done);
			assert_int_equal(rec->v.clock, k < done ? 2 : 1);
			store_record_free(rec);
		}
		assert_int_equal(store_local_seq(f->s),
				 (uint64_t)(CRASH_STEPS + done));
		assert_int_equal(st.tombstones, (uint64_t)done);
		break;
	case CRASH_APPLY:
	case CRASH_BATCH:
		snprintf(val, sizeof val, "s%d", done);
		want_value(f->s, "shared", done ? val : NULL);
		for (i = 1; i <= CRASH_STEPS; i++) {
			snprintf(key, sizeof key, "a%d", i);
			want_value(f->s, key, i <= done ? "x" : NULL);
			snprintf(key, sizeof key, "t%d", i);
			if (i <= done) {
				rec = version_of(f->s, key);
				assert_true(rec->v.deleted);
				store_record_free(rec);
			} else {
				assert_int_equal(store_get_version(f->s, key,
						 strlen(key), &rec, NULL),
						 RUMOR_ENOTFOUND);
			}
		}
		assert_int_equal(st.log_entries,
				 (uint64_t)(done ? 1 + 2 * done : 0));
		if (kind == CRASH_APPLY) {
			assert_int_equal(store_hwm(f->s, f->b),
					 3 * (uint64_t)done);
			break;
		}
		assert_int_equal(store_local_seq(f->s), 4 * (uint64_t)done);
		assert_int_equal(store_hwm(f->s, f->a), 4 * (uint64_t)done);
		if (done > 0) {
			rec = version_of(f->s, "shared");
			assert_int_equal(rec->v.clock, 2 * (uint64_t)done);
			assert_int_equal(rec->v.seq, 4 * (uint64_t)done - 1);
			store_record_free(rec);
		}
		break;
	}
}

static void crash_at_each_commit(struct fx *f, enum crash_kind kind)
{
	int k, i, status;
	pid_t pid;

	for (k = 1; k <= CRASH_STEPS; k++) {
		/* A fresh store per k. */
		store_close(f->s);
		f->s = NULL;
		tu_rmrf(f->dir);
		fx_open(f);
		if (kind == CRASH_DEL) {
			for (i = 0; i < CRASH_STEPS; i++) {
				char key[16];

				snprintf(key, sizeof key, "k%d", i);
				put(f, key, "v");
			}
		}
		store_close(f->s);
		f->s = NULL;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* The child: no cmocka here, only exit codes. */
			f->commits = 0;
			f->exit_at = k;
			if (fx_open_with(f, f->r, NULL) != 0)
				_exit(2);
			for (i = 1; i <= CRASH_STEPS; i++)
				if (crash_change(f, kind, i) != 0)
					_exit(3);
			_exit(4);       /* never crashed */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);

		fx_open(f);
		expect_check_ok(f->s);
		crash_expect(f, kind, k - 1);
		/* The store goes on from there. */
		assert_int_equal(crash_change(f, kind, k), 0);
		expect_check_ok(f->s);
		crash_expect(f, kind, k);
	}
}

static void test_crash_in_local_put_is_all_or_nothing(void **state)
{
	crash_at_each_commit(*state, CRASH_PUT);
}

static void test_crash_in_local_delete_is_all_or_nothing(void **state)
{
	crash_at_each_commit(*state, CRASH_DEL);
}

static void test_crash_in_apply_batch_is_all_or_nothing(void **state)
{
	crash_at_each_commit(*state, CRASH_APPLY);
}

static void test_crash_in_local_write_batch_is_all_or_nothing(void **state)
{
	crash_at_each_commit(*state, CRASH_BATCH);
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
		T(test_before_commit_failure_leaves_nothing_written),
		T(test_on_change_reports_each_applied_change_in_order),
		T(test_open_twice_is_busy),
		T(test_reopen_keeps_everything),
		T(test_unknown_schema_is_corrupt),
		T(test_schema_1_store_is_refused_by_name),
		T(test_open_of_a_foreign_leveldb_is_corrupt),
		T(test_check_detects_corruption),
		T(test_check_accepts_log_entries_above_a_remote_hwm),
		T(test_check_refuses_own_log_entries_above_the_local_seq),
		T(test_crash_in_local_put_is_all_or_nothing),
		T(test_crash_in_local_delete_is_all_or_nothing),
		T(test_crash_in_apply_batch_is_all_or_nothing),
		T(test_crash_in_local_write_batch_is_all_or_nothing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
