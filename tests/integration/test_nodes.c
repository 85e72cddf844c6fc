/* SPDX-License-Identifier: MIT */
/*
 * Several whole nodes (the public API) in one process on one loop, joined
 * over TCP on 127.0.0.1 by seed lists (no multicast): they connect,
 * reconcile, converge, resolve conflicts alike, and catch up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <uv.h>

#include "rumor.h"
#include "node/node_ctl.h"
/* For the member table's bound, which no option sets. */
#include "node/net_int.h"
#include "io/io_uv.h"
#include "tests/lib/testutil.h"
#include "tests/integration/nodes_fixture.h"

static void test_a_write_on_one_node_reaches_the_other(void **state)
{
	struct cluster c;

	(void)state;
	cluster_start(&c, 2);
	assert_int_equal(rumor_put(c.nodes[0], "k", 1, "v0", 2), 0);
	wait_everyone_has(&c, "k", "v0");
	assert_int_equal(rumor_put(c.nodes[1], "k", 1, "v1", 2), 0);
	wait_everyone_has(&c, "k", "v1");
	assert_int_equal(rumor_del(c.nodes[0], "k", 1), 0);
	wait_everyone_has(&c, "k", NULL);
	/* Three changes, each carried in a round of its own: the counters
	 * add up across rounds. */
	{
		struct rumor_stats s0 = RUMOR_STATS_INIT, s1 = RUMOR_STATS_INIT;

		assert_int_equal(rumor_stats(c.nodes[0], &s0), 0);
		assert_int_equal(rumor_stats(c.nodes[1], &s1), 0);
		assert_true(s1.entries_received >= 2);
		assert_true(s0.entries_sent >= 2);
		assert_true(s0.entries_received >= 1);
		assert_true(s1.remote_applied >= 2);
	}
	cluster_stop(&c);
}

static void test_five_nodes_converge_after_writes_everywhere(void **state)
{
	struct cluster c;
	char key[32], val[32];
	int i, k;

	(void)state;
	cluster_start(&c, 5);
	for (i = 0; i < 5; i++) {
		for (k = 0; k < 20; k++) {
			snprintf(key, sizeof key, "n%d-k%d", i, k);
			snprintf(val, sizeof val, "v%d", k);
			assert_int_equal(rumor_put(c.nodes[i], key, strlen(key),
						   val, strlen(val)), 0);
		}
		/* The same key everywhere: a conflict at clock 1. */
		assert_int_equal(rumor_put(c.nodes[i], "shared", 6, "x", 1), 0);
	}
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "n%d-k19", i);
		wait_everyone_has(&c, key, "v19");
	}
	/* Everyone holds the same version of the conflicted key. */
	{
		struct rumor_record *first = NULL, *r;
		for (i = 0; i < 5; i++) {
			struct want w = {&c, "n4-k0", "v0"};
			assert_true(tu_wait_for(everyone_has, step, &w, DEADLINE_MS));
		}
		/* Wait until all agree on the origin of "shared". */
		for (int tries = 0; tries < 2000; tries++) {
			int agree = 1;
			assert_int_equal(rumor_get_version(c.nodes[0], "shared", 6, &first), 0);
			for (i = 1; i < 5 && agree; i++) {
				assert_int_equal(rumor_get_version(c.nodes[i], "shared", 6, &r), 0);
				agree = memcmp(r->v.origin, first->v.origin, 32) == 0;
				rumor_record_free(r);
			}
			rumor_record_free(first);
			if (agree)
				break;
			run_once(&c);
			assert_true(tries < 1999);
		}
	}
	cluster_stop(&c);
}

static void test_a_node_that_was_away_catches_up(void **state)
{
	struct cluster c;
	const char *seed[1];
	char key[32];
	int k;

	(void)state;
	cluster_start(&c, 2);
	close_node(&c, 1);
	for (k = 0; k < 500; k++) {
		snprintf(key, sizeof key, "k%03d", k);
		assert_int_equal(rumor_put(c.nodes[0], key, strlen(key), key,
					   strlen(key)), 0);
	}
	seed[0] = c.addrs[0];
	assert_int_equal(open_node(&c, 1, seed, 1), 0);
	wait_everyone_has(&c, "k499", "k499");
	wait_everyone_has(&c, "k000", "k000");
	cluster_stop(&c);
}

