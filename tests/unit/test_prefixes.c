/* SPDX-License-Identifier: MIT */
/*
 * test_prefixes: lib/prefixes (sets of key prefixes: normalising,
 * matching, containment, the stored form, the command line's escapes),
 * and the node's refusal of local writes outside its namespace or its
 * replicate set (RUMOR_EOUTSIDE, nothing written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rumor.h"
#include "lib/prefixes.h"
#include "tests/lib/testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Sets ps from NUL-terminated strings (binary prefixes use set_bytes). */
static int set_strs(struct prefixes *ps, const char *const *s, size_t n,
		    struct err *err)
{
	const void *p[PREFIXES_MAX + 2];
	size_t len[PREFIXES_MAX + 2];

	assert_true(n <= N(p));
	for (size_t i = 0; i < n; i++) {
		p[i] = s[i];
		len[i] = strlen(s[i]);
	}
	return prefixes_set(ps, p, len, n, "test", err);
}

static void assert_set(const struct prefixes *ps, const char *const *want,
		       size_t n)
{
	assert_int_equal(ps->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ps->v[i].len, strlen(want[i]));
		assert_memory_equal(ps->v[i].bytes, want[i], ps->v[i].len);
	}
}

/* ------------------------------------------------------------ sets */

static void test_set_sorts_and_drops_duplicates_and_covered(void **state)
{
	static const char *const in[] = {"b/", "a/x", "c", "a/", "b/", "a/xy",
					 "cc"};
	static const char *const want[] = {"a/", "b/", "c"};
	struct prefixes ps = {0};
	struct err err;

	(void)state;
	assert_int_equal(set_strs(&ps, in, N(in), &err), 0);
	assert_set(&ps, want, N(want));
	prefixes_free(&ps);
	assert_int_equal(ps.n, 0);
}

static void test_set_orders_binary_prefixes_bytewise(void **state)
{
	static const unsigned char ff[] = {0xff}, zero[] = {0x00, 0x01},
				   a[] = {'a'};
	const void *p[] = {ff, a, zero};
	size_t len[] = {1, 1, 2};
	struct prefixes ps = {0};
	struct err err;

	(void)state;
	assert_int_equal(prefixes_set(&ps, p, len, 3, "t", &err), 0);
	assert_int_equal(ps.n, 3);
	assert_memory_equal(ps.v[0].bytes, zero, 2);
	assert_memory_equal(ps.v[1].bytes, a, 1);
	assert_memory_equal(ps.v[2].bytes, ff, 1);
	prefixes_free(&ps);
}

static void test_set_refuses_bad_sets_and_stays_empty(void **state)
{
	static char longp[PREFIX_MAX_BYTES + 1];
	const char *many[PREFIXES_MAX + 1];
	char names[PREFIXES_MAX + 1][8];
	const void *p[1];
	size_t len[1];
	struct prefixes ps = {0};
	struct err err;

	(void)state;
	for (size_t i = 0; i < PREFIXES_MAX + 1; i++) {
		snprintf(names[i], sizeof names[i], "p%zu/", i);
		many[i] = names[i];
	}
	assert_int_equal(set_strs(&ps, many, PREFIXES_MAX + 1, &err),
			 RUMOR_EINVAL);
	assert_int_equal(ps.n, 0);
	assert_int_equal(set_strs(&ps, many, PREFIXES_MAX, &err), 0);
	assert_int_equal(ps.n, PREFIXES_MAX);
	prefixes_free(&ps);

	/* An empty one after good ones: the good copies are freed. */
	{
		static const char *const with_empty[] = {"a", "b", ""};

		assert_int_equal(set_strs(&ps, with_empty, 3, &err),
				 RUMOR_EINVAL);
		assert_non_null(strstr(err.msg, "empty"));
		assert_int_equal(ps.n, 0);
	}
	memset(longp, 'k', sizeof longp);
	p[0] = longp;
	len[0] = sizeof longp;
	assert_int_equal(prefixes_set(&ps, p, len, 1, "t", &err), RUMOR_EINVAL);
	assert_non_null(strstr(err.msg, "too long"));
	len[0] = PREFIX_MAX_BYTES;
	assert_int_equal(prefixes_set(&ps, p, len, 1, "t", &err), 0);
	prefixes_free(&ps);
	p[0] = NULL;
	len[0] = 1;
	assert_int_equal(prefixes_set(&ps, p, len, 1, "t", &err), RUMOR_EINVAL);
	assert_int_equal(prefixes_set(&ps, NULL, NULL, 2, "t", &err),
			 RUMOR_EINVAL);
	assert_int_equal(ps.n, 0);
}

