/* SPDX-License-Identifier: MIT */
/*
 * test_control: a node's control socket driven through the built
 * tools/rumorctl (fork/exec with a deadline) while the test pumps the
 * node's loop: every command, --json output, exit codes. The socket
 * itself (raw clients): test_control_socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "node/node.h"
#include "tests/integration/test_control_fixture.h"

/* ------------------------------------------------------------ tests */

static void test_put_get_del_version_through_rumorctl(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	assert_int_equal(RUN(&p, f, "put", "colour", "blue"), 0);
	assert_string_equal(p.out, "");
	assert_int_equal(RUN(&p, f, "get", "colour"), 0);
	assert_string_equal(p.out, "blue\n");
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "clock:     1\n"));
	assert_non_null(strstr(p.out, "deleted:   no\n"));
	assert_non_null(strstr(p.out, "seq:       1\n"));
	assert_int_equal(RUN(&p, f, "put", "colour", "green"), 0);
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "clock:     2\n"));
	assert_int_equal(RUN(&p, f, "del", "colour"), 0);
	assert_int_equal(RUN(&p, f, "get", "colour"), 1);
	assert_non_null(strstr(p.err, "not found"));
	assert_int_equal(RUN(&p, f, "version", "colour"), 0);
	assert_non_null(strstr(p.out, "deleted:   yes\n"));
	assert_int_equal(RUN(&p, f, "version", "never-written"), 1);
}

static void test_json_output_is_stable_and_hex_marks_binary(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char id[RUMOR_NODE_ID_STRLEN], want[256];

	put(f, "a1", "one");
	put(f, "a2", "two \"quoted\"");
	put(f, "b", "other");
	assert_int_equal(RUN(&p, f, "--json", "scan", "a"), 0);
	assert_string_equal(p.out,
			    "[\n{\"key\":\"a1\",\"value\":\"one\"},\n"
			    "{\"key\":\"a2\",\"value\":\"two \\\"quoted\\\"\"}\n]\n");
	assert_int_equal(RUN(&p, f, "scan", "--json", "--limit", "1"), 0);
	assert_string_equal(p.out, "[\n{\"key\":\"a1\",\"value\":\"one\"}\n]\n");
	assert_int_equal(RUN(&p, f, "scan", "zzz", "--json"), 0);
	assert_string_equal(p.out, "[]\n");

	assert_int_equal(RUN(&p, f, "--hex", "put", "00ff", "0a0b"), 0);
	assert_int_equal(RUN(&p, f, "get", "--hex", "--json", "00ff"), 0);
	assert_string_equal(p.out, "{\"key\":{\"hex\":\"00ff\"},"
			    "\"value\":{\"hex\":\"0a0b\"}}\n");
	assert_int_equal(RUN(&p, f, "get", "--hex", "00FF"), 0);
	assert_string_equal(p.out, "0a0b\n");
	assert_int_equal(RUN(&p, f, "--json", "get", "a1"), 0);
	assert_string_equal(p.out, "{\"key\":\"a1\",\"value\":\"one\"}\n");
	assert_int_equal(RUN(&p, f, "--json", "put", "k", "v"), 0);
	assert_string_equal(p.out, "{\"ok\":true}\n");

	rumor_node_id(f->node, id);
	assert_int_equal(RUN(&p, f, "--json", "version", "a1"), 0);
	assert_json(p.out);
	snprintf(want, sizeof(want), "{\"key\":\"a1\",\"value\":\"one\","
		 "\"value_len\":3,\"deleted\":false,\"clock\":1,"
		 "\"origin\":\"%s\",\"seq\":1,\"wall_ms\":", id);
	assert_true(strncmp(p.out, want, strlen(want)) == 0);
	/* Text scan: keys aligned, binary shown as 0x... */
	assert_int_equal(RUN(&p, f, "scan"), 0);
	assert_non_null(strstr(p.out, "0x00ff  0x0a0b\n"));
	assert_non_null(strstr(p.out, "a1      one\n"));
}

static void test_status_and_peers_report_the_node_in_json(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char id[RUMOR_NODE_ID_STRLEN], want[128];

	put(f, "x", "1");
	put(f, "y", "2");
	rumor_node_id(f->node, id);
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_json(p.out);
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"mode\":\"peer\"", id);
	assert_true(strncmp(p.out, want, strlen(want)) == 0);
	assert_non_null(strstr(p.out, "\"local_writes\":2"));
	assert_non_null(strstr(p.out, "\"local_seq\":2"));
	assert_non_null(strstr(p.out, "\"catching_up\":false"));
	assert_non_null(strstr(p.out, "\"velocity\":"));
	assert_non_null(strstr(p.out, "\"interval_ms\":"));
	assert_non_null(strstr(p.out, "\"conflicts_default\":0"));
	assert_non_null(strstr(p.out, "\"symmetry_violations\":0"));
	assert_non_null(strstr(p.out, "\"bytes_in\":"));
	assert_non_null(strstr(p.out, "\"announcements_dropped\":"));
	snprintf(want, sizeof(want), "\"hwm\":[{\"origin\":\"%s\",\"seq\":2}]",
		 id);
	assert_non_null(strstr(p.out, want));

	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "id:          "));
	assert_non_null(strstr(p.out, id));
	assert_non_null(strstr(p.out, "(this node)"));

	assert_int_equal(RUN(&p, f, "peers", "--json"), 0);
	assert_json(p.out);
	assert_string_equal(p.out, "[]\n");
	assert_int_equal(RUN(&p, f, "peers"), 0);
	assert_non_null(strstr(p.out, "ID"));
	assert_non_null(strstr(p.out, "LAST CONTACT"));
}

