/* SPDX-License-Identifier: MIT */
/* test_lincheck: the linearizability checker (tests/lib/lincheck.h) on
 * hand-made histories, linearizable and not, on random histories made
 * linearizable by construction (and then broken), and the file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/lincheck.h"

/* Adds an op; value NULL: a delete (write) or absent (read). */
static void add(struct lincheck *h, int64_t inv, int64_t ret,
		enum lc_outcome out, enum lc_kind kind, const char *key,
		const char *value)
{
	struct lc_op o = { 0 };

	o.invoke = inv;
	o.complete = ret;
	o.outcome = out;
	o.kind = kind;
	o.key = (const uint8_t *)key;
	o.key_len = strlen(key);
	o.absent = value == NULL;
	o.value = (const uint8_t *)value;
	o.value_len = value ? strlen(value) : 0;
	assert_int_equal(lincheck_add(h, &o), 0);
}

#define W(h, i, r, k, v) add(h, i, r, LC_OK, LC_WRITE, k, v)
#define R(h, i, r, k, v) add(h, i, r, LC_OK, LC_READ, k, v)
#define INFO_W(h, i, k, v) add(h, i, -1, LC_INFO, LC_WRITE, k, v)
#define FAIL_W(h, i, r, k, v) add(h, i, r, LC_FAIL, LC_WRITE, k, v)

static enum lc_verdict check(struct lincheck *h, struct lc_result *r)
{
	enum lc_verdict v = lincheck_check(h, 0, r);

	if (v != LC_LINEARIZABLE)
		printf("# %.*s: %s", (int)r->key_len, (const char *)r->key,
		       r->why);
	return v;
}

static void test_sequential(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	lincheck_init(&h);
	R(&h, 0, 5, "k", NULL);           /* nothing written yet */
	W(&h, 10, 20, "k", "a");
	R(&h, 30, 40, "k", "a");
	W(&h, 50, 60, "k", "b");
	R(&h, 70, 80, "k", "b");
	W(&h, 90, 100, "k", NULL);        /* delete */
	R(&h, 110, 120, "k", NULL);
	W(&h, 130, 140, "k", "a");        /* a value again */
	R(&h, 150, 160, "k", "a");
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	assert_int_equal(r.keys, 1);
	lincheck_free(&h);
}

/* Two overlapping writes: later reads may see either, but all the same
 * one once one of them was seen after both completed. */
static void test_overlapping_writes_either_order(void **state)
{
	struct lincheck h;
	struct lc_result r;
	int which;

	(void)state;
	for (which = 0; which < 2; which++) {
		const char *v = which ? "b" : "a";

		lincheck_init(&h);
		W(&h, 0, 100, "k", "a");
		W(&h, 10, 90, "k", "b");
		R(&h, 20, 30, "k", NULL);       /* neither yet */
		R(&h, 40, 50, "k", which ? "a" : "b"); /* the other first */
		R(&h, 120, 130, "k", v);
		R(&h, 140, 150, "k", v);
		assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
		lincheck_free(&h);
	}
	/* touching times count as concurrent */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	R(&h, 10, 20, "k", NULL);
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	lincheck_free(&h);
}

static void test_indeterminate_late_or_never(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	/* late: takes effect long after a crash */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	INFO_W(&h, 20, "k", "b");
	R(&h, 30, 40, "k", "a");
	R(&h, 1000, 1010, "k", "b");
	R(&h, 2000, 2010, "k", "b");
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	lincheck_free(&h);
	/* never */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	INFO_W(&h, 20, "k", "b");
	INFO_W(&h, 25, "k", NULL);
	R(&h, 30, 40, "k", "a");
	R(&h, 1000, 1010, "k", "a");
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	lincheck_free(&h);
	/* an indeterminate delete seen; failed ops and info reads dropped */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	INFO_W(&h, 20, "k", NULL);
	FAIL_W(&h, 22, 30, "k", "zz");
	add(&h, 24, -1, LC_INFO, LC_READ, "k", "nonsense");
	R(&h, 500, 510, "k", NULL);
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	lincheck_free(&h);
}

