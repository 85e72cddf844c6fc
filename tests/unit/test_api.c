/* SPDX-License-Identifier: MIT */
/* The public librumor API, as an embedding program uses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "rumor.h"
#include "tests/lib/testutil.h"

struct changes {
	int count;
	int local;
	char last_key[64];
	int last_deleted;
};

static void on_change(void *arg, const struct rumor_version *v, int local)
{
	struct changes *c = arg;

	c->count++;
	c->local += local;
	snprintf(c->last_key, sizeof c->last_key, "%.*s", (int)v->key_len,
		 (const char *)v->key);
	c->last_deleted = v->deleted;
}

struct fixture {
	char *dir;
	struct rumor *node;
	struct changes changes;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];

	f->dir = tu_tmpdir("api");
	rumor_options_init(&o);
	o.data_dir = f->dir;
	o.on_change = on_change;
	o.change_arg = &f->changes;
	if (rumor_open(&f->node, &o, msg, sizeof msg) != 0)
		fail_msg("open: %s", msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->node != NULL)
		rumor_close(f->node, NULL, NULL);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void test_put_then_get_returns_the_value(void **state)
{
	struct fixture *f = *state;
	void *v;
	size_t len;

	assert_int_equal(rumor_put(f->node, "k", 1, "hello", 5), 0);
	assert_int_equal(rumor_get(f->node, "k", 1, &v, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "hello", 5);
	rumor_free(v);
}

static void test_delete_hides_the_key_but_keeps_a_tombstone(void **state)
{
	struct fixture *f = *state;
	struct rumor_record *rec;
	void *v;
	size_t len;

	assert_int_equal(rumor_put(f->node, "k", 1, "x", 1), 0);
	assert_int_equal(rumor_del(f->node, "k", 1), 0);
	assert_int_equal(rumor_get(f->node, "k", 1, &v, &len), RUMOR_ENOTFOUND);
	assert_int_equal(rumor_get_version(f->node, "k", 1, &rec), 0);
	assert_true(rec->v.deleted);
	assert_int_equal(rec->v.clock, 2);
	assert_null(rec->v.value);
	rumor_record_free(rec);
}

static void test_version_carries_clock_origin_and_seq(void **state)
{
	struct fixture *f = *state;
	struct rumor_record *rec;
	char id[RUMOR_NODE_ID_STRLEN];

	assert_int_equal(rumor_put(f->node, "a", 1, "1", 1), 0);
	assert_int_equal(rumor_put(f->node, "a", 1, "2", 1), 0);
	assert_int_equal(rumor_get_version(f->node, "a", 1, &rec), 0);
	assert_int_equal(rec->v.clock, 2);
	assert_int_equal(rec->v.seq, 2);
	assert_int_equal(rec->v.origin_len, RUMOR_NODE_ID_BYTES);
	assert_int_equal(rec->v.value_len, 1);
	assert_memory_equal(rec->v.value, "2", 1);
	assert_true(rec->v.wall_ms > 1600000000000ull);
	rumor_record_free(rec);
	rumor_node_id(f->node, id);
	assert_int_equal(strlen(id), RUMOR_NODE_ID_STRLEN - 1);
}

static int collect(void *arg, const void *key, size_t key_len,
		   const void *value, size_t value_len)
{
	char *out = arg;

	(void)value;
	(void)value_len;
	strncat(out, key, key_len);
	strcat(out, ",");
	return 0;
}

static void test_scan_visits_live_keys_with_the_prefix_in_order(void **state)
{
	struct fixture *f = *state;
	char seen[256] = "";

	assert_int_equal(rumor_put(f->node, "b/2", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "a/1", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "b/1", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "b/3", 3, "", 0), 0);
	assert_int_equal(rumor_del(f->node, "b/3", 3), 0);
	assert_int_equal(rumor_put(f->node, "c", 1, "", 0), 0);
	assert_int_equal(rumor_scan(f->node, "b/", 2, collect, seen), 0);
	assert_string_equal(seen, "b/1,b/2,");
}

static void test_scan_after_resumes_after_a_key(void **state)
{
	struct fixture *f = *state;
	char seen[256] = "";

	assert_int_equal(rumor_put(f->node, "b/1", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "b/2", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "b/3", 3, "", 0), 0);
	assert_int_equal(rumor_put(f->node, "c", 1, "", 0), 0);
	assert_int_equal(rumor_scan_after(f->node, "b/", 2, "b/1", 3, collect,
					  seen), 0);
	assert_string_equal(seen, "b/2,b/3,");
	seen[0] = '\0';
	assert_int_equal(rumor_scan_after(f->node, "b/", 2, NULL, 0, collect,
					  seen), 0);
	assert_string_equal(seen, "b/1,b/2,b/3,");
	seen[0] = '\0';
	assert_int_equal(rumor_scan_after(f->node, "b/", 2, "b/3", 3, collect,
					  seen), 0);
	assert_string_equal(seen, "");
	assert_int_equal(rumor_scan_after(f->node, "", 0, "b", 1, NULL, NULL),
			 RUMOR_EINVAL);
}

struct written {
	char keys[64][8];
	struct rumor_op ops[64];
};

static void test_write_applies_every_op_at_once_in_order(void **state)
{
	struct fixture *f = *state;
	struct rumor_record *rec;
	struct rumor_stats st;
	struct rumor_op ops[4] = {
		{"a", 1, "1", 1, 0},
		{"b", 1, "2", 1, 0},
		{"a", 1, NULL, 0, 1},
		{"c", 1, "", 0, 0},
	};
	struct written *w = calloc(1, sizeof *w);
	void *v;
	size_t len, i;
	uint64_t seq;

	assert_non_null(w);
	assert_int_equal(rumor_write(f->node, ops, 4), 0);
	assert_int_equal(rumor_get(f->node, "a", 1, &v, &len), RUMOR_ENOTFOUND);
	assert_int_equal(rumor_get(f->node, "b", 1, &v, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(v, "2", 1);
	rumor_free(v);
	/* Consecutive seqs in op order; a key's second op is its next clock. */
	assert_int_equal(rumor_get_version(f->node, "b", 1, &rec), 0);
	seq = rec->v.seq;
	rumor_record_free(rec);
	assert_int_equal(rumor_get_version(f->node, "a", 1, &rec), 0);
	assert_int_equal(rec->v.seq, seq + 1);
	assert_int_equal(rec->v.clock, 2);
	assert_true(rec->v.deleted);
	rumor_record_free(rec);
	assert_int_equal(f->changes.count, 4);
	assert_int_equal(f->changes.local, 4);
	assert_string_equal(f->changes.last_key, "c");

	/* More ops than fit on the stack of rumor_write. */
	for (i = 0; i < 64; i++) {
		snprintf(w->keys[i], sizeof w->keys[i], "m%02zu", i);
		w->ops[i].key = w->keys[i];
		w->ops[i].key_len = 3;
		w->ops[i].value = "v";
		w->ops[i].value_len = 1;
	}
	assert_int_equal(rumor_write(f->node, w->ops, 64), 0);
	assert_int_equal(rumor_stats(f->node, &st), 0);
	assert_int_equal(st.local_writes, 68);
	assert_int_equal(st.keys, 66);
	assert_int_equal(rumor_write(f->node, ops, 0), 0);

	/* One bad op: nothing at all is written. */
	w->ops[40].key_len = 0;
	w->ops[0].value = "changed";
	w->ops[0].value_len = 7;
	assert_int_equal(rumor_write(f->node, w->ops, 64), RUMOR_EINVAL);
	assert_non_null(strstr(rumor_errmsg(f->node), "op 40"));
	assert_int_equal(rumor_get(f->node, "m00", 3, &v, &len), 0);
	assert_int_equal(len, 1);
	rumor_free(v);
	assert_int_equal(rumor_write(f->node, NULL, 1), RUMOR_EINVAL);
	assert_int_equal(rumor_write(f->node, ops, RUMOR_WRITE_MAX + 1),
			 RUMOR_ETOOBIG);
	assert_int_equal(rumor_stats(f->node, &st), 0);
	assert_int_equal(st.local_writes, 68);
	assert_int_equal(f->changes.count, 68);
	free(w);
}