static void test_log_lists_each_origin_newest_first(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	const char *a, *b, *c;

	put(f, "first", "1");
	put(f, "second", "22");
	assert_int_equal(rumor_del(f->node, "first", 5), 0);
	put(f, "third", "333");
	assert_int_equal(RUN(&p, f, "log", "--json"), 0);
	assert_json(p.out);
	/* One live entry per key: first's put was replaced by its del. */
	c = strstr(p.out, "\"key\":\"third\"");
	a = strstr(p.out, "\"key\":\"first\"");
	b = strstr(p.out, "\"key\":\"second\"");
	assert_true(c != NULL && a != NULL && b != NULL);
	assert_true(c < a && a < b);
	assert_non_null(strstr(p.out, "\"value\":null,\"value_len\":3,"
			       "\"deleted\":false"));
	/* Every entry names its origin: this node. */
	{
		char id[RUMOR_NODE_ID_STRLEN], want[96];
		const char *at = p.out;
		int n = 0;

		rumor_node_id(f->node, id);
		snprintf(want, sizeof(want), "\"origin\":\"%s\"", id);
		while ((at = strstr(at, want)) != NULL) {
			n++;
			at++;
		}
		assert_int_equal(n, 3);
	}
	assert_int_equal(RUN(&p, f, "log", "--limit", "1", "--json"), 0);
	assert_null(strstr(p.out, "\"key\":\"second\""));
	assert_non_null(strstr(p.out, "\"key\":\"third\""));
	assert_int_equal(RUN(&p, f, "log"), 0);
	assert_non_null(strstr(p.out, "origin "));
	assert_non_null(strstr(p.out, "del  first"));
}

static int has_watching(void *arg)
{
	return strstr(((struct proc *)arg)->err, "# watching") != NULL;
}

static int has_change(void *arg)
{
	return strstr(((struct proc *)arg)->out, "w1 = hello") != NULL;
}

static void test_watch_prints_changes_until_interrupted(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	proc_start(&p, f, 1, (const char *const[]){"watch", "w", NULL});
	assert_true(tu_wait_for(has_watching, proc_step, &p, DEADLINE_MS));
	put(f, "other", "not shown");
	put(f, "w1", "hello");
	assert_true(tu_wait_for(has_change, proc_step, &p, DEADLINE_MS));
	assert_null(strstr(p.out, "other"));
	assert_non_null(strstr(p.out, "local"));
	assert_non_null(strstr(p.out, "clock 1"));
	kill(p.pid, SIGINT);
	proc_finish(&p);
	assert_int_equal(p.status, 0);
}

static int has_w3(void *arg)
{
	return strstr(((struct proc *)arg)->out, "\"key\":\"w3\"") != NULL;
}

static int has_w5(void *arg)
{
	return strstr(((struct proc *)arg)->out, "w5 = 5") != NULL;
}

static int cover_all(void *arg, const uint8_t *origin, uint64_t seq)
{
	(void)arg;
	(void)origin;
	(void)seq;
	return 1;
}

/* A consumer that saves the last position it saw and starts rumorctl
 * again with --since it sees every later change once: JSON lines begin
 * with "pos", text lines with the position; a position below the floor
 * exits 1 naming it. */