static void test_match_takes_a_key_equal_to_its_prefix(void **state)
{
	static const char *const in[] = {"a/", "zz"};
	struct prefixes ps = {0}, every = {0};
	struct err err;

	(void)state;
	assert_int_equal(set_strs(&ps, in, N(in), &err), 0);
	assert_true(prefixes_match(&ps, "a/", 2));
	assert_true(prefixes_match(&ps, "a/b", 3));
	assert_true(prefixes_match(&ps, "zzz", 3));
	assert_false(prefixes_match(&ps, "a", 1));
	assert_false(prefixes_match(&ps, "b/a/", 4));
	assert_false(prefixes_match(&ps, "z", 1));
	/* The empty set is every key. */
	assert_true(prefixes_match(&every, "anything", 8));
	assert_true(prefixes_match(&every, "\0", 1));
	prefixes_free(&ps);
}

static void test_within_and_equal(void **state)
{
	static const char *const a[] = {"a/"}, *const ab[] = {"a/b/"},
				 *const abc[] = {"a/b/c"},
				 *const a_b[] = {"a/", "b/"},
				 *const a_ab[] = {"a/b/", "a/"};
	struct prefixes pa = {0}, pab = {0}, pabc = {0}, pa_b = {0},
			pa_ab = {0}, every = {0};
	struct err err;

	(void)state;
	assert_int_equal(set_strs(&pa, a, 1, &err), 0);
	assert_int_equal(set_strs(&pab, ab, 1, &err), 0);
	assert_int_equal(set_strs(&pabc, abc, 1, &err), 0);
	assert_int_equal(set_strs(&pa_b, a_b, 2, &err), 0);
	assert_int_equal(set_strs(&pa_ab, a_ab, 2, &err), 0);
	/* Nested: a/b/c within a/b/ within a/, never the other way. */
	assert_true(prefixes_within(&pabc, &pab));
	assert_true(prefixes_within(&pab, &pa));
	assert_true(prefixes_within(&pabc, &pa));
	assert_false(prefixes_within(&pa, &pab));
	assert_false(prefixes_within(&pab, &pabc));
	/* Partly inside is not within. */
	assert_false(prefixes_within(&pa_b, &pa));
	assert_true(prefixes_within(&pa, &pa_b));
	/* Everything is within the full set; the full set only in itself. */
	assert_true(prefixes_within(&pa_b, &every));
	assert_true(prefixes_within(&every, &every));
	assert_false(prefixes_within(&every, &pa_b));
	/* Equal: the same keys, whatever was written. */
	assert_true(prefixes_equal(&pa_ab, &pa));
	assert_true(prefixes_equal(&every, &every));
	assert_false(prefixes_equal(&pa, &pa_b));
	assert_false(prefixes_equal(&pa, &every));
	prefixes_free(&pa);
	prefixes_free(&pab);
	prefixes_free(&pabc);
	prefixes_free(&pa_b);
	prefixes_free(&pa_ab);
}

/* ------------------------------------------------------------ stored */

static void test_encode_decode_round_trips(void **state)
{
	static const unsigned char bin[] = {0x00, 0xff, 0x00};
	static char longp[PREFIX_MAX_BYTES];
	const void *p[] = {"b/", bin, longp};
	size_t len[] = {2, sizeof bin, sizeof longp};
	struct prefixes ps = {0}, back = {0}, empty = {0};
	uint8_t buf[4 + 3 * (2 + PREFIX_MAX_BYTES)];
	struct err err;
	size_t n;

	(void)state;
	memset(longp, 'L', sizeof longp);
	assert_int_equal(prefixes_set(&ps, p, len, 3, "t", &err), 0);
	n = prefixes_encoded_len(&ps);
	assert_int_equal(n, 1 + 2 + 2 + 2 + 3 + 2 + PREFIX_MAX_BYTES);
	prefixes_encode(&ps, buf);
	assert_int_equal(buf[0], 3);
	assert_int_equal(prefixes_decode(&back, buf, n, "t", &err), 0);
	assert_true(prefixes_equal(&ps, &back));
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.v[i].len, ps.v[i].len);
		assert_memory_equal(back.v[i].bytes, ps.v[i].bytes,
				    ps.v[i].len);
	}
	prefixes_free(&back);
	/* The empty set is one byte, and comes back empty. */
	assert_int_equal(prefixes_encoded_len(&empty), 1);
	prefixes_encode(&empty, buf);
	assert_int_equal(buf[0], 0);
	assert_int_equal(prefixes_decode(&back, buf, 1, "t", &err), 0);
	assert_int_equal(back.n, 0);
	/* A stored set that is not normalised comes back normalised. */
	{
		static const uint8_t raw[] = {3, 0, 2, 'a', '/', 0, 3, 'a', '/',
					      'x', 0, 2, 'a', '/'};

		assert_int_equal(prefixes_decode(&back, raw, sizeof raw, "t",
						 &err), 0);
		assert_int_equal(back.n, 1);
		assert_memory_equal(back.v[0].bytes, "a/", 2);
		prefixes_free(&back);
	}
	prefixes_free(&ps);
}