static int no_tombstones_left(void *arg)
{
	struct want *w = arg;
	struct rumor_stats st = RUMOR_STATS_INIT;
	int i;

	for (i = 0; i < w->c->n; i++) {
		assert_int_equal(rumor_stats(w->c->nodes[i], &st), 0);
		if (st.tombstones != 0)
			return 0;
	}
	return 1;
}

static void test_tombstones_go_once_every_member_has_seen_them(void **state)
{
	struct cluster c;
	struct rumor_stats st = RUMOR_STATS_INIT;
	struct want w;

	(void)state;
	cluster_start(&c, 3);
	assert_int_equal(rumor_put(c.nodes[0], "gone", 4, "x", 1), 0);
	assert_int_equal(rumor_put(c.nodes[1], "kept", 4, "y", 1), 0);
	wait_everyone_has(&c, "gone", "x");
	assert_int_equal(rumor_del(c.nodes[0], "gone", 4), 0);
	wait_everyone_has(&c, "gone", NULL);
	assert_int_equal(rumor_stats(c.nodes[0], &st), 0);
	/* Until the others have reported the deletion in a digest, it is
	 * kept (it might have been collected already if they were quick). */
	w.c = &c;
	w.key = NULL;
	w.value = NULL;
	if (!tu_wait_for(no_tombstones_left, step, &w, DEADLINE_MS))
		fail_msg("tombstones were never collected");
	/* Collected everywhere, and nothing else was lost. */
	wait_everyone_has(&c, "kept", "y");
	wait_everyone_has(&c, "gone", NULL);
	cluster_stop(&c);
}

struct sync_wait {
	struct rumor *node;
	uv_loop_t *loop;
};

static int all_synced(void *arg)
{
	struct sync_wait *w = arg;
	struct ctl_status st;

	node_get_status(w->node, &st);
	return st.unsynced_changes == 0;
}

static void sync_step(void *arg)
{
	struct sync_wait *w = arg;

	uv_run(w->loop, UV_RUN_ONCE);
}

static void test_writes_are_fsynced_in_the_background_within_seconds(void **state)
{
	struct cluster c;
	struct ctl_status st;
	struct sync_wait w;
	int k;

	(void)state;
	cluster_start(&c, 1);
	for (k = 0; k < 10; k++)
		assert_int_equal(rumor_put(c.nodes[0], "k", 1, "v", 1), 0);
	node_get_status(c.nodes[0], &st);
	assert_int_equal(st.unsynced_changes, 10);
	w.node = c.nodes[0];
	w.loop = &c.loop;
	if (!tu_wait_for(all_synced, sync_step, &w, 5000))
		fail_msg("the background fsync never ran");
	cluster_stop(&c);
}

static void test_an_unknown_fsync_policy_is_refused(void **state)
{
	struct rumor_options o;
	struct rumor *n = NULL;
	char *dir = tu_tmpdir("fsync");
	char msg[RUMOR_ERRMSG_MAX] = "";

	(void)state;
	rumor_options_init(&o);
	o.data_dir = dir;
	o.fsync = 7;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), RUMOR_EINVAL);
	assert_null(n);
	assert_non_null(strstr(msg, "fsync"));
	o.fsync = RUMOR_FSYNC_ALWAYS;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	assert_int_equal(rumor_put(n, "k", 1, "v", 1), 0);
	rumor_close(n, NULL, NULL);
	tu_rmrf(dir);
	free(dir);
}

struct log_catch {
	int skew_warnings;
	int member_list_warnings;
};

static void catch_log(void *arg, int level, const char *msg)
{
	struct log_catch *l = arg;

	if (level == RUMOR_LOG_WARN && strstr(msg, "wall clock") != NULL)
		l->skew_warnings++;
	if (level == RUMOR_LOG_WARN && strstr(msg, "member list") != NULL)
		l->member_list_warnings++;
}

static uint64_t clock_a_minute_ahead(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + 60000u;
}

struct skew_wait {
	uv_loop_t *loop;
	struct log_catch *log;
};

static int warned(void *arg)
{
	return ((struct skew_wait *)arg)->log->skew_warnings > 0;
}

static void skew_step(void *arg)
{
	uv_run(((struct skew_wait *)arg)->loop, UV_RUN_ONCE);
}