static void test_watch_since_resumes_across_rumorctl_restarts(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	const char *at;
	unsigned long long last = 0;
	char since[24];

	put(f, "w1", "1");
	put(f, "x", "not shown");
	put(f, "w2", "2");
	put(f, "w3", "3");
	proc_start(&p, f, 1, (const char *const[]){"watch", "w", "--since",
		   "0", "--json", NULL});
	assert_true(tu_wait_for(has_w3, proc_step, &p, DEADLINE_MS));
	kill(p.pid, SIGINT);
	proc_finish(&p);
	assert_int_equal(p.status, 0);
	assert_null(strstr(p.out, "\"x\""));
	if (strncmp(p.out, "{\"pos\":1,\"key\":\"w1\",",
		    strlen("{\"pos\":1,\"key\":\"w1\",")) != 0)
		fail_msg("watch --json printed: %.80s", p.out);
	for (at = p.out; (at = strstr(at, "{\"pos\":")) != NULL; at++)
		last = strtoull(at + 7, NULL, 10);
	assert_int_equal(last, 4);

	put(f, "w4", "4");
	put(f, "w5", "5");
	snprintf(since, sizeof since, "%llu", last);
	proc_start(&p, f, 1, (const char *const[]){"watch", "w", "--since",
		   since, NULL});
	assert_true(tu_wait_for(has_w5, proc_step, &p, DEADLINE_MS));
	kill(p.pid, SIGINT);
	proc_finish(&p);
	assert_int_equal(p.status, 0);
	assert_null(strstr(p.out, "w3"));
	assert_true(strncmp(p.out, "5  ", 3) == 0);
	assert_non_null(strstr(p.out, "\n6  "));
	assert_non_null(strstr(p.out, "w4 = 4"));

	/* A deletion collected at position 7: the floor. */
	assert_int_equal(rumor_del(f->node, "w9", 2), 0);
	assert_int_equal(store_collect_tombstones(f->node->store, cover_all,
						  NULL, 0, NULL, NULL), 0);
	assert_int_equal(RUN(&p, f, "watch", "--since", "3"), 1);
	assert_non_null(strstr(p.err, "floor is 7"));
	assert_int_equal(RUN(&p, f, "watch", "--since", "x"), 2);
}

static void test_exit_codes_follow_the_contract(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char *keyfile = tu_join(f->dir, "net.key");
	char id[RUMOR_NODE_ID_STRLEN], want[64];
	struct stat st;

	assert_int_equal(RUN(&p, f, "get", "missing"), 1);
	assert_int_equal(RUN(&p, f, "del", "missing"), 0);
	/* Usage. */
	assert_int_equal(RUN(&p, f, "get"), 2);
	assert_int_equal(RUN(&p, f, "put", "k"), 2);
	assert_int_equal(RUN(&p, f, "frobnicate"), 2);
	assert_int_equal(RUN(&p, f, "get", "--limit", "3", "k"), 2);
	assert_int_equal(RUN(&p, f, "--hex", "get", "zz"), 2);
	assert_int_equal(RUN(&p, f, "get", ""), 2);
	assert_int_equal(RUN(&p, f, "log", "--limit", "0"), 2);
	assert_int_equal(RUN(&p, f, "--bogus", "status"), 2);
	assert_int_equal(run_ctl(&p, f, 0, (const char *const[]){NULL}), 2);
	assert_int_equal(RUN(&p, f, "get", "--help"), 0);
	assert_non_null(strstr(p.out, "usage: rumorctl"));
	assert_int_equal(RUN_NOSOCK(&p, f, "--help"), 0);
	/* Cannot reach. */
	assert_int_equal(RUN_NOSOCK(&p, f, "--socket", "/nonexistent/sock",
				    "status"), 3);
	assert_non_null(strstr(p.err, "cannot reach"));
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->dir, "status"), 3);
	/* keygen works without a node, and never creates a node key. */
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen", "--network-key",
				    keyfile), 0);
	assert_int_equal(stat(keyfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen", "--network-key",
				    keyfile), 1);
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->dir, "keygen",
				    "--id"), 1);
	assert_int_equal(access(f->dir, F_OK), 0);
	free(keyfile);
	keyfile = tu_join(f->dir, "node.key");
	assert_int_equal(access(keyfile, F_OK), -1);
	assert_int_equal(RUN_NOSOCK(&p, f, "keygen"), 2);
	rumor_node_id(f->node, id);
	assert_int_equal(RUN_NOSOCK(&p, f, "--data", f->data, "keygen",
				    "--id"), 0);
	snprintf(want, sizeof(want), "%s\n", id);
	assert_string_equal(p.out, want);
	free(keyfile);
}

static void test_sync_answers_even_without_peers(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	int rv = RUN(&p, f, "sync", "--json", "--timeout", "500");

	/* A storage-only node has no one to reconcile with: either a report
	 * of nothing, or a refusal; never a hang or a crash. */
	assert_true(rv == 0 || rv == 1);
	if (rv == 0) {
		assert_json(p.out);
		assert_non_null(strstr(p.out, "\"peers_tried\":"));
	}
	assert_int_equal(RUN(&p, f, "get", "--json", "nothing"), 1);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_put_get_del_version_through_rumorctl),
		T(test_json_output_is_stable_and_hex_marks_binary),
		T(test_status_and_peers_report_the_node_in_json),
		T(test_log_lists_each_origin_newest_first),
		T(test_watch_prints_changes_until_interrupted),
		T(test_watch_since_resumes_across_rumorctl_restarts),
		T(test_exit_codes_follow_the_contract),
		T(test_sync_answers_even_without_peers),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
