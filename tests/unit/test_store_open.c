/* SPDX-License-Identifier: MIT */
/* Unit tests of src/store: hooks, open and reopen, the integrity check and crash
 * atomicity. */
#include "tests/unit/test_store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/endian.h"
#include "lib/prefixes.h"
#include "tests/lib/testutil.h"

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
	const uint8_t schema4[4] = {0, 0, 0, 4};
	struct err e = {0};

	put(f, "a", "1");
	assert_int_equal(store_debug_raw_put(f->s, "sschema", 7, schema4, 4,
					     NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "schema 4"));
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
	assert_non_null(strstr(e.msg, "schema 1, this build reads schema 3"));
	assert_null(f->s);
}

/* An empty LevelDB key has no prefix byte: open read the byte after it
 * (found while writing fuzz_store_open). */
static void test_entry_with_an_empty_key_is_refused_by_name(void **state)
{
	struct fx *f = *state;
	struct err e = {0};

	put(f, "a", "1");
	assert_int_equal(store_debug_raw_put(f->s, "", 0, "x", 1, NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(fx_open_with(f, f->r, &e), RUMOR_ECORRUPT);
	assert_non_null(strstr(e.msg, "empty key"));
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

/* The m entry of a stored version: the 66-byte head (format 3), then
 * value_len bytes of value (whatever the flags say). Returns the
 * length. */
static size_t meta_bytes(const struct store_record *rec, int deleted,
			 const char *value, size_t value_len, uint8_t *out)
{
	int i;

	out[0] = 3;                      /* META_FORMAT */
	out[1] = deleted ? 1 : 0;
	for (i = 0; i < 8; i++) {
		out[2 + i] = (uint8_t)(rec->v.clock >> (56 - 8 * i));
		out[10 + i] = (uint8_t)(rec->v.seq >> (56 - 8 * i));
		out[18 + i] = (uint8_t)(rec->v.wall_ms >> (56 - 8 * i));
	}
	memcpy(out + 26, rec->v.origin, STORE_ORIGIN_BYTES);
	for (i = 0; i < 8; i++)
		out[58 + i] = (uint8_t)(rec->pos >> (56 - 8 * i));
	memcpy(out + 66, value, value_len);
	return 66 + value_len;
}

static void test_check_detects_corruption(void **state)
{
	struct fx *f = *state;
	uint8_t lk[1 + STORE_ORIGIN_BYTES + 8];
	uint8_t hk[1 + STORE_ORIGIN_BYTES];
	const uint8_t seq9[8] = {0, 0, 0, 0, 0, 0, 0, 9};
	const uint8_t seq1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	struct store_record *rec;
	uint8_t meta[80];
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

/* ------------------------------------------------------------ inspection */

struct reports {
	int n;
	char msg[8][200];
};

static void record_report(void *arg, const char *message)
{
	struct reports *r = arg;

	if (r->n < 8)
		snprintf(r->msg[r->n], sizeof r->msg[0], "%s", message);
	r->n++;
}

static int reported(const struct reports *r, const char *what)
{
	int i;

	for (i = 0; i < r->n && i < 8; i++)
		if (strstr(r->msg[i], what) != NULL)
			return 1;
	return 0;
}

static void test_check_all_reports_every_violation_and_walks_on(void **state)
{
	struct fx *f = *state;
	uint8_t lk[1 + STORE_ORIGIN_BYTES + 8], fk[9];
	struct store_record *rec = NULL;
	struct reports r = {0};
	struct err e = {0};
	size_t found = 0;

	put(f, "a", "1");
	put(f, "b", "1");
	put(f, "c", "1");
	assert_int_equal(store_check_all(f->s, record_report, &r, &found, &e), 0);
	assert_int_equal(found, 0);
	assert_int_equal(r.n, 0);
	/* b's log entry goes; a feed entry names a key without meta. */
	rec = version_of(f->s, "b");
	lk[0] = 'l';
	memcpy(lk + 1, f->a, STORE_ORIGIN_BYTES);
	endian_put_be64(lk + 1 + STORE_ORIGIN_BYTES, rec->v.seq);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_del(f->s, lk, sizeof lk, NULL), 0);
	fk[0] = 'f';
	endian_put_be64(fk + 1, 2);
	assert_int_equal(store_debug_raw_put(f->s, fk, sizeof fk, "zz", 2,
					     NULL), 0);

	/* store_check stops at the first; store_check_all goes on. */
	assert_int_equal(store_check(f->s, &e), RUMOR_ECORRUPT);
	assert_int_equal(store_check_all(f->s, record_report, &r, &found, &e),
			 RUMOR_ECORRUPT);
	assert_int_equal((int)found, r.n);
	assert_true(r.n >= 3);
	assert_true(reported(&r, "feed entry of a key without meta"));
	assert_true(reported(&r, "meta without its log entry (key 62)"));
	assert_true(reported(&r, "log entries are not one per key"));
	/* err holds the first, naming the store; reports do not. */
	assert_non_null(strstr(e.msg, r.msg[0]));
	assert_non_null(strstr(e.msg, f->dir));
	assert_null(strstr(r.msg[0], f->dir));
}

/* Open as it is: the stored replicate set kept (no keys dropped, no HWM
 * reset), where an open with every key would reset the other HWMs. */
static void test_inspect_open_keeps_the_stored_filter(void **state)
{
	struct fx *f = *state;
	const void *p[1] = {"k"};
	size_t plen = 1;
	struct prefixes set = {0};
	struct store_options o;
	struct err e = {0};

	assert_int_equal(prefixes_set(&set, p, &plen, 1, "replicate", &e), 0);
	f->filter = &set;
	fx_reopen(f);
	put(f, "k1", "v");
	apply1(f, ver("k2", "w", 1, f->b, 4, 1000), STORE_APPLIED);
	store_close(f->s);
	memset(&o, 0, sizeof o);
	o.origin = f->a;
	o.inspect = 1;
	assert_int_equal(store_open(&f->s, f->dir, &o, &e), 0);
	assert_int_equal(store_filter_opened(f->s, NULL), STORE_FILTER_SAME);
	assert_int_equal(store_filter(f->s)->n, 1);
	assert_int_equal(store_hwm(f->s, f->b), 4);
	assert_int_equal(store_schema_found(f->s), STORE_SCHEMA_VERSION);
	want_value(f->s, "k2", "w");
	expect_check_ok(f->s);
	/* The same store opened for every key: b's HWM goes back to 0. */
	f->filter = NULL;
	fx_reopen(f);
	assert_int_equal(store_filter_opened(f->s, NULL), STORE_FILTER_WIDENED);
	assert_int_equal(store_hwm(f->s, f->b), 0);
	prefixes_free(&set);
}

static void test_inspect_open_never_creates_a_store(void **state)
{
	struct fx *f = *state;
	struct store_options o;
	struct store *s = NULL;
	struct err e = {0};
	char *empty = tu_join(f->dir, "empty"), *current;

	assert_int_equal(mkdir(empty, 0700), 0);
	memset(&o, 0, sizeof o);
	o.origin = f->a;
	o.inspect = 1;
	assert_int_equal(store_open(&s, empty, &o, &e), RUMOR_ENOTFOUND);
	assert_null(s);
	current = tu_join(empty, "CURRENT");
	assert_int_not_equal(access(current, F_OK), 0);
	free(current);
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_before_commit_failure_leaves_nothing_written),
		T(test_on_change_reports_each_applied_change_in_order),
		T(test_open_twice_is_busy),
		T(test_reopen_keeps_everything),
		T(test_unknown_schema_is_corrupt),
		T(test_schema_1_store_is_refused_by_name),
		T(test_entry_with_an_empty_key_is_refused_by_name),
		T(test_open_of_a_foreign_leveldb_is_corrupt),
		T(test_check_detects_corruption),
		T(test_check_accepts_log_entries_above_a_remote_hwm),
		T(test_check_refuses_own_log_entries_above_the_local_seq),
		T(test_crash_in_local_put_is_all_or_nothing),
		T(test_crash_in_local_delete_is_all_or_nothing),
		T(test_crash_in_apply_batch_is_all_or_nothing),
		T(test_crash_in_local_write_batch_is_all_or_nothing),
		T(test_check_all_reports_every_violation_and_walks_on),
		T(test_inspect_open_keeps_the_stored_filter),
		T(test_inspect_open_never_creates_a_store),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