static void test_a_peer_with_a_skewed_clock_is_reported(void **state)
{
	struct cluster c;
	struct rumor_options o;
	struct log_catch log = {0};
	struct skew_wait w = {NULL, &log};
	struct rumor *ahead;
	char *dir = tu_tmpdir("skew");
	char msg[RUMOR_ERRMSG_MAX];
	const char *seed[1];

	(void)state;
	cluster_start(&c, 1);
	seed[0] = c.addrs[0];
	rumor_options_init(&o);
	o.data_dir = dir;
	o.loop = &c.loop;
	o.peers = seed;
	o.n_peers = 1;
	o.catchup_wait_ms = 0;
	o.wall_clock_ms = clock_a_minute_ahead;
	o.log = catch_log;
	o.log_arg = &log;
	o.log_level = RUMOR_LOG_WARN;
	assert_int_equal(rumor_open(&ahead, &o, msg, sizeof msg), 0);
	w.loop = &c.loop;
	/* The node a minute ahead sees the other a minute behind. */
	if (!tu_wait_for(warned, skew_step, &w, DEADLINE_MS))
		fail_msg("no warning about a peer's clock a minute off");
	rumor_close(ahead, NULL, NULL);
	cluster_stop(&c);
	tu_rmrf(dir);
	free(dir);
}

struct refused_wait {
	struct cluster *c;
	int node;
	uint64_t known, connected;    /* wanted in node's status */
	uint64_t refused;             /* at least */
	const char *key;              /* and node 1 holds it (or NULL) */
};

static int status_reached(void *arg)
{
	struct refused_wait *w = arg;
	struct ctl_status st;
	void *v = NULL;
	size_t len;
	int ok;

	node_get_status(w->c->nodes[w->node], &st);
	ok = st.peers_known == w->known && st.peers_connected == w->connected &&
	     st.members_refused >= w->refused;
	if (ok && w->key != NULL) {
		ok = rumor_get(w->c->nodes[1], w->key, strlen(w->key), &v,
			       &len) == 0;
		rumor_free(v);
	}
	return ok;
}

static void refused_step(void *arg)
{
	run_once(((struct refused_wait *)arg)->c);
}

/* A member table that is full refuses the peer it cannot take, rather
 * than keeping a connection that tombstone collection would not wait
 * for; the node goes on serving the members it has. */
static void test_a_full_member_table_refuses_a_new_peer(void **state)
{
	struct cluster c;
	struct refused_wait w;
	struct ctl_status st;
	const char *seed[1];
	int i;

	(void)state;
	cluster_start(&c, 1);
	c.nodes[0]->net->members.cfg.max_members = 1;
	c.n = 3;
	for (i = 1; i < 3; i++)
		c.dirs[i] = tu_tmpdir("nodes");
	seed[0] = c.addrs[0];
	assert_int_equal(open_node(&c, 1, seed, 1), 0);
	w = (struct refused_wait){&c, 0, 1, 1, 0, NULL};
	if (!tu_wait_for(status_reached, refused_step, &w, DEADLINE_MS))
		fail_msg("node 1 did not join node 0");
	assert_int_equal(open_node(&c, 2, seed, 1), 0);
	w.refused = 1;
	if (!tu_wait_for(status_reached, refused_step, &w, DEADLINE_MS))
		fail_msg("node 0 did not refuse node 2");
	/* The member it has still gets its writes. */
	assert_int_equal(rumor_put(c.nodes[0], "after", 5, "v", 1), 0);
	w.key = "after";
	if (!tu_wait_for(status_reached, refused_step, &w, DEADLINE_MS))
		fail_msg("node 1 lost node 0 after a refusal");
	node_get_status(c.nodes[0], &st);
	assert_int_equal(st.peers_known, 1);
	node_get_status(c.nodes[2], &st);
	assert_int_equal(st.peers_connected, 0);
	cluster_stop(&c);
}

/* The store fault hook of a node opened with node_open(): while armed
 * every commit fails (RUMOR_EIO), as a full or failing disk would. */
struct fault {
	int armed;
	unsigned failed;
};

static int fail_commits(void *arg, const char *what)
{
	struct fault *f = arg;

	(void)what;
	if (!f->armed)
		return 0;
	f->failed++;
	return 1;
}

struct fault_wait {
	struct cluster *c;
	struct rumor *node;
	struct fault *fault;
	const char *key;       /* NULL: wait for a failed commit */
	int closed;
};

static int fault_reached(void *arg)
{
	struct fault_wait *w = arg;
	void *v = NULL;
	size_t len;
	int rv;

	if (w->key == NULL)
		return w->fault->failed > 0;
	rv = rumor_get(w->node, w->key, strlen(w->key), &v, &len);
	rumor_free(v);
	return rv == 0;
}