static void test_stale_read(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	lincheck_init(&h);
	W(&h, 0, 10, "other", "x");
	R(&h, 5, 15, "other", "x");
	W(&h, 0, 10, "k", "a");
	W(&h, 20, 30, "k", "b");
	R(&h, 35, 38, "k", "b");
	R(&h, 40, 50, "k", "a");          /* stale */
	R(&h, 60, 70, "k", "b");
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	assert_int_equal(r.key_len, 1);
	assert_memory_equal(r.key, "k", 1);
	/* the smallest prefix ends at the stale read, which is named */
	assert_non_null(strstr(r.why, "completing at t=50"));
	assert_non_null(strstr(r.why, "[40, 50] ok read -> 'a'"));
	assert_non_null(strstr(r.why, "[20, 30] ok write 'b'"));
	lincheck_free(&h);
}

static void test_read_never_written(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	R(&h, 20, 30, "k", "a");
	R(&h, 40, 50, "k", "ghost");
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	assert_non_null(strstr(r.why, "read -> 'ghost'"));
	lincheck_free(&h);
	/* a deleted key read as present, after the delete completed */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	W(&h, 20, 30, "k", NULL);
	R(&h, 40, 50, "k", "a");
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	lincheck_free(&h);
}

/* Reader 1 sees the new value, then reader 2 (strictly later) the old
 * one, while the write is still in flight. */
static void test_new_then_old(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	W(&h, 20, 200, "k", "b");
	R(&h, 30, 40, "k", "b");          /* reader 1 */
	R(&h, 50, 60, "k", "a");          /* reader 2 */
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	assert_non_null(strstr(r.why, "completing at t=60"));
	lincheck_free(&h);
	/* the same with an indeterminate write: once seen, it stays */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	INFO_W(&h, 20, "k", "b");
	R(&h, 30, 40, "k", "b");
	R(&h, 50, 60, "k", "a");
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	lincheck_free(&h);
	/* overlapping reads may see them in that order (a, the write,
	 * then b) */
	lincheck_init(&h);
	W(&h, 0, 10, "k", "a");
	W(&h, 20, 200, "k", "b");
	R(&h, 30, 55, "k", "b");
	R(&h, 50, 60, "k", "a");
	assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
	lincheck_free(&h);
}

static void test_failed_write_seen(void **state)
{
	struct lincheck h;
	struct lc_result r;
	int info;

	(void)state;
	for (info = 0; info < 2; info++) {
		lincheck_init(&h);
		W(&h, 0, 10, "k", "a");
		if (info)
			INFO_W(&h, 20, "k", "b");
		else
			FAIL_W(&h, 20, 25, "k", "b");
		R(&h, 30, 40, "k", "b");
		assert_int_equal(check(&h, &r),
				 info ? LC_LINEARIZABLE : LC_NOT_LINEARIZABLE);
		lincheck_free(&h);
	}
}

/* Keys are independent: a history that is fine per key, though a total
 * order over both keys would not exist (linearizability is local, so
 * this cannot happen: the values are set so each key alone is fine). */
static void test_per_key(void **state)
{
	struct lincheck h;
	struct lc_result r;

	(void)state;
	lincheck_init(&h);
	W(&h, 0, 10, "x", "1");
	W(&h, 0, 10, "y", "1");
	R(&h, 20, 30, "x", "1");
	R(&h, 20, 30, "y", "1");
	W(&h, 40, 50, "y", "2");
	R(&h, 60, 70, "y", "1");          /* stale on y only */
	R(&h, 60, 70, "x", "1");
	assert_int_equal(check(&h, &r), LC_NOT_LINEARIZABLE);
	assert_int_equal(r.key_len, 1);
	assert_memory_equal(r.key, "y", 1);
	assert_int_equal(r.keys, 2);
	lincheck_free(&h);
}

/* A random history, linearizable by construction: clients run ops one
 * after another, each taking effect at a random point of its interval;
 * some writes are indeterminate (taking effect or not). */
