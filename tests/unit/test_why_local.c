/* SPDX-License-Identifier: MIT */
/*
 * test_why_local: node_why (src/node/why.c) on a node with no members:
 * the report comes at once with the node's own row, its version and the
 * BLAKE2b hash of its value, the verdict of a key held nowhere, of one
 * held once, of a deletion, of a value too large to send along, and of
 * a key outside the node's replicate set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "rumor.h"
#include "lib/err.h"
#include "node/node_ctl.h"
#include "wire/ctl_types.h"
#include "tests/lib/testutil.h"

struct report {
	int done;
	int rc;
	struct ctl_why_summary s;
	struct ctl_why_row row;
	size_t n;
};

static void on_done(void *arg, int rc, const struct ctl_why_summary *s,
		    const struct ctl_why_row *rows, size_t n)
{
	struct report *r = arg;

	r->done++;
	r->rc = rc;
	r->s = *s;
	r->n = n;
	if (n > 0)
		r->row = rows[0];
}

struct fixture {
	char *dir;
	struct rumor *node;
};

static int open_node(void **state, const char *only_prefix)
{
	struct fixture *f = calloc(1, sizeof *f);
	const void *pfx[1] = { only_prefix };
	size_t pfx_len[1] = { only_prefix ? strlen(only_prefix) : 0 };
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];

	assert_non_null(f);
	f->dir = tu_tmpdir("why_local");
	rumor_options_init(&o);
	o.data_dir = f->dir;
	if (only_prefix != NULL) {
		o.replicate = pfx;
		o.replicate_len = pfx_len;
		o.n_replicate = 1;
	}
	if (rumor_open(&f->node, &o, msg, sizeof msg) != 0)
		fail_msg("open: %s", msg);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return open_node(state, NULL);
}

static int setup_partial(void **state)
{
	return open_node(state, "a/");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rumor_close(f->node, NULL, NULL);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* node_why on key; the report came before the call returned. */
static struct report why(struct fixture *f, const char *key)
{
	struct report r;
	struct err err;

	memset(&r, 0, sizeof r);
	err_clear(&err);
	assert_int_equal(node_why(f->node, key, strlen(key), 100, on_done, &r,
				  &err), 0);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.row.status, CTL_WHY_SELF);
	assert_int_equal(r.s.not_asked, 0);
	return r;
}

static void test_a_key_held_nowhere_is_converged_without_a_winner(
	void **state)
{
	struct report r = why(*state, "nothing");

	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGED);
	assert_int_equal(r.s.reason, CTL_WHY_BY_NONE);
	assert_int_equal(r.s.winner_row, 1);      /* rows: none holds it */
	assert_false(r.row.found);
	assert_int_equal(r.row.role, CTL_WHY_CURRENT);
}

static void test_the_own_row_carries_the_version_and_its_hash(void **state)
{
	struct fixture *f = *state;
	uint8_t hash[CTL_WHY_HASH_BYTES];
	struct rumor_record *rec;
	struct report r;

	assert_int_equal(rumor_put(f->node, "k", 1, "v\0w", 3), 0);
	assert_int_equal(rumor_put(f->node, "k", 1, "value", 5), 0);
	assert_int_equal(rumor_get_version(f->node, "k", 1, &rec), 0);
	r = why(f, "k");
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGED);
	assert_int_equal(r.s.reason, CTL_WHY_BY_ONLY);
	assert_int_equal(r.s.winner_row, 0);
	assert_true(r.row.found);
	assert_int_equal(r.row.role, CTL_WHY_CURRENT);
	assert_int_equal(r.row.clock, rec->v.clock);
	assert_int_equal(r.row.seq, rec->v.seq);
	assert_int_equal(r.row.wall_ms, rec->v.wall_ms);
	assert_memory_equal(r.row.origin, rec->v.origin, RUMOR_NODE_ID_BYTES);
	assert_int_equal(r.row.value_len, 5);
	assert_false(r.row.deleted);
	crypto_generichash(hash, sizeof hash, (const uint8_t *)"value", 5,
			   NULL, 0);
	assert_memory_equal(r.row.hash, hash, sizeof hash);
	assert_string_equal(r.s.resolver, "default");
	assert_string_equal(r.row.resolver, "default");
	rumor_record_free(rec);

	/* a deletion: the hash of nothing */
	assert_int_equal(rumor_del(f->node, "k", 1), 0);
	r = why(f, "k");
	assert_true(r.row.deleted);
	assert_int_equal(r.row.value_len, 0);
	crypto_generichash(hash, sizeof hash, NULL, 0, NULL, 0);
	assert_memory_equal(r.row.hash, hash, sizeof hash);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGED);
}

static void test_a_value_too_large_to_send_is_still_hashed(void **state)
{
	struct fixture *f = *state;
	size_t len = RUMOR_VALUE_MAX;
	uint8_t *v = malloc(len), hash[CTL_WHY_HASH_BYTES];
	struct report r;

	assert_non_null(v);
	memset(v, 0x5a, len);
	assert_int_equal(rumor_put(f->node, "big", 3, v, len), 0);
	r = why(f, "big");
	assert_int_equal(r.row.value_len, len);
	crypto_generichash(hash, sizeof hash, v, len, NULL, 0);
	assert_memory_equal(r.row.hash, hash, sizeof hash);
	free(v);
}

static void test_bad_keys_are_refused_and_nothing_reports(void **state)
{
	struct fixture *f = *state;
	static char big[RUMOR_KEY_MAX + 1];
	struct report r;
	struct err err;

	memset(&r, 0, sizeof r);
	err_clear(&err);
	assert_int_equal(node_why(f->node, "", 0, 100, on_done, &r, &err),
			 RUMOR_EINVAL);
	assert_int_equal(node_why(f->node, big, sizeof big, 100, on_done, &r,
				  &err), RUMOR_EINVAL);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(r.done, 0);
}

static void test_a_key_outside_the_replicate_set_is_outside(void **state)
{
	struct report r = why(*state, "b/x");

	assert_int_equal(r.row.role, CTL_WHY_OUTSIDE);
	assert_false(r.row.found);
	assert_int_equal(r.s.verdict, CTL_WHY_CONVERGED);
	assert_int_equal(r.s.reason, CTL_WHY_BY_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_a_key_held_nowhere_is_converged_without_a_winner),
		T(test_the_own_row_carries_the_version_and_its_hash),
		T(test_a_value_too_large_to_send_is_still_hashed),
		T(test_bad_keys_are_refused_and_nothing_reports),
		cmocka_unit_test_setup_teardown(
			test_a_key_outside_the_replicate_set_is_outside,
			setup_partial, teardown),
#undef T
	};

	return cmocka_run_group_tests_name("why_local", tests, NULL, NULL);
}
