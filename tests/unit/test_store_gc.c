/* SPDX-License-Identifier: MIT */
/* Unit tests of tombstone collection (src/store/gc.c): it removes exactly
 * the covered tombstones, never a live key, reads nothing when there is
 * nothing to collect, goes on where the last call stopped, and keeps its
 * index exact through local writes, remote applies and reopen; a local
 * write after a collection gets a clock above every clock collected. */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testutil.h"

static void del(struct fx *f, const char *k)
{
	assert_int_equal(store_del(f->s, k, strlen(k), NULL, NULL), 0);
}

/* Applies one remote version of origin b (a deletion when v is NULL). */
static void apply_b(struct fx *f, const char *k, const char *v,
		    uint64_t clock, uint64_t seq)
{
	apply1(f, ver(k, v, clock, f->b, seq, 5000), STORE_APPLIED);
}

static int has_version(struct fx *f, const char *k)
{
	struct store_record *rec;
	int rv = store_get_version(f->s, k, strlen(k), &rec, NULL);

	if (rv == 0)
		store_record_free(rec);
	return rv == 0;
}

/* A covered() that counts its calls and says yes to seqs up to limit of
 * origin who (any origin when who is NULL). */
struct cover {
	const uint8_t *who;
	uint64_t limit;
	size_t calls;
	uint8_t *seen;          /* if not NULL: seen[seq] = 1 for each ask */
	size_t n_seen;
};

static int cover_cb(void *arg, const uint8_t *origin, uint64_t seq)
{
	struct cover *c = arg;

	c->calls++;
	if (c->seen != NULL && seq < c->n_seen)
		c->seen[seq] = 1;
	if (c->who != NULL && memcmp(origin, c->who, STORE_ORIGIN_BYTES) != 0)
		return 0;
	return seq <= c->limit;
}

static size_t collect(struct fx *f, struct cover *c, size_t max)
{
	size_t removed = 99;
	struct err e = {0};

	if (store_collect_tombstones(f->s, cover_cb, c, max, &removed, &e) != 0)
		fail_msg("store_collect_tombstones: %s", e.msg);
	return removed;
}

static void test_collect_without_tombstones_reads_nothing(void **state)
{
	struct fx *f = *state;
	struct cover c = {NULL, UINT64_MAX, 0, NULL, 0};
	struct store_stats st;
	char k[16];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(k, sizeof k, "k%03d", i);
		put(f, k, "v");
	}
	assert_int_equal(collect(f, &c, 0), 0);
	assert_int_equal(c.calls, 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.gc_reads, 0);
	assert_int_equal(st.gc_cache_reads, 0);
	assert_int_equal(st.keys, 200);
}

static void test_collect_removes_exactly_the_covered(void **state)
{
	struct fx *f = *state;
	struct cover c = {NULL, 0, 0, NULL, 0};
	struct store_stats st;

	put(f, "live", "v");                 /* a1 */
	put(f, "gone", "v");                 /* a2 */
	del(f, "gone");                      /* a3 */
	apply_b(f, "r1", NULL, 1, 1);        /* b1: a remote tombstone */
	apply_b(f, "r2", "x", 1, 2);         /* b2: live */
	apply_b(f, "r3", NULL, 1, 3);        /* b3 */
	expect_check_ok(f->s);

	/* b's tombstones up to b1: one of three. */
	c.who = f->b;
	c.limit = 1;
	assert_int_equal(collect(f, &c, 0), 1);
	assert_int_equal(c.calls, 3);        /* each tombstone asked once */
	assert_false(has_version(f, "r1"));
	assert_true(has_version(f, "r3"));
	assert_true(has_version(f, "gone"));
	expect_check_ok(f->s);

	/* Everything covered: the other two, never a live key. */
	c.who = NULL;
	c.limit = UINT64_MAX;
	assert_int_equal(collect(f, &c, 0), 2);
	assert_false(has_version(f, "gone"));
	assert_false(has_version(f, "r3"));
	assert_true(has_version(f, "live"));
	assert_true(has_version(f, "r2"));
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.keys, 2);
	assert_int_equal(st.collected, 3);
	/* Each removal reads its log entry and its meta, around the cache. */
	assert_int_equal(st.gc_reads, 6);
	assert_int_equal(st.gc_cache_reads, 0);
	expect_check_ok(f->s);
	c.calls = 0;
	assert_int_equal(collect(f, &c, 0), 0);
	assert_int_equal(c.calls, 0);
}