static void random_history(struct lincheck *h, unsigned seed, int clients,
			   int ops, int64_t *end)
{
	struct rop {
		int64_t inv, ret, lp;
		int write, info, effect;
		char val[16];
		int absent;
	} *o = calloc((size_t)ops, sizeof(*o));
	int64_t *t = calloc((size_t)clients, sizeof(*t));
	int i, j, n_w = 0;

	assert_non_null(o);
	assert_non_null(t);
	srand(seed);
	for (i = 0; i < ops; i++) {
		int c = rand() % clients;

		o[i].inv = t[c] + rand() % 5;
		o[i].ret = o[i].inv + 1 + rand() % 40;
		o[i].lp = o[i].inv + rand() % (o[i].ret - o[i].inv + 1);
		o[i].write = rand() % 3 == 0;
		if (o[i].write) {
			o[i].absent = rand() % 8 == 0;
			snprintf(o[i].val, sizeof(o[i].val), "v%d", n_w++);
			o[i].info = rand() % 20 == 0;
			o[i].effect = !o[i].info || rand() % 2;
			if (o[i].info && o[i].effect)
				o[i].lp += rand() % 200;   /* late */
		}
		t[c] = o[i].info ? o[i].inv + 300 : o[i].ret;
	}
	/* a read takes the value of the last effective write before it in
	 * the order (lp, index) */
	for (i = 0; i < ops; i++) {
		int best = -1;

		if (o[i].write)
			continue;
		for (j = 0; j < ops; j++) {
			if (!o[j].write || !o[j].effect)
				continue;
			if (o[j].lp > o[i].lp || (o[j].lp == o[i].lp && j > i))
				continue;
			if (best < 0 || o[j].lp > o[best].lp ||
			    (o[j].lp == o[best].lp && j > best))
				best = j;
		}
		o[i].absent = best < 0 || o[best].absent;
		if (best >= 0)
			memcpy(o[i].val, o[best].val, sizeof(o[i].val));
	}
	*end = 0;
	for (i = 0; i < ops; i++) {
		add(h, o[i].inv, o[i].ret, o[i].info ? LC_INFO : LC_OK,
		    o[i].write ? LC_WRITE : LC_READ, "key",
		    o[i].absent ? NULL : o[i].val);
		if (o[i].ret + 300 > *end)
			*end = o[i].ret + 300;
	}
	free(o);
	free(t);
}

static void test_random_histories(void **state)
{
	unsigned seed;
	uint64_t steps_max = 0;

	(void)state;
	for (seed = 1; seed <= 20; seed++) {
		struct lincheck h;
		struct lc_result r;
		int64_t end;

		lincheck_init(&h);
		random_history(&h, seed, 10, seed <= 3 ? 3000 : 300, &end);
		assert_int_equal(check(&h, &r), LC_LINEARIZABLE);
		if (r.steps > steps_max)
			steps_max = r.steps;
		/* then a write, and a read after it of an older value */
		W(&h, end, end + 10, "key", "last");
		R(&h, end + 20, end + 30, "key", "v0");
		assert_int_equal(lincheck_check(&h, 0, &r),
				 LC_NOT_LINEARIZABLE);
		assert_non_null(strstr(r.why, "read -> 'v0'"));
		lincheck_free(&h);
	}
	/* Bounded: 3,000 ops with 10 clients (one write in twenty
	 * indeterminate, one in eight a delete) stay under the budget */
	printf("# random histories: 3000 ops, 10 clients: at most %llu "
	       "steps (budget %u)\n", (unsigned long long)steps_max,
	       LC_BUDGET_DEFAULT);
	assert_true(steps_max < LC_BUDGET_DEFAULT);
}

static void test_too_hard_gives_up(void **state)
{
	struct lincheck h;
	struct lc_result r;
	int64_t end;

	(void)state;
	lincheck_init(&h);
	random_history(&h, 7, 10, 3000, &end);
	assert_int_equal(lincheck_check(&h, 100, &r), LC_TOO_HARD);
	assert_non_null(strstr(r.why, "too hard"));
	lincheck_free(&h);
}

