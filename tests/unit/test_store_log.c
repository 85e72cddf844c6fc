/* SPDX-License-Identifier: MIT */
/* Unit tests of store_log_newest: the newest log entries per origin,
 * newest first, read backwards (what rumorctl's log lists, online and
 * offline). */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/format.h"

#define NEWEST_MAX 64

/* What store_log_newest gave, in order. */
struct newest {
	int n;
	uint8_t origin[NEWEST_MAX];      /* the origin's first byte */
	uint64_t seq[NEWEST_MAX];
	char key[NEWEST_MAX][16];
	size_t value_len[NEWEST_MAX];
	int deleted[NEWEST_MAX];
	int value_null[NEWEST_MAX];
	int stop_after;                  /* 0: never stop */
};

static int newest_collect(void *arg, const struct rumor_version *v)
{
	struct newest *w = arg;
	size_t n = v->key_len < 15 ? v->key_len : 15;

	assert_true(w->n < NEWEST_MAX);
	assert_int_equal(v->origin_len, STORE_ORIGIN_BYTES);
	w->origin[w->n] = v->origin[0];
	w->seq[w->n] = v->seq;
	memcpy(w->key[w->n], v->key, n);
	w->key[w->n][n] = '\0';
	w->value_len[w->n] = v->value_len;
	w->deleted[w->n] = v->deleted;
	w->value_null[w->n] = v->value == NULL;
	w->n++;
	return w->stop_after != 0 && w->n == w->stop_after;
}

static struct newest newest(struct fx *f, const uint8_t *origin, size_t max)
{
	struct newest w;
	struct err err;

	memset(&w, 0, sizeof w);
	err_clear(&err);
	if (store_log_newest(f->s, origin, max, newest_collect, &w, &err) != 0)
		fail_msg("store_log_newest: %s", err.msg);
	return w;
}

/* n puts of keys "<prefix><i>" (i from 0), values of i + 1 bytes. */
static void put_n(struct fx *f, const char *prefix, int n)
{
	char key[16], value[64];

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%s%d", prefix, i);
		memset(value, 'v', (size_t)i + 1);
		value[i + 1] = '\0';
		put(f, key, value);
	}
}

static void test_log_newest_of_an_empty_log_gives_nothing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(newest(f, NULL, 20).n, 0);
	assert_int_equal(newest(f, f->a, 20).n, 0);
	assert_int_equal(newest(f, NULL, 0).n, 0);
}

static void test_log_newest_gives_fewer_than_max_newest_first(void **state)
{
	struct fx *f = *state;
	struct newest w;

	put_n(f, "k", 3);
	assert_int_equal(store_del(f->s, "k1", 2, NULL, NULL), 0);   /* seq 4 */
	w = newest(f, f->a, 20);
	assert_int_equal(w.n, 3);       /* k1's seq 2 was replaced */
	assert_int_equal(w.seq[0], 4);
	assert_string_equal(w.key[0], "k1");
	assert_true(w.deleted[0]);
	assert_int_equal(w.value_len[0], 0);
	assert_int_equal(w.seq[1], 3);
	assert_string_equal(w.key[1], "k2");
	assert_int_equal(w.value_len[1], 3);
	assert_int_equal(w.seq[2], 1);
	assert_string_equal(w.key[2], "k0");
	assert_int_equal(w.value_len[2], 1);
	/* Sizes only, for every entry. */
	for (int i = 0; i < w.n; i++)
		assert_true(w.value_null[i]);
	/* NULL: every origin, the same here. */
	assert_int_equal(newest(f, NULL, 20).n, 3);
}

static void test_log_newest_keeps_only_the_newest_max(void **state)
{
	struct fx *f = *state;
	struct newest w;

	put_n(f, "k", 30);
	w = newest(f, f->a, 5);
	assert_int_equal(w.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(w.seq[i], 30 - (uint64_t)i);
	assert_string_equal(w.key[0], "k29");
	assert_string_equal(w.key[4], "k25");
	assert_int_equal(w.value_len[0], 30);
	/* max 0: all of them, still newest first. */
	w = newest(f, f->a, 0);
	assert_int_equal(w.n, 30);
	assert_int_equal(w.seq[29], 1);
}

/* Origins a (0x11..), b (0x22..), c (0x33..): each origin's newest in
 * origin order; an origin named that has no entries gives none. */
static void test_log_newest_walks_several_origins_in_origin_order(void **state)
{
	struct fx *f = *state;
	uint8_t d[STORE_ORIGIN_BYTES], e[STORE_ORIGIN_BYTES];
	struct newest w;

	apply1(f, ver("c1", "x", 1, f->c, 1, 5), STORE_APPLIED);
	apply1(f, ver("c2", "xy", 1, f->c, 2, 5), STORE_APPLIED);
	put_n(f, "a", 4);
	for (uint64_t i = 1; i <= 6; i++) {
		char key[8];

		snprintf(key, sizeof key, "b%d", (int)i);
		apply1(f, ver(key, "y", 1, f->b, i * 10, 5), STORE_APPLIED);
	}
	w = newest(f, NULL, 3);
	assert_int_equal(w.n, 3 + 3 + 2);
	assert_int_equal(w.origin[0], 0x11);
	assert_int_equal(w.seq[0], 4);
	assert_int_equal(w.seq[2], 2);
	assert_int_equal(w.origin[3], 0x22);
	assert_int_equal(w.seq[3], 60);
	assert_int_equal(w.seq[5], 40);
	assert_int_equal(w.origin[6], 0x33);
	assert_int_equal(w.seq[6], 2);
	assert_string_equal(w.key[7], "c1");
	/* One origin only. */
	w = newest(f, f->b, 2);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.origin[1], 0x22);
	assert_int_equal(w.seq[1], 50);
	/* An origin with an HWM but no entry, one the store never saw (between
	 * a and b, and after every other), and one whose entries all went. */
	memset(d, 0x18, sizeof d);
	memset(e, 0xff, sizeof e);
	apply1(f, ver("c1", "z", 9, f->a, 99, 5), STORE_APPLIED);
	assert_int_equal(newest(f, d, 20).n, 0);
	assert_int_equal(newest(f, e, 20).n, 0);
	apply1(f, ver("c2", "z", 9, f->b, 98, 5), STORE_APPLIED);
	assert_int_equal(newest(f, f->c, 20).n, 0);
	w = newest(f, NULL, 1);
	assert_int_equal(w.n, 2);       /* c has none left */
	assert_int_equal(w.seq[0], 99);
	assert_int_equal(w.seq[1], 98);
	expect_check_ok(f->s);
}