static void fault_step(void *arg)
{
	run_once(((struct fault_wait *)arg)->c);
}

static int seq_of(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)origin;
	*(uint64_t *)arg += seq;
	return 0;
}

static void on_fault_node_closed(void *arg)
{
	((struct fault_wait *)arg)->closed = 1;
}

static int fault_node_closed(void *arg)
{
	return ((struct fault_wait *)arg)->closed;
}

/* A write the store could not commit is neither acknowledged nor
 * claimed: a local one fails, a remote one is not applied and its HWM
 * is not raised; the node lives on and takes the write once the disk
 * works again. */
static void test_a_failed_store_write_is_not_acknowledged(void **state)
{
	struct cluster c;
	struct fault fault = {0};
	struct fault_wait w;
	struct rumor_options o;
	struct node_env env;
	struct rumor *b;
	struct io *io;
	struct err err;
	char *dir = tu_tmpdir("fault");
	char msg[RUMOR_ERRMSG_MAX];
	const char *seed[1];
	uint64_t hwm_sum = 0;
	void *v = NULL;
	size_t len;

	(void)state;
	cluster_start(&c, 1);
	err_clear(&err);
	assert_int_equal(io_uv_new(&io, &c.loop, &err), 0);
	seed[0] = c.addrs[0];
	rumor_options_init(&o);
	o.data_dir = dir;
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	o.peers = seed;
	o.n_peers = 1;
	o.interval_min_ms = 20;
	o.interval_max_ms = 200;
	o.catchup_wait_ms = 0;
	assert_int_equal(rumor_put(c.nodes[0], "remote", 6, "v", 1), 0);
	env = (struct node_env){.io = io, .before_commit = fail_commits, .hook_arg = &fault};
	if (node_open(&b, &o, &env, msg, sizeof msg) != 0)
		fail_msg("node_open: %s", msg);
	w = (struct fault_wait){&c, b, &fault, NULL, 0};

	fault.armed = 1;
	assert_int_equal(rumor_put(b, "local", 5, "v", 1), RUMOR_EIO);
	assert_int_equal(rumor_get(b, "local", 5, &v, &len), RUMOR_ENOTFOUND);
	/* The first commit b tries next is applying node 0's write. */
	fault.failed = 0;
	if (!tu_wait_for(fault_reached, fault_step, &w, DEADLINE_MS))
		fail_msg("node b never tried to apply the remote write");
	assert_int_equal(rumor_get(b, "remote", 6, &v, &len), RUMOR_ENOTFOUND);
	assert_int_equal(node_hwms(b, seq_of, &hwm_sum), 0);
	assert_int_equal(hwm_sum, 0);

	fault.armed = 0;
	w.key = "remote";
	if (!tu_wait_for(fault_reached, fault_step, &w, DEADLINE_MS))
		fail_msg("node b did not take the write once its disk worked");
	assert_int_equal(rumor_put(b, "local", 5, "v", 1), 0);

	/* A node on a given io closes on that io's loop. */
	rumor_close(b, on_fault_node_closed, &w);
	if (!tu_wait_for(fault_node_closed, fault_step, &w, DEADLINE_MS))
		fail_msg("node b did not close");
	cluster_stop(&c);
	io_uv_free(io);
	tu_rmrf(dir);
	free(dir);
}

