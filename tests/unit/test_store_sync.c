/* SPDX-License-Identifier: MIT */
/* Unit tests of store_sync (src/store/fsync.c): it succeeds on a fresh
 * store and across LevelDB's log switches, from another thread while the
 * store is written, and leaves a store that checks and reopens whole. */
#include "tests/unit/test_store_fixture.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_KEYS 20000

/* The fixture's store with a small memtable: LevelDB switches logs every
 * few hundred puts. */
static int setup_small(void **state)
{
	int rv = setup(state);
	struct fx *f = *state;

	f->write_buffer_bytes = 64u << 10;
	fx_reopen(f);
	return rv;
}

static void sync_ok(struct store *s)
{
	struct err e = {0};

	if (store_sync(s, &e) != 0)
		fail_msg("store_sync: %s", e.msg);
}

static void put_key(struct store *s, int i)
{
	char k[16], v[64];

	snprintf(k, sizeof k, "k%06d", i);
	memset(v, 'a' + i % 26, sizeof v);
	assert_int_equal(store_put(s, k, strlen(k), v, sizeof v, NULL, NULL),
			 0);
}

/* The highest LevelDB log number in dir (0: none). */
static unsigned long newest_log(const char *dir)
{
	unsigned long n, best = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	char tail[8];

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (sscanf(de->d_name, "%lu.%7s", &n, tail) == 2 &&
		    strcmp(tail, "log") == 0 && n > best)
			best = n;
	closedir(d);
	return best;
}

static void test_sync_on_a_fresh_store(void **state)
{
	struct fx *f = *state;

	sync_ok(f->s);
	sync_ok(f->s);
	assert_int_equal(store_sync(NULL, NULL), RUMOR_EINVAL);
}

static void test_sync_across_log_switches(void **state)
{
	struct fx *f = *state;
	unsigned long first = newest_log(f->dir);
	int i;

	assert_true(first > 0);
	for (i = 0; i < N_KEYS; i++) {
		put_key(f->s, i);
		if (i % 1000 == 0)
			sync_ok(f->s);
	}
	sync_ok(f->s);
	/* The test is about log switches: there were some. */
	assert_true(newest_log(f->dir) > first);
	fx_reopen(f);
	expect_check_ok(f->s);
	assert_int_equal(store_local_seq(f->s), N_KEYS);
}

struct syncer {
	struct store *s;
	atomic_int stop;
	int calls, failures;
};

static void *syncer_main(void *arg)
{
	struct syncer *y = arg;

	/* As fast as it can: the more syncs overlap the writes, the more
	 * this test says about running beside them. */
	while (!atomic_load(&y->stop)) {
		if (store_sync(y->s, NULL) != 0)
			y->failures++;
		y->calls++;
	}
	return NULL;
}

static void test_sync_from_another_thread_while_writing(void **state)
{
	struct fx *f = *state;
	struct syncer y;
	pthread_t th;
	int i;

	memset(&y, 0, sizeof y);
	y.s = f->s;
	atomic_init(&y.stop, 0);
	assert_int_equal(pthread_create(&th, NULL, syncer_main, &y), 0);
	for (i = 0; i < N_KEYS; i++)
		put_key(f->s, i);
	atomic_store(&y.stop, 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(y.failures, 0);
	assert_true(y.calls > 0);
	expect_check_ok(f->s);
	fx_reopen(f);
	assert_int_equal(store_local_seq(f->s), N_KEYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup_small, teardown)
		T(test_sync_on_a_fresh_store),
		T(test_sync_across_log_switches),
		T(test_sync_from_another_thread_while_writing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