static void test_file_format(void **state)
{
	struct lincheck h, h2;
	struct lc_result r;
	char err[200];
	static const char *const bad[] = {
		"1 2 ok write k",                 /* 5 fields */
		"1 2 ok write k v extra",
		"x 2 ok write k v",
		"1 - ok write k v",               /* ok needs complete */
		"5 2 ok read k v",                /* complete < invoke */
		"1 2 maybe write k v",
		"1 2 ok erase k v",
		"1 2 ok write k%4 v",             /* bad escape */
		"1 2 ok write k v%zz",
	};
	const uint8_t bin[] = { 0, '-', ' ', '%', 0xff };
	struct lc_op o = { 0 };
	FILE *f;
	size_t i;

	(void)state;
	lincheck_init(&h);
	assert_int_equal(lincheck_parse_line(&h, "# comment", err,
					     sizeof(err)), 0);
	assert_int_equal(lincheck_parse_line(&h, "   \n", err,
					     sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(lincheck_parse_line(&h, bad[i], err,
						     sizeof(err)), -1);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(h.n, 0);
	assert_int_equal(lincheck_parse_line(&h, "1000 2000 ok write k1 a%20b",
					     err, sizeof(err)), 1);
	assert_int_equal(lincheck_parse_line(&h, "3000 - info write k1 -",
					     err, sizeof(err)), 1);
	assert_int_equal(lincheck_parse_line(&h, "2500 2600 ok read k1 a%20b",
					     err, sizeof(err)), 1);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.ops[0].value_len, 3);
	assert_memory_equal(h.ops[0].value, "a b", 3);
	assert_true(h.ops[1].absent);
	assert_int_equal(h.ops[1].outcome, LC_INFO);
	assert_int_equal(lincheck_check(&h, 0, &r), LC_LINEARIZABLE);
	/* round trip through a file: binary, a lone '-', empty */
	o.invoke = 4000;
	o.complete = 4100;
	o.kind = LC_WRITE;
	o.key = bin;
	o.key_len = sizeof(bin);
	o.value = bin + 1;
	o.value_len = 1;
	assert_int_equal(lincheck_add(&h, &o), 0);
	o.value_len = 0;
	assert_int_equal(lincheck_add(&h, &o), 0);
	f = tmpfile();
	assert_non_null(f);
	for (i = 0; i < h.n; i++)
		lincheck_write_op(f, &h.ops[i]);
	fputs("1 2 ok write\n", f);
	rewind(f);
	lincheck_init(&h2);
	assert_int_equal(lincheck_read(&h2, f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 6"));
	assert_int_equal(h2.n, 5);
	for (i = 0; i < h.n; i++) {
		const struct lc_op *a = &h.ops[i], *b = &h2.ops[i];

		assert_int_equal(a->invoke, b->invoke);
		assert_int_equal(a->outcome, b->outcome);
		if (a->outcome == LC_OK)
			assert_int_equal(a->complete, b->complete);
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->absent, b->absent);
		assert_int_equal(a->key_len, b->key_len);
		assert_memory_equal(a->key, b->key, a->key_len);
		assert_int_equal(a->value_len, b->value_len);
		if (a->value_len)
			assert_memory_equal(a->value, b->value, a->value_len);
	}
	fclose(f);
	lincheck_free(&h2);
	/* malformed ops are refused */
	o.complete = 10;
	assert_int_equal(lincheck_add(&h, &o), -1);
	lincheck_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_overlapping_writes_either_order),
		cmocka_unit_test(test_indeterminate_late_or_never),
		cmocka_unit_test(test_stale_read),
		cmocka_unit_test(test_read_never_written),
		cmocka_unit_test(test_new_then_old),
		cmocka_unit_test(test_failed_write_seen),
		cmocka_unit_test(test_per_key),
		cmocka_unit_test(test_random_histories),
		cmocka_unit_test(test_too_hard_gives_up),
		cmocka_unit_test(test_file_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