/* Every malformed stored form is RUMOR_ECORRUPT naming the source, and
 * leaves the set empty (the sanitizer build checks nothing leaked). */
static void test_decode_refuses_every_malformed_input(void **state)
{
	static const struct {
		const char *why;
		uint8_t b[8];
		size_t len;
	} bad[] = {
		{"nothing", {0}, 0},
		{"count over the bound", {PREFIXES_MAX + 1}, 1},
		{"count 255", {0xff}, 1},
		{"count, no length", {1}, 1},
		{"half a length", {1, 0}, 2},
		{"empty prefix", {1, 0, 0}, 3},
		{"length past the end", {1, 0, 2, 'a'}, 4},
		{"second prefix missing", {2, 0, 1, 'a'}, 4},
		{"second prefix cut", {2, 0, 1, 'a', 0, 2, 'b'}, 7},
		{"trailing byte", {1, 0, 1, 'a', 'x'}, 5},
		{"trailing after empty set", {0, 0}, 2},
	};
	static uint8_t toolong[3 + PREFIX_MAX_BYTES + 1];
	struct prefixes ps = {0};
	struct err err;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		err.code = 0;
		if (prefixes_decode(&ps, bad[i].b, bad[i].len, "store meta",
				    &err) != RUMOR_ECORRUPT)
			fail_msg("accepted: %s", bad[i].why);
		assert_non_null(strstr(err.msg, "store meta"));
		assert_int_equal(ps.n, 0);
	}
	/* A prefix over PREFIX_MAX_BYTES, whole in the buffer. */
	toolong[0] = 1;
	toolong[1] = (uint8_t)((PREFIX_MAX_BYTES + 1) >> 8);
	toolong[2] = (uint8_t)(PREFIX_MAX_BYTES + 1);
	memset(toolong + 3, 'x', PREFIX_MAX_BYTES + 1);
	assert_int_equal(prefixes_decode(&ps, toolong, sizeof toolong, "t",
					 &err), RUMOR_ECORRUPT);
	assert_int_equal(ps.n, 0);
	/* Every truncation of a good two-prefix form is refused too. */
	{
		static const uint8_t good[] = {2, 0, 2, 'a', '/', 0, 1, 0xff};

		for (size_t cut = 0; cut < sizeof good; cut++)
			assert_int_equal(prefixes_decode(&ps, good, cut, "t",
							 &err),
					 RUMOR_ECORRUPT);
		assert_int_equal(prefixes_decode(&ps, good, sizeof good, "t",
						 &err), 0);
		assert_int_equal(ps.n, 2);
		prefixes_free(&ps);
	}
}

/* ------------------------------------------------------------ text */