/* The second stage: covered() answers "depends on the key" for b's
 * tombstones; covered_key gets each one's key and keeps those it says
 * no to (the key is read once, with the removal's read). */
static int depends_cb(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return STORE_COVERED_KEY;
}

struct keyed {
	size_t calls;
	char last[16];
};

static int by_key_cb(void *arg, const uint8_t *origin, uint64_t seq,
		     const void *key, size_t len)
{
	struct keyed *k = arg;

	(void)origin;
	(void)seq;
	k->calls++;
	snprintf(k->last, sizeof(k->last), "%.*s", (int)len,
		 (const char *)key);
	return len >= 2 && memcmp(key, "o/", 2) == 0;
}

static void test_collect_asks_by_key_when_told_to(void **state)
{
	struct fx *f = *state;
	struct keyed k = { 0 };
	struct store_stats st;
	size_t removed = 9;

	apply_b(f, "o/1", NULL, 1, 1);       /* outside: goes */
	apply_b(f, "i/1", NULL, 1, 2);       /* inside: stays */
	assert_int_equal(store_collect_tombstones_keyed(f->s, depends_cb,
							by_key_cb, &k, 0,
							&removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(k.calls, 2);
	assert_false(has_version(f, "o/1"));
	assert_true(has_version(f, "i/1"));
	expect_check_ok(f->s);
	/* Without a second stage, "depends" is "not covered". */
	assert_int_equal(store_collect_tombstones(f->s, depends_cb, &k, 0,
						  &removed, NULL), 0);
	assert_int_equal(removed, 0);
	assert_true(has_version(f, "i/1"));
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 1);
	/* The kept one cost one read (its log entry), the removed two. */
	assert_int_equal(st.gc_reads, 3);
}

static void test_replaced_tombstones_leave_the_index(void **state)
{
	struct fx *f = *state;
	struct cover c = {NULL, UINT64_MAX, 0, NULL, 0};
	struct store_op ops[3];
	struct store_stats st;

	/* A local put over a tombstone, a remote version over one. */
	del(f, "x");                         /* a1 */
	put(f, "x", "back");                 /* a2 */
	apply_b(f, "y", NULL, 1, 1);
	apply_b(f, "y", "back", 2, 2);
	/* In one batch: deleted then put (no tombstone left), put then
	 * deleted (one), deleted twice (one, the later). */
	memset(ops, 0, sizeof ops);
	ops[0].key = "p";
	ops[0].key_len = 1;
	ops[0].del = 1;
	ops[1].key = "p";
	ops[1].key_len = 1;
	ops[1].value = "v";
	ops[1].value_len = 1;
	ops[2].key = "q";
	ops[2].key_len = 1;
	ops[2].del = 1;
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), 0);
	ops[0].key = "q";
	ops[1].key = "r";
	ops[1].del = 1;
	ops[1].value = NULL;
	ops[1].value_len = 0;
	ops[2].key = "r";
	assert_int_equal(store_write_batch(f->s, ops, 3, NULL, NULL), 0);
	expect_check_ok(f->s);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 2);  /* q, r */

	assert_int_equal(collect(f, &c, 0), 2);
	assert_int_equal(c.calls, 2);
	assert_true(has_version(f, "x"));
	assert_true(has_version(f, "y"));
	assert_true(has_version(f, "p"));
	assert_false(has_version(f, "q"));
	assert_false(has_version(f, "r"));
	expect_check_ok(f->s);
}