/* Lines in DIR/members (0: no file). */
static int members_file_lines(const char *dir)
{
	char path[4096];
	FILE *f;
	int c, lines = 0;

	snprintf(path, sizeof path, "%s/" NET_MEMBERS_FILE, dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	return lines;
}

struct saved_wait {
	struct cluster *c;
	int node, lines;
};

static int members_saved(void *arg)
{
	struct saved_wait *w = arg;

	return members_file_lines(w->c->dirs[w->node]) == w->lines;
}

static void saved_step(void *arg)
{
	run_once(((struct saved_wait *)arg)->c);
}

static int node0_holds_the_deletion(void *arg)
{
	struct want *w = arg;
	struct rumor_stats st = RUMOR_STATS_INIT;
	void *v = NULL;
	size_t len;
	int rv = rumor_get(w->c->nodes[0], w->key, strlen(w->key), &v, &len);

	rumor_free(v);
	assert_int_equal(rumor_stats(w->c->nodes[0], &st), 0);
	return rv == RUMOR_ENOTFOUND && st.tombstones == 1;
}

/* A node restarted without seeds or multicast still knows its members
 * (they block tombstone collection until heard from) and dials them
 * again: the one still running answers, the one that is down stays
 * known. */
static void test_a_restarted_node_remembers_and_redials_its_members(
	void **state)
{
	struct cluster c;
	struct saved_wait sw = {&c, 1, 3};
	struct refused_wait w = {&c, 1, 2, 2, 0, NULL};
	struct want kw = {&c, "k", NULL};
	struct rumor_stats rs = RUMOR_STATS_INIT;
	struct ctl_status st;
	const char *seed[1];

	(void)state;
	cluster_start(&c, 3);
	if (!tu_wait_for(status_reached, refused_step, &w, DEADLINE_MS))
		fail_msg("node 1 did not connect to both others");
	/* The header and one line per member, written from the tick. */
	if (!tu_wait_for(members_saved, saved_step, &sw, DEADLINE_MS))
		fail_msg("node 1 did not save its two members");
	close_node(&c, 1);
	close_node(&c, 2);
	assert_int_equal(open_node(&c, 1, NULL, 0), 0);
	node_get_status(c.nodes[1], &st);
	assert_int_equal(st.peers_known, 2);
	assert_int_equal(st.peers_alive, 0);
	w.connected = 1;
	if (!tu_wait_for(status_reached, refused_step, &w, DEADLINE_MS))
		fail_msg("node 1 did not redial node 0 after its restart");
	node_get_status(c.nodes[1], &st);
	assert_int_equal(st.peers_alive, 1);
	/* A deletion is kept while the remembered node 2 is away, and
	 * collected everywhere once it is back and has seen it. */
	assert_int_equal(rumor_put(c.nodes[1], "k", 1, "v", 1), 0);
	assert_int_equal(rumor_del(c.nodes[1], "k", 1), 0);
	if (!tu_wait_for(node0_holds_the_deletion, step, &kw, DEADLINE_MS))
		fail_msg("the deletion did not reach node 0");
	assert_int_equal(rumor_stats(c.nodes[1], &rs), 0);
	assert_int_equal(rs.tombstones, 1);
	seed[0] = c.addrs[0];
	assert_int_equal(open_node(&c, 2, seed, 1), 0);
	if (!tu_wait_for(no_tombstones_left, step, &kw, DEADLINE_MS))
		fail_msg("the deletion was not collected once node 2 came back");
	cluster_stop(&c);
}

/* DATA/members is input: a malformed one is logged and ignored, and the
 * node starts with an empty table. */
static void test_a_malformed_member_list_is_ignored(void **state)
{
	struct rumor_options o;
	struct log_catch log = {0};
	struct ctl_status st;
	struct rumor *n;
	uv_loop_t loop;
	char *dir = tu_tmpdir("members");
	char path[4096], msg[RUMOR_ERRMSG_MAX];
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/" NET_MEMBERS_FILE, dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("rumor-members v1\nnot an id 1.2.3.4 7000 seed\n", f);
	fclose(f);
	assert_int_equal(uv_loop_init(&loop), 0);
	rumor_options_init(&o);
	o.data_dir = dir;
	o.loop = &loop;
	o.listen = "127.0.0.1:0";
	o.no_multicast = 1;
	o.catchup_wait_ms = 0;
	o.log = catch_log;
	o.log_arg = &log;
	o.log_level = RUMOR_LOG_WARN;
	assert_int_equal(rumor_open(&n, &o, msg, sizeof msg), 0);
	assert_int_equal(log.member_list_warnings, 1);
	node_get_status(n, &st);
	assert_int_equal(st.peers_known, 0);
	rumor_close(n, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_write_on_one_node_reaches_the_other),
		cmocka_unit_test(test_five_nodes_converge_after_writes_everywhere),
		cmocka_unit_test(test_a_node_that_was_away_catches_up),
		cmocka_unit_test(test_tombstones_go_once_every_member_has_seen_them),
		cmocka_unit_test(test_writes_are_fsynced_in_the_background_within_seconds),
		cmocka_unit_test(test_an_unknown_fsync_policy_is_refused),
		cmocka_unit_test(test_a_peer_with_a_skewed_clock_is_reported),
		cmocka_unit_test(test_a_full_member_table_refuses_a_new_peer),
		cmocka_unit_test(test_a_failed_store_write_is_not_acknowledged),
		cmocka_unit_test(test_a_restarted_node_remembers_and_redials_its_members),
		cmocka_unit_test(test_a_malformed_member_list_is_ignored),
	};

	return cmocka_run_group_tests_name("nodes", tests, NULL, NULL);
}
