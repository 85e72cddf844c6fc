/* SPDX-License-Identifier: MIT */
/* The fixture of the store's unit tests (contracts in
 * test_store_fixture.h). */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/testutil.h"



static uint64_t fx_now(void *arg)
{
	struct fx *f = arg;

	return f->now;
}

static void fx_on_change(void *arg, const struct rumor_version *v, int local,
			 uint64_t pos)
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
	c->pos = pos;
	/* A hook must not write; the store says so instead of corrupting
	 * the batch it is reporting. */
	f->write_in_hook_rv = store_put(f->s, "hook", 4, "x", 1, NULL, NULL);
}

static int fx_before_commit(void *arg, const char *what)
{
	struct fx *f = arg;

	if (f->exit_what != NULL && strcmp(what, f->exit_what) != 0)
		return 0;
	f->commits++;
	if (f->exit_at != 0 && f->commits == f->exit_at)
		_exit(0);
	return f->fail_at != 0 && f->commits == f->fail_at;
}

int fx_open_with(struct fx *f, struct resolver *r, struct err *e)
{
	struct store_options o;

	memset(&o, 0, sizeof o);
	o.origin = f->a;
	o.resolver = r;
	o.hooks.now_ms = fx_now;
	o.hooks.on_change = fx_on_change;
	o.hooks.before_commit = fx_before_commit;
	o.hooks.arg = f;
	o.write_buffer_bytes = f->write_buffer_bytes;
	o.filter = f->filter;
	o.outcomes_max = f->outcomes_max;
	return store_open(&f->s, f->dir, &o, e);
}

void fx_open(struct fx *f)
{
	struct err e = {0};
	int rv = fx_open_with(f, f->r, &e);

	if (rv != 0)
		fail_msg("store_open: %s", e.msg);
}

void fx_reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	fx_open(f);
}

int setup(void **state)
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

int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	resolver_free(f->r);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

struct rumor_version ver(const char *key, const char *val,
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

void put(struct fx *f, const char *key, const char *val)
{
	struct err e = {0};

	if (store_put(f->s, key, strlen(key), val, strlen(val), NULL, &e) != 0)
		fail_msg("store_put %s: %s", key, e.msg);
}

/* Applies vs and, as the sync layer does, raises each version's origin
 * to its seq in the same batch (store_check wants HWMs covering the log). */
int apply_n(struct fx *f, const struct rumor_version *vs, size_t n,
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

void apply1(struct fx *f, struct rumor_version v, int want_outcome)
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
void want_value(struct store *s, const char *key, const char *want)
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

struct store_record *version_of(struct store *s, const char *key)
{
	struct store_record *rec = NULL;

	assert_int_equal(store_get_version(s, key, strlen(key), &rec, NULL), 0);
	return rec;
}

void expect_check_ok(struct store *s)
{
	struct err e = {0};

	if (store_check(s, &e) != 0)
		fail_msg("store_check: %s", e.msg);
}

/* Log entries of one origin, collected. */

int log_collect(void *arg, const struct rumor_version *v)
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

struct log_list log_of(struct store *s, const uint8_t *origin)
{
	struct log_list l;

	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_scan(s, NULL, origin, 0, 0, log_collect, &l,
					NULL, NULL), 0);
	return l;
}

struct store_op op_put(const char *key, const char *val)
{
	struct store_op op = {key, strlen(key), val, strlen(val), 0};

	return op;
}

struct store_op op_del(const char *key)
{
	struct store_op op = {key, strlen(key), NULL, 0, 1};

	return op;
}
