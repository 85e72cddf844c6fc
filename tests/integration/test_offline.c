/* SPDX-License-Identifier: MIT */
/* rumorctl --offline DATA (issue 15): every offline command run on a
 * copy of a closed node's data dir (the rumorctl binary, as an operator
 * runs it) answers from it and changes nothing in it; check finds each
 * invariant broken on purpose; bad DATA paths get clear errors. What
 * rumorctl refuses to read, and that its private copy never stays, is
 * test_offline_safety.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rumor.h"
#include "crypto/identity.h"
#include "lib/endian.h"
#include "tests/integration/test_offline_fixture.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ tests */

/* Each command: its output, and the data dir exactly as it was. */
static void test_offline_commands_answer_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	char id[IDENTITY_ID_STRLEN], *before = snapshot(f->dir), *after;

	identity_id_string(f->origin, id);
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/1", NULL), 0);
	assert_string_equal(f->out, "alice\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/2", NULL), 0);
	assert_string_equal(f->out, "bob-remote\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "--hex", "get", "01ff",
			     NULL), 0);
	assert_string_equal(f->out, "0002\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "get", "user/gone", NULL), 1);
	assert_non_null(strstr(f->err, "not found"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "get", "user/3",
			     NULL), 0);
	assert_string_equal(f->out, "{\"key\":\"user/3\",\"value\":\"carol\"}\n");

	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "scan", "user/",
			     NULL), 0);
	assert_string_equal(f->out,
			    "[\n{\"key\":\"user/1\",\"value\":\"alice\"},\n"
			    "{\"key\":\"user/2\",\"value\":\"bob-remote\"},\n"
			    "{\"key\":\"user/3\",\"value\":\"carol\"},\n"
			    "{\"key\":\"user/remote\",\"value\":\"far\"}\n]\n");
	assert_int_equal(ctl(f, "--offline", f->dir, "scan", "--limit", "1",
			     NULL), 0);
	assert_string_equal(f->out, "0x01ff  0x0002\n");
	assert_non_null(strstr(f->err, "limit of 1"));

	assert_int_equal(ctl(f, "--offline", f->dir, "version", "user/2", NULL), 0);
	assert_non_null(strstr(f->out, "clock:     100\n"));
	assert_non_null(strstr(f->out, "seq:       2\n"));
	assert_int_equal(ctl(f, "--offline", f->dir, "version", "user/gone",
			     NULL), 0);
	assert_non_null(strstr(f->out, "deleted:   yes\n"));
	assert_int_equal(ctl(f, "--offline", f->dir, "version", "never", NULL), 1);

	/* log: per origin, newest first; the own origin's last seq is 6
	 * (its seq 2, user/2, was replaced by the remote version). */
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "log", NULL), 0);
	assert_non_null(strstr(f->out, "\"seq\":6"));
	assert_null(strstr(f->out, "\"seq\":7"));
	assert_int_equal(ctl(f, "--offline", f->dir, "log", "--limit", "1", NULL), 0);
	assert_non_null(strstr(f->out, "put  0x01ff"));
	assert_non_null(strstr(f->out, "put  user/2"));
	assert_null(strstr(f->out, "user/1"));
	/* log --since: the feed after a position, in position order. */
	assert_int_equal(ctl(f, "--offline", f->dir, "log", "--since", "0", NULL), 0);
	assert_non_null(strstr(f->out, "user/remote = far"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "log", "--since",
			     "6", NULL), 0);
	assert_non_null(strstr(f->out, "{\"pos\":7,"));
	assert_null(strstr(f->out, "{\"pos\":6,"));

	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "status", NULL), 0);
	assert_non_null(strstr(f->out, "\"offline\":true"));
	assert_non_null(strstr(f->out, id));
	assert_non_null(strstr(f->out, "\"schema\":3,\"local_seq\":6"));
	assert_non_null(strstr(f->out, "\"counters\":{\"keys\":5,"
			       "\"tombstones\":1,\"log_entries\":6}"));
	assert_non_null(strstr(f->out, "\"seq\":2}"));
	assert_non_null(strstr(f->out, "\"hwm_total\":2"));
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	assert_non_null(strstr(f->out, "keys:        5 live, 1 tombstones\n"));
	assert_non_null(strstr(f->out, "(this node)"));

	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 0);
	assert_non_null(strstr(f->out, "ok: every invariant holds"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "check", NULL), 0);
	assert_non_null(strstr(f->out, "{\"broken\":[],\"ok\":true"));

	after = snapshot(f->dir);
	assert_string_equal(before, after);
	assert_tmp_empty(f);
	free(after);
	/* The snapshot does see what opening the store in place does
	 * (LOCK, LOG, a new MANIFEST): the comparison above can fail. */
	store_close(open_store(f, f->dir));
	after = snapshot(f->dir);
	assert_string_not_equal(before, after);
	free(before);
	free(after);
}

/* A node that replicates only user/ keeps its set and HWMs offline: an
 * open with another set would have dropped keys or reset HWMs. */
static void test_offline_keeps_the_replicate_set(void **state)
{
	struct fixture *f = *state;
	const char *const rep[] = {"user/"};
	char *dir = tu_join(f->base, "partial");

	node_writes(dir, rep);
	read_origin(f, dir);
	remote_writes(f, dir, rep[0]);
	assert_int_equal(ctl(f, "--offline", dir, "--json", "status", NULL), 0);
	assert_non_null(strstr(f->out, "\"replicate\":[\"user/\"]"));
	assert_non_null(strstr(f->out, "\"hwm_total\":2"));
	assert_non_null(strstr(f->out, "\"seq\":2}"));
	assert_int_equal(ctl(f, "--offline", dir, "check", NULL), 0);
	free(dir);
}

