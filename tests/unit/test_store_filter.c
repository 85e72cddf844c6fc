/* SPDX-License-Identifier: MIT */
/*
 * test_store_filter: the replicate set a store holds (store_options.filter):
 * opened with the same set, a narrower one (keys outside dropped, the feed
 * floor raised, self-completeness lost when an own write goes; crash-safe),
 * a wider or different one (HWMs of other origins reset), and remote
 * versions outside the set (not stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_store_fixture.h"

static void set_of(struct prefixes *ps, const char *a, const char *b)
{
	const void *p[2] = {a, b};
	size_t len[2] = {strlen(a), b != NULL ? strlen(b) : 0};

	memset(ps, 0, sizeof *ps);
	assert_int_equal(prefixes_set(ps, p, len, b != NULL ? 2 : 1, "test",
				      NULL), 0);
}

static int has_key(struct fx *f, const char *k)
{
	struct store_record *rec = NULL;
	int rv = store_get_version(f->s, k, strlen(k), &rec, NULL);

	store_record_free(rec);
	return rv == 0;
}

static void reopen_with(struct fx *f, const struct prefixes *ps)
{
	f->filter = ps;
	fx_reopen(f);
}

static void test_narrower_set_drops_the_keys_outside(void **state)
{
	struct fx *f = *state;
	struct prefixes ps;
	uint64_t dropped = 0, head;

	put(f, "a/1", "x");
	put(f, "b/1", "x");                             /* own write */
	apply1(f, ver("c/1", "y", 1, f->b, 1, 5), STORE_APPLIED);
	assert_int_equal(store_del(f->s, "c/2", 3, NULL, NULL), 0);
	head = store_feed_head(f->s);
	assert_true(store_self_complete(f->s));
	set_of(&ps, "a/", NULL);
	reopen_with(f, &ps);
	assert_int_equal(store_filter_opened(f->s, &dropped),
			 STORE_FILTER_NARROWED);
	assert_int_equal(dropped, 3);
	assert_true(has_key(f, "a/1"));
	assert_false(has_key(f, "b/1"));
	assert_false(has_key(f, "c/1"));
	assert_false(has_key(f, "c/2"));
	assert_int_equal(store_filter(f->s)->n, 1);
	/* A reader from below the drops would miss them. */
	assert_int_equal(store_feed_floor(f->s), head);
	assert_int_equal(store_feed_head(f->s), head);
	/* b/1 was this node's: it no longer holds every write it made. */
	assert_false(store_self_complete(f->s));
	expect_check_ok(f->s);
	/* The same set again: nothing happens; the flag stays. */
	reopen_with(f, &ps);
	assert_int_equal(store_filter_opened(f->s, NULL), STORE_FILTER_SAME);
	assert_false(store_self_complete(f->s));
	put(f, "a/2", "x");
	assert_int_equal(store_feed_head(f->s), head + 1);
	expect_check_ok(f->s);
	f->filter = NULL;
	prefixes_free(&ps);
}

static void test_dropping_only_remote_keys_keeps_self_complete(void **state)
{
	struct fx *f = *state;
	struct prefixes ps;

	put(f, "a/1", "x");
	apply1(f, ver("c/1", "y", 1, f->b, 1, 5), STORE_APPLIED);
	set_of(&ps, "a/", NULL);
	reopen_with(f, &ps);
	assert_false(has_key(f, "c/1"));
	assert_true(store_self_complete(f->s));
	expect_check_ok(f->s);
	f->filter = NULL;
	prefixes_free(&ps);
}

static void test_wider_set_resets_other_hwms(void **state)
{
	struct fx *f = *state;
	struct prefixes ps;
	uint64_t own;

	set_of(&ps, "a/", NULL);
	reopen_with(f, &ps);
	put(f, "a/1", "x");
	apply1(f, ver("a/2", "y", 1, f->b, 4, 5), STORE_APPLIED);
	assert_int_equal(store_hwm(f->s, f->b), 4);
	own = store_hwm(f->s, f->a);
	assert_int_equal(own, 1);
	/* Every key now: the HWM of b claimed only a/ keys. */
	reopen_with(f, NULL);
	assert_int_equal(store_filter_opened(f->s, NULL),
			 STORE_FILTER_WIDENED);
	assert_int_equal(store_filter(f->s)->n, 0);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	assert_int_equal(store_hwm(f->s, f->a), own);
	assert_true(has_key(f, "a/1"));
	assert_true(has_key(f, "a/2"));
	expect_check_ok(f->s);
	prefixes_free(&ps);
}

static void test_different_set_drops_and_resets(void **state)
{
	struct fx *f = *state;
	struct prefixes pa, pb;

	set_of(&pa, "a/", NULL);
	set_of(&pb, "b/", "a/keep");
	reopen_with(f, &pa);
	apply1(f, ver("a/1", "y", 1, f->b, 1, 5), STORE_APPLIED);
	apply1(f, ver("a/keep", "y", 1, f->b, 2, 5), STORE_APPLIED);
	reopen_with(f, &pb);
	assert_int_equal(store_filter_opened(f->s, NULL),
			 STORE_FILTER_WIDENED);
	assert_false(has_key(f, "a/1"));
	assert_true(has_key(f, "a/keep"));
	assert_int_equal(store_hwm(f->s, f->b), 0);
	expect_check_ok(f->s);
	f->filter = NULL;
	prefixes_free(&pa);
	prefixes_free(&pb);
}

static void test_remote_versions_outside_are_not_stored(void **state)
{
	struct fx *f = *state;
	struct prefixes ps;
	uint64_t head;

	set_of(&ps, "a/", NULL);
	reopen_with(f, &ps);
	head = store_feed_head(f->s);
	apply1(f, ver("z/1", "y", 1, f->b, 3, 5), STORE_OUTSIDE);
	assert_false(has_key(f, "z/1"));
	assert_int_equal(store_feed_head(f->s), head);
	/* The HWM asked for moves all the same. */
	assert_int_equal(store_hwm(f->s, f->b), 3);
	apply1(f, ver("a/1", "y", 1, f->b, 4, 5), STORE_APPLIED);
	expect_check_ok(f->s);
	f->filter = NULL;
	prefixes_free(&ps);
}

/* A narrowing whose last commit fails (a crash there) leaves the old
 * set: the next open finishes it, with the floor at the old head. */
static void test_interrupted_narrowing_is_finished_at_next_open(void **state)
{
	struct fx *f = *state;
	struct prefixes ps;
	struct err e = {0};
	uint64_t head;

	put(f, "a/1", "x");
	put(f, "b/1", "x");
	put(f, "b/2", "x");
	head = store_feed_head(f->s);
	set_of(&ps, "a/", NULL);
	store_close(f->s);
	f->s = NULL;
	f->filter = &ps;
	f->commits = 0;
	f->fail_at = 1;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_EIO);
	assert_null(f->s);
	f->fail_at = 0;
	fx_open(f);
	assert_false(has_key(f, "b/1"));
	assert_false(has_key(f, "b/2"));
	assert_int_equal(store_feed_floor(f->s), head);
	assert_false(store_self_complete(f->s));
	expect_check_ok(f->s);
	f->filter = NULL;
	prefixes_free(&ps);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_narrower_set_drops_the_keys_outside),
		T(test_dropping_only_remote_keys_keeps_self_complete),
		T(test_wider_set_resets_other_hwms),
		T(test_different_set_drops_and_resets),
		T(test_remote_versions_outside_are_not_stored),
		T(test_interrupted_narrowing_is_finished_at_next_open),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