static void test_change_callback_sees_every_local_change(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rumor_put(f->node, "x", 1, "1", 1), 0);
	assert_int_equal(rumor_del(f->node, "x", 1), 0);
	assert_int_equal(f->changes.count, 2);
	assert_int_equal(f->changes.local, 2);
	assert_string_equal(f->changes.last_key, "x");
	assert_true(f->changes.last_deleted);
}

static void test_stats_count_writes_and_keys(void **state)
{
	struct fixture *f = *state;
	struct rumor_stats st;

	assert_int_equal(rumor_put(f->node, "x", 1, "1", 1), 0);
	assert_int_equal(rumor_put(f->node, "y", 1, "1", 1), 0);
	assert_int_equal(rumor_del(f->node, "y", 1), 0);
	assert_int_equal(rumor_stats(f->node, &st), 0);
	assert_int_equal(st.local_writes, 3);
	assert_int_equal(st.keys, 1);
	assert_int_equal(st.tombstones, 1);
	assert_true(st.open_network);
}

static void test_invalid_arguments_are_refused_with_a_message(void **state)
{
	struct fixture *f = *state;
	static char big[RUMOR_KEY_MAX + 1];
	void *v;
	size_t len;

	assert_int_equal(rumor_put(f->node, NULL, 1, "x", 1), RUMOR_EINVAL);
	assert_int_equal(rumor_put(f->node, "k", 0, "x", 1), RUMOR_EINVAL);
	assert_int_equal(rumor_put(f->node, big, sizeof big, "x", 1), RUMOR_ETOOBIG);
	assert_true(strlen(rumor_errmsg(f->node)) > 0);
	assert_int_equal(rumor_get(f->node, "k", 1, NULL, &len), RUMOR_EINVAL);
	assert_int_equal(rumor_get(f->node, "nope", 4, &v, &len), RUMOR_ENOTFOUND);
	assert_int_equal(rumor_scan(f->node, "", 0, NULL, NULL), RUMOR_EINVAL);
}