static void test_unescape_reads_hex_and_backslash(void **state)
{
	unsigned char out[16];
	struct err err;
	size_t len;

	(void)state;
	assert_int_equal(prefix_unescape("a\\x00\\xFFb\\\\", out, sizeof out,
					 &len, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "a\0\xff" "b\\", 5);
	assert_int_equal(prefix_unescape("plain/", out, sizeof out, &len,
					 &err), 0);
	assert_int_equal(len, 6);
	assert_int_equal(prefix_unescape("", out, sizeof out, &len, &err), 0);
	assert_int_equal(len, 0);
	/* Exactly cap bytes fit; one more does not. */
	assert_int_equal(prefix_unescape("abc", out, 3, &len, &err), 0);
	assert_int_equal(len, 3);
	assert_int_equal(prefix_unescape("\\x41\\x42\\x43", out, 3, &len,
					 &err), 0);
	assert_memory_equal(out, "ABC", 3);
	assert_int_equal(prefix_unescape("abcd", out, 3, &len, &err),
			 RUMOR_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 3"));
}

static void test_unescape_refuses_bad_escapes(void **state)
{
	static const char *const bad[] = {"\\", "a\\", "\\q", "\\x", "\\x4",
					  "\\xg0", "\\x0g", "\\X41", "\\n"};
	unsigned char out[16];
	struct err err;
	size_t len = 99;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		if (prefix_unescape(bad[i], out, sizeof out, &len, &err) !=
		    RUMOR_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(err.msg, "backslash"));
	}
	assert_int_equal(len, 99);
}

static void test_escape_round_trips_every_byte(void **state)
{
	unsigned char all[256], back[256];
	char text[4 * 256 + 1];
	struct err err;
	size_t len;

	(void)state;
	for (size_t i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	prefix_escape(all, sizeof all, text, sizeof text);
	assert_int_equal(prefix_unescape(text, back, sizeof back, &len, &err),
			 0);
	assert_int_equal(len, 256);
	assert_memory_equal(back, all, 256);
	/* Printable ASCII stands for itself, a backslash never does. */
	prefix_escape("a\\\x00\xff~", 5, text, sizeof text);
	assert_string_equal(text, "a\\x5c\\x00\\xff~");
	/* Truncated to fit, never in the middle of an escape. */
	prefix_escape("abcdefg", 7, text, 5);
	assert_string_equal(text, "abcd");
	prefix_escape("a\x01", 2, text, 5);
	assert_string_equal(text, "a");
}

/* ------------------------------------------------------------ node */

struct node_fixture {
	char *dir;
	struct rumor *node;
};

/* A node with no network: namespace ns (NULL: none) and n replicate
 * prefixes of their strlen. */
static void open_node(struct node_fixture *f, const char *ns,
		      const char *const *repl, size_t n)
{
	const void *p[PREFIXES_MAX];
	size_t len[PREFIXES_MAX];
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];

	f->dir = tu_tmpdir("prefixes");
	rumor_options_init(&o);
	o.data_dir = f->dir;
	o.no_multicast = 1;
	o.catchup_wait_ms = 0;
	if (ns != NULL) {
		o.namespace_prefix = ns;
		o.namespace_len = strlen(ns);
	}
	for (size_t i = 0; i < n; i++) {
		p[i] = repl[i];
		len[i] = strlen(repl[i]);
	}
	o.replicate = p;
	o.replicate_len = len;
	o.n_replicate = n;
	if (rumor_open(&f->node, &o, msg, sizeof msg) != 0)
		fail_msg("open: %s", msg);
}

static void close_node(struct node_fixture *f)
{
	rumor_close(f->node, NULL, NULL);
	tu_rmrf(f->dir);
	free(f->dir);
}

static int has_key(struct rumor *n, const char *key)
{
	void *v = NULL;
	size_t len;
	int rv = rumor_get(n, key, strlen(key), &v, &len);

	rumor_free(v);
	assert_true(rv == 0 || rv == RUMOR_ENOTFOUND);
	return rv == 0;
}

static uint64_t local_writes(struct rumor *n)
{
	struct rumor_stats st;

	rumor_stats_init(&st);
	assert_int_equal(rumor_stats(n, &st), 0);
	return st.local_writes;
}

#define PUT(n, k) rumor_put((n), (k), strlen(k), "v", 1)
/* A put of "v", or a delete (no value) of a literal key. */
#define OP(k, d) {(k), sizeof(k) - 1, (d) ? NULL : "v", (d) ? 0 : 1, (d)}

static void test_writes_outside_the_namespace_are_refused(void **state)
{
	struct node_fixture f;

	(void)state;
	open_node(&f, "ns/", NULL, 0);
	assert_int_equal(PUT(f.node, "ns/a"), 0);
	assert_int_equal(PUT(f.node, "ns/"), 0);       /* the prefix itself */
	assert_int_equal(PUT(f.node, "ns"), RUMOR_EOUTSIDE);
	assert_non_null(strstr(rumor_errmsg(f.node), "namespace"));
	assert_int_equal(PUT(f.node, "other"), RUMOR_EOUTSIDE);
	assert_false(has_key(f.node, "other"));
	assert_false(has_key(f.node, "ns"));
	assert_int_equal(rumor_del(f.node, "other", 5), RUMOR_EOUTSIDE);
	assert_int_equal(rumor_del(f.node, "ns/a", 4), 0);
	assert_false(has_key(f.node, "ns/a"));
	assert_true(has_key(f.node, "ns/"));
	assert_int_equal(local_writes(f.node), 3);
	{
		/* One bad op: the whole batch is refused, nothing written. */
		const struct rumor_op bad[] = {OP("ns/b", 0), OP("ns/c", 0),
					       OP("zz", 0)};
		const struct rumor_op bad_del[] = {OP("ns/b", 0),
						   OP("zz", 1)};
		const struct rumor_op good[] = {OP("ns/b", 0), OP("ns/", 1)};

		assert_int_equal(rumor_write(f.node, bad, N(bad)),
				 RUMOR_EOUTSIDE);
		assert_non_null(strstr(rumor_errmsg(f.node), "op 2"));
		assert_int_equal(rumor_write(f.node, bad_del, N(bad_del)),
				 RUMOR_EOUTSIDE);
		assert_false(has_key(f.node, "ns/b"));
		assert_false(has_key(f.node, "ns/c"));
		assert_int_equal(local_writes(f.node), 3);
		assert_int_equal(rumor_write(f.node, good, N(good)), 0);
		assert_true(has_key(f.node, "ns/b"));
		assert_false(has_key(f.node, "ns/"));
	}
	close_node(&f);
}

static void test_writes_outside_the_replicate_set_are_refused(void **state)
{
	static const char *const repl[] = {"a/", "\x01\xff"};
	struct node_fixture f;

	(void)state;
	open_node(&f, NULL, repl, N(repl));
	assert_int_equal(PUT(f.node, "a/1"), 0);
	assert_int_equal(PUT(f.node, "\x01\xff"), 0);
	assert_int_equal(PUT(f.node, "\x01\xff" "z"), 0);
	assert_int_equal(PUT(f.node, "\x01"), RUMOR_EOUTSIDE);
	assert_non_null(strstr(rumor_errmsg(f.node), "replicates"));
	assert_int_equal(PUT(f.node, "b/1"), RUMOR_EOUTSIDE);
	assert_int_equal(rumor_del(f.node, "b/1", 3), RUMOR_EOUTSIDE);
	assert_false(has_key(f.node, "b/1"));
	{
		const struct rumor_op bad[] = {OP("a/2", 0), OP("c", 1)};

		assert_int_equal(rumor_write(f.node, bad, N(bad)),
				 RUMOR_EOUTSIDE);
		assert_false(has_key(f.node, "a/2"));
	}
	assert_int_equal(local_writes(f.node), 3);
	close_node(&f);
}

/* Both: a key must be inside the namespace and the replicate set. */
static void test_namespace_and_replicate_set_both_confine(void **state)
{
	static const char *const repl[] = {"a/b/", "z/"};
	struct node_fixture f;

	(void)state;
	open_node(&f, "a/", repl, N(repl));
	assert_int_equal(PUT(f.node, "a/b/1"), 0);
	assert_int_equal(PUT(f.node, "a/c"), RUMOR_EOUTSIDE);
	assert_int_equal(PUT(f.node, "z/1"), RUMOR_EOUTSIDE);
	assert_false(has_key(f.node, "a/c"));
	assert_false(has_key(f.node, "z/1"));
	close_node(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_sorts_and_drops_duplicates_and_covered),
		cmocka_unit_test(test_set_orders_binary_prefixes_bytewise),
		cmocka_unit_test(test_set_refuses_bad_sets_and_stays_empty),
		cmocka_unit_test(test_match_takes_a_key_equal_to_its_prefix),
		cmocka_unit_test(test_within_and_equal),
		cmocka_unit_test(test_encode_decode_round_trips),
		cmocka_unit_test(test_decode_refuses_every_malformed_input),
		cmocka_unit_test(test_unescape_reads_hex_and_backslash),
		cmocka_unit_test(test_unescape_refuses_bad_escapes),
		cmocka_unit_test(test_escape_round_trips_every_byte),
		cmocka_unit_test(test_writes_outside_the_namespace_are_refused),
		cmocka_unit_test(test_writes_outside_the_replicate_set_are_refused),
		cmocka_unit_test(test_namespace_and_replicate_set_both_confine),
	};

	return cmocka_run_group_tests_name("prefixes", tests, NULL, NULL);
}