static void test_collect_is_bounded_and_resumes(void **state)
{
	struct fx *f = *state;
	struct cover c = {NULL, 0, 0, NULL, 0};
	struct store_op *ops;
	struct store_stats st;
	size_t n = STORE_COLLECT_SCAN_MAX + 1000, i, calls, got;
	char *keys;
	uint8_t *seen;

	ops = calloc(n, sizeof *ops);
	seen = calloc(n + 1, 1);
	assert_non_null(seen);
	c.seen = seen;
	c.n_seen = n + 1;
	keys = calloc(n, 8);
	assert_non_null(ops);
	assert_non_null(keys);
	for (i = 0; i < n; i++) {
		snprintf(keys + 8 * i, 8, "d%06zu", i);
		ops[i].key = keys + 8 * i;
		ops[i].key_len = 7;
		ops[i].del = 1;
	}
	assert_int_equal(store_write_batch(f->s, ops, n, NULL, NULL), 0);

	/* Nothing covered: a call asks about at most SCAN_MAX tombstones,
	 * the next goes on with the others: two calls ask about all. */
	assert_int_equal(collect(f, &c, 0), 0);
	assert_int_equal(c.calls, STORE_COLLECT_SCAN_MAX);
	c.calls = 0;
	assert_int_equal(collect(f, &c, 0), 0);
	assert_int_equal(c.calls, STORE_COLLECT_SCAN_MAX);
	for (i = 1; i <= n; i++)
		assert_int_equal(seen[i], 1);
	store_get_stats(f->s, &st);
	assert_int_equal(st.gc_reads, 0);

	/* At most max removals a call; all covered ones go in the end. */
	c.limit = UINT64_MAX;
	assert_int_equal(collect(f, &c, 10), 10);
	for (calls = 0, got = 10; got < n && calls < 10; calls++)
		got += collect(f, &c, 0);
	assert_int_equal(got, n);
	store_get_stats(f->s, &st);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.collected, n);
	expect_check_ok(f->s);
	free(ops);
	free(keys);
	free(seen);
}

static void test_index_is_rebuilt_at_open(void **state)
{
	struct fx *f = *state;
	struct cover c = {NULL, UINT64_MAX, 0, NULL, 0};

	put(f, "a", "1");
	del(f, "a");
	del(f, "b");
	apply_b(f, "c", NULL, 1, 7);
	fx_reopen(f);
	expect_check_ok(f->s);
	assert_int_equal(collect(f, &c, 0), 3);
	assert_int_equal(c.calls, 3);
	expect_check_ok(f->s);
	fx_reopen(f);
	c.calls = 0;
	assert_int_equal(collect(f, &c, 0), 0);
	assert_int_equal(c.calls, 0);
}

/* ------------------------------------------------------------ clock floor */

/* A second node (origin b) beside the fixture's store: its own directory
 * and wall clock. */
struct peer {
	char *dir;
	struct store *s;
	uint64_t now;
};

static uint64_t peer_now(void *arg)
{
	struct peer *p = arg;

	return p->now;
}

static void peer_open(struct peer *p, struct fx *f)
{
	struct store_options o;
	struct err e = {0};

	memset(&o, 0, sizeof o);
	o.origin = f->b;
	o.resolver = f->r;
	o.hooks.now_ms = peer_now;
	o.hooks.arg = p;
	if (store_open(&p->s, p->dir, &o, &e) != 0)
		fail_msg("store_open (peer): %s", e.msg);
}

/* Applies the version s holds for key to dst, raising its origin's HWM to
 * it as the sync layer does; returns the outcome. */
static int copy_version(struct store *s, struct store *dst, const char *key)
{
	struct store_record *rec = version_of(s, key);
	struct store_hwm raise;
	struct err e = {0};
	int out = 0;

	memcpy(raise.origin, rec->v.origin, STORE_ORIGIN_BYTES);
	raise.seq = rec->v.seq;
	if (store_apply_batch(dst, &rec->v, 1, &raise, 1, &out, &e) != 0)
		fail_msg("store_apply_batch: %s", e.msg);
	store_record_free(rec);
	return out;
}

static uint64_t clock_of(struct store *s, const char *key)
{
	struct store_record *rec = version_of(s, key);
	uint64_t clock = rec->v.clock;

	store_record_free(rec);
	return clock;
}

/* The simulator's find (SIM.md, found 1): B collects a tombstone that A
 * still holds, then writes the key again. With nothing left for the key,
 * B's put used to start at clock 1 and lose on A, whose HWM then covered
 * it: A and B differed for good. B's clock wall is behind A's, so even a
 * same-clock put would lose by wall time: only a higher clock wins. */