/* Broken on purpose, through the raw test hooks: every invariant
 * broken is listed, one a line, and check exits 1. */
static void test_offline_check_lists_each_broken_invariant(void **state)
{
	struct fixture *f = *state;
	struct store_record *rec;
	struct store *s = open_store(f, f->dir);
	char lk[1 + STORE_ORIGIN_BYTES + 8], fk[9];
	struct err err;
	char *before;

	/* user/1's log entry goes: a meta without its log entry. */
	err_clear(&err);
	assert_int_equal(store_get_version(s, "user/1", 6, &rec, &err), 0);
	lk[0] = 'l';
	memcpy(lk + 1, rec->v.origin, STORE_ORIGIN_BYTES);
	endian_put_be64((uint8_t *)lk + 1 + STORE_ORIGIN_BYTES, rec->v.seq);
	store_record_free(rec);
	assert_int_equal(store_debug_raw_del(s, lk, sizeof lk, &err), 0);
	/* A feed entry naming a key that has no meta. */
	fk[0] = 'f';
	endian_put_be64((uint8_t *)fk + 1, 3);
	assert_int_equal(store_debug_raw_put(s, fk, sizeof fk, "ghost", 5,
					     &err), 0);
	store_close(s);

	before = snapshot(f->dir);
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 1);
	assert_non_null(strstr(f->out, "meta without its log entry (key "));
	assert_non_null(strstr(f->out, "feed entry of a key without meta"));
	assert_non_null(strstr(f->out, "log entries are not one per key\n"));
	assert_null(strstr(f->out, "ok:"));
	assert_non_null(strstr(f->err, "broken invariants"));
	assert_int_equal(ctl(f, "--offline", f->dir, "--json", "check", NULL), 1);
	assert_non_null(strstr(f->out, "\"ok\":false"));
	assert_non_null(strstr(f->out, "\"meta without its log entry"));
	{
		char *after = snapshot(f->dir);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	assert_tmp_empty(f);
}

/* A store that does not even open (an unreadable meta): that is the
 * fault check reports; other commands fail with the reason. */
static void test_offline_check_reports_a_store_that_does_not_open(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_store(f, f->dir);
	struct err err;

	err_clear(&err);
	assert_int_equal(store_debug_raw_put(s, "mbroken", 7, "x", 1, &err), 0);
	store_close(s);
	assert_int_equal(ctl(f, "--offline", f->dir, "check", NULL), 1);
	assert_non_null(strstr(f->out, "unreadable meta"));
	assert_non_null(strstr(f->out, f->dir));      /* DATA, not the copy */
	assert_null(strstr(f->out, f->tmp));
	assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
	assert_non_null(strstr(f->err, "unreadable meta"));
	assert_non_null(strstr(f->err, "check lists what is wrong"));
	assert_tmp_empty(f);
}

static void test_offline_bad_data_paths(void **state)
{
	struct fixture *f = *state;
	char *missing = tu_join(f->base, "missing");
	char *file = tu_join(f->base, "file");
	char *empty = tu_join(f->base, "empty");
	char *current = tu_join(f->dir, "db/CURRENT");

	assert_int_equal(ctl(f, "--offline", missing, "status", NULL), 3);
	assert_non_null(strstr(f->err, "No such file or directory"));
	assert_int_equal(tu_write_file(file, "x", 1, 0600), 0);
	assert_int_equal(ctl(f, "--offline", file, "status", NULL), 3);
	assert_non_null(strstr(f->err, "is not a directory"));
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(ctl(f, "--offline", empty, "check", NULL), 3);
	assert_non_null(strstr(f->err, "is not a rumor data dir"));
	assert_int_equal(ctl(f, "--offline", f->dir, "frobnicate", NULL), 2);
	assert_int_equal(ctl(f, "--offline", f->dir, "put", "k", "v", NULL), 2);
	assert_non_null(strstr(f->err, "with --offline"));
	assert_int_equal(ctl(f, "--data", f->dir, "check", NULL), 2);
	assert_non_null(strstr(f->err, "rumorctl --offline DATA check"));
	if (geteuid() != 0) {
		/* root reads anything: no refusal to see. */
		char *db = tu_join(f->dir, "db");

		assert_int_equal(chmod(db, 0), 0);
		assert_int_equal(ctl(f, "--offline", f->dir, "status", NULL), 3);
		assert_non_null(strstr(f->err, "Permission denied"));
		assert_int_equal(chmod(db, 0700), 0);
		free(db);
	}
	/* A torn LevelDB: LevelDB's reason, naming DATA. */
	assert_int_equal(tu_write_file(current, "garbage\n", 8, 0600), 0);
	assert_int_not_equal(ctl(f, "--offline", f->dir, "status", NULL), 0);
	assert_non_null(strstr(f->err, f->dir));
	assert_null(strstr(f->err, f->tmp));
	assert_tmp_empty(f);
	free(missing);
	free(file);
	free(empty);
	free(current);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_offline_commands_answer_and_change_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_keeps_the_replicate_set, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_check_lists_each_broken_invariant, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_offline_check_reports_a_store_that_does_not_open,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_bad_data_paths,
						setup, teardown),
	};

	tu_prefer_tmpfs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