static void test_data_survives_close_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct rumor_options o;
	char msg[RUMOR_ERRMSG_MAX];
	char id1[RUMOR_NODE_ID_STRLEN], id2[RUMOR_NODE_ID_STRLEN];
	void *v;
	size_t len;

	assert_int_equal(rumor_put(f->node, "k", 1, "v", 1), 0);
	rumor_node_id(f->node, id1);
	rumor_close(f->node, NULL, NULL);
	f->node = NULL;
	rumor_options_init(&o);
	o.data_dir = f->dir;
	assert_int_equal(rumor_open(&f->node, &o, msg, sizeof msg), 0);
	rumor_node_id(f->node, id2);
	assert_string_equal(id1, id2);
	assert_int_equal(rumor_get(f->node, "k", 1, &v, &len), 0);
	rumor_free(v);
}

static void test_a_data_dir_in_use_is_refused(void **state)
{
	struct fixture *f = *state;
	struct rumor_options o;
	struct rumor *second = NULL;
	char msg[RUMOR_ERRMSG_MAX] = "";

	rumor_options_init(&o);
	o.data_dir = f->dir;
	assert_int_equal(rumor_open(&second, &o, msg, sizeof msg), RUMOR_EBUSY);
	assert_null(second);
	assert_non_null(strstr(msg, f->dir));
}

static void test_two_nodes_live_in_one_process(void **state)
{
	struct fixture *f = *state;
	struct rumor_options o;
	struct rumor *other;
	char *dir = tu_tmpdir("api2");
	char msg[RUMOR_ERRMSG_MAX];
	char id1[RUMOR_NODE_ID_STRLEN], id2[RUMOR_NODE_ID_STRLEN];
	void *v;
	size_t len;

	rumor_options_init(&o);
	o.data_dir = dir;
	assert_int_equal(rumor_open(&other, &o, msg, sizeof msg), 0);
	assert_int_equal(rumor_put(f->node, "k", 1, "one", 3), 0);
	assert_int_equal(rumor_put(other, "k", 1, "two", 3), 0);
	assert_int_equal(rumor_get(f->node, "k", 1, &v, &len), 0);
	assert_memory_equal(v, "one", 3);
	rumor_free(v);
	assert_int_equal(rumor_get(other, "k", 1, &v, &len), 0);
	assert_memory_equal(v, "two", 3);
	rumor_free(v);
	rumor_node_id(f->node, id1);
	rumor_node_id(other, id2);
	assert_string_not_equal(id1, id2);
	rumor_close(other, NULL, NULL);
	tu_rmrf(dir);
	free(dir);
}