static void test_rewrite_after_collection_beats_the_tombstone(void **state)
{
	struct fx *f = *state;
	struct cover always = {NULL, UINT64_MAX, 0, NULL, 0};
	struct peer b = {NULL, NULL, 500};
	struct err e = {0};
	size_t removed = 0;

	b.dir = tu_tmpdir("store-peer");
	peer_open(&b, f);
	put(f, "k", "old");                          /* a1, clock 1 */
	del(f, "k");                                 /* a2, clock 2 */
	assert_int_equal(copy_version(f->s, b.s, "k"), STORE_APPLIED);
	assert_int_equal(store_collect_tombstones(b.s, cover_cb, &always, 0,
						  &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_put(b.s, "k", 1, "new", 3, NULL, &e), 0);
	assert_true(clock_of(b.s, "k") > 2);

	/* A still holds the tombstone: the put must replace it. */
	assert_int_equal(copy_version(b.s, f->s, "k"), STORE_APPLIED);
	want_value(f->s, "k", "new");
	want_value(b.s, "k", "new");
	expect_check_ok(f->s);
	expect_check_ok(b.s);
	store_close(b.s);
	tu_rmrf(b.dir);
	free(b.dir);
}

/* The floor is what a committed collection removed, kept across reopen;
 * a refused collection and remote applies leave it where it was. */
static void test_clock_floor_follows_committed_collections(void **state)
{
	struct fx *f = *state;
	struct cover always = {NULL, UINT64_MAX, 0, NULL, 0};
	size_t removed = 99;

	apply_b(f, "far", "v", 50, 1);       /* a remote clock: no floor */
	put(f, "n1", "v");
	assert_int_equal(clock_of(f->s, "n1"), 1);

	apply_b(f, "t", NULL, 7, 2);         /* a tombstone, clock 7 */
	f->fail_at = f->commits + 1;
	assert_int_not_equal(store_collect_tombstones(f->s, cover_cb, &always,
						      0, &removed, NULL), 0);
	f->fail_at = 0;
	put(f, "n2", "v");
	assert_int_equal(clock_of(f->s, "n2"), 1);

	assert_int_equal(collect(f, &always, 0), 1);
	put(f, "n3", "v");                   /* any key: the floor is */
	assert_int_equal(clock_of(f->s, "n3"), 8);  /* node-wide */
	put(f, "far", "w");                  /* above the floor: its own */
	assert_int_equal(clock_of(f->s, "far"), 51);
	expect_check_ok(f->s);

	fx_reopen(f);
	expect_check_ok(f->s);
	put(f, "t", "again");
	assert_int_equal(clock_of(f->s, "t"), 8);
	/* A later collection of a lower clock does not lower it. */
	apply_b(f, "low", NULL, 3, 3);
	assert_int_equal(collect(f, &always, 0), 1);
	put(f, "n4", "v");
	assert_int_equal(clock_of(f->s, "n4"), 8);
	expect_check_ok(f->s);
	fx_reopen(f);
	put(f, "n5", "v");
	assert_int_equal(clock_of(f->s, "n5"), 8);
}

static void expect_check_says(struct store *s, const char *why)
{
	struct err e = {0};

	assert_int_equal(store_check(s, &e), RUMOR_ECORRUPT);
	if (strstr(e.msg, why) == NULL)
		fail_msg("store_check said '%s', expected '%s'", e.msg, why);
}

/* The floor entry is checked and read like the other singletons: a bad
 * one is reported by store_check and refused at open, never guessed. */
static void test_clock_floor_entry_is_checked(void **state)
{
	struct fx *f = *state;
	struct cover always = {NULL, UINT64_MAX, 0, NULL, 0};
	const char *key = "sclockfloor";
	struct err e = {0};

	apply_b(f, "t", NULL, 7, 1);
	assert_int_equal(collect(f, &always, 0), 1);
	expect_check_ok(f->s);

	assert_int_equal(store_debug_raw_put(f->s, key, strlen(key),
					     "\0\0\0\0\0\0\0\5", 8, NULL), 0);
	expect_check_says(f->s, "clock floor differs");
	assert_int_equal(store_debug_raw_put(f->s, key, strlen(key),
					     "\0\0\0\7", 4, NULL), 0);
	expect_check_says(f->s, "bad clock floor");
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "clock floor"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_collect_without_tombstones_reads_nothing),
		T(test_collect_removes_exactly_the_covered),
		T(test_collect_asks_by_key_when_told_to),
		T(test_replaced_tombstones_leave_the_index),
		T(test_collect_is_bounded_and_resumes),
		T(test_index_is_rebuilt_at_open),
		T(test_rewrite_after_collection_beats_the_tombstone),
		T(test_clock_floor_follows_committed_collections),
		T(test_clock_floor_entry_is_checked),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