/* The seek to an origin's end lands on the entry itself when its seq is
 * the largest there is, and the next origin is found after it. */
static void test_log_newest_at_the_edges_of_the_key_space(void **state)
{
	struct fx *f = *state;
	uint8_t top[STORE_ORIGIN_BYTES];
	struct newest w;

	memset(top, 0xff, sizeof top);
	apply1(f, ver("b", "1", 1, f->b, UINT64_MAX - 1, 5), STORE_APPLIED);
	apply1(f, ver("b2", "1", 1, f->b, UINT64_MAX, 5), STORE_APPLIED);
	apply1(f, ver("t", "22", 1, top, UINT64_MAX, 5), STORE_APPLIED);
	apply1(f, ver("u", "333", 1, top, 1, 5), STORE_APPLIED);
	w = newest(f, NULL, 20);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.origin[0], 0x22);
	assert_true(w.seq[0] == UINT64_MAX);
	assert_true(w.seq[1] == UINT64_MAX - 1);
	assert_int_equal(w.origin[2], 0xff);
	assert_true(w.seq[2] == UINT64_MAX);
	assert_int_equal(w.value_len[2], 2);
	assert_int_equal(w.seq[3], 1);
	assert_int_equal(w.value_len[3], 3);
}

static void test_log_newest_stops_when_the_callback_says_so(void **state)
{
	struct fx *f = *state;
	struct newest w;

	put_n(f, "a", 3);
	apply1(f, ver("b", "1", 1, f->b, 1, 5), STORE_APPLIED);
	memset(&w, 0, sizeof w);
	w.stop_after = 2;
	assert_int_equal(store_log_newest(f->s, NULL, 0, newest_collect, &w,
					  NULL), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.seq[1], 2);
}

/* A live entry whose key's meta names another version, and a log key
 * of the wrong length: RUMOR_ECORRUPT, not a wrong listing. */
static void test_log_newest_reports_a_broken_log(void **state)
{
	struct fx *f = *state;
	char lk[LOG_KEY_BYTES], lv[LOG_HEAD_BYTES + 1];
	struct newest w;
	struct err err;
	size_t len;

	put(f, "k", "v");                    /* a's seq 1 */
	/* Seq 7 of a claims key k too, whose meta says seq 1. */
	format_log_key(lk, f->a, 7);
	len = format_log_encode(lv, 1, 5, 0, "k", 1);
	err_clear(&err);
	assert_int_equal(store_debug_raw_put(f->s, lk, sizeof lk, lv, len,
					     &err), 0);
	memset(&w, 0, sizeof w);
	assert_int_equal(store_log_newest(f->s, f->a, 20, newest_collect, &w,
					  &err), RUMOR_ECORRUPT);
	assert_non_null(strstr(err.msg, "without its meta"));
	assert_int_equal(w.n, 0);
	assert_int_equal(store_debug_raw_del(f->s, lk, sizeof lk, &err), 0);
	assert_int_equal(newest(f, NULL, 20).n, 1);
	/* A log key too short to hold an origin and a seq. */
	assert_int_equal(store_debug_raw_put(f->s, "l\x01\x02", 3, lv, len,
					     &err), 0);
	err_clear(&err);
	assert_int_equal(store_log_newest(f->s, NULL, 20, newest_collect, &w,
					  &err), RUMOR_ECORRUPT);
	assert_non_null(strstr(err.msg, "unreadable log key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_log_newest_of_an_empty_log_gives_nothing),
		T(test_log_newest_gives_fewer_than_max_newest_first),
		T(test_log_newest_keeps_only_the_newest_max),
		T(test_log_newest_walks_several_origins_in_origin_order),
		T(test_log_newest_at_the_edges_of_the_key_space),
		T(test_log_newest_stops_when_the_callback_says_so),
		T(test_log_newest_reports_a_broken_log),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