static void test_a_replica_refuses_local_writes(void **state)
{
	struct rumor_op op = {"k", 1, "v", 1, 0};
	struct rumor_options o;
	void *v;
	size_t len;
	struct rumor *n;
	char *dir = tu_tmpdir("replica");
	char msg[RUMOR_ERRMSG_MAX];

	(void)state;
	rumor_options_init(&o);
	o.data_dir = dir;
	o.mode = RUMOR_MODE_REPLICA;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	assert_int_equal(rumor_put(n, "k", 1, "v", 1), RUMOR_EREFUSED);
	assert_int_equal(rumor_del(n, "k", 1), RUMOR_EREFUSED);
	assert_non_null(strstr(rumor_errmsg(n), "replica"));
	assert_int_equal(rumor_write(n, &op, 1), RUMOR_EREFUSED);
	assert_non_null(strstr(rumor_errmsg(n), "replica"));
	assert_int_equal(rumor_get(n, "k", 1, &v, &len), RUMOR_ENOTFOUND);
	rumor_close(n, NULL, NULL);
	tu_rmrf(dir);
	free(dir);
}

static void test_open_without_a_data_dir_fails(void **state)
{
	struct rumor_options o;
	struct rumor *n = NULL;
	char msg[RUMOR_ERRMSG_MAX] = "";

	(void)state;
	rumor_options_init(&o);
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), RUMOR_EINVAL);
	assert_null(n);
	assert_true(strlen(msg) > 0);
}

static void test_strerror_names_every_code(void **state)
{
	(void)state;
	assert_string_equal(rumor_strerror(0), "success");
	assert_string_equal(rumor_strerror(RUMOR_ENOTFOUND), "not found");
	assert_string_equal(rumor_strerror(RUMOR_ECONFIG), "bad configuration");
	assert_string_equal(rumor_strerror(-9999), "unknown error");
}

/* Opens a node whose control socket cannot be made (a plain file holds
 * its path) after its listener started: the open fails with the
 * reason, leaves the file alone, and once the loop (external or the
 * node's own) has run, leaves nothing open: the store opens again. */
static void open_fails_half_way(uv_loop_t *loop)
{
	struct rumor_options o;
	struct rumor *n = NULL;
	char msg[RUMOR_ERRMSG_MAX];
	char *dir = tu_tmpdir("halfway");
	char *sock = tu_join(dir, "control.sock");

	assert_int_equal(tu_write_file(sock, "x", 1, 0600), 0);
	rumor_options_init(&o);
	o.data_dir = dir;
	o.loop = loop;
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	o.control_socket = 1;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), RUMOR_ECONFIG);
	assert_null(n);
	assert_non_null(strstr(msg, "not a socket"));
	if (loop != NULL) {
		uv_run(loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(loop), 0);
	}
	assert_int_equal(access(sock, F_OK), 0);
	o.loop = NULL;
	o.control_socket = 0;
	if (rumor_open(&n, &o, msg, sizeof msg) != 0)
		fail_msg("reopen: %s", msg);
	rumor_close(n, NULL, NULL);
	tu_rmrf(dir);
	free(sock);
	free(dir);
}

static void test_a_failed_open_leaves_nothing_open(void **state)
{
	uv_loop_t loop;

	(void)state;
	open_fails_half_way(NULL);
	assert_int_equal(uv_loop_init(&loop), 0);
	open_fails_half_way(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_put_then_get_returns_the_value),
		T(test_delete_hides_the_key_but_keeps_a_tombstone),
		T(test_version_carries_clock_origin_and_seq),
		T(test_scan_visits_live_keys_with_the_prefix_in_order),
		T(test_scan_after_resumes_after_a_key),
		T(test_write_applies_every_op_at_once_in_order),
		T(test_change_callback_sees_every_local_change),
		T(test_stats_count_writes_and_keys),
		T(test_invalid_arguments_are_refused_with_a_message),
		T(test_data_survives_close_and_reopen),
		T(test_a_data_dir_in_use_is_refused),
		T(test_two_nodes_live_in_one_process),
#undef T
		cmocka_unit_test(test_a_replica_refuses_local_writes),
		cmocka_unit_test(test_open_without_a_data_dir_fails),
		cmocka_unit_test(test_strerror_names_every_code),
		cmocka_unit_test(test_a_failed_open_leaves_nothing_open),
	};

	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
