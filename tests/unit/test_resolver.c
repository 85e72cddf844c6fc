/* SPDX-License-Identifier: MIT */
/*
 * test_resolver: the conflict order (src/resolver/resolver.c): the default order,
 * the full order with and without a user resolver, symmetry checking, and
 * loading resolver objects, good (examples/resolvers/) and bad
 * (tests/unit/bad_resolvers/).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/resolver.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------------ */
/* Versions */

static const uint8_t origin_a[RUMOR_NODE_ID_BYTES] = {0x0a, 1, 2, 3};
static const uint8_t origin_b[RUMOR_NODE_ID_BYTES] = {0x0b, 1, 2, 3};

/* A version of key "k"; value NULL makes a deletion. */
static struct rumor_version version(const uint8_t *origin, uint64_t clock,
				    uint64_t wall_ms, uint64_t seq,
				    const char *value)
{
	struct rumor_version v = {
		.key = "k",
		.key_len = 1,
		.value = value,
		.value_len = value != NULL ? strlen(value) : 0,
		.deleted = value == NULL,
		.clock = clock,
		.wall_ms = wall_ms,
		.origin = origin,
		.origin_len = RUMOR_NODE_ID_BYTES,
		.seq = seq,
	};
	return v;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* resolver_order(a, b) as -1 (a wins), 1 (b wins) or 0, after checking
 * that asking the other way round gives the mirror answer and the same
 * decider. Each call counts two decisions in r's stats. */
static int order_both_ways(struct resolver *r, const struct rumor_version *a,
			   const struct rumor_version *b,
			   enum resolver_via *via)
{
	enum resolver_via via_ab, via_ba;
	int ab = sign(resolver_order(r, a, b, &via_ab));
	int ba = sign(resolver_order(r, b, a, &via_ba));

	assert_int_equal(ab, -ba);
	assert_int_equal(via_ab, via_ba);
	if (via != NULL)
		*via = via_ab;
	return ab;
}

/* ------------------------------------------------------------------ */
/* In-process resolvers */

static int resolve_must_not_be_called(const struct rumor_version *a,
				      const struct rumor_version *b)
{
	fail_msg("resolver called although the clock or seq decides");
	return 0;
}

/* Keeps the version with the smaller wall time: the opposite of the
 * default order, so that a test sees who decided. */
static int resolve_older_wins(const struct rumor_version *a,
			      const struct rumor_version *b)
{
	if (a->wall_ms == b->wall_ms)
		return 0;
	return a->wall_ms < b->wall_ms ? -1 : 1;
}

static int resolve_no_opinion(const struct rumor_version *a,
			      const struct rumor_version *b)
{
	return 0;
}

static int resolve_always_first(const struct rumor_version *a,
				const struct rumor_version *b)
{
	return -1000;
}

/* Has an opinion only when a is a deletion: asked the other way round it
 * has none, which is not symmetric either. */
static int resolve_one_sided(const struct rumor_version *a,
			     const struct rumor_version *b)
{
	return a->deleted ? -1 : 0;
}

static struct resolver *new_fn(rumor_resolve_fn fn, const char *name)
{
	struct resolver *r = NULL;
	struct err e = {0};

	assert_int_equal(resolver_new_fn(&r, fn, name, &e), 0);
	assert_non_null(r);
	return r;
}

static struct resolver_stats stats_of(const struct resolver *r)
{
	struct resolver_stats st;

	resolver_get_stats(r, &st);
	return st;
}

/* ------------------------------------------------------------------ */
/* Resolver objects in the build tree */

/* The shared object a libtool module (rel: its .la, relative to the top
 * build directory) was built as: .libs/<dlname> beside the .la. Reading
 * dlname keeps the test independent of the platform's suffix. */
static char *module_path(const char *rel)
{
	char *la = tu_builddir_path(rel);
	char *dir, *slash, *path = NULL;
	char line[512];
	size_t len;
	FILE *f = fopen(la, "r");

	if (f == NULL)
		fail_msg("cannot open %s (built by make check)", la);
	while (path == NULL && fgets(line, sizeof line, f) != NULL) {
		char *start, *end;

		if (strncmp(line, "dlname='", 8) != 0)
			continue;
		start = line + 8;
		end = strchr(start, '\'');
		if (end == NULL || end == start)
			break;
		*end = '\0';
		dir = strdup(la);
		assert_non_null(dir);
		slash = strrchr(dir, '/');
		assert_non_null(slash);
		*slash = '\0';
		len = strlen(dir) + strlen(start) + sizeof "/.libs/";
		path = malloc(len);
		assert_non_null(path);
		snprintf(path, len, "%s/.libs/%s", dir, start);
		free(dir);
	}
	fclose(f);
	if (path == NULL)
		fail_msg("%s names no shared object (dlname)", la);
	free(la);
	return path;
}

static struct resolver *load_ok(const char *rel)
{
	char *path = module_path(rel);
	struct resolver *r = NULL;
	struct err e = {0};
	int rv = resolver_load(&r, path, &e);

	if (rv != 0)
		fail_msg("loading %s: %d %s", path, rv, e.msg);
	assert_non_null(r);
	free(path);
	return r;
}

/* Loading rel must fail with RUMOR_ERESOLVER and a message that names the
 * path and contains want; nothing may be returned or left loaded. */
static void assert_load_refused(const char *path, const char *want)
{
	struct resolver *r = NULL;
	struct err e = {0};
	void *still;

	assert_int_equal(resolver_load(&r, path, &e), RUMOR_ERESOLVER);
	assert_int_equal(e.code, RUMOR_ERESOLVER);
	assert_null(r);
	if (strstr(e.msg, want) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", e.msg, want);
	if (strstr(e.msg, path) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, path);
	/* RTLD_NOLOAD finds the object only if it is still mapped. */
	still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (still != NULL) {
		dlclose(still);
		fail_msg("%s is still loaded after a refused load", path);
	}
}

static void assert_module_refused(const char *rel, const char *want)
{
	char *path = module_path(rel);

	assert_load_refused(path, want);
	free(path);
}

/* ------------------------------------------------------------------ */
/* The default order */

static void test_default_order_higher_wall_time_wins(void **state)
{
	struct rumor_version a = version(origin_a, 5, 2000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");

	/* b has the greater origin, but wall time comes first. */
	assert_true(resolver_default_order(&a, &b) < 0);
	assert_true(resolver_default_order(&b, &a) > 0);
}

static void test_default_order_same_wall_time_greater_origin_wins(void **state)
{
	struct rumor_version a = version(origin_a, 5, 1000, 9, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");

	assert_true(resolver_default_order(&a, &b) > 0);
	assert_true(resolver_default_order(&b, &a) < 0);
}

/* Every pair is ordered, both ways round alike, only a version equals
 * itself, and the order is transitive: every node picks the same winner
 * out of any set of versions. */
static void test_default_order_is_total_and_symmetric(void **state)
{
	static const uint8_t short_a[1] = {0x0a};
	static const uint8_t zero[RUMOR_NODE_ID_BYTES] = {0};
	static const uint8_t ff[RUMOR_NODE_ID_BYTES] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	struct rumor_version v[] = {
		version(origin_a, 5, 1000, 1, "x"),
		version(origin_b, 5, 1000, 1, "x"),
		version(origin_a, 5, 1001, 1, NULL),
		version(origin_b, 5, 999, 7, "yy"),
		version(zero, 5, 1000, 1, "x"),
		version(ff, 5, 1000, 1, "x"),
		version(ff, 5, 0, 1, "x"),
		version(zero, 5, UINT64_MAX, 1, "x"),
		version(origin_a, 5, 1000, 2, "x"),
		version(short_a, 5, 1000, 1, "x"),
	};
	size_t n = sizeof v / sizeof v[0], i, j, k;

	/* A prefix of an origin orders before the longer origin. */
	v[9].origin_len = sizeof short_a;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int ij = sign(resolver_default_order(&v[i], &v[j]));
			int ji = sign(resolver_default_order(&v[j], &v[i]));

			assert_int_equal(ij, -ji);
			assert_int_equal(ij == 0, i == j);
			for (k = 0; k < n; k++) {
				int jk = resolver_default_order(&v[j], &v[k]);
				int ik = resolver_default_order(&v[i], &v[k]);

				if (ij < 0 && jk < 0)
					assert_true(ik < 0);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* The full order */

static void test_order_higher_clock_wins_whatever_the_resolver(void **state)
{
	struct resolver *r = new_fn(resolve_must_not_be_called, "strict");
	struct rumor_version a = version(origin_a, 6, 1, 1, "x");
	struct rumor_version b = version(origin_b, 5, 9999, 1, "longer");
	enum resolver_via via;
	struct resolver_stats st;

	assert_int_equal(order_both_ways(r, &a, &b, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_NONE);
	st = stats_of(r);
	assert_int_equal(st.decided_default + st.decided_user +
			 st.no_opinion + st.symmetry_violations, 0);
	resolver_free(r);
}

static void test_order_same_clock_same_origin_higher_seq_wins(void **state)
{
	struct resolver *r = new_fn(resolve_must_not_be_called, "strict");
	struct rumor_version a = version(origin_a, 5, 9999, 3, "x");
	struct rumor_version b = version(origin_a, 5, 1, 4, "x");
	enum resolver_via via;

	assert_int_equal(order_both_ways(r, &a, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_NONE);
	resolver_free(r);
}

static void test_order_identical_versions_are_equal(void **state)
{
	struct resolver *r = new_fn(resolve_must_not_be_called, "strict");
	struct rumor_version a = version(origin_a, 5, 1000, 3, "x");
	struct rumor_version b = a;
	enum resolver_via via = RESOLVER_VIA_USER;

	assert_int_equal(resolver_order(r, &a, &b, &via), 0);
	assert_int_equal(via, RESOLVER_VIA_NONE);
	assert_int_equal(resolver_order(r, &a, &a, NULL), 0);
	resolver_free(r);
}

static void test_order_without_resolver_uses_default_order(void **state)
{
	struct resolver *r = NULL;
	struct err e = {0};
	struct rumor_version a = version(origin_a, 5, 2000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");
	enum resolver_via via;

	assert_int_equal(order_both_ways(NULL, &a, &b, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);

	assert_int_equal(resolver_new_default(&r, &e), 0);
	assert_int_equal(order_both_ways(r, &a, &b, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);
	assert_int_equal(stats_of(r).decided_default, 2);
	assert_int_equal(stats_of(r).no_opinion, 0);
	resolver_free(r);
}

static void test_order_same_clock_obeys_user_function(void **state)
{
	struct resolver *r = new_fn(resolve_older_wins, "older");
	/* The default order would keep a (later wall time). */
	struct rumor_version a = version(origin_a, 5, 2000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");
	enum resolver_via via;
	struct resolver_stats st;

	assert_true(resolver_default_order(&a, &b) < 0);
	assert_true(resolver_order(r, &a, &b, &via) > 0);
	assert_int_equal(via, RESOLVER_VIA_USER);
	assert_true(resolver_order(r, &b, &a, &via) < 0);
	assert_int_equal(via, RESOLVER_VIA_USER);
	st = stats_of(r);
	assert_int_equal(st.decided_user, 2);
	assert_int_equal(st.decided_default, 0);
	assert_int_equal(st.symmetry_violations, 0);
	resolver_free(r);
}

static void test_order_no_opinion_uses_default_and_is_counted(void **state)
{
	struct resolver *r = new_fn(resolve_no_opinion, "shrug");
	struct rumor_version a = version(origin_a, 5, 1000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");
	enum resolver_via via;
	struct resolver_stats st;

	/* Same wall time: the greater origin, b, wins. */
	assert_true(resolver_order(r, &a, &b, &via) > 0);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);
	st = stats_of(r);
	assert_int_equal(st.no_opinion, 1);
	assert_int_equal(st.decided_default, 1);
	assert_int_equal(st.decided_user, 0);
	assert_int_equal(st.symmetry_violations, 0);
	resolver_free(r);
}

static void test_order_asymmetric_function_counts_violation(void **state)
{
	struct resolver *r = new_fn(resolve_always_first, "first");
	struct rumor_version a = version(origin_a, 5, 1000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 2000, 1, "x");
	enum resolver_via via;
	struct resolver_stats st;

	/* Whichever way round, b (later wall time) wins by default. */
	assert_int_equal(order_both_ways(r, &a, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);
	st = stats_of(r);
	assert_int_equal(st.symmetry_violations, 2);
	assert_int_equal(st.decided_default, 2);
	assert_int_equal(st.decided_user, 0);
	assert_int_equal(st.no_opinion, 0);
	resolver_free(r);
}

static void test_order_one_sided_opinion_counts_violation(void **state)
{
	struct resolver *r = new_fn(resolve_one_sided, "one-sided");
	struct rumor_version a = version(origin_a, 5, 1000, 1, NULL);
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");
	enum resolver_via via;
	struct resolver_stats st;

	assert_int_equal(order_both_ways(r, &a, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);
	st = stats_of(r);
	assert_int_equal(st.symmetry_violations, 2);
	assert_int_equal(st.no_opinion, 0);
	resolver_free(r);
}

/* resolver_explain answers exactly what resolver_order answers, says
 * what decided, and counts nothing (rumorctl why looks, it does not
 * apply). */
static void test_explain_matches_the_order_and_counts_nothing(void **state)
{
	static const struct {
		rumor_resolve_fn fn;
		int clock_b, wall_b, seq_b, same_origin;
		enum resolver_reason why;
	} rows[] = {
		{ NULL, 2, 100, 1, 0, RESOLVER_BY_CLOCK },
		{ NULL, 1, 100, 2, 1, RESOLVER_BY_SEQ },
		{ NULL, 1, 100, 1, 1, RESOLVER_SAME },
		{ NULL, 1, 200, 1, 0, RESOLVER_BY_WALL },
		{ NULL, 1, 100, 1, 0, RESOLVER_BY_ORIGIN },
		{ resolve_older_wins, 1, 200, 1, 0, RESOLVER_BY_USER },
		{ resolve_no_opinion, 1, 200, 1, 0, RESOLVER_BY_WALL },
		{ resolve_always_first, 1, 200, 1, 0, RESOLVER_BY_WALL },
	};
	struct resolver_stats before, after;
	struct rumor_version a, b;
	enum resolver_reason why;
	struct resolver *r;
	size_t i;
	int e;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		r = new_fn(rows[i].fn, "t");
		a = version(origin_a, 1, 100, 1, "a");
		b = version(rows[i].same_origin ? origin_a : origin_b,
			    (uint64_t)rows[i].clock_b, (uint64_t)rows[i].wall_b,
			    (uint64_t)rows[i].seq_b, "b");
		resolver_get_stats(r, &before);
		e = resolver_explain(r, &a, &b, &why);
		assert_int_equal(why, rows[i].why);
		resolver_get_stats(r, &after);
		assert_memory_equal(&before, &after, sizeof before);
		assert_int_equal(sign(e), sign(resolver_order(r, &a, &b, NULL)));
		assert_int_equal(sign(resolver_explain(r, &b, &a, NULL)), -sign(e));
		resolver_free(r);
	}
}

static void test_names_say_what_decides(void **state)
{
	struct resolver *r = NULL;
	struct err e = {0};

	assert_int_equal(resolver_new_default(&r, &e), 0);
	assert_string_equal(resolver_name(r), "default");
	resolver_free(r);

	r = new_fn(resolve_older_wins, "older");
	assert_string_equal(resolver_name(r), "older");
	resolver_free(r);

	r = new_fn(resolve_older_wins, NULL);
	assert_string_equal(resolver_name(r), "function");
	resolver_free(r);

	r = new_fn(NULL, NULL);
	assert_string_equal(resolver_name(r), "default");
	resolver_free(r);

	resolver_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Loading resolver objects */

static void test_load_larger_value_obeys_it(void **state)
{
	struct resolver *r = load_ok("examples/resolvers/larger_value.la");
	/* The default order would keep b every time (later wall time). */
	struct rumor_version a = version(origin_a, 5, 1000, 1, "long value");
	struct rumor_version b = version(origin_b, 5, 2000, 1, "short");
	struct rumor_version c = version(origin_a, 5, 1000, 1, "zzzzz");
	struct rumor_version del = version(origin_a, 5, 1000, 1, NULL);
	struct rumor_version same = version(origin_a, 5, 1000, 1, "short");
	enum resolver_via via;
	struct resolver_stats st;

	assert_string_equal(resolver_name(r), "larger_value");
	/* Longer wins. */
	assert_int_equal(order_both_ways(r, &a, &b, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_USER);
	/* Same length: greater bytes win. */
	assert_int_equal(order_both_ways(r, &c, &b, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_USER);
	/* A deletion loses to any value, even the empty one. */
	b.value = "";
	b.value_len = 0;
	b.wall_ms = 1;
	del.wall_ms = 2000;
	assert_int_equal(order_both_ways(r, &del, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_USER);
	/* Equal values: no opinion, the default order (later wall) decides. */
	b = version(origin_b, 5, 2000, 1, "short");
	assert_int_equal(order_both_ways(r, &same, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);

	st = stats_of(r);
	assert_int_equal(st.decided_user, 6);
	assert_int_equal(st.no_opinion, 2);
	assert_int_equal(st.decided_default, 2);
	assert_int_equal(st.symmetry_violations, 0);
	resolver_free(r);
}

static void test_load_deletes_win_obeys_it(void **state)
{
	struct resolver *r = load_ok("examples/resolvers/deletes_win.la");
	struct rumor_version del = version(origin_a, 5, 1000, 1, NULL);
	struct rumor_version put = version(origin_b, 5, 2000, 1, "x");
	struct rumor_version put2 = version(origin_a, 5, 3000, 1, "y");
	enum resolver_via via;
	struct resolver_stats st;

	assert_string_equal(resolver_name(r), "deletes_win");
	assert_int_equal(order_both_ways(r, &del, &put, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_USER);
	/* Any nonzero deleted flag is a deletion. */
	del.deleted = 7;
	assert_int_equal(order_both_ways(r, &del, &put, &via), -1);
	assert_int_equal(via, RESOLVER_VIA_USER);
	/* Two values: no opinion, the later wall time wins. */
	assert_int_equal(order_both_ways(r, &put, &put2, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);

	st = stats_of(r);
	assert_int_equal(st.decided_user, 4);
	assert_int_equal(st.no_opinion, 2);
	resolver_free(r);
}

static void test_load_asymmetric_object_counts_violation(void **state)
{
	struct resolver *r = load_ok("tests/unit/bad_resolvers/asymmetric.la");
	struct rumor_version a = version(origin_a, 5, 1000, 1, "x");
	struct rumor_version b = version(origin_b, 5, 1000, 1, "x");
	enum resolver_via via;

	assert_string_equal(resolver_name(r), "asymmetric");
	assert_int_equal(order_both_ways(r, &a, &b, &via), 1);
	assert_int_equal(via, RESOLVER_VIA_DEFAULT);
	assert_int_equal(stats_of(r).symmetry_violations, 2);
	resolver_free(r);
}

/* dlopen counts references: two resolvers from one object are independent,
 * and freeing one leaves the other working. */
static void test_load_same_object_twice_gives_independent_resolvers(void **state)
{
	struct resolver *r1 = load_ok("examples/resolvers/larger_value.la");
	struct resolver *r2 = load_ok("examples/resolvers/larger_value.la");
	struct rumor_version a = version(origin_a, 5, 1000, 1, "long value");
	struct rumor_version b = version(origin_b, 5, 2000, 1, "short");

	assert_true(resolver_order(r1, &a, &b, NULL) < 0);
	resolver_free(r1);
	assert_true(resolver_order(r2, &a, &b, NULL) < 0);
	assert_int_equal(stats_of(r2).decided_user, 1);
	assert_string_equal(resolver_name(r2), "larger_value");
	resolver_free(r2);
}

static void test_load_without_abi_symbol_is_refused(void **state)
{
	assert_module_refused("tests/unit/bad_resolvers/no_abi.la",
			      "rumor_resolver_abi");
}

static void test_load_wrong_abi_is_refused(void **state)
{
	assert_module_refused("tests/unit/bad_resolvers/abi99.la", "ABI 99");
}

static void test_load_without_resolve_function_is_refused(void **state)
{
	char *path = module_path("tests/unit/bad_resolvers/no_resolve.la");
	struct resolver *r = NULL;
	struct err e = {0};

	assert_load_refused(path, "rumor_resolve");
	/* "rumor_resolve" is also a prefix of rumor_resolver_abi: make sure
	 * the message blames the function, not the ABI symbol. */
	assert_int_equal(resolver_load(&r, path, &e), RUMOR_ERESOLVER);
	assert_null(strstr(e.msg, "rumor_resolver_abi"));
	free(path);
}

/* Messages are cut at RUMOR_ERRMSG_MAX: however long the path, the cut
 * must not take the problem away. */
static void test_load_refusal_says_why_even_for_a_long_path(void **state)
{
	static const char *const bad[][2] = {
		{"tests/unit/bad_resolvers/no_abi.la", "rumor_resolver_abi"},
		{"tests/unit/bad_resolvers/abi99.la", "ABI 99"},
		{"tests/unit/bad_resolvers/no_resolve.la", "rumor_resolve"},
	};
	char *dir = tu_tmpdir("resolver");
	char name[RUMOR_ERRMSG_MAX];
	size_t i;

	memset(name, 'x', sizeof name - 4);
	strcpy(name + sizeof name - 4, ".so");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *target = module_path(bad[i][0]);
		char *link = tu_join(dir, name);
		struct resolver *r = NULL;
		struct err e = {0};

		assert_int_equal(symlink(target, link), 0);
		assert_true(strlen(link) >= RUMOR_ERRMSG_MAX);
		assert_int_equal(resolver_load(&r, link, &e), RUMOR_ERESOLVER);
		assert_null(r);
		if (strstr(e.msg, bad[i][1]) == NULL)
			fail_msg("message \"%s\" does not say \"%s\"", e.msg,
				 bad[i][1]);
		assert_int_equal(unlink(link), 0);
		free(link);
		free(target);
	}
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static void test_load_text_file_is_refused(void **state)
{
	static const char text[] = "this is not a shared object\n";
	char *dir = tu_tmpdir("resolver");
	char *path = tu_join(dir, "text.so");

	assert_int_equal(tu_write_file(path, text, sizeof text - 1, 0644), 0);
	assert_load_refused(path, "not a loadable");
	assert_int_equal(tu_rmrf(dir), 0);
	free(path);
	free(dir);
}

static void test_load_missing_file_is_refused(void **state)
{
	char *dir = tu_tmpdir("resolver");
	char *path = tu_join(dir, "absent.so");

	assert_load_refused(path, "not a loadable");
	assert_int_equal(tu_rmrf(dir), 0);
	free(path);
	free(dir);
}

/* A bare name would be looked up in the library search path, so a file
 * other than the one named could load: refused before dlopen. */
static void test_load_path_without_slash_is_refused(void **state)
{
	struct resolver *r = NULL;
	struct err e = {0};

	assert_int_equal(resolver_load(&r, "libc.so.6", &e), RUMOR_ERESOLVER);
	assert_null(r);
	assert_non_null(strstr(e.msg, "libc.so.6"));
	assert_non_null(strstr(e.msg, "'/'"));
}

static void test_load_empty_path_is_invalid(void **state)
{
	struct resolver *r = NULL;
	struct err e = {0};

	assert_int_equal(resolver_load(&r, "", &e), RUMOR_EINVAL);
	assert_null(r);
	assert_int_equal(resolver_load(&r, NULL, &e), RUMOR_EINVAL);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_order_higher_wall_time_wins),
		cmocka_unit_test(test_default_order_same_wall_time_greater_origin_wins),
		cmocka_unit_test(test_default_order_is_total_and_symmetric),
		cmocka_unit_test(test_order_higher_clock_wins_whatever_the_resolver),
		cmocka_unit_test(test_order_same_clock_same_origin_higher_seq_wins),
		cmocka_unit_test(test_order_identical_versions_are_equal),
		cmocka_unit_test(test_order_without_resolver_uses_default_order),
		cmocka_unit_test(test_order_same_clock_obeys_user_function),
		cmocka_unit_test(test_order_no_opinion_uses_default_and_is_counted),
		cmocka_unit_test(test_order_asymmetric_function_counts_violation),
		cmocka_unit_test(test_order_one_sided_opinion_counts_violation),
		cmocka_unit_test(test_names_say_what_decides),
		cmocka_unit_test(test_explain_matches_the_order_and_counts_nothing),
		cmocka_unit_test(test_load_larger_value_obeys_it),
		cmocka_unit_test(test_load_deletes_win_obeys_it),
		cmocka_unit_test(test_load_asymmetric_object_counts_violation),
		cmocka_unit_test(test_load_same_object_twice_gives_independent_resolvers),
		cmocka_unit_test(test_load_without_abi_symbol_is_refused),
		cmocka_unit_test(test_load_wrong_abi_is_refused),
		cmocka_unit_test(test_load_without_resolve_function_is_refused),
		cmocka_unit_test(test_load_refusal_says_why_even_for_a_long_path),
		cmocka_unit_test(test_load_text_file_is_refused),
		cmocka_unit_test(test_load_missing_file_is_refused),
		cmocka_unit_test(test_load_path_without_slash_is_refused),
		cmocka_unit_test(test_load_empty_path_is_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
